"""The ``cloudpartner`` command: cancel, follow and list operations, or run the offline portal.

Exit codes: 0 success, 2 usage or bad input, 3 the service refused (4xx), 4 a transient,
server or transport failure, 5 a wait that timed out, 6 the output could not be written (a
full disk), 130 interrupted. ``cloudpartner
ingestion ...`` (the Product Ingestion API) is ``_cli_ingestion.py``; the document commands
(status, offers, offer, publishers) ``_cli_documents.py``; ``cancel-many`` ``_cli_many.py``: all
on the helpers here.
"""

from __future__ import annotations

# A command pays for its imports on every run: modules only some commands need (csv, json,
# shutil, subprocess) are imported where they are used.
import argparse
import contextlib
import dataclasses
import errno
import os
import stat
import sys
import time

from . import _core
from ._client import Client, base_url_or_default
from ._errors import (
    ApiError,
    CloudPartnerError,
    CredentialError,
    InvalidArgumentError,
    WaitTimeoutError,
)
from ._results import ActionResult, CancelResult

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from typing import Any, Callable, NoReturn, Optional, TextIO

    from ._types import Operation
    from .testing import FakePortal

WAIT_HELP = f"seconds to wait (default {_core.DEFAULT_WAIT_TIMEOUT:g})"
EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_TRANSIENT, EXIT_WAIT_TIMEOUT, EXIT_INTERRUPTED = 0, 2, 3, 4, 5, 130
EXIT_OUTPUT = 6
# Accepted by FakePortal; used only against a loopback base URL, where no real token is needed.
OFFLINE_TOKEN = "offline-placeholder-token"  # noqa: S105


class UsageError(Exception):
    """Bad command-line input that argparse could not catch (exit 2)."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
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
        return _report(error)


# What writing the output fails with (a full disk, a quota, a file size limit, a terminal gone);
# the commands read no file that could raise them (a bad input file is a UsageError).
_WRITE_ERRORS = frozenset(getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EIO") if hasattr(errno, name))


def _discard_output() -> None:
    """Point standard output at the null device, so that nothing still buffered fails again at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _report(error: Exception, detail: str = "") -> int:
    """Print the one-line error (``cloudpartner: Type: message``) on stderr; return its exit code."""
    label = "error" if isinstance(error, (UsageError, InvalidArgumentError)) else type(error).__name__
    print(f"cloudpartner: {label}: {error}{detail}", file=sys.stderr)
    return _exit_code(error)


def _exit_code(error: Exception) -> int:
    """Bad input and a wait that ran out first; then the core's verdict (``is_transient``)."""
    if isinstance(error, (UsageError, InvalidArgumentError, CredentialError)):
        return EXIT_USAGE
    if isinstance(error, WaitTimeoutError):
        return EXIT_WAIT_TIMEOUT
    if isinstance(error, CloudPartnerError) and error.is_transient:
        return EXIT_TRANSIENT
    return EXIT_REFUSED


# ---------------------------------------------------------------------------------------- parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudpartner",
        description="Cancel, publish and take live Azure Marketplace offers through the Cloud Partner Portal API.",
        epilog=f"Token: {_core.TOKEN_VARIABLE}, --token-file or --az (never on the command line). "
        "Exit codes: 0 ok, 2 usage or bad input, 3 refused (trying again will not help), 4 transient "
        "(worth trying again: 408, 429, 500, 502-504, transport failures), 5 wait timed out, "
        "6 output not written (a full disk: the command may have done its work), 130 interrupted.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    cancel = commands.add_parser("cancel", help="cancel the operation running on an offer")
    cancel.add_argument("publisher")
    cancel.add_argument("offer")
    cancel.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    _wait_options(cancel, "follow the cancel until the operation ends")
    _service_options(cancel)
    cancel.set_defaults(run=_cancel)

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
    _service_options(many)
    many.set_defaults(run=_run_cancel_many)

    _lifecycle_commands(commands)

    operations = commands.add_parser("operations", help="list an offer's operations")
    operations.add_argument("publisher")
    operations.add_argument("offer")
    operations.add_argument("--status", help="only operations with this status, e.g. running")
    _service_options(operations)
    operations.set_defaults(run=_operations)

    operation = commands.add_parser("operation", help="show one operation by its location")
    operation.add_argument("location", help="the URL or path a cancel returned")
    _service_options(operation)
    operation.set_defaults(run=_operation)

    serve = commands.add_parser("serve", help="run the offline portal (FakePortal) until Ctrl-C")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on: loopback, or 0.0.0.0 or :: for every address (the base URL printed is loopback's)",
    )
    serve.add_argument("--port", type=_port, default=0, help="port to listen on (default: a free one)")
    serve.add_argument("--cancel-seconds", type=float, default=20.0, metavar="S", help="how long a cancel takes")
    serve.add_argument(
        "--replay",
        metavar="PATH",
        help="answer from a recording (Client(record=...) or CLOUDPARTNER_RECORD) instead of the simulated offers",
    )
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="an offline tour: no token or network needed")
    demo.add_argument("--cancel-seconds", type=float, default=3.0, metavar="S", help=argparse.SUPPRESS)
    demo.set_defaults(run=_demo)

    from . import _cli_documents, _cli_ingestion  # noqa: PLC0415 - they import this module

    _cli_documents.add_commands(commands)
    _cli_ingestion.add_commands(commands)
    return parser


