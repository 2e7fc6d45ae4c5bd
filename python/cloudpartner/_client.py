"""The Client and the module-level shortcuts."""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading itself costs milliseconds to import

from . import _core

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType
    from typing import Any, Callable, Optional, Union

    from ._errors import CloudPartnerError
    from ._release import Release
    from ._results import ActionResult, CancelResult
    from ._tokens import AsyncTokenCredential, TokenCredential
    from ._types import Offer, OfferStatus, Operation

    Token = Union[str, TokenCredential, AsyncTokenCredential, None]
    Emails = Union[str, Iterable[str], None]
    Location = Union[str, CancelResult, ActionResult]
    ProgressCallback = Callable[[Operation], object]
    Outcome = Union[CancelResult, CloudPartnerError]
    ResultCallback = Callable[[int, Outcome], object]
    ReleaseCallback = Callable[[Release], object]

__all__ = ["Client", "cancel", "cancel_async"]


def record_or_default(record: Optional[Union[str, os.PathLike[str]]]) -> Optional[Union[str, os.PathLike[str]]]:
    return record if record is not None else os.environ.get(_core.RECORD_VARIABLE) or None


def _with_result_types(client: _core.Client) -> _core.Client:
    """Import the result types, once `client` exists.

    For https, a new core client reads the system's roots on a thread of its own: the import
    runs meanwhile, ahead of the first call's handshake.
    """
    from . import _results  # noqa: F401, PLC0415 - see above

    return client


def _completed(target: object) -> bool:
    """Tell whether `target` is a cancel that finished synchronously (nothing to wait for)."""
    from ._results import CancelResult  # noqa: PLC0415 - loaded by the call that made the result

    return isinstance(target, CancelResult) and target.completed


def base_url_or_default(
    base_url: Optional[str], variable: str = _core.BASE_URL_VARIABLE, default: str = _core.DEFAULT_BASE_URL
) -> str:
    """Return ``base_url``, else the service's variable (``variable``), else its root (``default``)."""
    if base_url is not None:
        return base_url  # validated by the core: an empty string is refused, not replaced
    return os.environ.get(variable) or default


