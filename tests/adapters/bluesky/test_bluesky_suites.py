"""The fake-backed conformance suites (socialkit.testing.conformance) for Bluesky.

The real adapter runs against FakeBluesky; every request it sends and every answer of the fake
is validated against the official lexicons (../shared/specs/bluesky/lexicons) with
``LexiconChecker`` after each test (``check_traffic``).
"""

from __future__ import annotations

import httpx
import pytest
from tests._specs import specs_dir
from tests._validation.lexicon import LexiconChecker

from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeBluesky
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec

_CHECKER: list[LexiconChecker] = []


def _checker() -> LexiconChecker:
    if not _CHECKER:
        _CHECKER.append(LexiconChecker([specs_dir("bluesky", "lexicons")]))
    return _CHECKER[0]


class BlueskyFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeBluesky(seed=11)

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        problems: list[str] = []
        checker = _checker()

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            request = response.request
            path = request.url.path
            if not path.startswith("/xrpc/") or path == "/xrpc/com.atproto.sync.getBlob":
                return  # the image CDN and blob bytes are not XRPC JSON
            found = checker.request_violations(request)
            found += checker.response_violations(request, response)
            problems.extend(f"{request.method} {path}: {p}" for p in found)

        client = fake.client(event_hooks={"response": [on_response]})
        client._socialkit_problems = problems  # type: ignore[attr-defined]
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        problems: list[str] = client._socialkit_problems  # type: ignore[attr-defined]
        assert not problems, "traffic not conforming to the lexicons:\n" + "\n".join(problems)


class TestBlueskyEngagement(BlueskyFakeFixtures, c.EngagementSuite):
    pass


class TestBlueskyPeople(BlueskyFakeFixtures, c.PeopleSuite):
    pass


class TestBlueskyPaging(BlueskyFakeFixtures, c.PagingSuite):
    pass


class TestBlueskyRoundTrip(BlueskyFakeFixtures, c.RoundTripSuite):
    pass


class TestBlueskyUpload(BlueskyFakeFixtures, c.UploadSuite):
    pass
