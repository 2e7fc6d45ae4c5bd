"""Files named by the caller (``ca_file``, ``--token-file``, the offers list): only regular files, at most a few MiB.

A FIFO would block the open until a writer comes (with the GIL held, deaf to Ctrl-C) and a device
such as ``/dev/zero`` never ends: both are refused at once, naming the file. Each case runs in a
child process with a memory cap and a timeout, so that a hang or an unbounded read fails the
test instead of the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import cloudpartner
import pytest
from cloudpartner import _core
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER

LIMIT = _core.MAX_INPUT_FILE_BYTES
QUICKLY = 10.0  # seconds: a refusal takes milliseconds; a blocked open or endless read takes forever
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")


# Run first in each child: at most 1 GiB of address space, so that an endless read fails fast
# instead of filling the machine's memory (Linux; elsewhere the timeout alone guards).
MEMORY_CAP = (
    "import resource; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
    if sys.platform.startswith("linux")
    else ""
)


def run_capped(code: str, *args: str, stdin: int | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run Python ``code`` with ``args`` under the memory cap; return its result and how long it took."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLOUDPARTNER_")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CAP + code, *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=QUICKLY * 3,
        check=False,
    )
    return done, time.monotonic() - started


def special_file(kind: str, tmp_path: Path) -> str:
    """A path to something that is not a regular file."""
    if kind == "fifo":
        path = tmp_path / "named.fifo"
        os.mkfifo(path)
        return str(path)
    if kind == "directory":
        return str(tmp_path)
    return "/dev/zero"


KINDS = [
    pytest.param("fifo", "a FIFO (named pipe)", marks=needs_fifo),
    pytest.param("device", "a device", marks=needs_dev_zero),
    pytest.param("directory", "a directory"),
]


def oversized(tmp_path: Path) -> Path:
    """A regular file one byte over the limit (sparse: no disk used)."""
    path = tmp_path / "large.txt"
    with path.open("wb") as handle:
        handle.truncate(LIMIT + 1)
    return path


def test_the_limit_is_a_few_mib():
    assert 1 << 20 <= LIMIT <= 16 << 20


# -- ca_file (read by the core) ---------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "described"), KINDS)
def test_a_ca_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str, described: str):
    path = special_file(kind, tmp_path)
    code = (
        "import sys, cloudpartner\n"
        "try:\n"
        "    cloudpartner.Client('token', ca_file=sys.argv[1])\n"
        "except cloudpartner.InvalidArgumentError as error:\n"
        "    print(error.field, error, sep='\\n')\n"
    )
    done, took = run_capped(code, path)
    assert done.returncode == 0, done.stderr
    field, message = done.stdout.splitlines()
    assert field == "ca_file"
    assert f'"{path}" is {described}, not a regular file' in message
    assert took < QUICKLY


def test_a_ca_file_over_the_limit_is_refused(tmp_path: Path):
    path = oversized(tmp_path)
    with pytest.raises(cloudpartner.InvalidArgumentError, match=f'large.txt" holds more than {LIMIT >> 20} MiB'):
        cloudpartner.Client("token", ca_file=path)


def test_a_symlink_to_a_ca_file_is_followed(tmp_path: Path):
    target = tmp_path / "bundle.pem"
    target.write_text("no certificate here\n")
    link = tmp_path / "link.pem"
    link.symlink_to(target)
    with pytest.raises(cloudpartner.InvalidArgumentError, match="holds no PEM certificate"):
        cloudpartner.Client("token", ca_file=link)


# -- the command line's files (read in Python) --------------------------------------------------------


def cli(*args: str, stdin: int | None = None) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``cloudpartner ARGS`` under the memory cap."""
    code = "import runpy; runpy.run_module('cloudpartner', run_name='__main__', alter_sys=True)"
    return run_capped(code, *args, stdin=stdin)


def assert_refused(done: subprocess.CompletedProcess[str], took: float, *expected: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cloudpartner: error: ")
    for text in expected:
        assert text in lines[0]
    assert took < QUICKLY


@pytest.mark.parametrize(("kind", "described"), KINDS)
def test_a_token_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path: Path, kind: str, described: str):
    path = special_file(kind, tmp_path)
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        done, took = cli("cancel", PUBLISHER, OFFER, "--base-url", portal.base_url, "--token-file", path)
        assert_refused(done, took, f"--token-file {path!r} is {described}, not a regular file", "give -")
        assert portal.requests == []


def test_a_token_file_over_the_limit_is_refused(tmp_path: Path):
    path = str(oversized(tmp_path))
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER)
        done, took = cli("cancel", PUBLISHER, OFFER, "--base-url", portal.base_url, "--token-file", path)
        assert_refused(done, took, f"--token-file {path!r} holds more than {LIMIT >> 20} MiB")
        assert portal.requests == []


@needs_fifo
def test_an_offers_file_that_is_a_fifo_is_refused_at_once(tmp_path: Path):
    path = special_file("fifo", tmp_path)
    done, took = cli("cancel-many", path, "--base-url", "http://127.0.0.1:9")
    assert_refused(done, took, f"offers file {path!r} is a FIFO (named pipe), not a regular file")


@needs_dev_zero
def test_endless_standard_input_is_refused_after_the_limit():
    with open("/dev/zero", "rb") as zero:
        done, took = cli("cancel-many", "-", "--base-url", "http://127.0.0.1:9", stdin=zero.fileno())
    assert_refused(done, took, f"offers file '-' holds more than {LIMIT >> 20} MiB")


@pytest.mark.skipif(not os.path.exists("/bin/sh"), reason="no POSIX shell here")
def test_a_closed_standard_input_is_refused():
    command = 'exec "$0" -m cloudpartner cancel-many - --base-url http://127.0.0.1:9 <&-'
    done = subprocess.run(
        ["/bin/sh", "-c", command, sys.executable], capture_output=True, text=True, timeout=60, check=False
    )
    assert_refused(done, 0.0, "offers file is standard input (-), which is closed")


def test_a_token_from_a_regular_file_still_works(tmp_path: Path):
    path = tmp_path / "token"
    path.write_bytes(b"\xef\xbb\xbffile-token\r\n")  # a BOM and CR LF, as Windows editors write
    link = tmp_path / "token-link"
    link.symlink_to(path)
    with FakePortal(tokens=["file-token"]) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        done, _ = cli("cancel", PUBLISHER, OFFER, "--base-url", portal.base_url, "--token-file", str(link))
        assert done.returncode == 0, done.stderr
        assert portal.requests[-1].headers["authorization"] == "Bearer file-token"
