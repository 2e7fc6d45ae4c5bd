"""Contract tests on the CPP API: azure-img-utils 1.x runs its own workflows, unchanged, against FakePortal.

azure-img-utils 1.2.0 (SUSE; the last release on the Cloud Partner Portal API, used by mash)
encodes what the service answered. Each test runs one of its workflows
(``tests/contract/cpp_workflows.py``) as a subprocess in a venv of its own (its pins differ from
2.x's), against a FakePortal on 127.0.0.1 reached through ``cloudpartner.testing``'s routing of
``requests``. Its token comes from the portal's Entra endpoint through msal, and the portal
accepts no other (``tokens=()``). Nothing of its logic is patched.

The portal is seeded as ``cloudpartner serve`` and the pytest fixture seed it (several plans,
each with versions, the oldest hidden), plus an offer that was never migrated to Partner Center.
To move the pin, edit ``CPP_PINS``: the next run makes a fresh venv under
``target/contract-venvs/`` (delete the old one). PyPI must be reachable the first time; an
install that fails FAILS the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cloudpartner.testing import FakePortal
from contract import venvs

CPP_PINS = ("azure-img-utils==1.2.0",)  # the last release on the CPP API
WORKFLOWS = Path(__file__).parent / "contract" / "cpp_workflows.py"
ROUTE = Path(__file__).parents[1] / "python" / "cloudpartner" / "testing" / "_route.py"
RUN_SECONDS = 90
P, O, LEGACY = "contoso", "contoso-virtualmachineoffer", "contoso-legacy"
SEEDED = {"2024.01.15": False, "2024.04.15": True, "2024.07.15": True}  # the oldest hidden
GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def cpp_python() -> Path:
    try:
        return venvs.client_python("cpp-clients", CPP_PINS)
    except venvs.InstallError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def portal() -> Any:
    with FakePortal(tokens=(), step_seconds=0.05) as started:
        started.add_offer(P, O, running=False)
        started.add_offer(P, LEGACY, running=False, migrated=False)
        yield started


def run(python: Path, portal: FakePortal | str, workflow: str) -> Any:
    """Run ``workflow`` against ``portal`` (a FakePortal, or the base URL of one in another process)."""
    base_url = portal if isinstance(portal, str) else portal.base_url
    env = {**os.environ, "FAKEPORTAL_URL": base_url, "FAKEPORTAL_ROUTE": str(ROUTE)}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [str(python), str(WORKFLOWS), workflow],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        env=env,
        check=False,
    )
    assert done.returncode == 0, f"{workflow} failed:\n{done.stderr[-6000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_img_utils_1_reads_the_offer_document(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_offer_document")
    assert (result["exists"], result["missing"]) == (True, False)  # the missing offer's 404 is the PC shim's
    assert (result["id"], result["migration"]) == (O, "migrated")
    assert result["versions"] == {"gen2": SEEDED, "gen1": SEEDED, "arm64": SEEDED}
    assert result["status"] == "neverPublished"


def test_img_utils_1_reads_the_offer_document_from_cloudpartner_serve(cpp_python: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "cloudpartner", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "FakePortal listening on http://127.0.0.1:<port> (Ctrl-C stops it)"
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        result = run(cpp_python, found.group(0), "img_utils_1_offer_document")
    finally:
        server.kill()
        server.wait(timeout=10)
    assert result["versions"] == {"gen2": SEEDED, "gen1": SEEDED, "arm64": SEEDED}
    assert result["status"] == "running"  # serve's offer has a publish in certification, to cancel


def test_img_utils_1_puts_the_offer_document_back(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_put_offer_document")
    assert result["displayText"] == "Contoso, edited"
    assert result["versions"] == {"gen2": SEEDED, "gen1": SEEDED, "arm64": SEEDED}
    (put,) = [r for r in portal.requests if r.method == "PUT"]
    assert put.headers["if-match"] == "*"


def test_img_utils_1_adds_a_vm_image_version_to_one_plan(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_add_image_version")
    assert result["versions"]["gen1"] == {**SEEDED, "2024.10.15": True}
    assert result["versions"]["gen2"] == result["versions"]["arm64"] == SEEDED  # the other plans as read
    added = result["added"]
    assert added["mediaName"] == "sles-v20241015" and added["publishedDate"] == "10/15/2024"
    assert added["osVhdUrl"].endswith("sig=new%3D") and added["lunVhdDetails"] == []


def test_img_utils_1_deprecates_a_version_and_removes_another(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_deprecate_and_remove_versions")
    assert result["logged"] == []  # the seeded mediaName is the one azure-img-utils derives the version from
    assert result["versions"]["gen2"] == {**SEEDED, "2024.04.15": False}
    assert result["versions"]["arm64"] == {"2024.04.15": True, "2024.07.15": True}
    assert result["versions"]["gen1"] == SEEDED


def test_img_utils_1_publishes_and_waits_for_the_review(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_publish_and_wait_for_review")
    # azure-img-utils reads Location and prefixes https://cloudpartner.azure.com: a relative path.
    operation = f"/api/publishers/{P}/offers/{O}/operations/{GUID}"
    assert re.fullmatch(operation + "\\?api-version=2017-10-31", result["location"])
    # FakePortal answers the review as the offer's own status, one of the values the "Retrieve
    # offer status" page lists. azure-img-utils also maps status "running" to it when the step
    # whose stepName is "publisher-signoff" waits (commit 0770850, 2021); the pages name that step
    # by its id, "publisher-signoff", with stepName "Publisher signoff", so that branch matches
    # no answer the pages show: the client's quirk, harmless here, not FakePortal's to copy.
    assert (result["first"], result["last"]) == ("running", "waitingForPublisherReview")
    (publish,) = [r for r in portal.requests if r.path.endswith("/publish")]
    assert publish.body == {"metadata": {"notification-emails": "release@contoso.example"}}


def test_img_utils_1_goes_live(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_go_live")
    assert result["location"].startswith(f"/api/publishers/{P}/offers/{O}/operations/")
    assert result["last"] == "succeeded"
    (go_live,) = [r for r in portal.requests if r.path.endswith("/golive")]
    assert go_live.raw_body == b""  # azure-img-utils posts no body (nor do the pages)


def test_img_utils_1_follows_the_operations(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_operations")
    assert result["publish"] == ["publish", "running"]
    assert result["signoff"] == "waitingForPublisherReview"
    assert result["go_live"] == ["golive", "succeeded"]


def test_img_utils_1_releases_on_an_offer_not_migrated(cpp_python: Path, portal: FakePortal) -> None:
    result = run(cpp_python, portal, "img_utils_1_release_on_an_offer_not_migrated")
    assert result["migration"] == "none"
    # The 2020 cancel page's shape for non-migrated offers, which get_operation reads as it is.
    assert result["publish"] == f"/api/operations/{P}${LEGACY}$1$preview?api-version=2017-10-31"
    assert result["operation"] == f"{P}${LEGACY}$1$preview"
    assert result["go_live"] == f"/api/operations/{P}${LEGACY}$2$production?api-version=2017-10-31"
    assert result["last"] == "succeeded"
