"""Peer benchmark: cloudpartner's cancel call beside other Python HTTP clients and wrk, on one machine.

    python benchmarks/peers.py [--rounds 5] [--quick] [--no-write]

Every client sends the same request to a fast local server on 127.0.0.1 (nginx when installed,
else a Python asyncio server, and then the figures are server-bound):

    POST /api/publishers/contoso/offers/contoso-virtualmachineoffer/cancel?api-version=2017-10-31
    Content-Type: application/json, Authorization: Bearer <token>, x-ms-client-request-id: <uuid4>
    {"metadata":{"notification-emails":"jondoe@contoso.com"}}

and reads the status (202) and the Operation-Location header. Peers get the body already encoded,
validate nothing and keep idle connections 60 s (as cloudpartner does): their best case.
Sections, measured in interleaved rounds (every peer once per round), reported as the median
(min, max) over rounds:

- sequential calls/s: one thread, one reused connection;
- concurrent calls/s: 64 calls in flight (asyncio peers: 64 workers under ``asyncio.gather``);
- the floor: wrk with 1 and 64 connections, the same request from a Lua script;
- ``import`` time (in a fresh interpreter, median of 15) and the peak RSS of ``cancel_many`` over
  10,000 offers (fresh interpreter).

Writes BENCHMARKS.md at the repository root and benchmarks/peers.png (unless ``--no-write``).
A peer whose package is missing is reported as "not installed". Set CLOUDPARTNER_BUILD_PROFILE to
name the core's build profile when it cannot be recognised from target/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import filecmp
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "python benchmarks/peers.py --rounds 5"

TOKEN = "bench-token"
PUBLISHER = "contoso"
OFFER = "contoso-virtualmachineoffer"
EMAILS = "jondoe@contoso.com"
BODY = json.dumps({"metadata": {"notification-emails": EMAILS}}, separators=(",", ":")).encode()
OPERATION_ID = "56615b67-2185-49fe-80d2-c4ddf77bb2e8"
CANCEL_PATH = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel?api-version=2017-10-31"
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

IN_FLIGHT = 64
IDLE_SECONDS = 60.0  # peers keep idle connections as long as cloudpartner and nginx do (httpx: 5 s, aiohttp: 15 s)
BUSY_LOAD = 0.5  # a 1-minute load average above this at the start gets a warning
ROUND_SECONDS = 2.0  # a slow peer makes fewer calls per round (at least its warm-up count)
WARMUP_BATCHES = 5
RSS_OFFERS = 10_000

SEQUENTIAL = "sequential"
CONCURRENT = "concurrent"
WRK_1 = "wrk -t1 -c1 (floor)"
WRK_64 = "wrk -t1 -c64 (floor)"

Run = Callable[[int], None]  # performs n calls
Close = Callable[[], None]
Call = Callable[[], None]
AsyncCall = Callable[[], Awaitable[None]]


class NotInstalledError(Exception):
    """A peer's package is missing."""


@dataclass(frozen=True)
class Settings:
    rounds: int
    sequential_calls: int
    concurrent_calls: int
    warmup_calls: int
    wrk_seconds: int
    import_runs: int


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    server_bound: bool

    @property
    def url(self) -> str:
        return self.base_url + CANCEL_PATH


@dataclass
class Results:
    rates: dict[str, list[float]] = field(default_factory=dict)  # peer -> calls/s per round
    calls: dict[str, int] = field(default_factory=dict)  # peer -> calls per round
    section: dict[str, str] = field(default_factory=dict)  # peer -> section
    skipped: dict[str, str] = field(default_factory=dict)  # peer -> why (not installed, failed: ...)
    imports_ms: dict[str, Optional[float]] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load: str = "unknown"  # load average when the script started

    def median(self, peer: str) -> Optional[float]:
        values = self.rates.get(peer)
        return statistics.median(values) if values else None


# ---------------------------------------------------------------- helpers


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NotInstalledError(name) from exc


