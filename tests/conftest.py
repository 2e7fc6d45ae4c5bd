"""Shared fixtures: an offline portal on 127.0.0.1 and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal

PUBLISHER = "contoso"
OFFER = "contoso-virtualmachineoffer"
TOKEN = "test-token-5f1c9a"  # distinctive, so tests can search output for it


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own token or base URL."""
    monkeypatch.delenv("CLOUDPARTNER_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_BASE_URL", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_RECORD", raising=False)


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(cancel_seconds=0.3) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        yield fake


@pytest.fixture
def slow_portal() -> Iterator[FakePortal]:
    """A portal whose cancels stay in progress for a minute: repeated cancels all get 202."""
    with FakePortal(cancel_seconds=60) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        yield fake


@pytest.fixture
def client(portal: FakePortal) -> Iterator[cloudpartner.Client]:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0, backoff=0.01) as c:
        yield c
