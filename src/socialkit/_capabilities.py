"""What a network can do (:class:`Capability`) and the rules a post must follow (:class:`Limits`).

``check_post`` is the offline pre-flight shared by every adapter: it applies a ``Limits`` to a
post (and to each post of its thread) and returns the :class:`~socialkit.Problem` list. Adapters
add their network's own rules on top (Bluesky's byte limit, X's media mix …).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from socialkit._models import Post, Problem

__all__ = ["Capability", "Limits", "check_post", "count_code_points"]


class Capability(str, enum.Enum):
    """A thing a network lets an application do. Adapters declare the set they implement."""

    PUBLISH_TEXT = "publish_text"
    PUBLISH_IMAGE = "publish_image"
    PUBLISH_VIDEO = "publish_video"
    PUBLISH_GIF = "publish_gif"
    PUBLISH_AUDIO = "publish_audio"
    PUBLISH_THREAD = "publish_thread"
    PUBLISH_POLL = "publish_poll"
    QUOTE = "quote"
    NATIVE_SCHEDULING = "native_scheduling"
    DELETE = "delete"
    EDIT = "edit"
    READ_POSTS = "read_posts"
    READ_OTHERS = "read_others"
    POST_METRICS = "post_metrics"
    ACCOUNT_METRICS = "account_metrics"
    COMMENTS = "comments"
    MENTIONS = "mentions"
    DIRECT_MESSAGES = "direct_messages"
    REPLY = "reply"
    SEARCH = "search"
    WEBHOOKS = "webhooks"
    # Engagement: acting on other people's posts and accounts.
    LIKE = "like"
    REPOST = "repost"
    BOOKMARK = "bookmark"
    FOLLOW = "follow"
    BLOCK = "block"
    MUTE = "mute"
    HIDE = "hide"
    """Hide a reply or comment on one's own post (X hidden replies, Meta, YouTube)."""
    # People and feeds.
    ACCOUNTS = "accounts"
    """Look an account up by handle or id."""
    FOLLOWERS = "followers"
    """List an account's followers and the accounts it follows."""
    TIMELINE = "timeline"
    """The home feed: posts of the accounts one follows."""
    FEEDS = "feeds"
    """List-style feeds (lists, custom feeds) and their posts."""
    UPLOAD = "upload"
    """Upload media on its own, to attach to posts later."""
    STREAM = "stream"
    """Real-time events (``Adapter.stream``): posts, messages and deletions as they happen."""

    def __str__(self) -> str:
        return self.value


def count_code_points(text: str) -> int:
    """The plain length of a text in Unicode code points (Python's ``len``)."""
    return len(text)


@dataclass(frozen=True)
class Limits:
    """The rules of a network for one post. ``None`` means the network sets no such limit.

    ``count`` is the network's own way of measuring text (X's weighted length, Bluesky's
    graphemes, Telegram's UTF-16 units, Mastodon's URL-aware count); ``max_text`` is in its units.
    """

    max_text: int | None = None
    count: Callable[[str], int] = count_code_points
    text_unit: str = "characters"
    max_media: int = 0
    max_images: int | None = None
    max_videos: int | None = None
    max_gifs: int | None = None
    max_audios: int | None = None
    mix_media: bool = True
    """Whether images, GIFs and videos may be attached to the same post."""
    image_max_bytes: int | None = None
    gif_max_bytes: int | None = None
    video_max_bytes: int | None = None
    audio_max_bytes: int | None = None
    media_types: frozenset[str] = field(default_factory=frozenset)
    """Accepted MIME types; empty means any image, GIF or video."""
    max_alt_text: int | None = None
    max_thread: int | None = None
    """The most posts in one thread (the first post included); ``None`` for no limit."""
    max_poll_options: int | None = None
    max_poll_option_text: int | None = None
    needs_text: bool = False
    """The network refuses a post without text (even with media)."""

    def summary(self) -> dict[str, object]:
        """The limits as plain data, for listings (the counting function by name)."""
        out: dict[str, object] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "count":
                value = getattr(value, "__name__", repr(value))
            elif isinstance(value, frozenset):
                value = sorted(value)
            out[name] = value
        return out


def check_post(post: Post, limits: Limits, network: str) -> list[Problem]:
    """Check a post and its thread against ``limits``; return every problem found."""
    problems: list[Problem] = []
    posts = post.posts()
    if limits.max_thread is not None and len(posts) > limits.max_thread:
        problems.append(
            Problem(
                code="thread_too_long",
                message=(
                    f"{network} allows at most {limits.max_thread} posts in a thread, "
                    f"this one has {len(posts)}"
                ),
                field="thread",
                limit=limits.max_thread,
                actual=len(posts),
            )
        )
    for index, item in enumerate(posts):
        prefix = "" if index == 0 else f"thread[{index - 1}]."
        problems.extend(_check_one(item, limits, network, prefix))
    return problems


