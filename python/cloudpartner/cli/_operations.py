"""``cloudpartner cancel|publish|go-live|operations|operation``: start an offer's operation, follow and list them."""

from __future__ import annotations

import argparse
import sys

from .._errors import CloudPartnerError
from .._results import ActionResult, CancelResult
from ._shared import (
    EXIT_OK,
    as_dict,
    cpp_client,
    error_json,
    exit_code,
    operation_line,
    percent,
    print_json,
    progress_printer,
    service_options,
    wait_options,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .._client import Client
    from .._types import Operation


def add_cancel(commands: Any) -> None:
    """Add ``cancel``: first in the help, as the command most come for."""
    cancel = commands.add_parser("cancel", help="cancel the operation running on an offer")
    cancel.add_argument("publisher")
    cancel.add_argument("offer")
    cancel.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    wait_options(cancel, "follow the cancel until the operation ends")
    service_options(cancel)
    cancel.set_defaults(run=_cancel)


def add_commands(commands: Any) -> None:
    """Add the commands around the cancel (publish, go-live) and those that read operations."""
    publish = commands.add_parser("publish", help="publish an offer's draft (to preview, then review)")
    publish.add_argument("publisher")
    publish.add_argument("offer")
    publish.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    wait_options(publish, "follow it until it waits for review (or ends)")
    service_options(publish)
    publish.set_defaults(run=_publish)

    go_live = commands.add_parser("go-live", help="take a reviewed preview live")
    go_live.add_argument("publisher")
    go_live.add_argument("offer")
    wait_options(go_live, "follow it until it ends")
    service_options(go_live)
    go_live.set_defaults(run=_go_live)

    operations = commands.add_parser("operations", help="list an offer's operations")
    operations.add_argument("publisher")
    operations.add_argument("offer")
    operations.add_argument("--status", help="only operations with this status, e.g. running")
    service_options(operations)
    operations.set_defaults(run=_operations)

    operation = commands.add_parser("operation", help="show one operation by its location")
    operation.add_argument("location", help="the URL or path a cancel returned")
    service_options(operation)
    operation.set_defaults(run=_operation)


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
    with cpp_client(args) as client:
        result = start(client)
        if not args.json:
            _print_started(result)
        final: Optional[Operation] = None
        failure: Optional[CloudPartnerError] = None
        completed = isinstance(result, CancelResult) and result.completed
        if args.wait and not completed and result.operation_location is None:
            print("cloudpartner: warning: the service named no operation to follow; not waiting", file=sys.stderr)
        elif args.wait:
            progress = progress_printer(sys.stderr) if sys.stderr.isatty() and not args.json else None
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
            print_json(
                {
                    "result": as_dict(result),
                    "operation": _operation_json(final),
                    "error": error_json(failure),
                }
            )
        elif final is not None and final.waiting_for_review and not final.is_terminal:
            print(f"operation {final.id} waits for the publisher's review: check the preview, then go-live")
        elif final is not None:
            print(f"operation {final.id} ended: {final.status}")
    if failure is not None:
        print(f"cloudpartner: {type(failure).__name__}: {failure}", file=sys.stderr)
        return exit_code(failure)
    return EXIT_OK


def _operations(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        found = client.list_operations(args.publisher, args.offer, status=args.status)
    if args.json:
        print_json([_operation_json(op) for op in found])
    elif not found:
        print(f"no operations on {args.publisher}/{args.offer}")
    else:
        for op in found:
            print(operation_line(op))
    return EXIT_OK


def _operation(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        op = client.get_operation(args.location)
    if args.json:
        print_json(_operation_json(op))
    else:
        print(operation_line(op))
        for step in op.steps:
            print(f"  {step.name or '?':<22} {step.status or '?':<12} {percent(step.progress)}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------- output


def _print_started(result: CancelResult | ActionResult) -> None:
    what = result.action if isinstance(result, ActionResult) else "cancel"
    if isinstance(result, CancelResult) and result.completed:
        print(f"cancelled {result.publisher}/{result.offer} (HTTP {result.status_code})")
    else:
        print(f"{what} accepted for {result.publisher}/{result.offer} (HTTP {result.status_code})")
        print(f"  operation:  {result.operation_location or '(the service named none)'}")
    print(f"  request id: {result.request_id or '-'} (client {result.client_request_id})")


def _operation_json(op: Optional[Operation]) -> Optional[dict[str, Any]]:
    return None if op is None else as_dict(op)
