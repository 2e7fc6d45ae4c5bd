"""Misbehaving servers: every broken answer ends as a typed result or exception, on time.

Each case points a Client (short timeout, small backoff) at a scripted RawServer on 127.0.0.1
and checks three things: the exception class (always a CloudPartnerError subclass), that the
call ended within its bound (measured), and what reached the server (so a case cannot pass by
never sending anything).
"""

from __future__ import annotations

import logging
import time

import cloudpartner
import pytest
from cloudpartner import (
    ApiError,
    CancelResult,
    CloudPartnerError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import (
    RawServer,
    chunked_broken,
    dribble,
    hang,
    http_response,
    huge_body,
    refused_port,
    reply,
    reset,
    reset_after,
    response,
    truncated,
)

MIB = 1024 * 1024
CANCEL_TARGET = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel?api-version=2017-10-31"
LOCATION = f"http://127.0.0.1/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/op-1"
# A prompt failure (nothing to wait for) must come well inside this, on a loaded CI machine too.
QUICK = 1.0


def make_client(base_url: str, *, timeout: float = 1.0, max_retries: int = 0) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=base_url, timeout=timeout, max_retries=max_retries, backoff=0.01)


def timed_cancel(client: cloudpartner.Client) -> tuple[CancelResult | BaseException, float]:
    """Run one cancel; return its result or exception and the seconds it took."""
    start = time.monotonic()
    try:
        outcome: CancelResult | BaseException = client.cancel(PUBLISHER, OFFER)
    except BaseException as exc:  # the test inspects whatever came out
        outcome = exc
    elapsed = time.monotonic() - start
    client.close()
    print(f"elapsed {elapsed:.3f} s -> {type(outcome).__name__}")
    return outcome, elapsed


def expect_error(
    cls: type[BaseException], base_url: str, *, timeout: float = 1.0, max_retries: int = 0
) -> tuple[BaseException, float]:
    outcome, elapsed = timed_cancel(make_client(base_url, timeout=timeout, max_retries=max_retries))
    assert isinstance(outcome, BaseException), f"expected {cls.__name__}, got a result: {outcome!r}"
    assert isinstance(outcome, CloudPartnerError), f"untyped failure: {outcome!r}"
    assert isinstance(outcome, cls), f"expected {cls.__name__}, got {outcome!r}"
    assert TOKEN not in str(outcome)
    assert TOKEN not in repr(outcome)
    return outcome, elapsed


def expect_result(base_url: str, *, timeout: float = 1.0, max_retries: int = 0) -> tuple[CancelResult, float]:
    outcome, elapsed = timed_cancel(make_client(base_url, timeout=timeout, max_retries=max_retries))
    assert isinstance(outcome, CancelResult), f"expected a CancelResult, got {outcome!r}"
    assert (outcome.publisher, outcome.offer) == (PUBLISHER, OFFER)
    return outcome, elapsed


def assert_one_cancel_sent(srv: RawServer) -> None:
    srv.wait_for_requests(1, timeout=2)
    (request,) = srv.requests
    assert (request.method, request.target) == ("POST", CANCEL_TARGET)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def assert_transport_not_timeout(exc: BaseException) -> None:
    assert isinstance(exc, TransportError)
    assert not isinstance(exc, RequestTimeoutError), f"a prompt failure was reported as a timeout: {exc!r}"
    assert not isinstance(exc, ApiError)


# -- no connection ---------------------------------------------------------------------------------


def test_connection_refused_is_a_transport_error() -> None:
    exc, elapsed = expect_error(TransportError, f"http://127.0.0.1:{refused_port()}")
    assert_transport_not_timeout(exc)
    assert elapsed < QUICK
    assert "refused" in str(exc).lower()


