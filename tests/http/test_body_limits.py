"""Decoded response bodies are capped per request kind, while they are inflated (issue 12 #4).

The bomb is real: 1 GiB of zeros gzipped to about 1 MB, built once per module. Against it the
session must stop at the limit of the request's kind and raise ``ResponseTooLargeError`` with
memory that stays near the limit, through respx, httpx.MockTransport and a loopback server
(aiohttp and httpx's own transport).
"""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import respx
from _loopback import Request, gzip_bomb, head, serving

from socialkit._errors import (
    AuthError,
    MalformedResponseError,
    OutcomeUnknownError,
    ResponseTooLargeError,
    ServerError,
)
from socialkit._http import BodyLimits, Network, RetryPolicy, Session, make_client

pytestmark = pytest.mark.anyio

BASE = "https://api.example.test"
GIB = 1 << 30
MIB = 1 << 20
#: The peak a capped read of the 1 GiB bomb must stay under. The read itself takes 2-3 MiB
#: (measured alone), an unbounded one 1 GiB; tracemalloc also counts what other threads of a
#: full run allocate meanwhile (servers of earlier tests), a few MiB more (once 17.9 MiB).
BOUNDED = 64 * MIB


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb(GIB)
    assert len(data) < 1.1 * MIB  # about 1 MB on the wire ...
    assert zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(data, 4096) == bytes(4096)
    return data  # ... and 1 GiB once inflated


def session_for(transport: httpx.AsyncBaseTransport | None = None, **options: Any) -> Session:
    # httpx's own transport under respx (respx does not see aiohttp): nothing leaves the test.
    client = make_client(transport=transport or httpx.AsyncHTTPTransport())
    return Session(
        Network("example", BASE), client=client, retry=RetryPolicy(wait=False), **options
    )


