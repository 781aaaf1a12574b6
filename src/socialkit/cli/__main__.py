"""``python -m socialkit.cli``: the same as the ``socialkit`` console script."""

from socialkit.cli import main

main()
