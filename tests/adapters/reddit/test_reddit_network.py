"""Reddit's network layer: the rate-limit headers, error bodies and the RATELIMIT body error,
alone and through the pipeline (respx).

Fixtures follow Reddit's documentation: the ``X-Ratelimit-Used`` / ``-Remaining`` / ``-Reset``
headers of the Data API wiki
(https://support.reddithelp.com/hc/en-us/articles/16160319875092-Reddit-Data-API-Wiki), the
``api_type=json`` answers of ``POST /api/submit`` (https://www.reddit.com/dev/api#POST_api_submit:
``{"json": {"errors": [[code, message, field]], "data": {...}}}``), the RATELIMIT texts as the
reddit-archive wiki (API: submit) and r/redditdev show them, and the token endpoint's errors of
https://github.com/reddit-archive/reddit/wiki/OAuth2."""

from __future__ import annotations

import httpx
import pytest
import respx

from socialkit._errors import (
    AuthError,
    InvalidRequestError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
)
from socialkit._http import RetryPolicy, Session
from socialkit.adapters.reddit import (
    decode_reddit_error,
    json_errors,
    make_network,
    parse_reddit_rate_limit,
    ratelimit_wait,
)

BASE = "https://oauth.reddit.example"


def _response(
    status: int = 200, *, headers: dict[str, str] | None = None, **kw: object
) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", BASE), **kw)  # type: ignore[arg-type]


def test_headers_give_the_window() -> None:
    update = parse_reddit_rate_limit(
        _response(
            headers={
                "x-ratelimit-used": "6",
                "x-ratelimit-remaining": "594.0",
                "x-ratelimit-reset": "233",
            }
        )
    )
    assert update is not None
    assert (update.limit, update.remaining, update.reset_after) == (600, 594, 233.0)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-remaining": "nan", "x-ratelimit-reset": "12"},
        {"x-ratelimit-remaining": "-3", "x-ratelimit-reset": "12"},
        {"x-ratelimit-remaining": "ten", "x-ratelimit-reset": "12"},
    ],
)
def test_malformed_headers_are_left_out(headers: dict[str, str]) -> None:
    update = parse_reddit_rate_limit(_response(headers=headers))
    assert update is not None
    assert update.remaining is None
    assert update.limit is None
    assert update.reset_after == 12.0


def test_no_headers_no_update() -> None:
    assert parse_reddit_rate_limit(_response()) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("you are doing that too much. try again in 9 minutes.", 540.0),
        (
            "Looks like you've been doing that a lot. Take a break for 5 minutes before "
            "trying again.",
            300.0,
        ),
        ("Take a break for 1 minute before trying again.", 60.0),
        ("you are doing that too much. try again in 30 seconds.", 30.0),
        ("you are doing that too much. try again in 850 milliseconds.", 0.85),
        ("you are doing that too much.", None),
    ],
)
def test_ratelimit_wait(text: str, seconds: float | None) -> None:
    assert ratelimit_wait(text) == seconds


def test_ratelimit_in_a_200_body() -> None:
    body = {
        "json": {
            "errors": [
                [
                    "RATELIMIT",
                    "Looks like you've been doing that a lot. Take a break for 5 minutes "
                    "before trying again.",
                    "ratelimit",
                ]
            ]
        }
    }
    error = json_errors(body)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 300.0
    assert error.code == "RATELIMIT"
    assert "Take a break" in str(error)


def test_other_json_errors_are_invalid_requests() -> None:
    body = {
        "json": {
            "errors": [
                ["SUBMIT_VALIDATION_FLAIR_REQUIRED", "Post must contain post flair. ", "flair"],
                ["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"],
            ]
        }
    }
    error = json_errors(body)
    assert isinstance(error, InvalidRequestError)
    assert error.code == "SUBMIT_VALIDATION_FLAIR_REQUIRED"
    assert "post flair" in str(error)
    assert "doesn't exist" in str(error)
    assert json_errors({"json": {"errors": [], "data": {"name": "t3_abc"}}}) is None
    assert json_errors(["not", "an", "answer"]) is None


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, {"message": "Unauthorized", "error": 401}, AuthError, "401"),
        (403, {"message": "Forbidden", "error": 403}, PermissionError, "403"),
        (404, {"message": "Not Found", "error": 404}, NotFoundError, "404"),
        (400, {"error": "invalid_grant"}, InvalidRequestError, "invalid_grant"),
        (
            400,
            {"json": {"errors": [["NO_TEXT", "we need something here", "title"]]}},
            InvalidRequestError,
            "NO_TEXT",
        ),
        (403, {"reason": "banned", "message": "Forbidden"}, PermissionError, "banned"),
        (500, {"message": "Internal Server Error", "error": 500}, ServerError, "500"),
    ],
)
def test_error_bodies(status: int, body: object, cls: type, code: str) -> None:
    error = decode_reddit_error(_response(status, json=body), "reddit")
    assert type(error) is cls
    assert error.code == code
    assert error.status == status
    assert error.message


def test_429_carries_retry_after_and_html_pages_are_errors_too() -> None:
    limited = decode_reddit_error(
        _response(429, headers={"retry-after": "7"}, content=b"<html>too many</html>"), "reddit"
    )
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 7
    page = decode_reddit_error(_response(502, content=b"<html>bad gateway</html>"), "reddit")
    assert isinstance(page, ServerError)


@pytest.mark.anyio
async def test_an_empty_window_stops_the_next_call_before_sending() -> None:
    router = respx.MockRouter(assert_all_mocked=True)
    # The account of GET /api/v1/me (https://www.reddit.com/dev/api#GET_api_v1_me), trimmed to
    # its name: only the rate-limit headers matter here.
    route = router.get(f"{BASE}/api/v1/me").mock(
        return_value=httpx.Response(
            200,
            json={"name": "someone"},
            headers={
                "x-ratelimit-used": "600",
                "x-ratelimit-remaining": "0.0",
                "x-ratelimit-reset": "42",
            },
        )
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    session = Session(
        make_network(BASE),
        client=client,
        rate_limit="raise",
        retry=RetryPolicy(attempts=2, wait=False),
    )
    await session.request("GET", "/api/v1/me")
    with pytest.raises(RateLimitError) as info:
        await session.request("GET", "/api/v1/me")
    await client.aclose()
    assert info.value.local
    assert info.value.retry_after is not None
    assert 40 <= info.value.retry_after <= 42
    assert route.call_count == 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