def _lifecycle_commands(commands: Any) -> None:
    """Add the commands around the cancel: publish and go-live (status, offers, offer: ``_cli_documents``)."""
    publish = commands.add_parser("publish", help="publish an offer's draft (to preview, then review)")
    publish.add_argument("publisher")
    publish.add_argument("offer")
    publish.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    _wait_options(publish, "follow it until it waits for review (or ends)")
    _service_options(publish)
    publish.set_defaults(run=_publish)

    go_live = commands.add_parser("go-live", help="take a reviewed preview live")
    go_live.add_argument("publisher")
    go_live.add_argument("offer")
    _wait_options(go_live, "follow it until it ends")
    _service_options(go_live)
    go_live.set_defaults(run=_go_live)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        msg = f"{port} is not a port (0 to 65535)"
        raise argparse.ArgumentTypeError(msg)
    return port


def _wait_options(
    command: argparse.ArgumentParser,
    follows: str,
    poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
    poll_help: str = argparse.SUPPRESS,
) -> None:
    """--wait, --timeout and --poll-interval (hidden unless ``poll_help``), for a command that starts one."""
    command.add_argument("--wait", action="store_true", help=follows)
    command.add_argument("--timeout", type=float, default=_core.DEFAULT_WAIT_TIMEOUT, metavar="S", help=WAIT_HELP)
    command.add_argument("--poll-interval", type=float, default=poll_interval, metavar="S", help=poll_help)


def _service_options(
    command: argparse.ArgumentParser,
    base_url_help: str = f"service root (default: {_core.BASE_URL_VARIABLE} or {_core.DEFAULT_BASE_URL})",
    az_help: str = "get a token from the Azure CLI (az)",
) -> None:
    command.add_argument("--json", action="store_true", help="print JSON for scripts")
    command.add_argument("--base-url", help=base_url_help)
    source = command.add_mutually_exclusive_group()
    source.add_argument("--token-file", metavar="PATH", help="read the bearer token from PATH (- reads standard input)")
    source.add_argument("--az", action="store_true", help=az_help)


# -------------------------------------------------------------------------------------- commands


def _cancel(args: argparse.Namespace) -> int:
    return _start_and_follow(args, lambda client: client.cancel(args.publisher, args.offer, args.email))


def _publish(args: argparse.Namespace) -> int:
    return _start_and_follow(
        args, lambda client: client.publish(args.publisher, args.offer, args.email), until_review=True
    )


def _go_live(args: argparse.Namespace) -> int:
    return _start_and_follow(args, lambda client: client.go_live(args.publisher, args.offer))


