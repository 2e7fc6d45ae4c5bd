"""cloudpartner: cancel Azure Marketplace publishes through the Cloud Partner Portal API.

    >>> import cloudpartner
    >>> result = cloudpartner.cancel("contoso", "contoso-virtualmachineoffer", token)
    >>> result.status_code, result.operation_location

The HTTP work happens in a Rust core with the GIL released; see ``Client`` for settings,
``cloudpartner.testing.FakePortal`` for an offline portal to test against.
"""

from ._client import Client, TokenCredential, cancel, cancel_async
from ._core import API_VERSION, DEFAULT_BASE_URL, __version__
from ._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    CloudPartnerError,
    ConflictError,
    CredentialError,
    ForbiddenError,
    InvalidArgumentError,
    MalformedResponseError,
    NotFoundError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TransportError,
    WaitTimeoutError,
)
from ._types import CancelResult, Operation, OperationStep

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "CancelResult",
    "Client",
    "ClientClosedError",
    "CloudPartnerError",
    "ConflictError",
    "CredentialError",
    "ForbiddenError",
    "InvalidArgumentError",
    "MalformedResponseError",
    "NotFoundError",
    "Operation",
    "OperationStep",
    "RequestTimeoutError",
    "ServerError",
    "ThrottledError",
    "TokenCredential",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
    "cancel",
    "cancel_async",
]