def _headers() -> dict[str, str]:
    return {**HEADERS, "x-ms-client-request-id": str(uuid.uuid4())}


def _expect(status: int, location: Optional[str]) -> None:
    if status != 202 or not location:
        raise RuntimeError(f"unexpected answer: {status}, Operation-Location {location!r}")


def _expect_result(result: Any) -> None:
    if isinstance(result, BaseException):
        raise result
    _expect(result.status_code, result.operation_location)


def _repeat(call: Call) -> Run:
    def run(n: int) -> None:
        for _ in range(n):
            call()

    return run


async def _fan_out(call: AsyncCall, n: int) -> None:
    """N calls by IN_FLIGHT workers under asyncio.gather: IN_FLIGHT calls in flight."""
    share, extra = divmod(n, IN_FLIGHT)

    async def worker(count: int) -> None:
        for _ in range(count):
            await call()

    await asyncio.gather(*(worker(share + (i < extra)) for i in range(IN_FLIGHT)))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- sequential peers (one call each)


def seq_client_cancel(server: Server) -> tuple[Call, Close]:
    cloudpartner = _module("cloudpartner")
    client = cloudpartner.Client(TOKEN, base_url=server.base_url)

    def call() -> None:
        _expect_result(client.cancel(PUBLISHER, OFFER, EMAILS))

    return call, client.close


def seq_module_cancel(server: Server) -> tuple[Call, Close]:
    cloudpartner = _module("cloudpartner")
    base_url = server.base_url

    def call() -> None:
        _expect_result(cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, EMAILS, base_url=base_url))

    return call, lambda: None


