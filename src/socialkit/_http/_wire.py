"""What the session reads off the wire: bounded inflation of bodies, and what a failed
connection says about its cause."""

from __future__ import annotations

import errno
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Sequence
from typing import Final

import httpx

from socialkit._http._redact import redact_text

__all__ = [
    "AUTH_ERROR_BODY_LIMIT",
    "FAST_HEADERS",
    "Inflater",
    "content_codings",
    "declared_length",
    "describe_transport_error",
    "error_type",
    "headers_from_raw",
    "lowered_pairs",
    "read_already",
    "read_auth_refusal",
    "read_capped",
]


class Inflater:
    """gzip / deflate inflation with a bound on each step's output (``max_length``).

    Written here rather than taken from httpx, whose decoders inflate a whole network chunk in
    one call: the bound is what keeps a compressed bomb from filling memory before the size
    check sees it. Like httpx, "deflate" accepts both zlib-wrapped and raw streams.
    """

    __slots__ = ("_inflate", "_probe")

    def __init__(self, coding: str) -> None:
        self._probe = coding == "deflate"
        wbits = zlib.MAX_WBITS if self._probe else zlib.MAX_WBITS | 16
        self._inflate = zlib.decompressobj(wbits)

    def feed(self, data: bytes, room: int) -> bytes:
        """Inflate ``data``, at most ``room`` bytes; what is left waits in :attr:`tail`."""
        try:
            out = self._inflate.decompress(data, room)
        except zlib.error:
            if not self._probe:
                raise
            self._probe = False  # a raw deflate stream, without the zlib header
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._inflate.decompress(data, room)
        self._probe = False
        return out

    @property
    def tail(self) -> bytes:
        return self._inflate.unconsumed_tail

    def flush(self) -> bytes:
        return self._inflate.flush()


def error_type(error: BaseException) -> str:
    """OpenTelemetry's ``error.type``: the exception's public class path."""
    cls = type(error)
    module = cls.__module__
    if module.startswith("socialkit."):
        module = "socialkit"
    return f"{module}.{cls.__qualname__}"


_DNS_TEXT: Final = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
    "name resolution",
    "could not resolve",
)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what caused it (``__cause__``, ``__context__``, aiohttp's
    ``os_error`` and ``certificate_error``), nearest first."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 12:
        current = todo.pop(0)
        if any(current is known for known in seen):
            continue
        seen.append(current)
        for attr in ("__cause__", "__context__", "os_error", "certificate_error"):
            nested = getattr(current, attr, None)
            if isinstance(nested, BaseException):
                todo.append(nested)
    return seen


def _detail(error: BaseException) -> str:
    text = redact_text(str(error).strip())
    if len(text) > 200:
        text = text[:197] + "..."
    return f": {text}" if text else ""


def describe_transport_error(exc: httpx.TransportError, url: httpx.URL) -> str:
    """What went wrong, in words: DNS, a refused connection, TLS, a reset, which timeout.

    Read from the exception chain (the operating system's and the TLS library's errors under
    httpx's and aiohttp's), with the low-level message redacted.
    """
    host = url.host or "the server"
    port = url.port or (443 if url.scheme == "https" else 80)
    where = f"{host}:{port}"
    chain = _chain(exc)
    for error in chain:
        name = type(error).__name__
        if isinstance(error, socket.gaierror) or name == "ClientConnectorDNSError":
            return f"DNS lookup of {host} failed{_detail(error)}"
        if isinstance(error, ssl.SSLCertVerificationError) or name == (
            "ClientConnectorCertificateError"
        ):
            reason = getattr(error, "verify_message", None) or str(error)
            return f"TLS: the certificate of {where} was not accepted ({redact_text(reason)})"
        if isinstance(error, ssl.SSLError) or name in ("ClientSSLError", "ClientConnectorSSLError"):
            return f"TLS handshake with {where} failed{_detail(error)}"
        if isinstance(error, ConnectionRefusedError):
            return f"connection to {where} refused"
        if isinstance(error, ConnectionResetError):
            return f"connection to {where} reset by the peer"
        if isinstance(error, OSError) and error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return f"{where} is unreachable{_detail(error)}"
    text = " ".join(str(error) for error in chain).lower()
    if any(marker in text for marker in _DNS_TEXT):
        return f"DNS lookup of {host} failed"
    if "certificate verify failed" in text:
        return f"TLS: the certificate of {where} was not accepted"
    if "ssl" in text or "tls" in text:
        return f"TLS handshake with {where} failed"
    if "connection refused" in text or "connect call failed" in text:
        return f"connection to {where} refused"
    if "reset by peer" in text:
        return f"connection to {where} reset by the peer"
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting to {where} timed out"
    if isinstance(exc, httpx.ReadTimeout):
        return f"{where} sent no answer within the read timeout"
    if isinstance(exc, httpx.WriteTimeout):
        return f"sending the request to {where} timed out"
    if isinstance(exc, httpx.PoolTimeout):
        return "no connection of the pool became free within the timeout"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"{where} closed the connection without a complete answer"
    if isinstance(exc, httpx.ReadError):
        return f"reading the answer from {where} failed"
    if isinstance(exc, httpx.WriteError):
        return f"sending the request to {where} failed"
    if isinstance(exc, httpx.ProxyError):
        return "the proxy failed"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"the URL scheme {url.scheme!r} is not supported"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect to {where}"
    return f"the connection to {where} failed"


