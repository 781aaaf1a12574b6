"""How the pipeline talks to X: rate-limit headers, problem-JSON errors, bucket names."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from socialkit._errors import (
    APIError,
    AuthError,
    DuplicateError,
    InvalidRequestError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    error_class_for_status,
)
from socialkit._http import (
    Network,
    header_rate_limit_parser,
    parse_retry_after,
    redact_text,
)
from socialkit.adapters.x._wire import Problem

__all__ = ["PATHS", "bucket_for", "decode_x_error", "make_network", "problem_error"]

_PROBLEMS = "https://api.x.com/2/problems/"
_OLD_PROBLEMS = "https://api.twitter.com/2/problems/"
_MAX_MESSAGE = 500

#: Every path template the adapter calls (as the official description spells them). A rate-limit
#: bucket is the method and the template: X counts its limits per endpoint.
PATHS = (
    "/2/tweets",
    "/2/tweets/search/recent",
    "/2/tweets/{id}",
    "/2/users/me",
    "/2/users/by/username/{username}",
    "/2/users/{id}",
    "/2/users/{id}/tweets",
    "/2/users/{id}/mentions",
    "/2/dm_events",
    "/2/dm_conversations/with/{participant_id}/messages",
    "/2/dm_conversations/{dm_conversation_id}/messages",
    "/2/media/upload",
    "/2/media/upload/initialize",
    "/2/media/upload/{id}/append",
    "/2/media/upload/{id}/finalize",
    "/2/media/metadata",
    "/2/users/{id}/likes",
    "/2/users/{id}/likes/{tweet_id}",
    "/2/users/{id}/retweets",
    "/2/users/{id}/retweets/{source_tweet_id}",
    "/2/users/{id}/bookmarks",
    "/2/users/{id}/bookmarks/{tweet_id}",
    "/2/users/{id}/following",
    "/2/users/{source_user_id}/following/{target_user_id}",
    "/2/users/{id}/followers",
    "/2/users/{id}/muting",
    "/2/users/{source_user_id}/muting/{target_user_id}",
    "/2/tweets/{tweet_id}/hidden",
    "/2/users/{id}/timelines/reverse_chronological",
    "/2/users/{id}/owned_lists",
    "/2/users/{id}/followed_lists",
    "/2/lists/{id}/tweets",
)


def _template_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


# Literal templates first, so that /2/users/me is not read as /2/users/{id}.
_TEMPLATES = sorted(PATHS, key=lambda t: (t.count("{"), -len(t)))
_PATTERNS = [(_template_pattern(t), t) for t in _TEMPLATES]


def bucket_for(method: str, path: str) -> str:
    """``"GET /2/users/{id}/tweets"``: the method and the endpoint's path template."""
    bare = path.split("?", 1)[0]
    if bare.startswith(("https://", "http://")):
        bare = httpx.URL(bare).path
    for pattern, template in _PATTERNS:
        if pattern.match(bare):
            return f"{method.upper()} {template}"
    # Not one of ours (never expected): number-like segments become {id}.
    return f"{method.upper()} " + re.sub(r"/\d+(?=/|$)", "/{id}", bare)


#: ``x-rate-limit-limit`` / ``-remaining`` / ``-reset`` (Unix seconds) of the endpoint.
#: ``POST /2/tweets`` also carries the user's 24-hour allowance (``x-user-limit-24hour-*``);
#: when that is used up it is the limit that matters, so it is reported instead (its reset is
#: the later one). All six headers are read in one pass.
parse_x_rate_limit = header_rate_limit_parser(
    limit="x-rate-limit-limit",
    remaining="x-rate-limit-remaining",
    reset="x-rate-limit-reset",
    reset_kind="epoch",
    exhausted=(
        "x-user-limit-24hour-limit",
        "x-user-limit-24hour-remaining",
        "x-user-limit-24hour-reset",
    ),
)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _short_type(kind: str | None) -> str | None:
    if not kind:
        return None
    for prefix in (_PROBLEMS, _OLD_PROBLEMS):
        if kind.startswith(prefix):
            return kind[len(prefix) :]
    return kind


