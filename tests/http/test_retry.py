"""Retry rules of the Session: what is resent, what is not, and what is raised."""

from __future__ import annotations

import email.utils
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
import pytest
import respx

from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TransportError,
    ValidationError,
)
from socialkit._http import Network, RetryPolicy, Session
from socialkit._http._session import _type_adapter

if TYPE_CHECKING:
    from conftest import FakeTime

BASE = "https://api.example.test/v1"
NET = Network("example", BASE)
IDEMPOTENT = Network("mastodonish", BASE, idempotency_header="Idempotency-Key")
NO_JITTER = RetryPolicy(attempts=4, budget=60.0, initial=0.5, maximum=30.0, jitter=0.0)

pytestmark = pytest.mark.anyio


def session(
    client: httpx.AsyncClient,
    fake_time: FakeTime,
    network: Network = NET,
    **kwargs: Any,
) -> Session:
    kwargs.setdefault("retry", NO_JITTER)
    return Session(network, client=client, sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)


# --- reads and writes --------------------------------------------------------------------


@respx.mock
async def test_read_retries_5xx_then_succeeds(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[1])]
    )
    response = await session(client, fake_time).request("GET", "/items")
    assert response.json() == [1]
    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]  # exponential backoff, no jitter


@respx.mock
async def test_read_gives_up_after_attempts_with_the_last_api_error(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.get(f"{BASE}/items").mock(
        return_value=httpx.Response(500, json={"error": {"message": "kaput", "code": 7}})
    )
    with pytest.raises(ServerError) as info:
        await session(client, fake_time).request("GET", "/items")
    assert route.call_count == 4
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert info.value.status == 500
    assert info.value.message == "kaput"
    assert info.value.code == "7"


@respx.mock
async def test_backoff_has_jitter_and_is_capped(client: httpx.AsyncClient, fake_time: FakeTime):
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(500))
    policy = RetryPolicy(attempts=6, budget=1000.0, initial=1.0, maximum=3.0, jitter=0.5)
    with pytest.raises(ServerError):
        await session(client, fake_time, retry=policy).request("GET", "/items")
    assert len(fake_time.sleeps) == 5
    for sleep, base in zip(fake_time.sleeps, [1.0, 2.0, 3.0, 3.0, 3.0], strict=True):
        assert base <= sleep <= min(3.0, base + 0.5)


