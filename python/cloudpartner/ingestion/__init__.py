"""cloudpartner.ingestion: Partner Center's Product Ingestion API, the CPP API's successor.

    >>> from cloudpartner import ingestion
    >>> with ingestion.Client(graph_token) as client:
    ...     job = client.publish("contoso-offer", target="preview")
    ...     client.cancel_job(job)

Products created in Partner Center, and every new one, live here; offers migrated from the
Cloud Partner Portal are products too, their offer id being the product's external id. Tokens
are Microsoft Graph tokens (``https://graph.microsoft.com/.default``).
"""

from .._errors import JobAlreadyCompletedError
from ._client import Client
from ._types import Job, JobError, Product, Submission

__all__ = ["Client", "Job", "JobAlreadyCompletedError", "JobError", "Product", "Submission"]
