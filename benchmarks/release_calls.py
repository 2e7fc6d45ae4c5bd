"""The HTTP calls a VM image release makes on each API, by path, and the wall time of a fresh one.

    python benchmarks/release_calls.py [--runs 20] [--poll-interval 0.05]

Not a test: it prints figures. Against one FakePortal with no publish delay (CPP ``step_seconds=0``,
ingestion ``job_seconds=0`` and ``publish_seconds=0``), for ``Client.release_image_version`` (the
Cloud Partner Portal API) and ``ingestion.Client.release_image_version`` (the Product Ingestion API):

- fresh: a version released to live on an offer that never had it;
- already live: the same release run again (reads only);
- resumed: a release interrupted (its ``on_progress`` raising, as a Ctrl-C would) when a step
  reached a point, then run again; the calls of the second run. With no delay, an operation or
  job interrupted "while" it ran has ended by the time the release is run again: those rows are
  the path from where it ended (a release that finds one still running follows it instead of
  sending it again: tests/test_release_cpp.py pins that).

Each path's calls are counted by method (reads, writes) and, among the reads, the polls of an
operation or job (``.../operations/...``, ``configure/<job>/status``): with no delay each wait
polls once, so the polls are a floor; on the real service a wait polls every ``poll_interval``.
Last, the wall time of a fresh release to live, ``--runs`` times each (a new offer each run),
median, min and max in ms: the client's work and the portal's, with nothing to wait for. Build
the core in release mode for figures to quote (``maturin develop --release``).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import cloudpartner
from cloudpartner import Release, ingestion
from cloudpartner.testing import FakePortal

PUBLISHER = "contoso"
PLAN = "gen2"
VERSION = "2026.12.01"
SAS = "https://contoso.blob.core.windows.net/vhds/contoso.vhd?sv=2021-08-06&sr=b&sp=r&sig=BENCHMARK"
INGESTION_PREFIX = "/rp/product-ingestion"
_offers = itertools.count(1)


class Interrupted(Exception):
    """Raised from on_progress to stop a release where a step stands."""


def new_offer(portal: FakePortal) -> str:
    offer = f"bench-offer-{next(_offers)}"
    portal.add_offer(PUBLISHER, offer, running=False, plans=(PLAN,))
    return offer


def cpp_release(portal: FakePortal, poll: float) -> Callable[..., Release]:
    client = cloudpartner.Client("bench-token", base_url=portal.base_url)

    def release(offer: str, on_progress: Any = None) -> Release:
        return client.release_image_version(
            PUBLISHER, offer, PLAN, VERSION, os_vhd_url=SAS, emails=None, poll_interval=poll, on_progress=on_progress
        )

    return release


def ingestion_release(portal: FakePortal, poll: float) -> Callable[..., Release]:
    client = ingestion.Client("bench-token", base_url=portal.ingestion_url)

    def release(offer: str, on_progress: Any = None) -> Release:
        return client.release_image_version(
            offer, PLAN, VERSION, sas_uri=SAS, poll_interval=poll, on_progress=on_progress
        )

    return release


def counted(portal: FakePortal, api: str, run: Callable[[], object]) -> dict[str, int]:
    """Run `run`; the calls it made to `api` ("cpp" or "ingestion"): reads, polls among them, writes."""
    portal.clear_requests()
    run()
    mine = [r for r in portal.requests if r.path.startswith(INGESTION_PREFIX) == (api == "ingestion")]
    polls = [r for r in mine if "/operations/" in r.path or (r.path.endswith("/status") and "/configure/" in r.path)]
    reads = [r for r in mine if r.method == "GET"]
    return {"calls": len(mine), "reads": len(reads), "polls": len(polls), "writes": len(mine) - len(reads)}


def stop_at(name: str, outcome: str) -> Callable[[Release], None]:
    def on_progress(so_far: Release) -> None:
        step = so_far.step(name)
        if step is not None and step.outcome == outcome:
            raise Interrupted

    return on_progress


# Where a release is interrupted before it is resumed: (label, step, outcome reached).
INTERRUPTIONS = {
    "cpp": [
        ("after add", "add", "done"),
        ("while publishing", "preview", "running"),
        ("in review", "preview", "done"),
        ("while going live", "live", "running"),
    ],
    "ingestion": [
        ("while adding", "add", "running"),
        ("after add", "add", "done"),
        ("while publishing to preview", "preview", "running"),
        ("in preview", "preview", "done"),
        ("while going live", "live", "running"),
    ],
}


def paths(portal: FakePortal, api: str, release: Callable[..., Release]) -> list[tuple[str, dict[str, int]]]:
    rows = []
    offer = new_offer(portal)
    rows.append(("fresh", counted(portal, api, lambda: release(offer))))
    rows.append(("already live", counted(portal, api, lambda: release(offer))))
    for label, step, outcome in INTERRUPTIONS[api]:
        interrupted = new_offer(portal)
        try:
            release(interrupted, stop_at(step, outcome))
        except Interrupted:
            pass
        else:
            rows.append((f"resumed {label}", {"calls": -1, "reads": -1, "polls": -1, "writes": -1}))
            continue
        rows.append((f"resumed {label}", counted(portal, api, lambda o=interrupted: release(o))))
    return rows


def wall_ms(portal: FakePortal, release: Callable[..., Release], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        offer = new_offer(portal)
        started = time.perf_counter()
        release(offer)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh releases timed per API (default 20)")
    parser.add_argument("--poll-interval", type=float, default=0.05, help="seconds between polls (default 0.05)")
    args = parser.parse_args()
    with FakePortal(step_seconds=0, job_seconds=0, publish_seconds=0, cancel_seconds=0) as portal:
        apis = {
            "cpp": ("Cloud Partner Portal API", cpp_release(portal, args.poll_interval)),
            "ingestion": ("Product Ingestion API", ingestion_release(portal, args.poll_interval)),
        }
        print(f"HTTP calls of a release to live, by path (FakePortal, no publish delay, poll {args.poll_interval} s)")
        for api, (title, release) in apis.items():
            print(f"\n{title}")
            print(f"  {'path':<36} {'calls':>5} {'reads':>5} {'polls':>5} {'writes':>6}")
            for label, figures in paths(portal, api, release):
                row = " ".join(f"{figures[k]:>5}" for k in ("calls", "reads", "polls"))
                print(f"  {label:<36} {row} {figures['writes']:>6}")
        print(f"\nWall time of a fresh release to live, {args.runs} runs each (ms: median, min, max)")
        for title, release in apis.values():
            times = wall_ms(portal, release, args.runs)
            print(f"  {title:<26} {statistics.median(times):7.1f} {min(times):7.1f} {max(times):7.1f}")


if __name__ == "__main__":
    main()
