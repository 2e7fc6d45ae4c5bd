"""The ``cloudpartner`` command line, run as a subprocess against a FakePortal in this process."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER
from rawserver import RawServer, refused_port, reset, response

BIN = os.path.dirname(sys.executable)
SCRIPT = shutil.which("cloudpartner", path=BIN)
ENV_TOKEN = "env-secret-Zq7Kp2Lm9X"  # distinctive: searched for in every output
FILE_TOKEN = "file-secret-Wv4Rt8Ny3C"
IDLE_OFFER = "idle-offer"


# -- helpers -------------------------------------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any cloudpartner or proxy settings, plus `extra`."""
    drop = ("CLOUDPARTNER_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(drop)}
    env.update(extra)
    return env


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30, script: bool = False
) -> subprocess.CompletedProcess[str]:
    command = [SCRIPT] if script else [sys.executable, "-m", "cloudpartner"]
    assert command[0]
    return subprocess.run(
        [*command, *args],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cloudpartner: ")
    return lines[0]


def assert_usage_error(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip()


def service(portal: FakePortal, *args: str) -> list[str]:
    return [*args, "--base-url", portal.base_url]


def location_of(portal: FakePortal, operation_id: str) -> str:
    return f"{portal.base_url}/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/{operation_id}"


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    # conflict_when_idle: the 409 branch is tested on IDLE_OFFER (the service itself answers 202).
    with FakePortal(cancel_seconds=0.3, conflict_when_idle=True) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        fake.add_offer(PUBLISHER, IDLE_OFFER, running=False)
        yield fake


def test_the_console_script_is_installed():
    assert SCRIPT is not None and os.path.dirname(SCRIPT) == BIN


# -- cancel ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("script", [False, True], ids=["module", "script"])
def test_cancel_prints_the_operation_location(portal: FakePortal, script: bool):
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, "--email", "a@contoso.com"), script=script)
    assert done.returncode == 0, done.stderr
    (operation,) = portal.operations(PUBLISHER, OFFER)
    assert location_of(portal, operation["id"]) in done.stdout
    assert "202" in done.stdout
    (request,) = portal.requests
    assert (request.method, request.path) == ("POST", f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel")
    assert request.body == {"metadata": {"notification-emails": "a@contoso.com"}}
    assert operation["cancellationRequestState"] == "Requested"
    assert operation["notificationEmails"] == "a@contoso.com"


def test_cancel_with_several_emails(portal: FakePortal):
    emails = ("--email", "a@contoso.com", "--email", "b@contoso.com")
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, *emails))
    assert done.returncode == 0, done.stderr
    assert portal.requests[-1].body == {"metadata": {"notification-emails": "a@contoso.com,b@contoso.com"}}


@pytest.mark.parametrize("script", [False, True], ids=["module", "script"])
def test_cancel_json(portal: FakePortal, script: bool):
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, "--json"), script=script)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    (operation,) = portal.operations(PUBLISHER, OFFER)
    assert output["operation"] is None
    result = output["result"]
    assert result["status_code"] == 202
    assert (result["publisher"], result["offer"]) == (PUBLISHER, OFFER)
    assert result["operation_id"] == operation["id"]
    assert result["operation_location"] == location_of(portal, operation["id"])
    assert result["client_request_id"] == portal.requests[-1].headers["x-ms-client-request-id"]
    assert portal.requests[-1].body == {"metadata": {}}


def test_cancel_wait_json_follows_to_canceled(portal: FakePortal):
    args = service(portal, "cancel", PUBLISHER, OFFER, "--wait", "--json", "--poll-interval", "0.05")
    done = run(*args)
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    (expected,) = portal.operations(PUBLISHER, OFFER)
    assert output["result"]["status_code"] == 202
    operation = output["operation"]
    assert operation["status"] == "canceled"
    assert operation["id"] == expected["id"]
    assert [step["name"] for step in operation["steps"]] == [s["stepName"] for s in expected["steps"]]
    assert expected["version"] > 2**53
    assert operation["raw"]["version"] == expected["version"]
    assert type(operation["raw"]["version"]) is int
    assert operation["created"].endswith("+00:00")
    assert len([r for r in portal.requests if r.method == "GET"]) >= 2


