"""``socialkit demo``: the whole library at work on every fake network, offline, in seconds.

:func:`run_demo` connects the real adapters of every network in :data:`NETWORKS` (one entry per
network: its fake from :mod:`socialkit.testing.fakes`, its adapter's options, what a post there
must carry) to their in-process fakes (no network, no credentials), then:

1. publishes a launch post (with an image, or the video TikTok needs, and a thread where the
   network has threads) to all of them at once through :class:`socialkit.Hub`, after the
   per-network pre-flight check;
2. plans the brand's week with the planner (:mod:`socialkit.workflows.planner`, a SQLite plan
   in the output directory): posts at fixed hours for the first days, to learn when the
   audience is there, then the rest of the week at each account's next best slots
   (``BestSlot`` with the ``best_hours`` grid measured so far) under per-account cadence rules;
   a ``Runner`` publishes what is due every simulated hour;
3. simulates the days of an audience on a seeded :class:`random.Random`: fans like, repost and
   reply (posts published at one planted *peak hour* get about three times the engagement),
   people mention the brand and send direct messages (support, sales and press requests,
   praise) where the network has them, a competitor posts, and on the last day a burst of
   angry mentions arrives within one hour;
4. runs the workflows on it, hour by simulated hour: the inbox with routing rules (answers go
   out through the adapters, so response times are measured), listening on the brand and the
   competitor, the bad-buzz monitor (which must catch the burst, and whose alert pauses the
   plan: the posts planned after the burst are held), and daily metric snapshots;
5. prints a report (rich tables) and writes ``best-times.png`` (heatmap), ``metrics.csv``,
   ``routing.toml`` (the rules used) and ``plan.db`` (the week's plan) into the output directory.

A network without something the demo uses (metrics, messages, search, reading others' posts)
is shown as such and left out of that part. Every time shown is simulated: the fakes' clocks
start at a fixed date and move together, so the same seed prints the same report.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

from socialkit._capabilities import Capability
from socialkit._errors import ConfigurationError, SocialkitError, ValidationError
from socialkit._hub import Hub
from socialkit._models import Media, MediaKind, Post
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
    from socialkit.testing.fakes import FakeClock, FakeNetwork, FakeUser
    from socialkit.workflows import (
        Alert,
        GroupStat,
        InboxItem,
        PostPerformance,
        QueueReport,
        Slot,
    )
    from socialkit.workflows.planner import BestSlot, Pause, Target

__all__ = [
    "NETWORKS",
    "START",
    "DemoFiles",
    "DemoNetwork",
    "DemoReport",
    "arun_demo",
    "fake_factory",
    "run_demo",
]

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

#: The brand's planned posts a day at its best slots, once the first days have been measured.
BEST_PER_DAY = 3
HIGH = 1_000_000  # the demo sends thousands of requests in seconds: no rate limit gets in the way


@dataclass(frozen=True)
class DemoFiles:
    """The media the demo posts: a generated PNG and a minimal MP4 in the output directory,
    or, for networks that fetch media themselves, their public URLs (the fakes take any)."""

    out: Path

    def media(self, kind: MediaKind, *, hosted: bool = False) -> Media:
        if hosted:
            # A JPEG, which every network that fetches media takes (Instagram takes no PNG).
            name = "launch.mp4" if kind == "video" else "launch.jpg"
            return Media.from_url(
                f"{MEDIA_URL}/{name}", alt=VIDEO_ALT if kind == "video" else IMAGE_ALT
            )
        name, alt = ("launch.mp4", VIDEO_ALT) if kind == "video" else ("launch.png", IMAGE_ALT)
        return Media.from_path(self.out / name, alt=alt)


IMAGE_ALT = "A bar chart rising from left to right"
VIDEO_ALT = "Acme 2.0 in 30 seconds"
#: Where networks that fetch media themselves find the demo's files (nothing is fetched: the
#: fakes take the URL as it is).
MEDIA_URL = "https://media.example/acme"
#: The head of an MP4 file (``ftyp`` and ``free`` boxes): a video to the adapters and fakes.
MP4 = bytes.fromhex("00000018667479706d70343200000000") + b"mp42isom"
MP4 += bytes.fromhex("00000008") + b"free"


def _no_options(rng: random.Random) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class DemoNetwork:
    """One network of the demo (an entry of :data:`NETWORKS`).

    ``fake`` makes its fake network on the demo's clock and seed; ``options`` are settings of
    its adapter (besides the simulated ``clock``, which every adapter gets); ``media`` is what
    every post there must carry (``"video"`` on TikTok, ``"image"`` on Instagram; ``None``: text
    is enough, and the launch post takes the image where the network has images).
    """

    name: str
    """The network's registry name, also the account's label."""
    title: str
    fake: Callable[[FakeClock, int], FakeNetwork]
    options: Callable[[random.Random], dict[str, Any]] = _no_options
    media: MediaKind | None = None
    hosted: bool = False
    """The network takes media only from public URLs (it fetches them itself)."""
    keyword_search: bool = True
    """Its search takes the brand watch's keywords (Instagram searches hashtags only)."""
    search_finds_mentions: bool = True
    """Its search finds the posts that mention the brand (Reddit's finds submissions, and a
    mention there is a comment): the planted burst lands only where listening sees it."""
    max_per_day: int = len(POST_HOURS)
    """The cadence rule of the account in the plan."""


