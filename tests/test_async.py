"""The asyncio API: results, typed errors, concurrency, cancellation and event-loop lifecycles.

No asyncio plugin is needed: each test drives its own loop with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import cloudpartner
import pytest
from cloudpartner import (
    CancelResult,
    InvalidArgumentError,
    NotFoundError,
    RequestTimeoutError,
    TransportError,
)
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import Connection, RawRequest, RawServer, hang, reset

CANCEL_PATH = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel"


def assert_cancelled(result: CancelResult, portal: FakePortal, publisher: str, offer: str) -> None:
    """`result` is the portal's answer to a cancel of publisher/offer."""
    assert isinstance(result, CancelResult)
    assert (result.publisher, result.offer, result.status_code) == (publisher, offer, 202)
    (operation,) = portal.operations(publisher, offer)
    assert operation["cancellationRequestState"] == "Requested"
    assert result.operation_id == operation["id"]
    assert result.operation_location == (
        f"{portal.base_url}/api/publishers/{publisher}/offers/{offer}/operations/{operation['id']}"
    )
    assert result.client_request_id


def hang_until_closed(closed: threading.Event) -> object:
    """A RawServer behaviour: never answer; set `closed` when the client closes the connection."""

    def run(conn: Connection, request: RawRequest) -> None:
        while not conn.stopping:
            try:
                data = conn.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            except OSError:
                break
            if not data:
                break
        if not conn.stopping:
            closed.set()

    return run


# -- results -------------------------------------------------------------------------------------------


def test_client_cancel_async(portal: FakePortal, client: cloudpartner.Client) -> None:
    result = asyncio.run(asyncio.wait_for(client.cancel_async(PUBLISHER, OFFER), 10))
    assert_cancelled(result, portal, PUBLISHER, OFFER)
    (request,) = portal.requests
    assert (request.method, request.path) == ("POST", CANCEL_PATH)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-ms-client-request-id"] == result.client_request_id


def test_client_cancel_async_with_emails(portal: FakePortal, client: cloudpartner.Client) -> None:
    emails = ["jondoe@contoso.com", "jane@contoso.com"]
    result = asyncio.run(asyncio.wait_for(client.cancel_async(PUBLISHER, OFFER, emails), 10))
    assert_cancelled(result, portal, PUBLISHER, OFFER)
    assert portal.requests[-1].body == {"metadata": {"notification-emails": ",".join(emails)}}


def test_module_level_cancel_async(portal: FakePortal) -> None:
    coroutine = cloudpartner.cancel_async(PUBLISHER, OFFER, TOKEN, base_url=portal.base_url, timeout=5.0)
    result = asyncio.run(asyncio.wait_for(coroutine, 10))
    assert_cancelled(result, portal, PUBLISHER, OFFER)


def test_module_level_cancel_async_reads_the_token_variable(
    portal: FakePortal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDPARTNER_TOKEN", TOKEN)
    monkeypatch.setenv("CLOUDPARTNER_BASE_URL", portal.base_url)
    result = asyncio.run(asyncio.wait_for(cloudpartner.cancel_async(PUBLISHER, OFFER, timeout=5.0), 10))
    assert_cancelled(result, portal, PUBLISHER, OFFER)
    assert portal.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_fifty_concurrent_cancels_in_gather(slow_portal: FakePortal) -> None:
    offers = [f"offer-{i}" for i in range(50)]
    for offer in offers:
        slow_portal.add_offer(PUBLISHER, offer)

    async def main() -> list[CancelResult]:
        async with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as c:
            calls = [c.cancel_async(PUBLISHER, offer) for offer in offers]
            return await asyncio.wait_for(asyncio.gather(*calls), 20)

    results = asyncio.run(main())
    assert [r.offer for r in results] == offers  # gather keeps the order
    for offer, result in zip(offers, results):
        assert_cancelled(result, slow_portal, PUBLISHER, offer)
    assert len({r.client_request_id for r in results}) == 50
    assert len({r.operation_id for r in results}) == 50
    assert len(slow_portal.requests) == 50


def test_two_sequential_asyncio_runs(slow_portal: FakePortal) -> None:
    slow_portal.add_offer(PUBLISHER, "first")
    slow_portal.add_offer(PUBLISHER, "second")
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as c:
        first = asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, "first"), 10))
        second = asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, "second"), 10))
        # and the module-level client, whose pool outlives each loop, twice as well
        for offer in ("third", "fourth"):
            slow_portal.add_offer(PUBLISHER, offer)
            coroutine = cloudpartner.cancel_async(PUBLISHER, offer, TOKEN, base_url=slow_portal.base_url, timeout=5.0)
            assert_cancelled(asyncio.run(asyncio.wait_for(coroutine, 10)), slow_portal, PUBLISHER, offer)
    assert_cancelled(first, slow_portal, PUBLISHER, "first")
    assert_cancelled(second, slow_portal, PUBLISHER, "second")


def test_async_with_closes_the_client(portal: FakePortal) -> None:
    async def main() -> tuple[cloudpartner.Client, CancelResult]:
        async with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as c:
            assert not c.closed
            return c, await asyncio.wait_for(c.cancel_async(PUBLISHER, OFFER), 10)

    c, result = asyncio.run(main())
    assert_cancelled(result, portal, PUBLISHER, OFFER)
    assert c.closed


