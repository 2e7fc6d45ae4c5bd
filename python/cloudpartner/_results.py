"""What a cancel, a publish or a go-live returns: the answer, and the operation to follow."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from dataclasses import dataclass
else:
    # dataclass(frozen=True) without importing dataclasses, which costs a fresh process 7-15 ms
    # (inspect, re): these are what a one-shot cancel returns. See _record.py.
    from ._record import frozen_record as dataclass

__all__ = ["ActionResult", "CancelResult"]

# Fields are annotated `str | None`, not `Optional[str]`: typing.get_type_hints (pydantic, cattrs)
# resolves that without `typing` imported (on Python 3.10 and later).


@dataclass(frozen=True)
class CancelResult:
    """What the service said to a cancel.

    Attributes:
        publisher: the publisher id the cancel was sent for.
        offer: the offer id.
        status_code: 200 (cancelled synchronously) or 202 (accepted; the cancel runs on).
        operation_location: absolute URL of the operation to poll, when the service gave one.
        operation_id: its last path segment: a GUID, or ``publisher$offer$N$slot``.
        request_id: the service's request id header, when present (quote it to support).
        client_request_id: the ``x-ms-client-request-id`` this call sent.

    """

    publisher: str
    offer: str
    status_code: int
    operation_location: str | None = None
    operation_id: str | None = None
    request_id: str | None = None
    client_request_id: str | None = None

    @property
    def completed(self) -> bool:
        """True when the cancel finished synchronously (any 2xx but 202)."""
        return self.status_code != 202

    def _repr_html_(self) -> str:
        return _result_html(self, "cancel")


@dataclass(frozen=True)
class ActionResult:
    """What the service said to a publish or a go-live: the operation it started.

    Attributes:
        publisher: the publisher id.
        offer: the offer id.
        action: ``"publish"`` or ``"golive"``.
        status_code: 202 (accepted; the operation runs on).
        operation_location: absolute URL of the operation to follow (``wait`` takes this result).
        operation_id: its last path segment.
        request_id: the service's request id header, when present (quote it to support).
        client_request_id: the ``x-ms-client-request-id`` this call sent.

    """

    publisher: str
    offer: str
    action: str
    status_code: int
    operation_location: str | None = None
    operation_id: str | None = None
    request_id: str | None = None
    client_request_id: str | None = None

    def _repr_html_(self) -> str:
        return _result_html(self, self.action)


def _result_html(result: CancelResult | ActionResult, action: str) -> str:
    """Show a cancel, publish or go-live answer as a small table."""
    from ._html import escape, rows  # noqa: PLC0415 - loaded only when displayed

    location = result.operation_location
    return f"<b>{escape(type(result).__name__)}</b> ({escape(action)} of {escape(result.publisher)}/" + (
        f"{escape(result.offer)})"
        + rows(
            [
                ("status", f"HTTP {result.status_code}"),
                ("operation", escape(result.operation_id or "-")),
                ("location", escape(location) if location else "-"),
                ("request id", escape(result.request_id or "-")),
                ("client request id", escape(result.client_request_id or "-")),
            ]
        )
    )
