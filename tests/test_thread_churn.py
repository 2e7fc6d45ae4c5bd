"""Threads that come and go never crash or hang the process: each scenario of tests/churn.py (a
Client of each API made, used and closed in thread after thread, thread pools in turn, asyncio.run
per worker thread, errors and DEBUG logging from fresh threads, credentials asked from fresh
threads, threads started after the runtimes' idle blocking threads exited, fork after churn) runs
in a child process of its own, so a crash (a signal) fails its test instead of killing pytest.

The children run the interpreter running the tests with the package it imports (the installed
wheel under scripts/test-wheel.sh, the debug build under ``make test``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from churn import SCENARIOS

SCRIPT = Path(__file__).resolve().parent / "churn.py"
DEADLINE = 120.0  # seconds one scenario may take, at most (each takes 1-15 s here)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_scenario_ends_cleanly_in_a_child_process(scenario: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPARTNER_")}
    env["PYTHONFAULTHANDLER"] = "1"  # a crash prints every thread's stack into the failure
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), scenario],
            check=False,
            capture_output=True,
            timeout=DEADLINE,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"{scenario} hung: still running after {DEADLINE} s; stderr: {hung.stderr!r}")
    err = done.stderr.decode(errors="replace")
    if done.returncode < 0:
        pytest.fail(f"{scenario} died of {signal.Signals(-done.returncode).name}; stderr:\n{err[-4000:]}")
    assert done.returncode == 0, f"{scenario} exited {done.returncode}; stderr:\n{err[-4000:]}"
    assert done.stdout.decode().strip() == f"ok {scenario}"
    assert "panicked" not in err
