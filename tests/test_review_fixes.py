"""Edge cases found in review: bounded waits, odd timestamps, odd input, interrupts, CLI corners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang, response


def _op(status: str, created: str = "2018-09-13T18:25:43Z") -> bytes:
    return json.dumps({"id": "op", "status": status, "createdDateTime": created, "steps": []}).encode()


def test_a_hanging_poll_cannot_outlast_the_wait() -> None:
    with RawServer(hang()) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url, timeout=5.0, max_retries=2)
        started = time.monotonic()
        with pytest.raises(cloudpartner.WaitTimeoutError) as caught:
            client.wait("/api/operations/op", timeout=0.5, poll_interval=0.05)
        assert time.monotonic() - started < 1.5
        assert caught.value.operation is None


def test_retry_after_on_a_failed_poll_is_honoured() -> None:
    throttled = response(429, {"Retry-After": "1"}, b'{"error": {"code": "TooManyRequests"}}')
    done = response(200, {"Content-Type": "application/json"}, _op("canceled"))
    with RawServer(throttled, done) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url, max_retries=0)
        started = time.monotonic()
        final = client.wait("/api/operations/op", timeout=10, poll_interval=0.05)
        assert final is not None
        assert final.canceled
        assert time.monotonic() - started >= 0.9


@pytest.mark.parametrize("created", ["0000-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "2016-12-31T23:59:60Z"])
def test_timestamps_no_datetime_can_hold_are_none_not_errors(created: str) -> None:
    with RawServer(response(200, {"Content-Type": "application/json"}, _op("running", created))) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url)
        op = client.get_operation("/api/operations/op")
    if created.endswith(":60Z"):
        assert op.created is not None
        assert op.created.second == 59  # a leap second folds into the second before
    else:
        assert op.created is None
    assert op.raw["createdDateTime"] == created


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.cancel("\ud800", OFFER),
        lambda c: c.cancel(PUBLISHER, "o\udfff"),
        lambda c: c.cancel(PUBLISHER, OFFER, ["a\ud800@contoso.com"]),
        lambda c: c.get_operation("/api/\ud800"),
        lambda c: c.list_operations(PUBLISHER, OFFER, status="\ud800"),
        lambda c: c.wait("/api/operations/x", timeout=10**400),
    ],
)
def test_odd_python_input_is_an_invalid_argument_error(portal: FakePortal, call) -> None:
    client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
    with pytest.raises(cloudpartner.InvalidArgumentError):
        call(client)
    assert portal.requests == []


def test_odd_settings_are_invalid_argument_errors() -> None:
    for kwargs in ({"timeout": 10**400}, {"backoff": 10**400}, {"base_url": "https://\ud800.example"}):
        with pytest.raises(cloudpartner.InvalidArgumentError):
            cloudpartner.Client(TOKEN, **kwargs)
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.Client("tok\ud800")
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, timeout=[1])  # type: ignore[arg-type]
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=["x"])  # type: ignore[arg-type]


def test_an_interrupt_inside_a_credential_is_not_a_credential_error(portal: FakePortal) -> None:
    class Interrupted:
        def get_token(self, *scopes: str) -> object:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cloudpartner.Client(Interrupted(), base_url=portal.base_url).cancel(PUBLISHER, OFFER)


def test_transient_statuses_are_one_classification() -> None:
    assert [cloudpartner.ApiError(s).is_transient for s in (400, 404, 408, 409, 429, 500, 503, 504)] == [
        False,
        False,
        True,
        False,
        True,
        True,
        True,
        True,
    ]


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CLOUDPARTNER_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "cloudpartner", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        input=stdin,
        check=False,
    )


def test_cli_wait_without_a_location_warns_and_succeeds() -> None:
    with RawServer(response(202)) as server:
        done = _cli("cancel", PUBLISHER, OFFER, "--wait", "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    assert "not waiting" in done.stderr


def test_cli_json_wait_failure_still_prints_the_cancel(slow_portal: FakePortal) -> None:
    done = _cli("cancel", PUBLISHER, OFFER, "--wait", "--timeout", "0.3", "--json", "--base-url", slow_portal.base_url)
    assert done.returncode == 5
    printed = json.loads(done.stdout)
    assert printed["result"]["status_code"] == 202
    assert printed["operation"] is None
    assert printed["error"]["type"] == "WaitTimeoutError"


def test_cli_408_is_transient() -> None:
    with RawServer(response(408)) as server:
        done = _cli("cancel", PUBLISHER, OFFER, "--base-url", server.base_url)
    assert done.returncode == 4


def test_cli_offers_files_from_spreadsheets(slow_portal: FakePortal, tmp_path) -> None:
    slow_portal.add_offer(PUBLISHER, "second")
    offers = tmp_path / "offers.csv"
    offers.write_bytes(
        '\ufeff# exported\npublisher,offer\n"contoso","contoso-virtualmachineoffer"\ncontoso, second\n'.encode()
    )
    done = _cli("cancel-many", str(offers), "--json", "--base-url", slow_portal.base_url)
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
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
