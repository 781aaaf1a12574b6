"""FakeMastodon driven by the real MastodonAdapter (``fake.connect()``).

Every test records all the traffic between the adapter and the fake and checks each request and
each response against the official description, ``../shared/specs/mastodon/schema.json``
(``mastodon_support.assert_traffic_conforms``, with ``tests._validation.OpenAPIChecker``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from tests.fakes.mastodon_support import Harness, make_harness

from socialkit import (
    AuthError,
    InvalidPostError,
    Media,
    NotFoundError,
    PermissionError,
    Poll,
    Post,
    RateLimitError,
)
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.conformance import PNG_1X1
from socialkit.testing.fakes import FakeMastodon

pytestmark = [pytest.mark.spec, pytest.mark.anyio]

START = datetime(2025, 5, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    # The adapter caches instance limits per server URL for the process.
    MastodonAdapter.ex_forget_instances()
    yield
    MastodonAdapter.ex_forget_instances()


@pytest.fixture
def h() -> Iterator[Harness]:
    yield from make_harness()


@pytest.fixture
async def net(h: Harness) -> AsyncIterator[MastodonAdapter]:
    async with h.connect() as adapter:
        yield adapter


# -- account and publishing ----------------------------------------------------------------------


async def test_me_and_account_metrics(h: Harness, net: MastodonAdapter) -> None:
    h.fake.owner.followers = 10
    me = await net.me()
    assert me.id == h.fake.owner.id
    assert me.handle == "owner@mastodon.fake"
    assert me.followers == 10
    fan = h.fake.add_user("fan")
    h.fake.follow(fan)
    await net.publish(Post(text="one"))
    metrics = {m.name: m.value for m in await net.account_metrics()}
    assert metrics == {"followers": 11, "following": 0, "posts": 1}
    assert h.fake.notifications_of(h.fake.owner, {"follow"}) == ["follow:"]


async def test_publish_text_reads_back(h: Harness, net: MastodonAdapter) -> None:
    text = "Hello #Fediverse, see https://example.com/a/long/path?x=1 and @fan!"
    h.fake.add_user("fan")
    posted = await net.publish(Post(text=text, language="en"))
    assert posted.id is not None
    assert posted.url == f"https://mastodon.fake/@owner/{posted.id}"
    assert posted.created_at == h.fake.clock.now().replace(microsecond=0)
    fetched = await net.get_post(posted.id)
    # Mastodon renders a local mention as @user; everything else reads back as written.
    assert fetched.text == text
    assert fetched.language == "en"
    assert [p.id async for p in net.posts()] == [posted.id]
    raw = h.fake.status_of(posted.id)
    assert raw["tags"] == [{"name": "fediverse", "url": "https://mastodon.fake/tags/fediverse"}]
    assert [m["acct"] for m in raw["mentions"]] == ["fan"]
    assert 'class="u-url mention"' in raw["content"]
    assert h.fake.notifications_of(h.fake.user("fan")) == [f"mention:{posted.id}"]


async def test_ids_are_snowflakes_of_the_clock() -> None:
    for harness in make_harness(start=START):
        fake = harness.fake
        first = fake.publish_as(fake.owner, "a")
        fake.clock.advance(days=1)
        second = fake.publish_as(fake.owner, "b")
        assert int(first) >> 16 == int(START.timestamp() * 1000)
        assert int(second) >> 16 == int((START + timedelta(days=1)).timestamp() * 1000)
        async with harness.connect() as net:
            post = await net.get_post(second)
        assert post.created_at == START + timedelta(days=1)


async def test_publish_image_goes_through_processing_states(
    h: Harness, net: MastodonAdapter
) -> None:
    """Mastodon: POST /api/v2/media answers 202 (url null), GET /api/v1/media/:id 206 while
    processing, then 200; the status is created only after that."""
    posted = await net.publish(
        Post(text="a pixel", media=[Media.from_bytes(PNG_1X1, alt="One red pixel")])
    )
    assert h.recorder.statuses("POST", "/api/v2/media") == [202]
    media_id = json.loads(
        next(r for q, r in h.recorder.exchanges if q.url.path == "/api/v2/media").content
    )["id"]
    assert h.recorder.statuses("GET", f"/api/v1/media/{media_id}") == [206, 200]
    paths = [q.url.path for q, _ in h.recorder.exchanges]
    assert paths.index("/api/v1/statuses") > paths.index(f"/api/v1/media/{media_id}")
    assert posted.id is not None
    fetched = await net.get_post(posted.id)
    assert [(m.kind, m.alt, m.mime_type) for m in fetched.media] == [
        ("image", "One red pixel", "image/png")
    ]
    media_url = fetched.media[0].url
    assert media_url is not None
    async with h.fake.client() as client:
        assert (await client.get(media_url)).content == PNG_1X1


async def test_unprocessed_media_cannot_be_attached(h: Harness) -> None:
    upload = await h.raw("POST", "/api/v2/media", files={"file": ("p.png", PNG_1X1, "image/png")})
    assert upload.status_code == 202
    assert upload.json()["url"] is None
    refused = await h.raw(
        "POST", "/api/v1/statuses", json={"status": "x", "media_ids": [upload.json()["id"]]}
    )
    assert refused.status_code == 422
    assert "not finished processing" in refused.json()["error"]


async def test_media_ready_at_once_when_configured() -> None:
    for harness in make_harness(media_processing_polls=0):
        async with harness.connect() as net:
            await net.publish(Post(text="now", media=[Media.from_bytes(PNG_1X1, alt="px")]))
        assert harness.recorder.statuses("POST", "/api/v2/media") == [200]
        assert not [q for q, _ in harness.recorder.exchanges if "/api/v1/media/" in q.url.path]


async def test_thread_and_context(h: Harness, net: MastodonAdapter) -> None:
    first = await net.publish(Post(text="1/3", thread=[Post(text="2/3"), Post(text="3/3")]))
    posts = [p async for p in net.posts()]
    assert [p.text for p in posts] == ["3/3", "2/3", "1/3"]
    assert posts[0].reply_to == posts[1].id
    assert posts[1].reply_to == posts[2].id == first.id
    assert first.id is not None
    replies = await net.ex_context(first.id)
    assert [m.text for m in replies] == ["2/3", "3/3"]


async def test_quote_poll_reply_and_content_warning(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    theirs = h.fake.publish_as(fan, "an opinion")
    quote = await net.publish(Post(text="I agree", quote_of=theirs))
    assert quote.quote_of == theirs
    assert quote.id is not None
    assert h.fake.notifications_of(fan) == [f"quote:{quote.id}"]
    assert (await net.metrics([theirs]))[theirs][-1].value == 1  # quotes_count
    poll = await net.publish(
        Post(text="Tea or coffee?", poll=Poll(options=["tea", "coffee"], duration=3600))
    )
    assert poll.id is not None
    h.fake.vote(poll.id, fan, [1])
    raw_poll = h.fake.status_of(poll.id)["poll"]
    assert [o["votes_count"] for o in raw_poll["options"]] == [0, 1]
    answer = await net.publish(Post(text="cw", reply_to=theirs, content_warning="spoilers"))
    fetched = await net.get_post(answer.id or "")
    assert (fetched.reply_to, fetched.content_warning, fetched.sensitive) == (
        theirs,
        "spoilers",
        True,
    )


async def test_edit_and_delete(h: Harness, net: MastodonAdapter) -> None:
    posted = await net.publish(Post(text="tpyo"))
    assert posted.id is not None
    h.fake.clock.advance(minutes=3)
    edited = await net.edit(posted.id, Post(text="typo"))
    assert edited.text == "typo"
    assert h.fake.status_of(posted.id)["edited_at"] is not None
    await net.delete(posted.id)
    with pytest.raises(NotFoundError):
        await net.get_post(posted.id)
    delete_body = json.loads(
        next(r for q, r in h.recorder.exchanges if q.method == "DELETE").content
    )
    assert delete_body["text"] == "typo"  # delete-and-redraft source
    fan = h.fake.add_user("fan")
    theirs = h.fake.publish_as(fan, "mine")
    with pytest.raises(PermissionError):
        await net.delete(theirs)


# -- the audience and metrics -------------------------------------------------------------------


async def test_counts_move_with_the_audience(h: Harness, net: MastodonAdapter) -> None:
    posted = await net.publish(Post(text="count me"))
    assert posted.id is not None
    before = {m.name: m.value for m in (await net.metrics([posted.id]))[posted.id]}
    assert before == {"replies": 0, "reposts": 0, "likes": 0, "quotes": 0}
    fans = [h.fake.add_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        h.fake.like(posted.id, fan)
    h.fake.like(posted.id, fans[0])  # a second favourite by the same account does not count
    h.fake.repost(posted.id, fans[1])
    h.fake.reply(posted.id, fans[2], "great")
    h.fake.quote(posted.id, fans[0], "see this")
    after = {m.name: m.value for m in (await net.metrics([posted.id, "404404"]))[posted.id]}
    assert after == {"replies": 1, "reposts": 1, "likes": 3, "quotes": 1}
    assert (await net.get_post(posted.id)).metrics == after
    kinds = [n.split(":")[0] for n in h.fake.notifications_of(h.fake.owner)]
    assert kinds == ["quote", "mention", "reblog", "favourite", "favourite", "favourite"]


async def test_metrics_batches_over_twenty(h: Harness, net: MastodonAdapter) -> None:
    ids = [h.fake.publish_as(h.fake.owner, f"post {i}") for i in range(25)]
    h.fake.like(ids[-1], h.fake.add_user("fan"))
    found = await net.metrics(ids)
    assert set(found) == set(ids)
    assert {m.name: m.value for m in found[ids[-1]]}["likes"] == 1
    assert [len(q.url.params.get_list("id[]")) for q, _ in h.recorder.exchanges] == [20, 5]


# -- messages and replies -----------------------------------------------------------------------


async def test_messages_and_replies_to_them(h: Harness, net: MastodonAdapter) -> None:
    clock = h.fake.clock
    fan = h.fake.add_user("fan")
    remote = h.fake.add_user("critic@remote.example")
    mine = await net.publish(Post(text="my post"))
    assert mine.id is not None
    clock.advance(minutes=1)
    reply_id = h.fake.reply(mine.id, fan, "nice post")
    clock.advance(minutes=1)
    mention_id = h.fake.mention(remote, "what do you think?")
    clock.advance(minutes=1)
    quote_id = h.fake.quote(mine.id, fan, "look at this")
    clock.advance(minutes=1)
    dm_id = h.fake.direct(fan, "psst, a secret")
    got = [(m.id, m.kind) async for m in net.messages()]
    assert got == [
        (dm_id, "direct"),
        (quote_id, "quote"),
        (mention_id, "mention"),
        (reply_id, "reply"),
    ]
    messages = {m.id: m async for m in net.messages()}
    assert messages[quote_id].post_id == mine.id
    assert messages[reply_id].post_id == mine.id
    assert messages[mention_id].author.handle == "critic@remote.example"
    # Private mentions are read from the notifications, which do not name a conversation.
    assert messages[dm_id].conversation_id is None
    assert messages[dm_id].text == "@owner psst, a secret"

    clock.advance(minutes=1)
    to_mention = await net.reply(messages[mention_id], "Thanks!")
    to_dm = await net.reply(messages[dm_id], "Got it")
    assert to_mention.reply_to == mention_id
    assert to_mention.visibility == "public"
    assert to_dm.reply_to == dm_id
    assert to_dm.visibility == "direct"
    assert h.fake.notifications_of(remote) == [f"mention:{to_mention.id}"]
    assert h.fake.notifications_of(fan, {"mention"}) == [f"mention:{to_dm.id}"]
    # The conversation's last status is the owner's answer now: no longer an open message.
    assert [m.id async for m in net.messages(kinds={"direct"})] == [dm_id]
    conversations = (await h.raw("GET", "/api/v1/conversations")).json()
    assert [c["last_status"]["id"] for c in conversations] == [to_dm.id]
    assert (await net.get_post(mention_id)).metrics["replies"] == 1


async def test_direct_messages_stay_private(h: Harness) -> None:
    fan = h.fake.add_user("fan")
    other = h.fake.add_user("other")
    dm = h.fake.direct(fan, "only for you")
    async with h.connect(access_token=h.fake.token_for(other)) as as_other:
        with pytest.raises(NotFoundError):
            await as_other.get_post(dm)
        assert [m async for m in as_other.messages()] == []
    async with h.connect() as owner:
        assert (await owner.get_post(dm)).visibility == "direct"


# -- pagination -------------------------------------------------------------------------------


async def test_posts_paginate_with_link_headers(h: Harness, net: MastodonAdapter) -> None:
    ids = []
    for i in range(45):
        ids.append(h.fake.publish_as(h.fake.owner, f"post {i}"))
        h.fake.clock.advance(minutes=5)
    got = [p.id async for p in net.posts()]
    assert got == list(reversed(ids))
    pages = [
        (q, r)
        for q, r in h.recorder.exchanges
        if q.url.path.endswith("/statuses") and "accounts" in q.url.path
    ]
    assert len(pages) == 2
    first, second = pages
    assert len(first[1].json()) == 40
    assert first[1].links["next"]["url"].endswith(f"max_id={ids[5]}")
    assert "exclude_reblogs=true" in first[1].links["next"]["url"]
    assert second[0].url.params["max_id"] == ids[5]
    assert len(second[1].json()) == 5
    assert "next" not in second[1].links  # a page that is not full is the last
    since = datetime.fromisoformat(first[1].json()[9]["created_at"].replace("Z", "+00:00"))
    assert len([p async for p in net.posts(since=since)]) == 10
    assert len([p async for p in net.posts(limit=3)]) == 3


async def test_min_id_and_since_id(h: Harness) -> None:
    ids = [h.fake.publish_as(h.fake.owner, f"n{i}") for i in range(10)]
    path = f"/api/v1/accounts/{h.fake.owner.id}/statuses"
    newest = await h.raw("GET", path, params={"limit": "3", "since_id": ids[2]})
    assert [s["id"] for s in newest.json()] == [ids[9], ids[8], ids[7]]
    just_after = await h.raw("GET", path, params={"limit": "3", "min_id": ids[2]})
    assert [s["id"] for s in just_after.json()] == [ids[5], ids[4], ids[3]]
    assert just_after.links["prev"]["url"].endswith(f"min_id={ids[5]}")


async def test_notifications_paginate(h: Harness, net: MastodonAdapter) -> None:
    fans = [h.fake.add_user(f"fan{i}") for i in range(90)]
    for fan in fans:
        h.fake.mention(fan, "hello")
        h.fake.clock.advance(seconds=30)
    got = [m async for m in net.messages(kinds={"mention"})]
    assert len(got) == 90
    assert got[0].author.handle == "fan89@mastodon.fake"
    assert len(h.recorder.statuses("GET", "/api/v1/notifications")) == 2


# -- search and hashtags ------------------------------------------------------------------------


async def test_search_and_hashtags(h: Harness, net: MastodonAdapter) -> None:
    rival = h.fake.add_user("rival")
    for i in range(3):
        h.fake.publish_as(rival, f"Python tip {i} #python")
        h.fake.clock.advance(hours=1)
    h.fake.publish_as(rival, "nothing to see")
    found = [p.text async for p in net.search("python tip")]
    assert found == ["Python tip 2 #python", "Python tip 1 #python", "Python tip 0 #python"]
    assert len([p async for p in net.search("python", limit=2)]) == 2
    tags = await net.ex_search_hashtags("pyth")
    assert [(t.name, t.uses_recently) for t in tags] == [("python", 3)]
    timeline = [p.text async for p in net.ex_hashtag_timeline("python")]
    assert len(timeline) == 3


# -- idempotency, scheduling, login -------------------------------------------------------------


async def test_idempotency_key_returns_the_same_status(h: Harness) -> None:
    body = {"status": "only once", "visibility": "public"}
    first = await h.raw("POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": "k1"})
    again = await h.raw("POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": "k1"})
    other = await h.raw("POST", "/api/v1/statuses", json=body, headers={"Idempotency-Key": "k2"})
    assert first.status_code == again.status_code == other.status_code == 200
    assert first.json()["id"] == again.json()["id"] != other.json()["id"]
    assert len(h.fake.statuses_of(h.fake.owner)) == 2


async def test_an_idempotency_key_is_kept_for_an_hour(h: Harness) -> None:
    """Mastodon keeps a key an hour (schema.json, the Idempotency-Key header): within it the
    same key answers the same status; after it, a new status is made."""
    import time

    body = {"status": "hourly", "visibility": "public"}
    key = {"Idempotency-Key": "ttl-1"}
    first = await h.raw("POST", "/api/v1/statuses", json=body, headers=key)
    now = time.time()
    h.fake.idempotency_clock = lambda: now + 3599
    within = await h.raw("POST", "/api/v1/statuses", json=body, headers=key)
    assert within.json()["id"] == first.json()["id"]
    h.fake.idempotency_clock = lambda: now + 3601
    later = await h.raw("POST", "/api/v1/statuses", json=body, headers=key)
    assert later.json()["id"] != first.json()["id"]
    assert len(h.fake.statuses_of(h.fake.owner)) == 2


class LoseFirstCreateAnswer(httpx.AsyncBaseTransport):
    """The first POST /api/v1/statuses reaches the fake, but its answer is lost (a timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/api/v1/statuses" and not self.lost:
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


async def test_a_retried_create_publishes_once(h: Harness) -> None:
    """The adapter resends a create whose answer was lost with the same Idempotency-Key; the
    fake answers the status it already made, so nothing is published twice."""
    lossy = LoseFirstCreateAnswer(h.recorder)
    h.fake.client = lambda **kw: httpx.AsyncClient(transport=lossy, **kw)  # type: ignore[method-assign]
    async with h.connect(retries=3) as net:
        posted = await net.publish(Post(text="exactly once"))
    assert lossy.lost == 1
    assert h.fake.statuses_of(h.fake.owner) == [posted.id]
    sent = [q for q, _ in h.recorder.exchanges if q.url.path == "/api/v1/statuses"]
    assert len(sent) == 2
    keys = {q.headers["Idempotency-Key"] for q in sent}
    assert len(keys) == 1


async def test_scheduled_status_is_published_when_its_time_comes(
    h: Harness, net: MastodonAdapter
) -> None:
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=10)
    scheduled = await net.publish(Post(text="later", scheduled_at=when))
    assert scheduled.scheduled_at == when
    assert [p.text async for p in net.ex_scheduled()] == ["later"]
    assert [p async for p in net.posts()] == []
    h.fake.clock.set(when + timedelta(seconds=1))
    published = [p async for p in net.posts()]
    assert [(p.text, p.created_at) for p in published] == [("later", when)]
    assert [p async for p in net.ex_scheduled()] == []


