"""Credentials as azure-identity shapes them: get_token_info and refresh_on, async (aio) credentials
with every asyncio call, sync calls refusing them with the fix named, and expired tokens."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import cloudpartner
import pytest
from cloudpartner import CancelResult, CredentialError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER

SCOPE = "https://cloudpartner.azure.com/.default"


@dataclass(frozen=True)
class AccessTokenInfo:
    """azure-core 1.31's AccessTokenInfo: refresh_on is optional."""

    token: str
    expires_on: int
    refresh_on: Optional[int] = None


class InfoCredential:
    """A credential with both get_token and get_token_info, as azure-identity 1.18+ has."""

    def __init__(self, lifetime: float = 3600, refresh_in: Optional[float] = None) -> None:
        self.lifetime, self.refresh_in = lifetime, refresh_in
        self.info_calls: list[tuple[str, ...]] = []
        self.token_calls = 0
        self._lock = threading.Lock()

    def answer(self) -> AccessTokenInfo:
        with self._lock:
            number = len(self.info_calls)
        now = time.time()
        refresh_on = None if self.refresh_in is None else int(now + self.refresh_in)
        return AccessTokenInfo(f"info-token-{number}", int(now + self.lifetime), refresh_on)

    def get_token(self, *scopes: str) -> Any:
        self.token_calls += 1
        raise AssertionError("get_token was asked although get_token_info exists")

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        with self._lock:
            self.info_calls.append(scopes)
        return self.answer()


class AsyncInfoCredential(InfoCredential):
    """An azure.identity.aio-style credential: coroutine methods, run on the caller's loop."""

    def __init__(self, lifetime: float = 3600, delay: float = 0.0, fail: bool = False) -> None:
        super().__init__(lifetime)
        self.delay, self.fail = delay, fail
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def get_token(self, *scopes: str) -> Any:  # type: ignore[override]
        raise AssertionError("get_token was asked although get_token_info exists")

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:  # type: ignore[override]
        self.loops.append(asyncio.get_running_loop())
        with self._lock:
            self.info_calls.append(scopes)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            raise ConnectionError("the identity endpoint is down")
        return self.answer()


def sent_tokens(portal: FakePortal) -> list[str]:
    return [r.headers["authorization"] for r in portal.requests]


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def test_get_token_info_is_preferred_over_get_token(slow_portal: FakePortal) -> None:
    credential = InfoCredential()
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER)
        client.cancel(PUBLISHER, OFFER)
    assert credential.info_calls == [(SCOPE,)]
    assert credential.token_calls == 0
    assert sent_tokens(slow_portal) == ["Bearer info-token-1"] * 2


def test_refresh_on_reached_makes_the_next_call_ask_again(slow_portal: FakePortal) -> None:
    credential = InfoCredential(lifetime=3600, refresh_in=-1)  # valid for an hour, but due for refresh
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        for _ in range(3):
            client.cancel(PUBLISHER, OFFER)
    assert len(credential.info_calls) == 3
    assert sent_tokens(slow_portal) == ["Bearer info-token-1", "Bearer info-token-2", "Bearer info-token-3"]


def test_refresh_on_ahead_keeps_the_token(slow_portal: FakePortal) -> None:
    credential = InfoCredential(lifetime=3600, refresh_in=1800)
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        for _ in range(3):
            client.cancel(PUBLISHER, OFFER)
    assert len(credential.info_calls) == 1


def test_without_refresh_on_the_five_minute_margin_applies(slow_portal: FakePortal) -> None:
    credential = InfoCredential(lifetime=200)  # inside the margin: asked at every call
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER)
        client.cancel(PUBLISHER, OFFER)
    assert len(credential.info_calls) == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_expired_token_is_refused_before_anything_is_sent(portal: FakePortal, mode: str) -> None:
    credential = InfoCredential(lifetime=-60) if mode == "sync" else AsyncInfoCredential(lifetime=-60)
    with cloudpartner.Client(credential, base_url=portal.base_url) as client:
        call = client.cancel if mode == "sync" else lambda *args: run(client.cancel_async(*args))
        with pytest.raises(CredentialError, match="expired") as info:
            call(PUBLISHER, OFFER)
    assert "info-token" not in str(info.value)
    assert portal.requests == []


