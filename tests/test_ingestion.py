"""cloudpartner.ingestion.Client against FakePortal: every call, blocking and asyncio.

Each test runs twice (``mode``): once with the blocking method, once with its ``*_async`` twin
driven by ``asyncio.run`` (no asyncio plugin, as tests/test_async.py). Jobs last fractions of a
second; every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import cloudpartner
import pytest
from cloudpartner import ingestion
from cloudpartner.testing import FakePortal
from conftest import TOKEN

EXTERNAL = "contoso-offer"
LISTING_SCHEMA = "https://schema.mp.microsoft.com/schema/listing/2022-07-01"
MODES = ["sync", "async"]


@pytest.fixture(autouse=True)
def _no_ingestion_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_TOKEN", raising=False)
    monkeypatch.delenv("CLOUDPARTNER_INGESTION_BASE_URL", raising=False)


def run(client: ingestion.Client, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``name`` blocking, or its ``*_async`` twin on a fresh event loop (bounded)."""
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)
    return asyncio.run(asyncio.wait_for(getattr(client, name + "_async")(*args, **kwargs), 20))


def make_client(portal: FakePortal, **settings: Any) -> ingestion.Client:
    settings.setdefault("timeout", 5.0)
    settings.setdefault("backoff", 0.01)
    return ingestion.Client(TOKEN, base_url=portal.ingestion_url, **settings)


def ingestion_requests(portal: FakePortal) -> list[Any]:
    return [r for r in portal.requests if r.path.startswith("/rp/product-ingestion")]


def without_schema(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource without its ``$schema`` (FakePortal's own views name the latest version)."""
    return {key: value for key, value in resource.items() if key != "$schema"}


def listing(product_id: str, title: str = "Contoso VM") -> dict[str, Any]:
    return {"$schema": LISTING_SCHEMA, "product": product_id, "title": title}


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(job_seconds=0.4, publish_seconds=0.4) as fake:
        fake.add_product(EXTERNAL, alias="Contoso")
        yield fake


@pytest.fixture
def slow_portal() -> Iterator[FakePortal]:
    """Publishes that run for a minute: long enough to cancel, or to be in the way."""
    with FakePortal(job_seconds=0.1, publish_seconds=60) as fake:
        fake.add_product(EXTERNAL)
        yield fake


# -- products, submissions, trees ----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_product_is_the_same_by_external_id_durable_id_bare_guid_or_product_object(
    portal: FakePortal, mode: str
) -> None:
    durable = portal.product(EXTERNAL)["id"]
    guid = durable.removeprefix("product/")
    with make_client(portal) as client:
        found = run(client, mode, "find_product", EXTERNAL)
        assert isinstance(found, ingestion.Product)
        assert (found.id, found.guid, found.external_id, found.alias) == (durable, guid, EXTERNAL, "Contoso")
        assert found.type == "azureVirtualMachine"
        assert found.raw["identity"]["externalId"] == EXTERNAL
        by_ref = [run(client, mode, "get_product", ref) for ref in (EXTERNAL, durable, guid, guid.upper(), found)]
    assert by_ref == [found] * 5
    sent = [(r.method, r.path, r.query) for r in ingestion_requests(portal)]
    lookup = ("GET", "/rp/product-ingestion/product", {"$version": "2022-07-01", "externalId": EXTERNAL})
    direct = ("GET", f"/rp/product-ingestion/product/{guid}", {"$version": "2022-07-01"})
    # find, get by external id (a lookup), then four GETs of the durable id (the guid lower-cased).
    assert sent == [lookup, lookup, direct, direct, direct, direct]


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_external_id_or_guid_is_not_found(portal: FakePortal, mode: str) -> None:
    with make_client(portal) as client:
        with pytest.raises(cloudpartner.NotFoundError) as caught:
            run(client, mode, "find_product", "no-such-offer")
        assert caught.value.status_code == 404 and "no-such-offer" in str(caught.value)
        with pytest.raises(cloudpartner.NotFoundError):
            run(client, mode, "get_product", str(uuid.uuid4()))


@pytest.mark.parametrize("mode", MODES)
def test_a_new_product_lists_only_its_draft_submission(portal: FakePortal, mode: str) -> None:
    durable = portal.product(EXTERNAL)["id"]
    with make_client(portal) as client:
        (draft,) = run(client, mode, "list_submissions", EXTERNAL)
    assert isinstance(draft, ingestion.Submission)
    assert (draft.id, draft.product, draft.target) == (
        f"submission/{durable.removeprefix('product/')}/0",
        durable,
        "draft",
    )
    assert draft.status is None and draft.lifecycle_state == "generallyAvailable"
    assert without_schema(draft.raw) == without_schema(portal.submissions(EXTERNAL)[0])


@pytest.mark.parametrize("mode", MODES)
def test_the_draft_resource_tree_is_the_whole_configuration(portal: FakePortal, mode: str) -> None:
    durable = portal.product(EXTERNAL)["id"]
    with make_client(portal) as client:
        tree = run(client, mode, "get_resource_tree", durable)
        with pytest.raises(cloudpartner.NotFoundError):  # nothing published to live yet
            run(client, mode, "get_resource_tree", durable, "live")
    assert (tree["root"], tree["target"]) == (durable, {"targetType": "draft"})
    ids = [resource["id"] for resource in tree["resources"]]
    assert durable in ids
    assert [r["id"] for r in portal.resource_tree(EXTERNAL)] == ids[:-1]  # + the submission reference
    assert ingestion_requests(portal)[-2].query == {"$version": "2022-07-01", "targetType": "draft"}


# -- configure, publish, wait --------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_configure_job_advances_not_started_running_completed_then_lists_its_resources(
    portal: FakePortal, mode: str
) -> None:
    durable = portal.product(EXTERNAL)["id"]
    seen: list[tuple[str, str]] = []
    with make_client(portal) as client:
        job = run(client, mode, "configure", [listing(durable)])
        assert isinstance(job, ingestion.Job)
        assert (job.status, job.result, job.ended, job.errors) == ("notStarted", "pending", None, ())
        assert not job.is_terminal and job.phase == "pending"
        with pytest.raises(cloudpartner.BadRequestError):  # refused before the job completes
            run(client, mode, "get_job_resources", job)
        final = run(
            client,
            mode,
            "wait_job",
            job,
            timeout=10,
            poll_interval=0.02,
            on_progress=lambda j: seen.append((j.status, j.result)),
        )
        resources = run(client, mode, "get_job_resources", job.id)
        again = run(client, mode, "get_job", job.id)
    assert seen == [("notStarted", "pending"), ("running", "pending"), ("completed", "succeeded")]
    assert final.succeeded and final.is_terminal and final.id == job.id
    assert final.ended is not None and final.ended >= final.started
    assert final.resource_uri == f"{portal.ingestion_url}/configure/{job.id}"
    assert again == final
    (changed,) = resources["resources"]
    assert changed["id"] == f"listing/{durable.removeprefix('product/')}" and changed["title"] == "Contoso VM"
    assert resources["$schema"].endswith("/configure-detail/2022-07-01")
    (posted,) = [r for r in ingestion_requests(portal) if r.method == "POST"]
    assert posted.body == {
        "$schema": "https://schema.mp.microsoft.com/schema/configure/2022-07-01",
        "resources": [listing(durable)],
    }


