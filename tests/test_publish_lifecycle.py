"""The publish lifecycle around the cancel: publish, review, go live, offer status, offers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import cloudpartner
import pytest
from cloudpartner import ActionResult, ConflictError, Offer, OfferStatus, PreconditionFailedError
from cloudpartner.testing import FakePortal
from conftest import PUBLISHER, TOKEN

OFFER = "lifecycle-offer"
MODES = ["sync", "async"]
FAST = {"timeout": 10, "poll_interval": 0.01}


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal(step_seconds=0.05, cancel_seconds=0.05) as fake:
        fake.add_offer(PUBLISHER, OFFER, running=False)
        yield fake


def run(client: cloudpartner.Client, mode: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call `name` on the client, or its `_async` twin in an event loop."""
    if mode == "sync":
        return getattr(client, name)(*args, **kwargs)

    async def twin() -> Any:
        return await getattr(client, f"{name}_async")(*args, **kwargs)

    return asyncio.run(twin())


@pytest.mark.parametrize("mode", MODES)
def test_publish_review_go_live_end_to_end(portal: FakePortal, mode: str) -> None:
    client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
    assert run(client, mode, "get_offer_status", PUBLISHER, OFFER).status == "neverPublished"

    started = run(client, mode, "publish", PUBLISHER, OFFER, emails="ops@contoso.com")
    assert isinstance(started, ActionResult)
    assert (started.action, started.status_code) == ("publish", 202)
    assert started.operation_location is not None and started.operation_id is not None
    (request,) = [r for r in portal.requests if r.method == "POST"]
    assert request.path == f"/api/publishers/{PUBLISHER}/offers/{OFFER}/publish"
    assert request.body == {"metadata": {"notification-emails": "ops@contoso.com"}}

    reviewed = run(client, mode, "wait", started, until_review=True, **FAST)
    assert reviewed.waiting_for_review and reviewed.status == "running"
    assert [s.id for s in reviewed.steps if s.status == "waitingForPublisherReview"] == ["publisher-signoff"]
    status = run(client, mode, "get_offer_status", PUBLISHER, OFFER)
    assert isinstance(status, OfferStatus)
    assert (status.status, status.waiting_for_review) == ("waitingForPublisherReview", True)
    preview = run(client, mode, "get_offer", PUBLISHER, OFFER, slot="preview")
    assert preview.slot == "preview"

    live = run(client, mode, "go_live", PUBLISHER, OFFER)
    assert (live.action, live.status_code) == ("golive", 202)
    final = run(client, mode, "wait", live, **FAST)
    assert final.succeeded
    production = run(client, mode, "get_offer", PUBLISHER, OFFER, slot="production")
    assert production.definition["definition"] == preview.definition["definition"]
    assert run(client, mode, "get_offer_status", PUBLISHER, OFFER).status == "succeeded"
    (summary,) = run(client, mode, "list_offers", PUBLISHER)
    assert summary["status"] == "published"


@pytest.mark.parametrize("mode", MODES)
def test_a_publish_while_another_runs_is_a_conflict(portal: FakePortal, mode: str) -> None:
    client = cloudpartner.Client(TOKEN, base_url=portal.base_url, max_retries=3)
    run(client, mode, "publish", PUBLISHER, OFFER)
    with pytest.raises(ConflictError) as caught:
        run(client, mode, "publish", PUBLISHER, OFFER)
    assert caught.value.is_transient is False
    assert len([r for r in portal.requests if r.method == "POST"]) == 2  # a 409 is not retried
    with pytest.raises(ConflictError):
        run(client, mode, "go_live", PUBLISHER, OFFER)  # nothing waits for review yet


