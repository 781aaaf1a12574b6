"""The Session: every adapter request goes through here.

One attempt is: reserve a unit of the rate-limit bucket (waiting, pacing or raising as the mode
says), send through the shared ``httpx.AsyncClient``, read the body as a stream up to the limit
of the request's kind (inflating it with a bound, so a compressed bomb never fills memory), read
the rate-limit headers into the store, and either return the 2xx response or classify the
failure. Failures that may be retried become a :class:`RetrySignal`; tenacity drives the retries
from there. The first attempt runs outside tenacity so that the common case (it succeeds) pays
nothing for the retry machinery. The whole call, waits and retries included, runs under one
deadline.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import contextvars
import inspect
import logging
import math
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from secrets import token_hex
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, cast

import httpx
import pydantic
import sniffio
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from socialkit._errors import (
    ConfigurationError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseTooLargeError,
    SocialkitError,
    TimeoutError,
    TransportError,
)
from socialkit._http import _telemetry
from socialkit._http._client import make_client, remap_transport_error
from socialkit._http._lane import DirectLane
from socialkit._http._network import BodyLimitName, BodyLimits, Network
from socialkit._http._ratelimit import (
    BOUNDARY_GRACE,
    BucketKey,
    BucketState,
    MemoryRateLimitStore,
    RateLimitStore,
    RateLimitUpdate,
    Reservation,
    SharedFlights,
    parse_retry_after,
)
from socialkit._http._redact import install_log_filters, redact_text, redact_url, register_secret
from socialkit._http._retry import RetryPolicy, RetrySignal
from socialkit._http._wire import (
    content_codings,
    declared_length,
    describe_transport_error,
    error_type,
    read_already,
    read_capped,
)

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "BOUNDARY_GRACE",
    "EventHook",
    "Kind",
    "RateLimitMode",
    "RequestEvent",
    "Session",
    "USE_SESSION_AUTH",
]

T = TypeVar("T")
Kind = Literal["read", "write", "create", "download"]
RateLimitMode = Literal["wait", "pace", "raise"]

logger: Final = logging.getLogger("socialkit.http")
_DEBUG: Final = logging.DEBUG
_INFO: Final = logging.INFO

_KINDS: Final = frozenset({"read", "write", "create", "download"})
_MODES: Final = frozenset({"wait", "pace", "raise"})
_DEFAULT_KIND: Final[dict[str, Kind]] = {
    "GET": "read",
    "HEAD": "read",
    "OPTIONS": "read",
    "PUT": "write",
    "DELETE": "write",
    "POST": "create",
    "PATCH": "create",
}
# Failures that prove the request never left this machine: safe to resend even a create.
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that retrying cannot fix.
_PERMANENT: Final = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)
# Content codings the session inflates itself, with a bound on the output (zlib's max_length);
# httpx's decoders inflate a whole network chunk at once (16 KiB of gzip can hold 16 MB).
# asyncio's own timeout (Python 3.11+) costs a fifth of an anyio cancel scope per call.
_ASYNCIO_TIMEOUT: Final = getattr(asyncio, "timeout", None)
#: How often a session asks a shared store again while other sessions' requests of a window
#: that ended are landing (see SharedFlights).
_LANDING_POLL: Final = 0.05

install_log_filters()


class _UseSessionAuth:
    __slots__ = ()

    def __repr__(self) -> str:
        return "USE_SESSION_AUTH"


#: Default of ``Session.request(auth=...)``: use the session's auth.
USE_SESSION_AUTH: Final = _UseSessionAuth()


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """What an event hook receives after every attempt (success or failure).

    ``url`` is redacted; ``elapsed`` is seconds spent in the transport; ``error`` is the class
    name of the failure (``None`` on success); ``rate_limit`` the bucket state after the
    response, when the network reported one.
    """

    network: str
    account: str
    method: str
    url: str
    kind: Kind
    bucket: str
    attempt: int
    status: int | None
    elapsed: float
    error: str | None
    rate_limit: BucketState | None


EventHook = Callable[[RequestEvent], "Awaitable[None] | None"]

_TYPE_ADAPTERS: dict[Any, pydantic.TypeAdapter[Any]] = {}


def _type_adapter(model: Any) -> pydantic.TypeAdapter[Any]:
    adapter = _TYPE_ADAPTERS.get(model)
    if adapter is None:
        adapter = _TYPE_ADAPTERS[model] = pydantic.TypeAdapter(model)
    return adapter


async def _default_sleep(seconds: float) -> None:
    if seconds <= 0:
        return
    if sniffio.current_async_library() == "asyncio":
        await asyncio.sleep(seconds)
    else:
        import anyio  # an httpx dependency; sleeps on trio too

        await anyio.sleep(seconds)


async def _no_sleep(seconds: float) -> None:
    return None


#: Set while a call of this context is on the wire. A request made from inside another one
#: (an auth flow refreshing its token through the same session) must not wait for the outer
#: call's probe: the outer call only finishes after the inner one, so it would wait forever.
_ON_THE_WIRE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "socialkit_on_the_wire", default=False
)


def _redacted(exc: httpx.TransportError) -> httpx.TransportError:
    """A copy of a transport error whose message has its secrets removed and no chain.

    Transports put the full URL in their messages (aiohttp: "Connection timeout to host
    <url>"), query string and all; the copy is what socialkit's errors chain from, so a
    printed traceback shows no token.
    """
    clean = redact_text(str(exc))
    try:
        request = exc.request
    except RuntimeError:
        request = None
    try:
        copy = type(exc)(clean, request=request)
    except TypeError:
        copy = httpx.TransportError(clean, request=request)
    return copy


def _new_event() -> Any:
    if sniffio.current_async_library() == "asyncio":
        return asyncio.Event()
    import anyio

    return anyio.Event()


async def _wait_event(event: Any, timeout: float) -> None:
    """Wait for ``event`` at most ``timeout`` seconds."""
    if timeout <= 0:
        return
    if sniffio.current_async_library() == "asyncio":
        with contextlib.suppress(asyncio.TimeoutError, builtins.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        return
    import anyio

    with anyio.move_on_after(timeout):
        await event.wait()


class _Window:
    """Requests on the wire that were reserved in one window (``reset``: its end; ``inf`` while
    a locally refilled window's end is not known yet)."""

    __slots__ = ("count", "reset")

    def __init__(self, reset: float) -> None:
        self.reset = reset
        self.count = 0


class _Flights:
    """The requests of one bucket handed to the transport and not answered yet, by window."""

    __slots__ = ("event", "windows")

    def __init__(self) -> None:
        self.windows: list[_Window] = []
        self.event: Any = None

    def add(self, reset: float) -> _Window:
        for window in self.windows:
            if window.reset == reset:
                break
        else:
            window = _Window(reset)
            self.windows.append(window)
        window.count += 1
        return window

    def done(self, window: _Window) -> None:
        window.count -= 1
        if window.count <= 0:
            self.windows = [w for w in self.windows if w is not window]
        event = self.event
        if event is not None:
            self.event = None
            event.set()

    def learn(self, reset: float) -> None:
        """An answer told the end of the current window: requests reserved after a local refill,
        when it was not known, belong to that window."""
        for window in self.windows:
            if window.reset == math.inf:
                window.reset = reset

    def landing(self, now: float) -> float | None:
        """The earliest reset already past that requests in flight were reserved under."""
        past = [w.reset for w in self.windows if w.reset <= now]
        return min(past) if past else None

    async def wait(self, timeout: float) -> None:
        """Until one of the requests in flight is answered (at most ``timeout`` seconds)."""
        if self.event is None:
            self.event = _new_event()
        await _wait_event(self.event, timeout)


class _Call:
    """The state of one ``Session.request`` call across its attempts."""

    __slots__ = (
        "attempt",
        "auth",
        "body_kind",
        "bucket",
        "busy",
        "expires",
        "explicit",
        "flight",
        "key",
        "kind",
        "limit",
        "path",
        "probe",
        "request",
        "safe",
        "sent",
        "timer",
        "transport",
        "window",
    )

    def __init__(
        self,
        request: httpx.Request,
        path: str,
        kind: Kind,
        bucket: str,
        key: BucketKey,
        safe: bool,
        auth: Any,
        body_kind: str,
        limit: int,
    ) -> None:
        self.request = request
        self.path = path
        self.kind = kind
        self.bucket = bucket
        self.key = key
        self.safe = safe
        self.auth = auth
        self.body_kind = body_kind
        self.limit = limit
        self.attempt = 0
        self.busy = 0.0
        self.probe = False
        self.sent = False
        self.window: _Window | None = None
        #: The flight under which a shared store holds this call's unit in the air.
        self.flight: float | None = None
        self.timer: Any = None
        self.expires = math.inf
        self.explicit = False
        #: The transport of the direct lane (``None``: through ``AsyncClient.send``).
        self.transport: httpx.AsyncBaseTransport | None = None

    def remaining(self) -> float:
        """Seconds left before the call's deadline."""
        return self.expires - time.monotonic()

    def extend(self, seconds: float) -> None:
        """Move the deadline ``seconds`` later (a rate-limit wait under the derived deadline)."""
        if seconds <= 0 or not math.isfinite(seconds):
            return
        self.expires += seconds
        timer = self.timer
        if timer is None:
            return
        reschedule = getattr(timer, "reschedule", None)
        if reschedule is not None:  # asyncio.Timeout
            when = timer.when()
            if when is not None:
                reschedule(when + seconds)
        else:  # anyio.CancelScope
            timer.deadline += seconds


class Session:
    """Sends an adapter's requests: rate limits, safe retries, error decoding, redacted logs.

    See ``PIPELINE.md`` for the contract. The ``client`` is never closed by the session unless
    the session created it (``client=None``).
    """

    def __init__(
        self,
        network: Network,
        *,
        client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        account: str = "default",
        rate_limit: RateLimitMode = "wait",
        max_wait: float = 900.0,
        store: RateLimitStore | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = None,
        hooks: Iterable[EventHook] = (),
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        deadline: float | None = None,
        body_limits: BodyLimits | Mapping[str, int] | Mapping[BodyLimitName, int] | None = None,
        secrets: Iterable[object] = (),
    ) -> None:
        if not isinstance(network, Network):
            raise ConfigurationError(f"Session needs a Network, not {type(network).__name__}")
        if rate_limit not in _MODES:
            raise ConfigurationError(
                f"rate_limit must be 'wait', 'pace' or 'raise', not {rate_limit!r}"
            )
        if max_wait < 0:
            raise ConfigurationError("max_wait must not be negative")
        if deadline is not None and not deadline > 0:
            raise ConfigurationError("deadline must be a positive number of seconds")
        try:
            if isinstance(body_limits, BodyLimits):
                limits = body_limits
            else:
                limits = network.body_limits.merged(body_limits)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"body_limits: {exc}") from None
        self._limits = limits
        register_secret(*secrets)
        self._network = network
        self._owns_client = client is None
        self._client = make_client() if client is None else client
        self._lane = DirectLane.of(self._client)
        self._auth: httpx.Auth | None = auth
        self._auth_arg: Any = httpx.USE_CLIENT_DEFAULT if auth is None else auth
        self._account = account
        self._mode: RateLimitMode = rate_limit
        self._pace = rate_limit == "pace"
        self._max_wait = float(max_wait)
        self._store: RateLimitStore = MemoryRateLimitStore() if store is None else store
        self._shared: SharedFlights | None = (
            cast(SharedFlights, store) if callable(getattr(store, "land", None)) else None
        )
        #: Names this session's requests in the air in a shared store (see SharedFlights).
        self._owner = token_hex(8) if self._shared is not None else None
        #: A store in this process wakes the session when other sessions' requests land; any
        #: other shared store is asked again every _LANDING_POLL seconds.
        self._landed = store.wait_landed if isinstance(store, MemoryRateLimitStore) else None
        self._retry = RetryPolicy() if retry is None else retry
        self._timeout: Any = httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
        self._hooks: tuple[EventHook, ...] = tuple(hooks)
        self._waits = self._retry.wait
        self._sleep: Callable[[float], Awaitable[None]] = (
            _no_sleep if not self._waits else (sleep or _default_sleep)
        )
        self._clock: Callable[[], float] = clock or time.time
        self._parser = network.rate_limit_parser
        self._idempotency_header = network.idempotency_header
        self._transient = network.transient_statuses
        self._transient_error = network.transient_error
        self._keys: dict[str, BucketKey] = {}
        self._states: dict[str, BucketState] = {}
        # First contact with a bucket: one request (the probe) learns its limits while the
        # others wait for it, instead of all going out blind. Buckets whose responses carry
        # no rate-limit headers are remembered and never probed again.
        self._probes: dict[str, Any] = {}
        self._headerless: set[str] = set()
        # Requests on the wire per bucket (see _Flights and _reserve).
        self._flights: dict[str, _Flights] = {}
        self._deadline = deadline
        self._derived_deadline = _attempt_seconds(
            timeout if timeout is not None else self._client.timeout
        ) + float(self._retry.budget)

    # --- public -----------------------------------------------------------------------------

    @property
    def network(self) -> Network:
        """The network this session talks to."""
        return self._network

    @property
    def account(self) -> str:
        """The account key of the rate-limit state."""
        return self._account

    @property
    def client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` requests go through."""
        return self._client

    @property
    def body_limits(self) -> BodyLimits:
        """The decoded-body limits per request kind (the network's, with the overrides)."""
        return self._limits

    @property
    def deadline(self) -> float:
        """Seconds one call may take in all. Unless set, derived from the timeout and the
        retry budget (rate-limit waits then extend it, up to ``max_wait`` each)."""
        return self._deadline if self._deadline is not None else self._derived_deadline

    def add_secret(self, *values: object) -> None:
        """Register exact secrets (a token obtained outside an auth scheme) for redaction."""
        register_secret(*values)

    @property
    def rate_limits(self) -> dict[str, BucketState]:
        """The last known state of each bucket of this (network, account), by bucket name."""
        return dict(self._states)

    async def refresh_rate_limits(self) -> dict[str, BucketState]:
        """Read the buckets from the store (shared stores: as other processes left them)."""
        states = await self._store.snapshot(self._network.name, self._account)
        self._states.update(states)
        return states

    def __repr__(self) -> str:
        return (
            f"Session(network={self._network.name!r}, account={self._account!r}, "
            f"base_url={redact_url(self._network.url)!r}, rate_limit={self._mode!r}, "
            f"auth={type(self._auth).__name__ if self._auth is not None else None})"
        )

    async def aclose(self) -> None:
        """Close the client if this session created it; otherwise nothing."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        kind: Kind | None = None,
        bucket: str | None = None,
        idempotency_key: str | None = None,
        retry_safe: bool = False,
        timeout: float | httpx.Timeout | None = None,
        auth: httpx.Auth | _UseSessionAuth | None = USE_SESSION_AUTH,
        max_body: int | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send a request and return its 2xx response; any other outcome raises.

        Raises the network's decoded :class:`APIError`, :class:`RateLimitError`,
        :class:`TransportError` / :class:`TimeoutError` once retries are exhausted or the
        deadline passed, :class:`ResponseTooLargeError` for a body over the limit of its kind,
        or :class:`OutcomeUnknownError` when a non-idempotent create may have reached the
        network.

        ``kind="download"`` fetches media (read-like, with the ``download`` body limit); a GET
        of an absolute URL sent without credentials counts as one too. ``max_body`` overrides
        the body limit of this call, ``deadline`` the session's deadline.
        """
        method = method.upper()
        if kind is None:
            kind = _DEFAULT_KIND.get(method, "create")
        elif kind not in _KINDS:
            raise ConfigurationError(
                f"kind must be 'read', 'write', 'create' or 'download', not {kind!r}"
            )
        if deadline is not None and not deadline > 0:
            raise ConfigurationError("deadline must be a positive number of seconds")
        if max_body is not None and not max_body > 0:
            raise ConfigurationError("max_body must be a positive number of bytes")
        network = self._network
        if bucket is None:
            bucket = network.bucket_for(method, path)
        header = self._idempotency_header
        if header is not None and (
            kind != "create"
            or (network.idempotent_paths is not None and path not in network.idempotent_paths)
        ):
            header = None
        if header is not None:
            token = idempotency_key or str(uuid.uuid4())
            headers = {**headers, header: token} if headers else {header: token}
        call_auth = self._auth_arg if auth is USE_SESSION_AUTH else auth
        lane = self._lane
        transport = lane.transport() if lane is not None else None
        if transport is not None and not (
            call_auth is None
            or call_auth is httpx.USE_CLIENT_DEFAULT
            or isinstance(call_auth, httpx.Auth)
        ):
            transport = None  # a (user, password) tuple or a callable: httpx wraps it
        url = network.join(path)
        options = {
            "params": params,
            "json": json,
            "data": data,
            "files": files,
            "content": content,
            "headers": headers,
        }
        if transport is not None and lane is not None:
            # A static scheme's header is set with the others: its auth flow need not run.
            direct = getattr(call_auth, "direct_header", None)
            request = lane.build(
                method,
                url,
                self._timeout if timeout is None else timeout,
                auth_header=direct,
                **options,
            )
            if request.url.userinfo:
                transport = None  # credentials in the URL: httpx's auth turns them into Basic
            elif direct is not None:
                call_auth = None
        else:
            request = self._client.build_request(
                method, url, timeout=self._timeout if timeout is None else timeout, **options
            )
        key = self._keys.get(bucket)
        if key is None:
            key = self._keys[bucket] = BucketKey(network.name, self._account, bucket)
        body_kind: str = kind
        if (
            kind == "read"
            and (auth is None or (auth is USE_SESSION_AUTH and self._auth is None))
            and path.startswith(("https://", "http://"))
        ):
            body_kind = "download"  # media fetched from a URL, without the network's token
        call = _Call(
            request,
            path,
            kind,
            bucket,
            key,
            kind != "create" or retry_safe or header is not None,
            call_auth,
            body_kind,
            max_body if max_body is not None else self._limits.for_kind(body_kind),
        )
        call.transport = transport
        if deadline is not None:
            seconds, call.explicit = deadline, True
        elif self._deadline is not None:
            seconds, call.explicit = self._deadline, True
        else:
            seconds = self._derived_deadline
        call.expires = time.monotonic() + seconds
        if _ASYNCIO_TIMEOUT is not None and sniffio.current_async_library() == "asyncio":
            timer = _ASYNCIO_TIMEOUT(seconds)
            call.timer = timer
            try:
                async with timer:
                    return await self._run(call)
            except builtins.TimeoutError:
                if timer.expired():
                    error = self._deadline_error(call, seconds)
                    raise error from error.__cause__
                raise
        import anyio  # trio, and asyncio before Python 3.11

        with anyio.CancelScope(deadline=anyio.current_time() + seconds) as scope:
            call.timer = scope
            return await self._run(call)
        raise self._deadline_error(call, seconds)

    async def _run(self, call: _Call) -> httpx.Response:
        try:
            return await self._attempt(call)
        except RetrySignal as signal:
            first = signal
        return await self._retry_after(call, first)

    def _deadline_error(self, call: _Call, seconds: float) -> Exception:
        request = call.request
        final = TimeoutError(
            self._network.name,
            f"{request.method} {redact_url(request.url)} did not complete within its deadline "
            f"of {seconds:g} s ({call.attempt} attempt(s); the deadline setting)",
        )
        if call.sent and not call.safe:
            return _unknown(self._network.name, call, final)
        return final

    async def request_model(
        self,
        model: type[T],
        method: str,
        path: str,
        **kwargs: Any,
    ) -> T:
        """Send like :meth:`request` and validate the body as ``model`` straight from bytes.

        Returns:
            The validated body (``model`` may be a pydantic model, ``list[Model]`` or a union).

        Raises:
            MalformedResponseError: the 2xx body is not JSON or does not match ``model`` (the
                message names the failing locations, never the values).
            APIError: every error :meth:`request` raises.

        Network calls: the one request (retried as :meth:`request` retries).
        """
        response = await self.request(method, path, **kwargs)
        return self.parse_model(model, response)

    def parse_model(self, model: type[T], response: httpx.Response) -> T:
        """Validate ``response``'s body as ``model`` straight from bytes (no request).

        For adapters that need the response itself too (a ``Link`` header, a status code):
        send with :meth:`request`, then parse here, so every adapter reads bodies one way.

        Raises:
            MalformedResponseError: the body is not JSON, or does not match ``model`` (naming
                at most five failing locations, never the values).
        """
        adapter = _type_adapter(model)
        try:
            result: T = adapter.validate_json(response.content)
        except pydantic.ValidationError as exc:
            errors = exc.errors(include_input=False, include_url=False)
            if errors and errors[0]["type"] == "json_invalid":
                detail = "the body is not JSON"
            else:
                locations = ", ".join(
                    ".".join(str(part) for part in error["loc"]) or "(root)" for error in errors[:5]
                )
                name = getattr(model, "__name__", None) or str(model).replace("socialkit.", "")
                detail = (
                    f"the response does not match {name} "
                    f"({exc.error_count()} problem(s): {locations})"
                )
            raise MalformedResponseError(
                self._network.name,
                response.status_code,
                "malformed_response",
                detail,
                _request_id(response),
            ) from None
        return result

    # --- one attempt ------------------------------------------------------------------------

    async def _attempt(self, call: _Call) -> httpx.Response:
        call.attempt += 1
        try:
            await self._reserve(call)
            return await self._send(call)
        finally:
            window = call.window
            if window is not None:
                call.window = None
                flights = self._flights.get(call.bucket)
                if flights is not None:
                    flights.done(window)
            if call.flight is not None:
                await self._land(call)
            if call.probe:
                call.probe = False
                if call.bucket not in self._states:
                    self._headerless.add(call.bucket)
                self._probes.pop(call.bucket).set()

    async def _send(self, call: _Call) -> httpx.Response:
        started = time.perf_counter()
        telemetry = _telemetry.ACTIVE
        record = (
            telemetry.attempt(
                self._network.name,
                call.request.method,
                call.request.url,
                call.kind,
                call.bucket,
                call.attempt - 1,
            )
            if telemetry is not None
            else None
        )
        wire = _ON_THE_WIRE.set(True)
        call.sent = True
        try:
            transport = call.transport
            if transport is None:
                response = await self._client.send(call.request, auth=call.auth, stream=True)
            else:
                auth = call.auth
                response = await DirectLane.send(
                    transport, call.request, auth if isinstance(auth, httpx.Auth) else None
                )
            try:
                await self._read_body(call, response)
            except SocialkitError as unreadable:
                raise _BodyFailure(unreadable) from None
            finally:
                await response.aclose()
        except httpx.TransportError as raw:
            _ON_THE_WIRE.reset(wire)
            mapped = remap_transport_error(raw)
            if isinstance(mapped, _NOT_SENT):
                call.sent = False  # never left this machine: the deadline may not say "unknown"
            reason = describe_transport_error(mapped, call.request.url)
            exc = _redacted(mapped)
            elapsed = time.perf_counter() - started
            call.busy += elapsed
            if record is not None:
                record.end(None, error_type(exc))
            await self._record(call, None, elapsed, type(exc).__name__, None)
            raise self._transport_failure(call, exc, reason) from exc
        except _BodyFailure as body:  # the body: over its limit, or not decodable
            _ON_THE_WIRE.reset(wire)
            error = body.error
            status = getattr(error, "status", None)
            elapsed = time.perf_counter() - started
            call.busy += elapsed
            if record is not None:
                record.end(status, error_type(error))
            await self._record(call, status, elapsed, type(error).__name__, None)
            if isinstance(error, MalformedResponseError) and not call.safe:
                # A create the network accepted (2xx) whose answer could not be read: the post
                # exists, and sending it again would publish it twice.
                raise _unknown(self._network.name, call, error) from error
            raise error from None
        except BaseException as other:
            _ON_THE_WIRE.reset(wire)
            if record is not None:
                record.end(None, error_type(other))
            raise
        _ON_THE_WIRE.reset(wire)
        elapsed = time.perf_counter() - started
        call.busy += elapsed
        state: BucketState | None = None
        parser = self._parser
        if parser is not None:
            update = parser(response)
            if update is not None:
                state = await self._store_update(call, update)
        status = response.status_code
        if 200 <= status < 300:
            if record is not None:
                record.end(status, None)
            if self._hooks or logger.isEnabledFor(_DEBUG):
                await self._record(call, status, elapsed, None, state)
            return response
        if record is not None:
            record.end(status, str(status))
        failure = await self._status_failure(call, response, state)
        shown = failure.final if isinstance(failure, RetrySignal) else failure
        await self._record(call, status, elapsed, type(shown).__name__, state)
        raise failure

    # --- the body ---------------------------------------------------------------------------

    async def _read_body(self, call: _Call, response: httpx.Response) -> None:
        """Read the body into ``response`` (``response.content``), decoded, within the limit.

        A 2xx body over ``call.limit`` raises :class:`ResponseTooLargeError` as soon as the
        inflated size passes it; an error answer's body is cut at the ``error`` limit instead
        (only its message is read). gzip and deflate are inflated here with zlib's
        ``max_length``, so no single network chunk inflates past the limit either.
        """
        status = response.status_code
        ok = 200 <= status < 300
        limit = call.limit if ok else min(call.limit, self._limits.error)
        read = read_already(response)  # an auth flow read a 401 already
        if read is not None:
            if len(read) > limit:
                if ok:
                    raise self._too_large(call, response, limit)
                response._content = read[:limit]
            return
        codings = content_codings(response)
        if ok and not codings and declared_length(response) > limit:
            raise self._too_large(call, response, limit)  # nothing read at all
        try:
            cut = await read_capped(response, limit, codings)
        except (zlib.error, httpx.DecodingError):
            if ok:
                raise MalformedResponseError(
                    self._network.name,
                    status,
                    "undecodable_response",
                    f"the body is not valid {', '.join(codings)} (Content-Encoding)",
                    _request_id(response),
                ) from None
            response._content = b""
            return
        if cut and ok:
            raise self._too_large(call, response, limit)

    def _too_large(
        self, call: _Call, response: httpx.Response, limit: int
    ) -> ResponseTooLargeError:
        return ResponseTooLargeError(
            self._network.name,
            response.status_code,
            request_id=_request_id(response),
            limit=limit,
            kind=call.body_kind,
        )

    async def _store_update(
        self, call: _Call, update: RateLimitUpdate, key: BucketKey | None = None
    ) -> BucketState:
        if key is None:
            if update.bucket is None or update.bucket == call.bucket:
                key = call.key
            else:
                key = self._keys.get(update.bucket)
                if key is None:
                    key = BucketKey(self._network.name, self._account, update.bucket)
                    self._keys[update.bucket] = key
        shared = self._shared
        if shared is not None and call.flight is not None and key == call.key:
            # This answer is the request's: it lands in the same step (a round trip fewer).
            state = await shared.update(
                key, update, self._clock(), land=call.flight, owner=self._owner
            )
            call.flight = None
        else:
            state = await self._store.update(key, update, self._clock())
        self._states[key.bucket] = state
        if state.reset is not None:
            flights = self._flights.get(key.bucket)
            if flights is not None:
                flights.learn(state.reset)
        return state

    async def _land(self, call: _Call) -> None:
        """Tell a shared store that ``call``'s unit is no longer in the air."""
        reset, call.flight = call.flight, None
        assert reset is not None
        assert self._shared is not None  # (a flight is only taken from a shared store)
        try:
            await self._shared.land(call.key, reset, owner=self._owner)
        except Exception as exc:  # the call's own outcome matters more than this bookkeeping
            # Not landed, the unit holds other sessions back at most BOUNDARY_GRACE seconds
            # after its window's end.
            logger.warning(
                "%s: could not tell the rate-limit store that a request of bucket %s was "
                "answered: %s",
                self._network.name,
                call.bucket,
                redact_text(str(exc)),
            )

    async def _reserve(self, call: _Call) -> None:
        store = self._store
        shared = self._shared
        landing = True
        while True:
            now = self._clock()
            flights = self._flights.get(call.bucket)
            if flights is not None and flights.windows and not _ON_THE_WIRE.get():
                # Requests reserved in a window that has ended, still queued in the pool or on
                # the wire, land in the new window: the server counts them there, while the
                # store refills the bucket in full at the reset. Wait for their answers (they
                # carry the new window's count) before taking from the new window.
                ended = flights.landing(now)
                if ended is not None:
                    patience = min(ended + BOUNDARY_GRACE - now, call.remaining())
                    if patience > 0:
                        await flights.wait(patience)
                        continue
            if shared is not None:
                answer = await shared.reserve(
                    call.key, now, pace=self._pace, landing=landing, owner=self._owner
                )
                if answer.landing:
                    # Other sessions' requests of the window that ended (in other processes,
                    # say) are landing in the new one: wait for them as for this session's own
                    # (above), at most until the deadline.
                    patience = min(answer.delay, call.remaining())
                    if patience > 0:
                        landed = self._landed
                        if landed is not None and sniffio.current_async_library() == "asyncio":
                            await landed(call.key, patience, now, owner=self._owner)
                        else:
                            await _default_sleep(min(patience, _LANDING_POLL))
                    else:
                        landing = False
                    continue
            else:
                answer = await store.reserve(call.key, now, pace=self._pace)
            state = answer.state
            if state is not None:
                self._states[call.bucket] = state
            delay = answer.delay
            if answer.granted:
                if state is not None and state.remaining is not None:
                    if flights is None:
                        flights = self._flights[call.bucket] = _Flights()
                    call.window = flights.add(state.reset if state.reset is not None else math.inf)
                    if shared is not None:
                        # The store holds the unit in the air under its flight (a store that
                        # does not say it: under the reset it was granted under, if known).
                        call.flight = answer.flight if answer.flight is not None else state.reset
                elif state is None and flights is not None and flights.windows:
                    known = self._states.get(call.bucket)
                    if (
                        known is not None
                        and known.remaining is not None
                        and known.remaining <= 0
                        and known.reset is None
                        and not _ON_THE_WIRE.get()
                    ):
                        # The bucket was refilled locally and is used up, and the new window's
                        # reset is not known yet: the answers in flight will tell it.
                        patience = min(BOUNDARY_GRACE, call.remaining())
                        if patience > 0:
                            await flights.wait(patience)
                            continue
                if answer.state is None and self._parser is not None and not _ON_THE_WIRE.get():
                    bucket = call.bucket
                    if bucket not in self._headerless:
                        probe = self._probes.get(bucket)
                        if probe is not None:
                            await probe.wait()
                            continue
                        self._probes[bucket] = _new_event()
                        call.probe = True
                    return
                if delay > 0:
                    if delay > self._max_wait:
                        raise self._wait_error(call, answer)
                    await self._rate_limit_sleep(call, delay)
                return
            if self._mode == "raise" or delay > self._max_wait:
                raise self._wait_error(call, answer)
            if call.explicit and delay > call.remaining():
                raise self._wait_error(call, answer, deadline=True)
            if logger.isEnabledFor(_INFO):
                logger.info(
                    "%s: bucket %s is used up; waiting %.1f s for its reset before %s %s",
                    self._network.name,
                    call.bucket,
                    delay,
                    call.request.method,
                    redact_url(call.request.url),
                )
            if not self._waits:
                return  # RetryPolicy(wait=False): waits are immediate
            await self._rate_limit_sleep(call, delay)

    async def _rate_limit_sleep(self, call: _Call, delay: float) -> None:
        telemetry = _telemetry.ACTIVE
        if telemetry is not None:
            request = call.request
            telemetry.rate_limit_wait(
                self._network.name, request.method, request.url, call.bucket, delay
            )
        if not call.explicit:
            call.extend(delay)  # rate-limit waits are governed by max_wait, not the deadline
        await self._sleep(delay)

    def _wait_error(
        self, call: _Call, answer: Reservation, *, deadline: bool = False
    ) -> RateLimitError:
        state = answer.state
        if deadline:
            why = (
                f"waiting {answer.delay:.0f} s for the rate limit would pass the call's deadline "
                f"({call.remaining():.0f} s left); the request was not sent"
            )
        elif self._mode == "raise":
            why = "the rate limit is used up (rate_limit='raise'); the request was not sent"
        else:
            why = (
                f"waiting {answer.delay:.0f} s for the rate limit would exceed max_wait "
                f"({self._max_wait:.0f} s); the request was not sent"
            )
        return RateLimitError(
            self._network.name,
            None,
            "rate_limited",
            why,
            retry_after=answer.delay,
            limit=state.limit if state else None,
            remaining=state.remaining if state else None,
            reset_at=state.reset_at if state else None,
            bucket=call.bucket,
            local=True,
        )

    def _transport_failure(
        self, call: _Call, exc: httpx.TransportError, reason: str | None = None
    ) -> Exception:
        request = call.request
        cls = TimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
        where = f"{type(exc).__name__} on {request.method} {redact_url(request.url)}"
        final = cls(self._network.name, f"{reason} ({where})" if reason else where)
        if isinstance(exc, _PERMANENT):
            return final
        if call.safe or isinstance(exc, _NOT_SENT):
            return RetrySignal(final, cause=exc)
        return OutcomeUnknownError(
            self._network.name, request.method, redact_url(call.path), cause=exc
        )

    async def _status_failure(
        self, call: _Call, response: httpx.Response, state: BucketState | None
    ) -> Exception:
        status = response.status_code
        error = self._network.decode_error(response)
        if status == 429 or isinstance(error, RateLimitError):
            now = self._clock()
            retry_after = parse_retry_after(response, now=now)
            if retry_after is None and isinstance(error, RateLimitError):
                retry_after = error.retry_after
            if retry_after is not None:
                # Empty the bucket until then, so that concurrent calls wait as well.
                state = await self._store_update(
                    call, RateLimitUpdate(remaining=0, reset_at=now + retry_after), call.key
                )
            elif state is not None and state.reset is not None and state.reset > now:
                retry_after = state.reset - now
            limited = RateLimitError(
                error.network,
                error.status,
                error.code,
                error.message,
                error.request_id,
                retry_after=retry_after,
                limit=state.limit if state else None,
                remaining=state.remaining if state else None,
                reset_at=state.reset_at if state else None,
                bucket=call.bucket,
            )
            if self._mode == "raise" or (status != 429 and retry_after is None):
                return limited
            # A 429 is a definite refusal (RFC 6585): nothing was done, so even a create
            # may be sent again.
            call.sent = False
            return RetrySignal(limited, hint=retry_after, rate_limited=True)
        transient_error = self._transient_error
        if status in self._transient or (transient_error is not None and transient_error(error)):
            if call.safe:
                return RetrySignal(error, hint=parse_retry_after(response))
            return _unknown(self._network.name, call, error)
        return error

    # --- retries ----------------------------------------------------------------------------

    async def _retry_after(self, call: _Call, first: RetrySignal) -> httpx.Response:
        pending: list[RetrySignal] = [first]

        async def attempt() -> httpx.Response:
            if pending:
                raise pending.pop()
            return await self._attempt(call)

        policy = self._retry
        max_wait = self._max_wait
        mode = self._mode

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            signal = _signal(state)
            upcoming = state.upcoming_sleep
            if signal.rate_limited:
                return (
                    mode == "raise"
                    or upcoming > max_wait
                    or (call.explicit and upcoming >= call.remaining())
                )
            # No retry the deadline would cut short: the last error says more than a timeout.
            return call.busy + state.idle_for + upcoming > policy.budget or (
                upcoming >= call.remaining()
            )

        def wait(state: RetryCallState) -> float:
            hint = _signal(state).hint
            return policy.backoff(state) if hint is None else hint

        def before_sleep(state: RetryCallState) -> None:
            signal = _signal(state)
            if signal.rate_limited and not call.explicit:
                call.extend(state.upcoming_sleep)
            telemetry = _telemetry.ACTIVE
            if telemetry is not None:
                request = call.request
                telemetry.retry(
                    self._network.name,
                    request.method,
                    request.url,
                    state.upcoming_sleep,
                    error_type(signal.final),
                )
            self._before_sleep(state)

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=wait,
            retry=retry_if_exception_type(RetrySignal),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            response: httpx.Response = await retrying(attempt)
        except RetrySignal as signal:
            raise signal.final from signal.cause
        return response

    def _before_sleep(self, state: RetryCallState) -> None:
        if logger.isEnabledFor(_INFO):
            signal = _signal(state)
            logger.info(
                "%s: retrying in %.2f s after %s (attempt %d of %d)",
                self._network.name,
                state.upcoming_sleep,
                type(signal.final).__name__,
                state.attempt_number + 1,
                self._retry.attempts,
            )

    # --- logging and hooks ------------------------------------------------------------------

    async def _record(
        self,
        call: _Call,
        status: int | None,
        elapsed: float,
        error: str | None,
        state: BucketState | None,
    ) -> None:
        debug = logger.isEnabledFor(_DEBUG)
        if not debug and not self._hooks:
            return
        request = call.request
        url = redact_url(request.url)
        if debug:
            if state is not None:
                limits = f" [{call.bucket}: {state.remaining}/{state.limit}"
                reset = state.reset_in(self._clock())
                limits += f", reset in {reset:.0f} s]" if reset is not None else "]"
            else:
                limits = ""
            logger.debug(
                "%s %s %s -> %s in %.1f ms (attempt %d)%s",
                self._network.name,
                request.method,
                url,
                status if status is not None else error,
                elapsed * 1000.0,
                call.attempt,
                limits,
            )
        if self._hooks:
            event = RequestEvent(
                self._network.name,
                self._account,
                request.method,
                url,
                call.kind,
                call.bucket,
                call.attempt,
                status,
                elapsed,
                error,
                state,
            )
            for hook in self._hooks:
                try:
                    result = hook(event)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    logger.warning("event hook %r failed", hook, exc_info=True)


def _signal(state: RetryCallState) -> RetrySignal:
    outcome = state.outcome
    assert outcome is not None
    exc = outcome.exception()
    assert isinstance(exc, RetrySignal)
    return exc


def _unknown(network: str, call: _Call, cause: BaseException) -> OutcomeUnknownError:
    error = OutcomeUnknownError(network, call.request.method, redact_url(call.path), cause=cause)
    error.__cause__ = cause
    return error


def _attempt_seconds(timeout: Any) -> float:
    """The longest one attempt may wait on its own (the per-attempt timeout), for deriving the
    default deadline; 30 s when no timeout is set."""
    if isinstance(timeout, httpx.Timeout):
        values = [v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v]
        return float(max(values)) if values else 30.0
    if isinstance(timeout, int | float) and timeout > 0:
        return float(timeout)
    return 30.0


class _BodyFailure(Exception):
    """Internal: carries an error of ``_read_body`` past the transport-error handling."""

    def __init__(self, error: SocialkitError) -> None:
        super().__init__(str(error))
        self.error = error


def _request_id(response: httpx.Response) -> str | None:
    headers = response.headers
    found: str | None = headers.get("x-request-id") or headers.get("x-transaction-id")
    return found
