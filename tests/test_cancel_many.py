"""cancel_many: a batch in Rust, bounded concurrency, outcomes in input order."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import PUBLISHER, TOKEN
from rawserver import RawServer, http_response


@pytest.fixture
def many_portal():
    # conflict_when_idle: one item fails with a 409 (the service itself answers 202 when idle).
    with FakePortal(cancel_seconds=3600, conflict_when_idle=True) as portal:
        for i in range(40):
            portal.add_offer(PUBLISHER, f"offer-{i}")
        portal.add_offer(PUBLISHER, "idle", running=False)
        yield portal


def test_results_in_input_order_with_failures_in_place(many_portal: FakePortal) -> None:
    items = [(PUBLISHER, f"offer-{i}") for i in range(40)]
    items[5] = (PUBLISHER, "missing")
    items[7] = (PUBLISHER, "idle")
    items[9] = ("bad/publisher", "x")
    client = cloudpartner.Client(TOKEN, base_url=many_portal.base_url, backoff=0.01)
    outcomes = client.cancel_many(items, emails=["a@contoso.com", "b@contoso.com"], concurrency=8)
    assert len(outcomes) == 40
    for index, ((publisher, offer), outcome) in enumerate(zip(items, outcomes)):
        if index == 5:
            assert isinstance(outcome, cloudpartner.NotFoundError)
        elif index == 7:
            assert isinstance(outcome, cloudpartner.ConflictError)
        elif index == 9:
            assert isinstance(outcome, cloudpartner.InvalidArgumentError)
            assert outcome.field == "publisher"
        else:
            assert isinstance(outcome, cloudpartner.CancelResult)
            assert (outcome.publisher, outcome.offer, outcome.status_code) == (publisher, offer, 202)
    posts = [r for r in many_portal.requests if r.method == "POST"]
    assert len(posts) == 39  # the malformed item was never sent
    assert {r.body["metadata"]["notification-emails"] for r in posts} == {"a@contoso.com,b@contoso.com"}


def test_malformed_items_are_that_items_error() -> None:
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, "o")
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        outcomes = client.cancel_many([(PUBLISHER, "o"), "not-a-pair", (PUBLISHER,), (PUBLISHER, 7), None])  # type: ignore[list-item]
        assert isinstance(outcomes[0], cloudpartner.CancelResult)
        assert all(isinstance(o, cloudpartner.InvalidArgumentError) for o in outcomes[1:])
        assert "pair" in str(outcomes[1])
        assert "must be a str" in str(outcomes[3])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"concurrency": 0}, "concurrency"), ({"concurrency": 5000}, "concurrency"), ({"emails": "nope"}, "emails")],
)
def test_batch_level_arguments_are_refused_before_sending(many_portal: FakePortal, kwargs: dict, field: str) -> None:
    client = cloudpartner.Client(TOKEN, base_url=many_portal.base_url)
    with pytest.raises(cloudpartner.InvalidArgumentError) as caught:
        client.cancel_many([(PUBLISHER, "offer-1")], **kwargs)
    assert caught.value.field == field
    with pytest.raises(cloudpartner.InvalidArgumentError):
        client.cancel_many("contoso offer-1")  # type: ignore[arg-type]
    assert many_portal.requests == []


def test_concurrency_is_bounded() -> None:
    """A server that holds each answer 50 ms: at most `concurrency` connections at once."""
    in_flight = 0
    peak = 0
    lock = threading.Lock()
    answer = http_response(202, {"Operation-Location": "/api/operations/x"}, connection="keep-alive")

    def slow(conn, request):
        nonlocal in_flight, peak
        while request is not None:
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1
            conn.send(answer)
            request = conn.read_request()

    with RawServer(slow) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url)
        started = time.monotonic()
        outcomes = client.cancel_many([(PUBLISHER, f"o{i}") for i in range(24)], concurrency=4)
        elapsed = time.monotonic() - started
    assert all(isinstance(o, cloudpartner.CancelResult) for o in outcomes)
    assert peak <= 4
    assert elapsed >= 24 / 4 * 0.05 * 0.9  # 6 waves of 50 ms: it really was bounded


def test_on_result_hears_every_item_and_can_stop_the_batch(many_portal: FakePortal) -> None:
    client = cloudpartner.Client(TOKEN, base_url=many_portal.base_url)
    items = [(PUBLISHER, f"offer-{i}") for i in range(20)]
    heard: list[tuple[int, object]] = []
    outcomes = client.cancel_many(items, on_result=lambda i, o: heard.append((i, o)))
    assert sorted(i for i, _ in heard) == list(range(20))
    assert all(outcomes[i] == o for i, o in heard)

    class Stop(Exception):
        pass

    def stop(index: int, outcome: object) -> None:
        raise Stop(index)

    with pytest.raises(Stop):
        client.cancel_many(items, concurrency=1, on_result=stop)


def test_the_gil_is_released_during_a_batch() -> None:
    answer = http_response(202, {"Operation-Location": "/api/operations/x"}, connection="keep-alive")

    def slow(conn, request):
        while request is not None:
            time.sleep(0.1)
            conn.send(answer)
            request = conn.read_request()

    with RawServer(slow) as server:
        client = cloudpartner.Client(TOKEN, base_url=server.base_url)
        done = threading.Event()
        counter = 0

        def batch() -> None:
            client.cancel_many([(PUBLISHER, f"o{i}") for i in range(5)], concurrency=1)
            done.set()

        thread = threading.Thread(target=batch)
        thread.start()
        while not done.is_set() and counter < 50_000_000:
            counter += 1
        thread.join(10)
    assert counter > 100_000


def test_async_twin_and_its_callback_on_the_loop(many_portal: FakePortal) -> None:
    client = cloudpartner.Client(TOKEN, base_url=many_portal.base_url)
    items = [(PUBLISHER, f"offer-{i}") for i in range(10)] + [(PUBLISHER, "missing")]

    async def main() -> tuple[list[object], set[int], set[int]]:
        threads: set[int] = set()
        indexes: set[int] = set()

        def heard(index: int, outcome: object) -> None:
            threads.add(threading.get_ident())
            indexes.add(index)

        outcomes = await client.cancel_many_async(items, concurrency=4, on_result=heard)
        await asyncio.sleep(0.05)  # callbacks scheduled on this loop have run
        return outcomes, threads, indexes

    outcomes, threads, indexes = asyncio.run(main())
    assert [type(o).__name__ for o in outcomes] == ["CancelResult"] * 10 + ["NotFoundError"]
    assert threads == {threading.get_ident()}
    assert indexes == set(range(11))


def test_cli_cancel_many(many_portal: FakePortal, tmp_path) -> None:
    offers = tmp_path / "offers.csv"
    offers.write_text("publisher,offer\ncontoso,offer-1\n# a comment\n\ncontoso offer-2\ncontoso,missing\n")
    env = {k: v for k, v in os.environ.items() if k != "CLOUDPARTNER_TOKEN"}
    command = [sys.executable, "-m", "cloudpartner", "cancel-many", str(offers), "--base-url", many_portal.base_url]
    human = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert human.returncode == 3, human.stderr  # one offer refused (404)
    assert "accepted (202)      2" in human.stdout
    assert "failed: contoso/missing: NotFoundError" in human.stdout
    as_json = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=60, env=env, check=False)
    rows = json.loads(as_json.stdout)
    assert [(r["offer"], r["ok"]) for r in rows] == [("offer-1", True), ("offer-2", True), ("missing", False)]
    assert rows[2]["error"]["status_code"] == 404

    bad = tmp_path / "bad.txt"
    bad.write_text("contoso offer-1 extra\n")
    usage = subprocess.run([*command[:4], str(bad)], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert usage.returncode == 2
    assert "bad.txt:1" in usage.stderr
