"""``FakeTelegram``: a stateful, in-process Telegram Bot API for tests and the demo.

It serves the methods :class:`socialkit.adapters.telegram.TelegramAdapter` calls at
``/bot<token>/<method>`` (JSON, form or multipart parameters), with the shapes of the official
description (``api.json``: Bot API 10.1, https://core.telegram.org/bots/api)::

    from socialkit import Post
    from socialkit.testing.fakes import FakeTelegram

    fake = FakeTelegram()
    async with fake.connect() as tg:             # the real TelegramAdapter, as the bot
        posted = await tg.publish(Post(text="hello"))
    fan = fake.add_user("fan")
    fake.like(posted.id, fan)                    # a message_reaction_count update
    fake.reply(posted.id, fan, "nice!")          # a message update (a reply in the group)
    fake.direct(fan, "hi")                       # a private message to the bot

What it imitates (see ``docs/fakes/telegram.md``): the bot (``getMe``), a channel
(``@owner_channel``) and a discussion supergroup (``@owner_group``) the bot administers, and
private chats; messages numbered in order per chat; text with entities (URLs, mentions and
hashtags detected when no entities are given; offsets in UTF-16 code units), photos, videos,
animations, audio and documents (multipart uploads, file ids, HTTP URLs), albums
(``sendMediaGroup``), replies, silent posts; ``editMessageText`` / ``Caption`` /
``ReplyMarkup`` with Telegram's "message is not modified", "message to edit not found" and
"message can't be edited"; ``deleteMessage(s)``; reactions (``setMessageReaction``); ``getChat``
and ``getChatMemberCount``; updates through ``getUpdates`` (offsets confirm, long polling
waits) or a webhook (``setWebhook`` with ``secret_token``; deliveries collected in
:attr:`FakeTelegram.deliveries`, and getUpdates refused with 409 meanwhile); per-chat limits
answered 429 with ``parameters.retry_after``; errors as ``{"ok": false, "error_code",
"description"}``.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialkit._store import MemoryStore
from socialkit.testing.fakes._base import (
    UNLIMITED,
    CreatedPost,
    FakeClock,
    FakeNetwork,
    FakeUser,
    RateLimiter,
)
from socialkit.text import url_spans, utf16_offsets

__all__ = ["FakeTelegram"]

_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MEDIA_FIELDS = {
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendAnimation": "animation",
    "sendAudio": "audio",
    "sendDocument": "document",
}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


#: The methods that publish a message (``created_post``).
_SENDS = frozenset(
    {
        "sendAnimation",
        "sendAudio",
        "sendDocument",
        "sendMediaGroup",
        "sendMessage",
        "sendPhoto",
        "sendPoll",
        "sendVideo",
    }
)


class _Error(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> _Error:
    return _Error(400, f"Bad Request: {description}")


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    members: set[str] = field(default_factory=set)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return max(1, width), max(1, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return max(1, width), max(1, height)
    return 1, 1


class FakeTelegram(FakeNetwork):
    """A fake Bot API. The owner is the bot; :attr:`channel` and :attr:`group` are its chats."""

    name: ClassVar[str] = "telegram"
    default_base_url: ClassVar[str] = "https://api.telegram.fake"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        chat_limit: int = 60,
        chat_window: float = 60.0,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.bot = self.owner
        secret = "".join(self.random.choice("ABCDEFGHabcdefgh0123456789_-") for _ in range(35))
        self.token = f"{self.bot.id}:{secret}"
        self.channel = _Chat(
            id=-1001000000001, type="channel", title="Owner's channel", username="owner_channel"
        )
        self.group = _Chat(
            id=-1001000000002, type="supergroup", title="Owner's group", username="owner_group"
        )
        self.chats: dict[int, _Chat] = {self.channel.id: self.channel, self.group.id: self.group}
        self.group.members.add(self.bot.id)
        self.channel.members.add(self.bot.id)
        self.updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_poll = 0
        self._arrived = threading.Condition(self._lock)
        self.webhook: dict[str, Any] | None = None
        #: Webhook deliveries (headers, body) made while a webhook is set, oldest first.
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.reactions: dict[tuple[int, int], dict[str, list[dict[str, Any]]]] = {}
        self.limiter = RateLimiter(chat_limit, chat_window)
        self._failures: list[tuple[str, _Error]] = []
        self.requests: list[str] = []
        self._app: Starlette | None = None

    # -- users, chats, settings -------------------------------------------------------------

    def full_handle(self, handle: str) -> str:
        return handle

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"chat_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``/bot{token}/sendMessage`` and the other ``send*`` methods: the Message (the first
        of ``sendMediaGroup``'s album), ``chat_id:message_id`` as the adapter names it."""
        parts = path.split("/")
        if len(parts) != 3 or not parts[1].startswith("bot") or parts[2] not in _SENDS:
            return None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            return None
        result = answer.get("result")
        message = result[0] if isinstance(result, list) and result else result
        if not isinstance(message, dict) or "message_id" not in message:
            return None
        text = message.get("text") or message.get("caption")
        if text is None and isinstance(message.get("poll"), dict):
            text = message["poll"].get("question")
        chat = message.get("chat") or {}
        return f"{chat.get('id')}:{message['message_id']}", text, "post"

    def settings(self) -> dict[str, Any]:
        """The bot's token, the channel as the chat to post to, and a fresh store."""
        return {
            "base_url": self.base_url,
            "bot_token": self.token,
            "chat": f"@{self.channel.username}",
            "store": MemoryStore(),
        }

    def _private(self, user: FakeUser) -> _Chat:
        chat_id = int(user.id)
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = _Chat(
                id=chat_id, type="private", first_name=user.name, username=user.handle
            )
        return chat

    def _chat(self, value: Any) -> _Chat:
        if isinstance(value, str) and value.startswith("@"):
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == value[1:].lower():
                    return chat
            raise _bad("chat not found")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        found = self.chats.get(chat_id)
        if found is None:
            user = self.users.get(str(chat_id))
            if user is None:
                raise _bad("chat not found")
            found = self._private(user)
        return found

    def _render_user(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": int(user.id),
            "is_bot": user is self.bot,
            "first_name": user.name,
            "username": user.handle,
        }

    def chat_messages(self, chat: str = "channel") -> list[dict[str, Any]]:
        """The messages of ``"channel"``, ``"group"`` or a chat id, in order."""
        found = {"channel": self.channel, "group": self.group}.get(chat) or self._chat(chat)
        return [found.messages[k] for k in sorted(found.messages)]

    def bot_posts(self) -> list[str]:
        """Ids (``chat:message``) of the bot's messages in the channel, oldest first."""
        return [
            f"{self.channel.id}:{m['message_id']}"
            for m in self.chat_messages("channel")
            if m.get("from", {}).get("id") == int(self.bot.id)
        ]

    def fail_next(
        self, method: str, status: int, description: str, *, retry_after: int | None = None
    ) -> None:
        """The next call of ``method`` is answered with this error (before doing anything)."""
        self._failures.append((method, _Error(status, description, retry_after)))

    # -- messages ---------------------------------------------------------------------------

    def _new_message(
        self,
        chat: _Chat,
        sender: FakeUser | None,
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            message_id = chat.next_id
            chat.next_id += 1
            message: dict[str, Any] = {
                "message_id": message_id,
                "date": int(self.clock.now().timestamp()),
                "chat": chat.render(),
            }
            if sender is not None:
                message["from"] = self._render_user(sender)
            if chat.type == "channel":
                message["sender_chat"] = chat.render()
            if reply_to is not None:
                parent = chat.messages.get(reply_to)
                if parent is None:
                    raise _bad("message to be replied not found")
                message["reply_to_message"] = {
                    k: v for k, v in parent.items() if k != "reply_to_message"
                }
            message.update(extra or {})
            if text is not None:
                key = "caption" if any(k in message for k in _MEDIA_KEYS) else "text"
                message[key] = text
                found = entities if entities is not None else _detect(text)
                if found:
                    message[f"{key}_entities" if key == "caption" else "entities"] = found
            chat.messages[message_id] = message
            return message

    def _queue(self, kind: str, payload: dict[str, Any]) -> None:
        with self._arrived:
            update = {"update_id": self._next_update, kind: payload}
            self._next_update += 1
            if self.webhook is not None:
                headers = {"content-type": "application/json"}
                if self.webhook.get("secret_token"):
                    headers[_SECRET_HEADER] = self.webhook["secret_token"]
                self.deliveries.append((headers, json.dumps(update).encode()))
            else:
                self.updates.append(update)
            self._arrived.notify_all()

    def _post(self, post_id: str) -> tuple[_Chat, dict[str, Any]]:
        chat_part, _, message_part = post_id.rpartition(":")
        chat = self._chat(chat_part) if chat_part else self.channel
        message = chat.messages.get(int(message_part))
        if message is None:
            raise KeyError(post_id)
        return chat, message

    # -- the audience -------------------------------------------------------------------------

    def publish_as(self, user: FakeUser, text: str) -> str:
        """``user`` writes in the group (the bot, in the channel); returns ``chat:message``."""
        if user is self.bot:
            message = self._new_message(self.channel, user, text=text)
            return f"{self.channel.id}:{message['message_id']}"
        self.group.members.add(user.id)
        message = self._new_message(self.group, user, text=text)
        self._queue("message", message)
        return f"{self.group.id}:{message['message_id']}"

    def vote(self, post_id: str, user: FakeUser, *options: int) -> None:
        """``user`` votes for ``options`` (0-based) in a poll the bot sent: the poll's new
        state arrives as an ``Update.poll`` (https://core.telegram.org/bots/api#update)."""
        _, message = self._post(post_id)
        poll = message.get("poll")
        if poll is None:
            raise KeyError(f"{post_id} is not a poll")
        if not options or (len(options) > 1 and not poll["allows_multiple_answers"]):
            raise ValueError("one option, or several in a multiple-answer poll")
        with self._lock:
            for index in options:
                poll["options"][index]["voter_count"] += 1
            poll["total_voter_count"] += 1
        self._queue("poll", json.loads(json.dumps(poll)))

    def like(self, post_id: str, user: FakeUser) -> None:
        """``user`` reacts 👍: a channel post's totals arrive as ``message_reaction_count``,
        a group message's change as ``message_reaction``."""
        self._react(post_id, user, [{"type": "emoji", "emoji": "\N{THUMBS UP SIGN}"}])

    def _react(self, post_id: str, user: FakeUser, reaction: list[dict[str, Any]]) -> None:
        chat, message = self._post(post_id)
        with self._lock:
            per_user = self.reactions.setdefault((chat.id, message["message_id"]), {})
            old = per_user.get(user.id, [])
            if reaction:
                per_user[user.id] = reaction
            else:
                per_user.pop(user.id, None)
            totals: dict[str, int] = {}
            for given in per_user.values():
                for item in given:
                    totals[item["emoji"]] = totals.get(item["emoji"], 0) + 1
        if user is self.bot:
            return
        now = int(self.clock.now().timestamp())
        if chat.type == "channel":
            self._queue(
                "message_reaction_count",
                {
                    "chat": chat.render(),
                    "message_id": message["message_id"],
                    "date": now,
                    "reactions": [
                        {"type": {"type": "emoji", "emoji": e}, "total_count": c}
                        for e, c in totals.items()
                    ],
                },
            )
        else:
            self._queue(
                "message_reaction",
                {
                    "chat": chat.render(),
                    "message_id": message["message_id"],
                    "user": self._render_user(user),
                    "date": now,
                    "old_reaction": old,
                    "new_reaction": reaction,
                },
            )

    def repost(self, post_id: str, user: FakeUser) -> None:
        """``user`` forwards the post into the group."""
        chat, message = self._post(post_id)
        self.group.members.add(user.id)
        origin = {
            "type": "channel",
            "date": message["date"],
            "chat": chat.render(),
            "message_id": message["message_id"],
        }
        forwarded = self._new_message(
            self.group, user, text=message.get("text"), extra={"forward_origin": origin}
        )
        self._queue("message", forwarded)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` replies to a post: in the group for a channel post (its discussion),
        else in the post's chat; returns the reply's id."""
        chat, message = self._post(post_id)
        if chat.type == "channel":
            # A channel's comments live in its discussion group, under the automatic forward.
            copy = self._new_message(
                self.group,
                None,
                text=message.get("text") or message.get("caption"),
                extra={
                    "sender_chat": chat.render(),
                    "is_automatic_forward": True,
                    "forward_origin": {
                        "type": "channel",
                        "date": message["date"],
                        "chat": chat.render(),
                        "message_id": message["message_id"],
                    },
                },
            )
            chat, message = self.group, copy
        self.group.members.add(user.id)
        answer = self._new_message(chat, user, text=text, reply_to=message["message_id"])
        self._queue("message", answer)
        return f"{chat.id}:{answer['message_id']}"

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """Telegram quotes part of a message in a reply: the same as :meth:`reply` here."""
        return self.reply(post_id, user, text)

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` writes in the group, mentioning the bot when ``text`` does not already."""
        handle = f"@{self.bot.handle}"
        if handle.lower() not in text.lower():
            text = f"{handle} {text}"
        return self.publish_as(user, text)

    def direct(self, user: FakeUser, text: str) -> str:
        chat = self._private(user)
        message = self._new_message(chat, user, text=text)
        self._queue("message", message)
        return f"{chat.id}:{message['message_id']}"

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        """``follower`` joins the channel of ``followee`` (only the bot's channel exists)."""
        if followee is not self.bot:
            raise NotImplementedError("FakeTelegram has one channel: the bot's")
        self.channel.members.add(follower.id)

    RELATIONS: ClassVar[frozenset[str]] = frozenset({"like", "follow"})

    def has(self, relation: str, subject: str, target: str) -> bool:
        """``like``: ``subject`` reacted 👍 to post ``target``; ``follow``: ``subject`` is a
        member of the channel (``target`` the bot's id)."""
        if relation == "like":
            try:
                chat, message = self._post(target)
            except KeyError:
                return False
            given = self.reactions.get((chat.id, message["message_id"]), {}).get(subject, [])
            return any(r.get("emoji") == "\N{THUMBS UP SIGN}" for r in given)
        if relation == "follow":
            return target == self.bot.id and subject in self.channel.members
        raise NotImplementedError(f"Telegram has no {relation} relation")

    # -- the app ------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"]),
                ]
            )
        return self._app

    async def _endpoint(self, request: Request) -> Response:
        token = request.path_params["token"]
        method = request.path_params["method"]
        if token != self.token:
            return _error(_Error(401, "Unauthorized"))
        self.requests.append(method)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(_Error(404, "Not Found: method not found"))
        try:
            for index, (name, failure) in enumerate(self._failures):
                if name == method:
                    del self._failures[index]
                    raise failure
            params, uploads = await _params(request)
            result = handler(params, uploads) if method != "getUpdates" else None
            if method == "getUpdates":
                result = await self._m_getUpdates(params)
        except _Error as exc:
            return _error(exc)
        return JSONResponse({"ok": True, "result": result})

    def _limit(self, chat: _Chat, count: int = 1) -> None:
        for _ in range(count):
            allowed, _, reset = self.limiter.hit(str(chat.id))
            if not allowed:
                wait = max(1, int(reset - time.time() + 0.999))
                raise _Error(429, f"Too Many Requests: retry after {wait}", wait)

    # -- methods ------------------------------------------------------------------------------

    def _m_getMe(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return {
            **self._render_user(self.bot),
            "can_join_groups": True,
            "can_read_all_group_messages": True,
            "supports_inline_queries": False,
        }

    def _m_getChat(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat = self._chat(_required(params, "chat_id"))
        return {
            **chat.render(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_getChatMemberCount(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat = self._chat(_required(params, "chat_id"))
        return len(chat.members)

    def _sending(self, params: dict[str, Any]) -> tuple[_Chat, int | None]:
        chat = self._chat(_required(params, "chat_id"))
        if chat.type != "private" and self.bot.id not in chat.members:
            raise _Error(403, "Forbidden: bot is not a member of the channel chat")
        reply = params.get("reply_parameters")
        reply_to = None
        if reply is not None:
            if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
                raise _bad("invalid reply parameters specified")
            if reply.get("chat_id") is not None and self._chat(reply["chat_id"]) is not chat:
                raise _bad("replies to other chats are not simulated")
            reply_to = reply["message_id"]
        return chat, reply_to

    def _m_sendMessage(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat, reply_to = self._sending(params)
        text = _required(params, "text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        if utf16_offsets(text)[-1] > 4096:
            raise _bad("message is too long")
        entities = _entities(text, params.get("entities"))
        self._limit(chat)
        return self._new_message(chat, self.bot, text=text, entities=entities, reply_to=reply_to)

    def _m_sendPoll(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        """``sendPoll`` (https://core.telegram.org/bots/api#sendpoll): a question of 1-300
        characters, 1-12 options of 1-100 characters, open_period 5-2628000 s or close_date,
        not both."""
        chat, reply_to = self._sending(params)
        question = _required(params, "question")
        if not isinstance(question, str) or not 1 <= len(question.strip()) <= 300:
            raise _bad("poll question length must be 1-300")
        options = _required(params, "options")
        if not isinstance(options, list) or not 1 <= len(options) <= 12:
            raise _bad("poll must have 1-12 options")
        texts = [o.get("text") if isinstance(o, dict) else None for o in options]
        if not all(isinstance(t, str) and 1 <= len(t.strip()) <= 100 for t in texts):
            raise _bad("poll options length must be 1-100")
        open_period, close_date = params.get("open_period"), params.get("close_date")
        if open_period is not None and close_date is not None:
            raise _bad("can't use open_period and close_date together")
        if open_period is not None and not (
            isinstance(open_period, int) and 5 <= open_period <= 2_628_000
        ):
            raise _bad("wrong poll open_period specified")
        self._limit(chat)
        with self._lock:
            self._next_poll += 1
            poll_id = str(5_000_000_000_000_000_000 + self._next_poll)
        poll: dict[str, Any] = {
            "id": poll_id,
            "question": question,
            "options": [
                {"persistent_id": str(i), "text": t, "voter_count": 0} for i, t in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": params.get("is_anonymous", True) is not False,
            "type": params.get("type", "regular"),
            "allows_multiple_answers": params.get("allows_multiple_answers") is True,
            "allows_revoting": True,
            "members_only": False,
        }
        if open_period is not None:
            poll["open_period"] = open_period
        if close_date is not None:
            poll["close_date"] = close_date
        return self._new_message(chat, self.bot, reply_to=reply_to, extra={"poll": poll})

    def _file(
        self, kind: str, value: Any, uploads: dict[str, UploadFile], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The stored file of a parameter: ``attach://name``, a known file id, or a URL."""
        data: bytes | None = None
        mime = None
        name = None
        upload: UploadFile | None = None
        if isinstance(value, UploadFile):
            upload = value
        elif isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise _bad(f"can't find attached file {value[9:]!r}")
        elif isinstance(value, str) and value in self.files:
            return dict(self.files[value])
        elif isinstance(value, str) and value.startswith(("https://", "http://")):
            name = value.rsplit("/", 1)[-1] or None
        else:
            raise _bad("wrong file identifier/HTTP URL specified")
        if upload is not None:
            data = upload.file.read()
            if not data:
                raise _bad("file must be non-empty")
            mime = upload.content_type
            name = upload.filename
        index = len(self.files) + 1
        file_id = f"AgAC{kind[:2].upper()}{index:06d}{self.random.randrange(10**8):08d}"
        entry: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": f"AQAD{index:06d}",
        }
        if data is not None:
            entry["file_size"] = len(data)
        if kind == "photo":
            width, height = _png_size(data or b"")
            # sendPhoto (../shared/specs/telegram/api.json): "The photo's width and height
            # must not exceed 10000 in total. Width and height ratio must be at most 20."
            if width + height > 10000 or max(width, height) > 20 * min(width, height):
                raise _bad("PHOTO_INVALID_DIMENSIONS")
            entry.update(width=width, height=height)
        elif kind in ("video", "animation"):
            width, height = _png_size(data or b"") if kind == "animation" else (1, 1)
            entry.update(
                width=int(params.get("width") or width),
                height=int(params.get("height") or height),
                duration=int(params.get("duration") or 0),
                mime_type=mime or "video/mp4",
            )
            if name:
                entry["file_name"] = name
        elif kind == "audio":
            entry.update(duration=int(params.get("duration") or 0), mime_type=mime or "audio/mpeg")
            if name:
                entry["file_name"] = name
        else:
            entry["mime_type"] = mime or "application/octet-stream"
            if name:
                entry["file_name"] = name
        self.files[file_id] = entry
        return dict(entry)

    def _media_message(
        self,
        chat: _Chat,
        kind: str,
        stored: dict[str, Any],
        params: Mapping[str, Any],
        reply_to: int | None,
        group_id: str | None = None,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if kind == "photo":
            extra["photo"] = [stored]
        else:
            extra[kind] = stored
        if group_id is not None:
            extra["media_group_id"] = group_id
        if params.get("has_spoiler"):
            extra["has_media_spoiler"] = True
        caption = params.get("caption")
        if caption is not None and not isinstance(caption, str):
            raise _bad("caption must be a string")
        if caption is not None and utf16_offsets(caption)[-1] > 1024:
            raise _bad("message caption is too long")
        entities = _entities(caption, params.get("caption_entities")) if caption else None
        return self._new_message(
            chat, self.bot, text=caption or None, entities=entities, reply_to=reply_to, extra=extra
        )

    def _send_media(
        self, method: str, params: dict[str, Any], uploads: dict[str, UploadFile]
    ) -> Any:
        chat, reply_to = self._sending(params)
        kind = _MEDIA_FIELDS[method]
        given = params.get(kind) if kind in params else uploads.get(kind)
        if given is None:
            raise _bad(f"there is no {kind} in the request")
        stored = self._file(kind, given, uploads, params)
        self._limit(chat)
        return self._media_message(chat, kind, stored, params, reply_to)

    def _m_sendPhoto(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return self._send_media("sendPhoto", params, uploads)

    def _m_sendVideo(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return self._send_media("sendVideo", params, uploads)

    def _m_sendAnimation(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return self._send_media("sendAnimation", params, uploads)

    def _m_sendAudio(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return self._send_media("sendAudio", params, uploads)

    def _m_sendDocument(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        return self._send_media("sendDocument", params, uploads)

    def _m_sendMediaGroup(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat, reply_to = self._sending(params)
        media = _required(params, "media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise _bad("wrong number of media in the album: 2-10 are accepted")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        if not kinds <= {"photo", "video", "audio", "document"} or not kinds:
            raise _bad("unsupported media type in the album")
        if ("audio" in kinds or "document" in kinds) and len(kinds) > 1:
            raise _bad("audio and documents can be grouped only with their own kind")
        self._limit(chat, len(media))
        stored = [self._file(item["type"], item.get("media"), uploads, item) for item in media]
        group_id = str(10**17 + self.next_id())
        return [
            self._media_message(chat, item["type"], file, item, reply_to, group_id)
            for item, file in zip(media, stored, strict=True)
        ]

    def _editable(self, params: dict[str, Any]) -> tuple[_Chat, dict[str, Any]]:
        chat = self._chat(_required(params, "chat_id"))
        message_id = _required(params, "message_id")
        message = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if message is None:
            raise _bad("message to edit not found")
        if message.get("from", {}).get("id") != int(self.bot.id):
            raise _bad("message can't be edited")
        return chat, message

    def _m_editMessageText(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        _, message = self._editable(params)
        text = _required(params, "text")
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        if text == message["text"]:
            raise _bad(_NOT_MODIFIED[len("Bad Request: ") :])
        message["text"] = text
        message.pop("entities", None)
        found = _entities(text, params.get("entities"))
        if found:
            message["entities"] = found
        message["edit_date"] = int(self.clock.now().timestamp())
        return message

    def _m_editMessageCaption(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        _, message = self._editable(params)
        caption = params.get("caption") or ""
        if caption == message.get("caption", ""):
            raise _bad(_NOT_MODIFIED[len("Bad Request: ") :])
        message["caption"] = caption
        message.pop("caption_entities", None)
        message["edit_date"] = int(self.clock.now().timestamp())
        return message

    def _m_editMessageReplyMarkup(
        self, params: dict[str, Any], uploads: dict[str, UploadFile]
    ) -> Any:
        _, message = self._editable(params)
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup"):
            raise _bad(_NOT_MODIFIED[len("Bad Request: ") :])
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        return message

    def _m_deleteMessage(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat = self._chat(_required(params, "chat_id"))
        message_id = _required(params, "message_id")
        if chat.messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        return True

    def _m_deleteMessages(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat = self._chat(_required(params, "chat_id"))
        ids = _required(params, "message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise _bad("message_ids must hold 1-100 ids")
        for message_id in ids:
            chat.messages.pop(message_id, None)
        return True

    def _m_setMessageReaction(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        chat = self._chat(_required(params, "chat_id"))
        message_id = _required(params, "message_id")
        if message_id not in chat.messages:
            raise _bad("message to react not found")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list) or any(
            not isinstance(r, dict) or r.get("type") != "emoji" for r in reaction
        ):
            raise _bad("REACTION_INVALID")
        self._react(f"{chat.id}:{message_id}", self.bot, reaction)
        return True

    def _m_setWebhook(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        url = _required(params, "url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        with self._lock:
            self.webhook = {"url": url, "secret_token": secret}
            if params.get("drop_pending_updates"):
                self.updates.clear()
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], uploads: dict[str, UploadFile]) -> Any:
        with self._lock:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self.updates.clear()
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise _Error(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = params.get("limit") or 100
        timeout = min(int(params.get("timeout") or 0), 50)
        if not isinstance(limit, int) or not 1 <= limit <= 100:
            raise _bad("limit must be 1-100")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                if isinstance(offset, int):
                    # Updates below the offset are confirmed: Telegram forgets them.
                    self.updates = [u for u in self.updates if u["update_id"] >= offset]
                found = self.updates[:limit]
            if found or loop.time() >= deadline:
                return found
            await asyncio.sleep(min(0.05, max(0.0, deadline - loop.time())))


_MEDIA_KEYS = ("photo", "video", "animation", "audio", "document")


def _required(params: Mapping[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None:
        raise _bad(f"{name} is empty")
    return value


def _detect(text: str) -> list[dict[str, Any]]:
    """What Telegram finds in plain text: URLs, @mentions and #hashtags, in UTF-16 units."""
    offsets = utf16_offsets(text)
    found: list[tuple[int, int, str]] = [(s, e, "url") for s, e in url_spans(text)]
    for match in re.finditer(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b", text):
        found.append((match.start(), match.end(), "mention"))
    for match in re.finditer(r"(?<![\w#])#\w+", text):
        if not any(s <= match.start() < e for s, e, _ in found):
            found.append((match.start(), match.end(), "hashtag"))
    found.sort()
    return [
        {"type": kind, "offset": offsets[s], "length": offsets[e] - offsets[s]}
        for s, e, kind in found
    ]


def _entities(text: str, given: Any) -> list[dict[str, Any]]:
    if given is None:
        return _detect(text)
    if not isinstance(given, list):
        raise _bad("can't parse entities: not a list")
    total = utf16_offsets(text)[-1]
    for entity in given:
        if not isinstance(entity, dict):
            raise _bad("can't parse entities")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise _bad("can't parse entities: offset and length must be integers")
        if offset < 0 or length <= 0 or offset + length > total:
            raise _bad("can't parse entities: entity beyond the end of the text")
    return [dict(e) for e in given]


def _coerce(value: str) -> Any:
    if value in ("true", "false"):
        return value == "true"
    if re.fullmatch(r"-?[0-9]{1,20}", value):
        return int(value)
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


async def _params(request: Request) -> tuple[dict[str, Any], dict[str, UploadFile]]:
    """Parameters of a Bot API call, in any of the four ways Telegram takes them: the query
    string, ``application/x-www-form-urlencoded``, ``application/json`` or
    ``multipart/form-data`` (objects JSON-encoded, files as parts)."""
    params: dict[str, Any] = {k: _coerce(v) for k, v in request.query_params.items()}
    uploads: dict[str, UploadFile] = {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _bad("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise _bad("the JSON body must be an object")
        params.update(body)
    elif kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                uploads[key] = value
            else:
                params[key] = _coerce(str(value))
    return params, uploads


def _error(error: _Error) -> Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": error.status,
        "description": error.description,
    }
    if error.retry_after is not None:
        body["parameters"] = {"retry_after": error.retry_after}
    return JSONResponse(body, status_code=error.status)
