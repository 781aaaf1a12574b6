"""The ``Store`` contract (socialkit._store.Store), run against every backend.

Memory, SQLite (a file in tmp_path), Redis (127.0.0.1:6379) and PostgreSQL (127.0.0.1:5432).
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_backends import BACKENDS

from socialkit._store import SQLiteStore, Store

pytestmark = pytest.mark.anyio

HERE = Path(__file__).parent
PERSISTENT = [b for b in BACKENDS if b != "memory"]


all_backends = pytest.mark.parametrize("store_config", BACKENDS, indirect=True)
persistent_backends = pytest.mark.parametrize("store_config", PERSISTENT, indirect=True)


@all_backends
async def test_satisfies_the_protocol(make_store: Callable[[], Store]) -> None:
    store = make_store()
    assert isinstance(store, Store)
    await store.aclose()


@all_backends
async def test_get_put_overwrite_delete(make_store: Callable[[], Store]) -> None:
    store = make_store()
    try:
        assert await store.get("ns", "k") is None
        await store.put("ns", "k", "one")
        assert await store.get("ns", "k") == "one"
        await store.put("ns", "k", "two")
        assert await store.get("ns", "k") == "two"
        await store.delete("ns", "k")
        assert await store.get("ns", "k") is None
        await store.delete("ns", "k")  # absent: ignored
        await store.delete("never", "seen")
    finally:
        await store.aclose()


@all_backends
async def test_namespaces_are_separate(make_store: Callable[[], Store]) -> None:
    store = make_store()
    try:
        await store.put("a", "k", "in a")
        await store.put("b", "k", "in b")
        assert await store.get("a", "k") == "in a"
        assert await store.get("b", "k") == "in b"
        await store.delete("a", "k")
        assert await store.get("b", "k") == "in b"
        assert await store.items("a") == []
    finally:
        await store.aclose()


@all_backends
async def test_text_round_trips_exactly(make_store: Callable[[], Store]) -> None:
    store = make_store()
    value = json.dumps({"emoji": "🐈‍⬛", "é": "naïve", "quote": "'\"", "nl": "a\nb"})
    key = "clé:🔑 with spaces"
    try:
        await store.put("ns", key, value)
        assert await store.get("ns", key) == value
        assert await store.items("ns") == [(key, value)]
    finally:
        await store.aclose()


@all_backends
async def test_items_filters_by_prefix_and_sorts_by_key(make_store: Callable[[], Store]) -> None:
    store = make_store()
    try:
        for key in ["x:2", "x:10", "x:1", "y:1", "x_1", "x%1", "x*1", "x[1]", "X:1"]:
            await store.put("ns", key, f"v-{key}")
        await store.put("other", "x:3", "elsewhere")
        assert [k for k, _ in await store.items("ns", "x:")] == ["x:1", "x:10", "x:2"]
        # LIKE / glob wildcards in the prefix are literal characters.
        assert await store.items("ns", "x_") == [("x_1", "v-x_1")]
        assert await store.items("ns", "x%") == [("x%1", "v-x%1")]
        assert await store.items("ns", "x*") == [("x*1", "v-x*1")]
        assert await store.items("ns", "x[") == [("x[1]", "v-x[1]")]
        everything = await store.items("ns")
        assert [k for k, _ in everything] == sorted(k for k, _ in everything)
        assert len(everything) == 9
        assert await store.items("ns", "nothing") == []
    finally:
        await store.aclose()


@all_backends
async def test_compare_and_set_semantics(make_store: Callable[[], Store]) -> None:
    store = make_store()
    try:
        # expected None: only when absent
        assert await store.compare_and_set("ns", "k", None, "first") is True
        assert await store.compare_and_set("ns", "k", None, "second") is False
        assert await store.get("ns", "k") == "first"
        # expected value: only when equal
        assert await store.compare_and_set("ns", "k", "wrong", "third") is False
        assert await store.get("ns", "k") == "first"
        assert await store.compare_and_set("ns", "k", "first", "fourth") is True
        assert await store.get("ns", "k") == "fourth"
        # an absent key never equals an expected value
        assert await store.compare_and_set("ns", "absent", "fourth", "x") is False
        assert await store.get("ns", "absent") is None
        # the empty string is a value, not absence
        assert await store.compare_and_set("ns", "k", "fourth", "") is True
        assert await store.compare_and_set("ns", "k", None, "x") is False
        assert await store.compare_and_set("ns", "k", "", "back") is True
        assert await store.get("ns", "k") == "back"
    finally:
        await store.aclose()


@all_backends
async def test_concurrent_compare_and_set_loses_no_update(
    make_store: Callable[[], Store],
) -> None:
    store = make_store()

    async def increment() -> None:
        while True:
            current = await store.get("cas", "counter")
            if await store.compare_and_set("cas", "counter", current, str(int(current or "0") + 1)):
                return

    try:
        await asyncio.gather(*(increment() for _ in range(40)))
        assert await store.get("cas", "counter") == "40"
    finally:
        await store.aclose()


@persistent_backends
async def test_data_survives_a_new_store_object(make_store: Callable[[], Store]) -> None:
    first = make_store()
    await first.put("ns", "k", "kept")
    await first.aclose()
    second = make_store()
    try:
        assert await second.get("ns", "k") == "kept"
    finally:
        await second.aclose()


@persistent_backends
async def test_two_processes_compare_and_set_on_one_key(
    store_config: dict[str, Any], make_store: Callable[[], Store], tmp_path: Path
) -> None:
    """Two OS processes increment one counter through compare_and_set: no update is lost."""
    count = 100
    start = tmp_path / "go"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "_cas_worker.py"),
            json.dumps(store_config),
            str(count),
            str(start),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    start.touch()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        int(out.strip())  # the number of lost rounds (contention), printed by the worker
    store = make_store()
    try:
        assert await store.get("cas", "counter") == str(2 * count)
    finally:
        await store.aclose()


def test_sqlite_file_mode_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tokens.db"
    old = os.umask(0)  # the most permissive umask: the store must still restrict the file
    try:

        async def write() -> None:
            store = SQLiteStore(path)
            await store.put("ns", "k", "secret")
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            for suffix in ("-wal", "-shm"):
                side = path.with_name(path.name + suffix)
                if side.exists():
                    assert stat.S_IMODE(side.stat().st_mode) == 0o600, suffix
            await store.aclose()

        asyncio.run(write())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sqlite_tightens_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)

    async def write() -> None:
        store = SQLiteStore(path)
        await store.put("ns", "k", "v")
        await store.aclose()

    asyncio.run(write())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_backends_are_lazy_and_reprs_hide_passwords() -> None:
    import socialkit.stores as stores
    from socialkit.stores.postgres import PostgresStore
    from socialkit.stores.redis import RedisStore

    assert stores.RedisStore is RedisStore
    assert stores.PostgresStore is PostgresStore
    redis_store = RedisStore("redis://user:hunter2-pw@cache.example:6380/3")
    assert "hunter2" not in repr(redis_store)
    assert "cache.example:6380/3" in repr(redis_store)
    pg_store = PostgresStore("postgresql://app:hunter2-pw@db.example:5433/prod")
    assert "hunter2" not in repr(pg_store)
    assert "db.example:5433/prod" in repr(pg_store)


async def test_a_missing_driver_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from socialkit import ConfigurationError
    from socialkit.stores.postgres import PostgresStore
    from socialkit.stores.redis import RedisStore

    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes `import asyncpg` fail
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ConfigurationError, match=r"socialkit-client\[postgres\]"):
        await PostgresStore().get("ns", "k")
    with pytest.raises(ConfigurationError, match=r"socialkit-client\[redis\]"):
        await RedisStore().get("ns", "k")


def test_postgres_table_names_are_checked() -> None:
    from socialkit import ConfigurationError
    from socialkit.stores.postgres import PostgresStore

    with pytest.raises(ConfigurationError, match="identifier"):
        PostgresStore(table='kv"; DROP TABLE users; --')


@all_backends
async def test_compare_and_delete_semantics(make_store: Callable[[], Store]) -> None:
    """compare_and_delete (every shipped backend): remove only while the value is ``expected``."""
    store = make_store()
    try:
        assert await store.compare_and_delete("ns", "absent", "x") is False  # type: ignore[attr-defined]
        await store.put("ns", "k", "mine")
        await store.put("other", "k", "mine")
        assert await store.compare_and_delete("ns", "k", "theirs") is False  # type: ignore[attr-defined]
        assert await store.get("ns", "k") == "mine"
        assert await store.compare_and_delete("ns", "k", "mine") is True  # type: ignore[attr-defined]
        assert await store.get("ns", "k") is None
        assert await store.get("other", "k") == "mine"  # another namespace is untouched
        assert await store.compare_and_delete("ns", "k", "mine") is False  # type: ignore[attr-defined]
        await store.put("ns", "e", "")
        assert await store.compare_and_delete("ns", "e", "") is True  # type: ignore[attr-defined]
        assert await store.items("ns") == []
    finally:
        await store.aclose()


@all_backends
async def test_concurrent_compare_and_delete_has_one_winner(
    make_store: Callable[[], Store],
) -> None:
    store = make_store()
    try:
        await store.put("ns", "k", "v")
        results = await asyncio.gather(
            *(store.compare_and_delete("ns", "k", "v") for _ in range(20))  # type: ignore[attr-defined]
        )
        assert sorted(results) == [False] * 19 + [True]
    finally:
        await store.aclose()
