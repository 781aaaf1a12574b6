"""AT Protocol OAuth for the Bluesky adapter: PAR + PKCE + DPoP, sessions kept in a store.

The atproto OAuth profile (https://atproto.com/specs/oauth) is OAuth 2.1 with no options left
open: the authorization-code grant only, PKCE with ``S256``, pushed authorization requests (PAR,
RFC 9126), DPoP-bound tokens (RFC 9449) signed with an ES256 key per session, server-provided
DPoP nonces, a ``client_id`` that is the URL of the client's metadata document (or, for
development, the loopback form ``http://localhost?redirect_uri=…&scope=…``), and the account's
authorization server discovered from its PDS.

Login (:meth:`BlueskyOAuthAuth.begin` / :meth:`BlueskyOAuthAuth.complete`, exposed by the
adapter as ``ex_oauth_begin`` / ``ex_oauth_complete``):

1. handle -> DID (``com.atproto.identity.resolveHandle``) -> DID document (PLC directory, or
   ``did:web``'s ``/.well-known/did.json``) -> PDS (the ``#atproto_pds`` service);
2. ``{pds}/.well-known/oauth-protected-resource`` names exactly one authorization server;
   ``{issuer}/.well-known/oauth-authorization-server`` is its metadata (its ``issuer`` must be
   the URL it was fetched for);
3. a fresh ES256 key, a PKCE verifier and a ``state``; the PAR carries ``client_id``,
   ``response_type=code``, the S256 challenge, ``state``, ``redirect_uri``, ``scope`` and
   ``login_hint``, with a DPoP proof; the pending request (verifier, key, issuer, endpoints)
   is kept in the store under its ``state``, so the redirect may arrive in another process;
4. the redirect is checked (``state`` known and unused, ``iss`` the issuer, RFC 9207) before
   any request; the code is exchanged with the verifier and a DPoP proof; the answer must be a
   ``DPoP`` token whose ``sub`` is the account's DID and whose scope includes ``atproto``.

Requests (:class:`BlueskyOAuthAuth` is an :class:`~socialkit.auth.AuthScheme`, so an
``httpx.Auth`` for the pipeline Session): ``Authorization: DPoP <token>`` and a fresh proof
(``htm``, ``htu`` without query or fragment, ``iat``, ``jti``, the server's ``nonce`` when known,
``ath`` = base64url(SHA-256(access token))).

DPoP nonces: every response's ``DPoP-Nonce`` header is remembered per origin (the
authorization server and the PDS keep separate ones). A ``use_dpop_nonce`` refusal (400 from
the authorization server, 401 with ``WWW-Authenticate: DPoP error="use_dpop_nonce"`` from the
PDS) that brings a new nonce is answered by re-sending the request once with it: that is part
of the DPoP protocol (RFC 9449 sections 8 and 9), not a retry policy; transient failures are
still the pipeline's business.

Refresh: before the access token expires (``leeway`` seconds) and after a 401
``invalid_token``, once per account at a time (an ``asyncio.Lock`` in this process; the store
is read again under it, so a session another task or process just refreshed is reused). The
refresh token rotates: the new session is written to the store (compare-and-set against the
one it replaces) *before* its tokens are used. The refresh is never re-sent after it may have
reached the server (a refresh token used twice may end the whole session).

The session (tokens, the DPoP private key as a JWK, issuer, token endpoint, client id, DID,
handle, PDS URL) is a :class:`~socialkit.auth.Token` under (``bluesky-oauth``, account) in the
:class:`~socialkit.auth.TokenStore`, reused across instances and runs. Its private key and
tokens are secrets: they are in no repr, log line or error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
from pydantic import SecretStr

from socialkit._errors import APIError, ConfigurationError
from socialkit._http._wire import read_auth_refusal
from socialkit.adapters.bluesky._auth import SessionData, _lock_for, _pds_endpoint
from socialkit.auth import (
    AuthFlowError,
    AuthScheme,
    RefreshError,
    StateMismatchError,
    Token,
    TokenStore,
    generate_code_verifier,
    generate_state,
    is_replayable,
)

if TYPE_CHECKING:
    from joserfc.jwk import ECKey

    from socialkit._http import Session

__all__ = [
    "SCOPE",
    "BlueskyOAuthAuth",
    "DPoPKey",
    "check_client_id",
    "loopback_client_id",
]

logger = logging.getLogger("socialkit.auth")

NETWORK = "bluesky"
#: TokenStore network name of OAuth sessions (app-password sessions are under ``bluesky``).
TOKEN_NETWORK = "bluesky-oauth"
#: Store namespace of pending authorization requests, keyed by ``state``.
PENDING_NAMESPACE = "socialkit.bluesky.oauth-pending"
#: What the adapter needs: the atproto identity plus the transitional "everything an app
#: password could do" scope (https://atproto.com/specs/oauth#authorization-scopes).
SCOPE = "atproto transition:generic"
#: How long a begun login may wait for its redirect (the server's own limits are shorter).
PENDING_TTL = 1800.0
#: The loopback redirect used when none is given (the spec's default for loopback clients).
DEFAULT_LOOPBACK_REDIRECT = "http://127.0.0.1/"
_BUCKET = "oauth"
_IDENTITY_BUCKET = "identity"
_WWW_ERROR = re.compile(r'\berror\s*=\s*"([^"]*)"', re.IGNORECASE)
_SESSION_FIELDS = ("did", "pds", "issuer", "token_endpoint", "client_id", "dpop_jwk")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sha256_b64url(text: str) -> str:
    return _b64url(hashlib.sha256(text.encode("ascii")).digest())


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


def _flow_error(code: str, message: str) -> AuthFlowError:
    return AuthFlowError(NETWORK, code=code, message=message)


# -- the client id -----------------------------------------------------------------------------


def _is_loopback_redirect(uri: str) -> bool:
    url = httpx.URL(uri)
    return url.scheme == "http" and url.host in ("127.0.0.1", "::1")


def loopback_client_id(redirect_uri: str | None = None, scope: str = SCOPE) -> str:
    """The development ``client_id`` of a loopback client: ``http://localhost?redirect_uri=…``
    ``&scope=…``, for which the server builds the metadata itself (no document to publish).

    The redirect must be ``http://127.0.0.1[:port]/…`` or ``http://[::1][:port]/…`` (not
    ``localhost``), as the atproto OAuth profile requires.
    """
    params: list[tuple[str, str]] = []
    if redirect_uri is not None:
        if not _is_loopback_redirect(redirect_uri):
            raise ConfigurationError(
                "bluesky: a loopback OAuth client redirects to http://127.0.0.1 or http://[::1] "
                f"(got {redirect_uri!r})"
            )
        params.append(("redirect_uri", redirect_uri))
    params.append(("scope", scope))
    return "http://localhost?" + urlencode(params, quote_via=quote)


def check_client_id(value: str) -> str:
    """``value`` if it is a valid atproto ``client_id``, else ``ValueError``.

    Either the ``https`` URL of a client metadata document, or the loopback form
    ``http://localhost`` (no port, no path) with optional ``redirect_uri`` / ``scope`` query
    parameters.
    """
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError):
        raise ValueError("oauth_client_id is not a URL") from None
    if url.scheme == "https" and url.host and not url.fragment:
        return value
    if url.scheme == "http" and url.host == "localhost":
        if url.port is not None or url.path not in ("", "/") or url.fragment:
            raise ValueError("a loopback client_id is http://localhost with no port or path")
        return value
    raise ValueError(
        "oauth_client_id is the https URL of the client metadata document, or "
        "http://localhost?redirect_uri=…&scope=… for a loopback (development) client"
    )


def _is_loopback_client(client_id: str) -> bool:
    return client_id.startswith("http://localhost")


# -- DPoP keys and proofs ----------------------------------------------------------------------


class DPoPKey:
    """An ES256 (P-256) key that signs DPoP proofs (RFC 9449 section 4).

    The private part is a secret: it is only ever given out by :meth:`private_jwk` (for the
    store) and never shown by ``repr``.
    """

    __slots__ = ("_key", "_public")

    def __init__(self, key: ECKey) -> None:
        self._key = key
        self._public: dict[str, Any] = {
            k: v for k, v in key.as_dict(private=False).items() if k in ("kty", "crv", "x", "y")
        }

    @classmethod
    def generate(cls) -> DPoPKey:
        from joserfc.jwk import ECKey  # imported on first use: keeps the adapter light

        return cls(ECKey.generate_key("P-256", private=True))

    @classmethod
    def from_jwk(cls, jwk: Any) -> DPoPKey:
        """The key of a stored private JWK (``kty=EC``, ``crv=P-256``, with ``d``)."""
        if not (
            isinstance(jwk, Mapping)
            and jwk.get("kty") == "EC"
            and jwk.get("crv") == "P-256"
            and isinstance(jwk.get("d"), str)
        ):
            raise _flow_error(
                "unreadable_session", "the stored DPoP key is not a P-256 private key"
            )
        from joserfc.errors import JoseError
        from joserfc.jwk import ECKey

        try:
            key = ECKey.import_key(dict(jwk))
        except (JoseError, ValueError, TypeError):
            raise _flow_error("unreadable_session", "the stored DPoP key cannot be read") from None
        return cls(key)

    def __repr__(self) -> str:
        return f"DPoPKey(ES256, thumbprint={self.thumbprint()!r})"

    def private_jwk(self) -> dict[str, Any]:
        """The key with its private part, for the store. A secret: never log it."""
        return dict(self._key.as_dict(private=True))

    @property
    def public_jwk(self) -> dict[str, Any]:
        return dict(self._public)

    def thumbprint(self) -> str:
        """The RFC 7638 thumbprint of the public key (what a server binds tokens to)."""
        members = {k: self._public[k] for k in ("crv", "kty", "x", "y")}
        canonical = json.dumps(members, sort_keys=True, separators=(",", ":"))
        return _b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        nonce: str | None = None,
        access_token: str | None = None,
        now: float | None = None,
    ) -> str:
        """A DPoP proof JWT for one request.

        ``htu`` is the target URI without query and fragment; ``ath`` (resource requests only)
        is base64url(SHA-256(access token)); ``jti`` is random, so no two proofs are equal.
        """
        target = url if isinstance(url, httpx.URL) else httpx.URL(url)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": str(target.copy_with(query=None, fragment=None)),
            "iat": int(time.time() if now is None else now),
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["ath"] = _sha256_b64url(access_token)
        from joserfc import jwt

        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.public_jwk}
        return jwt.encode(header, claims, self._key)


class _Nonces:
    """The last ``DPoP-Nonce`` each origin sent (RFC 9449 section 8: nonces are per server)."""

    __slots__ = ("_by_origin",)

    def __init__(self) -> None:
        self._by_origin: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"_Nonces(origins={sorted(self._by_origin)!r})"

    def get(self, url: httpx.URL) -> str | None:
        return self._by_origin.get(_origin(url))

    def learn(self, url: httpx.URL, response: httpx.Response) -> bool:
        """Remember the response's nonce; ``True`` when it is a new one."""
        nonce = response.headers.get("DPoP-Nonce")
        if not nonce:
            return False
        origin = _origin(url)
        if self._by_origin.get(origin) == nonce:
            return False
        self._by_origin[origin] = nonce
        return True


