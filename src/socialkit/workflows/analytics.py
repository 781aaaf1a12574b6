"""Performance analytics: metric snapshots, engagement rates, best time, best frequency, exports.

>>> collector = MetricsCollector(adapters, store=SQLiteStore("analytics.db"))
>>> await collector.collect()               # on a schedule: collector.run(interval=3600)
>>> perf = await collector.performance()     # one PostPerformance per post (latest snapshot)
>>> grid = best_times(perf, "Europe/Paris")  # weekday x hour, shrunk toward the mean
>>> for sentence in recommendations(perf, "Europe/Paris"):
...     print(sentence)
>>> write_csv(perf, "posts.csv"); plot_heatmap(grid, "best-times.png")

Engagement rate, per network (:data:`ENGAGEMENT`): the interactions listed, over the first
denominator the network reports. ``followers`` is the account's follower count when the snapshot
was taken (from ``me()``), for networks whose API gives no per-post impressions.

============  ================================================  =================================
network       interactions (numerator)                          denominator (first available)
============  ================================================  =================================
x             likes + reposts + replies + quotes + bookmarks    impressions, followers
mastodon      likes + reposts + replies                         followers (no impressions in API)
bluesky       likes + reposts + replies + quotes                followers (no impressions in API)
threads       likes + reposts + replies + quotes                views, followers
facebook      likes + shares + replies                          impressions, reach, followers
instagram     likes + replies + saves + shares                  reach, impressions, followers
linkedin      likes + replies + reposts + clicks                impressions, followers
youtube       likes + replies + shares                          views
tiktok        likes + replies + shares                          views
pinterest     saves + clicks + replies                          impressions
reddit        likes + replies                                   views, followers
telegram      likes + reposts + replies                         views
(other)       likes + reposts + replies + quotes + shares       impressions, views, reach,
              + saves + bookmarks                               followers
============  ================================================  =================================

Best time (:func:`best_times`): each post's engagement rate (interactions when no rate can be
computed) is placed in its weekday x hour cell in the account's time zone. Thin cells are shrunk
toward the account mean, empirical-Bayes style (normal-normal model): with ``σ²`` the pooled
within-cell variance and ``τ²`` the variance of the true cell means (estimated by the
DerSimonian-Laird method of moments, cells weighted by ``n/σ²``), a cell with ``n``
posts and mean ``ȳ`` is estimated at ``μ + n/(n + k) (ȳ - μ)`` where ``k = σ²/τ²``: a cell of
one post barely moves from the mean, a cell of many keeps its own. The posterior standard
deviation is ``1/sqrt(n/σ² + 1/τ²)`` and a slot's **confidence** is the posterior probability
that it beats the account mean, ``Φ((estimate - μ)/sd)``; every slot carries a 95 % credible
interval (``low``, ``high``).

Honest on little data: ``σ²`` is estimated with a prior worth ``PRIOR_DOF`` (4) degrees of
freedom at the variance of all posts, so two posts that happen to agree cannot make a cell
look certain; and below ``MIN_POSTS`` (20) posts a grid says ``enough_data=False``, its slots'
confidence stays at 0.5 (no claim) and :func:`recommendations` says there is not enough data
instead of naming a best time. Frequency figures carry a 95 % interval too, and a frequency
is compared only on ``MIN_DAYS`` (3) days or more.
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
from pydantic import BaseModel, ConfigDict, Field

from socialkit._capabilities import Capability
from socialkit._errors import ConfigurationError
from socialkit._store import SQLiteStore, Store
from socialkit.workflows._common import (
    Clock,
    aware,
    hashtags,
    iso,
    key,
    label_adapters,
    median,
    optional_import,
    utcnow,
)

if TYPE_CHECKING:
    from socialkit._models import Metric, Post
    from socialkit.adapters._base import Adapter

__all__ = [
    "ContentKind",
    "DEFAULT_ENGAGEMENT",
    "ENGAGEMENT",
    "EngagementDefinition",
    "FrequencyStat",
    "GroupStat",
    "MetricsCollector",
    "PostPerformance",
    "PostRecord",
    "Slot",
    "Snapshot",
    "TimeGrid",
    "best_frequency",
    "best_hours",
    "best_times",
    "content_kind",
    "engagement_rate",
    "from_dataframe",
    "length_bucket",
    "performance_by",
    "plot_heatmap",
    "plot_series",
    "read_csv",
    "recommendations",
    "to_dataframe",
    "to_records",
    "top_posts",
    "write_csv",
]

log = logging.getLogger("socialkit.workflows.analytics")

ContentKind = Literal["text", "image", "video", "link", "thread"]
_URL = regex.compile(r"https?://\S+")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class EngagementDefinition:
    """How a network's engagement rate is computed: ``sum(interactions) / first(denominators)``."""

    interactions: tuple[str, ...]
    denominators: tuple[str, ...]


