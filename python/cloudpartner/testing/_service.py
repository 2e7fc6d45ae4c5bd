"""The fake service behind FakePortal: offers, their operations, and what each route answers.

No sockets here (``_http.py`` is the server): ``Service.handle`` takes a ``RecordedRequest`` and
returns a ``Response``, in the shapes the reference pages document (``tests/reference`` holds
them, and the tests check this service against them).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote

from ._http import RecordedRequest, Response

API_VERSION = "2017-10-31"
LOCATION_STYLES = ("absolute", "relative", "non-migrated")
_BIG = 2**53  # operation versions are odd numbers above this: no double holds them exactly
# The steps of a publish as the "Retrieve operations" page lists them: id, stepName, description,
# estimatedTimeFrame.
_STEPS = (
    ("displaydummycertify", "Validate Pre-Requisites", "Offer settings provided are validated.", "< 15 min"),
    (
        "displaycertify",
        "Certification",
        "Your offer is analyzed by our certification systems for issues.",
        "< 5 day",
    ),
    (
        "displayprovision",
        "Provisioning",
        "Your virtual machine is being replicated in our production systems.",
        "< 1 day",
    ),
    (
        "displaypackage",
        "Packaging and Lead Generation Registration",
        "Your virtual machine is packaged for being shown to your customers.",
        "< 1 hour",
    ),
    (
        "publisher-signoff",
        "Publisher signoff",
        "Offer is available to preview. Ensure that everything looks good before making your offer live.",
        None,
    ),
    ("live", "Live", "Offer is publicly visible and is available for purchase.", "~2-5 days"),
)
_WORK_STEPS = 4  # the steps before publisher-signoff
_REVIEW = "waitingForPublisherReview"
_OFFER = r"/api/publishers/(?P<publisher>[^/]+)/offers/(?P<offer>[^/]+)"
_ROUTES = (  # (name, allowed methods, path pattern); a trailing slash is accepted, as public clients send one
    ("cancel", ("POST",), re.compile(_OFFER + "/cancel/?")),
    ("publish", ("POST",), re.compile(_OFFER + "/publish/?")),
    ("golive", ("POST",), re.compile(_OFFER + "/golive/?")),
    ("status", ("GET",), re.compile(_OFFER + "/status/?")),
    ("operation", ("GET",), re.compile(_OFFER + "/operations/(?P<operation>[^/]+)/?")),
    ("operation", ("GET",), re.compile("/api/operations/(?P<operation>[^/]+)/?")),
    ("submissions", ("GET",), re.compile(_OFFER + "/submissions/?")),
    ("offers", ("GET",), re.compile("/api/publishers/(?P<publisher>[^/]+)/offers/?")),
    (
        "offer",
        ("GET", "PUT"),
        re.compile(_OFFER + r"(?:/versions/(?P<version>\d+))?(?:/slot/(?P<slot>[^/]+))?/?"),
    ),
)


class HttpError(Exception):
    """Raised by a check to answer with ``response`` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HttpError:
    """Build the documented error shape: ``{"error": {"code", "message"}}``."""
    return HttpError(Response(status, {"error": {"code": code, "message": message}}, headers or {}))


