"""OpenTelemetry spans and metrics (issue 12 #13), read back from the SDK's in-memory exporters.

Names and attributes follow OpenTelemetry's semantic conventions for HTTP clients
(https://opentelemetry.io/docs/specs/semconv/http/http-spans/ and http-metrics/).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from socialkit._errors import AuthError, ServerError, TransportError
from socialkit._http import (
    BucketKey,
    MemoryRateLimitStore,
    Network,
    RateLimitUpdate,
    RetryPolicy,
    Session,
    make_client,
)
from socialkit._store import MemoryStore
from socialkit.auth import BearerAuth, OAuth2Auth, OAuth2Client, OAuth2Config, Token, TokenStore

otel_sdk = pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

import socialkit.telemetry  # noqa: E402

pytestmark = pytest.mark.anyio

BASE = "https://api.example.test"


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.metrics = InMemoryMetricReader()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def finished(self) -> list[Any]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        found: list[Any] = []
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def everything(self) -> str:
        """Every attribute and event of every span and data point, as text."""
        parts = []
        for span in self.finished():
            parts.append(json.dumps(dict(span.attributes or {}), default=str))
            parts.append(span.name)
            for event in span.events:
                parts.append(json.dumps(dict(event.attributes or {}), default=str))
        data = self.metrics.get_metrics_data()
        if data is not None:
            parts.append(data.to_json())
        return "\n".join(parts)


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    record = Recorded()
    socialkit.telemetry.instrument(
        tracer_provider=record.tracer_provider, meter_provider=record.meter_provider
    )
    try:
        yield record
    finally:
        socialkit.telemetry.uninstrument()


def session_with(handler: Any, **options: Any) -> Session:
    return Session(
        Network("example", BASE),
        client=make_client(transport=httpx.MockTransport(handler)),
        **options,
    )


async def test_an_attempt_is_a_client_span_and_a_duration_sample(recorded: Recorded):
    session = session_with(lambda request: httpx.Response(200, json={}))
    await session.request("GET", "/timeline", params={"max_id": "5", "access_token": "t0k3n-abc"})
    (span,) = recorded.finished()
    assert span.name == "GET"
    assert span.kind == SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attributes["http.request.method"] == "GET"
    assert attributes["server.address"] == "api.example.test"
    assert attributes["server.port"] == 443
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.full"] == (
        "https://api.example.test/timeline?max_id=REDACTED&access_token=REDACTED"
    )
    assert attributes["socialkit.network"] == "example"
    assert attributes["socialkit.request.kind"] == "read"
    assert "error.type" not in attributes
    assert "http.request.resend_count" not in attributes
    (point,) = recorded.points("http.client.request.duration")
    assert point.count == 1
    assert dict(point.attributes) == {
        "http.request.method": "GET",
        "server.address": "api.example.test",
        "server.port": 443,
        "url.scheme": "https",
        "socialkit.network": "example",
        "http.response.status_code": 200,
    }


async def test_retries_are_resends_with_their_error(recorded: Recorded):
    answers = iter([httpx.Response(503), httpx.Response(200)])
    session = session_with(lambda request: next(answers), retry=RetryPolicy(wait=False))
    await session.request("GET", "/items")
    first, second = recorded.finished()
    assert first.attributes["error.type"] == "503"
    assert first.status.status_code == StatusCode.ERROR
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    (retry,) = recorded.points("socialkit.http.client.retries")
    assert retry.value == 1
    assert retry.attributes["error.type"] == "socialkit.ServerError"
    durations = recorded.points("http.client.request.duration")
    assert sorted(p.attributes.get("error.type", "") for p in durations) == ["", "503"]


async def test_transport_failures_have_the_exception_as_error_type(recorded: Recorded):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    session = session_with(refuse, retry=RetryPolicy(attempts=1))
    with pytest.raises(TransportError):
        await session.request("GET", "/items")
    (span,) = recorded.finished()
    assert span.attributes["error.type"] == "httpx.ConnectError"
    assert "http.response.status_code" not in span.attributes


async def test_rate_limit_waits_are_measured(recorded: Recorded):
    now = [1_700_000_000.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    store = MemoryRateLimitStore()
    await store.update(
        BucketKey("example", "default", "default"),
        RateLimitUpdate(limit=5, remaining=0, reset_at=now[0] + 42),
        now[0],
    )
    session = session_with(
        lambda request: httpx.Response(200), store=store, clock=lambda: now[0], sleep=sleep
    )
    await session.request("GET", "/items")
    (wait,) = recorded.points("socialkit.rate_limit.wait.duration")
    assert wait.sum == pytest.approx(42)
    assert wait.attributes["socialkit.rate_limit.bucket"] == "default"


async def test_token_refreshes_are_spans_and_samples(recorded: Recorded):
    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": secrets.token_hex(16), "expires_in": 60})

    config = OAuth2Config(
        network="example",
        authorization_endpoint="https://auth.example.test/authorize",
        token_endpoint="https://auth.example.test/token",
        client_id="client-1",
    )
    client = OAuth2Client(
        config, http=httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint))
    )
    store = TokenStore(MemoryStore())
    await store.put(
        "example",
        "alice",
        Token(
            access_token=SecretStr(secrets.token_hex(16)),
            refresh_token=SecretStr(secrets.token_hex(16)),
            expires_at=datetime.now(timezone.utc) - timedelta(minutes=1),
        ),
    )
    session = session_with(
        lambda request: httpx.Response(200), auth=OAuth2Auth(client, store, account="alice")
    )
    await session.request("GET", "/me")
    names = [span.name for span in recorded.finished()]
    assert names == ["socialkit.auth.refresh", "GET"]
    (refresh,) = recorded.points("socialkit.auth.refresh.duration")
    assert refresh.count == 1
    assert "error.type" not in refresh.attributes


async def test_no_secret_ever_becomes_an_attribute(recorded: Recorded):
    token = secrets.token_hex(20)

    def echo(request: httpx.Request) -> httpx.Response:
        sent = request.headers["authorization"].split(" ")[-1]
        return httpx.Response(401, json={"error": f"token {sent} revoked"})

    session = session_with(echo, auth=BearerAuth(token), retry=RetryPolicy(wait=False))
    with pytest.raises(AuthError):
        await session.request(
            "GET", f"https://user:{token}@api.example.test/hooks/{token}", params={"t": token}
        )
    text = recorded.everything()
    assert "api.example.test/hooks/" in text
    assert token not in text
    assert "user" not in dict(recorded.finished()[0].attributes)["url.full"]


async def test_a_telegram_bot_token_never_becomes_url_full(recorded: Recorded):
    # The Bot API puts the token in the path (/bot<token>/getMe), set on the request when it
    # is sent, so a retried attempt's URL holds it. The process's secret registry is bounded
    # (the oldest values are dropped): url.full must hide the token by its shape too, as
    # every other redacted URL does.
    from socialkit._http._redact import secrets as registry
    from socialkit.adapters.telegram import TelegramAdapter

    token = "987654321:tok-SECRET-123abcDEFghiJKLmnoPQRstu"
    bot = {"id": 987654321, "is_bot": True, "first_name": "Bot", "username": "tok_bot"}
    answers = [httpx.Response(502), httpx.Response(200, json={"ok": True, "result": bot})]
    telegram = TelegramAdapter.connect(
        bot_token=token,
        chat="@news",
        http=make_client(transport=httpx.MockTransport(lambda request: answers.pop(0))),
        retry_wait=False,
    )
    registry.discard(token)  # as when newer secrets pushed it out of the registry
    try:
        async with telegram:
            await telegram.me()
    finally:
        registry.add(token)
    urls = [dict(span.attributes)["url.full"] for span in recorded.finished()]
    assert len(urls) == 2, "a failed attempt and its resend"
    assert all(u.startswith("https://api.telegram.org/bot") for u in urls)
    assert all(u.endswith("/getMe") for u in urls)
    assert token.split(":")[1] not in recorded.everything()


async def test_nothing_is_recorded_once_uninstrumented():
    record = Recorded()
    socialkit.telemetry.instrument(
        tracer_provider=record.tracer_provider, meter_provider=record.meter_provider
    )
    assert socialkit.telemetry.is_instrumented()
    socialkit.telemetry.uninstrument()
    assert not socialkit.telemetry.is_instrumented()
    session = session_with(lambda request: httpx.Response(500), retry=RetryPolicy(wait=False))
    with pytest.raises(ServerError):
        await session.request("GET", "/x")
    assert record.finished() == []
    assert record.points("http.client.request.duration") == []


def test_importing_socialkit_does_not_import_opentelemetry():
    code = (
        "import sys, socialkit, socialkit._http, socialkit.telemetry\n"
        "from socialkit.adapters.mastodon import MastodonAdapter\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('opentelemetry'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
