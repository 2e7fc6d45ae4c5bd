"""GET then PUT: Offer.for_put drops the keys the service refuses back, and only when asked."""

from __future__ import annotations

import json

import cloudpartner
from cloudpartner._types import READ_ONLY_OFFER_KEYS
from conftest import OFFER, PUBLISHER, TOKEN
from rawserver import RawServer, http_response, reply

MIGRATED = {
    "id": OFFER,
    "definition": {
        "displayText": "Contoso VM",
        "offer": {
            "microsoft-azure-corevm.legacyOfferId": "contoso-vm-legacy",
            "microsoft-azure-corevm.legacyPublisherId": "contoso-legacy",
            "microsoft-azure-corevm.leadDestination": "None",
        },
        "plans": [{"planId": "gen2"}],
    },
}


def answered(document: dict[str, object]) -> bytes:
    return http_response(200, {"Content-Type": "application/json", "ETag": '"1"'}, json.dumps(document).encode())


def test_for_put_drops_the_legacy_ids_and_leaves_the_offer_read_as_it_was() -> None:
    with RawServer(reply(answered(MIGRATED)), reply(answered(MIGRATED))) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0)
        offer = client.get_offer(PUBLISHER, OFFER)
        document = offer.for_put()
        assert not set(READ_ONLY_OFFER_KEYS) & set(document["definition"]["offer"])
        assert document["definition"]["offer"]["microsoft-azure-corevm.leadDestination"] == "None"
        assert document["definition"]["plans"] == [{"planId": "gen2"}]
        assert offer.definition == MIGRATED  # the offer read is untouched
        client.put_offer(PUBLISHER, OFFER, document, if_match=offer)
        sent = json.loads(srv.requests[-1].body)
        assert srv.requests[-1].method == "PUT"
        assert srv.requests[-1].headers["if-match"] == '"1"'
    assert sent == document


def test_put_offer_sends_exactly_the_document_it_is_given() -> None:
    with RawServer(reply(answered(MIGRATED))) as srv:
        client = cloudpartner.Client(TOKEN, base_url=srv.base_url, max_retries=0)
        client.put_offer(PUBLISHER, OFFER, MIGRATED, if_match="*")
        assert json.loads(srv.requests[-1].body) == MIGRATED


def test_for_put_copes_with_documents_of_other_shapes() -> None:
    for definition in ({}, {"definition": []}, {"definition": {"offer": "x"}}):
        offer = cloudpartner.Offer(PUBLISHER, OFFER, '"1"', definition)
        assert offer.for_put() == definition
