"""FakeX driven by the real XAdapter (``fake.connect()``).

Every exchange of every test that goes through the adapter is recorded and validated against
the official description, ``../shared/specs/x/openapi.json`` (X API v2, read in place), at
the end of the test (``traffic`` fixture; see x_support.py): requests with openapi-core, the
fake's JSON answers against their operation's response schema, problem documents against
``#/components/schemas/Problem``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from x_support import Traffic, check_exchange

from socialkit import (
    AuthError,
    Capability,
    DuplicateError,
    Media,
    Message,
    NotFoundError,
    Poll,
    Post,
    RateLimitError,
    ValidationError,
)
from socialkit._errors import APIError
from socialkit.adapters.x import XAdapter
from socialkit.testing.conformance import PNG_1X1
from socialkit.testing.fakes import FakeX

pytestmark = [pytest.mark.spec, pytest.mark.anyio]

BASE = FakeX.default_base_url


@pytest.fixture
def traffic() -> Iterator[Traffic]:
    recorded = Traffic()
    yield recorded
    recorded.verify()


@pytest.fixture
def fake() -> FakeX:
    return FakeX(check_after_secs=0, seed=7)


def connected(fake: FakeX, traffic: Traffic, **overrides: object) -> XAdapter:
    adapter = fake.connect(**overrides)
    assert isinstance(adapter, XAdapter)
    traffic.attach(adapter.http)
    return adapter


def body_of(response: httpx.Response) -> dict[str, object]:
    data = json.loads(response.content)
    assert isinstance(data, dict)
    return data


# -- account ----------------------------------------------------------------------------------


async def test_me_and_account_metrics_follow_the_simulation(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    fake.follow(fan)
    fake.publish_as(fake.owner, "first")
    async with connected(fake, traffic) as x:
        me = await x.me()
        assert (me.id, me.handle, me.followers, me.posts_count) == (fake.owner.id, "owner", 1, 1)
        fake.follow(fake.add_user("other"))
        metrics = {m.name: m.value for m in await x.account_metrics()}
    assert metrics["followers"] == 2
    assert metrics["posts"] == 1
    _, response = traffic.calls("GET", "/2/users/me")[0]
    assert response.headers["x-rate-limit-limit"] == "75"  # X's per-user limit of /2/users/me
    assert response.headers["x-rate-limit-remaining"] == "74"


# -- publishing -------------------------------------------------------------------------------


async def test_text_post_reads_back_with_the_clock_time(fake: FakeX, traffic: Traffic) -> None:
    fake.clock.advance(days=2)
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="Launch day & <more> soon"))
        got = await x.get_post(posted.id)
        listed = [p async for p in x.posts(limit=5)]
    assert got.text == "Launch day & <more> soon"
    assert got.author is not None
    assert got.author.handle == "owner"
    assert got.created_at == fake.clock.now()
    assert posted.created_at is not None
    assert abs(posted.created_at - fake.clock.now()) < timedelta(seconds=1), "snowflake time"
    assert [p.id for p in listed] == [posted.id]
    _, created = traffic.calls("POST", "/2/tweets")[0]
    assert created.status_code == 201
    # X escapes &, < and > in post texts; the adapter unescapes them.
    assert body_of(created)["data"] == {
        "id": posted.id,
        "text": "Launch day &amp; &lt;more&gt; soon",
        "edit_history_post_ids": [posted.id],
    }


async def test_image_with_alt_text_is_attached(fake: FakeX, traffic: Traffic) -> None:
    image = Media.from_bytes(PNG_1X1, mime_type="image/png", alt="A single pixel")
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="A picture", media=[image]))
    (media,) = fake.media.values()
    assert media.alt_text == "A single pixel"
    assert media.key.startswith("3_")
    assert fake.posts[posted.id].media_keys == [media.key]
    _, final = traffic.calls("POST", f"/2/media/upload/{media.id}/finalize")[0]
    # Images need no processing: the finalize answer has no processing_info.
    assert "processing_info" not in body_of(final)["data"]  # type: ignore[operator]
    assert traffic.calls("GET", "/2/media/upload") == []


async def test_video_processing_goes_pending_in_progress_succeeded(traffic: Traffic) -> None:
    fake = FakeX(check_after_secs=3, processing_polls=2)
    video = bytes(range(256)) * 600  # 153,600 bytes: three chunks of 64 KiB at most
    async with connected(fake, traffic, chunk_size=64 * 1024) as x:
        slept: list[float] = []

        async def record(seconds: float) -> None:
            slept.append(seconds)

        x._sleep = record
        posted = await x.publish(
            Post(text="Video", media=[Media.from_bytes(video, mime_type="video/mp4")])
        )
    (media,) = fake.media.values()
    assert media.states == ["pending", "in_progress", "succeeded"]
    assert slept == [3.0, 3.0], "the adapter waits check_after_secs between polls"
    assert b"".join(media.chunks[i] for i in sorted(media.chunks)) == video
    assert len(traffic.calls("POST", f"/2/media/upload/{media.id}/append")) == 3
    states = [
        body_of(r)["data"]["processing_info"]["state"]  # type: ignore[index]
        for _, r in traffic.calls("GET", "/2/media/upload")
    ]
    assert states == ["in_progress", "succeeded"]
    assert fake.posts[posted.id].media_keys == [media.key]
    assert media.key.startswith("7_")


async def test_failed_processing_is_an_error(fake: FakeX, traffic: Traffic) -> None:
    fake.fail_next_media()
    async with connected(fake, traffic) as x:
        with pytest.raises(APIError) as info:
            await x.publish(
                Post(text="Broken", media=[Media.from_bytes(b"\0" * 1000, mime_type="video/mp4")])
            )
    assert info.value.code == "media_processing_failed"
    assert not fake.posts, "nothing was published"


async def test_thread_reply_quote_and_poll(fake: FakeX, traffic: Traffic) -> None:
    rival = fake.add_user("rival")
    theirs = fake.publish_as(rival, "Our new release is out")
    async with connected(fake, traffic) as x:
        head = await x.publish(
            Post(text="1/3 A thread", thread=[Post(text="2/3 more"), Post(text="3/3 end")])
        )
        quote = await x.publish(Post(text="Worth reading", quote_of=theirs))
        answer = await x.reply(theirs, "Congratulations!")
        poll = await x.publish(
            Post(text="Which one?", poll=Poll(options=["A", "B"], duration=timedelta(hours=1)))
        )
        listed = [p async for p in x.posts(limit=10)]
    chain = [p for p in fake.posts.values() if p.conversation_id == head.id]
    assert [p.text for p in chain] == ["1/3 A thread", "2/3 more", "3/3 end"]
    assert chain[1].reply_to == head.id
    assert chain[2].reply_to == chain[1].id
    assert fake.posts[theirs].quotes == 1
    assert fake.posts[theirs].replies == 1
    assert fake.posts[quote.id].quote_of == theirs
    assert fake.posts[answer.id].reply_to == theirs
    assert fake.polls[fake.posts[poll.id].poll_id or ""].options == ["A", "B"]
    by_id = {p.id: p for p in listed}
    assert by_id[quote.id].quote_of == theirs
    assert by_id[answer.id].reply_to == theirs
    assert len(listed) == 6


async def test_delete_then_not_found(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="short-lived"))
        await x.delete(posted.id)
        with pytest.raises(NotFoundError):
            await x.get_post(posted.id)  # X answers 200 with a resource-not-found error
        with pytest.raises(NotFoundError) as info:
            await x.delete(posted.id)
    assert info.value.status == 404
    assert posted.id not in fake.posts


async def test_duplicate_text_is_refused_like_x(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        await x.publish(Post(text="same again"))
        with pytest.raises(DuplicateError) as info:
            await x.publish(Post(text="same again"))
    assert info.value.status == 403
    assert "duplicate content" in (info.value.message or "")
    assert sum(1 for p in fake.posts.values() if p.text == "same again") == 1


async def test_edit_creates_a_new_version(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        first = await x.publish(Post(text="Tpyo"))
        fake.like(first.id, fake.add_user("fan"))
        edited = await x.edit(first.id, Post(text="Typo fixed"))
        listed = [p async for p in x.posts(limit=5)]
    assert fake.posts[edited.id].edit_history == [first.id, edited.id]
    assert [p.text for p in listed] == ["Typo fixed"]
    assert len(fake.posts[edited.id].likes) == 1


# -- errors -----------------------------------------------------------------------------------


async def test_wrong_token_is_an_auth_error(fake: FakeX, traffic: Traffic) -> None:
    async with connected(
        fake, traffic, access_token="not-a-token", refresh_token=None, client_id=None
    ) as x:
        with pytest.raises(AuthError) as info:
            await x.me()
    assert info.value.status == 401


async def test_expired_token_is_refreshed_through_the_token_endpoint(
    fake: FakeX, traffic: Traffic
) -> None:
    old_access, old_refresh = fake.tokens()
    async with connected(fake, traffic) as x:
        await x.me()
        fake.expire_tokens()
        posted = await x.publish(Post(text="after the refresh"))
    assert posted.id in fake.posts
    assert fake.refreshes == 1
    assert fake.tokens() != (old_access, old_refresh), "the refresh token rotated"
    statuses = [(rq.url.path, rs.status_code) for rq, rs in traffic.exchanges]
    assert statuses == [
        ("/2/users/me", 200),
        ("/2/tweets", 401),
        ("/2/oauth2/token", 200),
        ("/2/tweets", 201),
    ]


async def test_bad_input_gets_x_error_documents(fake: FakeX) -> None:
    """Requests the adapter would never send, straight to the app; each answer is checked
    against the description like the adapter's traffic."""
    access, _ = fake.tokens()
    headers = {"Authorization": f"Bearer {access}"}
    async with fake.client(base_url=BASE, headers=headers) as client:
        too_long = await client.post("/2/tweets", json={"text": "x" * 281})
        small_page = await client.get(
            f"/2/users/{fake.owner.id}/tweets", params={"max_results": "3"}
        )
        bad_query = await client.get("/2/tweets/search/recent", params={"query": "nope:value"})
        no_media = await client.post(
            "/2/tweets", json={"text": "x", "media": {"media_ids": ["123"]}}
        )
        unknown_user = await client.get("/2/users/by/username/nobody")
        unknown_media = await client.get(
            "/2/media/upload", params={"media_id": "42", "command": "STATUS"}
        )
        field = await client.get("/2/tweets/1", params={"post.fields": "bogus"})
    for response in (too_long, small_page, bad_query, no_media, field):
        assert response.status_code == 400, response.text
        assert body_of(response)["type"] == "https://api.x.com/2/problems/invalid-request"
        check_exchange(response.request, response, check_request=False)
    assert unknown_user.status_code == 200
    assert body_of(unknown_user)["errors"][0]["resource_type"] == "user"  # type: ignore[index]
    check_exchange(unknown_user.request, unknown_user)
    assert unknown_media.status_code == 404
    check_exchange(unknown_media.request, unknown_media)


