"""The ``socialkit`` commands (typer + rich).

Every command that talks to networks runs one event loop (``asyncio.run``), opens the adapters
of the accounts it needs from the config file and the store, and closes them at the end. What
the commands reach outside the process goes through :class:`CliEnv`, which tests replace:
``CliRunner().invoke(app, [...], obj=CliEnv(http=lambda account: fake.client()))``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import pydantic
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from typer.core import TyperGroup

from socialkit._errors import AuthError, ConfigurationError, InvalidPostError, SocialkitError
from socialkit._models import Media, Post, Problem
from socialkit.cli._config import (
    SECRETS_NAMESPACE,
    AccountConfig,
    Config,
    default_config_path,
    env_name,
    secret_key,
)
from socialkit.cli._exit import ExitCode, code_for, code_for_failures
from socialkit.cli._render import (
    jsonable,
    networks_table,
    queues_table,
    short,
    slots_table,
    top_posts_table,
)

if TYPE_CHECKING:
    import httpx

    from socialkit._store import Store
    from socialkit.adapters._base import Adapter

__all__ = ["CliEnv", "app", "main", "split_thread"]


def _no_http(account: AccountConfig) -> httpx.AsyncClient | None:
    return None


def _default_store() -> Store:
    from socialkit._store import SQLiteStore

    return SQLiteStore()


@dataclass
class CliEnv:
    """What the commands use from outside the process; tests swap parts of it.

    ``http(account)`` may return an ``httpx.AsyncClient`` for an account (for example a fake
    network's ``fake.client()``); the command closes it when done. ``None`` lets the adapter
    make its own. ``store()`` opens the store for secrets, tokens and workflow state (default:
    the SQLite file, ``SOCIALKIT_STORE`` overrides its path).
    """

    http: Callable[[AccountConfig], httpx.AsyncClient | None] = _no_http
    store: Callable[[], Store] = _default_store
    environ: Mapping[str, str] | None = None
    open_browser: bool = True
    opener: Callable[[str], object] | None = None
    login_timeout: float = 300.0
    width: int | None = None

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ


@dataclass
class _State:
    env: CliEnv
    config_path: Path
    config_given: bool = False
    """Whether the path was given (``--config`` or ``SOCIALKIT_CONFIG``): then it must exist."""
    as_json: bool = False
    out: Console = field(init=False)
    err: Console = field(init=False)
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out = Console(width=self.env.width, highlight=False)
        self.err = Console(width=self.env.width, stderr=True, highlight=False)

    def config(self) -> Config:
        if self.config_given and not self.config_path.exists():
            raise ConfigurationError(
                f"the config file {self.config_path} does not exist (given by --config or "
                "SOCIALKIT_CONFIG); check the path, or create it with `socialkit auth login "
                f"NETWORK --account LABEL --config {self.config_path}`"
            )
        return Config.load(self.config_path)


def _wants_json(args: Sequence[str]) -> bool:
    for arg in args:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


# Typer >= 0.22 vendors click (typer._click), older ones use click itself: take the base class
# of usage errors from the one typer raises.
_ClickException: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)


class _Group(TyperGroup):
    """With ``--json``, usage errors found while parsing are JSON too (on stdout, exit 2)."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if not standalone_mode or not _wants_json(argv):
            return super().main(
                argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(argv, prog_name, complete_var, False, windows_expand_args, **extra)
        except _ClickException as exc:
            code = int(getattr(exc, "exit_code", 2))
            message = exc.format_message()  # type: ignore[attr-defined]
            typer.echo(_error_document(type(exc).__name__, message, code, []))
            sys.exit(code)
        except typer.Abort:
            typer.echo(_error_document("Aborted", "aborted", 1, []))
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _error_document(kind: str, message: str, code: int, problems: Sequence[object]) -> str:
    error: dict[str, Any] = {"type": kind, "message": message, "exit_code": code}
    if problems:
        error["problems"] = [str(p) for p in problems]
    return json.dumps({"error": error}, indent=2, sort_keys=True)


app = typer.Typer(
    name="socialkit",
    help="Publish, read, measure and listen on social networks (socialkit).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Group,
)
auth_app = typer.Typer(help="Log in to a network and keep the credentials in the token store.")
app.add_typer(auth_app, name="auth")


def _show_version(value: bool) -> None:
    if value:
        from socialkit._version import __version__

        typer.echo(f"socialkit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="SOCIALKIT_CONFIG",
            help="The accounts file (default: socialkit/config.toml in the user config dir); "
            "a path given here must exist. Also accepted after the command name.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print socialkit's version and exit.",
        ),
    ] = False,
) -> None:
    env = ctx.obj if isinstance(ctx.obj, CliEnv) else CliEnv()
    ctx.obj = _State(
        env=env, config_path=config or default_config_path(), config_given=config is not None
    )


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The accounts file, as before the command name (this one wins).",
        show_default=False,
    ),
]


def _state(ctx: typer.Context, config: Path | None = None, *, as_json: bool = False) -> _State:
    state = ctx.obj
    assert isinstance(state, _State)
    if config is not None:
        state.config_path = config
        state.config_given = True
    state.as_json = as_json
    return state


def _fail(state: _State, error: BaseException) -> typer.Exit:
    from rich.markup import escape

    code = int(code_for(error))
    problems = list(getattr(error, "problems", ()) or ())
    if state.as_json:
        # --json: the error is the one JSON document on stdout (docs/cli.md).
        message = str(error) or type(error).__name__
        typer.echo(_error_document(type(error).__name__, message, code, problems))
        return typer.Exit(code)
    # The message may hold brackets ("[accounts.<label>]", a server's text): never markup.
    message = escape(str(error) or type(error).__name__)
    state.err.print(f"[bold red]error:[/] {message}", markup=True, soft_wrap=True)
    for problem in problems:
        state.err.print(f"  - {problem}", markup=False, soft_wrap=True)
    return typer.Exit(code)


