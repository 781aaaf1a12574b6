"""Bluesky's event streams as a :class:`~socialkit.EventStream`.

Two sources, filtered here to the collections and DIDs asked for:

* **The repository event stream** (``com.atproto.sync.subscribeRepos``, the default): a
  WebSocket on a relay (``stream_url`` / ``ex_url``) or on the account's PDS, which carries
  only the repositories it hosts (so mentions and queries need a relay), whose frames are two
  concatenated DAG-CBOR objects, a header (``op``, ``t``) and a body; a ``#commit`` body
  carries its record blocks as a CAR file. Frames are decoded with ``libipld`` (DAG-CBOR and
  CAR, the decoder the AT Protocol SDK uses), the WebSocket is ``websockets``'. Each frame has
  a sequence number (``seq``): the cursor, from which the server replays what followed on a
  reconnect or a restart (``cursor`` query parameter), so nothing is missed within its
  backfill window.
* **Jetstream** (``ex_source="jetstream"``, ``ex_url``: the instance's ``/subscribe`` URL):
  the same commits as JSON, filtered by the server on ``wantedCollections`` and
  ``wantedDids``; its cursor is the event's ``time_us``, rewound a few seconds on a reconnect
  (Jetstream's advice), the repeats dropped by the stream's dedup.

Records become events: a new post (``post``), a post deleted (``delete``), and, for the
account's own DID, the posts that reply to it, quote it or mention it (``reply``, ``quote``,
``mention``: what Bluesky's notifications would say, read from the records themselves).
A ``query`` keeps the posts whose text carries one of its keywords or ``#hashtags``.

A frame that cannot be read (not DAG-CBOR or not JSON, a commit without its ``seq``, an
unreadable CAR) is skipped and logged, and the next frame read on the same connection (the
stream's ``max_malformed``); an error frame (``op: -1``) ends the connection, which is
reopened from the cursor.

A quiet repository can send nothing for a long time, so silence alone is not a stall here:
the WebSocket's ping/pong (every ``stall / 3`` seconds, ``websockets``' keepalive) is the
heartbeat, and a missed pong closes the connection, which is reopened from the cursor.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from socialkit._errors import MalformedResponseError, TransportError, ValidationError
from socialkit._models import Account, Message, MessageKind
from socialkit._stream import EventStream, StreamEvent, StreamPolicy, require, stream_kinds

if TYPE_CHECKING:
    from socialkit.adapters.bluesky import BlueskyAdapter

__all__ = ["POST_COLLECTION", "StreamSpec", "open_stream"]

POST_COLLECTION = "app.bsky.feed.post"
#: Silence is normal on a quiet repository: the WebSocket pings are the heartbeat.
DEFAULT_STALL = 3600.0
#: Ping every this many seconds, and give up when the pong is this late.
PING_INTERVAL = 20.0
#: Jetstream's advice: resume a few seconds before the last event seen.
JETSTREAM_REWIND_US = 5_000_000
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]+")
_NSID = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*(\.[a-zA-Z0-9-]+){2,}")
_MESSAGES = frozenset({"mention", "reply", "quote"})


class StreamSpec:
    """What to read and what to keep."""

    def __init__(
        self,
        *,
        source: Literal["repos", "jetstream"],
        url: str | None,
        kinds: frozenset[str],
        queries: tuple[str, ...],
        dids: frozenset[str],
        collections: frozenset[str],
    ) -> None:
        self.source = source
        self.url = url
        self.kinds = kinds
        self.keywords = tuple(q.lower() for q in queries if not q.startswith("#"))
        self.tags = tuple(q[1:].lower() for q in queries if q.startswith("#"))
        self.queries = queries
        self.dids = dids
        self.collections = collections

    def matches(self, text: str) -> str | None:
        """The query a post's text matches (``""`` without a query, ``None``: no match)."""
        if not self.queries:
            return ""
        lowered = text.lower()
        for tag in self.tags:
            if re.search(rf"#{re.escape(tag)}(?!\w)", lowered):
                return f"#{tag}"
        for word in self.keywords:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
                return word
        return None


