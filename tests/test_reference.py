"""The reference corpus: the API's documented answers, served verbatim, read as documented.

`tests/reference/*.json` holds one exchange each, as the reference pages print it (see its
README). The client is checked against each answer served byte for byte from a raw server, and
FakePortal is checked to answer in the same shapes. The core's parsers read the same files in
`cargo test` (`src/reference_tests.rs`).
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

REFERENCE = Path(__file__).with_name("reference")
EXCHANGES: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(REFERENCE.glob("*.json"))}
CLIENT_CALLS = (
    "cancel",
    "publish",
    "go_live",
    "list_operations",
    "get_operation",
    "get_offer_status",
    "list_offers",
    "get_offer",
)


def verbatim(exchange: dict[str, Any]):
    """A raw-server behaviour that sends the documented answer byte for byte."""
    answer = exchange["response"]
    raw = http_response(answer["status"], answer["headers"], answer["body"].encode())

    def run(conn: Connection, _request: RawRequest) -> None:
        conn.send(raw)

    return run


def path_and_query(target: str) -> tuple[str, dict[str, str]]:
    split = urlsplit(target)
    return split.path.rstrip("/"), dict(parse_qsl(split.query))


def call(client: cloudpartner.Client, exchange: dict[str, Any]) -> Any:
    path, query = path_and_query(exchange["request"]["path"])
    segments = path.split("/")
    name = exchange["call"]
    if name in ("cancel", "publish", "go_live", "get_offer_status", "get_offer"):
        return getattr(client, name)(segments[3], segments[5])
    if name == "list_operations":
        return client.list_operations(segments[3], segments[5], status=query.get("status"))
    if name == "list_offers":
        return client.list_offers(segments[3])
    return client.get_operation(exchange["request"]["path"])


def test_the_corpus_covers_every_documented_exchange() -> None:
    assert set(EXCHANGES) == {
        "cancel-202-2018-operation-location",
        "cancel-202-2020-location-migrated",
        "cancel-202-2020-location-non-migrated",
        "cancel-202-nothing-running",
        "cancel-200-sync",
        "cancel-400-invalid-api-version",
        "cancel-401-empty",
        "cancel-403-forbidden",
        "cancel-404-not-found",
        "operations-list",
        "operation-single",
        "offer-status",
        "publish-202-operation-location-relative",
        "golive-202-location",
        "offers-list",
        "offer",
    }
    for exchange in EXCHANGES.values():
        assert exchange["source"] and exchange["call"] and "expect" in exchange
        if exchange["response"]["body"] and "json" in exchange["response"]["headers"].get("Content-Type", ""):
            json.loads(exchange["response"]["body"])  # a repaired page sample parses (see "repair")


@pytest.mark.parametrize("name", [n for n, e in EXCHANGES.items() if e["call"] in CLIENT_CALLS])
def test_the_client_reads_each_documented_answer(name: str) -> None:
    exchange, expect = EXCHANGES[name], EXCHANGES[name]["expect"]
    with RawServer(verbatim(exchange)) as srv, cloudpartner.Client(TOKEN, base_url=srv.base_url) as client:
        if "error" in expect:
            with pytest.raises(cloudpartner.ApiError) as caught:
                call(client, exchange)
            outcome: Any = caught.value
            assert type(outcome).__name__ == expect["error"]
            assert outcome.is_transient is False
        else:
            outcome = call(client, exchange)
        (request,) = srv.requests
        base_url = srv.base_url
    sent_path, sent_query = path_and_query(request.target)
    documented_path, documented_query = path_and_query(exchange["request"]["path"])
    assert (request.method, sent_path) == (exchange["request"]["method"], documented_path)
    assert sent_query == documented_query
    check(outcome, expect, base_url)


def check(outcome: Any, expect: dict[str, Any], base_url: str) -> None:
    """What the client made of the answer, against what the corpus says it means."""
    if "plan_ids" in expect:  # an offer: the whole document, as a dict
        assert outcome.definition["id"] == expect["id"] and outcome.definition["version"] == expect["version"]
        assert outcome.definition["status"] == expect["status"]
        assert set(expect["keys"]) <= set(outcome.definition)
        assert [plan["planId"] for plan in outcome.definition["definition"]["plans"]] == expect["plan_ids"]
        return
    simple = {
        "status_code": "status_code",
        "operation_id": "operation_id",
        "operation_location": "operation_location",
        "completed": "completed",
        "code": "code",
        "message": "message",
        "status": "status",
        "cancellation_state": "cancellation_state",
        "waiting_for_review": "waiting_for_review",
        "id": "id",
    }
    for key, attribute in simple.items():
        if key in expect:
            assert getattr(outcome, attribute) == expect[key], key
    if "operation_path" in expect:
        assert outcome.operation_location == base_url + expect["operation_path"]
    if "ids" in expect and isinstance(outcome[0], dict):  # offers: dicts as the service wrote them
        assert [offer["id"] for offer in outcome] == expect["ids"]
        assert [offer["status"] for offer in outcome] == expect["statuses"]
        assert set(expect["item_keys"]) <= set(outcome[0])
    elif "ids" in expect:  # operations
        assert [op.id for op in outcome] == expect["ids"]
        assert [op.status for op in outcome] == expect["statuses"]
        assert [op.submission_type for op in outcome] == expect["submission_types"]
        assert outcome[0].raw["version"] == expect["raw_version"]  # above 2**53, exact
    if "step_ids" in expect:
        assert [s.id for s in outcome.steps] == expect["step_ids"]
        assert [s.status for s in outcome.steps] == expect["step_statuses"]
        if "step_time_frames" in expect:  # (the offer status page's steps all have one)
            assert [s.estimated_time_frame for s in outcome.steps] == expect["step_time_frames"]
        messages = [[s.id, m.level, m.text] for s in outcome.steps for m in s.messages]
        assert messages == expect["messages"]
        assert all(m.timestamp is not None for s in outcome.steps for m in s.messages)


def test_wait_follows_the_documented_single_operation_shape() -> None:
    exchange = EXCHANGES["operation-single"]
    running = verbatim(exchange)
    done = json.loads(exchange["response"]["body"])
    done[0]["status"] = "canceled"
    canceled = http_response(200, {"Content-Type": "application/json"}, json.dumps(done).encode())
    with RawServer(running, running, lambda conn, _req: conn.send(canceled)) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url)
        seen: list[str] = []
        final = client.wait(
            exchange["request"]["path"], timeout=10, poll_interval=0.01, on_progress=lambda op: seen.append(op.status)
        )
    assert final.canceled and final.cancellation_state == "canCancel"
    assert seen == ["running", "canceled"]


# -- FakePortal answers in the documented shapes -------------------------------------------------------


def keys_of(name: str) -> dict[str, Any]:
    return EXCHANGES[name]["expect"]


def fake_get(portal: FakePortal, path: str) -> Any:
    conn = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        conn.close()


def test_fakeportal_lists_operations_with_the_documented_keys_and_no_status() -> None:
    with FakePortal() as portal:
        portal.add_offer("contoso", "contoso-offer")
        status, _, body = fake_get(
            portal, "/api/publishers/contoso/offers/contoso-offer/submissions/?api-version=2017-10-31"
        )
    assert status == 200
    (item,) = json.loads(body)
    assert set(keys_of("operations-list")["item_keys"]) <= set(item)
    assert "status" not in item
    assert item["version"] > 2**53


def test_fakeportal_answers_an_operation_with_the_documented_keys() -> None:
    expect = keys_of("operation-single")
    with FakePortal() as portal:
        portal.add_offer("contoso", "contoso-offer")
        (operation,) = portal.operations("contoso", "contoso-offer")
        status, _, body = fake_get(portal, f"/api/operations/{operation['id']}?api-version=2017-10-31")
    assert status == 200
    answer = json.loads(body)
    assert set(expect["keys"]) <= set(answer)
    assert all(set(expect["step_keys"]) <= set(step) for step in answer["steps"])
    messages = [message for step in answer["steps"] for message in step["messages"]]
    assert messages and all(set(expect["message_keys"]) <= set(message) for message in messages)
    assert answer["cancellationRequestState"] == expect["cancellation_state"]


@pytest.mark.parametrize(
    ("style", "name"),
    [
        ("absolute", "cancel-202-2018-operation-location"),
        ("relative", "cancel-202-2020-location-migrated"),
        ("non-migrated", "cancel-202-2020-location-non-migrated"),
    ],
)
def test_fakeportal_cancels_with_each_documented_location_shape(style: str, name: str) -> None:
    documented = EXCHANGES[name]["response"]["headers"]
    with FakePortal(location_style=style) as portal:
        portal.add_offer("contoso", "contoso-offer")
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        result = client.cancel("contoso", "contoso-offer")
        header = next(iter(documented))
        (answer,) = [r for r in portal.requests if r.method == "POST"]
    assert result.status_code == 202
    assert result.operation_location is not None
    location = result.operation_location.removeprefix(portal.base_url)
    assert route_shape(location) == route_shape(documented[header].removeprefix("https://cloudpartner.azure.com"))
    assert answer.path.endswith("/cancel")


def route_shape(location: str) -> str:
    """A location with its ids replaced: the route and the query are what must match."""
    location = re.sub(
        r"^/api/publishers/[^/]+/offers/[^/]+/operations/[^/?]+", "/api/publishers/P/offers/O/operations/ID", location
    )
    return re.sub(r"^/api/operations/[^$/?]+\$[^$/?]+\$\d+\$[a-z]+", "/api/operations/P$O$N$SLOT", location)


def test_fakeportal_answers_a_cancel_with_nothing_running_like_the_service() -> None:
    with FakePortal(cancel_seconds=0) as portal:
        portal.add_offer("contoso", "contoso-offer")
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        first = client.cancel("contoso", "contoso-offer")
        again = client.cancel("contoso", "contoso-offer")  # nothing runs any more
    assert (first.status_code, again.status_code) == (
        202,
        EXCHANGES["cancel-202-nothing-running"]["expect"]["status_code"],
    )
    assert again.operation_id == first.operation_id  # the latest operation


@pytest.mark.parametrize(
    ("name", "make_client"),
    [
        ("cancel-400-invalid-api-version", None),
        ("cancel-401-empty", lambda base: cloudpartner.Client("wrong-token-123", base_url=base)),
        ("cancel-403-forbidden", lambda base: cloudpartner.Client("other-token", base_url=base)),
        ("cancel-404-not-found", lambda base: cloudpartner.Client(TOKEN, base_url=base)),
    ],
)
def test_fakeportal_refuses_with_the_documented_statuses(name: str, make_client: Any) -> None:
    expect = EXCHANGES[name]["expect"]
    with FakePortal(tokens={TOKEN: ["contoso"], "other-token": ["fabrikam"]}) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer")
        if make_client is None:  # a wrong api-version: only a raw request can send one
            status, _, body = fake_get(
                portal, "/api/publishers/contoso/offers/x/submissions?api-version=2016-08-01-preview"
            )
            assert status == expect["status_code"]
            assert json.loads(body)["error"]["code"] == expect["code"]
            return
        offer = "missing" if name == "cancel-404-not-found" else "contoso-virtualmachineoffer"
        with pytest.raises(cloudpartner.ApiError) as caught:
            make_client(portal.base_url).cancel("contoso", offer)
    assert type(caught.value).__name__ == expect["error"]
    assert caught.value.status_code == expect["status_code"]


def test_fakeportal_offer_status_and_offer_list_have_the_documented_keys() -> None:
    status_keys = EXCHANGES["offer-status"]["expect"]
    offer_keys = EXCHANGES["offers-list"]["expect"]["item_keys"]
    with FakePortal(step_seconds=0.01) as portal:
        portal.add_offer("contoso", "contoso-offer", running=False)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        client.wait(client.publish("contoso", "contoso-offer"), timeout=10, poll_interval=0.01, until_review=True)
        status_code, _, body = fake_get(
            portal, "/api/publishers/contoso/offers/contoso-offer/status?api-version=2017-10-31"
        )
        _, _, offers = fake_get(portal, "/api/publishers/contoso/offers?api-version=2017-10-31")
    assert status_code == 200
    status = json.loads(body)
    assert set(status_keys["keys"]) <= set(status)
    documented_step_ids = status_keys["step_ids"]
    assert [step["id"] for step in status["steps"]] == documented_step_ids
    assert all(set(status_keys["step_keys"]) - {"estimatedTimeFrame"} <= set(step) for step in status["steps"])
    assert status["status"] == "waitingForPublisherReview"
    (offer,) = json.loads(offers)
    assert set(offer_keys) <= set(offer)
    with FakePortal() as portal:
        portal.add_offer("contoso", "contoso-offer", running=False)
        document = cloudpartner.Client(TOKEN, base_url=portal.base_url).get_offer("contoso", "contoso-offer")
    assert set(EXCHANGES["offer"]["expect"]["keys"]) <= set(document.definition)
    assert document.etag


def test_the_cli_shows_the_status_of_each_documented_list_item() -> None:
    exchange = EXCHANGES["operations-list"]
    with RawServer(verbatim(exchange)) as srv:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cloudpartner",
                "operations",
                "contoso",
                "contoso-offer",
                "--base-url",
                srv.base_url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.split()[:3] == ["5a63deb5-925b-4ee0-938b-7c86fbf287c5", "running", "publish"]
