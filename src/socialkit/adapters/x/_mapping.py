"""X API v2 payloads -> the common model. The one table of metric names lives here."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from socialkit._models import Account, Message, MessageKind, Metric, Post
from socialkit.adapters.x._wire import DmEvent, Includes, WireMedia, WirePost, WireUser

__all__ = [
    "ACCOUNT_METRICS",
    "POST_METRICS",
    "account_from",
    "account_metrics_from",
    "message_from_dm",
    "message_from_post",
    "metrics_from",
    "post_from",
    "snowflake_time",
]

NETWORK = "x"
WEB = "https://x.com"

# X's ids are "snowflakes": the top 42 bits are milliseconds since the X epoch.
_X_EPOCH_MS = 1288834974657

#: (group, X field) -> canonical names. ``group`` is the object the count comes from: the post's
#: ``public_metrics`` / ``non_public_metrics`` / ``organic_metrics``, or the same objects of
#: its attached video (``media.*``, summed over the post's media). The official description
#: spells the repost count ``repost_count``; the servers have long sent ``retweet_count``:
#: both are listed. Counts X reports twice (the non-public impression count repeats the public
#: one) map to the public name only. X's only click count is link clicks, so it is reported as
#: both ``link_clicks`` and ``clicks``.
POST_METRICS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("public_metrics", "impression_count"): ("impressions",),
    ("public_metrics", "like_count"): ("likes",),
    ("public_metrics", "retweet_count"): ("reposts",),
    ("public_metrics", "repost_count"): ("reposts",),
    ("public_metrics", "reply_count"): ("replies",),
    ("public_metrics", "quote_count"): ("quotes",),
    ("public_metrics", "bookmark_count"): ("bookmarks",),
    ("non_public_metrics", "impression_count"): ("impressions",),
    # X reports link clicks only, no total of clicks: one canonical name, counted once.
    ("non_public_metrics", "url_link_clicks"): ("link_clicks",),
    ("non_public_metrics", "user_profile_clicks"): ("profile_clicks",),
    ("non_public_metrics", "engagements"): ("engagements",),
    ("organic_metrics", "impression_count"): ("organic_impressions",),
    ("organic_metrics", "like_count"): ("organic_likes",),
    ("organic_metrics", "retweet_count"): ("organic_reposts",),
    ("organic_metrics", "repost_count"): ("organic_reposts",),
    ("organic_metrics", "reply_count"): ("organic_replies",),
    ("organic_metrics", "url_link_clicks"): ("organic_link_clicks",),
    ("organic_metrics", "user_profile_clicks"): ("organic_profile_clicks",),
    ("media.public_metrics", "view_count"): ("video_views",),
    ("media.organic_metrics", "view_count"): ("organic_video_views",),
    ("media.non_public_metrics", "playback_0_count"): ("video_starts",),
    ("media.non_public_metrics", "playback_25_count"): ("video_views_25",),
    ("media.non_public_metrics", "playback_50_count"): ("video_views_50",),
    ("media.non_public_metrics", "playback_75_count"): ("video_views_75",),
    ("media.non_public_metrics", "playback_100_count"): ("video_completions",),
    ("media.organic_metrics", "playback_0_count"): ("organic_video_starts",),
    ("media.organic_metrics", "playback_25_count"): ("organic_video_views_25",),
    ("media.organic_metrics", "playback_50_count"): ("organic_video_views_50",),
    ("media.organic_metrics", "playback_75_count"): ("organic_video_views_75",),
    ("media.organic_metrics", "playback_100_count"): ("organic_video_completions",),
}

#: A user's ``public_metrics`` -> account metric names (``tweet_count`` is the servers' older
#: spelling of the description's ``post_count``).
ACCOUNT_METRICS: Mapping[str, str] = {
    "followers_count": "followers",
    "following_count": "following",
    "tweet_count": "posts",
    "post_count": "posts",
    "listed_count": "listed",
    "like_count": "likes_given",
    "media_count": "media_posts",
}


def snowflake_time(object_id: str) -> datetime | None:
    """When X created the object with this id (posts, DM events, media), or ``None``."""
    try:
        value = int(object_id)
    except ValueError:
        return None
    if value < (1 << 22):
        return None
    return datetime.fromtimestamp(((value >> 22) + _X_EPOCH_MS) / 1000.0, tz=timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def post_url(post_id: str, username: str | None = None) -> str:
    if username:
        return f"{WEB}/{username}/status/{post_id}"
    return f"{WEB}/i/web/status/{post_id}"


def account_from(user: WireUser) -> Account:
    metrics = user.public_metrics or {}
    posts = metrics.get("post_count", metrics.get("tweet_count"))
    return Account(
        id=user.id,
        handle=user.username,
        name=user.name,
        url=f"{WEB}/{user.username}" if user.username else None,
        avatar_url=user.profile_image_url,
        followers=metrics.get("followers_count"),
        following=metrics.get("following_count"),
        posts_count=posts,
        network=NETWORK,
        raw=user,
    )


def _users(includes: Includes) -> dict[str, WireUser]:
    return {user.id: user for user in includes.users}


def _author(post: WirePost, includes: Includes) -> Account | None:
    if post.author_id is None:
        return None
    user = _users(includes).get(post.author_id)
    if user is None:
        return Account(id=post.author_id, network=NETWORK)
    return account_from(user)


def _public_counts(post: WirePost) -> dict[str, int]:
    counts: dict[str, int] = {}
    for field, value in (post.public_metrics or {}).items():
        for name in POST_METRICS.get(("public_metrics", field), ()):
            counts[name] = value
    return counts


def post_from(post: WirePost, includes: Includes | None = None) -> Post:
    """A read-back :class:`Post` from an X post and the expansions that came with it."""
    inc = includes or Includes()
    author = _author(post, inc)
    return Post(
        text=html.unescape(post.text),
        id=post.id,
        network=NETWORK,
        url=post_url(post.id, author.handle if author else None),
        author=author,
        created_at=_aware(post.created_at) or snowflake_time(post.id),
        reply_to=post.reference("replied_to"),
        quote_of=post.reference("quoted"),
        language=post.lang if post.lang and post.lang.isalpha() else None,
        metrics=_public_counts(post),
        raw=post,
    )


def _media_of(post: WirePost, includes: Includes) -> list[WireMedia]:
    keys = set((post.attachments.media_keys or []) if post.attachments else [])
    return [m for m in includes.media if m.media_key in keys]


def metrics_from(post: WirePost, includes: Includes, measured_at: datetime) -> list[Metric]:
    """The post's metrics under canonical names (one Metric per name)."""
    found: dict[str, Metric] = {}

    def add(group: str, values: Mapping[str, int] | None) -> None:
        for field, value in (values or {}).items():
            for name in POST_METRICS.get((group, field), (field.lower(),)):
                if name in found and not group.startswith("media."):
                    continue  # the first group listed wins (public before non-public)
                previous = found.get(name)
                total = value + (previous.value if previous is not None else 0)
                found[name] = Metric(
                    name=name,
                    value=int(total),
                    network=NETWORK,
                    post_id=post.id,
                    native_name=f"{group}.{field}",
                    period="lifetime",
                    measured_at=measured_at,
                )

    add("public_metrics", post.public_metrics)
    add("non_public_metrics", post.non_public_metrics)
    add("organic_metrics", post.organic_metrics)
    media = _media_of(post, includes)
    for group in ("public_metrics", "non_public_metrics", "organic_metrics"):
        for item in media:
            values = getattr(item, group)
            add(f"media.{group}", values)
    return list(found.values())


