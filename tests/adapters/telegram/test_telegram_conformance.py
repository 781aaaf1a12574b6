"""The respx-backed conformance suites for Telegram; every request and fixture is checked
against ``../shared/specs/telegram/api.json`` (telegram_fixtures.TelegramFixtures).

ReadSuite is not subclassed: ``posts()`` reads the adapter's record of what it sent (the Bot
API has no method to read a chat), so there are no network pages to mock; see
test_telegram_adapter.py::test_posts_resume."""

from __future__ import annotations

import httpx
import pytest
import respx
from telegram_fixtures import (
    BOT,
    CHANNEL,
    CHANNEL_ID,
    FAN,
    GROUP,
    TelegramFixtures,
    error,
    message,
    ok,
    url,
)

from socialkit import Media, Post
from socialkit.adapters.telegram import LIKE_EMOJI, TelegramAdapter
from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class TelegramSuiteFixtures(TelegramFixtures):
    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.post(url("getMe"))

    def probe_ok(self) -> httpx.Response:
        return ok(BOT)

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        default = {
            400: "Bad Request: chat not found",
            401: "Unauthorized",
            403: "Forbidden: bot was kicked from the channel chat",
            404: "Not Found",
            422: "Unprocessable Entity",
            429: "Too Many Requests: retry after 5",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        return error(status, message or default.get(status, "Error"))

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        router.post(url("sendMessage")).mock(return_value=ok(message(10, text)))
        return f"{CHANNEL_ID}:10"

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        photo = [{"file_id": "AgACAgQ", "file_unique_id": "AQADx", "width": 1, "height": 1}]
        router.post(url("sendPhoto")).mock(
            return_value=ok(message(11, None, photo=photo, caption=text))
        )
        return f"{CHANNEL_ID}:11"

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        answers = [
            ok(
                message(
                    20 + i, t, **({"reply_to_message": message(19 + i, texts[i - 1])} if i else {})
                )
            )
            for i, t in enumerate(texts)
        ]
        router.post(url("sendMessage")).mock(side_effect=answers)
        return [f"{CHANNEL_ID}:{20 + i}" for i in range(len(texts))]

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        router.post(url("sendMessage")).mock(
            return_value=ok(message(30, text, reply_to_message=message(1, "parent")))
        )
        return f"{CHANNEL_ID}:30"

    def parent_id(self) -> str:
        return f"{CHANNEL_ID}:1"

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        updates = [
            {
                "update_id": 500,
                "message_reaction_count": {
                    "chat": CHANNEL,
                    "message_id": 7,
                    "date": 1765000100,
                    "reactions": [
                        {
                            "type": {"type": "emoji", "emoji": LIKE_EMOJI},
                            "total_count": 4,
                        },
                        {"type": {"type": "emoji", "emoji": "\N{FIRE}"}, "total_count": 2},
                    ],
                },
            }
        ]
        router.post(url("getMe")).mock(return_value=ok(BOT))
        router.post(url("getUpdates")).mock(side_effect=[ok(updates), ok([])])
        return [f"{CHANNEL_ID}:7", f"{CHANNEL_ID}:8"], {
            f"{CHANNEL_ID}:7": {"likes": 6, "replies": 0},
            f"{CHANNEL_ID}:8": {"likes": 0, "replies": 0},
        }

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        forward = {
            "message_id": 3,
            "date": 1765000000,
            "chat": GROUP,
            "sender_chat": CHANNEL,
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "date": 1765000000,
                "chat": CHANNEL,
                "message_id": 7,
            },
            "text": "our post",
        }
        private = {"id": 42, "type": "private", "first_name": "Fan", "username": "fan42"}
        updates = [
            {
                "update_id": 100,
                "message": {
                    "message_id": 4,
                    "date": 1765000200,
                    "chat": GROUP,
                    "from": FAN,
                    "text": "great post",
                    "reply_to_message": forward,
                },
            },
            {
                "update_id": 101,
                "message": {
                    "message_id": 5,
                    "date": 1765000300,
                    "chat": GROUP,
                    "from": FAN,
                    "text": "@news_bot what's new?",
                    "entities": [{"type": "mention", "offset": 0, "length": 9}],
                },
            },
            {
                "update_id": 102,
                "message": {
                    "message_id": 9,
                    "date": 1765000400,
                    "chat": private,
                    "from": FAN,
                    "text": "hello bot",
                },
            },
        ]
        router.post(url("getMe")).mock(return_value=ok(BOT))
        router.post(url("getUpdates")).mock(side_effect=[ok(updates), ok([])])
        return [
            ("42:9", "direct"),
            (f"{GROUP['id']}:5", "mention"),
            (f"{GROUP['id']}:4", "comment"),
        ]


class TestTelegramErrors(TelegramSuiteFixtures, c.ErrorSuite):
    pass


class TestTelegramPublishing(TelegramSuiteFixtures, c.PublishSuite):
    @pytest.mark.anyio
    async def test_publish_image(self, adapter: TelegramAdapter, router: respx.MockRouter) -> None:
        """The Bot API has no alt text (``sendPhoto`` has none in api.json): the image goes as
        a multipart part with the caption, and the alt text is kept in the adapter's record,
        so that ``get_post`` gives it back."""
        post = Post(
            text="A picture", media=[Media.from_bytes(c.PNG_1X1, alt="One transparent pixel")]
        )
        expected = self.mock_publish_image(router, "A picture", "One transparent pixel")
        posted = await adapter.publish(post)
        assert posted.id == expected
        request = router.calls.last.request
        assert b"A picture" in request.content
        assert c.PNG_1X1 in request.content
        assert b"One transparent pixel" not in request.content
        again = await adapter.get_post(expected)
        assert [m.alt for m in again.media] == ["One transparent pixel"]


class TestTelegramPreflight(TelegramSuiteFixtures, c.PreflightSuite):
    pass


class TestTelegramMetrics(TelegramSuiteFixtures, c.MetricsSuite):
    pass


class TestTelegramMessages(TelegramSuiteFixtures, c.MessagesSuite):
    pass
