"""Releasing a VM image version on the Cloud Partner Portal API: add, deprecate, and the whole release.

Against FakePortal, sync and async: a fresh release to live, the same release again (reads only),
a release interrupted after each step and resumed, one cancelled while it publishes, each refusal
of bad input before anything is written, a SAS that differs only in its signature, and the last
shown version's deprecation refused. Against a scripted server (tests/rawserver.py): a publish
that fails certification, polled through a 503 and the page's one-item list (FakePortal's CPP
publishes do not fail).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import cloudpartner
import pytest
from cloudpartner import (
    CertificationFailedError,
    InvalidArgumentError,
    JobFailedError,
    NotFoundError,
    Release,
    SubmissionConflictError,
    ingestion,
)
from cloudpartner.testing import FakePortal
from conftest import PUBLISHER, TOKEN
from rawserver import RawServer, response

OFFER = "release-offer"
PLAN = "gen2"
VERSION = "2026.12.01"  # a version no offer FakePortal seeds holds
IMAGES = "microsoft-azure-corevm.vmImagesPublicAzure"
BLOB = "https://contoso.blob.core.windows.net/vhds/contoso-2024.01.15.vhd"
SAS = f"{BLOB}?sv=2021-08-06&sr=b&sp=r&se=2024-02-01T00%3A00%3A00Z&sig=FIRST%2BSECRET%3D"
RESIGNED = f"{BLOB}?sp=rl&sv=2022-11-02&se=2025-01-01&sr=b&sig=SECOND%2BSECRET%3D"
EMAILS = "jondoe@contoso.com"
MODES = ["sync", "async"]
FAST = {"timeout": 20, "poll_interval": 0.01}


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(step_seconds=0.05, cancel_seconds=0.05) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False, plans=("gen1", PLAN))
        yield fake


@pytest.fixture
def client(portal: FakePortal) -> Iterator[cloudpartner.Client]:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10) as c:
        yield c


def run(client: cloudpartner.Client, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call `name` on the client, or its `_async` twin in an event loop."""
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)

    async def twin() -> Any:
        return await getattr(client, f"{name}_async")(*args, **kwargs)

    return asyncio.run(twin())


def release(client: cloudpartner.Client, mode: str, sas: str = SAS, **kwargs: Any) -> Release:
    arguments = {"os_vhd_url": sas, "emails": EMAILS, **FAST, **kwargs}
    result: Release = run(client, mode, "release_image_version", PUBLISHER, OFFER, PLAN, VERSION, **arguments)
    return result


def sent(portal: FakePortal) -> list[tuple[str, str]]:
    """The requests the portal got: method and the path after the offer (`status`, `slot/production`, ...)."""
    prefix = f"/api/publishers/{PUBLISHER}/offers/{OFFER}"
    paths = [(r.method, r.path.removeprefix(prefix).lstrip("/")) for r in portal.requests]
    return [(method, path.split("/operations/")[0] or "offer") for method, path in paths]


def writes(portal: FakePortal) -> list[tuple[str, str]]:
    return [(method, path) for method, path in sent(portal) if method != "GET"]


def outcomes(result: Release) -> list[tuple[str, str]]:
    return [(step.name, step.outcome) for step in result.steps]


def live_versions(portal: FakePortal, client: cloudpartner.Client) -> dict[str, Any]:
    production = client.get_offer(PUBLISHER, OFFER, slot="production")
    plan = next(p for p in production.definition["definition"]["plans"] if p["planId"] == PLAN)
    versions: dict[str, Any] = plan[IMAGES]
    return versions


# ----------------------------------------------------------------------------------- the release


