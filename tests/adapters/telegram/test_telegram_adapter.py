"""Telegram specifics: settings, UTF-16 entities, media and albums, ids checked before any
request, updates across restarts, webhooks, 429 ``retry_after``, per-chat pacing, the bot
token kept out of logs and errors, reconciliation of a lost send. Fake-backed tests validate
all traffic against ``../shared/specs/telegram/api.json``; respx fixtures follow its types
(telegram_fixtures)."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from telegram_fixtures import (
    BOT,
    CHANNEL,
    CHANNEL_ID,
    SECRET,
    TOKEN,
    error,
    make_telegram,
    message,
    ok,
    sent,
    url,
)
from tests._validation.telegram import telegram_checker
from tests.fakes.telegram_support import Traffic

from socialkit import Media, Poll, Post
from socialkit._errors import (
    AuthError,
    ConfigurationError,
    InvalidPostError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    TransportError,
    ValidationError,
)
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.telegram import (
    LIKE_EMOJI,
    SECRET_HEADER,
    TelegramAdapter,
    TextEntity,
    verify_secret,
)
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTelegram

pytestmark = [pytest.mark.anyio, pytest.mark.spec]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def traffic(fake: FakeTelegram) -> AsyncIterator[Traffic]:
    recorded = Traffic()
    yield recorded
    if recorded.exchanges:
        recorded.verify()


def connect(fake: FakeTelegram, traffic: Traffic, **overrides: Any) -> TelegramAdapter:
    client = fake.client()
    traffic.attach(client)
    adapter = fake.connect(http=client, retry_wait=False, **overrides)
    assert isinstance(adapter, TelegramAdapter)
    return adapter


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_mocked=True, assert_all_called=False)


@pytest.fixture
async def tg(router: respx.MockRouter) -> AsyncIterator[TelegramAdapter]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    adapter = make_telegram(client)
    yield adapter
    await adapter.aclose()
    await client.aclose()
    for call in router.calls:
        telegram_checker().check_request(call.request)


# -- settings ------------------------------------------------------------------------------


def test_no_token_fails_at_connect_with_the_fix() -> None:
    with pytest.raises(ConfigurationError) as info:
        build_settings(TelegramAdapter, {"chat": "@news"})
    assert "bot_token" in str(info.value)
    assert "socialkit auth login telegram" in str(info.value)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"bot_token": "not-a-token"}, "not a Telegram bot token"),
        ({"bot_token": TOKEN, "chat": "news"}, "chat"),
        ({"bot_token": TOKEN, "updates": "webhook"}, "webhook_secret"),
        ({"bot_token": TOKEN, "webhook_secret": "no spaces allowed"}, "webhook_secret"),
    ],
)
def test_bad_settings_are_refused(values: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_settings(TelegramAdapter, values)
    assert words in str(info.value)
    assert TOKEN not in str(info.value)


def test_token_is_not_in_reprs() -> None:
    settings = build_settings(TelegramAdapter, {"bot_token": TOKEN})
    adapter = TelegramAdapter(settings)
    assert SECRET not in repr(settings)
    assert SECRET not in repr(adapter)


# -- entities --------------------------------------------------------------------------------


async def test_entity_offsets_count_utf16_over_emoji_and_cjk(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    # "👩‍💻" is 3 code points and 5 UTF-16 units; "漢字" 2 units; "😀" 2 units.
    text = "👩‍💻 漢字 😀 bold and a link"
    bold = text.index("bold")
    link = text.index("link")
    async with connect(fake, traffic) as tg:
        posted = await tg.ex_publish(
            text,
            entities=[
                TextEntity("bold", bold, bold + 4),
                TextEntity("text_link", link, link + 4, url="https://example.com/x"),
            ],
        )
    request = next(rq for rq, _ in traffic.exchanges if rq.url.path.endswith("/sendMessage"))
    entities = json.loads(request.content)["entities"]
    assert entities == [
        {"type": "bold", "offset": 12, "length": 4},
        {"type": "text_link", "offset": 23, "length": 4, "url": "https://example.com/x"},
    ]
    # The same span back from Telegram's units, and the link read back.
    assert text.encode("utf-16-le")[24:32].decode("utf-16-le") == "bold"
    assert posted.link == "https://example.com/x"


async def test_detected_url_after_emoji_and_cjk_reads_back(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    text = "🎉🎉 新しい記事: https://example.com/記事?id=1 #news"
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text=text))
        assert posted.id is not None
        again = await tg.get_post(posted.id)
    assert again.text == text
    assert again.link == "https://example.com/記事?id=1"


@pytest.mark.parametrize(
    "entity",
    [TextEntity("bold", 3, 2), TextEntity("bold", 0, 99), TextEntity("text_link", 0, 1)],
)
async def test_bad_entities_are_refused_before_sending(
    entity: TextEntity, tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    with pytest.raises(ValidationError):
        await tg.ex_publish("short", entities=[entity])
    assert not router.calls


# -- publishing --------------------------------------------------------------------------------


async def test_media_kinds_and_album(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic, silent=True) as tg:
        gif = await tg.publish(Post(text="gif", media=[Media.from_bytes(c.GIF_1X1, alt="g")]))
        audio = await tg.publish(Post(text="song", media=[Media.from_bytes(c.MP3_HEAD, alt="a")]))
        album = await tg.publish(
            Post(
                text="two",
                media=[
                    Media.from_bytes(c.PNG_1X1, alt="first"),
                    Media.from_bytes(c.MP4_HEAD, alt="second"),
                ],
            )
        )
        assert album.id is not None
        again = await tg.get_post(album.id)
        await tg.delete(album.id)
    assert [m.kind for m in gif.media] == ["gif"]
    assert [m.kind for m in audio.media] == ["audio"]
    assert [(m.kind, m.alt) for m in again.media] == [("image", "first"), ("video", "second")]
    assert all(m.id for m in again.media), "file ids read back, to send the media again"
    assert again.text == "two"
    methods = traffic.methods()
    assert methods[:3] == ["sendAnimation", "sendAudio", "sendMediaGroup"]
    assert "deleteMessages" in methods
    for request, _ in traffic.exchanges:
        if "/send" in request.url.path:
            assert b"disable_notification" in request.content
    assert [m.get("caption") for m in fake.chat_messages()] == ["gif", "song"], "album gone"


async def test_document(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic) as tg:
        posted = await tg.ex_send_document(
            b"%PDF-1.4 a report",
            filename="report.pdf",
            mime_type="application/pdf",
            caption="the monthly report",
        )
        assert posted.id is not None
        again = await tg.get_post(posted.id)
        with pytest.raises(ValidationError):
            await tg.ex_send_document(b"")
    [sent_message] = fake.chat_messages()
    assert sent_message["document"]["file_name"] == "report.pdf"
    assert sent_message["document"]["mime_type"] == "application/pdf"
    assert again.text == "the monthly report"
    assert traffic.methods() == ["sendDocument"]


async def test_a_document_over_50_mb_is_refused_before_it_is_read(
    fake: FakeTelegram, traffic: Traffic, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sendDocument: "Bots can currently send files of any type of up to 50 MB in size"
    # (api.json). A file's size is known without reading it: a larger one is not read.
    big = tmp_path / "big.png"
    with big.open("wb") as f:
        f.write(c.PNG_1X1)
        f.truncate(50 * 1024 * 1024 + 1)  # sparse: the rest is not written to disk
    document = Media.from_path(big)

    def unread(self: Media) -> bytes:
        raise AssertionError("the document was read")

    monkeypatch.setattr(Media, "read", unread)
    async with connect(fake, traffic) as tg:
        with pytest.raises(ValidationError, match="50 MB"):
            await tg.ex_send_document(document)
    assert traffic.methods() == []


@pytest.mark.parametrize(
    ("media", "code"),
    [
        ([c.GIF_1X1, c.PNG_1X1], "gif_in_album"),
        ([c.MP3_HEAD, c.PNG_1X1], "audio_mixed"),
    ],
)
async def test_album_rules_are_checked_offline(
    media: list[bytes], code: str, tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    post = Post(text="x", media=[Media.from_bytes(m) for m in media])
    assert code in [p.code for p in tg.check(post)]
    with pytest.raises(InvalidPostError):
        await tg.publish(post)
    assert not router.calls


async def test_caption_limit_is_1024_utf16_units(tg: TelegramAdapter) -> None:
    image = [Media.from_bytes(c.PNG_1X1)]
    assert tg.check(Post(text="😀" * 512, media=image)) == []
    problems = tg.check(Post(text="😀" * 513, media=image))
    assert [p.code for p in problems] == ["caption_too_long"]
    assert problems[0].actual == 1026


def _png(width: int, height: int) -> bytes:
    """PNG_1X1 with the IHDR's width and height changed (all that is read of it)."""
    head = bytearray(c.PNG_1X1)
    head[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return bytes(head)


@pytest.mark.parametrize(("width", "height"), [(9000, 1001), (4200, 200)])
async def test_photo_dimensions_are_checked_before_the_upload(
    width: int, height: int, fake: FakeTelegram, traffic: Traffic
) -> None:
    # sendPhoto (api.json): "The photo's width and height must not exceed 10000 in total.
    # Width and height ratio must be at most 20." Telegram refuses it once uploaded.
    photo = Media.from_bytes(_png(width, height))
    assert (photo.width, photo.height) == (width, height)
    async with connect(fake, traffic) as tg:
        assert [p.code for p in tg.check(Post(text="x", media=[photo]))] == ["photo_dimensions"]
        with pytest.raises(InvalidPostError):
            await tg.publish(Post(text="x", media=[photo]))
        assert tg.check(Post(text="x", media=[Media.from_bytes(_png(8000, 2000))])) == []
    assert fake.chat_messages() == []


async def test_thread_is_a_chain_of_replies(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text="1/2", thread=[Post(text="2/2")]))
    messages = fake.chat_messages()
    assert [m["text"] for m in messages] == ["1/2", "2/2"]
    assert messages[1]["reply_to_message"]["message_id"] == messages[0]["message_id"]
    assert posted.thread[0].reply_to == posted.id


