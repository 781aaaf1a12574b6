"""Rate-limit state in Redis, shared by every process and machine of one application.

Each operation is one Lua script, so Redis runs it atomically: two processes reserving the last
unit of a bucket at the same moment get one grant and one "wait until the reset" between them,
never two grants. The rules are those of :func:`socialkit._http.reserve_unit` and
:func:`socialkit._http.apply_update` (the in-memory store), written in Lua.

Times are Unix seconds from the calling machine's clock; machines sharing a store should keep
their clocks in sync (NTP), as the networks' reset times assume anyway.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from socialkit._errors import ConfigurationError
from socialkit._http import BOUNDARY_GRACE
from socialkit._http._ratelimit import (
    GRANTED,
    SAME_WINDOW_TOLERANCE,
    BucketKey,
    BucketState,
    RateLimitUpdate,
    Reservation,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisRateLimitStore"]

# Fields of the bucket hash: limit, remaining, reset, updated, next_at (absent = unknown), and
# refilled: after a local refill, until an answer tells the new window's reset, the reset that
# ended (older versions wrote 1). Numbers are written with %.17g so that Unix times keep their
# fractions.
#
# The flights hash counts the units in the air per "flight|owner": the flight is the reset a
# unit was granted under, or -T for one granted after the refill of the window that ended at
# T, before the new reset was known (socialkit._http._ratelimit.pending_flight); that one's
# window is over once the bucket has learned a later reset and it has passed.
_STATE_LUA = """
local function num(v)
  if v == false or v == nil or v == '' then return nil end
  return tonumber(v)
end
local function fmt(v) if v == nil then return '' end return string.format('%.17g', v) end
"""

_RESERVE_LUA = (
    _STATE_LUA
    + """
local key, flights = KEYS[1], KEYS[2]
local now = tonumber(ARGV[1])
local pace = ARGV[2] == '1'
local token, grace, ttl, landing = ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6] == '1'
local f = redis.call('HMGET', key, 'limit', 'remaining', 'reset', 'updated', 'next_at', 'refilled')
local limit, remaining, reset = num(f[1]), num(f[2]), num(f[3])
local updated, next_at, refilled = num(f[4]), num(f[5]), num(f[6])
if remaining == nil then
  return {'1', '0'}
end
if reset ~= nil and reset <= now then
  -- The window is over. Requests other sessions (other processes) reserved in it and have
  -- not seen answered yet land in the new window (the server counts them there): the bucket
  -- refills once they have, or their grace is over. Flights past their grace are forgotten.
  local wait = nil
  local entries = redis.call('HGETALL', flights)
  for i = 1, #entries, 2 do
    local field, count = entries[i], tonumber(entries[i + 1])
    local sep = string.find(field, '|', 1, true)
    local ended = tonumber(string.sub(field, 1, sep - 1))
    if ended < 0 then
      -- Granted after a refill at -ended: its window ended at this reset, if learned since.
      if -ended < reset then ended = reset else ended = nil end
    end
    if count <= 0 or (ended ~= nil and ended + grace <= now) then
      redis.call('HDEL', flights, field)
    elseif landing and ended ~= nil and ended <= now and string.sub(field, sep + 1) ~= token then
      if wait == nil or ended + grace - now < wait then wait = ended + grace - now end
    end
  end
  if wait ~= nil then
    return {'2', fmt(wait),
            fmt(limit), fmt(remaining), fmt(reset), fmt(updated), fmt(next_at), fmt(refilled)}
  end
  if limit ~= nil then remaining = limit else remaining = math.max(remaining, 1) end
  refilled = reset
  reset = nil
end
if remaining <= 0 then
  if reset == nil then
    return {'1', '0'}
  end
  return {'0', fmt(reset - now),
          fmt(limit), fmt(remaining), fmt(reset), fmt(updated), fmt(next_at), fmt(refilled)}
end
local delay = 0
if pace and reset ~= nil then
  local slot = now
  if next_at ~= nil and next_at >= now then slot = next_at end
  next_at = slot + math.max(0, reset - slot) / remaining
  delay = slot - now
end
remaining = remaining - 1
redis.call('HSET', key, 'remaining', fmt(remaining))
if reset == nil then redis.call('HDEL', key, 'reset') end
if next_at ~= nil then redis.call('HSET', key, 'next_at', fmt(next_at)) end
if refilled ~= nil then redis.call('HSET', key, 'refilled', fmt(refilled)) end
local flight = reset
if flight == nil and refilled ~= nil then flight = -refilled end
if flight ~= nil then
  -- In the air until land() is called for it (see RedisRateLimitStore.land).
  redis.call('HINCRBY', flights, fmt(flight) .. '|' .. token, 1)
  redis.call('PEXPIRE', flights, ttl)
