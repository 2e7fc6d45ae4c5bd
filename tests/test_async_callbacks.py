"""Callbacks that are ``async def``: awaited by the asyncio calls, refused by the blocking ones.

An asyncio call (``wait_async``, ``wait_job_async``, ``cancel_many_async``) awaits on its event
loop whatever its callback returns that is awaitable, with the rules of a plain callback: an
exception raised in it stops the call and is what the call raises, and the call returns only once
every coroutine it started has finished. A blocking call cannot await one: it refuses an async
function before anything is sent, and a callback that returns an awaitable anyway at its first call
(the awaitable closed, so that Python does not warn it was never awaited).

Every call is bounded (``asyncio.wait_for``, ``timeout``); no asyncio plugin, as tests/test_async.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import time
import warnings
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

import cloudpartner
import pytest
from cloudpartner import InvalidArgumentError, Operation, ingestion
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN

POLL = 0.05
EXTERNAL = "contoso-offer"
LISTING_SCHEMA = "https://schema.mp.microsoft.com/schema/listing/2022-07-01"


class Boom(Exception):
    pass


def run(main: Awaitable[Any], bound: float = 20) -> Any:
    return asyncio.run(asyncio.wait_for(main, bound))


@pytest.fixture
def jobs() -> Iterator[FakePortal]:
    """Configure jobs that end in under a second, publishes that run for a minute."""
    with FakePortal(job_seconds=0.3, publish_seconds=60) as fake:
        fake.add_product(EXTERNAL)
        yield fake


@pytest.fixture
def many() -> Iterator[FakePortal]:
    with FakePortal(cancel_seconds=3600) as fake:
        for i in range(12):
            fake.add_offer(PUBLISHER, f"offer-{i}")
        yield fake


def cpp_client(portal: FakePortal) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0, backoff=0.01)


def ingestion_client(portal: FakePortal) -> ingestion.Client:
    return ingestion.Client(TOKEN, base_url=portal.ingestion_url, timeout=5.0, backoff=0.01)


def configure_job(client: ingestion.Client, portal: FakePortal) -> ingestion.Job:
    durable = portal.product(EXTERNAL)["id"]
    return client.configure([{"$schema": LISTING_SCHEMA, "product": durable, "title": "Contoso VM"}])


def no_unawaited_coroutine_warning(caught: list[warnings.WarningMessage]) -> None:
    gc.collect()  # an unawaited coroutine warns when it is collected
    assert not [w for w in caught if "never awaited" in str(w.message)]


# -- asyncio: awaited, and finished before the call returns -----------------------------------------


def test_wait_async_awaits_an_async_on_progress_and_returns_after_its_last_call_finished(portal: FakePortal) -> None:
    seen: list[Operation] = []

    async def on_progress(op: Operation) -> None:
        await asyncio.sleep(0.02)  # ends after the wait's own work did
        seen.append(op)

    async def main(client: cloudpartner.Client) -> tuple[Operation | None, list[Operation]]:
        result = await client.cancel_async(PUBLISHER, OFFER)
        final = await client.wait_async(result, timeout=10, poll_interval=POLL, on_progress=on_progress)
        return final, list(seen)  # what the callback had stored when the call returned

    with cpp_client(portal) as client:
        final, at_return = run(main(client))
    assert final is not None and final.canceled
    assert at_return[0].status == "running"
    assert at_return[-1] == final


def test_wait_job_async_awaits_an_async_on_progress_and_returns_after_its_last_call_finished(
    jobs: FakePortal,
) -> None:
    seen: list[tuple[str, str]] = []

    async def on_progress(job: ingestion.Job) -> None:
        await asyncio.sleep(0.02)
        seen.append((job.status, job.result))

    async def main(client: ingestion.Client) -> tuple[ingestion.Job, list[tuple[str, str]]]:
        job = await client.configure_async(
            [{"$schema": LISTING_SCHEMA, "product": jobs.product(EXTERNAL)["id"], "title": "Contoso VM"}]
        )
        final = await client.wait_job_async(job, timeout=10, poll_interval=0.02, on_progress=on_progress)
        return final, list(seen)

    with ingestion_client(jobs) as client:
        final, at_return = run(main(client))
    assert final.succeeded
    assert at_return == [("notStarted", "pending"), ("running", "pending"), ("completed", "succeeded")]


def test_a_plain_function_returning_a_coroutine_is_awaited_too(portal: FakePortal) -> None:
    seen: list[str] = []

    async def store(op: Operation) -> None:
        await asyncio.sleep(0)
        seen.append(op.status)

    def on_progress(op: Operation) -> Awaitable[None]:  # a plain function: only its answer tells
        return store(op)

    async def main(client: cloudpartner.Client) -> list[str]:
        result = await client.cancel_async(PUBLISHER, OFFER)
        await client.wait_async(result, timeout=10, poll_interval=POLL, on_progress=on_progress)
        return list(seen)

    with cpp_client(portal) as client:
        at_return = run(main(client))
    assert at_return[0] == "running" and at_return[-1] == "canceled"


class LoopWithoutReaders(asyncio.SelectorEventLoop):
    """A loop without ``add_reader`` (as Windows' proactor): results come the other way."""

    def add_reader(self, *args: Any) -> None:
        raise NotImplementedError


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        return pytest.importorskip("uvloop").new_event_loop()  # type: ignore[no-any-return]
    return LoopWithoutReaders() if kind == "no-add-reader" else asyncio.new_event_loop()


@pytest.mark.parametrize("kind", ["asyncio", "no-add-reader", "uvloop"])
def test_cancel_many_async_returns_after_an_async_on_result_stored_every_outcome(many: FakePortal, kind: str) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(12)] + [(PUBLISHER, "missing")]
    stored: dict[int, object] = {}

    async def on_result(index: int, outcome: object) -> None:
        await asyncio.sleep(0.01 * (index % 3))  # finish out of order, some after the batch did
        stored[index] = outcome

    async def main(client: cloudpartner.Client) -> tuple[list[object], dict[int, object]]:
        outcomes = await client.cancel_many_async(items, concurrency=4, on_result=on_result)
        return outcomes, dict(stored)

    event_loop = new_loop(kind)
    try:
        with cpp_client(many) as client:
            outcomes, at_return = event_loop.run_until_complete(asyncio.wait_for(main(client), 20))
    finally:
        event_loop.close()
    assert sorted(at_return) == list(range(len(items)))
    assert [type(at_return[i]).__name__ for i in range(len(items))] == [type(o).__name__ for o in outcomes]
    assert [type(o).__name__ for o in outcomes] == ["CancelResult"] * 12 + ["NotFoundError"]
    assert all(at_return[i] == outcomes[i] for i in range(12))


