"""YouTube payloads (``_wire``) to socialkit models; lossless: each keeps its ``raw`` payload."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from socialkit._errors import MalformedResponseError
from socialkit._models import Account, Feed, Media, Message, Post, Visibility
from socialkit.adapters.youtube import _wire as wire

__all__ = [
    "NATIVE_METRICS",
    "account_of",
    "feed_of",
    "iso_duration",
    "message_of",
    "post_of",
    "split_text",
    "time_of",
    "watch_url",
]

#: Canonical metric name -> ``VideoStatistics`` field.
NATIVE_METRICS = {"views": "viewCount", "likes": "likeCount", "replies": "commentCount"}
_VISIBILITY: dict[str, Visibility] = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "direct",
}


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def split_text(text: str) -> tuple[str, str]:
    """A post's text as (title, description): the first line is the title."""
    title, _, description = text.partition("\n")
    return title.strip(), description


def time_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def iso_duration(value: str | None) -> float | None:
    """Seconds of an ISO 8601 duration as ``contentDetails.duration`` gives it (``PT1H2M3S``)."""
    match = re.fullmatch(
        r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", value or ""
    )
    if not match or value in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def _count(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _thumbnail(thumbnails: dict[str, wire.Thumbnail]) -> str | None:
    for size in ("maxres", "high", "medium", "standard", "default"):
        found = thumbnails.get(size)
        if found is not None and found.url:
            return found.url
    return None


def post_of(video: wire.Video, raw: Any = None) -> Post:
    """A video as a Post: its title and description as the text (title first line), the video
    as its one medium (its watch URL, its thumbnail as preview), its statistics as metrics."""
    snippet = video.snippet or wire.VideoSnippet()
    status = video.status or wire.VideoStatus()
    text = snippet.title if not snippet.description else f"{snippet.title}\n{snippet.description}"
    duration = iso_duration(video.contentDetails.duration if video.contentDetails else None)
    media = Media(
        kind="video",
        mime_type="video/mp4",
        id=video.id,
        url=watch_url(video.id),
        preview_url=_thumbnail(snippet.thumbnails),
        duration=duration,
    )
    stats = video.statistics
    metrics = {
        name: value
        for name, native in NATIVE_METRICS.items()
        if stats is not None and (value := _count(getattr(stats, native))) is not None
    }
    scheduled = (
        time_of(status.publishAt)
        if status.publishAt and status.privacyStatus == "private"
        else None
    )
    author = (
        Account(id=snippet.channelId, name=snippet.channelTitle, network="youtube")
        if snippet.channelId
        else None
    )
    return Post(
        text=text,
        media=[media],
        id=video.id,
        network="youtube",
        url=watch_url(video.id),
        author=author,
        created_at=time_of(snippet.publishedAt),
        visibility=_VISIBILITY.get(status.privacyStatus or "public", "public"),
        scheduled_at=scheduled,
        language=snippet.defaultLanguage,
        metrics=metrics,
        raw=raw if raw is not None else video.model_dump(exclude_none=True),
    )


def account_of(channel: wire.Channel) -> Account:
    snippet = channel.snippet or wire.ChannelSnippet()
    stats = channel.statistics or wire.ChannelStatistics()
    handle = snippet.customUrl
    return Account(
        id=channel.id,
        handle=handle,
        name=snippet.title,
        url=f"https://www.youtube.com/{handle}"
        if handle
        else f"https://www.youtube.com/channel/{channel.id}",
        avatar_url=_thumbnail(snippet.thumbnails),
        followers=None if stats.hiddenSubscriberCount else _count(stats.subscriberCount),
        posts_count=_count(stats.videoCount),
        network="youtube",
        raw=channel.model_dump(exclude_none=True),
    )


def feed_of(playlist: wire.Playlist) -> Feed:
    """A playlist as a Feed (``members_count``: its number of videos)."""
    snippet = playlist.snippet or wire.PlaylistSnippet()
    owner = (
        Account(id=snippet.channelId, name=snippet.channelTitle, network="youtube")
        if snippet.channelId
        else None
    )
    return Feed(
        id=playlist.id,
        network="youtube",
        name=snippet.title,
        kind="list",
        description=snippet.description or None,
        url=f"https://www.youtube.com/playlist?list={playlist.id}",
        owner=owner,
        members_count=playlist.contentDetails.itemCount if playlist.contentDetails else None,
        raw=playlist.model_dump(exclude_none=True),
    )


def message_of(comment: wire.Comment, *, thread_id: str, video_id: str | None) -> Message:
    """A comment as a Message: ``comment`` when top-level, ``reply`` when it answers one;
    ``conversation_id`` is the thread."""
    snippet = comment.snippet
    created = time_of(snippet.publishedAt) if snippet else None
    if snippet is None or created is None:
        raise MalformedResponseError("youtube", 200, "malformed_response", "a comment without time")
    author_id = snippet.authorChannelId.value if snippet.authorChannelId else None
    author = Account(
        id=author_id or "",
        name=snippet.authorDisplayName,
        url=snippet.authorChannelUrl,
        avatar_url=snippet.authorProfileImageUrl,
        network="youtube",
    )
    target = snippet.videoId or video_id
    return Message(
        id=comment.id,
        network="youtube",
        kind="reply" if snippet.parentId else "comment",
        text=snippet.textOriginal
        if snippet.textOriginal is not None
        else snippet.textDisplay or "",
        author=author,
        created_at=created,
        post_id=target,
        conversation_id=thread_id,
        url=f"{watch_url(target)}&lc={comment.id}" if target else None,
        raw=comment.model_dump(exclude_none=True),
    )