def account_metrics_from(user: WireUser, measured_at: datetime) -> list[Metric]:
    out: dict[str, Metric] = {}
    for field, value in (user.public_metrics or {}).items():
        name = ACCOUNT_METRICS.get(field, field.lower())
        if name in out:
            continue
        out[name] = Metric(
            name=name,
            value=value,
            network=NETWORK,
            native_name=f"public_metrics.{field}",
            period="lifetime",
            measured_at=measured_at,
        )
    return list(out.values())


def message_from_post(post: WirePost, includes: Includes, me: str) -> Message:
    """A mention as a Message: ``reply`` when it answers one of our posts, ``quote`` when it
    quotes one, ``mention`` otherwise."""
    quoted = post.reference("quoted")
    replied = post.reference("replied_to")
    authors = {p.id: p.author_id for p in includes.posts}
    kind: MessageKind = "mention"
    about: str | None = None
    if replied is not None and (post.in_reply_to_user_id == me or authors.get(replied) == me):
        kind, about = "reply", replied
    elif quoted is not None and authors.get(quoted) == me:
        kind, about = "quote", quoted
    author = _author(post, includes) or Account(id="unknown", network=NETWORK)
    return Message(
        id=post.id,
        network=NETWORK,
        kind=kind,
        text=html.unescape(post.text),
        author=author,
        created_at=_aware(post.created_at) or _required_time(post.id),
        post_id=about,
        conversation_id=post.conversation_id,
        url=post_url(post.id, author.handle),
        language=post.lang if post.lang and post.lang.isalpha() else None,
        raw=post,
    )


def message_from_reply(post: WirePost, includes: Includes) -> Message:
    """A post of a conversation (``ex_replies``) as a ``reply`` Message."""
    author = _author(post, includes) or Account(id="unknown", network=NETWORK)
    return Message(
        id=post.id,
        network=NETWORK,
        kind="reply",
        text=html.unescape(post.text),
        author=author,
        created_at=_aware(post.created_at) or _required_time(post.id),
        post_id=post.reference("replied_to"),
        conversation_id=post.conversation_id,
        url=post_url(post.id, author.handle),
        raw=post,
    )


def message_from_dm(event: DmEvent, includes: Includes) -> Message:
    user = _users(includes).get(event.sender_id or "")
    author = (
        account_from(user)
        if user is not None
        else Account(id=event.sender_id or "unknown", network=NETWORK)
    )
    return Message(
        id=event.id,
        network=NETWORK,
        kind="direct",
        text=html.unescape(event.text),
        author=author,
        created_at=_aware(event.created_at) or _required_time(event.id),
        conversation_id=event.dm_conversation_id,
        url=f"{WEB}/messages/{event.dm_conversation_id}" if event.dm_conversation_id else None,
        raw=event,
    )


def _required_time(object_id: str) -> datetime:
    found = snowflake_time(object_id)
    return found if found is not None else datetime.now(timezone.utc)


def comparable_text(text: str, url_spans: Iterable[tuple[int, int]]) -> str:
    """A text as X stores it, for matching: HTML entities decoded, NFC, URLs removed (X replaces
    them, and appends media links, with t.co links), whitespace collapsed."""
    spans = sorted(url_spans, reverse=True)
    for start, end in spans:
        text = text[:start] + " " + text[end:]
    return " ".join(text.split())


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", html.unescape(text))
