"""The common interface on Mastodon, against FakeMastodon: engagement, people, timelines, lists,
uploads, lossless read-back, resumable paging, safe retries of a publish and the shared read of
the instance limits.

Every exchange between the real adapter and the fake is recorded and checked against the
official description, ``../shared/specs/mastodon/schema.json`` (``make_harness``, with
``tests._validation.OpenAPIChecker``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta

import anyio
import httpx
import pytest
from tests.fakes.mastodon_support import Harness, make_harness

from socialkit import (
    Account,
    Feed,
    InvalidPostError,
    Media,
    NotFoundError,
    OutcomeUnknownError,
    Poll,
    Post,
    ServerError,
    UnsupportedError,
    ValidationError,
)
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.conformance import PNG_1X1

pytestmark = [pytest.mark.spec, pytest.mark.anyio]

GIF_3X2 = b"GIF89a" + (3).to_bytes(2, "little") + (2).to_bytes(2, "little") + bytes(30)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(200)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(200)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
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


def calls(h: Harness, method: str, path: str) -> int:
    return sum(1 for r, _ in h.recorder.exchanges if r.method == method and r.url.path == path)


# -- engagement ----------------------------------------------------------------------------------


async def test_like_repost_bookmark_are_idempotent(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    post_id = h.fake.publish_as(fan, "like me")
    me = h.fake.owner.id
    for _ in range(2):
        await net.like(post_id)
        await net.repost(post_id)
        await net.bookmark(post_id)
    assert h.fake.has("like", me, post_id)
    assert h.fake.has("repost", me, post_id)
    assert h.fake.has("bookmark", me, post_id)
    read = h.fake.status_of(post_id)
    assert (read["favourites_count"], read["reblogs_count"]) == (1, 1)
    assert read["favourited"]
    assert read["reblogged"]
    assert read["bookmarked"]
    for _ in range(2):
        await net.unlike(post_id)
        await net.unrepost(post_id)
        await net.unbookmark(post_id)
    assert not h.fake.has("like", me, post_id)
    assert not h.fake.has("repost", me, post_id)
    assert not h.fake.has("bookmark", me, post_id)
    assert calls(h, "POST", f"/api/v1/statuses/{post_id}/favourite") == 2


async def test_boosting_a_private_status_is_refused(h: Harness, net: MastodonAdapter) -> None:
    from socialkit import PermissionError

    fan = h.fake.add_user("fan")
    h.fake.follow(h.fake.owner, fan)
    private = h.fake.publish_as(fan, "followers only", visibility="private")
    with pytest.raises(PermissionError):
        await net.repost(private)


async def test_follow_block_mute_and_their_reverse(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    remote = h.fake.add_user("bob@remote.example")
    me = h.fake.owner.id
    await net.follow("@fan")
    await net.follow("@fan")  # again: nothing changes
    await net.follow(remote.id)  # an id: no lookup
    assert h.fake.has("follow", me, fan.id)
    assert h.fake.has("follow", me, remote.id)
    assert calls(h, "GET", "/api/v1/accounts/lookup") == 2
    await net.unfollow(Account(id=fan.id, network="mastodon"))
    await net.unfollow(Account(id=fan.id, network="mastodon"))
    assert not h.fake.has("follow", me, fan.id)
    await net.mute("bob@remote.example")
    assert h.fake.has("mute", me, remote.id)
    await net.unmute(remote.id)
    assert not h.fake.has("mute", me, remote.id)
    h.fake.follow(remote, h.fake.owner)
    await net.block(remote.id)
    assert h.fake.has("block", me, remote.id)
    # Blocking ends the follows both ways, as on Mastodon.
    assert not h.fake.has("follow", me, remote.id)
    assert not h.fake.has("follow", remote.id, me)
    await net.unblock(remote.id)
    await net.unblock(remote.id)
    assert not h.fake.has("block", me, remote.id)


async def test_hide_is_unsupported(net: MastodonAdapter) -> None:
    assert not net.supports(net.capabilities and __import__("socialkit").Capability.HIDE)
    with pytest.raises(UnsupportedError, match="hide"):
        await net.hide("1")
    with pytest.raises(UnsupportedError):
        await net.unhide("1")


async def test_bad_ids_fail_before_any_request(h: Harness, net: MastodonAdapter) -> None:
    h.recorder.exchanges.clear()
    for call in (
        net.delete("1/../../accounts/verify_credentials"),
        net.like("../1"),
        net.get_post("abc"),
        net.follow("1/../2"),
        net.edit("1?x=1", Post(text="x")),
        net.ex_cancel_scheduled(".."),
    ):
        with pytest.raises(ValidationError):
            await call
    with pytest.raises(ValidationError):
        net.feed("1/2")
    with pytest.raises(ValidationError):
        await net.account("bob/../x")
    with pytest.raises(ValidationError):
        [p async for p in net.posts(cursor="sk1.garbage")]
    assert h.recorder.exchanges == []


# -- people --------------------------------------------------------------------------------------


async def test_account_tells_ids_from_handles(h: Harness, net: MastodonAdapter) -> None:
    digits = h.fake.add_user("1234")  # a username of digits only
    remote = h.fake.add_user("bob@remote.example")
    by_handle = await net.account("@1234")
    assert by_handle.id == digits.id
    assert by_handle.handle == "1234@mastodon.fake"
    by_id = await net.account(digits.id)
    assert by_id.handle == "1234@mastodon.fake"
    assert calls(h, "GET", f"/api/v1/accounts/{digits.id}") == 1
    assert (await net.account("bob@remote.example")).id == remote.id
    assert (await net.account("@bob@remote.example")).id == remote.id
    with pytest.raises(NotFoundError):
        await net.account("1234")  # digits alone are an id, and no account has that id
    with pytest.raises(NotFoundError):
        await net.account("@nobody")
    with pytest.raises(ValidationError):
        await net.account("  ")


async def test_followers_and_following_resume_without_repeats(
    h: Harness, net: MastodonAdapter
) -> None:
    fans = [h.fake.add_user(f"fan{i}") for i in range(95)]
    for fan in fans:
        h.fake.follow(fan, h.fake.owner)
    first = net.followers(limit=50)
    got = [a.id async for a in first]
    assert got == [f.id for f in reversed(fans)][:50]
    # New followers arrive between the two runs: the resumed walk goes on toward older ones.
    late = h.fake.add_user("late")
    h.fake.follow(late, h.fake.owner)
    rest = [a.id async for a in net.followers(cursor=first.cursor)]
    assert rest == [f.id for f in reversed(fans)][50:]
    assert late.id not in got + rest
    pages = [page async for page in net.followers().pages()]
    assert [len(p.items) for p in pages if p.items] == [80, 16]
    assert pages[-1].last
    for other in fans[:3]:
        h.fake.follow(h.fake.owner, other)
    assert [a.handle async for a in net.following()] == [
        "fan2@mastodon.fake",
        "fan1@mastodon.fake",
        "fan0@mastodon.fake",
    ]
    assert [a.id async for a in net.followers(fans[0].id)] == [h.fake.owner.id]
    assert [a.id async for a in net.following("@fan0")] == [h.fake.owner.id]
    assert [a.id async for a in net.following(fans[3].id)] == [h.fake.owner.id]


# -- timelines and lists -------------------------------------------------------------------------


async def test_home_timeline_with_boosts_since_until_and_resume(
    h: Harness, net: MastodonAdapter
) -> None:
    clock = h.fake.clock
    fan = h.fake.add_user("fan")
    stranger = h.fake.add_user("stranger")
    h.fake.follow(h.fake.owner, fan)
    start = clock.now()
    ids = []
    for i in range(45):
        clock.advance(minutes=1)
        ids.append(h.fake.publish_as(fan, f"post {i}"))
    h.fake.publish_as(stranger, "not followed")
    clock.advance(minutes=1)
    h.fake.repost(ids[0], fan)  # a boost of an old post, now
    mine = await net.publish(Post(text="mine"))
    newest_first = [mine.id, ids[0], *reversed(ids)]
    walk = net.timeline(limit=20)
    first = [p.id async for p in walk]
    assert first == newest_first[:20]
    clock.advance(minutes=1)
    h.fake.publish_as(fan, "arrived between the runs")
    rest = [p.id async for p in net.timeline(cursor=walk.cursor)]
    assert rest == newest_first[20:]
    boosted = [p async for p in net.timeline(limit=3)][2]  # the newest two: posts
    assert boosted.id == ids[0]
    assert boosted.text == "post 0"
    window = [
        p.id
        async for p in net.timeline(
            since=start + timedelta(minutes=10), until=start + timedelta(minutes=12)
        )
    ]
    assert window == [ids[11], ids[10], ids[9]]
    # since and until reach the server as since_id / max_id (snowflakes), so the walk reads
    # one page, not the whole timeline.
    sent = [r for r, _ in h.recorder.exchanges if r.url.path == "/api/v1/timelines/home"][-1]
    assert "since_id" in sent.url.params
    assert "max_id" in sent.url.params


async def test_lists_and_their_timelines(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    other = h.fake.add_user("other")
    list_id = h.fake.add_list(h.fake.owner, "Friends", [fan])
    h.fake.add_list(fan, "Not mine")
    feeds = [f async for f in net.feeds()]
    assert feeds == [Feed(id=list_id, network="mastodon", name="Friends", kind="list")]
    posted = [h.fake.publish_as(fan, f"friend {i}") for i in range(3)]
    h.fake.publish_as(other, "not in the list")
    assert [p.id async for p in net.feed(feeds[0])] == list(reversed(posted))
    walk = net.feed(list_id, limit=1)
    assert [p.id async for p in walk] == [posted[2]]
    assert [p.id async for p in net.feed(list_id, cursor=walk.cursor)] == posted[1::-1]
    with pytest.raises(ValidationError):
        net.feed(Feed(id="1", network="bluesky", name="x"))


# -- paging --------------------------------------------------------------------------------------


async def test_posts_resume_mid_page_and_search_by_offset(h: Harness, net: MastodonAdapter) -> None:
    posted = []
    for i in range(7):
        h.fake.clock.advance(seconds=5)
        posted.append((await net.publish(Post(text=f"number {i} #python"))).id)
    newest = list(reversed(posted))
    walk = net.posts(limit=3)
    first = [p async for p in walk]
    assert [p.id for p in first] == newest[:3]
    # The posts of one page share their author's Account (read once per page).
    assert first[0].author is first[1].author is first[2].author
    assert first[0].author is not None
    assert first[0].author.id == first[0].raw.account.id
    await net.delete(newest[3])  # deleted between the runs: nothing is skipped for it
    assert [p.id async for p in net.posts(cursor=walk.cursor)] == newest[4:]
    found = net.search("number", limit=2)
    assert [p.id async for p in found] == newest[:2]
    assert [p.id async for p in net.search("number", cursor=found.cursor)] == [
        newest[2],
        *newest[4:],
    ]
    tagged = net.ex_hashtag_timeline("python", limit=4)
    assert len([p async for p in tagged]) == 4
    assert len([p async for p in net.ex_hashtag_timeline("python", cursor=tagged.cursor)]) == 2


async def test_messages_resume_after_new_mentions(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    ids = []
    for i in range(5):
        h.fake.clock.advance(seconds=1)
        ids.append(h.fake.mention(fan, f"hello {i}"))
    walk = net.messages(limit=3)
    assert [m.id async for m in walk] == ids[:1:-1]
    h.fake.clock.advance(seconds=1)
    newer = h.fake.mention(fan, "between the runs")
    rest = [m.id async for m in net.messages(cursor=walk.cursor)]
    assert rest == [ids[1], ids[0]]
    assert newer not in rest
    assert [m.id async for m in net.messages(kinds={"quote"})] == []


# -- upload --------------------------------------------------------------------------------------


async def test_upload_once_attach_once(h: Harness, net: MastodonAdapter) -> None:
    uploaded = await net.upload(Media.from_bytes(PNG_1X1, alt="a pixel"))
    assert uploaded.network == "mastodon"
    assert uploaded.reusable is False
    assert uploaded.kind == "image"
    assert uploaded.alt == "a pixel"
    assert uploaded.url is not None
    assert (uploaded.width, uploaded.height) == (1, 1)
    uploads = calls(h, "POST", "/api/v2/media")
    media = Media.from_upload(uploaded, alt="one pixel, described again")
    posted = await net.publish(Post(text="with an earlier upload", media=[media]))
    assert calls(h, "POST", "/api/v2/media") == uploads  # not uploaded a second time
    assert calls(h, "PUT", f"/api/v1/media/{uploaded.id}") == 1  # the new alt text
    assert posted.media[0].id == uploaded.id
    assert posted.media[0].alt == "one pixel, described again"
    again = Post(text="the same upload again", media=[Media.from_upload(uploaded)])
    assert [p.code for p in net.check(again)] == ["upload_used"]
    with pytest.raises(InvalidPostError, match="already attached"):
        await net.publish(again)
    # Another adapter does not know the upload was used: the server refuses it, by name.
    async with h.connect() as fresh:
        with pytest.raises(ValidationError, match="already attached"):
            await fresh.publish(again)
    twice = Post(text="twice in one post", media=[Media.from_upload(uploaded)] * 2)
    assert "upload_used" in [p.code for p in net.check(twice)]


# -- lossless read-back --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "mime"),
    [
        (PNG_1X1, "image", "image/png"),
        (GIF_3X2, "gif", "image/gif"),
        (MP4, "video", "video/mp4"),
        (MP3, "audio", "audio/mpeg"),
    ],
)
async def test_round_trip_per_media_kind(
    h: Harness, net: MastodonAdapter, data: bytes, kind: str, mime: str
) -> None:
    h.fake.media_duration = 12.5
    sent = Media.from_bytes(data, alt=f"the {kind}")
    assert sent.kind == kind
    post = Post(text=f"a {kind}", media=[sent], content_warning="cw", language="en")
    published = await net.publish(post)
    assert published.id is not None
    read = await net.get_post(published.id)
    assert (read.text, read.content_warning, read.language) == (post.text, "cw", "en")
    assert read.sensitive is True  # a content warning makes a status sensitive
    assert len(read.media) == 1
    got = read.media[0]
    assert got.kind == kind
    assert got.alt == f"the {kind}"
    assert got.mime_type == mime
    assert got.id == published.media[0].id
    assert got.url is not None
    assert got.url.startswith("https://mastodon.fake/system/")
    assert got.preview_url is not None
    assert got.preview_url != got.url
    if kind in ("image", "gif"):
        assert (got.width, got.height) == (sent.width, sent.height)
    else:
        assert got.duration == 12.5


async def test_round_trip_poll_quote_reply_and_link(h: Harness, net: MastodonAdapter) -> None:
    fan = h.fake.add_user("fan")
    other = h.fake.add_user("other")
    poll = Poll(options=["yes", "no", "maybe"], duration=timedelta(hours=1), multiple=True)
    asked = await net.publish(Post(text="vote", poll=poll))
    assert asked.id is not None
    h.fake.vote(asked.id, fan, [0, 2])
    h.fake.vote(asked.id, other, [0])
    read = await net.get_post(asked.id)
    assert read.poll is not None
    assert read.poll.options == poll.options
    assert read.poll.multiple is True
    assert read.poll.duration == poll.duration
    assert read.poll.votes == [2, 0, 1]
    assert read.poll.expires_at == asked.created_at + poll.duration  # type: ignore[operator]

    quoted = h.fake.publish_as(fan, "quote me")
    quote = await net.publish(Post(text="quoting", quote_of=quoted))
    assert quote.id is not None
    assert (await net.get_post(quote.id)).quote_of == quoted
    reply = await net.publish(Post(text="@fan answering", reply_to=quoted))
    assert reply.id is not None
    assert (await net.get_post(reply.id)).reply_to == quoted

    url = "https://example.com/a/very/long/path/that/mastodon/shows/shortened?with=query"
    linked = await net.publish(Post(text="read this", link=url))
    assert linked.id is not None
    back = await net.get_post(linked.id)
    assert (back.text, back.link) == ("read this", url)
    # Mastodon shows the link shortened (the visible text ends in an ellipsis); the text
    # read back carries the full address.
    assert "invisible" in h.fake.status_of(linked.id)["content"]
    inline = await net.publish(Post(text=f"see {url} today"))
    assert inline.id is not None
    again = await net.get_post(inline.id)
    assert (again.text, again.link) == (f"see {url} today", url)


# -- nothing published twice ---------------------------------------------------------------------


async def test_lost_answers_then_retry_with_the_key_publishes_once(
    h: Harness, net: MastodonAdapter
) -> None:
    def create(request: httpx.Request) -> bool:
        return request.method == "POST" and request.url.path == "/api/v1/statuses"

    h.recorder.lose = create
    with pytest.raises(OutcomeUnknownError) as caught:
        await net.publish(Post(text="exactly once"))
    key = caught.value.idempotency_key
    assert key
    sent_keys = {r.headers["Idempotency-Key"] for r, _ in h.recorder.exchanges if create(r)}
    assert sent_keys == {key}  # every attempt carried the same key
    assert len(h.fake.statuses_of(h.fake.owner)) == 1
    h.recorder.lose = None
    again = await net.publish(Post(text="exactly once"), idempotency_key=key)
    assert h.fake.statuses_of(h.fake.owner) == [again.id]


async def test_unreadable_2xx_is_outcome_unknown(h: Harness, net: MastodonAdapter) -> None:
    h.recorder.garble = lambda r: r.method == "POST" and r.url.path == "/api/v1/statuses"
    with pytest.raises(OutcomeUnknownError) as caught:
        await net.publish(Post(text="garbled"), idempotency_key="my-key-1")
    assert caught.value.idempotency_key == "my-key-1"
    h.recorder.garble = None
    again = await net.publish(Post(text="garbled"), idempotency_key="my-key-1")
    assert h.fake.statuses_of(h.fake.owner) == [again.id]


async def test_a_callers_key_is_honoured(h: Harness, net: MastodonAdapter) -> None:
    first = await net.publish(Post(text="keyed"), idempotency_key="order-42")
    second = await net.publish(Post(text="keyed"), idempotency_key="order-42")
    assert first.id == second.id
    assert h.fake.statuses_of(h.fake.owner) == [first.id]
    thread = Post(text="one", thread=[Post(text="two")])
    out = await net.publish(thread, idempotency_key="thread-7")
    sent = [
        r.headers["Idempotency-Key"]
        for r, _ in h.recorder.exchanges
        if r.method == "POST" and r.url.path == "/api/v1/statuses"
    ]
    assert sent[-2:] == ["thread-7", "thread-7/1"]
    again = await net.publish(thread, idempotency_key="thread-7")
    assert again.id == out.id
    assert again.thread[0].id == out.thread[0].id
    assert len(h.fake.statuses_of(h.fake.owner)) == 3


async def test_lost_upload_answer_is_outcome_unknown_with_the_key(
    h: Harness, net: MastodonAdapter
) -> None:
    h.recorder.lose = lambda r: r.method == "POST" and r.url.path == "/api/v2/media"
    with pytest.raises(OutcomeUnknownError) as caught:
        await net.publish(Post(text="pic", media=[Media.from_bytes(PNG_1X1)]))
    assert caught.value.idempotency_key
    assert h.fake.statuses_of(h.fake.owner) == []


# -- one read of the instance limits -------------------------------------------------------------


def hold_instance_reads(h: Harness, tasks: int) -> Callable[[], None]:
    """Keep the fake's answer to ``GET /api/v2/instance`` until ``tasks`` publishes have
    started (each calls the returned ``mark``), so that they all need the limits while the
    read is under way."""
    started = anyio.Event()
    count = [0]

    def mark() -> None:
        count[0] += 1
        if count[0] >= tasks:
            started.set()

    async def before(request: httpx.Request) -> None:
        if request.url.path == "/api/v2/instance":
            with anyio.fail_after(10):
                await started.wait()

    h.recorder.before = before
    return mark


async def test_concurrent_cold_publishes_read_the_limits_once(h: Harness) -> None:
    mark = hold_instance_reads(h, 200)
    async with h.connect() as net:
        posted: list[str] = []

        async def one(i: int) -> None:
            mark()
            out = await net.publish(Post(text=f"concurrent {i}"))
            assert out.id is not None
            posted.append(out.id)

        async with anyio.create_task_group() as group:
            for i in range(200):
                group.start_soon(one, i)
    assert len(set(posted)) == 200
    assert calls(h, "GET", "/api/v2/instance") == 1


async def test_a_failed_read_of_the_limits_is_not_kept(h: Harness) -> None:
    fail = {"on": True}

    def instance(request: httpx.Request) -> bool:
        return fail["on"] and request.url.path == "/api/v2/instance"

    h.recorder.lose = instance
    mark = hold_instance_reads(h, 20)
    async with h.connect(retries=1) as net:
        results: list[BaseException | None] = []

        async def one() -> None:
            mark()
            try:
                await net.publish(Post(text="x"))
            except Exception as exc:
                results.append(exc)
            else:
                results.append(None)

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(one)
        assert calls(h, "GET", "/api/v2/instance") == 1  # one flight, shared by all 20
        assert all(r is not None and not isinstance(r, ServerError) for r in results)
        fail["on"] = False
        h.recorder.lose = None
        h.recorder.before = None
        assert (await net.publish(Post(text="now it works"))).id is not None
    assert calls(h, "GET", "/api/v2/instance") == 2


async def test_statuses_json_of_the_fake_is_what_mastodon_sends(h: Harness) -> None:
    # The new endpoints, called raw, answer the schema's bodies (checked by the harness).
    fan = h.fake.add_user("fan")
    post_id = h.fake.publish_as(fan, "raw")
    for action in ("favourite", "reblog", "bookmark", "unreblog"):
        body = {"json": {}} if action == "reblog" else {}
        answer = await h.raw("POST", f"/api/v1/statuses/{post_id}/{action}", **body)
        assert answer.status_code == 200
    relation = await h.raw("POST", f"/api/v1/accounts/{fan.id}/follow", json={})
    assert json.loads(relation.content)["following"] is True


async def test_following_an_unknown_handle_sends_no_follow(
    h: Harness, net: MastodonAdapter
) -> None:
    with pytest.raises(NotFoundError):
        await net.follow("@nobody@nowhere.example")
    assert not [r for r, _ in h.recorder.exchanges if r.url.path.endswith("/follow")]


async def test_feeds_limit_and_an_empty_list(h: Harness, net: MastodonAdapter) -> None:
    first = h.fake.add_list(h.fake.owner, "One")
    h.fake.add_list(h.fake.owner, "Two")
    assert [f.id async for f in net.feeds(limit=1)] == [first]
    assert [p async for p in net.feed(first)] == []
    with pytest.raises(NotFoundError):
        [p async for p in net.feed("999")]


async def test_scheduled_outcome_follows_a_scheduled_status_to_the_status_it_became(
    h: Harness, net: MastodonAdapter
) -> None:
    """``ex_scheduled_outcome``: the ScheduledStatus while the server holds it
    (``GET /api/v1/scheduled_statuses/:id``); once it went out (404 there), the status it
    became, found among the account's statuses since its time, with an id of its own; ``None``
    for one cancelled."""
    at = (h.fake.clock.now() + timedelta(hours=1)).replace(microsecond=0)
    post = Post(text="out by itself", link="https://example.com/a", scheduled_at=at)
    scheduled = await net.publish(post)
    cancelled = await net.publish(Post(text="never out", scheduled_at=at))
    held = await net.ex_scheduled_outcome(scheduled)
    assert held is not None
    assert (held.id, held.scheduled_at) == (scheduled.id, at)
    await net.ex_cancel_scheduled(cancelled.id or "")

    h.fake.clock.set(at + timedelta(minutes=2))
    await net.publish(Post(text="written after it"))
    live = await net.ex_scheduled_outcome(scheduled)
    assert live is not None
    assert live.scheduled_at is None
    assert live.id is not None
    assert live.id != scheduled.id
    assert (live.text, live.link) == ("out by itself", "https://example.com/a")
    assert live.url
    assert (await net.get_post(live.id)).text == "out by itself"
    assert await net.ex_scheduled_outcome(cancelled) is None
    with pytest.raises(ValidationError):
        await net.ex_scheduled_outcome(Post(text="no id"))


async def test_scheduled_outcome_tells_posts_of_the_same_text_apart_by_their_attachments(
    h: Harness, net: MastodonAdapter
) -> None:
    """Two statuses scheduled with the same caption and different pictures: each post
    :meth:`publish` returned (its attachments' ids) finds its own status, where the text alone
    found the same one for both. A post without the ids (the planned post, as the planner
    keeps it) is found by its text and number of attachments."""
    at = (h.fake.clock.now() + timedelta(hours=1)).replace(microsecond=0)
    caption = "today's picture"
    first = await net.publish(
        Post(text=caption, media=[Media.from_bytes(PNG_1X1, alt="one")], scheduled_at=at)
    )
    second = await net.publish(
        Post(text=caption, media=[Media.from_bytes(PNG_1X1, alt="two")], scheduled_at=at)
    )
    text_only = await net.publish(Post(text=caption, scheduled_at=at))
    assert first.media[0].id
    assert second.media[0].id
    assert first.media[0].id != second.media[0].id
    h.fake.clock.set(at + timedelta(minutes=2))
    one = await net.ex_scheduled_outcome(first)
    two = await net.ex_scheduled_outcome(second)
    assert one is not None
    assert two is not None
    assert one.id != two.id
    assert [m.alt for m in one.media] == ["one"]
    assert [m.alt for m in two.media] == ["two"]
    # The planned post has no attachment ids: its text and one attachment.
    planned = Post(
        text=caption,
        media=[Media.from_bytes(PNG_1X1, alt="one")],
        id=first.id,
        scheduled_at=at,
    )
    assert (await net.ex_scheduled_outcome(planned)) in (one, two)
    alone = await net.ex_scheduled_outcome(text_only)
    assert alone is not None
    assert alone.media == []
    assert alone.id not in (one.id, two.id)
