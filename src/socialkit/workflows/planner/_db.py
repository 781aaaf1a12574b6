"""Where the plan lives: SQLite on one machine, PostgreSQL for many.

Both keep the same four tables (names start with ``prefix``): the planned posts, their
targets (one row per account, with the status, the claim and its lease), the events (every
transition with its time) and the pauses. Every change is one database transaction:

- **SQLite** (the embedded default; many processes on one machine): WAL mode, and every write
  transaction starts with ``BEGIN IMMEDIATE``, which takes the database's write lock at once,
  so two processes can never read the same due target and both claim it (a deferred
  transaction would read first and fail to upgrade its lock later). A busy timeout makes the
  others wait their turn. Statements run on one worker thread per connection, so the event loop
  never blocks on disk.
- **PostgreSQL** (many machines): claims are ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
  LOCKED)``: concurrent workers skip each other's rows instead of waiting. Checks that span
  rows (cadence rules when planning, pauses against claims) take transaction-scoped advisory
  locks, so a pause cannot slip between a claim's check and its update.

Why not procrastinate or pgqueuer (both well kept): they are job queues with at-least-once
delivery, and their job rows would be a second copy of each target's state (due time, status,
claim) to keep in step with the calendar, which edits, moves, cancels and pauses targets; a
crisis pause and a ``needs_attention`` outcome are not job states. Exactly once comes from the
target row's own claim, lease and status plus the adapters' idempotency keys and
reconciliation; ``FOR UPDATE SKIP LOCKED`` on that row is all the queue needed (docs/planner.md).

Times are stored as Unix seconds (floats), compared with the caller's clock.
"""

from __future__ import annotations

import abc
import asyncio
import importlib
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from socialkit._errors import ConfigurationError
from socialkit._store import _set_wal

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["PlanDB", "PostgresPlanDB", "SQLitePlanDB", "open_plan_db"]

_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
Row = tuple[Any, ...]


