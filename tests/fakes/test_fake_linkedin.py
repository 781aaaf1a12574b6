"""FakeLinkedIn on its own (socialkit.testing.fakes.linkedin): what it refuses, as LinkedIn
does, and the shapes of its answers (reference pages under
https://learn.microsoft.com/en-us/linkedin/: marketing/versioning, shared/api-guide/concepts/
error-handling and protocol-version, marketing/community-management/shares/posts-api,
…/images-api, …/videos-api)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeLinkedIn

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def headers(fake: FakeLinkedIn, **extra: str) -> dict[str, str]:
    access, _ = fake.tokens()
    return {
        "Authorization": f"Bearer {access}",
        "LinkedIn-Version": "202511",
        "X-Restli-Protocol-Version": "2.0.0",
        **extra,
    }


def post_body(fake: FakeLinkedIn, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "author": fake.organization_urn,
        "commentary": text,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED"},
        "lifecycleState": "PUBLISHED",
        **extra,
    }


def is_linkedin_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"status", "serviceErrorCode", "code", "message"}
    assert (body["status"], body["code"]) == (status, code)


async def test_the_headers_are_required() -> None:
    fake = FakeLinkedIn()
    async with fake.client(base_url=fake.base_url) as client:
        missing = headers(fake)
        del missing["LinkedIn-Version"]
        is_linkedin_error(
            await client.get("/rest/organizations/2414183", headers=missing), 400, "VERSION_MISSING"
        )
        old = headers(fake, **{"LinkedIn-Version": "202001"})
        is_linkedin_error(
            await client.get("/rest/organizations/2414183", headers=old), 426, "NONEXISTENT_VERSION"
        )
        no_restli = headers(fake)
        del no_restli["X-Restli-Protocol-Version"]
        is_linkedin_error(
            await client.get("/rest/organizations/2414183", headers=no_restli),
            400,
            "ILLEGAL_ARGUMENT",
        )
        is_linkedin_error(
            await client.get(
                "/rest/organizations/2414183", headers={"Authorization": "Bearer nope"}
            ),
            401,
            "EXPIRED_ACCESS_TOKEN",
        )


async def test_urns_must_be_encoded_and_posts_answer_with_their_urn() -> None:
    fake = FakeLinkedIn()
    async with fake.client(base_url=fake.base_url) as client:
        created = await client.post(
            "/rest/posts", json=post_body(fake, "hello \\(world\\)"), headers=headers(fake)
        )
        assert created.status_code == 201
        urn = created.headers["x-restli-id"]
        assert urn.startswith("urn:li:share:")
        bare = await client.get(f"/rest/posts/{urn}", headers=headers(fake))
        is_linkedin_error(bare, 400, "ILLEGAL_ARGUMENT")
        got = await client.get(f"/rest/posts/{quote(urn, safe='')}", headers=headers(fake))
        assert got.json()["commentary"] == "hello \\(world\\)"
        assert got.json()["author"] == fake.organization_urn


async def test_a_bare_reserved_character_cuts_the_commentary() -> None:
    fake = FakeLinkedIn()
    async with fake.client(base_url=fake.base_url) as client:
        created = await client.post(
            "/rest/posts", json=post_body(fake, "kept (lost"), headers=headers(fake)
        )
    assert fake.posts[created.headers["x-restli-id"]].commentary == "kept "


async def test_media_must_be_available_and_parts_in_order() -> None:
    fake = FakeLinkedIn()
    async with fake.client(base_url=fake.base_url) as client:
        init = await client.post(
            "/rest/videos?action=initializeUpload",
            json={"initializeUploadRequest": {"owner": fake.organization_urn, "fileSizeBytes": 10}},
            headers=headers(fake),
        )
        value = init.json()["value"]
        urn = value["video"]
        early = await client.post(
            "/rest/posts",
            json=post_body(fake, "too soon", content={"media": {"id": urn}}),
            headers=headers(fake),
        )
        is_linkedin_error(early, 422, "UNPROCESSABLE_ENTITY")
        bad = await client.post(
            "/rest/videos?action=finalizeUpload",
            json={
                "finalizeUploadRequest": {"video": urn, "uploadToken": "", "uploadedPartIds": []}
            },
            headers=headers(fake),
        )
        is_linkedin_error(bad, 400, "ILLEGAL_ARGUMENT")
        put = await client.put(value["uploadInstructions"][0]["uploadUrl"], content=bytes(10))
        assert put.status_code == 201
        done = await client.post(
            "/rest/videos?action=finalizeUpload",
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": "",
                    "uploadedPartIds": [put.headers["etag"]],
                }
            },
            headers=headers(fake),
        )
        assert done.status_code == 200
        path = f"/rest/videos/{quote(urn, safe='')}"
        states = [(await client.get(path, headers=headers(fake))).json()["status"] for _ in "ab"]
    assert states == ["PROCESSING", "AVAILABLE"]


async def test_a_throttled_call_answers_429_without_headers() -> None:
    fake = FakeLinkedIn(daily_limit=1)
    async with fake.client(base_url=fake.base_url) as client:
        first = await client.get("/rest/organizations/2414183", headers=headers(fake))
        assert first.status_code == 200
        second = await client.get("/rest/organizations/2414183", headers=headers(fake))
    is_linkedin_error(second, 429, "TOO_MANY_REQUESTS")
    assert "retry-after" not in second.headers
    assert not [h for h in second.headers if h.startswith("x-ratelimit")]


async def test_the_fake_connects_the_real_adapter() -> None:
    fake = FakeLinkedIn()
    async with fake.connect() as linkedin:
        from socialkit import Media, Post

        posted = await linkedin.publish(
            Post(text="hello", media=[Media.from_bytes(c.PNG_1X1, alt="one pixel")])
        )
    assert fake.own_posts() == [posted.id]
