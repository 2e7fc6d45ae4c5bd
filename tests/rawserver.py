"""A raw-socket HTTP test server that sends scripted, possibly broken answers.

Used to prove that an HTTP client never hangs or crashes on misbehaving servers::

    with RawServer(reset(), response(503), response(200, body=b"{}")) as srv:
        ...  # point the client at srv.base_url

Each accepted connection is handled in its own daemon thread: the request is read
(with a deadline) and recorded, then the next scripted behaviour runs; the last
behaviour repeats once the script runs out. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http import HTTPStatus

_POLL = 0.1  # seconds between checks of the stop flag in blocking calls
_MAX_HEAD = 64 * 1024
# socket.timeout is TimeoutError on 3.10+, a distinct OSError subclass on 3.9
_TIMEOUTS = (socket.timeout, TimeoutError)


@dataclass(frozen=True)
class RawRequest:
    """One request as received: header names are lower-cased."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class Connection:
    """One accepted client socket, as handed to behaviours."""

    def __init__(self, sock: socket.socket, server: RawServer) -> None:
        self.sock = sock
        self._server = server
        self._buf = b""
        self._lock = threading.Lock()
        self._closed = False
        sock.settimeout(_POLL)
        try:  # send each dribbled byte at once; fails only if the peer already left
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    @property
    def stopping(self) -> bool:
        """True once the server is shutting down."""
        return self._server._stop.is_set()

    def wait(self, seconds: float | None = None) -> bool:
        """Sleep up to `seconds` (forever if None); return True if the server is stopping."""
        return self._server._stop.wait(seconds)

    def send(self, data: bytes) -> None:
        """Send all bytes; raise ConnectionAbortedError if the server stops first."""
        view = memoryview(data)
        while view:
            if self.stopping:
                raise ConnectionAbortedError("server stopping")
            try:
                view = view[self.sock.send(view) :]
            except _TIMEOUTS:
                continue

    def read_request(self, timeout: float | None = None) -> RawRequest | None:
        """Read and record the next request; None on EOF, timeout, stop or garbage.

        `timeout` (default: the server's `read_timeout`) bounds the wait for the whole request.
        """
        deadline = time.monotonic() + (self._server.read_timeout if timeout is None else timeout)
        try:
            head = self._read_until(b"\r\n\r\n", deadline)
            if head is None:
                return None
            line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _version = line.split(" ", 2)
            headers: dict[str, str] = {}
            for raw in lines:
                name, _, value = raw.partition(":")
                key, value = name.strip().lower(), value.strip()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            if "chunked" in headers.get("transfer-encoding", "").lower():
                body = self._read_chunked(deadline)
            else:
                body = self._read_exact(int(headers.get("content-length", "0")), deadline)
        except (OSError, ValueError):
            return None
        if body is None:
            return None
        request = RawRequest(method, target, headers, body)
        self._server._record(request)
        return request

    def abort(self) -> None:
        """Close with SO_LINGER 0, so the peer gets a TCP RST."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.sock.close()

    def close(self) -> None:
        """Close gracefully (FIN); safe to call from any thread, any number of times."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()

    def _recv(self, deadline: float) -> bytes:
        while True:
            left = deadline - time.monotonic()
            if self.stopping or left <= 0:
                raise TimeoutError("no data")
            try:  # wake at the deadline itself, not at the next stop-flag poll
                self.sock.settimeout(min(_POLL, left))
                return self.sock.recv(65536)
            except _TIMEOUTS:
                continue
            finally:
                self.sock.settimeout(_POLL)

    def _read_until(self, marker: bytes, deadline: float) -> bytes | None:
        while marker not in self._buf:
            if len(self._buf) > _MAX_HEAD:
                raise ValueError("header section too large")
            data = self._recv(deadline)
            if not data:
                return None
            self._buf += data
        found, _, self._buf = self._buf.partition(marker)
        return found

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        while len(self._buf) < n:
            data = self._recv(deadline)
            if not data:
                return None
            self._buf += data
        found, self._buf = self._buf[:n], self._buf[n:]
        return found

    def _read_chunked(self, deadline: float) -> bytes | None:
        body = b""
        while True:
            line = self._read_until(b"\r\n", deadline)
            if line is None:
                return None
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while line:  # skip trailers up to the empty line
                    line = self._read_until(b"\r\n", deadline)
                return body
            chunk = self._read_exact(size + 2, deadline)
            if chunk is None:
                return None
            body += chunk[:-2]


Behaviour = Callable[[Connection, RawRequest], None]


