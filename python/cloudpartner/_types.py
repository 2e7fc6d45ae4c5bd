"""The values cloudpartner returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["CancelResult"]


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
    operation_location: Optional[str] = None
    operation_id: Optional[str] = None
    request_id: Optional[str] = None
    client_request_id: Optional[str] = None

    @property
    def completed(self) -> bool:
        """True when the cancel finished synchronously (any 2xx but 202)."""
        return self.status_code != 202
