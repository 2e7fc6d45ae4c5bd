"""Bad input is refused with InvalidArgumentError before anything is sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import unquote

import cloudpartner
import pytest
from cloudpartner import InvalidArgumentError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN

BAD_IDS = ["a/b", "a?b", "a#b", "a b", "a\nb", "a\tb", "a%2Fb", "a\\b", "..", ".", "con/../toso"]
BAD_EMAILS = ["jondoe", "a@b", "a b@c.com", "x@y.com\r\nBcc: z@w.com", "@x.com", "a@", "a@b@c.com"]
BAD_TOKENS = [
    f"{TOKEN} extra",
    f"{TOKEN}\r\nX-Evil: 1",
    f"{TOKEN}\nX: y",
    f"{TOKEN}\u00e9",
    f"t\u00f6k-{TOKEN}",
    f"{TOKEN}\x7f",
    f"{TOKEN}\u200b",
]


def shown(value: str) -> str:
    """How a message quotes a bad string value (escaped, so control characters are visible)."""
    return json.dumps(value, ensure_ascii=False)


def refused(call: Callable[[], object], field: str) -> InvalidArgumentError:
    with pytest.raises(InvalidArgumentError) as info:
        call()
    error = info.value
    assert isinstance(error, ValueError)
    assert error.field == field
    assert field in str(error)
    return error


# -- publisher and offer -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["publisher", "offer"])
def test_empty_id(client: cloudpartner.Client, portal: FakePortal, field: str) -> None:
    ids = {"publisher": PUBLISHER, "offer": OFFER, field: ""}
    error = refused(lambda: client.cancel(ids["publisher"], ids["offer"]), field)
    assert "empty" in str(error)
    assert portal.requests == []


@pytest.mark.parametrize("field", ["publisher", "offer"])
@pytest.mark.parametrize("bad", BAD_IDS)
def test_id_with_forbidden_characters(client: cloudpartner.Client, portal: FakePortal, field: str, bad: str) -> None:
    ids = {"publisher": PUBLISHER, "offer": OFFER, field: bad}
    error = refused(lambda: client.cancel(ids["publisher"], ids["offer"]), field)
    assert shown(bad) in str(error)
    assert portal.requests == []


@pytest.mark.parametrize("field", ["publisher", "offer"])
@pytest.mark.parametrize(("bad", "type_name"), [(None, "NoneType"), (123, "int"), (b"contoso", "bytes")])
def test_id_of_wrong_type(
    client: cloudpartner.Client, portal: FakePortal, field: str, bad: object, type_name: str
) -> None:
    ids: dict[str, object] = {"publisher": PUBLISHER, "offer": OFFER, field: bad}
    error = refused(lambda: client.cancel(ids["publisher"], ids["offer"]), field)  # type: ignore[arg-type]
    assert type_name in str(error)
    assert portal.requests == []


def test_overlong_id(client: cloudpartner.Client, portal: FakePortal) -> None:
    refused(lambda: client.cancel(PUBLISHER, "o" * 257), "offer")
    assert portal.requests == []


def test_async_call_refuses_too(client: cloudpartner.Client, portal: FakePortal) -> None:
    refused(lambda: asyncio.run(client.cancel_async("a/b", OFFER)), "publisher")
    refused(lambda: asyncio.run(cloudpartner.cancel_async(PUBLISHER, "..", TOKEN, base_url=portal.base_url)), "offer")
    assert portal.requests == []


# -- emails ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", BAD_EMAILS)
def test_malformed_email(client: cloudpartner.Client, portal: FakePortal, bad: str) -> None:
    error = refused(lambda: client.cancel(PUBLISHER, OFFER, ["ok@contoso.com", bad]), "emails")
    assert shown(bad) in str(error)
    assert portal.requests == []


def test_malformed_email_in_a_comma_string(client: cloudpartner.Client, portal: FakePortal) -> None:
    error = refused(lambda: client.cancel(PUBLISHER, OFFER, "ok@contoso.com, jondoe"), "emails")
    assert '"jondoe"' in str(error)
    assert portal.requests == []


@pytest.mark.parametrize(
    ("bad", "named"),
    [(123, "int"), (b"a@x.com", "bytes"), ([1], "int"), (["a@x.com", None], "NoneType"), (12.5, "float")],
)
def test_emails_of_wrong_type(client: cloudpartner.Client, portal: FakePortal, bad: object, named: str) -> None:
    error = refused(lambda: client.cancel(PUBLISHER, OFFER, bad), "emails")  # type: ignore[arg-type]
    assert named in str(error)
    assert portal.requests == []


def test_too_many_emails(client: cloudpartner.Client, portal: FakePortal) -> None:
    refused(lambda: client.cancel(PUBLISHER, OFFER, [f"u{i}@x.com" for i in range(101)]), "emails")
    assert portal.requests == []


# -- tokens ---------------------------------------------------------------------------------------


def test_no_token_and_no_environment(portal: FakePortal) -> None:
    with cloudpartner.Client(base_url=portal.base_url) as client:
        error = refused(lambda: client.cancel(PUBLISHER, OFFER), "token")
    assert "CLOUDPARTNER_TOKEN" in str(error)
    refused(lambda: cloudpartner.cancel(PUBLISHER, OFFER, base_url=portal.base_url), "token")
    assert portal.requests == []


@pytest.mark.parametrize("blank", ["", "   ", "Bearer ", "Bearer"])
def test_empty_token(portal: FakePortal, blank: str) -> None:
    error = refused(lambda: cloudpartner.Client(blank, base_url=portal.base_url), "token")
    assert "empty" in str(error)
    refused(lambda: cloudpartner.cancel(PUBLISHER, OFFER, blank, base_url=portal.base_url), "token")
    assert portal.requests == []


def test_blank_environment_token_counts_as_missing(portal: FakePortal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_TOKEN", "  ")
    with cloudpartner.Client(base_url=portal.base_url) as client:
        refused(lambda: client.cancel(PUBLISHER, OFFER), "token")
    assert portal.requests == []


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_malformed_token_is_refused_without_echo(portal: FakePortal, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    errors = [refused(lambda: cloudpartner.Client(bad, base_url=portal.base_url), "token")]
    errors.append(refused(lambda: cloudpartner.cancel(PUBLISHER, OFFER, bad, base_url=portal.base_url), "token"))
    monkeypatch.setenv("CLOUDPARTNER_TOKEN", bad)
    with cloudpartner.Client(base_url=portal.base_url) as client:
        errors.append(refused(lambda: client.cancel(PUBLISHER, OFFER), "token"))
    for error in errors:
        assert TOKEN not in str(error)
        assert TOKEN not in repr(error)
        assert TOKEN not in repr(error.args)
    assert portal.requests == []


@pytest.mark.parametrize(("bad", "named"), [(123, "int"), (b"token", "bytes"), (1.5, "float")])
def test_token_of_wrong_type(portal: FakePortal, bad: object, named: str) -> None:
    error = refused(lambda: cloudpartner.Client(bad, base_url=portal.base_url), "token")  # type: ignore[arg-type]
    assert named in str(error)
    refused(lambda: cloudpartner.cancel(PUBLISHER, OFFER, bad, base_url=portal.base_url), "token")  # type: ignore[arg-type]
    assert portal.requests == []


# -- client settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://x",
        "http://cloudpartner.azure.com",
        "http://10.1.2.3",
        "http://10.1.2.3:8080",
        "https://cloudpartner.azure.com/?a=1",
        "https://cloudpartner.azure.com/#frag",
        "not a url",
        "file:///etc/passwd",
    ],
)
def test_bad_base_url(bad: str) -> None:
    error = refused(lambda: cloudpartner.Client(TOKEN, base_url=bad), "base_url")
    assert shown(bad) in str(error)
    refused(lambda: cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=bad), "base_url")


def test_base_url_with_credentials_does_not_echo_them() -> None:
    error = refused(lambda: cloudpartner.Client(TOKEN, base_url="https://u:s3cr3t-pw@host.example"), "base_url")
    assert "s3cr3t-pw" not in str(error)


def test_base_url_of_wrong_type() -> None:
    error = refused(lambda: cloudpartner.Client(TOKEN, base_url=123), "base_url")  # type: ignore[arg-type]
    assert "int" in str(error)


def test_base_url_from_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPARTNER_BASE_URL", "http://10.1.2.3")
    error = refused(lambda: cloudpartner.Client(TOKEN), "base_url")
    assert "10.1.2.3" in str(error)


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (0, "0"),
        (-1, "-1"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        ("5", "str"),
        (True, "bool"),
    ],
)
def test_bad_timeout(portal: FakePortal, bad: object, named: str) -> None:
    error = refused(lambda: cloudpartner.Client(TOKEN, base_url=portal.base_url, timeout=bad), "timeout")  # type: ignore[arg-type]
    assert named in str(error).lower()
    refused(
        lambda: cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=portal.base_url, timeout=bad),  # type: ignore[arg-type]
        "timeout",
    )
    assert portal.requests == []


@pytest.mark.parametrize(("bad", "named"), [(-1, "-1"), (11, "11"), (True, "bool"), (2.0, "float"), ("3", "str")])
def test_bad_max_retries(portal: FakePortal, bad: object, named: str) -> None:
    error = refused(
        lambda: cloudpartner.Client(TOKEN, base_url=portal.base_url, max_retries=bad),  # type: ignore[arg-type]
        "max_retries",
    )
    assert named in str(error)


@pytest.mark.parametrize("bad", [-1, float("nan"), "0.5"])
def test_bad_backoff(portal: FakePortal, bad: object) -> None:
    refused(lambda: cloudpartner.Client(TOKEN, base_url=portal.base_url, backoff=bad), "backoff")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "bot\r\nX-Evil: 1", "é-bot", 5])
def test_bad_user_agent(portal: FakePortal, bad: object) -> None:
    refused(lambda: cloudpartner.Client(TOKEN, base_url=portal.base_url, user_agent=bad), "user_agent")  # type: ignore[arg-type]


def test_good_settings_are_accepted(portal: FakePortal) -> None:
    with cloudpartner.Client(
        TOKEN, base_url=portal.base_url + "/", timeout=1, max_retries=10, backoff=0, user_agent="bot/1 (x)"
    ) as client:
        assert client.base_url == portal.base_url
        assert client.cancel(PUBLISHER, OFFER).status_code == 202
    assert len(portal.requests) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.cancel("\ud800", OFFER),
        lambda c: c.cancel(PUBLISHER, "o\udfff"),
        lambda c: c.cancel(PUBLISHER, OFFER, ["a\ud800@contoso.com"]),
        lambda c: c.get_operation("/api/\ud800"),
        lambda c: c.list_operations(PUBLISHER, OFFER, status="\ud800"),
        lambda c: c.wait("/api/operations/x", timeout=10**400),
    ],
)
def test_odd_python_input_is_an_invalid_argument_error(portal: FakePortal, call) -> None:
    client = cloudpartner.Client(TOKEN, base_url=portal.base_url)
    with pytest.raises(cloudpartner.InvalidArgumentError):
        call(client)
    assert portal.requests == []


def test_odd_settings_are_invalid_argument_errors() -> None:
    for kwargs in ({"timeout": 10**400}, {"backoff": 10**400}, {"base_url": "https://\ud800.example"}):
        with pytest.raises(cloudpartner.InvalidArgumentError):
            cloudpartner.Client(TOKEN, **kwargs)
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.Client("tok\ud800")
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, timeout=[1])  # type: ignore[arg-type]
    with pytest.raises(cloudpartner.InvalidArgumentError):
        cloudpartner.cancel(PUBLISHER, OFFER, TOKEN, base_url=["x"])  # type: ignore[arg-type]


@pytest.mark.parametrize("offer", ["offer:é+1", "..a", "Contoso_Offer.v2'beta"])
def test_an_id_in_a_format_of_the_services_own_is_sent_as_one_segment(
    client: cloudpartner.Client, portal: FakePortal, offer: str
) -> None:
    # The service owns its id formats: only what would change the path is refused here.
    with pytest.raises(cloudpartner.NotFoundError):
        client.cancel(PUBLISHER, offer)
    (request,) = portal.requests
    assert unquote(request.path.split("/")[-2]) == offer
