"""The pipeline's shortcuts into httpx's objects give exactly what httpx's own paths give."""

from __future__ import annotations

import httpx
import pytest

from socialkit._http._wire import (
    FAST_HEADERS,
    declared_length,
    headers_from_raw,
    lowered_pairs,
    read_already,
)

RAW = [
    (b"Content-Type", b"application/json; charset=utf-8"),
    (b"X-Rate-Limit-Remaining", b"99"),
    (b"Set-Cookie", b"a=1"),
    (b"set-cookie", b"b=2"),
    (b"X-Odd", b"caf\xc3\xa9"),
]


def test_the_installed_httpx_takes_the_fast_path() -> None:
    # If a release of httpx stops keeping (name, lower-case name, value) entries, the fast
    # path turns itself off; this test says so instead of a silent slowdown.
    assert FAST_HEADERS


def test_headers_from_raw_are_httpx_headers() -> None:
    made, reference = headers_from_raw(RAW), httpx.Headers(RAW)
    assert made == reference
    assert made.raw == reference.raw
    assert made.multi_items() == reference.multi_items()
    assert made.get_list("set-cookie") == ["a=1", "b=2"]
    assert made["x-odd"] == reference["x-odd"]
    assert made.encoding == reference.encoding
    copied = httpx.Headers(made)
    copied["x-new"] = "1"
    assert "x-new" not in made  # a copy does not share the entries
    response = httpx.Response(200, headers=made)
    assert response.headers == reference


def test_lowered_pairs() -> None:
    assert lowered_pairs(httpx.Headers(RAW)) == [(k, k.lower(), v) for k, v in RAW]


@pytest.mark.anyio
async def test_read_already_and_declared_length() -> None:
    streamed = httpx.Response(200, headers={"content-length": "12"}, stream=httpx.ByteStream(b"x"))
    assert read_already(streamed) is None
    assert declared_length(streamed) == 12
    await streamed.aread()
    assert read_already(streamed) == b"x"
    assert declared_length(httpx.Response(200, stream=httpx.ByteStream(b""))) == -1
    assert declared_length(httpx.Response(200, headers={"content-length": "x1"})) == -1


def test_aiohttp_failures_map_by_what_happened() -> None:
    # Only a failure to connect may read as "never sent" (a create may then be resent); a
    # connection lost or a read timed out after the request was written is outcome unknown.
    import asyncio
    from types import SimpleNamespace

    import aiohttp

    from socialkit._http._aiohttp import remap_aiohttp

    key = SimpleNamespace(host="127.0.0.1", port=9, ssl=None)
    refused = ConnectionRefusedError(111, "refused")
    cases: list[tuple[BaseException, type[httpx.TransportError] | None]] = [
        (aiohttp.ClientProxyConnectionError(key, refused), httpx.ProxyError),  # type: ignore[arg-type]
        (aiohttp.ClientConnectorError(key, refused), httpx.ConnectError),  # type: ignore[arg-type]
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.ServerTimeoutError("read"), httpx.ReadTimeout),
        (asyncio.TimeoutError(), httpx.ReadTimeout),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (aiohttp.InvalidURL("x"), httpx.UnsupportedProtocol),
        (ValueError("not a transport failure"), None),
    ]
    for exc, expected in cases:
        mapped = remap_aiohttp(exc)
        if expected is None:
            assert mapped is None
        else:
            assert type(mapped) is expected, (exc, mapped)
            assert str(mapped)
