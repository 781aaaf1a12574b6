"""What the Telegram respx tests share: the adapter, Bot API bodies, and the check of every
exchange against the official description (``../shared/specs/telegram/api.json``; fixtures
follow its types: ``Message``, ``Chat``, ``User``, ``Update``, ``MessageReactionCountUpdated``,
and the error envelope of https://core.telegram.org/bots/api#making-requests)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx
import pytest
from tests._validation.telegram import telegram_checker

from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.telegram import TelegramAdapter
from socialkit.testing import conformance as c

BASE = "https://api.telegram.example"
TOKEN = "7654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
CHANNEL_ID = -1001234567890
CHANNEL = {"id": CHANNEL_ID, "type": "channel", "title": "News", "username": "news_channel"}
BOT = {"id": 7654321, "is_bot": True, "first_name": "News bot", "username": "news_bot"}
FAN = {"id": 42, "is_bot": False, "first_name": "Fan", "username": "fan42"}
GROUP = {"id": -1009876543210, "type": "supergroup", "title": "News chat"}


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "bot_token": TOKEN,
        "chat": str(CHANNEL_ID),
        "store": MemoryStore(),
        "retry_wait": False,
        **extra,
    }


def make_telegram(http: httpx.AsyncClient, **extra: Any) -> TelegramAdapter:
    return TelegramAdapter(build_settings(TelegramAdapter, settings(**extra)), http=http)


def url(method: str) -> str:
    return f"{BASE}/bot{TOKEN}/{method}"


def ok(result: Any) -> httpx.Response:
    return c.json_response(200, {"ok": True, "result": result})


def error(status: int, description: str, retry_after: int | None = None) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return c.json_response(status, body)


def message(message_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A ``Message`` the bot sent into the channel."""
    body: dict[str, Any] = {
        "message_id": message_id,
        "date": 1765000000 + message_id,
        "chat": CHANNEL,
        "sender_chat": CHANNEL,
        "from": BOT,
    }
    if text is not None:
        body["text"] = text
    body.update(extra)
    return body


def sent(request: httpx.Request) -> dict[str, Any]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


class TelegramFixtures(c.AdapterFixtures):
    base_url: ClassVar[str] = BASE
    pytestmark = pytest.mark.spec

    def make_adapter(self, http: httpx.AsyncClient) -> TelegramAdapter:
        return make_telegram(http)

    def secrets(self) -> list[str]:
        return [TOKEN, SECRET]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        api = telegram_checker()
        api.check_request(request)
        if response is None:
            return
        try:
            body = json.loads(response.content)
        except ValueError:
            # The suite's deliberately broken bodies ("{not json", an HTML 502): not Telegram's.
            return
        if body == {"unexpected": [1, 2, 3]}:
            return  # the suite's wrong-shape body, which the adapter must refuse
        api.check_response(request, response)
