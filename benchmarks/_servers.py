"""Local HTTP servers for the benchmarks (aiohttp.web, run in their own process).

    python benchmarks/_servers.py overhead          # X-like endpoints, generous limits
    python benchmarks/_servers.py limited L W       # L requests per W-second window, 429 beyond

Each prints its port on the first line of stdout, then serves until killed.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter

from aiohttp import web

# Shapes from the X API v2 reference (POST /2/tweets, GET /2/tweets/search/recent).
CREATED = json.dumps(
    {"data": {"id": "1460323737035677698", "text": "hello", "edit_history_tweet_ids": ["1"]}}
).encode()


def page(size: int = 50) -> bytes:
    tweets = [
        {
            "id": str(1460323737035677698 + i),
            "text": f"Tweet number {i} about #python with a link https://t.co/abc{i} " * 2,
            "author_id": str(2244994945 + i % 7),
            "created_at": "2024-05-01T12:34:56.000Z",
            "lang": "en",
            "public_metrics": {
                "retweet_count": i,
                "reply_count": i % 3,
                "like_count": 10 * i,
                "quote_count": 0,
                "impression_count": 1000 + i,
            },
        }
        for i in range(size)
    ]
    meta = {
        "newest_id": tweets[0]["id"],
        "oldest_id": tweets[-1]["id"],
        "result_count": size,
        "next_token": "b26v89c19zqg8o3fpzbkk0jhqebdq1vfgymhk5hfqe0vx",
    }
    return json.dumps({"data": tweets, "meta": meta}).encode()


def overhead_app() -> web.Application:
    body = page()
    reset = str(int(time.time()) + 900)
    headers = {
        "content-type": "application/json; charset=utf-8",
        "x-rate-limit-limit": "100000000",
        "x-rate-limit-remaining": "99999999",
        "x-rate-limit-reset": reset,
    }

    async def create(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201, body=CREATED, headers=headers)

    async def search(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/2/tweets", create)
    app.router.add_get("/2/tweets/search/recent", search)
    return app


def limited_app(limit: int, window: float) -> web.Application:
    counts: Counter[int] = Counter()
    statuses: Counter[int] = Counter()

    async def handle(request: web.Request) -> web.Response:
        now = time.time()
        index = math.floor(now / window)
        reset = (index + 1) * window
        counts[index] += 1
        used = counts[index]
        status = 200 if used <= limit else 429
        statuses[status] += 1
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - used)),
            "x-ratelimit-reset": repr(reset),
        }
        if status == 429:
            headers["retry-after"] = f"{max(0.0, reset - now):.3f}"
        return web.json_response({"ok": status == 200}, status=status, headers=headers)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {"counts": {str(k): v for k, v in sorted(counts.items())}, "statuses": statuses}
        )

    async def reset_stats(request: web.Request) -> web.Response:
        counts.clear()
        statuses.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/items", handle)
    app.router.add_get("/stats", stats)
    app.router.add_post("/stats/reset", reset_stats)
    return app


async def _serve(app: web.Application) -> None:
    import asyncio

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    print(port, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    import asyncio

    kind = sys.argv[1]
    if kind == "overhead":
        app = overhead_app()
    elif kind == "limited":
        app = limited_app(int(sys.argv[2]), float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown server {kind!r}")
    asyncio.run(_serve(app))


if __name__ == "__main__":
    main()