def fake_factory(cls: str, **settings: Any) -> Callable[[FakeClock, int], FakeNetwork]:
    """A :attr:`DemoNetwork.fake`: makes ``socialkit.testing.fakes.<cls>`` with ``settings``,
    owned by the brand (imported when the demo runs: the fakes need the testing extra)."""

    def make(clock: FakeClock, seed: int) -> FakeNetwork:
        from socialkit.testing import fakes

        made: FakeNetwork = getattr(fakes, cls)(
            clock=clock, seed=seed, owner_handle=BRAND, **settings
        )
        return made

    return make


def _tiktok(clock: FakeClock, seed: int) -> FakeNetwork:
    from socialkit.testing.fakes.tiktok import DEFAULT_LIMITS, FakeTikTok

    limits = dict.fromkeys(DEFAULT_LIMITS, HIGH)  # six video inits a minute, per endpoint
    return FakeTikTok(clock=clock, seed=seed, owner_handle=BRAND, limits=limits)


def _pinterest(clock: FakeClock, seed: int) -> FakeNetwork:
    from socialkit.testing.fakes.pinterest import DEFAULT_LIMITS, FakePinterest

    limits = dict.fromkeys(DEFAULT_LIMITS, HIGH)
    return FakePinterest(clock=clock, seed=seed, owner_handle=BRAND, limits=limits)


#: Every network the demo publishes to: one entry each.
NETWORKS: tuple[DemoNetwork, ...] = (
    DemoNetwork(
        "mastodon",
        "Mastodon",
        fake_factory("FakeMastodon", rate_limit=HIGH),
        lambda rng: {"media_poll_interval": 0.01},
    ),
    DemoNetwork(
        "bluesky",
        "Bluesky",
        fake_factory("FakeBluesky", rate_limit=HIGH, write_limit=HIGH),
        # Bluesky's client makes each record's key from the time and a clock id: a seeded
        # clock id keeps the URLs the same from run to run.
        lambda rng: {"tid_clock_id": rng.randrange(1024)},
    ),
    DemoNetwork(
        "x", "X", fake_factory("FakeX", rate_limit=HIGH, check_after_secs=0, processing_polls=1)
    ),
    DemoNetwork(
        "facebook",
        "Facebook",
        fake_factory("FakeFacebook", usage_limit=HIGH),
        lambda rng: {"poll_interval": 0},
    ),
    DemoNetwork(
        "instagram",
        "Instagram",
        fake_factory("FakeInstagram", usage_limit=HIGH),
        lambda rng: {"poll_interval": 0},
        media="image",
        hosted=True,
        keyword_search=False,
    ),
    DemoNetwork(
        "threads",
        "Threads",
        fake_factory("FakeThreads", usage_limit=HIGH),
        lambda rng: {"poll_interval": 0},
        hosted=True,
    ),
    DemoNetwork("telegram", "Telegram", fake_factory("FakeTelegram", chat_limit=HIGH)),
    DemoNetwork(
        "reddit", "Reddit", fake_factory("FakeReddit", rate_limit=HIGH), search_finds_mentions=False
    ),
    DemoNetwork(
        "tiktok",
        "TikTok",
        _tiktok,
        lambda rng: {"poll_interval": 0.001},
        media="video",
    ),
    DemoNetwork("linkedin", "LinkedIn", fake_factory("FakeLinkedIn", daily_limit=HIGH)),
    DemoNetwork(
        "youtube",
        "YouTube",
        # Processing ends at the first read (a real video takes minutes; the adapter polls).
        fake_factory("FakeYouTube", daily_quota=HIGH, upload_quota=HIGH, processing_reads=0),
        media="video",
    ),
    DemoNetwork("pinterest", "Pinterest", _pinterest, media="image", hosted=True),
)