def test_async_credential_serves_every_async_call_and_is_cached(portal: FakePortal) -> None:
    portal.add_offer(PUBLISHER, "offer-b")
    credential = AsyncInfoCredential()

    async def main() -> tuple[asyncio.AbstractEventLoop, list[Any]]:
        async with cloudpartner.Client(credential, base_url=portal.base_url, timeout=5.0) as client:
            result = await client.cancel_async(PUBLISHER, OFFER)
            outcomes = [
                result,
                await client.get_operation_async(result),
                await client.list_operations_async(PUBLISHER, OFFER),
                await client.wait_async(result, timeout=20, poll_interval=0.05),
                await client.cancel_many_async([(PUBLISHER, "offer-b")]),
            ]
        return asyncio.get_running_loop(), outcomes

    loop, outcomes = run(main())
    assert isinstance(outcomes[0], CancelResult)
    assert outcomes[3].canceled
    assert isinstance(outcomes[4][0], CancelResult)
    assert credential.info_calls == [(SCOPE,)]  # one fetch, then the cache
    assert credential.loops == [loop]  # the coroutine ran on the caller's loop
    assert set(sent_tokens(portal)) == {"Bearer info-token-1"}


def test_module_level_cancel_async_takes_an_async_credential(slow_portal: FakePortal) -> None:
    credential = AsyncInfoCredential()
    result = run(cloudpartner.cancel_async(PUBLISHER, OFFER, credential, base_url=slow_portal.base_url))
    assert result.status_code == 202
    assert sent_tokens(slow_portal) == ["Bearer info-token-1"]


def test_slow_async_credential_leaves_the_event_loop_free(slow_portal: FakePortal) -> None:
    credential = AsyncInfoCredential(delay=0.5)
    ticks: list[float] = []

    async def ticker(stop: asyncio.Event) -> None:
        while not stop.is_set() and len(ticks) < 1000:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.02)

    async def main() -> CancelResult:
        stop = asyncio.Event()
        task = asyncio.ensure_future(ticker(stop))
        async with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
            started = time.monotonic()
            result = await client.cancel_async(PUBLISHER, OFFER)
            assert time.monotonic() - started >= 0.5
        stop.set()
        await task
        return result

    assert run(main()).status_code == 202
    assert len(ticks) >= 10  # the loop kept running while the credential slept


def test_cancelling_the_task_during_a_slow_async_credential_sends_nothing(portal: FakePortal) -> None:
    credential = AsyncInfoCredential(delay=2.0)

    async def main() -> None:
        async with cloudpartner.Client(credential, base_url=portal.base_url, timeout=5.0) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.cancel_async(PUBLISHER, OFFER), 0.2)

    run(main())
    time.sleep(0.1)
    assert portal.requests == []


def test_failing_async_credential_is_credential_error_with_cause(portal: FakePortal) -> None:
    credential = AsyncInfoCredential(fail=True)
    with cloudpartner.Client(credential, base_url=portal.base_url) as client:
        with pytest.raises(CredentialError, match="get_token") as info:
            run(client.cancel_async(PUBLISHER, OFFER))
    assert isinstance(info.value.__cause__, ConnectionError)
    assert portal.requests == []


def test_wait_async_refreshes_an_async_credential_between_polls(portal: FakePortal) -> None:
    credential = AsyncInfoCredential(lifetime=200)  # inside the margin: every poll asks again

    async def main() -> tuple[asyncio.AbstractEventLoop, Any]:
        async with cloudpartner.Client(credential, base_url=portal.base_url, timeout=5.0) as client:
            result = await client.cancel_async(PUBLISHER, OFFER)
            final = await client.wait_async(result, timeout=20, poll_interval=0.05)
        return asyncio.get_running_loop(), final

    loop, final = run(main())
    assert final.canceled
    polls = [r for r in portal.requests if r.method == "GET"]
    assert len(polls) >= 2
    assert len(credential.info_calls) >= 1 + len(polls)
    assert set(credential.loops) == {loop}
    assert len(set(sent_tokens(portal))) == len(portal.requests)  # a fresh token for each request


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.cancel(PUBLISHER, OFFER),
        lambda c: c.list_operations(PUBLISHER, OFFER),
        lambda c: c.cancel_many([(PUBLISHER, OFFER)]),
    ],
    ids=["cancel", "list_operations", "cancel_many"],
)
def test_a_blocking_call_with_an_async_credential_names_the_fix(portal: FakePortal, call: Any) -> None:
    credential = AsyncInfoCredential()
    with cloudpartner.Client(credential, base_url=portal.base_url) as client:
        with pytest.raises(CredentialError) as info:
            call(client)
    message = str(info.value)
    assert "async" in message
    assert "cancel_async" in message
    assert "azure.identity" in message
    assert credential.info_calls == []  # its coroutine was never even created
    assert portal.requests == []
