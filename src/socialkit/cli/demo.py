"""``socialkit demo``: the whole library at work on three fake networks, offline, in seconds.

:func:`run_demo` connects the real Mastodon, Bluesky and X adapters to the in-process fakes of
:mod:`socialkit.testing.fakes` (no network, no credentials), then:

1. publishes a post with an image and a thread to all three at once through
   :class:`socialkit.Hub`, after the per-network pre-flight check;
2. simulates a few days of an audience on a seeded :class:`random.Random`: the brand posts at
   fixed hours, fans like, repost and reply (posts published at one planted *peak hour* get
   about three times the engagement), people mention the brand and send direct messages
   (support, sales and press requests, praise), a competitor posts, and on the last day a
   burst of angry mentions arrives within one hour;
3. runs the workflows on it, hour by simulated hour: the inbox with routing rules (answers go
   out through the adapters, so response times are measured), listening on the brand and the
   competitor, the bad-buzz monitor (which must catch the burst), and daily metric snapshots;
4. prints a report (rich tables) and writes ``best-times.png`` (heatmap), ``metrics.csv`` and
   ``routing.toml`` (the rules used) into the output directory.

Every time shown is simulated: the fakes share one clock that starts at a fixed date, so the
same seed prints the same report.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from socialkit._errors import ConfigurationError, SocialkitError
from socialkit._hub import Hub, Result
from socialkit._models import Media, Post
from socialkit._store import MemoryStore
from socialkit.cli._png import demo_image, write_heatmap
from socialkit.cli._render import (
    jsonable,
    networks_table,
    queues_table,
    short,
    slots_table,
    top_posts_table,
)

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter
    from socialkit.testing.fakes import FakeNetwork, FakeUser
    from socialkit.workflows import (
        Alert,
        GroupStat,
        InboxItem,
        PostPerformance,
        QueueReport,
        Slot,
    )

__all__ = ["START", "DemoReport", "arun_demo", "run_demo"]

#: Where the simulated clock starts: a fixed Monday, so that runs are reproducible.
START = datetime(2025, 3, 3, 0, 0, tzinfo=timezone.utc)
#: The hours (UTC) at which the brand posts every day; the peak hour is one of them.
POST_HOURS = (8, 11, 14, 17, 20)
LAUNCH_HOUR = 9
BRAND = "acme"
COMPETITOR = "globex"
FANS = 40
PEAK_FACTOR = 3.0
ALERT_MIN_COUNT = 20

ROUTING_TOML = """\
# The inbox routing rules of the demo (first match wins; see docs/workflows.md).
default_queue = "community"

[[rules]]
name = "angry"
queue = "support"
priority = 90
sentiment_max = -0.4

[[rules]]
name = "press"
queue = "press"
priority = 70
keywords = ["journalist", "interview", "article", "podcast"]

[[rules]]
name = "sales"
queue = "sales"
priority = 60
keywords = ["pricing", "price", "quote", "demo", "licence", "license", "buy"]

