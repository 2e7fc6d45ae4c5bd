"""Process and thread lifecycle: the GIL, threads, fork, Ctrl-C, running event loops, close, exit.

Subprocess tests run the same interpreter (``sys.executable``), which imports the package it has
installed (the wheel under scripts/test-wheel.sh), with tests/ on ``PYTHONPATH``; every wait on a
child is bounded, and a child still alive at its deadline is killed and the test fails.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import cloudpartner
import pytest
from children import exit_code_within
from cloudpartner import CancelResult, ClientClosedError, RequestTimeoutError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang

ROOT = Path(__file__).resolve().parent.parent
CHILD_DEADLINE = 20.0  # seconds a forked or spawned child may take, at most


def assert_cancelled(result: object, portal: FakePortal, publisher: str, offer: str) -> None:
    """`result` is the portal's answer to a cancel of publisher/offer."""
    assert isinstance(result, CancelResult), result
    assert (result.publisher, result.offer, result.status_code) == (publisher, offer, 202)
    (operation,) = portal.operations(publisher, offer)
    assert result.operation_id == operation["id"]
    assert operation["cancellationRequestState"] == "Requested"


# -- helpers for children -------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPARTNER_")}
    paths = [str(ROOT / "tests")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.pop("RUST_BACKTRACE", None)
    return env


def spawn(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )


def read_line(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> bytes:
    """One line of the child's stdout, waiting at most `timeout` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        pytest.fail(f"the child printed nothing within {timeout} s; stderr: {err.decode(errors='replace')}")
    return proc.stdout.readline()


def finish(proc: subprocess.Popen[bytes], timeout: float) -> tuple[float, bytes, bytes]:
    """Wait for the child to end (killing it after `timeout` s); return seconds waited, out, err."""
    start = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=5)
        pytest.fail(f"the child was still running after {timeout} s; stderr: {err.decode(errors='replace')}")
    return time.monotonic() - start, out, err


def run_in_fork(body: Callable[[], Any]) -> Any:
    """Run `body` in a forked child; return what it returned (JSON), or fail the test.

    The child ends with os._exit: 0 when `body` returned, 1 when it raised. The parent polls
    waitpid for at most CHILD_DEADLINE seconds and kills a child still alive then.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            try:
                payload = {"ok": body()}
                code = 0
            except BaseException as exc:
                payload = {"error": repr(exc)}
            with os.fdopen(write_end, "w") as out:
                json.dump(payload, out)
        finally:
            os._exit(code)
    os.close(write_end)
    code = exit_code_within(pid, CHILD_DEADLINE)
    if code is None:
        os.close(read_end)
        pytest.fail(f"the forked child hung: still alive after {CHILD_DEADLINE} s")
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    payload = json.loads(text) if text else {}
    assert code == 0, f"the forked child exited with {code}: {payload}"
    return payload["ok"]


# -- the GIL and threads -------------------------------------------------------------------------------


def count_for(seconds: float) -> int:
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
    return n


def test_gil_is_released_while_a_sync_call_waits() -> None:
    baseline = count_for(0.5)
    outcome: list[BaseException | object] = []
    with RawServer(hang()) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=2.0, max_retries=0)

        def call() -> None:
            try:
                outcome.append(client.cancel(PUBLISHER, OFFER))
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        srv.wait_for_requests(1, timeout=5)  # the call is now blocked in Rust
        counted = count_for(0.5)
        still_blocked = thread.is_alive()
        thread.join(10)
        client.close()
    print(f"counter: {counted} in 0.5 s during the call, {baseline} without")
    assert still_blocked, "the call ended before the counter ran; the test proved nothing"
    assert counted > baseline * 0.3, f"only {counted} counts (baseline {baseline}): the GIL was held"
    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], RequestTimeoutError)


def test_one_client_shared_by_sixteen_threads(slow_portal: FakePortal) -> None:
    threads, calls = 16, 25
    offers = [[f"offer-{t}-{i}" for i in range(calls)] for t in range(threads)]
    for row in offers:
        for offer in row:
            slow_portal.add_offer(PUBLISHER, offer)
    results: list[list[object]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=10.0) as client:

        def work(t: int) -> None:
            start.wait(10)
            for offer in offers[t]:
                try:
                    results[t].append(client.cancel(PUBLISHER, offer))
                except BaseException as exc:
                    results[t].append(exc)

        workers = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(threads)]
        for w in workers:
            w.start()
        deadline = time.monotonic() + 30
        for w in workers:
            w.join(max(0.0, deadline - time.monotonic()))
        assert not any(w.is_alive() for w in workers), "threads still running after 30 s"

    for t in range(threads):
        assert len(results[t]) == calls
        for offer, result in zip(offers[t], results[t]):
            assert_cancelled(result, slow_portal, PUBLISHER, offer)
    flat = [r for row in results for r in row]
    assert len({r.client_request_id for r in flat}) == threads * calls  # type: ignore[union-attr]
    assert len(slow_portal.requests) == threads * calls


