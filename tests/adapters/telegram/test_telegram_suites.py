"""The fake-backed conformance suites for Telegram: the real TelegramAdapter against
FakeTelegram. Every exchange is recorded and validated against the official description,
``../shared/specs/telegram/api.json`` (tests/fakes/telegram_support.py).

PagingSuite is not subclassed: its posts tests publish through the fake (``publish_as``),
which a bot can never read (the Bot API has no history method, and bots receive no updates
about their own messages); the adapter's paging of its record and of its updates is tested in
test_telegram_adapter.py (``test_posts_resume`` and ``test_messages_resume_*``)."""

from __future__ import annotations

import httpx
import pytest
from tests.fakes.telegram_support import Traffic

from socialkit._errors import NotFoundError
from socialkit.adapters._base import Adapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTelegram
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec


class TelegramFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeTelegram()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        client = fake.client()
        self._traffic = Traffic()
        self._traffic.attach(client)
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        if self._traffic.exchanges:
            self._traffic.verify()


class TestTelegramEngagement(TelegramFakeFixtures, c.EngagementSuite):
    pass


class TestTelegramPeople(TelegramFakeFixtures, c.PeopleSuite):
    @pytest.mark.anyio
    async def test_account_by_handle_and_by_id(self, net: Adapter, fake: FakeNetwork) -> None:
        """Telegram resolves usernames of public chats only (a user by id): the channel is
        found by id, by ``@name`` and by ``name``; a user by id."""
        assert isinstance(fake, FakeTelegram)
        channel = fake.channel
        by_id = await net.account(str(channel.id))
        by_handle = await net.account(str(channel.username))
        by_at = await net.account(f"@{channel.username}")
        assert by_id.id == by_handle.id == by_at.id == str(channel.id)
        assert by_id.followers == len(channel.members)
        user = self.someone(fake)
        found = await net.account(user.id)
        assert found.id == user.id
        assert found.network == "telegram"

    @pytest.mark.anyio
    async def test_unknown_account(self, net: Adapter, fake: FakeNetwork) -> None:
        # getChat answers 400 "chat not found" (not 404): an InvalidRequestError.
        with pytest.raises(Exception) as info:
            await net.account("@nobodyhere")
        assert "chat not found" in str(info.value)
        assert not isinstance(info.value, NotFoundError) or info.value.status == 400


class TestTelegramRoundTrip(TelegramFakeFixtures, c.RoundTripSuite):
    pass


class TestTelegramUpload(TelegramFakeFixtures, c.UploadSuite):
    pass
