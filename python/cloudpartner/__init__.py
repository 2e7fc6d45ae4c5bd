"""cloudpartner: cancel Azure Marketplace publishes through the Cloud Partner Portal API.

    >>> import cloudpartner
    >>> result = cloudpartner.cancel("contoso", "contoso-virtualmachineoffer", token)
    >>> result.status_code, result.operation_location

The HTTP work happens in a Rust core with the GIL released; see ``Client`` for settings,
``cloudpartner.testing.FakePortal`` for an offline portal to test against.

Names are loaded on first use (PEP 562), so ``import cloudpartner`` stays cheap for scripts and
CLIs that may not need it: ``typing``, ``dataclasses`` and ``threading`` alone cost tens of
milliseconds to import.
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from ._client import Client, cancel, cancel_async
    from ._core import API_VERSION, DEFAULT_BASE_URL, __version__
    from ._errors import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        CertificationFailedError,
        ClientClosedError,
        CloudPartnerError,
        ConflictError,
        CredentialError,
        ForbiddenError,
        InvalidArgumentError,
        JobAlreadyCompletedError,
        JobFailedError,
        MalformedResponseError,
        NestedCallError,
        NotFoundError,
        PreconditionFailedError,
        RequestTimeoutError,
        ResponseTooLargeError,
        ServerError,
        SubmissionConflictError,
        ThrottledError,
        TransportError,
        WaitTimeoutError,
    )
    from ._release import Release, ReleaseStep
    from ._results import ActionResult, CancelResult
    from ._tokens import AsyncTokenCredential, TokenCredential
    from ._types import Offer, OfferStatus, Operation, OperationStep, StepMessage

_WHERE = {
    "_client": ("Client", "cancel", "cancel_async"),
    "_tokens": ("AsyncTokenCredential", "TokenCredential"),
    "_core": ("API_VERSION", "DEFAULT_BASE_URL", "__version__"),
    "_errors": (
        "ApiError",
        "AuthenticationError",
        "BadRequestError",
        "CertificationFailedError",
        "ClientClosedError",
        "CloudPartnerError",
        "ConflictError",
        "CredentialError",
        "ForbiddenError",
        "InvalidArgumentError",
        "JobAlreadyCompletedError",
        "JobFailedError",
        "MalformedResponseError",
        "NestedCallError",
        "NotFoundError",
        "PreconditionFailedError",
        "RequestTimeoutError",
        "ResponseTooLargeError",
        "ServerError",
        "SubmissionConflictError",
        "ThrottledError",
        "TransportError",
        "WaitTimeoutError",
    ),
    "_release": ("Release", "ReleaseStep"),
    "_results": ("ActionResult", "CancelResult"),
    "_types": ("Offer", "OfferStatus", "Operation", "OperationStep", "StepMessage"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "ActionResult",
    "ApiError",
    "AsyncTokenCredential",
    "AuthenticationError",
    "BadRequestError",
    "CancelResult",
    "CertificationFailedError",
    "Client",
    "ClientClosedError",
    "CloudPartnerError",
    "ConflictError",
    "CredentialError",
    "ForbiddenError",
    "InvalidArgumentError",
    "JobAlreadyCompletedError",
    "JobFailedError",
    "MalformedResponseError",
    "NestedCallError",
    "NotFoundError",
    "Offer",
    "OfferStatus",
    "Operation",
    "OperationStep",
    "PreconditionFailedError",
    "Release",
    "ReleaseStep",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "ServerError",
    "StepMessage",
    "SubmissionConflictError",
    "ThrottledError",
    "TokenCredential",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
    "cancel",
    "cancel_async",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        msg = f"module 'cloudpartner' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(__import__(f"{__name__}.{module}", fromlist=[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
