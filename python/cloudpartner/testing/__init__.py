"""Test offline: a fake Azure Marketplace (the Cloud Partner Portal and Product Ingestion APIs) and pytest fixtures.

Use :class:`FakePortal` directly, or enable the pytest plugin in a ``conftest.py``::

    pytest_plugins = ["cloudpartner.testing"]

    def test_cancel(cloudpartner_portal):
        run_my_script(base_url=cloudpartner_portal.base_url, token="any-token")
        ops = cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")
        assert ops[0]["cancellationRequestState"] == "Requested"

A client on ``requests`` with fixed hosts (cloudpub, azure-img-utils) runs unchanged inside
:func:`route_requests` (or with the ``cloudpartner_routed_portal`` fixture): its calls to the
service hosts and to Microsoft Entra go to a FakePortal, and every other host is refused.

pytest is needed only for the fixtures, not to import this module; ``requests`` only for the routing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http import RecordedRequest
from ._portal import FakePortal
from ._replay import TruncatedRecordingWarning
from ._routing import RefusedHostError, route_requests

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["FakePortal", "RecordedRequest", "RefusedHostError", "TruncatedRecordingWarning", "route_requests"]

try:
    import pytest
except ImportError:  # pragma: no cover - the fixtures need pytest, FakePortal does not
    pass
else:

    @pytest.fixture
    def cloudpartner_portal() -> Iterator[FakePortal]:
        """Yield a started FakePortal with offer ``contoso/contoso-virtualmachineoffer`` running."""
        with FakePortal() as portal:
            portal.add_offer("contoso", "contoso-virtualmachineoffer")
            yield portal

    @pytest.fixture
    def cloudpartner_routed_portal() -> Iterator[FakePortal]:
        """Yield the FakePortal of ``route_requests()``: ``requests`` to the service hosts go to it, others fail."""
        with route_requests() as portal:
            yield portal
