"""A call's `timeout` is the most the call may take: every attempt, every wait between attempts
(backoff and `Retry-After`) and the reading of the body, on both APIs, sync, async and in a batch.

Each case makes a call with `max_retries=3` against a scripted server on 127.0.0.1 that is silent,
dribbles its answer, or resets, and checks that the call ends within `TIMEOUT` plus `MARGIN` (a
generous allowance for a loaded 2-core machine, not a performance figure) and how it ends. A call
that makes several requests (a list's pages, an external-id lookup and then a read, a cancel and
the read of the job it found completed) is bounded as a whole, its later requests by what is left.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import cloudpartner
import pytest
from cloudpartner import RequestTimeoutError, ServerError, ThrottledError, TransportError, ingestion
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import Behaviour, Connection, RawRequest, RawServer, dribble, hang, http_response, reset, response

TIMEOUT = 0.5
MARGIN = 1.5
RETRIES = 3
# Large enough that, were waits not bounded by the deadline, three of them would pass it.
BACKOFF = 2.0
GUID = "d4261631-c583-4949-a612-5150882632e9"
INGESTION_PREFIX = "/rp/product-ingestion"
BATCH = 3

Call = Callable[[str], object]


def cpp_client(base_url: str) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=base_url, timeout=TIMEOUT, max_retries=RETRIES, backoff=BACKOFF)


def ingestion_client(base_url: str) -> ingestion.Client:
    return ingestion.Client(
        TOKEN, base_url=base_url + INGESTION_PREFIX, timeout=TIMEOUT, max_retries=RETRIES, backoff=BACKOFF
    )


def run_async(coroutine: Coroutine[Any, Any, object]) -> object:
    return asyncio.run(asyncio.wait_for(coroutine, 20))


def each_failed_alike(outcomes: Sequence[object]) -> object:
    """A batch's outcomes, each the same exception class: raise the first (else fail)."""
    assert len(outcomes) == BATCH
    classes = {type(outcome) for outcome in outcomes}
    assert len(classes) == 1, outcomes
    first = outcomes[0]
    assert isinstance(first, BaseException), outcomes
    raise first


def cancel(url: str) -> object:
    with cpp_client(url) as client:
        return client.cancel(PUBLISHER, OFFER)


def cancel_async(url: str) -> object:
    async def call() -> object:
        async with cpp_client(url) as client:
            return await client.cancel_async(PUBLISHER, OFFER)

    return run_async(call())


def module_cancel(url: str) -> object:
    # The module-level call, as a new user writes it: default retries (3) and backoff.
    return cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=url, timeout=TIMEOUT)


def cancel_many(url: str) -> object:
    with cpp_client(url) as client:
        return each_failed_alike(client.cancel_many([(PUBLISHER, OFFER)] * BATCH, concurrency=BATCH))


def cancel_many_async(url: str) -> object:
    async def call() -> Sequence[object]:
        async with cpp_client(url) as client:
            return await client.cancel_many_async([(PUBLISHER, OFFER)] * BATCH, concurrency=BATCH)

    outcomes = run_async(call())
    assert isinstance(outcomes, list)
    return each_failed_alike(outcomes)


def ingestion_call(name: str, *args: object) -> Call:
    def call(url: str) -> object:
        with ingestion_client(url) as client:
            return getattr(client, name)(*args)

    return call


def ingestion_call_async(name: str, *args: object) -> Call:
    def call(url: str) -> object:
        async def run() -> object:
            async with ingestion_client(url) as client:
                return await getattr(client, name + "_async")(*args)

        return run_async(run())

    return call


CALLS: dict[str, Call] = {
    "cancel": cancel,
    "cancel_async": cancel_async,
    "module_cancel": module_cancel,
    "cancel_many": cancel_many,
    "cancel_many_async": cancel_many_async,
    "ingestion_cancel_job": ingestion_call("cancel_job", GUID),
    "ingestion_cancel_job_async": ingestion_call_async("cancel_job", GUID),
    "ingestion_get_job": ingestion_call("get_job", GUID),
    "ingestion_get_job_async": ingestion_call_async("get_job", GUID),
    "ingestion_get_product": ingestion_call("get_product", f"product/{GUID}"),
    "ingestion_get_product_async": ingestion_call_async("get_product", f"product/{GUID}"),
}


def timed(call: Call, url: str) -> tuple[BaseException, float]:
    """Make `call`, which must fail; return its exception and the seconds it took."""
    started = time.monotonic()
    with pytest.raises(cloudpartner.CloudPartnerError) as caught:
        call(url)
    return caught.value, time.monotonic() - started


# An answer's head, long enough that a byte every 50 ms takes seconds to send.
SLOW_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 100 + b"\r\n\r\n"