@pytest.mark.parametrize("mode", MODES)
def test_a_fresh_release_adds_publishes_and_goes_live(
    portal: FakePortal, client: cloudpartner.Client, mode: str
) -> None:
    seen: list[Release] = []
    result = release(client, mode, on_progress=seen.append)
    assert outcomes(result) == [("add", "done"), ("preview", "done"), ("live", "done")]
    publish, go_live = (op["id"] for op in reversed(portal.operations(PUBLISHER, OFFER)))
    assert result.job_ids == (publish, go_live)
    assert result.step("preview").status == "waitingForPublisherReview"  # type: ignore[union-attr]
    assert result.step("live").status == "succeeded"  # type: ignore[union-attr]
    assert writes(portal) == [("PUT", "offer"), ("POST", "publish"), ("POST", "golive")]
    entry = live_versions(portal, client)[VERSION]
    assert entry["osVhdUrl"] == SAS
    assert entry["showInGui"] is True
    assert entry["lunVhdDetails"] == []
    # The publish's id was told while it ran, before the release ended: enough to cancel it.
    running = [r.current for r in seen if r.current is not None and r.current.name == "preview"]
    assert running
    assert running[0].job_id == publish
    assert seen[-1] == result
    assert len(seen) == len(set(map(repr, seen))), "each state is told once"


@pytest.mark.parametrize("mode", MODES)
def test_the_same_release_run_again_is_reads_only(portal: FakePortal, client: cloudpartner.Client, mode: str) -> None:
    release(client, mode)
    portal.clear_requests()
    again = release(client, mode, sas=RESIGNED)  # a new SAS of the same blob
    assert outcomes(again) == [("add", "already-done"), ("preview", "already-done"), ("live", "already-done")]
    assert not again.changed
    assert sent(portal) == [("GET", "status"), ("GET", "offer"), ("GET", "slot/production")]


class Interrupted(Exception):
    """Stands for a Ctrl-C or a crash of the script between two polls."""


def stop_when(predicate: Callable[[Release], bool]) -> Callable[[Release], None]:
    def on_progress(so_far: Release) -> None:
        if predicate(so_far):
            raise Interrupted

    return on_progress


def stage(name: str, outcome: str, status: str = "") -> Callable[[Release], bool]:
    """The release so far has step `name` with `outcome` (and, given, that operation status)."""

    def reached(so_far: Release) -> bool:
        step = so_far.step(name)
        return step is not None and step.outcome == outcome and (not status or step.status == status)

    return reached


# Each interruption, and what the resumed release sends (only what was not done yet).
INTERRUPTIONS = {
    "after-add": (stage("add", "done"), [("POST", "publish"), ("POST", "golive")]),
    "while-publishing": (stage("preview", "running", "running"), [("POST", "golive")]),
    "in-review": (stage("preview", "done"), [("POST", "golive")]),
    "while-going-live": (stage("live", "running", "running"), []),
}


def quiet(portal: FakePortal, seconds: float = 0.3, bound: float = 5.0) -> None:
    """Wait until the portal has heard nothing new for `seconds` (at most `bound` s in all).

    An asyncio call stopped by its callback raises a moment after the core told it, and a request
    the core had already sent (the go-live, say) lands after the call is over: the resumed release
    must start from the state that request made, as a script run again later would.
    """
    deadline = time.monotonic() + bound
    heard, since = len(portal.requests), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < seconds:
        time.sleep(0.05)
        if len(portal.requests) != heard:
            heard, since = len(portal.requests), time.monotonic()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("when", list(INTERRUPTIONS))