def plan(
    kinds: Iterable[str] | None,
    query: str | Iterable[str] | None,
    *,
    source: Literal["repos", "jetstream"],
    url: str | None,
    dids: Iterable[str] | None,
    collections: Iterable[str] | None,
) -> StreamSpec:
    """The stream for these arguments, checked before any connection."""
    queries = [query] if isinstance(query, str) else list(query or [])
    queries = [q.strip() for q in queries]
    if any(not q for q in queries):
        raise ValidationError("stream queries must not be empty")
    if queries:
        wanted = stream_kinds(kinds, default={"post"})
        if wanted & _MESSAGES:
            raise ValidationError("a query stream carries posts: stream messages without a query")
    else:
        wanted = stream_kinds(kinds, default={"post", "delete", *_MESSAGES})
    if wanted & {"direct", "comment"}:
        raise ValidationError(
            "bluesky streams carry posts, mentions, replies, quotes and deletions; direct "
            "messages are read with messages(kinds={'direct'})"
        )
    did_set = frozenset(dids or ())
    for did in did_set:
        if not isinstance(did, str) or _DID.fullmatch(did) is None:
            raise ValidationError(f"{did!r} is not a DID")
    collection_set = frozenset(collections or (POST_COLLECTION,))
    for nsid in collection_set:
        if not isinstance(nsid, str) or _NSID.fullmatch(nsid) is None:
            raise ValidationError(f"{nsid!r} is not a collection NSID")
    if source not in ("repos", "jetstream"):
        raise ValidationError("ex_source must be 'repos' or 'jetstream'")
    if source == "jetstream" and not url:
        raise ValidationError("a Jetstream stream needs its URL (ex_url or stream_url)")
    if url is None and (queries or wanted & _MESSAGES):
        # The PDS's own stream carries the repositories it hosts only: mentions from, and
        # posts of, accounts elsewhere would be missed (and a workflow stops polling them).
        raise ValidationError(
            "bluesky: mentions, replies, quotes and queries need a network-wide stream: set "
            "stream_url (a relay such as wss://bsky.network, or a Jetstream URL) or ex_url"
        )
    if url is not None and not url.startswith(("wss://", "ws://", "https://", "http://")):
        raise ValidationError("ex_url must be a ws(s):// or http(s):// URL")
    return StreamSpec(
        source=source,
        url=url,
        kinds=wanted,
        queries=tuple(queries),
        dids=did_set,
        collections=collection_set,
    )


def _ws(url: str) -> str:
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


def decode_cursor(cursor: str | None, source: str) -> int | None:
    """The sequence number (repos) or ``time_us`` (Jetstream) a cursor holds."""
    if cursor is None:
        return None
    prefix = "bsr1:" if source == "repos" else "bsj1:"
    if not isinstance(cursor, str) or not cursor.startswith(prefix):
        raise ValidationError(f"{cursor!r} is not a Bluesky {source} stream cursor")
    value = cursor[len(prefix) :]
    if not value.isdigit():
        raise ValidationError(f"{cursor!r} is not a Bluesky {source} stream cursor")
    return int(value)


def _cid(value: bytes) -> str | None:
    """A binary CID (as ``libipld`` decodes a DAG-CBOR link) in its string form."""
    import libipld

    try:
        return libipld.encode_cid(value)
    except (ValueError, TypeError):
        return None


