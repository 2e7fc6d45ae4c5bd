"""get_operation and list_operations, sync and async: locations, api-version, fields and statuses."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import cloudpartner
import pytest
from cloudpartner import (
    CancelResult,
    InvalidArgumentError,
    MalformedResponseError,
    NotFoundError,
    Operation,
    OperationStep,
    TransportError,
)
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response, response

API_VERSION = "2017-10-31"
STYLES = ("absolute", "relative", "non-migrated")
MODES = ("sync", "async")
BIG_VERSION = 18446744073709551617  # 2**64 + 1: neither a double nor a u64 holds it


# -- helpers -------------------------------------------------------------------------------------------


def get(client: cloudpartner.Client, location: Any, mode: str) -> Operation:
    """get_operation or get_operation_async, with a bounded wait."""
    if mode == "sync":
        return client.get_operation(location)
    return asyncio.run(asyncio.wait_for(client.get_operation_async(location), 10))


def listing(client: cloudpartner.Client, mode: str, status: str | None = None) -> list[Operation]:
    if mode == "sync":
        return client.list_operations(PUBLISHER, OFFER, status=status)
    return asyncio.run(asyncio.wait_for(client.list_operations_async(PUBLISHER, OFFER, status=status), 10))


def call_list(client: cloudpartner.Client, publisher: str, offer: str, mode: str) -> list[Operation]:
    if mode == "sync":
        return client.list_operations(publisher, offer)
    return asyncio.run(asyncio.wait_for(client.list_operations_async(publisher, offer), 10))


def parse_time(text: str) -> datetime:
    """The service's timestamps carry seven fraction digits; strptime takes six."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.strptime(f"{whole}.{fraction[:6]}", "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def operation_path(style: str, operation_id: str) -> str:
    """The path FakePortal's location names in each style."""
    if style == "non-migrated":
        return f"/api/operations/{operation_id}"
    return f"/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/{operation_id}"


def op_json(status: str, **extra: Any) -> bytes:
    body = {"id": "op-1", "status": status, "publisherId": PUBLISHER, "offerId": OFFER, **extra}
    return json.dumps(body).encode()


def json_answer(body: bytes, status: int = 200) -> bytes:
    return http_response(status, {"Content-Type": "application/json"}, body)


def echo_status(conn: Connection, request: RawRequest) -> None:
    """A RawServer behaviour: answer an operation whose status is the last path segment."""
    status = unquote(urlsplit(request.target).path.rsplit("/", 1)[-1])
    conn.send(json_answer(op_json(status)))


@pytest.fixture
def portals() -> Iterator[dict[str, FakePortal]]:
    """One started portal per location style, each with the offer running."""
    started = {style: FakePortal(location_style=style, cancel_seconds=30) for style in STYLES}
    try:
        for fake in started.values():
            fake.start()
            fake.add_offer(PUBLISHER, OFFER)
        yield started
    finally:
        for fake in started.values():
            fake.stop()


@pytest.fixture(scope="module")
def status_server() -> Iterator[RawServer]:
    with RawServer(echo_status) as srv:
        yield srv


@pytest.fixture
def status_client(status_server: RawServer) -> Iterator[cloudpartner.Client]:
    with cloudpartner.Client(TOKEN, base_url=status_server.base_url, timeout=5.0, max_retries=0) as c:
        yield c


# -- get_operation: every location style, sync and async ---------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("given", ["result", "location"])
def test_get_operation_in_every_location_style(portals: dict[str, FakePortal], style: str, mode: str, given: str):
    fake = portals[style]
    with cloudpartner.Client(TOKEN, base_url=fake.base_url, timeout=5.0) as client:
        result = client.cancel(PUBLISHER, OFFER)
        assert result.status_code == 202 and result.operation_location
        fake.clear_requests()
        op = get(client, result if given == "result" else result.operation_location, mode)
    (expected,) = fake.operations(PUBLISHER, OFFER)
    assert isinstance(op, Operation)
    assert op.id == expected["id"] == result.operation_id
    assert op.status == "running"
    assert (op.publisher, op.offer) == (PUBLISHER, OFFER)
    (request,) = fake.requests
    assert request.method == "GET"
    assert request.path == operation_path(style, expected["id"])
    assert request.query == {"api-version": API_VERSION}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("mode", MODES)
def test_get_operation_from_a_relative_path_given_by_hand(portal: FakePortal, client: cloudpartner.Client, mode: str):
    result = client.cancel(PUBLISHER, OFFER)
    portal.clear_requests()
    path = operation_path("relative", result.operation_id or "")
    op = get(client, path, mode)
    assert op.id == result.operation_id
    (request,) = portal.requests
    assert request.path == path


