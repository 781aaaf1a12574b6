"""The common model: Post, Media, Metric, Message, Account and the small types around them.

Every model is a frozen pydantic v2 model with ``extra="forbid"`` and strict types: ids are
strings, counts are integers, and datetimes must carry a time zone (they are converted to UTC).
Text may not hold lone surrogates (no network can store them). A wrong field raises
:class:`socialkit.ModelValidationError` (a :class:`socialkit.ValidationError` that is also
``pydantic.ValidationError``) whose entries name the field. What a network sends that has no
place here stays in ``raw``, which is excluded from dumps and reprs.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

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
from pydantic import ValidationError as PydanticValidationError

from socialkit._errors import MediaError, ModelValidationError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "Account",
    "CANONICAL_METRICS",
    "Feed",
    "Media",
    "MediaKind",
    "Message",
    "MessageKind",
    "Metric",
    "Poll",
    "Post",
    "Problem",
    "UploadedMedia",
    "Visibility",
]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware (for example datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc)


UTCDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware datetime, converted to UTC."""


def _no_lone_surrogates(value: str) -> str:
    # A lone surrogate (U+D800–U+DFFF on its own) cannot be encoded in UTF-8, so every network
    # refuses it, and a thread would stop part way. Encoding is linear and fails at the first.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"text holds a lone surrogate U+{ord(value[exc.start]):04X} at position "
            f"{exc.start}, which no network accepts"
        ) from None
    return value


Text = Annotated[StrictStr, AfterValidator(_no_lone_surrogates)]
"""A string that every network can store (no lone surrogates)."""

Visibility = Literal["public", "unlisted", "followers", "direct"]
"""Who can see a post. Adapters map it to the network's own levels."""

MessageKind = Literal["comment", "mention", "reply", "direct", "quote"]
"""What kind of message arrived: a comment on one's post, a mention, a reply, a DM, a quote."""

MediaKind = Literal["image", "video", "gif", "audio"]

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

    # Bad values raise socialkit's error (also pydantic's class), never pydantic's alone.
    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except PydanticValidationError as exc:
            raise ModelValidationError.from_pydantic(exc) from None

    # Tell pydantic this __init__ only wraps its own (as RootModel does): a model nested in
    # another is then validated by the schema, in JSON mode from JSON, not through __init__.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ModelValidationError:
            raise
        except PydanticValidationError as exc:
            raise ModelValidationError.from_pydantic(exc) from None

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ModelValidationError:
            raise
        except PydanticValidationError as exc:
            raise ModelValidationError.from_pydantic(exc) from None


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


class UploadedMedia(_Model):
    """Media already uploaded to a network, returned by :meth:`Adapter.upload
    <socialkit.Adapter.upload>`; attach it to posts with :meth:`Media.from_upload`.

    ``reusable`` says whether the network lets one upload be attached to several posts (X and
    Bluesky do; a Mastodon attachment belongs to the first status that uses it), and
    ``expires_at`` when the network forgets an upload no post uses, where it says.
    """

    id: StrictStr
    """The network's media id (X ``media_id``, Mastodon attachment id, Bluesky blob CID)."""
    network: StrictStr
    kind: MediaKind
    mime_type: StrictStr
    alt: Text | None = None
    size: StrictInt | None = Field(default=None, ge=0)
    width: StrictInt | None = Field(default=None, gt=0)
    height: StrictInt | None = Field(default=None, gt=0)
    url: StrictStr | None = None
    reusable: StrictBool = True
    expires_at: UTCDateTime | None = None
    raw: Any = Field(default=None, exclude=True, repr=False)


