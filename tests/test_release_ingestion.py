"""Releasing a VM image version on the Product Ingestion API: plans, technical configurations, adding and
deprecating versions, and the whole release (resumable, cancellable, with typed job failures).

Against FakePortal where it plays the step, and against scripted servers (tests/rawserver.py) that
answer as the facts file says: resources in an order the service does not promise, a 5xx while a
job is polled, and the failures a job holds inside a success answer.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

SIG = "SeCrEtSiGnAtUrE%2Bx%3D"
SAS = f"https://contoso.blob.core.windows.net/vhds/image.vhd?sv=2021-08-06&sr=b&sp=r&sig={SIG}"
RESIGNED = "https://contoso.blob.core.windows.net/vhds/image.vhd?sp=rl&se=2030-01-01&sig=AnotherOne&sv=2022-11-02"
GALLERY = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"
OFFER, PLAN = "contoso-offer", "gen2"
FAST = {"poll_interval": 0.02, "timeout": 30}


@pytest.fixture(autouse=True)
def _no_ingestion_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_BASE_URL", raising=False)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.05, publish_seconds=0.2) as fake:
        fake.add_product(OFFER, plans=[PLAN, "gen1"])
        yield fake


def client_for(base_url: str, **settings: Any) -> ingestion.Client:
    settings.setdefault("timeout", 5.0)
    settings.setdefault("backoff", 0.01)
    return ingestion.Client(TOKEN, base_url=base_url, **settings)


def call(client: ingestion.Client, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """The blocking call, or its ``*_async`` twin run to its end."""
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)
    return asyncio.run(asyncio.wait_for(getattr(client, name + "_async")(*args, **kwargs), 60))


def outcomes(release: cloudpartner.Release) -> dict[str, str]:
    return {step.name: step.outcome for step in release.steps}


def posts(portal: FakePortal) -> list[Any]:
    return [r for r in portal.requests if r.method != "GET"]


MODES = pytest.mark.parametrize("mode", ["sync", "async"])

# ----------------------------------------------------------------------------------- FakePortal


@MODES
def test_a_fresh_release_goes_live_in_three_jobs_and_the_live_plan_holds_the_image(
    portal: FakePortal, mode: str
) -> None:
    seen: list[cloudpartner.Release] = []
    with client_for(portal.ingestion_url) as client:
        release = call(
            client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS, on_progress=seen.append, **FAST
        )
        live = client.get_technical_configuration(OFFER, PLAN, target="live")
    assert outcomes(release) == {"wait-idle": "already-done", "add": "done", "preview": "done", "live": "done"}
    assert len(release.job_ids) == 3 and release.changed and release.current is None
    assert [v.number for v in live.image_versions] == ["1.0.0"]
    (image,) = live.image_versions[0].images
    assert (image.image_type, image.source_type) == ("x64Gen2", "sasUri")
    assert SIG not in repr(live) and image.uri is not None and image.uri.endswith("sig=***")
    # Each job's id was told while it ran, before it ended.
    running = [r.current.job_id for r in seen if r.current is not None]
    assert set(release.job_ids) <= set(running)


@MODES
def test_the_same_release_again_is_reads_only_even_with_a_new_signature(portal: FakePortal, mode: str) -> None:
    with client_for(portal.ingestion_url) as client:
        client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS, **FAST)
        portal.clear_requests()
        again = call(client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=RESIGNED, **FAST)
    assert outcomes(again) == {"add": "already-done", "preview": "already-done", "live": "already-done"}
    assert not again.changed and again.job_ids == ()
    sent = portal.requests
    assert all(r.method == "GET" for r in sent), [(r.method, r.path) for r in sent]
    assert len(sent) <= 4  # the product lookup, the draft and the live tree (and no poll at all)


STOPS = [("add", "done"), ("preview", "running"), ("preview", "done"), ("live", "running")]


@pytest.mark.parametrize(("stop_at", "outcome"), STOPS, ids=[f"{s}-{o}" for s, o in STOPS])
def test_a_release_interrupted_at_each_step_resumes_and_does_no_step_twice(
    portal: FakePortal, stop_at: str, outcome: str
) -> None:
    class Interrupted(Exception):
        pass

    def interrupt(release: cloudpartner.Release) -> None:
        step = release.step(stop_at)
        if step is not None and step.outcome == outcome:
            raise Interrupted

    with client_for(portal.ingestion_url) as client:
        with pytest.raises(Interrupted):
            client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS, on_progress=interrupt, **FAST)
        resumed = client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=RESIGNED, **FAST)
    order = ["add", "preview", "live"]
    started = order[: order.index(stop_at) + 1]  # each of these was sent before the interruption
    assert all(outcomes(resumed)[name] == "already-done" for name in started), resumed
    assert all(outcomes(resumed)[name] == "done" for name in order if name not in started), resumed
    if outcome == "running":  # what was still running is waited for, not sent again
        assert outcomes(resumed)["wait-idle"] == "done"
    assert len(posts(portal)) == 3  # one configure per step, in all


@MODES
def test_a_release_to_preview_then_to_live_sends_only_the_go_live(portal: FakePortal, mode: str) -> None:
    with client_for(portal.ingestion_url) as client:
        first = call(client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS, target="preview", **FAST)
        assert "live" not in outcomes(first) and outcomes(first)["preview"] == "done"
        portal.clear_requests()
        second = call(client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS, **FAST)
    assert outcomes(second) == {
        "wait-idle": "already-done",
        "add": "already-done",
        "preview": "already-done",
        "live": "done",
    }
    (go_live,) = posts(portal)
    assert go_live.body["resources"][0]["target"] == {"targetType": "live"}


def test_a_release_cancelled_while_it_publishes_raises_with_the_cancelled_job() -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=3.0) as portal:
        portal.add_product(OFFER, plans=[PLAN])
        with client_for(portal.ingestion_url) as client, client_for(portal.ingestion_url) as other:
            cancelled: list[str] = []

            def cancel_the_publish(release: cloudpartner.Release) -> None:
                step = release.current
                if step is not None and step.name == "preview" and step.job_id and not cancelled:
                    cancelled.append(step.job_id)
                    # A blocking call cannot be made from the callback: another thread cancels.
                    threading.Thread(target=other.cancel_job, args=(step.job_id,)).start()

            with pytest.raises(cloudpartner.JobFailedError) as caught:
                client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS, on_progress=cancel_the_publish, **FAST)
    error = caught.value
    assert type(error) is cloudpartner.JobFailedError and not error.is_transient
    assert error.job is not None and error.job.id == cancelled[0] and error.job.cancelled
    assert "cancelled" in str(error)


def test_an_async_release_is_cancelled_from_its_callback() -> None:
    async def scenario(portal: FakePortal) -> BaseException:
        async with client_for(portal.ingestion_url) as client:
            cancelled: list[str] = []

            async def cancel_the_publish(release: cloudpartner.Release) -> None:
                step = release.current
                if step is not None and step.name == "preview" and step.job_id and not cancelled:
                    cancelled.append(step.job_id)
                    await client.cancel_job_async(step.job_id)

            with pytest.raises(cloudpartner.JobFailedError) as caught:
                await client.release_image_version_async(
                    OFFER, PLAN, "1.0.0", sas_uri=SAS, on_progress=cancel_the_publish, **FAST
                )
            return caught.value

    with FakePortal(job_seconds=0.05, publish_seconds=3.0) as portal:
        portal.add_product(OFFER, plans=[PLAN])
        error = asyncio.run(asyncio.wait_for(scenario(portal), 30))
    assert isinstance(error, cloudpartner.JobFailedError) and error.job is not None and error.job.cancelled


REFUSALS = [
    ({"version": "1.0"}, "version", '"1.0"'),
    ({"version": "v1.0.0"}, "version", '"v1.0.0"'),
    ({"sas_uri": SAS.replace("https:", "http:")}, "sas_uri", "http://contoso"),
    ({"sas_uri": SAS.split("&sig=", maxsplit=1)[0]}, "sas_uri", "no signature"),
    (
        {"sas_uri": None, "gallery_image": "/subscriptions/0000/images/i"},
        "gallery_image",
        "/subscriptions/0000/images/i",
    ),
    ({"image_types": ("x64Gen3",)}, "image_types", '"x64Gen3"'),
    ({"image_types": 5}, "image_types", "not int"),
    ({"image_types": ["x64Gen2", None]}, "image_types", "not a NoneType"),
    ({"image_types": iter(lambda: "x64Gen2", None)}, "image_types", "more than 3 given"),
    ({"gallery_image": GALLERY}, "sas_uri", "not both"),
    ({"sas_uri": None}, "sas_uri", "give a SAS URI or a gallery image"),
]


@MODES
@pytest.mark.parametrize(("change", "field", "named"), REFUSALS, ids=[f"{r[1]}-{i}" for i, r in enumerate(REFUSALS)])
@pytest.mark.parametrize("name", ["release_image_version", "add_image_version"])
def test_bad_input_is_refused_naming_the_value_before_anything_is_sent(
    portal: FakePortal, mode: str, change: dict[str, Any], field: str, named: str, name: str
) -> None:
    arguments: dict[str, Any] = {"version": "1.0.0", "sas_uri": SAS, **change}
    version = arguments.pop("version")
    with client_for(portal.ingestion_url) as client, pytest.raises(cloudpartner.InvalidArgumentError) as caught:
        call(client, mode, name, OFFER, PLAN, version, **arguments)
    assert caught.value.field == field
    assert named in str(caught.value)
    assert SIG not in str(caught.value) and SIG not in repr(caught.value)
    assert portal.requests == []


@MODES
def test_an_unknown_plan_is_not_found_listing_the_plans_and_nothing_is_posted(portal: FakePortal, mode: str) -> None:
    with client_for(portal.ingestion_url) as client, pytest.raises(cloudpartner.NotFoundError) as caught:
        call(client, mode, "release_image_version", OFFER, "gen3", "1.0.0", sas_uri=SAS, **FAST)
    text = str(caught.value)
    assert '"gen3"' in text and "gen2 (plan/" in text and "gen1 (plan/" in text
    assert posts(portal) == []


@MODES
def test_plans_and_configurations_are_found_by_external_or_durable_id(portal: FakePortal, mode: str) -> None:
    with client_for(portal.ingestion_url) as client:
        products = call(client, mode, "list_products")
        plans = call(client, mode, "list_plans", OFFER)
        by_durable = {p.external_id: p for p in plans}[PLAN]
        config = call(client, mode, "get_technical_configuration", OFFER, by_durable.id)
        same = call(client, mode, "get_technical_configuration", products[0], PLAN)
    assert [p.external_id for p in products] == [OFFER]
    assert {p.external_id for p in plans} == {PLAN, "gen1"}
    assert config == same and config.plan == by_durable.id and config.image_versions == ()
    assert {s["skuId"] for s in config.skus} == {"gen2", "gen2-gen1"}


def test_list_products_follows_every_page() -> None:
    with FakePortal(page_size=2) as portal:
        for n in range(5):
            portal.add_product(f"offer-{n}")
        with client_for(portal.ingestion_url) as client:
            products = client.list_products()
    assert sorted(p.external_id or "" for p in products) == [f"offer-{n}" for n in range(5)]


def _with_versions(portal: FakePortal, versions: list[dict[str, Any]]) -> dict[str, Any]:
    """Give the plan's draft these versions (through configure), and return the resource as read."""
    with client_for(portal.ingestion_url) as client:
        raw = dict(client.get_technical_configuration(OFFER, PLAN).raw)
        raw["vmImageVersions"] = versions
        job = client.configure([raw])
        assert client.wait_job(job, **FAST).succeeded
        return client.get_technical_configuration(OFFER, PLAN).raw


