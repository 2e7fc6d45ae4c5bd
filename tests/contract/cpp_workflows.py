"""azure-img-utils 1.x workflows on the CPP API, run inside its venv: ``python cpp_workflows.py <workflow>``.

Run by tests/test_contract_cpp.py, never imported by it, with workflows.py's runner: the
environment names the portal (``FAKEPORTAL_URL``) and the routing module (``FAKEPORTAL_ROUTE``,
loaded by path: cloudpartner is not installed in the client's venv). azure-img-utils reaches the
portal only through that routing of ``requests`` (its hosts are fixed in its code) and gets its
token from the portal's Entra endpoint through msal; its logic runs unchanged. Each workflow
prints one JSON line: what the test checks. The waits are the callers' loops (azure-img-utils
1.x has none of its own), each bounded.
"""

from __future__ import annotations

import time
from typing import Any

# One runner for every client's workflows: these register in workflows.py's table, and its main()
# routes requests to the portal and runs the one named.
from workflows import img_utils, main, workflow

OFFER, LEGACY, PUBLISHER = "contoso-virtualmachineoffer", "contoso-legacy", "contoso"
IMAGES = "microsoft-azure-corevm.vmImagesPublicAzure"
EMAILS = "release@contoso.example"
WAIT_SECONDS = 30


def wait_for_status(image: Any, offer: str, wanted: str) -> list[str]:
    """Poll ``get_offer_status`` until it says ``wanted``; return the states seen (bounded)."""
    states: list[str] = []
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        states.append(image.get_offer_status(offer, PUBLISHER))
        if states[-1] == wanted:
            return states
        time.sleep(0.05)
    msg = f"{offer} did not reach {wanted} in {WAIT_SECONDS} s: {states[-3:]}"
    raise TimeoutError(msg)


def versions(doc: dict[str, Any]) -> dict[str, dict[str, bool]]:
    """Each plan's versions and whether they show (``showInGui``)."""
    return {
        plan["planId"]: {number: image.get("showInGui") for number, image in plan.get(IMAGES, {}).items()}
        for plan in doc["definition"]["plans"]
    }


@workflow
def img_utils_1_offer_document() -> Any:
    image = img_utils()
    doc = image.get_offer_doc(OFFER, PUBLISHER)
    return {
        "exists": image.offer_exists(OFFER, PUBLISHER),
        "missing": image.offer_exists("no-such-offer", PUBLISHER),
        "id": doc["id"],
        "migration": doc["pcMigrationStatus"],
        "versions": versions(doc),
        "status": image.get_offer_status(OFFER, PUBLISHER),
    }


@workflow
def img_utils_1_put_offer_document() -> Any:
    image = img_utils()
    doc = image.get_offer_doc(OFFER, PUBLISHER)
    doc["definition"]["displayText"] = "Contoso, edited"
    image.upload_offer_doc(OFFER, PUBLISHER, doc)  # the whole document back, If-Match: *
    again = image.get_offer_doc(OFFER, PUBLISHER)
    return {"displayText": again["definition"]["displayText"], "versions": versions(again)}


@workflow
def img_utils_1_add_image_version() -> Any:
    image = img_utils()
    blob = "https://contosoimages.blob.core.windows.net/vhds/sles-v20241015.vhd?sv=2021-08-06&sr=b&sp=rl&sig=new%3D"
    # Its own code: add_image_version_to_offer edits the GET's document, upload_offer_doc PUTs it.
    image.add_image_to_offer(
        "sles-v20241015.vhd", "sles-v20241015", "SLES, October", OFFER, PUBLISHER, "SLES", "gen1", blob_url=blob
    )
    doc = image.get_offer_doc(OFFER, PUBLISHER)
    added = next(p for p in doc["definition"]["plans"] if p["planId"] == "gen1")[IMAGES]["2024.10.15"]
    return {"versions": versions(doc), "added": added}


@workflow
def img_utils_1_deprecate_and_remove_versions() -> Any:
    from azure_img_utils.cloud_partner import deprecate_image_in_offer_doc  # type: ignore[import-not-found]

    image = img_utils()
    logged: list[str] = []
    # mash's deprecation: the version named by the image's date, hidden (showInGui false).
    doc = image.get_offer_doc(OFFER, PUBLISHER)
    doc = deprecate_image_in_offer_doc(doc, f"{OFFER}-gen2-v20240415", "gen2", logged.append)
    image.upload_offer_doc(OFFER, PUBLISHER, doc)
    image.remove_image_from_offer(f"{PUBLISHER}:{OFFER}:arm64:2024.01.15")
    return {"versions": versions(image.get_offer_doc(OFFER, PUBLISHER)), "logged": logged}


@workflow
def img_utils_1_publish_and_wait_for_review() -> Any:
    image = img_utils()
    location = image.publish_offer(OFFER, PUBLISHER, EMAILS)
    states = wait_for_status(image, OFFER, "waitingForPublisherReview")
    return {"location": location, "first": states[0], "last": states[-1]}


@workflow
def img_utils_1_go_live() -> Any:
    image = img_utils()
    image.publish_offer(OFFER, PUBLISHER, EMAILS)
    wait_for_status(image, OFFER, "waitingForPublisherReview")
    location = image.go_live_with_offer(OFFER, PUBLISHER)
    states = wait_for_status(image, OFFER, "succeeded")
    return {"location": location, "last": states[-1]}


@workflow
def img_utils_1_operations() -> Any:
    image = img_utils()
    publish_location = image.publish_offer(OFFER, PUBLISHER, EMAILS)
    publish = image.get_operation(publish_location)
    wait_for_status(image, OFFER, "waitingForPublisherReview")
    reviewed = image.get_operation(publish_location)
    go_live_location = image.go_live_with_offer(OFFER, PUBLISHER)
    go_live = image.get_operation(go_live_location)
    wait_for_status(image, OFFER, "succeeded")
    return {
        "publish": [publish["submissionType"], publish["status"]],
        "signoff": next(s["status"] for s in reviewed["steps"] if s["id"] == "publisher-signoff"),
        "go_live": [go_live["submissionType"], image.get_operation(go_live_location)["status"]],
    }


@workflow
def img_utils_1_release_on_an_offer_not_migrated() -> Any:
    image = img_utils()
    doc = image.get_offer_doc(LEGACY, PUBLISHER)
    publish = image.publish_offer(LEGACY, PUBLISHER, EMAILS)
    operation = image.get_operation(publish)
    wait_for_status(image, LEGACY, "waitingForPublisherReview")
    go_live = image.go_live_with_offer(LEGACY, PUBLISHER)
    states = wait_for_status(image, LEGACY, "succeeded")
    return {
        "migration": doc["pcMigrationStatus"],
        "publish": publish,
        "operation": operation["id"],
        "go_live": go_live,
        "last": states[-1],
    }


if __name__ == "__main__":
    main()
