"""The fake server base: what every fake service shares, whatever API it answers.

``FakeServer`` starts and stops the HTTP server (``_http.py``), optionally over TLS, keeps the
request log, queues the failures ``fail_next`` injects, and hands each request to the service
model that owns its path (``_cpp.py``: the Cloud Partner Portal API; ``_ingestion.py``: the
Product Ingestion API) or, for a portal made from a recording, to the recording (``_replay.py``).
``Tokens`` is the accepted-token check the services share. No service logic lives here.
"""

from __future__ import annotations

import ipaddress
import math
import numbers
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional, Protocol, TypeVar, Union

from ._http import RecordedRequest, Response, Server
from ._replay import Recording

TokenSpec = Optional[Union[Iterable[str], Mapping[str, Iterable[str]]]]
_Self = TypeVar("_Self", bound="FakeServer")


class HttpError(Exception):
    """Raised by a check to answer with ``response`` at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def timestamp(seconds: float) -> str:
    """ISO 8601 UTC with seven fraction digits, as the Microsoft services write them."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{whole}.{int(seconds % 1 * 10**7):07d}Z"


def seconds(name: str, value: float) -> float:
    """Check a duration setting: a real number of seconds, finite and >= 0 (else an error naming it)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"{name} must be a number of seconds, not {value!r}"
        raise TypeError(msg)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not (math.isfinite(number) and number >= 0):
        msg = f"{name} must be a finite number of seconds >= 0, not {value!r}"
        raise ValueError(msg)
    return number


def whole(name: str, value: int, lowest: int, highest: int | None = None) -> int:
    """Check a count setting: an int from ``lowest`` (to ``highest``), else an error naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        msg = f"{name} must be an int, not {value!r}"
        raise TypeError(msg)
    if value < lowest or (highest is not None and value > highest):
        bounds = f">= {lowest}" if highest is None else f"from {lowest} to {highest}"
        msg = f"{name} must be {bounds}, not {value!r}"
        raise ValueError(msg)
    return int(value)


def listening(host: str, tls: bool) -> tuple[str, socket.AddressFamily, str]:
    """Return where to listen for ``host``, its address family, and the host the base URL names.

    Every address (``0.0.0.0`` or ``""``; ``::``) is reached through loopback (127.0.0.1; [::1]).
    The client sends a token over plain http only to a loopback host (127.0.0.0/8, ::1,
    localhost, as ``cloudpartner._core.is_loopback_url``), so without ``tls`` another host, whose
    base URL the client would refuse, is refused here.
    """
    if not isinstance(host, str):
        msg = f"host must be a str, not {host!r}"
        raise TypeError(msg)
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        address = ipaddress.ip_address(bare or "0.0.0.0")
    except ValueError:
        address = None  # a host name
    if address is None:
        loopback, url_host = host.lower() == "localhost", host
    elif address.is_unspecified:
        loopback, url_host = True, "127.0.0.1" if address.version == 4 else "[::1]"
    else:
        loopback, url_host = address.is_loopback, str(address) if address.version == 4 else f"[{address}]"
    if not (loopback or tls):
        msg = (
            f"host {host!r} is not a loopback address: a client sends its token over plain http only to loopback; "
            "listen on 127.0.0.1 or ::1, on every address with 0.0.0.0 or :: (base_url then names loopback), "
            "or pass ssl_context to serve https"
        )
        raise ValueError(msg)
    family = socket.AF_INET6 if address is not None and address.version == 6 else socket.AF_INET
    return bare, family, url_host


def names(value: str | Iterable[str]) -> frozenset[str]:
    """Make a set of names; a single string counts as one name, not as its characters."""
    return frozenset([value]) if isinstance(value, str) else frozenset(value)


