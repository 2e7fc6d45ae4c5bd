"""MkDocs hook: the docstrings' Sphinx roles (``:class:`Client```) shown as plain code.

The package's docstrings are Google style with reST roles in places; mkdocstrings renders the
role's text literally (``:class:Client``). This drops the role and keeps the code.
"""

from __future__ import annotations

import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|exc|data|mod|obj):(?=<code>)")


def on_page_content(html: str, **_: Any) -> str:
    """Remove the role prefix before each rendered code span."""
    return ROLE.sub("", html)