DEPRECATED = {
    "vmImages": [
        {
            "source": {
                "osDisk": {"uri": "https://a.blob.core.windows.net/c/old.vhd?sig=OLD"},
                "dataDisks": [],
                "sourceType": "sasUri",
            },
            "imageType": "x64Gen2",
        }
    ],
    "versionNumber": "0.9.0",
    "lifecycleState": "deprecated",
    "deprecationSchedule": {"reason": "other", "date": "2024-01-01", "alternative": {"versionNumber": "1.0.0"}},
    "zUnknown": [3, {"b": 1, "a": 2}],
}
SCHEDULED = {
    "versionNumber": "0.9.5",
    "lifecycleState": "generallyAvailable",
    "deprecationSchedule": {"date": "2030-01-01", "reason": "endOfSupport"},
    "vmImages": [
        {"imageType": "x64Gen2", "source": {"sourceType": "sharedImageGallery", "sharedImage": {"resourceId": GALLERY}}}
    ],
}


@MODES
def test_deprecated_and_scheduled_versions_and_the_skus_are_sent_back_byte_equal(portal: FakePortal, mode: str) -> None:
    read = _with_versions(portal, [DEPRECATED, SCHEDULED])
    portal.clear_requests()
    with client_for(portal.ingestion_url) as client:
        job = call(client, mode, "add_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS)
    assert job is not None
    (configure,) = posts(portal)
    (sent,) = json.loads(configure.raw_body)["resources"]
    for index in (0, 1):
        assert json.dumps(sent["vmImageVersions"][index]) == json.dumps(read["vmImageVersions"][index])
    assert json.dumps(sent["skus"]) == json.dumps(read["skus"])
    assert sent["vmImageVersions"][2]["versionNumber"] == "1.0.0"
    assert list(sent) == list(read)  # the members keep their order


@MODES
def test_the_same_image_with_another_signature_is_no_change_and_sends_nothing(portal: FakePortal, mode: str) -> None:
    with client_for(portal.ingestion_url) as client:
        job = client.add_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS)
        assert job is not None and client.wait_job(job, **FAST).succeeded
        portal.clear_requests()
        again = call(client, mode, "add_image_version", OFFER, PLAN, "1.0.0", sas_uri=RESIGNED)
    assert again is None
    assert posts(portal) == []