@pytest.mark.parametrize("mode", MODES)
def test_publish_to_preview_then_live_finds_the_preview_submission(portal: FakePortal, mode: str) -> None:
    durable = portal.product(EXTERNAL)["id"]
    with make_client(portal) as client:
        preview_job = run(client, mode, "publish", EXTERNAL, "preview")
        assert preview_job.status == "notStarted" and not preview_job.is_terminal
        running = run(client, mode, "list_submissions", durable)
        assert [s.target for s in running] == ["draft", "preview"] and running[1].status != "completed"
        assert run(client, mode, "wait_job", preview_job, timeout=10, poll_interval=0.02).succeeded
        submissions = run(client, mode, "list_submissions", durable)
        preview = next(s for s in submissions if s.target == "preview")
        assert (preview.status, preview.result) == ("completed", "succeeded")
        live_job = run(client, mode, "publish", durable, target="live")
        assert live_job.id != preview_job.id
        assert run(client, mode, "wait_job", live_job, timeout=10, poll_interval=0.02).succeeded
        after = run(client, mode, "list_submissions", EXTERNAL)
    configures = [r.body for r in ingestion_requests(portal) if r.method == "POST"]
    schema = "https://schema.mp.microsoft.com/schema/submission/2022-03-01-preview2"
    assert configures[0]["resources"] == [{"$schema": schema, "product": durable, "target": {"targetType": "preview"}}]
    assert configures[1]["resources"] == [
        {"$schema": schema, "id": preview.id, "product": durable, "target": {"targetType": "live"}}
    ]
    live = [s for s in after if s.target == "live"]
    assert [(s.id, s.status, s.result) for s in live] == [(preview.id, "completed", "succeeded")]


