"""make_client and the transports, against a real socket server on 127.0.0.1.

These check the retry rules where mocks cannot: what the transports really raise when a server
drops the connection after reading a request, or never answers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from socialkit._errors import OutcomeUnknownError, TimeoutError, TransportError
from socialkit._http import AutoTransport, Network, RetryPolicy, Session, make_client

pytestmark = pytest.mark.anyio


class Server:
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                if self.behaviour == "drop":
                    break
                if self.behaviour == "partial":  # headers, half a body, then gone
                    writer.write(b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"id":')
                    await writer.drain()
                    break
                if self.behaviour == "hang":
                    await asyncio.sleep(30)
                    break
                payload = b'{"id":"1"}'
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(payload), payload)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(behaviour: str) -> AsyncIterator[Server]:
    server = Server(behaviour)
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = tcp.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        tcp.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TRANSPORTS: dict[str, Callable[[], httpx.AsyncBaseTransport | None]] = {
    "default (aiohttp)": lambda: None,
    "httpx": lambda: httpx.AsyncHTTPTransport(),
}


def make_session(port: int, transport: str, timeout: float = 5.0) -> Session:
    client = make_client(timeout=timeout, transport=TRANSPORTS[transport]())
    return Session(
        Network("local", f"http://127.0.0.1:{port}"),
        client=client,
        retry=RetryPolicy(wait=False),
    )


async def test_make_client_defaults():
    client = make_client()
    try:
        assert client.headers["User-Agent"].startswith("socialkit/")
        assert client.headers["User-Agent"].endswith(" (+python-httpx)")
        assert isinstance(client._transport, AutoTransport)
        assert client.timeout.read == 30.0
    finally:
        await client.aclose()
    custom = make_client(user_agent="app/1.0", timeout=3.0, transport=httpx.MockTransport(None))  # type: ignore[arg-type]
    assert custom.headers["User-Agent"] == "app/1.0"
    assert isinstance(custom._transport, httpx.MockTransport)
    await custom.aclose()


async def test_default_transport_is_aiohttp_under_asyncio():
    from socialkit._http._aiohttp import AiohttpTransport

    async with serving("ok") as server:
        session = make_session(server.port, "default (aiohttp)")
        response = await session.request("GET", "/x")
        transport = session.client._transport
        assert isinstance(transport, AutoTransport)
        assert isinstance(transport._asyncio, AiohttpTransport)
        assert response.json() == {"id": "1"}
        assert b"user-agent: socialkit/" in server.requests[0].lower()
        await session.client.aclose()
    assert not AutoTransport(http2=True)._use_aiohttp


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_escapes_reach_the_server_as_written(transport: str):
    # aiohttp parses a URL given as text again and decodes %3A and %2C: LinkedIn's URNs in
    # paths and queries would change. Both transports send what httpx encoded.
    async with serving("ok") as server:
        session = make_session(server.port, transport)
        async with session.client:
            path = "/rest/posts/urn%3Ali%3Ashare%3A1"
            await session.request("GET", path, params={"author": "urn:li:x:1", "f": "a,b"})
            await session.request("GET", "/rest/posts/urn%3Ali%3Ashare%3A1?q=a%2Cb%28c%29")
            if transport == "default (aiohttp)":
                auto = session.client._transport
                assert isinstance(auto, AutoTransport)
                assert auto._asyncio is not None
                assert auto._other is None  # aiohttp sent both
    lines = [request.split(b"\r\n", 1)[0] for request in server.requests]
    assert lines == [
        b"GET /rest/posts/urn%3Ali%3Ashare%3A1?author=urn%3Ali%3Ax%3A1&f=a%2Cb HTTP/1.1",
        b"GET /rest/posts/urn%3Ali%3Ashare%3A1?q=a%2Cb%28c%29 HTTP/1.1",
    ]


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_create_dropped_after_send_is_outcome_unknown(transport: str):
    async with serving("drop") as server:
        session = make_session(server.port, transport)
        async with session.client:
            with pytest.raises(OutcomeUnknownError):
                await session.request("POST", "/posts", json={"text": "hello"})
        # httpx-aiohttp alone would report ConnectTimeout here and the create would be resent.
        assert len(server.requests) == 1


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_read_dropped_is_retried_then_transport_error(transport: str):
    async with serving("drop") as server:
        session = make_session(server.port, transport)
        async with session.client:
            with pytest.raises(TransportError):
                await session.request("GET", "/items")
        # 4 attempts; aiohttp itself resends an idempotent request once on a dropped
        # keep-alive connection, so it may count double.
        assert len(server.requests) in (4, 8)


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_create_timeout_after_send_is_outcome_unknown(transport: str):
    async with serving("hang") as server:
        session = make_session(server.port, transport, timeout=0.3)
        async with session.client:
            with pytest.raises(OutcomeUnknownError):
                await session.request("POST", "/posts", json={"text": "hello"})
        assert len(server.requests) == 1


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_create_connection_refused_is_retried(transport: str):
    session = make_session(closed_port(), transport)
    async with session.client:
        with pytest.raises(TransportError) as info:
            await session.request("POST", "/posts", json={"text": "hello"})
    assert not isinstance(info.value, TimeoutError)
    assert "ConnectError" in str(info.value)


async def test_session_owns_the_client_it_creates():
    session = Session(Network("local", "http://127.0.0.1:9"))
    client = session.client
    await session.aclose()
    assert client.is_closed
    async with httpx.AsyncClient() as shared:
        other = Session(Network("local", "http://127.0.0.1:9"), client=shared)
        await other.aclose()
        assert not shared.is_closed


@pytest.mark.parametrize("transport", list(TRANSPORTS))
async def test_create_cut_off_mid_body_is_outcome_unknown(transport: str):
    async with serving("partial") as server:
        session = make_session(server.port, transport)
        async with session.client:
            with pytest.raises(OutcomeUnknownError):
                await session.request("POST", "/posts", json={"text": "hello"})
            assert len(server.requests) == 1
            with pytest.raises(TransportError):
                await session.request("GET", "/items")
        assert len(server.requests) >= 5  # the read was retried


async def test_make_client_keeps_no_cookies():
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"set-cookie": "sid=account-a; Path=/"})

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        await client.get("https://api.example.test/a")
        await client.get("https://api.example.test/b")
    assert seen == [None, None]