def _timestamp(seconds: float) -> str:
    """ISO 8601 UTC with seven fraction digits, as the service writes them."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 10**7):07d}Z"


def _names(value: str | Iterable[str]) -> frozenset[str]:
    return frozenset([value]) if isinstance(value, str) else frozenset(value)


@dataclass
class _Operation:
    """A publish or a go-live; its state is computed from timestamps, so no timer is needed.

    A publish's first four steps take ``step_seconds`` each; then its ``publisher-signoff`` step
    waits for the publisher's review until a go-live (its own operation) takes it live over
    ``step_seconds`` more. ``step_seconds=None`` (``add_offer``'s publish) stays in certification
    until cancelled.
    """

    id: str
    publisher: str
    offer: str
    offer_guid: str
    number: int
    created: float
    kind: str = "publish"
    step_seconds: float | None = None
    cancel_requested: float | None = None
    cancel_done: float | None = None
    emails: str | None = None
    live_started: float | None = None  # a publish: when the go-live began; a go-live: created

    def canceled(self, now: float) -> bool:
        return self.cancel_done is not None and now >= self.cancel_done

    def _live_done(self, now: float) -> bool:
        d = self.step_seconds or 0.0
        return self.live_started is not None and now >= self.live_started + d and not self.cancel_requested

    def waiting_for_review(self, now: float) -> bool:
        if self.kind != "publish" or self.step_seconds is None or self.cancel_requested is not None:
            return False
        return self.live_started is None and now >= self.created + _WORK_STEPS * self.step_seconds

    def status(self, now: float) -> str:
        if self.canceled(now):
            return "canceled"
        return "succeeded" if self._live_done(now) else "running"

    def busy(self, now: float) -> bool:
        """Tell whether it runs and does not merely wait for review: then a new publish or go-live is refused."""
        return self.status(now) == "running" and not self.waiting_for_review(now)

    def _progress(self, now: float) -> int:
        """Certification progress: 40 %, then advancing towards 99 % while the cancel runs."""
        start, end = self.cancel_requested, self.cancel_done
        if start is None or end is None or end <= start:
            return 40
        return 40 + int(59 * min(1.0, (now - start) / (end - start)))

    def _changed(self, now: float) -> float:
        if self.canceled(now) and self.cancel_done is not None:
            return self.cancel_done
        return max(t for t in (self.created, self.cancel_requested, self.live_started) if t is not None)

    def _states(self, now: float) -> list[tuple[str, int]]:
        """(status, progress) of each step."""
        if self.kind == "golive" or self.step_seconds is None:
            if self.kind == "golive":
                live = ("complete", 100) if self._live_done(now) else ("inProgress", 50)
                states = [("complete", 100)] * (len(_STEPS) - 1) + [live]
            else:  # add_offer's publish: stuck in certification
                states = [("complete", 100), ("inProgress", self._progress(now))]
                states += [("notStarted", 0)] * (len(_STEPS) - 2)
        else:
            d = self.step_seconds
            at = now if self.cancel_requested is None else min(now, self.cancel_requested)
            elapsed = at - self.created
            states = []
            for index in range(_WORK_STEPS):
                done = min(1.0, max(0.0, (elapsed - index * d) / d)) if d > 0 else 1.0
                states.append(
                    ("complete", 100) if done >= 1 else ("inProgress" if done > 0 else "notStarted", int(done * 100))
                )
            if self.live_started is not None:
                live = ("complete", 100) if self._live_done(now) else ("inProgress", 50)
                states += [("complete", 100), live]
            elif self.waiting_for_review(now):
                states += [(_REVIEW, 0), ("notStarted", 0)]
            else:
                states += [("notStarted", 0), ("notStarted", 0)]
        if self.canceled(now):  # the step under way and those after it were cancelled
            states = [(("canceled", p) if status != "complete" else (status, p)) for status, p in states]
        return states

    def _steps(self, now: float) -> list[dict[str, Any]]:
        done = [{"messageHtml": "Step completed.", "level": "information", "timestamp": _timestamp(self.created)}]
        steps = []
        for (step_id, name, description, estimate), (status, progress) in zip(_STEPS, self._states(now)):
            step: dict[str, Any] = {
                "id": step_id,
                "stepName": name,
                "description": description,
                "status": status,
                "messages": done if status == "complete" else [],
                "progressPercentage": progress,
            }
            if estimate is not None:  # the page's publisher-signoff step has none
                step["estimatedTimeFrame"] = estimate
            steps.append(step)
        return steps

    def to_json(self, now: float) -> dict[str, Any]:
        """Answer a GET of this operation, with the keys the "Retrieve operations" page shows."""
        return {
            "id": self.id,
            "status": self.status(now),
            "messages": [],
            "publishingVersion": self.number + 1,
            "offerVersion": self.number,
            "cancellationRequestState": "canCancel" if self.cancel_requested is None else "Requested",
            "submissionType": self.kind,
            "createdDateTime": _timestamp(self.created),
            "lastActionDateTime": _timestamp(self._changed(now)),
            "steps": self._steps(now),
            "previewLinks": [],
            "liveLinks": [],
            "notificationEmails": self.emails,
            "publisherId": self.publisher,
            "offerId": self.offer,
            "slot": "production" if self.kind == "golive" else "preview",
            "version": _BIG + 2 * self.number - 1,
        }

    def to_list_item(self, now: float) -> dict[str, Any]:
        """Describe it as a list item, as the page shows them (``submissionState``, no ``status``)."""
        return {
            "id": self.id,
            "offerId": self.offer_guid,
            "offerVersion": self.number,
            "offerTypeId": "microsoft-azure-virtualmachines",
            "publisherId": self.publisher,
            "submissionType": self.kind,
            "submissionState": self.status(now),
            "publishingVersion": self.number + 1,
            "slot": "staging",
            "version": _BIG + 2 * self.number - 1,
            "definition": {"metadata": {"emails": self.emails or ""}},
            "changedTime": _timestamp(self._changed(now)),
        }


@dataclass
class _Offer:
    """An offer: its operations, and its definition in each slot.

    ``drafts`` keeps every version (the last is the draft); each PUT adds one and changes the ETag.
    """

    publisher: str
    offer: str
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    operations: list[_Operation] = field(default_factory=list)
    drafts: list[dict[str, Any]] = field(default_factory=list)
    changed: float = field(default_factory=time.time)
    preview: dict[str, Any] | None = None
    production: dict[str, Any] | None = None

    @property
    def etag(self) -> str:
        """An ETag in the service's shape: a weak validator over the last change's time."""
        return f"W/\"datetime'{_timestamp(self.changed).replace(':', '%3A')}'-{len(self.drafts)}\""

    def document(self, definition: dict[str, Any], status: str) -> dict[str, Any]:
        """Wrap a stored definition as ``GET .../offers/{offer}`` answers it."""
        return {
            "offerTypeId": definition.get("offerTypeId", "microsoft-azure-virtualmachines"),
            "publisherId": self.publisher,
            "status": status,
            "id": self.offer,
            "version": len(self.drafts),
            "definition": definition.get("definition", {}),
            "changedTime": _timestamp(self.changed),
        }

    def latest(self) -> _Operation | None:
        return self.operations[-1] if self.operations else None


class Service:
    """The portal's state and answers; not thread-safe by itself (FakePortal holds a lock)."""

    def __init__(
        self,
        *,
        tokens: Iterable[str] | Mapping[str, Iterable[str]] | None,
        location_style: str,
        sync_cancel: bool,
        cancel_seconds: float,
        conflict_when_idle: bool,
        base_url: Callable[[], str],
        step_seconds: float = 0.2,
    ) -> None:
        if location_style not in LOCATION_STYLES:
            msg = f"location_style must be one of {LOCATION_STYLES}, not {location_style!r}"
            raise ValueError(msg)
        if cancel_seconds < 0:
            msg = f"cancel_seconds must be >= 0, not {cancel_seconds!r}"
            raise ValueError(msg)
        self._tokens: dict[str, frozenset[str] | None] | None = None
        if isinstance(tokens, Mapping):
            self._tokens = {token: _names(seen) for token, seen in tokens.items()}
        elif tokens is not None:
            self._tokens = dict.fromkeys(_names(tokens))
        self._style = location_style
        self._sync_cancel = sync_cancel
        self._cancel_seconds = float(cancel_seconds)
        self._conflict_when_idle = conflict_when_idle
        self._step_seconds = float(step_seconds)
        self._base_url = base_url
        self._offers: dict[tuple[str, str], _Offer] = {}
        self._operations: dict[str, _Operation] = {}
        self._failures: list[tuple[int, str | None]] = []

    # -- setup ---------------------------------------------------------------------------------

    def add_offer(self, publisher: str, offer: str, running: bool) -> None:
        for name in (publisher, offer):
            if not name or "/" in name:
                msg = f"invalid publisher or offer name: {name!r}"
                raise ValueError(msg)
        state = self._offers.get((publisher, offer))
        if state is None:
            state = _Offer(publisher, offer)
            state.drafts.append({"definition": {"displayText": offer, "offer": {}, "plans": []}})
            self._offers[(publisher, offer)] = state
        now = time.time()
        if running and all(not op.busy(now) for op in state.operations):
            self._start(state, "publish", now, None)

    def _start(self, state: _Offer, kind: str, now: float, step_seconds: float | None) -> _Operation:
        number = len(state.operations) + 1
        non_migrated = self._style == "non-migrated"
        slot = "production" if kind == "golive" else "preview"
        op_id = f"{state.publisher}${state.offer}${number}${slot}" if non_migrated else str(uuid.uuid4())
        operation = _Operation(op_id, state.publisher, state.offer, state.guid, number, now, kind, step_seconds)
        state.operations.append(operation)
        self._operations[op_id] = operation
        return operation

    def fail_next(self, count: int, status: int, retry_after: str | None) -> None:
        self._failures.extend([(status, retry_after)] * count)

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        now = time.time()
        return [op.to_json(now) for op in reversed(self._offers[(publisher, offer)].operations)]

    def _settle(self, state: _Offer, now: float) -> None:
        """Move definitions between slots as the operations reached those points."""
        for operation in state.operations:
            if operation.kind == "publish" and operation.step_seconds is not None:
                reviewed = operation.created + _WORK_STEPS * operation.step_seconds
                if now >= reviewed and operation.cancel_requested is None and state.preview is None:
                    state.preview = dict(state.drafts[-1])
            if operation.kind == "golive" and operation.status(now) == "succeeded" and state.preview is not None:
                state.production = dict(state.preview)

    # -- answers -------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Response:
        try:
            return self._route(request)
        except HttpError as failure:
            return failure.response
        except Exception as exc:  # a bug of ours: answer as a service would, not with a traceback
            return Response(500, {"error": {"code": "InternalServerError", "message": repr(exc)}})

    def _route(self, request: RecordedRequest) -> Response:  # noqa: PLR0911 - one return per route
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            raise error(status, _status_code(status), "Injected failure (FakePortal.fail_next).", headers)
        if request.query.get("api-version") != API_VERSION:
            raise error(400, "InvalidAPIVersion", f"Invalid api version. Allowed values are [{API_VERSION}]")
        token = self._authorize(request.headers.get("authorization", ""))
        name, params = _match_route(request)
        operation = self._operations.get(params.get("operation", ""))
        publisher = params.get("publisher") or (operation.publisher if operation else None)
        if publisher is not None and not self._sees(token, publisher):
            raise error(403, "Forbidden", f"The identity does not have access to publisher '{publisher}'.")
        if name == "cancel":
            return self._cancel(request, params["publisher"], params["offer"])
        if name in ("publish", "golive"):
            return self._start_route(request, name, params["publisher"], params["offer"])
        if name == "status":
            return self._status(params["publisher"], params["offer"])
        if name == "offers":
            return self._list_offers(params["publisher"])
        if name == "offer":
            return self._offer_route(request, params)
        if name == "submissions":
            return self._submissions(request, params["publisher"], params["offer"])
        if "offer" in params:  # the operation must belong to the offer in the path
            self._offer(params["publisher"], params["offer"])
            if operation is not None and (operation.publisher, operation.offer) != (publisher, params["offer"]):
                operation = None
        if operation is None:
            raise error(404, "NotFound", f"Operation '{params['operation']}' was not found.")
        return Response(200, operation.to_json(time.time()))

    def _authorize(self, header: str) -> str:
        challenge = {"WWW-Authenticate": "Bearer"}
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise error(401, "Unauthorized", "A 'Bearer' access token is required.", challenge)
        if self._tokens is not None and token not in self._tokens:
            raise error(401, "Unauthorized", "The access token is invalid or has expired.", challenge)
        return token

    def _sees(self, token: str, publisher: str) -> bool:
        seen = None if self._tokens is None else self._tokens[token]
        return seen is None or publisher in seen

    def _offer(self, publisher: str, offer: str) -> _Offer:
        state = self._offers.get((publisher, offer))
        if state is None:
            raise error(404, "NotFound", f"Offer '{publisher}/{offer}' was not found.")
        return state

    def _cancel(self, request: RecordedRequest, publisher: str, offer: str) -> Response:
        emails = _notification_emails(request)
        now = time.time()
        operations = self._offer(publisher, offer).operations
        running = [op for op in operations if op.status(now) == "running"]
        if not running and self._conflict_when_idle:
            msg = f"There is no operation in progress on offer '{offer}' to cancel."
            raise error(409, "NoOperationInProgress", msg)
        if not running:
            # The service answers 202 "whether it cancelled or not"; the location names the
            # offer's latest operation (none: no location).
            return self._accepted(operations[-1] if operations else None)
        operation = running[-1]
        if operation.cancel_requested is None:
            operation.cancel_requested = now
            operation.cancel_done = now if self._sync_cancel else now + self._cancel_seconds
            operation.emails = emails
        if self._sync_cancel:
            return Response(200)
        return self._accepted(operation)

    def _accepted(self, operation: _Operation | None) -> Response:
        """202 with the operation's location in the configured style."""
        if operation is None:
            return Response(202)
        publisher, offer = quote(operation.publisher, safe=""), quote(operation.offer, safe="")
        path = f"/api/publishers/{publisher}/offers/{offer}/operations/{operation.id}"
        if self._style == "absolute":
            return Response(202, headers={"Operation-Location": self._base_url() + path})
        if self._style == "non-migrated":
            path = f"/api/operations/{quote(operation.id, safe='$')}"
        return Response(202, headers={"Location": f"{path}?api-version={API_VERSION}"})

    def _start_route(self, request: RecordedRequest, kind: str, publisher: str, offer: str) -> Response:
        emails = _notification_emails(request)
        state = self._offer(publisher, offer)
        now = time.time()
        self._settle(state, now)
        # A go-live may follow a publish that waits for review; anything else running refuses.
        running = [op for op in state.operations if (op.busy(now) if kind == "golive" else op.status(now) == "running")]
        if running:
            msg = f"The offer '{offer}' has a conflicting operation in progress ({running[-1].id})."
            raise error(409, "ConflictingOperation", msg)
        if kind == "golive":
            reviewed = [op for op in state.operations if op.waiting_for_review(now)]
            if not reviewed:
                msg = f"The offer '{offer}' has no publish waiting for the publisher's review to take live."
                raise error(409, "NotReadyForGoLive", msg)
            reviewed[-1].live_started = now
            operation = self._start(state, "golive", now, self._step_seconds)
            operation.live_started = now
            operation.emails = reviewed[-1].emails
        else:
            state.preview = None  # the new publish fills it again at review
            operation = self._start(state, "publish", now, self._step_seconds)
            operation.emails = emails
        return self._accepted(operation)

    def _status(self, publisher: str, offer: str) -> Response:
        state = self._offer(publisher, offer)
        now = time.time()
        self._settle(state, now)
        latest = state.latest()
        if latest is None:
            return Response(200, {"status": "neverPublished", "messages": [], "steps": []})
        status = _REVIEW if latest.waiting_for_review(now) else latest.status(now)
        answer = latest.to_json(now)
        return Response(
            200,
            {
                "status": status,
                "messages": [],
                "steps": answer["steps"],
                "previewLinks": [],
                "liveLinks": [],
                "notificationEmails": latest.emails,
            },
        )

    def _list_offers(self, publisher: str) -> Response:
        now = time.time()
        summaries = []
        for (owner, _), state in self._offers.items():
            if owner != publisher:
                continue
            self._settle(state, now)
            summary = state.document(state.drafts[-1], "published" if state.production else "neverPublished")
            summary["definition"] = {"displayText": summary["definition"].get("displayText", state.offer)}
            summary["id"] = state.guid
            summaries.append(summary)
        return Response(200, summaries)

    def _offer_route(self, request: RecordedRequest, params: dict[str, str]) -> Response:
        publisher, offer = params["publisher"], params["offer"]
        if request.method == "PUT":
            return self._put_offer(request, publisher, offer)
        state = self._offer(publisher, offer)
        self._settle(state, time.time())
        definition: dict[str, Any] | None = state.drafts[-1]
        if "version" in params:
            number = int(params["version"])
            definition = state.drafts[number - 1] if 1 <= number <= len(state.drafts) else None
        slot = params.get("slot", "draft").lower()
        if slot not in ("draft", "preview", "production"):
            raise error(404, "NotFound", f"No slot '{params['slot']}'.")
        if slot == "preview":
            definition = state.preview
        elif slot == "production":
            definition = state.production
        if definition is None:
            raise error(404, "NotFound", f"Offer '{publisher}/{offer}' has nothing in that slot or version.")
        status = "published" if state.production else "neverPublished"
        return Response(200, state.document(definition, status), {"ETag": state.etag})

    def _put_offer(self, request: RecordedRequest, publisher: str, offer: str) -> Response:
        condition = request.headers.get("if-match", "").strip()
        if not condition:
            raise error(400, "MissingIfMatch", "The If-Match header is required (an ETag, or * to overwrite).")
        if not isinstance(request.body, dict):
            raise error(400, "InvalidRequestBody", "The body must be the offer as a JSON object.")
        state = self._offers.get((publisher, offer))
        if state is None:
            if condition != "*":
                raise error(412, "PreconditionFailed", f"Offer '{offer}' does not exist; use If-Match: *.")
            state = _Offer(publisher, offer)
            self._offers[(publisher, offer)] = state
        elif condition not in ("*", state.etag):
            raise error(412, "PreconditionFailed", "The offer was changed since that ETag was read.")
        state.drafts.append(dict(request.body))
        state.changed = time.time()
        return Response(200, state.document(state.drafts[-1], "neverPublished"), {"ETag": state.etag})

    def _submissions(self, request: RecordedRequest, publisher: str, offer: str) -> Response:
        now = time.time()
        wanted = request.query.get("status", "").lower()
        items = [op.to_list_item(now) for op in reversed(self._offer(publisher, offer).operations)]
        return Response(200, [item for item in items if not wanted or item["submissionState"].lower() == wanted])


def _notification_emails(request: RecordedRequest) -> str | None:
    """Validate a cancel body; return its ``notification-emails`` (None when absent)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise error(400, "InvalidRequestBody", "Content-Type must be application/json.")
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        raise error(400, "InvalidRequestBody", "The body must be a JSON object with a 'metadata' object.")
    metadata: dict[str, Any] = body["metadata"]
    emails = metadata.get("notification-emails")
    if "notification-emails" in metadata and not isinstance(emails, str):
        msg = "'notification-emails' must be a string of comma-separated addresses."
        raise error(400, "InvalidRequestBody", msg)
    return emails


def _match_route(request: RecordedRequest) -> tuple[str, dict[str, str]]:
    """Return the route name and its percent-decoded path parameters (404 or 405 otherwise)."""
    for name, methods, pattern in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        if request.method not in methods:
            allow = ", ".join(methods)
            raise error(405, "MethodNotAllowed", f"{request.method} is not allowed here.", {"Allow": allow})
        return name, {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
    raise error(404, "NotFound", f"No route for {request.method} {request.path}.")


def _status_code(status: int) -> str:
    """Name an injected status as an error code, e.g. 503 -> "ServiceUnavailable"."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"
