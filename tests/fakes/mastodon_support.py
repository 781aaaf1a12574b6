"""Traffic recording and checking for the FakeMastodon tests.

Every request the real adapter sends to the fake and every response the fake returns is checked
against the official description, ``../shared/specs/mastodon/schema.json`` (read in place
through ``tests._specs.specs_dir``), with ``tests._validation.OpenAPIChecker`` — the same checks
the adapter's own tests apply to their fixtures (``tests/adapters/mastodon/support.py``), whose
documented work-around for the ``Status.quote`` ``oneOf`` defect is reused here rather than
copied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker
from tests.adapters.mastodon.support import _without_quotes, error_body_problems

from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.fakes import FakeClock, FakeMastodon

#: Paths that are not part of the API (the files a media URL points to): not checked.
NOT_API = ("/system/",)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the fake's ``httpx.ASGITransport`` and keeps every exchange, fully read."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        #: Faults: requests for which the fake's answer is lost after the fake has acted
        #: (a read timeout), or replaced by an unreadable 200 body.
        self.lose: Callable[[httpx.Request], bool] | None = None
        self.garble: Callable[[httpx.Request], bool] | None = None
        #: Awaited before each request reaches the fake (to hold requests back).
        self.before: Callable[[httpx.Request], Awaitable[None]] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        if self.before is not None:
            await self.before(request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        recorded = httpx.Response(
            response.status_code,
            headers=[(k, v) for k, v in response.headers.multi_items() if k != "content-length"],
            content=content,
            request=request,
        )
        self.exchanges.append((request, recorded))
        if self.lose is not None and self.lose(request):
            raise httpx.ReadTimeout("the answer was lost (injected fault)", request=request)
        if self.garble is not None and self.garble(request):
            return httpx.Response(
                200,
                headers={"content-type": "application/json"},
                content=b'{"id": "1", "trunc',
                request=request,
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()

    def statuses(self, method: str, path: str) -> list[int]:
        """The status codes answered to ``method path`` (exact path), in order."""
        return [
            resp.status_code
            for req, resp in self.exchanges
            if req.method == method and req.url.path == path
        ]


_checkers: dict[str, OpenAPIChecker] = {}


def checker(base_url: str) -> OpenAPIChecker:
    if base_url not in _checkers:
        _checkers[base_url] = OpenAPIChecker(
            specs_dir("mastodon", "schema.json"), server_url=base_url
        )
    return _checkers[base_url]


def exchange_problems(
    api: OpenAPIChecker, request: httpx.Request, response: httpx.Response
) -> list[str]:
    """Every way one exchange departs from schema.json. Error statuses the document does not
    list for an operation are still checked against the ``Error`` schema (as in the adapter's
    tests); a ``Status.quote`` is checked with the adapter tests' documented work-around."""
    problems = [f"request: {p}" for p in api.request_violations(request)]
    response, quote_problems = _without_quotes(response)
    problems.extend(f"response {response.status_code}: {p}" for p in quote_problems)
    found = api.response_violations(request, response)
    if found == [f"Unknown response http status: {response.status_code}"]:
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            found = error_body_problems(response)
        else:
            found = []
    problems.extend(f"response {response.status_code}: {p}" for p in found)
    return problems


def assert_traffic_conforms(recorder: RecordingTransport, base_url: str) -> int:
    """Check every recorded API exchange; returns how many were checked."""
    api = checker(base_url)
    problems: list[str] = []
    checked = 0
    for request, response in recorder.exchanges:
        if request.url.path.startswith(NOT_API):
            continue
        checked += 1
        for problem in exchange_problems(api, request, response):
            problems.append(f"{request.method} {request.url}: {problem}")
    assert not problems, "fake traffic does not match schema.json:\n" + "\n".join(problems)
    return checked


class Harness:
    """A fake whose ``client()`` records every exchange (so ``fake.connect()`` is unchanged)."""

    def __init__(self, fake: FakeMastodon) -> None:
        self.fake = fake
        self.recorder = RecordingTransport(httpx.ASGITransport(app=fake.app))
        fake.client = self._client  # type: ignore[method-assign]

    def _client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.recorder, **kwargs)

    def connect(self, **overrides: Any) -> MastodonAdapter:
        settings: dict[str, Any] = {"retry_wait": False}
        settings.update(overrides)
        adapter = self.fake.connect(**settings)
        assert isinstance(adapter, MastodonAdapter)
        return adapter

    async def raw(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request with the owner's token, outside the adapter (still recorded)."""
        headers = {"Authorization": f"Bearer {self.fake.access_token}", **kwargs.pop("headers", {})}
        async with self._client(base_url=self.fake.base_url) as client:
            return await client.request(method, path, headers=headers, **kwargs)


def make_harness(**kwargs: Any) -> Iterator[Harness]:
    harness = Harness(FakeMastodon(clock=FakeClock(kwargs.pop("start", None)), **kwargs))
    yield harness
    checked = assert_traffic_conforms(harness.recorder, harness.fake.base_url)
    assert checked == len(
        [r for r, _ in harness.recorder.exchanges if not r.url.path.startswith("/system/")]
    )
