"""CancelResult: its shape, and what each answer of the portal maps to."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

import cloudpartner
import pytest
from cloudpartner import CancelResult
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, http_response, reply_keepalive, response

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
OPERATIONS = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/"


def portal_with(**kwargs: object) -> FakePortal:
    portal = FakePortal(cancel_seconds=60, **kwargs)  # type: ignore[arg-type]
    portal.start()
    portal.add_offer(PUBLISHER, OFFER)
    return portal


def cancel_once(portal: FakePortal) -> CancelResult:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as client:
        return client.cancel(PUBLISHER, OFFER)


def sample() -> CancelResult:
    return CancelResult(PUBLISHER, OFFER, 202, "https://h/api/operations/x", "x", "r", "c")


def test_result_is_a_frozen_dataclass() -> None:
    result = sample()
    assert dataclasses.is_dataclass(result)
    assert dataclasses.asdict(result) == {
        "publisher": PUBLISHER,
        "offer": OFFER,
        "status_code": 202,
        "operation_location": "https://h/api/operations/x",
        "operation_id": "x",
        "request_id": "r",
        "client_request_id": "c",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status_code = 200  # type: ignore[misc]
    assert result.status_code == 202


def test_result_equality_repr_and_hash() -> None:
    assert sample() == sample()
    assert sample() != dataclasses.replace(sample(), request_id="other")
    assert hash(sample()) == hash(sample())
    text = repr(sample())
    assert text.startswith("CancelResult(")
    for part in (f"publisher={PUBLISHER!r}", "status_code=202", "operation_id='x'", "client_request_id='c'"):
        assert part in text


def test_absolute_operation_location_is_kept(portal: FakePortal, client: cloudpartner.Client) -> None:
    result = client.cancel(PUBLISHER, OFFER)
    assert result.status_code == 202
    assert result.completed is False
    assert result.operation_location is not None
    assert result.operation_location.startswith(portal.base_url + OPERATIONS)
    assert result.operation_id is not None
    assert GUID.fullmatch(result.operation_id)
    assert result.operation_location == f"{portal.base_url}{OPERATIONS}{result.operation_id}"
    operation = portal.operations(PUBLISHER, OFFER)[0]
    assert result.operation_id == operation["id"]
    assert (result.publisher, result.offer) == (PUBLISHER, OFFER)


def test_relative_location_is_resolved_against_base_url() -> None:
    portal = portal_with(location_style="relative")
    try:
        result = cancel_once(portal)
        op_id = portal.operations(PUBLISHER, OFFER)[0]["id"]
    finally:
        portal.stop()
    assert result.status_code == 202
    assert result.operation_location == f"{portal.base_url}{OPERATIONS}{op_id}?api-version=2017-10-31"
    assert result.operation_id == op_id
    assert GUID.fullmatch(op_id)


def test_non_migrated_location_keeps_dollar_signs() -> None:
    portal = portal_with(location_style="non-migrated")
    try:
        result = cancel_once(portal)
    finally:
        portal.stop()
    op_id = f"{PUBLISHER}${OFFER}$1$preview"
    assert result.operation_id == op_id
    assert result.operation_location == f"{portal.base_url}/api/operations/{op_id}?api-version=2017-10-31"
    assert result.completed is False


def test_sync_cancel_is_completed_without_location() -> None:
    portal = portal_with(sync_cancel=True)
    try:
        result = cancel_once(portal)
        status = portal.operations(PUBLISHER, OFFER)[0]["status"]
    finally:
        portal.stop()
    assert result.status_code == 200
    assert result.completed is True
    assert result.operation_location is None
    assert result.operation_id is None
    assert status == "canceled"


def test_request_id_is_the_portals(client: cloudpartner.Client, portal: FakePortal) -> None:
    result = client.cancel(PUBLISHER, OFFER)
    assert result.request_id is not None
    assert re.fullmatch(r"[0-9a-f-]{36}", result.request_id)
    assert result.request_id != result.client_request_id
    assert portal.requests[-1].headers["x-ms-client-request-id"] == result.client_request_id


@pytest.mark.parametrize("header", ["x-ms-request-id", "request-id", "x-ms-correlation-request-id"])
def test_request_id_is_read_from_the_answer(header: str) -> None:
    answer = response(202, {header: "req-42", "Location": "/api/operations/op-1"})
    with RawServer(answer) as srv, cloudpartner.Client(TOKEN, base_url=srv.base_url) as client:
        result = client.cancel(PUBLISHER, OFFER)
    assert result.request_id == "req-42"
    assert result.operation_location == f"{srv.base_url}/api/operations/op-1"
    assert result.operation_id == "op-1"


def test_module_level_cancel_and_cancel_async(slow_portal: FakePortal) -> None:
    url = slow_portal.base_url
    sync = cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, "a@x.com", base_url=url, timeout=5.0)
    coro = cloudpartner.cancel_async(PUBLISHER, OFFER, TOKEN, ["a@x.com"], base_url=url, timeout=5.0)
    asynchronous = asyncio.run(coro)
    assert isinstance(sync, CancelResult)
    assert isinstance(asynchronous, CancelResult)
    assert sync.status_code == asynchronous.status_code == 202
    assert sync.operation_id is not None
    keys = ("publisher", "offer", "status_code", "operation_location", "operation_id")
    assert [getattr(sync, k) for k in keys] == [getattr(asynchronous, k) for k in keys]
    assert sync.client_request_id != asynchronous.client_request_id
    requests = slow_portal.requests
    assert [r.headers["authorization"] for r in requests] == [f"Bearer {TOKEN}"] * 2
    assert [r.raw_body for r in requests] == [b'{"metadata":{"notification-emails":"a@x.com"}}'] * 2


def test_client_cancel_async_matches_cancel(slow_portal: FakePortal) -> None:
    with cloudpartner.Client(TOKEN, base_url=slow_portal.base_url, timeout=5.0) as client:
        first = asyncio.run(client.cancel_async(PUBLISHER, OFFER))
        second = client.cancel(PUBLISHER, OFFER)
    assert isinstance(first, CancelResult)
    assert first.status_code == second.status_code == 202
    assert first.operation_location == second.operation_location
    assert first.operation_location is not None
    assert len(slow_portal.requests) == 2


KEEPALIVE_202 = http_response(
    202, {"Operation-Location": "https://cloudpartner.azure.com/api/operations/abc"}, connection="keep-alive"
)


def module_level_calls(pause: float) -> tuple[list[CancelResult], int, int]:
    """20 module-level cancels against one keep-alive server: (results, requests, connections)."""
    results = []
    with RawServer(reply_keepalive(KEEPALIVE_202)) as srv:
        for _ in range(20):
            results.append(cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=srv.base_url, timeout=5.0))
            time.sleep(pause)
        return results, len(srv.requests), srv.connections


def test_module_level_calls_reuse_one_pooled_connection() -> None:
    # A short pause lets the previous answer's connection go back to the pool first.
    results, requests, connections = module_level_calls(pause=0.01)
    assert requests == 20
    assert connections == 1
    assert {r.operation_location for r in results} == {"https://cloudpartner.azure.com/api/operations/abc"}
    assert {r.operation_id for r in results} == {"abc"}


def test_back_to_back_module_level_calls_are_pooled() -> None:
    # Without a pause hyper's pool may race a second connection against the returning one
    # (hyperium/hyper#4134); what matters is that calls do not each open their own.
    _, requests, connections = module_level_calls(pause=0)
    assert requests == 20
    assert connections <= 2
