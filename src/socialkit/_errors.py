"""The exceptions socialkit raises.

Every error derives from :class:`SocialkitError`, so ``except SocialkitError`` catches all of
them. The tree::

    SocialkitError
    ├── ConfigurationError          bad or missing settings, unknown network, missing extra
    ├── ValidationError             bad input (also a ValueError)
    │   ├── ModelValidationError    a model built with bad values (also pydantic's ValidationError)
    │   ├── MediaError              a media file missing, of an unsupported type, or not what
    │   │                           its name says
    │   └── InvalidRequestError     the network refused the request's content (400 / 422);
    │                               also an APIError
    ├── InvalidPostError            a post breaks the network's rules (found before sending)
    ├── UnsupportedError            the network does not offer this capability
    ├── OutcomeUnknownError         a create may or may not have reached the network
    ├── ThreadIncompleteError       a thread stopped part way; carries what was published
    ├── TransportError              the connection itself failed (DNS, reset, timeout)
    │   └── TimeoutError            ... by timing out
    └── APIError                    the network answered with an error
        ├── AuthError               401: bad or missing credentials
        │   └── TokenExpiredError   the access token expired and could not be refreshed
        ├── PermissionError         403: authenticated, but not allowed
        ├── NotFoundError           404 / 410
        ├── InvalidRequestError     400 / 422: the network refused the request's content
        ├── DuplicateError          the network refused a duplicate post
        ├── RateLimitError          429 or a rate limit that would be exceeded
        ├── ServerError             5xx
        └── MalformedResponseError  a success answer that is not what the network documents

``str(error)`` is one readable sentence. Errors never carry secrets: the pipeline builds them
from the status, the network's own code and message and the request id, never from headers or
the request body. Every class is exported from ``socialkit`` and shows there in tracebacks
(``socialkit.RateLimitError``), whatever module defines it.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import ValidationError as _PydanticValidationError

if TYPE_CHECKING:
    from socialkit._models import Post, Problem

__all__ = [
    "APIError",
    "AuthError",
    "ConfigurationError",
    "DuplicateError",
    "InvalidPostError",
    "InvalidRequestError",
    "MalformedResponseError",
    "MediaError",
    "ModelValidationError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServerError",
    "SocialkitError",
    "ThreadIncompleteError",
    "TimeoutError",
    "TokenExpiredError",
    "TransportError",
    "UnsupportedError",
    "ValidationError",
]


def _clean(text: str | None) -> str | None:
    if not text:
        return text
    from socialkit._http._redact import redact_text  # lazily: _http imports this module

    return redact_text(text)


class SocialkitError(Exception):
    """Base class of every error socialkit raises."""


class ConfigurationError(SocialkitError):
    """Settings are missing or wrong, a network is unknown, or an optional extra is missing.

    ``problems`` lists each problem found, so that all of them can be fixed at once.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        text = message
        if self.problems:
            text = f"{message}: " + "; ".join(self.problems)
        super().__init__(text)


class ValidationError(SocialkitError, ValueError):
    """Bad input, named: a value a model refuses, an id that fails the network's syntax, a media
    file that cannot be used (found locally, before any request), or content the network
    refused (:class:`InvalidRequestError`).

    It is also a ``ValueError``, so code that catches ``ValueError`` keeps working. ``errors``
    lists each problem as ``{"loc": (...), "msg": "..."}`` where there is more than one.
    """

    def __init__(self, message: str, *, errors: Sequence[dict[str, object]] = ()) -> None:
        self._errors: list[dict[str, object]] = [dict(e) for e in errors]
        super().__init__(message)

    def problems(self) -> list[dict[str, object]]:
        """Each problem as ``{"loc": (...), "msg": "..."}`` (one entry at least)."""
        return list(getattr(self, "_errors", None) or [{"loc": (), "msg": str(self)}])


