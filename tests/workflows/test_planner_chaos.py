"""Exactly once under SIGKILL: 8 worker processes (``socialkit plan run``), 500 planned targets
on three fake networks served by ``socialkit fakes serve`` in their own process, workers killed
at random points (seeded, bounded) and replaced. Every target must be published once, counted
at the fake servers (their ``/_socialkit/received`` report), and every status must be right.

Run on SQLite (one file shared by the processes) and on the real PostgreSQL server at
127.0.0.1:5432 (tables of this run's own, dropped afterwards).
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from planner_support import (
    LABELS,
    POSTGRES_DSN,
    ServedFakes,
    child_env,
    cli,
    served_fakes,
    unique_prefix,
)

import socialkit
from socialkit import Post
from socialkit._store import SQLiteStore
from socialkit.workflows.planner import (
    PlanDB,
    PlannedPost,
    Planner,
    PostgresPlanDB,
    SQLitePlanDB,
    Target,
)

WORKERS = 8
TARGETS = 500
KILLS = 10
SEED = 20261206
SPREAD = timedelta(seconds=25)


async def _plan(fakes: ServedFakes, db: PlanDB, store_path: Path) -> list[Target]:
    """500 targets: 166 posts on the three accounts and one on two, unique texts, due over the
    next SPREAD seconds (a calendar, not a burst: X finds a lost post among the account's
    newest 100, see docs/planner.md)."""
    store = SQLiteStore(store_path)
    adapters = {
        LABELS[name]: socialkit.connect(name, **fakes.adapter_settings(name, store))
        for name in ("mastodon", "bluesky", "x")
    }
    try:
        planner = Planner(db, adapters)
        start = datetime.now(timezone.utc) + timedelta(seconds=2)
        targets: list[Target] = []
        index = 0
        while len(targets) < TARGETS:
            accounts = ["masto", "sky", "bird"][: min(3, TARGETS - len(targets))]
            planned = PlannedPost(
                post=Post(text=f"chaos post {index:04d}: exactly once, whatever happens"),
                targets=accounts,
                at=start + index * SPREAD / 167,
                campaign="chaos",
                tags=[f"batch{index % 5}"],
            )
            targets.extend(await planner.add(planned))
            index += 1
        return targets
    finally:
        for adapter in adapters.values():
            await adapter.aclose()
        await store.aclose()


def _worker(config: Path, env: dict[str, str], db: str, prefix: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        cli(
            "--config",
            str(config),
            "plan",
            "run",
            "--db",
            db,
            "--prefix",
            prefix,
            "--until-idle",
            "--horizon",
            "60",
            "--poll",
            "0.2",
            "--lease",
            "3",
            "--retry-after",
            "0.2",
            "--concurrency",
            "2",
            "--json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(env),
    )


def _holders(backend: str, where: str, prefix: str) -> dict[int, set[str]]:
    """The targets claimed right now, by the process id of the worker holding them: a plain
    read, which neither waits for the (frozen) workers' locks nor takes any."""
    sql = f"SELECT id, claimed_by FROM \"{prefix}_targets\" WHERE status = 'claimed'"
    if backend == "sqlite":
        conn = sqlite3.connect(f"file:{where}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute(sql).fetchall()
        finally:
            conn.close()
    else:

        async def read() -> list[Any]:
            import asyncpg

            pg = await asyncpg.connect(where)
            try:
                return [tuple(r) for r in await pg.fetch(sql)]
            finally:
                await pg.close()

        rows = asyncio.run(read())
    held: dict[int, set[str]] = {}
    for target_id, claimed_by in rows:
        if claimed_by:
            held.setdefault(int(str(claimed_by).split(":")[1]), set()).add(str(target_id))
    return held


def _run_chaos(
    config: Path, env: dict[str, str], backend: str, db: str, prefix: str
) -> dict[str, int]:
    """Start the workers, SIGKILL some and replace them; wait for the rest.

    Every other kill hits a worker that holds a claim: the workers are frozen (SIGSTOP), one
    that holds a claim is killed, the others go on (SIGCONT); its targets stay claimed by a
    dead worker ("stranded") until their lease expires. The other kills hit a worker chosen at
    random, wherever it is (starting, claiming, publishing, idle)."""
    rng = random.Random(SEED)
    workers = [_worker(config, env, db, prefix) for _ in range(WORKERS)]
    kills = stranded = 0
    started = time.monotonic()
    outcome: Counter[str] = Counter()
    try:
        while kills < KILLS and any(w.poll() is None for w in workers):
            time.sleep(rng.uniform(0.2, 1.0))
            alive = [w for w in workers if w.poll() is None]
            if not alive:
                break
            if kills % 2 == 0 or stranded == 0:
                for w in alive:
                    w.send_signal(signal.SIGSTOP)
                try:
                    held = _holders(backend, db, prefix)
                    holding = [w for w in alive if w.pid in held]
                    if holding:
                        victim = rng.choice(sorted(holding, key=lambda w: w.pid))
                        victim.send_signal(signal.SIGKILL)
                        victim.wait()
                        stranded += 1
                finally:
                    for w in alive:
                        if w.poll() is None:
                            w.send_signal(signal.SIGCONT)
                if not holding:
                    continue  # nobody held a claim at that instant: try again
            else:
                victim = rng.choice(sorted(alive, key=lambda w: w.pid))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
            kills += 1
            workers.append(_worker(config, env, db, prefix))
        deadline = time.monotonic() + 90
        for w in workers:
            out, err = w.communicate(timeout=max(1.0, deadline - time.monotonic()))
            if w.returncode == -signal.SIGKILL:
                outcome["killed"] += 1
                continue
            # 1: a target failed or needs attention (the statuses checked next say which).
            assert w.returncode in (0, 1), f"worker exited {w.returncode}: {err[-2000:]}"
            report = json.loads(out)
            outcome.update(report["outcomes"])
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
    outcome["seconds"] = int(time.monotonic() - started)
    outcome["kills"] = kills
    outcome["stranded"] = stranded
    return dict(outcome)


async def _check(fakes: ServedFakes, db: PlanDB, planned: list[Target]) -> None:
    planner = Planner(db)
    targets = {t.id: t for t in await planner.calendar()}
    assert len(targets) == TARGETS
    # Workers died holding claims: those targets were claimed again after their lease expired.
    retaken = [t for t in targets.values() if t.attempts > 1]
    assert retaken
    # Every status right: all published, each with the id and URL the network gave.
    wrong = [t for t in targets.values() if t.status != "published"]
    details = []
    for t in wrong:
        history = "; ".join(f"{e.status}: {e.detail}" for e in await planner.events(t.id))
        details.append(f"{t.account} {t.status}: {history}")
    assert not wrong, "\n".join(details)
    by_network: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name in ("mastodon", "bluesky", "x"):
        report = fakes.received(name)
        texts: dict[str, list[dict[str, Any]]] = {}
        for post in report["posts"]:
            texts.setdefault(post["text"], []).append(post)
        by_network[name] = texts
        wanted = [t for t in planned if t.network == name]
        # Exactly once, counted at the server: one post per planned target, none extra.
        assert len(report["posts"]) == len(wanted), (name, len(report["posts"]), len(wanted))
        duplicates = {text: posts for text, posts in texts.items() if len(posts) > 1}
        assert not duplicates, (name, list(duplicates)[:3])
    for target in targets.values():
        online = by_network[target.network][target.post.text]
        assert len(online) == 1
        assert target.published_id == online[0]["id"], target
        assert target.url
        events = await planner.events(target.id)
        statuses = [e.status for e in events]
        assert statuses[0] == "planned"
        assert statuses[-1] == "published"
        assert statuses.count("published") == 1
        assert "claimed" in statuses


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_exactly_once_under_sigkill(backend: str, tmp_path: Path) -> None:
    if backend == "postgres":
        asyncio.run(_postgres_ready())
    prefix = unique_prefix()
    where = str(tmp_path / "plan.db") if backend == "sqlite" else POSTGRES_DSN

    def open_db() -> PlanDB:
        if backend == "sqlite":
            return SQLitePlanDB(where, prefix=prefix)
        return PostgresPlanDB(where, prefix=prefix)

    try:
        with served_fakes() as fakes:
            config, env = fakes.config(tmp_path / "config.toml")
            env["SOCIALKIT_STORE"] = str(tmp_path / "store.db")

            async def plan() -> list[Target]:
                db = open_db()
                try:
                    return await _plan(fakes, db, tmp_path / "store.db")
                finally:
                    await db.aclose()

            planned = asyncio.run(plan())
            assert len(planned) == TARGETS
            stats = _run_chaos(config, env, backend, where, prefix)
            assert stats["kills"] == KILLS
            assert stats["stranded"] >= KILLS // 2  # workers died between a claim and its outcome

            async def check() -> None:
                db = open_db()
                try:
                    await _check(fakes, db, planned)
                finally:
                    await db.aclose()

            asyncio.run(check())
            assert stats.get("needs_attention", 0) == stats.get("failed", 0) == 0
    finally:
        if backend == "postgres":

            async def drop() -> None:
                db = open_db()
                try:
                    await db.drop()
                finally:
                    await db.aclose()

            asyncio.run(drop())


async def _postgres_ready() -> None:
    import os

    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    except Exception as exc:
        reason = f"PostgreSQL at {POSTGRES_DSN} is not reachable ({type(exc).__name__}: {exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it", pytrace=False)
        pytest.skip(reason)
    else:
        await conn.close()
