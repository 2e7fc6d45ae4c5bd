"""Run a ``requests``-based client (cloudpub, azure-img-utils, your scripts) offline, against a FakePortal.

``route_requests`` sends the client's calls to the Microsoft service hosts to a FakePortal and
refuses every other host (``_route.py`` does the rewriting); the client gets its token from the
portal's Entra endpoints (``_login.py``), and the portal it starts accepts no other token.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from ._portal import FakePortal
from ._route import RefusedHostError
from ._route import route_requests as _route_to

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["RefusedHostError", "route_requests"]

OFFER = ("contoso", "contoso-virtualmachineoffer")


def _seed(portal: FakePortal) -> FakePortal:
    """Add what ``route_requests()`` starts with: offer ``contoso/contoso-virtualmachineoffer``, idle.

    Idle (nothing running), so a pipeline can publish it at once; it has the default plans and
    versions (see ``FakePortal.add_offer``) and is also a product of the ingestion API.
    """
    portal.add_offer(*OFFER, running=False)
    return portal


@contextlib.contextmanager
def route_requests(portal: FakePortal | None = None) -> Iterator[FakePortal]:
    """Route every ``requests`` call to the Microsoft service hosts to a FakePortal while the block runs.

    Routed: ``https://graph.microsoft.com/rp/product-ingestion/...`` (the Product Ingestion API),
    ``https://cloudpartner.azure.com/...`` (the Cloud Partner Portal API) and
    ``https://login.microsoftonline.com/...`` (Microsoft Entra's token endpoints: the
    client-credentials grant in its v1 ``resource=`` and v2 ``scope=`` forms, and msal's
    discovery). Any other host or path raises :class:`RefusedHostError` (a
    ``ConnectionRefusedError``) before anything is sent: nothing leaks to the network.

    ``portal`` None: a FakePortal is started with offer ``contoso/contoso-virtualmachineoffer``
    (idle, so a pipeline can publish it at once; with ``FakePortal.add_offer``'s default plans and
    versions; also a product of the ingestion API). It accepts only the tokens its own token
    endpoint issues (``tokens=()``), and is stopped after the block. A started portal
    passed in is used as it is, and left running. Yields the portal. Blocks nest (the innermost
    portal answers); process-wide, as ``requests`` is: every thread is routed.
    """
    if portal is not None:
        with _route_to(portal.base_url):
            yield portal
        return
    with FakePortal(tokens=()) as started, _route_to(_seed(started).base_url):
        yield started
