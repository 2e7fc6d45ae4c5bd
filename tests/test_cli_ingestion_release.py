"""``cloudpartner ingestion release``, ``deprecate`` and ``wait-idle``, run as subprocesses against a
FakePortal (or a scripted server) in this process."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cloudpartner.testing import FakePortal
from rawserver import RawServer
from test_cli_ingestion import TOKEN, at, clean_env, command, run
from test_release_ingestion import SAS, scripted

OFFER, PLAN = "contoso-offer", "gen2"
QUICK = ("--poll-interval", "0.02", "--timeout", "30")


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.05, publish_seconds=0.2) as fake:
        fake.add_product(OFFER, plans=[PLAN])
        yield fake


def no_secret(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert TOKEN not in output and "SeCrEt" not in output and "Traceback" not in output, output


def test_a_release_with_wait_goes_live_telling_each_step_on_stderr_and_again_sends_nothing(portal: FakePortal) -> None:
    done = run(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, "--wait", *QUICK))
    assert done.returncode == 0, done.stderr
    no_secret(done)
    lines = done.stderr.strip().splitlines()
    assert all(line.startswith("cloudpartner: ") for line in lines)
    assert len(lines) == len(set(lines))  # one line per step and job state
    for step in ("add: done", "preview: done", "live: done"):
        assert any(step in line for line in lines), lines
    assert "live       done" in done.stdout
    again = run(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, "--wait", "--json", *QUICK))
    assert again.returncode == 0, again.stderr
    answer = json.loads(again.stdout)
    assert answer["error"] is None
    assert {s["name"]: s["outcome"] for s in answer["release"]["steps"]} == {
        "add": "already-done",
        "preview": "already-done",
        "live": "already-done",
    }


def test_a_release_without_wait_stops_once_a_job_started_and_running_it_again_continues(portal: FakePortal) -> None:
    first = run(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, *QUICK))
    assert first.returncode == 0, first.stderr
    assert "started, not followed" in first.stdout and "cloudpartner ingestion job " in first.stdout
    no_secret(first)
    time.sleep(0.3)
    second = run(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, "--target", "draft", "--json", *QUICK))
    steps = {s["name"]: s["outcome"] for s in json.loads(second.stdout)["release"]["steps"]}
    assert steps == {"add": "already-done"}


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("1.0", "--sas", SAS), '"1.0"'),
        (("1.0.0", "--sas", SAS.replace("https:", "http:")), "http://contoso"),
        (("1.0.0", "--gallery-image", "/subscriptions/x"), "/subscriptions/x"),
    ],
)
def test_bad_input_exits_2_naming_the_value_with_nothing_sent(
    portal: FakePortal, args: tuple[str, ...], named: str
) -> None:
    done = run(*at(portal, "release", OFFER, PLAN, *args, *QUICK))
    assert done.returncode == 2, done.stderr
    assert named in done.stderr
    no_secret(done)
    assert portal.requests == []


def test_an_unknown_image_type_and_both_sources_are_usage_errors(portal: FakePortal) -> None:
    for extra in (("--image-type", "x64Gen3"), ("--gallery-image", "/subscriptions/x")):
        done = run(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, *extra))
        assert done.returncode == 2, done.stderr
        no_secret(done)
    assert portal.requests == []


@pytest.mark.parametrize(
    ("errors", "code", "kind"),
    [
        (
            [{"code": "internalServerError", "message": "An In Progress submission 7 already exists."}],
            4,
            "SubmissionConflictError",
        ),
        ([{"code": "invalidState", "message": "The image failed certification."}], 3, "CertificationFailedError"),
    ],
)
def test_a_failed_job_exits_with_its_code(errors: list[dict[str, Any]], code: int, kind: str) -> None:
    route, _ = scripted({"jobStatus": "completed", "jobResult": "failed", "errors": errors})
    with RawServer(route) as srv:
        done = run(
            "release",
            OFFER,
            PLAN,
            "1.0.0",
            "--sas",
            SAS,
            "--target",
            "preview",
            "--wait",
            "--base-url",
            srv.base_url,
            *QUICK,
        )
    assert done.returncode == code, done.stderr
    assert f"cloudpartner: {kind}: " in done.stderr
    no_secret(done)


def test_ctrl_c_during_a_release_prints_the_running_job_and_how_to_cancel_it() -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=60) as portal:
        portal.add_product(OFFER, plans=[PLAN])
        process = subprocess.Popen(
            command(*at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, "--wait", *QUICK)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(CLOUDPARTNER_INGESTION_TOKEN=TOKEN),
        )
        try:
            for _ in range(300):  # bounded: until the publish to preview has started
                if any(j.get("jobStatus") != "completed" and len(portal.jobs()) >= 2 for j in portal.jobs()):
                    break
                time.sleep(0.05)
            time.sleep(0.3)
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        publish = portal.jobs()[-1]["jobId"]
    assert process.returncode == 130, err
    assert f"cancel it with: cloudpartner ingestion cancel {publish}" in err
    assert "Traceback" not in err and "SeCrEt" not in err


def test_deprecate_and_wait_idle(portal: FakePortal) -> None:
    assert (
        run(
            *at(portal, "release", OFFER, PLAN, "1.0.0", "--sas", SAS, "--target", "draft", "--wait", *QUICK)
        ).returncode
        == 0
    )
    done = run(
        *at(portal, "deprecate", OFFER, PLAN, "1.0.0", "--date", "2026-12-31", "--reason", "other", "--wait", *QUICK)
    )
    assert done.returncode == 0, done.stderr
    assert "deprecation of 1.0.0 started" in done.stdout and "ended: succeeded" in done.stdout
    idle = run(*at(portal, "wait-idle", OFFER, *QUICK))
    assert idle.returncode == 0 and "no submission running" in idle.stdout, idle.stderr
    missing = run(*at(portal, "deprecate", OFFER, PLAN, "9.9.9", "--date", "2026-12-31", "--reason", "other"))
    assert missing.returncode == 3 and "its versions: 1.0.0" in missing.stderr


def test_help_names_the_release_commands() -> None:
    top = run("--help")
    for name in ("release", "deprecate", "wait-idle"):
        assert name in top.stdout
