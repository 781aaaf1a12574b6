"""The real Bluesky adapter against FakeBluesky, with every exchange checked against the lexicons.

Every request the adapter sends and every answer of the fake is validated with
``LexiconChecker`` against the official lexicons (bluesky-social/atproto ``lexicons/``, read in
place from ../shared/specs/bluesky/lexicons) when each test ends: request method, query
parameters and JSON input (the post records inside createRecord included), the output schema of
2xx answers and the XRPC error shape ``{"error", "message"}`` of the others. Requests a test sends
on purpose with bad input are checked on their answer only.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from tests._specs import specs_dir
from tests._validation.lexicon import LexiconChecker, is_valid_format

from socialkit import (
    AuthError,
    Media,
    NotFoundError,
    Post,
    RateLimitError,
    UnsupportedError,
)
from socialkit._registry import connect
from socialkit.adapters.bluesky import BlueskyAdapter
from socialkit.testing.conformance import PNG_1X1
from socialkit.testing.fakes import FakeBluesky
from socialkit.testing.fakes.bluesky import CHAT_PROXY

pytestmark = pytest.mark.spec


class Traffic:
    """Records exchanges and collects their lexicon violations."""

    def __init__(self, checker: LexiconChecker) -> None:
        self.checker = checker
        self.problems: list[str] = []
        self.sent: list[tuple[httpx.Request, httpx.Response]] = []
        self.answer_only = False  # set while a test sends deliberately bad requests

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.sent.append((request, response))
        if "/xrpc/" not in request.url.path:
            assert request.url.path.startswith("/img/"), request.url.path  # the image CDN
            return
        found = [] if self.answer_only else self.checker.request_violations(request)
        found += self.checker.response_violations(request, response)
        self.problems += [f"{request.method} {request.url.path}: {p}" for p in found]

    def calls(self, nsid: str) -> list[httpx.Request]:
        return [r for r, _ in self.sent if r.url.path == f"/xrpc/{nsid}"]

    def answers(self, nsid: str) -> list[httpx.Response]:
        return [a for r, a in self.sent if r.url.path == f"/xrpc/{nsid}"]


@pytest.fixture(scope="module")
def checker() -> LexiconChecker:
    return LexiconChecker([specs_dir("bluesky", "lexicons")])


@pytest.fixture
def traffic(checker: LexiconChecker) -> Iterator[Traffic]:
    recorded = Traffic(checker)
    yield recorded
    assert not recorded.problems, "\n".join(recorded.problems)
    assert recorded.sent, "the test sent nothing"


def adapter(fake: FakeBluesky, traffic: Traffic, **overrides: Any) -> BlueskyAdapter:
    """The real adapter on the fake (as ``fake.connect()``), its traffic recorded."""
    http = fake.client(event_hooks={"response": [traffic.on_response]})
    settings = {**fake.settings(), "retry_wait": False, **overrides}
    made = connect("bluesky", http=http, **settings)
    assert isinstance(made, BlueskyAdapter)
    return made


def raw(fake: FakeBluesky, traffic: Traffic) -> httpx.AsyncClient:
    return fake.client(base_url=fake.base_url, event_hooks={"response": [traffic.on_response]})


async def login(http: httpx.AsyncClient, fake: FakeBluesky) -> dict[str, str]:
    settings = fake.settings()
    answer = await http.post(
        "/xrpc/com.atproto.server.createSession",
        json={
            "identifier": settings["identifier"],
            "password": settings["password"].get_secret_value(),
        },
    )
    assert answer.status_code == 200
    return {"Authorization": f"Bearer {answer.json()['accessJwt']}"}


@pytest.fixture
def fake() -> FakeBluesky:
    return FakeBluesky(seed=1)


# -- identities and sessions ------------------------------------------------------------------


def test_users_have_dids_and_handles(fake: FakeBluesky) -> None:
    fan = fake.add_user("Fan_Club")
    assert is_valid_format("did", fan.id)
    assert fan.id.startswith("did:plc:")
    assert is_valid_format("handle", fan.handle)
    assert fan.handle == "fan-club.bsky.test"
    assert fake.owner.handle == "owner.bsky.test"
    assert fake.user(fan.handle) is fan
    with pytest.raises(ValueError):
        fake.add_user("fan-club")  # the same handle once completed
    assert repr(fake.settings()["password"]) == "SecretStr('**********')"


@pytest.mark.anyio
async def test_me_logs_in_once_and_jwts_carry_exp(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic) as net:
        me = await net.me()
        assert (me.id, me.handle) == (fake.owner.id, fake.owner.handle)
    async with adapter(fake, traffic) as again:  # the session is reused from the fake's store
        assert (await again.me()).id == fake.owner.id
    assert fake.logins == 1
    session = traffic.answers("com.atproto.server.createSession")[0].json()
    payload = session["accessJwt"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == fake.owner.id
    assert 60 < claims["exp"] - time.time() <= fake.token_lifetime
    assert session["didDoc"]["service"][0]["serviceEndpoint"] == fake.base_url


@pytest.mark.anyio
async def test_wrong_password_is_an_auth_error(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic, password=SecretStr("wrong-pass-word")) as net:
        with pytest.raises(AuthError):
            await net.me()
    answer = traffic.answers("com.atproto.server.createSession")[0]
    assert answer.status_code == 401
    assert answer.json()["error"] == "AuthenticationRequired"


@pytest.mark.anyio
async def test_expired_access_token_is_refreshed(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic) as net:
        await net.me()
        fake.expire_sessions()
        assert (await net.me()).id == fake.owner.id
    assert (fake.logins, fake.refreshes) == (1, 1)
    expired = [a for a in traffic.answers("app.bsky.actor.getProfile") if a.status_code != 200]
    assert [(a.status_code, a.json()["error"]) for a in expired] == [(400, "ExpiredToken")]


@pytest.mark.anyio
async def test_token_errors_have_the_xrpc_shape(fake: FakeBluesky, traffic: Traffic) -> None:
    traffic.answer_only = True
    async with raw(fake, traffic) as http:
        missing = await http.get("/xrpc/com.atproto.server.getSession")
        forged = await http.get(
            "/xrpc/com.atproto.server.getSession", headers={"Authorization": "Bearer a.b.c"}
        )
        headers = await login(http, fake)
        refresh = await http.post("/xrpc/com.atproto.server.refreshSession", headers=headers)
    assert (missing.status_code, missing.json()["error"]) == (401, "AuthMissing")
    assert (forged.status_code, forged.json()["error"]) == (400, "InvalidToken")
    assert (refresh.status_code, refresh.json()["error"]) == (400, "InvalidToken")


# -- publishing and reading ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_publish_reads_back(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="hello @fan.bsky.test, see https://example.com"))
        assert posted.id is not None
        assert posted.id.startswith(f"at://{fake.owner.id}/")
        got = await net.get_post(posted.id)
        assert got.text == posted.text
        assert got.author is not None
        assert got.author.handle == fake.owner.handle
        assert [p.id async for p in net.posts()] == [posted.id]
    stored = fake.record(posted.id)
    features = [f["features"][0] for f in stored["facets"]]
    assert {"$type": "app.bsky.richtext.facet#mention", "did": fan.id} in features
    assert any(f.get("uri") == "https://example.com" for f in features)
    assert len(traffic.calls("com.atproto.identity.resolveHandle")) == 1


@pytest.mark.anyio
async def test_image_with_alt_is_usable_at_once(fake: FakeBluesky, traffic: Traffic) -> None:
    # Bluesky documents no processing states for images: the blob is usable as soon as
    # uploadBlob answers, and the AppView's image view links the CDN copies.
    image = Media(kind="image", data=PNG_1X1, mime_type="image/png", alt="one red dot")
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="a picture", media=[image]))
        assert posted.id is not None
        view = (await net.get_post(posted.id)).raw
    blob = traffic.answers("com.atproto.repo.uploadBlob")[0].json()["blob"]
    assert blob["mimeType"] == "image/png"
    assert blob["size"] == len(PNG_1X1)
    assert blob["ref"]["$link"].startswith("bafkrei")
    embed = view.embed
    assert embed["$type"] == "app.bsky.embed.images#view"
    assert embed["images"][0]["alt"] == "one red dot"
    async with raw(fake, traffic) as http:
        served = await http.get(embed["images"][0]["fullsize"])
    assert served.status_code == 200
    assert served.content == PNG_1X1


@pytest.mark.anyio
async def test_thread_reply_and_quote(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "a post of the fan")
    async with adapter(fake, traffic) as net:
        first = await net.publish(Post(text="one", thread=[Post(text="two"), Post(text="three")]))
        ids = [first.id, *[p.id for p in first.thread]]
        assert len(ids) == 3
        third = await net.get_post(str(ids[2]))
        assert third.reply_to == ids[1]
        root = fake.record(str(ids[2]))["reply"]["root"]["uri"]
        assert root == ids[0]
        answer = await net.publish(Post(text="answering you", reply_to=theirs))
        quote = await net.publish(Post(text="look at this", quote_of=theirs))
        assert (await net.get_post(str(quote.id))).quote_of == theirs
        assert answer.reply_to == theirs
        counts = {m.name: m.value for m in (await net.metrics([theirs]))[theirs]}
        assert (counts["replies"], counts["quotes"]) == (1, 1)
        feed = [p async for p in net.posts()]  # reply refs and embed views in the feed
        assert [p.id for p in feed] == [quote.id, answer.id, *ids[::-1]]
        assert feed[1].reply_to == theirs
    # the fan is notified of both (the real adapter signed in as the fan)
    async with adapter(fake, traffic, **fake.settings(fan)) as as_fan:
        kinds = sorted([m.kind async for m in as_fan.messages(kinds={"reply", "quote"})])
    assert kinds == ["quote", "reply"]


@pytest.mark.anyio
async def test_delete(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="short-lived"))
        assert posted.id is not None
        await net.delete(posted.id)
        with pytest.raises(NotFoundError):
            await net.get_post(posted.id)
        await net.delete(posted.id)  # deleting what is gone succeeds, as on the PDS
        assert [p async for p in net.posts()] == []
    first, second = traffic.answers("com.atproto.repo.deleteRecord")
    assert "commit" in first.json()
    assert second.json() == {}


@pytest.mark.anyio
async def test_author_feed_pagination(fake: FakeBluesky, traffic: Traffic) -> None:
    texts = [f"post {i}" for i in range(130)]
    for text in texts:
        fake.publish_as(fake.owner, text)
    fan = fake.add_user("fan")
    fake.repost(fake.publish_as(fan, "a fan post"), fake.owner)  # a repost: left out
    async with adapter(fake, traffic) as net:
        seen = [p.text async for p in net.posts()]
        assert seen == texts[::-1]
        assert [p.text async for p in net.posts(limit=5)] == texts[:-6:-1]
    calls = traffic.calls("app.bsky.feed.getAuthorFeed")
    assert len(calls) >= 3  # 100, then 31 (30 posts and the repost), then the end
    assert "cursor" not in calls[0].url.params
    assert calls[1].url.params["cursor"]
    feeds = [a.json()["feed"] for a in traffic.answers("app.bsky.feed.getAuthorFeed")]
    assert [len(f) for f in feeds[:2]] == [100, 31]
    assert sum(1 for f in feeds[:2] for item in f if "reason" in item) == 1


@pytest.mark.anyio
async def test_without_appview_posts_come_from_list_records(traffic: Traffic) -> None:
    fake = FakeBluesky(appview=False)
    async with adapter(fake, traffic) as net:
        for i in range(3):
            await net.publish(Post(text=f"record {i}"))
        assert (await net.me()).id == fake.owner.id  # getSession instead of getProfile
        assert [p.text async for p in net.posts()] == ["record 2", "record 1", "record 0"]
        with pytest.raises(UnsupportedError):
            await net.account_metrics()
    assert traffic.calls("com.atproto.repo.listRecords")
    answer = traffic.answers("app.bsky.actor.getProfile")[0]
    assert answer.json()["message"].startswith("No service configured")


# -- the audience ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_metrics_move(fake: FakeBluesky, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}", followers=i) for i in range(3)]
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="measure me"))
        pid = str(posted.id)
        before = {m.name: m.value for m in (await net.metrics([pid]))[pid]}
        for fan in fans:
            fake.like(pid, fan)
        fake.like(pid, fans[0])  # once per account
        fake.repost(pid, fans[1])
        fake.reply(pid, fans[2], "nice")
        fake.quote(pid, fans[0], "look")
        fake.bookmark(pid, fans[1])
        after = {m.name: m.value for m in (await net.metrics([pid]))[pid]}
        fake.follow(fans[0])
        followers = {m.name: m.value for m in await net.account_metrics()}["followers"]
    assert before == {"likes": 0, "reposts": 0, "replies": 0, "quotes": 0, "bookmarks": 0}
    assert after == {"likes": 3, "reposts": 1, "replies": 1, "quotes": 1, "bookmarks": 1}
    assert followers == 1


@pytest.mark.anyio
async def test_messages_arrive_and_replies_go_back(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="talk to me"))
        start = fake.clock.now()
        fake.clock.advance(days=1)
        fake.mention(fan, "@owner are you there?")
        fake.reply(str(posted.id), fan, "a reply")
        fake.quote(str(posted.id), fan, "a quote")
        fake.like(str(posted.id), fan)  # a like is no message
        fake.direct(fan, "a direct message")
        messages = [m async for m in net.messages()]
        assert [m.kind for m in messages] == ["direct", "quote", "reply", "mention"]
        assert next(m.text for m in messages) == "a direct message"
        assert messages[-1].text == "@owner.bsky.test are you there?"
        assert all(m.created_at >= start + timedelta(days=1) for m in messages)
        assert messages[2].post_id == posted.id
        answer = await net.reply(messages[-1], "yes!")
        await net.reply(messages[0], "hello back")
        only = [m.kind async for m in net.messages(kinds={"direct"})]
    assert only == ["direct"]  # the owner's own message is left out
    assert fake.conversation(fan) == [
        (fan.handle, "a direct message"),
        (fake.owner.handle, "hello back"),
    ]
    reply = fake.record(str(answer.id))["reply"]
    assert reply["parent"]["uri"] == messages[-1].id == reply["root"]["uri"]
    chat = traffic.calls("chat.bsky.convo.sendMessage") + traffic.calls(
        "chat.bsky.convo.listConvos"
    )
    assert chat
    assert all(r.headers["atproto-proxy"] == CHAT_PROXY for r in chat)


@pytest.mark.anyio
async def test_notification_and_conversation_pages(fake: FakeBluesky, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    for i in range(105):
        fake.mention(fans[i % 3], f"mention {i}")
    for i in range(3):
        fake.direct(fans[i], f"dm {i}")
    async with adapter(fake, traffic) as net:
        kinds = [m.kind async for m in net.messages()]
    assert kinds.count("mention") == 105
    assert kinds.count("direct") == 3
    assert kinds[:3] == ["direct"] * 3
    pages = traffic.calls("app.bsky.notification.listNotifications")
    assert len(pages) >= 2
    assert pages[1].url.params["cursor"]


@pytest.mark.anyio
async def test_search(fake: FakeBluesky, traffic: Traffic) -> None:
    rival = fake.add_user("rival")
    fake.publish_as(rival, "Our Widget is the best widget")
    fake.publish_as(fake.owner, "widgets, widgets")
    fake.publish_as(rival, "nothing to see")
    async with adapter(fake, traffic) as net:
        found = [p.text async for p in net.search("widget")]
        theirs = [p.text async for p in net.search(f"widget from:{rival.handle}")]
        phrase = [p.text async for p in net.search('"best widget"')]
    assert found == ["widgets, widgets", "Our Widget is the best widget"]
    assert theirs == ["Our Widget is the best widget"] == phrase


# -- exactly once, errors, limits ------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_second_create_with_the_same_rkey_creates_nothing(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    async with raw(fake, traffic) as http:
        headers = await login(http, fake)
        body = {
            "repo": fake.owner.id,
            "collection": "app.bsky.feed.post",
            "rkey": "3kabcdefghij2",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": "once",
                "createdAt": "2026-01-02T03:04:05.000Z",
            },
        }
        first = await http.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=headers)
        second = await http.post("/xrpc/com.atproto.repo.createRecord", json=body, headers=headers)
    assert first.status_code == 200
    assert first.json()["validationStatus"] == "valid"
    # the reference PDS answers 500 when the record key exists (and writes nothing)
    assert (second.status_code, second.json()["error"]) == (500, "InternalServerError")
    assert len(fake.records(fake.owner)) == 1


class LoseFirstCreate(httpx.AsyncBaseTransport):
    """The first createRecord reaches the fake, but its answer is lost."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.lost and request.url.path.endswith("com.atproto.repo.createRecord"):
            self.lost = True
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.mark.anyio
async def test_lost_answer_publishes_once(fake: FakeBluesky, traffic: Traffic) -> None:
    transport = LoseFirstCreate(httpx.ASGITransport(app=fake.app))
    http = httpx.AsyncClient(transport=transport, event_hooks={"response": [traffic.on_response]})
    net = connect("bluesky", http=http, **{**fake.settings(), "retry_wait": False})
    async with net:
        posted = await net.publish(Post(text="exactly once"))
        assert [p.text async for p in net.posts()] == ["exactly once"]
    assert posted.id == fake.records(fake.owner)[0]["uri"]
    retries = traffic.answers("com.atproto.repo.createRecord")
    assert retries
    assert all(a.status_code == 500 for a in retries)