class Media(_Model):
    """An image, GIF, video or audio file attached to a post.

    Exactly one source is set: ``path`` (read lazily, in chunks), ``data`` (bytes in memory),
    ``url`` (fetched by the adapter, or handed to networks that pull media from a URL) or
    ``uploaded`` (an earlier :meth:`~socialkit.Adapter.upload` on the same network). Build one
    with :meth:`from_path`, :meth:`from_bytes`, :meth:`from_url` or :meth:`from_upload`; the first
    two detect the MIME type from the content's first bytes (never trusting the file name) and
    the size without loading a file into memory.

    Media read back from a network (``Post.media`` of a post from ``get_post``) carry the
    network's ``url`` (and ``preview_url``), the alt text, the size and duration where known.
    """

    kind: MediaKind
    path: Path | None = None
    data: bytes | None = Field(default=None, repr=False)
    url: StrictStr | None = None
    uploaded: UploadedMedia | None = None
    alt: Text | None = None
    mime_type: StrictStr
    size: StrictInt | None = Field(default=None, ge=0)
    width: StrictInt | None = Field(default=None, gt=0)
    height: StrictInt | None = Field(default=None, gt=0)
    duration: float | None = Field(default=None, ge=0)
    """Seconds, for video and audio, where known."""
    preview_url: StrictStr | None = None
    """A still image of a video, GIF or audio file, as the network serves it."""
    id: StrictStr | None = None
    """The network's id of this media (read back)."""

    @model_validator(mode="after")
    def _one_source(self) -> Media:
        sources = [s for s in (self.path, self.data, self.url, self.uploaded) if s is not None]
        if len(sources) != 1:
            raise ValueError("Media needs exactly one source: path, data, url or uploaded")
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
        """Describe a local file. Reads only its first bytes (for the type) and its size.

        Raises :class:`~socialkit.MediaError` when the file is missing or unreadable, when its
        bytes are not an image, GIF, video or audio format, or when they disagree with its
        name's extension or with ``mime_type``.
        """
        p = Path(path)
        try:
            size = p.stat().st_size
            with p.open("rb") as fh:
                head = fh.read(_HEAD)
        except OSError as exc:
            raise MediaError(f"cannot read media file {p}: {exc.strerror}") from None
        if p.is_dir():
            raise MediaError(f"cannot read media file {p}: it is a directory")
        named = mimetypes.guess_type(p.name)[0]
        mime = _checked_type(head, mime_type, named, f"media file {p}")
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
        """Describe media held in memory (its type sniffed from the bytes)."""
        mime = _checked_type(data[:_HEAD], mime_type, None, "these bytes")
        width, height = _dimensions(data[:_HEAD], mime)
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
        :class:`~socialkit.MediaError` (a ``ValueError``) here, before any request.
        The adapter fetches the URL later through :class:`socialkit._http.MediaFetcher`, which
        refuses internal addresses (see the ``media_fetch_allow`` setting).
        """
        # Imported here: socialkit._http imports this module.
        from socialkit._http._fetch import check_media_url

        parsed = check_media_url(url)
        mime = mime_type or mimetypes.guess_type(parsed.path)[0]
        if mime is None:
            raise MediaError(
                f"cannot tell the media type of {parsed.copy_with(query=None)}; pass mime_type="
            )
        return cls(kind=kind or _kind_for(mime), url=url, alt=alt, mime_type=mime, size=size)

    @classmethod
    def from_upload(cls, uploaded: UploadedMedia, *, alt: str | None = None) -> Media:
        """Attach an earlier upload (``alt`` replaces the upload's alt text when given)."""
        return cls(
            kind=uploaded.kind,
            uploaded=uploaded,
            alt=alt if alt is not None else uploaded.alt,
            mime_type=uploaded.mime_type,
            size=uploaded.size,
            width=uploaded.width,
            height=uploaded.height,
        )

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
        raise MediaError("media from a URL or an upload has no local content")

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
        raise MediaError("media from a URL or an upload has no local content")

    async def aiter_chunks(self, chunk_size: int = _CHUNK) -> AsyncIterator[bytes]:
        """:meth:`iter_chunks` for ``httpx`` streaming uploads."""
        for chunk in self.iter_chunks(chunk_size):
            yield chunk


_HEAD = 262
# Types whose names differ but whose bytes are the same format (sniffing gives one name).
_SAME_FORMAT = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-flac": "audio/flac",
    "video/x-m4v": "video/mp4",
}


def _same(a: str, b: str) -> bool:
    return _SAME_FORMAT.get(a, a) == _SAME_FORMAT.get(b, b)


def _checked_type(head: bytes, given: str | None, named: str | None, what: str) -> str:
    """The media type of ``head``: sniffed from the bytes, never trusted from a name.

    ``given`` (the caller's ``mime_type``) is used when the bytes cannot be identified (a raw
    format with no magic number); when they can, it must agree with them, and so must the
    file name's extension.
    """
    sniffed = _sniff(head)
    if sniffed is None:
        if given is None:
            raise MediaError(
                f"cannot tell the media type of {what} from its content"
                + (f" (its name says {named}, but the bytes are not)" if named else "")
                + "; pass mime_type= if it is a format without a signature"
            )
        _kind_for(given)
        return given
    if given is not None and not _same(given, sniffed):
        raise MediaError(f"{what} is {sniffed}, not the {given} given as mime_type")
    if named is not None and not _same(named, sniffed):
        raise MediaError(f"{what} holds {sniffed} data, not the {named} its name says")
    _kind_for(sniffed)
    return sniffed


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
    if mime.startswith("audio/"):
        return "audio"
    raise MediaError(f"unsupported media type {mime!r}: expected an image, GIF, video or audio")


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

    options: list[Text] = Field(min_length=2)
    duration: timedelta
    multiple: StrictBool = False
    votes: list[StrictInt] | None = None
    """Read back: the votes of each option, in order, where the network shows them."""
    expires_at: UTCDateTime | None = None
    """Read back: when voting closes."""

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return timedelta(seconds=value)
        return value


