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
- beside both, CPU µs per call: the whole process's user + system time over a round / its calls;
- the floor: wrk with 1 and 64 connections, the same request from a Lua script; its one-connection
  µs per call is the "machine regime" the throughput ratios depend on;
- ``import`` time (in a fresh interpreter, median of 15) and the peak RSS of ``cancel_many`` over
  10,000 offers (fresh interpreter);
- cold start: whole fresh processes making one HTTPS cancel (cloudpartner, its CLI, requests, httpx,
  curl) beside ``python -c pass``, against a TLS server block with a test CA made by trustme, and
  the steps inside a fresh cloudpartner process (median of 15 interleaved runs each); in the same
  runs, the Product Ingestion API's cancel (``ingestion.Client.cancel_job``, requests, curl:
  ``POST /rp/product-ingestion/configure/<job>/cancel?$version=2022-07-01``, answered 200 with the
  documented job JSON).

Writes BENCHMARKS.md at the repository root and benchmarks/peers.png (unless ``--no-write``).
A peer whose package is missing is reported as "not installed". Set CLOUDPARTNER_BUILD_PROFILE to
name the core's build profile when it cannot be recognised from target/.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

from bench.coldstart import make_tls, measure_coldstart
from bench.common import ROOT, Results, Settings
from bench.report import chart, load_average, regime_line, report
from bench.rounds import measure_imports, measure_rss, measure_throughput
from bench.servers import run_fallback_server, serve

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
            args.rounds,
            sequential_calls=200,
            concurrent_calls=640,
            warmup_calls=50,
            wrk_seconds=1,
            import_runs=3,
            cold_runs=3,
        )
    return Settings(
        args.rounds,
        sequential_calls=2000,
        concurrent_calls=5000,
        warmup_calls=200,
        wrk_seconds=3,
        import_runs=15,
        cold_runs=15,
    )


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    if args.serve:
        run_fallback_server(args.serve)
        return 0
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"  # the peers never go through a proxy
    settings = settings_for(args)
    started = time.perf_counter()
    results = Results(load=load_average())
    print(f"load average: {results.load}", flush=True)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cloudpartner-peers-")))
        tls = make_tls(tmp, results)
        server = stack.enter_context(serve(tmp, tls))
        print(f"server: {server.name} at {server.base_url}, TLS at {server.tls_base_url or 'none'}", flush=True)
        if results.cold.why_not:
            print(results.cold.why_not)
        if server.server_bound:
            print("figures are server-bound (nginx not installed: apt-get install nginx)")
        if shutil.which("wrk") is None:
            print("wrk not installed (apt-get install wrk): no floor")
        measure_throughput(server, settings, tmp, results)
        print(f"\n*** {regime_line(results)} ***\n", flush=True)
        measure_rss(server, results)
        print("cold start: fresh processes, one HTTPS cancel each", flush=True)
        measure_coldstart(server, tls, settings, results)
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
