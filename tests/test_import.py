"""`import cloudpartner` is cheap: public names load on first use, and every one of them resolves."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import cloudpartner
from cloudpartner.testing import FakePortal
from conftest import OFFER, PUBLISHER, TOKEN


def test_import_loads_nothing_heavy() -> None:
    probe = (
        "import sys; import cloudpartner; "
        "print(sorted(m for m in ('typing', 'dataclasses', 'threading', 'cloudpartner._core', "
        "'cloudpartner._client', 'http') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_every_public_name_resolves_and_all_is_complete() -> None:
    assert set(cloudpartner.__all__) == set(cloudpartner._MODULE_OF)
    for name in cloudpartner.__all__:
        assert getattr(cloudpartner, name) is not None
    assert set(cloudpartner.__all__) <= set(dir(cloudpartner))
    namespace: dict[str, object] = {}
    exec("from cloudpartner import *", namespace)
    assert {"Client", "cancel", "NotFoundError", "CancelResult"} <= set(namespace)


def test_unknown_names_are_attribute_errors() -> None:
    try:
        cloudpartner.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_the_cli_loads_the_offline_portal_only_for_serve_and_demo() -> None:
    probe = textwrap.dedent(
        """
        import contextlib, io, sys
        from cloudpartner import cli
        with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
            cli.main(["--help"])
        print(sorted(m for m in ("http.server", "cloudpartner.testing", "pytest") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


# What a one-shot cancel must not pay for: each costs a fresh process milliseconds to import.
NOT_NEEDED_BY_A_CANCEL = ("typing", "dataclasses", "threading", "logging", "http", "json", "cloudpartner._types")


def test_a_cancel_imports_only_what_it_needs(portal: FakePortal) -> None:
    probe = textwrap.dedent(
        f"""
        import sys, cloudpartner
        with cloudpartner.Client({TOKEN!r}, base_url={portal.base_url!r}) as client:
            assert client.cancel({PUBLISHER!r}, {OFFER!r}).status_code == 202
        assert cloudpartner.cancel({PUBLISHER!r}, {OFFER!r}, {TOKEN!r}, base_url={portal.base_url!r}).status_code == 202
        print(sorted(m for m in {NOT_NEEDED_BY_A_CANCEL!r} if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stderr


NOT_NEEDED_BY_A_JOB_CANCEL = (*NOT_NEEDED_BY_A_CANCEL, "cloudpartner.ingestion._types", "re")


def test_a_cancel_from_the_command_line_imports_only_what_it_needs(portal: FakePortal) -> None:
    """Without --json neither cancel imports dataclasses (only --json needs it), nor what a library cancel skips."""
    portal.add_offer(PUBLISHER, "cold-offer")
    from cloudpartner import ingestion

    with ingestion.Client(TOKEN, base_url=portal.ingestion_url) as client:
        job = client.publish("cold-offer")
    commands = [
        ["cancel", PUBLISHER, OFFER, "--base-url", portal.base_url],
        ["ingestion", "cancel", job.id, "--base-url", portal.ingestion_url],
    ]
    not_needed = (*NOT_NEEDED_BY_A_CANCEL, "cloudpartner.ingestion._types")
    for command in commands:
        probe = textwrap.dedent(
            f"""
            import argparse, contextlib, io, sys
            argparse.ArgumentParser().add_argument("x")  # what argparse itself imports (3.9: threading)
            before = set(sys.modules)
            from cloudpartner import cli
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli.main({command!r}) == 0
            print(sorted(m for m in {not_needed!r} if m in sys.modules and m not in before))
            """
        )
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
        assert out.stdout.strip() == "[]", (command, out.stderr)


def test_an_ingestion_cancel_imports_only_what_it_needs(portal: FakePortal) -> None:
    portal.add_offer(PUBLISHER, "cold-offer")
    probe = textwrap.dedent(
        f"""
        import sys
        from cloudpartner import ingestion
        with ingestion.Client({TOKEN!r}, base_url={portal.ingestion_url!r}) as client:
            job = client.publish("cold-offer")
            before = set(sys.modules)
            stopped = client.cancel_job(job.id)
            assert stopped.cancelled and stopped.raw["jobStatus"] == "completed", stopped
        print(sorted(m for m in {NOT_NEEDED_BY_A_JOB_CANCEL!r} if m in before | set(sys.modules)))
        """
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_the_ingestion_names_resolve_lazily() -> None:
    from cloudpartner import ingestion

    assert set(ingestion.__all__) == set(ingestion._MODULE_OF)
    for name in ingestion.__all__:
        assert getattr(ingestion, name) is not None
    assert ingestion.JobAlreadyCompletedError is cloudpartner.JobAlreadyCompletedError