class Tx(abc.ABC):
    """One open transaction: statements with ``?`` placeholders."""

    @abc.abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    @abc.abstractmethod
    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; the number of rows it changed."""

    @abc.abstractmethod
    async def lock(self, name: str, *, shared: bool = False) -> None:
        """Hold a named lock until the transaction ends (PostgreSQL; SQLite's write
        transactions already exclude each other)."""


class PlanDB(abc.ABC):
    """The plan's storage. Use :class:`SQLitePlanDB` or :class:`PostgresPlanDB`."""

    dialect: ClassVar[str]

    def __init__(self, prefix: str) -> None:
        if not _PREFIX.match(prefix):
            raise ConfigurationError(
                f"the table prefix {prefix!r} must be a plain SQL identifier (letters, digits, _)"
            )
        self.prefix = prefix

    @abc.abstractmethod
    def transaction(self, *, write: bool = True) -> Any:
        """``async with db.transaction() as tx:`` one transaction (committed on success)."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        """``async with`` closes the plan's connections at the end of the block."""
        await self.aclose()

    async def drop(self) -> None:
        """Remove the plan's tables (tests, and starting over)."""
        async with self.transaction() as tx:
            for name in ("events", "targets", "posts", "pauses"):
                await tx.execute(f'DROP TABLE IF EXISTS "{self.prefix}_{name}"')

    # The schema; the table names are checked identifiers (the prefix regex above).
    def schema(self) -> list[str]:
        p = self.prefix
        real = "DOUBLE PRECISION" if self.dialect == "postgres" else "REAL"
        serial = (
            "BIGSERIAL PRIMARY KEY"
            if self.dialect == "postgres"
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        return [
            f'CREATE TABLE IF NOT EXISTS "{p}_posts" (id TEXT PRIMARY KEY, campaign TEXT, '
            f"tags TEXT NOT NULL, body TEXT NOT NULL, created_at {real} NOT NULL)",
            f'CREATE TABLE IF NOT EXISTS "{p}_targets" ('
            "id TEXT PRIMARY KEY, post_id TEXT NOT NULL, account TEXT NOT NULL, "
            f"network TEXT NOT NULL, due_at {real} NOT NULL, status TEXT NOT NULL, "
            "native INTEGER NOT NULL, content TEXT NOT NULL, campaign TEXT, tags TEXT NOT NULL, "
            f"claim_token TEXT, claimed_by TEXT, lease_until {real}, "
            "attempts INTEGER NOT NULL, unknowns INTEGER NOT NULL, "
            f"not_before {real}, result_id TEXT, result_url TEXT, error_type TEXT, "
            f"error_message TEXT, updated_at {real} NOT NULL)",
            f'CREATE INDEX IF NOT EXISTS "{p}_targets_due" ON "{p}_targets" (status, due_at)',
            f'CREATE INDEX IF NOT EXISTS "{p}_targets_account" ON "{p}_targets" (account, due_at)',
            f'CREATE INDEX IF NOT EXISTS "{p}_targets_post" ON "{p}_targets" (post_id)',
            f'CREATE TABLE IF NOT EXISTS "{p}_events" (id {serial}, target_id TEXT NOT NULL, '
            f"at {real} NOT NULL, status TEXT NOT NULL, detail TEXT, worker TEXT)",
            f'CREATE INDEX IF NOT EXISTS "{p}_events_target" ON "{p}_events" (target_id, id)',
            f'CREATE TABLE IF NOT EXISTS "{p}_pauses" (scope TEXT PRIMARY KEY, '
            f"reason TEXT NOT NULL, since {real} NOT NULL, source TEXT)",
        ]

    def t(self, name: str) -> str:
        """The quoted name of one of the plan's tables."""
        return f'"{self.prefix}_{name}"'

    @property
    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgres" else ""


class _SQLiteTx(Tx):
    def __init__(self, db: SQLitePlanDB) -> None:
        self._db = db

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows: list[Row] = await self._db._call(lambda c: c.execute(sql, args).fetchall())
        return rows

    async def execute(self, sql: str, *args: Any) -> int:
        count: int = await self._db._call(lambda c: c.execute(sql, args).rowcount)
        return count

    async def lock(self, name: str, *, shared: bool = False) -> None:
        return None  # BEGIN IMMEDIATE holds the database's write lock already


class SQLitePlanDB(PlanDB):
    """The plan in one SQLite file (created with mode 0600), shared by the processes of one
    machine. ``timeout``: how long a transaction waits for another process's write lock."""

    dialect = "sqlite"

    def __init__(
        self, path: str | os.PathLike[str], *, prefix: str = "plan", timeout: float = 60.0
    ) -> None:
        super().__init__(prefix)
        self.path = Path(path)
        self._timeout = timeout
        self._conn: sqlite3.Connection | None = None
        # One thread per connection: sqlite3 connections are not to be shared across threads
        # mid-transaction, and a transaction spans several statements.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialkit-plan")
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SQLitePlanDB({str(self.path)!r}, prefix={self.prefix!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            _set_wal(conn, self._timeout)  # (the store's: retried when two processes race)
            conn.execute("PRAGMA synchronous=NORMAL")
            # The schema needs the write lock: only when a table is missing (a worker starting
            # must not queue behind the others' transactions for nothing).
            names = [f"{self.prefix}_{n}" for n in ("posts", "targets", "events", "pauses")]
            found = conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?, ?, ?)",
                names,
            ).fetchone()[0]
            if found != len(names):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in self.schema():
                        conn.execute(statement)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    conn.close()
                    raise
            self._conn = conn
        return self._conn

    async def _call(self, work: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: work(self._connect()))

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        async with self._lock:
            await self._call(lambda c: c.execute("BEGIN IMMEDIATE" if write else "BEGIN"))
            try:
                yield _SQLiteTx(self)
            except BaseException:
                await asyncio.shield(self._call(lambda c: c.execute("ROLLBACK")))
                raise
            await asyncio.shield(self._call(lambda c: c.execute("COMMIT")))

    async def aclose(self) -> None:
        async with self._lock:
            if self._conn is not None:
                conn = self._conn
                self._conn = None
                await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=False)