def test_cancel_many_async_returns_after_a_plain_on_result_heard_every_outcome(many: FakePortal) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(12)]
    heard: list[int] = []

    async def main(client: cloudpartner.Client) -> list[int]:
        await client.cancel_many_async(items, concurrency=4, on_result=lambda i, _: heard.append(i))
        return list(heard)  # no sleep: every callback scheduled on this loop has run

    with cpp_client(many) as client:
        assert sorted(run(main(client))) == list(range(12))


def test_callbacks_of_an_asyncio_call_run_in_the_callers_context(portal: FakePortal) -> None:
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")
    seen: list[tuple[str, str]] = []

    def plain(op: Operation) -> None:
        seen.append(("plain", request_id.get()))

    async def coroutine(op: Operation) -> None:
        await asyncio.sleep(0)
        seen.append(("async", request_id.get()))

    async def main(client: cloudpartner.Client) -> None:
        request_id.set("release-42")
        result = await client.cancel_async(PUBLISHER, OFFER)
        await client.wait_async(result, timeout=10, poll_interval=POLL, on_progress=plain)
        await client.wait_async(result, timeout=10, poll_interval=POLL, on_progress=coroutine)

    with cpp_client(portal) as client:
        run(main(client))
    assert {kind for kind, _ in seen} == {"plain", "async"}
    assert {value for _, value in seen} == {"release-42"}


