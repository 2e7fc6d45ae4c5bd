"""Type stubs of the Rust extension (checked against it by mypy.stubtest in CI).

Each call is one method; its last argument, ``asynchronous``, picks a blocking call (the result)
or an awaitable of it (for asyncio).
"""

import os
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, Literal, Optional, Union, final, overload

from ._errors import CloudPartnerError
from ._release import Release
from ._results import ActionResult, CancelResult
from ._types import Offer, OfferStatus, Operation
from .ingestion._jobs import Job
from .ingestion._types import Plan, Product, Submission, TechnicalConfiguration

__version__: Final[str]
DEFAULT_BASE_URL: Final[str]
BASE_URL_VARIABLE: Final[str]
API_VERSION: Final[str]
MAX_SUCCESS_BODY_BYTES: Final[int]
MAX_ERROR_BODY_BYTES: Final[int]
MAX_INPUT_FILE_BYTES: Final[int]
MAX_JSON_DEPTH: Final[int]
MAX_JSON_INTEGER_DIGITS: Final[int]
RETRIABLE_STATUSES: Final[tuple[int, ...]]
DEFAULT_TIMEOUT: Final[float]
DEFAULT_DOCUMENT_TIMEOUT: Final[float]
DEFAULT_WAIT_TIMEOUT: Final[float]
RELEASE_TARGETS: Final[tuple[str, ...]]
IMAGE_TYPES: Final[tuple[str, ...]]
DEFAULT_POLL_INTERVAL: Final[float]
DEFAULT_MAX_RETRIES: Final[int]
DEFAULT_BACKOFF: Final[float]
DEFAULT_CONCURRENCY: Final[int]
TOKEN_VARIABLE: Final[str]
RECORD_VARIABLE: Final[str]
SCOPE: Final[str]
READ_ONLY_OFFER_KEYS: Final[tuple[str, ...]]
INGESTION_BASE_URL: Final[str]
INGESTION_BASE_URL_VARIABLE: Final[str]
INGESTION_VERSION: Final[str]
INGESTION_SCOPE: Final[str]
INGESTION_TOKEN_VARIABLE: Final[str]
INGESTION_POLL_INTERVAL: Final[float]
SUBMISSION_SCHEMA: Final[str]

_Emails = Union[str, Iterable[str], None]
_Location = Union[str, CancelResult, ActionResult]
_Progress = Optional[Callable[[Operation], object]]
_JobProgress = Optional[Callable[[Job], object]]
_ReleaseProgress = Optional[Callable[[Release], object]]
_Outcome = Union[CancelResult, CloudPartnerError]
_OnResult = Optional[Callable[[int, _Outcome], object]]
_Job = Union[str, Job]
_Product = Union[str, Product]
_Sync = Literal[False]
_Async = Literal[True]

def status_phase(status: str) -> str: ...
def job_phase(status: str, result: str) -> str: ...
def is_loopback_url(url: str) -> bool: ...
def api_error_text(
    status: int,
    code: Optional[str],
    message: Optional[str],
    body_is_empty: bool,
    location: Optional[str],
    retry_after: Optional[float],
    request_id: Optional[str],
    client_request_id: Optional[str],
) -> str: ...
def is_transient_status(status: int) -> bool: ...

__all__ = [
    "API_VERSION",
    "BASE_URL_VARIABLE",
    "DEFAULT_BACKOFF",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DOCUMENT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "IMAGE_TYPES",
    "INGESTION_BASE_URL",
    "INGESTION_BASE_URL_VARIABLE",
    "INGESTION_POLL_INTERVAL",
    "INGESTION_SCOPE",
    "INGESTION_TOKEN_VARIABLE",
    "INGESTION_VERSION",
    "MAX_ERROR_BODY_BYTES",
    "MAX_INPUT_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_JSON_INTEGER_DIGITS",
    "MAX_SUCCESS_BODY_BYTES",
    "READ_ONLY_OFFER_KEYS",
    "RECORD_VARIABLE",
    "RELEASE_TARGETS",
    "RETRIABLE_STATUSES",
    "SCOPE",
    "SUBMISSION_SCHEMA",
    "TOKEN_VARIABLE",
    "Client",
    "IngestionClient",
    "__version__",
    "api_error_text",
    "is_loopback_url",
    "is_transient_status",
    "job_phase",
    "status_phase",
]

