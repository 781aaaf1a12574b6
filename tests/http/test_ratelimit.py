"""Rate limits: header parsing, the store's reserve/update rules, and the three modes."""

from __future__ import annotations

import email.utils
import itertools
import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest
import respx

from socialkit._errors import RateLimitError
from socialkit._http import (
    BucketKey,
    MemoryRateLimitStore,
    Network,
    RateLimitStore,
    RateLimitUpdate,
    RetryPolicy,
    Session,
    header_rate_limit_parser,
    meta_usage_parser,
    parse_retry_after,
)

if TYPE_CHECKING:
    from conftest import FakeTime

BASE = "https://api.example.test"
KEY = BucketKey("example", "default", "default")


def response(headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(200, headers=headers)


# --- header parsing ------------------------------------------------------------------------


def test_epoch_reset_x_style():
    # X API v2 (docs.x.com "Rate limits"): x-rate-limit-limit / -remaining / -reset (epoch s).
    parse = header_rate_limit_parser(
        "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset", "epoch"
    )
    update = parse(
        response(
            {
                "x-rate-limit-limit": "300",
                "x-rate-limit-remaining": "299",
                "x-rate-limit-reset": "1700000900",
            }
        )
    )
    assert update == RateLimitUpdate(limit=300, remaining=299, reset_at=1700000900.0)


def test_a_used_up_longer_allowance_is_reported_instead():
    # X API v2 (docs.x.com "Rate limits"): POST /2/tweets also carries the user's 24-hour
    # allowance, x-user-limit-24hour-limit / -remaining / -reset.
    parse = header_rate_limit_parser(
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
        exhausted=(
            "x-user-limit-24hour-limit",
            "x-user-limit-24hour-remaining",
            "x-user-limit-24hour-reset",
        ),
    )
    window = {
        "X-Rate-Limit-Limit": "200",
        "x-rate-limit-remaining": "150",
        "x-rate-limit-reset": "1700000900",
    }
    daily = {"x-user-limit-24hour-limit": "100", "x-user-limit-24hour-reset": "1700080000"}
    left = parse(response({**window, **daily, "x-user-limit-24hour-remaining": "3"}))
    assert left == RateLimitUpdate(limit=200, remaining=150, reset_at=1700000900.0)
    spent = parse(response({**window, **daily, "X-User-Limit-24hour-Remaining": "0"}))
    assert spent == RateLimitUpdate(limit=100, remaining=0, reset_at=1700080000.0)
    assert parse(response({**daily, "x-user-limit-24hour-remaining": "0"})) == spent
    assert parse(response({"content-type": "application/json"})) is None


def test_headers_are_read_as_httpx_reads_them():
    # One pass over the raw headers gives what headers.get() gives: any case, repeated values
    # joined (and then not a number).
    parse = header_rate_limit_parser()
    headers = httpx.Headers([("X-RateLimit-Remaining", "4"), ("x-ratelimit-limit", "10")])
    assert parse(httpx.Response(200, headers=headers)) == RateLimitUpdate(limit=10, remaining=4)
    twice = httpx.Headers([("x-ratelimit-remaining", "4"), ("x-ratelimit-remaining", "3")])
    assert parse(httpx.Response(200, headers=twice)) == RateLimitUpdate()


def test_epoch_in_milliseconds_is_recognised():
    parse = header_rate_limit_parser()
    update = parse(response({"x-ratelimit-remaining": "5", "x-ratelimit-reset": "1700000900500"}))
    assert update is not None
    assert update.reset_at == pytest.approx(1700000900.5)


def test_iso_reset_mastodon_style():
    # Mastodon docs (api/rate-limits): X-RateLimit-Reset is an ISO 8601 timestamp.
    parse = header_rate_limit_parser(reset_kind="iso")
    update = parse(
        response(
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "299",
                "X-RateLimit-Reset": "2017-05-24T17:50:00.000Z",
            }
        )
    )
    assert update is not None
    expected = datetime(2017, 5, 24, 17, 50, tzinfo=timezone.utc).timestamp()
    assert (update.limit, update.remaining, update.reset_at) == (300, 299, expected)


def test_delta_reset_reddit_style_with_float_counts():
    # Reddit API rules: X-Ratelimit-Used / -Remaining (may be "598.0") / -Reset (seconds).
    parse = header_rate_limit_parser(
        "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "delta"
    )
    update = parse(response({"x-ratelimit-remaining": "598.0", "x-ratelimit-reset": "540"}))
    assert update == RateLimitUpdate(limit=None, remaining=598, reset_after=540.0)


def test_malformed_and_absent_headers():
    parse = header_rate_limit_parser(reset_kind="iso")
    assert parse(response({})) is None
    update = parse(response({"x-ratelimit-remaining": "lots", "x-ratelimit-reset": "soon"}))
    assert update == RateLimitUpdate()
    with pytest.raises(ValueError):
        header_rate_limit_parser(reset_kind="weekly")  # type: ignore[arg-type]