def test_connection_refused_is_retried_and_still_quick(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    exc, elapsed = expect_error(TransportError, f"http://127.0.0.1:{refused_port()}", max_retries=2)
    assert_transport_not_timeout(exc)
    assert elapsed < QUICK
    attempts = [r.getMessage() for r in caplog.records if "connect failed" in r.getMessage()]
    assert len(attempts) == 3, attempts  # the first try and two retries
    assert sum("retrying in" in line for line in attempts) == 2


# -- broken before or inside the header section ------------------------------------------------------


def test_a_cancel_reset_before_any_answer_is_retried_under_max_retries() -> None:
    with RawServer(reset()) as srv:
        exc, elapsed = expect_error(TransportError, srv.base_url, max_retries=2)
        assert_transport_not_timeout(exc)
        assert elapsed < QUICK
        # The cancel may have landed, and a repeat does what it did: it goes again, as configured.
        srv.wait_for_requests(3, timeout=2)
        assert [(r.method, r.target) for r in srv.requests] == [("POST", CANCEL_TARGET)] * 3


def test_a_publish_reset_before_any_answer_is_a_transport_error_and_not_resent() -> None:
    with RawServer(reset()) as srv:
        client = make_client(srv.base_url, max_retries=2)
        with pytest.raises(TransportError) as info:
            client.publish(PUBLISHER, OFFER)
        assert_transport_not_timeout(info.value)
        srv.wait_for_requests(1, timeout=2)
        time.sleep(0.2)  # a resend, if any, would arrive within this
        assert [r.method for r in srv.requests] == ["POST"]
        assert srv.connections == 1


def test_reset_in_the_middle_of_the_headers_is_a_transport_error() -> None:
    with RawServer(reset_after(b"HTTP/1.1 202 Accepted\r\nOperation-Loc")) as srv:
        exc, elapsed = expect_error(TransportError, srv.base_url)
        assert_transport_not_timeout(exc)
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_invalid_status_line_is_a_transport_error() -> None:
    with RawServer(reply(b"HTTP/1.1 abc Nope\r\n\r\n")) as srv:
        exc, elapsed = expect_error(TransportError, srv.base_url)
        assert_transport_not_timeout(exc)
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_garbage_is_a_transport_error() -> None:
    with RawServer(reply(b"\x00\x01garbage\r\n\r\n")) as srv:
        exc, elapsed = expect_error(TransportError, srv.base_url)
        assert_transport_not_timeout(exc)
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_silence_is_a_request_timeout_at_the_deadline() -> None:
    with RawServer(hang()) as srv:
        exc, elapsed = expect_error(RequestTimeoutError, srv.base_url, max_retries=0)
        assert isinstance(exc, TimeoutError)
        assert exc.timeout == pytest.approx(1.0)  # type: ignore[attr-defined]
        assert 0.9 <= elapsed < 2.5
        assert_one_cancel_sent(srv)  # max_retries=0: the deadline alone


def test_headers_dribbled_past_the_timeout_are_a_request_timeout() -> None:
    head = b"HTTP/1.1 202 Accepted\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with RawServer(dribble(head, 0.05)) as srv:  # ~12 s to send it all, a byte every 50 ms
        _, elapsed = expect_error(RequestTimeoutError, srv.base_url)
        # The deadline bounds the whole attempt, not the gap between bytes.
        assert 0.9 <= elapsed < 2.5
        assert_one_cancel_sent(srv)


# -- status and headers complete, body broken ------------------------------------------------------------


def test_truncated_error_body_keeps_the_status_and_marks_the_body_truncated() -> None:
    with RawServer(truncated(503, 100, b'{"error"')) as srv:
        exc, elapsed = expect_error(ServerError, srv.base_url)
        assert isinstance(exc, ServerError)
        assert exc.status_code == 503
        assert exc.body_truncated is True
        assert exc.body == '{"error"'
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_truncated_body_on_a_202_is_still_a_result() -> None:
    head = http_response(202, {"Operation-Location": LOCATION, "Content-Length": "100"})
    with RawServer(reply(head + b'{"x"')) as srv:
        result, elapsed = expect_result(srv.base_url)
        assert result.status_code == 202
        assert result.operation_location == LOCATION
        assert result.operation_id == "op-1"
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_huge_error_body_is_capped_at_one_mib_and_fast() -> None:
    with RawServer(huge_body(500, 256 * MIB)) as srv:
        exc, elapsed = expect_error(ServerError, srv.base_url, timeout=5.0)
        assert isinstance(exc, ServerError)
        assert exc.status_code == 500
        assert len(exc.body) <= MIB
        assert len(exc.body.encode()) <= MIB
        assert len(exc.body) > 0
        assert exc.body_truncated is True
        assert len(str(exc)) < 1000  # the message is an excerpt, not the megabyte
        assert elapsed < 5.0
        assert_one_cancel_sent(srv)


def test_broken_chunked_error_body_is_an_api_error_with_truncated_body() -> None:
    with RawServer(chunked_broken(500)) as srv:
        exc, elapsed = expect_error(ServerError, srv.base_url)
        assert isinstance(exc, ServerError)
        assert exc.status_code == 500
        assert exc.body_truncated is True
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_broken_chunked_body_on_a_202_is_still_a_result() -> None:
    head = http_response(202, {"Operation-Location": LOCATION, "Transfer-Encoding": "chunked"})
    with RawServer(reply(head + b"zz\r\n{}\r\n0\r\n\r\n")) as srv:
        result, elapsed = expect_result(srv.base_url)
        assert result.status_code == 202
        assert result.operation_location == LOCATION
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


# -- odd but valid answers ------------------------------------------------------------------------------


def test_non_utf8_request_id_on_a_404() -> None:
    raw = b"HTTP/1.1 404 Not Found\r\nx-ms-request-id: \xff\xfe\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with RawServer(reply(raw)) as srv:
        exc, elapsed = expect_error(NotFoundError, srv.base_url)
        assert isinstance(exc, NotFoundError)
        assert exc.status_code == 404
        assert exc.request_id == "\ufffd\ufffd"  # lossy, readable, never a crash
        str(exc).encode("utf-8")  # printable: no lone surrogates
        repr(exc).encode("utf-8")
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_non_utf8_operation_location_on_a_202() -> None:
    raw = (
        b"HTTP/1.1 202 Accepted\r\nOperation-Location: http://127.0.0.1/api/operations/a\xffb\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    with RawServer(reply(raw)) as srv:
        result, elapsed = expect_result(srv.base_url)
        assert result.status_code == 202
        # The bad byte is read as U+FFFD and percent-encoded: a usable URL, and the id decodes back.
        assert result.operation_location == "http://127.0.0.1/api/operations/a%EF%BF%BDb"
        assert result.operation_id == "a\ufffdb"
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_http10_answer_without_content_length_closed_by_the_server() -> None:
    raw = b"HTTP/1.0 202 Accepted\r\nOperation-Location: " + LOCATION.encode() + b'\r\n\r\n{"a": 1}'
    with RawServer(reply(raw)) as srv:
        result, elapsed = expect_result(srv.base_url)
        assert result.status_code == 202
        assert result.operation_location == LOCATION
        assert result.completed is False
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)


def test_202_without_a_location_gives_none(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cloudpartner")
    with RawServer(response(202, {"x-ms-request-id": "rid-7"})) as srv:
        result, elapsed = expect_result(srv.base_url)
        assert result.status_code == 202
        assert result.operation_location is None
        assert result.operation_id is None
        assert result.request_id == "rid-7"
        assert elapsed < QUICK
        assert_one_cancel_sent(srv)
    assert any("names no operation location" in r.getMessage() for r in caplog.records)


def test_5xx_storm_then_success_is_retried() -> None:
    script = (response(503), response(502), response(202, {"Operation-Location": LOCATION}))
    with RawServer(*script) as srv:
        result, elapsed = expect_result(srv.base_url, max_retries=3)
        assert result.status_code == 202
        assert result.operation_location == LOCATION
        assert elapsed < QUICK
        assert srv.connections == 3
        assert len(srv.requests) == 3
        ids = {r.headers["x-ms-client-request-id"] for r in srv.requests}
        assert ids == {result.client_request_id}  # one call, one id, on every attempt


def test_5xx_storm_longer_than_the_retries_is_a_server_error() -> None:
    with RawServer(response(503), response(502), response(500, body=b'{"error": {"code": "Boom"}}')) as srv:
        exc, elapsed = expect_error(ServerError, srv.base_url, max_retries=2)
        assert isinstance(exc, ServerError)
        assert (exc.status_code, exc.code) == (500, "Boom")
        assert elapsed < QUICK
        assert srv.connections == 3
