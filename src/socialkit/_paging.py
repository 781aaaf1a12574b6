"""Lazy, resumable paging: :class:`Paged` and :class:`Page`.

Every iterator an adapter returns (``posts``, ``search``, ``messages``, ``timeline``,
``followers`` …) is a :class:`Paged`. It fetches one network page at a time, applies ``since``,
``until`` and ``limit`` the same way on every network, and keeps a **cursor**: an opaque string
that resumes the walk right after the last item it yielded, even in the middle of a page::

    feed = net.posts(limit=50)
    async for post in feed:
        handle(post)
    store.save(feed.cursor)                      # where this walk stopped
    ...                                          # later, in another process
    async for post in net.posts(cursor=store.load()):
        ...                                      # the next, older posts: none repeated

or page by page, with a cursor per page::

    async for page in net.posts().pages():
        for post in page.items: ...
        store.save(page.cursor)

A walk goes from newest to oldest. Resuming continues toward older items: posts published
between the two runs are newer than the walk and are not part of it (start a new walk, or use
``since``, to read them). Items are never repeated or skipped across a resume.

Adapters build a ``Paged`` from a *fetch* function that reads one network page given the
network's own cursor (``None`` for the first page) and a size hint, and returns a
:class:`Batch`. Where the network can resume right after any item (Mastodon ``max_id``, X
``until_id``), the batch says so with ``item_cursors`` and the cursor survives items deleted
in between; otherwise the cursor is the page's network cursor plus how many of its items were
already read.

Several sources (mentions and direct messages, say) merge with :meth:`Paged.merge`, newest
first, under one cursor that resumes every source where it stopped.
"""

from __future__ import annotations

import base64
import heapq
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from socialkit._errors import ValidationError

__all__ = ["Batch", "Page", "Paged"]

T = TypeVar("T")

_PREFIX = "sk1."


@dataclass(frozen=True)
class Batch(Generic[T]):
    """One network page, as an adapter's fetch function returns it.

    ``next`` is the network's cursor for the following (older) page, ``None`` at the end.
    ``item_cursors``, when the network can resume right after any item, holds that network
    cursor for each item (same length as ``items``). ``filtered`` says that the network's
    page held items and the adapter's own filter dropped them all (a ``kinds`` filter, the
    account's own posts among mentions, posts without comments): such a batch is not an empty
    page of the network, and the walk reads on past any number of them, where a run of empty
    pages ends it.
    """

    items: Sequence[T]
    next: str | None = None
    item_cursors: Sequence[str] | None = None
    filtered: bool = False


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items read from one network page (after ``since``/``until``/``limit``), and the cursor
    that resumes right after them. ``last`` is true when the walk has nothing more."""

    items: list[T]
    cursor: str | None
    last: bool = False


Fetch = Callable[[str | None, "int | None"], Awaitable[Batch[T]]]
"""``fetch(network_cursor, want)``: one page; ``want`` is how many items are still wanted."""


def _encode(state: Any) -> str:
    raw = json.dumps(state, separators=(",", ":"), ensure_ascii=True).encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    if not isinstance(cursor, str) or not cursor.startswith(_PREFIX):
        raise ValidationError(f"{cursor!r} is not a cursor socialkit made")
    body = cursor[len(_PREFIX) :]
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, TypeError):
        raise ValidationError(f"{cursor!r} is not a cursor socialkit made") from None


def _single_state(value: Any) -> dict[str, Any]:
    if (
        isinstance(value, dict)
        and {"c", "s"} <= set(value) <= {"c", "s", "k", "t"}
        and (value["c"] is None or isinstance(value["c"], str))
        and isinstance(value["s"], int)
        and value["s"] >= 0
        and isinstance(value.get("k"), (str, type(None)))
        and isinstance(value.get("t"), (int, float, type(None)))
    ):
        return dict(value)
    raise ValidationError("this cursor belongs to another kind of iterator")


@dataclass
class _Step(Generic[T]):
    item: T
    state: dict[str, Any]
    """The source's resume state right after this item."""
    page_end: bool
    """This item is the last one of its network page."""
    final: bool
    """... and that page is the source's last."""


