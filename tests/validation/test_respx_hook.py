"""The respx hook validates every call of a router, and exemptions need a reason.

Traffic follows ../shared/specs/x/openapi.json (POST /2/tweets: TweetCreateRequest /
TweetCreateResponse) and ../shared/specs/bluesky/lexicons (com.atproto.server.createSession).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx
from tests._specs import specs_dir
from tests._validation import CheckedRouter, Checker, LexiconChecker, OpenAPIChecker, checked
from tests._validation.respx_hook import checked_traffic  # noqa: F401  (fixture)

pytestmark = pytest.mark.spec

X = "https://api.x.test"
CREATED = {"data": {"id": "1445880548472328192", "text": "hello"}}


@pytest.fixture(scope="module")
def x() -> OpenAPIChecker:
    return OpenAPIChecker(specs_dir() / "x" / "openapi.json", server_url=X)


def _post(client: httpx.Client, body: object) -> httpx.Response:
    return client.post(f"{X}/2/tweets", json=body, headers={"Authorization": "Bearer t"})


def test_conforming_traffic_passes(x: OpenAPIChecker) -> None:
    with respx.mock(assert_all_called=True) as router:
        with checked(router, x):
            router.post(f"{X}/2/tweets").respond(201, json=CREATED)
            with httpx.Client() as client:
                assert _post(client, {"text": "hello"}).status_code == 201
        assert len(router.calls) == 1


def test_every_violation_is_listed(x: OpenAPIChecker) -> None:
    with respx.mock() as router:
        traffic = checked(router, x)
        router.post(f"{X}/2/tweets").respond(201, json={"data": {"id": 1}})
        router.get(f"{X}/2/nowhere").respond(200, json={})
        with httpx.Client() as client:
            _post(client, {"text": "ok"})
            _post(client, {"txet": "typo"})
            client.get(f"{X}/2/nowhere", headers={"Authorization": "Bearer t"})
        with pytest.raises(AssertionError) as failure:
            traffic.verify()
    report = str(failure.value)
    assert "call 1: POST https://api.x.test/2/tweets\n    mocked response 201" in report
    assert "at data/id: 1 is not of type 'string'" in report
    assert "call 2: POST https://api.x.test/2/tweets\n    request:" in report
    assert "request body field /txet is not declared" in report
    assert (
        "call 3: GET https://api.x.test/2/nowhere\n    request: GET /2/nowhere: no such path"
        in report
    )


def test_exemption_with_reason(x: OpenAPIChecker) -> None:
    with respx.mock() as router, checked(router, x) as traffic:
        router.post(f"{X}/2/tweets").respond(201, json=CREATED)
        hook = router.post("https://hooks.example.test/notify").respond(204)
        traffic.exempt(hook, reason="the test app's own webhook, not part of the X API")
        with httpx.Client() as client:
            _post(client, {"text": "hello"})
            client.post("https://hooks.example.test/notify", json={"id": "1"})


def test_exempt_response_still_checks_the_request(x: OpenAPIChecker) -> None:
    with respx.mock() as router:
        traffic = checked(router, x)
        route = router.post(f"{X}/2/tweets").respond(503, text="upstream over capacity")
        traffic.exempt_response(
            route, reason="X answers 503 with a plain-text body when overloaded"
        )
        with httpx.Client() as client:
            _post(client, {"text": "fine"})
        traffic.verify()
        with httpx.Client() as client:
            _post(client, {"text": 1})
        with pytest.raises(AssertionError, match="at text: 1 is not of type 'string'"):
            traffic.verify()


def test_requests_without_a_response_are_still_checked(x: OpenAPIChecker) -> None:
    with respx.mock() as router:
        traffic = checked(router, x)
        router.post(f"{X}/2/tweets").mock(side_effect=httpx.ConnectTimeout("timed out"))
        with httpx.Client() as client, pytest.raises(httpx.ConnectTimeout):
            _post(client, {"text": "hello", "reply_to": "1"})
        with pytest.raises(AssertionError, match="request body field /reply_to is not declared"):
            traffic.verify()


def test_exemption_needs_a_reason(x: OpenAPIChecker) -> None:
    with respx.mock(assert_all_called=False) as router:
        traffic = checked(router, x)
        route = router.get("https://elsewhere.test/")
        for reason in ("", "   ", "because"):
            with pytest.raises(ValueError, match="needs a reason"):
                traffic.exempt(route, reason=reason)


def test_unused_exemption_fails(x: OpenAPIChecker) -> None:
    with respx.mock(assert_all_called=False) as router:
        traffic = checked(router, x)
        route = router.get("https://hooks.example.test/unused").respond(204)
        traffic.exempt(route, reason="kept from an older version of this test")
        with pytest.raises(AssertionError, match="matched no call: remove it"):
            traffic.verify()


def test_lexicon_checker_works_with_the_hook() -> None:
    lexicons = LexiconChecker()
    pds = "https://pds.example.test"
    with respx.mock() as router:
        traffic = checked(router, lexicons)
        router.post(f"{pds}/xrpc/com.atproto.server.createSession").respond(
            401,
            json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        )
        with httpx.Client() as client:
            client.post(
                f"{pds}/xrpc/com.atproto.server.createSession",
                json={"identifier": "alice.test", "password": "wrong"},
            )
            client.post(f"{pds}/xrpc/com.atproto.server.createSession", json={"identifier": 1})
        with pytest.raises(AssertionError) as failure:
            traffic.verify()
    report = str(failure.value)
    assert "call 1" not in report
    assert "call 2" in report
    assert "input.identifier: expected a string" in report
    assert "required field 'password' is missing" in report


def test_fixture_verifies_at_teardown(
    x: OpenAPIChecker,
    checked_traffic: Callable[[respx.Router, Checker], CheckedRouter],  # noqa: F811
) -> None:
    with respx.mock() as router:
        traffic = checked_traffic(router, x)
        router.post(f"{X}/2/tweets").respond(201, json=CREATED)
        with httpx.Client() as client:
            _post(client, {"text": "hello"})
        assert traffic.violations() == []
