"""X's filtered stream (``GET /2/tweets/search/stream``) as a :class:`~socialkit.EventStream`.

The filtered stream delivers, to an app (app-only ``bearer_token``), every new post that
matches one of the app's rules, as one JSON object per line (``data``, ``includes``,
``matching_rules``) and a bare ``\\r\\n`` keep-alive every 20 seconds
(https://docs.x.com/x-api/posts/filtered-stream/introduction).

* **Rules** are the stream's query: ``stream(query=[...])`` makes the app's rules match it,
  through ``GET`` and ``POST /2/tweets/search/stream/rules``, before connecting: each query is
  one rule, tagged ``socialkit``; rules of this tag that are no longer asked for are deleted,
  and rules the app made otherwise (other tags) are left alone. Each event says which rule
  matched (:attr:`StreamEvent.query`).
* **Backfill**: X keeps the last five minutes; a reconnect asks for the minutes since the
  connection was last alive (``backfill_minutes``, at most 5), and a new stream given a cursor
  for the minutes since its last post, so a short drop loses nothing; the overlap is removed
  by the stream's dedup on post ids.
* **Heartbeat**: the keep-alive newlines; 30 seconds of silence (a keep-alive and a half
  missed) reopens the connection, as X advises.
* A line with ``errors`` and no ``data`` (an operational disconnect) ends the connection,
  which is reopened. A line that is not a post (not JSON, or a post without its id) is
  skipped and logged, and the next line read on the same connection (the stream's
  ``max_malformed``).
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
from pydantic import Field

from socialkit._errors import (
    ConfigurationError,
    MalformedResponseError,
    TransportError,
    ValidationError,
)
from socialkit._stream import EventStream, StreamEvent, StreamPolicy, stream_kinds
from socialkit.adapters.x import _mapping as mapping
from socialkit.adapters.x import _wire as wire

if TYPE_CHECKING:
    from socialkit.adapters.x._adapter import XAdapter

__all__ = ["RULE_TAG", "Rule", "list_rules", "open_stream", "sync_rules"]

#: The tag of the rules socialkit manages (rules with other tags are never touched).
RULE_TAG = "socialkit"
#: X sends a keep-alive every 20 seconds.
DEFAULT_STALL = 30.0
#: How far back X can backfill a reconnect, in minutes.
MAX_BACKFILL = 5
#: The longest rule X accepts (Pro: 1,024 characters).
MAX_RULE = 1024
_PREFIX = "xs1."
_RULES = "/2/tweets/search/stream/rules"


class Rule(wire._Wire):
    """A filtered-stream rule (``GetRulesResponseData``)."""

    id: str
    value: str
    tag: str | None = None


class _RulesPage(wire._Wire):
    data: list[Rule] = Field(default_factory=list)
    errors: list[wire.Problem] = Field(default_factory=list)


class _RulesUpdate(wire._Wire):
    data: list[Rule] = Field(default_factory=list)
    errors: list[wire.Problem] = Field(default_factory=list)


class _MatchingRule(wire._Wire):
    id: str
    tag: str | None = None


class _StreamLine(wire._Wire):
    """``StreamPostsResponse``: one post and the rules it matched, or errors."""

    data: wire.WirePost | None = None
    includes: wire.Includes = Field(default_factory=wire.Includes)
    errors: list[wire.Problem] = Field(default_factory=list)
    matching_rules: list[_MatchingRule] = Field(default_factory=list)


def queries_of(query: str | Iterable[str] | None) -> list[str]:
    """The rule values asked for, checked (before any request)."""
    values = [query] if isinstance(query, str) else list(query or [])
    values = list(dict.fromkeys(v.strip() for v in values))
    if not values:
        raise ValidationError(
            "x: the filtered stream needs a query (its rules); mentions and direct messages "
            "arrive through the Account Activity webhooks (socialkit.webhooks)"
        )
    for value in values:
        if not value:
            raise ValidationError("stream queries must not be empty")
        if len(value) > MAX_RULE:
            raise ValidationError(f"x: a stream rule is at most {MAX_RULE} characters long")
    return values


async def list_rules(adapter: XAdapter) -> list[Rule]:
    """Every rule of the app's filtered stream."""
    page = await adapter._call(_RulesPage, "GET", _RULES, params={"max_results": 1000})
    return list(page.data)


async def sync_rules(adapter: XAdapter, values: Iterable[str]) -> dict[str, str]:
    """Make the app's ``socialkit`` rules exactly ``values``; returns ``{rule id: value}``
    of every rule of the app (those of other tags too), to name what each event matched."""
    wanted = list(dict.fromkeys(values))
    page = await adapter._call(_RulesPage, "GET", _RULES, params={"max_results": 1000})
    current = {rule.value: rule for rule in page.data}
    stale = [
        rule.id
        for rule in page.data
        if (rule.tag or "").startswith(RULE_TAG) and rule.value not in wanted
    ]
    if stale:
        await adapter._call(_RulesUpdate, "POST", _RULES, json={"delete": {"ids": stale}})
    missing = [value for value in wanted if value not in current]
    names = {rule.id: rule.value for rule in page.data if rule.id not in stale}
    if missing:
        added = await adapter._call(
            _RulesUpdate,
            "POST",
            _RULES,
            json={"add": [{"value": value, "tag": RULE_TAG} for value in missing]},
        )
        if added.errors:
            raise adapter._problem(added.errors, "the stream rules")
        names.update({rule.id: rule.value for rule in added.data})
    return names


