"""LinkedIn payloads to socialkit models, and the "little" text format of commentaries.

The little format (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format)
reserves ``| { } @ [ ] ( ) < > # \\ * _ ~``: each must be escaped with a backslash to be plain
text, or LinkedIn takes it as the start of an element and silently drops the rest of the post.
Mentions read ``@[Name](urn:li:organization:1)`` and hashtags ``{hashtag|\\#|tag}``; read back,
they become ``Name`` and ``#tag``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from socialkit._models import Account, Media, Message, Post
from socialkit.adapters.linkedin import _wire as wire
from socialkit.text import url_spans

__all__ = [
    "RESERVED",
    "escape_little",
    "message_of",
    "post_of",
    "reply_post_of",
    "time_of_ms",
    "unescape_little",
]

#: The reserved characters of the little format.
RESERVED = "|{}@[]()<>#\\*_~"

_ESCAPE = re.compile(r"([|{}@\[\]()<>#\\*_~])")
_LITTLE = re.compile(
    r"\\(?P<char>[|{}@\[\]()<>#\\*_~])"
    r"|\{hashtag\|\\?(?P<sign>[#\uff03])\|(?P<tag>[^}]*)\}"
    r"|@\[(?P<name>(?:[^\]\\]|\\.)*)\]\((?P<urn>urn:li:[A-Za-z]+:[^)]+)\)"
)


def escape_little(text: str) -> str:
    """``text`` as plain little text: every reserved character escaped with a backslash."""
    return _ESCAPE.sub(r"\\\1", text)


def unescape_little(text: str) -> str:
    """The plain text of a little commentary: escapes undone, mentions as their names,
    hashtag templates as ``#tag``."""

    def one(match: re.Match[str]) -> str:
        if match.group("char") is not None:
            return match.group("char")
        if match.group("tag") is not None:
            return match.group("sign") + match.group("tag")
        return unescape_little(match.group("name"))

    return _LITTLE.sub(one, text)


def time_of_ms(value: int | None) -> datetime | None:
    """A LinkedIn time (epoch milliseconds) as an aware datetime."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):  # a time no calendar holds
        return None


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


def _first_link(text: str) -> str | None:
    spans = url_spans(text)
    return text[spans[0][0] : spans[0][1]] if spans else None


def _media(urn: str, alt: str | None, assets: Mapping[str, wire.MediaAsset]) -> Media:
    asset = assets.get(urn)
    video = urn.startswith("urn:li:video:")
    milliseconds = asset.duration if asset is not None else None
    return Media(
        kind="video" if video else "image",
        mime_type="video/mp4" if video else "image/jpeg",
        id=urn,
        alt=alt or None,
        url=asset.downloadUrl if asset is not None else None,
        preview_url=asset.thumbnail if asset is not None else None,
        duration=milliseconds / 1000 if milliseconds is not None and milliseconds > 0 else None,
    )


def post_of(
    post: wire.Post, assets: Mapping[str, wire.MediaAsset], raw: Any, network: str = "linkedin"
) -> Post:
    """A post, with its media's download URLs from ``assets`` (by URN)."""
    text = unescape_little(post.commentary)
    media: list[Media] = []
    link: str | None = None
    content = post.content
    if content is not None:
        if content.media is not None:
            media.append(_media(content.media.id, content.media.altText, assets))
        if content.multiImage is not None:
            media.extend(_media(i.id, i.altText, assets) for i in content.multiImage.images)
        if content.article is not None:
            link = content.article.source
    return Post(
        text=text,
        media=media,
        link=link or _first_link(text),
        quote_of=post.reshareContext.parent if post.reshareContext is not None else None,
        visibility="followers" if post.visibility == "CONNECTIONS" else "public",
        id=post.id,
        network=network,
        url=post_url(post.id),
        author=Account(id=post.author, network=network),
        created_at=time_of_ms(post.publishedAt or post.createdAt),
        raw=raw,
    )


def comment_urn(comment: wire.Comment, target: str) -> str:
    """The comment's URN: LinkedIn's ``$URN`` / ``commentUrn``, else built from its target."""
    return comment.urn or comment.commentUrn or f"urn:li:comment:({target},{comment.id})"


def message_of(comment: wire.Comment, target: str, raw: Any, network: str = "linkedin") -> Message:
    """A comment on one of the author's posts (``target``)."""
    return Message(
        id=comment_urn(comment, target),
        network=network,
        kind="comment",
        text=unescape_little(comment.message.text),
        author=Account(id=comment.actor, network=network),
        created_at=time_of_ms(comment.created.time) or datetime.now(timezone.utc),
        post_id=comment.object or target,
        conversation_id=comment.object or target,
        url=post_url(comment.object or target),
        raw=raw,
    )


def reply_post_of(comment: wire.Comment, target: str, raw: Any, network: str = "linkedin") -> Post:
    """A comment as a Post replying to its target (``get_post`` of a comment URN)."""
    text = unescape_little(comment.message.text)
    return Post(
        text=text,
        link=_first_link(text),
        reply_to=comment.parentComment or comment.object or target,
        id=comment_urn(comment, target),
        network=network,
        url=post_url(comment.object or target),
        author=Account(id=comment.actor, network=network),
        created_at=time_of_ms(comment.created.time),
        raw=raw,
    )
