"""FakePortal: an offline Cloud Partner Portal for testing scripts without the network.

A real HTTP/1.1 server on 127.0.0.1 that answers the cancel, operation and submissions routes
of the Cloud Partner Portal API (api-version 2017-10-31) as the real service does::

    from cloudpartner.testing import FakePortal

    with FakePortal(cancel_seconds=0.2) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer")
        my_script(base_url=portal.base_url, token="any-token")
        assert portal.requests[-1].method == "POST"
        assert portal.operations("contoso", "contoso-virtualmachineoffer")[0]["status"] == "canceled"

Every request is checked in this order, and the first failing check decides the answer:

1. a failure queued with :meth:`FakePortal.fail_next` (any route);
2. ``api-version`` must be exactly ``2017-10-31``, else 400 ``InvalidAPIVersion``;
3. ``Authorization: Bearer <token>`` must name an accepted token, else 401 ``Unauthorized``;
4. the route must exist (else 404 ``NotFound``) and accept the method (else 405 with ``Allow``);
5. the token must see the publisher, else 403 ``Forbidden``;
6. the cancel body must be valid, else 400 ``InvalidRequestBody``;
7. the offer or operation must exist, else 404 ``NotFound``.

Cancelling an offer with no operation running answers 409 ``NoOperationInProgress``: the real
service's answer for that case is undocumented, so this is this simulator's choice.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

API_VERSION = "2017-10-31"
LOCATION_STYLES = ("absolute", "relative", "non-migrated")
_STEP_NAMES = ("ValidateAssets", "Certification", "ProvisionResources", "PackageAndUpload")
_BIG = 2**53  # operation versions are odd numbers above this: no double holds them exactly
_OFFER = r"/api/publishers/(?P<publisher>[^/]+)/offers/(?P<offer>[^/]+)"
_ROUTES = (  # (name, allowed method, path pattern)
    ("cancel", "POST", re.compile(_OFFER + "/cancel")),
    ("operation", "GET", re.compile(_OFFER + "/operations/(?P<operation>[^/]+)")),
    ("operation", "GET", re.compile("/api/operations/(?P<operation>[^/]+)")),
    ("submissions", "GET", re.compile(_OFFER + "/submissions")),
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the portal received it (rejected ones included).

    ``path`` is the path as sent, without the query and not percent-decoded; ``query`` keeps the
    last value of each name; header names are lower-cased; ``body`` is the parsed JSON body, or
    None when the body is empty or not JSON (``raw_body`` always holds the bytes).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body: bytes


@dataclass
class _Response:
    status: int
    body: Any = None  # None: empty body
    headers: dict[str, str] = field(default_factory=dict)


class _HttpError(Exception):
    """Raised by a check to answer with ``response`` at once."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> _HttpError:
    return _HttpError(_Response(status, {"error": {"code": code, "message": message}}, headers or {}))


