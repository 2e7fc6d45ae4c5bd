"""One classification of failures: the core's, which its retries, wait() and is_transient share."""

from __future__ import annotations

import re
from collections import Counter

import cloudpartner
import pytest
from cloudpartner import ApiError, WaitTimeoutError
from conftest import PUBLISHER, TOKEN
from rawserver import Connection, RawRequest, RawServer, http_response

STATUSES = range(400, 600)


def answer_with_the_status_in_the_path(conn: Connection, request: RawRequest) -> None:
    """`.../offers/s503/cancel` and `/api/operations/s503` are answered 503."""
    match = re.search(r"/s(\d{3})(?:/|\?|$)", request.target)
    conn.send(http_response(int(match.group(1)) if match else 200))


@pytest.fixture(scope="module")
def server():
    with RawServer(answer_with_the_status_in_the_path) as srv:
        yield srv


def test_is_transient_the_retries_and_wait_agree_for_every_failure_status(server: RawServer) -> None:
    client = cloudpartner.Client(TOKEN, base_url=server.base_url, max_retries=1, backoff=0.001)
    verdicts: dict[int, tuple[bool, bool]] = {}
    for status in STATUSES:
        with pytest.raises(ApiError) as cancelled:
            client.cancel(PUBLISHER, f"s{status}")
        try:
            client.wait(f"/api/operations/s{status}", timeout=0.2, poll_interval=0.05)
        except WaitTimeoutError:
            polled_through = True  # wait kept polling past the failure until its time ran out
        except ApiError as stopped:
            assert stopped.status_code == status
            assert stopped.is_transient is False
            polled_through = False
        assert cancelled.value.status_code == status
        verdicts[status] = (cancelled.value.is_transient, polled_through)

    attempts = Counter(r.target.split("?")[0] for r in server.requests if r.method == "POST")
    for status, (transient, polled_through) in verdicts.items():
        retried = attempts[f"/api/publishers/{PUBLISHER}/offers/s{status}/cancel"] == 2
        assert transient == retried == polled_through, status
        assert transient == cloudpartner.ApiError(status).is_transient, status
    assert sorted(s for s, (transient, _) in verdicts.items() if transient) == [408, 429, 500, 502, 503, 504]


def test_statuses_not_retried_are_not_transient_even_5xx() -> None:
    assert [cloudpartner.ApiError(s).is_transient for s in (400, 404, 408, 409, 429, 500, 501, 503, 504, 505)] == [
        False,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        True,
        False,
    ]
