"""The calendar side of the planner: planning, queries, edits, moves, cancels and pauses."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from socialkit._capabilities import Capability
from socialkit._errors import ConfigurationError, SocialkitError
from socialkit._models import Post, Problem
from socialkit.text import UnsplittableTextError, split_thread
from socialkit.workflows._common import Clock, label_adapters, utcnow
from socialkit.workflows.planner._db import PlanDB, Tx, placeholders
from socialkit.workflows.planner._models import (
    ACTIVE_STATUSES,
    BestSlot,
    Blackout,
    CadenceRule,
    Conflict,
    Pause,
    PlanConflictError,
    PlannedPost,
    PlanStateError,
    PreflightError,
    Target,
    TargetEvent,
    TargetStatus,
)
from socialkit.workflows.planner._rows import (
    TARGET_COLUMNS,
    dt,
    dumps,
    paused_scopes,
    record,
    target_from,
    ts,
)
from socialkit.workflows.planner._settle import scheduled_outcome

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter
    from socialkit.workflows.alerts import Alert

__all__ = ["BRAND", "NATIVE_LEAD", "Planner", "is_bad_buzz", "pause_on_alert"]

log = logging.getLogger("socialkit.workflows.planner")

BRAND = "*"
"""The scope of a brand-wide pause."""

NATIVE_LEAD = timedelta(minutes=15)
"""A target is handed to the network's scheduler only when due at least this far ahead
(Mastodon refuses ``scheduled_at`` less than five minutes ahead, Facebook
``scheduled_publish_time`` less than ten: the rest is the margin between the claim and the
network's check); sooner, it is published normally when due."""

_NEIGHBOURHOOD = timedelta(days=2)  # local days in any time zone fit in +/- 2 days


class Planner:
    """A content calendar for many accounts.

    ``db`` holds the plan (:class:`~socialkit.workflows.planner.SQLitePlanDB` or
    :class:`~socialkit.workflows.planner.PostgresPlanDB`). ``adapters`` (labelled as for
    :class:`~socialkit.Hub`) are needed to plan (``check`` runs for every target, and each
    network's limits split long texts) and to keep natively scheduled posts in step; calendar
    queries and pauses work without them. ``rules`` and ``blackouts`` are checked whenever a
    target gets a time (planning, moving). ``new_id`` makes the ids of planned posts and
    targets (random UUIDs by default; a seeded source makes a simulation reproducible, as the
    ids become the targets' idempotency keys).
    """

    def __init__(
        self,
        db: PlanDB,
        adapters: Mapping[str, Adapter] | Iterable[Adapter] = (),
        *,
        rules: Sequence[CadenceRule] = (),
        blackouts: Sequence[Blackout] = (),
        clock: Clock = utcnow,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.db = db
        self._new_id = new_id
        self.adapters: dict[str, Adapter] = label_adapters(adapters)
        self.rules = list(rules)
        self.blackouts = list(blackouts)
        self._clock = clock

    def __repr__(self) -> str:
        return f"<Planner {self.db!r} accounts={sorted(self.adapters)}>"

    def now(self) -> datetime:
        return self._clock().astimezone(timezone.utc)

    # -- planning ---------------------------------------------------------------------------

    def variant(self, planned: PlannedPost, account: str) -> Post:
        """What ``account`` would publish: its text variant, split into a thread by its
        network's counting rules when too long (and ``split`` is on)."""
        adapter = self._adapter(account)
        base = planned.post
        text = planned.texts.get(account, planned.texts.get(adapter.name, base.text))
        post = base.model_copy(update={"text": text}) if text != base.text else base
        limits = adapter.limits
        if (
            planned.split
            and not post.thread
            and limits.max_text is not None
            and limits.count(text) > limits.max_text
        ):
            parts = split_thread(text, limits.max_text, limits.count, numbering=planned.numbering)
            post = post.model_copy(
                update={"text": parts[0], "thread": [Post(text=part) for part in parts[1:]]}
            )
        return post

    def _adapter(self, account: str) -> Adapter:
        try:
            return self.adapters[account]
        except KeyError:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise ConfigurationError(
                f"no configured account is labelled {account!r} (configured: {known})"
            ) from None

    def _native(self, planned: PlannedPost, adapter: Adapter, due: datetime) -> bool:
        return (
            planned.native
            and Capability.NATIVE_SCHEDULING in adapter.capabilities
            and due - self.now() >= NATIVE_LEAD
        )

    def preflight(self, planned: PlannedPost, due: Mapping[str, datetime]) -> dict[str, Post]:
        """Each target's post, checked by its network; raises :class:`PreflightError` with every
        problem of every target."""
        problems: dict[str, list[Problem]] = {}
        posts: dict[str, Post] = {}
        for account in planned.targets:
            adapter = self._adapter(account)
            try:
                post = self.variant(planned, account)
            except UnsplittableTextError as exc:
                problems[account] = [Problem(code="unsplittable", message=str(exc), field="text")]
                continue
            checked = post
            if self._native(planned, adapter, due[account]):
                checked = post.model_copy(update={"scheduled_at": due[account]})
            found = adapter.check(checked)
            if found:
                problems[account] = list(found)
            posts[account] = post
        if problems:
            raise PreflightError(problems)
        return posts

    async def add(self, planned: PlannedPost) -> list[Target]:
        """Plan ``planned``: check it for every target, give each target its time (``at`` or
        its next best slot), check the cadence rules and blackouts, and store it.

        Raises :class:`PreflightError` (a network's ``check`` refused a target) or
        :class:`PlanConflictError` (a rule; the message names it and the other post) and then
        plans nothing. Returns the targets, one per account.
        """
        for account in planned.targets:
            self._adapter(account)
        post_id = self._new_id()
        now = self.now()
        async with self.db.transaction() as tx:
            for account in sorted(planned.targets):  # one order: no deadlock between planners
                await tx.lock(f"account:{account}")
            due: dict[str, datetime] = {}
            conflicts: list[Conflict] = []
            for account in planned.targets:
                neighbours = await self._neighbours(tx, account, planned.at, planned.best, now)
                if planned.at is not None:
                    due[account] = planned.at
                    conflicts.extend(self.conflicts(account, planned.at, neighbours))
                else:
                    assert planned.best is not None
                    due[account] = self._best_slot(account, planned.best, neighbours, now)
            if conflicts:
                raise PlanConflictError(conflicts)
            posts = self.preflight(planned, due)
            body = planned.model_dump(mode="json", exclude={"best"})
            await tx.execute(
                f"INSERT INTO {self.db.t('posts')} (id, campaign, tags, body, created_at) "  # noqa: S608
                "VALUES (?, ?, ?, ?, ?)",
                post_id,
                planned.campaign,
                dumps(planned.tags),
                dumps(body),
                ts(now),
            )
            targets: list[Target] = []
            for account in planned.targets:
                adapter = self.adapters[account]
                target_id = self._new_id()
                native = self._native(planned, adapter, due[account])
                await tx.execute(
                    f"INSERT INTO {self.db.t('targets')} ({TARGET_COLUMNS}, claim_token, "  # noqa: S608
                    "unknowns, not_before) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL)",
                    target_id,
                    post_id,
                    account,
                    adapter.name,
                    ts(due[account]),
                    "planned",
                    1 if native else 0,
                    posts[account].model_dump_json(),
                    planned.campaign,
                    dumps(planned.tags),
                    None,
                    None,
                    0,
                    None,
                    None,
                    None,
                    None,
                    ts(now),
                )
                await record(self.db, tx, target_id, now, "planned", f"due {due[account]:%c}")
                rows = await tx.fetch(
                    f"SELECT {TARGET_COLUMNS} FROM {self.db.t('targets')} WHERE id = ?",  # noqa: S608
                    target_id,
                )
                targets.append(target_from(rows[0]))
        return targets

    async def _neighbours(
        self,
        tx: Tx,
        account: str,
        at: datetime | None,
        best: BestSlot | None,
        now: datetime,
        exclude: Sequence[str] = (),
    ) -> list[Target]:
        """The account's active targets around the times considered."""
        if at is not None:
            start, end = at - _NEIGHBOURHOOD, at + _NEIGHBOURHOOD
        else:
            assert best is not None
            after = max(best.after or now, now)
            start, end = after - _NEIGHBOURHOOD, after + best.within + _NEIGHBOURHOOD
        for rule in self.rules:
            if rule.applies(account) and rule.min_gap is not None:
                start, end = min(start, start - rule.min_gap), max(end, end + rule.min_gap)
        statuses = list(ACTIVE_STATUSES)
        rows = await tx.fetch(
            f"SELECT {TARGET_COLUMNS} FROM {self.db.t('targets')} "  # noqa: S608
            f"WHERE account = ? AND due_at >= ? AND due_at < ? "
            f"AND status IN ({placeholders(statuses)}) ORDER BY due_at",
            account,
            ts(start),
            ts(end),
            *statuses,
        )
        return [t for t in (target_from(r) for r in rows) if t.id not in exclude]

    def conflicts(self, account: str, at: datetime, neighbours: Sequence[Target]) -> list[Conflict]:
        """Every rule that a post of ``account`` at ``at`` would break, given the account's
        other targets ``neighbours``."""
        found: list[Conflict] = []
        for blackout in self.blackouts:
            if blackout.applies(account) and blackout.covers(at):
                found.append(
                    Conflict(
                        account=account,
                        rule="blackout",
                        at=at,
                        message=(
                            f"{account} at {at:%Y-%m-%d %H:%M} UTC falls in the blackout "
                            f"window {blackout.describe()}"
                        ),
                    )
                )
        for rule in self.rules:
            if not rule.applies(account):
                continue
            if rule.min_gap is not None:
                for other in neighbours:
                    if abs(other.due_at - at) < rule.min_gap:
                        found.append(
                            Conflict(
                                account=account,
                                rule="min_gap",
                                at=at,
                                other_target=other.id,
                                other_post=other.post_id,
                                other_at=other.due_at,
                                message=(
                                    f"{account} at {at:%Y-%m-%d %H:%M} UTC is less than "
                                    f"{_duration(rule.min_gap)} from post {other.post_id} at "
                                    f"{other.due_at:%Y-%m-%d %H:%M} UTC (rule min_gap)"
                                ),
                            )
                        )
                        break
            if rule.max_per_day is not None:
                zone = ZoneInfo(rule.tz)
                day = at.astimezone(zone).date()
                same_day = [n for n in neighbours if n.due_at.astimezone(zone).date() == day]
                if len(same_day) >= rule.max_per_day:
                    other = same_day[-1]
                    found.append(
                        Conflict(
                            account=account,
                            rule="max_per_day",
                            at=at,
                            other_target=other.id,
                            other_post=other.post_id,
                            other_at=other.due_at,
                            message=(
                                f"{account} already has {len(same_day)} post(s) on {day} "
                                f"({rule.tz}), the most allowed (rule max_per_day="
                                f"{rule.max_per_day}); the last is post {other.post_id} at "
                                f"{other.due_at:%H:%M} UTC"
                            ),
                        )
                    )
        return found

    def _best_slot(
        self, account: str, best: BestSlot, neighbours: Sequence[Target], now: datetime
    ) -> datetime:
        grid = best.grid(account)
        if grid is None:
            raise ConfigurationError(f"no best-time grid for {account!r} (BestSlot.grids)")
        zone = ZoneInfo(grid.timezone)
        after = max(best.after or now, now)
        # Hours are stepped in UTC and only read in the zone: local arithmetic (``+ 1 h`` on
        # a zoned time) leaps over the repeated autumn hour and lands on the missing spring
        # one, which does not exist but would be rated as if it did.
        local = after.astimezone(timezone.utc).astimezone(zone)
        moment = local.replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
        if moment < after:
            moment += timedelta(hours=1)
        candidates: list[tuple[int, float, datetime]] = []
        end = after + best.within
        while moment < end:
            local = moment.astimezone(zone)
            slot = grid.cell(None if grid.slots[0].weekday is None else local.weekday(), local.hour)
            thin = 1 if slot.posts < best.min_posts else 0
            candidates.append((thin, -slot.estimate, moment))
            moment += timedelta(hours=1)
        last: list[Conflict] = []
        for _thin, _estimate, when in sorted(candidates):
            last = self.conflicts(account, when, neighbours)
            if not last:
                return when
        raise PlanConflictError(
            last
            or [
                Conflict(
                    account=account,
                    rule="best_slot",
                    at=after,
                    message=f"no hour in the {_duration(best.within)} after {after:%c} fits",
                )
            ]
        )

    # -- the calendar -----------------------------------------------------------------------

    async def calendar(
        self,
        *,
        day: date | None = None,
        week: date | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        tz: str = "UTC",
        account: str | None = None,
        campaign: str | None = None,
        tag: str | None = None,
        status: TargetStatus | Sequence[TargetStatus] | None = None,
    ) -> list[Target]:
        """Targets by time: a ``day``, the ISO ``week`` holding a date (both local to ``tz``),
        or ``start``/``end``; filtered by account, campaign, tag and status; earliest first."""
        zone = ZoneInfo(tz)
        if day is not None:
            start = datetime.combine(day, time(0), zone)
            end = datetime.combine(day + timedelta(days=1), time(0), zone)
        elif week is not None:
            monday = week - timedelta(days=week.weekday())
            start = datetime.combine(monday, time(0), zone)
            end = datetime.combine(monday + timedelta(days=7), time(0), zone)
        where: list[str] = []
        args: list[Any] = []
        if start is not None:
            where.append("due_at >= ?")
            args.append(ts(start))
        if end is not None:
            where.append("due_at < ?")
            args.append(ts(end))
        if account is not None:
            where.append("account = ?")
            args.append(account)
        if campaign is not None:
            where.append("campaign = ?")
            args.append(campaign)
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({placeholders(statuses)})")
            args.extend(statuses)
        sql = f"SELECT {TARGET_COLUMNS} FROM {self.db.t('targets')}"  # noqa: S608
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY due_at, account"
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetch(sql, *args)
            scopes = await paused_scopes(self.db, tx)
        targets = [target_from(r, scopes) for r in rows]
        if tag is not None:
            wanted = tag.strip().casefold()
            targets = [t for t in targets if wanted in t.tags]
        return targets

    async def target(self, target_id: str) -> Target:
        """One target by id (:class:`PlanStateError` when there is none)."""
        found = await self._targets(target_id)
        if len(found) != 1 or found[0].id != target_id:
            raise PlanStateError(f"no target {target_id!r}")
        return found[0]

    async def targets(self, post_or_target_id: str) -> list[Target]:
        """The targets of a planned post (by its id), or the one target with that id."""
        found = await self._targets(post_or_target_id)
        if not found:
            raise PlanStateError(f"no planned post or target {post_or_target_id!r}")
        return found

    async def _targets(self, ident: str, tx: Tx | None = None) -> list[Target]:
        sql = (
            f"SELECT {TARGET_COLUMNS} FROM {self.db.t('targets')} "  # noqa: S608
            "WHERE id = ? OR post_id = ? ORDER BY account"
        )
        if tx is not None:
            return [
                target_from(r, await paused_scopes(self.db, tx))
                for r in await tx.fetch(sql, ident, ident)
            ]
        async with self.db.transaction(write=False) as own:
            return await self._targets(ident, own)

    async def events(self, target_id: str) -> list[TargetEvent]:
        """Every recorded transition of a target, oldest first."""
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetch(
                f"SELECT target_id, at, status, detail, worker FROM {self.db.t('events')} "  # noqa: S608
                "WHERE target_id = ? ORDER BY id",
                target_id,
            )
        return [
            TargetEvent(target=r[0], at=dt(r[1]), status=r[2], detail=r[3], worker=r[4])
            for r in rows
        ]

    async def counts(self) -> dict[str, int]:
        """How many targets are in each status (and ``paused``: planned ones a pause holds)."""
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetch(
                f"SELECT status, COUNT(*) FROM {self.db.t('targets')} GROUP BY status"  # noqa: S608
            )
            held = await tx.fetch(
                f"SELECT COUNT(*) FROM {self.db.t('targets')} t WHERE status = 'planned' "  # noqa: S608
                f"AND EXISTS (SELECT 1 FROM {self.db.t('pauses')} p "
                "WHERE p.scope = '*' OR p.scope = t.account)"
            )
        out = {str(s): int(n) for s, n in rows}
        out["paused"] = int(held[0][0])
        return out

    # -- edit, move, cancel -----------------------------------------------------------------

    async def edit(
        self,
        post_or_target_id: str,
        *,
        text: str | None = None,
        post: Post | None = None,
        campaign: str | None = None,
        tags: Sequence[str] | None = None,
    ) -> list[Target]:
        """Change the content, campaign or tags of planned targets (checked again by their
        networks). Claimed, published or cancelled targets cannot change:
        :class:`PlanStateError` names them and nothing changes."""
        now = self.now()
        async with self.db.transaction() as tx:
            found = await self._targets(post_or_target_id, tx)
            if not found:
                raise PlanStateError(f"no planned post or target {post_or_target_id!r}")
            self._editable(found, "edited")
            problems: dict[str, list[Problem]] = {}
            updates: list[tuple[Target, Post]] = []
            for target in found:
                new = post if post is not None else target.post
                if text is not None:
                    planned = PlannedPost(
                        post=new.model_copy(update={"text": text, "thread": []}),
                        targets=[target.account],
                        at=target.due_at,
                    )
                    try:
                        new = self.variant(planned, target.account)
                    except UnsplittableTextError as exc:
                        problems[target.account] = [
                            Problem(code="unsplittable", message=str(exc), field="text")
                        ]
                        continue
                checked = new
                if target.native:
                    checked = new.model_copy(update={"scheduled_at": target.due_at})
                issues = self._adapter(target.account).check(checked)
                if issues:
                    problems[target.account] = list(issues)
                updates.append((target, new))
            if problems:
                raise PreflightError(problems)
            for target, new in updates:
                sets = ["content = ?", "updated_at = ?"]
                args: list[Any] = [new.model_dump_json(), ts(now)]
                if campaign is not None:
                    sets.append("campaign = ?")
                    args.append(campaign)
                if tags is not None:
                    sets.append("tags = ?")
                    args.append(dumps(sorted({t.strip().casefold() for t in tags})))
                changed = await tx.execute(
                    f"UPDATE {self.db.t('targets')} SET {', '.join(sets)} "  # noqa: S608
                    "WHERE id = ? AND status = 'planned'",
                    *args,
                    target.id,
                )
                if changed:
                    await record(self.db, tx, target.id, now, "planned", "edited")
            return await self._targets(post_or_target_id, tx)

    @staticmethod
    def _editable(found: Sequence[Target], what: str) -> None:
        fixed = [t for t in found if t.status not in ("planned", "scheduled")]
        if fixed:
            raise PlanStateError(f"cannot be {what}: " + ", ".join(_why_fixed(t) for t in fixed))

    async def _settle_passed(self, post_or_target_id: str) -> None:
        """Natively scheduled targets whose time has passed: the network is asked what became
        of them first, and a post that went live is recorded ``published`` (one the network
        no longer has, ``failed``), so that a cancel or move refuses it by name. Written only
        when no worker is settling it (its claim fences the worker's own answer)."""
        now = self.now()
        for target in await self.targets(post_or_target_id):
            if target.status != "scheduled" or target.due_at > now:
                continue
            post = await scheduled_outcome(self._adapter(target.account), target)
            if post is not None and post.scheduled_at is not None:
                continue  # still held by the network: it can be cancelled or moved there
            status: TargetStatus = "published" if post is not None else "failed"
            detail = (
                f"went live on the network: {post.url or post.id}"
                if post is not None
                else f"{target.network} no longer has the scheduled post {target.published_id}"
            )
            async with self.db.transaction() as tx:
                changed = await tx.execute(
                    f"UPDATE {self.db.t('targets')} SET status = ?, result_id = ?, "  # noqa: S608
                    "result_url = ?, error_message = ?, claim_token = NULL, lease_until = NULL, "
                    "updated_at = ? WHERE id = ? AND status = 'scheduled' "
                    "AND (claim_token IS NULL OR lease_until < ?)",
                    status,
                    post.id if post is not None else None,
                    post.url if post is not None else None,
                    None if post is not None else detail,
                    ts(now),
                    target.id,
                    ts(now),
                )
                if changed:
                    await record(self.db, tx, target.id, now, status, detail)
            if not changed and post is not None:
                raise PlanStateError(
                    f"{target.account} ({target.id}) went live on the network "
                    f"({post.url or post.id}) and cannot be changed any more"
                )

    async def move(self, post_or_target_id: str, at: datetime) -> list[Target]:
        """Give planned targets a new time (rules and blackouts checked again). A natively
        scheduled target is moved on the network too, and a native target is checked by its
        network at the new time (Facebook schedules at most 75 days ahead):
        :class:`PreflightError` when it refuses, and nothing moves."""
        if at.tzinfo is None:
            raise PlanStateError("the new time must be timezone-aware")
        at = at.astimezone(timezone.utc)
        await self._settle_passed(post_or_target_id)
        now = self.now()
        async with self.db.transaction() as tx:
            found = await self._targets(post_or_target_id, tx)
            if not found:
                raise PlanStateError(f"no planned post or target {post_or_target_id!r}")
            self._editable(found, "moved")
            self._check_native_time(found, at, now)
            conflicts: list[Conflict] = []
            ids = [t.id for t in found]
            for target in sorted(found, key=lambda t: t.account):
                await tx.lock(f"account:{target.account}")
                neighbours = await self._neighbours(tx, target.account, at, None, now, ids)
                conflicts.extend(self.conflicts(target.account, at, neighbours))
            if conflicts:
                raise PlanConflictError(conflicts)
            planned = [t for t in found if t.status == "planned"]
            for target in planned:
                changed = await tx.execute(
                    f"UPDATE {self.db.t('targets')} SET due_at = ?, updated_at = ? "  # noqa: S608
                    "WHERE id = ? AND status = 'planned'",
                    ts(at),
                    ts(now),
                    target.id,
                )
                if changed:
                    await record(self.db, tx, target.id, now, "planned", f"moved to {at:%c}")
        for target in found:
            if target.status == "scheduled":
                await self._reschedule(target, at)
        return await self.targets(post_or_target_id)

    def _check_native_time(self, found: Sequence[Target], at: datetime, now: datetime) -> None:
        problems: dict[str, list[Problem]] = {}
        for target in found:
            adapter = self.adapters.get(target.account)
            if target.native and adapter is not None and at - now >= NATIVE_LEAD:
                issues = adapter.check(target.post.model_copy(update={"scheduled_at": at}))
                if issues:
                    problems[target.account] = list(issues)
        if problems:
            raise PreflightError(problems)

    async def _reschedule(self, target: Target, at: datetime) -> None:
        adapter = self._adapter(target.account)
        reschedule = getattr(adapter, "ex_reschedule", None)
        if reschedule is None or target.published_id is None:
            raise PlanStateError(f"{target.account} cannot move its scheduled post")
        await reschedule(target.published_id, at)
        now = self.now()
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {self.db.t('targets')} SET due_at = ?, claim_token = NULL, "  # noqa: S608
                "lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'scheduled'",
                ts(at),
                ts(now),
                target.id,
            )
            if changed:
                await record(
                    self.db, tx, target.id, now, "scheduled", f"moved on the network to {at:%c}"
                )

    async def cancel(self, post_or_target_id: str) -> list[Target]:
        """Cancel targets that are not claimed yet (a natively scheduled one is cancelled on
        the network too). Claimed or published targets: :class:`PlanStateError`, also when a
        natively scheduled post has gone live on the network by itself (the network is asked
        first, once its time has passed, and the target recorded ``published``)."""
        await self._settle_passed(post_or_target_id)
        now = self.now()
        async with self.db.transaction() as tx:
            found = await self._targets(post_or_target_id, tx)
            if not found:
                raise PlanStateError(f"no planned post or target {post_or_target_id!r}")
            self._editable([t for t in found if t.status != "cancelled"], "cancelled")
            for target in found:
                if target.status != "planned":
                    continue
                changed = await tx.execute(
                    f"UPDATE {self.db.t('targets')} SET status = 'cancelled', updated_at = ? "  # noqa: S608
                    "WHERE id = ? AND status = 'planned'",
                    ts(now),
                    target.id,
                )
                if changed:
                    await record(self.db, tx, target.id, now, "cancelled")
        for target in found:
            if target.status == "scheduled":
                await self._unschedule(target, "cancelled", "cancelled on the network")
        return await self.targets(post_or_target_id)

    async def _unschedule(self, target: Target, status: TargetStatus, detail: str) -> bool:
        """Take a natively scheduled post back from the network; the target becomes
        ``status`` (``cancelled``, or ``planned`` when a pause holds it)."""
        adapter = self._adapter(target.account)
        cancel = getattr(adapter, "ex_cancel_scheduled", None)
        if cancel is None or target.published_id is None:
            raise PlanStateError(f"{target.account} cannot cancel its scheduled post")
        await cancel(target.published_id)
        now = self.now()
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE {self.db.t('targets')} SET status = ?, result_id = NULL, "  # noqa: S608
                "claim_token = NULL, lease_until = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'scheduled'",
                status,
                ts(now),
                target.id,
            )
            if changed:
                await record(self.db, tx, target.id, now, status, detail)
        return bool(changed)

    # -- crisis pause -----------------------------------------------------------------------

    async def pause(
        self, account: str | None = None, *, reason: str, source: str | None = None
    ) -> Pause:
        """Hold every planned target of the brand (``account=None``) or of one account until
        :meth:`resume`. When this returns no worker starts publishing a held target (workers
        check pauses in the transaction that claims). Posts handed to a network's scheduler
        are taken back from it (they are handed again after the resume). Pausing what is
        paused already keeps the first pause (idempotent)."""
        scope = BRAND if account is None else account
        now = self.now()
        async with self.db.transaction() as tx:
            await tx.lock("pauses")
            await tx.execute(
                f"INSERT INTO {self.db.t('pauses')} (scope, reason, since, source) "  # noqa: S608
                "VALUES (?, ?, ?, ?) ON CONFLICT (scope) DO NOTHING",
                scope,
                reason,
                ts(now),
                source,
            )
            rows = await tx.fetch(
                f"SELECT scope, reason, since, source FROM {self.db.t('pauses')} "  # noqa: S608
                "WHERE scope = ?",
                scope,
            )
            where = "" if scope == BRAND else " AND account = ?"
            scheduled = await tx.fetch(
                f"SELECT {TARGET_COLUMNS} FROM {self.db.t('targets')} "  # noqa: S608
                f"WHERE status = 'scheduled'{where}",
                *([] if scope == BRAND else [scope]),
            )
        log.warning("planner paused (%s): %s", "brand" if scope == BRAND else scope, reason)
        for row in scheduled:
            target = target_from(row)
            if target.account in self.adapters and target.due_at > now:
                try:
                    await self._unschedule(
                        target, "planned", f"taken back from the network: {reason}"
                    )
                except SocialkitError as exc:
                    log.error("could not take back %s from %s: %s", target.id, target.account, exc)
        r = rows[0]
        return Pause(scope=r[0], reason=r[1], since=dt(r[2]), source=r[3])

    async def resume(self, account: str | None = None) -> bool:
        """Clear a pause (the brand's with ``account=None``); whether there was one. Held
        targets whose time has passed are published by the next worker run."""
        scope = BRAND if account is None else account
        async with self.db.transaction() as tx:
            await tx.lock("pauses")
            changed = await tx.execute(
                f"DELETE FROM {self.db.t('pauses')} WHERE scope = ?",  # noqa: S608
                scope,
            )
        if changed:
            log.warning("planner resumed (%s)", "brand" if scope == BRAND else scope)
        return bool(changed)

    async def pauses(self) -> list[Pause]:
        async with self.db.transaction(write=False) as tx:
            rows = await tx.fetch(
                f"SELECT scope, reason, since, source FROM {self.db.t('pauses')} ORDER BY scope"  # noqa: S608
            )
        return [Pause(scope=r[0], reason=r[1], since=dt(r[2]), source=r[3]) for r in rows]

    async def resolve(
        self, target_id: str, *, post_id: str | None = None, url: str | None = None
    ) -> Target:
        """A person's decision on a ``needs_attention`` target: give the id of the post found
        online to mark it published, or none to mark it failed."""
        now = self.now()
        async with self.db.transaction() as tx:
            status: TargetStatus = "published" if post_id else "failed"
            changed = await tx.execute(
                f"UPDATE {self.db.t('targets')} SET status = ?, result_id = ?, "  # noqa: S608
                "result_url = ?, updated_at = ? WHERE id = ? AND status = 'needs_attention'",
                status,
                post_id,
                url,
                ts(now),
                target_id,
            )
            if not changed:
                raise PlanStateError(f"target {target_id!r} does not need attention")
            await record(self.db, tx, target_id, now, status, "resolved by a person")
        return await self.target(target_id)