def _json_form(value: Any) -> Any:
    """A DAG-CBOR record in the JSON form of the AT Protocol data model, as the mapping reads
    records: ``libipld`` gives CID links (blob references) as their binary CID, which become
    ``{"$link": "<cid>"}``; other bytes ``{"$bytes": "<base64>"}``."""
    if isinstance(value, dict):
        return {k: _json_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_form(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        link = _cid(bytes(value))
        if link is not None:
            return {"$link": link}
        return {"$bytes": base64.b64encode(bytes(value)).decode().rstrip("=")}
    return value


def open_stream(
    adapter: BlueskyAdapter,
    spec: StreamSpec,
    *,
    cursor: str | None,
    policy: StreamPolicy | None,
) -> EventStream:
    decode_cursor(cursor, spec.source)
    require(adapter.name, "websockets", *(("libipld",) if spec.source == "repos" else ()))
    reader = _Reader(adapter, spec, policy)
    return EventStream(
        adapter.name, reader.connect, cursor=cursor, policy=policy, default_stall=DEFAULT_STALL
    )


class _Reader:
    def __init__(
        self, adapter: BlueskyAdapter, spec: StreamSpec, policy: StreamPolicy | None
    ) -> None:
        self.adapter = adapter
        self.spec = spec
        stall = policy.stall if policy is not None and policy.stall is not None else None
        self.ping = min(PING_INTERVAL, stall / 3) if stall is not None else PING_INTERVAL
        self.me: str | None = None

    async def _url(self, cursor: int | None, resuming: bool) -> str:
        from urllib.parse import urlencode

        spec = self.spec
        params: list[tuple[str, str]] = []
        if spec.source == "jetstream":
            assert spec.url is not None
            params.extend(("wantedCollections", c) for c in sorted(spec.collections))
            if not spec.kinds & _MESSAGES:  # messages come from any repository
                params.extend(("wantedDids", d) for d in sorted(spec.dids))
            if cursor is not None:
                params.append(("cursor", str(max(0, cursor - JETSTREAM_REWIND_US))))
            base = _ws(spec.url)
        else:
            host = spec.url or await self.adapter._base()
            base = _ws(host.rstrip("/")) + "/xrpc/com.atproto.sync.subscribeRepos"
            if cursor is not None:
                params.append(("cursor", str(cursor)))
        return f"{base}?{urlencode(params)}" if params else base

    async def connect(
        self, cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | MalformedResponseError | None]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        if self.spec.kinds & _MESSAGES and self.me is None:
            self.me = (await self.adapter.me()).id
        url = await self._url(decode_cursor(cursor, self.spec.source), resuming)
        try:
            socket = await connect(
                url,
                ping_interval=self.ping,
                ping_timeout=self.ping,
                max_size=2**23,  # the firehose's largest frames (CAR slices) stay under 5 MB
                open_timeout=self.adapter.settings.timeout,
                user_agent_header=None,
            )
        except InvalidStatus as exc:
            from socialkit._stream import status_error

            status = exc.response.status_code
            raise status_error(
                self.adapter.name, status, f"the stream was refused (HTTP {status})"
            ) from None
        try:
            pulse()
            async for frame in socket:
                pulse()
                try:
                    if self.spec.source == "jetstream":
                        events = self._jetstream(frame)
                    else:
                        events = self._repos(frame)
                except MalformedResponseError as exc:
                    # Each WebSocket frame is whole: the next one is read as usual, so this
                    # one is skipped (and logged) rather than the connection dropped.
                    yield exc
                    continue
                if not events:
                    yield None  # nothing asked for in this frame: still a sign of life
                for event in events:
                    yield event
        finally:
            await socket.close()

    # -- frames --------------------------------------------------------------------------

    def _repos(self, frame: str | bytes) -> list[StreamEvent]:
        import libipld

        if not isinstance(frame, bytes):
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a text frame on subscribeRepos"
            )
        try:
            header, body = libipld.decode_dag_cbor_multi(frame)
        except (ValueError, TypeError):
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a frame that is not DAG-CBOR"
            ) from None
        if not isinstance(header, dict) or not isinstance(body, dict):
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a frame without header and body"
            )
        if header.get("op") == -1:
            # An error frame ends the stream: FutureCursor, ConsumerTooSlow …
            raise TransportError(
                self.adapter.name,
                f"the stream ended with {body.get('error')}: {body.get('message') or ''}",
            )
        if header.get("t") != "#commit":
            return []  # #identity, #account, #sync, #info: nothing asked for
        seq, repo = body.get("seq"), body.get("repo")
        if not isinstance(seq, int) or not isinstance(repo, str):
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a #commit without seq or repo"
            )
        cursor = f"bsr1:{seq}"
        if self.spec.dids and repo not in self.spec.dids and not self._wants_messages():
            return []
        ops = body.get("ops") or []
        blocks: dict[Any, Any] = {}
        if any(isinstance(op, dict) and op.get("action") != "delete" for op in ops):
            raw_blocks = body.get("blocks")
            if isinstance(raw_blocks, bytes) and raw_blocks:
                try:
                    _root, decoded = libipld.decode_car(raw_blocks)
                except (ValueError, TypeError):
                    raise MalformedResponseError(
                        self.adapter.name, None, "malformed_frame", "a commit's CAR is unreadable"
                    ) from None
                blocks = dict(decoded)
        out: list[StreamEvent] = []
        for op in ops:
            if not isinstance(op, dict) or not isinstance(op.get("path"), str):
                continue
            collection, _, rkey = op["path"].partition("/")
            if collection not in self.spec.collections:
                continue
            uri = f"at://{repo}/{collection}/{rkey}"
            action = op.get("action")
            if action == "delete":
                out.extend(self._delete(repo, uri, cursor))
                continue
            cid = op.get("cid")
            record = blocks.get(cid) if isinstance(cid, (bytes, str)) else None
            if isinstance(record, dict):
                name = _cid(cid) if isinstance(cid, bytes) else str(cid)
                out.extend(self._record(repo, uri, name or "", _json_form(record), cursor))
        if len(out) > 1:
            # The events of one commit share its seq, and a restart from a seq reads the
            # commits after it: all but the last carry the seq before, so that a stop between
            # two of them reads this commit again (the repeats dropped) instead of losing the
            # rest of it.
            before = f"bsr1:{max(0, seq - 1)}"
            out[:-1] = [event.model_copy(update={"cursor": before}) for event in out[:-1]]
        return out

    def _jetstream(self, frame: str | bytes) -> list[StreamEvent]:
        try:
            item = json.loads(frame)
        except ValueError:
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a Jetstream event is not JSON"
            ) from None
        if not isinstance(item, dict) or item.get("kind") != "commit":
            return []
        did, time_us, commit = item.get("did"), item.get("time_us"), item.get("commit")
        if not isinstance(did, str) or not isinstance(time_us, int) or not isinstance(commit, dict):
            raise MalformedResponseError(
                self.adapter.name, None, "malformed_frame", "a Jetstream commit without did"
            )
        collection, rkey = commit.get("collection"), commit.get("rkey")
        if collection not in self.spec.collections or not isinstance(rkey, str):
            return []
        cursor = f"bsj1:{time_us}"
        uri = f"at://{did}/{collection}/{rkey}"
        if commit.get("operation") == "delete":
            return self._delete(did, uri, cursor)
        record = commit.get("record")
        if not isinstance(record, dict):
            return []
        return self._record(did, uri, str(commit.get("cid") or commit.get("rev")), record, cursor)

    # -- records -------------------------------------------------------------------------

    def _wants_messages(self) -> bool:
        return bool(self.spec.kinds & _MESSAGES)

    def _delete(self, repo: str, uri: str, cursor: str) -> list[StreamEvent]:
        if "delete" not in self.spec.kinds or (self.spec.dids and repo not in self.spec.dids):
            return []
        return [
            StreamEvent(
                kind="delete",
                id=f"delete:{uri}",
                network=self.adapter.name,
                deleted_id=uri,
                cursor=cursor,
            )
        ]

    def _record(
        self, repo: str, uri: str, cid: str, record: dict[str, Any], cursor: str
    ) -> list[StreamEvent]:
        from socialkit.adapters.bluesky import _mapping

        out: list[StreamEvent] = []
        if record.get("$type", POST_COLLECTION) != POST_COLLECTION:
            return out
        author = Account(id=repo, network=self.adapter.name)
        message = self._message(repo, uri, record, author) if self._wants_messages() else None
        if message is not None and message.kind in self.spec.kinds:
            out.append(
                StreamEvent(
                    kind="message",
                    id=f"message:{uri}#{cid}",
                    network=self.adapter.name,
                    message=message,
                    cursor=cursor,
                )
            )
        if "post" in self.spec.kinds and (not self.spec.dids or repo in self.spec.dids):
            post = _mapping.post_from_record(uri, record, author=author)
            matched = self.spec.matches(post.text)
            if matched is not None:
                out.append(
                    StreamEvent(
                        kind="post",
                        id=f"post:{uri}#{cid}",
                        network=self.adapter.name,
                        post=post,
                        query=matched or None,
                        cursor=cursor,
                    )
                )
        return out

    def _message(
        self, repo: str, uri: str, record: dict[str, Any], author: Account
    ) -> Message | None:
        """A post addressed to the account: a reply to one of its posts, a quote of one, or
        a mention of it (in that order, as Bluesky's notifications rank them)."""
        from socialkit.adapters.bluesky import _mapping

        me = self.me
        if me is None or repo == me:
            return None
        own = f"at://{me}/"
        parent = _mapping._reply_parent(record)
        quoted = _mapping._quoted(record)
        kind: MessageKind | None = None
        post_id = None
        if parent is not None and parent.startswith(own):
            kind, post_id = "reply", parent
        elif quoted is not None and quoted.startswith(own):
            kind, post_id = "quote", quoted
        elif any(
            isinstance(feature, dict) and feature.get("did") == me
            for facet in record.get("facets") or []
            if isinstance(facet, dict)
            for feature in facet.get("features") or []
        ):
            kind = "mention"
        if kind is None:
            return None
        root = _mapping.reply_root(record)
        parts = _mapping.parse_at_uri(uri)
        created = _mapping._created_at(record, None) or datetime.now(timezone.utc)
        return Message(
            id=uri,
            network=self.adapter.name,
            kind=kind,
            text=_mapping._text(record),
            author=author,
            created_at=created,
            post_id=post_id,
            conversation_id=root["uri"] if root else uri,
            url=_mapping.web_url(repo, parts.rkey) if parts else None,
            language=_mapping._language(record),
            raw=record,
        )
