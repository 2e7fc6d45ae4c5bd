"""The exact cancel request that goes on the wire, as FakePortal received it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal, RecordedRequest
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, response

CANCEL_PATH = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel"
TWO_EMAILS = b'{"metadata":{"notification-emails":"a@x.com,b@x.com"}}'


def only_request(portal: FakePortal) -> RecordedRequest:
    requests = portal.requests
    assert len(requests) == 1, requests
    return requests[0]


def sent_body(portal: FakePortal, emails: object) -> bytes:
    """Cancel with `emails` through a fresh client and return the body the portal got."""
    portal.clear_requests()
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER, emails)
    return only_request(portal).raw_body


def test_method_path_and_query(client: cloudpartner.Client, portal: FakePortal) -> None:
    client.cancel(PUBLISHER, OFFER)
    request = only_request(portal)
    assert request.method == "POST"
    assert request.path == CANCEL_PATH
    assert request.query == {"api-version": "2017-10-31"}


def test_query_string_is_exactly_the_api_version() -> None:
    with RawServer(response(202, {"Operation-Location": "/api/operations/x"})) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=5.0) as client:
            client.cancel(PUBLISHER, OFFER)
        (request,) = srv.requests
    assert request.target == f"{CANCEL_PATH}?api-version=2017-10-31"


def test_headers(client: cloudpartner.Client, portal: FakePortal) -> None:
    result = client.cancel(PUBLISHER, OFFER)
    headers = only_request(portal).headers
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    request_id = headers["x-ms-client-request-id"]
    assert str(uuid.UUID(request_id)) == request_id.lower()
    assert result.client_request_id == request_id


@pytest.mark.parametrize("given", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"  Bearer   {TOKEN} "])
def test_bearer_prefix_is_not_doubled(portal: FakePortal, given: str) -> None:
    with cloudpartner.Client(given, base_url=portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER)
    assert only_request(portal).headers["authorization"] == f"Bearer {TOKEN}"


def test_each_call_has_its_own_client_request_id(client: cloudpartner.Client, portal: FakePortal) -> None:
    first = client.cancel(PUBLISHER, OFFER)
    second = client.cancel(PUBLISHER, OFFER)
    sent = [r.headers["x-ms-client-request-id"] for r in portal.requests]
    assert sent == [first.client_request_id, second.client_request_id]
    assert sent[0] != sent[1]


def test_user_agent_starts_with_the_given_prefix(portal: FakePortal) -> None:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, user_agent="release-bot/2.1") as client:
        client.cancel(PUBLISHER, OFFER)
    agent = only_request(portal).headers["user-agent"]
    assert agent.startswith("release-bot/2.1 ")
    assert "cloudpartner" in agent[len("release-bot/2.1 ") :]


def test_default_user_agent_names_cloudpartner(client: cloudpartner.Client, portal: FakePortal) -> None:
    client.cancel(PUBLISHER, OFFER)
    assert only_request(portal).headers["user-agent"].startswith("cloudpartner")


def test_body_with_two_emails_is_byte_exact(portal: FakePortal) -> None:
    body = sent_body(portal, "a@x.com,b@x.com")
    assert body == TWO_EMAILS
    assert json.loads(body) == {"metadata": {"notification-emails": "a@x.com,b@x.com"}}


@pytest.mark.parametrize("emails", [None, "", " , ,", []])
def test_body_without_emails_is_empty_metadata(portal: FakePortal, emails: object) -> None:
    assert sent_body(portal, emails) == b'{"metadata":{}}'


def _generator() -> Iterator[str]:
    yield "a@x.com"
    yield "b@x.com"


@pytest.mark.parametrize(
    "emails",
    [
        pytest.param("a@x.com, b@x.com", id="comma-string"),
        pytest.param(["a@x.com", "b@x.com"], id="list"),
        pytest.param(("a@x.com", "b@x.com"), id="tuple"),
        pytest.param("generator", id="generator"),
        pytest.param(["  a@x.com ", "", " ", "b@x.com  "], id="trimmed-and-empties-dropped"),
        pytest.param(["a@x.com", "b@x.com", "a@x.com"], id="duplicate-removed"),
        pytest.param("a@x.com,,b@x.com,a@x.com,", id="string-with-duplicates-and-empties"),
        pytest.param(["a@x.com, b@x.com", "b@x.com"], id="items-holding-several"),
    ],
)
def test_email_forms_all_give_the_same_body(portal: FakePortal, emails: object) -> None:
    if emails == "generator":
        emails = _generator()
    assert sent_body(portal, emails) == TWO_EMAILS


def test_duplicates_removed_keeping_first_order(portal: FakePortal) -> None:
    body = sent_body(portal, ["c@x.com", "a@x.com", "c@x.com", "b@x.com", "a@x.com"])
    assert body == b'{"metadata":{"notification-emails":"c@x.com,a@x.com,b@x.com"}}'


def test_same_client_request_id_across_retries(client: cloudpartner.Client, portal: FakePortal) -> None:
    portal.fail_next(2, 503)
    result = client.cancel(PUBLISHER, OFFER, "a@x.com,b@x.com")
    requests = portal.requests
    assert len(requests) == 3
    assert {r.headers["x-ms-client-request-id"] for r in requests} == {result.client_request_id}
    assert all(r.raw_body == TWO_EMAILS for r in requests)
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in requests)
