"""FakePortal's Product Ingestion API plays the service's release rules, with the texts it answered.

Each refusal is a job that completes ``failed`` (configure answers 202): the texts come from the
public clients' commits and issues that ../shared/vm-image-release.md collects.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from cloudpartner.testing import FakePortal
from test_fakeportal_ingestion import V, call, configure, finished, to_live, to_preview

O = "contoso-virtualmachineoffer"
CONFIG_SCHEMA = "https://schema.mp.microsoft.com/schema/virtual-machine-plan-technical-configuration/2022-07-01"
SAS = "https://account.blob.core.windows.net/images/new.vhd?sv=2022-11-02&se=2026-01-01&sig=abc"


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.05, publish_seconds=0.1) as started:
        started.add_offer("contoso", O)  # the default seed: cloudpartner serve's, the fixture's
        yield started


def config(portal: FakePortal, plan: str = "gen2", target: str = "draft") -> dict[str, Any]:
    """The plan's technical configuration as GET answers it (by its durable id)."""
    plans = call(portal, "GET", f"/plan?product={portal.product(O)['id']}&externalId={plan}&{V}").json["value"]
    durable = "virtual-machine-plan-technical-configuration/" + plans[0]["id"].split("/", 1)[1]
    answer = call(portal, "GET", f"/{durable}?targetType={target}&{V}")
    assert answer.status == 200, answer.json
    assert answer.json["id"] == durable and answer.json["plan"] == plans[0]["id"]
    return answer.json  # type: ignore[no-any-return]


def post(portal: FakePortal, *resources: dict[str, Any]) -> dict[str, Any]:
    answer = configure(portal, *resources)
    assert answer.status == 202  # refusals are inside the job
    return finished(portal, answer.json["jobId"])


def new_version(number: str = "2024.10.15", uri: str = SAS) -> dict[str, Any]:
    source = {"sourceType": "sasUri", "osDisk": {"uri": uri}, "dataDisks": []}
    return {
        "versionNumber": number,
        "vmImages": [{"imageType": "x64Gen2", "source": source}],
        "lifecycleState": "generallyAvailable",
    }


def failed_with(job: dict[str, Any]) -> tuple[str, str]:
    assert job["jobResult"] == "failed", job
    (problem,) = job["errors"]
    return problem["code"], problem["message"]


def test_the_default_offer_has_several_plans_live_versions_and_a_deprecated_one(portal: FakePortal) -> None:
    for plan, image_type in (("gen2", "x64Gen2"), ("gen1", "x64Gen1"), ("arm64", "arm64Gen2")):
        live = config(portal, plan, "live")
        assert live["skus"] == [{"imageType": image_type, "skuId": plan}]
        versions = {v["versionNumber"]: v for v in live["vmImageVersions"]}
        assert list(versions) == ["2024.01.15", "2024.04.15", "2024.07.15"]  # as the CPP side lists them
        assert versions["2024.01.15"]["lifecycleState"] == "deprecated"  # hidden there (showInGui false)
        assert versions["2024.01.15"]["deprecationSchedule"] == {"date": "2024-04-15", "reason": "endOfSupport"}
        assert versions["2024.07.15"]["lifecycleState"] == "generallyAvailable"
        assert {i["imageType"] for v in versions.values() for i in v["vmImages"]} == {image_type}
        assert config(portal, plan) == live  # nothing waits in the draft
    assert [e["target"]["targetType"] for e in portal.submissions(O)] == ["draft", "live", "preview"]
    assert all(e.get("status", "completed") == "completed" for e in portal.submissions(O))
    portal.add_offer("contoso", O)  # again (the fixture after a test's own seeding): unchanged
    assert len(portal.submissions(O)) == 3


