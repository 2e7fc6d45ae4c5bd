"""FakePortal's settings: its host gives a base URL its own client accepts, and every number is checked."""

from __future__ import annotations

import math
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading

import cloudpartner
import pytest
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


def cancel_through(base_url: str) -> int:
    with cloudpartner.Client("token", base_url=base_url, timeout=10.0) as client:
        return client.cancel(PUBLISHER, OFFER).status_code


# -- the host -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "url_host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        pytest.param(
            "127.0.0.2", "127.0.0.2", marks=pytest.mark.skipif(sys.platform != "linux", reason="127.0.0.1 only")
        ),
        ("localhost", "localhost"),
        ("0.0.0.0", "127.0.0.1"),
        ("", "127.0.0.1"),
        pytest.param("::", "[::1]", marks=needs_ipv6),
        pytest.param("::1", "[::1]", marks=needs_ipv6),
        pytest.param("[::1]", "[::1]", marks=needs_ipv6),
    ],
)
def test_the_base_url_is_one_the_client_accepts_and_reaches(host: str, url_host: str):
    with FakePortal(host=host) as portal:
        portal.add_offer(PUBLISHER, OFFER)
        assert portal.base_url.startswith(f"http://{url_host}:")
        assert cancel_through(portal.base_url) == 202
        assert cancel_through(portal.ingestion_url.replace("/rp/product-ingestion", "")) == 202


@pytest.mark.parametrize("host", ["192.0.2.7", "example.com", "2001:db8::1"])
def test_a_plain_http_host_the_client_would_refuse_is_refused(host: str):
    with pytest.raises(ValueError, match=f"host {host!r} is not a loopback address"):
        FakePortal(host=host)


def test_a_non_loopback_host_is_accepted_for_https():
    FakePortal(host="192.0.2.7", ssl_context=ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER))  # not started


@pytest.mark.parametrize("port", [-1, 65536, True, 1.5, "80"])
def test_a_port_that_is_not_one_is_refused(port: object):
    with pytest.raises((ValueError, TypeError), match="port"):
        FakePortal(port=port)  # type: ignore[arg-type]


def test_a_host_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match="host"):
        FakePortal(host=None)  # type: ignore[arg-type]


# -- the numbers ----------------------------------------------------------------------------------------

SECONDS = ["cancel_seconds", "step_seconds", "job_seconds", "publish_seconds"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, -1, -0.5])
@pytest.mark.parametrize("knob", SECONDS)
def test_a_duration_that_is_not_finite_and_positive_is_refused_naming_it(knob: str, value: float):
    with pytest.raises(ValueError, match=f"{knob} must be a finite number of seconds >= 0, not {value!r}"):
        FakePortal(**{knob: value})


@pytest.mark.parametrize("value", [True, "1", None, 10**400])
@pytest.mark.parametrize("knob", SECONDS)
def test_a_duration_that_is_not_a_number_is_refused_naming_it(knob: str, value: object):
    with pytest.raises((TypeError, ValueError), match=knob):
        FakePortal(**{knob: value})


@pytest.mark.parametrize("knob", SECONDS)
def test_zero_and_whole_numbers_of_seconds_are_accepted(knob: str):
    FakePortal(**{knob: 0})
    FakePortal(**{knob: 3})


@pytest.mark.parametrize("value", [0, -1, 1.5, math.nan, True, "10"])
def test_a_page_size_that_is_not_a_whole_number_above_zero_is_refused(value: object):
    with pytest.raises((TypeError, ValueError), match="page_size"):
        FakePortal(page_size=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0])
def test_fail_next_refuses_a_retry_after_that_is_no_number_of_seconds(value: float):
    with FakePortal() as portal, pytest.raises(ValueError, match=f"retry_after .*not {value!r}"):
        portal.fail_next(1, 503, retry_after=value)


@pytest.mark.parametrize("count", [True, 1.5])
def test_fail_next_refuses_a_count_that_is_not_a_whole_number(count: object):
    with FakePortal() as portal, pytest.raises((TypeError, ValueError), match="count"):
        portal.fail_next(count)  # type: ignore[arg-type]


# -- cloudpartner serve --host ------------------------------------------------------------------------------

# As in test_cli.py: started with Python's own SIGINT handler, whatever the shell that runs the tests.
WITH_SIGINT = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('cloudpartner', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize(
    ("host", "url_host"),
    [("0.0.0.0", "127.0.0.1"), pytest.param("::", "[::1]", marks=needs_ipv6)],
)
def test_serve_on_every_address_prints_a_base_url_its_client_accepts(host: str, url_host: str):
    command = [sys.executable, "-c", WITH_SIGINT, "serve", "--host", host, "--cancel-seconds", "0.2"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            first = lines.get(timeout=20)
            base_url = first.split(" on ")[1].split(" ")[0]
            assert base_url.startswith(f"http://{url_host}:"), first
            with cloudpartner.Client("token", base_url=base_url, timeout=10.0) as client:
                assert client.cancel("contoso", "contoso-virtualmachineoffer").status_code == 202
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            reader.join(timeout=10)  # at the end of the output, before the pipe is closed


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--host", "192.0.2.7"], "'192.0.2.7' is not a loopback address"),
        (["--cancel-seconds", "nan"], "cancel_seconds must be a finite number of seconds >= 0, not nan"),
        (["--host", "no-such-host.invalid"], "no-such-host.invalid"),
    ],
    ids=["remote-host", "nan-seconds", "unknown-host"],
)
def test_serve_refuses_bad_settings_in_one_line(args: list[str], named: str):
    done = subprocess.run(
        [sys.executable, "-m", "cloudpartner", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("cloudpartner: error: ")
    assert named in done.stderr
