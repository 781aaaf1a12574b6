"""Log in from the command line: the loopback redirect of RFC 8252 (OAuth for native apps).

:func:`loopback_login` starts a one-shot HTTP server on ``127.0.0.1`` (a random free port),
builds the redirect URI from it, opens the authorization URL in the browser (or prints it),
waits for the network to redirect the browser back with ``?code=…&state=…``, checks ``state``,
exchanges the code (PKCE) and stores the token::

    token = await loopback_login(client, store=TokenStore(), account="me")

:class:`LoopbackServer` is the server alone, for flows that exchange the code themselves.

The server is written on ``asyncio.start_server`` with h11 (the HTTP/1.1 parser httpx itself
uses) rather than ``http.server``, which is blocking and thread-based: it has to answer one
GET while the event loop keeps running, and shut down cleanly on time-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

import h11

from socialkit._errors import ConfigurationError
from socialkit.auth._errors import AuthFlowError, LoginTimeoutError, StateMismatchError
from socialkit.auth.oauth2 import OAuth2Client, _same
from socialkit.auth.tokens import Token, TokenStore

__all__ = ["LoopbackServer", "loopback_login"]

logger = logging.getLogger("socialkit.auth")

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; margin: 3em"><h1>{title}</h1><p>{text}</p></body></html>
"""
_MAX_HEAD = 64 * 1024
_READ_TIMEOUT = 10.0


def _page(title: str, text: str) -> bytes:
    # Fixed texts only: nothing from the request is echoed back (no reflected content).
    return _PAGE.format(title=title, text=text).encode()


class LoopbackServer:
    """A one-shot HTTP server on 127.0.0.1 that captures the authorization redirect.

    Use it as an async context manager; ``redirect_uri`` is known once it is entered. Set
    ``expected_state`` before the browser is sent to the authorization URL, then await
    :meth:`wait`. Requests for other paths (``/favicon.ico``) get a 404 and are ignored.
    """

    def __init__(
        self,
        *,
        network: str = "oauth2",
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
    ) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ConfigurationError("The loopback server listens on a loopback address only")
        if not path.startswith("/"):
            raise ConfigurationError("The loopback redirect path must start with '/'")
        self.network = network
        self.host = host
        self.path = path
        self._requested_port = port
        self.port: int | None = None
        self.expected_state: str | None = None
        self._server: asyncio.AbstractServer | None = None
        self._result: asyncio.Future[dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"LoopbackServer(redirect_uri={self.redirect_uri if self.port else None!r})"

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/callback`` (available once started)."""
        if self.port is None:
            raise ConfigurationError("The loopback server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def start(self) -> None:
        self._result = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, self.host, self._requested_port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._result is not None and not self._result.done():
            self._result.cancel()

    async def __aenter__(self) -> LoopbackServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait(self, timeout: float = 300.0) -> dict[str, str]:
        """The redirect's query parameters, once a redirect with the right ``state`` arrived.

        Raises :class:`StateMismatchError` (wrong or missing ``state``), :class:`AuthFlowError`
        (the server sent ``error=…``, e.g. the user refused) or :class:`LoginTimeoutError`.
        """
        if self._result is None:
            raise ConfigurationError("The loopback server is not started")
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), timeout)
        except asyncio.TimeoutError:
            raise LoginTimeoutError(
                self.network,
                code="login_timeout",
                message=(
                    f"no authorization redirect arrived within {timeout:g} s; "
                    "the login was abandoned"
                ),
            ) from None

    def _outcome(self, params: dict[str, str]) -> tuple[int, bytes]:
        assert self._result is not None
        if self._result.done():
            return 409, _page("Already done", "This login is already complete; close this tab.")
        expected = self.expected_state
        state = params.get("state")
        if expected is None or state is None or not _same(state, expected):
            self._result.set_exception(
                StateMismatchError(
                    self.network,
                    code="state_mismatch",
                    message=(
                        "the state returned to the loopback redirect does not match the one "
                        "sent; the login was stopped (a forged redirect or another login attempt)"
                    ),
                )
            )
            return 400, _page("Login failed", "The response does not belong to this login.")
        if "error" in params:
            error = params["error"]
            self._result.set_exception(
                AuthFlowError(
                    self.network,
                    code=error,
                    message=f"the authorization was not granted ({error})",
                )
            )
            return 200, _page("Login cancelled", "The authorization was not granted.")
        if not params.get("code"):
            self._result.set_exception(
                AuthFlowError(
                    self.network,
                    code="missing_code",
                    message="the loopback redirect carries no authorization code",
                )
            )
            return 400, _page("Login failed", "The response carries no authorization code.")
        self._result.set_result(params)
        return 200, _page("Logged in", "You are logged in. You can close this window.")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD)
        try:
            request = await asyncio.wait_for(self._read_request(conn, reader), _READ_TIMEOUT)
            if request is None:
                return
            target = request.target.decode("ascii", "replace")
            parts = urlsplit(target)
            if parts.path != self.path:
                status, body = 404, _page("Not found", "Nothing here.")
            elif request.method != b"GET":
                status, body = 405, _page("Method not allowed", "Use GET.")
            else:
                status, body = self._outcome(dict(parse_qsl(parts.query, keep_blank_values=True)))
            await self._respond(conn, writer, status, body)
        except (h11.RemoteProtocolError, asyncio.TimeoutError):
            with contextlib.suppress(Exception):
                await self._respond(conn, writer, 400, _page("Bad request", "Bad request."))
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _read_request(
        conn: h11.Connection, reader: asyncio.StreamReader
    ) -> h11.Request | None:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Request):
                return event
            if event is h11.NEED_DATA:
                data = await reader.read(8192)
                conn.receive_data(data)
                if not data:
                    # EOF: h11 reports ConnectionClosed on the next call.
                    continue
            elif isinstance(event, h11.ConnectionClosed):
                return None

    @staticmethod
    async def _respond(
        conn: h11.Connection, writer: asyncio.StreamWriter, status: int, body: bytes
    ) -> None:
        headers = [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("Connection", "close"),
        ]
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)) or b"")
        writer.write(conn.send(h11.Data(data=body)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()


def _print_to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def loopback_login(
    client: OAuth2Client,
    *,
    store: TokenStore | None = None,
    account: str = "default",
    open_browser: bool = True,
    opener: Callable[[str], object] | None = None,
    echo: Callable[[str], None] = _print_to_stderr,
    timeout: float = 300.0,
    port: int = 0,
    path: str = "/callback",
    scopes: tuple[str, ...] | list[str] | None = None,
    **params: str,
) -> Token:
    """Run the whole command-line login and return the token (stored when ``store`` is given).

    The authorization URL is always shown through ``echo`` (stderr by default), and opened
    with ``opener`` (default: :func:`webbrowser.open`) unless ``open_browser`` is false.
    ``params`` are added to the authorization URL (``prompt="consent"``, …).
    """
    async with LoopbackServer(network=client.network, port=port, path=path) as server:
        request = client.begin(redirect_uri=server.redirect_uri, scopes=scopes, **params)
        server.expected_state = request.state
        echo(f"Open this URL in a browser to log in to {client.network}:\n{request.url}")
        if open_browser:
            try:
                if opener is None:
                    import webbrowser  # only when a browser is really opened

                    opener = webbrowser.open
                opener(request.url)
            except Exception as exc:  # a missing browser is not fatal: the URL is printed
                logger.warning("could not open a browser: %s", type(exc).__name__)
        redirect = await server.wait(timeout)
    token = await client.complete(request, redirect)
    if store is not None:
        await store.put(client.network, account, token)
    return token