_LANGUAGE = r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]+)*$"


class Post(_Model):
    """A post to publish, or one read back from a network.

    To publish, set ``text`` and the optional fields before ``id``. A non-empty ``thread`` makes
    a thread: this post first, then each post of ``thread`` as a reply to the one before.
    Read-back fields (``id`` onwards) are filled by the adapter.
    """

    text: Text = ""
    media: list[Media] = Field(default_factory=list)
    link: StrictStr | None = None
    reply_to: StrictStr | None = None
    quote_of: StrictStr | None = None
    thread: list[Post] = Field(default_factory=list)
    visibility: Visibility = "public"
    language: StrictStr | None = Field(default=None, pattern=_LANGUAGE)
    content_warning: Text | None = None
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
        if not self.thread:
            return [self]  # (frozen: the post itself is that first post, no copy needed)
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


class Feed(_Model):
    """A list-style feed: a Mastodon or X list, a Bluesky list or feed generator.

    Read its posts with :meth:`Adapter.feed <socialkit.Adapter.feed>`.
    """

    id: StrictStr
    network: StrictStr
    name: StrictStr
    kind: Literal["list", "feed"] = "list"
    description: StrictStr | None = None
    url: StrictStr | None = None
    owner: Account | None = None
    members_count: StrictInt | None = None
    raw: Any = Field(default=None, exclude=True, repr=False)


# -- read-back models: raw kept once per page, models built from already validated data ----


class RawPage:
    """The body of one network page, kept once for the ``raw`` of every model read from it.

    ``decode`` turns the body into the page's wire items (what ``raw`` held before); it runs
    on the first access to the ``raw`` of any of the page's models, and the decoded items then
    replace the bytes. A page whose ``raw`` is never read costs its bytes only.
    """

    __slots__ = ("_body", "_decode", "_items")

    def __init__(self, body: bytes, decode: Callable[[bytes], Sequence[Any]]) -> None:
        self._body: bytes | None = body
        self._decode: Callable[[bytes], Sequence[Any]] | None = decode
        self._items: Sequence[Any] = ()

    def item(self, index: int) -> LazyRaw:
        """The ``raw`` value of the page's item number ``index`` (decoded when read)."""
        return LazyRaw(self, index)

    def _get(self, index: int) -> Any:
        decode, body = self._decode, self._body
        if decode is not None and body is not None:
            # Two threads may both decode; either result is the same, and the items are set
            # before the bytes are dropped.
            self._items = decode(body)
            self._body = self._decode = None
        return self._items[index]


class LazyRaw:
    """A ``raw`` value decoded on first access (see :class:`RawPage`); reading the model's
    ``raw`` attribute returns the decoded value, never this object."""

    __slots__ = ("_index", "_page")

    def __init__(self, page: RawPage, index: int) -> None:
        self._page = page
        self._index = index

    def value(self) -> Any:
        return self._page._get(self._index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyRaw):
            other = other.value()
        return bool(self.value() == other)

    def __hash__(self) -> int:
        return hash(self.value())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled and deep-copied as the decoded value.
        return (_identity, (self.value(),))


def _identity(value: Any) -> Any:
    return value


