"""Store backends for the shared contract tests (helpers; fixtures are in conftest.py).

Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432, db ``test``, user ``postgres``, trust
auth) are the real local services. When one is not reachable its tests are skipped locally with
the reason, and fail under CI (env ``CI`` set), where both services must be present.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from socialkit._store import MemoryStore, SQLiteStore, Store

REDIS_URL = os.environ.get("SOCIALKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_DSN = os.environ.get(
    "SOCIALKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["memory", "sqlite", "redis", "postgres"]


def service_missing(what: str, exc: BaseException) -> None:
    reason = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)


async def redis_ready() -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        service_missing("Redis at " + REDIS_URL, exc)
    finally:
        await client.aclose()


async def postgres_ready() -> None:
    import asyncpg

    try:
        conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
    except Exception as exc:
        service_missing("PostgreSQL at " + POSTGRES_DSN, exc)
    else:
        await conn.close()


async def drop_redis_prefix(prefix: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def drop_postgres_table(table: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_DSN)
    try:
        await conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    finally:
        await conn.close()


def open_store(config: dict[str, Any]) -> Store:
    """A new store object on the location ``config`` describes (the worker script uses it too)."""
    backend = config["backend"]
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SQLiteStore(config["path"])
    if backend == "redis":
        from socialkit.stores.redis import RedisStore

        return RedisStore(config["url"], prefix=config["prefix"])
    if backend == "postgres":
        from socialkit.stores.postgres import PostgresStore

        return PostgresStore(config["dsn"], table=config["table"])
    raise AssertionError(backend)
