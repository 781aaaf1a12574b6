"""Bluesky's own payloads (XRPC outputs), as pydantic models validated straight from bytes.

Each model follows its lexicon in ``bluesky-social/atproto: lexicons/`` (named in the
docstring); only the fields the adapter reads are declared, and unknown fields are ignored, as
the AT Protocol expects of clients (lexicons evolve by adding optional fields). ``record``
values and embeds stay plain dicts: they are open unions, kept in ``Post.raw``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from socialkit._errors import MalformedResponseError

T = TypeVar("T")

__all__ = [
    "AuthorFeed",
    "Blob",
    "ChatMessage",
    "ChatProfile",
    "Convo",
    "ConvoList",
    "CreatedRecord",
    "FeedGenerators",
    "FeedItem",
    "Followers",
    "Follows",
    "GeneratorView",
    "ListView",
    "ListedRecords",
    "Lists",
    "MessagePage",
    "Notification",
    "NotificationPage",
    "PostList",
    "PostView",
    "Preferences",
    "Profile",
    "ProfileBasic",
    "RecordOut",
    "RepoDescription",
    "ResolvedHandle",
    "SearchResult",
    "SessionInfo",
    "SessionOut",
    "UploadedBlob",
    "decode",
]


class _Wire(BaseModel):
    model_config = ConfigDict(
        extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class SessionOut(_Wire):
    """com.atproto.server.createSession / refreshSession output."""

    access_jwt: str
    refresh_jwt: str
    handle: str
    did: str
    did_doc: dict[str, Any] | None = None
    active: bool | None = None
    status: str | None = None


class SessionInfo(_Wire):
    """com.atproto.server.getSession output."""

    handle: str
    did: str
    did_doc: dict[str, Any] | None = None
    active: bool | None = None


class ResolvedHandle(_Wire):
    """com.atproto.identity.resolveHandle output."""

    did: str


class CreatedRecord(_Wire):
    """com.atproto.repo.createRecord output."""

    uri: str
    cid: str


class RecordOut(_Wire):
    """com.atproto.repo.getRecord output (``cid`` is optional in the lexicon)."""

    uri: str
    cid: str | None = None
    value: dict[str, Any]


class ListedRecord(_Wire):
    """com.atproto.repo.listRecords#record."""

    uri: str
    cid: str
    value: dict[str, Any]


class ListedRecords(_Wire):
    """com.atproto.repo.listRecords output."""

    cursor: str | None = None
    records: list[ListedRecord]


class Blob(_Wire):
    """A blob reference (the lexicon ``blob`` type): kept as sent, for the record."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(alias="$type")
    ref: dict[str, str]
    mime_type: str = Field(alias="mimeType")
    size: int


class UploadedBlob(_Wire):
    """com.atproto.repo.uploadBlob output."""

    blob: Blob


class ProfileBasic(_Wire):
    """app.bsky.actor.defs#profileViewBasic (and #profileView: the fields read are common).

    ``viewer`` is app.bsky.actor.defs#viewerState (``following``, ``blocking``: AT-URIs of the
    viewer's follow and block records; ``muted``), kept as a dict."""

    did: str
    handle: str
    display_name: str | None = None
    avatar: str | None = None
    description: str | None = None
    created_at: str | None = None
    viewer: dict[str, Any] | None = None


class Profile(ProfileBasic):
    """app.bsky.actor.defs#profileViewDetailed (app.bsky.actor.getProfile output)."""

    followers_count: int | None = None
    follows_count: int | None = None
    posts_count: int | None = None


class PostView(_Wire):
    """app.bsky.feed.defs#postView."""

    uri: str
    cid: str
    author: ProfileBasic
    record: dict[str, Any]
    embed: dict[str, Any] | None = None
    bookmark_count: int | None = None
    reply_count: int | None = None
    repost_count: int | None = None
    like_count: int | None = None
    quote_count: int | None = None
    indexed_at: str
    viewer: dict[str, Any] | None = None
    """app.bsky.feed.defs#viewerState: ``like`` and ``repost`` (AT-URIs of the viewer's
    records), ``bookmarked``."""


class FeedItem(_Wire):
    """app.bsky.feed.defs#feedViewPost (``reason`` is a repost or a pin when set)."""

    post: PostView
    reason: dict[str, Any] | None = None


