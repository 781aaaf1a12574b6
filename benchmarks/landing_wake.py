"""How soon a session held back at a window's end resumes once the request it waits for lands.

    .venv/bin/python benchmarks/landing_wake.py [--redis redis://127.0.0.1:6379/0] [--trials 40]

Two sessions with a ``RedisRateLimitStore`` each (as two processes have) share a bucket whose
window ends while A's request is in the air; B's next request is held back (``landing``) until
A's answer lands. Printed: the time from A's answer to B's request reaching the server, median
and 90th percentile over ``--trials``, for B woken by the store (Redis pub/sub, the default) and
for B asking the store again every 50 ms (the behaviour before; ``Session._landed`` unset), and
their ratio. The Redis server is the only thing reached; the requests go to an in-process mock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
from typing import Any

import httpx

from socialkit._http import (
    BucketKey,
    Network,
    RateLimitUpdate,
    Session,
    header_rate_limit_parser,
    make_client,
)
from socialkit.stores import RedisRateLimitStore


def _session(store: RedisRateLimitStore, now: list[float], handler: Any) -> Session:
    network = Network(
        "bench", "https://api.example.test", rate_limit_parser=header_rate_limit_parser()
    )
    return Session(
        network,
        client=make_client(transport=httpx.MockTransport(handler)),
        account="app",
        store=store,
        clock=lambda: now[0],
    )


async def _trial(url: str, woken: bool) -> float:
    """Seconds from A's answer to B's request."""
    prefix = f"bench-{secrets.token_hex(4)}"
    first = RedisRateLimitStore(url, prefix=prefix)
    second = RedisRateLimitStore(url, prefix=prefix)
    now = [1_700_000_000.0]
    key = BucketKey("bench", "app", "default")
    await first.update(key, RateLimitUpdate(limit=2, remaining=1, reset_at=now[0] + 10), now[0])
    release = asyncio.Event()
    answered: list[float] = []
    arrived: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/late":
            await release.wait()
            answered.append(time.perf_counter())
            return httpx.Response(200, headers={"x-ratelimit-remaining": "1"})
        arrived.append(time.perf_counter())
        return httpx.Response(200)

    a, b = _session(first, now, handler), _session(second, now, handler)
    if not woken:
        b._landed = None
    late = asyncio.create_task(a.request("GET", "/late"))
    await asyncio.sleep(0.02)
    now[0] += 11
    following = asyncio.create_task(b.request("GET", "/next"))
    await asyncio.sleep(0.1 + random.random() * 0.05)  # B is waiting; any phase of its polls
    release.set()
    await asyncio.wait_for(asyncio.gather(late, following), 10)
    await first._client.delete(first._key(key), first._key(key) + ":flights")
    for closing in (a, b, first, second):
        await closing.aclose()
    return arrived[0] - answered[0]


async def _main(url: str, trials: int) -> None:
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(trials):
        for woken in (True, False):
            times[woken].append(await _trial(url, woken))
    print(f"{trials} trials; ms from the answer that lands to the held-back request's send")
    for woken, label in ((True, "woken (pub/sub)"), (False, "asking every 50 ms")):
        values = sorted(times[woken])
        p90 = values[int(0.9 * (len(values) - 1))]
        print(f"{label:<20} median {statistics.median(values) * 1e3:6.2f}   p90 {p90 * 1e3:6.2f}")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    print(f"woken / asking (medians): {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--trials", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(_main(args.redis, args.trials))


if __name__ == "__main__":
    main()
