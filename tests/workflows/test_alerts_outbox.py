"""BuzzMonitor's outbox: an alert recorded before its incident state is saved is delivered
after a crash.

The crash is simulated with an exception that is not an ``Exception`` (as a killed process
would stop): raised by the store right after the incident state is written, or by a callback.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from wf_support import T0, FakeAdapter, post

from socialkit import MemoryStore, SQLiteStore
from socialkit._store import Store
from socialkit.workflows import (
    Alert,
    BuzzMonitor,
    DetectorConfig,
    LexiconScorer,
    Listening,
    Watch,
)

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)
#: 44 hours of history: judge after a day (the default waits for three).
CONFIG = DetectorConfig(min_history=24)


class Crash(BaseException):
    """The process dies here."""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def burst_adapter() -> FakeAdapter:
    """44 calm hours (2 posts an hour), then 15 negative posts an hour for two hours."""
    adapter = FakeAdapter("x", "main")
    for i in range(44):
        adapter.public.append(post(f"a{i}", "acme works fine", at=T0 + i * HOUR))
        adapter.public.append(
            post(f"b{i}", "using acme today", at=T0 + i * HOUR + timedelta(minutes=30))
        )
    for hour in (44, 45):
        for j in range(15):
            adapter.public.append(
                post(
                    f"n{hour}-{j}",
                    "acme is down again, terrible service",
                    at=T0 + hour * HOUR + timedelta(minutes=3 * j),
                )
            )
    return adapter


async def listening_on(store: Store, clock: Clock) -> Listening:
    listening = Listening(
        [burst_adapter()],
        [Watch(name="acme", role="brand", keywords=["acme"])],
        store=store,
        scorer=LexiconScorer(),
        initial_limit=None,
        clock=clock,
    )
    await listening.poll()
    return listening


class CrashAfterCooldown(SQLiteStore):
    """Dies right after the first incident state is written, before any callback runs."""

    armed = True

    async def put(self, namespace: str, key: str, value: str) -> None:
        await super().put(namespace, key, value)
        if self.armed and namespace == "alerts" and key.endswith("\x1fincidents"):
            self.armed = False
            raise Crash


async def test_a_crash_between_the_cooldown_and_the_callback_loses_no_alert(
    tmp_path: Path,
) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    got: list[Alert] = []
    store = CrashAfterCooldown(path)
    monitor = BuzzMonitor(
        await listening_on(store, clock), callbacks=[got.append], clock=clock, config=CONFIG
    )
    with pytest.raises(Crash):
        await monitor.check()
    assert got == []  # the incident is recorded; no callback ran
    await store.aclose()

    # Restart: the incident is open now, so the alert is not raised again, but it waits in the
    # outbox and is delivered, once.
    store = SQLiteStore(path)
    restarted = BuzzMonitor(
        await listening_on(store, clock), callbacks=[got.append], clock=clock, config=CONFIG
    )
    fired = await restarted.check()
    assert fired == []
    assert [(a.polarity, a.start) for a in got] == [("negative", T0 + 44 * HOUR)]
    assert await restarted.pending() == []
    assert await restarted.check() == []
    assert len(got) == 1  # nothing delivered twice
    await store.aclose()


async def test_a_crash_inside_a_callback_delivers_again_after_the_delivery_timeout() -> None:
    store = MemoryStore()
    clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    listening = await listening_on(store, clock)
    calls: list[str] = []

    def dies(alert: Alert) -> None:
        calls.append(alert.key)
        raise Crash

    monitor = BuzzMonitor(listening, callbacks=[dies], clock=clock, config=CONFIG)
    with pytest.raises(Crash):
        await monitor.check()
    assert len(calls) == 1
    got: list[Alert] = []
    restarted = BuzzMonitor(
        listening,
        callbacks=[got.append],
        clock=clock,
        config=CONFIG,
        delivery_timeout=timedelta(minutes=5),
    )
    assert [a.key for a in await restarted.pending()] == calls
    # The interrupted delivery still holds the alert until its delivery timeout.
    assert await restarted.deliver_pending() == []
    assert got == []
    clock.now += timedelta(minutes=5)
    delivered = await restarted.deliver_pending()
    assert [a.key for a in got] == calls
    assert delivered == got
    assert await restarted.pending() == []


async def test_a_failing_callback_is_retried_alone_then_given_up() -> None:
    store = MemoryStore()
    clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    listening = await listening_on(store, clock)
    good: list[str] = []
    tries: list[str] = []

    def pager(alert: Alert) -> None:
        tries.append(alert.kind)
        raise RuntimeError("pager down")

    monitor = BuzzMonitor(
        listening, callbacks=[good.append, pager], clock=clock, max_attempts=3, config=CONFIG
    )
    fired = await monitor.check()
    assert len(fired) == 1
    assert len(good) == 1
    assert len(tries) == 1
    assert len(await monitor.pending()) == 1  # kept for the pager
    assert await monitor.check() == []
    assert len(good) == 1  # the callback that returned is not called again
    assert len(tries) == 2
    await monitor.check()
    assert len(tries) == 3
    assert await monitor.pending() == []  # dropped after max_attempts (logged)
    await monitor.check()
    assert len(tries) == 3


async def test_concurrent_deliveries_call_each_callback_once(tmp_path: Path) -> None:
    path = tmp_path / "alerts.db"
    clock = Clock(T0 + 45 * HOUR + timedelta(minutes=5))
    store = SQLiteStore(path)
    listening = await listening_on(store, clock)
    got: list[str] = []

    async def slow(alert: Alert) -> None:
        await asyncio.sleep(0.01)
        got.append(alert.key)

    # Record the alerts without delivering them (as a crash before delivery would).
    first = BuzzMonitor(listening, clock=clock, config=CONFIG)
    for name in listening.watches:
        await first._check_watch(name, T0 + 45 * HOUR)
    recorded = sorted(a.key for a in await first.pending())
    assert len(recorded) == 1
    stores = [SQLiteStore(path) for _ in range(3)]
    monitors = [
        BuzzMonitor(await listening_on(s, clock), callbacks=[slow], clock=clock, config=CONFIG)
        for s in stores
    ]
    await asyncio.gather(*(m.deliver_pending() for m in monitors))
    assert sorted(got) == recorded  # each alert once, whichever process delivered it
    assert await first.pending() == []
    for s in [store, *stores]:
        await s.aclose()


def test_bad_settings() -> None:
    listening = Listening([], [], store=MemoryStore())
    with pytest.raises(ValueError, match="delivery_timeout"):
        BuzzMonitor(listening, delivery_timeout=timedelta(0))
    with pytest.raises(ValueError, match="max_attempts"):
        BuzzMonitor(listening, max_attempts=0)