# -- fork ---------------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_client_works_in_a_forked_child(slow_portal: FakePortal) -> None:
    for offer in ("before", "child", "after"):
        slow_portal.add_offer(PUBLISHER, offer)
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        assert_cancelled(client.cancel(PUBLISHER, "before"), slow_portal, PUBLISHER, "before")

        def in_child() -> dict[str, Any]:
            result = client.cancel(PUBLISHER, "child")
            return {"offer": result.offer, "id": result.operation_id, "crid": result.client_request_id}

        got = run_in_fork(in_child)
        (operation,) = slow_portal.operations(PUBLISHER, "child")
        assert got["offer"] == "child"
        assert got["id"] == operation["id"]
        assert got["crid"] in {r.headers["x-ms-client-request-id"] for r in slow_portal.requests}
        # and the parent's client still works after the fork
        assert_cancelled(client.cancel(PUBLISHER, "after"), slow_portal, PUBLISHER, "after")


@pytest.mark.timeout(60)
def test_module_level_cancel_works_in_a_forked_child(slow_portal: FakePortal) -> None:
    for offer in ("before", "child", "async-child"):
        slow_portal.add_offer(PUBLISHER, offer)
    base_url = slow_portal.base_url
    before = cloudpartner.cancel(PUBLISHER, "before", TOKEN, base_url=base_url, timeout=5.0)
    assert_cancelled(before, slow_portal, PUBLISHER, "before")

    def in_child() -> list[str | None]:
        sync = cloudpartner.cancel(PUBLISHER, "child", TOKEN, base_url=base_url, timeout=5.0)
        coroutine = cloudpartner.cancel_async(PUBLISHER, "async-child", TOKEN, base_url=base_url, timeout=5.0)
        async_ = asyncio.run(asyncio.wait_for(coroutine, 10))
        return [sync.operation_id, async_.operation_id]

    got = run_in_fork(in_child)
    assert got == [
        slow_portal.operations(PUBLISHER, "child")[0]["id"],
        slow_portal.operations(PUBLISHER, "async-child")[0]["id"],
    ]


def _cancel_in_worker(args: tuple[str, str]) -> tuple[str, int, str | None]:
    base_url, offer = args
    result = cloudpartner.cancel(PUBLISHER, offer, TOKEN, base_url=base_url, timeout=5.0)
    return result.offer, result.status_code, result.operation_id


@pytest.mark.timeout(60)
def test_multiprocessing_fork_pool(slow_portal: FakePortal) -> None:
    offers = [f"pooled-{i}" for i in range(6)]
    for offer in ["parent", *offers]:
        slow_portal.add_offer(PUBLISHER, offer)
    base_url = slow_portal.base_url
    parent = cloudpartner.cancel(PUBLISHER, "parent", TOKEN, base_url=base_url, timeout=5.0)
    assert_cancelled(parent, slow_portal, PUBLISHER, "parent")

    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        try:
            got = pool.map_async(_cancel_in_worker, [(base_url, o) for o in offers]).get(timeout=CHILD_DEADLINE)
        except multiprocessing.TimeoutError:
            pool.terminate()
            pytest.fail(f"the fork pool did not finish within {CHILD_DEADLINE} s")
    assert got == [(o, 202, slow_portal.operations(PUBLISHER, o)[0]["id"]) for o in offers]


# -- Ctrl-C -------------------------------------------------------------------------------------------

_INTERRUPT_PRELUDE = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the parent's disposition
import cloudpartner
client = cloudpartner.Client("tok", base_url=sys.argv[1], timeout=60.0, max_retries=0)
"""

_SYNC_CAUGHT = (
    _INTERRUPT_PRELUDE
    + """
print("ready", flush=True)
try:
    client.cancel("contoso", "contoso-virtualmachineoffer")
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
print("returned", flush=True)
sys.exit(3)
"""
)

_SYNC_UNCAUGHT = (
    _INTERRUPT_PRELUDE
    + """
print("ready", flush=True)
client.cancel("contoso", "contoso-virtualmachineoffer")
sys.exit(3)
"""
)

_ASYNC = (
    _INTERRUPT_PRELUDE
    + """
import asyncio
async def main():
    print("ready", flush=True)
    await client.cancel_async("contoso", "contoso-virtualmachineoffer")