# -- audience, metrics and messages -----------------------------------------------------------


async def test_metrics_move_with_the_audience(fake: FakeX, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    rival = fake.add_user("rival")
    theirs = fake.publish_as(rival, "Competitor post")
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="Measure me"))
        before = await x.metrics([posted.id])
        for fan in fans:
            fake.like(posted.id, fan)
        fake.repost(posted.id, fans[0])
        fake.reply(posted.id, fans[1], "Nice")
        fake.quote(posted.id, fans[2], "Look at this")
        fake.view(posted.id, 500)
        fake.click(posted.id, 7)
        fake.like(theirs, fans[0])
        after = await x.metrics([posted.id, theirs])
    values = {m.name: m.value for m in before[posted.id]}
    assert values["likes"] == 0
    assert values["impressions"] == 0
    mine = {m.name: m.value for m in after[posted.id]}
    assert mine["likes"] == 3
    assert mine["reposts"] == 1
    assert mine["replies"] == 1
    assert mine["quotes"] == 1
    assert mine["impressions"] == 500
    assert mine["link_clicks"] == 7
    assert mine["engagements"] == 3 + 1 + 1 + 1 + 7
    assert mine["organic_likes"] == 3
    # Another account's post: public metrics only (X answers field errors for the private
    # ones, which the adapter skips).
    other = {m.name: m.value for m in after[theirs]}
    assert other["likes"] == 1
    assert "engagements" not in other
    _, lookup = traffic.calls("GET", "/2/tweets")[-1]
    errors = body_of(lookup)["errors"]
    assert isinstance(errors, list)
    assert {e["type"] for e in errors} == {"https://api.x.com/2/problems/not-authorized-for-field"}


