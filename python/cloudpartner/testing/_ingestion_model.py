"""The Product Ingestion API's model: products, their draft resources, submissions and jobs.

Like the CPP model, every state is computed from timestamps (no timers): a configure job is
``notStarted`` for the first quarter of its duration, then ``running``, then ``completed``; its
resources are processed one by one, evenly over the running part, and ``Store.settle`` applies
those whose time has come (a cancel stops the ones not yet processed). A submission follows the
job that publishes it. ``_ingestion.py`` holds the routes and the checks.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from . import _ingestion_rules as rules
from ._base import seconds, timestamp

SCHEMA = "https://schema.mp.microsoft.com/schema"
VERSIONS = (  # the $version values in use, oldest first
    "2022-03-01-preview2",
    "2022-03-01-preview3",
    "2022-03-01-preview4",
    "2022-03-01-preview5",
    "2022-07-01",
    "2023-07-15",
)
DEPRECATED = frozenset({"2022-03-01-preview3"})  # refused, as the service refused it in 2024
LATEST = VERSIONS[-1]  # what a request without $version gets
NEVER = "0001-01-01T00:00:00"  # jobEnd until the job ends
TARGETS = ("draft", "preview", "live")
FIRST_SUBMISSION = 1152921504606846977  # 2**60 + 1: the service's numbers are that large (strings in ids)


def schema(kind: str, version: str) -> str:
    """Return a resource type's schema URI, e.g. ``https://schema.mp.microsoft.com/schema/product/2022-07-01``."""
    return f"{SCHEMA}/{kind}/{version}"


def kind_of(uri: object) -> str | None:
    """Return the resource type a ``$schema`` URI names (``.../schema/<kind>/<version>``), or None."""
    if not isinstance(uri, str):
        return None
    parts = [part for part in urlsplit(uri).path.split("/") if part]
    return parts[-2] if len(parts) >= 2 else None


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass
class Job:
    """A configure job: the resources it was given and when each one is processed.

    ``errors`` (found when it was posted) make it fail: it then processes nothing. ``late_errors``
    (a certification failure) show and make it fail only when it completes. ``submission`` is the
    submission it publishes (to ``target``), if any.
    """

    id: str
    created: float
    duration: float
    resources: list[tuple[str, dict[str, Any]]]  # (kind, resource without $schema), in order
    products: frozenset[str]  # the guids of the products it touches
    errors: list[dict[str, Any]] = field(default_factory=list)
    late_errors: list[dict[str, Any]] = field(default_factory=list)
    submission: Submission | None = None
    target: str | None = None  # "preview" or "live" for a publish
    cancelled: float | None = None
    applied: int = 0  # how many of ``resources`` were processed
    changed: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # what GET configure/<id> answers

    def end(self) -> float:
        return self.created + self.duration if self.cancelled is None else self.cancelled

    def status(self, now: float) -> str:
        if self.cancelled is not None or now >= self.created + self.duration:
            return "completed"
        return "notStarted" if now < self.created + self.duration / 4 else "running"

    def result(self, now: float) -> str:
        if self.status(now) != "completed":
            return "pending"
        if self.cancelled is not None:
            return "cancelled"
        return "failed" if self.errors or self.late_errors else "succeeded"

    def errors_at(self, now: float) -> list[dict[str, Any]]:
        """Return the job's ``errors`` as answered at ``now``: the late ones once it completed."""
        late = self.late_errors if self.status(now) == "completed" and self.cancelled is None else []
        return copy.deepcopy(self.errors + late)

    def due(self, index: int) -> float:
        """When resource ``index`` is processed: evenly over the running part, the last at the end."""
        queued = self.duration / 4
        return self.created + queued + (index + 1) * (self.duration - queued) / len(self.resources)

    def publishing(self, now: float) -> bool:
        """Tell whether it is a publish still under way: then its products are locked."""
        return self.target is not None and not self.errors and self.status(now) != "completed"

    def to_json(self, now: float, version: str, job_url: str) -> dict[str, Any]:
        done = self.status(now) == "completed"
        answer: dict[str, Any] = {
            "$schema": schema("configure-status", version),
            "jobId": self.id,
            "jobStatus": self.status(now),
            "jobResult": self.result(now),
            "jobStart": timestamp(self.created),
            "jobEnd": timestamp(self.end()) if done else NEVER,
            "errors": self.errors_at(now),
        }
        if done and self.cancelled is None:  # the page's cancel sample has none
            answer["resourceUri"] = job_url  # the service's points at its own host; ours at this portal
        return answer


