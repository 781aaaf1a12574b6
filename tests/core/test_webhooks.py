"""EventDeduplicator (socialkit.webhooks) on every Store backend, and its use by X's webhooks.

Backends as in tests/stores (store_backends.py): memory, SQLite in tmp_path, the real Redis at
127.0.0.1:6379 and PostgreSQL at 127.0.0.1:5432. The X delivery signature follows X's Account
Activity API reference ("Securing webhooks": ``x-twitter-webhooks-signature: sha256=`` + the
base64 HMAC-SHA256 of the raw body with the consumer secret), recomputed here with hmac.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.stores.store_backends import (
    POSTGRES_DSN,
    REDIS_URL,
    drop_postgres_table,
    drop_redis_prefix,
    open_store,
    postgres_ready,
    redis_ready,
)

from socialkit import ConfigurationError, MemoryStore
from socialkit._store import Store
from socialkit.adapters.x._webhooks import check_delivery, delivery_id
from socialkit.webhooks import EventDeduplicator

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def store_config(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    backend = request.param
    if backend == "memory":
        yield {"backend": "memory"}
    elif backend == "sqlite":
        yield {"backend": "sqlite", "path": str(tmp_path / "store.db")}
    elif backend == "redis":
        await redis_ready()
        prefix = f"socialkit-test-{uuid.uuid4().hex}"
        yield {"backend": "redis", "url": REDIS_URL, "prefix": prefix}
        await drop_redis_prefix(prefix)
    else:
        await postgres_ready()
        table = f"sk_test_{uuid.uuid4().hex[:16]}"
        yield {"backend": "postgres", "dsn": POSTGRES_DSN, "table": table}
        await drop_postgres_table(table)


@pytest.fixture
def make_store(store_config: dict[str, Any]) -> Callable[[], Store]:
    return lambda: open_store(store_config)


all_backends = pytest.mark.parametrize(
    "store_config", ["memory", "sqlite", "redis", "postgres"], indirect=True
)
shared_backends = pytest.mark.parametrize(
    "store_config", ["sqlite", "redis", "postgres"], indirect=True
)


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@all_backends
async def test_concurrent_duplicates_have_exactly_one_first(
    make_store: Callable[[], Store],
) -> None:
    # Four store objects (four connections / pools) race on the same ids.
    stores = [make_store() for _ in range(4)]
    dedups = [EventDeduplicator(s, "webhooks.test") for s in stores]
    if isinstance(stores[0], MemoryStore):  # memory cannot be shared: one object, many tasks
        dedups = [EventDeduplicator(stores[0], "webhooks.test")] * 4
    try:
        for event in ("evt-1", "evt-2", "évènement 3"):
            results = await asyncio.gather(*(d.first_seen(event) for d in dedups for _ in range(5)))
            assert results.count(True) == 1, (event, results)
        assert await dedups[0].first_seen("evt-1") is False
        assert await dedups[0].seen("evt-2") is True
        assert await dedups[0].seen("never") is False
    finally:
        for store in set(stores):
            await store.aclose()


_WORKER = """
import asyncio, json, sys
from tests.stores.store_backends import open_store
from socialkit.webhooks import EventDeduplicator

async def main(config, ids):
    store = open_store(config)
    dedup = EventDeduplicator(store, "webhooks.procs")
    try:
        await store.get("warm", "up")
        won = [i for i in ids if await dedup.first_seen(i)]
    finally:
        await store.aclose()
    print(json.dumps(won))

asyncio.run(main(json.loads(sys.argv[1]), json.loads(sys.argv[2])))
"""


@shared_backends
async def test_processes_racing_on_the_same_ids_each_win_distinct_ones(
    store_config: dict[str, Any],
) -> None:
    ids = [f"delivery-{n}" for n in range(60)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WORKER,
            json.dumps(store_config),
            json.dumps(ids if k % 2 else ids[::-1]),  # opposite orders meet in the middle
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for k in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    won: list[str] = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        won.extend(json.loads(out))
    assert sorted(won) == sorted(ids)  # every id accepted once, by exactly one process


@all_backends
async def test_expiry_forget_and_purge(make_store: Callable[[], Store]) -> None:
    store = make_store()
    clock = Clock()
    dedup = EventDeduplicator(store, "webhooks.ttl", ttl=timedelta(minutes=10), clock=clock)
    try:
        assert await dedup.first_seen("a") is True
        clock.now += 300
        assert await dedup.first_seen("b") is True
        clock.now += 299  # "a" has 1 s left
        assert await dedup.first_seen("a") is False
        clock.now += 1  # "a" expires now: accepted again, for a new ttl
        assert await dedup.seen("a") is False
        assert await dedup.first_seen("a") is True
        assert await dedup.first_seen("a") is False
        clock.now += 301  # "b" expired, the new "a" not
        assert await dedup.purge() == 1
        assert [k for k, _ in await store.items("webhooks.ttl")] == ["a"]
        # forget releases a claim whose handling failed: the retry is accepted
        assert await dedup.forget("a") is True
        assert await dedup.forget("a") is False
        assert await dedup.first_seen("a") is True
    finally:
        await store.aclose()


async def test_expired_entries_are_purged_while_claiming() -> None:
    store = MemoryStore()
    clock = Clock()
    dedup = EventDeduplicator(store, "w", ttl=timedelta(seconds=60), clock=clock)
    for n in range(5):
        assert await dedup.first_seen(f"old-{n}")
    clock.now += 61  # one purge interval (the ttl) later, the next claim purges
    assert await dedup.first_seen("new")
    assert [k for k, _ in await store.items("w")] == ["new"]


async def test_one_purge_per_interval_across_processes() -> None:
    store = MemoryStore()
    clock = Clock()
    first = EventDeduplicator(store, "w", ttl=timedelta(seconds=60), clock=clock)
    assert await first.first_seen("a")  # the first claim purges (nothing yet) and notes when
    await store.put("w", "old", "1.0")  # an entry that expired long ago
    clock.now += 10
    second = EventDeduplicator(store, "w", ttl=timedelta(seconds=60), clock=clock)
    assert await second.first_seen("b")  # a new process: the last purge was 10 s ago
    assert await store.get("w", "old") == "1.0"
    clock.now += 51
    assert await second.first_seen("c")  # one interval after the last purge, by anyone
    assert [k for k, _ in await store.items("w")] == ["b", "c"]


async def test_forget_keeps_a_claim_made_meanwhile() -> None:
    class Racing(MemoryStore):
        """Between forget's read and its delete, another process re-claims the expired id."""

        async def get(self, namespace: str, key: str) -> str | None:
            value = await super().get(namespace, key)
            if self.race:
                self.race = False
                await super().put(namespace, key, "9999999999.0")
            return value

    store = Racing()
    store.race = False
    dedup = EventDeduplicator(store, "w")
    assert await dedup.first_seen("e")
    store.race = True
    assert await dedup.forget("e") is False
    assert await store.get("w", "e") == "9999999999.0"


