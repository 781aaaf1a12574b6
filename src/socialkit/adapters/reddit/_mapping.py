"""Reddit things into socialkit's models.

A post's text is its title, then (after a line break) its body: publishing takes the text's
first line as the title and the rest as the body, and reading gives them back the same way.
Ids are fullnames: ``t3_…`` submissions, ``t1_…`` comments, ``t4_…`` private messages.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from socialkit._models import Account, Feed, Media, MediaKind, Message, MessageKind, Post
from socialkit.adapters.reddit import _wire as wire
from socialkit.text import url_spans

__all__ = [
    "account_from",
    "feed_from",
    "message_from",
    "post_from_comment",
    "post_from_link",
    "split_text",
]

WEB = "https://www.reddit.com"


def split_text(text: str) -> tuple[str, str]:
    """(title, body) of a post's text: the first line, and what follows it."""
    title, _, body = text.partition("\n")
    return title.strip(), body


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, timezone.utc)


def _author(name: str | None, fullname: str | None = None) -> Account | None:
    if not name or name == "[deleted]":
        return None
    return Account(id=fullname or name, handle=name, url=f"{WEB}/user/{name}", network="reddit")


def _unescape(url: str | None) -> str | None:
    # Without raw_json=1 Reddit escapes & as &amp; in URLs; the adapter asks for raw JSON, and
    # this keeps an escaped URL usable anyway.
    return html.unescape(url) if url else url


def _media(link: wire.Link) -> list[Media]:
    found: list[Media] = []
    if link.gallery_data and link.media_metadata:
        for item in link.gallery_data.get("items") or []:
            meta = link.media_metadata.get(str(item.get("media_id"))) or {}
            source = meta.get("s") or {}
            mime = str(meta.get("m") or "image/jpeg")
            kind: MediaKind = "gif" if mime == "image/gif" or "gif" in source else "image"
            url = _unescape(source.get("u") or source.get("gif"))
            found.append(
                Media(
                    kind=kind,
                    mime_type=mime,
                    url=url,
                    id=str(item.get("media_id")),
                    alt=item.get("caption") or None,
                    width=source.get("x") or None,
                    height=source.get("y") or None,
                )
            )
        return found
    video = (link.media or {}).get("reddit_video") if link.media else None
    if link.is_video and isinstance(video, dict):
        preview = ((link.preview or {}).get("images") or [{}])[0].get("source") or {}
        found.append(
            Media(
                kind="gif" if video.get("is_gif") else "video",
                mime_type="video/mp4",
                url=_unescape(video.get("fallback_url")),
                width=video.get("width") or None,
                height=video.get("height") or None,
                duration=float(video["duration"]) if video.get("duration") is not None else None,
                preview_url=_unescape(preview.get("url")),
            )
        )
        return found
    if link.post_hint == "image" and link.url:
        url = _unescape(link.url) or ""
        is_gif = url.lower().endswith(".gif")
        source = ((link.preview or {}).get("images") or [{}])[0].get("source") or {}
        found.append(
            Media(
                kind="gif" if is_gif else "image",
                mime_type="image/gif" if is_gif else "image/jpeg",
                url=url,
                width=source.get("width") or None,
                height=source.get("height") or None,
            )
        )
    return found


def post_from_link(link: wire.Link, raw: Any = None) -> Post:
    text = link.title + (f"\n{link.selftext}" if link.selftext else "")
    media = _media(link)
    url: str | None
    if link.is_self or media or link.crosspost_parent:
        spans = url_spans(text)
        url = text[spans[0][0] : spans[0][1]] if spans else None
    else:
        url = _unescape(link.url)
    return Post(
        text=text,
        media=media,
        link=url,
        quote_of=link.crosspost_parent,
        sensitive=link.over_18,
        content_warning="spoiler" if link.spoiler else None,
        id=link.name,
        network="reddit",
        url=f"{WEB}{link.permalink}",
        author=_author(link.author, link.author_fullname),
        created_at=_time(link.created_utc),
        # The common names, as ``metrics()`` reports them: the score is Reddit's like count.
        metrics={"likes": link.score, "replies": link.num_comments},
        raw=raw if raw is not None else link,
    )


def post_from_comment(comment: wire.Comment, raw: Any = None) -> Post:
    spans = url_spans(comment.body)
    return Post(
        text=comment.body,
        link=comment.body[spans[0][0] : spans[0][1]] if spans else None,
        reply_to=comment.parent_id,
        id=comment.name,
        network="reddit",
        url=f"{WEB}{comment.permalink}" if comment.permalink else None,
        author=_author(comment.author, comment.author_fullname),
        created_at=_time(comment.created_utc),
        metrics={"likes": comment.score},
        raw=raw if raw is not None else comment,
    )


_INBOX_KINDS: dict[str, MessageKind] = {
    "comment_reply": "reply",
    "post_reply": "comment",
    "username_mention": "mention",
}


def message_from(thing: wire.Thing) -> Message | None:
    """An inbox item: a reply to a comment (``reply``), to a post (``comment``), a mention of
    the user (``mention``) or a private message (``direct``)."""
    if thing.kind == "t4":
        pm = wire.PrivateMessage.model_validate(thing.data)
        author = _author(pm.author) or Account(id="reddit", handle="reddit", network="reddit")
        return Message(
            id=pm.name,
            network="reddit",
            kind="direct",
            text=pm.body,
            author=author,
            created_at=_time(pm.created_utc),
            conversation_id=pm.first_message_name or pm.name,
            url=f"{WEB}/message/messages/{pm.id}",
            raw=thing,
        )
    if thing.kind == "t1":
        comment = wire.Comment.model_validate(thing.data)
        kind = _INBOX_KINDS.get(comment.type or "", "reply")
        author = _author(comment.author, comment.author_fullname) or Account(
            id="[deleted]", network="reddit"
        )
        return Message(
            id=comment.name,
            network="reddit",
            kind=kind,
            text=comment.body,
            author=author,
            created_at=_time(comment.created_utc),
            post_id=comment.parent_id if kind != "mention" else comment.link_id,
            conversation_id=comment.link_id,
            url=f"{WEB}{comment.context}" if comment.context else None,
            raw=thing,
        )
    return None


def account_from(me: wire.Me) -> Account:
    return Account(
        id=f"t2_{me.id}",
        handle=me.name,
        name=me.name,
        url=f"{WEB}/user/{me.name}",
        avatar_url=_unescape(me.icon_img) or None,
        followers=(me.subreddit or {}).get("subscribers"),
        network="reddit",
        raw=me,
    )


def feed_from(multi: wire.LabeledMulti) -> Feed:
    """A multireddit as a :class:`Feed`: its id is its path (``/user/{owner}/m/{name}``),
    its members the subreddits it gathers."""
    data = multi.data
    owner = data.owner or data.path.split("/")[2]
    return Feed(
        id=data.path.rstrip("/"),
        network="reddit",
        name=data.display_name or data.name,
        kind="feed",
        description=data.description_md or None,
        url=f"https://www.reddit.com{data.path}",
        owner=_author(owner),
        members_count=len(data.subreddits),
        raw=multi,
    )
