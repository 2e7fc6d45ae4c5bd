"""`cloudpartner publishers` and `cloudpartner offers --offer-type`, in a subprocess against FakePortal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cloudpartner.testing import FakePortal
from test_cli import assert_one_line_error, run, service

COREVM = "microsoft-azure-corevm"


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    with FakePortal() as fake:
        fake.add_offer("contoso", "vm-offer", running=False)
        fake.add_offer("contoso", "core-offer", running=False, offer_type=COREVM)
        fake.add_offer("fabrikam", "other-offer", running=False)
        yield fake


def test_publishers_lists_each_publisher_once(portal: FakePortal) -> None:
    done = run(*service(portal, "publishers", "--json"))
    assert done.returncode == 0, done.stderr
    assert sorted(p["id"] for p in json.loads(done.stdout)) == ["contoso", "fabrikam"]
    text = run(*service(portal, "publishers"))
    assert text.returncode == 0 and "contoso" in text.stdout and "fabrikam" in text.stdout


def test_offers_of_one_type_only(portal: FakePortal) -> None:
    done = run(*service(portal, "offers", "contoso", "--offer-type", COREVM, "--json"))
    assert done.returncode == 0, done.stderr
    assert [o["id"] for o in json.loads(done.stdout)] == ["core-offer"]
    every = run(*service(portal, "offers", "contoso", "--json"))
    assert sorted(o["id"] for o in json.loads(every.stdout)) == ["core-offer", "vm-offer"]
    assert "$filter" in portal.requests[0].query and "offerTypeId" in portal.requests[0].query["$filter"]


def test_a_bad_offer_type_is_refused_before_anything_is_sent(portal: FakePortal) -> None:
    line = assert_one_line_error(run(*service(portal, "offers", "contoso", "--offer-type", "x' or 1 eq 1")), 2)
    assert "offer_type" in line
    assert portal.requests == []
