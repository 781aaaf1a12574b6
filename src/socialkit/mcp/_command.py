"""``socialkit mcp``: serve the accounts to AI assistants; ``approvals``, ``approve``, ``reject``.

``socialkit mcp`` speaks MCP on stdin/stdout (what desktop assistants launch);
``socialkit mcp --http`` serves streamable HTTP behind a bearer token (``SOCIALKIT_MCP_TOKEN``).
The settings (which acting tools are on, for which accounts, with or without approval) come
from ``mcp.toml`` beside the accounts file (``--settings`` or ``SOCIALKIT_MCP_SETTINGS``).
A person decides what waits for approval with ``socialkit mcp approvals`` and
``socialkit mcp approve ID`` / ``reject ID``.

This module registers the commands on the command line's ``app`` (``socialkit.cli._app``
imports it last); the MCP SDK is imported only when the server starts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from socialkit.cli._app import (
    ConfigOption,
    _escape,
    _opened,
    _print_json,
    _run,
    _State,
    _state,
    app,
)
from socialkit.mcp._settings import McpSettings, load_settings

if TYPE_CHECKING:
    from socialkit.mcp._models import Pending
    from socialkit.mcp._workspace import Workspace
    from socialkit.workflows.planner import PlanDB

__all__ = ["mcp_app"]

mcp_app = typer.Typer(
    help="Serve the accounts to AI assistants over MCP (stdio, or HTTP with --http); "
    "decide what waits for approval.",
    invoke_without_command=True,
)
app.add_typer(mcp_app, name="mcp")

SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        envvar="SOCIALKIT_MCP_SETTINGS",
        help="The MCP settings (default: mcp.toml beside the accounts file).",
        dir_okay=False,
        show_default=False,
    ),
]
AccountOption = Annotated[
    list[str] | None, typer.Option("--account", help="Account label (repeatable; default all).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


_SETTINGS_KEY = "socialkit.mcp.settings"


def _settings_path(state: _State, given: Path | None) -> Path:
    return given if given is not None else state.config_path.parent / "mcp.toml"


def _given_settings(ctx: typer.Context, given: Path | None) -> Path | None:
    found = given if given is not None else ctx.meta.get(_SETTINGS_KEY)
    return found if isinstance(found, Path) else None


def _plan_db(settings: McpSettings, environ: dict[str, str]) -> PlanDB:
    """The planner's database: ``planner_db``, else ``SOCIALKIT_PLANNER_DB``, else the
    planner's default (``planner.db`` in the user data directory), as ``socialkit plan``."""
    from socialkit.workflows.planner import open_plan_db

    where = settings.planner_db or environ.get("SOCIALKIT_PLANNER_DB")
    if not where:
        import platformdirs

        where = str(Path(platformdirs.user_data_dir("socialkit", appauthor=False)) / "planner.db")
    return open_plan_db(where)


@asynccontextmanager
async def _workspace(
    state: _State, settings_path: Path | None, accounts: list[str] | None
) -> AsyncIterator[Workspace]:
    from socialkit.mcp._workspace import Workspace

    settings = load_settings(_settings_path(state, settings_path))
    environ = dict(state.env.env())
    # The planner's cadence rules and blackouts (planner.toml beside the config file), as
    # `socialkit plan` reads them: posts planned or published through MCP follow them too.
    from socialkit.cli._plan import _rules

    rules = _rules(state, None)
    async with _opened(state, accounts) as opened:
        plan_db = _plan_db(settings, environ)
        try:
            yield Workspace(
                opened.adapters,
                store=opened.store,
                settings=settings,
                plan_db=plan_db,
                rules=rules["rules"],
                blackouts=rules["blackouts"],
            )
        finally:
            await plan_db.aclose()


