"""Simulated mentions of a brand with realistic rhythms, for backtesting alerts.

:func:`simulate` builds hourly :class:`~socialkit.workflows.VolumeBucket` series, per network
and in total, from items whose texts (English and French, from templates of what people write
to brands) are scored by a real :class:`~socialkit.workflows.SentimentScorer`, so a backtest
exercises the scorer and the detector together:

* a strong day/night rhythm (Paris hours: near-empty nights, busy mornings and afternoons),
  quiet weekends (about a third of a weekday), and a daily level that wanders (log-normal,
  σ = 0.15), as real audiences do;
* several networks of different sizes; a share of French speakers (40 % by default);
* a background negative share that varies from day to day (about 12 %, σ = 0.03);
* labelled :class:`Burst` s after a calm history: sharp bad buzz (two hours), a slow six-hour
  ramp, a burst on one (small) network only, a burst in French only, and a positive viral wave
  (which must *not* be called bad buzz).

Everything is deterministic for a seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from socialkit.workflows.listening import VolumeBucket
    from socialkit.workflows.sentiment import SentimentScorer

__all__ = ["Burst", "BurstShape", "Outcome", "Simulation", "backtest", "simulate"]

BurstShape = Literal["sharp", "ramp", "one_network", "french", "positive"]

#: Relative activity per hour of day in UTC for an audience on Paris time (UTC+1).
HOUR_PROFILE = (
    0.12, 0.05, 0.03, 0.02, 0.02, 0.04, 0.10, 0.30, 0.62, 0.90, 1.00, 0.97,
    0.92, 0.95, 1.00, 0.97, 0.92, 0.86, 0.80, 0.74, 0.64, 0.48, 0.32, 0.20,
)  # fmt: skip
WEEKEND = 0.35

_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "neutral": (
            "using {b} for our weekly reports",
            "anyone tried the {b} dashboards?",
            "{b} webinar at 3pm today",
            "new {b} release notes are out",
            "switching our team to {b} next month",
            "how do I export a chart from {b}",
        ),
        "positive": (
            "love the new {b} update!",
            "{b} support was great, thanks",
            "{b} makes my mornings easier 👍",
            "really impressed by {b} this week",
            "the {b} team fixed it in minutes, excellent",
        ),
        "negative": (
            "{b} is slow today",
            "not happy with the {b} pricing",
            "the {b} app crashed on me",
            "{b} export is broken again",
        ),
        "buzz": (
            "{b} is down again, terrible service",
            "looks like the {b} app is down again",
            "{b} charged me twice, this is a scam",
            "worst customer service ever @{b}",
            "great, {b} lost all my data again. thanks for nothing",
            "yeah right, {b} 'fixed' it 🙄",
            "{b} refund me now, this is unacceptable",
            "done with {b}, cancelling my subscription",
            "still waiting for an answer from {b}, pathetic",
        ),
    },
    "fr": {
        "neutral": (
            "j'utilise {b} pour nos rapports de la semaine",
            "quelqu'un a testé les tableaux de bord {b} ?",
            "webinaire {b} à 15h aujourd'hui",
            "on passe toute l'équipe sur {b} le mois prochain",
            "comment exporter un graphique depuis {b}",
        ),
        "positive": (
            "j'adore la nouvelle version de {b} !",
            "merci {b}, super support",
            "{b} c'est top 👍",
            "vraiment bluffé par {b} cette semaine",
            "l'équipe {b} a réglé le souci en quelques minutes, parfait",
        ),
        "negative": (
            "{b} est lent aujourd'hui",
            "pas fan des tarifs de {b}",
            "l'appli {b} a planté ce matin",
            "l'export {b} ne marche plus",
        ),
        "buzz": (
            "{b} c'est une arnaque",
            "c'est du vol, {b} m'a débité deux fois",
            "service client nul chez {b}",
            "vous vous foutez de nous @{b}",
            "encore en panne, merci {b} 🙄",
            "{b} remboursez-moi, c'est inadmissible",
            "plus jamais {b}",
            "super, {b} a encore tout perdu. bravo",
            "toujours pas de réponse du SAV {b}, honteux",
        ),
    },
}


@dataclass(frozen=True)
class Burst:
    """A planted event: ``shape``, first bucket ``start`` (an index), ``hours`` long."""

    shape: BurstShape
    start: int
    hours: int
    network: str | None = None
    """Where the burst happens (``None``: on every network, in proportion)."""

    @property
    def bad_buzz(self) -> bool:
        return self.shape != "positive"

    @property
    def end(self) -> int:
        return self.start + self.hours


@dataclass
class Simulation:
    """What :func:`simulate` returns: series oldest first, and the labelled bursts."""

    start: datetime
    networks: dict[str, list[VolumeBucket]]
    total: list[VolumeBucket]
    bursts: list[Burst]
    history_hours: int
    """The calm history before the first burst may happen (bucket indices below it)."""
    items: int = 0
    texts: dict[str, float | None] = field(default_factory=dict)


def simulate(
    seed: int,
    scorer: SentimentScorer,
    *,
    weeks: int = 6,
    history_weeks: int = 2,
    networks: dict[str, float] | None = None,
    french: float = 0.4,
    shapes: tuple[BurstShape, ...] = ("sharp", "ramp", "one_network", "french", "positive"),
    bursts_per_week: float = 2.0,
    brand: str = "acme",
    start: datetime | None = None,
) -> Simulation:
    """A deterministic simulation (see the module docs). ``networks`` maps each network to its
    peak hourly rate of mentions (default: x 12, mastodon 5, bluesky 4)."""
    from socialkit.workflows.listening import NEGATIVE, POSITIVE, VolumeBucket
    from socialkit.workflows.sentiment import score_or_none

    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    rates = networks or {"x": 12.0, "mastodon": 5.0, "bluesky": 4.0}
    t0 = start or datetime(2026, 1, 5, tzinfo=timezone.utc)  # a Monday
    hours = weeks * 168
    history_hours = history_weeks * 168
    smallest = min(rates, key=lambda n: rates[n])
    # Bursts: spread over the test period, at least three days apart, at any hour.
    bursts: list[Burst] = []
    at = history_hours + rng.randrange(24, 72)
    while shapes:
        shape = shapes[len(bursts) % len(shapes)]
        length = {"sharp": 2, "ramp": 6, "one_network": 2, "french": 2, "positive": 3}[shape]
        if at + length + 24 >= hours:
            break
        network = smallest if shape == "one_network" else None
        bursts.append(Burst(shape, at, length, network))
        gap = max(72.0, rng.expovariate(bursts_per_week / 168.0) + 72.0)
        at += int(gap)
    days = (hours + 23) // 24
    level = [math.exp(rng.gauss(0, 0.15)) for _ in range(days)]
    negative_share = [min(0.3, max(0.03, rng.gauss(0.12, 0.03))) for _ in range(days)]
    texts: dict[str, float | None] = {}

    def score(text: str, language: str) -> float | None:
        if text not in texts:
            texts[text] = score_or_none(scorer, text, language)
        return texts[text]

    per_network: dict[str, list[VolumeBucket]] = {n: [] for n in rates}
    count_items = 0
    for hour in range(hours):
        moment = t0 + timedelta(hours=hour)
        day = hour // 24
        base = HOUR_PROFILE[moment.hour] * (WEEKEND if moment.weekday() >= 5 else 1.0)
        base *= level[day]
        for network, peak in rates.items():
            mean = peak * base
            kinds = _background(rng, mean, negative_share[day])
            for burst in bursts:
                if burst.start <= hour < burst.end and burst.network in (None, network):
                    kinds.extend(_burst_items(rng, burst, hour, network, rates, base))
            count = scored = negative = positive = 0
            for kind, language in kinds:
                language = language or ("fr" if rng.random() < french else "en")
                template = rng.choice(_TEMPLATES[language][kind])
                value = score(template.format(b=brand), language)
                count += 1
                if value is not None:
                    scored += 1
                    negative += value <= NEGATIVE
                    positive += value >= POSITIVE
            count_items += count
            per_network[network].append(
                VolumeBucket(
                    watch=brand,
                    start=moment,
                    end=moment + timedelta(hours=1),
                    count=count,
                    scored=scored,
                    negative=negative,
                    positive=positive,
                    engagement=0,
                )
            )
    total = [
        VolumeBucket(
            watch=brand,
            start=buckets[0].start,
            end=buckets[0].end,
            count=sum(b.count for b in buckets),
            scored=sum(b.scored for b in buckets),
            negative=sum(b.negative for b in buckets),
            positive=sum(b.positive for b in buckets),
            engagement=0,
        )
        for buckets in zip(*per_network.values(), strict=True)
    ]
    return Simulation(t0, per_network, total, bursts, history_hours, count_items, texts)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:  # normal approximation, plenty for the sizes simulated
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _background(rng: random.Random, mean: float, negative: float) -> list[tuple[str, str | None]]:
    kinds: list[tuple[str, str | None]] = []
    for _ in range(_poisson(rng, mean)):
        roll = rng.random()
        kind = "negative" if roll < negative else "positive" if roll < negative + 0.3 else "neutral"
        kinds.append((kind, None))
    return kinds


def _burst_items(
    rng: random.Random,
    burst: Burst,
    hour: int,
    network: str,
    rates: dict[str, float],
    base: float,
) -> list[tuple[str, str | None]]:
    """The extra items a burst brings to one network in one hour."""
    share = rates[network] / sum(rates.values()) if burst.network is None else 1.0
    usual = sum(rates.values()) * base if burst.network is None else rates[network] * base
    step = hour - burst.start
    if burst.shape == "ramp":
        # Grows over six hours from a trickle to about the usual hourly volume, at least 3.
        size = max(3.0, usual) * (step + 1) / burst.hours * 1.2
    elif burst.shape == "positive":
        size = max(20.0, 3.0 * usual)
    else:
        front = 0.6 if step == 0 else 0.4
        size = max(25.0, 2.5 * usual) * front * 2
    extra = _poisson(rng, size * share)
    language: str | None = "fr" if burst.shape == "french" else None
    if burst.shape == "positive":
        return [("positive" if rng.random() < 0.6 else "neutral", language) for _ in range(extra)]
    return [("buzz", language) for _ in range(extra)]


@dataclass
class Outcome:
    """How a detector did on one simulation (see :func:`backtest`)."""

    calm_buckets: int = 0
    false_alarms: int = 0
    bad_buzz: int = 0
    detected: int = 0
    delays: list[float] = field(default_factory=list)
    """Hours from each detected burst's start to the end of the bucket its alert came in."""
    positive_waves: int = 0
    positive_called_bad: int = 0
    missed: list[Burst] = field(default_factory=list)
    by_shape: dict[str, list[int]] = field(default_factory=dict)
    """shape -> [bursts, detected]."""

    def add(self, other: Outcome) -> None:
        self.calm_buckets += other.calm_buckets
        self.false_alarms += other.false_alarms
        self.bad_buzz += other.bad_buzz
        self.detected += other.detected
        self.delays.extend(other.delays)
        self.positive_waves += other.positive_waves
        self.positive_called_bad += other.positive_called_bad
        self.missed.extend(other.missed)
        for shape, (n, d) in other.by_shape.items():
            mine = self.by_shape.setdefault(shape, [0, 0])
            mine[0] += n
            mine[1] += d