end
return {'1', fmt(delay),
        fmt(limit), fmt(remaining), fmt(reset), fmt(updated), fmt(next_at), fmt(refilled),
        fmt(flight)}
"""
)

_LAND_LUA = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
"""

_UPDATE_LUA = (
    _STATE_LUA
    + """
local key, index, flights = KEYS[1], KEYS[2], KEYS[3]
local now = tonumber(ARGV[1])
local ulimit, uremaining = num(ARGV[2]), num(ARGV[3])
local reset, reset_after = num(ARGV[4]), num(ARGV[5])
local ttl, tolerance, bucket, landed = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8], ARGV[9]
if landed ~= '' then
  -- The answer that carried this update was a request's in the air: it has landed (as land()).
  if redis.call('HINCRBY', flights, landed, -1) <= 0 then redis.call('HDEL', flights, landed) end
end
if reset == nil and reset_after ~= nil then reset = now + reset_after end
local limit, remaining, next_at
if reset ~= nil and reset <= now then
  -- A late response about a window that is already over: only its limit still holds.
  if ulimit ~= nil then redis.call('HSET', key, 'limit', fmt(ulimit)) end
  redis.call('HSET', key, 'updated', fmt(now))
  redis.call('PEXPIRE', key, ttl)
  redis.call('SADD', index, bucket)
  redis.call('PEXPIRE', index, ttl)
  local f = redis.call('HMGET', key,
    'limit', 'remaining', 'reset', 'updated', 'next_at', 'refilled')
  return {f[1] or '', f[2] or '', f[3] or '', f[4] or '', f[5] or '', f[6] or ''}
end
if redis.call('EXISTS', key) == 0 then
  limit, remaining = ulimit, uremaining
else
  local f = redis.call('HMGET', key, 'limit', 'remaining', 'reset', 'next_at', 'refilled')
  local olimit, oremaining, oreset, onext = num(f[1]), num(f[2]), num(f[3]), num(f[4])
  local orefilled = num(f[5]) ~= nil
  limit = ulimit
  if limit == nil then limit = olimit end
  local same = reset == nil or oreset == nil
  if not same then same = oreset > now and math.abs(reset - oreset) < tolerance end
  remaining = uremaining
  if remaining == nil then
    remaining = oremaining
  elseif oremaining ~= nil and (orefilled or (same and oreset ~= nil)) then
    remaining = math.min(remaining, oremaining)
  end
  if reset == nil and oreset ~= nil and oreset > now then reset = oreset end
  if same then next_at = onext end
  redis.call('DEL', key)
end
redis.call('HSET', key, 'updated', fmt(now))
if limit ~= nil then redis.call('HSET', key, 'limit', fmt(limit)) end
if remaining ~= nil then redis.call('HSET', key, 'remaining', fmt(remaining)) end
if reset ~= nil then redis.call('HSET', key, 'reset', fmt(reset)) end
if next_at ~= nil then redis.call('HSET', key, 'next_at', fmt(next_at)) end
redis.call('PEXPIRE', key, ttl)
redis.call('SADD', index, bucket)
redis.call('PEXPIRE', index, ttl)
return {fmt(limit), fmt(remaining), fmt(reset), fmt(now), fmt(next_at), ''}
"""
)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    if value == "":
        return None
    return float(value)


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


def _state(fields: list[Any]) -> BucketState:
    limit, remaining, reset, updated, next_at, refilled = fields
    return BucketState(
        limit=_int(limit),
        remaining=_int(remaining),
        reset=_float(reset),
        updated=_float(updated) or 0.0,
        next_at=_float(next_at),
        refilled=_float(refilled) is not None,
    )


