"""Native scheduling through the planner, against FakeMastodon and the real MastodonAdapter:
the post is handed to Mastodon's scheduler (``scheduled_at``), and moves, cancels and crisis
pauses are kept in step on the network (``/api/v1/scheduled_statuses``); the same against
FakeFacebook and the real FacebookAdapter (``scheduled_publish_time``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from socialkit import Post
from socialkit.testing.fakes import FakeFacebook, FakeMastodon
from socialkit.workflows.planner import (
    PlannedPost,
    Planner,
    PreflightError,
    Runner,
    SQLitePlanDB,
)


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