def _why_fixed(target: Target) -> str:
    """Why a target cannot change, for :class:`PlanStateError`."""
    why = f"{target.account} ({target.id}) is {target.status}"
    if target.status == "published" and target.native:
        why += (
            f" (its scheduled post went live on the network: {target.url or target.published_id})"
        )
    return why


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} day(s)"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour(s)"
    if seconds % 60 == 0:
        return f"{seconds // 60} minute(s)"
    return f"{seconds} second(s)"


def is_bad_buzz(alert: Alert) -> bool:
    """Whether an alert is bad buzz: its ``polarity`` is ``"negative"`` (alerts without a
    polarity, from detectors that judge volume and negativity only, always are)."""
    polarity = getattr(alert, "polarity", None)
    return polarity is None or polarity == "negative"


def pause_on_alert(
    planner: Planner,
    *,
    accounts: Mapping[str, Sequence[str]] | Callable[[Alert], Sequence[str]] | None = None,
) -> Callable[[Alert], Awaitable[None]]:
    """A :class:`~socialkit.workflows.BuzzMonitor` callback that pauses the planner on bad
    buzz, until a person resumes it.

    ``accounts`` chooses what to pause: ``None`` pauses the whole brand; a mapping from watch
    names to account labels (a watch missing from it pauses the brand), or a function of the
    alert returning labels (empty: the brand). The pause carries the alert's message and key,
    and is idempotent, as the monitor's at-least-once delivery needs::

        monitor.subscribe(pause_on_alert(planner, accounts={"brand-mentions": ["masto"]}))
    """

    async def on_alert(alert: Alert) -> None:
        if not is_bad_buzz(alert):
            return
        if accounts is None:
            labels: Sequence[str] = ()
        elif callable(accounts):
            chosen = accounts(alert)
            labels = await chosen if inspect.isawaitable(chosen) else chosen
        else:
            labels = accounts.get(alert.watch, ())
        reason = f"bad buzz: {alert.message}"
        if not labels:
            await planner.pause(reason=reason, source=alert.key)
        for label in labels:
            await planner.pause(label, reason=reason, source=alert.key)

    return on_alert
