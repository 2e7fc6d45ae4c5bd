"""Every script in examples/ runs as printed, offline, and says what it shows."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def test_there_are_example_scripts() -> None:
    assert {p.name for p in EXAMPLES} >= {"cancel_offline.py", "migrate_to_ingestion.py"}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_an_example_runs_offline_to_the_end(script: Path) -> None:
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the example printed nothing"
    assert "Traceback" not in done.stderr


def test_the_migration_example_runs_one_offer_through_both_apis() -> None:
    script = next(p for p in EXAMPLES if p.name == "migrate_to_ingestion.py")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "CPP cancel:" in out and "ended canceled" in out
    assert "cancel_job:    completed / cancelled" in out
    assert "cancel again:  refused (Cannot cancel job, job has already completed.)" in out
    assert "live:          succeeded" in out
