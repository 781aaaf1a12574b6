"""What the Meta adapter tests share: a transport that records the traffic the real adapters
send to the Graph fakes, and the check of that traffic against Meta's descriptions
(``tests/_validation/graph.py``: the Graph node specs for Facebook and Instagram, the Threads
Postman collection for Threads)."""

from __future__ import annotations

from typing import Any

import httpx
from tests._specs import specs_dir
from tests._validation.graph import GraphChecker, ThreadsChecker

from socialkit.testing.fakes._graph import GraphFake


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` and keeps each request (body read) and response."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.exchanges.append((request, response))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def recording_client(fake: GraphFake) -> tuple[httpx.AsyncClient, Recorder]:
    recorder = Recorder(httpx.ASGITransport(app=fake.app))
    return httpx.AsyncClient(transport=recorder), recorder


#: The node specs of graph.instagram.com (Instagram API with Instagram Login) for the node types
#: of graph.facebook.com that the fake keeps.
_IG_ONLY = {"IGUser": "IGUserForIGOnlyAPI", "IGMedia": "IGMediaForIGOnlyAPI"}


def checker_for(fake: GraphFake, *, instagram_login: bool = False) -> Any:
    """The description checker of ``fake``'s network; node types come from the fake's state
    (with ``instagram_login``, graph.instagram.com's node specs where it has its own)."""
    if fake.name == "threads":
        return ThreadsChecker(
            specs_dir("meta", "threads", "threads-api.postman_collection.json"),
            version=fake.version,
        )

    def node_type(ref: str) -> str | None:
        if ref == "me":
            # graph.facebook.com's /me is the user of the token; graph.instagram.com's the
            # professional account.
            return "IGUserForIGOnlyAPI" if instagram_login else "User"
        obj = fake.objects.get(ref)
        if obj is None:
            return None
        return _IG_ONLY.get(obj.type, obj.type) if instagram_login else obj.type

    return GraphChecker(specs_dir("meta", "graph"), node_type, version=fake.version)


def violations(fake: GraphFake, recorder: Recorder, *, instagram_login: bool = False) -> list[str]:
    """Every way the recorded requests depart from the description."""
    checker = checker_for(fake, instagram_login=instagram_login)
    found = []
    for request, _ in recorder.exchanges:
        for problem in checker.request_violations(request):
            found.append(f"{request.method} {request.url.path}: {problem}")
    return found
