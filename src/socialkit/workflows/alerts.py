"""Bad-buzz alerts: a watch's mentions, or their negative share, breaking away from what the same
hour usually brings.

The method — a seasonal count model, exact tail probabilities, several time scales, incidents:

* Each watch gives, per time bucket (one hour by default), the **volume** (items), the
  **scored** items (sentiment known) and among them the **negative** and **positive** ones. The
  detector runs on the watch as a whole and on each network (and account) it listens on, so a
  burst on one small network is not drowned by the others; each :class:`Alert` says which.
* **Expected volume** of a bucket comes from the history before it (``window`` buckets, four
  weeks by default): the mean count of the same hour of day, on the same kind of day (weekday
  or weekend), smoothed with the neighbouring hours, the largest value of each group left out
  (one past burst cannot raise the baseline), and scaled by the recent level (the last three
  days against what the model expected of them, shrunk and clamped). Before a weekend has been
  seen, a weekend hour borrows the weekday profile scaled by what is known. Night hours of one
  or two items, weekends and busy mornings are thus each judged against their own usual level —
  a median over the last 48 hours, as before, put quiet nights and busy days in one baseline.
* **Counts are counts**: the volume is judged with a negative binomial (a Poisson whose rate
  varies a little from day to day; the extra variance ``φ·μ²`` is estimated from the history,
  at least ``dispersion``), and the negative share with a beta-binomial around the *pooled*
  share of the whole history (all negatives over all scored items, not a median of hourly
  shares, so a night bucket of one negative item out of two does not widen the baseline). The
  tail probability of what was seen is exact (summed), whatever the size of the bucket.
* **Several scales**: each test runs on the last 1, 2, 3 and 6 buckets (``scales``), summed, so
  a burst that straddles a bucket boundary or ramps up slowly over hours is seen as a whole.
* **Bad buzz** (polarity ``negative``) is an excess of negative items: their count against the
  expected count of negatives (volume × pooled share), or their share against the pooled share;
  the share must also rise by ``min_share_lift``, so a burst of every kind of mention is not
  called bad buzz. A volume burst without it is a ``positive`` wave when the positive share rose,
  else a neutral ``volume`` alert. Thresholds are tail probabilities (``alpha`` for volume,
  ``negative_alpha`` for bad buzz) per test.
* **Incidents, not cooldowns**: an alert opens an incident (per scope and polarity) that raises no
  further alert until ``quiet`` buckets in a row are back to normal — so a burst that goes on is
  one alert, and a real burst that follows a false alarm, once the series has calmed down,
  still fires.
* **Cold start**: nothing fires before ``min_history`` buckets (three days) of real history.
  :class:`BuzzMonitor` counts history only from when the listening began to cover the watch
  (its first poll, or its ``initial_since``): time before that is unknown, not zero.

* **Delivery** goes through an **outbox** in the store, so that a crash cannot drop an
  alert: the alert is recorded in the outbox *before* its incident state is saved, then
  delivered from the outbox, and removed from it once every callback has returned. A process
  that dies in between leaves the alert in the outbox, and the next :meth:`BuzzMonitor.check`
  (or :meth:`BuzzMonitor.deliver_pending`) after a restart delivers it. A callback that raises
  is retried at the next check, up to ``max_attempts`` deliveries (the callbacks that returned
  are not called again). Delivery is therefore at least once: make callbacks idempotent on
  :attr:`Alert.key` (a pager's deduplication key, say).

The thresholds are set by the backtest ``benchmarks/buzz_backtest.py`` (realistic rhythms, many
seeds, bursts of several shapes, English and French); its figures are in docs/workflows.md.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialkit.workflows._common import Clock, bucket_start, from_iso, iso, key, utcnow
from socialkit.workflows.listening import ListenedItem, VolumeBucket

if TYPE_CHECKING:
    from socialkit._store import Store
    from socialkit.workflows.listening import Listening

__all__ = [
    "Alert",
    "AlertCallback",
    "AlertKind",
    "BuzzMonitor",
    "DetectorConfig",
    "Incidents",
    "Polarity",
    "detect",
    "expected_counts",
    "most_specific",
    "scan",
]

log = logging.getLogger("socialkit.workflows.alerts")

AlertKind = Literal["volume", "negative_volume", "negative_share"]
"""Which test fired: the volume, the count of negative items, or their share."""
Polarity = Literal["negative", "positive", "volume"]
"""``negative``: bad buzz; ``positive``: a positive wave; ``volume``: neither stands out."""


class DetectorConfig(BaseModel):
    """The knobs of the method described in the module docs; counts are in buckets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=28 * 24, ge=3, description="Buckets of history the model uses.")
    min_history: int = Field(
        default=72, ge=3, description="Buckets of real history needed before any alert."
    )
    scales: tuple[int, ...] = Field(
        default=(1, 2, 3, 6), description="Window lengths (buckets) each test runs on."
    )
    alpha: float = Field(default=1e-6, gt=0, lt=1, description="Tail probability, volume.")
    negative_alpha: float = Field(
        default=1e-5, gt=0, lt=1, description="Tail probability, negative count or share."
    )
    min_count: int = Field(default=10, ge=1, description="Items a volume alert needs.")
    min_negative: int = Field(default=5, ge=1, description="Negative items a bad buzz needs.")
    min_share_lift: float = Field(
        default=0.1, ge=0, le=1, description="How far the negative share must rise (absolute)."
    )
    min_lift: float = Field(
        default=1.5, ge=1, description="Observed over expected volume a volume alert needs."
    )
    dispersion: float = Field(
        default=0.05, ge=0, description="Least extra variance of counts (φ in μ + φμ²)."
    )
    share_concentration: float = Field(
        default=200.0, gt=0, description="Beta-binomial concentration of the negative share."
    )
    quiet: int = Field(default=2, ge=1, description="Normal buckets in a row that end an incident.")

    @model_validator(mode="after")
    def _history(self) -> DetectorConfig:
        if self.min_history > self.window:
            raise ValueError("min_history cannot exceed window")
        if not self.scales or any(s < 1 for s in self.scales):
            raise ValueError("scales must be positive bucket counts")
        return self


