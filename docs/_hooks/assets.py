"""MkDocs hook: pictures kept beside what makes them, served under ``assets/``.

``benchmarks/peers.png`` is written by ``benchmarks/peers.py`` next to BENCHMARKS.md; the site
takes it from there rather than keeping a second copy that could go stale.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
ASSETS = {"assets/peers.png": ROOT / "benchmarks" / "peers.png"}


def on_files(files: Files, config: Any, **_: Any) -> Files:
    """Add each picture as a file of the site."""
    for uri, source in ASSETS.items():
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files
