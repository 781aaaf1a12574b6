"""Rate-limit state: what the networks' headers say, and a store several processes can share.

The state of a bucket is kept per ``(network, account, bucket)``. Before a request is sent the
session *reserves* one unit from the bucket (:meth:`RateLimitStore.reserve`, one atomic
operation: take a unit if any remain, else say when the bucket resets); after the response the
session *updates* the bucket from the response headers (:meth:`RateLimitStore.update`).

Reserving before sending is what keeps concurrent tasks and processes under the limit
together: with 3 units left and 10 tasks starting at once, 3 are granted and 7 wait for the
reset, instead of 10 reading "3 left" and all sending.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import email.utils
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Final, Literal, Protocol, runtime_checkable

import httpx

from socialkit._http._wire import lowered_pairs

__all__ = [
    "BOUNDARY_GRACE",
    "BucketKey",
    "BucketState",
    "MemoryRateLimitStore",
    "RateLimitParser",
    "RateLimitStore",
    "RateLimitUpdate",
    "Reservation",
    "SharedFlights",
    "apply_update",
    "header_rate_limit_parser",
    "meta_usage_parser",
    "parse_retry_after",
    "reserve_unit",
]

#: Two resets closer than this (seconds) are taken to be the same window. Resets given as
#: "seconds from now" move by the request's latency from one response to the next.
SAME_WINDOW_TOLERANCE = 1.0
#: After a bucket's reset, requests reserved in the window that ended and still in flight are
#: waited for (their answers carry the new window's count) at most this long.
BOUNDARY_GRACE: Final = 2.0


@dataclass(frozen=True, slots=True)
class BucketKey:
    """Which bucket: the network's registry name, the account, and the bucket name."""

    network: str
    account: str
    bucket: str


@dataclass(frozen=True, slots=True)
class RateLimitUpdate:
    """What one response said about a bucket (every field optional).

    ``reset_at`` is a Unix time; ``reset_after`` is seconds from when the response arrived
    (the session turns it into a time with its own clock). ``bucket`` names the bucket the
    headers describe when it differs from the request's bucket (Meta's usage headers).
    """

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    reset_after: float | None = None
    bucket: str | None = None


