"""The contract tests' client venvs: pinned public clients installed once per machine from PyPI.

Each venv lives under ``target/contract-venvs/<name>-<hash of its pins>`` and is reused while its
pins are unchanged; a venv whose install did not finish has no ``installed`` marker and is made
again. Moving a pin makes a new venv on the next run (the old one can be deleted).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "target" / "contract-venvs"
INSTALL_SECONDS = 900  # a cold install (azure SDKs included) takes about a minute on a good link


class InstallError(RuntimeError):
    """The pinned clients could not be installed (PyPI unreachable, a pin that does not exist)."""


def client_python(name: str, pins: tuple[str, ...]) -> Path:
    """Return the python of the venv holding ``pins``, making it first if needed."""
    digest = hashlib.sha256("\n".join(sorted(pins)).encode()).hexdigest()[:12]
    home = CACHE / f"{name}-{digest}"
    python = home / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    marker = home / "installed"
    if marker.exists():
        return python
    shutil.rmtree(home, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_SECONDS, check=False)
    except subprocess.TimeoutExpired as exc:
        msg = f"pip install {' '.join(pins)} did not finish in {INSTALL_SECONDS} s"
        raise InstallError(msg) from exc
    if done.returncode != 0:
        msg = f"pip install {' '.join(pins)} failed (exit {done.returncode}); PyPI is needed:\n{done.stderr[-4000:]}"
        raise InstallError(msg)
    marker.write_text("\n".join(pins) + "\n")
    return python
