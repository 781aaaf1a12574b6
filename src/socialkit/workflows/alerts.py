"""Bad-buzz alerts: a watch's volume or negative share breaking away from its own baseline.

The method (robust z-score against a trailing window, with noise floors and minimum counts):

* Each watch gives two series per time bucket (one hour by default): the **volume** (items) and
  the **negative share** (negative items / items whose sentiment could be scored).
* The baseline of bucket ``t`` is the ``window`` buckets before it (48 by default; ``t`` itself
  is never in its own baseline). Its centre is the **median** and its spread the **MAD**
  (median absolute deviation) × 1.4826, which estimates a standard deviation and is not pulled
  up by past bursts the way a mean and a standard deviation are.
* **Volume** is judged on Anscombe's scale ``2·sqrt(count + 3/8)``, on which Poisson noise has
  a standard deviation of 1 at any rate. The spread has that floor of 1, so a flat baseline (MAD
  0) cannot make a small change look huge, and the skew of small counts does not fatten the
  upper tail. ``z = (a(count) - median(a(history))) / max(1, 1.4826·MAD)``; an alert fires when
  ``z >= volume_threshold`` (4) and the bucket holds at least ``min_count`` (10) items.
* **Negative share**: ``z = (share - median) / max(1.4826·MAD, sqrt(p(1-p)/n))``, the floor being
  the binomial noise of the current bucket (``n`` scored items, ``p`` the baseline share clamped
  to [0.05, 0.95]); an alert fires when ``z >= negative_threshold`` (3.5) and the bucket holds at
  least ``min_negative`` (5) negative items.
* Nothing fires before ``min_history`` (24) buckets of baseline exist.
* **Cooldown**: after an alert of one kind on one watch, the next ``cooldown`` (6) buckets raise
  no alert of that kind (one incident, one alert).

An :class:`Alert` carries the evidence (counts, baseline, spread, z, threshold and the most
engaged negative items) and goes to every registered callback, sync or async. The thresholds
are bounded by the backtest in ``tests/workflows/test_alerts.py`` (detection delay and false
alarms on labelled synthetic series).
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from socialkit.workflows._common import Clock, bucket_start, from_iso, iso, key, median, utcnow
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
    "detect",
    "evaluate",
]

log = logging.getLogger("socialkit.workflows.alerts")

AlertKind = Literal["volume", "negative_share"]
_MAD_TO_SD = 1.4826


class DetectorConfig(BaseModel):
    """The knobs of the method described in the module docs; counts are in buckets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window: int = Field(default=48, ge=3, description="Buckets in the trailing baseline.")
    min_history: int = Field(default=24, ge=3, description="Baseline buckets needed to judge.")
    volume_threshold: float = Field(default=4.0, gt=0)
    min_count: int = Field(default=10, ge=1, description="Items a bucket needs for a volume alert.")
    negative_threshold: float = Field(default=3.5, gt=0)
    min_negative: int = Field(default=5, ge=1, description="Negative items needed for that alert.")
    cooldown: int = Field(default=6, ge=0, description="Quiet buckets after an alert of a kind.")

    @model_validator(mode="after")
    def _history(self) -> DetectorConfig:
        if self.min_history > self.window:
            raise ValueError("min_history cannot exceed window")
        return self


class Alert(BaseModel):
    """A bucket that broke away from its baseline, with the evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    watch: str
    kind: AlertKind
    start: datetime
    end: datetime
    count: int
    negative: int
    scored: int
    value: float
    """The volume, or the negative share, of the bucket."""
    baseline: float
    """The median of the trailing window."""
    spread: float
    """The robust standard deviation used (MAD × 1.4826, or the noise floor); for volume it is
    on Anscombe's scale, like ``z``."""
    z: float
    threshold: float
    history: int
    """Buckets the baseline was computed from."""
    top_negative: list[ListenedItem] = Field(default_factory=list)

    @property
    def message(self) -> str:
        """One readable sentence with the figures."""
        if self.kind == "volume":
            return (
                f"{self.watch}: {self.count} mentions between {self.start:%Y-%m-%d %H:%M} and "
                f"{self.end:%H:%M} UTC against a usual {self.baseline:g} "
                f"(z = {self.z:.1f}, threshold {self.threshold:g}); "
                f"{self.negative} of {self.scored} scored are negative."
            )
        return (
            f"{self.watch}: {self.value:.0%} negative ({self.negative} of {self.scored}) between "
            f"{self.start:%Y-%m-%d %H:%M} and {self.end:%H:%M} UTC against a usual "
            f"{self.baseline:.0%} (z = {self.z:.1f}, threshold {self.threshold:g})."
        )


AlertCallback = Callable[[Alert], "Awaitable[None] | None"]


def _anscombe(count: int) -> float:
    return 2.0 * math.sqrt(count + 0.375)


def _robust(history: Sequence[float]) -> tuple[float, float]:
    centre = median(history)
    assert centre is not None
    mad = median([abs(h - centre) for h in history])
    assert mad is not None
    return centre, _MAD_TO_SD * mad


