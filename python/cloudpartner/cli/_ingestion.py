"""``cloudpartner ingestion ...``: Partner Center's Product Ingestion API from the command line.

Jobs (cancel, show, follow), publish to preview or live, products and their submissions, a
VM image version's release (``_ingestion_release.py``) and deprecation, and waiting until a
product is idle. The
options, token sources, exit codes, error lines and JSON conventions are the CPP commands' own
(``_shared.py``); only the token (a Microsoft Graph one) and the service root differ.
"""

from __future__ import annotations

import argparse
import sys

from .. import _core
from .._errors import CloudPartnerError, JobAlreadyCompletedError, WaitTimeoutError
from . import _ingestion_release
from ._shared import EXIT_OK, as_dict, bearer_token, error_json, print_json, report, service_options, wait_options, when

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from ..ingestion import Client, Job, JobError, Product, Submission

# What az is asked for: the resource of the Graph scope the ingestion Client asks credentials for.
GRAPH_RESOURCE = _core.INGESTION_SCOPE.removesuffix("/.default")
POLL_HELP = (
    f"seconds between polls (default {_core.INGESTION_POLL_INTERVAL:g}: the service asks for at most one a minute)"
)

EPILOG = (
    f"Token: a Microsoft Graph token from {_core.INGESTION_TOKEN_VARIABLE}, --token-file, or --az "
    f"(az account get-access-token --resource {GRAPH_RESOURCE}); never on the command line, and not "
    "needed against a loopback --base-url (cloudpartner serve). "
    "OFFER is an offer id (the product's external id), product/<id> or a GUID. "
    '--json prints a product, a list of submissions, or for the job commands {"job": the job\'s last '
    'state seen, "error": null or {type, message, status_code}}; each object keeps the service\'s JSON in '
    '"raw". Exit codes, as for the CPP commands: 0 ok, 2 usage or bad input, 3 refused (trying again will '
    "not help: 4xx such as an unknown job or product; a cancel refused because the job had already "
    "completed, JobAlreadyCompletedError, as the CPP side's 409 when nothing runs: nothing to cancel, the "
    "line says how the job ended; with --wait, a job that ended otherwise than asked: publish and job not "
    "succeeded, cancel not cancelled, JobEndedError), 4 transient (408, 429, "
    "500, 502-504, transport failures), 5 --wait timed out, 6 output not written (a full disk: the command "
    "may have done its work), 130 interrupted."
)


def add_commands(commands: Any) -> None:
    """Add ``ingestion`` and its commands to the ``cloudpartner`` parser's subcommands."""
    ingestion = commands.add_parser(
        "ingestion",
        help="Partner Center's Product Ingestion API: publish, cancel and follow jobs, products",
        description="Publish products and cancel or follow their jobs through Partner Center's Product Ingestion "
        "API (the Cloud Partner Portal API's successor).",
        epilog=EPILOG,
    )
    sub = ingestion.add_subparsers(title="commands", required=True, metavar="COMMAND")

    cancel = sub.add_parser("cancel", help="cancel a job (a publish or configure under way)", epilog=EPILOG)
    cancel.add_argument("job", help="the job id (a GUID) a publish or configure answered")
    _options(cancel, "follow the job until it ends (exit 3 unless it ends cancelled)")
    cancel.set_defaults(run=_cancel)

    job = sub.add_parser("job", help="show a job's state, or follow it with --wait", epilog=EPILOG)
    job.add_argument("job", help="the job id (a GUID)")
    _options(job, "follow the job until it ends (exit 3 unless it ends succeeded)")
    job.set_defaults(run=_job)

    publish = sub.add_parser(
        "publish", help="publish a product: its draft to preview, or its preview live", epilog=EPILOG
    )
    publish.add_argument("offer", metavar="OFFER", help="offer id, product/<id> or a GUID")
    publish.add_argument("--target", required=True, choices=("preview", "live"), help="where to publish")
    _options(publish, "follow the publish's job until it ends (exit 3 unless it ends succeeded)")
    publish.set_defaults(run=_publish)

    submissions = sub.add_parser(
        "submissions", help="list a product's submissions (draft, preview, live)", epilog=EPILOG
    )
    submissions.add_argument("offer", metavar="OFFER", help="offer id, product/<id> or a GUID")
    _options(submissions)
    submissions.set_defaults(run=_submissions)

    product = sub.add_parser("product", help="show a product: its durable id, external id, type, alias", epilog=EPILOG)
    product.add_argument("offer", metavar="OFFER", help="offer id, product/<id> or a GUID")
    _options(product)
    product.set_defaults(run=_product)

    _ingestion_release.add_command(sub, _options, _client, EPILOG)

    deprecate = sub.add_parser(
        "deprecate",
        help="deprecate a VM image version of a plan (a published version cannot be removed)",
        epilog=EPILOG,
    )
    deprecate.add_argument("offer", metavar="PRODUCT", help="offer id, product/<id> or a GUID")
    deprecate.add_argument("plan", metavar="PLAN", help="the plan's id (external id) or durable id")
    deprecate.add_argument("version", metavar="VERSION", help="the version number, N.N.N")
    deprecate.add_argument("--date", required=True, help="when it is deprecated, YYYY-MM-DD")
    deprecate.add_argument(
        "--reason", required=True, choices=("criticalSecurityIssue", "endOfSupport", "other"), help="why"
    )
    _options(deprecate, "follow the configure job until it ends (exit 3 unless it ends succeeded)")
    deprecate.set_defaults(run=_deprecate)

    idle = sub.add_parser(
        "wait-idle", help="wait until no submission of a product is running (a publish can start)", epilog=EPILOG
    )
    idle.add_argument("offer", metavar="PRODUCT", help="offer id, product/<id> or a GUID")
    wait_options(idle, argparse.SUPPRESS, _core.INGESTION_POLL_INTERVAL, POLL_HELP)
    _options(idle)
    idle.set_defaults(run=_wait_idle)