async def _read_refusal(response: httpx.Response) -> None:
    """Read the body of a 400/401 (an auth flow that overrides ``async_auth_flow`` gets the
    response unread from a real transport; ``requires_response_body`` only acts in httpx's
    own flow)."""
    if response.status_code in (400, 401):
        await read_auth_refusal(response)


def _body_error(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def _www_error(response: httpx.Response) -> str | None:
    """The ``error`` of a ``WWW-Authenticate: DPoP …`` challenge (RFC 9449 section 7.1)."""
    for value in response.headers.get_list("WWW-Authenticate"):
        if value.strip().lower().startswith("dpop"):
            match = _WWW_ERROR.search(value)
            if match:
                return match.group(1)
    return None


def _wants_nonce(response: httpx.Response) -> bool:
    """A ``use_dpop_nonce`` refusal: 400 from an authorization server (RFC 9449 section 8),
    401 with the DPoP challenge from a resource server (section 9)."""
    if response.status_code == 400:
        return _body_error(response) == "use_dpop_nonce"
    if response.status_code == 401:
        return _www_error(response) == "use_dpop_nonce"
    return False


class _ProofAuth(httpx.Auth):
    """DPoP proof only (no access token): PAR and token requests to the authorization server.

    Re-sends a request once when the server refuses it with ``use_dpop_nonce`` and a new nonce
    (the DPoP nonce exchange, not a retry policy).
    """

    requires_response_body = True

    def __init__(self, key: DPoPKey, nonces: _Nonces, clock: Callable[[], float]) -> None:
        self.key = key
        self.nonces = nonces
        self.clock = clock

    def __repr__(self) -> str:
        return "_ProofAuth(DPoP)"

    def _sign(self, request: httpx.Request) -> None:
        request.headers["DPoP"] = self.key.proof(
            request.method, request.url, nonce=self.nonces.get(request.url), now=self.clock()
        )

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        self._sign(request)
        replayable = is_replayable(request)
        response = yield request
        await _read_refusal(response)
        if self.nonces.learn(request.url, response) and replayable and _wants_nonce(response):
            self._sign(request)
            response = yield request
            self.nonces.learn(request.url, response)


# -- server metadata ---------------------------------------------------------------------------


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _flow_error("malformed_response", f"{what} is not a JSON object")
    return body


def _string(body: Mapping[str, Any], name: str, what: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise _flow_error("malformed_response", f"{what} has no {name}")
    return value


class _Server:
    """What the login needs from the authorization server metadata (RFC 8414)."""

    __slots__ = ("authorization_endpoint", "iss_parameter", "issuer", "par_endpoint", "token")

    def __init__(self, issuer: str, meta: Mapping[str, Any]) -> None:
        what = f"the metadata of the authorization server {issuer}"
        if str(meta.get("issuer", "")).rstrip("/") != issuer:
            raise _flow_error(
                "issuer_mismatch", f"{what} names another issuer ({meta.get('issuer')!r})"
            )
        self.issuer = issuer
        self.authorization_endpoint = _string(meta, "authorization_endpoint", what)
        self.token = _string(meta, "token_endpoint", what)
        self.par_endpoint = _string(meta, "pushed_authorization_request_endpoint", what)
        algs = meta.get("dpop_signing_alg_values_supported")
        if not isinstance(algs, list) or "ES256" not in algs:
            raise _flow_error("unsupported_server", f"{what} does not accept ES256 DPoP proofs")
        methods = meta.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise _flow_error("unsupported_server", f"{what} does not accept S256 PKCE")
        scopes = meta.get("scopes_supported")
        if isinstance(scopes, list) and "atproto" not in scopes:
            raise _flow_error("unsupported_server", f"{what} does not offer the atproto scope")
        self.iss_parameter = meta.get("authorization_response_iss_parameter_supported") is True


def _parse_redirect(redirect: str | Mapping[str, str]) -> dict[str, str]:
    if isinstance(redirect, str):
        parts = urlsplit(redirect.strip())
        query = parts.query or (redirect.strip().lstrip("?") if not parts.scheme else "")
        return dict(parse_qsl(query, keep_blank_values=True))
    return {str(k): str(v) for k, v in redirect.items()}


# -- the auth scheme ---------------------------------------------------------------------------


class BlueskyOAuthAuth(AuthScheme):
    """The OAuth session of one account (see the module docstring)."""

    network = NETWORK
    requires_response_body = True  # the 401 checks read the error body and challenge

    def __init__(
        self,
        *,
        store: TokenStore,
        identifier: str,
        service: str,
        client_id: str | None = None,
        redirect_uri: str | None = None,
        plc_directory: str = "https://plc.directory",
        leeway: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        account = identifier.strip().lstrip("@").lower() if identifier else ""
        if not account:
            raise ConfigurationError("bluesky needs an identifier (a handle or a DID)")
        if client_id is not None:
            try:
                check_client_id(client_id)
            except ValueError as exc:
                raise ConfigurationError(f"bluesky: {exc}") from None
        self.session: Session | None = None  # set by the adapter: the pipeline Session
        self.store = store
        self.account = account
        self.identifier = identifier.strip().lstrip("@")
        self.service = service.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.plc_directory = plc_directory.rstrip("/")
        self.leeway = leeway
        self.clock = clock
        self.refreshes = 0
        self._nonces = _Nonces()
        self._keys: dict[str, DPoPKey] = {}
        self._cached: Token | None = None

    def __repr__(self) -> str:
        return f"BlueskyOAuthAuth(account={self.account!r}, client_id={self.client_id!r})"

    # -- requests ------------------------------------------------------------------------------

    def _key(self, token: Token) -> DPoPKey:
        jwk = token.extra["dpop_jwk"]
        cached = self._keys.get(str(jwk.get("x")))
        if cached is None:
            cached = DPoPKey.from_jwk(jwk)
            self._keys = {str(jwk.get("x")): cached}  # one session key at a time
        return cached

    def _sign(self, request: httpx.Request, token: Token) -> None:
        access = token.access_token.get_secret_value()
        key = self._key(token)
        request.headers["Authorization"] = f"DPoP {access}"
        request.headers["DPoP"] = key.proof(
            request.method,
            request.url,
            nonce=self._nonces.get(request.url),
            access_token=access,
            now=self.clock(),
        )

    async def authorize(self, request: httpx.Request) -> None:
        self._sign(request, await self.token())

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self.token()
        self._sign(request, token)
        replayable = is_replayable(request)
        response = yield request
        await _read_refusal(response)
        new_nonce = self._nonces.learn(request.url, response)
        if new_nonce and replayable and _wants_nonce(response):
            # The PDS wants a (new) nonce in the proof: the DPoP protocol's one re-send.
            self._sign(request, token)
            response = yield request
            await _read_refusal(response)
            self._nonces.learn(request.url, response)
        if response.status_code == 401 and self._expired(response):
            fresh = await self._refresh(stale=token)
            if replayable and not fresh.same_access(token):
                self._sign(request, fresh)
                response = yield request
                self._nonces.learn(request.url, response)

    @staticmethod
    def _expired(response: httpx.Response) -> bool:
        if _www_error(response) == "invalid_token":
            return True
        return _body_error(response) in ("invalid_token", "InvalidToken", "ExpiredToken")

    # -- session -------------------------------------------------------------------------------

    async def token(self) -> Token:
        """The current session, refreshed first when the access token is about to expire."""
        token = self._cached
        if token is None:
            token = await self._load()
        if token is None:
            raise self._not_logged_in()
        if token.expires_within(self.leeway, now=self._now()):
            return await self._refresh(stale=token)
        return token

    async def refresh(self) -> Token:
        """Refresh the session now, whatever its expiry."""
        current = await self._load()
        if current is None:
            raise self._not_logged_in()
        return await self._refresh(stale=current)

    async def data(self) -> SessionData:
        """DID, handle and PDS of the session."""
        extra = (await self.token()).extra
        return SessionData(
            str(extra["did"]), str(extra.get("handle") or extra["did"]), extra["pds"]
        )

    async def forget(self) -> None:
        """Drop the stored session (the next request needs a new login)."""
        self._cached = None
        await self.store.delete(TOKEN_NETWORK, self.account)

    async def stored(self) -> bool:
        """Whether an OAuth session is stored for this account."""
        return await self._load() is not None

    def _not_logged_in(self) -> AuthFlowError:
        return _flow_error(
            "not_logged_in",
            f"no OAuth session is stored for {self.account!r} and no app password is set; "
            "log in first with BlueskyAdapter.ex_oauth_begin and ex_oauth_complete, or set an "
            "app password (`socialkit auth login bluesky` stores one)",
        )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    async def _load(self) -> Token | None:
        token = await self.store.get(TOKEN_NETWORK, self.account)
        if token is not None and (
            token.refresh_token is None or any(not token.extra.get(k) for k in _SESSION_FIELDS)
        ):
            raise _flow_error(
                "unreadable_session",
                f"the stored OAuth session of {self.account!r} is incomplete; log in again",
            )
        self._cached = token
        return token

    def _pipeline(self) -> Session:
        if self.session is None:
            raise ConfigurationError("BlueskyOAuthAuth.session is not set")
        return self.session

    async def _refresh(self, *, stale: Token) -> Token:
        async with _lock_for(f"oauth:{self.account}"):
            current = await self._load()
            if current is None:
                raise self._not_logged_in()
            if not current.same_access(stale):
                return current  # refreshed meanwhile (another task or process)
            assert current.refresh_token is not None
            extra = current.extra
            key = self._key(current)
            try:
                response = await self._pipeline().request(
                    "POST",
                    extra["token_endpoint"],
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": current.refresh_token.get_secret_value(),
                        "client_id": extra["client_id"],
                    },
                    # Never re-sent once it may have arrived: a rotated refresh token used
                    # twice may revoke the session (OutcomeUnknownError instead).
                    kind="create",
                    bucket=_BUCKET,
                    auth=_ProofAuth(key, self._nonces, self.clock),
                )
            except APIError as exc:
                if exc.status in (400, 401) and exc.code in ("invalid_grant", "invalid_token"):
                    raise RefreshError(
                        NETWORK,
                        exc.status,
                        exc.code,
                        f"the refresh token of {self.account!r} was refused; log in again",
                        exc.request_id,
                    ) from None
                raise
            token = self._session_token(
                _json_object(response, "the token response"),
                did=str(extra["did"]),
                extra=extra,
                previous=current,
            )
            self.refreshes += 1
            await self._save(current, token)
            logger.info("%s: refreshed the OAuth session of %r", NETWORK, self.account)
            return self._cached or token

    def _session_token(
        self,
        data: Mapping[str, Any],
        *,
        did: str,
        extra: Mapping[str, Any],
        previous: Token | None,
    ) -> Token:
        """Check a token response (RFC 6749 section 5.1 + the atproto profile) and build the
        session from it."""
        if str(data.get("token_type", "")).lower() != "dpop":
            raise _flow_error("invalid_token_type", "the server did not issue a DPoP-bound token")
        sub = data.get("sub")
        if sub != did:
            raise _flow_error(
                "sub_mismatch",
                f"the token is for another account than {did} (sub {sub!r}); it was discarded",
            )
        scope = data.get("scope")
        if not isinstance(scope, str) or "atproto" not in scope.split():
            raise _flow_error("invalid_scope", "the token was not granted the atproto scope")
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise _flow_error("malformed_response", "the token response has no access_token")
        refresh = data.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            if previous is None or previous.refresh_token is None:
                raise _flow_error("malformed_response", "the token response has no refresh_token")
            refresh = previous.refresh_token.get_secret_value()
        expires_at = None
        expires_in = data.get("expires_in")
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            expires_at = self._now() + timedelta(seconds=float(expires_in))
        return Token(
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh),
            token_type="DPoP",
            expires_at=expires_at,
            scope=scope,
            extra=dict(extra),
        )

    async def _save(self, previous: Token | None, token: Token) -> None:
        """Persist before use; never overwrite a session written meanwhile by someone else."""
        if await self.store.compare_and_set(TOKEN_NETWORK, self.account, previous, token):
            self._cached = token
            return
        winner = await self.store.get(TOKEN_NETWORK, self.account)
        if winner is None:
            await self.store.put(TOKEN_NETWORK, self.account, token)
            self._cached = token
            return
        logger.warning(
            "%s: the OAuth session of %r changed in the store meanwhile; using the stored one",
            NETWORK,
            self.account,
        )
        self._cached = winner

    # -- login ---------------------------------------------------------------------------------

    async def begin(
        self,
        identity: str | None = None,
        *,
        redirect_uri: str | None = None,
        scope: str = SCOPE,
    ) -> tuple[str, str]:
        """Start a login: ``(authorization URL, state)``. Send the user to the URL; pass the
        redirect it comes back with to :meth:`complete`."""
        redirect = redirect_uri or self.redirect_uri
        client_id = self.client_id
        if client_id is None:
            redirect = redirect or DEFAULT_LOOPBACK_REDIRECT
            client_id = loopback_client_id(redirect, scope)
        elif redirect is None:
            if not _is_loopback_client(client_id):
                raise ConfigurationError(
                    "bluesky: oauth_redirect_uri is needed with a client metadata document "
                    "(one of its redirect_uris)"
                )
            redirect = DEFAULT_LOOPBACK_REDIRECT
        hint = (identity or self.identifier).strip().lstrip("@")
        did, handle, pds = await self._identity(hint)
        if hint.lower() != self.account and did != self.account:
            # The session is stored under this adapter's identifier: it must be that account.
            own = await self._identity(self.identifier)
            if own[0] != did:
                raise ConfigurationError(
                    f"bluesky: {hint!r} is another account than the identifier setting "
                    f"{self.identifier!r}; log in with an adapter set up for that account"
                )
        server = await self._discover(pds)
        key = DPoPKey.generate()
        verifier = generate_code_verifier()
        state = generate_state()
        form = {
            "client_id": client_id,
            "response_type": "code",
            "code_challenge": _sha256_b64url(verifier),
            "code_challenge_method": "S256",
            "state": state,
            "redirect_uri": redirect,
            "scope": scope,
            "login_hint": handle or did,
        }
        try:
            response = await self._pipeline().request(
                "POST",
                server.par_endpoint,
                data=form,
                kind="write",  # a second PAR only makes another request_uri: safe to re-send
                bucket=_BUCKET,
                auth=_ProofAuth(key, self._nonces, self.clock),
            )
        except APIError as exc:
            raise self._refused(exc, "pushed authorization request") from None
        par = _json_object(response, "the pushed authorization request's answer")
        request_uri = _string(par, "request_uri", "the pushed authorization request's answer")
        pending = {
            "account": self.account,
            "did": did,
            "handle": handle,
            "pds": pds,
            "issuer": server.issuer,
            "iss_required": server.iss_parameter,
            "token_endpoint": server.token,
            "client_id": client_id,
            "redirect_uri": redirect,
            "verifier": verifier,
            "dpop_jwk": key.private_jwk(),
            "created": self.clock(),
        }
        await self.store.store.put(PENDING_NAMESPACE, state, json.dumps(pending))
        query = urlencode({"client_id": client_id, "request_uri": request_uri}, quote_via=quote)
        separator = "&" if "?" in server.authorization_endpoint else "?"
        logger.info("%s: OAuth login of %r begun at %s", NETWORK, did, server.issuer)
        return f"{server.authorization_endpoint}{separator}{query}", state

    async def complete(self, redirect: str | Mapping[str, str]) -> SessionData:
        """Finish a login from the redirect (its URL or query parameters): check ``state`` and
        ``iss``, exchange the code, check ``sub``, store the session."""
        params = _parse_redirect(redirect)
        state = params.get("state")
        text = await self.store.store.get(PENDING_NAMESPACE, state) if state else None
        if text is None:
            raise StateMismatchError(
                NETWORK,
                code="state_mismatch",
                message=(
                    "the redirect's state belongs to no pending login (forged, another login "
                    "attempt, or already used); nothing was sent"
                ),
            )
        assert state is not None
        await self.store.store.delete(PENDING_NAMESPACE, state)  # one use only
        pending = json.loads(text)
        if self.clock() - float(pending["created"]) > PENDING_TTL:
            raise _flow_error("login_expired", "this login began too long ago; begin again")
        if "error" in params:
            error = params["error"][:100]
            raise _flow_error(error, f"the authorization was not granted ({error})")
        iss = params.get("iss")
        if iss is None and pending["iss_required"]:
            raise _flow_error("iss_missing", "the redirect does not name its issuer (iss)")
        if iss is not None and iss.rstrip("/") != pending["issuer"]:
            raise _flow_error(
                "iss_mismatch",
                "the redirect comes from another authorization server than the one asked; "
                "the code was not used",
            )
        code = params.get("code")
        if not code:
            raise _flow_error("missing_code", "the redirect carries no authorization code")
        key = DPoPKey.from_jwk(pending["dpop_jwk"])
        try:
            response = await self._pipeline().request(
                "POST",
                pending["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": pending["redirect_uri"],
                    "client_id": pending["client_id"],
                    "code_verifier": pending["verifier"],
                },
                kind="create",  # a code is good once
                bucket=_BUCKET,
                auth=_ProofAuth(key, self._nonces, self.clock),
            )
        except APIError as exc:
            raise self._refused(exc, "token request") from None
        extra = {
            "did": pending["did"],
            "handle": pending["handle"],
            "pds": pending["pds"],
            "issuer": pending["issuer"],
            "token_endpoint": pending["token_endpoint"],
            "client_id": pending["client_id"],
            "dpop_jwk": pending["dpop_jwk"],
        }
        token = self._session_token(
            _json_object(response, "the token response"),
            did=pending["did"],
            extra=extra,
            previous=None,
        )
        async with _lock_for(f"oauth:{self.account}"):
            await self.store.put(TOKEN_NETWORK, self.account, token)
            self._cached = token
        logger.info("%s: OAuth login of %r complete", NETWORK, pending["did"])
        return SessionData(pending["did"], pending["handle"] or pending["did"], pending["pds"])

    @staticmethod
    def _refused(exc: APIError, what: str) -> AuthFlowError:
        code = exc.code or "refused"
        error = AuthFlowError(
            NETWORK,
            code=code,
            message=f"the authorization server refused the {what} ({code})",
            request_id=exc.request_id,
        )
        error.status = exc.status
        return error

    # -- identity and discovery ----------------------------------------------------------------

    async def _get(self, url: str, bucket: str) -> httpx.Response:
        return await self._pipeline().request("GET", url, bucket=bucket, auth=None)

    async def _identity(self, hint: str) -> tuple[str, str | None, str]:
        """``(did, handle, pds)`` of a handle or DID (the handle checked against the DID
        document's ``alsoKnownAs``)."""
        handle: str | None = None
        if hint.startswith("did:"):
            did = hint
        else:
            handle = hint.lower()
            response = await self._pipeline().request(
                "GET",
                f"{self.service}/xrpc/com.atproto.identity.resolveHandle",
                params={"handle": handle},
                auth=None,
            )
            did = _string(_json_object(response, "resolveHandle"), "did", "resolveHandle")
        if did.startswith("did:plc:"):
            url = f"{self.plc_directory}/{did}"
        elif did.startswith("did:web:") and ":" not in did[len("did:web:") :]:
            url = f"https://{did[len('did:web:') :]}/.well-known/did.json"
        else:
            raise _flow_error("unsupported_did", f"{did!r} is neither a did:plc nor a did:web")
        doc = _json_object(await self._get(url, _IDENTITY_BUCKET), f"the DID document of {did}")
        if doc.get("id") != did:
            raise _flow_error("did_mismatch", f"the DID document fetched for {did} is another's")
        names = [
            a[len("at://") :].lower()
            for a in doc.get("alsoKnownAs") or []
            if isinstance(a, str) and a.startswith("at://")
        ]
        if handle is not None and handle not in names:
            raise _flow_error(
                "handle_mismatch", f"the DID document of {did} does not claim {handle!r}"
            )
        if handle is None and names:
            handle = names[0]
        pds = _pds_endpoint(doc)
        if pds is None:
            raise _flow_error("no_pds", f"the DID document of {did} names no PDS")
        return did, handle, pds

    async def _discover(self, pds: str) -> _Server:
        resource = _json_object(
            await self._get(f"{pds}/.well-known/oauth-protected-resource", _BUCKET),
            f"the protected resource metadata of {pds}",
        )
        servers = resource.get("authorization_servers")
        if not isinstance(servers, list) or len(servers) != 1 or not isinstance(servers[0], str):
            raise _flow_error(
                "unsupported_server", f"{pds} does not name exactly one authorization server"
            )
        issuer = servers[0].rstrip("/")
        meta = _json_object(
            await self._get(f"{issuer}/.well-known/oauth-authorization-server", _BUCKET),
            f"the metadata of the authorization server {issuer}",
        )
        return _Server(issuer, meta)
