"""Mastodon's streaming API as a :class:`~socialkit.EventStream`.

The streaming server's URL comes from ``GET /api/v2/instance``
(``configuration.urls.streaming``, a ``wss://`` URL; its ``https://`` form serves the same
streams as server-sent events, which httpx reads as any response, parsed by ``httpx-sse``).
One connection per stream, as Mastodon documents them
(https://docs.joinmastodon.org/methods/streaming/):

* ``user`` (home timeline and notifications), or ``user/notification`` when only messages
  are asked for;
* ``hashtag`` (``hashtag/local``) for a query of one ``#tag``;
* ``public`` (``public/local``) for keywords or several tags, matched here (the streaming API
  has no keyword filter);
* ``list`` for ``ex_list``.

Events: ``update`` and ``status.update`` (a Status, as JSON in ``data``), ``notification`` (a
Notification: mentions, replies, quotes and private mentions become messages as
:meth:`MastodonAdapter.messages` reads them) and ``delete`` (a status id). ``:thump`` comments
are the heartbeat. An event whose ``data`` is not what its name says (not JSON, a Status
without its id) is skipped and logged, and the next event read on the same connection (the
stream's ``max_malformed``).

Mastodon's streams do not replay what happened while a client was away, so the cursor here is
the last status id and notification id read: on a reconnect (or a new stream given the
cursor), the adapter reads the matching REST timeline and the notifications with ``min_id``
forward from them, oldest first, before the live events, and duplicates across the two are
dropped by the stream's dedup.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import httpx

from socialkit._errors import ConfigurationError, MalformedResponseError, ValidationError
from socialkit._models import MessageKind
from socialkit._stream import EventStream, StreamEvent, StreamPolicy, require, stream_kinds

if TYPE_CHECKING:
    from socialkit.adapters.mastodon import MastodonAdapter, _wire

__all__ = ["StreamSpec", "open_stream", "plan"]

#: Mastodon sends a ``:thump`` every 15 s: three missed in a row is a stalled stream.
DEFAULT_STALL = 45.0
#: Pages of 40 read at most on one catch-up (what a long outage left is read by the REST API).
MAX_CATCHUP_PAGES = 25
_PREFIX = "mst1."
_MESSAGE_KINDS = frozenset({"mention", "reply", "quote", "direct"})


@dataclass(frozen=True)
class StreamSpec:
    """Which stream to open, what to keep, and the REST timeline that fills a gap."""

    name: str
    params: tuple[tuple[str, str], ...]
    kinds: frozenset[str]
    timeline: str | None
    timeline_params: tuple[tuple[str, str], ...] = ()
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def matches(self, text: str, tags: Iterable[str]) -> str | None:
        """The query a post matches (``None``: none), for streams filtered here."""
        if not self.keywords and not self.tags:
            return ""
        own = {t.lower() for t in tags}
        for tag in self.tags:
            if tag in own:
                return f"#{tag}"
        lowered = text.lower()
        for word in self.keywords:
            if re.search(rf"(?<!\w){re.escape(word.lower())}(?!\w)", lowered):
                return word
        return None


def plan(
    kinds: Iterable[str] | None,
    query: str | Iterable[str] | None,
    *,
    ex_list: str | None,
    ex_local: bool,
    check_id: Callable[[object, str], str],
) -> StreamSpec:
    """The stream for these arguments, checked before any request."""
    queries = [query] if isinstance(query, str) else list(query or [])
    queries = [q.strip() for q in queries]
    if any(not q for q in queries):
        raise ValidationError("stream queries must not be empty")
    if queries or ex_list is not None:
        wanted = stream_kinds(kinds, default={"post", "delete"})
        if wanted & _MESSAGE_KINDS:
            raise ValidationError(
                "a query or list stream carries posts: stream messages without a query"
            )
    else:
        wanted = stream_kinds(kinds)
    if ex_list is not None:
        if queries:
            raise ValidationError("give a query or ex_list, not both")
        list_id = check_id(ex_list, "list id")
        return StreamSpec("list", (("list", list_id),), wanted, f"/api/v1/timelines/list/{list_id}")
    if queries:
        tags = tuple(q[1:].lower() for q in queries if q.startswith("#"))
        words = tuple(q for q in queries if not q.startswith("#"))
        if any(not t or not re.fullmatch(r"\w+", t) for t in tags):
            raise ValidationError("a hashtag query must be # and one word")
        local = (("local", "true"),) if ex_local else ()
        if len(tags) == 1 and not words:
            name = "hashtag/local" if ex_local else "hashtag"
            return StreamSpec(
                name, (("tag", tags[0]),), wanted, f"/api/v1/timelines/tag/{tags[0]}", local
            )
        name = "public/local" if ex_local else "public"
        return StreamSpec(name, (), wanted, "/api/v1/timelines/public", local, words, tags)
    if not wanted & {"post", "delete"}:
        return StreamSpec("user/notification", (), wanted, None)
    return StreamSpec("user", (), wanted, "/api/v1/timelines/home")


def _encode(state: dict[str, str]) -> str:
    raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, str]:
    """The status and notification ids a cursor holds (``s``, ``n``); bad cursors raise."""
    if cursor is None:
        return {}
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise ValidationError(f"{cursor!r} is not a Mastodon stream cursor")
    body = cursor[len(_PREFIX) :]
    try:
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        raise ValidationError(f"{cursor!r} is not a Mastodon stream cursor") from None
    if not isinstance(state, dict) or not all(
        k in ("s", "n") and isinstance(v, str) and v.isdigit() for k, v in state.items()
    ):
        raise ValidationError(f"{cursor!r} is not a Mastodon stream cursor")
    return cast("dict[str, str]", state)


def _later(current: str | None, candidate: str) -> str:
    if current is None or int(candidate) > int(current):
        return candidate
    return current


class _Tap:
    """The response as ``httpx-sse`` reads it, telling the stall watchdog of every chunk
    (``:thump`` heartbeats are comments, which the SSE decoder drops without a trace)."""

    def __init__(self, response: httpx.Response, pulse: Callable[[], None]) -> None:
        self.headers = response.headers
        self._response = response
        self._pulse = pulse

    async def aiter_text(self) -> AsyncIterator[str]:
        async for text in self._response.aiter_text():
            self._pulse()
            yield text

    async def aiter_lines(self) -> AsyncIterator[str]:
        async for line in self._response.aiter_lines():
            self._pulse()
            yield line


def open_stream(
    adapter: MastodonAdapter,
    spec: StreamSpec,
    *,
    cursor: str | None,
    policy: StreamPolicy | None,
) -> EventStream:
    """The :class:`EventStream` of ``spec`` on ``adapter``'s server."""
    decode_cursor(cursor)  # a bad cursor is refused before any connection
    require(adapter.name, "httpx_sse")
    reader = _Reader(adapter, spec)
    return EventStream(
        adapter.name, reader.connect, cursor=cursor, policy=policy, default_stall=DEFAULT_STALL
    )


