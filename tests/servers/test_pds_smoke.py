"""Smoke test of the local PDS used by the Bluesky integration tests.

Requests and responses follow the official lexicons (../shared/specs/bluesky/lexicons:
com.atproto.server.createAccount / createSession, com.atproto.repo.createRecord / listRecords,
app.bsky.feed.post); every request sent and response received here is checked against them
with the test-side LexiconChecker, so this also checks the checker against a real server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from tests._validation import LexiconChecker
from tests.servers.pds.fixture import PDSServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lexicons() -> LexiconChecker:
    return LexiconChecker()


@pytest.fixture
def client(pds_server: PDSServer, lexicons: LexiconChecker) -> Iterator[httpx.Client]:
    """An httpx client whose every exchange is validated against the lexicons."""
    problems: list[str] = []

    def check(response: httpx.Response) -> None:
        response.read()
        problems.extend(lexicons.request_violations(response.request))
        problems.extend(lexicons.response_violations(response.request, response))

    with httpx.Client(base_url=pds_server.url, timeout=30, event_hooks={"response": [check]}) as c:
        yield c
    assert not problems, "traffic not conforming to the lexicons:\n" + "\n".join(problems)


def _now() -> str:
    return (
        dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def test_account_session_post_and_read_back(pds_server: PDSServer, client: httpx.Client) -> None:
    account = pds_server.create_account("smoke.test", "smoke-password-1")
    assert account["handle"] == "smoke.test"
    assert account["did"].startswith("did:plc:")

    session = client.post(
        "/xrpc/com.atproto.server.createSession",
        json={"identifier": "smoke.test", "password": "smoke-password-1"},
    )
    assert session.status_code == 200, session.text
    assert session.json()["did"] == account["did"]
    auth = {"Authorization": f"Bearer {session.json()['accessJwt']}"}

    text = "hello from socialkit 🦋 #smoke"
    start = len(text.encode()) - len(b"#smoke")
    record = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": _now(),
        "langs": ["en"],
        "facets": [
            {
                "index": {"byteStart": start, "byteEnd": len(text.encode())},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "smoke"}],
            }
        ],
    }
    created = client.post(
        "/xrpc/com.atproto.repo.createRecord",
        headers=auth,
        json={"repo": account["did"], "collection": "app.bsky.feed.post", "record": record},
    )
    assert created.status_code == 200, created.text
    uri = created.json()["uri"]
    assert uri.startswith(f"at://{account['did']}/app.bsky.feed.post/")

    listed = client.get(
        "/xrpc/com.atproto.repo.listRecords",
        params={"repo": account["did"], "collection": "app.bsky.feed.post", "limit": 10},
    )
    assert listed.status_code == 200, listed.text
    records = listed.json()["records"]
    assert [r["uri"] for r in records] == [uri]
    assert records[0]["value"]["text"] == text
    assert records[0]["value"]["facets"] == record["facets"]


def test_repeated_logins_hit_a_real_rate_limit(pds_server: PDSServer, client: httpx.Client) -> None:
    pds_server.create_account("ratelimit.test", "ratelimit-password-1")
    body = {"identifier": "ratelimit.test", "password": "ratelimit-password-1"}
    statuses = []
    limited = None
    for _ in range(60):  # the PDS allows 30 createSession calls per 5 minutes
        response = client.post("/xrpc/com.atproto.server.createSession", json=body)
        statuses.append(response.status_code)
        if response.status_code == 429:
            limited = response
            break
    assert limited is not None, f"no 429 after {len(statuses)} logins: {statuses}"
    assert statuses[0] == 200
    assert set(statuses[:-1]) == {200}
    assert limited.json()["error"] == "RateLimitExceeded"
    headers = limited.headers
    assert int(headers["ratelimit-remaining"]) == 0
    assert int(headers["ratelimit-limit"]) == len(statuses) - 1
    reset = int(headers["ratelimit-reset"])  # epoch seconds
    assert reset > dt.datetime.now(dt.timezone.utc).timestamp()
    assert "ratelimit-policy" in headers
