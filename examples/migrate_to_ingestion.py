"""One offer through both APIs: a Cloud Partner Portal script's steps beside their Product Ingestion equivalents.

The offline portal serves both APIs over one store: the offer added here is also a Partner Center
product (a migrated offer) whose external id is the offer id. No token, no network.

Run:  python examples/migrate_to_ingestion.py
"""

from __future__ import annotations

import cloudpartner
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal

PUBLISHER = "contoso"
OFFER = "contoso-virtualmachineoffer"


def cloud_partner_portal(portal: FakePortal) -> None:
    """The old way: publish, follow, cancel, go live (CPP API, token for cloudpartner.azure.com)."""
    with cloudpartner.Client("cpp-token", base_url=portal.base_url) as client:
        started = client.publish(PUBLISHER, OFFER)
        print(f"CPP publish:   HTTP {started.status_code}, operation {started.operation_id}")
        cancel = client.cancel(PUBLISHER, OFFER)
        final = client.wait(cancel, poll_interval=0.1)
        print(f"CPP cancel:    operation {final.id if final else '-'} ended {final.status if final else '-'}")
        status = client.get_offer_status(PUBLISHER, OFFER)
        print(f"CPP status:    {status.status}")


def product_ingestion(portal: FakePortal) -> None:
    """The same steps on the Product Ingestion API (token for graph.microsoft.com)."""
    with ingestion.Client("graph-token", base_url=portal.ingestion_url) as client:
        product = client.find_product(OFFER)  # the offer id is the product's external id
        print(f"product:       {product.id} ({product.type})")

        job = client.publish(product, target="preview")  # keep job.id: the API cannot list jobs
        print(f"publish:       job {job.id} {job.status}")
        stopped = client.cancel_job(job)
        print(f"cancel_job:    {stopped.status} / {stopped.result}")
        try:
            client.cancel_job(job)
        except ingestion.JobAlreadyCompletedError as error:
            print(f"cancel again:  refused ({error.message}); it ended {error.job.result if error.job else '?'}")

        job = client.publish(product, target="preview")
        done = client.wait_job(job, poll_interval=0.1)  # the real service asks for one poll a minute
        print(f"preview:       {done.result}")
        live = client.wait_job(client.publish(product, target="live"), poll_interval=0.1)
        print(f"live:          {live.result}")
        for submission in client.list_submissions(product):
            print(f"submission:    {submission.id} {submission.target} {submission.status or '-'}")


def main() -> None:
    with FakePortal(cancel_seconds=0.2, job_seconds=0.2, publish_seconds=0.5) as portal:
        portal.add_offer(PUBLISHER, OFFER, running=False)
        cloud_partner_portal(portal)
        product_ingestion(portal)


if __name__ == "__main__":
    main()