[[rules]]
name = "support"
queue = "support"
priority = 80
keywords = ["help", "order", "refund", "error", "bug", "crash", "login", "password"]
"""

#: How long the team takes to answer, per queue (minutes: low, high); None: left open.
RESPONSE_MINUTES: dict[str, tuple[int, int] | None] = {
    "support": (15, 80),
    "sales": (60, 240),
    "press": (120, 480),
    "community": (90, 720),
}
GOALS = {
    "support": timedelta(hours=1),
    "sales": timedelta(hours=4),
    "press": timedelta(hours=8),
    "community": timedelta(hours=12),
}

TIPS = (
    "Tip: schedule your reports on Monday mornings #productivity",
    "Tip: keyboard shortcuts save an hour a week, press ? to see them all",
    "Tip: share a dashboard with a link, no account needed #teamwork",
    "Tip: export any chart as PNG or CSV from its menu",
    "Tip: set alerts on the metrics that matter to you #analytics",
    "Tip: dark mode is in Settings > Appearance",
    "Tip: pin your favourite dashboards to the sidebar",
    "Tip: invite guests with read-only access #teamwork",
)
REPLIES = (
    "Great tip, thanks!",
    "Didn't know that one, very useful",
    "This is exactly what I needed",
    "Nice, trying it right now",
    "Love this!",
)
MENTIONS: dict[str, tuple[str, ...]] = {
    "support": (
        "@{brand} I need help, my order #{n} has not arrived yet",
        "@{brand} is there a bug with the login page? I get an error",
        "@{brand} how do I reset my password? help please",
        "@{brand} could you help with a refund for order #{n}?",
    ),
    "sales": (
        "@{brand} what is the pricing for a team of {n}?",
        "@{brand} can we book a demo next week?",
        "@{brand} we would like a quote for {n} licences",
    ),
    "press": (
        "@{brand} journalist at Tech Weekly here, could we do a short interview?",
        "@{brand} writing an article about analytics tools, can you comment?",
    ),
    "praise": (
        "Really enjoying the new @{brand} dashboards",
        "@{brand} the latest update is great, well done",
        "Switched our team to @{brand} last month and we love it",
        "Thanks @{brand} for the quick answer yesterday",
    ),
}
MENTION_WEIGHTS = {"support": 30, "sales": 20, "press": 8, "praise": 42}
BURST = (
    "@{brand} your app is down again, this is terrible",
    "@{brand} worst update ever, everything is broken",
    "@{brand} lost all my data, awful service, I am furious",
    "@{brand} down for hours, horrible, we want a refund",
    "@{brand} broken again?! this is a disaster, very disappointed",
    "@{brand} terrible outage, nothing works, hate this",
)
DIRECT = (
    "Hi, quick question about the pricing of the enterprise plan",
    "Hello, I need help with my order #{n}, it never arrived",
    "Hey, a journalist friend asked me for your press contact",
    "Can you help? I cannot log in since this morning",
)
COMPETITOR_POSTS = (
    "Globex 3.0 is out: faster reports for everyone",
    "Globex webinar on Thursday, join us",
    "Globex now integrates with your calendar",
    "Globex customers save 10 hours a month",
)


@dataclass
class DemoReport:
    """What the demo found, for tests and ``--json``: the planted truth and the findings."""

    seed: int
    days: int
    start: datetime
    end: datetime
    peak_hour: int
    """The hour (UTC) whose posts the simulated audience engaged with most (planted)."""
    burst_start: datetime
    """The start of the hour of the planted burst of negative mentions."""
    burst_size: int
    preflight: dict[str, list[str]]
    published: dict[str, list[str]]
    """Per account, the URLs of the launch post and its thread."""
    posts: int
    messages: int
    best_hour: int | None
    best_hours: list[Slot]
    alerts: list[Alert]
    queues: list[QueueReport]
    networks: list[GroupStat]
    top_posts: list[PostPerformance]
    share_of_voice: dict[str, float]
    competitor: dict[str, dict[str, float]]
    recommendations: list[str]
    heatmap: Path
    csv: Path
    routing: Path
    inbox_items: int = 0
    listened: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def burst_alerted(self) -> bool:
        """A bad-buzz alert whose window holds the burst's hour."""
        return any(
            a.polarity == "negative" and a.start <= self.burst_start < a.end for a in self.alerts
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "planted": {
                "peak_hour": self.peak_hour,
                "burst_start": self.burst_start.isoformat(),
                "burst_size": self.burst_size,
            },
            "found": {
                "best_hour": self.best_hour,
                "burst_alerted": self.burst_alerted,
            },
            "preflight": self.preflight,
            "published": self.published,
            "posts": self.posts,
            "messages": self.messages,
            "inbox_items": self.inbox_items,
            "listened": self.listened,
            "best_hours": jsonable(self.best_hours),
            "alerts": [
                {**a.model_dump(mode="json", exclude={"top_negative"}), "message": a.message}
                for a in self.alerts
            ],
            "queues": jsonable(self.queues),
            "networks": jsonable(self.networks),
            "top_posts": jsonable(self.top_posts),
            "share_of_voice": self.share_of_voice,
            "competitor": self.competitor,
            "recommendations": self.recommendations,
            "files": {
                "heatmap": str(self.heatmap),
                "csv": str(self.csv),
                "routing": str(self.routing),
            },
            "errors": self.errors,
        }


def run_demo(
    seed: int = 7,
    out_dir: str | Path = "socialkit-demo",
    days: int = 4,
    console: Console | None = None,
) -> DemoReport:
    """Run the demo (blocking); see the module docs. ``console`` receives the report."""
    return asyncio.run(arun_demo(seed, out_dir, days, console))


