"""The ``cloudpartner`` command: cancel, follow and list operations, or run the offline portal.

Exit codes: 0 success, 2 usage or bad input, 3 the service refused (4xx), 4 a transient,
server or transport failure, 5 a wait that timed out, 6 the output could not be written (a
full disk), 130 interrupted.

The command line is the interface; this package's Python names are not a stable API. This module
only assembles the parser and runs the command chosen. Each group of commands adds its own:
``_operations.py`` (cancel, publish, go-live, operations, operation), ``_many.py``
(cancel-many), ``_release.py`` (release, deprecate: a VM image version), ``_offline.py``
(serve, demo), ``_documents.py`` (status, offers, offer, publishers), ``_ingestion.py``
(``cloudpartner ingestion ...``, the Product Ingestion API); all
on ``_shared.py`` (exit codes, the one-line error, output, token and client options, input
files), which imports no command.
"""

from __future__ import annotations

import argparse
import sys

from .. import _core
from . import _documents, _ingestion, _many, _offline, _operations, _release
from ._shared import run_command

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import NoReturn, Optional


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit code."""
    return run_command(_parser().parse_args(argv))


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
    # In the order of `cloudpartner --help`: the cancel and its batch first.
    _operations.add_cancel(commands)
    _many.add_commands(commands)
    _operations.add_commands(commands)
    _release.add_commands(commands)
    _offline.add_commands(commands)
    _documents.add_commands(commands)
    _ingestion.add_commands(commands)
    return parser


def run() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
