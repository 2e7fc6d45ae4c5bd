"""The live progress of ``wait(..., progress=True)`` and ``wait_job(..., progress=True)``.

In a notebook an updating HTML display (each state's own ``_repr_html_``), else one line per state
on a stream (each state's own ``_progress_line``). It knows no type, only those two methods, so
the types never depend on it. Loaded only when progress is asked for.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Optional, Protocol, TextIO


class State(Protocol):
    """What a progress display shows: an ``Operation`` or an ingestion ``Job``."""

    @property
    def is_terminal(self) -> bool: ...

    def _repr_html_(self) -> str: ...

    def _progress_line(self) -> str: ...


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


def _line_display(stream: TextIO) -> Callable[[State], None]:
    in_place = stream.isatty()

    def show(state: State) -> None:
        line = state._progress_line()
        stream.write(f"\r{line:<100}" if in_place else line + "\n")
        if in_place and state.is_terminal:
            stream.write("\n")
        stream.flush()

    return show
