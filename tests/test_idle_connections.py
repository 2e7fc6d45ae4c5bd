"""Pooled connections the server closed while idle never fail a call, and big answers are read whole.

Load balancers close keep-alive connections that sit idle (after minutes, or less). A call that
reuses such a connection must not fail for it: the pool notices the close before reuse, and a
request lost on a reused connection before any answer came back is sent once more on a new
connection (GETs, and the cancel, which the service answers with 202 again).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator

import cloudpartner
import pytest
from cloudpartner import MalformedResponseError, ResponseTooLargeError, TransportError
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import (
    RawRequest,
    RawServer,
    http_response,
    huge_body,
    keepalive_closing_idle,
    keepalive_then_reset,
    reset,
)

IDLE = 0.15  # the server closes a connection idle for this long
RESENT = "sending again on a new connection"
OPERATION = {"id": "op-1", "status": "running", "steps": []}
MIB = 1024 * 1024


def answer(request: RawRequest) -> bytes:
    """What the portal answers: a 202 with a location for a cancel, an operation for a GET."""
    if request.method == "POST":
        location = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/op-1?api-version=2017-10-31"
        return http_response(202, {"Location": location}, connection="keep-alive")
    return http_response(
        200, {"Content-Type": "application/json"}, json.dumps(OPERATION).encode(), connection="keep-alive"
    )


@pytest.fixture
def idle_closing() -> Iterator[RawServer]:
    with RawServer(keepalive_closing_idle(answer, IDLE)) as srv:
        yield srv


def make_client(srv: RawServer, **settings: object) -> cloudpartner.Client:
    options: dict = {"base_url": srv.base_url, "timeout": 5.0, "backoff": 0.01, **settings}
    return cloudpartner.Client(TOKEN, **options)


def call(client: cloudpartner.Client, n: int) -> None:
    """Alternate the cancel POST and the operation GET."""
    if n % 2:
        client.get_operation(f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/op-1")
    else:
        assert client.cancel(PUBLISHER, OFFER).status_code == 202


async def call_async(client: cloudpartner.Client, n: int) -> None:
    if n % 2:
        await client.get_operation_async(f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/op-1")
    else:
        assert (await client.cancel_async(PUBLISHER, OFFER)).status_code == 202


# Calls spaced just under, at and just over the server's idle close: "at" is the race where the
# server closes the connection while the request is on its way.
SPACINGS = {"under": IDLE * 0.8, "at": IDLE, "over": IDLE * 1.3}


@pytest.mark.parametrize("spacing", SPACINGS.values(), ids=SPACINGS.keys())
def test_sync_calls_spaced_around_the_idle_close_never_fail(idle_closing: RawServer, spacing: float) -> None:
    with make_client(idle_closing, max_retries=0) as client:
        for n in range(6):
            call(client, n)
            time.sleep(spacing)
    assert len(idle_closing.requests) >= 6


@pytest.mark.parametrize("spacing", SPACINGS.values(), ids=SPACINGS.keys())
def test_async_calls_spaced_around_the_idle_close_never_fail(idle_closing: RawServer, spacing: float) -> None:
    async def main() -> None:
        async with make_client(idle_closing, max_retries=0) as client:
            for n in range(6):
                await call_async(client, n)
                await asyncio.sleep(spacing)

    asyncio.run(main())


@pytest.mark.parametrize("spacing", SPACINGS.values(), ids=SPACINGS.keys())
def test_eight_threads_spaced_around_the_idle_close_never_fail(idle_closing: RawServer, spacing: float) -> None:
    failures: list[BaseException] = []

    def worker(client: cloudpartner.Client, first: int) -> None:
        try:
            for n in range(first, first + 4):
                call(client, n)
                time.sleep(spacing)
        except BaseException as exc:
            failures.append(exc)

    with make_client(idle_closing, max_retries=0) as client:
        threads = [threading.Thread(target=worker, args=(client, i)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert failures == []
    assert len(idle_closing.requests) >= 32


@pytest.mark.parametrize("spacing", SPACINGS.values(), ids=SPACINGS.keys())
def test_cancel_many_rounds_spaced_around_the_idle_close_never_fail(idle_closing: RawServer, spacing: float) -> None:
    offers = [(PUBLISHER, f"offer-{i}") for i in range(8)]
    with make_client(idle_closing, max_retries=0) as client:
        for _ in range(3):
            results = client.cancel_many(offers, concurrency=8)
            assert [r.status_code for r in results] == [202] * 8
            time.sleep(spacing)


def test_a_long_idle_gap_after_the_server_closed_never_fails(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    with RawServer(keepalive_closing_idle(answer, 0.05)) as srv, make_client(srv, max_retries=0) as client:
        for n in range(3):
            call(client, n)
            time.sleep(0.6)  # the server closed the connection long before the next call
    # The pool saw each close before reuse: nothing had to be sent again.
    assert not [r for r in caplog.records if RESENT in r.getMessage()]
    assert len(srv.requests) == 3


def test_a_cancel_reset_on_a_reused_connection_is_sent_once_more_then_follows_the_retry_rules(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    first = http_response(202, {"Location": "/api/operations/op-1"}, connection="keep-alive")
    with RawServer(keepalive_then_reset(first), reset()) as srv, make_client(srv, max_retries=3) as client:
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
        # The server reads the next cancel whole, then resets: from here it could not tell a
        # connection closed while idle from this, so the cancel (idempotent) goes once more on a
        # new connection; that one is reset too, and the cancel is then retried as configured.
        with pytest.raises(TransportError):
            client.cancel(PUBLISHER, OFFER)
    # 1 answered + 1 lost on the reused connection + the resend + 3 retries.
    assert [r.method for r in srv.requests] == ["POST"] * 6
    assert srv.connections == 5
    assert sum(RESENT in r.getMessage() for r in caplog.records) == 1


def test_a_get_reset_on_a_reused_connection_is_sent_once_more_then_retried_as_configured() -> None:
    body = json.dumps(OPERATION).encode()
    first = http_response(200, {"Content-Type": "application/json"}, body, connection="keep-alive")
    with RawServer(keepalive_then_reset(first), reset()) as srv, make_client(srv, max_retries=2) as client:
        client.get_operation("/api/operations/op-1")
        with pytest.raises(TransportError):
            client.get_operation("/api/operations/op-1")
    # 1 answered + 1 lost on the reused connection + the resend + 2 retries.
    assert len(srv.requests) == 5


def big_list(count: int) -> bytes:
    item = {
        "id": "00000000-0000-0000-0000-000000000000",
        "submissionType": "Publish",
        "status": "completed",
        "publishingVersion": 7,
        "version": 636576975611768314,
        "steps": [{"stepName": "x" * 200, "status": "complete", "progressPercentage": 100}],
    }
    return json.dumps([{**item, "id": f"op-{i}"} for i in range(count)]).encode()


def test_a_five_megabyte_list_of_operations_is_read_whole_and_parsed() -> None:
    body = big_list(14_000)
    assert len(body) > 5 * 1000 * 1000
    raw = http_response(200, {"Content-Type": "application/json"}, body)
    with RawServer(lambda conn, _req: conn.send(raw)) as srv, make_client(srv) as client:
        operations = client.list_operations(PUBLISHER, OFFER)
    assert len(operations) == 14_000
    assert operations[-1].id == "op-13999"
    assert operations[0].raw["version"] == 636576975611768314


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_success_answer_over_the_limit_is_a_clear_error_not_a_parse_error(declared: bool) -> None:
    limit = cloudpartner._core.MAX_SUCCESS_BODY_BYTES
    assert limit == 64 * MIB
    if declared:
        behaviour = huge_body(200, limit + 1)
    else:

        def behaviour(conn, _request) -> None:  # type: ignore[no-untyped-def]
            conn.send(http_response(200, {"Transfer-Encoding": "chunked"}))
            piece = b"x" * MIB
            for _ in range(65):
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")

    with RawServer(behaviour) as srv, make_client(srv, timeout=30.0) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            client.list_operations(PUBLISHER, OFFER)
    error = caught.value
    assert isinstance(error, MalformedResponseError)
    assert (error.limit, error.status_code) == (limit, 200)
    assert "larger than the 64 MiB" in str(error)
    assert "parse" not in str(error).lower() and "EOF" not in str(error)


def test_a_success_body_that_breaks_off_says_so() -> None:
    head = http_response(200, {"Content-Type": "application/json", "Content-Length": "1000"})
    with RawServer(lambda conn, _req: conn.send(head + b'[{"id": "op')) as srv, make_client(srv) as client:
        with pytest.raises(MalformedResponseError, match="broke off after 11 bytes"):
            client.list_operations(PUBLISHER, OFFER)
