"""Telegram messages into socialkit's models, and text entities in UTF-16 code units.

A post's id is ``<chat id>:<message id>`` (``-1001234567890:42``): Telegram numbers messages
per chat, so a message id alone names nothing. An album (media group) is one post, named by
its first message.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from socialkit._errors import ValidationError
from socialkit._models import Account, Media, MediaKind, Message, MessageKind, Poll, Post
from socialkit.adapters.telegram import _wire as wire
from socialkit.text import utf16_offsets

__all__ = [
    "TextEntity",
    "account_from_chat",
    "account_from_user",
    "entities_to_wire",
    "entity_text",
    "message_from",
    "message_url",
    "poll_from",
    "post_from",
    "post_id",
]

#: Entity types of ``MessageEntity.type`` (api.json) that a sender may set.
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
    }
)

EntityType = Literal[
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
    "text_link",
    "custom_emoji",
]


@dataclass(frozen=True)
class TextEntity:
    """Formatting of ``text[start:end]`` (Python string indices, code points).

    The adapter converts the span to Telegram's UTF-16 ``offset`` and ``length``, so that
    ``TextEntity("bold", 2, 5)`` makes the same three characters bold whatever emoji or CJK
    text comes before them. ``url`` is for ``text_link``, ``language`` for ``pre``,
    ``custom_emoji_id`` for ``custom_emoji``.
    """

    type: EntityType
    start: int
    end: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


def entities_to_wire(text: str, entities: Iterable[TextEntity]) -> list[dict[str, Any]]:
    """``MessageEntity`` objects for ``entities`` over ``text``, offsets in UTF-16 code units.

    Raises :class:`~socialkit.ValidationError` for a span outside the text, an empty span, an
    unknown type or a ``text_link`` without ``url``."""
    offsets = utf16_offsets(text)
    found: list[dict[str, Any]] = []
    for entity in entities:
        if entity.type not in ENTITY_TYPES:
            raise ValidationError(f"{entity.type!r} is not a Telegram entity type")
        if not 0 <= entity.start < entity.end <= len(text):
            raise ValidationError(
                f"entity {entity.type} [{entity.start}:{entity.end}] is outside the text "
                f"(0..{len(text)})"
            )
        if entity.type == "text_link" and not entity.url:
            raise ValidationError("a text_link entity needs its url")
        item: dict[str, Any] = {
            "type": entity.type,
            "offset": offsets[entity.start],
            "length": offsets[entity.end] - offsets[entity.start],
        }
        if entity.url is not None:
            item["url"] = entity.url
        if entity.language is not None:
            item["language"] = entity.language
        if entity.custom_emoji_id is not None:
            item["custom_emoji_id"] = entity.custom_emoji_id
        found.append(item)
    return found


def entity_span(text: str, offset: int, length: int) -> tuple[int, int] | None:
    """The Python indices of a UTF-16 ``offset``/``length`` span, ``None`` when the span does
    not fall on character boundaries of ``text`` (a malformed entity is ignored, not fatal)."""
    offsets = utf16_offsets(text)
    start = bisect.bisect_left(offsets, offset)
    end = bisect.bisect_left(offsets, offset + length)
    if (
        offset < 0
        or length <= 0
        or start >= len(offsets)
        or end >= len(offsets)
        or offsets[start] != offset
        or offsets[end] != offset + length
    ):
        return None
    return start, end


def entity_text(text: str, entity: wire.MessageEntity) -> str | None:
    """The part of ``text`` that ``entity`` covers."""
    span = entity_span(text, entity.offset, entity.length)
    return None if span is None else text[span[0] : span[1]]


def post_id(chat_id: int | str, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def _time(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, timezone.utc)


def message_url(chat: wire.Chat, message_id: int) -> str | None:
    """``https://t.me/<username>/<id>`` for a public chat; for a private channel or supergroup
    ``https://t.me/c/<internal id>/<id>`` (opens for members); none for private and basic
    group chats, which have no message links."""
    if chat.username:
        return f"https://t.me/{chat.username}/{message_id}"
    text = str(chat.id)
    if chat.type in ("channel", "supergroup") and text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{message_id}"
    return None


def account_from_user(user: wire.User) -> Account:
    name = " ".join(p for p in (user.first_name, user.last_name) if p) or None
    return Account(
        id=str(user.id),
        handle=user.username,
        name=name,
        url=f"https://t.me/{user.username}" if user.username else None,
        network="telegram",
        raw=user,
    )


def account_from_chat(chat: wire.Chat, members: int | None = None) -> Account:
    name = chat.title or " ".join(p for p in (chat.first_name, chat.last_name) if p) or None
    return Account(
        id=str(chat.id),
        handle=chat.username,
        name=name,
        url=f"https://t.me/{chat.username}" if chat.username else None,
        followers=members,
        network="telegram",
        raw=chat,
    )


def _author(message: wire.Message) -> Account:
    if message.sender_chat is not None:
        return account_from_chat(message.sender_chat)
    if message.from_ is not None:
        return account_from_user(message.from_)
    return account_from_chat(message.chat)


def _body(message: wire.Message) -> tuple[str, list[wire.MessageEntity]]:
    if message.text is not None:
        return message.text, list(message.entities or [])
    return message.caption or "", list(message.caption_entities or [])


def link_of(text: str, entities: Sequence[wire.MessageEntity]) -> str | None:
    """The first link of a message: a ``text_link``'s address or a ``url`` entity's text."""
    for entity in entities:
        if entity.type == "text_link" and entity.url:
            return entity.url
        if entity.type == "url":
            found = entity_text(text, entity)
            if found:
                return found
    return None


def media_of(message: wire.Message, alt: str | None, url: str | None) -> Media | None:
    """The medium of one message (the largest size of a photo), with its file id as ``id``.

    Telegram keeps no alt text: ``alt`` is what the adapter recorded when it published.
    ``url`` is the message link: Bot API file links carry the bot token and are never shown.
    """
    kind: MediaKind
    if message.photo:
        best = max(message.photo, key=lambda p: p.width * p.height)
        return Media(
            kind="image",
            mime_type="image/jpeg",
            id=best.file_id,
            url=url,
            alt=alt,
            size=best.file_size,
            width=best.width,
            height=best.height,
        )
    item: wire.Video | wire.Audio | None
    if message.animation is not None:
        kind, item, default = "gif", message.animation, "video/mp4"
    elif message.video is not None:
        kind, item, default = "video", message.video, "video/mp4"
    elif message.audio is not None:
        kind, item, default = "audio", message.audio, "audio/mpeg"
    else:
        return None
    width = getattr(item, "width", None) or None
    height = getattr(item, "height", None) or None
    thumbnail = getattr(item, "thumbnail", None)
    return Media(
        kind=kind,
        mime_type=item.mime_type or default,
        id=item.file_id,
        url=url,
        alt=alt,
        size=item.file_size,
        width=width,
        height=height,
        duration=float(item.duration),
        preview_url=None if thumbnail is None else url,
    )


def poll_from(message: wire.Message) -> Poll | None:
    """The :class:`Poll` of a poll message: its duration from ``open_period`` or
    ``close_date``, the votes of each option. ``None`` for another message, or a poll that
    cannot be a Poll (fewer than two options)."""
    state = message.poll
    if state is None or len(state.options) < 2:
        return None
    if state.open_period is not None:
        seconds = state.open_period
    elif state.close_date is not None:
        seconds = max(0, state.close_date - message.date)
    else:
        seconds = 0
    return Poll(
        options=[option.text for option in state.options],
        duration=timedelta(seconds=seconds),
        multiple=state.allows_multiple_answers,
        votes=[option.voter_count for option in state.options],
        expires_at=_time(message.date + seconds) if seconds else None,
    )


def post_from(
    messages: Sequence[wire.Message],
    *,
    alts: Sequence[str | None] = (),
    reply_to: str | None = None,
) -> Post:
    """One post from its messages (one, or the messages of an album in order); a poll
    message's question is the text."""
    first = messages[0]
    text, entities = "", []
    if first.poll is not None:
        text = first.poll.question
    for message in messages:
        body, found = _body(message)
        if body:
            text, entities = body, found
            break
    url = message_url(first.chat, first.message_id)
    media: list[Media] = []
    for index, message in enumerate(messages):
        item = media_of(
            message,
            alts[index] if index < len(alts) else None,
            message_url(message.chat, message.message_id),
        )
        if item is not None:
            media.append(item)
    if reply_to is None and first.reply_to_message is not None:
        reply_to = post_id(first.chat.id, first.reply_to_message.message_id)
    return Post(
        text=text,
        media=media,
        link=link_of(text, entities),
        reply_to=reply_to,
        sensitive=bool(first.has_media_spoiler),
        poll=poll_from(first),
        id=post_id(first.chat.id, first.message_id),
        network="telegram",
        url=url,
        author=_author(first),
        created_at=_time(first.date),
        raw=list(messages),
    )