async def test_reply_to_a_group_message_goes_to_that_chat(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    fan = fake.add_user("fan0")
    asked = fake.mention(fan, "when is the next post?")
    async with connect(fake, traffic) as tg:
        [question] = [m async for m in tg.messages(kinds={"mention"})]
        answer = await tg.reply(question, "tomorrow")
    assert question.id == asked
    group = fake.chat_messages("group")
    assert group[-1]["text"] == "tomorrow"
    assert group[-1]["reply_to_message"]["message_id"] == int(asked.split(":")[1])
    assert answer.reply_to == asked


async def test_edit_text_and_caption(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic) as tg:
        text = await tg.publish(Post(text="draft"))
        image = await tg.publish(Post(text="old", media=[Media.from_bytes(c.PNG_1X1)]))
        assert text.id
        assert image.id
        edited = await tg.edit(text.id, Post(text="final"))
        captioned = await tg.edit(image.id, Post(text="new caption"))
        assert (await tg.get_post(image.id)).text == "new caption"
    assert edited.text == "final"
    assert captioned.text == "new caption"
    assert traffic.methods()[-2:] == ["editMessageText", "editMessageCaption"]


# -- ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1/../../getMe", "", "abc", "@x:1", "12:1:2", "-100:abc"])
async def test_bad_ids_are_refused_before_any_request(
    bad: str, tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    for call in (tg.like, tg.unlike, tg.delete, tg.get_post):
        with pytest.raises(ValidationError):
            await call(bad)
    with pytest.raises((ValidationError, InvalidPostError)):
        await tg.publish(Post(text="x", reply_to=bad))
    assert not router.calls


async def test_unknown_post_is_not_found_without_a_request(
    tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    with pytest.raises(NotFoundError, match="cannot read messages"):
        await tg.get_post(f"{CHANNEL_ID}:99")
    assert not router.calls


async def test_like_is_a_reaction_and_idempotent(fake: FakeTelegram, traffic: Traffic) -> None:
    post = fake.publish_as(fake.add_user("fan0"), "hello")
    async with connect(fake, traffic) as tg:
        await tg.like(post)
        await tg.like(post)
        assert fake.has("like", fake.bot.id, post)
        await tg.unlike(post)
        await tg.unlike(post)
    assert not fake.has("like", fake.bot.id, post)
    body = json.loads(traffic.exchanges[0][0].content)
    assert body["reaction"] == [{"type": "emoji", "emoji": LIKE_EMOJI}]


# -- updates -------------------------------------------------------------------------------


async def test_updates_are_neither_lost_nor_repeated_across_restarts(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    store = MemoryStore()
    fan = fake.add_user("fan0")
    for index in range(3):
        fake.direct(fan, f"message {index}")
    async with connect(fake, traffic, store=store) as first:
        got = [m.text async for m in first.messages()]
    assert got == ["message 2", "message 1", "message 0"]
    fake.direct(fan, "message 3")
    async with connect(fake, traffic, store=store) as second:  # a restart: the same store
        new = await second.ex_poll()
        everything = [m.text async for m in second.messages()]
    assert [m.text for m in new] == ["message 3"]
    assert everything == ["message 3", "message 2", "message 1", "message 0"]
    assert fake.updates == [], "the offset confirmed every update at Telegram"
    offsets = [
        json.loads(rq.content).get("offset")
        for rq, _ in traffic.exchanges
        if rq.url.path.endswith("/getUpdates")
    ]
    assert offsets[0] is None
    assert all(isinstance(o, int) for o in offsets[1:])


async def test_messages_resume_with_a_cursor(fake: FakeTelegram, traffic: Traffic) -> None:
    fan = fake.add_user("fan0")
    for index in range(5):
        fake.clock.advance(minutes=1)
        fake.direct(fan, f"m{index}")
    async with connect(fake, traffic) as tg:
        first = tg.messages(limit=2)
        got = [m.text async for m in first]
        fake.direct(fan, "newer")
        rest = [m.text async for m in tg.messages(cursor=first.cursor)]
    assert got == ["m4", "m3"]
    assert rest == ["m2", "m1", "m0"]


async def test_posts_resume(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic) as tg:
        ids = [(await tg.publish(Post(text=f"p{i}"))).id for i in range(5)]
        first = tg.posts(limit=2)
        got = [p.id async for p in first]
        await tg.publish(Post(text="newer"))
        rest = [p.id async for p in tg.posts(cursor=first.cursor)]
    assert got + rest == ids[::-1]


async def test_long_polling_waits_for_an_update(fake: FakeTelegram, traffic: Traffic) -> None:
    import anyio

    fan = fake.add_user("fan0")
    async with connect(fake, traffic) as tg:

        async def later() -> None:
            await anyio.sleep(0.2)
            fake.direct(fan, "arrived while polling")

        async with anyio.create_task_group() as group:
            group.start_soon(later)
            got = await tg.ex_poll(timeout=5)
    assert [m.text for m in got] == ["arrived while polling"]


async def test_webhook_checks_the_secret_and_accepts_each_update_once(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    fan = fake.add_user("fan0")
    async with connect(fake, traffic, updates="webhook", webhook_secret="s3cret_token") as tg:
        await tg.ex_set_webhook("https://bot.example/hook")
        fake.direct(fan, "via the webhook")
        [(headers, body)] = fake.deliveries
        assert headers[SECRET_HEADER] == "s3cret_token"
        with pytest.raises(AuthError):
            await tg.ex_handle_webhook({SECRET_HEADER: "wrong"}, body)
        with pytest.raises(AuthError):
            await tg.ex_handle_webhook({}, body)
        got = await tg.ex_handle_webhook(headers, body)
        again = await tg.ex_handle_webhook(headers, body)  # Telegram repeats a delivery
        listed = [m.text async for m in tg.messages()]
        with pytest.raises(ConfigurationError, match="webhook"):
            await tg.ex_poll()
    assert [m.text for m in got] == ["via the webhook"]
    assert again == []
    assert listed == ["via the webhook"]
    assert "getUpdates" not in traffic.methods()


async def test_deleting_one_message_and_the_webhook(fake: FakeTelegram, traffic: Traffic) -> None:
    # deleteMessage (a post of one message) and deleteWebhook are sent by this test only; the
    # traffic fixture checks them against api.json.
    async with connect(fake, traffic, updates="webhook", webhook_secret="s3cret_token") as tg:
        posted = await tg.publish(Post(text="short-lived"))
        assert posted.id is not None
        await tg.delete(posted.id)
        await tg.ex_set_webhook("https://bot.example/hook")
        await tg.ex_delete_webhook(drop_pending_updates=True)
    fake.direct(fake.add_user("fan0"), "polled again")
    async with connect(fake, traffic) as polling:  # getUpdates works again
        got = await polling.ex_poll()
    assert fake.chat_messages() == []
    assert [m.text for m in got] == ["polled again"]
    assert traffic.methods()[1:4] == ["deleteMessage", "setWebhook", "deleteWebhook"]


def test_verify_secret_is_case_insensitive_on_the_header_name() -> None:
    assert verify_secret({SECRET_HEADER.lower(): "abc"}, "abc")
    assert not verify_secret({SECRET_HEADER: "abd"}, "abc")
    with pytest.raises(ValidationError):
        verify_secret({SECRET_HEADER: "x"}, "")


async def test_getupdates_while_a_webhook_is_set_is_a_conflict(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    fake.webhook = {"url": "https://elsewhere.example/hook", "secret_token": None}
    async with connect(fake, traffic) as tg:
        with pytest.raises(InvalidRequestError) as info:
            await tg.ex_poll()
    assert info.value.status == 409
    assert "webhook is active" in str(info.value)


# -- limits ---------------------------------------------------------------------------------


async def test_429_retry_after_from_the_body(tg: TelegramAdapter, router: respx.MockRouter) -> None:
    route = router.post(url("sendMessage"))
    route.side_effect = [
        error(429, "Too Many Requests: retry after 7", retry_after=7),
        ok(message(5, "hi")),
    ]
    posted = await tg.publish(Post(text="hi"))
    assert posted.id == f"{CHANNEL_ID}:5"
    assert route.call_count == 2, "a 429 is a refusal: the send goes again"


async def test_429_raises_with_retry_after_when_asked_to(router: respx.MockRouter) -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    tg = make_telegram(client, rate_limit="raise")
    router.post(url("sendMessage")).mock(
        return_value=error(429, "Too Many Requests: retry after 7", retry_after=7)
    )
    with pytest.raises(RateLimitError) as info:
        await tg.publish(Post(text="hi"))
    assert info.value.retry_after == 7
    await tg.aclose()
    await client.aclose()


async def test_pacing_refuses_in_raise_mode(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic, rate_limit="raise") as tg:
        await tg.publish(Post(text="1"))
        with pytest.raises(RateLimitError) as info:
            # one message a second in a channel: the pipeline refuses before sending
            await tg.publish(Post(text="2"))
    assert info.value.local
    assert info.value.bucket == f"chat {fake.channel.id}"
    assert [m["text"] for m in fake.chat_messages()] == ["1"]


@pytest.mark.parametrize(("chat", "interval"), [(CHANNEL, 1.0), (dict(CHANNEL, type="group"), 3.0)])
async def test_pacing_per_chat(
    chat: dict[str, Any], interval: float, tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    router.post(url("sendMessage")).mock(return_value=ok(message(5, "hi", chat=chat)))
    await tg.publish(Post(text="hi"))
    state = tg._api().rate_limits[f"chat {CHANNEL_ID}"]
    assert state.remaining == 0
    assert state.reset is not None
    assert 0 < state.reset - state.updated <= interval + 0.01


# -- secrets ---------------------------------------------------------------------------------


async def test_the_bot_token_stays_out_of_logs_and_errors(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[Any] = []
    client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    tg = make_telegram(client)
    tg._api()._hooks = (events.append,)
    router.post(url("getMe")).mock(side_effect=httpx.ConnectError(f"refused {url('getMe')}"))
    router.post(url("sendMessage")).mock(side_effect=httpx.ReadTimeout(f"slow {url('x')}"))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("httpx").info("HTTP Request: POST %s", httpx.URL(url("getMe")))
        with pytest.raises(TransportError) as connect_error:
            await tg.me()
        with pytest.raises(OutcomeUnknownError) as unknown:
            await tg.publish(Post(text="hi"), idempotency_key="k1")
    await tg.aclose()
    await client.aclose()
    printed = "".join(
        "".join(traceback.format_exception(e.value)) for e in (connect_error, unknown)
    )
    texts = [caplog.text, printed, *(e.url for e in events)]
    assert events, "the pipeline reported its attempts"
    for text in texts:
        assert SECRET not in text
    assert "bot[REDACTED]" in caplog.text


# -- a lost answer ----------------------------------------------------------------------------


async def test_lost_answer_is_reconciled_by_probing_ids(
    tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    route = router.post(url("sendMessage"))
    route.side_effect = [ok(message(10, "first")), httpx.ReadTimeout("lost")]
    await tg.publish(Post(text="first"))
    with pytest.raises(OutcomeUnknownError) as info:
        await tg.publish(Post(text="second"), idempotency_key="app-key-1")
    assert info.value.idempotency_key == "app-key-1"
    not_modified = (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    probe = router.post(url("editMessageReplyMarkup"))
    probe.mock(return_value=error(400, not_modified))
    again = await tg.publish(Post(text="second"), idempotency_key="app-key-1")
    assert again.id == f"{CHANNEL_ID}:11"
    assert route.call_count == 2, "not sent a second time"
    assert sent(probe.calls.last.request) == {"chat_id": CHANNEL_ID, "message_id": 11}
    third = await tg.publish(Post(text="second"), idempotency_key="app-key-1")
    assert third.id == again.id
    assert probe.call_count == 1, "a settled key answers from its record"


async def test_lost_answer_that_never_arrived_is_sent_again(
    tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    route = router.post(url("sendMessage"))
    route.side_effect = [ok(message(10, "first")), httpx.ReadTimeout("lost"), ok(message(11, "x"))]
    await tg.publish(Post(text="first"))
    with pytest.raises(OutcomeUnknownError):
        await tg.publish(Post(text="x"), idempotency_key="k")
    router.post(url("editMessageReplyMarkup")).mock(
        return_value=error(400, "Bad Request: message to edit not found")
    )
    posted = await tg.publish(Post(text="x"), idempotency_key="k")
    assert posted.id == f"{CHANNEL_ID}:11"
    assert route.call_count == 3


async def test_first_send_into_a_chat_cannot_be_reconciled(
    tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    route = router.post(url("sendMessage"))
    route.side_effect = [httpx.ReadTimeout("lost")]
    with pytest.raises(OutcomeUnknownError):
        await tg.publish(Post(text="x"), idempotency_key="k")
    with pytest.raises(OutcomeUnknownError) as info:
        await tg.publish(Post(text="x"), idempotency_key="k")
    assert info.value.idempotency_key == "k"
    assert route.call_count == 1, "never a second copy"


# -- account and metrics -----------------------------------------------------------------------


async def test_account_metrics_and_metrics_on_the_fake(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        fake.follow(fan, fake.bot)
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text="react to this"))
        assert posted.id is not None
        for fan in fans[:2]:
            fake.like(posted.id, fan)
        fake.reply(posted.id, fans[2], "a comment")
        followers = await tg.account_metrics()
        metrics = await tg.metrics([posted.id])
        me = await tg.me()
    assert [(m.name, m.value) for m in followers] == [("followers", 4)]
    values = {m.name: m.value for m in metrics[posted.id]}
    assert values == {"likes": 2, "replies": 1}
    assert me.handle == fake.bot.handle
    assert BOT["is_bot"]


# -- polls ---------------------------------------------------------------------------------


async def test_poll_is_sent_with_sendpoll_and_reads_back(
    fake: FakeTelegram, traffic: Traffic
) -> None:
    poll = Poll(options=["tea", "coffee", "both"], duration=600, multiple=True)
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text="Which one?", poll=poll))
        assert posted.id is not None
        again = await tg.get_post(posted.id)
    request = next(rq for rq, _ in traffic.exchanges if rq.url.path.endswith("/sendPoll"))
    body = sent(request)
    assert body["question"] == "Which one?"
    assert body["options"] == [{"text": "tea"}, {"text": "coffee"}, {"text": "both"}]
    assert body["allows_multiple_answers"] is True
    assert body["open_period"] == 600
    for post in (posted, again):
        assert post.text == "Which one?"
        assert post.poll is not None
        assert post.poll.options == ["tea", "coffee", "both"]
        assert post.poll.duration == timedelta(seconds=600)
        assert post.poll.multiple is True
        assert post.poll.votes == [0, 0, 0]
        assert post.created_at is not None
        assert post.poll.expires_at == post.created_at + timedelta(seconds=600)
    assert "poll" in fake.chat_messages()[0]


async def test_poll_votes_arrive_as_updates(fake: FakeTelegram, traffic: Traffic) -> None:
    fans = [fake.add_user(f"voter{i}") for i in range(3)]
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text="Pick", poll=Poll(options=["a", "b"], duration=60)))
        assert posted.id is not None
        fake.vote(posted.id, fans[0], 0)
        fake.vote(posted.id, fans[1], 1)
        fake.vote(posted.id, fans[2], 1)
        metrics = await tg.metrics([posted.id])
        again = await tg.get_post(posted.id)
    values = {m.name: m.value for m in metrics[posted.id]}
    assert values["poll_votes"] == 3
    assert again.poll is not None
    assert again.poll.votes == [1, 2]


@pytest.mark.parametrize(
    ("post", "code"),
    [
        (Post(text="", poll=Poll(options=["a", "b"], duration=60)), "poll_question"),
        (Post(text="q" * 301, poll=Poll(options=["a", "b"], duration=60)), "poll_question"),
        (Post(text="q", poll=Poll(options=["a", " "], duration=60)), "poll_option_empty"),
        (Post(text="q", poll=Poll(options=["a", "b" * 101], duration=60)), "poll_option_too_long"),
        (
            Post(text="q", poll=Poll(options=[str(i) for i in range(13)], duration=60)),
            "too_many_poll_options",
        ),
        (Post(text="q", poll=Poll(options=["a", "b"], duration=4)), "poll_duration"),
        (Post(text="q", poll=Poll(options=["a", "b"], duration=2_628_001)), "poll_duration"),
        (
            Post(
                text="q",
                poll=Poll(options=["a", "b"], duration=60),
                media=[Media.from_bytes(c.PNG_1X1, alt="x")],
            ),
            "media_and_poll",
        ),
    ],
)
async def test_bad_polls_are_refused_before_any_request(
    tg: TelegramAdapter, router: respx.MockRouter, post: Post, code: str
) -> None:
    with pytest.raises(InvalidPostError) as caught:
        await tg.publish(post)
    assert code in [p.code for p in caught.value.problems]
    assert not router.calls


async def test_a_poll_cannot_be_edited(fake: FakeTelegram, traffic: Traffic) -> None:
    async with connect(fake, traffic) as tg:
        posted = await tg.publish(Post(text="q", poll=Poll(options=["a", "b"], duration=60)))
        assert posted.id is not None
        with pytest.raises(ValidationError, match="poll"):
            await tg.edit(posted.id, Post(text="new"))


async def test_a_poll_with_close_date_reads_back_its_duration(
    tg: TelegramAdapter, router: respx.MockRouter
) -> None:
    # Message.poll as https://core.telegram.org/bots/api#poll (close_date instead of
    # open_period), with the option votes a closed poll shows.
    poll = {
        "id": "5001",
        "question": "Best?",
        "options": [
            {"persistent_id": "0", "text": "x", "voter_count": 4},
            {"persistent_id": "1", "text": "y", "voter_count": 1},
        ],
        "total_voter_count": 5,
        "is_closed": True,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": True,
        "members_only": False,
        "close_date": 1_700_000_000 + 3600,
    }
    router.post(url("sendPoll")).mock(
        return_value=ok(message(9, None, date=1_700_000_000, poll=poll))
    )
    posted = await tg.publish(Post(text="Best?", poll=Poll(options=["x", "y"], duration=3600)))
    assert posted.poll is not None
    assert posted.poll.duration == timedelta(seconds=3600)
    assert posted.poll.votes == [4, 1]
    assert posted.text == "Best?"
