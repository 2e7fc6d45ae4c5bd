"""asyncio results reach their own loop: many per wake-up, on loops that alternate on one thread,
on loops without add_reader, and without a descriptor left behind per loop."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from typing import Any

import cloudpartner
import pytest
from cloudpartner import CancelResult
from cloudpartner.testing import FakePortal
from conftest import PUBLISHER, TOKEN


def add_offers(portal: FakePortal, prefix: str, count: int) -> list[str]:
    offers = [f"{prefix}-{i}" for i in range(count)]
    for offer in offers:
        portal.add_offer(PUBLISHER, offer)
    return offers


def test_hundreds_of_results_finishing_together_each_reach_their_awaiter(portal: FakePortal) -> None:
    offers = add_offers(portal, "together", 300)

    async def main() -> list[CancelResult]:
        async with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:
            return await asyncio.wait_for(asyncio.gather(*(c.cancel_async(PUBLISHER, o) for o in offers)), 60)

    results = asyncio.run(main())
    assert [r.offer for r in results] == offers
    assert len({r.operation_id for r in results}) == len(offers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_six_loops_taking_turns_on_one_thread_each_get_their_results_and_register_once(portal: FakePortal) -> None:
    offers = add_offers(portal, "alternating", 60)
    loops = [asyncio.new_event_loop() for _ in range(6)]
    try:
        with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:
            descriptors = []
            for number, offer in enumerate(offers):
                event_loop = loops[number % len(loops)]
                result = event_loop.run_until_complete(asyncio.wait_for(c.cancel_async(PUBLISHER, offer), 10))
                assert result.offer == offer
                descriptors.append(len(os.listdir("/proc/self/fd")))
        # every loop registered in the first round; the later rounds add nothing
        assert descriptors[-1] == descriptors[len(loops) * 2 - 1]
    finally:
        for event_loop in loops:
            event_loop.close()


class RefusingFuture(asyncio.Future):  # type: ignore[type-arg]
    """Refuses a cancel's result (asyncio's own futures on the loop are left alone)."""

    def set_result(self, result: object) -> None:
        if isinstance(result, CancelResult):
            raise RuntimeError("set_result refused")
        super().set_result(result)


class LoopOfRefusingFutures(asyncio.SelectorEventLoop):
    def create_future(self) -> asyncio.Future[Any]:
        return RefusingFuture(loop=self)


def test_a_result_that_cannot_be_delivered_fails_its_awaiter_instead_of_leaving_it_waiting(portal: FakePortal) -> None:
    add_offers(portal, "refused", 1)
    event_loop = LoopOfRefusingFutures()
    reported: list[dict[str, Any]] = []
    event_loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:
            call = asyncio.wait_for(c.cancel_async(PUBLISHER, "refused-0"), 10)
            with pytest.raises(RuntimeError, match="set_result refused"):
                event_loop.run_until_complete(call)
    finally:
        event_loop.close()
    assert any("set_result refused" in str(context.get("exception")) for context in reported)


class LoopWithoutReaders(asyncio.SelectorEventLoop):
    """A loop that cannot watch file descriptors, as Windows' proactor loop."""

    def add_reader(self, *args: Any) -> None:
        raise NotImplementedError


def test_a_loop_without_add_reader_still_gets_results(portal: FakePortal) -> None:
    offers = add_offers(portal, "noreader", 20)
    event_loop = LoopWithoutReaders()
    try:
        with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:

            async def main() -> list[CancelResult]:
                return await asyncio.wait_for(asyncio.gather(*(c.cancel_async(PUBLISHER, o) for o in offers)), 30)

            results = event_loop.run_until_complete(main())
        assert [r.offer for r in results] == offers
    finally:
        event_loop.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_loops_that_come_and_go_leave_no_descriptors_behind(portal: FakePortal) -> None:
    offers = add_offers(portal, "lifecycle", 30)
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:
        asyncio.run(c.cancel_async(PUBLISHER, offers[0]))  # the first loop: pools and runtimes start
        gc.collect()
        before = len(os.listdir("/proc/self/fd"))
        for offer in offers[1:]:
            assert asyncio.run(asyncio.wait_for(c.cancel_async(PUBLISHER, offer), 10)).offer == offer
        gc.collect()
        after = len(os.listdir("/proc/self/fd"))
    assert after - before <= 4, f"{after - before} descriptors more after {len(offers) - 1} loops"


def test_uvloop_gets_its_results_and_its_cancellations(portal: FakePortal) -> None:
    uvloop = pytest.importorskip("uvloop")
    offers = add_offers(portal, "uvloop", 40)

    async def main() -> list[CancelResult]:
        async with cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0) as c:
            abandoned = asyncio.ensure_future(c.cancel_async(PUBLISHER, offers[0]))
            abandoned.cancel()
            with pytest.raises(asyncio.CancelledError):
                await abandoned
            return await asyncio.wait_for(asyncio.gather(*(c.cancel_async(PUBLISHER, o) for o in offers[1:])), 30)

    event_loop = uvloop.new_event_loop()
    try:
        results = event_loop.run_until_complete(main())
    finally:
        event_loop.close()
    assert [r.offer for r in results] == offers[1:]
