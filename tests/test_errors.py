"""Failure answers: which exception class, what it carries, how it prints and pickles."""

from __future__ import annotations

import json
import pickle
import sys
import typing
from collections.abc import Iterator

import cloudpartner
import pytest
from cloudpartner import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    CloudPartnerError,
    ConflictError,
    ForbiddenError,
    InvalidArgumentError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
)
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, hang, huge_body, response

ATTRIBUTES = (
    "status_code",
    "code",
    "message",
    "body",
    "request_id",
    "client_request_id",
    "retry_after",
    "location",
    "body_truncated",
)
INVALID_API_VERSION = {
    "error": {"code": "InvalidAPIVersion", "message": "Invalid api version. Allowed values are [2017-10-31]"}
}


def failure(base_url: str, *, token: str = TOKEN, offer: str = OFFER, **settings: object) -> Exception:
    """The exception one cancel raises, without retries (unless `settings` say otherwise)."""
    options: dict[str, object] = {"timeout": 5.0, "max_retries": 0, **settings}
    with cloudpartner.Client(token, base_url=base_url, **options) as client:  # type: ignore[arg-type]
        with pytest.raises(CloudPartnerError) as info:
            client.cancel(PUBLISHER, offer)
    return info.value


def api_failure(base_url: str, **kwargs: object) -> ApiError:
    error = failure(base_url, **kwargs)  # type: ignore[arg-type]
    assert isinstance(error, ApiError), repr(error)
    return error


def raw_failure(*answers: object, **settings: object) -> ApiError:
    """The ApiError for scripted RawServer answers."""
    with RawServer(*answers) as srv:  # type: ignore[arg-type]
        return api_failure(srv.base_url, **settings)


@pytest.fixture
def portal_stopped_offer() -> Iterator[FakePortal]:
    with FakePortal(conflict_when_idle=True) as portal:
        portal.add_offer(PUBLISHER, OFFER, running=False)
        yield portal


def assert_common(error: ApiError, status: int, cls: type[ApiError]) -> None:
    assert type(error) is cls
    assert isinstance(error, ApiError)
    assert isinstance(error, CloudPartnerError)
    assert error.status_code == status
    assert error.client_request_id
    assert str(status) in str(error)
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)


def test_400_injected_is_bad_request(portal: FakePortal) -> None:
    portal.fail_next(1, status=400)
    error = api_failure(portal.base_url)
    assert_common(error, 400, BadRequestError)
    assert error.code == "BadRequest"
    assert error.message == "Injected failure (FakePortal.fail_next)."
    assert len(portal.requests) == 1


def test_400_invalid_api_version_body() -> None:
    body = json.dumps(INVALID_API_VERSION).encode()
    error = raw_failure(response(400, {"x-ms-request-id": "req-400"}, body))
    assert_common(error, 400, BadRequestError)
    assert error.code == "InvalidAPIVersion"
    assert error.message == "Invalid api version. Allowed values are [2017-10-31]"
    assert error.body == body.decode()
    assert error.request_id == "req-400"
    text = str(error)
    for part in ("400", "Bad Request", "Invalid api version", "InvalidAPIVersion", "req-400"):
        assert part in text


def test_401_unknown_token_is_authentication_error() -> None:
    with FakePortal(tokens=["other"]) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        error = api_failure(portal.base_url, max_retries=3)
        sent = len(portal.requests)
    assert_common(error, 401, AuthenticationError)
    assert error.code == "Unauthorized"
    assert error.request_id
    assert error.request_id in str(error)
    assert sent == 1


def test_403_token_without_the_publisher_is_forbidden() -> None:
    with FakePortal(tokens={TOKEN: ["fabrikam"]}) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        error = api_failure(portal.base_url, max_retries=3)
        sent = len(portal.requests)
    assert_common(error, 403, ForbiddenError)
    assert error.code == "Forbidden"
    assert PUBLISHER in (error.message or "")
    assert sent == 1


def test_404_unknown_offer_is_not_found(portal: FakePortal) -> None:
    error = api_failure(portal.base_url, offer="no-such-offer", max_retries=3)
    assert_common(error, 404, NotFoundError)
    assert error.code == "NotFound"
    assert "no-such-offer" in str(error)
    assert len(portal.requests) == 1


def test_409_nothing_running_is_conflict(portal_stopped_offer: FakePortal) -> None:
    error = api_failure(portal_stopped_offer.base_url, max_retries=3)
    assert_common(error, 409, ConflictError)
    assert error.code == "NoOperationInProgress"
    assert "NoOperationInProgress" in str(error)
    assert len(portal_stopped_offer.requests) == 1


def test_429_is_throttled(portal: FakePortal) -> None:
    portal.fail_next(1, status=429, retry_after=7)
    error = api_failure(portal.base_url)
    assert_common(error, 429, ThrottledError)
    assert error.retry_after == 7
    assert "retry after 7 s" in str(error)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_server_error(portal: FakePortal, status: int) -> None:
    portal.fail_next(1, status=status)
    error = api_failure(portal.base_url)
    assert_common(error, status, ServerError)
    assert error.message == "Injected failure (FakePortal.fail_next)."


@pytest.mark.parametrize("status", [418, 422])
def test_other_4xx_is_plain_api_error(portal: FakePortal, status: int) -> None:
    portal.fail_next(1, status=status)
    error = api_failure(portal.base_url, max_retries=3)
    assert_common(error, status, ApiError)
    assert len(portal.requests) == 1


