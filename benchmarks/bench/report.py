"""Reporting: ratios against the goals, the BENCHMARKS.md text and the chart."""

from __future__ import annotations

import contextlib
import filecmp
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from bench import coldstart
from bench.common import (
    BUSY_LOAD,
    CANCEL_JOB_PATH,
    COMMAND,
    CONCURRENT,
    IDLE_SECONDS,
    IN_FLIGHT,
    JOB_ID,
    ROOT,
    ROUND_SECONDS,
    RSS_OFFERS,
    SEQUENTIAL,
    WRK_1,
    WRK_64,
    NotInstalledError,
    Results,
    Server,
    Settings,
    _module,
)

# ---------------------------------------------------------------- ratios and goals


RATE, CPU, COLD = "calls/s", "CPU µs/call", "cold-start ms"  # which median a ratio divides
INGESTION_EXAMPLE = CANCEL_JOB_PATH.replace(JOB_ID, "<job>")  # the ingestion cancel, as the report names it


@dataclass(frozen=True)
class Ratio:
    label: str
    numerator: str
    denominator: str
    goal: float
    measure: str = RATE  # calls/s: higher is better (>= goal); CPU and cold-start ms: lower is (<= goal)

    def value(self, results: Results) -> Optional[float]:
        median = {RATE: results.median, CPU: results.cpu_median, COLD: results.cold.median}[self.measure]
        top, bottom = median(self.numerator), median(self.denominator)
        return top / bottom if top and bottom else None

    def passes(self, value: float) -> bool:
        return value >= self.goal if self.measure == RATE else value <= self.goal


CLIENT, MODULE, MANY, GATHER = (
    "cloudpartner Client.cancel",
    "cloudpartner.cancel() (module)",
    "cloudpartner cancel_many",
    "cloudpartner cancel_async + gather",
)
PYREQWEST, REQUESTS, AIOHTTP = "pyreqwest SyncClient", "requests Session", "aiohttp ClientSession"

COLD_RATIOS = (
    Ratio("cold one-shot: cloudpartner / requests", coldstart.LIBRARY, coldstart.REQUESTS, 0.3, COLD),
    Ratio("cold one-shot: cloudpartner / curl", coldstart.LIBRARY, coldstart.CURL, 1.6, COLD),
    Ratio("cold one-shot: CLI / curl", coldstart.CLI, coldstart.CURL, 2.0, COLD),
    Ratio(
        "cold ingestion cancel_job: cloudpartner / requests",
        coldstart.INGESTION_LIBRARY,
        coldstart.INGESTION_REQUESTS,
        0.3,
        COLD,
    ),
    Ratio(
        "cold ingestion cancel_job: cloudpartner / curl",
        coldstart.INGESTION_LIBRARY,
        coldstart.INGESTION_CURL,
        1.6,
        COLD,
    ),
)
RATIOS = (
    Ratio("CPU/call: Client.cancel / pyreqwest SyncClient (sequential)", CLIENT, PYREQWEST, 0.75, CPU),
    Ratio("CPU/call: cancel_async + gather / aiohttp", GATHER, AIOHTTP, 0.6, CPU),
    Ratio("CPU/call: cancel_many / aiohttp", MANY, AIOHTTP, 0.25, CPU),
    Ratio("calls/s: cancel_async + gather / aiohttp", GATHER, AIOHTTP, 1.3),
    Ratio("calls/s: Client.cancel / pyreqwest SyncClient (sequential)", CLIENT, PYREQWEST, 1.2),
    Ratio("calls/s: cancel_many / wrk 64 connections", MANY, WRK_64, 0.4),
    Ratio("calls/s: cancel_many / aiohttp", MANY, AIOHTTP, 3.0),
    Ratio("calls/s: Client.cancel / requests (sequential)", CLIENT, REQUESTS, 8.0),
    Ratio("calls/s: Client.cancel / wrk 1 connection", CLIENT, WRK_1, 0.5),
    Ratio("calls/s: cloudpartner.cancel() / Client.cancel", MODULE, CLIENT, 0.9),
)

EXTRA_GOAL_MS = 10.0
IMPORT_GOAL_MS = 5.0
RSS_GOAL_MB = 60.0


def goal_rows(results: Results) -> list[list[str]]:
    """One row per goal: measure, goal, value, PASS / MISS (n/a when a peer is missing)."""
    rows = [_ratio_row(ratio, results) for ratio in COLD_RATIOS]
    extra = results.cold.step(coldstart.EXTRA)
    rows.append([f"cold: {coldstart.EXTRA}", f"<= {EXTRA_GOAL_MS:g} ms", _fmt(extra, "ms"), _verdict(extra, _extra_ok)])
    rows += [_ratio_row(ratio, results) for ratio in RATIOS]
    ms = results.imports_ms.get("cloudpartner")
    rows.append(["import cloudpartner", f"<= {IMPORT_GOAL_MS:g} ms", _fmt(ms, "ms"), _verdict(ms, _import_ok)])
    mb = results.rss.get("peak_mb")
    rows.append(
        [f"peak RSS, cancel_many of {RSS_OFFERS:,}", f"< {RSS_GOAL_MB:g} MB", _fmt(mb, "MB"), _verdict(mb, _rss_ok)]
    )
    return rows


