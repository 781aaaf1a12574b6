"""FakeYouTube on its own: the resumable protocol (session URI, 308 with Range, the status
query, the 256 KiB rule), processing, the daily quota and Google's error body (shapes of
youtube.v3.json and the pages named in socialkit.testing.fakes.youtube); every answer checked
against the discovery documents."""

from __future__ import annotations

import httpx
import pytest
from tests._specs import youtube_checker

from socialkit.testing.fakes import FakeYouTube

pytestmark = pytest.mark.anyio

KiB = 1024
MP4 = {"Content-Type": "video/mp4"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def checked(response: httpx.Response) -> httpx.Response:
    checker = youtube_checker()
    problems = checker.request_violations(response.request)
    problems += checker.response_violations(response.request, response)
    assert not problems, problems
    return response


async def start(client: httpx.AsyncClient, auth: dict[str, str], size: int) -> str:
    answer = checked(
        await client.post(
            "/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            json={"snippet": {"title": "a clip"}, "status": {"privacyStatus": "public"}},
            headers={
                **auth,
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": "video/mp4",
            },
        )
    )
    assert answer.status_code == 200
    return answer.headers["location"]


async def test_a_resumable_upload_answers_308_with_the_range_until_complete() -> None:
    fake = FakeYouTube()
    access, _ = fake.tokens()
    auth = {"Authorization": f"Bearer {access}"}
    size = 256 * KiB + 10
    data = bytes(size)
    async with fake.client(base_url=fake.base_url) as client:
        uri = await start(client, auth, size)
        status = checked(
            await client.put(uri, headers={**auth, "Content-Range": f"bytes */{size}"})
        )
        assert status.status_code == 308
        assert "range" not in status.headers  # nothing held yet
        odd = checked(
            await client.put(
                uri,
                content=data[:1000],
                headers={**auth, **MP4, "Content-Range": f"bytes 0-999/{size}"},
            )
        )
        assert odd.status_code == 400  # a chunk that is not the last: 256 KiB multiples
        first = checked(
            await client.put(
                uri,
                content=data[: 256 * KiB],
                headers={**auth, **MP4, "Content-Range": f"bytes 0-{256 * KiB - 1}/{size}"},
            )
        )
        assert first.status_code == 308
        assert first.headers["range"] == f"bytes=0-{256 * KiB - 1}"
        last = checked(
            await client.put(
                uri,
                content=data[256 * KiB :],
                headers={**auth, **MP4, "Content-Range": f"bytes {256 * KiB}-{size - 1}/{size}"},
            )
        )
        assert last.status_code == 201
        video = last.json()
        assert video["status"]["uploadStatus"] == "uploaded"
        again = checked(await client.put(uri, headers={**auth, "Content-Range": f"bytes */{size}"}))
        assert again.status_code == 200
        assert again.json()["id"] == video["id"]
        listed = checked(
            await client.get(
                "/youtube/v3/videos",
                params={"part": "status,processingDetails", "id": video["id"]},
                headers=auth,
            )
        )
        assert listed.json()["items"][0]["processingDetails"]["processingStatus"] == "processing"
        done = checked(
            await client.get(
                "/youtube/v3/videos", params={"part": "status", "id": video["id"]}, headers=auth
            )
        )
        assert done.json()["items"][0]["status"]["uploadStatus"] == "processed"


async def test_quota_exceeded_in_googles_error_body() -> None:
    fake = FakeYouTube(daily_quota=50)
    access, _ = fake.tokens()
    auth = {"Authorization": f"Bearer {access}"}
    video = fake.publish_as(fake.owner, "mine")
    async with fake.client(base_url=fake.base_url) as client:
        ok = checked(
            await client.post(
                "/youtube/v3/videos/rate", params={"id": video, "rating": "like"}, headers=auth
            )
        )
        assert ok.status_code == 204
        refused = checked(
            await client.get("/youtube/v3/videos", params={"part": "id", "id": video}, headers=auth)
        )
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == 403
    assert error["errors"][0]["reason"] == "quotaExceeded"
    assert error["errors"][0]["domain"] == "youtube.quota"
    assert fake.used("units") == 50


async def test_an_unknown_token_is_a_401_and_refresh_gives_a_new_one() -> None:
    fake = FakeYouTube()
    _, refresh = fake.tokens()
    async with fake.client(base_url=fake.base_url) as client:
        denied = await client.get("/youtube/v3/channels", params={"part": "id", "mine": "true"})
        assert denied.status_code == 401
        assert denied.json()["error"]["errors"][0]["reason"] == "authError"
        form = {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh,
        }
        token = await client.post("/token", data=form)
        assert token.status_code == 200
        assert "refresh_token" not in token.json()  # Google does not rotate them
        assert (
            await client.post("/token", data={**form, "refresh_token": "1//nope"})
        ).status_code == 400
