"""Authentication: OAuth 2.0 (PKCE, refresh), OAuth 1.0a, bearer tokens, token stores.

Every scheme is an :class:`httpx.Auth` that the HTTP pipeline (``Session(auth=...)``) accepts.
Secrets are :class:`pydantic.SecretStr` everywhere: no token, secret or code shows in a repr,
a log line or an exception.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialkit.auth._errors import (
        AuthFlowError,
        LoginTimeoutError,
        RefreshError,
        StateMismatchError,
    )
    from socialkit.auth.bearer import AuthScheme, BearerAuth, is_replayable
    from socialkit.auth.encrypted import EncryptedStore, EncryptionKeyError, generate_key
    from socialkit.auth.login import OAuthLogin, login_settings, supports_oauth_login
    from socialkit.auth.loopback import LoopbackServer, loopback_login
    from socialkit.auth.oauth1 import OAuth1Auth
    from socialkit.auth.oauth2 import (
        AuthorizationRequest,
        OAuth2Auth,
        OAuth2Client,
        OAuth2Config,
        generate_code_verifier,
        generate_state,
    )
    from socialkit.auth.tokens import Token, TokenStore

__all__ = [
    "AuthFlowError",
    "AuthScheme",
    "AuthorizationRequest",
    "BearerAuth",
    "EncryptedStore",
    "EncryptionKeyError",
    "LoginTimeoutError",
    "LoopbackServer",
    "OAuth1Auth",
    "OAuth2Auth",
    "OAuth2Client",
    "OAuth2Config",
    "OAuthLogin",
    "RefreshError",
    "StateMismatchError",
    "Token",
    "TokenStore",
    "generate_code_verifier",
    "generate_key",
    "generate_state",
    "is_replayable",
    "login_settings",
    "loopback_login",
    "supports_oauth_login",
]

# Loaded on first use (PEP 562): BearerAuth alone does not import authlib, and nothing here
# is imported by ``import socialkit``.
_LAZY = {
    "AuthFlowError": "socialkit.auth._errors",
    "LoginTimeoutError": "socialkit.auth._errors",
    "RefreshError": "socialkit.auth._errors",
    "StateMismatchError": "socialkit.auth._errors",
    "AuthScheme": "socialkit.auth.bearer",
    "BearerAuth": "socialkit.auth.bearer",
    "is_replayable": "socialkit.auth.bearer",
    "EncryptedStore": "socialkit.auth.encrypted",
    "EncryptionKeyError": "socialkit.auth.encrypted",
    "generate_key": "socialkit.auth.encrypted",
    "OAuthLogin": "socialkit.auth.login",
    "login_settings": "socialkit.auth.login",
    "supports_oauth_login": "socialkit.auth.login",
    "LoopbackServer": "socialkit.auth.loopback",
    "loopback_login": "socialkit.auth.loopback",
    "OAuth1Auth": "socialkit.auth.oauth1",
    "AuthorizationRequest": "socialkit.auth.oauth2",
    "OAuth2Auth": "socialkit.auth.oauth2",
    "OAuth2Client": "socialkit.auth.oauth2",
    "OAuth2Config": "socialkit.auth.oauth2",
    "generate_code_verifier": "socialkit.auth.oauth2",
    "generate_state": "socialkit.auth.oauth2",
    "Token": "socialkit.auth.tokens",
    "TokenStore": "socialkit.auth.tokens",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'socialkit.auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
