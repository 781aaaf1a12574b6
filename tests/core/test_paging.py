"""socialkit.Paged: since/until/limit alike on every network, and cursors that resume exactly
after the last item yielded (mid-page too), alone and merged, with items arriving between."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import Batch, Page, Paged, ValidationError

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Item:
    id: str
    created_at: datetime | None


class Feed:
    """A newest-first feed served in pages of ``size``, by offset cursors (like Bluesky) or by
    item ids (like Mastodon's max_id) when ``by_id``. New items can be added at the top."""

    def __init__(self, count: int, *, size: int = 3, by_id: bool = False) -> None:
        self.items = [Item(f"i{n}", T0 + timedelta(minutes=n)) for n in range(count)][::-1]
        self.size = size
        self.by_id = by_id
        self.fetches: list[str | None] = []
        self.wants: list[int | None] = []

    def add_newer(self, n: int) -> None:
        start = len(self.items)
        for k in range(n):
            self.items.insert(0, Item(f"i{start + k}", T0 + timedelta(minutes=start + k)))

    async def fetch(self, cursor: str | None, want: int | None) -> Batch[Item]:
        self.fetches.append(cursor)
        self.wants.append(want)
        if self.by_id:
            # The cursor is an item id: the page starts right after (older than) it.
            start = 0 if cursor is None else [i.id for i in self.items].index(cursor) + 1
            page = self.items[start : start + self.size]
            more = start + self.size < len(self.items)
            return Batch(
                page, next=page[-1].id if page and more else None, item_cursors=[i.id for i in page]
            )
        # Offset cursors are the id of the newest item of the page (stable under insertions).
        start = 0 if cursor is None else [i.id for i in self.items].index(cursor)
        page = self.items[start : start + self.size]
        following = self.items[start + self.size : start + self.size + 1]
        return Batch(page, next=following[0].id if following else None)


async def collect(paged: Paged[Item]) -> list[str]:
    return [item.id async for item in paged]


@pytest.mark.anyio
@pytest.mark.parametrize("by_id", [False, True])
async def test_whole_walk_and_limit(by_id: bool) -> None:
    feed = Feed(8, by_id=by_id)
    assert await collect(Paged(feed.fetch)) == [f"i{n}" for n in range(7, -1, -1)]
    limited = Paged(feed.fetch, limit=2)
    assert await collect(limited) == ["i7", "i6"]
    assert not limited.exhausted


@pytest.mark.anyio
@pytest.mark.parametrize("by_id", [False, True])
@pytest.mark.parametrize("stop", [1, 2, 3, 4, 5])
async def test_resume_mid_page_with_items_arriving_between(by_id: bool, stop: int) -> None:
    feed = Feed(8, by_id=by_id)
    expected = [f"i{n}" for n in range(7, -1, -1)]
    first = Paged(feed.fetch, limit=stop, time_of=lambda i: i.created_at)
    got = await collect(first)
    feed.add_newer(4)  # more than a page: the anchor is pushed to the next page
    rest = await collect(Paged(feed.fetch, cursor=first.cursor, time_of=lambda i: i.created_at))
    assert got + rest == expected


@pytest.mark.anyio
async def test_items_without_times_resume_by_key_within_a_page() -> None:
    feed = Feed(8, size=5)
    first = Paged(feed.fetch, limit=2)
    got = await collect(first)
    feed.add_newer(2)
    rest = await collect(Paged(feed.fetch, cursor=first.cursor))
    assert got + rest == [f"i{n}" for n in range(7, -1, -1)]


@pytest.mark.anyio
async def test_limit_is_the_page_size_hint() -> None:
    feed = Feed(8)
    await collect(Paged(feed.fetch, limit=2))
    assert feed.wants == [2]
    assert len(feed.fetches) == 1


@pytest.mark.anyio
async def test_pages_and_their_cursors() -> None:
    feed = Feed(7)
    pages: list[Page[Item]] = [page async for page in Paged(feed.fetch).pages()]
    assert [[i.id for i in p.items] for p in pages] == [
        ["i6", "i5", "i4"],
        ["i3", "i2", "i1"],
        ["i0"],
    ]
    assert pages[-1].last
    assert not pages[0].last
    assert await collect(Paged(feed.fetch, cursor=pages[0].cursor)) == ["i3", "i2", "i1", "i0"]


@pytest.mark.anyio
async def test_since_stops_and_until_skips() -> None:
    feed = Feed(10)
    window = Paged(
        feed.fetch,
        since=T0 + timedelta(minutes=3),
        until=T0 + timedelta(minutes=6),
        time_of=lambda i: i.created_at,
    )
    assert await collect(window) == ["i6", "i5", "i4", "i3"]
    assert window.exhausted
    assert len(feed.fetches) == 3, "stopped at the first page older than since"


@pytest.mark.anyio
async def test_unordered_sources_filter_without_stopping() -> None:
    items = [Item("a", T0), Item("b", T0 + timedelta(hours=2)), Item("c", T0 + timedelta(hours=1))]

    async def fetch(cursor: str | None, want: int | None) -> Batch[Item]:
        return Batch(items)

    paged = Paged(
        fetch, since=T0 + timedelta(minutes=30), time_of=lambda i: i.created_at, ordered=False
    )
    assert await collect(paged) == ["b", "c"]


@pytest.mark.anyio
async def test_merge_newest_first_and_resume() -> None:
    mentions = Feed(5)
    direct = Feed(0)
    direct.items = [Item(f"d{n}", T0 + timedelta(minutes=n, seconds=30)) for n in range(5)][::-1]

    def merged(cursor: str | None = None, limit: int | None = None) -> Paged[Item]:
        return Paged.merge(
            {"mentions": mentions.fetch, "direct": direct.fetch},
            time_of=lambda i: i.created_at,
            cursor=cursor,
            limit=limit,
        )

    everything = await collect(merged())
    assert everything == [x for n in range(4, -1, -1) for x in (f"d{n}", f"i{n}")]
    for stop in range(1, 10):
        first = merged(limit=stop)
        got = await collect(first)
        mentions.add_newer(1)
        rest = await collect(merged(cursor=first.cursor))
        assert got + rest == everything, stop
        mentions.items = mentions.items[1:]


@pytest.mark.anyio
async def test_bad_cursors_are_validation_errors() -> None:
    feed = Feed(3)
    with pytest.raises(ValidationError, match="not a cursor"):
        Paged(feed.fetch, cursor="garbage")
    merged_cursor = Paged.merge({"a": feed.fetch}, time_of=lambda i: i.created_at)
    await collect(merged_cursor)
    assert merged_cursor.cursor is not None
    with pytest.raises(ValidationError, match="another kind"):
        Paged(feed.fetch, cursor=merged_cursor.cursor)
    with pytest.raises(ValidationError):
        Paged(feed.fetch, limit=-1)


@pytest.mark.anyio
async def test_items_or_pages_not_both() -> None:
    paged = Paged(Feed(3).fetch)
    await paged.__anext__()
    with pytest.raises(RuntimeError):
        async for _ in paged.pages():
            pass


@pytest.mark.anyio
async def test_empty() -> None:
    assert await collect(Paged.empty()) == []


class Scripted:
    """Pages given in advance: ``(ids, next cursor)`` per cursor, as a filtering source (a
    search whose filter dropped a whole page) answers them."""

    def __init__(self, pages: dict[str | None, tuple[list[str], str | None]]) -> None:
        self.pages = pages
        self.fetches: list[str | None] = []

    async def fetch(self, cursor: str | None, want: int | None) -> Batch[Item]:
        self.fetches.append(cursor)
        ids, following = self.pages[cursor]
        return Batch([Item(i, None) for i in ids], next=following)


@pytest.mark.anyio
async def test_an_empty_page_with_a_cursor_is_not_the_end() -> None:
    source = Scripted({None: (["a"], "p2"), "p2": ([], "p3"), "p3": (["b"], None)})
    assert await collect(Paged(source.fetch)) == ["a", "b"]


@pytest.mark.anyio
async def test_a_cursor_that_does_not_move_or_a_run_of_empty_pages_ends_the_walk() -> None:
    stuck = Scripted({None: (["a"], "p2"), "p2": ([], "p2")})
    assert await collect(Paged(stuck.fetch)) == ["a"]
    assert stuck.fetches == [None, "p2"]
    cycle = Scripted({None: (["a"], "c1"), "c1": (["b"], "c2"), "c2": (["c"], "c1")})
    assert await collect(Paged(cycle.fetch)) == ["a", "b", "c"]
    assert cycle.fetches == [None, "c1", "c2"]
    endless = Scripted({None: (["a"], "e0"), **{f"e{n}": ([], f"e{n + 1}") for n in range(10)}})
    assert await collect(Paged(endless.fetch)) == ["a"]
    assert endless.fetches == [None, "e0", "e1", "e2"]


@pytest.mark.anyio
async def test_pages_the_adapters_filter_emptied_do_not_end_the_walk() -> None:
    # A ``filtered`` batch held network items that the adapter dropped (a kinds filter, own
    # posts among mentions): however many come in a row, the walk reads on past them, while
    # a run of plain empty pages still ends it (above). After one, the pages asked for are
    # full ones (no size hint): how many items are still wanted says nothing of how many the
    # filter will keep.
    following = {f"f{n}": f"f{n + 1}" for n in range(10)}
    wants: list[int | None] = []

    async def fetch(cursor: str | None, want: int | None) -> Batch[Item]:
        wants.append(want)
        if cursor is None:
            return Batch([Item("a", None)], next="f0")
        if cursor == "f10":
            return Batch([Item("b", None)], next=None)
        return Batch([], next=following[cursor], filtered=True)

    assert await collect(Paged(fetch)) == ["a", "b"]
    wants.clear()
    assert await collect(Paged(fetch, limit=2)) == ["a", "b"]
    assert wants[:2] == [2, 1]
    assert wants[2:] == [None] * 10


# -- pages(): page by page, exactly what item by item gives -------------------------------

_MINUTE = timedelta(minutes=1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 12),
    size=st.integers(1, 5),
    by_id=st.booleans(),
    limit=st.none() | st.integers(0, 14),
    since=st.none() | st.integers(-1, 12),
    until=st.none() | st.integers(-1, 12),
    start_after=st.none() | st.integers(0, 11),
)
def test_pages_give_the_items_and_cursors_item_iteration_gives(
    count: int,
    size: int,
    by_id: bool,
    limit: int | None,
    since: int | None,
    until: int | None,
    start_after: int | None,
) -> None:
    # pages() reads a whole network page at a time (without since/until, with no step per
    # item): the items, the cursors and the end must be those of iterating item by item.
    if since is not None and until is not None and since > until:
        since, until = until, since

    def paged(cursor: str | None = None, lim: int | None = limit) -> Paged[Item]:
        return Paged(
            Feed(count, size=size, by_id=by_id).fetch,
            since=None if since is None else T0 + since * _MINUTE,
            until=None if until is None else T0 + until * _MINUTE,
            limit=lim,
            cursor=cursor,
            time_of=lambda i: i.created_at,
        )

    async def run() -> None:
        start: str | None = None
        if start_after is not None:  # resume from a cursor taken mid-walk
            head = paged(lim=start_after + 1)
            await collect(head)
            start = head.cursor
        by_item = paged(start)
        expected = await collect(by_item)
        by_page = paged(start)
        pages = [page async for page in by_page.pages()]
        got = [item.id for page in pages for item in page.items]
        assert got == expected
        assert by_page.exhausted == by_item.exhausted
        assert pages[-1].cursor == by_item.cursor
        assert [page.last for page in pages[:-1]] == [False] * (len(pages) - 1)
        seen = 0
        for page in pages:  # each page's cursor resumes right after it
            seen += len(page.items)
            rest = paged(page.cursor, lim=None if limit is None else limit - seen)
            assert await collect(rest) == expected[seen:]

    asyncio.run(run())