def _check_zone(state: _State, tz: str, option: str = "--tz") -> None:
    """Refuse an unknown time zone before any request (exit 3). A region's folder such as
    ``America`` is no zone either: ``ZoneInfo`` raises ``IsADirectoryError`` (an OSError)."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError):
        raise _fail(
            state, ConfigurationError(f"unknown time zone {tz!r} ({option}); use an IANA name")
        ) from None


def _run(state: _State, main: Callable[[], Awaitable[int | None]]) -> None:
    """Run a command's coroutine; turn socialkit errors into their exit codes."""

    async def guarded() -> int | None:
        try:
            return await main()
        finally:
            while state.clients:
                await state.clients.pop().aclose()

    try:
        code = asyncio.run(guarded())
    except SocialkitError as exc:
        raise _fail(state, exc) from None
    if code:
        raise typer.Exit(int(code))


def _progress(state: _State, *, disable: bool) -> Progress:
    """The progress bar of a long command, on stderr (off with ``--json`` or ``--quiet``)."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=state.err,
        disable=disable,
    )


def _print_json(state: _State, data: Any) -> None:
    # Plain stdout (no rich markup or wrapping): scripts parse it.
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


# -- opening accounts ---------------------------------------------------------------------------


@asynccontextmanager
async def _opened(state: _State, labels: Sequence[str] | None) -> AsyncIterator[_Opened]:
    """The store and the adapters of the accounts named (all by default); closed on exit."""
    config = state.config()
    accounts = config.select(list(labels or []))
    store = state.env.store()
    opened = _Opened(store=store, accounts={a.label: a for a in accounts})
    try:
        problems: list[str] = []
        for account in accounts:
            try:
                settings = await account.build(state.env.env(), store)
            except ConfigurationError as exc:
                problems.extend(f"{account.label}: {p}" for p in exc.problems or [str(exc)])
                continue
            client = state.env.http(account)
            if client is not None:
                opened.clients.append(client)
            adapter = account.adapter_class(settings, http=client)
            opened.adapters[account.label] = adapter
            # As ``async with`` does: an adapter takes up the login stored by
            # `socialkit auth login` here (Meta's, with the Page it chose). An account
            # without credentials is for the command to report; no request is sent.
            with suppress(AuthError):
                await adapter.ensure_credentials()
        if problems:
            raise ConfigurationError("some accounts cannot be used", problems)
        yield opened
    finally:
        for adapter in opened.adapters.values():
            await adapter.aclose()
        for client in opened.clients:
            await client.aclose()
        await store.aclose()


@dataclass
class _Opened:
    store: Store
    accounts: dict[str, AccountConfig]
    adapters: dict[str, Adapter] = field(default_factory=dict)
    clients: list[httpx.AsyncClient] = field(default_factory=list)


# -- networks -----------------------------------------------------------------------------------


@app.command()
def networks(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The registered networks, what they can do and their limits."""
    import socialkit

    state = _state(ctx, as_json=as_json)
    infos = socialkit.adapters()
    if as_json:
        _print_json(
            state,
            [
                {
                    "name": info.name,
                    "capabilities": sorted(c.value for c in info.capabilities),
                    "limits": info.limits.summary(),
                    "source": info.source,
                    "docs_url": info.cls.docs_url,
                }
                for info in infos
            ],
        )
        return
    table = Table(title="Registered networks")
    table.add_column("network")
    table.add_column("text")
    table.add_column("media")
    table.add_column("thread")
    table.add_column("capabilities", overflow="fold")
    for info in infos:
        limits = info.limits
        text = "-" if limits.max_text is None else f"{limits.max_text} {limits.text_unit}"
        thread = "unlimited" if limits.max_thread is None else str(limits.max_thread)
        table.add_row(
            info.name,
            text,
            str(limits.max_media),
            thread,
            ", ".join(sorted(c.value for c in info.capabilities)),
        )
    state.out.print(table)


# -- accounts -----------------------------------------------------------------------------------


async def _has_token(account: AccountConfig, store: Store) -> bool:
    from socialkit.auth import TokenStore

    tokens = TokenStore(store)
    if await tokens.get(account.network, account.label) is not None:
        return True
    # Bluesky keeps an OAuth session under its own key, per identifier.
    identifier = account.settings.get("identifier")
    if account.network == "bluesky" and isinstance(identifier, str):
        return await tokens.get("bluesky-oauth", identifier) is not None
    return False


def _no_credentials(account: AccountConfig) -> str:
    return (
        f"no credentials: run `socialkit auth login {account.network} --account "
        f"{account.label}` or set "
        + ", ".join(env_name(account.label, n) for n in account.secret_names())
    )


async def _missing_credentials(
    account: AccountConfig, environ: Mapping[str, str], store: Store
) -> str | None:
    """Why the account has no credentials at all (None when it has some, or needs none)."""
    if not account.secret_names() or await account.secrets(environ, store):
        return None
    if await _has_token(account, store):
        return None
    return _no_credentials(account)


