"""The token never shows: not in reprs, exception texts or log records; and the log says enough."""

from __future__ import annotations

import logging
import re

import cloudpartner
import pytest
from cloudpartner import CloudPartnerError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang, refused_port, response

CANCEL_URL = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel?api-version=2017-10-31"
ATTEMPT = re.compile(
    r"POST (?P<url>\S+) -> (?P<outcome>.+?) in (?P<ms>\d+(\.\d+)?) ms "
    r"client-request-id=(?P<id>[0-9a-f-]{36})(?P<plan>; retrying in \d+(\.\d+)? s)?"
)


def core_records(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cloudpartner" and r.levelno == level]


def attempts(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    lines = [r.getMessage() for r in core_records(caplog)]
    matches = [ATTEMPT.fullmatch(line) for line in lines]
    assert all(matches), lines
    return [m for m in matches if m is not None]


def assert_hidden(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text, text


def raised(call: object) -> CloudPartnerError:
    with pytest.raises(CloudPartnerError) as info:
        call()  # type: ignore[operator]
    assert_hidden(str(info.value), repr(info.value), repr(info.value.args), repr(vars(info.value)))
    return info.value


def test_client_repr_hides_the_token(portal: FakePortal) -> None:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=7) as client:
        text = repr(client)
        assert portal.base_url in text
        assert "7s" in text
        assert "open" in text
        assert_hidden(text, str(client))
    assert "closed" in repr(client)


def test_core_client_repr_hides_the_token(client: cloudpartner.Client) -> None:
    assert_hidden(repr(client._core), str(client._core))


def test_debug_log_one_record_per_attempt_and_no_token(
    caplog: pytest.LogCaptureFixture, client: cloudpartner.Client, portal: FakePortal
) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")

    ok = client.cancel(PUBLISHER, OFFER)
    (first,) = attempts(caplog)
    assert first["url"] == portal.base_url + CANCEL_URL
    assert first["outcome"].startswith("HTTP 202")
    assert ok.request_id is not None
    assert ok.request_id in first["outcome"]
    assert first["id"] == ok.client_request_id
    assert first["plan"] is None
    caplog.clear()

    portal.fail_next(2, 503)
    retried = client.cancel(PUBLISHER, OFFER)
    lines = attempts(caplog)
    assert [m["outcome"][:8] for m in lines] == ["HTTP 503", "HTTP 503", "HTTP 202"]
    assert [m["plan"] is not None for m in lines] == [True, True, False]
    assert {m["id"] for m in lines} == {retried.client_request_id}
    caplog.clear()

    error = raised(lambda: client.cancel(PUBLISHER, "no-such-offer"))
    (failed,) = attempts(caplog)
    assert failed["outcome"].startswith("HTTP 404")
    assert failed["id"] == error.client_request_id  # type: ignore[attr-defined]

    assert_hidden(caplog.text)


def test_every_log_record_hides_the_token(caplog: pytest.LogCaptureFixture, portal: FakePortal) -> None:
    caplog.set_level(logging.DEBUG)  # everything, from every logger
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0, backoff=0.01) as client:
        client.cancel(PUBLISHER, OFFER, "a@x.com")
        portal.fail_next(1, 429, retry_after="0")
        client.cancel(PUBLISHER, OFFER)
        portal.fail_next(1, 401)
        raised(lambda: client.cancel(PUBLISHER, OFFER))
    assert len(core_records(caplog)) == 4
    for record in caplog.records:
        assert_hidden(record.getMessage(), repr(record.args), str(record.msg))


def test_transport_failures_hide_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    url = f"http://127.0.0.1:{refused_port()}"
    with cloudpartner.Client(TOKEN, base_url=url, max_retries=1, backoff=0.01) as client:
        raised(lambda: client.cancel(PUBLISHER, OFFER))
    with RawServer(hang()) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, timeout=0.3, max_retries=0) as client:
            raised(lambda: client.cancel(PUBLISHER, OFFER))
    outcomes = [m["outcome"] for m in attempts(caplog)]
    assert [o.split(":")[0] for o in outcomes] == ["connect failed", "connect failed", "timed out"]
    assert_hidden(caplog.text)


def test_token_echoed_by_the_service_is_not_repeated() -> None:
    # The exceptions promise never to hold the token, even when a proxy echoes the request back.
    body = f'{{"error": {{"code": "BadHeader", "message": "Bad header Authorization: Bearer {TOKEN}"}}}}'
    with RawServer(response(400, body=body.encode())) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0) as client:
            error = raised(lambda: client.cancel(PUBLISHER, OFFER))
    assert "BadHeader" in str(error)


def test_no_log_when_logging_is_off(caplog: pytest.LogCaptureFixture, client: cloudpartner.Client) -> None:
    caplog.set_level(logging.WARNING, logger="cloudpartner")
    client.cancel(PUBLISHER, OFFER)
    assert core_records(caplog) == []


def test_accepted_without_location_warns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloudpartner")
    with RawServer(response(202, {"x-ms-request-id": "req-202"})) as srv:
        with cloudpartner.Client(TOKEN, base_url=srv.base_url) as client:
            result = client.cancel(PUBLISHER, OFFER)
    assert result.status_code == 202
    assert result.completed is False
    assert result.operation_location is None
    assert result.operation_id is None
    assert result.request_id == "req-202"
    (warning,) = core_records(caplog, logging.WARNING)
    text = warning.getMessage()
    assert f"{PUBLISHER}/{OFFER}" in text
    assert "202" in text
    assert result.client_request_id is not None
    assert result.client_request_id in text
    assert_hidden(caplog.text)
