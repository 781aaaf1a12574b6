"""The retry policy, and the tenacity strategies the session builds from it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from tenacity import RetryCallState, wait_exponential_jitter

__all__ = ["RetryPolicy", "RetrySignal"]

_HAS_MULTIPLIER = "multiplier" in inspect.signature(wait_exponential_jitter.__init__).parameters


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the session retries transient failures.

    Attributes:
        attempts: maximum number of attempts per call, the first included.
        budget: total seconds a call may spend sleeping between attempts (backoff); a retry
            whose backoff would exceed it is not made. Rate-limit waits (``Retry-After`` on
            a 429) are governed by the session's ``max_wait`` instead.
        initial / maximum / jitter: exponential backoff ``initial * 2**n`` capped at
            ``maximum``, plus up to ``jitter`` random seconds.
        wait: ``False`` makes every wait immediate (retries and rate-limit waits), for tests.
    """

    attempts: int = 4
    budget: float = 60.0
    initial: float = 0.5
    maximum: float = 30.0
    jitter: float = 1.0
    wait: bool = True
    _backoff: Callable[[RetryCallState], float] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.budget < 0 or self.initial < 0 or self.maximum < 0 or self.jitter < 0:
            raise ValueError("RetryPolicy times must not be negative")
        # tenacity >= 9.1 renamed ``initial`` to ``multiplier`` (the old name warns).
        scale = "multiplier" if _HAS_MULTIPLIER else "initial"
        backoff = wait_exponential_jitter(
            max=self.maximum, exp_base=2, jitter=self.jitter, **{scale: self.initial}
        )
        object.__setattr__(self, "_backoff", backoff)

    def backoff(self, retry_state: RetryCallState) -> float:
        """The backoff before the next attempt (tenacity's exponential wait with jitter)."""
        return float(self._backoff(retry_state))


class RetrySignal(Exception):
    """Internal: an attempt failed in a way the session may retry.

    ``final`` is the error raised if no retry is made; ``hint`` a wait the network asked for
    (``Retry-After`` or a known bucket reset); ``rate_limited`` marks 429s, whose waits are
    governed by ``max_wait`` and the rate-limit mode rather than the backoff budget.
    """

    def __init__(
        self,
        final: BaseException,
        *,
        hint: float | None = None,
        rate_limited: bool = False,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(str(final))
        self.final = final
        self.hint = hint
        self.rate_limited = rate_limited
        self.cause = cause
