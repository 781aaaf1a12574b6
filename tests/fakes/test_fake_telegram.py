"""FakeTelegram on its own: its answers (validated against ``../shared/specs/telegram/api.json``
by tests/fakes/telegram_support.py), its states and errors, and the api.json checker itself
(a checker that cannot fail would prove nothing)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests._validation.telegram import telegram_checker
from tests.fakes.telegram_support import Traffic

from socialkit.testing.conformance import PNG_1X1
from socialkit.testing.fakes import FakeTelegram

pytestmark = [pytest.mark.anyio, pytest.mark.spec]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Bot:
    """Calls the fake like any Bot API client would, every exchange recorded and checked."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.client = fake.client(base_url=fake.base_url)
        self.traffic = Traffic()
        self.traffic.attach(self.client)

    async def __call__(self, method: str, **params: Any) -> httpx.Response:
        return await self.client.post(f"/bot{self.fake.token}/{method}", json=params)

    async def result(self, method: str, **params: Any) -> Any:
        response = await self(method, **params)
        body = response.json()
        assert body["ok"], body
        return body["result"]

    async def aclose(self) -> None:
        await self.client.aclose()
        self.traffic.verify()


@pytest.fixture
async def bot() -> Any:
    fake = FakeTelegram()
    client = Bot(fake)
    yield client
    await client.aclose()


async def test_messages_are_numbered_per_chat(bot: Bot) -> None:
    channel = f"@{bot.fake.channel.username}"
    first = await bot.result("sendMessage", chat_id=channel, text="one")
    second = await bot.result("sendMessage", chat_id=channel, text="two")
    in_group = await bot.result("sendMessage", chat_id=bot.fake.group.id, text="three")
    assert (first["message_id"], second["message_id"], in_group["message_id"]) == (1, 2, 1)
    assert first["chat"]["id"] == bot.fake.channel.id


async def test_edit_answers_like_telegram(bot: Bot) -> None:
    channel = bot.fake.channel.id
    fan = bot.fake.add_user("fan0")
    others = bot.fake.publish_as(fan, "not the bot's")
    sent = await bot.result("sendMessage", chat_id=channel, text="one")
    cases = [
        (
            {"chat_id": channel, "message_id": sent["message_id"]},
            "message is not modified",
        ),
        ({"chat_id": channel, "message_id": 99}, "message to edit not found"),
        (
            {"chat_id": bot.fake.group.id, "message_id": int(others.split(":")[1])},
            "message can't be edited",
        ),
    ]
    for params, words in cases:
        response = await bot("editMessageReplyMarkup", **params)
        assert response.status_code == 400
        assert words in response.json()["description"]
    response = await bot("editMessageText", chat_id=channel, message_id=1, text="one")
    assert "not modified" in response.json()["description"]


async def test_chat_limit_is_a_429_with_retry_after() -> None:
    fake = FakeTelegram(chat_limit=1, chat_window=30)
    limited = Bot(fake)
    await limited.result("sendMessage", chat_id=fake.channel.id, text="one")
    response = await limited("sendMessage", chat_id=fake.channel.id, text="two")
    await limited.aclose()
    assert response.status_code == 429
    body = response.json()
    assert body["error_code"] == 429
    assert 1 <= body["parameters"]["retry_after"] <= 30
    assert body["description"].startswith("Too Many Requests: retry after")


async def test_get_updates_confirms_with_the_offset(bot: Bot) -> None:
    fan = bot.fake.add_user("fan0")
    bot.fake.direct(fan, "one")
    bot.fake.direct(fan, "two")
    first = await bot.result("getUpdates")
    again = await bot.result("getUpdates")
    assert [u["update_id"] for u in first] == [u["update_id"] for u in again] == [1, 2]
    after = await bot.result("getUpdates", offset=first[-1]["update_id"] + 1)
    assert after == []
    assert bot.fake.updates == []


async def test_webhook_collects_deliveries_and_refuses_get_updates(bot: Bot) -> None:
    await bot.result("setWebhook", url="https://bot.example/hook", secret_token="abc_123")
    bot.fake.direct(bot.fake.add_user("fan0"), "hello")
    [(headers, body)] = bot.fake.deliveries
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "abc_123"
    assert json.loads(body)["message"]["text"] == "hello"
    response = await bot("getUpdates")
    assert response.status_code == 409
    refused = await bot("setWebhook", url="http://insecure.example/hook")
    assert refused.status_code == 400


