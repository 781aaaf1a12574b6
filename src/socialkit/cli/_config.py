"""The command line's accounts: a TOML file of non-secret settings, secrets from elsewhere.

The file (``--config``, else ``SOCIALKIT_CONFIG``, else ``socialkit/config.toml`` under the
platform's user config directory) holds one table per account::

    [accounts.brand-masto]
    network = "mastodon"
    instance = "https://mastodon.social"

A setting that the adapter declares as a ``SecretStr`` is refused in this file. Secrets come
from, in this order: the environment variable ``SOCIALKIT_<LABEL>_<SETTING>`` (upper case,
every other character than A-Z and 0-9 turned into ``_``), then the store (``socialkit auth
login`` writes them there; the SQLite file by default, ``SOCIALKIT_STORE`` moves it). OAuth
tokens stay in the token store, where the adapters read (and refresh) them themselves.
"""

from __future__ import annotations

import os
import re
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import SecretStr

from socialkit._errors import ConfigurationError
from socialkit._registry import adapter_class, build_settings
from socialkit._store import Store

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if typing.TYPE_CHECKING:
    from socialkit.adapters._base import Adapter, AdapterSettings

__all__ = [
    "SECRETS_NAMESPACE",
    "AccountConfig",
    "Config",
    "default_config_path",
    "env_name",
    "secret_fields",
]

#: Where ``socialkit auth login`` keeps secret settings (app passwords, client secrets).
SECRETS_NAMESPACE = "socialkit.cli.secrets"

#: Settings the command line sets itself; the file may not hold them.
RESERVED = frozenset({"account", "store", "rate_limit_store"})

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_config_path() -> Path:
    """``config.toml`` under the platform's user config directory for ``socialkit``."""
    return platformdirs.user_config_path("socialkit") / "config.toml"


def env_name(label: str, setting: str) -> str:
    """``SOCIALKIT_<LABEL>_<SETTING>``: upper case, non-alphanumerics as ``_``."""
    return re.sub(r"[^A-Z0-9]", "_", f"SOCIALKIT_{label}_{setting}".upper())


def _is_secret(annotation: Any) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return False
    return any(_is_secret(arg) for arg in typing.get_args(annotation))


def secret_fields(settings_cls: type[AdapterSettings]) -> list[str]:
    """The settings of an adapter declared as ``SecretStr`` (possibly optional), by name."""
    return sorted(
        name for name, info in settings_cls.model_fields.items() if _is_secret(info.annotation)
    )


@dataclass(frozen=True)
class AccountConfig:
    """One ``[accounts.<label>]`` table: the network and its non-secret settings."""

    label: str
    network: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def adapter_class(self) -> type[Adapter]:
        """The registered adapter (``ConfigurationError`` for an unknown network)."""
        return adapter_class(self.network)

    def secret_names(self) -> list[str]:
        return secret_fields(self.adapter_class.Settings)

    async def secrets(
        self, environ: Mapping[str, str], store: Store | None
    ) -> dict[str, tuple[SecretStr, str]]:
        """Each secret setting found, with where it came from (``env NAME`` or ``store``)."""
        found: dict[str, tuple[SecretStr, str]] = {}
        for name in self.secret_names():
            variable = env_name(self.label, name)
            if environ.get(variable):
                found[name] = (SecretStr(environ[variable]), f"env {variable}")
                continue
            if store is not None:
                value = await store.get(SECRETS_NAMESPACE, secret_key(self.label, name))
                if value:
                    found[name] = (SecretStr(value), "store")
        return found

    async def build(self, environ: Mapping[str, str], store: Store | None) -> AdapterSettings:
        """Validated adapter settings: the file's, the secrets found, the label and the store.

        Every problem is reported at once; a missing secret names where to put it.
        """
        from socialkit.auth import login_settings

        cls = self.adapter_class
        values: dict[str, Any] = dict(self.settings)
        values.update({k: v for k, (v, _src) in (await self.secrets(environ, store)).items()})
        values["account"] = self.label
        if store is not None:
            values["store"] = store
        try:
            return build_settings(cls, values)  # type: ignore[no-any-return]
        except ConfigurationError as exc:
            secrets = set(self.secret_names())
            problems = []
            for problem in exc.problems:
                name = problem.split(":", 1)[0]
                if name in secrets and problem.endswith("required"):
                    login = (
                        f"run `socialkit auth login {self.network} --account {self.label}` or "
                        if self.network in ("mastodon", "bluesky")
                        or login_settings(cls) is not None
                        else ""
                    )
                    problem += f" (a secret: {login}set {env_name(self.label, name)})"
                problems.append(problem)
            raise ConfigurationError(
                f"account {self.label!r} ({self.network}) is not usable", problems
            ) from None