async def test_reschedule_and_cancel(h: Harness, net: MastodonAdapter) -> None:
    when = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=10)
    first = await net.publish(Post(text="moved", scheduled_at=when))
    second = await net.publish(Post(text="cancelled", scheduled_at=when))
    assert first.id is not None
    assert second.id is not None
    moved = await net.ex_reschedule(first.id, when + timedelta(hours=1))
    assert moved.scheduled_at == when + timedelta(hours=1)
    await net.ex_cancel_scheduled(second.id)
    assert [p.text async for p in net.ex_scheduled()] == ["moved"]
    h.fake.clock.set(when + timedelta(minutes=30))
    assert [p async for p in net.posts()] == []
    h.fake.clock.set(when + timedelta(hours=2))
    assert [p.text async for p in net.posts()] == ["moved"]


async def test_login_flow(h: Harness, net: MastodonAdapter) -> None:
    redirect = "http://127.0.0.1:8765/callback"
    app = await net.ex_register_app("socialkit tests", [redirect])
    async with h.connect(
        access_token=None,
        client_id=app.client_id,
        client_secret=app.client_secret.get_secret_value(),
        require_credentials=False,
    ) as login:
        request = login.ex_authorization_url(redirect)
        async with h.fake.client() as browser:
            approved = await browser.get(request.url)
        assert approved.status_code == 302
        token = await login.ex_exchange_code(request, approved.headers["location"], save=False)
        assert token.access_token.get_secret_value()
        assert (await login.me()).id == h.fake.owner.id


