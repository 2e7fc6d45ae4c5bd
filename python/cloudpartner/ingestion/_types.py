"""Products, submissions, plans and their VM image versions, as the Product Ingestion API answers them.

Jobs are in ``_jobs.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# At run time too, so that typing.get_type_hints (pydantic, cattrs) resolves the fields.
from datetime import datetime
from typing import Any, Optional, Union

__all__ = ["ImageVersion", "Plan", "Product", "Submission", "TechnicalConfiguration", "VmImage"]

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


@dataclass(frozen=True)
class Plan:
    """A plan of a product.

    Attributes:
        id: its durable id, ``plan/<product-guid>/<plan-guid>``.
        external_id: the plan id the publisher chose (a CPP offer's ``planId``).
        alias: its name in Partner Center.
        raw: the whole JSON object.

    """

    id: str
    external_id: Optional[str] = None
    alias: Optional[str] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class VmImage:
    """One image of a VM image version: its type and where it comes from.

    Attributes:
        image_type: ``x64Gen1``, ``x64Gen2`` or ``arm64Gen2``.
        source_type: ``sasUri`` or ``sharedImageGallery`` (as sent).
        uri: the OS disk's SAS URI, its signature masked (``sig=***``); the whole URI is in the
            version's ``raw``.
        resource_id: the gallery image version's resource id.

    """

    image_type: str
    source_type: Optional[str] = None
    uri: Optional[str] = None
    resource_id: Optional[str] = None


@dataclass(frozen=True)
class ImageVersion:
    """One entry of a technical configuration's ``vmImageVersions``.

    Attributes:
        number: ``versionNumber``, ``N.N.N``.
        images: its images, one per image type.
        lifecycle_state: ``generallyAvailable``, ``deprecated``, ...
        deprecation: ``deprecationSchedule`` as sent (``date``, ``reason``, ``alternative``), or None.
        raw: the whole JSON object, as sent (SAS signatures included: not shown in the repr).

    """

    number: str
    images: tuple[VmImage, ...] = ()
    lifecycle_state: Optional[str] = None
    deprecation: Optional[dict[str, Any]] = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class TechnicalConfiguration:
    """A VM plan's technical configuration: its image versions and SKUs.

    Attributes:
        id: its durable id, ``virtual-machine-plan-technical-configuration/<product-guid>/<plan-guid>``.
        product: the product's durable id.
        plan: the plan's durable id.
        image_versions: every version, in the order sent (deprecated ones included).
        skus: ``skus`` as sent (their ids lock once the plan is live).
        raw: the whole resource, ``$schema`` included.

    """

    id: str
    product: Optional[str]
    plan: str
    image_versions: tuple[ImageVersion, ...] = ()
    skus: tuple[dict[str, Any], ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def version(self, number: str) -> Optional[ImageVersion]:
        """Return the version numbered ``number``, or None."""
        return next((v for v in self.image_versions if v.number == number), None)