@pytest.mark.parametrize("mode", MODES)
def test_live_without_a_preview_submission_is_refused_before_any_configure(portal: FakePortal, mode: str) -> None:
    with make_client(portal) as client:
        with pytest.raises(cloudpartner.InvalidArgumentError) as caught:
            run(client, mode, "publish", EXTERNAL, "live")
    assert caught.value.field == "target" and "preview" in str(caught.value)
    assert [r.method for r in ingestion_requests(portal)] == ["GET", "GET"]  # the lookup, the submissions


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_a_running_publish_leaves_nothing_published(slow_portal: FakePortal, mode: str) -> None:
    with make_client(slow_portal) as client:
        job = run(client, mode, "publish", EXTERNAL)
        cancelled = run(client, mode, "cancel_job", job)
        assert cancelled.id == job.id
        assert cancelled.cancelled and cancelled.is_terminal and cancelled.phase == "cancelled"
        assert run(client, mode, "get_job", job).cancelled
        submissions = run(client, mode, "list_submissions", EXTERNAL)
        assert [s.target for s in submissions] == ["draft"]
        with pytest.raises(cloudpartner.NotFoundError):
            run(client, mode, "get_resource_tree", EXTERNAL, "preview")
    (cancel,) = [r for r in ingestion_requests(slow_portal) if r.path.endswith("/cancel")]
    assert cancel.method == "POST" and cancel.raw_body == b""


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ending", ["succeeded", "cancelled"])
def test_cancelling_a_completed_job_says_so_and_how_it_ended(slow_portal: FakePortal, mode: str, ending: str) -> None:
    durable = slow_portal.product(EXTERNAL)["id"]
    with make_client(slow_portal) as client:
        if ending == "succeeded":
            job = run(client, mode, "configure", [listing(durable)])
            run(client, mode, "wait_job", job, timeout=10, poll_interval=0.02)
        else:
            job = run(client, mode, "publish", durable)
            run(client, mode, "cancel_job", job.id)
        with pytest.raises(cloudpartner.JobAlreadyCompletedError) as caught:
            run(client, mode, "cancel_job", job.id)
    error = caught.value
    assert isinstance(error, cloudpartner.BadRequestError) and isinstance(error, ingestion.JobAlreadyCompletedError)
    assert (error.status_code, error.code, error.job_id) == (400, "badRequest", job.id)
    assert error.job is not None and error.job.id == job.id
    assert error.job.succeeded if ending == "succeeded" else error.job.cancelled
    text = str(error)
    assert "\n" not in text and "already completed" in text
    assert TOKEN not in text and TOKEN not in repr(error)


@pytest.mark.parametrize("mode", MODES)
def test_cancelling_an_unknown_job_is_not_found(portal: FakePortal, mode: str) -> None:
    unknown = str(uuid.uuid4())
    with make_client(portal) as client:
        with pytest.raises(cloudpartner.NotFoundError) as caught:
            run(client, mode, "cancel_job", unknown)
    assert not isinstance(caught.value, cloudpartner.JobAlreadyCompletedError)
    assert caught.value.status_code == 404
    assert [r.path for r in ingestion_requests(portal)] == [f"/rp/product-ingestion/configure/{unknown}/cancel"]


@pytest.mark.parametrize("mode", MODES)
def test_submissions_over_three_pages_follow_each_next_link(mode: str) -> None:
    with FakePortal(page_size=1, job_seconds=0.05, publish_seconds=0.05) as portal:
        durable = portal.add_product(EXTERNAL)
        with make_client(portal) as client:
            run(client, mode, "wait_job", run(client, mode, "publish", durable), timeout=10, poll_interval=0.02)
            run(client, mode, "wait_job", run(client, mode, "publish", durable, "live"), timeout=10, poll_interval=0.02)
            before = len(portal.requests)
            submissions = run(client, mode, "list_submissions", durable)
        pages = portal.requests[before:]
    assert [s.target for s in submissions] == ["draft", "live", "preview"]  # the page's order
    assert [without_schema(s.raw) for s in submissions] == [without_schema(s) for s in portal.submissions(EXTERNAL)]
    guid = durable.removeprefix("product/")
    assert [r.path for r in pages] == [f"/rp/product-ingestion/submission/{guid}"] * 3
    assert [r.query.get("$skipToken") for r in pages] == [None, "1", "2"]
    assert all(r.query["$version"] == "2022-07-01" for r in pages)


