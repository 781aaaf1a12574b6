"""The direct lane: a prepared request handed straight to the client's transport.

``httpx.AsyncClient.send`` runs the auth flow, the redirect loop, the event hooks, the cookie
jar and the mounts (proxies) for every request: much of the CPU of a publish. A client
built by :func:`~socialkit._http.make_client` that has none of them set needs none of that, so
for such a client the session builds the request itself (the client's headers, the timeout
extension computed once), runs the call's auth flow itself (as ``_send_handling_auth`` does:
a bearer token, OAuth 1.0a signing, an OAuth 2.0 refresh after a 401) and hands each request to
the client's transport the way ``AsyncClient._send_single_request`` does: same request, same
response (bound to its request, ``elapsed`` set when closed), same ``httpx`` log line, same
errors. A redirect answer is returned as it is, as make_client's clients never follow them
(``next_request`` is left unset).

Any other client (one the user built, or one given mounts, hooks, auth, params or redirects
since) goes through ``AsyncClient.send`` unchanged: the client lane. The tests of the pipeline,
the fault injection and the X adapter run through both lanes (:data:`MODE`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from json import dumps as _dumps
from typing import Any, Final, Literal
from urllib.parse import urlencode

import httpx

from socialkit._http._client import made_here
from socialkit._http._wire import headers_from_raw

__all__ = ["MODE", "DirectLane"]

#: ``"auto"``: the direct lane for :func:`make_client` clients; ``"never"``: every request
#: through ``AsyncClient.send``; ``"always"`` (tests): the direct lane for any client with no
#: cookies, so that suites written with their own ``httpx.AsyncClient`` run through it too.
MODE: Literal["auto", "never", "always"] = "auto"

_LOG: Final = logging.getLogger("httpx")
_URLS: Final = 256
_PAIRS: Final = 1024
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

# httpx's client state (private, stable since 0.18); without it, the client lane only.
_OPENED: Any = getattr(getattr(httpx._client, "ClientState", None), "OPENED", None)


class _BoundStream(httpx.AsyncByteStream):
    """httpx's ``BoundAsyncStream`` (the response's body, which sets ``response.elapsed`` when
    closed), except that it lets go of the response once closed.

    httpx's keeps it for good: the response holds its stream and the stream its response, so
    every request's response, request, headers and body stay in memory until the garbage
    collector's next pass over that cycle (about 30 objects a request, and on a page of posts
    the pass that reaches them is a full one). Let go, they are freed when the caller drops the
    response. ``_stream`` is the transport's stream, as in httpx's (see ``_wire._body_stream``).
    """

    __slots__ = ("_response", "_start", "_stream")

    def __init__(
        self, stream: httpx.AsyncByteStream, response: httpx.Response, start: float
    ) -> None:
        self._stream = stream
        self._response: httpx.Response | None = response
        self._start = start

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.elapsed = timedelta(seconds=time.perf_counter() - self._start)
        await self._stream.aclose()


class DirectLane:
    """The direct lane of one :func:`make_client` client."""

    __slots__ = ("_client", "_headers", "_pairs", "_seconds", "_timeout", "_urls")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._timeout: object = None
        self._seconds: dict[str, float | None] = {}
        #: Parsed URLs by their text (a publish sends to the same URL every time; parsing one
        #: costs a third of building the request). Bounded: emptied when full.
        self._urls: dict[str, httpx.URL] = {}
        self._headers: tuple[list[tuple[bytes, bytes]], frozenset[bytes]] | None = None
        #: Query parameters encoded, by name and value (X's field lists repeat on every call).
        self._pairs: dict[tuple[str, str], str] = {}

    @staticmethod
    def of(client: httpx.AsyncClient) -> DirectLane | None:
        """The lane of ``client``, or ``None`` when it is not one :func:`make_client` built."""
        if MODE == "never" or _OPENED is None:
            return None
        if not (made_here(client) or (MODE == "always" and not client.cookies)):
            return None
        return DirectLane(client)

    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The client's transport while nothing needs the client layer, else ``None``."""
        client = self._client
        hooks = client._event_hooks
        if (
            MODE == "never"
            or client._mounts
            or hooks["request"]
            or hooks["response"]
            or client._auth is not None
            or client.follow_redirects
            or client._params
            or client.is_closed
        ):
            return None
        client._state = _OPENED  # as send() does: the client may not be entered again
        transport: httpx.AsyncBaseTransport = client._transport
        return transport

    def build(
        self,
        method: str,
        url: str,
        timeout: Any,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        content: Any = None,
        headers: Any = None,
        auth_header: tuple[str, str] | None = None,
    ) -> httpx.Request:
        """The request ``client.build_request`` would build: the same URL, headers (in the
        same order) and body. A JSON, bytes or empty body and plain query parameters are
        encoded here (as httpx encodes them, from parts kept between calls: X's field lists
        cost more to quote than the rest of a request); any other body (a form, files, a
        stream) or query goes through ``httpx.Request``.

        ``auth_header``: a static scheme's header (``BearerAuth.direct_header``), set as its
        auth flow sets it (``request.headers[name] = value``), so the flow need not run."""
        client = self._client
        source = client.timeout if timeout is httpx.USE_CLIENT_DEFAULT else timeout
        if source is not self._timeout:
            self._seconds = httpx.Timeout(source).as_dict()
            self._timeout = source
        extensions = {"timeout": self._seconds}
        target = self._url(url, params)
        streamed = content is not None and not isinstance(content, bytes | str)
        if target is None or data is not None or files is not None or streamed:
            merged = httpx.Headers(client.headers)
            if headers:
                merged.update(headers)
            built = httpx.Request(
                method,
                target if target is not None else (self._url(url, None) or url),
                params=None if target is not None else params,
                json=json,
                data=data,
                files=files,
                content=content,
                headers=merged,
                extensions=extensions,
            )
            if auth_header is not None:
                built.headers[auth_header[0]] = auth_header[1]
            return built
        if json is not None:
            body = _dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            defaults: tuple[tuple[bytes, bytes], ...] = (
                (b"Content-Length", str(len(body)).encode()),
                (b"Content-Type", b"application/json"),
            )
        elif content is None:
            body, defaults = b"", ()
        else:
            body = content.encode() if isinstance(content, str) else content
            defaults = ((b"Content-Length", str(len(body)).encode()),) if body else ()
        # The header list httpx would make, from the client's headers kept as bytes: the
        # call's headers replace those of the same name (Headers.update), the body's defaults
        # are added when absent (setdefault), Host and an empty POST's length go first.
        raw, names = self._client_headers()
        if headers:
            extra = httpx.Headers(headers).raw
            replaced = {name.lower() for name, _ in extra}
            raw = [pair for pair in raw if pair[0].lower() not in replaced] + extra
            names = names | replaced
        else:
            raw = list(raw)
        for name, value in defaults:
            if name.lower() not in names:
                raw.append((name, value))
                names = names | {name.lower()}
        method = method.upper()
        auto: list[tuple[bytes, bytes]] = []
        if b"host" not in names and target.host:
            auto.append((b"Host", target.netloc))
        if (
            method in _BODY_METHODS
            and b"content-length" not in names
            and b"transfer-encoding" not in names
        ):
            auto.append((b"Content-Length", b"0"))
        if auth_header is not None:
            # As Headers.__setitem__: the first entry of that name takes the value (and the
            # name's case), any others go; a new name goes last.
            name, value = auth_header[0].encode(), auth_header[1].encode()
            lowered = name.lower()
            if lowered in names:
                at = next(i for i, pair in enumerate(raw) if pair[0].lower() == lowered)
                raw = [
                    (name, value) if i == at else pair
                    for i, pair in enumerate(raw)
                    if i == at or pair[0].lower() != lowered
                ]
            else:
                raw.append((name, value))
        request = httpx.Request(
            method,
            target,
            headers=headers_from_raw(auto + raw if auto else raw),
            stream=httpx.ByteStream(body),
            extensions=extensions,
        )
        request._content = body  # as Request.read() leaves it
        return request

    def _client_headers(self) -> tuple[list[tuple[bytes, bytes]], frozenset[bytes]]:
        """The client's headers as raw pairs and their lower-case names, kept until the
        client's headers change."""
        raw = self._client.headers.raw
        kept = self._headers
        if kept is None or kept[0] != raw:
            kept = self._headers = (raw, frozenset(name.lower() for name, _ in raw))
        return kept

    def _url(self, url: str, params: Any) -> httpx.URL | None:
        """``httpx.URL(url, params=params)``, from parsed URLs and encoded parameters kept by
        their text; ``None`` for parameters encoded only by httpx (anything but a mapping of
        text and numbers) or a URL that has a query of its own."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        if not params:
            return parsed
        if not isinstance(params, dict) or parsed.query:
            return None
        query: list[str] = []
        for name, value in params.items():
            if type(value) is int:
                value = str(value)
            elif type(value) is not str or type(name) is not str:
                return None
            pair = self._pairs.get((name, value))
            if pair is None:
                if len(self._pairs) >= _PAIRS:
                    self._pairs.clear()
                # What httpx's QueryParams does: urllib's urlencode of each pair.
                pair = self._pairs[(name, value)] = urlencode(((name, value),))
            query.append(pair)
        text = f"{url}?{'&'.join(query)}"
        found = self._urls.get(text)
        if found is None:
            if len(self._urls) >= _URLS:
                self._urls.clear()
            found = self._urls[text] = httpx.URL(text)
        return found

    @staticmethod
    async def send(
        transport: httpx.AsyncBaseTransport, request: httpx.Request, auth: httpx.Auth | None
    ) -> httpx.Response:
        """``AsyncClient._send_handling_auth`` without the client (and without redirects)."""
        if auth is None:
            return await _send_one(transport, request)
        if auth.requires_request_body:
            await request.aread()
        flow = auth.async_auth_flow(request)
        history: list[httpx.Response] = []
        try:
            request = await flow.__anext__()
            while True:
                response = await _send_one(transport, request)
                response.history = list(history)
                try:
                    try:
                        following = await flow.asend(response)
                    except StopAsyncIteration:
                        return response
                    await response.aread()
                    request = following
                    history.append(response)
                except BaseException:
                    await response.aclose()
                    raise
        finally:
            await flow.aclose()


async def _send_one(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    """``AsyncClient._send_single_request`` without the client."""
    start = time.perf_counter()
    try:
        response = await transport.handle_async_request(request)
    except httpx.RequestError as exc:
        exc.request = request
        raise
    response.request = request
    response.stream = _BoundStream(response.stream, response, start)  # type: ignore[arg-type]
    if _LOG.isEnabledFor(logging.INFO):
        _LOG.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    return response