def _options(command: argparse.ArgumentParser, follows: Optional[str] = None) -> None:
    """Add the CPP commands' options (``_shared.py``) with the ingestion API's defaults, and ``--api-version``."""
    if follows is not None:
        wait_options(command, follows, _core.INGESTION_POLL_INTERVAL, POLL_HELP)
    service_options(
        command,
        f"service root (default: {_core.INGESTION_BASE_URL_VARIABLE} or {_core.INGESTION_BASE_URL})",
        f"get a Microsoft Graph token from the Azure CLI (az, resource {GRAPH_RESOURCE})",
    )
    # Not --version: that conventionally prints the program's own version.
    command.add_argument(
        "--api-version",
        metavar="V",
        help=f"the $version every request names (default {_core.INGESTION_VERSION})",
    )


def _client(args: argparse.Namespace) -> Client:
    from ..ingestion._client import Client, _base_url_or_default  # noqa: PLC0415 - only these commands need it

    base_url = _base_url_or_default(args.base_url)
    token = bearer_token(args, base_url, _core.INGESTION_TOKEN_VARIABLE, GRAPH_RESOURCE)
    return Client(token, base_url=base_url, version=args.api_version)


# -------------------------------------------------------------------------------------- commands


class JobEndedError(CloudPartnerError):
    """A job followed with ``--wait`` ended otherwise than the command asked for (exit 3)."""


def _cancel(args: argparse.Namespace) -> int:
    return _start_and_follow(args, lambda client: client.cancel_job(args.job), "cancel sent", wanted="cancelled")


def _job(args: argparse.Namespace) -> int:
    return _start_and_follow(args, lambda client: client.get_job(args.job), "", wanted="succeeded")


def _publish(args: argparse.Namespace) -> int:
    return _start_and_follow(
        args,
        lambda client: client.publish(args.offer, args.target),
        f"publish of {args.offer} to {args.target} started",
        wanted="succeeded",
    )


def _deprecate(args: argparse.Namespace) -> int:
    return _start_and_follow(
        args,
        lambda client: client.deprecate_image_version(
            args.offer, args.plan, args.version, date=args.date, reason=args.reason
        ),
        f"deprecation of {args.version} started",
        wanted="succeeded",
    )


