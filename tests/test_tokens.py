"""Where the bearer token comes from: strings, the environment, credentials, per-call overrides."""

from __future__ import annotations

import gc
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cloudpartner
import pytest
from cloudpartner import CancelResult, CredentialError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN

SCOPE = "https://cloudpartner.azure.com/.default"


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_on: int


class FakeCredential:
    """An azure-identity style credential: counts calls, records scopes, hands out numbered tokens."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        self.lifetime = lifetime
        self.scopes: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.scopes)

    def get_token(self, *scopes: str) -> AccessToken:
        with self._lock:
            self.scopes.append(scopes)
            number = len(self.scopes)
        return AccessToken(f"cred-token-{number}", int(time.time() + self.lifetime))


def sent_tokens(portal: FakePortal) -> list[str]:
    return [r.headers["authorization"] for r in portal.requests]


def test_string_token(client: cloudpartner.Client, portal: FakePortal) -> None:
    client.cancel(PUBLISHER, OFFER)
    assert sent_tokens(portal) == [f"Bearer {TOKEN}"]


def test_bearer_prefixed_token(portal: FakePortal) -> None:
    with cloudpartner.Client("Bearer x.y.z", base_url=portal.base_url) as client:
        client.cancel(PUBLISHER, OFFER)
    assert sent_tokens(portal) == ["Bearer x.y.z"]


def test_environment_token_is_read_at_each_call(slow_portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    client = cloudpartner.Client(base_url=slow_portal.base_url, timeout=5.0)  # no token yet: that is fine
    with client:
        monkeypatch.setenv("CLOUDPARTNER_TOKEN", "env-one")
        client.cancel(PUBLISHER, OFFER)
        monkeypatch.setenv("CLOUDPARTNER_TOKEN", "Bearer env-two")
        client.cancel(PUBLISHER, OFFER)
    assert sent_tokens(slow_portal) == ["Bearer env-one", "Bearer env-two"]


def test_credential_is_asked_for_the_scope_once_while_fresh(slow_portal: FakePortal) -> None:
    credential = FakeCredential(lifetime=3600)
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        for _ in range(3):
            client.cancel(PUBLISHER, OFFER)
    assert credential.scopes == [(SCOPE,)]
    assert sent_tokens(slow_portal) == ["Bearer cred-token-1"] * 3


def test_credential_is_asked_again_near_expiry(slow_portal: FakePortal) -> None:
    credential = FakeCredential(lifetime=200)  # inside the five-minute refresh margin
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        for _ in range(3):
            client.cancel(PUBLISHER, OFFER)
    assert credential.calls == 3
    assert sent_tokens(slow_portal) == ["Bearer cred-token-1", "Bearer cred-token-2", "Bearer cred-token-3"]


def test_credential_just_outside_the_margin_is_cached(slow_portal: FakePortal) -> None:
    credential = FakeCredential(lifetime=330)
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER)
        client.cancel(PUBLISHER, OFFER)
    assert credential.calls == 1


def test_credential_is_thread_safe(slow_portal: FakePortal) -> None:
    credential = FakeCredential(lifetime=3600)
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=10.0) as client:

        def ten_calls(_: int) -> list[CancelResult]:
            return [client.cancel(PUBLISHER, OFFER) for _ in range(10)]

        with ThreadPoolExecutor(max_workers=8) as pool:
            batches = list(pool.map(ten_calls, range(8), timeout=30))
    results = [r for batch in batches for r in batch]
    assert len(results) == 80
    assert all(r.status_code == 202 for r in results)
    assert len({r.client_request_id for r in results}) == 80
    # at most one fetch per thread (each thread's first call may race the others'), never one per call
    assert 1 <= credential.calls <= 8
    tokens = set(sent_tokens(slow_portal))
    assert len(sent_tokens(slow_portal)) == 80
    assert tokens <= {f"Bearer cred-token-{n}" for n in range(1, credential.calls + 1)}
    assert all(scopes == (SCOPE,) for scopes in credential.scopes)


class Boom(Exception):
    pass


class FailingCredential:
    def get_token(self, *scopes: str) -> AccessToken:
        raise Boom("the identity endpoint is down")


class TokenlessCredential:
    def get_token(self, *scopes: str) -> object:
        return {"access_token": "x", "expires_on": 0}


class NoExpiryCredential:
    def get_token(self, *scopes: str) -> object:
        return type("T", (), {"token": "x"})()


class AsyncCredential:
    def __init__(self) -> None:
        self.ran = False

    async def get_token(self, *scopes: str) -> AccessToken:
        self.ran = True
        return AccessToken("x", int(time.time() + 3600))


def credential_failure(portal: FakePortal, credential: object) -> CredentialError:
    with cloudpartner.Client(credential, base_url=portal.base_url) as client:  # type: ignore[arg-type]
        with pytest.raises(CredentialError) as info:
            client.cancel(PUBLISHER, OFFER)
    assert portal.requests == []
    return info.value


def test_failing_credential_is_credential_error_with_cause(portal: FakePortal) -> None:
    error = credential_failure(portal, FailingCredential())
    assert isinstance(error, cloudpartner.CloudPartnerError)
    assert isinstance(error.__cause__, Boom)
    assert "get_token" in str(error)


@pytest.mark.parametrize("credential", [TokenlessCredential(), NoExpiryCredential()])
def test_unusable_credential_answer_is_credential_error(portal: FakePortal, credential: object) -> None:
    error = credential_failure(portal, credential)
    assert error.__cause__ is not None
    assert "token" in str(error)


def test_async_credential_is_refused_without_never_awaited_warning(portal: FakePortal) -> None:
    credential = AsyncCredential()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = credential_failure(portal, credential)
        gc.collect()
    assert "async" in str(error)
    assert credential.ran is False
    never_awaited = [w for w in caught if "never awaited" in str(w.message)]
    assert never_awaited == []


def test_per_call_token_overrides_module_level(slow_portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_TOKEN", "from-env")
    url = slow_portal.base_url
    cloudpartner.cancel(PUBLISHER, OFFER, base_url=url)
    cloudpartner.cancel(PUBLISHER, OFFER, "given", base_url=url)
    cloudpartner.cancel(PUBLISHER, OFFER, token="Bearer given-kw", base_url=url)
    credential = FakeCredential()
    cloudpartner.cancel(PUBLISHER, OFFER, credential, base_url=url)  # type: ignore[arg-type]
    cloudpartner.cancel(PUBLISHER, OFFER, base_url=url)
    assert sent_tokens(slow_portal) == [
        "Bearer from-env",
        "Bearer given",
        "Bearer given-kw",
        "Bearer cred-token-1",
        "Bearer from-env",
    ]
    assert credential.scopes == [(SCOPE,)]


def test_base_url_from_environment(portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_BASE_URL", portal.base_url)
    with cloudpartner.Client(TOKEN, timeout=5.0) as client:
        assert client.base_url == portal.base_url
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
    assert len(portal.requests) == 1


def test_explicit_base_url_wins_over_environment(portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_BASE_URL", "https://elsewhere.example")
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0) as client:
        assert client.base_url == portal.base_url
        client.cancel(PUBLISHER, OFFER)
    assert len(portal.requests) == 1


def test_default_base_url_without_environment() -> None:
    with cloudpartner.Client(TOKEN) as client:
        assert client.base_url == "https://cloudpartner.azure.com"


def test_an_interrupt_inside_a_credential_is_not_a_credential_error(portal: FakePortal) -> None:
    class Interrupted:
        def get_token(self, *scopes: str) -> object:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cloudpartner.Client(Interrupted(), base_url=portal.base_url).cancel(PUBLISHER, OFFER)