ENGAGEMENT: dict[str, EngagementDefinition] = {
    "x": EngagementDefinition(
        ("likes", "reposts", "replies", "quotes", "bookmarks"), ("impressions", "followers")
    ),
    "mastodon": EngagementDefinition(("likes", "reposts", "replies"), ("followers",)),
    "bluesky": EngagementDefinition(("likes", "reposts", "replies", "quotes"), ("followers",)),
    "threads": EngagementDefinition(
        ("likes", "reposts", "replies", "quotes"), ("views", "followers")
    ),
    "facebook": EngagementDefinition(
        ("likes", "shares", "replies"), ("impressions", "reach", "followers")
    ),
    "instagram": EngagementDefinition(
        ("likes", "replies", "saves", "shares"), ("reach", "impressions", "followers")
    ),
    "linkedin": EngagementDefinition(
        ("likes", "replies", "reposts", "clicks"), ("impressions", "followers")
    ),
    "youtube": EngagementDefinition(("likes", "replies", "shares"), ("views",)),
    "tiktok": EngagementDefinition(("likes", "replies", "shares"), ("views",)),
    "pinterest": EngagementDefinition(("saves", "clicks", "replies"), ("impressions",)),
    "reddit": EngagementDefinition(("likes", "replies"), ("views", "followers")),
    "telegram": EngagementDefinition(("likes", "reposts", "replies"), ("views",)),
}
DEFAULT_ENGAGEMENT = EngagementDefinition(
    ("likes", "reposts", "replies", "quotes", "shares", "saves", "bookmarks"),
    ("impressions", "views", "reach", "followers"),
)


def engagement_rate(
    network: str, metrics: Mapping[str, float], followers: int | None = None
) -> tuple[int, float | None, str | None, float | None]:
    """``(interactions, denominator, denominator name, rate)`` by the network's definition."""
    definition = ENGAGEMENT.get(network, DEFAULT_ENGAGEMENT)
    numerator = int(sum(metrics.get(name, 0) for name in definition.interactions))
    for name in definition.denominators:
        value = followers if name == "followers" else metrics.get(name)
        if value is not None and value > 0:
            return numerator, float(value), name, numerator / float(value)
    return numerator, None, None, None


def content_kind(post: Post) -> ContentKind:
    """thread > video > image (GIFs included) > link > text."""
    if post.thread:
        return "thread"
    kinds = {m.kind for m in post.media}
    if "video" in kinds:
        return "video"
    if kinds:
        return "image"
    if post.link or _URL.search(post.text):
        return "link"
    return "text"


_LENGTHS = ((50, "0-49"), (100, "50-99"), (200, "100-199"), (500, "200-499"))


def length_bucket(length: int) -> str:
    """Text length (code points) in buckets: 0-49, 50-99, 100-199, 200-499, 500+."""
    for upper, label in _LENGTHS:
        if length < upper:
            return label
    return "500+"


class PostRecord(BaseModel):
    """What analytics keeps of one of the account's posts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    network: str
    post_id: str
    created_at: datetime
    kind: ContentKind
    length: int
    hashtags: list[str] = Field(default_factory=list)
    url: str | None = None


class Snapshot(BaseModel):
    """The metrics of one post at one moment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    network: str
    post_id: str
    measured_at: datetime
    metrics: dict[str, float]
    followers: int | None = None


