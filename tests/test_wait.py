"""wait and wait_async: following a cancel to its end, progress, timeouts, failures and Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import cloudpartner
import pytest
from cloudpartner import (
    CancelResult,
    InvalidArgumentError,
    NotFoundError,
    Operation,
    WaitTimeoutError,
)
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang, response

STYLES = ("absolute", "relative", "non-migrated")
POLL = 0.05
STATUS_ORDER = {"running": 0, "canceled": 1}


# -- helpers -------------------------------------------------------------------------------------------


def wait(client: cloudpartner.Client, target: Any, mode: str, **kwargs: Any) -> Operation | None:
    """wait or wait_async (driven by its own loop), bounded."""
    kwargs.setdefault("timeout", 10.0)
    kwargs.setdefault("poll_interval", POLL)
    if mode == "sync":
        return client.wait(target, **kwargs)
    return asyncio.run(asyncio.wait_for(client.wait_async(target, **kwargs), 20))


def certification(op: Operation) -> float:
    step = op.steps[1]
    assert step.name == "Certification"
    assert step.progress is not None
    return step.progress


def op_body(status: str) -> bytes:
    steps = [{"stepName": "Certification", "status": status, "progressPercentage": 50}]
    return json.dumps({"id": "op-1", "status": status, "steps": steps}).encode()


def get_requests(portal: FakePortal) -> list[Any]:
    return [r for r in portal.requests if r.method == "GET"]


# -- following a cancel to its end -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("style", STYLES)
def test_wait_follows_the_cancel_to_canceled(style: str, mode: str):
    with FakePortal(cancel_seconds=0.3, location_style=style) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client(TOKEN, base_url=fake.base_url, timeout=5.0) as client:
            result = client.cancel(PUBLISHER, OFFER)
            assert result.status_code == 202
            started = time.monotonic()
            final = wait(client, result, mode)
            elapsed = time.monotonic() - started
        (expected,) = fake.operations(PUBLISHER, OFFER)
        polls = get_requests(fake)
    assert isinstance(final, Operation)
    assert final.id == result.operation_id == expected["id"]
    assert final.status == "canceled"
    assert final.canceled and final.is_terminal and not final.succeeded
    assert final.raw["version"] == expected["version"]
    assert 0.15 < elapsed < 3.0
    assert 2 <= len(polls) <= 60  # it polled, at about poll_interval
    assert all(r.query.get("api-version") == "2017-10-31" for r in polls)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wait_takes_a_location_string(portal: FakePortal, client: cloudpartner.Client, mode: str):
    result = client.cancel(PUBLISHER, OFFER)
    final = wait(client, result.operation_location, mode)
    assert final is not None and final.canceled


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_on_progress_hears_the_first_state_and_each_change(portal: FakePortal, client: cloudpartner.Client, mode):
    seen: list[Operation] = []
    result = client.cancel(PUBLISHER, OFFER)
    final = wait(client, result, mode, on_progress=seen.append)
    assert final is not None and final.canceled
    assert len(seen) >= 2
    assert seen[0].status == "running"  # the first state
    assert seen[-1] == final and seen[-1].status == "canceled"  # the last call is the end
    assert all(isinstance(op, Operation) for op in seen)
    statuses = [STATUS_ORDER[op.status] for op in seen]
    assert statuses == sorted(statuses)
    progress = [certification(op) for op in seen]
    assert progress == sorted(progress)
    assert progress[-1] > progress[0]  # progress advanced
    for before, after in zip(seen, seen[1:]):  # each call is a change
        assert (before.status, before.steps) != (after.status, after.steps)
    # there were more polls than changes reported only when states repeated, never fewer
    assert len(get_requests(portal)) >= len(seen)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_on_progress_is_not_called_again_for_an_unchanged_state(mode: str):
    running = response(200, {"Content-Type": "application/json"}, op_body("running"))
    done = response(200, {"Content-Type": "application/json"}, op_body("canceled"))
    with RawServer(running, running, running, done) as srv:
        seen: list[Operation] = []
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            final = wait(client, "/api/operations/op-1", mode, on_progress=seen.append)
        assert len(srv.requests) == 4
    assert final is not None and final.canceled
    assert [op.status for op in seen] == ["running", "canceled"]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sync_cancel_returns_none_without_a_request(mode: str):
    with FakePortal(sync_cancel=True) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client(TOKEN, base_url=fake.base_url, timeout=5.0) as client:
            result = client.cancel(PUBLISHER, OFFER)
            assert result.status_code == 200 and result.completed
            fake.clear_requests()
            calls: list[Operation] = []
            started = time.monotonic()
            assert wait(client, result, mode, on_progress=calls.append) is None
            assert time.monotonic() - started < 0.5
        assert fake.requests == []
    assert calls == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_accepted_cancel_without_location_is_refused(portal: FakePortal, client: cloudpartner.Client, mode: str):
    with pytest.raises(InvalidArgumentError) as caught:
        wait(client, CancelResult(PUBLISHER, OFFER, 202), mode)
    assert caught.value.field == "location"
    assert portal.requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wait_refuses_a_location_on_another_host(portal: FakePortal, client: cloudpartner.Client, mode: str):
    result = client.cancel(PUBLISHER, OFFER)
    portal.clear_requests()
    for location in (
        (result.operation_location or "").replace("127.0.0.1", "localhost"),
        "https://evil.example/api/operations/x",
    ):
        with pytest.raises(InvalidArgumentError):
            wait(client, location, mode)
    assert portal.requests == []


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("timeout", "poll_interval"), [(-1, POLL), (1.0, -0.5), ("5", POLL), (True, POLL)])
def test_bad_wait_settings_are_refused(portal: FakePortal, client: cloudpartner.Client, timeout, poll_interval, mode):
    result = client.cancel(PUBLISHER, OFFER)
    portal.clear_requests()
    with pytest.raises(InvalidArgumentError):
        wait(client, result, mode, timeout=timeout, poll_interval=poll_interval)
    assert portal.requests == []


# -- timeouts and failures -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wait_timeout_carries_the_last_state(slow_portal: FakePortal, mode: str):
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError) as caught:
            wait(client, result, mode, timeout=0.3)
        elapsed = time.monotonic() - started
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, cloudpartner.CloudPartnerError)
    assert 0.25 <= elapsed <= 1.5
    assert isinstance(error.operation, Operation)
    assert error.operation.status == "running"
    assert error.operation.id == result.operation_id
    assert not error.operation.is_terminal


def test_wait_timeout_shorter_than_the_poll_interval(slow_portal: FakePortal):
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        started = time.monotonic()
        with pytest.raises(WaitTimeoutError):
            client.wait(result, timeout=0.3, poll_interval=10)
        assert time.monotonic() - started < 1.5


def test_transient_failures_are_polled_through(portal: FakePortal):
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0, max_retries=0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        portal.fail_next(3, 503)
        seen: list[Operation] = []
        final = client.wait(result, timeout=10, poll_interval=POLL, on_progress=seen.append)
    assert final is not None and final.canceled
    assert len(get_requests(portal)) >= 4  # three failed polls, then at least one answer
    assert seen and seen[-1].canceled


@pytest.mark.parametrize("status", [429, 500, 502, 504])
def test_other_transient_statuses_are_polled_through(portal: FakePortal, status: int):
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0, max_retries=0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        portal.fail_next(2, status)
        final = client.wait(result, timeout=10, poll_interval=POLL)
    assert final is not None and final.canceled


def test_wait_timeout_while_every_poll_fails_has_no_operation():
    with RawServer(response(503)) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0, max_retries=0) as client:
            started = time.monotonic()
            with pytest.raises(WaitTimeoutError) as caught:
                client.wait("/api/operations/op-1", timeout=0.3, poll_interval=POLL)
            assert time.monotonic() - started < 1.5
        assert len(srv.requests) >= 2
    assert caught.value.operation is None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_not_found_while_polling_is_raised(portal: FakePortal, client: cloudpartner.Client, mode: str):
    result = client.cancel(PUBLISHER, OFFER)
    portal.clear_requests()
    portal.fail_next(1, 404)
    started = time.monotonic()
    with pytest.raises(NotFoundError) as caught:
        wait(client, result, mode)
    assert time.monotonic() - started < 1.0
    assert caught.value.status_code == 404
    assert len(portal.requests) == 1  # not polled on


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_unknown_operation_while_polling_is_not_found(portal: FakePortal, client: cloudpartner.Client, mode: str):
    with pytest.raises(NotFoundError):
        wait(client, f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/nope", mode)
    assert len(portal.requests) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_retry_after_on_a_poll_answer_is_honoured(mode: str):
    running = response(200, {"Content-Type": "application/json", "Retry-After": "1"}, op_body("running"))
    done = response(200, {"Content-Type": "application/json"}, op_body("canceled"))
    with RawServer(running, done) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            started = time.monotonic()
            final = wait(client, "/api/operations/op-1", mode, poll_interval=POLL)
            elapsed = time.monotonic() - started
        assert len(srv.requests) == 2
    assert final is not None and final.canceled
    assert 0.9 <= elapsed < 3.0


def test_retry_after_does_not_outlast_the_timeout():
    running = response(200, {"Content-Type": "application/json", "Retry-After": "30"}, op_body("running"))
    with RawServer(running) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            started = time.monotonic()
            with pytest.raises(WaitTimeoutError) as caught:
                client.wait("/api/operations/op-1", timeout=0.5, poll_interval=POLL)
            assert time.monotonic() - started < 2.0
    assert caught.value.operation is not None and caught.value.operation.status == "running"


# -- on_progress -----------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_an_exception_from_on_progress_stops_the_wait(slow_portal: FakePortal):
    boom = Boom("stop here")
    calls: list[Operation] = []

    def on_progress(op: Operation) -> None:
        calls.append(op)
        raise boom

    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        slow_portal.clear_requests()
        started = time.monotonic()
        with pytest.raises(Boom) as caught:
            client.wait(result, timeout=10, poll_interval=POLL, on_progress=on_progress)
        assert time.monotonic() - started < 1.5
        polls = len(slow_portal.requests)
        time.sleep(0.2)
        assert len(slow_portal.requests) == polls == 1  # stopped: no poll after the first
    assert caught.value is boom
    assert len(calls) == 1


def test_an_exception_from_on_progress_stops_wait_async(slow_portal: FakePortal):
    """README: on_progress "hears the first state and every change (an exception from it stops the wait)"."""
    boom = Boom("stop here")

    def on_progress(op: Operation) -> None:
        raise boom

    async def main(client: cloudpartner.Client, result: CancelResult) -> Operation | None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, _context: None)  # keep a misrouted exception quiet
        return await asyncio.wait_for(
            client.wait_async(result, timeout=1, poll_interval=POLL, on_progress=on_progress), 10
        )

    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        started = time.monotonic()
        with pytest.raises(Boom) as caught:
            asyncio.run(main(client, result))
        assert time.monotonic() - started < 1.5
    assert caught.value is boom


def test_on_progress_of_wait_async_runs_on_the_event_loop_thread(portal: FakePortal, client: cloudpartner.Client):
    result = client.cancel(PUBLISHER, OFFER)
    threads: list[int] = []
    statuses: list[str] = []

    def on_progress(op: Operation) -> None:
        threads.append(threading.get_ident())
        statuses.append(op.status)

    async def main() -> tuple[int, Operation | None]:
        loop_thread = threading.get_ident()
        final = await asyncio.wait_for(
            client.wait_async(result, timeout=10, poll_interval=POLL, on_progress=on_progress), 15
        )
        await asyncio.sleep(0)  # let any callback scheduled last run
        return loop_thread, final

    loop_thread, final = asyncio.run(main())
    assert final is not None and final.canceled
    assert threads and set(threads) == {loop_thread}
    assert statuses[0] == "running" and statuses[-1] == "canceled"


def test_wait_async_lets_the_event_loop_run(slow_portal: FakePortal):
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def main(client: cloudpartner.Client, result: CancelResult) -> None:
        task = asyncio.ensure_future(ticker())
        try:
            with pytest.raises(WaitTimeoutError):
                await asyncio.wait_for(client.wait_async(result, timeout=0.4, poll_interval=POLL), 10)
        finally:
            task.cancel()

    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        asyncio.run(main(client, result))
    assert ticks >= 10


def test_cancelling_wait_async_stops_polling(slow_portal: FakePortal):
    async def main(client: cloudpartner.Client, result: CancelResult) -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.wait_async(result, timeout=30, poll_interval=POLL), 0.3)

    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        asyncio.run(main(client, result))
        time.sleep(0.2)
        polls = len(slow_portal.requests)
        time.sleep(0.3)
        assert len(slow_portal.requests) == polls


# -- Ctrl-C ----------------------------------------------------------------------------------------------

INTERRUPTED_SCRIPT = textwrap.dedent(
    """
    import signal
    import sys
    # As a terminal starts it: a runner started in the background may pass SIGINT on ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import cloudpartner
    from cloudpartner.testing import FakePortal

    announced = []

    def on_progress(op):
        if not announced:
            announced.append(op)
            print("waiting", flush=True)

    with FakePortal(cancel_seconds=60) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer")
        with cloudpartner.Client("any-token", base_url=portal.base_url, timeout=5.0) as client:
            result = client.cancel("contoso", "contoso-virtualmachineoffer")
            try:
                client.wait(result, timeout=60, poll_interval=0.5, on_progress=on_progress)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(130)
    print("not interrupted", flush=True)
    sys.exit(1)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_stops_a_sync_wait_promptly():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPARTNER_")}
    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(20)
        assert lines == ["waiting\n"], process.stderr.read() if process.poll() is not None else lines
        time.sleep(0.3)  # now inside the wait, between polls
        assert process.poll() is None
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert process.returncode == 130, (out, err)
    assert out.strip() == "interrupted"
    assert "Traceback" not in err
    assert elapsed < 1.0


