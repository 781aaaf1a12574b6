"""The workflows with the real adapters, against the fake networks (not an in-memory adapter).

The inbox polls the real Mastodon and Bluesky adapters, which talk HTTP to FakeMastodon and
FakeBluesky; its state lives in a SQLite file. A restart (new adapters, new Inbox, same file)
must neither lose nor repeat a message, including messages that arrive while it is down.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from socialkit import Post, SQLiteStore
from socialkit.testing.fakes import FakeBluesky, FakeClock, FakeMastodon
from socialkit.workflows import Inbox, MetricsCollector, RoutingTable

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

RULES = """
[[rules]]
name = "complaints"
queue = "support"
priority = 1
keywords = ["broken", "refund"]

[[rules]]
name = "dms"
queue = "direct"
kinds = ["direct"]
"""


def _fakes() -> tuple[FakeClock, FakeMastodon, FakeBluesky]:
    clock = FakeClock(START)
    return clock, FakeMastodon(clock=clock), FakeBluesky(clock=clock)


async def _poll_once(masto: FakeMastodon, sky: FakeBluesky, db: Path) -> list[tuple[str, str]]:
    store = SQLiteStore(db)
    async with masto.connect(account="m") as m, sky.connect(account="b") as b:
        inbox = Inbox(
            [m, b],
            store=store,
            routing=RoutingTable.from_toml(RULES),
            initial_since=START - timedelta(days=1),
        )
        items = await inbox.poll()
        assert inbox.errors == {}
    await store.aclose()
    return [(i.message.text, i.queue) for i in items]


@pytest.mark.anyio
async def test_inbox_restart_loses_and_repeats_nothing(tmp_path: Path) -> None:
    clock, masto, sky = _fakes()
    db = tmp_path / "inbox.db"
    m_fan, b_fan = masto.add_user("fan"), sky.add_user("fan")

    masto.mention(m_fan, "@owner my order arrived broken")
    clock.tick()
    sky.direct(b_fan, "hello from a DM")
    clock.tick()
    first = await _poll_once(masto, sky, db)
    assert sorted(first) == [
        ("@owner my order arrived broken", "support"),
        ("hello from a DM", "direct"),
    ]

    # While the inbox is down, two more messages arrive.
    sky.mention(b_fan, "@owner.bsky.test when is the sale?")
    clock.tick()
    masto.direct(m_fan, "need a refund please")
    second = await _poll_once(masto, sky, db)
    # (A Mastodon DM is a direct status that mentions its recipient.)
    assert sorted(second) == [
        ("@owner need a refund please", "support"),
        ("@owner.bsky.test when is the sale?", "inbox"),
    ]

    # A third run with nothing new delivers nothing again.
    assert await _poll_once(masto, sky, db) == []


@pytest.mark.anyio
async def test_metrics_collection_follows_the_audience(tmp_path: Path) -> None:
    clock, masto, _sky = _fakes()
    store = SQLiteStore(tmp_path / "metrics.db")
    fans = [masto.add_user(f"fan{i}") for i in range(3)]
    async with masto.connect(account="m") as m:
        posted = await m.publish(Post(text="Launch day"))
        assert posted.id is not None
        collector = MetricsCollector([m], store=store, clock=clock.now)
        await collector.collect()
        for fan in fans:
            masto.like(posted.id, fan)
        masto.repost(posted.id, fans[0])
        clock.advance(hours=1)
        await collector.collect()
        series = await collector.series("mastodon:m", posted.id)
    await store.aclose()
    assert [s.metrics.get("likes") for s in series] == [0, 3]
    assert [s.metrics.get("reposts") for s in series] == [0, 1]
