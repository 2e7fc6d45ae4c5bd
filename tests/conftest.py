"""Shared fixtures: an offline portal on 127.0.0.1 and a client pointed at it; `replaying`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def replaying(recording: Path) -> Iterator[tuple[str, list[str]]]:
    """Run ``cloudpartner serve --replay recording`` in a child; yield its base URL and a list.

    On leaving, the child is terminated and the list gets its stderr.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "cloudpartner", "serve", "--replay", str(recording)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert "replaying" in first, first
        yield first.split(" on ")[1].split(" ")[0], stderr
    finally:
        server.terminate()
        stderr.append(server.communicate(timeout=10)[1])
