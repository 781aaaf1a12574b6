"""One small persistence interface for everything socialkit keeps between runs.

Tokens and sessions (``auth``), inbox cursors and message states, metric snapshots and watch
state (``workflows``) all go through :class:`Store`: an async key-value store of text values in
namespaces, with a compare-and-set so that several processes can share it safely.

The four backends shipped here (memory, SQLite, Redis, PostgreSQL) also offer
``compare_and_delete(namespace, key, expected) -> bool``: remove the key only while it still holds
``expected``. It is not part of the :class:`Store` protocol (a store written before it still
satisfies ``Store``); code that needs it (expiring entries safely, as
:class:`socialkit.webhooks.EventDeduplicator` does) checks for it.

Backends: :class:`MemoryStore` (tests, one process), :class:`SQLiteStore` (the embedded default:
one file under the user's data directory, mode 0600, WAL, safe for concurrent processes);
Redis and PostgreSQL backends live in ``socialkit.stores`` behind the ``redis`` and
``postgres`` extras.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["MemoryStore", "SQLiteStore", "Store", "default_store_path"]


@runtime_checkable
class Store(Protocol):
    """An async key-value store of text values, grouped in namespaces."""

    async def get(self, namespace: str, key: str) -> str | None:
        """The value, or ``None`` when the key is absent."""
        ...

    async def put(self, namespace: str, key: str, value: str) -> None:
        """Set the value (insert or replace)."""
        ...

    async def delete(self, namespace: str, key: str) -> None:
        """Remove the key; absent keys are ignored."""
        ...

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        """Every ``(key, value)`` of the namespace whose key starts with ``prefix``, by key."""
        ...

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        """Set ``value`` only if the current value is ``expected`` (``None``: absent).

        Returns whether it was set. This is how concurrent processes avoid clobbering each
        other (a rotated refresh token, an inbox cursor).
        """
        ...

    async def aclose(self) -> None:
        """Release connections and files."""
        ...


class MemoryStore:
    """A store in this process's memory; nothing survives the process."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._data)} keys)"

    async def get(self, namespace: str, key: str) -> str | None:
        return self._data.get((namespace, key))

    async def put(self, namespace: str, key: str, value: str) -> None:
        self._data[(namespace, key)] = value

    async def delete(self, namespace: str, key: str) -> None:
        self._data.pop((namespace, key), None)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        return sorted(
            (k, v) for (ns, k), v in self._data.items() if ns == namespace and k.startswith(prefix)
        )

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        async with self._lock:
            if self._data.get((namespace, key)) != expected:
                return False
            self._data[(namespace, key)] = value
            return True

    async def compare_and_delete(self, namespace: str, key: str, expected: str) -> bool:
        """Remove the key only if its value is ``expected``; whether it was removed."""
        async with self._lock:
            if self._data.get((namespace, key)) != expected:
                return False
            del self._data[(namespace, key)]
            return True

    async def aclose(self) -> None:
        return None


def default_store_path() -> Path:
    """``socialkit.db`` under the platform's user data directory (``SOCIALKIT_STORE`` overrides)."""
    override = os.environ.get("SOCIALKIT_STORE")
    if override:
        return Path(override)
    import platformdirs  # only when the default path is needed: it is slow to import

    return Path(platformdirs.user_data_dir("socialkit", appauthor=False)) / "socialkit.db"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID
"""


def _set_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch a new database to WAL. Two processes opening the same new file at once can meet
    SQLITE_BUSY here, which sqlite's busy timeout does not cover for a journal-mode change:
    retried, with a short backoff, for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class SQLiteStore:
    """A store in one SQLite file: the embedded default.

    The file is created with mode 0600 (it holds tokens). WAL mode and a busy timeout make it
    safe for several processes at once; each write is its own transaction. Calls run in a worker
    thread so the event loop never blocks on disk.
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, timeout: float = 30.0
    ) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self._timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Create the file with 0600 before sqlite opens it, so no other user can read tokens.
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            _set_wal(conn, self._timeout)
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def _run_get(self, namespace: str, key: str) -> str | None:
        with self._lock:
            row = (
                self._connect()
                .execute("SELECT value FROM kv WHERE namespace=? AND key=?", (namespace, key))
                .fetchone()
            )
        return None if row is None else str(row[0])

    def _run_put(self, namespace: str, key: str, value: str) -> None:
        with self._lock:
            self._connect().execute(
                "INSERT INTO kv(namespace, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT(namespace, key) DO UPDATE SET value=excluded.value",
                (namespace, key, value),
            )

    def _run_delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._connect().execute("DELETE FROM kv WHERE namespace=? AND key=?", (namespace, key))

    def _run_items(self, namespace: str, prefix: str) -> list[tuple[str, str]]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._lock:
            rows = (
                self._connect()
                .execute(
                    "SELECT key, value FROM kv WHERE namespace=? AND key LIKE ? ESCAPE '\\' "
                    "ORDER BY key",
                    (namespace, escaped + "%"),
                )
                .fetchall()
            )
        # LIKE ignores ASCII case in SQLite; keep only the keys that really start with prefix.
        return [(str(k), str(v)) for k, v in rows if str(k).startswith(prefix)]

    def _run_cas(self, namespace: str, key: str, expected: str | None, value: str) -> bool:
        with self._lock:
            conn = self._connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT value FROM kv WHERE namespace=? AND key=?", (namespace, key)
                ).fetchone()
                current = None if row is None else str(row[0])
                if current != expected:
                    conn.execute("ROLLBACK")
                    return False
                conn.execute(
                    "INSERT INTO kv(namespace, key, value) VALUES (?, ?, ?) "
                    "ON CONFLICT(namespace, key) DO UPDATE SET value=excluded.value",
                    (namespace, key, value),
                )
                conn.execute("COMMIT")
                return True
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _run_cad(self, namespace: str, key: str, expected: str) -> bool:
        with self._lock:
            # One statement: SQLite runs it atomically against other processes' writes.
            cursor = self._connect().execute(
                "DELETE FROM kv WHERE namespace=? AND key=? AND value=?", (namespace, key, expected)
            )
            return cursor.rowcount == 1

    async def get(self, namespace: str, key: str) -> str | None:
        return await asyncio.to_thread(self._run_get, namespace, key)

    async def put(self, namespace: str, key: str, value: str) -> None:
        await asyncio.to_thread(self._run_put, namespace, key, value)

    async def delete(self, namespace: str, key: str) -> None:
        await asyncio.to_thread(self._run_delete, namespace, key)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        return await asyncio.to_thread(self._run_items, namespace, prefix)

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        return await asyncio.to_thread(self._run_cas, namespace, key, expected, value)

    async def compare_and_delete(self, namespace: str, key: str, expected: str) -> bool:
        """Remove the key only if its value is ``expected``; whether it was removed."""
        return await asyncio.to_thread(self._run_cad, namespace, key, expected)

    async def aclose(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
