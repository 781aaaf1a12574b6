"""The ``socialkit`` command line (extra ``cli``: typer and rich).

``socialkit networks | accounts | auth login | post | posts | metrics | inbox | report | demo
| plan … | fakes serve``;
see docs/cli.md. ``app`` is the typer application (tests drive it with
``typer.testing.CliRunner``), ``main()`` the console script, :class:`CliEnv` the seam through
which tests give the commands their HTTP clients, store and environment.

Nothing here is imported by ``import socialkit``.
"""

from __future__ import annotations

from socialkit.cli._app import CliEnv, app, main, split_thread

__all__ = ["CliEnv", "app", "main", "split_thread"]
