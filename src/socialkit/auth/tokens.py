"""OAuth tokens and where they are kept between runs.

:class:`Token` is one network's credentials for one account: the access token, the refresh token
(both :class:`~pydantic.SecretStr`, so they never show in a repr, a log line or a traceback), when
the access token expires (UTC), its scope and type.

:class:`TokenStore` keeps tokens on top of any :class:`socialkit._store.Store`, keyed by network
and account. The default is the SQLite file under the user's data directory (mode 0600, safe
for several processes); :class:`~socialkit._store.MemoryStore` for tests, and the Redis or
PostgreSQL stores of :mod:`socialkit.stores` for many machines, the OS keyring
(:class:`socialkit.stores.KeyringStore`) on a desktop. With a store key configured, tokens are
encrypted at rest (:mod:`socialkit.auth.encrypted`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from socialkit._store import SQLiteStore, Store
from socialkit.auth._errors import AuthFlowError

__all__ = ["Token", "TokenStore"]

_FORMAT_VERSION = 1


_REFRESH_EXPIRES_AT = "refresh_expires_at"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Token(BaseModel):
    """An access token, and the refresh token that renews it.

    ``extra`` keeps the rest of the token response (``id_token``, ``refresh_expires_in``,
    a network's own fields); it is left out of the repr because it may hold an ID token.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    token_type: str = "Bearer"
    expires_at: datetime | None = None
    scope: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict, repr=False, exclude=True)

    def model_post_init(self, context: Any, /) -> None:
        # Every token, loaded, exchanged or refreshed, is redacted verbatim from then on.
        from socialkit._http._redact import register_secret

        register_secret(self.access_token, self.refresh_token)

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("expires_at must be timezone-aware (UTC)")
        return value.astimezone(timezone.utc)

    @classmethod
    def from_response(
        cls,
        data: Mapping[str, Any],
        *,
        previous: Token | None = None,
        now: datetime | None = None,
    ) -> Token:
        """Build a token from an OAuth 2 token endpoint's JSON answer (RFC 6749 section 5.1).

        ``expires_in`` (seconds) becomes ``expires_at``. When a refresh answer carries no new
        refresh token, the previous one stays valid (RFC 6749 section 6) and is kept.
        """
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("the token response has no access_token")
        refresh = data.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            refresh = (
                previous.refresh_token.get_secret_value()
                if previous and previous.refresh_token
                else None
            )
        expires_at: datetime | None = None
        expires_in = data.get("expires_in")
        if expires_in is not None:
            try:
                seconds = float(expires_in)
            except (TypeError, ValueError):
                raise ValueError("the token response has a non-numeric expires_in") from None
            expires_at = (now or _utcnow()) + timedelta(seconds=seconds)
        elif isinstance(data.get("expires_at"), (int, float)):
            expires_at = datetime.fromtimestamp(float(data["expires_at"]), timezone.utc)
        scope = data.get("scope")
        if scope is None and previous is not None:
            scope = previous.scope
        known = {"access_token", "refresh_token", "token_type", "expires_in", "expires_at", "scope"}
        extra = {k: v for k, v in data.items() if k not in known}
        # A refresh token's own lifetime (TikTok: refresh_expires_in, LinkedIn:
        # refresh_token_expires_in), kept as a moment; a refresh that keeps the refresh token
        # keeps its expiry.
        lasts = data.get("refresh_expires_in", data.get("refresh_token_expires_in"))
        if isinstance(lasts, (int, float)) and not isinstance(lasts, bool):
            moment = (now or _utcnow()) + timedelta(seconds=float(lasts))
            extra[_REFRESH_EXPIRES_AT] = moment.isoformat()
        elif (
            previous is not None
            and previous.refresh_expires_at is not None
            and not data.get("refresh_token")
        ):
            extra[_REFRESH_EXPIRES_AT] = previous.refresh_expires_at.isoformat()
        return cls(
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh) if refresh else None,
            token_type=str(data.get("token_type") or "Bearer"),
            expires_at=expires_at,
            scope=str(scope) if scope is not None else None,
            extra=extra,
        )

    @property
    def refresh_expires_at(self) -> datetime | None:
        """When the refresh token itself expires, when the server said so (else ``None``)."""
        value = self.extra.get(_REFRESH_EXPIRES_AT)
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """Whether the access token expires in less than ``seconds`` (unknown expiry: never)."""
        if self.expires_at is None:
            return False
        return self.expires_at - (now or _utcnow()) < timedelta(seconds=seconds)

    def same_access(self, other: Token | None) -> bool:
        """Whether ``other`` carries the same access token (compared without exposing it)."""
        return other is not None and (
            other.access_token.get_secret_value() == self.access_token.get_secret_value()
        )

    def dumps(self) -> str:
        """Serialize for a store, secrets included (canonical JSON: same token, same text).

        Never log the result. Pydantic's own ``model_dump_json`` masks secrets on purpose, so
        it cannot be used for storage.
        """
        payload: dict[str, Any] = {
            "v": _FORMAT_VERSION,
            "access_token": self.access_token.get_secret_value(),
            "refresh_token": (
                self.refresh_token.get_secret_value() if self.refresh_token is not None else None
            ),
            "token_type": self.token_type,
            "expires_at": self.expires_at.isoformat() if self.expires_at is not None else None,
            "scope": self.scope,
            "extra": self.extra,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Token:
        """Read what :meth:`dumps` wrote."""
        payload = json.loads(text)
        if not isinstance(payload, dict):
            raise ValueError("a stored token must be a JSON object")
        payload.pop("v", None)
        return cls.model_validate(payload)


class TokenStore:
    """Tokens kept in a :class:`~socialkit._store.Store`, keyed by network and account.

    ``TokenStore()`` uses the SQLite file under the user's data directory;
    ``TokenStore(MemoryStore())`` keeps tokens in memory; any ``Store`` works (Redis, PostgreSQL).
    :meth:`compare_and_set` replaces a token only if it is still the one read before, which is
    how several processes sharing one store never clobber a rotated refresh token.

    With a store key (``key=``, or the environment variable ``SOCIALKIT_STORE_KEY``), the store
    is wrapped in :class:`~socialkit.auth.encrypted.EncryptedStore`: tokens are encrypted at
    rest with Fernet (extra ``crypto``). Several keys, newest first, rotate the key.
    """

    namespace = "socialkit.tokens"

    def __init__(
        self,
        store: Store | None = None,
        *,
        key: str | SecretStr | Sequence[str | SecretStr] | None = None,
    ) -> None:
        chosen: Store = store if store is not None else SQLiteStore()
        if key is not None or os.environ.get("SOCIALKIT_STORE_KEY", "").strip():
            from socialkit.auth.encrypted import EncryptedStore  # needs the crypto extra

            if not isinstance(chosen, EncryptedStore):
                chosen = EncryptedStore(chosen, key)
        self.store: Store = chosen

    def __repr__(self) -> str:
        return f"TokenStore({self.store!r})"

    @staticmethod
    def key(network: str, account: str) -> str:
        """The store key of a (network, account) pair."""
        if not network or ":" in network:
            raise ValueError(f"a network name must be non-empty and without ':' (got {network!r})")
        if not account:
            raise ValueError("an account name must be non-empty")
        return f"{network}:{account}"

    def _load(self, network: str, account: str, text: str | None) -> Token | None:
        if text is None:
            return None
        try:
            return Token.loads(text)
        except ValueError:
            # The message names the key only: the stored text may hold a token.
            raise AuthFlowError(
                network,
                code="unreadable_token",
                message=f"the stored token of account {account!r} cannot be read; log in again",
            ) from None

    async def get(self, network: str, account: str = "default") -> Token | None:
        """The stored token, or ``None``."""
        text = await self.store.get(self.namespace, self.key(network, account))
        return self._load(network, account, text)

    async def put(self, network: str, account: str, token: Token) -> None:
        """Store (or replace) the token."""
        await self.store.put(self.namespace, self.key(network, account), token.dumps())

    async def delete(self, network: str, account: str = "default") -> None:
        """Forget the token (log out locally)."""
        await self.store.delete(self.namespace, self.key(network, account))

    async def compare_and_set(
        self, network: str, account: str, expected: Token | None, token: Token
    ) -> bool:
        """Store ``token`` only if the stored one is still ``expected`` (``None``: none stored)."""
        return await self.store.compare_and_set(
            self.namespace,
            self.key(network, account),
            expected.dumps() if expected is not None else None,
            token.dumps(),
        )

    async def accounts(self, network: str) -> list[str]:
        """The accounts that have a token for ``network``, sorted."""
        prefix = self.key(network, "x")[:-1]
        return [key[len(prefix) :] for key, _ in await self.store.items(self.namespace, prefix)]

    async def aclose(self) -> None:
        """Close the underlying store."""
        await self.store.aclose()
