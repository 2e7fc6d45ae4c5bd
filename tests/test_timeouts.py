"""Each kind of call gets a timeout that fits it; a timeout the caller gives bounds every call."""

from __future__ import annotations

import json
import time

import cloudpartner
import pytest
from cloudpartner import RequestTimeoutError
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

OFFER_DOCUMENT = json.dumps({"id": OFFER, "definition": {"displayText": "x"}}).encode()


def slow(delay: float, body: bytes) -> object:
    """Answer 200 with `body` after `delay` seconds, as GET offer has done for minutes."""

    def run(conn: Connection, request: RawRequest) -> None:
        time.sleep(delay)
        conn.send(http_response(200, {"Content-Type": "application/json", "ETag": '"1"'}, body))

    return run


def test_a_slow_offer_read_is_waited_for_by_default() -> None:
    with RawServer(slow(0.6, OFFER_DOCUMENT)) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0)
        assert client.get_offer(PUBLISHER, OFFER).etag == '"1"'


def test_a_timeout_given_bounds_document_calls_too() -> None:
    with RawServer(slow(1.5, OFFER_DOCUMENT)) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=0.3, max_retries=0)
        started = time.monotonic()
        with pytest.raises(RequestTimeoutError) as caught:
            client.get_offer(PUBLISHER, OFFER)
        assert time.monotonic() - started < 1.2
    assert caught.value.timeout == pytest.approx(0.3)


def test_the_defaults_are_documented_constants() -> None:
    assert cloudpartner._core.DEFAULT_TIMEOUT == 30.0
    assert cloudpartner._core.DEFAULT_DOCUMENT_TIMEOUT == 300.0
