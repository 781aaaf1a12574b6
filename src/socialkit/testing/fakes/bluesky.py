"""A fake Bluesky: a PDS with an AppView and a chat service behind it, as bsky.social behaves.

:class:`FakeBluesky` answers XRPC (``/xrpc/<nsid>``) with the request and response shapes of the
official lexicons (bluesky-social/atproto ``lexicons/``), in memory:

- sessions: ``com.atproto.server.createSession`` (the password of :meth:`FakeBluesky.settings`),
  ``refreshSession`` (refresh JWTs rotate), ``getSession``, ``deleteSession``; HS256 JWTs with an
  ``exp`` claim; an expired or revoked access JWT answers ``400 ExpiredToken``
  (:meth:`FakeBluesky.expire_sessions` expires every session at once);
- the repository: ``com.atproto.repo.createRecord`` (a client-chosen record key is honoured: a
  second create at the same key creates nothing and answers 500, as the reference PDS does),
  ``deleteRecord``, ``getRecord``, ``listRecords`` (record-key cursor), ``uploadBlob``;
  ``com.atproto.identity.resolveHandle``;
- the AppView (``app.bsky.*``): ``actor.getProfile``, ``feed.getAuthorFeed`` (keyset cursor;
  reposts with ``reasonRepost``), ``feed.getPosts`` (like/repost/reply/quote/bookmark counts,
  embed views), ``feed.searchPosts``, ``notification.listNotifications`` (mention, reply, quote,
  like, repost, follow) and ``updateSeen``;
- the chat service (``chat.bsky.convo.listConvos/getMessages/sendMessage``), reached only with
  the header ``atproto-proxy: did:web:api.bsky.chat#bsky_chat`` as through bsky.social;
- rate limits as the reference PDS sends them (``ratelimit-limit``, ``-remaining``, ``-reset``
  in Unix seconds, ``-policy`` ``N;w=S``): a global bucket per client, ``createSession`` per
  account, repository writes per account (points: create 3, delete 1); beyond a limit ``429``
  with ``{"error": "RateLimitExceeded"}``.

Images have no processing states on Bluesky: a blob is usable as soon as ``uploadBlob`` answers,
and the image view's ``thumb``/``fullsize`` URLs are served by the fake (``/img/…``).

Content times (``indexedAt``, ``createdAt`` of the audience's records, ``sentAt``) come from
``fake.clock``; token expiry and rate-limit windows use real time.

Example::

    fake = FakeBluesky()
    async with fake.connect() as net:            # the real BlueskyAdapter
        post = await net.publish(Post(text="hello"))
    fan = fake.add_user("fan")
    fake.like(post.id, fan)
    fake.mention(fan, "@owner what do you think?")
    fake.direct(fan, "psst")
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
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
from socialkit.testing.fakes._bluesky_wire import (
    ACCESS_SCOPE,
    REFRESH_SCOPE,
    XrpcError,
    encode_tid,
    is_handle,
    is_nsid,
    is_record_key,
    is_tid,
    iso,
    jwt_decode,
    jwt_encode,
    make_cid,
    make_did,
    parse_datetime,
    record_cid,
)
from socialkit.text import count_graphemes, detect_facets, facet_records

__all__ = ["FakeBluesky"]

UTC = timezone.utc

POST = "app.bsky.feed.post"
LIKE = "app.bsky.feed.like"
REPOST = "app.bsky.feed.repost"
FOLLOW = "app.bsky.graph.follow"
BLOCK = "app.bsky.graph.block"
THREADGATE = "app.bsky.feed.threadgate"
LIST = "app.bsky.graph.list"
LISTITEM = "app.bsky.graph.listitem"
GENERATOR = "app.bsky.feed.generator"
#: Collections whose records the fake validates (their lexicon's key type is ``tid``).
KNOWN_COLLECTIONS = frozenset({POST, LIKE, REPOST, FOLLOW, BLOCK, THREADGATE})
MAX_HIDDEN_REPLIES = 300  # app.bsky.feed.threadgate hiddenReplies maxLength

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
APPVIEW_SUFFIX = "#bsky_appview"
#: ".test" is the reserved testing TLD (RFC 2606) that AT Protocol handles may use; socialkit's
#: facet detection (like the official one) only links handles with a known TLD or ".test".
HANDLE_DOMAIN = "bsky.test"
SERVICE_DID = "did:web:bsky.fake"

# Limits from the lexicons and the reference PDS.
MAX_POST_GRAPHEMES = 300  # app.bsky.feed.post text maxGraphemes
MAX_POST_BYTES = 3000  # app.bsky.feed.post text maxLength
MAX_IMAGES = 4  # app.bsky.embed.images images maxLength
IMAGE_MAX_SIZE = 2_000_000  # app.bsky.embed.images#image image maxSize
VIDEO_MAX_SIZE = 300_000_000  # app.bsky.embed.video#main video maxSize
MAX_LANGS = 3  # app.bsky.feed.post langs maxLength
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts uris maxLength
DM_MAX_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput text maxGraphemes
DM_MAX_BYTES = 10000  # chat.bsky.convo.defs#messageInput text maxLength
BLOB_LIMIT = 5 * 1024 * 1024  # the reference PDS's default blobUploadLimit
WRITE_POINTS = {"create": 3, "update": 2, "delete": 1}  # repo-write points per operation

_MENTION_SHORT = re.compile(r"(?<![\w@.])@([a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]|[a-zA-Z0-9])")
_IMAGE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


# -- state -----------------------------------------------------------------------------------------


@dataclass
class _Record:
    uri: str
    did: str
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]
    indexed_ms: int


@dataclass
class _Notification:
    recipient: str
    reason: str
    record: _Record
    subject: str | None


@dataclass
class _ChatMessage:
    id: str
    rev: str
    sender: str
    text: str
    facets: list[dict[str, Any]] | None
    sent_at: datetime


@dataclass
class _Convo:
    id: str
    members: list[str]
    rev: str
    messages: list[_ChatMessage] = field(default_factory=list)
    read: dict[str, str] = field(default_factory=dict)  # member DID -> last rev read


@dataclass
class _Call:
    """One XRPC request as the handlers see it."""

    nsid: str
    request: Request
    body: bytes
    did: str | None
    base: str
    headers: dict[str, str]

    def param(self, name: str, *, required: bool = False) -> str | None:
        values = self.request.query_params.getlist(name)
        if not values:
            if required:
                raise XrpcError(
                    400, "InvalidRequest", f'Error: Params must have the property "{name}"'
                )
            return None
        if len(values) > 1:
            raise XrpcError(400, "InvalidRequest", f"Error: {name} must not be an array")
        return values[0]

    def params(self, name: str) -> list[str]:
        return list(self.request.query_params.getlist(name))

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        text = self.param(name)
        if text is None:
            return default
        if not re.fullmatch(r"-?[0-9]+", text):
            raise XrpcError(400, "InvalidRequest", f"Error: {name} must be an integer")
        value = int(text)
        if value < low:
            raise XrpcError(400, "InvalidRequest", f"Error: {name} can not be less than {low}")
        if value > high:
            raise XrpcError(400, "InvalidRequest", f"Error: {name} can not be greater than {high}")
        return value

    def boolean(self, name: str) -> bool | None:
        text = self.param(name)
        if text is None:
            return None
        if text not in ("true", "false"):
            raise XrpcError(400, "InvalidRequest", f"Error: {name} must be a boolean")
        return text == "true"

    def json(self) -> dict[str, Any]:
        kind = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise XrpcError(
                400, "InvalidRequest", f"Wrong request encoding (Content-Type): {kind or 'none'}"
            )
        try:
            value = json.loads(self.body)
        except ValueError:
            raise XrpcError(400, "InvalidRequest", "Request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise XrpcError(400, "InvalidRequest", "Input must be an object")
        return value

    @property
    def caller(self) -> str:
        assert self.did is not None
        return self.did


Auth = Literal["none", "optional", "access", "refresh"]
Handler = Callable[[_Call], Any]


def _input_str(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise XrpcError(400, "InvalidRequest", f'Input must have the property "{name}"')
        return None
    if not isinstance(value, str):
        raise XrpcError(400, "InvalidRequest", f"Input/{name} must be a string")
    return value


def _bad_record(collection: str, message: str) -> XrpcError:
    return XrpcError(400, "InvalidRequest", f"Invalid {collection} record: {message}")


def _strong_ref(value: Any, where: str, collection: str) -> str:
    if not isinstance(value, dict):
        raise _bad_record(collection, f"{where} must be an object")
    uri, cid = value.get("uri"), value.get("cid")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise _bad_record(collection, f"{where}/uri must be a valid at-uri")
    if not isinstance(cid, str) or not cid:
        raise _bad_record(collection, f"{where}/cid must be a cid string")
    return uri


def _split_uri(uri: str) -> tuple[str, str, str] | None:
    if not uri.startswith("at://"):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


class FakeBluesky(FakeNetwork):
    """A stateful, in-process Bluesky (PDS + AppView + chat). See the module docstring."""

    name: ClassVar[str] = "bluesky"
    default_base_url: ClassVar[str] = "https://bsky.fake"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        password: str = "fake-app-pass-word",  # noqa: S107 - a fake's known test password
        rate_limit: int = 3000,
        rate_window: float = 300.0,
        login_limit: int = 30,
        login_window: float = 300.0,
        write_limit: int = 5000,
        write_window: float = 3600.0,
        token_lifetime: float = 900.0,
        appview: bool = True,
    ) -> None:
        """``rate_limit`` requests per ``rate_window`` seconds in the global bucket (the
        documented 3,000 per 5 minutes), ``login_limit`` createSession calls per account and
        ``login_window`` (30 per 5 minutes), ``write_limit`` repository-write points per account
        and ``write_window`` (5,000 per hour). Access JWTs live ``token_lifetime`` seconds (the
        adapter refreshes a minute before). ``appview=False`` imitates a PDS without an AppView
        or chat service (``app.bsky.*`` and ``chat.bsky.*`` answer "No service configured")."""
        if token_lifetime <= 0:
            raise ValueError("token_lifetime must be positive")
        if not password:
            raise ValueError("the owner needs a password")
        # Set before FakeNetwork.__init__, which creates the owner through add_user.
        self._secret = os.urandom(32)
        self._owner_password = password
        self.token_lifetime = token_lifetime
        self.appview = appview
        self.global_limiter = RateLimiter(rate_limit, rate_window)
        self.login_limiter = RateLimiter(login_limit, login_window)
        self.write_limiter = RateLimiter(write_limit, write_window)
        self._records: dict[str, _Record] = {}
        self._repos: dict[str, dict[str, dict[str, _Record]]] = {}
        self._blobs: dict[str, tuple[str, bytes]] = {}
        self._notifications: list[_Notification] = []
        self._seen: dict[str, datetime] = {}
        self._convos: dict[str, _Convo] = {}
        self._likes: dict[str, set[str]] = {}
        self._reposts: dict[str, set[str]] = {}
        self._replies: dict[str, set[str]] = {}
        self._quotes: dict[str, set[str]] = {}
        self._bookmarks: dict[str, set[str]] = {}
        self._mutes: dict[str, set[str]] = {}  # muter DID -> muted DIDs (private: AppView only)
        self._preferences: dict[str, list[dict[str, Any]]] = {}
        self._generator_queries: dict[str, str] = {}  # feed generator URI -> the words it serves
        self._access: set[str] = set()  # live access JWT ids
        self._refresh: dict[str, str] = {}  # live refresh JWT id -> DID
        self._last_ms = 0
        self._last_tid = 0
        self._app: Starlette | None = None
        self._token_store = MemoryStore()
        self.logins = 0
        self.refreshes = 0
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self._clock_id = self.random.randrange(1024)

    # -- identities --------------------------------------------------------------------------------

    def new_user_id(self, handle: str) -> str:
        """A did:plc DID (derived from the handle, so it is stable across runs)."""
        return make_did(self.full_handle(handle))

    def full_handle(self, handle: str) -> str:
        """``name`` -> ``name.bsky.test``; a handle with a domain already is kept (lower case)."""
        text = handle.strip().lstrip("@").lower()
        if "." in text and is_handle(text):
            return text
        label = re.sub(r"[^a-z0-9-]+", "-", text).strip("-")[:63] or "user"
        return f"{label}.{HANDLE_DOMAIN}"

    def add_user(
        self, handle: str, *, name: str | None = None, followers: int = 0, following: int = 0
    ) -> FakeUser:
        """Create an account; its handle (``handle.bsky.test``) must be new on this fake."""
        with self._lock:
            user = super().add_user(handle, name=name, followers=followers, following=following)
            user.extra.setdefault("created_at", self.clock.now())
            self._repos.setdefault(user.id, {})
            return user

    def password_of(self, user: FakeUser) -> str:
        """The app password ``user`` signs in with (the owner's is the constructor's)."""
        if user.id == self.owner.id:
            return self._owner_password
        digest = hmac.new(self._secret, user.id.encode(), hashlib.sha256).hexdigest()
        return "-".join(digest[i : i + 4] for i in range(0, 16, 4))

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"rate_limit": UNLIMITED, "login_limit": UNLIMITED, "write_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` (its at:// URI)."""
        if method != "POST" or path != "/xrpc/com.atproto.repo.createRecord":
            return None
        body = request_fields(request_body)
        if body.get("collection") != "app.bsky.feed.post" or not isinstance(answer, dict):
            return None
        record = body.get("record") or {}
        return str(answer.get("uri")), record.get("text"), "post"

    def settings(self, user: FakeUser | None = None) -> dict[str, Any]:
        """Settings of the real adapter signed in as the owner (or ``user``) on this fake. The
        session is kept in one in-memory store per fake, so every ``connect()`` reuses it."""
        who = user or self.owner
        return {
            "service": self.base_url,
            "identifier": who.handle,
            "password": SecretStr(self.password_of(who)),
            "store": self._token_store,
        }

    def _actor(self, actor: str) -> FakeUser:
        text = actor.strip().lstrip("@").lower()
        for user in self.users.values():
            if text in (user.id, user.handle):
                return user
        raise KeyError(actor)

    # -- times, keys, records -------------------------------------------------------------------

    def _stamp(self) -> int:
        """A content time in ms from the clock, strictly increasing across the fake."""
        with self._lock:
            now = int(self.clock.now().timestamp() * 1000)
            self._last_ms = max(now, self._last_ms + 1)
            return self._last_ms

    def _tid(self) -> str:
        """A new TID on the clock's time (record keys, chat ids, revisions)."""
        with self._lock:
            micros = int(self.clock.now().timestamp() * 1_000_000)
            self._last_tid = max(micros, self._last_tid + 1)
            return encode_tid(self._last_tid, self._clock_id)

    @staticmethod
    def _time(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    def _put(self, did: str, collection: str, value: dict[str, Any], rkey: str | None) -> _Record:
        """Store a record and index it (counts, notifications). The caller validated it."""
        with self._lock:
            repo = self._repos.setdefault(did, {}).setdefault(collection, {})
            key = rkey or self._tid()
            if key in repo:
                # The reference PDS answers a create at an existing key with a 500 (a unique
                # constraint fails in its repository); nothing is written.
                raise XrpcError(500, "InternalServerError", "Internal Server Error")
            record = _Record(
                uri=f"at://{did}/{collection}/{key}",
                did=did,
                collection=collection,
                rkey=key,
                cid=record_cid(value),
                value=value,
                indexed_ms=self._stamp(),
            )
            repo[key] = record
            self._records[record.uri] = record
            self._index(record)
            return record

    def _index(self, record: _Record) -> None:
        value, author = record.value, record.did
        if record.collection == POST:
            notified: set[str] = {author}
            reply = value.get("reply")
            if isinstance(reply, dict):
                parent_uri = (reply.get("parent") or {}).get("uri")
                root_uri = (reply.get("root") or {}).get("uri")
                if isinstance(parent_uri, str):
                    self._replies.setdefault(parent_uri, set()).add(record.uri)
                for uri in (parent_uri, root_uri):
                    target = self._records.get(uri) if isinstance(uri, str) else None
                    if target is not None and target.did not in notified:
                        notified.add(target.did)
                        self._notify(target.did, "reply", record, parent_uri)
            quoted = _quoted_uri(value)
            if quoted is not None:
                self._quotes.setdefault(quoted, set()).add(record.uri)
                target = self._records.get(quoted)
                if target is not None and target.did not in notified:
                    notified.add(target.did)
                    self._notify(target.did, "quote", record, quoted)
            for did in _mentioned(value):
                if did not in notified and did in self.users:
                    notified.add(did)
                    self._notify(did, "mention", record, None)
        elif record.collection in (LIKE, REPOST):
            subject = (value.get("subject") or {}).get("uri")
            if isinstance(subject, str):
                index = self._likes if record.collection == LIKE else self._reposts
                index.setdefault(subject, set()).add(record.uri)
                target = self._records.get(subject)
                if target is not None and target.did != author:
                    reason = "like" if record.collection == LIKE else "repost"
                    self._notify(target.did, reason, record, subject)
        elif record.collection == FOLLOW:
            subject = value.get("subject")
            if isinstance(subject, str) and subject != author and subject in self.users:
                self._notify(subject, "follow", record, None)

    def _unindex(self, record: _Record) -> None:
        for index in (self._likes, self._reposts, self._replies, self._quotes):
            for uris in index.values():
                uris.discard(record.uri)
        self._notifications = [n for n in self._notifications if n.record.uri != record.uri]

    def _notify(self, recipient: str, reason: str, record: _Record, subject: str | None) -> None:
        self._notifications.append(_Notification(recipient, reason, record, subject))

    def _delete(self, record: _Record) -> None:
        with self._lock:
            self._repos[record.did][record.collection].pop(record.rkey, None)
            self._records.pop(record.uri, None)
            self._unindex(record)

    def _find_post(self, post_id: str) -> _Record:
        """A post by AT-URI (DID or handle), bsky.app URL or record key."""
        text = post_id.strip()
        if text.startswith("https://bsky.app/profile/"):
            bits = text[len("https://bsky.app/profile/") :].split("/")
            if len(bits) == 3 and bits[1] == "post":
                text = f"at://{bits[0]}/{POST}/{bits[2]}"
        parts = _split_uri(text)
        with self._lock:
            if parts is not None:
                try:
                    did = self._actor(parts[0]).id
                except KeyError:
                    raise KeyError(post_id) from None
                record = self._records.get(f"at://{did}/{parts[1]}/{parts[2]}")
                if record is not None and record.collection == POST:
                    return record
                raise KeyError(post_id)
            for record in self._records.values():
                if record.collection == POST and record.rkey == text:
                    return record
        raise KeyError(post_id)

    # -- the audience ------------------------------------------------------------------------------

    def _post_value(self, user: FakeUser, text: str, **extra: Any) -> dict[str, Any]:
        """A post record as the official app writes it: mentions of this fake's users written
        with their full handle, mention and link facets, ``createdAt`` from the clock."""

        def full(match: re.Match[str]) -> str:
            try:
                return "@" + self._actor(self.full_handle(match.group(1))).handle
            except KeyError:
                return match.group(0)

        text = _MENTION_SHORT.sub(full, text)
        spans = detect_facets(text)
        dids = {u.handle: u.id for u in self.users.values()}
        value: dict[str, Any] = {"$type": POST, "text": text}
        facets = facet_records(spans, dids)
        if facets:
            value["facets"] = facets
        value.update(extra)
        value["createdAt"] = iso(self.clock.now())
        return value

    def _check_user(self, user: FakeUser) -> None:
        if self.users.get(user.id) is not user:
            raise ValueError(f"{user.handle} is not a user of this fake")

    def _author_text(self, user: FakeUser, text: str) -> None:
        self._check_user(user)
        if count_graphemes(text) > MAX_POST_GRAPHEMES or len(text.encode()) > MAX_POST_BYTES:
            raise ValueError(f"a post is at most {MAX_POST_GRAPHEMES} graphemes")

    def publish_as(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a post (mentions and links get facets); returns its AT-URI."""
        self._author_text(user, text)
        self.clock.tick()
        return self._put(user.id, POST, self._post_value(user, text), None).uri

    def like(self, post_id: str, user: FakeUser) -> None:
        """``user`` likes a post (an app.bsky.feed.like record; once per user and post)."""
        self._subject_record(LIKE, post_id, user)

    def repost(self, post_id: str, user: FakeUser) -> None:
        """``user`` reposts a post (an app.bsky.feed.repost record; once per user and post)."""
        self._subject_record(REPOST, post_id, user)

    def _subject_record(self, collection: str, post_id: str, user: FakeUser) -> None:
        self._check_user(user)
        with self._lock:
            target = self._find_post(post_id)
            index = self._likes if collection == LIKE else self._reposts
            if any(self._records[u].did == user.id for u in index.get(target.uri, ())):
                return  # the app lets each account like (repost) a post once
            self.clock.tick()
            value = {
                "$type": collection,
                "subject": {"uri": target.uri, "cid": target.cid},
                "createdAt": iso(self.clock.now()),
            }
            self._put(user.id, collection, value, None)

    def bookmark(self, post_id: str, user: FakeUser) -> None:
        """``user`` bookmarks a post (private on Bluesky; only ``bookmarkCount`` moves)."""
        self._check_user(user)
        with self._lock:
            self._bookmarks.setdefault(self._find_post(post_id).uri, set()).add(user.id)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` replies to a post (root and parent refs); returns the reply's AT-URI."""
        self._author_text(user, text)
        with self._lock:
            parent = self._find_post(post_id)
            parent_ref = {"uri": parent.uri, "cid": parent.cid}
            parent_reply = parent.value.get("reply")
            root = parent_reply.get("root") if isinstance(parent_reply, dict) else None
            refs = {"root": root if isinstance(root, dict) else parent_ref, "parent": parent_ref}
            self.clock.tick()
            return self._put(user.id, POST, self._post_value(user, text, reply=refs), None).uri

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` quotes a post (an app.bsky.embed.record embed); returns the quote's AT-URI."""
        self._author_text(user, text)
        with self._lock:
            target = self._find_post(post_id)
            embed = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": target.uri, "cid": target.cid},
            }
            self.clock.tick()
            return self._put(user.id, POST, self._post_value(user, text, embed=embed), None).uri

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a post mentioning the owner (``@owner`` in ``text`` becomes the
        full handle; without a mention of the owner, one is put first); returns its AT-URI."""
        owner = self.owner.handle
        short = owner.split(".")[0]
        if not re.search(rf"@({re.escape(owner)}|{re.escape(short)})(?![\w.-])", text, re.I):
            text = f"@{owner} {text}"
        return self.publish_as(user, text)

    def direct(self, user: FakeUser, text: str) -> str:
        """``user`` sends the owner a direct message (in their one-to-one conversation);
        returns the message id."""
        self._check_user(user)
        if user.id == self.owner.id:
            raise ValueError("the owner cannot message itself")
        if not text.strip() or count_graphemes(text) > DM_MAX_GRAPHEMES:
            raise ValueError(f"a direct message has 1 to {DM_MAX_GRAPHEMES} graphemes")
        self.clock.tick()
        with self._lock:
            convo = self._convo_between(user.id, self.owner.id)
            return self._send(convo, user.id, text, None).id

    def follow(self, follower: FakeUser, followee: FakeUser | None = None) -> None:
        """``follower`` follows ``followee`` (default: the owner) with an app.bsky.graph.follow
        record: followersCount moves, and the owner's ``following(...)`` / ``followers()``
        list it."""
        self._check_user(follower)
        subject = (followee or self.owner).id
        with self._lock:
            follows = self._repos.get(follower.id, {}).get(FOLLOW, {}).values()
            if any(r.value.get("subject") == subject for r in follows):
                return
            self.clock.tick()
            value = {"$type": FOLLOW, "subject": subject, "createdAt": iso(self.clock.now())}
            self._put(follower.id, FOLLOW, value, None)

    def add_list(
        self, user: FakeUser, name: str, members: list[FakeUser], *, description: str = ""
    ) -> str:
        """``user`` makes a curated list (app.bsky.graph.list with listitem records) of
        ``members``; returns the list's AT-URI (its posts: ``getListFeed``)."""
        self._check_user(user)
        with self._lock:
            self.clock.tick()
            value: dict[str, Any] = {
                "$type": LIST,
                "purpose": "app.bsky.graph.defs#curatelist",
                "name": name,
                "createdAt": iso(self.clock.now()),
            }
            if description:
                value["description"] = description
            listed = self._put(user.id, LIST, value, None)
            for member in members:
                self._check_user(member)
                item = {
                    "$type": LISTITEM,
                    "subject": member.id,
                    "list": listed.uri,
                    "createdAt": iso(self.clock.now()),
                }
                self._put(user.id, LISTITEM, item, None)
            return listed.uri

    def add_feed_generator(
        self, user: FakeUser, name: str, *, matching: str, description: str = ""
    ) -> str:
        """``user`` publishes a feed generator (an app.bsky.feed.generator record) whose feed
        is every post containing ``matching`` (case-insensitive), newest first; returns its
        AT-URI (its posts: ``getFeed``)."""
        self._check_user(user)
        with self._lock:
            self.clock.tick()
            value: dict[str, Any] = {
                "$type": GENERATOR,
                "did": SERVICE_DID,
                "displayName": name,
                "createdAt": iso(self.clock.now()),
            }
            if description:
                value["description"] = description
            made = self._put(user.id, GENERATOR, value, None)
            self._generator_queries[made.uri] = matching.casefold()
            return made.uri

    def save_feed(self, user: FakeUser, feed_uri: str) -> None:
        """``user`` saves a feed generator (the savedFeedsPrefV2 preference of the app)."""
        self._check_user(user)
        with self._lock:
            prefs = self._preferences.setdefault(user.id, [])
            saved = next(
                (p for p in prefs if p["$type"] == "app.bsky.actor.defs#savedFeedsPrefV2"), None
            )
            if saved is None:
                saved = {"$type": "app.bsky.actor.defs#savedFeedsPrefV2", "items": []}
                prefs.append(saved)
            if all(item["value"] != feed_uri for item in saved["items"]):
                saved["items"].append(
                    {"id": self._tid(), "type": "feed", "value": feed_uri, "pinned": False}
                )

    def has(self, relation: str, subject: str, target: str) -> bool:
        """Whether user ``subject`` (a DID) has ``relation`` with ``target``: ``like``,
        ``repost``, ``bookmark`` take a post (AT-URI, bsky.app URL or record key), ``follow``,
        ``block`` and ``mute`` a DID, ``hide`` a reply's AT-URI (``subject`` started the
        thread)."""
        if relation not in self.RELATIONS:
            raise ValueError(
                f"unknown relation {relation!r}; expected one of {sorted(self.RELATIONS)}"
            )
        with self._lock:
            if relation in ("like", "repost", "bookmark"):
                try:
                    uri = self._find_post(target).uri
                except KeyError:
                    return False
                if relation == "bookmark":
                    return subject in self._bookmarks.get(uri, set())
                index = self._likes if relation == "like" else self._reposts
                return any(self._records[u].did == subject for u in index.get(uri, ()))
            if relation in ("follow", "block"):
                collection = FOLLOW if relation == "follow" else BLOCK
                records = self._repos.get(subject, {}).get(collection, {}).values()
                return any(r.value.get("subject") == target for r in records)
            if relation == "mute":
                return target in self._mutes.get(subject, set())
            gates = self._repos.get(subject, {}).get(THREADGATE, {}).values()
            return any(target in (g.value.get("hiddenReplies") or []) for g in gates)

    def expire_sessions(self) -> None:
        """Every access JWT issued so far answers ``ExpiredToken`` from now on (refresh JWTs
        stay valid), as when access tokens reach their ``exp``."""
        with self._lock:
            self._access.clear()

    # -- inspection (for tests) -----------------------------------------------------------------

    def record(self, uri: str) -> dict[str, Any]:
        """The stored value of a record (KeyError when there is none)."""
        with self._lock:
            return dict(self._records[uri].value)

    def records(self, user: FakeUser, collection: str = POST) -> list[dict[str, Any]]:
        """``user``'s records of ``collection``, oldest record key first, with their URIs."""
        with self._lock:
            repo = self._repos.get(user.id, {}).get(collection, {})
            return [{"uri": r.uri, "value": r.value} for _, r in sorted(repo.items())]

    def conversation(self, user: FakeUser) -> list[tuple[str, str]]:
        """``(sender handle, text)`` of the messages between ``user`` and the owner, oldest
        first."""
        with self._lock:
            convo = self._convo_between(user.id, self.owner.id)
            return [(self.users[m.sender].handle, m.text) for m in convo.messages]

    # -- chat state --------------------------------------------------------------------------------

    def _convo_between(self, a: str, b: str) -> _Convo:
        members = sorted({a, b})
        for convo in self._convos.values():
            if sorted(convo.members) == members:
                return convo
        convo_id = self._tid()
        convo = _Convo(id=convo_id, members=members, rev=convo_id)
        self._convos[convo.id] = convo
        return convo

    def _send(
        self, convo: _Convo, sender: str, text: str, facets: list[dict[str, Any]] | None
    ) -> _ChatMessage:
        rev = self._tid()
        message = _ChatMessage(
            id=rev, rev=rev, sender=sender, text=text, facets=facets, sent_at=self.clock.now()
        )
        convo.messages.append(message)
        convo.rev = rev
        convo.read[sender] = rev
        return message

    # -- views -------------------------------------------------------------------------------------

    def _profile_basic(self, did: str, viewer: str | None = None) -> dict[str, Any]:
        user = self.users[did]
        out: dict[str, Any] = {
            "did": user.id,
            "handle": user.handle,
            "displayName": user.name,
            "labels": [],
            "createdAt": iso(user.extra.get("created_at", self.clock.now())),
        }
        if viewer is not None:
            out["viewer"] = self._actor_viewer(did, viewer)
        return out

    def _relation(self, author: str, collection: str, subject: str) -> str | None:
        """The AT-URI of ``author``'s ``collection`` record about DID ``subject``, if any."""
        for record in self._repos.get(author, {}).get(collection, {}).values():
            if record.value.get("subject") == subject:
                return record.uri
        return None

    def _actor_viewer(self, did: str, viewer: str) -> dict[str, Any]:
        """app.bsky.actor.defs#viewerState of ``viewer`` about ``did``."""
        state: dict[str, Any] = {
            "muted": did in self._mutes.get(viewer, set()),
            "blockedBy": self._relation(did, BLOCK, viewer) is not None,
        }
        for key, author, collection, subject in (
            ("following", viewer, FOLLOW, did),
            ("followedBy", did, FOLLOW, viewer),
            ("blocking", viewer, BLOCK, did),
        ):
            uri = self._relation(author, collection, subject)
            if uri is not None:
                state[key] = uri
        return state

    def _profile_view(self, did: str, viewer: str | None = None) -> dict[str, Any]:
        user = self.users[did]
        return {
            **self._profile_basic(did, viewer),
            "description": str(user.extra.get("description", "")),
            "indexedAt": iso(user.extra.get("created_at", self.clock.now())),
        }

    def _profile_detailed(self, did: str, viewer: str | None = None) -> dict[str, Any]:
        user = self.users[did]
        follows = [r for repo in self._repos.values() for r in repo.get(FOLLOW, {}).values()]
        return {
            **self._profile_view(did, viewer),
            "followersCount": user.followers
            + sum(1 for r in follows if r.value.get("subject") == did),
            "followsCount": user.following + sum(1 for r in follows if r.did == did),
            "postsCount": len(self._repos.get(did, {}).get(POST, {})),
        }

    def _counts(self, uri: str) -> dict[str, int]:
        return {
            "replyCount": len(self._replies.get(uri, ())),
            "repostCount": len(self._reposts.get(uri, ())),
            "likeCount": len(self._likes.get(uri, ())),
            "quoteCount": len(self._quotes.get(uri, ())),
        }

    def _post_view(self, record: _Record, base: str, viewer: str | None) -> dict[str, Any]:
        view: dict[str, Any] = {
            "uri": record.uri,
            "cid": record.cid,
            "author": self._profile_basic(record.did),
            "record": record.value,
            **self._counts(record.uri),
            "bookmarkCount": len(self._bookmarks.get(record.uri, ())),
            "indexedAt": iso(self._time(record.indexed_ms)),
            "labels": self._self_labels(record),
        }
        embed = self._embed_view(record.value.get("embed"), record.did, base)
        if embed is not None:
            view["embed"] = embed
        state: dict[str, Any] = {}
        if viewer is not None:
            for key, index in (("like", self._likes), ("repost", self._reposts)):
                mine = [u for u in index.get(record.uri, ()) if self._records[u].did == viewer]
                if mine:
                    state[key] = mine[0]
            state["bookmarked"] = viewer in self._bookmarks.get(record.uri, set())
        view["viewer"] = state
        return view

    def _self_labels(self, record: _Record) -> list[dict[str, Any]]:
        labels = record.value.get("labels")
        if not isinstance(labels, dict):
            return []
        created = iso(self._time(record.indexed_ms))
        return [
            {
                "src": record.did,
                "uri": record.uri,
                "cid": record.cid,
                "val": item["val"],
                "cts": created,
            }
            for item in labels.get("values") or []
            if isinstance(item, dict) and isinstance(item.get("val"), str)
        ]

    def _blob_url(self, base: str, preset: str, did: str, blob: Any) -> str | None:
        if not isinstance(blob, dict):
            return None
        ref = blob.get("ref")
        cid = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")
        if not isinstance(cid, str):
            return None
        return f"{base}/img/{preset}/plain/{did}/{cid}@jpeg"

    def _embed_view(self, embed: Any, did: str, base: str) -> dict[str, Any] | None:
        if not isinstance(embed, dict):
            return None
        kind = embed.get("$type")
        if kind == "app.bsky.embed.images":
            images = []
            for image in embed.get("images") or []:
                thumb = self._blob_url(base, "feed_thumbnail", did, image.get("image"))
                full = self._blob_url(base, "feed_fullsize", did, image.get("image"))
                if thumb is None or full is None:
                    continue
                item: dict[str, Any] = {
                    "thumb": thumb,
                    "fullsize": full,
                    "alt": image.get("alt", ""),
                }
                if isinstance(image.get("aspectRatio"), dict):
                    item["aspectRatio"] = image["aspectRatio"]
                images.append(item)
            return {"$type": "app.bsky.embed.images#view", "images": images}
        if kind == "app.bsky.embed.video":
            cid = _dict(_dict(embed.get("video")).get("ref")).get("$link")
            if not isinstance(cid, str):
                return None
            video: dict[str, Any] = {
                "$type": "app.bsky.embed.video#view",
                "cid": cid,
                "playlist": f"{base}/watch/{did}/{cid}/playlist.m3u8",
                "thumbnail": f"{base}/watch/{did}/{cid}/thumbnail.jpg",
            }
            for key in ("alt", "aspectRatio", "presentation"):
                if embed.get(key) is not None:
                    video[key] = embed[key]
            return video
        if kind == "app.bsky.embed.external":
            external = embed.get("external") or {}
            out: dict[str, Any] = {
                "uri": external.get("uri", ""),
                "title": external.get("title", ""),
                "description": external.get("description", ""),
            }
            thumb = self._blob_url(base, "feed_thumbnail", did, external.get("thumb"))
            if thumb is not None:
                out["thumb"] = thumb
            return {"$type": "app.bsky.embed.external#view", "external": out}
        if kind == "app.bsky.embed.record":
            return {"$type": "app.bsky.embed.record#view", **self._record_view(embed, base)}
        if kind == "app.bsky.embed.recordWithMedia":
            media = self._embed_view(embed.get("media"), did, base)
            inner = _dict(embed.get("record"))
            view: dict[str, Any] = {
                "$type": "app.bsky.embed.recordWithMedia#view",
                "record": {"$type": "app.bsky.embed.record#view", **self._record_view(inner, base)},
            }
            if media is not None:
                view["media"] = media
            return view
        return None

    def _record_view(self, embed: dict[str, Any], base: str) -> dict[str, Any]:
        ref = _dict(embed.get("record"))
        uri = str(ref.get("uri", ""))
        target = self._records.get(uri)
        if target is None:
            return {
                "record": {
                    "$type": "app.bsky.embed.record#viewNotFound",
                    "uri": uri,
                    "notFound": True,
                }
            }
        counts = self._counts(uri)
        return {
            "record": {
                "$type": "app.bsky.embed.record#viewRecord",
                "uri": target.uri,
                "cid": target.cid,
                "author": self._profile_basic(target.did),
                "value": target.value,
                "labels": self._self_labels(target),
                **counts,
                "indexedAt": iso(self._time(target.indexed_ms)),
            }
        }

    def _feed_ref(self, uri: Any, base: str, viewer: str | None) -> dict[str, Any]:
        target = self._records.get(uri) if isinstance(uri, str) else None
        if target is None:
            return {"$type": "app.bsky.feed.defs#notFoundPost", "uri": str(uri), "notFound": True}
        return {"$type": "app.bsky.feed.defs#postView", **self._post_view(target, base, viewer)}

    def _message_view(self, message: _ChatMessage, *, typed: bool) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": message.id,
            "rev": message.rev,
            "text": message.text,
            "sender": {"did": message.sender},
            "sentAt": iso(message.sent_at),
        }
        if message.facets:
            view["facets"] = message.facets
        if typed:
            view = {"$type": "chat.bsky.convo.defs#messageView", **view}
        return view

    def _chat_profile(self, did: str) -> dict[str, Any]:
        user = self.users[did]
        return {"did": user.id, "handle": user.handle, "displayName": user.name, "labels": []}

    # -- the ASGI app ------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            self._app = Starlette(
                routes=[
                    Route("/xrpc/com.atproto.sync.getBlob", self._get_blob, methods=["GET"]),
                    Route("/xrpc/{nsid}", self._endpoint, methods=["GET", "POST"]),
                    Route("/img/{preset}/plain/{did}/{name}", self._image, methods=["GET"]),
                    Route("/watch/{did}/{cid}/{name}", self._watch, methods=["GET"]),
                ]
            )
        return self._app

    def _methods(self) -> dict[str, tuple[str, Auth, Handler]]:
        return {
            "com.atproto.server.createSession": ("POST", "none", self._create_session),
            "com.atproto.server.refreshSession": ("POST", "refresh", self._refresh_session),
            "com.atproto.server.deleteSession": ("POST", "refresh", self._delete_session),
            "com.atproto.server.getSession": ("GET", "access", self._get_session),
            "com.atproto.identity.resolveHandle": ("GET", "optional", self._resolve_handle),
            "com.atproto.repo.createRecord": ("POST", "access", self._create_record),
            "com.atproto.repo.deleteRecord": ("POST", "access", self._delete_record),
            "com.atproto.repo.getRecord": ("GET", "optional", self._get_record),
            "com.atproto.repo.listRecords": ("GET", "optional", self._list_records),
            "com.atproto.repo.uploadBlob": ("POST", "access", self._upload_blob),
            "com.atproto.repo.putRecord": ("POST", "access", self._put_record),
            "com.atproto.repo.describeRepo": ("GET", "optional", self._describe_repo),
            "app.bsky.actor.getPreferences": ("GET", "access", self._get_preferences),
            "app.bsky.feed.getTimeline": ("GET", "access", self._get_timeline),
            "app.bsky.graph.getFollowers": ("GET", "access", self._get_followers),
            "app.bsky.graph.getFollows": ("GET", "access", self._get_follows),
            "app.bsky.graph.getLists": ("GET", "access", self._get_lists),
            "app.bsky.feed.getListFeed": ("GET", "access", self._get_list_feed),
            "app.bsky.feed.getFeed": ("GET", "access", self._get_feed),
            "app.bsky.feed.getFeedGenerators": ("GET", "access", self._get_feed_generators),
            "app.bsky.bookmark.createBookmark": ("POST", "access", self._create_bookmark),
            "app.bsky.bookmark.deleteBookmark": ("POST", "access", self._delete_bookmark),
            "app.bsky.graph.muteActor": ("POST", "access", self._mute_actor),
            "app.bsky.graph.unmuteActor": ("POST", "access", self._unmute_actor),
            "app.bsky.actor.getProfile": ("GET", "access", self._get_profile),
            "app.bsky.feed.getAuthorFeed": ("GET", "access", self._get_author_feed),
            "app.bsky.feed.getPosts": ("GET", "access", self._get_posts),
            "app.bsky.feed.searchPosts": ("GET", "access", self._search_posts),
            "app.bsky.notification.listNotifications": (
                "GET",
                "access",
                self._list_notifications,
            ),
            "app.bsky.notification.updateSeen": ("POST", "access", self._update_seen),
            "chat.bsky.convo.listConvos": ("GET", "access", self._list_convos),
            "chat.bsky.convo.getMessages": ("GET", "access", self._get_messages),
            "chat.bsky.convo.sendMessage": ("POST", "access", self._send_message),
        }

    async def _endpoint(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        body = await request.body()
        headers: dict[str, str] = {}
        try:
            result = self._dispatch(request, nsid, body, headers)
        except XrpcError as exc:
            return JSONResponse(
                {"error": exc.error, "message": exc.message},
                status_code=exc.status,
                headers=headers,
            )
        return JSONResponse(result, headers=headers)

    def _dispatch(self, request: Request, nsid: str, body: bytes, headers: dict[str, str]) -> Any:
        client = request.client.host if request.client else "local"
        self._limit(headers, (self.global_limiter, f"ip:{client}", 1))
        method = self._methods().get(nsid)
        if method is None:
            raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
        verb, auth, handler = method
        if request.method != verb:
            raise XrpcError(
                400, "InvalidRequest", f"Incorrect HTTP method ({request.method}) expected {verb}"
            )
        base = f"{request.url.scheme}://{request.url.netloc}"
        with self._lock:
            did = self._authenticate(request, auth)
            self._service(request, nsid)
            call = _Call(nsid=nsid, request=request, body=body, did=did, base=base, headers=headers)
            if nsid == "com.atproto.server.createSession":
                identifier = str(call.json().get("identifier", "")).lower().lstrip("@")
                self._limit(headers, (self.login_limiter, f"login:{identifier}", 1))
            return handler(call)

    def _limit(self, headers: dict[str, str], *buckets: tuple[RateLimiter, str, int]) -> None:
        """Count a request in ``buckets`` and set the headers of the tightest one (as the
        reference PDS does); 429 beyond a limit."""
        for limiter, key, points in buckets:
            allowed = True
            remaining, reset = limiter.limit, time.time() + limiter.window
            for _ in range(points):
                allowed, remaining, reset = limiter.hit(key)
                if not allowed:
                    break
            current = int(headers.get("ratelimit-remaining", str(remaining + 1)))
            if not allowed or remaining < current:
                headers.update(
                    {
                        "ratelimit-limit": str(limiter.limit),
                        "ratelimit-remaining": str(remaining),
                        # Unix seconds, rounded up: a client that waits until then finds the
                        # window renewed (the reference PDS rounds down).
                        "ratelimit-reset": str(math.ceil(reset)),
                        "ratelimit-policy": f"{limiter.limit};w={max(1, round(limiter.window))}",
                    }
                )
            if not allowed:
                raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded")

    def _authenticate(self, request: Request, auth: Auth) -> str | None:
        header = request.headers.get("authorization")
        if auth == "none" or (auth == "optional" and not header):
            return None
        if not header:
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise XrpcError(401, "AuthenticationRequired", "Invalid authorization header")
        claims = jwt_decode(token.strip(), self._secret)
        scope, jti, sub = claims.get("scope"), claims.get("jti"), claims.get("sub")
        exp = claims.get("exp")
        if auth == "refresh":
            if scope != REFRESH_SCOPE:
                raise XrpcError(400, "InvalidToken", "Invalid token type")
            if jti not in self._refresh:
                raise XrpcError(400, "ExpiredToken", "Token has been revoked")
        elif scope != ACCESS_SCOPE:
            raise XrpcError(400, "InvalidToken", "Bad token scope")
        elif jti not in self._access:
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        if not isinstance(exp, (int, float)) or exp <= time.time():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        if not isinstance(sub, str) or sub not in self.users:
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        return sub

    def _service(self, request: Request, nsid: str) -> None:
        """The PDS proxies app.bsky.* to its AppView and chat.bsky.* to the service named in the
        atproto-proxy header (bsky.social has no default for chat)."""
        if not nsid.startswith(("app.bsky.", "chat.bsky.")):
            return
        if not self.appview:
            raise XrpcError(400, "InvalidRequest", f"No service configured for {nsid}")
        proxy = request.headers.get("atproto-proxy")
        if nsid.startswith("chat.bsky."):
            if proxy is None:
                raise XrpcError(501, "MethodNotImplemented", "Method Not Implemented")
            if proxy != CHAT_PROXY:
                raise XrpcError(400, "InvalidRequest", "could not resolve proxy did service url")
        elif proxy is not None and not proxy.endswith(APPVIEW_SUFFIX):
            raise XrpcError(400, "InvalidRequest", "could not resolve proxy did service url")

    async def _image(self, request: Request) -> Response:
        name = request.path_params["name"]
        cid = name.split("@", 1)[0]
        with self._lock:
            blob = self._blobs.get(cid)
        if blob is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        return Response(blob[1], media_type=blob[0])

    async def _watch(self, request: Request) -> Response:
        """The video CDN: an HLS playlist naming the MP4, the MP4, and a thumbnail (the fake
        does not transcode: the playlist points at the uploaded file)."""
        cid, name = request.path_params["cid"], request.path_params["name"]
        with self._lock:
            blob = self._blobs.get(cid)
        if blob is None or not blob[0].startswith("video/"):
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        if name == "playlist.m3u8":
            playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:1.0,\nvideo.mp4\n#EXT-X-ENDLIST\n"
            return Response(playlist.encode(), media_type="application/vnd.apple.mpegurl")
        if name == "video.mp4":
            return Response(blob[1], media_type=blob[0])
        if name == "thumbnail.jpg":
            return Response(b"\xff\xd8\xff\xd9", media_type="image/jpeg")
        return Response(b"Not Found", status_code=404, media_type="text/plain")

    # -- sessions ----------------------------------------------------------------------------------

    def _session(self, user: FakeUser, base: str) -> dict[str, Any]:
        now = int(time.time())
        access_id, refresh_id = secrets.token_hex(12), secrets.token_hex(12)
        access = jwt_encode(
            {
                "scope": ACCESS_SCOPE,
                "sub": user.id,
                "aud": SERVICE_DID,
                "iat": now,
                "exp": now + int(self.token_lifetime),
                "jti": access_id,
            },
            self._secret,
        )
        refresh = jwt_encode(
            {
                "scope": REFRESH_SCOPE,
                "sub": user.id,
                "aud": SERVICE_DID,
                "iat": now,
                "exp": now + 90 * 86400,
                "jti": refresh_id,
            },
            self._secret,
        )
        self._access.add(access_id)
        self._refresh[refresh_id] = user.id
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            **self._session_info(user, base),
        }

    def _session_info(self, user: FakeUser, base: str) -> dict[str, Any]:
        return {
            "handle": user.handle,
            "did": user.id,
            "didDoc": {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": user.id,
                "alsoKnownAs": [f"at://{user.handle}"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        # The URL the client reached: the in-process host or a served port.
                        "serviceEndpoint": base,
                    }
                ],
            },
            "active": True,
        }

    def _create_session(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        identifier = _input_str(body, "identifier") or ""
        password = _input_str(body, "password") or ""
        try:
            user = self._actor(identifier)
        except KeyError:
            raise XrpcError(
                401, "AuthenticationRequired", "Invalid identifier or password"
            ) from None
        if not hmac.compare_digest(password.encode(), self.password_of(user).encode()):
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        self.logins += 1
        return self._session(user, call.base)

    def _refresh_session(self, call: _Call) -> dict[str, Any]:
        token = call.request.headers["authorization"].partition(" ")[2].strip()
        jti = jwt_decode(token, self._secret)["jti"]
        self._refresh.pop(jti, None)  # refresh JWTs rotate: the old one is revoked
        self.refreshes += 1
        return self._session(self.users[call.caller], call.base)

    def _delete_session(self, call: _Call) -> dict[str, Any]:
        token = call.request.headers["authorization"].partition(" ")[2].strip()
        self._refresh.pop(jwt_decode(token, self._secret)["jti"], None)
        return {}

    def _get_session(self, call: _Call) -> dict[str, Any]:
        return self._session_info(self.users[call.caller], call.base)

    def _resolve_handle(self, call: _Call) -> dict[str, Any]:
        handle = call.param("handle", required=True) or ""
        if not is_handle(handle):
            raise XrpcError(400, "InvalidRequest", "Error: handle must be a valid handle")
        try:
            return {"did": self._actor(handle).id}
        except KeyError:
            raise XrpcError(400, "HandleNotFound", "Unable to resolve handle") from None

    # -- repository --------------------------------------------------------------------------------

    def _own_repo(self, call: _Call, repo: str) -> str:
        try:
            did = self._actor(repo).id
        except KeyError:
            raise XrpcError(400, "InvalidRequest", f"Could not find repo: {repo}") from None
        if did != call.caller:
            raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
        return did

    def _collection(self, value: str | None) -> str:
        if value is None or not is_nsid(value):
            raise XrpcError(400, "InvalidRequest", "Error: collection must be a valid nsid")
        return value

    def _create_record(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        did = self._own_repo(call, _input_str(body, "repo") or "")
        collection = self._collection(_input_str(body, "collection"))
        rkey = _input_str(body, "rkey", required=False)
        value = body.get("record")
        if not isinstance(value, dict):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "record"')
        if rkey is not None and not is_record_key(rkey):
            raise XrpcError(400, "InvalidRequest", "Error: rkey must be a valid Record Key")
        kind = value.get("$type")
        if kind is not None and kind != collection:
            raise XrpcError(
                400, "InvalidRequest", f"Invalid $type: expected {collection}, got {kind}"
            )
        known = collection in KNOWN_COLLECTIONS
        if known:
            if rkey is not None and not is_tid(rkey):
                raise XrpcError(
                    400, "InvalidRequest", f"Invalid record key for {collection}: must be a TID"
                )
            self._validate(collection, value)
        self._limit(call.headers, (self.write_limiter, f"write:{did}", WRITE_POINTS["create"]))
        stored = dict(value)
        stored.setdefault("$type", collection)
        record = self._put(did, collection, stored, rkey)
        return {
            "uri": record.uri,
            "cid": record.cid,
            "commit": self._commit(),
            "validationStatus": "valid" if known else "unknown",
        }

    def _put_record(self, call: _Call) -> dict[str, Any]:
        """com.atproto.repo.putRecord: create or replace the record at a key; ``swapRecord``
        (a CID, or null for "must not exist") makes it a compare-and-swap."""
        body = call.json()
        did = self._own_repo(call, _input_str(body, "repo") or "")
        collection = self._collection(_input_str(body, "collection"))
        rkey = _input_str(body, "rkey") or ""
        value = body.get("record")
        if not isinstance(value, dict):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "record"')
        if not is_record_key(rkey):
            raise XrpcError(400, "InvalidRequest", "Error: rkey must be a valid Record Key")
        kind = value.get("$type")
        if kind is not None and kind != collection:
            raise XrpcError(
                400, "InvalidRequest", f"Invalid $type: expected {collection}, got {kind}"
            )
        known = collection in KNOWN_COLLECTIONS
        if known:
            self._validate(collection, value)
            if collection == THREADGATE:
                parts = _split_uri(str(value["post"]))
                if parts != (did, POST, rkey):
                    raise _bad_record(
                        collection,
                        "the record key must be the thread root's, in the same repository",
                    )
        with self._lock:
            existing = self._repos.get(did, {}).get(collection, {}).get(rkey)
            if "swapRecord" in body:
                swap = body["swapRecord"]
                current = existing.cid if existing is not None else None
                if swap != current:
                    raise XrpcError(
                        400,
                        "InvalidSwap",
                        f"Record was at {current}" if current else "Record was not present",
                    )
            self._limit(
                call.headers,
                (
                    self.write_limiter,
                    f"write:{did}",
                    WRITE_POINTS["update" if existing else "create"],
                ),
            )
            stored = dict(value)
            stored.setdefault("$type", collection)
            if existing is not None:
                self._delete(existing)
            record = self._put(did, collection, stored, rkey)
        return {
            "uri": record.uri,
            "cid": record.cid,
            "commit": self._commit(),
            "validationStatus": "valid" if known else "unknown",
        }

    def _commit(self) -> dict[str, str]:
        rev = self._tid()
        return {"cid": make_cid(rev.encode(), 0x71), "rev": rev}

    def _validate(self, collection: str, value: dict[str, Any]) -> None:
        created = value.get("createdAt")
        if not isinstance(created, str) or parse_datetime(created) is None:
            raise _bad_record(
                collection,
                "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)",
            )
        if collection in (LIKE, REPOST):
            _strong_ref(value.get("subject"), "Record/subject", collection)
            return
        if collection in (FOLLOW, BLOCK):
            subject = value.get("subject")
            if not isinstance(subject, str) or not subject.startswith("did:"):
                raise _bad_record(collection, "Record/subject must be a valid did")
            return
        if collection == THREADGATE:
            post = value.get("post")
            if not isinstance(post, str) or _split_uri(post) is None:
                raise _bad_record(collection, "Record/post must be a valid at-uri")
            hidden = value.get("hiddenReplies", [])
            if (
                not isinstance(hidden, list)
                or len(hidden) > MAX_HIDDEN_REPLIES
                or not all(isinstance(u, str) and _split_uri(u) is not None for u in hidden)
            ):
                raise _bad_record(
                    collection,
                    f"Record/hiddenReplies must be at most {MAX_HIDDEN_REPLIES} at-uris",
                )
            return
        text = value.get("text")
        if not isinstance(text, str):
            raise _bad_record(collection, 'Record must have the property "text"')
        if len(text.encode("utf-8")) > MAX_POST_BYTES:
            raise _bad_record(
                collection, f"Record/text must not be longer than {MAX_POST_BYTES} characters"
            )
        if count_graphemes(text) > MAX_POST_GRAPHEMES:
            raise _bad_record(
                collection, f"Record/text must not be longer than {MAX_POST_GRAPHEMES} graphemes"
            )
        langs = value.get("langs")
        if langs is not None and (
            not isinstance(langs, list)
            or len(langs) > MAX_LANGS
            or not all(isinstance(x, str) for x in langs)
        ):
            raise _bad_record(collection, f"Record/langs must be at most {MAX_LANGS} languages")
        reply = value.get("reply")
        if reply is not None:
            if not isinstance(reply, dict):
                raise _bad_record(collection, "Record/reply must be an object")
            _strong_ref(reply.get("root"), "Record/reply/root", collection)
            _strong_ref(reply.get("parent"), "Record/reply/parent", collection)
        embed = value.get("embed")
        if embed is not None:
            self._validate_embed(embed, collection, "Record/embed")

    def _validate_embed(self, embed: Any, collection: str, where: str) -> None:
        if not isinstance(embed, dict) or not isinstance(embed.get("$type"), str):
            raise _bad_record(collection, f"{where} must be an object with a $type")
        kind = embed["$type"]
        if kind == "app.bsky.embed.images":
            images = embed.get("images")
            if not isinstance(images, list) or len(images) > MAX_IMAGES:
                raise _bad_record(collection, f"{where}/images must be 0 to {MAX_IMAGES} images")
            for index, image in enumerate(images):
                if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                    raise _bad_record(
                        collection, f'{where}/images/{index} must have the property "alt"'
                    )
                self._check_blob(image.get("image"), IMAGE_MAX_SIZE, "image/")
        elif kind == "app.bsky.embed.video":
            if embed.get("alt") is not None and not isinstance(embed.get("alt"), str):
                raise _bad_record(collection, f"{where}/alt must be a string")
            self._check_blob(embed.get("video"), VIDEO_MAX_SIZE, "video/mp4")
        elif kind == "app.bsky.embed.external":
            external = embed.get("external")
            if not isinstance(external, dict) or not all(
                isinstance(external.get(k), str) for k in ("uri", "title", "description")
            ):
                raise _bad_record(collection, f"{where}/external must have uri, title, description")
            if external.get("thumb") is not None:
                self._check_blob(external["thumb"], 1_000_000, "image/")
        elif kind == "app.bsky.embed.record":
            _strong_ref(embed.get("record"), f"{where}/record", collection)
        elif kind == "app.bsky.embed.recordWithMedia":
            inner = embed.get("record")
            if not isinstance(inner, dict):
                raise _bad_record(collection, f"{where}/record must be an object")
            _strong_ref(inner.get("record"), f"{where}/record/record", collection)
            self._validate_embed(embed.get("media"), collection, f"{where}/media")

    def _check_blob(self, blob: Any, max_size: int, accept: str) -> None:
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            raise XrpcError(400, "InvalidRequest", "Invalid blob reference")
        ref = blob.get("ref")
        cid = ref.get("$link") if isinstance(ref, dict) else None
        stored = self._blobs.get(cid) if isinstance(cid, str) else None
        if stored is None:
            raise XrpcError(400, "InvalidRequest", f"Could not find blob: {cid}")
        mime, data = stored
        if not mime.startswith(accept):
            raise XrpcError(400, "InvalidRequest", f"Wrong type of blob: {mime}")
        if len(data) > max_size:
            raise XrpcError(
                400,
                "InvalidRequest",
                f"This file is too large. It is {len(data)} bytes but "
                f"the maximum size is {max_size} bytes.",
            )

    def _delete_record(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        did = self._own_repo(call, _input_str(body, "repo") or "")
        collection = self._collection(_input_str(body, "collection"))
        rkey = _input_str(body, "rkey") or ""
        self._limit(call.headers, (self.write_limiter, f"write:{did}", WRITE_POINTS["delete"]))
        record = self._repos.get(did, {}).get(collection, {}).get(rkey)
        if record is None:
            return {}  # "delete, or ensure it does not exist"
        self._delete(record)
        return {"commit": self._commit()}

    def _upload_blob(self, call: _Call) -> dict[str, Any]:
        data = call.body
        if len(data) > BLOB_LIMIT:
            raise XrpcError(413, "PayloadTooLarge", "request entity too large")
        declared = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
        mime = next((m for magic, m in _IMAGE_MAGIC if data.startswith(magic)), None)
        if mime is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            mime = "image/webp"
        if mime is None and data[4:8] == b"ftyp":
            mime = "video/mp4"  # an ISO base media file (the PDS sniffs the type too)
        mime = mime or declared or "application/octet-stream"
        cid = make_cid(data, 0x55)
        self._blobs[cid] = (mime, data)
        return {
            "blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}
        }

    def _repo_of(self, repo: str | None) -> str:
        try:
            return self._actor(repo or "").id
        except KeyError:
            raise XrpcError(400, "InvalidRequest", f"Could not find repo: {repo}") from None

    def _get_record(self, call: _Call) -> dict[str, Any]:
        repo = call.param("repo", required=True)
        collection = self._collection(call.param("collection", required=True))
        rkey = call.param("rkey", required=True) or ""
        cid = call.param("cid")
        did = self._repo_of(repo)
        record = self._repos.get(did, {}).get(collection, {}).get(rkey)
        if record is None or (cid is not None and cid != record.cid):
            raise XrpcError(
                400, "RecordNotFound", f"Could not locate record: at://{did}/{collection}/{rkey}"
            )
        return {"uri": record.uri, "cid": record.cid, "value": record.value}

    def _list_records(self, call: _Call) -> dict[str, Any]:
        did = self._repo_of(call.param("repo", required=True))
        collection = self._collection(call.param("collection", required=True))
        limit = call.integer("limit", 50, 1, 100)
        cursor = call.param("cursor")
        reverse = bool(call.boolean("reverse"))
        keys = sorted(self._repos.get(did, {}).get(collection, {}), reverse=not reverse)
        if cursor is not None:
            keys = [k for k in keys if (k > cursor if reverse else k < cursor)]
        repo = self._repos.get(did, {}).get(collection, {})
        page = [repo[k] for k in keys[:limit]]
        out: dict[str, Any] = {
            "records": [{"uri": r.uri, "cid": r.cid, "value": r.value} for r in page]
        }
        if page:
            out["cursor"] = page[-1].rkey  # as the reference PDS: the last key of the page
        return out

    # -- AppView -----------------------------------------------------------------------------------

    def _actor_param(self, call: _Call, name: str = "actor") -> FakeUser:
        actor = call.param(name, required=True) or ""
        try:
            return self._actor(actor)
        except KeyError:
            raise XrpcError(400, "InvalidRequest", "Profile not found") from None

    def _get_profile(self, call: _Call) -> dict[str, Any]:
        return self._profile_detailed(self._actor_param(call).id, call.did)

    @staticmethod
    def _keyset(
        items: list[tuple[int, str, Any]], cursor: str | None, limit: int
    ) -> tuple[list[Any], str | None]:
        """Newest first by (time in ms, cid); the cursor is ``<ms>::<cid>`` of the page's last
        item, as the AppView's keyset pagination."""
        items = sorted(items, key=lambda item: (item[0], item[1]), reverse=True)
        if cursor is not None:
            head, sep, tail = cursor.partition("::")
            if not sep or not head.isdigit():
                raise XrpcError(400, "InvalidRequest", "Malformed cursor")
            mark = (int(head), tail)
            items = [item for item in items if (item[0], item[1]) < mark]
        page = items[:limit]
        next_cursor = f"{page[-1][0]}::{page[-1][1]}" if page else None
        return [item[2] for item in page], next_cursor

    def _get_author_feed(self, call: _Call) -> dict[str, Any]:
        actor = self._actor_param(call).id
        limit = call.integer("limit", 50, 1, 100)
        cursor = call.param("cursor")
        mode = call.param("filter") or "posts_with_replies"
        call.boolean("includePins")
        items: list[tuple[int, str, Any]] = []
        for record in self._repos.get(actor, {}).get(POST, {}).values():
            reply = record.value.get("reply")
            is_reply = isinstance(reply, dict)
            if mode == "posts_no_replies" and is_reply:
                continue
            if mode == "posts_and_author_threads" and is_reply:
                root = self._records.get(str(_dict(_dict(reply).get("root")).get("uri")))
                if root is None or root.did != actor:
                    continue
            if mode == "posts_with_media" and not _has_images(record.value):
                continue
            if mode == "posts_with_video" and not _has_video(record.value):
                continue
            items.append((record.indexed_ms, record.cid, ("post", record)))
        if mode not in ("posts_with_media", "posts_with_video"):
            for record in self._repos.get(actor, {}).get(REPOST, {}).values():
                subject = self._records.get(str((record.value.get("subject") or {}).get("uri")))
                if subject is not None:
                    items.append((record.indexed_ms, record.cid, ("repost", record)))
        return self._feed_page(items, call, cursor, limit)

    def _posts_and_reposts(self, dids: set[str]) -> list[tuple[int, str, Any]]:
        """The posts and reposts of ``dids`` as keyset items (time, cid, (kind, record))."""
        items: list[tuple[int, str, Any]] = []
        for did in dids:
            for record in self._repos.get(did, {}).get(POST, {}).values():
                items.append((record.indexed_ms, record.cid, ("post", record)))
            for record in self._repos.get(did, {}).get(REPOST, {}).values():
                if str(_dict(record.value.get("subject")).get("uri")) in self._records:
                    items.append((record.indexed_ms, record.cid, ("repost", record)))
        return items

    def _feed_page(
        self, items: list[tuple[int, str, Any]], call: _Call, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """``{feed: feedViewPost[], cursor}`` of keyset items (posts, and reposts with their
        reasonRepost)."""
        page, next_cursor = self._keyset(items, cursor, limit)
        feed = []
        for kind, record in page:
            if kind == "post":
                item: dict[str, Any] = {"post": self._post_view(record, call.base, call.did)}
                reply = record.value.get("reply")
                if isinstance(reply, dict):
                    item["reply"] = {
                        "root": self._feed_ref(
                            (reply.get("root") or {}).get("uri"), call.base, call.did
                        ),
                        "parent": self._feed_ref(
                            (reply.get("parent") or {}).get("uri"), call.base, call.did
                        ),
                    }
            else:
                subject = self._records[record.value["subject"]["uri"]]
                item = {
                    "post": self._post_view(subject, call.base, call.did),
                    "reason": {
                        "$type": "app.bsky.feed.defs#reasonRepost",
                        "by": self._profile_basic(record.did),
                        "uri": record.uri,
                        "cid": record.cid,
                        "indexedAt": iso(self._time(record.indexed_ms)),
                    },
                }
            feed.append(item)
        out: dict[str, Any] = {"feed": feed}
        if next_cursor is not None:
            out["cursor"] = next_cursor
        return out

    def _get_timeline(self, call: _Call) -> dict[str, Any]:
        """The caller's posts and those of the accounts it follows (and their reposts)."""
        call.param("algorithm")
        limit = call.integer("limit", 50, 1, 100)
        followed = {
            str(r.value.get("subject"))
            for r in self._repos.get(call.caller, {}).get(FOLLOW, {}).values()
        }
        items = self._posts_and_reposts({call.caller} | (followed & set(self.users)))
        return self._feed_page(items, call, call.param("cursor"), limit)

    def _follow_page(self, call: _Call, *, followers: bool) -> dict[str, Any]:
        actor = self._actor_param(call).id
        limit = call.integer("limit", 50, 1, 100)
        call.param("sort")
        items = [
            (r.indexed_ms, r.cid, (r.did if followers else str(r.value.get("subject"))))
            for repo in self._repos.values()
            for r in repo.get(FOLLOW, {}).values()
            if (r.value.get("subject") == actor if followers else r.did == actor)
            and (r.did if followers else str(r.value.get("subject"))) in self.users
        ]
        page, next_cursor = self._keyset(items, call.param("cursor"), limit)
        out: dict[str, Any] = {
            "subject": self._profile_view(actor, call.did),
            "followers" if followers else "follows": [
                self._profile_view(did, call.did) for did in page
            ],
        }
        if next_cursor is not None:
            out["cursor"] = next_cursor
        return out

    def _get_followers(self, call: _Call) -> dict[str, Any]:
        return self._follow_page(call, followers=True)

    def _get_follows(self, call: _Call) -> dict[str, Any]:
        return self._follow_page(call, followers=False)

    def _list_view(self, record: _Record, viewer: str | None) -> dict[str, Any]:
        members = [
            r
            for r in self._repos.get(record.did, {}).get(LISTITEM, {}).values()
            if r.value.get("list") == record.uri
        ]
        view: dict[str, Any] = {
            "uri": record.uri,
            "cid": record.cid,
            "creator": self._profile_view(record.did, viewer),
            "name": record.value["name"],
            "purpose": record.value["purpose"],
            "listItemCount": len(members),
            "indexedAt": iso(self._time(record.indexed_ms)),
            "labels": [],
        }
        if record.value.get("description"):
            view["description"] = record.value["description"]
        return view

    def _get_lists(self, call: _Call) -> dict[str, Any]:
        actor = self._actor_param(call).id
        limit = call.integer("limit", 50, 1, 100)
        purposes = {f"app.bsky.graph.defs#{p}" for p in call.params("purposes")}
        items = [
            (r.indexed_ms, r.cid, r)
            for r in self._repos.get(actor, {}).get(LIST, {}).values()
            if not purposes or r.value.get("purpose") in purposes
        ]
        page, next_cursor = self._keyset(items, call.param("cursor"), limit)
        out: dict[str, Any] = {"lists": [self._list_view(r, call.did) for r in page]}
        if next_cursor is not None:
            out["cursor"] = next_cursor
        return out

    def _get_list_feed(self, call: _Call) -> dict[str, Any]:
        uri = call.param("list", required=True) or ""
        limit = call.integer("limit", 50, 1, 100)
        listed = self._records.get(uri)
        if listed is None or listed.collection != LIST:
            raise XrpcError(400, "UnknownList", "List not found")
        members = {
            str(r.value.get("subject"))
            for r in self._repos.get(listed.did, {}).get(LISTITEM, {}).values()
            if r.value.get("list") == uri
        }
        items = self._posts_and_reposts(members & set(self.users))
        return self._feed_page(items, call, call.param("cursor"), limit)

    def _get_feed(self, call: _Call) -> dict[str, Any]:
        uri = call.param("feed", required=True) or ""
        limit = call.integer("limit", 50, 1, 100)
        words = self._generator_queries.get(uri)
        if words is None or uri not in self._records:
            raise XrpcError(400, "UnknownFeed", "Unknown feed generator")
        items = [
            (r.indexed_ms, r.cid, ("post", r))
            for r in self._records.values()
            if r.collection == POST and words in str(r.value.get("text", "")).casefold()
        ]
        return self._feed_page(items, call, call.param("cursor"), limit)

    def _get_feed_generators(self, call: _Call) -> dict[str, Any]:
        feeds = []
        for uri in call.params("feeds"):
            record = self._records.get(uri)
            if record is None or record.collection != GENERATOR:
                continue
            view: dict[str, Any] = {
                "uri": record.uri,
                "cid": record.cid,
                "did": record.value["did"],
                "creator": self._profile_view(record.did, call.did),
                "displayName": record.value["displayName"],
                "likeCount": len(self._likes.get(record.uri, ())),
                "indexedAt": iso(self._time(record.indexed_ms)),
                "labels": [],
            }
            if record.value.get("description"):
                view["description"] = record.value["description"]
            feeds.append(view)
        return {"feeds": feeds}

    def _get_preferences(self, call: _Call) -> dict[str, Any]:
        return {"preferences": [dict(p) for p in self._preferences.get(call.caller, [])]}

    def _describe_repo(self, call: _Call) -> dict[str, Any]:
        did = self._repo_of(call.param("repo", required=True))
        user = self.users[did]
        return {
            "handle": user.handle,
            "did": did,
            "didDoc": self._session_info(user, call.base)["didDoc"],
            "collections": sorted(c for c, recs in self._repos.get(did, {}).items() if recs),
            "handleIsCorrect": True,
        }

    def _create_bookmark(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        uri = _input_str(body, "uri") or ""
        _input_str(body, "cid")
        parts = _split_uri(uri)
        if parts is None:
            raise XrpcError(400, "InvalidRequest", "Input/uri must be a valid at-uri")
        if parts[1] != POST:
            raise XrpcError(400, "UnsupportedCollection", "Only posts can be bookmarked")
        try:
            record = self._find_post(uri)
        except KeyError:
            raise XrpcError(400, "InvalidRequest", "Post not found") from None
        self._bookmarks.setdefault(record.uri, set()).add(call.caller)
        return {}

    def _delete_bookmark(self, call: _Call) -> dict[str, Any]:
        uri = _input_str(call.json(), "uri") or ""
        parts = _split_uri(uri)
        if parts is None:
            raise XrpcError(400, "InvalidRequest", "Input/uri must be a valid at-uri")
        if parts[1] != POST:
            raise XrpcError(400, "UnsupportedCollection", "Only posts can be bookmarked")
        try:
            record = self._find_post(uri)
        except KeyError:
            return {}
        self._bookmarks.get(record.uri, set()).discard(call.caller)
        return {}

    def _mute_actor(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        try:
            did = self._actor(_input_str(body, "actor") or "").id
        except KeyError:
            raise XrpcError(400, "InvalidRequest", "Actor not found") from None
        if did == call.caller:
            raise XrpcError(400, "InvalidRequest", "Cannot mute oneself")
        self._mutes.setdefault(call.caller, set()).add(did)
        return {}

    def _unmute_actor(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        try:
            did = self._actor(_input_str(body, "actor") or "").id
        except KeyError:
            raise XrpcError(400, "InvalidRequest", "Actor not found") from None
        self._mutes.get(call.caller, set()).discard(did)
        return {}

    async def _get_blob(self, request: Request) -> Response:
        """com.atproto.sync.getBlob: the bytes of a blob (no JSON), as the PDS serves them."""
        cid = request.query_params.get("cid", "")
        did = request.query_params.get("did", "")
        with self._lock:
            blob = self._blobs.get(cid) if did in self.users else None
        if blob is None:
            return JSONResponse(
                {"error": "BlobNotFound", "message": "Blob not found"}, status_code=400
            )
        return Response(blob[1], media_type=blob[0])

    def _get_posts(self, call: _Call) -> dict[str, Any]:
        uris = call.params("uris")
        if not uris:
            raise XrpcError(400, "InvalidRequest", 'Error: Params must have the property "uris"')
        if len(uris) > GET_POSTS_MAX:
            raise XrpcError(
                400,
                "InvalidRequest",
                f"Error: uris must not have more than {GET_POSTS_MAX} elements",
            )
        posts = []
        seen: set[str] = set()
        for uri in uris:
            if _split_uri(uri) is None:
                raise XrpcError(400, "InvalidRequest", "Error: uris/0 must be a valid at-uri")
            try:
                record = self._find_post(uri)
            except KeyError:
                continue  # unknown or deleted posts are left out
            if record.uri not in seen:
                seen.add(record.uri)
                posts.append(self._post_view(record, call.base, call.did))
        return {"posts": posts}

    def _search_posts(self, call: _Call) -> dict[str, Any]:
        query = call.param("q", required=True) or ""
        sort = call.param("sort") or "latest"
        limit = call.integer("limit", 25, 1, 100)
        cursor = call.param("cursor")
        since = _date_param(call.param("since"), "since")
        until = _date_param(call.param("until"), "until")
        author = call.param("author")
        mentions = call.param("mentions")
        lang = call.param("lang")
        phrases, authors = _parse_query(query)
        if author:
            authors.append(author)
        try:
            author_dids = {self._actor(a).id for a in authors}
        except KeyError:
            author_dids = {""}
        mention_did = None
        if mentions:
            try:
                mention_did = self._actor(mentions).id
            except KeyError:
                mention_did = ""
        hits = []
        for record in self._records.values():
            if record.collection != POST:
                continue
            text = str(record.value.get("text", "")).casefold()
            if not all(p in text for p in phrases):
                continue
            if author_dids and record.did not in author_dids:
                continue
            if mention_did is not None and mention_did not in _mentioned(record.value):
                continue
            langs = record.value.get("langs") or []
            if lang and not any(str(x).split("-")[0] == lang.split("-")[0] for x in langs):
                continue
            moment = self._time(record.indexed_ms)
            if since is not None and moment < since:
                continue
            if until is not None and moment >= until:
                continue
            hits.append(record)
        if sort == "top":
            hits.sort(key=lambda r: (sum(self._counts(r.uri).values()), r.indexed_ms), reverse=True)
        else:
            hits.sort(key=lambda r: r.indexed_ms, reverse=True)
        offset = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise XrpcError(400, "InvalidRequest", "Malformed cursor")
            offset = int(cursor)
        page = hits[offset : offset + limit]
        out: dict[str, Any] = {
            "hitsTotal": len(hits),
            "posts": [self._post_view(r, call.base, call.did) for r in page],
        }
        if offset + limit < len(hits):
            out["cursor"] = str(offset + limit)
        return out

    def _list_notifications(self, call: _Call) -> dict[str, Any]:
        reasons = set(call.params("reasons"))
        limit = call.integer("limit", 50, 1, 100)
        cursor = call.param("cursor")
        call.boolean("priority")
        seen_param = call.param("seenAt")
        if seen_param is not None and parse_datetime(seen_param) is None:
            raise XrpcError(400, "InvalidRequest", "Error: seenAt must be a valid datetime")
        seen = self._seen.get(call.caller)
        items = [
            (n.record.indexed_ms, n.record.cid, n)
            for n in self._notifications
            if n.recipient == call.caller
            and (not reasons or n.reason in reasons)
            and n.record.uri in self._records
            and n.record.did in self.users
        ]
        page, next_cursor = self._keyset(items, cursor, limit)
        notifications = []
        for note in page:
            indexed = self._time(note.record.indexed_ms)
            item: dict[str, Any] = {
                "uri": note.record.uri,
                "cid": note.record.cid,
                "author": self._profile_view(note.record.did),
                "reason": note.reason,
                "record": note.record.value,
                "isRead": seen is not None and indexed <= seen,
                "indexedAt": iso(indexed),
                "labels": [],
            }
            if note.subject is not None:
                item["reasonSubject"] = note.subject
            notifications.append(item)
        out: dict[str, Any] = {"notifications": notifications, "priority": False}
        if seen is not None:
            out["seenAt"] = iso(seen)
        if next_cursor is not None:
            out["cursor"] = next_cursor
        return out

    def _update_seen(self, call: _Call) -> dict[str, Any]:
        seen = parse_datetime(_input_str(call.json(), "seenAt") or "")
        if seen is None:
            raise XrpcError(400, "InvalidRequest", "Input/seenAt must be a valid datetime")
        self._seen[call.caller] = seen
        return {}

    # -- chat --------------------------------------------------------------------------------------

    def _convo_view(self, convo: _Convo, viewer: str) -> dict[str, Any]:
        read = convo.read.get(viewer, "")
        view: dict[str, Any] = {
            "id": convo.id,
            "rev": convo.rev,
            "members": [self._chat_profile(m) for m in convo.members],
            "muted": False,
            "status": "accepted",
            "unreadCount": sum(1 for m in convo.messages if m.sender != viewer and m.rev > read),
        }
        if convo.messages:
            view["lastMessage"] = self._message_view(convo.messages[-1], typed=True)
        return view

    def _member_convo(self, call: _Call, convo_id: str | None) -> _Convo:
        convo = self._convos.get(convo_id or "")
        if convo is None or call.caller not in convo.members:
            raise XrpcError(400, "InvalidConvo", "Convo not found")
        return convo

    def _list_convos(self, call: _Call) -> dict[str, Any]:
        limit = call.integer("limit", 50, 1, 100)
        cursor = call.param("cursor")
        read_state = call.param("readState")
        status = call.param("status")
        convos = [c for c in self._convos.values() if call.caller in c.members]
        if status == "request":
            convos = []  # the audience's conversations are accepted ones
        views = [self._convo_view(c, call.caller) for c in convos]
        if read_state == "unread":
            views = [v for v in views if v["unreadCount"] > 0]
        views.sort(key=lambda v: str(v["rev"]), reverse=True)
        if cursor is not None:
            views = [v for v in views if str(v["rev"]) < cursor]
        page = views[:limit]
        out: dict[str, Any] = {"convos": page}
        if page:
            out["cursor"] = page[-1]["rev"]
        return out

    def _get_messages(self, call: _Call) -> dict[str, Any]:
        convo = self._member_convo(call, call.param("convoId", required=True))
        limit = call.integer("limit", 50, 1, 100)
        cursor = call.param("cursor")
        messages = sorted(convo.messages, key=lambda m: m.rev, reverse=True)
        if cursor is not None:
            messages = [m for m in messages if m.rev < cursor]
        page = messages[:limit]
        if page:
            newest = page[0].rev
            if newest > convo.read.get(call.caller, ""):
                convo.read[call.caller] = newest
        out: dict[str, Any] = {
            "messages": [self._message_view(m, typed=True) for m in page],
            "relatedProfiles": [self._chat_profile(m) for m in convo.members],
        }
        if page:
            out["cursor"] = page[-1].rev
        return out

    def _send_message(self, call: _Call) -> dict[str, Any]:
        body = call.json()
        convo = self._member_convo(call, _input_str(body, "convoId"))
        message = body.get("message")
        if not isinstance(message, dict):
            raise XrpcError(400, "InvalidRequest", 'Input must have the property "message"')
        text = message.get("text")
        if not isinstance(text, str):
            raise XrpcError(400, "InvalidRequest", 'Input/message must have the property "text"')
        if len(text.encode("utf-8")) > DM_MAX_BYTES:
            raise XrpcError(
                400,
                "InvalidRequest",
                f"Input/message/text must not be longer than {DM_MAX_BYTES} characters",
            )
        if count_graphemes(text) > DM_MAX_GRAPHEMES:
            raise XrpcError(
                400,
                "InvalidRequest",
                f"Input/message/text must not be longer than {DM_MAX_GRAPHEMES} graphemes",
            )
        if not text.strip():
            raise XrpcError(400, "InvalidRequest", "Message text cannot be empty")
        facets = message.get("facets")
        sent = self._send(convo, call.caller, text, facets if isinstance(facets, list) else None)
        return self._message_view(sent, typed=False)


# -- helpers ---------------------------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _quoted_uri(value: dict[str, Any]) -> str | None:
    embed = value.get("embed")
    if not isinstance(embed, dict):
        return None
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("record")
        if not isinstance(embed, dict):
            return None
    elif embed.get("$type") != "app.bsky.embed.record":
        return None
    ref = embed.get("record")
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) else None


def _mentioned(value: dict[str, Any]) -> list[str]:
    dids: list[str] = []
    for facet in value.get("facets") or []:
        if not isinstance(facet, dict):
            continue
        for feature in facet.get("features") or []:
            if (
                isinstance(feature, dict)
                and feature.get("$type") == "app.bsky.richtext.facet#mention"
                and isinstance(feature.get("did"), str)
                and feature["did"] not in dids
            ):
                dids.append(feature["did"])
    return dids


def _media_type(value: dict[str, Any]) -> Any:
    embed = value.get("embed")
    if not isinstance(embed, dict):
        return None
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        embed = embed.get("media")
    return embed.get("$type") if isinstance(embed, dict) else None


def _has_images(value: dict[str, Any]) -> bool:
    """Images or a video: what the AppView's ``posts_with_media`` filter keeps."""
    return _media_type(value) in ("app.bsky.embed.images", "app.bsky.embed.video")


def _has_video(value: dict[str, Any]) -> bool:
    return bool(_media_type(value) == "app.bsky.embed.video")


def _date_param(text: str | None, name: str) -> datetime | None:
    """searchPosts ``since``/``until``: a datetime or a plain date (YYYY-MM-DD)."""
    if text is None:
        return None
    moment = parse_datetime(text)
    if moment is None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            moment = datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            moment = None
    if moment is None:
        raise XrpcError(400, "BadQueryString", f"{name} must be a datetime or a date")
    return moment


def _parse_query(query: str) -> tuple[list[str], list[str]]:
    """Search terms (quoted phrases kept whole, case-folded) and ``from:`` authors."""
    phrases: list[str] = []
    authors: list[str] = []
    for match in re.finditer(r'"([^"]*)"|(\S+)', query):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            if phrase.strip():
                phrases.append(phrase.casefold())
        elif word.lower().startswith("from:") and len(word) > 5:
            authors.append(word[5:])
        else:
            phrases.append(word.casefold())
    return phrases, authors