class _Sim:
    """The simulation state: the fakes, their audiences and the clock."""

    def __init__(self, seed: int, days: int) -> None:
        from socialkit.testing.fakes import FakeBluesky, FakeClock, FakeMastodon, FakeX

        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not security
        self.clock = FakeClock(START)
        high = 1_000_000  # the demo sends thousands of requests in seconds
        self.fakes: dict[str, FakeNetwork] = {
            "mastodon": FakeMastodon(
                clock=self.clock, seed=seed, owner_handle=BRAND, rate_limit=high
            ),
            "bluesky": FakeBluesky(
                clock=self.clock,
                seed=seed,
                owner_handle=BRAND,
                rate_limit=high,
                write_limit=high,
            ),
            "x": FakeX(
                clock=self.clock,
                seed=seed,
                owner_handle=BRAND,
                rate_limit=high,
                check_after_secs=0,
                processing_polls=1,
            ),
        }
        self.fans: dict[str, list[FakeUser]] = {}
        self.competitor: dict[str, FakeUser] = {}
        for network, fake in self.fakes.items():
            fans = [fake.add_user(f"fan{i:02d}", name=f"Fan {i}") for i in range(FANS)]
            self.fans[network] = fans
            for fan in fans:
                _follow(fake, fan)
            self.competitor[network] = fake.add_user(COMPETITOR, name="Globex")
        self.peak_hour = self.rng.choice(POST_HOURS)
        self.burst_day = days - 1
        self.burst_hour = self.rng.randrange(10, 19)
        self.burst_size = 30 + self.rng.randint(0, 8)
        self.counter = 1000

    def at(self, moment: datetime) -> None:
        """Move the shared clock to ``moment`` (never back: a fake may have ticked past it)."""
        if moment > self.clock.now():
            self.clock.set(moment)

    def number(self) -> int:
        self.counter += self.rng.randint(1, 97)
        return self.counter


def _follow(fake: FakeNetwork, user: FakeUser) -> None:
    follow: Callable[[FakeUser], None] | None = getattr(fake, "follow", None)
    if follow is not None:
        follow(user)
    else:
        fake.owner.followers += 1


def _adapter_options(network: str, sim: _Sim) -> dict[str, Any]:
    # Every adapter reads the simulated clock where it stamps times itself (Bluesky writes
    # each record's createdAt and derives its key from the time); a fixed TID clock id keeps
    # the Bluesky URLs the same from run to run.
    options: dict[str, Any] = {"clock": sim.clock.now}
    if network == "mastodon":
        options["media_poll_interval"] = 0.01
    if network == "bluesky":
        options["tid_clock_id"] = sim.rng.randrange(1024)
    return options


