"""The planner: planning (variants, thread splitting, pre-flight, best slots), the calendar,
edits, moves and cancels, cadence rules and blackouts, crisis pauses (by hand and by a bad-buzz
alert), and the runner's statuses, retries and fencing. Every test runs on SQLite and on the
real PostgreSQL server (tables of its own, dropped afterwards).

``KeyedAdapter`` stands for a network that honours idempotency keys the way Mastodon's
``Idempotency-Key`` does: a create under a key it has seen returns the post it made, and the
test can make it fail or lose answers. The adapters' own idempotency is tested with each adapter;
the chaos test (test_planner_chaos.py) runs the real ones against served fakes.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from planner_support import POSTGRES_DSN, plan_db
from wf_support import T0, FakeAdapter, post

from socialkit import Account, AdapterSettings, Capability, Post
from socialkit._capabilities import Limits
from socialkit._errors import (
    InvalidPostError,
    InvalidRequestError,
    OutcomeUnknownError,
    RateLimitError,
)
from socialkit._store import MemoryStore
from socialkit.adapters._base import Adapter
from socialkit.workflows import BuzzMonitor, DetectorConfig, LexiconScorer, Listening, Watch
from socialkit.workflows.analytics import Slot, TimeGrid
from socialkit.workflows.planner import (
    BestSlot,
    Blackout,
    CadenceRule,
    PlanConflictError,
    PlanDB,
    PlannedPost,
    Planner,
    PlanStateError,
    PostgresPlanDB,
    PreflightError,
    Runner,
    SQLitePlanDB,
    is_bad_buzz,
    pause_on_alert,
)

HOUR = timedelta(hours=1)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)  # a Monday


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class KeyedAdapter(Adapter):
    """A network with idempotency keys: the same key returns the same post."""

    capabilities = frozenset({Capability.PUBLISH_TEXT, Capability.PUBLISH_THREAD})

    def __init__(self, network: str, *, max_text: int = 60) -> None:
        super().__init__(AdapterSettings())
        self.name = network  # type: ignore[misc]
        self.limits = Limits(max_text=max_text, max_thread=10)
        self.created: dict[str, Post] = {}
        self.requests: list[str | None] = []
        self.fail: list[BaseException] = []
        self.lose_answer = 0  # creates that happen but answer OutcomeUnknownError

    async def me(self) -> Account:
        return Account(id="me", handle="me")

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        self.requests.append(idempotency_key)
        if self.fail:
            raise self.fail.pop(0)
        key = idempotency_key or f"auto-{len(self.requests)}"
        made = self.created.get(key)
        if made is None:
            number = len(self.created) + 1
            made = post.model_copy(
                update={
                    "id": f"{self.name}-{number}",
                    "url": f"https://{self.name}.example/p/{number}",
                    "network": self.name,
                }
            )
            self.created[key] = made
        if self.lose_answer:
            self.lose_answer -= 1
            raise OutcomeUnknownError(self.name, "POST", "/posts", idempotency_key=key)
        return made


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PlanDB]:
    async with plan_db(request.param, tmp_path) as plan:
        yield plan


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def nets() -> dict[str, KeyedAdapter]:
    return {"masto": KeyedAdapter("mastodon", max_text=60), "bird": KeyedAdapter("x", max_text=40)}


def planner_for(db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock, **kw: Any) -> Planner:
    return Planner(db, nets, clock=clock, **kw)


def runner_for(db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock, **kw: Any) -> Runner:
    return Runner(db, nets, clock=clock, retry_after=timedelta(seconds=10), **kw)


# -- planning -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_plan_db_closes_at_the_end_of_async_with(
    tmp_path: Path, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    path = tmp_path / "plan.db"
    async with SQLitePlanDB(path) as db:
        await planner_for(db, nets, clock).add(
            PlannedPost(post=Post(text="kept"), targets=["masto"], at=NOW + HOUR)
        )
    assert db._conn is None  # closed
    async with SQLitePlanDB(path) as again:
        [target] = await planner_for(again, nets, clock).calendar()
    assert target.post.text == "kept"


@pytest.mark.anyio
async def test_variants_per_network_and_label_and_thread_splitting(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    long = "One sentence here. " * 5  # 95 characters: two posts on X's 40, on Mastodon's 60
    targets = await planner.add(
        PlannedPost(
            post=Post(text=long),
            targets=["masto", "bird"],
            at=NOW + HOUR,
            texts={"x": "Short for X.", "masto": long},
            campaign="spring",
            tags=["Launch", " launch ", "Sale"],
        )
    )
    by = {t.account: t for t in targets}
    assert by["bird"].post.text == "Short for X."
    assert by["bird"].post.thread == []
    masto = by["masto"].post
    assert len(masto.thread) >= 1
    for part in masto.posts():
        assert len(part.text) <= 60
    assert masto.text.endswith(f"(1/{len(masto.posts())})")
    assert {t.status for t in targets} == {"planned"}
    assert by["masto"].tags == ["launch", "sale"]
    assert by["masto"].campaign == "spring"
    assert by["masto"].network == "mastodon"
    assert by["masto"].due_at == NOW + HOUR


@pytest.mark.anyio
async def test_check_refuses_at_planning_time_and_nothing_is_planned(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    too_long = "https://example.com/" + "a" * 80  # a URL is never cut: no thread can carry it
    with pytest.raises(PreflightError) as caught:
        await planner.add(
            PlannedPost(
                post=Post(text="fine"), targets=["masto", "bird"], at=NOW, texts={"bird": too_long}
            )
        )
    assert set(caught.value.by_account) == {"bird"}
    assert isinstance(caught.value, InvalidPostError)  # exit code 4 on the command line
    with pytest.raises(PreflightError) as unsplit:
        await planner.add(
            PlannedPost(post=Post(text="y " * 40), targets=["bird"], at=NOW, split=False)
        )
    assert unsplit.value.by_account["bird"][0].code == "text_too_long"
    assert await planner.calendar() == []


@pytest.mark.anyio
async def test_unknown_account_is_a_configuration_error(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    from socialkit import ConfigurationError

    planner = planner_for(db, nets, clock)
    with pytest.raises(ConfigurationError, match="'nope'"):
        await planner.add(PlannedPost(post=Post(text="hi"), targets=["nope"], at=NOW))


def grid(best: dict[tuple[int, int], float], tz: str = "UTC") -> TimeGrid:
    slots = [
        Slot(
            weekday=d,
            hour=h,
            posts=3 if (d, h) in best else 0,
            raw_mean=best.get((d, h)),
            estimate=best.get((d, h), 0.01),
            sd=0.01,
            confidence=0.5,
        )
        for d in range(7)
        for h in range(24)
    ]
    return TimeGrid(
        timezone=tz,
        rate=True,
        mean=0.01,
        within_variance=1.0,
        between_variance=1.0,
        prior_strength=1.0,
        slots=slots,
    )


@pytest.mark.anyio
async def test_next_best_slot_skips_taken_slots_by_the_rules(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    # Best: Tuesdays 18:00 in Paris (17:00 UTC in March), then Wednesdays 12:00.
    g = grid({(1, 18): 0.09, (2, 12): 0.05}, "Europe/Paris")
    planner = planner_for(db, nets, clock, rules=[CadenceRule(account="masto", max_per_day=1)])
    first = await planner.add(
        PlannedPost(post=Post(text="one"), targets=["masto"], best=BestSlot(default=g))
    )
    assert first[0].due_at == datetime(2026, 3, 3, 17, 0, tzinfo=timezone.utc)
    second = await planner.add(
        PlannedPost(post=Post(text="two"), targets=["masto"], best=BestSlot(grids={"masto": g}))
    )
    # Tuesday is full (max_per_day=1): the next best slot is Wednesday 12:00 Paris.
    assert second[0].due_at == datetime(2026, 3, 4, 11, 0, tzinfo=timezone.utc)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("tz", "best", "after", "expected", "local_hour"),
    [
        # Autumn, Paris (Sunday 2026-10-25): 03:00 CEST becomes 02:00 CET, so 02:00 comes
        # twice. From 02:30 CEST (00:30 UTC) the next hour is the second 02:00 (01:00 UTC).
        ("Europe/Paris", (6, 2), _utc(2026, 10, 25, 0, 30), _utc(2026, 10, 25, 1, 0), 2),
        # The same moment given as Paris time (the first 02:30, fold=0).
        (
            "Europe/Paris",
            (6, 2),
            datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
            _utc(2026, 10, 25, 1, 0),
            2,
        ),
        # Autumn, New York (Sunday 2026-11-01): 02:00 EDT becomes 01:00 EST; from 01:30 EDT
        # (05:30 UTC) the next hour is 01:00 EST (06:00 UTC).
        ("America/New_York", (6, 1), _utc(2026, 11, 1, 5, 30), _utc(2026, 11, 1, 6, 0), 1),
        # Spring, Paris (Sunday 2026-03-29): 02:00 CET becomes 03:00 CEST, so there is no
        # 02:00. The best-rated hour, 02:00, must not be proposed (nor rated in place of
        # 03:00): the best real hour, 04:00 CEST, is.
        ("Europe/Paris", (6, 2), _utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 2, 0), 4),
        # Spring, New York (Sunday 2026-03-08): no 02:00 either.
        ("America/New_York", (6, 2), _utc(2026, 3, 8, 6, 30), _utc(2026, 3, 8, 8, 0), 4),
    ],
)
async def test_the_best_slot_sees_each_real_hour_once_across_dst_changes(
    db: PlanDB,
    nets: dict[str, KeyedAdapter],
    clock: Clock,
    tz: str,
    best: tuple[int, int],
    after: datetime,
    expected: datetime,
    local_hour: int,
) -> None:
    """A window of three hours around the change: the repeated autumn hour is a slot of its
    own, the missing spring hour is no slot at all (each real hour rated by its own local
    hour; the grid's hour 4 is second best)."""
    day = best[0]
    g = grid({best: 0.09, (day, 4): 0.05}, tz)
    planner = planner_for(db, nets, clock)
    window = BestSlot(default=g, after=after, within=timedelta(hours=3))
    added = await planner.add(PlannedPost(post=Post(text="dst"), targets=["masto"], best=window))
    due = added[0].due_at
    assert due == expected
    assert due.astimezone(ZoneInfo(tz)).hour == local_hour


# -- rules --------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_cadence_conflicts_name_the_rule_and_the_other_post(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(
        db,
        nets,
        clock,
        rules=[
            CadenceRule(max_per_day=2, tz="Europe/Paris"),
            CadenceRule(account="bird", min_gap=2 * HOUR),
        ],
    )
    first = await planner.add(PlannedPost(post=Post(text="a"), targets=["bird"], at=NOW + HOUR))
    with pytest.raises(PlanConflictError) as gap:
        await planner.add(PlannedPost(post=Post(text="b"), targets=["bird"], at=NOW + 2 * HOUR))
    conflict = gap.value.conflicts[0]
    assert conflict.rule == "min_gap"
    assert conflict.other_post == first[0].post_id
    assert first[0].post_id in str(gap.value)
    await planner.add(PlannedPost(post=Post(text="c"), targets=["bird"], at=NOW + 4 * HOUR))
    with pytest.raises(PlanConflictError) as full:
        await planner.add(PlannedPost(post=Post(text="d"), targets=["bird"], at=NOW + 8 * HOUR))
    assert [c.rule for c in full.value.conflicts] == ["max_per_day"]
    assert "max_per_day=2" in str(full.value)
    # The other account has its own day; Masto is not bound by bird's gap.
    await planner.add(PlannedPost(post=Post(text="e"), targets=["masto"], at=NOW + 2 * HOUR))
    # The next local day (Paris) is free again: 23:30 UTC is 00:30 in Paris.
    await planner.add(
        PlannedPost(
            post=Post(text="f"),
            targets=["bird"],
            at=datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc),
        )
    )