def test_meta_app_usage_percentages():
    # Graph API "Rate Limiting": X-App-Usage {"call_count", "total_time", "total_cputime"} in %.
    usage = {"call_count": 28, "total_time": 25, "total_cputime": 25}
    update = meta_usage_parser(response({"X-App-Usage": json.dumps(usage)}))
    assert update == RateLimitUpdate(limit=100, remaining=72)


def test_meta_business_use_case_usage_lenient():
    # Graph API "Rate Limiting": X-Business-Use-Case-Usage {business_id: [{type, call_count,
    # total_cputime, total_time, estimated_time_to_regain_access (minutes)}]}, plus fields
    # Meta may add (here "ads_api_access_tier" and "some_new_field").
    header = {
        "1234567890": [
            {
                "type": "pages",
                "call_count": "40.5",
                "total_cputime": 95,
                "total_time": 12,
                "estimated_time_to_regain_access": 5,
                "ads_api_access_tier": "standard_access",
                "some_new_field": {"nested": [1, 2]},
            }
        ]
    }
    update = meta_usage_parser(response({"X-Business-Use-Case-Usage": json.dumps(header)}))
    assert update == RateLimitUpdate(limit=100, remaining=5, reset_after=300.0)


def test_meta_ad_account_usage_and_garbage():
    header = {"acc_id_util_pct": 9.67, "reset_time_duration": 120, "ads_api_access_tier": "x"}
    update = meta_usage_parser(response({"X-Ad-Account-Usage": json.dumps(header)}))
    assert update == RateLimitUpdate(limit=100, remaining=90, reset_after=120.0)
    assert meta_usage_parser(response({"X-App-Usage": "{not json"})) is None
    assert meta_usage_parser(response({"X-App-Usage": '{"unknown": 1}'})) is None
    assert meta_usage_parser(response({"X-App-Usage": '{"call_count": true}'})) is None
    assert meta_usage_parser(response({})) is None


def test_parse_retry_after():
    now = 1_700_000_000.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("tomorrow") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after(httpx.Response(429, headers={"Retry-After": "9"})) == 9.0


# --- store rules (memory and Redis must agree) -----------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RateLimitStore]:
    if request.param == "memory":
        yield MemoryRateLimitStore()
        return
    prefix = request.getfixturevalue("redis_prefix")
    url = request.getfixturevalue("redis_url")
    from socialkit.stores import RedisRateLimitStore

    redis_store = RedisRateLimitStore(url, prefix=prefix)
    try:
        yield redis_store
    finally:
        await redis_store.aclose()


@pytest.mark.anyio
async def test_store_unknown_bucket_is_granted(store: RateLimitStore):
    answer = await store.reserve(KEY, 100.0)
    assert answer.granted
    assert answer.delay == 0.0


@pytest.mark.anyio
async def test_store_reserves_until_empty_then_reports_reset(store: RateLimitStore):
    state = await store.update(KEY, RateLimitUpdate(limit=10, remaining=2, reset_at=160.0), 100.0)
    assert (state.limit, state.remaining, state.reset, state.updated) == (10, 2, 160.0, 100.0)
    first = await store.reserve(KEY, 101.0)
    second = await store.reserve(KEY, 101.0)
    third = await store.reserve(KEY, 101.5)
    assert first.granted
    assert second.granted
    assert second.state is not None
    assert second.state.remaining == 0
    assert not third.granted
    assert third.delay == pytest.approx(58.5)
    assert third.state is not None
    assert third.state.reset == 160.0
    # After the reset the bucket refills to its limit.
    after = await store.reserve(KEY, 160.0)
    assert after.granted
    assert after.state is not None
    assert after.state.remaining == 9
    assert after.state.reset is None


@pytest.mark.anyio
async def test_store_update_keeps_lower_remaining_within_window(store: RateLimitStore):
    await store.update(KEY, RateLimitUpdate(limit=10, remaining=5, reset_at=160.0), 100.0)
    for _ in range(3):
        await store.reserve(KEY, 100.0)  # 3 in flight: 2 left locally
    # A response sent before those three arrives: the server still counts 4.
    state = await store.update(KEY, RateLimitUpdate(remaining=4, reset_at=160.4), 101.0)
    assert state.remaining == 2
    assert state.limit == 10
    # A new window: the server's count is taken as is.
    state = await store.update(KEY, RateLimitUpdate(remaining=9, reset_at=220.0), 161.0)
    assert (state.remaining, state.reset) == (9, 220.0)