@pytest.mark.anyio
async def test_bad_input_answers(fake: FakeBluesky, traffic: Traffic) -> None:
    traffic.answer_only = True
    async with raw(fake, traffic) as http:
        headers = await login(http, fake)
        long_post = {
            "repo": fake.owner.id,
            "collection": "app.bsky.feed.post",
            "record": {"text": "x" * 301, "createdAt": "2026-01-02T03:04:05.000Z"},
        }
        too_long = await http.post(
            "/xrpc/com.atproto.repo.createRecord", json=long_post, headers=headers
        )
        big_page = await http.get(
            "/xrpc/app.bsky.feed.getAuthorFeed",
            params={"actor": fake.owner.id, "limit": 101},
            headers=headers,
        )
        missing = await http.get(
            "/xrpc/com.atproto.repo.getRecord",
            params={"repo": fake.owner.id, "collection": "app.bsky.feed.post", "rkey": "3kzz"},
        )
        unknown = await http.get(
            "/xrpc/com.atproto.identity.resolveHandle", params={"handle": "nobody.bsky.test"}
        )
        no_proxy = await http.get("/xrpc/chat.bsky.convo.listConvos", headers=headers)
        wrong_convo = await http.get(
            "/xrpc/chat.bsky.convo.getMessages",
            params={"convoId": "nope"},
            headers={**headers, "atproto-proxy": CHAT_PROXY},
        )
    assert (too_long.status_code, too_long.json()["error"]) == (400, "InvalidRequest")
    assert "300 graphemes" in too_long.json()["message"]
    assert (big_page.status_code, big_page.json()["error"]) == (400, "InvalidRequest")
    assert (missing.status_code, missing.json()["error"]) == (400, "RecordNotFound")
    assert (unknown.status_code, unknown.json()["error"]) == (400, "HandleNotFound")
    assert (no_proxy.status_code, no_proxy.json()["error"]) == (501, "MethodNotImplemented")
    assert (wrong_convo.status_code, wrong_convo.json()["error"]) == (400, "InvalidConvo")
    assert fake.records(fake.owner) == []


