"""FakePortal's ingestion answers against the corpus (tests/reference/ingestion): the same shapes.

Each check takes a documented answer and the portal's answer to the same call, and compares the
keys, the codes and the messages the clients read. Skipped where the corpus is absent.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from cloudpartner.testing import FakePortal
from test_fakeportal_ingestion import LISTING_SCHEMA, call, configure, finished, to_live, to_preview

CORPUS = Path(__file__).with_name("reference") / "ingestion"
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="no ingestion corpus in tests/reference/ingestion")


def documented(name: str) -> Any:
    exchange = json.loads((CORPUS / f"{name}.json").read_text())
    body = exchange["response"]["body"]
    return exchange["response"]["status"], (json.loads(body) if body.strip() else None)


def keys(resource: dict[str, Any]) -> set[str]:
    return {key.replace("externalID", "externalId") for key in resource}


def test_product_and_lists_have_the_documented_keys() -> None:
    with FakePortal() as portal:
        pid = portal.add_product("p", plans=["a"])
        _, page = documented("find-product-page-nextlink-opaque")
        ours = call(portal, "GET", "/product?$version=2022-07-01").json
        assert set(ours) <= set(page) and keys(ours["value"][0]) == keys(page["value"][0])
        _, product = documented("get-product-durable-id-comments")
        assert keys(call(portal, "GET", f"/product/{pid.split('/')[1]}").json) == keys(product)
        _, tree = documented("get-resource-tree-preview-page")
        ours = call(portal, "GET", f"/resource-tree/{pid}").json
        assert set(ours) == set(tree) and ours["root"] == pid  # the page's root: the durable id


def test_submissions_have_the_documented_keys_and_order() -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=0.05) as portal:
        pid = portal.add_product("p")
        finished(portal, configure(portal, to_preview(pid)).json["jobId"])
        finished(portal, configure(portal, to_live(pid, portal.submissions("p")[-1]["id"])).json["jobId"])
        finished(portal, configure(portal, to_preview(pid)).json["jobId"])  # a newer preview, not live
        ours = call(portal, "GET", f"/submission/{pid.split('/')[1]}").json["value"]
    _, page = documented("list-submissions-draft-preview-live")
    assert [e["target"]["targetType"] for e in ours] == [e["target"]["targetType"] for e in page["value"]]
    for mine, theirs in zip(ours, page["value"]):
        assert set(theirs) <= set(mine) <= set(theirs) | {"lifecycleState"}
    assert ours[1]["id"] != ours[2]["id"]  # live and a newer preview: two submissions, as on the page


def test_jobs_have_the_documented_keys_and_errors() -> None:
    with FakePortal(job_seconds=0.05, publish_seconds=0.4) as portal:
        pid = portal.add_product("p")
        running = configure(portal, to_preview(pid)).json
        _, page = documented("publish-preview-notstarted-jobID")
        assert {k.replace("jobID", "jobId") for k in page} == set(running)
        _, cancelled = documented("cancel-job-cancelled-malformed-jobstart")
        ours = call(portal, "POST", f"/configure/{running['jobId']}/cancel").json
        assert {k.replace("jobID", "jobId") for k in cancelled} == set(ours)
        assert (ours["jobStatus"], ours["jobResult"]) == (cancelled["jobStatus"], cancelled["jobResult"])
        status, refused = documented("cancel-job-400-already-completed")
        again = call(portal, "POST", f"/configure/{running['jobId']}/cancel")
        assert (again.status, again.json) == (status, refused)
        done = finished(portal, configure(portal, {"$schema": LISTING_SCHEMA, "product": pid}).json["jobId"])
        _, succeeded = documented("get-job-succeeded-resourceuri-schema-leading-space")
        assert set(succeeded) == set(done)
        _, detail = documented("get-job-resources-configure-detail")
        ours = call(portal, "GET", f"/configure/{done['jobId']}").json
        assert set(ours) == set(detail) and ours["$schema"].split("/")[-2] == detail["$schema"].split("/")[-2]
        finished(portal, configure(portal, to_preview(pid)).json["jobId"])
        wrong = finished(
            portal, configure(portal, to_live(pid, f"{pid.replace('product', 'submission')}/1")).json["jobId"]
        )
        _, not_latest = documented("get-job-failed-conflict-not-latest-cloudpub-mock")
        assert (wrong["errors"][0]["code"], wrong["errors"][0]["message"]) == (
            not_latest["errors"][0]["code"],
            not_latest["errors"][0]["message"],
        )
        assert set(wrong["errors"][0]) == set(not_latest["errors"][0])
        first = configure(portal, to_preview(pid)).json
        busy = configure(portal, to_preview(pid)).json
        _, in_progress = documented("get-job-failed-in-progress-submission-cloudpub-mock")
        assert busy["errors"][0]["code"] == in_progress["errors"][0]["code"]
        assert busy["errors"][0]["message"].split()[:3] == in_progress["errors"][0]["message"].split()[:3]
        time.sleep(0.01)
        assert first["errors"] == []


def test_refusals_have_the_documented_bodies() -> None:
    with FakePortal() as portal:
        status, deprecated = documented("find-product-400-deprecated-schema")
        answer = call(portal, "GET", "/product?$version=2022-03-01-preview3")
        assert (answer.status, answer.json) == (status, deprecated)
        status, _ = documented("get-job-resources-404-no-body")
        assert (
            call(portal, "GET", "/configure/00000000-0000-0000-0000-000000000000?$version=2023-07-15").status == status
        )
        status, _ = documented("get-job-401-no-body")
        assert call(portal, "GET", "/configure/x/status", token=None).status == status
        _, validation = documented("configure-400-schema-validation-cloudpub-mock")
        ours = call(portal, "POST", "/configure", {"resources": []}).json
        assert ours["error"]["code"] == validation["error"]["code"]
        assert ours["error"]["details"][0]["code"] == validation["error"]["details"][0]["code"]
