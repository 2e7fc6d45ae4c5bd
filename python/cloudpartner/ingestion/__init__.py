"""cloudpartner.ingestion: Partner Center's Product Ingestion API, the CPP API's successor.

    >>> from cloudpartner import ingestion
    >>> with ingestion.Client(graph_token) as client:
    ...     job = client.publish("contoso-offer", target="preview")
    ...     client.cancel_job(job)

Products created in Partner Center, and every new one, live here; offers migrated from the
Cloud Partner Portal are products too, their offer id being the product's external id. Tokens
are Microsoft Graph tokens (``https://graph.microsoft.com/.default``).

Names are loaded on first use (PEP 562), as in ``cloudpartner``: a one-shot ``cancel_job``
imports neither ``dataclasses`` nor ``typing``.
"""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy treats it alike
if TYPE_CHECKING:
    from .._errors import CertificationFailedError, JobAlreadyCompletedError, JobFailedError, SubmissionConflictError
    from .._release import Release, ReleaseStep
    from ._client import Client
    from ._jobs import Job, JobError
    from ._types import ImageVersion, Plan, Product, Submission, TechnicalConfiguration, VmImage

_MODULE_OF = {
    "Client": "._client",
    "Job": "._jobs",
    "JobError": "._jobs",
    "ImageVersion": "._types",
    "Plan": "._types",
    "Product": "._types",
    "Submission": "._types",
    "TechnicalConfiguration": "._types",
    "VmImage": "._types",
    "JobAlreadyCompletedError": ".._errors",
    "JobFailedError": ".._errors",
    "SubmissionConflictError": ".._errors",
    "CertificationFailedError": ".._errors",
    "Release": ".._release",
    "ReleaseStep": ".._release",
}

__all__ = [
    "CertificationFailedError",
    "Client",
    "ImageVersion",
    "Job",
    "JobAlreadyCompletedError",
    "JobError",
    "JobFailedError",
    "Plan",
    "Product",
    "Release",
    "ReleaseStep",
    "Submission",
    "SubmissionConflictError",
    "TechnicalConfiguration",
    "VmImage",
]


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib  # noqa: PLC0415 - already loaded by the import system

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
