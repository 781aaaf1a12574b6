"""The pipeline's telemetry hook: ``None`` until :func:`socialkit.telemetry.instrument` runs.

Nothing here imports OpenTelemetry. The session reads :data:`ACTIVE` once per attempt; while it
is ``None`` (the default) telemetry costs one global lookup and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import httpx

__all__ = ["ACTIVE", "AttemptRecord", "Telemetry", "activate", "active"]


class AttemptRecord(Protocol):
    """One HTTP attempt in flight; ended once with its outcome."""

    def end(self, status: int | None, error: str | None) -> None:
        """``status``: the HTTP status, or ``None`` when no answer came; ``error``: the
        ``error.type`` value (a status code as text or an exception's class path), or ``None``."""


class Telemetry(Protocol):
    """What the pipeline reports. Implemented by :mod:`socialkit.telemetry`."""

    def attempt(
        self,
        network: str,
        method: str,
        url: httpx.URL,
        kind: str,
        bucket: str,
        resend_count: int,
    ) -> AttemptRecord:
        """An attempt starts (the request is handed to the transport)."""
        ...

    def retry(self, network: str, method: str, url: httpx.URL, wait: float, error: str) -> None:
        """A failed attempt will be made again after ``wait`` seconds."""
        ...

    def rate_limit_wait(
        self, network: str, method: str, url: httpx.URL, bucket: str, wait: float
    ) -> None:
        """A request waits ``wait`` seconds for its rate-limit bucket before it is sent."""
        ...

    def refresh(self, network: str) -> AbstractAsyncContextManager[None]:
        """Around one token refresh (its duration and outcome)."""
        ...


ACTIVE: Telemetry | None = None


def activate(telemetry: Telemetry | None) -> None:
    """Install (or, with ``None``, remove) the process's telemetry."""
    global ACTIVE
    ACTIVE = telemetry


def active() -> Telemetry | None:
    """The installed telemetry, if any."""
    return ACTIVE