def backtest(sim: Simulation, config: object | None = None, *, grace: int = 6) -> Outcome:
    """Run the detector on ``sim`` as :class:`~socialkit.workflows.BuzzMonitor` does (the
    total and each network) and score it.

    A bucket is *calm* when no burst runs in it or ended less than ``grace`` hours before;
    any alert in a calm bucket is a false alarm. A bad-buzz burst is detected by a
    ``negative`` alert from its start to ``grace`` hours after its end; a ``negative`` alert
    during a positive wave is a false alarm too (``positive_called_bad``). Only buckets from
    ``history_hours`` on are judged.
    """
    from socialkit.workflows.alerts import DetectorConfig, Incidents, most_specific, scan

    cfg = config if isinstance(config, DetectorConfig) else DetectorConfig()
    alerts = scan(sim.total, 0, cfg, Incidents())
    for network, series in sim.networks.items():
        alerts.extend(scan(series, 0, cfg, Incidents(), network=network))
    alerts = most_specific(alerts)
    index_of = {bucket.start: i for i, bucket in enumerate(sim.total)}
    fired = [(index_of[a.end - timedelta(hours=1)], a) for a in alerts]
    out = Outcome()
    busy: set[int] = set()
    for burst in sim.bursts:
        busy.update(range(burst.start, burst.end + grace))
    for index in range(sim.history_hours, len(sim.total)):
        if index not in busy:
            out.calm_buckets += 1
    out.false_alarms = sum(1 for i, _ in fired if i >= sim.history_hours and i not in busy)
    for burst in sim.bursts:
        window = [(i, a) for i, a in fired if burst.start <= i < burst.end + grace]
        negative = [(i, a) for i, a in window if a.polarity == "negative"]
        counts = out.by_shape.setdefault(burst.shape, [0, 0])
        counts[0] += 1
        if not burst.bad_buzz:
            out.positive_waves += 1
            out.positive_called_bad += bool(negative)
            counts[1] += not negative
            continue
        out.bad_buzz += 1
        if negative:
            out.detected += 1
            counts[1] += 1
            first = min(i for i, _ in negative)
            out.delays.append(first + 1 - burst.start)
        else:
            out.missed.append(burst)
    return out
