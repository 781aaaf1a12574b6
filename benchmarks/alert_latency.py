"""How long a bad-buzz alert takes: from the first message of a planted burst to the alert.

    .venv/bin/python benchmarks/alert_latency.py [--trials 3] [--burst 15] [--quick]

The fakes (FakeMastodon, FakeX) are served on 127.0.0.1 and timed by the wall clock; the
real adapters, :class:`~socialkit.workflows.Listening` and
:class:`~socialkit.workflows.alerts.BuzzMonitor` (one-minute buckets, 40 minutes of quiet
history) run unchanged. Each trial plants ``--burst`` posts with the watched hashtag, 50 ms
apart, at a random moment of a polling period (seeded), and measures until the monitor's
callback is called. Rows:

* ``stream``: ``BuzzMonitor.run(stream=True)``: the Mastodon hashtag stream, or X's filtered
  stream, with a live check (the bucket under way) at most every 0.2 s;
* ``poll 5 s, live check``: a poll of the search every 5 seconds, then ``check_live()``;
* ``poll 5 s, whole buckets`` (left out with ``--quick``): ``BuzzMonitor.run(interval=5)`` as
  before streams, which judges complete buckets only.

Printed: median and worst latency per row, in seconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import httpx

from socialkit import MemoryStore, connect
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.fakes import FakeClock, FakeMastodon, FakeX
from socialkit.workflows import Listening, Watch
from socialkit.workflows.alerts import Alert, BuzzMonitor, DetectorConfig

TAG = "acme"
CONFIG = DetectorConfig(window=60, min_history=30, scales=(1, 2))


class WallClock(FakeClock):
    """Content times from the system clock, so that buckets are real minutes."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


Mode = str  # "stream", "live", "buckets"


async def trial(network: str, mode: Mode, burst: int, phase: float) -> float:
    """One planted burst; returns the seconds from its first post to the alert."""
    MastodonAdapter.ex_forget_instances()
    fake: FakeMastodon | FakeX = (
        FakeMastodon(clock=WallClock()) if network == "mastodon" else (FakeX(clock=WallClock()))
    )
    fan = fake.add_user("fan")
    with fake.serve() as url:
        async with httpx.AsyncClient() as http:
            if isinstance(fake, FakeMastodon):
                net = fake.connect(http=http, instance=url)
            else:
                net = connect("x", http=http, base_url=url, bearer_token=fake.app_bearer_token)
            async with net:
                listening = Listening(
                    [net],
                    [Watch(name=TAG, hashtags=[TAG])],
                    store=MemoryStore(),
                    initial_since=datetime.now(timezone.utc) - timedelta(minutes=40),
                )
                fired: list[float] = []
                done = anyio.Event()

                def record(alert: Alert) -> None:
                    fired.append(time.monotonic())
                    done.set()

                monitor = BuzzMonitor(
                    listening, bucket=timedelta(minutes=1), config=CONFIG, callbacks=[record]
                )
                run: Callable[[], Awaitable[Any]]
                if mode == "stream":

                    async def run() -> None:
                        await monitor.run(
                            stream=True, interval=3600, live_interval=0.2, until=lambda: bool(fired)
                        )

                elif mode == "live":

                    async def run() -> None:
                        while not fired:
                            await listening.poll()
                            await monitor.check_live()
                            await anyio.sleep(5)

                else:

                    async def run() -> None:
                        while not fired:
                            await monitor.run(interval=5, max_checks=1)
                            await anyio.sleep(5)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(run)
                    await _ready(fake, listening, mode)
                    await anyio.sleep(phase)  # the burst starts anywhere in a polling period
                    start = time.monotonic()
                    for i in range(burst):
                        fake.publish_as(fan, f"#{TAG} is down again, {i}")
                        await anyio.sleep(0.05)
                    with anyio.fail_after(180):
                        await done.wait()
                    tg.cancel_scope.cancel()
                return fired[0] - start


async def _ready(fake: FakeMastodon | FakeX, listening: Listening, mode: Mode) -> None:
    """Wait until the monitor listens: the stream is open, or the first poll is done."""
    with anyio.fail_after(30):
        while True:
            if mode == "stream":
                opened = (
                    fake.stream_connections
                    if isinstance(fake, FakeMastodon)
                    else len(fake.stream_connections)
                )
                if opened:
                    break
            elif await listening.covered_since(TAG) is not None:
                break
            await anyio.sleep(0.02)
    await anyio.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--burst", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1, help="seed of the bursts' start times")
    parser.add_argument("--quick", action="store_true", help="skip the whole-bucket polling row")
    args = parser.parse_args()
    rows = [
        ("mastodon", "stream"),
        ("x", "stream"),
        ("mastodon", "live"),
        ("x", "live"),
    ]
    if not args.quick:
        rows.extend([("mastodon", "buckets"), ("x", "buckets")])
    names = {
        "stream": "stream",
        "live": "poll 5 s, live check",
        "buckets": "poll 5 s, whole buckets",
    }
    rng = random.Random(args.seed)
    print(f"{'network':<10} {'mode':<26} {'median s':>9} {'worst s':>8}  trials")
    for network, mode in rows:
        trials = 1 if mode == "buckets" else args.trials
        latencies = [
            anyio.run(trial, network, mode, args.burst, rng.uniform(0, 5)) for _ in range(trials)
        ]
        print(
            f"{network:<10} {names[mode]:<26} {statistics.median(latencies):>9.2f} "
            f"{max(latencies):>8.2f}  {trials}"
        )


if __name__ == "__main__":
    main()
