"""A fake Mastodon server: the Mastodon 4.5 client API, stateful and in memory.

:class:`FakeMastodon` serves every endpoint :class:`~socialkit.adapters.mastodon.MastodonAdapter`
uses, with the request and response shapes of the official description (``schema.json``,
Mastodon API 4.7), so the real adapter runs against it unchanged::

    fake = FakeMastodon()
    async with fake.connect() as net:                  # MastodonAdapter, in-process
        posted = await net.publish(Post(text="Hello #fediverse"))
    fan = fake.add_user("fan")
    fake.like(posted.id, fan)                           # favourites_count moves
    fake.mention(fan, "love it")                        # a mention notification arrives

What behaves as on Mastodon:

* statuses (text, media, polls, replies, quotes, content warnings, visibility, scheduled
  statuses, edits, delete-and-redraft bodies), rendered to Mastodon's HTML;
* ``Idempotency-Key`` on ``POST /api/v1/statuses``: the same key from the same account within
  an hour answers the same status and creates nothing;
* media: ``POST /api/v2/media`` answers 202 (``url`` null) while the file is "processed";
  ``GET /api/v1/media/:id`` answers 206 ``media_processing_polls`` times, then 200; attaching an
  unprocessed file is a 422;
* pagination with ``max_id`` / ``since_id`` / ``min_id`` and ``Link`` headers (``next`` only
  when a page is full, ``prev`` when it is not empty), search by ``offset``;
* notifications (mention, quote, favourite, reblog, follow, poll) and conversations (private
  mentions);
* engagement, idempotent as on Mastodon: ``favourite`` / ``reblog`` / ``bookmark`` and their
  reverse on statuses (each answers the Status; a boost answers the boost), ``follow`` /
  ``block`` / ``mute`` and their reverse on accounts (each answers the Relationship; a block
  ends the follows both ways); :meth:`FakeMastodon.has` reads that state;
* people and feeds: ``GET /api/v1/accounts/:id``, ``/lookup``, ``/followers`` and
  ``/following`` (paged by the follow's own id, as Mastodon does), the home timeline
  (``GET /api/v1/timelines/home``: the followed accounts' statuses and boosts, without muted
  or blocked accounts), lists (``GET /api/v1/lists``, ``GET /api/v1/timelines/list/:id``;
  :meth:`FakeMastodon.add_list` makes one);
* processed media carry ``meta.original`` (the size read from a PNG or GIF header; for video
  and audio ``media_duration`` seconds when set), and ``PUT /api/v1/media/:id`` changes the
  description of an attachment no status uses yet;
* ``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` (ISO 8601) on every response, per account
  and bucket (``default`` 300 per 5 minutes, ``media`` uploads and ``delete`` 30 per 30 minutes,
  all configurable); beyond a limit, 429 ``{"error": "Too many requests"}``;
* errors as ``{"error": "..."}``: 401 for a missing or wrong token, 403 for someone else's
  status, 404 ``Record not found``, 422 ``Validation failed: ...``;
* the login flow: ``POST /api/v1/apps``, ``GET /oauth/authorize`` (approved at once, as the
  owner) and ``POST /oauth/token`` with PKCE;
* the streaming API (``/api/v1/streaming/user``, ``user/notification``, ``public``,
  ``public/local``, ``public/remote``, ``hashtag``, ``hashtag/local``, ``list``, ``health``):
  server-sent events ``update``, ``status.update``, ``notification`` (JSON in ``data``) and
  ``delete`` (the id), ``:thump`` every ``stream_heartbeat`` seconds; the URL is announced in
  ``configuration.urls.streaming`` of ``/api/v2/instance`` (``ws(s)://`` the address asked);
  ``drop_streams()`` closes every open stream, ``stream_paused`` makes them silent; and
  ``GET /api/v1/timelines/public``. Streams need the fake served on a port
  (:meth:`FakeNetwork.serve`): ``httpx.ASGITransport`` reads a whole response before
  returning it.

Times of content come from ``fake.clock``; ids are Mastodon's snowflakes (milliseconds << 16).
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from socialkit.testing.fakes._base import (
    UNLIMITED,
    CreatedPost,
    FakeClock,
    FakeNetwork,
    FakeUser,
    RateLimiter,
    request_fields,
)
from socialkit.testing.fakes._mastodon_text import Rendered, find_mentions, render

__all__ = ["FakeMastodon"]

UTC = timezone.utc
T = TypeVar("T")

VISIBILITIES = ("public", "unlisted", "private", "direct")
#: How long Mastodon keeps an Idempotency-Key (seconds).
IDEMPOTENCY_TTL = 3600.0
#: Mastodon refuses ``scheduled_at`` less than five minutes ahead.
MIN_SCHEDULE_AHEAD = timedelta(minutes=5)
SUPPORTED_MIME_TYPES = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/heic",
    "image/heif",
    "image/webp",
    "image/avif",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/mpeg",
    "audio/mp3",
    "audio/ogg",
    "audio/flac",
)
NOT_FOUND = "Record not found"
#: The streams of the streaming API this fake serves, and whether each needs a user token.
STREAMS = {
    "user": "user",
    "user/notification": "user",
    "public": "optional",
    "public/local": "optional",
    "public/remote": "optional",
    "hashtag": "optional",
    "hashtag/local": "optional",
    "list": "user",
}
INVALID_TOKEN = "The access token is invalid"
NOT_ALLOWED = "This action is not allowed"


class _Fail(Exception):
    """An error answer: ``status`` and Mastodon's ``{"error": ...}`` body."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _validation(message: str, field_name: str = "base", code: str = "ERR_INVALID") -> _Fail:
    # ValidationError schema: Error + details {field: [{error, description}]}
    return _Fail(
        422,
        f"Validation failed: {message}",
        details={field_name: [{"error": code, "description": message}]},
    )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "t", "yes", "on")
    return bool(value)


# -- state ------------------------------------------------------------------------------------


@dataclass
class _Media:
    id: str
    account_id: str
    type: str
    mime_type: str
    filename: str
    content: bytes
    description: str | None
    pending_polls: int
    status_id: str | None = None
    scheduled_id: str | None = None


@dataclass
class _Poll:
    id: str
    options: list[str]
    multiple: bool
    hide_totals: bool
    expires_at: datetime
    votes: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class _Status:
    id: str
    account_id: str
    text: str
    created_at: datetime
    visibility: str
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    quote_id: str | None = None
    reblog_of: str | None = None
    media_ids: list[str] = field(default_factory=list)
    poll: _Poll | None = None
    content: str = ""
    mention_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    favourited_by: dict[str, datetime] = field(default_factory=dict)
    edited_at: datetime | None = None
    deleted: bool = False
    conversation_id: str | None = None


@dataclass
class _Notification:
    id: int
    account_id: str
    type: str
    from_id: str
    status_id: str | None
    created_at: datetime


@dataclass
class _List:
    id: str
    account_id: str
    title: str
    members: set[str] = field(default_factory=set)


@dataclass
class _Conversation:
    id: str
    participants: frozenset[str]
    status_ids: list[str] = field(default_factory=list)
    unread: set[str] = field(default_factory=set)


@dataclass
class _Scheduled:
    id: str
    account_id: str
    scheduled_at: datetime
    body: dict[str, Any]
    media_ids: list[str]
    idempotency: str | None


@dataclass
class _App:
    id: str
    name: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    scopes: list[str]
    website: str | None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str | None
    method: str | None
    account_id: str


@dataclass
class _Call:
    """One request as a handler sees it."""

    request: Request
    viewer: str | None
    data: dict[str, Any]
    files: dict[str, tuple[str, str, bytes]]

    def query(self, name: str) -> str | None:
        params = self.request.query_params
        value = params.get(name)
        return value if value is not None else params.get(f"{name}[]")

    def query_list(self, name: str) -> list[str]:
        params = self.request.query_params
        return [*params.getlist(f"{name}[]"), *params.getlist(name)]

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[_Call], Response]


def _set_path(target: dict[str, Any], key: str, value: Any) -> None:
    """Rails-style form keys: ``media_ids[]``, ``poll[options][]``, ``poll[expires_in]``."""
    head, _, rest = key.partition("[")
    parts = [head] + [p.rstrip("]") for p in rest.split("[")] if rest else [head]
    node: dict[str, Any] = target
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if last:
            node[part] = value
            return
        following = parts[index + 1]
        if following == "" and index + 1 == len(parts) - 1:
            node.setdefault(part, []).append(value)
            return
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return
        node = child