#: What the demo uses beyond publishing, and the capability each needs.
USES: dict[str, tuple[Capability, ...]] = {
    "metrics": (Capability.POST_METRICS,),
    "inbox": (Capability.MENTIONS, Capability.COMMENTS, Capability.DIRECT_MESSAGES),
    "direct messages": (Capability.DIRECT_MESSAGES,),
    "replies": (Capability.REPLY,),
    "listening": (Capability.SEARCH,),
    "competitor": (Capability.READ_OTHERS,),
    "thread": (Capability.PUBLISH_THREAD,),
}


def _uses(adapter: Adapter, network: DemoNetwork) -> dict[str, bool]:
    offered = {use: any(c in adapter.capabilities for c in caps) for use, caps in USES.items()}
    offered["listening"] = offered["listening"] and network.keyword_search
    # The competitor is looked up by handle, then read.
    offered["competitor"] = offered["competitor"] and Capability.ACCOUNTS in adapter.capabilities
    return offered


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
    "Tip: dark mode is in Settings, under Appearance",
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
    competitor: dict[str, dict[str, float | None]]
    """Per network: our posts and the competitor's, with their mean interactions (None where
    the network's listing of others' posts carries no interaction counts)."""
    recommendations: list[str]
    heatmap: Path
    csv: Path
    routing: Path
    inbox_items: int = 0
    listened: int = 0
    stream_alert_seconds: float | None = None
    """Live, on a served FakeMastodon: wall-clock seconds from the first post of a planted
    burst on the hashtag stream to the bad-buzz alert (None: no alert came)."""
    uses: dict[str, dict[str, bool]] = field(default_factory=dict)
    """Per account, what of the demo its network offers (``metrics``, ``inbox``, ``listening``
    …; see :data:`USES`): the parts it lacks are shown as such and skipped."""
    plan: list[Target] = field(default_factory=list)
    """The week's calendar at the end: every planned target with its status."""
    pause: Pause | None = None
    """The crisis pause the bad-buzz alert put on the plan."""
    plan_db: Path | None = None
    fakes: dict[str, FakeNetwork] = field(default_factory=dict, repr=False, compare=False)
    """The fake networks after the run, to look into (not in the JSON)."""
    errors: list[str] = field(default_factory=list)

    @property
    def held(self) -> list[Target]:
        """The planned targets the crisis pause holds (not published)."""
        return [t for t in self.plan if t.paused and t.status == "planned"]

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
                "stream_alert_seconds": self.stream_alert_seconds,
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
            "uses": self.uses,
            "plan": [_target_json(t) for t in self.plan],
            "pause": None if self.pause is None else self.pause.model_dump(mode="json"),
            "held": [_target_json(t) for t in self.held],
            "files": {
                "heatmap": str(self.heatmap),
                "csv": str(self.csv),
                "routing": str(self.routing),
                "plan": None if self.plan_db is None else str(self.plan_db),
            },
            "errors": self.errors,
        }


def _target_json(target: Target) -> dict[str, Any]:
    return {
        "account": target.account,
        "due_at": target.due_at.isoformat(),
        "status": target.status,
        "paused": target.paused,
        "text": target.post.text,
        "tags": target.tags,
        "url": target.url,
        "error": target.error,
    }


def run_demo(
    seed: int = 7,
    out_dir: str | Path = "socialkit-demo",
    days: int = 4,
    console: Console | None = None,
    networks: Sequence[DemoNetwork] = NETWORKS,
) -> DemoReport:
    """Run the demo (blocking); see the module docs. ``console`` receives the report;
    ``networks``: the entries of :data:`NETWORKS` to run (all by default)."""
    return asyncio.run(arun_demo(seed, out_dir, days, console, networks))