class Followers(_Wire):
    """app.bsky.graph.getFollowers output."""

    cursor: str | None = None
    followers: list[ProfileBasic]


class Follows(_Wire):
    """app.bsky.graph.getFollows output."""

    cursor: str | None = None
    follows: list[ProfileBasic]


class ListView(_Wire):
    """app.bsky.graph.defs#listView."""

    uri: str
    cid: str
    creator: ProfileBasic
    name: str
    purpose: str
    description: str | None = None
    list_item_count: int | None = None
    indexed_at: str


class Lists(_Wire):
    """app.bsky.graph.getLists output."""

    cursor: str | None = None
    lists: list[ListView]


class GeneratorView(_Wire):
    """app.bsky.feed.defs#generatorView."""

    uri: str
    cid: str
    did: str
    creator: ProfileBasic
    display_name: str
    description: str | None = None
    like_count: int | None = None
    indexed_at: str


class FeedGenerators(_Wire):
    """app.bsky.feed.getFeedGenerators output."""

    feeds: list[GeneratorView]


class Preferences(_Wire):
    """app.bsky.actor.getPreferences output (an open union of preference objects)."""

    preferences: list[dict[str, Any]]


class RepoDescription(_Wire):
    """com.atproto.repo.describeRepo output."""

    handle: str
    did: str
    collections: list[str] = []


class AuthorFeed(_Wire):
    """app.bsky.feed.getAuthorFeed output (and getTimeline, getListFeed, getFeed: the same
    ``{cursor, feed: feedViewPost[]}``)."""

    cursor: str | None = None
    feed: list[FeedItem]


class PostList(_Wire):
    """app.bsky.feed.getPosts output."""

    posts: list[PostView]


class SearchResult(_Wire):
    """app.bsky.feed.searchPosts output."""

    cursor: str | None = None
    hits_total: int | None = None
    posts: list[PostView]


class Notification(_Wire):
    """app.bsky.notification.listNotifications#notification."""

    uri: str
    cid: str
    author: ProfileBasic
    reason: str
    reason_subject: str | None = None
    record: dict[str, Any]
    is_read: bool
    indexed_at: str


class NotificationPage(_Wire):
    """app.bsky.notification.listNotifications output."""

    cursor: str | None = None
    notifications: list[Notification]


class ChatProfile(_Wire):
    """chat.bsky.actor.defs#profileViewBasic."""

    did: str
    handle: str
    display_name: str | None = None
    avatar: str | None = None


class ChatSender(_Wire):
    """chat.bsky.convo.defs#messageViewSender."""

    did: str


class ChatMessage(_Wire):
    """A member of the getMessages union: #messageView (with ``text``), #deletedMessageView or
    #systemMessageView (without); only message views become Messages."""

    type: str | None = Field(default=None, alias="$type")
    id: str
    rev: str
    text: str | None = None
    sender: ChatSender | None = None
    sent_at: str


class Convo(_Wire):
    """chat.bsky.convo.defs#convoView."""

    id: str
    rev: str
    members: list[ChatProfile]
    last_message: dict[str, Any] | None = None
    muted: bool
    unread_count: int


class ConvoList(_Wire):
    """chat.bsky.convo.listConvos output."""

    cursor: str | None = None
    convos: list[Convo]


class MessagePage(_Wire):
    """chat.bsky.convo.getMessages output."""

    cursor: str | None = None
    messages: list[ChatMessage]
    related_profiles: list[ChatProfile] | None = None


def decode(model: type[T], response: httpx.Response) -> T:
    """Validate a 2xx body as ``model`` straight from bytes; raise
    :class:`~socialkit.MalformedResponseError` naming the failing places (never the values)."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    try:
        result: T = adapter.validate_json(response.content)
    except PydanticValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            detail = "the body is not JSON"
        else:
            places = ", ".join(
                ".".join(str(part) for part in error["loc"]) or "(root)" for error in errors[:5]
            )
            detail = f"{exc.error_count()} problem(s): {places}"
        name = getattr(model, "__name__", str(model))
        raise MalformedResponseError(
            "bluesky",
            response.status_code,
            "malformed_response",
            f"the answer to {response.request.url.path} is not a valid {name} ({detail})",
        ) from None
    return result


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}
