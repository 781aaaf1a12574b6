"""A :class:`~socialkit._store.Store` in Redis (extra ``redis``), shared by processes and machines.

Each namespace is one Redis hash (``{prefix}:kv:{namespace}``), so ``items`` reads a single key
and nothing else in the database is touched. :meth:`RedisStore.compare_and_set` is one Lua
script, which Redis runs atomically: two processes can never both win it.

``redis`` (redis-py's asyncio client) is imported on first use, so ``import socialkit`` stays
light and the extra stays optional.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from socialkit._errors import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisStore"]

# KEYS[1] hash; ARGV[1] field, ARGV[2] "1" when the field must be absent, ARGV[3] expected
# value, ARGV[4] new value. HGET gives false for an absent field.
_CAS_SCRIPT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '1' then
  if current ~= false then return 0 end
elseif current ~= ARGV[3] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
return 1
"""

# KEYS[1] hash; ARGV[1] field, ARGV[2] expected value.
_CAD_SCRIPT = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

_GLOB_SPECIAL = frozenset("*?[]\\")


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in _GLOB_SPECIAL else ch for ch in text)


def _redis_module() -> Any:
    try:
        return importlib.import_module("redis.asyncio")
    except ImportError:
        raise ConfigurationError(
            "RedisStore needs the 'redis' extra: pip install 'socialkit[redis]'"
        ) from None


class RedisStore:
    """A store in Redis.

    Give a URL (``redis://host:6379/0``, ``rediss://`` for TLS; a password in the URL is never
    shown in the repr) or an existing ``redis.asyncio.Redis`` client (which :meth:`aclose`
    leaves open). ``prefix`` separates several applications in one database.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Redis | None = None,
        prefix: str = "socialkit",
    ) -> None:
        if not prefix or any(ch in prefix for ch in "\r\n"):
            raise ConfigurationError("The Redis key prefix must be a non-empty single line")
        self._url = url
        self.prefix = prefix
        self._owns_client = client is None
        self._client: Redis | None = client
        self._cas: Any = None
        self._cad: Any = None

    def __repr__(self) -> str:
        if not self._owns_client:
            return f"RedisStore(client=<injected>, prefix={self.prefix!r})"
        # Show scheme, host, port and db only: the URL may carry a password.
        parts = urlsplit(self._url)
        where = f"{parts.scheme}://{parts.hostname or ''}"
        if parts.port:
            where += f":{parts.port}"
        where += parts.path
        return f"RedisStore({where!r}, prefix={self.prefix!r})"

    def _conn(self) -> Redis:
        if self._client is None:
            module = _redis_module()
            self._client = cast("Redis", module.Redis.from_url(self._url))
        return self._client

    def _key(self, namespace: str) -> str:
        return f"{self.prefix}:kv:{namespace}"

    async def get(self, namespace: str, key: str) -> str | None:
        value = await self._conn().hget(self._key(namespace), key)
        return None if value is None else _text(value)

    async def put(self, namespace: str, key: str, value: str) -> None:
        await self._conn().hset(self._key(namespace), key, value)

    async def delete(self, namespace: str, key: str) -> None:
        await self._conn().hdel(self._key(namespace), key)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        match = _glob_escape(prefix) + "*"
        async for field, value in self._conn().hscan_iter(self._key(namespace), match=match):
            name = _text(field)
            if name.startswith(prefix):
                found.append((name, _text(value)))
        found.sort()
        return found

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        if self._cas is None:
            self._cas = self._conn().register_script(_CAS_SCRIPT)
        absent = "1" if expected is None else "0"
        result = await self._cas(
            keys=[self._key(namespace)], args=[key, absent, expected or "", value]
        )
        return bool(int(result))

    async def compare_and_delete(self, namespace: str, key: str, expected: str) -> bool:
        """Remove the field only if its value is ``expected`` (one Lua script: atomic)."""
        if self._cad is None:
            self._cad = self._conn().register_script(_CAD_SCRIPT)
        result = await self._cad(keys=[self._key(namespace)], args=[key, expected])
        return bool(int(result))

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
        self._client = None if self._owns_client else self._client
        self._cas = None
        self._cad = None
