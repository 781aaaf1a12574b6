"""Native scheduling through the planner, against FakeMastodon and the real MastodonAdapter:
the post is handed to Mastodon's scheduler (``scheduled_at``), and moves, cancels and crisis
pauses are kept in step on the network (``/api/v1/scheduled_statuses``); the same against
FakeFacebook and the real FacebookAdapter (``scheduled_publish_time``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from planner_support import POSTGRES_DSN, plan_db

from socialkit import APIError, Media, Post, ServerError
from socialkit.testing.conformance import MP4_HEAD, PNG_1X1
from socialkit.testing.fakes import FakeClock, FakeFacebook, FakeMastodon, FakeYouTube
from socialkit.workflows.planner import (
    PlanDB,
    PlannedPost,
    Planner,
    PlanStateError,
    PostgresPlanDB,
    PreflightError,
    Runner,
    SQLitePlanDB,
    Target,
)
from socialkit.workflows.planner._settle import SETTLE_AFTER


@asynccontextmanager
async def planned_world(tmp_path: Path, fake: Any, label: str) -> AsyncIterator[dict[str, Any]]:
    """A fake network, the real adapter on it under ``label``, a planner and a runner."""
    db = SQLitePlanDB(tmp_path / "plan.db")
    async with fake.connect(retry_wait=False) as adapter:
        yield {
            "fake": fake,
            label: adapter,
            "planner": Planner(db, {label: adapter}),
            "runner": Runner(db, {label: adapter}, retry_after=timedelta(seconds=1)),
        }
    await db.aclose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async with planned_world(tmp_path, FakeMastodon(), "masto") as found:
        yield found


async def scheduled_on_network(masto: Any) -> list[Post]:
    return [p async for p in masto.ex_scheduled()]


@pytest.mark.anyio
async def test_native_schedule_move_cancel_in_step(world: dict[str, Any]) -> None:
    planner: Planner = world["planner"]
    runner: Runner = world["runner"]
    masto = world["masto"]
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    [target] = await planner.add(
        PlannedPost(post=Post(text="held by Mastodon"), targets=["masto"], at=at, native=True)
    )
    assert target.native
    [outcome] = await runner.run_once()  # handed over now, hours ahead
    assert outcome.status == "scheduled"
    on_network = await scheduled_on_network(masto)
    assert [p.scheduled_at for p in on_network] == [at]
    handed = await planner.target(target.id)
    assert handed.status == "scheduled"
    assert handed.published_id == on_network[0].id

    later = at + timedelta(hours=1)
    await planner.move(target.id, later)
    assert [p.scheduled_at for p in await scheduled_on_network(masto)] == [later]
    assert (await planner.target(target.id)).due_at == later

    [cancelled] = await planner.cancel(target.post_id)
    assert cancelled.status == "cancelled"
    assert await scheduled_on_network(masto) == []
    assert await runner.run_once() == []


@pytest.mark.anyio
async def test_a_pause_takes_native_schedules_back_and_resume_hands_them_again(
    world: dict[str, Any],
) -> None:
    planner: Planner = world["planner"]
    runner: Runner = world["runner"]
    masto = world["masto"]
    at = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    [target] = await planner.add(
        PlannedPost(post=Post(text="not during a crisis"), targets=["masto"], at=at, native=True)
    )
    await runner.run_once()
    assert len(await scheduled_on_network(masto)) == 1
    await planner.pause(reason="bad buzz")
    assert await scheduled_on_network(masto) == []  # Mastodon will not publish it by itself
    held = await planner.target(target.id)
    assert (held.status, held.paused) == ("planned", True)
    assert await runner.run_once() == []
    await planner.resume()
    [outcome] = await runner.run_once()
    assert outcome.status == "scheduled"
    assert [p.scheduled_at for p in await scheduled_on_network(masto)] == [at]
    statuses = [e.status for e in await planner.events(target.id)]
    assert statuses == ["planned", "claimed", "scheduled", "planned", "claimed", "scheduled"]


@pytest.mark.anyio
async def test_native_is_ignored_where_the_network_cannot_schedule_or_it_is_too_soon(
    world: dict[str, Any],
) -> None:
    planner: Planner = world["planner"]
    runner: Runner = world["runner"]
    soon = datetime.now(timezone.utc) - timedelta(seconds=1)
    [target] = await planner.add(
        PlannedPost(post=Post(text="right now"), targets=["masto"], at=soon, native=True)
    )
    assert not target.native  # due in less than NATIVE_LEAD: published when due
    [outcome] = await runner.run_once()
    assert outcome.status == "published"
    assert outcome.post is not None
    assert outcome.post.url


@pytest.fixture
async def fb_world(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    async with planned_world(tmp_path, FakeFacebook(), "page") as found:
        yield found


async def facebook_schedule(page: Any) -> dict[str, datetime | None]:
    return {p.id: p.scheduled_at async for p in page.ex_scheduled_posts()}


@pytest.mark.anyio
async def test_facebook_native_schedule_move_cancel_and_pause_in_step(
    fb_world: dict[str, Any],
) -> None:
    """Facebook's ``scheduled_publish_time``: handed over by the runner, moved with
    ``ex_reschedule``, taken back by a pause and by a cancel (``ex_cancel_scheduled``)."""
    planner: Planner = fb_world["planner"]
    runner: Runner = fb_world["runner"]
    page = fb_world["page"]
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    [target] = await planner.add(
        PlannedPost(post=Post(text="held by Facebook"), targets=["page"], at=at, native=True)
    )
    [outcome] = await runner.run_once()
    assert outcome.status == "scheduled"
    handed = await planner.target(target.id)
    assert await facebook_schedule(page) == {handed.published_id: at}
    assert [p async for p in page.posts()] == []  # not on the Page yet

    later = at + timedelta(days=1)
    await planner.move(target.id, later)
    assert await facebook_schedule(page) == {handed.published_id: later}
    assert (await planner.target(target.id)).due_at == later

    await planner.pause(reason="bad buzz")
    assert await facebook_schedule(page) == {}
    await planner.resume()
    [again] = await runner.run_once()
    assert again.status == "scheduled"
    [rescheduled] = (await facebook_schedule(page)).items()
    assert rescheduled[1] == later

    [cancelled] = await planner.cancel(target.post_id)
    assert cancelled.status == "cancelled"
    assert await facebook_schedule(page) == {}
    assert fb_world["fake"].calls.count(("POST", f"/{fb_world['fake'].owner.id}/feed")) == 2


@pytest.mark.anyio
async def test_a_native_facebook_target_is_not_moved_beyond_75_days(
    fb_world: dict[str, Any],
) -> None:
    planner: Planner = fb_world["planner"]
    runner: Runner = fb_world["runner"]
    page = fb_world["page"]
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    [target] = await planner.add(
        PlannedPost(post=Post(text="not that far"), targets=["page"], at=at, native=True)
    )
    with pytest.raises(PreflightError, match="75 days"):
        await planner.move(target.id, at + timedelta(days=80))
    assert (await planner.target(target.id)).due_at == at  # planned, not moved
    await runner.run_once()
    with pytest.raises(PreflightError, match="75 days"):
        await planner.move(target.id, at + timedelta(days=80))
    handed = await planner.target(target.id)
    assert (handed.status, handed.due_at) == ("scheduled", at)
    assert await facebook_schedule(page) == {handed.published_id: at}


# -- settling: what became of a scheduled post after its time ------------------------------------
#
# The networks' fakes publish a scheduled post when their clock passes its time (Mastodon's
# scheduled status becomes a status of its own id; Facebook's post and YouTube's video keep
# theirs). The planner and the runner read the same FakeClock; every test runs on SQLite and
# on the real PostgreSQL.

FAKES: dict[str, Callable[..., Any]] = {
    "mastodon": FakeMastodon,
    "facebook": FakeFacebook,
    "youtube": FakeYouTube,
}


def native_post(network: str, text: str) -> Post:
    if network == "youtube":  # YouTube schedules videos
        return Post(text=text, media=[Media.from_bytes(MP4_HEAD + bytes(2048))])
    return Post(text=text)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PlanDB]:
    async with plan_db(request.param, tmp_path) as plan:
        yield plan


@asynccontextmanager
async def clocked_world(db: PlanDB, network: str) -> AsyncIterator[dict[str, Any]]:
    clock = FakeClock()
    fake = FAKES[network](clock=clock)
    async with fake.connect(retry_wait=False) as adapter:
        yield {
            "fake": fake,
            "net": adapter,
            "clock": clock,
            "planner": Planner(db, {"acct": adapter}, clock=clock.now),
            "runner": Runner(db, {"acct": adapter}, clock=clock.now, worker="w1"),
        }


@pytest.fixture(params=sorted(FAKES))
async def settled_world(
    request: pytest.FixtureRequest, db: PlanDB
) -> AsyncIterator[dict[str, Any]]:
    async with clocked_world(db, request.param) as found:
        found["network"] = request.param
        yield found


async def handed_over(world: dict[str, Any], text: str = "goes out by itself") -> Target:
    """A native target two hours ahead, handed to the network by the runner."""
    at = (world["clock"].now() + timedelta(hours=2)).replace(microsecond=0)
    [target] = await world["planner"].add(
        PlannedPost(
            post=native_post(world.get("network", "mastodon"), text),
            targets=["acct"],
            at=at,
            native=True,
        )
    )
    [outcome] = await world["runner"].run_once()
    assert outcome.status == "scheduled"
    handed: Target = await world["planner"].target(target.id)
    return handed


@pytest.mark.anyio
async def test_a_scheduled_target_is_settled_published_with_its_final_id(
    settled_world: dict[str, Any],
) -> None:
    planner: Planner = settled_world["planner"]
    runner: Runner = settled_world["runner"]
    clock: FakeClock = settled_world["clock"]
    target = await handed_over(settled_world)
    scheduled_id = target.published_id
    assert runner.settle_after == SETTLE_AFTER
    clock.set(target.due_at + SETTLE_AFTER / 2)
    assert await runner.run_once() == []  # not asked before its time and the margin
    clock.set(target.due_at + SETTLE_AFTER + timedelta(seconds=5))
    [outcome] = await runner.run_once()
    assert outcome.status == "published"
    assert outcome.post is not None
    done = await planner.target(target.id)
    assert done.status == "published"
    assert done.url
    assert done.published_id == outcome.post.id
    if settled_world["network"] == "mastodon":  # the status has an id of its own
        assert done.published_id != scheduled_id
        assert (await settled_world["net"].get_post(done.published_id)).text == done.post.text
    else:
        assert done.published_id == scheduled_id
    events = await planner.events(target.id)
    assert [e.status for e in events] == ["planned", "claimed", "scheduled", "published"]
    assert events[-1].at == clock.now()
    assert events[-1].detail == done.url
    # Idempotent: nothing left to settle, for this worker or another one.
    other = Runner(planner.db, {"acct": settled_world["net"]}, clock=clock.now, worker="w2")
    assert await runner.run_once() == []
    assert await other.run_once() == []
    assert await runner.pending() == 0


@pytest.mark.anyio
async def test_scheduled_posts_of_the_same_text_settle_to_their_own_statuses(
    db: PlanDB, tmp_path: Path
) -> None:
    """Two Mastodon targets with the same caption and different pictures, due at the same
    time: each settles to the status its own scheduled status became. The runner keeps the
    attachment ids Mastodon gave when scheduling (by the text and the number of attachments,
    both targets matched the same status)."""
    async with clocked_world(db, "mastodon") as world:
        planner: Planner = world["planner"]
        runner: Runner = world["runner"]
        clock: FakeClock = world["clock"]
        at = (clock.now() + timedelta(hours=2)).replace(microsecond=0)
        targets = []
        for alt in ("one", "two"):
            (tmp_path / f"{alt}.png").write_bytes(PNG_1X1)
            picture = Media.from_path(tmp_path / f"{alt}.png", alt=alt)
            [target] = await planner.add(
                PlannedPost(
                    post=Post(text="today's picture", media=[picture]),
                    targets=["acct"],
                    at=at,
                    native=True,
                )
            )
            targets.append(target)
        assert sorted(o.status for o in await runner.run_once()) == ["scheduled", "scheduled"]
        clock.set(at + SETTLE_AFTER + timedelta(seconds=5))
        outcomes = {o.target.id: o for o in await runner.run_once()}
        published = []
        for target, alt in zip(targets, ("one", "two"), strict=True):
            outcome = outcomes[target.id]
            assert outcome.status == "published"
            assert outcome.post is not None
            assert [m.alt for m in outcome.post.media] == [alt]
            kept = await planner.target(target.id)
            published.append(kept.published_id)
            assert kept.post.media[0].id  # the id Mastodon gave the attachment
            assert kept.post.media[0].path == tmp_path / f"{alt}.png"  # the picture, as planned
        assert published[0] != published[1]


@pytest.mark.anyio
async def test_a_scheduled_post_the_network_no_longer_has_fails(
    settled_world: dict[str, Any],
) -> None:
    target = await handed_over(settled_world)
    await settled_world["net"].ex_cancel_scheduled(target.published_id)  # by hand, on the network
    settled_world["clock"].set(target.due_at + timedelta(minutes=5))
    [outcome] = await settled_world["runner"].run_once()
    assert outcome.status == "failed"
    failed = await settled_world["planner"].target(target.id)
    assert failed.status == "failed"
    assert failed.error is not None
    assert "no longer has" in failed.error


@pytest.mark.anyio
async def test_cancel_or_move_after_it_went_live_names_it(
    settled_world: dict[str, Any],
) -> None:
    planner: Planner = settled_world["planner"]
    target = await handed_over(settled_world)
    settled_world["clock"].set(target.due_at + timedelta(seconds=10))  # before any worker
    with pytest.raises(PlanStateError, match="went live on the network"):
        await planner.cancel(target.post_id)
    live = await planner.target(target.id)
    assert live.status == "published"
    assert live.url
    with pytest.raises(PlanStateError, match=re.escape(f"went live on the network: {live.url}")):
        await planner.move(target.id, live.due_at + timedelta(days=1))
    assert [e.status for e in await planner.events(target.id)][-1] == "published"
    settled_world["clock"].advance(minutes=5)
    assert await settled_world["runner"].run_once() == []


@pytest.mark.anyio
async def test_a_post_the_network_still_holds_is_asked_again_later(db: PlanDB) -> None:
    """Mastodon's scheduler runs late: the target stays ``scheduled`` and is asked again
    later (``retry_after``, or half the time since its time when longer: here 2 minutes late,
    a minute later)."""
    async with clocked_world(db, "mastodon") as world:
        late = FakeClock(world["clock"].now())  # the workers' clock, ahead of the network's
        runner = Runner(
            db, {"acct": world["net"]}, clock=late.now, retry_after=timedelta(seconds=30)
        )
        target = await handed_over(world)
        late.set(target.due_at + timedelta(minutes=2))
        [held] = await runner.run_once()
        assert (held.status, held.fenced) == ("scheduled", True)
        late.advance(seconds=31)
        assert await runner.run_once() == []  # retry_after has passed, half the delay not yet
        assert await runner.pending() == 1
        late.advance(seconds=30)
        [again] = await runner.run_once()
        assert again.status == "scheduled"
        still = await world["planner"].target(target.id)
        assert (still.status, still.published_id, still.claimed_by) == (
            "scheduled",
            target.published_id,
            None,
        )
        world["clock"].set(target.due_at + timedelta(minutes=1))
        late.advance(seconds=91)
        [done] = await runner.run_once()
        assert done.status == "published"
        statuses = [e.status for e in await world["planner"].events(target.id)]
        assert statuses == ["planned", "claimed", "scheduled", "published"]


@pytest.mark.anyio
async def test_a_post_held_past_settle_within_needs_a_person(db: PlanDB) -> None:
    """The questions thin out (at most one an hour) and stop ``settle_within`` after the
    post's time: a post the network keeps holding needs a person."""
    async with clocked_world(db, "mastodon") as world:
        workers = FakeClock(world["clock"].now())  # the network's scheduler never catches up
        runner = Runner(
            db,
            {"acct": world["net"]},
            clock=workers.now,
            retry_after=timedelta(seconds=30),
            settle_within=timedelta(hours=6),
        )
        target = await handed_over(world)
        workers.set(target.due_at + timedelta(minutes=2))
        asked = 0
        while True:
            found = await runner.run_once()
            if found:
                asked += 1
                if found[0].status != "scheduled":
                    break
            workers.advance(seconds=30)
        assert found[0].status == "needs_attention"
        assert workers.now() - target.due_at >= timedelta(hours=6)
        assert asked <= 15  # about 30 a minute at retry_after alone
        stuck = await world["planner"].target(target.id)
        assert stuck.status == "needs_attention"
        assert stuck.error is not None
        assert f"still holds the scheduled post {target.published_id}" in stuck.error
    with pytest.raises(ValueError, match="settle_within"):
        Runner(db, {}, settle_within=timedelta(seconds=30))