class MediaError(ValidationError):
    """A media file cannot be used: it is missing or unreadable, its type is not an image,
    GIF, video or audio, or its bytes are not what its name or ``mime_type`` says."""


class InvalidPostError(SocialkitError):
    """A post breaks the network's rules; raised by ``publish`` before any request is sent."""

    def __init__(self, network: str, problems: Sequence[Problem]) -> None:
        self.network = network
        self.problems: tuple[Problem, ...] = tuple(problems)
        listed = "; ".join(p.message for p in self.problems) or "no detail"
        super().__init__(f"The post cannot be published on {network}: {listed}.")


class UnsupportedError(SocialkitError):
    """The network (or this adapter for it) does not offer a capability."""

    def __init__(self, network: str, capability: str, detail: str | None = None) -> None:
        self.network = network
        self.capability = capability
        text = f"{network} does not support {capability}"
        if detail:
            text += f" ({detail})"
        super().__init__(text + ".")


class OutcomeUnknownError(SocialkitError):
    """A create may have reached the network, but no readable answer came back.

    Sending it again blindly could publish twice, so socialkit does not. ``idempotency_key``
    is the key the create was sent under: call ``publish(post, idempotency_key=error.
    idempotency_key)`` to try again safely (the network's idempotency, a client-chosen record
    key, or the adapter's reconciliation makes sure the post exists once), or look for the
    post yourself. ``post_id`` is set when the adapter knows the id the post would have.
    """

    def __init__(
        self,
        network: str,
        method: str,
        path: str,
        cause: BaseException | None = None,
        *,
        idempotency_key: str | None = None,
        post_id: str | None = None,
    ) -> None:
        self.network = network
        self.method = method
        self.path = path
        self.idempotency_key = idempotency_key
        self.post_id = post_id
        reason = f": {type(cause).__name__}" if cause is not None else ""
        text = (
            f"{network}: the outcome of {method} {path} is unknown{reason}; "
            "it was not sent again to avoid a duplicate"
        )
        if idempotency_key is not None:
            text += f"; publish again with idempotency_key={idempotency_key!r} to retry safely"
        super().__init__(text + ".")

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_outcome_unknown,
            (self.network, self.method, self.path, self.idempotency_key, self.post_id),
        )


def _rebuild_outcome_unknown(
    network: str, method: str, path: str, key: str | None, post_id: str | None
) -> OutcomeUnknownError:
    return OutcomeUnknownError(network, method, path, idempotency_key=key, post_id=post_id)


class ThreadIncompleteError(SocialkitError):
    """Publishing a thread stopped part way.

    ``published`` holds the posts that are online (in order), ``total`` how many the thread
    had, and ``__cause__`` / ``cause`` the error that stopped it. Nothing after the failure was
    sent, so the application can resume from ``published[-1]``.
    """

    def __init__(
        self, network: str, published: Sequence[Post], total: int, cause: BaseException
    ) -> None:
        self.network = network
        self.published: tuple[Post, ...] = tuple(published)
        self.total = total
        self.cause = cause
        super().__init__(
            f"{network}: the thread stopped after {len(self.published)} of {total} posts "
            f"({type(cause).__name__}: {cause})"
        )


class TransportError(SocialkitError):
    """The connection to the network failed before a response arrived."""

    def __init__(self, network: str, message: str) -> None:
        self.network = network
        super().__init__(f"{network}: {message}")


class TimeoutError(TransportError):
    """The network did not answer in time."""


class APIError(SocialkitError):
    """The network answered with an error.

    Attributes:
        network: the network's registry name.
        status: the HTTP status (``None`` when an error arrives inside a 200 body).
        code: the network's own error code or name, when it gives one.
        message: the network's own message, when it gives one.
        request_id: the network's request or trace id, for support tickets.
    """

    default_status: int | None = None

    def __init__(
        self,
        network: str,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.network = network
        self.status = status if status is not None else self.default_status
        # Servers sometimes echo what they were sent ("Invalid bearer token abc…"): the
        # network's code and message are cleaned of secrets before they are kept.
        self.code = _clean(code)
        self.message = _clean(message)
        self.request_id = request_id
        super().__init__(self._sentence())

    def _sentence(self) -> str:
        parts = [f"{self.network} answered"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code:
            parts.append(f"({self.code})")
        text = " ".join(parts)
        if self.message:
            text += f": {self.message.rstrip('.')}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text + "."

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self),
            (self.network, self.status, self.code, self.message, self.request_id),
        )


