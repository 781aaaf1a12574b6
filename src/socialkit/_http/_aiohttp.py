"""An httpx transport that sends through aiohttp (the default under asyncio when aiohttp is
installed: the ``aiohttp`` extra).

Written here rather than taken from ``httpx-aiohttp``, which socialkit used before, for three
reasons found in use:

* it maps every ``aiohttp.ClientConnectionError`` to ``httpx.ConnectTimeout``, including a
  connection dropped *after* the request was written, which reads as "never sent" and would let
  a create be sent twice (:func:`remap_aiohttp` maps by what happened);
* it hands aiohttp the URL as text, which aiohttp parses again and re-quotes: ``%3A`` and
  ``%2C`` reach the server decoded, which changes LinkedIn's URNs, and such requests had to go
  through httpx's own, slower transport. Here aiohttp gets the URL exactly as httpx encoded it
  (``yarl.URL(..., encoded=True)``);
* it streams every body through two async generators; :meth:`AiohttpBody.read_capped` reads a
  body whose length is declared in one call, within the pipeline's limit.

Behaviour otherwise follows httpx's transports: redirects are never followed, bodies are never
decompressed here (the pipeline inflates with a bound), the request's ``timeout`` extension
sets the connect, pool and read timeouts, and errors are ``httpx.TransportError``\\ s.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any, Final

import aiohttp
import httpx
import yarl

from socialkit._http._wire import headers_from_raw

__all__ = ["AiohttpBody", "AiohttpTransport", "remap_aiohttp"]

_CHUNK: Final = 64 * 1024
_URLS: Final = 256
_HTTP11: Final = b"HTTP/1.1"


#: aiohttp's failures and the httpx errors they are, the first that matches (subclasses before
#: their bases: ``ClientConnectorError`` and ``ServerDisconnectedError`` are
#: ``ClientConnectionError``\ s).
_ERRORS: Final[tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], type], ...]] = (
    ((aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError), httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    ((aiohttp.ServerTimeoutError, asyncio.TimeoutError), httpx.ReadTimeout),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
)


def remap_aiohttp(exc: BaseException) -> httpx.TransportError | None:
    """The httpx error for an aiohttp failure (``None``: not a transport failure).

    Only failures to connect are connect errors (the request never left); a connection
    dropped or reset after it was written is a read error, a read that timed out a read timeout
    (outcome unknown for a create).
    """
    for kinds, error in _ERRORS:
        if isinstance(exc, kinds):
            mapped: httpx.TransportError = error(str(exc) or type(exc).__name__)
            return mapped
    return None


class AiohttpBody(httpx.AsyncByteStream):
    """The body of an aiohttp response, as httpx reads it."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        while True:
            try:
                chunk = await content.read(_CHUNK)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise _mapped(exc) from exc
            if not chunk:
                return
            yield chunk

    def content_encoding(self) -> str | None:
        """The answer's ``Content-Encoding`` (its values joined, as httpx joins them)."""
        values = self._response.headers.getall("Content-Encoding", ())
        return ", ".join(values) if values else None

    def content_length(self) -> int | None:
        """The answer's ``Content-Length``, as aiohttp parsed it (``None`` when absent)."""
        return self._response.content_length

    async def read_capped(self, limit: int) -> tuple[bytes, bool] | None:
        """``(body, cut)`` when the answer declares its length, read in one call (at most
        ``limit`` bytes of it, ``cut`` when it is longer); ``None`` otherwise (stream it)."""
        response = self._response
        length = response.content_length
        if length is None:
            return None
        try:
            if length > limit:
                return await response.content.readexactly(limit), True
            return await response.read(), False
        except asyncio.IncompleteReadError as exc:
            # The connection closed before the declared length arrived.
            raise httpx.ReadError(f"the answer ended after {len(exc.partial)} bytes") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _mapped(exc) from exc

    async def aclose(self) -> None:
        self._response.release()


def _mapped(exc: BaseException) -> BaseException:
    mapped = remap_aiohttp(exc)
    return exc if mapped is None else mapped


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one ``aiohttp.ClientSession`` (opened on first use, in the
    running event loop). HTTP/1.1 only."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        self._ssl = (
            verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify)
        )
        self._limits = limits if limits is not None else httpx.Limits(max_connections=100)
        self._session: aiohttp.ClientSession | None = None
        #: Parsed URLs by their text (a publish sends to the same URL every time).
        self._urls: dict[str, yarl.URL] = {}
        self._by_identity: dict[int, tuple[httpx.URL, yarl.URL]] = {}
        self._timeouts: dict[tuple[Any, Any, Any], aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
            ssl=self._ssl,
        )
        self._session = aiohttp.ClientSession(
            connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
        )
        return self._session

    def _url(self, url: httpx.URL) -> yarl.URL:
        # As httpx encoded it: aiohttp would otherwise decode escapes such as %3A.
        known = self._by_identity.get(id(url))
        if known is not None and known[0] is url:  # the direct lane reuses its parsed URLs
            return known[1]
        text = str(url)
        parsed = self._urls.get(text)
        if parsed is None:
            if len(self._urls) >= _URLS:
                self._urls.clear()
            parsed = self._urls[text] = yarl.URL(text, encoded=True)
        if len(self._by_identity) >= _URLS:
            self._by_identity.clear()
        self._by_identity[id(url)] = (url, parsed)  # holding url: its id is not reused
        return parsed

    def _timeout(self, seconds: dict[str, float | None]) -> aiohttp.ClientTimeout:
        key = (seconds.get("connect"), seconds.get("read"), seconds.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session
        if session is None or session.closed:
            session = self._open()
        headers = request.headers
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            data = request.stream  # an async iterable of bytes; aiohttp chunks it
            if "transfer-encoding" in headers:
                headers = headers.copy()
                del headers["transfer-encoding"]  # aiohttp sets it
        try:
            # As written (names in their own case); aiohttp encodes them as UTF-8 again.
            pairs = [(name.decode(), value.decode()) for name, value in headers.raw]
        except UnicodeDecodeError:
            pairs = headers.multi_items()
        extensions = request.extensions
        try:
            response = await session.request(
                request.method,
                self._url(request.url),
                headers=pairs,
                data=data,
                allow_redirects=False,
                compress=False,
                timeout=self._timeout(extensions.get("timeout") or {}),
                server_hostname=extensions.get("sni_hostname"),
            )
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            mapped = remap_aiohttp(exc)
            if mapped is None:
                raise
            mapped.request = request
            raise mapped from exc
        reason = response.reason
        return httpx.Response(
            status_code=response.status,
            headers=headers_from_raw(response.raw_headers),
            stream=AiohttpBody(response),
            request=request,
            extensions=(
                {"http_version": _HTTP11, "reason_phrase": reason.encode()}
                if reason
                else {"http_version": _HTTP11}
            ),
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
