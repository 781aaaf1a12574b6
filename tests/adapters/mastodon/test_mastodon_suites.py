"""The fake-backed conformance suites (``socialkit.testing.conformance``) for Mastodon: the real
adapter against FakeMastodon, with every exchange recorded and checked against the official
description, ``../shared/specs/mastodon/schema.json`` (``assert_traffic_conforms``)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.fakes.mastodon_support import RecordingTransport, assert_traffic_conforms

from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeMastodon
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    # The adapter keeps each server's limits for the process; each test starts cold.
    MastodonAdapter.ex_forget_instances()
    yield
    MastodonAdapter.ex_forget_instances()


class _Recorded(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeMastodon()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        assert isinstance(fake, FakeMastodon)
        recorder = RecordingTransport(httpx.ASGITransport(app=fake.app))
        client = httpx.AsyncClient(transport=recorder)
        client.recorder = recorder  # type: ignore[attr-defined]
        client.fake_base_url = fake.base_url  # type: ignore[attr-defined]
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        # Some tests send nothing (a refusal before any request): there is nothing to check.
        recorder: RecordingTransport = client.recorder  # type: ignore[attr-defined]
        assert_traffic_conforms(recorder, client.fake_base_url)  # type: ignore[attr-defined]


class TestMastodonEngagement(_Recorded, c.EngagementSuite):
    pass


class TestMastodonPeople(_Recorded, c.PeopleSuite):
    pass


class TestMastodonPaging(_Recorded, c.PagingSuite):
    pass


class TestMastodonRoundTrip(_Recorded, c.RoundTripSuite):
    pass


class TestMastodonUpload(_Recorded, c.UploadSuite):
    pass
