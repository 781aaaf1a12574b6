"""What the MCP tools do, as plain async methods over adapters, the store and the planner.

:class:`Workspace` is the server without the protocol: every tool of
:mod:`socialkit.mcp._server` calls one method here, and ``socialkit mcp approve`` calls
:meth:`Workspace.approve`. Reading never changes anything outside the store; acting checks the
switches of ``mcp.toml`` first (:meth:`Workspace.require`) and, where they ask for it, queues
the action for a person instead of doing it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from socialkit._capabilities import Capability
from socialkit._errors import (
    ConfigurationError,
    InvalidPostError,
    SocialkitError,
    ValidationError,
)
from socialkit._models import Post, Problem
from socialkit._store import Store
from socialkit.mcp._approvals import Approvals
from socialkit.mcp._failures import NothingToShowError, error_info
from socialkit.mcp._models import (
    AccountInfo,
    AccountsResult,
    ActingSwitch,
    AlertsResult,
    BestTimesResult,
    CalendarEntry,
    CalendarResult,
    CheckResult,
    ErrorInfo,
    InboxResult,
    ListeningResult,
    MetricsResult,
    NetworkCheck,
    Pending,
    PlanResult,
    PostIn,
    PostOut,
    PostsResult,
    PublishResult,
    ReplyResult,
    RouteResult,
)
from socialkit.mcp._settings import ACT_TOOLS, Acting, ActTool, McpSettings
from socialkit.workflows._common import utcnow
from socialkit.workflows.alerts import Alert, BuzzMonitor
from socialkit.workflows.analytics import (
    MetricsCollector,
    PostPerformance,
    best_hours,
    best_times,
    performance_by,
    recommendations,
    top_posts,
)
from socialkit.workflows.inbox import Inbox, Status
from socialkit.workflows.listening import Listening
from socialkit.workflows.sentiment import LexiconScorer

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter
    from socialkit.workflows.planner import (
        Blackout,
        CadenceRule,
        PlanDB,
        Planner,
        Target,
        TargetStatus,
    )

__all__ = ["Workspace"]

logger = logging.getLogger("socialkit.mcp")

#: Where the alerts seen by this server are kept (the monitor's outbox forgets delivered ones).
ALERTS_NAMESPACE = "mcp.alerts"
#: The assignee of an inbox item whose reply waits for a person.
AWAITING = "mcp:awaiting-approval"


def _entry(target: Target) -> CalendarEntry:
    return CalendarEntry(
        id=target.id,
        post_id=target.post_id,
        account=target.account,
        network=target.network,
        due_at=target.due_at,
        status=target.status,
        text=target.post.text,
        url=target.url,
        error=target.error,
        paused=target.paused,
        campaign=target.campaign,
    )


class Workspace:
    """The adapters (by label), the store, the settings and, when given, the plan.

    ``plan_db`` (:class:`~socialkit.workflows.planner.PlanDB`) backs the calendar,
    ``plan_post`` and publishing (through the planner's runner, so each target is published
    once and shows in the calendar); without it the calendar and ``plan_post`` answer with a
    ``ConfigurationError`` and ``publish`` goes straight through the adapters. ``rules`` and
    ``blackouts`` are the planner's (``planner.toml``). ``clock`` returns
    now (tests inject one).
    """

    def __init__(
        self,
        adapters: Mapping[str, Adapter],
        *,
        store: Store,
        settings: McpSettings | None = None,
        plan_db: PlanDB | None = None,
        rules: Sequence[CadenceRule] = (),
        blackouts: Sequence[Blackout] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.adapters: dict[str, Adapter] = dict(adapters)
        self.rules = list(rules)
        self.blackouts = list(blackouts)
        self.store = store
        self.settings = settings or McpSettings()
        self.plan_db = plan_db
        self._clock = clock
        self.approvals = Approvals(store, clock=clock)
        scorer = LexiconScorer()
        self.inbox = Inbox(
            self.adapters, store=store, routing=self.settings.routing, scorer=scorer, clock=clock
        )
        self.listening: Listening | None = None
        self.monitor: BuzzMonitor | None = None
        if self.settings.watches:
            days = self.settings.listening_history_days
            self.listening = Listening(
                self.adapters,
                self.settings.watches,
                store=store,
                scorer=scorer,
                clock=clock,
                initial_limit=None if days else 100,
                initial_since=clock() - timedelta(days=days) if days else None,
            )
            self.monitor = BuzzMonitor(
                self.listening, store=store, clock=clock, callbacks=[self._record_alert]
            )
        unknown = sorted(
            {
                label
                for acting in self.settings.act.values()
                for label in acting.accounts
                if label != "*" and label not in self.adapters
            }
        )
        if unknown:
            logger.warning("mcp.toml names accounts that are not open: %s", ", ".join(unknown))

    def __repr__(self) -> str:
        return f"<Workspace accounts={sorted(self.adapters)}>"

    # -- helpers ----------------------------------------------------------------------------

    def adapter(self, account: str) -> Adapter:
        try:
            return self.adapters[account]
        except KeyError:
            raise ConfigurationError(
                f"unknown account {account!r}",
                [f"configured accounts: {', '.join(sorted(self.adapters)) or 'none'}"],
            ) from None

    def _targets(self, accounts: Sequence[str]) -> list[str]:
        """The accounts an action is for: named, never "every account" by omission."""
        if not accounts:
            raise ConfigurationError(
                "name the accounts to act for", ["accounts: one label at least"]
            )
        return self._labels(accounts)

    def _labels(self, accounts: Sequence[str] | None) -> list[str]:
        labels = list(dict.fromkeys(accounts)) if accounts else sorted(self.adapters)
        for label in labels:
            self.adapter(label)
        return labels

    def require(self, tool: ActTool, accounts: Iterable[str]) -> Acting:
        """The tool's switch when it may act for every account given, else the refusal."""
        acting = self.settings.acting(tool)
        if acting is None:
            raise ConfigurationError(
                f"the tool {tool} is turned off",
                [
                    f"act.{tool}: a person turns it on in mcp.toml with an [act.{tool}] table "
                    'listing the accounts (accounts = ["label"] or ["*"])'
                ],
            )
        refused = [a for a in accounts if not acting.allows(a)]
        if refused:
            raise ConfigurationError(
                f"the tool {tool} may not act for {', '.join(refused)}",
                [f"act.{tool}.accounts: add {a!r} in mcp.toml to allow it" for a in refused],
            )
        return acting

    def _planner(self) -> Planner:
        if self.plan_db is None:
            raise ConfigurationError(
                "the calendar needs the planner's database",
                ["planner_db: set it in mcp.toml, or run `socialkit mcp` with the planner"],
            )
        from socialkit.workflows.planner import Planner

        return Planner(
            self.plan_db,
            self.adapters,
            rules=self.rules,
            blackouts=self.blackouts,
            clock=self._clock,
        )

    # -- reading ----------------------------------------------------------------------------

    def accounts(self) -> AccountsResult:
        out = []
        for label in sorted(self.adapters):
            adapter = self.adapters[label]
            limits = adapter.limits
            acting = {}
            for tool in ACT_TOOLS:
                switch = self.settings.acting(tool)
                allowed = switch is not None and switch.allows(label)
                acting[tool] = ActingSwitch(
                    enabled=allowed,
                    approval=bool(switch and switch.approval and tool != "route"),
                )
            out.append(
                AccountInfo(
                    label=label,
                    network=adapter.name,
                    capabilities=sorted(c.value for c in adapter.capabilities),
                    max_text=limits.max_text,
                    text_unit=limits.text_unit,
                    max_media=limits.max_media,
                    max_thread=limits.max_thread,
                    acting=acting,
                )
            )
        return AccountsResult(accounts=out)

    async def posts(self, account: str, limit: int = 20) -> PostsResult:
        adapter = self.adapter(account)
        found = [p async for p in adapter.posts(limit=limit)]
        return PostsResult(posts=[PostOut.of(account, p) for p in found[:limit]])

    async def metrics(
        self, account: str, post_ids: Sequence[str] | None = None, limit: int = 20
    ) -> MetricsResult:
        adapter = self.adapter(account)
        ids = list(post_ids or [])
        counts: dict[str, dict[str, float]] = {}
        if not ids:
            recent = [p async for p in adapter.posts(limit=limit)]
            ids = [p.id for p in recent[:limit] if p.id]
            counts = {p.id: {k: float(v) for k, v in p.metrics.items()} for p in recent if p.id}
        per_post: dict[str, dict[str, float]] = {}
        if adapter.supports(Capability.POST_METRICS):
            for start in range(0, len(ids), 20):
                found = await adapter.metrics(ids[start : start + 20])
                for pid, values in found.items():
                    per_post[pid] = {m.name: float(m.value) for m in values}
        else:
            per_post = {pid: counts.get(pid, {}) for pid in ids}
        account_values: dict[str, float] = {}
        if adapter.supports(Capability.ACCOUNT_METRICS):
            account_values = {m.name: float(m.value) for m in await adapter.account_metrics()}
        return MetricsResult(account=account, account_metrics=account_values, posts=per_post)

    async def read_inbox(
        self,
        *,
        status: Sequence[Status] | None = ("new", "assigned"),
        queue: str | None = None,
        network: str | None = None,
        poll: bool = True,
        limit: int = 50,
    ) -> InboxResult:
        new = await self.inbox.poll() if poll else []
        items = await self.inbox.items(status=status, queue=queue, network=network)
        items.sort(key=lambda i: (-i.priority, -i.message.created_at.timestamp(), i.key))
        return InboxResult(
            new=len(new),
            items=items[:limit],
            queues=await self.inbox.report(),
            errors={k: error_info(v) for k, v in self.inbox.errors.items()} if poll else {},
            awaiting_approval=await self.approvals.list(status="pending", kind="reply"),
        )

    def _listening(self) -> Listening:
        if self.listening is None:
            raise ConfigurationError(
                "no watches are configured",
                ['watches: add [[watches]] tables to mcp.toml (name, role, keywords = ["..."])'],
            )
        return self.listening

    async def listening_results(
        self,
        *,
        watch: str | None = None,
        hours: int = 24,
        poll: bool = True,
        limit: int = 50,
        weight: Literal["mentions", "engagement"] = "mentions",
    ) -> ListeningResult:
        listening = self._listening()
        if watch is not None and watch not in listening.watches:
            raise ConfigurationError(
                f"unknown watch {watch!r}", [f"watches: {', '.join(sorted(listening.watches))}"]
            )
        if poll:
            await listening.poll()
        since = self._clock() - timedelta(hours=hours)
        items = await listening.items(watch, since=since)
        return ListeningResult(
            items=items[:limit],
            share_of_voice=await listening.share_of_voice(since=since, weight=weight),
            errors={k: error_info(v) for k, v in listening.errors.items()} if poll else {},
        )

    async def _record_alert(self, alert: Alert) -> None:
        await self.store.put(ALERTS_NAMESPACE, alert.key, alert.model_dump_json())

    async def alerts(self, *, check: bool = True, limit: int = 20) -> AlertsResult:
        self._listening()
        assert self.monitor is not None
        assert self.listening is not None
        new: list[Alert] = []
        if check:
            await self.listening.poll()
            new = await self.monitor.check()
        recent = [
            Alert.model_validate_json(raw) for _k, raw in await self.store.items(ALERTS_NAMESPACE)
        ]
        recent.sort(key=lambda a: (a.end, a.key), reverse=True)
        return AlertsResult(new=new, recent=recent[:limit])

    async def _performance(
        self, days: int, accounts: Sequence[str] | None
    ) -> tuple[list[PostPerformance], dict[str, Exception]]:
        labels = self._labels(accounts)
        collector = MetricsCollector(
            {label: self.adapters[label] for label in labels}, store=self.store, clock=self._clock
        )
        await collector.collect(lookback=timedelta(days=days))
        since = self._clock() - timedelta(days=days)
        perfs = [p for p in await collector.performance(since=since) if p.source in labels]
        return perfs, dict(collector.errors)

    async def best_times(
        self, *, days: int = 30, accounts: Sequence[str] | None = None, top: int = 3
    ) -> BestTimesResult:
        tz = self.settings.tz
        perfs, errors = await self._performance(days, accounts)
        return BestTimesResult(
            tz=tz,
            posts=len(perfs),
            best_hours=best_hours(perfs, tz).top(top) if perfs else [],
            best_times=best_times(perfs, tz).top(top) if perfs else [],
            recommendations=recommendations(perfs, tz) if perfs else [],
            errors={k: error_info(v) for k, v in errors.items()},
        )

    async def report(self, *, days: int = 30) -> dict[str, Any]:
        """The analytics report, as ``socialkit report --json`` gives it."""
        tz = self.settings.tz
        perfs, errors = await self._performance(days, None)
        data: dict[str, Any] = {
            "days": days,
            "tz": tz,
            "posts": len(perfs),
            "errors": {k: error_info(v).model_dump(mode="json") for k, v in errors.items()},
        }
        if perfs:
            data.update(
                networks=[g.model_dump(mode="json") for g in performance_by(perfs, "network")],
                top_posts=[p.model_dump(mode="json") for p in top_posts(perfs, 5)],
                best_hours=[s.model_dump(mode="json") for s in best_hours(perfs, tz).top(3)],
                recommendations=recommendations(perfs, tz),
            )
        return data

    async def heatmap(self, *, days: int = 30) -> bytes:
        """The weekday x hour best-time grid as a PNG (empty grid: no posts yet)."""
        from socialkit.cli._png import write_heatmap

        perfs, _errors = await self._performance(days, None)
        if not perfs:
            raise NothingToShowError(
                f"no posts in the last {days} days: the heatmap has nothing to show yet",
                errors=[{"loc": ("days",), "msg": "no posts measured in this period"}],
            )
        grid = best_times(perfs, self.settings.tz)
        with tempfile.TemporaryDirectory(prefix="socialkit-mcp-") as folder:
            path = write_heatmap(grid, Path(folder) / "heatmap.png", title="Best times")
            return path.read_bytes()

    async def calendar(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        account: str | None = None,
        status: Sequence[TargetStatus] | None = None,
        day: date | None = None,
        week: date | None = None,
    ) -> CalendarResult:
        """A ``day`` or the ISO ``week`` of a date (in the settings' ``tz``), else
        ``start``..``end`` (default: from yesterday to two weeks ahead)."""
        planner = self._planner()
        if account is not None:
            self.adapter(account)
        for name, moment in (("start", start), ("end", end)):
            # A naive time would be read in the server's own zone, not the caller's.
            if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
                raise ValidationError(
                    f"{name} must carry its time zone (e.g. 2026-12-24T09:00:00Z)",
                    errors=[{"loc": (name,), "msg": "a time zone is required"}],
                )
        if start is not None and end is not None and end <= start:
            raise ValidationError(
                "end must be after start", errors=[{"loc": ("end",), "msg": "must be after start"}]
            )
        now = self._clock()
        statuses = list(status) if status else None
        if day is not None or week is not None:
            targets = await planner.calendar(
                day=day, week=week, tz=self.settings.tz, account=account, status=statuses
            )
        else:
            targets = await planner.calendar(
                start=start or now - timedelta(days=1),
                end=end or now + timedelta(days=14),
                account=account,
                status=statuses,
            )
        waiting = await self.approvals.list(status="pending", kind=["plan", "publish"])
        if account is not None:
            waiting = [w for w in waiting if account in w.accounts]
        return CalendarResult(entries=[_entry(t) for t in targets], awaiting_approval=waiting)

    async def approvals_list(self, status: Sequence[str] | None = None) -> list[Pending]:
        return await self.approvals.list(status=status)  # type: ignore[arg-type]

    # -- acting -----------------------------------------------------------------------------

    def check_post(self, post: PostIn, accounts: Sequence[str] | None = None) -> CheckResult:
        """The offline pre-flight of every account (or those named): nothing is sent."""
        the_post = post.to_post()
        results = []
        for label in self._labels(accounts):
            adapter = self.adapters[label]
            problems = adapter.check(the_post)
            results.append(
                NetworkCheck(
                    account=label, network=adapter.name, ok=not problems, problems=problems
                )
            )
        return CheckResult(ok=all(r.ok for r in results), results=results)

    def _preflight(self, post: Post, labels: Sequence[str]) -> None:
        problems: list[Problem] = []
        for label in labels:
            for problem in self.adapters[label].check(post):
                problems.append(
                    problem.model_copy(update={"message": f"{label}: {problem.message}"})
                )
        if problems:
            raise InvalidPostError(", ".join(labels), problems)

    async def plan_post(
        self,
        post: PostIn,
        accounts: Sequence[str],
        at: datetime,
        *,
        campaign: str | None = None,
        request_id: str | None = None,
    ) -> PlanResult:
        """Put the post in the calendar at ``at`` (or queue it for approval first)."""
        labels = self._targets(accounts)
        acting = self.require("plan_post", labels)
        the_post = post.to_post()
        self._preflight(the_post, labels)
        planner = self._planner()
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValidationError(
                "at must carry its time zone (e.g. 2026-12-24T09:00:00Z)",
                errors=[{"loc": ("at",), "msg": "a time zone is required"}],
            )
        if at < self._clock():
            raise ValidationError(
                f"at {at.isoformat()} is in the past",
                errors=[{"loc": ("at",), "msg": "must be in the future"}],
            )
        pending, created = await self.approvals.submit(
            "plan",
            labels,
            the_post.text,
            post=_plan_body(the_post, labels, campaign),
            at=at,
            request_id=request_id,
        )
        if acting.approval or not created:
            return PlanResult(pending=pending)
        running = await self.approvals.move(pending.id, "pending", "running")
        try:
            planned = await self._plan(planner, the_post, labels, at, campaign)
        except SocialkitError as exc:
            info = error_info(exc)
            await self.approvals.move(
                running.id, "running", "failed", f"{info.type}: {info.message}"
            )
            raise
        done = await self.approvals.move(
            running.id,
            "running",
            "done",
            "planned: " + ", ".join(f"{e.account} {e.id}" for e in planned),
        )
        return PlanResult(planned=planned, pending=done)

    async def _plan(
        self,
        planner: Planner,
        post: Post,
        labels: Sequence[str],
        at: datetime,
        campaign: str | None,
    ) -> list[CalendarEntry]:
        from socialkit.workflows.planner import PlannedPost

        targets = await planner.add(
            PlannedPost(post=post, targets=list(labels), at=at, campaign=campaign)
        )
        return [_entry(t) for t in targets]

    async def publish(
        self, post: PostIn, accounts: Sequence[str], *, request_id: str | None = None
    ) -> PublishResult:
        """Publish now on each account (or queue it for approval first)."""
        labels = self._targets(accounts)
        acting = self.require("publish", labels)
        the_post = post.to_post()
        self._preflight(the_post, labels)
        pending, created = await self.approvals.submit(
            "publish",
            labels,
            the_post.text,
            post=the_post.model_dump(mode="json"),
            request_id=request_id,
        )
        if acting.approval or not created:
            # Waiting for a person, or a retry of a request already queued or carried out.
            return PublishResult(pending=pending)
        # Even without a person, the action goes through the queue: its id is the publish's
        # idempotency key, so a retried call cannot post twice.
        return await self._run_publish(await self.approvals.move(pending.id, "pending", "running"))

    async def _run_publish(self, action: Pending) -> PublishResult:
        """Publish a running action now: through the planner when there is a plan (the post
        enters the calendar due now and the planner's runner publishes each target once, under
        the target's idempotency key; a paused account keeps it waiting in the calendar), else
        straight through the adapters under the action's key."""
        assert action.post is not None
        the_post = Post.model_validate(action.post)
        published: list[PostOut] = []
        failures: dict[str, ErrorInfo] = {}
        waiting: list[str] = []
        if self.plan_db is None:
            for label in action.accounts:
                try:
                    posted = await self.adapter(label).publish(
                        the_post, idempotency_key=f"{action.id}-{label}"
                    )
                except SocialkitError as exc:
                    failures[label] = error_info(exc)
                    continue
                published.append(PostOut.of(label, posted))
        else:
            published, failures, waiting = await self._publish_planned(action, the_post)
        parts = []
        if published:
            parts.append("published on " + ", ".join(p.account for p in published))
        if waiting:
            parts.append(
                "waiting in the calendar on " + ", ".join(waiting) + " (paused, or to be tried "
                "again by `socialkit plan run`)"
            )
        if failures:
            parts.append("failed on " + ", ".join(failures))
        done = await self.approvals.move(
            action.id,
            "running",
            "failed" if failures and not published and not waiting else "done",
            "; ".join(parts),
        )
        return PublishResult(published=published, failures=failures, pending=done)

    async def _publish_planned(
        self, action: Pending, post: Post
    ) -> tuple[list[PostOut], dict[str, ErrorInfo], list[str]]:
        from socialkit.workflows.planner import PlannedPost, Runner

        planner = self._planner()
        try:
            targets = await planner.add(
                PlannedPost(post=post, targets=action.accounts, at=self._clock(), tags=["mcp"])
            )
        except SocialkitError as exc:
            info = error_info(exc)
            return [], {label: info for label in action.accounts}, []
        runner = Runner(
            planner.db,
            {label: self.adapters[label] for label in action.accounts},
            clock=self._clock,
        )
        outcomes = {o.target.id: o for o in await runner.run_once()}
        published: list[PostOut] = []
        failures: dict[str, ErrorInfo] = {}
        waiting: list[str] = []
        for target in targets:
            outcome = outcomes.get(target.id)
            if outcome is not None and outcome.status == "published" and outcome.post:
                published.append(PostOut.of(target.account, outcome.post))
            elif outcome is not None and outcome.status in ("failed", "needs_attention"):
                failures[target.account] = (
                    error_info(outcome.error)
                    if outcome.error is not None
                    else ErrorInfo(
                        type="PlanStateError",
                        message=f"the target {target.id} {outcome.status.replace('_', ' ')}",
                        fix="A person looks at it: `socialkit plan show " + target.id + "`.",
                    )
                )
            else:
                waiting.append(target.account)
        return published, failures, waiting

    async def reply(self, item: str, text: str, *, request_id: str | None = None) -> ReplyResult:
        """Answer an inbox message through the account it came in (or draft it for approval)."""
        current = await self.inbox.get(item)
        labels = [s for s in current.sources if s in self.adapters][:1]
        if not labels:
            raise ConfigurationError(
                f"no open account can answer {item!r}; it came through {', '.join(current.sources)}"
            )
        acting = self.require("reply", labels)
        if not text.strip():
            raise InvalidPostError(
                current.message.network,
                [Problem(code="empty_text", message="a reply needs some text", field="text")],
            )
        self._preflight(Post(text=text), labels)
        pending, created = await self.approvals.submit(
            "reply", labels, text, item=current.key, request_id=request_id
        )
        if not created:
            return ReplyResult(pending=pending)
        if acting.approval:
            await self.inbox.assign(current.key, AWAITING)
            return ReplyResult(pending=pending)
        running = await self.approvals.move(pending.id, "pending", "running")
        try:
            posted = await self.inbox.reply(current.key, text)
        except SocialkitError as exc:
            info = error_info(exc)
            await self.approvals.move(
                running.id, "running", "failed", f"{info.type}: {info.message}"
            )
            raise
        done = await self.approvals.move(
            running.id, "running", "done", f"replied: {posted.url or posted.id}"
        )
        return ReplyResult(reply=PostOut.of(labels[0], posted), pending=done)

    async def route(
        self,
        item: str,
        action: Literal["assign", "move", "ignore"],
        *,
        queue: str | None = None,
        assignee: str | None = None,
    ) -> RouteResult:
        """Assign an inbox message (to someone, optionally in another queue), move it, or
        close it without an answer."""
        current = await self.inbox.get(item)
        self.require("route", [s for s in current.sources if s in self.adapters][:1] or ["*"])
        if action == "ignore":
            return RouteResult(item=await self.inbox.ignore(current.key))
        if action == "move" and not queue:
            raise ConfigurationError("route move needs a queue", ["queue: the queue to move to"])
        return RouteResult(item=await self.inbox.assign(current.key, assignee, queue=queue))

    # -- a person's decisions ---------------------------------------------------------------

    async def approve(self, action_id: str) -> Pending:
        """Carry out a pending action once (a person's decision, not an assistant's)."""
        action = await self.approvals.get(action_id)
        running = await self.approvals.move(action.id, "pending", "running")
        try:
            if running.kind == "publish":
                result = await self._run_publish(running)
                assert result.pending is not None
                return result.pending
            if running.kind == "plan":
                assert running.post is not None
                assert running.at is not None
                body = running.post
                entries = await self._plan(
                    self._planner(),
                    Post.model_validate(body["post"]),
                    running.accounts,
                    running.at,
                    body.get("campaign"),
                )
                return await self.approvals.move(
                    running.id,
                    "running",
                    "done",
                    "planned: " + ", ".join(f"{e.account} {e.id}" for e in entries),
                )
            assert running.item is not None
            posted = await self.inbox.reply(running.item, running.text)
            return await self.approvals.move(
                running.id, "running", "done", f"replied: {posted.url or posted.id}"
            )
        except SocialkitError as exc:
            info = error_info(exc)
            await self.approvals.move(
                running.id, "running", "failed", f"{info.type}: {info.message}"
            )
            raise

    async def reject(self, action_id: str, reason: str | None = None) -> Pending:
        action = await self.approvals.reject(action_id, reason)
        if action.kind == "reply" and action.item is not None:
            try:
                current = await self.inbox.get(action.item)
            except KeyError:
                return action
            if current.assignee == AWAITING and current.status == "assigned":
                await self.inbox.assign(current.key, None)
        return action


def _plan_body(post: Post, labels: Sequence[str], campaign: str | None) -> dict[str, Any]:
    """What a planned post waiting for approval keeps: the post as data and its campaign."""
    return {"post": post.model_dump(mode="json"), "campaign": campaign, "accounts": list(labels)}