def test_a_hanging_poll_cannot_outlast_the_wait() -> None:
    with RawServer(hang()) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url, timeout=5.0, max_retries=2)
        started = time.monotonic()
        with pytest.raises(cloudpartner.WaitTimeoutError) as caught:
            client.wait("/api/operations/op", timeout=0.5, poll_interval=0.05)
        assert time.monotonic() - started < 1.5
        assert caught.value.operation is None


def operation_json(status: str, created: str = "2018-09-13T18:25:43Z") -> bytes:
    return json.dumps({"id": "op", "status": status, "createdDateTime": created, "steps": []}).encode()


def test_retry_after_on_a_failed_poll_is_honoured() -> None:
    throttled = response(429, {"Retry-After": "1"}, b'{"error": {"code": "TooManyRequests"}}')
    done = response(200, {"Content-Type": "application/json"}, operation_json("canceled"))
    with RawServer(throttled, done) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url, max_retries=0)
        started = time.monotonic()
        final = client.wait("/api/operations/op", timeout=10, poll_interval=0.05)
        assert final is not None
        assert final.canceled
        assert time.monotonic() - started >= 0.9


def test_a_blocking_call_from_a_progress_callback_is_a_nested_call_error(slow_portal: FakePortal) -> None:
    client = cloudpartner.Client(TOKEN, base_url=slow_portal.base_url)
    result = client.cancel(PUBLISHER, OFFER)

    def nested(_op: cloudpartner.Operation) -> None:
        client.cancel(PUBLISHER, OFFER)

    with pytest.raises(cloudpartner.NestedCallError) as caught:
        client.wait(result, timeout=5, poll_interval=0.05, on_progress=nested)
    assert isinstance(caught.value, RuntimeError)
    assert caught.value.is_transient is False
    assert "on_progress" in str(caught.value)