def secret_key(label: str, setting: str) -> str:
    return f"{label}:{setting}"


@dataclass
class Config:
    """The accounts of a config file (an absent file has none)."""

    path: Path
    accounts: dict[str, AccountConfig] = field(default_factory=dict)
    exists: bool = False

    @classmethod
    def load(cls, path: Path) -> Config:
        """Read and check the file: unknown networks, reserved keys and secrets are errors."""
        if not path.exists():
            return cls(path=path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read the config file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"the config file {path} is not valid TOML: {exc}") from None
        unknown = sorted(set(data) - {"accounts"})
        if unknown:
            raise ConfigurationError(
                f"the config file {path} has unknown top-level keys",
                [f"{k}: unknown (only [accounts.<label>] tables)" for k in unknown],
            )
        accounts_raw = data.get("accounts", {})
        if not isinstance(accounts_raw, dict):
            raise ConfigurationError(f"{path}: 'accounts' must be a table of tables")
        problems: list[str] = []
        accounts: dict[str, AccountConfig] = {}
        for label, table in accounts_raw.items():
            where = f"accounts.{label}"
            if not _LABEL.match(label):
                problems.append(
                    f"{where}: a label is 1 to 64 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit"
                )
                continue
            if not isinstance(table, dict):
                problems.append(f"{where}: must be a table")
                continue
            settings = dict(table)
            network = settings.pop("network", None)
            if not isinstance(network, str) or not network:
                problems.append(f"{where}.network: required (mastodon, bluesky, x, ...)")
                continue
            try:
                cls_ = adapter_class(network)
            except ConfigurationError as exc:
                problems.append(f"{where}.network: {exc}")
                continue
            secrets = set(secret_fields(cls_.Settings))
            for name in sorted(settings):
                if name in secrets:
                    problems.append(
                        f"{where}.{name}: is a secret and must not be in the config file; "
                        f"remove it, then run `socialkit auth login {network} --account "
                        f"{label}` or set the environment variable {env_name(label, name)}"
                    )
                elif name in RESERVED:
                    problems.append(f"{where}.{name}: set by socialkit, not in the config file")
            accounts[label] = AccountConfig(label=label, network=network, settings=settings)
        if problems:
            raise ConfigurationError(f"the config file {path} has problems", problems)
        return cls(path=path, accounts=accounts, exists=True)

    def select(self, labels: list[str] | None) -> list[AccountConfig]:
        """The accounts named (all when ``labels`` is empty), in file order."""
        if not self.accounts:
            raise ConfigurationError(
                f"no accounts configured in {self.path}; add [accounts.<label>] tables or run "
                "`socialkit auth login NETWORK --account LABEL`"
            )
        if not labels:
            return list(self.accounts.values())
        missing = [label for label in labels if label not in self.accounts]
        if missing:
            raise ConfigurationError(
                f"unknown account(s) {', '.join(missing)}; configured: " + ", ".join(self.accounts)
            )
        return [self.accounts[label] for label in dict.fromkeys(labels)]

    def save_account(self, account: AccountConfig) -> None:
        """Write (or replace) one account's table, keeping the others (mode 0600 when new)."""
        import tomli_w

        data: dict[str, Any] = {}
        if self.path.exists():
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        accounts = data.setdefault("accounts", {})
        accounts[account.label] = {"network": account.network, **account.settings}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = tomli_w.dumps(data)
        fd = os.open(self.path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        self.accounts[account.label] = account
        self.exists = True