# -- asyncio: an exception from the coroutine stops the call and is what it raises ------------------


def test_an_exception_from_an_async_on_progress_stops_wait_async_at_once(slow_portal: FakePortal) -> None:
    boom = Boom("stop here")
    calls: list[str] = []

    async def on_progress(op: Operation) -> None:
        calls.append(op.status)
        await asyncio.sleep(0.05)
        raise boom

    with cpp_client(slow_portal) as client:
        result = client.cancel(PUBLISHER, OFFER)
        slow_portal.clear_requests()
        started = time.monotonic()
        with pytest.raises(Boom) as caught:
            # a poll every 2 s: stopping at the next one would take that long
            run(client.wait_async(result, timeout=30, poll_interval=2, on_progress=on_progress), 10)
        assert time.monotonic() - started < 1.5
        time.sleep(0.1)
        assert len(slow_portal.requests) == 1  # stopped: no poll after the first
    assert caught.value is boom
    assert calls == ["running"]


def test_an_exception_from_an_async_on_progress_stops_wait_job_async_at_once(jobs: FakePortal) -> None:
    async def on_progress(job: ingestion.Job) -> None:
        await asyncio.sleep(0.05)
        raise Boom(job.status)

    with ingestion_client(jobs) as client:
        job = client.publish(EXTERNAL)  # runs for a minute
        started = time.monotonic()
        try:
            with pytest.raises(Boom):
                run(client.wait_job_async(job, timeout=30, poll_interval=2, on_progress=on_progress), 10)
            assert time.monotonic() - started < 1.5
        finally:
            client.cancel_job(job)


def test_an_exception_from_an_async_on_result_stops_cancel_many_async(many: FakePortal) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(12)]
    stored: list[int] = []

    async def on_result(index: int, outcome: object) -> None:
        await asyncio.sleep(0)
        if index == 2:
            raise Boom(index)
        stored.append(index)

    with cpp_client(many) as client, pytest.raises(Boom) as caught:
        run(client.cancel_many_async(items, concurrency=1, on_result=on_result))
    assert caught.value.args == (2,)
    assert stored == [0, 1]
    assert len(many.requests) < len(items)  # the batch stopped


def test_async_on_result_callbacks_run_one_at_a_time_in_the_order_of_the_results(many: FakePortal) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(6)]
    events: list[tuple[str, int]] = []

    async def on_result(index: int, outcome: object) -> None:
        events.append(("start", index))
        await asyncio.sleep(0.05)  # longer than a cancel to the local portal takes
        events.append(("end", index))

    with cpp_client(many) as client:
        run(client.cancel_many_async(items, concurrency=1, on_result=on_result))
    assert events == [(edge, i) for i in range(6) for edge in ("start", "end")]


def test_no_async_on_result_starts_after_one_raised(many: FakePortal) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(12)]
    started: list[int] = []

    async def on_result(index: int, outcome: object) -> None:
        started.append(index)
        await asyncio.sleep(0.1 if index == 2 else 0)  # the next results arrive meanwhile
        if index == 2:
            raise Boom(index)

    with cpp_client(many) as client, pytest.raises(Boom):
        run(client.cancel_many_async(items, concurrency=1, on_result=on_result))
    assert started == [0, 1, 2]


def test_cancelling_wait_async_cancels_the_on_progress_coroutine_it_started(slow_portal: FakePortal) -> None:
    events: list[str] = []

    async def on_progress(op: Operation) -> None:
        events.append("started")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async def until(what: str) -> None:
        for _ in range(500):
            if what in events:
                return
            await asyncio.sleep(0.01)

    async def main(client: cloudpartner.Client, result: Any) -> list[str]:
        wait = asyncio.ensure_future(client.wait_async(result, timeout=30, poll_interval=POLL, on_progress=on_progress))
        await until("started")
        wait.cancel()
        with pytest.raises(asyncio.CancelledError):
            await wait
        await until("cancelled")
        return events

    with cpp_client(slow_portal) as client:
        result = client.cancel(PUBLISHER, OFFER)
        assert run(main(client, result)) == ["started", "cancelled"]