@pytest.mark.parametrize("mode", MODES)
def test_api_version_is_added_when_missing(portal: FakePortal, client: cloudpartner.Client, mode: str):
    result = client.cancel(PUBLISHER, OFFER)
    assert result.operation_location and "api-version" not in result.operation_location  # absolute style
    portal.clear_requests()
    get(client, result.operation_location, mode)
    (request,) = portal.requests
    assert request.query == {"api-version": API_VERSION}


def test_api_version_keeps_other_query_parameters(portal: FakePortal, client: cloudpartner.Client):
    result = client.cancel(PUBLISHER, OFFER)
    portal.clear_requests()
    client.get_operation(f"{result.operation_location}?expand=steps")
    (request,) = portal.requests
    assert request.query == {"expand": "steps", "api-version": API_VERSION}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "query",
    [f"api-version={API_VERSION}", "api-version=2099-01-01", f"x=1&api-version={API_VERSION}"],
)
def test_api_version_is_not_doubled_when_present(status_client: cloudpartner.Client, status_server, query, mode):
    before = len(status_server.requests)
    op = get(status_client, f"/api/operations/running?{query}", mode)
    assert op.status == "running"
    request = status_server.requests[before]
    pairs = parse_qsl(urlsplit(request.target).query)
    assert [value for name, value in pairs if name == "api-version"] == [dict(parse_qsl(query))["api-version"]]
    assert sorted(pairs) == sorted(parse_qsl(query))


def other_hosts(location: str) -> list[str]:
    parts = urlsplit(location)
    return [
        location.replace("127.0.0.1", "localhost"),
        location.replace(f":{parts.port}", f":{parts.port + 1 if parts.port < 65535 else 1}"),
        location.replace("http://", "https://"),
        "https://evil.example" + parts.path,
        "//evil.example" + parts.path,
        "http://user@" + parts.netloc + parts.path,
    ]


@pytest.mark.parametrize("mode", MODES)
def test_location_on_another_host_is_refused_before_sending(portal: FakePortal, client: cloudpartner.Client, mode):
    result = client.cancel(PUBLISHER, OFFER)
    assert result.operation_location
    portal.clear_requests()
    for location in other_hosts(result.operation_location):
        with pytest.raises(InvalidArgumentError) as caught:
            get(client, location, mode)
        assert caught.value.field == "location", location
        forged = dataclasses.replace(result, operation_location=location)
        with pytest.raises(InvalidArgumentError):
            get(client, forged, mode)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("location", ["", "   ", "/api/operations/x\r\nX-Injected: 1", "/api/operations/x#frag"])
def test_malformed_locations_are_refused(portal: FakePortal, client: cloudpartner.Client, location: str, mode):
    with pytest.raises(InvalidArgumentError):
        get(client, location, mode)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_a_location_of_the_wrong_type_is_refused(client: cloudpartner.Client, portal: FakePortal, mode: str):
    for value in (None, 42, b"/api/operations/x"):
        with pytest.raises(InvalidArgumentError):
            get(client, value, mode)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_a_result_without_location_is_refused(client: cloudpartner.Client, portal: FakePortal, mode: str):
    with pytest.raises(InvalidArgumentError):
        get(client, CancelResult(PUBLISHER, OFFER, 202), mode)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("style", STYLES)
def test_unknown_operation_is_not_found(portals: dict[str, FakePortal], style: str, mode: str):
    fake = portals[style]
    missing = "contoso$contoso-virtualmachineoffer$99$preview" if style == "non-migrated" else "0" * 8
    with cloudpartner.Client(TOKEN, base_url=fake.base_url, timeout=5.0) as client:
        with pytest.raises(NotFoundError) as caught:
            get(client, operation_path(style, missing), mode)
    assert caught.value.status_code == 404
    assert len(fake.requests) == 1  # a 404 is not retried


def test_operation_of_another_offer_is_not_found(portal: FakePortal, client: cloudpartner.Client):
    portal.add_offer(PUBLISHER, "other-offer")
    result = client.cancel(PUBLISHER, OFFER)
    wrong = f"/api/publishers/{PUBLISHER}/offers/other-offer/operations/{result.operation_id}"
    with pytest.raises(NotFoundError):
        client.get_operation(wrong)


# -- Operation fields ----------------------------------------------------------------------------------