async def arun_demo(
    seed: int = 7,
    out_dir: str | Path = "socialkit-demo",
    days: int = 4,
    console: Console | None = None,
) -> DemoReport:
    """:func:`run_demo` for callers that already run an event loop."""
    from socialkit.workflows import (
        BuzzMonitor,
        DetectorConfig,
        Inbox,
        LexiconScorer,
        Listening,
        MetricsCollector,
        RoutingTable,
        Watch,
        best_hours,
        best_times,
        performance_by,
        recommendations,
        top_posts,
        write_csv,
    )

    if days < 2:
        raise ValueError("the demo needs at least 2 simulated days (a day of baseline first)")
    try:
        import starlette  # noqa: F401  (the fakes are Starlette apps)
    except ImportError:
        raise ConfigurationError(
            "the demo runs on socialkit's fake networks, which need the testing extra: "
            "pip install 'socialkit[cli,testing]'"
        ) from None
    out = Path(out_dir)
    # The demo's few small files are written in the loop: nothing else runs concurrently.
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    console = console or Console()
    sim = _Sim(seed, days)
    store = MemoryStore()
    adapters: dict[str, Adapter] = {
        network: fake.connect(account="brand", **_adapter_options(network, sim))
        for network, fake in sim.fakes.items()
    }
    clock = sim.clock.now
    errors: list[str] = []

    console.print(Rule("socialkit demo"))
    console.print(
        f"Three fake networks (Mastodon, Bluesky, X) served in-process; the real adapters talk "
        f"to them over HTTP. Simulated time starts {START:%A %Y-%m-%d %H:%M} UTC; seed {seed}.",
        markup=False,
    )

    async with Hub(adapters) as hub:
        campaign: dict[str, set[str]] = {label: set() for label in adapters}
        published: dict[str, list[str]] = {}
        preflight: dict[str, list[str]] = {}

        # -- 2. the workflows ---------------------------------------------------------------
        routing_path = out / "routing.toml"
        routing_path.write_text(ROUTING_TOML, encoding="utf-8")
        scorer = LexiconScorer()
        inbox = Inbox(
            adapters,
            store=store,
            routing=RoutingTable.from_file(routing_path),
            scorer=scorer,
            clock=clock,
            initial_since=START,
            initial_limit=None,
            retention=timedelta(days=days + 1),
        )
        watches = [
            # "@acme" too: X matches keywords as whole words, mentions with the @ operator.
            Watch(name=BRAND, role="brand", keywords=[BRAND, f"@{BRAND}"]),
            Watch(name=COMPETITOR, role="competitor", keywords=[COMPETITOR]),
        ]
        listening = Listening(
            adapters,
            watches,
            store=store,
            scorer=scorer,
            clock=clock,
            initial_since=START,
            initial_limit=None,
        )
        alerts: list[Alert] = []
        # The brand's own posting hours bring up to ~15 items (its posts, replies, reposts on X):
        # a volume alert asks for 20 in an hour here, above that daily rhythm.
        monitor = BuzzMonitor(
            listening,
            # The demo simulates a few days only: judge after one day of history (the default
            # waits for three).
            config=DetectorConfig(min_count=ALERT_MIN_COUNT, min_history=24),
            store=store,
            clock=clock,
            callbacks=[alerts.append],
        )
        collector = MetricsCollector(adapters, store=store, clock=clock)
        pending: list[tuple[datetime, str, InboxItem]] = []
        messages = 0

        # -- 1. the launch: a post with an image and a thread, everywhere at once -------------
        async def launch_post() -> None:
            console.print(Rule(f"{sim.clock.now():%a %H:%M} UTC: the launch"))
            image = out / "launch.png"
            image.write_bytes(demo_image())
            launch = Post(
                text="Acme 2.0 is here: dashboards that explain themselves. A thread 🧵",
                media=[Media.from_path(image, alt="A bar chart rising from left to right")],
                thread=[
                    Post(text="1/ Every chart now says what changed and why, in plain words."),
                    Post(text="2/ Alerts tell you when your audience reacts, before it trends."),
                    Post(text="3/ Available today for every plan. Tell us what you think!"),
                ],
            )
            checks = hub.check(launch)
            preflight.update(
                {label: [p.message for p in problems] for label, problems in checks.items()}
            )
            table = Table(title="Pre-flight check of the launch post (offline, per network)")
            table.add_column("account")
            table.add_column("limit")
            table.add_column("result")
            for label, problems in checks.items():
                limits = adapters[label].limits
                table.add_row(
                    label,
                    f"{limits.max_text} {limits.text_unit}, {limits.max_media} media",
                    "[green]ok[/]"
                    if not problems
                    else escape("; ".join(p.message for p in problems)),
                )
            console.print(table)
            results = await hub.publish(launch)
            table = Table(title="Published: the post, its image and its 3-post thread")
            table.add_column("account")
            table.add_column("urls", overflow="fold")
            for label, result in results.items():
                if result.value is None:
                    errors.append(f"launch on {label}: {result.error}")
                    table.add_row(label, f"[red]failed: {escape(str(result.error))}[/]")
                    continue
                urls = [result.value.url or ""] + [p.url or "" for p in result.value.thread]
                published[label] = urls
                campaign[label].add(result.value.id or "")
                table.add_row(label, "\n".join(urls))
            console.print(table)

        async def publish_tip(hour: int, index: int) -> None:
            # Numbered: X refuses a post whose text repeats an earlier one.
            text = f"{TIPS[index % len(TIPS)]} ({index + 1}/{days * len(POST_HOURS)})"
            outcome: dict[str, Result[Post]] = await hub.publish(Post(text=text))
            for label, result in outcome.items():
                if result.value is not None and result.value.id is not None:
                    campaign[label].add(result.value.id)
                    _engage(sim, label, result.value.id, hour == sim.peak_hour)
                else:
                    errors.append(f"post on {label}: {result.error}")

        async def hourly(now: datetime) -> None:
            # What a deployment runs on a schedule: listening and alerts, then the inbox.
            await listening.poll()
            await monitor.check()
            for item in await inbox.poll():
                if item.status == "ignored":
                    continue
                span = RESPONSE_MINUTES.get(item.queue)
                if span is None:
                    continue
                if item.queue == "community" and sim.rng.random() < 0.4:
                    continue  # not every compliment gets an answer
                delay = sim.rng.randint(*span)
                if now.date() == (START + timedelta(days=sim.burst_day)).date() and (
                    item.queue == "support"
                ):
                    delay *= 2  # the team is swamped on the day of the outage
                due = item.message.created_at + timedelta(minutes=delay)
                pending.append((due, item.key, item))
            pending.sort(key=lambda entry: (entry[0], entry[1]))
            while pending and pending[0][0] <= now:
                _due, _key, item = pending.pop(0)
                try:
                    await inbox.reply(item, _answer(item, sim.number()))
                except SocialkitError as exc:
                    errors.append(f"reply on {item.message.network}: {exc}")

        tip = 0
        total_hours = days * 24
        console.print(
            f"Simulating {days} days of audience: {FANS} fans per network, mentions, direct "
            f"messages, a competitor, and one surprise…",
            markup=False,
        )
        for hour_index in range(total_hours):
            now = START + timedelta(hours=hour_index)
            sim.at(now)
            await hourly(now)
            hour = now.hour
            day = hour_index // 24
            events: list[tuple[int, int, Callable[[], Awaitable[None] | None]]] = []

            def add(
                minute: int,
                action: Callable[[], Awaitable[None] | None],
                events: list[tuple[int, int, Callable[[], Awaitable[None] | None]]] = events,
            ) -> None:
                events.append((minute, len(events), action))

            if hour_index == LAUNCH_HOUR:
                add(0, launch_post)
            if hour in POST_HOURS:
                add(0, functools.partial(publish_tip, hour, tip))
                tip += 1
            if hour in (10, 16):
                add(5, lambda: _competitor_posts(sim))
            for _ in range(_mention_count(sim, hour)):
                add(sim.rng.randint(1, 58), _mention_action(sim))
                messages += 1
            if sim.rng.random() < 0.18 and 8 <= hour <= 20:
                add(sim.rng.randint(1, 58), _direct_action(sim))
                messages += 1
            if day == sim.burst_day and hour == sim.burst_hour:
                for _ in range(sim.burst_size):
                    add(sim.rng.randint(2, 55), _burst_action(sim))
                messages += sim.burst_size
            events.sort(key=lambda e: (e[0], e[1]))
            for minute, _seq, action in events:
                sim.at(now + timedelta(minutes=minute))
                outcome = action()
                if asyncio.iscoroutine(outcome):
                    await outcome
            if hour == 23:
                await collector.collect(lookback=timedelta(days=days + 1), limit=None)
        end = START + timedelta(hours=total_hours)
        sim.at(end)
        await hourly(end)
        await collector.collect(lookback=timedelta(days=days + 1), limit=None)
        errors.extend(f"metrics of {k}: {v}" for k, v in collector.errors.items())
        errors.extend(f"inbox {k}: {v}" for k, v in inbox.errors.items())
        errors.extend(f"listening {k}: {v}" for k, v in listening.errors.items())

        # -- 3. the analyses ----------------------------------------------------------------
        perfs = [
            p for p in await collector.performance() if p.post_id in campaign.get(p.source, set())
        ]
        hours_grid = best_hours(perfs, "UTC")
        best = hours_grid.top(3, min_posts=2)
        queues = await inbox.report(goal=GOALS)
        share = await listening.share_of_voice()
        competitor = await _competitor_engagement(sim, adapters, perfs)
        heatmap = write_heatmap(
            best_times(perfs, "UTC"), out / "best-times.png", title="Best time to post (UTC)"
        )
        csv_path = out / "metrics.csv"
        write_csv(perfs, csv_path)
        inbox_items = len(await inbox.items())
        listened = len(await listening.items())

    report = DemoReport(
        seed=seed,
        days=days,
        start=START,
        end=end,
        peak_hour=sim.peak_hour,
        burst_start=START + timedelta(days=sim.burst_day, hours=sim.burst_hour),
        burst_size=sim.burst_size,
        preflight=preflight,
        published=published,
        posts=len(perfs),
        messages=messages,
        best_hour=best[0].hour if best else None,
        best_hours=best,
        alerts=alerts,
        queues=queues,
        networks=performance_by(perfs, "network"),
        top_posts=top_posts(perfs, 5),
        share_of_voice=share,
        competitor=competitor,
        recommendations=recommendations(perfs, "UTC"),
        heatmap=heatmap,
        csv=csv_path,
        routing=routing_path,
        inbox_items=inbox_items,
        listened=listened,
        errors=errors,
    )
    _print_report(console, report, hours_grid.rate)
    return report


