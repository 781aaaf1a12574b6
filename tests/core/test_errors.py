"""The error tree: readable one-sentence messages, typed attributes, pickling."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import socialkit
from socialkit import (
    APIError,
    AuthError,
    ConfigurationError,
    OutcomeUnknownError,
    RateLimitError,
    SocialkitError,
    TokenExpiredError,
)
from socialkit._errors import error_class_for_status


def test_tree() -> None:
    assert issubclass(TokenExpiredError, AuthError)
    assert issubclass(AuthError, APIError)
    assert issubclass(APIError, SocialkitError)
    assert issubclass(socialkit.TimeoutError, socialkit.TransportError)
    for name in socialkit.__all__:
        obj = getattr(socialkit, name)
        if isinstance(obj, type) and name.endswith("Error"):
            assert issubclass(obj, SocialkitError), name


def test_api_error_sentence() -> None:
    err = APIError("mastodon", 422, "unprocessable", "Text can't be blank.", "req-1")
    assert str(err) == (
        "mastodon answered HTTP 422 (unprocessable): Text can't be blank [request id req-1]."
    )
    assert AuthError("x").status == 401


def test_rate_limit_error_carries_retry_details_and_pickles() -> None:
    reset = datetime(2030, 1, 1, tzinfo=timezone.utc)
    err = RateLimitError(
        "x",
        429,
        message="Too Many Requests",
        retry_after=12.0,
        limit=100,
        remaining=0,
        reset_at=reset,
        bucket="POST /2/tweets",
    )
    assert "retry after 12 s" in str(err)
    assert "bucket POST /2/tweets" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (again.retry_after, again.reset_at, again.bucket) == (12.0, reset, "POST /2/tweets")
    assert str(again) == str(err)


def test_configuration_error_lists_problems() -> None:
    err = ConfigurationError("invalid settings for x", ["a: required", "b: bad"])
    assert str(err) == "invalid settings for x: a: required; b: bad"


def test_outcome_unknown_says_it_was_not_resent() -> None:
    err = OutcomeUnknownError("x", "POST", "/2/tweets", TimeoutError())
    assert "not sent again" in str(err)


def test_status_mapping() -> None:
    assert error_class_for_status(401) is AuthError
    assert error_class_for_status(403) is socialkit.PermissionError
    assert error_class_for_status(410) is socialkit.NotFoundError
    assert error_class_for_status(422) is socialkit.InvalidRequestError
    assert issubclass(socialkit.InvalidRequestError, socialkit.ValidationError)
    assert error_class_for_status(429) is RateLimitError
    assert error_class_for_status(503) is socialkit.ServerError
    assert error_class_for_status(418) is APIError


def test_local_rate_limit_says_nothing_was_sent() -> None:
    err = RateLimitError(
        "bluesky",
        None,
        "rate_limited",
        "the rate limit is used up",
        retry_after=30.0,
        bucket="login",
        local=True,
    )
    assert err.status is None
    assert str(err).startswith("bluesky: rate limited before sending")
    assert "answered" not in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert (again.local, again.status, str(again)) == (True, None, str(err))