class AuthError(APIError):
    """The credentials are missing, wrong, revoked or expired (HTTP 401)."""

    default_status = 401


class TokenExpiredError(AuthError):
    """The access token expired and could not be refreshed."""


class PermissionError(APIError):
    """Authenticated, but not allowed to do this (HTTP 403, missing scope or access level)."""

    default_status = 403


class NotFoundError(APIError):
    """The object does not exist or is no longer visible (HTTP 404 / 410)."""

    default_status = 404


class InvalidRequestError(APIError, ValidationError):
    """The network refused the request's content (HTTP 400 / 422), naming its reason.

    Both an :class:`APIError` (with the network's status, code and message) and a
    :class:`ValidationError`."""

    default_status = 422


class DuplicateError(APIError):
    """The network refused the post as a duplicate of an earlier one."""


class ServerError(APIError):
    """The network failed (HTTP 5xx)."""

    default_status = 500


class MalformedResponseError(APIError):
    """The network answered with a success status, but the body is not what it documents
    (not JSON, or missing required fields). ``message`` says what was wrong, briefly."""


class RateLimitError(APIError):
    """A rate limit was hit (HTTP 429), or waiting for its reset would take too long.

    Attributes:
        retry_after: seconds to wait before trying again, when known.
        limit / remaining: the bucket's size and what is left, when known.
        reset_at: when the bucket refills (UTC), when known.
        bucket: the name of the bucket, when known.
    """

    default_status = 429

    def __init__(
        self,
        network: str,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
        *,
        retry_after: float | None = None,
        limit: int | None = None,
        remaining: int | None = None,
        reset_at: datetime | None = None,
        bucket: str | None = None,
        local: bool = False,
    ) -> None:
        self.retry_after = retry_after
        self.limit = limit
        self.remaining = remaining
        self.reset_at = reset_at
        self.bucket = bucket
        self.local = local
        """True when socialkit held the request back itself (nothing was sent): the bucket
        is known to be empty and waiting is not allowed (``rate_limit="raise"``) or would
        exceed ``max_wait``. ``status`` is then None."""
        super().__init__(network, status, code, message, request_id)
        if local:
            self.status = None
            self.args = (self._sentence(),)

    def _sentence(self) -> str:
        if self.local:
            text = f"{self.network}: rate limited before sending"
            if self.message:
                text += f" ({self.message.rstrip('.')})"
        else:
            text = super()._sentence().rstrip(".")
        if self.bucket:
            text += f"; bucket {self.bucket}"
        if self.retry_after is not None:
            text += f"; retry after {self.retry_after:.0f} s"
        elif self.reset_at is not None:
            text += f"; resets at {self.reset_at.isoformat()}"
        return text + "."

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_rate_limit,
            (
                self.network,
                self.status,
                self.code,
                self.message,
                self.request_id,
                self.retry_after,
                self.limit,
                self.remaining,
                self.reset_at,
                self.bucket,
                self.local,
            ),
        )


def _rebuild_rate_limit(
    network: str,
    status: int | None,
    code: str | None,
    message: str | None,
    request_id: str | None,
    retry_after: float | None,
    limit: int | None,
    remaining: int | None,
    reset_at: datetime | None,
    bucket: str | None,
    local: bool = False,
) -> RateLimitError:
    return RateLimitError(
        network,
        status,
        code,
        message,
        request_id,
        retry_after=retry_after,
        limit=limit,
        remaining=remaining,
        reset_at=reset_at,
        bucket=bucket,
        local=local,
    )