def seq_requests(server: Server) -> tuple[Call, Close]:
    session = _module("requests").Session()
    url = server.url

    def call() -> None:
        response = session.post(url, data=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, session.close


def seq_httpx(server: Server) -> tuple[Call, Close]:
    httpx = _module("httpx")
    client = httpx.Client(limits=httpx.Limits(keepalive_expiry=IDLE_SECONDS))
    url = server.url

    def call() -> None:
        response = client.post(url, content=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, client.close


def seq_urllib3(server: Server) -> tuple[Call, Close]:
    pool = _module("urllib3").PoolManager(maxsize=1)
    url = server.url

    def call() -> None:
        response = pool.request("POST", url, body=BODY, headers=_headers())
        _expect(response.status, response.headers.get("Operation-Location"))

    return call, pool.clear


def seq_azure_core(server: Server) -> tuple[Call, Close]:
    client = _module("azure.core").PipelineClient(base_url=server.base_url)
    http_request = _module("azure.core.rest").HttpRequest
    url = server.url

    def call() -> None:
        response = client.send_request(http_request("POST", url, headers=_headers(), content=BODY))
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return call, client.close


def seq_pyreqwest(server: Server) -> tuple[Call, Close]:
    client = _module("pyreqwest.client").SyncClientBuilder().build()
    url = server.url

    def call() -> None:
        response = client.post(url).headers(_headers()).body_bytes(BODY).build().send()
        _expect(response.status, response.headers.get("operation-location"))

    return call, client.close


SEQUENTIAL_PEERS: dict[str, Callable[[Server], tuple[Call, Close]]] = {
    "cloudpartner Client.cancel": seq_client_cancel,
    "cloudpartner.cancel() (module)": seq_module_cancel,
    "pyreqwest SyncClient": seq_pyreqwest,
    "urllib3 PoolManager": seq_urllib3,
    "httpx Client": seq_httpx,
    "requests Session": seq_requests,
    "azure-core PipelineClient": seq_azure_core,
}


# ---------------------------------------------------------------- concurrent peers (64 in flight)


def conc_cancel_many(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    client = _module("cloudpartner").Client(TOKEN, base_url=server.base_url)

    def run(n: int) -> None:
        for result in client.cancel_many([(PUBLISHER, OFFER)] * n, emails=EMAILS, concurrency=IN_FLIGHT):
            _expect_result(result)

    return run, client.close


def conc_cancel_async(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    client = _module("cloudpartner").Client(TOKEN, base_url=server.base_url)

    async def call() -> None:
        _expect_result(await client.cancel_async(PUBLISHER, OFFER, EMAILS))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), client.close


def conc_aiohttp(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    aiohttp = _module("aiohttp")
    url = server.url

    async def open_session() -> Any:
        return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT, keepalive_timeout=IDLE_SECONDS))

    session = loop.run_until_complete(open_session())

    async def call() -> None:
        async with session.post(url, data=BODY, headers=_headers()) as response:
            await response.read()
            _expect(response.status, response.headers.get("Operation-Location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(session.close())


def conc_httpx(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    httpx = _module("httpx")
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT, keepalive_expiry=IDLE_SECONDS)
    client = httpx.AsyncClient(limits=limits)
    url = server.url

    async def call() -> None:
        response = await client.post(url, content=BODY, headers=_headers())
        _expect(response.status_code, response.headers.get("Operation-Location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(client.aclose())


def conc_pyreqwest(server: Server, loop: asyncio.AbstractEventLoop) -> tuple[Run, Close]:
    builder = _module("pyreqwest.client").ClientBuilder().max_connections(IN_FLIGHT)

    async def open_client() -> Any:
        return builder.build()

    client = loop.run_until_complete(open_client())
    url = server.url

    async def call() -> None:
        response = await client.post(url).headers(_headers()).body_bytes(BODY).build().send()
        _expect(response.status, response.headers.get("operation-location"))

    return lambda n: loop.run_until_complete(_fan_out(call, n)), lambda: loop.run_until_complete(client.close())


CONCURRENT_PEERS: dict[str, Callable[[Server, asyncio.AbstractEventLoop], tuple[Run, Close]]] = {
    "cloudpartner cancel_many": conc_cancel_many,
    "cloudpartner cancel_async + gather": conc_cancel_async,
    "pyreqwest Client": conc_pyreqwest,
    "aiohttp ClientSession": conc_aiohttp,
    "httpx AsyncClient": conc_httpx,
}


# ---------------------------------------------------------------- the floor: wrk

WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["x-ms-client-request-id"] = "{request_id}"
"""


def wrk_rate(server: Server, script: Path, connections: int, seconds: int) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), server.url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError("wrk saw errors: " + " ".join(output.split()))
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError("no Requests/sec in wrk output: " + " ".join(output.split()))
    return float(match.group(1))


# ---------------------------------------------------------------- the servers

NGINX_CONF = """daemon off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            add_header Operation-Location "{location}" always;
            return 202;
        }}
    }}
}}
"""

ACCEPTED = "HTTP/1.1 202 Accepted\r\nOperation-Location: {location}\r\nContent-Length: 0\r\n\r\n"  # asyncio fallback


def _operation_location(base_url: str) -> str:
    return f"{base_url}/api/publishers/{PUBLISHER}/offers/{OFFER}/operations/{OPERATION_ID}"


def _wait_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            detail = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"the server exited with {process.returncode}: {detail.strip()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError("the server did not start listening within 10 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def serve(tmp: Path) -> Iterator[Server]:
    """Start nginx (or the asyncio fallback) on a free 127.0.0.1 port; always stop it."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    nginx = shutil.which("nginx")
    log = tmp / "error.log"
    if nginx:
        conf = tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, location=_operation_location(base_url)))
        command = [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(log)]
        server = Server(_nginx_version(nginx) + " (1 worker)", base_url, server_bound=False)
    else:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)]
        server = Server("Python asyncio fallback (nginx not installed)", base_url, server_bound=True)
    with log.open("ab") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        _wait_listening(process, port, log)
        yield server
    finally:
        _stop(process)


def _nginx_version(nginx: str) -> str:
    result = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10, check=False)
    return (result.stderr.strip().split(": ", 1)[-1]) or "nginx"


