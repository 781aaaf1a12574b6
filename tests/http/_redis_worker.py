"""Worker process for test_redis_store.py (run as a script, one OS process each).

usage: _redis_worker.py reserve URL PREFIX COUNT
       _redis_worker.py session URL PREFIX COUNT SERVER_PORT
Connects, prints "ready", waits for a line on stdin (the start signal, so that both processes
start at the same moment however slowly each imported), then prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from socialkit._http import BucketKey, Network, Session, header_rate_limit_parser
from socialkit.stores import RedisRateLimitStore


class LoggedStore(RedisRateLimitStore):
    """Records each store call (the wall time around it, the ``now`` it was given, its answer)
    for the test to print when it fails."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[list[Any]] = []

    async def reserve(self, key: BucketKey, now: float, **kwargs: Any) -> Any:
        before = time.time()
        answer = await super().reserve(key, now, **kwargs)
        state = answer.state
        self.log.append(
            [
                "reserve",
                before,
                now,
                time.time(),
                "landing" if answer.landing else ("granted" if answer.granted else "wait"),
                round(answer.delay, 4),
                None if state is None else state.remaining,
                None if state is None else state.reset,
            ]
        )
        return answer

    async def update(self, key: BucketKey, update: Any, now: float, **kwargs: Any) -> Any:
        before = time.time()
        state = await super().update(key, update, now, **kwargs)
        self.log.append(
            [
                "update",
                before,
                now,
                time.time(),
                update.remaining,
                update.reset_at,
                kwargs.get("land"),
                state.remaining,
                state.reset,
            ]
        )
        return state

    async def land(self, key: BucketKey, reset: float, **kwargs: Any) -> None:
        before = time.time()
        await super().land(key, reset, **kwargs)
        self.log.append(["land", before, reset, time.time()])


async def wait_for_start() -> None:
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)


async def reserve(url: str, prefix: str, count: int) -> dict[str, int]:
    store = RedisRateLimitStore(url, prefix=prefix)
    key = BucketKey("shared", "app", "default")
    await store.snapshot("shared", "app")  # connect before the start signal
    await wait_for_start()
    granted = 0
    for _ in range(count):
        if (await store.reserve(key, time.time())).granted:
            granted += 1
    await store.aclose()
    return {"granted": granted}


async def session(url: str, prefix: str, count: int, port: int) -> dict[str, Any]:
    store = LoggedStore(url, prefix=prefix)
    network = Network(
        "shared", f"http://127.0.0.1:{port}", rate_limit_parser=header_rate_limit_parser()
    )
    s = Session(network, account="app", store=store, rate_limit="wait", max_wait=30)
    await s.refresh_rate_limits()  # connect before the start signal
    await wait_for_start()
    ok = 0
    for i in range(count):
        store.log.append(["call", time.time(), i])
        response = await s.request("GET", "/items", headers={"x-diag": f"{os.getpid()}:{i}"})
        store.log.append(["answer", time.time(), i, response.status_code])
        ok += response.status_code == 200
    await s.aclose()
    await store.aclose()
    return {"ok": ok, "pid": os.getpid(), "log": store.log}


def main() -> None:
    mode, url, prefix, count = sys.argv[1:5]
    result: dict[str, Any]
    if mode == "reserve":
        result = asyncio.run(reserve(url, prefix, int(count)))
    else:
        result = asyncio.run(session(url, prefix, int(count), int(sys.argv[5])))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
