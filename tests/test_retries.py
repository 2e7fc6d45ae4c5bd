"""Retry policy: what is retried, how often, how long it waits, and what is never retried."""

from __future__ import annotations

import email.utils
import logging
import math
import time

import cloudpartner
import pytest
from cloudpartner import ApiError, RequestTimeoutError, ServerError, ThrottledError, TransportError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang, refused_port


def make_client(base_url: str, **settings: object) -> cloudpartner.Client:
    options: dict[str, object] = {"timeout": 5.0, "backoff": 0.01, **settings}
    return cloudpartner.Client(TOKEN, base_url=base_url, **options)  # type: ignore[arg-type]


def timed_failure(client: cloudpartner.Client, expected: type[Exception]) -> tuple[Exception, float]:
    started = time.monotonic()
    with pytest.raises(expected) as info:
        client.cancel(PUBLISHER, OFFER)
    return info.value, time.monotonic() - started


def test_two_503_then_success(client: cloudpartner.Client, portal: FakePortal) -> None:
    portal.fail_next(2, 503)
    result = client.cancel(PUBLISHER, OFFER)
    assert result.status_code == 202
    assert len(portal.requests) == 3


@pytest.mark.parametrize("status", [408, 429, 500, 502, 504])
def test_every_transient_status_is_retried(portal: FakePortal, status: int) -> None:
    portal.fail_next(1, status)
    with make_client(portal.base_url) as client:
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
    assert len(portal.requests) == 2


def test_retries_stop_after_max_retries(portal: FakePortal) -> None:
    portal.fail_next(5, 503)
    with make_client(portal.base_url, max_retries=3) as client:
        error, _ = timed_failure(client, ServerError)
    assert isinstance(error, ServerError)
    assert error.status_code == 503
    assert len(portal.requests) == 4


def test_max_retries_zero_sends_once(portal: FakePortal) -> None:
    portal.fail_next(2, 503)
    with make_client(portal.base_url, max_retries=0) as client:
        timed_failure(client, ServerError)
    assert len(portal.requests) == 1


def _two_seconds_ahead_as_http_date() -> str:
    # An HTTP date has whole seconds: aim 2 s past the current second, so the wait is 1 to 2 s.
    return email.utils.formatdate(math.floor(time.time()) + 2, usegmt=True)


@pytest.mark.parametrize("retry_after", [lambda: "1", _two_seconds_ahead_as_http_date], ids=["seconds", "http-date"])
def test_retry_after_is_honoured(portal: FakePortal, retry_after) -> None:
    portal.fail_next(1, 429, retry_after=retry_after())
    with make_client(portal.base_url) as client:
        started = time.monotonic()
        result = client.cancel(PUBLISHER, OFFER)
        elapsed = time.monotonic() - started
    assert result.status_code == 202
    assert len(portal.requests) == 2
    assert 0.9 <= elapsed < 5.0


def test_long_retry_after_fails_at_once(portal: FakePortal) -> None:
    portal.fail_next(1, 429, retry_after="3600")
    with make_client(portal.base_url) as client:
        error, elapsed = timed_failure(client, ThrottledError)
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 3600
    assert len(portal.requests) == 1
    assert elapsed < 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_client_errors_are_never_retried(portal: FakePortal, status: int) -> None:
    portal.fail_next(3, status)
    with make_client(portal.base_url, max_retries=3) as client:
        error, _ = timed_failure(client, ApiError)
    assert isinstance(error, ApiError)
    assert error.status_code == status
    assert len(portal.requests) == 1


def test_retry_after_on_a_client_error_does_not_cause_a_retry(portal: FakePortal) -> None:
    portal.fail_next(2, 400, retry_after="0")
    with make_client(portal.base_url) as client:
        timed_failure(client, ApiError)
    assert len(portal.requests) == 1


def test_success_after_retries_is_counted_per_call(slow_portal: FakePortal) -> None:
    with make_client(slow_portal.base_url, max_retries=1) as client:
        slow_portal.fail_next(1, 503)
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
        slow_portal.fail_next(1, 503)
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
    assert len(slow_portal.requests) == 4


@pytest.mark.parametrize("max_retries", [0, 2])
def test_connection_refused_is_retried_then_transport_error(caplog: pytest.LogCaptureFixture, max_retries: int) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    client = make_client(f"http://127.0.0.1:{refused_port()}", max_retries=max_retries)
    with client:
        error, elapsed = timed_failure(client, TransportError)
    assert type(error) is TransportError
    assert "refused" in str(error).lower()
    attempts = [r for r in caplog.records if r.name == "cloudpartner" and "connect failed" in r.getMessage()]
    assert len(attempts) == max_retries + 1
    assert elapsed < 3.0


def test_a_cancel_that_timed_out_had_the_whole_timeout_and_is_not_sent_again() -> None:
    with RawServer(hang()) as srv:
        with make_client(srv.base_url, timeout=0.3, max_retries=2) as client:
            error, elapsed = timed_failure(client, RequestTimeoutError)
        time.sleep(0.2)  # a retry, if any, would arrive within this
        received = len(srv.requests)
    assert isinstance(error, RequestTimeoutError)
    # The timeout bounds the call, retries included: the first attempt used all of it.
    assert received == 1
    assert 0.3 <= elapsed < 1.8


def test_a_publish_that_timed_out_is_not_sent_again() -> None:
    with RawServer(hang()) as srv:
        with make_client(srv.base_url, timeout=0.5, max_retries=3) as client:
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError):
                client.publish(PUBLISHER, OFFER)
            elapsed = time.monotonic() - started
        time.sleep(0.2)  # a retry, if any, would arrive within this
        received = len(srv.requests)
        connections = srv.connections
    assert received == 1
    assert connections == 1
    assert 0.45 <= elapsed < 1.5