def test_cancel_wait_human_output(portal: FakePortal):
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, "--wait", "--poll-interval", "0.05"))
    assert done.returncode == 0, done.stderr
    (expected,) = portal.operations(PUBLISHER, OFFER)
    assert f"operation {expected['id']} ended: canceled" in done.stdout


def test_cancel_of_a_sync_portal_with_wait():
    with FakePortal(sync_cancel=True) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        done = run(*service(fake, "cancel", PUBLISHER, OFFER, "--wait", "--json"))
        assert done.returncode == 0, done.stderr
        output = json.loads(done.stdout)
        assert output["result"]["status_code"] == 200
        assert output["operation"] is None
        assert [r.method for r in fake.requests] == ["POST"]


# -- operations and operation ----------------------------------------------------------------------------


def test_operations_json(portal: FakePortal):
    done = run(*service(portal, "operations", PUBLISHER, OFFER, "--json"))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    expected = portal.operations(PUBLISHER, OFFER)
    assert [op["id"] for op in output] == [op["id"] for op in expected]
    assert output[0]["status"] == "running"
    assert output[0]["submission_type"] == "publish"
    assert output[0]["raw"]["version"] == expected[0]["version"]
    assert portal.requests[-1].path == f"/api/publishers/{PUBLISHER}/offers/{OFFER}/submissions"


@pytest.mark.parametrize(("status", "count"), [("running", 1), ("canceled", 0)])
def test_operations_with_a_status(portal: FakePortal, status: str, count: int):
    done = run(*service(portal, "operations", PUBLISHER, OFFER, "--status", status, "--json"))
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    assert len(output) == count
    assert all(op["status"] == status for op in output)
    assert portal.requests[-1].query["status"] == status


def test_operations_human_output(portal: FakePortal):
    done = run(*service(portal, "operations", PUBLISHER, OFFER))
    assert done.returncode == 0, done.stderr
    (expected,) = portal.operations(PUBLISHER, OFFER)
    assert expected["id"] in done.stdout and "running" in done.stdout
    empty = run(*service(portal, "operations", PUBLISHER, IDLE_OFFER))
    assert empty.returncode == 0, empty.stderr
    assert "no operations" in empty.stdout


def test_operations_with_a_bad_status_is_a_usage_error(portal: FakePortal):
    done = run(*service(portal, "operations", PUBLISHER, OFFER, "--status", "a&b"))
    assert_one_line_error(done, 2)
    assert portal.requests == []


@pytest.mark.parametrize("style", ["absolute", "relative", "non-migrated"])
def test_operation_json_by_location(style: str):
    with FakePortal(cancel_seconds=30, location_style=style) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client("any-token", base_url=fake.base_url, timeout=5.0) as client:
            result = client.cancel(PUBLISHER, OFFER)
        assert result.operation_location
        done = run(*service(fake, "operation", result.operation_location, "--json"))
        assert done.returncode == 0, done.stderr
        output = json.loads(done.stdout)
        assert output["id"] == result.operation_id
        assert output["status"] == "running"
        assert output["raw"]["cancellationRequestState"] == "Requested"
        # the human form lists the steps
        human = run(*service(fake, "operation", result.operation_location))
        assert human.returncode == 0, human.stderr
        assert result.operation_id in human.stdout and "Certification" in human.stdout


def test_operation_on_another_host_is_refused(portal: FakePortal):
    done = run(*service(portal, "operation", "https://evil.example/api/operations/x"))
    assert_one_line_error(done, 2)
    assert portal.requests == []


# -- serve and demo ----------------------------------------------------------------------------------------