async def peak_while(call: Callable[[], Awaitable[Any]]) -> tuple[BaseException | None, int]:
    """Run ``call``; return what it raised and the peak of memory allocated meanwhile."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        error: BaseException | None = None
        try:
            await call()
        except Exception as exc:
            error = exc
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return error, peak


# --- respx and MockTransport ----------------------------------------------------------------


class Chunks(httpx.AsyncByteStream):
    """The bomb as a network would deliver it, 64 KiB at a time. (``httpx.Response(content=)``
    and respx read, and so inflate, a body given as bytes; a stream they leave to the client.)
    """

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self):
        for start in range(0, len(self.data), 64 * 1024):
            yield self.data[start : start + 64 * 1024]


@respx.mock
async def test_gzip_bomb_stops_at_the_read_limit_through_respx(bomb: bytes):
    respx.get(f"{BASE}/timeline").mock(
        side_effect=lambda request: httpx.Response(
            200, stream=Chunks(bomb), headers={"content-encoding": "gzip"}
        )
    )
    session = session_for()
    error, peak = await peak_while(lambda: session.request("GET", "/timeline"))
    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == BodyLimits().read == 16 * MIB
    assert error.kind == "read"
    assert error.status == 200
    assert "16,777,216 bytes" in str(error)
    # A plain read of this body took 2 GB before; now the limit (16 MiB) bounds it.
    assert peak < 3 * 16 * MIB
    await session.aclose()


async def test_gzip_bomb_through_mock_transport_with_a_small_limit(bomb: bytes):
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, stream=Chunks(bomb), headers={"content-encoding": "gzip", "x-request-id": "r1"}
        )
    )
    session = session_for(transport, body_limits={"read": MIB})
    error, peak = await peak_while(lambda: session.request("GET", "/timeline"))
    assert isinstance(error, ResponseTooLargeError)
    assert error.limit == MIB
    assert error.request_id == "r1"
    assert peak < 4 * MIB + len(bomb)
    await session.aclose()


async def test_bodies_within_the_limit_are_inflated_whole():
    payload = b'{"items": [' + b",".join(b'"%d"' % i for i in range(20000)) + b"]}"
    raw = zlib.compress(payload)[2:-4]  # raw deflate, as some servers send it

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gzip":
            body, coding = gzip.compress(payload), "gzip"
        elif request.url.path == "/deflate":
            body, coding = zlib.compress(payload), "deflate"
        elif request.url.path == "/raw-deflate":
            body, coding = raw, "deflate"
        else:
            body, coding = payload, "identity"
        return httpx.Response(200, stream=Chunks(body), headers={"content-encoding": coding})

    session = session_for(httpx.MockTransport(handler), body_limits={"read": len(payload)})
    for path in ("/gzip", "/deflate", "/raw-deflate", "/plain"):
        response = await session.request("GET", path)
        assert response.content == payload, path
        assert len(response.json()["items"]) == 20000
    tight = session_for(httpx.MockTransport(handler), body_limits={"read": len(payload) - 1})
    for path in ("/gzip", "/deflate", "/raw-deflate", "/plain"):
        with pytest.raises(ResponseTooLargeError):
            await tight.request("GET", path)


async def test_a_broken_gzip_body_is_a_malformed_response():
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, stream=Chunks(b"\x1f\x8b\x08not gzip"), headers={"content-encoding": "gzip"}
        )
    )
    session = session_for(transport)
    with pytest.raises(MalformedResponseError, match="not valid gzip"):
        await session.request("GET", "/x")


async def test_declared_length_over_the_limit_is_refused_before_reading():
    streamed: list[int] = []

    async def body():
        for _ in range(64):
            streamed.append(1)
            yield bytes(64 * 1024)

    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=body(), headers={"content-length": str(4 * MIB)}
        )
    )
    session = session_for(transport, body_limits={"read": MIB})
    with pytest.raises(ResponseTooLargeError):
        await session.request("GET", "/big")
    assert streamed == []


async def test_error_bodies_are_cut_not_refused(bomb: bytes):
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(500, stream=Chunks(bomb), headers={"content-encoding": "gzip"})

    session = session_for(httpx.MockTransport(handler), body_limits={"error": 64 * 1024})
    error, peak = await peak_while(lambda: session.request("GET", "/x"))
    # The status decides: a 5xx stays a ServerError (retried), its body is cut at 64 KiB.
    assert isinstance(error, ServerError)
    assert calls == 4
    assert peak < 4 * MIB + len(bomb)


async def test_an_unreadable_answer_to_a_create_is_outcome_unknown(bomb: bytes):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, stream=Chunks(bomb), headers={"content-encoding": "gzip"})

    session = session_for(httpx.MockTransport(handler))
    with pytest.raises(OutcomeUnknownError) as info:
        await session.request("POST", "/statuses", json={"status": "hello"})
    # The network created the post (201): it is not sent again, and the cause says why.
    assert len(sent) == 1
    assert isinstance(info.value.__cause__, ResponseTooLargeError)
    assert info.value.__cause__.kind == "create"


async def test_downloads_have_their_own_limit():
    size = 20 * MIB
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, content=bytes(size))

    session = session_for(httpx.MockTransport(handler))
    # A media URL on another host, fetched without credentials: the download limit.
    media = await session.request("GET", "https://media.example.test/v.mp4", auth=None)
    assert len(media.content) == size
    explicit = await session.request("GET", "/media/1", kind="download")
    assert len(explicit.content) == size
    with pytest.raises(ResponseTooLargeError) as info:
        await session.request("GET", "/timeline")  # the same size is too much for a page
    assert info.value.kind == "read"
    with pytest.raises(ResponseTooLargeError) as info:
        await session.request("GET", "https://media.example.test/v.mp4", auth=None, max_body=MIB)
    assert info.value.limit == MIB


async def test_limits_are_checked():
    from socialkit._errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown body limit"):
        session_for(httpx.MockTransport(lambda r: httpx.Response(200)), body_limits={"huge": 1})
    with pytest.raises(ValueError, match="positive"):
        BodyLimits(read=0)
    network = Network("n", BASE, body_limits=BodyLimits(read=10))
    session = Session(network, client=make_client(transport=httpx.MockTransport(None)))  # type: ignore[arg-type]
    assert session.body_limits.read == 10
    assert Session(network, body_limits={"write": 5}).body_limits == BodyLimits(read=10, write=5)


def test_settings_reach_the_session():
    from socialkit.adapters.mastodon import MastodonAdapter, MastodonSettings

    settings = MastodonSettings(
        instance="https://mastodon.example", body_limits={"read": 1000, "download": 5000}
    )
    session = MastodonAdapter(settings).session
    assert session.body_limits.read == 1000
    assert session.body_limits.download == 5000
    assert session.body_limits.create == BodyLimits().create
    with pytest.raises(ValueError):
        MastodonSettings(instance="https://mastodon.example", body_limits={"read": 0})


# --- a real socket ---------------------------------------------------------------------------

TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport | None]] = {
    "default (aiohttp)": lambda: None,
    "httpx": lambda: httpx.AsyncHTTPTransport(),
}


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_gzip_bomb_over_a_loopback_socket(bomb: bytes, transport: str):
    async def answer(request: Request, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            head(
                200,
                {
                    "content-type": "application/json",
                    "content-encoding": "gzip",
                    "content-length": str(len(bomb)),
                },
            )
        )
        try:
            for start in range(0, len(bomb), 64 * 1024):
                writer.write(bomb[start : start + 64 * 1024])
                await writer.drain()
        except ConnectionError:
            pass  # the client stopped reading at its limit and closed the connection
        return False

    async with serving(answer) as server:
        client = make_client(timeout=10.0, transport=TRANSPORTS[transport]())
        session = Session(
            Network("local", server.url),
            client=client,
            retry=RetryPolicy(wait=False),
            body_limits={"read": 4 * MIB},
        )
        async with client:
            error, peak = await peak_while(lambda: session.request("GET", "/timeline"))
        assert isinstance(error, ResponseTooLargeError), error
        assert error.limit == 4 * MIB
        assert peak < BOUNDED
        assert len(server.requests) == 1  # too large is final: not retried


async def test_a_401_gzip_bomb_read_by_an_auth_flow_stays_bounded(bomb: bytes):
    """Auth flows read a refusal's body themselves (to see why); that read is capped too."""
    from socialkit.auth import BearerAuth

    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            401, stream=Chunks(bomb), headers={"content-encoding": "gzip"}
        )
    )
    session = session_for(transport, auth=BearerAuth("an-opaque-token-value"))
    error, peak = await peak_while(lambda: session.request("GET", "/timeline"))
    assert isinstance(error, AuthError)
    # An unbounded read took the whole 1 GiB; the cap keeps it to a few MiB.
    assert peak < BOUNDED
    await session.aclose()
