"""FakePortal's Product Ingestion API, spoken to with urllib.request only (no client library).

Time-based tests use jobs of fractions of a second and poll with a deadline.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from cloudpartner.testing import FakePortal

P, O = "contoso", "contoso-virtualmachineoffer"
V = "$version=2022-07-01"
CONFIGURE_SCHEMA = "https://schema.mp.microsoft.com/schema/configure/2022-07-01"
SUBMISSION_SCHEMA = "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2"
LISTING_SCHEMA = "https://schema.mp.microsoft.com/schema/listing/2022-07-01"
GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NEVER = "0001-01-01T00:00:00"


class Answer:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status, self.headers, self.raw = status, headers, raw
        self.json: Any = json.loads(raw) if raw else None


def call(portal: FakePortal, method: str, path: str, body: Any = None, *, token: str | None = "token") -> Answer:
    """One request to ``portal.ingestion_url + path`` (or to an absolute URL)."""
    url = path if path.startswith("http") else portal.ingestion_url + path
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return Answer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as failed:
        return Answer(failed.code, {k.lower(): v for k, v in failed.headers.items()}, failed.read())


def configure(portal: FakePortal, *resources: dict[str, Any], token: str = "token") -> Answer:
    return call(
        portal, "POST", f"/configure?{V}", {"$schema": CONFIGURE_SCHEMA, "resources": list(resources)}, token=token
    )


def to_preview(product_id: str) -> dict[str, Any]:
    return {"$schema": SUBMISSION_SCHEMA, "product": product_id, "target": {"targetType": "preview"}}


def to_live(product_id: str, submission_id: str | None) -> dict[str, Any]:
    resource = {"$schema": SUBMISSION_SCHEMA, "product": product_id, "target": {"targetType": "live"}}
    if submission_id is not None:
        resource["id"] = submission_id
    return resource


def wait(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail("timed out")


def status(portal: FakePortal, job_id: str) -> dict[str, Any]:
    answer = call(portal, "GET", f"/configure/{job_id}/status?{V}")
    assert answer.status == 200
    return answer.json  # type: ignore[no-any-return]


def finished(portal: FakePortal, job_id: str) -> dict[str, Any]:
    return wait(lambda: (job := status(portal, job_id))["jobStatus"] == "completed" and job)  # type: ignore[no-any-return]


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.5, publish_seconds=1.0) as started:
        started.add_offer(P, O, plans=["plan-a", "plan-b"])
        yield started


def product_id(portal: FakePortal, external_id: str = O) -> str:
    return str(portal.product(external_id)["id"])


# -- products, plans, trees -----------------------------------------------------------------------


def test_the_ingestion_url_is_a_path_prefix_on_the_same_server(portal: FakePortal) -> None:
    assert portal.ingestion_url == portal.base_url + "/rp/product-ingestion"


def test_an_offer_added_with_add_offer_is_a_product_found_by_external_id(portal: FakePortal) -> None:
    answer = call(portal, "GET", f"/product?externalId={O}&{V}")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    (product,) = answer.json["value"]
    assert product == {
        "$schema": "https://schema.mp.microsoft.com/schema/product/2022-07-01",
        "id": product["id"],
        "identity": {"externalId": O},
        "type": "azureVirtualMachine",
        "alias": O,
    }
    assert re.fullmatch(f"product/{GUID}", product["id"])
    guid = product["id"].split("/")[1]
    assert call(portal, "GET", f"/product/{guid}?{V}").json == product
    assert portal.product(O)["id"] == product["id"]
    portal.add_offer(P, O)  # again: the same product, the same guid
    assert product_id(portal) == product["id"]
    for spelling in ("externalID", "externalid"):  # the pages and a client spell it so
        assert call(portal, "GET", f"/product?{spelling}={O}").json["value"] == [
            {**product, "$schema": product["$schema"].replace("2022-07-01", "2023-07-15")}
        ]


def test_an_unknown_external_id_is_an_empty_list_and_an_unknown_guid_a_404(portal: FakePortal) -> None:
    assert call(portal, "GET", f"/product?externalId=nope&{V}").json == {"value": []}
    missing = call(portal, "GET", f"/product/00000000-0000-0000-0000-000000000000?{V}")
    assert missing.status == 404
    assert missing.json["error"]["code"] == "notFound"
    assert missing.json["error"]["details"] == []
    assert call(portal, "GET", f"/nowhere?{V}").status == 404


def test_plans_and_the_draft_resource_tree(portal: FakePortal) -> None:
    pid = product_id(portal)
    plans = call(portal, "GET", f"/plan?product={pid}&{V}").json["value"]
    assert [plan["identity"]["externalId"] for plan in plans] == ["plan-a", "plan-b"]
    assert all(re.fullmatch(f"plan/{pid.split('/')[1]}/{GUID}", plan["id"]) for plan in plans)
    one = call(portal, "GET", f"/plan?product={pid}&externalId=plan-b&{V}").json["value"]
    assert [plan["id"] for plan in one] == [plans[1]["id"]]
    tree = call(portal, "GET", f"/resource-tree/{pid}?targetType=draft&{V}")
    assert tree.status == 200
    assert tree.json["$schema"] == "https://schema.mp.microsoft.com/schema/resource-tree/2022-07-01"
    assert tree.json["root"] == pid
    assert tree.json["target"] == {"targetType": "draft"}
    ids = [resource["id"] for resource in tree.json["resources"]]
    configs = [f"virtual-machine-plan-technical-configuration/{plan['id'].split('/', 1)[1]}" for plan in plans]
    assert ids == [pid, plans[0]["id"], configs[0], plans[1]["id"], configs[1], f"submission/{pid.split('/')[1]}/0"]
    nothing = call(portal, "GET", f"/resource-tree/{pid}?targetType=preview&{V}")
    assert nothing.status == 404


def test_add_product_makes_a_product_with_no_cpp_side() -> None:
    with FakePortal() as portal:
        durable = portal.add_product("contoso-saas", product_type="softwareAsAService", alias="Contoso SaaS")
        assert portal.add_product("contoso-saas") == durable
        (found,) = call(portal, "GET", "/product?externalId=contoso-saas").json["value"]
        assert (found["id"], found["type"], found["alias"]) == (durable, "softwareAsAService", "Contoso SaaS")
        cpp = urllib.request.Request(
            portal.base_url + "/api/publishers/contoso/offers/contoso-saas?api-version=2017-10-31",
            headers={"Authorization": "Bearer token"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(cpp, timeout=5)
        assert caught.value.code == 404


# -- configure jobs -------------------------------------------------------------------------------


def test_an_edit_job_advances_and_then_lists_what_it_changed(portal: FakePortal) -> None:
    pid = product_id(portal)
    answer = configure(portal, {"$schema": LISTING_SCHEMA, "product": pid, "title": "Contoso VM"})
    assert answer.status == 202
    job = answer.json
    assert set(job) == {"$schema", "jobId", "jobStatus", "jobResult", "jobStart", "jobEnd", "errors"}
    assert job["$schema"] == "https://schema.mp.microsoft.com/schema/configure-status/2022-07-01"
    assert (job["jobStatus"], job["jobResult"], job["jobEnd"], job["errors"]) == ("notStarted", "pending", NEVER, [])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", job["jobStart"])
    early = call(portal, "GET", f"/configure/{job['jobId']}?{V}")
    assert early.status == 400 and early.json["error"]["code"] == "badRequest"
    seen = {status(portal, job["jobId"])["jobStatus"]}
    done = finished(portal, job["jobId"])
    assert (done["jobResult"], done["errors"]) == ("succeeded", [])
    assert done["jobEnd"] != NEVER and done["jobEnd"] >= done["jobStart"]
    assert done["resourceUri"] == f"{portal.ingestion_url}/configure/{job['jobId']}"
    detail = call(portal, "GET", f"/configure/{job['jobId']}?{V}")
    assert detail.status == 200
    assert detail.json["$schema"] == "https://schema.mp.microsoft.com/schema/configure-detail/2022-07-01"
    (listing,) = detail.json["resources"]
    assert listing["id"] == f"listing/{pid.split('/')[1]}" and listing["title"] == "Contoso VM"
    assert listing["$schema"] == LISTING_SCHEMA
    tree = call(portal, "GET", f"/resource-tree/{pid}?{V}").json["resources"]
    assert listing["id"] in [resource["id"] for resource in tree]
    assert portal.job(job["jobId"]) == {**done, "$schema": done["$schema"].replace("2022-07-01", "2023-07-15")}
    assert [j["jobId"] for j in portal.jobs()] == [job["jobId"]]
    assert seen <= {"notStarted", "running", "completed"}


def test_a_job_goes_not_started_running_completed() -> None:
    with FakePortal(job_seconds=0.4) as portal:
        pid = portal.add_product("p")
        posted = configure(portal, {"$schema": LISTING_SCHEMA, "product": pid}).json
        job_id, states = posted["jobId"], [posted["jobStatus"]]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (not states or states[-1] != "completed"):
            state = status(portal, job_id)["jobStatus"]
            if not states or states[-1] != state:
                states.append(state)
            time.sleep(0.01)
    assert states == ["notStarted", "running", "completed"]


def test_publish_to_preview_then_live(portal: FakePortal) -> None:
    pid = product_id(portal)
    guid = pid.split("/")[1]
    job = configure(portal, to_preview(pid)).json
    entries = call(portal, "GET", f"/submission/{guid}?{V}").json["value"]
    assert [e["target"]["targetType"] for e in entries] == ["draft", "preview"]
    draft, preview = entries
    assert draft == {
        "$schema": "https://schema.mp.microsoft.com/schema/submission/2022-07-01",
        "id": f"submission/{guid}/0",
        "product": pid,
        "target": {"targetType": "draft"},
        "lifecycleState": "generallyAvailable",
    }
    assert preview["status"] != "completed" and preview["result"] == "pending"  # a publish in progress
    assert re.fullmatch(rf"submission/{guid}/\d+", preview["id"]) and preview["created"]
    assert finished(portal, job["jobId"])["jobResult"] == "succeeded"
    preview = call(portal, "GET", f"/submission/{guid}?targetType=preview&{V}").json["value"][0]
    assert (preview["status"], preview["result"]) == ("completed", "succeeded")
    assert call(portal, "GET", f"/resource-tree/{pid}?targetType=preview&{V}").status == 200
    live_job = configure(portal, to_live(pid, preview["id"])).json
    assert finished(portal, live_job["jobId"])["jobResult"] == "succeeded"
    entries = portal.submissions(O)
    assert [e["target"]["targetType"] for e in entries] == ["draft", "live", "preview"]
    assert entries[1]["id"] == entries[2]["id"] == preview["id"]  # the same submission, now both
    tree = call(portal, "GET", f'/resource-tree/{pid}?targetType="live"&{V}').json
    assert tree["target"] == {"targetType": "live"}
    assert tree["resources"][-1]["id"] == preview["id"]


@pytest.mark.parametrize("submission_id", [None, "wrong"])
def test_live_without_the_preview_submission_id_fails_inside_the_job(portal: FakePortal, submission_id: Any) -> None:
    pid = product_id(portal)
    guid = pid.split("/")[1]
    if submission_id == "wrong":
        submission_id = f"submission/{guid}/7"
    answer = configure(portal, to_live(pid, submission_id))
    assert answer.status == 202  # the failure is inside the job, not an HTTP error
    done = finished(portal, answer.json["jobId"])
    assert done["jobResult"] == "failed"
    (problem,) = done["errors"]
    assert {"code", "message", "details"} <= set(problem)
    if submission_id is not None:
        assert problem["code"] == "conflict"
        assert problem["message"] == "The submission cannot be pushed to live as its not the latest submission."
        assert problem["resourceId"] == submission_id
    assert [e["target"]["targetType"] for e in portal.submissions(O)] == ["draft"]
    assert call(portal, "GET", f"/configure/{answer.json['jobId']}?{V}").json["resources"] == []


def test_a_configure_while_a_publish_runs_fails_with_a_conflict_inside(portal: FakePortal) -> None:
    pid = product_id(portal)
    first = configure(portal, to_preview(pid)).json
    second = configure(portal, to_preview(pid)).json
    edit = configure(portal, {"$schema": LISTING_SCHEMA, "product": pid, "title": "x"}).json
    (problem,) = second["errors"]
    assert problem["code"] == "internalServerError"
    assert re.fullmatch(r"An In Progress submission \d+ already exists\.", problem["message"])
    assert edit["errors"][0]["code"] == "conflict"
    assert edit["errors"][0]["details"][0]["code"] == "productLocked"
    assert finished(portal, second["jobId"])["jobResult"] == "failed"
    assert finished(portal, first["jobId"])["jobResult"] == "succeeded"
    assert [e["target"]["targetType"] for e in portal.submissions(O)] == ["draft", "preview"]


def test_an_unknown_product_fails_inside_the_job(portal: FakePortal) -> None:
    answer = configure(portal, {"$schema": LISTING_SCHEMA, "product": "product/00000000-0000-0000-0000-000000000000"})
    assert answer.status == 202 and answer.json["errors"][0]["code"] == "notFound"


@pytest.mark.parametrize(
    "body",
    [
        {"resources": [{"$schema": LISTING_SCHEMA}]},
        {"$schema": CONFIGURE_SCHEMA},
        {"$schema": CONFIGURE_SCHEMA, "resources": [{"title": "no schema"}]},
        ["not", "an", "object"],
    ],
)
def test_schema_validation_answers_400_with_inner_codes(portal: FakePortal, body: Any) -> None:
    answer = call(portal, "POST", f"/configure?{V}", body)
    assert answer.status == 400
    error = answer.json["error"]
    assert error["code"] == "badRequest"
    assert error["message"] == "Invalid configuration: schema validation failed"
    assert error["details"] and all(d["code"] == "schemaValidationError" for d in error["details"])
    assert portal.jobs() == []


# -- cancel ---------------------------------------------------------------------------------------


def test_cancel_a_running_publish_leaves_its_submission_unpublished(portal: FakePortal) -> None:
    pid = product_id(portal)
    job = configure(portal, to_preview(pid)).json
    answer = call(portal, "POST", f"/configure/{job['jobId']}/cancel?{V}")
    assert answer.status == 200
    cancelled = answer.json
    assert (cancelled["jobStatus"], cancelled["jobResult"]) == ("completed", "cancelled")
    assert cancelled["jobEnd"] != NEVER and "resourceUri" not in cancelled
    assert status(portal, job["jobId"]) == cancelled
    time.sleep(1.1)  # past the publish's own end: it stays cancelled, nothing is published
    assert status(portal, job["jobId"])["jobResult"] == "cancelled"
    assert [e["target"]["targetType"] for e in portal.submissions(O)] == ["draft"]
    assert portal.resource_tree(O, "preview") == []
    assert call(portal, "GET", f"/configure/{job['jobId']}?{V}").json["resources"] == []
    again = configure(portal, to_preview(pid)).json  # the product is no longer locked
    assert again["errors"] == []


def test_cancel_keeps_what_was_processed_before_it() -> None:
    with FakePortal(job_seconds=3.0) as portal:
        pid = portal.add_product("p")
        resources = [{"$schema": LISTING_SCHEMA.replace("listing", kind), "product": pid} for kind in ("a", "b", "c")]
        job_id = configure(portal, *resources).json["jobId"]
        time.sleep(1.6)  # the running part is 0.75..3 s: "a" is done at 1.5 s, "b" at 2.25 s
        call(portal, "POST", f"/configure/{job_id}/cancel")
        kinds = [r["$schema"].split("/")[-2] for r in call(portal, "GET", f"/configure/{job_id}").json["resources"]]
    assert kinds == ["a"]


def test_cancel_of_a_completed_job_is_400_and_of_an_unknown_one_404(portal: FakePortal) -> None:
    job = configure(portal, {"$schema": LISTING_SCHEMA, "product": product_id(portal)}).json
    finished(portal, job["jobId"])
    refused = call(portal, "POST", f"/configure/{job['jobId']}/cancel?{V}")
    assert refused.status == 400
    assert refused.json == {
        "error": {"code": "badRequest", "message": "Cannot cancel job, job has already completed.", "details": []}
    }
    for method, path in [("POST", "/cancel"), ("GET", "/status"), ("GET", "")]:
        unknown = call(portal, method, f"/configure/00000000-0000-0000-0000-000000000000{path}?{V}")
        assert unknown.status == 404
        assert unknown.json["error"]["code"] == "notFound" and unknown.json["error"]["details"] == []
    with pytest.raises(KeyError):
        portal.job("00000000-0000-0000-0000-000000000000")


# -- paging, versions, tokens, failures -----------------------------------------------------------


def test_lists_page_with_absolute_next_links_on_the_portal() -> None:
    with FakePortal(page_size=2) as portal:
        for index in range(5):
            portal.add_product(f"product-{index}")
        pages, url = [], f"/product?{V}"
        while url:
            answer = call(portal, "GET", url)
            assert answer.status == 200
            pages.append([p["identity"]["externalId"] for p in answer.json["value"]])
            url = answer.json.get("@nextLink")
            assert url is None or url.startswith(portal.ingestion_url + "/product?")
            assert url is None or "$version=2022-07-01" in url
        assert pages == [["product-0", "product-1"], ["product-2", "product-3"], ["product-4"]]
        smaller = call(portal, "GET", f"/product?$maxpagesize=1&{V}").json
        assert len(smaller["value"]) == 1 and "@nextLink" in smaller


def test_submissions_page_over_three_pages() -> None:
    with FakePortal(page_size=1, publish_seconds=0.05, job_seconds=0.05) as small:
        pid = small.add_product("p")
        guid = pid.split("/")[1]
        finished(small, configure(small, to_preview(pid)).json["jobId"])
        preview = small.submissions("p")[-1]["id"]
        finished(small, configure(small, to_live(pid, preview)).json["jobId"])
        targets, url = [], f"/submission/{guid}?{V}"
        while url:
            answer = call(small, "GET", url).json
            targets += [e["target"]["targetType"] for e in answer["value"]]
            url = answer.get("@nextLink")
        assert targets == ["draft", "live", "preview"]
        assert len(small.requests) >= 3


@pytest.mark.parametrize("version", ["2022-03-01-preview2", "2022-03-01-preview4", "2022-03-01-preview5", "2023-07-15"])
def test_the_versions_in_use_are_accepted_and_named_in_schemas(portal: FakePortal, version: str) -> None:
    answer = call(portal, "GET", f"/product?externalId={O}&$version={version}")
    assert answer.status == 200
    assert answer.json["value"][0]["$schema"].endswith(f"/product/{version}")


def test_no_version_is_the_latest(portal: FakePortal) -> None:
    assert call(portal, "GET", f"/product?externalId={O}").json["value"][0]["$schema"].endswith("/2023-07-15")


def test_a_deprecated_version_is_refused_with_the_services_body(portal: FakePortal) -> None:
    answer = call(portal, "GET", "/product?$version=2022-03-01-preview3")
    assert answer.status == 400
    assert answer.json == {"error": {"code": "badRequest", "message": '"2022-03-01-preview3 is a deprecated schema"'}}
    unknown = call(portal, "GET", "/product?$version=2019-01-01")
    assert unknown.status == 400
    assert unknown.json["error"]["code"] == "badRequest" and "2019-01-01" in unknown.json["error"]["message"]


def test_tokens_are_refused_as_microsoft_graph_refuses_them() -> None:
    with FakePortal(tokens=["cpp-token"], ingestion_tokens=["graph-token"]) as portal:
        portal.add_offer(P, O)
        assert call(portal, "GET", f"/product?{V}", token="graph-token").status == 200
        for token, message in [
            (None, "Access token is empty."),
            ("cpp-token", "Access token validation failure. Invalid audience."),
            ("other", "Access token validation failure."),
        ]:
            answer = call(portal, "GET", f"/product?{V}", token=token)
            assert answer.status == 401
            assert answer.json["error"]["code"] == "InvalidAuthenticationToken"
            assert answer.json["error"]["message"] == message
            assert answer.headers["www-authenticate"].startswith("Bearer")


def test_the_cpp_tokens_serve_both_apis_by_default_and_a_mapping_hides_products() -> None:
    with FakePortal(tokens={"contoso-token": ["contoso"], "fabrikam-token": ["fabrikam"]}) as portal:
        portal.add_offer(P, O)
        seen = call(portal, "GET", f"/product?externalId={O}", token="contoso-token").json["value"]
        hidden = call(portal, "GET", f"/product?externalId={O}", token="fabrikam-token").json["value"]
        assert (len(seen), hidden) == (1, [])
        guid = seen[0]["id"].split("/")[1]
        assert call(portal, "GET", f"/submission/{guid}", token="fabrikam-token").status == 404
        assert call(portal, "GET", "/product", token="unknown").status == 401


def test_fail_next_answers_429_with_retry_after_on_a_status_poll(portal: FakePortal) -> None:
    job = configure(portal, {"$schema": LISTING_SCHEMA, "product": product_id(portal)}).json
    portal.fail_next(1, 429, retry_after=2, service="ingestion", route="job-status")
    assert call(portal, "GET", f"/product?{V}").status == 200  # another route passes
    cpp = urllib.request.Request(
        portal.base_url + f"/api/publishers/{P}/offers/{O}/submissions?api-version=2017-10-31",
        headers={"Authorization": "Bearer token"},
    )
    with urllib.request.urlopen(cpp, timeout=5) as answer:  # so does the other API
        assert answer.status == 200
    throttled = call(portal, "GET", f"/configure/{job['jobId']}/status?{V}")
    assert throttled.status == 429
    assert throttled.headers["retry-after"] == "2"
    assert throttled.json["error"]["code"] == "tooManyRequests" and throttled.json["error"]["details"] == []
    assert call(portal, "GET", f"/configure/{job['jobId']}/status?{V}").status == 200
    portal.fail_next(1, 503)  # untargeted: the next request, whichever API
    assert call(portal, "GET", f"/product?{V}").status == 503
    with pytest.raises(ValueError, match="service"):
        portal.fail_next(1, service="nope")
    with pytest.raises(ValueError, match="route"):
        portal.fail_next(1, service="cpp", route="job-status")


def test_wrong_method_is_405_and_double_slashes_are_one(portal: FakePortal) -> None:
    answer = call(portal, "GET", f"/configure?{V}")
    assert answer.status == 405 and answer.headers["allow"] == "POST"
    assert call(portal, "GET", f"//product?externalId={O}").status == 200  # a public client sends "//"


# -- replay ---------------------------------------------------------------------------------------


def test_an_ingestion_session_replays_with_urls_on_the_replaying_server(tmp_path: Path) -> None:
    """A recording in the Client's format, with the real service's origin, replays on this portal."""
    recording = tmp_path / "ingestion.jsonl"
    real = "https://graph.microsoft.com"
    with FakePortal(page_size=1, job_seconds=0) as portal:
        portal.add_product("a")
        portal.add_product("b")
        lines = []
        job = configure(portal, {"$schema": LISTING_SCHEMA, "product": portal.product("a")["id"]}).json
        for method, path in [("GET", f"/product?{V}"), ("GET", f"/configure/{job['jobId']}/status?{V}")]:
            answer = call(portal, method, path)
            lines.append((method, path, answer))
            if "@nextLink" in answer.json:
                after = answer.json["@nextLink"].removeprefix(portal.ingestion_url)
                lines.append(("GET", after, call(portal, "GET", after)))
        here = portal.base_url
    with recording.open("w") as out:
        for method, path, answer in lines:
            exchange = {
                "method": method,
                "base": real,
                "path": "/rp/product-ingestion" + path,
                "request_headers": {"accept": "application/json"},
                "request_body": None,
                "status": answer.status,
                "response_headers": {"content-type": "application/json"},
                "response_body": answer.raw.decode().replace(here, real),
            }
            out.write(json.dumps(exchange) + "\n")
    assert real + "/rp/product-ingestion/product?" in recording.read_text()
    with FakePortal.from_recording(recording) as replay:
        first = call(replay, "GET", f"/product?{V}").json
        assert first["@nextLink"].startswith(replay.ingestion_url + "/product?")
        second = call(replay, "GET", first["@nextLink"]).json
        assert [p["identity"]["externalId"] for p in first["value"] + second["value"]] == ["a", "b"]
        done = call(replay, "GET", f"/configure/{job['jobId']}/status?{V}").json
        assert done["resourceUri"] == f"{replay.ingestion_url}/configure/{job['jobId']}"
        assert call(replay, "GET", "/product/x").status == 404
