"""Route ``requests`` traffic for the Microsoft service hosts to a FakePortal; refuse every other host.

Public clients (cloudpub, azure-img-utils, scripts on ``requests``) call fixed hosts. This swaps
``requests.adapters.HTTPAdapter.send`` (the one place every ``requests`` call goes through, whatever
session or adapter the client made, as ``responses`` does) for one that rewrites the URL of a
request to a service host onto the portal, and raises ``RefusedHostError`` for any other host, so
nothing leaks to the network. The client's own logic, sessions, retries and headers run unchanged.

It imports nothing from ``cloudpartner`` (only the standard library and ``requests``, imported when
routing starts), so a client's venv can load this file by path without the package installed.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

# host -> the path prefixes routed (the portal serves each API under the same path as the service)
ROUTED = {
    "graph.microsoft.com": ("/rp/product-ingestion",),
    "cloudpartner.azure.com": ("/",),
    "login.microsoftonline.com": ("/",),  # the Microsoft Entra token endpoints, v1 and v2
}
_lock = threading.Lock()
_UNROUTED = "_fakeportal_unrouted_send"  # the attribute of a routing send naming requests' own


class RefusedHostError(ConnectionRefusedError):
    """A request to a host (or path) the routing does not send to the portal; nothing was sent."""


def routed_url(url: str, base_url: str) -> str:
    """Return ``url`` on the portal at ``base_url``; ``RefusedHostError`` naming it when it is not routed."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    prefixes = ROUTED.get(host, ())
    if parts.scheme != "https" or not any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes):
        msg = f"FakePortal routing refused {parts.scheme}://{parts.netloc}{path}: only {', '.join(ROUTED)} are routed"
        raise RefusedHostError(msg)
    return base_url.rstrip("/") + path + (f"?{parts.query}" if parts.query else "")


@contextlib.contextmanager
def route_requests(base_url: str) -> Iterator[None]:
    """Send every ``requests`` call to a service host to ``base_url`` while the block runs.

    Calls to any other host raise ``RefusedHostError`` (a ``ConnectionRefusedError``). Blocks
    nest: the innermost portal answers. Process-wide, as ``requests`` is: every thread is routed.
    """
    from requests.adapters import HTTPAdapter  # noqa: PLC0415 - only routing needs requests

    with _lock:
        previous = HTTPAdapter.send  # restored at the end: an outer block's routing, or requests' own
        # requests' own send: an inner block must not hand its rewritten (loopback) URL to the outer
        # block's send, which would refuse it.
        unrouted = getattr(previous, _UNROUTED, previous)

        def send(self: HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
            request.url = routed_url(request.url, base_url)
            return unrouted(self, request, *args, **kwargs)

        setattr(send, _UNROUTED, unrouted)
        HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _lock:
            HTTPAdapter.send = previous  # type: ignore[method-assign]