@pytest.mark.anyio
async def test_rate_limit_headers_and_raise(traffic: Traffic) -> None:
    fake = FakeBluesky(rate_limit=6, rate_window=60)
    async with adapter(fake, traffic, rate_limit="raise") as net:
        for _ in range(5):  # createSession and five getProfile calls: 6 in the window
            try:
                await net.account_metrics()
            except RateLimitError:
                pytest.fail("limited before the limit")
        with pytest.raises(RateLimitError):
            await net.account_metrics()
    answers = [a for _, a in traffic.sent]
    assert len(answers) == 6  # the seventh call was refused by the client, not sent
    first = answers[0]
    assert first.headers["ratelimit-limit"] == "6"
    assert first.headers["ratelimit-policy"] == "6;w=60"
    reset = int(first.headers["ratelimit-reset"])
    assert time.time() < reset <= time.time() + 61  # Unix seconds
    assert [int(a.headers["ratelimit-remaining"]) for a in answers] == [5, 4, 3, 2, 1, 0]
    # beyond the limit: 429 with the network's body (when the client sends at all)
    async with raw(fake, traffic) as http:
        refused = await http.get(
            "/xrpc/com.atproto.identity.resolveHandle", params={"handle": fake.owner.handle}
        )
    assert refused.status_code == 429
    assert refused.json()["error"] == "RateLimitExceeded"
    assert refused.headers["ratelimit-remaining"] == "0"


