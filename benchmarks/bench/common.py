"""What every part of the peer benchmark shares: the request, the settings, the results."""

from __future__ import annotations

import asyncio
import importlib
import json
import resource
import socket
import statistics
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent.parent
COMMAND = "python benchmarks/peers.py --rounds 5"

TOKEN = "bench-token"
PUBLISHER = "contoso"
OFFER = "contoso-virtualmachineoffer"
EMAILS = "jondoe@contoso.com"
BODY = json.dumps({"metadata": {"notification-emails": EMAILS}}, separators=(",", ":")).encode()
OPERATION_ID = "56615b67-2185-49fe-80d2-c4ddf77bb2e8"
CANCEL_PATH = f"/api/publishers/{PUBLISHER}/offers/{OFFER}/cancel?api-version=2017-10-31"
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}

# The Product Ingestion API's cancel (cold start only): `POST configure/<job>/cancel`, no body, answered
# 200 with the job; the answer is the one Microsoft's page documents (tests/reference/ingestion).
CANCEL_JOB_REFERENCE = ROOT / "tests" / "reference" / "ingestion" / "cancel-job-cancelled-malformed-jobstart.json"
_CANCEL_JOB = json.loads(CANCEL_JOB_REFERENCE.read_text())
JOB_ID = _CANCEL_JOB["expect"]["id"]
CANCEL_JOB_ANSWER = _CANCEL_JOB["response"]["body"]  # the job JSON, as documented
INGESTION_ROOT = "/rp/product-ingestion"  # the path of the service root (graph.microsoft.com/rp/product-ingestion)
INGESTION_QUERY = "$version=2022-07-01"  # what ingestion.Client names by default
CANCEL_JOB_PATH = f"{INGESTION_ROOT}/configure/{JOB_ID}/cancel?{INGESTION_QUERY}"
INGESTION_HEADERS = {"Accept": "application/json", "Authorization": f"Bearer {TOKEN}"}  # as ingestion.Client sends

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
Measure = Callable[[], tuple[float, Optional[float]]]  # one round: calls/s, CPU µs per call (None: unknown)
Close = Callable[[], None]
Call = Callable[[], None]
AsyncCall = Callable[[], Awaitable[None]]


def _median(values: Optional[list[float]]) -> Optional[float]:
    """The median of a figure's values over rounds or runs; None when it has none."""
    return statistics.median(values) if values else None


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
    cold_runs: int


@dataclass(frozen=True)
class TlsFiles:
    """The run's test CA and the server's certificate for 127.0.0.1 and localhost (made by trustme)."""

    ca: Path  # the test CA alone: cloudpartner's ca_file (added to the system store)
    bundle: Path  # the system bundle + the test CA: requests, httpx, curl, and SSL_CERT_FILE for the CLI
    chain: Path  # the server's certificate chain
    key: Path
    system_bundle: Optional[Path]  # what the bundle was made from (None: none found, the test CA alone)


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    server_bound: bool
    tls_base_url: Optional[str] = None  # the same answers over HTTPS (nginx with a TlsFiles only)

    @property
    def url(self) -> str:
        return self.base_url + CANCEL_PATH


@dataclass
class ColdStart:
    """Whole fresh processes making one HTTPS cancel: wall and CPU ms per run, and the in-process steps."""

    wall_ms: dict[str, list[float]] = field(default_factory=dict)  # process -> wall ms per run
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # process -> user + sys ms per run
    trusts: dict[str, str] = field(default_factory=dict)  # process -> what it verifies the server against
    skipped: dict[str, str] = field(default_factory=dict)  # process -> why
    steps_ms: dict[str, list[float]] = field(default_factory=dict)  # breakdown step -> ms per run
    why_not: Optional[str] = None  # the whole section was skipped: why
    refused_untrusted: list[str] = field(default_factory=list)  # refused the server without the test CA
    runs: int = 0  # runs completed

    def median(self, process: str) -> Optional[float]:
        return _median(self.wall_ms.get(process))

    def step(self, name: str) -> Optional[float]:
        return _median(self.steps_ms.get(name))


@dataclass
class Results:
    rates: dict[str, list[float]] = field(default_factory=dict)  # peer -> calls/s per round
    cpu_us: dict[str, list[float]] = field(default_factory=dict)  # peer -> CPU µs per call per round
    calls: dict[str, int] = field(default_factory=dict)  # peer -> calls per round
    section: dict[str, str] = field(default_factory=dict)  # peer -> section
    skipped: dict[str, str] = field(default_factory=dict)  # peer -> why (not installed, failed: ...)
    imports_ms: dict[str, Optional[float]] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    cold: ColdStart = field(default_factory=ColdStart)
    notes: list[str] = field(default_factory=list)
    load: str = "unknown"  # load average when the script started

    def median(self, peer: str) -> Optional[float]:
        return _median(self.rates.get(peer))

    def cpu_median(self, peer: str) -> Optional[float]:
        return _median(self.cpu_us.get(peer))

    def regime_us(self) -> Optional[float]:
        """wrk's one-connection µs per call: the loopback round trip that every throughput ratio rests on."""
        rate = self.median(WRK_1)
        return 1e6 / rate if rate else None


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


def _children_cpu() -> float:
    """User + system seconds of this process's reaped children (one child at a time: a delta is its own)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
