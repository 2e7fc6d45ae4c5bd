"""Thread churn: process-wide state (allocator, runtimes, caches, logging, credentials) meeting
threads that come and go. Each scenario runs in a child process of its own, so that a crash fails
the test that runs it (tests/test_thread_churn.py) instead of killing pytest:

    python tests/churn.py SCENARIO [RUNS]

prints ``ok SCENARIO`` and exits 0 when every check held; any failure exits non-zero. Every wait
is bounded. The scenarios use only the offline portal on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import cloudpartner
from children import exit_code_within  # this script's folder is on sys.path
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal

TOKEN = "churn-token"
PUBLISHER = "contoso"
PRODUCT = "contoso-product"
JOIN = 30.0  # seconds a thread may take, at most
THREADS = 20  # threads started one after another


def check(condition: object, what: str) -> None:
    if not condition:
        raise SystemExit(f"churn: {what}")


def in_fresh_thread(body: Callable[[], Any]) -> Any:
    """Run `body` in a new thread, wait for it to end, and return what it returned (or raise)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(("ok", body()))
        except BaseException as exc:
            outcome.append(("error", exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(JOIN)
    check(not thread.is_alive(), f"a thread was still running after {JOIN} s")
    kind, value = outcome[0]
    if kind == "error":
        raise value
    return value


def portal_with_offers(count: int, **settings: Any) -> FakePortal:
    portal = FakePortal(**settings).start()
    for i in range(count):
        portal.add_offer(PUBLISHER, f"offer-{i}")
    portal.add_product(PRODUCT)
    return portal


def cpp_client(portal: FakePortal, **settings: Any) -> cloudpartner.Client:
    return cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=10.0, **settings)


def ingestion_client(portal: FakePortal, **settings: Any) -> ingestion.Client:
    return ingestion.Client(TOKEN, base_url=portal.ingestion_url, timeout=10.0, **settings)


# -- the scenarios -----------------------------------------------------------------------------------


def clients_in_thread_after_thread(portal: FakePortal) -> None:
    """A Client of each API made, used and closed in each of 20 threads, one after another."""
    for i in range(THREADS):

        def one(i: int = i) -> tuple[int, str]:
            with cpp_client(portal) as cpp, ingestion_client(portal) as ing:
                status = cpp.cancel(PUBLISHER, f"offer-{i}").status_code
                return status, ing.find_product(PRODUCT).external_id

        check(in_fresh_thread(one) == (202, PRODUCT), f"thread {i} answered wrongly")


def thread_pools_in_turn(portal: FakePortal) -> None:
    """Thread pools used one after another: the module-level cancel and a shared client of each API."""
    with ingestion_client(portal) as shared:
        for round_ in range(4):

            def one(i: int) -> tuple[int, str]:
                status = cloudpartner.cancel(PUBLISHER, f"offer-{i}", TOKEN, base_url=portal.base_url).status_code
                return status, shared.find_product(PRODUCT).external_id

            with ThreadPoolExecutor(4) as pool:
                got = list(pool.map(one, range(8)))
            check(got == [(202, PRODUCT)] * 8, f"pool {round_} answered {got}")


def asyncio_run_per_thread(portal: FakePortal) -> None:
    """asyncio.run in one worker thread after another, with clients made inside and outside it."""
    with cpp_client(portal) as outside:
        for i in range(THREADS):

            async def both(i: int = i) -> tuple[int, int, str]:
                with cpp_client(portal) as inside, ingestion_client(portal) as ing:
                    first, second, product = await asyncio.gather(
                        inside.cancel_async(PUBLISHER, f"offer-{i}"),
                        outside.cancel_async(PUBLISHER, f"offer-{i}"),
                        ing.find_product_async(PRODUCT),
                    )
                return first.status_code, second.status_code, product.external_id

            got = in_fresh_thread(lambda both=both: asyncio.run(asyncio.wait_for(both(), JOIN)))
            check(got == (202, 202, PRODUCT), f"thread {i} answered {got}")


def errors_and_debug_logging(portal: FakePortal) -> None:
    """Every kind of failure, with DEBUG logging on, each raised in a fresh thread."""
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logging.getLogger("cloudpartner").addHandler(Keep())
    closed_port = unused_port()
    expected: list[tuple[str, Callable[[], Any], type[BaseException]]] = [
        ("404", lambda: cpp_client(portal).cancel(PUBLISHER, "no-such-offer"), cloudpartner.NotFoundError),
        ("bad input", lambda: cpp_client(portal).cancel(PUBLISHER, "bad/offer"), ValueError),
        ("bad setting", lambda: cpp_client(portal, max_retries=-1), ValueError),
        (
            "refused",
            lambda: cloudpartner.Client(
                TOKEN, base_url=f"http://127.0.0.1:{closed_port}", timeout=5.0, max_retries=1, backoff=0.01
            ).cancel(PUBLISHER, "offer-0"),
            cloudpartner.TransportError,
        ),
        ("ingestion 404", lambda: ingestion_client(portal).find_product("no-such-product"), cloudpartner.NotFoundError),
        (
            "async 404",
            lambda: asyncio.run(asyncio.wait_for(cpp_client(portal).cancel_async(PUBLISHER, "nope"), JOIN)),
            cloudpartner.NotFoundError,
        ),
    ]
    for round_ in range(4):
        for what, call, error in expected:
            try:
                in_fresh_thread(call)
            except error:
                pass
            else:
                raise SystemExit(f"churn: {what} raised nothing in round {round_}")
    check(any(r.levelno == logging.DEBUG for r in records), "no DEBUG line reached logging")
    check(all(TOKEN not in r.getMessage() for r in records), "the token was logged")


def after_idle_runtime_threads(portal: FakePortal) -> None:
    """Threads started after the runtimes' blocking-pool threads timed out and exited.

    ``localhost`` makes every connection resolve its name on a blocking-pool thread; those threads
    exit after 10 s idle (tokio's keep-alive), so the calls after the pause meet a pool that
    must start new ones, from threads that did not exist before it.
    """
    base = portal.base_url.replace("127.0.0.1", "localhost")
    ing_base = portal.ingestion_url.replace("127.0.0.1", "localhost")

    def use_both(i: int) -> None:
        with cloudpartner.Client(TOKEN, base_url=base, timeout=10.0) as cpp:
            check(cpp.cancel(PUBLISHER, f"offer-{i}").status_code == 202, "a cancel failed")

            async def later() -> int:
                return (await cpp.cancel_async(PUBLISHER, f"offer-{i}")).status_code

            check(asyncio.run(asyncio.wait_for(later(), JOIN)) == 202, "an async cancel failed")
        with ingestion.Client(TOKEN, base_url=ing_base, timeout=10.0) as ing:
            check(ing.find_product(PRODUCT).external_id == PRODUCT, "a product read failed")

    for i in range(3):
        in_fresh_thread(lambda i=i: use_both(i))
    time.sleep(11.5)  # past tokio's 10 s keep-alive of idle blocking threads
    for i in range(3, 8):
        in_fresh_thread(lambda i=i: use_both(i))


def credentials_from_fresh_threads(portal: FakePortal) -> None:
    """A credential object asked for tokens from one fresh thread after another, sync and async."""

    @dataclasses.dataclass(frozen=True)
    class Token:
        token: str
        expires_on: int

    class Credential:
        def __init__(self) -> None:
            self.calls = 0

        def get_token(self, *scopes: str) -> Token:
            self.calls += 1
            return Token(TOKEN, int(time.time()) + 3600)

    class AsyncCredential:
        async def get_token(self, *scopes: str) -> Token:
            await asyncio.sleep(0)
            return Token(TOKEN, int(time.time()) + 3600)

    credential = Credential()
    for i in range(THREADS):

        def one(i: int = i) -> tuple[int, str, int]:
            with cloudpartner.Client(credential, base_url=portal.base_url, timeout=10.0) as cpp:
                status = cpp.cancel(PUBLISHER, f"offer-{i}").status_code
            with ingestion.Client(credential, base_url=portal.ingestion_url, timeout=10.0) as ing:
                product = ing.find_product(PRODUCT).external_id

            async def with_async_credential() -> int:
                with cloudpartner.Client(AsyncCredential(), base_url=portal.base_url, timeout=10.0) as cpp:
                    return (await cpp.cancel_async(PUBLISHER, f"offer-{i}")).status_code

            return status, product, asyncio.run(asyncio.wait_for(with_async_credential(), JOIN))

        check(in_fresh_thread(one) == (202, PRODUCT, 202), f"thread {i} answered wrongly")
    check(credential.calls >= THREADS, f"the credential was asked {credential.calls} times")


def fork_after_churn(portal: FakePortal) -> None:
    """fork() after threads came and went: the child works in a fresh thread of its own."""
    for i in range(5):
        in_fresh_thread(lambda i=i: cpp_client(portal).cancel(PUBLISHER, f"offer-{i}"))
    with cpp_client(portal) as parent_client:
        parent_client.cancel(PUBLISHER, "offer-5")
        pid = os.fork()
        if pid == 0:  # the child: never returns into the scenario
            code = 1
            try:
                got = in_fresh_thread(lambda: cpp_client(portal).cancel(PUBLISHER, "offer-6").status_code)
                got2 = in_fresh_thread(lambda: parent_client.cancel(PUBLISHER, "offer-7").status_code)
                code = 0 if (got, got2) == (202, 202) else 2
            finally:
                os._exit(code)
        code = exit_code_within(pid, JOIN)
        check(code is not None, "the forked child hung")
        check(code == 0, f"the forked child ended with {code}")
        in_fresh_thread(lambda: parent_client.cancel(PUBLISHER, "offer-8"))


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SCENARIOS: dict[str, Callable[[FakePortal], None]] = {
    "clients_in_thread_after_thread": clients_in_thread_after_thread,
    "thread_pools_in_turn": thread_pools_in_turn,
    "asyncio_run_per_thread": asyncio_run_per_thread,
    "errors_and_debug_logging": errors_and_debug_logging,
    "after_idle_runtime_threads": after_idle_runtime_threads,
    "credentials_from_fresh_threads": credentials_from_fresh_threads,
    "fork_after_churn": fork_after_churn,
}


def main() -> None:
    name = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    for _ in range(runs):
        portal = portal_with_offers(THREADS)
        try:
            SCENARIOS[name](portal)
        finally:
            portal.stop()
    print(f"ok {name}", flush=True)


if __name__ == "__main__":
    main()