def _ratio_row(ratio: Ratio, results: Results) -> list[str]:
    value = ratio.value(results)
    shown = f"{value:.2f}x" if value is not None else "n/a"
    goal = f"{'>=' if ratio.measure == RATE else '<='} {ratio.goal:g}x"
    return [ratio.label, goal, shown, _verdict(value, ratio.passes)]


def _extra_ok(ms: float) -> bool:
    return ms <= EXTRA_GOAL_MS


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
            rows.append([name, results.skipped.get(name, "n/a"), "", "", "", ""])
            continue
        median = statistics.median(values)
        spread = f"{min(values):,.0f} - {max(values):,.0f}"
        per_round = f"{results.calls[name]:,}" if name in results.calls else "(duration)"
        rows.append([name, f"{median:,.0f}", spread, f"{1e6 / median:,.1f}", _cpu_cell(results, name), per_round])
    return rows


def _cpu_cell(results: Results, name: str) -> str:
    values = results.cpu_us.get(name)
    if not values:
        return ""
    return f"{statistics.median(values):,.1f} ({min(values):,.1f} - {max(values):,.1f})"


def regime_line(results: Results) -> str:
    us = results.regime_us()
    shown = f"{us:,.1f} µs" if us is not None else "n/a (wrk not measured)"
    return f"machine regime: loopback round trip {shown} (wrk -c1)"


def cold_lines(results: Results) -> list[str]:
    """The cold-start section: whole processes, the in-process breakdown, the ratios."""
    cold = results.cold
    lines = ["## Cold start: one HTTPS cancel from a fresh process", ""]
    if cold.why_not:
        return [*lines, f"Skipped: {cold.why_not}.", ""]
    lines += [
        f"{cold.runs} runs of each process, interleaved (every process once per run, in turn), after one "
        "untimed run each. Wall time from spawn to exit as the benchmark sees it (`subprocess.run`); CPU is "
        "the child's user + system time (its rusage: all its threads). The server is a second nginx server "
        "block on 127.0.0.1 with a certificate from a test CA made at run time (trustme); every process makes "
        "a full TLS handshake (HTTP/1.1, verification on) and checks the answer: the CPP cancel's 202 and "
        "Operation-Location, or the ingestion cancel's 200 and job JSON (the job asked for, cancelled).",
        "",
    ]
    if cold.refused_untrusted:
        refused = ", ".join(cold.refused_untrusted)
        lines += [f"Checked first: trusting the system store alone, these refused the server: {refused}.", ""]
    lines += [*_cold_table(results, coldstart.CPP_PROCESSES), ""]
    lines += [
        "### The ingestion cancel: `cancel_job` from a fresh process",
        "",
        f"`POST {INGESTION_EXAMPLE}` with the bearer token and no body, answered 200 with the job JSON "
        "Microsoft's page documents (tests/reference/ingestion); nginx answers it to that request only (POST, "
        "that `$version`, that token). The same runs as above, interleaved with them.",
        "",
        *_cold_table(results, coldstart.INGESTION_PROCESSES),
        "",
    ]
    lines += [
        f"### Inside one fresh cloudpartner process (`time.perf_counter()` in the child, median of {cold.runs})",
        "",
    ]
    if coldstart.BREAKDOWN in cold.skipped:
        lines += [f"Not measured: {cold.skipped[coldstart.BREAKDOWN]}", ""]
    else:
        steps = [
            [step, _fmt(cold.step(step), "ms"), f"{min(values):,.1f} - {max(values):,.1f}"]
            for step, values in ((step, cold.steps_ms.get(step, [])) for step in coldstart.STEPS)
            if values
        ]
        lines += [*_table(["step", "median", "min - max"], steps), ""]
        lines += ["The last row is worked out in each run (first use + construction + first - second cancel).", ""]
    lines += ["Ratios of median wall times (lower is better):", ""]
    for ratio in COLD_RATIOS:
        value = ratio.value(results)
        lines.append(f"- {ratio.numerator} / {ratio.denominator}: " + (f"{value:.2f}x" if value is not None else "n/a"))
    return [*lines, ""]