def test_adding_a_version_and_echoing_the_others_succeeds(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmImageVersions"].append(new_version())
    assert post(portal, edited)["jobResult"] == "succeeded"
    assert config(portal)["vmImageVersions"] == edited["vmImageVersions"]


def test_a_published_version_cannot_be_deleted(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmImageVersions"] = [v for v in edited["vmImageVersions"] if v["versionNumber"] != "2024.04.15"]
    job = post(portal, edited)
    assert failed_with(job) == (
        "badRequest",
        "Cannot delete image '2024.04.15' of type 'X64Gen2' as it is already published.",
    )
    assert job["errors"][0]["details"] == [
        {
            "code": "invalidResource",
            "message": "Failure for resource: virtual-machine-plan-technical-configuration-0, "
            "schema: virtual-machine-plan-technical-configuration",
            "details": [],
        }
    ]
    assert [v["versionNumber"] for v in config(portal)["vmImageVersions"]] == [
        "2024.01.15",
        "2024.04.15",
        "2024.07.15",
    ]  # unchanged


def test_leaving_out_a_deprecated_version_fails_as_cannot_be_restored(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmImageVersions"] = [v for v in edited["vmImageVersions"] if v["versionNumber"] != "2024.01.15"]
    edited["vmImageVersions"].append(new_version())
    code, message = failed_with(post(portal, edited))
    assert code == "badRequest"
    assert message == "Image '2024.01.15' cannot be restored because it was deprecated before it was published to live"


def test_a_published_deprecation_schedule_cannot_be_changed(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmImageVersions"][0]["deprecationSchedule"]["reason"] = "other"
    code, message = failed_with(post(portal, edited))
    assert code == "badRequest"
    assert message == (
        "The deprecation schedule for image '2024.01.15' of type 'X64Gen2' is already published"
        " and can not be changed in draft."
    )


def test_a_null_deprecation_reason_fails_schema_validation(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmImageVersions"][0]["deprecationSchedule"]["reason"] = None
    _, message = failed_with(post(portal, edited))
    where = "#/vmImageVersions/0/deprecationSchedule/reason"
    assert message == (
        f"Schema validation failed for schema {CONFIG_SCHEMA}: "
        f'{where}: Value is "null" but should be "string";'
        f"{where}: Expected value to match one of the values specified by the enum;"
    )


def test_a_deprecation_schedule_without_a_reason_fails_schema_validation(portal: FakePortal) -> None:
    edited = config(portal)
    del edited["vmImageVersions"][0]["deprecationSchedule"]["reason"]
    _, message = failed_with(post(portal, edited))
    assert message.endswith('#/vmImageVersions/0/deprecationSchedule: Required properties ["reason"] are not present;')


def test_a_null_vm_properties_flag_fails_schema_validation(portal: FakePortal) -> None:
    edited = config(portal)
    edited["vmProperties"]["supportsNVMe"] = None
    _, message = failed_with(post(portal, edited))
    assert message.endswith('#/vmProperties/supportsNVMe: Value is "null" but should be "boolean";')
    del edited["vmProperties"]["supportsNVMe"]  # left out: the service's default
    assert post(portal, edited)["jobResult"] == "succeeded"


def test_a_live_plans_sku_id_is_locked(portal: FakePortal) -> None:
    edited = config(portal)
    edited["skus"][0]["skuId"] = "renamed"
    assert failed_with(post(portal, edited)) == (
        "badRequest",
        "The property 'PlanId' is locked by a previous submission",
    )
    added = config(portal)
    added["skus"].append({"imageType": "x64Gen1", "skuId": "gen2-gen1"})  # a new SKU is not a change
    assert post(portal, added)["jobResult"] == "succeeded"


def test_a_security_type_is_refused_off_x64_gen2(portal: FakePortal) -> None:
    edited = config(portal)
    edited["skus"].append({"imageType": "x64Gen1", "skuId": "gen2-gen1"})
    for sku in edited["skus"]:
        sku["securityType"] = ["trusted"]
    code, message = failed_with(post(portal, edited))
    assert code == "badRequest" and "'X64Gen1'" in message and "SecurityType" in message
    edited["skus"] = [{**sku, "securityType": None} if sku["imageType"] != "x64Gen2" else sku for sku in edited["skus"]]
    assert post(portal, edited)["jobResult"] == "succeeded"


def test_a_second_publish_fails_inside_its_job_and_a_stale_preview_cannot_go_live() -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=0.6) as portal:
        portal.add_offer("contoso", O)
        pid = portal.product(O)["id"]
        first = configure(portal, to_preview(pid)).json
        second = configure(portal, to_preview(pid)).json
        done = finished(portal, second["jobId"])
        assert (done["jobStatus"], done["jobResult"]) == ("completed", "failed")
        (problem,) = done["errors"]
        assert problem["code"] == "internalServerError"
        running = next(e for e in portal.submissions(O) if e["target"]["targetType"] == "preview")["id"]
        assert problem["message"] == f"An In Progress submission {running.rsplit('/', 1)[1]} already exists."
        assert problem["details"][0]["details"] == []
        assert finished(portal, first["jobId"])["jobResult"] == "succeeded"
        stale = running
        newer = finished(portal, configure(portal, to_preview(pid)).json["jobId"])
        assert newer["jobResult"] == "succeeded"
        live = post(portal, to_live(pid, stale))
        assert failed_with(live) == (
            "conflict",
            "The submission cannot be pushed to live as its not the latest submission.",
        )


def test_an_image_marked_as_failing_certification_fails_the_preview_publish(portal: FakePortal) -> None:
    portal.fail_certification("https://account.blob.core.windows.net/images/new.vhd?sig=other")  # any signature
    edited = config(portal)
    edited["vmImageVersions"].append(new_version())
    assert post(portal, edited)["jobResult"] == "succeeded"  # the edit itself is fine
    pid = portal.product(O)["id"]
    job = configure(portal, to_preview(pid)).json
    assert job["errors"] == []  # known only when the publish ends
    done = finished(portal, job["jobId"])
    (problem,) = done["errors"]
    assert problem["code"] == "internalServerError" and problem["resourceId"].startswith("submission/")
    (nested,) = problem["details"]
    assert (nested["code"], nested["message"]) == ("invalidState", "Certification")
    assert nested["details"] == [
        {"code": "invalidState", "message": "Issues found during Certification.", "details": []}
    ]
    preview = [e for e in portal.submissions(O) if e["target"]["targetType"] == "preview"][-1]
    assert (preview["status"], preview["result"]) == ("completed", "failed")


def test_a_version_number_can_be_marked_as_failing_certification(portal: FakePortal) -> None:
    portal.fail_certification("2024.07.15")
    done = post(portal, to_preview(portal.product(O)["id"]))
    assert done["jobResult"] == "failed" and done["errors"][0]["details"][0]["code"] == "invalidState"


def test_publish_durations_to_preview_and_live_are_set_by_the_test(portal: FakePortal) -> None:
    portal.set_publish_seconds(0.05, live=0.8)
    pid = portal.product(O)["id"]
    started = time.monotonic()
    post(portal, to_preview(pid))
    to_preview_took = time.monotonic() - started
    preview = [e for e in portal.submissions(O) if e["target"]["targetType"] == "preview"][-1]
    started = time.monotonic()
    assert post(portal, to_live(pid, preview["id"]))["jobResult"] == "succeeded"
    assert to_preview_took < 0.5 <= 0.8 <= time.monotonic() - started + 0.05
    with pytest.raises(ValueError, match="live"):
        portal.set_publish_seconds(1, live=-1)


def test_a_technical_configuration_not_there_is_a_404(portal: FakePortal) -> None:
    guid = portal.product(O)["id"].split("/")[1]
    answer = call(portal, "GET", f"/virtual-machine-plan-technical-configuration/{guid}/nope?{V}")
    assert answer.status == 404 and answer.json["error"]["code"] == "notFound"


def test_add_image_version_replaces_a_version_with_the_same_number(portal: FakePortal) -> None:
    portal.add_image_version(O, "arm64", "2024.07.15", uri=SAS, image_types=["arm64Gen2"], target="draft")
    numbers = [v["versionNumber"] for v in config(portal, "arm64")["vmImageVersions"]]
    assert numbers == ["2024.01.15", "2024.04.15", "2024.07.15"]
    (image,) = config(portal, "arm64")["vmImageVersions"][-1]["vmImages"]
    assert (image["imageType"], image["source"]["osDisk"]["uri"]) == ("arm64Gen2", SAS)
    live = config(portal, "arm64", "live")["vmImageVersions"][-1]["vmImages"][0]["source"]["osDisk"]["uri"]
    assert "-arm64-v20240715.vhd?" in live  # the live one is still the seeded image
    with pytest.raises(KeyError):
        portal.add_image_version(O, "no-such-plan", "2024.01.15")
    with pytest.raises(ValueError, match="target"):
        portal.add_image_version(O, "gen2", "2024.01.15", target="production")


def test_a_version_added_to_preview_only_is_in_preview_and_not_live(portal: FakePortal) -> None:
    seeded = ["2024.01.15", "2024.04.15", "2024.07.15"]
    portal.add_image_version(O, "gen2", "2024.10.15", target="preview")
    assert [v["versionNumber"] for v in config(portal, "gen2", "preview")["vmImageVersions"]] == [*seeded, "2024.10.15"]
    assert [v["versionNumber"] for v in config(portal, "gen2", "live")["vmImageVersions"]] == seeded
    entries = {e["target"]["targetType"]: e["id"] for e in portal.submissions(O)}
    assert entries["preview"] != entries["live"]  # a preview waiting to go live
    assert post(portal, to_live(portal.product(O)["id"], entries["preview"]))["jobResult"] == "succeeded"
    assert [v["versionNumber"] for v in config(portal, "gen2", "live")["vmImageVersions"]] == [*seeded, "2024.10.15"]
