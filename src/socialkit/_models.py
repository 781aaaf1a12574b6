"""The common model: Post, Media, Metric, Message, Account and the small types around them.

Every model is a frozen pydantic v2 model with ``extra="forbid"`` and strict types: ids are
strings, counts are integers, and datetimes must carry a time zone (they are converted to UTC).
A wrong field raises ``pydantic.ValidationError`` whose entries name the field. What a network
sends that has no place here stays in ``raw``, which is excluded from dumps and reprs.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

__all__ = [
    "Account",
    "CANONICAL_METRICS",
    "Media",
    "MediaKind",
    "Message",
    "MessageKind",
    "Metric",
    "Poll",
    "Post",
    "Problem",
    "Visibility",
]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (for example datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc)


UTCDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware datetime, converted to UTC."""

Visibility = Literal["public", "unlisted", "followers", "direct"]
"""Who can see a post. Adapters map it to the network's own levels."""

MessageKind = Literal["comment", "mention", "reply", "direct", "quote"]
"""What kind of message arrived: a comment on one's post, a mention, a reply, a DM, a quote."""

MediaKind = Literal["image", "video", "gif"]

MESSAGE_KINDS: frozenset[str] = frozenset(get_args(MessageKind))

#: Canonical metric names. Adapters map their network's names onto these and keep the
#: network's own name in ``Metric.native_name``; a metric with no canonical equivalent keeps a
#: lower-case name of its own.
CANONICAL_METRICS: frozenset[str] = frozenset(
    {
        "impressions",
        "reach",
        "views",
        "likes",
        "reposts",
        "replies",
        "quotes",
        "bookmarks",
        "saves",
        "shares",
        "clicks",
        "link_clicks",
        "profile_clicks",
        "video_views",
        "engagements",
        "followers",
        "following",
        "posts",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, defer_build=True)


class Problem(_Model):
    """One reason a post cannot be published on a network, found before sending."""

    code: StrictStr
    """A stable, machine-readable code such as ``text_too_long`` or ``too_many_media``."""
    message: StrictStr
    """One readable sentence naming the problem and the limit."""
    field: StrictStr | None = None
    """Where the problem is: ``text``, ``media[1]``, ``thread[2].text`` …"""
    limit: int | float | None = None
    actual: int | float | None = None

    def __str__(self) -> str:
        return self.message


class Account(_Model):
    """A user or page on a network."""

    id: StrictStr
    handle: StrictStr | None = None
    name: StrictStr | None = None
    url: StrictStr | None = None
    avatar_url: StrictStr | None = None
    followers: StrictInt | None = None
    following: StrictInt | None = None
    posts_count: StrictInt | None = None
    network: StrictStr | None = None
    raw: Any = Field(default=None, exclude=True, repr=False)


_CHUNK = 1024 * 1024


class Media(_Model):
    """An image, GIF or video to attach to a post.

    Exactly one source is set: ``path`` (read lazily, in chunks), ``data`` (bytes in memory) or
    ``url`` (fetched by the adapter, or handed to networks that pull media from a URL). Build
    one with :meth:`from_path`, :meth:`from_bytes` or :meth:`from_url`, which detect the MIME type
    from the content's first bytes (falling back to the file name) and the size without loading
    a file into memory.
    """

    kind: MediaKind
    path: Path | None = None
    data: bytes | None = Field(default=None, repr=False)
    url: StrictStr | None = None
    alt: StrictStr | None = None
    mime_type: StrictStr
    size: StrictInt | None = Field(default=None, ge=0)
    width: StrictInt | None = Field(default=None, gt=0)
    height: StrictInt | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> Media:
        sources = [s for s in (self.path, self.data, self.url) if s is not None]
        if len(sources) != 1:
            raise ValueError("Media needs exactly one source: path, data or url")
        return self

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        alt: str | None = None,
        mime_type: str | None = None,
        kind: MediaKind | None = None,
    ) -> Media:
        """Describe a local file. Reads only its first bytes (for the type) and its size."""
        p = Path(path)
        try:
            size = p.stat().st_size
            with p.open("rb") as fh:
                head = fh.read(262)
        except OSError as exc:
            raise ValueError(f"cannot read media file {p}: {exc.strerror}") from exc
        mime = mime_type or _sniff(head) or mimetypes.guess_type(p.name)[0]
        if mime is None:
            raise ValueError(f"cannot tell the media type of {p}; pass mime_type=")
        width, height = _dimensions(head, mime)
        return cls(
            kind=kind or _kind_for(mime),
            path=p,
            alt=alt,
            mime_type=mime,
            size=size,
            width=width,
            height=height,
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        alt: str | None = None,
        mime_type: str | None = None,
        kind: MediaKind | None = None,
    ) -> Media:
        """Describe media held in memory."""
        mime = mime_type or _sniff(data[:262])
        if mime is None:
            raise ValueError("cannot tell the media type of these bytes; pass mime_type=")
        width, height = _dimensions(data[:262], mime)
        return cls(
            kind=kind or _kind_for(mime),
            data=bytes(data),
            alt=alt,
            mime_type=mime,
            size=len(data),
            width=width,
            height=height,
        )

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        alt: str | None = None,
        mime_type: str | None = None,
        kind: MediaKind | None = None,
        size: int | None = None,
    ) -> Media:
        """Describe media at a public URL. The type comes from ``mime_type`` or the URL's name.

        Only ``http``/``https`` URLs without credentials are accepted: any other scheme
        (``file:``, ``ftp:``, ``data:`` …) or a ``user:password@`` part raises
        :class:`socialkit._http.MediaFetchError` (a ``ValueError``) here, before any request.
        The adapter fetches the URL later through :class:`socialkit._http.MediaFetcher`, which
        refuses internal addresses (see the ``media_fetch_allow`` setting).
        """
        # Imported here: socialkit._http imports this module.
        from socialkit._http._fetch import check_media_url

        parsed = check_media_url(url)
        mime = mime_type or mimetypes.guess_type(parsed.path)[0]
        if mime is None:
            raise ValueError(
                f"cannot tell the media type of {parsed.copy_with(query=None)}; pass mime_type="
            )
        return cls(kind=kind or _kind_for(mime), url=url, alt=alt, mime_type=mime, size=size)

    @property
    def filename(self) -> str:
        """A file name for multipart uploads."""
        if self.path is not None:
            return self.path.name
        ext = mimetypes.guess_extension(self.mime_type) or ""
        return f"media{ext}"

    def read(self) -> bytes:
        """The whole content (for ``path`` and ``data`` sources)."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            return self.path.read_bytes()
        raise ValueError("media from a URL has no local content; the adapter fetches it")

    def iter_chunks(self, chunk_size: int = _CHUNK) -> Iterator[bytes]:
        """The content in chunks of at most ``chunk_size`` bytes, without loading a whole file."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if self.data is not None:
            for start in range(0, len(self.data), chunk_size):
                yield self.data[start : start + chunk_size]
            return
        if self.path is not None:
            with self.path.open("rb") as fh:
                while chunk := fh.read(chunk_size):
                    yield chunk
            return
        raise ValueError("media from a URL has no local content; the adapter fetches it")

    async def aiter_chunks(self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """:meth:`iter_chunks` for ``httpx`` streaming uploads."""
        for chunk in self.iter_chunks(chunk_size):
            yield chunk


def _sniff(head: bytes) -> str | None:
    # filetype reads magic numbers only; it never loads more than the head we pass. Imported
    # here: it loads every format module, which ``import socialkit`` does not need.
    import filetype

    kind = filetype.guess(head) if head else None
    return kind.mime if kind is not None else None


def _kind_for(mime: str) -> MediaKind:
    if mime == "image/gif":
        return "gif"
    if mime.startswith("image/"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    raise ValueError(f"unsupported media type {mime!r}: expected an image, GIF or video")


def _dimensions(head: bytes, mime: str) -> tuple[int | None, int | None]:
    """Width and height from the header of a PNG or GIF (the formats that keep them up front)."""
    if mime == "image/png" and len(head) >= 24 and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big") or None, int.from_bytes(
            head[20:24], "big"
        ) or None
    if mime == "image/gif" and len(head) >= 10:
        return int.from_bytes(head[6:8], "little") or None, int.from_bytes(
            head[8:10], "little"
        ) or None
    return None, None


class Poll(_Model):
    """A poll attached to a post (Mastodon, X, Telegram)."""

    options: list[StrictStr] = Field(min_length=2)
    duration: timedelta
    multiple: StrictBool = False

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return timedelta(seconds=value)
        return value


class Post(_Model):
    """A post to publish, or one read back from a network.

    To publish, set ``text`` and the optional fields before ``id``. A non-empty ``thread`` makes
    a thread: this post first, then each post of ``thread`` as a reply to the one before.
    Read-back fields (``id`` onwards) are filled by the adapter.
    """

    text: StrictStr = ""
    media: list[Media] = Field(default_factory=list)
    link: StrictStr | None = None
    reply_to: StrictStr | None = None
    quote_of: StrictStr | None = None
    thread: list[Post] = Field(default_factory=list)
    visibility: Visibility = "public"
    language: StrictStr | None = Field(default=None, pattern=r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]+)*$")
    content_warning: StrictStr | None = None
    sensitive: StrictBool = False
    poll: Poll | None = None
    scheduled_at: UTCDateTime | None = None

    id: StrictStr | None = None
    network: StrictStr | None = None
    url: StrictStr | None = None
    author: Account | None = None
    created_at: UTCDateTime | None = None
    metrics: dict[str, StrictInt] = Field(default_factory=dict)
    raw: Any = Field(default=None, exclude=True, repr=False)

    @model_validator(mode="after")
    def _not_empty(self) -> Post:
        if self.id is None and not (self.text or self.media or self.link or self.poll):
            raise ValueError("a post needs text, media, a link or a poll")
        return self

    @property
    def is_scheduled(self) -> bool:
        """True for a post the network will publish later (read back with ``scheduled_at``)."""
        return self.scheduled_at is not None and self.id is not None

    def posts(self) -> list[Post]:
        """This post followed by the posts of its thread, in publishing order."""
        return [self.model_copy(update={"thread": []}), *self.thread]


class Metric(_Model):
    """One measured value: a post's (``post_id`` set) or an account's (``post_id`` None)."""

    name: StrictStr = Field(pattern=r"^[a-z][a-z0-9_]*$")
    value: StrictInt | float
    network: StrictStr
    post_id: StrictStr | None = None
    native_name: StrictStr | None = None
    period: StrictStr | None = None
    """The window the network aggregates over: ``lifetime``, ``day``, ``week``, ``days_28`` …"""
    start: UTCDateTime | None = None
    end: UTCDateTime | None = None
    measured_at: UTCDateTime | None = None
    """When this value was read (snapshots for time series)."""

    @property
    def is_canonical(self) -> bool:
        return self.name in CANONICAL_METRICS


class Message(_Model):
    """Something the public said to or about the account: comment, mention, reply, DM, quote."""

    id: StrictStr
    network: StrictStr
    kind: MessageKind
    text: StrictStr
    author: Account
    created_at: UTCDateTime
    post_id: StrictStr | None = None
    """The post this message is about or replies to, when there is one."""
    conversation_id: StrictStr | None = None
    url: StrictStr | None = None
    language: StrictStr | None = None
    raw: Any = Field(default=None, exclude=True, repr=False)