@pytest.mark.anyio
async def test_store_delta_reset_and_snapshot(store: RateLimitStore):
    other = BucketKey("example", "default", "media")
    elsewhere = BucketKey("example", "someone-else", "default")
    await store.update(KEY, RateLimitUpdate(limit=3, remaining=3, reset_after=60.0), 100.0)
    await store.update(other, RateLimitUpdate(remaining=1), 100.0)
    await store.update(elsewhere, RateLimitUpdate(remaining=7), 100.0)
    snap = await store.snapshot("example", "default")
    assert set(snap) == {"default", "media"}
    assert snap["default"].reset == 160.0
    assert snap["media"].remaining == 1
    assert snap["media"].reset is None


@pytest.mark.anyio
async def test_store_pace_spreads_the_remaining_budget(store: RateLimitStore):
    await store.update(KEY, RateLimitUpdate(limit=5, remaining=4, reset_at=108.0), 100.0)
    delays = [(await store.reserve(KEY, 100.0, pace=True)).delay for _ in range(4)]
    # 8 s left for 4 calls: one every 2 s, the first at once.
    assert delays == pytest.approx([0.0, 2.0, 4.0, 6.0])
    assert not (await store.reserve(KEY, 100.0, pace=True)).granted


# --- the Session's modes -----------------------------------------------------------------------


def limited_network() -> Network:
    return Network("example", BASE, rate_limit_parser=header_rate_limit_parser())


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": repr(reset),
    }


def make_session(client: httpx.AsyncClient, fake_time: FakeTime, **kwargs: Any) -> Session:
    kwargs.setdefault("retry", RetryPolicy(jitter=0.0))
    return Session(
        limited_network(),
        client=client,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        **kwargs,
    )


@pytest.mark.anyio
@respx.mock
async def test_wait_mode_sleeps_until_reset(client: httpx.AsyncClient, fake_time: FakeTime):
    reset = fake_time.now + 30
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.now)
        left = 0 if len(sent_at) == 1 else 9
        return httpx.Response(200, headers=headers(10, left, reset if left == 0 else reset + 60))

    respx.get(f"{BASE}/x").mock(side_effect=answer)
    s = make_session(client, fake_time)
    await s.request("GET", "/x")
    assert s.rate_limits["default"].remaining == 0
    await s.request("GET", "/x")
    assert fake_time.sleeps == [pytest.approx(30.0)]
    assert sent_at[1] >= reset
    assert s.rate_limits["default"].remaining == 9


@pytest.mark.anyio
@respx.mock
async def test_wait_mode_raises_past_max_wait(client: httpx.AsyncClient, fake_time: FakeTime):
    reset = fake_time.now + 1000
    route = respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(200, headers=headers(10, 0, reset))
    )
    s = make_session(client, fake_time, max_wait=900)
    await s.request("GET", "/x")
    with pytest.raises(RateLimitError) as info:
        await s.request("GET", "/x")
    assert route.call_count == 1  # not sent
    assert fake_time.sleeps == []
    error = info.value
    assert error.retry_after == pytest.approx(1000.0)
    assert (error.limit, error.remaining, error.bucket) == (10, 0, "default")
    assert error.reset_at == datetime.fromtimestamp(reset, tz=timezone.utc)
    assert "max_wait" in str(error)


@pytest.mark.anyio
@respx.mock
async def test_raise_mode_raises_without_sending(client: httpx.AsyncClient, fake_time: FakeTime):
    route = respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(200, headers=headers(10, 0, fake_time.now + 5))
    )
    s = make_session(client, fake_time, rate_limit="raise")
    await s.request("GET", "/x")
    with pytest.raises(RateLimitError) as info:
        await s.request("GET", "/x")
    assert route.call_count == 1
    assert info.value.retry_after == pytest.approx(5.0)
    assert fake_time.sleeps == []


@pytest.mark.anyio
@respx.mock
async def test_pace_mode_spreads_calls_over_the_window(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    window_end = fake_time.now + 10
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.now)
        return httpx.Response(200, headers=headers(11, 11 - len(sent_at), window_end))

    respx.get(f"{BASE}/x").mock(side_effect=answer)
    s = make_session(client, fake_time, rate_limit="pace")
    for _ in range(11):
        await s.request("GET", "/x")
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    # 10 units over 10 s after the first answer: about one per second, all inside the window.
    assert sent_at[-1] < window_end
    assert gaps == pytest.approx([0.0] + [1.0] * 9)


