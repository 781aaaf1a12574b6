"""LinkedIn specifics against FakeLinkedIn, whose answers follow the reference pages (under
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/: shares/posts-api,
shares/images-api, shares/videos-api, shares/comments-api,
shares/network-update-social-actions, organizations/share-statistics,
organizations/follower-statistics; OAuth:
https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow and
…/programmatic-refresh-tokens; errors and limits:
https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling and
…/rate-limits)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.adapters._reads import count_reads

from socialkit import Media, Post
from socialkit._errors import (
    ConfigurationError,
    InvalidPostError,
    RateLimitError,
    UnsupportedError,
    ValidationError,
)
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.linkedin import (
    DAILY_LIMIT_HINT,
    LinkedInAdapter,
    LinkedInMediaError,
    escape_little,
    next_reset,
    unescape_little,
)
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeLinkedIn
from socialkit.testing.fakes.linkedin import PART_SIZE

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def connect(fake: FakeLinkedIn, **overrides: Any) -> LinkedInAdapter:
    adapter = fake.connect(retry_wait=False, **overrides)
    assert isinstance(adapter, LinkedInAdapter)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


# -- settings and login ----------------------------------------------------------------------


def test_settings_name_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match="socialkit auth login linkedin"):
        build_settings(LinkedInAdapter, {})
    with pytest.raises(ConfigurationError, match="client_id"):
        build_settings(LinkedInAdapter, {"access_token": "a", "refresh_token": "r"})
    with pytest.raises(ConfigurationError, match="author"):
        build_settings(LinkedInAdapter, {"access_token": "a", "author": "urn:li:share:1"})
    with pytest.raises(ConfigurationError, match="version"):
        build_settings(LinkedInAdapter, {"access_token": "a", "version": "2024-01"})


async def test_login_then_calls_with_the_stored_token() -> None:
    fake = FakeLinkedIn(as_organization=False)
    store = MemoryStore()
    settings = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "token_url": f"{fake.base_url}/oauth/v2/accessToken",
        "authorize_url": f"{fake.base_url}/oauth/v2/authorization",
        "base_url": fake.base_url,
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "store": store,
    }
    login = LinkedInAdapter.connect(http=fake.client(), require_credentials=False, **settings)
    request = login.ex_authorization_url(scopes=["openid", "profile", "w_member_social"])
    query = parse_qs(urlsplit(request.url).query)
    assert query["client_id"] == [fake.client_id]
    assert query["scope"] == ["openid profile w_member_social"]
    assert query["response_type"] == ["code"]
    token = await login.ex_exchange_code(request, fake.approve(request.url))
    assert token.refresh_token is not None
    await login.aclose()
    async with LinkedInAdapter.connect(http=fake.client(), **settings) as linkedin:
        me = await linkedin.me()
    assert me.id == fake.member_urn(fake.owner)


async def test_not_logged_in_names_the_command() -> None:
    from socialkit.auth import AuthFlowError

    fake = FakeLinkedIn()
    adapter = LinkedInAdapter.connect(
        http=fake.client(),
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        store=MemoryStore(),
    )
    with pytest.raises(AuthFlowError, match="socialkit auth login linkedin"):
        async with adapter:
            pass


async def test_an_expired_access_token_is_refreshed() -> None:
    fake = FakeLinkedIn()
    async with connect(fake) as linkedin:
        await linkedin.me()
        fake.expire_access_tokens()
        posted = await linkedin.publish(Post(text="after a refresh"))
    assert posted.id in fake.posts


async def test_secrets_stay_out_of_reprs() -> None:
    fake = FakeLinkedIn()
    adapter = connect(fake)
    text = f"{adapter!r} {adapter.settings!r}"
    assert fake.client_secret not in text
    assert adapter.settings.access_token is not None
    assert adapter.settings.access_token.get_secret_value() not in text
    await adapter.aclose()


# -- every call ------------------------------------------------------------------------------


async def test_every_call_carries_the_version_and_restli_headers() -> None:
    fake = FakeLinkedIn()
    async with connect(fake, version="202401") as linkedin:
        posted = await linkedin.publish(
            Post(text="with a picture", media=[Media.from_bytes(c.PNG_1X1, alt="px")])
        )
        assert posted.id is not None
        await linkedin.get_post(posted.id)
        await linkedin.metrics([posted.id])
    rest = [(m, p, h) for m, p, h in fake.requests if p.startswith("/rest/")]
    assert len(rest) >= 5
    for _, _, headers in rest:
        assert headers["linkedin-version"] == "202401"
        assert headers["x-restli-protocol-version"] == "2.0.0"


async def test_bad_ids_are_refused_before_any_request() -> None:
    fake = FakeLinkedIn()
    async with connect(fake) as linkedin:
        await linkedin.me()
        before = len(fake.requests)
        for call in (
            linkedin.get_post("1/../../v2/userinfo"),
            linkedin.delete("urn:li:share:abc"),
            linkedin.like("urn:li:person:1"),
            linkedin.metrics(["urn:li:comment:(x)"]),
        ):
            with pytest.raises(ValidationError):
                await call
        with pytest.raises(InvalidPostError):
            await linkedin.publish(Post(text="hi", reply_to="not-a-urn"))
        assert len(fake.requests) == before


# -- the little format -----------------------------------------------------------------------


def test_escape_and_unescape() -> None:
    text = "a|b{c}d@e[f]g(h)i<j>k#l\\m*n_o~p"
    assert escape_little(text) == "a\\|b\\{c\\}d\\@e\\[f\\]g\\(h\\)i\\<j\\>k\\#l\\\\m\\*n\\_o\\~p"
    assert unescape_little(escape_little(text)) == text
    assert unescape_little("Hi @[Acme \\(EU\\)](urn:li:organization:1) {hashtag|\\#|news}") == (
        "Hi Acme (EU) #news"
    )


async def test_edit_escapes_the_new_text() -> None:
    fake = FakeLinkedIn()
    async with connect(fake) as linkedin:
        posted = await linkedin.publish(Post(text="first"))
        assert posted.id is not None
        edited = await linkedin.edit(posted.id, Post(text="second (better)"))
    assert edited.text == "second (better)"
    assert fake.posts[posted.id].commentary == "second \\(better\\)"
    assert fake.posts[posted.id].edited


# -- media -----------------------------------------------------------------------------------


async def test_a_video_goes_up_in_parts_and_waits_until_available() -> None:
    fake = FakeLinkedIn()
    content = c.MP4_HEAD + bytes(2 * PART_SIZE + 1000)
    async with connect(fake) as linkedin:
        uploaded = await linkedin.upload(Media.from_bytes(content, mime_type="video/mp4"))
    asset = fake.assets[uploaded.id]
    assert len(asset.parts) == 3
    assert b"".join(asset.received[i] for i in range(3)) == content
    assert fake.asset_states(uploaded.id) == ["PROCESSING", "AVAILABLE"]
    assert uploaded.kind == "video"
    assert uploaded.url


class _FailOnce(httpx.AsyncBaseTransport):
    """Answers the ``nth`` part PUT with a 503 once, before the fake sees it."""

    def __init__(self, fake: FakeLinkedIn, nth: int) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.nth = nth
        self.puts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts.append(request.url.path)
            if len(self.puts) == self.nth:
                return httpx.Response(503)
        return await self.inner.handle_async_request(request)


async def test_a_video_file_is_read_one_part_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # shares/videos-api "Upload the Video": initializeUpload answers uploadInstructions, one
    # {uploadUrl, firstByte, lastByte} per 4 MB part, each PUT with those bytes. A video may be
    # 500 MB: the file is read one part at a time, never whole, and a part sent again after a
    # 5xx carries the same bytes.
    path = tmp_path / "clip.mp4"
    content = c.MP4_HEAD + random.Random(7).randbytes(2 * PART_SIZE + 1000)
    path.write_bytes(content)
    media = Media.from_path(path)
    reads = count_reads(monkeypatch, path)
    fake = FakeLinkedIn()
    transport = _FailOnce(fake, nth=2)
    linkedin = connect(fake, http=httpx.AsyncClient(transport=transport))
    async with linkedin:
        uploaded = await linkedin.upload(media)
    asset = fake.assets[uploaded.id]
    assert asset.parts == [
        (0, PART_SIZE - 1),
        (PART_SIZE, 2 * PART_SIZE - 1),
        (2 * PART_SIZE, len(content) - 1),
    ]
    assert b"".join(asset.received[i] for i in range(3)) == content
    assert [p.rsplit("/", 1)[1] for p in transport.puts] == ["0", "1", "1", "2"]
    assert uploaded.size == len(content)
    # One read per part, each no larger than the part: never the whole file.
    assert reads == [PART_SIZE, PART_SIZE, len(content) - 2 * PART_SIZE]


async def test_a_failed_upload_publishes_nothing() -> None:
    fake = FakeLinkedIn()
    fake.fail_next_media()
    async with connect(fake) as linkedin:
        with pytest.raises(LinkedInMediaError, match="could not process"):
            await linkedin.publish(Post(text="broken", media=[Media.from_bytes(c.MP4_HEAD)]))
    assert fake.own_posts() == []


def test_preflight_rules() -> None:
    fake = FakeLinkedIn()
    adapter = connect(fake)
    image = Media.from_bytes(c.PNG_1X1)
    codes = {
        "link_with_media": Post(text="x", link="https://example.com", media=[image]),
        "unsupported_visibility": Post(text="x", visibility="direct"),
        "quote_with_content": Post(text="x", quote_of="urn:li:share:1", media=[image]),
        "invalid_id": Post(text="x", quote_of="share 1"),
    }
    for code, post in codes.items():
        assert code in [p.code for p in adapter.check(post)], code
    organization_only = Post(text="x", visibility="followers")
    assert "unsupported_visibility" in [p.code for p in adapter.check(organization_only)]
    gif = Media.from_bytes(c.GIF_1X1)
    assert "unsupported" in [p.code for p in adapter.check(Post(text="x", media=[gif]))]


# -- limits ----------------------------------------------------------------------------------


async def test_a_daily_limit_is_reported_clearly() -> None:
    fake = FakeLinkedIn()
    async with connect(fake, retries=3) as linkedin:
        await linkedin.me()
        fake.throttle(3)
        with pytest.raises(RateLimitError) as info:
            await linkedin.me()
        assert info.value.status == 429
        assert info.value.code == "TOO_MANY_REQUESTS"
        assert "midnight UTC" in str(info.value)
        assert DAILY_LIMIT_HINT in str(info.value)
        fake.throttle(1)  # a short burst: the backoff gets through
        assert (await linkedin.me()).id == fake.organization_urn


def test_next_reset_is_midnight_utc() -> None:
    from datetime import datetime, timezone

    moment = datetime(2026, 3, 4, 23, 59, tzinfo=timezone.utc)
    assert next_reset(moment) == datetime(2026, 3, 5, tzinfo=timezone.utc)


# -- metrics, comments and likes ----------------------------------------------------------------


async def test_organization_statistics() -> None:
    fake = FakeLinkedIn()
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    async with connect(fake) as linkedin:
        posted = await linkedin.publish(Post(text="measured"))
        assert posted.id is not None
        fake.view(posted.id, 200)
        fake.click(posted.id, 6)
        fake.like(posted.id, fans[0])
        fake.reply(posted.id, fans[1], "nice")
        fake.repost(posted.id, fans[2])
        for fan in fans:
            fake.follow(fan, fake.owner)
        values = {m.name: m.value for m in (await linkedin.metrics([posted.id]))[posted.id]}
        assert values == {
            "impressions": 200,
            "reach": 100,
            "clicks": 6,
            "likes": 1,
            "replies": 1,
            "reposts": 1,
            "engagement_rate": (6 + 1 + 1 + 1) / 200,
        }
        lifetime = {m.name: m.value for m in await linkedin.account_metrics()}
        assert lifetime["followers"] == 3
        assert lifetime["impressions"] == 200
        now = fake.clock.now()
        window = await linkedin.account_metrics(
            since=now - timedelta(days=2), until=now + timedelta(days=1)
        )
        by_name = {m.name: m for m in window}
        assert by_name["followers_gained"].value == 3
        assert by_name["impressions"].value == 200
        assert by_name["impressions"].start is not None


async def test_a_member_gets_likes_and_comments_but_no_account_statistics() -> None:
    fake = FakeLinkedIn(as_organization=False)
    fan = fake.add_user("fan")
    async with connect(fake) as linkedin:
        posted = await linkedin.publish(Post(text="as myself"))
        assert posted.id is not None
        assert fake.posts[posted.id].author == fake.member_urn(fake.owner)
        fake.like(posted.id, fan)
        fake.reply(posted.id, fan, "hello")
        values = {m.name: m.value for m in (await linkedin.metrics([posted.id]))[posted.id]}
        assert values == {"likes": 1, "replies": 1}
        with pytest.raises(UnsupportedError, match="organizations"):
            await linkedin.account_metrics()


async def test_comments_replies_and_likes() -> None:
    fake = FakeLinkedIn()
    fan = fake.add_user("fan")
    async with connect(fake) as linkedin:
        posted = await linkedin.publish(Post(text="talk to me"))
        assert posted.id is not None
        fake.reply(posted.id, fan, "a question [really]")
        messages = [m async for m in linkedin.messages()]
        assert [(m.kind, m.text, m.post_id) for m in messages] == [
            ("comment", "a question [really]", posted.id)
        ]
        answer = await linkedin.reply(messages[0], "an answer")
        assert answer.reply_to == messages[0].id
        assert (await linkedin.get_post(answer.id or "")).reply_to == messages[0].id
        await linkedin.like(posted.id)
        await linkedin.like(posted.id)
        assert fake.has("like", fake.owner.id, posted.id)
        await linkedin.delete(answer.id or "")
        assert answer.id not in fake.comments
        await linkedin.delete(posted.id)
        await linkedin.delete(posted.id)  # already gone: no error
    assert posted.id not in fake.posts


async def test_a_create_answered_without_its_id_is_found() -> None:
    """A 2xx without ``x-restli-id`` (a proxy dropped it): the post exists; it is looked up."""
    fake = FakeLinkedIn()

    class DropHeader(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=fake.app)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            if request.method == "POST" and request.url.path == "/rest/posts":
                return httpx.Response(201)
            return response

    linkedin = connect(fake, http=httpx.AsyncClient(transport=DropHeader()))
    async with linkedin:
        posted = await linkedin.publish(Post(text="found again"), idempotency_key="k1")
        again = await linkedin.publish(Post(text="found again"), idempotency_key="k1")
    assert fake.own_posts() == [posted.id] == [again.id]


async def test_a_lost_comment_answer_is_reconciled_once() -> None:
    """A comment whose answer was lost (the fake made it): OutcomeUnknownError with the key;
    the retry with the key finds it instead of commenting twice. Also for a nested reply."""
    from socialkit._errors import OutcomeUnknownError

    fake = FakeLinkedIn()
    fan = fake.add_user("fan")
    mine = fake.publish_as(fake.owner, "my post")
    question = fake.reply(mine, fan, "a question")

    class LoseOnce(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=fake.app)
            self.losses = 2

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            lost = request.method == "POST" and request.url.path.endswith("/comments")
            if lost and self.losses > 0:
                self.losses -= 1
                await response.aread()
                raise httpx.ReadTimeout("lost", request=request)
            return response

    linkedin = connect(fake, http=httpx.AsyncClient(transport=LoseOnce()), retries=1)
    async with linkedin:
        for target, key in ((mine, "on-post"), (question, "on-comment")):
            with pytest.raises(OutcomeUnknownError) as info:
                await linkedin.publish(Post(text="an answer", reply_to=target), idempotency_key=key)
            assert info.value.idempotency_key == key
            again = await linkedin.publish(
                Post(text="an answer", reply_to=target), idempotency_key=key
            )
            assert again.reply_to == target
    answers = [c for c in fake.comments.values() if c.text == "an answer"]
    assert len(answers) == 2
    assert {c.parent for c in answers} == {None, question}


@pytest.mark.parametrize(
    ("upload", "with_token"),
    [
        ("https://www.linkedin.com/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploadedImage/0", True),
        ("https://uploads.example/C4E10AQFoyyAjHPMQuQ/0", False),
    ],
)
async def test_the_token_goes_only_to_linkedin_upload_hosts(upload: str, with_token: bool) -> None:
    """shares/images-api "Upload the Image": the sample sends the bearer token to LinkedIn's
    upload URL; a URL on another host gets none."""
    import respx
    from linkedin_fixtures import ACCESS, BASE, ORG, enc

    image = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
    router = respx.MockRouter(assert_all_called=False)
    router.post(f"{BASE}/rest/images", params={"action": "initializeUpload"}).mock(
        return_value=c.json_response(200, {"value": {"uploadUrl": upload, "image": image}})
    )
    put = router.put(upload).mock(return_value=httpx.Response(201))
    router.get(f"{BASE}/rest/images/{enc(image)}").mock(
        return_value=c.json_response(200, {"id": image, "owner": ORG, "status": "AVAILABLE"})
    )
    values = {"base_url": BASE, "access_token": ACCESS, "author": ORG, "store": MemoryStore()}
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with LinkedInAdapter(build_settings(LinkedInAdapter, values), http=http) as linkedin:
        await linkedin.upload(Media.from_bytes(c.PNG_1X1))
    sent = put.calls.last.request.headers.get("authorization")
    assert sent == (f"Bearer {ACCESS}" if with_token else None)
    await http.aclose()


async def test_comments_and_likes_of_any_post_page_by_offset() -> None:
    fake = FakeLinkedIn()
    fans = [fake.add_user(f"fan{i}") for i in range(5)]
    post = fake.publish_as(fans[0], "someone else's post")
    for fan in fans:
        fake.clock.advance(minutes=1)
        fake.like(post, fan)
        fake.reply(post, fan, f"from {fan.handle}")
    async with connect(fake) as linkedin:
        first = linkedin.ex_comments(post, limit=2)
        got = [m.text async for m in first]
        rest = [m.text async for m in linkedin.ex_comments(post, cursor=first.cursor)]
        assert len(got) == 2
        assert sorted(got + rest) == sorted(f"from {f.handle}" for f in fans)
        likers = [a.id async for a in linkedin.ex_likes(post)]
        assert sorted(likers) == sorted(fake.member_urn(f) for f in fans)
        with pytest.raises(ValidationError):
            linkedin.ex_likes("urn:li:person:1")


async def test_a_refresh_token_alone_gets_an_access_token_first() -> None:
    fake = FakeLinkedIn()
    settings = fake.settings()
    del settings["access_token"]
    async with LinkedInAdapter.connect(http=fake.client(), retry_wait=False, **settings) as li:
        before = len(fake.access)
        me = await li.me()
    assert me.id == fake.organization_urn
    assert len(fake.access) == before + 1
    assert [p for _, p, _ in fake.requests] == ["/rest/organizations/2414183"]


async def test_follower_statistics_as_linkedin_sends_them() -> None:
    fake = FakeLinkedIn()
    fan = fake.add_user("fan")
    fake.follow(fan, fake.owner)
    async with connect(fake) as linkedin:
        lifetime = await linkedin.ex_follower_statistics()
        assert lifetime[0]["organizationalEntity"] == fake.organization_urn
        assert "followerCountsBySeniority" in lifetime[0]
        now = fake.clock.now()
        daily = await linkedin.ex_follower_statistics(
            since=now - timedelta(days=3), until=now + timedelta(days=1)
        )
        assert len(daily) == 4
        assert sum(d["followerGains"]["organicFollowerGain"] for d in daily) == 1
        with pytest.raises(ValidationError):
            await linkedin.ex_follower_statistics(since=now, until=now)
    member = FakeLinkedIn(as_organization=False)
    async with connect(member) as linkedin:
        with pytest.raises(UnsupportedError):
            await linkedin.ex_follower_statistics()
