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

Answers have the shapes the reference pages document (``tests/reference`` holds them and the
tests check this portal against them): operation lists carry ``submissionState``, a cancel with
nothing running answers 202 like the service ("whether it cancelled or not"), its location
naming the offer's latest operation. ``conflict_when_idle=True`` answers such a cancel 409
``NoOperationInProgress`` instead, for scripts that want to test that branch.

This file is the public class; ``_base.py`` is the server base (start/stop, request log, TLS,
``fail_next``, tokens), ``_cpp.py`` and ``_cpp_model.py`` the fake service (routes; offers and
operations) and ``_http.py`` the HTTP server.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Mapping
from typing import Any

from ._base import FakeServer, Tokens
from ._cpp import Service


class FakePortal(FakeServer):
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
    serves https instead of http, for testing certificate handling. ``conflict_when_idle=True``
    answers a cancel with nothing running 409 instead of the service's 202.

    The publish lifecycle: ``put_offer`` stores a draft (``If-Match`` required: ``*`` or the
    current ETag, else 412); ``publish`` starts an operation whose validation, certification,
    provisioning and packaging steps take ``step_seconds`` each, then waits at
    ``publisher-signoff`` (``waitingForPublisherReview``) with the draft in the preview slot;
    ``go_live`` then moves preview to production over ``step_seconds`` more. A publish or go-live
    while another operation runs answers 409; a go-live with no publish waiting for review
    answers 409 ``NotReadyForGoLive`` (the service's answer to that is undocumented). The offer
    status follows the latest operation. ``add_offer``'s own publish stays in certification
    until cancelled.
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
        conflict_when_idle: bool = False,
        step_seconds: float = 0.2,
    ) -> None:
        super().__init__(host=host, port=port, ssl_context=ssl_context)
        self._cpp = Service(
            step_seconds=step_seconds,
            tokens=Tokens(tokens),
            location_style=location_style,
            sync_cancel=sync_cancel,
            cancel_seconds=cancel_seconds,
            conflict_when_idle=conflict_when_idle,
            base_url=lambda: self.base_url,
        )
        self._models = [self._cpp]

    @classmethod
    def from_recording(cls, path: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0) -> FakePortal:
        """Make a portal that answers from a recording (``Client(record=...)``, ``CLOUDPARTNER_RECORD``).

        Each request gets the next answer recorded for the same method, path and query, in
        order; the last one repeats once they are used up; an unrecorded request gets 404
        ``NotRecorded``. Absolute locations to the recorded service point at this portal.
        ``ValueError`` when the file holds no recorded exchange.
        """
        portal = cls(host=host, port=port)
        portal._replay(path)
        return portal

    # -- setup and assertions -------------------------------------------------------------------

    def add_offer(self, publisher: str, offer: str, running: bool = True) -> None:
        """Create the offer if needed; with ``running``, start an operation unless one runs."""
        with self._lock:
            self._cpp.add_offer(publisher, offer, running)

    def operations(self, publisher: str, offer: str) -> list[dict[str, Any]]:
        """Return the offer's operation objects as GET answers them, newest first (KeyError if none)."""
        with self._lock:
            return self._cpp.operations(publisher, offer)