@pytest.mark.anyio
async def test_cancelled_targets_free_their_slot(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock, rules=[CadenceRule(max_per_day=1)])
    first = await planner.add(PlannedPost(post=Post(text="a"), targets=["bird"], at=NOW + HOUR))
    with pytest.raises(PlanConflictError):
        await planner.add(PlannedPost(post=Post(text="b"), targets=["bird"], at=NOW + 3 * HOUR))
    await planner.cancel(first[0].post_id)
    await planner.add(PlannedPost(post=Post(text="b"), targets=["bird"], at=NOW + 3 * HOUR))


@pytest.mark.anyio
async def test_blackouts_one_off_and_daily(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    blackouts = [
        Blackout(reason="earnings call", start=NOW + 2 * HOUR, end=NOW + 4 * HOUR),
        Blackout(
            reason="night",
            account="masto",
            daily_from=time(22, 0),
            daily_to=time(7, 0),
            tz="Europe/Paris",
        ),
    ]
    planner = planner_for(db, nets, clock, blackouts=blackouts)
    with pytest.raises(PlanConflictError, match="earnings call") as caught:
        await planner.add(PlannedPost(post=Post(text="a"), targets=["bird"], at=NOW + 3 * HOUR))
    assert caught.value.conflicts[0].rule == "blackout"
    night = datetime(2026, 3, 3, 5, 30, tzinfo=timezone.utc)  # 06:30 in Paris
    with pytest.raises(PlanConflictError, match="night"):
        await planner.add(PlannedPost(post=Post(text="b"), targets=["masto"], at=night))
    await planner.add(PlannedPost(post=Post(text="b"), targets=["bird"], at=night))
    await planner.add(PlannedPost(post=Post(text="c"), targets=["masto"], at=night + 2 * HOUR))


def test_rules_are_validated() -> None:
    from socialkit import ValidationError

    with pytest.raises(ValueError, match="positive"):
        CadenceRule(min_gap=timedelta(0))
    with pytest.raises(ValidationError, match="time zone"):
        CadenceRule(tz="Mars/Olympus")
    with pytest.raises(ValidationError, match="time zone"):  # a folder of zones: OSError
        Blackout(daily_from=time(1), daily_to=time(2), tz="America")
    with pytest.raises(ValueError, match="start < end"):
        Blackout(start=NOW, end=NOW)
    with pytest.raises(ValueError, match="either"):
        Blackout(start=NOW, end=NOW + HOUR, daily_from=time(1), daily_to=time(2))
    with pytest.raises(ValueError, match="timezone-aware"):
        PlannedPost(post=Post(text="a"), targets=["x"], at=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="either at"):
        PlannedPost(post=Post(text="a"), targets=["x"])


# -- the calendar, edit, move, cancel -----------------------------------------------------------


@pytest.mark.anyio
async def test_calendar_queries(db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock) -> None:
    planner = planner_for(db, nets, clock)
    await planner.add(
        PlannedPost(
            post=Post(text="mon"),
            targets=["masto", "bird"],
            at=NOW + HOUR,
            campaign="a",
            tags=["x1"],
        )
    )
    await planner.add(
        PlannedPost(
            post=Post(text="tue"), targets=["masto"], at=NOW + 26 * HOUR, campaign="b", tags=["x2"]
        )
    )
    await planner.add(
        PlannedPost(
            post=Post(text="next week"), targets=["bird"], at=NOW + 7 * 24 * HOUR, tags=["x1"]
        )
    )
    assert len(await planner.calendar()) == 4
    monday = await planner.calendar(day=date(2026, 3, 2))
    assert [t.post.text for t in monday] == ["mon", "mon"]
    assert {t.post.text for t in await planner.calendar(week=date(2026, 3, 5))} == {"mon", "tue"}
    assert [t.post.text for t in await planner.calendar(account="bird")] == ["mon", "next week"]
    assert [t.post.text for t in await planner.calendar(campaign="b")] == ["tue"]
    assert {t.post.text for t in await planner.calendar(tag="X1")} == {"mon", "next week"}
    assert len(await planner.calendar(status="planned")) == 4
    assert await planner.calendar(status=["published", "failed"]) == []
    # A day in another time zone: 08:00 UTC Monday is Monday evening in Tokyo.
    assert len(await planner.calendar(day=date(2026, 3, 2), tz="Asia/Tokyo")) == 2


@pytest.mark.anyio
async def test_edit_move_cancel_until_claimed(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock, rules=[CadenceRule(min_gap=HOUR)])
    targets = await planner.add(
        PlannedPost(post=Post(text="draft"), targets=["masto", "bird"], at=NOW + HOUR)
    )
    post_id = targets[0].post_id
    edited = await planner.edit(post_id, text="final words", tags=["Final"], campaign="c")
    assert {t.post.text for t in edited} == {"final words"}
    assert {tuple(t.tags) for t in edited} == {("final",)}
    with pytest.raises(PreflightError):
        await planner.edit(post_id, text="https://example.com/" + "z" * 70)  # fits neither
    other = await planner.add(
        PlannedPost(post=Post(text="other"), targets=["bird"], at=NOW + 5 * HOUR)
    )
    with pytest.raises(PlanConflictError) as caught:
        await planner.move(post_id, NOW + 5 * HOUR + HOUR / 2)
    assert caught.value.conflicts[0].other_post == other[0].post_id
    moved = await planner.move(post_id, NOW + 3 * HOUR)
    assert {t.due_at for t in moved} == {NOW + 3 * HOUR}
    # Claimed: it cannot be moved, edited or cancelled any more.
    clock.now = NOW + 3 * HOUR
    runner = runner_for(db, nets, clock)
    claimed = await runner.claim()
    assert claimed is not None
    with pytest.raises(PlanStateError, match="claimed"):
        await planner.move(claimed.id, NOW + 9 * HOUR)
    with pytest.raises(PlanStateError, match="claimed"):
        await planner.cancel(claimed.post_id)
    with pytest.raises(PlanStateError, match="claimed"):
        await planner.edit(claimed.id, text="late")
    # The other target of the post can still go.
    rest = next(t for t in moved if t.id != claimed.id)
    cancelled = await planner.cancel(rest.id)
    assert [t.status for t in cancelled] == ["cancelled"]
    assert [e.status for e in await planner.events(rest.id)] == [
        "planned",
        "planned",
        "planned",
        "cancelled",
    ]
    with pytest.raises(PlanStateError):
        await planner.targets("no-such-id")


# -- the runner ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_runner_publishes_due_targets_once_with_their_key(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    now_targets = await planner.add(
        PlannedPost(post=Post(text="now"), targets=["masto", "bird"], at=NOW)
    )
    await planner.add(PlannedPost(post=Post(text="later"), targets=["masto"], at=NOW + HOUR))
    runner = runner_for(db, nets, clock)
    outcomes = await runner.run_once()
    assert sorted(o.status for o in outcomes) == ["published", "published"]
    for target in now_targets:
        done = await planner.target(target.id)
        assert done.status == "published"
        net = nets[target.account]
        assert net.requests == [target.idempotency_key]
        assert done.published_id == net.created[target.idempotency_key].id
        assert done.url == net.created[target.idempotency_key].url
        events = await planner.events(target.id)
        assert [e.status for e in events] == ["planned", "claimed", "published"]
        assert events[1].worker == runner.worker
        assert all(e.at == NOW for e in events)
    assert await runner.run_once() == []  # "later" is not due
    clock.now = NOW + HOUR
    assert [o.status for o in await runner.run_once()] == ["published"]
    assert (await planner.counts())["published"] == 3


