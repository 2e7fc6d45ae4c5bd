"""The exceptions of cloudpartner: every failure is one of these.

    CloudPartnerError
    ├── InvalidArgumentError (also ValueError)   bad input, refused before anything was sent
    ├── CredentialError                          the token source failed
    ├── ClientClosedError (also RuntimeError)    the Client was closed
    ├── NestedCallError (also RuntimeError)      a blocking call made from a callback of another
    ├── WaitTimeoutError (also TimeoutError)     a wait ran out of time (.operation or .job: last state)
    ├── JobFailedError                           a job a release or a wait followed failed (.job)
    │   ├── SubmissionConflictError              ... as another submission was in progress (transient)
    │   └── CertificationFailedError             ... as the image failed certification (final)
    ├── TransportError                           no usable answer (connect, TLS, reset, bad HTTP)
    │   ├── RequestTimeoutError (also TimeoutError)
    │   └── MalformedResponseError               a success answer whose body is unreadable
    │       └── ResponseTooLargeError            ... or longer than MAX_SUCCESS_BODY_BYTES (64 MiB)
    └── ApiError                                 the service answered with a failure status
        ├── BadRequestError       400
        │   └── JobAlreadyCompletedError  an ingestion job's cancel came after it completed
        ├── AuthenticationError   401
        ├── ForbiddenError        403
        ├── NotFoundError         404
        ├── ConflictError         409
        ├── PreconditionFailedError 412
        ├── ThrottledError        429
        └── ServerError           5xx

``is_transient`` on every exception the client raises is the core's classification, the one its
retries and ``wait()`` act on: True when trying again later may succeed (408, 429, 500, 502, 503,
504, transport failures, timeouts, an unreadable answer), False otherwise (other 4xx and 5xx such
as 501 and 505, bad input, an answer over the size limit).

No exception's text, repr or attributes ever hold the bearer token.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from typing import Any

    from ._types import Operation
    from .ingestion._jobs import Job

__all__ = [
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
]


class CloudPartnerError(Exception):
    """Base class of every exception cloudpartner raises.

    ``is_transient``: whether trying again later may succeed, as the client's core classifies the
    failure (its retries and ``wait()`` act on the same verdict); set on every exception the client
    raises.
    """

    is_transient: bool = False

    def _repr_html_(self) -> str:
        """Show what failed, the service's code and message, and the ids, as a person reads them."""
        from ._html import error_badge, escape, rows  # noqa: PLC0415 - loaded only when displayed

        pairs = [("error", error_badge(type(self).__name__)), ("message", escape(str(self)))]
        for name in ("status_code", "code", "request_id", "client_request_id", "retry_after"):
            value = getattr(self, name, None)
            if value is not None:
                pairs.append((name.replace("_", " "), escape(str(value))))
        pairs.append(("transient", "yes: trying again later may succeed" if self.is_transient else "no"))
        return rows(pairs)


class InvalidArgumentError(CloudPartnerError, ValueError):
    """An argument was refused before anything was sent; ``field`` names it."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CredentialError(CloudPartnerError):
    """The credential's ``get_token`` failed or returned something unusable (see ``__cause__``)."""


class ClientClosedError(CloudPartnerError, RuntimeError):
    """The ``Client`` was closed; make a new one."""


class NestedCallError(CloudPartnerError, RuntimeError):
    """A blocking call was made from an ``on_progress``/``on_result`` callback of another one."""


class TransportError(CloudPartnerError):
    """No usable answer: the connection failed, TLS failed, or the server's HTTP was broken.

    The request may or may not have reached the service.
    """

    def __init__(self, message: str, *, client_request_id: str | None = None) -> None:
        super().__init__(message)
        self.client_request_id = client_request_id


class RequestTimeoutError(TransportError, TimeoutError):
    """The call did not complete within ``timeout`` seconds, its attempts and the waits between them together.

    The message names the attempts made and what the last one met (no answer, or a body still
    arriving).
    """

    def __init__(self, message: str, *, timeout: float | None = None, client_request_id: str | None = None) -> None:
        super().__init__(message, client_request_id=client_request_id)
        self.timeout = timeout


class MalformedResponseError(TransportError):
    """A success answer whose body is not what the call returns.

    Not JSON, the wrong shape, or JSON beyond the bounds every document keeps, read or written:
    lists and objects nested more than 100 levels deep (``_core.MAX_JSON_DEPTH``), or an integer
    of more than 640 digits (``_core.MAX_JSON_INTEGER_DIGITS``).
    The message says which, and where.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, client_request_id=client_request_id)
        self.status_code = status_code
        self.request_id = request_id


class ResponseTooLargeError(MalformedResponseError):
    """A success answer longer than ``limit`` bytes (``cloudpartner._core.MAX_SUCCESS_BODY_BYTES``).

    It was not read whole, so it was not parsed: ask for less (a ``status`` filter on
    ``list_operations``, say).
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        status_code: int | None = None,
        request_id: str | None = None,
        client_request_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, request_id=request_id, client_request_id=client_request_id)
        self.limit = limit