class Alert(BaseModel):
    """A burst that broke away from the usual level, with the evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch: str
    kind: AlertKind
    polarity: Polarity
    network: str | None = None
    """The network the burst is on (``None``: the watch over every network)."""
    account: str | None = None
    """The account (adapter label) it is on, when the watch listens through several."""
    query: str | None = None
    """The keywords or accounts of the watch, for the message."""
    start: datetime
    """Start of the first bucket of the window that fired."""
    end: datetime
    count: int
    negative: int
    positive: int = 0
    scored: int
    value: float
    """What was measured: the volume, the negative count, or the negative share."""
    baseline: float
    """What was expected of it (the same unit)."""
    p_value: float
    """The probability of seeing this much, or more, by chance under the model."""
    z: float
    """``p_value`` as a one-sided normal score (higher is stronger)."""
    threshold: float
    """The tail probability the test had to beat."""
    scale: int = 1
    """How many buckets the window that fired spans."""
    history: int
    """Buckets of history the model was fitted on."""
    top_negative: list[ListenedItem] = Field(default_factory=list)
    """The most engaged negative items of the window (up to five): what made it."""

    @property
    def key(self) -> str:
        """The same for every delivery of this alert (deduplicate on it): watch, scope, kind
        and window."""
        scope = f"{self.network or '*'}/{self.account or '*'}"
        return f"{self.watch}:{scope}:{self.kind}:{iso(self.start)}:{iso(self.end)}"

    @property
    def where(self) -> str:
        parts = [self.watch]
        if self.network:
            parts.append(f"on {self.network}")
        if self.account and self.account != self.network:
            parts.append(f"({self.account})")
        return " ".join(parts)

    @property
    def message(self) -> str:
        """One readable sentence with the figures."""
        span = f"between {self.start:%Y-%m-%d %H:%M} and {self.end:%H:%M} UTC"
        if self.kind == "negative_share":
            return (
                f"Bad buzz: {self.where}: {self.value:.0%} negative ({self.negative} of "
                f"{self.scored}) {span} against a usual {self.baseline:.0%} "
                f"(p = {self.p_value:.1e})."
            )
        if self.kind == "negative_volume":
            return (
                f"Bad buzz: {self.where}: {self.negative} negative mentions {span} against a "
                f"usual {self.baseline:.1f} (p = {self.p_value:.1e}); {self.count} in all."
            )
        label = {"positive": "Positive wave", "volume": "Volume burst", "negative": "Bad buzz"}
        return (
            f"{label[self.polarity]}: {self.where}: {self.count} mentions {span} against a "
            f"usual {self.baseline:.1f} (p = {self.p_value:.1e}); {self.negative} of "
            f"{self.scored} scored are negative, {self.positive} positive."
        )


AlertCallback = Callable[[Alert], "Awaitable[None] | None"]


def _delivery_order(alert: Alert) -> tuple[datetime, str, str, str, str]:
    return (alert.end, alert.watch, alert.network or "", alert.account or "", alert.kind)


# -- probabilities -----------------------------------------------------------------------------
# Written here rather than taken from scipy: two tails are all the detector needs, and scipy
# would be a heavy dependency of the core workflows for them.


def _nb_tail(x: int, mean: float, phi: float) -> float:
    """P(X >= x) for a negative binomial of ``mean`` and variance ``mean + phi * mean²``."""
    if x <= 0:
        return 1.0
    mean = max(mean, 1e-9)
    if phi <= 1e-9:  # Poisson
        log_term = -mean + x * math.log(mean) - math.lgamma(x + 1)
        ratio = lambda k: mean / (k + 1)  # noqa: E731
    else:
        r = 1.0 / phi
        p = r / (r + mean)
        log_term = (
            math.lgamma(x + r)
            - math.lgamma(r)
            - math.lgamma(x + 1)
            + r * math.log(p)
            + x * math.log1p(-p)
        )
        ratio = lambda k: (k + r) / (k + 1) * (1 - p)  # noqa: E731
    return _sum_tail(x, log_term, ratio, mean)


def _sum_tail(x: int, log_term: float, ratio: Callable[[int], float], mean: float) -> float:
    if x <= mean:  # not in the upper tail: no alert hinges on it, an upper bound will do
        return 1.0
    if log_term < -745:
        return 0.0
    term = math.exp(log_term)
    total = term
    k = x
    for _ in range(100_000):
        term *= ratio(k)
        k += 1
        total += term
        if term < total * 1e-12:
            break
    return min(1.0, total)


def _betabinom_tail(k: int, n: int, p: float, concentration: float) -> float:
    """P(K >= k) for K ~ BetaBinomial(n, p·c, (1-p)·c)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    a = max(p, 1e-6) * concentration
    b = max(1 - p, 1e-6) * concentration
    if k <= n * a / (a + b):
        return 1.0
    log_term = (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + math.lgamma(k + a)
        + math.lgamma(n - k + b)
        - math.lgamma(n + a + b)
        + math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
    )
    total = term = math.exp(log_term)
    for j in range(k, n):
        term *= (n - j) / (j + 1) * (j + a) / (n - j - 1 + b)
        total += term
        if term < total * 1e-12:
            break
    return min(1.0, total)


