"""https: verification is always on; extra CAs come from ca_file or SSL_CERT_FILE."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpartner
import pytest
import trustme
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_portal(ca: trustme.CA) -> Iterator[FakePortal]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with FakePortal(ssl_context=context, cancel_seconds=30) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        yield portal


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def test_an_untrusted_certificate_is_a_clear_transport_error_and_not_retried(https_portal: FakePortal) -> None:
    client = cloudpartner.Client(TOKEN, base_url=https_portal.base_url, max_retries=3, backoff=0.5)
    started = time.monotonic()
    with pytest.raises(cloudpartner.TransportError) as caught:
        client.cancel(PUBLISHER, OFFER)
    assert "certificate is not trusted" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert time.monotonic() - started < 0.5  # a certificate failure is not worth three backoffs
    assert https_portal.requests == []  # the token never left: the handshake failed first


def test_ca_file_trusts_a_corporate_ca(https_portal: FakePortal, ca_file: Path) -> None:
    for path in (ca_file, str(ca_file)):
        result = cloudpartner.Client(TOKEN, base_url=https_portal.base_url, ca_file=path).cancel(PUBLISHER, OFFER)
        assert result.status_code == 202
        assert result.operation_location is not None
        assert result.operation_location.startswith("https://127.0.0.1:")
    assert https_portal.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_ssl_cert_file_is_honoured(https_portal: FakePortal, ca_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    assert cloudpartner.Client(TOKEN, base_url=https_portal.base_url).cancel(PUBLISHER, OFFER).status_code == 202


def test_a_certificate_for_another_name_is_refused(ca: trustme.CA, ca_file: Path) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("cloudpartner.example").configure_cert(context)
    with FakePortal(ssl_context=context) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        client = cloudpartner.Client(TOKEN, base_url=portal.base_url, ca_file=ca_file)
        with pytest.raises(cloudpartner.TransportError, match="certificate"):
            client.cancel(PUBLISHER, OFFER)
        assert portal.requests == []


@pytest.mark.parametrize("content", ["", "not a certificate\n"])
def test_a_bad_ca_file_is_refused_at_construction(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.pem"
    path.write_text(content)
    with pytest.raises(cloudpartner.InvalidArgumentError, match="ca_file") as caught:
        cloudpartner.Client(TOKEN, ca_file=path)
    assert caught.value.field == "ca_file"
    with pytest.raises(cloudpartner.InvalidArgumentError, match="cannot read"):
        cloudpartner.Client(TOKEN, ca_file=tmp_path / "missing.pem")
    with pytest.raises(cloudpartner.InvalidArgumentError, match="must be a path"):
        cloudpartner.Client(TOKEN, ca_file=123)  # type: ignore[arg-type]


def test_there_is_no_switch_to_turn_verification_off() -> None:
    import inspect

    names = set(inspect.signature(cloudpartner.Client).parameters)
    assert not {n for n in names if "verify" in n or "insecure" in n}


def test_an_empty_system_store_is_named_as_such(
    https_portal: FakePortal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bundle.pem"
    empty.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(empty))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with pytest.raises(cloudpartner.TransportError, match="no CA certificate could be read") as caught:
        cloudpartner.Client(TOKEN, base_url=https_portal.base_url, max_retries=0).cancel(PUBLISHER, OFFER)
    assert "SSL_CERT_FILE" in str(caught.value)
    assert https_portal.requests == []