class _Accepting(asyncio.Protocol):
    """The fallback server: answers every request with 202 and the location, keeping the connection."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.buffer = b""
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", self.buffer[:end])
            size = end + 4 + (int(match.group(1)) if match else 0)
            if len(self.buffer) < size:
                return
            self.buffer = self.buffer[size:]
            if self.transport is not None:
                self.transport.write(self.answer)


def run_fallback_server(port: int) -> None:
    answer = ACCEPTED.format(location=_operation_location(f"http://127.0.0.1:{port}")).encode()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Accepting(answer), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---------------------------------------------------------------- rounds


def _timed(run: Run, n: int) -> float:
    start = time.perf_counter()
    run(n)
    return n / (time.perf_counter() - start)


def _prepare(results: Results, name: str, section: str, make: Callable[[], tuple[Run, Close]], warmup: int) -> Any:
    """Build a peer and warm it up: (run, close, calls/s at the end of the warm-up), or None with the reason."""
    results.section[name] = section
    try:
        run, close = make()
    except NotInstalledError as exc:
        results.skipped[name] = f"not installed (no module {exc})"
        return None
    try:
        rate = _warm_up(run, warmup)
    except Exception as exc:
        close()
        results.skipped[name] = f"failed in warm-up: {type(exc).__name__}: {exc}"
        return None
    return run, close, rate


def _warm_up(run: Run, n: int) -> float:
    """Batches of n calls until two in a row agree within 20% (at most WARMUP_BATCHES); the last rate."""
    previous = rate = 0.0
    for _ in range(WARMUP_BATCHES):
        rate = _timed(run, n)
        if previous and abs(rate - previous) <= 0.2 * previous:
            break
        previous = rate
    return rate


def _calls_per_round(rate: float, most: int, least: int) -> int:
    """``most`` calls, or fewer for a slow peer, so that one round takes about ROUND_SECONDS."""
    return max(least, min(most, int(rate * ROUND_SECONDS)))


def prepare_peers(
    server: Server, settings: Settings, loop: asyncio.AbstractEventLoop, results: Results
) -> dict[str, tuple[Callable[[], float], Close]]:
    """Name -> (measure one round: calls/s, close) for every peer that can run."""
    peers: dict[str, tuple[Callable[[], float], Close]] = {}
    for name, make_seq in SEQUENTIAL_PEERS.items():

        def build_seq(make_seq: Callable[[Server], tuple[Call, Close]] = make_seq) -> tuple[Run, Close]:
            call, close = make_seq(server)
            return _repeat(call), close

        ready = _prepare(results, name, SEQUENTIAL, build_seq, settings.warmup_calls)
        if ready:
            run, close, rate = ready
            n = results.calls[name] = _calls_per_round(rate, settings.sequential_calls, settings.warmup_calls)
            peers[name] = (lambda run=run, n=n: _timed(run, n)), close
    for name, make_conc in CONCURRENT_PEERS.items():
        warmup = 4 * IN_FLIGHT
        ready = _prepare(results, name, CONCURRENT, lambda m=make_conc: m(server, loop), warmup)
        if ready:
            run, close, rate = ready
            n = results.calls[name] = _calls_per_round(rate, settings.concurrent_calls, 2 * warmup)
            peers[name] = (lambda run=run, n=n: _timed(run, n)), close
    return peers


def prepare_wrk(server: Server, settings: Settings, tmp: Path, results: Results) -> dict[str, Callable[[], float]]:
    results.section[WRK_1], results.section[WRK_64] = SEQUENTIAL, CONCURRENT
    if shutil.which("wrk") is None:
        for name in (WRK_1, WRK_64):
            results.skipped[name] = "not installed (apt-get install wrk): no floor"
        return {}
    script = tmp / "cancel.lua"
    script.write_text(WRK_SCRIPT.format(body=BODY.decode(), token=TOKEN, request_id=uuid.uuid4()))
    return {
        WRK_1: lambda: wrk_rate(server, script, 1, settings.wrk_seconds),
        WRK_64: lambda: wrk_rate(server, script, IN_FLIGHT, settings.wrk_seconds),
    }


def run_rounds(measures: dict[str, Callable[[], float]], rounds: int, results: Results) -> None:
    """Every peer once per round, in the same order; a peer that fails is dropped and reported."""
    active = dict(measures)
    for number in range(rounds):
        for name, measure in list(active.items()):
            try:
                results.rates.setdefault(name, []).append(measure())
            except Exception as exc:
                results.skipped[name] = f"failed in round {number + 1}: {type(exc).__name__}: {exc}"
                results.rates.pop(name, None)
                del active[name]
        print(f"  round {number + 1}/{rounds} done", flush=True)


def environment_notes(results: Results) -> None:
    """Known environment pitfalls that skew a peer's figures."""
    if importlib.util.find_spec("httpx") and not importlib.util.find_spec("sniffio"):
        results.notes.append(
            "sniffio is not installed: httpcore then retries a failed `import sniffio` on every async request "
            "(encode/httpcore#1103), which slows httpx AsyncClient several-fold; `pip install sniffio` to avoid it."
        )


