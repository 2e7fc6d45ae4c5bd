"""FakePortal answers in the shapes public clients saw the service send (tests/reference/observed).

Where the observed answers differ from the reference pages, FakePortal follows the observed ones:
an unknown offer's 404 is the Partner Center shim's service-name wrapper, a publish of one a bare
JSON string, a PUT without If-Match of an existing offer 409 ``InvalidResourceId``; the offers
list takes ``$filter=offerTypeId eq '<type>'`` and its items carry the undocumented keys and the
zoneless time; ``GET /api/publishers`` lists the publishers a token sees. Each is checked through
the Client and against the observed file's shape.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import TOKEN

OBSERVED = Path(__file__).with_name("reference") / "observed"
VM = "microsoft-azure-virtualmachines"
COREVM = "microsoft-azure-corevm"
SENTENCE = "CPP product {offer} not found in current PC environment."
HTTP404 = "Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception"


def observed(name: str) -> dict[str, Any]:
    exchange: dict[str, Any] = json.loads((OBSERVED / f"{name}.json").read_text())
    return exchange


def observed_body(name: str) -> Any:
    return json.loads(observed(name)["response"]["body"])


def raw(
    portal: FakePortal, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
    try:
        sent = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
        payload = None if body is None else json.dumps(body).encode()
        if payload is not None:
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=sent)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def shape(value: Any) -> Any:
    """A JSON value's shape: the keys of each object (recursively) and the type of each leaf."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    return type(value).__name__


@pytest.fixture
def portal() -> Any:
    with FakePortal() as fake:
        fake.add_offer("contoso", "contoso-offer", running=False)
        fake.add_offer("contoso", "second-offer", running=False)
        fake.add_offer("fabrikam", "fabrikam-offer", running=False)
        yield fake


@pytest.fixture
def client(portal: FakePortal) -> Any:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, max_retries=0, timeout=5) as c:
        yield c


# -- GET /api/publishers ---------------------------------------------------------------------------


def test_list_publishers_names_the_publishers_of_the_offers(portal: FakePortal, client: cloudpartner.Client) -> None:
    found = client.list_publishers()
    assert [p["id"] for p in found] == ["contoso", "fabrikam"]
    (request,) = portal.requests
    assert (request.method, request.path, request.query) == ("GET", "/api/publishers", {"api-version": "2017-10-31"})
    assert asyncio.run(asyncio.wait_for(client.list_publishers_async(), 10)) == found


def test_each_publisher_has_the_captured_shape(client: cloudpartner.Client) -> None:
    expect = observed("list-publishers")["expect"]
    (captured,) = observed_body("list-publishers")
    for publisher in client.list_publishers():
        assert list(publisher) == expect["item_keys"]
        assert list(publisher["definition"]) == expect["definition_keys"]
        assert shape(publisher) == shape(captured)  # version and sellerId integers, categories strings
        assert publisher["version"] == captured["version"] == 0
    contoso = client.list_publishers()[0]
    assert contoso["definition"]["offerTypeCategories"] == [VM]
    assert contoso["definition"]["sellerId"] == client.list_publishers()[0]["definition"]["sellerId"]  # stable


def test_list_publishers_follows_the_tokens_mapping() -> None:
    tokens = {TOKEN: ["contoso", "northwind"], "fabrikam-token": ["fabrikam"]}
    with FakePortal(tokens=tokens) as portal:
        portal.add_offer("contoso", "contoso-offer", running=False)
        portal.add_offer("fabrikam", "fabrikam-offer", running=False)
        ours = cloudpartner.Client(TOKEN, base_url=portal.base_url).list_publishers()
        theirs = cloudpartner.Client("fabrikam-token", base_url=portal.base_url).list_publishers()
        with pytest.raises(cloudpartner.AuthenticationError):
            cloudpartner.Client("unknown-token", base_url=portal.base_url, max_retries=0).list_publishers()
    assert [p["id"] for p in ours] == ["contoso", "northwind"]  # mapped, with or without offers
    assert ours[1]["definition"]["offerTypeCategories"] == []
    assert [p["id"] for p in theirs] == ["fabrikam"]


def test_an_empty_portal_lists_no_publishers() -> None:
    with FakePortal() as portal:
        assert cloudpartner.Client(TOKEN, base_url=portal.base_url).list_publishers() == []


def test_a_failure_can_be_injected_on_the_publishers_route(portal: FakePortal, client: cloudpartner.Client) -> None:
    portal.fail_next(1, 503, route="publishers")
    client.list_offers("contoso")  # another route: untouched
    with pytest.raises(cloudpartner.ServerError):
        client.list_publishers()