@pytest.mark.anyio
async def test_rate_limit_wait_succeeds_after_the_window(traffic: Traffic) -> None:
    fake = FakeBluesky(rate_limit=3, rate_window=1)
    started = time.monotonic()
    async with adapter(fake, traffic, rate_limit="wait", retry_wait=True) as net:
        for _ in range(4):
            assert (await net.me()).id == fake.owner.id
    assert time.monotonic() - started >= 0.5  # it waited for a new window
    assert all(a.status_code in (200, 429) for _, a in traffic.sent)


@pytest.mark.anyio
async def test_write_points_bucket(traffic: Traffic) -> None:
    fake = FakeBluesky(write_limit=7, write_window=3600)  # two creates (3 points each) fit
    async with adapter(fake, traffic, rate_limit="raise") as net:
        await net.publish(Post(text="one"))
        await net.publish(Post(text="two"))
        with pytest.raises(RateLimitError):
            await net.publish(Post(text="three"))
    created = traffic.answers("com.atproto.repo.createRecord")
    assert created[1].headers["ratelimit-remaining"] == "1"
    assert created[1].headers["ratelimit-policy"] == "7;w=3600"
    assert len(fake.records(fake.owner)) == 2


def test_serve_on_a_port() -> None:
    import anyio

    fake = FakeBluesky()
    with fake.serve() as url:

        async def run() -> str:
            settings = {**fake.settings(), "service": url, "retry_wait": False}
            async with connect("bluesky", http=httpx.AsyncClient(), **settings) as net:
                posted = await net.publish(Post(text="over a socket"))
                return (await net.get_post(str(posted.id))).text

        assert anyio.run(run) == "over a socket"