KNOWN_ISSUES = {
    "httpx AsyncClient": "httpx AsyncClient is known to be slow with many requests in flight: its pool's "
    "bookkeeping is CPU-bound (encode/httpx#3215); its figure here swings between rounds.",
}


def stability_notes(results: Results) -> None:
    """A note per peer whose rounds disagree by more than 2x, and the known issues of measured peers."""
    for name, values in results.rates.items():
        if min(values) * 2 < max(values):
            results.notes.append(
                f"{name} varied more than 2x between rounds ({min(values):,.0f} to {max(values):,.0f})."
            )
    results.notes += [note for name, note in KNOWN_ISSUES.items() if name in results.rates]


def measure_throughput(server: Server, settings: Settings, tmp: Path, results: Results) -> None:
    environment_notes(results)
    loop = asyncio.new_event_loop()
    peers: dict[str, tuple[Callable[[], float], Close]] = {}
    try:
        peers = prepare_peers(server, settings, loop, results)
        measures = {name: measure for name, (measure, _) in peers.items()}
        measures.update(prepare_wrk(server, settings, tmp, results))
        run_rounds(measures, settings.rounds, results)
    finally:
        for _, close in peers.values():
            with contextlib.suppress(Exception):
                close()
        loop.close()
    stability_notes(results)


# ---------------------------------------------------------------- import time and RSS (fresh interpreters)

IMPORTED = ("cloudpartner", "requests", "httpx", "aiohttp")
IMPORT_CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
RSS_CODE = """
import json, re, sys
import cloudpartner

def peak_kb():  # VmHWM: this process's own peak (ru_maxrss would carry the parent's over exec)
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))

client = cloudpartner.Client({token!r}, base_url=sys.argv[1])
before = peak_kb()
items = [({publisher!r}, f"offer-{{i}}") for i in range({count})]
results = client.cancel_many(items, emails={emails!r}, concurrency={in_flight})
peak = peak_kb()
failed = sum(isinstance(r, BaseException) for r in results)
print(json.dumps({{"before_kb": before, "peak_kb": peak, "failed": failed}}))
"""


def _import_seconds(module: str) -> Optional[float]:
    code = IMPORT_CODE.format(module=module)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    return float(result.stdout) if result.returncode == 0 else None


def measure_imports(settings: Settings, results: Results) -> None:
    """Median import time over fresh interpreters, modules interleaved; None when not installed."""
    samples: dict[str, list[float]] = {module: [] for module in IMPORTED}
    missing: set[str] = set()
    for _ in range(settings.import_runs):
        for module in IMPORTED:
            if module in missing:
                continue
            seconds = _import_seconds(module)
            if seconds is None:
                missing.add(module)
            else:
                samples[module].append(seconds)
    for module, values in samples.items():
        results.imports_ms[module] = statistics.median(values) * 1000 if values else None


