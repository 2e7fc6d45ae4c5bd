"""``python -m cloudpartner``: the same as the ``cloudpartner`` command."""

from ._cli import run

run()
