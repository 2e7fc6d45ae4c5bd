"""MkDocs hook: the command-line reference, generated from the argparse parser at build time.

``docs/guides/cli.md`` holds the prose and the marker ``<!-- cli-reference -->``; this hook
replaces the marker with every subcommand (``cloudpartner ingestion ...`` too): its usage, its
help, and a table of its arguments with their defaults, read from ``cloudpartner.cli._parser()``.
The exit codes come from the ``EXIT_*`` constants of ``cloudpartner.cli._shared``: a new one
without a meaning here fails the build. Nothing on the page can drift from the parser.
"""

from __future__ import annotations

import argparse
from typing import Any

MARKER = "<!-- cli-reference -->"
PAGE = "guides/cli.md"

# What each exit code means to a caller; the values come from cloudpartner.cli._shared.
EXIT_MEANINGS = {
    "EXIT_OK": "success",
    "EXIT_USAGE": "usage or bad input, including a missing token or a credential that failed",
    "EXIT_REFUSED": "refused: trying again will not help (4xx such as not found, forbidden, conflict; 501, 505; "
    "an answer over the size limit; an ingestion job that had already completed, or with `--wait` ended "
    "otherwise than asked)",
    "EXIT_TRANSIENT": "transient: worth trying again (408, 429, 500, 502, 503, 504, connection, timeout)",
    "EXIT_WAIT_TIMEOUT": "`--wait` timed out",
    "EXIT_OUTPUT": "the output could not be written (a full disk, a quota): one line on stderr says why; what "
    "the command sends may have been done",
    "EXIT_INTERRUPTED": "interrupted (Ctrl-C)",
}


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, help, parser) of each subcommand, in the order they were added."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            found += [(name, helps.get(name, ""), sub) for name, sub in action.choices.items()]
    return found


def _argument_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                name += f" {action.metavar or action.dest.upper()}"
        else:
            name = action.metavar or action.dest
        notes = []
        if action.choices is not None:
            notes.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
        if action.required and action.option_strings:
            notes.append("required")
        if isinstance(action, argparse._AppendAction):
            notes.append("repeatable")
        elif action.default not in (None, False, argparse.SUPPRESS) and action.nargs != 0:
            notes.append(f"default `{action.default}`")
        rows.append(f"| `{_escape(name)}` | {_escape(action.help or '')} | {'; '.join(notes)} |")
    return rows


def _section(path: str, help_text: str, parser: argparse.ArgumentParser, level: int) -> list[str]:
    lines = [f"{'#' * level} `{path}`", ""]
    if help_text:
        lines += [help_text[0].upper() + help_text[1:] + ".", ""]
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines += ["```text", usage, "```", ""]
    rows = _argument_rows(parser)
    if rows:
        lines += ["| argument | meaning | notes |", "|---|---|---|", *rows, ""]
    for name, sub_help, sub in _subcommands(parser):
        lines += _section(f"{path} {name}", sub_help, sub, level + 1)
    return lines


def exit_codes() -> list[tuple[int, str]]:
    """List (code, meaning) for every ``EXIT_*`` constant of ``cloudpartner.cli._shared``, lowest first."""
    from cloudpartner.cli import _shared  # noqa: PLC0415 - the package is imported at build time only

    constants = {name: value for name, value in vars(_shared).items() if name.startswith("EXIT_")}
    undocumented = set(constants) - set(EXIT_MEANINGS)
    if undocumented:
        msg = f"exit codes without a meaning in docs/_hooks/cli.py: {sorted(undocumented)}"
        raise RuntimeError(msg)
    return sorted((value, EXIT_MEANINGS[name]) for name, value in constants.items())


def cli_reference() -> str:
    """Make the page's Markdown: the exit codes, then every command."""
    from cloudpartner import cli  # noqa: PLC0415

    parser = cli._parser()
    lines = ["## Exit codes", "", "| code | meaning |", "|---|---|"]
    lines += [f"| {code} | {_escape(meaning)} |" for code, meaning in exit_codes()]
    lines += ["", "## Commands", ""]
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines += [parser.description or "", "", "```text", usage, "```", ""]
    if parser.epilog:
        lines += [parser.epilog, ""]
    for name, help_text, sub in _subcommands(parser):
        lines += _section(f"cloudpartner {name}", help_text, sub, 3)
        if sub.epilog and name == "ingestion":
            lines += ["", sub.epilog, ""]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Replace the marker on the CLI page with the reference made from the parser."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        msg = f"{PAGE} lacks the marker {MARKER}"
        raise RuntimeError(msg)
    return markdown.replace(MARKER, cli_reference())