def _answer(item: InboxItem, ticket: int) -> str:
    text = {
        "support": "Sorry about this! We are on it, details in your DMs.",
        "sales": "Thanks for your interest! Our sales team will send you the details today.",
        "press": "Thanks for reaching out, our press team will contact you shortly.",
    }.get(item.queue, "Thank you, that means a lot to the team!")
    return f"{text} (ref {ticket})"  # a reference, and no two answers alike (X refuses those)


def _poissonish(rng: random.Random, mean: float) -> int:
    """A small count around ``mean`` (Knuth's Poisson sampler; means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _mention_count(sim: _Sim, hour: int) -> int:
    mean = 1.6 if 8 <= hour <= 21 else 0.4
    return min(_poissonish(sim.rng, mean), 4)


def _pick_network(sim: _Sim) -> str:
    return sim.rng.choice(sorted(sim.fakes))


def _fill(template: str, sim: _Sim) -> str:
    return template.format(brand=BRAND, n=sim.number() % 90 + 5)


def _mention_action(sim: _Sim) -> Callable[[], None]:
    network = _pick_network(sim)
    fan = sim.rng.choice(sim.fans[network])
    kinds = sorted(MENTION_WEIGHTS)
    kind = sim.rng.choices(kinds, weights=[MENTION_WEIGHTS[k] for k in kinds])[0]
    text = _fill(sim.rng.choice(MENTIONS[kind]), sim)

    def act() -> None:
        sim.fakes[network].mention(fan, text)

    return act


def _direct_action(sim: _Sim) -> Callable[[], None]:
    network = _pick_network(sim)
    fan = sim.rng.choice(sim.fans[network])
    text = _fill(sim.rng.choice(DIRECT), sim)

    def act() -> None:
        sim.fakes[network].direct(fan, text)

    return act


def _burst_action(sim: _Sim) -> Callable[[], None]:
    network = _pick_network(sim)
    fan = sim.rng.choice(sim.fans[network])
    text = _fill(sim.rng.choice(BURST), sim)

    def act() -> None:
        sim.fakes[network].mention(fan, text)

    return act


def _engage(sim: _Sim, network: str, post_id: str, peak: bool) -> None:
    """The audience reacts to one of the brand's posts (more at the peak hour)."""
    fake = sim.fakes[network]
    rng = sim.rng
    factor = PEAK_FACTOR if peak else 1.0
    fans = sim.fans[network]
    likes = round(6 * factor * rng.uniform(0.75, 1.25))
    reposts = round(2 * factor * rng.uniform(0.5, 1.5))
    for fan in rng.sample(fans, min(likes, len(fans))):
        fake.like(post_id, fan)
    for fan in rng.sample(fans, min(reposts, len(fans))):
        fake.repost(post_id, fan)
    if rng.random() < (0.9 if peak else 0.35):
        fake.reply(post_id, rng.choice(fans), rng.choice(REPLIES))
    fake.view(post_id, round(240 * rng.uniform(0.9, 1.1)))