def _numbered(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …`` (the planner's SQL has no ``?`` in
    literals)."""
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, sql)


class _PostgresTx(Tx):
    def __init__(self, conn: Any, prefix: str) -> None:
        self._conn = conn
        self._prefix = prefix

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        rows = await self._conn.fetch(_numbered(sql), *args)
        return [tuple(row) for row in rows]

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self._conn.execute(_numbered(sql), *args)
        tail = str(status).rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def lock(self, name: str, *, shared: bool = False) -> None:
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await self._conn.execute(f"SELECT {function}(hashtext($1))", f"{self._prefix}:{name}")


class PostgresPlanDB(PlanDB):
    """The plan in PostgreSQL (extra ``postgres``, driver asyncpg), for workers on many
    machines. Give a DSN (a password in it never shows in the repr) or an asyncpg ``pool``
    (left open by :meth:`aclose`)."""

    dialect = "postgres"

    def __init__(
        self,
        dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres",
        *,
        prefix: str = "plan",
        pool: Any = None,
        min_size: int = 1,
        max_size: int = 4,
    ) -> None:
        super().__init__(prefix)
        self._dsn = dsn
        self._pool: Any = pool
        self._owns_pool = pool is None
        self._min_size = min_size
        self._max_size = max_size
        self._ready = False
        self._setup = asyncio.Lock()

    def __repr__(self) -> str:
        if not self._owns_pool:
            return f"PostgresPlanDB(pool=<injected>, prefix={self.prefix!r})"
        parts = urlsplit(self._dsn)
        where = f"{parts.scheme}://{parts.hostname or ''}"
        if parts.port:
            where += f":{parts.port}"
        return f"PostgresPlanDB({where + parts.path!r}, prefix={self.prefix!r})"

    async def _ready_pool(self) -> Any:
        if self._ready:
            return self._pool
        async with self._setup:
            if self._pool is None:
                try:
                    asyncpg = importlib.import_module("asyncpg")
                except ImportError:
                    raise ConfigurationError(
                        "PostgresPlanDB needs the 'postgres' extra: "
                        "pip install 'socialkit-client[postgres]'"
                    ) from None
                self._pool = await asyncpg.create_pool(
                    self._dsn, min_size=self._min_size, max_size=self._max_size
                )
            if not self._ready:
                async with self._pool.acquire() as conn:
                    # CREATE INDEX IF NOT EXISTS locks the table even when the index exists:
                    # only when a table is missing, under an advisory lock against a race.
                    names = [f"{self.prefix}_{n}" for n in ("posts", "targets", "events", "pauses")]
                    found = await conn.fetchval(
                        "SELECT COUNT(*) FROM unnest($1::text[]) AS n(name) "
                        "WHERE to_regclass(quote_ident(n.name)) IS NOT NULL",
                        names,
                    )
                    if found != len(names):
                        async with conn.transaction():
                            await conn.execute(
                                "SELECT pg_advisory_xact_lock(hashtext($1))", self.prefix
                            )
                            for statement in self.schema():
                                await conn.execute(statement)
                self._ready = True
        return self._pool

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Tx]:
        pool = await self._ready_pool()
        async with pool.acquire() as conn, conn.transaction():
            yield _PostgresTx(conn, self.prefix)

    async def aclose(self) -> None:
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
            self._pool = None
            self._ready = False


def open_plan_db(where: str | os.PathLike[str], *, prefix: str = "plan") -> PlanDB:
    """A ``postgresql://`` (or ``postgres://``) URL opens :class:`PostgresPlanDB`; anything
    else is the path of a SQLite file."""
    text = os.fspath(where)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresPlanDB(text, prefix=prefix)
    return SQLitePlanDB(text, prefix=prefix)


def placeholders(values: Sequence[object]) -> str:
    """``?, ?, ?`` for an ``IN (…)`` list."""
    return ", ".join("?" for _ in values)
