"""Property-based tests of every string input: refused before sending, or exactly the expected request."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ID_ALPHABET = "abcXYZ019-_./?#% \n\t\x00é"
ids = st.one_of(st.text(alphabet=ID_ALPHABET, max_size=12), st.text(max_size=12))
addresses = st.one_of(st.emails(), st.text(max_size=30))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def portal() -> Iterator[FakePortal]:
    with FakePortal(cancel_seconds=3600) as fake:
        yield fake


@pytest.fixture(scope="module")
def client(portal: FakePortal) -> Iterator[cloudpartner.Client]:
    with cloudpartner.Client(TOKEN, base_url=portal.base_url, max_retries=0) as c:
        yield c


def _sent(portal: FakePortal) -> int:
    return len(portal.requests)


@SETTINGS
@given(publisher=ids, offer=ids, emails=st.lists(addresses, max_size=3))
def test_cancel_inputs(
    portal: FakePortal, client: cloudpartner.Client, publisher: str, offer: str, emails: list[str]
) -> None:
    before = _sent(portal)
    try:
        client.cancel(publisher, offer, emails)
    except cloudpartner.InvalidArgumentError:
        assert _sent(portal) == before, "a refused call sent something"
        return
    except cloudpartner.ApiError:
        pass  # the portal answered (404 for an offer it does not know): the request was sent
    request = portal.requests[-1]
    segments = request.path.split("/")
    assert [unquote(s) for s in segments] == ["", "api", "publishers", publisher, "offers", offer, "cancel"]
    assert request.query == {"api-version": "2017-10-31"}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


@SETTINGS
@given(token=st.text(max_size=40))
def test_token_inputs(portal: FakePortal, token: str) -> None:
    before = _sent(portal)
    try:
        client = cloudpartner.Client(token, base_url=portal.base_url, max_retries=0)
        client.cancel("contoso", "offer")
    except cloudpartner.InvalidArgumentError as error:
        assert _sent(portal) == before
        if len(token.strip()) > 3:
            assert token.strip() not in str(error)
        return
    except cloudpartner.ApiError:
        pass
    sent = portal.requests[-1].headers["authorization"]
    assert sent.startswith("Bearer ")
    assert " " not in sent[len("Bearer ") :]


@SETTINGS
@given(base_url=st.one_of(st.text(max_size=40), st.from_regex(r"\A(https?|ftp)://[a-z0-9.:\[\]@/?#-]{0,30}\Z")))
def test_base_url_inputs(base_url: str) -> None:
    try:
        client = cloudpartner.Client(TOKEN, base_url=base_url)
    except cloudpartner.InvalidArgumentError as error:
        assert error.field == "base_url"
        return
    assert client.base_url.split("://")[0] in ("https", "http")
    if client.base_url.startswith("http://"):
        assert cloudpartner._core.is_loopback_url(client.base_url)


@SETTINGS
@given(
    location=st.one_of(
        st.text(max_size=60), st.from_regex(r"\A(https?://[a-z0-9.:]{1,20})?/api/[a-z0-9$/?=&-]{0,30}\Z")
    )
)
def test_location_inputs(portal: FakePortal, client: cloudpartner.Client, location: str) -> None:
    before = _sent(portal)
    try:
        client.get_operation(location)
    except cloudpartner.InvalidArgumentError as error:
        assert error.field == "location"
        assert _sent(portal) == before
        return
    except (cloudpartner.ApiError, cloudpartner.MalformedResponseError):
        pass
    request = portal.requests[-1]
    assert request.method == "GET"
    assert request.query.get("api-version")