@pytest.mark.parametrize("mode", MODES)
def test_an_update_takes_the_etag_and_a_stale_one_is_refused(portal: FakePortal, mode: str) -> None:
    client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
    offer = run(client, mode, "get_offer", PUBLISHER, OFFER)
    assert isinstance(offer, Offer) and offer.etag
    changed = dict(offer.definition, definition={"displayText": "New name", "price": 2**70})
    updated = run(client, mode, "put_offer", PUBLISHER, OFFER, changed, if_match=offer)
    assert updated.etag != offer.etag
    assert updated.definition["definition"]["price"] == 2**70  # exact, both ways
    put = [r for r in portal.requests if r.method == "PUT"][-1]
    assert put.headers["if-match"] == offer.etag
    assert b"1180591620717411303424" in put.raw_body
    with pytest.raises(PreconditionFailedError):
        run(client, mode, "put_offer", PUBLISHER, OFFER, changed, if_match=offer)  # stale now
    forced = run(client, mode, "put_offer", PUBLISHER, OFFER, changed, if_match="*")
    assert forced.etag != updated.etag
    assert run(client, mode, "get_offer", PUBLISHER, OFFER, version=1).definition["definition"]["displayText"] == OFFER


def test_the_concurrency_rule_cannot_be_left_out_or_wrong() -> None:
    with FakePortal() as portal:
        portal.add_offer(PUBLISHER, OFFER, running=False)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        with pytest.raises(TypeError):
            client.put_offer(PUBLISHER, OFFER, {})  # type: ignore[call-arg]
        without_etag = Offer(PUBLISHER, OFFER, None, {})
        for bad, word in ((without_etag, "ETag"), ("", "if_match"), (7, "if_match"), ("a\nb", "if_match")):
            with pytest.raises(cloudpartner.InvalidArgumentError, match=word):
                client.put_offer(PUBLISHER, OFFER, {}, if_match=bad)  # type: ignore[arg-type]
        with pytest.raises(cloudpartner.InvalidArgumentError, match="definition"):
            client.put_offer(PUBLISHER, OFFER, ["not", "a", "dict"], if_match="*")  # type: ignore[arg-type]
        with pytest.raises(cloudpartner.InvalidArgumentError, match="slot"):
            client.get_offer(PUBLISHER, OFFER, slot="live")
        assert [r.method for r in portal.requests] == []  # refused before anything was sent


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("running", [True, False], ids=["something-running", "nothing-running"])
def test_cancel_then_publish_works_whether_or_not_something_runs(mode: str, running: bool) -> None:
    with FakePortal(step_seconds=0.05, cancel_seconds=0.1) as portal:
        portal.add_offer(PUBLISHER, OFFER, running=running)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        started = run(client, mode, "cancel_and_publish", PUBLISHER, OFFER, timeout=10, poll_interval=0.02)
        assert started.action == "publish" and started.status_code == 202
        operations = portal.operations(PUBLISHER, OFFER)
    assert operations[0]["submissionType"] == "publish" and operations[0]["status"] == "running"
    if running:
        assert operations[1]["status"] == "canceled"
    posts = [r.path.rsplit("/", 1)[1] for r in portal.requests if r.method == "POST"]
    assert posts == ["cancel", "publish"]


def test_cancel_then_publish_gives_up_at_its_timeout_without_publishing() -> None:
    with FakePortal(cancel_seconds=30) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        with pytest.raises(cloudpartner.WaitTimeoutError):
            client.cancel_and_publish(PUBLISHER, OFFER, timeout=0.3, poll_interval=0.05)
        assert [r.path.rsplit("/", 1)[1] for r in portal.requests if r.method == "POST"] == ["cancel"]


def test_a_cancel_stops_a_publish_waiting_for_review() -> None:
    with FakePortal(step_seconds=0.02, cancel_seconds=0.02) as portal:
        portal.add_offer(PUBLISHER, OFFER, running=False)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
        client.wait(client.publish(PUBLISHER, OFFER), until_review=True, **FAST)
        final = client.wait(client.cancel(PUBLISHER, OFFER), **FAST)
        assert final.canceled
        assert client.get_offer_status(PUBLISHER, OFFER).status == "canceled"