def test_demo():
    done = run("demo", timeout=60)
    assert done.returncode == 0, done.stderr
    assert "canceled" in done.stdout
    assert "Traceback" not in done.stderr


# A shell that starts a job in the background without job control has it ignore SIGINT, and a
# child inherits that: Python then installs no KeyboardInterrupt handler. The server is started as
# a terminal starts it, with Python's own SIGINT handler.
WITH_SIGINT = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('cloudpartner', run_name='__main__', alter_sys=True)"
)


def start_serve(*args: str) -> subprocess.Popen[str]:
    """`cloudpartner serve ARGS` in a subprocess that Ctrl-C (SIGINT) stops."""
    return subprocess.Popen(
        [sys.executable, "-c", WITH_SIGINT, "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )


def test_serve_answers_and_stops_on_sigint():
    port = refused_port()
    process = start_serve("--port", str(port), "--cancel-seconds", "0.3")
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        first = lines.get(timeout=20)
        url = f"http://127.0.0.1:{port}"
        assert url in first
        with cloudpartner.Client("any-token", base_url=url, timeout=5.0) as client:
            result = client.cancel("contoso", "contoso-virtualmachineoffer")
            assert result.status_code == 202
            final = client.wait(result, timeout=10, poll_interval=0.05)
            assert final is not None and final.canceled
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        err = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err


# -- exit codes ------------------------------------------------------------------------------------------


def test_unknown_command_is_a_usage_error():
    assert_usage_error(run("frobnicate"))


def test_no_command_is_a_usage_error():
    assert_usage_error(run())


def test_bad_timeout_value_is_a_usage_error(portal: FakePortal):
    assert_usage_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--wait", "--timeout", "abc")))
    assert portal.requests == []


def test_token_on_the_command_line_is_not_an_option(portal: FakePortal):
    assert_usage_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--token", "x")))
    assert portal.requests == []


@pytest.mark.parametrize("offer", ["bad/offer", "", "bad offer"])
def test_invalid_offer_is_a_usage_error(portal: FakePortal, offer: str):
    line = assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, offer)), 2)
    assert "offer" in line
    assert portal.requests == []


def test_invalid_email_is_a_usage_error(portal: FakePortal):
    assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--email", "not-an-address")), 2)
    assert portal.requests == []


def test_negative_wait_timeout_is_a_usage_error(portal: FakePortal):
    assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--wait", "--timeout", "-1")), 2)


def test_missing_token_for_a_remote_service_is_a_usage_error():
    # Anything sent would go to this proxy: it must see no connection at all.
    with RawServer(reset()) as proxy:
        env = clean_env(HTTPS_PROXY=proxy.base_url, https_proxy=proxy.base_url, ALL_PROXY=proxy.base_url)
        for command in (
            ["cancel", PUBLISHER, OFFER],
            ["operations", PUBLISHER, OFFER],
            ["operation", "/api/operations/x"],
        ):
            done = run(*command, "--base-url", "https://cloudpartner.azure.com", env=env)
            line = assert_one_line_error(done, 2)
            assert "CLOUDPARTNER_TOKEN" in line
        # the default base URL is the real service too
        assert_one_line_error(run("cancel", PUBLISHER, OFFER, env=env), 2)
        time.sleep(0.1)
        assert proxy.connections == 0


@pytest.mark.parametrize("kind", ["missing", "directory", "empty"])
def test_unreadable_token_file_is_a_usage_error(portal: FakePortal, tmp_path: Path, kind: str):
    path = tmp_path / "token"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("  \n")
    line = assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--token-file", str(path))), 2)
    assert "--token-file" in line
    assert portal.requests == []


@pytest.mark.parametrize("script", [False, True], ids=["module", "script"])
def test_not_found_exits_3(portal: FakePortal, script: bool):
    done = run(*service(portal, "cancel", PUBLISHER, "no-such-offer"), script=script)
    line = assert_one_line_error(done, 3)
    assert "404" in line or "NotFound" in line


