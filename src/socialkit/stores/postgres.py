"""A :class:`~socialkit._store.Store` in PostgreSQL (extra ``postgres``, driver asyncpg).

One table (``socialkit_kv`` by default) holds every namespace. It is created on first use under
a transaction-scoped advisory lock, so several processes starting at once do not race on
``CREATE TABLE``. :meth:`PostgresStore.compare_and_set` is a single statement (``UPDATE …
WHERE value = $expected`` or ``INSERT … ON CONFLICT DO NOTHING``), which PostgreSQL runs
atomically under concurrent writers.

asyncpg is imported on first use, so ``import socialkit`` stays light and the extra optional.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from typing import Any
from urllib.parse import urlsplit

from socialkit._errors import ConfigurationError

__all__ = ["PostgresStore"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _asyncpg() -> Any:
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise ConfigurationError(
            "PostgresStore needs the 'postgres' extra: pip install 'socialkit[postgres]'"
        ) from None


class PostgresStore:
    """A store in one PostgreSQL table.

    Give a DSN (``postgresql://user@host:5432/db``; a password in it is never shown in the
    repr) or an existing asyncpg pool (which :meth:`aclose` leaves open).
    """

    def __init__(
        self,
        dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres",
        *,
        pool: Any = None,
        table: str = "socialkit_kv",
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        if not _IDENTIFIER.match(table):
            raise ConfigurationError(
                f"The table name {table!r} must be a plain SQL identifier (letters, digits, _)"
            )
        self._dsn = dsn
        self.table = table
        self._pool: Any = pool
        self._owns_pool = pool is None
        self._min_size = min_size
        self._max_size = max_size
        self._ready = False
        self._setup_lock = asyncio.Lock()
        # The table name is a checked identifier (regex above), quoted: the only text put into
        # SQL; every value goes through $n parameters.
        t = f'"{table}"'
        self._sql_get = f"SELECT value FROM {t} WHERE namespace = $1 AND key = $2"  # noqa: S608
        self._sql_put = (
            f"INSERT INTO {t} (namespace, key, value) VALUES ($1, $2, $3) "  # noqa: S608
            "ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value"
        )
        self._sql_delete = f"DELETE FROM {t} WHERE namespace = $1 AND key = $2"  # noqa: S608
        self._sql_items = (
            f"SELECT key, value FROM {t} WHERE namespace = $1 AND starts_with(key, $2) "  # noqa: S608
            'ORDER BY key COLLATE "C"'
        )
        self._sql_insert_new = (
            f"INSERT INTO {t} (namespace, key, value) VALUES ($1, $2, $3) "  # noqa: S608
            "ON CONFLICT (namespace, key) DO NOTHING RETURNING 1"
        )
        self._sql_swap = (
            f"UPDATE {t} SET value = $4 WHERE namespace = $1 AND key = $2 AND value = $3 "  # noqa: S608
            "RETURNING 1"
        )
        self._sql_delete_if = (
            f"DELETE FROM {t} WHERE namespace = $1 AND key = $2 AND value = $3 "  # noqa: S608
            "RETURNING 1"
        )
        self._sql_schema = (
            f"CREATE TABLE IF NOT EXISTS {t} ("
            "namespace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
            "PRIMARY KEY (namespace, key))"
        )

    def __repr__(self) -> str:
        if not self._owns_pool:
            return f"PostgresStore(pool=<injected>, table={self.table!r})"
        parts = urlsplit(self._dsn)
        where = f"{parts.scheme}://{parts.hostname or ''}"
        if parts.port:
            where += f":{parts.port}"
        where += parts.path
        return f"PostgresStore({where!r}, table={self.table!r})"

    async def _ready_pool(self) -> Any:
        if self._ready:
            return self._pool
        async with self._setup_lock:
            if self._pool is None:
                self._pool = await _asyncpg().create_pool(
                    self._dsn, min_size=self._min_size, max_size=self._max_size
                )
            if not self._ready:
                async with self._pool.acquire() as conn, conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", self.table)
                    await conn.execute(self._sql_schema)
                self._ready = True
        return self._pool

    async def get(self, namespace: str, key: str) -> str | None:
        pool = await self._ready_pool()
        value = await pool.fetchval(self._sql_get, namespace, key)
        return None if value is None else str(value)

    async def put(self, namespace: str, key: str, value: str) -> None:
        pool = await self._ready_pool()
        await pool.execute(self._sql_put, namespace, key, value)

    async def delete(self, namespace: str, key: str) -> None:
        pool = await self._ready_pool()
        await pool.execute(self._sql_delete, namespace, key)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        pool = await self._ready_pool()
        rows = await pool.fetch(self._sql_items, namespace, prefix)
        return [(str(row[0]), str(row[1])) for row in rows]

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        pool = await self._ready_pool()
        if expected is None:
            done = await pool.fetchval(self._sql_insert_new, namespace, key, value)
        else:
            done = await pool.fetchval(self._sql_swap, namespace, key, expected, value)
        return done is not None

    async def compare_and_delete(self, namespace: str, key: str, expected: str) -> bool:
        """Remove the row only if its value is ``expected`` (one statement: atomic)."""
        pool = await self._ready_pool()
        done = await pool.fetchval(self._sql_delete_if, namespace, key, expected)
        return done is not None

    async def aclose(self) -> None:
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
            self._pool = None
            self._ready = False