@final
class Client:
    def __new__(
        cls,
        token: Any,
        base_url: str,
        timeout: Optional[float],
        max_retries: int,
        backoff: float,
        user_agent: Optional[str],
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> Client: ...
    @overload
    def submit(
        self, action: Literal["cancel"], publisher: str, offer: str, emails: _Emails, token: Any, asynchronous: _Sync
    ) -> CancelResult: ...
    @overload
    def submit(
        self, action: Literal["cancel"], publisher: str, offer: str, emails: _Emails, token: Any, asynchronous: _Async
    ) -> Awaitable[CancelResult]: ...
    @overload
    def submit(
        self,
        action: Literal["publish", "golive"],
        publisher: str,
        offer: str,
        emails: _Emails,
        token: Any,
        asynchronous: _Sync,
    ) -> ActionResult: ...
    @overload
    def submit(
        self,
        action: Literal["publish", "golive"],
        publisher: str,
        offer: str,
        emails: _Emails,
        token: Any,
        asynchronous: _Async,
    ) -> Awaitable[ActionResult]: ...
    @overload
    def cancel_many(
        self,
        items: Iterable[tuple[str, str]],
        emails: _Emails,
        concurrency: Optional[int],
        on_result: _OnResult,
        asynchronous: _Sync,
    ) -> list[_Outcome]: ...
    @overload
    def cancel_many(
        self,
        items: Iterable[tuple[str, str]],
        emails: _Emails,
        concurrency: Optional[int],
        on_result: _OnResult,
        asynchronous: _Async,
    ) -> Awaitable[list[_Outcome]]: ...
    @overload
    def get_operation(self, location: _Location, asynchronous: _Sync) -> Operation: ...
    @overload
    def get_operation(self, location: _Location, asynchronous: _Async) -> Awaitable[Operation]: ...
    @overload
    def list_operations(
        self, publisher: str, offer: str, status: Optional[str], asynchronous: _Sync
    ) -> list[Operation]: ...
    @overload
    def list_operations(
        self, publisher: str, offer: str, status: Optional[str], asynchronous: _Async
    ) -> Awaitable[list[Operation]]: ...
    @overload
    def wait(
        self,
        location: _Location,
        timeout: float,
        poll_interval: float,
        on_progress: _Progress,
        until_review: bool,
        asynchronous: _Sync,
    ) -> Operation: ...
    @overload
    def wait(
        self,
        location: _Location,
        timeout: float,
        poll_interval: float,
        on_progress: _Progress,
        until_review: bool,
        asynchronous: _Async,
    ) -> Awaitable[Operation]: ...
    @overload
    def get_offer_status(self, publisher: str, offer: str, asynchronous: _Sync) -> OfferStatus: ...
    @overload
    def get_offer_status(self, publisher: str, offer: str, asynchronous: _Async) -> Awaitable[OfferStatus]: ...
    @overload
    def list_offers(self, publisher: str, offer_type: Optional[str], asynchronous: _Sync) -> list[dict[str, Any]]: ...
    @overload
    def list_offers(
        self, publisher: str, offer_type: Optional[str], asynchronous: _Async
    ) -> Awaitable[list[dict[str, Any]]]: ...
    @overload
    def list_publishers(self, asynchronous: _Sync) -> list[dict[str, Any]]: ...
    @overload
    def list_publishers(self, asynchronous: _Async) -> Awaitable[list[dict[str, Any]]]: ...
    @overload
    def get_offer(
        self, publisher: str, offer: str, slot: Optional[str], version: Optional[int], asynchronous: _Sync
    ) -> Offer: ...
    @overload
    def get_offer(
        self, publisher: str, offer: str, slot: Optional[str], version: Optional[int], asynchronous: _Async
    ) -> Awaitable[Offer]: ...
    @overload
    def put_offer(
        self, publisher: str, offer: str, definition: dict[str, Any], if_match: Union[str, Offer], asynchronous: _Sync
    ) -> Offer: ...
    @overload
    def put_offer(
        self, publisher: str, offer: str, definition: dict[str, Any], if_match: Union[str, Offer], asynchronous: _Async
    ) -> Awaitable[Offer]: ...
    @overload
    def add_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        os_vhd_url: str,
        label: Optional[str],
        description: Optional[str],
        data_disks: Iterable[tuple[int, str]],
        asynchronous: _Sync,
    ) -> Optional[Offer]: ...
    @overload
    def add_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        os_vhd_url: str,
        label: Optional[str],
        description: Optional[str],
        data_disks: Iterable[tuple[int, str]],
        asynchronous: _Async,
    ) -> Awaitable[Optional[Offer]]: ...
    @overload
    def deprecate_image_version(
        self, publisher: str, offer: str, plan: str, version: str, asynchronous: _Sync
    ) -> Optional[Offer]: ...
    @overload
    def deprecate_image_version(
        self, publisher: str, offer: str, plan: str, version: str, asynchronous: _Async
    ) -> Awaitable[Optional[Offer]]: ...
    @overload
    def release_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        os_vhd_url: str,
        label: Optional[str],
        description: Optional[str],
        data_disks: Iterable[tuple[int, str]],
        emails: _Emails,
        target: str,
        timeout: float,
        poll_interval: float,
        on_progress: _ReleaseProgress,
        asynchronous: _Sync,
    ) -> Release: ...
    @overload
    def release_image_version(
        self,
        publisher: str,
        offer: str,
        plan: str,
        version: str,
        os_vhd_url: str,
        label: Optional[str],
        description: Optional[str],
        data_disks: Iterable[tuple[int, str]],
        emails: _Emails,
        target: str,
        timeout: float,
        poll_interval: float,
        on_progress: _ReleaseProgress,
        asynchronous: _Async,
    ) -> Awaitable[Release]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...