def _encode(post_id: str, moment: float) -> str:
    raw = json.dumps({"id": post_id, "t": round(moment, 3)}, separators=(",", ":")).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[str, float] | None:
    """The last post id and its wall time a cursor holds; a bad cursor raises."""
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise ValidationError(f"{cursor!r} is not an X stream cursor")
    body = cursor[len(_PREFIX) :]
    try:
        state = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        post_id, moment = str(state["id"]), float(state["t"])
    except (ValueError, TypeError, KeyError):
        raise ValidationError(f"{cursor!r} is not an X stream cursor") from None
    if not post_id.isdigit():
        raise ValidationError(f"{cursor!r} is not an X stream cursor")
    return post_id, moment


def open_stream(
    adapter: XAdapter,
    *,
    kinds: Iterable[str] | None,
    query: str | Iterable[str] | None,
    cursor: str | None,
    policy: StreamPolicy | None,
    backfill: bool,
) -> EventStream:
    """The :class:`EventStream` of the filtered stream for ``query``; checked before any
    request."""
    wanted = stream_kinds(kinds, default={"post"})
    if wanted != {"post"}:
        raise ValidationError(
            "x: the filtered stream carries posts only; mentions and direct messages arrive "
            "through the Account Activity webhooks (socialkit.webhooks)"
        )
    values = queries_of(query)
    if adapter.settings.auth_mode != "app":
        raise ConfigurationError(
            "x: the filtered stream is app-only: connect an adapter with the app's "
            "bearer_token to stream"
        )
    decode_cursor(cursor)
    reader = _Reader(adapter, values, backfill=backfill)
    return EventStream(
        adapter.name, reader.connect, cursor=cursor, policy=policy, default_stall=DEFAULT_STALL
    )


class _Reader:
    def __init__(self, adapter: XAdapter, values: list[str], *, backfill: bool) -> None:
        self.adapter = adapter
        self.values = values
        self.backfill = backfill
        self.names: dict[str, str] | None = None
        self.alive_at: float | None = None  # wall time the connection was last heard from
        #: The last post of the stream a restart resumes (X ids grow with time): a backfill
        #: replays posts up to it, which that stream delivered already.
        self.floor: int | None = None

    def _backfill_minutes(self, cursor: str | None, resuming: bool) -> int:
        if not self.backfill:
            return 0
        since = self.alive_at if resuming else None
        state = decode_cursor(cursor)
        if since is None and state is not None:
            since = state[1]
        if since is None:
            return 0
        gap = max(0.0, time.time() - since)
        return min(MAX_BACKFILL, max(1, math.ceil(gap / 60)))

    async def connect(
        self, cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | MalformedResponseError | None]:
        from socialkit.adapters.x._adapter import _post_query
        from socialkit.adapters.x._network import decode_x_error

        if self.names is None:
            self.names = await sync_rules(self.adapter, self.values)
            state = decode_cursor(cursor)
            self.floor = int(state[0]) if state is not None else None
        # The stream endpoint still takes the v2 names of the time of tweets
        # (``tweet.fields``, ``referenced_tweets.id``; openapi.json).
        query = _post_query()
        params: dict[str, Any] = {
            "tweet.fields": query["post.fields"],
            "expansions": query["expansions"].replace("referenced_posts", "referenced_tweets.id"),
            "user.fields": query["user.fields"],
            "media.fields": query["media.fields"],
            "poll.fields": query["poll.fields"],
        }
        minutes = self._backfill_minutes(cursor, resuming)
        if minutes:
            params["backfill_minutes"] = minutes
        client = self.adapter.http
        request = client.build_request(
            "GET",
            f"{self.adapter.settings.base_url}/2/tweets/search/stream",
            params=params,
            timeout=httpx.Timeout(self.adapter.settings.timeout, read=None),
        )
        response = await client.send(request, auth=await self.adapter._auth(), stream=True)
        try:
            if response.status_code != 200:
                await response.aread()
                raise decode_x_error(response, self.adapter.name)
            self._alive(pulse)
            async for line in response.aiter_lines():
                self._alive(pulse)
                if not line.strip():
                    yield None  # the keep-alive
                    continue
                yield self._event(line)
        finally:
            await response.aclose()

    def _alive(self, pulse: Callable[[], None]) -> None:
        self.alive_at = time.time()
        pulse()

    def _event(self, line: str) -> StreamEvent | MalformedResponseError | None:
        try:
            item = _StreamLine.model_validate_json(line)
        except pydantic.ValidationError:
            # Lines are whole objects, one per line: the next one is read as usual, so this
            # one is skipped (and logged) rather than the connection dropped.
            return MalformedResponseError(
                self.adapter.name, None, "malformed_event", "a stream line is not a post"
            )
        if item.data is None:
            problem = item.errors[0] if item.errors else None
            detail = (problem.detail or problem.title) if problem is not None else None
            raise TransportError(
                self.adapter.name, f"the stream was ended by X: {detail or 'no detail'}"
            )
        if self.floor is not None and item.data.id.isdigit() and int(item.data.id) <= self.floor:
            return None  # read before the restart
        post = mapping.post_from(item.data, item.includes)
        names = self.names or {}
        matched = [names.get(rule.id) or rule.tag for rule in item.matching_rules]
        query = next((m for m in matched if m in self.values), None)
        return StreamEvent(
            kind="post",
            id=f"post:{item.data.id}",
            network=self.adapter.name,
            post=post,
            query=query,
            cursor=_encode(item.data.id, time.time()),
        )
