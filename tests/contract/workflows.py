"""Client workflows run inside a client's venv: ``python workflows.py <workflow>``.

Run by tests/test_contract_clients.py, never imported by it. The environment names the portal
(``FAKEPORTAL_URL``) and the routing module (``FAKEPORTAL_ROUTE``: cloudpartner/testing/_route.py,
loaded by path since cloudpartner is not installed here). The clients reach the portal only through
that routing of ``requests`` (their hosts are fixed in their code) and the portal's token endpoint;
their logic runs unchanged. Each workflow prints one JSON line: what the test checks.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from typing import Any, Callable

CREDENTIALS = {"AZURE_TENANT_ID": "contoso-tenant", "AZURE_CLIENT_ID": "client", "AZURE_API_SECRET": "secret"}
AIU_CREDENTIALS = {  # azure-img-utils' credentials file; the authority is Entra's (routed)
    "clientId": "client",
    "clientSecret": "secret",
    "tenantId": "contoso-tenant",
    "subscriptionId": "subscription",
    "activeDirectoryEndpointUrl": "https://login.microsoftonline.com",
    "managementEndpointUrl": "https://management.core.windows.net/",
}
WORKFLOWS: dict[str, Callable[[], Any]] = {}


def workflow(function: Callable[[], Any]) -> Callable[[], Any]:
    WORKFLOWS[function.__name__] = function
    return function


# -- cloudpub (Product Ingestion API) ---------------------------------------------------------------


def cloudpub() -> Any:
    from cloudpub.ms_azure import AzureService  # type: ignore[import-not-found]

    return AzureService(CREDENTIALS, retry_interval=0.1, retry_timeout=30)


@workflow
def cloudpub_list_and_find_products() -> Any:
    service = cloudpub()
    products = service.list_products()
    return {
        "names": sorted(p.identity.name for p in products),
        "id": service.get_productid("contoso-virtualmachineoffer"),
    }


@workflow
def cloudpub_read_tree_and_submissions() -> Any:
    service = cloudpub()
    product_id = service.get_productid("contoso-virtualmachineoffer")
    product = service.get_product(product_id, "draft")
    plan = service.get_plan_by_name(product, "gen1")
    submissions = service.get_submissions(product_id)
    return {
        "plans": sorted(p.identity.name for p in service.filter_product_resources(product, "plan")),
        "plan": plan.id,
        "submissions": [s.target.targetType for s in submissions],
        "draft": service.get_submission_state(product_id, "draft").id,
    }


@workflow
def cloudpub_read_technical_configuration() -> Any:
    service = cloudpub()
    product, plan = service.get_product_plan_by_name("contoso-virtualmachineoffer", "gen1", "draft")
    config = service.get_plan_tech_config(product, plan)
    return {"plan": config.plan_id, "versions": [v.version_number for v in config.disk_versions]}


OFFER = "contoso-virtualmachineoffer"
SAS = "https://contoso.blob.core.windows.net/images/rhel-2024.10.15.vhd?sv=2022-11-02&sr=b&sp=r&se=2027-01-01&sig=c2ln"


def metadata(version: str = "2024.10.15", plan: str = "gen2", keepdraft: bool = False) -> Any:
    """What a pipeline (pubtools-marketplacesvm) gives cloudpub's publish: image, destination, version."""
    from cloudpub.ms_azure.utils import AzurePublishingMetadata  # type: ignore[import-not-found]

    return AzurePublishingMetadata(
        disk_version=version,
        image_path=SAS,
        architecture="x86_64",
        destination=f"{OFFER}/{plan}",
        keepdraft=keepdraft,
    )


def versions(service: Any, plan: str, target: str) -> list[Any]:
    """The plan's image versions in ``target`` as cloudpub reads them back: number and lifecycle state."""
    product, found = service.get_product_plan_by_name(OFFER, plan, target)
    config = service.get_plan_tech_config(product, found)
    return [[v.version_number, v.lifecycle_state] for v in config.disk_versions]


@workflow
def cloudpub_add_a_disk_version_and_follow_the_job() -> Any:
    service = cloudpub()
    service.publish(metadata(keepdraft=True))  # configure, then follow the job to completed
    product_id = service.get_productid(OFFER)
    return {
        "draft": versions(service, "gen2", "draft"),
        "live": versions(service, "gen2", "live"),
        "submissions": [[s.target.targetType, s.status] for s in service.get_submissions(product_id)],
    }


@workflow
def cloudpub_publish_to_preview_and_live() -> Any:
    service = cloudpub()
    service.publish(metadata())  # add, publish to preview, then to live, each job followed
    again = cloudpub()
    again.publish(metadata())  # the same image again (a fresh signature would match too): nothing to send
    return {"live": versions(service, "gen2", "live"), "arm64": versions(service, "arm64", "live")}