@mcp_app.callback()
def mcp(
    ctx: typer.Context,
    http: Annotated[
        bool,
        typer.Option(
            "--http", help="Serve streamable HTTP (bearer token) instead of stdin/stdout."
        ),
    ] = False,
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help="HTTP port (default 8765).")
    ] = None,
    settings: SettingsOption = None,
    account: AccountOption = None,
    config: ConfigOption = None,
) -> None:
    """Serve the accounts to an AI assistant (stdio by default)."""
    if ctx.invoked_subcommand is not None:
        if http or port is not None or account:
            raise typer.BadParameter(
                f"--http, --port and --account serve; they do not go with "
                f"`mcp {ctx.invoked_subcommand}`"
            )
        # `socialkit mcp --settings FILE approve ID` is the same as giving it after `approve`.
        ctx.meta[_SETTINGS_KEY] = settings
        return
    state = _state(ctx, config)

    async def main() -> int:
        from socialkit.mcp._server import build_server

        environ = dict(state.env.env())
        token = None
        if http:
            from socialkit.mcp._settings import read_token

            token = read_token(load_settings(_settings_path(state, settings)).http, environ)
        async with _workspace(state, settings, account) as workspace:
            server = build_server(workspace, secrets=[token] if token else [])
            if token is None:
                await server.run_stdio_async()
                return 0
            from socialkit.mcp._http import serve_http

            where = workspace.settings.http
            state.err.print(
                f"socialkit MCP on http://{where.host}:{port or where.port}{where.path} "
                "(bearer token required)",
                markup=False,
            )
            await serve_http(server, where, token, port=port)
        return 0

    _run(state, main)


def _pending_table(state: _State, actions: list[Pending], title: str) -> None:
    table = Table(title=title)
    table.add_column("id")
    table.add_column("kind")
    table.add_column("status")
    table.add_column("accounts")
    table.add_column("when (UTC)")
    table.add_column("text", overflow="fold")
    table.add_column("detail", overflow="fold")
    for a in actions:
        table.add_row(
            a.id,
            a.kind + (f" {a.item}" if a.item else ""),
            a.status,
            ", ".join(a.accounts),
            f"{a.at:%Y-%m-%d %H:%M}" if a.at else "now",
            _escape(a.text),
            _escape(a.detail or ""),
        )
    state.out.print(table)


@mcp_app.command("approvals")
def approvals(
    ctx: typer.Context,
    every: Annotated[
        bool, typer.Option("--all", help="Every action, not only those that wait.")
    ] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """What assistants queued for a person's approval (publishes, planned posts, replies)."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        from socialkit.mcp._approvals import Approvals

        store = state.env.store()
        try:
            found = await Approvals(store).list(status=None if every else "pending")
        finally:
            await store.aclose()
        if as_json:
            _print_json(state, [a.model_dump(mode="json") for a in found])
        elif not found:
            state.out.print("Nothing waits for approval.", markup=False)
        else:
            _pending_table(state, found, "Approvals" if every else "Waiting for approval")
        return 0

    _run(state, main)


@mcp_app.command("approve")
def approve(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID", help="The action's id.")],
    settings: SettingsOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Carry out an action that waits (publish now, put in the calendar, send the reply)."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        from socialkit.mcp._approvals import Approvals

        store = state.env.store()
        try:
            action = await Approvals(store).get(action_id)
        except KeyError as exc:
            from socialkit._errors import ConfigurationError

            raise ConfigurationError(str(exc.args[0])) from None
        finally:
            await store.aclose()
        async with _workspace(state, _given_settings(ctx, settings), action.accounts) as workspace:
            done = await workspace.approve(action_id)
        if as_json:
            _print_json(state, done.model_dump(mode="json"))
        else:
            _pending_table(state, [done], "Approved")
        return 0 if done.status == "done" else 1

    _run(state, main)


@mcp_app.command("reject")
def reject(
    ctx: typer.Context,
    action_id: Annotated[str, typer.Argument(metavar="ID", help="The action's id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept with it).")] = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refuse an action that waits: nothing is sent."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        from socialkit.mcp._approvals import Approvals

        store = state.env.store()
        try:
            done = await Approvals(store).reject(action_id, reason)
        except KeyError as exc:
            from socialkit._errors import ConfigurationError

            raise ConfigurationError(str(exc.args[0])) from None
        finally:
            await store.aclose()
        if as_json:
            _print_json(state, done.model_dump(mode="json"))
        else:
            _pending_table(state, [done], "Rejected")
        return 0

    _run(state, main)