async def _account_status(
    account: AccountConfig, environ: Mapping[str, str], store: Store
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "label": account.label,
        "network": account.network,
        "settings": dict(account.settings),
    }
    found = await account.secrets(environ, store)
    row["secrets"] = {name: source for name, (_value, source) in found.items()}
    row["missing_secrets"] = [n for n in account.secret_names() if n not in found]
    row["token"] = await _has_token(account, store)
    row["credentials"] = bool(found) or row["token"]
    try:
        await account.build(environ, store)
    except ConfigurationError as exc:
        row["usable"] = False
        row["problems"] = list(exc.problems) or [str(exc)]
    else:
        row["usable"] = row["credentials"] or not account.secret_names()
        row["problems"] = [] if row["usable"] else [_no_credentials(account)]
    return row


@app.command()
def accounts(
    ctx: typer.Context,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The configured accounts and whether their credentials are found (never shown)."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        config = state.config()
        store = state.env.store()
        try:
            rows = [
                await _account_status(a, state.env.env(), store) for a in config.accounts.values()
            ]
        finally:
            await store.aclose()
        if as_json:
            _print_json(state, {"config": str(config.path), "accounts": rows})
            return 0
        if not rows:
            state.out.print(
                f"No accounts in {config.path}. Add [accounts.<label>] tables or run "
                "`socialkit auth login NETWORK --account LABEL`.",
                markup=False,
            )
            return 0
        table = Table(title=f"Accounts ({config.path})")
        table.add_column("account")
        table.add_column("network")
        table.add_column("settings", overflow="fold")
        table.add_column("credentials", overflow="fold")
        table.add_column("status", overflow="fold")
        for row in rows:
            creds = [f"{name}: {source}" for name, source in row["secrets"].items()]
            if row["token"]:
                creds.append("token: store")
            status = "ready" if row["usable"] else "; ".join(row["problems"])
            table.add_row(
                row["label"],
                row["network"],
                ", ".join(f"{k}={v}" for k, v in row["settings"].items()) or "-",
                ", ".join(creds) or "none found",
                status,
            )
        state.out.print(table)
        return 0

    _run(state, main)


# -- auth login ---------------------------------------------------------------------------------


@auth_app.command("login")
def auth_login(
    ctx: typer.Context,
    network: Annotated[
        str, typer.Argument(help="The network (see `socialkit networks`), e.g. x or reddit.")
    ],
    account: Annotated[str, typer.Option("--account", help="The label of this account.")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A setting of the account, KEY=VALUE (repeatable); the login settings not "
            "given are prompted for (secrets hidden).",
        ),
    ] = None,
    instance: Annotated[
        str | None, typer.Option(help="Mastodon: the server URL (https://…).")
    ] = None,
    identifier: Annotated[
        str | None, typer.Option(help="Bluesky: the handle or DID (prompted if absent).")
    ] = None,
    service: Annotated[str | None, typer.Option(help="Bluesky: the PDS URL.")] = None,
    client_id: Annotated[
        str | None, typer.Option(help="Same as --set client_id=… (X, Reddit, …).")
    ] = None,
    confidential: Annotated[
        bool,
        typer.Option(
            help="The app is confidential: also ask for its client secret (X; Reddit and "
            "TikTok always ask)."
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=65535,
            help="Loopback port of the redirect http://127.0.0.1:PORT/callback (OAuth: the "
            "registered callback's port, default 8765; Mastodon: default any; 0: any).",
            show_default=False,
        ),
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the login URL without opening it.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Log in and store the credentials: OAuth in the browser, or the secrets a network takes
    (a bot token, an app password, a script app's password), checked first."""
    from socialkit.cli._config import _LABEL

    state = _state(ctx, config)
    if not _LABEL.match(account):
        raise typer.BadParameter(
            "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            param_hint="--account",
        )
    given = _parse_sets(set_ or [])
    if client_id:
        given["client_id"] = client_id
    if network == "bluesky":
        ident = identifier or typer.prompt("Bluesky handle or DID")
        environ = state.env.env()
        password = environ.get(env_name(account, "password")) or typer.prompt(
            "App password (Settings > Privacy and security > App passwords)", hide_input=True
        )
        settings: dict[str, Any] = {**given, "identifier": ident}
        if service:
            settings["service"] = service
        _run(state, lambda: _login_bluesky(state, account, settings, password))
    elif network == "mastodon":
        if not instance:
            # Never a default server: the account lives on one, and only the user knows which.
            raise typer.BadParameter(
                "Mastodon needs your server's address, e.g. --instance https://example.social",
                param_hint="--instance",
            )
        settings = {**given, "instance": instance}
        _run(state, lambda: _login_mastodon(state, account, settings, port or 0, no_browser))
    else:
        try:
            cls = AccountConfig(label=account, network=network).adapter_class
        except ConfigurationError as exc:
            raise _fail(state, exc) from None
        wanted = _login_settings(cls, given)
        if wanted is None:
            raise _fail(
                state,
                ConfigurationError(
                    f"socialkit auth login cannot log in to {network}: its adapter declares no "
                    "login (login_settings); configure the account in the config file "
                    f"(networks that can log in: {', '.join(_login_networks())})"
                ),
            )
        if confidential and "client_secret" in cls.Settings.model_fields:
            wanted = (*wanted, "client_secret")
        _prompt_missing(state, cls, account, given, wanted)
        redirect_port = 8765 if port is None else port
        _run(state, lambda: _login(state, cls, account, given, redirect_port, no_browser))


def _parse_sets(pairs: Sequence[str]) -> dict[str, Any]:
    from socialkit.cli._config import RESERVED

    given: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        if key in RESERVED or key in ("network", "require_credentials"):
            raise typer.BadParameter(f"{key} is set by socialkit", param_hint="--set")
        given[key] = value
    return given


def _login_settings(cls: type[Adapter], given: Mapping[str, Any]) -> tuple[str, ...] | None:
    """What a login of ``cls`` needs: its ``login_settings``, refined by ``ex_login_settings``
    when the adapter has several kinds of login (Reddit: a script app's password)."""
    from socialkit.auth import login_settings

    base = login_settings(cls)
    refine = getattr(cls, "ex_login_settings", None)
    if base is None or not callable(refine):
        return base
    return tuple(dict.fromkeys((*base, *refine(given))))


def _login_networks() -> list[str]:
    import socialkit

    return sorted(
        {"bluesky", "mastodon"}
        | {info.name for info in socialkit.adapters() if _login_settings(info.cls, {}) is not None}
    )


def _prompt_missing(
    state: _State,
    cls: type[Adapter],
    label: str,
    given: dict[str, Any],
    wanted: Sequence[str],
) -> None:
    """Ask for each login setting not given (a secret from ``SOCIALKIT_<LABEL>_<NAME>`` first,
    else without echo), except those the adapter names in ``optional_login_settings`` (taken
    from ``--set`` only)."""
    from socialkit.cli._config import secret_fields

    secrets = set(secret_fields(cls.Settings))
    optional = set(getattr(cls, "optional_login_settings", ()))
    environ = state.env.env()
    for name in wanted:
        if given.get(name):
            continue
        info = cls.Settings.model_fields.get(name)
        if info is None:
            raise _fail(state, ConfigurationError(f"{cls.name}: no setting {name!r}"))
        secret = name in secrets
        if secret and environ.get(env_name(label, name)):
            given[name] = environ[env_name(label, name)]
            continue
        if name in optional:
            continue
        text = name + (f" ({info.description})" if info.description else "")
        given[name] = typer.prompt(text, hide_input=secret)


async def _login(
    state: _State,
    cls: type[Adapter],
    label: str,
    given: dict[str, Any],
    port: int,
    no_browser: bool,
) -> int:
    """The login of an adapter that declares ``login_settings``: when the settings given
    authenticate without a token (a bot token, a script app's password) they are checked with
    ``me()``; otherwise the adapter's OAuth login (:class:`socialkit.auth.OAuthLogin`) runs
    through the loopback redirect. Then the secrets go to the store, the rest to the config."""
    from socialkit._store import MemoryStore
    from socialkit.adapters._base import Adapter as BaseAdapter
    from socialkit.auth import OAuthLogin, supports_oauth_login
    from socialkit.cli._config import secret_fields

    secrets = set(secret_fields(cls.Settings))
    plain = {k: v for k, v in given.items() if k not in secrets}
    account = AccountConfig(label=label, network=cls.name, settings=plain)
    store = state.env.store()
    try:
        values = {**given, "account": label, "require_credentials": False}
        # Whether the settings authenticate by themselves: asked of an empty token store (an
        # OAuth adapter that does not check its credentials logs in through the browser).
        checks = cls.ensure_credentials is not BaseAdapter.ensure_credentials
        oauth_login = supports_oauth_login(cls)
        async with _connect_raw(state, account, {**values, "store": MemoryStore()}) as probe:
            try:
                await probe.ensure_credentials()
                direct = checks or not oauth_login
            except (AuthError, ConfigurationError):
                if not oauth_login:
                    raise
                direct = False
        adapter = _connect_raw(state, account, {**values, "store": store})
        holder: dict[str, Any] = {}
        try:
            if direct:
                async with adapter:
                    holder["me"] = await adapter.me()
            else:
                oauth = cast(OAuthLogin, adapter)

                def begin(redirect_uri: str) -> Any:
                    holder["redirect_uri"] = redirect_uri
                    return oauth.ex_authorization_url(redirect_uri=redirect_uri)

                async def finish(request: Any, redirect: dict[str, str]) -> None:
                    async with adapter:
                        await oauth.ex_exchange_code(request, redirect)  # stores the token
                        holder["me"] = await adapter.me()

                await _loopback_login(state, begin, finish, cls.name, port, no_browser)
        finally:
            await adapter.aclose()
        if "redirect_uri" in holder and "redirect_uri" in cls.Settings.model_fields:
            # The token endpoint may ask for it again (a refresh), as registered.
            account = AccountConfig(
                label=label,
                network=cls.name,
                settings={**plain, "redirect_uri": holder["redirect_uri"]},
            )
        for name in sorted(secrets & set(given)):
            await store.put(SECRETS_NAMESPACE, secret_key(label, name), str(given[name]))
    finally:
        await store.aclose()
    Config.load(state.config_path).save_account(account)
    me = holder["me"]
    state.out.print(
        f"Logged in to {cls.name} as {me.handle or me.id}; account {label!r} saved in "
        f"{state.config_path}.",
        markup=False,
    )
    return 0


def _connect_raw(state: _State, account: AccountConfig, settings: dict[str, Any]) -> Adapter:
    from socialkit._registry import build_settings

    cls = account.adapter_class
    client = state.env.http(account)
    if client is not None:
        state.clients.append(client)  # closed by _run when the command ends
    return cls(build_settings(cls, settings), http=client)


async def _login_bluesky(state: _State, label: str, settings: dict[str, Any], password: str) -> int:
    store = state.env.store()
    account = AccountConfig(label=label, network="bluesky", settings=settings)
    try:
        adapter = _connect_raw(
            state, account, {**settings, "password": password, "account": label, "store": store}
        )
        async with adapter:
            me = await adapter.me()  # signs in once; the session is kept in the store
        await store.put(SECRETS_NAMESPACE, secret_key(label, "password"), password)
    finally:
        await store.aclose()
    Config.load(state.config_path).save_account(account)
    state.out.print(
        f"Logged in to bluesky as {me.handle or me.id}; account {label!r} saved in "
        f"{state.config_path}.",
        markup=False,
    )
    return 0


async def _loopback_login(
    state: _State,
    begin: Callable[[str], Any],
    finish: Callable[[Any, dict[str, str]], Awaitable[Any]],
    network: str,
    port: int,
    no_browser: bool,
) -> None:
    from socialkit.auth import LoopbackServer

    async with LoopbackServer(network=network, port=port) as server:
        request = (
            await begin(server.redirect_uri) if _is_async(begin) else begin(server.redirect_uri)
        )
        server.expected_state = request.state
        state.err.print(f"Open this URL in a browser to log in to {network}:", markup=False)
        state.err.print(request.url, markup=False, soft_wrap=True)
        if not no_browser and state.env.open_browser:
            try:
                opener = state.env.opener
                if opener is None:
                    import webbrowser

                    opener = webbrowser.open
                opener(request.url)
            except Exception:  # no browser is not fatal: the URL is printed
                state.err.print("(could not open a browser; open the URL yourself)")
        redirect = await server.wait(state.env.login_timeout)
    await finish(request, redirect)


def _is_async(func: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


async def _login_mastodon(
    state: _State, label: str, settings: dict[str, Any], port: int, no_browser: bool
) -> int:
    store = state.env.store()
    account = AccountConfig(label=label, network="mastodon", settings=settings)
    try:
        # The login steps run before any token exists.
        base = {**settings, "account": label, "store": store, "require_credentials": False}
        holder: dict[str, Any] = {}

        async def begin(redirect_uri: str) -> Any:
            async with _connect_raw(state, account, base) as plain:
                registered = await plain.ex_register_app(  # type: ignore[attr-defined]
                    "socialkit", [redirect_uri], website="https://pypi.org/project/socialkit/"
                )
            holder["app"] = registered
            adapter = _connect_raw(
                state,
                account,
                {
                    **base,
                    "client_id": registered.client_id,
                    "client_secret": registered.client_secret,
                },
            )
            holder["adapter"] = adapter
            return adapter.ex_authorization_url(redirect_uri)  # type: ignore[attr-defined]

        async def finish(request: Any, redirect: dict[str, str]) -> None:
            adapter = holder["adapter"]
            async with adapter:
                await adapter.ex_exchange_code(request, redirect)  # stores the token
                holder["me"] = await adapter.me()

        try:
            await _loopback_login(state, begin, finish, "mastodon", port, no_browser)
        finally:
            if "adapter" in holder:
                await holder["adapter"].aclose()
        registered = holder["app"]
        await store.put(SECRETS_NAMESPACE, secret_key(label, "client_id"), registered.client_id)
        await store.put(
            SECRETS_NAMESPACE,
            secret_key(label, "client_secret"),
            registered.client_secret.get_secret_value(),
        )
    finally:
        await store.aclose()
    Config.load(state.config_path).save_account(account)
    me = holder["me"]
    state.out.print(
        f"Logged in to mastodon as {me.handle or me.id}; account {label!r} saved in "
        f"{state.config_path}.",
        markup=False,
    )
    return 0


# -- post ---------------------------------------------------------------------------------------


def split_thread(text: str) -> list[str]:
    """The posts of a thread file: parts separated by a line holding only ``---``."""
    parts: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == "---":
            parts.append([])
        else:
            parts[-1].append(line)
    return [p for p in ("\n".join(lines).strip() for lines in parts) if p]


def _build_post(
    text: str | None, images: list[Path], alts: list[str], thread_file: Path | None
) -> Post:
    if text is not None and thread_file is not None:
        raise typer.BadParameter("give TEXT or --thread-file, not both")
    if len(alts) > len(images):
        raise typer.BadParameter("more --alt than --image", param_hint="--alt")
    if thread_file is not None:
        try:
            texts = split_thread(thread_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {thread_file}: {exc}") from None
        if not texts:
            raise typer.BadParameter(f"{thread_file} holds no post", param_hint="--thread-file")
    elif text is not None:
        texts = [text]
    elif images:
        texts = [""]
    else:
        raise typer.BadParameter("give TEXT, --image or --thread-file")
    try:
        media = [
            Media.from_path(path, alt=alts[i] if i < len(alts) else None)
            for i, path in enumerate(images)
        ]
        thread = [Post(text=t) for t in texts[1:]]
        return Post(text=texts[0], media=media, thread=thread)
    except (ValueError, pydantic.ValidationError) as exc:
        detail = (
            "; ".join(e["msg"] for e in exc.errors(include_url=False))
            if isinstance(exc, pydantic.ValidationError)
            else str(exc)
        )
        raise InvalidPostError(
            "every network", [Problem(code="invalid_post", message=detail)]
        ) from None


def _post_json(post: Post) -> dict[str, Any]:
    return {
        "id": post.id,
        "url": post.url,
        "network": post.network,
        "created_at": post.created_at.isoformat() if post.created_at else None,
        "thread": [{"id": p.id, "url": p.url} for p in post.thread],
    }


def _error_json(error: BaseException) -> dict[str, Any]:
    return {"type": type(error).__name__, "message": str(error), "exit_code": int(code_for(error))}


@app.command()
def post(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help="The text of the post.")] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option("--image", help="An image to attach (repeatable).", dir_okay=False),
    ] = None,
    alt: Annotated[
        list[str] | None, typer.Option("--alt", help="Alt text of each --image, in order.")
    ] = None,
    thread_file: Annotated[
        Path | None,
        typer.Option(help="A thread: posts separated by a line with ---.", dir_okay=False),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account label (repeatable; default all).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check only; nothing is sent.")
    ] = False,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Publish a post (or a thread) to one or several accounts, after a pre-flight check."""
    state = _state(ctx, config, as_json=as_json)
    try:
        the_post = _build_post(text, list(image or []), list(alt or []), thread_file)
    except InvalidPostError as exc:
        raise _fail(state, exc) from None

    async def main() -> int:
        from socialkit._hub import Hub

        async with _opened(state, account) as opened:
            hub = Hub(opened.adapters)
            checks = hub.check(the_post)
            missing: dict[str, str] = {}
            for label, config in opened.accounts.items():
                problem = await _missing_credentials(config, state.env.env(), opened.store)
                if problem is not None:
                    missing[label] = problem
            report: dict[str, Any] = {
                "dry_run": dry_run,
                "preflight": {
                    label: [p.model_dump(mode="json") for p in problems]
                    for label, problems in checks.items()
                },
                "missing_credentials": missing,
            }
            if not as_json:
                table = Table(title="Pre-flight check" + (" (dry run)" if dry_run else ""))
                table.add_column("account")
                table.add_column("network")
                table.add_column("result", overflow="fold")
                for label, problems in checks.items():
                    found = [_escape(p.message) for p in problems]
                    if label in missing:
                        found.append(_escape(missing[label]))
                    table.add_row(
                        label,
                        opened.adapters[label].name,
                        "[green]ok[/]" if not found else "[red]" + "; ".join(found) + "[/]",
                    )
                state.out.print(table)
            if missing or any(checks.values()):
                if as_json:
                    _print_json(state, report)
                else:
                    state.err.print("Nothing was sent: fix the problems above.", markup=False)
                # An account without credentials is a configuration problem (3), checked first.
                return ExitCode.CONFIG if missing else ExitCode.INVALID_POST
            if dry_run:
                if as_json:
                    _print_json(state, report)
                else:
                    state.out.print("Dry run: nothing was sent.", markup=False)
                return 0
            results = await _publish_with_progress(state, hub, the_post, quiet=as_json)
            report["results"] = {
                label: _post_json(r.value)
                if r.value is not None
                else {"error": _error_json(r.error or RuntimeError("no result"))}
                for label, r in results.items()
            }
            if as_json:
                _print_json(state, report)
            else:
                table = Table(title="Published")
                table.add_column("account")
                table.add_column("status")
                table.add_column("url", overflow="fold")
                for label, r in results.items():
                    if r.value is not None:
                        urls = [r.value.url or r.value.id or ""] + [
                            p.url or p.id or "" for p in r.value.thread
                        ]
                        table.add_row(label, "[green]published[/]", "\n".join(urls))
                    else:
                        table.add_row(label, "[red]failed[/]", _escape(str(r.error)))
                state.out.print(table)
            return code_for_failures([r.error for r in results.values()], len(results))

    _run(state, main)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


async def _publish_with_progress(state: _State, hub: Any, the_post: Post, *, quiet: bool) -> Any:
    """Publish through the hub, one account at a time in parallel, with a progress bar."""
    labels = list(hub.adapters)
    media = len(the_post.media)
    what = f"uploading {media} image(s) and publishing" if media else "publishing"
    progress = _progress(state, disable=quiet)
    results: dict[str, Any] = {}
    with progress:
        task = progress.add_task(what, total=len(labels))

        async def one(label: str) -> None:
            outcome = await hub.publish({label: the_post})
            results[label] = outcome[label]
            progress.advance(task)

        await asyncio.gather(*(one(label) for label in labels))
    return {label: results[label] for label in labels}


# -- posts --------------------------------------------------------------------------------------


def _one_label(opened: _Opened) -> str:
    if len(opened.adapters) != 1:
        raise ConfigurationError(
            "several accounts are configured; choose one with --account: "
            + ", ".join(opened.adapters)
        )
    return next(iter(opened.adapters))


@app.command()
def posts(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="Account label (needed with several).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many posts.")] = 20,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The account's latest posts with their counts."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _opened(state, [account] if account else None) as opened:
            label = _one_label(opened)
            adapter = opened.adapters[label]
            found = [p async for p in adapter.posts(limit=limit)]
        if as_json:
            _print_json(
                state,
                [
                    {
                        **_post_json(p),
                        "account": label,
                        "text": p.text,
                        "metrics": dict(p.metrics),
                    }
                    for p in found
                ],
            )
            return 0
        table = Table(title=f"Posts of {label}")
        table.add_column("posted (UTC)")
        table.add_column("text", overflow="fold")
        table.add_column("likes", justify="right")
        table.add_column("reposts", justify="right")
        table.add_column("replies", justify="right")
        table.add_column("url", overflow="fold")
        for p in found:
            table.add_row(
                f"{p.created_at:%Y-%m-%d %H:%M}" if p.created_at else "-",
                _escape(short(p.text)),
                str(p.metrics.get("likes", "-")),
                str(p.metrics.get("reposts", "-")),
                str(p.metrics.get("replies", "-")),
                p.url or p.id or "",
            )
        state.out.print(table)
        return 0

    _run(state, main)


# -- metrics ------------------------------------------------------------------------------------

_METRIC_ORDER = (
    "impressions",
    "views",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "bookmarks",
    "clicks",
    "engagements",
)


@app.command()
def metrics(
    ctx: typer.Context,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account label (repeatable; default all).")
    ] = None,
    posts_count: Annotated[
        int, typer.Option("--posts", min=1, help="How many recent posts to measure per account.")
    ] = 20,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Metrics of the accounts and of their recent posts (collected in bulk)."""
    from socialkit._capabilities import Capability
    from socialkit._models import Metric

    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _opened(state, account) as opened:
            progress = _progress(state, disable=as_json)
            out: dict[str, Any] = {}
            errors: dict[str, BaseException | None] = {}
            texts: dict[str, dict[str, str]] = {}
            with progress:

                async def collect(label: str) -> None:
                    adapter = opened.adapters[label]
                    task = progress.add_task(f"{label}: reading posts", total=None)
                    try:
                        recent = [p async for p in adapter.posts(limit=posts_count)]
                        ids = [p.id for p in recent if p.id is not None]
                        texts[label] = {p.id: p.text for p in recent if p.id is not None}
                        progress.update(task, description=f"{label}: metrics", total=len(ids))
                        per_post: dict[str, dict[str, float]] = {}
                        if adapter.supports(Capability.POST_METRICS):
                            for start in range(0, len(ids), 20):
                                chunk = ids[start : start + 20]
                                found = await adapter.metrics(chunk)
                                for pid, values in found.items():
                                    per_post[pid] = _values(values)
                                progress.advance(task, len(chunk))
                        else:
                            for p in recent:
                                if p.id is not None:
                                    per_post[p.id] = {k: float(v) for k, v in p.metrics.items()}
                            progress.advance(task, len(ids))
                        account_values: dict[str, float] = {}
                        if adapter.supports(Capability.ACCOUNT_METRICS):
                            account_values = _values(await adapter.account_metrics())
                        out[label] = {"account": account_values, "posts": per_post}
                        errors[label] = None
                    except SocialkitError as exc:
                        errors[label] = exc
                        out[label] = {"error": _error_json(exc)}

                def _values(found: Sequence[Metric]) -> dict[str, float]:
                    return {m.name: m.value for m in found}

                await asyncio.gather(*(collect(label) for label in opened.adapters))
        if as_json:
            _print_json(state, out)
        else:
            for label, data in out.items():
                if "error" in data:
                    state.err.print(f"{label}: {data['error']['message']}", markup=False)
                    continue
                account_line = ", ".join(
                    f"{k} {int(v) if float(v).is_integer() else v}"
                    for k, v in data["account"].items()
                )
                names = sorted(
                    {n for values in data["posts"].values() for n in values},
                    key=lambda n: (
                        _METRIC_ORDER.index(n) if n in _METRIC_ORDER else len(_METRIC_ORDER),
                        n,
                    ),
                )
                table = Table(title=f"{label}" + (f" ({account_line})" if account_line else ""))
                table.add_column("post")
                table.add_column("text", overflow="fold")
                for name in names:
                    table.add_column(name, justify="right")
                for pid, values in data["posts"].items():
                    table.add_row(
                        pid,
                        _escape(short(texts.get(label, {}).get(pid, ""), 40)),
                        *(_num(values.get(n)) for n in names),
                    )
                state.out.print(table)
        return code_for_failures(errors.values(), len(errors))

    _run(state, main)


def _num(number: float | None) -> str:
    if number is None:
        return "-"
    return str(int(number)) if float(number).is_integer() else f"{number:.2f}"


# -- inbox --------------------------------------------------------------------------------------


class _DropPrefix(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


@contextmanager
def _quiet_source_warnings(
    logger_name: str = "socialkit.workflows.inbox", prefix: str = "inbox source "
) -> Iterator[None]:
    """Mute a workflow's own warning per failing account: the command reports each one itself
    (otherwise Python's last-resort handler prints it a second time on stderr)."""
    logger = logging.getLogger(logger_name)
    dropper = _DropPrefix(prefix)
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)


@app.command()
def inbox(
    ctx: typer.Context,
    rules: Annotated[
        Path | None,
        typer.Option(
            "--rules", help="Routing rules (TOML or JSON; see docs/workflows.md).", dir_okay=False
        ),
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account label (repeatable; default all).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Messages per account on the first poll.")
    ] = 100,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Fetch new messages from every account and show the routed inbox with response times."""
    from socialkit.workflows import Inbox, LexiconScorer, RoutingTable

    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        routing = RoutingTable.from_file(rules) if rules is not None else RoutingTable()
        async with _opened(state, account) as opened:
            box = Inbox(
                opened.adapters,
                store=opened.store,
                routing=routing,
                scorer=LexiconScorer(),
                initial_limit=limit,
            )
            with _quiet_source_warnings():  # failures are reported below, once each
                new = await box.poll()
            open_items = await box.items(status=["new", "assigned"])
            report = await box.report()
            errors = dict(box.errors)
            polled = [label for label in opened.adapters if label not in box.skipped]
            skipped = list(box.skipped)
        failures = [errors.get(label) for label in polled]
        code = code_for_failures(failures, len(failures))
        if as_json:
            _print_json(
                state,
                {
                    "new": len(new),
                    "open": jsonable(open_items),
                    "queues": jsonable(report),
                    "errors": {k: _error_json(v) for k, v in errors.items()},
                    "skipped": skipped,
                },
            )
            return code
        for label, exc in errors.items():
            state.err.print(f"{label}: {type(exc).__name__}: {exc}", markup=False)
        for label in skipped:
            state.err.print(
                f"{label}: skipped (its network offers no comments, mentions or messages)",
                markup=False,
            )
        if polled and len(errors) == len(polled):
            return code  # every account failed: nothing to show but the errors above
        state.out.print(f"{len(new)} new message(s).", markup=False)
        if not open_items:
            state.out.print("No open messages.", markup=False)
        else:
            table = Table(title="Open messages")
            table.add_column("queue")
            table.add_column("prio", justify="right")
            table.add_column("network")
            table.add_column("kind")
            table.add_column("from")
            table.add_column("text", overflow="fold")
            for item in sorted(open_items, key=lambda i: (-i.priority, i.queue)):
                m = item.message
                table.add_row(
                    item.queue,
                    str(item.priority),
                    m.network,
                    m.kind,
                    m.author.handle or m.author.id,
                    _escape(short(m.text)),
                )
            state.out.print(table)
        if report:
            state.out.print(queues_table(report))
        return code

    _run(state, main)


# -- report -------------------------------------------------------------------------------------


@app.command()
def report(
    ctx: typer.Context,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Account label (repeatable; default all).")
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, help="Posts of the last N days.")] = 30,
    tz: Annotated[str, typer.Option("--tz", help="Time zone for best times (IANA).")] = "UTC",
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write the metrics as CSV.", dir_okay=False)
    ] = None,
    heatmap: Annotated[
        Path | None,
        typer.Option("--heatmap", help="Also write a best-time heatmap PNG.", dir_okay=False),
    ] = None,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Analytics: metrics of recent posts, per network, top posts, best times, advice."""
    from socialkit.workflows import (
        MetricsCollector,
        best_hours,
        best_times,
        performance_by,
        recommendations,
        top_posts,
        write_csv,
    )

    state = _state(ctx, config, as_json=as_json)
    _check_zone(state, tz)  # bad input fails before any request

    async def main() -> int:
        async with _opened(state, account) as opened:
            labels = list(opened.adapters)
            collector = MetricsCollector(opened.adapters, store=opened.store)
            with _quiet_source_warnings("socialkit.workflows.analytics", "metrics of "):
                await collector.collect(lookback=timedelta(days=days))
            since = datetime.now(timezone.utc) - timedelta(days=days)
            perfs = [
                p for p in await collector.performance(since=since) if p.source in opened.adapters
            ]
            errors = dict(collector.errors)
        data: dict[str, Any] = {
            "posts": len(perfs),
            "errors": {k: _error_json(v) for k, v in errors.items()},
        }
        if perfs:
            hours = best_hours(perfs, tz)
            data.update(
                networks=jsonable(performance_by(perfs, "network")),
                top_posts=jsonable(top_posts(perfs, 5)),
                best_hours=jsonable(hours.top(3)),
                recommendations=recommendations(perfs, tz),
            )
            if csv_path is not None:
                _write_file(csv_path, "--csv", lambda: write_csv(perfs, csv_path))
            if heatmap is not None:
                from socialkit.cli._png import write_heatmap

                _write_file(
                    heatmap, "--heatmap", lambda: write_heatmap(best_times(perfs, tz), heatmap)
                )
        if as_json:
            _print_json(state, data)
        elif not perfs:
            state.out.print(f"No posts in the last {days} days.", markup=False)
        else:
            state.out.print(networks_table(performance_by(perfs, "network")))
            state.out.print(top_posts_table(top_posts(perfs, 5)))
            hours = best_hours(perfs, tz)
            state.out.print(slots_table(hours.top(3), hours.rate, f"Best hours ({tz})"))
            for sentence in recommendations(perfs, tz):
                state.out.print(f"• {sentence}", markup=False)
        if not as_json:  # with --json they are in the document
            for label, exc in errors.items():
                state.err.print(f"{label}: {exc}", markup=False)
        failures = [errors.get(label) for label in labels]
        return code_for_failures(failures, max(1, len(failures)))

    _run(state, main)


def _write_file(path: Path, option: str, write: Callable[[], object]) -> None:
    """Write an output file; a path that cannot be written is a usage error (exit 2), not a
    traceback."""
    try:
        write()
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {path}: {exc.strerror or type(exc).__name__}", param_hint=option
        ) from None


# -- demo ---------------------------------------------------------------------------------------


@app.command()
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Seed of the simulated audience.")] = 7,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the heatmap and the CSV.", file_okay=False)
    ] = Path("socialkit-demo"),
    days: Annotated[int, typer.Option(min=2, max=14, help="Simulated days.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run everything against every fake network: no network, no credentials needed."""
    import io

    from socialkit.cli.demo import run_demo

    state = _state(ctx, as_json=as_json)
    # With --json the report goes to a buffer and only the JSON is printed.
    console = Console(file=io.StringIO(), width=120) if as_json else state.out
    try:
        # The report shows the crisis pause and the posts it holds.
        with _quiet_source_warnings("socialkit.workflows.planner", "planner paused"):
            result = run_demo(seed, out, days, console)
    except SocialkitError as exc:
        raise _fail(state, exc) from None
    if as_json:
        _print_json(state, result.to_json())
    if result.errors:
        raise typer.Exit(int(ExitCode.OTHER))


# -- new-adapter ----------------------------------------------------------------------------------


@app.command("new-adapter")
def new_adapter(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The network's name, e.g. demo-net.")],
    out: Annotated[
        Path, typer.Option("--out", help="Where to create socialkit-NAME/.", file_okay=False)
    ] = Path("."),
) -> None:
    """Create a new adapter package (the one layout, a fake, the conformance suites wired)."""
    from socialkit.cli._scaffold import write

    state = _state(ctx)
    try:
        target = write(name, out)
    except SocialkitError as exc:
        raise _fail(state, exc) from None
    state.out.print(f"created {target}")
    state.out.print(f"next: cd {target} && pip install -e '.[test]' && pytest", markup=False)


def main() -> None:
    """The ``socialkit`` console script."""
    app()


# ``plan …`` and ``fakes serve`` register themselves on ``app`` (socialkit.cli._plan).
from socialkit.cli import _plan  # noqa: E402, F401

# ``socialkit mcp …`` registers itself on ``app`` (socialkit.mcp._command; the MCP SDK is
# imported only when the server starts).
from socialkit.mcp import _command  # noqa: E402, F401
