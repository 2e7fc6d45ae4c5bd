"""Soak: many calls on one Client against a fast local server; RSS before and after, error count.

    python benchmarks/soak.py [--calls 100000] [--threads 4]

Not a unit test: it prints figures. Goals: RSS growth under 5 MB, 0 unexpected errors, 0 hung or
crashed threads. Every tenth call asks for an offer the server answers 404, so the error path is
soaked too. Beside the long-lived threads, threads come and go all along (`Churn`): each makes a
Client of its own, one call (every other one through `asyncio.run`), and ends.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

import cloudpartner

ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nOperation-Location: /api/publishers/p/offers/o/operations/"
    b"56615b67-2185-49fe-80d2-c4ddf77bb2e8\r\nx-ms-request-id: soak\r\nContent-Length: 0\r\n\r\n"
)
NOT_FOUND_BODY = b'{"error": {"code": "NotFound", "message": "Offer was not found."}}'
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(NOT_FOUND_BODY),
    NOT_FOUND_BODY,
)


class KeepAliveHandler(socketserver.BaseRequestHandler):
    """Answers each request on a keep-alive connection: 404 for offer 'missing', else 202."""

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                buffer += chunk
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(rest) < length:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                rest += chunk
            buffer = rest[length:]
            self.request.sendall(NOT_FOUND if b"/offers/missing/" in head else ACCEPTED)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Churn:
    """Short-lived threads, one after another while the soak runs: each makes its own Client with
    `make_client`, cancels one offer (every other one through `asyncio.run`) and ends. The process-
    wide state (runtimes, caches, logging, the allocator) meets threads that come and go."""

    JOIN = 30.0  # seconds one short-lived thread may take before it counts as hung

    def __init__(self, make_client: Callable[[], cloudpartner.Client], offer: str) -> None:
        self.make_client, self.offer = make_client, offer
        self.threads = self.ok = self.typed = self.hung = 0
        self.untyped: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._runner = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Churn:
        self._runner.start()
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._runner.join(self.JOIN)

    def _one(self, index: int) -> None:
        try:
            with self.make_client() as client:
                if index % 2:
                    call = client.cancel_async("contoso", self.offer)
                    result = asyncio.run(asyncio.wait_for(call, self.JOIN))
                else:
                    result = client.cancel("contoso", self.offer)
            if result.status_code != 202:
                raise AssertionError(result)
            outcome = "ok"
        except cloudpartner.CloudPartnerError:
            outcome = "typed"
        except BaseException as error:
            with self._lock:
                self.untyped.append(error)
            return
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)

    def _run(self) -> None:
        while not self._stop.is_set():
            thread = threading.Thread(target=self._one, args=(self.threads,), daemon=True)
            thread.start()
            thread.join(self.JOIN)
            if thread.is_alive():
                self.hung += 1
            self.threads += 1

    def report(self) -> str:
        return (
            f"thread churn: {self.threads} short-lived threads, each its own Client and one cancel "
            f"(every other one by asyncio.run): {self.ok} ok, {self.typed} typed errors, "
            f"{len(self.untyped)} untyped errors, {self.hung} hung"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    server = Server(("127.0.0.1", 0), KeepAliveHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    client = cloudpartner.Client("soak-token", base_url=base_url, max_retries=0)

    unexpected: list[BaseException] = []
    expected_404 = 0
    lock = threading.Lock()

    def run(count: int) -> None:
        nonlocal expected_404
        for i in range(count):
            offer = "missing" if i % 10 == 9 else "contoso-virtualmachineoffer"
            try:
                result = client.cancel("contoso", offer, ["jondoe@contoso.com"])
                if result.status_code != 202 or result.operation_id is None:
                    raise AssertionError(result)
            except cloudpartner.NotFoundError:
                if offer != "missing":
                    raise
                with lock:
                    expected_404 += 1
            except BaseException as error:
                with lock:
                    unexpected.append(error)

    warmup = 2_000
    run(warmup)  # the runtime, pool and caches reach their working size first
    expected_404 = 0
    before = rss_kib()
    started = time.perf_counter()
    per_thread = args.calls // args.threads
    churn = Churn(lambda: cloudpartner.Client("soak-token", base_url=base_url, max_retries=0), "contoso-vm")
    with churn, ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(run, [per_thread] * args.threads))
    elapsed = time.perf_counter() - started
    after = rss_kib()
    total = per_thread * args.threads
    client.close()
    server.shutdown()

    print(f"calls: {total} on {args.threads} threads in {elapsed:.1f} s ({total / elapsed:,.0f} calls/s)")
    growth = (after - before) / 1024
    print(f"RSS before: {before / 1024:.1f} MiB, after: {after / 1024:.1f} MiB, growth: {growth:+.2f} MiB")
    print(f"expected 404s: {expected_404}, unexpected errors: {len(unexpected)}")
    for error in unexpected[:5]:
        print(f"  {type(error).__name__}: {error}")
    print(churn.report())
    for error in churn.untyped[:5]:
        print(f"  {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