@pytest.mark.anyio
@respx.mock
async def test_concurrent_calls_never_overdraw_the_bucket(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    route = respx.get(f"{BASE}/x").mock(
        return_value=httpx.Response(200, headers=headers(10, 3, fake_time.now + 60))
    )
    s = make_session(client, fake_time, rate_limit="raise")
    await s.request("GET", "/x")  # learn: 3 left
    outcomes: list[str] = []

    async def one() -> None:
        try:
            await s.request("GET", "/x")
            outcomes.append("sent")
        except RateLimitError:
            outcomes.append("limited")

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert outcomes.count("sent") == 3
    assert route.call_count == 4


@pytest.mark.anyio
@respx.mock
async def test_429_empties_the_bucket_for_other_calls(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    respx.get(f"{BASE}/a").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "20"}), httpx.Response(200)]
    )
    s = make_session(client, fake_time, rate_limit="raise")
    with pytest.raises(RateLimitError):
        await s.request("GET", "/a")
    state = s.rate_limits["default"]
    assert state.remaining == 0
    assert state.reset == pytest.approx(fake_time.now + 20)
    with pytest.raises(RateLimitError, match="not sent"):
        await s.request("GET", "/a")


@pytest.mark.anyio
@respx.mock
async def test_buckets_by_path_and_by_update(client: httpx.AsyncClient, fake_time: FakeTime):
    def parser(response: httpx.Response) -> RateLimitUpdate | None:
        bucket = response.headers.get("x-bucket")
        return RateLimitUpdate(limit=5, remaining=4, bucket=bucket)

    net = Network(
        "example",
        BASE,
        rate_limit_parser=parser,
        bucket_for=lambda method, path: "media" if path.startswith("/media") else "default",
    )
    respx.post(f"{BASE}/media").mock(return_value=httpx.Response(200))
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200, headers={"x-bucket": "app"}))
    s = Session(net, client=client, sleep=fake_time.sleep, clock=fake_time.clock)
    await s.request("POST", "/media", content=b"x")
    await s.request("GET", "/x")
    await s.request("GET", "/x", bucket="search")
    assert set(s.rate_limits) == {"media", "app"}
    assert set(await s.refresh_rate_limits()) == {"media", "app"}


@pytest.mark.anyio
async def test_store_ignores_late_response_of_an_ended_window(store: RateLimitStore):
    await store.update(KEY, RateLimitUpdate(limit=5, remaining=0, reset_at=110.0), 100.0)
    refilled = await store.reserve(KEY, 110.0)  # the window ended: refilled, 4 left
    assert refilled.granted
    # A response of the old window arrives late: it must not empty the new window ...
    state = await store.update(KEY, RateLimitUpdate(limit=5, remaining=0, reset_at=110.0), 110.2)
    assert (state.limit, state.remaining, state.reset) == (5, 4, None)
    # ... nor make the store refill it a second time.
    grants = [(await store.reserve(KEY, 110.3)).granted for _ in range(5)]
    assert grants == [True, True, True, True, True]
    # (remaining reached 0 with no known reset: the network decides; nothing was refilled)
    state = await store.update(KEY, RateLimitUpdate(remaining=0, reset_at=170.0), 110.4)
    assert not (await store.reserve(KEY, 110.5)).granted


@pytest.mark.anyio
async def test_store_first_response_after_refill_keeps_local_count(store: RateLimitStore):
    await store.update(KEY, RateLimitUpdate(limit=5, remaining=0, reset_at=110.0), 100.0)
    await store.reserve(KEY, 110.0)  # refilled: 4 left
    second = await store.reserve(KEY, 110.0)  # 3 left; both in flight
    assert second.state is not None
    assert second.state.refilled
    # The first answer of the new window counted only one of them.
    state = await store.update(KEY, RateLimitUpdate(remaining=4, reset_at=170.0), 110.1)
    assert (state.remaining, state.reset, state.refilled) == (3, 170.0, False)


@pytest.mark.anyio
@respx.mock
async def test_first_contact_sends_one_probe_not_a_burst(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    sent = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal sent
        sent += 1
        await anyio.sleep(0.01)  # concurrent callers arrive while this is in flight
        return httpx.Response(200, headers=headers(5, 5 - sent, fake_time.now + 60))

    respx.get(f"{BASE}/x").mock(side_effect=answer)
    s = make_session(client, fake_time, rate_limit="raise")
    outcomes: list[str] = []

    async def one() -> None:
        try:
            await s.request("GET", "/x")
            outcomes.append("sent")
        except RateLimitError:
            outcomes.append("limited")

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    # The first call learned the limit (5) before the other nine went out: 5 sent, 5 refused
    # locally, none sent blind.
    assert sent == 5
    assert sorted(outcomes) == ["limited"] * 5 + ["sent"] * 5


@pytest.mark.anyio
@respx.mock
async def test_buckets_without_headers_are_not_serialised(
    client: httpx.AsyncClient, fake_time: FakeTime
):
    in_flight = 0
    most = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await anyio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200)  # no rate-limit headers at all

    respx.get(f"{BASE}/x").mock(side_effect=answer)
    s = make_session(client, fake_time)
    await s.request("GET", "/x")  # the probe finds no headers
    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(s.request, "GET", "/x")
    assert most == 5
    assert s.rate_limits == {}