@pytest.mark.parametrize("mode", MODES)
def test_a_job_that_fails_carries_its_errors_with_details(slow_portal: FakePortal, mode: str) -> None:
    durable = slow_portal.product(EXTERNAL)["id"]
    with make_client(slow_portal) as client:
        publishing = run(client, mode, "publish", durable)
        edit = run(client, mode, "configure", {"resources": [listing(durable)]})  # a whole document
        failed = run(client, mode, "wait_job", edit, timeout=10, poll_interval=0.02)
        second = run(client, mode, "wait_job", run(client, mode, "publish", durable), timeout=10, poll_interval=0.02)
        run(client, mode, "cancel_job", publishing)
    assert failed.failed and failed.is_terminal and not failed.succeeded
    (error,) = failed.errors
    assert isinstance(error, ingestion.JobError)
    assert (error.code, error.resource_id) == ("conflict", durable)
    assert "locked" in (error.message or "")
    assert [(d.code, d.resource_id, d.details) for d in error.details] == [("productLocked", None, ())]
    assert failed.raw["errors"][0]["code"] == "conflict"
    assert second.failed
    (busy,) = second.errors
    assert busy.code == "internalServerError" and "In Progress submission" in (busy.message or "")
    assert busy.details and all(isinstance(d, ingestion.JobError) for d in busy.details)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("max_retries", [0, 3], ids=["polled-through", "retried"])
def test_a_throttled_status_poll_waits_its_retry_after(portal: FakePortal, mode: str, max_retries: int) -> None:
    durable = portal.product(EXTERNAL)["id"]
    with make_client(portal, max_retries=max_retries) as client:
        job = run(client, mode, "configure", [listing(durable)])
        portal.fail_next(1, 429, retry_after=0.3, service="ingestion", route="job-status")
        stamps: list[float] = []
        started = time.monotonic()
        final = run(
            client,
            mode,
            "wait_job",
            job,
            timeout=10,
            poll_interval=0.01,
            on_progress=lambda _: stamps.append(time.monotonic()),
        )
    assert final.succeeded
    # The first poll was refused; the next one, the first answered, came 0.3 s later at least.
    assert stamps[0] - started >= 0.28
    polls = [r for r in ingestion_requests(portal) if r.path.endswith("/status")]
    assert len(polls) >= 2


@pytest.mark.parametrize("mode", MODES)
def test_a_wait_that_times_out_carries_the_last_state(slow_portal: FakePortal, mode: str) -> None:
    with make_client(slow_portal) as client:
        job = run(client, mode, "publish", EXTERNAL)
        started = time.monotonic()
        with pytest.raises(cloudpartner.WaitTimeoutError) as caught:
            run(client, mode, "wait_job", job, timeout=0.3, poll_interval=0.05)
        elapsed = time.monotonic() - started
        run(client, mode, "cancel_job", job)
    assert 0.25 <= elapsed < 5
    last = caught.value.job
    assert isinstance(last, ingestion.Job) and last.id == job.id
    assert last.status in ("notStarted", "running") and not last.is_terminal
    assert caught.value.operation is None and isinstance(caught.value, TimeoutError)


class Stop(Exception):
    pass


@pytest.mark.parametrize("mode", MODES)
def test_a_raising_progress_callback_stops_the_wait_with_its_exception(slow_portal: FakePortal, mode: str) -> None:
    heard: list[ingestion.Job] = []

    def on_progress(job: ingestion.Job) -> None:
        heard.append(job)
        raise Stop(job.status)

    with make_client(slow_portal) as client:
        job = run(client, mode, "publish", EXTERNAL)
        with pytest.raises(Stop):
            run(client, mode, "wait_job", job, timeout=10, poll_interval=0.01, on_progress=on_progress)
        time.sleep(0.1)
        polls = [r for r in ingestion_requests(slow_portal) if r.path.endswith("/status")]
        run(client, mode, "cancel_job", job)
    assert [j.id for j in heard] == [job.id]
    assert len(polls) == 1  # nothing polled after the callback raised


# -- refused before anything is sent -------------------------------------------------------------