@final
class IngestionClient:
    def __new__(
        cls,
        token: Any,
        base_url: str,
        version: Optional[str],
        timeout: Optional[float],
        max_retries: int,
        backoff: float,
        user_agent: Optional[str],
        ca_file: Optional[Union[str, os.PathLike[str]]] = None,
        record: Optional[Union[str, os.PathLike[str]]] = None,
    ) -> IngestionClient: ...
    @overload
    def cancel_job(self, job: _Job, asynchronous: _Sync) -> Job: ...
    @overload
    def cancel_job(self, job: _Job, asynchronous: _Async) -> Awaitable[Job]: ...
    @overload
    def get_job(self, job: _Job, asynchronous: _Sync) -> Job: ...
    @overload
    def get_job(self, job: _Job, asynchronous: _Async) -> Awaitable[Job]: ...
    @overload
    def wait_job(
        self, job: _Job, timeout: float, poll_interval: float, on_progress: _JobProgress, asynchronous: _Sync
    ) -> Job: ...
    @overload
    def wait_job(
        self, job: _Job, timeout: float, poll_interval: float, on_progress: _JobProgress, asynchronous: _Async
    ) -> Awaitable[Job]: ...
    @overload
    def get_job_resources(self, job: _Job, asynchronous: _Sync) -> dict[str, Any]: ...
    @overload
    def get_job_resources(self, job: _Job, asynchronous: _Async) -> Awaitable[dict[str, Any]]: ...
    @overload
    def configure(self, resources: Union[list[dict[str, Any]], dict[str, Any]], asynchronous: _Sync) -> Job: ...
    @overload
    def configure(
        self, resources: Union[list[dict[str, Any]], dict[str, Any]], asynchronous: _Async
    ) -> Awaitable[Job]: ...
    @overload
    def publish(self, product: _Product, target: str, asynchronous: _Sync) -> Job: ...
    @overload
    def publish(self, product: _Product, target: str, asynchronous: _Async) -> Awaitable[Job]: ...
    @overload
    def find_product(self, external: str, asynchronous: _Sync) -> Product: ...
    @overload
    def find_product(self, external: str, asynchronous: _Async) -> Awaitable[Product]: ...
    @overload
    def get_product(self, product: _Product, asynchronous: _Sync) -> Product: ...
    @overload
    def get_product(self, product: _Product, asynchronous: _Async) -> Awaitable[Product]: ...
    @overload
    def list_submissions(self, product: _Product, asynchronous: _Sync) -> list[Submission]: ...
    @overload
    def list_submissions(self, product: _Product, asynchronous: _Async) -> Awaitable[list[Submission]]: ...
    @overload
    def get_resource_tree(self, product: _Product, target: str, asynchronous: _Sync) -> dict[str, Any]: ...
    @overload
    def get_resource_tree(self, product: _Product, target: str, asynchronous: _Async) -> Awaitable[dict[str, Any]]: ...
    @overload
    def list_products(self, asynchronous: _Sync) -> list[Product]: ...
    @overload
    def list_products(self, asynchronous: _Async) -> Awaitable[list[Product]]: ...
    @overload
    def list_plans(self, product: _Product, asynchronous: _Sync) -> list[Plan]: ...
    @overload
    def list_plans(self, product: _Product, asynchronous: _Async) -> Awaitable[list[Plan]]: ...
    @overload
    def get_technical_configuration(
        self, product: _Product, plan: str, target: str, asynchronous: _Sync
    ) -> TechnicalConfiguration: ...
    @overload
    def get_technical_configuration(
        self, product: _Product, plan: str, target: str, asynchronous: _Async
    ) -> Awaitable[TechnicalConfiguration]: ...
    @overload
    def add_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        sas_uri: Optional[str],
        gallery_image: Optional[str],
        image_types: Union[str, Iterable[str]],
        data_disks: Iterable[tuple[int, str]],
        asynchronous: _Sync,
    ) -> Optional[Job]: ...
    @overload
    def add_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        sas_uri: Optional[str],
        gallery_image: Optional[str],
        image_types: Union[str, Iterable[str]],
        data_disks: Iterable[tuple[int, str]],
        asynchronous: _Async,
    ) -> Awaitable[Optional[Job]]: ...
    @overload
    def deprecate_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        date: str,
        reason: str,
        alternative: Optional[dict[str, Any]],
        asynchronous: _Sync,
    ) -> Job: ...
    @overload
    def deprecate_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        date: str,
        reason: str,
        alternative: Optional[dict[str, Any]],
        asynchronous: _Async,
    ) -> Awaitable[Job]: ...
    @overload
    def wait_until_idle(
        self,
        product: _Product,
        timeout: float,
        poll_interval: float,
        on_progress: Optional[Callable[[list[Submission]], object]],
        asynchronous: _Sync,
    ) -> list[Submission]: ...
    @overload
    def wait_until_idle(
        self,
        product: _Product,
        timeout: float,
        poll_interval: float,
        on_progress: Optional[Callable[[list[Submission]], object]],
        asynchronous: _Async,
    ) -> Awaitable[list[Submission]]: ...
    @overload
    def release_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        sas_uri: Optional[str],
        gallery_image: Optional[str],
        image_types: Union[str, Iterable[str]],
        data_disks: Iterable[tuple[int, str]],
        target: str,
        timeout: float,
        poll_interval: float,
        on_progress: Optional[Callable[[Release], object]],
        asynchronous: _Sync,
    ) -> Release: ...
    @overload
    def release_image_version(
        self,
        product: _Product,
        plan: str,
        version: str,
        sas_uri: Optional[str],
        gallery_image: Optional[str],
        image_types: Union[str, Iterable[str]],
        data_disks: Iterable[tuple[int, str]],
        target: str,
        timeout: float,
        poll_interval: float,
        on_progress: Optional[Callable[[Release], object]],
        asynchronous: _Async,
    ) -> Awaitable[Release]: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def base_url(self) -> str: ...
    @property
    def timeout(self) -> float: ...
    @property
    def max_retries(self) -> int: ...
    @property
    def version(self) -> str: ...