class PostPerformance(BaseModel):
    """One post and its latest figures: the row of every analysis and export."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    network: str
    post_id: str
    created_at: datetime
    kind: ContentKind
    length: int
    length_bucket: str
    hashtags: list[str] = Field(default_factory=list)
    interactions: int
    denominator: float | None = None
    denominator_name: str | None = None
    engagement_rate: float | None = None
    measured_at: datetime | None = None
    url: str | None = None

    @classmethod
    def build(
        cls,
        record: PostRecord,
        metrics: Mapping[str, float],
        *,
        followers: int | None = None,
        measured_at: datetime | None = None,
    ) -> PostPerformance:
        numerator, denominator, name, rate = engagement_rate(record.network, metrics, followers)
        return cls(
            source=record.source,
            network=record.network,
            post_id=record.post_id,
            created_at=record.created_at,
            kind=record.kind,
            length=record.length,
            length_bucket=length_bucket(record.length),
            hashtags=list(record.hashtags),
            interactions=numerator,
            denominator=denominator,
            denominator_name=name,
            engagement_rate=rate,
            measured_at=measured_at,
            url=record.url,
        )


# -- collection -----------------------------------------------------------------------------


def _metric_values(metrics: Iterable[Metric]) -> dict[str, float]:
    """One value per name: a lifetime (or unspecified) period wins over windowed values."""
    values: dict[str, float] = {}
    lifetime: set[str] = set()
    for metric in metrics:
        whole = metric.period in (None, "lifetime")
        if metric.name in lifetime and not whole:
            continue
        values[metric.name] = float(metric.value)
        if whole:
            lifetime.add(metric.name)
    return values


class MetricsCollector:
    """Snapshots the metrics of each account's recent posts into the store.

    Every :meth:`collect` stores, per post, a :class:`PostRecord` (refreshed) and a
    :class:`Snapshot` keyed by the time it was taken, so each post gets a time series
    (:meth:`series`). Posts are read with ``adapter.posts(since=now - lookback)``; metrics with
    ``adapter.metrics`` where the network offers them (else the counts the posts carry).
    """

    def __init__(
        self,
        adapters: Mapping[str, Adapter] | Iterable[Adapter],
        *,
        store: Store | None = None,
        namespace: str = "analytics",
        clock: Clock = utcnow,
    ) -> None:
        self.adapters = label_adapters(adapters)
        self.store: Store = store if store is not None else SQLiteStore()
        self._posts_ns = f"{namespace}.posts"
        self._snap_ns = f"{namespace}.snapshots"
        self._clock = clock
        self.errors: dict[str, Exception] = {}
        """The error of each source whose last collection failed."""

    def __repr__(self) -> str:
        return f"MetricsCollector({sorted(self.adapters)})"

    async def collect(
        self, *, lookback: timedelta = timedelta(days=30), limit: int | None = 200
    ) -> dict[str, int]:
        """Take one snapshot of every recent post; returns the snapshots stored per source."""
        self.errors = {}
        labels = [label for label, a in self.adapters.items() if a.supports(Capability.READ_POSTS)]
        results = await asyncio.gather(
            *(self._collect(label, lookback, limit) for label in labels), return_exceptions=True
        )
        counts: dict[str, int] = {}
        for label, result in zip(labels, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                self.errors[label] = result
                log.warning("metrics of %s failed: %s: %s", label, type(result).__name__, result)
            else:
                counts[label] = result
        return counts

    async def _collect(self, label: str, lookback: timedelta, limit: int | None) -> int:
        adapter = self.adapters[label]
        now = self._clock()
        followers: int | None = None
        try:
            followers = (await adapter.me()).followers
        except Exception as exc:  # followers are a denominator of last resort, not essential
            log.info("no follower count for %s: %s", label, type(exc).__name__)
        posts = [
            p
            async for p in adapter.posts(since=now - lookback, limit=limit)
            if p.id is not None and p.created_at is not None
        ]
        fetched: dict[str, list[Metric]] = {}
        if posts and adapter.supports(Capability.POST_METRICS):
            fetched = await adapter.metrics([p.id for p in posts if p.id is not None])
        for post in posts:
            assert post.id is not None
            assert post.created_at is not None
            record = PostRecord(
                source=label,
                network=post.network or adapter.name,
                post_id=post.id,
                created_at=post.created_at,
                kind=content_kind(post),
                length=len(post.text),
                hashtags=hashtags(post.text),
                url=post.url,
            )
            values: dict[str, float] = {k: float(v) for k, v in post.metrics.items()}
            values.update(_metric_values(fetched.get(post.id, [])))
            snapshot = Snapshot(
                source=label,
                network=record.network,
                post_id=post.id,
                measured_at=now,
                metrics=values,
                followers=followers,
            )
            await self.store.put(self._posts_ns, key(label, post.id), record.model_dump_json())
            await self.store.put(
                self._snap_ns, key(label, post.id, iso(now)), snapshot.model_dump_json()
            )
        return len(posts)

    async def run(
        self,
        *,
        interval: float = 3600.0,
        max_runs: int | None = None,
        lookback: timedelta = timedelta(days=30),
    ) -> None:
        """Collect every ``interval`` seconds (``max_runs`` to stop)."""
        runs = 0
        while True:
            await self.collect(lookback=lookback)
            runs += 1
            if max_runs is not None and runs >= max_runs:
                return
            await asyncio.sleep(interval)

    async def records(self, source: str | None = None) -> list[PostRecord]:
        prefix = "" if source is None else key(source, "")
        return [
            PostRecord.model_validate_json(v)
            for _k, v in await self.store.items(self._posts_ns, prefix)
        ]

    async def series(self, source: str, post_id: str) -> list[Snapshot]:
        """The snapshots of one post, oldest first."""
        rows = await self.store.items(self._snap_ns, key(source, post_id, ""))
        snaps = [Snapshot.model_validate_json(v) for _k, v in rows]
        return sorted(snaps, key=lambda s: s.measured_at)

    async def performance(
        self, source: str | None = None, *, since: datetime | None = None
    ) -> list[PostPerformance]:
        """One row per post (created since ``since``) from its latest snapshot, newest first."""
        floor = None if since is None else aware(since, "since")
        out = []
        for record in await self.records(source):
            if floor is not None and record.created_at < floor:
                continue
            snaps = await self.series(record.source, record.post_id)
            if not snaps:
                continue
            last = snaps[-1]
            out.append(
                PostPerformance.build(
                    record, last.metrics, followers=last.followers, measured_at=last.measured_at
                )
            )
        out.sort(key=lambda p: (p.created_at, p.post_id), reverse=True)
        return out


# -- analyses -------------------------------------------------------------------------------


def _values(perfs: Sequence[PostPerformance]) -> tuple[list[float], bool]:
    """Per-post values: engagement rates when every post has one, else interactions."""
    if perfs and all(p.engagement_rate is not None for p in perfs):
        return [float(p.engagement_rate or 0.0) for p in perfs], True
    return [float(p.interactions) for p in perfs], False


class GroupStat(BaseModel):
    """The posts of one group (a kind, a length bucket, a hashtag, a network)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str
    posts: int
    mean: float
    median: float
    mean_interactions: float
    rate: bool
    """True when ``mean``/``median`` are engagement rates, False when interactions."""