GUID = "d4261631-c583-4949-a612-5150882632e9"
BAD_CALLS = [
    ("get_job", ("a/b",), "job"),
    ("cancel_job", ("a/b",), "job"),
    ("wait_job", ("a/b",), "job"),
    ("get_job_resources", ("",), "job"),
    ("get_product", ("product/a b",), "product"),
    ("list_submissions", ("product/a?b",), "product"),
    ("publish", ("product/..",), "product"),
    ("publish", (GUID, "prod"), "target"),
    ("get_resource_tree", (GUID, "prod"), "target"),
    ("configure", ([],), "resources"),
    ("configure", ([1],), "resources"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("name", "args", "field"), BAD_CALLS)
def test_a_bad_argument_is_refused_before_anything_is_sent(
    portal: FakePortal, mode: str, name: str, args: tuple[Any, ...], field: str
) -> None:
    with make_client(portal) as client:
        with pytest.raises(cloudpartner.InvalidArgumentError) as caught:
            run(client, mode, name, *args)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert portal.requests == []


# The pages' own sample durable id is no hex GUID: the service owns its id formats.
SAMPLE_PRODUCT_ID = "product/12345678-abcd-efgh-1234-12345678901"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("get_product", (SAMPLE_PRODUCT_ID,), "/product/12345678-abcd-efgh-1234-12345678901"),
        ("get_job", ("job:ä+1",), "/configure/job:%C3%A4+1/status"),
    ],
)
def test_an_id_in_a_format_of_the_services_own_is_sent_for_the_service_to_answer(
    portal: FakePortal, mode: str, name: str, args: tuple[Any, ...], path: str
) -> None:
    with make_client(portal) as client, pytest.raises(cloudpartner.NotFoundError):
        run(client, mode, name, *args)
    (request,) = ingestion_requests(portal)
    assert request.path == "/rp/product-ingestion" + path


@pytest.mark.parametrize("mode", MODES)
def test_a_closed_client_refuses_every_call(portal: FakePortal, mode: str) -> None:
    client = make_client(portal)
    client.close()
    assert client.closed and "closed" in repr(client)
    for name, args in [
        ("get_job", (GUID,)),
        ("cancel_job", (GUID,)),
        ("find_product", (EXTERNAL,)),
        ("configure", ([{}],)),
    ]:
        with pytest.raises(cloudpartner.ClientClosedError):
            run(client, mode, name, *args)
    assert portal.requests == []


def test_jobs_and_products_are_plain_frozen_values(portal: FakePortal) -> None:
    with make_client(portal) as client:
        job = client.configure([listing(portal.product(EXTERNAL)["id"])])
    with pytest.raises(AttributeError):
        job.status = "completed"  # type: ignore[misc]
    assert json.loads(json.dumps(job.raw))["jobId"] == job.id
    assert job._progress_line() == f"job {job.id}: notStarted (pending)"


# -- tokens --------------------------------------------------------------------------------------

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class AccessToken:
    """What azure-core's credentials answer: ``token`` and ``expires_on`` (epoch seconds)."""

    def __init__(self, token: str, expires_on: int) -> None:
        self.token, self.expires_on, self.refresh_on = token, expires_on, None


class Credential:
    """A credential with get_token_info, as azure-identity's; records the scopes it is asked for."""

    def __init__(self, token: str = "graph-token-1") -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


class GetTokenOnly:
    """An older credential: get_token alone."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken("graph-token-2", int(time.time()) + 3600)


class AsyncCredential:
    """An azure.identity.aio-style credential: coroutine methods, run on the caller's loop."""

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        raise AssertionError("get_token was asked although get_token_info exists")

    async def get_token_info(self, *scopes: str, options: Any = None) -> AccessToken:
        self.loops.append(asyncio.get_running_loop())
        self.scopes.append(scopes)
        await asyncio.sleep(0)
        return AccessToken("graph-token-async", int(time.time()) + 3600)