@workflow
def cloudpub_waits_while_a_submission_is_in_progress() -> Any:
    service = cloudpub()
    service.publish(metadata())  # a publish of the product runs: cloudpub waits it out
    return {"live": versions(service, "gen2", "live")}


@workflow
def cloudpub_a_second_publish_fails_inside_its_job() -> Any:
    from cloudpub.error import CertificationError, ConflictError, InvalidStateError  # type: ignore[import-not-found]

    service = cloudpub()
    product_id = service.get_productid(OFFER)
    try:
        service.ensure_can_publish(product_id)  # what cloudpub's publish checks first
    except ConflictError as exc:
        checked = type(exc).__name__
    else:
        checked = None
    try:  # what a client that skips the check meets: the job fails, not the HTTP call
        service.submit_to_status(product_id, "preview")
    except (InvalidStateError, CertificationError) as exc:
        return {"checked": checked, "error": type(exc).__name__, "message": str(exc)}
    return {"checked": checked, "error": None}


@workflow
def cloudpub_a_stale_preview_cannot_go_live() -> Any:
    from cloudpub.error import InvalidStateError  # type: ignore[import-not-found]

    service = cloudpub()
    product_id = service.get_productid(OFFER)
    stale = service.get_submission_state(product_id, "preview")
    service.submit_to_status(product_id, "preview")  # a newer preview
    stale.target.targetType = "live"
    try:
        service.configure(resources=[stale])
    except InvalidStateError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"error": None}


@workflow
def cloudpub_certification_failure_is_final() -> Any:
    from cloudpub.error import CertificationError  # type: ignore[import-not-found]

    service = cloudpub()
    try:
        service.publish(metadata())
    except CertificationError as exc:  # cloudpub does not retry it
        return {"error": type(exc).__name__, "message": str(exc)}
    return {"error": None}


# -- azure-img-utils 2.x (Product Ingestion API) ------------------------------------------------------


def img_utils() -> Any:
    from azure_img_utils.azure_image import AzureImage  # type: ignore[import-not-found]

    return AzureImage(container="images", storage_account="account", credentials=AIU_CREDENTIALS, resource_group="rg")


@workflow
def img_utils_read_offer() -> Any:
    from azure_img_utils.cloud_partner import get_technical_details  # type: ignore[import-not-found]

    image = img_utils()
    doc = image.get_offer_doc("contoso-virtualmachineoffer")
    config = get_technical_details(doc, "gen1")
    return {
        "exists": image.offer_exists("contoso-virtualmachineoffer"),
        "missing": image.offer_exists("no-such-offer"),
        "kinds": sorted({r["$schema"].split("/")[-2] for r in doc["resources"]}),
        "versions": [v["versionNumber"] for v in config["vmImageVersions"]],
        "status": image.get_offer_status("contoso-virtualmachineoffer"),
    }


@workflow
def img_utils_add_image_publish_and_go_live() -> Any:
    image = img_utils()
    offer = "contoso-virtualmachineoffer"
    blob = "https://account.blob.core.windows.net/images/sles-20240101.vhd?sv=sas"
    image.add_image_to_offer("sles-20240101.vhd", "sles-20240101", offer, "gen2", blob_url=blob)
    states = [image.get_offer_status(offer)]
    publish = image.publish_offer(offer)
    preview = image.wait_on_operation(publish, timeout=30)
    states.append(image.get_offer_status(offer))
    live = image.wait_on_operation(image.go_live_with_offer(offer), timeout=30)
    states.append(image.get_offer_status(offer))
    return {"preview": preview["jobResult"], "live": live["jobResult"], "states": states}


@workflow
def img_utils_publish_while_another_runs() -> Any:
    image = img_utils()
    first = image.publish_offer(OFFER)
    second = image.publish_offer(OFFER)  # a second publish: accepted, then its job fails
    failed = image.wait_on_operation(second, timeout=30)
    done = image.wait_on_operation(first, timeout=30)
    return {
        "first": done["jobResult"],
        "second": [failed["jobStatus"], failed["jobResult"]],
        "errors": failed["errors"],
        "status": image.get_offer_status(OFFER),
    }


def main() -> None:
    spec = importlib.util.spec_from_file_location("fakeportal_route", os.environ["FAKEPORTAL_ROUTE"])
    assert spec is not None and spec.loader is not None
    route = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(route)
    with route.route_requests(os.environ["FAKEPORTAL_URL"]):
        result = WORKFLOWS[sys.argv[1]]()
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
