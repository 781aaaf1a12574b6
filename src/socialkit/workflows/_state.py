"""Per-source polling state kept in a :class:`~socialkit.Store`: a cursor and a bounded seen-set.

Why both. Networks sort by creation time, but an item can become visible after newer ones
(indexing lag, moderation queues) and several items can share one timestamp (second
resolution). So each poll asks again from ``cursor - overlap`` and drops what the seen-set
already holds. The cursor is the newest ``(created_at, id)`` observed; the seen-set keeps the
ids of items created in the last ``retention`` before the cursor (and at most ``max_seen`` of
them), which bounds the store. ``overlap`` is the lateness tolerated: an item that becomes
visible later than that after newer ones is not asked for again. ``retention`` (at least
``overlap``) is how long ids are remembered. The cursor never moves past the current time, so
one item dated in the future (a client-set ``createdAt``) cannot hide the items after it.

Crash safety: callers persist an item (and mark it seen) before :meth:`SourceState.commit`
advances the cursor, so a crash between the two re-reads the window and the seen-set (or the
caller's own compare-and-set on the item) removes the repeat. The cursor itself is advanced
with compare-and-set, merged with whatever another process wrote meanwhile.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from socialkit.workflows._common import from_iso, iso, key

if TYPE_CHECKING:
    from socialkit._store import Store


@dataclass(frozen=True, order=True)
class Cursor:
    """The newest item seen from a source: creation time, then id as the tie-break."""

    created_at: datetime
    id: str

    def dumps(self) -> str:
        return json.dumps({"created_at": iso(self.created_at), "id": self.id})

    @classmethod
    def loads(cls, text: str) -> Cursor:
        data = json.loads(text)
        return cls(from_iso(str(data["created_at"])), str(data["id"]))


class SourceState:
    """The cursor and seen-set of one source (one adapter, or one adapter and one query)."""

    def __init__(
        self,
        store: Store,
        namespace: str,
        source: str,
        *,
        overlap: timedelta,
        retention: timedelta,
        max_seen: int,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if overlap < timedelta(0) or retention < overlap:
            raise ValueError("need 0 <= overlap <= retention")
        if max_seen < 1:
            raise ValueError("max_seen must be at least 1")
        self._store = store
        self._cursor_ns = f"{namespace}.cursor"
        self._seen_ns = f"{namespace}.seen"
        self.source = source
        self.overlap = overlap
        self.retention = retention
        self.max_seen = max_seen
        self._clock = clock
        self.cursor: Cursor | None = None
        self._stored: str | None = None
        self._newest: Cursor | None = None

    async def load(self) -> None:
        self._stored = await self._store.get(self._cursor_ns, self.source)
        self.cursor = Cursor.loads(self._stored) if self._stored is not None else None
        self._newest = self.cursor

    @property
    def since(self) -> datetime | None:
        """Where the next request starts: ``cursor - overlap`` (None before the first item)."""
        return None if self.cursor is None else self.cursor.created_at - self.overlap

    def too_old(self, created_at: datetime) -> bool:
        return self.cursor is not None and created_at < self.cursor.created_at - self.retention

    async def seen(self, item_id: str) -> bool:
        return await self._store.get(self._seen_ns, key(self.source, item_id)) is not None

    async def mark(self, item_id: str, created_at: datetime) -> None:
        await self._store.put(self._seen_ns, key(self.source, item_id), iso(created_at))

    def observe(self, created_at: datetime, item_id: str) -> None:
        """Note an item returned by the source (new or not); :meth:`commit` persists the max."""
        if self._clock is not None:
            created_at = min(created_at, self._clock())
        candidate = Cursor(created_at, item_id)
        if self._newest is None or candidate > self._newest:
            self._newest = candidate

    async def commit(self) -> None:
        """Advance the stored cursor to the newest observed item, then prune the seen-set."""
        while self._newest is not None:
            current = await self._store.get(self._cursor_ns, self.source)
            stored = Cursor.loads(current) if current is not None else None
            target = self._newest if stored is None or self._newest > stored else stored
            if stored == target:
                self.cursor = stored
                break
            if await self._store.compare_and_set(
                self._cursor_ns, self.source, current, target.dumps()
            ):
                self.cursor = target
                break
        await self.prune()

    async def prune(self) -> None:
        if self.cursor is None:
            return
        horizon = self.cursor.created_at - self.retention
        prefix = key(self.source, "")
        entries = await self._store.items(self._seen_ns, prefix)
        kept: list[tuple[datetime, str]] = []
        for name, value in entries:
            created = from_iso(value)
            if created < horizon:
                await self._store.delete(self._seen_ns, name)
            else:
                kept.append((created, name))
        if len(kept) > self.max_seen:
            kept.sort()
            for _created, name in kept[: len(kept) - self.max_seen]:
                await self._store.delete(self._seen_ns, name)