def head_then_dribbled_body(interval: float) -> Behaviour:
    """Send a 200's head at once, then its JSON body a byte every `interval` seconds."""
    body = b'{"id": "' + b"x" * 200 + b'"}'
    head = http_response(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
    trickle = dribble(body, interval)

    def run(conn: Connection, request: RawRequest) -> None:
        conn.send(head)
        trickle(conn, request)

    return run


@pytest.mark.parametrize("name", CALLS)
def test_a_silent_server_ends_the_call_at_its_timeout(name: str) -> None:
    with RawServer(hang()) as srv:
        error, elapsed = timed(CALLS[name], srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert isinstance(error, TimeoutError)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert error.timeout == pytest.approx(TIMEOUT)
    # The first attempt had the whole timeout (less the call's set-up) and used it: there was no
    # time for another.
    pattern = rf"timed out after {TIMEOUT} s: 1 attempt: no answer within 0\.(5|4\d) s"
    assert re.fullmatch(pattern, str(error)), str(error)
    assert TOKEN not in str(error)
    assert received == (BATCH if name.startswith("cancel_many") else 1)


@pytest.mark.parametrize("name", CALLS)
def test_a_server_dribbling_its_headers_ends_the_call_at_its_timeout(name: str) -> None:
    with RawServer(dribble(SLOW_HEAD, 0.05)) as srv:
        error, elapsed = timed(CALLS[name], srv.base_url)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert "no answer within" in str(error)


@pytest.mark.parametrize("name", ["cancel", "cancel_async", "ingestion_get_product", "ingestion_get_job_async"])
def test_a_body_dribbled_past_the_timeout_ends_the_call_at_its_timeout(name: str) -> None:
    with RawServer(head_then_dribbled_body(0.05)) as srv:
        error, elapsed = timed(CALLS[name], srv.base_url)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert str(error).endswith(f"the HTTP 200 answer's body was not whole within {TIMEOUT} s")


@pytest.mark.parametrize("name", CALLS)
def test_a_server_that_resets_ends_the_call_within_its_timeout_with_the_reset(name: str) -> None:
    # Each attempt is reset at once; a retry is made only when its backoff ends before the
    # deadline. The call ends with the reset's TransportError once the retries or the time run
    # out (a RequestTimeoutError, also a TransportError, if the time runs out inside an attempt).
    with RawServer(reset()) as srv:
        error, elapsed = timed(CALLS[name], srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, TransportError), repr(error)
    assert elapsed < TIMEOUT + MARGIN
    if not isinstance(error, RequestTimeoutError):
        assert "reset" in str(error).lower() or "closed" in str(error).lower(), str(error)
    per_call = received / BATCH if name.startswith("cancel_many") else received
    assert 1 <= per_call <= RETRIES + 1


def test_each_attempt_gets_what_is_left_and_the_error_names_the_attempts() -> None:
    # A 503 asking for a 0.2 s pause, then silence: the second attempt gets the 0.3 s left.
    with RawServer(response(503, {"Retry-After": "0.2"}), hang()) as srv:
        error, elapsed = timed(cancel, srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert received == 2
    # What was left after the first answer and the pause: about 0.3 s, less on a busy machine.
    pattern = rf"timed out after {TIMEOUT} s: 2 attempts; the last: no answer within 0\.(2\d?|3) s"
    assert re.fullmatch(pattern, str(error)), str(error)


@pytest.mark.parametrize("call", [cancel, ingestion_call("get_job", GUID)], ids=["cpp", "ingestion"])
def test_a_retry_after_past_the_deadline_ends_the_call_at_once_with_the_answer(call: Call) -> None:
    with RawServer(response(429, {"Retry-After": "2"})) as srv:
        error, elapsed = timed(call, srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, ThrottledError), repr(error)
    assert error.retry_after == 2
    assert received == 1
    assert elapsed < TIMEOUT


def test_a_backoff_past_the_deadline_ends_the_call_with_the_last_answer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    # backoff=60: the first retry's wait is almost surely past a 0.5 s deadline.
    with RawServer(response(503)) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=TIMEOUT, max_retries=RETRIES, backoff=60)
        with client:
            error, elapsed = timed(lambda _url: client.cancel(PUBLISHER, OFFER), srv.base_url)
    assert isinstance(error, ServerError), repr(error)
    assert error.status_code == 503
    assert elapsed < TIMEOUT + MARGIN
    lines = [r.getMessage() for r in caplog.records if r.name == "cloudpartner"]
    assert any("not retrying" in line and "would pass the call's timeout" in line for line in lines), lines
    assert not any(TOKEN in line for line in lines)


# -- calls that make several requests: one deadline spans them all --------------------------------

# How long the first request's answer takes: most of the timeout, so that a second request given a
# whole timeout of its own would run the call to about twice the timeout.
FIRST_ANSWER_DELAY = 0.3
EXTERNAL_ID = "contoso-offer"


def late(delay: float, raw: bytes) -> Behaviour:
    """Send `raw` after `delay` seconds, then close."""

    def run(conn: Connection, request: RawRequest) -> None:
        if not conn.wait(delay):
            conn.send(raw)

    return run


def json_answer(document: object, status: int = 200) -> bytes:
    body = json.dumps(document).encode()
    return http_response(status, {"Content-Type": "application/json"}, body)


def page_then(next_link: str) -> bytes:
    """A page of submissions that names `next_link` as the next one."""
    return json_answer({"value": [], "@nextLink": next_link})


def slow_pages(count: int, delay: float) -> Behaviour:
    """Answer each request after `delay` seconds with a page; each of the first `count` names
    another page, so the whole list takes `count * delay` seconds to read."""
    numbers = itertools.count(1)

    def run(conn: Connection, request: RawRequest) -> None:
        number = next(numbers)
        last = json_answer({"value": []})
        if not conn.wait(delay):
            conn.send(page_then(f"submission/{GUID}?$skip={number}") if number < count else last)

    return run


LOOKUP_ANSWER = json_answer({"value": [{"id": f"product/{GUID}", "identity": {"externalId": EXTERNAL_ID}}]})

SEVERAL_REQUESTS: dict[str, Call] = {
    "list_submissions": ingestion_call("list_submissions", f"product/{GUID}"),
    "list_submissions_async": ingestion_call_async("list_submissions", f"product/{GUID}"),
    "lookup_then_list": ingestion_call("list_submissions", EXTERNAL_ID),
    "lookup_then_resource_tree": ingestion_call("get_resource_tree", EXTERNAL_ID),
    "lookup_then_resource_tree_async": ingestion_call_async("get_resource_tree", EXTERNAL_ID),
}
FIRST_ANSWERS = {
    "list_submissions": page_then(f"submission/{GUID}?$skip=1"),
    "list_submissions_async": page_then(f"submission/{GUID}?$skip=1"),
    "lookup_then_list": LOOKUP_ANSWER,
    "lookup_then_resource_tree": LOOKUP_ANSWER,
    "lookup_then_resource_tree_async": LOOKUP_ANSWER,
}


def seconds_within(error: BaseException) -> float:
    """The time the last attempt had, as a timeout's message names it."""
    found = re.search(r"no answer within ([0-9.]+) s$", str(error))
    assert found, str(error)
    return float(found.group(1))


@pytest.mark.parametrize("name", SEVERAL_REQUESTS)
def test_a_request_after_the_first_gets_only_what_is_left_of_the_call(name: str) -> None:
    # The first answer (a page naming a next one, or the external-id lookup) comes late; the
    # second request meets silence and has only the rest of the call's timeout.
    with RawServer(late(FIRST_ANSWER_DELAY, FIRST_ANSWERS[name]), hang()) as srv:
        error, elapsed = timed(SEVERAL_REQUESTS[name], srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert received == 2
    assert error.timeout == pytest.approx(TIMEOUT)
    assert str(error).startswith(f"timed out after {TIMEOUT} s: 1 attempt: ")
    # At most what the first answer left (less on a busy machine), never a whole timeout.
    assert seconds_within(error) <= TIMEOUT - FIRST_ANSWER_DELAY + 0.01


@pytest.mark.parametrize("name", ["list_submissions", "list_submissions_async"])
def test_a_list_whose_pages_each_come_slowly_ends_at_the_calls_timeout(name: str) -> None:
    # Every page comes within the timeout, but the whole list takes four times as long.
    with RawServer(slow_pages(10, 0.2)) as srv:
        error, elapsed = timed(SEVERAL_REQUESTS[name], srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, RequestTimeoutError), repr(error)
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert 2 <= received <= 3


def test_a_cancel_refused_as_too_late_reads_the_job_within_what_is_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    refusal = json_answer({"error": {"code": "badRequest", "message": "The job has already completed."}}, 400)
    with RawServer(late(FIRST_ANSWER_DELAY, refusal), hang()) as srv:
        error, elapsed = timed(ingestion_call("cancel_job", GUID), srv.base_url)
        received = len(srv.requests)
    assert isinstance(error, cloudpartner.JobAlreadyCompletedError), repr(error)
    assert error.job is None  # the read of the job's state ran out of the call's time
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert received == 2
    reads = [r.getMessage() for r in caplog.records if r.name == "cloudpartner" and "GET " in r.getMessage()]
    assert len(reads) == 1, reads
    found = re.search(r"timed out: no answer within ([0-9.]+) s", reads[0])
    assert found, reads
    assert float(found.group(1)) <= TIMEOUT - FIRST_ANSWER_DELAY + 0.01
