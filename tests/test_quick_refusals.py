"""Oversized input is refused quickly, and other threads keep running meanwhile.

Arguments are checked with the GIL held, so a slow check freezes every thread of the process:
counts are checked before anything else is done with the items, and every check is linear.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import cloudpartner
import pytest
from cloudpartner import InvalidArgumentError
from conftest import TOKEN
from rawserver import RawServer, response

# Generous for a loaded 2-core machine and a debug build: the checks take well under a second;
# before counts came first, 100,000 addresses took minutes on a debug build, 5 to 10 s on a release.
QUICK = 2.0
MANY = [f"user{i}@contoso.com" for i in range(100_000)]


class Heartbeat:
    """A thread that ticks every few milliseconds; `longest_gap` is the longest it was held up."""

    def __init__(self) -> None:
        self.longest_gap = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self) -> None:
        last = time.monotonic()
        for _ in range(100_000):  # bounded: 100,000 ticks of at least 5 ms
            if self._stop.wait(0.005):
                return
            now = time.monotonic()
            self.longest_gap = max(self.longest_gap, now - last)
            last = now

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        time.sleep(0.05)  # ticking before the call starts
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def client() -> Iterator[cloudpartner.Client]:
    with RawServer(response(202)) as server:
        with cloudpartner.Client(TOKEN, base_url=server.base_url, max_retries=0) as made:
            yield made
        assert server.requests == [], "nothing is sent"


def timed(call: Callable[[], Any]) -> tuple[BaseException, float, float]:
    """Run `call` (which must fail) beside a heartbeat: its exception, seconds taken, longest gap."""
    with Heartbeat() as beat:
        started = time.monotonic()
        with pytest.raises(InvalidArgumentError) as caught:
            call()
        elapsed = time.monotonic() - started
    return caught.value, elapsed, beat.longest_gap


@pytest.mark.parametrize("how", ["list", "one-string", "async"])
def test_100000_addresses_are_refused_by_count_while_other_threads_run(client: cloudpartner.Client, how: str) -> None:
    calls: dict[str, Callable[[], Any]] = {
        "list": lambda: client.cancel("contoso", "o", emails=MANY),
        "one-string": lambda: client.publish("contoso", "o", emails=",".join(MANY)),
        "async": lambda: asyncio.run(client.cancel_async("contoso", "o", emails=MANY)),
    }
    refused, elapsed, gap = timed(calls[how])
    assert str(refused) == "invalid emails: 100000 addresses given; at most 100"
    assert elapsed < QUICK and gap < QUICK, (elapsed, gap)


def test_a_batch_refuses_100000_addresses_by_count(client: cloudpartner.Client) -> None:
    refused, elapsed, gap = timed(lambda: client.cancel_many([("contoso", "o")], emails=MANY))
    assert str(refused) == "invalid emails: 100000 addresses given; at most 100"
    assert elapsed < QUICK and gap < QUICK, (elapsed, gap)


def test_a_batch_checks_its_addresses_once_not_once_per_offer(client: cloudpartner.Client) -> None:
    items = [("contoso", f"offer-{i}") for i in range(10_000)]
    emails = [f"user{i}@contoso.com" for i in range(100)]
    # concurrency=0 is refused only after the items and addresses were checked.
    refused, elapsed, gap = timed(lambda: client.cancel_many(items, emails=emails, concurrency=0))
    assert "concurrency" in str(refused)
    assert elapsed < QUICK and gap < QUICK, (elapsed, gap)
