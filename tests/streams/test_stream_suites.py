"""The stream conformance suite (socialkit.testing.conformance.StreamSuite) on Mastodon (the
user stream's mentions) and X (the filtered stream, app-only), against their fakes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeMastodon, FakeX
from socialkit.testing.fakes._base import FakeNetwork


class TestMastodonStream(c.StreamSuite):
    @pytest.fixture(autouse=True)
    def _fresh_limits(self) -> Iterator[None]:
        MastodonAdapter.ex_forget_instances()
        yield
        MastodonAdapter.ex_forget_instances()

    def make_fake(self) -> FakeNetwork:
        return FakeMastodon()

    def served_settings(self, fake: FakeNetwork, url: str) -> dict[str, Any]:
        return {"instance": url, "retry_wait": False}

    def stream_arguments(self) -> dict[str, Any]:
        return {"kinds": {"mention"}}

    def plant(self, fake: FakeNetwork, index: int) -> str:
        return fake.mention(self._fan(fake), f"mention {index}")

    @staticmethod
    def _fan(fake: FakeNetwork) -> Any:
        try:
            return fake.user("fan")
        except KeyError:
            return fake.add_user("fan")


class TestXStream(c.StreamSuite):
    def make_fake(self) -> FakeNetwork:
        return FakeX()

    def served_settings(self, fake: FakeNetwork, url: str) -> dict[str, Any]:
        assert isinstance(fake, FakeX)
        return {
            "base_url": url,
            "bearer_token": fake.app_bearer_token,
            "client_id": None,
            "access_token": None,
            "refresh_token": None,
            "retry_wait": False,
        }

    def stream_arguments(self) -> dict[str, Any]:
        return {"query": "acme"}

    def plant(self, fake: FakeNetwork, index: int) -> str:
        try:
            fan = fake.user("fan")
        except KeyError:
            fan = fake.add_user("fan")
        return fake.publish_as(fan, f"acme {index}")