def measure_rss(server: Server, results: Results) -> None:
    code = RSS_CODE.format(token=TOKEN, publisher=PUBLISHER, count=RSS_OFFERS, emails=EMAILS, in_flight=IN_FLIGHT)
    command = [sys.executable, "-c", code, server.base_url]
    output = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if output.returncode != 0:
        results.notes.append(f"RSS run failed: {output.stderr.strip()[-500:]}")
        return
    data = json.loads(output.stdout)
    results.rss = {"before_mb": data["before_kb"] / 1024, "peak_mb": data["peak_kb"] / 1024}
    if data["failed"]:
        results.notes.append(f"RSS run: {data['failed']} of {RSS_OFFERS} cancels failed")


# ---------------------------------------------------------------- ratios and goals


@dataclass(frozen=True)
class Ratio:
    label: str
    numerator: str
    denominator: str
    goal: float


RATIOS = (
    Ratio("Client.cancel / pyreqwest (sequential)", "cloudpartner Client.cancel", "pyreqwest SyncClient", 1.2),
    Ratio("Client.cancel / requests (sequential)", "cloudpartner Client.cancel", "requests Session", 8.0),
    Ratio("Client.cancel / wrk 1 connection", "cloudpartner Client.cancel", WRK_1, 0.5),
    Ratio("cloudpartner.cancel() / Client.cancel", "cloudpartner.cancel() (module)", "cloudpartner Client.cancel", 0.9),
    Ratio("cancel_many / aiohttp (64 in flight)", "cloudpartner cancel_many", "aiohttp ClientSession", 3.0),
    Ratio("cancel_many / wrk 64 connections", "cloudpartner cancel_many", WRK_64, 0.35),
    Ratio("cancel_async + gather / aiohttp", "cloudpartner cancel_async + gather", "aiohttp ClientSession", 1.2),
)

IMPORT_GOAL_MS = 8.0
RSS_GOAL_MB = 60.0


def goal_rows(results: Results) -> list[list[str]]:
    """One row per goal: measure, goal, value, PASS / MISS (n/a when a peer is missing)."""
    rows = []
    for ratio in RATIOS:
        top, bottom = results.median(ratio.numerator), results.median(ratio.denominator)
        value = top / bottom if top and bottom else None
        shown = f"{value:.2f}x" if value is not None else "n/a"
        rows.append([ratio.label, f">= {ratio.goal:g}x", shown, _verdict(value, lambda v, g=ratio.goal: v >= g)])
    ms = results.imports_ms.get("cloudpartner")
    rows.append(["import cloudpartner", f"<= {IMPORT_GOAL_MS:g} ms", _fmt(ms, "ms"), _verdict(ms, _import_ok)])
    mb = results.rss.get("peak_mb")
    rows.append(
        [f"peak RSS, cancel_many of {RSS_OFFERS:,}", f"< {RSS_GOAL_MB:g} MB", _fmt(mb, "MB"), _verdict(mb, _rss_ok)]
    )
    return rows


def _import_ok(ms: float) -> bool:
    return ms <= IMPORT_GOAL_MS


def _rss_ok(mb: float) -> bool:
    return mb < RSS_GOAL_MB


def _verdict(value: Optional[float], passes: Callable[[float], bool]) -> str:
    if value is None:
        return "n/a (not measured)"
    return "PASS" if passes(value) else "MISS"


def _fmt(value: Optional[float], unit: str) -> str:
    return f"{value:.1f} {unit}" if value is not None else "n/a"


# ---------------------------------------------------------------- report


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def section_rows(results: Results, section: str) -> list[list[str]]:
    names = [name for name, where in results.section.items() if where == section]
    names.sort(key=lambda name: -(results.median(name) or -1.0))
    rows = []
    for name in names:
        values = results.rates.get(name)
        if not values:
            rows.append([name, results.skipped.get(name, "n/a"), "", "", ""])
            continue
        median = statistics.median(values)
        spread = f"{min(values):,.0f} - {max(values):,.0f}"
        per_round = f"{results.calls[name]:,}" if name in results.calls else "(duration)"
        rows.append([name, f"{median:,.0f}", spread, f"{1e6 / median:,.1f}", per_round])
    return rows


