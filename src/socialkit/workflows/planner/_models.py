"""The planner's models: planned posts and their targets, rules, slots, conflicts and errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, field_validator, model_validator

from socialkit._errors import InvalidPostError, SocialkitError, ValidationError
from socialkit._models import Post, Problem, _Model
from socialkit.workflows.analytics import TimeGrid

__all__ = [
    "ACTIVE_STATUSES",
    "BestSlot",
    "Blackout",
    "CadenceRule",
    "Conflict",
    "Pause",
    "PlanConflictError",
    "PlanStateError",
    "PlannedPost",
    "PlanningError",
    "PreflightError",
    "Target",
    "TargetEvent",
    "TargetStatus",
]

TargetStatus = Literal[
    "planned", "claimed", "scheduled", "published", "failed", "needs_attention", "cancelled"
]
"""Where a target is:

- ``planned``: waiting for its time (or for a pause to be cleared);
- ``claimed``: a worker holds it under a lease and is publishing it;
- ``scheduled``: handed to the network's own scheduler (native scheduling);
- ``published``: online, with ``post_id`` and ``url``;
- ``failed``: the network refused it, ``error_type`` and ``error`` say how;
- ``needs_attention``: the outcome stayed unknown after reconciliation, or a thread stopped half
  way: a person decides (nothing is sent again automatically);
- ``cancelled``: cancelled before it was claimed.
"""

#: Targets that still count against cadence rules (they are, or will be, online).
ACTIVE_STATUSES: tuple[TargetStatus, ...] = ("planned", "claimed", "scheduled", "published")

# The core models' base: bad values raise socialkit.ValidationError (also pydantic's class).
_FROZEN = ConfigDict(
    frozen=True, extra="forbid", strict=False, arbitrary_types_allowed=True, defer_build=True
)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a region's folder: OSError
        raise ValidationError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Paris'"
        ) from None


def _aware(value: datetime | None, what: str) -> datetime | None:
    from datetime import timezone

    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (for example datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc)


class PlanningError(SocialkitError):
    """Base of the planner's errors."""


class PreflightError(PlanningError, InvalidPostError):
    """A planned post cannot go out on some of its targets: ``by_account`` maps each target
    account to what its network's ``check`` found (``problems`` lists them all, each message
    naming its account). Nothing was planned. Also an :class:`~socialkit.InvalidPostError`."""

    def __init__(self, by_account: Mapping[str, Sequence[Problem]]) -> None:
        self.by_account: dict[str, list[Problem]] = {k: list(v) for k, v in by_account.items()}
        self.network = ", ".join(self.by_account)
        self.problems = tuple(
            p.model_copy(update={"message": f"{account}: {p.message}"})
            for account, found in self.by_account.items()
            for p in found
        )
        listed = "; ".join(p.message for p in self.problems)
        SocialkitError.__init__(self, f"The post cannot be planned: {listed}.")


class Conflict(_Model):
    """A rule a target's time breaks: which rule, and which other target (if one is involved)."""

    model_config = _FROZEN

    account: str
    rule: str
    """``max_per_day``, ``min_gap`` or ``blackout``."""
    at: datetime
    message: str
    other_target: str | None = None
    other_post: str | None = None
    other_at: datetime | None = None

    def __str__(self) -> str:
        return self.message


class PlanConflictError(PlanningError):
    """A time breaks a cadence rule or falls in a blackout window. ``conflicts`` names each
    rule and the other post involved. Nothing was planned or moved."""

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        self.conflicts: tuple[Conflict, ...] = tuple(conflicts)
        super().__init__("; ".join(c.message for c in self.conflicts) + ".")

    @property
    def problems(self) -> list[str]:
        return [c.message for c in self.conflicts]


class PlanStateError(PlanningError):
    """The target is not in a state that allows this (a claimed or published target cannot be
    moved, edited or cancelled), or no such target or post exists."""


