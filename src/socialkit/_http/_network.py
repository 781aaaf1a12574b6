"""What an adapter declares about its network, and the default error decoder."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Literal

import httpx

from socialkit._errors import APIError, RateLimitError, error_class_for_status
from socialkit._http._ratelimit import RateLimitParser, parse_retry_after
from socialkit._http._redact import redact_text

__all__ = [
    "BodyKind",
    "BodyLimitName",
    "BodyLimits",
    "ErrorDecoder",
    "Network",
    "default_error_decoder",
]

ErrorDecoder = Callable[[httpx.Response, str], APIError]

_MAX_MESSAGE = 500
_REQUEST_ID_HEADERS = (
    "x-request-id",
    "x-transaction-id",
    "x-fb-trace-id",
    "x-fb-request-id",
    "x-li-uuid",
    "x-amzn-requestid",
    "x-correlation-id",
    "request-id",
)


def _default_bucket(method: str, path: str) -> str:
    return "default"


BodyKind = Literal["read", "write", "create", "download"]
BodyLimitName = Literal["read", "write", "create", "download", "error"]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The most bytes of a *decoded* response body the session reads, per kind of request.

    The defaults fit the largest legitimate answers with room to spare: a page of 100 posts
    with their expansions is under 2 MB on every supported network (``read``), one created or
    changed object far less (``write``, ``create``), and ``download`` (media fetched from a URL)
    fits the largest video any supported network accepts (X: 512 MB). A body over its limit
    stops being read at the limit, while it is inflated, and raises
    :class:`~socialkit.ResponseTooLargeError`. ``error``: bodies of error answers (4xx, 5xx)
    are cut to this many bytes instead, since only their message is read.
    """

    read: int = 16 * _MIB
    write: int = 4 * _MIB
    create: int = 4 * _MIB
    download: int = 512 * _MIB
    error: int = 1 * _MIB

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"BodyLimits.{item.name} must be a positive number of bytes")

    def for_kind(self, kind: str) -> int:
        """The limit of a request of ``kind`` (``read``, ``write``, ``create``, ``download``)."""
        limit: int = getattr(self, kind)
        return limit

    def merged(
        self, overrides: Mapping[str, int] | Mapping[BodyLimitName, int] | None
    ) -> BodyLimits:
        """These limits with ``overrides`` (by kind) replacing some of them."""
        if not overrides:
            return self
        unknown = set(overrides) - {item.name for item in fields(self)}
        if unknown:
            raise ValueError(
                f"unknown body limit kind(s) {sorted(unknown)}; "
                "expected read, write, create, download or error"
            )
        return replace(self, **{str(name): value for name, value in overrides.items()})


@dataclass(frozen=True, slots=True)
class Network:
    """How to talk to one network: declared once by its adapter.

    ``base_url`` is parsed once (into :attr:`url`); request paths are appended to its path the
    way httpx's ``base_url`` does it (``/v19.0`` + ``/me/feed`` -> ``/v19.0/me/feed``); an
    absolute URL is used as given.
    """

    name: str
    base_url: str | httpx.URL
    rate_limit_parser: RateLimitParser | None = None
    error_decoder: ErrorDecoder | None = None
    transient_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    transient_error: Callable[[APIError], bool] | None = None
    """Whether a decoded error answer is transient whatever its status (Meta's ``is_transient``
    and codes 1 and 2 come with HTTP 400): such an answer is treated as a transient status is,
    resent when the call is safe to repeat, otherwise an ``OutcomeUnknownError``."""
    idempotency_header: str | None = None
    idempotent_paths: frozenset[str] | None = None
    """The create paths on which the network honours ``idempotency_header`` (Mastodon: only
    ``/api/v1/statuses``); ``None`` means every create. Other creates are not resent."""
    bucket_for: Callable[[str, str], str] = _default_bucket
    body_limits: BodyLimits = BodyLimits()
    """The network's own decoded-body limits (see :class:`BodyLimits`); a session's
    ``body_limits`` (the ``body_limits`` setting) override them per kind."""
    url: httpx.URL = field(init=False, repr=False, compare=False)
    _prefix: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Network.name must not be empty")
        url = self.base_url if isinstance(self.base_url, httpx.URL) else httpx.URL(self.base_url)
        if not url.is_absolute_url:
            raise ValueError(f"Network.base_url must be an absolute URL, not {self.base_url!r}")
        if url.query or url.fragment:
            raise ValueError("Network.base_url must not have a query or fragment")
        prefix = str(url)
        if not prefix.endswith("/"):
            prefix += "/"
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "_prefix", prefix)

    def join(self, path: str) -> str:
        """The full URL of ``path`` (string concatenation; no re-parsing of the base URL)."""
        if path.startswith(("https://", "http://")):
            return path
        return self._prefix + path.lstrip("/")

    def decode_error(self, response: httpx.Response) -> APIError:
        """Decode an error response with the network's decoder (or the default one)."""
        decoder = self.error_decoder or default_error_decoder
        return decoder(response, self.name)


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _from_body(body: object) -> tuple[str | None, str | None]:
    """(code, message) from the usual error shapes."""
    if isinstance(body, list) and body:
        return _from_body(body[0])
    if not isinstance(body, dict):
        return None, None
    err = body.get("error")
    if isinstance(err, dict):
        # {"error": {"message": ..., "code": ..., "type": ...}} (Graph API and others)
        code = _text(err.get("code")) or _text(err.get("type")) or _text(err.get("status"))
        message = _text(err.get("message")) or _text(err.get("error_user_msg"))
        if message or code:
            return code, message
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        code, message = _from_body(errors[0])
        if message or code:
            return code, message
    code = _text(body.get("code")) or _text(body.get("error_code"))
    if code is None and isinstance(err, str):
        code = err if "error_description" in body else None
    message = (
        _text(body.get("error_description"))
        or _text(body.get("message"))
        or _text(body.get("detail"))
        or _text(body.get("title"))
        or _text(body.get("error_msg"))
        or (_text(err) if code is None else None)
    )
    return code, message


def default_error_decoder(response: httpx.Response, network: str) -> APIError:
    """Map a status to the error class (``error_class_for_status``) and read a message from
    the common body shapes (``{"error": ...}``, ``{"errors": [...]}``, ``{"message": ...}``,
    RFC 7807 problem documents, OAuth ``error_description``). Messages are redacted and
    shortened; headers and the request are never included."""
    status = response.status_code
    code: str | None = None
    message: str | None = None
    content = response.content
    if content:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if body is not None:
            code, message = _from_body(body)
        elif response.headers.get("content-type", "").startswith("text/plain"):
            message = _text(content[:_MAX_MESSAGE].decode("utf-8", "replace"))
    if message is None:
        message = response.reason_phrase or None
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    if code is not None:
        code = redact_text(code)[:100]
    headers = response.headers
    request_id = None
    for name in _REQUEST_ID_HEADERS:
        request_id = headers.get(name)
        if request_id:
            break
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            network, status, code, message, request_id, retry_after=parse_retry_after(response)
        )
    return cls(network, status, code, message, request_id)