def evaluate(
    history: Sequence[VolumeBucket], current: VolumeBucket, config: DetectorConfig
) -> list[Alert]:
    """The alerts ``current`` raises against ``history`` (its trailing window), cooldown aside."""
    history = list(history)[-config.window :]
    if len(history) < config.min_history:
        return []
    alerts: list[Alert] = []
    # Anscombe's scale: Poisson noise has a standard deviation of 1 there (module docs).
    centre_a, spread_a = _robust([_anscombe(b.count) for b in history])
    spread_a = max(spread_a, 1.0)
    z = (_anscombe(current.count) - centre_a) / spread_a
    if current.count >= config.min_count and z >= config.volume_threshold:
        centre = median([float(b.count) for b in history])
        assert centre is not None
        alerts.append(
            _alert(
                "volume",
                current,
                float(current.count),
                centre,
                spread_a,
                z,
                config.volume_threshold,
                len(history),
            )
        )
    shares = [b.negative / b.scored for b in history if b.scored]
    share = current.negative_share
    if (
        share is not None
        and len(shares) >= config.min_history // 2
        and current.negative >= config.min_negative
    ):
        centre, spread = _robust(shares)
        p = min(0.95, max(0.05, centre))
        spread = max(spread, math.sqrt(p * (1 - p) / current.scored))
        z = (share - centre) / spread
        if z >= config.negative_threshold:
            alerts.append(
                _alert(
                    "negative_share",
                    current,
                    share,
                    centre,
                    spread,
                    z,
                    config.negative_threshold,
                    len(shares),
                )
            )
    return alerts


def _alert(
    kind: AlertKind,
    bucket: VolumeBucket,
    value: float,
    baseline: float,
    spread: float,
    z: float,
    threshold: float,
    history: int,
) -> Alert:
    return Alert(
        watch=bucket.watch,
        kind=kind,
        start=bucket.start,
        end=bucket.end,
        count=bucket.count,
        negative=bucket.negative,
        scored=bucket.scored,
        value=value,
        baseline=baseline,
        spread=spread,
        z=z,
        threshold=threshold,
        history=history,
        top_negative=list(bucket.top_negative),
    )


def detect(series: Sequence[VolumeBucket], config: DetectorConfig | None = None) -> list[Alert]:
    """Every alert over a whole series (oldest bucket first), cooldown applied: for backtests
    and for reviewing the past. :class:`BuzzMonitor` does the same incrementally."""
    config = config or DetectorConfig()
    alerts: list[Alert] = []
    quiet_until: dict[str, int] = {}
    for index, bucket in enumerate(series):
        for alert in evaluate(series[max(0, index - config.window) : index], bucket, config):
            if index <= quiet_until.get(alert.kind, -1):
                continue
            alerts.append(alert)
            quiet_until[alert.kind] = index + config.cooldown
    return alerts


class BuzzMonitor:
    """Runs the detector on a :class:`~socialkit.workflows.listening.Listening`'s watches.

    :meth:`check` evaluates each complete bucket not evaluated before (remembered in the store,
    with the last alert of each kind for the cooldown, so a restart neither repeats nor skips an
    alert) and sends each alert to the callbacks.
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
    ) -> None:
        if bucket <= timedelta(0):
            raise ValueError("bucket must be a positive duration")
        self.listening = listening
        self.config = config or DetectorConfig()
        self.bucket = bucket
        self.store: Store = store if store is not None else listening.store
        self.namespace = namespace
        self._callbacks: list[AlertCallback] = list(callbacks)
        self._clock = clock

    def subscribe(self, callback: AlertCallback) -> AlertCallback:
        """Register a callback (usable as a decorator); sync or async."""
        self._callbacks.append(callback)
        return callback

    async def check(self, watches: Iterable[str] | None = None) -> list[Alert]:
        """Evaluate the complete buckets since the last check; dispatch and return the alerts."""
        names = list(self.listening.watches) if watches is None else list(watches)
        now = self._clock()
        current_start = bucket_start(now, self.bucket)
        fired: list[Alert] = []
        for name in names:
            fired.extend(await self._check_watch(name, current_start))
        for alert in fired:
            await self._dispatch(alert)
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
        since = first_new - cfg.window * self.bucket
        series = await self.listening.volume(
            name, bucket=self.bucket, since=since, until=current_start
        )
        alerts: list[Alert] = []
        for index, bucket in enumerate(series):
            if bucket.start < first_new:
                continue
            for alert in evaluate(series[max(0, index - cfg.window) : index], bucket, cfg):
                quiet_key = key(name, "last", alert.kind)
                last_alert = await self.store.get(self.namespace, quiet_key)
                if (
                    last_alert is not None
                    and alert.start <= from_iso(last_alert) + cfg.cooldown * self.bucket
                ):
                    continue
                await self.store.put(self.namespace, quiet_key, iso(alert.start))
                alerts.append(alert)
        await self.store.put(self.namespace, state_key, iso(series[-1].start))
        return alerts

    async def _dispatch(self, alert: Alert) -> None:
        for callback in list(self._callbacks):
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

    async def run(self, *, interval: float = 300.0, max_checks: int | None = None) -> None:
        """Poll the listening and check, every ``interval`` seconds (``max_checks`` to stop)."""
        import asyncio

        checks = 0
        while True:
            await self.listening.poll()
            await self.check()
            checks += 1
            if max_checks is not None and checks >= max_checks:
                return
            await asyncio.sleep(interval)
