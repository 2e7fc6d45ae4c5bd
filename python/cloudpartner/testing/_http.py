"""FakePortal's HTTP plumbing: a threaded HTTP/1.1 server.

It turns each request into a ``RecordedRequest``, asks a responder for the answer and writes it.
It knows nothing of the portal: ``_base.py`` holds the server base, ``_cpp.py`` and
``_ingestion.py`` the fake services, ``_portal.py`` the class.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


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
class Response:
    """An answer: ``body`` is JSON-encoded unless it is ``bytes`` (sent as is); None is empty."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Server(ThreadingHTTPServer):
    """The HTTP server; it tracks open connections so that stop() can close idle keep-alives."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        family: socket.AddressFamily,
        respond: Callable[[RecordedRequest], Response],
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.address_family = family  # read by the base class when it makes the socket
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
    server: Server

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
        if isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = b"" if response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        names = {name.lower() for name in response.headers}
        if "x-ms-request-id" not in names:
            self.send_header("x-ms-request-id", str(uuid.uuid4()))
        if "x-ms-client-request-id" in request.headers and "x-ms-client-request-id" not in names:
            self.send_header("x-ms-client-request-id", request.headers["x-ms-client-request-id"])
        if payload and "content-type" not in names:
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
