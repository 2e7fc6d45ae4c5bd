"""Measuring: warm-ups, interleaved rounds, import time and peak RSS in fresh interpreters."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Optional

from bench.clients import CONCURRENT_PEERS, SEQUENTIAL_PEERS
from bench.common import (
    BODY,
    CONCURRENT,
    EMAILS,
    IN_FLIGHT,
    PUBLISHER,
    ROUND_SECONDS,
    RSS_OFFERS,
    SEQUENTIAL,
    TOKEN,
    WARMUP_BATCHES,
    WRK_1,
    WRK_64,
    Call,
    Close,
    Measure,
    NotInstalledError,
    Results,
    Run,
    Server,
    Settings,
    _repeat,
)
from bench.servers import WRK_SCRIPT, wrk_rate

# ---------------------------------------------------------------- rounds


def _timed(run: Run, n: int) -> float:
    start = time.perf_counter()
    run(n)
    return n / (time.perf_counter() - start)


def _measured(run: Run, n: int) -> tuple[float, float]:
    """Calls/s and CPU µs per call: the whole process's CPU (every thread: the cores' runtimes too)."""
    cpu, start = time.process_time(), time.perf_counter()
    run(n)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return n / elapsed, cpu * 1e6 / n


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
) -> dict[str, tuple[Measure, Close]]:
    """Name -> (measure one round: calls/s and CPU µs/call, close) for every peer that can run."""
    peers: dict[str, tuple[Measure, Close]] = {}
    for name, make_seq in SEQUENTIAL_PEERS.items():

        def build_seq(make_seq: Callable[[Server], tuple[Call, Close]] = make_seq) -> tuple[Run, Close]:
            call, close = make_seq(server)
            return _repeat(call), close

        ready = _prepare(results, name, SEQUENTIAL, build_seq, settings.warmup_calls)
        if ready:
            run, close, rate = ready
            n = results.calls[name] = _calls_per_round(rate, settings.sequential_calls, settings.warmup_calls)
            peers[name] = (lambda run=run, n=n: _measured(run, n)), close
    for name, make_conc in CONCURRENT_PEERS.items():
        warmup = 4 * IN_FLIGHT
        ready = _prepare(results, name, CONCURRENT, lambda m=make_conc: m(server, loop), warmup)
        if ready:
            run, close, rate = ready
            n = results.calls[name] = _calls_per_round(rate, settings.concurrent_calls, 2 * warmup)
            peers[name] = (lambda run=run, n=n: _measured(run, n)), close
    return peers


def prepare_wrk(server: Server, settings: Settings, tmp: Path, results: Results) -> dict[str, Measure]:
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


def run_rounds(measures: dict[str, Measure], rounds: int, results: Results) -> None:
    """Every peer once per round, in the same order; a peer that fails is dropped and reported."""
    active = dict(measures)
    for number in range(rounds):
        for name, measure in list(active.items()):
            try:
                rate, cpu_us = measure()
            except Exception as exc:
                results.skipped[name] = f"failed in round {number + 1}: {type(exc).__name__}: {exc}"
                results.rates.pop(name, None)
                results.cpu_us.pop(name, None)
                del active[name]
                continue
            results.rates.setdefault(name, []).append(rate)
            if cpu_us is not None:
                results.cpu_us.setdefault(name, []).append(cpu_us)
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
    "bookkeeping is CPU-bound (encode/httpx#3215).",
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
    peers: dict[str, tuple[Measure, Close]] = {}
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
