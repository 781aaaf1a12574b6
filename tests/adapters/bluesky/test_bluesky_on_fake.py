"""The common interface of issue 11 on Bluesky: the real adapter against FakeBluesky.

Engagement (likes, reposts, bookmarks, follows, blocks, mutes, hidden replies), people,
timeline and feeds, standalone uploads, lossless read-back, resumable paging and idempotent
publishing. Every request the adapter sends and every answer of the fake is validated against
the official lexicons (../shared/specs/bluesky/lexicons) with ``LexiconChecker`` when each test
ends; the fake's state is read through ``FakeBluesky.has`` and its records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests._specs import specs_dir
from tests._validation.lexicon import LexiconChecker

from socialkit import (
    Account,
    Feed,
    Media,
    NotFoundError,
    OutcomeUnknownError,
    Post,
    UnsupportedError,
    ValidationError,
)
from socialkit._registry import connect
from socialkit.adapters.bluesky import BlueskyAdapter
from socialkit.adapters.bluesky._tid import is_tid, tid_for_key
from socialkit.testing.conformance import GIF_1X1, MP4_HEAD, PNG_1X1
from socialkit.testing.fakes import FakeBluesky

pytestmark = pytest.mark.spec

# A 2x1 PNG (IHDR width 2, height 1): a second, different image.
PNG_2X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000010806000000f478d4fa"
    "0000000d49444154789c63f8cfc0f01f0005000201a4a2d0ea0000000049454e44ae426082"
)


class Traffic:
    """Records exchanges and collects their lexicon violations."""

    def __init__(self, checker: LexiconChecker) -> None:
        self.checker = checker
        self.problems: list[str] = []
        self.sent: list[tuple[httpx.Request, httpx.Response]] = []

    async def on_response(self, response: httpx.Response) -> None:
        await response.aread()
        request = response.request
        self.sent.append((request, response))
        if request.url.path == "/xrpc/com.atproto.sync.getBlob":
            return  # bytes, not JSON
        if "/xrpc/" not in request.url.path:
            return  # the image CDN
        found = self.checker.request_violations(request)
        found += self.checker.response_violations(request, response)
        self.problems += [f"{request.method} {request.url.path}: {p}" for p in found]

    def calls(self, nsid: str) -> list[httpx.Request]:
        return [r for r, _ in self.sent if r.url.path == f"/xrpc/{nsid}"]


@pytest.fixture(scope="module")
def checker() -> LexiconChecker:
    return LexiconChecker([specs_dir("bluesky", "lexicons")])


@pytest.fixture
def traffic(checker: LexiconChecker) -> Iterator[Traffic]:
    recorded = Traffic(checker)
    yield recorded
    assert not recorded.problems, "\n".join(recorded.problems)


@pytest.fixture
def fake() -> FakeBluesky:
    return FakeBluesky(seed=3)


def adapter(
    fake: FakeBluesky,
    traffic: Traffic,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> BlueskyAdapter:
    http = httpx.AsyncClient(
        transport=transport or httpx.ASGITransport(app=fake.app),
        event_hooks={"response": [traffic.on_response]},
    )
    made = connect("bluesky", http=http, **{**fake.settings(), "retry_wait": False, **overrides})
    assert isinstance(made, BlueskyAdapter)
    return made


# -- engagement -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_like_and_repost_are_idempotent(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "like me")
    me = fake.owner.id
    async with adapter(fake, traffic) as net:
        await net.like(theirs)
        await net.like(theirs)  # already liked: nothing more
        await net.repost(theirs)
        await net.repost(theirs)
        assert fake.has("like", me, theirs)
        assert fake.has("repost", me, theirs)
        assert len(fake.records(fake.owner, "app.bsky.feed.like")) == 1
        assert len(fake.records(fake.owner, "app.bsky.feed.repost")) == 1
        metrics = {m.name: m.value for m in (await net.metrics([theirs]))[theirs]}
        assert (metrics["likes"], metrics["reposts"]) == (1, 1)
        await net.unlike(theirs)
        await net.unlike(theirs)  # not liked any more: fine
        await net.unrepost(theirs)
        await net.unrepost(theirs)
    assert not fake.has("like", me, theirs)
    assert not fake.has("repost", me, theirs)
    assert fake.records(fake.owner, "app.bsky.feed.like") == []
    assert fake.records(fake.owner, "app.bsky.feed.repost") == []


@pytest.mark.anyio
async def test_unlike_takes_back_a_like_made_in_the_app(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    # A like made elsewhere has a record key the adapter did not choose: the AppView's
    # viewer.like names it.
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "liked in the app")
    fake.like(theirs, fake.owner)
    async with adapter(fake, traffic) as net:
        await net.like(theirs)  # already liked (viewer.like): no second record
        assert len(fake.records(fake.owner, "app.bsky.feed.like")) == 1
        await net.unlike(theirs)
    assert not fake.has("like", fake.owner.id, theirs)


@pytest.mark.anyio
async def test_engagement_without_an_appview_reads_the_repository(traffic: Traffic) -> None:
    fake = FakeBluesky(appview=False)
    async with adapter(fake, traffic) as net:
        mine = await net.publish(Post(text="a post on a PDS without AppView"))
        assert mine.id is not None
        await net.like(mine.id)
        await net.like(mine.id)
        assert len(fake.records(fake.owner, "app.bsky.feed.like")) == 1
        await net.unlike(mine.id)
        assert fake.records(fake.owner, "app.bsky.feed.like") == []
        with pytest.raises(UnsupportedError, match="AppView"):
            await net.bookmark(mine.id)
        with pytest.raises(UnsupportedError, match="AppView"):
            await net.mute(fake.owner.handle)


@pytest.mark.anyio
async def test_bookmarks_are_idempotent(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "keep this")
    async with adapter(fake, traffic) as net:
        await net.bookmark(theirs)
        await net.bookmark(theirs)
        assert fake.has("bookmark", fake.owner.id, theirs)
        await net.unbookmark(theirs)
        await net.unbookmark(theirs)
    assert not fake.has("bookmark", fake.owner.id, theirs)


@pytest.mark.anyio
async def test_follow_block_and_mute_by_handle_did_and_account(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    fan = fake.add_user("fan")
    me = fake.owner.id
    async with adapter(fake, traffic) as net:
        await net.follow(fan.handle)
        await net.follow("@" + fan.handle)
        await net.follow(fan.id)
        assert fake.has("follow", me, fan.id)
        assert len(fake.records(fake.owner, "app.bsky.graph.follow")) == 1
        who = await net.account(fan.id)
        await net.block(who)
        await net.block(who)
        assert fake.has("block", me, fan.id)
        await net.mute(fan.handle)
        await net.mute(fan.handle)
        assert fake.has("mute", me, fan.id)
        await net.unfollow(fan.handle)
        await net.unfollow(fan.handle)
        await net.unblock(fan.id)
        await net.unblock(fan.id)
        await net.unmute(who)
    assert not fake.has("follow", me, fan.id)
    assert not fake.has("block", me, fan.id)
    assert not fake.has("mute", me, fan.id)


@pytest.mark.anyio
async def test_unfollow_takes_back_a_follow_made_in_the_app(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    fan = fake.add_user("fan")
    fake.follow(fake.owner, fan)
    async with adapter(fake, traffic) as net:
        await net.follow(fan.handle)  # viewer.following: nothing more
        assert len(fake.records(fake.owner, "app.bsky.graph.follow")) == 1
        await net.unfollow(fan.handle)
    assert not fake.has("follow", fake.owner.id, fan.id)


@pytest.mark.anyio
async def test_hide_and_unhide_a_reply_through_the_threadgate(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    fan = fake.add_user("fan")
    troll = fake.add_user("troll")
    async with adapter(fake, traffic) as net:
        root = await net.publish(Post(text="my thread"))
        assert root.id is not None
        rude = fake.reply(root.id, troll, "rude")
        kind = fake.reply(root.id, fan, "kind")
        deep = fake.reply(kind, troll, "rude again, deeper in the thread")
        replies = [m async for m in net.messages(kinds={"reply"})]
        await net.hide(next(m for m in replies if m.id == rude))  # a Message
        await net.hide(deep)  # an AT-URI; a deeper reply is hidden in the root's gate
        await net.hide(deep)  # hidden already: nothing more
        gate = fake.records(fake.owner, "app.bsky.feed.threadgate")
        assert len(gate) == 1
        assert gate[0]["uri"].endswith("/" + root.id.rsplit("/", 1)[1])  # the root's key
        assert gate[0]["value"]["hiddenReplies"] == [rude, deep]
        assert fake.has("hide", fake.owner.id, rude)
        await net.unhide(rude)
        await net.unhide(rude)
        assert not fake.has("hide", fake.owner.id, rude)
        assert fake.has("hide", fake.owner.id, deep)
        # a reply in someone else's thread cannot be hidden by this account
        theirs = fake.publish_as(fan, "the fan's thread")
        other = fake.reply(theirs, troll, "rude to the fan")
        sent = len(traffic.calls("com.atproto.repo.putRecord"))
        with pytest.raises(ValidationError, match="another account"):
            await net.hide(other)
        with pytest.raises(ValidationError, match="not a reply"):
            await net.hide(root.id)
        assert len(traffic.calls("com.atproto.repo.putRecord")) == sent


# -- people and feeds ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_account_by_handle_or_did(fake: FakeBluesky, traffic: Traffic) -> None:
    fan = fake.add_user("fan", name="The Fan")
    async with adapter(fake, traffic) as net:
        by_handle = await net.account(fan.handle)
        by_at = await net.account("@" + fan.handle)
        by_did = await net.account(fan.id)
        assert by_handle.id == by_at.id == by_did.id == fan.id
        assert by_did.handle == fan.handle
        assert by_did.name == "The Fan"
        with pytest.raises(NotFoundError):
            await net.account("nobody.bsky.test")
        sent = len(traffic.sent)
        for bad in ("not a handle", "did:bad", "../../xrpc", "@", ""):
            with pytest.raises(ValidationError):
                await net.account(bad)
        assert len(traffic.sent) == sent, "bad ids are refused before any request"


@pytest.mark.anyio
async def test_account_without_appview_uses_describe_repo(traffic: Traffic) -> None:
    fake = FakeBluesky(appview=False)
    fan = fake.add_user("fan")
    async with adapter(fake, traffic) as net:
        found = await net.account("@" + fan.handle)
        assert (found.id, found.handle) == (fan.id, fan.handle)
        with pytest.raises(NotFoundError):
            await net.account("did:plc:nobody22222222222222222")
        with pytest.raises(UnsupportedError, match="AppView"):
            [a async for a in net.followers()]


@pytest.mark.anyio
async def test_followers_and_following_page_and_resume(fake: FakeBluesky, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(5)]
    for fan in fans:
        fake.follow(fan)  # the fans follow the owner
    fake.follow(fake.owner, fans[0])
    async with adapter(fake, traffic) as net:
        first = net.followers(limit=2)
        got = [a.id async for a in first]
        assert got == [fans[4].id, fans[3].id]  # newest first
        rest = [a.id async for a in net.followers(cursor=first.cursor)]
        assert rest == [fans[2].id, fans[1].id, fans[0].id]
        assert [a.id async for a in net.following()] == [fans[0].id]
        assert [a.id async for a in net.followers(Account(id=fans[0].id))] == [fake.owner.id]
        assert [a.handle async for a in net.following(fans[0].handle)] == [fake.owner.handle]


@pytest.mark.anyio
async def test_timeline_has_followed_posts_and_reposts(fake: FakeBluesky, traffic: Traffic) -> None:
    friend = fake.add_user("friend")
    stranger = fake.add_user("stranger")
    fake.follow(fake.owner, friend)
    old = fake.publish_as(stranger, "an old post of a stranger")
    said = fake.publish_as(friend, "the friend speaks")
    fake.publish_as(stranger, "nobody follows me")
    fake.repost(old, friend)
    async with adapter(fake, traffic) as net:
        mine = await net.publish(Post(text="my own post"))
        timeline = [p async for p in net.timeline()]
    assert [p.id for p in timeline] == [mine.id, old, said]
    reposted = timeline[1]
    assert reposted.created_at is not None
    assert reposted.raw.reason["by"]["did"] == friend.id


@pytest.mark.anyio
async def test_the_posts_of_a_page_share_their_author(fake: FakeBluesky, traffic: Traffic) -> None:
    friend = fake.add_user("friend")
    fake.publish_as(friend, "one")
    fake.publish_as(friend, "two")
    async with adapter(fake, traffic) as net:
        got = [p async for p in net.posts(account=friend.handle)]
    assert [p.text for p in got] == ["two", "one"]
    assert got[0].author is got[1].author
    assert got[0].author is not None
    assert got[0].author.id == friend.id


@pytest.mark.anyio
async def test_feeds_lists_and_generators(fake: FakeBluesky, traffic: Traffic) -> None:
    friend = fake.add_user("friend")
    other = fake.add_user("other")
    listed = fake.add_list(fake.owner, "Friends", [friend], description="close ones")
    generator = fake.add_feed_generator(other, "Cats", matching="cat")
    fake.save_feed(fake.owner, generator)
    said = fake.publish_as(friend, "hello from a friend")
    cat = fake.publish_as(other, "a cat picture")
    async with adapter(fake, traffic) as net:
        feeds = [f async for f in net.feeds()]
        assert [(f.kind, f.name, f.id) for f in feeds] == [
            ("list", "Friends", listed),
            ("feed", "Cats", generator),
        ]
        assert feeds[0].members_count == 1
        assert feeds[0].description == "close ones"
        assert [p.id async for p in net.feed(feeds[0])] == [said]
        assert [p.id async for p in net.feed(generator)] == [cat]
        sent = len(traffic.sent)
        for bad in ("at://did:plc:x/app.bsky.feed.post/3kabcdefghij2", "not-a-uri"):
            with pytest.raises(ValidationError):
                net.feed(bad)
        with pytest.raises(ValidationError):
            net.feed(Feed(id=listed, network="mastodon", name="x"))
        assert len(traffic.sent) == sent


# -- upload and read-back ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_upload_once_attach_twice(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic) as net:
        uploaded = await net.upload(Media.from_bytes(PNG_1X1, alt="a dot"))
        assert uploaded.reusable
        assert uploaded.network == "bluesky"
        assert uploaded.size == len(PNG_1X1)
        first = await net.publish(Post(text="one", media=[Media.from_upload(uploaded)]))
        # stored and loaded again (raw is not dumped): the blob ref is rebuilt from its fields
        again = type(uploaded).model_validate(uploaded.model_dump())
        second = await net.publish(
            Post(text="two", media=[Media.from_upload(again, alt="the same dot")])
        )
        assert len(traffic.calls("com.atproto.repo.uploadBlob")) == 1
        back = [await net.get_post(str(p.id)) for p in (first, second)]
        assert [b.media[0].id for b in back] == [uploaded.id, uploaded.id]
        assert [b.media[0].alt for b in back] == ["a dot", "the same dot"]
        with pytest.raises(UnsupportedError, match="gif"):
            await net.upload(Media.from_bytes(GIF_1X1))


@pytest.mark.anyio
@pytest.mark.parametrize("appview", [True, False])
async def test_image_round_trip_field_by_field(appview: bool, traffic: Traffic) -> None:
    fake = FakeBluesky(appview=appview)
    images = [
        Media.from_bytes(PNG_1X1, alt="one dot"),
        Media.from_bytes(PNG_2X1),  # no alt text
    ]
    async with adapter(fake, traffic) as net:
        sent = Post(text="two pictures", media=images, language="en")
        posted = await net.publish(sent)
        back = await net.get_post(str(posted.id))
        for got in (posted, back):
            assert got.text == sent.text
            assert got.language == "en"
            assert len(got.media) == 2
            for original, item in zip(images, got.media, strict=True):
                assert item.kind == "image"
                assert item.alt == original.alt
                assert item.mime_type == original.mime_type
                assert item.size == original.size
                assert (item.width, item.height) == (original.width, original.height)
                assert item.id is not None
                assert item.id.startswith("bafkrei")
                assert item.url is not None
        blob_ids = [m.id for m in back.media]
        assert len(set(blob_ids)) == 2
        if appview:
            assert all(m.preview_url for m in back.media)  # the CDN thumbnails
        # the URL serves the bytes that were posted
        for original, item in zip(images, back.media, strict=True):
            assert item.url is not None
            answer = await net.http.get(item.url)
            assert answer.content == original.data


@pytest.mark.anyio
@pytest.mark.parametrize("appview", [True, False])
async def test_video_round_trip_and_reuse(appview: bool, traffic: Traffic) -> None:
    fake = FakeBluesky(appview=appview)
    clip = Media.from_bytes(MP4_HEAD, alt="a short clip")
    async with adapter(fake, traffic) as net:
        posted = await net.publish(Post(text="a video", media=[clip]))
        back = await net.get_post(str(posted.id))
        for got in (posted, back):
            [item] = got.media
            assert (item.kind, item.alt, item.mime_type, item.size) == (
                "video",
                "a short clip",
                "video/mp4",
                len(MP4_HEAD),
            )
            assert item.id is not None
            assert item.url is not None
        embed = fake.record(str(posted.id))["embed"]
        assert embed["$type"] == "app.bsky.embed.video"
        assert embed["video"]["mimeType"] == "video/mp4"
        if appview:
            assert back.media[0].url.endswith("playlist.m3u8")  # type: ignore[union-attr]
            assert back.media[0].preview_url is not None
        uploaded = await net.upload(Media.from_bytes(MP4_HEAD, alt="uploaded once"))
        assert uploaded.kind == "video"
        again = await net.publish(Post(text="again", media=[Media.from_upload(uploaded)]))
        assert (await net.get_post(str(again.id))).media[0].id == uploaded.id
        assert len(traffic.calls("com.atproto.repo.uploadBlob")) == 2


@pytest.mark.anyio
async def test_quote_with_image_link_card_and_reply_round_trip(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    fan = fake.add_user("fan")
    theirs = fake.publish_as(fan, "quote me")
    async with adapter(fake, traffic) as net:
        quoted = await net.publish(
            Post(text="look", quote_of=theirs, media=[Media.from_bytes(PNG_1X1, alt="dot")])
        )
        card = await net.publish(Post(text="read this", link="https://example.com/article"))
        with_media = await net.publish(
            Post(
                text="pic and link", link="https://example.com/b", media=[Media.from_bytes(PNG_1X1)]
            )
        )
        answer = await net.publish(Post(text="answering", reply_to=theirs))
        for posted in (quoted, card, with_media, answer):
            back = await net.get_post(str(posted.id))
            assert back.quote_of == posted.quote_of
            assert back.reply_to == posted.reply_to
            assert back.link == posted.link
            assert [m.id for m in back.media] == [m.id for m in posted.media]
        assert (await net.get_post(str(quoted.id))).quote_of == theirs
        assert (await net.get_post(str(quoted.id))).media[0].alt == "dot"
        assert card.link == "https://example.com/article"
        assert with_media.link == "https://example.com/b"
        assert answer.reply_to == theirs


@pytest.mark.anyio
async def test_a_direct_message_reply_comes_back_direct(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    fan = fake.add_user("fan")
    fake.direct(fan, "psst")
    async with adapter(fake, traffic) as net:
        messages = [m async for m in net.messages(kinds={"direct"})]
        message = messages[0]
        sent = await net.reply(message, "hello back")
    assert sent.visibility == "direct"
    assert sent.reply_to == message.id
    assert fake.conversation(fan)[-1] == (fake.owner.handle, "hello back")


# -- paging -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_posts_resume_mid_page_with_new_posts_in_between(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    async with adapter(fake, traffic) as net:
        made = [await net.publish(Post(text=f"post {i}")) for i in range(7)]
        newest_first = [p.id for p in reversed(made)]
        walk = net.posts(limit=3)
        assert [p.id async for p in walk] == newest_first[:3]
        stored = walk.cursor
        assert stored is not None
        later = await net.publish(Post(text="published between the runs"))
        # a new walk from the stored cursor: the older posts, none repeated or skipped
        resumed = net.posts(cursor=stored)
        pages = [page async for page in resumed.pages()]
        rest = [p.id for page in pages for p in page.items]
        assert rest == newest_first[3:]
        assert later.id not in rest
        assert pages[-1].last


@pytest.mark.anyio
async def test_messages_resume_across_conversations(fake: FakeBluesky, traffic: Traffic) -> None:
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    expected: list[str] = []
    async with adapter(fake, traffic) as net:
        mine = await net.publish(Post(text="talk to me"))
        assert mine.id is not None
        for round_ in range(3):
            for fan in fans:
                fake.direct(fan, f"dm {round_} from {fan.handle}")
                expected.append(f"dm {round_} from {fan.handle}")
                fake.reply(mine.id, fan, f"reply {round_} from {fan.handle}")
                expected.append(f"reply {round_} from {fan.handle}")
        expected.reverse()  # newest first
        walk = net.messages(kinds={"direct", "reply"}, limit=5)
        first = [m.text async for m in walk]
        assert first == expected[:5]
        fake.direct(fans[0], "arrived between the runs")
        fake.reply(mine.id, fans[1], "also arrived between the runs")
        rest = [m.text async for m in net.messages(kinds={"direct", "reply"}, cursor=walk.cursor)]
        assert rest == expected[5:]


@pytest.mark.anyio
async def test_search_sends_since_and_until(fake: FakeBluesky, traffic: Traffic) -> None:
    # The fake indexes on its own clock and the adapter stamps createdAt on its clock: one
    # clock, or a slow run (the wall clock passing the fake's) finds nothing since `two`.
    async with adapter(fake, traffic, clock=fake.clock.now) as net:
        one = await net.publish(Post(text="needle one"))
        fake.clock.tick()
        two = await net.publish(Post(text="needle two"))
        assert one.created_at is not None
        assert two.created_at is not None
        found = [p.id async for p in net.search("needle", since=two.created_at)]
        assert found == [two.id]
        request = traffic.calls("app.bsky.feed.searchPosts")[-1]
        assert request.url.params["since"].startswith(two.created_at.strftime("%Y-%m-%dT%H:%M"))
        # searchPosts' `until` is exclusive (app.bsky.feed.searchPosts: "before the indicated
        # datetime (not inclusive)").
        older = [p.id async for p in net.search("needle", until=two.created_at)]
        assert one.id in older
        assert two.id not in older


# -- publishing exactly once -----------------------------------------------------------------


class LoseCreates(httpx.AsyncBaseTransport):
    """Forwards to the fake; the answers of the first ``lose`` createRecord calls are lost
    after the fake handled them (a ReadTimeout, as on a dropped connection)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: int) -> None:
        self.inner = inner
        self.lose = lose
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down and not request.url.path.endswith("createRecord"):
            raise httpx.ConnectError("the network is down", request=request)
        response = await self.inner.handle_async_request(request)
        if self.lose > 0 and request.url.path.endswith("com.atproto.repo.createRecord"):
            self.lose -= 1
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.mark.anyio
async def test_outcome_unknown_then_retry_with_the_key_posts_once(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    lossy = LoseCreates(httpx.ASGITransport(app=fake.app), lose=0)
    async with adapter(fake, traffic, transport=lossy) as net:
        await net.me()
        lossy.lose = net.settings.retries  # every attempt loses its answer...
        lossy.down = True  # ...and the read-back cannot reach the PDS either
        with pytest.raises(OutcomeUnknownError) as info:
            await net.publish(Post(text="exactly once"))
        error = info.value
        assert error.idempotency_key is not None
        assert error.post_id is not None
        assert len(fake.records(fake.owner)) == 1  # the first attempt did arrive
        assert fake.records(fake.owner)[0]["uri"] == error.post_id
        lossy.down = False
        again = await net.publish(Post(text="exactly once"), idempotency_key=error.idempotency_key)
        assert again.id == error.post_id
    assert [r["value"]["text"] for r in fake.records(fake.owner)] == ["exactly once"]


@pytest.mark.anyio
async def test_a_caller_key_is_honoured_across_calls(fake: FakeBluesky, traffic: Traffic) -> None:
    async with adapter(fake, traffic) as net:
        first = await net.publish(Post(text="order 1234 shipped"), idempotency_key="order-1234")
        fake.clock.tick()  # a later attempt stamps another createdAt: still the same post
        second = await net.publish(Post(text="order 1234 shipped"), idempotency_key="order-1234")
        assert first.id == second.id
        assert str(first.id).rsplit("/", 1)[1] == tid_for_key("order-1234")
        with pytest.raises(ValidationError, match="already used"):
            await net.publish(Post(text="other content"), idempotency_key="order-1234")
        thread = Post(text="a 1/2", thread=[Post(text="a 2/2")])
        made = await net.publish(thread, idempotency_key="thread-a")
        remade = await net.publish(thread, idempotency_key="thread-a")
        assert [made.id, made.thread[0].id] == [remade.id, remade.thread[0].id]
    texts = [r["value"]["text"] for r in fake.records(fake.owner)]
    assert sorted(texts) == ["a 1/2", "a 2/2", "order 1234 shipped"]


@pytest.mark.anyio
async def test_a_lost_answer_inside_one_publish_is_read_back(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    lossy = LoseCreates(httpx.ASGITransport(app=fake.app), lose=1)
    async with adapter(fake, traffic, transport=lossy) as net:
        posted = await net.publish(Post(text="once", media=[Media.from_bytes(PNG_1X1)]))
    assert [r["uri"] for r in fake.records(fake.owner)] == [posted.id]
    assert is_tid(str(posted.id).rsplit("/", 1)[1])
    assert posted.media[0].id is not None


@pytest.mark.anyio
async def test_bad_post_ids_are_refused_before_any_request(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    async with adapter(fake, traffic) as net:
        await net.me()
        sent = len(traffic.sent)
        for bad in (
            "../../xrpc/com.atproto.server.deleteSession",
            "at://did:plc:x/app.bsky.feed.post/../../x",
            "at://not a repo/app.bsky.feed.post/3kabcdefghij2",
            "at://did:plc:abc/app.bsky.feed.like/3kabcdefghij2",
            "https://bsky.app/profile/x/post/a/b",
            "..",
            "",
        ):
            for call in (net.get_post, net.delete, net.like, net.unlike, net.repost, net.hide):
                with pytest.raises(ValidationError):
                    await call(bad)
        assert len(traffic.sent) == sent


class GarbleCreates(httpx.AsyncBaseTransport):
    """The createRecord answers come back 200 with a body that is not JSON (a broken proxy)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("com.atproto.repo.createRecord"):
            await response.aread()
            return httpx.Response(200, content=b"{not json", request=request)
        return response


@pytest.mark.anyio
async def test_an_unreadable_2xx_answer_is_read_back(fake: FakeBluesky) -> None:
    # the garbled answers are not lexicon traffic: this test records nothing
    http = httpx.AsyncClient(transport=GarbleCreates(httpx.ASGITransport(app=fake.app)))
    net = connect("bluesky", http=http, **{**fake.settings(), "retry_wait": False})
    async with net:
        posted = await net.publish(Post(text="published although the answer was garbled"))
        again = await net.publish(
            Post(text="published although the answer was garbled"),
            idempotency_key=str(posted.id).rsplit("/", 1)[1],  # the key was the record key
        )
    assert posted.id == again.id
    assert [r["uri"] for r in fake.records(fake.owner)] == [posted.id]


@pytest.mark.anyio
async def test_cursors_of_other_iterators_are_refused(fake: FakeBluesky, traffic: Traffic) -> None:
    from socialkit._paging import _encode

    fake.direct(fake.add_user("fan"), "hi")
    async with adapter(fake, traffic) as net:
        posts = net.posts(limit=1)
        await net.publish(Post(text="one"))
        [p async for p in posts]
        with pytest.raises(ValidationError):
            net.messages(cursor=posts.cursor)  # a single-source cursor for a merged walk
        forged = _encode({"m": {"direct": {"c": '{"w": 5, "c": []}', "s": 0}}})
        with pytest.raises(ValidationError):
            [m async for m in net.messages(kinds={"direct"}, cursor=forged)]


class LoseFromNthCreate(httpx.AsyncBaseTransport):
    """From the ``n``-th createRecord on, every answer is lost and nothing else gets through
    (the network went down after the request left)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, n: int) -> None:
        self.inner = inner
        self.n = n
        self.creates = 0
        self.broken = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        is_create = request.url.path.endswith("com.atproto.repo.createRecord")
        if self.broken and not is_create:
            raise httpx.ConnectError("the network is down", request=request)
        response = await self.inner.handle_async_request(request)
        if is_create:
            self.creates += 1
            if self.creates >= self.n:
                self.broken = True
                await response.aread()
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


@pytest.mark.anyio
async def test_a_thread_cut_short_is_completed_with_its_key(
    fake: FakeBluesky, traffic: Traffic
) -> None:
    from socialkit import ThreadIncompleteError

    thread = Post(text="1/3", thread=[Post(text="2/3"), Post(text="3/3")])
    lossy = LoseFromNthCreate(httpx.ASGITransport(app=fake.app), n=3)
    async with adapter(fake, traffic, transport=lossy) as net:
        with pytest.raises(ThreadIncompleteError) as info:
            await net.publish(thread)
    cut = info.value
    assert [p.text for p in cut.published] == ["1/3", "2/3"]
    assert isinstance(cut.cause, OutcomeUnknownError)
    key = cut.cause.idempotency_key
    assert key is not None
    assert key.endswith("/2")
    assert len(fake.records(fake.owner)) == 3  # the third arrived, its answer did not
    async with adapter(fake, traffic) as net:
        done = await net.publish(thread, idempotency_key=key.rsplit("/", 1)[0])
    assert [done.id, *(p.id for p in done.thread)] == [
        *(p.id for p in cut.published),
        cut.cause.post_id,
    ]
    assert sorted(r["value"]["text"] for r in fake.records(fake.owner)) == ["1/3", "2/3", "3/3"]


def test_connect_without_an_account_fails_at_once_naming_the_setting() -> None:
    from socialkit import ConfigurationError

    with pytest.raises(ConfigurationError, match="identifier: required"):
        connect("bluesky")
    with pytest.raises(ConfigurationError, match="identifier"):
        connect("bluesky", identifier="not a handle", password="app-pass-word")
