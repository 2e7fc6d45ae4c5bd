"""The service's documents as cloudpartner returns them: operations, offers, offer status.

Apart from what a cancel, publish or go-live returns (``_results``): a call that starts an
operation does not pay for creating these dataclasses (about half a millisecond each).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# At run time too, so that typing.get_type_hints (pydantic, cattrs) resolves the fields.
from datetime import datetime
from typing import Any, Optional

from ._core import READ_ONLY_OFFER_KEYS, status_phase

__all__ = ["READ_ONLY_OFFER_KEYS", "Offer", "OfferStatus", "Operation", "OperationStep", "StepMessage"]

# READ_ONLY_OFFER_KEYS: keys of an offer's `definition.offer` that GET returns but the service
# refuses back in a PUT; the core holds the list (cpp::offer), for for_put and for the edits of
# add_image_version and deprecate_image_version alike.


def __getattr__(name: str) -> object:
    # CancelResult and ActionResult lived here in 0.1.0: what was pickled then still loads.
    if name in ("ActionResult", "CancelResult"):
        from . import _results  # noqa: PLC0415

        return getattr(_results, name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


@dataclass(frozen=True)
class Offer:
    """An offer's definition, as ``get_offer`` or ``put_offer`` returned it.

    Attributes:
        publisher: the publisher id.
        offer: the offer id.
        etag: the service's ``ETag`` for this version: pass the ``Offer`` (or this) as
            ``put_offer(..., if_match=...)`` to update it only if nobody changed it since.
        definition: the whole offer document as a dict (integers exact, up to 640 digits).
        slot: the slot it was read from (``draft``, ``preview``, ``production``), or None.
        version: the version it was read at, or None.
        request_id: the service's request id header, when present.

    """

    publisher: str
    offer: str
    etag: Optional[str]
    definition: dict[str, Any] = field(compare=False, repr=False)
    slot: Optional[str] = None
    version: Optional[int] = None
    request_id: Optional[str] = field(default=None, compare=False)

    def for_put(self) -> dict[str, Any]:
        """Return a copy of ``definition`` fit to put back: without the keys GET returns but PUT refuses.

        Those are ``READ_ONLY_OFFER_KEYS`` in ``definition["definition"]["offer"]`` (the legacy
        offer and publisher ids of a migrated VM offer). ``definition`` itself is left as it is,
        and ``put_offer`` sends exactly the document it is given: this is the one place a key is
        dropped, and only when you ask.
        """
        import copy  # noqa: PLC0415 - only for an update

        document = copy.deepcopy(self.definition)
        inner = document.get("definition")
        offer = inner.get("offer") if isinstance(inner, dict) else None
        if isinstance(offer, dict):
            for key in READ_ONLY_OFFER_KEYS:
                offer.pop(key, None)
        return document


@dataclass(frozen=True)
class StepMessage:
    """A message the service attached to a step or an operation.

    Attributes:
        level: ``information``, ``warning`` or ``error``, as sent.
        text: ``messageHtml`` as plain text (tags removed, entities decoded; ``raw`` keeps the HTML).
        timestamp: when it was written, timezone-aware.

    """

    level: Optional[str]
    text: str
    timestamp: Optional[datetime] = None


@dataclass(frozen=True)
class OperationStep:
    """One step of an operation, e.g. ``Certification`` at 45 %.

    Attributes:
        name: ``stepName``.
        status: as sent (``notStarted``, ``inProgress``, ``complete``, ``waitingForPublisherReview``, ...).
        progress: ``progressPercentage``, 0 to 100.
        id: the step's ``id`` (``displaycertify``, ``publisher-signoff``, ...).
        description: what the step does.
        estimated_time_frame: ``estimatedTimeFrame`` as worded (``< 15 min``, ``~2-3 days``).
        messages: the step's messages, oldest first as sent.

    """

    name: Optional[str]
    status: Optional[str]
    progress: Optional[float] = None
    id: Optional[str] = None
    description: Optional[str] = None
    estimated_time_frame: Optional[str] = None
    messages: tuple[StepMessage, ...] = ()


@dataclass(frozen=True)
class Operation:
    """An operation on an offer (a publish, or the cancel of one), as the service reported it.

    Attributes:
        id: a GUID, or ``publisher$offer$N$slot`` for non-migrated offers.
        status: as the service spelled it (``running``, ``canceled``, ``completed``, ...).
        publisher: ``publisherId``, when given.
        offer: ``offerId``, when given.
        submission_type: ``submissionType``, e.g. ``Publish``.
        created: ``createdDateTime``, timezone-aware.
        changed: ``lastActionDateTime`` (or ``changedTime``), timezone-aware.
        steps: the steps with their status, progress percentage and messages.
        messages: the operation's own messages.
        cancellation_state: ``cancellationRequestState`` (``canCancel``, ...), when given.
        waiting_for_review: True when the operation or a step (``publisher-signoff``) is
            ``waitingForPublisherReview``: the publish waits for the publisher to approve the
            preview, and going live is next.
        raw: the whole JSON object; integers stay exact (up to 640 digits).

    """

    id: str
    status: str
    publisher: Optional[str] = None
    offer: Optional[str] = None
    submission_type: Optional[str] = None
    created: Optional[datetime] = None
    changed: Optional[datetime] = None
    steps: tuple[OperationStep, ...] = ()
    messages: tuple[StepMessage, ...] = ()
    cancellation_state: Optional[str] = None
    waiting_for_review: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def phase(self) -> str:
        """``pending``, ``succeeded``, ``failed`` or ``canceled`` (unknown statuses are pending)."""
        return status_phase(self.status)

    @property
    def is_terminal(self) -> bool:
        """True once the operation has ended, however it ended."""
        return self.phase != "pending"

    @property
    def succeeded(self) -> bool:
        """``complete``, ``completed`` or ``succeeded``, in any case."""
        return self.phase == "succeeded"

    @property
    def failed(self) -> bool:
        """``failed``, in any case."""
        return self.phase == "failed"

    @property
    def canceled(self) -> bool:
        """``canceled`` or ``cancelled``, in any case."""
        return self.phase == "canceled"

    def _repr_html_(self) -> str:
        from ._html import escape, rows  # noqa: PLC0415 - loaded only when displayed

        pairs = [
            ("operation", escape(self.id)),
            ("status", _status_html(self.status)),
            ("type", escape(self.submission_type or "-")),
            ("changed", escape(self.changed.isoformat(timespec="seconds") if self.changed else "-")),
        ]
        if self.waiting_for_review:
            pairs.append(("next", "waits for the publisher's review: check the preview, then go live"))
        return rows(pairs) + _messages_html(self.messages) + _steps_html(self.steps)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _pretty(printer, f"Operation {self.id}: {self.status}", self.messages, self.steps)

    def _progress_line(self) -> str:
        """One line for ``wait(..., progress=True)``: the status and the first step not yet done."""
        current = next((s for s in self.steps if status_phase(s.status or "") != "succeeded"), None)
        step = "" if current is None else f" - {current.name or current.id}: {current.status}"
        if current is not None and current.progress is not None:
            step += f" {current.progress:.0f}%"
        return f"{self.id}: {self.status}{step}"


@dataclass(frozen=True)
class OfferStatus:
    """An offer's status (``GET .../status``): where its latest publish or go-live stands.

    Attributes:
        status: as the service spelled it: ``neverPublished``, ``notStarted``,
            ``waitingForPublisherReview``, ``running``, ``succeeded``, ``canceled``, ``failed``.
        steps: the steps with their status, progress and messages.
        messages: the offer's own messages.
        waiting_for_review: True when the offer or a step waits for the publisher's approval.
        raw: the whole JSON object.

    """

    status: str
    steps: tuple[OperationStep, ...] = ()
    messages: tuple[StepMessage, ...] = ()
    waiting_for_review: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def _repr_html_(self) -> str:
        from ._html import rows  # noqa: PLC0415 - loaded only when displayed

        return (
            rows([("offer status", _status_html(self.status))])
            + _messages_html(self.messages)
            + _steps_html(self.steps)
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        _pretty(printer, f"OfferStatus: {self.status}", self.messages, self.steps)


# -- how an operation or a status shows: plain data into _html's helpers, or lines for IPython ----


def _status_html(status: Optional[str]) -> str:
    from ._html import badge  # noqa: PLC0415 - loaded only when displayed

    text = status or "?"
    return badge(text, status_phase(text))


def _messages_html(messages: tuple[StepMessage, ...]) -> str:
    from ._html import messages as lines  # noqa: PLC0415 - loaded only when displayed

    return lines((m.level, m.text) for m in messages)


def _steps_html(steps: tuple[OperationStep, ...]) -> str:
    from ._html import steps as table  # noqa: PLC0415 - loaded only when displayed

    return table(
        (
            step.name or step.id or "?",
            _status_html(step.status),
            step.progress,
            ((m.level, m.text) for m in step.messages),
        )
        for step in steps
    )


def _pretty(printer: Any, head: str, messages: tuple[StepMessage, ...], steps: tuple[OperationStep, ...]) -> None:
    """IPython's pretty printer (``_repr_pretty_``): the head, the messages, each step and its messages."""
    lines = [head]
    lines.extend(f"  {message.level or '-'}: {message.text}" for message in messages)
    for step in steps:
        progress = "" if step.progress is None else f" {step.progress:.0f}%"
        lines.append(f"  - {step.name or step.id or '?'}: {step.status or '?'}{progress}")
        lines.extend(f"      {m.level or '-'}: {m.text}" for m in step.messages)
    for number, line in enumerate(lines):
        if number:
            printer.break_()
        printer.text(line)