class _RawField:
    """The ``raw`` attribute of the models that have one: decodes a :class:`LazyRaw` on
    first access and keeps the result (frozen models are never assigned otherwise)."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get("raw")
        if type(value) is LazyRaw:
            value = value.value()
            instance.__dict__["raw"] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__["raw"] = value


for _model in (Account, UploadedMedia, Post, Message, Feed):
    type.__setattr__(_model, "raw", _RawField())
del _model


_UTC = timezone.utc
_VISIBILITIES: frozenset[str] = frozenset(get_args(Visibility))
_LANGUAGE_MATCH = re.compile(_LANGUAGE).match
#: Every field's default, in field order (read_back_post makes those with a factory).
_POST_DEFAULTS: dict[str, Any] = {name: info.default for name, info in Post.model_fields.items()}
#: The fields whose default is made per post (read_back_post writes them out).
_POST_MADE = frozenset({"media", "thread", "metrics"})
if {n for n, info in Post.model_fields.items() if info.default_factory} != _POST_MADE:
    raise RuntimeError("read_back_post must make every default factory field of Post")
_FIELDS_SETS: dict[tuple[str, ...], set[str]] = {}


def _text_ok(value: object) -> bool:
    if type(value) is not str:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_NONE = type(None)
_POST_NAMES: frozenset[str] = frozenset(Post.model_fields)


def _post_ok(values: dict[str, Any]) -> bool:
    """True when ``Post(**values)`` would keep every value as it is: exactly the types the
    fields hold, text without lone surrogates, an aware UTC time, a language tag (``values``
    names fields of :class:`Post` only).

    Written out field by field, not as a loop over the values: this runs for every post of
    every page read, and a per-name dispatch cost twice as much."""
    get = values.get
    if type(get("id")) is not str:  # a read-back post always has an id (never empty)
        return False
    text = get("text", "")
    if type(text) is not str or not (text.isascii() or _text_ok(text)):
        return False
    for name in ("network", "url", "link", "reply_to", "quote_of"):
        kind = type(get(name))
        if kind is not str and kind is not _NONE:
            return False
    created_at = get("created_at")
    if created_at is not None and (
        type(created_at) is not datetime or created_at.tzinfo is not _UTC
    ):
        return False
    language = get("language")
    if language is not None and (type(language) is not str or not _LANGUAGE_MATCH(language)):
        return False
    metrics = get("metrics")
    if metrics is not None:
        if type(metrics) is not dict:
            return False
        for key, count in metrics.items():
            if type(key) is not str or type(count) is not int:
                return False
    media = get("media")
    if media is not None:
        if type(media) is not list:
            return False
        for item in media:
            if type(item) is not Media:
                return False
    author, poll = get("author"), get("poll")
    if (author is not None and type(author) is not Account) or (
        poll is not None and type(poll) is not Poll
    ):
        return False
    warning = get("content_warning")
    if warning is not None and not _text_ok(warning):
        return False
    if type(get("sensitive", False)) is not bool or "thread" in values or "scheduled_at" in values:
        return False  # (a read-back post has no thread; validation checks a scheduled time)
    return get("visibility", "public") in _VISIBILITIES


def read_back_post(**values: Any) -> Post:
    """A :class:`Post` read from a network, from values of the adapter's validated wire models.

    When every value already is what validation would keep (:func:`_post_ok`), the post is
    built without running the validators a second time, and the set of given field names is
    shared between posts (a set per post weighs 700 bytes); otherwise ``Post(**values)``
    validates as usual and raises :class:`ModelValidationError` for a bad value.
    """
    key = tuple(values)
    fields_set = _FIELDS_SETS.get(key)
    if fields_set is None:
        if not _POST_NAMES.issuperset(key):
            return Post(**values)  # validation names the unknown field
        fields_set = _FIELDS_SETS.setdefault(key, set(key))
    if not _post_ok(values):
        return Post(**values)
    data = _POST_DICT.copy()  # field order, as validation gives
    data.update(values)
    # The fields with a default factory (a new list or dict per post), written out.
    if "media" not in values:
        data["media"] = []
    if "metrics" not in values:
        data["metrics"] = {}
    data["thread"] = []
    post = Post.__new__(Post)
    # What BaseModel.model_construct sets (its own loop over the fields costs as much as
    # validation, and it inspects the signature of each default factory it calls).
    _set_dict(post, data)
    _set_fields_set(post, fields_set)
    _set_extra(post, None)
    _set_private(post, None)
    return post


def _shared_keys_dict() -> dict[str, Any]:
    """Every field's default in a dict whose keys are shared, not copied, by its copies.

    Set attribute by attribute, an instance's ``__dict__`` is a split table (PEP 412): one keys
    table for the class, only the values per instance. ``dict.copy()`` of such a dict shares
    the keys table too, and updating keys it has keeps it so: a read-back post's ``__dict__``
    then takes 330 bytes instead of the 470 of a dict built from a mapping (10,000 kept posts:
    1.4 MB less), and is made a little faster. Where the interpreter makes no split table, the
    copy is an ordinary dict: the same values, only larger."""
    template = Post.__new__(Post)
    for name, value in _POST_DEFAULTS.items():
        object.__setattr__(template, name, value)
    return template.__dict__


_POST_DICT = _shared_keys_dict()


# The slots model_construct fills, set through their descriptors (a generic setattr looks
# each name up on the class first).
_set_dict = vars(BaseModel)["__dict__"].__set__
_set_fields_set = vars(BaseModel)["__pydantic_fields_set__"].__set__
_set_extra = vars(BaseModel)["__pydantic_extra__"].__set__
_set_private = vars(BaseModel)["__pydantic_private__"].__set__


class PageAccounts:
    """The authors of one page of posts, each read once: posts whose author the network sent
    with the same data share one :class:`Account` (``build`` makes it from the wire object,
    ``key`` is the author's id)."""

    __slots__ = ("_build", "_key", "_seen")

    def __init__(self, build: Callable[[Any], Account], key: Callable[[Any], str]) -> None:
        self._build = build
        self._key = key
        self._seen: dict[str, tuple[Any, Account]] = {}

    def __call__(self, wire: Any) -> Account:
        key = self._key(wire)
        seen = self._seen.get(key)
        if seen is not None and (seen[0] is wire or seen[0] == wire):
            return seen[1]
        account = self._build(wire)
        self._seen[key] = (wire, account)
        return account
