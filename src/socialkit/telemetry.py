"""OpenTelemetry traces and metrics for socialkit's requests (opt-in: the ``otel`` extra).

::

    import socialkit.telemetry

    socialkit.telemetry.instrument()  # the global tracer and meter providers, or pass your own

Then every HTTP attempt an adapter makes is a ``CLIENT`` span and a sample of the
``http.client.request.duration`` histogram, named and attributed after OpenTelemetry's semantic
conventions for HTTP clients (``http.request.method``, ``server.address``, ``server.port``,
``url.full``, ``http.response.status_code``, ``error.type``, ``http.request.resend_count``).
Retries, rate-limit waits and OAuth 2 token refreshes are recorded too (see
``docs/observability.md`` for every name).

Secrets never become attributes: ``url.full`` carries no user info, every query value is
replaced by ``REDACTED`` (the conventions' placeholder) and registered secrets are removed from
the path; no header or body is recorded.

Nothing is imported or recorded until :func:`instrument` runs: ``import socialkit`` does not
import OpenTelemetry, and an uninstrumented request pays one global lookup.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from socialkit._errors import ConfigurationError
from socialkit._http import _telemetry
from socialkit._http._redact import redact_path, secrets

if TYPE_CHECKING:
    import httpx
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

__all__ = ["instrument", "is_instrumented", "uninstrument"]

#: The conventions' advisory bucket boundaries for ``http.client.request.duration`` (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
#: Waits can be long (a 15-minute window): boundaries for the wait histogram.
WAIT_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 900)

# The methods the conventions know; any other is reported as "_OTHER".
_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> None:
    """Record spans and metrics for every request from now on (idempotent: a second call
    replaces the providers). Needs the ``otel`` extra (``opentelemetry-api``)."""
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        raise ConfigurationError(
            "socialkit.telemetry needs OpenTelemetry: pip install 'socialkit-client[otel]'"
        ) from None
    from socialkit._version import __version__

    tracer = trace.get_tracer("socialkit", __version__, tracer_provider=tracer_provider)
    meter = metrics.get_meter("socialkit", __version__, meter_provider=meter_provider)
    _telemetry.activate(_OpenTelemetry(tracer, meter))


def uninstrument() -> None:
    """Stop recording (requests then cost nothing again)."""
    _telemetry.activate(None)


def is_instrumented() -> bool:
    """Whether :func:`instrument` is in force."""
    return _telemetry.active() is not None


def url_full(url: httpx.URL) -> str:
    """``url.full`` as the conventions ask: no user info, query values ``REDACTED``, and no
    registered secret or Telegram bot token in the path."""
    port = url.port
    netloc = url.host if port is None else f"{url.host}:{port}"
    if ":" in url.host and port is None:
        netloc = f"[{url.host}]"
    elif ":" in url.host:
        netloc = f"[{url.host}]:{port}"
    text = f"{url.scheme}://{netloc}{redact_path(url.path)}"
    query = url.query.decode("ascii", "replace")
    if query:
        names = [part.partition("=")[0] for part in query.split("&")]
        text += "?" + "&".join(f"{secrets.redact(name)}=REDACTED" for name in names)
    return text


class _OpenTelemetry:
    """Implements the pipeline's ``Telemetry`` hook with the OpenTelemetry API."""

    def __init__(self, tracer: Any, meter: Any) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._tracer = tracer
        self._client = SpanKind.CLIENT
        self._internal = SpanKind.INTERNAL
        self._error = Status(StatusCode.ERROR)
        self._status = Status
        self._error_code = StatusCode.ERROR
        self.duration = meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.retries = meter.create_counter(
            "socialkit.http.client.retries",
            unit="{retry}",
            description="Attempts made again after a failure, by the error that caused them.",
        )
        self.waits = meter.create_histogram(
            "socialkit.rate_limit.wait.duration",
            unit="s",
            description="Time requests waited for a rate-limit bucket before being sent.",
            explicit_bucket_boundaries_advisory=WAIT_BUCKETS,
        )
        self.refreshes = meter.create_histogram(
            "socialkit.auth.refresh.duration",
            unit="s",
            description="Duration of OAuth 2 token refreshes (error.type set when refused).",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )

    def attempt(
        self,
        network: str,
        method: str,
        url: httpx.URL,
        kind: str,
        bucket: str,
        resend_count: int,
    ) -> _Attempt:
        known = method if method in _METHODS else "_OTHER"
        port = url.port or _DEFAULT_PORTS.get(url.scheme, 0)
        common: dict[str, Any] = {
            "http.request.method": known,
            "server.address": url.host,
            "server.port": port,
            "url.scheme": url.scheme,
            "socialkit.network": network,
        }
        attributes: dict[str, Any] = {
            **common,
            "url.full": url_full(url),
            "socialkit.request.kind": kind,
            "socialkit.rate_limit.bucket": bucket,
        }
        if known == "_OTHER":
            attributes["http.request.method_original"] = method
        if resend_count:
            attributes["http.request.resend_count"] = resend_count
        span = self._tracer.start_span(known, kind=self._client, attributes=attributes)
        return _Attempt(self, span, common)

    def retry(self, network: str, method: str, url: httpx.URL, wait: float, error: str) -> None:
        from opentelemetry import trace

        attributes = {
            "socialkit.network": network,
            "http.request.method": method if method in _METHODS else "_OTHER",
            "server.address": url.host,
            "error.type": error,
        }
        self.retries.add(1, attributes)
        trace.get_current_span().add_event(
            "socialkit.retry", {**attributes, "socialkit.retry.wait": wait}
        )

    def rate_limit_wait(
        self, network: str, method: str, url: httpx.URL, bucket: str, wait: float
    ) -> None:
        from opentelemetry import trace

        attributes = {
            "socialkit.network": network,
            "socialkit.rate_limit.bucket": bucket,
            "server.address": url.host,
        }
        self.waits.record(wait, attributes)
        trace.get_current_span().add_event(
            "socialkit.rate_limit.wait", {**attributes, "socialkit.rate_limit.wait": wait}
        )

    @asynccontextmanager
    async def refresh(self, network: str) -> AsyncIterator[None]:
        attributes: dict[str, Any] = {"socialkit.network": network}
        span = self._tracer.start_span(
            "socialkit.auth.refresh", kind=self._internal, attributes=attributes
        )
        started = time.perf_counter()
        try:
            yield
        except BaseException as exc:
            error = _error_type(exc)
            span.set_attribute("error.type", error)
            span.set_status(self._status(self._error_code, type(exc).__name__))
            self.refreshes.record(
                time.perf_counter() - started, {**attributes, "error.type": error}
            )
            raise
        else:
            self.refreshes.record(time.perf_counter() - started, attributes)
        finally:
            span.end()


class _Attempt:
    __slots__ = ("_common", "_owner", "_span", "_started")

    def __init__(self, owner: _OpenTelemetry, span: Any, common: dict[str, Any]) -> None:
        self._owner = owner
        self._span = span
        self._common = common
        self._started = time.perf_counter()

    def end(self, status: int | None, error: str | None) -> None:
        elapsed = time.perf_counter() - self._started
        span = self._span
        attributes = dict(self._common)
        if status is not None:
            attributes["http.response.status_code"] = status
            span.set_attribute("http.response.status_code", status)
        if error is not None:
            attributes["error.type"] = error
            span.set_attribute("error.type", error)
            span.set_status(self._owner._error)
        self._owner.duration.record(elapsed, attributes)
        span.end()


def _error_type(error: BaseException) -> str:
    cls = type(error)
    module = cls.__module__
    if module.startswith("socialkit."):
        module = "socialkit"
    return f"{module}.{cls.__qualname__}"