# -- errors and rate limits ---------------------------------------------------------------------


async def test_errors_are_mastodon_shaped(h: Harness) -> None:
    async with h.connect(access_token="not-a-token") as wrong:
        with pytest.raises(AuthError) as caught:
            await wrong.me()
    assert caught.value.status == 401
    assert "access token is invalid" in str(caught.value)
    assert "not-a-token" not in str(caught.value)
    async with h.connect() as net:
        with pytest.raises(NotFoundError):
            await net.get_post("1")
    too_long = await h.raw("POST", "/api/v1/statuses", json={"status": "x" * 501})
    assert too_long.status_code == 422
    assert too_long.json()["error"] == "Validation failed: Text character limit of 500 exceeded"
    blank = await h.raw("POST", "/api/v1/statuses", json={"status": ""})
    assert blank.json()["error"] == "Validation failed: Text can't be blank"
    # Deliberately outside the official description (no token where one is required), so
    # sent around the recorder.
    transport = httpx.ASGITransport(app=h.fake.app)
    async with httpx.AsyncClient(transport=transport, base_url=h.fake.base_url) as anonymous:
        missing = await anonymous.get("/api/v1/notifications")
    assert missing.status_code == 401
    assert missing.json() == {"error": "This method requires an authenticated user"}
    assert "X-RateLimit-Remaining" in missing.headers