# -- blocking calls: an async callback is refused, never dropped -------------------------------------


async def _async_progress(state: object) -> None:
    pass


async def _async_result(index: int, outcome: object) -> None:
    pass


def _cpp_wait(portal: FakePortal, callback: Callable[..., Any]) -> None:
    with cpp_client(portal) as client:
        result = client.cancel(PUBLISHER, OFFER)
        portal.clear_requests()
        client.wait(result, timeout=10, poll_interval=POLL, on_progress=callback)


def _cpp_cancel_many(portal: FakePortal, callback: Callable[..., Any]) -> None:
    with cpp_client(portal) as client:
        portal.clear_requests()
        client.cancel_many([(PUBLISHER, OFFER)] * 3, concurrency=1, on_result=callback)


def _ingestion_wait(portal: FakePortal, callback: Callable[..., Any]) -> None:
    with ingestion_client(portal) as client:
        job = configure_job(client, portal)
        portal.clear_requests()
        client.wait_job(job, timeout=10, poll_interval=POLL, on_progress=callback)


SYNC_CALLS = [
    pytest.param(_cpp_wait, "on_progress", "wait_async", _async_progress, id="wait"),
    pytest.param(_cpp_cancel_many, "on_result", "cancel_many_async", _async_result, id="cancel_many"),
    pytest.param(_ingestion_wait, "on_progress", "wait_job_async", _async_progress, id="wait_job"),
]


@pytest.fixture
def both() -> Iterator[FakePortal]:
    """One portal that serves both APIs: an offer, and a product whose configure jobs are quick."""
    with FakePortal(cancel_seconds=0.3, job_seconds=0.3) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        fake.add_product(EXTERNAL)
        yield fake


@pytest.mark.parametrize(("call", "parameter", "twin", "callback"), SYNC_CALLS)
def test_a_blocking_call_refuses_an_async_function_before_anything_is_sent(
    both: FakePortal, call: Any, parameter: str, twin: str, callback: Any
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidArgumentError) as refused:
            call(both, callback)
        no_unawaited_coroutine_warning(caught)
    assert refused.value.field == parameter
    assert "async" in str(refused.value) and twin in str(refused.value)
    assert both.requests == []


@pytest.mark.parametrize(("call", "parameter", "twin", "callback"), SYNC_CALLS)
def test_a_blocking_call_refuses_a_callback_that_returns_a_coroutine_at_its_first_call(
    both: FakePortal, call: Any, parameter: str, twin: str, callback: Any
) -> None:
    calls: list[object] = []

    def wrapper(*args: object) -> object:  # a plain function: only its answer tells
        calls.append(args)
        return callback(*args)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InvalidArgumentError) as refused:
            call(both, wrapper)
        no_unawaited_coroutine_warning(caught)
    assert refused.value.field == parameter
    assert twin in str(refused.value)
    assert len(calls) == 1  # stopped at once


@pytest.mark.parametrize(("call", "parameter", "twin", "callback"), SYNC_CALLS)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_callback_that_is_not_callable_is_refused_before_anything_is_sent(
    both: FakePortal, call: Any, parameter: str, twin: str, callback: Any, mode: str
) -> None:
    if mode == "sync":
        with pytest.raises(InvalidArgumentError) as refused:
            call(both, "print")
    else:
        refused = None
        with cpp_client(both) as client, ingestion_client(both) as jobs_client:
            job = configure_job(jobs_client, both)
            result = client.cancel(PUBLISHER, OFFER)
            both.clear_requests()
            calls = {
                "wait_async": lambda: client.wait_async(result, on_progress="print"),  # type: ignore[arg-type]
                "cancel_many_async": lambda: client.cancel_many_async([(PUBLISHER, OFFER)], on_result="print"),  # type: ignore[arg-type]
                "wait_job_async": lambda: jobs_client.wait_job_async(job, on_progress="print"),  # type: ignore[arg-type]
            }
            with pytest.raises(InvalidArgumentError) as refused:
                run(calls[twin]())
    assert refused.value.field == parameter
    assert "callable" in str(refused.value)
    assert both.requests == []