async def test_a_store_without_compare_and_delete() -> None:
    class OldStore:
        """A Store written before compare_and_delete existed (the protocol's methods only)."""

        def __init__(self) -> None:
            self.inner = MemoryStore()

        async def get(self, namespace: str, key: str) -> str | None:
            return await self.inner.get(namespace, key)

        async def put(self, namespace: str, key: str, value: str) -> None:
            await self.inner.put(namespace, key, value)

        async def delete(self, namespace: str, key: str) -> None:
            await self.inner.delete(namespace, key)

        async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
            return await self.inner.items(namespace, prefix)

        async def compare_and_set(
            self, namespace: str, key: str, expected: str | None, value: str
        ) -> bool:
            return await self.inner.compare_and_set(namespace, key, expected, value)

        async def aclose(self) -> None:
            await self.inner.aclose()

    store = OldStore()
    assert isinstance(store, Store)
    clock = Clock()
    dedup = EventDeduplicator(store, "w", ttl=timedelta(seconds=10), clock=clock)
    assert await dedup.first_seen("e") is True
    assert await dedup.first_seen("e") is False
    clock.now += 11
    assert await dedup.first_seen("e") is True  # expiry works without deletion
    with pytest.raises(ConfigurationError, match="compare_and_delete"):
        await dedup.purge()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"namespace": ""}, "namespace"),
        ({"ttl": timedelta(0)}, "ttl"),
        ({"purge_interval": timedelta(seconds=-1)}, "purge_interval"),
    ],
)
def test_bad_settings_are_configuration_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        EventDeduplicator(MemoryStore(), **kwargs)


async def test_an_empty_event_id_is_refused() -> None:
    dedup = EventDeduplicator(MemoryStore())
    with pytest.raises(ValueError, match="non-empty"):
        await dedup.first_seen("")


# -- X -----------------------------------------------------------------------------------------

SECRET = "consumer-secret-for-webhooks"
# An Account Activity delivery (a tweet_create_events payload, shape of X's AAA reference).
BODY = b'{"for_user_id":"2244994945","tweet_create_events":[{"id_str":"1790000000000000001"}]}'


def _header(body: bytes) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    )


@shared_backends
async def test_x_replayed_delivery_is_a_duplicate(make_store: Callable[[], Store]) -> None:
    store = make_store()
    clock = Clock()
    dedup = EventDeduplicator(store, "webhooks.x", ttl=timedelta(days=3), clock=clock)
    try:
        header = _header(BODY)
        assert await check_delivery(BODY, header, SECRET) == "new"  # no deduplicator: opt-in
        assert await check_delivery(BODY, header, SECRET, deduplicator=dedup) == "new"
        replays = await asyncio.gather(
            *(check_delivery(BODY, header, SECRET, deduplicator=dedup) for _ in range(5))
        )
        assert replays == ["duplicate"] * 5
        other = BODY.replace(b"001", b"002")
        assert await check_delivery(other, _header(other), SECRET, deduplicator=dedup) == "new"
        # A forged signature is invalid and claims nothing.
        forged = BODY.replace(b"001", b"003")
        assert await check_delivery(forged, header, SECRET, deduplicator=dedup) == "invalid"
        assert await dedup.seen(delivery_id(forged)) is False
        # Handling failed: forgetting lets X's retry through, once.
        assert await dedup.forget(delivery_id(BODY))
        assert await check_delivery(BODY, header, SECRET, deduplicator=dedup) == "new"
        # A replay older than the ttl is accepted again (choose the ttl accordingly).
        clock.now += timedelta(days=3).total_seconds()
        assert await check_delivery(BODY, header, SECRET, deduplicator=dedup) == "new"
    finally:
        await store.aclose()


def test_x_delivery_id_is_the_body_digest() -> None:
    assert delivery_id(BODY) == "sha256:" + hashlib.sha256(BODY).hexdigest()
    assert delivery_id(BODY.decode()) == delivery_id(BODY)
