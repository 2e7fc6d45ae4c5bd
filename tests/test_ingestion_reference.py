"""The Product Ingestion API corpus (tests/reference/ingestion), served verbatim to the Client.

Each exchange's answer is sent byte for byte by a raw-socket server; what the client makes of it
is checked against the file's ``expect``, and the request it sent against the file's ``request``.
The core's parsers read the same files in ``cargo test`` (``src/reference_tests.rs``).

Tolerated differences between the file's request and the client's, each for a stated reason:

- ``$version``: the client is made with the file's version (``Client(version=...)``), so it must
  match exactly; a file whose source sends none gets the client's default.
- placeholder ids: the pages' ``12345678-abcd-efgh-...`` and the mock's ``123456789`` are not
  GUIDs, which the client refuses before sending; the call names a GUID instead, and the file's
  path and body are compared with the same substitution.
- the query's order, and its names' case (azure-img-utils sends ``externalid``); a product lookup
  names ``externalId`` even where the source lists every product and filters itself; a quoted
  ``targetType="preview"`` (the page's typo) is compared unquoted.
- schema hosts: the client names ``schema.mp.microsoft.com`` where 2022 sources name
  ``product-ingestion.azureedge.net`` (refused since 2024: configure-400-schema-not-accessible);
  the rest of each ``$schema`` must match.
- a go-live carries what the client needs (``$schema``, ``id``, ``product``, ``target``);
  cloudpub also echoes the entry's ``lifecycleState``, which the client does not send.
- ``resources: ["..."]`` (a source that does not show them) is sent as one listing resource.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import cloudpartner
import pytest
from cloudpartner import ingestion
from conftest import TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

FOLDER = Path(__file__).with_name("reference") / "ingestion"
EXCHANGES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(FOLDER.glob("*.json"))}
PREFIX = "/rp/product-ingestion"
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PLACEHOLDERS = re.compile(r"12345678-abcd-efgh-1234-\d{11}|(?<=/)123456789(?=$|/|\?)")
STAND_IN = "12345678-abcd-eeee-1234-123456789012"
FILLER = [{"$schema": "https://schema.mp.microsoft.com/schema/listing/2022-07-01", "product": "product/x"}]
CALLS = {
    "cancel_job",
    "get_job",
    "get_job_resources",
    "configure",
    "publish_preview",
    "publish_live",
    "find_product",
    "get_product",
    "list_submissions",
    "get_resource_tree",
}


def stand_in(text: str) -> str:
    return PLACEHOLDERS.sub(STAND_IN, text)


def verbatim(exchange: dict[str, Any]) -> Any:
    answer = exchange["response"]
    raw = http_response(answer["status"], answer["headers"], answer["body"].encode())

    def run(conn: Connection, _request: RawRequest) -> None:
        conn.send(raw)

    return run


def json_answer(body: Any) -> Any:
    raw = http_response(200, {"Content-Type": "application/json"}, json.dumps(body).encode())
    return lambda conn, _request: conn.send(raw)


def split(target: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(target)
    return parts.path, {k.lower(): v.strip('"') for k, v in parse_qsl(parts.query)}


def segment(exchange: dict[str, Any], index: int) -> str:
    return stand_in(split(exchange["request"]["path"])[0]).split("/")[index]


def documented_version(exchange: dict[str, Any]) -> str | None:
    return split(exchange["request"]["path"])[1].get("$version")


def external_id(exchange: dict[str, Any]) -> str:
    expect, query = exchange["expect"], split(exchange["request"]["path"])[1]
    return query.get("externalid") or next((e for e in expect.get("external_ids", []) if e), None) or "contoso-offer"


def script(exchange: dict[str, Any]) -> list[Any]:
    """The raw server's answers: the exchange's own, and what the client asks around it."""
    own = verbatim(exchange)
    if exchange["call"] == "publish_live":  # the client first reads the submissions for the id
        resource = exchange["request"]["body"]["resources"][0]
        preview = {
            "id": stand_in(resource["id"]),
            "product": stand_in(resource["product"]),
            "target": {"targetType": "preview"},
        }
        return [json_answer({"value": [preview]}), own]
    if exchange["expect"].get("next_link"):
        return [own, json_answer({"value": []})]
    if exchange["call"] == "cancel_job" and "error" in exchange["expect"]:  # the job, read once more
        return [own, json_answer({"jobId": segment(exchange, 2), "jobStatus": "completed", "jobResult": "succeeded"})]
    return [own]


def call(client: ingestion.Client, exchange: dict[str, Any]) -> Any:
    name = exchange["call"]
    if name in ("cancel_job", "get_job", "get_job_resources"):
        return getattr(client, name)(segment(exchange, 2))
    if name == "configure":
        resources = exchange["request"]["body"]["resources"]
        return client.configure(FILLER if resources == ["..."] else resources)
    if name in ("publish_preview", "publish_live"):
        product = stand_in(exchange["request"]["body"]["resources"][0]["product"])
        return client.publish(product, name.removeprefix("publish_"))
    if name == "find_product":
        return client.find_product(external_id(exchange))
    if name == "get_product":
        return client.get_product(segment(exchange, 2))
    if name == "list_submissions":
        return client.list_submissions(segment(exchange, 2))
    target = split(exchange["request"]["path"])[1]["targettype"]
    return client.get_resource_tree(segment(exchange, 3), target)


def test_the_corpus_has_its_32_exchanges_each_for_a_call_the_client_has() -> None:
    assert len(EXCHANGES) == 32
    for name, exchange in EXCHANGES.items():
        assert exchange["source"] and exchange["call"] in CALLS and "expect" in exchange, name
        body = exchange["response"]["body"]
        if body.strip():
            json.loads(body)  # repaired samples parse


@pytest.mark.parametrize("name", sorted(EXCHANGES))
def test_the_client_reads_each_documented_answer_as_documented(name: str) -> None:
    exchange, expect = EXCHANGES[name], EXCHANGES[name]["expect"]
    writes = exchange["call"] in ("configure", "publish_preview", "publish_live")
    settings: dict[str, Any] = {"timeout": 5.0, "backoff": 0.01, "max_retries": 3 if writes else 0}
    if documented_version(exchange):
        settings["version"] = documented_version(exchange)
    with (
        RawServer(*script(exchange)) as srv,
        ingestion.Client(TOKEN, base_url=srv.base_url + PREFIX, **settings) as client,
    ):
        if "error" in expect:
            with pytest.raises(cloudpartner.ApiError) as caught:
                call(client, exchange)
            outcome: Any = caught.value
        else:
            outcome = call(client, exchange)
        requests = srv.requests
    check_request(exchange, requests, client.version)
    if "error" in expect:
        check_error(outcome, expect, exchange)
    elif exchange["call"] in ("cancel_job", "get_job", "configure", "publish_preview", "publish_live"):
        check_job(outcome, expect)
    else:
        check_read(exchange["call"], outcome, expect, requests)


# -- the request ---------------------------------------------------------------------------------


def host_free(schema: str) -> str:
    return schema.strip().split("/schema/", 1)[-1]


def check_request(exchange: dict[str, Any], requests: list[RawRequest], version: str) -> None:
    documented = exchange["request"]
    if exchange["call"] == "publish_live":
        lookup, *requests = requests
        assert (lookup.method, split(lookup.target)[0]) == (
            "GET",
            f"{PREFIX}/submission/{segment_of_product(exchange)}",
        )
    if exchange["expect"].get("next_link"):
        requests, following = requests[:1], requests[1:]
        assert [r.target for r in following] == [f"{PREFIX}/{exchange['expect']['next_link']}"]
    if exchange["call"] == "cancel_job" and "error" in exchange["expect"]:
        requests, reread = requests[:1], requests[1:]
        assert [(r.method, r.target) for r in reread] == [
            ("GET", split(requests[0].target)[0][: -len("cancel")] + "status?" + f"$version={version}")
        ]
    (sent,) = requests  # transient failures are not retried here (max_retries=0), writes never
    path, query = split(sent.target)
    want_path, want_query = split(stand_in(documented["path"]))
    assert sent.method == documented["method"]
    assert path == PREFIX + want_path
    assert f"$version={version}" in sent.target  # a literal $, the file's version when it names one
    query.pop("$version")
    want_query.pop("$version", None)
    if exchange["call"] == "find_product":
        assert query.pop("externalid") == external_id(exchange)
        want_query.pop("externalid", None)
    assert query == want_query
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    if "body" in documented:
        check_body(exchange, json.loads(sent.body), version)


def segment_of_product(exchange: dict[str, Any]) -> str:
    return stand_in(exchange["request"]["body"]["resources"][0]["product"]).removeprefix("product/")


def check_body(exchange: dict[str, Any], body: dict[str, Any], version: str) -> None:
    documented = json.loads(stand_in(json.dumps(exchange["request"]["body"])))
    assert set(body) == {"$schema", "resources"}
    assert body["$schema"] == f"https://schema.mp.microsoft.com/schema/configure/{version}"
    assert host_free(body["$schema"]) == host_free(documented["$schema"]) or documented_version(exchange) is None
    if documented["resources"] == ["..."]:
        assert body["resources"] == FILLER
        return
    if exchange["call"] == "configure":
        assert body["resources"] == documented["resources"]
        return
    (sent,), (want,) = body["resources"], documented["resources"]
    assert host_free(sent.pop("$schema")) == host_free(want.pop("$schema"))
    want.pop("lifecycleState", None)
    assert sent == want


# -- what the client made of the answer ----------------------------------------------------------


def moment(text: str | None) -> datetime | None:
    """A corpus time as the client gives it: timezone-aware, to the microsecond (7 digits cut)."""
    if text is None:
        return None
    found = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", text)
    assert found, text
    at = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return at + timedelta(microseconds=int((found.group(2) or "0")[:6].ljust(6, "0")))


def error_tree(errors: tuple[ingestion.JobError, ...]) -> list[dict[str, Any]]:
    return [
        {"code": e.code, "message": e.message, "resource_id": e.resource_id, "details": error_tree(e.details)}
        for e in errors
    ]


def check_job(job: ingestion.Job, expect: dict[str, Any]) -> None:
    assert isinstance(job, ingestion.Job)
    assert (job.id, job.status, job.result) == (expect["id"], expect["status"], expect["result"])
    assert job.raw[expect["id_key"]] == expect["id"]
    if expect["started"] is None:
        assert job.started == expect["started_raw"]  # kept as text: it does not parse
    else:
        assert job.started == moment(expect["started"])
    assert job.ended == moment(expect["ended"])  # None for both 0001-01-01 sentinels
    assert error_tree(job.errors) == expect["errors"]
    assert job.resource_uri == expect["resource_uri"]
    if "terminal" in expect:
        assert job.is_terminal is expect["terminal"]
        assert job.is_terminal is (expect["status"] == "completed")
    if job.errors:
        assert job.failed and not job.succeeded


def check_error(error: cloudpartner.ApiError, expect: dict[str, Any], exchange: dict[str, Any]) -> None:
    # The class the corpus names, or this client's subclass of it (JobAlreadyCompletedError).
    assert expect["error"] in [kind.__name__ for kind in type(error).__mro__]
    assert (error.status_code, error.code) == (expect["status_code"], expect["code"])
    body = exchange["response"]["body"]
    if expect["message"] is None and body.strip():
        # Tolerated: a JSON body that is no error envelope ({"status": "Bad Gateway"}) has no
        # message to the corpus, while the core (src/error_body.rs) gives its compact text.
        assert error.message in (None, json.dumps(json.loads(body), separators=(",", ":")))
    else:
        assert error.message == expect["message"]
    assert error.body == exchange["response"]["body"]  # details and resourceId stay readable there
    assert error.is_transient is (expect["status_code"] >= 500)
    assert "\n" not in str(error) and TOKEN not in str(error)
    if exchange["call"] == "cancel_job":  # a 400 for a completed job: the job is read once more
        assert isinstance(error, cloudpartner.JobAlreadyCompletedError)
        assert error.job_id == segment(exchange, 2)
        assert error.job is not None and error.job.succeeded


def check_read(name: str, outcome: Any, expect: dict[str, Any], requests: list[RawRequest]) -> None:
    if name in ("find_product", "get_product"):
        assert isinstance(outcome, ingestion.Product)
        want_id = expect["id"] if name == "get_product" else expect["ids"][0]
        want_external = expect["external_id"] if name == "get_product" else expect["external_ids"][0]
        assert (outcome.id, outcome.external_id) == (want_id, want_external)
        if "type" in expect:
            assert outcome.type == expect["type"]
        if "product_guid" in expect:
            assert outcome.guid == expect["product_guid"]
        assert len(requests) == (2 if expect.get("next_link") else 1)
    elif name == "list_submissions":
        assert all(isinstance(s, ingestion.Submission) for s in outcome)
        assert [s.target for s in outcome] == expect["targets"]
        assert [s.status for s in outcome] == expect["statuses"]
        assert [s.result for s in outcome] == expect["results"]
        preview = next((s.id for s in outcome if s.target == "preview"), None)
        assert (preview or None) == expect["preview_submission_id"]
        assert [s.id or None for s in outcome if s.target == "live"] == expect["live_submission_ids"]
        assert any(s.status not in (None, "completed") for s in outcome) is expect["in_progress"]
    elif name == "get_resource_tree":
        assert (outcome["root"], outcome["target"]["targetType"]) == (expect["root"], expect["target"])
        assert [r["id"] for r in outcome["resources"]] == expect["resource_ids"]
        types = [host_free(r["$schema"]).split("/")[0] for r in outcome["resources"]]
        assert types == expect["resource_types"]
    else:  # get_job_resources
        assert outcome["$schema"] == expect["schema"]
        assert [r["id"] for r in outcome["resources"]] == expect["resource_ids"]
        assert [r["$schema"] for r in outcome["resources"]] == expect["resource_schemas"]
