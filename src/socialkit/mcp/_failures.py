"""socialkit's errors as tool results: type, message, problems and the fix.

Every message goes through :func:`~socialkit._http._redact.redact_text` and the server's own
scrubber (the configured secrets, by value) before it leaves the process.
"""

from __future__ import annotations

from collections.abc import Sequence

import pydantic

from socialkit._errors import (
    AuthError,
    ConfigurationError,
    DuplicateError,
    InvalidPostError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    ServerError,
    SocialkitError,
    ThreadIncompleteError,
    TransportError,
    UnsupportedError,
    ValidationError,
)
from socialkit._http._redact import redact_text
from socialkit._models import Problem
from socialkit.mcp._models import ErrorInfo

__all__ = ["NothingToShowError", "error_info", "validation_info"]


class NothingToShowError(ValidationError):
    """A report asked for a period without any measured post (the heatmap of no posts)."""


def _fix(error: BaseException) -> str:
    if isinstance(error, NothingToShowError):
        return "Publish first (or wait for the metrics of recent posts), then read it again."
    # The most specific class first: InvalidRequestError is also a ValidationError.
    if isinstance(error, InvalidPostError):
        return "Change the post so that each listed problem is gone, then call again."
    if isinstance(error, RateLimitError):
        return "Wait until the rate limit resets (retry_after seconds), then call again."
    if isinstance(error, AuthError):
        return (
            "The account's credentials were refused: a person runs `socialkit auth login "
            "NETWORK --account LABEL` again."
        )
    if isinstance(error, PermissionError):
        return "The account is not allowed to do this on the network (its app's scopes or plan)."
    if isinstance(error, NotFoundError):
        return "The post, message or account no longer exists on the network; check the id."
    if isinstance(error, InvalidRequestError):
        return "The network refused the content; change what its message names."
    if isinstance(error, DuplicateError):
        return "The network already has this post; nothing to do, or change the text."
    if isinstance(error, ServerError):
        return "The network failed; try again later."
    if isinstance(error, OutcomeUnknownError):
        return (
            "The post may or may not be online: read the account's posts before trying again "
            "(the approval queue retries with the same idempotency key)."
        )
    if isinstance(error, ThreadIncompleteError):
        return "Part of the thread is online; publish the rest as replies to the last post."
    if isinstance(error, TransportError):
        return "The network could not be reached; try again later."
    if isinstance(error, UnsupportedError):
        return "This network does not offer it; use another account (see list_accounts)."
    if type(error).__name__ == "PlanConflictError":
        return "Choose another time: each problem names the rule and the other post."
    if type(error).__name__ == "PlanStateError":
        return "The planned post changed state meanwhile; read the calendar again."
    if isinstance(error, ConfigurationError):
        return "A person changes the configuration as each problem says (mcp.toml or config.toml)."
    if isinstance(error, ValidationError):
        return "Correct the arguments named in the problems, then call again."
    if isinstance(error, KeyError):
        return "Check the id (list the inbox, the calendar or the approvals first)."
    return "An unexpected error; a person looks at the server's log."


def _problems(error: BaseException) -> list[Problem]:
    if isinstance(error, InvalidPostError):
        return list(error.problems)
    if isinstance(error, ConfigurationError):
        return [Problem(code="configuration", message=redact_text(p)) for p in error.problems]
    if isinstance(error, ValidationError):
        out = []
        for entry in error.problems():
            loc = entry.get("loc") or ()
            where = ".".join(str(p) for p in loc) if isinstance(loc, Sequence) else str(loc)
            out.append(
                Problem(
                    code="invalid_value",
                    message=redact_text(str(entry.get("msg", ""))),
                    field=where or None,
                )
            )
        return out
    listed = getattr(error, "problems", None)  # the planner's conflicts, as sentences
    if isinstance(listed, list | tuple) and all(isinstance(p, str) for p in listed):
        return [Problem(code="conflict", message=redact_text(p)) for p in listed]
    return []


def error_info(error: BaseException) -> ErrorInfo:
    """The error as data, with its fix (secrets redacted from every text)."""
    if isinstance(error, SocialkitError):
        kind = type(error).__name__
        message = str(error) or kind
    elif isinstance(error, KeyError):
        kind = "NotFoundError"
        message = str(error.args[0]) if error.args else "not found"
    else:
        # An unexpected failure: its class only; its text may quote anything.
        kind = "InternalError"
        message = f"the server failed ({type(error).__name__})"
    return ErrorInfo(
        type=kind,
        message=redact_text(message),
        problems=_problems(error),
        fix=_fix(error),
        retry_after=error.retry_after if isinstance(error, RateLimitError) else None,
    )


def validation_info(tool: str, error: pydantic.ValidationError) -> ErrorInfo:
    """Arguments the tool's schema refused, as a socialkit ``ValidationError``."""
    problems = [
        Problem(
            code="invalid_argument",
            message=entry["msg"],
            field=".".join(str(p) for p in entry["loc"]) or None,
        )
        for entry in error.errors(include_url=False, include_input=False)
    ]
    listed = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in problems)
    return ErrorInfo(
        type="ValidationError",
        message=redact_text(f"bad arguments for {tool}: {listed}"),
        problems=problems,
        fix="Correct the arguments named in the problems (see the tool's input schema).",
    )
