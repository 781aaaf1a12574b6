"""Rate-limit modes against a server that enforces L requests per window (429 beyond).

    .venv/bin/python benchmarks/pacing.py [--limit 20] [--window 2.0] [--windows 5] [--tasks 4]

``pace``: callers send as fast as they can for N windows; the session spreads each window's
budget over the window. Printed: requests the server accepted per complete window as a share of
L (target >= 95 %), and the number of 429s (target 0).
``wait``: 3 L + 5 requests fired by 20 concurrent tasks at once; every one must succeed (no
request lost) after waiting for resets.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx

from socialkit._http import Network, RateLimitMode, Session, header_rate_limit_parser, make_client

HERE = Path(__file__).resolve().parent


async def stats(base: str) -> dict[str, dict[str, int]]:
    async with httpx.AsyncClient() as client:
        result: dict[str, dict[str, int]] = (await client.get(f"{base}/stats")).json()
        await client.post(f"{base}/stats/reset")
        return result


def session(base: str, mode: RateLimitMode) -> Session:
    network = Network("limited", base, rate_limit_parser=header_rate_limit_parser())
    return Session(network, client=make_client(), rate_limit=mode, max_wait=60)


async def run_pace(base: str, limit: int, window: float, windows: int, tasks: int) -> None:
    s = session(base, "pace")
    # Start just after a window boundary, so that the run covers whole windows.
    now = time.time()
    await asyncio.sleep((int(now / window) + 1) * window - now + 0.01)
    deadline = time.time() + windows * window
    sent = 0
    errors: list[str] = []

    async def caller() -> None:
        nonlocal sent
        while time.time() < deadline:
            try:
                await s.request("GET", "/items")
                sent += 1
            except Exception as exc:  # counted and shown, never hidden
                errors.append(type(exc).__name__)

    started = time.time()
    await asyncio.gather(*(caller() for _ in range(tasks)))
    elapsed = time.time() - started
    await s.client.aclose()
    result = await stats(base)
    counts = [int(v) for _, v in sorted(result["counts"].items(), key=lambda kv: int(kv[0]))]
    full = counts[:windows]  # the run started at a boundary; the last may spill over
    too_many = int(result["statuses"].get("429", 0))
    shares = [c / limit for c in full]
    print(f"\n== pace: L={limit} per {window:g} s, {tasks} concurrent callers, {elapsed:.1f} s ==")
    print(f"accepted per window: {counts}")
    print(
        f"sustained: mean {100 * sum(shares) / len(shares):.1f} % of L, "
        f"min {100 * min(shares):.1f} % (target >= 95 %)"
    )
    print(f"429 answers: {too_many} (target 0); calls completed: {sent}; errors: {errors}")


async def run_wait(base: str, limit: int, window: float) -> None:
    s = session(base, "wait")
    total = 3 * limit + 5
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    done: list[int] = []
    errors: list[str] = []

    async def caller() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                await s.request("GET", "/items")
                done.append(i)
            except Exception as exc:
                errors.append(type(exc).__name__)

    started = time.time()
    await asyncio.gather(*(caller() for _ in range(20)))
    elapsed = time.time() - started
    await s.client.aclose()
    result = await stats(base)
    too_many = int(result["statuses"].get("429", 0))
    print(f"\n== wait: {total} requests from 20 concurrent tasks, L={limit} per {window:g} s ==")
    print(f"succeeded: {len(done)} of {total}; lost: {total - len(done)}; errors: {errors}")
    print(f"429 answers (each retried after Retry-After): {too_many}; took {elapsed:.1f} s")
    print(f"accepted per window: {list(result['counts'].values())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=4)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_servers.py"), "limited", str(args.limit), str(args.window)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        asyncio.run(run_pace(base, args.limit, args.window, args.windows, 1))
        asyncio.run(run_pace(base, args.limit, args.window, args.windows, args.tasks))
        asyncio.run(run_wait(base, args.limit, args.window))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
