"""The streamable HTTP transport behind a bearer token.

The SDK's own HTTP authentication is an OAuth 2.1 resource server (token verifier, issuer and
protected-resource metadata); a server that one organisation runs for its own assistant needs
one shared token, so this module checks it itself: ``Authorization: Bearer <token>``, compared
in constant time (:func:`hmac.compare_digest`), else ``401`` before the request reaches the
MCP application. The token is never logged, and the ``401`` does not say what was sent.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING

from socialkit.mcp._settings import HttpSettings

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from socialkit.mcp._server import SocialkitMCP

__all__ = ["bearer_app", "http_app", "serve_http"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def bearer_app(app: ASGIApp, token: str) -> ASGIApp:
    """``app`` behind ``Authorization: Bearer <token>`` (HTTP and websocket scopes)."""
    if not token:
        raise ValueError("an empty bearer token protects nothing")
    expected = token.encode("utf-8")

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await app(scope, receive, send)  # lifespan: starts the session manager
            return
        values = [v for k, v in scope.get("headers", []) if k.lower() == b"authorization"]
        scheme, _, given = (values[0] if len(values) == 1 else b"").partition(b" ")
        # compare_digest runs in time independent of where the values differ.
        if scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), expected):
            await app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps(
            {
                "error": "unauthorized",
                "message": "send the server's token as 'Authorization: Bearer <token>'",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="socialkit"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return guarded


def http_app(server: SocialkitMCP, settings: HttpSettings, token: str) -> ASGIApp:
    """The server's streamable HTTP application at ``settings.path``, behind the token.

    Host headers are checked (DNS rebinding): the loopback names always, plus
    ``settings.allowed_hosts`` (needed when listening on another address).
    """
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *settings.allowed_hosts]
    origins = [f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts]
    app = server.streamable_http_app(
        streamable_http_path=settings.path,
        host=settings.host,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=hosts,
            allowed_origins=origins,
        ),
    )
    return bearer_app(app, token)


async def serve_http(
    server: SocialkitMCP, settings: HttpSettings, token: str, *, port: int | None = None
) -> None:
    """Serve until interrupted (uvicorn; its access log never shows headers)."""
    import uvicorn

    config = uvicorn.Config(
        http_app(server, settings, token),
        host=settings.host,
        port=settings.port if port is None else port,
        log_level="warning",
        lifespan="on",
    )
    await uvicorn.Server(config).serve()