async def test_instance_limits_reach_the_pre_flight() -> None:
    for harness in make_harness(max_characters=20):
        async with harness.connect() as net:
            with pytest.raises(InvalidPostError):
                await net.publish(Post(text="x" * 21))
        posts = [q for q, _ in harness.recorder.exchanges if q.url.path == "/api/v1/statuses"]
        assert posts == []  # refused before sending
        assert harness.recorder.statuses("GET", "/api/v2/instance") == [200]


async def test_rate_limit_headers_and_429() -> None:
    for harness in make_harness(rate_limit=3, rate_window=60):
        answers = [
            await harness.raw("GET", "/api/v1/accounts/verify_credentials") for _ in range(4)
        ]
        assert [r.status_code for r in answers] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0", "0"]
        assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"3"}
        reset = datetime.fromisoformat(
            answers[0].headers["X-RateLimit-Reset"].replace("Z", "+00:00")
        )
        assert timedelta(seconds=50) < reset - datetime.now(timezone.utc) <= timedelta(seconds=60)
        assert answers[3].json() == {"error": "Too many requests"}
    for harness in make_harness(rate_limit=2, rate_window=60):
        async with harness.connect(rate_limit="raise") as net:
            await net.me()
            await net.me()
            # The bucket is empty (X-RateLimit-Remaining: 0): raised before sending.
            with pytest.raises(RateLimitError) as caught:
                await net.me()
        assert caught.value.reset_at is not None
        assert len(harness.recorder.exchanges) == 2
        # A client that does not know the state yet gets the fake's 429, decoded.
        async with harness.connect(rate_limit="raise") as fresh:
            with pytest.raises(RateLimitError) as refused:
                await fresh.me()
        assert refused.value.status == 429
        assert harness.recorder.statuses("GET", "/api/v1/accounts/verify_credentials")[2:] == [429]


