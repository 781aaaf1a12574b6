"""Bluesky app-password sessions: createSession once, refreshSession after, kept in a store.

:class:`BlueskySessionAuth` is an :class:`~socialkit.auth.AuthScheme` (an ``httpx.Auth``) for
the pipeline Session. The session (access JWT, refresh JWT, DID, handle, PDS endpoint) is a
:class:`~socialkit.auth.Token` in a :class:`~socialkit.auth.TokenStore`, keyed by
(``bluesky``, identifier), so that every adapter instance and every run reuses it: Bluesky allows
30 logins per 5 minutes (300 per day) per account, and an application that logs in on each
start soon hits that.

- Before a request: the stored session is used; when its access JWT expires within ``leeway``
  seconds (the JWT's ``exp``, decoded without verifying: only the server can verify it), it is
  refreshed first. No stored session: ``createSession``.
- After an ``ExpiredToken`` answer (400 or 401): exactly one refresh, then the request is sent
  once more (when its body can be re-sent).
- A refresh JWT the server refuses (expired after 90 days, revoked) falls back to one login.
- The new session is written to the store (compare-and-set against the session it replaces)
  *before* its tokens are used: refresh JWTs rotate, the old one stops working.
- One login or refresh in flight per account in this process (an ``asyncio.Lock``); after
  taking the lock the store is read again, so tasks and processes sharing the store reuse a
  session another one just made instead of making their own.

The login and refresh calls go through the same pipeline Session (rate limits, retries,
redacted logs) without this auth. No token or password is ever logged or put in an error.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import time
import weakref
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from socialkit._errors import APIError, AuthError, ConfigurationError
from socialkit._http._wire import read_auth_refusal
from socialkit.adapters.bluesky._network import error_name
from socialkit.adapters.bluesky._wire import SessionOut, decode
from socialkit.auth import AuthScheme, Token, TokenStore, is_replayable

if TYPE_CHECKING:
    from socialkit._http import Session

__all__ = ["BlueskySessionAuth", "SessionData", "jwt_expiry"]

logger = logging.getLogger("socialkit.auth")

NETWORK = "bluesky"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
REFRESH_SESSION = "/xrpc/com.atproto.server.refreshSession"


def jwt_expiry(jwt: str) -> datetime | None:
    """The ``exp`` claim of a JWT as aware UTC, read without verifying the signature.

    Only the server can verify its tokens; the client reads ``exp`` to refresh in time.
    ``None`` when the token is not a JWT with a numeric ``exp``.
    """
    parts = jwt.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(exp, bool) or not isinstance(exp, (int, float)):
        return None
    return datetime.fromtimestamp(float(exp), timezone.utc)


class SessionData:
    """Who the session is for, and where its repository lives (no secrets)."""

    __slots__ = ("did", "endpoint", "handle")

    def __init__(self, did: str, handle: str, endpoint: str | None) -> None:
        self.did = did
        self.handle = handle
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"SessionData(did={self.did!r}, handle={self.handle!r})"


def _pds_endpoint(did_doc: dict[str, Any] | None) -> str | None:
    """The ``#atproto_pds`` service endpoint of a DID document."""
    if not isinstance(did_doc, dict):
        return None
    for service in did_doc.get("service") or []:
        if not isinstance(service, dict):
            continue
        if str(service.get("id", "")).endswith("#atproto_pds"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return None


_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
_locks = weakref.WeakKeyDictionary()


def _lock_for(key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    per_loop = _locks.setdefault(loop, {})
    lock = per_loop.get(key)
    if lock is None:
        lock = per_loop[key] = asyncio.Lock()
    return lock


class BlueskySessionAuth(AuthScheme):
    """The app-password session of one account (see the module docstring)."""

    network = NETWORK
    requires_response_body = True  # the ExpiredToken check reads the error body

    def __init__(
        self,
        *,
        store: TokenStore,
        identifier: str,
        password: SecretStr,
        service: str,
        leeway: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        account = identifier.strip().lstrip("@").lower() if identifier else ""
        if not account:
            raise ConfigurationError("bluesky needs an identifier (a handle or a DID)")
        if not password.get_secret_value():
            raise ConfigurationError("bluesky needs an app password")
        self.session: Session | None = None  # set by the adapter: the pipeline Session
        self.store = store
        self.account = account
        self.identifier = identifier.strip().lstrip("@")
        self.password = password
        self.service = service.rstrip("/")
        self.leeway = leeway
        self.clock = clock
        self.logins = 0
        self.refreshes = 0
        self._cached: Token | None = None

    def __repr__(self) -> str:
        return f"BlueskySessionAuth(account={self.account!r}, service={self.service!r})"

    # -- AuthScheme ------------------------------------------------------------------------

    async def authorize(self, request: httpx.Request) -> None:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token.access_token.get_secret_value()}"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await self.authorize(request)
        response = yield request
        if response.status_code in (400, 401):
            # Unread from a real transport: requires_response_body only acts in httpx's own
            # async_auth_flow, which this one replaces.
            await read_auth_refusal(response)
        if response.status_code in (400, 401) and error_name(response)[0] == "ExpiredToken":
            sent = request.headers.get("Authorization", "")
            await self._refresh(sent_with=sent)
            if is_replayable(request):
                await self.authorize(request)
                yield request

    # -- public ----------------------------------------------------------------------------

    async def token(self) -> Token:
        """The current session, refreshed first when the access JWT is about to expire."""
        token = self._cached
        if token is None:
            token = await self._load()
        if token is None:
            return await self._login(stale=None)
        if token.expires_within(self.leeway, now=self._now()):
            return await self._refresh(sent_with=None)
        return token

    async def refresh(self) -> Token:
        """Refresh the session now (com.atproto.server.refreshSession), whatever its expiry."""
        return await self._refresh(sent_with=None, force=True)

    async def data(self) -> SessionData:
        """DID, handle and PDS endpoint of the session (logging in if there is none)."""
        token = await self.token()
        extra = token.extra
        return SessionData(str(extra["did"]), str(extra["handle"]), extra.get("endpoint"))

    async def forget(self) -> None:
        """Drop the stored session (the next request logs in again)."""
        self._cached = None
        await self.store.delete(NETWORK, self.account)

    # -- internals -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    async def _load(self) -> Token | None:
        token = await self.store.get(NETWORK, self.account)
        if token is not None and token.extra.get("service") != self.service:
            token = None  # a session of the same name on another server: not ours
        if token is not None and ("did" not in token.extra or token.refresh_token is None):
            token = None
        self._cached = token
        return token

    def _token(self, out: SessionOut) -> Token:
        return Token(
            access_token=SecretStr(out.access_jwt),
            refresh_token=SecretStr(out.refresh_jwt),
            token_type="Bearer",
            expires_at=jwt_expiry(out.access_jwt),
            extra={
                "did": out.did,
                "handle": out.handle,
                "endpoint": _pds_endpoint(out.did_doc),
                "service": self.service,
            },
        )

    async def _login(self, *, stale: Token | None) -> Token:
        async with _lock_for(self.account):
            current = await self._load()
            if current is not None and not current.same_access(stale):
                return current  # another task or process logged in meanwhile
            return await self._create_session(current)

    def _pipeline(self) -> Session:
        if self.session is None:
            raise ConfigurationError("BlueskySessionAuth.session is not set")
        return self.session

    async def _create_session(self, previous: Token | None) -> Token:
        response = await self._pipeline().request(
            "POST",
            self.service + CREATE_SESSION,
            json={
                "identifier": self.identifier,
                "password": self.password.get_secret_value(),
            },
            kind="write",  # a second login is harmless: safe to retry transient failures
            auth=None,
        )
        token = self._token(decode(SessionOut, response))
        self.logins += 1
        await self._save(previous, token)
        logger.info("%s: logged in as %r", NETWORK, token.extra["handle"])
        return self._cached or token

    async def _refresh(self, *, sent_with: str | None, force: bool = False) -> Token:
        async with _lock_for(self.account):
            current = await self._load()
            if current is None:
                return await self._create_session(None)
            used = current.access_token.get_secret_value()
            if sent_with is not None and sent_with != f"Bearer {used}":
                return current  # refreshed meanwhile: the request used an older token
            if (
                not force
                and sent_with is None
                and not current.expires_within(self.leeway, now=self._now())
            ):
                return current
            assert current.refresh_token is not None
            try:
                response = await self._pipeline().request(
                    "POST",
                    self.service + REFRESH_SESSION,
                    headers={"Authorization": f"Bearer {current.refresh_token.get_secret_value()}"},
                    kind="write",
                    auth=None,
                )
            except APIError as exc:
                if not isinstance(exc, AuthError) and exc.code not in (
                    "ExpiredToken",
                    "InvalidToken",
                ):
                    raise
                # The refresh JWT expired or was revoked: log in again, once.
                logger.info("%s: the refresh token was refused; logging in again", NETWORK)
                return await self._create_session(current)
            token = self._token(decode(SessionOut, response))
            self.refreshes += 1
            await self._save(current, token)
            logger.info("%s: refreshed the session of %r", NETWORK, self.account)
            return self._cached or token

    async def _save(self, previous: Token | None, token: Token) -> None:
        """Persist before use; never overwrite a session written meanwhile by someone else."""
        if await self.store.compare_and_set(NETWORK, self.account, previous, token):
            self._cached = token
            return
        winner = await self.store.get(NETWORK, self.account)
        if winner is None or winner.extra.get("service") != self.service:
            # Nothing stored, or a session for another server under this name: ours wins.
            await self.store.put(NETWORK, self.account, token)
            self._cached = token
            return
        logger.warning(
            "%s: the session of %r changed in the store meanwhile; using the stored one",
            NETWORK,
            self.account,
        )
        self._cached = winner