def performance_by(
    perfs: Sequence[PostPerformance],
    by: Literal["kind", "length_bucket", "hashtag", "network"],
) -> list[GroupStat]:
    """Mean and median engagement per group, best mean first (a post counts in each of its
    hashtags)."""
    values, is_rate = _values(perfs)
    groups: dict[str, list[tuple[float, int]]] = {}
    for perf, value in zip(perfs, values, strict=True):
        if by == "hashtag":
            names = [f"#{t}" for t in perf.hashtags]
        elif by == "kind":
            names = [perf.kind]
        elif by == "length_bucket":
            names = [perf.length_bucket]
        else:
            names = [perf.network]
        for name in names:
            groups.setdefault(name, []).append((value, perf.interactions))
    stats = [
        GroupStat(
            group=name,
            posts=len(rows),
            mean=statistics.fmean(v for v, _ in rows),
            median=float(median([v for v, _ in rows]) or 0.0),
            mean_interactions=statistics.fmean(i for _, i in rows),
            rate=is_rate,
        )
        for name, rows in groups.items()
    ]
    stats.sort(key=lambda s: (-s.mean, s.group))
    return stats


def top_posts(
    perfs: Sequence[PostPerformance],
    n: int = 10,
    *,
    by: Literal["engagement_rate", "interactions"] = "engagement_rate",
) -> list[PostPerformance]:
    """The ``n`` best posts (by rate; posts without a rate come last)."""
    if by == "interactions":
        return sorted(perfs, key=lambda p: (p.interactions, p.created_at), reverse=True)[:n]
    return sorted(
        perfs,
        key=lambda p: (p.engagement_rate is not None, p.engagement_rate or 0.0, p.interactions),
        reverse=True,
    )[:n]


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a region's folder: OSError
        raise ConfigurationError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Europe/Paris'"
        ) from None


#: Posts below which a time grid makes no claim (``TimeGrid.enough_data`` is False).
MIN_POSTS = 20
#: Days with a given number of posts needed before that frequency is compared.
MIN_DAYS = 3
#: Weight, in degrees of freedom, of the prior on the within-cell variance (module docs).
PRIOR_DOF = 4.0
_Z95 = 1.959964