class Client:
    """A Cloud Partner Portal client: a connection pool, a token source and settings.

    Safe to share across threads and usable from asyncio; close it (or use ``with``) when done.

    Args:
        token: a bearer token string (a leading ``Bearer `` is fine), a credential with
            ``get_token_info(*scopes)`` or ``get_token(*scopes)`` (azure-identity; asked for
            ``https://cloudpartner.azure.com/.default`` and cached until its ``refresh_on``, else
            5 minutes before expiry), an ``azure.identity.aio`` credential (``*_async`` calls
            only: a blocking call raises ``CredentialError`` naming the fix), or None to read
            ``CLOUDPARTNER_TOKEN`` at each call.
        base_url: the service root; default ``CLOUDPARTNER_BASE_URL`` or
            ``https://cloudpartner.azure.com``. Plain ``http://`` only to loopback.
        timeout: the most seconds a call may take, all its attempts, the waits between them
            (backoff, ``Retry-After``) and the reading of the answer together: each attempt gets
            what is left, and a retry whose wait would pass it is not made. On expiry the call
            raises ``RequestTimeoutError``. By default 30 s, and 300 s for a call that reads or
            writes a whole offer (``get_offer``, ``put_offer``, ``list_offers``), where the
            service has taken minutes before answering; a timeout given bounds every call.
            ``wait`` takes its own ``timeout``, for the whole wait.
        max_retries: retries of connect failures and 408/429/5xx answers (0 to 10).
        user_agent: a product token put before cloudpartner's own in ``User-Agent``.
        backoff: the first retry's maximum delay in seconds; doubles each retry, full jitter.
        ca_file: a PEM bundle of extra CA certificates to trust (corporate CAs), besides the
            system's store (which honours ``SSL_CERT_FILE``). Verification cannot be turned off.
        record: a file to append every exchange to, as JSON Lines (method, path, headers and
            bodies, status), for replaying offline (``FakePortal.from_recording``) or for a bug
            report; default ``CLOUDPARTNER_RECORD``. The ``Authorization`` header and any echo of
            the token are removed before anything is written.

    Raises:
        InvalidArgumentError: a setting is malformed (the message names it).

    """

    __slots__ = ("__weakref__", "_core")  # weakref: finalizers, WeakSet, caches keyed by client

    def __init__(
        self,
        token: Token = None,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        user_agent: Optional[str] = None,
        backoff: float = _core.DEFAULT_BACKOFF,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> None:
        self._core = _with_result_types(
            _core.Client(
                token,
                base_url_or_default(base_url),
                timeout,
                max_retries,
                backoff,
                user_agent,
                ca_file,
                record_or_default(record),
            )
        )

    def cancel(self, publisher: str, offer: str, emails: Emails = None) -> CancelResult:
        """Cancel the operation running on an offer.

        Args:
            publisher: the publisher id, e.g. ``"contoso"``.
            offer: the offer id.
            emails: addresses the service notifies of the cancel's progress: one
                comma-separated string or an iterable of strings.

        Returns:
            The service's answer: ``completed`` for a synchronous cancel (200), otherwise
            the operation to follow (202).

        Raises:
            InvalidArgumentError: bad input, refused before anything was sent.
            ApiError: the service refused (``NotFoundError``, ``ForbiddenError``, ...).
            TransportError: no usable answer.

        """
        return self._core.submit("cancel", publisher, offer, emails, None, False)

    async def cancel_async(self, publisher: str, offer: str, emails: Emails = None) -> CancelResult:
        """Asyncio twin of :meth:`cancel`."""
        return await self._core.submit("cancel", publisher, offer, emails, None, True)

    def cancel_many(
        self,
        items: Iterable[tuple[str, str]],
        *,
        emails: Emails = None,
        concurrency: int = _core.DEFAULT_CONCURRENCY,
        on_result: Optional[ResultCallback] = None,
    ) -> list[Outcome]:
        """Cancel many offers at once, in Rust, with at most ``concurrency`` calls in flight.

        Args:
            items: ``(publisher, offer)`` pairs.
            emails: as for :meth:`cancel`, sent with every item.
            concurrency: calls in flight at most (1 to 1024).
            on_result: called as ``on_result(index, outcome)`` as each item finishes (in
                completion order); an exception from it stops the batch and is raised. A
                blocking call cannot await: an ``async def`` is refused (``InvalidArgumentError``)
                before anything is sent, and so is, at its first call, one returning a coroutine;
                :meth:`cancel_many_async` awaits them.

        Returns:
            One entry per item, in input order: its ``CancelResult``, or the exception that item
            failed with (``NotFoundError``, ``InvalidArgumentError`` for a malformed pair, ...).
            One failed item does not stop the others.

        """
        return self._core.cancel_many(items, emails, concurrency, on_result, False)

    async def cancel_many_async(
        self,
        items: Iterable[tuple[str, str]],
        *,
        emails: Emails = None,
        concurrency: int = _core.DEFAULT_CONCURRENCY,
        on_result: Optional[ResultCallback] = None,
    ) -> list[Outcome]:
        """Asyncio twin of :meth:`cancel_many`; ``on_result`` runs on the event loop.

        ``on_result`` may be an ``async def`` (or return an awaitable): each call's coroutine runs
        as a task on the loop, one at a time in the order of the results (the next starts when the
        one before has finished), an exception from one stops the batch and is raised, and the call
        returns only once every one has finished (what they store is all there). Cancelling the
        call cancels those still running.
        """
        return await self._core.cancel_many(items, emails, concurrency, on_result, True)

    def get_operation(self, location: Location) -> Operation:
        """Fetch one operation.

        Args:
            location: a ``CancelResult``, or the absolute or relative location it carried.
                ``api-version`` is added when missing; a location on another host than
                ``base_url`` is refused (the token only goes to the configured service).

        """
        return self._core.get_operation(location, False)

    async def get_operation_async(self, location: Location) -> Operation:
        """Asyncio twin of :meth:`get_operation`."""
        return await self._core.get_operation(location, True)

    def list_operations(self, publisher: str, offer: str, status: Optional[str] = None) -> list[Operation]:
        """List an offer's operations (``GET .../submissions``), optionally only those with ``status``."""
        return self._core.list_operations(publisher, offer, status, False)

    async def list_operations_async(self, publisher: str, offer: str, status: Optional[str] = None) -> list[Operation]:
        """Asyncio twin of :meth:`list_operations`."""
        return await self._core.list_operations(publisher, offer, status, True)

    def wait(
        self,
        target: Location,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
        on_progress: Optional[ProgressCallback] = None,
        *,
        until_review: bool = False,
        progress: bool = False,
    ) -> Optional[Operation]:
        """Poll an operation until it ends, and return its final state.

        Args:
            target: a ``CancelResult``, an ``ActionResult`` (publish, go-live) or an operation
                location. A cancel that completed synchronously (200) has nothing to follow:
                ``None`` is returned at once.
            timeout: seconds to wait in all, polls included (each poll is a call, bounded by
                the client's ``timeout`` and by what is left of this one).
            poll_interval: seconds between polls (longer when the service sends ``Retry-After``).
            on_progress: called with the ``Operation`` at the first poll and whenever its status
                or a step's progress changes; an exception from it stops the wait. A blocking
                wait cannot await: an ``async def`` is refused (``InvalidArgumentError``) before
                anything is sent, and so is, at its first call, one returning a coroutine;
                :meth:`wait_async` awaits them.
            until_review: also return when the operation waits for the publisher's review
                (``Operation.waiting_for_review``: the ``publisher-signoff`` step of a publish),
                where a release script goes live next.
            progress: show each state as it comes: in a notebook an updating table, elsewhere a
                line on stderr (rewritten in place on a terminal); ``on_progress`` still runs.

        Raises:
            WaitTimeoutError: ``timeout`` passed; ``.operation`` is the last state seen.
            ApiError: polling was refused (e.g. ``NotFoundError``). Transient failures (5xx,
                429, transport) are polled through until the timeout.

        """
        if _completed(target):
            return None
        if progress:
            from ._display import progress_reporter  # noqa: PLC0415 - loaded only when asked for

            on_progress = progress_reporter(on_progress)
        return self._core.wait(target, timeout, poll_interval, on_progress, until_review, False)

    async def wait_async(
        self,
        target: Location,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
        on_progress: Optional[ProgressCallback] = None,
        *,
        until_review: bool = False,
        progress: bool = False,
    ) -> Optional[Operation]:
        """Asyncio twin of :meth:`wait`; ``on_progress`` runs on the event loop.

        ``on_progress`` may be an ``async def`` (or return an awaitable): each call's coroutine
        runs as a task on the loop, one at a time in order, an exception from one stops the wait
        and is raised, and the
        wait returns only once every one has finished. Cancelling the wait cancels those still
        running.
        """
        if _completed(target):
            return None
        if progress:
            from ._display import progress_reporter  # noqa: PLC0415 - loaded only when asked for

            on_progress = progress_reporter(on_progress)
        return await self._core.wait(target, timeout, poll_interval, on_progress, until_review, True)

    # -- the publish lifecycle -----------------------------------------------------------------

    def publish(self, publisher: str, offer: str, emails: Emails = None) -> ActionResult:
        """Start publishing the offer's draft (``POST .../publish``).

        The publish runs to preview, then waits for the publisher's review
        (``wait(result, until_review=True)`` returns there) before :meth:`go_live`.

        Raises:
            ConflictError: another operation runs on the offer (cancel it first, or use
                :meth:`cancel_and_publish`).

        """
        return self._core.submit("publish", publisher, offer, emails, None, False)

    async def publish_async(self, publisher: str, offer: str, emails: Emails = None) -> ActionResult:
        """Asyncio twin of :meth:`publish`."""
        return await self._core.submit("publish", publisher, offer, emails, None, True)

    def go_live(self, publisher: str, offer: str) -> ActionResult:
        """Take the reviewed preview live (``POST .../golive``); the service mails the publish's list.

        Raises:
            ConflictError: another operation runs on the offer.

        """
        return self._core.submit("golive", publisher, offer, None, None, False)

    async def go_live_async(self, publisher: str, offer: str) -> ActionResult:
        """Asyncio twin of :meth:`go_live`."""
        return await self._core.submit("golive", publisher, offer, None, None, True)

    def cancel_and_publish(
        self,
        publisher: str,
        offer: str,
        emails: Emails = None,
        *,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
    ) -> ActionResult:
        """Cancel whatever runs on the offer, wait until it has stopped, then publish.

        Works when nothing runs too: the service then answers the cancel with 202 naming the
        offer's latest operation, which has already ended. ``timeout`` bounds the wait for the
        cancel (``WaitTimeoutError`` when it passes; nothing is published then); the cancel and the
        publish are calls, each bounded by the client's ``timeout``.
        """
        cancelled = self.cancel(publisher, offer, emails)
        if cancelled.operation_location is not None:  # no location: nothing ever ran to wait for
            self.wait(cancelled, timeout, poll_interval)
        return self.publish(publisher, offer, emails)

    async def cancel_and_publish_async(
        self,
        publisher: str,
        offer: str,
        emails: Emails = None,
        *,
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
    ) -> ActionResult:
        """Asyncio twin of :meth:`cancel_and_publish`."""
        cancelled = await self.cancel_async(publisher, offer, emails)
        if cancelled.operation_location is not None:
            await self.wait_async(cancelled, timeout, poll_interval)
        return await self.publish_async(publisher, offer, emails)

    def get_offer_status(self, publisher: str, offer: str) -> OfferStatus:
        """Fetch the offer's status (``GET .../status``): its latest operation's status, steps, messages."""
        return self._core.get_offer_status(publisher, offer, False)

    async def get_offer_status_async(self, publisher: str, offer: str) -> OfferStatus:
        """Asyncio twin of :meth:`get_offer_status`."""
        return await self._core.get_offer_status(publisher, offer, True)

    def list_offers(self, publisher: str, offer_type: Optional[str] = None) -> list[dict[str, Any]]:
        """List the publisher's offers as the service summarizes them (``id``, ``status``, ``version``, ...).

        Args:
            publisher: the publisher id.
            offer_type: only offers of this type, e.g. ``microsoft-azure-virtualmachines``
                (``$filter=offerTypeId eq '...'``, as Microsoft's own CLI asks).

        """
        return self._core.list_offers(publisher, offer_type, False)

    async def list_offers_async(self, publisher: str, offer_type: Optional[str] = None) -> list[dict[str, Any]]:
        """Asyncio twin of :meth:`list_offers`."""
        return await self._core.list_offers(publisher, offer_type, True)

    def list_publishers(self) -> list[dict[str, Any]]:
        """List the publishers the token may act for (``GET /api/publishers``): ``id``, ``definition``, ..."""
        return self._core.list_publishers(False)

    async def list_publishers_async(self) -> list[dict[str, Any]]:
        """Asyncio twin of :meth:`list_publishers`."""
        return await self._core.list_publishers(True)

    def get_offer(
        self, publisher: str, offer: str, *, slot: Optional[str] = None, version: Optional[int] = None
    ) -> Offer:
        """Fetch one offer's definition, with the ETag an update needs.

        Args:
            publisher: the publisher id.
            offer: the offer id.
            slot: ``"draft"``, ``"preview"`` or ``"production"``; None for the offer as the
                service gives it (the draft). ``NotFoundError`` when that slot was never filled.
            version: an earlier version number, or None for the latest.

        """
        return self._core.get_offer(publisher, offer, slot, version, False)

    async def get_offer_async(
        self, publisher: str, offer: str, *, slot: Optional[str] = None, version: Optional[int] = None
    ) -> Offer:
        """Asyncio twin of :meth:`get_offer`."""
        return await self._core.get_offer(publisher, offer, slot, version, True)

    def put_offer(
        self, publisher: str, offer: str, definition: dict[str, Any], *, if_match: Union[str, Offer]
    ) -> Offer:
        """Create or update an offer (``PUT .../offers/{offer}``) and return it with its new ETag.

        Args:
            publisher: the publisher id.
            offer: the offer id.
            definition: the whole offer document (a dict; integers are sent exactly, up to 640 digits).
            if_match: the concurrency rule, which the service requires: the ``Offer`` you read
                (or its ``etag``) to update only if nobody changed it since, or ``"*"`` to
                overwrite whatever is stored. There is no default, so it is never chosen by
                accident.

        Raises:
            PreconditionFailedError: the offer changed since that ETag (412): read it again.

        """
        return self._core.put_offer(publisher, offer, definition, if_match, False)

    async def put_offer_async(
        self, publisher: str, offer: str, definition: dict[str, Any], *, if_match: Union[str, Offer]
    ) -> Offer:
        """Asyncio twin of :meth:`put_offer`."""
        return await self._core.put_offer(publisher, offer, definition, if_match, True)

    # -- image versions: add, deprecate, release --------------------------------------------------

    def add_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        *,
        os_vhd_url: str,
        label: Optional[str] = None,
        description: Optional[str] = None,
        data_disks: Iterable[tuple[int, str]] = (),
    ) -> Optional[Offer]:
        """Add an image version to a plan of a VM offer's draft, or update the version of that number.

        Reads the offer with its ETag; in the plan whose ``planId`` is ``plan`` (one of
        ``definition.plans``, or of a plan's ``diskGenerations``) sets
        ``microsoft-azure-corevm.vmImagesPublicAzure[version]`` to ``{"osVhdUrl", "lunVhdDetails",
        "label", "mediaName", "publishedDate", "description", "showInGui": true}``; puts the offer
        back under ``If-Match`` with that ETag, without the keys the service refuses back
        (``Offer.for_put``). Every other part of the offer is sent back as it was read.

        Args:
            publisher: the publisher id.
            offer: the offer id.
            plan: the plan's ``planId``.
            version: the version key, ``N.N.N`` (e.g. ``2024.01.15``).
            os_vhd_url: the OS disk's SAS URI (https, with its signature ``sig``).
            label: the version's label; None keeps an existing version's, and names a new one by
                its version.
            description: its description; None keeps an existing version's, and gives a new one
                its label.
            data_disks: the data disks, ``(LUN, SAS URI)`` pairs (at most 16, each LUN once), as
                ``lunVhdDetails`` items ``{"lun", "uri"}``.

        Returns:
            The stored ``Offer`` with its new ETag, or None when the plan already holds that
            version with the same VHDs, shown (SAS URIs compared without their signature
            parameters, which change each time one is generated): nothing was written.

        Raises:
            InvalidArgumentError: bad input, refused before anything was sent (the message never
                shows a SAS signature).
            NotFoundError: no such offer, or no such plan (the message lists the plans there are);
                nothing was written.
            PreconditionFailedError: the offer changed between the read and the write: call again.

        """
        return self._core.add_image_version(
            publisher, offer, plan, version, os_vhd_url, label, description, data_disks, False
        )

    async def add_image_version_async(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        *,
        os_vhd_url: str,
        label: Optional[str] = None,
        description: Optional[str] = None,
        data_disks: Iterable[tuple[int, str]] = (),
    ) -> Optional[Offer]:
        """Asyncio twin of :meth:`add_image_version`."""
        return await self._core.add_image_version(
            publisher, offer, plan, version, os_vhd_url, label, description, data_disks, True
        )

    def deprecate_image_version(self, publisher: str, offer: str, plan: str, version: str) -> Optional[Offer]:
        """Hide an image version of a plan from customers (``showInGui: false``) in the offer's draft.

        The version stays in the offer (the service keeps what was published); publish for it to
        take effect. The offer is read, edited and put back as :meth:`add_image_version` does.

        Returns:
            The stored ``Offer``, or None when the version was hidden already (nothing written).

        Raises:
            InvalidArgumentError: ``version`` is the last version the plan shows: hiding it would
                leave the plan with none, so it is refused before anything is written (deprecate
                the plan or the offer instead); or bad input.
            NotFoundError: no such offer, plan (the plans are listed) or version (the versions
                are listed).

        """
        return self._core.deprecate_image_version(publisher, offer, plan, version, False)

    async def deprecate_image_version_async(
        self, publisher: str, offer: str, plan: str, version: str
    ) -> Optional[Offer]:
        """Asyncio twin of :meth:`deprecate_image_version`."""
        return await self._core.deprecate_image_version(publisher, offer, plan, version, True)

    def release_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        *,
        os_vhd_url: str,
        emails: Emails,
        target: str = "live",
        label: Optional[str] = None,
        description: Optional[str] = None,
        data_disks: Iterable[tuple[int, str]] = (),
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
        progress: bool = False,
        on_progress: Optional[ReleaseCallback] = None,
    ) -> Release:
        """Release an image version: add it to the plan, publish, wait for review, go live.

        The steps are ``add`` (:meth:`add_image_version`), ``preview`` (``publish``, followed
        until the offer waits for the publisher's review) and ``live`` (``go_live``, followed
        until it succeeds). ``target="draft"`` stops after ``add``, ``"preview"`` after
        ``preview``.

        Resumable: the call first reads where the offer stands (its status, its draft, and the
        preview or production slot when the status calls for it) and does no step twice. Run it
        again after any failure, timeout or interruption: a version already live is reads only; a
        publish of it waiting for review gets only the go-live; a publish or go-live of it under
        way is followed, not sent again.

        Cancellable: the operation each step starts is in the ``Release`` that ``on_progress``
        gets as soon as it starts (``release.current.job_id``); :meth:`cancel` stops it, and the
        release then raises ``JobFailedError``.

        Args:
            publisher: the publisher id.
            offer: the offer id.
            plan: the plan's ``planId``.
            version: the version key, ``N.N.N``.
            os_vhd_url: the OS disk's SAS URI, as for :meth:`add_image_version`.
            label: as for :meth:`add_image_version`.
            description: as for :meth:`add_image_version`.
            data_disks: as for :meth:`add_image_version`.
            emails: the addresses the publish notifies (as for :meth:`publish`).
            target: ``"draft"``, ``"preview"`` or ``"live"``.
            timeout: seconds the whole release may take, its waits included; a go-live can take
                days, so a script may stop waiting and call again later.
            poll_interval: seconds between polls of an operation.
            progress: show each step and operation state as it comes (a live table in a notebook,
                else a line on stderr); ``on_progress`` still runs.
            on_progress: called with the ``Release`` so far at each step and at each change of the
                operation it follows; an exception from it stops the release (what runs on the
                service keeps running) and is raised.

        Returns:
            The ``Release``: each step ``done`` now or ``already-done``, with its operation id.

        Raises:
            InvalidArgumentError: bad input, refused before anything was sent.
            NotFoundError: no such offer or plan (the plans are listed); nothing was written.
            SubmissionConflictError: another operation runs on the offer that is not this
                version's (nothing was written): release again once it has ended, or cancel it.
            CertificationFailedError: the publish failed certification (``.job`` is the
                ``Operation``).
            JobFailedError: a publish or go-live failed or was cancelled (``.job``).
            WaitTimeoutError: ``timeout`` passed (``.operation``: the last state seen).

        """
        if progress:
            from ._display import progress_reporter  # noqa: PLC0415 - loaded only when asked for

            on_progress = progress_reporter(on_progress)
        return self._core.release_image_version(
            publisher,
            offer,
            plan,
            version,
            os_vhd_url,
            label,
            description,
            data_disks,
            emails,
            target,
            timeout,
            poll_interval,
            on_progress,
            False,
        )

    async def release_image_version_async(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        *,
        os_vhd_url: str,
        emails: Emails,
        target: str = "live",
        label: Optional[str] = None,
        description: Optional[str] = None,
        data_disks: Iterable[tuple[int, str]] = (),
        timeout: float = _core.DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = _core.DEFAULT_POLL_INTERVAL,
        progress: bool = False,
        on_progress: Optional[ReleaseCallback] = None,
    ) -> Release:
        """Asyncio twin of :meth:`release_image_version`; ``on_progress`` runs on the event loop (may be ``async``)."""
        if progress:
            from ._display import progress_reporter  # noqa: PLC0415 - loaded only when asked for

            on_progress = progress_reporter(on_progress)
        return await self._core.release_image_version(
            publisher,
            offer,
            plan,
            version,
            os_vhd_url,
            label,
            description,
            data_disks,
            emails,
            target,
            timeout,
            poll_interval,
            on_progress,
            True,
        )

    def close(self) -> None:
        """Drop idle connections and refuse further calls (``ClientClosedError``)."""
        self._core.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._core.closed

    @property
    def base_url(self) -> str:
        """The service root this client talks to."""
        return self._core.base_url

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
        return f"<cloudpartner.Client {self.base_url} timeout={self._core.timeout:g}s {state}>"


