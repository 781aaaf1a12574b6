"""Fixtures of the Store contract tests: one isolated location per backend (see store_backends)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from store_backends import (
    POSTGRES_DSN,
    REDIS_URL,
    drop_postgres_table,
    drop_redis_prefix,
    open_store,
    postgres_ready,
    redis_ready,
)

from socialkit._store import Store


@pytest.fixture
async def store_config(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[dict[str, Any]]:
    """A fresh, isolated location for one backend: ``{"backend": ..., ...}``."""
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
    elif backend == "postgres":
        await postgres_ready()
        table = f"sk_test_{uuid.uuid4().hex[:16]}"
        yield {"backend": "postgres", "dsn": POSTGRES_DSN, "table": table}
        await drop_postgres_table(table)
    else:  # pragma: no cover - the parametrization lists the backends
        raise AssertionError(backend)


@pytest.fixture
def make_store(store_config: dict[str, Any]) -> Callable[[], Store]:
    return lambda: open_store(store_config)