def _wait_idle(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.wait_until_idle(args.offer, args.timeout, args.poll_interval, progress=not args.json)
    if args.json:
        print_json({"idle": True})
    else:
        print(f"{args.offer}: no submission running")
    return EXIT_OK


def _start_and_follow(args: argparse.Namespace, start: Callable[[Client], Job], started: str, *, wanted: str) -> int:
    """Send a cancel, read or publish; with --wait, follow its job (progress on a terminal's stderr).

    With --json the job's last state seen is printed even when the command fails (a cancel refused
    as too late, a wait that timed out): scripts still get the job.
    """
    failure: Optional[CloudPartnerError] = None
    job: Optional[Job] = None
    with _client(args) as client:
        try:
            job = start(client)
        except JobAlreadyCompletedError as error:
            if not args.json:
                ended = f"; it ended {error.job.phase}, nothing was cancelled" if error.job is not None else ""
                return report(error, ended)
            job, failure = error.job, error
        if job is not None and failure is None:
            if not args.json:
                _print_job(job, started)
            if args.wait and not job.is_terminal:
                show = sys.stderr.isatty() and not args.json
                try:
                    job = client.wait_job(job, args.timeout, args.poll_interval, progress=show)
                except CloudPartnerError as error:
                    if not args.json:
                        raise
                    failure = error
                    if isinstance(error, WaitTimeoutError) and error.job is not None:
                        job = error.job
            if args.wait and failure is None:
                failure = _verdict(job, wanted)
                if not args.json:
                    print(f"job {job.id} ended: {job.phase}")
                    _print_errors(job.errors)
    if args.json:
        print_json({"job": _asdict(job), "error": error_json(failure)})
    return report(failure) if failure is not None else EXIT_OK


def _verdict(job: Job, wanted: str) -> Optional[JobEndedError]:
    """None when the job ended as the command asked; else the error that says how it ended."""
    if job.phase == wanted:
        return None
    first = next(iter(job.errors), None)
    why = f": {first.code or '-'}: {first.message or ''}" if first is not None else ""
    more = f" (and {len(job.errors) - 1} more)" if len(job.errors) > 1 else ""
    return JobEndedError(f"job {job.id} ended {job.phase}, not {wanted}{why}{more}")


def _submissions(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.list_submissions(args.offer)
    if args.json:
        print_json([_asdict(submission) for submission in found])
    elif not found:
        print(f"no submissions for {args.offer}")
    else:
        for submission in found:
            print(_submission_line(submission))
    return EXIT_OK


def _product(args: argparse.Namespace) -> int:
    with _client(args) as client:
        product = client.get_product(args.offer)
    if args.json:
        print_json(_asdict(product))
    else:
        _print_product(product)
    return EXIT_OK


# ---------------------------------------------------------------------------------------- output


def _asdict(value: Optional[Job | Product | Submission]) -> Optional[dict[str, Any]]:
    return None if value is None else as_dict(value)


def _print_job(job: Job, started: str) -> None:
    print(f"{started}: job {job.id}" if started else f"job {job.id}")
    print(f"  status:   {job.status} ({job.result or '-'})")
    print(f"  started:  {_when(job.started)}   ended: {_when(job.ended)}")
    if job.resource_uri:
        print(f"  resource: {job.resource_uri}")
    _print_errors(job.errors)


def _print_errors(errors: tuple[JobError, ...], indent: str = "  ") -> None:
    for error in errors:
        about = f" [{error.resource_id}]" if error.resource_id else ""
        print(f"{indent}error: {error.code or '-'}: {error.message or ''}{about}")
        _print_errors(error.details, indent + "  ")


def _print_product(product: Product) -> None:
    print(f"{product.id}")
    print(f"  external id: {product.external_id or '-'}")
    print(f"  type:        {product.type or '-'}")
    print(f"  alias:       {product.alias or '-'}")


def _submission_line(submission: Submission) -> str:
    return (
        f"{submission.id}  {submission.target or '-':<8} {submission.status or '-':<11} "
        f"{submission.result or '-':<10} {_when(submission.created)}  {submission.lifecycle_state or ''}"
    ).rstrip()


def _when(value: object) -> str:
    """Show a moment as a Job or Submission carries it: a datetime, its text when unparsed, or None."""
    from datetime import datetime  # noqa: PLC0415 - see _shared's imports

    return when(value) if isinstance(value, datetime) or value is None else str(value)