def _is_duplicate(code: str | None, message: str | None) -> bool:
    text = (message or "").lower()
    return code == "187" or "duplicate content" in text or "is a duplicate" in text


def problem_error(
    problem: Problem, status: int | None, request_id: str | None = None, network: str = "x"
) -> APIError:
    """The error of one problem: a whole error answer or one entry of a 200's ``errors``."""
    code = _short_type(problem.type)
    if code == "about:blank":
        # RFC 7807's "no further meaning than the status": not a code worth showing.
        code = None
    if code is None and problem.code is not None:
        code = str(problem.code)
    message = problem.detail or problem.message or problem.title
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    if code is not None:
        code = redact_text(code)[:100]
    if _is_duplicate(code, message):
        return DuplicateError(network, status, code, message, request_id)
    if code in ("rate-limit-exceeded", "usage-capped") or code == "88":
        return RateLimitError(
            network, status if status is not None else 429, code, message, request_id
        )
    cls: type[APIError]
    if code == "resource-not-found":
        cls = NotFoundError
    elif code in (
        "not-authorized-for-resource",
        "not-authorized-for-field",
        "field-unauthorized",
        "disallowed-resource",
        "client-forbidden",
        "resource-unavailable",
    ):
        cls = PermissionError
    elif code == "unsupported-authentication":
        cls = AuthError if status == 401 else PermissionError
    elif code == "invalid-request":
        cls = InvalidRequestError
    elif code == "internal-error":
        cls = ServerError
    elif status is not None:
        cls = error_class_for_status(status)
    else:
        cls = APIError
    if status is not None and cls is not error_class_for_status(status):
        # The status decides the class (the pipeline's retry rules rely on it); the problem
        # type only refines it where the two agree, or where the status says nothing specific.
        generic = error_class_for_status(status)
        if generic is not APIError:
            cls = generic
    return cls(network, status, code, message, request_id)


def decode_x_error(response: httpx.Response, network: str) -> APIError:
    """Decode an X error answer into the socialkit error tree.

    X answers with a problem document (RFC 7807: ``type``, ``title``, ``detail``, ``status``,
    ``#/components/schemas/Problem``), sometimes an ``{"errors": [...]}`` envelope, and for a few
    older paths ``{"code", "message"}`` (``#/components/schemas/Error``). A 403 for duplicate
    content becomes :class:`DuplicateError`; ``.../usage-capped`` and
    ``.../rate-limit-exceeded`` become :class:`RateLimitError` with the ``Retry-After`` (or the
    bucket reset, filled in by the pipeline).
    """
    status = response.status_code
    request_id = response.headers.get("x-transaction-id") or response.headers.get("x-request-id")
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    problem = Problem()
    if isinstance(body, dict):
        errors = body.get("errors")
        if _text(body.get("title")) or _text(body.get("detail")) or _text(body.get("type")):
            problem = _problem(body)
        elif isinstance(errors, list) and errors and isinstance(errors[0], dict):
            problem = _problem(errors[0])
        elif _text(body.get("message")):
            problem = _problem(body)
        elif _text(body.get("error_description")) or _text(body.get("error")):
            problem = Problem(
                type=_text(body.get("error")), detail=_text(body.get("error_description"))
            )
    if problem.detail is None and problem.message is None and problem.title is None:
        problem = problem.model_copy(update={"title": response.reason_phrase or None})
    error = problem_error(problem, status, request_id, network)
    if isinstance(error, RateLimitError):
        return RateLimitError(
            network,
            error.status,
            error.code,
            error.message,
            error.request_id,
            retry_after=parse_retry_after(response),
        )
    return error


def _problem(data: dict[str, Any]) -> Problem:
    clean: dict[str, Any] = {}
    for key in (
        "type",
        "title",
        "detail",
        "resource_id",
        "resource_type",
        "parameter",
        "value",
        "field",
        "message",
    ):
        value = data.get(key)
        if isinstance(value, str):
            clean[key] = value
    for key in ("status", "code"):
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            clean[key] = value
    return Problem(**clean)


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of X at ``base_url``."""
    return Network(
        name="x",
        base_url=base_url,
        rate_limit_parser=parse_x_rate_limit,
        error_decoder=decode_x_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=bucket_for,
    )
