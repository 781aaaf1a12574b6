"""Shared stores behind optional extras, imported on first use.

``RedisRateLimitStore`` (extra ``redis``): rate-limit state shared by several processes.
``RedisStore`` (extra ``redis``) and ``PostgresStore`` (extra ``postgres``): the
:class:`socialkit._store.Store` key-value interface on a shared server.
``KeyringStore`` (extra ``keyring``): the same interface in the OS keyring, for a desktop user.
Nothing here is imported until it is asked for, so ``import socialkit`` stays light and the
extras stay optional.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialkit.stores.keyring import KeyringStore
    from socialkit.stores.postgres import PostgresStore
    from socialkit.stores.redis import RedisStore
    from socialkit.stores.redis_ratelimit import RedisRateLimitStore

__all__ = ["KeyringStore", "PostgresStore", "RedisRateLimitStore", "RedisStore"]

_LAZY = {
    "KeyringStore": "socialkit.stores.keyring",
    "PostgresStore": "socialkit.stores.postgres",
    "RedisRateLimitStore": "socialkit.stores.redis_ratelimit",
    "RedisStore": "socialkit.stores.redis",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'socialkit.stores' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
