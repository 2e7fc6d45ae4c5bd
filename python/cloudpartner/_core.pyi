"""Type stubs of the Rust extension (checked against it by mypy.stubtest in CI)."""

import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Optional, Union, final

from ._errors import CloudPartnerError
from ._results import ActionResult, CancelResult
from ._types import Offer, OfferStatus, Operation

__version__: Final[str]
DEFAULT_BASE_URL: Final[str]
API_VERSION: Final[str]
MAX_SUCCESS_BODY_BYTES: Final[int]
MAX_ERROR_BODY_BYTES: Final[int]
RETRIABLE_STATUSES: Final[tuple[int, ...]]
DEFAULT_TIMEOUT: Final[float]
DEFAULT_WAIT_TIMEOUT: Final[float]
DEFAULT_POLL_INTERVAL: Final[float]
DEFAULT_MAX_RETRIES: Final[int]
DEFAULT_BACKOFF: Final[float]
DEFAULT_CONCURRENCY: Final[int]
TOKEN_VARIABLE: Final[str]
RECORD_VARIABLE: Final[str]
SCOPE: Final[str]

_Emails = Union[str, Iterable[str], None]
_Location = Union[str, CancelResult, ActionResult]
_Progress = Optional[Callable[[Operation], object]]
_Outcome = Union[CancelResult, CloudPartnerError]
_OnResult = Optional[Callable[[int, _Outcome], object]]

def status_phase(status: str) -> str: ...
def is_loopback_url(url: str) -> bool: ...
def is_transient_status(status: int) -> bool: ...

__all__ = [
    "API_VERSION",
    "DEFAULT_BACKOFF",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "MAX_ERROR_BODY_BYTES",
    "MAX_SUCCESS_BODY_BYTES",
    "RECORD_VARIABLE",
    "RETRIABLE_STATUSES",
    "SCOPE",
    "TOKEN_VARIABLE",
    "Client",
    "__version__",
    "is_loopback_url",
    "is_transient_status",
    "status_phase",
]

@final
class Client:
    def __new__(
        cls,
        token: Any,
        base_url: str,
        timeout: float,
        max_retries: int,
        backoff: float,
        user_agent: Optional[str],
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> Client: ...
    def cancel(self, publisher: str, offer: str, emails: _Emails = None, token: Any = None) -> CancelResult: ...
    def cancel_async(
        self, publisher: str, offer: str, emails: _Emails = None, token: Any = None
    ) -> Awaitable[CancelResult]: ...
    def cancel_many(
        self,
        items: Iterable[tuple[str, str]],
        emails: _Emails = None,
        concurrency: Optional[int] = None,
        on_result: _OnResult = None,
    ) -> list[_Outcome]: ...
    def cancel_many_async(
        self,
        items: Iterable[tuple[str, str]],
        emails: _Emails = None,
        concurrency: Optional[int] = None,
        on_result: _OnResult = None,
    ) -> Awaitable[list[_Outcome]]: ...
    def get_operation(self, location: _Location) -> Operation: ...
    def get_operation_async(self, location: _Location) -> Awaitable[Operation]: ...
    def list_operations(self, publisher: str, offer: str, status: Optional[str] = None) -> list[Operation]: ...
    def list_operations_async(
        self, publisher: str, offer: str, status: Optional[str] = None
    ) -> Awaitable[list[Operation]]: ...
    def wait(
        self,
        location: _Location,
        timeout: float,
        poll_interval: float,
        on_progress: _Progress = None,
        until_review: bool = False,
    ) -> Operation: ...
    def wait_async(
        self,
        location: _Location,
        timeout: float,
        poll_interval: float,
        on_progress: _Progress = None,
        until_review: bool = False,
    ) -> Awaitable[Operation]: ...
    def start(self, action: str, publisher: str, offer: str, emails: _Emails = None) -> ActionResult: ...
    def start_async(
        self, action: str, publisher: str, offer: str, emails: _Emails = None
    ) -> Awaitable[ActionResult]: ...
    def get_offer_status(self, publisher: str, offer: str) -> OfferStatus: ...
    def get_offer_status_async(self, publisher: str, offer: str) -> Awaitable[OfferStatus]: ...
    def list_offers(self, publisher: str) -> list[dict[str, Any]]: ...
    def list_offers_async(self, publisher: str) -> Awaitable[list[dict[str, Any]]]: ...
    def get_offer(
        self, publisher: str, offer: str, slot: Optional[str] = None, version: Optional[int] = None
    ) -> Offer: ...
    def get_offer_async(
        self, publisher: str, offer: str, slot: Optional[str] = None, version: Optional[int] = None
    ) -> Awaitable[Offer]: ...
    def put_offer(
        self, publisher: str, offer: str, definition: dict[str, Any], if_match: Union[str, Offer]
    ) -> Offer: ...
    def put_offer_async(
        self, publisher: str, offer: str, definition: dict[str, Any], if_match: Union[str, Offer]
    ) -> Awaitable[Offer]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
