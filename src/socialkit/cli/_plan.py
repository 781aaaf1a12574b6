"""``socialkit plan …`` (the planner) and ``socialkit fakes serve`` (fake networks on a port).

The plan lives in a SQLite file (``--db``, default ``planner.db`` in the user data directory,
``SOCIALKIT_PLANNER_DB`` overrides) or in PostgreSQL (``--db postgresql://…``). Cadence rules and
blackout windows come from a TOML file (``--rules``, default ``planner.toml`` beside the config
file when it exists)::

    [[cadence]]
    account = "masto"          # leave out for every account
    max_per_day = 3
    min_gap_minutes = 90
    tz = "Europe/Paris"

    [[blackout]]
    reason = "night"
    daily_from = "22:00"
    daily_to = "07:00"
    tz = "Europe/Paris"
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time as _time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from socialkit._errors import ConfigurationError
from socialkit._models import Post
from socialkit.cli._app import (
    ConfigOption,
    _check_zone,
    _escape,
    _opened,
    _print_json,
    _progress,
    _run,
    _State,
    _state,
    app,
)

if TYPE_CHECKING:
    from socialkit.workflows.planner import PlanDB, Planner, Target

__all__ = ["fakes_app", "plan_app"]

plan_app = typer.Typer(help="The content calendar: plan posts, see and change the plan, run it.")
fakes_app = typer.Typer(help="The fake networks, as HTTP servers for tests in any language.")
app.add_typer(plan_app, name="plan")
app.add_typer(fakes_app, name="fakes")

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="SOCIALKIT_PLANNER_DB",
        help="The plan: a SQLite file, or a postgresql:// URL (default: planner.db in the "
        "user data directory).",
        show_default=False,
    ),
]
PrefixOption = Annotated[str, typer.Option("--prefix", help="Name prefix of the plan's tables.")]
RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="Cadence rules and blackouts (TOML; default: planner.toml beside the config file).",
        dir_okay=False,
    ),
]


def _db(where: str | None, prefix: str) -> PlanDB:
    from socialkit.workflows.planner import open_plan_db

    if where is None:
        import platformdirs

        where = str(Path(platformdirs.user_data_dir("socialkit", appauthor=False)) / "planner.db")
    return open_plan_db(where, prefix=prefix)


def _rules(state: _State, path: Path | None) -> dict[str, Any]:
    """``{"rules": [...], "blackouts": [...]}`` from the rules file (none: no rules)."""
    from socialkit.workflows.planner import Blackout, CadenceRule

    if path is None:
        default = state.config_path.parent / "planner.toml"
        if not default.exists():
            return {"rules": [], "blackouts": []}
        path = default
    try:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the rules file {path}: {exc}") from None
    unknown = set(data) - {"cadence", "blackout"}
    if unknown:
        raise ConfigurationError(
            f"the rules file {path} has unknown tables {sorted(unknown)}; "
            "expected [[cadence]] and [[blackout]]"
        )
    try:
        rules = []
        for item in data.get("cadence", []):
            values = dict(item)
            minutes = values.pop("min_gap_minutes", None)
            if minutes is not None:
                values["min_gap"] = timedelta(minutes=float(minutes))
            rules.append(CadenceRule(**values))
        blackouts = []
        for item in data.get("blackout", []):
            values = dict(item)
            for name in ("daily_from", "daily_to"):
                if isinstance(values.get(name), str):
                    values[name] = time.fromisoformat(values[name])
            blackouts.append(Blackout(**values))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"the rules file {path} is not valid: {exc}") from None
    return {"rules": rules, "blackouts": blackouts}


def _when(text: str, what: str = "--at") -> datetime:
    """An ISO 8601 time with its offset (``2026-12-07T09:30+01:00``; ``Z`` for UTC)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-12-07T09:30+01:00)", param_hint=what
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} has no UTC offset (add +01:00, or Z for UTC)", param_hint=what
        )
    return moment.astimezone(timezone.utc)


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    if text == "today":
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=what) from None


