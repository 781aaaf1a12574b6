"""Worker process for test_redis_store.py (run as a script, one OS process each).

usage: _redis_worker.py reserve URL PREFIX COUNT
       _redis_worker.py session URL PREFIX COUNT SERVER_PORT
Connects, prints "ready", waits for a line on stdin (the start signal, so that both processes
start at the same moment however slowly each imported), then prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from socialkit._http import BucketKey, Network, Session, header_rate_limit_parser
from socialkit.stores import RedisRateLimitStore


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


async def session(url: str, prefix: str, count: int, port: int) -> dict[str, int]:
    store = RedisRateLimitStore(url, prefix=prefix)
    network = Network(
        "shared", f"http://127.0.0.1:{port}", rate_limit_parser=header_rate_limit_parser()
    )
    s = Session(network, account="app", store=store, rate_limit="wait", max_wait=30)
    await s.refresh_rate_limits()  # connect before the start signal
    await wait_for_start()
    ok = 0
    for _ in range(count):
        response = await s.request("GET", "/items")
        ok += response.status_code == 200
    await s.aclose()
    await store.aclose()
    return {"ok": ok}


def main() -> None:
    mode, url, prefix, count = sys.argv[1:5]
    if mode == "reserve":
        result = asyncio.run(reserve(url, prefix, int(count)))
    else:
        result = asyncio.run(session(url, prefix, int(count), int(sys.argv[5])))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
