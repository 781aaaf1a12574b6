"""Rows of the plan's tables as models, and the statements every part shares."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from socialkit._models import Post
from socialkit.workflows.planner._db import PlanDB, Row, Tx
from socialkit.workflows.planner._models import Target, TargetStatus

TARGET_COLUMNS = (
    "id, post_id, account, network, due_at, status, native, content, campaign, tags, "
    "claimed_by, lease_until, attempts, result_id, result_url, error_type, error_message, "
    "updated_at"
)


def ts(moment: datetime) -> float:
    return moment.timestamp()


def dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)


def target_from(row: Row, paused_scopes: set[str] | None = None) -> Target:
    (
        target_id,
        post_id,
        account,
        network,
        due_at,
        status,
        native,
        content,
        campaign,
        tags,
        claimed_by,
        lease_until,
        attempts,
        result_id,
        result_url,
        error_type,
        error_message,
        updated_at,
    ) = row
    scopes = paused_scopes or set()
    return Target(
        id=str(target_id),
        post_id=str(post_id),
        account=str(account),
        network=str(network),
        due_at=dt(due_at),
        status=status,
        post=Post.model_validate_json(content),
        campaign=campaign,
        tags=list(json.loads(tags)),
        native=bool(native),
        attempts=int(attempts),
        published_id=result_id,
        url=result_url,
        error_type=error_type,
        error=error_message,
        claimed_by=claimed_by,
        lease_until=dt(lease_until) if lease_until is not None else None,
        updated_at=dt(updated_at),
        paused=status in ("planned", "claimed") and bool({"*", str(account)} & scopes),
    )


async def record(
    db: PlanDB,
    tx: Tx,
    target_id: str,
    at: datetime,
    status: TargetStatus,
    detail: str | None = None,
    worker: str | None = None,
) -> None:
    """Record one transition in the events table (in the transaction that made it)."""
    await tx.execute(
        f"INSERT INTO {db.t('events')} (target_id, at, status, detail, worker) "  # noqa: S608
        "VALUES (?, ?, ?, ?, ?)",
        target_id,
        ts(at),
        status,
        detail,
        worker,
    )


async def paused_scopes(db: PlanDB, tx: Tx) -> set[str]:
    rows = await tx.fetch(f"SELECT scope FROM {db.t('pauses')}")  # noqa: S608
    return {str(r[0]) for r in rows}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
