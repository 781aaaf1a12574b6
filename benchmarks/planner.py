"""The planner's runner: targets published per second and claim overhead per target, for 1, 4
and 16 worker processes, on SQLite and on PostgreSQL.

    python benchmarks/planner.py                       # both backends, 400 targets each run
    python benchmarks/planner.py --targets 1000 --latency 0.05 --backend sqlite
    python benchmarks/planner.py --dsn postgresql://postgres@127.0.0.1:5432/test

Each worker is its own process (spawned, connected, then started together) running
:class:`~socialkit.workflows.planner.Runner` until the plan is idle. Publishing goes to an
in-process network that answers after ``--latency`` seconds (default 20 ms, about a nearby
API), so the figures are the planner's own cost: "claim ms/target" is the time spent in the
claim transaction per target (what exactly-once costs before the network call), "targets/s"
the throughput of the whole run. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from socialkit import Account, AdapterSettings, Capability, Post
from socialkit._capabilities import Limits
from socialkit.adapters._base import Adapter
from socialkit.workflows.planner import (
    PlanDB,
    PlannedPost,
    Planner,
    PostgresPlanDB,
    Runner,
    SQLitePlanDB,
)


class InstantNetwork(Adapter):
    """Publishes after ``latency`` seconds; the same idempotency key returns the same post."""

    name = "bench"
    capabilities = frozenset({Capability.PUBLISH_TEXT})
    limits = Limits(max_text=500)

    def __init__(self, latency: float) -> None:
        super().__init__(AdapterSettings())
        self.latency = latency

    async def me(self) -> Account:
        return Account(id="bench", handle="bench")

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        await asyncio.sleep(self.latency)
        key = idempotency_key or uuid.uuid4().hex
        return post.model_copy(update={"id": key, "url": f"https://bench.example/{key}"})


def open_db(backend: str, where: str, prefix: str) -> PlanDB:
    if backend == "sqlite":
        return SQLitePlanDB(where, prefix=prefix)
    return PostgresPlanDB(where, prefix=prefix, max_size=2)


async def plan(backend: str, where: str, prefix: str, targets: int) -> None:
    db = open_db(backend, where, prefix)
    try:
        planner = Planner(db, {"bench": InstantNetwork(0)})
        due = datetime.now(timezone.utc) - timedelta(seconds=1)
        for i in range(targets):
            await planner.add(PlannedPost(post=Post(text=f"bench {i}"), targets=["bench"], at=due))
    finally:
        await db.aclose()


def worker(backend: str, where: str, prefix: str, latency: float, start: Any, results: Any) -> None:
    async def main() -> None:
        db = open_db(backend, where, prefix)
        try:
            runner = Runner(db, {"bench": InstantNetwork(latency)}, lease=timedelta(minutes=5))
            await runner.pending()  # connect (and create nothing) before the start
            start.wait()
            stats = await runner.run(until_idle=True, poll=0.05)
            results.put((stats.outcomes.get("published", 0), stats.claims, stats.claim_seconds))
        finally:
            await db.aclose()

    asyncio.run(main())


async def drop(backend: str, where: str, prefix: str) -> None:
    db = open_db(backend, where, prefix)
    try:
        await db.drop()
    finally:
        await db.aclose()


def run(backend: str, where: str, workers: int, targets: int, latency: float) -> dict[str, float]:
    prefix = f"bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(plan(backend, where, prefix, targets))
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(backend, where, prefix, latency, start, results))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    time.sleep(1.0 + 0.25 * workers)  # let every worker import and connect
    began = time.perf_counter()
    start.set()
    got = [results.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    asyncio.run(drop(backend, where, prefix))
    published = sum(g[0] for g in got)
    claim_seconds = sum(g[2] for g in got)
    if published != targets:
        raise SystemExit(f"{backend}/{workers}: published {published} of {targets}")
    return {
        "published": published,
        "seconds": elapsed,
        "per_second": published / elapsed,
        "claim_ms": 1000 * claim_seconds / published,
        "claims": sum(g[1] for g in got),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--targets", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    print(
        f"{args.targets} targets per run, network latency {args.latency * 1000:g} ms, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"{'backend':<10} {'workers':>7} {'targets/s':>10} {'claim ms/target':>16} {'claims':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            for workers in args.workers:
                where = str(Path(tmp) / f"plan-{workers}.db") if backend == "sqlite" else args.dsn
                r = run(backend, where, workers, args.targets, args.latency)
                print(
                    f"{backend:<10} {workers:>7} {r['per_second']:>10.1f} "
                    f"{r['claim_ms']:>16.2f} {int(r['claims']):>7}"
                )


if __name__ == "__main__":
    main()
