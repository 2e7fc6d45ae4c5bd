"""What every command shares: exit codes, the one-line error, output, token and client options, input files.

It imports no command: the commands import it.
"""

from __future__ import annotations

# A command pays for its imports on every run: modules only some commands need (csv, dataclasses,
# json, shutil, subprocess) are imported where they are used.
import argparse
import contextlib
import errno
import os
import stat
import sys

from .. import _core
from .._client import Client, base_url_or_default
from .._errors import (
    ApiError,
    CloudPartnerError,
    CredentialError,
    InvalidArgumentError,
    WaitTimeoutError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any, Callable, Optional, TextIO

    from .._release import Release
    from .._types import Operation

WAIT_HELP = f"seconds to wait (default {_core.DEFAULT_WAIT_TIMEOUT:g})"
EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_TRANSIENT, EXIT_WAIT_TIMEOUT, EXIT_INTERRUPTED = 0, 2, 3, 4, 5, 130
EXIT_OUTPUT = 6
# Accepted by FakePortal; used only against a loopback base URL, where no real token is needed.
OFFLINE_TOKEN = "offline-placeholder-token"  # noqa: S105


class UsageError(Exception):
    """Bad command-line input that argparse could not catch (exit 2)."""


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command and write out its output; returns the exit code."""
    try:
        code = _run(args)
        if sys.stdout is not None:  # None: started with standard output closed (>&-)
            sys.stdout.flush()  # what is still buffered fails here, where it is reported, not at exit
    except BrokenPipeError:
        # The reader (| head) stopped early; that is its choice, not an error. Quiet the flush at exit.
        _discard_output()
        return EXIT_OK
    except OSError as error:
        if error.errno not in _WRITE_ERRORS:
            raise
        _discard_output()
        with contextlib.suppress(OSError):  # stderr may be on the same full disk
            print(f"cloudpartner: cannot write the output: {error.strerror}", file=sys.stderr)
        return EXIT_OUTPUT
    return code


def _run(args: argparse.Namespace) -> int:
    """Run the command; an error it raises becomes its one line on stderr and its exit code."""
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("cloudpartner: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UsageError, CloudPartnerError) as error:
        return report(error)


# What writing the output fails with (a full disk, a quota, a file size limit, a terminal gone);
# the commands read no file that could raise them (a bad input file is a UsageError).
_WRITE_ERRORS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO") if hasattr(errno, name))


def _discard_output() -> None:
    """Point standard output at the null device, so that nothing still buffered fails again at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def report(error: Exception, detail: str = "") -> int:
    """Print the one-line error (``cloudpartner: Type: message``) on stderr; return its exit code."""
    label = "error" if isinstance(error, (UsageError, InvalidArgumentError)) else type(error).__name__
    print(f"cloudpartner: {label}: {error}{detail}", file=sys.stderr)
    return exit_code(error)


def exit_code(error: Exception) -> int:
    """Bad input and a wait that ran out first; then the core's verdict (``is_transient``)."""
    if isinstance(error, (UsageError, InvalidArgumentError, CredentialError)):
        return EXIT_USAGE
    if isinstance(error, WaitTimeoutError):
        return EXIT_WAIT_TIMEOUT
    if isinstance(error, CloudPartnerError) and error.is_transient:
        return EXIT_TRANSIENT
    return EXIT_REFUSED


# --------------------------------------------------------------------------------------- options


def wait_options(
    command: argparse.ArgumentParser,
    follows: str,
    poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
    poll_help: str = argparse.SUPPRESS,
) -> None:
    """--wait, --timeout and --poll-interval (hidden unless ``poll_help``), for a command that starts one."""
    command.add_argument("--wait", action="store_true", help=follows)
    command.add_argument("--timeout", type=float, default=_core.DEFAULT_WAIT_TIMEOUT, metavar="S", help=WAIT_HELP)
    command.add_argument("--poll-interval", type=float, default=poll_interval, metavar="S", help=poll_help)


def service_options(
    command: argparse.ArgumentParser,
    base_url_help: str = f"service root (default: {_core.BASE_URL_VARIABLE} or {_core.DEFAULT_BASE_URL})",
    az_help: str = "get a token from the Azure CLI (az)",
) -> None:
    command.add_argument("--json", action="store_true", help="print JSON for scripts")
    command.add_argument("--base-url", help=base_url_help)
    source = command.add_mutually_exclusive_group()
    source.add_argument("--token-file", metavar="PATH", help="read the bearer token from PATH (- reads standard input)")
    source.add_argument("--az", action="store_true", help=az_help)


# ---------------------------------------------------------------------------------- token, client


def cpp_client(args: argparse.Namespace) -> Client:
    """Make the Cloud Partner Portal client the options name."""
    base_url = base_url_or_default(args.base_url)
    return Client(bearer_token(args, base_url), base_url=base_url)


def bearer_token(
    args: argparse.Namespace,
    base_url: str,
    variable: str = _core.TOKEN_VARIABLE,
    resource: str = _core.DEFAULT_BASE_URL,
) -> str:
    """--token-file, else --az (asking az for ``resource``), else ``variable``; none needed on loopback."""
    if args.token_file:
        token = read_text(args.token_file, "--token-file").strip()
        if not token:
            raise UsageError(f"--token-file {args.token_file!r} is empty")
        return token
    if args.az:
        return _az_token(resource)
    token = os.environ.get(variable, "").strip()
    if token:
        return token
    if _core.is_loopback_url(base_url):
        return OFFLINE_TOKEN
    raise UsageError(f"no token: set {variable}, or pass --token-file PATH or --az")


def _az_token(resource: str) -> str:
    import shutil  # noqa: PLC0415 - see the imports
    import subprocess  # noqa: PLC0415

    az = shutil.which("az")
    if az is None:
        raise UsageError("--az needs the Azure CLI (az) on PATH")
    command = [
        az,
        "account",
        "get-access-token",
        "--resource",
        resource,
        "--query",
        "accessToken",
        "-o",
        "tsv",
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise UsageError("az account get-access-token did not answer within 120 s") from None
    if done.returncode != 0 or not done.stdout.strip():
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"az account get-access-token failed: {detail}")
    return done.stdout.strip()


# ----------------------------------------------------------------------------------- input files


def read_text(path: str, what: str) -> str:
    """Read a UTF-8 file (dropping a BOM, as Excel writes one), or standard input for ``-``.

    At most ``MAX_INPUT_FILE_BYTES``, from a regular file: opening a FIFO would wait for a writer
    and a device may never end, so those are refused (a pipe goes to standard input, ``-``).
    """
    limit = _core.MAX_INPUT_FILE_BYTES
    if path == "-" and sys.stdin is None:
        raise UsageError(f"{what} is standard input (-), which is closed")
    try:
        data = sys.stdin.buffer.read(limit + 1) if path == "-" else _read_regular_file(path, limit + 1, what)
    except OSError as error:
        raise UsageError(f"cannot read {what} {path!r}: {error.strerror or error}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path!r} holds more than {limit >> 20} MiB, the most accepted")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{what} {path!r} is not UTF-8 text") from None


# What a file that is not a regular one is, for the error.
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISSOCK, "a socket"),
)


