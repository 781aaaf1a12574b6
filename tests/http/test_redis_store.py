"""RedisRateLimitStore shared by two real OS processes against the local Redis server.

The store's single-process rules are tested with the in-memory store in test_ratelimit.py
(the ``store`` fixture runs those tests against Redis too).
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from socialkit._http import BucketKey, Network, RateLimitUpdate, Session, header_rate_limit_parser

WORKER = Path(__file__).with_name("_redis_worker.py")

pytestmark = pytest.mark.integration


def run_workers(*argv: list[str]) -> list[dict[str, int]]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in argv
    ]
    for proc in procs:  # every worker is connected and waiting ...
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + (proc.stderr.read() if proc.stderr else "")
    for proc in procs:  # ... then all start at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.anyio
async def test_two_processes_never_overdraw_a_shared_bucket(redis_url: str, redis_prefix: str):
    from socialkit.stores import RedisRateLimitStore

    store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    now = time.time()
    limit = 150
    await store.update(
        BucketKey("shared", "app", "default"),
        RateLimitUpdate(limit=limit, remaining=limit, reset_at=now + 120),
        now,
    )
    await store.aclose()
    results = run_workers(
        ["reserve", redis_url, redis_prefix, "200"],
        ["reserve", redis_url, redis_prefix, "200"],
    )
    granted = [r["granted"] for r in results]
    # Exactly the bucket: never more (overdraw), never fewer (lost units).
    assert sum(granted) == limit
    assert all(g > 0 for g in granted), granted  # both really competed


class LimitedServer(ThreadingHTTPServer):
    """Allows LIMIT requests per fixed WINDOW (s), answers 429 beyond; reports epoch resets."""

    LIMIT = 4
    WINDOW = 1.0

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), LimitedHandler)
        self.lock = threading.Lock()
        self.counts: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()


class LimitedHandler(BaseHTTPRequestHandler):
    server: LimitedServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        now = time.time()
        window = math.floor(now / server.WINDOW)
        reset = (window + 1) * server.WINDOW
        with server.lock:
            server.counts[window] += 1
            used = server.counts[window]
            status = 200 if used <= server.LIMIT else 429
            server.statuses[status] += 1
        body = b"{}"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-ratelimit-limit", str(server.LIMIT))
        self.send_header("x-ratelimit-remaining", str(max(0, server.LIMIT - used)))
        self.send_header("x-ratelimit-reset", repr(reset))
        if status == 429:
            self.send_header("retry-after", str(max(0.0, reset - now)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


async def seed(redis_url: str, prefix: str, port: int) -> None:
    from socialkit.stores import RedisRateLimitStore

    store = RedisRateLimitStore(redis_url, prefix=prefix)
    network = Network(
        "shared", f"http://127.0.0.1:{port}", rate_limit_parser=header_rate_limit_parser()
    )
    async with httpx.AsyncClient() as client:
        session = Session(network, client=client, account="app", store=store)
        await session.request("GET", "/items")
        assert session.rate_limits["default"].limit == LimitedServer.LIMIT
    await store.aclose()


def test_two_processes_sharing_limits_get_no_429(redis_url: str, redis_prefix: str):
    server = LimitedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = str(server.server_address[1])
        # Until a first response tells the limit nothing can be limited, so the app's first
        # request (here from the test process) seeds the shared store.
        asyncio.run(seed(redis_url, redis_prefix, int(port)))
        count = 8  # 16 requests at 4 per second: the processes must share and wait
        results = run_workers(
            ["session", redis_url, redis_prefix, str(count), port],
            ["session", redis_url, redis_prefix, str(count), port],
        )
    finally:
        server.shutdown()
        server.server_close()
    assert [r["ok"] for r in results] == [count, count]
    assert server.statuses[429] == 0, server.counts
    assert server.statuses[200] == 2 * count + 1
    assert max(server.counts.values()) <= LimitedServer.LIMIT
