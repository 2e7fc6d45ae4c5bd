"""The fake Cloud Partner Portal API (api-version 2017-10-31): what each route answers.

No sockets here (``_base.py`` and ``_http.py`` are the server): ``Service.handle`` takes a
``RecordedRequest`` and returns a ``Response``, in the shapes the reference pages document
(``tests/reference`` holds them, and the tests check this service against them). Where public
clients saw the service answer otherwise (``tests/reference/observed``), the observed shape wins:

- an offer the service does not know answers a GET with the Partner Center shim's 404, a
  compact ``{"Product": {"serviceName", "error", "exceptionCode", "httpStatusCode"}}`` whose
  ``error`` is ``<.NET exception type>: CPP product <offer> not found in current PC
  environment.`` and a stack frame; a publish of one answers 404 with that exception text as a
  bare JSON string (as Microsoft's CLI mocks it); the other routes keep the documented
  ``{"error": {"code": "NotFound", ...}}``;
- a PUT without ``If-Match`` of an offer that exists answers 409 ``InvalidResourceId`` with the
  service's sentence (devigned/pub#22);
- ``GET /api/publishers`` lists the publishers the token sees; the offers list takes
  ``$filter=offerTypeId eq '<type>'`` (Microsoft's CLI sends it) and its items carry the keys
  and the zoneless ``changedTime`` seen in the wild (``_cpp_model.Offer.summary``).

The offers and operations are in ``_cpp_model.py``. Every path not under
``/rp/product-ingestion`` is this service's.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote

from ._base import Failure, HttpError, Tokens, bearer, seconds
from ._cpp_model import DEFAULT_OFFER_TYPE, REVIEW, WORK_STEPS, Offer, Operation, publisher_entity, seeded_plan
from ._http import RecordedRequest, Response

API_VERSION = "2017-10-31"
LOCATION_STYLES = ("absolute", "relative", "non-migrated")
_OFFER = r"/api/publishers/(?P<publisher>[^/]+)/offers/(?P<offer>[^/]+)"
_ROUTES = (  # (name, allowed methods, path pattern); a trailing slash is accepted, as public clients send one
    ("cancel", ("POST",), re.compile(_OFFER + "/cancel/?")),
    ("publish", ("POST",), re.compile(_OFFER + "/publish/?")),
    ("golive", ("POST",), re.compile(_OFFER + "/golive/?")),
    ("status", ("GET",), re.compile(_OFFER + "/status/?")),
    ("operation", ("GET",), re.compile(_OFFER + "/operations/(?P<operation>[^/]+)/?")),
    ("operation", ("GET",), re.compile("/api/operations/(?P<operation>[^/]+)/?")),
    ("submissions", ("GET",), re.compile(_OFFER + "/submissions/?")),
    ("publishers", ("GET",), re.compile("/api/publishers/?")),
    ("offers", ("GET",), re.compile("/api/publishers/(?P<publisher>[^/]+)/offers/?")),
    (
        "offer",
        ("GET", "PUT"),
        re.compile(_OFFER + r"(?:/versions/(?P<version>\d+))?(?:/slot/(?P<slot>[^/]+))?/?"),
    ),
)
ROUTES = tuple(dict.fromkeys(name for name, _, _ in _ROUTES))
# The one $filter of the offers list public clients send (az-partner-center-cli): offerTypeId eq '<type>'.
_TYPE_FILTER = re.compile(r"\s*offerTypeId\s+eq\s+'(?P<type>[^']*)'\s*")
# What the Partner Center shim put in "error" after the sentence (one frame of the captured trace).
_SHIM_FRAME = (
    "   at Microsoft.Ingestion.Api.Controllers.CppOperationController.<>c__DisplayClass22_0."
    "<<GetDraftOfferJsonAsync>b__0>d.MoveNext()"
)
_HTTP404 = "Microsoft.Ingestion.Api.Common.Exceptions.Http404Exception"


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HttpError:
    """Build the documented error shape: ``{"error": {"code", "message"}}``."""
    return HttpError(Response(status, {"error": {"code": code, "message": message}}, headers or {}))


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def offer_not_found(offer: str) -> HttpError:
    """Answer a GET of an offer Partner Center does not know, as the service does: 404.

    The Partner Center shim's service-name wrapper, as Microsoft's CLI captured it in its tests
    (tests/reference/observed/get-offer-404-pc-environment-stacktrace): compact JSON, the
    ``Product`` key, the exception type before the sentence, CR LF and a stack frame after it.
    """
    sentence = f"CPP product {offer} not found in current PC environment."
    wrapper = {
        "serviceName": "Product",
        "error": f"{_HTTP404}: {sentence}\r\n{_SHIM_FRAME}",
        "exceptionCode": "Http404Exception",
        "httpStatusCode": "NotFound",
    }
    return HttpError(Response(404, _compact({"Product": wrapper})))


def publish_not_found(offer: str) -> HttpError:
    """Answer a publish of an unknown offer: 404, the exception text as a bare JSON string.

    Microsoft's CLI mocks this answer as the string ``"...Http404Exception..."`` (abridged by its
    authors: tests/reference/observed/publish-404-bare-json-string); the sentence after the type
    is the GET's (a guess at the rest of the text).
    """
    return HttpError(Response(404, _compact(f"{_HTTP404}: CPP product {offer} not found in current PC environment.")))


class Service:
    """The portal's offers and answers; not thread-safe by itself (FakePortal holds a lock)."""

    name = "cpp"
    routes = ROUTES

    def __init__(
        self,
        *,
        tokens: Tokens,
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
        self._tokens = tokens
        self._style = location_style
        self._sync_cancel = sync_cancel
        self._cancel_seconds = seconds("cancel_seconds", cancel_seconds)
        self._conflict_when_idle = conflict_when_idle
        self._step_seconds = seconds("step_seconds", step_seconds)
        self._base_url = base_url
        self._offers: dict[tuple[str, str], Offer] = {}
        self._operations: dict[str, Operation] = {}

    # -- setup ---------------------------------------------------------------------------------

    def add_offer(
        self,
        publisher: str,
        offer: str,
        running: bool,
        plans: tuple[str, ...] = (),
        *,
        offer_type: str = DEFAULT_OFFER_TYPE,
        migrated: bool = True,
    ) -> Offer:
        """Create the offer (``offer_type``; its draft holds ``plans``, seeded) if needed; ``running``: publish it."""
        for name in (publisher, offer):
            if not name or "/" in name:
                msg = f"invalid publisher or offer name: {name!r}"
                raise ValueError(msg)
        if not isinstance(offer_type, str) or not offer_type or "'" in offer_type:
            msg = f"invalid offer type: {offer_type!r}"
            raise ValueError(msg)
        state = self._offers.get((publisher, offer))
        if state is None:
            state = Offer(publisher, offer, offer_type, migrated=migrated)
            listed = [seeded_plan(offer, plan) for plan in plans]
            state.drafts.append({"definition": {"displayText": offer, "offer": {}, "plans": listed}})
            self._offers[(publisher, offer)] = state
        now = time.time()
        if running and all(not op.busy(now) for op in state.operations):
            self._start(state, "publish", now, None)
        return state

    def _start(self, state: Offer, kind: str, now: float, step_seconds: float | None) -> Operation:
        number = len(state.operations) + 1
        non_migrated = self._style == "non-migrated" or not state.migrated
        slot = "production" if kind == "golive" else "preview"
        op_id = f"{state.publisher}${state.offer}${number}${slot}" if non_migrated else str(uuid.uuid4())
        operation = Operation(op_id, state.publisher, state.offer, state.guid, number, now, kind, step_seconds)
        operation.offer_type = state.type_of(state.drafts[-1]) if state.drafts else state.offer_type
        state.operations.append(operation)
        self._operations[op_id] = operation
        return operation

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        now = time.time()
        return [op.to_json(now) for op in reversed(self._offers[(publisher, offer)].operations)]

    def _settle(self, state: Offer, now: float) -> None:
        """Move definitions between slots as the operations reached those points."""
        for operation in state.operations:
            if operation.kind == "publish" and operation.step_seconds is not None:
                reviewed = operation.created + WORK_STEPS * operation.step_seconds
                if now >= reviewed and operation.cancel_requested is None and state.preview is None:
                    state.preview = dict(state.drafts[-1])
            if operation.kind == "golive" and operation.status(now) == "succeeded" and state.preview is not None:
                state.production = dict(state.preview)

    # -- answers -------------------------------------------------------------------------------

    def owns(self, path: str) -> bool:
        return not (path == "/rp/product-ingestion" or path.startswith("/rp/product-ingestion/"))

    def route_name(self, request: RecordedRequest) -> str | None:
        return next((name for name, _, pattern in _ROUTES if pattern.fullmatch(request.path)), None)

    def injected(self, failure: Failure) -> Response:
        headers = {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
        body = {"error": {"code": _status_code(failure.status), "message": "Injected failure (FakePortal.fail_next)."}}
        return Response(failure.status, body, headers)

    def handle(self, request: RecordedRequest) -> Response:
        try:
            return self._route(request)
        except HttpError as failure:
            return failure.response
        except Exception as exc:  # a bug of ours: answer as a service would, not with a traceback
            return Response(500, {"error": {"code": "InternalServerError", "message": repr(exc)}})

    def _route(self, request: RecordedRequest) -> Response:  # noqa: PLR0911 - one return per route
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
        if name == "publishers":
            return self._list_publishers(token)
        if name == "offers":
            return self._list_offers(request, params["publisher"])
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
        token = bearer(header)
        if token is None:
            raise error(401, "Unauthorized", "A 'Bearer' access token is required.", challenge)
        if not self._tokens.accepts(token):
            raise error(401, "Unauthorized", "The access token is invalid or has expired.", challenge)
        return token

    def _sees(self, token: str, publisher: str) -> bool:
        return self._tokens.sees(token, publisher)

    def _list_publishers(self, token: str) -> Response:
        """List the publishers the token sees: those of the offers, and those its mapping names."""
        named = self._tokens.named(token)
        known = {publisher for publisher, _ in self._offers} | set(named)
        types: dict[str, list[str]] = {publisher: [] for publisher in known}
        for (publisher, _), state in self._offers.items():
            types[publisher].append(state.type_of(state.drafts[-1]) if state.drafts else state.offer_type)
        seen = sorted(publisher for publisher in known if self._sees(token, publisher))
        return Response(200, [publisher_entity(publisher, types[publisher]) for publisher in seen])

    def _offer(self, publisher: str, offer: str) -> Offer:
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

    def _accepted(self, operation: Operation | None, *, absolute: bool = True) -> Response:
        """202 with the operation's location in the configured style.

        ``absolute=False``: publish and go-live, which answer ``Location`` with a relative path in
        every style (the publish and go-live pages; azure-img-utils 1.x prefixes the value with
        ``https://cloudpartner.azure.com``); only the 2018 cancel page shows ``Operation-Location``.
        """
        if operation is None:
            return Response(202)
        publisher, offer = quote(operation.publisher, safe=""), quote(operation.offer, safe="")
        path = f"/api/publishers/{publisher}/offers/{offer}/operations/{operation.id}"
        migrated = self._offers[(operation.publisher, operation.offer)].migrated
        if self._style == "absolute" and absolute and migrated:
            return Response(202, headers={"Operation-Location": self._base_url() + path})
        if self._style == "non-migrated" or not migrated:
            path = f"/api/operations/{quote(operation.id, safe='$')}"
        return Response(202, headers={"Location": f"{path}?api-version={API_VERSION}"})

    def _start_route(self, request: RecordedRequest, kind: str, publisher: str, offer: str) -> Response:
        # The go-live page sends no body (tests/reference/golive-202-location.json; azure-img-utils
        # 1.x posts none): one is checked only when given.
        emails = _notification_emails(request) if kind == "publish" or request.raw_body.strip() else None
        if kind == "publish" and (publisher, offer) not in self._offers:
            raise publish_not_found(offer)
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
        return self._accepted(operation, absolute=False)

    def _status(self, publisher: str, offer: str) -> Response:
        state = self._offer(publisher, offer)
        now = time.time()
        self._settle(state, now)
        latest = state.latest()
        if latest is None:
            return Response(200, {"status": "neverPublished", "messages": [], "steps": []})
        status = REVIEW if latest.waiting_for_review(now) else latest.status(now)
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

    def _list_offers(self, request: RecordedRequest, publisher: str) -> Response:
        wanted = None
        if "$filter" in request.query:
            match = _TYPE_FILTER.fullmatch(request.query["$filter"])
            if match is None:
                msg = f"Unsupported $filter {request.query['$filter']!r}: only offerTypeId eq '<offer type>' is."
                raise error(400, "BadRequest", msg)
            wanted = match["type"]
        now = time.time()
        summaries = []
        for (owner, _), state in self._offers.items():
            if owner != publisher:
                continue
            self._settle(state, now)
            summary = state.summary("published" if state.production else "neverPublished")
            if wanted is None or summary["offerTypeId"] == wanted:
                summaries.append(summary)
        return Response(200, summaries)

    def _offer_route(self, request: RecordedRequest, params: dict[str, str]) -> Response:
        publisher, offer = params["publisher"], params["offer"]
        if request.method == "PUT":
            return self._put_offer(request, publisher, offer)
        state = self._offers.get((publisher, offer))
        if state is None:
            raise offer_not_found(offer)
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
        state = self._offers.get((publisher, offer))
        if not condition and state is not None:  # the service's answer (devigned/pub#22)
            msg = (
                "Offer ID already exists. If you wanted to update an existing offer, please ensure If-Match header"
                " is specified as per documentation."
            )
            raise error(409, "InvalidResourceId", msg)
        if not condition:
            raise error(400, "MissingIfMatch", "The If-Match header is required (an ETag, or * to overwrite).")
        if not isinstance(request.body, dict):
            raise error(400, "InvalidRequestBody", "The body must be the offer as a JSON object.")
        if state is None:
            if condition != "*":
                raise error(412, "PreconditionFailed", f"Offer '{offer}' does not exist; use If-Match: *.")
            state = Offer(publisher, offer)
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
