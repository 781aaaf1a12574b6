"""FakeTikTok on its own: token rotation, the chunk rules and upload order, the status
stages, limits and the error envelope (shapes of the reference pages named in
socialkit.testing.fakes.tiktok)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from socialkit.testing.fakes import FakeTikTok

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _post(client: httpx.AsyncClient, token: str, path: str, body: Any) -> httpx.Response:
    return await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


async def test_refresh_tokens_rotate_and_a_used_one_is_refused() -> None:
    fake = FakeTikTok()
    _, refresh = fake.tokens()
    form = {
        "client_key": fake.client_key,
        "client_secret": fake.client_secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh,
    }
    async with fake.client(base_url=fake.base_url) as client:
        first = await client.post("/v2/oauth/token/", data=form)
        again = await client.post("/v2/oauth/token/", data=form)
        wrong = await client.post("/v2/oauth/token/", data={**form, "client_secret": "no"})
    body = first.json()
    assert body["refresh_token"] != refresh
    assert body["refresh_expires_in"] > 364 * 86400
    assert body["open_id"] == fake.owner.id
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert wrong.status_code == 401


async def test_chunk_rules_and_order() -> None:
    fake = FakeTikTok()
    access, _ = fake.tokens()
    path = "/v2/post/publish/video/init/"
    info = {"privacy_level": "SELF_ONLY", "title": "t"}
    async with fake.client(base_url=fake.base_url) as client:
        bad = await _post(
            client,
            access,
            path,
            {
                "post_info": info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": 12 * MiB,
                    "chunk_size": 4 * MiB,
                    "total_chunk_count": 3,
                },
            },
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "invalid_params"
        good = await _post(
            client,
            access,
            path,
            {
                "post_info": info,
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": 11 * MiB,
                    "chunk_size": 5 * MiB,
                    "total_chunk_count": 2,
                },
            },
        )
        data = good.json()["data"]
        url = data["upload_url"]
        total = 11 * MiB
        out_of_order = await client.put(
            url,
            content=bytes(6 * MiB),
            headers={"Content-Range": f"bytes {5 * MiB}-{total - 1}/{total}"},
        )
        assert out_of_order.status_code == 416
        status = await _post(client, access, "/v2/post/publish/status/fetch/", data)
        assert status.json()["data"]["status"] == "PROCESSING_UPLOAD"
        first = await client.put(
            url, content=bytes(5 * MiB), headers={"Content-Range": f"bytes 0-{5 * MiB - 1}/{total}"}
        )
        last = await client.put(
            url,
            content=bytes(6 * MiB),
            headers={"Content-Range": f"bytes {5 * MiB}-{total - 1}/{total}"},
        )
        assert (first.status_code, last.status_code) == (206, 201)
        stages = []
        for _ in range(2):
            answer = await _post(client, access, "/v2/post/publish/status/fetch/", data)
            stages.append(answer.json()["data"]["status"])
    assert stages == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
    assert len(fake.videos) == 1


async def test_limits_and_the_envelope() -> None:
    fake = FakeTikTok(limits={"/v2/user/info/": 1})
    access, _ = fake.tokens()
    async with fake.client(base_url=fake.base_url) as client:
        headers = {"Authorization": f"Bearer {access}"}
        ok = await client.get("/v2/user/info/?fields=open_id", headers=headers)
        limited = await client.get("/v2/user/info/?fields=open_id", headers=headers)
        anonymous = await client.get("/v2/user/info/?fields=open_id")
    assert ok.json()["error"]["code"] == "ok"
    assert ok.json()["data"] == {"user": {"open_id": fake.owner.id}}
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "access_token_invalid"
    assert anonymous.json()["error"]["log_id"]