def test_operation_fields(portal: FakePortal, client: cloudpartner.Client):
    result = client.cancel(PUBLISHER, OFFER)
    op = client.get_operation(result)
    (expected,) = portal.operations(PUBLISHER, OFFER)
    assert op.id == expected["id"]
    assert op.status == "running"
    assert (op.publisher, op.offer, op.submission_type) == (PUBLISHER, OFFER, "publish")
    assert op.cancellation_state == "Requested" and not op.waiting_for_review
    for value, text in ((op.created, expected["createdDateTime"]), (op.changed, expected["lastActionDateTime"])):
        assert isinstance(value, datetime)
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
        assert abs(value - parse_time(text)) < timedelta(milliseconds=2)
    assert op.created <= op.changed
    assert isinstance(op.steps, tuple) and len(op.steps) == 6
    assert all(isinstance(step, OperationStep) for step in op.steps)
    assert [s.name for s in op.steps] == [s["stepName"] for s in expected["steps"]]
    assert [s.status for s in op.steps] == [s["status"] for s in expected["steps"]]
    first = expected["steps"][0]
    assert (op.steps[0].id, op.steps[0].name, op.steps[0].status, op.steps[0].progress) == (
        "displaydummycertify",
        "Validate Pre-Requisites",
        "complete",
        100.0,
    )
    assert op.steps[0].estimated_time_frame == first["estimatedTimeFrame"] == "< 15 min"
    assert op.steps[0].description == first["description"]
    (message,) = op.steps[0].messages
    assert (message.level, message.text) == ("information", "Step completed.")
    assert message.timestamp == parse_time(first["messages"][0]["timestamp"])
    assert 40 <= op.steps[1].progress < 100
    assert all(isinstance(s.progress, float) for s in op.steps)
    assert (op.is_terminal, op.succeeded, op.failed, op.canceled) == (False, False, False, False)
    assert op.phase == "pending"


def test_raw_keeps_the_whole_object_and_big_integers_exact(portal: FakePortal, client: cloudpartner.Client):
    result = client.cancel(PUBLISHER, OFFER, "a@contoso.com")
    op = client.get_operation(result)
    (expected,) = portal.operations(PUBLISHER, OFFER)
    assert isinstance(op.raw, dict)
    assert expected["version"] > 2**53
    assert type(op.raw["version"]) is int
    assert op.raw["version"] == expected["version"]
    assert float(op.raw["version"]) != op.raw["version"]  # a double could not have held it
    assert op.raw["notificationEmails"] == "a@contoso.com"
    assert op.raw["cancellationRequestState"] == "Requested"
    assert set(op.raw) == set(expected)


def test_raw_keeps_integers_beyond_64_bits():
    answer = response(200, {"Content-Type": "application/json"}, op_json("running", version=BIG_VERSION))
    with RawServer(answer) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            op = client.get_operation("/api/operations/op-1")
    assert type(op.raw["version"]) is int
    assert op.raw["version"] == BIG_VERSION


def test_operation_is_a_frozen_dataclass(portal: FakePortal, client: cloudpartner.Client):
    result = client.cancel(PUBLISHER, OFFER)
    op = client.get_operation(result)
    assert dataclasses.is_dataclass(op)
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.status = "canceled"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.steps[0].progress = 1.0  # type: ignore[misc]
    changed = dataclasses.replace(op, status="Cancelled")
    assert changed.canceled and not op.canceled
    assert changed != op
    assert op == dataclasses.replace(op)
    assert hash(op) == hash(dataclasses.replace(op))
    as_dict = dataclasses.asdict(op)
    assert as_dict["id"] == op.id and as_dict["steps"][0]["name"] == "Validate Pre-Requisites"
    assert "raw" not in repr(op)  # raw stays out of the repr


# -- statuses --------------------------------------------------------------------------------------------

TERMINAL = [
    ("complete", "succeeded"),
    ("Completed", "succeeded"),
    ("succeeded", "succeeded"),
    ("SUCCEEDED", "succeeded"),
    ("failed", "failed"),
    ("Failed", "failed"),
    ("canceled", "canceled"),
    ("Cancelled", "canceled"),
    ("CANCELED", "canceled"),
]
PENDING = ["running", "inProgress", "notStarted", "not started", "blocked", "waitingForPublisherReview", "somethingNew"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "phase"), TERMINAL)
def test_terminal_status_spellings(status_client: cloudpartner.Client, status: str, phase: str, mode: str):
    op = get(status_client, f"/api/operations/{status}", mode)
    assert op.status == status  # as the service spelled it
    assert op.is_terminal
    assert op.phase == phase
    assert (op.succeeded, op.failed, op.canceled) == (phase == "succeeded", phase == "failed", phase == "canceled")


@pytest.mark.parametrize("status", PENDING)
def test_other_statuses_are_not_terminal(status_client: cloudpartner.Client, status: str):
    op = get(status_client, f"/api/operations/{status}", "sync")
    assert op.status == status
    assert not op.is_terminal
    assert op.phase == "pending"
    assert not (op.succeeded or op.failed or op.canceled)