class FakeMastodon(FakeNetwork):
    """A stateful, in-memory Mastodon server (an ASGI app) for tests and demos.

    Arguments beyond :class:`FakeNetwork`'s:

    * ``rate_limit`` / ``rate_window``: requests per window (seconds) per account in the
      default bucket (Mastodon: 300 per 5 minutes); ``media_rate_limit`` / ``delete_rate_limit``
      and ``slow_rate_window``: the ``media`` (uploads) and ``delete`` buckets (30 per 30
      minutes);
    * ``media_processing_polls``: how many ``GET /api/v1/media/:id`` answer 206 before the file
      is ready (0: uploads answer 200 with the file's URL at once);
    * ``max_characters``, ``max_media_attachments``, ``api_version``, ``version``: what
      ``GET /api/v2/instance`` reports and what the server enforces.
    """

    name: ClassVar[str] = "mastodon"
    default_base_url: ClassVar[str] = "https://mastodon.fake"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        rate_limit: int = 300,
        rate_window: float = 300.0,
        media_rate_limit: int = 30,
        delete_rate_limit: int = 30,
        slow_rate_window: float = 1800.0,
        media_processing_polls: int = 1,
        max_characters: int = 500,
        max_media_attachments: int = 4,
        api_version: int = 7,
        version: str = "4.5.0",
    ) -> None:
        if media_processing_polls < 0:
            raise ValueError("media_processing_polls must not be negative")
        # State the base class's __init__ already needs (it adds the owner).
        self._last_snowflake = 0
        self._created: dict[str, datetime] = {}
        # followee id -> {follower id: the follow's own id (what followers/following page by)}
        self._follows: dict[str, dict[str, int]] = {}
        self._blocks: dict[str, set[str]] = {}
        self._mutes: dict[str, set[str]] = {}
        self._bookmarks: dict[str, set[str]] = {}
        self._lists: dict[str, _List] = {}
        self._relation_ids = 0
        #: Seconds reported as the ``meta.original.duration`` of uploaded video and audio
        #: files (the fake does not decode media); None leaves it out.
        self.media_duration: float | None = None
        #: The wall clock (seconds) that ages Idempotency-Keys, kept an hour like Mastodon's.
        self.idempotency_clock: Callable[[], float] = time.time
        self._statuses: dict[str, _Status] = {}
        self._media: dict[str, _Media] = {}
        self._notifications: list[_Notification] = []
        self._conversations: dict[str, _Conversation] = {}
        self._scheduled: dict[str, _Scheduled] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, float]] = {}
        self._tokens: dict[str, str] = {}
        self._apps: dict[str, _App] = {}
        self._grants: dict[str, _Grant] = {}
        self._notification_ids = 0
        self.media_processing_polls = media_processing_polls
        self.max_characters = max_characters
        self.max_media_attachments = max_media_attachments
        self.api_version = api_version
        self.version = version
        self.limiters: dict[str, RateLimiter] = {
            "default": RateLimiter(rate_limit, rate_window),
            "media": RateLimiter(media_rate_limit, slow_rate_window),
            "delete": RateLimiter(delete_rate_limit, slow_rate_window),
        }
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.host = urlsplit(self.base_url).netloc
        self.access_token = self.token_for(self.owner)
        #: The streaming API's event log: (event, status id or notification id), in order.
        self._stream_log: list[tuple[str, str]] = []
        self._stream_generation = 0
        #: Seconds between the ``:thump`` heartbeats of an idle stream (Mastodon: 15).
        self.stream_heartbeat = 15.0
        #: While true, open streams send nothing, not even heartbeats (a stalled connection).
        self.stream_paused = False
        #: Streaming connections opened so far (the first one included).
        self.stream_connections = 0
        self._app: Starlette | None = None

    # -- FakeNetwork plumbing -----------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = self._build_app()
        return self._app

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {
            "rate_limit": UNLIMITED,
            "media_rate_limit": UNLIMITED,
            "delete_rate_limit": UNLIMITED,
        }

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /api/v1/statuses``: a Status, or a ScheduledStatus (``scheduled_at``)."""
        if method != "POST" or path != "/api/v1/statuses" or not isinstance(answer, dict):
            return None
        if "params" in answer and "scheduled_at" in answer:
            params = answer.get("params") or {}
            return str(answer.get("id")), params.get("text"), "scheduled"
        return str(answer.get("id")), request_fields(request_body).get("status"), "post"

    def settings(self) -> dict[str, Any]:
        """``instance`` (this fake's base URL) and an access token of the owner."""
        return {"instance": self.base_url, "access_token": self.access_token}

    def token_for(self, user: FakeUser) -> str:
        """A new access token for ``user`` (connect as someone else:
        ``fake.connect(access_token=fake.token_for(fan))``)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = user.id
        return token

    def new_user_id(self, handle: str) -> str:
        now = self.clock.now()
        user_id = self._snowflake(now)
        self._created[user_id] = now
        return user_id

    def _snowflake(self, moment: datetime) -> str:
        # Mastodon's ids: milliseconds since the epoch << 16, plus a sequence (kept increasing).
        candidate = int(moment.timestamp() * 1000) << 16
        with self._lock:
            value = max(candidate, self._last_snowflake + 1)
            self._last_snowflake = value
        return str(value)

    # -- the audience (simulation) ------------------------------------------------------------

    def publish_as(
        self,
        user: FakeUser,
        text: str,
        *,
        visibility: str = "public",
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        spoiler_text: str = "",
        language: str | None = "en",
    ) -> str:
        """``user`` publishes a status (public by default); returns its id."""
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {VISIBILITIES}")
        with self._lock:
            self._release_scheduled()
            parent = self._status(in_reply_to) if in_reply_to is not None else None
            quoted = self._status(quote_of) if quote_of is not None else None
            status = self._create(
                user.id,
                text=text,
                visibility=visibility,
                parent=parent,
                quoted=quoted,
                spoiler_text=spoiler_text,
                language=language,
            )
            return status.id

    def like(self, post_id: str, user: FakeUser) -> None:
        """``user`` favourites a status: ``favourites_count`` moves, its author is notified."""
        with self._lock:
            status = self._status(post_id)
            if user.id in status.favourited_by:
                return
            status.favourited_by[user.id] = self.clock.now()
            self._notify(status.account_id, "favourite", user.id, status.id)

    def unlike(self, post_id: str, user: FakeUser) -> None:
        """``user`` takes a favourite back."""
        with self._lock:
            self._status(post_id).favourited_by.pop(user.id, None)

    def repost(self, post_id: str, user: FakeUser) -> None:
        """``user`` boosts a status (a reblog status in their timeline; its author is
        notified)."""
        with self._lock:
            status = self._status(post_id)
            if status.visibility not in ("public", "unlisted"):
                raise ValueError("only public and unlisted statuses can be boosted")
            self._reblog(status, user.id)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` replies to a status, mentioning its author (who is notified); returns the
        reply's id. A reply to a private mention stays private."""
        with self._lock:
            parent = self._status(post_id)
            author = self.users[parent.account_id]
            if author.id != user.id:
                text = self._with_mention(text, author)
            visibility = "direct" if parent.visibility == "direct" else "public"
            return self._create(user.id, text=text, visibility=visibility, parent=parent).id

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` quotes a status (its ``quotes_count`` moves, its author gets a ``quote``
        notification); returns the quote's id."""
        with self._lock:
            quoted = self._status(post_id)
            return self._create(user.id, text=text, visibility="public", quoted=quoted).id

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a public status mentioning the owner; returns its id."""
        with self._lock:
            text = self._with_mention(text, self.owner)
            return self._create(user.id, text=text, visibility="public").id

    def direct(self, user: FakeUser, text: str) -> str:
        """``user`` sends the owner a private mention (a conversation); returns its id."""
        with self._lock:
            text = self._with_mention(text, self.owner)
            return self._create(user.id, text=text, visibility="direct").id

    def follow(self, follower: FakeUser, followee: FakeUser | None = None) -> None:
        """``follower`` follows ``followee`` (the owner by default), who is notified."""
        target = followee or self.owner
        with self._lock:
            self._add_follow(follower.id, target.id)

    def _add_follow(self, follower: str, followee: str) -> None:
        followers = self._follows.setdefault(followee, {})
        if follower in followers or follower == followee:
            return
        self._relation_ids += 1
        followers[follower] = self._relation_ids
        self._notify(followee, "follow", follower, None)

    def has(self, relation: str, subject: str, target: str) -> bool:
        """Whether user ``subject`` has ``relation`` with ``target`` (a status id for
        ``like``, ``repost`` and ``bookmark``; a user id for ``follow``, ``block`` and
        ``mute``). Mastodon cannot hide replies: ``hide`` is always False."""
        if relation not in self.RELATIONS:
            raise ValueError(
                f"unknown relation {relation!r}; expected one of {sorted(self.RELATIONS)}"
            )
        with self._lock:
            if relation == "like":
                status = self._statuses.get(target)
                return status is not None and subject in status.favourited_by
            if relation == "repost":
                return any(
                    s.reblog_of == target and s.account_id == subject and not s.deleted
                    for s in self._statuses.values()
                )
            if relation == "bookmark":
                return subject in self._bookmarks.get(target, set())
            if relation == "follow":
                return subject in self._follows.get(target, {})
            if relation == "block":
                return target in self._blocks.get(subject, set())
            if relation == "mute":
                return target in self._mutes.get(subject, set())
            return False

    def add_list(self, owner: FakeUser, title: str, members: Iterable[FakeUser] = ()) -> str:
        """``owner`` makes a list of ``members`` (its timeline: their statuses); returns its
        id."""
        with self._lock:
            item = _List(
                id=str(self.next_id()),
                account_id=owner.id,
                title=title,
                members={m.id for m in members},
            )
            self._lists[item.id] = item
            return item.id

    def vote(self, post_id: str, user: FakeUser, choices: Sequence[int]) -> None:
        """``user`` votes in the poll of a status."""
        with self._lock:
            poll = self._status(post_id).poll
            if poll is None:
                raise ValueError(f"status {post_id} has no poll")
            picked = list(dict.fromkeys(choices))
            if not picked or any(not 0 <= c < len(poll.options) for c in picked):
                raise ValueError("choices must be indexes of the poll's options")
            if len(picked) > 1 and not poll.multiple:
                raise ValueError("this poll takes one choice")
            if self.clock.now() >= poll.expires_at:
                raise ValueError("the poll has ended")
            poll.votes[user.id] = picked

    def _with_mention(self, text: str, user: FakeUser) -> str:
        if self._mentions_user(text, user):
            return text
        return f"@{user.handle} {text}".rstrip()

    def _mentions_user(self, text: str, user: FakeUser) -> bool:
        return any(self._resolve(u, d) == user.id for u, d in find_mentions(text))

    # -- lookups --------------------------------------------------------------------------------

    def _status(self, status_id: str) -> _Status:
        status = self._statuses.get(status_id)
        if status is None or status.deleted:
            raise KeyError(f"no status {status_id}")
        return status

    def status_of(self, status_id: str) -> dict[str, Any]:
        """The status as the owner's client reads it (the API's JSON)."""
        with self._lock:
            return self._status_json(self._status(status_id), self.owner.id)

    def _username_domain(self, user: FakeUser) -> tuple[str, str | None]:
        username, _, domain = user.handle.partition("@")
        return username, (domain or None)

    def _resolve(self, username: str, domain: str | None) -> str | None:
        if domain is not None and domain.lower() == self.host.lower():
            domain = None
        for user in self.users.values():
            name, user_domain = self._username_domain(user)
            if name.lower() == username.lower() and (
                (user_domain or "").lower() == (domain or "").lower()
            ):
                return user.id
        return None

    def _origin(self, user: FakeUser) -> str:
        _, domain = self._username_domain(user)
        return f"https://{domain}" if domain else self.base_url

    def _profile_url(self, user: FakeUser) -> str:
        username, _ = self._username_domain(user)
        return f"{self._origin(user)}/@{username}"

    def _followers(self, account_id: str) -> set[str]:
        return set(self._follows.get(account_id, {}))

    def _visible(self, status: _Status, viewer: str | None) -> bool:
        if status.deleted:
            return False
        if status.reblog_of is not None:
            original = self._statuses.get(status.reblog_of)
            if original is None or not self._visible(original, viewer):
                return False
        if viewer == status.account_id or status.visibility in ("public", "unlisted"):
            return True
        if viewer is None:
            return False
        if viewer in status.mention_ids:
            return True
        return status.visibility == "private" and viewer in self._followers(status.account_id)

    def _find_visible(self, status_id: str, viewer: str | None) -> _Status:
        status = self._statuses.get(status_id)
        if status is None or not self._visible(status, viewer):
            raise _Fail(404, NOT_FOUND)
        return status

    # -- creating statuses --------------------------------------------------------------------

    def _create(
        self,
        account_id: str,
        *,
        text: str,
        visibility: str,
        parent: _Status | None = None,
        quoted: _Status | None = None,
        spoiler_text: str = "",
        sensitive: bool = False,
        language: str | None = None,
        media: Sequence[_Media] = (),
        poll: _Poll | None = None,
        created_at: datetime | None = None,
    ) -> _Status:
        now = created_at or self.clock.now()
        rendered = self._render(text)
        status = _Status(
            id=self._snowflake(now),
            account_id=account_id,
            text=text,
            created_at=now,
            visibility=visibility,
            spoiler_text=spoiler_text,
            sensitive=sensitive or bool(spoiler_text),
            language=language,
            in_reply_to_id=parent.id if parent is not None else None,
            in_reply_to_account_id=parent.account_id if parent is not None else None,
            quote_id=quoted.id if quoted is not None else None,
            media_ids=[m.id for m in media],
            poll=poll,
            content=rendered.html,
            mention_ids=rendered.mention_ids,
            tags=rendered.tags,
        )
        self._statuses[status.id] = status
        self._stream_log.append(("update", status.id))
        for item in media:
            item.status_id = status.id
        for mentioned in status.mention_ids:
            if mentioned != account_id:
                self._notify(mentioned, "mention", account_id, status.id, at=now)
        if quoted is not None and quoted.account_id != account_id:
            self._notify(quoted.account_id, "quote", account_id, status.id, at=now)
        if visibility == "direct":
            self._converse(status, parent)
        return status

    def _render(self, text: str) -> Rendered:
        def resolve(username: str, domain: str | None) -> tuple[str, str, str] | None:
            found = self._resolve(username, domain)
            if found is None:
                return None
            user = self.users[found]
            return user.id, self._profile_url(user), self._username_domain(user)[0]

        return render(text, resolve=resolve, tag_url=lambda tag: f"{self.base_url}/tags/{tag}")

    def _converse(self, status: _Status, parent: _Status | None) -> None:
        participants = frozenset({status.account_id, *status.mention_ids})
        conversation: _Conversation | None = None
        if parent is not None and parent.conversation_id is not None:
            conversation = self._conversations.get(parent.conversation_id)
        if conversation is None:
            conversation = _Conversation(
                id=str(len(self._conversations) + 1), participants=participants
            )
            self._conversations[conversation.id] = conversation
        else:
            conversation.participants = conversation.participants | participants
        conversation.status_ids.append(status.id)
        conversation.unread = set(conversation.participants) - {status.account_id}
        status.conversation_id = conversation.id

    def _notify(
        self,
        account_id: str,
        type_: str,
        from_id: str,
        status_id: str | None,
        *,
        at: datetime | None = None,
    ) -> None:
        if account_id == from_id:
            return
        self._notification_ids += 1
        self._stream_log.append(("notification", str(self._notification_ids)))
        self._notifications.append(
            _Notification(
                id=self._notification_ids,
                account_id=account_id,
                type=type_,
                from_id=from_id,
                status_id=status_id,
                created_at=at or self.clock.now(),
            )
        )

    def _release_scheduled(self) -> None:
        """Publish scheduled statuses whose time has come (on the fake's clock)."""
        now = self.clock.now()
        due = sorted(
            (s for s in self._scheduled.values() if s.scheduled_at <= now),
            key=lambda s: s.scheduled_at,
        )
        for item in due:
            del self._scheduled[item.id]
            try:
                status = self._status_from_body(
                    item.account_id, item.body, created_at=item.scheduled_at
                )
            except (_Fail, KeyError):
                continue  # its reply target or quote went away: Mastodon drops it too
            if item.idempotency:
                key = (item.account_id, item.idempotency)
                self._idempotency[key] = (status.id, self.idempotency_clock())

    # -- serialisation ------------------------------------------------------------------------

    def _account_json(self, user: FakeUser, *, credential: bool = False) -> dict[str, Any]:
        username, domain = self._username_domain(user)
        origin = self._origin(user)
        created = self._created.get(user.id, self.clock.now())
        statuses = sum(
            1
            for s in self._statuses.values()
            if s.account_id == user.id and not s.deleted and s.visibility != "direct"
        )
        last = max(
            (s.created_at for s in self._statuses.values() if s.account_id == user.id),
            default=None,
        )
        body: dict[str, Any] = {
            "id": user.id,
            "username": username,
            "acct": user.handle,
            "display_name": user.name,
            "locked": False,
            "bot": False,
            "discoverable": True,
            "indexable": True,
            "group": False,
            "created_at": _iso(created.replace(hour=0, minute=0, second=0, microsecond=0)),
            "note": "",
            "url": f"{origin}/@{username}",
            "uri": f"{origin}/users/{username}",
            "avatar": f"{self.base_url}/avatars/original/missing.png",
            "avatar_static": f"{self.base_url}/avatars/original/missing.png",
            "header": f"{self.base_url}/headers/original/missing.png",
            "header_static": f"{self.base_url}/headers/original/missing.png",
            "followers_count": user.followers + len(self._followers(user.id)),
            "following_count": user.following
            + sum(1 for f in self._follows.values() if user.id in f),
            "statuses_count": statuses,
            "last_status_at": last.date().isoformat() if last is not None else None,
            "emojis": [],
            "fields": [],
        }
        if domain is None:
            body["hide_collections"] = False
        if credential:
            body["source"] = {
                "note": "",
                "fields": [],
                "privacy": "public",
                "sensitive": False,
                "language": "en",
                "follow_requests_count": 0,
                "attribution_domains": [],
                "discoverable": True,
                "hide_collections": False,
                "indexable": True,
                "quote_policy": "public",
            }
            body["role"] = {
                "id": "-99",
                "name": "",
                "permissions": "0",
                "color": "",
                "highlighted": False,
            }
        return body

    def _media_json(self, item: _Media) -> dict[str, Any]:
        ready = item.pending_polls <= 0
        url = f"{self.base_url}/system/media_attachments/files/{item.id}/original/{item.filename}"
        small = f"{self.base_url}/system/media_attachments/files/{item.id}/small/{item.filename}"
        return {
            "id": item.id,
            "type": item.type,
            "url": url if ready else None,
            "preview_url": small if ready else None,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": self._media_meta(item) if ready else None,
            "description": item.description,
            "blurhash": None,
        }

    def _media_meta(self, item: _Media) -> dict[str, Any] | None:
        """``MediaAttachment.meta`` as a processed file has it: the original's size (read
        from a PNG's or GIF's header) and, for video and audio, ``media_duration``."""
        original: dict[str, Any] = {}
        head = item.content
        if item.mime_type == "image/png" and len(head) >= 24 and head[12:16] == b"IHDR":
            original["width"] = int.from_bytes(head[16:20], "big")
            original["height"] = int.from_bytes(head[20:24], "big")
        elif item.mime_type == "image/gif" and len(head) >= 10:
            original["width"] = int.from_bytes(head[6:8], "little")
            original["height"] = int.from_bytes(head[8:10], "little")
        if item.type in ("video", "audio", "gifv") and self.media_duration is not None:
            original["duration"] = self.media_duration
        if "width" in original and original["width"] and original.get("height"):
            original["aspect"] = original["width"] / original["height"]
        return {"original": original} if original else None

    def _poll_json(self, poll: _Poll, viewer: str | None) -> dict[str, Any]:
        counts = [0] * len(poll.options)
        for picked in poll.votes.values():
            for choice in picked:
                counts[choice] += 1
        expired = self.clock.now() >= poll.expires_at
        hidden = poll.hide_totals and not expired
        body: dict[str, Any] = {
            "id": poll.id,
            "expires_at": _iso(poll.expires_at),
            "expired": expired,
            "multiple": poll.multiple,
            "votes_count": sum(counts),
            "voters_count": len(poll.votes) if poll.multiple else None,
            "options": [
                {"title": title, "votes_count": None if hidden else count}
                for title, count in zip(poll.options, counts, strict=True)
            ],
            "emojis": [],
        }
        if viewer is not None:
            body["voted"] = viewer in poll.votes
            body["own_votes"] = list(poll.votes.get(viewer, []))
        return body

    def _status_json(
        self, status: _Status, viewer: str | None, *, depth: int = 0, source: bool = False
    ) -> dict[str, Any]:
        author = self.users[status.account_id]
        username, _ = self._username_domain(author)
        origin = self._origin(author)
        live = [s for s in self._statuses.values() if not s.deleted]
        reblog: dict[str, Any] | None = None
        if status.reblog_of is not None:
            reblog = self._status_json(self._statuses[status.reblog_of], viewer, depth=depth)
        target = status.reblog_of or status.id
        body: dict[str, Any] = {
            "id": status.id,
            "created_at": _iso(status.created_at),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "visibility": status.visibility,
            "language": status.language,
            "uri": f"{origin}/users/{username}/statuses/{status.id}",
            "url": f"{origin}/@{username}/{status.id}",
            "replies_count": sum(1 for s in live if s.in_reply_to_id == status.id),
            "reblogs_count": sum(1 for s in live if s.reblog_of == status.id),
            "favourites_count": len(status.favourited_by),
            "quotes_count": sum(1 for s in live if s.quote_id == status.id),
            "edited_at": _iso(status.edited_at) if status.edited_at else None,
            "content": status.content,
            "reblog": reblog,
            "application": {"name": "Web", "website": None},
            "account": self._account_json(author),
            "media_attachments": [
                self._media_json(self._media[m]) for m in status.media_ids if m in self._media
            ],
            "mentions": [self._mention_json(self.users[m]) for m in status.mention_ids],
            "tags": [{"name": t, "url": f"{self.base_url}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "card": None,
            "poll": self._poll_json(status.poll, viewer) if status.poll else None,
        }
        if viewer is not None:
            original = self._statuses[target]
            body["favourited"] = viewer in original.favourited_by
            body["reblogged"] = any(s.reblog_of == target and s.account_id == viewer for s in live)
            body["muted"] = False
            body["bookmarked"] = viewer in self._bookmarks.get(target, set())
            if viewer == status.account_id:
                body["pinned"] = False
        if status.quote_id is not None:
            quoted = self._statuses.get(status.quote_id)
            if quoted is None or quoted.deleted:
                body["quote"] = {"state": "deleted", "quoted_status": None}
            elif depth > 0:
                # Mastodon nests one level: a quote inside a quote is a ShallowQuote.
                body["quote"] = {"state": "accepted", "quoted_status_id": quoted.id}
            elif not self._visible(quoted, viewer):
                body["quote"] = {"state": "unauthorized", "quoted_status": None}
            else:
                body["quote"] = {
                    "state": "accepted",
                    "quoted_status": self._status_json(quoted, viewer, depth=depth + 1),
                }
        else:
            body["quote"] = None
        if source:
            body["text"] = status.text
        return body

    def _mention_json(self, user: FakeUser) -> dict[str, Any]:
        username, _ = self._username_domain(user)
        return {
            "id": user.id,
            "username": username,
            "url": self._profile_url(user),
            "acct": user.handle,
        }

    def _notification_json(self, item: _Notification, viewer: str) -> dict[str, Any]:
        status = self._statuses.get(item.status_id) if item.status_id else None
        return {
            "id": str(item.id),
            "type": item.type,
            "group_key": f"ungrouped-{item.id}",
            "created_at": _iso(item.created_at),
            "account": self._account_json(self.users[item.from_id]),
            "status": self._status_json(status, viewer) if status is not None else None,
        }

    def _scheduled_json(self, item: _Scheduled) -> dict[str, Any]:
        body = item.body
        poll = body.get("poll") if isinstance(body.get("poll"), dict) else None
        reply = _as_int(body.get("in_reply_to_id"))
        return {
            "id": item.id,
            "scheduled_at": _iso(item.scheduled_at),
            "params": {
                "application_id": 1,
                "text": str(body.get("status") or ""),
                "visibility": str(body.get("visibility") or "public"),
                "with_rate_limit": False,
                "idempotency": item.idempotency,
                "in_reply_to_id": reply,
                "language": body.get("language") or None,
                "media_ids": list(item.media_ids) or None,
                "poll": (
                    {
                        "options": [str(o) for o in poll.get("options") or []],
                        "expires_in": _as_int(poll.get("expires_in")) or 0,
                        "multiple": _truthy(poll.get("multiple", False)),
                        "hide_totals": _truthy(poll.get("hide_totals", False)),
                    }
                    if poll is not None
                    else None
                ),
                "quoted_status_id": (
                    str(body["quoted_status_id"]) if body.get("quoted_status_id") else None
                ),
                "scheduled_at": None,
                "sensitive": _truthy(body["sensitive"]) if "sensitive" in body else None,
                "spoiler_text": body.get("spoiler_text") or None,
            },
            "media_attachments": [
                self._media_json(self._media[m]) for m in item.media_ids if m in self._media
            ],
        }

    def _instance_json(self) -> dict[str, Any]:
        # Instance schema (#/components/schemas/Instance, GET /api/v2/instance).
        return {
            "domain": self.host,
            "title": "Fake Mastodon",
            "version": self.version,
            "api_versions": {"mastodon": self.api_version},
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "An in-memory Mastodon server from socialkit.testing.fakes",
            "usage": {"users": {"active_month": len(self.users)}},
            "thumbnail": {"url": f"{self.base_url}/packs/media/images/preview.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": f"wss://{self.host}"},
                "vapid": {"public_key": ""},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {
                    "max_characters": self.max_characters,
                    "max_media_attachments": self.max_media_attachments,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "supported_mime_types": list(SUPPORTED_MIME_TYPES),
                    "image_size_limit": 16 * 1024 * 1024,
                    "image_matrix_limit": 33177600,
                    "video_size_limit": 99 * 1024 * 1024,
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8294400,
                    "description_limit": 1500,
                },
                "polls": {
                    "max_options": 4,
                    "max_characters_per_option": 50,
                    "min_expiration": 300,
                    "max_expiration": 2629746,
                },
                "translation": {"enabled": False},
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": f"admin@{self.host}", "account": None},
            "rules": [],
        }

    # -- pagination -----------------------------------------------------------------------------

    def _page(
        self,
        call: _Call,
        items: Sequence[T],
        key: Callable[[T], int],
        *,
        default: int,
        maximum: int,
    ) -> tuple[list[T], dict[str, str]]:
        """Mastodon's id pagination over ``items`` (newest first): ``max_id`` (older than),
        ``since_id`` (newer than, newest first), ``min_id`` (newer than, just after it);
        ``Link`` with ``next`` when the page is full and ``prev`` when it is not empty."""
        raw_limit = call.query("limit")
        limit = default if raw_limit is None else min(abs(_as_int(raw_limit) or 0), maximum)
        max_id = _as_int(call.query("max_id"))
        since_id = _as_int(call.query("since_id"))
        min_id = _as_int(call.query("min_id"))
        chosen = [
            item
            for item in items
            if (max_id is None or key(item) < max_id)
            and (since_id is None or key(item) > since_id)
            and (min_id is None or key(item) > min_id)
        ]
        # min_id: the page just after min_id (the oldest of the newer ones), still newest first.
        page = (chosen[-limit:] if limit else []) if min_id is not None else chosen[:limit]
        headers: dict[str, str] = {}
        links = []
        if page and len(page) == limit:
            links.append(f'<{self._link(call, "max_id", key(page[-1]))}>; rel="next"')
        if page:
            links.append(f'<{self._link(call, "min_id", key(page[0]))}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return page, headers

    def _link(self, call: _Call, name: str, value: int) -> str:
        request = call.request
        kept = [
            (k, v)
            for k, v in request.query_params.multi_items()
            if k not in ("max_id", "since_id", "min_id")
        ]
        kept.append((name, str(value)))
        base = str(request.base_url).rstrip("/")
        return f"{base}{request.url.path}?{urlencode(kept)}"

    # -- the HTTP app -------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        routes = [
            Route("/api/v2/instance", self._wrap(self._get_instance, "none"), methods=["GET"]),
            Route(
                "/api/v1/accounts/verify_credentials",
                self._wrap(self._verify_credentials, "user"),
                methods=["GET"],
            ),
            Route("/api/v1/accounts/lookup", self._wrap(self._lookup, "optional"), methods=["GET"]),
            Route(
                "/api/v1/accounts/{id}/statuses",
                self._wrap(self._account_statuses, "optional"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/accounts/{id}/followers",
                self._wrap(self._account_followers, "optional"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/accounts/{id}/following",
                self._wrap(self._account_following, "optional"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/accounts/{id}/{action}",
                self._wrap(self._account_action, "user"),
                methods=["POST"],
            ),
            Route(
                "/api/v1/accounts/{id}", self._wrap(self._get_account, "optional"), methods=["GET"]
            ),
            Route(
                "/api/v1/timelines/home", self._wrap(self._home_timeline, "user"), methods=["GET"]
            ),
            Route("/api/v1/lists", self._wrap(self._get_lists, "user"), methods=["GET"]),
            Route(
                "/api/v1/timelines/list/{list_id}",
                self._wrap(self._list_timeline, "user"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/statuses",
                self._wrap(self._statuses_collection, "optional"),
                methods=["GET", "POST"],
            ),
            Route(
                "/api/v1/statuses/{id}/context",
                self._wrap(self._context, "optional"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/statuses/{id}/{action}",
                self._wrap(self._status_action, "user"),
                methods=["POST"],
            ),
            Route(
                "/api/v1/statuses/{id}",
                self._wrap(self._status_item, "optional"),
                methods=["GET", "PUT", "DELETE"],
            ),
            Route("/api/v2/media", self._wrap(self._upload, "user"), methods=["POST"]),
            Route(
                "/api/v1/media/{id}", self._wrap(self._media_item, "user"), methods=["GET", "PUT"]
            ),
            Route(
                "/api/v1/scheduled_statuses",
                self._wrap(self._list_scheduled, "user"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/scheduled_statuses/{id}",
                self._wrap(self._scheduled_item, "user"),
                methods=["GET", "PUT", "DELETE"],
            ),
            Route(
                "/api/v1/notifications",
                self._wrap(self._list_notifications, "user"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/conversations",
                self._wrap(self._list_conversations, "user"),
                methods=["GET"],
            ),
            Route("/api/v2/search", self._wrap(self._search, "optional"), methods=["GET"]),
            Route(
                "/api/v1/timelines/tag/{tag}",
                self._wrap(self._tag_timeline, "optional"),
                methods=["GET"],
            ),
            Route("/api/v1/apps", self._wrap(self._register_app, "none"), methods=["POST"]),
            Route("/oauth/authorize", self._wrap(self._authorize, "none"), methods=["GET"]),
            Route("/oauth/token", self._wrap(self._token, "none"), methods=["POST"]),
            Route(
                "/api/v1/timelines/public",
                self._wrap(self._public_timeline, "optional"),
                methods=["GET"],
            ),
            Route(
                "/api/v1/streaming/health", self._wrap(self._stream_health, "none"), methods=["GET"]
            ),
            *(
                Route(
                    f"/api/v1/streaming/{name}",
                    self._wrap(self._stream_endpoint(name), auth),
                    methods=["GET"],
                )
                for name, auth in STREAMS.items()
            ),
            Route(
                "/system/media_attachments/files/{id}/{size}/{name}",
                self._serve_file,
                methods=["GET"],
            ),
            Route(
                "/{rest:path}",
                self._wrap(self._not_found, "none"),
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]
        return Starlette(routes=routes)

    def _wrap(self, handler: Handler, auth: str) -> Callable[[Request], Awaitable[Response]]:
        """Every API request: rate limit (per account or client, per bucket), token check,
        the handler, Mastodon's error body, and the rate-limit headers on every answer."""

        async def endpoint(request: Request) -> Response:
            early: _Fail | None = None
            try:
                data, files = await self._read_body(request)
            except _Fail as exc:
                data, files, early = {}, {}, exc
            with self._lock:
                self._release_scheduled()
                token = _bearer(request)
                if token is None and request.url.path.startswith("/api/v1/streaming/"):
                    # The streaming API also takes the token as a query parameter.
                    token = request.query_params.get("access_token")
                viewer = self._tokens.get(token) if token is not None else None
                who = viewer or f"client:{request.client.host if request.client else '-'}"
                bucket = _bucket(request.method, request.url.path)
                allowed, remaining, reset = self.limiters[bucket].hit(f"{who}:{bucket}")
                headers = {
                    "X-RateLimit-Limit": str(self.limiters[bucket].limit),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": datetime.fromtimestamp(reset, UTC)
                    .isoformat(timespec="microseconds")
                    .replace("+00:00", "Z"),
                }
                response: Response
                try:
                    if not allowed:
                        raise _Fail(429, "Too many requests")
                    if token is not None and viewer is None:
                        raise _Fail(401, INVALID_TOKEN)
                    if auth == "user" and viewer is None:
                        raise _Fail(401, "This method requires an authenticated user")
                    if early is not None:
                        raise early
                    response = handler(_Call(request, viewer, data, files))
                except _Fail as exc:
                    response = JSONResponse({"error": exc.message, **exc.extra}, exc.status)
                except KeyError:
                    response = JSONResponse({"error": NOT_FOUND}, 404)
                for name, value in headers.items():
                    response.headers[name] = value
                return response

        return endpoint

    @staticmethod
    async def _read_body(
        request: Request,
    ) -> tuple[dict[str, Any], dict[str, tuple[str, str, bytes]]]:
        content_type = request.headers.get("content-type", "")
        data: dict[str, Any] = {}
        files: dict[str, tuple[str, str, bytes]] = {}
        if content_type.startswith("application/json"):
            raw = await request.body()
            if raw.strip():
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    raise _Fail(400, "Bad request: the body is not valid JSON") from None
                if not isinstance(parsed, dict):
                    raise _Fail(400, "Bad request: the body must be a JSON object")
                data = parsed
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = (
                        value.filename or "file",
                        value.content_type or "application/octet-stream",
                        await value.read(),
                    )
                else:
                    _set_path(data, key, value)
        return data, files

    async def _serve_file(self, request: Request) -> Response:
        with self._lock:
            item = self._media.get(str(request.path_params["id"]))
            if item is None or item.pending_polls > 0:
                return JSONResponse({"error": NOT_FOUND}, 404)
            return Response(item.content, media_type=item.mime_type)

    # -- handlers: accounts and instance ------------------------------------------------------

    def _get_instance(self, call: _Call) -> Response:
        body = self._instance_json()
        # The streaming URL of the address the request reached (the fake may be served on a
        # port): ws(s)://host[:port], as a server whose streaming runs on the same host.
        url = call.request.url
        scheme = "wss" if url.scheme == "https" else "ws"
        body["configuration"]["urls"]["streaming"] = f"{scheme}://{url.netloc}"
        return JSONResponse(body)

    def _verify_credentials(self, call: _Call) -> Response:
        assert call.viewer is not None
        return JSONResponse(self._account_json(self.users[call.viewer], credential=True))

    def _lookup(self, call: _Call) -> Response:
        acct = (call.query("acct") or "").strip().lstrip("@")
        if not acct:
            raise _Fail(404, NOT_FOUND)
        username, _, domain = acct.partition("@")
        found = self._resolve(username, domain or None)
        if found is None:
            raise _Fail(404, NOT_FOUND)
        return JSONResponse(self._account_json(self.users[found]))

    def _get_account(self, call: _Call) -> Response:
        user = self.users.get(call.path("id"))
        if user is None:
            raise _Fail(404, NOT_FOUND)
        return JSONResponse(self._account_json(user))

    def _account_statuses(self, call: _Call) -> Response:
        account_id = call.path("id")
        if account_id not in self.users:
            raise _Fail(404, NOT_FOUND)
        if _truthy(call.query("pinned") or False):
            return JSONResponse([])  # the fake pins nothing
        exclude_reblogs = _truthy(call.query("exclude_reblogs") or False)
        exclude_replies = _truthy(call.query("exclude_replies") or False)
        only_media = _truthy(call.query("only_media") or False)
        tagged = (call.query("tagged") or "").lstrip("#").lower()
        items = [
            s
            for s in self._newest_first()
            if s.account_id == account_id
            and self._visible(s, call.viewer)
            and not (exclude_reblogs and s.reblog_of is not None)
            and not (
                exclude_replies
                and s.in_reply_to_id is not None
                and s.in_reply_to_account_id != account_id
            )
            and not (only_media and not s.media_ids)
            and not (tagged and tagged not in s.tags)
        ]
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._status_json(s, call.viewer) for s in page], headers=headers)

    def _newest_first(self) -> list[_Status]:
        return sorted(
            (s for s in self._statuses.values() if not s.deleted),
            key=lambda s: int(s.id),
            reverse=True,
        )

    def _relationship_json(self, viewer: str, other: str) -> dict[str, Any]:
        # Relationship schema (#/components/schemas/Relationship): every field is required.
        return {
            "id": other,
            "following": viewer in self._follows.get(other, {}),
            "showing_reblogs": True,
            "notifying": False,
            "languages": None,
            "followed_by": other in self._follows.get(viewer, {}),
            "blocking": other in self._blocks.get(viewer, set()),
            "blocked_by": viewer in self._blocks.get(other, set()),
            "muting": other in self._mutes.get(viewer, set()),
            "muting_notifications": other in self._mutes.get(viewer, set()),
            "muting_expires_at": None,
            "requested": False,
            "requested_by": False,
            "domain_blocking": False,
            "endorsed": False,
            "note": "",
        }

    def _account_action(self, call: _Call) -> Response:
        """follow / unfollow / block / unblock / mute / unmute: each answers the Relationship
        and is idempotent, as on Mastodon."""
        viewer = call.viewer
        assert viewer is not None
        other = call.path("id")
        action = call.path("action")
        if other not in self.users:
            raise _Fail(404, NOT_FOUND)
        if action == "follow":
            if other == viewer or viewer in self._blocks.get(other, set()):
                raise _Fail(403, NOT_ALLOWED)
            if other in self._blocks.get(viewer, set()):
                raise _Fail(403, NOT_ALLOWED)
            self._add_follow(viewer, other)
        elif action == "unfollow":
            self._follows.get(other, {}).pop(viewer, None)
        elif action == "block":
            if other != viewer:
                self._blocks.setdefault(viewer, set()).add(other)
                self._follows.get(other, {}).pop(viewer, None)
                self._follows.get(viewer, {}).pop(other, None)
        elif action == "unblock":
            self._blocks.get(viewer, set()).discard(other)
        elif action == "mute":
            if other != viewer:
                self._mutes.setdefault(viewer, set()).add(other)
        elif action == "unmute":
            self._mutes.get(viewer, set()).discard(other)
        else:
            raise _Fail(404, NOT_FOUND)
        return JSONResponse(self._relationship_json(viewer, other))

    def _follow_page(self, call: _Call, rows: list[tuple[int, str]]) -> Response:
        user = self.users[call.path("id")]
        if user.extra.get("hide_collections") and call.viewer != user.id:
            return JSONResponse([])
        rows.sort(reverse=True)  # newest follow first; pages go by the follow's id
        page, headers = self._page(call, rows, lambda row: row[0], default=40, maximum=80)
        return JSONResponse(
            [self._account_json(self.users[uid]) for _, uid in page], headers=headers
        )

    def _account_followers(self, call: _Call) -> Response:
        account_id = call.path("id")
        if account_id not in self.users:
            raise _Fail(404, NOT_FOUND)
        rows = [(fid, uid) for uid, fid in self._follows.get(account_id, {}).items()]
        return self._follow_page(call, rows)

    def _account_following(self, call: _Call) -> Response:
        account_id = call.path("id")
        if account_id not in self.users:
            raise _Fail(404, NOT_FOUND)
        rows = [
            (followers[account_id], followee)
            for followee, followers in self._follows.items()
            if account_id in followers
        ]
        return self._follow_page(call, rows)

    def _hidden_from(self, viewer: str, author: str) -> bool:
        return author in self._mutes.get(viewer, set()) or author in self._blocks.get(viewer, set())

    def _home_timeline(self, call: _Call) -> Response:
        """The statuses and boosts of the accounts the viewer follows, and the viewer's own."""
        viewer = call.viewer
        assert viewer is not None
        followed = {f for f, followers in self._follows.items() if viewer in followers}
        items = [
            s
            for s in self._newest_first()
            if (s.account_id == viewer or s.account_id in followed)
            and self._visible(s, viewer)
            and (s.visibility != "direct" or viewer in s.mention_ids or s.account_id == viewer)
            and not self._hidden_from(viewer, s.account_id)
        ]
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._status_json(s, viewer) for s in page], headers=headers)

    def _list_json(self, item: _List) -> dict[str, Any]:
        return {
            "id": item.id,
            "title": item.title,
            "replies_policy": "list",
            "exclusive": False,
        }

    def _get_lists(self, call: _Call) -> Response:
        mine = [item for item in self._lists.values() if item.account_id == call.viewer]
        return JSONResponse([self._list_json(item) for item in mine])

    def _list_timeline(self, call: _Call) -> Response:
        viewer = call.viewer
        assert viewer is not None
        item = self._lists.get(call.path("list_id"))
        if item is None or item.account_id != viewer:
            raise _Fail(404, NOT_FOUND)
        items = [
            s
            for s in self._newest_first()
            if s.account_id in item.members
            and self._visible(s, viewer)
            and s.visibility != "direct"
            and not self._hidden_from(viewer, s.account_id)
        ]
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._status_json(s, viewer) for s in page], headers=headers)

    # -- handlers: statuses -------------------------------------------------------------------

    def _status_action(self, call: _Call) -> Response:
        """favourite / unfavourite / reblog / unreblog / bookmark / unbookmark: idempotent,
        each answers the status (``reblog``: the boost, carrying the status)."""
        viewer = call.viewer
        assert viewer is not None
        action = call.path("action")
        if action not in (
            "favourite",
            "unfavourite",
            "reblog",
            "unreblog",
            "bookmark",
            "unbookmark",
        ):
            raise _Fail(404, NOT_FOUND)
        status = self._find_visible(call.path("id"), viewer)
        if status.reblog_of is not None:
            status = self._find_visible(status.reblog_of, viewer)
        if action == "favourite":
            if viewer not in status.favourited_by:
                status.favourited_by[viewer] = self.clock.now()
                self._notify(status.account_id, "favourite", viewer, status.id)
        elif action == "unfavourite":
            status.favourited_by.pop(viewer, None)
        elif action == "bookmark":
            self._bookmarks.setdefault(status.id, set()).add(viewer)
        elif action == "unbookmark":
            self._bookmarks.get(status.id, set()).discard(viewer)
        elif action == "reblog":
            return JSONResponse(self._status_json(self._reblog(status, viewer), viewer))
        else:
            for other in self._statuses.values():
                if other.reblog_of == status.id and other.account_id == viewer:
                    other.deleted = True
        return JSONResponse(self._status_json(status, viewer))

    def _reblog(self, status: _Status, viewer: str) -> _Status:
        """The viewer's boost of ``status`` (the existing one when boosted already)."""
        for other in self._statuses.values():
            if other.reblog_of == status.id and other.account_id == viewer and not other.deleted:
                return other
        own_private = status.visibility == "private" and status.account_id == viewer
        if status.visibility not in ("public", "unlisted") and not own_private:
            raise _Fail(403, NOT_ALLOWED)
        now = self.clock.now()
        reblog = _Status(
            id=self._snowflake(now),
            account_id=viewer,
            text="",
            created_at=now,
            visibility=status.visibility,
            reblog_of=status.id,
        )
        self._statuses[reblog.id] = reblog
        self._stream_log.append(("update", reblog.id))
        self._notify(status.account_id, "reblog", viewer, status.id)
        return reblog

    def _statuses_collection(self, call: _Call) -> Response:
        if call.request.method == "POST":
            return self._post_status(call)
        ids = list(dict.fromkeys(call.query_list("id")))
        found = []
        for status_id in ids:
            status = self._statuses.get(status_id)
            if status is not None and self._visible(status, call.viewer):
                found.append(self._status_json(status, call.viewer))
        return JSONResponse(found)

    def _status_item(self, call: _Call) -> Response:
        method = call.request.method
        if method == "GET":
            return JSONResponse(
                self._status_json(self._find_visible(call.path("id"), call.viewer), call.viewer)
            )
        if call.viewer is None:
            raise _Fail(401, "This method requires an authenticated user")
        status = self._find_visible(call.path("id"), call.viewer)
        if status.account_id != call.viewer or status.reblog_of is not None:
            raise _Fail(403, NOT_ALLOWED)
        if method == "DELETE":
            body = self._status_json(status, call.viewer, source=True)
            status.deleted = True
            self._stream_log.append(("delete", status.id))
            for other in self._statuses.values():
                if other.reblog_of == status.id:
                    other.deleted = True
            self._notifications = [n for n in self._notifications if n.status_id != status.id]
            for media_id in status.media_ids:
                self._media.pop(media_id, None)
            return JSONResponse(body)
        return self._edit_status(call, status)

    def _post_status(self, call: _Call) -> Response:
        viewer = call.viewer
        if viewer is None:
            raise _Fail(401, "This method requires an authenticated user")
        key = call.request.headers.get("idempotency-key")
        if key:
            remembered = self._idempotency.get((viewer, key))
            if (
                remembered is not None
                and self.idempotency_clock() - remembered[1] < IDEMPOTENCY_TTL
            ):
                known = remembered[0]
                if known in self._scheduled:
                    return JSONResponse(self._scheduled_json(self._scheduled[known]))
                if known in self._statuses:
                    return JSONResponse(self._status_json(self._statuses[known], viewer))
        scheduled_at = call.data.get("scheduled_at")
        if scheduled_at not in (None, ""):
            item = self._schedule(viewer, call.data, key)
            return JSONResponse(self._scheduled_json(item))
        status = self._status_from_body(viewer, call.data)
        if key:
            self._idempotency[(viewer, key)] = (status.id, self.idempotency_clock())
        return JSONResponse(self._status_json(status, viewer))

    def _checked_media(self, viewer: str, data: Mapping[str, Any]) -> list[_Media]:
        raw = data.get("media_ids") or []
        if not isinstance(raw, list):
            raise _validation("Media ids must be an array", "media_ids")
        ids = [str(m) for m in raw]
        if len(ids) > self.max_media_attachments:
            raise _Fail(422, f"Cannot attach more than {self.max_media_attachments} files")
        found = []
        for media_id in ids:
            item = self._media.get(media_id)
            if item is None or item.account_id != viewer or item.status_id is not None:
                raise _Fail(422, f"Media {media_id} not found or already attached to a post")
            found.append(item)
        if any(item.pending_polls > 0 for item in found):
            raise _Fail(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        kinds = {item.type for item in found}
        if len(found) > 1 and kinds & {"video", "gifv", "audio"}:
            raise _Fail(422, "Cannot attach a video to a post that already contains images")
        return found

    def _checked_poll(self, data: Mapping[str, Any]) -> _Poll | None:
        raw = data.get("poll")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise _validation("Poll is invalid", "poll")
        options = raw.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 4:
            raise _validation("Poll must have between 2 and 4 options", "poll", "ERR_TOO_SHORT")
        if any(not isinstance(o, str) or not o.strip() or len(o) > 50 for o in options):
            raise _validation("Poll options must be 1 to 50 characters long", "poll")
        if len(set(options)) != len(options):
            raise _validation("Poll options must be unique", "poll", "ERR_TAKEN")
        expires_in = _as_int(raw.get("expires_in"))
        if expires_in is None or not 300 <= expires_in <= 2629746:
            raise _validation(
                "Poll expiration must be between 5 minutes and a month", "poll", "ERR_INVALID"
            )
        return _Poll(
            id=str(self.next_id()),
            options=[str(o) for o in options],
            multiple=_truthy(raw.get("multiple", False)),
            hide_totals=_truthy(raw.get("hide_totals", False)),
            expires_at=self.clock.now() + timedelta(seconds=expires_in),
        )

    def _checked_text(self, data: Mapping[str, Any]) -> tuple[str, str]:
        from socialkit.text.mastodon import count_mastodon

        text = data.get("status") or ""
        spoiler = data.get("spoiler_text") or ""
        if not isinstance(text, str) or not isinstance(spoiler, str):
            raise _validation("Text must be a string", "text")
        length = count_mastodon(text, spoiler)
        if length > self.max_characters:
            raise _validation(
                f"Text character limit of {self.max_characters} exceeded", "text", "ERR_TOO_LONG"
            )
        return text, spoiler

    def _status_from_body(
        self, viewer: str, data: Mapping[str, Any], *, created_at: datetime | None = None
    ) -> _Status:
        text, spoiler = self._checked_text(data)
        media = self._checked_media(viewer, data)
        poll = self._checked_poll(data)
        if not text.strip() and not media and poll is None:
            raise _validation("Text can't be blank", "text", "ERR_BLANK")
        if media and poll is not None:
            raise _Fail(422, "Cannot attach both media and a poll to a post")
        visibility = str(data.get("visibility") or "public")
        if visibility not in VISIBILITIES:
            raise _validation("Visibility is not included in the list", "visibility")
        parent = None
        if data.get("in_reply_to_id") not in (None, ""):
            parent = self._find_visible(str(data["in_reply_to_id"]), viewer)
        quoted = None
        if data.get("quoted_status_id") not in (None, ""):
            if self.api_version < 7:
                raise _validation("Quoted status is not supported by this server", "quote")
            quoted = self._find_visible(str(data["quoted_status_id"]), viewer)
            if quoted.visibility in ("private", "direct") and quoted.account_id != viewer:
                raise _Fail(422, "You are not allowed to quote this post")
        language = data.get("language")
        return self._create(
            viewer,
            text=text,
            visibility=visibility,
            parent=parent,
            quoted=quoted,
            spoiler_text=spoiler,
            sensitive=_truthy(data.get("sensitive", False)),
            language=language if isinstance(language, str) and language else None,
            media=media,
            poll=poll,
            created_at=created_at,
        )

    def _schedule(self, viewer: str, data: Mapping[str, Any], key: str | None) -> _Scheduled:
        when = _parse_time(data.get("scheduled_at"))
        if when is None:
            raise _validation("Scheduled at is not a valid time", "scheduled_at")
        if when - self.clock.now() < MIN_SCHEDULE_AHEAD:
            raise _validation(
                "Scheduled at The scheduled date must be in the future", "scheduled_at"
            )
        # Checked now as on Mastodon (the status is built when the time comes).
        self._checked_text(data)
        media = self._checked_media(viewer, data)
        self._checked_poll(data)
        item = _Scheduled(
            id=str(self.next_id()),
            account_id=viewer,
            scheduled_at=when,
            body={k: v for k, v in data.items() if k != "scheduled_at"},
            media_ids=[m.id for m in media],
            idempotency=key,
        )
        for m in media:
            m.scheduled_id = item.id
        self._scheduled[item.id] = item
        if key:
            self._idempotency[(viewer, key)] = (item.id, self.idempotency_clock())
        return item

    def _edit_status(self, call: _Call, status: _Status) -> Response:
        data = call.data
        text, spoiler = self._checked_text(data)
        if "media_ids" in data:
            keep = [str(m) for m in data.get("media_ids") or []]
            fresh = {m: self._media.get(m) for m in keep if m not in status.media_ids}
            media = self._checked_media(
                call.viewer or "", {"media_ids": [m for m in keep if m in fresh]}
            )
            for old in status.media_ids:
                if old not in keep and old in self._media:
                    self._media[old].status_id = None
            for item in media:
                item.status_id = status.id
            status.media_ids = keep
        if "poll" in data:
            status.poll = self._checked_poll(data)
        if not text.strip() and not status.media_ids and status.poll is None:
            raise _validation("Text can't be blank", "text", "ERR_BLANK")
        rendered = self._render(text)
        status.text = text
        status.content = rendered.html
        status.mention_ids = rendered.mention_ids
        status.tags = rendered.tags
        status.spoiler_text = spoiler
        status.sensitive = _truthy(data.get("sensitive", status.sensitive)) or bool(spoiler)
        if isinstance(data.get("language"), str) and data["language"]:
            status.language = data["language"]
        status.edited_at = self.clock.now()
        self._stream_log.append(("status.update", status.id))
        return JSONResponse(self._status_json(status, call.viewer))

    def _context(self, call: _Call) -> Response:
        status = self._find_visible(call.path("id"), call.viewer)
        ancestors = []
        parent_id = status.in_reply_to_id
        while parent_id is not None:
            parent = self._statuses.get(parent_id)
            if parent is None or not self._visible(parent, call.viewer):
                break
            ancestors.append(parent)
            parent_id = parent.in_reply_to_id
        ancestors.reverse()
        children: dict[str, list[_Status]] = {}
        for other in sorted(self._statuses.values(), key=lambda s: int(s.id)):
            if other.in_reply_to_id is not None and self._visible(other, call.viewer):
                children.setdefault(other.in_reply_to_id, []).append(other)
        descendants: list[_Status] = []

        def walk(node_id: str) -> None:
            for child in children.get(node_id, []):
                descendants.append(child)
                walk(child.id)

        walk(status.id)
        return JSONResponse(
            {
                "ancestors": [self._status_json(s, call.viewer) for s in ancestors],
                "descendants": [self._status_json(s, call.viewer) for s in descendants],
            }
        )

    # -- handlers: media ----------------------------------------------------------------------

    def _upload(self, call: _Call) -> Response:
        assert call.viewer is not None
        upload = call.files.get("file")
        if upload is None:
            raise _validation("File can't be blank", "file", "ERR_BLANK")
        _, mime_type, content = upload
        mime_type = mime_type.split(";", 1)[0].strip().lower()
        if mime_type not in SUPPORTED_MIME_TYPES:
            raise _validation(
                "File content type is invalid, File is invalid", "file", "ERR_INVALID"
            )
        large = mime_type.startswith(("video/", "audio/"))
        limit = 99 * 1024 * 1024 if large else 16 * 1024 * 1024
        if len(content) > limit:
            raise _validation(
                f"File file size must be less than {limit // (1024 * 1024)} MB", "file"
            )
        description = call.data.get("description")
        if description is not None and len(str(description)) > 1500:
            raise _validation("Description is too long (maximum is 1500 characters)")
        major = mime_type.split("/", 1)[0]
        kind = "gifv" if mime_type == "image/gif" else {"image": "image"}.get(major, major)
        extension = mimetypes.guess_extension(mime_type) or ".bin"
        media_id = self._snowflake(self.clock.now())
        item = _Media(
            id=media_id,
            account_id=call.viewer,
            type=kind,
            mime_type=mime_type,
            filename=f"{media_id}{extension}",
            content=content,
            description=str(description) if description else None,
            pending_polls=self.media_processing_polls,
        )
        self._media[item.id] = item
        return JSONResponse(self._media_json(item), 202 if item.pending_polls > 0 else 200)

    def _media_item(self, call: _Call) -> Response:
        """GET: the processing state (206 while processing); PUT: a new description, until
        a status uses the attachment (then it is not found here, as on Mastodon)."""
        item = self._media.get(call.path("id"))
        if item is None or item.account_id != call.viewer or item.status_id is not None:
            raise _Fail(404, NOT_FOUND)
        if call.request.method == "PUT":
            description = call.data.get("description")
            if description is not None:
                if len(str(description)) > 1500:
                    raise _validation("Description is too long (maximum is 1500 characters)")
                item.description = str(description) or None
            return JSONResponse(self._media_json(item), 206 if item.pending_polls > 0 else 200)
        if item.pending_polls > 0:
            item.pending_polls -= 1
            return JSONResponse(self._media_json(item), 206)
        return JSONResponse(self._media_json(item))

    # -- handlers: scheduled statuses ---------------------------------------------------------

    def _list_scheduled(self, call: _Call) -> Response:
        items = sorted(
            (s for s in self._scheduled.values() if s.account_id == call.viewer),
            key=lambda s: int(s.id),
            reverse=True,
        )
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._scheduled_json(s) for s in page], headers=headers)

    def _scheduled_item(self, call: _Call) -> Response:
        item = self._scheduled.get(call.path("id"))
        if item is None or item.account_id != call.viewer:
            raise _Fail(404, NOT_FOUND)
        method = call.request.method
        if method == "DELETE":
            del self._scheduled[item.id]
            for media_id in item.media_ids:
                if media_id in self._media:
                    self._media[media_id].scheduled_id = None
            return JSONResponse({})
        if method == "PUT":
            when = _parse_time(call.data.get("scheduled_at"))
            if when is None or when - self.clock.now() < MIN_SCHEDULE_AHEAD:
                raise _validation(
                    "Scheduled at The scheduled date must be in the future", "scheduled_at"
                )
            item.scheduled_at = when
        return JSONResponse(self._scheduled_json(item))

    # -- handlers: notifications, conversations, search, tags ---------------------------------

    def _list_notifications(self, call: _Call) -> Response:
        types = set(call.query_list("types"))
        excluded = set(call.query_list("exclude_types"))
        from_account = call.query("account_id")
        items = [
            n
            for n in reversed(self._notifications)
            if n.account_id == call.viewer
            and (not types or n.type in types)
            and n.type not in excluded
            and (from_account is None or n.from_id == from_account)
            and (
                n.status_id is None
                or (n.status_id in self._statuses and not self._statuses[n.status_id].deleted)
            )
        ]
        page, headers = self._page(call, items, lambda n: n.id, default=40, maximum=80)
        assert call.viewer is not None
        viewer = call.viewer
        return JSONResponse([self._notification_json(n, viewer) for n in page], headers=headers)

    def _list_conversations(self, call: _Call) -> Response:
        viewer = call.viewer
        assert viewer is not None
        rows: list[tuple[_Conversation, _Status]] = []
        for conversation in self._conversations.values():
            if viewer not in conversation.participants:
                continue
            visible = [
                self._statuses[s]
                for s in conversation.status_ids
                if self._visible(self._statuses[s], viewer)
            ]
            if visible:
                rows.append((conversation, max(visible, key=lambda s: int(s.id))))
        rows.sort(key=lambda row: int(row[1].id), reverse=True)
        # Mastodon pages conversations by the id of their last status.
        page, headers = self._page(call, rows, lambda row: int(row[1].id), default=20, maximum=40)
        body = [
            {
                "id": conversation.id,
                "unread": viewer in conversation.unread,
                "accounts": [
                    self._account_json(self.users[p])
                    for p in sorted(conversation.participants)
                    if p != viewer
                ],
                "last_status": self._status_json(last, viewer),
            }
            for conversation, last in page
        ]
        return JSONResponse(body, headers=headers)

    def _search(self, call: _Call) -> Response:
        query = (call.query("q") or "").strip()
        if not query:
            raise _validation("Query can't be blank", "q", "ERR_BLANK")
        kind = call.query("type")
        raw_limit = _as_int(call.query("limit"))
        limit = min(max(raw_limit if raw_limit is not None else 20, 1), 40)
        offset = max(_as_int(call.query("offset")) or 0, 0)
        if offset and call.viewer is None:
            raise _Fail(401, "Search queries with offset require an authenticated user")
        needle = query.lower()
        statuses: list[dict[str, Any]] = []
        accounts: list[dict[str, Any]] = []
        hashtags: list[dict[str, Any]] = []
        # max_id / min_id bound the statuses found by id, as Mastodon's search does.
        max_id = _as_int(call.query("max_id"))
        min_id = _as_int(call.query("min_id"))
        if kind in (None, "statuses"):
            found = [
                s
                for s in self._newest_first()
                if (max_id is None or int(s.id) < max_id)
                and (min_id is None or int(s.id) > min_id)
                and s.reblog_of is None
                and self._visible(s, call.viewer)
                and (s.visibility in ("public", "unlisted") or s.account_id == call.viewer)
                and (needle in s.text.lower() or needle == self._status_url(s).lower())
            ]
            statuses = [self._status_json(s, call.viewer) for s in found[offset : offset + limit]]
        if kind in (None, "accounts"):
            name = needle.lstrip("@")
            users = [
                u for u in self.users.values() if name in u.handle.lower() or name in u.name.lower()
            ]
            accounts = [self._account_json(u) for u in users[offset : offset + limit]]
        if kind in (None, "hashtags"):
            name = needle.lstrip("#")
            tags = sorted({t for s in self._statuses.values() if not s.deleted for t in s.tags})
            matching = [t for t in tags if t.startswith(name)]
            hashtags = [self._tag_json(t) for t in matching[offset : offset + limit]]
        return JSONResponse({"accounts": accounts, "statuses": statuses, "hashtags": hashtags})

    def _status_url(self, status: _Status) -> str:
        user = self.users[status.account_id]
        return f"{self._profile_url(user)}/{status.id}"

    def _tag_json(self, tag: str) -> dict[str, Any]:
        # Tag schema: history is a week of days (UNIX midnight, uses, accounts) as strings.
        today = self.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        history = []
        for back in range(7):
            start = today - timedelta(days=back)
            end = start + timedelta(days=1)
            used = [
                s
                for s in self._statuses.values()
                if not s.deleted and tag in s.tags and start <= s.created_at < end
            ]
            history.append(
                {
                    "day": str(int(start.timestamp())),
                    "uses": str(len(used)),
                    "accounts": str(len({s.account_id for s in used})),
                }
            )
        return {
            "id": str(abs(hash(tag)) % 10**8),
            "name": tag,
            "url": f"{self.base_url}/tags/{tag}",
            "history": history,
        }

    def _tag_timeline(self, call: _Call) -> Response:
        tag = call.path("tag").lstrip("#").lower()
        local = _truthy(call.query("local") or False)
        remote = _truthy(call.query("remote") or False)
        items = [
            s
            for s in self._newest_first()
            if s.reblog_of is None
            and s.visibility == "public"
            and tag in s.tags
            and not (local and "@" in self.users[s.account_id].handle)
            and not (remote and "@" not in self.users[s.account_id].handle)
        ]
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._status_json(s, call.viewer) for s in page], headers=headers)

    def _not_found(self, call: _Call) -> Response:
        raise _Fail(404, NOT_FOUND)

    # -- handlers: login ----------------------------------------------------------------------

    def _register_app(self, call: _Call) -> Response:
        data = call.data
        name = str(data.get("client_name") or "").strip()
        if not name:
            raise _validation("Application name can't be blank", "name", "ERR_BLANK")
        uris = data.get("redirect_uris")
        if isinstance(uris, str):
            uris = uris.split()
        if not isinstance(uris, list) or not uris:
            raise _validation("Redirect URI can't be blank", "redirect_uri", "ERR_BLANK")
        scopes = data.get("scopes") or "read"
        scope_list = scopes.split() if isinstance(scopes, str) else [str(s) for s in scopes]
        website = data.get("website") or None
        app = _App(
            id=str(self.next_id()),
            name=name,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
            redirect_uris=[str(u) for u in uris],
            scopes=scope_list,
            website=str(website) if website else None,
        )
        self._apps[app.client_id] = app
        return JSONResponse(
            {
                "id": app.id,
                "name": app.name,
                "website": app.website,
                "scopes": app.scopes,
                "redirect_uri": "\n".join(app.redirect_uris),
                "redirect_uris": app.redirect_uris,
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
                "vapid_key": "",
            }
        )

    def _authorize(self, call: _Call) -> Response:
        """The owner approves at once: a redirect to ``redirect_uri`` with ``code`` and
        ``state``, as after clicking "Authorize" on Mastodon's page."""
        app = self._apps.get(call.query("client_id") or "")
        redirect_uri = call.query("redirect_uri") or ""
        if app is None:
            raise _Fail(
                401,
                "invalid_client",
                error_description="Client authentication failed due to unknown client.",
            )
        if redirect_uri not in app.redirect_uris:
            raise _Fail(
                400,
                "invalid_redirect_uri",
                error_description="The requested redirect uri is malformed or doesn't match "
                "client redirect URI.",
            )
        if call.query("response_type") != "code":
            raise _Fail(400, "unsupported_response_type")
        scopes = (call.query("scope") or "read").split()
        method = call.query("code_challenge_method")
        if method is not None and method != "S256":
            raise _Fail(400, "invalid_request", error_description="Unsupported PKCE method.")
        code = secrets.token_urlsafe(32)
        self._grants[code] = _Grant(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            challenge=call.query("code_challenge"),
            method=method,
            account_id=self.owner.id,
        )
        params = {"code": code}
        state = call.query("state")
        if state is not None:
            params["state"] = state
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", 302)

    def _token(self, call: _Call) -> Response:
        data = call.data
        invalid_grant = _Fail(
            400,
            "invalid_grant",
            error_description="The provided authorization grant is invalid, expired, revoked, "
            "does not match the redirection URI used in the authorization request, or was "
            "issued to another client.",
        )
        if data.get("grant_type") != "authorization_code":
            raise _Fail(
                400,
                "unsupported_grant_type",
                error_description="The authorization grant type is not supported by the "
                "authorization server.",
            )
        app = self._apps.get(str(data.get("client_id") or ""))
        if app is None or not secrets.compare_digest(
            app.client_secret, str(data.get("client_secret") or "")
        ):
            raise _Fail(
                401,
                "invalid_client",
                error_description="Client authentication failed due to unknown client, no "
                "client authentication included, or unsupported authentication method.",
            )
        grant = self._grants.pop(str(data.get("code") or ""), None)
        if (
            grant is None
            or grant.client_id != app.client_id
            or grant.redirect_uri != data.get("redirect_uri")
        ):
            raise invalid_grant
        if grant.challenge is not None:
            verifier = str(data.get("code_verifier") or "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if not secrets.compare_digest(expected, grant.challenge):
                raise invalid_grant
        token = secrets.token_urlsafe(32)
        self._tokens[token] = grant.account_id
        return JSONResponse(
            {
                "access_token": token,
                "token_type": "Bearer",
                "scope": " ".join(grant.scopes),
                "created_at": int(time.time()),
            }
        )

    # -- the public timeline and the streaming API -------------------------------------------

    def _public_timeline(self, call: _Call) -> Response:
        """``GET /api/v1/timelines/public``: public statuses (no boosts), newest first."""
        local = _truthy(call.query("local") or False)
        remote = _truthy(call.query("remote") or False)
        items = [
            s
            for s in self._newest_first()
            if self._on_public(s, local=local, remote=remote) and not s.deleted
        ]
        page, headers = self._page(call, items, lambda s: int(s.id), default=20, maximum=40)
        return JSONResponse([self._status_json(s, call.viewer) for s in page], headers=headers)

    def _on_public(self, status: _Status, *, local: bool = False, remote: bool = False) -> bool:
        remote_author = "@" in self.users[status.account_id].handle
        return (
            status.reblog_of is None
            and status.visibility == "public"
            and not (local and remote_author)
            and not (remote and not remote_author)
        )

    def drop_streams(self) -> None:
        """Close every open streaming connection (as a restarting server or a proxy would)."""
        with self._lock:
            self._stream_generation += 1

    def _stream_health(self, call: _Call) -> Response:
        return PlainTextResponse("OK")

    def _stream_endpoint(self, name: str) -> Handler:
        def handler(call: _Call) -> Response:
            return self._open_stream(name, call)

        return handler

    def _open_stream(self, name: str, call: _Call) -> Response:
        """One streaming connection (server-sent events, as Mastodon's streaming server sends
        them): ``event: <name>`` and ``data: <payload>`` per event, where the payload of
        ``update``, ``status.update`` and ``notification`` is the JSON of a Status or a
        Notification and that of ``delete`` the status id; ``:thump`` heartbeats while idle.
        Like Mastodon's, a stream only carries what happens after it opened."""
        viewer = call.viewer
        if name in ("user", "user/notification", "list", "direct") and viewer is None:
            raise _Fail(401, "Error: Missing access token")
        accepts: Callable[[str, str], bool]
        if name in ("hashtag", "hashtag/local"):
            tag = (call.query("tag") or "").lstrip("#").lower()
            if not tag:
                raise _Fail(400, "Error: Missing tag name parameter")
            local = name == "hashtag/local"

            def accepts(event: str, ref: str) -> bool:
                status = self._statuses.get(ref) if event != "notification" else None
                return (
                    status is not None
                    and self._on_public(status, local=local)
                    and tag in status.tags
                )
        elif name.startswith("public"):
            local, remote = name == "public/local", name == "public/remote"

            def accepts(event: str, ref: str) -> bool:
                status = self._statuses.get(ref) if event != "notification" else None
                return status is not None and self._on_public(status, local=local, remote=remote)
        elif name == "list":
            item = self._lists.get(call.query("list") or "")
            if item is None or item.account_id != viewer:
                raise _Fail(404, NOT_FOUND)
            members = item.members

            def accepts(event: str, ref: str) -> bool:
                status = self._statuses.get(ref) if event != "notification" else None
                return (
                    status is not None
                    and status.account_id in members
                    and status.visibility != "direct"
                )
        else:
            assert viewer is not None
            notifications_only = name == "user/notification"

            def accepts(event: str, ref: str) -> bool:
                if event == "notification":
                    found = [n for n in self._notifications if str(n.id) == ref]
                    return bool(found) and found[0].account_id == viewer
                if notifications_only:
                    return False
                status = self._statuses.get(ref)
                return status is not None and self._in_home(status, viewer)

        with self._lock:
            start = len(self._stream_log)
            generation = self._stream_generation
            self.stream_connections += 1
        return StreamingResponse(
            self._events(start, generation, accepts, viewer),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )

    def _in_home(self, status: _Status, viewer: str) -> bool:
        followed = {f for f, followers in self._follows.items() if viewer in followers}
        return (
            (status.account_id == viewer or status.account_id in followed)
            and (
                status.visibility in ("public", "unlisted", "private")
                or viewer in status.mention_ids
                or status.account_id == viewer
            )
            and not self._hidden_from(viewer, status.account_id)
        )

    def _render_event(self, event: str, ref: str, viewer: str | None) -> str | None:
        if event == "delete":
            return ref
        if event == "notification":
            found = [n for n in self._notifications if str(n.id) == ref]
            if not found or viewer is None:
                return None
            return json.dumps(self._notification_json(found[0], viewer))
        status = self._statuses.get(ref)
        if status is None:
            return None
        # Rendered when sent, but as the event was: a status deleted since still went out.
        return json.dumps(self._status_json(status, viewer))

    async def _events(
        self,
        position: int,
        generation: int,
        accepts: Callable[[str, str], bool],
        viewer: str | None,
    ) -> AsyncIterator[str]:
        import anyio

        yield ":)\n"
        idle_since = time.monotonic()
        while True:
            chunks: list[str] = []
            with self._lock:
                if self._stream_generation != generation:
                    return
                if not self.stream_paused:
                    while position < len(self._stream_log):
                        event, ref = self._stream_log[position]
                        position += 1
                        if not accepts(event, ref):
                            continue
                        payload = self._render_event(event, ref, viewer)
                        if payload is not None:
                            chunks.append(f"event: {event}\ndata: {payload}\n\n")
            if chunks:
                idle_since = time.monotonic()
                yield "".join(chunks)
            elif not self.stream_paused and time.monotonic() - idle_since >= self.stream_heartbeat:
                idle_since = time.monotonic()
                yield ":thump\n"
            await anyio.sleep(0.01)

    # -- inspection (for tests) -----------------------------------------------------------------

    def statuses_of(self, user: FakeUser) -> list[str]:
        """Ids of the live statuses (not reblogs) of ``user``, newest first."""
        with self._lock:
            return [
                s.id
                for s in self._newest_first()
                if s.account_id == user.id and s.reblog_of is None
            ]

    def notifications_of(self, user: FakeUser, types: Iterable[str] | None = None) -> list[str]:
        """``type:status_id`` of ``user``'s notifications, newest first."""
        wanted = set(types) if types is not None else None
        with self._lock:
            return [
                f"{n.type}:{n.status_id or ''}"
                for n in reversed(self._notifications)
                if n.account_id == user.id and (wanted is None or n.type in wanted)
            ]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return ""
    return value.strip()


def _bucket(method: str, path: str) -> str:
    """Mastodon's separate limits: media uploads and status deletions (30 per 30 minutes)."""
    path = path.rstrip("/")
    if method == "POST" and path in ("/api/v1/media", "/api/v2/media"):
        return "media"
    if method == "DELETE" and path.startswith("/api/v1/statuses/"):
        return "delete"
    return "default"