class _Chunk(Generic[T]):
    """The items of one network page a walk reads (those past its resume point), with the
    resume state after each computed only when asked for: a walk read page by page needs
    the state after the last item only."""

    __slots__ = ("batch", "cursor", "final", "items", "key_of", "start", "time_of")

    def __init__(
        self,
        items: list[T],
        start: int,
        batch: Batch[T],
        cursor: str | None,
        key_of: Callable[[T], str | None],
        time_of: Callable[[T], datetime | None] | None,
    ) -> None:
        self.items = items
        self.start = start
        """The page index of ``items[0]``."""
        self.batch = batch
        self.cursor = cursor
        """The network cursor the page was read with."""
        self.final = batch.next is None
        self.key_of = key_of
        self.time_of = time_of

    def state(self, position: int) -> dict[str, Any]:
        """The source's resume state right after ``items[position]``."""
        index = self.start + position
        batch = self.batch
        per_item = batch.item_cursors
        if per_item is not None:
            return {"c": per_item[index], "s": 0}
        if index == len(batch.items) - 1 and batch.next is not None:
            return {"c": batch.next, "s": 0}
        item = self.items[position]
        state: dict[str, Any] = {"c": self.cursor, "s": index + 1}
        key = self.key_of(item)
        moment = self.time_of(item) if self.time_of is not None else None
        if key is not None:
            state["k"] = key
        if moment is not None:
            state["t"] = moment.timestamp()
        return state


#: Empty pages in a row after which a source counts as ended.
_EMPTY_PAGES = 3


@dataclass
class _Source(Generic[T]):
    name: str
    fetch: Fetch[T]
    state: dict[str, Any]

    async def chunks(
        self,
        want: Callable[[], int | None],
        key_of: Callable[[T], str | None],
        time_of: Callable[[T], datetime | None] | None,
    ) -> AsyncGenerator[_Chunk[T], None]:
        """The source's pages from its resume state on, each as the items past that state.

        A state without a per-item network cursor is the page's network cursor, how many of
        its items were read, and an *anchor*: the key and time of the last item read. On
        resume, items newer than the anchor and the anchor itself are passed over (across
        pages: items published since may have pushed it down), so insertions at the top of a
        feed cause no repeats. Without times, the anchor is looked for in the first page only,
        and the count is used when it is not there.
        """
        network_cursor = self.state["c"]
        skip = self.state["s"]
        anchor_key: str | None = self.state.get("k")
        anchor_time: float | None = self.state.get("t")
        anchored = anchor_key is not None or anchor_time is not None
        first_page = True
        empty = 0
        filtering = False  # once a page was emptied by the adapter's filter, ask for full ones
        seen: set[str | None] = {network_cursor}  # a cursor met before (a cycle) ends the walk
        while True:
            hint = None if filtering else _hint(want(), skip if first_page else 0)
            batch = await self.fetch(network_cursor, hint)
            items = list(batch.items)
            per_item = batch.item_cursors
            if per_item is not None and len(per_item) != len(items):
                raise ValueError("Batch.item_cursors must match Batch.items")
            start = 0
            if anchored:
                start, found = _past_anchor(
                    items, anchor_key, anchor_time, key_of, time_of, skip if first_page else 0
                )
                if found or anchor_time is None or start < len(items):
                    anchored = False
            elif first_page:
                start = min(skip, len(items))
            yield _Chunk(
                items[start:] if start else items, start, batch, network_cursor, key_of, time_of
            )
            first_page = False
            # An empty page with a cursor is not the end (a filtered search or listing can
            # answer one between full ones); a cursor that does not move, or a run of empty
            # pages, is: a source answering nothing forever must not be walked forever, nor
            # one whose cursors come round again. A page the adapter's filter emptied
            # (``filtered``) moved through the network's items.
            if batch.next is None or batch.next in seen:
                return
            seen.add(batch.next)
            empty = 0 if items or batch.filtered else empty + 1
            filtering = filtering or batch.filtered
            if empty >= _EMPTY_PAGES:
                return
            network_cursor = batch.next

    async def walk(
        self,
        want: Callable[[], int | None],
        key_of: Callable[[T], str | None],
        time_of: Callable[[T], datetime | None] | None,
    ) -> AsyncIterator[_Step[T]]:
        """The source's items (:meth:`chunks`) one by one, each with the state after it."""
        async for chunk in self.chunks(want, key_of, time_of):
            last = len(chunk.items) - 1
            for position, item in enumerate(chunk.items):
                end = position == last
                yield _Step(item, chunk.state(position), end, end and chunk.final)


def _past_anchor(
    items: list[T],
    key: str | None,
    moment: float | None,
    key_of: Callable[[T], str | None],
    time_of: Callable[[T], datetime | None] | None,
    count: int,
) -> tuple[int, bool]:
    """Where reading resumes in ``items`` after the anchor, and whether the anchor was seen."""
    if key is not None:
        for index, item in enumerate(items):
            if key_of(item) == key:
                return index + 1, True
    if moment is not None and time_of is not None:
        index = 0
        while index < len(items):
            when = time_of(items[index])
            if when is None or when.timestamp() < moment:
                break
            index += 1
        return index, False
    return min(count, len(items)), False


def _hint(want: int | None, skip: int) -> int | None:
    return None if want is None else want + skip


def _key(item: Any) -> str | None:
    value = getattr(item, "id", None)
    return value if isinstance(value, str) else None