def test_a_version_of_the_same_number_is_updated_in_place_with_a_gallery_image(portal: FakePortal) -> None:
    with client_for(portal.ingestion_url) as client:
        assert client.wait_job(client.add_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS) or "", **FAST).succeeded
        job = client.add_image_version(OFFER, PLAN, "1.0.0", gallery_image=GALLERY)
        assert job is not None and client.wait_job(job, **FAST).succeeded
        (version,) = client.get_technical_configuration(OFFER, PLAN).image_versions
    assert [(i.source_type, i.resource_id) for i in version.images] == [("sharedImageGallery", GALLERY)]


@MODES
def test_a_deprecation_sets_the_schedule_and_keeps_every_other_version(portal: FakePortal, mode: str) -> None:
    _with_versions(portal, [DEPRECATED, SCHEDULED])
    with client_for(portal.ingestion_url) as client:
        job = call(
            client, mode, "deprecate_image_version", OFFER, PLAN, "0.9.5", date="2026-12-31", reason="endOfSupport"
        )
        assert client.wait_job(job, **FAST).succeeded
        config = client.get_technical_configuration(OFFER, PLAN)
        with pytest.raises(cloudpartner.NotFoundError, match=r"its versions: 0\.9\.0, 0\.9\.5"):
            client.deprecate_image_version(OFFER, PLAN, "2.0.0", date="2026-12-31", reason="other")
        with pytest.raises(cloudpartner.InvalidArgumentError, match="reason"):
            client.deprecate_image_version(OFFER, PLAN, "0.9.5", date="2026-12-31", reason="null")
    old, scheduled = config.image_versions
    assert old.raw == DEPRECATED
    assert scheduled.lifecycle_state == "deprecated"
    assert scheduled.deprecation == {"date": "2026-12-31", "reason": "endOfSupport"}


