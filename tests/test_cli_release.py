"""``cloudpartner release`` and ``cloudpartner deprecate``, run as subprocesses against a FakePortal in this process."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import PUBLISHER, TOKEN
from test_cli import WITH_SIGINT, assert_one_line_error, clean_env, run

OFFER = "cli-release-offer"
PLAN = "gen2"
VERSION = "2026.12.01"  # a version no offer FakePortal seeds holds
SAS = "https://contoso.blob.core.windows.net/vhds/contoso.vhd?sv=2021-08-06&sr=b&sp=r&sig=CLI%2BSECRET%3D"
FAST = ["--poll-interval", "0.01", "--timeout", "30"]


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(step_seconds=0.05, cancel_seconds=0.05) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False, plans=("gen1", PLAN))
        yield fake


def release(
    portal: FakePortal, *extra: str, version: str = VERSION, sas: str = SAS
) -> subprocess.CompletedProcess[str]:
    done = run("release", PUBLISHER, OFFER, PLAN, version, "--vhd", sas, "--base-url", portal.base_url, *FAST, *extra)
    assert "SECRET" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def writes(portal: FakePortal) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in portal.requests if r.method != "GET"]


def test_release_with_wait_goes_live_telling_each_step_on_stderr(portal: FakePortal) -> None:
    done = release(portal, "--wait", "--email", "jondoe@contoso.com")
    assert done.returncode == 0, done.stderr
    assert f"{OFFER}/{PLAN} {VERSION}: released to live" in done.stdout
    steps = [line.split()[1:3] for line in done.stderr.splitlines()]
    assert ["add:", "done"] in steps
    assert ["preview:", "running"] in steps
    assert ["live:", "done"] in steps
    assert all(line.startswith("cloudpartner: ") for line in done.stderr.splitlines())
    assert writes(portal) == [OFFER, "publish", "golive"]
    portal.clear_requests()
    again = release(portal, "--wait")
    assert again.returncode == 0
    assert "already at live; nothing sent" in again.stdout
    assert writes(portal) == []


def test_release_without_wait_returns_once_the_next_operation_started_and_each_run_goes_on(portal: FakePortal) -> None:
    first = release(portal)
    assert first.returncode == 0, first.stderr
    assert "preview under way (operation " in first.stdout
    assert writes(portal) == [OFFER, "publish"]
    publish = portal.operations(PUBLISHER, OFFER)[0]["id"]
    assert publish in first.stdout
    # Until the publish waits for review, a run follows it; then it takes it live.
    second = release(portal, "--target", "preview", "--wait")
    assert second.returncode == 0, second.stderr
    assert "released to preview" in second.stdout
    third = release(portal)
    assert "live under way" in third.stdout
    assert writes(portal) == [OFFER, "publish", "golive"]


def test_release_json_prints_the_release_and_the_error(portal: FakePortal) -> None:
    done = release(portal, "--wait", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert [(s["name"], s["outcome"]) for s in printed["release"]["steps"]] == [
        ("add", "done"),
        ("preview", "done"),
        ("live", "done"),
    ]
    assert printed["error"] is None
    portal.add_offer(PUBLISHER, OFFER, running=True)  # another publish runs now
    conflict = release(portal, "--wait", "--json", version="2026.12.02")
    assert conflict.returncode == 4, conflict.stderr
    assert json.loads(conflict.stdout)["error"]["type"] == "SubmissionConflictError"


@pytest.mark.parametrize(
    ("version", "sas", "shown"),
    [
        ("2024.01", SAS, '"2024.01" is not a version number'),
        (VERSION, SAS.replace("https:", "http:"), "is not an https URL"),
        (VERSION, SAS.split("&sig=", maxsplit=1)[0], "has no signature"),
    ],
)
def test_release_refuses_bad_input_in_one_line_before_sending_anything(
    portal: FakePortal, version: str, sas: str, shown: str
) -> None:
    portal.clear_requests()
    line = assert_one_line_error(release(portal, version=version, sas=sas), 2)
    assert shown in line
    assert portal.requests == []


def test_release_of_an_unknown_plan_lists_the_plans(portal: FakePortal) -> None:
    done = run("release", PUBLISHER, OFFER, "gen3", VERSION, "--vhd", SAS, "--base-url", portal.base_url)
    line = assert_one_line_error(done, 3)
    assert 'NotFoundError: 404 Not Found: the offer has no plan "gen3"; its plans: gen1, gen2' in line
    assert writes(portal) == []


def test_deprecate_hides_a_version_and_refuses_the_last_one(portal: FakePortal) -> None:
    base = ["--base-url", portal.base_url]
    with cloudpartner.Client(TOKEN, base_url=portal.base_url) as client:  # a plan with no version yet
        client.put_offer(PUBLISHER, OFFER, {"definition": {"plans": [{"planId": PLAN}]}}, if_match="*")
    assert release(portal, "--target", "draft").returncode == 0
    last = assert_one_line_error(run("deprecate", PUBLISHER, OFFER, PLAN, VERSION, *base), 2)
    assert "Deprecate the plan or the offer instead" in last
    assert release(portal, "--target", "draft", version="2026.12.02").returncode == 0
    done = run("deprecate", PUBLISHER, OFFER, PLAN, VERSION, *base)
    assert done.returncode == 0, done.stderr
    assert f"hid {OFFER}/{PLAN} {VERSION}" in done.stdout
    again = run("deprecate", PUBLISHER, OFFER, PLAN, VERSION, *base, "--json")
    assert json.loads(again.stdout) == {"changed": False, "etag": None}


def test_ctrl_c_while_publishing_names_the_operation_and_how_to_cancel_it() -> None:
    with FakePortal(step_seconds=5) as slow:
        slow.add_offer(PUBLISHER, OFFER, running=False, plans=(PLAN,))
        command = ["release", PUBLISHER, OFFER, PLAN, VERSION, "--vhd", SAS, "--base-url", slow.base_url, "--wait"]
        process = subprocess.Popen(
            [sys.executable, "-c", WITH_SIGINT, *command, "--poll-interval", "0.05"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.put(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while "preview: running (job " not in lines.get(timeout=20):
                pass
            process.send_signal(signal.SIGINT)
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        reader.join(10)
        rest = "".join(lines.queue)
        publish = slow.operations(PUBLISHER, OFFER)[0]["id"]
    assert process.returncode == 130, rest
    assert f"operation {publish} keeps running" in rest
    assert f"cloudpartner cancel {PUBLISHER} {OFFER}" in rest
    assert "Traceback" not in rest
    assert "SECRET" not in rest


def test_release_data_disks_get_luns_in_the_order_given(portal: FakePortal) -> None:
    disks = [SAS.replace("contoso.vhd", f"data{n}.vhd") for n in range(2)]
    done = release(portal, "--target", "draft", "--data-disk", disks[0], "--data-disk", disks[1], "--label", "L")
    assert done.returncode == 0, done.stderr
    (put,) = [r for r in portal.requests if r.method == "PUT"]
    plan = next(p for p in json.loads(put.raw_body)["definition"]["plans"] if p["planId"] == PLAN)
    entry = plan["microsoft-azure-corevm.vmImagesPublicAzure"][VERSION]
    assert entry["lunVhdDetails"] == [{"lun": 0, "uri": disks[0]}, {"lun": 1, "uri": disks[1]}]
    assert entry["label"] == "L"
