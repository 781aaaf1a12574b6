"""Native scheduling through the planner (issue 17's calls) against FakeYouTube and the real
YouTubeAdapter: the video is uploaded private with ``publishAt``; moves, cancels and crisis
pauses are kept in step on YouTube (``videos.update``, ``videos.delete``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tests.adapters.youtube.youtube_support import connect

from socialkit import Media, Post
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeYouTube
from socialkit.workflows.planner import PlannedPost, Planner, Runner, SQLitePlanDB

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    fake = FakeYouTube(processing_reads=0)
    db = SQLitePlanDB(tmp_path / "plan.db")
    youtube, _ = connect(fake)
    async with youtube:
        yield {
            "fake": fake,
            "planner": Planner(db, {"yt": youtube}),
            "runner": Runner(db, {"yt": youtube}, retry_after=timedelta(seconds=1)),
        }
    await db.aclose()


def scheduled(fake: FakeYouTube) -> list[tuple[str, str | None]]:
    return [(v.privacy, v.publish_at) for v in fake.videos.values()]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


POST = Post(text="a planned clip", media=[Media.from_bytes(c.MP4_HEAD)])


async def test_native_schedule_move_cancel_in_step(world: dict[str, Any]) -> None:
    planner: Planner = world["planner"]
    runner: Runner = world["runner"]
    fake: FakeYouTube = world["fake"]
    at = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    [target] = await planner.add(PlannedPost(post=POST, targets=["yt"], at=at, native=True))
    [outcome] = await runner.run_once()
    assert outcome.status == "scheduled"
    assert scheduled(fake) == [("private", stamp(at))]
    handed = await planner.target(target.id)
    assert handed.published_id == fake.own_videos()[0]

    later = at + timedelta(hours=1)
    await planner.move(target.id, later)
    assert scheduled(fake) == [("private", stamp(later))]

    [cancelled] = await planner.cancel(target.post_id)
    assert cancelled.status == "cancelled"
    assert fake.own_videos() == []


async def test_a_pause_takes_the_video_back_and_resume_uploads_it_once(
    world: dict[str, Any],
) -> None:
    planner: Planner = world["planner"]
    runner: Runner = world["runner"]
    fake: FakeYouTube = world["fake"]
    at = (datetime.now(timezone.utc) + timedelta(hours=3)).replace(microsecond=0)
    await planner.add(PlannedPost(post=POST, targets=["yt"], at=at, native=True))
    await runner.run_once()
    assert len(fake.own_videos()) == 1
    await planner.pause(reason="bad buzz")
    assert fake.own_videos() == []  # YouTube will not publish it by itself
    await planner.resume()
    [outcome] = await runner.run_once()
    assert outcome.status == "scheduled"
    assert scheduled(fake) == [("private", stamp(at))]
