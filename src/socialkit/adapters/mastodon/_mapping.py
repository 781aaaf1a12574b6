"""Mastodon payloads (``_wire``) to the common model, and the metric names table."""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import Literal

from socialkit._models import Account, Media, MediaKind, Message, MessageKind, Metric, Post
from socialkit.adapters.mastodon import _wire
from socialkit.adapters.mastodon._html import html_to_text

NETWORK = "mastodon"

#: Canonical name -> Mastodon's field, for post metrics (the one table).
POST_METRICS: tuple[tuple[str, str], ...] = (
    ("replies", "replies_count"),
    ("reposts", "reblogs_count"),
    ("likes", "favourites_count"),
    ("quotes", "quotes_count"),
)

#: Canonical name -> Mastodon's field, for account metrics.
ACCOUNT_METRICS: tuple[tuple[str, str], ...] = (
    ("followers", "followers_count"),
    ("following", "following_count"),
    ("posts", "statuses_count"),
)

#: socialkit visibility -> Mastodon visibility.
VISIBILITY_OUT: dict[str, str] = {
    "public": "public",
    "unlisted": "unlisted",
    "followers": "private",
    "direct": "direct",
}
VISIBILITY_IN: dict[str, Literal["public", "unlisted", "followers", "direct"]] = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "followers",
    "direct": "direct",
}

_MEDIA_KINDS: dict[str, MediaKind] = {"image": "image", "gifv": "gif", "video": "video"}
_FALLBACK_MIME = {"image": "image/jpeg", "gif": "video/mp4", "video": "video/mp4"}


def account(wire: _wire.Account, host: str) -> Account:
    """A Mastodon account. ``handle`` is the full ``user@host`` (local accounts get ``host``)."""
    handle = wire.acct if "@" in wire.acct else f"{wire.acct}@{host}"
    return Account(
        id=wire.id,
        handle=handle,
        name=wire.display_name or wire.username,
        url=wire.url,
        avatar_url=wire.avatar,
        followers=wire.followers_count,
        following=wire.following_count,
        posts_count=wire.statuses_count,
        network=NETWORK,
        raw=wire,
    )


def media(wire: _wire.MediaAttachment) -> Media | None:
    """An attachment as :class:`Media` (by URL); audio and unknown types have no equivalent."""
    kind = _MEDIA_KINDS.get(wire.type)
    url = wire.url or wire.remote_url
    if kind is None or url is None or not url.startswith(("https://", "http://")):
        return None
    mime = mimetypes.guess_type(url.split("?", 1)[0])[0] or _FALLBACK_MIME[kind]
    return Media(kind=kind, url=url, alt=wire.description, mime_type=mime)


def _media_list(items: list[_wire.MediaAttachment]) -> list[Media]:
    return [m for m in (media(item) for item in items) if m is not None]


def status_metrics(wire: _wire.Status) -> dict[str, int]:
    values: dict[str, int] = {}
    for name, native in POST_METRICS:
        value = getattr(wire, native)
        if value is not None:
            values[name] = int(value)
    return values


def post(wire: _wire.Status, host: str) -> Post:
    """A status as a :class:`Post` (a reblog reads as the reblogged status it carries)."""
    text = wire.text if wire.text is not None else html_to_text(wire.content)
    return Post(
        text=text,
        media=_media_list(wire.media_attachments),
        reply_to=wire.in_reply_to_id,
        quote_of=wire.quote.status_id if wire.quote is not None else None,
        visibility=VISIBILITY_IN.get(wire.visibility, "public"),
        language=_language(wire.language),
        content_warning=wire.spoiler_text or None,
        sensitive=wire.sensitive,
        id=wire.id,
        network=NETWORK,
        url=wire.url or wire.uri,
        author=account(wire.account, host),
        created_at=wire.created_at,
        metrics=status_metrics(wire),
        raw=wire,
    )


def scheduled_post(wire: _wire.ScheduledStatus) -> Post:
    """A scheduled status: ``id`` is the ScheduledStatus id, ``scheduled_at`` is set."""
    params = wire.params
    reply = params.in_reply_to_id
    return Post(
        text=params.text,
        media=_media_list(wire.media_attachments),
        reply_to=str(reply) if reply is not None else None,
        quote_of=params.quoted_status_id,
        visibility=VISIBILITY_IN.get(params.visibility or "public", "public"),
        language=_language(params.language),
        content_warning=params.spoiler_text or None,
        sensitive=bool(params.sensitive),
        scheduled_at=wire.scheduled_at,
        id=wire.id,
        network=NETWORK,
        raw=wire,
    )


def _language(value: str | None) -> str | None:
    # Post.language is validated as a language tag; drop what a remote server sent otherwise.
    if value and 2 <= len(value) <= 3 and value.isalpha():
        return value
    return None


def post_metrics(wire: _wire.Status, measured_at: datetime) -> list[Metric]:
    out: list[Metric] = []
    for name, native in POST_METRICS:
        value = getattr(wire, native)
        if value is None:  # quotes_count: servers before 4.5 do not count quotes
            continue
        out.append(
            Metric(
                name=name,
                value=int(value),
                network=NETWORK,
                post_id=wire.id,
                native_name=native,
                period="lifetime",
                measured_at=measured_at,
            )
        )
    return out


def account_metrics(wire: _wire.Account, measured_at: datetime) -> list[Metric]:
    return [
        Metric(
            name=name,
            value=int(getattr(wire, native)),
            network=NETWORK,
            native_name=native,
            period="lifetime",
            measured_at=measured_at,
        )
        for name, native in ACCOUNT_METRICS
    ]


def message(
    wire: _wire.Status,
    kind: MessageKind,
    host: str,
    *,
    post_id: str | None = None,
    conversation_id: str | None = None,
) -> Message:
    """A status addressed to the account, as a :class:`Message`.

    ``id`` is the status id (what a reply answers); ``post_id`` the post it is about: the status
    it replies to, or the quoted one for a quote.
    """
    return Message(
        id=wire.id,
        network=NETWORK,
        kind=kind,
        text=html_to_text(wire.content),
        author=account(wire.account, host),
        created_at=wire.created_at,
        post_id=post_id if post_id is not None else wire.in_reply_to_id,
        conversation_id=conversation_id,
        url=wire.url or wire.uri,
        language=_language(wire.language),
        raw=wire,
    )