@dataclass
class Submission:
    """A publish of a product: to preview by ``preview_job``, then perhaps live by ``live_job``."""

    product: str  # guid
    number: int
    preview_job: Job
    live_job: Job | None = None
    snapshot: dict[str, tuple[str, dict[str, Any]]] | None = None  # the resources it published

    @property
    def id(self) -> str:
        return f"submission/{self.product}/{self.number}"

    def entry(self, target: str, now: float, version: str) -> dict[str, Any] | None:
        """Return the ``GET submission`` item for its ``target`` phase; None when that phase was cancelled."""
        job = self.preview_job if target == "preview" else self.live_job
        if job is None or job.cancelled is not None:
            return None
        status = job.status(now)
        return {
            "$schema": schema("submission", version),
            "id": self.id,
            "product": f"product/{self.product}",
            "target": {"targetType": target},
            "lifecycleState": "generallyAvailable",
            "status": status,
            "result": job.result(now),
            "created": timestamp(job.created),
        }

    def succeeded(self, target: str, now: float) -> bool:
        job = self.preview_job if target == "preview" else self.live_job
        return job is not None and job.result(now) == "succeeded"


@dataclass
class Product:
    """A product: its draft resources by durable id (the product resource first), its submissions."""

    guid: str
    external_id: str
    publisher: str | None = None  # who sees it, with a token mapping (None: every token)
    resources: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"product/{self.guid}"

    def plan_id(self, external_id: str) -> str | None:
        for durable, (kind, body) in self.resources.items():
            if kind == "plan" and body.get("identity", {}).get("externalId") == external_id:
                return durable
        return None

    def add_plan(self, external_id: str, alias: str | None = None) -> str:
        durable = self.plan_id(external_id) or f"plan/{self.guid}/{new_guid()}"
        body = {
            "id": durable,
            "identity": {"externalId": external_id},
            "alias": alias or external_id,
            "azureRegions": ["azureGlobal"],
            "product": self.id,
        }
        self.resources[durable] = ("plan", body)
        if (
            self.resources.get(self.id, ("product", {}))[1].get("type") == "azureVirtualMachine"
        ):  # every VM plan has one (cloudpub reads it)
            config = technical_configuration(self.id, durable, external_id)
            self.resources.setdefault(config["id"], (TECH_CONFIG, config))
        return durable

    def published(self, target: str, now: float) -> Submission | None:
        """Return the submission whose ``target`` phase last succeeded (None when none did)."""
        done = [sub for sub in self.submissions if sub.succeeded(target, now)]
        return done[-1] if done else None

    def tree(self, target: str, now: float) -> dict[str, tuple[str, dict[str, Any]]] | None:
        """Return the resources of the draft, or of what is published to ``target`` (None: nothing is)."""
        if target == "draft":
            return self.resources
        submission = self.published(target, now)
        return None if submission is None else submission.snapshot

    def entries(self, now: float, version: str) -> list[dict[str, Any]]:
        """``GET submission/<guid>``'s items: the draft, the latest preview, the live ones."""
        draft = {
            "$schema": schema("submission", version),
            "id": f"submission/{self.guid}/0",
            "product": self.id,
            "target": {"targetType": "draft"},
            "lifecycleState": "generallyAvailable",
        }
        previews = [e for sub in self.submissions if (e := sub.entry("preview", now, version)) is not None]
        items = [draft]
        live = self.published("live", now)
        if live is not None:
            items.append(live.entry("live", now, version) or {})
        newer = [sub for sub in self.submissions if live is None or sub.number > live.number]
        for sub in newer:  # a new version on its way live: a second live entry
            entry = sub.entry("live", now, version)
            if entry is not None and sub.live_job is not None and sub.live_job.status(now) != "completed":
                items.append(entry)
        return items + previews[-1:]  # the page's order: draft, live, preview


TECH_CONFIG = "virtual-machine-plan-technical-configuration"
PLAN_IMAGE_TYPES = {"gen1": "x64Gen1", "arm64": "arm64Gen2"}  # the seeded plans' image types (the rest: x64Gen2)
TECH_CONFIGS = (TECH_CONFIG, "core-virtual-machine-plan-technical-configuration")  # "core" VM offers have the second


