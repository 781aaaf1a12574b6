"""Errors of the authentication steps that happen on this side of the wire.

They derive from :class:`socialkit.AuthError`, so ``except AuthError`` catches them, but their
sentence does not claim that the network "answered": a wrong ``state``, a login that timed out
or an unreadable stored token are found locally. Like every socialkit error they carry no secret:
messages name the network, the account and the OAuth error code, never a token or a code.
"""

from __future__ import annotations

from socialkit._errors import AuthError, TokenExpiredError

__all__ = [
    "AuthFlowError",
    "LoginTimeoutError",
    "RefreshError",
    "StateMismatchError",
]


class AuthFlowError(AuthError):
    """An authentication step failed: the login was refused, cancelled or could not complete."""

    default_status = None  # type: ignore[assignment]  # found locally: no HTTP status

    def _sentence(self) -> str:
        text = f"{self.network}: {(self.message or 'authentication failed').rstrip('.')}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text + "."


class StateMismatchError(AuthFlowError):
    """The ``state`` that came back with the authorization code is not the one sent.

    Raised before the code is exchanged: the redirect may be forged (CSRF) or belong to another
    login attempt.
    """


class LoginTimeoutError(AuthFlowError):
    """No authorization redirect arrived in time."""


class RefreshError(TokenExpiredError):
    """The token endpoint refused the refresh token (``invalid_grant``: reused, revoked or expired).

    The stored token is left untouched; the user has to log in again.
    """

    def _sentence(self) -> str:
        text = f"{self.network}: {(self.message or 'the refresh token was refused').rstrip('.')}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text + "."


# Tracebacks name the public paths: socialkit.AuthFlowError, socialkit.auth.RefreshError ...
AuthFlowError.__module__ = "socialkit"
for _name in __all__:
    if _name != "AuthFlowError":
        globals()[_name].__module__ = "socialkit.auth"
del _name
