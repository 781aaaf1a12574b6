"""OAuth 2.0: authorization code with PKCE (S256), code exchange, refresh, revocation.

The protocol pieces come from authlib (the authorization URL, the token request body, client
authentication at the token endpoint, the S256 challenge and random tokens); the requests go
through an ``httpx.AsyncClient`` (the application's own, or one this module creates).

Typical use::

    client = OAuth2Client(OAuth2Config(
        network="x",
        authorization_endpoint="https://x.com/i/oauth2/authorize",
        token_endpoint="https://api.x.com/2/oauth2/token",
        client_id="…",
        scopes=("tweet.read", "tweet.write", "users.read", "offline.access"),
        redirect_uri="http://127.0.0.1:8765/callback",
    ))
    request = client.begin()                       # url + state + PKCE verifier
    # ... the user opens request.url, the network redirects back with ?code=…&state=…
    token = await client.complete(request, redirect_url)   # checks state, exchanges the code
    store = TokenStore()                           # SQLite file, mode 0600
    await store.put("x", "me", token)
    auth = OAuth2Auth(client, store, account="me") # an httpx.Auth for Session(auth=...)

:class:`OAuth2Auth` adds the bearer token to each request, refreshes it shortly before it expires
and once after a 401, saves a rotated refresh token in the store before the new access token is
used, and makes one refresh per (network, account): an ``asyncio.Lock`` within the process and a
renewed, fenced lease taken with ``Store.compare_and_set`` across processes sharing a store.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
import weakref
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_qs
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from socialkit._errors import (
    APIError,
    ConfigurationError,
    SocialkitError,
    TimeoutError,
    TransportError,
    ValidationError,
    error_class_for_status,
)
from socialkit.auth._errors import AuthFlowError, RefreshError, StateMismatchError
from socialkit.auth.bearer import AuthScheme
from socialkit.auth.tokens import Token, TokenStore

__all__ = [
    "AuthorizationRequest",
    "OAuth2Auth",
    "OAuth2Client",
    "OAuth2Config",
    "generate_code_verifier",
    "generate_state",
]

logger = logging.getLogger("socialkit.auth")

_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_LEASE_NAMESPACE = "socialkit.token-leases"
_MAX_DESCRIPTION = 200


def generate_state() -> str:
    """A random ``state`` (CSRF protection of the redirect), 32 characters."""
    return str(generate_token(32))


def generate_code_verifier() -> str:
    """A random PKCE code verifier: 64 characters of the RFC 7636 alphabet."""
    return str(generate_token(64))


def _check_url(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError):
        raise ValueError(f"{field} is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{field} must be an absolute http(s) URL")
    return value


class OAuth2Config(BaseModel):
    """One OAuth 2.0 client registration at one authorization server.

    ``client_secret`` is left out for public clients (mobile and command-line apps, which use
    PKCE alone); with it, the client authenticates at the token endpoint with HTTP Basic by
    default (``token_endpoint_auth_method``). ``issuer``, when given, is compared with the
    ``iss`` parameter of the redirect (RFC 9207, mix-up protection). A server that names
    the client id otherwise (TikTok: ``client_key``) sets ``client_id_parameter``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    network: str = "oauth2"
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str | None = None
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    redirect_uri: str | None = None
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "none"] | None
    ) = None
    authorization_params: dict[str, str] = Field(default_factory=dict)
    issuer: str | None = None
    client_id_parameter: str = Field(default="client_id", pattern=r"^[A-Za-z0-9_.-]+$")
    """The parameter that carries the client id in the authorization URL and, with
    ``client_secret_post``, in the token request (TikTok names it ``client_key``)."""
    code_challenge_encoding: Literal["base64url", "hex"] = "base64url"
    """How the S256 challenge encodes the SHA-256 of the verifier: RFC 7636's base64url, or
    hex (TikTok's Login Kit for Desktop)."""
    pkce: bool = True
    """Whether to send a PKCE challenge and verifier (RFC 7636). ``False`` for a server that
    documents none (Instagram's Business Login): the ``state`` still guards the redirect."""

    @field_validator("authorization_endpoint", "token_endpoint", "revocation_endpoint")
    @classmethod
    def _endpoint(cls, value: str | None, info: Any) -> str | None:
        return _check_url(value, str(info.field_name))

    @field_validator("redirect_uri")
    @classmethod
    def _redirect(cls, value: str | None) -> str | None:
        return _check_url(value, "redirect_uri")

    @model_validator(mode="after")
    def _auth_method(self) -> OAuth2Config:
        method = self.token_endpoint_auth_method
        if method in ("client_secret_basic", "client_secret_post") and self.client_secret is None:
            raise ValueError(f"token_endpoint_auth_method {method!r} needs a client_secret")
        return self

    @property
    def auth_method(self) -> str:
        """How the client authenticates at the token endpoint."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "client_secret_basic" if self.client_secret is not None else "none"


class AuthorizationRequest(BaseModel):
    """What :meth:`OAuth2Client.begin` returns: the URL to open and what to check on return.

    Keep it until the redirect comes back; the verifier is secret (its repr is masked).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    url: str
    state: str
    code_verifier: SecretStr
    redirect_uri: str | None = None


