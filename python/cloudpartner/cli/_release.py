"""``cloudpartner release|deprecate``: release a VM image version of a CPP offer's plan, or hide one.

``release`` runs ``Client.release_image_version``: with ``--wait`` to its ``--target``; without,
it does what needs no waiting (the add) and returns once the next operation has started, so that
a script run again later (from cron, say) takes the release one step further each time. Progress
goes to stderr, one line per step and operation state; Ctrl-C says which operation runs and how to
cancel it.
"""

from __future__ import annotations

import argparse
import sys

from .. import _core
from .._errors import CloudPartnerError
from ._shared import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ReleaseProgress,
    ReleaseStarted,
    as_dict,
    cpp_client,
    error_json,
    exit_code,
    print_json,
    service_options,
    wait_options,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any, Optional

    from .._release import Release, ReleaseStep


def add_commands(commands: Any) -> None:
    """Add ``release`` and ``deprecate``."""
    release = commands.add_parser(
        "release",
        help="release a VM image version: add it to a plan, publish, go live (resumable)",
        description="Add the version to the plan's draft, publish it, wait for the publisher's review and go live. "
        "Run again after any failure or interruption: it continues where the offer stands and does no step twice.",
    )
    _version_arguments(release)
    release.add_argument("--vhd", required=True, metavar="URL", help="the OS disk's SAS URI (https, with its sig)")
    release.add_argument(
        "--data-disk", action="append", default=[], metavar="URL", help="a data disk's SAS URI, LUN 0, 1, ... in order"
    )
    release.add_argument("--label", help="the version's label (default: the version)")
    release.add_argument("--description", help="the version's description (default: the label)")
    release.add_argument("--email", action="append", default=[], metavar="ADDR", help="notify ADDR (repeatable)")
    release.add_argument(
        "--target", choices=_core.RELEASE_TARGETS, default="live", help="how far to go (default: live)"
    )
    wait_options(release, "follow the release to its target (default: return once the next operation has started)")
    service_options(release)
    release.set_defaults(run=_release)

    deprecate = commands.add_parser(
        "deprecate",
        help="hide a VM image version of a plan (showInGui: false)",
        description="Hide the version in the offer's draft; publish for it to take effect. The last version a plan "
        "shows is refused: deprecate the plan or the offer instead.",
    )
    _version_arguments(deprecate)
    service_options(deprecate)
    deprecate.set_defaults(run=_deprecate)


def _version_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("publisher")
    command.add_argument("offer")
    command.add_argument("plan", help="the plan's planId")
    command.add_argument("version", help="the version, N.N.N (e.g. 2024.01.15)")


def _step_line(step: ReleaseStep) -> str:
    line = f"{step.name:<8} {step.outcome}"
    if step.job_id:
        line += f"  operation {step.job_id}"
    if step.status:
        line += f"  {step.status}"
    return line


def _release(args: argparse.Namespace) -> int:
    progress = ReleaseProgress(wait=args.wait)
    result: Optional[Release] = None
    failure: Optional[CloudPartnerError] = None
    with cpp_client(args) as client:
        try:
            result = client.release_image_version(
                args.publisher,
                args.offer,
                args.plan,
                args.version,
                os_vhd_url=args.vhd,
                data_disks=list(enumerate(args.data_disk)),
                label=args.label,
                description=args.description,
                emails=args.email,
                target=args.target,
                timeout=args.timeout,
                poll_interval=args.poll_interval,
                on_progress=progress,
            )
        except ReleaseStarted:
            result = progress.last
        except KeyboardInterrupt:
            _interrupted(args, progress.last)
            return EXIT_INTERRUPTED
        except CloudPartnerError as error:
            if not args.json:
                raise
            failure, result = error, progress.last
    if args.json:
        print_json({"release": None if result is None else as_dict(result), "error": error_json(failure)})
        if failure is not None:
            print(f"cloudpartner: {type(failure).__name__}: {failure}", file=sys.stderr)
            return exit_code(failure)
        return EXIT_OK
    if result is not None:
        _print_result(args, result)
    return EXIT_OK


def _print_result(args: argparse.Namespace, result: Release) -> None:
    what = f"{args.offer}/{args.plan} {args.version}"
    current = result.current
    if current is not None:
        print(f"{what}: {current.name} under way (operation {current.job_id}); run the same command again to go on")
    elif not result.changed:
        print(f"{what}: already at {args.target}; nothing sent")
    else:
        print(f"{what}: released to {args.target}")
    for step in result.steps:
        print(f"  {_step_line(step)}")


def _interrupted(args: argparse.Namespace, so_far: Optional[Release]) -> None:
    """Say what still runs on the service after Ctrl-C, and how to stop it or go on."""
    current = so_far.current if so_far is not None else None
    if current is None or not current.job_id:
        print("cloudpartner: interrupted; run the same command again to go on", file=sys.stderr)
        return
    print(
        f"cloudpartner: interrupted; the {current.name} step's operation {current.job_id} keeps running on the "
        f"service. To stop it: cloudpartner cancel {args.publisher} {args.offer}. "
        "To go on: run the same command again.",
        file=sys.stderr,
    )


def _deprecate(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        stored = client.deprecate_image_version(args.publisher, args.offer, args.plan, args.version)
    if args.json:
        print_json({"changed": stored is not None, "etag": None if stored is None else stored.etag})
    elif stored is None:
        print(f"{args.offer}/{args.plan} {args.version} is hidden already: nothing written")
    else:
        print(f"hid {args.offer}/{args.plan} {args.version} in the draft (ETag {stored.etag}); publish to apply it")
    return EXIT_OK
