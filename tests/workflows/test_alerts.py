"""Bad-buzz detection: planted bursts, calm series, a labelled backtest, and the live monitor."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from wf_support import T0, FakeAdapter, post

from socialkit import MemoryStore, SQLiteStore
from socialkit.testing.traffic import Outcome, Simulation, backtest, simulate
from socialkit.workflows import (
    Alert,
    BuzzMonitor,
    DetectorConfig,
    LexiconScorer,
    Listening,
    VolumeBucket,
    Watch,
    detect,
)
from socialkit.workflows import alerts as alerts_module
from socialkit.workflows.alerts import Incidents, scan

HOUR = timedelta(hours=1)


def series(counts: list[int], negatives: list[int] | None = None) -> list[VolumeBucket]:
    negatives = negatives or [0] * len(counts)
    return [
        VolumeBucket(
            watch="w",
            start=T0 + i * HOUR,
            end=T0 + (i + 1) * HOUR,
            count=c,
            scored=c,
            negative=n,
            positive=0,
            engagement=0,
        )
        for i, (c, n) in enumerate(zip(counts, negatives, strict=True))
    ]


def poisson(rng: np.random.Generator, lam: float, n: int) -> list[int]:
    return [int(x) for x in rng.poisson(lam, n)]


def test_planted_volume_burst_fires_quickly_with_evidence() -> None:
    rng = np.random.default_rng(7)
    counts = poisson(rng, 20, 200)
    for i in range(120, 124):
        counts[i] = int(rng.poisson(70))
    alerts = detect(series(counts))
    volume = [a for a in alerts if a.kind == "volume"]
    assert len(volume) == 1  # one burst, one incident, one alert
    alert = volume[0]
    assert alert.end == T0 + 121 * HOUR  # fired in the first burst bucket
    assert alert.scale == 1
    assert alert.count == counts[120]
    assert 15 <= alert.baseline <= 25
    assert alert.p_value <= alert.threshold == DetectorConfig().alpha
    assert alert.z > 4.5
    assert alert.polarity == "volume"  # nothing scored negative or positive in this series
    assert str(alert.count) in alert.message
    assert "Volume burst" in alert.message


def test_calm_series_raise_nothing() -> None:
    rng = np.random.default_rng(11)
    assert detect(series(poisson(rng, 20, 1000))) == []
    # sparse series: low counts never reach the minimum count
    assert detect(series(poisson(rng, 1.5, 1000))) == []


def test_negative_share_burst_is_bad_buzz() -> None:
    rng = np.random.default_rng(3)
    counts = poisson(rng, 30, 150)
    negatives = [int(rng.binomial(c, 0.1)) for c in counts]
    for i in range(100, 103):
        negatives[i] = int(rng.binomial(counts[i], 0.6))
    alerts = detect(series(counts, negatives))
    assert {a.polarity for a in alerts} == {"negative"}
    first = min(alerts, key=lambda a: a.end)
    assert first.end == T0 + 101 * HOUR
    assert first.negative >= negatives[100]
    assert "Bad buzz" in first.message


def test_nothing_fires_before_min_history() -> None:
    counts = [20] * 60 + [200]
    assert detect(series(counts)) == []  # 60 < 72 buckets of history
    assert detect(series(counts), DetectorConfig(min_history=48))


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="min_history cannot exceed window"):
        DetectorConfig(window=10, min_history=12)
    with pytest.raises(ValueError, match="scales"):
        DetectorConfig(scales=())


def test_a_burst_straddling_a_bucket_boundary_is_seen_as_a_whole() -> None:
    """Half of the burst in each of two buckets: neither alone is enough, the two are."""
    rng = np.random.default_rng(5)
    counts = poisson(rng, 20, 150)
    negatives = [int(rng.binomial(c, 0.1)) for c in counts]
    only_one = detect(series(counts, negatives), DetectorConfig(scales=(1,)))
    for i in (120, 121):
        counts[i] += 7
        negatives[i] += 7
    assert only_one == []
    assert detect(series(counts, negatives), DetectorConfig(scales=(1,))) == []
    alerts = detect(series(counts, negatives))
    assert [(a.polarity, a.scale, a.end) for a in alerts][:1] == [("negative", 2, T0 + 122 * HOUR)]


def test_a_real_burst_after_a_false_alarm_still_fires() -> None:
    """An incident ends when the series calms down: a spike, calm, then a real burst fire
    twice, where a six-hour cooldown swallowed the second."""
    rng = np.random.default_rng(9)
    counts = poisson(rng, 20, 150)
    counts[100] = 70  # a lone spike (a false alarm, say)
    for i in (104, 105, 106):
        counts[i] = int(rng.poisson(80))
    alerts = [a for a in detect(series(counts)) if a.kind == "volume"]
    assert [a.end for a in alerts] == [T0 + 101 * HOUR, T0 + 105 * HOUR]


def test_a_burst_that_goes_on_is_one_alert() -> None:
    rng = np.random.default_rng(4)
    counts = poisson(rng, 20, 160)
    for i in range(110, 125):
        counts[i] = int(rng.poisson(90))
    assert len([a for a in detect(series(counts)) if a.kind == "volume"]) == 1


def test_tail_probabilities_match_direct_sums() -> None:
    # Poisson: P(X >= 10 | 3) from the complement of the pmf sum.
    poisson_tail = 1 - sum(math.exp(-3) * 3**k / math.factorial(k) for k in range(10))
    assert alerts_module._nb_tail(10, 3.0, 0.0) == pytest.approx(poisson_tail, rel=1e-9)
    # Negative binomial with r = 2 (phi = 0.5), mean 4: p = r / (r + mean) = 1/3.
    r, p = 2.0, 1 / 3

    def nb_pmf(k: int) -> float:
        return math.comb(k + 1, k) * p**r * (1 - p) ** k

    assert alerts_module._nb_tail(12, 4.0, 0.5) == pytest.approx(
        1 - sum(nb_pmf(k) for k in range(12)), rel=1e-9
    )
    # Beta-binomial(n=10, a=2, b=8): direct sum of the pmf.
    a, b, n = 2.0, 8.0, 10

    def beta(x: float, y: float) -> float:
        return math.gamma(x) * math.gamma(y) / math.gamma(x + y)

    pmf = [math.comb(n, j) * beta(j + a, n - j + b) / beta(a, b) for j in range(n + 1)]
    assert alerts_module._betabinom_tail(6, n, 0.2, 10.0) == pytest.approx(sum(pmf[6:]), 1e-9)
    assert alerts_module._z(0.5) == pytest.approx(0.0, abs=1e-9)
    assert alerts_module._z(1e-6) == pytest.approx(4.753424, rel=1e-6)


# -- realistic rhythms (socialkit.testing.traffic) ---------------------------------------------


@pytest.fixture(scope="module")
def scorer() -> LexiconScorer:
    return LexiconScorer()


def test_backtest_on_realistic_rhythms_meets_the_targets(scorer: LexiconScorer) -> None:
    """Three seeds of six weeks (strong day/night rhythm, weekends, three networks, 40 %
    French, bursts of every shape) with the default configuration: no more than one false
    alarm per 1,000 calm buckets, at least 95 % of bad-buzz bursts caught, no positive wave
    called bad buzz. benchmarks/buzz_backtest.py runs the same on many more seeds."""
    total = Outcome()
    for seed in (101, 202, 303):
        total.add(backtest(simulate(seed, scorer)))
    assert total.calm_buckets > 1500
    assert total.false_alarms / total.calm_buckets * 1000 <= 1.0
    assert total.bad_buzz >= 10
    assert total.detected / total.bad_buzz >= 0.95, total.missed
    assert total.positive_called_bad == 0
    assert statistics.median(total.delays) <= 2


def test_calm_weeks_with_weekends_raise_nothing(scorer: LexiconScorer) -> None:
    """The Monday after a quiet weekend is judged against Mondays, not against the weekend."""
    sim = simulate(77, scorer, weeks=5, shapes=())
    assert sim.bursts == []
    alerts = detect(sim.total)
    for series_ in sim.networks.values():
        alerts.extend(detect(series_))
    assert alerts == []


def test_a_french_burst_is_bad_buzz(scorer: LexiconScorer) -> None:
    sim = simulate(8, scorer, shapes=("french",))
    outcome = backtest(sim)
    assert outcome.bad_buzz >= 2
    assert outcome.detected == outcome.bad_buzz


def test_a_burst_on_one_small_network_is_named(scorer: LexiconScorer) -> None:
    sim = simulate(12, scorer, shapes=("one_network",))
    burst = sim.bursts[0]
    alerts = scan_network(sim, burst.network)
    hit = [a for a in alerts if burst.start <= index(sim, a) < burst.end + 6]
    assert hit
    assert hit[0].network == burst.network == "bluesky"
    assert hit[0].polarity == "negative"
    assert f"on {burst.network}" in hit[0].message


def test_a_positive_wave_is_not_bad_buzz(scorer: LexiconScorer) -> None:
    sim = simulate(21, scorer, shapes=("positive",))
    alerts = detect(sim.total)
    waves = [a for a in alerts for b in sim.bursts if b.start <= index(sim, a) < b.end + 6]
    assert waves
    assert {a.polarity for a in waves} == {"positive"}


def index(sim: Simulation, alert: Alert) -> int:
    return int((alert.end - sim.start) / HOUR) - 1


def scan_network(sim: Simulation, network: str | None) -> list[Alert]:
    assert network is not None
    return scan(sim.networks[network], 0, DetectorConfig(), Incidents(), network=network)


# -- the live monitor ------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.anyio
async def test_monitor_dispatches_to_sync_and_async_callbacks_once_per_incident(
    tmp_path: Path,
) -> None:
    adapter = FakeAdapter("x", "main")
    for i in range(44):
        at = T0 + i * HOUR
        adapter.public.append(post(f"a{i}", "acme works fine", at=at))
        adapter.public.append(post(f"b{i}", "using acme today", at=at + timedelta(minutes=30)))
    for hour in (44, 45):
        for j in range(15):
            adapter.public.append(
                post(
                    f"n{hour}-{j}",
                    "acme is down again, terrible service",
                    at=T0 + hour * HOUR + timedelta(minutes=3 * j),
                    metrics={"likes": j, "reposts": 1},
                )
            )
    path = tmp_path / "alerts.db"
    store = SQLiteStore(path)
    clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    listening = Listening(
        [adapter],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=store,
        scorer=LexiconScorer(),
        initial_limit=None,
        clock=clock,
    )
    await listening.poll()
    got_sync: list[Alert] = []
    got_async: list[Alert] = []

    def broken(alert: Alert) -> None:
        raise RuntimeError("pager down")

    async def async_cb(alert: Alert) -> None:
        got_async.append(alert)

    config = DetectorConfig(min_history=24)
    monitor = BuzzMonitor(listening, config=config, callbacks=[broken], clock=clock)
    monitor.subscribe(got_sync.append)
    monitor.subscribe(async_cb)
    fired = await monitor.check()
    # One incident, one alert: the burst of negative mentions is bad buzz (its volume and its
    # negative count both broke away; the strongest test speaks for it).
    assert [a.polarity for a in fired] == ["negative"]
    assert got_sync == fired
    assert got_async == fired
    alert = fired[0]
    assert alert.start == T0 + 44 * HOUR
    assert alert.count == 15
    assert alert.negative == 15
    assert alert.network is None  # the watch listens on one network: one scope
    assert alert.query == "acme"
    top = alert.top_negative
    assert [i.post_id for i in top] == ["n44-14", "n44-13", "n44-12", "n44-11", "n44-10"]
    assert await monitor.check() == []  # that bucket was evaluated already
    await store.aclose()

    # Restart one hour later: the burst goes on, the incident is still open: no new alert.
    store = SQLiteStore(path)
    clock.now += HOUR
    listening2 = Listening(
        [adapter],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=store,
        scorer=LexiconScorer(),
        clock=clock,
    )
    again = BuzzMonitor(listening2, config=config, clock=clock)
    assert await again.check() == []
    assert await store.get("alerts", "acme\x1fevaluated") == (T0 + 45 * HOUR).isoformat()
    await store.aclose()


@pytest.mark.anyio
async def test_monitor_waits_for_real_history_after_listening_starts() -> None:
    """A monitor started together with its listening does not count the time before the
    listening began as zero history: a burst on day one raises nothing."""
    adapter = FakeAdapter("x", "main")
    clock = Clock(T0 + 10 * HOUR + timedelta(minutes=5))
    for j in range(30):
        adapter.public.append(
            post(f"n{j}", "acme is down again, terrible", at=T0 + 9 * HOUR + timedelta(minutes=j))
        )
    listening = Listening(
        [adapter],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=MemoryStore(),
        scorer=LexiconScorer(),
        clock=clock,
    )
    monitor = BuzzMonitor(listening, clock=clock)
    assert await listening.covered_since("acme") is None
    assert await monitor.check() == []  # not polled yet: nothing known
    await listening.poll()
    assert await listening.covered_since("acme") == T0 + 9 * HOUR
    assert await monitor.check() == []


@pytest.mark.anyio
async def test_monitor_names_the_network_of_a_one_network_burst() -> None:
    small = FakeAdapter("bluesky", "main")
    big = FakeAdapter("x", "main")
    start = T0 - 5 * 24 * HOUR
    for h in range(5 * 24):
        at = start + h * HOUR
        for j in range(6):
            big.public.append(post(f"x{h}-{j}", "using acme today", at=at + timedelta(minutes=j)))
        small.public.append(post(f"b{h}", "using acme today", at=at, network="bluesky"))
    for j in range(12):
        small.public.append(
            post(
                f"bad{j}",
                "acme charged me twice, this is a scam",
                at=T0 + timedelta(minutes=4 * j),
                network="bluesky",
            )
        )
    clock = Clock(T0 + HOUR + timedelta(minutes=1))
    listening = Listening(
        [big, small],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=MemoryStore(),
        scorer=LexiconScorer(),
        initial_limit=None,
        clock=clock,
    )
    await listening.poll()
    fired = await BuzzMonitor(listening, clock=clock).check()
    assert [(a.polarity, a.network) for a in fired] == [("negative", "bluesky")]
    assert "on bluesky" in fired[0].message
