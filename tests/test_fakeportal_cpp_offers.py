"""FakePortal's CPP offers: realistic plans and VM image versions, both migration states, a version's way to live."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import pytest
from cloudpartner.testing import FakePortal

pytest_plugins = ["pytester"]

P, O = "contoso", "contoso-virtualmachineoffer"
V = "api-version=2017-10-31"
IMAGES = "microsoft-azure-corevm.vmImagesPublicAzure"
GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def call(base_url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """Send one request; return (status, headers, parsed body or None)."""
    sent = {"Authorization": "Bearer token", **(headers or {})}
    raw = None
    if body is not None:
        raw = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=5)
    try:
        conn.request(method, path, body=raw, headers=sent)
        answer = conn.getresponse()
        data = answer.read()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, json.loads(data) if data else None
    finally:
        conn.close()


def offer_path(offer: str = O, suffix: str = "") -> str:
    return f"/api/publishers/{P}/offers/{offer}{suffix}?{V}"


def plans_of(base_url: str, offer: str = O, suffix: str = "") -> dict[str, dict[str, Any]]:
    status, _, document = call(base_url, "GET", offer_path(offer, suffix))
    assert status == 200, document
    return {plan["planId"]: plan for plan in document["definition"]["plans"]}


def assert_realistic(plans: dict[str, dict[str, Any]]) -> None:
    assert list(plans) == ["gen2", "gen1", "arm64"]
    for plan in plans.values():
        versions = plan[IMAGES]
        assert list(versions) == ["2024.01.15", "2024.04.15", "2024.07.15"]
        assert [v["showInGui"] for v in versions.values()] == [False, True, True]  # the oldest deprecated
        assert all(v["osVhdUrl"].startswith("https://") and "sig=" in v["osVhdUrl"] for v in versions.values())
        assert plan["diskGenerations"] == []  # azure-img-utils 1.x and Debian's tooling read it from every plan


def test_an_offer_added_without_plans_has_several_plans_with_versions_one_hidden() -> None:
    with FakePortal() as portal:
        portal.add_offer(P, O, running=False)
        assert_realistic(plans_of(portal.base_url))
        tree = portal.resource_tree(O)
        assert sorted(r["identity"]["externalId"] for r in tree if r["id"].startswith("plan/")) == [
            "arm64",
            "gen1",
            "gen2",
        ]


def test_plans_named_are_seeded_the_same_way() -> None:
    with FakePortal() as portal:
        portal.add_offer(P, O, running=False, plans=["only"])
        (plan,) = plans_of(portal.base_url).values()
        assert plan["planId"] == "only" and len(plan[IMAGES]) == 3


def test_the_pytest_fixture_starts_with_the_realistic_offer(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_seed="""
        import json
        from pathlib import Path

        pytest_plugins = ["cloudpartner.testing"]

        def test_seed(cloudpartner_portal):
            Path("base_url.txt").write_text(cloudpartner_portal.base_url)
            import http.client
            conn = http.client.HTTPConnection(cloudpartner_portal.base_url.removeprefix("http://"), timeout=5)
            conn.request("GET", "/api/publishers/contoso/offers/contoso-virtualmachineoffer?api-version=2017-10-31",
                         headers={"Authorization": "Bearer t"})
            Path("offer.json").write_bytes(conn.getresponse().read())
        """
    )
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q").assert_outcomes(passed=1)
    document = json.loads((pytester.path / "offer.json").read_text())
    assert_realistic({plan["planId"]: plan for plan in document["definition"]["plans"]})


def test_cloudpartner_serve_starts_with_realistic_offers() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "cloudpartner", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "FakePortal listening on http://127.0.0.1:<port> (Ctrl-C stops it)"
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line
        assert_realistic(plans_of(found.group(0)))
    finally:
        server.kill()
        server.wait(timeout=10)


# -- migration states ----------------------------------------------------------------------------


def test_a_migrated_offer_says_so_and_its_publish_names_a_guid_operation() -> None:
    with FakePortal(step_seconds=0.01) as portal:
        portal.add_offer(P, O, running=False)
        _, _, document = call(portal.base_url, "GET", offer_path())
        assert (document["pcMigrationStatus"], document["pcRedirectUri"]) == ("migrated", "")
        status, headers, _ = call(portal.base_url, "POST", offer_path(suffix="/publish"), {"metadata": {}})
        assert status == 202
        assert re.fullmatch(f"/api/publishers/{P}/offers/{O}/operations/{GUID}\\?{V}", headers["location"])
        assert portal.product(O)["identity"]["externalId"] == O  # also a Partner Center product


def test_an_offer_not_migrated_says_none_and_its_operations_are_named_by_offer_and_slot() -> None:
    with FakePortal(step_seconds=0.01) as portal:
        portal.add_offer(P, "legacy-offer", running=False, migrated=False)
        status, _, document = call(portal.base_url, "GET", offer_path("legacy-offer"))
        assert status == 200
        assert document["pcMigrationStatus"] == "none"  # devigned/pub pkg/partner/offer_test.go
        assert "pcRedirectUri" not in document
        status, headers, _ = call(portal.base_url, "POST", offer_path("legacy-offer", "/publish"), {"metadata": {}})
        assert status == 202
        assert headers["location"] == f"/api/operations/{P}$legacy-offer$1$preview?{V}"  # the cancel page, 2020
        status, _, operation = call(portal.base_url, "GET", headers["location"])
        assert status == 200 and operation["id"] == f"{P}$legacy-offer$1$preview"
        status, headers, _ = call(portal.base_url, "POST", offer_path("legacy-offer", "/cancel"), {"metadata": {}})
        assert (status, headers["location"]) == (202, f"/api/operations/{P}$legacy-offer$1$preview?{V}")
        with pytest.raises(KeyError):  # Partner Center does not hold it: no product
            portal.product("legacy-offer")
        (item,) = call(portal.base_url, "GET", f"/api/publishers/{P}/offers?{V}")[2]
        assert item["pcMigrationStatus"] == "none" and "pcRedirectUri" not in item


# -- a new version's way from draft to live -----------------------------------------------------


def test_a_version_put_in_the_draft_reaches_preview_at_review_and_production_after_go_live() -> None:
    with FakePortal(step_seconds=0.05) as portal:
        portal.add_offer(P, O, running=False)
        _, headers, document = call(portal.base_url, "GET", offer_path())
        document["definition"]["plans"][0][IMAGES]["2024.10.15"] = {"osVhdUrl": "https://a/b.vhd?sig=x"}
        status, _, _ = call(portal.base_url, "PUT", offer_path(), document, {"If-Match": headers["etag"]})
        assert status == 200
        assert call(portal.base_url, "POST", offer_path(suffix="/publish"), {"metadata": {}})[0] == 202
        deadline = time.monotonic() + 10
        while call(portal.base_url, "GET", offer_path(suffix="/status"))[2]["status"] != "waitingForPublisherReview":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert "2024.10.15" in plans_of(portal.base_url, suffix="/slot/preview")["gen2"][IMAGES]
        assert call(portal.base_url, "GET", offer_path(suffix="/slot/production"))[0] == 404
        assert call(portal.base_url, "POST", offer_path(suffix="/golive"))[0] == 202
        while call(portal.base_url, "GET", offer_path(suffix="/status"))[2]["status"] != "succeeded":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        live = plans_of(portal.base_url, suffix="/slot/production")["gen2"][IMAGES]
        assert list(live) == ["2024.01.15", "2024.04.15", "2024.07.15", "2024.10.15"]