#: Map an HTTP status to the error class the pipeline raises for it by default.
def error_class_for_status(status: int) -> builtins.type[APIError]:
    """Return the default :class:`APIError` subclass for an HTTP status."""
    if status == 401:
        return AuthError
    if status == 403:
        return PermissionError
    if status in (404, 410):
        return NotFoundError
    if status in (400, 409, 413, 415, 422):
        return InvalidRequestError
    if status == 429:
        return RateLimitError
    if status >= 500:
        return ServerError
    return APIError


class ResponseTooLargeError(MalformedResponseError):
    """A response body is larger than the session allows for its kind of request.

    The body stopped being read (and inflated) at ``limit`` bytes, so a compressed "bomb"
    never fills memory. ``kind`` is the request kind whose limit applied (``read``, ``write``,
    ``create`` or ``download``); the ``body_limits`` setting raises it where a larger answer is
    legitimate.
    """

    def __init__(
        self,
        network: str,
        status: int | None = None,
        code: str | None = "response_too_large",
        message: str | None = None,
        request_id: str | None = None,
        *,
        limit: int | None = None,
        kind: str | None = None,
    ) -> None:
        self.limit = limit
        self.kind = kind
        if message is None and limit is not None:
            message = (
                f"the response body is larger than {limit:,} bytes, the limit for "
                f"{kind or 'this'} requests (the body_limits setting)"
            )
        super().__init__(network, status, code, message, request_id)

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_too_large,
            (
                self.network,
                self.status,
                self.code,
                self.message,
                self.request_id,
                self.limit,
                self.kind,
            ),
        )


def _rebuild_too_large(
    network: str,
    status: int | None,
    code: str | None,
    message: str | None,
    request_id: str | None,
    limit: int | None,
    kind: str | None,
) -> ResponseTooLargeError:
    return ResponseTooLargeError(network, status, code, message, request_id, limit=limit, kind=kind)


class ModelValidationError(ValidationError, _PydanticValidationError):
    """A socialkit model (``Post``, ``Media`` …) was built with bad values.

    It is also ``pydantic.ValidationError`` (``except pydantic.ValidationError`` keeps working)
    and its ``errors()`` are pydantic's, with one difference: messages read without pydantic's
    ``"Value error, "`` prefix. Build one with :meth:`from_pydantic`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # pydantic-core builds the instance (``from_exception_data`` passes its own
        # arguments here); ValidationError.__init__'s message form does not apply.
        self._errors = []

    @classmethod
    def from_pydantic(cls, exc: _PydanticValidationError) -> ModelValidationError:
        """The same errors as ``exc``, as a socialkit error."""
        made = cls.from_exception_data(exc.title, exc.errors())  # type: ignore[arg-type]
        made._errors = made.errors(include_url=False, include_input=False, include_context=False)
        return made

    def errors(self, **kwargs: object) -> list[Any]:
        found = super().errors(**kwargs)  # type: ignore[arg-type]
        for entry in found:
            msg = entry.get("msg")
            if isinstance(msg, str) and msg.startswith(_VALUE_ERROR):
                entry["msg"] = msg[len(_VALUE_ERROR) :]
        return found

    def __str__(self) -> str:
        lines = []
        for entry in self.errors(include_url=False, include_input=False):
            where = ".".join(str(part) for part in entry["loc"]) or self.title
            lines.append(f"{where}: {entry['msg']}")
        count = len(lines)
        head = f"{count} invalid value{'s' if count != 1 else ''} for {self.title}"
        return head + "\n" + "\n".join(f"  {line}" for line in lines)


_VALUE_ERROR = "Value error, "


# Tracebacks and reprs name the public path (``socialkit.RateLimitError``), not this module.
for _name in __all__:
    globals()[_name].__module__ = "socialkit"
del _name
