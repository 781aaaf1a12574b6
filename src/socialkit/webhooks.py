"""Webhook receivers: handle each delivered event once, whatever the network repeats.

A valid signature proves who sent a body, not when. X signs the raw body without a timestamp, so
a recorded delivery replayed a week later still verifies; and every network retries a delivery
it thinks failed. :class:`EventDeduplicator` remembers the ids of the events already accepted,
for ``ttl``, in a :class:`~socialkit.Store` shared by every process of the receiver:

>>> dedup = EventDeduplicator(RedisStore("redis://127.0.0.1:6379/0"), "webhooks.x")
>>> if not verify_signature(body, header, secret):
...     return 401
>>> if not await dedup.first_seen(event_id):
...     return 200                      # a repeat: answer OK so the network stops retrying
>>> try:
...     await handle(body)
... except Exception:
...     await dedup.forget(event_id)    # not handled: let the network's retry through
...     return 500

:meth:`EventDeduplicator.first_seen` is atomic across processes and machines: of any number of
concurrent calls with one id, exactly one returns ``True`` (it claims the id with the store's
compare-and-set). Choose ``ttl`` longer than the network's retry period and than the age a
replayed delivery may have (a delivery older than ``ttl`` is accepted again); the entries of
expired ids are removed with the store's ``compare_and_delete``, which never removes a newer
claim.

Which id: the network's event or delivery id when the payload carries one; otherwise (X's
Account Activity API) the SHA-256 of the raw body, which a replay repeats byte for byte
(:func:`socialkit.adapters.x.delivery_id`). Every webhook helper of socialkit (X today; Meta and
Telegram follow the same pattern) takes an optional ``deduplicator`` of this class.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

from socialkit._errors import ConfigurationError

if TYPE_CHECKING:
    from socialkit._store import Store

__all__ = ["EventDeduplicator"]


def _expiry(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0  # unreadable: treat as expired, so the next claim replaces it


class EventDeduplicator:
    """Event ids seen in the last ``ttl``, in ``store`` under ``namespace`` (one per receiver).

    ``clock`` returns the current Unix time in seconds (tests inject one); processes sharing a
    store should have clocks in step to well under ``ttl``. Expired entries are removed during
    :meth:`first_seen` at most once per ``purge_interval`` (default: ``ttl``) among all the
    processes sharing the store (the time of the last purge is kept in ``namespace + ".purged"``),
    or by calling :meth:`purge`.
    """

    def __init__(
        self,
        store: Store,
        namespace: str = "webhooks",
        *,
        ttl: timedelta = timedelta(days=3),
        purge_interval: timedelta | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not namespace:
            raise ConfigurationError("the deduplicator's namespace must not be empty")
        if ttl <= timedelta(0):
            raise ConfigurationError(f"ttl must be a positive duration (got {ttl})")
        if purge_interval is not None and purge_interval <= timedelta(0):
            raise ConfigurationError(f"purge_interval must be positive (got {purge_interval})")
        self.store = store
        self.namespace = namespace
        self.ttl = ttl
        self._ttl_s = ttl.total_seconds()
        self._purge_s = (purge_interval or ttl).total_seconds()
        self._clock = clock
        self._purged_ns = f"{namespace}.purged"
        self._next_purge = 0.0  # the first claim checks when the namespace was last purged

    def __repr__(self) -> str:
        return f"EventDeduplicator({self.store!r}, {self.namespace!r}, ttl={self.ttl})"

    @staticmethod
    def _check(event_id: str) -> str:
        if not isinstance(event_id, str) or not event_id:
            raise ValueError(f"an event id must be a non-empty string (got {event_id!r})")
        return event_id

    async def first_seen(self, event_id: str) -> bool:
        """Claim ``event_id``: ``True`` the first time within ``ttl`` (handle it), else ``False``.

        Atomic: among concurrent calls in any number of processes sharing the store, exactly
        one gets ``True``. An id whose entry has expired is claimed again.
        """
        self._check(event_id)
        while True:
            now = self._clock()
            claim = repr(now + self._ttl_s)
            current = await self.store.get(self.namespace, event_id)
            if current is not None and _expiry(current) > now:
                return False
            if await self.store.compare_and_set(self.namespace, event_id, current, claim):
                if now >= self._next_purge:
                    await self._maybe_purge(now)
                return True
            # Another process changed the entry between our read and our write: read again.

    async def seen(self, event_id: str) -> bool:
        """Whether ``event_id`` is claimed and not expired (a read: it claims nothing)."""
        current = await self.store.get(self.namespace, self._check(event_id))
        return current is not None and _expiry(current) > self._clock()

    async def forget(self, event_id: str) -> bool:
        """Release the claim on ``event_id`` (its handling failed), so a retry is accepted.

        Returns whether an entry was removed. Only the entry read here is removed: a claim made
        meanwhile by another process stays.
        """
        current = await self.store.get(self.namespace, self._check(event_id))
        if current is None:
            return False
        return await self._delete_if(event_id, current, required=True)

    async def purge(self) -> int:
        """Remove the entries of expired ids now; returns how many were removed."""
        if getattr(self.store, "compare_and_delete", None) is None:
            self._missing_delete()
        return await self._purge(self._clock(), required=True)

    async def _maybe_purge(self, now: float) -> None:
        # One purge per interval for all the processes sharing the store: the time of the last
        # one is kept in the store, and taken with compare-and-set.
        if getattr(self.store, "compare_and_delete", None) is None:
            self._next_purge = float("inf")
            return
        current = await self.store.get(self._purged_ns, "at")
        last = _expiry(current) if current is not None else 0.0
        if now < last + self._purge_s:
            self._next_purge = last + self._purge_s
            return
        self._next_purge = now + self._purge_s
        if await self.store.compare_and_set(self._purged_ns, "at", current, repr(now)):
            await self._purge(now, required=False)

    async def _purge(self, now: float, *, required: bool) -> int:
        removed = 0
        for event_id, value in await self.store.items(self.namespace):
            if _expiry(value) <= now and await self._delete_if(event_id, value, required=required):
                removed += 1
        return removed

    async def _delete_if(self, event_id: str, value: str, *, required: bool) -> bool:
        delete = getattr(self.store, "compare_and_delete", None)
        if delete is None:
            if not required:
                return False  # expired entries stay; first_seen overwrites them when needed
            self._missing_delete()
        return bool(await delete(self.namespace, event_id, value))

    def _missing_delete(self) -> NoReturn:
        raise ConfigurationError(
            f"{type(self.store).__name__} has no compare_and_delete, which removing an "
            "entry safely needs; use one of socialkit's stores (memory, SQLite, Redis, "
            "PostgreSQL) or add it to yours"
        )