# -- the offers list: $filter and the observed item shape ---------------------------------------------


def test_list_offers_filters_by_offer_type(portal: FakePortal, client: cloudpartner.Client) -> None:
    client.put_offer(
        "contoso", "core-offer", {"offerTypeId": COREVM, "definition": {"displayText": "Core"}}, if_match="*"
    )
    every = client.list_offers("contoso")
    assert [o["id"] for o in every] == ["contoso-offer", "second-offer", "core-offer"]
    assert [o["id"] for o in client.list_offers("contoso", offer_type=VM)] == ["contoso-offer", "second-offer"]
    assert [o["id"] for o in client.list_offers("contoso", offer_type=COREVM)] == ["core-offer"]
    assert client.list_offers("contoso", offer_type="microsoft-azure-applications") == []
    assert [o["id"] for o in asyncio.run(asyncio.wait_for(client.list_offers_async("contoso", VM), 10))] == [
        "contoso-offer",
        "second-offer",
    ]
    filtered = [r for r in portal.requests if "$filter" in r.query]
    assert filtered[0].query["$filter"] == f"offerTypeId eq '{VM}'"


def test_list_offers_refuses_a_filter_it_does_not_know(portal: FakePortal) -> None:
    status, _, body = raw(
        portal, "GET", "/api/publishers/contoso/offers?api-version=2017-10-31&$filter=id%20eq%20%27x%27"
    )
    assert status == 400
    assert json.loads(body)["error"]["code"] == "BadRequest"
    # the spelling Microsoft's CLI sends (quotes left as they are) is understood
    path = f"/api/publishers/contoso/offers?api-version=2017-10-31&$filter=offerTypeId%20eq%20'{VM}'"
    status, _, body = raw(portal, "GET", path)
    assert status == 200 and len(json.loads(body)) == 2


def test_list_items_have_the_observed_keys_and_time(portal: FakePortal, client: cloudpartner.Client) -> None:
    name = "list-offers-filter-extra-keys-zoneless-time"
    seen = observed_body(name)[0]
    expect = observed(name)["expect"]
    items = client.list_offers("contoso", offer_type=VM)
    for item in items:
        assert list(item) == list(seen)  # every key seen in the wild, in that order
        assert shape(item) == shape(seen)
        assert set(expect["keys_not_on_the_pages"]) <= set(item)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", item["changedTime"])  # no zone, 3 digits
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", seen["changedTime"])
        assert item["status"] == "neverPublished" and item["lockStatus"] == "none"
        guid = portal.product(item["id"])["id"].removeprefix("product/")
        assert item["pcRedirectUri"] == seen["pcRedirectUri"].replace("0d6d1e82-94cc-4844-9ef8-331c0926adcf", guid)
        assert client.get_offer("contoso", item["id"]).definition["id"] == item["id"]  # ids are offer ids


def test_an_offer_has_the_observed_top_level_keys(client: cloudpartner.Client) -> None:
    expect = observed("get-offer-200-migrated")["expect"]
    offer = client.get_offer("contoso", "contoso-offer")
    assert list(offer.definition) == expect["top_level_keys"]
    assert offer.definition["pcMigrationStatus"] == "migrated" and offer.definition["isvUpgradeRequest"] is False


def test_add_offer_takes_an_offer_type() -> None:
    with FakePortal() as portal:
        portal.add_offer("contoso", "core-offer", False, offer_type=COREVM)
        portal.add_offer("contoso", "vm-offer", running=False)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        assert [o["id"] for o in client.list_offers("contoso", offer_type=COREVM)] == ["core-offer"]
        assert client.get_offer("contoso", "core-offer").definition["offerTypeId"] == COREVM


def test_operations_name_the_offer_type(portal: FakePortal, client: cloudpartner.Client) -> None:
    client.put_offer("contoso", "core-offer", {"offerTypeId": COREVM}, if_match="*")
    client.publish("contoso", "core-offer")
    status, _, body = raw(portal, "GET", "/api/publishers/contoso/offers/core-offer/submissions?api-version=2017-10-31")
    assert status == 200
    assert [item["offerTypeId"] for item in json.loads(body)] == [COREVM]


