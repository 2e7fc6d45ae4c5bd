"""Products and submissions, as the Product Ingestion API lists them (jobs are in ``_jobs.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

# At run time too, so that typing.get_type_hints (pydantic, cattrs) resolves the fields.
from datetime import datetime
from typing import Any, Optional, Union

__all__ = ["Product", "Submission"]

Moment = Union[datetime, str, None]


@dataclass(frozen=True)
class Product:
    """A product (an offer) of Partner Center.

    Attributes:
        id: its durable id, ``product/<id>`` (a GUID in every product seen, but the service owns the format).
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
