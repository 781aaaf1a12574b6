"""Telegram Bot API payloads as pydantic models, validated straight from the response bytes.

Every model follows a type of the official description (``api.json``: Telegram Bot API 10.1,
scraped from https://core.telegram.org/bots/api), named in its docstring. Fields the adapter
does not read are ignored (Telegram adds fields with every Bot API version); fields the
description marks required are required here when the adapter needs them.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Animation",
    "Audio",
    "Chat",
    "ChatFullInfo",
    "Document",
    "Envelope",
    "Message",
    "MessageEntity",
    "MessageOrigin",
    "MessageReactionCountUpdated",
    "MessageReactionUpdated",
    "PhotoSize",
    "Poll",
    "PollOption",
    "ReactionCount",
    "ReactionType",
    "ResponseParameters",
    "Update",
    "User",
    "Video",
]

T = TypeVar("T")


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class ResponseParameters(_Wire):
    """``ResponseParameters``: why a request failed and what to do (``retry_after``)."""

    migrate_to_chat_id: int | None = None
    retry_after: int | None = None


class Envelope(_Wire, Generic[T]):
    """Every Bot API answer: ``{"ok": true, "result": ...}`` or ``{"ok": false,
    "error_code", "description", "parameters"}`` (https://core.telegram.org/bots/api#making-requests)."""

    ok: bool
    result: T | None = None
    error_code: int | None = None
    description: str | None = None
    parameters: ResponseParameters | None = None


class User(_Wire):
    """``User``."""

    id: int
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class Chat(_Wire):
    """``Chat``: ``type`` is private, group, supergroup or channel."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None


class ChatFullInfo(Chat):
    """``ChatFullInfo`` (the answer of ``getChat``)."""

    description: str | None = None
    bio: str | None = None
    invite_link: str | None = None
    active_usernames: list[str] | None = None


class MessageEntity(_Wire):
    """``MessageEntity``: ``offset`` and ``length`` count UTF-16 code units."""

    type: str
    offset: int
    length: int
    url: str | None = None
    user: User | None = None
    language: str | None = None
    custom_emoji_id: str | None = None


class PhotoSize(_Wire):
    """``PhotoSize``: one size of a photo (a message's ``photo`` lists them, smallest first)."""

    file_id: str
    file_unique_id: str
    width: int
    height: int
    file_size: int | None = None


class Video(_Wire):
    """``Video``."""

    file_id: str
    file_unique_id: str
    width: int
    height: int
    duration: int
    thumbnail: PhotoSize | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class Animation(Video):
    """``Animation`` (a GIF or a silent H.264 video): the same fields as ``Video``."""


class Audio(_Wire):
    """``Audio``."""

    file_id: str
    file_unique_id: str
    duration: int
    performer: str | None = None
    title: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    thumbnail: PhotoSize | None = None


class Document(_Wire):
    """``Document``."""

    file_id: str
    file_unique_id: str
    thumbnail: PhotoSize | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None


class MessageOrigin(_Wire):
    """``MessageOrigin`` (``MessageOriginChannel`` carries ``chat`` and ``message_id``)."""

    type: str
    date: int
    chat: Chat | None = None
    message_id: int | None = None


class PollOption(_Wire):
    """``PollOption``: an answer option and its voters (0 while unknown)."""

    text: str
    voter_count: int = 0


class Poll(_Wire):
    """``Poll`` (https://core.telegram.org/bots/api#poll): sent with ``sendPoll``; its new
    state arrives as an ``Update.poll`` for the polls the bot sent."""

    id: str
    question: str
    options: list[PollOption]
    total_voter_count: int = 0
    is_closed: bool = False
    allows_multiple_answers: bool = False
    open_period: int | None = None
    close_date: int | None = None


class Message(_Wire):
    """``Message`` (the fields the adapter maps; ``from`` is a Python keyword)."""

    message_id: int
    date: int
    chat: Chat
    from_: User | None = Field(default=None, alias="from")
    sender_chat: Chat | None = None
    reply_to_message: Message | None = None
    forward_origin: MessageOrigin | None = None
    is_automatic_forward: bool | None = None
    edit_date: int | None = None
    media_group_id: str | None = None
    author_signature: str | None = None
    text: str | None = None
    entities: list[MessageEntity] | None = None
    caption: str | None = None
    caption_entities: list[MessageEntity] | None = None
    photo: list[PhotoSize] | None = None
    video: Video | None = None
    animation: Animation | None = None
    audio: Audio | None = None
    document: Document | None = None
    has_media_spoiler: bool | None = None
    poll: Poll | None = None


class ReactionType(_Wire):
    """``ReactionType``: ``ReactionTypeEmoji`` (``emoji``), ``ReactionTypeCustomEmoji``
    (``custom_emoji_id``) or ``ReactionTypePaid``."""

    type: str
    emoji: str | None = None
    custom_emoji_id: str | None = None


class ReactionCount(_Wire):
    """``ReactionCount``."""

    type: ReactionType
    total_count: int


class MessageReactionCountUpdated(_Wire):
    """``MessageReactionCountUpdated``: anonymous reactions of a channel post, as totals."""

    chat: Chat
    message_id: int
    date: int
    reactions: list[ReactionCount]


class MessageReactionUpdated(_Wire):
    """``MessageReactionUpdated``: one user's reactions to a message changed."""

    chat: Chat
    message_id: int
    user: User | None = None
    actor_chat: Chat | None = None
    date: int
    old_reaction: list[ReactionType]
    new_reaction: list[ReactionType]


class Update(_Wire):
    """``Update`` (the kinds the adapter reads; others are skipped, their ids still count)."""

    update_id: int
    message: Message | None = None
    edited_message: Message | None = None
    channel_post: Message | None = None
    edited_channel_post: Message | None = None
    message_reaction: MessageReactionUpdated | None = None
    message_reaction_count: MessageReactionCountUpdated | None = None
    poll: Poll | None = None
