"""Typed use of cloudpartner's public API: checked by ``mypy --strict`` and run by test_typing.py.

Run as a script, it cancels against a FakePortal and checks the values it got; every
annotation here is what a user's strictly typed code would write.
"""

from __future__ import annotations

import asyncio
from typing import Optional

import cloudpartner
from cloudpartner import (
    ApiError,
    CancelResult,
    Client,
    CloudPartnerError,
    CredentialError,
    InvalidArgumentError,
    NotFoundError,
    RequestTimeoutError,
    ThrottledError,
    TransportError,
)
from cloudpartner.testing import FakePortal, RecordedRequest

PUBLISHER: str = "contoso"
OFFER: str = "contoso-virtualmachineoffer"


class Token:
    """What ``get_token`` returns, like azure-core's AccessToken."""

    def __init__(self, token: str, expires_on: int) -> None:
        self._token = token
        self._expires_on = expires_on

    @property
    def token(self) -> str:
        return self._token

    @property
    def expires_on(self) -> int:
        return self._expires_on


class Credential:
    """A synchronous credential, as ``cloudpartner.TokenCredential`` describes."""

    def get_token(self, *scopes: str) -> Token:
        return Token("credential-token", 4_102_444_800)


def describe(result: CancelResult) -> str:
    publisher: str = result.publisher
    offer: str = result.offer
    status: int = result.status_code
    location: Optional[str] = result.operation_location
    operation: Optional[str] = result.operation_id
    request_id: Optional[str] = result.request_id
    client_request_id: Optional[str] = result.client_request_id
    done: bool = result.completed
    return f"{publisher}/{offer} {status} {location} {operation} {request_id} {client_request_id} {done}"


def explain(error: CloudPartnerError) -> str:
    if isinstance(error, ApiError):
        status: int = error.status_code
        code: Optional[str] = error.code
        message: Optional[str] = error.message
        body: str = error.body
        request_id: Optional[str] = error.request_id
        client_request_id: Optional[str] = error.client_request_id
        retry_after: Optional[float] = error.retry_after
        location: Optional[str] = error.location
        truncated: bool = error.body_truncated
        ids = f"{request_id} {client_request_id}"
        return f"{status} {code} {message} {len(body)} {ids} {retry_after} {location} {truncated}"
    if isinstance(error, RequestTimeoutError):
        timeout: Optional[float] = error.timeout
        return f"timeout {timeout} {error.client_request_id}"
    if isinstance(error, TransportError):
        transport_id: Optional[str] = error.client_request_id
        return f"transport {transport_id}"
    if isinstance(error, InvalidArgumentError):
        field: Optional[str] = error.field
        return f"invalid {field}"
    return str(error)


async def cancel_both_ways(base_url: str) -> list[CancelResult]:
    async with Client("token", base_url=base_url, timeout=5.0) as client:
        first: CancelResult = await client.cancel_async(PUBLISHER, OFFER, ["a@contoso.com"])
    second: CancelResult = await cloudpartner.cancel_async(PUBLISHER, OFFER, "token", base_url=base_url)
    return [first, second]


def main() -> None:
    with FakePortal(cancel_seconds=60.0, location_style="relative") as portal:
        portal.add_offer(PUBLISHER, OFFER)
        base_url: str = portal.base_url
        credential: cloudpartner.TokenCredential = Credential()
        with Client(credential, base_url=base_url, timeout=5.0, max_retries=2, backoff=0.01) as client:
            closed: bool = client.closed
            assert not closed
            assert client.base_url == base_url
            result: CancelResult = client.cancel(PUBLISHER, OFFER, "a@contoso.com, b@contoso.com")
            print(describe(result))
            try:
                client.cancel(PUBLISHER, "missing-offer")
            except NotFoundError as error:
                print(explain(error))
            portal.fail_next(1, 429, retry_after=120.0)
            try:
                client.cancel(PUBLISHER, OFFER)
            except ThrottledError as error:
                print(explain(error))
        module_level: CancelResult = cloudpartner.cancel(PUBLISHER, OFFER, "token", (), base_url=base_url)
        results: list[CancelResult] = [result, module_level, *asyncio.run(cancel_both_ways(base_url))]
        requests: list[RecordedRequest] = portal.requests
    try:
        Client("token", base_url="ftp://example.com")
    except InvalidArgumentError as error:
        print(explain(error))
    failure: type[CloudPartnerError] = CredentialError
    assert issubclass(failure, CloudPartnerError)
    assert len({r.operation_id for r in results}) == 1
    assert requests[0].headers["authorization"] == "Bearer credential-token"
    print(cloudpartner.API_VERSION, cloudpartner.DEFAULT_BASE_URL, cloudpartner.__version__, len(requests))


if __name__ == "__main__":
    main()
