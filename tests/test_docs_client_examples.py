"""The testing guide's cloudpub and azure-img-utils examples run, as written, in the clients' own venvs.

tests/test_docs_examples.py runs the guides' examples in this project's venv, where neither
client is installed; it skips these two (their ``no-run`` mark names this file). Here each is
read from docs/guides/testing.md (never restated) and run with the venv's python of the contract
tests, pinned as there. ``cloudpartner`` comes from ``python/`` on ``PYTHONPATH``: the package
with its built extension, the path the project's own editable install (``make dev``) puts on
``sys.path``; the guide tells users to ``pip install cloudpartner`` beside the client.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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


def run_in(venv: str, pins: tuple[str, ...], code: str) -> None:
    try:
        python = venvs.client_python(venv, pins)
    except venvs.InstallError as exc:
        pytest.fail(str(exc))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=RUN_SECONDS, env=env, check=False
    )
    assert done.returncode == 0, done.stderr[-6000:]


def test_the_guides_cloudpub_example_runs_against_the_routed_portal() -> None:
    run_in("ingestion-clients", INGESTION_PINS, example("cloudpub"))


def test_the_guides_azure_img_utils_example_runs_against_the_routed_portal() -> None:
    run_in("cpp-clients", CPP_PINS, example("azure_img_utils"))
