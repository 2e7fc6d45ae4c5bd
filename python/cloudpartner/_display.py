"""How results look to a person.

HTML for notebooks, text for IPython's pretty printer, and the live progress of
``wait(..., progress=True)``. Loaded only when something is displayed.
"""

from __future__ import annotations

import importlib
import sys
from html import escape
from typing import TYPE_CHECKING, Any, Callable, Optional, TextIO, Union

if TYPE_CHECKING:
    from ._errors import CloudPartnerError
    from ._results import ActionResult, CancelResult
    from ._types import OfferStatus, Operation, OperationStep, StepMessage
    from .ingestion._jobs import Job

    State = Union[Operation, Job]

_COLORS = {"succeeded": "#107c10", "failed": "#d13438", "canceled": "#8a8886", "pending": "#0078d4"}
_LEVELS = {"error": "#d13438", "warning": "#c19c00", "information": "#605e5c"}
_TABLE = 'style="border-collapse:collapse;text-align:left;font-family:sans-serif;font-size:13px"'
_CELL = 'style="padding:2px 10px 2px 0;vertical-align:top;text-align:left"'


def _phase(status: str) -> str:
    from ._core import status_phase  # noqa: PLC0415 - the extension is loaded by then

    return status_phase(status)


def _badge(status: Optional[str]) -> str:
    text = status or "?"
    color = _COLORS.get(_phase(text), "#0078d4")
    return f'<span style="color:{color};font-weight:bold">{escape(text)}</span>'