def _z(p: float) -> float:
    """The one-sided normal score of a tail probability (inverse survival function)."""
    p = min(max(p, 1e-300), 0.5)
    # Acklam's rational approximation refined with one Newton step on erfc: plenty here.
    t = math.sqrt(-2.0 * math.log(p))
    z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
        1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3
    )
    for _ in range(2):
        err = 0.5 * math.erfc(z / math.sqrt(2)) - p
        z += err / (math.exp(-z * z / 2) / math.sqrt(2 * math.pi))
    return z


# -- the seasonal model ------------------------------------------------------------------------


def _weekend(moment: datetime) -> bool:
    return moment.weekday() >= 5


@dataclass
class _Model:
    """What a history says a bucket should hold."""

    means: dict[tuple[bool, int], float]
    """(weekend, hour) -> mean count, smoothed, for the day kinds seen."""
    level: float
    phi: float
    negative_share: float
    positive_share: float
    history: int
    floor: float

    def expected(self, moment: datetime) -> float:
        hour = moment.hour
        weekend = _weekend(moment)
        mean = self.means.get((weekend, hour))
        if mean is None:
            mean = self.means.get((not weekend, hour), self.floor)
        return max(mean * self.level, self.floor)


def _trimmed_mean(values: list[float]) -> float:
    if len(values) >= 5:
        values = sorted(values)[:-1]  # one past burst does not raise the usual level
    return sum(values) / len(values)


