"""``cloudpartner ingestion ...``, run as a subprocess against a FakePortal in this process."""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER
from rawserver import RawServer, refused_port, reset
from test_cli import start_serve

BIN = os.path.dirname(sys.executable)
TOKEN = "graph-secret-Hq3Vn8Ld2P"  # distinctive: searched for in every output
CPP_TOKEN = "cpp-secret-Rb6Ty1Mk4W"
UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
GRAPH = "https://graph.microsoft.com"


# -- helpers -------------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any cloudpartner or proxy settings, plus `extra`."""
    drop = ("CLOUDPARTNER_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cloudpartner", "ingestion", *args]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        capture_output=True,
        text=True,
        env=clean_env(CLOUDPARTNER_INGESTION_TOKEN=TOKEN) if env is None else env,
        timeout=timeout,
        check=False,
    )


def at(portal: FakePortal, *args: str) -> list[str]:
    return [*args, "--base-url", portal.ingestion_url]


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cloudpartner: ")
    assert TOKEN not in done.stdout + done.stderr
    return lines[0]


def start_publish(portal: FakePortal, target: str = "preview") -> ingestion.Job:
    with ingestion.Client(TOKEN, base_url=portal.ingestion_url, timeout=5.0) as client:
        return client.publish(OFFER, target)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.1, publish_seconds=0.4) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False, plans=["plan-1"])  # nothing published yet
        yield fake


@pytest.fixture
def slow_portal() -> Iterator[FakePortal]:
    """A publish there runs for a minute: long enough to cancel it, or to time out waiting."""
    with FakePortal(job_seconds=0.1, publish_seconds=60) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False)
        yield fake


# -- products and submissions -------------------------------------------------------------------------


def test_product_by_offer_id_durable_id_and_guid(portal: FakePortal):
    expected = portal.product(OFFER)
    durable = expected["id"]
    for ref in (OFFER, durable, durable.removeprefix("product/")):
        done = run(*at(portal, "product", ref))
        assert done.returncode == 0, done.stderr
        assert durable in done.stdout and OFFER in done.stdout and "azureVirtualMachine" in done.stdout
    shown = run(*at(portal, "product", OFFER, "--json"))
    assert shown.returncode == 0, shown.stderr
    output = json.loads(shown.stdout)
    assert (output["id"], output["external_id"], output["type"]) == (durable, OFFER, "azureVirtualMachine")
    assert output["raw"]["identity"] == {"externalId": OFFER}
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in portal.requests)


def test_submissions_text_and_json(portal: FakePortal):
    done = run(*at(portal, "submissions", OFFER))
    assert done.returncode == 0, done.stderr
    (draft,) = portal.submissions(OFFER)
    assert draft["id"] in done.stdout and "draft" in done.stdout
    published = run(*at(portal, "publish", OFFER, "--target", "preview", "--wait", "--poll-interval", "0.05"))
    assert published.returncode == 0, published.stderr
    listed = run(*at(portal, "submissions", OFFER, "--json"))
    assert listed.returncode == 0, listed.stderr
    output = json.loads(listed.stdout)
    assert sorted(s["target"] for s in output) == ["draft", "preview"]
    preview = next(s for s in output if s["target"] == "preview")
    assert (preview["status"], preview["result"]) == ("completed", "succeeded")
    assert preview["product"] == portal.product(OFFER)["id"]
    assert preview["raw"]["id"] == preview["id"]
    assert preview["created"].endswith("+00:00")


def test_an_unknown_product_exits_3(portal: FakePortal):
    line = assert_one_line_error(run(*at(portal, "product", "no-such-offer")), 3)
    assert "NotFoundError" in line


@pytest.mark.parametrize("ref", ["bad offer", "product/not a guid", "product/a#b", ""])
def test_a_bad_product_reference_is_refused_before_sending(portal: FakePortal, ref: str):
    line = assert_one_line_error(run(*at(portal, "submissions", ref)), 2)
    assert "product" in line
    assert portal.requests == []


# -- publish ---------------------------------------------------------------------------------------------


