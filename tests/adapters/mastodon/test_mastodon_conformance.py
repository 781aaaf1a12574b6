"""The adapter conformance suites, with fixtures that follow schema.json.

Every exchange of every test is validated against ``../shared/specs/mastodon/schema.json``
(see ``support.exchange_problems``) by the suite's ``router`` fixture at teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from tests.adapters.mastodon.support import MastodonFixtures, assert_conforms, make, route_instance

from socialkit.adapters._base import Adapter
from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class TestMastodonErrors(MastodonFixtures, c.ErrorSuite):
    pass


class TestMastodonPublishing(MastodonFixtures, c.PublishSuite):
    pass


class TestMastodonPreflight(MastodonFixtures, c.PreflightSuite):
    """``publish`` reads the server's limits once per server (``GET /api/v2/instance``) before
    its check; the suite asserts that an invalid post sends nothing at all, so the limits are
    loaded here first, through a router of their own (validated too), as a previous publish
    would have."""

    @pytest.fixture
    async def adapter(self, router: respx.MockRouter) -> AsyncIterator[Adapter]:
        warm = respx.MockRouter(assert_all_mocked=True)
        route_instance(warm, max_characters=500, max_media=4)
        async with httpx.AsyncClient(transport=httpx.MockTransport(warm.async_handler)) as http:
            loader = make(http)
            await loader.ex_load_limits()
            await loader.aclose()
        assert_conforms(warm)
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        adapter = make(client, forget=False)
        try:
            yield adapter
        finally:
            await adapter.aclose()
            await client.aclose()


class TestMastodonRead(MastodonFixtures, c.ReadSuite):
    pass


class TestMastodonMetrics(MastodonFixtures, c.MetricsSuite):
    pass


class TestMastodonMessages(MastodonFixtures, c.MessagesSuite):
    pass
