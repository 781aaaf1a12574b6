"""The fault matrix (socialkit.testing.faults) for Telegram, over real sockets to FakeTelegram.

Telegram has no idempotency key and a bot cannot read a chat, so a send whose answer is lost
is reconciled by probing the message ids after the highest one the adapter knew in the chat
(``TelegramAdapter._reconcile``). Two targets:

- ``warm``: the adapter has posted to the channel before (its store knows the channel's last
  message id, as for any bot that has been running): every fault must pass.
- ``cold``: the very first send into a chat. With no known id there is nothing to probe from,
  and the Bot API offers no way to learn one without sending (see ``_NO_BASELINE``); the retry
  raises OutcomeUnknownError (with the key) again instead of risking a second copy, so the
  faults leave the application without a post (strict xfails: the reason is Telegram's API,
  not a bug to fix)."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

import pytest

from socialkit._store import MemoryStore
from socialkit.testing.fakes import FakeTelegram
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.faults import FaultSuite, NetworkTarget

_CREATE = re.compile(r"/bot[^/]+/send(?:Message|Photo|Video|Animation|Audio|MediaGroup)$")


def _is_create(method: str, path: str) -> bool:
    return method == "POST" and _CREATE.search(path) is not None


def _posts(fake: FakeNetwork) -> list[str]:
    assert isinstance(fake, FakeTelegram)
    seeded = getattr(fake, "seeded", set())
    return [p for p in fake.bot_posts() if p not in seeded]


class _WarmTelegram(FakeTelegram):
    """A channel with one earlier post of the bot, and a store that remembers it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        earlier = self.publish_as(self.bot, "an earlier post")
        self.seeded = {earlier}

    def settings(self) -> dict[str, Any]:
        values = super().settings()
        store = MemoryStore()
        state = {"chat": self.channel.render(), "last": self.channel.next_id - 1}
        # What the adapter kept after its earlier post (namespaces of the adapter's store).
        store._data[("telegram.chats", f"default:{self.channel.id}:state")] = json.dumps(state)
        store._data[("telegram.chats", f"default:@{self.channel.username}")] = str(self.channel.id)
        values["store"] = store
        return values


WARM = NetworkTarget("telegram", lambda url: _WarmTelegram(base_url=url), _is_create, _posts)
COLD = NetworkTarget("telegram", lambda url: FakeTelegram(base_url=url), _is_create, _posts)

_NO_BASELINE = (
    "first send into a chat: the Bot API has no idempotency key, no way to read a chat, and no "
    "way to learn a chat's latest message id without sending (getChat carries none; a bot gets "
    "no updates of its own messages); a guessed baseline could not tell a deleted id from an "
    "unused one ('message to edit not found' for both) and could send twice. So the lost send "
    "cannot be found and the retry refuses with OutcomeUnknownError carrying the key rather "
    "than post twice"
)


class TestTelegramFaultsWarm(FaultSuite):
    network: ClassVar[str] = "telegram"
    target: ClassVar[NetworkTarget | None] = WARM


class TestTelegramFaultsCold(FaultSuite):
    network: ClassVar[str] = "telegram"
    target: ClassVar[NetworkTarget | None] = COLD
    known_failures: ClassVar[dict[str, str]] = {
        fault: _NO_BASELINE
        for fault in (
            "reset_before",
            "reset_after",
            "read_timeout",
            "hang",
            "storm_5xx",
            "lost_answer_502",
            "malformed",
            "html",
            "truncated",
            "empty",
            "oversized",
            "gzip_bomb",
        )
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