@respx.mock
async def test_time_budget_stops_retries(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/items").mock(return_value=httpx.Response(503))
    policy = RetryPolicy(attempts=10, budget=1.0, initial=0.5, maximum=30.0, jitter=0.0)
    with pytest.raises(ServerError):
        await session(client, fake_time, retry=policy).request("GET", "/items")
    # 0.5 fits the budget; 0.5 + 1.0 would not.
    assert fake_time.sleeps == [0.5]
    assert route.call_count == 2


@respx.mock
async def test_read_retries_connection_errors_and_timeouts(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    assert (await session(client, fake_time).request("GET", "/items")).status_code == 200
    assert route.call_count == 3


@respx.mock
async def test_transport_failures_become_socialkit_errors(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    respx.get(f"{BASE}/slow").mock(side_effect=httpx.ReadTimeout("slow"))
    respx.get(f"{BASE}/down").mock(side_effect=httpx.ConnectError("refused"))
    s = session(client, fake_time)
    with pytest.raises(TimeoutError) as timeout:
        await s.request("GET", "/slow")
    assert isinstance(timeout.value, TransportError)
    assert "ReadTimeout" in str(timeout.value)
    with pytest.raises(TransportError) as down:
        await s.request("GET", "/down")
    assert not isinstance(down.value, TimeoutError)
    assert "ConnectError" in str(down.value)


@respx.mock
async def test_write_methods_are_retried(client: httpx.AsyncClient, fake_time: FakeTime):
    put = respx.put(f"{BASE}/items/1").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    delete = respx.delete(f"{BASE}/items/1").mock(
        side_effect=[httpx.Response(500), httpx.Response(204)]
    )
    s = session(client, fake_time)
    await s.request("PUT", "/items/1", json={"a": 1})
    await s.request("DELETE", "/items/1")
    assert put.call_count == 2
    assert delete.call_count == 2


@respx.mock
async def test_definite_4xx_is_not_retried(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/items/9").mock(
        return_value=httpx.Response(404, json={"message": "no such item"})
    )
    with pytest.raises(NotFoundError) as info:
        await session(client, fake_time).request("GET", "/items/9")
    assert route.call_count == 1
    assert info.value.message == "no such item"


@respx.mock
async def test_network_error_decoder_is_used(client: httpx.AsyncClient, fake_time: FakeTime):
    seen: list[tuple[int, str]] = []

    def decode(response: httpx.Response, network: str) -> APIError:
        seen.append((response.status_code, network))
        return InvalidRequestError(network, response.status_code, "E1", "custom")

    net = Network("custom", BASE, error_decoder=decode)
    respx.post(f"{BASE}/x").mock(return_value=httpx.Response(400, json={}))
    with pytest.raises(ValidationError, match="custom"):
        await session(client, fake_time, net).request("POST", "/x", json={})
    assert seen == [(400, "custom")]


# --- creates -----------------------------------------------------------------------------


@respx.mock
async def test_create_retries_failure_before_sending(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.post(f"{BASE}/posts").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("no route"),
            httpx.PoolTimeout("pool"),
            httpx.Response(201, json={"id": "1"}),
        ]
    )
    response = await session(client, fake_time).request("POST", "/posts", json={"t": "hi"})
    assert response.status_code == 201
    assert route.call_count == 4


@respx.mock
async def test_create_read_timeout_after_send_is_outcome_unknown(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.post(f"{BASE}/posts").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknownError) as info:
        await session(client, fake_time).request("POST", "/posts", json={"t": "hi"})
    assert route.call_count == 1  # never resent: it may have been published
    assert fake_time.sleeps == []
    assert info.value.method == "POST"
    assert "ReadTimeout" in str(info.value)


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadError("reset"), httpx.RemoteProtocolError("gone"), httpx.WriteTimeout("w")],
)
@respx.mock
async def test_create_ambiguous_transport_failures_are_outcome_unknown(
    client: httpx.AsyncClient, fake_time: FakeTime, failure: Exception
):
    route = respx.post(f"{BASE}/posts").mock(side_effect=failure)
    with pytest.raises(OutcomeUnknownError):
        await session(client, fake_time).request("POST", "/posts", json={})
    assert route.call_count == 1