try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
sys.exit(3)
"""
)


def interrupt(script: str) -> tuple[float, int, str, str]:
    """Start `script` against a hanging server, SIGINT it once its request arrived.

    Returns the seconds from SIGINT to exit, the exit code, stdout and stderr.
    """
    with RawServer(hang()) as srv:
        proc = spawn(script, srv.base_url)
        try:
            assert read_line(proc) == b"ready\n"
            srv.wait_for_requests(1, timeout=10)
            time.sleep(0.1)  # well inside the call, past its first signal check
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            elapsed = time.monotonic() - start
            _, out, err = finish(proc, 5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    print(f"exit {elapsed:.3f} s after SIGINT, code {proc.returncode}")
    return elapsed, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def test_ctrl_c_interrupts_a_blocked_sync_call() -> None:
    elapsed, code, out, err = interrupt(_SYNC_CAUGHT)
    assert code == 130, (out, err)
    assert "interrupted" in out
    assert "returned" not in out
    assert elapsed < 1.0
    assert "panicked" not in err


def test_ctrl_c_uncaught_ends_the_process_with_keyboard_interrupt() -> None:
    elapsed, code, _out, err = interrupt(_SYNC_UNCAUGHT)
    assert "KeyboardInterrupt" in err
    assert code in (-signal.SIGINT, 128 + signal.SIGINT, 1), code
    assert elapsed < 1.0
    assert "panicked" not in err


def test_ctrl_c_interrupts_asyncio_run_of_a_pending_cancel() -> None:
    elapsed, code, out, err = interrupt(_ASYNC)
    assert code == 130, (out, err)
    assert "interrupted" in out
    assert elapsed < 1.0


def test_ctrl_c_during_asyncio_run_leaves_no_rust_panic() -> None:
    # asyncio.run cancels the pending cancel_async and the process exits at once; the cancelled
    # Rust future must not then touch the (finalizing) interpreter from an I/O thread. The race
    # is timing-dependent, hence several runs.
    for run in range(5):
        _, code, _out, err = interrupt(_ASYNC)
        assert code == 130
        assert "panicked" not in err, f"run {run}: a Rust panic after Ctrl-C: {err}"
        assert "Fatal Python error" not in err


# -- running event loops --------------------------------------------------------------------------------


def test_sync_call_inside_a_running_event_loop(slow_portal: FakePortal) -> None:
    for offer in ("sync", "async"):
        slow_portal.add_offer(PUBLISHER, offer)

    async def main() -> tuple[CancelResult, CancelResult]:
        assert asyncio.get_running_loop().is_running()
        with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
            task = asyncio.ensure_future(client.cancel_async(PUBLISHER, "async"))
            sync = client.cancel(PUBLISHER, "sync")  # as a notebook cell would
            return sync, await asyncio.wait_for(task, 10)

    sync, async_ = asyncio.run(asyncio.wait_for(main(), 20))
    assert_cancelled(sync, slow_portal, PUBLISHER, "sync")
    assert_cancelled(async_, slow_portal, PUBLISHER, "async")


def test_module_level_sync_cancel_inside_a_running_event_loop(portal: FakePortal) -> None:
    async def main() -> CancelResult:
        return cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=portal.base_url, timeout=5.0)

    assert_cancelled(asyncio.run(asyncio.wait_for(main(), 20)), portal, PUBLISHER, OFFER)


# -- close ---------------------------------------------------------------------------------------------


def test_close_refuses_further_calls_without_sending(portal: FakePortal, client: cloudpartner.Client) -> None:
    assert_cancelled(client.cancel(PUBLISHER, OFFER), portal, PUBLISHER, OFFER)
    sent = len(portal.requests)
    assert not client.closed
    client.close()
    assert client.closed
    assert "closed" in repr(client)
    with pytest.raises(ClientClosedError) as info:
        client.cancel(PUBLISHER, OFFER)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value, cloudpartner.CloudPartnerError)
    with pytest.raises(ClientClosedError):
        asyncio.run(asyncio.wait_for(client.cancel_async(PUBLISHER, OFFER), 10))
    with pytest.raises(ClientClosedError):  # refused before the arguments are even looked at
        client.cancel("bad/publisher", OFFER)
    client.close()  # twice is fine
    assert client.closed
    time.sleep(0.05)
    assert len(portal.requests) == sent


def test_with_block_closes_the_client(portal: FakePortal) -> None:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as client:
        assert_cancelled(client.cancel(PUBLISHER, OFFER), portal, PUBLISHER, OFFER)
        assert not client.closed
    assert client.closed
    with pytest.raises(ClientClosedError):
        client.cancel(PUBLISHER, OFFER)
    assert len(portal.requests) == 1


def test_with_block_closes_the_client_on_error(portal: FakePortal) -> None:
    with pytest.raises(cloudpartner.NotFoundError):
        with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as client:
            client.cancel(PUBLISHER, "no-such-offer")
    assert client.closed


# -- interpreter exit ----------------------------------------------------------------------------------

_EXIT_WITH_CALLS_IN_FLIGHT = """
import asyncio, sys, threading
import cloudpartner
client = cloudpartner.Client("tok", base_url=sys.argv[1], timeout=60.0, max_retries=0)
threading.Thread(target=client.cancel, args=("contoso", "offer-sync"), daemon=True).start()
loop = asyncio.new_event_loop()
task = loop.create_task(client.cancel_async("contoso", "offer-async"))
loop.run_until_complete(asyncio.sleep(0.05))  # the task is now in flight, on the I/O runtime
print("ready", flush=True)
sys.stdin.readline()
print("exiting", flush=True)
"""


def exit_with_calls_in_flight(settle: float) -> tuple[float, int, str, str]:
    """Run the child; tell it to end `settle` s after both its calls reached the server."""
    with RawServer(hang()) as srv:
        proc = spawn(_EXIT_WITH_CALLS_IN_FLIGHT, srv.base_url)
        try:
            assert read_line(proc) == b"ready\n"
            srv.wait_for_requests(2, timeout=10)
            time.sleep(settle)
            start = time.monotonic()
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
            _, out, err = finish(proc, 5)
            elapsed = time.monotonic() - start
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
    return elapsed, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def test_interpreter_exit_is_prompt_with_calls_in_flight() -> None:
    elapsed, code, out, err = exit_with_calls_in_flight(settle=0.3)
    print(f"exited {elapsed:.3f} s after being told to, code {code}")
    assert "exiting" in out
    assert elapsed < 5.0
    assert code == 0, err
    assert "Fatal Python error" not in err


def test_interpreter_exit_right_after_calls_started_is_clean() -> None:
    # Exiting within the first signal-check period (50 ms) of a blocked sync call: the daemon
    # thread's next check then lands in (or after) interpreter finalization. Several runs, as
    # the outcome depends on that timing.
    for run in range(5):
        elapsed, code, _out, err = exit_with_calls_in_flight(settle=0.0)
        assert elapsed < 5.0
        assert code == 0, f"run {run}: exit code {code}; stderr: {err}"
        assert "panicked" not in err, f"run {run}: a Rust panic at interpreter exit: {err}"
        assert "Fatal Python error" not in err


_EXIT_WHILE_THREADS_COME_AND_GO = """
import asyncio, sys, threading, time
import cloudpartner
base_url, settle = sys.argv[1], float(sys.argv[2])
done, stop = [], threading.Event()