def test_a_release_interrupted_after_each_step_resumes_where_the_offer_stands(
    portal: FakePortal, client: cloudpartner.Client, mode: str, when: str
) -> None:
    predicate, resumed_writes = INTERRUPTIONS[when]
    with pytest.raises(Interrupted):
        release(client, mode, on_progress=stop_when(predicate))
    if mode == "async":
        quiet(portal)
    interrupted = len(portal.requests)
    resumed = release(client, mode)
    if mode == "sync":  # an asyncio callback raises on the loop, a moment after the core told it
        assert writes(portal)[len(writes(portal)) - len(resumed_writes) :] == resumed_writes
        assert [m for m, _ in sent(portal)[interrupted:] if m != "GET"] == [m for m, _ in resumed_writes]
    assert resumed.step("add").outcome == "already-done"  # type: ignore[union-attr]
    # Both runs together did each step once.
    assert writes(portal) == [("PUT", "offer"), ("POST", "publish"), ("POST", "golive")]
    assert len(portal.operations(PUBLISHER, OFFER)) == 2
    assert live_versions(portal, client)[VERSION]["osVhdUrl"] == SAS
    portal.clear_requests()
    assert not release(client, mode).changed
    assert writes(portal) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_release_stops_at_its_target(portal: FakePortal, client: cloudpartner.Client, mode: str) -> None:
    draft = release(client, mode, target="draft")
    assert outcomes(draft) == [("add", "done")]
    assert writes(portal) == [("PUT", "offer")]
    preview = release(client, mode, target="preview")
    assert outcomes(preview) == [("add", "already-done"), ("preview", "done")]
    assert portal.operations(PUBLISHER, OFFER)[0]["steps"][4]["status"] == "waitingForPublisherReview"
    portal.clear_requests()
    live = release(client, mode)
    assert outcomes(live) == [("add", "already-done"), ("preview", "already-done"), ("live", "done")]
    assert writes(portal) == [("POST", "golive")]


@pytest.fixture
def slow_portal() -> Iterator[FakePortal]:
    """A portal whose publish takes 8 s to reach review: time to cancel it."""
    with FakePortal(step_seconds=2, cancel_seconds=0.05) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False, plans=(PLAN,))
        yield fake


def publishing_job(so_far: Release) -> str | None:
    """The publish's operation id, once the release says it runs."""
    step = so_far.current
    return step.job_id if step is not None and step.name == "preview" else None


def assert_cancelled(failure: JobFailedError, told: list[str], portal: FakePortal) -> None:
    assert failure.job is not None
    assert failure.job.status == "canceled"
    assert failure.job.id == told[0] == portal.operations(PUBLISHER, OFFER)[0]["id"]
    assert not failure.is_transient
    assert writes(portal) == [("PUT", "offer"), ("POST", "publish"), ("POST", "cancel")]


def test_a_release_cancelled_while_it_publishes_raises_with_the_cancelled_operation(slow_portal: FakePortal) -> None:
    told: list[str] = []
    publishing = threading.Event()

    def on_progress(so_far: Release) -> None:
        job = publishing_job(so_far)
        if job and not publishing.is_set():
            told.append(job)
            publishing.set()

    def cancel_once_told() -> None:
        if publishing.wait(10):
            with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url) as other:
                other.cancel(PUBLISHER, OFFER)

    canceller = threading.Thread(target=cancel_once_told)
    canceller.start()
    try:
        with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url) as client, pytest.raises(JobFailedError) as got:
            client.release_image_version(
                PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS, emails=EMAILS, on_progress=on_progress, **FAST
            )
    finally:
        publishing.set()
        canceller.join(10)
    assert_cancelled(got.value, told, slow_portal)


def test_an_async_release_is_cancelled_from_its_own_progress_callback(slow_portal: FakePortal) -> None:
    told: list[str] = []

    async def main() -> None:
        async with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url) as client:

            async def on_progress(so_far: Release) -> None:
                job = publishing_job(so_far)
                if job and not told:
                    told.append(job)
                    await client.cancel_async(PUBLISHER, OFFER)

            await client.release_image_version_async(
                PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS, emails=EMAILS, on_progress=on_progress, **FAST
            )

    with pytest.raises(JobFailedError) as got:
        asyncio.run(main())
    assert_cancelled(got.value, told, slow_portal)


@pytest.mark.parametrize("mode", MODES)
def test_another_operation_in_progress_refuses_the_release_before_anything_is_written(
    portal: FakePortal, client: cloudpartner.Client, mode: str
) -> None:
    portal.add_offer(PUBLISHER, OFFER, running=True)  # a publish of something else, in certification
    portal.clear_requests()
    with pytest.raises(SubmissionConflictError) as got:
        release(client, mode)
    assert got.value.is_transient
    assert "in progress" in str(got.value)
    assert writes(portal) == []


# -------------------------------------------------------------------------------- bad input


