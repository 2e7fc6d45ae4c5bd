"""``cloudpartner.testing.route_requests`` and its fixture: a ``requests`` client runs offline against a FakePortal.

The calls go through ``requests`` to the real service hosts, as cloudpub and azure-img-utils
make them; only 127.0.0.1 is ever reached.
"""

from __future__ import annotations

import socket
import textwrap
from urllib.parse import urlsplit

import pytest
import requests
from cloudpartner.testing import FakePortal, RefusedHostError, route_requests
from requests.adapters import HTTPAdapter

pytest_plugins = ["pytester"]

CPP = "https://cloudpartner.azure.com/api/publishers/contoso/offers/contoso-virtualmachineoffer?api-version=2017-10-31"
INGESTION = "https://graph.microsoft.com/rp/product-ingestion/product?$version=2022-07-01"
LOGIN = "https://login.microsoftonline.com/contoso-tenant"
SECONDS = 10


def v2_token(scope: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "secret", "scope": scope}
    answer = requests.post(f"{LOGIN}/oauth2/v2.0/token", data=form, timeout=SECONDS)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def v1_token(resource: str) -> str:
    form = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "secret", "resource": resource}
    answer = requests.post(f"{LOGIN}/oauth2/token", data=form, timeout=SECONDS)
    assert answer.status_code == 200, answer.text
    assert answer.json()["resource"] == resource
    return str(answer.json()["access_token"])


def get(url: str, token: str) -> requests.Response:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=SECONDS)


def refused(base_url: str) -> bool:
    address = urlsplit(base_url)
    try:
        socket.create_connection((address.hostname, address.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_the_service_hosts_reach_a_portal_started_for_the_block_and_stopped_after() -> None:
    send = HTTPAdapter.send
    with route_requests() as portal:
        assert HTTPAdapter.send is not send
        offer = get(CPP, v2_token("https://cloudpartner.azure.com/.default"))
        assert offer.status_code == 200, offer.text
        assert offer.json()["id"] == "contoso-virtualmachineoffer"
        products = get(INGESTION, v1_token("https://graph.microsoft.com"))
        assert products.status_code == 200, products.text
        assert [p["identity"]["externalId"] for p in products.json()["value"]] == ["contoso-virtualmachineoffer"]
        assert {r.path.split("/")[1] for r in portal.requests} == {"contoso-tenant", "api", "rp"}
    assert HTTPAdapter.send is send
    assert refused(portal.base_url)


def test_the_started_portal_accepts_only_the_tokens_its_own_token_endpoint_issued() -> None:
    with route_requests() as first:
        first_token = v2_token("https://cloudpartner.azure.com/.default")
        assert get(CPP, "any-token").status_code == 401
        with route_requests() as second:  # blocks nest: the innermost portal answers
            assert get(CPP, first_token).status_code == 401
            assert get(CPP, v2_token("https://cloudpartner.azure.com/.default")).status_code == 200
        assert get(CPP, first_token).status_code == 200
    assert second.requests[-1].headers["authorization"] != first.requests[-1].headers["authorization"]


def test_a_token_for_another_resource_is_refused_by_entra() -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "app",
        "client_secret": "s",
        "scope": "https://x.example/.default",
    }
    with route_requests():
        answer = requests.post(f"{LOGIN}/oauth2/v2.0/token", data=form, timeout=SECONDS)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "https://management.azure.com/subscriptions?api-version=2020-01-01",
        "https://graph.microsoft.com/v1.0/me",
        "http://cloudpartner.azure.com/api/publishers?api-version=2017-10-31",
        "https://contosoimages.blob.core.windows.net/vhds/a.vhd",
    ],
)
def test_every_other_host_is_refused_before_anything_is_sent(url: str) -> None:
    with route_requests() as portal:
        with pytest.raises(RefusedHostError, match="refused"):
            requests.get(url, timeout=SECONDS)
        assert portal.requests == []


def test_a_portal_passed_in_is_used_as_it_is_and_left_running() -> None:
    send = HTTPAdapter.send
    with FakePortal(tokens=["mine"]) as portal:
        portal.add_offer("contoso", "contoso-virtualmachineoffer", running=False)
        with route_requests(portal) as routed:
            assert routed is portal
            assert get(CPP, "mine").status_code == 200
        assert not refused(portal.base_url)
        assert HTTPAdapter.send is send


USER_TESTS = textwrap.dedent(
    """
    import requests

    pytest_plugins = ["cloudpartner.testing"]

    LOGIN = "https://login.microsoftonline.com/t/oauth2/v2.0/token"
    OFFER = "https://cloudpartner.azure.com/api/publishers/contoso/offers/contoso-virtualmachineoffer"


    def test_a_pipeline_against_the_routed_fixture(cloudpartner_routed_portal):
        form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "s",
                "scope": "https://cloudpartner.azure.com/.default"}
        token = requests.post(LOGIN, data=form, timeout=10).json()["access_token"]
        answer = requests.get(OFFER, params={"api-version": "2017-10-31"},
                              headers={"Authorization": "Bearer " + token}, timeout=10)
        assert answer.status_code == 200
        assert cloudpartner_routed_portal.requests[-1].path.endswith("/contoso-virtualmachineoffer")
    """
)


def test_the_routed_fixture_in_a_users_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_pipeline=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=60)
    result.assert_outcomes(passed=1)