class _Sim:
    """The simulation state: the fakes, their audiences and the clock."""

    def __init__(self, seed: int, days: int, networks: Sequence[DemoNetwork]) -> None:
        from socialkit.testing.fakes import FakeClock

        self.rng = random.Random(seed)  # noqa: S311 - a simulation, not security
        # One clock per fake (each creation ticks its fake's clock by a second: with a shared
        # clock, the times would depend on how concurrent publishes interleave), moved together;
        # the workflows read the first.
        self.clock = FakeClock(START)
        self.clocks = {n.name: FakeClock(START) for n in networks}
        self.fakes: dict[str, FakeNetwork] = {
            n.name: n.fake(self.clocks[n.name], seed) for n in networks
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
        #: Where the audience mentions the brand, writes to it, and where the competitor is
        #: read (set once the adapters say what their networks offer).
        self.mentioned: list[str] = []
        self.heard: list[str] = []
        self.messaged: list[str] = []
        self.rivals: list[str] = []

    def at(self, moment: datetime) -> None:
        """Move the clocks to ``moment`` (never back: a fake may have ticked past it)."""
        for clock in (self.clock, *self.clocks.values()):
            if moment > clock.now():
                clock.set(moment)

    def number(self) -> int:
        self.counter += self.rng.randint(1, 97)
        return self.counter

    def ids(self) -> Callable[[], str]:
        """Seeded ids for the plan (they become idempotency keys, which Bluesky turns into
        record keys: random ones would change the URLs from run to run)."""
        made = itertools.count(1)
        salt = self.rng.getrandbits(32)
        return lambda: f"{salt:08x}{next(made):08d}"


def _follow(fake: FakeNetwork, user: FakeUser) -> None:
    try:
        fake.follow(user, fake.owner)
    except NotImplementedError:
        fake.owner.followers += 1


async def arun_demo(
    seed: int = 7,
    out_dir: str | Path = "socialkit-demo",
    days: int = 4,
    console: Console | None = None,
    networks: Sequence[DemoNetwork] = NETWORKS,
) -> DemoReport:
    """:func:`run_demo` for callers that already run an event loop (``networks``: which
    entries of :data:`NETWORKS` to run)."""
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
    from socialkit.workflows.planner import (
        BestSlot,
        CadenceRule,
        PlannedPost,
        Planner,
        Runner,
        SQLitePlanDB,
        pause_on_alert,
    )

    if days < 2:
        raise ValueError("the demo needs at least 2 simulated days (a day of baseline first)")
    try:
        import starlette  # noqa: F401  (the fakes are Starlette apps)
    except ImportError:
        raise ConfigurationError(
            "the demo runs on socialkit's fake networks, which need the testing extra: "
            "pip install 'socialkit-client[cli,testing]'"
        ) from None
    out = Path(out_dir)
    # The demo's few small files are written in the loop: nothing else runs concurrently.
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    console = console or Console()
    sim = _Sim(seed, days, networks)
    # One store per workflow: a MemoryStore lists a namespace by scanning all of its keys.
    stores = {name: MemoryStore() for name in ("inbox", "listening", "alerts", "metrics")}
    adapters: dict[str, Adapter] = {
        # The simulated clock for the times the adapters stamp; no waits between retries or
        # for rate-limit pacing (Telegram's one message per chat every few seconds): the fakes
        # lift their limits, and time here is simulated.
        n.name: sim.fakes[n.name].connect(
            account="brand", clock=sim.clocks[n.name].now, retry_wait=False, **n.options(sim.rng)
        )
        for n in networks
    }
    uses = {n.name: _uses(adapters[n.name], n) for n in networks}
    sim.mentioned = [label for label in adapters if adapters[label].supports(Capability.MENTIONS)]
    # The burst lands where listening searches, so that the monitor sees all of it.
    sim.heard = [
        n.name
        for n in networks
        if n.name in sim.mentioned and uses[n.name]["listening"] and n.search_finds_mentions
    ]
    sim.messaged = [label for label in adapters if uses[label]["direct messages"]]
    sim.rivals = [label for label in adapters if uses[label]["competitor"]]
    clock = sim.clock.now
    errors: list[str] = []
    files = _demo_files(out)

    console.print(Rule("socialkit demo"))
    names = ", ".join(n.title for n in networks)
    console.print(
        f"{len(networks)} fake networks ({names}) served in-process; the real adapters talk to "
        f"them over HTTP. Simulated time starts {START:%A %Y-%m-%d %H:%M} UTC; seed {seed}.",
        markup=False,
    )
    console.print(_uses_table(uses))

    # The week's plan, in the output directory (a fresh one each run).
    plan_path = out / "plan.db"
    for stale in (plan_path, out / "plan.db-wal", out / "plan.db-shm"):
        stale.unlink(missing_ok=True)
    plan_db = SQLitePlanDB(plan_path)
    planner = Planner(
        plan_db,
        adapters,
        rules=[
            CadenceRule(account=n.name, max_per_day=n.max_per_day, min_gap=timedelta(hours=2))
            for n in networks
        ],
        clock=clock,
        new_id=sim.ids(),
    )
    # One publish at a time: the fakes share a clock that each creation ticks, so the order of
    # the publishes (which concurrent claims would leave to thread timing) shows in the times.
    runner = Runner(plan_db, adapters, worker="demo", clock=clock)

    async with Hub(adapters) as hub:
        campaign: dict[str, set[str]] = {label: set() for label in adapters}
        published: dict[str, list[str]] = {}
        preflight: dict[str, list[str]] = {}

        # -- the workflows --------------------------------------------------------------------
        routing_path = out / "routing.toml"
        routing_path.write_text(ROUTING_TOML, encoding="utf-8")
        scorer = LexiconScorer()
        inbox = Inbox(
            adapters,
            store=stores["inbox"],
            routing=RoutingTable.from_file(routing_path),
            scorer=scorer,
            clock=clock,
            initial_since=START,
            initial_limit=None,
            retention=timedelta(days=days + 1),
        )
        searched = [label for label in adapters if uses[label]["listening"]]
        watches = [
            # "@acme" too: X matches keywords as whole words, mentions with the @ operator.
            Watch(name=BRAND, role="brand", keywords=[BRAND, f"@{BRAND}"], networks=searched),
            Watch(name=COMPETITOR, role="competitor", keywords=[COMPETITOR], networks=searched),
        ]
        listening = Listening(
            adapters,
            watches,
            store=stores["listening"],
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
            store=stores["alerts"],
            clock=clock,
            callbacks=[alerts.append],
        )
        # Bad buzz holds every planned post of the brand until a person resumes.
        monitor.subscribe(pause_on_alert(planner))
        collector = MetricsCollector(adapters, store=stores["metrics"], clock=clock)
        pending: list[tuple[datetime, str, InboxItem]] = []
        messages = 0
        tips = itertools.count()
        # The plan runs to the end of the week of the last simulated day (a Sunday).
        plan_days = 7 * ((days - 1) // 7 + 1)
        tip_total = (days - 1) * len(POST_HOURS) + (plan_days - days + 1) * BEST_PER_DAY

        # The accounts whose posts carry the same media share one planned post.
        groups: dict[tuple[MediaKind | None, bool], list[str]] = {}
        for n in networks:
            groups.setdefault((n.media, n.hosted), []).append(n.name)

        async def plan_tip(
            tag: str, *, at: datetime | None = None, best: BestSlot | None = None
        ) -> None:
            """Plan a tip for every account, at ``at`` or at each one's next ``best`` slot."""
            index = next(tips)
            # Numbered: X refuses a post whose text repeats an earlier one.
            text = f"{TIPS[index % len(TIPS)]} ({index + 1}/{tip_total})"
            for (kind, hosted), labels in groups.items():
                media = [] if kind is None else [files.media(kind, hosted=hosted)]
                await planner.add(
                    PlannedPost(
                        post=Post(text=text, media=media),
                        targets=labels,
                        at=at,
                        best=best,
                        campaign="week",
                        tags=["tip", tag],
                    )
                )

        # -- the launch: a post with an image (or a video) and a thread, everywhere at once ---
        async def launch_post() -> None:
            console.print(Rule(f"{sim.clock.now():%a %H:%M} UTC: the launch"))
            posts = {n.name: _launch(adapters[n.name], n, files) for n in networks}
            checks = {label: adapters[label].check(post) for label, post in posts.items()}
            preflight.update(
                {label: [p.message for p in problems] for label, problems in checks.items()}
            )
            table = Table(title="Pre-flight check of the launch post (offline, per network)")
            table.add_column("account")
            table.add_column("sends")
            table.add_column("limit")
            table.add_column("result")
            for label, problems in checks.items():
                limits = adapters[label].limits
                post = posts[label]
                sends = ", ".join(
                    [m.kind for m in post.media]
                    + ([f"{len(post.thread)}-post thread"] * bool(post.thread))
                )
                table.add_row(
                    label,
                    f"text, {sends}" if sends else "text",
                    f"{limits.max_text} {limits.text_unit}, {limits.max_media} media",
                    "[green]ok[/]"
                    if not problems
                    else escape("; ".join(p.message for p in problems)),
                )
            console.print(table)
            results = await hub.publish(posts)
            table = Table(title="Published: the post, its media and its thread")
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

        # -- the plan: fixed hours first (to learn when the audience is there) ----------------
        for day in range(days - 1):
            for hour in POST_HOURS:
                await plan_tip("fixed-hour", at=START + timedelta(days=day, hours=hour))

        async def plan_best_slots(now: datetime) -> None:
            """The rest of the week at each account's next best slots, from what was measured."""
            perfs = [
                p
                for p in await collector.performance()
                if p.post_id in campaign.get(p.source, set())
            ]
            overall = best_hours(perfs, "UTC")
            grids = {
                label: best_hours([p for p in perfs if p.source == label], "UTC")
                for label in adapters
                if any(p.source == label for p in perfs)
            }
            for day in range(days - 1, plan_days):
                after = START + timedelta(days=day)
                best = BestSlot(
                    grids=grids,
                    default=overall,
                    after=after,
                    within=timedelta(days=1),
                    min_posts=2,
                )
                for _ in range(BEST_PER_DAY):
                    await plan_tip("best-slot", best=best)
            planned = await planner.calendar(start=now, status="planned")
            console.print(
                f"{now:%a %H:%M} UTC: {len(planned)} posts planned at the next best slots "
                f"for the rest of the week (best_hours of the {len(perfs)} posts measured).",
                markup=False,
            )

        async def run_plan() -> None:
            """A worker's pass: publish what is due; the audience reacts to each post."""
            for outcome in await runner.run_once():
                target = outcome.target
                if outcome.status != "published" or outcome.post is None or not outcome.post.id:
                    errors.append(f"plan on {target.account}: {outcome.status} {outcome.error}")
                    continue
                campaign[target.account].add(outcome.post.id)
                _engage(sim, target.account, outcome.post.id, target.due_at.hour == sim.peak_hour)

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
                if not any(uses[label]["replies"] for label in item.sources):
                    continue  # the network takes no answers through its API
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

        total_hours = days * 24
        console.print(
            f"Simulating {days} days of audience: {FANS} fans per network, mentions, direct "
            f"messages, a competitor, and one surprise…",
            markup=False,
        )
        for hour_index in range(total_hours):
            now = START + timedelta(hours=hour_index)
            sim.at(now)
            if hour_index == (days - 1) * 24:
                await plan_best_slots(now)
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

            add(0, run_plan)
            if hour_index == LAUNCH_HOUR:
                add(0, launch_post)
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

        # -- the analyses ---------------------------------------------------------------------
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
        plan = await planner.calendar(start=START)
        pauses = await planner.pauses()
    await plan_db.aclose()

    # -- 4. real time: the same alert, live, from a stream ------------------------------------
    console.print(Rule("Real time: a burst on the Mastodon hashtag stream"))
    try:
        stream_alert = await _live_stream_alert(sim.rng)
    except SocialkitError as exc:
        errors.append(f"live stream: {exc}")
        stream_alert = None

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
        stream_alert_seconds=stream_alert,
        uses=uses,
        plan=plan,
        pause=pauses[0] if pauses else None,
        plan_db=plan_path,
        fakes=sim.fakes,
        errors=errors,
    )
    _print_report(console, report, hours_grid.rate)
    return report


def _demo_files(out: Path) -> DemoFiles:
    (out / "launch.png").write_bytes(demo_image())
    (out / "launch.mp4").write_bytes(MP4)
    return DemoFiles(out)


def _launch(adapter: Adapter, network: DemoNetwork, files: DemoFiles) -> Post:
    """The launch post as ``network`` takes it: its media (the image where the network has
    images, else what it needs) and the thread where it has threads."""
    kind = network.media
    if kind is None and adapter.supports(Capability.PUBLISH_IMAGE):
        kind = "image"
    threads = adapter.supports(Capability.PUBLISH_THREAD)
    return Post(
        text="Acme 2.0 is here: dashboards that explain themselves." + (" A thread 🧵" * threads),
        media=[] if kind is None else [files.media(kind, hosted=network.hosted)],
        thread=[
            Post(text="1/ Every chart now says what changed and why, in plain words."),
            Post(text="2/ Alerts tell you when your audience reacts, before it trends."),
            Post(text="3/ Available today for every plan. Tell us what you think!"),
        ]
        if threads
        else [],
    )


def _uses_table(uses: dict[str, dict[str, bool]]) -> Table:
    table = Table(
        title="What each network offers the demo (from adapter.capabilities)",
        caption="—: not offered by the network's API; that part of the demo skips it",
    )
    table.add_column("account")
    for use in USES:
        table.add_column(use)
    for label, offered in uses.items():
        table.add_row(label, *("[green]yes[/]" if offered[use] else "—" for use in USES))
    return table


LIVE_BURST = 12


async def _live_stream_alert(rng: random.Random) -> float | None:
    """Serve a FakeMastodon on a loopback port with a wall clock, read its hashtag stream with
    ``BuzzMonitor.run(stream=True)`` (one-minute buckets, forty quiet minutes of history),
    plant a burst of angry posts, and time the alert. Bounded: at most 20 seconds."""
    import time

    import anyio
    import httpx

    from socialkit.testing.fakes import FakeMastodon, WallClock
    from socialkit.workflows import BuzzMonitor, DetectorConfig, LexiconScorer, Listening, Watch

    fake = FakeMastodon(clock=WallClock())
    fan = fake.add_user("livefan")
    fired: list[float] = []
    alerted = anyio.Event()

    def record(alert: object) -> None:
        fired.append(time.monotonic())
        alerted.set()

    with fake.serve() as url:
        async with httpx.AsyncClient() as http, fake.connect(http=http, instance=url) as net:
            listening = Listening(
                [net],
                [Watch(name=BRAND, hashtags=[BRAND])],
                store=MemoryStore(),
                scorer=LexiconScorer(),
                initial_since=datetime.now(timezone.utc) - timedelta(minutes=40),
            )
            monitor = BuzzMonitor(
                listening,
                bucket=timedelta(minutes=1),
                config=DetectorConfig(window=60, min_history=30, scales=(1, 2)),
                callbacks=[record],
            )
            with anyio.move_on_after(20):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(
                        functools.partial(
                            monitor.run,
                            stream=True,
                            interval=3600,
                            live_interval=0.2,
                            until=lambda: bool(fired),
                        )
                    )
                    # The fake's server runs in its own thread: its count is polled.
                    while not fake.stream_connections:  # noqa: ASYNC110
                        await anyio.sleep(0.02)
                    await anyio.sleep(0.3)
                    start = time.monotonic()
                    for index in range(LIVE_BURST):
                        text = BURST[index % len(BURST)].format(brand=BRAND)
                        fake.publish_as(fan, f"#{BRAND} {text}")
                        await anyio.sleep(rng.uniform(0.02, 0.08))
                    await alerted.wait()
                    tg.cancel_scope.cancel()
    return fired[0] - start if fired else None


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


def _pick_network(sim: _Sim, among: list[str] | None = None) -> str:
    return sim.rng.choice(sorted(sim.mentioned if among is None else among))


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
    network = _pick_network(sim, sim.messaged)
    fan = sim.rng.choice(sim.fans[network])
    text = _fill(sim.rng.choice(DIRECT), sim)

    def act() -> None:
        sim.fakes[network].direct(fan, text)

    return act


def _burst_action(sim: _Sim) -> Callable[[], None]:
    network = _pick_network(sim, sim.heard)
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
    for network in sorted(sim.rivals):
        fake = sim.fakes[network]
        post_id = fake.publish_as(sim.competitor[network], sim.rng.choice(COMPETITOR_POSTS))
        for fan in sim.rng.sample(sim.fans[network], sim.rng.randint(2, 9)):
            fake.like(post_id, fan)
        fake.view(post_id, round(300 * sim.rng.uniform(0.9, 1.1)))


async def _competitor_engagement(
    sim: _Sim, adapters: dict[str, Adapter], perfs: list[PostPerformance]
) -> dict[str, dict[str, float | None]]:
    """Per network: the competitor's posts read through ``posts(account=...)``, against ours."""
    out: dict[str, dict[str, float | None]] = {}
    for network, adapter in adapters.items():
        if network not in sim.rivals:
            continue
        handle = sim.competitor[network].handle
        try:
            theirs = [p async for p in adapter.posts(account=handle, limit=100)]
        except ValidationError:
            # Instagram and Threads read others by id (refused offline): look the handle up.
            them = await adapter.account(f"@{handle}")
            theirs = [p async for p in adapter.posts(account=them.id, limit=100)]
        counted = [p for p in theirs if any(k in p.metrics for k in INTERACTIONS)]
        their_total = sum(p.metrics.get(k, 0) for p in counted for k in INTERACTIONS)
        ours = [p for p in perfs if p.source == network]
        out[network] = {
            "their_posts": len(theirs),
            "their_mean": their_total / len(counted) if counted else None,
            "our_posts": len(ours),
            "our_mean": sum(p.interactions for p in ours) / len(ours) if ours else 0.0,
        }
    return out


#: The interaction counts a listing of the competitor's posts may carry.
INTERACTIONS = ("likes", "reposts", "replies", "quotes")

#: How the calendar marks a target's status (held: planned, under a crisis pause).
MARKS = {"published": "✓", "held": "⏸", "planned": "·", "failed": "✗"}


def _calendar_table(report: DemoReport) -> Table:
    """The week by day and account: each target's hour and status mark."""
    last = max((t.due_at.date() for t in report.plan), default=report.start.date())
    days = [
        (report.start + timedelta(days=d)).date()
        for d in range((last - report.start.date()).days + 1)
    ]
    table = Table(
        title="The week's plan (planner.calendar): "
        + ", ".join(f"{mark} {status}" for status, mark in MARKS.items())
    )
    table.add_column("account")
    for day in days:
        table.add_column(f"{day:%a %d}")
    for account in report.uses:
        cells = []
        for day in days:
            marks = []
            for target in report.plan:
                if target.account != account or target.due_at.date() != day:
                    continue
                status = "held" if target.paused and target.status == "planned" else target.status
                marks.append(f"{target.due_at:%H}{MARKS.get(status, '?')}")
            cells.append(" ".join(marks))
        table.add_row(account, *cells)
    return table


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
    if report.stream_alert_seconds is not None:
        console.print(
            f"Live on the Mastodon hashtag stream: {LIVE_BURST} angry posts, the bad-buzz alert "
            f"came [green]{report.stream_alert_seconds:.1f} s[/] after the first one "
            "(wall clock; polling whole hourly buckets takes up to an hour)."
        )
    else:
        console.print("Live on the Mastodon hashtag stream: [red]no alert[/]")

    table = Table(title="Listening: share of voice and the competitor")
    table.add_column("network")
    table.add_column("our posts", justify="right")
    table.add_column("our mean interactions", justify="right")
    table.add_column(f"{COMPETITOR} posts", justify="right")
    table.add_column(f"{COMPETITOR} mean interactions", justify="right")
    for network, row in report.competitor.items():
        cells = (row["our_posts"], row["our_mean"], row["their_posts"], row["their_mean"])
        table.add_row(
            network,
            *("n/a" if v is None else f"{v:.{i % 2}f}" for i, v in enumerate(cells)),
        )
    console.print(table)
    share = ", ".join(f"{name} {value:.0%}" for name, value in report.share_of_voice.items())
    console.print(f"Share of voice (mentions found by listening): {share}", markup=False)

    console.print(_calendar_table(report))
    if report.pause is not None:
        held = report.held
        console.print(
            f"⏸ Crisis pause since {report.pause.since:%a %H:%M} UTC, from the bad-buzz alert: "
            f"{len(held)} planned posts held, none published, until a person resumes "
            "(planner.resume(), or socialkit plan resume).",
            markup=False,
        )
        table = Table(title=f"Held by the crisis pause (the first {min(len(held), 9)})")
        table.add_column("due (UTC)")
        table.add_column("account")
        table.add_column("post", overflow="fold")
        for target in held[:9]:
            table.add_row(f"{target.due_at:%a %H:%M}", target.account, short(target.post.text, 60))
        console.print(table)

    console.print(Rule("Recommendations"))
    for sentence in report.recommendations:
        console.print(f"• {sentence}", markup=False)
    console.print(Rule("Files"))
    console.print(f"best-time heatmap: {report.heatmap}", markup=False)
    console.print(f"metrics CSV:       {report.csv}", markup=False)
    console.print(f"routing rules:     {report.routing}", markup=False)
    console.print(f"the week's plan:   {report.plan_db}", markup=False)
    for error in report.errors:
        console.print(f"[red]error:[/] {escape(error)}")