def bearer(header: str) -> str | None:
    """Return the token of an ``Authorization: Bearer <token>`` header (None when absent or malformed)."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class Tokens:
    """Which bearer tokens a service accepts, and which publishers each one sees.

    None accepts any non-empty token (seeing every publisher); an iterable accepts exactly those;
    a mapping ``token -> publishers`` also limits what each token sees.
    """

    def __init__(self, spec: TokenSpec) -> None:
        self._tokens: dict[str, frozenset[str] | None] | None = None
        self._issued: set[str] = set()
        if isinstance(spec, Mapping):
            self._tokens = {token: names(seen) for token, seen in spec.items()}
        elif spec is not None:
            self._tokens = dict.fromkeys(names(spec))

    def accepts(self, token: str) -> bool:
        return self._tokens is None or token in self._tokens or token in self._issued

    def issue(self, token: str) -> None:
        """Accept ``token`` too, seeing every publisher (one the portal's token endpoint issues)."""
        self._issued.add(token)

    def named(self, token: str) -> frozenset[str]:
        """Return the publishers a mapping names for ``token`` (empty when it names none)."""
        return (self._tokens or {}).get(token) or frozenset()

    def sees(self, token: str, publisher: str | None) -> bool:
        """Tell whether ``token`` (accepted) sees ``publisher``; None (no publisher) is seen by all."""
        seen = None if self._tokens is None or token in self._issued else self._tokens.get(token)
        return seen is None or publisher is None or publisher in seen


@dataclass(frozen=True)
class Failure:
    """One failure queued by ``fail_next``; ``service`` and ``route`` None match any request."""

    status: int
    retry_after: str | None
    service: str | None = None
    route: str | None = None

    def matches(self, service: str, route: str | None) -> bool:
        return self.service in (None, service) and self.route in (None, route)


class Model(Protocol):
    """A fake service: it owns some paths and answers requests to them."""

    @property
    def name(self) -> str:
        """Name the service, as ``fail_next(service=...)`` does: ``"cpp"``, ``"ingestion"``."""

    @property
    def routes(self) -> Sequence[str]:
        """List the route names ``fail_next(route=...)`` accepts."""

    def owns(self, path: str) -> bool:
        """Tell whether requests to ``path`` are this service's."""

    def route_name(self, request: RecordedRequest) -> str | None:
        """Name the route the request is for (None when no route matches)."""

    def handle(self, request: RecordedRequest) -> Response:
        """Answer a request (never raises)."""

    def injected(self, failure: Failure) -> Response:
        """Answer a request that ``fail_next`` failed, in this service's error shape."""


class FakeServer:
    """A local HTTP server answering with one of several service models; thread-safe.

    Subclasses set ``self._models`` (the last one is the fallback for paths no other owns).
    State (requests, queued failures, the models' stores) survives stop() and start().
    """

    def __init__(self, *, host: str, port: int, ssl_context: ssl.SSLContext | None) -> None:
        bind, self._family, self._url_host = listening(host, tls=ssl_context is not None)
        self._address = (bind, whole("port", port, 0, 65535))
        self._ssl_context = ssl_context
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._failures: list[Failure] = []
        self._models: list[Model] = []
        self._respond: Callable[[RecordedRequest], Response] = self._dispatch
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    def _replay(self, path: str | os.PathLike[str]) -> None:
        """Answer from a recording instead of the models."""
        self._respond = Recording(path, lambda: self.base_url).handle

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self: _Self) -> _Self:
        """Start serving in a background thread (no-op when already started); return self."""
        with self._lock:
            if self._server is None:
                server = Server(self._address, self._family, self._handle, self._ssl_context)
                scheme = "https" if self._ssl_context else "http"
                self._base_url = f"{scheme}://{self._url_host}:{server.server_port}"
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

    def __enter__(self: _Self) -> _Self:
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

    # -- the request log and injected failures --------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    def fail_next(
        self,
        count: int,
        status: int = 503,
        retry_after: float | str | None = None,
        *,
        service: str | None = None,
        route: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` and an error body in the service's shape.

        ``retry_after``, when given, is sent as ``Retry-After``: a string as is, a number in
        seconds, finite and >= 0 (``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"``). Calls add up, in order. ``service``
        (``"cpp"`` or ``"ingestion"``) and ``route`` (a route name, e.g. ``"job-status"``; see
        the services' ``ROUTES``) limit which requests fail; the others pass untouched.
        """
        whole("count", count, 0)
        whole("status", status, 400, 599)
        known = {model.name: model for model in self._models}
        if service is not None and service not in known:
            msg = f"service must be one of {sorted(known)}, not {service!r}"
            raise ValueError(msg)
        if route is not None:
            candidates = [known[service]] if service is not None else list(known.values())
            if not any(route in model.routes for model in candidates):
                every = sorted({name for model in candidates for name in model.routes})
                msg = f"route must be one of {every}, not {route!r}"
                raise ValueError(msg)
        text = None if retry_after is None else _retry_after_text(retry_after)
        with self._lock:
            self._failures.extend([Failure(status, text, service, route)] * count)

    # -- request handling (called by the server threads) -----------------------------------------

    def _handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self._requests.append(request)
            return self._respond(request)

    def _dispatch(self, request: RecordedRequest) -> Response:
        model = next((m for m in self._models if m.owns(request.path)), self._models[-1])
        if self._failures:
            route = model.route_name(request)
            for index, failure in enumerate(self._failures):
                if failure.matches(model.name, route):
                    del self._failures[index]
                    return model.injected(failure)
        return model.handle(request)


def _retry_after_text(value: float | str) -> str:
    if isinstance(value, str):
        return value  # as is: a test may want a malformed one
    number = seconds("retry_after", value)
    return str(int(number)) if number.is_integer() else repr(number)
