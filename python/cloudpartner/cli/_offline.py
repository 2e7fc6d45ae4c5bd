"""``cloudpartner serve|demo``: the offline portal (simulated offers, or a recording replayed) and its tour."""

from __future__ import annotations

import argparse
import sys
import time

from .._client import Client
from .._errors import ApiError
from ._shared import EXIT_OK, OFFLINE_TOKEN, UsageError, operation_line, progress_printer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any

    from ..testing import FakePortal


def add_commands(commands: Any) -> None:
    """Add ``serve`` and ``demo``."""
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


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        msg = f"{port} is not a port (0 to 65535)"
        raise argparse.ArgumentTypeError(msg)
    return port


def _serve(args: argparse.Namespace) -> int:
    from ..testing import FakePortal  # noqa: PLC0415 - only `serve` and `demo` need http.server

    if args.replay is not None:
        import warnings  # noqa: PLC0415 - see _shared's imports

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
    from ..testing import FakePortal  # noqa: PLC0415 - only `serve` and `demo` need http.server

    with FakePortal(cancel_seconds=args.cancel_seconds, step_seconds=args.cancel_seconds / 4) as portal:
        portal.add_offer(publisher, offer)
        print(f"1. An offline Cloud Partner Portal is running at {portal.base_url}")
        with Client(OFFLINE_TOKEN, base_url=portal.base_url) as client:
            running = client.list_operations(publisher, offer, status="running")
            print(f"2. {publisher}/{offer} has a publish running:")
            for op in running:
                print(f"     {operation_line(op)}")

            result = client.cancel(publisher, offer, ["jondoe@contoso.com"])
            print(f"3. Cancel sent: HTTP {result.status_code}, operation {result.operation_id}")
            print(f"     follow it at {result.operation_location}")

            print("4. Following the cancel:")
            final = client.wait(result, timeout=60.0, poll_interval=0.25, on_progress=progress_printer(sys.stdout))
            if final is not None:
                print(f"     ended: {final.status} (canceled={final.canceled})")

            print("5. Publish it again; it runs its steps and waits for the publisher's review:")
            started = client.publish(publisher, offer, ["jondoe@contoso.com"])
            reviewed = client.wait(
                started, timeout=60.0, poll_interval=0.5, on_progress=progress_printer(sys.stdout), until_review=True
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