@MODES
def test_wait_until_idle_returns_once_no_submission_runs(mode: str) -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=0.5) as portal:
        portal.add_product(OFFER, plans=[PLAN])
        with client_for(portal.ingestion_url) as client:
            client.publish(OFFER, target="preview")
            heard: list[list[Any]] = []
            left = call(client, mode, "wait_until_idle", OFFER, on_progress=heard.append, **FAST)
    assert left == []
    assert heard[0] and heard[0][0].target == "preview" and heard[-1] == []


def test_a_sas_signature_is_never_in_a_recording(portal: FakePortal, tmp_path: Path) -> None:
    recording = tmp_path / "exchanges.jsonl"
    with client_for(portal.ingestion_url, record=recording) as client:
        client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS, **FAST)
    text = recording.read_text()
    assert "sig=***" in text and "SeCrEt" not in text


# ------------------------------------------------------------------------------ scripted servers

GUID = "d4261631-c583-4949-a612-5150882632e9"
PLAN_ID = f"plan/{GUID}/5d5c8d2a-0000-4000-8000-000000000001"
JOB = "0b7e1c54-0000-4000-8000-00000000000a"
TECH = "https://schema.mp.microsoft.com/schema/virtual-machine-plan-technical-configuration/2022-03-01-preview5"


def answer(body: Any, status: int = 200) -> bytes:
    return http_response(status, {"Content-Type": "application/json"}, json.dumps(body).encode())


