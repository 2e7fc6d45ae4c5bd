"""Tests of cloudpartner.testing.FakePortal, spoken to with http.client only.

The testing package is loaded from its files, so these tests run before the Rust extension
(imported by ``cloudpartner/__init__.py``) is built.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "python" / "cloudpartner" / "testing"
_SPEC = importlib.util.spec_from_file_location(
    "cloudpartner_testing_standalone",
    _PACKAGE_DIR / "__init__.py",
    submodule_search_locations=[str(_PACKAGE_DIR)],
)
assert _SPEC is not None
assert _SPEC.loader is not None
testing = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = testing
_SPEC.loader.exec_module(testing)

FakePortal = testing.FakePortal
cloudpartner_portal = testing.cloudpartner_portal  # the plugin's fixture, made visible here

P, O = "contoso", "contoso-virtualmachineoffer"
CANCEL = f"/api/publishers/{P}/offers/{O}/cancel?api-version=2017-10-31"
SUBMISSIONS = f"/api/publishers/{P}/offers/{O}/submissions?api-version=2017-10-31"
EMAILS = {"metadata": {"notification-emails": "jondoe@contoso.com,jane@contoso.com"}}
GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


class Answer:
    """One HTTP answer: status, headers (lower-cased names) and the parsed JSON body."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {name.lower(): value for name, value in response.getheaders()}
        self.raw = response.read()
        self.json: Any = json.loads(self.raw) if self.raw else None

    @property
    def code(self) -> str:
        return str(self.json["error"]["code"])


