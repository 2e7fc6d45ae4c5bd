"""``cloudpartner.ingestion.Client``: Partner Center's Product Ingestion API."""

from __future__ import annotations

import os

from .. import _core
from .._client import base_url_or_default, record_or_default

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType
    from typing import Any, Callable, Optional, Union

    from .._release import Release
    from .._tokens import AsyncTokenCredential, TokenCredential
    from ._jobs import Job
    from ._types import Plan, Product, Submission, TechnicalConfiguration

    Token = Union[str, TokenCredential, AsyncTokenCredential, None]
    JobRef = Union[str, Job]
    ProductRef = Union[str, Product]
    Resources = Union[list[dict[str, Any]], dict[str, Any]]
    JobProgress = Callable[[Job], object]
    ReleaseProgress = Callable[[Release], object]
    IdleProgress = Callable[[list[Submission]], object]
    ImageTypes = Union[str, Iterable[str]]
    DataDisks = Iterable[tuple[int, str]]

__all__ = ["Client"]


def _base_url_or_default(base_url: Optional[str]) -> str:
    return base_url_or_default(base_url, _core.INGESTION_BASE_URL_VARIABLE, _core.INGESTION_BASE_URL)


class Client:
    """A Product Ingestion API client: a connection pool, a token source and settings.

    Every call has an asyncio twin (``*_async``). Safe to share across threads; close it (or use
    ``with``) when done.

    Args:
        token: a Microsoft Graph bearer token string, a credential with ``get_token_info`` or
            ``get_token`` (azure-identity; asked for ``https://graph.microsoft.com/.default``,
            never the Cloud Partner Portal's scope), an ``azure.identity.aio`` credential
            (``*_async`` calls only), or None to read ``CLOUDPARTNER_INGESTION_TOKEN`` at each call.
        base_url: the service root; default ``CLOUDPARTNER_INGESTION_BASE_URL`` or
            ``https://graph.microsoft.com/rp/product-ingestion`` (its path is kept).
        version: the ``$version`` every request names (default ``2022-07-01``): the newest
            schema version the service may answer with.
        timeout: the most seconds a call may take, all its attempts, the waits between them
            (backoff, ``Retry-After``) and the reading of the answers together: each attempt gets
            what is left, and a retry whose wait would pass it is not made. On expiry it raises
            ``RequestTimeoutError``. A call that makes several requests (one that follows pages,
            looks an external id up, or reads a job a cancel found completed) is bounded as a
            whole: each request gets what is left. By default 30 s, and 300 s for a call that
            reads or writes a whole document (``get_resource_tree``, ``get_job_resources``,
            ``configure``, ``publish``; a lookup within one still gets at most 30 s); a timeout
            given bounds every call. ``wait_job`` takes its own.
        max_retries: retries of connect failures and 408/429/5xx answers (0 to 10). Reads and
            cancels are retried; ``configure`` and ``publish`` are never sent twice.
        user_agent: a product token put before cloudpartner's own in ``User-Agent``.
        backoff: the first retry's maximum delay in seconds; doubles each retry, full jitter.
        ca_file: a PEM bundle of extra CA certificates to trust, besides the system's.
        record: a file to append every exchange to, as JSON Lines, for
            ``FakePortal.from_recording`` (default ``CLOUDPARTNER_RECORD``); the token never is.

    Raises:
        InvalidArgumentError: a setting is malformed (the message names it).

    """

    __slots__ = ("__weakref__", "_core")  # weakref: finalizers, WeakSet, caches keyed by client

    def __init__(
        self,
        token: Token = None,
        *,
        base_url: Optional[str] = None,
        version: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        user_agent: Optional[str] = None,
        backoff: float = _core.DEFAULT_BACKOFF,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> None:
        self._core = _core.IngestionClient(
            token,
            _base_url_or_default(base_url),
            version,
            timeout,
            max_retries,
            backoff,
            user_agent,
            ca_file,
            record_or_default(record),
        )

    # -- jobs ----------------------------------------------------------------------------------

    def cancel_job(self, job: JobRef) -> Job:
        """Cancel a job (``POST configure/{job}/cancel``): the resources not yet processed.

        Args:
            job: the ``Job`` ``configure`` or ``publish`` returned, or its id.

        Returns:
            The job as the service left it (``cancelled`` once the cancel took).

        Raises:
            JobAlreadyCompletedError: the job had completed; ``.job`` tells how it ended.
            NotFoundError: no such job.

        """
        return self._core.cancel_job(job, False)

    async def cancel_job_async(self, job: JobRef) -> Job:
        """Asyncio twin of :meth:`cancel_job`."""
        return await self._core.cancel_job(job, True)

    def get_job(self, job: JobRef) -> Job:
        """Fetch a job's state (``GET configure/{job}/status``)."""
        return self._core.get_job(job, False)

    async def get_job_async(self, job: JobRef) -> Job:
        """Asyncio twin of :meth:`get_job`."""
        return await self._core.get_job(job, True)

    def wait_job(
        self,
        job: JobRef,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        on_progress: Optional[JobProgress] = None,
        *,
        progress: bool = False,
    ) -> Job:
        """Poll a job until it completes, and return its final state.

        Args:
            job: a ``Job`` or its id.
            timeout: seconds to wait in all (a publish takes hours: pass what fits), polls
                included (each poll is a call, bounded by the client's ``timeout`` and by what is
                left of this one).
            poll_interval: seconds between polls; the pages ask for at most one a minute, the
                default. A ``Retry-After`` the service sends makes it longer.
            on_progress: called with the ``Job`` at the first poll and at each change; an
                exception from it stops the wait. A blocking wait cannot await: an ``async def``
                is refused (``InvalidArgumentError``) before anything is sent, and so is, at its
                first call, one returning a coroutine; :meth:`wait_job_async` awaits them.
            progress: show each state as it comes (a notebook table, or a line on stderr).

        Raises:
            WaitTimeoutError: ``timeout`` passed; ``.job`` is the last state seen.
            ApiError: polling was refused (e.g. ``NotFoundError``). Transient failures (5xx,
                429, transport) are polled through until the timeout.

        """
        return self._core.wait_job(job, timeout, poll_interval, _reporter(on_progress, progress), False)

    async def wait_job_async(
        self,
        job: JobRef,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        on_progress: Optional[JobProgress] = None,
        *,
        progress: bool = False,
    ) -> Job:
        """Asyncio twin of :meth:`wait_job`; ``on_progress`` runs on the event loop.

        ``on_progress`` may be an ``async def`` (or return an awaitable): each call's coroutine
        runs as a task on the loop, one at a time in order, an exception from one stops the wait
        and is raised, and the
        wait returns only once every one has finished. Cancelling the wait cancels those still
        running.
        """
        return await self._core.wait_job(job, timeout, poll_interval, _reporter(on_progress, progress), True)

    def get_job_resources(self, job: JobRef) -> dict[str, Any]:
        """Fetch what a completed job created or changed (``GET configure/{job}``), with durable ids.

        Refused by the service before the job completes; after a cancel, only what finished.
        """
        return self._core.get_job_resources(job, False)

    async def get_job_resources_async(self, job: JobRef) -> dict[str, Any]:
        """Asyncio twin of :meth:`get_job_resources`."""
        return await self._core.get_job_resources(job, True)

    # -- configure and publish -----------------------------------------------------------------

    def configure(self, resources: Resources) -> Job:
        """Start a configure job (``POST configure``): edits of the draft, or submissions.

        Args:
            resources: a list of resource dicts (sent under the configure ``$schema`` of this
                client's ``version``), or a whole configure document with ``resources``.

        Returns:
            The job: follow it with :meth:`wait_job`; keep its id to cancel it. The work's own
            failures come back inside the job (``errors``), not as an exception.

        """
        return self._core.configure(resources, False)

    async def configure_async(self, resources: Resources) -> Job:
        """Asyncio twin of :meth:`configure`."""
        return await self._core.configure(resources, True)

    def publish(self, product: ProductRef, target: str = "preview") -> Job:
        """Publish a product: its draft to ``preview``, or its preview submission to ``live``.

        Args:
            product: a ``Product``, its durable id (``product/<id>``, or a bare GUID), or its
                external id (the offer id), looked up first.
            target: ``preview`` or ``live``. Live takes the preview submission's id, found for
                you in :meth:`list_submissions`.

        Returns:
            The publish's job: keep its id, it is what :meth:`cancel_job` needs.

        """
        return self._core.publish(product, target, False)

    async def publish_async(self, product: ProductRef, target: str = "preview") -> Job:
        """Asyncio twin of :meth:`publish`."""
        return await self._core.publish(product, target, True)

    # -- products ------------------------------------------------------------------------------

    def find_product(self, external_id: str) -> Product:
        """Find the product whose external id (the offer id) is ``external_id``.

        Raises:
            NotFoundError: no product has it.

        """
        return self._core.find_product(external_id, False)

    async def find_product_async(self, external_id: str) -> Product:
        """Asyncio twin of :meth:`find_product`."""
        return await self._core.find_product(external_id, True)

    def get_product(self, product: ProductRef) -> Product:
        """Fetch a product by durable id, bare guid or external id."""
        return self._core.get_product(product, False)

    async def get_product_async(self, product: ProductRef) -> Product:
        """Asyncio twin of :meth:`get_product`."""
        return await self._core.get_product(product, True)

    def list_submissions(self, product: ProductRef) -> list[Submission]:
        """List a product's submissions (draft, preview, live), every page followed.

        A submission whose ``status`` is not ``completed`` is a publish under way.
        """
        return self._core.list_submissions(product, False)

    async def list_submissions_async(self, product: ProductRef) -> list[Submission]:
        """Asyncio twin of :meth:`list_submissions`."""
        return await self._core.list_submissions(product, True)

    def get_resource_tree(self, product: ProductRef, target: str = "draft") -> dict[str, Any]:
        """Fetch a product's whole configuration for ``target`` (``draft``, ``preview``, ``live``)."""
        return self._core.get_resource_tree(product, target, False)

    async def get_resource_tree_async(self, product: ProductRef, target: str = "draft") -> dict[str, Any]:
        """Asyncio twin of :meth:`get_resource_tree`."""
        return await self._core.get_resource_tree(product, target, True)

    # -- the client ----------------------------------------------------------------------------

    # ------------------------------------------------------------------ plans and image versions

    def list_products(self) -> list[Product]:
        """List every product the account has, every page followed (``GET product``)."""
        return self._core.list_products(False)

    async def list_products_async(self) -> list[Product]:
        """Asyncio twin of :meth:`list_products`."""
        return await self._core.list_products(True)

    def list_plans(self, product: ProductRef) -> list[Plan]:
        """List a product's plans, as its draft holds them (in the order the service sent them)."""
        return self._core.list_plans(product, False)

    async def list_plans_async(self, product: ProductRef) -> list[Plan]:
        """Asyncio twin of :meth:`list_plans`."""
        return await self._core.list_plans(product, True)

    def get_technical_configuration(
        self, product: ProductRef, plan: str, target: str = "draft"
    ) -> TechnicalConfiguration:
        """Read a VM plan's technical configuration: its image versions and SKUs.

        Args:
            product: a ``Product``, its durable id, or its external id (offer id).
            plan: the plan's external id (the plan id the publisher chose) or its durable id.
            target: ``draft``, ``preview`` or ``live``: whose resource tree to read.

        Raises:
            NotFoundError: no such plan (the message lists the plans there are), or nothing is
                published to ``target``.

        """
        return self._core.get_technical_configuration(product, plan, target, False)

    async def get_technical_configuration_async(
        self, product: ProductRef, plan: str, target: str = "draft"
    ) -> TechnicalConfiguration:
        """Asyncio twin of :meth:`get_technical_configuration`."""
        return await self._core.get_technical_configuration(product, plan, target, True)

    def add_image_version(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        sas_uri: Optional[str] = None,
        gallery_image: Optional[str] = None,
        image_types: ImageTypes = ("x64Gen2",),
        data_disks: DataDisks = (),
    ) -> Optional[Job]:
        """Add a VM image version to a plan's draft, and return the configure job (or None: already there).

        The draft's technical configuration is read, edited in the core and sent back whole: a
        version with the same number is updated in place; every other version (deprecated and
        scheduled ones included) and the ``skus`` are sent back exactly as read.

        Args:
            product: a ``Product``, its durable id, or its external id.
            plan: the plan's external id or durable id.
            version: the version number, ``N.N.N``.
            sas_uri: the OS disk's SAS URI (https, with a signature). Give this or ``gallery_image``.
            gallery_image: an Azure Compute Gallery image version's resource id
                (``/subscriptions/.../galleries/<g>/images/<i>/versions/<v>``).
            image_types: the image types this image serves: ``x64Gen1``, ``x64Gen2``, ``arm64Gen2``.
            data_disks: ``(lun, SAS URI)`` pairs (at most 16; SAS sources only).

        Returns:
            The configure ``Job`` (follow it with :meth:`wait_job`), or None when the draft already
            holds the same image: a SAS URI counts as the same when it differs only in its
            signature parameters.

        Raises:
            InvalidArgumentError: bad input, before anything is sent (never showing a signature).
            NotFoundError: no such plan; the message lists the plans there are.

        """
        return self._core.add_image_version(
            product, plan, version, sas_uri, gallery_image, image_types, data_disks, False
        )

    async def add_image_version_async(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        sas_uri: Optional[str] = None,
        gallery_image: Optional[str] = None,
        image_types: ImageTypes = ("x64Gen2",),
        data_disks: DataDisks = (),
    ) -> Optional[Job]:
        """Asyncio twin of :meth:`add_image_version`."""
        return await self._core.add_image_version(
            product, plan, version, sas_uri, gallery_image, image_types, data_disks, True
        )

    def deprecate_image_version(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        date: str,
        reason: str,
        alternative: Optional[dict[str, Any]] = None,
    ) -> Job:
        """Deprecate a VM image version of a plan's draft, and return the configure job.

        A published version cannot be removed (the service refuses it): it is deprecated
        instead, with ``lifecycleState: deprecated`` and a ``deprecationSchedule``.

        Args:
            product: a ``Product``, its durable id, or its external id.
            plan: the plan's external id or durable id.
            version: the version number.
            date: when it is deprecated, ``YYYY-MM-DD``.
            reason: ``criticalSecurityIssue``, ``endOfSupport`` or ``other``.
            alternative: what to use instead, sent as given (e.g. ``{"versionNumber": "1.1.0"}``).

        Raises:
            InvalidArgumentError: a bad date or reason, before anything is sent.
            NotFoundError: no such plan or version; the message lists those there are.

        """
        return self._core.deprecate_image_version(product, plan, version, date, reason, alternative, False)

    async def deprecate_image_version_async(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        date: str,
        reason: str,
        alternative: Optional[dict[str, Any]] = None,
    ) -> Job:
        """Asyncio twin of :meth:`deprecate_image_version`."""
        return await self._core.deprecate_image_version(product, plan, version, date, reason, alternative, True)

    def wait_until_idle(
        self,
        product: ProductRef,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        on_progress: Optional[IdleProgress] = None,
        *,
        progress: bool = False,
    ) -> list[Submission]:
        """Return once no submission of the product is running (an empty list).

        Args:
            product: a ``Product``, its durable id, or its external id.
            timeout: seconds to wait in all.
            poll_interval: seconds between polls of ``GET submission``; one a minute by default,
                as the pages ask.
            on_progress: called with the submissions still running, at the first poll and at each
                change (an exception from it stops the wait).
            progress: print each change on stderr.

        Raises:
            WaitTimeoutError: ``timeout`` passed with a submission still running.

        """
        return self._core.wait_until_idle(product, timeout, poll_interval, _idle_reporter(on_progress, progress), False)

    async def wait_until_idle_async(
        self,
        product: ProductRef,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        on_progress: Optional[IdleProgress] = None,
        *,
        progress: bool = False,
    ) -> list[Submission]:
        """Asyncio twin of :meth:`wait_until_idle`; ``on_progress`` runs on the event loop."""
        reporter = _idle_reporter(on_progress, progress)
        return await self._core.wait_until_idle(product, timeout, poll_interval, reporter, True)

    def release_image_version(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        sas_uri: Optional[str] = None,
        gallery_image: Optional[str] = None,
        image_types: ImageTypes = ("x64Gen2",),
        data_disks: DataDisks = (),
        target: str = "live",
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        progress: bool = False,
        on_progress: Optional[ReleaseProgress] = None,
    ) -> Release:
        """Release a VM image version: add it, wait until the product is idle, publish to preview, then to live.

        Resumable: it first reads where the product stands (the live, preview and draft trees)
        and does no step twice: run it again after any failure or interruption and it continues.
        A version already live is reads only; one in preview only goes live.

        Cancellable: each step's job id is known as soon as the job starts (``on_progress`` gets
        the ``Release`` so far, whose ``current.job_id`` is the running job): give it to
        :meth:`cancel_job` from another thread (or, in the ``*_async`` twin, from the callback).

        Args:
            product: a ``Product``, its durable id, or its external id.
            plan: the plan's external id or durable id.
            version: ``N.N.N``.
            sas_uri: the OS disk's SAS URI (https, with a signature). Give this or ``gallery_image``.
            gallery_image: an Azure Compute Gallery image version's resource id.
            image_types: the image types it serves (default ``x64Gen2``).
            data_disks: ``(lun, SAS URI)`` pairs.
            target: ``draft`` (add only), ``preview`` or ``live``.
            timeout: seconds the whole release may take (a publish to preview takes hours, live
                up to days: pass what fits).
            poll_interval: seconds between polls (one a minute by default, as the pages ask).
            progress: show the steps as they go (a live table in a notebook, lines on stderr).
            on_progress: called with the ``Release`` so far at each step and job change.

        Returns:
            The ``Release``: for each step, ``done`` now or ``already-done``, with its job id.

        Raises:
            InvalidArgumentError: bad input, before anything is sent.
            NotFoundError: no such plan (the message lists the plans there are).
            SubmissionConflictError: a job failed as another submission was in progress
                (transient: run the release again later).
            CertificationFailedError: the image failed certification (final).
            JobFailedError: a job failed otherwise, or was cancelled; ``.job`` says how.
            WaitTimeoutError: ``timeout`` passed.

        """
        return self._core.release_image_version(
            product,
            plan,
            version,
            sas_uri,
            gallery_image,
            image_types,
            data_disks,
            target,
            timeout,
            poll_interval,
            _reporter(on_progress, progress),
            False,
        )

    async def release_image_version_async(
        self,
        product: ProductRef,
        plan: str,
        version: str,
        *,
        sas_uri: Optional[str] = None,
        gallery_image: Optional[str] = None,
        image_types: ImageTypes = ("x64Gen2",),
        data_disks: DataDisks = (),
        target: str = "live",
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.INGESTION_POLL_INTERVAL,
        progress: bool = False,
        on_progress: Optional[ReleaseProgress] = None,
    ) -> Release:
        """Asyncio twin of :meth:`release_image_version`; ``on_progress`` runs on the event loop (and may await)."""
        return await self._core.release_image_version(
            product,
            plan,
            version,
            sas_uri,
            gallery_image,
            image_types,
            data_disks,
            target,
            timeout,
            poll_interval,
            _reporter(on_progress, progress),
            True,
        )

    def close(self) -> None:
        """Refuse further calls and drop idle connections."""
        self._core.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._core.closed

    @property
    def base_url(self) -> str:
        """The service root this client talks to."""
        return self._core.base_url

    @property
    def version(self) -> str:
        """The ``$version`` every request names."""
        return self._core.version

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException], tb: Optional[TracebackType]
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<cloudpartner.ingestion.Client {self.base_url} $version={self.version} {state}>"


def _reporter(on_progress: Optional[Callable[[Any], object]], progress: bool) -> Optional[Callable[[Any], object]]:
    if not progress:
        return on_progress
    from .._display import progress_reporter  # noqa: PLC0415 - loaded only when asked for

    return progress_reporter(on_progress)


def _idle_reporter(on_progress: Optional[IdleProgress], progress: bool) -> Optional[IdleProgress]:
    """``on_progress``, with a line on stderr per change when ``progress`` is asked for."""
    if not progress:
        return on_progress

    def report(running: list[Submission]) -> object:
        import sys  # noqa: PLC0415 - loaded only when asked for

        names = ", ".join(f"{s.id or '?'} ({s.target}: {s.status})" for s in running) or "none"
        print(f"submissions running: {names}", file=sys.stderr, flush=True)
        return on_progress(running) if on_progress is not None else None

    return report