class Slot(BaseModel):
    """One cell of the grid: weekday (0 = Monday; None for hour-of-day grids) and hour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    weekday: int | None
    hour: int
    posts: int
    raw_mean: float | None
    estimate: float
    sd: float
    confidence: float
    """Posterior probability that this slot beats the account mean (0.5 without enough data)."""
    low: float = 0.0
    high: float = 0.0
    """The 95 % credible interval of ``estimate``."""

    @property
    def label(self) -> str:
        day = "Every day" if self.weekday is None else _WEEKDAYS[self.weekday] + "s"
        return f"{day} {self.hour:02d}:00"


class TimeGrid(BaseModel):
    """Engagement by weekday x hour (or by hour) in a time zone, with shrinkage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str
    rate: bool
    mean: float
    """The account mean (all posts)."""
    within_variance: float
    between_variance: float
    prior_strength: float
    """``k = σ²/τ²``: the number of posts at which a cell's own mean gets half the weight."""
    slots: list[Slot]
    posts: int = 0
    enough_data: bool = True
    """False below :data:`MIN_POSTS` posts: the slots then make no claim."""

    def cell(self, weekday: int | None, hour: int) -> Slot:
        for slot in self.slots:
            if slot.weekday == weekday and slot.hour == hour:
                return slot
        raise KeyError((weekday, hour))

    def top(self, n: int = 3, *, min_posts: int = 1) -> list[Slot]:
        """The best ``n`` slots by shrunk estimate, among slots with ``min_posts`` posts."""
        ranked = sorted(
            (s for s in self.slots if s.posts >= min_posts),
            key=lambda s: (-s.estimate, -s.confidence, s.weekday or 0, s.hour),
        )
        return ranked[:n]


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _shrink(
    cells: Mapping[tuple[int | None, int], list[float]],
    all_cells: Iterable[tuple[int | None, int]],
    *,
    prior_strength: float | None,
) -> tuple[float, float, float, float, list[Slot]]:
    values = [v for vs in cells.values() for v in vs]
    mu = statistics.fmean(values)
    filled = {c: vs for c, vs in cells.items() if vs}
    dof = len(values) - len(filled)
    within = sum(sum((v - statistics.fmean(vs)) ** 2 for v in vs) for vs in filled.values())
    # The prior: the variance of all posts (or, with one post, its own size), worth PRIOR_DOF
    # degrees of freedom, so a few posts that agree by chance cannot shrink σ² to nothing.
    overall = statistics.pvariance(values) if len(values) > 1 else 0.0
    prior = max(overall, (abs(mu) * 0.5) ** 2, 1e-12)
    sigma2 = (within + PRIOR_DOF * prior) / (max(dof, 0) + PRIOR_DOF)
    sigma2 = max(sigma2, 1e-12)
    if prior_strength is not None:
        if prior_strength <= 0:
            raise ValueError("prior_strength must be positive")
        tau2 = sigma2 / prior_strength
    else:
        # DerSimonian-Laird: cells weighted by n/σ², so a cell of one lucky post cannot
        # inflate the between-cell variance the way an unweighted variance of means does.
        weights = {c: len(vs) / sigma2 for c, vs in filled.items()}
        total = sum(weights.values())
        pooled = sum(w * statistics.fmean(filled[c]) for c, w in weights.items()) / total
        q = sum(w * (statistics.fmean(filled[c]) - pooled) ** 2 for c, w in weights.items())
        scale = total - sum(w * w for w in weights.values()) / total
        tau2 = (q - (len(filled) - 1)) / scale if scale > 0 else 0.0
        tau2 = max(tau2, sigma2 * 1e-6)
    k = sigma2 / tau2
    slots = []
    for cell in all_cells:
        vs = cells.get(cell, [])
        n = len(vs)
        raw = statistics.fmean(vs) if vs else None
        estimate = mu + (n / (n + k)) * ((raw if raw is not None else mu) - mu)
        sd = math.sqrt(1.0 / (n / sigma2 + 1.0 / tau2))
        slots.append(
            Slot(
                weekday=cell[0],
                hour=cell[1],
                posts=n,
                raw_mean=raw,
                estimate=estimate,
                sd=sd,
                confidence=_phi((estimate - mu) / sd) if len(values) >= MIN_POSTS else 0.5,
                low=estimate - _Z95 * sd,
                high=estimate + _Z95 * sd,
            )
        )
    return mu, sigma2, tau2, k, slots


def best_times(
    perfs: Sequence[PostPerformance],
    tz: str | ZoneInfo = "UTC",
    *,
    prior_strength: float | None = None,
) -> TimeGrid:
    """The weekday x hour grid in ``tz``, shrunk toward the account mean (see module docs).

    ``prior_strength`` fixes ``k`` instead of estimating it from the data.
    """
    return _grid(perfs, tz, by_weekday=True, prior_strength=prior_strength)