def _fit(history: Sequence[VolumeBucket], config: DetectorConfig) -> _Model:
    groups: dict[tuple[bool, int], list[float]] = {}
    for bucket in history:
        groups.setdefault((_weekend(bucket.start), bucket.start.hour), []).append(bucket.count)
    raw = {g: _trimmed_mean(v) for g, v in groups.items()}
    means: dict[tuple[bool, int], float] = {}
    for weekend, hour in raw:
        near = [
            (raw.get((weekend, (hour + d) % 24)), w) for d, w in ((-1, 0.25), (0, 0.5), (1, 0.25))
        ]
        known = [(m, w) for m, w in near if m is not None]
        means[(weekend, hour)] = sum(m * w for m, w in known) / sum(w for _, w in known)
    total = sum(b.count for b in history)
    overall = total / max(len(history), 1)
    floor = max(0.05, 0.02 * overall)
    model = _Model(means, 1.0, config.dispersion, 0.0, 0.0, len(history), floor)
    # Recent level: the last three days against what the profile expected of them, shrunk
    # toward 1 (half a day's worth of expected items as prior) and clamped.
    recent = history[-72:]
    seen = sum(b.count for b in recent)
    expected = sum(model.expected(b.start) for b in recent)
    prior = max(expected / 6, 1.0)
    model.level = min(2.0, max(0.5, (seen + prior) / (expected + prior)))
    # Extra variance from the residuals of the history (method of moments), at least the floor.
    num = den = 0.0
    for bucket in history:
        mean = model.expected(bucket.start)
        num += (bucket.count - mean) ** 2 - mean
        den += mean * mean
    if den > 0:
        model.phi = min(1.0, max(config.dispersion, num / den))
    scored = sum(b.scored for b in history)
    # Pooled shares with a weak prior (20 items at 15 % negative, 30 % positive).
    model.negative_share = (sum(b.negative for b in history) + 3.0) / (scored + 20.0)
    model.positive_share = (sum(b.positive for b in history) + 6.0) / (scored + 20.0)
    return model


def expected_counts(
    history: Sequence[VolumeBucket],
    moments: Iterable[datetime],
    config: DetectorConfig | None = None,
) -> list[float]:
    """What the model fitted on ``history`` expects at each moment (for charts and tests)."""
    model = _fit(list(history), config or DetectorConfig())
    return [model.expected(m) for m in moments]


# -- detection ---------------------------------------------------------------------------------


@dataclass
class _Finding:
    kind: AlertKind
    polarity: Polarity
    p_value: float
    threshold: float
    scale: int
    value: float
    baseline: float


@dataclass
class Incidents:
    """Open incidents of one scope, per family (bad buzz, other bursts): how many normal buckets
    each has seen since it was last abnormal, and when each family was last abnormal (a window
    that reaches back into a closed incident does not open a new one)."""

    normal_run: dict[str, int] = field(default_factory=dict)
    last_abnormal: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"open": self.normal_run, "last": self.last_abnormal}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | None) -> Incidents:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(
            {str(k): int(v) for k, v in data.get("open", {}).items()},
            {str(k): float(v) for k, v in data.get("last", {}).items()},
        )


def _judge(window: Sequence[VolumeBucket], model: _Model, config: DetectorConfig) -> list[_Finding]:
    """Every test that fires on the buckets of ``window`` (summed), strongest first."""
    count = sum(b.count for b in window)
    scored = sum(b.scored for b in window)
    negative = sum(b.negative for b in window)
    positive = sum(b.positive for b in window)
    mean = sum(model.expected(b.start) for b in window)
    scale = len(window)
    found: list[_Finding] = []
    share_base = model.negative_share
    share = negative / scored if scored else 0.0
    share_rose = scored > 0 and share >= share_base + config.min_share_lift
    if negative >= config.min_negative and share_rose:
        expected_negative = mean * share_base * (scored / count if count else 1.0)
        p = _nb_tail(negative, expected_negative, model.phi)
        if p <= config.negative_alpha:
            found.append(
                _Finding(
                    "negative_volume",
                    "negative",
                    p,
                    config.negative_alpha,
                    scale,
                    float(negative),
                    expected_negative,
                )
            )
        p = _betabinom_tail(negative, scored, share_base, config.share_concentration)
        if p <= config.negative_alpha:
            found.append(
                _Finding(
                    "negative_share", "negative", p, config.negative_alpha, scale, share, share_base
                )
            )
    if count >= config.min_count and count >= config.min_lift * mean:
        p = _nb_tail(count, mean, model.phi)
        if p <= config.alpha:
            positive_share = positive / scored if scored else 0.0
            polarity: Polarity = (
                "negative"
                if share_rose
                else "positive"
                if scored and positive_share >= model.positive_share + 0.1
                else "volume"
            )
            found.append(_Finding("volume", polarity, p, config.alpha, scale, float(count), mean))
    found.sort(key=lambda f: f.p_value)
    return found


def _family(polarity: Polarity) -> str:
    """Incidents are kept per family: bad buzz, or any other burst (a positive wave and a
    neutral burst of the same event are one incident)."""
    return "negative" if polarity == "negative" else "burst"