def one(i):
    with cloudpartner.Client("tok", base_url=base_url, timeout=10.0) as client:
        if i % 2:
            asyncio.run(client.cancel_async("contoso", "churn-offer"))
        else:
            client.cancel("contoso", "churn-offer")
    done.append(i)

def churn():
    i = 0
    while not stop.is_set():  # the interpreter joins this thread as it exits
        thread = threading.Thread(target=one, args=(i,))
        thread.start()
        thread.join()
        i += 1

threading.Thread(target=churn).start()
deadline = time.monotonic() + 10
while len(done) < 6 and time.monotonic() < deadline:
    time.sleep(0.005)
time.sleep(settle)
print("exiting", len(done), flush=True)
stop.set()  # the main thread ends here, while a short-lived thread is mid-call
"""


def test_interpreter_exit_while_threads_come_and_go_is_clean(portal: FakePortal) -> None:
    # Threads that start, call and end one after another, until the main thread ends: at exit one
    # of them is starting, calling (blocking or in asyncio.run) or ending, and is joined.
    portal.add_offer(PUBLISHER, "churn-offer")
    for run, settle in enumerate([0.0, 0.01, 0.03, 0.1, 0.2]):
        proc = spawn(_EXIT_WHILE_THREADS_COME_AND_GO, portal.base_url, str(settle))
        _, out, err = finish(proc, CHILD_DEADLINE)
        text = err.decode(errors="replace")
        assert proc.returncode == 0, f"run {run}: exit code {proc.returncode}; stderr: {text}"
        assert out.startswith(b"exiting"), f"run {run}: {out!r}"
        assert int(out.split()[1]) >= 6, f"run {run}: fewer than 6 threads came and went: {out!r}"
        assert "panicked" not in text, f"run {run}: a Rust panic at interpreter exit: {text}"
        assert "Fatal Python error" not in text