def call(
    portal: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = "token",
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Answer:
    """Send one request (on ``conn`` when given, else on a fresh connection)."""
    sent = {} if token is None else {"Authorization": f"Bearer {token}"}
    if body is not None:
        raw = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    own = conn is None
    if conn is None:
        conn = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
    try:
        conn.request(method, path, body=raw, headers=sent)
        return Answer(conn.getresponse())
    finally:
        if own:
            conn.close()


def cancel(portal: Any, **kwargs: Any) -> Answer:
    return call(portal, "POST", CANCEL, EMAILS, **kwargs)


@pytest.fixture
def portal() -> Iterator[Any]:
    with FakePortal(cancel_seconds=0.2) as started:
        started.add_offer(P, O)
        yield started


# -- cancel --------------------------------------------------------------------------------------


def test_cancel_absolute_answers_202_with_operation_location(portal: Any) -> None:
    answer = cancel(portal, headers={"x-ms-client-request-id": "abc-123"})
    assert answer.status == 202
    assert answer.raw == b""
    assert answer.headers["content-length"] == "0"
    assert "location" not in answer.headers
    assert answer.headers["x-ms-client-request-id"] == "abc-123"
    uuid.UUID(answer.headers["x-ms-request-id"])
    location = answer.headers["operation-location"]
    prefix = f"{portal.base_url}/api/publishers/{P}/offers/{O}/operations/"
    assert re.fullmatch(re.escape(prefix) + GUID, location)
    operation = call(portal, "GET", location.removeprefix(portal.base_url) + "?api-version=2017-10-31")
    assert operation.status == 200
    assert operation.headers["content-type"] == "application/json; charset=utf-8"
    assert operation.json["id"] == location.rsplit("/", 1)[1]
    assert operation.json["cancellationRequestState"] == "Requested"
    assert operation.json["notificationEmails"] == "jondoe@contoso.com,jane@contoso.com"


def test_cancel_relative_answers_202_with_location() -> None:
    with FakePortal(location_style="relative") as portal:
        portal.add_offer(P, O)
        answer = cancel(portal)
        assert answer.status == 202
        assert "operation-location" not in answer.headers
        location = answer.headers["location"]
        pattern = f"/api/publishers/{P}/offers/{O}/operations/({GUID})\\?api-version=2017-10-31"
        match = re.fullmatch(pattern, location)
        assert match is not None
        assert call(portal, "GET", location).json["id"] == match.group(1)


def test_cancel_non_migrated_answers_202_with_operations_location() -> None:
    with FakePortal(location_style="non-migrated") as portal:
        portal.add_offer(P, O)
        answer = cancel(portal)
        assert answer.status == 202
        assert answer.headers["location"] == f"/api/operations/{P}${O}$1$preview?api-version=2017-10-31"
        operation = call(portal, "GET", answer.headers["location"])
        assert operation.status == 200
        assert operation.json["id"] == f"{P}${O}$1$preview"
        escaped = call(portal, "GET", f"/api/operations/{P}%24{O}%241%24preview?api-version=2017-10-31")
        assert escaped.json["id"] == f"{P}${O}$1$preview"


def test_sync_cancel_answers_200_and_cancels_at_once() -> None:
    with FakePortal(sync_cancel=True) as portal:
        portal.add_offer(P, O)
        answer = cancel(portal)
        assert answer.status == 200
        assert answer.raw == b""
        assert "location" not in answer.headers
        assert "operation-location" not in answer.headers
        assert portal.operations(P, O)[0]["status"] == "canceled"
        assert cancel(portal).status == 202  # nothing runs now: the service still answers 202


def test_second_cancel_in_progress_answers_the_same_location(portal: Any) -> None:
    first = cancel(portal)
    second = cancel(portal)
    assert second.status == 202
    assert second.headers["operation-location"] == first.headers["operation-location"]
    assert len(portal.operations(P, O)) == 1


def test_cancel_with_nothing_running_answers_202_naming_the_latest_operation(portal: Any) -> None:
    first = cancel(portal)
    time.sleep(0.25)  # the cancel is done: nothing runs
    again = cancel(portal)
    assert again.status == 202  # "whether it cancelled or not", as the service answers
    assert again.headers["operation-location"] == first.headers["operation-location"]
    portal.add_offer(P, "never-published", running=False)
    empty = call(portal, "POST", f"/api/publishers/{P}/offers/never-published/cancel?api-version=2017-10-31", EMAILS)
    assert empty.status == 202
    assert "operation-location" not in empty.headers and "location" not in empty.headers


def test_conflict_when_idle_answers_409_instead() -> None:
    with FakePortal(conflict_when_idle=True) as portal:
        portal.add_offer(P, "idle-offer", running=False)
        path = f"/api/publishers/{P}/offers/idle-offer/cancel?api-version=2017-10-31"
        answer = call(portal, "POST", path, EMAILS)
        assert answer.status == 409
        assert answer.json == {
            "error": {
                "code": "NoOperationInProgress",
                "message": "There is no operation in progress on offer 'idle-offer' to cancel.",
            },
        }


def test_cancel_without_notification_emails_is_accepted(portal: Any) -> None:
    assert call(portal, "POST", CANCEL, {"metadata": {}}).status == 202
    assert portal.operations(P, O)[0]["notificationEmails"] is None


# -- rejections -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?api-version=2016-08-01", "?api-version=", "?other=1"])
def test_wrong_api_version_answers_400(portal: Any, query: str) -> None:
    answer = call(portal, "POST", f"/api/publishers/{P}/offers/{O}/cancel{query}", EMAILS)
    assert answer.status == 400
    assert answer.json == {
        "error": {"code": "InvalidAPIVersion", "message": "Invalid api version. Allowed values are [2017-10-31]"},
    }


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b"{}", "application/json"),
        (b'{"metadata": "x"}', "application/json"),
        (b'{"metadata": {"notification-emails": ["a@contoso.com"]}}', "application/json"),
        (b'{"metadata": {"notification-emails": null}}', "application/json"),
        (json.dumps(EMAILS).encode(), "text/plain"),
    ],
)
def test_bad_cancel_body_answers_400(portal: Any, raw: bytes, content_type: str) -> None:
    answer = call(portal, "POST", CANCEL, raw=raw, headers={"Content-Type": content_type})
    assert answer.status == 400
    assert answer.code == "InvalidRequestBody"
    assert portal.operations(P, O)[0]["cancellationRequestState"] == "canCancel"  # not cancelled


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
def test_missing_or_malformed_token_answers_401(portal: Any, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = call(portal, "POST", CANCEL, EMAILS, token=None, headers=headers)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.code == "Unauthorized"


def test_unknown_token_answers_401() -> None:
    with FakePortal(tokens=["good"]) as portal:
        portal.add_offer(P, O)
        assert cancel(portal, token="bad").status == 401
        assert cancel(portal, token="good").status == 202


def test_token_mapping_limits_publishers_with_403() -> None:
    with FakePortal(tokens={"ours": ["contoso"], "both": ["contoso", "fabrikam"]}) as portal:
        portal.add_offer(P, O)
        portal.add_offer("fabrikam", "offer")
        fabrikam = "/api/publishers/fabrikam/offers/offer/cancel?api-version=2017-10-31"
        answer = call(portal, "POST", fabrikam, EMAILS, token="ours")
        assert answer.status == 403
        assert answer.json == {
            "error": {"code": "Forbidden", "message": "The identity does not have access to publisher 'fabrikam'."},
        }
        assert call(portal, "POST", fabrikam, EMAILS, token="both").status == 202
        assert cancel(portal, token="ours").status == 202
        operation_id = portal.operations("fabrikam", "offer")[0]["id"]
        assert call(portal, "GET", f"/api/operations/{operation_id}?api-version=2017-10-31", token="ours").status == 403


def test_unknown_offer_route_and_operation_answer_404(portal: Any) -> None:
    answer = call(portal, "POST", f"/api/publishers/{P}/offers/missing/cancel?api-version=2017-10-31", EMAILS)
    assert answer.status == 404
    assert answer.json == {"error": {"code": "NotFound", "message": "Offer 'contoso/missing' was not found."}}
    assert call(portal, "GET", "/api/nothing-here?api-version=2017-10-31").status == 404
    unknown = f"/api/publishers/{P}/offers/{O}/operations/{uuid.uuid4()}?api-version=2017-10-31"
    assert call(portal, "GET", unknown).code == "NotFound"
    assert call(portal, "GET", "/api/operations/nope?api-version=2017-10-31").status == 404


def test_wrong_method_answers_405_with_allow(portal: Any) -> None:
    answer = call(portal, "GET", CANCEL)
    assert (answer.status, answer.headers["allow"]) == (405, "POST")
    answer = call(portal, "DELETE", SUBMISSIONS)
    assert (answer.status, answer.headers["allow"]) == (405, "GET")


# -- fail_next and recording ----------------------------------------------------------------------


def test_fail_next_answers_injected_errors_then_recovers(portal: Any) -> None:
    portal.fail_next(2, 503, retry_after=1.0)
    portal.fail_next(1, 429, retry_after=0.5)
    portal.fail_next(1, 500, retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    portal.fail_next(1)
    answers = [call(portal, "GET", "/anything") for _ in range(5)]
    assert [a.status for a in answers] == [503, 503, 429, 500, 503]
    assert [a.headers.get("retry-after") for a in answers] == ["1", "1", "0.5", "Wed, 21 Oct 2015 07:28:00 GMT", None]
    assert [a.code for a in answers] == ["ServiceUnavailable"] * 2 + ["TooManyRequests", "InternalServerError"] + [
        "ServiceUnavailable",
    ]
    assert cancel(portal).status == 202


def test_fail_next_rejects_bad_arguments(portal: Any) -> None:
    with pytest.raises(ValueError, match="status"):
        portal.fail_next(1, 200)
    with pytest.raises(ValueError, match="count"):
        portal.fail_next(-1)


def test_every_request_is_recorded(portal: Any) -> None:
    call(portal, "GET", CANCEL, token=None)
    cancel(portal, headers={"X-Custom": "yes"})
    requests = portal.requests
    assert [(r.method, r.path) for r in requests] == [
        ("GET", CANCEL.split("?", maxsplit=1)[0]),
        ("POST", CANCEL.split("?", maxsplit=1)[0]),
    ]
    rejected, accepted = requests
    assert rejected.body is None
    assert rejected.raw_body == b""
    assert "authorization" not in rejected.headers
    assert accepted.query == {"api-version": "2017-10-31"}
    assert accepted.headers["x-custom"] == "yes"
    assert accepted.headers["authorization"] == "Bearer token"
    assert accepted.body == EMAILS
    assert json.loads(accepted.raw_body) == EMAILS
    requests.clear()  # a copy
    assert len(portal.requests) == 2
    portal.clear_requests()
    assert portal.requests == []


def test_chunked_body_and_keep_alive(portal: Any) -> None:
    conn = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
    try:
        headers = {"Authorization": "Bearer t", "Content-Type": "application/json"}
        conn.request("POST", CANCEL, body=iter([json.dumps(EMAILS).encode()]), headers=headers, encode_chunked=True)
        assert Answer(conn.getresponse()).status == 202
        assert call(portal, "GET", SUBMISSIONS, conn=conn).status == 200
    finally:
        conn.close()
    assert portal.requests[0].body == EMAILS


# -- operations -----------------------------------------------------------------------------------


def test_operation_shape(portal: Any) -> None:
    operation = portal.operations(P, O)[0]
    assert operation["status"] == "running"
    assert operation["submissionType"] == "publish"
    assert (operation["publisherId"], operation["offerId"], operation["slot"]) == (P, O, "preview")
    assert operation["offerVersion"] == 1
    assert operation["version"] > 2**53
    assert float(operation["version"]) != operation["version"]  # a double would lose it
    assert operation["cancellationRequestState"] == "canCancel"
    assert operation["messages"] == []
    # Seven fraction digits, as the service writes them (the pages' samples do).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", operation["createdDateTime"])
    # The steps of the "Retrieve operations" page's sample, in its order.
    assert [step["id"] for step in operation["steps"]] == [
        "displaydummycertify",
        "displaycertify",
        "displayprovision",
        "displaypackage",
        "publisher-signoff",
        "live",
    ]
    statuses = [step["status"] for step in operation["steps"]]
    assert statuses == ["complete", "inProgress", "notStarted", "notStarted", "notStarted", "notStarted"]
    (message,) = operation["steps"][0]["messages"]
    assert (message["level"], message["messageHtml"]) == ("information", "Step completed.")


def test_cancel_progresses_then_cancels_after_cancel_seconds() -> None:
    with FakePortal(cancel_seconds=0.4) as portal:
        portal.add_offer(P, O)
        location = cancel(portal).headers["operation-location"].removeprefix(portal.base_url)
        path = f"{location}?api-version=2017-10-31"
        seen = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            operation = call(portal, "GET", path).json
            seen.append((operation["status"], operation["steps"][1]["progressPercentage"]))
            if operation["status"] == "canceled":
                break
            time.sleep(0.05)
        running = [progress for status, progress in seen if status == "running"]
        assert len(running) >= 2
        assert running == sorted(running)
        assert running[-1] > running[0]
        assert seen[-1][0] == "canceled"
        assert [step["status"] for step in operation["steps"]] == ["complete"] + ["canceled"] * 5
        assert operation["lastActionDateTime"] > operation["createdDateTime"]


def test_get_operation_by_both_routes(portal: Any) -> None:
    operation_id = portal.operations(P, O)[0]["id"]
    by_offer = call(portal, "GET", f"/api/publishers/{P}/offers/{O}/operations/{operation_id}?api-version=2017-10-31")
    by_id = call(portal, "GET", f"/api/operations/{operation_id}?api-version=2017-10-31")
    assert by_offer.status == by_id.status == 200
    assert by_offer.json == by_id.json
    portal.add_offer(P, "other")
    elsewhere = f"/api/publishers/{P}/offers/other/operations/{operation_id}?api-version=2017-10-31"
    assert call(portal, "GET", elsewhere).status == 404


def test_submissions_newest_first_with_status_filter(portal: Any) -> None:
    portal.add_offer(P, O)  # one already runs: no new operation
    assert len(portal.operations(P, O)) == 1
    cancel(portal)
    time.sleep(0.25)
    portal.add_offer(P, O)
    everything = call(portal, "GET", SUBMISSIONS)
    assert everything.status == 200
    # List items carry submissionState, not status, as the "Retrieve operations" page shows.
    assert [op["submissionState"] for op in everything.json] == ["running", "canceled"]
    assert all("status" not in op for op in everything.json)
    assert [op["offerVersion"] for op in everything.json] == [2, 1]
    running = call(portal, "GET", SUBMISSIONS + "&status=RUNNING").json
    assert [op["id"] for op in running] == [everything.json[0]["id"]]
    canceled = call(portal, "GET", SUBMISSIONS + "&status=canceled").json
    assert [op["submissionState"] for op in canceled] == ["canceled"]
    assert call(portal, "GET", SUBMISSIONS + "&status=failed").json == []


# -- server ---------------------------------------------------------------------------------------


def test_concurrent_clients(portal: Any) -> None:
    def twenty_requests(_: int) -> list[int]:
        conn = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
        try:
            return [call(portal, "GET", SUBMISSIONS, conn=conn).status for _ in range(20)]
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [status for batch in pool.map(twenty_requests, range(8)) for status in batch]
    assert statuses == [200] * 160
    assert len(portal.requests) == 160


def _portal_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("FakePortal")]


def test_start_and_stop_are_clean_and_repeatable() -> None:
    portal = FakePortal()
    with pytest.raises(RuntimeError):
        _ = portal.base_url
    portal.add_offer(P, O)
    for _ in range(2):
        assert portal.start() is portal.start()
        idle = http.client.HTTPConnection(portal.base_url.removeprefix("http://"), timeout=5)
        assert call(portal, "GET", SUBMISSIONS, conn=idle).status == 200  # stays open, idle
        assert _portal_threads()
        started = time.monotonic()
        portal.stop()
        portal.stop()
        assert time.monotonic() - started < 2
        assert _portal_threads() == []
        with pytest.raises(OSError):
            call(portal, "GET", SUBMISSIONS)
        idle.close()
    assert len(portal.requests) == 2


def test_invalid_location_style_names_the_value() -> None:
    with pytest.raises(ValueError, match="'sideways'"):
        FakePortal(location_style="sideways")


def test_plugin_fixture_gives_a_started_portal(cloudpartner_portal: Any) -> None:
    assert cloudpartner_portal.operations(P, O)[0]["status"] == "running"
    assert cancel(cloudpartner_portal).status == 202
