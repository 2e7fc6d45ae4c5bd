"""The public API type-checks under mypy --strict, and the stub of the Rust core matches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
USAGE = TESTS / "typing_usage.py"

MISUSE = """
from typing import Optional
import cloudpartner
from cloudpartner import ApiError, CancelResult

def use(result: CancelResult, error: ApiError) -> None:
    location: int = result.operation_location
    status: str = error.status_code
    cloudpartner.cancel("p", "o", emails=5)
    cloudpartner.Client("t", timeout="slow")
    result.publisher = "other"
"""


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def mypy(target: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # Run from the project root, so pyproject's [tool.mypy] settings apply as in CI.
    return run(["-m", "mypy", "--strict", "--cache-dir", str(cache), str(target)], ROOT)


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def test_usage_passes_mypy_strict(mypy_cache: Path) -> None:
    done = mypy(USAGE, mypy_cache)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_misuse_is_caught_by_mypy(mypy_cache: Path, tmp_path: Path) -> None:
    # Proves the package's types are real (not Any): each wrong line must be reported.
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    done = mypy(misuse, mypy_cache)
    assert done.returncode == 1, done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    reported = {int(line.split(":")[1]) for line in errors}
    assert reported >= {7, 8, 9, 10, 11}, done.stdout


def test_usage_runs_against_the_fake_portal() -> None:
    done = run([str(USAGE)], ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("contoso/contoso-virtualmachineoffer 202 http://127.0.0.1:")
    assert lines[1].startswith("404 NotFound")
    assert lines[2].startswith("429 TooManyRequests")
    assert " 120.0 " in lines[2]
    assert lines[3] == "invalid base_url"


def test_stub_matches_the_extension(tmp_path: Path) -> None:
    done = run(["-m", "mypy.stubtest", "cloudpartner._core"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
