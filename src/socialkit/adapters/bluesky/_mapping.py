"""Bluesky payloads -> the common model (one table for metric names)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from socialkit._errors import InvalidRequestError, MalformedResponseError
from socialkit._models import (
    Account,
    Feed,
    Media,
    MediaKind,
    Message,
    MessageKind,
    Metric,
    PageAccounts,
    Post,
    read_back_post,
)
from socialkit.adapters.bluesky._wire import (
    ChatMessage,
    ChatProfile,
    FeedItem,
    GeneratorView,
    ListView,
    Notification,
    PostView,
    Profile,
    ProfileBasic,
)

__all__ = [
    "ACCOUNT_METRICS",
    "AtUri",
    "BlobUrl",
    "NETWORK",
    "POST_COLLECTION",
    "POST_METRICS",
    "account_from_profile",
    "feed_from_generator",
    "feed_from_list",
    "media_from_embed",
    "message_from_chat",
    "message_from_notification",
    "metrics_from_view",
    "page_accounts",
    "parse_at_uri",
    "parse_datetime",
    "post_from_feed_item",
    "post_from_record",
    "post_from_view",
    "post_time",
    "web_url",
]

NETWORK = "bluesky"
POST_COLLECTION = "app.bsky.feed.post"
WEB = "https://bsky.app"

#: app.bsky.feed.defs#postView counter -> canonical metric name.
POST_METRICS: dict[str, str] = {
    "likeCount": "likes",
    "repostCount": "reposts",
    "replyCount": "replies",
    "quoteCount": "quotes",
    "bookmarkCount": "bookmarks",
}
_POST_FIELDS = {
    "likeCount": "like_count",
    "repostCount": "repost_count",
    "replyCount": "reply_count",
    "quoteCount": "quote_count",
    "bookmarkCount": "bookmark_count",
}
#: app.bsky.actor.defs#profileViewDetailed counter -> canonical metric name.
ACCOUNT_METRICS: dict[str, str] = {
    "followersCount": "followers",
    "followsCount": "following",
    "postsCount": "posts",
}
_PROFILE_FIELDS = {
    "followersCount": "followers_count",
    "followsCount": "follows_count",
    "postsCount": "posts_count",
}

_AT_URI = re.compile(r"^at://(?P<repo>[^/?#\s]+)/(?P<collection>[^/?#\s]+)/(?P<rkey>[^/?#\s]+)$")
_FRACTION = re.compile(r"\.(\d+)")


class AtUri:
    """The three parts of a record's AT-URI."""

    __slots__ = ("collection", "repo", "rkey")

    def __init__(self, repo: str, collection: str, rkey: str) -> None:
        self.repo = repo
        self.collection = collection
        self.rkey = rkey

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def parse_at_uri(value: str) -> AtUri | None:
    """The parts of ``at://repo/collection/rkey``, or ``None`` when ``value`` is not one."""
    match = _AT_URI.match(value)
    if match is None:
        return None
    return AtUri(match["repo"], match["collection"], match["rkey"])


