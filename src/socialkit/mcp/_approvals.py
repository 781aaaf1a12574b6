"""Actions that wait for a person: publishes, planned posts and replies drafted through MCP.

Each action is one key of the store (namespace ``mcp.approvals``), moved from state to state
with compare-and-set, so two people (or two processes) approving the same action run it once::

    pending --approve--> running --> done | failed
    pending --reject---> rejected

An action left ``running`` (the process died while it ran) is not run again by itself: a
publish carries its idempotency key (the action id) so the planner's runner reconciles it, and
a reply is shown as ``running`` until a person looks (``socialkit mcp approvals``).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal

from socialkit._errors import ConfigurationError
from socialkit._store import Store
from socialkit.mcp._models import Pending
from socialkit.workflows._common import utcnow

__all__ = ["ApprovalStateError", "Approvals"]

Kind = Literal["publish", "plan", "reply"]
State = Literal["pending", "running", "done", "rejected", "failed"]


class ApprovalStateError(ConfigurationError):
    """The action is not in a state that allows this (already approved, rejected or done)."""


class Approvals:
    """The approval queue in a :class:`~socialkit.Store`."""

    def __init__(
        self,
        store: Store,
        *,
        namespace: str = "mcp.approvals",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.namespace = namespace
        self._clock = clock

    async def submit(
        self,
        kind: Kind,
        accounts: Iterable[str],
        text: str,
        *,
        post: dict[str, Any] | None = None,
        at: datetime | None = None,
        item: str | None = None,
        request_id: str | None = None,
    ) -> tuple[Pending, bool]:
        """Queue an action; returns it and whether it is new.

        With ``request_id`` (the caller's name for this request), the action's id derives from
        it: submitting the same request again returns the first action, unchanged, and
        ``False`` (a retried call acts once). The same ``request_id`` for another action is an
        :class:`ApprovalStateError`.
        """
        if request_id is not None:
            if not request_id.strip() or len(request_id) > 200:
                raise ApprovalStateError(
                    "request_id must be 1 to 200 characters", ["request_id: a short unique name"]
                )
            digest = hashlib.sha256(f"{kind}\x1f{request_id}".encode()).hexdigest()[:20]
            action_id = f"{kind}-{digest}"
        else:
            action_id = f"{kind}-{uuid.uuid4().hex[:12]}"
        action = Pending(
            id=action_id,
            kind=kind,
            status="pending",
            accounts=list(accounts),
            text=text,
            at=at,
            item=item,
            created_at=self._clock(),
            post=post,
        )
        if await self.store.compare_and_set(
            self.namespace, action.id, None, action.model_dump_json()
        ):
            return action, True
        existing = await self.get(action.id)
        same = (existing.accounts, existing.text, existing.at, existing.item, existing.post) == (
            action.accounts,
            action.text,
            action.at,
            action.item,
            action.post,
        )
        if request_id is None or not same:
            raise ApprovalStateError(
                f"the request_id of {action.id} was used for another {kind}",
                ["request_id: use a new one for a different post or reply"],
            )
        return existing, False

    async def get(self, action_id: str) -> Pending:
        raw = await self.store.get(self.namespace, action_id)
        if raw is None:
            raise KeyError(f"no approval {action_id!r}; list them with `socialkit mcp approvals`")
        return Pending.model_validate_json(raw)

    async def list(
        self,
        *,
        status: State | Iterable[State] | None = None,
        kind: Kind | Iterable[Kind] | None = None,
    ) -> list[Pending]:
        """Actions, oldest first, filtered by status and kind."""
        statuses = None if status is None else {status} if isinstance(status, str) else set(status)
        kinds = None if kind is None else {kind} if isinstance(kind, str) else set(kind)
        out = []
        for _key, raw in await self.store.items(self.namespace):
            action = Pending.model_validate_json(raw)
            if statuses is not None and action.status not in statuses:
                continue
            if kinds is not None and action.kind not in kinds:
                continue
            out.append(action)
        out.sort(key=lambda a: (a.created_at, a.id))
        return out

    async def move(
        self, action_id: str, expected: State, status: State, detail: str | None = None
    ) -> Pending:
        """Move an action from ``expected`` to ``status`` (compare-and-set)."""
        raw = await self.store.get(self.namespace, action_id)
        if raw is None:
            raise KeyError(f"no approval {action_id!r}; list them with `socialkit mcp approvals`")
        current = Pending.model_validate_json(raw)
        if current.status != expected:
            raise ApprovalStateError(
                f"approval {action_id} is {current.status}, not {expected}",
                [f"{action_id}: only a {expected} action can become {status}"],
            )
        update: dict[str, Any] = {"status": status}
        if detail is not None:
            update["detail"] = detail
        if expected == "pending":
            update["decided_at"] = self._clock()
        moved = current.model_copy(update=update)
        if not await self.store.compare_and_set(
            self.namespace, action_id, raw, moved.model_dump_json()
        ):
            raise ApprovalStateError(
                f"approval {action_id} changed meanwhile (someone else decided it)"
            )
        return moved

    async def reject(self, action_id: str, reason: str | None = None) -> Pending:
        """Refuse a pending action: nothing is sent."""
        return await self.move(action_id, "pending", "rejected", reason or "rejected")
