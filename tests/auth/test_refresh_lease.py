"""One refresh per account across processes, even when the lease holder dies or the server is slow.

Three real processes (``_refresh_worker.py``) share one store (SQLite file, and Redis on
127.0.0.1:6379) and one expired token. The token server (``token_server.py``) rotates refresh
tokens and revokes the whole grant when a spent refresh token comes back (RFC 9700 section
4.14.2), so a second refresh with the same token would lock the account out: the tests count, at
the server, the refreshes carried out and the reuses, and check that the grant is still alive.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from token_server import TokenServer

from socialkit._store import SQLiteStore, Store
from socialkit.auth import Token, TokenStore

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

HERE = Path(__file__).parent
NETWORK = "oidc"
WORKERS = 3


@pytest.fixture(params=["sqlite", "redis"])
async def store_spec(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    if request.param == "sqlite":
        yield {"backend": "sqlite", "path": str(tmp_path / "tokens.db")}
        return
    from tests.stores.store_backends import REDIS_URL, drop_redis_prefix, redis_ready

    await redis_ready()
    prefix = f"socialkit-test-{uuid.uuid4().hex}"
    yield {"backend": "redis", "url": REDIS_URL, "prefix": prefix}
    await drop_redis_prefix(prefix)


def open_store(spec: dict[str, Any]) -> Store:
    if spec["backend"] == "sqlite":
        return SQLiteStore(spec["path"])
    from socialkit.stores.redis import RedisStore

    return RedisStore(spec["url"], prefix=spec["prefix"])


@pytest.fixture
async def server() -> AsyncIterator[TokenServer]:
    srv = TokenServer()
    await srv.start()
    yield srv
    await srv.stop()


async def seed(server: TokenServer, spec: dict[str, Any]) -> Token:
    """Store an expired token of the grant (its access token is still known to the server)."""
    access, refresh = server.issue()
    token = Token(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh),
        expires_at=datetime.now(timezone.utc) - timedelta(minutes=1),
    )
    store = TokenStore(open_store(spec))
    await store.put(NETWORK, "alice", token)
    await store.aclose()
    return token


async def stored(spec: dict[str, Any]) -> Token | None:
    store = TokenStore(open_store(spec))
    try:
        return await store.get(NETWORK, "alice")
    finally:
        await store.aclose()


async def spawn(
    server: TokenServer, spec: dict[str, Any], tmp_path: Path, **options: Any
) -> tuple[list[asyncio.subprocess.Process], Callable[[], None]]:
    start = tmp_path / f"go-{uuid.uuid4().hex}"
    worker_spec = {
        "config": {
            "network": NETWORK,
            "authorization_endpoint": f"{server.url}/authorize",
            "token_endpoint": f"{server.url}/token",
            "client_id": "socialkit-test",
        },
        "store": spec,
        "url": f"{server.url}/me",
        "start": str(start),
        **options,
    }
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "_refresh_worker.py"),
            json.dumps(worker_spec),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(WORKERS)
    ]
    return procs, start.touch


async def reports(procs: list[asyncio.subprocess.Process]) -> list[dict[str, Any] | None]:
    """Each worker's JSON report; None for a process that was killed."""
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    found: list[dict[str, Any] | None] = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        if proc.returncode == -signal.SIGKILL:
            found.append(None)
            continue
        assert proc.returncode == 0, err.decode()[-3000:]
        found.append(json.loads(out))
    return found


async def assert_grant_alive(server: TokenServer, spec: dict[str, Any]) -> None:
    """No lockout: the stored refresh token is the grant's live one."""
    assert server.reuses == 0
    assert not server.revoked
    final = await stored(spec)
    assert final is not None
    assert final.refresh_token is not None
    assert final.refresh_token.get_secret_value() == server.active_refresh_token()


async def test_a_token_endpoint_slower_than_the_lease_gets_one_refresh(
    server: TokenServer, store_spec: dict[str, Any], tmp_path: Path
) -> None:
    # The refresh takes 4 s, the lease is 1.2 s: only its renewal keeps the others waiting.
    # (Not shorter: on a loaded test machine a process may stall for a few hundred ms, and a
    # lease that lapses while its holder is alive is exactly what a lease cannot tell apart
    # from a dead holder.)
    server.delay = 4.0
    await seed(server, store_spec)
    procs, go = await spawn(server, store_spec, tmp_path, lease=1.2, poll_interval=0.02)
    go()
    found = await reports(procs)
    assert all(r is not None for r in found)
    assert [r["statuses"] for r in found if r] == [[200] * 20] * WORKERS
    assert server.refreshes == 1
    assert len(server.token_requests) == 1
    assert sum(r["refreshes"] for r in found if r) == 1
    await assert_grant_alive(server, store_spec)


async def test_the_lease_holder_killed_mid_refresh_leaves_one_refresh_and_no_lockout(
    server: TokenServer, store_spec: dict[str, Any], tmp_path: Path
) -> None:
    # The first refresh request hangs at the server; its sender is killed with SIGKILL before
    # the server decided, so the server never carried it out. The lease (1 s) then lapses,
    # since nobody renews it, and one survivor refreshes.
    server.first_delay = 60.0
    server.delay = 0.2
    await seed(server, store_spec)
    procs, go = await spawn(server, store_spec, tmp_path, lease=1.0, poll_interval=0.02)
    go()
    await asyncio.wait_for(server.first_request.wait(), 60)
    holder = int(server.token_requests[0])
    assert holder in [p.pid for p in procs]
    os.kill(holder, signal.SIGKILL)
    found = await reports(procs)
    killed = [p for p in procs if p.returncode == -signal.SIGKILL]
    assert [p.pid for p in killed] == [holder]
    survivors = [r for r in found if r is not None]
    assert [r["statuses"] for r in survivors] == [[200] * 20] * (WORKERS - 1)
    assert server.abandoned == 1
    assert server.refreshes == 1  # the survivors' one refresh
    assert len(server.token_requests) == 2  # the killed holder's, then exactly one more
    assert sum(r["refreshes"] for r in survivors) == 1
    await assert_grant_alive(server, store_spec)


async def test_a_refused_refresh_fails_every_queued_request_once(
    server: TokenServer, store_spec: dict[str, Any], tmp_path: Path
) -> None:
    # The grant was revoked (the user withdrew the app): the refresh is refused. Every request
    # in every process fails with the same typed error, and the refresh token is sent once.
    server.delay = 0.5
    token = await seed(server, store_spec)
    server.revoked = True
    procs, go = await spawn(
        server, store_spec, tmp_path, lease=5.0, poll_interval=0.02, requests=10
    )
    go()
    found = await reports(procs)
    assert [r["statuses"] for r in found if r] == [["RefreshError:invalid_grant"] * 10] * WORKERS
    assert len(server.token_requests) == 1
    assert sum(r["token_requests"] for r in found if r) == 1
    assert server.refreshes == 0
    kept = await stored(store_spec)
    assert kept is not None
    assert kept.dumps() == token.dumps()  # left as it was
