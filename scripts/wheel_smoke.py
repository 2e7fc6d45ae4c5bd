"""A user's first script against the installed package: cancel on the offline portal and follow it.

Run by scripts/test-wheel.sh and the release workflow with the wheel installed (not the source
tree): it exits non-zero if the extension module, the sync or async API, or FakePortal is broken.
"""

from __future__ import annotations

import asyncio

import cloudpartner
from cloudpartner.testing import FakePortal


def check(condition: object, what: str) -> None:
    if not condition:
        raise SystemExit(f"wheel smoke test failed: {what}")


def main() -> None:
    print(f"cloudpartner {cloudpartner.__version__} from {cloudpartner.__file__}")
    with FakePortal(cancel_seconds=0.2) as portal:
        portal.add_offer("contoso", "offer-a")
        portal.add_offer("contoso", "offer-b")
        with cloudpartner.Client("any-token", base_url=portal.base_url, timeout=10.0) as client:
            result = client.cancel("contoso", "offer-a", emails="ops@contoso.com")
            check(result.status_code == 202, f"cancel answered {result}")
            final = client.wait(result, timeout=30, poll_interval=0.05)
            check(final is not None and final.canceled, f"wait ended with {final}")

            async def other() -> cloudpartner.CancelResult:
                return await client.cancel_async("contoso", "offer-b")

            check(asyncio.run(other()).status_code == 202, "cancel_async was not accepted")
            try:
                client.cancel("contoso", "no-such-offer")
                check(False, "an unknown offer was not refused")
            except cloudpartner.NotFoundError as e:
                check(e.status_code == 404, f"an unknown offer gave {e!r}")
        check(
            portal.requests[0].body == {"metadata": {"notification-emails": "ops@contoso.com"}},
            f"the portal received {portal.requests[0].body}",
        )
    print("wheel smoke test: ok")


if __name__ == "__main__":
    main()
