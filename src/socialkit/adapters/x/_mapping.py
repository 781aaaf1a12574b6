"""X API v2 payloads -> the common model. The one table of metric names lives here."""

from __future__ import annotations

import html
import mimetypes
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from socialkit._models import (
    Account,
    Feed,
    Media,
    MediaKind,
    Message,
    MessageKind,
    Metric,
    Poll,
    Post,
    RawPage,
    read_back_post,
)
from socialkit.adapters.x._wire import (
    DmEvent,
    Includes,
    WireList,
    WireMedia,
    WirePoll,
    WirePost,
    WireUser,
)

__all__ = [
    "ACCOUNT_METRICS",
    "POST_METRICS",
    "Expansions",
    "account_from",
    "account_metrics_from",
    "feed_from",
    "media_from",
    "message_from_dm",
    "message_from_post",
    "metrics_from",
    "poll_from",
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


def account_from(user: WireUser, *, raw: Any = None) -> Account:
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
        raw=user if raw is None else raw,
    )


class Expansions:
    """One answer's ``includes``, indexed once for all its posts: users by id, media by key,
    polls by id; each user is read into one :class:`Account` that every post of the answer
    by that author shares. ``users_raw`` holds the answer's body for the accounts' ``raw``
    (``includes.users``, decoded when read); without it, ``raw`` is the user itself."""

    __slots__ = ("_accounts", "_post_authors", "_users", "_users_raw", "includes", "media", "polls")

    def __init__(self, includes: Includes | None = None, users_raw: RawPage | None = None) -> None:
        self.includes = includes if includes is not None else Includes()
        self._users = {user.id: index for index, user in enumerate(self.includes.users)}
        self._users_raw = users_raw
        self.media: dict[str, WireMedia] = {m.media_key: m for m in self.includes.media}
        self.polls: dict[str, WirePoll] = {poll.id: poll for poll in self.includes.polls}
        self._accounts: dict[str, Account] = {}
        self._post_authors: dict[str, str | None] | None = None

    def post_author(self, post_id: str) -> str | None:
        """The author id of the included (referenced) post ``post_id``."""
        if self._post_authors is None:
            self._post_authors = {p.id: p.author_id for p in self.includes.posts}
        return self._post_authors.get(post_id)

    def account(self, user_id: str) -> Account:
        """The account ``user_id`` (only its id when the answer did not include the user)."""
        account = self._accounts.get(user_id)
        if account is None:
            index = self._users.get(user_id)
            if index is None:
                account = Account(id=user_id, network=NETWORK)
            else:
                raw = None if self._users_raw is None else self._users_raw.item(index)
                account = account_from(self.includes.users[index], raw=raw)
            self._accounts[user_id] = account
        return account


def _expansions(includes: Includes | Expansions | None) -> Expansions:
    return includes if isinstance(includes, Expansions) else Expansions(includes)


def _author(post: WirePost, expansions: Expansions) -> Account | None:
    return None if post.author_id is None else expansions.account(post.author_id)


_PUBLIC_METRICS = {
    field: names for (group, field), names in POST_METRICS.items() if group == "public_metrics"
}


_PUBLIC_NAMES = tuple((field, name) for field, names in _PUBLIC_METRICS.items() for name in names)


def _public_counts(post: WirePost) -> dict[str, int]:
    counts = post.public_metrics
    if not counts:
        return {}
    # A loop, not a comprehension: this runs for every post read, and a comprehension's own
    # frame costs a third of it (Python 3.11).
    out: dict[str, int] = {}
    for field, name in _PUBLIC_NAMES:
        if field in counts:
            out[name] = counts[field]
    return out


def post_from(
    post: WirePost, includes: Includes | Expansions | None = None, *, raw: Any = None
) -> Post:
    """A read-back :class:`Post` from an X post and the expansions that came with it: its
    media (``attachments.media_keys`` with ``includes.media``), its poll (``poll_ids`` with
    ``includes.polls``), what it replies to or quotes (``referenced_posts``) and its link
    (``entities.urls``: the t.co links in the text become the addresses they stand for).

    ``raw`` is the post's ``raw`` (``post`` itself by default; a page's reader passes a
    :class:`~socialkit._models.LazyRaw` into the page's body). Posts mapped with one
    :class:`Expansions` share their authors' accounts."""
    inc = _expansions(includes)
    author = _author(post, inc)
    text, link = _text_and_link(post)
    attached = post.attachments is not None
    referenced = post.referenced_posts is not None
    return read_back_post(
        text=text,
        media=(
            [m for m in (media_from(item) for item in _media_of(post, inc)) if m is not None]
            if attached
            else []
        ),
        link=link,
        id=post.id,
        network=NETWORK,
        url=post_url(post.id, author.handle if author else None),
        author=author,
        created_at=_aware(post.created_at) or snowflake_time(post.id),
        reply_to=post.reference("replied_to") if referenced else None,
        quote_of=post.reference("quoted") if referenced else None,
        poll=_poll_of(post, inc) if attached else None,
        language=post.lang if post.lang and post.lang.isalpha() else None,
        metrics=_public_counts(post),
        raw=post if raw is None else raw,
    )


