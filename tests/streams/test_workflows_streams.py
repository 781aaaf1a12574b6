"""The workflows on streams: the inbox, listening and the bad-buzz alert read the Mastodon
stream (FakeMastodon served on a port) and poll the accounts without one (X's user context,
whose filtered stream is app-only), with the same public API and the same stored results.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import anyio
import httpx
import pytest
from stream_support import wait_until

from socialkit import MemoryStore
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.fakes import FakeClock, FakeMastodon, FakeX
from socialkit.workflows import Inbox, Listening, Watch
from socialkit.workflows.alerts import Alert, BuzzMonitor, DetectorConfig

pytestmark = pytest.mark.anyio


class WallClock(FakeClock):
    """Content times from the system clock: the alert judges buckets of real minutes."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    MastodonAdapter.ex_forget_instances()
    yield
    MastodonAdapter.ex_forget_instances()


@pytest.fixture
def masto() -> FakeMastodon:
    return FakeMastodon(clock=WallClock())


@pytest.fixture
def served(masto: FakeMastodon) -> Iterator[str]:
    with masto.serve() as url:
        yield url


async def test_the_inbox_streams_where_it_can_and_polls_elsewhere(
    masto: FakeMastodon, served: str
) -> None:
    x = FakeX(clock=WallClock())
    m_fan, x_fan = masto.add_user("fan"), x.add_user("xfan")
    store = MemoryStore()
    async with (
        httpx.AsyncClient() as http,
        masto.connect(http=http, instance=served, account="m") as m,
        x.connect(account="x") as xa,
    ):
        inbox = Inbox([m, xa], store=store, initial_since=datetime.now(timezone.utc))
        got: list = []

        async def read() -> None:
            async for item in inbox.stream(realtime=True, interval=0.3, max_items=3):
                got.append((item.message.network, item.message.text, time.monotonic()))

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await wait_until(lambda: masto.stream_connections == 1)
            sent = time.monotonic()
            masto.mention(m_fan, "streamed to the inbox")
            x.mention(x_fan, "polled into the inbox")
            await anyio.sleep(0.5)
            masto.mention(m_fan, "and another")
        texts = sorted((n, t) for n, t, _ in got)
        assert texts == [
            ("mastodon", "@owner and another"),
            ("mastodon", "@owner streamed to the inbox"),
            ("x", "@owner polled into the inbox"),
        ]
        streamed_at = next(at for n, t, at in got if "streamed" in t)
        assert streamed_at - sent < 2.0
        # Stored once each, as poll() stores them: a later poll announces nothing again.
        assert await inbox.poll() == []
        assert len(await inbox.items()) == 3
        assert await store.get("inbox.streams", m.label) is not None  # the stream's cursor


async def test_listening_streams_hashtags_and_stores_each_item_once(
    masto: FakeMastodon, served: str
) -> None:
    fan = masto.add_user("fan")
    store = MemoryStore()
    async with httpx.AsyncClient() as http, masto.connect(http=http, instance=served) as m:
        listening = Listening(
            [m],
            [Watch(name="acme", hashtags=["acme"]), Watch(name="other", keywords=["zzz"])],
            store=store,
            initial_since=datetime.now(timezone.utc) - timedelta(minutes=5),
        )
        got = []

        async def read() -> None:
            async for item in listening.stream(realtime=True, interval=3600, max_items=2):
                got.append(item)

        async with anyio.create_task_group() as tg:
            tg.start_soon(read)
            await wait_until(lambda: masto.stream_connections == 1)
            masto.publish_as(fan, "nothing")
            first = masto.publish_as(fan, "new #acme thing")
            second = masto.publish_as(fan, "zzz and more")
        assert sorted((i.watch, i.post_id) for i in got) == sorted(
            [("acme", first), ("other", second)]
        )
        assert await listening.poll() == []  # already stored: not announced again
        assert len(await listening.items("acme")) == 1


async def test_the_alert_fires_from_the_stream_within_seconds(
    masto: FakeMastodon, served: str
) -> None:
    fan = masto.add_user("fan")
    store = MemoryStore()
    async with httpx.AsyncClient() as http, masto.connect(http=http, instance=served) as m:
        listening = Listening(
            [m],
            [Watch(name="acme", hashtags=["acme"])],
            store=store,
            initial_since=datetime.now(timezone.utc) - timedelta(minutes=40),
        )
        alerts: list[tuple[Alert, float]] = []
        monitor = BuzzMonitor(
            listening,
            bucket=timedelta(minutes=1),
            config=DetectorConfig(window=60, min_history=30, scales=(1, 2)),
            callbacks=[lambda alert: alerts.append((alert, time.monotonic()))],
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: monitor.run(
                    stream=True, interval=3600, live_interval=0.2, until=lambda: bool(alerts)
                )
            )
            await wait_until(lambda: masto.stream_connections == 1)
            await anyio.sleep(0.5)
            assert alerts == []  # quiet: nothing to report
            start = time.monotonic()
            for i in range(15):
                masto.publish_as(fan, f"#acme is down again {i}")
                await anyio.sleep(0.05)
            await wait_until(lambda: bool(alerts), within=10)
        alert, at = alerts[0]
        assert at - start < 5.0
        assert alert.watch == "acme"
        assert alert.count >= 10
        # The bucket, once complete, is not reported a second time.
        assert [a.key for a, _ in alerts] == [alert.key]
        assert await monitor.pending() == []


async def test_listening_manages_the_x_rules_from_its_watches() -> None:
    """One filtered stream for every watch on the app: its rules are the watches' queries, and
    each streamed post is stored under the watch whose rule matched it."""
    from socialkit import connect

    x = FakeX(clock=WallClock())
    fan = x.add_user("fan")
    x.stream_rules["1"] = ("from:elsewhere", "the app's own")
    store = MemoryStore()
    with x.serve() as url:
        async with (
            httpx.AsyncClient() as http,
            connect("x", http=http, base_url=url, bearer_token=x.app_bearer_token) as app,
        ):
            listening = Listening(
                [app],
                [
                    Watch(name="acme", role="brand", keywords=["acme"]),
                    Watch(name="globex", role="competitor", hashtags=["globex"]),
                ],
                store=store,
                initial_since=datetime.now(timezone.utc) - timedelta(minutes=5),
            )
            got = []

            async def read() -> None:
                async for item in listening.stream(realtime=True, interval=3600, max_items=2):
                    got.append(item)

            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                await wait_until(lambda: len(x.stream_connections) == 1)
                a = x.publish_as(fan, "acme rocks")
                g = x.publish_as(fan, "#globex is fine")
    assert sorted(x.stream_rules.values()) == [
        ("#globex", "socialkit"),
        ("acme", "socialkit"),
        ("from:elsewhere", "the app's own"),
    ]
    assert sorted((i.watch, i.post_id, i.query) for i in got) == sorted(
        [("acme", a, "acme"), ("globex", g, "#globex")]
    )