@respx.mock
async def test_create_5xx_is_outcome_unknown(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.post(f"{BASE}/posts").mock(return_value=httpx.Response(502))
    with pytest.raises(OutcomeUnknownError) as info:
        await session(client, fake_time).request("POST", "/posts", json={})
    assert route.call_count == 1
    assert isinstance(info.value.__cause__, ServerError)


@respx.mock
async def test_create_definite_4xx_raises_decoded_error(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.post(f"{BASE}/posts").mock(
        return_value=httpx.Response(422, json={"error": "Validation failed: Text can't be blank"})
    )
    with pytest.raises(ValidationError, match="Text can't be blank"):
        await session(client, fake_time).request("POST", "/posts", json={})
    assert route.call_count == 1


@respx.mock
async def test_idempotency_key_is_generated_and_reused_across_retries(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.post(f"{BASE}/statuses").mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.Response(503),
            httpx.Response(200, json={"id": "1"}),
            httpx.Response(200, json={"id": "2"}),
        ]
    )
    s = session(client, fake_time, IDEMPOTENT)
    await s.request("POST", "/statuses", json={"status": "hi"})
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    uuid.UUID(keys[0])  # a fresh uuid4
    await s.request("POST", "/statuses", json={"status": "another"})
    assert route.calls[-1].request.headers["Idempotency-Key"] != keys[0]


@respx.mock
async def test_caller_idempotency_key_is_used(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.post(f"{BASE}/statuses").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    await session(client, fake_time, IDEMPOTENT).request(
        "POST", "/statuses", json={}, idempotency_key="post-42"
    )
    assert [c.request.headers["Idempotency-Key"] for c in route.calls] == ["post-42", "post-42"]


@respx.mock
async def test_idempotency_key_only_on_the_paths_that_honour_it(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    # Mastodon honours Idempotency-Key on status creation only: a media upload that timed out
    # after sending must not be resent (it would upload twice), and carries no key.
    network = Network(
        "mastodonish",
        BASE,
        idempotency_header="Idempotency-Key",
        idempotent_paths=frozenset({"/statuses"}),
    )
    media = respx.post(f"{BASE}/media").mock(side_effect=httpx.ReadTimeout("slow"))
    statuses = respx.post(f"{BASE}/statuses").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    s = session(client, fake_time, network)
    with pytest.raises(OutcomeUnknownError):
        await s.request("POST", "/media", files={"file": b"png"})
    assert media.call_count == 1
    assert "Idempotency-Key" not in media.calls[0].request.headers
    await s.request("POST", "/statuses", json={"status": "hi"})
    assert statuses.call_count == 2
    assert len({c.request.headers["Idempotency-Key"] for c in statuses.calls}) == 1


@respx.mock
async def test_reads_carry_no_idempotency_key(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/statuses").mock(return_value=httpx.Response(200))
    await session(client, fake_time, IDEMPOTENT).request("GET", "/statuses")
    assert "Idempotency-Key" not in route.calls[0].request.headers


@respx.mock
async def test_retry_safe_create_is_resent(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.post(f"{BASE}/records").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(500), httpx.Response(200)]
    )
    await session(client, fake_time).request(
        "POST", "/records", json={"rkey": "3k2a"}, retry_safe=True
    )
    assert route.call_count == 3


@respx.mock
async def test_kind_overrides_the_method_default(client: httpx.AsyncClient, fake_time: FakeTime):
    search = respx.post(f"{BASE}/search").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)]
    )
    await session(client, fake_time).request("POST", "/search", json={"q": "x"}, kind="read")
    assert search.call_count == 2
    put = respx.put(f"{BASE}/upload").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknownError):
        await session(client, fake_time).request("PUT", "/upload", content=b"x", kind="create")
    assert put.call_count == 1


# --- 429 ---------------------------------------------------------------------------------


@respx.mock
async def test_429_waits_retry_after_seconds(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.post(f"{BASE}/posts").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    # A 429 is a definite refusal, so even a plain create is sent again after waiting.
    await session(client, fake_time).request("POST", "/posts", json={})
    assert route.call_count == 2
    assert fake_time.sleeps == [7.0]


@respx.mock
async def test_429_waits_retry_after_http_date(client: httpx.AsyncClient, fake_time: FakeTime):
    when = email.utils.formatdate(fake_time.now + 120, usegmt=True)
    respx.get(f"{BASE}/items").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200)]
    )
    await session(client, fake_time).request("GET", "/items")
    assert fake_time.sleeps == [pytest.approx(120.0)]


@respx.mock
async def test_429_until_give_up_raises_rate_limit_error(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.get(f"{BASE}/items").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3"})
    )
    with pytest.raises(RateLimitError) as info:
        await session(client, fake_time).request("GET", "/items")
    assert route.call_count == 4
    assert info.value.retry_after == 3.0
    assert info.value.status == 429
    assert info.value.bucket == "default"


@respx.mock
async def test_429_longer_than_max_wait_raises_at_once(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.get(f"{BASE}/items").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3600"})
    )
    with pytest.raises(RateLimitError) as info:
        await session(client, fake_time, max_wait=60).request("GET", "/items")
    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert info.value.retry_after == 3600.0


