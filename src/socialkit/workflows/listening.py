"""Listening and competitor watch: keywords, hashtags and accounts across every network.

>>> watches = [Watch(name="acme", role="brand", keywords=["acme"], accounts=["acme"]),
...            Watch(name="globex", role="competitor", accounts=["globex"], hashtags=["globex"])]
>>> listening = Listening(adapters, watches, store=SQLiteStore("listening.db"),
...                       scorer=LexiconScorer())
>>> for item in await listening.poll():      # each new post once, across restarts
...     print(item.watch, item.network, item.text)
>>> await listening.share_of_voice(since=week_ago)   # {"acme": 0.62, "globex": 0.38}

Keywords and hashtags are searched on every adapter with :attr:`Capability.SEARCH`; accounts are
read on every adapter with :attr:`Capability.READ_OTHERS`. Each (watch, adapter, query) keeps its
own cursor and seen-set in the :class:`~socialkit.Store`, and each item is stored once per watch
(key: watch, network, post id, created with compare-and-set), so a post found by two queries or
two accounts is delivered once.

Rising terms (:meth:`Listening.rising_terms`): for each word and hashtag, ``r`` = items that
contain it in the recent window, ``b`` = items that contain it in the baseline window just
before, ``e = b × recent/baseline`` the count expected at the baseline rate. The score is a
Poisson z-score with one pseudo-count, ``(r - e) / sqrt(e + 1)``, and the growth ``(r + 1) /
(e + 1)``; a term rises when ``r >= min_count`` and ``growth >= min_growth``, ranked by score.
Items are counted once per term (document frequency), so one long post cannot make a term rise;
the watch's own keywords and common English and French words are left out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socialkit._capabilities import Capability
from socialkit._store import SQLiteStore, Store
from socialkit.workflows._common import (
    Clock,
    aware,
    bucket_start,
    from_iso,
    hashtags,
    interactions,
    iso,
    key,
    label_adapters,
    median,
    poll_forever,
    utcnow,
    words,
)
from socialkit.workflows._state import SourceState
from socialkit.workflows.sentiment import BatchSentimentScorer, SentimentScorer, score_many

if TYPE_CHECKING:
    from socialkit._models import Post
    from socialkit._stream import StreamEvent
    from socialkit.adapters._base import Adapter

__all__ = [
    "EngagementSummary",
    "ListenedItem",
    "Listening",
    "NEGATIVE",
    "POSITIVE",
    "RisingTerm",
    "VolumeBucket",
    "Watch",
]

log = logging.getLogger("socialkit.workflows.listening")

NEGATIVE = -0.05
"""An item with sentiment at or below this is negative (VADER's conventional cut-off)."""
POSITIVE = 0.05
"""An item with sentiment at or above this is positive."""

WatchRole = Literal["brand", "competitor", "topic"]


class Watch(BaseModel):
    """What to listen for. ``role`` places it in share of voice (brand vs competitors)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[^\x1f]+$")
    role: WatchRole = "topic"
    keywords: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list, description="With or without '#'.")
    accounts: list[str] = Field(default_factory=list, description="Handles or ids to read.")
    networks: list[str] | None = Field(
        default=None, description="Adapter names or labels to use (None: every capable one)."
    )

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        tags = [v.strip().lstrip("#") for v in value]
        if any(not t or " " in t for t in tags):
            raise ValueError("hashtags must be single non-empty words")
        return tags

    @field_validator("keywords", "accounts")
    @classmethod
    def _non_empty(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value):
            raise ValueError("must not contain empty strings")
        return [v.strip() for v in value]

    @model_validator(mode="after")
    def _something(self) -> Watch:
        if not (self.keywords or self.hashtags or self.accounts):
            raise ValueError(f"watch {self.name!r} needs keywords, hashtags or accounts")
        return self

    def queries(self) -> list[str]:
        """The search queries: each keyword, and each hashtag with its ``#``."""
        return [*self.keywords, *(f"#{t}" for t in self.hashtags)]

    def uses(self, label: str, adapter: Adapter) -> bool:
        return self.networks is None or label in self.networks or adapter.name in self.networks


class ListenedItem(BaseModel):
    """A post found by a watch, with what listening needs from it (stored, so no ``raw``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch: str
    source: str
    """The label of the adapter it came through."""
    via: Literal["search", "account"]
    query: str
    """The keyword, ``#hashtag`` or account that found it."""
    network: str
    post_id: str
    text: str
    created_at: datetime
    url: str | None = None
    language: str | None = None
    author_id: str | None = None
    author_handle: str | None = None
    author_followers: int | None = None
    metrics: dict[str, int] = Field(default_factory=dict)
    hashtags: list[str] = Field(default_factory=list)
    sentiment: float | None = None
    first_seen_at: datetime

    @property
    def engagement(self) -> int:
        """likes + reposts + replies + quotes, as the network reported them when first seen."""
        return interactions(self.metrics)

    @property
    def negative(self) -> bool:
        return self.sentiment is not None and self.sentiment <= NEGATIVE


class VolumeBucket(BaseModel):
    """The items of one watch in one time bucket ``[start, end)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch: str
    start: datetime
    end: datetime
    count: int
    scored: int
    """Items whose sentiment could be scored."""
    negative: int
    positive: int
    engagement: int
    top_negative: list[ListenedItem] = Field(default_factory=list)
    """The most engaged negative items (up to five)."""

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None


class EngagementSummary(BaseModel):
    """Engagement of the posts a watch read from its accounts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch: str
    role: WatchRole
    posts: int
    total: int
    mean: float | None
    median: float | None
    top: list[ListenedItem]


class RisingTerm(BaseModel):
    """A word or hashtag mentioned more than its own baseline predicts (see module docs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str
    """A word, or a hashtag with its ``#``."""
    recent: int
    baseline: int
    expected: float
    growth: float
    score: float


def _matches(post: Post, query: str) -> bool:
    """Whether a post carries a keyword or ``#hashtag`` query (whole words, any case): for
    streamed posts whose network does not say which query they matched."""
    import re
    import unicodedata

    def nfc(text: str) -> str:  # one form for accented letters, typed precomposed or not
        return unicodedata.normalize("NFC", text).lower()

    pattern = rf"(?<!\w){re.escape(nfc(query))}(?!\w)"
    return re.search(pattern, nfc(post.text)) is not None


def _split(text: str) -> list[str]:
    return text.split()


_STOP = frozenset(
    _split(
        """
    the and for are was were this that with you your our from have has had not but what all
    can will just they them their there here about more when out who how its it's than then
    also been into only very would could should some any get got one two like via amp
    les des une est sont pour dans sur avec pas que qui mais plus par comme tout tous nous
    vous ils elles leur leurs son ses mes tes vos nos cette ces aux était été être avoir fait
    faire très bien aussi encore même
    """
    )
)


class Listening:
    """Watches over many adapters (labelled like :class:`~socialkit.Hub`)."""

    def __init__(
        self,
        adapters: Mapping[str, Adapter] | Iterable[Adapter],
        watches: Sequence[Watch],
        *,
        store: Store | None = None,
        scorer: SentimentScorer | BatchSentimentScorer | None = None,
        namespace: str = "listening",
        overlap: timedelta = timedelta(minutes=30),
        retention: timedelta = timedelta(days=2),
        max_seen: int = 20_000,
        initial_limit: int | None = 100,
        initial_since: datetime | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.adapters = label_adapters(adapters)
        names = [w.name for w in watches]
        if len(set(names)) != len(names):
            raise ValueError("watch names must be unique")
        self.watches = {w.name: w for w in watches}
        self.store: Store = store if store is not None else SQLiteStore()
        self.scorer = scorer
        self.namespace = namespace
        self._items_ns = f"{namespace}.items"
        self._overlap = overlap
        self._retention = retention
        self._max_seen = max_seen
        self.initial_limit = initial_limit
        self.initial_since = None if initial_since is None else aware(initial_since)
        self._clock = clock
        self.errors: dict[str, Exception] = {}
        """The error of each (watch, adapter, query) source whose last poll failed."""

    def __repr__(self) -> str:
        return f"Listening({sorted(self.watches)}, adapters={sorted(self.adapters)})"

    # -- collecting ------------------------------------------------------------------------

    def sources(self) -> list[tuple[Watch, str, Literal["search", "account"], str]]:
        """Every (watch, adapter label, how, query) this listening polls."""
        out: list[tuple[Watch, str, Literal["search", "account"], str]] = []
        for watch in self.watches.values():
            for label, adapter in self.adapters.items():
                if not watch.uses(label, adapter):
                    continue
                if adapter.supports(Capability.SEARCH):
                    out.extend((watch, label, "search", q) for q in watch.queries())
                if adapter.supports(Capability.READ_OTHERS):
                    out.extend((watch, label, "account", a) for a in watch.accounts)
        return out

    async def poll(self) -> list[ListenedItem]:
        """Query every source once; return the items never delivered before, newest first."""
        self.errors = {}
        sources = self.sources()
        results = await asyncio.gather(
            *(self._poll_source(*s) for s in sources), return_exceptions=True
        )
        new: list[ListenedItem] = []
        for (watch, label, via, query), result in zip(sources, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                name = key(watch.name, label, via, query)
                self.errors[name] = result
                log.warning(
                    "listening %s on %s (%s) failed: %s: %s",
                    watch.name,
                    label,
                    query,
                    type(result).__name__,
                    result,
                )
            else:
                new.extend(result)
        new.sort(key=lambda i: (i.created_at, i.network, i.post_id), reverse=True)
        return new

    async def stream(
        self,
        *,
        interval: float = 300.0,
        max_polls: int | None = None,
        realtime: bool = False,
        max_items: int | None = None,
    ) -> AsyncIterator[ListenedItem]:
        """Poll every ``interval`` seconds and yield each new item once.

        With ``realtime``, each adapter whose network streams posts matching a query
        (:attr:`Capability.STREAM <socialkit.Capability>`) is read from one stream carrying
        the keywords and hashtags of every watch that uses it (on X, the filtered stream's
        rules), after one poll of every source that catches up and records what the history
        covers; account watches and the adapters without a stream are polled every
        ``interval`` seconds, and a stream that fails for good falls back to polling. Items
        are stored, scored and announced as :meth:`poll` does (each once per watch), and
        each stream's cursor is kept in the store. ``max_items`` stops after that many items.
        """
        if not realtime:
            async for item in poll_forever(self.poll, interval, max_polls):
                yield item
            return
        from socialkit.workflows._realtime import StreamCursors, live, open_or_none

        count = 0
        for item in await self.poll():
            yield item
            count += 1
            if max_items is not None and count >= max_items:
                return
        cursors = StreamCursors(self.store, self.namespace)
        streams = {}
        for label, adapter in self.adapters.items():
            if not adapter.supports(Capability.STREAM) or not adapter.supports(Capability.SEARCH):
                continue
            queries = list(
                dict.fromkeys(
                    q for w in self.watches.values() if w.uses(label, adapter) for q in w.queries()
                )
            )
            if not queries:
                continue
            saved = await cursors.get(label)
            opened = open_or_none(
                label, partial(adapter.stream, kinds=["post"], query=queries, cursor=saved)
            )
            if opened is not None:
                streams[label] = opened

        async def handle(label: str, event: StreamEvent) -> list[ListenedItem]:
            post = event.post
            if post is None or post.id is None or post.created_at is None:
                return []
            adapter = self.adapters[label]
            found: list[tuple[Watch, str]] = []
            for watch in self.watches.values():
                if not watch.uses(label, adapter):
                    continue
                for query in watch.queries():
                    if event.query == query or (event.query is None and _matches(post, query)):
                        found.append((watch, query))
                        break
            if not found:
                return []
            [sentiment] = await score_many(self.scorer, [(post.text, post.language)])
            new = []
            for watch, query in found:
                item = self._item(watch, label, "search", query, post, adapter.name, sentiment)
                if await self.store.compare_and_set(
                    self._items_ns,
                    key(watch.name, item.network, item.post_id),
                    None,
                    item.model_dump_json(),
                ):
                    new.append(item)
            return new

        async def poll_rest(streaming: set[str]) -> list[ListenedItem]:
            new: list[ListenedItem] = []
            for watch, label, via, query in self.sources():
                if via == "search" and label in streaming:
                    continue
                new.extend(await self._poll_source(watch, label, via, query))
            return new

        left = None if max_items is None else max_items - count
        async for item in live(
            streams, handle, poll_rest, interval=interval, max_items=left, cursors=cursors
        ):
            yield item

    async def _poll_source(
        self, watch: Watch, label: str, via: Literal["search", "account"], query: str
    ) -> list[ListenedItem]:
        adapter = self.adapters[label]
        state = SourceState(
            self.store,
            self.namespace,
            key(watch.name, label, via, query),
            overlap=self._overlap,
            retention=self._retention,
            max_seen=self._max_seen,
            clock=self._clock,
        )
        await state.load()
        first_poll = state.since is None
        since = state.since if not first_poll else self.initial_since
        limit = None if not first_poll else self.initial_limit
        new: list[ListenedItem] = []
        oldest: datetime | None = None
        try:
            if via == "search":
                found = adapter.search(query, since=since, limit=limit)
            else:
                found = adapter.posts(account=query, since=since, limit=limit)
            fresh: list[Post] = []
            async for post in found:
                if post.id is None or post.created_at is None:
                    continue
                oldest = post.created_at if oldest is None else min(oldest, post.created_at)
                state.observe(post.created_at, post.id)
                if state.too_old(post.created_at) or await state.seen(post.id):
                    continue
                fresh.append(post)
            # One call for the poll's new items, so a batch scorer (a model server, an API)
            # gets them together.
            scores = await score_many(self.scorer, [(p.text, p.language) for p in fresh])
            for post, sentiment in zip(fresh, scores, strict=True):
                assert post.id is not None
                assert post.created_at is not None
                item = self._item(watch, label, via, query, post, adapter.name, sentiment)
                if await self.store.compare_and_set(
                    self._items_ns,
                    key(watch.name, item.network, item.post_id),
                    None,
                    item.model_dump_json(),
                ):
                    new.append(item)
                await state.mark(post.id, post.created_at)
        except Exception as exc:
            # Stored items are delivered now; the cursor stays for the next poll to retry.
            name = key(watch.name, label, via, query)
            self.errors[name] = exc
            log.warning(
                "listening %s on %s (%s) failed: %s: %s",
                watch.name,
                label,
                query,
                type(exc).__name__,
                exc,
            )
            return new
        await state.commit()
        if first_poll:
            # What this source's history covers: from initial_since when asked for, else from
            # its oldest item (or now): before that nothing is known, which is not zero.
            covered = self.initial_since or oldest or self._clock()
            await self.store.compare_and_set(
                f"{self.namespace}.covered",
                key(watch.name, label, via, query),
                None,
                iso(covered),
            )
        return new

    async def covered_since(self, watch: str) -> datetime | None:
        """Since when the stored items of ``watch`` are complete on every source it polls
        (``None`` before its first poll): the start of the history a detector may use."""
        name = self._watch(watch).name
        starts = []
        for w, label, via, query in self.sources():
            if w.name != name:
                continue
            raw = await self.store.get(f"{self.namespace}.covered", key(name, label, via, query))
            if raw is not None:
                starts.append(from_iso(raw))
        return max(starts) if starts else None

    def _item(
        self,
        watch: Watch,
        label: str,
        via: Literal["search", "account"],
        query: str,
        post: Post,
        network: str,
        sentiment: float | None,
    ) -> ListenedItem:
        assert post.id is not None
        assert post.created_at is not None
        author = post.author
        return ListenedItem(
            watch=watch.name,
            source=label,
            via=via,
            query=query,
            network=post.network or network,
            post_id=post.id,
            text=post.text,
            created_at=post.created_at,
            url=post.url,
            language=post.language,
            author_id=author.id if author else None,
            author_handle=author.handle if author else None,
            author_followers=author.followers if author else None,
            metrics=dict(post.metrics),
            hashtags=hashtags(post.text),
            sentiment=sentiment,
            first_seen_at=self._clock(),
        )

    # -- reading ---------------------------------------------------------------------------

    def _watch(self, name: str) -> Watch:
        try:
            return self.watches[name]
        except KeyError:
            raise KeyError(f"no watch named {name!r}; watches: {sorted(self.watches)}") from None

    async def items(
        self,
        watch: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        network: str | None = None,
        source: str | None = None,
    ) -> list[ListenedItem]:
        """Stored items (of one watch, or all), created in ``[since, until)``, newest first;
        only those of one ``network`` or one ``source`` (adapter label) when given."""
        prefix = "" if watch is None else key(self._watch(watch).name, "")
        low = None if since is None else aware(since, "since")
        high = None if until is None else aware(until, "until")
        out = []
        for _k, raw in await self.store.items(self._items_ns, prefix):
            item = ListenedItem.model_validate_json(raw)
            if low is not None and item.created_at < low:
                continue
            if high is not None and item.created_at >= high:
                continue
            if network is not None and item.network != network:
                continue
            if source is not None and item.source != source:
                continue
            out.append(item)
        out.sort(key=lambda i: (i.created_at, i.network, i.post_id), reverse=True)
        return out

    async def volume(
        self,
        watch: str,
        *,
        bucket: timedelta = timedelta(hours=1),
        since: datetime,
        until: datetime | None = None,
        network: str | None = None,
        source: str | None = None,
    ) -> list[VolumeBucket]:
        """Counts per bucket (aligned on the epoch, UTC), empty buckets included, oldest first
        (of one ``network`` or ``source`` when given)."""
        start = bucket_start(aware(since, "since"), bucket)
        end = aware(until, "until") if until is not None else self._clock()
        items = await self.items(watch, since=start, until=end, network=network, source=source)
        grouped: dict[datetime, list[ListenedItem]] = {}
        for item in items:
            grouped.setdefault(bucket_start(item.created_at, bucket), []).append(item)
        out = []
        cursor = start
        while cursor < end:
            members = grouped.get(cursor, [])
            negatives = sorted(
                (i for i in members if i.negative),
                key=lambda i: (i.engagement, i.created_at),
                reverse=True,
            )
            out.append(
                VolumeBucket(
                    watch=watch,
                    start=cursor,
                    end=cursor + bucket,
                    count=len(members),
                    scored=sum(i.sentiment is not None for i in members),
                    negative=len(negatives),
                    positive=sum(
                        i.sentiment is not None and i.sentiment >= POSITIVE for i in members
                    ),
                    engagement=sum(i.engagement for i in members),
                    top_negative=negatives[:5],
                )
            )
            cursor += bucket
        return out

    async def share_of_voice(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        weight: Literal["mentions", "engagement"] = "mentions",
    ) -> dict[str, float]:
        """Each brand and competitor watch's share of all their items (or of their engagement).

        Shares sum to 1; empty when nothing was found.
        """
        totals: dict[str, int] = {}
        for watch in self.watches.values():
            if watch.role == "topic":
                continue
            found = await self.items(watch.name, since=since, until=until)
            totals[watch.name] = (
                len(found) if weight == "mentions" else sum(i.engagement for i in found)
            )
        grand = sum(totals.values())
        return {name: value / grand for name, value in totals.items()} if grand else {}

    async def competitor_engagement(
        self, *, since: datetime | None = None, until: datetime | None = None, top: int = 3
    ) -> dict[str, EngagementSummary]:
        """Engagement of the posts read from the accounts of brand and competitor watches."""
        out: dict[str, EngagementSummary] = {}
        for watch in self.watches.values():
            if watch.role == "topic" or not watch.accounts:
                continue
            posts = [
                i
                for i in await self.items(watch.name, since=since, until=until)
                if i.via == "account"
            ]
            values = [float(i.engagement) for i in posts]
            out[watch.name] = EngagementSummary(
                watch=watch.name,
                role=watch.role,
                posts=len(posts),
                total=int(sum(values)),
                mean=sum(values) / len(values) if values else None,
                median=median(values),
                top=sorted(posts, key=lambda i: (i.engagement, i.created_at), reverse=True)[:top],
            )
        return out

    async def rising_terms(
        self,
        watch: str | None = None,
        *,
        now: datetime | None = None,
        recent: timedelta = timedelta(days=1),
        baseline: timedelta = timedelta(days=7),
        min_count: int = 3,
        min_growth: float = 2.0,
        top: int = 10,
        only: Literal["all", "words", "hashtags"] = "all",
    ) -> list[RisingTerm]:
        """Words and hashtags growing against their own baseline (method in the module docs)."""
        if recent <= timedelta(0) or baseline <= timedelta(0):
            raise ValueError("recent and baseline must be positive durations")
        end = aware(now, "now") if now is not None else self._clock()
        split = end - recent
        begin = split - baseline
        excluded = set(_STOP)
        chosen = [self._watch(watch)] if watch is not None else list(self.watches.values())
        for w in chosen:
            for keyword in w.keywords:
                excluded.update(words(keyword))
        recent_counts: dict[str, int] = {}
        base_counts: dict[str, int] = {}
        seen_posts: set[tuple[str, str]] = set()
        for w in chosen:
            for item in await self.items(w.name, since=begin, until=end):
                if (item.network, item.post_id) in seen_posts:
                    continue
                seen_posts.add((item.network, item.post_id))
                terms: set[str] = set()
                if only in ("all", "words"):
                    terms.update(
                        t
                        for t in words(item.text)
                        if len(t) >= 3 and not t.isdigit() and t not in excluded
                    )
                if only in ("all", "hashtags"):
                    terms.update(f"#{t}" for t in item.hashtags)
                target = recent_counts if item.created_at >= split else base_counts
                for term in terms:
                    target[term] = target.get(term, 0) + 1
        ratio = recent / baseline
        rising = []
        for term, r in recent_counts.items():
            if r < min_count:
                continue
            b = base_counts.get(term, 0)
            expected = b * ratio
            growth = (r + 1) / (expected + 1)
            if growth < min_growth:
                continue
            score = (r - expected) / (expected + 1) ** 0.5
            rising.append(
                RisingTerm(
                    term=term, recent=r, baseline=b, expected=expected, growth=growth, score=score
                )
            )
        rising.sort(key=lambda t: (-t.score, t.term))
        return rising[:top]
