"""Static bearer tokens, and the base class for custom authentication schemes.

Every scheme is an :class:`httpx.Auth`, so the pipeline (``Session(auth=...)``) and a plain
``httpx.AsyncClient(auth=...)`` both accept it.

:class:`AuthScheme` is the hook for schemes that need more than a header: it calls
:meth:`AuthScheme.authorize` before each request and, when the network answers 401,
:meth:`AuthScheme.on_unauthorized` once, then re-sends the request if that returned ``True``
(a renewed session, a refreshed token). Bluesky sessions (``createSession`` /
``refreshSession``) and DPoP subclass it; :class:`~socialkit.auth.oauth2.OAuth2Auth` does too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import httpx
from pydantic import SecretStr

from socialkit._errors import ConfigurationError
from socialkit._http._wire import read_auth_refusal

__all__ = ["AuthScheme", "BearerAuth", "is_replayable"]


def is_replayable(request: httpx.Request) -> bool:
    """Whether the request's body can be sent a second time.

    Bodies given as bytes, text, JSON or a form are held in memory (``httpx.ByteStream``) and
    can; a streamed upload (an async iterator) cannot, so a scheme does not re-send it.
    """
    return isinstance(request.stream, httpx.ByteStream)


class AuthScheme(httpx.Auth):
    """Base of async authentication schemes with one retry after a 401.

    Subclasses implement :meth:`authorize` (set headers on the request; may await, for example
    to read or refresh a session) and may override :meth:`on_unauthorized`.
    """

    #: Name used in error messages (the network's registry name).
    network: str = "auth"

    async def authorize(self, request: httpx.Request) -> None:
        """Add credentials to ``request`` (headers, query parameters) before it is sent."""
        raise ConfigurationError(f"{type(self).__name__} does not define authorize()")

    async def on_unauthorized(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Called once when the network answers 401; return ``True`` to re-send the request.

        The default returns ``False``: the 401 goes back to the caller (the pipeline turns it
        into :class:`socialkit.AuthError`).
        """
        return False

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise ConfigurationError(
            f"{type(self).__name__} needs an httpx.AsyncClient: socialkit is async-only"
        )

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await self.authorize(request)
        # Decided before sending: a transport may buffer a streamed body while sending it.
        replayable = is_replayable(request)
        response = yield request
        if response.status_code == 401:
            # Overriding async_auth_flow bypasses httpx's requires_response_body, so a real
            # transport hands the response over unread; on_unauthorized may need the body.
            await read_auth_refusal(response)
        if response.status_code == 401 and replayable:
            if await self.on_unauthorized(request, response):
                await self.authorize(request)
                yield request
        elif response.status_code == 401:
            # The body cannot be sent again; still let the scheme renew its credentials so that
            # the next request succeeds, and hand this 401 back.
            await self.on_unauthorized(request, response)


class BearerAuth(httpx.Auth):
    """A fixed bearer token (an app-only token, a bot token, a long-lived access token).

    Works with both sync and async clients. The token is a :class:`~pydantic.SecretStr`; the
    repr shows only the scheme.
    """

    def __init__(
        self,
        token: str | SecretStr,
        *,
        header: str = "Authorization",
        scheme: str = "Bearer",
    ) -> None:
        secret = token if isinstance(token, SecretStr) else SecretStr(token)
        if not secret.get_secret_value():
            raise ConfigurationError("BearerAuth needs a non-empty token")
        self.token = secret
        from socialkit._http._redact import register_secret

        register_secret(secret)
        self.header = header
        self.scheme = scheme

    def __repr__(self) -> str:
        return f"BearerAuth(header={self.header!r}, scheme={self.scheme!r}, token='**********')"

    @property
    def direct_header(self) -> tuple[str, str] | None:
        """The header :meth:`auth_flow` sets, as ``(name, value)``: the pipeline's direct lane
        sets it with the request's other headers instead of running the flow (about 5 % of
        a publish's CPU). ``None`` when a subclass changes the flow, which then runs."""
        kind = type(self)
        if (
            kind.auth_flow is not BearerAuth.auth_flow
            or kind.async_auth_flow is not httpx.Auth.async_auth_flow
        ):
            return None
        value = self.token.get_secret_value()
        return self.header, f"{self.scheme} {value}" if self.scheme else value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        value = self.token.get_secret_value()
        request.headers[self.header] = f"{self.scheme} {value}" if self.scheme else value
        yield request
