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
engaged negative items) and goes to every registered callback, sync or async.

Delivery goes through an **outbox** in the store, so that a crash cannot drop an alert: the
alert is recorded in the outbox *before* its cooldown starts, then delivered from the outbox,
and removed from it once every callback has returned. A process that dies in between (after
the cooldown started, before or during the callbacks) leaves the alert in the outbox, and the
next :meth:`BuzzMonitor.check` (or :meth:`BuzzMonitor.deliver_pending`) after a restart
delivers it. A callback that raises is retried at the next check, up to ``max_attempts``
deliveries (the callbacks that returned are not called again). Delivery is therefore at least
once: a callback interrupted by a crash sees the alert again, so make callbacks idempotent on
:attr:`Alert.key` (for example, a pager's deduplication key). The thresholds
are bounded by the backtest in ``tests/workflows/test_alerts.py`` (detection delay and false
alarms on labelled synthetic series).
"""

from __future__ import annotations

import inspect
import json
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
    def key(self) -> str:
        """``watch:kind:start``: the same for every delivery of this alert (deduplicate on it)."""
        return f"{self.watch}:{self.kind}:{iso(self.start)}"

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


def _delivery_order(alert: Alert) -> tuple[datetime, str, int]:
    # The order evaluate() raises them in: by bucket, then watch, volume before negative share.
    return (alert.start, alert.watch, 0 if alert.kind == "volume" else 1)


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
                # Outbox first, cooldown second: a crash between the two repeats the
                # evaluation of this bucket after a restart, which finds the alert already in
                # the outbox; a crash after both leaves it in the outbox, to be delivered.
                record = {"alert": alert.model_dump(mode="json"), "lease_until": None}
                await self.store.compare_and_set(
                    self.namespace, self._outbox_key(alert), None, json.dumps(record)
                )
                await self.store.put(self.namespace, quiet_key, iso(alert.start))
                alerts.append(alert)
        await self.store.put(self.namespace, state_key, iso(series[-1].start))
        return alerts

    @staticmethod
    def _outbox_key(alert: Alert) -> str:
        return key("outbox", alert.watch, alert.kind, iso(alert.start))

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