@dataclass(frozen=True, slots=True)
class BucketState:
    """The known state of one bucket, as the application reads it from ``rate_limits``.

    ``reset`` is a Unix time (seconds); ``reset_at`` gives it as an aware UTC datetime.
    ``remaining`` counts down as requests are reserved, and is corrected from each response.
    ``next_at`` is the earliest Unix time the next request may go out in ``pace`` mode.
    ``refilled``: the window ended and the bucket was refilled locally; ``remaining`` counts
    what was reserved since, until the first response of the new window confirms it.
    """

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    updated: float = 0.0
    next_at: float | None = None
    refilled: bool = False

    @property
    def reset_at(self) -> datetime | None:
        """The reset as an aware UTC datetime, when known."""
        if self.reset is None:
            return None
        try:
            return datetime.fromtimestamp(self.reset, tz=timezone.utc)
        except (OverflowError, ValueError, OSError):
            return None  # a reset past year 9999 (a server's nonsense): unknown, not a crash

    def reset_in(self, now: float | None = None) -> float | None:
        """Seconds until the reset (0 when past), when known."""
        if self.reset is None:
            return None
        return max(0.0, self.reset - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer of :meth:`RateLimitStore.reserve`.

    ``granted``: a unit was taken; send after ``delay`` seconds (0 unless pacing).
    Not granted: the bucket is empty; ``delay`` is the number of seconds until its reset.
    ``landing`` (a store shared by several sessions, see :class:`SharedFlights`): not
    granted yet because the window is over while another session's requests reserved in it
    (in another process, say) are still in the air; ask again within ``delay`` seconds (the
    end of their grace).
    ``flight`` (a shared store): the window under which the granted unit is held in the air,
    to be given back to ``land`` (or ``update(land=...)``): the reset it was granted under,
    or, granted after a local refill before the new window's reset was known, ``-T`` where
    ``T`` is the reset that ended (see :func:`pending_flight`). ``None``: the unit is not held
    (the session then holds it under ``state.reset``, as stores that do not say it do).
    """

    granted: bool
    delay: float = 0.0
    state: BucketState | None = None
    landing: bool = False
    flight: float | None = None


GRANTED = Reservation(True, 0.0, None)

RateLimitParser = Callable[[httpx.Response], "RateLimitUpdate | None"]


@runtime_checkable
class RateLimitStore(Protocol):
    """Where bucket state lives. Both operations must be atomic with respect to each other,
    across every task (and, for shared stores, every process) using the store."""

    async def reserve(self, key: BucketKey, now: float, *, pace: bool = False) -> Reservation:
        """Take one unit from the bucket if one remains (or its reset has passed), else report
        the seconds until the reset. With ``pace``, also claim the next evenly spaced send
        slot of the window and return its delay."""
        ...

    async def update(self, key: BucketKey, update: RateLimitUpdate, now: float) -> BucketState:
        """Merge what a response said into the bucket and return the new state."""
        ...

    async def snapshot(self, network: str, account: str) -> dict[str, BucketState]:
        """Every known bucket of ``(network, account)``, by bucket name."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class SharedFlights(Protocol):
    """What a store shared by several processes adds to :class:`RateLimitStore` (the Redis
    store does): requests reserved in a window and still in the air when it ends land in the
    next one, where the server counts them. A session waits for its own before it takes from
    the new window; through these two methods it also waits for other sessions' (in other
    processes, or sharing the store in this one).

    ``reserve`` keeps a granted unit in the air, under ``owner`` (the session), until
    ``land(key, reservation.flight, owner=owner)``, and answers ``landing`` (see
    :class:`Reservation`) while other owners' are; with ``landing=False`` it refills the
    bucket all the same. A unit granted after a local refill, before any answer told the new
    window's reset, is in the air too (:func:`pending_flight`): it reaches the network as
    late as any other, and the first requests of every window (and of every process) are
    such units. ``land`` ends such a flight; ``update`` with ``land=reset`` ends one
    of ``key`` in the same step (the answer that carried the update was the request's), which
    saves a shared store a round trip per request."""

    async def reserve(
        self,
        key: BucketKey,
        now: float,
        *,
        pace: bool = False,
        landing: bool = True,
        owner: str | None = None,
    ) -> Reservation: ...

    async def land(self, key: BucketKey, reset: float, *, owner: str | None = None) -> None: ...

    async def update(
        self,
        key: BucketKey,
        update: RateLimitUpdate,
        now: float,
        *,
        land: float | None = None,
        owner: str | None = None,
    ) -> BucketState: ...


# --- the state machine, shared by every store (the Redis store runs the same rules in Lua) ---


def reserve_unit(
    state: BucketState | None, now: float, pace: bool
) -> tuple[BucketState | None, Reservation]:
    """Reserve a unit of ``state`` at ``now``; returns the new state and the answer."""
    if state is None or state.remaining is None:
        return state, GRANTED
    remaining = state.remaining
    reset = state.reset
    refilled = state.refilled
    if reset is not None and reset <= now:
        # The window is over: the bucket refilled; its new reset comes with the next response.
        remaining = state.limit if state.limit is not None else max(remaining, 1)
        reset = None
        refilled = True
    if remaining <= 0:
        if reset is None:
            # Empty with no known reset: nothing to wait for; let the network decide.
            return state, GRANTED
        return state, Reservation(False, reset - now, state)
    delay = 0.0
    next_at = state.next_at
    if pace and reset is not None:
        # This unit goes out at the next free slot; the units left after it share the rest
        # of the window evenly.
        slot = now if next_at is None or next_at < now else next_at
        next_at = slot + max(0.0, reset - slot) / remaining
        delay = slot - now
    # (Made directly: dataclasses.replace walks the fields and costs a tenth of a publish's
    # rate-limit step.)
    new = BucketState(state.limit, remaining - 1, reset, state.updated, next_at, refilled)
    return new, Reservation(True, delay, new)


def apply_update(state: BucketState | None, update: RateLimitUpdate, now: float) -> BucketState:
    """Merge a response's :class:`RateLimitUpdate` into ``state``."""
    reset = update.reset_at
    if reset is None and update.reset_after is not None:
        reset = now + update.reset_after
    if reset is not None and reset <= now:
        # A late response about a window that is already over: only its limit still holds.
        if state is None:
            return BucketState(update.limit, None, None, now, None)
        limit = update.limit if update.limit is not None else state.limit
        return replace(state, limit=limit, updated=now)
    if state is None:
        return BucketState(update.limit, update.remaining, reset, now, None)
    limit = update.limit if update.limit is not None else state.limit
    remaining = update.remaining
    old_reset = state.reset
    same_window = (
        reset is None
        or old_reset is None
        or (old_reset > now and abs(reset - old_reset) < SAME_WINDOW_TOLERANCE)
    )
    if remaining is None:
        remaining = state.remaining
    elif state.remaining is not None and (
        state.refilled or (same_window and old_reset is not None)
    ):
        # Responses overtake each other: the server's count does not include requests this
        # store already reserved that are still in flight, so keep the lower of the two.
        # The same holds for the first response after a local refill.
        remaining = min(remaining, state.remaining)
    if reset is None and old_reset is not None and old_reset > now:
        reset = old_reset
    next_at = state.next_at if same_window else None
    return BucketState(limit, remaining, reset, now, next_at)


_Waiter = tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class MemoryRateLimitStore:
    """Bucket state in this process's memory (the default: one per session).

    A thread lock makes each operation atomic even when sessions on several event loops in
    different threads share the store; no operation awaits while holding it. Sessions (the
    adapters) sharing one store wait for each other's requests at a window's end
    (:class:`SharedFlights`), as with the Redis store; being in this process, the store wakes
    them when a request lands (:meth:`wait_landed`) instead of being asked again and again.
    """

    def __init__(self) -> None:
        self._states: dict[BucketKey, BucketState] = {}
        #: Units in the air, per bucket: (their flight, owner) -> count; a flight is the reset
        #: they were granted under, or a pending_flight.
        self._flights: dict[BucketKey, dict[tuple[float, str | None], int]] = {}
        #: Buckets refilled locally whose new reset is not known yet: the reset that ended.
        self._refilled: dict[BucketKey, float] = {}
        #: Sessions waiting for a unit of a bucket to land: their loop and their future.
        self._waiting: dict[BucketKey, list[_Waiter]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryRateLimitStore(buckets={len(self._states)})"

    async def reserve(
        self,
        key: BucketKey,
        now: float,
        *,
        pace: bool = False,
        landing: bool = True,
        owner: str | None = None,
    ) -> Reservation:
        """Take a unit (see :class:`RateLimitStore` and :class:`SharedFlights`: at a window's
        end, ``landing`` while other owners' units of that window are in the air)."""
        with self._lock:
            state = self._states.get(key)
            if state is None:
                return GRANTED
            flights = self._flights.get(key)
            reset = state.reset
            if reset is not None and reset <= now:
                if flights:
                    wait = _landing_wait(flights, now, owner, reset) if landing else None
                    if wait is not None:
                        return Reservation(False, wait, state, landing=True)
                if state.remaining is not None:
                    self._refilled[key] = reset  # (reserve_unit refills it below)
            new, answer = reserve_unit(state, now, pace)
            if new is not None and new is not state:
                self._states[key] = new
                if answer.granted:
                    if new.reset is not None:
                        held: float | None = new.reset
                    else:
                        ended = self._refilled.get(key) if new.refilled else None
                        held = None if ended is None else pending_flight(ended)
                    if held is not None:
                        if flights is None:
                            flights = self._flights[key] = {}
                        flight = (held, owner)
                        flights[flight] = flights.get(flight, 0) + 1
                        answer = Reservation(True, answer.delay, new, flight=held)
            return answer

    async def land(self, key: BucketKey, reset: float, *, owner: str | None = None) -> None:
        """A unit :meth:`reserve` granted ``owner`` under ``reset`` is no longer in the air."""
        with self._lock:
            self._land(key, reset, owner)

    def _land(self, key: BucketKey, reset: float, owner: str | None) -> None:
        flights = self._flights.get(key)
        if flights is not None:
            flight = (reset, owner)
            left = flights.get(flight, 0) - 1
            if left > 0:
                flights[flight] = left
            else:
                flights.pop(flight, None)
        for loop, future in self._waiting.pop(key, ()):
            # The waiter may be on another thread's event loop (or one that has closed).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_wake, future)

    async def wait_landed(
        self, key: BucketKey, timeout: float, now: float, *, owner: str | None = None
    ) -> None:
        """Wait (asyncio only) until a unit of ``key`` lands, at most ``timeout`` seconds;
        return at once when no other owner's unit of an ended window is in the air at ``now``
        (it landed between :meth:`reserve`'s ``landing`` answer and this call)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiter = (loop, future)
        with self._lock:
            flights = self._flights.get(key)
            state = self._states.get(key)
            reset = None if state is None else state.reset
            if not flights or _landing_wait(flights, now, owner, reset) is None:
                return
            self._waiting.setdefault(key, []).append(waiter)
        try:
            with contextlib.suppress(asyncio.TimeoutError, builtins.TimeoutError):
                await asyncio.wait_for(future, timeout)
        finally:
            with self._lock:
                waiting = self._waiting.get(key)
                if waiting is not None and waiter in waiting:
                    waiting.remove(waiter)

    async def update(
        self,
        key: BucketKey,
        update: RateLimitUpdate,
        now: float,
        *,
        land: float | None = None,
        owner: str | None = None,
    ) -> BucketState:
        with self._lock:
            if land is not None:
                self._land(key, land, owner)
            new = apply_update(self._states.get(key), update, now)
            self._states[key] = new
            if not new.refilled:
                self._refilled.pop(key, None)
            return new

    async def snapshot(self, network: str, account: str) -> dict[str, BucketState]:
        with self._lock:
            return {
                k.bucket: v
                for k, v in self._states.items()
                if k.network == network and k.account == account
            }

    async def aclose(self) -> None:
        return None


def pending_flight(refilled_after: float) -> float:
    """The flight of a unit granted after the refill of a window that ended at
    ``refilled_after``, before the new window's reset is known: ``-refilled_after``.

    Its window is over once the bucket has learned a later reset and that reset has passed;
    it counts as having ended then (its grace runs from that reset)."""
    return -refilled_after


def flight_end(flight: float, reset: float | None) -> float | None:
    """When the window of ``flight`` ended, given the bucket's known ``reset``; ``None``
    while not known (a pending flight whose window's reset has not been learned)."""
    if flight >= 0:
        return flight
    if reset is not None and -flight < reset:
        return reset
    return None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _landing_wait(
    flights: dict[tuple[float, str | None], int],
    now: float,
    owner: str | None,
    reset: float | None,
) -> float | None:
    """Seconds to wait for other owners' units of an ended window (the Redis store's reserve
    script does the same in Lua), forgetting those past their grace; None when there are none.
    ``reset``: the bucket's (for units granted before their window's reset was known)."""
    wait: float | None = None
    for flight in list(flights):
        held, holder = flight
        ended = flight_end(held, reset)
        if ended is None:
            continue
        if ended + BOUNDARY_GRACE <= now:
            del flights[flight]
        elif ended <= now and holder != owner:
            left = ended + BOUNDARY_GRACE - now
            if wait is None or left < wait:
                wait = left
    return wait


# --- header parsing ---


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _parse_time(value: str) -> float | None:
    """An ISO 8601 or HTTP date as a Unix time."""
    text = value.strip()
    if not text:
        return None
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def parse_retry_after(
    value: httpx.Response | str | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date), or ``None``.

    Accepts the header value or a response. Dates in the past give 0.
    """
    text = value.headers.get("retry-after") if isinstance(value, httpx.Response) else value
    if text is None:
        return None
    seconds = _number(text)
    if seconds is not None:
        return max(0.0, seconds)
    when = _parse_time(text)
    if when is None:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def header_rate_limit_parser(
    limit: str = "x-ratelimit-limit",
    remaining: str = "x-ratelimit-remaining",
    reset: str = "x-ratelimit-reset",
    reset_kind: Literal["epoch", "iso", "delta"] = "epoch",
    *,
    exhausted: tuple[str, str, str] | None = None,
) -> RateLimitParser:
    """A parser for the common ``limit`` / ``remaining`` / ``reset`` header triple.

    ``reset_kind``: ``"epoch"`` (Unix seconds; milliseconds are recognised), ``"iso"`` (ISO 8601
    or HTTP date, as Mastodon sends), ``"delta"`` (seconds from now, as Reddit sends).
    Values are parsed leniently (``"598.0"`` counts as 598); malformed values are ignored.
    ``exhausted``: a second ``(limit, remaining, reset)`` triple, a longer allowance (X's
    24-hour one), reported instead when its remaining is used up. The headers are read in one
    pass over the response's raw headers.
    """
    if reset_kind not in ("epoch", "iso", "delta"):
        raise ValueError(f"reset_kind must be 'epoch', 'iso' or 'delta', not {reset_kind!r}")
    names = (limit, remaining, reset, *(exhausted or ()))
    index = {name.lower().encode("ascii"): i for i, name in enumerate(names)}

    def update(
        raw_limit: str | None, raw_remaining: str | None, raw_reset: str | None
    ) -> RateLimitUpdate | None:
        if raw_remaining is None and raw_limit is None and raw_reset is None:
            return None
        reset_at: float | None = None
        reset_after: float | None = None
        if raw_reset is not None:
            if reset_kind == "epoch":
                reset_at = _number(raw_reset)
                if reset_at is not None and reset_at > 1e11:
                    reset_at /= 1000.0
            elif reset_kind == "iso":
                reset_at = _parse_time(raw_reset)
            else:
                reset_after = _number(raw_reset)
        return RateLimitUpdate(
            limit=_integer(raw_limit),
            remaining=_integer(raw_remaining),
            reset_at=reset_at,
            reset_after=reset_after,
        )

    def parse(response: httpx.Response) -> RateLimitUpdate | None:
        found: list[str | None] = [None] * len(names)
        for _, key, value in lowered_pairs(response.headers):
            i = index.get(key)
            if i is not None:
                text = value.decode("latin-1")
                previous = found[i]
                found[i] = text if previous is None else f"{previous}, {text}"
        if exhausted is not None:
            left = _integer(found[4])  # (the longer allowance is read only when used up)
            if left is not None and left <= 0:
                return update(found[3], found[4], found[5])
        return update(found[0], found[1], found[2])

    return parse


# Meta's usage headers report percentages of the allowance used; these keys carry them.
_META_PERCENT_KEYS = ("call_count", "total_time", "total_cputime", "acc_id_util_pct")
_META_RESET_KEYS = ("estimated_time_to_regain_access", "reset_time_duration")


def _meta_usage_items(payload: object) -> list[dict[str, object]]:
    """The usage objects of a header: a flat object, or {business_id: [objects...]}."""
    if not isinstance(payload, dict):
        return []
    if any(key in payload for key in _META_PERCENT_KEYS):
        return [payload]
    items: list[dict[str, object]] = []
    for value in payload.values():
        if isinstance(value, list):
            items.extend(v for v in value if isinstance(v, dict))
        elif isinstance(value, dict):
            items.append(value)
    return items


def _as_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return _number(value)
    return None


_MAX_USAGE_HEADER = 64 * 1024


def meta_usage_parser(response: httpx.Response) -> RateLimitUpdate | None:
    """Meta's ``X-App-Usage`` / ``X-Business-Use-Case-Usage`` / ``X-Ad-Account-Usage``.

    The headers give percentages of the allowance used (``call_count``, ``total_time``,
    ``total_cputime``, ...; the highest counts) and, for business use cases, minutes until
    access is regained. Reported as ``limit=100`` and ``remaining = 100 - used``. Unknown fields
    and malformed JSON are ignored (Meta adds fields without notice).
    """
    headers = response.headers
    used: float | None = None
    reset_after: float | None = None
    for name in ("x-app-usage", "x-business-use-case-usage", "x-ad-account-usage"):
        raw = headers.get(name)
        # A usage header is a few hundred bytes; a huge or absurdly nested one is ignored
        # (parsed leniently, never a crash).
        if not raw or len(raw) > _MAX_USAGE_HEADER:
            continue
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        for item in _meta_usage_items(payload):
            for key in _META_PERCENT_KEYS:
                pct = _as_float(item.get(key))
                if pct is not None and (used is None or pct > used):
                    used = pct
            minutes = _as_float(item.get("estimated_time_to_regain_access"))
            if minutes is not None and minutes > 0:
                seconds = minutes * 60.0
                reset_after = seconds if reset_after is None else max(reset_after, seconds)
            seconds_left = _as_float(item.get("reset_time_duration"))
            if seconds_left is not None and seconds_left > 0 and item.get(_META_PERCENT_KEYS[3]):
                reset_after = max(reset_after or 0.0, seconds_left)
    if used is None:
        return None
    remaining = max(0, 100 - math.ceil(used))
    return RateLimitUpdate(limit=100, remaining=remaining, reset_after=reset_after)
