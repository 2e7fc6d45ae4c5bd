"""Chaos soak: one Client, several threads, a local server that misbehaves at random (fixed seed).

    python benchmarks/chaos.py [--calls 50000] [--threads 4] [--seed 8] [--max-retries 3]

Not a unit test: it prints figures. The server (a separate process, so it does not compete with
the client for the GIL) picks for each request, with a seeded random generator: a normal answer,
a TCP reset after reading the request, 503 or 429 with a short Retry-After, or an answer dribbled
out in small pieces. Independently, every connection left idle for `--idle-close` seconds is
closed, as load balancers do. The client mixes `cancel`, `get_operation` and `cancel_many`
(8 offers a batch). Printed: calls, successes, each typed error by class, the longest call beside
the bound its settings allow, hangs (must be 0), untyped errors (must be 0), RSS before and after,
the server's count of cancels it read (answered 202, or reset after reading: the client sends those
again) beside the client's successful cancels. Threads come and go beside the long-lived ones all
along (soak.py's `Churn`: each a Client of its own and one cancel, into the same server).
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import random
import socket
import struct
import threading
import time
from collections.abc import Callable

import cloudpartner
from soak import Churn, rss_kib  # the same RSS reading and thread churn as the plain soak

OPERATION = b'{"id": "op-1", "status": "running", "steps": []}'
LOCATION = b"/api/publishers/p/offers/o/operations/56615b67-2185-49fe-80d2-c4ddf77bb2e8?api-version=2017-10-31"
# Share of requests per behaviour; the rest are answered normally.
FAULTS = {"reset": 0.03, "503": 0.04, "429": 0.03, "dribble": 0.02}
BATCH, BATCH_SHARE = 8, 0.02  # a cancel_many of 8 offers for 2% of the draws


def answer(method: bytes, status: int = 0) -> bytes:
    if status in (503, 429):
        body = b'{"error": {"code": "Busy", "message": "try again"}}'
        reason = b"Service Unavailable" if status == 503 else b"Too Many Requests"
        return b"HTTP/1.1 %d %s\r\nRetry-After: 0.02\r\nContent-Length: %d\r\n\r\n%s" % (
            status,
            reason,
            len(body),
            body,
        )
    if method == b"POST":
        return (
            b"HTTP/1.1 202 Accepted\r\nLocation: %s\r\nx-ms-request-id: chaos\r\nContent-Length: 0\r\n\r\n" % LOCATION
        )
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(OPERATION),
        OPERATION,
    )


def read_request(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes] | None:
    """(method, rest of the buffer) of the next whole request, or None on EOF/idle timeout."""
    try:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            rest += chunk
    except OSError:  # idle timeout, or the client went away
        return None
    return head.split(b" ", 1)[0], rest[length:]


def serve_connection(sock: socket.socket, rng: random.Random, lock: threading.Lock, counts: dict, idle: float) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(idle)
    buffer = b""
    try:
        while True:
            request = read_request(sock, buffer)
            if request is None:  # idle too long (or the client left): close, as a load balancer does
                return
            method, buffer = request
            with lock:
                roll = rng.random()
            fault = None
            for name, share in FAULTS.items():
                if roll < share:
                    fault = name
                    break
                roll -= share
            with lock:
                counts[fault or "normal"] += 1
                if method == b"POST" and fault in (None, "dribble"):
                    counts["cancels_202"] += 1
                if method == b"POST" and fault == "reset":
                    counts["cancels_reset"] += 1  # read whole, then reset: it may have been acted on
            if fault == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            raw = answer(method, int(fault) if fault in ("503", "429") else 0)
            if fault == "dribble":
                for i in range(0, len(raw), 16):
                    sock.sendall(raw[i : i + 16])
                    time.sleep(0.002)
            else:
                sock.sendall(raw)
    except OSError:
        return
    finally:
        sock.close()


def server_main(
    port_out: multiprocessing.connection.Connection, stop: multiprocessing.synchronize.Event, seed: int, idle: float
) -> None:
    listener = socket.create_server(("127.0.0.1", 0), backlog=256)
    listener.settimeout(0.1)
    port_out.send(listener.getsockname()[1])
    rng, lock = random.Random(seed), threading.Lock()
    counts: dict = collections.Counter()
    while not stop.is_set():
        try:
            sock, _ = listener.accept()
        except OSError:
            continue
        threading.Thread(target=serve_connection, args=(sock, rng, lock, counts, idle), daemon=True).start()
    with lock:
        port_out.send(dict(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument(
        "--max-retries", type=int, default=3, help="the client's max_retries (each reset, 503 or 429 spends one)"
    )
    parser.add_argument(
        "--idle-close", type=float, default=0.05, help="seconds before the server closes an idle connection"
    )
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=server_main, args=(theirs, stop, args.seed, args.idle_close), daemon=True)
    server.start()
    port = ours.recv()

    timeout, max_retries = 2.0, args.max_retries
    client = cloudpartner.Client(
        "chaos-token", base_url=f"http://127.0.0.1:{port}", timeout=timeout, max_retries=max_retries, backoff=0.01
    )
    # The longest a call may take: its timeout bounds its attempts and the waits between them
    # (a batch's items are all in flight at once), plus room for a busy machine.
    bound = timeout + 0.5
    rng = random.Random(args.seed)
    plan: list[float] = []  # one draw per call or batch, until the calls add up to --calls
    planned = 0
    while planned < args.calls:
        plan.append(rng.random())
        planned += BATCH if plan[-1] < BATCH_SHARE else 1

    lock = threading.Lock()
    errors: collections.Counter[str] = collections.Counter()
    untyped: list[BaseException] = []
    stats = {"calls": 0, "successes": 0, "cancels_ok": 0, "longest": 0.0}

    def account(outcome: object, seconds: float, is_cancel: bool, calls: int = 1) -> None:
        with lock:
            stats["calls"] += calls
            stats["longest"] = max(stats["longest"], seconds)
            if isinstance(outcome, cloudpartner.CloudPartnerError):
                errors[f"{type(outcome).__name__} ({'cancel' if is_cancel else 'read'})"] += 1
            elif isinstance(outcome, BaseException):
                untyped.append(outcome)
            else:
                stats["successes"] += 1
                stats["cancels_ok"] += is_cancel

    def one(kind: float) -> None:
        started = time.perf_counter()
        if kind < BATCH_SHARE:  # a batch: each item is a call, timed by the batch
            try:
                outcomes = client.cancel_many([("p", f"offer-{i}") for i in range(BATCH)], concurrency=BATCH)
            except BaseException as error:
                account(error, time.perf_counter() - started, True, BATCH)
                return
            seconds = time.perf_counter() - started
            for outcome in outcomes:
                account(outcome, seconds, True)
            return
        is_cancel = kind < 0.55
        call: Callable[[], object] = (
            (lambda: client.cancel("p", "o")) if is_cancel else (lambda: client.get_operation(LOCATION.decode()))
        )
        try:
            outcome: object = call()
        except BaseException as error:
            outcome = error
        account(outcome, time.perf_counter() - started, is_cancel)

    def worker(index: int) -> None:
        for kind in plan[index :: args.threads]:
            one(kind)

    for kind in plan[:200]:  # warm-up: the runtime and pools reach their working size
        one(kind)
    warm = dict(stats)
    with lock:
        stats.update(calls=0, successes=0, cancels_ok=0, longest=0.0)
        errors.clear()
    before = rss_kib()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(args.threads)]
    churn = Churn(
        lambda: cloudpartner.Client(
            "chaos-token", base_url=f"http://127.0.0.1:{port}", timeout=timeout, max_retries=max_retries, backoff=0.01
        ),
        "o",
    )
    with churn:
        for thread in threads:
            thread.start()
        overall = bound * len(plan) / args.threads  # a bound no healthy run comes near
        for thread in threads:
            thread.join(max(0.0, started + overall - time.perf_counter()))
    elapsed = time.perf_counter() - started
    hung_threads = sum(thread.is_alive() for thread in threads)
    after = rss_kib()
    client.close()
    stop.set()
    served = ours.recv() if ours.poll(5) else {}
    server.join(5)

    hangs = hung_threads + (stats["longest"] > bound) + churn.hung
    print(
        f"chaos soak: seed {args.seed}, {args.threads} threads, idle close {args.idle_close * 1000:.0f} ms, "
        f"timeout {timeout} s, max_retries {max_retries}"
    )
    print(
        f"calls: {stats['calls']} (cancel_many items counted one by one) in {elapsed:.1f} s "
        f"({stats['calls'] / elapsed:,.0f} calls/s); warm-up {warm['calls']} calls before"
    )
    print(f"successes: {stats['successes']}")
    for name, count in sorted(errors.items()):
        print(f"  {name}: {count}")
    print(f"longest call: {stats['longest']:.3f} s (bound from the settings: {bound:.2f} s)")
    print(f"hangs: {hangs}")
    print(f"untyped errors: {len(untyped)}")
    for error in untyped[:5]:
        print(f"  {type(error).__name__}: {error}")
    print(churn.report())
    for error in churn.untyped[:5]:
        print(f"  {type(error).__name__}: {error}")
    print(
        f"RSS before: {before / 1024:.1f} MiB, after: {after / 1024:.1f} MiB, "
        f"growth: {(after - before) / 1024:+.2f} MiB"
    )
    faults = ", ".join(f"{name} {served.get(name, 0)}" for name in ("normal", *FAULTS))
    print(f"server: requests by behaviour: {faults}")
    answered, reset = served.get("cancels_202", 0), served.get("cancels_reset", 0)
    client_ok = stats["cancels_ok"] + warm["cancels_ok"] + churn.ok
    print(
        f"server read {answered + reset} cancels (warm-up included): answered 202 to {answered}, "
        f"reset {reset} after reading them (each sent again by the client: a repeated cancel is harmless)"
    )
    verdict = "" if answered == client_ok else " (MISMATCH: 202s lost or invented)"
    print(
        f"client counted {client_ok} successful cancels (the churn's included): "
        f"the server read {answered + reset - client_ok} more, "
        f"the resends of the {reset} reset ones{verdict}"
    )


if __name__ == "__main__":
    main()