def parse_datetime(value: str) -> datetime:
    """An AT Protocol datetime (RFC 3339, any number of fraction digits) as aware UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # fromisoformat on Python 3.10 takes exactly 3 or 6 fraction digits.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedResponseError(
            NETWORK, 200, "malformed_response", "a datetime in the response is not RFC 3339"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def web_url(repo: str, rkey: str) -> str:
    """The bsky.app address of a post."""
    return f"{WEB}/profile/{repo}/post/{rkey}"


def account_from_profile(profile: ProfileBasic | ChatProfile) -> Account:
    counts: dict[str, Any] = {}
    if isinstance(profile, Profile):
        counts = {
            "followers": profile.followers_count,
            "following": profile.follows_count,
            "posts_count": profile.posts_count,
        }
    return Account(
        id=profile.did,
        handle=profile.handle,
        name=profile.display_name or None,
        url=f"{WEB}/profile/{profile.handle}",
        avatar_url=profile.avatar,
        network=NETWORK,
        raw=profile,
        **counts,
    )


def page_accounts() -> PageAccounts:
    """The authors of one page: its posts by one author share one :class:`Account`."""
    return PageAccounts(account_from_profile, lambda profile: profile.did)


def _text(record: dict[str, Any]) -> str:
    text = record.get("text")
    return text if isinstance(text, str) else ""


def _created_at(record: dict[str, Any], fallback: str | None) -> datetime | None:
    value = record.get("createdAt")
    if isinstance(value, str):
        return parse_datetime(value)
    return parse_datetime(fallback) if fallback else None


def _reply_parent(record: dict[str, Any]) -> str | None:
    reply = record.get("reply")
    if isinstance(reply, dict):
        parent = reply.get("parent")
        if isinstance(parent, dict) and isinstance(parent.get("uri"), str):
            return str(parent["uri"])
    return None


def reply_root(record: dict[str, Any]) -> dict[str, str] | None:
    """The ``reply.root`` strong ref of a post record, when it is a reply."""
    reply = record.get("reply")
    if isinstance(reply, dict):
        root = reply.get("root")
        if (
            isinstance(root, dict)
            and isinstance(root.get("uri"), str)
            and isinstance(root.get("cid"), str)
        ):
            return {"uri": str(root["uri"]), "cid": str(root["cid"])}
    return None


def _quoted(record: dict[str, Any]) -> str | None:
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        embed = embed.get("record")
        if not isinstance(embed, dict):
            return None
    elif kind != "app.bsky.embed.record":
        return None
    ref = embed.get("record")
    if isinstance(ref, dict) and isinstance(ref.get("uri"), str):
        return str(ref["uri"])
    return None


def _language(record: dict[str, Any]) -> str | None:
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        lang = langs[0]
        if re.fullmatch(r"[a-zA-Z]{2,3}([-_][a-zA-Z0-9]+)*", lang):
            return lang
    return None


def _link(record: dict[str, Any]) -> str | None:
    """The link card's address (an external embed, alone or beside a quote), else the first
    link facet's (the address a post with media carries in its text)."""
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("media")
    if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.external":
        external = embed.get("external")
        if isinstance(external, dict) and isinstance(external.get("uri"), str):
            return str(external["uri"])
    for facet in record.get("facets") or []:
        if not isinstance(facet, dict):
            continue
        for feature in facet.get("features") or []:
            if (
                isinstance(feature, dict)
                and feature.get("$type") == "app.bsky.richtext.facet#link"
                and isinstance(feature.get("uri"), str)
            ):
                return str(feature["uri"])
    return None


BlobUrl = Callable[[str, str], str]
"""``(did, cid) -> URL`` of a blob (com.atproto.sync.getBlob), for records read without an
AppView view of their media."""

_MEDIA_EMBEDS = ("app.bsky.embed.images", "app.bsky.embed.video", "app.bsky.embed.gallery")


def _blob_ref(blob: Any) -> tuple[str | None, str | None, int | None]:
    """``(cid, mimeType, size)`` of a blob reference (or of the legacy ``{cid, mimeType}``)."""
    if not isinstance(blob, dict):
        return None, None, None
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
    mime, size = blob.get("mimeType"), blob.get("size")
    return (
        cid if isinstance(cid, str) else None,
        mime if isinstance(mime, str) else None,
        size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
    )


def _ratio(item: dict[str, Any]) -> tuple[int | None, int | None]:
    ratio = item.get("aspectRatio")
    if isinstance(ratio, dict):
        width, height = ratio.get("width"), ratio.get("height")
        if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
            return width, height
    return None, None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _media_part(embed: Any) -> dict[str, Any] | None:
    """The media part of an embed (record or view): itself, or recordWithMedia's ``media``."""
    if not isinstance(embed, dict):
        return None
    kind = str(embed.get("$type", "")).split("#")[0]
    if kind == "app.bsky.embed.recordWithMedia":
        media = embed.get("media")
        return media if isinstance(media, dict) else None
    return embed if kind in _MEDIA_EMBEDS else None