def test_sync_and_async_results_agree(slow_portal: FakePortal) -> None:
    slow_portal.add_offer(PUBLISHER, "a")
    slow_portal.add_offer(PUBLISHER, "b")
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as c:
        sync = c.cancel(PUBLISHER, "a")
        async_ = asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, "b"), 10))
    assert type(sync) is type(async_) is CancelResult
    assert_cancelled(sync, slow_portal, PUBLISHER, "a")
    assert_cancelled(async_, slow_portal, PUBLISHER, "b")


# -- errors ------------------------------------------------------------------------------------------


def test_async_not_found(portal: FakePortal, client: cloudpartner.Client) -> None:
    with pytest.raises(NotFoundError) as info:
        asyncio.run(asyncio.wait_for(client.cancel_async(PUBLISHER, "no-such-offer"), 10))
    assert info.value.status_code == 404
    assert info.value.code == "NotFound"
    assert info.value.client_request_id == portal.requests[-1].headers["x-ms-client-request-id"]
    assert len(portal.requests) == 1  # a 404 is not retried


@pytest.mark.parametrize(
    ("publisher", "offer", "emails", "field"),
    [
        ("", OFFER, None, "publisher"),
        ("bad/publisher", OFFER, None, "publisher"),
        (PUBLISHER, "..", None, "offer"),
        (PUBLISHER, OFFER, "not-an-address", "emails"),
        (PUBLISHER, OFFER, [b"bytes@contoso.com"], "emails"),
    ],
)
def test_async_invalid_argument_is_raised_before_any_request(
    portal: FakePortal,
    client: cloudpartner.Client,
    publisher: str,
    offer: str,
    emails: object,
    field: str,
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        asyncio.run(asyncio.wait_for(client.cancel_async(publisher, offer, emails), 10))  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)
    assert info.value.field == field
    coroutine = cloudpartner.cancel_async(
        publisher,
        offer,
        TOKEN,
        emails,  # type: ignore[arg-type]
        base_url=portal.base_url,
    )
    with pytest.raises(InvalidArgumentError):
        asyncio.run(asyncio.wait_for(coroutine, 10))
    assert portal.requests == []


def test_async_missing_token_is_refused_before_any_request(portal: FakePortal) -> None:
    with cloudpartner.Client(None, base_url=portal.base_url, timeout=5.0) as c:
        with pytest.raises(InvalidArgumentError) as info:
            asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, OFFER), 10))
    assert info.value.field == "token"
    assert portal.requests == []


def test_async_transport_error() -> None:
    with RawServer(reset()) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=2.0, max_retries=0) as c:
            with pytest.raises(TransportError) as info:
                asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, OFFER), 10))
        assert not isinstance(info.value, RequestTimeoutError)
        assert srv.connections == 1


def test_async_request_timeout_from_the_client() -> None:
    with RawServer(hang()) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=0.5, max_retries=0) as c:
            start = time.monotonic()
            with pytest.raises(RequestTimeoutError):
                asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, OFFER), 10))
            elapsed = time.monotonic() - start
    assert 0.4 <= elapsed < 2.0


# -- cancellation ------------------------------------------------------------------------------------


def test_wait_for_timeout_abandons_the_call_and_the_loop_stays_usable(portal: FakePortal) -> None:
    closed = threading.Event()
    with RawServer(hang_until_closed(closed)) as srv:
        hanging = cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=30.0, max_retries=0)

        async def main() -> tuple[float, CancelResult]:
            start = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(hanging.cancel_async(PUBLISHER, OFFER), 0.3)
            elapsed = time.monotonic() - start
            await asyncio.sleep(0.01)
            async with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as c:
                result = await asyncio.wait_for(c.cancel_async(PUBLISHER, OFFER), 10)
            return elapsed, result

        elapsed, result = asyncio.run(asyncio.wait_for(main(), 20))
        print(f"wait_for(0.3) on a hanging server ended after {elapsed:.3f} s")
        assert elapsed < 1.0
        assert_cancelled(result, portal, PUBLISHER, OFFER)
        srv.wait_for_requests(1, timeout=2)
        # Cancelling the asyncio side drops the Rust future, which closes its connection.
        assert closed.wait(3.0), "the abandoned call kept its connection open"
        hanging.close()


def test_cancelling_the_task_is_prompt() -> None:
    closed = threading.Event()
    with RawServer(hang_until_closed(closed)) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=30.0, max_retries=0) as c:

            async def main() -> float:
                task = asyncio.ensure_future(c.cancel_async(PUBLISHER, OFFER))
                await asyncio.wait_for(asyncio.to_thread(srv.wait_for_requests, 1, 5.0), 10)
                assert not task.done()
                start = time.monotonic()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await asyncio.wait_for(task, 5)
                elapsed = time.monotonic() - start
                # the loop still runs other work
                assert await asyncio.wait_for(asyncio.sleep(0.01, result="ok"), 1) == "ok"
                return elapsed

            elapsed = asyncio.run(asyncio.wait_for(main(), 20))
        print(f"task.cancel() on a hanging call took {elapsed:.3f} s")
        assert elapsed < 0.5
        assert closed.wait(3.0), "the cancelled call kept its connection open"
