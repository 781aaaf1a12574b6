"""FakeFacebook, FakeInstagram and FakeThreads on the wire: what the Graph server answers to
raw HTTP, as Meta documents it (the Graph API's error object, ``fields=`` field expansion,
cursor paging, batch requests, usage headers, container states, signed webhooks). Requests
sent here are checked against Meta's descriptions too (tests/_validation/graph.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.adapters.meta.meta_support import recording_client, violations

from socialkit.testing.fakes import FakeFacebook, FakeInstagram, FakeThreads
from socialkit.testing.fakes._graph import GraphFake

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Wire:
    def __init__(self, fake: GraphFake) -> None:
        self.fake = fake
        self.client, self.recorder = recording_client(fake)
        self.auth = {"authorization": f"Bearer {fake.owner_token}"}

    def url(self, path: str) -> str:
        return f"{self.fake.base_url}/{self.fake.version}{path}"

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(self.url(path), params=params, headers=self.auth)

    async def post(self, path: str, **data: Any) -> httpx.Response:
        return await self.client.post(self.url(path), json=data, headers=self.auth)

    async def close(self, *, check: bool = True) -> None:
        await self.client.aclose()
        if check:
            found = violations(self.fake, self.recorder)
            assert not found, found


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    error: dict[str, Any] = body["error"]
    assert set(error) >= {"message", "type", "code", "fbtrace_id"}
    return error


async def test_fields_are_projected_and_unknown_fields_refused() -> None:
    wire = Wire(FakeFacebook())
    post = wire.fake.publish_as(wire.fake.owner, "hello")
    answer = await wire.get(f"/{post}", fields="id,message")
    assert answer.json() == {"id": post, "message": "hello"}
    refused = await wire.get(f"/{post}", fields="id,no_such_field")
    assert refused.status_code == 400
    error = error_of(refused)
    assert error["code"] == 100
    assert "nonexisting field (no_such_field) on node type (PagePost)" in error["message"]
    await wire.close(check=False)  # the refused field is refused by the validator too


async def test_cursor_paging_and_time_filters() -> None:
    wire = Wire(FakeThreads())
    fake = wire.fake
    ids = []
    for index in range(5):
        fake.clock.advance(minutes=1)
        ids.append(fake.publish_as(fake.owner, f"post {index}"))
    ids.reverse()
    first = (await wire.get("/me/threads", fields="id,text", limit=2)).json()
    assert [p["id"] for p in first["data"]] == ids[:2]
    assert first["paging"]["next"]
    second = (
        await wire.get(
            "/me/threads", fields="id", limit=2, after=first["paging"]["cursors"]["after"]
        )
    ).json()
    assert [p["id"] for p in second["data"]] == ids[2:4]
    last = (
        await wire.get(
            "/me/threads", fields="id", limit=2, after=second["paging"]["cursors"]["after"]
        )
    ).json()
    assert [p["id"] for p in last["data"]] == ids[4:]
    assert "next" not in last["paging"]
    newest = fake.objects[ids[0]].created
    window = (await wire.get("/me/threads", fields="id", since=int(newest.timestamp()))).json()
    assert [p["id"] for p in window["data"]] == ids[:1]
    await wire.close()


async def test_batch_requests_answer_each_call_and_hold_50_at_most() -> None:
    wire = Wire(FakeFacebook())
    post = wire.fake.publish_as(wire.fake.owner, "x")
    calls = [
        {"method": "GET", "relative_url": f"{post}?fields=id,message"},
        {"method": "GET", "relative_url": "999?fields=id"},
    ]
    answer = await wire.client.post(
        wire.url("/"), data={"batch": json.dumps(calls)}, headers=wire.auth
    )
    items = answer.json()
    assert [i["code"] for i in items] == [200, 400]
    assert json.loads(items[0]["body"]) == {"id": post, "message": "x"}
    assert json.loads(items[1]["body"])["error"]["error_subcode"] == 33
    too_many = [{"method": "GET", "relative_url": f"{post}?fields=id"}] * 51
    refused = await wire.client.post(
        wire.url("/"), data={"batch": json.dumps(too_many)}, headers=wire.auth
    )
    assert refused.status_code == 400
    assert "Maximum batch size is 50" in error_of(refused)["message"]
    await wire.close(check=False)  # the unknown id "999" is on purpose


async def test_tokens_proofs_and_usage_headers() -> None:
    fake = FakeFacebook(require_proof=True, usage_limit=10)
    wire = Wire(fake)
    no_token = await wire.client.get(wire.url(f"/{fake.owner.id}"))
    assert error_of(no_token)["code"] == 190
    no_proof = await wire.get(f"/{fake.owner.id}", fields="id")
    assert "appsecret_proof" in error_of(no_proof)["message"]
    import hashlib
    import hmac

    proof = hmac.new(
        fake.app_secret.encode(), fake.owner_token.encode(), hashlib.sha256
    ).hexdigest()
    answer = await wire.get(f"/{fake.owner.id}", fields="id", appsecret_proof=proof)
    assert answer.status_code == 200
    usage = json.loads(answer.headers["x-app-usage"])
    assert set(usage) == {"call_count", "total_cputime", "total_time"}
    assert usage["call_count"] == 10  # 1 of 10 calls: refused tokens and proofs count nothing
    fake.set_usage(100, regain_minutes=5)
    limited = await wire.get(f"/{fake.owner.id}", fields="id", appsecret_proof=proof)
    assert error_of(limited)["code"] == 80001
    business = json.loads(limited.headers["x-business-use-case-usage"])
    [entry] = business[fake.owner.id]
    assert entry["estimated_time_to_regain_access"] == 5
    await wire.close(check=False)


async def test_instagram_containers_move_through_their_states() -> None:
    wire = Wire(FakeInstagram(processing_polls=2))
    fake = wire.fake
    owner = fake.owner.id
    made = (
        await wire.post(f"/{owner}/media", image_url="https://media.example/a.jpg", caption="hi")
    ).json()
    too_soon = await wire.post(f"/{owner}/media_publish", creation_id=made["id"])
    assert error_of(too_soon)["error_subcode"] == 2207027
    states = [
        (await wire.get(f"/{made['id']}", fields="status_code")).json()["status_code"]
        for _ in range(3)
    ]
    assert states == ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    published = (await wire.post(f"/{owner}/media_publish", creation_id=made["id"])).json()
    assert fake.objects[published["id"]].type == "IGMedia"
    assert (await wire.get(f"/{made['id']}", fields="status_code")).json()[
        "status_code"
    ] == "PUBLISHED"
    again = await wire.post(f"/{owner}/media_publish", creation_id=made["id"])
    assert again.status_code == 400, "a container publishes once"
    fake.fail_next_container = "EXPIRED"
    expired = (await wire.post(f"/{owner}/media", image_url="https://media.example/b.jpg")).json()
    await wire.get(f"/{expired['id']}", fields="status_code")
    await wire.get(f"/{expired['id']}", fields="status_code")
    assert (await wire.get(f"/{expired['id']}", fields="status_code")).json()[
        "status_code"
    ] == "EXPIRED"
    await wire.close(check=False)  # the early publish is refused on purpose


async def test_threads_token_in_the_query_and_publishing() -> None:
    fake = FakeThreads()
    wire = Wire(fake)
    wire.auth = {}
    made = await wire.client.post(
        wire.url("/me/threads"),
        params={"access_token": fake.owner_token},
        json={"media_type": "TEXT", "text": "hi"},
    )
    container = made.json()["id"]
    posted = await wire.client.post(
        wire.url("/me/threads_publish"),
        params={"access_token": fake.owner_token},
        json={"creation_id": container},
    )
    post_id = posted.json()["id"]
    read = await wire.client.get(
        wire.url(f"/{post_id}"),
        params={"access_token": fake.owner_token, "fields": "id,text,username"},
    )
    assert read.json() == {"id": post_id, "text": "hi", "username": fake.owner.handle}
    await wire.close()


def test_follow_and_has() -> None:
    fake = FakeThreads()
    fan = fake.add_user("fan")
    fake.follow(fan, fake.owner)
    assert fake.owner.followers == 1
    assert fake.has("follow", fan.id, fake.owner.id)
    with pytest.raises(ValueError, match="unknown relation"):
        fake.has("adore", fan.id, fake.owner.id)


def test_webhook_deliveries_are_signed_as_meta_does() -> None:
    import hashlib
    import hmac

    fake = FakeFacebook(app_secret="s3cret")
    post = fake.publish_as(fake.owner, "ours")
    fake.reply(post, fake.add_user("fan"), "hello")
    [(body, headers)] = fake.deliveries
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == expected
    change = json.loads(body)["entry"][0]["changes"][0]
    assert change["field"] == "feed"
    assert change["value"]["item"] == "comment"
    assert change["value"]["post_id"] == post


async def test_the_code_exchange_checks_the_redirect_the_verifier_and_spends_the_code() -> None:
    """Facebook Login's code exchange ("Manually build a login flow": client_id,
    redirect_uri, client_secret, code) with PKCE's code_verifier (RFC 7636, S256)."""
    import base64
    import hashlib

    fake = FakeFacebook()
    wire = Wire(fake)
    verifier = "v" * 43
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    redirect = "http://127.0.0.1:8765/callback"
    query = httpx.QueryParams(
        client_id=fake.app_id,
        redirect_uri=redirect,
        response_type="code",
        state="s1",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    back = httpx.URL(fake.approve(f"https://www.facebook.com/v25.0/dialog/oauth?{query}"))
    assert back.params["state"] == "s1"
    form = {
        "grant_type": "authorization_code",
        "client_id": fake.app_id,
        "client_secret": fake.app_secret,
        "redirect_uri": redirect,
        "code": back.params["code"],
    }
    token_url = wire.url("/oauth/access_token")
    wrong = await wire.client.post(token_url, data={**form, "code_verifier": "w" * 43})
    assert error_of(wrong)["code"] == 100
    back = httpx.URL(fake.approve(f"https://www.facebook.com/v25.0/dialog/oauth?{query}"))
    form["code"] = back.params["code"]
    answer = await wire.client.post(token_url, data={**form, "code_verifier": verifier})
    token = answer.json()["access_token"]
    assert fake.tokens[token] == fake.admin.id  # the Page's admin approved
    again = await wire.client.post(token_url, data={**form, "code_verifier": verifier})
    assert error_of(again)["code"] == 100  # a code is spent once
    secret = await wire.client.post(token_url, data={**form, "client_secret": "nope"})
    assert error_of(secret)["code"] == 101
    await wire.close()
