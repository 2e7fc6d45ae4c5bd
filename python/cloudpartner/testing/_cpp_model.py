"""The Cloud Partner Portal's model: offers and their publish and go-live operations.

An operation's state is computed from timestamps (no timers): ``Operation.to_json`` answers a
GET of it in the shape the "Retrieve operations" page documents. ``_cpp.py`` holds the routes.
Where public clients saw the service answer otherwise than the pages (``tests/reference/observed``),
the observed shape wins: offer list items carry the undocumented keys and zoneless millisecond
times seen there, and a publisher entity is what ``GET /api/publishers`` answered in a capture.
"""

from __future__ import annotations

import time
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from ._base import timestamp as _timestamp

BIG = 2**53  # operation versions are odd numbers above this: no double holds them exactly
# The steps of a publish as the "Retrieve operations" page lists them: id, stepName, description,
# estimatedTimeFrame.
STEPS = (
    ("displaydummycertify", "Validate Pre-Requisites", "Offer settings provided are validated.", "< 15 min"),
    (
        "displaycertify",
        "Certification",
        "Your offer is analyzed by our certification systems for issues.",
        "< 5 day",
    ),
    (
        "displayprovision",
        "Provisioning",
        "Your virtual machine is being replicated in our production systems.",
        "< 1 day",
    ),
    (
        "displaypackage",
        "Packaging and Lead Generation Registration",
        "Your virtual machine is packaged for being shown to your customers.",
        "< 1 hour",
    ),
    (
        "publisher-signoff",
        "Publisher signoff",
        "Offer is available to preview. Ensure that everything looks good before making your offer live.",
        None,
    ),
    ("live", "Live", "Offer is publicly visible and is available for purchase.", "~2-5 days"),
)
WORK_STEPS = 4  # the steps before publisher-signoff
REVIEW = "waitingForPublisherReview"
DEFAULT_OFFER_TYPE = "microsoft-azure-virtualmachines"
# Where Partner Center shows a migrated offer (the observed list's pcRedirectUri links, by product GUID).
REDIRECT = "https://partner.microsoft.com/en-us/dashboard/commercial-marketplace/offers/{guid}/overview"
# Where a plan keeps its VM image versions, keyed by version: the key azure-img-utils 1.x writes by
# default and Debian's cloud-images tooling reads (debian-cloud-images, upload_azure_cloudpartner.py).
VM_IMAGES = "microsoft-azure-corevm.vmImagesPublicAzure"
# The plans of an offer seeded without a list of plans: several, as real VM offers have.
DEFAULT_PLANS = ("gen2", "gen1", "arm64")
# Each seeded plan's versions, oldest first; the oldest is hidden (showInGui false: deprecated).
SEEDED_VERSIONS = ("2024.01.15", "2024.04.15", "2024.07.15")


