"""A tiny HTTP/1.1 server on 127.0.0.1 for pipeline tests that need real sockets.

Each test gives a coroutine that answers one request (it gets the request head and body and
writes whatever bytes it likes: a gzip bomb, a body dripped one byte at a time, a 429). The
server only listens on loopback, and every behaviour here ends by itself within seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

Answer = Callable[["Request", asyncio.StreamWriter], Awaitable[bool]]
"""Writes the answer to one request; returns False to close the connection afterwards."""


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Loopback:
    answer: Answer
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    bytes_sent: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                request = Request(method, target, headers, body)
                self.requests.append(request)
                if not await self.answer(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


@asynccontextmanager
async def serving(answer: Answer) -> AsyncIterator[Loopback]:
    server = Loopback(answer)
    tcp = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = tcp.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        tcp.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(tcp.wait_closed(), 2.0)


def head(status: int, headers: dict[str, str]) -> bytes:
    reason = {200: "OK", 201: "Created", 429: "Too Many Requests", 500: "Server Error"}
    lines = [f"HTTP/1.1 {status} {reason.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def gzip_bomb(inflated: int, *, chunk: int = 1 << 20) -> bytes:
    """A gzip stream of ``inflated`` zero bytes, about 1/1000 of that size on the wire.

    Built incrementally from one 1 MiB block, so making it never holds the inflated size.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(chunk)
    parts = []
    left = inflated
    while left > 0:
        step = min(left, chunk)
        parts.append(deflate.compress(zeros if step == chunk else zeros[:step]))
        left -= step
    parts.append(deflate.flush())
    return b"".join(parts)