BAD_INPUT = {
    "version-not-N.N.N": ({"version": "2024.01"}, "version", "2024.01"),
    "version-with-letters": ({"version": "v1.0.0"}, "version", "v1.0.0"),
    "sas-not-https": ({"os_vhd_url": SAS.replace("https:", "http:")}, "sas_uri", "http://contoso"),
    "sas-without-signature": ({"os_vhd_url": BLOB + "?sv=2021-08-06&sr=b"}, "sas_uri", BLOB),
    "data-disk-without-signature": ({"data_disks": [(0, BLOB)]}, "data_disks", BLOB),
    "data-disk-lun-twice": ({"data_disks": [(1, SAS), (1, SAS)]}, "data_disks", "LUN 1 is given twice"),
    "data-disks-as-a-string": ({"data_disks": SAS}, "data_disks", "(LUN, SAS URI) pairs, not str"),
    "data-disk-without-lun": ({"data_disks": [SAS]}, "data_disks", "item 0 is not a (LUN, SAS URI) pair"),
    "unknown-target": ({"target": "production"}, "target", "production"),
    "bad-email": ({"emails": "not-an-address"}, "emails", "not-an-address"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_refused_naming_the_value_before_anything_is_sent(
    portal: FakePortal, client: cloudpartner.Client, mode: str, case: str
) -> None:
    changes, field, shown = BAD_INPUT[case]
    arguments: dict[str, Any] = {"os_vhd_url": SAS, "emails": EMAILS, **FAST, **changes}
    version = arguments.pop("version", VERSION)
    portal.clear_requests()
    with pytest.raises(InvalidArgumentError) as got:
        run(client, mode, "release_image_version", PUBLISHER, OFFER, PLAN, version, **arguments)
    assert got.value.field == field
    assert shown in str(got.value)
    assert "SECRET" not in str(got.value)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("call", ["release_image_version", "add_image_version"])
def test_an_unknown_plan_is_not_found_listing_the_plans_and_nothing_is_written(
    portal: FakePortal, client: cloudpartner.Client, mode: str, call: str
) -> None:
    arguments: dict[str, Any] = {"os_vhd_url": SAS}
    if call == "release_image_version":
        arguments.update(emails=EMAILS, **FAST)
    with pytest.raises(NotFoundError) as got:
        run(client, mode, call, PUBLISHER, OFFER, "gen3", VERSION, **arguments)
    assert 'no plan "gen3"; its plans: gen1, gen2' in str(got.value)
    assert writes(portal) == []


# --------------------------------------------------------------------- adding and deprecating


def stored_versions(client: cloudpartner.Client, plan: str = PLAN) -> dict[str, Any]:
    draft = client.get_offer(PUBLISHER, OFFER)
    found = next(p for p in draft.definition["definition"]["plans"] if p["planId"] == plan)
    versions: dict[str, Any] = found.get(IMAGES, {})
    return versions


@pytest.mark.parametrize("mode", MODES)
def test_a_sas_that_differs_only_in_its_signature_is_no_change(
    portal: FakePortal, client: cloudpartner.Client, mode: str
) -> None:
    first = run(client, mode, "add_image_version", PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS)
    assert first is not None
    assert first.etag
    assert stored_versions(client)[VERSION]["osVhdUrl"] == SAS
    portal.clear_requests()
    again = run(client, mode, "add_image_version", PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=RESIGNED)
    assert again is None
    assert sent(portal) == [("GET", "offer")]
    # Another blob under the same version number is an update in place.
    other = BLOB.replace("2024.01.15", "2024.01.16") + "?sig=THIRD"
    updated = run(client, mode, "add_image_version", PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=other, label="L")
    assert updated is not None
    entry = stored_versions(client)[VERSION]
    assert (entry["osVhdUrl"], entry["label"], entry["mediaName"]) == (other, "L", "contoso-2024.01.15")


def put_body(portal: FakePortal) -> dict[str, Any]:
    (put,) = [r for r in portal.requests if r.method == "PUT"]
    body: dict[str, Any] = json.loads(put.raw_body)
    return body


@pytest.mark.parametrize("mode", MODES)
def test_every_other_version_and_key_is_sent_back_as_read(
    portal: FakePortal, client: cloudpartner.Client, mode: str
) -> None:
    hidden = {
        "osVhdUrl": "https://contoso.blob.core.windows.net/vhds/old.vhd?sig=OLD",
        "lunVhdDetails": [{"lun": 0, "uri": "https://contoso.blob.core.windows.net/vhds/data.vhd?sig=D"}],
        "label": "old",
        "mediaName": "old",
        "publishedDate": "",
        "description": None,
        "showInGui": False,
        "unknownToUs": {"big": 18446744073709551617},
    }
    definition = {
        "definition": {
            "displayText": "Contoso",
            "offer": {
                "microsoft-azure-corevm.legacyOfferId": "legacy-offer",
                "microsoft-azure-corevm.leadDestination": "None",
            },
            "plans": [{"planId": "gen1"}, {"planId": PLAN, "x": [1, 2.5, None], IMAGES: {"1.0.0": hidden}}],
        }
    }
    client.put_offer(PUBLISHER, OFFER, definition, if_match="*")
    read = client.get_offer(PUBLISHER, OFFER)
    portal.clear_requests()
    assert run(client, mode, "add_image_version", PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS) is not None
    body = put_body(portal)
    expected = read.for_put()
    added = body["definition"]["plans"][1][IMAGES].pop(VERSION)
    assert body == expected
    assert list(body["definition"]["plans"][1][IMAGES]["1.0.0"]) == list(hidden), "keys in the order read"
    assert "microsoft-azure-corevm.legacyOfferId" not in body["definition"]["offer"]
    assert added["osVhdUrl"] == SAS
    assert [r.headers["if-match"] for r in portal.requests if r.method == "PUT"] == [read.etag]


@pytest.mark.parametrize("mode", MODES)
def test_deprecating_hides_a_version_and_refuses_the_last_one_shown(
    portal: FakePortal, client: cloudpartner.Client, mode: str
) -> None:
    client.put_offer(PUBLISHER, OFFER, {"definition": {"plans": [{"planId": PLAN}]}}, if_match="*")  # no version yet
    client.add_image_version(PUBLISHER, OFFER, PLAN, "1.0.0", os_vhd_url=SAS)
    portal.clear_requests()
    with pytest.raises(InvalidArgumentError) as got:
        run(client, mode, "deprecate_image_version", PUBLISHER, OFFER, PLAN, "1.0.0")
    assert "last version" in str(got.value)
    assert "Deprecate the plan or the offer instead" in str(got.value)
    assert writes(portal) == []
    client.add_image_version(PUBLISHER, OFFER, PLAN, "1.0.1", os_vhd_url=RESIGNED)
    stored = run(client, mode, "deprecate_image_version", PUBLISHER, OFFER, PLAN, "1.0.0")
    assert stored is not None
    versions = stored_versions(client)
    assert (versions["1.0.0"]["showInGui"], versions["1.0.1"]["showInGui"]) == (False, True)
    portal.clear_requests()
    assert run(client, mode, "deprecate_image_version", PUBLISHER, OFFER, PLAN, "1.0.0") is None
    with pytest.raises(NotFoundError, match=r'no version "9\.9\.9"; its versions: 1\.0\.0, 1\.0\.1'):
        run(client, mode, "deprecate_image_version", PUBLISHER, OFFER, PLAN, "9.9.9")
    with pytest.raises(InvalidArgumentError, match=r'"1\.0"'):
        run(client, mode, "deprecate_image_version", PUBLISHER, OFFER, PLAN, "1.0")
    assert writes(portal) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_5xx_while_polling_an_operation_is_polled_through(portal: FakePortal, mode: str) -> None:
    portal.fail_next(3, 503, route="operation")
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, max_retries=0) as client:
        result = release(client, mode)
    assert outcomes(result) == [("add", "done"), ("preview", "done"), ("live", "done")]
    failed = [r for r in portal.requests if "/operations/" in r.path]
    assert len(failed) >= 4
    assert writes(portal) == [("PUT", "offer"), ("POST", "publish"), ("POST", "golive")]


# --------------------------------------------------------------------------------- secrecy


def test_no_sas_signature_in_reprs_errors_or_recordings(portal: FakePortal, tmp_path: Path) -> None:
    recording = tmp_path / "exchanges.jsonl"
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, record=recording) as client:
        result = client.release_image_version(PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS, emails=EMAILS, **FAST)
        with pytest.raises(InvalidArgumentError) as refused:
            client.add_image_version(PUBLISHER, OFFER, PLAN, "1", os_vhd_url=SAS)
    shown = [repr(result), result._repr_html_(), str(refused.value), repr(refused.value)]
    text = recording.read_text()
    assert "contoso-2024.01.15.vhd" in text
    for where in [*shown, text]:
        assert "SECRET" not in where


