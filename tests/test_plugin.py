"""The pytest plugin: ``pytest_plugins = ["cloudpartner.testing"]`` gives a ``cloudpartner_portal`` fixture."""

from __future__ import annotations

import socket
import textwrap
from urllib.parse import urlsplit

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = textwrap.dedent(
    """
    import socket
    from pathlib import Path
    from urllib.parse import urlsplit

    import cloudpartner
    import pytest

    pytest_plugins = ["cloudpartner.testing"]

    SEEN = []


    def test_cancel_against_the_fixture(cloudpartner_portal):
        SEEN.append(cloudpartner_portal.base_url)
        Path(__file__).with_name("base_url.txt").write_text(cloudpartner_portal.base_url)
        (before,) = cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")
        assert before["status"] == "running"
        result = cloudpartner.cancel(
            "contoso", "contoso-virtualmachineoffer", "any-token", base_url=cloudpartner_portal.base_url, timeout=5.0
        )
        assert result.status_code == 202
        assert result.operation_location.startswith(cloudpartner_portal.base_url)
        (after,) = cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")
        assert after["cancellationRequestState"] == "Requested"
        assert cloudpartner_portal.requests[-1].method == "POST"


    def test_each_test_gets_a_fresh_portal(cloudpartner_portal):
        assert cloudpartner_portal.base_url != SEEN[0]
        (op,) = cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")
        assert op["cancellationRequestState"] == "canCancel"
        assert cloudpartner_portal.requests == []
        SEEN.append(cloudpartner_portal.base_url)


    @pytest.mark.parametrize("index", [0, 1])
    def test_the_portals_are_stopped_after_their_tests(index):
        address = urlsplit(SEEN[index])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address.hostname, address.port), timeout=2).close()
    """
)


def refused(base_url: str) -> bool:
    address = urlsplit(base_url)
    try:
        socket.create_connection((address.hostname, address.port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_the_fixture_in_a_users_test_file(pytester: pytest.Pytester):
    pytester.makepyfile(test_release=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=60)
    result.assert_outcomes(passed=4)
    base_url = (pytester.path / "base_url.txt").read_text()
    assert base_url.startswith("http://127.0.0.1:")
    assert refused(base_url)


def test_the_fixture_in_process(pytester: pytest.Pytester):
    pytester.makepyfile(test_release=USER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", "-k", "cancel_against")
    result.assert_outcomes(passed=1)
    base_url = (pytester.path / "base_url.txt").read_text()
    assert refused(base_url)  # stopped at teardown, although this process lives on


def test_a_failing_user_test_still_stops_the_portal(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_failing=textwrap.dedent(
            """
            from pathlib import Path

            pytest_plugins = ["cloudpartner.testing"]


            def test_fails(cloudpartner_portal):
                Path(__file__).with_name("base_url.txt").write_text(cloudpartner_portal.base_url)
                assert cloudpartner_portal.operations("contoso", "contoso-virtualmachineoffer")[0]["status"] == "nope"
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(failed=1)
    assert refused((pytester.path / "base_url.txt").read_text())


def test_the_fixture_is_unknown_without_the_plugin(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            def test_needs_it(cloudpartner_portal):
                pass
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=60)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'cloudpartner_portal' not found*"])