def technical_configuration(product: str, plan: str, external_id: str) -> dict[str, Any]:
    """Return a VM plan's technical configuration as a new plan has it: its SKUs, no image version yet.

    Its ``plan`` is the plan's durable id (``plan/<product>/<plan>``): azure-img-utils matches it
    against the plan resource's ``id``; its id is ``<type>/<product guid>/<plan guid>``.
    """
    return {
        "id": f"{TECH_CONFIG}/{plan.split('/', 1)[1]}",
        "product": product,
        "plan": plan,
        "operatingSystem": {"family": "linux", "type": "other", "friendlyName": "Linux"},
        "recommendedVmSizes": [],
        "openPorts": [],
        "vmProperties": {
            "supportsExtensions": True,
            "supportsBackup": False,
            "supportsAcceleratedNetworking": False,
            "isNetworkVirtualAppliance": False,
            "supportsNVMe": False,
            "supportsCloudInit": False,
            "supportsAadLogin": False,
            "supportsHibernation": False,
            "supportsRemoteConnection": True,
            "requiresCustomArmTemplate": False,
        },
        "skus": [
            {"imageType": "x64Gen2", "skuId": external_id},
            {"imageType": "x64Gen1", "skuId": f"{external_id}-gen1"},
        ],
        "vmImageVersions": [],
    }


def image_version(
    number: str, uri: str, image_types: tuple[str, ...], deprecation: dict[str, Any] | None, today: str
) -> dict[str, Any]:
    """Return a ``vmImageVersions`` item with a SAS source per image type (the facts file's step 5).

    With ``deprecation`` (``date``, ``reason``, optional ``alternative``) it carries that
    ``deprecationSchedule``: ``deprecated`` once the date (``YYYY-MM-DD``) is before ``today``,
    scheduled (still ``generallyAvailable``) otherwise.
    """
    source = {"sourceType": "sasUri", "osDisk": {"uri": uri}, "dataDisks": []}
    version: dict[str, Any] = {
        "versionNumber": number,
        "vmImages": [{"imageType": kind, "source": copy.deepcopy(source)} for kind in image_types],
        "lifecycleState": "generallyAvailable",
    }
    if deprecation is not None:
        version["deprecationSchedule"] = dict(deprecation)
        if str(deprecation.get("date", "")) < today:
            version["lifecycleState"] = "deprecated"
    return version


def with_schema(kind: str, body: dict[str, Any], version: str) -> dict[str, Any]:
    """Return a stored resource as answered: ``$schema`` first, then its properties."""
    return {"$schema": schema(kind, version), **copy.deepcopy(body)}


