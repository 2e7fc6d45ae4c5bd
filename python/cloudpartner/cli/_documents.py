"""``cloudpartner status|offers|offer|publishers``: an offer's status, the offers, an offer, the publishers."""

from __future__ import annotations

import argparse

from ._shared import EXIT_OK, as_dict, cpp_client, percent, print_json, service_options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any


def add_commands(commands: Any) -> None:
    """Add the commands that read the service's documents."""
    status = commands.add_parser("status", help="show an offer's status and steps")
    status.add_argument("publisher")
    status.add_argument("offer")
    service_options(status)
    status.set_defaults(run=_status)

    offers = commands.add_parser("offers", help="list a publisher's offers")
    offers.add_argument("publisher")
    offers.add_argument(
        "--offer-type", metavar="TYPE", help="only offers of this type, e.g. microsoft-azure-virtualmachines"
    )
    service_options(offers)
    offers.set_defaults(run=_offers)

    offer = commands.add_parser("offer", help="show an offer's definition (JSON)")
    offer.add_argument("publisher")
    offer.add_argument("offer")
    offer.add_argument("--slot", choices=("draft", "preview", "production"), help="the slot to read (default: draft)")
    service_options(offer)
    offer.set_defaults(run=_offer)

    publishers = commands.add_parser("publishers", help="list the publishers the token may act for")
    service_options(publishers)
    publishers.set_defaults(run=_publishers)


def _status(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        status = client.get_offer_status(args.publisher, args.offer)
    if args.json:
        print_json(as_dict(status))
        return EXIT_OK
    print(f"{args.publisher}/{args.offer}: {status.status}")
    for step in status.steps:
        print(f"  {step.name or step.id or '?':<44} {step.status or '?':<26} {percent(step.progress)}")
        for message in step.messages:
            print(f"      {message.level or '-'}: {message.text}")
    for message in status.messages:
        print(f"  {message.level or '-'}: {message.text}")
    return EXIT_OK


def _offers(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        found = client.list_offers(args.publisher, offer_type=args.offer_type)
    if args.json:
        print_json(found)
    elif not found:
        print(f"no offers for {args.publisher}")
    else:
        for summary in found:
            name = (summary.get("definition") or {}).get("displayText", "")
            print(f"{summary.get('id', '?')}  {summary.get('status', '?'):<16} v{summary.get('version', '?')}  {name}")
    return EXIT_OK


def _offer(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        found = client.get_offer(args.publisher, args.offer, slot=args.slot)
    if args.json:
        print_json({"etag": found.etag, "slot": found.slot, "offer": found.definition})
    else:
        print(f"# {args.publisher}/{args.offer} ({found.slot or 'draft'}), ETag {found.etag or '-'}")
        print_json(found.definition)
    return EXIT_OK


def _publishers(args: argparse.Namespace) -> int:
    with cpp_client(args) as client:
        found = client.list_publishers()
    if args.json:
        print_json(found)
    elif not found:
        print("no publishers for this token")
    else:
        for publisher in found:
            name = (publisher.get("definition") or {}).get("displayText", "")
            print(f"{publisher.get('id', '?')}  {name}")
    return EXIT_OK