def environment(server: Server, load: str) -> list[str]:
    cloudpartner = _module("cloudpartner")
    versions = []
    for package in ("requests", "httpx", "urllib3", "aiohttp", "azure-core", "pyreqwest"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores; {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- cloudpartner {cloudpartner.__version__}, core build: {build_profile()}",
        f"- Peers: {', '.join(versions)}; wrk: {_wrk_version()}",
        f"- Server: {server.name} on 127.0.0.1, answering 202 + Operation-Location, empty body",
        f"- Load average at the start: {load}",
    ]


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    busy = " (busy: other work was running, figures are noisy)" if one > BUSY_LOAD else ""
    return f"{one:.2f} (1 min), {five:.2f} (5 min){busy}"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _wrk_version() -> str:
    if shutil.which("wrk") is None:
        return "not installed"
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    return (result.stdout + result.stderr).split("\n", 1)[0].split(" [")[0].strip() or "unknown"


def build_profile() -> str:
    """The core's cargo profile: CLOUDPARTNER_BUILD_PROFILE, else which target/ artifact it matches."""
    if os.environ.get("CLOUDPARTNER_BUILD_PROFILE"):
        return os.environ["CLOUDPARTNER_BUILD_PROFILE"]
    core = Path(_module("cloudpartner._core").__file__)
    for profile in ("release", "debug"):
        artifact = ROOT / "target" / profile / "lib_core.so"
        if artifact.exists() and filecmp.cmp(core, artifact, shallow=False):
            return profile
    return "unknown (set CLOUDPARTNER_BUILD_PROFILE)"


def report(server: Server, settings: Settings, results: Results, runtime: float) -> list[str]:
    header = ["peer", "median calls/s", "min - max", "µs/call", "calls/round"]
    imports = [[module, _fmt(ms, "ms")] for module, ms in results.imports_ms.items()]
    rss = results.rss
    lines = ["# Benchmarks: cloudpartner beside its peers", "", *environment(server, results.load), ""]
    if server.server_bound:
        lines += ["**Figures are server-bound (nginx not installed: apt-get install nginx).**", ""]
    lines += [
        f"{settings.rounds} interleaved rounds (every peer once per round, in turn); each round: up to "
        f"{settings.sequential_calls:,} sequential and {settings.concurrent_calls:,} concurrent calls per peer "
        f"(a slow peer makes fewer, about {ROUND_SECONDS:g} s worth), wrk for {settings.wrk_seconds} s. "
        "Median (min - max) over rounds, after a warm-up. Every call sends a fresh uuid4 request id and "
        "checks the 202 and Operation-Location. The peers get the body pre-encoded (cloudpartner validates "
        f"the emails and encodes it per call) and keep idle connections {IDLE_SECONDS:g} s, as cloudpartner "
        f"does. Script runtime {runtime:.0f} s.",
        "",
        "## Sequential: one thread, one reused connection",
        "",
        *_table(header, section_rows(results, SEQUENTIAL)),
        "",
        f"## Concurrent: {IN_FLIGHT} calls in flight",
        "",
        *_table(header, section_rows(results, CONCURRENT)),
        "",
        "## Import time (fresh interpreter, in-process `time.perf_counter()` around the import, median)",
        "",
        *_table(["module", "import"], imports),
        "",
        f"## Memory: `cancel_many` of {RSS_OFFERS:,} offers, {IN_FLIGHT} in flight, fresh interpreter",
        "",
        f"- peak RSS (VmHWM) after `import cloudpartner` and a Client: {_fmt(rss.get('before_mb'), 'MB')}",
        f"- peak RSS (VmHWM) after the batch: {_fmt(rss.get('peak_mb'), 'MB')}",
        "- (VmHWM, not `ru_maxrss`: on Linux `ru_maxrss` keeps the parent's peak across fork + exec)",
        "",
        "## Ratios and goals",
        "",
        *_table(["measure", "goal", "value", "outcome"], goal_rows(results)),
    ]
    if results.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in results.notes)]
    lines += ["", "## Reproduce", "", "```sh", *reproduce_lines(), "```"]
    return lines


