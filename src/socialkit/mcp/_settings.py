"""What the MCP server may do: a TOML file of non-secret settings (``mcp.toml``).

The file sits beside the accounts file (``config.toml``) unless ``--settings`` or
``SOCIALKIT_MCP_SETTINGS`` names another one; without a file the server only reads. Every
acting tool is off until a table turns it on, for the accounts it lists::

    tz = "Europe/Paris"              # best times and the calendar's days
    listening_history_days = 7       # the first poll of a watch reads a week back

    [act.publish]                    # publish: off unless this table exists
    accounts = ["brand-masto"]       # "*" for every account
    approval = true                  # wait for a person (the default): `socialkit mcp approve`

    [act.reply]
    accounts = ["*"]
    approval = true

    [act.route]                      # move, assign or close inbox messages
    accounts = ["*"]

    [act.plan_post]                  # put posts in the calendar (the planner)
    accounts = ["*"]
    approval = false

    [http]                           # `socialkit mcp --http`
    host = "127.0.0.1"
    port = 8765
    path = "/mcp"
    token_file = "~/.config/socialkit/mcp-token"   # or SOCIALKIT_MCP_TOKEN

    [[watches]]                      # listening and alerts (see docs/workflows.md)
    name = "brand"
    role = "brand"
    keywords = ["socialkit"]

    [routing]                        # the inbox's routing table, inline
    default_queue = "inbox"

The bearer token of the HTTP transport is a secret: it is never read from this file, only from
the environment (``SOCIALKIT_MCP_TOKEN``) or from ``token_file`` (a file of its own, which
should be readable by its owner only).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from socialkit._errors import ConfigurationError
from socialkit.workflows.inbox import RoutingTable
from socialkit.workflows.listening import Watch

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ACT_TOOLS",
    "ActTool",
    "Acting",
    "HttpSettings",
    "McpSettings",
    "TOKEN_ENV",
    "load_settings",
    "read_token",
]

ActTool = Literal["publish", "reply", "route", "plan_post"]
#: The tools that change something outside the server (off unless configured).
ACT_TOOLS: tuple[ActTool, ...] = ("plan_post", "publish", "reply", "route")

#: The environment variable holding the HTTP transport's bearer token.
TOKEN_ENV = "SOCIALKIT_MCP_TOKEN"

#: The shortest bearer token accepted: a guessable token is no protection.
MIN_TOKEN_LENGTH = 24


class Acting(BaseModel):
    """One acting tool's switch: the accounts it may act for and whether a person approves."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    accounts: list[str] = Field(
        default_factory=list, description='Account labels, or "*" for every account.'
    )
    approval: bool = True
    """Wait for a person (``socialkit mcp approve ID``) instead of acting at once."""

    def allows(self, account: str) -> bool:
        return "*" in self.accounts or account in self.accounts


class HttpSettings(BaseModel):
    """Where the streamable HTTP transport listens (loopback by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    path: str = Field(default="/mcp", pattern=r"^/[A-Za-z0-9/_.-]*$")
    token_file: Path | None = None
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host headers accepted besides the loopback names (DNS rebinding guard).",
    )


class McpSettings(BaseModel):
    """The whole ``mcp.toml``: acting switches, the HTTP transport, watches and routing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    act: dict[ActTool, Acting] = Field(default_factory=dict)
    http: HttpSettings = Field(default_factory=HttpSettings)
    tz: str = "UTC"
    watches: list[Watch] = Field(default_factory=list)
    routing: RoutingTable = Field(default_factory=RoutingTable)
    listening_history_days: int = Field(default=0, ge=0, le=30)
    """How far back the first poll of each watch reads (0: its latest 100 items). Alerts need
    three days of history before they fire; reading them at start saves the wait."""
    planner_db: str | None = None
    """The plan (a SQLite path or a postgresql:// URL); default: the planner's own default."""

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            # OSError: a region's folder ("America") is not a zone (IsADirectoryError).
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from None
        return value

    @field_validator("watches")
    @classmethod
    def _unique(cls, value: list[Watch]) -> list[Watch]:
        names = [w.name for w in value]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"watch names must be unique; repeated: {', '.join(repeated)}")
        return value

    @field_validator("act")
    @classmethod
    def _route_acts_at_once(cls, value: dict[ActTool, Acting]) -> dict[ActTool, Acting]:
        route = value.get("route")
        if route is not None and "approval" in route.model_fields_set and route.approval:
            raise ValueError("route acts at once (it only files inbox messages): drop approval")
        return value

    def acting(self, tool: ActTool) -> Acting | None:
        """The tool's switch, ``None`` when the tool is off."""
        return self.act.get(tool)

    @classmethod
    def from_data(cls, data: Any, *, origin: str = "MCP settings") -> McpSettings:
        """Validate plain data; every problem is listed with its place."""
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                for e in exc.errors(include_url=False)
            ]
            raise ConfigurationError(f"{origin} has problems", problems) from None


def load_settings(path: Path) -> McpSettings:
    """Read ``path`` (absent: the defaults, where every acting tool is off)."""
    if not path.exists():
        return McpSettings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the MCP settings {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"the MCP settings {path} are not valid TOML: {exc}") from None
    if isinstance(data.get("http"), dict) and "token" in data["http"]:
        raise ConfigurationError(
            f"the MCP settings {path} hold a secret",
            [
                "http.token: the bearer token must not be in this file; set "
                f"{TOKEN_ENV} or point http.token_file at a file readable by you only"
            ],
        )
    return McpSettings.from_data(data, origin=f"the MCP settings {path}")


def read_token(settings: HttpSettings, environ: dict[str, str] | os._Environ[str]) -> str:
    """The HTTP bearer token: ``SOCIALKIT_MCP_TOKEN``, else ``http.token_file``.

    Refused when missing or shorter than 24 characters (the error never quotes it).
    """
    token = environ.get(TOKEN_ENV, "")
    where = f"the environment variable {TOKEN_ENV}"
    if not token and settings.token_file is not None:
        path = settings.token_file.expanduser()
        where = f"the token file {path}"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"cannot read the MCP bearer token from {path}: {type(exc).__name__}"
            ) from None
    if not token:
        raise ConfigurationError(
            "the HTTP transport needs a bearer token",
            [
                f"set {TOKEN_ENV} (for example to the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) or "
                "http.token_file in the MCP settings"
            ],
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ConfigurationError(
            f"the MCP bearer token from {where} is too short",
            [f"use at least {MIN_TOKEN_LENGTH} random characters"],
        )
    return token
