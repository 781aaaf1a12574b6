"""Shared pieces of the YouTube tests: a client that records every exchange with FakeYouTube
and checks it against the discovery documents, and the adapter connected through it."""

from __future__ import annotations

from typing import Any

import httpx
from tests._specs import youtube_checker

from socialkit.adapters.youtube import YouTubeAdapter
from socialkit.testing.fakes import FakeYouTube


class Recorder(httpx.AsyncBaseTransport):
    """Forwards to ``inner`` and keeps each (request, response) for :meth:`verify`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response

    def verify(self) -> None:
        """Every request to the YouTube APIs (the token endpoint is Google's OAuth server,
        not in the discovery documents) and every fake answer conform to the documents."""
        checker = youtube_checker()
        problems = []
        for request, response in self.exchanges:
            if request.url.path == "/token":
                continue
            for problem in checker.request_violations(request):
                problems.append(f"{request.method} {request.url}: {problem}")
            for problem in checker.response_violations(request, response):
                problems.append(
                    f"{request.method} {request.url} -> {response.status_code}: {problem}"
                )
        assert not problems, "\n".join(problems)


async def no_sleep(seconds: float) -> None:
    return None


def connect(
    fake: FakeYouTube, transport: httpx.AsyncBaseTransport | None = None, **overrides: Any
) -> tuple[YouTubeAdapter, Recorder]:
    """The real adapter wired to ``fake`` through a recorder (and ``transport`` if given)."""
    recorder = Recorder(transport or httpx.ASGITransport(app=fake.app))
    adapter = fake.connect(
        http=httpx.AsyncClient(transport=recorder), retry_wait=False, **overrides
    )
    assert isinstance(adapter, YouTubeAdapter)
    adapter._sleep = no_sleep
    return adapter, recorder
