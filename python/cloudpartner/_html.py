"""HTML for notebooks, from plain data: tables, status badges, progress bars, messages, steps.

Each displayed type builds its own ``_repr_html_`` from its fields with these helpers; nothing here
knows a type, so the types depend on this module and never the reverse. Loaded only when
something is displayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Optional

__all__ = ["badge", "escape", "messages", "progress_bar", "rows", "steps"]

# By phase: "succeeded", "failed", "canceled" or "pending" (status_phase's and job_phase's words).
_COLORS = {"succeeded": "#107c10", "failed": "#d13438", "canceled": "#8a8886", "pending": "#0078d4"}
_LEVELS = {"error": "#d13438", "warning": "#c19c00", "information": "#605e5c"}
_TABLE = 'style="border-collapse:collapse;text-align:left;font-family:sans-serif;font-size:13px"'
_CELL = 'style="padding:2px 10px 2px 0;vertical-align:top;text-align:left"'
_ERROR = "#d13438"

Message = tuple[Optional[str], str]  # (level, text)
Step = tuple[str, str, Optional[float], Iterable[Message]]  # (name, status badge, progress, messages)


def badge(text: str, phase: str) -> str:
    """Return ``text`` in bold, in its phase's color (the pending blue for a phase with none)."""
    return f'<span style="color:{_COLORS.get(phase, _COLORS["pending"])};font-weight:bold">{escape(text)}</span>'


def error_badge(text: str) -> str:
    """Return ``text`` in bold, in the failure red."""
    return f'<span style="color:{_ERROR};font-weight:bold">{escape(text)}</span>'


def rows(pairs: Iterable[tuple[str, str]]) -> str:
    """Return a two-column table: each name (escaped here) beside its value (HTML already)."""
    cells = "".join(f"<tr><th {_CELL}>{escape(name)}</th><td {_CELL}>{value}</td></tr>" for name, value in pairs)
    return f"<table {_TABLE}>{cells}</table>"


def progress_bar(progress: Optional[float]) -> str:
    """Return a bar for a percentage (clamped to 0-100), or nothing for None."""
    if progress is None:
        return ""
    width = max(0.0, min(100.0, progress))
    return (
        '<div style="display:inline-block;width:120px;height:8px;background:#edebe9;vertical-align:middle">'
        f'<div style="width:{width:.0f}%;height:8px;background:#0078d4"></div></div> {width:.0f}%'
    )


def messages(items: Iterable[Message]) -> str:
    """Return one line per message, colored by its level."""
    lines = []
    for level, text in items:
        color = _LEVELS.get((level or "").lower(), "#605e5c")
        lines.append(f'<div style="color:{color}">{escape(level or "-")}: {escape(text)}</div>')
    return "".join(lines)


def steps(items: Iterable[Step]) -> str:
    """Return a table of steps (name, status badge, progress bar, messages), or nothing for none."""
    body = "".join(
        f"<tr><td {_CELL}>{escape(name)}</td><td {_CELL}>{status}</td>"
        f"<td {_CELL}>{progress_bar(progress)}</td><td {_CELL}>{messages(notes)}</td></tr>"
        for name, status, progress, notes in items
    )
    if not body:
        return ""
    head = "".join(f"<th {_CELL}>{name}</th>" for name in ("step", "status", "progress", "messages"))
    return f"<table {_TABLE}><tr>{head}</tr>{body}</table>"