# -- malformed answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body>Service maintenance</body></html>"),
        ("application/json", b"[]"),
        # One operation in a list is the documented shape (tests/reference); two are not one.
        ("application/json", b'[{"id": "op-1", "status": "running"}, {"id": "op-2", "status": "running"}]'),
        ("application/json", b'"running"'),
        ("application/json", b""),
    ],
)
def test_unreadable_operation_answer_is_malformed(content_type: str, body: bytes, mode: str):
    with RawServer(response(200, {"Content-Type": content_type}, body)) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            with pytest.raises(MalformedResponseError) as caught:
                get(client, "/api/operations/op-1", mode)
        assert len(srv.requests) == 1
    assert isinstance(caught.value, TransportError)
    assert caught.value.status_code == 200


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body", [b"<html/>", b'{"nope": 1}', b"[1, 2]", b"{"])
def test_unreadable_operation_list_is_malformed(body: bytes, mode: str):
    with RawServer(response(200, {"Content-Type": "application/json"}, body)) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            with pytest.raises(MalformedResponseError):
                listing(client, mode)


# -- list_operations -------------------------------------------------------------------------------------


@pytest.fixture
def history() -> Iterator[FakePortal]:
    """An offer with an old, canceled operation and a newer running one."""
    with FakePortal(cancel_seconds=0) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        with cloudpartner.Client(TOKEN, base_url=fake.base_url, timeout=5.0) as c:
            c.cancel(PUBLISHER, OFFER)
        fake.add_offer(PUBLISHER, OFFER)  # starts a second operation
        fake.clear_requests()
        yield fake


@pytest.mark.parametrize("mode", MODES)
def test_list_operations_newest_first(history: FakePortal, mode: str):
    with cloudpartner.Client(TOKEN, base_url=history.base_url, timeout=5.0) as client:
        found = listing(client, mode)
    expected = history.operations(PUBLISHER, OFFER)
    assert len(expected) == 2
    assert [op.id for op in found] == [op["id"] for op in expected]
    assert [op.status for op in found] == ["running", "canceled"]
    assert all(isinstance(op, Operation) for op in found)
    assert found[0].changed >= found[1].changed  # list items carry changedTime
    assert [op.raw["version"] for op in found] == [op["version"] for op in expected]
    (request,) = history.requests
    assert request.method == "GET"
    assert request.path == f"/api/publishers/{PUBLISHER}/offers/{OFFER}/submissions"
    assert request.query == {"api-version": API_VERSION}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("status", "index"), [("running", 0), ("canceled", 1), ("completed", None)])
def test_list_operations_with_a_status_filter(history: FakePortal, status: str, index: int | None, mode: str):
    with cloudpartner.Client(TOKEN, base_url=history.base_url, timeout=5.0) as client:
        found = listing(client, mode, status=status)
    expected = history.operations(PUBLISHER, OFFER)
    assert [op.id for op in found] == ([] if index is None else [expected[index]["id"]])
    (request,) = history.requests
    assert request.query == {"api-version": API_VERSION, "status": status}


def test_list_operations_of_an_unknown_offer_is_not_found(portal: FakePortal, client: cloudpartner.Client):
    with pytest.raises(NotFoundError):
        client.list_operations(PUBLISHER, "no-such-offer")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", ["a&b", "running&x=1", "a=b", "run/ning", "x" * 65, "", "   ", "r\nx", "ünïcode"])
def test_status_filter_with_bad_characters_is_refused(portal: FakePortal, client, status: str, mode: str):
    with pytest.raises(InvalidArgumentError) as caught:
        listing(client, mode, status=status)
    assert caught.value.field == "status"
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("publisher", "offer"), [("con/toso", OFFER), (PUBLISHER, "bad/offer"), ("", OFFER)])
def test_list_operations_refuses_bad_ids(portal: FakePortal, client, publisher: str, offer: str, mode: str):
    with pytest.raises(InvalidArgumentError):
        call_list(client, publisher, offer, mode)
    assert portal.requests == []


def operation_json(status: str, created: str = "2018-09-13T18:25:43Z") -> bytes:
    return json.dumps({"id": "op", "status": status, "createdDateTime": created, "steps": []}).encode()


@pytest.mark.parametrize("created", ["0000-01-01T00:00:00Z", "9999-12-31T23:00:00-05:00", "2016-12-31T23:59:60Z"])
def test_timestamps_no_datetime_can_hold_are_none_not_errors(created: str) -> None:
    with RawServer(response(200, {"Content-Type": "application/json"}, operation_json("running", created))) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url)
        op = client.get_operation("/api/operations/op")
    if created.endswith(":60Z"):
        assert op.created is not None
        assert op.created.second == 59  # a leap second folds into the second before
    else:
        assert op.created is None
    assert op.raw["createdDateTime"] == created
