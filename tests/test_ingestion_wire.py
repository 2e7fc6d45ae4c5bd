"""What cloudpartner.ingestion.Client puts on the wire, read byte for byte by a raw-socket server.

The request line is checked as sent (``$version`` with a literal ``$``, the base's path kept),
with the bodies, the retry rules (configure and publish never twice; reads and cancels again on
503 and on a stale pooled connection), and ``@nextLink`` refused off the configured origin.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response, keepalive_then_reset, reset, response

GUID = "d4261631-c583-4949-a612-5150882632e9"
PREFIX = "/rp/product-ingestion"
V = "$version=2022-07-01"
CONFIGURE_SCHEMA = "https://schema.mp.microsoft.com/schema/configure/2022-07-01"
SUBMISSION_SCHEMA = "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2"
LISTING = {"$schema": "https://schema.mp.microsoft.com/schema/listing/2022-07-01", "product": f"product/{GUID}"}
JSON = {"Content-Type": "application/json"}
# One body every call can read: a job (an object with jobId), a page (value), a product (id), a tree.
ANY = {
    "jobId": GUID,
    "jobStatus": "running",
    "jobResult": "pending",
    "id": f"product/{GUID}",
    "identity": {"externalId": "contoso-offer"},
    "value": [{"id": f"product/{GUID}", "identity": {"externalId": "contoso-offer"}}],
}


@pytest.fixture(autouse=True)
def _no_ingestion_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_BASE_URL", raising=False)


def answer(body: Any, status: int = 200, **headers: str) -> bytes:
    return http_response(status, {**JSON, **headers}, json.dumps(body).encode())


def serve(body: Any = ANY, status: int = 200) -> Callable[[Connection, RawRequest], None]:
    raw = answer(body, status)
    return lambda conn, _request: conn.send(raw)


def routed(route: Callable[[RawRequest], bytes]) -> Callable[[Connection, RawRequest], None]:
    return lambda conn, request: conn.send(route(request))


def client_for(base_url: str, **settings: Any) -> ingestion.Client:
    settings.setdefault("timeout", 5.0)
    settings.setdefault("backoff", 0.01)
    settings.setdefault("max_retries", 0)
    return ingestion.Client(TOKEN, base_url=base_url, **settings)


def run(client: ingestion.Client, mode: str, name: str, *args: Any) -> Any:
    if mode == "sync":
        return getattr(client, name)(*args)
    return asyncio.run(asyncio.wait_for(getattr(client, name + "_async")(*args), 20))


CALLS = [
    ("get_job", (GUID,), "GET", f"/configure/{GUID}/status?{V}"),
    ("cancel_job", (GUID,), "POST", f"/configure/{GUID}/cancel?{V}"),
    ("get_job_resources", (GUID,), "GET", f"/configure/{GUID}?{V}"),
    ("get_product", (f"product/{GUID}",), "GET", f"/product/{GUID}?{V}"),
    ("get_product", (GUID.upper(),), "GET", f"/product/{GUID}?{V}"),
    ("find_product", ("contoso-offer",), "GET", f"/product?{V}&externalId=contoso-offer"),
    ("list_submissions", (GUID,), "GET", f"/submission/{GUID}?{V}"),
    ("get_resource_tree", (GUID,), "GET", f"/resource-tree/product/{GUID}?{V}&targetType=draft"),
    ("get_resource_tree", (GUID, "live"), "GET", f"/resource-tree/product/{GUID}?{V}&targetType=live"),
    ("configure", ([LISTING],), "POST", f"/configure?{V}"),
    ("publish", (GUID,), "POST", f"/configure?{V}"),
]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("name", "args", "method", "target"), CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_each_call_keeps_the_prefix_names_the_version_with_a_literal_dollar_and_a_bearer(
    mode: str, name: str, args: tuple[Any, ...], method: str, target: str
) -> None:
    with RawServer(serve()) as srv, client_for(srv.base_url + PREFIX) as client:
        run(client, mode, name, *args)
        (request,) = srv.requests
    assert (request.method, request.target) == (method, PREFIX + target)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"].startswith("application/json")


def test_the_version_a_client_names_is_on_every_request_and_in_the_configure_schema() -> None:
    with RawServer(serve()) as srv, client_for(srv.base_url + PREFIX, version="2023-07-15") as client:
        assert client.version == "2023-07-15"
        client.get_job(GUID)
        client.find_product("contoso-offer")
        client.configure([LISTING])
        requests = srv.requests
    assert [r.target for r in requests] == [
        f"{PREFIX}/configure/{GUID}/status?$version=2023-07-15",
        f"{PREFIX}/product?$version=2023-07-15&externalId=contoso-offer",
        f"{PREFIX}/configure?$version=2023-07-15",
    ]
    assert json.loads(requests[2].body)["$schema"] == "https://schema.mp.microsoft.com/schema/configure/2023-07-15"


def test_a_cancel_is_a_post_with_no_body() -> None:
    with RawServer(serve()) as srv, client_for(srv.base_url + PREFIX) as client:
        client.cancel_job(GUID)
        (request,) = srv.requests
    assert request.method == "POST" and request.body == b""
    assert request.headers.get("content-length", "0") == "0"
    assert "transfer-encoding" not in request.headers


def test_configure_sends_the_schema_and_the_resources_or_a_whole_document_as_given() -> None:
    whole = {"$schema": "https://schema.mp.microsoft.com/schema/configure/2022-07-01", "resources": [LISTING], "x": 1}
    with RawServer(serve()) as srv, client_for(srv.base_url + PREFIX) as client:
        job = client.configure([LISTING])
        client.configure(whole)
        first, second = srv.requests
    assert job.id == GUID and job.status == "running"
    assert json.loads(first.body) == {"$schema": CONFIGURE_SCHEMA, "resources": [LISTING]}
    assert first.headers["content-type"].startswith("application/json")
    assert json.loads(second.body) == whole


def submissions_page(request: RawRequest) -> bytes:
    if request.method == "GET":
        return answer(
            {
                "value": [
                    {"id": f"submission/{GUID}/0", "product": f"product/{GUID}", "target": {"targetType": "draft"}},
                    {"id": f"submission/{GUID}/7", "target": {"targetType": "live"}, "status": "completed"},
                    {"id": f"submission/{GUID}/9", "target": {"targetType": "preview"}, "status": "completed"},
                ]
            }
        )
    return answer({"jobId": GUID, "jobStatus": "notStarted", "jobResult": "pending"}, 202)


def test_publish_bodies_pin_the_submission_schema_and_live_names_the_preview_submission() -> None:
    with RawServer(routed(submissions_page)) as srv, client_for(srv.base_url + PREFIX) as client:
        client.publish(f"product/{GUID}", "preview")
        job = client.publish(GUID, "LIVE")
        preview, listing, live = srv.requests
    assert job.status == "notStarted"
    assert json.loads(preview.body) == {
        "$schema": CONFIGURE_SCHEMA,
        "resources": [
            {"$schema": SUBMISSION_SCHEMA, "product": f"product/{GUID}", "target": {"targetType": "preview"}}
        ],
    }
    assert (listing.method, listing.target) == ("GET", f"{PREFIX}/submission/{GUID}?{V}")
    assert json.loads(live.body) == {
        "$schema": CONFIGURE_SCHEMA,
        "resources": [
            {
                "$schema": SUBMISSION_SCHEMA,
                "id": f"submission/{GUID}/9",
                "product": f"product/{GUID}",
                "target": {"targetType": "live"},
            }
        ],
    }


@pytest.mark.parametrize("path", [PREFIX + "/", "/mount" + PREFIX, "/mount" + PREFIX + "/", "/"])
def test_a_base_url_keeps_its_path_with_or_without_a_trailing_slash(path: str) -> None:
    with RawServer(serve()) as srv, client_for(srv.base_url + path) as client:
        client.get_job(GUID)
        client.list_submissions(GUID)
        targets = [r.target for r in srv.requests]
    root = path.rstrip("/")
    assert targets == [f"{root}/configure/{GUID}/status?{V}", f"{root}/submission/{GUID}?{V}"]


def test_a_relative_next_link_is_followed_under_the_base_path() -> None:
    first = {"value": [{"id": f"submission/{GUID}/0"}], "@nextLink": f"submission/{GUID}?$skipToken=1&{V}"}
    last = {"value": [{"id": f"submission/{GUID}/1"}]}
    with RawServer(serve(first), serve(last)) as srv, client_for(srv.base_url + "/mount" + PREFIX) as client:
        listed = client.list_submissions(GUID)
        targets = [r.target for r in srv.requests]
    assert [s.id for s in listed] == [f"submission/{GUID}/0", f"submission/{GUID}/1"]
    assert targets == [f"/mount{PREFIX}/submission/{GUID}?{V}", f"/mount{PREFIX}/submission/{GUID}?$skipToken=1&{V}"]


def test_a_next_link_to_the_page_itself_is_refused_not_followed_forever() -> None:
    with RawServer(serve({"value": [], "@nextLink": f"{PREFIX}/submission/{GUID}?{V}"})) as srv:
        with client_for(srv.base_url + PREFIX) as client:
            with pytest.raises(cloudpartner.MalformedResponseError):
                client.list_submissions(GUID)
        assert len(srv.requests) == 1


@pytest.mark.parametrize("elsewhere", ["other-port", "other-host"])
def test_a_next_link_to_another_origin_is_refused_and_nothing_is_sent_there(elsewhere: str) -> None:
    with RawServer(serve({"value": []})) as other:
        host = f"127.0.0.1:{other.port}" if elsewhere == "other-port" else "127.0.0.2:{port}"
        link = f"http://{host}{PREFIX}/submission/{GUID}?$skipToken=1"

        def first_page(request: RawRequest) -> bytes:
            return answer({"value": [{"id": f"submission/{GUID}/0"}], "@nextLink": link.format(port=srv.port)})

        with RawServer(routed(first_page)) as srv, client_for(srv.base_url + PREFIX, max_retries=2) as client:
            with pytest.raises(cloudpartner.InvalidArgumentError) as caught:
                client.list_submissions(GUID)
            assert len(srv.requests) == 1 and srv.connections == 1
        assert other.requests == [] and other.connections == 0
    assert caught.value.field == "@nextLink"
    assert TOKEN not in str(caught.value)


# -- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["configure", "publish"])
def test_a_configure_reset_after_it_was_read_is_never_sent_again(call: str) -> None:
    with RawServer(reset(), serve()) as srv, client_for(srv.base_url + PREFIX, max_retries=3) as client:
        with pytest.raises(cloudpartner.TransportError):
            client.configure([LISTING]) if call == "configure" else client.publish(GUID)
        requests = srv.requests
    assert [(r.method, r.target) for r in requests] == [("POST", f"{PREFIX}/configure?{V}")]


def test_a_configure_answered_503_is_not_retried() -> None:
    with RawServer(serve({"error": {"code": "serviceUnavailable", "message": "busy"}}, 503), serve()) as srv:
        with client_for(srv.base_url + PREFIX, max_retries=3) as client:
            with pytest.raises(cloudpartner.ServerError) as caught:
                client.configure([LISTING])
        assert len(srv.requests) == 1
    assert caught.value.status_code == 503 and caught.value.is_transient


def test_a_configure_on_a_stale_pooled_connection_is_not_resent() -> None:
    first = http_response(202, JSON, json.dumps(ANY).encode(), connection="keep-alive")
    with (
        RawServer(keepalive_then_reset(first), serve()) as srv,
        client_for(srv.base_url + PREFIX, max_retries=3) as client,
    ):
        client.configure([LISTING])
        with pytest.raises(cloudpartner.TransportError):
            client.configure([LISTING])
        assert [r.method for r in srv.requests] == ["POST", "POST"]


@pytest.mark.parametrize("name", ["cancel_job", "get_job"])
def test_reads_and_cancels_are_retried_on_503(name: str) -> None:
    route = "job-cancel" if name == "cancel_job" else "job-status"
    with FakePortal(job_seconds=30) as portal:
        durable = portal.add_product("contoso-offer")
        with client_for(portal.ingestion_url, max_retries=3) as client:
            job = client.configure([{**LISTING, "product": durable}])
            portal.fail_next(2, 503, service="ingestion", route=route)
            state = getattr(client, name)(job)
        sent = [r for r in portal.requests if r.path.endswith(route.removeprefix("job-"))]
    assert state.id == job.id
    assert state.cancelled if name == "cancel_job" else not state.is_terminal
    assert len(sent) == 3


@pytest.mark.parametrize("name", ["cancel_job", "get_job"])
def test_reads_and_cancels_are_sent_again_after_a_stale_pooled_connection(name: str) -> None:
    job = {"jobId": GUID, "jobStatus": "completed", "jobResult": "cancelled"}
    first = http_response(200, JSON, json.dumps(job).encode(), connection="keep-alive")
    with RawServer(keepalive_then_reset(first), response(200, JSON, json.dumps(job).encode())) as srv:
        with client_for(srv.base_url + PREFIX, max_retries=0) as client:
            getattr(client, name)(GUID)
            state = getattr(client, name)(GUID)  # its connection reset after the request was read
        assert len(srv.requests) == 3 and srv.connections == 2
    assert state.cancelled