def tree(versions: list[dict[str, Any]]) -> dict[str, Any]:
    """A resource tree whose resources come in an order the service does not promise: the configuration first."""
    return {
        "resources": [
            {
                "$schema": "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2",
                "id": f"submission/{GUID}/0",
            },
            {
                "$schema": TECH,
                "id": f"virtual-machine-plan-technical-configuration/{GUID}/x",
                "product": f"product/{GUID}",
                "plan": PLAN_ID,
                "skus": [{"skuId": "gen2", "imageType": "x64Gen2"}],
                "vmImageVersions": versions,
            },
            {
                "$schema": "https://schema.mp.microsoft.com/schema/plan/2022-03-01-preview2",
                "id": PLAN_ID,
                "identity": {"externalId": PLAN},
            },
            {
                "$schema": "https://schema.mp.microsoft.com/schema/product/2022-03-01-preview3",
                "id": f"product/{GUID}",
                "identity": {"externalId": OFFER},
            },
        ]
    }


IN_DRAFT = [
    {
        "versionNumber": "1.0.0",
        "vmImages": [{"imageType": "x64Gen2", "source": {"sourceType": "sasUri", "osDisk": {"uri": RESIGNED}}}],
    }
]


def scripted(
    final_job: dict[str, Any], *, polls_failing: int = 1
) -> tuple[Callable[[Connection, RawRequest], None], list[RawRequest]]:
    """A service whose draft holds the image, with nothing in preview or live; every job it starts
    answers ``polls_failing`` 503s to its status polls, then ``final_job``."""
    seen: list[RawRequest] = []
    polls = {"count": 0}

    def route(conn: Connection, request: RawRequest) -> None:
        seen.append(request)
        path, _, query = request.target.partition("?")
        if request.method == "POST" and path.endswith("/configure"):
            body = answer({"jobId": JOB, "jobStatus": "notStarted", "jobResult": "pending"})
        elif path.endswith(f"/configure/{JOB}/status"):
            polls["count"] += 1
            if polls["count"] <= polls_failing:
                body = answer({"error": {"code": "internalServerError", "message": "try later"}}, 503)
            else:
                body = answer({"jobId": JOB, **final_job})
        elif "/resource-tree/" in path and "targetType=draft" in query:
            body = answer(tree(IN_DRAFT))
        elif "/resource-tree/" in path:
            body = answer({"error": {"code": "notFound", "message": "nothing published"}}, 404)
        elif path.endswith(f"/submission/{GUID}"):
            body = answer(
                {
                    "value": [
                        {"id": f"submission/{GUID}/1", "target": {"targetType": "preview"}, "status": "completed"},
                        {"id": f"submission/{GUID}/0", "target": {"targetType": "draft"}},
                    ]
                }
            )
        elif path.endswith("/product"):
            body = answer({"value": [{"id": f"product/{GUID}", "identity": {"externalId": OFFER}}]})
        else:
            body = answer({"error": {"code": "notFound", "message": request.target}}, 404)
        conn.send(body)

    return route, seen


SUCCEEDED = {"jobStatus": "completed", "jobResult": "succeeded", "errors": []}


@MODES
def test_a_scripted_release_reads_resources_in_any_order_and_polls_through_a_5xx(mode: str) -> None:
    route, seen = scripted(SUCCEEDED, polls_failing=2)
    with RawServer(route) as srv, client_for(srv.base_url, max_retries=0) as client:
        release = call(
            client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS, target="preview", **FAST
        )
    assert outcomes(release) == {"add": "already-done", "wait-idle": "already-done", "preview": "done"}
    (post,) = [r for r in seen if r.method == "POST"]
    (submission,) = json.loads(post.body)["resources"]
    assert submission["target"] == {"targetType": "preview"} and submission["product"] == f"product/{GUID}"


