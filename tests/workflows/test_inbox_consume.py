"""Inbox.consume(): acknowledged, at-least-once delivery that survives a crash.

The SIGKILL tests run the consumer in a real subprocess on a SQLite file, kill it between
receiving a message and acknowledging it (or between storing and delivering), then restart on
the same file and check that the message is delivered again.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from wf_support import T0, FakeAdapter, message

from socialkit import ConfigurationError, MemoryStore, SQLiteStore
from socialkit._store import Store
from socialkit.workflows import Inbox, InboxDelivery

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


NOW = datetime(2024, 5, 6, 12, 0, tzinfo=timezone.utc)


def two_messages() -> FakeAdapter:
    adapter = FakeAdapter("x", "support")
    adapter.inbox = [
        message("m1", "one", at=T0),
        message("m2", "two", at=T0 + timedelta(minutes=1)),
    ]
    return adapter


async def take(inbox: Inbox, **kwargs: object) -> list[InboxDelivery]:
    return [d async for d in inbox.consume(**kwargs)]  # type: ignore[arg-type]


async def test_unacknowledged_messages_come_back_after_the_visibility_timeout() -> None:
    clock = Clock(NOW)
    inbox = Inbox([two_messages()], store=MemoryStore(), clock=clock)
    first = await take(inbox, max_polls=1, visibility_timeout=60)
    assert [(d.message.id, d.attempt) for d in first] == [("m1", 1), ("m2", 1)]  # oldest first
    await first[0].ack()
    # m2 is leased: not delivered again before its visibility timeout
    clock.now += timedelta(seconds=59)
    assert await take(inbox, max_polls=1, visibility_timeout=60) == []
    clock.now += timedelta(seconds=1)
    again = await take(inbox, max_polls=0, visibility_timeout=60)
    assert [(d.key, d.attempt) for d in again] == [(first[1].key, 2)]
    assert again[0].item == await inbox.get(first[1].key)
    await again[0].ack()
    clock.now += timedelta(hours=1)
    assert await take(inbox, max_polls=1) == []
    # The existing API is unchanged: the items are in the inbox, with their status.
    assert [i.message.id for i in await inbox.items(status="new")] == ["m2", "m1"]


async def test_nack_delivers_again_after_the_delay() -> None:
    clock = Clock(NOW)
    inbox = Inbox([two_messages()], store=MemoryStore(), clock=clock)
    first = await take(inbox, max_polls=1, visibility_timeout=600)
    await first[0].nack(delay=30)
    await first[1].nack()
    await first[1].nack()  # settled: a second call changes nothing
    assert [d.message.id for d in await take(inbox, max_polls=0)] == ["m2"]
    clock.now += timedelta(seconds=30)
    back = await take(inbox, max_polls=0)
    assert [(d.message.id, d.attempt) for d in back] == [("m1", 2)]
    with pytest.raises(ValueError, match="negative"):
        await back[0].nack(delay=-1)


async def test_a_late_nack_does_not_take_back_another_consumers_lease() -> None:
    clock = Clock(NOW)
    inbox = Inbox([two_messages()], store=MemoryStore(), clock=clock)
    slow = (await take(inbox, max_polls=1, visibility_timeout=10))[0]
    clock.now += timedelta(seconds=11)
    others = await take(inbox, max_polls=0, visibility_timeout=10)
    assert (others[0].key, others[0].attempt) == (slow.key, 2)
    await slow.nack()  # too late: the lease is the other consumer's now
    assert await take(inbox, max_polls=0) == []  # m1 is not released by the stale nack
    await others[0].nack()  # the current holder can release it
    assert [d.message.id for d in await take(inbox, max_polls=0)] == ["m1"]


async def test_two_consumers_share_the_queue_without_doubles(tmp_path: Path) -> None:
    adapter = FakeAdapter("x", "support")
    adapter.inbox = [message(f"m{n}", at=T0 + timedelta(seconds=n)) for n in range(30)]
    path = tmp_path / "inbox.db"
    poller = Inbox([adapter], store=SQLiteStore(path))
    assert await take(poller, max_polls=0) == []  # a consumer ran once: polls now queue
    await poller.poll()
    await poller.store.aclose()
    stores = [SQLiteStore(path), SQLiteStore(path)]
    consumers = [Inbox([adapter], store=s) for s in stores]

    async def drain(inbox: Inbox) -> list[str]:
        got = []
        async for delivery in inbox.consume(max_polls=0):
            got.append(delivery.message.id)
            await asyncio.sleep(0)
            await delivery.ack()
        return got

    results = await asyncio.gather(*(drain(c) for c in consumers))
    assert sorted(results[0] + results[1]) == sorted(m.id for m in adapter.inbox)
    for store in stores:
        await store.aclose()


async def test_a_crash_between_queueing_and_storing_loses_nothing() -> None:
    class Crash(BaseException):
        pass

    class CrashOnce(MemoryStore):
        crashed = False

        async def compare_and_set(
            self, namespace: str, key: str, expected: str | None, value: str
        ) -> bool:
            if namespace == "inbox.items" and not self.crashed:
                self.crashed = True
                raise Crash  # the process dies after queueing m1, before storing it
            return await super().compare_and_set(namespace, key, expected, value)

    store = CrashOnce()
    adapter = two_messages()
    first = Inbox([adapter], store=store)
    assert await take(first, max_polls=0) == []  # the application consumes
    with pytest.raises(Crash):
        await first.poll()
    assert len(await store.items("inbox.pending")) == 1
    assert await store.items("inbox.items") == []
    restarted = Inbox([adapter], store=store)
    # Before the next poll, the queued entry has no item: it waits (nothing is delivered).
    assert await take(restarted, max_polls=0) == []
    assert len(await store.items("inbox.pending")) == 1
    got = await take(restarted, max_polls=1)
    assert [(d.message.id, d.attempt) for d in got] == [("m1", 1), ("m2", 1)]


async def test_an_orphan_queue_entry_is_dropped_after_retention() -> None:
    store: Store = MemoryStore()
    clock = Clock(NOW)
    inbox = Inbox([], store=store, clock=clock, retention=timedelta(days=2))
    await store.put(
        "inbox.pending",
        "x\x1fgone",
        '{"created_at": "2024-05-01T00:00:00+00:00", "queued_at": "2024-05-04T12:01:00+00:00", '
        '"due": "2024-05-04T11:59:00+00:00", "attempts": 0, "lease": null}',
    )
    assert await take(inbox, max_polls=0) == []
    assert len(await store.items("inbox.pending")) == 1  # queued 2 days - 1 minute ago: kept
    clock.now += timedelta(minutes=2)
    assert await take(inbox, max_polls=0) == []
    assert await store.items("inbox.pending") == []


async def test_polling_queues_nothing_until_a_consumer_has_run() -> None:
    store = MemoryStore()
    adapter = two_messages()
    inbox = Inbox([adapter], store=store)
    await inbox.poll()
    assert await store.items("inbox.pending") == []  # poll-only applications pay nothing
    # What was stored before the first consume() is in the inbox, not in the queue.
    assert await take(inbox, max_polls=1) == []
    assert len(await inbox.items(status="new")) == 2
    adapter.inbox.append(message("m3", "three", at=T0 + timedelta(minutes=2)))
    # Another process polling the same store queues for the consumer from now on.
    await Inbox([adapter], store=store).poll()
    assert [d.message.id for d in await take(inbox, max_polls=0)] == ["m3"]


async def test_bad_settings_are_configuration_errors() -> None:
    inbox = Inbox([], store=MemoryStore())
    with pytest.raises(ConfigurationError, match="visibility_timeout"):
        await take(inbox, visibility_timeout=0)
    with pytest.raises(ConfigurationError, match="interval"):
        await take(inbox, interval=-1)


# -- a real process killed with SIGKILL -----------------------------------------------------

_CONSUMER = """
import asyncio, sys
from datetime import timedelta
from socialkit import SQLiteStore
from socialkit.workflows import Inbox
from tests.workflows.wf_support import T0, FakeAdapter, message

