"""``FakeX``: a stateful, in-process X (API v2) for tests and the demo.

It serves the endpoints :class:`socialkit.adapters.x.XAdapter` calls, with the request and
response shapes of the official description (``openapi.json`` of xdevplatform/xdk, X API v2),
so that the real adapter runs against it unchanged::

    from socialkit import Post
    from socialkit.testing.fakes import FakeX

    fake = FakeX()
    async with fake.connect() as x:             # the real XAdapter, OAuth 2.0 user context
        posted = await x.publish(Post(text="hello"))
    fan = fake.add_user("fan")
    fake.like(posted.id, fan)                   # public_metrics.like_count moves
    fake.view(posted.id, 250)                   # impression_count moves
    fake.mention(fan, "@owner nice!")           # arrives in GET /2/users/{id}/mentions
    fake.direct(fan, "hi")                      # arrives in GET /2/dm_events

What it imitates (see ``docs/fakes/x.md``): users (``/2/users/me``, ``/{id}``,
``/by/username/{username}``), posts (create with media, reply, quote, poll, edit; delete; lookup
by id and by ids with ``public_metrics``, and ``non_public_metrics`` / ``organic_metrics`` for the
author's posts of the last 30 days), timelines and mentions (``pagination_token`` /
``meta.next_token``), recent search (the last 7 days; see ``_x_search``), direct messages
(``/2/dm_events``, sends by participant and by conversation), the media upload v2 flow
(initialize, append, finalize, status with ``processing_info`` pending -> in_progress ->
succeeded, metadata), the OAuth 2.0 refresh grant at ``/2/oauth2/token``, rate limits per
endpoint (``x-rate-limit-limit`` / ``-remaining`` / ``-reset`` in epoch seconds) with X's 429
problem document, and X's error shapes (problem documents, and ``errors`` arrays in 200
lookups). Ids are snowflakes that carry the content time of :attr:`clock`.

The filtered stream (``GET /2/tweets/search/stream``, app-only, one connection per app, each
matching post as one JSON line with ``matching_rules``, ``\r\n`` keep-alives every
``stream_keepalive`` seconds, ``backfill_minutes`` replaying up to five minutes) and its rules
(``GET`` / ``POST /2/tweets/search/stream/rules``, ``add``, ``delete``, ``dry_run``,
``delete_all``; rule values in the search query language) are served too; ``drop_streams()``
closes open streams and ``stream_paused`` makes them silent. Streams need the fake served on
a port (:meth:`FakeNetwork.serve`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import html
import itertools
import json
import math
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from socialkit._store import MemoryStore
from socialkit.testing.fakes._base import (
    UNLIMITED,
    CreatedPost,
    FakeClock,
    FakeNetwork,
    FakeUser,
    RateLimiter,
    request_fields,
)
from socialkit.testing.fakes._oauth import CodeGrants
from socialkit.testing.fakes._x_search import Candidate, QueryError, parse_query
from socialkit.text import count_x, extract_urls

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter

__all__ = ["DEFAULT_RATE_LIMITS", "FakeX"]

UTC = timezone.utc
_X_EPOCH_MS = 1288834974657
_PROBLEMS = "https://api.x.com/2/problems/"
_MiB = 1024 * 1024

#: Requests per 15-minute window and user, per endpoint (the per-user column of X's rate-limit
#: table, docs.x.com/x-api/fundamentals/rate-limits). Override with ``rate_limit`` /
#: ``rate_limits``. Buckets are named like the adapter's: method and path template.
DEFAULT_RATE_LIMITS: Mapping[str, int] = {
    "GET /2/users/me": 75,
    "GET /2/users/{id}": 900,
    "GET /2/users/by/username/{username}": 900,
    "GET /2/tweets": 900,
    "GET /2/tweets/{id}": 900,
    "POST /2/tweets": 100,
    "DELETE /2/tweets/{id}": 50,
    "GET /2/users/{id}/tweets": 900,
    "GET /2/users/{id}/mentions": 300,
    "GET /2/tweets/search/recent": 300,
    "GET /2/tweets/search/stream": 50,
    "GET /2/tweets/search/stream/rules": 450,
    "POST /2/tweets/search/stream/rules": 100,
    "GET /2/dm_events": 300,
    "POST /2/dm_conversations/with/{participant_id}/messages": 200,
    "POST /2/dm_conversations/{dm_conversation_id}/messages": 200,
    "POST /2/media/upload/initialize": 180,
    "POST /2/media/upload/{id}/append": 1875,
    "POST /2/media/upload/{id}/finalize": 180,
    "GET /2/media/upload": 900,
    "POST /2/media/metadata": 500,
    "POST /2/users/{id}/likes": 50,
    "DELETE /2/users/{id}/likes/{tweet_id}": 50,
    "POST /2/users/{id}/retweets": 50,
    "DELETE /2/users/{id}/retweets/{source_tweet_id}": 50,
    "POST /2/users/{id}/bookmarks": 50,
    "DELETE /2/users/{id}/bookmarks/{tweet_id}": 50,
    "POST /2/users/{id}/following": 50,
    "DELETE /2/users/{source_user_id}/following/{target_user_id}": 50,
    "GET /2/users/{id}/followers": 15,
    "GET /2/users/{id}/following": 15,
    "POST /2/users/{id}/muting": 50,
    "DELETE /2/users/{source_user_id}/muting/{target_user_id}": 50,
    "PUT /2/tweets/{tweet_id}/hidden": 50,
    "GET /2/users/{id}/timelines/reverse_chronological": 180,
    "GET /2/users/{id}/owned_lists": 15,
    "GET /2/users/{id}/followed_lists": 15,
    "GET /2/lists/{id}/tweets": 900,
}

_SCOPES = "tweet.read tweet.write users.read media.write dm.read dm.write offline.access"

# Field and expansion names: the enums of the description's parameters, plus the names X's
# servers have long accepted for the same things (``referenced_tweets.id`` …).
_POST_FIELDS = frozenset(
    {
        "article", "article_title", "attachments", "card_uri", "community_id",
        "context_annotations", "conversation_id", "created_at", "display_text_range",
        "edit_controls", "entities", "geo", "id", "lang", "matched_media_notes",
        "media_metadata", "non_public_metrics", "note_post", "note_request_suggestions",
        "organic_metrics", "paid_partnership", "possibly_sensitive", "promoted_metrics",
        "public_metrics", "reply_settings", "scopes", "source", "suggested_source_links",
        "suggested_source_links_with_counts", "text", "withheld",
        "author_id", "in_reply_to_user_id", "referenced_tweets", "referenced_posts",
        "edit_history_tweet_ids", "edit_history_post_ids",
    }
)  # fmt: skip
_POST_EXPANSIONS = frozenset(
    {
        "article.cover_media", "article.media_entities", "attachments.media_keys",
        "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
        "edit_history_post_ids", "entities.mentions.username", "geo.place_id",
        "in_reply_to_user_id", "referenced_posts", "username",
        "referenced_tweets.id", "referenced_posts.id", "edit_history_tweet_ids",
    }
)  # fmt: skip
_USER_FIELDS = frozenset(
    {
        "confirmed_email", "connection_status", "created_at", "description", "entities", "id",
        "is_identity_verified", "location", "name", "parody", "profile_banner_url",
        "profile_image_url", "protected", "public_metrics", "receives_your_dm",
        "subscribes_to_you", "subscription", "subscription_type", "url", "username", "verified",
        "verified_followers_count", "verified_type", "withheld", "pinned_tweet_id",
        "most_recent_tweet_id",
    }
)  # fmt: skip
_USER_EXPANSIONS = frozenset(
    {"affiliation", "most_recent_post_id", "pinned_post_id", "pinned_tweet_id"}
)
_MEDIA_FIELDS = frozenset(
    {
        "alt_text", "duration_ms", "height", "media_key", "non_public_metrics",
        "organic_metrics", "preview_image_url", "promoted_metrics", "public_metrics", "type",
        "url", "variants", "width",
    }
)  # fmt: skip
_POLL_FIELDS = frozenset({"duration_minutes", "end_datetime", "id", "options", "voting_status"})
_LIST_FIELDS = frozenset(
    {"created_at", "description", "follower_count", "id", "member_count", "name", "private"}
)
_USER_PARAMS_BASE = ("user.fields", "expansions", "post.fields", "tweet.fields")
_PLACE_FIELDS = frozenset(
    {"contained_within", "country", "country_code", "full_name", "geo", "id", "name", "place_type"}
)
_DM_FIELDS = frozenset(
    {"attachments", "created_at", "dm_conversation_id", "entities", "event_type", "id", "text"}
    | {"sender_id", "participant_ids", "referenced_tweets", "referenced_posts"}
)
_DM_EXPANSIONS = frozenset(
    {"attachments.media_keys", "participant_ids", "referenced_posts", "sender_id"}
    | {"referenced_tweets.id"}
)
_PRIVATE_POST_FIELDS = ("non_public_metrics", "organic_metrics")
_PRIVATE_WINDOW = timedelta(days=30)
_SEARCH_WINDOW = timedelta(days=7)
_EDIT_WINDOW = timedelta(minutes=60)
_MAX_EDITS = 5

_MEDIA_TYPES: Mapping[str, str] = {
    "image/jpeg": "photo",
    "image/pjpeg": "photo",
    "image/png": "photo",
    "image/webp": "photo",
    "image/bmp": "photo",
    "image/tiff": "photo",
    "image/gif": "animated_gif",
    "video/mp4": "video",
    "video/webm": "video",
    "video/mp2t": "video",
    "video/quicktime": "video",
}
_MEDIA_KEY_PREFIX = {"photo": "3", "video": "7", "animated_gif": "16"}
_CATEGORY_KIND = {
    "tweet_image": "photo",
    "dm_image": "photo",
    "tweet_gif": "animated_gif",
    "dm_gif": "animated_gif",
    "tweet_video": "video",
    "dm_video": "video",
    "amplify_video": "video",
}
_MAX_BYTES = {"photo": 5 * _MiB, "animated_gif": 15 * _MiB, "video": 512 * _MiB}
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
}
_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_USERNAME = re.compile(r"^\w{1,15}$")
_ID = re.compile(r"^[0-9]{1,19}$")


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Post:
    id: str
    author_id: str
    text: str
    created_at: datetime
    conversation_id: str
    reply_to: str | None = None
    reply_to_user: str | None = None
    quote_of: str | None = None
    repost_of: str | None = None
    media_keys: list[str] = field(default_factory=list)
    poll_id: str | None = None
    edit_history: list[str] = field(default_factory=list)
    superseded_by: str | None = None
    likes: set[str] = field(default_factory=set)
    reposts: set[str] = field(default_factory=set)
    bookmarks: set[str] = field(default_factory=set)
    replies: int = 0
    quotes: int = 0
    impressions: int = 0
    link_clicks: int = 0
    profile_clicks: int = 0


@dataclass(eq=False)
class _Media:
    id: str
    key: str
    owner_id: str
    category: str
    mime_type: str
    total_bytes: int
    created_at: datetime
    chunks: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False
    state: str | None = None  # None: ready without processing (images)
    polls: int = 0  # status polls answered since finalize
    fail: bool = False
    alt_text: str | None = None
    views: int = 0
    states: list[str] = field(default_factory=list)  # every state reported, in order
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None

    @property
    def kind(self) -> str:
        return _MEDIA_TYPES[self.mime_type]

    @property
    def ready(self) -> bool:
        return self.finalized and self.state in (None, "succeeded")

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks.values())


@dataclass
class _List:
    id: str
    owner_id: str
    name: str
    description: str
    private: bool
    created_at: datetime
    members: list[str] = field(default_factory=list)
    followers: list[str] = field(default_factory=list)


@dataclass
class _Poll:
    id: str
    options: list[str]
    duration_minutes: int
    created_at: datetime
    votes: list[int] = field(default_factory=list)


@dataclass
class _Dm:
    id: str
    conversation_id: str
    sender_id: str
    text: str
    created_at: datetime
    media_keys: list[str] = field(default_factory=list)


@dataclass
class _Grant:
    user_id: str | None  # None: app-only bearer token
    expires_at: float  # real time (epoch seconds)


@dataclass(frozen=True)
class _Viewer:
    user_id: str | None

    @property
    def key(self) -> str:
        return self.user_id or "app"


class _Problem(Exception):
    """An error answer: a problem document (RFC 7807) as X sends it."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.body: dict[str, Any] = {
            "title": title,
            "detail": detail,
            "type": kind if kind == "about:blank" else _PROBLEMS + kind,
            "status": status,
            **extra,
        }