def _target_json(t: Target) -> dict[str, Any]:
    return {
        "id": t.id,
        "post": t.post_id,
        "account": t.account,
        "network": t.network,
        "due_at": t.due_at.isoformat(),
        "status": t.status,
        "paused": t.paused,
        "native": t.native,
        "campaign": t.campaign,
        "tags": t.tags,
        "text": t.post.text,
        "thread": len(t.post.thread),
        "attempts": t.attempts,
        "published_id": t.published_id,
        "url": t.url,
        "error_type": t.error_type,
        "error": t.error,
    }


def _targets_table(state: _State, targets: Sequence[Target], title: str) -> None:
    table = Table(title=title)
    table.add_column("due (UTC)")
    table.add_column("account")
    table.add_column("status")
    table.add_column("text", overflow="fold")
    table.add_column("campaign / tags", overflow="fold")
    table.add_column("target")
    for t in targets:
        status = t.status + (" (paused)" if t.paused else "")
        if t.status == "published" and t.url:
            status += f"\n{t.url}"
        elif t.error_type:
            status += f"\n{t.error_type}"
        text = t.post.text if len(t.post.text) <= 60 else t.post.text[:57] + "…"
        if t.post.thread:
            text += f" (+{len(t.post.thread)})"
        tags = ", ".join([*([t.campaign] if t.campaign else []), *(f"#{x}" for x in t.tags)])
        table.add_row(
            f"{t.due_at:%Y-%m-%d %H:%M}",
            t.account,
            _escape(status),
            _escape(text),
            _escape(tags) or "-",
            t.id,
        )
    state.out.print(table)


async def _planner(
    state: _State, db: PlanDB, rules: Path | None, adapters: dict[str, Any] | None = None
) -> Planner:
    from socialkit.workflows.planner import Planner

    return Planner(db, adapters or {}, **_rules(state, rules))


# -- plan add -----------------------------------------------------------------------------------