def _headers_list_works() -> bool:
    """Whether ``httpx.Headers`` keeps its entries as ``(name, lower-case name, value)`` in
    ``_list``, as every release since 0.18 does (checked once, so that a release that
    changes it only loses the fast path below)."""
    try:
        made = httpx.Headers.__new__(httpx.Headers)
        made._list = [(b"X-Probe", b"x-probe", b"1")]
        made._encoding = None
        reference = httpx.Headers([(b"X-Probe", b"1")])
        return bool(
            reference._list == made._list
            and made.raw == [(b"X-Probe", b"1")]
            and made["x-probe"] == "1"
            and httpx.Headers(made)._list == made._list
        )
    except Exception:  # any failure: the public path
        return False


FAST_HEADERS: Final = _headers_list_works()


def headers_from_raw(raw: Sequence[tuple[bytes, bytes]]) -> httpx.Headers:
    """``httpx.Headers(raw)`` for pairs that are bytes already (a transport's answer).

    httpx normalises each name and value through two calls and two type checks, which for
    pairs of bytes change nothing; here each entry is made in one step."""
    if not FAST_HEADERS:
        return httpx.Headers(list(raw))
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = [(name, name.lower(), value) for name, value in raw]
    headers._encoding = None
    return headers


def lowered_pairs(headers: httpx.Headers) -> list[tuple[bytes, bytes, bytes]]:
    """``headers``' entries as ``(name, lower-case name, value)``, as httpx keeps them."""
    if FAST_HEADERS:
        entries: list[tuple[bytes, bytes, bytes]] = headers._list
        return entries
    return [(name, name.lower(), value) for name, value in headers.raw]


#: Content codings inflated here with a bound (others are left to httpx's decoders).
ZLIB_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})

#: The most of an error answer's body an auth flow reads (its message is all it needs).
AUTH_ERROR_BODY_LIMIT = 1024 * 1024


def _body_stream(response: httpx.Response) -> object:
    """The transport's body stream (inside the client's wrapper): the aiohttp transport's
    ``AiohttpBody`` offers ``content_encoding()`` and ``read_capped()``."""
    stream = response.stream
    return getattr(stream, "_stream", stream)


def read_already(response: httpx.Response) -> bytes | None:
    """``response.content`` when the body is read, else ``None`` (httpx's property raises
    ``ResponseNotRead`` instead, and an exception per request costs more than the check)."""
    content: bytes | None = vars(response).get("_content")
    return content


def declared_length(response: httpx.Response) -> int:
    """The ``Content-Length`` the answer declares, or -1."""
    # The aiohttp transport reads it from aiohttp's own (parsed) headers.
    declared = getattr(_body_stream(response), "content_length", None)
    if declared is not None:
        length: int | None = declared()
        return -1 if length is None else length
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else -1


def content_codings(response: httpx.Response) -> list[str]:
    """The response's content codings, lower case, ``identity`` left out."""
    # The aiohttp transport reads the header from aiohttp's own (indexed) headers.
    declared = getattr(_body_stream(response), "content_encoding", None)
    value = declared() if declared is not None else response.headers.get("content-encoding")
    if not value:
        return []
    return [
        part.strip().lower()
        for part in value.split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]


async def read_capped(
    response: httpx.Response, limit: int, codings: list[str] | None = None
) -> bool:
    """Read ``response``'s body, decoded, into ``response.content``, at most ``limit`` bytes.

    gzip and deflate are inflated with :class:`Inflater`'s bound, so no chunk inflates past the
    limit either. Returns True when the body was longer and cut. Raises ``zlib.error`` or
    ``httpx.DecodingError`` for a body that is not what its ``Content-Encoding`` says. A body
    already read (``response.content``) is cut in place.
    """
    read = read_already(response)
    if read is not None:
        if len(read) > limit:
            response._content = read[:limit]
            return True
        return False
    codings = content_codings(response) if codings is None else codings
    if not codings:
        # The aiohttp transport reads a body of declared length in one call.
        whole = getattr(_body_stream(response), "read_capped", None)
        if whole is not None:
            read_whole: tuple[bytes, bool] | None = await whole(limit)
            if read_whole is not None:
                response._content, whole_cut = read_whole
                if whole_cut:
                    await response.aclose()
                return whole_cut
    parts: list[bytes] = []
    size = 0
    inflater: Inflater | None = None
    chunks: AsyncIterator[bytes]
    if not codings:
        chunks = response.aiter_raw()
    elif len(codings) == 1 and codings[0] in ZLIB_CODINGS:
        inflater = Inflater(codings[0])
        chunks = response.aiter_raw()
    else:
        # br, zstd or several codings: httpx inflates, one network chunk at a time.
        chunks = response.aiter_bytes()
    cut = False
    async for raw in chunks:
        data = raw
        while data:
            room = limit - size
            if inflater is None:
                out, data = data, b""
            else:
                out = inflater.feed(data, room + 1)
                data = inflater.tail
            if len(out) > room:
                parts.append(out[:room])
                cut = True
                break
            size += len(out)
            parts.append(out)
        if cut:
            break
    if not cut and inflater is not None:
        rest = inflater.flush()
        if len(rest) > limit - size:
            rest = rest[: limit - size]
            cut = True
        parts.append(rest)
    if cut:
        await response.aclose()
    response._content = b"".join(parts)
    return cut


async def read_auth_refusal(response: httpx.Response) -> None:
    """Read a refusal's body (a 400 or 401) for an auth flow, capped at
    :data:`AUTH_ERROR_BODY_LIMIT`; an undecodable body is read as empty. (An auth flow that
    overrides ``async_auth_flow`` gets the response unread from a real transport.)"""
    try:
        await read_capped(response, AUTH_ERROR_BODY_LIMIT)
    except (zlib.error, httpx.DecodingError):
        response._content = b""
