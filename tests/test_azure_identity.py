"""The real azure-identity package: AzureCliCredential (sync and aio) against a stand-in `az`.

The stand-in is a small script first on PATH that records its arguments and prints what
`az account get-access-token --output json` prints, fails as `az` does when logged out, sleeps
past the credential's process timeout, or hands out an already expired token.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import cloudpartner
import pytest
from cloudpartner import CredentialError
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER

identity = pytest.importorskip("azure.identity")
identity_aio = pytest.importorskip("azure.identity.aio")

RESOURCE = "https://cloudpartner.azure.com"


class FakeAz:
    """Writes `az` into a directory put first on PATH; `behaviour` picks what it does."""

    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log = directory / "az-calls.jsonl"
        self.settings = directory / "az-settings.json"
        script = directory / "az"
        script.write_text(
            f"#!{sys.executable}\n"
            + textwrap.dedent(
                """
                import json, sys, time
                from pathlib import Path

                here = Path(__file__).parent
                settings = json.loads((here / "az-settings.json").read_text())
                with open(here / "az-calls.jsonl", "a") as log:
                    log.write(json.dumps(sys.argv[1:]) + "\\n")
                calls = sum(1 for _ in open(here / "az-calls.jsonl"))
                if settings["behaviour"] == "logged-out":
                    sys.stderr.write("ERROR: Please run 'az login' to setup account.\\n")
                    sys.exit(1)
                if settings["behaviour"] == "slow":
                    time.sleep(settings["sleep"])
                expires_on = int(time.time() + settings["lifetime"])
                print(json.dumps({
                    "accessToken": "az-token-%d" % calls,
                    "expiresOn": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.localtime(expires_on)),
                    "expires_on": expires_on,
                    "subscription": "00000000-0000-0000-0000-000000000000",
                    "tenant": "11111111-1111-1111-1111-111111111111",
                    "tokenType": "Bearer",
                }, indent=2))
                """
            )
        )
        script.chmod(0o755)
        self.configure("ok")
        monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")

    def configure(self, behaviour: str, lifetime: float = 3600, sleep: float = 0) -> None:
        self.settings.write_text(json.dumps({"behaviour": behaviour, "lifetime": lifetime, "sleep": sleep}))

    @property
    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def az(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAz:
    return FakeAz(tmp_path, monkeypatch)


def sent_tokens(portal: FakePortal) -> list[str]:
    return [r.headers["authorization"] for r in portal.requests]


def run(coroutine: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def cancel_with_az(mode: str, portal: FakePortal, **options: Any) -> Any:
    """A module-level cancel with a fresh AzureCliCredential: sync, or aio under asyncio."""
    if mode == "sync":
        return cloudpartner.cancel(PUBLISHER, OFFER, identity.AzureCliCredential(**options), base_url=portal.base_url)

    async def main() -> Any:
        async with identity_aio.AzureCliCredential(**options) as credential:
            return await cloudpartner.cancel_async(PUBLISHER, OFFER, credential, base_url=portal.base_url)

    return run(main())


def test_sync_azure_cli_credential_asks_az_for_the_cloudpartner_resource(az: FakeAz, slow_portal: FakePortal) -> None:
    credential = identity.AzureCliCredential()
    with cloudpartner.Client(credential, base_url=slow_portal.base_url, timeout=5.0) as client:
        client.cancel(PUBLISHER, OFFER)
        client.cancel(PUBLISHER, OFFER)
    assert az.calls == [["account", "get-access-token", "--output", "json", "--resource", RESOURCE]]
    assert sent_tokens(slow_portal) == ["Bearer az-token-1"] * 2


def test_aio_azure_cli_credential_serves_async_calls(az: FakeAz, portal: FakePortal) -> None:
    async def main() -> Any:
        async with identity_aio.AzureCliCredential() as credential:
            async with cloudpartner.Client(credential, base_url=portal.base_url, timeout=5.0) as client:
                result = await client.cancel_async(PUBLISHER, OFFER)
                return await client.wait_async(result, timeout=20, poll_interval=0.05)

    final = run(main())
    assert final.canceled
    assert az.calls == [["account", "get-access-token", "--output", "json", "--resource", RESOURCE]]
    assert set(sent_tokens(portal)) == {"Bearer az-token-1"}


def test_aio_azure_cli_credential_with_a_blocking_call_names_the_fix(az: FakeAz, portal: FakePortal) -> None:
    credential = identity_aio.AzureCliCredential()
    with cloudpartner.Client(credential, base_url=portal.base_url) as client:
        with pytest.raises(CredentialError, match="cancel_async"):
            client.cancel(PUBLISHER, OFFER)
    assert az.calls == []
    assert portal.requests == []


@pytest.mark.parametrize("mode", ["sync", "aio"])
def test_logged_out_az_is_a_credential_error(az: FakeAz, portal: FakePortal, mode: str) -> None:
    az.configure("logged-out")
    with pytest.raises(CredentialError) as info:
        cancel_with_az(mode, portal)
    assert isinstance(info.value.__cause__, identity.CredentialUnavailableError)
    assert "az login" in str(info.value.__cause__)
    assert len(az.calls) == 1
    assert portal.requests == []


@pytest.mark.parametrize("mode", ["sync", "aio"])
def test_az_slower_than_its_process_timeout_is_a_credential_error(az: FakeAz, portal: FakePortal, mode: str) -> None:
    az.configure("slow", sleep=5)
    started = time.monotonic()
    with pytest.raises(CredentialError) as info:
        cancel_with_az(mode, portal, process_timeout=1)
    assert time.monotonic() - started < 4.5
    assert isinstance(info.value.__cause__, identity.CredentialUnavailableError)
    assert portal.requests == []


@pytest.mark.parametrize("mode", ["sync", "aio"])
def test_az_handing_out_an_expired_token_is_refused(az: FakeAz, portal: FakePortal, mode: str) -> None:
    az.configure("ok", lifetime=-120)
    with pytest.raises(CredentialError, match="expired") as info:
        cancel_with_az(mode, portal)
    assert "az-token" not in str(info.value)
    assert portal.requests == []