@plan_app.command("add")
def plan_add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The text of the post.")],
    account: Annotated[
        list[str], typer.Option("--account", help="A target account label (repeatable).")
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="When: ISO 8601 with offset (or use --best).")
    ] = None,
    best: Annotated[
        bool, typer.Option("--best", help="The next best slot from each account's analytics.")
    ] = False,
    within: Annotated[int, typer.Option("--within", min=1, help="--best: days to look ahead.")] = 7,
    tz: Annotated[str, typer.Option("--tz", help="--best: time zone of the analytics.")] = "UTC",
    text_for: Annotated[
        list[str] | None,
        typer.Option(
            "--text-for", help="NETWORK_OR_LABEL=TEXT: another text for one network or account."
        ),
    ] = None,
    campaign: Annotated[str | None, typer.Option("--campaign")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    native: Annotated[
        bool, typer.Option("--native", help="Let networks that can schedule hold the post.")
    ] = False,
    no_split: Annotated[
        bool, typer.Option("--no-split", help="Refuse a text too long instead of a thread.")
    ] = False,
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    rules: RulesOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Plan a post for one or several accounts (checked by every network now)."""
    from socialkit.workflows.planner import PlannedPost

    state = _state(ctx, config, as_json=as_json)
    if (at is None) == (not best):
        raise typer.BadParameter("give --at TIME or --best", param_hint="--at")
    when = _when(at) if at is not None else None
    if best:
        _check_zone(state, tz)  # before the 90 days of metrics are read
    texts: dict[str, str] = {}
    for item in text_for or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not NAME=TEXT", param_hint="--text-for")
        texts[key.strip()] = value

    async def main() -> int:
        async with _db(db, prefix) as plan_db, _opened(state, account) as opened:
            slot = None
            if best:
                slot = await _best_slot(opened, tz, within)
            planner = await _planner(state, plan_db, rules, opened.adapters)
            planned = PlannedPost(
                post=Post(text=text),
                targets=list(account),
                at=when,
                best=slot,
                texts=texts,
                split=not no_split,
                campaign=campaign,
                tags=list(tag or []),
                native=native,
            )
            targets = await planner.add(planned)
        if as_json:
            _print_json(
                state, {"post": targets[0].post_id, "targets": [_target_json(t) for t in targets]}
            )
        else:
            _targets_table(state, targets, f"Planned post {targets[0].post_id}")
        return 0

    _run(state, main)


async def _best_slot(opened: Any, tz: str, within: int) -> Any:
    from socialkit.workflows import MetricsCollector, best_times
    from socialkit.workflows.planner import BestSlot

    collector = MetricsCollector(opened.adapters, store=opened.store)
    await collector.collect(lookback=timedelta(days=90))
    perfs = await collector.performance()
    grids = {}
    for label in opened.adapters:
        own = [p for p in perfs if p.source == label]
        if not own:
            raise ConfigurationError(
                f"{label} has no measured posts to find its best times; give --at instead"
            )
        grids[label] = best_times(own, tz)
    return BestSlot(grids=grids, within=timedelta(days=within))


# -- plan list / show ---------------------------------------------------------------------------


@plan_app.command("list")
def plan_list(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--day", help="A day (YYYY-MM-DD or today).")] = None,
    week: Annotated[
        str | None, typer.Option("--week", help="The week holding this day (YYYY-MM-DD, today).")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone of --day and --week.")] = "UTC",
    account: Annotated[str | None, typer.Option("--account")] = None,
    campaign: Annotated[str | None, typer.Option("--campaign")] = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="planned, claimed, published … (repeat).")
    ] = None,
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The calendar: targets by day or week, account, campaign, tag and status."""
    from typing import get_args

    from socialkit.workflows.planner import TargetStatus

    state = _state(ctx, config, as_json=as_json)
    known = set(get_args(TargetStatus))
    for s in status or []:
        if s not in known:
            raise typer.BadParameter(
                f"{s!r}; one of {', '.join(sorted(known))}", param_hint="--status"
            )
    the_day, the_week = _day(day, "--day"), _day(week, "--week")
    _check_zone(state, tz)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            planner = await _planner(state, plan_db, None)
            targets = await planner.calendar(
                day=the_day,
                week=the_week,
                tz=tz,
                account=account,
                campaign=campaign,
                tag=tag,
                status=list(status) if status else None,  # type: ignore[arg-type]
            )
            pauses = await planner.pauses()
        if as_json:
            _print_json(
                state,
                {
                    "targets": [_target_json(t) for t in targets],
                    "pauses": [p.model_dump(mode="json") for p in pauses],
                },
            )
            return 0
        for p in pauses:
            who = "every account" if p.scope == "*" else p.scope
            state.err.print(
                f"PAUSED ({who}) since {p.since:%Y-%m-%d %H:%M} UTC: {p.reason}", markup=False
            )
        if not targets:
            state.out.print("Nothing planned.", markup=False)
        else:
            _targets_table(state, targets, "Calendar")
        return 0

    _run(state, main)


@plan_app.command("show")
def plan_show(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="A planned post's id or a target's id.")],
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """A planned post (or one target): its targets and every recorded transition."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            planner = await _planner(state, plan_db, None)
            targets = await planner.targets(ident)
            history = {t.id: await planner.events(t.id) for t in targets}
        if as_json:
            _print_json(
                state,
                {
                    "targets": [
                        {
                            **_target_json(t),
                            "events": [e.model_dump(mode="json") for e in history[t.id]],
                        }
                        for t in targets
                    ]
                },
            )
            return 0
        _targets_table(state, targets, f"Post {targets[0].post_id}")
        for t in targets:
            table = Table(title=f"{t.account} ({t.id})")
            table.add_column("at (UTC)")
            table.add_column("status")
            table.add_column("detail", overflow="fold")
            table.add_column("worker")
            for e in history[t.id]:
                table.add_row(
                    f"{e.at:%Y-%m-%d %H:%M:%S}", e.status, _escape(e.detail or ""), e.worker or ""
                )
            state.out.print(table)
        return 0

    _run(state, main)


# -- plan move / cancel -------------------------------------------------------------------------


async def _on_schedules(
    state: _State,
    plan_db: PlanDB,
    ident: str,
    rules: Path | None,
    act: Callable[[Planner], Awaitable[list[Target]]],
) -> list[Target]:
    """``act`` on a planner that holds the adapters of the accounts where ``ident`` is
    natively scheduled (what it changes, it changes on the network too)."""
    planner = await _planner(state, plan_db, None)
    targets = await planner.targets(ident)
    labels = sorted({t.account for t in targets if t.status == "scheduled"})
    if not labels:
        return await act(await _planner(state, plan_db, rules))
    async with _opened(state, labels) as opened:
        return await act(await _planner(state, plan_db, rules, opened.adapters))


@plan_app.command("move")
def plan_move(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="A planned post's id or a target's id.")],
    at: Annotated[str, typer.Option("--at", help="The new time: ISO 8601 with offset.")],
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    rules: RulesOption = None,
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move planned targets to a new time (rules checked again; native schedules too)."""
    state = _state(ctx, config, as_json=as_json)
    when = _when(at)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            targets = await _on_schedules(
                state, plan_db, ident, rules, lambda planner: planner.move(ident, when)
            )
        _show(state, targets, "Moved", as_json)
        return 0

    _run(state, main)