@pytest.mark.anyio
async def test_two_workers_settle_a_target_once(db: PlanDB, tmp_path: Path) -> None:
    async with clocked_world(db, "mastodon") as world:
        target = await handed_over(world)
        world["clock"].set(target.due_at + timedelta(minutes=2))
        if isinstance(db, SQLitePlanDB):
            other_db: PlanDB = SQLitePlanDB(db.path)
        else:
            other_db = PostgresPlanDB(POSTGRES_DSN, prefix=db.prefix)
        try:
            runners = [
                world["runner"],
                Runner(other_db, {"acct": world["net"]}, clock=world["clock"].now, worker="w2"),
            ]
            results = await asyncio.gather(*(r.run_once() for r in runners))
        finally:
            await other_db.aclose()
        outcomes = [o for found in results for o in found]
        assert [o.status for o in outcomes] == ["published"]
        statuses = [e.status for e in await world["planner"].events(target.id)]
        assert statuses.count("published") == 1


@pytest.mark.anyio
async def test_settling_errors_wait_or_need_attention(
    db: PlanDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server error leaves the target ``scheduled`` (asked again later); an answer that
    cannot be read needs a person."""
    async with clocked_world(db, "mastodon") as world:
        runner: Runner = world["runner"]
        target = await handed_over(world)
        world["clock"].set(target.due_at + timedelta(minutes=2))
        answers: list[BaseException] = [
            ServerError("mastodon", 503, "unavailable", "try later"),
            APIError("mastodon", 422, "unprocessable", "no idea"),
        ]

        async def failing(scheduled: Post) -> Post | None:
            raise answers.pop(0)

        monkeypatch.setattr(world["net"], "ex_scheduled_outcome", failing)
        [waiting] = await runner.run_once()
        assert waiting.status == "scheduled"
        assert isinstance(waiting.error, ServerError)
        world["clock"].advance(timedelta(minutes=1, seconds=1))  # half the two minutes late
        [stuck] = await runner.run_once()
        assert stuck.status == "needs_attention"
        needs = await world["planner"].target(target.id)
        assert needs.status == "needs_attention"
        assert needs.error_type == "APIError"


@pytest.mark.anyio
async def test_a_native_target_taken_over_too_close_to_its_time_is_not_published_early(
    db: PlanDB,
) -> None:
    # A worker claims a native target to hand it to Mastodon's scheduler and dies; its lease
    # expires when the target is due in less than NATIVE_LEAD. The worker that takes it over
    # must not publish it right away (minutes early): it waits for its time.
    async with clocked_world(db, "mastodon") as world:
        clock: FakeClock = world["clock"]
        planner: Planner = world["planner"]
        at = (clock.now() + timedelta(minutes=20)).replace(microsecond=0)
        [target] = await planner.add(
            PlannedPost(post=Post(text="at its time"), targets=["acct"], at=at, native=True)
        )
        assert target.native
        dead = Runner(db, {"acct": world["net"]}, clock=clock.now, worker="dead")
        assert await dead.claim() is not None  # ... and the worker dies here
        clock.set(at - timedelta(minutes=10))  # the lease (5 min) has expired
        runner: Runner = world["runner"]
        outcomes = await runner.run_once()
        assert [o.status for o in outcomes] == ["planned"]
        assert [p async for p in world["net"].posts()] == []
        assert await scheduled_on_network(world["net"]) == []
        assert (await planner.target(target.id)).status == "planned"
        clock.set(at - timedelta(seconds=1))
        assert await runner.run_once() == []  # not before its time
        clock.set(at)
        [outcome] = await runner.run_once()
        assert outcome.status == "published"
        assert len([p async for p in world["net"].posts()]) == 1
