"""Mastodon payloads (``_wire``) to the common model, and the metric names table."""

from __future__ import annotations

import mimetypes
import re
from datetime import datetime, timedelta
from typing import Literal

from socialkit._models import (
    Account,
    Feed,
    Media,
    MediaKind,
    Message,
    MessageKind,
    Metric,
    PageAccounts,
    Poll,
    Post,
    read_back_post,
)
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

#: Mastodon's attachment types (MediaAttachmentTypeEnum) -> socialkit's kinds. A GIF is
#: converted to a looping MP4 (``gifv``); ``unknown`` (a remote file the server could not
#: process) has no equivalent.
_MEDIA_KINDS: dict[str, MediaKind] = {
    "image": "image",
    "gifv": "gif",
    "video": "video",
    "audio": "audio",
}
_FALLBACK_MIME = {
    "image": "image/jpeg",
    "gif": "video/mp4",
    "video": "video/mp4",
    "audio": "audio/mpeg",
}
#: A URL in plain text (what html_to_text gives for a link: its full ``href``).
_URL = re.compile(r"https?://[^\s<>\"]+")


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


def page_accounts(host: str) -> PageAccounts:
    """The accounts of one page: statuses by one author share one :class:`Account`."""
    return PageAccounts(lambda wire: account(wire, host), lambda wire: wire.id)


def media(wire: _wire.MediaAttachment) -> Media | None:
    """An attachment as :class:`Media` (by URL), with its alt text, id, preview image and what
    the server measured (``meta``: width and height of the original, duration of a video or
    audio file). ``unknown`` attachments, and attachments without a URL yet, have no
    equivalent."""
    kind = _MEDIA_KINDS.get(wire.type)
    url = wire.url or wire.remote_url
    if kind is None or url is None or not url.startswith(("https://", "http://")):
        return None
    mime = mimetypes.guess_type(url.split("?", 1)[0])[0] or _FALLBACK_MIME[kind]
    if not mime.startswith(("image/", "video/", "audio/")):
        mime = _FALLBACK_MIME[kind]
    width = height = None
    duration: float | None = None
    meta = wire.meta
    if meta is not None:
        original = meta.original
        if original is not None:
            width, height, duration = original.width, original.height, original.duration
        width = width or meta.width
        height = height or meta.height
        duration = duration if duration is not None else meta.duration
    preview = wire.preview_url
    return Media(
        kind=kind,
        url=url,
        alt=wire.description or None,
        mime_type=mime,
        width=width if width and width > 0 else None,
        height=height if height and height > 0 else None,
        duration=duration if duration is not None and duration >= 0 else None,
        preview_url=preview if preview and preview != url else None,
        id=wire.id,
    )


def _media_list(items: list[_wire.MediaAttachment]) -> list[Media]:
    return [m for m in (media(item) for item in items) if m is not None]


def status_metrics(wire: _wire.Status) -> dict[str, int]:
    values: dict[str, int] = {}
    for name, native in POST_METRICS:
        value = getattr(wire, native)
        if value is not None:
            values[name] = int(value)
    return values


def poll(wire: _wire.PollWire, created_at: datetime) -> Poll | None:
    """A status's poll: options, votes per option (None while the server hides the totals),
    when it closes, and its duration counted from the status's creation."""
    if len(wire.options) < 2:
        return None
    counts = [o.votes_count for o in wire.options]
    votes = None if any(c is None for c in counts) else [int(c or 0) for c in counts]
    expires = wire.expires_at
    duration = expires - created_at if expires is not None else timedelta(0)
    # Servers stamp ``expires_at`` in milliseconds: a duration given in seconds reads back as
    # those seconds.
    duration = timedelta(seconds=max(0, round(duration.total_seconds())))
    return Poll(
        options=[o.title for o in wire.options],
        duration=duration,
        multiple=wire.multiple,
        votes=votes,
        expires_at=expires,
    )


def text_and_link(plain: str, card: _wire.PreviewCard | None) -> tuple[str, str | None]:
    """The text of a status and its link.

    A link socialkit adds to a post's text (``Post.link`` not in ``Post.text``: appended after
    a blank line) is taken off the text again, so that what ``publish`` accepted reads back.
    Otherwise the link is the server's preview card's, else the last URL of the text (a link
    Mastodon shows shortened reads as its full address: see ``_html``)."""
    found = _URL.findall(plain)
    if found:
        last = found[-1]
        head, sep, tail = plain.rpartition("\n\n")
        if sep and tail == last and last not in head:
            return head, last
        if not sep and plain == last:
            return "", last
    if card is not None and card.url.startswith(("https://", "http://")):
        return plain, card.url
    return plain, (found[-1] if found else None)


def post(wire: _wire.Status, host: str, accounts: PageAccounts | None = None) -> Post:
    """A status as a :class:`Post` (a reblog reads as the reblogged status it carries).

    ``accounts`` shares the authors between the statuses of one page (:func:`page_accounts`).
    """
    if wire.reblog is not None:
        # ``raw`` stays the boost, whose time and id place it in a timeline.
        return post(wire.reblog, host, accounts).model_copy(update={"raw": wire})
    plain = wire.text if wire.text is not None else html_to_text(wire.content)
    text, link = text_and_link(plain, wire.card)
    return read_back_post(
        text=text,
        link=link,
        poll=poll(wire.poll, wire.created_at) if wire.poll is not None else None,
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
        author=account(wire.account, host) if accounts is None else accounts(wire.account),
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
    accounts: PageAccounts | None = None,
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
        author=account(wire.account, host) if accounts is None else accounts(wire.account),
        created_at=wire.created_at,
        post_id=post_id if post_id is not None else wire.in_reply_to_id,
        conversation_id=conversation_id,
        url=wire.url or wire.uri,
        language=_language(wire.language),
        raw=wire,
    )


def feed(wire: _wire.List) -> Feed:
    """A Mastodon list as a :class:`Feed` (its posts: ``GET /api/v1/timelines/list/:id``)."""
    return Feed(id=wire.id, network=NETWORK, name=wire.title, kind="list")
