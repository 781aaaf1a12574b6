"""The planner: a content calendar that publishes exactly once, on one machine or many.

>>> planner = Planner(SQLitePlanDB("plan.db"), adapters, rules=[CadenceRule(max_per_day=3)])
>>> await planner.add(PlannedPost(post=Post(text="Launch!"), targets=["masto", "bird"], at=when))
>>> await planner.calendar(week=date.today(), campaign="launch")
>>> await Runner(planner.db, adapters).run()          # one worker; start as many as you like
>>> monitor.subscribe(pause_on_alert(planner))       # bad buzz holds every planned post

See docs/planner.md: planning (variants, thread splitting, best slots, rules), the calendar,
crisis pauses, native scheduling, and how the runner publishes each target exactly once
(claims with leases, the same idempotency key on every attempt, fenced outcomes) on SQLite or
PostgreSQL.
"""

from __future__ import annotations

from socialkit.workflows.planner._db import PlanDB, PostgresPlanDB, SQLitePlanDB, open_plan_db
from socialkit.workflows.planner._models import (
    BestSlot,
    Blackout,
    CadenceRule,
    Conflict,
    Pause,
    PlanConflictError,
    PlannedPost,
    PlanningError,
    PlanStateError,
    PreflightError,
    Target,
    TargetEvent,
    TargetStatus,
)
from socialkit.workflows.planner._planner import (
    BRAND,
    NATIVE_LEAD,
    Planner,
    is_bad_buzz,
    pause_on_alert,
)
from socialkit.workflows.planner._runner import Outcome, Runner, RunStats

__all__ = [
    "BRAND",
    "BestSlot",
    "Blackout",
    "CadenceRule",
    "Conflict",
    "NATIVE_LEAD",
    "Outcome",
    "Pause",
    "PlanConflictError",
    "PlanDB",
    "PlanStateError",
    "PlannedPost",
    "Planner",
    "PlanningError",
    "PostgresPlanDB",
    "PreflightError",
    "RunStats",
    "Runner",
    "SQLitePlanDB",
    "Target",
    "TargetEvent",
    "TargetStatus",
    "is_bad_buzz",
    "open_plan_db",
    "pause_on_alert",
]