@respx.mock
async def test_429_in_raise_mode_is_not_retried(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/items").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "1"})
    )
    with pytest.raises(RateLimitError):
        await session(client, fake_time, rate_limit="raise").request("GET", "/items")
    assert route.call_count == 1


@respx.mock
async def test_wait_false_never_sleeps(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/items").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "30"}),
            httpx.Response(500),
            httpx.Response(200),
        ]
    )
    s = session(client, fake_time, retry=RetryPolicy(wait=False))
    await s.request("GET", "/items")
    assert route.call_count == 3
    assert fake_time.sleeps == []


# --- request building ----------------------------------------------------------------------


@respx.mock
async def test_paths_join_the_base_url_path(client: httpx.AsyncClient, fake_time: FakeTime):
    graph = Network("graph", "https://graph.example.test/v19.0")
    me = respx.get("https://graph.example.test/v19.0/me/feed").mock(
        return_value=httpx.Response(200)
    )
    absolute = respx.get("https://upload.example.test/x").mock(return_value=httpx.Response(200))
    s = session(client, fake_time, graph)
    await s.request("GET", "/me/feed", params={"limit": 5})
    await s.request("GET", "me/feed")
    await s.request("GET", "https://upload.example.test/x")
    assert me.call_count == 2
    assert me.calls[0].request.url.params["limit"] == "5"
    assert absolute.call_count == 1


@respx.mock
async def test_per_call_timeout_and_auth(client: httpx.AsyncClient, fake_time: FakeTime):
    class Bearer(httpx.Auth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[override]
            request.headers["Authorization"] = "Bearer t0k"
            yield request

    route = respx.get(f"{BASE}/me").mock(return_value=httpx.Response(200))
    s = session(client, fake_time, auth=Bearer(), timeout=12.0)
    await s.request("GET", "/me")
    await s.request("GET", "/me", timeout=3.0, auth=None)
    first, second = (c.request for c in route.calls)
    assert first.headers["Authorization"] == "Bearer t0k"
    assert first.extensions["timeout"]["read"] == 12.0
    assert "Authorization" not in second.headers
    assert second.extensions["timeout"]["read"] == 3.0


async def test_bad_arguments_raise_before_sending(client: httpx.AsyncClient, fake_time: FakeTime):
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{BASE}/x").mock(return_value=httpx.Response(200))
        with pytest.raises(ConfigurationError):
            await session(client, fake_time).request("GET", "/x", kind="delete")  # type: ignore[arg-type]
        assert route.call_count == 0
    with pytest.raises(ConfigurationError):
        Session(NET, client=client, rate_limit="throw")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Network("bad", "/relative")
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


class Item(pydantic.BaseModel):
    id: str
    n: int


@respx.mock
async def test_request_model_validates_from_bytes(client: httpx.AsyncClient, fake_time: FakeTime):
    respx.get(f"{BASE}/items/1").mock(return_value=httpx.Response(200, json={"id": "1", "n": 2}))
    respx.get(f"{BASE}/items").mock(return_value=httpx.Response(200, json=[{"id": "1", "n": 2}]))
    respx.get(f"{BASE}/bad").mock(
        return_value=httpx.Response(200, json={"id": "1", "n": "secret-value"})
    )
    s = session(client, fake_time)
    assert await s.request_model(Item, "GET", "/items/1") == Item(id="1", n=2)
    assert await s.request_model(list[Item], "GET", "/items") == [Item(id="1", n=2)]
    assert _type_adapter(Item) is _type_adapter(Item)  # built once per model type
    with pytest.raises(APIError) as info:
        await s.request_model(Item, "GET", "/bad")
    assert info.value.code == "malformed_response"
    assert "n" in str(info.value)
    assert "secret-value" not in str(info.value)
    assert info.value.__cause__ is None