def _start_and_follow(
    args: argparse.Namespace,
    start: Callable[[Client], CancelResult | ActionResult],
    *,
    until_review: bool = False,
) -> int:
    """Send a cancel, publish or go-live; with --wait, follow its operation (stderr shows progress)."""
    with _client(args) as client:
        result = start(client)
        if not args.json:
            _print_started(result)
        final: Optional[Operation] = None
        failure: Optional[CloudPartnerError] = None
        completed = isinstance(result, CancelResult) and result.completed
        if args.wait and not completed and result.operation_location is None:
            print("cloudpartner: warning: the service named no operation to follow; not waiting", file=sys.stderr)
        elif args.wait:
            progress = _progress_printer(sys.stderr) if sys.stderr.isatty() and not args.json else None
            try:
                final = client.wait(
                    result,
                    timeout=args.timeout,
                    poll_interval=args.poll_interval,
                    on_progress=progress,
                    until_review=until_review,
                )
            except CloudPartnerError as error:
                if not args.json:
                    raise
                failure = error  # the cancel itself went through: scripts still get its answer
        if args.json:
            _print_json(
                {
                    "result": dataclasses.asdict(result),
                    "operation": _operation_json(final),
                    "error": _error_json(failure),
                }
            )
        elif final is not None and final.waiting_for_review and not final.is_terminal:
            print(f"operation {final.id} waits for the publisher's review: check the preview, then go-live")
        elif final is not None:
            print(f"operation {final.id} ended: {final.status}")
    if failure is not None:
        print(f"cloudpartner: {type(failure).__name__}: {failure}", file=sys.stderr)
        return _exit_code(failure)
    return EXIT_OK


def _read_text(path: str, what: str) -> str:
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


def _error_json(error: Optional[BaseException]) -> Optional[dict[str, Any]]:
    if error is None:
        return None
    described: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, ApiError):
        described["status_code"] = error.status_code
    return described


def _run_cancel_many(args: argparse.Namespace) -> int:
    from ._cli_many import cancel_many  # noqa: PLC0415 - it imports this module

    return cancel_many(args)


def _operations(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.list_operations(args.publisher, args.offer, status=args.status)
    if args.json:
        _print_json([_operation_json(op) for op in found])
    elif not found:
        print(f"no operations on {args.publisher}/{args.offer}")
    else:
        for op in found:
            print(_operation_line(op))
    return EXIT_OK


def _operation(args: argparse.Namespace) -> int:
    with _client(args) as client:
        op = client.get_operation(args.location)
    if args.json:
        _print_json(_operation_json(op))
    else:
        print(_operation_line(op))
        for step in op.steps:
            print(f"  {step.name or '?':<22} {step.status or '?':<12} {_percent(step.progress)}")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from .testing import FakePortal  # noqa: PLC0415 - only `serve` and `demo` need http.server

    if args.replay is not None:
        import warnings  # noqa: PLC0415 - see the imports

        try:
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always")
                replaying = FakePortal.from_recording(args.replay, host=args.host, port=args.port)
        except (OSError, ValueError) as error:
            raise UsageError(f"cannot replay {args.replay}: {error}") from error
        for warning in warned:  # a cut last line: one line, as the other messages
            print(f"cloudpartner: warning: {warning.message}", file=sys.stderr)
        with _listening(replaying, args) as portal:
            print(f"FakePortal replaying {args.replay} on {portal.base_url} (Ctrl-C stops it)", flush=True)
            print(f"  Product Ingestion API: {portal.ingestion_url}", flush=True)
            _until_interrupted()
        return EXIT_OK
    try:
        simulated = FakePortal(host=args.host, port=args.port, cancel_seconds=args.cancel_seconds)
    except ValueError as error:
        raise UsageError(str(error)) from None
    with _listening(simulated, args) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer")
        portal.add_offer("contoso", "contoso-saasoffer")
        portal.add_offer("fabrikam", "fabrikam-idle-offer", running=False)
        print(f"FakePortal listening on {portal.base_url} (Ctrl-C stops it)", flush=True)
        print(f"  Product Ingestion API: {portal.ingestion_url} (the offers are its products too)")
        print("  offers: contoso/contoso-virtualmachineoffer (running), contoso/contoso-saasoffer (running),")
        print("          fabrikam/fabrikam-idle-offer (nothing running)")
        print(
            f"  try:    cloudpartner cancel contoso contoso-saasoffer --wait --base-url {portal.base_url}", flush=True
        )
        print(
            f"          cloudpartner ingestion submissions contoso-saasoffer --base-url {portal.ingestion_url}",
            flush=True,
        )
        _until_interrupted()
    return EXIT_OK


def _listening(portal: FakePortal, args: argparse.Namespace) -> FakePortal:
    """Start ``portal``; a host or port it cannot listen on is a usage error."""
    try:
        return portal.start()
    except OSError as error:
        raise UsageError(f"cannot listen on {args.host!r} port {args.port}: {error.strerror or error}") from None


def _until_interrupted() -> None:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)