def _competitor_posts(sim: _Sim) -> None:
    for network in sorted(sim.fakes):
        fake = sim.fakes[network]
        post_id = fake.publish_as(sim.competitor[network], sim.rng.choice(COMPETITOR_POSTS))
        for fan in sim.rng.sample(sim.fans[network], sim.rng.randint(2, 9)):
            fake.like(post_id, fan)
        fake.view(post_id, round(300 * sim.rng.uniform(0.9, 1.1)))


async def _competitor_engagement(
    sim: _Sim, adapters: dict[str, Adapter], perfs: list[PostPerformance]
) -> dict[str, dict[str, float]]:
    """Per network: the competitor's posts read through ``posts(account=...)``, against ours."""
    out: dict[str, dict[str, float]] = {}
    for network, adapter in adapters.items():
        handle = sim.competitor[network].handle
        theirs = [p async for p in adapter.posts(account=handle, limit=100)]
        their_total = sum(
            p.metrics.get(k, 0) for p in theirs for k in ("likes", "reposts", "replies", "quotes")
        )
        ours = [p for p in perfs if p.source == network]
        out[network] = {
            "their_posts": len(theirs),
            "their_mean": their_total / len(theirs) if theirs else 0.0,
            "our_posts": len(ours),
            "our_mean": sum(p.interactions for p in ours) / len(ours) if ours else 0.0,
        }
    return out