def job_error(
    code: str, message: str, resource_id: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Make one item of a job's ``errors``, in the shape the pages and clients show."""
    item: dict[str, Any] = {} if resource_id is None else {"resourceId": resource_id}
    item.update({"code": code, "message": message, "details": copy.deepcopy(details or [])})
    return item


_detail = rules.detail
_INVALID = [_detail("invalidResource", "Failure for resource")]


class Store:
    """Every product and job; not thread-safe by itself (FakePortal holds a lock)."""

    def __init__(self, *, job_seconds: float, publish_seconds: float) -> None:
        self.job_seconds = seconds("job_seconds", job_seconds)
        self.publish_seconds = seconds("publish_seconds", publish_seconds)  # a publish to preview
        self.live_seconds = self.publish_seconds  # a publish to live
        self.products: dict[str, Product] = {}  # by guid
        self.jobs: dict[str, Job] = {}
        self.failing: set[str] = set()  # images that fail certification: versions, or URIs without their query

    def add_product(
        self,
        external_id: str,
        *,
        guid: str | None = None,
        product_type: str = "azureVirtualMachine",
        alias: str | None = None,
        plans: tuple[str, ...] = (),
        publisher: str | None = None,
    ) -> Product:
        """Create the product if no product has that external id (and publisher); add its plans."""
        if not external_id or "/" in external_id:
            msg = f"invalid external id: {external_id!r}"
            raise ValueError(msg)
        product = next(
            (p for p in self.products.values() if (p.external_id, p.publisher) == (external_id, publisher)), None
        )
        if product is None:
            product = Product(guid or new_guid(), external_id, publisher)
            body = {"id": product.id, "identity": {"externalId": external_id}, "type": product_type}
            body["alias"] = alias or external_id
            product.resources[product.id] = ("product", body)
            self.products[product.guid] = product
        for plan in plans:
            product.add_plan(plan)
        return product

    def find(self, durable: object, visible: frozenset[str]) -> Product | None:
        """Return the product a reference names: ``product/<id>``, a bare GUID, or ``{"externalId": ...}``."""
        if isinstance(durable, dict) and isinstance(durable.get("externalId"), str):
            wanted = durable["externalId"]
            return next((p for p in self.products.values() if p.external_id == wanted and p.guid in visible), None)
        if not isinstance(durable, str):
            return None
        guid = durable.split("/")[1] if durable.count("/") >= 1 else durable
        return self.products.get(guid) if guid in visible else None

    # -- configure ------------------------------------------------------------------------------

    def post(self, resources: list[dict[str, Any]], visible: frozenset[str], now: float) -> Job:
        """Start a configure job for resources already checked to be objects with a ``$schema``."""
        self.settle(now)
        parsed: list[tuple[str, dict[str, Any]]] = []
        errors: list[dict[str, Any]] = []
        touched: set[str] = set()
        submission: tuple[str, Product, dict[str, Any]] | None = None
        for index, resource in enumerate(resources):
            kind = kind_of(resource["$schema"]) or ""
            body = {key: value for key, value in resource.items() if key != "$schema"}
            product, problem = self._product_of(kind, body, visible)
            if problem is not None:
                errors.append(problem)
            elif kind in TECH_CONFIGS and product is not None:
                errors += self._check_config(product, kind, str(resource["$schema"]), body, index, now)
            if product is not None:
                touched.add(product.guid)
            if kind == "submission" and product is not None and problem is None:
                target = body.get("target", {}).get("targetType") if isinstance(body.get("target"), dict) else None
                problem = self._check_submission(product, body, target, now)
                if problem is not None:
                    errors.append(problem)
                elif submission is not None:
                    errors.append(job_error("badRequest", "Only one submission can be configured at a time."))
                else:
                    submission = (str(target), product, body)
            parsed.append((kind, body))
        errors += self._locked(touched, submission is not None, now)
        duration = self.job_seconds
        if submission is not None and not errors:
            duration = self.publish_seconds if submission[0] == "preview" else self.live_seconds
        job = Job(new_guid(), now, duration, parsed, frozenset(touched), errors)
        if submission is not None and not errors:
            target, product, body = submission
            job.target = target
            if target == "preview":
                job.submission = Submission(product.guid, FIRST_SUBMISSION + len(product.submissions), job)
                product.submissions.append(job.submission)
                job.late_errors = self._certification(product, job.submission)
            else:
                job.submission = next(s for s in product.submissions if s.id == body.get("id"))
                job.submission.live_job = job
        self.jobs[job.id] = job
        self.settle(now)  # a job of no duration is done at once
        return job

    def _locked(self, touched: set[str], publishes: bool, now: float) -> list[dict[str, Any]]:
        """List the errors of a configure on products with a publish under way (they are locked)."""
        errors = []
        for guid in sorted(touched):
            running = [job for job in self.jobs.values() if job.publishing(now) and guid in job.products]
            if running and publishes:  # the service's words (quoted by cloudpub)
                number = running[-1].submission.number if running[-1].submission else 0
                message = f"An In Progress submission {number} already exists."
                errors.append(job_error("internalServerError", message, f"product/{guid}", _INVALID))
            elif running:  # a guess: no source shows an edit refused during a publish
                message = f"The product 'product/{guid}' is locked: a submission to {running[-1].target} is running."
                errors.append(job_error("conflict", message, f"product/{guid}", [_detail("productLocked", message)]))
        return errors

    def _check_config(  # noqa: PLR0917 - the posted resource's parts, each named
        self, product: Product, kind: str, schema_uri: str, body: dict[str, Any], index: int, now: float
    ) -> list[dict[str, Any]]:
        """Return the errors of posting a plan's technical configuration (``_ingestion_rules.py``)."""
        durable = config_id(kind, body)
        published = {target: product.published(target, now) for target in ("preview", "live")}
        found = {
            target: submission.snapshot[durable][1]
            for target, submission in published.items()
            if submission is not None and submission.snapshot is not None and durable in submission.snapshot
        }
        return rules.check(
            body,
            schema_uri=schema_uri,
            resource=kind,
            index=index,
            draft=product.resources.get(durable, (kind, None))[1],
            published=list(found.values()),
            live=found.get("live"),
        )

    def _certification(self, product: Product, submission: Submission) -> list[dict[str, Any]]:
        """Return the errors a publish to preview ends with when an image of the draft fails certification.

        The shape is cloudpub's (acf8491, "Do not retry on certification errors"): an
        ``invalidState`` error that mentions certification, nested in ``details``.
        """
        if not any(image in self.failing for image in _images(product)):
            return []
        inner = rules.detail("invalidState", "Issues found during Certification.")
        nested = {**rules.detail("invalidState", "Certification"), "details": [inner]}
        return [job_error("internalServerError", "Operation failed", submission.id, [nested])]

    def add_image_version(
        self, product: Product, plan: str, version: dict[str, Any] | None, target: str, now: float
    ) -> None:
        """Put ``version`` (None: none) in the plan's draft configuration; publish to ``target`` at once."""
        durable = product.plan_id(plan)
        if durable is None:
            msg = f"product {product.external_id!r} has no plan {plan!r}"
            raise KeyError(msg)
        config_key = f"{TECH_CONFIG}/{durable.split('/', 1)[1]}"
        config = product.resources.setdefault(
            config_key, (TECH_CONFIG, technical_configuration(product.id, durable, plan))
        )[1]
        if version is not None:
            kept = [v for v in config["vmImageVersions"] if v.get("versionNumber") != version["versionNumber"]]
            config["vmImageVersions"] = [*kept, copy.deepcopy(version)]
        if target == "draft":
            return
        done = frozenset({product.guid})
        preview = Job(new_guid(), now, 0.0, [], done)
        submission = Submission(product.guid, FIRST_SUBMISSION + len(product.submissions), preview)
        submission.snapshot = copy.deepcopy(product.resources)
        if target == "live":
            submission.live_job = Job(new_guid(), now, 0.0, [], done)
        product.submissions.append(submission)

    def add_released(self, product: Product, plans: dict[str, dict[str, dict[str, Any]]], now: float) -> None:
        """Give a new product the release history its CPP side shows, all of it live.

        ``plans`` maps each plan to its CPP versions (``vmImagesPublicAzure``: version ->
        ``osVhdUrl``, ``showInGui``...): each becomes an image version with that SAS URI, of the
        plan's image type (``PLAN_IMAGE_TYPES``, else x64Gen2); a hidden one is deprecated, with
        the next version's date. A product that has submissions already is left as it is.
        """
        if product.submissions:
            return
        today = time.strftime("%Y-%m-%d", time.gmtime(now))
        released = []
        for plan, versions in plans.items():
            image_type = PLAN_IMAGE_TYPES.get(plan, "x64Gen2")
            numbers = sorted(versions)
            for index, number in enumerate(numbers):
                hidden = versions[number].get("showInGui") is False
                later = numbers[min(index + 1, len(numbers) - 1)]
                schedule = {"date": later.replace(".", "-"), "reason": "endOfSupport"} if hidden else None
                uri = str(versions[number].get("osVhdUrl"))
                released.append((plan, image_version(number, uri, (image_type,), schedule, today)))
            self.add_image_version(product, plan, None, "draft", now)
            durable = str(product.plan_id(plan))
            product.resources[f"{TECH_CONFIG}/{durable.split('/', 1)[1]}"][1]["skus"] = [
                {"imageType": image_type, "skuId": plan}
            ]
        for index, (plan, body) in enumerate(released):
            self.add_image_version(product, plan, body, "live" if index == len(released) - 1 else "draft", now)

    def _product_of(
        self, kind: str, body: dict[str, Any], visible: frozenset[str]
    ) -> tuple[Product | None, dict[str, Any] | None]:
        """Return the product a resource belongs to, or the error that makes the job fail."""
        durable = body.get("id")
        if kind == "product":
            if isinstance(durable, str):
                found = self.find(durable, visible)
                return (found, None) if found else (None, job_error("notFound", f"No {durable}.", durable))
            external = body.get("identity", {}).get("externalId") if isinstance(body.get("identity"), dict) else None
            if isinstance(external, str) and external:
                return self.find({"externalId": external}, visible), None  # None: a new product
            return None, job_error("invalidResource", "A product needs an 'id' or an 'identity.externalId'.")
        reference = body.get("product")
        if reference is None and isinstance(durable, str) and durable.count("/") >= 1:
            reference = f"product/{durable.split('/')[1]}"  # plan/<product>/<plan>, listing/<product>/...
        found = self.find(reference, visible)
        if found is None:
            name = reference if isinstance(reference, str) else json.dumps(reference)
            return None, job_error("notFound", f"The product {name} was not found.", durable)
        return found, None

    def _check_submission(
        self, product: Product, body: dict[str, Any], target: object, now: float
    ) -> dict[str, Any] | None:
        if target == "preview":
            return None
        if target != "live":
            return job_error(
                "invalidResource", f"A submission's target.targetType must be preview or live: {target!r}."
            )
        latest = next((s for s in reversed(product.submissions) if s.preview_job.cancelled is None), None)
        durable = body.get("id")
        if not isinstance(durable, str):  # a guess: no source shows a go-live without an id refused
            message = "A submission to live needs the 'id' of the product's preview submission"
            message += f" ({latest.id})." if latest else " (it has none)."
            return job_error("invalidResource", message, product.id)
        if latest is None or durable != latest.id:  # the service's words (quoted by cloudpub)
            message = "The submission cannot be pushed to live as its not the latest submission."
            return job_error("conflict", message, durable, _INVALID)
        if not latest.succeeded("preview", now) and latest.preview_job.status(now) == "completed":
            return job_error("invalidState", f"The submission {durable} failed its publish to preview.", durable)
        return None

    def settle(self, now: float) -> None:
        """Process every resource whose time has come (before a cancel, if any)."""
        for job in self.jobs.values():
            if job.errors:
                continue
            cut = now if job.cancelled is None else min(now, job.cancelled)
            while job.applied < len(job.resources) and job.due(job.applied) <= cut:
                self._apply(job, *job.resources[job.applied])
                job.applied += 1

    def _apply(self, job: Job, kind: str, body: dict[str, Any]) -> None:
        body = copy.deepcopy(body)
        if kind == "submission" and job.submission is not None:
            submission = job.submission
            product = self.products[submission.product]
            if job.target == "preview":
                submission.snapshot = copy.deepcopy(product.resources)
            body = {"id": submission.id, "product": product.id, "target": {"targetType": job.target}}
            job.changed.append((kind, body))
            return
        if kind == "product":
            everyone = frozenset(self.products)
            found = self.find(body.get("id"), everyone) or self.find(body.get("identity"), everyone)
            if found is None:
                external = body["identity"]["externalId"]
                found = self.add_product(external, product_type=body.get("type", "azureVirtualMachine"))
            stored = found.resources[found.id][1]
            stored.update({k: v for k, v in body.items() if k != "id"})
            job.changed.append((kind, stored))
            return
        product = self._owner(body)
        if kind == "plan" and "id" not in body:
            external = body.get("identity", {}).get("externalId", new_guid())
            body["id"] = product.plan_id(external) or product.add_plan(external)
        durable = str(body.setdefault("id", f"{kind}/{product.guid}"))
        previous = product.resources.get(durable, (kind, {}))[1]
        product.resources[durable] = (kind, {**previous, **body})
        job.changed.append((kind, product.resources[durable][1]))

    def _owner(self, body: dict[str, Any]) -> Product:
        everyone = frozenset(self.products)
        reference = body.get("product")
        if reference is None and isinstance(body.get("id"), str):
            reference = f"product/{body['id'].split('/')[1]}"
        product = self.find(reference, everyone)
        assert product is not None  # checked when the job was posted
        return product

    def cancel(self, job: Job, now: float) -> None:
        self.settle(now)
        job.cancelled = now


def config_id(kind: str, body: dict[str, Any]) -> str:
    """Return a technical configuration's durable id: its ``id``, or ``<type>/<product>/<plan>`` from its ``plan``."""
    if isinstance(body.get("id"), str):
        return str(body["id"])
    plan = body.get("plan")
    return f"{kind}/{plan.split('/', 1)[1]}" if isinstance(plan, str) and "/" in plan else kind


def image_key(image: str) -> str:
    """Name an image for ``Store.failing``: a version number as is, a URI without its query (its SAS)."""
    return image.split("?", 1)[0]


def _images(product: Product) -> set[str]:
    """Return the names of every image in the product's draft: version numbers, and sources' URIs and ids."""
    found = set()
    for kind, body in product.resources.values():
        if kind not in TECH_CONFIGS:
            continue
        for version in body.get("vmImageVersions") or []:
            if not isinstance(version, dict):
                continue
            found.add(str(version.get("versionNumber")))
            for image in version.get("vmImages") or []:
                source = image.get("source") if isinstance(image, dict) else None
                if not isinstance(source, dict):
                    continue
                disk, shared = source.get("osDisk"), source.get("sharedImage")
                if isinstance(disk, dict) and isinstance(disk.get("uri"), str):
                    found.add(image_key(disk["uri"]))
                if isinstance(shared, dict) and isinstance(shared.get("resourceId"), str):
                    found.add(shared["resourceId"])
    return found