def _check_one(post: Post, limits: Limits, network: str, prefix: str) -> list[Problem]:
    problems: list[Problem] = []
    where = f"post {prefix.rstrip('.')}" if prefix else "the post"
    if limits.max_text is not None:
        from socialkit.text._bounds import over_limit  # (text is a core module)

        # A text that surely fits is not counted; one far over the limit is refused from a
        # prefix: "at least" that long.
        over = over_limit(post.text, limits.count, limits.max_text)
        if over is not None:
            length, exact = over
            problems.append(
                Problem(
                    code="text_too_long",
                    message=(
                        f"the text of {where} is {'' if exact else 'at least '}{length} "
                        f"{limits.text_unit} long; {network} allows {limits.max_text}"
                    ),
                    field=f"{prefix}text",
                    limit=limits.max_text,
                    actual=length,
                )
            )
    if limits.needs_text and not post.text.strip():
        problems.append(
            Problem(
                code="text_required",
                message=f"{network} needs text in {where}",
                field=f"{prefix}text",
            )
        )
    problems.extend(_check_media(post, limits, network, prefix, where))
    if post.poll is not None and limits.max_poll_options is not None:
        if len(post.poll.options) > limits.max_poll_options:
            problems.append(
                Problem(
                    code="too_many_poll_options",
                    message=(
                        f"the poll of {where} has {len(post.poll.options)} options; "
                        f"{network} allows {limits.max_poll_options}"
                    ),
                    field=f"{prefix}poll.options",
                    limit=limits.max_poll_options,
                    actual=len(post.poll.options),
                )
            )
        if limits.max_poll_option_text is not None:
            for i, option in enumerate(post.poll.options):
                if len(option) > limits.max_poll_option_text:
                    problems.append(
                        Problem(
                            code="poll_option_too_long",
                            message=(
                                f"poll option {i + 1} of {where} is {len(option)} characters; "
                                f"{network} allows {limits.max_poll_option_text}"
                            ),
                            field=f"{prefix}poll.options[{i}]",
                            limit=limits.max_poll_option_text,
                            actual=len(option),
                        )
                    )
    return problems


def _check_media(
    post: Post, limits: Limits, network: str, prefix: str, where: str
) -> list[Problem]:
    problems: list[Problem] = []
    media = post.media
    if not media:
        return problems
    if len(media) > limits.max_media:
        problems.append(
            Problem(
                code="too_many_media" if limits.max_media else "media_unsupported",
                message=(
                    f"{where} has {len(media)} media attachments; {network} allows "
                    f"{limits.max_media}"
                ),
                field=f"{prefix}media",
                limit=limits.max_media,
                actual=len(media),
            )
        )
    kinds = {m.kind for m in media}
    if not limits.mix_media and len(kinds) > 1:
        problems.append(
            Problem(
                code="mixed_media",
                message=f"{network} does not mix {', '.join(sorted(kinds))} in one post",
                field=f"{prefix}media",
            )
        )
    for kind, cap in (
        ("image", limits.max_images),
        ("video", limits.max_videos),
        ("gif", limits.max_gifs),
        ("audio", limits.max_audios),
    ):
        n = sum(1 for m in media if m.kind == kind)
        if cap is not None and n > cap:
            problems.append(
                Problem(
                    code=f"too_many_{kind}s",
                    message=f"{where} has {n} {kind}s; {network} allows {cap}",
                    field=f"{prefix}media",
                    limit=cap,
                    actual=n,
                )
            )
    for i, item in enumerate(media):
        fld = f"{prefix}media[{i}]"
        if limits.media_types and item.mime_type not in limits.media_types:
            problems.append(
                Problem(
                    code="media_type_unsupported",
                    message=f"{network} does not accept {item.mime_type} ({fld})",
                    field=fld,
                )
            )
        cap = {
            "image": limits.image_max_bytes,
            "gif": limits.gif_max_bytes,
            "video": limits.video_max_bytes,
            "audio": limits.audio_max_bytes,
        }[item.kind]
        if cap is not None and item.size is not None and item.size > cap:
            problems.append(
                Problem(
                    code="media_too_large",
                    message=(
                        f"{fld} is {item.size:,} bytes; {network} accepts {item.kind}s up to "
                        f"{cap:,} bytes"
                    ),
                    field=fld,
                    limit=cap,
                    actual=item.size,
                )
            )
        if limits.max_alt_text is not None and item.alt and len(item.alt) > limits.max_alt_text:
            problems.append(
                Problem(
                    code="alt_text_too_long",
                    message=(
                        f"the alt text of {fld} is {len(item.alt)} characters; {network} allows "
                        f"{limits.max_alt_text}"
                    ),
                    field=f"{fld}.alt",
                    limit=limits.max_alt_text,
                    actual=len(item.alt),
                )
            )
    return problems
