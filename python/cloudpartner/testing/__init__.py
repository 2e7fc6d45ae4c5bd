"""Test offline: a fake Azure Marketplace (the Cloud Partner Portal and Product Ingestion APIs) and a pytest fixture.

Use :class:`FakePortal` directly, or enable the pytest plugin in a ``conftest.py``::

    pytest_plugins = ["cloudpartner.testing"]

    def test_cancel(cloudpartner_portal):
        run_my_script(base_url=cloudpartner_portal.base_url, token="any-token")
        ops = cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")
        assert ops[0]["cancellationRequestState"] == "Requested"

pytest is needed only for the fixture, not to import this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._http import RecordedRequest
from ._portal import FakePortal
from ._replay import TruncatedRecordingWarning

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["FakePortal", "RecordedRequest", "TruncatedRecordingWarning"]

try:
    import pytest
except ImportError:  # pragma: no cover - the fixture needs pytest, FakePortal does not
    pass
else:

    @pytest.fixture
    def cloudpartner_portal() -> Iterator[FakePortal]:
        """Yield a started FakePortal with offer ``contoso/contoso-virtualmachineoffer`` running."""
        with FakePortal() as portal:
            portal.add_offer("contoso", "contoso-virtualmachineoffer")
            yield portal
