"""``cloudpartner cancel-many``: cancel many offers from a file, with a progress bar and a summary."""

from __future__ import annotations

import argparse
import sys

from .. import _core
from .._results import CancelResult
from ._shared import (
    EXIT_OK,
    UsageError,
    as_dict,
    cpp_client,
    error_json,
    exit_code,
    print_json,
    read_text,
    service_options,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO


def add_commands(commands: Any) -> None:
    """Add ``cancel-many``."""
    many = commands.add_parser("cancel-many", help="cancel many offers from a file (lines 'publisher offer' or CSV)")
    many.add_argument("file", help="the list of offers; - reads standard input")
    many.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    many.add_argument(
        "--concurrency",
        type=int,
        default=_core.DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"calls in flight (default {_core.DEFAULT_CONCURRENCY})",
    )
    service_options(many)
    many.set_defaults(run=_cancel_many)


def _cancel_many(args: argparse.Namespace) -> int:
    """Run ``cancel-many``; the exit code is the worst of its failures'."""
    items = _read_offers(args.file)
    bar = _ProgressBar(len(items), sys.stderr) if sys.stderr.isatty() and not args.json else None
    with cpp_client(args) as client:
        outcomes = client.cancel_many(
            items, emails=args.email, concurrency=args.concurrency, on_result=bar.update if bar else None
        )
    if bar:
        bar.close()
    failures = [(item, o) for item, o in zip(items, outcomes) if isinstance(o, BaseException)]
    if args.json:
        print_json([_outcome_json(item, o) for item, o in zip(items, outcomes)])
    else:
        _print_summary(outcomes, failures)
    codes = [exit_code(error) for _, error in failures]
    return max(codes, default=EXIT_OK)


def _read_offers(path: str) -> list[tuple[str, str]]:
    """Read ``publisher offer`` or CSV ``publisher,offer`` lines; blank lines, # comments and a header are skipped."""
    import csv  # noqa: PLC0415 - see _shared's imports

    items: list[tuple[str, str]] = []
    for number, raw in enumerate(read_text(path, "offers file").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = next(csv.reader([line], skipinitialspace=True)) if "," in line else line.split()
        fields = [field.strip() for field in fields]
        if len(fields) != 2 or not all(fields):
            raise UsageError(f"{path}:{number}: expected 'publisher offer' or 'publisher,offer', got {line!r}")
        if not items and [f.lower() for f in fields] == ["publisher", "offer"]:
            continue  # a CSV header, before the first offer
        items.append((fields[0], fields[1]))
    if not items:
        raise UsageError(f"{path!r} lists no offers")
    return items


class _ProgressBar:
    """``[#####-----] 120/1000  ok 118  failed 2`` on one terminal line."""

    WIDTH = 30

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream, self.ok, self.failed = total, stream, 0, 0

    def update(self, _index: int, outcome: object) -> None:
        if isinstance(outcome, BaseException):
            self.failed += 1
        else:
            self.ok += 1
        done = self.ok + self.failed
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total}  ok {self.ok}  failed {self.failed}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")


def _print_summary(outcomes: Sequence[object], failures: Sequence[tuple[tuple[str, str], BaseException]]) -> None:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        if isinstance(outcome, CancelResult):
            key = "cancelled (200)" if outcome.completed else f"accepted ({outcome.status_code})"
        else:
            key = type(outcome).__name__
        counts[key] = counts.get(key, 0) + 1
    width = max(len(key) for key in counts)
    print(f"{'outcome':<{width}}  count")
    for key, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{key:<{width}}  {count:>5}")
    print(f"{'total':<{width}}  {len(outcomes):>5}")
    for (publisher, offer), error in failures:
        print(f"failed: {publisher}/{offer}: {type(error).__name__}: {error}")


def _outcome_json(item: tuple[str, str], outcome: object) -> dict[str, Any]:
    publisher, offer = item
    if isinstance(outcome, CancelResult):
        return {"ok": True, **as_dict(outcome)}
    error = error_json(outcome if isinstance(outcome, BaseException) else None)
    return {"ok": False, "publisher": publisher, "offer": offer, "error": error}
