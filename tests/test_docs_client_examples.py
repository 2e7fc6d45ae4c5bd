"""The testing guide's cloudpub and azure-img-utils examples run, as written, in the clients' own venvs.

tests/test_docs_examples.py runs the guides' examples in this project's venv, where neither
client is installed; it skips these two (their ``no-run`` mark names this file). Here each is
read from docs/guides/testing.md (never restated) and run with the venv's python of the contract
tests, pinned as there. ``cloudpartner`` is the package under test (the installed wheel, or
``python/`` with ``make dev``'s build), reached through a directory that holds only it, on
``PYTHONPATH``: nothing else of this venv shadows the client's pins. The guide tells users to
``pip install cloudpartner`` beside the client.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cloudpartner
import pytest
from contract import venvs
from test_contract_clients import INGESTION_PINS
from test_contract_cpp import CPP_PINS
from test_docs_examples import python_blocks

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guides" / "testing.md"
RUN_SECONDS = 120


def example(imports: str) -> str:
    """The guide's one block that imports ``imports`` (a test failure when there is not exactly one)."""
    found = [b for b in python_blocks(GUIDE) if f"from {imports}" in b.code]
    assert len(found) == 1, f"{GUIDE.name} has {len(found)} examples importing {imports}"
    assert found[0].no_run is not None and "test_docs_client_examples" in found[0].no_run
    return found[0].code


def run_in(venv: str, pins: tuple[str, ...], code: str, packages: Path) -> None:
    try:
        python = venvs.client_python(venv, pins)
    except venvs.InstallError as exc:
        pytest.fail(str(exc))
    (packages / "cloudpartner").symlink_to(Path(cloudpartner.__file__).parent, target_is_directory=True)
    env = {**os.environ, "PYTHONPATH": str(packages)}
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=RUN_SECONDS, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-6000:]


def test_the_guides_cloudpub_example_runs_against_the_routed_portal(tmp_path: Path) -> None:
    run_in("ingestion-clients", INGESTION_PINS, example("cloudpub"), tmp_path)


def test_the_guides_azure_img_utils_example_runs_against_the_routed_portal(tmp_path: Path) -> None:
    run_in("cpp-clients", CPP_PINS, example("azure_img_utils"), tmp_path)