def media_from_embed(
    record_embed: Any, view_embed: Any, did: str, blob_url: BlobUrl | None
) -> list[Media]:
    """The images, video or gallery of a post as :class:`Media`, alt text, size, aspect ratio
    (as width/height), blob CID (``id``), and URLs included.

    ``record_embed`` is the record's (app.bsky.embed.images / video / gallery, alone or in
    recordWithMedia: blob CIDs, MIME types, sizes); ``view_embed`` the AppView's #view of it
    (``fullsize``/``thumb`` or ``playlist``/``thumbnail`` URLs). Without a view, ``url`` is
    the PDS's getBlob address of the blob (``blob_url``).
    """
    record = _media_part(record_embed)
    view = _media_part(view_embed)
    if record is None and view is None:
        return []
    kind = str((record or view or {}).get("$type", "")).split("#")[0]
    record = record or {}
    view = view or {}
    out: list[Media] = []
    if kind == "app.bsky.embed.video":
        cid, mime, size = _blob_ref(record.get("video"))
        cid = cid or _str(view.get("cid"))
        url = _str(view.get("playlist")) or (blob_url(did, cid) if blob_url and cid else None)
        if url is None:
            return []
        width, height = _ratio(record) if record else _ratio(view)
        presentation = record.get("presentation") or view.get("presentation")
        video_kind: MediaKind = "gif" if presentation == "gif" else "video"
        out.append(
            Media(
                kind=video_kind,
                url=url,
                preview_url=_str(view.get("thumbnail")),
                alt=_str(record.get("alt")) or _str(view.get("alt")),
                mime_type=mime or "video/mp4",
                size=size,
                width=width,
                height=height,
                id=cid,
            )
        )
        return out
    field, thumb_key = ("images", "thumb")
    if kind == "app.bsky.embed.gallery":
        field, thumb_key = ("items", "thumbnail")
    records = [i for i in record.get(field) or [] if isinstance(i, dict)]
    views = [i for i in view.get(field) or [] if isinstance(i, dict)]
    for index in range(max(len(records), len(views))):
        item = records[index] if index < len(records) else {}
        shown = views[index] if index < len(views) else {}
        cid, mime, size = _blob_ref(item.get("image"))
        url = _str(shown.get("fullsize")) or (blob_url(did, cid) if blob_url and cid else None)
        if url is None:
            continue
        width, height = _ratio(item) if item.get("aspectRatio") else _ratio(shown)
        out.append(
            Media(
                kind="image",
                url=url,
                preview_url=_str(shown.get(thumb_key)),
                alt=_str(item.get("alt")) or _str(shown.get("alt")),
                mime_type=mime or "image/jpeg",
                size=size,
                width=width,
                height=height,
                id=cid,
            )
        )
    return out


def post_from_record(
    uri: str,
    value: dict[str, Any],
    *,
    author: Account | None = None,
    metrics: dict[str, int] | None = None,
    indexed_at: str | None = None,
    raw: Any = None,
    view_embed: Any = None,
    blob_url: BlobUrl | None = None,
) -> Post:
    """A post from a repository record (``com.atproto.repo.getRecord`` / ``listRecords``),
    with its media (``view_embed``: the AppView's view of the record's embed, if any)."""
    parts = parse_at_uri(uri)
    if parts is None:
        raise MalformedResponseError(
            NETWORK, 200, "malformed_response", "a record URI in the response is not an AT-URI"
        )
    return read_back_post(
        text=_text(value),
        media=media_from_embed(value.get("embed"), view_embed, parts.repo, blob_url),
        link=_link(value),
        reply_to=_reply_parent(value),
        quote_of=_quoted(value),
        language=_language(value),
        id=uri,
        network=NETWORK,
        url=web_url(author.handle if author and author.handle else parts.repo, parts.rkey),
        author=author or Account(id=parts.repo, network=NETWORK),
        created_at=_created_at(value, indexed_at),
        metrics=metrics or {},
        raw=raw if raw is not None else {"uri": uri, "value": value},
    )


def _view_counts(view: PostView) -> dict[str, int]:
    counts: dict[str, int] = {}
    for native, name in POST_METRICS.items():
        value = getattr(view, _POST_FIELDS[native])
        if value is not None:
            counts[name] = value
    return counts


def post_from_view(view: PostView, raw: Any = None, accounts: PageAccounts | None = None) -> Post:
    """A post from an app.bsky.feed.defs#postView (with its counters and media views);
    ``accounts`` shares the authors between the posts of one page (:func:`page_accounts`)."""
    return post_from_record(
        view.uri,
        view.record,
        author=account_from_profile(view.author) if accounts is None else accounts(view.author),
        metrics=_view_counts(view),
        indexed_at=view.indexed_at,
        raw=raw if raw is not None else view,
        view_embed=view.embed,
    )


def post_from_feed_item(item: FeedItem, accounts: PageAccounts | None = None) -> Post:
    """The post of a feed item (app.bsky.feed.defs#feedViewPost); ``raw`` is the item, so
    that :func:`post_time` sees when a repost put it in the feed."""
    return post_from_view(item.post, raw=item, accounts=accounts)