def _text_and_link(post: WirePost) -> tuple[str, str | None]:
    """The text with each t.co link replaced by the address it stands for (and the links X
    appends for attached media removed), and the post's link.

    The adapter publishes ``Post.link`` as the text's last line when the text does not hold
    it; such a last line is taken back out into ``link``. Otherwise ``link`` is the first
    address the text links to (the text keeps it)."""
    text = html.unescape(post.text) if "&" in post.text else post.text
    urls = (post.entities.urls if post.entities else None) or []
    if not urls:
        return text, None
    links: list[str] = []
    # Replace from the end so that earlier offsets stay valid; offsets are of the text as X
    # stores it, so each replacement is checked against the t.co URL it expects there.
    for entity in sorted(urls, key=lambda u: u.start, reverse=True):
        short = entity.url
        target = entity.expanded_url or entity.unwound_url
        if not short:
            continue
        is_media = entity.media_key is not None
        if is_media:
            target = ""
        elif not target:
            continue
        else:
            links.append(target)
        if text[entity.start : entity.end] == short:
            text = text[: entity.start] + target + text[entity.end :]
        elif short in text:
            text = text.replace(short, target, 1)
    links.reverse()
    text = text.rstrip() if any(u.media_key for u in urls) else text
    link: str | None = None
    if links:
        last = links[-1]
        if text.endswith("\n" + last):
            text, link = text[: -len(last) - 1], last
        elif text == last:
            text, link = "", last
        else:
            link = links[0]
    return text, link


_VIDEO_KINDS: Mapping[str, MediaKind] = {"video": "video", "animated_gif": "gif"}


def media_from(item: WireMedia) -> Media | None:
    """One item of ``includes.media`` as :class:`Media`: a photo's ``url``; for a video or a
    GIF (which X serves as MP4) the MP4 variant of the highest bit rate, with
    ``preview_image_url`` as ``preview_url``. ``None`` for media with no address at all."""
    kind: MediaKind
    if item.type == "photo":
        kind = "image"
        url = item.url
        mime = (mimetypes.guess_type(url.split("?", 1)[0])[0] if url else None) or "image/jpeg"
    elif item.type is not None and item.type in _VIDEO_KINDS:
        kind = _VIDEO_KINDS[item.type]
        mp4 = [
            v
            for v in item.variants or ()
            if v.url and (v.content_type or "").lower() == "video/mp4"
        ]
        best = max(mp4, key=lambda v: v.bit_rate or 0) if mp4 else None
        url = best.url if best is not None else item.url or item.preview_image_url
        mime = "video/mp4"
    else:
        return None
    if not url:
        return None
    return Media(
        kind=kind,
        url=url,
        alt=item.alt_text or None,
        mime_type=mime,
        width=item.width if item.width else None,
        height=item.height if item.height else None,
        duration=item.duration_ms / 1000 if item.duration_ms is not None else None,
        preview_url=item.preview_image_url,
        id=item.media_key,
    )


def poll_from(poll: WirePoll, created_at: datetime | None) -> Poll | None:
    """``includes.polls`` item as :class:`Poll`, with the votes of each option and when voting
    ends. ``None`` when the poll cannot be a Poll (fewer than two options)."""
    options = sorted(poll.options, key=lambda o: o.position)
    if len(options) < 2:
        return None
    end = _aware(poll.end_datetime)
    if poll.duration_minutes is not None:
        duration = timedelta(minutes=poll.duration_minutes)
    elif end is not None and created_at is not None:
        duration = end - created_at
    else:
        duration = timedelta(days=1)  # X's default when a poll gives neither
    return Poll(
        options=[o.label for o in options],
        duration=duration,
        votes=[o.votes for o in options],
        expires_at=end,
    )


def _poll_of(post: WirePost, expansions: Expansions) -> Poll | None:
    ids = (post.attachments.poll_ids or []) if post.attachments else []
    for poll_id in ids:
        poll = expansions.polls.get(poll_id)
        if poll is not None:
            return poll_from(poll, _aware(post.created_at) or snowflake_time(post.id))
    return None


def feed_from(item: WireList, includes: Includes | Expansions | None = None) -> Feed:
    """An X list as a :class:`Feed` (owner from the ``owner_id`` expansion)."""
    owner = None if item.owner_id is None else _expansions(includes).account(item.owner_id)
    return Feed(
        id=item.id,
        network=NETWORK,
        name=item.name,
        kind="list",
        description=item.description or None,
        url=f"{WEB}/i/lists/{item.id}",
        owner=owner,
        members_count=item.member_count,
        raw=item,
    )


def _media_of(post: WirePost, expansions: Expansions) -> list[WireMedia]:
    """The post's media, in the order of its ``media_keys``."""
    keys = (post.attachments.media_keys or []) if post.attachments else []
    by_key = expansions.media
    return [by_key[k] for k in keys if k in by_key]


def metrics_from(
    post: WirePost, includes: Includes | Expansions, measured_at: datetime
) -> list[Metric]:
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
    media = _media_of(post, _expansions(includes))
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


def message_from_post(
    post: WirePost, includes: Includes | Expansions, me: str, *, raw: Any = None
) -> Message:
    """A mention as a Message: ``reply`` when it answers one of our posts, ``quote`` when it
    quotes one, ``mention`` otherwise (``raw`` as for :func:`post_from`)."""
    expansions = _expansions(includes)
    quoted = post.reference("quoted")
    replied = post.reference("replied_to")
    kind: MessageKind = "mention"
    about: str | None = None
    if replied is not None and (
        post.in_reply_to_user_id == me or expansions.post_author(replied) == me
    ):
        kind, about = "reply", replied
    elif quoted is not None and expansions.post_author(quoted) == me:
        kind, about = "quote", quoted
    author = _author(post, expansions) or Account(id="unknown", network=NETWORK)
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
        raw=post if raw is None else raw,
    )


def message_from_reply(
    post: WirePost, includes: Includes | Expansions, *, raw: Any = None
) -> Message:
    """A post of a conversation (``ex_replies``) as a ``reply`` Message."""
    author = _author(post, _expansions(includes)) or Account(id="unknown", network=NETWORK)
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
        raw=post if raw is None else raw,
    )


def message_from_dm(event: DmEvent, includes: Includes | Expansions) -> Message:
    author = _expansions(includes).account(event.sender_id or "unknown")
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