class RawServer:
    """Scripted HTTP server on 127.0.0.1 (free port), one behaviour per connection."""

    def __init__(self, *behaviours: Behaviour, read_timeout: float = 5.0) -> None:
        if not behaviours:
            raise ValueError("RawServer needs at least one behaviour")
        self.read_timeout = read_timeout
        self._behaviours = behaviours
        self._next = 0
        self._requests: list[RawRequest] = []
        self._connections = 0
        self._open: set[Connection] = set()
        self._threads: list[threading.Thread] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(_POLL)
        self.port: int = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, name="rawserver-accept", daemon=True)

    def __enter__(self) -> RawServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start accepting connections."""
        self._acceptor.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Close the listener and all client sockets; join threads (bounded by `timeout`)."""
        self._stop.set()
        self._listener.close()
        with self._cond:
            open_now = list(self._open)
            threads = [self._acceptor, *self._threads]
        for conn in open_now:
            conn.close()
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def requests(self) -> list[RawRequest]:
        """All requests received so far, in order."""
        with self._cond:
            return list(self._requests)

    @property
    def connections(self) -> int:
        """How many TCP connections were accepted."""
        with self._cond:
            return self._connections

    @property
    def active_connections(self) -> int:
        """How many connections are still being handled."""
        with self._cond:
            return len(self._open)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> None:
        """Block until at least `n` requests were recorded; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= n, timeout):
                raise AssertionError(f"expected {n} requests, got {len(self._requests)} within {timeout}s")

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until no connection is being handled; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._open, timeout):
                raise AssertionError(f"{len(self._open)} connections still active after {timeout}s")

    def _record(self, request: RawRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _addr = self._listener.accept()
            except _TIMEOUTS:
                continue
            except OSError:
                return  # listener closed by stop()
            conn = Connection(sock, self)
            thread = threading.Thread(target=self._serve, args=(conn,), name="rawserver-conn", daemon=True)
            with self._cond:
                self._connections += 1
                self._open.add(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn: Connection) -> None:
        try:
            request = conn.read_request()
            if request is not None:
                with self._cond:
                    behaviour = self._behaviours[min(self._next, len(self._behaviours) - 1)]
                    self._next += 1
                behaviour(conn, request)
        except OSError:
            pass  # the client went away, or stop() closed the socket
        finally:
            conn.close()
            with self._cond:
                self._open.discard(conn)
                self._cond.notify_all()


def http_response(
    status: int,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes = b"",
    reason: str | None = None,
    *,
    connection: str = "close",
) -> bytes:
    """Build a well-formed HTTP/1.1 answer; adds Content-Length and Connection unless given."""
    pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    names = {name.lower() for name, _ in pairs}
    if not names & {"content-length", "transfer-encoding"}:
        pairs.append(("Content-Length", str(len(body))))
    if "connection" not in names:
        pairs.append(("Connection", connection))
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in pairs)
    return (head + "\r\n").encode("latin-1") + body


def reply(raw: bytes) -> Behaviour:
    """Send `raw` as is, then close."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.send(raw)

    return run


def reply_keepalive(raw: bytes) -> Behaviour:
    """Send `raw` for this and every further request on the connection until the client closes."""

    def run(conn: Connection, request: RawRequest) -> None:
        while True:
            conn.send(raw)
            if conn.read_request() is None:
                return

    return run


def keepalive_closing_idle(answer: Callable[[RawRequest], bytes], idle: float) -> Behaviour:
    """Answer every request on the connection with `answer(request)` (keep-alive), and close the
    connection (FIN) once no new request arrives within `idle` seconds, as load balancers do."""

    def run(conn: Connection, request: RawRequest) -> None:
        while request is not None:
            conn.send(answer(request))
            request = conn.read_request(timeout=idle)

    return run


def keepalive_then_reset(answer: bytes) -> Behaviour:
    """Answer the first request (keep-alive); read the next one whole, then reset (TCP RST)."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.send(answer)
        if conn.read_request() is not None:
            conn.abort()

    return run


def response(
    status: int,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    body: bytes = b"",
    reason: str | None = None,
) -> Behaviour:
    """Send a well-formed answer (Content-Length, `Connection: close` by default), then close."""
    return reply(http_response(status, headers, body, reason))


def reset() -> Behaviour:
    """Answer nothing: close with a TCP RST right after reading the request."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.abort()

    return run


def reset_after(raw: bytes) -> Behaviour:
    """Send `raw` (e.g. half the headers), then a TCP RST."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.send(raw)
        conn.abort()

    return run


def hang() -> Behaviour:
    """Never answer; hold the connection open until the server stops."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.wait()

    return run


def dribble(raw: bytes, interval: float) -> Behaviour:
    """Send `raw` one byte every `interval` seconds, then close."""

    def run(conn: Connection, request: RawRequest) -> None:
        for i in range(len(raw)):
            conn.send(raw[i : i + 1])
            if conn.wait(interval):
                return

    return run


def truncated(status: int, declared_length: int, body: bytes) -> Behaviour:
    """Declare Content-Length `declared_length` but send only `body`, then close."""
    head = http_response(
        status,
        {"Content-Length": str(declared_length), "Content-Type": "application/json"},
    )
    return reply(head + body)


def _json_filler(size: int, chunk: int) -> Iterator[bytes]:
    """Yield exactly `size` bytes of `{"x":"xxx…"}` in pieces of at most `chunk` bytes."""
    if size < 8:
        prefix, suffix, fill = b"", b"", size
    else:
        prefix, suffix, fill = b'{"x":"', b'"}', size - 8
    yield prefix
    block = b"x" * chunk
    while fill > 0:
        yield block[: min(chunk, fill)]
        fill -= chunk
    yield suffix


def huge_body(status: int, size: int, chunk: int = 65536) -> Behaviour:
    """Stream a valid `size`-byte JSON body in `chunk`-sized pieces, generated on the fly."""

    def run(conn: Connection, request: RawRequest) -> None:
        conn.send(
            http_response(
                status,
                {"Content-Type": "application/json", "Content-Length": str(size)},
            )
        )
        for piece in _json_filler(size, chunk):
            conn.send(piece)

    return run


def chunked_broken(status: int) -> Behaviour:
    """Send `Transfer-Encoding: chunked` with an invalid chunk-size line, then close."""
    head = http_response(status, {"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    return reply(head + b"zz\r\n{}\r\n0\r\n\r\n")


def refused_port() -> int:
    """Return a port on 127.0.0.1 with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