def best_hours(
    perfs: Sequence[PostPerformance],
    tz: str | ZoneInfo = "UTC",
    *,
    prior_strength: float | None = None,
) -> TimeGrid:
    """Like :func:`best_times` with the weekdays pooled: 24 hour-of-day cells."""
    return _grid(perfs, tz, by_weekday=False, prior_strength=prior_strength)


def _grid(
    perfs: Sequence[PostPerformance],
    tz: str | ZoneInfo,
    *,
    by_weekday: bool,
    prior_strength: float | None,
) -> TimeGrid:
    if not perfs:
        raise ValueError("no posts to analyse")
    zone = _zone(tz)
    values, is_rate = _values(perfs)
    cells: dict[tuple[int | None, int], list[float]] = {}
    for perf, value in zip(perfs, values, strict=True):
        local = perf.created_at.astimezone(zone)
        cell = (local.weekday() if by_weekday else None, local.hour)
        cells.setdefault(cell, []).append(value)
    grid_cells: list[tuple[int | None, int]] = (
        [(d, h) for d in range(7) for h in range(24)]
        if by_weekday
        else [(None, h) for h in range(24)]
    )
    mu, sigma2, tau2, k, slots = _shrink(cells, grid_cells, prior_strength=prior_strength)
    return TimeGrid(
        timezone=zone.key,
        rate=is_rate,
        mean=mu,
        within_variance=sigma2,
        between_variance=tau2,
        prior_strength=k,
        slots=slots,
        posts=len(perfs),
        enough_data=len(perfs) >= MIN_POSTS,
    )