def _abnormal(
    window: Sequence[VolumeBucket], model: _Model, config: DetectorConfig
) -> set[Polarity]:
    """Polarities still abnormal at a looser level (the square root of the thresholds): an
    incident stays open while its polarity is in here."""
    loose = config.model_copy(
        update={
            "alpha": math.sqrt(config.alpha),
            "negative_alpha": math.sqrt(config.negative_alpha),
            "min_count": 1,
            "min_negative": 1,
            "min_lift": 1.0,
        }
    )
    return {f.polarity for f in _judge(window, model, loose)}


def scan(
    series: Sequence[VolumeBucket],
    first: int,
    config: DetectorConfig,
    incidents: Incidents,
    *,
    history_start: int = 0,
    network: str | None = None,
    account: str | None = None,
    query: str | None = None,
) -> list[Alert]:
    """Alerts of ``series[first:]`` against the history before each bucket (from index
    ``history_start`` on), updating ``incidents``. The model is refitted at each day's start."""
    alerts: list[Alert] = []
    longest = max(config.scales)
    model: _Model | None = None
    fitted_at: datetime | None = None
    for index in range(first, len(series)):
        bucket = series[index]
        history_end = index - longest + 1
        history_begin = max(history_start, history_end - config.window)
        if history_end - history_begin < config.min_history:
            continue
        if model is None or fitted_at is None or bucket.start.date() != fitted_at.date():
            model = _fit(series[history_begin:history_end], config)
            fitted_at = bucket.start
        findings: list[_Finding] = []
        for scale in sorted(config.scales):
            findings.extend(_judge(series[index - scale + 1 : index + 1], model, config))
        # An incident stays open while its last bucket or two are still abnormal (at a looser
        # level); the longer windows would keep it open for hours after a lone spike.
        abnormal = {
            _family(p)
            for scale in (1, 2)
            for p in _abnormal(series[index - scale + 1 : index + 1], model, config)
        }
        for family in list(incidents.normal_run):
            if family in abnormal:
                incidents.normal_run[family] = 0
                incidents.last_abnormal[family] = bucket.start.timestamp()
            else:
                incidents.normal_run[family] += 1
                if incidents.normal_run[family] >= config.quiet:
                    del incidents.normal_run[family]
        fired: set[str] = set()
        for finding in sorted(findings, key=lambda f: f.p_value):
            family = _family(finding.polarity)
            members = series[index - finding.scale + 1 : index + 1]
            if family in incidents.normal_run or family in fired:
                continue
            last = incidents.last_abnormal.get(family)
            if last is not None and members[0].start.timestamp() <= last:
                continue  # this window reaches back into the incident that just ended
            fired.add(family)
            incidents.normal_run[family] = 0
            incidents.last_abnormal[family] = bucket.start.timestamp()
            alerts.append(_alert(finding, members, model, network, account, query))
    return alerts


def _alert(
    finding: _Finding,
    members: Sequence[VolumeBucket],
    model: _Model,
    network: str | None,
    account: str | None,
    query: str | None,
) -> Alert:
    negatives = sorted(
        (i for b in members for i in b.top_negative),
        key=lambda i: (i.engagement, i.created_at),
        reverse=True,
    )
    return Alert(
        watch=members[-1].watch,
        kind=finding.kind,
        polarity=finding.polarity,
        network=network,
        account=account,
        query=query,
        start=members[0].start,
        end=members[-1].end,
        count=sum(b.count for b in members),
        negative=sum(b.negative for b in members),
        positive=sum(b.positive for b in members),
        scored=sum(b.scored for b in members),
        value=finding.value,
        baseline=finding.baseline,
        p_value=finding.p_value,
        z=_z(finding.p_value),
        threshold=finding.threshold,
        scale=finding.scale,
        history=model.history,
        top_negative=negatives[:5],
    )


def most_specific(alerts: Sequence[Alert]) -> list[Alert]:
    """One alert per event: of the alerts of one bucket and family, a burst seen on a single
    network (or account) is reported there, and one seen on several networks is reported once
    for the whole watch."""
    groups: dict[tuple[str, datetime, str], list[Alert]] = {}
    for alert in alerts:
        groups.setdefault((alert.watch, alert.end, _family(alert.polarity)), []).append(alert)
    kept: list[Alert] = []
    for group in groups.values():
        whole = [a for a in group if a.network is None]
        networks = [a for a in group if a.network is not None and a.account is None]
        accounts = [a for a in group if a.account is not None]
        if len(accounts) == 1 and len(networks) <= 1:
            kept.extend(accounts)
        elif len(networks) == 1:
            kept.extend(networks)
        elif whole:
            kept.extend(whole)
        else:
            kept.extend(networks or accounts)
    return sorted(kept, key=lambda a: (a.end, a.watch, a.network or "", a.account or ""))