def post_time(post: Post) -> datetime | None:
    """Where a post stands in a feed: the repost's time for a reposted post (``raw`` is its
    feed item), else the post's own time."""
    raw = post.raw
    if isinstance(raw, FeedItem) and raw.reason is not None:
        when = raw.reason.get("indexedAt")
        if isinstance(when, str):
            return parse_datetime(when)
    return post.created_at


def feed_from_list(view: ListView) -> Feed:
    """A list (app.bsky.graph.defs#listView) as a Feed."""
    parts = parse_at_uri(view.uri)
    return Feed(
        id=view.uri,
        network=NETWORK,
        name=view.name,
        kind="list",
        description=view.description or None,
        url=f"{WEB}/profile/{view.creator.did}/lists/{parts.rkey}" if parts else None,
        owner=account_from_profile(view.creator),
        members_count=view.list_item_count,
        raw=view,
    )


def feed_from_generator(view: GeneratorView) -> Feed:
    """A feed generator (app.bsky.feed.defs#generatorView) as a Feed."""
    parts = parse_at_uri(view.uri)
    return Feed(
        id=view.uri,
        network=NETWORK,
        name=view.display_name,
        kind="feed",
        description=view.description or None,
        url=f"{WEB}/profile/{view.creator.did}/feed/{parts.rkey}" if parts else None,
        owner=account_from_profile(view.creator),
        raw=view,
    )


def metrics_from_view(view: PostView, post_id: str, measured_at: datetime) -> list[Metric]:
    """The counters of a post view as Metrics under canonical names."""
    metrics = []
    for native, name in POST_METRICS.items():
        value = getattr(view, _POST_FIELDS[native])
        if value is None:
            continue
        metrics.append(
            Metric(
                name=name,
                value=value,
                network=NETWORK,
                post_id=post_id,
                native_name=native,
                period="lifetime",
                measured_at=measured_at,
            )
        )
    return metrics


def account_metrics_from_profile(profile: Profile, measured_at: datetime) -> list[Metric]:
    metrics = []
    for native, name in ACCOUNT_METRICS.items():
        value = getattr(profile, _PROFILE_FIELDS[native])
        if value is None:
            continue
        metrics.append(
            Metric(
                name=name,
                value=value,
                network=NETWORK,
                native_name=native,
                period="lifetime",
                measured_at=measured_at,
            )
        )
    return metrics


#: listNotifications reasons that become Messages, and their kind.
NOTIFICATION_KINDS: dict[str, MessageKind] = {
    "mention": "mention",
    "reply": "reply",
    "quote": "quote",
}


def message_from_notification(item: Notification) -> Message:
    """A mention, reply or quote notification as a Message.

    ``id`` is the URI of the post that mentions, replies or quotes; ``post_id`` the post of the
    account it answers (the reply's parent, the quoted post; none for a mention);
    ``conversation_id`` the thread root (the post itself when it starts a thread).
    """
    kind = NOTIFICATION_KINDS[item.reason]
    record = item.record
    root = reply_root(record)
    if kind == "reply":
        post_id = _reply_parent(record) or item.reason_subject
    elif kind == "quote":
        post_id = item.reason_subject or _quoted(record)
    else:
        post_id = None
    parts = parse_at_uri(item.uri)
    author = account_from_profile(item.author)
    return Message(
        id=item.uri,
        network=NETWORK,
        kind=kind,
        text=_text(record),
        author=author,
        created_at=_created_at(record, item.indexed_at) or parse_datetime(item.indexed_at),
        post_id=post_id,
        conversation_id=root["uri"] if root else item.uri,
        url=web_url(item.author.handle, parts.rkey) if parts else None,
        language=_language(record),
        raw=item,
    )


def message_from_chat(
    message: ChatMessage, convo_id: str, members: dict[str, ChatProfile]
) -> Message:
    """A direct message (chat.bsky.convo.defs#messageView) as a Message."""
    if message.text is None or message.sender is None:
        raise InvalidRequestError(NETWORK, None, "not_a_message", "not a chat message view")
    sender = members.get(message.sender.did)
    author = (
        account_from_profile(sender)
        if sender is not None
        else Account(id=message.sender.did, network=NETWORK)
    )
    return Message(
        id=message.id,
        network=NETWORK,
        kind="direct",
        text=message.text,
        author=author,
        created_at=parse_datetime(message.sent_at),
        conversation_id=convo_id,
        raw=message,
    )