def reproduce_lines() -> list[str]:
    return [
        "apt-get install -y nginx wrk",
        "pip install requests httpx sniffio aiohttp urllib3 azure-core pyreqwest matplotlib",
        "maturin develop --release",
        COMMAND,
    ]


def chart(results: Results, rounds: int, path: Path) -> None:
    """Horizontal bars of median calls/s per peer, one panel per section, the wrk floor as a line."""
    try:
        matplotlib = _module("matplotlib")
    except NotInstalledError:
        print("matplotlib not installed: no chart")
        return
    matplotlib.use("Agg")
    pyplot = _module("matplotlib.pyplot")
    figure, axes = pyplot.subplots(2, 1, figsize=(9, 7.5))
    for axis, section, floor in ((axes[0], SEQUENTIAL, WRK_1), (axes[1], CONCURRENT, WRK_64)):
        _chart_section(axis, results, section, floor)
        axis.set_title(f"{section} calls/s, median of {rounds} rounds (higher is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    print(f"wrote {path}")


def _chart_section(axis: Any, results: Results, section: str, floor: str) -> None:
    names = [n for n, s in results.section.items() if s == section and n != floor and results.rates.get(n)]
    names.sort(key=lambda name: results.median(name) or 0.0)
    medians = [results.median(name) or 0.0 for name in names]
    colours = ["#1f77b4" if name.startswith("cloudpartner") else "#999999" for name in names]
    bars = axis.barh(names, medians, color=colours)
    axis.bar_label(bars, labels=[f"{value:,.0f}" for value in medians], padding=3, fontsize=8)
    wrk = results.median(floor)
    if wrk:
        axis.axvline(wrk, color="#d62728", linestyle="--", label=f"{floor}: {wrk:,.0f}/s")
        axis.legend(loc="lower right", fontsize=8)
    axis.set_xlim(0, max([*medians, wrk or 0.0, 1.0]) * 1.15)  # room for the labels
    axis.tick_params(axis="y", labelsize=8)


# ---------------------------------------------------------------- main


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="small call counts: a smoke run for CI")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write BENCHMARKS.md or the chart")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the asyncio fallback server
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds must be between 1 and 50")
    return args


def settings_for(args: argparse.Namespace) -> Settings:
    if args.quick:
        return Settings(
            args.rounds, sequential_calls=200, concurrent_calls=640, warmup_calls=50, wrk_seconds=1, import_runs=3
        )
    return Settings(
        args.rounds, sequential_calls=2000, concurrent_calls=5000, warmup_calls=200, wrk_seconds=3, import_runs=15
    )


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.serve:
        run_fallback_server(args.serve)
        return 0
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"  # the peers never go through a proxy
    settings = settings_for(args)
    started = time.perf_counter()
    results = Results(load=_load())
    print(f"load average: {results.load}", flush=True)
    with tempfile.TemporaryDirectory(prefix="cloudpartner-peers-") as tmp, serve(Path(tmp)) as server:
        print(f"server: {server.name} at {server.base_url}", flush=True)
        if server.server_bound:
            print("figures are server-bound (nginx not installed: apt-get install nginx)")
        if shutil.which("wrk") is None:
            print("wrk not installed (apt-get install wrk): no floor")
        measure_throughput(server, settings, Path(tmp), results)
        measure_rss(server, results)
    measure_imports(settings, results)
    lines = report(server, settings, results, time.perf_counter() - started)
    print("\n".join(lines))
    if not args.no_write:
        (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n")
        print("wrote BENCHMARKS.md")
        chart(results, settings.rounds, ROOT / "benchmarks" / "peers.png")
    print(f"total runtime {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