async def test_uploads_give_file_ids_that_can_be_sent_again(bot: Bot) -> None:
    fake = bot.fake
    response = await bot.client.post(
        f"/bot{fake.token}/sendPhoto",
        data={"chat_id": str(fake.channel.id), "caption": "pixel"},
        files={"photo": ("p.png", PNG_1X1, "image/png")},
    )
    photo = response.json()["result"]["photo"][-1]
    again = await bot.result("sendPhoto", chat_id=fake.channel.id, photo=photo["file_id"])
    assert again["photo"][-1]["file_id"] == photo["file_id"]
    unknown = await bot("sendPhoto", chat_id=fake.channel.id, photo="no-such-file")
    assert unknown.status_code == 400


async def test_album_rules(bot: Bot) -> None:
    fake = bot.fake
    single = await bot(
        "sendMediaGroup",
        chat_id=fake.channel.id,
        media=[{"type": "photo", "media": "https://example.com/a.png"}],
    )
    assert single.status_code == 400
    mixed = await bot(
        "sendMediaGroup",
        chat_id=fake.channel.id,
        media=[
            {"type": "audio", "media": "https://example.com/a.mp3"},
            {"type": "photo", "media": "https://example.com/a.png"},
        ],
    )
    assert mixed.status_code == 400
    album = await bot.result(
        "sendMediaGroup",
        chat_id=fake.channel.id,
        media=[
            {"type": "photo", "media": "https://example.com/a.png", "caption": "both"},
            {"type": "video", "media": "https://example.com/a.mp4"},
        ],
    )
    assert len({m["media_group_id"] for m in album}) == 1


async def test_wrong_token_is_401(bot: Bot) -> None:
    response = await bot.client.post("/bot1:wrongwrongwrongwrongwrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def _request(method: str, body: Any) -> httpx.Request:
    return httpx.Request(
        "POST", f"https://api.telegram.org/bot1:abcdefghijklmnopqrstuvwxyz/{method}", json=body
    )


@pytest.mark.parametrize(
    ("method", "body", "words"),
    [
        ("sendMesage", {"chat_id": 1, "text": "x"}, "not a Bot API method"),
        ("sendMessage", {"chat_id": 1}, "required parameter 'text'"),
        ("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}, "unknown parameter"),
        ("sendMessage", {"chat_id": 1.5, "text": "x"}, "chat_id"),
        ("sendMessage", {"chat_id": 1, "text": "x", "entities": [{"type": "bold"}]}, "offset"),
        (
            "setMessageReaction",
            {"chat_id": 1, "message_id": 1, "reaction": [{"type": "emoji"}]},
            "emoji",
        ),
    ],
)
def test_the_checker_finds_bad_requests(method: str, body: Any, words: str) -> None:
    problems = telegram_checker().request_violations(_request(method, body))
    assert problems
    assert any(words in p for p in problems), problems


def test_the_checker_finds_bad_answers() -> None:
    request = _request("sendMessage", {"chat_id": 1, "text": "x"})
    api = telegram_checker()
    good = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "x"}
    assert (
        api.response_violations(request, httpx.Response(200, json={"ok": True, "result": good}))
        == []
    )
    bad = dict(good, chat={"id": "1"})
    assert api.response_violations(request, httpx.Response(200, json={"ok": True, "result": bad}))
    extra = dict(good, colour="red")
    assert api.response_violations(request, httpx.Response(200, json={"ok": True, "result": extra}))
    wrong = httpx.Response(400, json={"ok": False, "error_code": 404, "description": "x"})
    assert api.response_violations(request, wrong)


async def test_sendpoll_checks_its_limits_and_votes_arrive_as_updates(bot: Bot) -> None:
    channel = f"@{bot.fake.channel.username}"
    two = [{"text": "a"}, {"text": "b"}]
    too_many = await bot("sendPoll", chat_id=channel, question="q", options=two * 7)
    assert too_many.status_code == 400
    both = await bot(
        "sendPoll", chat_id=channel, question="q", options=two, open_period=60, close_date=2**31
    )
    assert both.status_code == 400
    short = await bot("sendPoll", chat_id=channel, question="q", options=two, open_period=4)
    assert short.status_code == 400
    sent = await bot.result("sendPoll", chat_id=channel, question="q", options=two, open_period=60)
    assert sent["poll"]["question"] == "q"
    assert [o["voter_count"] for o in sent["poll"]["options"]] == [0, 0]
    assert sent["poll"]["open_period"] == 60
    voter = bot.fake.add_user("voter")
    bot.fake.vote(f"{sent['chat']['id']}:{sent['message_id']}", voter, 1)
    with pytest.raises(ValueError, match="multiple"):
        bot.fake.vote(f"{sent['chat']['id']}:{sent['message_id']}", voter, 0, 1)
    updates = await bot.result("getUpdates")
    assert updates[-1]["poll"]["id"] == sent["poll"]["id"]
    assert [o["voter_count"] for o in updates[-1]["poll"]["options"]] == [0, 1]
    assert updates[-1]["poll"]["total_voter_count"] == 1