def _cold_table(results: Results, names: tuple[str, ...]) -> list[str]:
    """One API's processes (those measured or skipped, in that order), beside the interpreter alone."""
    cold = results.cold
    baseline = cold.median(coldstart.BASELINE)
    rows = []
    for name in [n for n in names if n in cold.trusts]:
        values, cpu = cold.wall_ms.get(name), cold.cpu_ms.get(name)
        if not values or not cpu:
            rows.append([name, cold.skipped.get(name, "n/a"), "", "", "", cold.trusts[name]])
            continue
        median = statistics.median(values)
        over = f"+{median - baseline:,.1f}" if baseline is not None and name != coldstart.BASELINE else ""
        spread = f"{min(values):,.1f} - {max(values):,.1f}"
        rows.append([name, f"{median:,.1f}", spread, over, f"{statistics.median(cpu):,.1f}", cold.trusts[name]])
    header = ["process", "median ms", "min - max", "over the interpreter alone", "CPU ms", "trusts"]
    return _table(header, rows)


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
        f"- Server: {server.name} on 127.0.0.1, answering 202 + Operation-Location, empty body "
        "(over TLS, for the cold start, also the ingestion cancel: 200 + the documented job JSON)",
        f"- Load average at the start: {load}",
    ]


def load_average() -> str:
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
    core = Path(_module("cloudpartner._core").__file__).resolve()
    # An editable install may come from another checkout (a worktree) than this script's: look in both.
    for project in dict.fromkeys((core.parent.parent.parent, ROOT)):
        for profile in ("release", "debug"):
            artifact = project / "target" / profile / "lib_core.so"
            if artifact.exists() and filecmp.cmp(core, artifact, shallow=False):
                return profile
    return "unknown (set CLOUDPARTNER_BUILD_PROFILE)"


def report(server: Server, settings: Settings, results: Results, runtime: float) -> list[str]:
    header = ["peer", "median calls/s", "min - max", "µs/call", "CPU µs/call (min - max)", "calls/round"]
    imports = [[module, _fmt(ms, "ms")] for module, ms in results.imports_ms.items()]
    rss = results.rss
    lines = ["# Benchmarks: cloudpartner beside its peers", "", f"**{regime_line(results)}**", ""]
    lines += [*environment(server, results.load), ""]
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
        "CPU µs/call: the benchmark process's user + system CPU time (all its threads, so the cores' "
        "runtimes too) over a round, divided by the calls; nginx's CPU is in no figure. wrk's is its own "
        "process's (the rusage of the reaped child). The regime line above is wrk's one-connection time "
        "per call: the throughput ratios depend on it (a slow loopback hides client overhead).",
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
        *cold_lines(results),
        "## Ratios and goals",
        "",
        "calls/s ratios: higher is better; CPU/call and cold-start ratios: lower is better. The calls/s "
        "ratios against wrk depend on the machine regime (top).",
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
        "pip install requests httpx sniffio aiohttp urllib3 azure-core pyreqwest matplotlib trustme",
        "maturin develop --release",
        COMMAND,
    ]


def chart(results: Results, rounds: int, path: Path) -> None:
    """Horizontal bars of median calls/s per peer, one panel per section, the wrk floor as a line;
    a third panel with the cold-start processes' median wall ms when they were measured."""
    try:
        matplotlib = _module("matplotlib")
    except NotInstalledError:
        print("matplotlib not installed: no chart")
        return
    matplotlib.use("Agg")
    pyplot = _module("matplotlib.pyplot")
    cold = bool(results.cold.wall_ms)
    figure, axes = pyplot.subplots(3 if cold else 2, 1, figsize=(9, 12 if cold else 7.5))
    for axis, section, floor in ((axes[0], SEQUENTIAL, WRK_1), (axes[1], CONCURRENT, WRK_64)):
        _chart_section(axis, results, section, floor)
        axis.set_title(f"{section} calls/s, median of {rounds} rounds (higher is better)")
    if cold:
        _chart_cold(axes[2], results)
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


def _chart_cold(axis: Any, results: Results) -> None:
    """Median wall ms of each fresh process, both APIs' (lower is better), the interpreter alone as a line."""
    cold = results.cold
    names = [name for name in cold.wall_ms if name != coldstart.BASELINE]
    names.sort(key=lambda name: -(cold.median(name) or 0.0))  # the fastest on top
    medians = [cold.median(name) or 0.0 for name in names]
    colours = ["#1f77b4" if name.startswith("cloudpartner") else "#999999" for name in names]
    bars = axis.barh(names, medians, color=colours)
    axis.bar_label(bars, labels=[f"{value:,.0f} ms" for value in medians], padding=3, fontsize=8)
    baseline = cold.median(coldstart.BASELINE)
    if baseline:
        axis.axvline(baseline, color="#d62728", linestyle="--", label=f"python -c pass: {baseline:,.0f} ms")
        axis.legend(loc="upper right", fontsize=8)  # the shortest bars are on top
    axis.set_xlim(0, max([*medians, baseline or 0.0, 1.0]) * 1.15)
    axis.tick_params(axis="y", labelsize=8)
    axis.set_title(
        f"cold start: one HTTPS cancel (CPP or ingestion) from a fresh process,\nmedian ms of {cold.runs} "
        "(lower is better)"
    )