def run_on_a_terminal(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal, as an interactive shell does; return (code, stdout, stderr)."""
    import pty

    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            command(*args),
            stdout=subprocess.PIPE,
            stderr=slave,
            text=True,
            env=clean_env(CLOUDPARTNER_INGESTION_TOKEN=TOKEN),
        )
        os.close(slave)
        slave = -1
        stdout, _ = process.communicate(timeout=timeout)
        chunks: list[bytes] = []
        for _ in range(1000):  # bounded: the child has exited, only what it wrote is left
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    return process.returncode, stdout, b"".join(chunks).decode(errors="replace")


def test_publish_preview_wait_shows_progress_on_a_terminal(portal: FakePortal):
    code, stdout, stderr = run_on_a_terminal(
        *at(portal, "publish", OFFER, "--target", "preview", "--wait", "--poll-interval", "0.05")
    )
    assert code == 0, stderr
    (job,) = portal.jobs()
    assert job["jobResult"] == "succeeded"
    assert f"publish of {OFFER} to preview started: job {job['jobId']}" in stdout
    assert f"job {job['jobId']} ended: succeeded" in stdout
    assert f"job {job['jobId']}: completed (succeeded)" in stderr  # the progress, rewritten in place
    assert "Traceback" not in stderr
    (configure,) = [r for r in portal.requests if r.method == "POST"]
    assert configure.path == "/rp/product-ingestion/configure"
    assert configure.body["resources"][0]["target"] == {"targetType": "preview"}


def test_publish_preview_then_live_wait_json(portal: FakePortal):
    preview = run(*at(portal, "publish", OFFER, "--target", "preview", "--wait", "--poll-interval", "0.05"))
    assert preview.returncode == 0, preview.stderr
    assert preview.stderr == ""  # not a terminal: no progress
    live = run(*at(portal, "publish", OFFER, "--target", "live", "--wait", "--json", "--poll-interval", "0.05"))
    assert live.returncode == 0, live.stderr
    output = json.loads(live.stdout)
    assert output["error"] is None
    job = output["job"]
    assert (job["status"], job["result"], job["errors"]) == ("completed", "succeeded", [])
    assert job["id"] == portal.jobs()[-1]["jobId"]
    assert job["raw"]["jobResult"] == "succeeded"
    assert "live" in {s["target"]["targetType"] for s in portal.submissions(OFFER)}


def test_publish_live_with_no_preview_is_refused_before_publishing(portal: FakePortal):
    line = assert_one_line_error(run(*at(portal, "publish", OFFER, "--target", "live")), 2)
    assert "preview" in line
    assert [r.method for r in portal.requests if r.method == "POST"] == []


def test_a_publish_that_fails_when_waited_exits_3(slow_portal: FakePortal):
    start_publish(slow_portal)  # still running: a second publish's job fails
    done = run(*at(slow_portal, "publish", OFFER, "--target", "preview", "--wait", "--poll-interval", "0.05"))
    line = assert_one_line_error(done, 3)
    assert "JobEndedError" in line and "failed" in line and "already exists" in line
    assert "ended: failed" in done.stdout
    as_json = run(
        *at(slow_portal, "publish", OFFER, "--target", "preview", "--wait", "--json", "--poll-interval", "0.05")
    )
    assert as_json.returncode == 3
    output = json.loads(as_json.stdout)
    assert output["job"]["result"] == "failed" and output["job"]["errors"]
    assert output["error"]["type"] == "JobEndedError"


def test_the_target_is_required_and_checked(portal: FakePortal):
    for args in (["publish", OFFER], ["publish", OFFER, "--target", "draft"]):
        done = run(*at(portal, *args))
        assert done.returncode == 2 and "Traceback" not in done.stderr and "--target" in done.stderr
    assert portal.requests == []


# -- cancel ------------------------------------------------------------------------------------------------


def test_cancel_of_a_running_publish(slow_portal: FakePortal):
    job = start_publish(slow_portal)
    done = run(*at(slow_portal, "cancel", job.id, "--json"))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert output["error"] is None
    assert (output["job"]["id"], output["job"]["status"], output["job"]["result"]) == (job.id, "completed", "cancelled")
    assert output["job"]["raw"]["jobId"] == job.id
    assert slow_portal.job(job.id)["jobResult"] == "cancelled"
    cancel = slow_portal.requests[-1]
    assert (cancel.method, cancel.path) == ("POST", f"/rp/product-ingestion/configure/{job.id}/cancel")


def test_cancel_wait_human_output(slow_portal: FakePortal):
    job = start_publish(slow_portal)
    done = run(*at(slow_portal, "cancel", job.id, "--wait", "--poll-interval", "0.05"))
    assert done.returncode == 0, done.stderr
    assert f"cancel sent: job {job.id}" in done.stdout
    assert f"job {job.id} ended: cancelled" in done.stdout


def test_cancel_of_a_completed_job_is_refused(portal: FakePortal):
    job = start_publish(portal)
    with ingestion.Client(TOKEN, base_url=portal.ingestion_url) as client:
        assert client.wait_job(job, timeout=10, poll_interval=0.05).succeeded
    line = assert_one_line_error(run(*at(portal, "cancel", job.id)), 3)
    assert line.startswith("cloudpartner: JobAlreadyCompletedError: 400")
    assert "it ended succeeded, nothing was cancelled" in line
    as_json = run(*at(portal, "cancel", job.id, "--json", "--wait"))
    assert_one_line_error(as_json, 3)
    output = json.loads(as_json.stdout)
    assert output["error"]["type"] == "JobAlreadyCompletedError" and output["error"]["status_code"] == 400
    assert (output["job"]["id"], output["job"]["result"]) == (job.id, "succeeded")
    assert portal.job(job.id)["jobResult"] == "succeeded"


@pytest.mark.parametrize("name", ["cancel", "job"])
def test_an_unknown_job_exits_3(portal: FakePortal, name: str):
    line = assert_one_line_error(run(*at(portal, name, UNKNOWN_JOB)), 3)
    assert "NotFoundError" in line and "404" in line


@pytest.mark.parametrize("job", ["bad/id", "../configure", "not a guid", ""])
@pytest.mark.parametrize("name", ["cancel", "job"])
def test_a_bad_job_id_is_refused_before_sending(portal: FakePortal, name: str, job: str):
    line = assert_one_line_error(run(*at(portal, name, job, "--wait")), 2)
    assert "job" in line
    assert portal.requests == []


# -- job -------------------------------------------------------------------------------------------------


def test_job_shows_the_state(slow_portal: FakePortal):
    job = start_publish(slow_portal)  # still running when the command asks, however slow it starts
    done = run(*at(slow_portal, "job", job.id))
    assert done.returncode == 0, done.stderr
    assert f"job {job.id}" in done.stdout and "ended:" not in done.stdout.replace("   ended: -", "")
    assert slow_portal.requests[-1].path == f"/rp/product-ingestion/configure/{job.id}/status"


def test_job_wait_with_a_short_poll_interval(portal: FakePortal):
    job = start_publish(portal)
    started = time.monotonic()
    done = run(*at(portal, "job", job.id, "--wait", "--json", "--poll-interval", "0.05"))
    assert time.monotonic() - started < 20
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert (output["job"]["id"], output["job"]["result"], output["error"]) == (job.id, "succeeded", None)
    polls = [r for r in portal.requests if r.path.endswith(f"/configure/{job.id}/status")]
    assert len(polls) >= 2


def test_job_wait_timeout_exits_5(slow_portal: FakePortal):
    job = start_publish(slow_portal)
    started = time.monotonic()
    human = run(*at(slow_portal, "job", job.id, "--wait", "--timeout", "0.3", "--poll-interval", "0.05"))
    line = assert_one_line_error(human, 5)
    assert "WaitTimeoutError" in line
    as_json = run(*at(slow_portal, "job", job.id, "--wait", "--json", "--timeout", "0.3", "--poll-interval", "0.05"))
    assert as_json.returncode == 5
    output = json.loads(as_json.stdout)
    assert output["error"]["type"] == "WaitTimeoutError"
    assert output["job"]["id"] == job.id and output["job"]["result"] == "pending"
    assert time.monotonic() - started < 20


def test_the_api_version_is_sent_and_checked(portal: FakePortal):
    done = run(*at(portal, "product", OFFER, "--api-version", "2023-07-15"))
    assert done.returncode == 0, done.stderr
    assert portal.requests[-1].query["$version"] == "2023-07-15"
    before = len(portal.requests)
    assert_one_line_error(run(*at(portal, "product", OFFER, "--api-version", "bogus")), 2)
    assert len(portal.requests) == before
    assert_one_line_error(run(*at(portal, "product", OFFER, "--api-version", "2099-01-01")), 3)


# -- failures ------------------------------------------------------------------------------------------


def test_server_errors_exit_4(portal: FakePortal):
    portal.fail_next(10, 503, service="ingestion")
    line = assert_one_line_error(run(*at(portal, "product", OFFER)), 4)
    assert "503" in line


def test_a_refused_port_exits_4():
    done = run("job", UNKNOWN_JOB, "--base-url", f"http://127.0.0.1:{refused_port()}/rp/product-ingestion")
    assert_one_line_error(done, 4)


# -- the token -------------------------------------------------------------------------------------------


def test_missing_token_for_a_remote_service_is_a_usage_error():
    # Anything sent would go to this proxy: it must see no connection at all.
    with RawServer(reset()) as proxy:
        env = clean_env(HTTPS_PROXY=proxy.base_url, https_proxy=proxy.base_url, ALL_PROXY=proxy.base_url)
        env["CLOUDPARTNER_TOKEN"] = CPP_TOKEN  # the CPP API's token is not the ingestion API's
        for args in (["product", OFFER], ["job", UNKNOWN_JOB], ["publish", OFFER, "--target", "preview"]):
            line = assert_one_line_error(run(*args, env=env), 2)  # the default base URL: the real service
            assert "CLOUDPARTNER_INGESTION_TOKEN" in line
            assert CPP_TOKEN not in line
        env["CLOUDPARTNER_INGESTION_BASE_URL"] = "https://graph.example/rp/product-ingestion"
        assert "CLOUDPARTNER_INGESTION_TOKEN" in assert_one_line_error(run("product", OFFER, env=env), 2)
        time.sleep(0.1)
        assert proxy.connections == 0


def test_the_base_url_variable_is_the_default(portal: FakePortal):
    env = clean_env(CLOUDPARTNER_INGESTION_TOKEN=TOKEN, CLOUDPARTNER_INGESTION_BASE_URL=portal.ingestion_url)
    done = run("product", OFFER, env=env)
    assert done.returncode == 0, done.stderr
    assert portal.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_only_the_ingestion_token_is_accepted():
    with FakePortal(tokens=[CPP_TOKEN], ingestion_tokens=[TOKEN]) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False)
        wrong = clean_env(CLOUDPARTNER_INGESTION_TOKEN=CPP_TOKEN)
        line = assert_one_line_error(run(*at(fake, "product", OFFER), env=wrong), 3)
        assert "AuthenticationError" in line and CPP_TOKEN not in line
        assert run(*at(fake, "product", OFFER)).returncode == 0


def test_the_token_file_wins_and_is_never_printed(portal: FakePortal, tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-Xc5Jm\n")
    done = run(*at(portal, "product", OFFER, "--token-file", str(token_file)))
    assert done.returncode == 0, done.stderr
    assert portal.requests[-1].headers["authorization"] == "Bearer file-token-Xc5Jm"
    assert "file-token-Xc5Jm" not in done.stdout + done.stderr
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "--token-file" in assert_one_line_error(run(*at(portal, "product", OFFER, "--token-file", str(empty))), 2)


def test_az_is_asked_for_a_graph_token(portal: FakePortal, tmp_path: Path):
    asked = tmp_path / "asked"
    fake_az = tmp_path / "az"
    fake_az.write_text(f'#!/bin/sh\necho "$@" > {asked}\necho {TOKEN}\n')
    fake_az.chmod(0o755)
    env = clean_env(PATH=f"{tmp_path}{os.pathsep}{BIN}", CLOUDPARTNER_INGESTION_TOKEN="not-this-one")
    done = run(*at(portal, "product", OFFER, "--az"), env=env)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    expected = ["account", "get-access-token", "--resource", GRAPH, "--query", "accessToken", "-o", "tsv"]
    assert asked.read_text().split() == expected
    assert portal.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_az_without_the_azure_cli_is_a_usage_error(portal: FakePortal):
    assert shutil.which("az", path=BIN) is None
    line = assert_one_line_error(run(*at(portal, "job", UNKNOWN_JOB, "--az"), env=clean_env(PATH=BIN)), 2)
    assert "az" in line and "PATH" in line
    assert portal.requests == []


# -- serve and help --------------------------------------------------------------------------------------


def test_serve_prints_the_ingestion_url():
    port = refused_port()
    process = start_serve("--port", str(port))
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{port}"
        assert url in lines.get(timeout=20)  # the first line is unchanged: the CPP API's URL
        ingestion_url = f"{url}/rp/product-ingestion"
        printed = [lines.get(timeout=10) for _ in range(5)]
        assert any(ingestion_url in line for line in printed), printed
        done = run("product", "contoso-saasoffer", "--base-url", ingestion_url, "--json", env=clean_env())
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["external_id"] == "contoso-saasoffer"
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        err = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err


def test_help_names_the_commands_and_exit_codes():
    top = run("--help")
    assert top.returncode == 0
    for name in ("cancel", "job", "publish", "submissions", "product"):
        assert name in top.stdout
    assert "JobAlreadyCompletedError" in top.stdout and "CLOUDPARTNER_INGESTION_TOKEN" in top.stdout
    publish = run("publish", "--help")
    assert "--api-version" in publish.stdout and "--poll-interval" in publish.stdout and "(default 60" in publish.stdout
    assert (
        "ingestion"
        in subprocess.run(
            [sys.executable, "-m", "cloudpartner", "--help"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    )


def test_no_ingestion_command_is_a_usage_error():
    done = run()
    assert done.returncode == 2 and "Traceback" not in done.stderr
