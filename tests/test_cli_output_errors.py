"""The command line when its output cannot be written: one line on stderr and its own exit code, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from cloudpartner.cli._shared import EXIT_OUTPUT
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(cancel_seconds=0.2) as fake:
        fake.add_offer(PUBLISHER, OFFER)
        yield fake


def to_full_disk(*args: str, buffered: bool) -> subprocess.CompletedProcess[str]:
    """Run ``cloudpartner ARGS`` with its standard output on /dev/full (every write fails: ENOSPC)."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("CLOUDPARTNER_", "PYTHONUNBUFFERED"))}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"  # each print writes at once, rather than when the buffer fills or at exit
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "cloudpartner", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )


def commands(portal: FakePortal) -> dict[str, list[str]]:
    return {
        "demo": ["demo", "--cancel-seconds", "0.2"],
        "operations --json": ["operations", PUBLISHER, OFFER, "--json", "--base-url", portal.base_url],
        "cancel": ["cancel", PUBLISHER, OFFER, "--base-url", portal.base_url],
        "ingestion submissions --json": [
            "ingestion",
            "submissions",
            OFFER,
            "--json",
            "--base-url",
            portal.ingestion_url,
        ],
    }


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("command", ["demo", "operations --json", "cancel", "ingestion submissions --json"])
def test_a_full_disk_is_one_line_and_its_own_exit_code(portal: FakePortal, command: str, buffered: bool):
    done = to_full_disk(*commands(portal)[command], buffered=buffered)
    assert done.returncode == EXIT_OUTPUT, done.stderr
    assert done.stderr.splitlines() == ["cloudpartner: cannot write the output: No space left on device"]


def test_output_lost_before_a_failure_is_reported_too():
    with FakePortal(cancel_seconds=60) as slow:
        slow.add_offer(PUBLISHER, OFFER)
        args = ["cancel", PUBLISHER, OFFER, "--wait", "--timeout", "0.3", "--poll-interval", "0.05"]
        done = to_full_disk(*args, "--base-url", slow.base_url, buffered=True)
    assert done.returncode == EXIT_OUTPUT, done.stderr
    first, second = done.stderr.splitlines()
    assert first.startswith("cloudpartner: WaitTimeoutError: ")
    assert second == "cloudpartner: cannot write the output: No space left on device"


def test_a_closed_standard_output_is_no_error():
    done = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m cloudpartner demo --cancel-seconds 0.2 >&-', sys.executable],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("command", [[], ["ingestion"]], ids=["cpp", "ingestion"])
def test_the_exit_code_is_documented_in_the_help(command: list[str]):
    done = subprocess.run(
        [sys.executable, "-m", "cloudpartner", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"{EXIT_OUTPUT} output not written" in " ".join(done.stdout.split())