FAILURES = [
    (
        [
            {
                "code": "internalServerError",
                "message": "An In Progress submission 1234567890 already exists.",
                "details": [{"code": "invalidResource", "message": "Failure for resource"}],
            }
        ],
        cloudpartner.SubmissionConflictError,
        "conflict",
        True,
        "An In Progress submission 1234567890 already exists.",
    ),
    (
        [{"code": "Conflict", "message": "The submission cannot be pushed to live as its not the latest submission."}],
        cloudpartner.SubmissionConflictError,
        "conflict",
        True,
        "not the latest submission",
    ),
    (
        [
            {
                "code": "badRequest",
                "message": "Validation failed",
                "details": [
                    {
                        "code": "invalidState",
                        "message": "Submission failed",
                        "details": [{"code": "x", "message": "Certification failed: the VHD is not generalized"}],
                    }
                ],
            }
        ],
        cloudpartner.CertificationFailedError,
        "certification",
        False,
        "Certification failed: the VHD is not generalized",
    ),
    (
        [
            {
                "code": "badRequest",
                "message": "Cannot delete image '9.0.20230404' of type 'X64Gen1' as it is already published.",
            }
        ],
        cloudpartner.JobFailedError,
        "other",
        False,
        "Cannot delete image",
    ),
]


@MODES
@pytest.mark.parametrize(
    ("errors", "raised", "kind", "transient", "message"),
    FAILURES,
    ids=["in-progress", "not-latest", "certification", "other"],
)
def test_a_failed_job_raises_its_typed_error_and_the_job_says_its_kind(
    mode: str, errors: list[dict[str, Any]], raised: type[Exception], kind: str, transient: bool, message: str
) -> None:
    route, _ = scripted({"jobStatus": "completed", "jobResult": "failed", "errors": errors})
    with RawServer(route) as srv, client_for(srv.base_url, max_retries=0) as client:
        with pytest.raises(cloudpartner.JobFailedError) as caught:
            call(client, mode, "release_image_version", OFFER, PLAN, "1.0.0", sas_uri=SAS, target="preview", **FAST)
        job = client.wait_job(JOB, **FAST)  # wait_job keeps returning the job
    error = caught.value
    assert type(error) is raised and error.is_transient is transient
    assert message in error.message and message in str(error)
    assert error.job is not None and error.job.id == JOB and error.job.failure == kind
    assert job.failed and job.failure == kind


def test_an_answer_echoing_a_sas_uri_is_raised_without_its_signature() -> None:
    echo = answer({"error": {"code": "badRequest", "message": f"The URI {SAS} cannot be read."}}, 400)
    with RawServer(lambda conn, _request: conn.send(echo)) as srv, client_for(srv.base_url) as client:
        with pytest.raises(cloudpartner.BadRequestError) as caught:
            client.configure([{"$schema": TECH, "id": "x", "uri": SAS}])
    error = caught.value
    for text in (str(error), repr(error), error.body, error.message or ""):
        assert "SeCrEt" not in text, text
    assert "sig=***" in error.body


# ------------------------------------------------------------------------------------- notebook


def test_in_a_notebook_a_release_with_progress_shows_its_steps_as_one_live_table(
    portal: FakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    shown: list[str] = []
    displays: list[object] = []

    class ZMQInteractiveShell:  # what _display looks for: a Jupyter kernel's shell
        pass

    class Handle:
        def update(self, content: Any) -> None:
            shown.append(content.data)

    def display(content: Any, display_id: bool = False) -> Handle:
        assert display_id
        displays.append(content)
        shown.append(content.data)
        return Handle()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell  # type: ignore[attr-defined]
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.HTML = lambda data: types.SimpleNamespace(data=data)  # type: ignore[attr-defined]
    ipython_display.display = display  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    with client_for(portal.ingestion_url) as client:
        release = client.release_image_version(OFFER, PLAN, "1.0.0", sas_uri=SAS, progress=True, **FAST)
    assert len(displays) == 1  # one display, updated in place
    assert all(html.startswith("<table") for html in shown)
    last = shown[-1]
    for step in release.steps:
        assert f">{step.name}<" in last and step.outcome in last
    assert any(">running<" in html for html in shown)
    assert release.job_ids[-1] in last and SIG not in "".join(shown)