def _timestamp(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2018-09-13T22:12:29.123Z``."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 1000):03d}Z"


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _names(value: str | Iterable[str]) -> frozenset[str]:
    return frozenset([value]) if isinstance(value, str) else frozenset(value)


@dataclass
class _Operation:
    """A publish operation; its status is computed from timestamps, so no timer is needed."""

    id: str
    publisher: str
    offer: str
    number: int
    created: float
    cancel_requested: float | None = None
    cancel_done: float | None = None
    emails: str | None = None

    def canceled(self, now: float) -> bool:
        return self.cancel_done is not None and now >= self.cancel_done

    def _progress(self, now: float) -> int:
        """Certification progress: 40 %, then advancing towards 99 % while the cancel runs."""
        start, end = self.cancel_requested, self.cancel_done
        if start is None or end is None or end <= start:
            return 40
        return 40 + int(59 * min(1.0, (now - start) / (end - start)))

    def to_json(self, now: float) -> dict[str, Any]:
        canceled = self.canceled(now)
        last = self.created if self.cancel_requested is None else self.cancel_requested
        if canceled and self.cancel_done is not None:
            last = self.cancel_done
        rest = "canceled" if canceled else "notStarted"
        current = ("canceled" if canceled else "inProgress", self._progress(now))
        steps = [("complete", 100), current, (rest, 0), (rest, 0)]
        return {
            "id": self.id,
            "submissionType": "Publish",
            "createdDateTime": _timestamp(self.created),
            "lastActionDateTime": _timestamp(last),
            "status": "canceled" if canceled else "running",
            "publisherId": self.publisher,
            "offerId": self.offer,
            "offerVersion": self.number,
            "version": _BIG + 2 * self.number - 1,
            "slot": "preview",
            "cancellationRequestState": None if self.cancel_requested is None else "Requested",
            "notificationEmails": self.emails,
            "messages": [],
            "steps": [
                {"stepName": name, "status": status, "progressPercentage": progress, "messages": []}
                for name, (status, progress) in zip(_STEP_NAMES, steps)
            ],
        }


class FakePortal:
    """An offline Cloud Partner Portal: a local HTTP server with offers and operations.

    ``tokens``: None accepts any non-empty bearer token; an iterable of tokens accepts exactly
    those; a mapping ``token -> publishers`` also limits what each token sees (others: 403).
    ``location_style`` picks the 202 cancel answer's header: ``"absolute"`` (``Operation-Location``,
    full URL), ``"relative"`` (``Location``, path) or ``"non-migrated"`` (``Location:
    /api/operations/{p}${o}${n}$preview``). ``sync_cancel=True`` cancels at once and answers 200;
    otherwise a cancel answers 202 and the operation is ``canceled`` ``cancel_seconds`` later.
    Operation ``version`` numbers are odd integers above 2**53, which no double holds: a client
    that reads JSON numbers as floats gets them wrong. A single string passed as ``tokens`` (or as
    a mapping value) counts as one name. All methods are thread-safe; state (offers, operations,
    requests) survives stop() and start(). ``ssl_context`` (a server-side ``ssl.SSLContext``)
    serves https instead of http, for testing certificate handling.
    """

    def __init__(
        self,
        *,
        tokens: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
        location_style: str = "absolute",
        sync_cancel: bool = False,
        cancel_seconds: float = 2.0,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
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
        self._address = (host, port)
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._offers: dict[tuple[str, str], list[_Operation]] = {}
        self._operations: dict[str, _Operation] = {}
        self._requests: list[RecordedRequest] = []
        self._failures: list[tuple[int, str | None]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakePortal:
        """Start serving in a background thread (no-op when already started); return self."""
        with self._lock:
            if self._server is None:
                server = _Server(self._address, self._handle, self._ssl_context)
                scheme = "https" if self._ssl_context else "http"
                self._base_url = f"{scheme}://{self._address[0]}:{server.server_port}"
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.01},  # stop() waits up to this long
                    name=f"FakePortal {self._base_url}",
                    daemon=True,
                )
                thread.start()
                self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join the threads; a no-op when stopped."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        handlers = server.close_connections()
        server.server_close()
        thread.join()
        for handler in handlers:
            handler.join(timeout=5)

    def __enter__(self) -> FakePortal:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to send requests to, e.g. ``http://127.0.0.1:54321`` (RuntimeError before start)."""
        if self._base_url is None:
            msg = "FakePortal has not been started"
            raise RuntimeError(msg)
        return self._base_url

    # -- setup and assertions -------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def add_offer(self, publisher: str, offer: str, running: bool = True) -> None:
        """Create the offer if needed; with ``running``, start an operation unless one runs."""
        for name in (publisher, offer):
            if not name or "/" in name:
                msg = f"invalid publisher or offer name: {name!r}"
                raise ValueError(msg)
        with self._lock:
            operations = self._offers.setdefault((publisher, offer), [])
            now = time.time()
            if running and all(op.canceled(now) for op in operations):
                number = len(operations) + 1
                non_migrated = self._style == "non-migrated"
                op_id = f"{publisher}${offer}${number}$preview" if non_migrated else str(uuid.uuid4())
                operation = _Operation(op_id, publisher, offer, number, now)
                operations.append(operation)
                self._operations[op_id] = operation

    def fail_next(self, count: int, status: int = 503, retry_after: float | str | None = None) -> None:
        """Answer the next ``count`` requests (any route) with ``status`` and an error body.

        ``retry_after``, when given, is sent as ``Retry-After``: a string as is, a number in
        seconds (``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"``). Calls add up.
        """
        if count < 0 or not 400 <= status <= 599:
            msg = f"need count >= 0 and 400 <= status <= 599, got count={count!r}, status={status!r}"
            raise ValueError(msg)
        text = None if retry_after is None else _retry_after_text(retry_after)
        with self._lock:
            self._failures.extend([(status, text)] * count)

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        """Return the offer's operation objects as GET answers them, newest first (KeyError if none)."""
        with self._lock:
            now = time.time()
            return [op.to_json(now) for op in reversed(self._offers[(publisher, offer)])]

    # -- request handling (called by the server threads) -----------------------------------------

    def _handle(self, request: RecordedRequest) -> _Response:
        with self._lock:
            self._requests.append(request)
            try:
                return self._route(request)
            except _HttpError as error:
                return error.response
            except Exception as exc:
                return _Response(500, {"error": {"code": "InternalServerError", "message": repr(exc)}})

    def _route(self, request: RecordedRequest) -> _Response:
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            raise _error(status, _status_code(status), "Injected failure (FakePortal.fail_next).", headers)
        if request.query.get("api-version") != API_VERSION:
            raise _error(400, "InvalidAPIVersion", f"Invalid api version. Allowed values are [{API_VERSION}]")
        token = self._authorize(request.headers.get("authorization", ""))
        name, params = _match_route(request)
        operation = self._operations.get(params.get("operation", ""))
        publisher = params.get("publisher") or (operation.publisher if operation else None)
        if publisher is not None and not self._sees(token, publisher):
            raise _error(403, "Forbidden", f"The identity does not have access to publisher '{publisher}'.")
        if name == "cancel":
            return self._cancel(request, params["publisher"], params["offer"])
        if name == "submissions":
            return self._submissions(request, params["publisher"], params["offer"])
        if "offer" in params:  # the operation must belong to the offer in the path
            self._offer(params["publisher"], params["offer"])
            if operation is not None and (operation.publisher, operation.offer) != (publisher, params["offer"]):
                operation = None
        if operation is None:
            raise _error(404, "NotFound", f"Operation '{params['operation']}' was not found.")
        return _Response(200, operation.to_json(time.time()))

    def _authorize(self, header: str) -> str:
        challenge = {"WWW-Authenticate": "Bearer"}
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _error(401, "Unauthorized", "A 'Bearer' access token is required.", challenge)
        if self._tokens is not None and token not in self._tokens:
            raise _error(401, "Unauthorized", "The access token is invalid or has expired.", challenge)
        return token

    def _sees(self, token: str, publisher: str) -> bool:
        seen = None if self._tokens is None else self._tokens[token]
        return seen is None or publisher in seen

    def _offer(self, publisher: str, offer: str) -> list[_Operation]:
        operations = self._offers.get((publisher, offer))
        if operations is None:
            raise _error(404, "NotFound", f"Offer '{publisher}/{offer}' was not found.")
        return operations

    def _cancel(self, request: RecordedRequest, publisher: str, offer: str) -> _Response:
        emails = _notification_emails(request)
        now = time.time()
        running = [op for op in self._offer(publisher, offer) if not op.canceled(now)]
        if not running:
            msg = f"There is no operation in progress on offer '{offer}' to cancel."
            raise _error(409, "NoOperationInProgress", msg)
        operation = running[-1]
        if operation.cancel_requested is None:
            operation.cancel_requested = now
            operation.cancel_done = now if self._sync_cancel else now + self._cancel_seconds
            operation.emails = emails
        if self._sync_cancel:
            return _Response(200)
        path = f"/api/publishers/{quote(publisher, safe='')}/offers/{quote(offer, safe='')}/operations/{operation.id}"
        if self._style == "absolute":
            return _Response(202, headers={"Operation-Location": self.base_url + path})
        if self._style == "non-migrated":
            path = f"/api/operations/{quote(operation.id, safe='$')}"
        return _Response(202, headers={"Location": f"{path}?api-version={API_VERSION}"})

    def _submissions(self, request: RecordedRequest, publisher: str, offer: str) -> _Response:
        now = time.time()
        wanted = request.query.get("status", "").lower()
        found = [op.to_json(now) for op in reversed(self._offer(publisher, offer))]
        return _Response(200, [op for op in found if not wanted or op["status"].lower() == wanted])


def _notification_emails(request: RecordedRequest) -> str | None:
    """Validate a cancel body; return its ``notification-emails`` (None when absent)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _error(400, "InvalidRequestBody", "Content-Type must be application/json.")
    body = request.body
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        raise _error(400, "InvalidRequestBody", "The body must be a JSON object with a 'metadata' object.")
    metadata: dict[str, Any] = body["metadata"]
    emails = metadata.get("notification-emails")
    if "notification-emails" in metadata and not isinstance(emails, str):
        msg = "'notification-emails' must be a string of comma-separated addresses."
        raise _error(400, "InvalidRequestBody", msg)
    return emails


def _match_route(request: RecordedRequest) -> tuple[str, dict[str, str]]:
    """Return the route name and its percent-decoded path parameters (404 or 405 otherwise)."""
    for name, method, pattern in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        if request.method != method:
            raise _error(405, "MethodNotAllowed", f"{request.method} is not allowed here.", {"Allow": method})
        return name, {key: unquote(value) for key, value in match.groupdict().items()}
    raise _error(404, "NotFound", f"No route for {request.method} {request.path}.")


def _status_code(status: int) -> str:
    """Name an injected status as an error code, e.g. 503 -> "ServiceUnavailable"."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return "Error"


class _Server(ThreadingHTTPServer):
    """The HTTP server; it tracks open connections so that stop() can close idle keep-alives."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        respond: Callable[[RecordedRequest], _Response],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.respond = respond
        self._ssl_context = ssl_context
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._closing = False
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            if self._closing:
                _shutdown(connection)
            else:
                self._connections[connection] = threading.current_thread()

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.pop(connection, None)

    def close_connections(self) -> list[threading.Thread]:
        with self._connections_lock:
            self._closing = True
            connections, self._connections = self._connections, {}
        for connection in connections:
            _shutdown(connection)
        return list(connections.values())

    def finish_request(self, request: Any, client_address: Any) -> None:
        """With TLS, shake hands here, in the connection's own thread, not in the accept loop."""
        if self._ssl_context is not None:
            request.settimeout(5)
            try:
                request = self._ssl_context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()  # a client that refused our certificate: nothing to serve
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a dropped connection is not news
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _shutdown(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Turns each HTTP request into a RecordedRequest and writes the portal's answer."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers, body: no delay
        threading.current_thread().name = "FakePortal connection"
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: tests read the recorded requests instead."""

    def _dispatch(self) -> None:
        raw = self._read_body()
        url = urlsplit(self.path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        request = RecordedRequest(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
            raw_body=raw,
        )
        response = self.server.respond(request)
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        if "x-ms-client-request-id" in request.headers:
            self.send_header("x-ms-client-request-id", request.headers["x-ms-client-request-id"])
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self) -> bytes:
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:  # a body we cannot frame: answer, then drop the connection
            self.close_connection = True
            return b""
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                break
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)