def _invalid(detail: str, parameter: str | None = None, value: str | None = None) -> _Problem:
    """400 ``invalid-request`` with X's ``errors`` list of what was wrong."""
    entry: dict[str, Any] = {"message": detail}
    if parameter is not None:
        entry["parameters"] = {parameter: [value if value is not None else ""]}
    return _Problem(
        400,
        "invalid-request",
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        errors=[entry],
    )


def _not_found_entry(kind: str, value: str, parameter: str) -> dict[str, Any]:
    """A ``resource-not-found`` entry of a 200's ``errors`` (ResourceNotFoundProblem)."""
    noun = "tweet" if kind == "tweet" else kind
    return {
        "value": value,
        "detail": f"Could not find {noun} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": kind,
        "parameter": parameter,
        "resource_id": value,
        "type": _PROBLEMS + "resource-not-found",
    }


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_time(value: str, name: str) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(
            f"The `{name}` query parameter value [{value}] is not a valid RFC 3339 time",
            name,
            value,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_TOKEN_LENGTH = 20


def _encode_token(object_id: str) -> str:
    """An opaque pagination token: the last id returned, in base 36, padded."""
    value = int(object_id)
    digits = ""
    while value:
        value, rest = divmod(value, 36)
        digits = _BASE36[rest] + digits
    return digits.rjust(_TOKEN_LENGTH, "0")


def _decode_token(token: str, name: str) -> int:
    if len(token) != _TOKEN_LENGTH or any(c not in _BASE36 for c in token):
        raise _invalid(f"The `{name}` query parameter value [{token}] is not valid", name, token)
    return int(token, 36)


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fields:
    post: frozenset[str] = frozenset()
    expansions: frozenset[str] = frozenset()
    user: frozenset[str] = frozenset()
    media: frozenset[str] = frozenset()
    poll: frozenset[str] = frozenset()
    dm: frozenset[str] = frozenset()


Handler = Callable[[Request, _Viewer], Awaitable[tuple[int, dict[str, Any]]]]


class FakeX(FakeNetwork):
    """A fake X (API v2). See the module docstring and ``docs/fakes/x.md``.

    Arguments beyond :class:`FakeNetwork`'s:

    - ``rate_limit``: requests per window for every endpoint (default: X's per-endpoint
      limits, :data:`DEFAULT_RATE_LIMITS`); ``rate_limits`` overrides single buckets
      (``{"GET /2/users/me": 2}``); ``rate_window``: the window in seconds (X: 900).
    - ``check_after_secs``: the ``processing_info.check_after_secs`` of videos and GIFs;
      ``processing_polls``: status polls until processing succeeds (the first ones answer
      ``in_progress``).
    - ``token_lifetime``: seconds an access token lives (X: two hours).
    """

    name: ClassVar[str] = "x"
    default_base_url: ClassVar[str] = "https://api.x.fake"
    client_id: ClassVar[str] = "fake-x-client-id"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        rate_limit: int | None = None,
        rate_limits: Mapping[str, int] | None = None,
        rate_window: float = 900.0,
        check_after_secs: int = 1,
        processing_polls: int = 2,
        token_lifetime: float = 7200.0,
    ) -> None:
        if processing_polls < 1:
            raise ValueError("processing_polls must be at least 1")
        if check_after_secs < 0:
            raise ValueError("check_after_secs must not be negative")
        unknown = set(rate_limits or {}) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ValueError(
                f"unknown rate-limit buckets {sorted(unknown)}; known: "
                f"{', '.join(DEFAULT_RATE_LIMITS)}"
            )
        # Set before FakeNetwork.__init__, which creates the owner (new_user_id needs them).
        self._last_snowflake = 0
        self.posts: dict[str, _Post] = {}
        self.media: dict[str, _Media] = {}
        self.polls: dict[str, _Poll] = {}
        self.dms: dict[str, _Dm] = {}
        self.lists: dict[str, _List] = {}
        #: follower id -> the ids it follows, in the order followed (newest last).
        self.follows: dict[str, list[str]] = {}
        #: user id -> the ids it mutes.
        self.mutes: dict[str, set[str]] = {}
        #: ids of replies hidden by the author of the conversation they answer.
        self.hidden: set[str] = set()
        self._followed_at: dict[tuple[str, str], int] = {}
        self.check_after_secs = check_after_secs
        self.processing_polls = processing_polls
        self.token_lifetime = token_lifetime
        self._rate_limit = rate_limit
        self._rate_limits = dict(rate_limits or {})
        self._rate_window = rate_window
        self._limiters: dict[str, RateLimiter] = {}
        self._grants: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        #: Logins (OAuth 2.0 authorization code with PKCE S256): the owner approves at once.
        self.codes = CodeGrants(self.client_id)
        self._current: dict[str, tuple[str, str]] = {}  # user id -> (access, refresh)
        self._fail_next_media = False
        self._transactions = itertools.count(1)
        self._app: Starlette | None = None
        #: Every token-endpoint refresh that succeeded (for tests).
        self.refreshes = 0
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.app_bearer_token = "fake-x-app-" + secrets.token_hex(16)
        self._grants[self.app_bearer_token] = _Grant(None, math.inf)
        #: The filtered stream's rules: id -> (value, tag).
        self.stream_rules: dict[str, tuple[str, str | None]] = {}
        #: Every post created, in order, with the wall time it was created (for backfill).
        self._stream_log: list[tuple[str, float]] = []
        self._stream_generation = 0
        self._stream_open = 0
        #: Seconds between the keep-alive newlines of an idle stream (X: 20).
        self.stream_keepalive = 20.0
        #: While true, open streams send nothing, keep-alives included (a stalled connection).
        self.stream_paused = False
        #: Connections to the filtered stream opened so far, and the backfill each asked for.
        self.stream_connections: list[int] = []
        #: Connections one app may hold at once (X: 1 on most plans).
        self.max_stream_connections = 1

    # -- identity and credentials -----------------------------------------------------------

    def _snowflake(self, moment: datetime | None = None) -> str:
        """A new X id carrying ``moment`` (default: the clock), strictly increasing."""
        when = moment or self.clock.now()
        offset = int(when.timestamp() * 1000) - _X_EPOCH_MS
        if offset < 0:
            raise ValueError("FakeX's clock must be after 2010-11-04 (the epoch of X ids)")
        value = offset << 22
        with self._lock:
            value = max(value, self._last_snowflake + 1)
            self._last_snowflake = value
        return str(value)

    def new_user_id(self, handle: str) -> str:
        return self._snowflake()

    def full_handle(self, handle: str) -> str:
        if not _USERNAME.match(handle):
            raise ValueError(f"{handle!r} is not an X username (1-15 letters, digits or _)")
        return handle

    def user(self, handle_or_id: str) -> FakeUser:
        wanted = handle_or_id.removeprefix("@").lower()
        for user in self.users.values():
            if wanted in (user.id, user.handle.lower()):
                return user
        raise KeyError(handle_or_id)

    def tokens(self, user: FakeUser | None = None) -> tuple[str, str]:
        """The current (access token, refresh token) of ``user`` (default: the owner)."""
        who = user or self.owner
        with self._lock:
            if who.id not in self._current:
                self._issue(who.id)
            return self._current[who.id]

    def _issue(self, user_id: str) -> tuple[str, str]:
        access = "fake-x-at-" + secrets.token_urlsafe(24)
        refresh = "fake-x-rt-" + secrets.token_urlsafe(24)
        self._grants[access] = _Grant(user_id, time.time() + self.token_lifetime)
        self._refresh_tokens[refresh] = user_id
        self._current[user_id] = (access, refresh)
        return access, refresh

    def expire_tokens(self, user: FakeUser | None = None) -> None:
        """End the life of ``user``'s access tokens now (the next call answers 401 and the
        adapter refreshes with its refresh token)."""
        who = (user or self.owner).id
        with self._lock:
            for grant in self._grants.values():
                if grant.user_id == who:
                    grant.expires_at = 0.0

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"rate_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /2/tweets`` (``data.id``)."""
        if method != "POST" or path != "/2/tweets" or not isinstance(answer, dict):
            return None
        data = answer.get("data") or {}
        if "id" not in data:
            return None
        return str(data["id"]), request_fields(request_body).get("text"), "post"

    def settings(self, user: FakeUser | None = None) -> dict[str, Any]:
        """OAuth 2.0 user-context settings of ``user`` (default: the owner): ``client_id``,
        ``access_token`` and ``refresh_token`` (refreshed through ``/2/oauth2/token`` on a 401),
        a fresh :class:`MemoryStore` for the token (never the user's token file)."""
        access, refresh = self.tokens(user)
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "access_token": access,
            "refresh_token": refresh,
            "store": MemoryStore(),
        }

    def connect_as(self, user: FakeUser, **overrides: Any) -> Adapter:
        """The real adapter, connected as ``user`` (a competitor, a fan)."""
        from socialkit._registry import connect

        return connect(self.name, http=self.client(), **{**self.settings(user), **overrides})

    # -- simulation -------------------------------------------------------------------------

    def _new_post(self, author: FakeUser | str, text: str, **kwargs: Any) -> _Post:
        author_id = author.id if isinstance(author, FakeUser) else author
        with self._lock:
            post_id = self._snowflake()
            parent = self.posts.get(kwargs.get("reply_to") or "")
            conversation = parent.conversation_id if parent is not None else post_id
            post = _Post(
                id=post_id,
                author_id=author_id,
                text=text,
                created_at=self.clock.now(),
                conversation_id=conversation,
                **kwargs,
            )
            if not post.edit_history:
                post.edit_history = [post_id]
            if parent is not None:
                post.reply_to_user = parent.author_id
                parent.replies += 1
            if post.quote_of is not None:
                self._post(post.quote_of).quotes += 1
            self.posts[post_id] = post
            self._stream_log.append((post_id, time.time()))
            return post

    def _post(self, post_id: str) -> _Post:
        post = self.posts.get(str(post_id))
        if post is None:
            raise KeyError(f"no post {post_id} on this fake")
        return post

    def publish_as(self, user: FakeUser, text: str) -> str:
        return self._new_post(user, text).id

    def like(self, post_id: str, user: FakeUser) -> None:
        with self._lock:
            self._post(post_id).likes.add(user.id)

    def unlike(self, post_id: str, user: FakeUser) -> None:
        with self._lock:
            self._post(post_id).likes.discard(user.id)

    def bookmark(self, post_id: str, user: FakeUser) -> None:
        with self._lock:
            self._post(post_id).bookmarks.add(user.id)

    def repost(self, post_id: str, user: FakeUser) -> None:
        """``user`` reposts: a retweet post appears in their timeline (``RT @author: …``)."""
        with self._lock:
            original = self._post(post_id)
            if user.id in original.reposts:
                return
            original.reposts.add(user.id)
            author = self.users[original.author_id]
            self._new_post(user, f"RT @{author.handle}: {original.text}", repost_of=post_id)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` replies; like X's apps, the text starts with ``@author`` of the post."""
        with self._lock:
            parent = self._post(post_id)
            handle = self.users[parent.author_id].handle
            if not re.match(rf"@{re.escape(handle)}\b", text, re.IGNORECASE):
                text = f"@{handle} {text}"
            return self._new_post(user, text, reply_to=post_id).id

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` quotes a post (it shows in the quoted author's mentions, as on X)."""
        with self._lock:
            self._post(post_id)
            return self._new_post(user, text, quote_of=post_id).id

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` posts ``text``, with ``@owner`` put in front unless it names the owner."""
        if not re.search(rf"@{re.escape(self.owner.handle)}\b", text, re.IGNORECASE):
            text = f"@{self.owner.handle} {text}"
        return self._new_post(user, text).id

    def direct(self, user: FakeUser, text: str, *, to: FakeUser | None = None) -> str:
        """``user`` sends a direct message (to the owner, or ``to``); returns its event id."""
        recipient = to or self.owner
        with self._lock:
            event = _Dm(
                id=self._snowflake(),
                conversation_id=self._conversation(user.id, recipient.id),
                sender_id=user.id,
                text=text,
                created_at=self.clock.now(),
            )
            self.dms[event.id] = event
            return event.id

    def view(self, post_id: str, count: int) -> None:
        """``count`` more impressions (and video views, for a post with a video or GIF)."""
        if count < 0:
            raise ValueError("count must not be negative")
        with self._lock:
            post = self._post(post_id)
            post.impressions += count
            for key in post.media_keys:
                media = self._media_by_key(key)
                if media is not None and media.kind != "photo":
                    media.views += count

    def click(self, post_id: str, count: int = 1, *, kind: str = "link") -> None:
        """``count`` clicks on the post's link (``kind="link"``) or its author (``"profile"``)."""
        if kind not in ("link", "profile"):
            raise ValueError("kind is 'link' or 'profile'")
        with self._lock:
            post = self._post(post_id)
            if kind == "link":
                post.link_clicks += count
            else:
                post.profile_clicks += count

    def follow(self, follower: FakeUser, followee: FakeUser | None = None) -> None:
        """``follower`` follows ``followee`` (default: the owner); following twice changes
        nothing. Counts move and ``GET /2/users/{id}/followers`` lists it, newest first."""
        whom = followee or self.owner
        with self._lock:
            self._follow(follower.id, whom.id)

    def unfollow(self, follower: FakeUser, followee: FakeUser | None = None) -> None:
        """``follower`` stops following ``followee`` (default: the owner)."""
        whom = followee or self.owner
        with self._lock:
            self._unfollow(follower.id, whom.id)

    def _follow(self, follower: str, followee: str) -> bool:
        followed = self.follows.setdefault(follower, [])
        if followee in followed:
            return False
        followed.append(followee)
        self._followed_at[(follower, followee)] = self.next_id()
        self.users[followee].followers += 1
        self.users[follower].following += 1
        return True

    def _unfollow(self, follower: str, followee: str) -> None:
        followed = self.follows.get(follower, [])
        if followee in followed:
            followed.remove(followee)
            self.users[followee].followers -= 1
            self.users[follower].following -= 1

    def has(self, relation: str, subject: str, target: str) -> bool:
        """Whether user ``subject`` likes / reposts / bookmarks post ``target``, follows /
        mutes user ``target``, or (``hide``) hid reply ``target``. X API v2 has no blocks
        to make: ``block`` is always false."""
        if relation not in self.RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; known: {sorted(self.RELATIONS)}")
        with self._lock:
            if relation in ("like", "repost", "bookmark"):
                post = self.posts.get(target)
                if post is None:
                    return False
                return subject in {"like": post.likes, "repost": post.reposts}.get(
                    relation, post.bookmarks
                )
            if relation == "follow":
                return target in self.follows.get(subject, [])
            if relation == "mute":
                return target in self.mutes.get(subject, set())
            if relation == "hide":
                reply = self.posts.get(target)
                root = self.posts.get(reply.conversation_id) if reply is not None else None
                return target in self.hidden and root is not None and root.author_id == subject
            return False

    def unrepost(self, post_id: str, user: FakeUser) -> None:
        """``user`` takes a repost back (its retweet post goes)."""
        with self._lock:
            self._unrepost(post_id, user.id)

    def _unrepost(self, post_id: str, user_id: str) -> None:
        original = self._post(post_id)
        original.reposts.discard(user_id)
        for post in list(self.posts.values()):
            if post.repost_of == post_id and post.author_id == user_id:
                self._remove(post.id)

    def create_list(
        self,
        owner: FakeUser,
        name: str,
        *,
        members: Iterable[FakeUser] = (),
        description: str = "",
        private: bool = False,
    ) -> str:
        """``owner`` makes a list of ``members``; returns its id. Its posts are served at
        ``GET /2/lists/{id}/tweets``, and it shows in ``GET /2/users/{id}/owned_lists``."""
        with self._lock:
            list_id = self._snowflake()
            self.lists[list_id] = _List(
                id=list_id,
                owner_id=owner.id,
                name=name,
                description=description,
                private=private,
                created_at=self.clock.now(),
                members=[m.id for m in members],
            )
            return list_id

    def follow_list(self, user: FakeUser, list_id: str) -> None:
        """``user`` follows a list (``GET /2/users/{id}/followed_lists``)."""
        with self._lock:
            followers = self.lists[list_id].followers
            if user.id not in followers:
                followers.append(user.id)

    def vote(self, post_id: str, option: int, count: int = 1) -> None:
        """``count`` votes for option ``option`` (0-based) of the post's poll."""
        with self._lock:
            poll = self.polls[self._post(post_id).poll_id or ""]
            poll.votes[option] += count

    def fail_next_media(self) -> None:
        """The next video or GIF finalized ends its processing in state ``failed``."""
        self._fail_next_media = True

    def media_states(self, media_id: str) -> list[str]:
        """Every ``processing_info.state`` reported for an upload, in order."""
        return list(self.media[media_id].states)

    # -- helpers over the state ---------------------------------------------------------------

    @staticmethod
    def _conversation(a: str, b: str) -> str:
        low, high = sorted((a, b), key=int)
        return f"{low}-{high}"

    def _media_by_key(self, key: str) -> _Media | None:
        for media in self.media.values():
            if media.key == key:
                return media
        return None

    def _visible(self, post: _Post) -> bool:
        return post.superseded_by is None

    def _newest_first(self, posts: Iterable[_Post]) -> list[_Post]:
        return sorted(posts, key=lambda p: int(p.id), reverse=True)

    def _mentions_of(self, user_id: str) -> list[_Post]:
        user = self.users[user_id]
        pattern = re.compile(rf"(?<![\w@])@{re.escape(user.handle)}\b", re.IGNORECASE)
        found = []
        for post in self.posts.values():
            if post.author_id == user_id or post.repost_of is not None or not self._visible(post):
                continue
            quoted = self.posts.get(post.quote_of or "")
            if (
                pattern.search(post.text)
                or post.reply_to_user == user_id
                or (quoted is not None and quoted.author_id == user_id)
            ):
                found.append(post)
        return self._newest_first(found)

    def _candidate(self, post: _Post) -> Candidate:
        author = self.users[post.author_id]
        reply_user = self.users.get(post.reply_to_user or "")
        reposted = self.posts.get(post.repost_of or "")
        reposted_user = self.users.get(reposted.author_id) if reposted else None
        kinds = frozenset(
            m.kind for m in (self._media_by_key(k) for k in post.media_keys) if m is not None
        )
        return Candidate(
            id=post.id,
            text=post.text,
            author=author.handle.lower(),
            conversation_id=post.conversation_id,
            reply_to=post.reply_to,
            reply_to_user=reply_user.handle.lower() if reply_user else None,
            quote_of=post.quote_of,
            repost_of=post.repost_of,
            repost_of_user=reposted_user.handle.lower() if reposted_user else None,
            lang=_lang(post.text),
            media_kinds=kinds,
        )

    # -- the ASGI app -----------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            routes = [
                Route("/2/oauth2/token", self._token_endpoint, methods=["POST"]),
                Route(
                    "/i/oauth2/authorize",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                    methods=["GET"],
                ),
                self._route("GET", "/2/users/me", self._users_me, user_context=True),
                self._route("GET", "/2/users/by/username/{username}", self._user_by_username),
                self._route("GET", "/2/users/{id}/tweets", self._user_posts),
                self._route("GET", "/2/users/{id}/mentions", self._user_mentions),
                self._route("GET", "/2/users/{id}", self._user_by_id),
                self._route("POST", "/2/users/{id}/likes", self._like, user_context=True),
                self._route(
                    "DELETE", "/2/users/{id}/likes/{tweet_id}", self._unlike, user_context=True
                ),
                self._route("POST", "/2/users/{id}/retweets", self._repost, user_context=True),
                self._route(
                    "DELETE",
                    "/2/users/{id}/retweets/{source_tweet_id}",
                    self._unrepost_endpoint,
                    user_context=True,
                ),
                self._route("POST", "/2/users/{id}/bookmarks", self._bookmark, user_context=True),
                self._route(
                    "DELETE",
                    "/2/users/{id}/bookmarks/{tweet_id}",
                    self._unbookmark,
                    user_context=True,
                ),
                self._route("GET", "/2/users/{id}/followers", self._followers),
                self._route("GET", "/2/users/{id}/following", self._following),
                self._route(
                    "POST", "/2/users/{id}/following", self._follow_user, user_context=True
                ),
                self._route(
                    "DELETE",
                    "/2/users/{source_user_id}/following/{target_user_id}",
                    self._unfollow_user,
                    user_context=True,
                ),
                self._route("POST", "/2/users/{id}/muting", self._mute, user_context=True),
                self._route(
                    "DELETE",
                    "/2/users/{source_user_id}/muting/{target_user_id}",
                    self._unmute,
                    user_context=True,
                ),
                self._route(
                    "PUT", "/2/tweets/{tweet_id}/hidden", self._hide_reply, user_context=True
                ),
                self._route(
                    "GET",
                    "/2/users/{id}/timelines/reverse_chronological",
                    self._home_timeline,
                    user_context=True,
                ),
                self._route("GET", "/2/users/{id}/owned_lists", self._owned_lists),
                self._route("GET", "/2/users/{id}/followed_lists", self._followed_lists),
                self._route("GET", "/2/lists/{id}/tweets", self._list_posts),
                self._route("GET", "/2/tweets/search/recent", self._search_recent),
                self._route("GET", "/2/tweets/search/stream/rules", self._get_rules, app_only=True),
                self._route(
                    "POST", "/2/tweets/search/stream/rules", self._post_rules, app_only=True
                ),
                Route("/2/tweets/search/stream", self._filtered_stream, methods=["GET"]),
                self._route("GET", "/2/tweets", self._posts_by_ids),
                self._route("POST", "/2/tweets", self._create_post, user_context=True),
                self._route("GET", "/2/tweets/{id}", self._post_by_id),
                self._route("DELETE", "/2/tweets/{id}", self._delete_post, user_context=True),
                self._route("GET", "/2/dm_events", self._dm_events, user_context=True),
                self._route(
                    "POST",
                    "/2/dm_conversations/with/{participant_id}/messages",
                    self._dm_to_participant,
                    user_context=True,
                ),
                self._route(
                    "POST",
                    "/2/dm_conversations/{dm_conversation_id}/messages",
                    self._dm_to_conversation,
                    user_context=True,
                ),
                self._route(
                    "POST", "/2/media/upload/initialize", self._media_init, user_context=True
                ),
                self._route(
                    "POST", "/2/media/upload/{id}/append", self._media_append, user_context=True
                ),
                self._route(
                    "POST",
                    "/2/media/upload/{id}/finalize",
                    self._media_finalize,
                    user_context=True,
                ),
                self._route("GET", "/2/media/upload", self._media_status, user_context=True),
                self._route("POST", "/2/media/metadata", self._media_metadata, user_context=True),
            ]
            self._app = Starlette(
                routes=routes,
                exception_handlers={404: self._no_route, 405: self._no_route},
            )
        return self._app

    async def _no_route(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        # X's answer for a path it does not serve (#/components/schemas/Error).
        return JSONResponse(
            {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]},
            status_code=status,
        )

    def _route(
        self,
        method: str,
        template: str,
        handler: Handler,
        *,
        user_context: bool = False,
        app_only: bool = False,
    ) -> Route:
        bucket = f"{method} {template}"

        async def endpoint(request: Request) -> Response:
            headers = {"x-transaction-id": f"{next(self._transactions):016x}"}
            viewer = self._authenticate(request)
            if viewer is None:
                return _problem_response(
                    _Problem(401, "about:blank", "Unauthorized", "Unauthorized"), headers
                )
            allowed, limit_headers = self._hit(bucket, viewer.key)
            headers.update(limit_headers)
            if not allowed:
                return _problem_response(
                    _Problem(429, "about:blank", "Too Many Requests", "Too Many Requests"),
                    headers,
                )
            try:
                if user_context and viewer.user_id is None:
                    raise _Problem(
                        403,
                        "unsupported-authentication",
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden for this "
                        "endpoint.  Supported authentication types are [OAuth 1.0a User "
                        "Context, OAuth 2.0 User Context].",
                    )
                if app_only and viewer.user_id is not None:
                    raise _APP_ONLY
                status, body = await handler(request, viewer)
            except _Problem as problem:
                return _problem_response(problem, headers)
            return JSONResponse(body, status_code=status, headers=headers)

        return Route(template, endpoint, methods=[method])

    def _authenticate(self, request: Request) -> _Viewer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self._lock:
            grant = self._grants.get(token.strip())
            if grant is None or grant.expires_at <= time.time():
                return None
            if grant.user_id is not None and grant.user_id not in self.users:
                return None
            return _Viewer(grant.user_id)

    def _hit(self, bucket: str, key: str) -> tuple[bool, dict[str, str]]:
        with self._lock:
            limiter = self._limiters.get(bucket)
            if limiter is None:
                limit = self._rate_limits.get(bucket) or self._rate_limit
                limiter = RateLimiter(limit or DEFAULT_RATE_LIMITS[bucket], self._rate_window)
                self._limiters[bucket] = limiter
        allowed, remaining, reset = limiter.hit(key)
        return allowed, {
            "x-rate-limit-limit": str(limiter.limit),
            "x-rate-limit-remaining": str(remaining),
            # Whole epoch seconds, rounded up so that the window has ended by then.
            "x-rate-limit-reset": str(math.ceil(reset)),
        }

    # -- OAuth 2.0 token endpoint -------------------------------------------------------------

    async def _token_endpoint(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        client = form.get("client_id")
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client = base64.b64decode(credentials).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                client = None
        if client != self.client_id:
            return JSONResponse(
                {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
                status_code=401,
            )
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.redeem(form, client)
            if grant is None:
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the authorization code was invalid.",
                    },
                    status_code=400,
                )
            with self._lock:
                access, refresh = self._issue(grant.user_id)
            return JSONResponse(
                {
                    "token_type": "bearer",
                    "expires_in": int(self.token_lifetime),
                    "access_token": access,
                    "scope": grant.scope or _SCOPES,
                    "refresh_token": refresh,
                }
            )
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "this fake grants authorization_code and refresh_token",
                },
                status_code=400,
            )
        with self._lock:
            user_id = self._refresh_tokens.pop(form.get("refresh_token", ""), None)
            if user_id is None:
                return JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the token was invalid.",
                    },
                    status_code=400,
                )
            access, refresh = self._issue(user_id)
            self.refreshes += 1
        return JSONResponse(
            {
                "token_type": "bearer",
                "expires_in": int(self.token_lifetime),
                "access_token": access,
                "scope": _SCOPES,
                "refresh_token": refresh,
            }
        )

    # -- request parsing ------------------------------------------------------------------------

    def _query(self, request: Request, allowed: Iterable[str]) -> dict[str, str]:
        names = set(allowed)
        params = dict(request.query_params)
        unknown = sorted(set(params) - names)
        if unknown:
            raise _invalid(
                f"The query parameters [{','.join(unknown)}] is not one of "
                f"[{','.join(sorted(names))}]",
                unknown[0],
                params[unknown[0]],
            )
        return params

    @staticmethod
    def _names(params: dict[str, str], name: str, allowed: frozenset[str]) -> frozenset[str]:
        raw = params.get(name)
        if raw is None:
            return frozenset()
        values = [v.strip() for v in raw.split(",")]
        for value in values:
            if value not in allowed:
                raise _invalid(
                    f"The `{name}` query parameter value [{value}] is not one of "
                    f"[{','.join(sorted(allowed))}]",
                    name,
                    value,
                )
        return frozenset(values)

    def _fields(self, params: dict[str, str], *, dm: bool = False, users: bool = False) -> _Fields:
        expansions = _DM_EXPANSIONS if dm else _USER_EXPANSIONS if users else _POST_EXPANSIONS
        self._names(params, "place.fields", _PLACE_FIELDS)
        return _Fields(
            post=self._names(params, "post.fields", _POST_FIELDS)
            | self._names(params, "tweet.fields", _POST_FIELDS),
            expansions=self._names(params, "expansions", expansions),
            user=self._names(params, "user.fields", _USER_FIELDS),
            media=self._names(params, "media.fields", _MEDIA_FIELDS),
            poll=self._names(params, "poll.fields", _POLL_FIELDS),
            dm=self._names(params, "dm_event.fields", _DM_FIELDS),
        )

    @staticmethod
    def _max_results(params: dict[str, str], low: int, high: int, default: int) -> int:
        raw = params.get("max_results")
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise _invalid(
                f"The `max_results` query parameter value [{raw}] is not between {low} and {high}",
                "max_results",
                raw,
            )
        return int(raw)

    @staticmethod
    async def _json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise _invalid("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _invalid("The request body must be a JSON object")
        return body

    @staticmethod
    def _id_param(value: str, name: str) -> str:
        if not _ID.match(value):
            raise _invalid(
                f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$",
                name,
                value,
            )
        return value

    # -- rendering --------------------------------------------------------------------------

    def _render_user(self, user: FakeUser, fields: _Fields) -> dict[str, Any]:
        out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.handle}
        wanted = fields.user
        if "created_at" in wanted:
            out["created_at"] = _iso(_snowflake_time(user.id))
        if "description" in wanted:
            out["description"] = str(user.extra.get("description", ""))
        if "profile_image_url" in wanted:
            out["profile_image_url"] = (
                f"https://pbs.twimg.com/profile_images/{user.id}/{user.handle}_normal.png"
            )
        if "url" in wanted:
            out["url"] = str(user.extra.get("url", ""))
        if "protected" in wanted:
            out["protected"] = False
        if "verified" in wanted:
            out["verified"] = False
        if "verified_type" in wanted:
            out["verified_type"] = "none"
        if "public_metrics" in wanted:
            authored = [p for p in self.posts.values() if p.author_id == user.id]
            liked = sum(1 for p in self.posts.values() if user.id in p.likes)
            out["public_metrics"] = {
                "followers_count": user.followers,
                "following_count": user.following,
                "post_count": sum(1 for p in authored if self._visible(p)),
                "listed_count": int(user.extra.get("listed", 0)),
                "like_count": liked,
                "media_count": sum(1 for p in authored if p.media_keys),
            }
        return out

    def _private_allowed(self, post: _Post, viewer: _Viewer) -> bool:
        return (
            viewer.user_id == post.author_id
            and self.clock.now() - post.created_at <= _PRIVATE_WINDOW
        )

    def _render_post(
        self,
        post: _Post,
        fields: _Fields,
        viewer: _Viewer,
        errors: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        shown, urls = _shortened(post.text)
        out: dict[str, Any] = {
            "id": post.id,
            "text": html.escape(shown, quote=False),
            "edit_history_post_ids": list(post.edit_history),
        }
        wanted = fields.post
        expand = fields.expansions
        refs = [
            {"type": kind, "id": target}
            for kind, target in (
                ("retweeted", post.repost_of),
                ("quoted", post.quote_of),
                ("replied_to", post.reply_to),
            )
            if target is not None
        ]
        if "author_id" in wanted or "author_id" in expand:
            out["author_id"] = post.author_id
        if post.reply_to_user is not None and (
            "in_reply_to_user_id" in wanted or "in_reply_to_user_id" in expand
        ):
            out["in_reply_to_user_id"] = post.reply_to_user
        if refs and (
            wanted & {"referenced_tweets", "referenced_posts"}
            or expand & {"referenced_posts", "referenced_tweets.id", "referenced_posts.id"}
        ):
            out["referenced_posts"] = refs
        attachments: dict[str, Any] = {}
        if post.media_keys:
            attachments["media_keys"] = list(post.media_keys)
        if post.poll_id is not None:
            attachments["poll_ids"] = [post.poll_id]
        if attachments and (
            "attachments" in wanted or expand & {"attachments.media_keys", "attachments.poll_ids"}
        ):
            out["attachments"] = attachments
        if "conversation_id" in wanted:
            out["conversation_id"] = post.conversation_id
        if "created_at" in wanted:
            out["created_at"] = _iso(post.created_at)
        if "lang" in wanted:
            out["lang"] = _lang(post.text)
        if "possibly_sensitive" in wanted:
            out["possibly_sensitive"] = False
        if "reply_settings" in wanted:
            out["reply_settings"] = "everyone"
        if "source" in wanted:
            out["source"] = "socialkit fake"
        if "edit_controls" in wanted:
            until = self.posts.get(post.edit_history[0], post).created_at + _EDIT_WINDOW
            remaining = max(0, _MAX_EDITS + 1 - len(post.edit_history))
            out["edit_controls"] = {
                "edits_remaining": remaining,
                "is_edit_eligible": post.repost_of is None and post.poll_id is None,
                "editable_until": _iso(until),
            }
        if "entities" in wanted:
            entities = self._entities(shown)
            if urls:
                entities["urls"] = urls
            if entities:
                out["entities"] = entities
        if "public_metrics" in wanted:
            out["public_metrics"] = {
                "repost_count": len(post.reposts),
                "reply_count": post.replies,
                "like_count": len(post.likes),
                "quote_count": post.quotes,
                "bookmark_count": len(post.bookmarks),
                "impression_count": post.impressions,
            }
        for name in _PRIVATE_POST_FIELDS:
            if name not in wanted or errors is None:
                continue
            if not self._private_allowed(post, viewer):
                errors.append(_field_error(post.id, name))
                continue
            if name == "non_public_metrics":
                out[name] = {
                    "impression_count": post.impressions,
                    "url_link_clicks": post.link_clicks,
                    "user_profile_clicks": post.profile_clicks,
                    "engagements": len(post.likes)
                    + len(post.reposts)
                    + post.replies
                    + post.quotes
                    + len(post.bookmarks)
                    + post.link_clicks
                    + post.profile_clicks,
                }
            else:
                out[name] = {
                    "impression_count": post.impressions,
                    "like_count": len(post.likes),
                    "reply_count": post.replies,
                    "retweet_count": len(post.reposts),
                    "url_link_clicks": post.link_clicks,
                    "user_profile_clicks": post.profile_clicks,
                }
        return out

    def _entities(self, text: str) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        mentions = []
        for match in _MENTION.finditer(text):
            entry: dict[str, Any] = {
                "start": match.start(),
                "end": match.end(),
                "username": match.group(1),
            }
            with contextlib.suppress(KeyError):
                entry["id"] = self.user(match.group(1)).id
            mentions.append(entry)
        if mentions:
            entities["mentions"] = mentions
        tags = [
            {"start": m.start(), "end": m.end(), "tag": m.group(1)} for m in _HASHTAG.finditer(text)
        ]
        if tags:
            entities["hashtags"] = tags
        return entities

    def _render_media(self, media: _Media, fields: _Fields, viewer: _Viewer) -> dict[str, Any]:
        out: dict[str, Any] = {"media_key": media.key, "type": media.kind}
        wanted = fields.media
        if "alt_text" in wanted and media.alt_text:
            out["alt_text"] = media.alt_text
        if "width" in wanted and media.width:
            out["width"] = media.width
        if "height" in wanted and media.height:
            out["height"] = media.height
        # Addresses as X serves them: pbs.twimg.com for images and stills, video.twimg.com
        # for video (an MP4 variant and an HLS playlist) and GIFs (one MP4, bit_rate 0).
        if media.kind == "photo":
            if "url" in wanted:
                extension = _EXTENSIONS.get(media.mime_type, "jpg")
                out["url"] = f"https://pbs.twimg.com/media/{media.id}.{extension}"
            return out
        if media.kind == "animated_gif":
            preview = f"https://pbs.twimg.com/tweet_video_thumb/{media.id}.jpg"
            variants: list[dict[str, Any]] = [
                {
                    "bit_rate": 0,
                    "content_type": "video/mp4",
                    "url": f"https://video.twimg.com/tweet_video/{media.id}.mp4",
                }
            ]
        else:
            preview = f"https://pbs.twimg.com/ext_tw_video_thumb/{media.id}/pu/img/{media.id}.jpg"
            base = f"https://video.twimg.com/ext_tw_video/{media.id}/pu"
            variants = [
                {
                    "content_type": "application/x-mpegURL",
                    "url": f"{base}/pl/{media.id}.m3u8",
                },
                {
                    "bit_rate": 832000,
                    "content_type": "video/mp4",
                    "url": f"{base}/vid/avc1/480x270/{media.id}.mp4",
                },
                {
                    "bit_rate": 2176000,
                    "content_type": "video/mp4",
                    "url": f"{base}/vid/avc1/1280x720/{media.id}.mp4",
                },
            ]
        if "preview_image_url" in wanted:
            out["preview_image_url"] = preview
        if "variants" in wanted:
            out["variants"] = variants
        if "duration_ms" in wanted and media.kind == "video" and media.duration_ms is not None:
            out["duration_ms"] = media.duration_ms
        if "public_metrics" in wanted:
            out["public_metrics"] = {"view_count": media.views}
        owner = viewer.user_id == media.owner_id and (
            self.clock.now() - media.created_at <= _PRIVATE_WINDOW
        )
        if owner:
            quartiles = {
                "playback_0_count": media.views,
                "playback_25_count": media.views * 3 // 4,
                "playback_50_count": media.views // 2,
                "playback_75_count": media.views // 3,
                "playback_100_count": media.views // 4,
            }
            if "non_public_metrics" in wanted:
                out["non_public_metrics"] = dict(quartiles)
            if "organic_metrics" in wanted:
                out["organic_metrics"] = {**quartiles, "view_count": media.views}
        return out

    def _render_poll(self, poll: _Poll, fields: _Fields) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": poll.id,
            "options": [
                {"position": i + 1, "label": label, "votes": poll.votes[i]}
                for i, label in enumerate(poll.options)
            ],
        }
        end = poll.created_at + timedelta(minutes=poll.duration_minutes)
        if "duration_minutes" in fields.poll:
            out["duration_minutes"] = poll.duration_minutes
        if "end_datetime" in fields.poll:
            out["end_datetime"] = _iso(end)
        if "voting_status" in fields.poll:
            out["voting_status"] = "open" if self.clock.now() < end else "closed"
        return out

    def _includes(self, posts: list[_Post], fields: _Fields, viewer: _Viewer) -> dict[str, Any]:
        expand = fields.expansions
        user_ids: list[str] = []
        included: list[_Post] = []
        media: list[_Media] = []
        polls: list[_Poll] = []
        seen = {p.id for p in posts}
        keys: set[str] = set()

        def add_user(user_id: str | None) -> None:
            if user_id is not None and user_id in self.users and user_id not in user_ids:
                user_ids.append(user_id)

        for post in posts:
            if "author_id" in expand:
                add_user(post.author_id)
            if "in_reply_to_user_id" in expand:
                add_user(post.reply_to_user)
            if "entities.mentions.username" in expand:
                for match in _MENTION.finditer(post.text):
                    with contextlib.suppress(KeyError):
                        add_user(self.user(match.group(1)).id)
            if expand & {"referenced_posts", "referenced_tweets.id", "referenced_posts.id"}:
                for target in (post.repost_of, post.quote_of, post.reply_to):
                    found = self.posts.get(target or "")
                    if found is not None and found.id not in seen:
                        seen.add(found.id)
                        included.append(found)
            if "attachments.media_keys" in expand:
                for key in post.media_keys:
                    item = self._media_by_key(key)
                    if item is not None and item.key not in keys:
                        keys.add(item.key)
                        media.append(item)
            if "attachments.poll_ids" in expand and post.poll_id in self.polls:
                polls.append(self.polls[post.poll_id])
        out: dict[str, Any] = {}
        if user_ids:
            out["users"] = [self._render_user(self.users[u], fields) for u in user_ids]
        if included:
            out["posts"] = [self._render_post(p, fields, viewer) for p in included]
        if media:
            out["media"] = [self._render_media(m, fields, viewer) for m in media]
        if polls:
            out["polls"] = [self._render_poll(p, fields) for p in polls]
        return out

    def _posts_body(
        self,
        posts: list[_Post],
        fields: _Fields,
        viewer: _Viewer,
        *,
        meta: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        problems = list(errors or [])
        body: dict[str, Any] = {}
        if posts:
            body["data"] = [self._render_post(p, fields, viewer, problems) for p in posts]
            includes = self._includes(posts, fields, viewer)
            if includes:
                body["includes"] = includes
        if problems:
            body["errors"] = problems
        if meta is not None:
            body["meta"] = meta
        return body

    # -- timelines ----------------------------------------------------------------------------

    def _timeline(
        self,
        params: dict[str, str],
        items: list[_Post],
        *,
        token_names: tuple[str, ...],
        low: int,
        default: int,
        cap: int,
    ) -> tuple[list[_Post], dict[str, Any]]:
        """Filter by time and id, then cut one page (newest first) after the token."""
        size = self._max_results(params, low, 100, default)
        if "start_time" in params:
            start = _parse_time(params["start_time"], "start_time")
            items = [p for p in items if p.created_at >= start]
        if "end_time" in params:
            end = _parse_time(params["end_time"], "end_time")
            items = [p for p in items if p.created_at < end]
        if "since_id" in params:
            since = int(self._id_param(params["since_id"], "since_id"))
            items = [p for p in items if int(p.id) > since]
        if "until_id" in params:
            until = int(self._id_param(params["until_id"], "until_id"))
            items = [p for p in items if int(p.id) < until]
        items = items[:cap]
        for name in token_names:
            if name in params:
                cutoff = _decode_token(params[name], name)
                items = [p for p in items if int(p.id) < cutoff]
        page = items[:size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0].id
            meta["oldest_id"] = page[-1].id
        if len(items) > size and page:
            meta["next_token"] = _encode_token(page[-1].id)
        return page, meta

    _TIMELINE_PARAMS = (
        "max_results", "pagination_token", "start_time", "end_time", "since_id", "until_id",
        "post.fields", "tweet.fields", "expansions", "user.fields", "media.fields",
        "poll.fields", "place.fields",
    )  # fmt: skip

    async def _user_posts(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, (*self._TIMELINE_PARAMS, "exclude"))
        fields = self._fields(params)
        user_id = self._id_param(request.path_params["id"], "id")
        exclude = {e.strip() for e in params.get("exclude", "").split(",") if e.strip()}
        if exclude - {"replies", "retweets"}:
            raise _invalid("The `exclude` value must be replies and/or retweets", "exclude")
        with self._lock:
            if user_id not in self.users:
                return 200, {
                    "errors": [_not_found_entry("user", user_id, "id")],
                    "meta": {"result_count": 0},
                }
            items = [
                p
                for p in self.posts.values()
                if p.author_id == user_id
                and self._visible(p)
                and not ("replies" in exclude and p.reply_to is not None)
                and not ("retweets" in exclude and p.repost_of is not None)
            ]
            page, meta = self._timeline(
                params,
                self._newest_first(items),
                token_names=("pagination_token",),
                low=5,
                default=10,
                cap=3200,
            )
            return 200, self._posts_body(page, fields, viewer, meta=meta)

    async def _user_mentions(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, self._TIMELINE_PARAMS)
        fields = self._fields(params)
        user_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            if user_id not in self.users:
                return 200, {
                    "errors": [_not_found_entry("user", user_id, "id")],
                    "meta": {"result_count": 0},
                }
            page, meta = self._timeline(
                params,
                self._mentions_of(user_id),
                token_names=("pagination_token",),
                low=5,
                default=10,
                cap=800,
            )
            return 200, self._posts_body(page, fields, viewer, meta=meta)

    async def _search_recent(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, (*self._TIMELINE_PARAMS, "query", "next_token", "sort_order"))
        fields = self._fields(params)
        query = params.get("query", "")
        if not 1 <= len(query) <= 4096:
            raise _invalid(
                "The `query` query parameter value must be between 1 and 4096 characters",
                "query",
                query,
            )
        if params.get("sort_order", "recency") not in ("recency", "relevancy"):
            raise _invalid("The `sort_order` value must be recency or relevancy", "sort_order")
        try:
            matches = parse_query(query)
        except QueryError as exc:
            raise _invalid(str(exc), "query", query) from None
        with self._lock:
            now = self.clock.now()
            earliest = now - _SEARCH_WINDOW
            if "start_time" in params:
                start = _parse_time(params["start_time"], "start_time")
                if start < earliest:
                    raise _invalid(
                        f"Invalid 'start_time':'{params['start_time']}'. 'start_time' must be "
                        f"on or after {_iso(earliest)}",
                        "start_time",
                        params["start_time"],
                    )
            items = [
                p
                for p in self.posts.values()
                if self._visible(p) and p.created_at >= earliest and matches(self._candidate(p))
            ]
            page, meta = self._timeline(
                params,
                self._newest_first(items),
                token_names=("next_token", "pagination_token"),
                low=10,
                default=10,
                cap=len(items),
            )
            return 200, self._posts_body(page, fields, viewer, meta=meta)

    # -- the filtered stream ------------------------------------------------------------------

    def drop_streams(self) -> None:
        """Close every open filtered-stream connection (an operational disconnect)."""
        with self._lock:
            self._stream_generation += 1

    def _rules_body(self, rules: list[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
        out = []
        for rule_id, value, tag in rules:
            entry = {"id": rule_id, "value": value}
            if tag is not None:
                entry["tag"] = tag
            out.append(entry)
        return out

    async def _get_rules(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, ("ids", "max_results", "pagination_token"))
        wanted = {i.strip() for i in params.get("ids", "").split(",") if i.strip()}
        with self._lock:
            rules = [
                (rule_id, value, tag)
                for rule_id, (value, tag) in sorted(self.stream_rules.items())
                if not wanted or rule_id in wanted
            ]
        meta: dict[str, Any] = {"sent": _iso(self.clock.now()), "result_count": len(rules)}
        body: dict[str, Any] = {"meta": meta}
        if rules:
            body["data"] = self._rules_body(rules)
        return 200, body

    async def _post_rules(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, ("dry_run", "delete_all"))
        dry_run = params.get("dry_run", "false").lower() == "true"
        body = await self._json(request) if params.get("delete_all") != "true" else {}
        unknown = sorted(set(body) - {"add", "delete"})
        if unknown:
            raise _invalid(f"Unknown field(s) in the request body: {', '.join(unknown)}")
        if params.get("delete_all") == "true":
            delete: dict[str, Any] = {"ids": list(self.stream_rules)}
            add: list[Any] = []
        else:
            if ("add" in body) == ("delete" in body):
                raise _invalid("Exactly one of `add` or `delete` must be given")
            add = body.get("add") or []
            delete = body.get("delete") or {}
        sent = _iso(self.clock.now())
        if "add" in body:
            if not isinstance(add, list) or not add:
                raise _invalid("`add` must be a non-empty list of rules")
            problems = []
            for rule in add:
                value = rule.get("value") if isinstance(rule, dict) else None
                if not isinstance(value, str) or not 1 <= len(value) <= 1024:
                    raise _invalid("Each rule needs a `value` of 1 to 1024 characters")
                try:
                    parse_query(value)
                except QueryError as exc:
                    problems.append(
                        {
                            "value": value,
                            "details": [str(exc)],
                            "title": "UnprocessableEntity",
                            "type": _PROBLEMS + "invalid-rules",
                        }
                    )
            if problems:  # none is created when one is invalid
                summary = {"created": 0, "not_created": len(add), "valid": 0}
                summary["invalid"] = len(problems)
                return 400, {"errors": problems, "meta": {"sent": sent, "summary": summary}}
            created = []
            with self._lock:
                for rule in add:
                    value, tag = rule["value"], rule.get("tag")
                    existing = [i for i, (v, _t) in self.stream_rules.items() if v == value]
                    if existing:
                        continue  # X keeps one rule per value (a duplicate is not created)
                    rule_id = self._snowflake()
                    if not dry_run:
                        self.stream_rules[rule_id] = (value, tag)
                    created.append((rule_id, value, tag))
            summary = {
                "created": len(created),
                "not_created": len(add) - len(created),
                "valid": len(add),
                "invalid": 0,
            }
            answer: dict[str, Any] = {"meta": {"sent": sent, "summary": summary}}
            if created:
                answer["data"] = self._rules_body(created)
            return 200, answer
        ids = delete.get("ids") or [] if isinstance(delete, dict) else []
        values = delete.get("values") or [] if isinstance(delete, dict) else []
        with self._lock:
            doomed = {i for i in ids if i in self.stream_rules}
            doomed |= {i for i, (v, _t) in self.stream_rules.items() if v in values}
            if not dry_run:
                for rule_id in doomed:
                    del self.stream_rules[rule_id]
        summary = {"deleted": len(doomed), "not_deleted": len(ids) + len(values) - len(doomed)}
        return 200, {"meta": {"sent": sent, "summary": summary}}

    _STREAM_PARAMS = (
        "backfill_minutes", "start_time", "end_time", "tweet.fields", "expansions",
        "media.fields", "poll.fields", "user.fields", "place.fields",
    )  # fmt: skip

    async def _filtered_stream(self, request: Request) -> Response:
        """``GET /2/tweets/search/stream``: each post matching a rule as one JSON object
        (``data``, ``includes``, ``matching_rules``) followed by ``\\r\\n``, and a ``\\r\\n``
        keep-alive every ``stream_keepalive`` seconds; ``backfill_minutes`` (0-5) first sends
        the matching posts of the last minutes. App-only; one connection per app."""
        headers = {"x-transaction-id": f"{next(self._transactions):016x}"}
        viewer = self._authenticate(request)
        if viewer is None:
            return _problem_response(
                _Problem(401, "about:blank", "Unauthorized", "Unauthorized"), headers
            )
        allowed, limit_headers = self._hit("GET /2/tweets/search/stream", viewer.key)
        headers.update(limit_headers)
        try:
            if not allowed:
                raise _Problem(429, "about:blank", "Too Many Requests", "Too Many Requests")
            if viewer.user_id is not None:
                raise _APP_ONLY
            params = self._query(request, self._STREAM_PARAMS)
            fields = self._fields(params)
            backfill = params.get("backfill_minutes", "0")
            if not backfill.isdigit() or not 0 <= int(backfill) <= 5:
                raise _invalid(
                    "The `backfill_minutes` query parameter value must be between 0 and 5",
                    "backfill_minutes",
                    backfill,
                )
            with self._lock:
                if self._stream_open >= self.max_stream_connections:
                    raise _Problem(
                        429,
                        "streaming-connection",
                        "ConnectionException",
                        "This stream is currently at the maximum allowed connection limit.",
                        connection_issue="TooManyConnections",
                    )
                self._stream_open += 1
                self.stream_connections.append(int(backfill))
                since = time.time() - int(backfill) * 60
                start = len(self._stream_log)
                while start > 0 and self._stream_log[start - 1][1] >= since and int(backfill):
                    start -= 1
                generation = self._stream_generation
        except _Problem as problem:
            return _problem_response(problem, headers)
        return StreamingResponse(
            self._stream_lines(start, generation, fields),
            media_type="application/json",
            headers=headers,
        )

    def _matching_rules(self, post: _Post) -> list[dict[str, Any]]:
        candidate = self._candidate(post)
        matched = []
        for rule_id, (value, tag) in sorted(self.stream_rules.items()):
            try:
                hit = parse_query(value)(candidate)
            except QueryError:
                hit = False
            if hit:
                matched.append({"id": rule_id, **({"tag": tag} if tag is not None else {})})
        return matched

    async def _stream_lines(
        self, position: int, generation: int, fields: _Fields
    ) -> AsyncIterator[bytes]:
        import anyio

        viewer = _Viewer(None)
        idle_since = time.monotonic()
        try:
            while True:
                lines: list[bytes] = []
                with self._lock:
                    if self._stream_generation != generation:
                        return
                    if not self.stream_paused:
                        while position < len(self._stream_log):
                            post = self.posts.get(self._stream_log[position][0])
                            position += 1
                            if post is None or not self._visible(post):
                                continue
                            rules = self._matching_rules(post)
                            if not rules:
                                continue
                            body = self._posts_body([post], fields, viewer)
                            body["data"] = body["data"][0]
                            body["matching_rules"] = rules
                            lines.append(json.dumps(body).encode() + b"\r\n")
                if lines:
                    idle_since = time.monotonic()
                    yield b"".join(lines)
                elif (
                    not self.stream_paused
                    and time.monotonic() - idle_since >= self.stream_keepalive
                ):
                    idle_since = time.monotonic()
                    yield b"\r\n"
                await anyio.sleep(0.01)
        finally:
            with self._lock:
                self._stream_open -= 1

    # -- users --------------------------------------------------------------------------------

    _USER_PARAMS = ("user.fields", "expansions", "post.fields", "tweet.fields")

    async def _users_me(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        fields = self._fields(self._query(request, self._USER_PARAMS), users=True)
        assert viewer.user_id is not None
        with self._lock:
            return 200, {"data": self._render_user(self.users[viewer.user_id], fields)}

    async def _user_by_id(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        fields = self._fields(self._query(request, self._USER_PARAMS), users=True)
        user_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            user = self.users.get(user_id)
            if user is None:
                return 200, {"errors": [_not_found_entry("user", user_id, "id")]}
            return 200, {"data": self._render_user(user, fields)}

    async def _user_by_username(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        fields = self._fields(self._query(request, self._USER_PARAMS), users=True)
        username = request.path_params["username"]
        if not _USERNAME.match(username):
            raise _invalid(
                f"The `username` query parameter value [{username}] does not match "
                "^[A-Za-z0-9_]{1,15}$",
                "username",
                username,
            )
        with self._lock:
            try:
                user = self.user(username)
            except KeyError:
                return 200, {"errors": [_not_found_entry("user", username, "username")]}
            return 200, {"data": self._render_user(user, fields)}

    # -- posts ----------------------------------------------------------------------------------

    _LOOKUP_PARAMS = (
        "post.fields", "tweet.fields", "expansions", "user.fields", "media.fields",
        "poll.fields", "place.fields",
    )  # fmt: skip

    async def _post_by_id(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        fields = self._fields(self._query(request, self._LOOKUP_PARAMS))
        post_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            post = self.posts.get(post_id)
            if post is None:
                return 200, {"errors": [_not_found_entry("tweet", post_id, "id")]}
            body = self._posts_body([post], fields, viewer)
            body["data"] = body["data"][0]
            return 200, body

    async def _posts_by_ids(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, (*self._LOOKUP_PARAMS, "ids"))
        fields = self._fields(params)
        ids = [i.strip() for i in params.get("ids", "").split(",") if i.strip()]
        if not 1 <= len(ids) <= 100:
            raise _invalid("The `ids` query parameter needs 1 to 100 ids", "ids")
        for post_id in ids:
            self._id_param(post_id, "ids")
        with self._lock:
            found = [self.posts[i] for i in dict.fromkeys(ids) if i in self.posts]
            missing = [_not_found_entry("tweet", i, "ids") for i in ids if i not in self.posts]
            return 200, self._posts_body(found, fields, viewer, errors=missing)

    async def _create_post(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        body = await self._json(request)
        assert viewer.user_id is not None
        known = {
            "text", "media", "reply", "quote_tweet_id", "poll", "edit_options", "reply_settings",
            "for_super_followers_only", "nullcast", "direct_message_deep_link", "geo",
            "card_uri", "community_id", "made_with_ai", "paid_partnership",
        }  # fmt: skip
        unknown = sorted(set(body) - known)
        if unknown:
            raise _invalid(f"Unknown field(s) in the request body: {', '.join(unknown)}")
        text = body.get("text", "")
        if not isinstance(text, str):
            raise _invalid("`text` must be a string")
        media_ids = _list_of_ids((body.get("media") or {}).get("media_ids"), "media.media_ids")
        reply_to = _optional_id((body.get("reply") or {}).get("in_reply_to_tweet_id"), "reply")
        quote_of = _optional_id(body.get("quote_tweet_id"), "quote_tweet_id")
        previous = _optional_id(
            (body.get("edit_options") or {}).get("previous_post_id"), "edit_options"
        )
        poll = body.get("poll")
        present = [n for n, v in (("media", media_ids), ("poll", poll), ("quote", quote_of)) if v]
        if len(present) > 1:
            raise _invalid(f"A post cannot combine {' and '.join(present)}")
        if not text.strip() and not media_ids:
            raise _invalid("A post needs `text` or `media`")
        if count_x(text) > 280:
            raise _invalid(f"Your post is {count_x(text)} weighted characters long; X allows 280")
        with self._lock:
            attached = [self._usable_media(i, viewer.user_id, "tweet_") for i in media_ids]
            kinds = {m.kind for m in attached}
            if len(attached) > 4 or (kinds - {"photo"} and len(attached) > 1):
                raise _invalid("A post carries up to 4 images, or one video or GIF")
            poll_id = self._new_poll(poll) if poll is not None else None
            if reply_to is not None and not self._exists(reply_to):
                raise _Problem(
                    403,
                    "about:blank",
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                )
            if quote_of is not None and not self._exists(quote_of):
                raise _Problem(
                    403,
                    "about:blank",
                    "Forbidden",
                    "You attempted to quote a Tweet that is deleted or not visible to you.",
                )
            history: list[str] = []
            old: _Post | None = None
            if previous is not None:
                old = self._editable(previous, viewer.user_id)
                history = list(old.edit_history)
            elif text.strip() and self._duplicate(viewer.user_id, text):
                raise _Problem(
                    403,
                    "about:blank",
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
            post = self._new_post(
                viewer.user_id,
                text,
                reply_to=reply_to if old is None else old.reply_to,
                quote_of=quote_of if old is None else old.quote_of,
                media_keys=[m.key for m in attached],
                poll_id=poll_id,
                edit_history=history,
            )
            if old is not None:
                post.edit_history = [*history, post.id]
                post.conversation_id = old.conversation_id
                post.reply_to_user = old.reply_to_user
                for name in ("likes", "reposts", "bookmarks"):
                    setattr(post, name, set(getattr(old, name)))
                post.replies, post.quotes, post.impressions = (
                    old.replies,
                    old.quotes,
                    old.impressions,
                )
                if old.reply_to in self.posts:
                    self.posts[old.reply_to].replies -= 1  # counted again by _new_post
                if old.quote_of in self.posts:
                    self.posts[old.quote_of].quotes -= 1
                for version in history:
                    if version in self.posts:
                        self.posts[version].superseded_by = post.id
                        self.posts[version].edit_history = list(post.edit_history)
            return 201, {
                "data": {
                    "id": post.id,
                    "text": html.escape(_shortened(post.text)[0], quote=False),
                    "edit_history_post_ids": list(post.edit_history),
                }
            }

    def _exists(self, post_id: str) -> bool:
        return post_id in self.posts

    def _duplicate(self, author_id: str, text: str) -> bool:
        wanted = " ".join(text.split())
        return any(
            p.author_id == author_id
            and p.repost_of is None
            and self._visible(p)
            and " ".join(p.text.split()) == wanted
            for p in self.posts.values()
        )

    def _editable(self, post_id: str, user_id: str) -> _Post:
        old = self.posts.get(post_id)
        if old is None:
            raise _Problem(
                404,
                "resource-not-found",
                "Not Found Error",
                f"Could not find tweet with previous_post_id: [{post_id}].",
                resource_type="tweet",
                resource_id=post_id,
                parameter="previous_post_id",
                value=post_id,
            )
        first = self.posts.get(old.edit_history[0], old)
        if (
            old.author_id != user_id
            or old.superseded_by is not None
            or old.repost_of is not None
            or old.poll_id is not None
            or len(old.edit_history) > _MAX_EDITS
            or self.clock.now() - first.created_at > _EDIT_WINDOW
        ):
            raise _Problem(
                403, "about:blank", "Forbidden", "This Tweet is not eligible for editing."
            )
        return old

    def _new_poll(self, poll: Any) -> str:
        if not isinstance(poll, dict) or set(poll) - {
            "options",
            "duration_minutes",
            "reply_settings",
        }:
            raise _invalid("`poll` takes options and duration_minutes")
        options = poll.get("options")
        minutes = poll.get("duration_minutes")
        if (
            not isinstance(options, list)
            or not 2 <= len(options) <= 4
            or not all(isinstance(o, str) and 1 <= len(o) <= 25 for o in options)
        ):
            raise _invalid("A poll has 2 to 4 options of 1 to 25 characters")
        if not isinstance(minutes, int) or not 5 <= minutes <= 10080:
            raise _invalid("`poll.duration_minutes` must be between 5 and 10080")
        poll_id = self._snowflake()
        self.polls[poll_id] = _Poll(
            poll_id, list(options), minutes, self.clock.now(), [0] * len(options)
        )
        return poll_id

    async def _delete_post(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        post_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            post = self.posts.get(post_id)
            if post is None:
                raise _Problem(
                    404,
                    "resource-not-found",
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    resource_type="tweet",
                    resource_id=post_id,
                    parameter="id",
                    value=post_id,
                )
            if post.author_id != viewer.user_id:
                raise _Problem(
                    403, "about:blank", "Forbidden", "You are not allowed to delete this Tweet."
                )
            for version in list(post.edit_history):
                self._remove(version)
            self._remove(post_id)
            return 200, {"data": {"deleted": True}}

    def _remove(self, post_id: str) -> None:
        post = self.posts.pop(post_id, None)
        if post is None:
            return
        latest = post.superseded_by is None
        if latest and post.reply_to in self.posts:
            self.posts[post.reply_to].replies -= 1
        if latest and post.quote_of in self.posts:
            self.posts[post.quote_of].quotes -= 1
        if post.repost_of in self.posts:
            self.posts[post.repost_of].reposts.discard(post.author_id)

    # -- engagement -----------------------------------------------------------------------------
    # Each answers the state after the call, as X does, and is idempotent (liking a liked post
    # answers liked: true again). The {id} of the path must be the caller.

    def _acting(self, request: Request, viewer: _Viewer, name: str = "id") -> str:
        user_id = self._id_param(request.path_params[name], name)
        if user_id != viewer.user_id:
            raise _Problem(
                403,
                "client-forbidden",
                "Forbidden",
                "You can only act for the authenticated user.",
                reason="official-client-forbidden",
            )
        return user_id

    async def _body_id(self, request: Request, name: str) -> str:
        body = await self._json(request)
        if set(body) - {name, "folder_id"} or (name != "tweet_id" and "folder_id" in body):
            raise _invalid(f"The request body takes `{name}` only")
        value = _optional_id(body.get(name), name)
        if value is None:
            raise _invalid(f"`{name}` is required", name)
        return value

    def _existing_post(self, post_id: str, parameter: str = "tweet_id") -> _Post:
        post = self.posts.get(post_id)
        if post is None or not self._visible(post):
            raise _Problem(
                404,
                "resource-not-found",
                "Not Found Error",
                f"Could not find tweet with {parameter}: [{post_id}].",
                resource_type="tweet",
                resource_id=post_id,
                parameter=parameter,
                value=post_id,
            )
        return post

    def _existing_user(self, user_id: str, parameter: str) -> FakeUser:
        user = self.users.get(user_id)
        if user is None:
            raise _Problem(
                404,
                "resource-not-found",
                "Not Found Error",
                f"Could not find user with {parameter}: [{user_id}].",
                resource_type="user",
                resource_id=user_id,
                parameter=parameter,
                value=user_id,
            )
        return user

    async def _like(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._mark(request, viewer, "likes", "liked")

    async def _unlike(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._unmark(request, viewer, "likes", "liked")

    async def _mark(
        self, request: Request, viewer: _Viewer, marks: str, answer: str
    ) -> tuple[int, dict[str, Any]]:
        """``POST /2/users/:id/likes`` or ``/bookmarks``: the user marks the post in the body
        (404 for a post that does not exist)."""
        self._query(request, ())
        me = self._acting(request, viewer)
        target = await self._body_id(request, "tweet_id")
        with self._lock:
            getattr(self._existing_post(target), marks).add(me)
        return 200, {"data": {answer: True}}

    async def _unmark(
        self, request: Request, viewer: _Viewer, marks: str, answer: str
    ) -> tuple[int, dict[str, Any]]:
        """``DELETE /2/users/:id/likes/:tweet_id`` or ``/bookmarks/:tweet_id``: the mark is
        taken back (also when there was none, or the post is gone)."""
        self._query(request, ())
        me = self._acting(request, viewer)
        target = self._id_param(request.path_params["tweet_id"], "tweet_id")
        with self._lock:
            post = self.posts.get(target)
            if post is not None:
                getattr(post, marks).discard(me)
        return 200, {"data": {answer: False}}

    async def _repost(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer)
        target = await self._body_id(request, "tweet_id")
        with self._lock:
            self._existing_post(target)
            self.repost(target, self.users[me])
        return 200, {"data": {"retweeted": True, "rest_id": target}}

    async def _unrepost_endpoint(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer)
        target = self._id_param(request.path_params["source_tweet_id"], "source_tweet_id")
        with self._lock:
            if target in self.posts:
                self._unrepost(target, me)
        return 200, {"data": {"retweeted": False}}

    async def _bookmark(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._mark(request, viewer, "bookmarks", "bookmarked")

    async def _unbookmark(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._unmark(request, viewer, "bookmarks", "bookmarked")

    async def _follow_user(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer)
        target = await self._body_id(request, "target_user_id")
        if target == me:
            raise _invalid("You cannot follow yourself", "target_user_id", target)
        with self._lock:
            self._existing_user(target, "target_user_id")
            self._follow(me, target)
        return 200, {"data": {"following": True, "pending_follow": False}}

    async def _unfollow_user(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer, "source_user_id")
        target = self._id_param(request.path_params["target_user_id"], "target_user_id")
        with self._lock:
            if target in self.users:
                self._unfollow(me, target)
        return 200, {"data": {"following": False}}

    async def _mute(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer)
        target = await self._body_id(request, "target_user_id")
        if target == me:
            raise _invalid("You cannot mute yourself", "target_user_id", target)
        with self._lock:
            self._existing_user(target, "target_user_id")
            self.mutes.setdefault(me, set()).add(target)
        return 200, {"data": {"muting": True}}

    async def _unmute(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = self._acting(request, viewer, "source_user_id")
        target = self._id_param(request.path_params["target_user_id"], "target_user_id")
        with self._lock:
            self.mutes.get(me, set()).discard(target)
        return 200, {"data": {"muting": False}}

    async def _hide_reply(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        target = self._id_param(request.path_params["tweet_id"], "tweet_id")
        body = await self._json(request)
        hidden = body.get("hidden")
        if set(body) != {"hidden"} or not isinstance(hidden, bool):
            raise _invalid('The request body is {"hidden": true|false}', "hidden")
        with self._lock:
            reply = self._existing_post(target)
            root = self.posts.get(reply.conversation_id)
            # X lets the author of a conversation's first post hide the replies in it.
            if reply.reply_to is None or root is None or root.author_id != viewer.user_id:
                raise _Problem(
                    403,
                    "about:blank",
                    "Forbidden",
                    "You can only hide replies to conversations you started.",
                )
            if hidden:
                self.hidden.add(target)
            else:
                self.hidden.discard(target)
        return 200, {"data": {"hidden": hidden}}

    # -- people and lists -----------------------------------------------------------------------

    _PEOPLE_PARAMS = ("max_results", "pagination_token", *_USER_PARAMS_BASE)

    async def _people(
        self, request: Request, viewer: _Viewer, relation: str
    ) -> tuple[int, dict[str, Any]]:
        params = self._query(request, self._PEOPLE_PARAMS)
        fields = self._fields(params, users=True)
        size = self._max_results(params, 1, 1000, 100)
        user_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            if user_id not in self.users:
                return 200, {
                    "errors": [_not_found_entry("user", user_id, "id")],
                    "meta": {"result_count": 0},
                }
            # Newest first: by when each follow was made.
            if relation == "following":
                order = [
                    (self._followed_at[(user_id, followee)], followee)
                    for followee in self.follows.get(user_id, [])
                ]
            else:
                order = [
                    (self._followed_at[(follower, user_id)], follower)
                    for follower, followed in self.follows.items()
                    if user_id in followed
                ]
            page, meta = _cut(sorted(order, reverse=True), params, size)
            body: dict[str, Any] = {"meta": meta}
            if page:
                body["data"] = [self._render_user(self.users[u], fields) for u in page]
            return 200, body

    async def _followers(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._people(request, viewer, "followers")

    async def _following(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._people(request, viewer, "following")

    async def _home_timeline(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, (*self._TIMELINE_PARAMS, "exclude"))
        fields = self._fields(params)
        me = self._acting(request, viewer)
        exclude = {e.strip() for e in params.get("exclude", "").split(",") if e.strip()}
        if exclude - {"replies", "retweets"}:
            raise _invalid("The `exclude` value must be replies and/or retweets", "exclude")
        with self._lock:
            authors = {me, *self.follows.get(me, [])} - self.mutes.get(me, set())
            items = [
                p
                for p in self.posts.values()
                if p.author_id in authors
                and self._visible(p)
                and not ("replies" in exclude and p.reply_to is not None)
                and not ("retweets" in exclude and p.repost_of is not None)
            ]
            page, meta = self._timeline(
                params,
                self._newest_first(items),
                token_names=("pagination_token",),
                low=1,
                default=100,
                cap=800,
            )
            return 200, self._posts_body(page, fields, viewer, meta=meta)

    _LIST_PARAMS = ("max_results", "pagination_token", "list.fields", "expansions", "user.fields")

    def _render_list(self, item: _List, wanted: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": item.id, "name": item.name}
        if "created_at" in wanted:
            out["created_at"] = _iso(item.created_at)
        if "description" in wanted:
            out["description"] = item.description
        if "follower_count" in wanted:
            out["follower_count"] = len(item.followers)
        if "member_count" in wanted:
            out["member_count"] = len(item.members)
        if "private" in wanted:
            out["private"] = item.private
        return out

    async def _lists_of(
        self, request: Request, viewer: _Viewer, kind: str
    ) -> tuple[int, dict[str, Any]]:
        params = self._query(request, self._LIST_PARAMS)
        wanted = self._names(params, "list.fields", _LIST_FIELDS)
        expansions = self._names(params, "expansions", frozenset({"owner_id"}))
        fields = _Fields(user=self._names(params, "user.fields", _USER_FIELDS))
        size = self._max_results(params, 1, 100, 100)
        user_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            if user_id not in self.users:
                return 200, {
                    "errors": [_not_found_entry("user", user_id, "id")],
                    "meta": {"result_count": 0},
                }
            found = [
                item
                for item in self.lists.values()
                if (item.owner_id == user_id if kind == "owned" else user_id in item.followers)
                and (not item.private or item.owner_id == viewer.user_id)
            ]
            order = sorted(((int(item.id), item.id) for item in found), reverse=True)
            page, meta = _cut(order, params, size)
            body: dict[str, Any] = {"meta": meta}
            if page:
                lists = [self.lists[i] for i in page]
                body["data"] = [self._render_list(item, wanted) for item in lists]
                if "owner_id" in expansions:
                    for rendered, item in zip(body["data"], lists, strict=True):
                        rendered["owner_id"] = item.owner_id
                    owners = list(dict.fromkeys(item.owner_id for item in lists))
                    body["includes"] = {
                        "users": [self._render_user(self.users[u], fields) for u in owners]
                    }
            return 200, body

    async def _owned_lists(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        return await self._lists_of(request, viewer, "owned")

    async def _followed_lists(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        return await self._lists_of(request, viewer, "followed")

    async def _list_posts(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, ("max_results", "pagination_token", *self._LOOKUP_PARAMS))
        fields = self._fields(params)
        list_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            item = self.lists.get(list_id)
            if item is None or (item.private and item.owner_id != viewer.user_id):
                raise _Problem(
                    404,
                    "resource-not-found",
                    "Not Found Error",
                    f"Could not find list with id: [{list_id}].",
                    resource_type="list",
                    resource_id=list_id,
                    parameter="id",
                    value=list_id,
                )
            members = set(item.members)
            items = [p for p in self.posts.values() if p.author_id in members and self._visible(p)]
            page, meta = self._timeline(
                params,
                self._newest_first(items),
                token_names=("pagination_token",),
                low=1,
                default=100,
                cap=800,
            )
            meta.pop("newest_id", None)
            meta.pop("oldest_id", None)
            return 200, self._posts_body(page, fields, viewer, meta=meta)

    # -- direct messages ------------------------------------------------------------------------

    async def _dm_events(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(
            request,
            (
                "max_results", "pagination_token", "event_types", "dm_event.fields",
                "expansions", "user.fields", "post.fields", "tweet.fields", "media.fields",
            ),
        )  # fmt: skip
        fields = self._fields(params, dm=True)
        size = self._max_results(params, 1, 100, 100)
        types = {t.strip() for t in params.get("event_types", "MessageCreate").split(",")}
        if types - {"MessageCreate", "ParticipantsJoin", "ParticipantsLeave"}:
            raise _invalid("Unknown `event_types`", "event_types", params.get("event_types"))
        me = viewer.user_id
        assert me is not None
        with self._lock:
            events = sorted(
                (e for e in self.dms.values() if me in e.conversation_id.split("-")),
                key=lambda e: int(e.id),
                reverse=True,
            )
            if "MessageCreate" not in types:
                events = []
            if "pagination_token" in params:
                cutoff = _decode_token(params["pagination_token"], "pagination_token")
                events = [e for e in events if int(e.id) < cutoff]
            page = events[:size]
            body: dict[str, Any] = {}
            if page:
                body["data"] = [self._render_dm(e, fields) for e in page]
            senders = []
            for event in page:
                if "sender_id" in fields.expansions and event.sender_id not in senders:
                    senders.append(event.sender_id)
                if "participant_ids" in fields.expansions:
                    for uid in event.conversation_id.split("-"):
                        if uid not in senders:
                            senders.append(uid)
            if senders:
                body["includes"] = {
                    "users": [
                        self._render_user(self.users[u], fields) for u in senders if u in self.users
                    ]
                }
            meta: dict[str, Any] = {"result_count": len(page)}
            if len(events) > size and page:
                meta["next_token"] = _encode_token(page[-1].id)
            body["meta"] = meta
            return 200, body

    def _render_dm(self, event: _Dm, fields: _Fields) -> dict[str, Any]:
        out: dict[str, Any] = {"id": event.id, "event_type": "MessageCreate", "text": event.text}
        wanted = fields.dm
        if "created_at" in wanted:
            out["created_at"] = _iso(event.created_at)
        if "dm_conversation_id" in wanted:
            out["dm_conversation_id"] = event.conversation_id
        if "sender_id" in wanted or "sender_id" in fields.expansions:
            out["sender_id"] = event.sender_id
        if event.media_keys and (
            "attachments" in wanted or "attachments.media_keys" in fields.expansions
        ):
            out["attachments"] = {"media_keys": list(event.media_keys)}
        return out

    async def _dm_body(self, request: Request, sender: str) -> tuple[str, list[str]]:
        body = await self._json(request)
        if set(body) - {"text", "attachments"}:
            raise _invalid("A direct message takes `text` and `attachments`")
        text = body.get("text")
        attachments = body.get("attachments") or []
        if text is not None and (not isinstance(text, str) or not text):
            raise _invalid("`text` must be a non-empty string")
        if not text and not attachments:
            raise _invalid("A direct message needs `text` or `attachments`")
        if len(text or "") > 10000:
            raise _invalid("A direct message is at most 10,000 characters long")
        if not isinstance(attachments, list) or len(attachments) > 1:
            raise _invalid("A direct message carries one attachment at most")
        keys = []
        with self._lock:
            for item in attachments:
                media_id = _optional_id(
                    item.get("media_id") if isinstance(item, dict) else None, "attachments"
                )
                if media_id is None:
                    raise _invalid("Each attachment needs a `media_id`")
                keys.append(self._usable_media(media_id, sender, "dm_").key)
        return text or "", keys

    def _send_dm(
        self, sender: str, conversation: str, text: str, keys: list[str]
    ) -> dict[str, Any]:
        with self._lock:
            event = _Dm(
                id=self._snowflake(),
                conversation_id=conversation,
                sender_id=sender,
                text=text,
                created_at=self.clock.now(),
                media_keys=keys,
            )
            self.dms[event.id] = event
        return {"data": {"dm_conversation_id": conversation, "dm_event_id": event.id}}

    async def _dm_to_participant(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = viewer.user_id
        assert me is not None
        participant = self._id_param(request.path_params["participant_id"], "participant_id")
        text, keys = await self._dm_body(request, me)
        if participant not in self.users:
            raise _Problem(
                404,
                "resource-not-found",
                "Not Found Error",
                f"Could not find user with participant_id: [{participant}].",
                resource_type="user",
                resource_id=participant,
                parameter="participant_id",
                value=participant,
            )
        return 201, self._send_dm(me, self._conversation(me, participant), text, keys)

    async def _dm_to_conversation(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        me = viewer.user_id
        assert me is not None
        conversation = request.path_params["dm_conversation_id"]
        text, keys = await self._dm_body(request, me)
        members = conversation.split("-")
        if len(members) != 2 or not all(_ID.match(m) for m in members):
            raise _invalid(
                f"[{conversation}] is not a valid dm_conversation_id",
                "dm_conversation_id",
                conversation,
            )
        if me not in members or not all(m in self.users for m in members):
            raise _Problem(
                403,
                "not-authorized-for-resource",
                "Forbidden",
                "You are not a participant of this conversation.",
                resource_type="dm_conversation",
                resource_id=conversation,
                parameter="dm_conversation_id",
                value=conversation,
            )
        canonical = self._conversation(members[0], members[1])
        return 201, self._send_dm(me, canonical, text, keys)

    # -- media ------------------------------------------------------------------------------

    def _usable_media(self, media_id: str, user_id: str, prefix: str) -> _Media:
        media = self.media.get(media_id)
        if media is None or media.owner_id != user_id:
            raise _invalid(f"Your media IDs are invalid: [{media_id}]", "media_id", media_id)
        if not media.ready:
            raise _invalid(
                f"Media {media_id} is not ready (state: {media.state or 'not finalized'})",
                "media_id",
                media_id,
            )
        if not media.category.startswith(prefix) and not (
            prefix == "tweet_" and media.category == "amplify_video"
        ):
            raise _invalid(
                f"Media {media_id} was uploaded as {media.category}", "media_id", media_id
            )
        return media

    def _owned_media(self, media_id: str, viewer: _Viewer) -> _Media:
        media = self.media.get(media_id)
        if media is None or media.owner_id != viewer.user_id:
            raise _Problem(
                404,
                "resource-not-found",
                "Not Found Error",
                f"Could not find media with id: [{media_id}].",
                resource_type="media",
                resource_id=media_id,
                parameter="id",
                value=media_id,
            )
        return media

    async def _media_init(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        body = await self._json(request)
        assert viewer.user_id is not None
        allowed = {"media_category", "media_type", "total_bytes", "shared", "additional_owners"}
        if set(body) - allowed:
            raise _invalid(f"Unknown field(s): {', '.join(sorted(set(body) - allowed))}")
        mime = body.get("media_type")
        if not isinstance(mime, str) or mime not in _MEDIA_TYPES:
            raise _invalid(f"Unsupported media_type [{mime}]", "media_type", str(mime))
        kind = _MEDIA_TYPES[mime]
        category = (
            body.get("media_category")
            or {
                "photo": "tweet_image",
                "animated_gif": "tweet_gif",
                "video": "tweet_video",
            }[kind]
        )
        if _CATEGORY_KIND.get(category) != kind:
            raise _invalid(
                f"media_category [{category}] does not fit media_type [{mime}]",
                "media_category",
                str(category),
            )
        total = body.get("total_bytes")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            raise _invalid("`total_bytes` must be a positive integer", "total_bytes", str(total))
        if total > _MAX_BYTES[kind]:
            raise _invalid(
                f"File size exceeds {_MAX_BYTES[kind]} bytes.", "total_bytes", str(total)
            )
        with self._lock:
            media_id = self._snowflake()
            key = f"{_MEDIA_KEY_PREFIX[kind]}_{media_id}"
            self.media[media_id] = _Media(
                id=media_id,
                key=key,
                owner_id=viewer.user_id,
                category=category,
                mime_type=mime,
                total_bytes=total,
                created_at=self.clock.now(),
            )
        return 200, {"data": {"id": media_id, "media_key": key, "expires_after_secs": 86400}}

    async def _media_append(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        media_id = self._id_param(request.path_params["id"], "id")
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            async with request.form() as form:
                index_raw = form.get("segment_index")
                part = form.get("media")
                if isinstance(part, UploadFile):
                    chunk = await part.read()
                elif isinstance(part, str):
                    chunk = _b64(part)
                else:
                    chunk = b""
        else:
            body = await self._json(request)
            index_raw = str(body.get("segment_index", ""))
            chunk = _b64(str(body.get("media", "")))
        if not isinstance(index_raw, str) or not index_raw.isdigit() or int(index_raw) > 999:
            raise _invalid("`segment_index` must be an integer from 0 to 999", "segment_index")
        if not chunk:
            raise _invalid("`media` is required", "media")
        with self._lock:
            media = self._owned_media(media_id, viewer)
            if media.finalized:
                raise _invalid(f"Media {media_id} is finalized already", "id", media_id)
            media.chunks[int(index_raw)] = chunk
            if media.size > media.total_bytes:
                raise _invalid("The segments exceed total_bytes", "media")
        expires = int(time.time()) + 86400
        return 200, {"data": {"expires_at": expires}}

    def _status_data(self, media: _Media) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": media.id,
            "media_key": media.key,
            "size": media.size,
            "expires_after_secs": 86400,
        }
        if media.state is not None:
            info: dict[str, Any] = {"state": media.state}
            if media.state in ("pending", "in_progress"):
                info["check_after_secs"] = self.check_after_secs
            if media.state == "in_progress":
                info["progress_percent"] = min(
                    99, max(1, 100 * media.polls // self.processing_polls)
                )
            elif media.state == "succeeded":
                info["progress_percent"] = 100
            data["processing_info"] = info
            media.states.append(media.state)
        return data

    async def _media_finalize(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        media_id = self._id_param(request.path_params["id"], "id")
        with self._lock:
            media = self._owned_media(media_id, viewer)
            if not media.finalized:
                indexes = sorted(media.chunks)
                if indexes != list(range(len(indexes))) or media.size != media.total_bytes:
                    raise _invalid(
                        f"File size mismatch: {media.size} bytes received in segments "
                        f"{indexes}, total_bytes was {media.total_bytes}",
                        "id",
                        media_id,
                    )
                media.finalized = True
                media.width, media.height = _dimensions_of(media)
                if media.kind != "photo":
                    media.state = "pending"
                    media.fail = self._fail_next_media
                    self._fail_next_media = False
            return 200, {"data": self._status_data(media)}

    async def _media_status(self, request: Request, viewer: _Viewer) -> tuple[int, dict[str, Any]]:
        params = self._query(request, ("media_id", "command"))
        if params.get("command", "STATUS") != "STATUS":
            raise _invalid("`command` must be STATUS", "command", params.get("command"))
        media_id = self._id_param(params.get("media_id", ""), "media_id")
        with self._lock:
            media = self._owned_media(media_id, viewer)
            if not media.finalized:
                raise _invalid(f"Media {media_id} is not finalized", "media_id", media_id)
            if media.state in ("pending", "in_progress"):
                media.polls += 1
                if media.polls < self.processing_polls:
                    media.state = "in_progress"
                else:
                    media.state = "failed" if media.fail else "succeeded"
            return 200, {"data": self._status_data(media)}

    async def _media_metadata(
        self, request: Request, viewer: _Viewer
    ) -> tuple[int, dict[str, Any]]:
        self._query(request, ())
        body = await self._json(request)
        media_id = _optional_id(body.get("id"), "id")
        if media_id is None:
            raise _invalid("`id` is required", "id")
        metadata = body.get("metadata") or {}
        alt = (metadata.get("alt_text") or {}).get("text") if isinstance(metadata, dict) else None
        if alt is not None and (not isinstance(alt, str) or len(alt) > 1000):
            raise _invalid("`alt_text.text` is a string of at most 1000 characters", "alt_text")
        with self._lock:
            media = self._owned_media(media_id, viewer)
            if alt is not None:
                media.alt_text = alt
        return 200, {"data": {"id": media_id, "associated_metadata": metadata}}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


_APP_ONLY = _Problem(
    403,
    "unsupported-authentication",
    "Unsupported Authentication",
    "Authenticating with OAuth 2.0 User Context is forbidden for this endpoint.  Supported "
    "authentication types are [OAuth 2.0 Application-Only].",
)


def _problem_response(problem: _Problem, headers: dict[str, str]) -> Response:
    return JSONResponse(
        problem.body,
        status_code=problem.status,
        headers=headers,
        media_type="application/problem+json",
    )


def _field_error(post_id: str, name: str) -> dict[str, Any]:
    """``not-authorized-for-field`` (NotAuthorizedForFieldProblem), as X answers a request for
    private metrics of a post the caller did not write (or older than 30 days)."""
    return {
        "value": post_id,
        "detail": f"Sorry, you are not authorized to access '{name}' on a Tweet.",
        "field": name,
        "parameter": "post.fields",
        "resource_id": post_id,
        "resource_type": "tweet",
        "section": "data",
        "title": "Field Authorization Error",
        "type": _PROBLEMS + "not-authorized-for-field",
    }


def _snowflake_time(object_id: str) -> datetime:
    return datetime.fromtimestamp(((int(object_id) >> 22) + _X_EPOCH_MS) / 1000, tz=UTC)


def _lang(text: str) -> str:
    """X detects a language; the fake says ``en`` for Latin-script text, ``und`` otherwise."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "zxx"
    latin = sum(1 for c in letters if c.isascii())
    return "en" if latin * 2 >= len(letters) else "und"


def _optional_id(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise _invalid(f"`{name}` must be a numeric id string", name, str(value))
    return value


def _list_of_ids(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        raise _invalid(f"`{name}` must be a non-empty list of ids", name)
    return [i for i in (_optional_id(v, name) for v in value) if i is not None]


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("`media` must be binary or base64", "media") from None


def _tco(url: str) -> str:
    """The t.co link that stands for ``url`` (stable per address, as on X)."""
    digest = hashlib.sha256(url.encode()).hexdigest()
    return "https://t.co/" + base64.b32encode(bytes.fromhex(digest[:20])).decode().lower()[:10]


def _shortened(text: str) -> tuple[str, list[dict[str, Any]]]:
    """``text`` as X shows it, each URL (by twitter-text's rules) replaced by its t.co link,
    and the ``entities.urls`` of those links (``PostEntities.urls``: offsets in the shown
    text, ``expanded_url`` the address written)."""
    pieces: list[str] = []
    urls: list[dict[str, Any]] = []
    last = 0
    length = 0
    for match in extract_urls(text):
        before = text[last : match.start]
        pieces.append(before)
        length += len(before)
        written = text[match.start : match.end]
        short = _tco(written)
        expanded = written if "://" in written else "http://" + written
        display = expanded.split("://", 1)[1]
        urls.append(
            {
                "start": length,
                "end": length + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": display if len(display) <= 26 else display[:25] + "\u2026",
            }
        )
        pieces.append(short)
        length += len(short)
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces), urls


def _cut(
    items: list[tuple[int, str]], params: dict[str, str], size: int
) -> tuple[list[str], dict[str, Any]]:
    """One page of ``items`` (``(key, id)``, keys descending: newest first) after the
    ``pagination_token``, and its ``meta``. The token holds the key of the last item returned,
    so that items added or removed in between neither repeat nor vanish (X's cursors behave
    so)."""
    if "pagination_token" in params:
        cutoff = _decode_token(params["pagination_token"], "pagination_token")
        items = [item for item in items if item[0] < cutoff]
    page = items[:size]
    meta: dict[str, Any] = {"result_count": len(page)}
    if len(items) > size and page:
        meta["next_token"] = _encode_token(str(page[-1][0]))
    return [object_id for _, object_id in page], meta


def _dimensions_of(media: _Media) -> tuple[int | None, int | None]:
    """Width and height of an uploaded image or GIF, read from its header (as X measures
    them); ``None`` for what the header does not tell (videos)."""
    if media.kind == "video" or 0 not in media.chunks:
        return None, None
    from socialkit._errors import MediaError
    from socialkit._models import Media

    try:
        probe = Media.from_bytes(media.chunks[0][:262], mime_type=media.mime_type)
    except MediaError:
        return None, None
    return probe.width, probe.height
