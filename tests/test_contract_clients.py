"""Contract tests: public clients of the services run their own workflows, unchanged, against FakePortal.

Red Hat's ``cloudpub`` and SUSE's ``azure-img-utils`` ran against the real services for years;
their code encodes what the services answer, independently of cloudpartner. Each test runs one of
their workflows (``tests/contract/workflows.py``) as a subprocess in a venv holding the pinned
clients, against a FakePortal on 127.0.0.1 reached through ``cloudpartner.testing``'s routing
of ``requests`` and its token endpoint: no patch of their logic.

The venvs are made once per machine under ``target/contract-venvs/`` (about 30 s and 210 MB
with the azure SDKs they need) and reused while the pins are unchanged. To move a pin, edit
``INGESTION_PINS`` below (azure-img-utils 1.x, on the CPP API: ``CPP_PINS`` in
``tests/test_contract_cpp.py``): the next run makes a fresh venv (delete the old directory). PyPI must
be reachable the first time: an install that fails FAILS the tests (it never skips them).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from cloudpartner.testing import FakePortal
from contract import venvs
from test_fakeportal_ingestion import call, configure, to_preview

INGESTION_PINS = ("cloudpub==1.7.6", "azure-img-utils==2.7.0")  # both talk to the Product Ingestion API
WORKFLOWS = Path(__file__).parent / "contract" / "workflows.py"
ROUTE = Path(__file__).parents[1] / "python" / "cloudpartner" / "testing" / "_route.py"
RUN_SECONDS = 60
OFFER = "contoso-virtualmachineoffer"
SEEDED = ["2024.01.15", "2024.04.15", "2024.07.15"]  # each default plan's versions; the first is deprecated
STATES = [[SEEDED[0], "deprecated"], [SEEDED[1], "generallyAvailable"], [SEEDED[2], "generallyAvailable"]]


@pytest.fixture(scope="module")
def ingestion_python() -> Path:
    try:
        return venvs.client_python("ingestion-clients", INGESTION_PINS)
    except venvs.InstallError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def portal() -> Any:
    """The default seed (three plans, live versions, a deprecated one), and an idle offer."""
    with FakePortal(step_seconds=0.05, job_seconds=0.1, publish_seconds=0.2) as started:
        started.add_offer("contoso", OFFER)  # the default seed, as cloudpartner serve and the fixture have it
        started.add_offer("contoso", "contoso-other", running=False, plans=["only-plan"])
        yield started


def start_publish(portal: FakePortal, seconds: float) -> str:
    """Start a publish to preview of the seeded offer, as another pipeline would; return its job id."""
    portal.set_publish_seconds(seconds)
    job = configure(portal, to_preview(portal.product(OFFER)["id"])).json
    portal.set_publish_seconds(0.2)
    assert job["errors"] == []
    return str(job["jobId"])


def start(python: Path, portal: FakePortal, workflow: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FAKEPORTAL_URL": portal.base_url, "FAKEPORTAL_ROUTE": str(ROUTE)}
    env.pop("PYTHONPATH", None)
    command = [str(python), str(WORKFLOWS), workflow]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def result_of(child: subprocess.Popen[str]) -> Any:
    try:
        stdout, stderr = child.communicate(timeout=RUN_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    assert child.returncode == 0, f"{child.args} failed:\n{stderr[-6000:]}"
    return json.loads(stdout.strip().splitlines()[-1])


def run(python: Path, portal: FakePortal, workflow: str) -> Any:
    return result_of(start(python, portal, workflow))


def test_cloudpub_lists_and_finds_products(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "cloudpub_list_and_find_products")
    assert result["names"] == ["contoso-other", "contoso-virtualmachineoffer"]
    assert result["id"] == portal.product("contoso-virtualmachineoffer")["id"].split("/")[1]


def test_cloudpub_reads_resource_tree_and_submissions(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "cloudpub_read_tree_and_submissions")
    assert result["plans"] == ["arm64", "gen1", "gen2"]
    assert "draft" in result["submissions"]


def test_cloudpub_reads_a_plans_technical_configuration(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "cloudpub_read_technical_configuration")
    plans = [r for r in portal.resource_tree("contoso-virtualmachineoffer") if r["id"].startswith("plan/")]
    gen1 = next(r["id"] for r in plans if r["identity"]["externalId"] == "gen1")
    assert result == {"plan": gen1.split("/")[-1], "versions": SEEDED}


def test_img_utils_2_reads_the_offer(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "img_utils_read_offer")
    assert result["exists"] is True
    assert result["missing"] is False
    assert "virtual-machine-plan-technical-configuration" in result["kinds"]


def test_img_utils_2_adds_an_image_publishes_and_goes_live(ingestion_python: Path, portal: FakePortal) -> None:
    retired = plan_versions(portal, "gen2", "live")[0]
    result = run(ingestion_python, portal, "img_utils_add_image_publish_and_go_live")
    assert (result["preview"], result["live"]) == ("succeeded", "succeeded")
    # After the go-live azure-img-utils 2.7.0 still says "waitingForPublisherReview": its
    # get_offer_status reads the preview entry first, and the service keeps listing the submission
    # taken live as preview too, with the live entry's id (cloudpub 1.7.6's _is_submission_in_preview:
    # "in preview if ... the submission id is not the same from the live target"; the page's
    # sample lists draft, live and preview). The client is wrong here, not FakePortal.
    assert result["states"][1:] == ["waitingForPublisherReview", "waitingForPublisherReview"]
    assert [v["versionNumber"] for v in plan_versions(portal, "gen2", "live")] == [*SEEDED, "2024.01.01"]
    assert [v["versionNumber"] for v in plan_versions(portal, "gen1", "live")] == SEEDED  # another plan, untouched
    assert plan_versions(portal, "gen2", "live")[0] == retired  # the deprecated version echoed back unchanged


def plan_versions(portal: FakePortal, plan: str, target: str) -> list[dict[str, Any]]:
    plan_id = next(
        r["id"] for r in portal.resource_tree(OFFER, target) if r.get("identity", {}).get("externalId") == plan
    )
    (config,) = [r for r in portal.resource_tree(OFFER, target) if r.get("plan") == plan_id]
    return config["vmImageVersions"]  # type: ignore[no-any-return]


def test_cloudpub_adds_a_disk_version_and_follows_the_job(ingestion_python: Path, portal: FakePortal) -> None:
    retired = plan_versions(portal, "gen2", "live")[0]
    result = run(ingestion_python, portal, "cloudpub_add_a_disk_version_and_follow_the_job")
    assert result["draft"] == [*STATES, ["2024.10.15", "generallyAvailable"]]
    assert result["live"] == STATES  # keepdraft: not published
    assert [target for target, _ in result["submissions"]] == ["draft", "live", "preview"]
    assert plan_versions(portal, "gen2", "draft")[0] == retired  # the deprecated version echoed back unchanged
    (job,) = portal.jobs()
    assert job["jobResult"] == "succeeded"


def test_cloudpub_publishes_to_preview_and_live(ingestion_python: Path, portal: FakePortal) -> None:
    retired = plan_versions(portal, "gen2", "live")[0]
    result = run(ingestion_python, portal, "cloudpub_publish_to_preview_and_live")
    assert result["live"] == [*STATES, ["2024.10.15", "generallyAvailable"]]
    assert result["arm64"] == STATES  # another plan, untouched
    assert plan_versions(portal, "gen2", "live")[0] == retired
    edit, preview, live = portal.jobs()  # the second run found the image live: no job
    assert [j["jobResult"] for j in (edit, preview, live)] == ["succeeded"] * 3
    posted = [r.body["resources"][-1] for r in portal.requests if r.method == "POST" and "configure" in r.path]
    assert [r["target"]["targetType"] for r in posted[1:]] == ["preview", "live"]


def test_cloudpub_waits_while_a_submission_is_in_progress(ingestion_python: Path, portal: FakePortal) -> None:
    running = start_publish(portal, 60.0)  # another pipeline's publish, until the test cancels it
    before = len(portal.requests)
    child = start(ingestion_python, portal, "cloudpub_waits_while_a_submission_is_in_progress")
    try:
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() < deadline and child.poll() is None:
            polls = [r for r in portal.requests[before:] if r.method == "GET" and "/submission/" in r.path]
            if len(polls) >= 3:  # cloudpub polls while the submission is in progress
                break
            time.sleep(0.05)
        assert not [r for r in portal.requests[before:] if "/configure" in r.path]  # it sent nothing meanwhile
        assert call(portal, "POST", f"/configure/{running}/cancel").status == 200
    finally:
        result = result_of(child)
    assert [v[0] for v in result["live"]] == [*SEEDED, "2024.10.15"]
    assert [j["jobResult"] for j in portal.jobs()] == ["cancelled", "succeeded", "succeeded", "succeeded"]


def test_cloudpub_a_second_publish_fails_inside_its_job(ingestion_python: Path, portal: FakePortal) -> None:
    start_publish(portal, 30.0)
    result = run(ingestion_python, portal, "cloudpub_a_second_publish_fails_inside_its_job")
    assert result["checked"] == "ConflictError"  # cloudpub's own check saw the running submission
    # The job, not the HTTP call, failed, and cloudpub read it as a failed job, not a certification one.
    assert result["error"] == "InvalidStateError"
    assert "'code': 'internalServerError'" in result["message"]
    assert "An In Progress submission" in result["message"]


def test_cloudpub_a_stale_preview_cannot_go_live(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "cloudpub_a_stale_preview_cannot_go_live")
    assert result["error"] == "InvalidStateError"
    assert "'code': 'conflict'" in result["message"]
    assert "The submission cannot be pushed to live as its not the latest submission." in result["message"]


def test_cloudpub_stops_at_a_certification_failure(ingestion_python: Path, portal: FakePortal) -> None:
    portal.fail_certification("https://contoso.blob.core.windows.net/images/rhel-2024.10.15.vhd")
    result = run(ingestion_python, portal, "cloudpub_certification_failure_is_final")
    assert result["error"] == "CertificationError"
    assert [j["jobResult"] for j in portal.jobs()] == ["succeeded", "failed"]  # no retry of the publish


def test_img_utils_2_a_second_publish_fails_inside_its_job(ingestion_python: Path, portal: FakePortal) -> None:
    result = run(ingestion_python, portal, "img_utils_publish_while_another_runs")
    assert result["first"] == "succeeded"
    assert result["second"] == ["completed", "failed"]
    (error,) = result["errors"]
    assert error["code"] == "internalServerError"
    assert error["message"].startswith("An In Progress submission ")
    assert result["status"] == "waitingForPublisherReview"


def test_routing_refuses_every_host_but_the_services() -> None:
    from cloudpartner.testing._route import RefusedHostError, routed_url

    base = "http://127.0.0.1:1"
    assert routed_url("https://graph.microsoft.com/rp/product-ingestion/product?x=1", base) == (
        base + "/rp/product-ingestion/product?x=1"
    )
    assert routed_url("https://login.microsoftonline.com/t/oauth2/token", base) == base + "/t/oauth2/token"
    for refused in ("https://example.com/", "https://graph.microsoft.com/v1.0/me", "http://cloudpartner.azure.com/api"):
        with pytest.raises(RefusedHostError, match="refused"):
            routed_url(refused, base)
