"""What a configure, publish, status poll or cancel returns: the job, and the errors of its work.

Apart from products and submissions (``_types``): a one-shot ``cancel_job`` makes these without
importing ``dataclasses`` or ``typing`` (``_record.frozen_record``, as for ``CancelResult``).
"""

from __future__ import annotations

# At run time too, so that typing.get_type_hints (pydantic, cattrs) resolves the fields.
from datetime import datetime

from .._core import job_phase

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from dataclasses import dataclass
    from typing import Any
else:
    from .._record import frozen_record as dataclass

__all__ = ["Job", "JobError"]

# Fields are annotated `X | None`, not `Optional[X]`: typing.get_type_hints resolves that without
# `typing` imported (on Python 3.10 and later).


@dataclass(frozen=True)
class JobError:
    """One error of a job's work, as the job carries it (``errors`` of a status answer).

    Attributes:
        code: e.g. ``conflict``, ``invalidState``, ``schemaValidationError`` (case as sent).
        message: what went wrong, as the service worded it.
        resource_id: the durable id of the resource it is about, when named.
        details: the errors under this one (``details``), in the same shape.

    """

    code: str | None
    message: str | None
    resource_id: str | None = None
    details: tuple[JobError, ...] = ()


@dataclass(frozen=True)
class Job:
    """A configure job (edits, a publish, a go-live), as the service last reported it.

    Attributes:
        id: the job id ``configure`` answered; keep it: the API cannot list jobs.
        status: ``notStarted``, ``running`` or ``completed``, as sent.
        result: ``pending``, ``succeeded``, ``failed`` or ``cancelled``, as sent.
        started: ``jobStart``, timezone-aware (or its text, when it does not parse).
        ended: ``jobEnd``; None until the job ended (the service sends ``0001-01-01`` meanwhile).
        errors: what failed, when the work failed (inside a success answer, not as an HTTP error).
        resource_uri: ``resourceUri`` of a completed job, when sent.
        failure: for a failed job, what kind of failure its ``errors`` hold (nested ``details``
            included), as the core classifies it once for every call: ``"conflict"`` (another
            submission is in progress, or this one is not the latest: transient, try again once it
            ends), ``"certification"`` (the image failed certification: final) or ``"other"``;
            None for a job that did not fail.
        raw: the whole JSON object (not shown in the repr, not compared).

    """

    id: str
    status: str
    result: str = ""
    started: datetime | str | None = None
    ended: datetime | str | None = None
    errors: tuple[JobError, ...] = ()
    resource_uri: str | None = None
    failure: str | None = None
    raw: dict[str, object] | None = None  # not shown or compared (`__record_hidden__`)

    __record_hidden__ = ("raw",)

    @property
    def phase(self) -> str:
        """``pending``, ``succeeded``, ``failed``, ``cancelled``, or ``completed`` (an unknown result)."""
        return job_phase(self.status, self.result)

    @property
    def is_terminal(self) -> bool:
        """True once the job completed, however it ended."""
        return self.phase != "pending"

    @property
    def succeeded(self) -> bool:
        """Completed with ``jobResult`` ``succeeded``."""
        return self.phase == "succeeded"

    @property
    def failed(self) -> bool:
        """Completed with ``jobResult`` ``failed`` (``errors`` says why)."""
        return self.phase == "failed"

    @property
    def cancelled(self) -> bool:
        """Completed with ``jobResult`` ``cancelled`` (or ``canceled``)."""
        return self.phase == "cancelled"

    def _progress_line(self) -> str:
        return f"job {self.id}: {self.status}" + (f" ({self.result})" if self.result else "")

    def _repr_html_(self) -> str:
        from .._html import badge, escape, rows  # noqa: PLC0415 - loaded only when displayed

        phase = job_phase(self.status, self.result)
        status = badge(self.status or "?", {"cancelled": "canceled", "completed": "succeeded"}.get(phase, phase))
        pairs = [("job", escape(self.id)), ("status", status), ("result", escape(self.result or "-"))]
        pairs += [
            (name, escape(str(value))) for name, value in (("started", self.started), ("ended", self.ended)) if value
        ]
        pairs += [(f"error {e.code or ''}", escape(e.message or "")) for e in self.errors]
        return rows(pairs)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._progress_line())
        for error in self.errors:
            printer.break_()
            printer.text(f"  {error.code or '-'}: {error.message or ''}")
