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
    plan = service.get_plan_by_name(product, "plan-2")
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
    product, plan = service.get_product_plan_by_name("contoso-virtualmachineoffer", "plan-2", "draft")
    config = service.get_plan_tech_config(product, plan)
    return {"plan": config.plan_id, "versions": [v.version_number for v in config.disk_versions]}


# -- azure-img-utils 2.x (Product Ingestion API) ------------------------------------------------------


def img_utils() -> Any:
    from azure_img_utils.azure_image import AzureImage  # type: ignore[import-not-found]

    return AzureImage(container="images", storage_account="account", credentials=AIU_CREDENTIALS, resource_group="rg")


@workflow
def img_utils_read_offer() -> Any:
    from azure_img_utils.cloud_partner import get_technical_details  # type: ignore[import-not-found]

    image = img_utils()
    doc = image.get_offer_doc("contoso-virtualmachineoffer")
    config = get_technical_details(doc, "plan-2")
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
    image.add_image_to_offer("sles-20240101.vhd", "sles-20240101", offer, "plan-2", blob_url=blob)
    states = [image.get_offer_status(offer)]
    publish = image.publish_offer(offer)
    preview = image.wait_on_operation(publish, timeout=30)
    states.append(image.get_offer_status(offer))
    live = image.wait_on_operation(image.go_live_with_offer(offer), timeout=30)
    states.append(image.get_offer_status(offer))
    return {"preview": preview["jobResult"], "live": live["jobResult"], "states": states}


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