def _arg(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class RedisRateLimitStore:
    """A :class:`~socialkit._http.RateLimitStore` in Redis (extra ``redis``).

    Args:
        url: the Redis URL (ignored when ``client`` is given).
        client: an existing ``redis.asyncio.Redis``; the store does not close it.
        prefix: prepended to every key, so several applications can share a server.
        ttl: seconds a bucket is kept after its last update.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        client: Redis | None = None,
        prefix: str = "socialkit",
        ttl: float = 86400.0,
    ) -> None:
        try:
            import redis.asyncio as redis_asyncio
        except ImportError as exc:  # pragma: no cover - the extra is installed in CI
            raise ConfigurationError(
                "RedisRateLimitStore needs the 'redis' extra: pip install 'socialkit-client[redis]'"
            ) from exc
        self._owns_client = client is None
        self._client: Redis = redis_asyncio.Redis.from_url(url) if client is None else client
        self._prefix = prefix
        self._ttl_ms = int(ttl * 1000)
        self._reserve = self._client.register_script(_RESERVE_LUA)
        self._update = self._client.register_script(_UPDATE_LUA)
        self._land = self._client.register_script(_LAND_LUA)
        self._keys: dict[BucketKey, str] = {}
        #: Whose requests are in the air when a caller does not say (see ``reserve``).
        self._token = secrets.token_hex(8)

    def __repr__(self) -> str:
        # The URL may carry a password: show only where the data lives.
        kwargs = self._client.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
        return f"RedisRateLimitStore({where}/{kwargs.get('db', 0)}, prefix={self._prefix!r})"

    def _base(self, network: str, account: str) -> str:
        return f"{self._prefix}:ratelimit:{quote(network, safe='')}:{quote(account, safe='')}"

    def _key(self, key: BucketKey) -> str:
        name = self._keys.get(key)
        if name is None:
            name = f"{self._base(key.network, key.account)}:b:{quote(key.bucket, safe='')}"
            self._keys[key] = name
        return name

    async def reserve(
        self,
        key: BucketKey,
        now: float,
        *,
        pace: bool = False,
        landing: bool = True,
        owner: str | None = None,
    ) -> Reservation:
        """Take a unit (see :class:`~socialkit._http.RateLimitStore`). A unit taken under a
        known reset is in the air until :meth:`land`, under ``owner`` (a session; this store
        when not given). When the window is over while requests that other owners (other
        processes, other sessions) reserved in it are still in the air, the answer is
        ``landing``: ask again shortly (``landing=False``: refill at once all the same)."""
        name = self._key(key)
        reply = await self._reserve(
            keys=[name, name + ":flights"],
            args=[
                repr(now),
                "1" if pace else "0",
                owner or self._token,
                repr(BOUNDARY_GRACE),
                str(self._ttl_ms),
                "1" if landing else "0",
            ],
        )
        if len(reply) == 2:
            return GRANTED
        kind = reply[0].decode() if isinstance(reply[0], bytes) else str(reply[0])
        delay = _float(reply[1]) or 0.0
        flight = _float(reply[8]) if len(reply) > 8 else None
        return Reservation(
            kind == "1", delay, _state(list(reply[2:8])), landing=kind == "2", flight=flight
        )

    def _flight(self, reset: float, owner: str | None) -> str:
        # The field the reserve script wrote (Lua's %.17g, the same digits as Python's).
        return f"{reset:.17g}|{owner or self._token}"

    async def land(self, key: BucketKey, reset: float, *, owner: str | None = None) -> None:
        """A request :meth:`reserve` granted ``owner`` under the flight ``reset`` (its
        reservation's ``flight``) was answered (or failed): it no longer holds the others back
        at that window's end."""
        await self._land(keys=[self._key(key) + ":flights"], args=[self._flight(reset, owner)])

    async def update(
        self,
        key: BucketKey,
        update: RateLimitUpdate,
        now: float,
        *,
        land: float | None = None,
        owner: str | None = None,
    ) -> BucketState:
        """Merge what a response said into the bucket (see
        :class:`~socialkit._http.RateLimitStore`); with ``land``, the response was that of a
        request :meth:`reserve` granted ``owner`` under that reset, which lands in the same
        step (as :meth:`land`)."""
        name = self._key(key)
        reply = await self._update(
            keys=[name, self._base(key.network, key.account) + ":index", name + ":flights"],
            args=[
                repr(now),
                _arg(update.limit),
                _arg(update.remaining),
                _arg(update.reset_at),
                _arg(update.reset_after),
                str(self._ttl_ms),
                repr(SAME_WINDOW_TOLERANCE),
                key.bucket,
                "" if land is None else self._flight(land, owner),
            ],
        )
        return _state(list(reply))

    async def snapshot(self, network: str, account: str) -> dict[str, BucketState]:
        base = self._base(network, account)
        names = await self._client.smembers(base + ":index")
        states: dict[str, BucketState] = {}
        for raw in sorted(names):
            bucket = raw.decode() if isinstance(raw, bytes) else str(raw)
            fields = await self._client.hmget(
                f"{base}:b:{quote(bucket, safe='')}",
                ["limit", "remaining", "reset", "updated", "next_at", "refilled"],
            )
            if any(f is not None for f in fields):
                states[bucket] = _state(list(fields))
        return states

    async def clear(self, network: str, account: str) -> None:
        """Forget every bucket of ``(network, account)``."""
        base = self._base(network, account)
        names = await self._client.smembers(base + ":index")
        keys = [
            f"{base}:b:{quote(n.decode() if isinstance(n, bytes) else n, safe='')}" for n in names
        ]
        await self._client.delete(base + ":index", *keys, *(k + ":flights" for k in keys))

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
