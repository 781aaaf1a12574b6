"""What became of a natively scheduled target once its time has passed: the network is asked
(each adapter's ``ex_scheduled_outcome``), by the runner and by a cancel or move."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from socialkit.workflows.planner._models import PlanStateError, Target

if TYPE_CHECKING:
    from socialkit._models import Post
    from socialkit.adapters._base import Adapter

__all__ = ["SETTLE_AFTER", "scheduled_outcome"]

SETTLE_AFTER = timedelta(minutes=1)
"""How long after its time a scheduled target is settled by default (a network's scheduler
publishes at the time or a little after it)."""


async def scheduled_outcome(adapter: Adapter, target: Target) -> Post | None:
    """The network's answer for a ``scheduled`` target: the post still held (``scheduled_at``
    set), the post published (its final id and URL), or ``None`` when the network no longer
    has it. :class:`PlanStateError` when the adapter cannot tell."""
    ask = getattr(adapter, "ex_scheduled_outcome", None)
    if ask is None or target.published_id is None:
        raise PlanStateError(
            f"{target.account} cannot tell what became of its scheduled post "
            f"{target.published_id or '(no id)'}"
        )
    scheduled = target.post.model_copy(
        update={"id": target.published_id, "scheduled_at": target.due_at}
    )
    found: Post | None = await ask(scheduled)
    return found