class Paged(AsyncIterator[T]):
    """An async iterator over a network's items, newest first, that can be resumed.

    Iterate it once (``async for``), or call :meth:`pages` before iterating to get
    :class:`Page` objects. ``cursor`` is the resume point after the last item yielded.
    """

    def __init__(
        self,
        fetch: Fetch[T] | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        time_of: Callable[[T], datetime | None] | None = None,
        key_of: Callable[[T], str | None] = _key,
        ordered: bool = True,
        sources: dict[str, Fetch[T]] | None = None,
    ) -> None:
        if (fetch is None) == (sources is None):
            raise TypeError("Paged needs fetch or sources")
        if limit is not None and limit < 0:
            raise ValidationError(f"limit must be 0 or more, not {limit}")
        if since is not None and until is not None and since > until:
            raise ValidationError("since must not be later than until")
        if (since is not None or until is not None) and time_of is None:
            raise TypeError("since/until need time_of")
        self._since = since
        self._until = until
        self._limit = limit
        self._time_of = time_of
        self._key_of = key_of
        self._ordered = ordered
        self._merged = sources is not None
        self._merge_anchor: float | None = None
        """Merged walks: the time of the last item yielded. On resume, what any source holds
        newer than it arrived after the walk began and is passed over."""
        named: dict[str, Fetch[T]] = {}
        if sources is not None:
            named.update(sources)
        elif fetch is not None:
            named[""] = fetch
        states = self._start_states(cursor, list(named))
        self._sources = [_Source(n, f, states[n]) for n, f in named.items()]
        self._count = 0
        self._cursor = cursor
        self._cursor_state: Any = None
        """The state of :attr:`cursor` when it is still to be encoded (only when asked for)."""
        self._cursor_at: tuple[_Chunk[T], int] | None = None
        """A single source's walk: the page and position :attr:`cursor` resumes after (its
        state is computed only when asked for)."""
        self._exhausted = False
        self._iter: AsyncIterator[tuple[T, bool, bool]] | None = None
        self._mode: str | None = None

    @classmethod
    def merge(
        cls,
        sources: dict[str, Fetch[T]],
        *,
        time_of: Callable[[T], datetime | None],
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[T]:
        """Several newest-first sources as one, newest first, under one cursor.

        Items without a time sort last. ``sources`` maps a stable name (kept in the cursor)
        to each source's fetch function.
        """
        return cls(
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=time_of,
            sources=sources,
        )

    @staticmethod
    def empty() -> Paged[Any]:
        """A Paged with no items (for ``limit=0`` or a source with nothing to read)."""

        async def nothing(cursor: str | None, want: int | None) -> Batch[Any]:
            return Batch([])

        return Paged(nothing)

    # -- state ---------------------------------------------------------------------------

    def _start_states(self, cursor: str | None, names: list[str]) -> dict[str, dict[str, Any]]:
        fresh: dict[str, dict[str, Any]] = {n: {"c": None, "s": 0} for n in names}
        if cursor is None:
            return fresh
        decoded = _decode(cursor)
        if not self._merged:
            return {"": _single_state(decoded)}
        if (
            not isinstance(decoded, dict)
            or not {"m"} <= set(decoded) <= {"m", "t"}
            or not isinstance(decoded["m"], dict)
            or not isinstance(decoded.get("t"), (int, float, type(None)))
        ):
            raise ValidationError("this cursor belongs to another kind of iterator")
        self._merge_anchor = decoded.get("t")
        for name, value in decoded["m"].items():
            if name not in fresh:
                raise ValidationError(f"this cursor names a source {name!r} this iterator lacks")
            fresh[name] = _single_state(value)
        return fresh

    def _mark_cursor(self) -> None:
        """A merged walk's cursor now resumes after the item just read (encoded when asked
        for)."""
        state: dict[str, Any] = {"m": {s.name: s.state for s in self._sources}}
        if self._merge_anchor is not None:
            state["t"] = self._merge_anchor
        self._cursor_state = state

    @property
    def cursor(self) -> str | None:
        """Resume point right after the last item yielded (``None`` before the first item,
        or the cursor this iterator started from)."""
        at = self._cursor_at
        if at is not None:
            self._cursor_at = None
            chunk, position = at
            self._sources[0].state = self._cursor_state = chunk.state(position)
        if self._cursor_state is not None:
            self._cursor = _encode(self._cursor_state)
            self._cursor_state = None
        return self._cursor

    @property
    def exhausted(self) -> bool:
        """True once the walk has reached its end (the oldest item, ``since``, or nothing)."""
        return self._exhausted

    # -- iteration --------------------------------------------------------------------------

    def __aiter__(self) -> Paged[T]:
        return self

    async def __anext__(self) -> T:
        if self._mode == "pages":
            raise RuntimeError("this Paged is already iterated by pages()")
        self._mode = "items"
        if self._iter is None:
            self._iter = self._run()
        item, _, _ = await self._iter.__anext__()
        return item

    async def pages(self) -> AsyncIterator[Page[T]]:
        """The items grouped by network page, each :class:`Page` with its resume cursor."""
        if self._mode == "items":
            raise RuntimeError("this Paged is already iterated item by item")
        self._mode = "pages"
        batch: list[T] = []
        final = False
        bounded = self._time_of is not None and (self._since is not None or self._until is not None)
        if self._merged or bounded or self._limit == 0:
            async for item, page_end, final in self._run():
                batch.append(item)
                if page_end:
                    yield Page(batch, self.cursor, last=final)
                    batch = []
        else:
            # What iterating _run() gives, a page at a time: with no since/until to apply,
            # each page's items are taken whole (up to the limit), with no step per item.
            chunks = self._sources[0].chunks(self._remaining, self._key_of, self._time_of)
            try:
                async for chunk in chunks:
                    items = chunk.items
                    if not items:
                        continue
                    room = None if self._limit is None else self._limit - self._count
                    taken = items if room is None or room >= len(items) else items[:room]
                    self._count += len(taken)
                    self._cursor_at = (chunk, len(taken) - 1)
                    batch.extend(taken)
                    if len(taken) == len(items):
                        final = chunk.final
                        yield Page(batch, self.cursor, last=final)
                        batch = []
                    if len(taken) == room:
                        break  # the limit is reached: not exhausted
                else:
                    self._exhausted = True
            finally:
                await chunks.aclose()  # (at once, not when the event loop gets to it)
        if batch or not final:
            yield Page(batch, self.cursor, last=self._exhausted)

    def _remaining(self) -> int | None:
        return None if self._limit is None else max(self._limit - self._count, 0)

    async def _run(self) -> AsyncIterator[tuple[T, bool, bool]]:
        if self._limit == 0:
            self._exhausted = False
            return
        if not self._merged:
            chunks = self._sources[0].chunks(self._remaining, self._key_of, self._time_of)
            try:
                async for chunk in chunks:
                    last = len(chunk.items) - 1
                    for position, item in enumerate(chunk.items):
                        verdict = self._verdict(item)
                        self._cursor_at = (chunk, position)
                        if verdict == "stop":
                            self._exhausted = True
                            return
                        if verdict == "skip":
                            continue
                        self._count += 1
                        end = position == last
                        yield item, end, end and chunk.final
                        if self._limit is not None and self._count >= self._limit:
                            return
            finally:
                await chunks.aclose()
            self._exhausted = True
            return
        async for item, page_end in self._merge():
            yield item, page_end, False
            if self._limit is not None and self._count >= self._limit:
                return
        self._exhausted = True

    def _verdict(self, item: T) -> str:
        """``take``, ``skip`` (newer than ``until``) or ``stop`` (older than ``since``)."""
        if self._time_of is None or (self._since is None and self._until is None):
            return "take"
        moment = self._time_of(item)
        if moment is None:
            return "take"
        if self._until is not None and moment > self._until:
            return "skip"
        if self._since is not None and moment < self._since:
            return "stop" if self._ordered else "skip"
        return "take"

    async def _merge(self) -> AsyncIterator[tuple[T, bool]]:
        walks = {
            s.name: s.walk(self._remaining, self._key_of, self._time_of) for s in self._sources
        }
        by_name = {s.name: s for s in self._sources}
        heads: list[tuple[float, int, str, _Step[T]]] = []
        order = 0

        async def pull(name: str) -> None:
            nonlocal order
            try:
                step = await walks[name].__anext__()
            except StopAsyncIteration:
                return
            moment = self._time_of(step.item) if self._time_of else None
            key = -moment.timestamp() if moment is not None else float("inf")
            order += 1
            heapq.heappush(heads, (key, order, name, step))

        for name in walks:
            await pull(name)
        while heads:
            _, _, name, step = heapq.heappop(heads)
            verdict = self._verdict(step.item)
            moment = self._time_of(step.item) if self._time_of else None
            if (
                verdict == "take"
                and moment is not None
                and self._merge_anchor is not None
                and moment.timestamp() > self._merge_anchor
            ):
                verdict = "skip"
            if verdict == "stop":
                # This source has nothing newer than ``since`` left; the others go on.
                continue
            by_name[name].state = step.state
            if verdict == "take" and moment is not None:
                self._merge_anchor = moment.timestamp()
            self._mark_cursor()
            if verdict == "take":
                self._count += 1
                yield step.item, step.page_end
                if self._limit is not None and self._count >= self._limit:
                    return
            await pull(name)