@pytest.mark.anyio
async def test_the_documented_example() -> None:
    """docs/fakes/bluesky.md, as written there."""

    async def thank_everyone(net: Any) -> int:
        answered = 0
        async for message in net.messages():
            await net.reply(message, "Thanks!")
            answered += 1
        return answered

    fake = FakeBluesky()
    fan = fake.add_user("fan")
    async with fake.connect() as net:
        posted = await net.publish(Post(text="Launch day!"))
        assert posted.id is not None
        fake.like(posted.id, fan)
        fake.reply(posted.id, fan, "congrats!")
        fake.clock.advance(hours=2)
        fake.direct(fan, "can I get a demo?")

        assert await thank_everyone(net) == 2

        metrics = await net.metrics([posted.id])
        assert {m.name: m.value for m in metrics[posted.id]}["likes"] == 1
    assert fake.conversation(fan)[-1] == ("owner.bsky.test", "Thanks!")


@pytest.mark.anyio
async def test_new_endpoints_answer_errors_as_their_lexicons_declare(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    """putRecord's InvalidSwap, createBookmark's UnsupportedCollection, getListFeed's
    UnknownList and getFeed's UnknownFeed: the error names each lexicon declares."""
    traffic.answer_only = True
    fan = fake.add_user("fan")
    post = fake.publish_as(fake.owner, "a thread root")
    rkey = post.rsplit("/", 1)[1]
    gate = {
        "$type": "app.bsky.feed.threadgate",
        "post": post,
        "hiddenReplies": [],
        "createdAt": "2026-01-02T03:04:05.000Z",
    }
    async with raw(fake, traffic) as http:
        headers = await login(http, fake)

        async def put(record: dict[str, Any], key: str, **extra: Any) -> httpx.Response:
            body = {
                "repo": fake.owner.id,
                "collection": "app.bsky.feed.threadgate",
                "rkey": key,
                "record": record,
                **extra,
            }
            return await http.post("/xrpc/com.atproto.repo.putRecord", json=body, headers=headers)

        created = await put(gate, rkey, swapRecord=None)  # must not exist yet: it does not
        again = await put(gate, rkey, swapRecord=None)  # now it does
        stale = await put(
            gate, rkey, swapRecord="bafyreigq3exe2m23sojzoachuyucow4vu7eyatati4uy6scr4ixt6xwlhi"
        )
        swapped = await put(
            {**gate, "hiddenReplies": [post]}, rkey, swapRecord=created.json()["cid"]
        )
        misplaced = await put(gate, "3kabcdefghij2")
        bookmark_like = await http.post(
            "/xrpc/app.bsky.bookmark.createBookmark",
            json={
                "uri": f"at://{fan.id}/app.bsky.feed.like/3kabcdefghij2",
                "cid": created.json()["cid"],
            },
            headers=headers,
        )
        no_list = await http.get(
            "/xrpc/app.bsky.feed.getListFeed",
            params={"list": f"at://{fan.id}/app.bsky.graph.list/3kabcdefghij2"},
            headers=headers,
        )
        no_feed = await http.get(
            "/xrpc/app.bsky.feed.getFeed",
            params={"feed": f"at://{fan.id}/app.bsky.feed.generator/3kabcdefghij2"},
            headers=headers,
        )
        described = await http.get(
            "/xrpc/com.atproto.repo.describeRepo", params={"repo": fan.handle}
        )
    assert created.status_code == 200
    assert (again.status_code, again.json()["error"]) == (400, "InvalidSwap")
    assert (stale.status_code, stale.json()["error"]) == (400, "InvalidSwap")
    assert swapped.status_code == 200
    assert fake.has("hide", fake.owner.id, post)
    assert (misplaced.status_code, misplaced.json()["error"]) == (400, "InvalidRequest")
    assert bookmark_like.json()["error"] == "UnsupportedCollection"
    assert (no_list.status_code, no_list.json()["error"]) == (400, "UnknownList")
    assert (no_feed.status_code, no_feed.json()["error"]) == (400, "UnknownFeed")
    assert described.json()["did"] == fan.id
    assert len(fake.records(fake.owner, "app.bsky.feed.threadgate")) == 1


def test_has_and_follow_track_the_repository(fake: FakeBluesky) -> None:
    fan = fake.add_user("fan")
    post = fake.publish_as(fake.owner, "hello")
    fake.follow(fan, fake.owner)
    fake.follow(fan, fake.owner)  # once only
    fake.like(post, fan)
    fake.bookmark(post, fan)
    assert fake.has("follow", fan.id, fake.owner.id)
    assert not fake.has("follow", fake.owner.id, fan.id)
    assert fake.has("like", fan.id, post)
    assert fake.has("bookmark", fan.id, post)
    assert not fake.has("repost", fan.id, post)
    assert not fake.has("like", fan.id, "at://did:plc:x/app.bsky.feed.post/3kabcdefghij2")
    assert len(fake.records(fan, "app.bsky.graph.follow")) == 1
    with pytest.raises(ValueError, match="relation"):
        fake.has("poke", fan.id, post)