def _demo(args: argparse.Namespace) -> int:
    publisher, offer = "contoso", "contoso-virtualmachineoffer"
    from .testing import FakePortal  # noqa: PLC0415 - only `serve` and `demo` need http.server

    with FakePortal(cancel_seconds=args.cancel_seconds, step_seconds=args.cancel_seconds / 4) as portal:
        portal.add_offer(publisher, offer)
        print(f"1. An offline Cloud Partner Portal is running at {portal.base_url}")
        with Client(OFFLINE_TOKEN, base_url=portal.base_url) as client:
            running = client.list_operations(publisher, offer, status="running")
            print(f"2. {publisher}/{offer} has a publish running:")
            for op in running:
                print(f"     {_operation_line(op)}")

            result = client.cancel(publisher, offer, ["jondoe@contoso.com"])
            print(f"3. Cancel sent: HTTP {result.status_code}, operation {result.operation_id}")
            print(f"     follow it at {result.operation_location}")

            print("4. Following the cancel:")
            final = client.wait(result, timeout=60.0, poll_interval=0.25, on_progress=_progress_printer(sys.stdout))
            if final is not None:
                print(f"     ended: {final.status} (canceled={final.canceled})")

            print("5. Publish it again; it runs its steps and waits for the publisher's review:")
            started = client.publish(publisher, offer, ["jondoe@contoso.com"])
            reviewed = client.wait(
                started, timeout=60.0, poll_interval=0.5, on_progress=_progress_printer(sys.stdout), until_review=True
            )
            if reviewed is not None:
                print(f"     {client.get_offer_status(publisher, offer).status}: the preview is ready to check")

            print("6. Take it live:")
            live = client.go_live(publisher, offer)
            ended = client.wait(live, timeout=60.0, poll_interval=0.1)
            if ended is not None:
                print(f"     go-live {ended.status}; offer status: {client.get_offer_status(publisher, offer).status}")

            print("7. An offer that does not exist:")
            try:
                client.cancel(publisher, "no-such-offer")
            except ApiError as error:
                print(f"     {type(error).__name__}: {error}")
    print("Done: the same calls work against https://cloudpartner.azure.com with a real token.")
    return EXIT_OK


# ---------------------------------------------------------------------------------- token, client


def _client(args: argparse.Namespace) -> Client:
    base_url = base_url_or_default(args.base_url)
    return Client(_token(args, base_url), base_url=base_url)


def _token(
    args: argparse.Namespace,
    base_url: str,
    variable: str = _core.TOKEN_VARIABLE,
    resource: str = _core.DEFAULT_BASE_URL,
) -> str:
    """--token-file, else --az (asking az for ``resource``), else ``variable``; none needed on loopback."""
    if args.token_file:
        token = _read_text(args.token_file, "--token-file").strip()
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


# ---------------------------------------------------------------------------------------- output


def _print_started(result: CancelResult | ActionResult) -> None:
    what = result.action if isinstance(result, ActionResult) else "cancel"
    if isinstance(result, CancelResult) and result.completed:
        print(f"cancelled {result.publisher}/{result.offer} (HTTP {result.status_code})")
    else:
        print(f"{what} accepted for {result.publisher}/{result.offer} (HTTP {result.status_code})")
        print(f"  operation:  {result.operation_location or '(the service named none)'}")
    print(f"  request id: {result.request_id or '-'} (client {result.client_request_id})")


def _operation_line(op: Operation) -> str:
    step = _current_step(op)
    return f"{op.id}  {op.status:<10} {op.submission_type or '':<8} {_when(op.changed or op.created)}  {step}"


def _current_step(op: Operation) -> str:
    for step in op.steps:
        if _core.status_phase(step.status or "") != "succeeded":
            return f"{step.name} {step.status} {_percent(step.progress)}"
    return ""


def _progress_printer(stream: TextIO) -> Callable[[Operation], None]:
    def show(op: Operation) -> None:
        print(f"     {op.status:<10} {_current_step(op)}", file=stream, flush=True)

    return show


def _percent(value: Optional[float]) -> str:
    return "" if value is None else f"{value:.0f}%"


def _when(value: Optional[datetime]) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def _operation_json(op: Optional[Operation]) -> Optional[dict[str, Any]]:
    return None if op is None else dataclasses.asdict(op)


def _print_json(value: object) -> None:
    import json  # noqa: PLC0415 - see the imports

    print(json.dumps(value, indent=2, default=_json_default))


def _json_default(value: object) -> str:
    from datetime import datetime  # noqa: PLC0415 - see the imports

    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
