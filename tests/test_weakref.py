"""Clients can be weakly referenced: ``weakref.finalize``, ``WeakSet`` and ``WeakValueDictionary``."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any, Callable, Union

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN

AnyClient = Union[cloudpartner.Client, ingestion.Client]


def cpp(portal: FakePortal) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=5.0)


def product_ingestion(portal: FakePortal) -> ingestion.Client:
    return ingestion.Client(TOKEN, base_url=portal.ingestion_url, timeout=5.0)


def use_sync(client: Any) -> None:
    if isinstance(client, ingestion.Client):
        client.find_product("contoso-offer")
    else:
        client.cancel(PUBLISHER, OFFER)


def use_async(client: Any) -> None:
    async def main() -> None:
        async with client:
            if isinstance(client, ingestion.Client):
                await client.find_product_async("contoso-offer")
            else:
                await client.cancel_async(PUBLISHER, OFFER)

    asyncio.run(asyncio.wait_for(main(), 20))


@pytest.fixture
def both() -> Any:
    with FakePortal(cancel_seconds=0.3) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        fake.add_product("contoso-offer")
        yield fake


@pytest.mark.parametrize("make", [cpp, product_ingestion], ids=["cpp", "ingestion"])
@pytest.mark.parametrize("use", [use_sync, use_async], ids=["sync", "async"])
def test_a_finalizer_runs_when_a_used_client_is_dropped(
    both: FakePortal, make: Callable[[FakePortal], AnyClient], use: Callable[[Any], None]
) -> None:
    finalized: list[bool] = []
    client = make(both)
    weakref.finalize(client, finalized.append, True)
    use(client)
    client.close()
    del client
    gc.collect()
    assert finalized == [True]


@pytest.mark.parametrize("make", [cpp, product_ingestion], ids=["cpp", "ingestion"])
def test_clients_can_live_in_a_weak_set(both: FakePortal, make: Callable[[FakePortal], AnyClient]) -> None:
    clients = weakref.WeakSet([make(both)])  # the only reference is the set's
    gc.collect()
    assert len(clients) == 0
    kept = make(both)
    clients.add(kept)
    assert list(clients) == [kept]
    assert weakref.ref(kept)() is kept
    kept.close()
