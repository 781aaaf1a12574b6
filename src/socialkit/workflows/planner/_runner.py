"""The runner: claims due targets under a lease and publishes each exactly once.

How exactly once holds (docs/planner.md has the long form):

1. A worker **claims** a due target in one transaction: ``planned`` (or ``claimed`` with an
   expired lease) becomes ``claimed`` with a fresh claim token and ``lease_until``. Pauses are
   checked in that same transaction, so a target held by a pause is never claimed.
2. It publishes with ``idempotency_key = "plan-<target id>"``: the same key on every attempt,
   by any worker. The adapters make a create under one key happen once (Mastodon's
   ``Idempotency-Key``, Bluesky's record key derived from it, X's reconciliation record in the
   shared store), so a second attempt returns the post the first one made.
3. The publish must end before the lease does (it runs under a deadline of the lease minus a
   margin), so a worker whose lease expired is never still sending when another takes over.
4. The outcome is written with a **fenced** update (``WHERE claim_token = mine``): a worker that
   lost its claim cannot overwrite the one that holds it.

A worker killed anywhere leaves at worst a claim that expires; the next claim publishes again
under the same key and the adapter returns the existing post, so it is never published twice.

A target handed to the network's own scheduler (``scheduled``) is **settled** once its time has
passed (plus ``settle_after``): claimed the same way (its status stays ``scheduled`` while a
worker holds it), the network is asked what became of it (the adapter's
``ex_scheduled_outcome``), and the answer is written with the same fenced update:
``published`` with the final id and URL, ``failed`` when the network no longer has it,
``needs_attention`` when it cannot tell; while the network still holds it, it is released and
asked again ``retry_after`` later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from socialkit._errors import (
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    SocialkitError,
    ThreadIncompleteError,
    TransportError,
)
from socialkit.workflows._common import Clock, label_adapters, utcnow
from socialkit.workflows.planner._db import PlanDB, placeholders
from socialkit.workflows.planner._models import Target, TargetStatus
from socialkit.workflows.planner._planner import NATIVE_LEAD
from socialkit.workflows.planner._rows import TARGET_COLUMNS, record, target_from, ts
from socialkit.workflows.planner._settle import SETTLE_AFTER, scheduled_outcome

if TYPE_CHECKING:
    from socialkit._models import Post
    from socialkit.adapters._base import Adapter

__all__ = ["Outcome", "Runner", "RunStats"]

log = logging.getLogger("socialkit.workflows.planner")
#: The longest wait between two questions about a post the network still holds.
_SETTLE_WAIT_MAX = timedelta(hours=1)


@dataclass(frozen=True)
class Outcome:
    """What one attempt at a target ended in."""

    target: Target
    status: TargetStatus
    """``published``, ``scheduled``, ``failed``, ``needs_attention``, or ``planned`` (to be
    tried again later: a transient error, or an outcome to reconcile)."""
    post: Post | None = None
    error: BaseException | None = None
    fenced: bool = True
    """False when the claim had been taken over meanwhile (the outcome was not written)."""


@dataclass
class RunStats:
    """What a runner did: outcomes by status, and time spent claiming."""

    outcomes: dict[str, int] = field(default_factory=dict)
    claims: int = 0
    claim_seconds: float = 0.0

    def add(self, outcome: Outcome) -> None:
        self.outcomes[outcome.status] = self.outcomes.get(outcome.status, 0) + 1


class Runner:
    """A worker: claims due targets of the accounts it has adapters for, publishes them.

    ``lease``: how long a claim lasts; a publish runs under a deadline of ``lease`` minus
    ``margin``, so it always ends before another worker may take the target over.
    ``concurrency``: publishes in flight at once in this process. A transient error (a rate
    limit, a server error, a connection that never reached the network) puts the target back
    for ``retry_after`` (doubled each time) up to ``max_attempts`` attempts, then it fails. An
    unknown outcome (or a publish cut by its deadline) is tried again later under the same key,
    so the adapter reconciles; after ``max_unknown`` unknown outcomes the target
    ``needs_attention``. A natively scheduled target is settled ``settle_after`` its time
    (the network is asked what became of it). Still held, or not answerable yet, it is asked
    again after ``retry_after`` or half the time since it was due, whichever is longer (at most
    an hour), until ``settle_within`` after its time: then it ``needs_attention``.
    """

    def __init__(
        self,
        db: PlanDB,
        adapters: Mapping[str, Adapter] | Iterable[Adapter],
        *,
        worker: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        margin: timedelta | None = None,
        concurrency: int = 1,
        max_attempts: int = 5,
        max_unknown: int = 3,
        retry_after: timedelta = timedelta(seconds=30),
        settle_after: timedelta = SETTLE_AFTER,
        settle_within: timedelta = timedelta(days=1),
        clock: Clock = utcnow,
        on_outcome: Callable[[Outcome], Any] | None = None,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("lease must be positive")
        margin = margin if margin is not None else min(lease / 5, timedelta(seconds=30))
        if not timedelta(0) < margin < lease:
            raise ValueError("margin must be positive and shorter than the lease")
        if concurrency < 1 or max_attempts < 1 or max_unknown < 1:
            raise ValueError("concurrency, max_attempts and max_unknown must be at least 1")
        if settle_within <= settle_after:
            raise ValueError("settle_within must be longer than settle_after")
        self.db = db
        self.adapters: dict[str, Adapter] = label_adapters(adapters)
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.margin = margin
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.max_unknown = max_unknown
        self.retry_after = retry_after
        self.settle_after = settle_after
        self.settle_within = settle_within
        self._clock = clock
        self._on_outcome = on_outcome
        self._tokens: dict[str, str] = {}
        self.stats = RunStats()

    def __repr__(self) -> str:
        return f"<Runner {self.worker} accounts={sorted(self.adapters)}>"

    def now(self) -> datetime:
        return self._clock().astimezone(timezone.utc)

    # -- claiming ---------------------------------------------------------------------------

    async def claim(self) -> Target | None:
        """Claim the next due target (or ``None``): one transaction, pauses checked in it."""
        if not self.adapters:
            return None
        loop = asyncio.get_running_loop()
        started = loop.time()
        now = self.now()
        token = uuid.uuid4().hex
        labels = sorted(self.adapters)
        t = self.db.t("targets")
        p = self.db.t("pauses")
        async with self.db.transaction() as tx:
            # Shared with other claims, exclusive with pause(): a pause either sees this claim
            # or this claim sees the pause.
            await tx.lock("pauses", shared=True)
            rows = await tx.fetch(
                f"UPDATE {t} SET status = 'claimed', claim_token = ?, claimed_by = ?, "  # noqa: S608
                "lease_until = ?, attempts = attempts + 1, updated_at = ? "
                f"WHERE id IN (SELECT id FROM {t} c WHERE "
                "((c.status = 'planned' AND (c.due_at <= ? OR (c.native = 1 AND c.due_at > ?)) "
                "AND (c.not_before IS NULL OR c.not_before <= ?)) "
                "OR (c.status = 'claimed' AND c.lease_until < ?)) "
                f"AND c.account IN ({placeholders(labels)}) "
                f"AND NOT EXISTS (SELECT 1 FROM {p} WHERE scope = '*' OR scope = c.account) "
                f"ORDER BY c.due_at LIMIT 1{self.db.skip_locked}) "
                f"RETURNING {TARGET_COLUMNS}",
                token,
                self.worker,
                ts(now + self.lease),
                ts(now),
                ts(now),
                ts(now + NATIVE_LEAD),
                ts(now),
                ts(now),
                *labels,
            )
            target = target_from(rows[0]) if rows else None
            if target is not None:
                detail = "claimed" if target.attempts == 1 else f"attempt {target.attempts}"
                await record(self.db, tx, target.id, now, "claimed", detail, self.worker)
        self.stats.claims += 1
        self.stats.claim_seconds += loop.time() - started
        if target is not None:
            self._tokens[target.id] = token
        return target

    async def claim_settling(self) -> Target | None:
        """Claim the next ``scheduled`` target whose time has passed by ``settle_after`` (or
        ``None``) to ask the network what became of it. Its status stays ``scheduled``; the
        claim token fences the outcome as for a publish."""
        if not self.adapters:
            return None
        now = self.now()
        token = uuid.uuid4().hex
        labels = sorted(self.adapters)
        t = self.db.t("targets")
        async with self.db.transaction() as tx:
            rows = await tx.fetch(
                f"UPDATE {t} SET claim_token = ?, claimed_by = ?, lease_until = ?, "  # noqa: S608
                "updated_at = ? "
                f"WHERE id IN (SELECT id FROM {t} c WHERE c.status = 'scheduled' "
                "AND c.due_at <= ? AND (c.claim_token IS NULL OR c.lease_until < ?) "
                "AND (c.not_before IS NULL OR c.not_before <= ?) "
                f"AND c.account IN ({placeholders(labels)}) "
                f"ORDER BY c.due_at LIMIT 1{self.db.skip_locked}) "
                f"RETURNING {TARGET_COLUMNS}",
                token,
                self.worker,
                ts(now + self.lease),
                ts(now),
                ts(now - self.settle_after),
                ts(now),
                ts(now),
                *labels,
            )
        if not rows:
            return None
        self._tokens[str(rows[0][0])] = token
        return target_from(rows[0])

    async def settle(self, target: Target) -> Outcome:
        """Ask the network what became of a scheduled target claimed by
        :meth:`claim_settling`, and record it."""
        adapter = self.adapters[target.account]
        assert target.lease_until is not None
        deadline = (target.lease_until - self.margin - self.now()).total_seconds()
        try:
            if deadline <= 0:
                raise asyncio.TimeoutError
            post = await asyncio.wait_for(scheduled_outcome(adapter, target), deadline)
        except asyncio.TimeoutError as exc:
            return await self._hold(target, exc)
        except (OutcomeUnknownError, RateLimitError, ServerError, TransportError) as exc:
            return await self._hold(target, exc)
        except SocialkitError as exc:  # PlanStateError too: the adapter cannot tell
            return await self._finish(target, "needs_attention", error=exc)
        except Exception as exc:  # a bug in an adapter: recorded for a person
            log.exception("settling target %s raised %s", target.id, type(exc).__name__)
            return await self._finish(target, "needs_attention", error=exc)
        if post is None:
            return await self._finish(
                target,
                "failed",
                detail=(
                    f"{target.network} no longer has the scheduled post {target.published_id}: "
                    "it was cancelled or dropped there"
                ),
            )
        if post.scheduled_at is not None:
            return await self._hold(target, None)
        return await self._finish(target, "published", post=post)

    async def _hold(self, target: Target, exc: BaseException | None) -> Outcome:
        """The network still holds a scheduled target (or could not be asked): released, to be
        asked again later (see the class), or, ``settle_within`` after its time, left to a
        person."""
        now = self.now()
        late = now - target.due_at
        if late >= self.settle_within:
            hours = late.total_seconds() / 3600
            what = (
                f"still holds the scheduled post {target.published_id}"
                if exc is None
                else f"could not be asked about the scheduled post {target.published_id} ({exc})"
            )
            return await self._finish(
                target,
                "needs_attention",
                error=exc,
                detail=f"{target.network} {what} {hours:.1f} h after its time",
            )
        wait = min(max(self.retry_after, late / 2), _SETTLE_WAIT_MAX)
        t = self.db.t("targets")
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {t} SET claim_token = NULL, claimed_by = NULL, lease_until = NULL, "  # noqa: S608
                "not_before = ?, updated_at = ? WHERE id = ? AND claim_token = ?",
                ts(now + wait),
                ts(now),
                target.id,
                self._tokens.pop(target.id, ""),
            )
        if exc is not None:
            log.warning("target %s: could not ask %s yet: %s", target.id, target.account, exc)
        outcome = Outcome(target, "scheduled", error=exc, fenced=bool(changed))
        self._done(outcome)
        return outcome

    # -- publishing -------------------------------------------------------------------------

    async def process(self, target: Target) -> Outcome:
        """Publish one claimed target and record the outcome (settle a scheduled one)."""
        if target.status == "scheduled":
            return await self.settle(target)
        adapter = self.adapters[target.account]
        post = target.post
        now = self.now()
        native = target.native and target.due_at - now >= NATIVE_LEAD
        if native:
            post = post.model_copy(update={"scheduled_at": target.due_at})
        elif target.due_at > now:
            # Claimed ahead of its time for the network's scheduler (or taken over from a
            # worker whose lease expired) but now too close to it for that: published as usual
            # when due, never early.
            return await self._release(target, target.due_at)
        assert target.lease_until is not None
        deadline = (target.lease_until - self.margin - now).total_seconds()
        try:
            if deadline <= 0:
                raise asyncio.TimeoutError
            published = await asyncio.wait_for(
                adapter.publish(post, idempotency_key=target.idempotency_key), deadline
            )
        except asyncio.TimeoutError:
            return await self._unknown(target, None, "the publish ran out of its lease")
        except OutcomeUnknownError as exc:
            return await self._unknown(target, exc, str(exc))
        except ThreadIncompleteError as exc:
            if isinstance(exc.cause, OutcomeUnknownError):
                return await self._unknown(target, exc, str(exc))
            # The posts online have keys derived from this target's: trying again under the
            # same key finds them and goes on from where it stopped.
            if target.attempts < self.max_attempts:
                return await self._retry(target, exc)
            return await self._finish(target, "needs_attention", error=exc)
        except (RateLimitError, ServerError, TransportError) as exc:
            if target.attempts < self.max_attempts:
                return await self._retry(target, exc)
            return await self._finish(target, "failed", error=exc)
        except SocialkitError as exc:
            return await self._finish(target, "failed", error=exc)
        except Exception as exc:  # a bug in an adapter: recorded, never retried blindly
            log.exception("publishing target %s raised %s", target.id, type(exc).__name__)
            return await self._finish(target, "failed", error=exc)
        return await self._finish(target, "scheduled" if native else "published", post=published)

    async def _release(self, target: Target, until: datetime) -> Outcome:
        """Put a claimed target back, untried (its attempt not counted), until ``until``."""
        return await self._replan(
            target,
            until,
            "too close to its time for the network's scheduler: published when due",
            sets="attempts = attempts - 1, ",
        )

    async def _unknown(self, target: Target, exc: BaseException | None, why: str) -> Outcome:
        t = self.db.t("targets")
        async with self.db.transaction() as tx:
            rows = await tx.fetch(f"SELECT unknowns FROM {t} WHERE id = ?", target.id)  # noqa: S608
        unknowns = int(rows[0][0]) + 1 if rows else 1
        if unknowns >= self.max_unknown:
            return await self._finish(target, "needs_attention", error=exc, detail=why)
        log.warning("target %s: %s; it will be reconciled under the same key", target.id, why)
        return await self._retry(target, exc, unknown=True, detail=why)

    async def _retry(
        self,
        target: Target,
        exc: BaseException | None,
        *,
        unknown: bool = False,
        detail: str | None = None,
    ) -> Outcome:
        now = self.now()
        wait = self.retry_after * (2 ** max(0, target.attempts - 1))
        if isinstance(exc, RateLimitError) and exc.retry_after is not None:
            wait = max(wait, timedelta(seconds=float(exc.retry_after)))
        return await self._replan(
            target,
            now + wait,
            f"to try again after {wait.total_seconds():g} s: {detail or exc}",
            sets="unknowns = unknowns + ?, error_type = ?, error_message = ?, ",
            values=(
                1 if unknown else 0,
                type(exc).__name__ if exc is not None else "OutcomeUnknown",
                detail or str(exc),
            ),
            error=exc,
        )

    async def _replan(
        self,
        target: Target,
        not_before: datetime,
        event: str,
        *,
        sets: str,
        values: tuple[object, ...] = (),
        error: BaseException | None = None,
    ) -> Outcome:
        """Put a target this worker claimed back to ``planned`` (fenced by its claim token),
        not before ``not_before``; ``sets`` and ``values``: the columns changed besides."""
        now = self.now()
        t = self.db.t("targets")
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {t} SET status = 'planned', claim_token = NULL, claimed_by = NULL, "  # noqa: S608
                f"lease_until = NULL, not_before = ?, {sets}updated_at = ? "
                "WHERE id = ? AND claim_token = ?",
                ts(not_before),
                *values,
                ts(now),
                target.id,
                self._tokens.pop(target.id, ""),
            )
            if changed:
                await record(self.db, tx, target.id, now, "planned", event, self.worker)
        outcome = Outcome(target, "planned", error=error, fenced=bool(changed))
        self._done(outcome)
        return outcome

    async def _finish(
        self,
        target: Target,
        status: TargetStatus,
        *,
        post: Post | None = None,
        error: BaseException | None = None,
        detail: str | None = None,
    ) -> Outcome:
        now = self.now()
        t = self.db.t("targets")
        message = detail or (str(error) if error is not None else None)
        kept = _with_media_ids(target.post, post) if status == "scheduled" else None
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {t} SET status = ?, claim_token = NULL, lease_until = NULL, "  # noqa: S608
                "result_id = ?, result_url = ?, error_type = ?, error_message = ?, "
                "content = COALESCE(?, content), updated_at = ? WHERE id = ? AND claim_token = ? "
                "AND status IN ('claimed', 'scheduled')",
                status,
                post.id if post is not None else None,
                post.url if post is not None else None,
                type(error).__name__ if error is not None else None,
                message,
                kept.model_dump_json() if kept is not None else None,
                ts(now),
                target.id,
                self._tokens.pop(target.id, ""),
            )
            if changed:
                what = message if message is not None else (post.url or post.id if post else None)
                await record(self.db, tx, target.id, now, status, what, self.worker)
        if not changed:
            log.warning(
                "target %s: the claim was taken over before the outcome (%s) was written",
                target.id,
                status,
            )
        outcome = Outcome(target, status, post=post, error=error, fenced=bool(changed))
        self._done(outcome)
        return outcome

    def _done(self, outcome: Outcome) -> None:
        self.stats.add(outcome)
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    # -- loops ------------------------------------------------------------------------------

    async def run_once(self, stop: asyncio.Event | None = None) -> list[Outcome]:
        """Publish every target due now, ``concurrency`` at a time; return the outcomes.
        ``stop`` set: no new claim (the publishes in flight finish)."""
        outcomes: list[Outcome] = []

        async def lane() -> None:
            while stop is None or not stop.is_set():
                target = await self.claim()
                if target is None:
                    target = await self.claim_settling()
                if target is None:
                    return
                outcomes.append(await self.process(target))

        await asyncio.gather(*(lane() for _ in range(self.concurrency)))
        return outcomes

    async def pending(self, horizon: datetime | None = None) -> int:
        """Targets of this runner's accounts that are due now (or before ``horizon``) or
        claimed (by anyone), not held by a pause, and scheduled ones to settle (their time
        passed by ``settle_after``): what is left to do before the plan is idle."""
        if not self.adapters:
            return 0
        now = self.now()
        due = max(now, horizon) if horizon is not None else now
        labels = sorted(self.adapters)
        t = self.db.t("targets")
        p = self.db.t("pauses")
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetch(
                f"SELECT COUNT(*) FROM {t} c WHERE "  # noqa: S608
                "((c.status = 'planned' AND (c.due_at <= ? OR (c.native = 1 AND c.due_at > ?))) "
                "OR c.status = 'claimed') "
                f"AND c.account IN ({placeholders(labels)}) "
                f"AND NOT EXISTS (SELECT 1 FROM {p} WHERE scope = '*' OR scope = c.account) "
                f"OR (c.status = 'scheduled' AND c.due_at <= ? "
                f"AND c.account IN ({placeholders(labels)}))",
                ts(due),
                ts(now + NATIVE_LEAD),
                *labels,
                ts(now - self.settle_after),
                *labels,
            )
        return int(rows[0][0])

    async def run(
        self,
        *,
        until_idle: bool = False,
        horizon: datetime | None = None,
        poll: float = 5.0,
        stop: asyncio.Event | None = None,
    ) -> RunStats:
        """Work until ``stop`` is set (or, with ``until_idle``, until nothing is due, claimed
        or waiting to be tried again; with a ``horizon`` too, nothing due before it), looking
        for due targets every ``poll`` seconds."""
        while stop is None or not stop.is_set():
            await self.run_once(stop)
            if until_idle and await self.pending(horizon) == 0:
                break
            if stop is None:
                await asyncio.sleep(poll)
                continue
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), poll)
        return self.stats


def _with_media_ids(planned: Post, scheduled: Post | None) -> Post | None:
    """``planned`` with the ids the network gave its media when it scheduled it (``None`` when
    it gave none): kept with the target, they let settling find the post the schedule became
    by its attachments (``ex_scheduled_outcome``), exactly, where text could match two posts.
    Read-back ids only: publishing again uploads the media as before."""
    if scheduled is None or not planned.media or len(scheduled.media) != len(planned.media):
        return None
    ids = [m.id for m in scheduled.media]
    if None in ids:
        return None
    media = [m.model_copy(update={"id": i}) for m, i in zip(planned.media, ids, strict=True)]
    return planned.model_copy(update={"media": media})