class WaitTimeoutError(CloudPartnerError, TimeoutError):
    """A wait gave up before what it followed ended.

    Attributes:
        timeout: the seconds it waited.
        operation: for ``wait``, the last state of the operation seen (or None).
        job: for the ingestion API's ``wait_job``, the last state of the job seen (or None).

    """

    def __init__(
        self, message: str, *, timeout: float | None = None, operation: Operation | None = None, job: Job | None = None
    ) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.operation = operation
        self.job = job


class JobFailedError(CloudPartnerError):
    """A job (or CPP operation) that a release or ``wait_until_idle`` followed ended in failure.

    The service answered each request with a success: the failure is inside the job, in its
    ``errors``.

    Attributes:
        job: the job as it ended (an ingestion ``Job``; a CPP ``Operation`` on that API).
        message: the service's one-line message (the first error's), or "".

    """

    def __init__(self, text: str, *, job: Job | Operation | None = None, message: str = "") -> None:
        super().__init__(text)
        self.job = job
        self.message = message


class SubmissionConflictError(JobFailedError):
    """The job failed because another submission of the product was in progress, or because it was not the latest.

    "An In Progress submission ... already exists", "... not the latest submission": transient
    (``is_transient`` is True); run the release again once the other submission has ended.
    """

    is_transient = True


class CertificationFailedError(JobFailedError):
    """The job failed because the image failed certification: final, trying again will not help."""


class ApiError(CloudPartnerError):
    """The service answered with a status that is not a success.

    Attributes:
        status_code: the HTTP status.
        code: ``error.code`` of the JSON error body, when it had one.
        message: ``error.message`` of the body (or the start of a plain-text body).
        body: the raw body text, up to 1 MiB (``body_truncated`` tells whether it was cut).
        request_id: the service's request id header, when present.
        client_request_id: the ``x-ms-client-request-id`` this call sent.
        retry_after: seconds the service asked to wait (``Retry-After``), when it did.
        location: where a redirect pointed (redirects are never followed).

    """

    def __init__(
        self,
        status_code: int,
        *,
        code: str | None = None,
        message: str | None = None,
        body: str = "",
        request_id: str | None = None,
        client_request_id: str | None = None,
        retry_after: float | None = None,
        location: str | None = None,
        body_truncated: bool = False,
    ) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.body = body
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.retry_after = retry_after
        self.location = location
        self.body_truncated = body_truncated
        from ._core import is_transient_status  # noqa: PLC0415 - the extension loads on first use

        self.is_transient = is_transient_status(status_code)

    def __str__(self) -> str:
        from ._core import api_error_text  # noqa: PLC0415 - the core renders every failure's line

        return api_error_text(
            self.status_code,
            self.code,
            self.message,
            not self.body.strip(),
            self.location,
            self.retry_after,
            self.request_id,
            self.client_request_id,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status_code}, code={self.code!r}, request_id={self.request_id!r})"


class BadRequestError(ApiError):
    """400: the request was refused as malformed (``code``/``message`` say why)."""


class JobAlreadyCompletedError(BadRequestError):
    """400 to an ingestion job's cancel: the job had already completed, so nothing was cancelled.

    Attributes:
        job_id: the job the cancel named.
        job: the job as it ended (read once more after the refusal), or None when that read
            failed; ``job.succeeded``, ``job.failed`` tell how it ended.

    """

    def __init__(self, status_code: int, *, job_id: str = "", job: Job | None = None, **fields: Any) -> None:
        super().__init__(status_code, **fields)
        self.job_id = job_id
        self.job = job


class AuthenticationError(ApiError):
    """401: the token is missing, malformed or expired."""


class ForbiddenError(ApiError):
    """403: the identity has no access to this publisher."""


class NotFoundError(ApiError):
    """404: the publisher, offer or operation does not exist."""


class ConflictError(ApiError):
    """409: the offer's state does not allow this (e.g. another operation is running)."""


class PreconditionFailedError(ApiError):
    """412: the offer changed since its ETag was read; get it again, reapply, put again."""


class ThrottledError(ApiError):
    """429: too many requests; ``retry_after`` says how long the service asked to wait."""


class ServerError(ApiError):
    """5xx: the service failed.

    500, 502, 503 and 504 are transient: retried (``max_retries``) before this is raised, and
    polled through by ``wait()``; the others (501, 505, ...) are not.
    """