def detect(series: Sequence[VolumeBucket], config: DetectorConfig | None = None) -> list[Alert]:
    """Every alert over a whole series (oldest bucket first), for backtests and for reviewing
    the past. :class:`BuzzMonitor` does the same incrementally, per scope."""
    return scan(list(series), 0, config or DetectorConfig(), Incidents())


class BuzzMonitor:
    """Runs the detector on a :class:`~socialkit.workflows.listening.Listening`'s watches.

    :meth:`check` evaluates each complete bucket not evaluated before (remembered in the store,
    with the open incidents of each scope, so a restart neither repeats nor skips an
    alert) and sends each alert to the callbacks through the store's outbox (module docs).
    ``delivery_timeout`` is how long a delivery may run before another check (this process
    after a crash, or another one) delivers the alert again; ``max_attempts`` bounds the
    deliveries of an alert whose callback keeps failing.
    """

    def __init__(
        self,
        listening: Listening,
        *,
        config: DetectorConfig | None = None,
        bucket: timedelta = timedelta(hours=1),
        store: Store | None = None,
        namespace: str = "alerts",
        callbacks: Iterable[AlertCallback] = (),
        clock: Clock = utcnow,
        delivery_timeout: timedelta = timedelta(minutes=5),
        max_attempts: int = 5,
    ) -> None:
        if bucket <= timedelta(0):
            raise ValueError("bucket must be a positive duration")
        if delivery_timeout <= timedelta(0):
            raise ValueError("delivery_timeout must be a positive duration")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.listening = listening
        self.config = config or DetectorConfig()
        self.bucket = bucket
        self.store: Store = store if store is not None else listening.store
        self.namespace = namespace
        self._callbacks: list[AlertCallback] = list(callbacks)
        self._clock = clock
        self.delivery_timeout = delivery_timeout
        self.max_attempts = max_attempts

    def subscribe(self, callback: AlertCallback) -> AlertCallback:
        """Register a callback (usable as a decorator); sync or async."""
        self._callbacks.append(callback)
        return callback

    async def check(self, watches: Iterable[str] | None = None) -> list[Alert]:
        """Evaluate the complete buckets since the last check; return the new alerts.

        Every alert of the outbox is then delivered: the new ones, and those a crash or a
        failing callback left undelivered before.
        """
        names = list(self.listening.watches) if watches is None else list(watches)
        now = self._clock()
        current_start = bucket_start(now, self.bucket)
        fired: list[Alert] = []
        for name in names:
            fired.extend(await self._check_watch(name, current_start))
        await self.deliver_pending()
        return fired

    async def _check_watch(self, name: str, current_start: datetime) -> list[Alert]:
        cfg = self.config
        state_key = key(name, "evaluated")
        last_raw = await self.store.get(self.namespace, state_key)
        first_new = (
            from_iso(last_raw) + self.bucket
            if last_raw is not None
            else current_start - self.bucket
        )
        if first_new >= current_start:
            return []
        covered = await self.listening.covered_since(name)
        if covered is None:  # never polled: nothing is known yet
            return []
        history_from = bucket_start(covered, self.bucket)
        if history_from < covered:  # a bucket only partly covered is not history
            history_from += self.bucket
        since = max(first_new - (cfg.window + max(cfg.scales)) * self.bucket, history_from)
        if since >= current_start:
            await self.store.put(self.namespace, state_key, iso(current_start - self.bucket))
            return []
        watch = self.listening.watches[name]
        query = ", ".join([*watch.queries(), *watch.accounts]) or None
        alerts: list[Alert] = []
        states: list[tuple[str, Incidents]] = []
        for network, account in self._scopes(name):
            series = await self.listening.volume(
                name,
                bucket=self.bucket,
                since=since,
                until=current_start,
                network=network,
                source=account,
            )
            first = next((i for i, b in enumerate(series) if b.start >= first_new), len(series))
            scope_key = key(name, network or "*", account or "*", "incidents")
            incidents = Incidents.from_json(await self.store.get(self.namespace, scope_key))
            alerts.extend(
                scan(series, first, cfg, incidents, network=network, account=account, query=query)
            )
            states.append((scope_key, incidents))
        alerts = most_specific(alerts)
        # Outbox first, incident state second: a crash between the two evaluates these
        # buckets again after a restart, which finds the alerts already in the outbox; a
        # crash after both leaves them in the outbox, to be delivered.
        for alert in alerts:
            record = {"alert": alert.model_dump(mode="json"), "lease_until": None}
            await self.store.compare_and_set(
                self.namespace, self._outbox_key(alert), None, json.dumps(record)
            )
        for scope_key, incidents in states:
            await self.store.put(self.namespace, scope_key, incidents.to_json())
        await self.store.put(self.namespace, state_key, iso(current_start - self.bucket))
        return alerts

    def _scopes(self, name: str) -> list[tuple[str | None, str | None]]:
        """The watch as a whole, each network it listens on, and each account where a network
        is listened to through several."""
        labels: dict[str, set[str]] = {}
        for watch, label, _via, _query in self.listening.sources():
            if watch.name == name:
                labels.setdefault(self.listening.adapters[label].name, set()).add(label)
        scopes: list[tuple[str | None, str | None]] = [(None, None)]
        if len(labels) > 1:
            scopes.extend((network, None) for network in sorted(labels))
        for network in sorted(labels):
            if len(labels[network]) > 1:
                scopes.extend((network, label) for label in sorted(labels[network]))
        return scopes

    @staticmethod
    def _outbox_key(alert: Alert) -> str:
        return key("outbox", alert.key)

    async def pending(self) -> list[Alert]:
        """The alerts in the outbox, not yet delivered to every callback, oldest first."""
        entries = await self.store.items(self.namespace, key("outbox", ""))
        alerts = [Alert.model_validate(json.loads(raw)["alert"]) for _, raw in entries]
        return sorted(alerts, key=_delivery_order)

    async def deliver_pending(self) -> list[Alert]:
        """Deliver the outbox: each alert whose delivery is not running elsewhere.

        Returns the alerts delivered to every callback (and so removed from the outbox). A
        delivery holds the alert for ``delivery_timeout``: a check running meanwhile in another
        process skips it, and a delivery cut by a crash is taken up once that time has passed.
        """
        entries = await self.store.items(self.namespace, key("outbox", ""))
        records = [(json.loads(raw), name, raw) for name, raw in entries]
        records.sort(key=lambda r: _delivery_order(Alert.model_validate(r[0]["alert"])))
        delivered: list[Alert] = []
        for record, name, raw in records:
            now = self._clock()
            lease = record.get("lease_until")
            if lease is not None and from_iso(lease) > now:
                continue
            attempt = int(record.get("attempts", 0)) + 1
            leased = json.dumps(
                {**record, "lease_until": iso(now + self.delivery_timeout), "attempts": attempt}
            )
            if not await self.store.compare_and_set(self.namespace, name, raw, leased):
                continue  # another process took it
            alert = Alert.model_validate(record["alert"])
            done = set(record.get("done", []))
            done |= await self._dispatch(alert, skip=done)
            if done >= {self._callback_name(i, c) for i, c in enumerate(self._callbacks)}:
                await self.store.delete(self.namespace, name)
                delivered.append(alert)
            elif attempt >= self.max_attempts:
                log.error(
                    "alert %s dropped after %d deliveries: a callback kept failing",
                    alert.key,
                    attempt,
                )
                await self.store.delete(self.namespace, name)
            else:  # retried at the next check, for the callbacks that failed only
                retry = {**record, "lease_until": None, "attempts": attempt, "done": sorted(done)}
                await self.store.compare_and_set(self.namespace, name, leased, json.dumps(retry))
        return delivered

    @staticmethod
    def _callback_name(index: int, callback: AlertCallback) -> str:
        # Registration order and name: stable across restarts that register the same callbacks.
        return f"{index}:{getattr(callback, '__qualname__', type(callback).__qualname__)}"

    async def _dispatch(self, alert: Alert, *, skip: set[str]) -> set[str]:
        """Call each callback not in ``skip``; return the names of those that returned."""
        done: set[str] = set()
        for index, callback in enumerate(list(self._callbacks)):
            name = self._callback_name(index, callback)
            if name in skip:
                continue
            try:
                result = callback(alert)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # one failing callback must not silence the others
                log.error(
                    "alert callback %r failed on %s: %s: %s",
                    callback,
                    alert.watch,
                    type(exc).__name__,
                    exc,
                )
            else:
                done.add(name)
        return done

    async def check_live(self, watches: Iterable[str] | None = None) -> list[Alert]:
        """:meth:`check`, then the bucket under way too: a burst is reported while it is
        happening, as soon as the part of the bucket already seen is beyond what a whole
        bucket usually brings (the test is the same; counting a part of a bucket against a
        whole one only makes it stricter).

        An alert of the bucket under way opens its incident like any other, so the bucket,
        once complete, is not reported again; the bucket is still evaluated in full when it
        ends (for a burst that grows into another kind, or to close incidents).
        """
        fired = await self.check(watches)
        names = list(self.listening.watches) if watches is None else list(watches)
        now = self._clock()
        current_start = bucket_start(now, self.bucket)
        early: list[Alert] = []
        for name in names:
            early.extend(await self._check_partial(name, current_start, now))
        if early:
            await self.deliver_pending()
        return [*fired, *early]

    async def _check_partial(
        self, name: str, current_start: datetime, now: datetime
    ) -> list[Alert]:
        cfg = self.config
        covered = await self.listening.covered_since(name)
        if covered is None or now <= current_start:
            return []
        history_from = bucket_start(covered, self.bucket)
        if history_from < covered:
            history_from += self.bucket
        since = max(current_start - (cfg.window + max(cfg.scales)) * self.bucket, history_from)
        if since >= current_start:
            return []
        watch = self.listening.watches[name]
        query = ", ".join([*watch.queries(), *watch.accounts]) or None
        alerts: list[Alert] = []
        opened: list[tuple[str, Incidents, Alert]] = []
        for network, account in self._scopes(name):
            series = await self.listening.volume(
                name, bucket=self.bucket, since=since, until=now, network=network, source=account
            )
            if not series or series[-1].start != current_start:
                continue
            scope_key = key(name, network or "*", account or "*", "incidents")
            raw = await self.store.get(self.namespace, scope_key)
            # The bucket is judged on a copy: its normal state must not count as a quiet
            # bucket (that happens once, when it is complete); only an alert is kept.
            trial = Incidents.from_json(raw)
            found = scan(
                series,
                len(series) - 1,
                cfg,
                trial,
                network=network,
                account=account,
                query=query,
            )
            for alert in found:
                alerts.append(alert)
                opened.append((scope_key, Incidents.from_json(raw), alert))
        alerts = most_specific(alerts)
        kept = {id(a) for a in alerts}
        for alert in alerts:
            record = {"alert": alert.model_dump(mode="json"), "lease_until": None}
            await self.store.compare_and_set(
                self.namespace, self._outbox_key(alert), None, json.dumps(record)
            )
        for scope_key, incidents, alert in opened:
            family = _family(alert.polarity)
            if id(alert) not in kept and family in incidents.normal_run:
                continue
            incidents.normal_run[family] = 0
            incidents.last_abnormal[family] = current_start.timestamp()
            await self.store.put(self.namespace, scope_key, incidents.to_json())
        return alerts

    async def run(
        self,
        *,
        interval: float = 300.0,
        max_checks: int | None = None,
        stream: bool = False,
        live_interval: float = 1.0,
        until: Callable[[], bool] | None = None,
    ) -> None:
        """Poll the listening and check, every ``interval`` seconds (``max_checks`` to stop).

        With ``stream``, the listening is read in real time
        (:meth:`Listening.stream(realtime=True) <socialkit.workflows.listening.Listening.stream>`:
        streams where the networks have them, polling every ``interval`` seconds elsewhere)
        and :meth:`check_live` runs as items arrive, at most every ``live_interval`` seconds,
        and at least that often while nothing arrives: a burst alerts while it happens.
        ``max_checks`` counts those checks; ``until()`` returning true also stops.
        """
        import asyncio

        if not stream:
            checks = 0
            while True:
                await self.listening.poll()
                await self.check()
                checks += 1
                if max_checks is not None and checks >= max_checks:
                    return
                await asyncio.sleep(interval)
        if live_interval <= 0:
            raise ValueError("live_interval must be positive seconds")
        import anyio

        checks = 0
        arrived = anyio.Event()

        async def read() -> None:
            nonlocal arrived
            async for _item in self.listening.stream(interval=interval, realtime=True):
                arrived.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            while True:
                await self.check_live()
                checks += 1
                if (max_checks is not None and checks >= max_checks) or (
                    until is not None and until()
                ):
                    tg.cancel_scope.cancel()
                    return
                with anyio.move_on_after(live_interval):
                    await arrived.wait()
                arrived = anyio.Event()
                await anyio.sleep(min(0.05, live_interval))  # a burst: one check per batch
