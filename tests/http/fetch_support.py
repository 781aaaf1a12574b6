"""Helpers of the media fetcher tests: a stub resolver, a guard transport, a loopback server.

:class:`GuardTransport` fails the test instead of sending when it is asked to connect anywhere
but the loopback address it expects, so a wrong fetcher never sends a packet to a link-local or
private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import pytest

from socialkit.testing.conformance import PNG_1X1

LOOPBACK = "127.0.0.1"


class StubResolver:
    """Answers from a table, one answer list per call in turn; records every question."""

    def __init__(self, table: dict[str, list[list[str]] | list[str]]) -> None:
        self.table = {
            host: (answers if answers and isinstance(answers[0], list) else [answers])
            for host, answers in table.items()
        }
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"stub resolver: unknown host {host}")
        answers = self.table[host]
        index = min(len([c for c in self.calls if c == host]) - 1, len(answers) - 1)
        result = answers[index]
        assert isinstance(result, list)
        return [str(a) for a in result]


class GuardTransport(httpx.AsyncBaseTransport):
    """Forwards to a real transport only requests for the expected loopback address.

    Anything else fails the test *before* a connection is made (``pytest.fail`` raises a
    BaseException, which no ``except Exception`` in the code under test can swallow), and is
    recorded so that the test can also assert it afterwards.
    """

    def __init__(self, expected: set[str] | None = None, *, verify: ssl.SSLContext | None = None):
        self.expected = expected if expected is not None else {LOOPBACK}
        self.sent: list[httpx.Request] = []
        self.refused: list[str] = []
        self._inner = httpx.AsyncHTTPTransport(verify=verify or True, retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host not in self.expected or not ipaddress.ip_address(host).is_loopback:
            self.refused.append(str(request.url))
            pytest.fail(f"the fetcher tried to connect to {request.url} (not expected)")
        self.sent.append(request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "image/png"})
    body: bytes = PNG_1X1
    chunked: bool = False
    drip: float = 0.0
    """Seconds between single bytes of the body (a dripping server), 0 for all at once."""


@dataclass
class MediaServer:
    """A tiny HTTP/1.1 server on 127.0.0.1: a path -> reply table; records what it received."""

    routes: dict[str, Reply] = field(default_factory=dict)
    received: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    port: int = 0

    def url(self, host: str, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        self.received.append((path, headers.get("host", "")))
        reply = self.routes.get(path, Reply(status=404, headers={}, body=b""))
        out = [f"HTTP/1.1 {reply.status} X"]
        out += [f"{k}: {v}" for k, v in reply.headers.items()]
        if reply.chunked:
            out.append("Transfer-Encoding: chunked")
        else:
            out.append(f"Content-Length: {len(reply.body)}")
        out.append("Connection: close")
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
        try:
            if reply.chunked:
                for start in range(0, len(reply.body), 65536):
                    piece = reply.body[start : start + 65536]
                    writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    await writer.drain()
                writer.write(b"0\r\n\r\n")
            elif reply.drip:
                for index in range(len(reply.body)):
                    writer.write(reply.body[index : index + 1])
                    await writer.drain()
                    await asyncio.sleep(reply.drip)
            else:
                writer.write(reply.body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def serve(server: MediaServer, ssl_context: ssl.SSLContext | None = None) -> asyncio.Server:
    listener = await asyncio.start_server(server.handle, LOOPBACK, 0, ssl=ssl_context)
    server.port = listener.sockets[0].getsockname()[1]
    return listener