@pytest.mark.anyio
async def test_new_id_makes_the_ids_and_so_the_idempotency_keys(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    """A seeded id source makes a simulation reproducible (the demo): the ids, and the keys the
    networks receive, come from it."""
    counter = iter(range(1, 100))
    planner = planner_for(db, nets, clock, new_id=lambda: f"sim-{next(counter)}")
    targets = await planner.add(
        PlannedPost(post=Post(text="now"), targets=["masto", "bird"], at=NOW)
    )
    assert [t.post_id for t in targets] == ["sim-1", "sim-1"]
    assert [t.id for t in targets] == ["sim-2", "sim-3"]
    await runner_for(db, nets, clock).run_once()
    assert nets["masto"].requests == ["plan-sim-2"]
    assert nets["bird"].requests == ["plan-sim-3"]


@pytest.mark.anyio
async def test_a_dead_workers_claim_expires_and_the_same_key_prevents_a_duplicate(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    [target] = await planner.add(PlannedPost(post=Post(text="once"), targets=["bird"], at=NOW))
    dead = runner_for(db, nets, clock, lease=timedelta(minutes=5))
    claimed = await dead.claim()
    assert claimed is not None
    # The dead worker's create reached the network; then the process died (no outcome).
    await nets["bird"].publish(claimed.post, idempotency_key=claimed.idempotency_key)
    other = runner_for(db, nets, clock)
    assert await other.claim() is None  # the lease still holds
    clock.now = NOW + timedelta(minutes=5, seconds=1)
    [outcome] = await other.run_once()
    assert outcome.status == "published"
    assert len(nets["bird"].created) == 1  # the same key: the network returned the first post
    assert nets["bird"].requests == [target.idempotency_key] * 2
    done = await planner.target(target.id)
    assert done.attempts == 2
    assert done.published_id == "x-1"
    # The dead worker's late outcome cannot overwrite (its claim token is stale).
    late = await dead._finish(claimed, "failed", error=RuntimeError("late"))
    assert late.fenced is False
    assert (await planner.target(target.id)).status == "published"


@pytest.mark.anyio
async def test_failures_retries_and_unknown_outcomes(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    bird = nets["bird"]
    [refused] = await planner.add(PlannedPost(post=Post(text="refused"), targets=["bird"], at=NOW))
    runner = runner_for(db, nets, clock, max_attempts=2, max_unknown=2)
    bird.fail = [InvalidRequestError("x", 422, "bad", "the network refused it")]
    [outcome] = await runner.run_once()
    assert outcome.status == "failed"
    failed = await planner.target(refused.id)
    assert failed.error_type == "InvalidRequestError"
    assert "refused" in (failed.error or "")

    await planner.add(PlannedPost(post=Post(text="limited"), targets=["bird"], at=NOW))
    bird.fail = [RateLimitError("x", 429, "rate", "slow down", retry_after=60.0)]
    [outcome] = await runner.run_once()
    assert outcome.status == "planned"  # tried again later, not now
    assert await runner.run_once() == []
    clock.now = NOW + timedelta(seconds=61)
    [outcome] = await runner.run_once()
    assert outcome.status == "published"

    [lost] = await planner.add(PlannedPost(post=Post(text="lost"), targets=["bird"], at=clock.now))
    before = len(bird.created)
    bird.lose_answer = 1
    [outcome] = await runner.run_once()
    assert outcome.status == "planned"  # reconciled next time, under the same key
    clock.now += timedelta(seconds=11)
    [outcome] = await runner.run_once()
    assert outcome.status == "published"
    assert len(bird.created) == before + 1  # created once, found again under its key
    assert bird.requests[-2:] == [lost.idempotency_key] * 2

    [unknown] = await planner.add(
        PlannedPost(post=Post(text="unknown"), targets=["bird"], at=clock.now)
    )
    bird.fail = [
        OutcomeUnknownError("x", "POST", "/2/tweets", idempotency_key=unknown.idempotency_key),
        OutcomeUnknownError("x", "POST", "/2/tweets", idempotency_key=unknown.idempotency_key),
    ]
    await runner.run_once()
    clock.now += timedelta(minutes=1)
    [outcome] = await runner.run_once()
    assert outcome.status == "needs_attention"
    held = await planner.target(unknown.id)
    assert held.error_type == "OutcomeUnknownError"
    clock.now += timedelta(hours=1)
    assert await runner.run_once() == []  # a person decides: never sent again by itself
    resolved = await planner.resolve(unknown.id, post_id="x-found", url="https://x.example/p/f")
    assert resolved.status == "published"
    with pytest.raises(PlanStateError):
        await planner.resolve(unknown.id)


@pytest.mark.anyio
async def test_transitions_are_idempotent(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    [target] = await planner.add(PlannedPost(post=Post(text="t"), targets=["masto"], at=NOW))
    runner = runner_for(db, nets, clock)
    claimed = await runner.claim()
    assert claimed is not None
    token = runner._tokens[claimed.id]
    first = await runner._finish(claimed, "published")
    runner._tokens[claimed.id] = token  # the same outcome written twice
    second = await runner._finish(claimed, "published")
    assert (first.fenced, second.fenced) == (True, False)
    assert [e.status for e in await planner.events(target.id)] == [
        "planned",
        "claimed",
        "published",
    ]
    with pytest.raises(PlanStateError):
        await planner.cancel(target.id)


# -- crisis pause -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_pause_holds_targets_until_a_person_resumes(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    await planner.add(PlannedPost(post=Post(text="a"), targets=["masto", "bird"], at=NOW))
    runner = runner_for(db, nets, clock)
    pause = await planner.pause("bird", reason="a reply storm", source="ops")
    assert pause.scope == "bird"
    again = await planner.pause("bird", reason="second thoughts")
    assert again.reason == "a reply storm"  # idempotent: the first pause stays
    [outcome] = await runner.run_once()
    assert outcome.target.account == "masto"
    [held] = await planner.calendar(account="bird")
    assert held.status == "planned"
    assert held.paused
    assert (await planner.counts())["paused"] == 1
    await planner.pause(reason="brand crisis")
    await planner.resume("bird")
    assert await runner.run_once() == []  # the brand-wide pause still holds
    assert [p.scope for p in await planner.pauses()] == ["*"]
    assert await planner.resume() is True
    assert await planner.resume() is False
    [outcome] = await runner.run_once()
    assert outcome.status == "published"
    assert nets["bird"].requests == [outcome.target.idempotency_key]


@pytest.mark.anyio
async def test_a_bad_buzz_alert_pauses_the_affected_targets(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    """The alert workflow's planted burst (as in test_alerts.py): 44 calm hours, then two hours
    of angry mentions. The monitor's alert pauses bird; posts planned after the burst wait."""
    source = FakeAdapter("x", "main")
    for i in range(44):
        at = T0 + i * HOUR
        source.public.append(post(f"a{i}", "acme works fine", at=at))
        source.public.append(post(f"b{i}", "using acme today", at=at + timedelta(minutes=30)))
    for hour in (44, 45):
        for j in range(15):
            source.public.append(
                post(
                    f"n{hour}-{j}",
                    "acme is down again, terrible service",
                    at=T0 + hour * HOUR + timedelta(minutes=3 * j),
                    metrics={"likes": j, "reposts": 1},
                )
            )
    watch_clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    listening = Listening(
        [source],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=MemoryStore(),
        scorer=LexiconScorer(),
        initial_limit=None,
        clock=watch_clock,
    )
    await listening.poll()
    planner = planner_for(db, nets, clock)
    planned = await planner.add(
        PlannedPost(post=Post(text="after the burst"), targets=["masto", "bird"], at=NOW)
    )
    monitor = BuzzMonitor(listening, config=DetectorConfig(min_history=24), clock=watch_clock)
    monitor.subscribe(pause_on_alert(planner, accounts={"acme": ["bird"]}))
    fired = await monitor.check()
    assert fired
    assert all(is_bad_buzz(a) for a in fired)
    [pause] = await planner.pauses()
    assert pause.scope == "bird"
    assert pause.source == fired[0].key
    assert "acme" in pause.reason
    outcomes = await runner_for(db, nets, clock).run_once()
    assert [o.target.account for o in outcomes] == ["masto"]
    held = [t for t in await planner.calendar() if t.account == "bird"]
    assert [(t.status, t.paused) for t in held] == [("planned", True)]
    assert nets["bird"].requests == []  # nothing sent during the pause
    assert {t.id for t in planned} >= {held[0].id}


@pytest.mark.anyio
async def test_only_bad_buzz_pauses(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    planner = planner_for(db, nets, clock)
    callback = pause_on_alert(planner)
    good: Any = types.SimpleNamespace(
        polarity="positive", watch="acme", message="praise", key="acme:positive"
    )
    assert not is_bad_buzz(good)
    await callback(good)
    assert await planner.pauses() == []
    bad: Any = types.SimpleNamespace(
        polarity="negative", watch="acme", message="anger", key="acme:negative"
    )
    await callback(bad)
    assert [p.scope for p in await planner.pauses()] == ["*"]


# -- concurrency --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_concurrent_runners_claim_each_target_once(
    db: PlanDB, nets: dict[str, KeyedAdapter], clock: Clock
) -> None:
    import asyncio

    planner = planner_for(db, nets, clock)
    for i in range(30):
        await planner.add(PlannedPost(post=Post(text=f"p{i}"), targets=["masto", "bird"], at=NOW))
    # Separate connections, as separate processes would have.
    if isinstance(db, SQLitePlanDB):
        others: list[PlanDB] = [SQLitePlanDB(db.path) for _ in range(3)]
    else:
        others = [PostgresPlanDB(POSTGRES_DSN, prefix=db.prefix) for _ in range(3)]
    try:
        runners = [runner_for(o, nets, clock, concurrency=3) for o in others]
        results = await asyncio.gather(*(r.run_once() for r in runners))
    finally:
        for o in others:
            await o.aclose()
    ids = [o.target.id for outcomes in results for o in outcomes]
    assert len(ids) == 60
    assert len(set(ids)) == 60
    for net in nets.values():
        assert len(net.requests) == 30
        assert len(set(net.requests)) == 30