async def test_private_metrics_stop_after_thirty_days(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="old news"))
        fake.clock.advance(days=31)
        fake.view(posted.id, 10)
        response = await x.http.get(
            f"{BASE}/2/tweets",
            params={"ids": posted.id, "post.fields": "public_metrics,non_public_metrics"},
            headers={"Authorization": f"Bearer {fake.tokens()[0]}"},
        )
    body = body_of(response)
    assert body["data"][0]["public_metrics"]["impression_count"] == 10  # type: ignore[index]
    assert "non_public_metrics" not in body["data"][0]  # type: ignore[index]
    assert body["errors"][0]["field"] == "non_public_metrics"  # type: ignore[index]


async def test_messages_arrive_and_replies_go_back(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    async with connected(fake, traffic) as x:
        ours = await x.publish(Post(text="Tell us what you think"))
        fake.clock.advance(minutes=5)
        mention_id = fake.mention(fan, "hello there")
        fake.clock.advance(minutes=5)
        reply_id = fake.reply(ours.id, fan, "love it")
        fake.clock.advance(minutes=5)
        quote_id = fake.quote(ours.id, fan, "see this")
        fake.clock.advance(minutes=5)
        dm_id = fake.direct(fan, "can we talk?")
        fake.repost(ours.id, fan)  # a repost is not a mention
        inbox = [m async for m in x.messages()]
        assert [(m.id, m.kind) for m in inbox] == [
            (dm_id, "direct"),
            (quote_id, "quote"),
            (reply_id, "reply"),
            (mention_id, "mention"),
        ]
        assert inbox[1].post_id == ours.id
        assert inbox[2].post_id == ours.id
        assert inbox[3].text == "@owner hello there"
        assert inbox[0].author.handle == "fan"
        answer = await x.reply(inbox[3], "Hi! Thanks for reaching out")
        dm_answer = await x.reply(inbox[0], "Sure, DM me the details")
        direct_only = [m async for m in x.messages(kinds={"direct"})]
    assert fake.posts[answer.id].reply_to == mention_id
    sent = fake.dms[dm_answer.id]
    assert (sent.sender_id, sent.text) == (fake.owner.id, "Sure, DM me the details")
    assert sent.conversation_id == fake.dms[dm_id].conversation_id
    assert [m.id for m in direct_only] == [dm_id], "the owner's own DMs are not listed"
    assert traffic.calls("POST", f"/2/dm_conversations/{sent.conversation_id}/messages"), (
        "the answer went to the conversation"
    )


async def test_direct_message_to_a_participant(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    fake.direct(fan, "first contact")
    async with connected(fake, traffic) as x:
        (message,) = [m async for m in x.messages(kinds={"direct"})]
        without_conversation = message.model_copy(update={"conversation_id": None})
        sent = await x.reply(without_conversation, "hello!")
    assert fake.dms[sent.id].conversation_id == message.conversation_id
    assert traffic.calls("POST", f"/2/dm_conversations/with/{fan.id}/messages")


# -- pagination and search --------------------------------------------------------------------


async def test_posts_paginate_over_pages(fake: FakeX, traffic: Traffic) -> None:
    ids = []
    for i in range(130):
        ids.append(fake.publish_as(fake.owner, f"post number {i}"))
        fake.clock.tick()
    async with connected(fake, traffic) as x:
        listed = [p.id async for p in x.posts(limit=130)]
        everything = [p.id async for p in x.posts()]
    assert listed == list(reversed(ids)), "newest first, each once"
    assert everything == listed
    pages = traffic.calls("GET", f"/2/users/{fake.owner.id}/tweets")
    assert len(pages) == 4
    assert "pagination_token" not in pages[0][0].url.params
    token = body_of(pages[0][1])["meta"]["next_token"]  # type: ignore[index]
    assert pages[1][0].url.params["pagination_token"] == token
    assert "next_token" not in body_of(pages[-1][1])["meta"]  # type: ignore[operator]


async def test_mentions_and_dms_paginate(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    for i in range(105):
        fake.mention(fan, f"mention {i}")
        fake.clock.tick()
        fake.direct(fan, f"dm {i}")
        fake.clock.tick()
    async with connected(fake, traffic) as x:
        inbox = [m async for m in x.messages()]
    assert len(inbox) == 210
    assert len({m.id for m in inbox}) == 210
    assert inbox[0].text == "dm 104"
    assert inbox[1].text == "@owner mention 104"
    assert len(traffic.calls("GET", f"/2/users/{fake.owner.id}/mentions")) == 2
    assert len(traffic.calls("GET", "/2/dm_events")) == 2


async def test_since_limits_timelines(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    fake.mention(fan, "old")
    fake.clock.advance(days=1)
    cutoff = fake.clock.now()
    fake.mention(fan, "new")
    async with connected(fake, traffic) as x:
        recent = [m.text async for m in x.messages(kinds={"mention"}, since=cutoff)]
    assert recent == ["@owner new"]


async def test_search_recent_with_operators(fake: FakeX, traffic: Traffic) -> None:
    rival = fake.add_user("rival")
    fan = fake.add_user("fan")
    fake.publish_as(rival, "Old launch news")
    fake.clock.advance(days=8)  # outside the 7 days of recent search
    launch = fake.publish_as(rival, "Our #launch is today")
    fake.publish_as(fan, "I like the launch")
    fake.repost(launch, fan)
    reply = fake.reply(launch, fan, "congrats")
    async with connected(fake, traffic) as x:
        from_rival = [p.id async for p in x.search("from:rival launch")]
        tagged = [p.id async for p in x.search("#launch -is:retweet")]
        either = [p.text async for p in x.search("(from:rival OR from:fan) launch -is:retweet")]
        replies = [m.id async for m in x.ex_replies(launch)]
        with pytest.raises(ValidationError):
            _ = [p async for p in x.search("is:reply")]  # no standalone operator
    assert from_rival == [launch]
    assert tagged == [launch]
    assert either == ["I like the launch", "Our #launch is today"]
    assert replies == [reply]


# -- rate limits ------------------------------------------------------------------------------


async def test_rate_limit_raise_mode(traffic: Traffic) -> None:
    fake = FakeX(rate_limits={"GET /2/users/me": 2})
    async with connected(fake, traffic, rate_limit="raise") as first:
        await first.me()
        await first.me()
        with pytest.raises(RateLimitError) as refused:
            await first.me()  # the pipeline knows the bucket is empty: nothing is sent
    assert "not sent" in (refused.value.message or "")
    assert len(traffic.calls("GET", "/2/users/me")) == 2
    async with connected(fake, traffic, rate_limit="raise") as second:
        with pytest.raises(RateLimitError) as answered:
            await second.me()  # a fresh pipeline sends, and the fake answers 429
    error = answered.value
    assert error.status == 429
    assert error.bucket == "GET /2/users/me"
    assert error.remaining == 0
    assert error.limit == 2
    assert error.reset_at is not None
    _, last = traffic.exchanges[-1]
    assert last.status_code == 429
    assert last.headers["x-rate-limit-remaining"] == "0"
    assert int(last.headers["x-rate-limit-reset"]) >= int(error.reset_at.timestamp())
    assert body_of(last)["title"] == "Too Many Requests"


async def test_rate_limit_wait_mode_succeeds_after_the_window(traffic: Traffic) -> None:
    fake = FakeX(rate_limit=1, rate_window=1.0)
    async with connected(fake, traffic) as first:
        await first.me()
    async with connected(fake, traffic) as second:
        me = await second.me()  # 429, then the wait until x-rate-limit-reset, then 200
        again = await second.me()  # the pipeline waits for the next window before sending
    assert me.handle == again.handle == "owner"
    statuses = [rs.status_code for _, rs in traffic.calls("GET", "/2/users/me")]
    assert statuses == [200, 429, 200, 200]


async def test_every_response_carries_rate_limit_headers(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text="headers"))
        await x.get_post(posted.id)
        _ = [m async for m in x.messages()]
    for request, response in traffic.exchanges:
        for name in ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"):
            assert name in response.headers, (request.url.path, name)


async def test_message_models_are_complete(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan", name="A Fan")
    fake.direct(fan, "hi")
    async with connected(fake, traffic) as x:
        (message,) = [m async for m in x.messages()]
    assert isinstance(message, Message)
    assert message.author.name == "A Fan"
    assert message.created_at == fake.dms[message.id].created_at
    assert message.conversation_id == f"{fake.owner.id}-{fan.id}"


# -- the shapes themselves --------------------------------------------------------------------


async def test_every_field_and_expansion_the_fake_fills_matches_the_schema(fake: FakeX) -> None:
    """A lookup asking for every field the fake fills, with every expansion it serves; the
    request (names from the description's enums) and the answer are validated."""
    fan = fake.add_user("fan")
    access, _ = fake.tokens()
    headers = {"Authorization": f"Bearer {access}"}
    async with fake.client(base_url=BASE, headers=headers) as client:
        init = await client.post(
            "/2/media/upload/initialize",
            json={"media_category": "tweet_gif", "media_type": "image/gif", "total_bytes": 6},
        )
        media_id = body_of(init)["data"]["id"]  # type: ignore[index]
        await client.post(
            f"/2/media/upload/{media_id}/append",
            data={"segment_index": "0"},
            files={"media": ("chunk", b"GIF89a", "application/octet-stream")},
        )
        await client.post(f"/2/media/upload/{media_id}/finalize")
        status = None
        while status != "succeeded":
            answer = await client.get(
                "/2/media/upload", params={"media_id": media_id, "command": "STATUS"}
            )
            status = body_of(answer)["data"]["processing_info"]["state"]  # type: ignore[index]
        await client.post(
            "/2/media/metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": "a dancing cat"}}},
        )
        created = await client.post(
            "/2/tweets", json={"text": "Hi @fan #cats", "media": {"media_ids": [media_id]}}
        )
        post_id = body_of(created)["data"]["id"]  # type: ignore[index]
        reply = fake.reply(post_id, fan, "cute")
        fake.view(post_id, 40)
        poll = await client.post(
            "/2/tweets",
            json={
                "text": "Cats or dogs?",
                "poll": {"options": ["Cats", "Dogs"], "duration_minutes": 60},
            },
        )
        poll_id = body_of(poll)["data"]["id"]  # type: ignore[index]
        lookup = await client.get(
            "/2/tweets",
            params={
                "ids": f"{post_id},{reply},{poll_id}",
                "post.fields": "attachments,conversation_id,created_at,edit_controls,entities,"
                "lang,non_public_metrics,organic_metrics,possibly_sensitive,public_metrics,"
                "reply_settings,source,text",
                "expansions": "author_id,in_reply_to_user_id,referenced_posts,"
                "attachments.media_keys,attachments.poll_ids,entities.mentions.username",
                "media.fields": "alt_text,non_public_metrics,organic_metrics,public_metrics,type",
                "poll.fields": "duration_minutes,end_datetime,voting_status",
                "user.fields": "created_at,description,profile_image_url,protected,"
                "public_metrics,url,verified,verified_type",
            },
        )
    for response in (init, answer, created, poll, lookup):
        check_exchange(response.request, response)
    body = body_of(lookup)
    posts = {p["id"]: p for p in body["data"]}  # type: ignore[union-attr]
    assert posts[post_id]["entities"]["mentions"][0]["id"] == fan.id
    assert posts[post_id]["entities"]["hashtags"][0]["tag"] == "cats"
    assert posts[post_id]["non_public_metrics"]["impression_count"] == 40
    assert posts[reply]["in_reply_to_user_id"] == fake.owner.id
    includes = body["includes"]
    assert includes["media"][0]["alt_text"] == "a dancing cat"  # type: ignore[index]
    assert includes["media"][0]["public_metrics"] == {"view_count": 40}  # type: ignore[index]
    assert includes["polls"][0]["voting_status"] == "open"  # type: ignore[index]
    assert {u["username"] for u in includes["users"]} == {"owner", "fan"}  # type: ignore[index]
    # The reply's field errors: private metrics of a post the caller did not write.
    assert {e["resource_id"] for e in body["errors"]} == {reply}  # type: ignore[union-attr]


def test_the_checker_rejects_a_response_that_drifts(fake: FakeX) -> None:
    """The validation is not vacuous: an answer missing a required count fails it."""
    request = httpx.Request("GET", f"{BASE}/2/tweets/1", headers={"Authorization": "Bearer t"})
    good = {
        "data": {
            "id": "1",
            "text": "hi",
            "public_metrics": {
                "repost_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
        }
    }
    check_exchange(request, httpx.Response(200, json=good, request=request))
    bad = json.loads(json.dumps(good))
    del bad["data"]["public_metrics"]["like_count"]
    with pytest.raises(AssertionError, match="like_count"):
        check_exchange(request, httpx.Response(200, json=bad, request=request))


# -- the common interface of issue 11: engagement, people, feeds, upload, round trips ----------
# Every exchange is validated against openapi.json (the ``traffic`` fixture), so the bodies of
# likePost, repostPost, createUsersBookmark, followUser, muteUser, hidePostsReply and the
# reads below are checked against their operations' schemas.

GIF_1X1 = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)


async def test_engagement_actions_are_idempotent(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "a post worth a like")
    me = fake.owner.id
    async with connected(fake, traffic) as x:
        for _ in range(2):
            await x.like(theirs)
            await x.repost(theirs)
            await x.bookmark(theirs)
            await x.follow("@fan")
            await x.mute(fan.id)
        assert all(
            fake.has(relation, me, target)
            for relation, target in (
                ("like", theirs),
                ("repost", theirs),
                ("bookmark", theirs),
                ("follow", fan.id),
                ("mute", fan.id),
            )
        )
        assert fake.users[fan.id].followers == 1, "following twice counts once"
        reposts = [p for p in fake.posts.values() if p.repost_of == theirs]
        assert len(reposts) == 1
        for _ in range(2):
            await x.unlike(theirs)
            await x.unrepost(theirs)
            await x.unbookmark(theirs)
            await x.unfollow("fan")
            await x.unmute(fan.id)
    for relation, target in (
        ("like", theirs),
        ("repost", theirs),
        ("bookmark", theirs),
        ("follow", fan.id),
        ("mute", fan.id),
    ):
        assert not fake.has(relation, me, target), relation
    assert not [p for p in fake.posts.values() if p.repost_of == theirs]
    assert fake.users[fan.id].followers == 0
    (like,) = traffic.calls("POST", f"/2/users/{me}/likes")[:1]
    assert json.loads(like[0].content) == {"tweet_id": theirs}
    assert body_of(like[1]) == {"data": {"liked": True}}
    assert traffic.calls("DELETE", f"/2/users/{me}/following/{fan.id}")


async def test_block_is_unsupported_with_the_reason(fake: FakeX) -> None:
    from socialkit import UnsupportedError

    async with fake.connect() as x:
        with pytest.raises(UnsupportedError, match="no endpoint to block"):
            await x.block("@fan")
        with pytest.raises(UnsupportedError):
            await x.unblock("1")
    assert not x.supports(Capability.BLOCK)


async def test_hide_and_unhide_a_reply(fake: FakeX, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    async with connected(fake, traffic) as x:
        mine = await x.publish(Post(text="Ask me anything"))
        rude = fake.reply(mine.id, fan, "rude words")
        inbox = [m async for m in x.messages(kinds=["reply"])]
        await x.hide(inbox[0])
        assert fake.has("hide", fake.owner.id, rude)
        await x.unhide(rude)
        assert not fake.has("hide", fake.owner.id, rude)
        # X lets only the conversation's author hide its replies.
        other = fake.publish_as(fan, "my own post")
        with pytest.raises(APIError) as info:
            await x.hide(other)
    assert "about:blank" not in str(info.value), "X's about:blank type is no message"
    _, answer = traffic.calls("PUT", f"/2/tweets/{rude}/hidden")[0]
    assert body_of(answer) == {"data": {"hidden": True}}


async def test_account_tells_ids_from_handles(fake: FakeX, traffic: Traffic) -> None:
    # On X a username may be all digits: "@12345" is that username, a bare "12345" an id.
    numeric = fake.add_user("12345", name="Digits")
    async with connected(fake, traffic) as x:
        by_handle = await x.account("@12345")
        by_id = await x.account(numeric.id)
        plain = await x.account("owner")
        with pytest.raises(NotFoundError):
            await x.account("12345")  # no account has the id 12345
        with pytest.raises(ValidationError):
            await x.account("not a handle!")
    assert (by_handle.id, by_handle.handle) == (numeric.id, "12345")
    assert by_id.handle == "12345"
    assert plain.id == fake.owner.id
    assert traffic.calls("GET", "/2/users/by/username/12345")
    assert traffic.calls("GET", f"/2/users/{numeric.id}")


async def test_followers_resume_without_repeats(fake: FakeX, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(7)]
    for fan in fans:
        fake.follow(fan, fake.owner)
    fake.follow(fake.owner, fans[0])
    async with connected(fake, traffic) as x:
        first = x.followers(limit=3)
        seen = [a.handle async for a in first]
        fake.follow(fake.add_user("late"), fake.owner)  # newer than the walk: not in it
        rest = [a.handle async for a in x.followers(cursor=first.cursor)]
        following = [a.handle async for a in x.following()]
        theirs = [a.handle async for a in x.followers("@fan0")]
    assert seen == ["fan6", "fan5", "fan4"], "newest follower first"
    assert rest == ["fan3", "fan2", "fan1", "fan0"]
    assert following == ["fan0"]
    assert theirs == ["owner"]


async def test_posts_resume_with_until_id_when_posts_arrive(fake: FakeX, traffic: Traffic) -> None:
    for i in range(12):
        fake.publish_as(fake.owner, f"post {i}")
        fake.clock.tick()
    async with connected(fake, traffic) as x:
        walk = x.posts(limit=5)
        first = [p.text async for p in walk]
        for i in range(3):
            fake.publish_as(fake.owner, f"late {i}")
        fake.posts.pop(next(p.id for p in fake.posts.values() if p.text == "post 6"))
        rest = [p.text async for p in x.posts(cursor=walk.cursor)]
    assert first == [f"post {i}" for i in range(11, 6, -1)]
    assert rest == [f"post {i}" for i in range(5, -1, -1)], "no repeat, no skip, deletion ok"
    resumed = traffic.calls("GET", f"/2/users/{fake.owner.id}/tweets")[-1][0]
    assert "until_id" in resumed.url.params


async def test_home_timeline_since_and_until(fake: FakeX, traffic: Traffic) -> None:
    friend = fake.add_user("friend")
    stranger = fake.add_user("stranger")
    fake.follow(fake.owner, friend)
    fake.publish_as(friend, "too old")
    fake.clock.advance(hours=1)
    start = fake.clock.now()
    fake.publish_as(friend, "friend's news")
    fake.publish_as(stranger, "not followed")
    fake.clock.advance(hours=1)
    fake.publish_as(fake.owner, "my news")
    end = fake.clock.now() + timedelta(minutes=1)
    fake.clock.advance(hours=1)
    fake.publish_as(friend, "too new")
    async with connected(fake, traffic) as x:
        texts = [p.text async for p in x.timeline(since=start, until=end)]
    assert texts == ["my news", "friend's news"]
    (request, _), *_ = traffic.calls(
        "GET", f"/2/users/{fake.owner.id}/timelines/reverse_chronological"
    )
    assert {"start_time", "end_time"} <= set(request.url.params)


async def test_lists_as_feeds(fake: FakeX, traffic: Traffic) -> None:
    writer = fake.add_user("writer")
    other = fake.add_user("other")
    mine = fake.create_list(fake.owner, "Writers", members=[writer], description="good ones")
    theirs = fake.create_list(other, "Other's list", members=[other])
    fake.follow_list(fake.owner, theirs)
    fake.publish_as(writer, "an essay")
    fake.publish_as(other, "a note")
    async with connected(fake, traffic) as x:
        feeds = [f async for f in x.feeds()]
        essays = [p.text async for p in x.feed(feeds[0])]
        notes = [p.text async for p in x.feed(theirs, limit=1)]
        with pytest.raises(ValidationError):
            x.feed("../users/me")
    assert [(f.id, f.name, f.kind) for f in feeds] == [
        (mine, "Writers", "list"),
        (theirs, "Other's list", "list"),
    ]
    assert feeds[0].description == "good ones"
    assert feeds[0].members_count == 1
    assert feeds[0].owner is not None
    assert feeds[0].owner.handle == "owner"
    assert feeds[1].owner is not None
    assert feeds[1].owner.handle == "other"
    assert essays == ["an essay"]
    assert notes == ["a note"]


async def test_upload_once_use_twice(fake: FakeX, traffic: Traffic) -> None:
    async with connected(fake, traffic) as x:
        uploaded = await x.upload(Media.from_bytes(PNG_1X1, alt="one pixel"))
        first = await x.publish(Post(text="one", media=[Media.from_upload(uploaded)]))
        second = await x.publish(
            Post(text="two", media=[Media.from_upload(uploaded, alt="the same pixel")])
        )
    (media,) = fake.media.values()
    assert uploaded.id == media.id
    assert uploaded.reusable is True
    # expires_after_secs (86,400 on X) after the upload, by the adapter's clock.
    assert uploaded.expires_at is not None
    left = uploaded.expires_at - datetime.now(timezone.utc)
    assert timedelta(hours=23, minutes=59) < left <= timedelta(days=1)
    assert fake.posts[first.id].media_keys == fake.posts[second.id].media_keys == [media.key]
    assert len(traffic.calls("POST", "/2/media/upload/initialize")) == 1, "uploaded once"
    assert media.alt_text == "the same pixel"


@pytest.mark.parametrize(
    ("data", "mime", "kind"),
    [
        (PNG_1X1, "image/png", "image"),
        (GIF_1X1, "image/gif", "gif"),
        (bytes(range(256)) * 40, "video/mp4", "video"),
    ],
)
async def test_media_round_trip(
    fake: FakeX, traffic: Traffic, data: bytes, mime: str, kind: str
) -> None:
    sent = Media.from_bytes(data, mime_type=mime, alt=f"a {kind}")
    async with connected(fake, traffic) as x:
        posted = await x.publish(Post(text=f"with a {kind}", media=[sent]))
        (stored,) = fake.media.values()
        stored.duration_ms = 4500 if kind == "video" else None
        got = await x.get_post(posted.id)
    (back,) = got.media
    assert got.text == f"with a {kind}"
    assert (back.kind, back.alt, back.id) == (kind, f"a {kind}", stored.key)
    assert (back.width, back.height) == (sent.width, sent.height)
    assert back.url is not None
    if kind == "image":
        assert back.mime_type == "image/png"
        assert back.url.endswith(".png")
        assert back.preview_url is None
    else:
        # X serves GIFs and videos as MP4 (the best variant), with a still as preview.
        assert back.mime_type == "video/mp4"
        assert back.url.endswith(".mp4")
        assert back.preview_url is not None
    if kind == "video":
        assert back.duration == 4.5
        assert "1280x720" in back.url, "the variant of the highest bit rate"


async def test_quote_reply_link_and_poll_round_trip(fake: FakeX, traffic: Traffic) -> None:
    rival = fake.add_user("rival")
    theirs = fake.publish_as(rival, "Our news")
    async with connected(fake, traffic) as x:
        quote = await x.publish(Post(text="Look", quote_of=theirs))
        reply = await x.publish(Post(text="Well done", reply_to=theirs))
        linked = await x.publish(Post(text="Read this", link="https://example.com/a?b=1"))
        inline = await x.publish(Post(text="See example.org/page for more"))
        poll = await x.publish(
            Post(text="Pick one", poll=Poll(options=["A", "B", "C"], duration=timedelta(hours=2)))
        )
        fake.vote(poll.id, 1, 3)
        got = {p.id: await x.get_post(p.id) for p in (quote, reply, linked, inline, poll)}
    assert got[quote.id].quote_of == theirs
    assert got[reply.id].reply_to == theirs
    assert (got[linked.id].text, got[linked.id].link) == ("Read this", "https://example.com/a?b=1")
    assert got[inline.id].text == "See http://example.org/page for more"
    assert got[inline.id].link == "http://example.org/page"
    read_poll = got[poll.id].poll
    assert read_poll is not None
    assert read_poll.options == ["A", "B", "C"]
    assert read_poll.votes == [0, 3, 0]
    assert read_poll.duration == timedelta(hours=2)
    assert read_poll.expires_at == fake.clock.now() + timedelta(hours=2)
    # X stores the link as t.co in the text and names the address in entities.urls.
    _, raw = traffic.calls("GET", f"/2/tweets/{linked.id}")[0]
    data = body_of(raw)["data"]
    assert "https://t.co/" in data["text"]  # type: ignore[index]
    assert data["entities"]["urls"][0]["expanded_url"] == "https://example.com/a?b=1"  # type: ignore[index]


class _LoseAnswers(httpx.AsyncBaseTransport):
    """Sends each request to the fake, then loses the answer of the ones ``lose`` picks (the
    server has acted: the create went through), raising ``ReadTimeout`` as a dropped
    connection would."""

    def __init__(
        self, fake: FakeX, lose: Callable[[httpx.Request], bool], traffic: Traffic
    ) -> None:
        self._inner = httpx.ASGITransport(app=fake.app)
        self._lose = lose
        self._traffic = traffic
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        # Every exchange, lost answers included, is checked against openapi.json by the
        # traffic fixture: the reconciliation reads (GET /2/users/{id}/tweets with
        # start_time) are sent by these tests only.
        await request.aread()
        await response.aread()
        self._traffic.exchanges.append((request, response))
        if self._lose(request):
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def _is_create(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path == "/2/tweets"


async def test_lost_answer_is_reconciled_once(fake: FakeX, traffic: Traffic) -> None:
    transport = _LoseAnswers(fake, _is_create, traffic)
    async with fake.connect(http=httpx.AsyncClient(transport=transport), retry_wait=False) as x:
        posted = await x.publish(Post(text="exactly once"))
    assert transport.lost == 1
    assert [p.id for p in fake.posts.values()] == [posted.id]


async def test_outcome_unknown_then_retry_with_the_key_publishes_once(
    fake: FakeX, traffic: Traffic
) -> None:
    from socialkit import OutcomeUnknownError
    from socialkit._store import MemoryStore

    store = MemoryStore()
    reads = {"lose": True}

    def lose(request: httpx.Request) -> bool:
        # The create's answer and every reconciliation read are lost.
        timeline = request.method == "GET" and request.url.path.endswith("/tweets")
        return _is_create(request) or (timeline and reads["lose"])

    transport = _LoseAnswers(fake, lose, traffic)
    post = Post(text="Launch!", thread=[Post(text="More soon")])
    async with fake.connect(
        http=httpx.AsyncClient(transport=transport), store=store, retry_wait=False, retries=1
    ) as x:
        with pytest.raises(OutcomeUnknownError) as info:
            await x.publish(post, idempotency_key="launch-1")
    assert info.value.idempotency_key == "launch-1"
    assert "RateLimit" not in type(info.value).__name__
    assert len(fake.posts) == 1, "the first attempt landed"
    reads["lose"] = False
    # A new adapter (a restarted process) sharing the store retries with the same key.
    async with connected(fake, traffic, store=store, retry_wait=False) as again:
        done = await again.publish(post, idempotency_key="launch-1")
        twice = await again.publish(post, idempotency_key="launch-1")
    assert sorted(p.text for p in fake.posts.values()) == ["Launch!", "More soon"]
    assert done.id == twice.id == next(p.id for p in fake.posts.values() if p.text == "Launch!")
    assert [p.id for p in done.thread] == [p.id for p in twice.thread]


async def test_media_only_post_with_lost_answer_is_found(fake: FakeX, traffic: Traffic) -> None:
    transport = _LoseAnswers(fake, _is_create, traffic)
    async with fake.connect(http=httpx.AsyncClient(transport=transport), retry_wait=False) as x:
        posted = await x.publish(Post(media=[Media.from_bytes(PNG_1X1)]))
    assert [p.id for p in fake.posts.values()] == [posted.id]


async def test_ids_in_paths_are_checked_before_any_request(fake: FakeX) -> None:
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    client = fake.client(event_hooks={"request": [record]})
    async with fake.connect(http=client) as x:
        for call in (
            x.delete("1/../../users/me"),
            x.get_post("abc"),
            x.like("1/.."),
            x.unrepost("12345678901234567890"),
            x.hide("1?x=1"),
            x.follow("bad/handle"),
            x.account("@../me"),
            x.edit("../1", Post(text="x")),
        ):
            with pytest.raises(ValidationError):
                await call
        with pytest.raises(ValidationError):
            x.followers("a b")
        with pytest.raises(ValidationError):
            await x.metrics(["1", "../2"])
    assert sent == [], "nothing was sent"


async def test_a_thread_that_repeats_a_text_fails_check(fake: FakeX) -> None:
    from socialkit import InvalidPostError

    post = Post(text="same", thread=[Post(text="other"), Post(text="  same ")])
    async with fake.connect() as x:
        problems = x.check(post)
        with pytest.raises(InvalidPostError):
            await x.publish(post)
    assert [(p.code, p.field) for p in problems] == [("duplicate_text", "thread[1].text")]
    assert not fake.posts, "nothing was sent"


async def test_a_refused_post_leaves_no_record_so_a_retry_is_fresh(fake: FakeX) -> None:
    # A definite refusal (a duplicate of an older post) is not an unknown outcome: retrying
    # under the same key is a new attempt, refused the same way, never "outcome unknown".
    fake.publish_as(fake.owner, "said before")
    fake.clock.advance(hours=1)
    async with fake.connect() as x:
        for _ in range(2):
            with pytest.raises(DuplicateError):
                await x.publish(Post(text="said before"), idempotency_key="dup-1")
    assert len(fake.posts) == 1


async def test_a_handle_is_looked_up_once_per_walk(fake: FakeX, traffic: Traffic) -> None:
    rival = fake.add_user("rival")
    for i in range(105):
        fake.publish_as(rival, f"rival post {i}")
    async with connected(fake, traffic) as x:
        got = [p async for p in x.posts(account="@rival")]
        pages = traffic.calls("GET", f"/2/users/{rival.id}/tweets")
        with pytest.raises(ValidationError):
            await x.publish(
                Post(text="bad target", reply_to="1/..", media=[Media.from_bytes(PNG_1X1)])
            )
    assert len(got) == 105
    assert len(pages) == 2, "two pages of at most 100"
    assert len(traffic.calls("GET", "/2/users/by/username/rival")) == 1
    assert not fake.media, "the bad reply_to was refused before uploading"


async def test_feeds_and_a_feeds_posts_are_checked_against_the_description(
    fake: FakeX, traffic: Traffic
) -> None:
    # feeds() and feed() send GET /2/users/{id}/owned_lists, .../followed_lists and
    # GET /2/lists/{id}/tweets, which no other test sends: the traffic fixture checks each
    # request (parameters included) and answer against openapi.json.
    rival = fake.add_user("rival")
    for i in range(3):
        fake.publish_as(rival, f"rival post {i}")
    owned = fake.create_list(fake.owner, "Rivals", members=[rival])
    followed = fake.create_list(rival, "Rival's picks", members=[rival])
    fake.follow_list(fake.owner, followed)
    async with connected(fake, traffic) as x:
        feeds = [f async for f in x.feeds(limit=5)]
        walk = x.feed(owned, limit=2)
        first = [p.text async for p in walk]
        rest = [p.text async for p in x.feed(feeds[0], cursor=walk.cursor)]
        # X takes no time bounds on a list's posts: ``since`` must not reach the request.
        bounded = [
            p.text async for p in x.feed(owned, since=datetime(2000, 1, 1, tzinfo=timezone.utc))
        ]
    assert bounded == first + rest
    assert [(f.id, f.name) for f in feeds] == [(owned, "Rivals"), (followed, "Rival's picks")]
    assert first + rest == ["rival post 2", "rival post 1", "rival post 0"]
    me = fake.owner.id
    assert traffic.calls("GET", f"/2/users/{me}/owned_lists")
    assert traffic.calls("GET", f"/2/users/{me}/followed_lists")
    assert len(traffic.calls("GET", f"/2/lists/{owned}/tweets")) == 3