@plan_app.command("cancel")
def plan_cancel(
    ctx: typer.Context,
    ident: Annotated[str, typer.Argument(help="A planned post's id or a target's id.")],
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel targets not claimed yet (native schedules are cancelled on the network)."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            targets = await _on_schedules(
                state, plan_db, ident, None, lambda planner: planner.cancel(ident)
            )
        _show(state, targets, "Cancelled", as_json)
        return 0

    _run(state, main)


def _show(state: _State, targets: Sequence[Target], title: str, as_json: bool) -> None:
    if as_json:
        _print_json(state, {"targets": [_target_json(t) for t in targets]})
    else:
        _targets_table(state, targets, title)


# -- plan pause / resume ------------------------------------------------------------------------


@plan_app.command("pause")
def plan_pause(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="Why (shown with the calendar).")],
    account: Annotated[
        str | None, typer.Option("--account", help="One account (default: the whole brand).")
    ] = None,
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Crisis pause: hold every planned post (or one account's) until `plan resume`."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            planner = await _planner(state, plan_db, None)
            scheduled = await planner.calendar(account=account, status="scheduled")
            labels = sorted({t.account for t in scheduled})
            if labels:
                async with _opened(state, labels) as opened:
                    planner = await _planner(state, plan_db, None, opened.adapters)
                    pause = await planner.pause(account, reason=reason, source="cli")
            else:
                pause = await planner.pause(account, reason=reason, source="cli")
            held = await planner.calendar(account=account, status=["planned", "claimed"])
        if as_json:
            _print_json(state, {"pause": pause.model_dump(mode="json"), "held": len(held)})
        else:
            who = "every account" if pause.scope == "*" else pause.scope
            state.out.print(
                f"Paused {who} since {pause.since:%Y-%m-%d %H:%M} UTC ({pause.reason}); "
                f"{len(held)} target(s) held until `socialkit plan resume`.",
                markup=False,
            )
        return 0

    _run(state, main)


@plan_app.command("resume")
def plan_resume(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Option("--account", help="One account (default: the brand's pause).")
    ] = None,
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Clear a crisis pause: held posts go out at their time (or at once if it has passed)."""
    state = _state(ctx, config, as_json=as_json)

    async def main() -> int:
        async with _db(db, prefix) as plan_db:
            planner = await _planner(state, plan_db, None)
            cleared = await planner.resume(account)
            left = await planner.pauses()
        if as_json:
            _print_json(
                state, {"resumed": cleared, "pauses": [p.model_dump(mode="json") for p in left]}
            )
        else:
            who = "the brand" if account is None else account
            state.out.print(
                f"Resumed {who}." if cleared else f"{who} was not paused.", markup=False
            )
            for p in left:
                state.out.print(f"Still paused: {p.scope} ({p.reason})", markup=False)
        return 0

    _run(state, main)


# -- plan run -----------------------------------------------------------------------------------


@plan_app.command("run")
def plan_run(
    ctx: typer.Context,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Worker processes (forked: N > 1).")
    ] = 1,
    until_idle: Annotated[
        bool,
        typer.Option("--until-idle", help="Stop when nothing is due, claimed or to retry."),
    ] = False,
    horizon: Annotated[
        float,
        typer.Option(
            "--horizon", min=0.0, help="--until-idle: also wait for what is due in N seconds."
        ),
    ] = 0.0,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between looks.")] = 5.0,
    lease: Annotated[
        float, typer.Option("--lease", min=1.0, help="Seconds a claim lasts.")
    ] = 300.0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Publishes in flight per worker.")
    ] = 1,
    retry_after: Annotated[
        float, typer.Option("--retry-after", min=0.0, help="Seconds before a first retry.")
    ] = 30.0,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only these accounts (repeatable).")
    ] = None,
    db: DbOption = None,
    prefix: PrefixOption = "plan",
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """Publish what is due: one worker here, or --workers N processes."""
    state = _state(ctx, config, as_json=as_json)
    if workers > 1:
        args = [
            "--poll",
            str(poll),
            "--lease",
            str(lease),
            "--concurrency",
            str(concurrency),
            "--retry-after",
            str(retry_after),
            "--prefix",
            prefix,
        ]
        if until_idle:
            args += ["--until-idle", "--horizon", str(horizon)]
        for label in account or []:
            args += ["--account", label]
        if db is not None:
            args += ["--db", db]
        raise typer.Exit(_fork(state, workers, args, db, prefix, as_json))

    started = datetime.now(timezone.utc)

    async def main() -> int:
        from socialkit.workflows.planner import Runner

        async with _db(db, prefix) as plan_db, _opened(state, account) as opened:
            progress = _progress(state, disable=as_json)
            task = progress.add_task("publishing", total=None)

            def advance(outcome: Any) -> None:
                if outcome.status != "planned":  # "planned": to be tried again later
                    progress.advance(task)
                progress.update(task, description=f"{outcome.target.account}: {outcome.status}")

            runner = Runner(
                plan_db,
                opened.adapters,
                lease=timedelta(seconds=lease),
                concurrency=concurrency,
                retry_after=timedelta(seconds=retry_after),
                on_outcome=advance,
            )
            with progress:
                progress.update(task, total=await runner.pending() or None)
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                try:
                    stats = await runner.run(
                        until_idle=until_idle,
                        horizon=started + timedelta(seconds=horizon),
                        poll=poll,
                        stop=stop,
                    )
                finally:
                    for sig in (signal.SIGTERM, signal.SIGINT):
                        loop.remove_signal_handler(sig)
            planner = await _planner(state, plan_db, None)
            counts = await planner.counts()
        report = {
            "worker": runner.worker,
            "outcomes": stats.outcomes,
            "claims": stats.claims,
            "claim_seconds": round(stats.claim_seconds, 6),
            "counts": counts,
        }
        if as_json:
            _print_json(state, report)
        else:
            done = ", ".join(f"{n} {s}" for s, n in sorted(stats.outcomes.items())) or "nothing"
            state.out.print(f"Worker {runner.worker}: {done}.", markup=False)
            state.out.print(
                "Plan: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if n),
                markup=False,
            )
        return 1 if stats.outcomes.get("failed") or stats.outcomes.get("needs_attention") else 0

    _run(state, main)


def _fork(
    state: _State, workers: int, args: list[str], db: str | None, prefix: str, as_json: bool
) -> int:
    """Start ``workers`` worker processes; show the plan's progress until they all stop."""
    base = [
        sys.executable,
        "-m",
        "socialkit.cli",
        "--config",
        str(state.config_path),
        "plan",
        "run",
    ]
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module, no shell
            [*base, *args, "--json"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    progress = _progress(state, disable=as_json)
    reports: list[Any] = []
    try:
        with progress:
            task = progress.add_task(f"{workers} workers", total=None)
            while any(c.poll() is None for c in children):
                counts = asyncio.run(_counts(db, prefix))
                finished = sum(
                    counts.get(s, 0)
                    for s in ("published", "scheduled", "failed", "needs_attention")
                )
                total = finished + counts.get("planned", 0) + counts.get("claimed", 0)
                progress.update(task, completed=finished, total=total or None)
                _time.sleep(0.5)
        for child in children:
            out, _ = child.communicate()
            try:
                reports.append(json.loads(out))
            except ValueError:
                reports.append({"error": out.strip()[-500:], "exit_code": child.returncode})
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    counts = asyncio.run(_counts(db, prefix))
    if as_json:
        _print_json(state, {"workers": reports, "counts": counts})
    else:
        for report in reports:
            if "worker" in report:
                done = ", ".join(f"{n} {s}" for s, n in sorted(report["outcomes"].items()))
                state.out.print(f"Worker {report['worker']}: {done or 'nothing'}.", markup=False)
            else:
                state.err.print(f"A worker failed: {report.get('error')}", markup=False)
        state.out.print(
            "Plan: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if n), markup=False
        )
    return max((c.returncode or 0) for c in children)


async def _counts(db: str | None, prefix: str) -> dict[str, int]:
    from socialkit.workflows.planner import Planner

    async with _db(db, prefix) as plan_db:
        return await Planner(plan_db).counts()


# -- fakes serve --------------------------------------------------------------------------------


@fakes_app.command("serve")
def fakes_serve(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Which fakes, by network name (default: every fake: bluesky … youtube).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0: any free port.")] = 0,
    host: Annotated[
        str, typer.Option("--host", help="A loopback address (the fakes have no security).")
    ] = "127.0.0.1",
    rate_limits: Annotated[
        str, typer.Option("--rate-limits", help="network (the networks' own) or off.")
    ] = "network",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fakes' simulations.")] = 0,
) -> None:
    """Serve the fake networks on loopback ports (PORT, PORT+1 … in order) until interrupted.

    Prints one JSON line when ready: each fake's base URL and the settings that connect the real
    adapter to it. GET BASE/_socialkit/received reports what that fake received.
    """
    import ipaddress

    from socialkit.testing.fakes._serve import FAKES, serve_fakes

    chosen = list(names or FAKES)
    unknown = [n for n in chosen if n not in FAKES]
    if unknown:
        raise typer.BadParameter(f"unknown fakes {unknown}; known: {', '.join(FAKES)}")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise typer.BadParameter(
            "the fakes accept any request: serve them on a loopback address only",
            param_hint="--host",
        )
    if rate_limits not in ("network", "off"):
        raise typer.BadParameter("network or off", param_hint="--rate-limits")

    def ready(info: dict[str, Any]) -> None:
        typer.echo(json.dumps({"fakes": info}, sort_keys=True), nl=True)
        sys.stdout.flush()

    import threading

    stop = threading.Event()

    def finish(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, finish)
    try:
        serve_fakes(
            chosen, host=host, port=port, rate_limits=rate_limits, seed=seed, ready=ready, stop=stop
        )
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise _fail_plain(f"cannot serve on {host}:{port}: {exc}") from None


def _fail_plain(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)