def _secret_post_as(name: str) -> Any:
    """authlib's ``client_secret_post`` with the client id sent as ``name``."""

    def encode(
        client: ClientAuth, method: str, uri: str, headers: dict[str, str], body: str
    ) -> tuple[str, dict[str, str], str]:
        body = add_params_to_qs(
            body or "", [(name, client.client_id), ("client_secret", client.client_secret or "")]
        )
        if "Content-Length" in headers:
            headers["Content-Length"] = str(len(body))
        return uri, headers, body

    return encode


def _verifier_text(code_verifier: str | SecretStr) -> str:
    text = (
        code_verifier.get_secret_value() if isinstance(code_verifier, SecretStr) else code_verifier
    )
    if not 43 <= len(text) <= 128 or not set(text) <= _VERIFIER_CHARS:
        raise ConfigurationError(
            "A PKCE code verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)"
        )
    return text


class OAuth2Client:
    """The client side of OAuth 2.0 for one registration: authorize, exchange, refresh, revoke.

    ``http`` is the ``httpx.AsyncClient`` used for the token endpoint; without one, a client is
    created on first use and closed by :meth:`aclose`. An injected client is never closed.
    """

    def __init__(
        self,
        config: OAuth2Config,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.config = config
        self._http = http
        self._owns_http = http is None
        self._timeout = timeout
        from socialkit._http._redact import register_secret

        register_secret(config.client_secret)
        method: Any = config.auth_method
        if config.client_id_parameter != "client_id" and method == "client_secret_post":
            method = _secret_post_as(config.client_id_parameter)
        self._client_auth = ClientAuth(
            config.client_id,
            # An empty secret is one (Reddit's installed apps: HTTP Basic "client_id:").
            config.client_secret.get_secret_value() if config.client_secret is not None else None,
            method,
        )

    def __repr__(self) -> str:
        return (
            f"OAuth2Client(network={self.network!r}, client_id={self.config.client_id!r}, "
            f"auth_method={self.config.auth_method!r})"
        )

    @property
    def network(self) -> str:
        return self.config.network

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self._timeout)
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> OAuth2Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- authorization ---------------------------------------------------------------------

    def authorization_url(
        self,
        state: str,
        code_verifier: str | SecretStr,
        *,
        redirect_uri: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        **params: str,
    ) -> str:
        """The URL that asks the user to authorize this client (PKCE S256 challenge included)."""
        if not state:
            raise ConfigurationError("The OAuth 2 state must be a non-empty string")
        verifier = _verifier_text(code_verifier)
        chosen = self.config.scopes if scopes is None else tuple(scopes)
        extra: dict[str, str] = {**self.config.authorization_params, **params}
        if chosen:
            extra["scope"] = self.config.scope_separator.join(chosen)
        if self.config.pkce:
            extra["code_challenge"] = (
                hashlib.sha256(verifier.encode()).hexdigest()
                if self.config.code_challenge_encoding == "hex"
                else str(create_s256_code_challenge(verifier))
            )
            extra["code_challenge_method"] = "S256"
        url = str(
            prepare_grant_uri(
                self.config.authorization_endpoint,
                self.config.client_id,
                "code",
                redirect_uri=redirect_uri or self.config.redirect_uri,
                state=state,
                **extra,
            )
        )
        name = self.config.client_id_parameter
        if name == "client_id":
            return url
        parts = urlsplit(url)
        query = [
            (name if key == "client_id" else key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def begin(
        self,
        *,
        redirect_uri: str | None = None,
        scopes: tuple[str, ...] | list[str] | None = None,
        **params: str,
    ) -> AuthorizationRequest:
        """Start a login: a fresh ``state`` and PKCE verifier, and the URL to open."""
        if redirect_uri is not None:
            try:
                _check_url(redirect_uri, "redirect_uri")
            except ValueError as exc:
                raise ValidationError(
                    str(exc), errors=[{"loc": ("redirect_uri",), "msg": str(exc)}]
                ) from None
        state = generate_state()
        verifier = generate_code_verifier()
        url = self.authorization_url(
            state, verifier, redirect_uri=redirect_uri, scopes=scopes, **params
        )
        return AuthorizationRequest(
            url=url,
            state=state,
            code_verifier=SecretStr(verifier),
            redirect_uri=redirect_uri or self.config.redirect_uri,
        )

    def parse_redirect(self, redirect: str | Mapping[str, str], *, expected_state: str) -> str:
        """Check the redirect's parameters and return the authorization code.

        ``redirect`` is the full redirect URL or its query parameters. Raises
        :class:`StateMismatchError` when ``state`` differs from ``expected_state``, and
        :class:`AuthFlowError` when the server sent an ``error`` (the user refused) or no code.
        """
        if isinstance(redirect, str):
            params = dict(parse_qsl(urlsplit(redirect).query, keep_blank_values=True))
        else:
            params = dict(redirect)
        state = params.get("state")
        if state is None or not _same(state, expected_state):
            raise StateMismatchError(
                self.network,
                code="state_mismatch",
                message=(
                    "the state returned with the authorization response does not match the one "
                    "sent; the code was not exchanged (a forged redirect or another login attempt)"
                ),
            )
        if "error" in params:
            error = params["error"]
            description = _short(params.get("error_description"))
            raise AuthFlowError(
                self.network,
                code=error,
                message="the authorization was not granted ("
                + error
                + (f": {description}" if description else "")
                + ")",
            )
        issuer = self.config.issuer
        if issuer is not None and "iss" in params and params["iss"] != issuer:
            raise AuthFlowError(
                self.network,
                code="issuer_mismatch",
                message="the authorization response comes from another issuer than configured",
            )
        code = params.get("code")
        if not code:
            raise AuthFlowError(
                self.network,
                code="missing_code",
                message="the authorization response carries no code",
            )
        return code

    async def exchange_code(
        self,
        code: str,
        *,
        state: str,
        expected_state: str,
        code_verifier: str | SecretStr,
        redirect_uri: str | None = None,
    ) -> Token:
        """Exchange an authorization code for a token (RFC 6749 section 4.1.3, RFC 7636).

        ``state`` is checked against ``expected_state`` first: on a mismatch
        :class:`StateMismatchError` is raised and nothing is sent.
        """
        if not _same(state, expected_state):
            raise StateMismatchError(
                self.network,
                code="state_mismatch",
                message=(
                    "the state returned with the authorization response does not match the one "
                    "sent; the code was not exchanged (a forged redirect or another login attempt)"
                ),
            )
        if not code:
            raise AuthFlowError(self.network, code="missing_code", message="no authorization code")
        verifier = _verifier_text(code_verifier)
        body = prepare_token_request(
            "authorization_code",
            redirect_uri=redirect_uri or self.config.redirect_uri,
            code=code,
            **({"code_verifier": verifier} if self.config.pkce else {}),
        )
        data = await self._token_request(body, grant="authorization_code", account=None)
        return self._token_from(data, previous=None)

    async def complete(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish a login begun with :meth:`begin`: check the redirect, exchange the code."""
        code = self.parse_redirect(redirect, expected_state=request.state)
        return await self.exchange_code(
            code,
            state=request.state,
            expected_state=request.state,
            code_verifier=request.code_verifier,
            redirect_uri=request.redirect_uri,
        )

    # -- refresh and revocation ------------------------------------------------------------

    async def refresh(
        self,
        token: Token,
        *,
        scopes: tuple[str, ...] | list[str] | None = None,
        account: str | None = None,
    ) -> Token:
        """Use the refresh token (RFC 6749 section 6); return the new token.

        A server that rotates refresh tokens returns a new one; otherwise the old one is kept
        in the result. A refused refresh token (``invalid_grant``) raises :class:`RefreshError`.
        """
        if token.refresh_token is None:
            raise RefreshError(
                self.network,
                code="no_refresh_token",
                message=_who(account) + "has no refresh token; log in again "
                "(ask for the offline scope to get one)",
            )
        lapsed = token.refresh_expires_at
        if lapsed is not None and lapsed <= datetime.now(timezone.utc):
            raise RefreshError(
                self.network,
                code="refresh_token_expired",
                message=_who(account) + "has a refresh token that expired on "
                f"{lapsed:%Y-%m-%d}; log in again",
            )
        extra: dict[str, str] = {}
        if scopes is not None:
            extra["scope"] = self.config.scope_separator.join(scopes)
        body = prepare_token_request(
            "refresh_token", refresh_token=token.refresh_token.get_secret_value(), **extra
        )
        from socialkit._http._telemetry import ACTIVE as telemetry

        if telemetry is None:
            data = await self._token_request(body, grant="refresh_token", account=account)
        else:
            async with telemetry.refresh(self.network):
                data = await self._token_request(body, grant="refresh_token", account=account)
        return self._token_from(data, previous=token)

    async def revoke(
        self,
        token: Token,
        *,
        which: Literal["refresh_token", "access_token"] = "refresh_token",
    ) -> None:
        """Revoke a token at the revocation endpoint (RFC 7009)."""
        endpoint = self.config.revocation_endpoint
        if endpoint is None:
            raise ConfigurationError(f"{self.network}: no revocation_endpoint is configured")
        secret = token.refresh_token if which == "refresh_token" else token.access_token
        if secret is None:
            raise ConfigurationError(f"{self.network}: the token has no {which} to revoke")
        body = urlencode({"token": secret.get_secret_value(), "token_type_hint": which})
        response = await self._post(endpoint, body)
        if response.status_code != 200:
            raise self._error(response, grant="revocation", account=None)

    # -- plumbing --------------------------------------------------------------------------

    async def _post(self, url: str, body: str) -> httpx.Response:
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        url, headers, body = self._client_auth.prepare("POST", url, headers, body)
        try:
            return await self._client().post(url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            raise TimeoutError(self.network, "the token endpoint did not answer in time") from None
        except httpx.TransportError as exc:
            raise TransportError(
                self.network, f"the token endpoint could not be reached ({type(exc).__name__})"
            ) from None

    async def _token_request(self, body: str, *, grant: str, account: str | None) -> dict[str, Any]:
        response = await self._post(self.config.token_endpoint, body)
        if response.status_code != 200:
            raise self._error(response, grant=grant, account=account)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise AuthFlowError(
                self.network,
                code="invalid_token_response",
                message="the token endpoint answered 200 without a JSON object",
            )
        inner = data.get("data")
        if "access_token" not in data and isinstance(inner, list) and len(inner) == 1:
            # Instagram's Business Login documents its answer wrapped in a one-item ``data``
            # list (developers.facebook.com/docs/instagram-platform/instagram-api-with-
            # instagram-login/business-login); its reference page shows it flat. Both are read.
            data = inner[0] if isinstance(inner[0], dict) else data
        return data

    def _token_from(self, data: dict[str, Any], previous: Token | None) -> Token:
        try:
            return Token.from_response(data, previous=previous)
        except PydanticValidationError:
            # pydantic's message quotes the input, which holds tokens: name the problem only.
            reason = "the token response has fields of the wrong type"
        except ValueError as exc:
            reason = str(exc)
        raise AuthFlowError(self.network, code="invalid_token_response", message=reason)

    def _error(self, response: httpx.Response, *, grant: str, account: str | None) -> APIError:
        code: str | None = None
        description: str | None = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            raw_code = payload.get("error")
            code = raw_code if isinstance(raw_code, str) else None
            raw_desc = payload.get("error_description")
            description = _short(raw_desc) if isinstance(raw_desc, str) else None
            if code is None and isinstance(payload.get("error_message"), str):
                # Instagram's token endpoint: {"error_type", "code", "error_message"}.
                kind = payload.get("error_type")
                code = kind if isinstance(kind, str) else None
                description = _short(payload["error_message"])
        request_id = response.headers.get("x-request-id")
        if grant == "refresh_token" and code in ("invalid_grant", "invalid_token"):
            return RefreshError(
                self.network,
                status=response.status_code,
                code=code,
                message=(
                    _who(account)
                    + "could not be refreshed: the server refused the refresh token ("
                    + (code or "")
                    + (f": {description}" if description else "")
                    + "); it was already used, revoked or expired. The stored token was left "
                    "unchanged; log in again"
                ),
                request_id=request_id,
            )
        if grant == "authorization_code" and code in ("invalid_grant", "OAuthException"):
            # (Instagram's Business Login refuses a used or unknown code with OAuthException.)
            return AuthFlowError(
                self.network,
                status=response.status_code,
                code=code,
                message=(
                    f"the authorization code was refused ({code}"
                    + (f": {description}" if description else "")
                    + "); it expired, was already used, or the PKCE verifier or redirect_uri "
                    "does not match"
                ),
                request_id=request_id,
            )
        status = response.status_code
        cls = error_class_for_status(status)
        if status == 400 and code in ("invalid_client", "unauthorized_client"):
            cls = error_class_for_status(401)
        return cls(
            self.network,
            status=status,
            code=code,
            message=(f"{grant} request refused" + (f": {description}" if description else "")),
            request_id=request_id,
        )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _short(text: str | None) -> str | None:
    if not text:
        return None
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DESCRIPTION else text[: _MAX_DESCRIPTION - 1] + "…"


def _who(account: str | None) -> str:
    return f"the token of account {account!r} " if account else "the token "


# One flight per (event loop, network, account): asyncio locks belong to one loop.
class _Flight:
    """The refreshes of one account in one event loop: one at a time, and the last failure.

    ``finished`` counts the refreshes tried; a request that queued before an attempt that failed
    had finished re-raises that failure (for the same refresh token) instead of trying again, so
    a refused or timed-out refresh fails its queue once.
    """

    __slots__ = ("failure", "finished", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.finished = 0
        self.failure: tuple[int, str, Exception] | None = None


_flights: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], _Flight]]
_flights = weakref.WeakKeyDictionary()


def _flight_for(network: str, account: str) -> _Flight:
    loop = asyncio.get_running_loop()
    per_loop = _flights.setdefault(loop, {})
    flight = per_loop.get((network, account))
    if flight is None:
        flight = per_loop[(network, account)] = _Flight()
    return flight


def _fence(token: Token) -> str:
    """A fingerprint of the refresh token (SHA-256): which refresh a lease or a refusal is for.

    The refresh token is a random secret of the server's, so its hash reveals nothing; the store
    keeps the fingerprint, never the token itself, in the lease record.
    """
    if token.refresh_token is None:
        return ""
    return hashlib.sha256(token.refresh_token.get_secret_value().encode()).hexdigest()


def _replay(error: Exception) -> Exception:
    """A copy of ``error`` for another waiting request (one exception object per raise)."""
    copy = type(error).__new__(type(error))
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    return copy


class OAuth2Auth(AuthScheme):
    """An ``httpx.Auth`` that sends the stored OAuth 2 token and keeps it fresh.

    - Adds ``Authorization: Bearer …`` from the token stored for (network, ``account``).
    - Refreshes when the token expires within ``leeway`` seconds, and once after a 401 (the
      request is then sent again if its body is in memory; streamed uploads are not re-sent).
    - Saves the refreshed token (with a rotated refresh token) in the store *before* the new
      access token is used, with ``compare_and_set`` so that it never overwrites a token written
      meanwhile by someone else (a new login).
    - One refresh per (network, account), always: concurrent requests in this process wait on
      one ``asyncio.Lock`` and re-read the store once they hold it; processes sharing the store
      take a lease with ``Store.compare_and_set``. The lease expires ``lease`` seconds after it
      is taken and is renewed every ``lease / 3`` seconds while the refresh is in flight, so a
      slow token endpoint never lets a second process send the same refresh token (which a
      server with reuse detection answers by revoking the whole grant); only a dead or frozen
      holder's lease lapses. The holder refreshes only if the stored token is still the one it
      read, and stores the new one with compare-and-set before using it.
    - A refused refresh token raises :class:`RefreshError` (a ``socialkit.AuthError``) and leaves
      the stored token as it was. The refusal is recorded in the lease for that refresh token:
      the requests queued behind it, here and in other processes, fail with the same error
      without sending it again (as does any later request, until a new login stores another
      token). Requests queued behind a refresh that failed otherwise (timeout, network) fail
      with that error once; the next request tries again.

    ``refreshes`` counts the refreshes this object performed (for metrics and tests).
    """

    def __init__(
        self,
        client: OAuth2Client,
        store: TokenStore,
        *,
        account: str = "default",
        leeway: float = 60.0,
        lease: float = 30.0,
        poll_interval: float = 0.05,
    ) -> None:
        if leeway < 0 or lease <= 0 or poll_interval <= 0:
            raise ConfigurationError("leeway must be >= 0, lease and poll_interval > 0")
        TokenStore.key(client.network, account)  # validates both names
        self.client = client
        self.store = store
        self.account = account
        self.network = client.network
        self.leeway = leeway
        self.lease = lease
        self.poll_interval = poll_interval
        self.refreshes = 0
        self._cached: Token | None = None

    def __repr__(self) -> str:
        return (
            f"OAuth2Auth(network={self.network!r}, account={self.account!r}, "
            f"leeway={self.leeway!r})"
        )

    # -- AuthScheme hooks ------------------------------------------------------------------

    async def authorize(self, request: httpx.Request) -> None:
        token = await self.token()
        request.headers["Authorization"] = f"Bearer {token.access_token.get_secret_value()}"

    async def on_unauthorized(self, request: httpx.Request, response: httpx.Response) -> bool:
        used = self._cached
        if used is None or used.refresh_token is None:
            return False
        sent = request.headers.get("Authorization", "")
        if sent != f"Bearer {used.access_token.get_secret_value()}":
            # Another task already replaced the token this request was sent with.
            return True
        logger.info(
            "%s: 401 for account %r, refreshing the access token", self.network, self.account
        )
        await self._refresh(stale=used, force=True)
        return True

    # -- public ----------------------------------------------------------------------------

    async def token(self) -> Token:
        """The current token, refreshed first when it expires within ``leeway`` seconds."""
        token = self._cached
        if token is None:
            token = await self._load()
        if token.refresh_token is not None and token.expires_within(self.leeway):
            token = await self._refresh(stale=token, force=False)
        return token

    async def refresh(self) -> Token:
        """Refresh now, whatever the expiry (still one refresh in flight per account)."""
        token = self._cached or await self._load()
        return await self._refresh(stale=token, force=True)

    # -- internals -------------------------------------------------------------------------

    async def _load(self) -> Token:
        token = await self.store.get(self.network, self.account)
        if token is None:
            raise AuthFlowError(
                self.network,
                code="not_logged_in",
                message=f"no token is stored for account {self.account!r}; log in first",
            )
        self._cached = token
        return token

    def _usable(self, candidate: Token | None, stale: Token) -> bool:
        """Whether a token read from the store replaces ``stale`` without a refresh."""
        return (
            candidate is not None
            and not candidate.same_access(stale)
            and not candidate.expires_within(self.leeway)
        )

    async def _refresh(self, *, stale: Token, force: bool) -> Token:
        flight = _flight_for(self.network, self.account)
        queued_at = flight.finished
        async with flight.lock:
            current = await self.store.get(self.network, self.account)
            if current is None:
                raise AuthFlowError(
                    self.network,
                    code="not_logged_in",
                    message=f"no token is stored for account {self.account!r}; log in again",
                )
            if self._usable(current, stale):
                self._cached = current  # refreshed meanwhile by another task or process
                return current
            if not force and not current.expires_within(self.leeway):
                self._cached = current
                return current
            fence = _fence(current)
            failure = flight.failure
            if failure is not None and failure[0] > queued_at and failure[1] == fence:
                # This request queued behind a refresh of the same token that failed: it fails
                # with it instead of sending the refresh token again.
                raise _replay(failure[2])
            try:
                token = await self._refresh_with_lease(current)
            except SocialkitError as exc:
                flight.finished += 1
                flight.failure = (flight.finished, fence, exc)
                raise
            flight.finished += 1
            flight.failure = None
            return token

    async def _refresh_with_lease(self, current: Token) -> Token:
        """Refresh under the cross-process lease of this account, or wait for its holder.

        The lease is one record in the store (``compare_and_set``): owner, expiry and the
        fingerprint of the refresh token it refreshes (the fence). Its expiry is computed when
        it is taken and renewed while the refresh is in flight, so it lapses only when its
        holder died or froze. After a refused refresh the record keeps the refusal for that
        refresh token, so the other requests and processes fail at once with the same error.
        """
        raw = self.store.store
        key = TokenStore.key(self.network, self.account)
        owner = uuid.uuid4().hex
        while True:
            latest = await self.store.get(self.network, self.account)
            if latest is None:
                raise AuthFlowError(
                    self.network,
                    code="not_logged_in",
                    message=f"the token of account {self.account!r} was deleted; log in again",
                )
            if self._usable(latest, current):
                self._cached = latest  # another process refreshed it
                return latest
            fence = _fence(latest)
            held = await raw.get(_LEASE_NAMESPACE, key)
            record = _lease_record(held)
            refused = record.get("refused")
            if isinstance(refused, dict) and record.get("fence") == fence:
                self._cached = latest
                raise _refusal(self.network, refused)
            if refused is not None or float(record.get("until", 0.0)) < time.time():
                # Free (or a refusal of another token): take it, expiring `lease` from now.
                mine = json.dumps(
                    {"owner": owner, "until": time.time() + self.lease, "fence": fence},
                    sort_keys=True,
                )
                if await raw.compare_and_set(_LEASE_NAMESPACE, key, held, mine):
                    token = await self._refresh_holding(key, mine, latest, fence)
                    if token is not None:
                        return token
                continue
            await asyncio.sleep(self.poll_interval)

    async def _refresh_holding(
        self, key: str, mine: str, latest: Token, fence: str
    ) -> Token | None:
        """The refresh itself, under the lease ``mine``; ``None``: the token changed, start over."""
        raw = self.store.store
        lease = [mine]
        stop = asyncio.Event()
        heartbeat = asyncio.create_task(self._renew(key, lease, stop))
        release = ""
        try:
            # Fencing: refresh only if the stored token is still the one read before the lease
            # was taken (another process may have refreshed and released it in between).
            stored = await self.store.get(self.network, self.account)
            if stored is None or stored.dumps() != latest.dumps():
                return None
            try:
                new = await self.client.refresh(latest, account=self.account)
            except RefreshError as exc:
                after = await self.store.get(self.network, self.account)
                if self._usable(after, latest):
                    assert after is not None
                    self._cached = after
                    return after
                self._cached = latest
                if exc.status is not None:  # the server refused it: remember, for the others
                    release = _refusal_record(fence, exc)
                raise
            # Persist first (the rotated refresh token must survive a crash), then use; only
            # over the token this refresh started from (compare-and-set: never clobber a login).
            if not await self.store.compare_and_set(self.network, self.account, latest, new):
                winner = await self.store.get(self.network, self.account)
                logger.warning(
                    "%s: the token of account %r changed during a refresh; keeping the stored one",
                    self.network,
                    self.account,
                )
                if winner is None:
                    raise AuthFlowError(
                        self.network,
                        code="not_logged_in",
                        message=f"the token of account {self.account!r} was deleted; log in again",
                    )
                self._cached = winner
                return winner
            self.refreshes += 1
            self._cached = new
            logger.info("%s: refreshed the access token of account %r", self.network, self.account)
            return new
        finally:
            stop.set()
            await heartbeat
            await raw.compare_and_set(_LEASE_NAMESPACE, key, lease[0], release)

    async def _renew(self, key: str, lease: list[str], stop: asyncio.Event) -> None:
        """Renew the lease every third of its length until ``stop``: a token endpoint slower
        than the lease never lets another process start a second refresh with the same token."""
        raw = self.store.store
        while True:
            try:
                await asyncio.wait_for(stop.wait(), self.lease / 3)
                return
            except asyncio.TimeoutError:
                pass
            record = _lease_record(lease[0])
            record["until"] = time.time() + self.lease
            renewed = json.dumps(record, sort_keys=True)
            try:
                kept = await raw.compare_and_set(_LEASE_NAMESPACE, key, lease[0], renewed)
            except Exception as exc:  # the store failed once: the next beat tries again
                logger.warning(
                    "%s: could not renew the refresh lease of account %r (%s)",
                    self.network,
                    self.account,
                    type(exc).__name__,
                )
                continue
            if not kept:
                logger.warning(
                    "%s: the refresh lease of account %r was taken over (not renewed in time)",
                    self.network,
                    self.account,
                )
                return
            lease[0] = renewed


def _lease_record(value: str | None) -> dict[str, Any]:
    """The lease record stored as JSON; empty (a free lease) when absent or unreadable."""
    if not value:
        return {}
    try:
        record = json.loads(value)
    except ValueError:
        return {}
    if not isinstance(record, dict):
        return {}
    try:
        float(record.get("until", 0.0))
    except (TypeError, ValueError):
        return {}
    return record


def _refusal_record(fence: str, error: RefreshError) -> str:
    """The lease record after a refused refresh: which token, and the error (it holds no secret)."""
    refused = {
        "status": error.status,
        "code": error.code,
        "message": error.message,
        "request_id": error.request_id,
    }
    return json.dumps({"fence": fence, "refused": refused, "until": 0.0}, sort_keys=True)


def _refusal(network: str, refused: dict[str, Any]) -> RefreshError:
    def text(name: str) -> str | None:
        value = refused.get(name)
        return value if isinstance(value, str) else None

    status = refused.get("status")
    return RefreshError(
        network,
        status=status if isinstance(status, int) else None,
        code=text("code"),
        message=text("message"),
        request_id=text("request_id"),
    )
