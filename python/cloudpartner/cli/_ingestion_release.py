"""``cloudpartner ingestion release``: release a VM image version on the Product Ingestion API.

Add the version to the plan's draft, wait until the product is idle, publish to preview, then
live: ``ingestion.Client.release_image_version``, which is resumable, so running the command again
continues where the product stands. Progress goes to stderr, one line per step and job state; on
Ctrl-C the running job's id is printed with the command that cancels it.

The ``ingestion`` command group (``_ingestion.py``) adds this command, handing it its option and
client makers, so that this module imports no other command.
"""

from __future__ import annotations

import argparse
import sys

from .. import _core
from .._errors import CloudPartnerError
from ._shared import EXIT_INTERRUPTED, EXIT_OK, ReleaseProgress, ReleaseStarted, as_dict, error_json, print_json, report

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

    from .._release import Release
    from ..ingestion import Client


def add_command(
    sub: Any,
    options: Callable[[argparse.ArgumentParser, Optional[str]], None],
    client: Callable[[argparse.Namespace], Client],
    epilog: str,
) -> None:
    """Add ``release`` to the ``ingestion`` commands; ``options`` and ``client`` are the group's own."""
    release = sub.add_parser(
        "release",
        help="release a VM image version: add it to a plan, publish to preview, then live (resumable)",
        description="Add a VM image version to a plan's draft (a SAS URI or a gallery image), wait until the "
        "product is idle, publish to preview, then live. Every step already done is skipped, so running the "
        "same command again continues where the product stands; a version already live sends nothing. "
        "Without --wait the command stops once it has started a job (run it again, or follow the job). "
        "Exit 4 when a job failed as another submission was in progress (try again later), 3 when the "
        "image failed certification or a job failed otherwise.",
        epilog=epilog,
    )
    release.add_argument(
        "offer", metavar="PRODUCT", help="offer id (the product's external id), product/<id> or a GUID"
    )
    release.add_argument("plan", metavar="PLAN", help="the plan's id (external id) or durable id")
    release.add_argument("version", metavar="VERSION", help="the version number, N.N.N")
    source = release.add_mutually_exclusive_group(required=True)
    source.add_argument("--sas", metavar="URL", help="the OS disk's SAS URI (its signature is never printed)")
    source.add_argument("--gallery-image", metavar="ID", help="an Azure Compute Gallery image version's resource id")
    release.add_argument(
        "--target", choices=_core.RELEASE_TARGETS, default="live", help="how far to release (default live)"
    )
    release.add_argument(
        "--image-type",
        action="append",
        choices=_core.IMAGE_TYPES,
        metavar="T",
        help=f"an image type the image serves ({', '.join(_core.IMAGE_TYPES)}; repeat for two; default x64Gen2)",
    )
    options(release, "follow every job until the release reaches --target (else stop once a job has started)")
    release.set_defaults(run=lambda args: _release(args, client))


def _release(args: argparse.Namespace, make_client: Callable[[argparse.Namespace], Client]) -> int:
    """Run the release; print where it ended (or, with --json, the release and the error)."""
    progress = ReleaseProgress(wait=args.wait)
    failure: Optional[CloudPartnerError] = None
    release: Optional[Release] = None
    with make_client(args) as client:
        try:
            release = client.release_image_version(
                args.offer,
                args.plan,
                args.version,
                sas_uri=args.sas,
                gallery_image=args.gallery_image,
                image_types=tuple(args.image_type or ("x64Gen2",)),
                target=args.target,
                timeout=args.timeout,
                poll_interval=args.poll_interval,
                on_progress=progress,
            )
        except ReleaseStarted:
            release = progress.last
        except KeyboardInterrupt:
            _tell_how_to_cancel(progress.last)
            return EXIT_INTERRUPTED
        except CloudPartnerError as error:
            if not args.json:
                raise
            failure, release = error, progress.last
    if args.json:
        print_json({"release": None if release is None else as_dict(release), "error": error_json(failure)})
        return report(failure) if failure is not None else EXIT_OK
    if release is not None:
        _print_release(release, args)
    return EXIT_OK


def _print_release(release: Release, args: argparse.Namespace) -> None:
    for step in release.steps:
        job = f"  job {step.job_id}" if step.job_id else ""
        print(f"{step.name:<10} {step.outcome}{job}")
    running = release.current
    if running is not None and running.job_id:
        print(
            f"started, not followed: follow it with `cloudpartner ingestion job {running.job_id} --wait`, "
            f"or run this command again (with --wait) to continue the release"
        )
    elif not release.changed:
        print(f"{args.offer} {args.plan} {args.version}: already at {args.target}, nothing sent")


def _tell_how_to_cancel(last: Optional[Release]) -> None:
    """On stderr: the job still running and the command that cancels it."""
    running = last.current if last is not None else None
    print("cloudpartner: interrupted", file=sys.stderr)
    if running is not None and running.job_id:
        print(
            f"cloudpartner: job {running.job_id} ({running.name}) may still be running; "
            f"cancel it with: cloudpartner ingestion cancel {running.job_id}",
            file=sys.stderr,
        )
