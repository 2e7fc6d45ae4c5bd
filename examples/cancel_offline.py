"""Cancel a running publish against the offline portal: no token, no network.

Run:  python examples/cancel_offline.py
"""

from __future__ import annotations

import cloudpartner
from cloudpartner.testing import FakePortal

PUBLISHER = "contoso"
OFFER = "contoso-virtualmachineoffer"


def main() -> None:
    with FakePortal(cancel_seconds=1.0) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        print(f"offline portal at {portal.base_url}")

        # Any non-empty token works against the FakePortal; a real one comes from Azure AD.
        with cloudpartner.Client("offline-demo-token", base_url=portal.base_url) as client:
            result = client.cancel(PUBLISHER, OFFER, emails=["jondoe@contoso.com"])
            print(f"cancel {PUBLISHER}/{OFFER}: HTTP {result.status_code}")
            print(f"  completed synchronously: {result.completed}")
            print(f"  operation to follow:     {result.operation_location}")
            print(f"  operation id:            {result.operation_id}")
            print(f"  service request id:      {result.request_id}")

            try:
                client.cancel(PUBLISHER, "no-such-offer")
            except cloudpartner.NotFoundError as error:
                print(f"cancel {PUBLISHER}/no-such-offer: {type(error).__name__}: {error}")

            try:
                client.cancel(PUBLISHER, "bad/offer")
            except cloudpartner.InvalidArgumentError as error:
                print(f"refused before sending: {error}")


if __name__ == "__main__":
    main()
