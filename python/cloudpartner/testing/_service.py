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
)
_OFFER = r"/api/publishers/(?P<publisher>[^/]+)/offers/(?P<offer>[^/]+)"
_ROUTES = (  # (name, allowed method, path pattern); a trailing slash is accepted, as public clients send one
    ("cancel", "POST", re.compile(_OFFER + "/cancel/?")),
    ("operation", "GET", re.compile(_OFFER + "/operations/(?P<operation>[^/]+)/?")),
    ("operation", "GET", re.compile("/api/operations/(?P<operation>[^/]+)/?")),
    ("submissions", "GET", re.compile(_OFFER + "/submissions/?")),
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
    """A publish; its state is computed from timestamps, so no timer is needed."""

    id: str
    publisher: str
    offer: str
    offer_guid: str
    number: int
    created: float
    cancel_requested: float | None = None
    cancel_done: float | None = None
    emails: str | None = None

    def canceled(self, now: float) -> bool:
        return self.cancel_done is not None and now >= self.cancel_done

    def status(self, now: float) -> str:
        return "canceled" if self.canceled(now) else "running"

    def _progress(self, now: float) -> int:
        """Certification progress: 40 %, then advancing towards 99 % while the cancel runs."""
        start, end = self.cancel_requested, self.cancel_done
        if start is None or end is None or end <= start:
            return 40
        return 40 + int(59 * min(1.0, (now - start) / (end - start)))

    def _changed(self, now: float) -> float:
        if self.canceled(now) and self.cancel_done is not None:
            return self.cancel_done
        return self.created if self.cancel_requested is None else self.cancel_requested

    def _steps(self, now: float) -> list[dict[str, Any]]:
        canceled = self.canceled(now)
        rest = "canceled" if canceled else "notStarted"
        states = [("complete", 100), ("canceled" if canceled else "inProgress", self._progress(now))]
        states += [(rest, 0)] * (len(_STEPS) - 2)
        done = [{"messageHtml": "Step completed.", "level": "information", "timestamp": _timestamp(self.created)}]
        steps = []
        for (step_id, name, description, estimate), (status, progress) in zip(_STEPS, states):
            steps.append(
                {
                    "estimatedTimeFrame": estimate,
                    "id": step_id,
                    "stepName": name,
                    "description": description,
                    "status": status,
                    "messages": done if status == "complete" else [],
                    "progressPercentage": progress,
                }
            )
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
            "submissionType": "publish",
            "createdDateTime": _timestamp(self.created),
            "lastActionDateTime": _timestamp(self._changed(now)),
            "steps": self._steps(now),
            "previewLinks": [],
            "liveLinks": [],
            "notificationEmails": self.emails,
            "publisherId": self.publisher,
            "offerId": self.offer,
            "slot": "preview",
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
            "submissionType": "publish",
            "submissionState": self.status(now),
            "publishingVersion": self.number + 1,
            "slot": "staging",
            "version": _BIG + 2 * self.number - 1,
            "definition": {"metadata": {"emails": self.emails or ""}},
            "changedTime": _timestamp(self._changed(now)),
        }


@dataclass
class _Offer:
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    operations: list[_Operation] = field(default_factory=list)


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
        state = self._offers.setdefault((publisher, offer), _Offer())
        now = time.time()
        if running and all(op.canceled(now) for op in state.operations):
            number = len(state.operations) + 1
            non_migrated = self._style == "non-migrated"
            op_id = f"{publisher}${offer}${number}$preview" if non_migrated else str(uuid.uuid4())
            operation = _Operation(op_id, publisher, offer, state.guid, number, now)
            state.operations.append(operation)
            self._operations[op_id] = operation

    def fail_next(self, count: int, status: int, retry_after: str | None) -> None:
        self._failures.extend([(status, retry_after)] * count)

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        now = time.time()
        return [op.to_json(now) for op in reversed(self._offers[(publisher, offer)].operations)]

    # -- answers -------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Response:
        try:
            return self._route(request)
        except HttpError as failure:
            return failure.response
        except Exception as exc:  # a bug of ours: answer as a service would, not with a traceback
            return Response(500, {"error": {"code": "InternalServerError", "message": repr(exc)}})

    def _route(self, request: RecordedRequest) -> Response:
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
        running = [op for op in operations if not op.canceled(now)]
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
    for name, method, pattern in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        if request.method != method:
            raise error(405, "MethodNotAllowed", f"{request.method} is not allowed here.", {"Allow": method})
        return name, {key: unquote(value) for key, value in match.groupdict().items()}
    raise error(404, "NotFound", f"No route for {request.method} {request.path}.")


def _status_code(status: int) -> str:
    """Name an injected status as an error code, e.g. 503 -> "ServiceUnavailable"."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"
