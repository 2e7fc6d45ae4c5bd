"""The ingestion client's release against FakePortal's release rules, on the default seed.

``FakePortal().add_offer(...)`` with no plans seeds a released offer: plans with live versions,
the oldest deprecated, and locked skus. These tests run ``cloudpartner.ingestion.Client``'s
release, add, deprecate and wait calls against it, so the client's edits meet the rules the
service enforces (``testing/_ingestion_rules.py``) and its typed errors meet the job failures
the fake answers with the service's texts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import TOKEN
from test_fakeportal_ingestion import configure, to_live, to_preview

O = "contoso-virtualmachineoffer"
SEEDED = ["2024.01.15", "2024.04.15", "2024.07.15"]  # the default seed's versions, the first deprecated
NEW = "2024.10.15"
SAS = "https://contoso.blob.core.windows.net/vhds/new.vhd?sv=2021-08-06&sr=b&sp=r&sig=SeCrEt%3D"
FAST = {"poll_interval": 0.02, "timeout": 30}
MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@pytest.fixture(autouse=True)
def _no_ingestion_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_BASE_URL", raising=False)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.05, publish_seconds=0.1) as started:
        started.add_offer("contoso", O)
        yield started


def client_for(portal: FakePortal) -> ingestion.Client:
    return ingestion.Client(TOKEN, base_url=portal.ingestion_url, timeout=5.0, backoff=0.01)


def call(client: ingestion.Client, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """The blocking call, or its ``*_async`` twin run to its end."""
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)
    return asyncio.run(asyncio.wait_for(getattr(client, name + "_async")(*args, **kwargs), 60))


def outcomes(release: cloudpartner.Release) -> dict[str, str]:
    return {step.name: step.outcome for step in release.steps}


def numbers(config: ingestion.TechnicalConfiguration) -> list[str]:
    return [version.number for version in config.image_versions]


def latest_preview(portal: FakePortal) -> str:
    return str([e for e in portal.submissions(O) if e["target"]["targetType"] == "preview"][-1]["id"])


# ------------------------------------------------------------------------------- the fresh release


@MODES
@pytest.mark.parametrize(("plan", "image_type"), [("gen2", "x64Gen2"), ("gen1", "x64Gen1"), ("arm64", "arm64Gen2")])
def test_a_fresh_release_on_the_seeded_offer_goes_live_keeping_its_deprecated_version_and_skus(
    portal: FakePortal, mode: str, plan: str, image_type: str
) -> None:
    with client_for(portal) as client:
        before = client.get_technical_configuration(O, plan, target="live")
        release = call(
            client, mode, "release_image_version", O, plan, NEW, sas_uri=SAS, image_types=(image_type,), **FAST
        )
        live = client.get_technical_configuration(O, plan, target="live")
    assert outcomes(release) == {"wait-idle": "already-done", "add": "done", "preview": "done", "live": "done"}
    assert all(job["jobResult"] == "succeeded" for job in portal.jobs()), portal.jobs()
    assert numbers(live) == [*SEEDED, NEW]
    for kept, read in zip(live.image_versions, before.image_versions):
        assert json.dumps(kept.raw) == json.dumps(read.raw)  # the deprecated one as it was
    assert live.image_versions[0].lifecycle_state == "deprecated"
    assert live.skus == before.skus == ({"imageType": image_type, "skuId": plan},)


# ---------------------------------------------------------------------------------- certification


@MODES
def test_an_image_failing_certification_raises_certification_failed_with_the_services_line_and_job(
    portal: FakePortal, mode: str
) -> None:
    portal.fail_certification(SAS.replace("SeCrEt", "another"))  # the same image, whatever its signature
    with client_for(portal) as client:
        with pytest.raises(cloudpartner.CertificationFailedError) as caught:
            call(client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, **FAST)
        again = client.get_technical_configuration(O, "gen2", target="live")
    error = caught.value
    assert not error.is_transient
    assert error.message == "Issues found during Certification."  # the most specific line of the nested errors
    assert str(error) == "certification failed: Issues found during Certification."
    assert error.job is not None and error.job.failed and error.job.failure == "certification"
    assert error.job.id == portal.jobs()[-1]["jobId"]
    (problem,) = error.job.errors
    assert problem.code == "internalServerError" and problem.resource_id == latest_preview(portal)
    assert numbers(again) == SEEDED  # nothing went live


# ------------------------------------------------------------------------- concurrent publishes


def publish_once_a_job_runs(portal: FakePortal) -> tuple[threading.Thread, list[Any]]:
    """Start a thread that publishes the product to preview (raw requests: another client) once a job runs."""
    started: list[Any] = []

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not started:
            if any(job["jobStatus"] != "completed" for job in portal.jobs()):
                started.append(configure(portal, to_preview(portal.product(O)["id"])).json)
            time.sleep(0.01)

    thread = threading.Thread(target=watch)
    thread.start()
    return thread, started


@MODES
def test_a_publish_started_by_another_client_meanwhile_fails_the_release_as_a_submission_conflict(mode: str) -> None:
    with FakePortal(job_seconds=0.5, publish_seconds=2.0) as portal:
        portal.add_offer("contoso", O)
        with client_for(portal) as client:
            thread, other = publish_once_a_job_runs(portal)  # while the release's add runs
            try:
                with pytest.raises(cloudpartner.SubmissionConflictError) as caught:
                    call(client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, **FAST)
            finally:
                thread.join()
            assert client.get_job(other[0]["jobId"]).status in {"notStarted", "running"}
            left = call(client, mode, "wait_until_idle", O, **FAST)
            portal.set_publish_seconds(0.1)
            resumed = call(client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, **FAST)
    error = caught.value
    assert error.is_transient and error.job is not None and error.job.failure == "conflict"
    assert error.message.startswith("An In Progress submission ") and error.message.endswith(" already exists.")
    assert left == []
    # The other publish took the draft, the new version in it, to preview: only the go-live is left.
    assert outcomes(resumed) == {
        "wait-idle": "already-done",
        "add": "already-done",
        "preview": "already-done",
        "live": "done",
    }


@MODES
def test_a_release_started_while_another_publish_runs_waits_until_idle_then_goes_on(
    portal: FakePortal, mode: str
) -> None:
    portal.set_publish_seconds(0.6)
    with client_for(portal) as client:
        client.publish(O, target="preview")
        with pytest.raises(cloudpartner.WaitTimeoutError):
            call(client, mode, "wait_until_idle", O, poll_interval=0.02, timeout=0.2)
        heard: list[cloudpartner.Release] = []
        release = call(
            client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, on_progress=heard.append, **FAST
        )
    assert outcomes(release)["wait-idle"] == "done" and outcomes(release)["live"] == "done"
    assert any(outcomes(so_far).get("wait-idle") == "running" for so_far in heard)


@MODES
def test_a_stale_preview_sent_live_fails_as_a_conflict_and_the_release_goes_live_from_the_latest(
    portal: FakePortal, mode: str
) -> None:
    with client_for(portal) as client:
        call(client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, target="preview", **FAST)
        stale = latest_preview(portal)
        portal.add_image_version(O, "gen1", "2024.10.16", image_types=["x64Gen1"], target="preview")  # a newer one
        job = client.configure([to_live(portal.product(O)["id"], stale)])
        ended = client.wait_job(job, **FAST)
        release = call(client, mode, "release_image_version", O, "gen2", NEW, sas_uri=SAS, **FAST)
        live = client.get_technical_configuration(O, "gen2", target="live")
    assert ended.failed and ended.failure == "conflict"
    assert ended.errors[0].message == "The submission cannot be pushed to live as its not the latest submission."
    assert outcomes(release) == {
        "wait-idle": "already-done",
        "add": "already-done",
        "preview": "already-done",
        "live": "done",
    }
    assert numbers(live) == [*SEEDED, NEW]


# ------------------------------------------------------------------------ deprecating, re-adding


@MODES
def test_deprecating_a_live_version_is_accepted_and_keeps_every_version(portal: FakePortal, mode: str) -> None:
    with client_for(portal) as client:
        job = call(
            client, mode, "deprecate_image_version", O, "gen2", "2024.04.15", date="2030-01-31", reason="endOfSupport"
        )
        ended = client.wait_job(job, **FAST)
        draft = client.get_technical_configuration(O, "gen2")
        release = client.release_image_version(O, "gen2", NEW, sas_uri=SAS, **FAST)  # its schedule goes live
        live = client.get_technical_configuration(O, "gen2", target="live")
    assert ended.succeeded, ended.errors
    assert numbers(draft) == SEEDED and numbers(live) == [*SEEDED, NEW]
    assert outcomes(release)["live"] == "done"
    assert live.image_versions[1].deprecation == {"date": "2030-01-31", "reason": "endOfSupport"}
    # Removing a published version is not offered: the service refuses it.
    assert not [name for name in dir(client) if name.startswith(("remove_", "delete_"))]


@MODES
def test_adding_a_seeded_version_again_with_a_fresh_signature_is_no_change(portal: FakePortal, mode: str) -> None:
    with client_for(portal) as client:
        (version,) = [v for v in client.get_technical_configuration(O, "gen2").image_versions if v.number == SEEDED[-1]]
    seeded = str(version.raw["vmImages"][0]["source"]["osDisk"]["uri"])
    resigned = seeded.split("?", 1)[0] + "?sv=2022-11-02&sp=r&se=2031-01-01&sig=Fresh%3D"
    portal.clear_requests()
    with client_for(portal) as client:
        assert call(client, mode, "add_image_version", O, "gen2", SEEDED[-1], sas_uri=resigned) is None
    assert all(request.method == "GET" for request in portal.requests)