class FrequencyStat(BaseModel):
    """Days on which the account posted ``posts_per_day`` times (``"4+"`` pools the rest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    posts_per_day: str
    days: int
    posts: int
    per_post: float
    """Mean engagement (rate, or interactions) per post on such days."""
    per_day: float
    """Mean interactions per day on such days."""
    rate: bool
    low: float = 0.0
    high: float = 0.0
    """95 % interval of ``per_post`` (its standard error with a variance prior, as slots)."""
    enough_data: bool = True
    """False below :data:`MIN_DAYS` days: not to be compared."""


def best_frequency(
    perfs: Sequence[PostPerformance], tz: str | ZoneInfo = "UTC", *, cap: int = 4
) -> list[FrequencyStat]:
    """Engagement per post against posts per day (local days in ``tz``), fewest posts first."""
    zone = _zone(tz)
    values, is_rate = _values(perfs)
    days: dict[Any, list[tuple[float, int]]] = {}
    for perf, value in zip(perfs, values, strict=True):
        days.setdefault(perf.created_at.astimezone(zone).date(), []).append(
            (value, perf.interactions)
        )
    groups: dict[int, list[list[tuple[float, int]]]] = {}
    for rows in days.values():
        groups.setdefault(min(len(rows), cap), []).append(rows)
    out = []
    everything = [v for v in values]
    prior = max(
        statistics.pvariance(everything) if len(everything) > 1 else 0.0,
        (abs(statistics.fmean(everything)) * 0.5) ** 2 if everything else 0.0,
        1e-12,
    )
    for count in sorted(groups):
        day_rows = groups[count]
        flat = [r for rows in day_rows for r in rows]
        mine = [v for v, _ in flat]
        mean = statistics.fmean(mine)
        spread = sum((v - mean) ** 2 for v in mine)
        variance = (spread + PRIOR_DOF * prior) / (len(mine) - 1 + PRIOR_DOF)
        half = _Z95 * math.sqrt(variance / len(mine))
        out.append(
            FrequencyStat(
                posts_per_day=f"{count}+" if count == cap else str(count),
                days=len(day_rows),
                posts=len(flat),
                per_post=mean,
                per_day=statistics.fmean(sum(i for _, i in rows) for rows in day_rows),
                rate=is_rate,
                low=mean - half,
                high=mean + half,
                enough_data=len(day_rows) >= MIN_DAYS,
            )
        )
    return out


def _fmt(value: float, rate: bool) -> str:
    return f"{value:.1%}" if rate else f"{value:.1f} interactions"


def recommendations(
    perfs: Sequence[PostPerformance],
    tz: str | ZoneInfo = "UTC",
    *,
    min_posts: int = 5,
    min_confidence: float = 0.8,
) -> list[str]:
    """Plain sentences, each with the figures behind it. Groups with fewer than ``min_posts``
    posts are not recommended on."""
    if not perfs:
        return ["No posts with metrics yet: collect metrics before asking for recommendations."]
    zone = _zone(tz)
    values, rate = _values(perfs)
    overall = statistics.fmean(values)
    what = "engagement rate" if rate else "interactions per post"
    out: list[str] = [f"Across {len(perfs)} posts the average {what} is {_fmt(overall, rate)}."]
    if len(perfs) < MIN_POSTS:
        out.append(
            f"Not enough data for a best time or frequency yet: {len(perfs)} posts with "
            f"metrics, at least {MIN_POSTS} needed; post at varied times to learn more."
        )
        return out

    hours = best_hours(perfs, zone)
    best_hour = hours.top(1, min_posts=min_posts)
    if best_hour and best_hour[0].confidence >= min_confidence:
        s = best_hour[0]
        out.append(
            f"Post around {s.hour:02d}:00 ({zone.key}): expected {what} {_fmt(s.estimate, rate)} "
            f"(95 % interval {_fmt(s.low, rate)} to {_fmt(s.high, rate)}) against "
            f"{_fmt(overall, rate)} on average, from {s.posts} posts "
            f"({s.confidence:.0%} confidence it beats the average)."
        )
    grid = best_times(perfs, zone)
    slots = [s for s in grid.top(3) if s.confidence >= min_confidence]
    if slots:
        listed = "; ".join(
            f"{s.label} ({_fmt(s.estimate, rate)}, {s.posts} posts, {s.confidence:.0%} confidence)"
            for s in slots
        )
        out.append(f"Best weekly slots ({zone.key}): {listed}.")
    else:
        best = grid.top(1)
        if best:
            out.append(
                f"No weekly slot stands out yet (best: {best[0].label} at "
                f"{_fmt(best[0].estimate, rate)}, {best[0].confidence:.0%} confidence); "
                "post at varied times to learn more."
            )

    groupings: tuple[tuple[Literal["kind", "length_bucket", "hashtag"], str], ...] = (
        ("kind", "posts"),
        ("length_bucket", "character posts"),
        ("hashtag", "posts with"),
    )
    for by, noun in groupings:
        stats = [s for s in performance_by(perfs, by) if s.posts >= min_posts]
        # Kinds and lengths need two groups to compare; a hashtag compares with all posts.
        if not stats or (len(stats) < 2 and by != "hashtag"):
            continue
        top = stats[0]
        if top.mean <= overall:
            continue
        if by == "kind":
            subject = f"{top.group.capitalize()} {noun}"
        elif by == "length_bucket":
            subject = f"{top.group} {noun}"
        else:
            subject = f"Posts with {top.group}"
        out.append(
            f"{subject} earn {_fmt(top.mean, rate)} against {_fmt(overall, rate)} for all posts "
            f"({top.posts} posts)."
        )

    freq = [f for f in best_frequency(perfs, zone) if f.enough_data]
    if len(freq) >= 2:
        best_f = max(freq, key=lambda f: f.per_post)
        worst_f = min(freq, key=lambda f: f.per_post)
        if best_f is not worst_f:
            out.append(
                f"On days with {best_f.posts_per_day} post(s) each post earned "
                f"{_fmt(best_f.per_post, rate)} ({_fmt(best_f.low, rate)} to "
                f"{_fmt(best_f.high, rate)}, {best_f.days} days); with "
                f"{worst_f.posts_per_day} it was {_fmt(worst_f.per_post, rate)} "
                f"({_fmt(worst_f.low, rate)} to {_fmt(worst_f.high, rate)}, "
                f"{worst_f.days} days)."
            )
    return out


# -- export ---------------------------------------------------------------------------------

_COLUMNS = list(PostPerformance.model_fields)


def to_records(perfs: Iterable[PostPerformance]) -> list[dict[str, Any]]:
    """Plain dicts (datetimes as timezone-aware datetimes, hashtags as lists)."""
    return [p.model_dump() for p in perfs]


def write_csv(perfs: Iterable[PostPerformance], target: str | os.PathLike[str] | IO[str]) -> None:
    """CSV with a header; times in ISO 8601 UTC, hashtags space-separated, empty for None."""

    def row(p: PostPerformance) -> dict[str, str]:
        data = p.model_dump(mode="json")
        data["hashtags"] = " ".join(p.hashtags)
        return {k: "" if data[k] is None else str(data[k]) for k in _COLUMNS}

    if isinstance(target, (str, os.PathLike)):
        with Path(target).open("w", newline="", encoding="utf-8") as fh:
            _write(fh, (row(p) for p in perfs))
    else:
        _write(target, (row(p) for p in perfs))


def _write(fh: IO[str], rows: Iterable[dict[str, str]]) -> None:
    writer = csv.DictWriter(fh, fieldnames=_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)


def read_csv(source: str | os.PathLike[str] | IO[str]) -> list[PostPerformance]:
    """Read back what :func:`write_csv` wrote."""
    if isinstance(source, (str, os.PathLike)):
        with Path(source).open(newline="", encoding="utf-8") as fh:
            return _read(fh)
    return _read(source)


def _read(fh: IO[str]) -> list[PostPerformance]:
    out = []
    for row in csv.DictReader(fh):
        data: dict[str, Any] = {k: (v if v != "" else None) for k, v in row.items()}
        data["hashtags"] = row["hashtags"].split() if row.get("hashtags") else []
        out.append(PostPerformance.model_validate_json(json.dumps(data)))
    return out


def to_dataframe(perfs: Iterable[PostPerformance]) -> Any:
    """A pandas DataFrame, one row per post (needs the ``analytics`` extra)."""
    pd = optional_import("pandas", "analytics", "to_dataframe")
    frame = pd.DataFrame.from_records(to_records(perfs), columns=_COLUMNS)
    for column in ("created_at", "measured_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def from_dataframe(frame: Any) -> list[PostPerformance]:
    """Rows of a DataFrame made by :func:`to_dataframe` back to :class:`PostPerformance`."""
    pd = optional_import("pandas", "analytics", "from_dataframe")
    out = []
    for record in frame.to_dict(orient="records"):
        data = {}
        for name, value in record.items():
            if isinstance(value, pd.Timestamp):
                value = value.to_pydatetime()
            elif value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
                value = None
            elif hasattr(value, "item") and not isinstance(value, (list, str)):
                value = value.item()  # numpy scalar -> Python
            data[name] = value
        out.append(PostPerformance.model_validate(data))
    return out


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A matplotlib Figure on the Agg canvas, without pyplot (no global backend switch)."""
    figure_mod = optional_import("matplotlib.figure", "analytics", "plotting")
    agg = optional_import("matplotlib.backends.backend_agg", "analytics", "plotting")
    fig = figure_mod.Figure(figsize=(width, height), dpi=100, layout="constrained")
    agg.FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def plot_heatmap(grid: TimeGrid, path: str | os.PathLike[str], *, title: str | None = None) -> Path:
    """The weekday x hour grid as a PNG heatmap; each cell shows its number of posts."""
    rows = sorted({s.weekday for s in grid.slots}, key=lambda d: -1 if d is None else d)
    matrix = [[grid.cell(d, h).estimate for h in range(24)] for d in rows]
    fig, ax = _figure(12, 1.2 + 0.55 * len(rows))
    image = ax.imshow(matrix, aspect="auto", cmap="viridis")
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_yticks(range(len(rows)), ["all days" if d is None else _WEEKDAYS[d][:3] for d in rows])
    for y, d in enumerate(rows):
        for h in range(24):
            n = grid.cell(d, h).posts
            if n:
                ax.text(h, y, str(n), ha="center", va="center", fontsize=7, color="white")
    label = "engagement rate" if grid.rate else "interactions per post"
    if grid.rate:
        ticker = optional_import("matplotlib.ticker", "analytics", "plotting")
        fig.colorbar(image, ax=ax, label=f"{label} (shrunk)", format=ticker.PercentFormatter(1.0))
    else:
        fig.colorbar(image, ax=ax, label=f"{label} (shrunk)")
    ax.set_xlabel(f"hour ({grid.timezone}); numbers: posts per cell")
    ax.set_title(title or f"Best time to post ({grid.timezone})")
    out = Path(path)
    fig.savefig(out, format="png")
    return out


def plot_series(
    series: Mapping[str, Sequence[tuple[datetime, float]]] | Sequence[Snapshot],
    path: str | os.PathLike[str],
    *,
    metric: str = "likes",
    title: str | None = None,
) -> Path:
    """A time-series chart as PNG: named lines of ``(time, value)`` points, or the snapshots of
    a post (one line for ``metric``)."""
    if isinstance(series, Mapping):
        lines = {name: list(points) for name, points in series.items()}
    else:
        lines = {metric: [(s.measured_at, float(s.metrics.get(metric, 0.0))) for s in series]}
    if not any(lines.values()):
        raise ValueError("nothing to plot")
    fig, ax = _figure(9, 4.5)
    for name, points in lines.items():
        points.sort()
        ax.plot([t for t, _ in points], [v for _, v in points], marker="o", label=name)
    ax.set_ylabel(metric if not isinstance(series, Mapping) else "value")
    ax.set_title(title or "Metrics over time")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.autofmt_xdate()
    out = Path(path)
    fig.savefig(out, format="png")
    return out
