"""``python -m monoview``: the same as the ``monoview`` command."""

from monoview.cli import entry

entry()
