"""The Client and the module-level shortcuts."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Callable, Optional, Protocol, Union

from . import _core
from ._errors import CloudPartnerError
from ._types import CancelResult, Operation

__all__ = ["Client", "TokenCredential", "cancel", "cancel_async"]

BASE_URL_VARIABLE = "CLOUDPARTNER_BASE_URL"


class AccessToken(Protocol):
    """What a credential's ``get_token`` returns (azure-core's ``AccessToken`` fits)."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredential(Protocol):
    """A synchronous credential, such as any ``azure.identity`` credential."""

    def get_token(self, *scopes: str) -> AccessToken: ...


Token = Union[str, TokenCredential, None]
Emails = Union[str, Iterable[str], None]
Location = Union[str, CancelResult]
ProgressCallback = Callable[[Operation], object]
Outcome = Union[CancelResult, CloudPartnerError]
ResultCallback = Callable[[int, Outcome], object]


def record_or_default(record: Optional[Union[str, os.PathLike[str]]]) -> Optional[Union[str, os.PathLike[str]]]:
    return record if record is not None else os.environ.get(_core.RECORD_VARIABLE) or None


def base_url_or_default(base_url: Optional[str]) -> str:
    if base_url is not None:
        return base_url  # validated by the core: an empty string is refused, not replaced
    return os.environ.get(BASE_URL_VARIABLE) or _core.DEFAULT_BASE_URL


class Client:
    """A Cloud Partner Portal client: a connection pool, a token source and settings.

    Safe to share across threads and usable from asyncio; close it (or use ``with``) when done.

    Args:
        token: a bearer token string (a leading ``Bearer `` is fine), a credential with
            ``get_token(*scopes)`` (azure-identity; asked for
            ``https://cloudpartner.azure.com/.default`` and cached until 5 minutes before
            expiry), or None to read ``CLOUDPARTNER_TOKEN`` at each call.
        base_url: the service root; default ``CLOUDPARTNER_BASE_URL`` or
            ``https://cloudpartner.azure.com``. Plain ``http://`` only to loopback.
        timeout: seconds each attempt may take, connect to last byte.
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

    __slots__ = ("_core",)

    def __init__(
        self,
        token: Token = None,
        *,
        base_url: Optional[str] = None,
        timeout: float = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        user_agent: Optional[str] = None,
        backoff: float = _core.DEFAULT_BACKOFF,
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> None:
        self._core = _core.Client(
            token,
            base_url_or_default(base_url),
            timeout,
            max_retries,
            backoff,
            user_agent,
            ca_file,
            record_or_default(record),
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
        return self._core.cancel(publisher, offer, emails)

    async def cancel_async(self, publisher: str, offer: str, emails: Emails = None) -> CancelResult:
        """Asyncio twin of :meth:`cancel`."""
        return await self._core.cancel_async(publisher, offer, emails)

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
                completion order); an exception from it stops the batch and is raised.

        Returns:
            One entry per item, in input order: its ``CancelResult``, or the exception that item
            failed with (``NotFoundError``, ``InvalidArgumentError`` for a malformed pair, ...).
            One failed item does not stop the others.

        """
        return self._core.cancel_many(items, emails, concurrency, on_result)

    async def cancel_many_async(
        self,
        items: Iterable[tuple[str, str]],
        *,
        emails: Emails = None,
        concurrency: int = _core.DEFAULT_CONCURRENCY,
        on_result: Optional[ResultCallback] = None,
    ) -> list[Outcome]:
        """Asyncio twin of :meth:`cancel_many`; ``on_result`` runs on the event loop."""
        return await self._core.cancel_many_async(items, emails, concurrency, on_result)

    def get_operation(self, location: Location) -> Operation:
        """Fetch one operation.

        Args:
            location: a ``CancelResult``, or the absolute or relative location it carried.
                ``api-version`` is added when missing; a location on another host than
                ``base_url`` is refused (the token only goes to the configured service).

        """
        return self._core.get_operation(location)

    async def get_operation_async(self, location: Location) -> Operation:
        """Asyncio twin of :meth:`get_operation`."""
        return await self._core.get_operation_async(location)

    def list_operations(self, publisher: str, offer: str, status: Optional[str] = None) -> list[Operation]:
        """List an offer's operations (``GET .../submissions``), optionally only those with ``status``."""
        return self._core.list_operations(publisher, offer, status)

    async def list_operations_async(self, publisher: str, offer: str, status: Optional[str] = None) -> list[Operation]:
        """Asyncio twin of :meth:`list_operations`."""
        return await self._core.list_operations_async(publisher, offer, status)

    def wait(
        self,
        target: Location,
        timeout: float = 600.0,
        poll_interval: float = 5.0,
        on_progress: Optional[ProgressCallback] = None,
    ) -> Optional[Operation]:
        """Poll an operation until it ends, and return its final state.

        Args:
            target: a ``CancelResult`` or an operation location. A cancel that completed
                synchronously (200) has nothing to follow: ``None`` is returned at once.
            timeout: seconds to wait in all.
            poll_interval: seconds between polls (longer when the service sends ``Retry-After``).
            on_progress: called with the ``Operation`` at the first poll and whenever its status
                or a step's progress changes; an exception from it stops the wait.

        Raises:
            WaitTimeoutError: ``timeout`` passed; ``.operation`` is the last state seen.
            ApiError: polling was refused (e.g. ``NotFoundError``). Transient failures (5xx,
                429, transport) are polled through until the timeout.

        """
        if isinstance(target, CancelResult) and target.completed:
            return None
        return self._core.wait(target, timeout, poll_interval, on_progress)

    async def wait_async(
        self,
        target: Location,
        timeout: float = 600.0,
        poll_interval: float = 5.0,
        on_progress: Optional[ProgressCallback] = None,
    ) -> Optional[Operation]:
        """Asyncio twin of :meth:`wait`; ``on_progress`` runs on the event loop."""
        if isinstance(target, CancelResult) and target.completed:
            return None
        return await self._core.wait_async(target, timeout, poll_interval, on_progress)

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
_shared_lock = threading.Lock()
_MAX_SHARED = 16


def _new_shared(base_url: Any, timeout: Any, record: Any) -> _core.Client:
    return _core.Client(None, base_url, timeout, _core.DEFAULT_MAX_RETRIES, _core.DEFAULT_BACKOFF, None, None, record)


def _shared_client(base_url: Optional[str], timeout: Optional[float]) -> _core.Client:
    key = (
        base_url_or_default(base_url),
        _core.DEFAULT_TIMEOUT if timeout is None else timeout,
        record_or_default(None),
    )
    if not isinstance(key[0], str) or isinstance(key[1], bool) or not isinstance(key[1], (int, float)):
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

    ``token`` is as for :class:`Client` (None reads ``CLOUDPARTNER_TOKEN``); see
    :meth:`Client.cancel` for the rest.
    """
    return _shared_client(base_url, timeout).cancel(publisher, offer, emails, token)


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
    return await _shared_client(base_url, timeout).cancel_async(publisher, offer, emails, token)