def authorizations(portal: FakePortal) -> list[str]:
    return [r.headers.get("authorization", "") for r in ingestion_requests(portal)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", [Credential, GetTokenOnly])
def test_a_credential_is_asked_for_a_graph_token_never_the_cpp_scope(mode: str, kind: type) -> None:
    credential = kind()
    with FakePortal(tokens=["cpp-token"], ingestion_tokens=["graph-token-1", "graph-token-2"]) as portal:
        portal.add_product(EXTERNAL)
        with ingestion.Client(credential, base_url=portal.ingestion_url, timeout=5.0) as client:
            product = run(client, mode, "find_product", EXTERNAL)
            run(client, mode, "list_submissions", product)
    assert credential.scopes and set(credential.scopes) == {(GRAPH_SCOPE,)}
    assert all("cloudpartner.azure.com" not in scope for scopes in credential.scopes for scope in scopes)
    assert authorizations(portal) == [f"Bearer {credential.get_token().token}"] * 2


def test_an_async_credential_serves_the_async_calls(portal: FakePortal) -> None:
    credential = AsyncCredential()

    async def scenario() -> tuple[Any, Any, asyncio.AbstractEventLoop]:
        with ingestion.Client(credential, base_url=portal.ingestion_url, timeout=5.0) as client:
            product = await client.find_product_async(EXTERNAL)
            job = await client.configure_async([listing(product.id)])
            final = await client.wait_job_async(job, timeout=10, poll_interval=0.02)
            return product, final, asyncio.get_running_loop()

    product, final, loop = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert product.external_id == EXTERNAL and final.succeeded
    assert set(credential.scopes) == {(GRAPH_SCOPE,)}
    assert set(credential.loops) == {loop}
    assert set(authorizations(portal)) == {"Bearer graph-token-async"}


def test_an_async_credential_with_a_blocking_call_is_refused(portal: FakePortal) -> None:
    with ingestion.Client(AsyncCredential(), base_url=portal.ingestion_url, timeout=5.0) as client:
        with pytest.raises(cloudpartner.CredentialError) as caught:
            client.find_product(EXTERNAL)
    assert "_async" in str(caught.value)
    assert portal.requests == []


@pytest.mark.parametrize("mode", MODES)
def test_no_token_reads_the_ingestion_variable_not_the_cpp_one(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_TOKEN", "cpp-token")
    monkeypatch.setenv("CLOUDPARTNER_INGESTION_TOKEN", "graph-env-one")
    with FakePortal(tokens=["cpp-token"], ingestion_tokens=["graph-env-one", "graph-env-two"]) as portal:
        portal.add_product(EXTERNAL)
        with ingestion.Client(base_url=portal.ingestion_url, timeout=5.0) as client:
            run(client, mode, "find_product", EXTERNAL)
            monkeypatch.setenv("CLOUDPARTNER_INGESTION_TOKEN", "graph-env-two")  # read at each call
            run(client, mode, "find_product", EXTERNAL)
            monkeypatch.delenv("CLOUDPARTNER_INGESTION_TOKEN")
            with pytest.raises(cloudpartner.InvalidArgumentError) as caught:  # as the CPP client
                run(client, mode, "find_product", EXTERNAL)
    assert caught.value.field == "token"
    assert authorizations(portal) == ["Bearer graph-env-one", "Bearer graph-env-two"]
    assert "CLOUDPARTNER_INGESTION_TOKEN" in str(caught.value)
    assert "cpp-token" not in str(caught.value)


# -- record, then replay -------------------------------------------------------------------------

SECRET = "recorded-graph-secret-Zq81"


def replace_origin(client: ingestion.Client, job: ingestion.Job) -> ingestion.Job:
    """The job with its ``resourceUri`` relative: a replay names the replaying server in it."""
    assert job.resource_uri is not None and job.resource_uri.startswith(client.base_url.rstrip("/"))
    return dataclasses.replace(job, resource_uri=job.resource_uri.removeprefix(client.base_url.rstrip("/")))


def session(client: ingestion.Client) -> dict[str, Any]:
    """Look a product up, publish it to preview, follow the job, list the submissions (paged)."""
    product = client.find_product(EXTERNAL)
    job = client.publish(product, "preview")
    final = client.wait_job(job, timeout=10, poll_interval=0.02)
    return {
        "product": (product.id, product.external_id),
        "job": job.id,
        "final": (final.id, final.status, final.result, final.ended),
        "again": replace_origin(client, client.get_job(job.id)),
        "submissions": [(s.id, s.target, s.status, s.result) for s in client.list_submissions(product.id)],
        "resources": client.get_job_resources(job),
    }


def test_a_recorded_ingestion_session_replays_to_the_same_results(tmp_path: Any) -> None:
    recording = tmp_path / "ingestion.jsonl"
    with FakePortal(page_size=1, job_seconds=0.1, publish_seconds=0.1) as portal:
        portal.add_product(EXTERNAL)
        with ingestion.Client(SECRET, base_url=portal.ingestion_url, timeout=5.0, record=recording) as client:
            recorded = session(client)
    text = recording.read_text()
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [line["method"] for line in lines].count("POST") == 1
    assert any("$skipToken" in line["path"] or "skipToken" in json.dumps(line) for line in lines)
    assert len(recorded["submissions"]) == 2 and recorded["final"][2] == "succeeded"

    with FakePortal.from_recording(recording) as replay:
        with ingestion.Client("any-other-token", base_url=replay.ingestion_url, timeout=5.0) as client:
            replayed = session(client)
    assert replayed == recorded
