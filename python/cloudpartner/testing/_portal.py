"""FakePortal: an offline Azure Marketplace for testing scripts without the network.

One real HTTP/1.1 server on 127.0.0.1 answers two APIs over one store, as the real services do:

- the Cloud Partner Portal API (api-version 2017-10-31) at ``base_url``: cancel, operations,
  submissions, offers, publish and go-live (``_cpp.py``);
- Partner Center's Product Ingestion API at ``ingestion_url`` (``base_url +
  "/rp/product-ingestion"``, the path prefix of ``https://graph.microsoft.com/rp/product-ingestion``):
  products, plans, submissions, resource trees, and ``configure`` jobs that edit the draft and
  publish to preview and live, with their status, resources and cancel (``_ingestion.py``).

An offer added with ``add_offer`` is migrated unless told otherwise: then it is also a product
whose external id is the offer id, so one script can use both APIs on it::

    from cloudpartner.testing import FakePortal

    with FakePortal(cancel_seconds=0.2, publish_seconds=0.5) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer")
        my_script(base_url=portal.base_url, ingestion_url=portal.ingestion_url, token="any-token")
        assert portal.requests[-1].method == "POST"
        assert portal.operations("contoso", "contoso-virtualmachineoffer")[0]["status"] == "canceled"
        assert portal.jobs()[-1]["jobResult"] == "cancelled"

Every CPP request is checked in this order, and the first failing check decides the answer:

1. a failure queued with :meth:`FakePortal.fail_next` (any route, or the one it names);
2. ``api-version`` must be exactly ``2017-10-31``, else 400 ``InvalidAPIVersion``;
3. ``Authorization: Bearer <token>`` must name an accepted token, else 401 ``Unauthorized``;
4. the route must exist (else 404 ``NotFound``) and accept the method (else 405 with ``Allow``);
5. the token must see the publisher, else 403 ``Forbidden``;
6. the cancel body must be valid, else 400 ``InvalidRequestBody``;
7. the offer or operation must exist, else 404 ``NotFound``.

Answers have the shapes the reference pages document (``tests/reference`` holds them and the
tests check this portal against them): operation lists carry ``submissionState``, a cancel with
nothing running answers 202 like the service ("whether it cancelled or not"), its location
naming the offer's latest operation. ``conflict_when_idle=True`` answers such a cancel 409
``NoOperationInProgress`` instead, for scripts that want to test that branch. The ingestion
API's checks, error envelope and paging are described in ``_ingestion.py``; its shapes follow
``tests/reference/ingestion``.

This file is the public class; ``_base.py`` is the server base (start/stop, request log, TLS,
``fail_next``, recording), ``_cpp.py``/``_cpp_model.py`` and ``_ingestion.py``/``_ingestion_model.py``
the two fake services (routes; model), ``_replay.py`` the replay of recordings and ``_http.py``
the HTTP server.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ._base import FakeServer, Tokens, seconds
from ._cpp import Service
from ._cpp_model import DEFAULT_PLANS, VM_IMAGES, seeded_plan
from ._ingestion import Service as Ingestion
from ._ingestion_model import LATEST, TARGETS, Product, Store, image_key, image_version, with_schema
from ._login import Service as Login


class FakePortal(FakeServer):
    """An offline Cloud Partner Portal: a local HTTP server with offers and operations.

    ``tokens``: None accepts any non-empty bearer token; an iterable of tokens accepts exactly
    those; a mapping ``token -> publishers`` also limits what each token sees (others: 403).
    ``location_style`` picks the 202 cancel answer's header: ``"absolute"`` (``Operation-Location``,
    full URL), ``"relative"`` (``Location``, path) or ``"non-migrated"`` (``Location:
    /api/operations/{p}${o}${n}$preview``, every offer's; ``add_offer(migrated=False)`` makes one
    offer answer so). ``sync_cancel=True`` cancels at once and answers 200;
    otherwise a cancel answers 202 and the operation is ``canceled`` ``cancel_seconds`` later.
    Operation ``version`` numbers are odd integers above 2**53, which no double holds: a client
    that reads JSON numbers as floats gets them wrong. A single string passed as ``tokens`` (or as
    a mapping value) counts as one name. All methods are thread-safe; state (offers, operations,
    requests) survives stop() and start(). ``ssl_context`` (a server-side ``ssl.SSLContext``)
    serves https instead of http, for testing certificate handling. ``host`` is where it listens:
    a loopback address, or every address with ``0.0.0.0`` (or ``""``) or ``::``, for which
    ``base_url`` names ``127.0.0.1`` or ``[::1]``; another host only with ``ssl_context``, as a
    client sends its token over plain http only to loopback (``ValueError`` otherwise). Every
    ``*_seconds`` must be finite and >= 0, ``page_size`` an int >= 1 and ``port`` 0 to 65535:
    else ``ValueError`` (``TypeError`` for no number) naming the value. ``conflict_when_idle=True``
    answers a cancel with nothing running 409 instead of the service's 202.

    The publish lifecycle: ``put_offer`` stores a draft (``If-Match`` required: ``*`` or the
    current ETag, else 412); ``publish`` starts an operation whose validation, certification,
    provisioning and packaging steps take ``step_seconds`` each, then waits at
    ``publisher-signoff`` (``waitingForPublisherReview``) with the draft in the preview slot;
    ``go_live`` then moves preview to production over ``step_seconds`` more. A publish or go-live
    while another operation runs answers 409; a go-live with no publish waiting for review
    answers 409 ``NotReadyForGoLive`` (the service's answer to that is undocumented). The offer
    status follows the latest operation. ``add_offer``'s own publish stays in certification
    until cancelled.

    The ingestion API: ``ingestion_tokens`` (same forms as ``tokens``) are the tokens it accepts;
    None accepts the CPP API's ``tokens``; given, a CPP token is refused there (401, "Invalid
    audience") as a token for another resource is. ``job_seconds`` is how long a configure job
    that edits takes, ``publish_seconds`` one with a ``submission`` resource: ``notStarted`` for a
    quarter of it, then ``running``, then ``completed``. A publish to preview makes a new
    preview submission, running until its job ends; one to live needs that submission's id.
    Lists answer ``page_size`` items a page, then ``@nextLink``. The two APIs' publishes are
    separate: a CPP operation does not show as an ingestion submission, nor the reverse. A VM
    plan's technical configuration follows the service's rules, each refusal a failed job with
    the service's text (``_ingestion_rules.py``): a published version cannot be deleted, a
    deprecated one left out "cannot be restored", a ``null`` deprecation reason or
    ``vmProperties`` flag fails schema validation, a live plan's ``skuId`` is locked, and
    ``securityType`` is refused off x64Gen2. :meth:`add_image_version` gives
    a product a release history (an offer seeded with its default plans has one: its CPP
    versions, live, the hidden one deprecated), :meth:`fail_certification` makes
    a publish fail certification, :meth:`set_publish_seconds` sets how long publishes take.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
        location_style: str = "absolute",
        sync_cancel: bool = False,
        cancel_seconds: float = 2.0,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        conflict_when_idle: bool = False,
        step_seconds: float = 0.2,
        ingestion_tokens: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
        job_seconds: float = 0.2,
        publish_seconds: float = 1.0,
        page_size: int = 100,
    ) -> None:
        super().__init__(host=host, port=port, ssl_context=ssl_context)
        cpp_tokens = Tokens(tokens)
        self._cpp = Service(
            step_seconds=step_seconds,
            tokens=cpp_tokens,
            location_style=location_style,
            sync_cancel=sync_cancel,
            cancel_seconds=cancel_seconds,
            conflict_when_idle=conflict_when_idle,
            base_url=lambda: self.base_url,
        )
        accepted = cpp_tokens if ingestion_tokens is None else Tokens(ingestion_tokens)
        self._ingestion = Ingestion(
            store=Store(job_seconds=job_seconds, publish_seconds=publish_seconds),
            tokens=accepted,
            other_tokens=Tokens(()) if ingestion_tokens is None else cpp_tokens,
            page_size=page_size,
            base_url=lambda: self.base_url,
        )
        self._store = self._ingestion.store
        self._login = Login(cpp_tokens=cpp_tokens, ingestion_tokens=accepted)
        self._models = [self._ingestion, self._login, self._cpp]  # the CPP API answers every other path

    @classmethod
    def from_recording(cls, path: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0) -> FakePortal:
        """Make a portal that answers from a recording (``Client(record=...)``, ``CLOUDPARTNER_RECORD``).

        Each request gets the next answer recorded for the same method, path and query, in
        order; the last one repeats once they are used up; an unrecorded request gets 404
        ``NotRecorded``. Absolute locations to the recorded service point at this portal.
        ``ValueError`` naming the line when a line is not a recorded exchange (or not UTF-8), or
        when the file holds none; a last line cut short (no newline after it: a full disk, a
        killed job) is left out with a ``TruncatedRecordingWarning``, the exchanges before it kept.
        """
        portal = cls(host=host, port=port)
        portal._replay(path)
        return portal

    # -- setup and assertions -------------------------------------------------------------------

    @property
    def ingestion_url(self) -> str:
        """The Product Ingestion API's base: ``base_url + "/rp/product-ingestion"`` (a path prefix)."""
        return self.base_url + "/rp/product-ingestion"

    def add_offer(
        self,
        publisher: str,
        offer: str,
        running: bool = True,
        *,
        plans: Iterable[str] | None = None,
        offer_type: str = "microsoft-azure-virtualmachines",
        migrated: bool = True,
    ) -> None:
        """Create the offer if needed; with ``running``, start an operation unless one runs.

        ``plans`` (plan ids; None: ``gen2``, ``gen1`` and ``arm64``) are its plans. On the CPP API
        each plan holds three VM image versions under ``microsoft-azure-corevm.vmImagesPublicAzure``,
        the oldest hidden (``showInGui: false``). ``offer_type`` is its CPP ``offerTypeId`` (what
        ``list_offers(offer_type=...)`` filters on). A ``migrated`` offer (moved to Partner Center,
        as every offer is since 2020) is also a product of the ingestion API with the same plans:
        external id ``offer``, durable id ``product/<the offer's guid>``, type ``azureVirtualMachine``,
        seen by the tokens that see ``publisher``; seeded with the default plans, its technical
        configurations hold the same versions, published live, the hidden one ``deprecated``
        (an ``endOfSupport`` schedule dated the next version's day). ``migrated=False``: an offer only the CPP API
        holds (``pcMigrationStatus: "none"``; its operations are named ``publisher$offer$N$slot``
        and their ``Location`` is ``/api/operations/...``, as the cancel page's 2020 revision shows).
        """
        chosen = DEFAULT_PLANS if plans is None else plans
        listed = tuple([chosen] if isinstance(chosen, str) else chosen)
        with self._lock:
            state = self._cpp.add_offer(publisher, offer, running, listed, offer_type=offer_type, migrated=migrated)
            if migrated:
                product = self._store.add_product(offer, guid=state.guid, plans=listed, publisher=publisher)
                if plans is None:  # the seeded offer: its versions are released on the ingestion side too
                    seeded = {plan: seeded_plan(offer, plan)[VM_IMAGES] for plan in listed}
                    self._store.add_released(product, seeded, time.time())

    def add_product(
        self,
        external_id: str,
        *,
        product_type: str = "azureVirtualMachine",
        alias: str | None = None,
        plans: Iterable[str] = (),
        publisher: str | None = None,
    ) -> str:
        """Create an ingestion-API product with no CPP side (if none has that external id); return its durable id.

        ``publisher`` None: every token sees it; else the tokens that see that publisher.
        """
        listed = tuple([plans] if isinstance(plans, str) else plans)
        with self._lock:
            product = self._store.add_product(
                external_id, product_type=product_type, alias=alias, plans=listed, publisher=publisher
            )
            return product.id

    def add_image_version(
        self,
        external_id: str,
        plan: str,
        version: str,
        *,
        uri: str | None = None,
        image_types: Iterable[str] = ("x64Gen2",),
        target: str = "live",
        deprecation: Mapping[str, Any] | None = None,
    ) -> None:
        """Put a VM image version in a plan's technical configuration, as if it had been released.

        ``uri`` is its SAS URI (default: a made-up one on ``contoso.blob.core.windows.net``), one
        image per type in ``image_types``. ``target`` ``"draft"`` only edits the draft;
        ``"preview"`` or ``"live"`` also publishes the whole draft there at once (a completed
        submission, no job). ``deprecation`` (``{"date": "YYYY-MM-DD", "reason": ..., "alternative":
        ...}``) gives it that ``deprecationSchedule``, ``lifecycleState`` ``deprecated`` once the
        date has passed. A version with the same number is replaced. KeyError for an unknown
        product or plan.
        """
        if target not in TARGETS:
            msg = f"target must be one of {TARGETS}, not {target!r}"
            raise ValueError(msg)
        sas = (
            uri or f"https://contoso.blob.core.windows.net/images/{plan}-{version}.vhd?sv=2022-11-02&sr=b&sp=r&sig=c2ln"
        )
        today = time.strftime("%Y-%m-%d", time.gmtime())
        body = image_version(
            version, sas, tuple(image_types), None if deprecation is None else dict(deprecation), today
        )
        with self._lock:
            self._store.add_image_version(self._find(external_id), plan, body, target, time.time())

    def fail_certification(self, image: str) -> None:
        """Make every publish to preview whose draft holds ``image`` fail its certification.

        ``image`` is a version number (``"1.2.0"``), a SAS URI (compared without its query, so a
        fresh signature still matches) or a gallery image version's resource id. The publish job
        runs its full time, then completes ``failed`` with the nested ``invalidState``
        certification error the service sends (cloudpub's shape): ``[{"code":
        "internalServerError", "message": "Operation failed", "resourceId": <submission id>,
        "details": [{"code": "invalidState", "message": "Certification", "details": [...]}]}]``.
        """
        with self._lock:
            self._store.failing.add(image_key(image))

    def set_publish_seconds(self, preview: float, live: float | None = None) -> None:
        """Set how long the next publishes take: to ``preview``, and to ``live`` (None: as to preview).

        The constructor's ``publish_seconds`` sets both; this changes them on a started portal
        (the pytest fixture's, for instance). Finite and >= 0, else ``ValueError`` naming it.
        """
        with self._lock:
            self._store.publish_seconds = seconds("preview", preview)
            self._store.live_seconds = seconds("live", preview if live is None else live)

    def product(self, external_id: str) -> dict[str, Any]:
        """Return the product resource as ``GET product/<id>`` answers it (KeyError if none)."""
        with self._lock:
            found = self._find(external_id)
            kind, body = found.resources[found.id]
            return with_schema(kind, body, LATEST)

    def resource_tree(self, external_id: str, target: str = "draft") -> list[dict[str, Any]]:
        """Return the product's resources in ``target`` (draft, preview, live); [] when nothing is there."""
        if target not in TARGETS:
            msg = f"target must be one of {TARGETS}, not {target!r}"
            raise ValueError(msg)
        with self._lock:
            now = time.time()
            self._store.settle(now)
            tree = self._find(external_id).tree(target, now) or {}
            return [with_schema(kind, body, LATEST) for kind, body in tree.values()]

    def submissions(self, external_id: str) -> list[dict[str, Any]]:
        """Return the product's submissions as ``GET submission/<guid>`` answers them, every page."""
        with self._lock:
            now = time.time()
            self._store.settle(now)
            return self._find(external_id).entries(now, LATEST)

    def jobs(self) -> list[dict[str, Any]]:
        """Return every configure job as ``GET configure/<jobId>/status`` answers it, oldest first."""
        with self._lock:
            now = time.time()
            self._store.settle(now)
            return [self._ingestion.job_json(job, now, LATEST) for job in self._store.jobs.values()]

    def job(self, job_id: str) -> dict[str, Any]:
        """Return one configure job as its status route answers it (KeyError if unknown)."""
        with self._lock:
            now = time.time()
            self._store.settle(now)
            return self._ingestion.job_json(self._store.jobs[job_id], now, LATEST)

    def _find(self, external_id: str) -> Product:
        for product in self._store.products.values():
            if product.external_id == external_id:
                return product
        raise KeyError(external_id)

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        """Return the offer's operation objects as GET answers them, newest first (KeyError if none)."""
        with self._lock:
            return self._cpp.operations(publisher, offer)