# Module-level calls share clients (and so connection pools) per (base_url, timeout, record).
_shared: dict[tuple[Any, Any, Any], _core.Client] = {}
_shared_lock = allocate_lock()
_MAX_SHARED = 16


def _new_shared(base_url: Any, timeout: Any, record: Any) -> _core.Client:
    client = _core.Client(None, base_url, timeout, _core.DEFAULT_MAX_RETRIES, _core.DEFAULT_BACKOFF, None, None, record)
    return _with_result_types(client)


def _shared_client(base_url: Optional[str], timeout: Optional[float]) -> _core.Client:
    key = (
        base_url_or_default(base_url),
        timeout,
        record_or_default(None),
    )
    if not isinstance(key[0], str) or isinstance(key[1], bool) or not isinstance(key[1], (int, float, type(None))):
        # Not a cache key; the core refuses it with an InvalidArgumentError naming the field.
        return _new_shared(*key)
    client = _shared.get(key)
    if client is None:
        with _shared_lock:
            client = _shared.get(key)
            if client is None:
                client = _new_shared(*key)
                if len(_shared) >= _MAX_SHARED:
                    _shared.pop(next(iter(_shared)))
                _shared[key] = client
    return client


def cancel(
    publisher: str,
    offer: str,
    token: Token = None,
    emails: Emails = None,
    *,
    base_url: Optional[str] = None,
    timeout: Optional[float] = None,
) -> CancelResult:
    """Cancel the operation running on an offer, with a process-wide pooled client.

    ``token`` is as for :class:`Client` (None reads ``CLOUDPARTNER_TOKEN``), and so is ``timeout``:
    the most the call may take, retries included; see :meth:`Client.cancel` for the rest.
    """
    return _shared_client(base_url, timeout).submit("cancel", publisher, offer, emails, token, False)


async def cancel_async(
    publisher: str,
    offer: str,
    token: Token = None,
    emails: Emails = None,
    *,
    base_url: Optional[str] = None,
    timeout: Optional[float] = None,
) -> CancelResult:
    """Asyncio twin of :func:`cancel`."""
    return await _shared_client(base_url, timeout).submit("cancel", publisher, offer, emails, token, True)
