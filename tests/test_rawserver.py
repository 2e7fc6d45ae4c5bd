"""Tests of the scripted raw-socket test server, using only stdlib clients."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable

import pytest
from rawserver import (
    RawServer,
    chunked_broken,
    dribble,
    hang,
    http_response,
    huge_body,
    refused_port,
    reply,
    reply_keepalive,
    reset,
    reset_after,
    response,
    truncated,
)

TIMEOUT = 3.0
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(srv: RawServer, timeout: float = TIMEOUT) -> http.client.HTTPConnection:
    """An http.client connection to `srv`."""
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout)


def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def raw_exchange(srv: RawServer, request: bytes = GET) -> tuple[bytes, BaseException | None]:
    """Send `request` on a raw socket; return everything read until EOF, and the error that ended it."""
    received = b""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        try:
            while data := sock.recv(65536):
                received += data
        except OSError as exc:
            return received, exc
    return received, None


def test_response_and_request_recording() -> None:
    with RawServer(response(503, {"Retry-After": "1"}, b'{"e":1}')) as srv:
        assert srv.base_url == f"http://127.0.0.1:{srv.port}"
        conn = connect(srv)
        conn.request("POST", "/a/b?x=1&y=2", body=b"hello", headers={"X-Custom": "V"})
        resp = conn.getresponse()
        assert (resp.status, resp.reason) == (503, "Service Unavailable")
        assert resp.getheader("Retry-After") == "1"
        assert resp.getheader("Connection") == "close"
        assert resp.read() == b'{"e":1}'
        conn.close()
        srv.wait_for_requests(1)
        (req,) = srv.requests
        assert (req.method, req.target, req.body) == ("POST", "/a/b?x=1&y=2", b"hello")
        assert req.headers["x-custom"] == "V"
        assert req.headers["content-length"] == "5"
        srv.requests.clear()  # a copy: the server's record is untouched
        assert len(srv.requests) == 1


def test_response_header_list_reason_and_connection() -> None:
    headers = [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Connection", "keep-alive"),
    ]
    with RawServer(response(299, headers, b"ok", reason="Fine")) as srv:
        raw, err = raw_exchange(srv)
    assert err is None
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 299 Fine"
    assert lines[1:3] == [b"Set-Cookie: a=1", b"Set-Cookie: b=2"]
    assert b"Connection: keep-alive" in lines and b"Connection: close" not in lines
    assert b"Content-Length: 2" in lines and body == b"ok"


def test_chunked_request_body_is_decoded() -> None:
    with RawServer(response(200)) as srv:
        conn = connect(srv)
        conn.request("PUT", "/up", body=iter([b"ab", b"cde"]), encode_chunked=True)
        assert conn.getresponse().status == 200
        conn.close()
        srv.wait_for_requests(1)
        assert srv.requests[0].body == b"abcde"


def test_script_advances_per_connection_and_last_repeats() -> None:
    with RawServer(response(500), response(429), response(200)) as srv:
        statuses = []
        for _ in range(5):
            conn = connect(srv)
            conn.request("GET", "/")
            statuses.append(conn.getresponse().status)
            conn.close()
        assert statuses == [500, 429, 200, 200, 200]
        assert srv.connections == 5


def test_reply_sends_bytes_verbatim_then_closes() -> None:
    raw = b"HTTP/1.0 200 OK\r\nX: y\r\n\r\nno length here"
    with RawServer(reply(raw)) as srv:
        assert raw_exchange(srv) == (raw, None)


def test_reply_keepalive_serves_many_requests_on_one_connection() -> None:
    answer = http_response(200, {"Content-Type": "text/plain"}, b"pong", connection="keep-alive")
    with RawServer(reply_keepalive(answer)) as srv:
        conn = connect(srv)
        for i in range(3):
            conn.request("POST", f"/ping/{i}", body=b"x" * i)
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"pong")
        conn.close()
        srv.wait_for_requests(3)
        assert srv.connections == 1
        assert [r.target for r in srv.requests] == ["/ping/0", "/ping/1", "/ping/2"]
        assert [r.body for r in srv.requests] == [b"", b"x", b"xx"]
        srv.wait_idle()


def test_reset_sends_rst_without_answer() -> None:
    with RawServer(reset()) as srv:
        received, err = raw_exchange(srv)
        assert received == b""
        assert err is None or isinstance(err, ConnectionResetError)
        conn = connect(srv)
        conn.request("GET", "/")
        with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
            conn.getresponse()
        conn.close()


def test_reset_after_partial_headers() -> None:
    partial = b"HTTP/1.1 200 OK\r\nContent-Ty"
    with RawServer(reset_after(partial)) as srv:
        received, err = raw_exchange(srv)
        assert partial.startswith(received)
        assert err is None or isinstance(err, ConnectionResetError)
        conn = connect(srv)
        conn.request("GET", "/")
        with pytest.raises((ConnectionResetError, http.client.HTTPException)):
            conn.getresponse().read()
        conn.close()


def test_hang_times_out_client_and_stop_is_prompt() -> None:
    srv = RawServer(hang(), response(200)).__enter__()
    try:
        stuck = connect(srv, timeout=0.3)
        stuck.request("GET", "/slow")
        with pytest.raises(socket.timeout):
            stuck.getresponse()
        # a hanging connection does not block others
        other = connect(srv)
        other.request("GET", "/fast")
        assert other.getresponse().status == 200
        other.close()
        eventually(lambda: srv.active_connections == 1)
    finally:
        started = time.monotonic()
        srv.__exit__(None, None, None)
        assert time.monotonic() - started < 2.0
    assert srv.active_connections == 0
    stuck.close()


def test_dribble_sends_one_byte_per_interval() -> None:
    raw = b"HTTP/1.1 204 No Content\r\n\r\n"[:10]
    with RawServer(dribble(raw, 0.05)) as srv:
        sock = socket.create_connection(("127.0.0.1", srv.port), TIMEOUT)
        sock.sendall(GET)
        started = time.monotonic()
        first = sock.recv(100)
        pieces = [first]
        while data := sock.recv(100):
            pieces.append(data)
        elapsed = time.monotonic() - started
        sock.close()
    assert b"".join(pieces) == raw
    assert len(first) == 1 and len(pieces) >= 5
    assert elapsed >= 0.4


def test_dribble_stops_when_client_leaves_or_server_stops() -> None:
    srv = RawServer(dribble(b"x" * 1000, 0.02)).__enter__()
    try:
        with socket.create_connection(("127.0.0.1", srv.port), TIMEOUT) as sock:
            sock.sendall(GET)
            assert sock.recv(1) == b"x"
        # the behaviour ends within a few intervals of the client leaving
        srv.wait_idle(timeout=TIMEOUT)
        slow = socket.create_connection(("127.0.0.1", srv.port), TIMEOUT)
        slow.sendall(GET)
        assert slow.recv(1) == b"x"
    finally:
        started = time.monotonic()
        srv.__exit__(None, None, None)
        assert time.monotonic() - started < 2.0
    slow.close()


def test_truncated_body_gives_incomplete_read() -> None:
    with RawServer(truncated(200, 100, b'{"partial":')) as srv:
        conn = connect(srv)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.getheader("Content-Length") == "100"
        with pytest.raises(http.client.IncompleteRead) as info:
            resp.read()
        assert info.value.partial == b'{"partial":'
        conn.close()


def test_huge_body_streams_and_stops_when_client_closes() -> None:
    size = 50 * 1024 * 1024
    with RawServer(huge_body(200, size)) as srv:
        conn = connect(srv)
        conn.request("GET", "/big")
        resp = conn.getresponse()
        assert resp.getheader("Content-Length") == str(size)
        prefix = resp.read(1024 * 1024)
        assert prefix.startswith(b'{"x":"xxxx') and len(prefix) == 1024 * 1024
        conn.close()
        resp.close()
        srv.wait_idle(timeout=TIMEOUT)


@pytest.mark.parametrize("size", [0, 5, 8, 1000, 70_001])
def test_huge_body_exact_length_and_json(size: int) -> None:
    with RawServer(huge_body(201, size, chunk=4096)) as srv:
        conn = connect(srv)
        conn.request("GET", "/")
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
    assert resp.status == 201 and len(body) == size
    if size >= 8:
        assert json.loads(body) == {"x": "x" * (size - 8)}


def test_chunked_broken_fails_to_parse() -> None:
    with RawServer(chunked_broken(200)) as srv:
        conn = connect(srv)
        conn.request("GET", "/")
        resp = conn.getresponse()
        assert resp.getheader("Transfer-Encoding") == "chunked"
        with pytest.raises(http.client.HTTPException):
            resp.read()
        conn.close()


def test_refused_port_refuses() -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", refused_port()), TIMEOUT).close()


def test_wait_for_requests_times_out_and_stop_with_idle_clients() -> None:
    srv = RawServer(response(200), read_timeout=30.0).__enter__()
    try:
        # a client that connects but never sends a request
        idle = socket.create_connection(("127.0.0.1", srv.port), TIMEOUT)
        started = time.monotonic()
        with pytest.raises(AssertionError, match="expected 1 requests"):
            srv.wait_for_requests(1, timeout=0.2)
        assert time.monotonic() - started < 1.0
    finally:
        started = time.monotonic()
        srv.__exit__(None, None, None)
        assert time.monotonic() - started < 2.0
    assert idle.recv(10) == b""  # stop() closed the server side
    idle.close()
    assert srv.connections == 1 and srv.requests == []


def test_no_behaviour_is_an_error() -> None:
    with pytest.raises(ValueError):
        RawServer()