async def main(path, stop):
    adapter = FakeAdapter("x", "support")
    later = T0 + timedelta(minutes=1)
    adapter.inbox = [message("m1", "one", at=T0), message("m2", "two", at=later)]
    inbox = Inbox([adapter], store=SQLiteStore(path))
    if stop == "stored":
        async for _ in inbox.consume(max_polls=0):  # the application consumes (an earlier run)
            pass
        await inbox.poll()  # this round's poll stores both, then the process dies
        print("STORED", flush=True)
    else:
        async for delivery in inbox.consume(visibility_timeout=2.0, interval=0.1):
            print("RECEIVED", delivery.message.id, delivery.attempt, flush=True)
            await asyncio.sleep(3600)  # handling: killed here, before the ack
    await asyncio.sleep(3600)  # stored, not delivered: killed here

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        # killed while handling m1, after receiving it and before ack: m1 comes back (attempt 2)
        # once its 2 s visibility timeout has passed; m2 was never delivered
        ("received", [("m1", 2), ("m2", 1)]),
        # killed after the poll stored both messages, before anything was delivered
        ("stored", [("m1", 1), ("m2", 1)]),
    ],
)
async def test_sigkill_before_ack_then_restart_delivers_again(
    tmp_path: Path, stop: str, expected: list[tuple[str, int]]
) -> None:
    path = tmp_path / "inbox.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CONSUMER,
        str(path),
        stop,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.decode().split() == (["STORED"] if stop == "stored" else ["RECEIVED", "m1", "1"])
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    assert proc.returncode == -signal.SIGKILL

    store = SQLiteStore(path)
    inbox = Inbox([two_messages()], store=store)
    got: list[tuple[str, int]] = []

    async def restart() -> None:
        async for delivery in inbox.consume(visibility_timeout=30, interval=0.2):
            got.append((delivery.message.id, delivery.attempt))
            await delivery.ack()
            if len(got) == 2:
                return

    try:
        await asyncio.wait_for(restart(), 30)
        assert sorted(got) == expected
        assert len(await inbox.items()) == 2  # stored once: the restart's poll added nothing
        assert await take(inbox, max_polls=0) == []  # all acknowledged
    finally:
        await store.aclose()
