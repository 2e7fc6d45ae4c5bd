"""``python -m cloudpartner``: the same as the ``cloudpartner`` command."""

from .cli import run

run()