def _read_regular_file(path: str, size: int, what: str) -> bytes:
    """Read at most ``size`` bytes of ``path``, refusing anything but a regular file (symlinks followed)."""
    # O_NONBLOCK: the open of a FIFO returns at once (instead of waiting for a writer) to be refused.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags)
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = next((kind for test, kind in _FILE_KINDS if test(mode)), "a special file")
            msg = f"{what} {path!r} is {kind}, not a regular file (give - to read a pipe from standard input)"
            raise UsageError(msg)
        with open(descriptor, "rb", closefd=False) as handle:
            return handle.read(size)
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------------------- output


def operation_line(op: Operation) -> str:
    """Show an operation on one line: id, status, type, when, and the step under way."""
    step = _current_step(op)
    return f"{op.id}  {op.status:<10} {op.submission_type or '':<8} {when(op.changed or op.created)}  {step}"


def _current_step(op: Operation) -> str:
    for step in op.steps:
        if _core.status_phase(step.status or "") != "succeeded":
            return f"{step.name} {step.status} {percent(step.progress)}"
    return ""


def progress_printer(stream: TextIO) -> Callable[[Operation], None]:
    """Make an ``on_progress`` callback that prints each poll's status and step on ``stream``."""

    def show(op: Operation) -> None:
        print(f"     {op.status:<10} {_current_step(op)}", file=stream, flush=True)

    return show


def percent(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.0f}%"


def when(value: Optional[datetime]) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def error_json(error: Optional[BaseException]) -> Optional[dict[str, Any]]:
    """Describe an error as ``--json`` shows it: its type, message and HTTP status."""
    if error is None:
        return None
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ApiError):
        described["status_code"] = error.status_code
    return described


def as_dict(result: Any) -> dict[str, Any]:
    """Turn a result (a dataclass) into the fields ``--json`` prints."""
    import dataclasses  # noqa: PLC0415 - see the imports: 7-15 ms that only --json needs

    return dataclasses.asdict(result)


def print_json(value: object) -> None:
    import json  # noqa: PLC0415 - see the imports

    print(json.dumps(value, indent=2, default=_json_default))


def _json_default(value: object) -> str:
    from datetime import datetime  # noqa: PLC0415 - see the imports

    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


class ReleaseStarted(Exception):  # not an error: a release command's way to stop once a job started
    """Raised from a release's ``on_progress`` without ``--wait``: a step's job has started."""


class ReleaseProgress:
    """A release command's ``on_progress``: each new state on stderr, one line each; the last kept.

    Without ``wait`` it raises ``ReleaseStarted`` once a step's job (or operation) has started, so
    the command returns and a later run goes on from there.
    """

    def __init__(self, *, wait: bool) -> None:
        self.last: Optional[Release] = None
        self._told: set[str] = set()
        self._wait = wait

    def __call__(self, so_far: Release) -> None:
        self.last = so_far
        line = so_far._progress_line()
        if line not in self._told:
            self._told.add(line)
            print(f"cloudpartner: {line}", file=sys.stderr, flush=True)
        current = so_far.current
        if not self._wait and current is not None and current.job_id:
            raise ReleaseStarted