def _rows(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th {_CELL}>{escape(name)}</th><td {_CELL}>{value}</td></tr>" for name, value in pairs)
    return f"<table {_TABLE}>{cells}</table>"


def _progress_bar(progress: Optional[float]) -> str:
    if progress is None:
        return ""
    width = max(0.0, min(100.0, progress))
    return (
        '<div style="display:inline-block;width:120px;height:8px;background:#edebe9;vertical-align:middle">'
        f'<div style="width:{width:.0f}%;height:8px;background:#0078d4"></div></div> {width:.0f}%'
    )


def _messages_html(messages: tuple[StepMessage, ...]) -> str:
    items = []
    for message in messages:
        color = _LEVELS.get((message.level or "").lower(), "#605e5c")
        items.append(f'<div style="color:{color}">{escape(message.level or "-")}: {escape(message.text)}</div>')
    return "".join(items)


def _steps_html(steps: tuple[OperationStep, ...]) -> str:
    if not steps:
        return ""
    rows = "".join(
        f"<tr><td {_CELL}>{escape(step.name or step.id or '?')}</td><td {_CELL}>{_badge(step.status)}</td>"
        f"<td {_CELL}>{_progress_bar(step.progress)}</td><td {_CELL}>{_messages_html(step.messages)}</td></tr>"
        for step in steps
    )
    head = "".join(f"<th {_CELL}>{name}</th>" for name in ("step", "status", "progress", "messages"))
    return f"<table {_TABLE}><tr>{head}</tr>{rows}</table>"


def result_html(result: Union[CancelResult, ActionResult]) -> str:
    """Show a cancel, publish or go-live answer as a small table."""
    action = getattr(result, "action", "cancel")
    location = result.operation_location
    return f"<b>{escape(type(result).__name__)}</b> ({escape(action)} of {escape(result.publisher)}/" + (
        f"{escape(result.offer)})"
        + _rows(
            [
                ("status", f"HTTP {result.status_code}"),
                ("operation", escape(result.operation_id or "-")),
                ("location", escape(location) if location else "-"),
                ("request id", escape(result.request_id or "-")),
                ("client request id", escape(result.client_request_id or "-")),
            ]
        )
    )


def operation_html(operation: Operation) -> str:
    """Show an operation: its status, its steps with progress bars, messages by level."""
    pairs = [
        ("operation", escape(operation.id)),
        ("status", _badge(operation.status)),
        ("type", escape(operation.submission_type or "-")),
        ("changed", escape(operation.changed.isoformat(timespec="seconds") if operation.changed else "-")),
    ]
    if operation.waiting_for_review:
        pairs.append(("next", "waits for the publisher's review: check the preview, then go live"))
    return _rows(pairs) + _messages_html(operation.messages) + _steps_html(operation.steps)


def offer_status_html(status: OfferStatus) -> str:
    """Show an offer's status with its steps."""
    return (
        _rows([("offer status", _badge(status.status))]) + _messages_html(status.messages) + _steps_html(status.steps)
    )


def job_html(job: Job) -> str:
    """Return an ingestion job as an HTML table."""
    from ._core import job_phase  # noqa: PLC0415 - the extension is loaded by then

    phase = job_phase(job.status, job.result)
    color = _COLORS.get({"cancelled": "canceled", "completed": "succeeded"}.get(phase, phase), "#0078d4")
    status = f'<span style="color:{color};font-weight:bold">{escape(job.status or "?")}</span>'
    rows = [("job", escape(job.id)), ("status", status), ("result", escape(job.result or "-"))]
    rows += [(name, escape(str(value))) for name, value in (("started", job.started), ("ended", job.ended)) if value]
    rows += [(f"error {e.code or ''}", escape(e.message or "")) for e in job.errors]
    return _rows(rows)


def error_html(error: CloudPartnerError) -> str:
    """Show an exception as a person reads it: what failed, the service's code and message, the ids."""
    pairs = [("error", f'<span style="color:#d13438;font-weight:bold">{escape(type(error).__name__)}</span>')]
    pairs.append(("message", escape(str(error))))
    for name in ("status_code", "code", "request_id", "client_request_id", "retry_after"):
        value = getattr(error, name, None)
        if value is not None:
            pairs.append((name.replace("_", " "), escape(str(value))))
    pairs.append(("transient", "yes: trying again later may succeed" if error.is_transient else "no"))
    return _rows(pairs)


def pretty_lines(value: Any) -> list[str]:
    """Return the lines IPython's pretty printer shows (``_repr_pretty_``)."""
    from ._types import OfferStatus, Operation  # noqa: PLC0415 - avoids an import cycle

    if isinstance(value, (Operation, OfferStatus)):
        head = (
            f"Operation {value.id}: {value.status}" if isinstance(value, Operation) else f"OfferStatus: {value.status}"
        )
        lines = [head]
        for message in value.messages:
            lines.append(f"  {message.level or '-'}: {message.text}")
        for step in value.steps:
            progress = "" if step.progress is None else f" {step.progress:.0f}%"
            lines.append(f"  - {step.name or step.id or '?'}: {step.status or '?'}{progress}")
            lines.extend(f"      {m.level or '-'}: {m.text}" for m in step.messages)
        return lines
    return [repr(value)]


def progress_reporter(
    chained: Optional[Callable[[Any], object]], stream: Optional[TextIO] = None
) -> Callable[[Any], object]:
    """Make an ``on_progress`` that shows each state.

    In a notebook an updating display, else one line on stderr (rewritten in place on a
    terminal). ``chained`` is called too.
    """
    show = _notebook_display() or _line_display(stream or sys.stderr)

    def report(state: State) -> object:
        show(state)
        return chained(state) if chained is not None else None

    return report


def _notebook_display() -> Optional[Callable[[State], None]]:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is None or type(shell).__name__ != "ZMQInteractiveShell":
        return None
    ipython_display: Any = importlib.import_module("IPython.display")  # only in a notebook
    html, display = ipython_display.HTML, ipython_display.display

    handle: list[Any] = []

    def show(state: State) -> None:
        content = html(state._repr_html_())
        if handle:
            handle[0].update(content)
        else:
            handle.append(display(content, display_id=True))

    return show


def _line(operation: Operation) -> str:
    current = next((s for s in operation.steps if _phase(s.status or "") != "succeeded"), None)
    step = "" if current is None else f" - {current.name or current.id}: {current.status}"
    if current is not None and current.progress is not None:
        step += f" {current.progress:.0f}%"
    return f"{operation.id}: {operation.status}{step}"


def _line_display(stream: TextIO) -> Callable[[State], None]:
    in_place = stream.isatty()

    def show(state: State) -> None:
        from ._types import Operation  # noqa: PLC0415 - avoids an import cycle

        line = _line(state) if isinstance(state, Operation) else state._progress_line()
        stream.write(f"\r{line:<100}" if in_place else line + "\n")
        if in_place and state.is_terminal:
            stream.write("\n")
        stream.flush()

    return show
