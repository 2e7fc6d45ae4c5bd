"""What the Product Ingestion API's calls return: jobs, their errors, products, submissions."""

from __future__ import annotations

from dataclasses import dataclass, field

# At run time too, so that typing.get_type_hints (pydantic, cattrs) resolves the fields.
from datetime import datetime
from typing import Any, Optional, Union

from .._core import job_phase

__all__ = ["Job", "JobError", "Product", "Submission"]

Moment = Union[datetime, str, None]


@dataclass(frozen=True)
class JobError:
    """One error of a job's work, as the job carries it (``errors`` of a status answer).

    Attributes:
        code: e.g. ``conflict``, ``invalidState``, ``schemaValidationError`` (case as sent).
        message: what went wrong, as the service worded it.
        resource_id: the durable id of the resource it is about, when named.
        details: the errors under this one (``details``), in the same shape.

    """

    code: Optional[str]
    message: Optional[str]
    resource_id: Optional[str] = None
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
        raw: the whole JSON object.

    """

    id: str
    status: str
    result: str = ""
    started: Moment = None
    ended: Moment = None
    errors: tuple[JobError, ...] = ()
    resource_uri: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

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
        from .._display import job_html  # noqa: PLC0415 - loaded only when displayed

        return job_html(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self._progress_line())
        for error in self.errors:
            printer.break_()
            printer.text(f"  {error.code or '-'}: {error.message or ''}")


@dataclass(frozen=True)
class Product:
    """A product (an offer) of Partner Center.

    Attributes:
        id: its durable id, ``product/<guid>``.
        external_id: the id the publisher chose (the offer id, as the CPP API names it).
        type: e.g. ``azureVirtualMachine``, ``softwareAsAService``.
        alias: its name in Partner Center.
        raw: the whole JSON object.

    """

    id: str
    external_id: Optional[str] = None
    type: Optional[str] = None
    alias: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def guid(self) -> str:
        """The durable id without its ``product/`` prefix."""
        return self.id.removeprefix("product/")


@dataclass(frozen=True)
class Submission:
    """A submission of a product: the draft reference, or a publish to preview or live.

    Attributes:
        id: ``submission/<product-guid>/<n>`` (``/0`` is the draft); empty when the service
            listed an entry without one (a live submission still running has been seen so).
        product: the product's durable id.
        target: ``draft``, ``preview`` or ``live``.
        status: ``notStarted``, ``running`` or ``completed``: anything but completed means a
            publish is under way.
        result: ``pending``, ``succeeded`` or ``failed``.
        created: when it was created, timezone-aware (or its text).
        lifecycle_state: ``generallyAvailable``, ``deprecated``, ...
        raw: the whole JSON object.

    """

    id: str
    product: Optional[str] = None
    target: Optional[str] = None
    status: Optional[str] = None
    result: Optional[str] = None
    created: Moment = None
    lifecycle_state: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
