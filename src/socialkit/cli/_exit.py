"""Exit codes that say what failed (documented in docs/cli.md)."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from socialkit._errors import (
    AuthError,
    ConfigurationError,
    InvalidPostError,
    RateLimitError,
)

__all__ = ["ExitCode", "code_for", "code_for_failures"]


class ExitCode(enum.IntEnum):
    OK = 0
    OTHER = 1
    USAGE = 2
    CONFIG = 3
    INVALID_POST = 4
    PARTIAL = 5
    AUTH = 6
    RATE_LIMITED = 7


def code_for(error: BaseException) -> ExitCode:
    """The exit code of one error."""
    if isinstance(error, ConfigurationError):
        return ExitCode.CONFIG
    if isinstance(error, InvalidPostError):
        return ExitCode.INVALID_POST
    if isinstance(error, RateLimitError):
        return ExitCode.RATE_LIMITED
    if isinstance(error, AuthError):
        return ExitCode.AUTH
    return ExitCode.OTHER


def code_for_failures(errors: Iterable[BaseException | None], total: int) -> ExitCode:
    """Per-account outcomes: 0 when none failed, 5 when some did, and when all failed the
    code of their error (the most specific one when they differ: config, auth, rate, post)."""
    failed = [e for e in errors if e is not None]
    if not failed:
        return ExitCode.OK
    if len(failed) < total:
        return ExitCode.PARTIAL
    codes = {code_for(e) for e in failed}
    for preferred in (
        ExitCode.CONFIG,
        ExitCode.AUTH,
        ExitCode.RATE_LIMITED,
        ExitCode.INVALID_POST,
    ):
        if preferred in codes:
            return preferred
    return ExitCode.OTHER