class CadenceRule(_Model):
    """How often an account may post: at most ``max_per_day`` posts per local day (in ``tz``)
    and at least ``min_gap`` between two posts. ``account=None`` applies to every account."""

    model_config = _FROZEN

    account: str | None = None
    max_per_day: int | None = Field(default=None, ge=1)
    min_gap: timedelta | None = None
    tz: str = "UTC"

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        _zone(value)
        return value

    @field_validator("min_gap")
    @classmethod
    def _gap(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("min_gap must be a positive duration")
        return value

    def applies(self, account: str) -> bool:
        return self.account is None or self.account == account


class Blackout(_Model):
    """A window in which nothing is published: one-off (``start``/``end``) or recurring every
    day (``daily_from``/``daily_to`` in ``tz``, on ``weekdays``, 0 = Monday; a window that ends
    before it starts runs over midnight). ``account=None`` covers every account."""

    model_config = _FROZEN

    reason: str = "blackout"
    account: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    daily_from: time | None = None
    daily_to: time | None = None
    weekdays: frozenset[int] = frozenset(range(7))
    tz: str = "UTC"

    @model_validator(mode="after")
    def _shape(self) -> Blackout:
        _zone(self.tz)
        one_off = self.start is not None or self.end is not None
        daily = self.daily_from is not None or self.daily_to is not None
        if one_off == daily:
            raise ValueError("a blackout is either start/end or daily_from/daily_to")
        if one_off:
            start = _aware(self.start, "start")
            end = _aware(self.end, "end")
            if start is None or end is None or end <= start:
                raise ValueError("a one-off blackout needs start < end")
            object.__setattr__(self, "start", start)
            object.__setattr__(self, "end", end)
        elif self.daily_from is None or self.daily_to is None:
            raise ValueError("a daily blackout needs daily_from and daily_to")
        if not self.weekdays or not self.weekdays <= frozenset(range(7)):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return self

    def applies(self, account: str) -> bool:
        return self.account is None or self.account == account

    def covers(self, moment: datetime) -> bool:
        """Whether ``moment`` falls inside the window."""
        if self.start is not None and self.end is not None:
            return self.start <= moment < self.end
        assert self.daily_from is not None
        assert self.daily_to is not None
        local = moment.astimezone(_zone(self.tz))
        clock = local.timetz().replace(tzinfo=None)
        if self.daily_from <= self.daily_to:
            return local.weekday() in self.weekdays and self.daily_from <= clock < self.daily_to
        # Over midnight: the evening part belongs to the day it starts on.
        if clock >= self.daily_from:
            return local.weekday() in self.weekdays
        if clock < self.daily_to:
            return (local.weekday() - 1) % 7 in self.weekdays
        return False

    def describe(self) -> str:
        if self.start is not None and self.end is not None:
            return f"{self.reason} ({self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC)"
        return f"{self.reason} (daily {self.daily_from:%H:%M}-{self.daily_to:%H:%M} {self.tz})"


class BestSlot(_Model):
    """ "The next best slot": the best-rated hour (by an account's :class:`~socialkit.workflows.
    TimeGrid` from analytics) in ``within`` after ``after`` that breaks no rule.

    ``grids`` maps account labels to their grid; ``default`` serves the others. Among the hours
    of the window the one with the highest estimate wins, the earliest on a tie; hours whose
    slot has fewer than ``min_posts`` posts behind it rank after all the others.
    """

    model_config = _FROZEN

    grids: dict[str, TimeGrid] = Field(default_factory=dict)
    default: TimeGrid | None = None
    after: datetime | None = None
    within: timedelta = timedelta(days=7)
    min_posts: int = 1

    def grid(self, account: str) -> TimeGrid | None:
        return self.grids.get(account, self.default)


class PlannedPost(_Model):
    """A post planned for several accounts.

    ``targets`` are the labels of configured accounts. ``texts`` gives another text per network
    name or per account label (the label wins); ``split`` turns a text longer than a network
    allows into a thread by that network's counting rules (``numbering`` as in
    :func:`socialkit.text.split_thread`). ``at`` is the time, or ``best`` picks each target's
    next best slot. ``native=True`` asks networks that schedule posts themselves (Mastodon) to
    hold the post until ``at``.
    """

    model_config = _FROZEN

    post: Post
    targets: list[str] = Field(min_length=1)
    at: datetime | None = None
    best: BestSlot | None = None
    texts: dict[str, str] = Field(default_factory=dict)
    split: bool = True
    numbering: bool | str = True
    campaign: str | None = None
    tags: list[str] = Field(default_factory=list)
    native: bool = False

    @model_validator(mode="after")
    def _when(self) -> PlannedPost:
        if (self.at is None) == (self.best is None):
            raise ValueError("give either at (a time) or best (the next best slot)")
        object.__setattr__(self, "at", _aware(self.at, "at"))
        if len(set(self.targets)) != len(self.targets):
            raise ValueError("each target account may appear once")
        object.__setattr__(self, "tags", sorted({t.strip().casefold() for t in self.tags}))
        return self


class Target(_Model):
    """One account's copy of a planned post, as the planner keeps it."""

    model_config = _FROZEN

    id: str
    post_id: str
    account: str
    network: str
    due_at: datetime
    status: TargetStatus
    post: Post
    """What is published: the variant for this network, split into a thread where needed."""
    campaign: str | None = None
    tags: list[str] = Field(default_factory=list)
    native: bool = False
    attempts: int = 0
    published_id: str | None = None
    url: str | None = None
    error_type: str | None = None
    error: str | None = None
    claimed_by: str | None = None
    lease_until: datetime | None = None
    updated_at: datetime
    paused: bool = False
    """Whether a pause (brand-wide or of this account) holds it right now."""

    @property
    def idempotency_key(self) -> str:
        """The key every publish of this target is sent under (the same after a crash)."""
        return f"plan-{self.id}"


class TargetEvent(_Model):
    """One recorded transition of a target."""

    model_config = _FROZEN

    target: str
    at: datetime
    status: TargetStatus
    detail: str | None = None
    worker: str | None = None


class Pause(_Model):
    """A crisis pause: brand-wide (``scope="*"``) or of one account."""

    model_config = _FROZEN

    scope: str
    reason: str
    since: datetime
    source: str | None = None
    """What paused it (an alert's key, a person's name)."""