async def test_rate_limit_wait_mode_succeeds_after_the_window() -> None:
    for harness in make_harness(rate_limit=2, rate_window=1.0):
        async with harness.connect(rate_limit="wait", retry_wait=True) as net:
            handles = [(await net.me()).handle for _ in range(5)]
        assert handles == ["owner@mastodon.fake"] * 5
        codes = harness.recorder.statuses("GET", "/api/v1/accounts/verify_credentials")
        assert codes.count(200) == 5
        assert 429 not in codes  # the adapter waited for the reset instead of hitting the limit


async def test_separate_buckets_for_media_and_delete() -> None:
    for harness in make_harness(media_rate_limit=1, delete_rate_limit=1):
        first = await harness.raw(
            "POST", "/api/v2/media", files={"file": ("p.png", PNG_1X1, "image/png")}
        )
        second = await harness.raw(
            "POST", "/api/v2/media", files={"file": ("p.png", PNG_1X1, "image/png")}
        )
        assert (first.status_code, second.status_code) == (202, 429)
        assert first.headers["X-RateLimit-Limit"] == "1"
        me = await harness.raw("GET", "/api/v1/accounts/verify_credentials")
        assert me.status_code == 200
        assert me.headers["X-RateLimit-Limit"] == "300"


def test_secrets_stay_out_of_reprs() -> None:
    fake = FakeMastodon()
    assert fake.access_token not in repr(fake)
    assert fake.settings()["instance"] == "https://mastodon.fake"


@pytest.mark.anyio
async def test_messages_since_stops_at_the_first_older_page(
    h: Harness, net: MastodonAdapter
) -> None:
    # The notifications are newest first: a since later than everything costs one page,
    # never the whole history (and conversations are not read: every private mention is a
    # notification).
    fan = h.fake.add_user("chatty")
    for i in range(90):
        h.fake.mention(fan, f"mention {i}")
        h.fake.clock.advance(seconds=1)
    h.recorder.exchanges.clear()
    later = h.fake.clock.now() + timedelta(days=1)
    assert [m async for m in net.messages(since=later)] == []
    paths = [r.url.path for r, _ in h.recorder.exchanges]
    assert paths.count("/api/v1/notifications") == 1
    assert paths.count("/api/v1/conversations") == 0
