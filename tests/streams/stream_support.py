"""Helpers of the stream tests: fakes served on a loopback port, and traffic recording.

The streams are long-lived HTTP responses, which ``httpx.ASGITransport`` cannot deliver piece
by piece (it reads a whole response first), so these tests serve the fakes on 127.0.0.1 with
``FakeNetwork.serve`` and connect to them through a plain ``httpx.AsyncClient``. Every request
the adapters send is recorded by an event hook and checked against the network's official
description, like the other adapter tests do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx

from socialkit import EventStream, StreamEvent


class Recorder:
    """An ``httpx.AsyncClient`` whose requests (and non-streamed responses) are kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def _on_request(self, request: httpx.Request) -> None:
        host = request.url.host
        assert host in ("127.0.0.1", "localhost", "::1"), f"non-loopback request to {host}"
        self.requests.append(request)

    async def _on_response(self, response: httpx.Response) -> None:
        if "text/event-stream" in response.headers.get("content-type", ""):
            return
        if response.request.url.path.endswith("/2/tweets/search/stream"):
            return
        await response.aread()
        self.exchanges.append((response.request, response))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            event_hooks={"request": [self._on_request], "response": [self._on_response]}
        )

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path for r in self.requests if r.method == method]


async def take(events: EventStream, count: int, *, within: float = 10.0) -> list[StreamEvent]:
    """The next ``count`` events of ``events`` (fails after ``within`` seconds)."""
    out: list[StreamEvent] = []
    with anyio.fail_after(within):
        async with events:
            async for event in events:
                out.append(event)
                if len(out) >= count:
                    break
    return out


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 10.0
) -> None:
    """Wait (bounded) until ``condition`` holds."""
    with anyio.fail_after(within):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await anyio.sleep(0.02)


async def collect_into(events: EventStream, sink: list[StreamEvent], count: int) -> None:
    """Read events into ``sink`` until it holds ``count`` (run it in a task group), within
    20 seconds; the stream is closed at the end."""
    with anyio.fail_after(20):
        async with events:
            async for event in events:
                sink.append(event)
                if len(sink) >= count:
                    return
