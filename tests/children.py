"""Waiting for a forked child, bounded: shared by tests/test_lifecycle.py and tests/churn.py."""

from __future__ import annotations

import os
import signal
import time
from typing import Optional


def exit_code_within(pid: int, seconds: float) -> Optional[int]:
    """The exit code of child `pid` (negative: the signal that ended it), or None if it was still
    alive after `seconds`: it is then killed and reaped."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None