def zoneless_time(seconds: float) -> str:
    """UTC, three fraction digits and no zone designator, as the offers list was seen to write ``changedTime``."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 1000):03d}"


def publisher_entity(publisher: str, offer_types: list[str]) -> dict[str, Any]:
    """One item of ``GET /api/publishers``, in the captured shape (devigned/pub's README dump).

    The capture was anonymised (``"someCategory"``, seller 1234456), so ``offerTypeCategories``
    (here: the offer types of the publisher's offers) and ``sellerId`` (a stable number derived
    from the id) are guesses at the values; the keys and types are as captured.
    """
    seller = 1_000_000 + zlib.crc32(publisher.encode()) % 9_000_000
    definition = {"displayText": publisher, "offerTypeCategories": sorted(set(offer_types)), "sellerId": seller}
    return {"version": 0, "id": publisher, "definition": definition}


def seeded_plan(offer: str, plan: str) -> dict[str, Any]:
    """Make a VM plan as the service returns it: its versions under ``VM_IMAGES``, the oldest hidden.

    Each version has the keys azure-img-utils 1.x writes (osVhdUrl with a SAS, lunVhdDetails,
    label, mediaName, publishedDate, description, showInGui); ``diskGenerations`` is there
    (empty), as azure-img-utils' and Debian's tooling read it from every plan.
    """
    versions = {}
    for index, version in enumerate(SEEDED_VERSIONS):
        year, month, day = version.split(".")
        name = f"{offer}-{plan}-v{year}{month}{day}"
        versions[version] = {
            "osVhdUrl": (
                f"https://contosoimages.blob.core.windows.net/vhds/{name}.vhd"
                f"?sv=2021-08-06&sr=b&st={year}-{month}-{day}T00%3A00%3A00Z&se=2030-01-01T00%3A00%3A00Z&sp=rl"
                f"&sig=seeded{index}%3D"
            ),
            "lunVhdDetails": [],
            "label": f"{offer} {plan}",
            "mediaName": name,
            "publishedDate": f"{month}/{day}/{year}",
            "description": f"{offer} {plan} image {version}",
            "showInGui": index > 0,
        }
    return {
        "planId": plan,
        "microsoft-azure-virtualmachines.skuTitle": f"{offer} {plan}",
        "microsoft-azure-virtualmachines.skuSummary": f"{offer}, plan {plan}.",
        "microsoft-azure-virtualmachines.operatingSystemFamily": "Linux",
        "microsoft-azure-virtualmachines.cloudAvailability": ["PublicAzure"],
        "regions": ["US", "DE", "JP"],
        VM_IMAGES: versions,
        "diskGenerations": [],
    }


@dataclass
class Operation:
    """A publish or a go-live; its state is computed from timestamps, so no timer is needed.

    A publish's first four steps take ``step_seconds`` each; then its ``publisher-signoff`` step
    waits for the publisher's review until a go-live (its own operation) takes it live over
    ``step_seconds`` more. ``step_seconds=None`` (``add_offer``'s publish) stays in certification
    until cancelled.
    """

    id: str
    publisher: str
    offer: str
    offer_guid: str
    number: int
    created: float
    kind: str = "publish"
    step_seconds: float | None = None
    offer_type: str = DEFAULT_OFFER_TYPE
    cancel_requested: float | None = None
    cancel_done: float | None = None
    emails: str | None = None
    live_started: float | None = None  # a publish: when the go-live began; a go-live: created

    def canceled(self, now: float) -> bool:
        return self.cancel_done is not None and now >= self.cancel_done

    def _live_done(self, now: float) -> bool:
        d = self.step_seconds or 0.0
        return self.live_started is not None and now >= self.live_started + d and not self.cancel_requested

    def waiting_for_review(self, now: float) -> bool:
        if self.kind != "publish" or self.step_seconds is None or self.cancel_requested is not None:
            return False
        return self.live_started is None and now >= self.created + WORK_STEPS * self.step_seconds

    def status(self, now: float) -> str:
        if self.canceled(now):
            return "canceled"
        return "succeeded" if self._live_done(now) else "running"

    def busy(self, now: float) -> bool:
        """Tell whether it runs and does not merely wait for review: then a new publish or go-live is refused."""
        return self.status(now) == "running" and not self.waiting_for_review(now)

    def _progress(self, now: float) -> int:
        """Certification progress: 40 %, then advancing towards 99 % while the cancel runs."""
        start, end = self.cancel_requested, self.cancel_done
        if start is None or end is None or end <= start:
            return 40
        return 40 + int(59 * min(1.0, (now - start) / (end - start)))

    def _changed(self, now: float) -> float:
        if self.canceled(now) and self.cancel_done is not None:
            return self.cancel_done
        return max(t for t in (self.created, self.cancel_requested, self.live_started) if t is not None)

    def _states(self, now: float) -> list[tuple[str, int]]:
        """(status, progress) of each step."""
        if self.kind == "golive" or self.step_seconds is None:
            if self.kind == "golive":
                live = ("complete", 100) if self._live_done(now) else ("inProgress", 50)
                states = [("complete", 100)] * (len(STEPS) - 1) + [live]
            else:  # add_offer's publish: stuck in certification
                states = [("complete", 100), ("inProgress", self._progress(now))]
                states += [("notStarted", 0)] * (len(STEPS) - 2)
        else:
            d = self.step_seconds
            at = now if self.cancel_requested is None else min(now, self.cancel_requested)
            elapsed = at - self.created
            states = []
            for index in range(WORK_STEPS):
                done = min(1.0, max(0.0, (elapsed - index * d) / d)) if d > 0 else 1.0
                states.append(
                    ("complete", 100) if done >= 1 else ("inProgress" if done > 0 else "notStarted", int(done * 100))
                )
            if self.live_started is not None:
                live = ("complete", 100) if self._live_done(now) else ("inProgress", 50)
                states += [("complete", 100), live]
            elif self.waiting_for_review(now):
                states += [(REVIEW, 0), ("notStarted", 0)]
            else:
                states += [("notStarted", 0), ("notStarted", 0)]
        if self.canceled(now):  # the step under way and those after it were cancelled
            states = [(("canceled", p) if status != "complete" else (status, p)) for status, p in states]
        return states

    def _steps(self, now: float) -> list[dict[str, Any]]:
        done = [{"messageHtml": "Step completed.", "level": "information", "timestamp": _timestamp(self.created)}]
        steps = []
        for (step_id, name, description, estimate), (status, progress) in zip(STEPS, self._states(now)):
            step: dict[str, Any] = {
                "id": step_id,
                "stepName": name,
                "description": description,
                "status": status,
                "messages": done if status == "complete" else [],
                "progressPercentage": progress,
            }
            if estimate is not None:  # the page's publisher-signoff step has none
                step["estimatedTimeFrame"] = estimate
            steps.append(step)
        return steps

    def to_json(self, now: float) -> dict[str, Any]:
        """Answer a GET of this operation, with the keys the "Retrieve operations" page shows."""
        return {
            "id": self.id,
            "status": self.status(now),
            "messages": [],
            "publishingVersion": self.number + 1,
            "offerVersion": self.number,
            "cancellationRequestState": "canCancel" if self.cancel_requested is None else "Requested",
            "submissionType": self.kind,
            "createdDateTime": _timestamp(self.created),
            "lastActionDateTime": _timestamp(self._changed(now)),
            "steps": self._steps(now),
            "previewLinks": [],
            "liveLinks": [],
            "notificationEmails": self.emails,
            "publisherId": self.publisher,
            "offerId": self.offer,
            "slot": "production" if self.kind == "golive" else "preview",
            "version": BIG + 2 * self.number - 1,
        }

    def to_list_item(self, now: float) -> dict[str, Any]:
        """Describe it as a list item, as the page shows them (``submissionState``, no ``status``)."""
        return {
            "id": self.id,
            "offerId": self.offer_guid,
            "offerVersion": self.number,
            "offerTypeId": self.offer_type,
            "publisherId": self.publisher,
            "submissionType": self.kind,
            "submissionState": self.status(now),
            "publishingVersion": self.number + 1,
            "slot": "staging",
            "version": BIG + 2 * self.number - 1,
            "definition": {"metadata": {"emails": self.emails or ""}},
            "changedTime": _timestamp(self._changed(now)),
        }


@dataclass
class Offer:
    """An offer: its operations, and its definition in each slot.

    ``drafts`` keeps every version (the last is the draft); each PUT adds one and changes the ETag.
    ``offer_type`` is the type a definition without ``offerTypeId`` has. ``migrated``: the offer
    was moved to Partner Center (every offer is, since 2020); False: one the CPP API still holds
    itself (``pcMigrationStatus: "none"``, operations named ``publisher$offer$N$slot``).
    """

    publisher: str
    offer: str
    offer_type: str = DEFAULT_OFFER_TYPE
    migrated: bool = True
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    operations: list[Operation] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    changed: float = field(default_factory=time.time)
    preview: dict[str, Any] | None = None
    production: dict[str, Any] | None = None

    @property
    def etag(self) -> str:
        """An ETag in the service's shape: a weak validator over the last change's time."""
        return f"W/\"datetime'{_timestamp(self.changed).replace(':', '%3A')}'-{len(self.drafts)}\""

    def type_of(self, definition: dict[str, Any]) -> str:
        """Name the offer type of a stored definition: its ``offerTypeId``, else the offer's."""
        stated = definition.get("offerTypeId")
        return stated if isinstance(stated, str) and stated else self.offer_type

    def document(self, definition: dict[str, Any], status: str) -> dict[str, Any]:
        """Wrap a stored definition as ``GET .../offers/{offer}`` answers it.

        With the keys a migrated offer was seen to carry (``pcMigrationStatus``, an empty
        ``pcRedirectUri``, ``isvUpgradeRequest``: tests/reference/observed/get-offer-200-migrated),
        in that answer's order. An offer not migrated has ``pcMigrationStatus: "none"`` and
        ``isvUpgradeRequest`` only (devigned/pub, pkg/partner/offer_test.go: a 2019 VM offer).
        """
        document: dict[str, Any] = {
            "offerTypeId": self.type_of(definition),
            "publisherId": self.publisher,
            "status": status,
            "pcMigrationStatus": "migrated" if self.migrated else "none",
        }
        if self.migrated:
            document["pcRedirectUri"] = ""
        document["isvUpgradeRequest"] = False
        document.update(
            {
                "version": len(self.drafts),
                "id": self.offer,
                "definition": definition.get("definition", {}),
                "changedTime": _timestamp(self.changed),
            }
        )
        return document

    def summary(self, status: str) -> dict[str, Any]:
        """Describe the offer as an item of ``GET .../offers``: the documented keys and those seen in the wild.

        As tests/reference/observed/list-offers-filter-extra-keys-zoneless-time shows them: ``id``
        is the offer id (the page's sample shows a GUID; the observed list, with real Partner
        Center links, the offer id), the undocumented ``lockStatus`` ... ``offerTypeVersionsOverride``,
        and ``changedTime`` in UTC with three fraction digits and no zone designator.
        """
        definition = self.drafts[-1] if self.drafts else {}
        inner = definition.get("definition")
        display = inner.get("displayText", self.offer) if isinstance(inner, dict) else self.offer
        summary: dict[str, Any] = {
            "offerTypeId": self.type_of(definition),
            "publisherId": self.publisher,
            "status": status,
            "lockStatus": "none",
            "pcMigrationStatus": "migrated" if self.migrated else "none",
        }
        if self.migrated:  # an offer not migrated has no Partner Center page (nor the key, as its document)
            summary["pcRedirectUri"] = REDIRECT.format(guid=self.guid)
        summary.update(
            {
                "isvUpgradeRequest": False,
                "offerTypeChanges": [],
                "pricingNotRecalculatedRegions": [],
                "offerTypeVersionsOverride": {},
                "version": len(self.drafts),
                "id": self.offer,
                "definition": {"displayText": display},
                "changedTime": zoneless_time(self.changed),
            }
        )
        return summary

    def latest(self) -> Operation | None:
        return self.operations[-1] if self.operations else None