class _Reader:
    def __init__(self, adapter: MastodonAdapter, spec: StreamSpec) -> None:
        self.adapter = adapter
        self.spec = spec
        self.state: dict[str, str] = {}
        self._me: str | None = None
        self._base: str | None = None

    async def _streaming_base(self) -> str:
        """The streaming server's base URL, from the instance (its http(s) form)."""
        if self._base is None:
            from socialkit.adapters.mastodon import _wire

            instance: _wire.Instance = await self.adapter._model(
                _wire.Instance, "GET", "/api/v2/instance"
            )
            found = instance.configuration.urls.streaming or self.adapter.instance
            url = httpx.URL(found)
            scheme = {"wss": "https", "ws": "http", "https": "https", "http": "http"}.get(
                url.scheme
            )
            if scheme is None or not url.host:
                raise ConfigurationError(
                    f"mastodon: the server gives an unusable streaming URL ({url.scheme}://)"
                )
            self._base = str(url.copy_with(scheme=scheme, query=None, fragment=None)).rstrip("/")
        return self._base

    async def _me_id(self) -> str:
        if self._me is None:
            self._me = (await self.adapter._me_wire()).id
        return self._me

    def _cursor(self) -> str:
        return _encode(self.state)

    async def connect(
        self, cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | MalformedResponseError | None]:
        from httpx_sse import EventSource

        from socialkit.adapters.mastodon._network import decode_error

        for which, value in decode_cursor(cursor).items():
            self.state[which] = _later(self.state.get(which), value)
        base = await self._streaming_base()
        if self.spec.kinds & _MESSAGE_KINDS:
            await self._me_id()
        timeout = httpx.Timeout(self.adapter.settings.timeout, read=None)
        client = self.adapter.http
        request = client.build_request(
            "GET",
            f"{base}/api/v1/streaming/{self.spec.name}",
            params=list(self.spec.params),
            headers={"Accept": "text/event-stream", "Cache-Control": "no-store"},
            timeout=timeout,
        )
        # No context managers across the yields: the stream may be closed from outside
        # (aclose) while suspended, and the response must then be closed here, once.
        response = await client.send(request, auth=self.adapter._auth(), stream=True)
        events: AsyncIterator[Any] | None = None
        try:
            if response.status_code != 200:
                await response.aread()
                raise decode_error(response, self.adapter.name)
            pulse()
            # What happened since the cursor, read while the live stream is already open
            # (nothing falls between the two; the overlap is dropped as duplicates); a
            # source without a cursor yet starts from its newest item, so that a drop before
            # the first event loses nothing either.
            async for event in self._catch_up(pulse):
                yield event
            events = EventSource(cast("httpx.Response", _Tap(response, pulse))).aiter_sse()
            async for sse in events:
                yield await self._event(sse.event, sse.data)
        finally:
            if events is not None:
                await cast("Any", events).aclose()
            await response.aclose()

    async def _event(self, name: str, data: str) -> StreamEvent | MalformedResponseError | None:
        from socialkit.adapters.mastodon import _wire

        try:
            if name in ("update", "status.update"):
                status = _wire.Status.model_validate_json(data)
                return self._post_event(status, edited=name == "status.update")
            if name == "notification":
                note = _wire.Notification.model_validate_json(data)
                return await self._message_event(note)
        except ValueError:
            # Each server-sent event is whole: the next one is read as usual, so this one is
            # skipped (and logged) rather than the connection dropped.
            return MalformedResponseError(
                self.adapter.name, None, "malformed_event", f"a {name} event is not a {name}"
            )
        if name == "delete" and "delete" in self.spec.kinds and data.strip().isdigit():
            status_id = data.strip()
            return StreamEvent(
                kind="delete",
                id=f"delete:{status_id}",
                network=self.adapter.name,
                deleted_id=status_id,
                cursor=self._cursor(),
            )
        return None  # filters_changed, announcements, conversations: nothing asked for

    def _post_event(self, status: _wire.Status, *, edited: bool) -> StreamEvent | None:
        from socialkit.adapters.mastodon import _mapping

        if self.spec.timeline is not None:
            self.state["s"] = _later(self.state.get("s"), status.id)
        if "post" not in self.spec.kinds:
            return None
        post = _mapping.post(status, self.adapter._host)
        matched = self.spec.matches(post.text, re.findall(r"#(\w+)", post.text))
        if matched is None:
            return None
        stamp = status.edited_at.isoformat() if edited and status.edited_at else ""
        return StreamEvent(
            kind="post",
            id=f"edit:{status.id}:{stamp}" if edited else f"status:{status.id}",
            network=self.adapter.name,
            post=post,
            edited=edited,
            query=matched or None,
            cursor=self._cursor(),
        )

    async def _message_event(self, note: _wire.Notification) -> StreamEvent | None:
        from socialkit.adapters.mastodon import _mapping

        if self.spec.name not in ("user", "user/notification"):
            return None
        self.state["n"] = _later(self.state.get("n"), note.id)
        status = note.status
        if status is None or note.type not in ("mention", "quote"):
            return None
        kind: MessageKind
        post_id = None
        if note.type == "quote":
            kind = "quote"
            post_id = status.quote.status_id if status.quote is not None else None
        elif status.visibility == "direct":
            kind = "direct"
        elif status.in_reply_to_account_id == await self._me_id():
            kind = "reply"
        else:
            kind = "mention"
        if kind not in self.spec.kinds:
            return None
        return StreamEvent(
            kind="message",
            id=f"notification:{note.id}",
            network=self.adapter.name,
            message=_mapping.message(status, kind, self.adapter._host, post_id=post_id),
            cursor=self._cursor(),
        )

    async def _catch_up(self, pulse: Callable[[], None]) -> AsyncIterator[StreamEvent | None]:
        from socialkit.adapters.mastodon import _wire

        if self.spec.timeline is not None and "post" in self.spec.kinds:
            params = list(self.spec.timeline_params)
            if "s" not in self.state:
                await self._seed(_wire.Status, self.spec.timeline, params, "s")
            else:
                for status in await self._forward(
                    _wire.Status, self.spec.timeline, params, "s", pulse
                ):
                    yield self._post_event(status, edited=False)
        if self.spec.kinds & _MESSAGE_KINDS:
            types = [("types[]", "mention"), ("types[]", "quote")]
            if "n" not in self.state:
                await self._seed(_wire.Notification, "/api/v1/notifications", types, "n")
            else:
                for note in await self._forward(
                    _wire.Notification, "/api/v1/notifications", types, "n", pulse
                ):
                    yield await self._message_event(note)

    async def _seed(
        self, model: Any, path: str, params: list[tuple[str, str]], which: Literal["s", "n"]
    ) -> None:
        """Start the cursor at the newest item (``0`` when there is none)."""
        response = await self.adapter._request("GET", path, params=[*params, ("limit", "1")])
        page = self.adapter._parse(list[model], response)
        newest = max((int(item.id) for item in page), default=0)
        self.state[which] = _later(self.state.get(which), str(newest))

    async def _forward(
        self,
        model: Any,
        path: str,
        params: list[tuple[str, str]],
        which: Literal["s", "n"],
        pulse: Callable[[], None],
    ) -> list[Any]:
        """Every item after the cursor's id, oldest first (``min_id`` pages forward)."""
        after = self.state[which]
        found: list[Any] = []
        for _ in range(MAX_CATCHUP_PAGES):
            response = await self.adapter._request(
                "GET", path, params=[*params, ("min_id", after), ("limit", "40")]
            )
            pulse()
            page = self.adapter._parse(list[model], response)
            if not page:
                break
            page = sorted(page, key=lambda item: int(item.id))
            found.extend(page)
            after = page[-1].id
            if len(page) < 40:
                break
        return found
