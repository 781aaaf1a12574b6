"""FakePinterest on its own: the token endpoint (HTTP Basic, rotation), the media states, pin
creation rules, bookmarks, the analytics window, rate-limit headers and ``{code, message}``
errors. Every request here and every answer of the fake (except the S3-style upload, outside
the description) is validated against ``../shared/specs/pinterest/openapi.json``."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.adapters.pinterest.pinterest_support import Traffic

from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakePinterest

pytestmark = [pytest.mark.anyio, pytest.mark.spec]


@pytest.fixture
def fake() -> FakePinterest:
    return FakePinterest()


@pytest.fixture
async def api(fake: FakePinterest) -> AsyncIterator[httpx.AsyncClient]:
    traffic = Traffic()
    access, _ = fake.tokens()
    async with fake.client(
        base_url=fake.base_url + "/", headers={"Authorization": f"Bearer {access}"}
    ) as client:
        traffic.attach(client)
        yield client
    traffic.verify()


def _basic(fake: FakePinterest, secret: str | None = None) -> dict[str, str]:
    pair = f"{fake.client_id}:{secret or fake.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


async def test_refresh_tokens_rotate_and_a_used_one_is_refused(fake: FakePinterest) -> None:
    _, refresh = fake.tokens()
    traffic = Traffic()
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    async with fake.client(base_url=fake.base_url + "/") as client:
        traffic.attach(client)
        first = await client.post("oauth/token", data=form, headers=_basic(fake))
        again = await client.post("oauth/token", data=form, headers=_basic(fake))
        wrong = await client.post("oauth/token", data=form, headers=_basic(fake, "nope"))
    traffic.verify()
    body = first.json()
    assert body["refresh_token"] != refresh
    assert body["token_type"] == "bearer"
    assert again.status_code == 400
    assert again.json()["code"] == 1
    assert wrong.status_code == 401


async def test_video_media_states(api: httpx.AsyncClient, fake: FakePinterest) -> None:
    fake.processing_polls = 2
    registered = (await api.post("media", json={"media_type": "video"})).json()
    media_id = registered["media_id"]
    before = (await api.get(f"media/{media_id}")).json()["status"]
    early = await api.post(
        "pins",
        json={
            "board_id": fake.board_id,
            "media_source": {"source_type": "video_id", "media_id": media_id},
        },
    )
    fields = {**registered["upload_parameters"]}
    async with fake.client() as s3:
        uploaded = await s3.post(
            registered["upload_url"], data=fields, files={"file": ("v", c.MP4_HEAD, "video/mp4")}
        )
    states = [(await api.get(f"media/{media_id}")).json()["status"] for _ in range(4)]
    assert before == "registered"
    assert early.status_code == 400
    assert uploaded.status_code == 204
    assert states == ["processing", "processing", "succeeded", "succeeded"]
    assert fake.media[media_id].content == c.MP4_HEAD


async def test_failed_media(api: httpx.AsyncClient, fake: FakePinterest) -> None:
    fake.fail_next_media()
    registered = (await api.post("media", json={"media_type": "video"})).json()
    async with fake.client() as s3:
        await s3.post(
            registered["upload_url"],
            data=registered["upload_parameters"],
            files={"file": ("v", c.MP4_HEAD, "video/mp4")},
        )
    path = f"media/{registered['media_id']}"
    states = [(await api.get(path)).json()["status"] for _ in range(3)]
    assert states == ["processing", "failed", "failed"]


async def test_pin_rules(api: httpx.AsyncClient, fake: FakePinterest) -> None:
    image = {"source_type": "image_url", "url": "https://example.com/a.jpg"}
    ok = await api.post("pins", json={"board_id": fake.board_id, "media_source": image})
    no_board = await api.post("pins", json={"board_id": "123", "media_source": image})
    # A request the description refuses (the fake must too): sent unrecorded.
    async with fake.client(base_url=str(api.base_url), headers=dict(api.headers)) as raw:
        long_title = await raw.post(
            "pins", json={"board_id": fake.board_id, "media_source": image, "title": "t" * 101}
        )
    gif = {
        "source_type": "image_base64",
        "content_type": "image/png",
        "data": base64.b64encode(c.GIF_1X1).decode(),
    }
    not_png = await api.post("pins", json={"board_id": fake.board_id, "media_source": gif})
    missing = await api.get("pins/999")
    assert ok.status_code == 201
    assert ok.json()["media"]["media_type"] == "image"
    assert (no_board.status_code, no_board.json()["code"]) == (404, 40)
    assert long_title.status_code == 400
    assert not_png.status_code == 400
    assert (missing.status_code, missing.json()["code"]) == (404, 50)


async def test_bookmarks_never_shift(api: httpx.AsyncClient, fake: FakePinterest) -> None:
    ids = [fake.publish_as(fake.owner, f"pin {i}") for i in range(5)][::-1]
    first = (await api.get("pins", params={"page_size": 2})).json()
    fake.publish_as(fake.owner, "newer")
    second = (await api.get("pins", params={"page_size": 2, "bookmark": first["bookmark"]})).json()
    bad = await api.get("pins", params={"bookmark": "bm90LWEtcGlu"})
    assert [p["id"] for p in first["items"] + second["items"]] == ids[:4]
    assert bad.status_code == 400


async def test_analytics_window(api: httpx.AsyncClient, fake: FakePinterest) -> None:
    pin_id = fake.publish_as(fake.owner, "counted")
    fake.engage(pin_id, impressions=5, saves=1)
    today = fake.clock.now().date()
    query: dict[str, Any] = {
        "start_date": (today - timedelta(days=3)).isoformat(),
        "end_date": today.isoformat(),
        "metric_types": "IMPRESSION,SAVE,VIDEO_MRC_VIEW",
    }
    ok = (await api.get(f"pins/{pin_id}/analytics", params=query)).json()
    old = await api.get(
        f"pins/{pin_id}/analytics",
        params={**query, "start_date": (today - timedelta(days=91)).isoformat()},
    )
    assert ok["all"]["summary_metrics"] == {"IMPRESSION": 5, "SAVE": 1}
    assert len(ok["all"]["daily_metrics"]) == 4
    assert (old.status_code, old.json()["code"]) == (400, 1)


async def test_rate_limit_headers_and_429() -> None:
    fake = FakePinterest(limits={"org_read": 2})
    access, _ = fake.tokens()
    async with fake.client(
        base_url=fake.base_url + "/", headers={"Authorization": f"Bearer {access}"}
    ) as client:
        answers = [await client.get("user_account") for _ in range(3)]
        other = await client.get(
            "user_account/analytics",
            params={"start_date": "2026-01-01", "end_date": "2026-01-01"},
        )
        anonymous = await client.get("user_account", headers={"Authorization": ""})
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-limit"] == "2"
    assert answers[0].headers["x-ratelimit-remaining"] == "1"
    assert answers[2].json()["code"] == 8
    assert int(answers[2].headers["x-ratelimit-reset"]) <= 60
    assert other.status_code in (200, 400)  # org_analytics is another category
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, 2)