# -- an unknown offer: the shim's 404 -------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_an_unknown_offer_is_not_found_with_the_real_sentence(client: cloudpartner.Client, mode: str) -> None:
    def attempt() -> Any:
        if mode == "sync":
            return client.get_offer("contoso", "missing")
        return asyncio.run(asyncio.wait_for(client.get_offer_async("contoso", "missing"), 10))

    with pytest.raises(cloudpartner.NotFoundError) as caught:
        attempt()
    error = caught.value
    observed_error = observed("get-offer-404-pc-environment-stacktrace")["expect"]
    assert error.status_code == observed_error["status_code"]
    assert error.code == observed_error["code"] == "Http404Exception"
    assert error.message == SENTENCE.format(offer="missing")
    assert error.is_transient is False
    line = str(error)
    assert "\n" not in line and "\r" not in line and "MoveNext" not in line and HTTP404 not in line
    assert "MoveNext" in error.body


@pytest.mark.parametrize(
    "path",
    [
        "/api/publishers/contoso/offers/missing?api-version=2017-10-31",
        "/api/publishers/contoso/offers/missing/slot/preview?api-version=2017-10-31",
        "/api/publishers/contoso/offers/missing/versions/1?api-version=2017-10-31",
    ],
)
def test_the_unknown_offer_404_is_the_shim_wrapper_byte_for_byte(portal: FakePortal, path: str) -> None:
    status, headers, body = raw(portal, "GET", path)
    assert status == 404
    assert headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert body == json.dumps(answer, separators=(",", ":")).encode()  # compact, as the wire was
    seen = observed_body("get-offer-404-pc-environment-stacktrace")
    assert shape(answer) == shape(seen)  # {"Product": {serviceName, error, exceptionCode, httpStatusCode}}
    wrapper, seen_wrapper = answer["Product"], seen["Product"]
    for key in ("serviceName", "exceptionCode", "httpStatusCode"):
        assert wrapper[key] == seen_wrapper[key]
    first, _, trace = wrapper["error"].partition("\r\n")
    seen_first, _, seen_trace = seen_wrapper["error"].partition("\r\n")
    assert first == f"{HTTP404}: {SENTENCE.format(offer='missing')}"
    assert seen_first == f"{HTTP404}: {SENTENCE.format(offer='test-offer')}"
    assert trace.startswith("   at Microsoft.Ingestion.Api.Controllers.CppOperationController.")
    assert seen_trace.startswith(trace)  # the captured frame, without the build agent's path


def test_a_publish_of_an_unknown_offer_answers_a_bare_json_string(
    portal: FakePortal, client: cloudpartner.Client
) -> None:
    with pytest.raises(cloudpartner.NotFoundError) as caught:
        client.publish("contoso", "missing")
    error = caught.value
    seen = observed_body("publish-404-bare-json-string")
    answer = json.loads(error.body)
    assert isinstance(answer, str) and isinstance(seen, str)
    assert answer.startswith(seen.removesuffix("..."))  # the mock's text, abridged by its authors
    assert error.code == observed("publish-404-bare-json-string")["expect"]["code"]
    assert error.message == SENTENCE.format(offer="missing")


def test_other_routes_keep_the_documented_not_found(portal: FakePortal, client: cloudpartner.Client) -> None:
    for attempt in (
        lambda: client.cancel("contoso", "missing"),
        lambda: client.get_offer_status("contoso", "missing"),
        lambda: client.list_operations("contoso", "missing"),
        lambda: client.go_live("contoso", "missing"),
    ):
        with pytest.raises(cloudpartner.NotFoundError) as caught:
            attempt()
        assert caught.value.code == "NotFound"
    with pytest.raises(cloudpartner.NotFoundError) as empty_slot:
        client.get_offer("contoso", "contoso-offer", slot="production")  # a known offer, nothing live
    assert empty_slot.value.code == "NotFound"


def test_the_cli_shows_the_unknown_offer_sentence(portal: FakePortal) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cloudpartner", "offer", "contoso", "missing", "--base-url", portal.base_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 3, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("cloudpartner: NotFoundError: 404 Not Found: CPP product missing not found")
    assert "Traceback" not in done.stderr


# -- PUT without If-Match -------------------------------------------------------------------------------


def test_a_put_without_if_match_of_an_existing_offer_is_the_observed_409(portal: FakePortal) -> None:
    seen = observed("put-offer-409-if-match-required")
    path = "/api/publishers/contoso/offers/contoso-offer?api-version=2017-10-31"
    status, _, body = raw(portal, "PUT", path, {"offerTypeId": VM, "definition": {}})
    assert status == seen["response"]["status"] == 409
    assert json.loads(body) == json.loads(seen["response"]["body"])
    status, _, _ = raw(portal, "PUT", path, {"definition": {}}, {"If-Match": "*"})
    assert status == 200
