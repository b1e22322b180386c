"""``python -m lowcode``: the ``lowcode`` command (what `lowcode start` runs its children with)."""
from .cli import main

main(prog_name="lowcode")