def test_redirect_is_reported_not_followed() -> None:
    with RawServer(response(500)) as elsewhere:
        target = f"{elsewhere.base_url}/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel?api-version=2017-10-31"
        with RawServer(response(307, {"Location": target})) as first:
            error = api_failure(first.base_url, max_retries=3)
            assert len(first.requests) == 1
        assert elsewhere.requests == []
        assert elsewhere.connections == 0
    assert_common(error, 307, ApiError)
    assert error.location == target
    assert "not followed" in str(error)
    assert target in str(error)


def test_attributes_all_present(portal: FakePortal) -> None:
    portal.fail_next(1, status=503, retry_after=2)
    error = api_failure(portal.base_url)
    assert {name: getattr(error, name) for name in ATTRIBUTES} == {
        "status_code": 503,
        "code": "ServiceUnavailable",
        "message": "Injected failure (FakePortal.fail_next).",
        "body": portal_body("ServiceUnavailable"),
        "request_id": error.request_id,
        "client_request_id": portal.requests[0].headers["x-ms-client-request-id"],
        "retry_after": 2.0,
        "location": None,
        "body_truncated": False,
    }
    assert error.request_id


def portal_body(code: str) -> str:
    return json.dumps({"error": {"code": code, "message": "Injected failure (FakePortal.fail_next)."}})


def test_str_holds_status_message_code_and_request_id(portal: FakePortal) -> None:
    portal.fail_next(1, status=503)
    error = api_failure(portal.base_url)
    text = str(error)
    assert error.request_id is not None
    for part in ("503", "Service Unavailable", "Injected failure", "ServiceUnavailable", error.request_id):
        assert part in text, text
    assert text.count("\n") == 0


def test_empty_body_still_explains() -> None:
    error = raw_failure(response(404, {"x-ms-request-id": "req-empty"}))
    assert_common(error, 404, NotFoundError)
    assert (error.body, error.code, error.message) == ("", None, None)
    text = str(error)
    assert "Not Found" in text
    assert "no details" in text
    assert "req-empty" in text


def test_empty_body_without_request_id_names_the_client_request_id() -> None:
    error = raw_failure(response(404))
    assert error.request_id is None
    assert error.client_request_id is not None
    assert error.client_request_id in str(error)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html", b"<html><body><h1>502 Bad Gateway</h1>\n</body></html>", "502 Bad Gateway"),
        ("text/plain", b"upstream connect error\n  or disconnect", "upstream connect error or disconnect"),
    ],
)
def test_non_json_body_gives_its_text(content_type: str, body: bytes, expected: str) -> None:
    error = raw_failure(response(502, {"Content-Type": content_type}, body))
    assert_common(error, 502, ServerError)
    assert error.body == body.decode()
    assert error.code is None
    assert error.message == expected
    assert expected in str(error)
    assert "<" not in str(error) and "\n" not in str(error)


def test_huge_error_body_is_capped() -> None:
    error = raw_failure(huge_body(400, 3 * 1024 * 1024))
    assert_common(error, 400, BadRequestError)
    assert 0 < len(error.body) <= 1024 * 1024
    assert error.body.startswith('{"x":"xxx')
    assert error.body_truncated is True
    assert len(str(error)) < 1000


def test_exceptions_pickle_round_trip(portal: FakePortal) -> None:
    portal.fail_next(1, status=429, retry_after=3)
    error = api_failure(portal.base_url)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ThrottledError
    assert {n: getattr(copy, n) for n in ATTRIBUTES} == {n: getattr(error, n) for n in ATTRIBUTES}
    assert str(copy) == str(error)
    assert copy.args == error.args


def test_redirect_error_pickles_with_location() -> None:
    error = raw_failure(response(302, {"Location": "https://elsewhere.example/x"}))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ApiError
    assert copy.location == "https://elsewhere.example/x"
    assert str(copy) == str(error)


def test_invalid_argument_is_value_error_and_pickles(portal: FakePortal) -> None:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url) as client:
        with pytest.raises(ValueError) as info:
            client.cancel("con/toso", OFFER)
    error = info.value
    assert isinstance(error, InvalidArgumentError)
    assert isinstance(error, CloudPartnerError)
    assert error.field == "publisher"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidArgumentError
    assert (copy.field, str(copy)) == ("publisher", str(error))
    assert portal.requests == []


def test_timeout_is_timeout_error_and_transport_error_and_pickles() -> None:
    with RawServer(hang()) as srv:
        error = failure(srv.base_url, timeout=0.3)
    assert isinstance(error, RequestTimeoutError)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, TransportError)
    assert isinstance(error, CloudPartnerError)
    assert error.timeout == pytest.approx(0.3)
    assert error.client_request_id
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RequestTimeoutError
    assert (copy.timeout, copy.client_request_id, str(copy)) == (error.timeout, error.client_request_id, str(error))


@pytest.mark.skipif(sys.version_info < (3, 10), reason="`str | None` evaluates from Python 3.10")
def test_type_hints_of_the_public_types_resolve() -> None:
    for cls in (cloudpartner.ApiError, cloudpartner.InvalidArgumentError, cloudpartner.TransportError):
        typing.get_type_hints(cls.__init__)
    for cls in (cloudpartner.Operation, cloudpartner.OperationStep, cloudpartner.OfferStatus, cloudpartner.Offer):
        typing.get_type_hints(cls)