@pytest.mark.parametrize("data_disks", [SAS, [SAS], [(0, SAS, "x")]])
def test_data_disks_that_are_not_lun_and_uri_pairs_are_refused_on_both_apis(
    portal: FakePortal, data_disks: Any
) -> None:
    portal.clear_requests()
    with cloudpartner.Client(TOKEN, base_url=portal.base_url) as cpp, pytest.raises(InvalidArgumentError) as refused:
        cpp.add_image_version(PUBLISHER, OFFER, PLAN, VERSION, os_vhd_url=SAS, data_disks=data_disks)
    assert refused.value.field == "data_disks"
    with ingestion.Client(TOKEN, base_url=portal.ingestion_url) as other, pytest.raises(InvalidArgumentError) as too:
        other.add_image_version(OFFER, PLAN, VERSION, sas_uri=SAS, data_disks=data_disks)
    assert too.value.field == "data_disks"
    assert portal.requests == []


# ------------------------------------------------------------------------- a scripted service


def json_answer(status: int, value: object, headers: dict[str, str] | None = None) -> Any:
    return response(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(value).encode())


@pytest.mark.parametrize("mode", MODES)
def test_a_publish_that_fails_certification_raises_it_polled_through_a_5xx(mode: str) -> None:
    offer = {"id": OFFER, "definition": {"offer": {}, "plans": [{"planId": PLAN}]}}
    operation = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/op-1?api-version=2017-10-31"
    step = {"id": "displaycertify", "stepName": "Certification", "status": "inProgress", "messages": []}
    failed_step = {
        **step,
        "status": "failed",
        "messages": [{"level": "error", "messageHtml": "The VHD failed <b>certification</b>.", "timestamp": None}],
    }
    script = [
        json_answer(200, {"status": "neverPublished", "messages": [], "steps": []}),
        json_answer(200, offer, {"ETag": '"1"'}),
        json_answer(200, offer, {"ETag": '"2"'}),
        response(202, {"Location": operation}),
        response(503, {"Content-Type": "application/json"}, b'{"error": {"code": "Busy", "message": "later"}}'),
        json_answer(200, [{"id": "op-1", "status": "running", "steps": [step]}]),  # the page's one-item list
        json_answer(200, [{"id": "op-1", "status": "failed", "steps": [failed_step]}]),
    ]
    with RawServer(*script) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url, max_retries=0)
        with pytest.raises(CertificationFailedError) as got:
            release(client, mode)
        sent_to = [(r.method, r.target.split("?")[0].rsplit("/", 1)[-1]) for r in server.requests]
    assert got.value.message == "The VHD failed certification."
    assert got.value.job is not None
    assert (got.value.job.id, got.value.job.status) == ("op-1", "failed")
    assert not got.value.is_transient
    assert sent_to == [
        ("GET", "status"),
        ("GET", OFFER),
        ("PUT", OFFER),
        ("POST", "publish"),
        ("GET", "op-1"),
        ("GET", "op-1"),
        ("GET", "op-1"),
    ]