def _print_report(console: Console, report: DemoReport, rate: bool) -> None:
    console.print(Rule(f"Report: {report.start:%a %Y-%m-%d} to {report.end:%a %Y-%m-%d} (UTC)"))
    console.print(
        f"{report.posts} brand posts measured, {report.messages} messages from the audience, "
        f"{report.inbox_items} inbox items, {report.listened} posts found by listening.",
        markup=False,
    )
    console.print(networks_table(report.networks, "Engagement per network"))
    console.print(top_posts_table(report.top_posts, "Top posts"))
    console.print(slots_table(report.best_hours, rate, "Best hours to post (UTC)"))
    found = report.best_hour
    verdict = "[green]found[/]" if found == report.peak_hour else "[red]missed[/]"
    console.print(
        f"Planted peak hour: {report.peak_hour:02d}:00; best hour found: "
        f"{'-' if found is None else f'{found:02d}:00'} {verdict}"
    )
    console.print(queues_table(report.queues, "Inbox queues and response times"))

    table = Table(title="Bad-buzz alerts")
    table.add_column("watch")
    table.add_column("kind")
    table.add_column("hour (UTC)")
    table.add_column("items", justify="right")
    table.add_column("negative", justify="right")
    table.add_column("z", justify="right")
    for alert in report.alerts:
        table.add_row(
            alert.watch,
            alert.kind,
            f"{alert.start:%a %H:%M}-{alert.end:%H:%M}",
            str(alert.count),
            f"{alert.negative}/{alert.scored}",
            f"{alert.z:.1f}",
        )
    console.print(table)
    for alert in report.alerts:
        console.print(f"⚠ {alert.message}", markup=False)
        for item in alert.top_negative[:2]:
            console.print(f"    “{short(item.text, 70)}” ({item.network})", markup=False)
    caught = "[green]alerted[/]" if report.burst_alerted else "[red]not alerted[/]"
    console.print(
        f"Planted burst: {report.burst_size} angry mentions on "
        f"{report.burst_start:%a %Y-%m-%d %H:%M} UTC: {caught}"
    )

    table = Table(title="Listening: share of voice and the competitor")
    table.add_column("network")
    table.add_column("our posts", justify="right")
    table.add_column("our mean interactions", justify="right")
    table.add_column(f"{COMPETITOR} posts", justify="right")
    table.add_column(f"{COMPETITOR} mean interactions", justify="right")
    for network, row in report.competitor.items():
        table.add_row(
            network,
            str(int(row["our_posts"])),
            f"{row['our_mean']:.1f}",
            str(int(row["their_posts"])),
            f"{row['their_mean']:.1f}",
        )
    console.print(table)
    share = ", ".join(f"{name} {value:.0%}" for name, value in report.share_of_voice.items())
    console.print(f"Share of voice (mentions found by listening): {share}", markup=False)

    console.print(Rule("Recommendations"))
    for sentence in report.recommendations:
        console.print(f"• {sentence}", markup=False)
    console.print(Rule("Files"))
    console.print(f"best-time heatmap: {report.heatmap}", markup=False)
    console.print(f"metrics CSV:       {report.csv}", markup=False)
    console.print(f"routing rules:     {report.routing}", markup=False)
    for error in report.errors:
        console.print(f"[red]error:[/] {escape(error)}")