def message_from(message: wire.Message, bot_id: int | None, bot_username: str | None) -> Message:
    """A socialkit :class:`Message` from a message the bot received.

    The kind: ``direct`` in a private chat; ``reply`` when it answers one of the bot's
    messages (or a post of the bot's channel); ``mention`` when it mentions the bot;
    otherwise ``comment`` (a message in a group or a channel's discussion the bot is in).
    """
    text, entities = _body(message)
    kind: MessageKind
    replied = message.reply_to_message
    if message.chat.type == "private":
        kind = "direct"
    elif replied is not None and (
        (replied.from_ is not None and bot_id is not None and replied.from_.id == bot_id)
        or (replied.sender_chat is not None and replied.sender_chat.type == "channel")
    ):
        kind = "comment" if replied.is_automatic_forward else "reply"
    elif bot_username and any(
        e.type == "mention" and (entity_text(text, e) or "").lower() == f"@{bot_username}".lower()
        for e in entities
    ):
        kind = "mention"
    else:
        kind = "comment"
    about = None
    if replied is not None:
        origin = replied.forward_origin
        if replied.is_automatic_forward and origin is not None and origin.chat is not None:
            # A comment on a channel post: it answers the post's copy in the discussion group.
            about = post_id(origin.chat.id, origin.message_id or replied.message_id)
        else:
            about = post_id(message.chat.id, replied.message_id)
    return Message(
        id=post_id(message.chat.id, message.message_id),
        network="telegram",
        kind=kind,
        text=text,
        author=_author(message),
        created_at=_time(message.date),
        post_id=about,
        conversation_id=str(message.chat.id),
        url=message_url(message.chat, message.message_id),
        raw=message,
    )
