"""FakeReddit on its own: the token endpoint's answers, the User-Agent rule, rate-limit
headers, the media storage, Listings paged by ``after`` (shapes of the pages named in
socialkit.testing.fakes.reddit)."""

from __future__ import annotations

import httpx
import pytest

from socialkit.testing.fakes import FakeReddit

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _token(fake: FakeReddit, client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/access_token",
        data={"grant_type": "password", "username": "owner", "password": password},
        auth=(fake.client_id, fake.client_secret),
    )


async def test_token_endpoint_answers_like_reddit() -> None:
    fake = FakeReddit()
    async with fake.client(base_url=fake.base_url) as client:
        good = await _token(fake, client, "owner-password")
        wrong = await _token(fake, client, "nope")
        no_client = await client.post("/api/v1/access_token", data={"grant_type": "password"})
    assert good.json()["token_type"] == "bearer"
    assert good.json()["expires_in"] == 86400
    assert wrong.status_code == 200
    assert wrong.json() == {"error": "invalid_grant"}
    assert no_client.status_code == 401


async def test_headers_agent_and_listing_pages() -> None:
    fake = FakeReddit()
    for index in range(3):
        fake.publish_as(fake.owner, f"post {index}")
    async with fake.client(base_url=fake.base_url) as client:
        token = (await _token(fake, client, "owner-password")).json()["access_token"]
        headers = {"Authorization": f"bearer {token}", "User-Agent": fake.user_agent}
        first = await client.get("/user/owner/submitted?limit=2", headers=headers)
        after = first.json()["data"]["after"]
        second = await client.get(f"/user/owner/submitted?limit=2&after={after}", headers=headers)
        generic = await client.get(
            "/api/v1/me", headers={"Authorization": f"bearer {token}", "User-Agent": "curl/8"}
        )
    titles = [c["data"]["title"] for c in first.json()["data"]["children"]]
    titles += [c["data"]["title"] for c in second.json()["data"]["children"]]
    assert titles == ["post 2", "post 1", "post 0"]
    assert second.json()["data"]["after"] is None
    assert first.headers["x-ratelimit-used"] == "1"
    assert first.headers["x-ratelimit-remaining"] == "599.0"
    assert 0 < int(first.headers["x-ratelimit-reset"]) <= 600
    assert generic.status_code == 429


async def test_media_storage_needs_a_leased_key_and_a_file() -> None:
    fake = FakeReddit()
    async with fake.client(base_url=fake.base_url) as client:
        token = (await _token(fake, client, "owner-password")).json()["access_token"]
        headers = {"Authorization": f"bearer {token}", "User-Agent": fake.user_agent}
        lease = await client.post(
            "/api/media/asset.json",
            data={"filepath": "a.png", "mimetype": "image/png"},
            headers=headers,
        )
        key = next(f["value"] for f in lease.json()["args"]["fields"] if f["name"] == "key")
        refused = await client.post("/_media", data={"key": "not-leased"}, files={"file": b"x"})
        empty = await client.post("/_media", data={"key": key}, files={"file": ("a.png", b"")})
        stored = await client.post("/_media", data={"key": key}, files={"file": ("a.png", b"png")})
    assert refused.status_code == 403
    assert empty.status_code == 400
    assert stored.status_code == 201
    assert b"<Location>" in stored.content
    assert lease.json()["args"]["action"].startswith("//")


async def test_front_page_and_multireddits() -> None:
    fake = FakeReddit()
    other = fake.add_user("other")
    fake.add_subreddit("python")
    fake.join(fake.owner, "python")
    in_python = fake.publish_as(other, "snake", subreddit="python")
    fake.publish_as(other, "elsewhere")
    mine = fake.add_multi(fake.owner, "code", ["python"], visibility="public")
    theirs = fake.add_multi(other, "hidden", ["python"])
    async with fake.client(base_url=fake.base_url) as client:
        token = (await _token(fake, client, "owner-password")).json()["access_token"]
        headers = {"Authorization": f"bearer {token}", "User-Agent": fake.user_agent}
        best = await client.get("/best", headers=headers)
        multis = await client.get("/api/multi/mine", headers=headers)
        listing = await client.get(f"{mine}/new", headers=headers)
        private = await client.get(f"{theirs}/new", headers=headers)
        missing = await client.get("/user/owner/m/nothing/new", headers=headers)
    assert best.json()["kind"] == "Listing"
    assert [c["data"]["name"] for c in best.json()["data"]["children"]] == [in_python]
    body = multis.json()
    assert isinstance(body, list)
    assert [m["kind"] for m in body] == ["LabeledMulti"]
    assert body[0]["data"]["path"] == mine
    assert body[0]["data"]["subreddits"] == [{"name": "python"}]
    assert [c["data"]["name"] for c in listing.json()["data"]["children"]] == [in_python]
    assert private.status_code == 403
    assert missing.status_code == 404