def test_conflict_exits_3(portal: FakePortal):
    line = assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, IDLE_OFFER)), 3)
    assert "409" in line or "Conflict" in line


def test_unknown_operation_exits_3(portal: FakePortal):
    done = run(*service(portal, "operation", f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/nope"))
    assert_one_line_error(done, 3)


def test_unauthorized_exits_3():
    with FakePortal(tokens=["the-only-token"]) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        done = run(*service(fake, "cancel", PUBLISHER, OFFER), env=clean_env(CLOUDPARTNER_TOKEN="wrong-token"))
        assert_one_line_error(done, 3)


def test_server_error_exits_4(portal: FakePortal):
    portal.fail_next(10, 503)
    done = run(*service(portal, "cancel", PUBLISHER, OFFER), env=clean_env(CLOUDPARTNER_TOKEN=ENV_TOKEN))
    line = assert_one_line_error(done, 4)
    assert "503" in line
    assert ENV_TOKEN not in done.stdout + done.stderr
    assert 1 <= len(portal.requests) <= 10


def test_throttled_exits_4(portal: FakePortal):
    portal.fail_next(10, 429, retry_after=0)
    assert_one_line_error(run(*service(portal, "operations", PUBLISHER, OFFER)), 4)


def test_refused_port_exits_4():
    env = clean_env(CLOUDPARTNER_TOKEN=ENV_TOKEN)
    done = run("cancel", PUBLISHER, OFFER, "--base-url", f"http://127.0.0.1:{refused_port()}", env=env)
    assert_one_line_error(done, 4)
    assert ENV_TOKEN not in done.stdout + done.stderr


def test_wait_timeout_exits_5(slow_portal: FakePortal):
    started = time.monotonic()
    args = service(slow_portal, "cancel", PUBLISHER, OFFER, "--wait", "--timeout", "0.3", "--poll-interval", "0.05")
    done = run(*args)
    assert time.monotonic() - started < 15
    line = assert_one_line_error(done, 5)
    assert "WaitTimeoutError" in line or "0.3" in line


# -- the token -------------------------------------------------------------------------------------------


TOKEN_OFFERS = (OFFER, "second-offer", "third-offer")


def token_commands(portal: FakePortal, location: str) -> list[list[str]]:
    """Commands that succeed and commands that fail, each of which is given the token."""
    first, second, third = TOKEN_OFFERS
    return [
        service(portal, "cancel", PUBLISHER, first, "--email", "a@contoso.com"),
        service(portal, "cancel", PUBLISHER, second, "--json"),
        service(portal, "cancel", PUBLISHER, third, "--wait", "--json", "--poll-interval", "0.05"),
        service(portal, "operations", PUBLISHER, first),
        service(portal, "operations", PUBLISHER, third, "--json", "--status", "canceled"),
        service(portal, "operation", location, "--json"),
        service(portal, "operation", location),
        service(portal, "cancel", PUBLISHER, "no-such-offer"),  # 404
        service(portal, "cancel", PUBLISHER, IDLE_OFFER, "--json"),  # 409
        service(portal, "cancel", PUBLISHER, "bad/offer"),  # usage
        service(portal, "operation", "https://evil.example/api/operations/x"),  # refused location
    ]


def check_token_never_printed(env: dict[str, str], extra: list[str], sent: str) -> None:
    with FakePortal(cancel_seconds=0.3, conflict_when_idle=True) as portal:
        for offer in TOKEN_OFFERS:
            portal.add_offer(PUBLISHER, offer)
        portal.add_offer(PUBLISHER, IDLE_OFFER, running=False)
        (operation,) = portal.operations(PUBLISHER, OFFER)
        location = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/{operation['id']}"
        codes = []
        for command in token_commands(portal, location):
            done = run(*command, *extra, env=env)
            codes.append(done.returncode)
            for secret in (ENV_TOKEN, FILE_TOKEN):
                assert secret not in done.stdout, command
                assert secret not in done.stderr, command
            assert "Traceback" not in done.stderr
        received = {r.headers.get("authorization") for r in portal.requests}
        (waited,) = portal.operations(PUBLISHER, TOKEN_OFFERS[2])
    assert codes == [0, 0, 0, 0, 0, 0, 0, 3, 3, 2, 2]
    assert waited["status"] == "canceled"
    assert received == {f"Bearer {sent}"}


def test_the_environment_token_is_sent_and_never_printed():
    check_token_never_printed(clean_env(CLOUDPARTNER_TOKEN=ENV_TOKEN), [], ENV_TOKEN)


def test_the_token_file_is_sent_and_never_printed(tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text(FILE_TOKEN + "\n")
    # the file wins over the variable, and neither is printed
    env = clean_env(CLOUDPARTNER_TOKEN=ENV_TOKEN)
    check_token_never_printed(env, ["--token-file", str(token_file)], FILE_TOKEN)


@pytest.mark.parametrize("token", [f"{ENV_TOKEN} {FILE_TOKEN}", f"{ENV_TOKEN}\u00e9", f"{ENV_TOKEN}\x07"])
def test_a_malformed_token_is_refused_without_printing_it(portal: FakePortal, token: str):
    done = run(*service(portal, "cancel", PUBLISHER, OFFER), env=clean_env(CLOUDPARTNER_TOKEN=token))
    assert_one_line_error(done, 2)
    for secret in (ENV_TOKEN, FILE_TOKEN):
        assert secret not in done.stdout + done.stderr
    assert portal.requests == []


def test_token_errors_from_the_service_do_not_print_it():
    with FakePortal(tokens=["the-only-token"]) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        done = run(*service(fake, "operations", PUBLISHER, OFFER), env=clean_env(CLOUDPARTNER_TOKEN=ENV_TOKEN))
        assert_one_line_error(done, 3)
        assert ENV_TOKEN not in done.stdout + done.stderr
        assert fake.requests[-1].headers["authorization"] == f"Bearer {ENV_TOKEN}"


def test_token_file_and_az_are_mutually_exclusive(portal: FakePortal, tmp_path: Path):
    token_file = tmp_path / "token"
    token_file.write_text(FILE_TOKEN)
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, "--token-file", str(token_file), "--az"))
    assert_usage_error(done)
    assert "not allowed with" in done.stderr
    assert FILE_TOKEN not in done.stdout + done.stderr
    assert portal.requests == []


def test_az_without_the_azure_cli_is_a_usage_error(portal: FakePortal):
    assert shutil.which("az", path=BIN) is None
    env = clean_env(PATH=BIN)
    line = assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--az"), env=env), 2)
    assert "az" in line and "PATH" in line
    assert portal.requests == []


def test_az_token_is_used_when_the_cli_answers(portal: FakePortal, tmp_path: Path):
    fake_az = tmp_path / "az"
    fake_az.write_text(f"#!/bin/sh\necho {ENV_TOKEN}\n")
    fake_az.chmod(0o755)
    env = clean_env(PATH=f"{tmp_path}{os.pathsep}{BIN}")
    done = run(*service(portal, "cancel", PUBLISHER, OFFER, "--az"), env=env)
    assert done.returncode == 0, done.stderr
    assert ENV_TOKEN not in done.stdout + done.stderr
    assert portal.requests[-1].headers["authorization"] == f"Bearer {ENV_TOKEN}"


def test_a_failing_az_is_a_usage_error(portal: FakePortal, tmp_path: Path):
    fake_az = tmp_path / "az"
    fake_az.write_text("#!/bin/sh\necho 'ERROR: Please run az login' >&2\nexit 1\n")
    fake_az.chmod(0o755)
    env = clean_env(PATH=f"{tmp_path}{os.pathsep}{BIN}")
    line = assert_one_line_error(run(*service(portal, "cancel", PUBLISHER, OFFER, "--az"), env=env), 2)
    assert "az login" in line
    assert portal.requests == []


def test_cli_wait_without_a_location_warns_and_succeeds() -> None:
    with RawServer(response(202)) as server:
        done = run("cancel", PUBLISHER, OFFER, "--wait", "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    assert "not waiting" in done.stderr


def test_cli_json_wait_failure_still_prints_the_cancel(slow_portal: FakePortal) -> None:
    done = run("cancel", PUBLISHER, OFFER, "--wait", "--timeout", "0.3", "--json", "--base-url", slow_portal.base_url)
    assert done.returncode == 5
    printed = json.loads(done.stdout)
    assert printed["result"]["status_code"] == 202
    assert printed["operation"] is None
    assert printed["error"]["type"] == "WaitTimeoutError"


def test_cli_408_is_transient() -> None:
    with RawServer(response(408)) as server:
        done = run("cancel", PUBLISHER, OFFER, "--base-url", server.base_url)
    assert done.returncode == 4


def test_cli_offers_files_from_spreadsheets(slow_portal: FakePortal, tmp_path) -> None:
    slow_portal.add_offer(PUBLISHER, "second")
    offers = tmp_path / "offers.csv"
    offers.write_bytes(
        '\ufeff# exported\npublisher,offer\n"contoso","contoso-virtualmachineoffer"\ncontoso, second\n'.encode()
    )
    done = run("cancel-many", str(offers), "--json", "--base-url", slow_portal.base_url)
    assert done.returncode == 0, done.stderr
    assert [(row["publisher"], row["offer"], row["ok"]) for row in json.loads(done.stdout)] == [
        (PUBLISHER, OFFER, True),
        (PUBLISHER, "second", True),
    ]


def test_cli_unreadable_inputs_are_usage_errors(tmp_path) -> None:
    binary = tmp_path / "token.bin"
    binary.write_bytes(b"\xff\xfe\x00token")
    for args in (
        ("cancel", PUBLISHER, OFFER, "--token-file", str(binary)),
        ("cancel-many", str(binary)),
        ("serve", "--port", "99999"),
    ):
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_publish_review_and_go_live_from_the_command_line():
    with FakePortal(step_seconds=0.05, cancel_seconds=0.05) as fake:
        fake.add_offer(PUBLISHER, "cli-offer", running=False)
        published = run(
            *service(fake, "publish", PUBLISHER, "cli-offer", "--wait", "--json", "--poll-interval", "0.02")
        )
        assert published.returncode == 0, published.stderr
        output = json.loads(published.stdout)
        assert output["result"]["action"] == "publish"
        assert output["operation"]["waiting_for_review"] is True
        again = run(*service(fake, "publish", PUBLISHER, "cli-offer"))
        assert again.returncode == 3 and "Conflict" in again.stderr  # the first still runs, waiting for review
        status = run(*service(fake, "status", PUBLISHER, "cli-offer"))
        assert status.returncode == 0 and "waitingForPublisherReview" in status.stdout
        assert "Publisher signoff" in status.stdout
        live = run(*service(fake, "go-live", PUBLISHER, "cli-offer", "--wait", "--poll-interval", "0.02"))
        assert live.returncode == 0, live.stderr
        assert "golive accepted" in live.stdout and "ended: succeeded" in live.stdout
        offers = run(*service(fake, "offers", PUBLISHER, "--json"))
        assert [o["status"] for o in json.loads(offers.stdout)] == ["published"]
        offer = run(*service(fake, "offer", PUBLISHER, "cli-offer", "--slot", "production", "--json"))
        shown = json.loads(offer.stdout)
        assert shown["slot"] == "production" and shown["etag"] and shown["offer"]["id"] == "cli-offer"
        missing = run(*service(fake, "offer", PUBLISHER, "no-such-offer"))
        assert missing.returncode == 3 and "Traceback" not in missing.stderr
