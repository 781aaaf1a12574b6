"""Behaviour of the Facebook, Instagram and Threads adapters beyond the conformance suites,
against the Graph fakes (traffic checked against Meta's descriptions where recorded): container
polling, usage headers, batches, the error codes, ids checked before any request, unknown
outcomes and the retry with the idempotency key, tokens, scheduling, network rules, webhooks.

Error bodies follow the Graph API's error object ("Handling errors" in the Graph API docs:
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.adapters.meta.meta_support import Recorder, recording_client, violations

from socialkit import Media, Post
from socialkit._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    DuplicateError,
    InvalidPostError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    ServerError,
    TokenExpiredError,
    ValidationError,
)
from socialkit._store import MemoryStore
from socialkit.adapters.meta import (
    LOGIN,
    FacebookAdapter,
    InstagramAdapter,
    ThreadsAdapter,
    appsecret_proof,
    check_delivery,
    decode_graph_error,
    delivery_id,
    signature,
    verify_signature,
    verify_subscription,
)
from socialkit.auth import AuthFlowError, StateMismatchError
from socialkit.testing.fakes import FakeFacebook, FakeInstagram, FakeThreads
from socialkit.testing.fakes._graph import GraphFake
from socialkit.webhooks import EventDeduplicator

pytestmark = pytest.mark.anyio

IMAGE = "https://media.example/cat.jpg"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Session:
    """A fake, the real adapter on it, and the recorded traffic (checked at the end)."""

    def __init__(self, fake: GraphFake, **settings: Any) -> None:
        self.fake = fake
        self.client, self.recorder = recording_client(fake)
        self.net: Any = fake.connect(http=self.client, **settings)
        self.sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        self.net._sleep = sleep

    def paths(self, method: str | None = None) -> list[str]:
        return [
            r.url.path for r, _ in self.recorder.exchanges if method is None or r.method == method
        ]

    async def close(self) -> None:
        await self.net.aclose()
        await self.client.aclose()
        found = violations(self.fake, self.recorder)
        assert not found, "\n".join(found)


@pytest.fixture
async def fb() -> AsyncIterator[Session]:
    session = Session(FakeFacebook())
    yield session
    await session.close()


@pytest.fixture
async def ig() -> AsyncIterator[Session]:
    session = Session(FakeInstagram(processing_polls=3))
    yield session
    await session.close()


@pytest.fixture
async def th() -> AsyncIterator[Session]:
    session = Session(FakeThreads(processing_polls=2))
    yield session
    await session.close()


def image_post(text: str = "a cat") -> Post:
    return Post(text=text, media=[Media.from_url(IMAGE, alt="a cat on a mat")])


# -- containers ------------------------------------------------------------------------------------


async def test_instagram_polls_the_container_until_finished(ig: Session) -> None:
    await ig.net.publish(image_post())
    container_reads = [
        r for r, resp in ig.recorder.exchanges if "status_code" in r.url.params.get("fields", "")
    ]
    answers = [
        json.loads(resp.content)["status_code"]
        for _, resp in ig.recorder.exchanges
        if "status_code" in _.url.params.get("fields", "")
    ]
    assert answers == ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "FINISHED"]
    assert len(container_reads) == 4
    assert ig.sleeps == [0.0, 0.0, 0.0]  # poll_interval of the fake's settings
    assert ig.paths("POST")[-1].endswith("/media_publish")


async def test_threads_polls_media_containers_but_not_text(th: Session) -> None:
    await th.net.publish(Post(text="text needs no processing"))
    assert not [
        r
        for r, _ in th.recorder.exchanges
        if r.url.params.get("fields") == "id,status,error_message"
    ]
    await th.net.publish(image_post())
    answers = [
        json.loads(resp.content)["status"]
        for r, resp in th.recorder.exchanges
        if r.url.params.get("fields") == "id,status,error_message"
    ]
    assert answers == ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]


@pytest.mark.parametrize(
    ("status", "code"), [("ERROR", "media_processing_failed"), ("EXPIRED", "container_expired")]
)
async def test_instagram_container_error_and_expiry_are_clear(
    ig: Session, status: str, code: str
) -> None:
    ig.fake.fail_next_container = status
    with pytest.raises(APIError) as info:
        await ig.net.publish(image_post())
    assert info.value.code == code
    assert "container" in str(info.value)
    assert not ig.fake.of_type("IGMedia", ig.fake.owner.id), "nothing may be published"
    assert not [p for p in ig.paths("POST") if p.endswith("/media_publish")]


async def test_threads_container_error_names_meta_message(th: Session) -> None:
    th.fake.fail_next_container = "ERROR"
    with pytest.raises(APIError, match="FAILED_PROCESSING_VIDEO"):
        await th.net.publish(image_post())


async def test_container_still_processing_past_media_timeout_is_a_timeout() -> None:
    from socialkit._errors import TimeoutError

    session = Session(FakeInstagram(processing_polls=100), poll_interval=1.0, media_timeout=3.0)
    try:
        with pytest.raises(TimeoutError, match="still IN_PROGRESS"):
            await session.net.publish(image_post())
        assert session.sleeps == [1.0, 1.0, 1.0]
    finally:
        await session.close()


async def test_instagram_checks_the_publishing_limit_first(ig: Session) -> None:
    import socialkit.testing.fakes.instagram as module

    for index in range(module.PUBLISHING_LIMIT):
        ig.fake._new_media(
            ig.fake.owner,
            f"old {index}",
            [{"media_type": "IMAGE", "media_url": IMAGE}],
            _via_api=True,
        )
    with pytest.raises(RateLimitError, match="100 of 100"):
        await ig.net.publish(image_post())
    assert not [p for p in ig.paths("POST")], "no container may be made over the limit"


# -- usage headers and batches ---------------------------------------------------------------------


async def test_usage_at_80_percent_is_tracked_and_calls_go_on(fb: Session) -> None:
    fb.fake.set_usage(80)
    for _ in range(3):
        await fb.net.me()
    state = fb.net.rate_limits["default"]
    assert state.limit == 100
    assert state.remaining <= 20
    assert fb.sleeps == []


async def test_usage_at_100_percent_waits_as_meta_says_or_refuses() -> None:
    session = Session(FakeFacebook(), rate_limit="raise")
    try:
        session.fake.set_usage(100, regain_minutes=2)
        with pytest.raises(RateLimitError) as info:
            await session.net.me()
        assert info.value.retry_after == pytest.approx(120, abs=60)
        assert info.value.code == "80001"
    finally:
        await session.close()


async def test_usage_at_100_percent_is_waited_for_when_the_wait_is_allowed() -> None:
    session = Session(FakeFacebook())  # rate_limit="wait", waits allowed
    waits: list[float] = []
    now = [time.time()]

    async def wait_until_regained(seconds: float) -> None:
        # The pipeline's clock moves with its sleep; Meta gives the access back meanwhile.
        waits.append(seconds)
        now[0] += seconds
        session.fake.set_usage(None)

    session.net.graph  # noqa: B018 -- creates the pipeline's session
    session.net._session._sleep = wait_until_regained
    session.net._session._clock = lambda: now[0]
    try:
        session.fake.set_usage(100, regain_minutes=2)
        account = await session.net.me()
        assert account.id == session.fake.owner.id
        # Refused once (80001, regain in 2 minutes), waited as Meta said, then sent again.
        assert waits == [pytest.approx(120, abs=60)]
        assert len(session.paths("GET")) == 2
    finally:
        await session.close()


async def test_120_metric_lookups_take_three_batch_calls(fb: Session) -> None:
    ids = [fb.fake.publish_as(fb.fake.owner, f"post {i}") for i in range(120)]
    fb.fake.view(ids[7], 42)
    got = await fb.net.metrics(ids)
    assert fb.fake.batch_requests == 3
    assert [p for p in fb.paths("POST")] == ["/v25.0/"] * 3
    assert set(got) == set(ids)
    assert {m.name: m.value for m in got[ids[7]]}["views"] == 42


async def test_instagram_metrics_are_batched_too(ig: Session) -> None:
    ids = [ig.fake.publish_as(ig.fake.owner, f"post {i}") for i in range(60)]
    got = await ig.net.metrics(ids)
    assert ig.fake.batch_requests == 2
    assert {m.native_name for m in got[ids[0]]} == {
        "views",
        "reach",
        "saved",
        "shares",
        "likes",
        "comments",
        "total_interactions",
    }


async def test_a_failed_call_inside_a_batch_is_its_own_error(fb: Session) -> None:
    post = fb.fake.publish_as(fb.fake.owner, "there")
    gone = fb.fake.publish_as(fb.fake.owner, "deleted since")
    fb.fake.objects[gone].deleted = True
    with pytest.raises(NotFoundError):
        await fb.net.metrics([post, gone])
    assert fb.fake.batch_requests == 1


# -- errors ----------------------------------------------------------------------------------------


def graph_error(status: int, code: int, subcode: int | None = None, **extra: Any) -> httpx.Response:
    error: dict[str, Any] = {
        "message": f"error {code}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbC",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return httpx.Response(status, json={"error": error})


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (graph_error(400, 4), RateLimitError),
        (graph_error(400, 17), RateLimitError),
        (graph_error(400, 32), RateLimitError),
        (graph_error(400, 613), RateLimitError),
        (graph_error(400, 80001), RateLimitError),
        (graph_error(400, 80004), RateLimitError),
        (graph_error(500, 1), ServerError),
        (graph_error(503, 2), ServerError),
        (graph_error(400, 9999, is_transient=True), ServerError),
        (graph_error(401, 190), AuthError),
        (graph_error(401, 190, 463), TokenExpiredError),
        (graph_error(403, 10), PermissionError),
        (graph_error(403, 200), PermissionError),
        (graph_error(403, 299), PermissionError),
        (graph_error(400, 506), DuplicateError),
        (graph_error(400, 100), InvalidRequestError),
        (graph_error(400, 100, 33), NotFoundError),
        (graph_error(404, 803), NotFoundError),
    ],
)
def test_graph_error_codes_decode_into_the_error_tree(
    response: httpx.Response, expected: type[APIError]
) -> None:
    error = decode_graph_error(response, "facebook")
    assert type(error) is expected
    assert error.request_id == "AbC"
    assert error.message
    assert error.message.startswith("error ")


def test_throttling_carries_metas_wait() -> None:
    usage = {
        "1": [
            {
                "type": "pages",
                "call_count": 100,
                "total_time": 20,
                "total_cputime": 10,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    response = graph_error(400, 80001)
    response.headers["x-business-use-case-usage"] = json.dumps(usage)
    error = decode_graph_error(response, "facebook")
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7 * 60


@pytest.mark.parametrize("bad", ["1/../../me", "..", "", "abc", "1?x=1", "1#2", "12/likes"])
async def test_bad_ids_are_refused_before_any_request(
    fb: Session, th: Session, ig: Session, bad: str
) -> None:
    for session in (fb, th, ig):
        net = session.net
        with pytest.raises(ValidationError):
            await net.delete(bad)
        with pytest.raises(ValidationError):
            await net.get_post(bad)
        with pytest.raises(ValidationError):
            await net.metrics(["1", bad])
        with pytest.raises(ValidationError):
            await net.hide(bad)
        assert session.recorder.exchanges == [], f"{net.name} sent a request for {bad!r}"
    with pytest.raises(ValidationError):
        await fb.net.like(bad)


async def test_connect_without_credentials_names_the_fix() -> None:
    """Without a token setting and nothing stored, ``async with`` names the login command (and
    the id settings still missing) before any request."""
    cases = [
        (FacebookAdapter, {}, r"socialkit auth login facebook.*page_id"),
        (InstagramAdapter, {"access_token": "x"}, "socialkit auth login instagram"),
        (ThreadsAdapter, {}, "socialkit auth login threads"),
    ]
    for adapter, settings, fix in cases:
        with pytest.raises(AuthFlowError, match=fix):
            async with adapter.connect(store=MemoryStore(), **settings):
                raise AssertionError("not reached")


# -- login -----------------------------------------------------------------------------------------

REDIRECT = "http://127.0.0.1:8765/callback"


def login_adapter(fake: GraphFake, client: httpx.AsyncClient, **settings: Any) -> Any:
    """The real adapter of ``fake``'s network, made for the login steps (no token yet)."""
    adapter = {"facebook": FacebookAdapter, "instagram": InstagramAdapter}.get(
        fake.name, ThreadsAdapter
    )
    return adapter.connect(
        http=client,
        store=settings.pop("store", MemoryStore()),
        require_credentials=False,
        app_id=fake.app_id,
        app_secret=fake.app_secret,
        base_url=fake.base_url,
        **settings,
    )


@pytest.mark.parametrize(
    ("fake_type", "stored_id"),
    [(FakeFacebook, "page_id"), (FakeInstagram, "ig_user_id"), (FakeThreads, "user_id")],
)
async def test_login_exchanges_the_code_and_stores_a_long_lived_token(
    fake_type: type[GraphFake], stored_id: str
) -> None:
    fake = fake_type()
    store = MemoryStore()
    client, recorder = recording_client(fake)
    login = login_adapter(fake, client, store=store)
    assert set(login.login_settings) >= {"app_id", "app_secret"}
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    assert recorder.exchanges == []  # building the URL sends nothing
    query = httpx.URL(request.url).params
    assert query["scope"].split(",") == list(LOGIN[fake.name]["scopes"])
    assert query["code_challenge_method"] == "S256"
    token = await login.ex_exchange_code(request, fake.approve(request.url))
    await login.aclose()
    paths = [(r.method, r.url.path) for r, _ in recorder.exchanges]
    exchange = (
        "/oauth/access_token" if fake.name == "threads" else f"/{fake.version}/oauth/access_token"
    )
    assert paths[0] == ("POST", exchange)
    assert paths[1][1].endswith("access_token")  # the long-lived exchange
    assert token.extra[stored_id] == fake.owner.id  # the Page, the account, the user
    if fake.name == "threads":
        assert token.expires_at is not None  # long-lived: about 60 days
    else:  # the Page token, which the owner's calls are made with
        assert token.access_token.get_secret_value() == fake.owner_token
    assert token.access_token.get_secret_value() not in repr(token)
    # A later adapter of the account, with no token setting, uses the stored login.
    async with type(login).connect(
        http=client, store=store, base_url=fake.base_url, app_id=fake.app_id
    ) as later:
        assert (await later.me()).id == fake.owner.id
    await client.aclose()
    found = violations(fake, recorder)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("fake_type", [FakeFacebook, FakeInstagram, FakeThreads])
async def test_a_fakes_own_dialog_takes_the_login(fake_type: type[GraphFake]) -> None:
    # With the authorize_url setting (a fake served on a port gives its own), the user's browser
    # goes to that dialog, which redirects back with a code the adapter exchanges.
    fake = fake_type()
    client, _ = recording_client(fake)
    login = login_adapter(fake, client, authorize_url=fake.settings()["authorize_url"])
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    dialog = httpx.URL(request.url)
    assert str(dialog.copy_with(query=None)) == fake.settings()["authorize_url"]
    assert dialog.host == httpx.URL(fake.base_url).host
    answer = await client.get(request.url)  # what the browser does
    assert answer.status_code in (302, 303, 307)
    back = answer.headers["location"]
    assert back.startswith(f"{REDIRECT}?")
    token = await login.ex_exchange_code(request, back)
    assert token.access_token.get_secret_value()
    await login.aclose()
    await client.aclose()
    # Without the setting, the dialog is Meta's own.
    async with httpx.AsyncClient() as other:
        default = login_adapter(fake_type(), other).ex_authorization_url()
    assert httpx.URL(default.url).host in ("www.facebook.com", "threads.net")


async def test_login_refuses_a_forged_redirect_before_any_request() -> None:
    fake = FakeFacebook()
    client, recorder = recording_client(fake)
    login = login_adapter(fake, client)
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    with pytest.raises(StateMismatchError):
        await login.ex_exchange_code(request, f"{REDIRECT}?code=abc&state=forged")
    with pytest.raises(AuthFlowError, match="access_denied"):
        await login.ex_exchange_code(request, {"error": "access_denied", "state": request.state})
    assert recorder.exchanges == []
    await client.aclose()


async def test_login_names_the_pages_when_it_cannot_choose() -> None:
    fake = FakeFacebook()
    async with fake.client() as client:
        login = login_adapter(fake, client, page_id="123")
        request = login.ex_authorization_url(redirect_uri=REDIRECT)
        with pytest.raises(ConfigurationError, match=rf"123 is not among.*{fake.owner.id}"):
            await login.ex_exchange_code(request, fake.approve(request.url))
        await login.aclose()


async def test_login_needs_the_app_settings() -> None:
    login = ThreadsAdapter.connect(store=MemoryStore(), require_credentials=False)
    with pytest.raises(ConfigurationError, match="app_id"):
        login.ex_authorization_url()


async def test_errors_and_reprs_carry_no_token(fb: Session) -> None:
    token = fb.fake.owner_token
    fb.fake.tokens.clear()  # the token is now refused (190), as after a password change
    with pytest.raises(AuthError) as info:
        await fb.net.me()
    text = f"{info.value} {info.value!r} {fb.net!r} {fb.net.settings!r}"
    assert token not in text


# -- unknown outcomes ------------------------------------------------------------------------------


class LoseAnswer(httpx.AsyncBaseTransport):
    """Delivers every request; the answer to the first create matching ``create`` is lost."""

    def __init__(self, inner: httpx.AsyncBaseTransport, create: str) -> None:
        self.inner = inner
        self.create = create
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith(self.create) and not self.lost:
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def lossy(fake: GraphFake, create: str) -> tuple[LoseAnswer, Recorder]:
    """A ``LoseAnswer`` in front of a recorder: every request, the reconciliation reads after a
    lost answer included, is kept for :func:`assert_conforms`."""
    recorder = Recorder(httpx.ASGITransport(app=fake.app))
    return LoseAnswer(recorder, create), recorder


def assert_conforms(fake: GraphFake, recorder: Recorder) -> None:
    assert recorder.exchanges, "no traffic was recorded"
    found = violations(fake, recorder)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("fake_class", "create", "post"),
    [
        (FakeFacebook, "/feed", Post(text="exactly once")),
        (FakeInstagram, "/media_publish", image_post("exactly once")),
        (FakeThreads, "/threads_publish", Post(text="exactly once")),
    ],
)
async def test_a_lost_answer_is_unknown_and_the_retry_publishes_once(
    fake_class: type[GraphFake], create: str, post: Post
) -> None:
    fake = fake_class()
    transport, recorder = lossy(fake, create)
    async with httpx.AsyncClient(transport=transport) as client:
        net: Any = fake.connect(http=client, retry_wait=False)
        with pytest.raises(OutcomeUnknownError) as info:
            await net.publish(post, idempotency_key="order-42")
        assert info.value.idempotency_key == "order-42"
        again = await net.publish(post, idempotency_key="order-42")
        third = await net.publish(post, idempotency_key="order-42")
        node = {"facebook": "PagePost", "instagram": "IGMedia", "threads": "ThreadsMedia"}[
            fake.name
        ]
        online = [o.id for o in fake.of_type(node, fake.owner.id)]
        assert online == [again.id] == [third.id]
        await net.aclose()
    assert_conforms(fake, recorder)


async def test_keys_are_kept_in_the_store_across_adapters() -> None:
    fake = FakeThreads()
    store = MemoryStore()
    transport, recorder = lossy(fake, "/threads_publish")
    async with httpx.AsyncClient(transport=transport) as client:
        first: Any = fake.connect(http=client, store=store, retry_wait=False)
        with pytest.raises(OutcomeUnknownError):
            await first.publish(Post(text="after a restart"), idempotency_key="k1")
        await first.aclose()
        second: Any = fake.connect(http=client, store=store)  # a new process, the same store
        posted = await second.publish(Post(text="after a restart"), idempotency_key="k1")
        await second.aclose()
    assert [o.id for o in fake.of_type("ThreadsMedia", fake.owner.id)] == [posted.id]
    assert_conforms(fake, recorder)


# -- tokens ----------------------------------------------------------------------------------------


async def test_appsecret_proof_goes_with_every_call() -> None:
    fake = FakeFacebook(require_proof=True)
    session = Session(fake)
    try:
        await session.net.me()
        await session.net.publish(Post(text="signed"))
        for request, _ in session.recorder.exchanges:
            assert request.url.params["appsecret_proof"] == appsecret_proof(
                fake.owner_token, fake.app_secret
            )
            assert request.headers["authorization"] == f"Bearer {fake.owner_token}"
            assert "access_token" not in request.url.params
    finally:
        await session.close()


async def test_a_wrong_app_secret_is_refused_by_meta() -> None:
    session = Session(FakeFacebook(), app_secret="not-the-secret")
    try:
        with pytest.raises(InvalidRequestError, match="appsecret_proof"):
            await session.net.me()
    finally:
        await session.close()


async def test_threads_sends_the_token_as_access_token(th: Session) -> None:
    await th.net.me()
    request = th.recorder.exchanges[0][0]
    assert request.url.params["access_token"] == th.fake.owner_token
    assert "authorization" not in request.headers


async def test_facebook_exchange_and_page_tokens(fb: Session) -> None:
    long_lived = await fb.net.ex_exchange_token(fb.fake.admin_token)
    assert long_lived.expires_at is not None
    assert "**" in repr(long_lived)
    fb.fake.instagram_account_id = "17841400000000001"
    pages = await fb.net.ex_page_tokens()
    got = [(p.id, p.access_token.get_secret_value(), p.instagram_account_id) for p in pages]
    assert got == [(fb.fake.owner.id, fb.fake.owner_token, "17841400000000001")]
    assert fb.fake.owner_token not in repr(pages)


async def test_threads_refresh_replaces_the_token(th: Session) -> None:
    token = await th.net.ex_refresh_token()
    assert th.fake.refreshes == 1
    await th.net.me()
    assert (
        th.recorder.exchanges[-1][0].url.params["access_token"]
        == token.access_token.get_secret_value()
    )


async def test_graph_version_is_a_setting() -> None:
    fake = FakeFacebook()
    fake.version = "v24.0"  # type: ignore[misc]
    async with fake.client() as client:
        net = fake.connect(http=client, graph_version="v24.0")
        assert (await net.me()).id == fake.owner.id
        await net.aclose()


# -- Facebook --------------------------------------------------------------------------------------


async def test_facebook_schedules_lists_and_cancels(fb: Session) -> None:
    when = fb.net.now() + timedelta(days=2)
    posted = await fb.net.publish(Post(text="later", scheduled_at=when))
    scheduled = [p async for p in fb.net.ex_scheduled_posts()]
    assert [p.id for p in scheduled] == [posted.id]
    assert scheduled[0].scheduled_at is not None
    assert [p.id async for p in fb.net.posts()] == []
    await fb.net.ex_cancel_scheduled(posted.id)
    assert [p async for p in fb.net.ex_scheduled_posts()] == []


async def test_facebook_schedule_reschedule_cancel(fb: Session) -> None:
    now = fb.net.now().replace(microsecond=0)
    moved = await fb.net.ex_schedule(Post(text="moved"), now + timedelta(days=1))
    kept = await fb.net.ex_schedule(Post(text="kept"), now + timedelta(days=2))
    later = now + timedelta(days=3)
    again = await fb.net.ex_reschedule(moved.id, later)
    assert again.scheduled_at == later
    on_network = {p.id: p.scheduled_at async for p in fb.net.ex_scheduled_posts()}
    assert on_network == {moved.id: later, kept.id: now + timedelta(days=2)}
    await fb.net.ex_cancel_scheduled(moved.id)
    assert [p.id async for p in fb.net.ex_scheduled_posts()] == [kept.id]
    # Once Meta's scheduler has published it, cancelling would delete a live post: refused.
    fb.fake.clock.set(now + timedelta(days=2, minutes=1))
    assert [p.id async for p in fb.net.posts()] == [kept.id]
    with pytest.raises(APIError, match="not scheduled any more"):
        await fb.net.ex_cancel_scheduled(kept.id)
    assert [p.id async for p in fb.net.posts()] == [kept.id]


async def test_facebook_scheduled_outcome(fb: Session) -> None:
    """``ex_scheduled_outcome``: the post while Facebook holds it, published (same id) once
    Meta's scheduler has published it, ``None`` once deleted."""
    now = fb.net.now().replace(microsecond=0)
    kept = await fb.net.ex_schedule(Post(text="goes out"), now + timedelta(days=1))
    gone = await fb.net.ex_schedule(Post(text="taken back"), now + timedelta(days=1))
    held = await fb.net.ex_scheduled_outcome(kept)
    assert held is not None
    assert held.scheduled_at == now + timedelta(days=1)
    await fb.net.ex_cancel_scheduled(gone.id or "")
    fb.fake.clock.set(now + timedelta(days=1, minutes=1))
    live = await fb.net.ex_scheduled_outcome(kept)
    assert live is not None
    assert (live.id, live.scheduled_at, live.text) == (kept.id, None, "goes out")
    assert live.url
    assert await fb.net.ex_scheduled_outcome(gone) is None


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(days=76)])
async def test_facebook_schedule_limits_are_checked_before_any_request(
    fb: Session, ahead: timedelta
) -> None:
    at = fb.net.now() + ahead
    with pytest.raises(InvalidPostError, match="10 minutes to 75 days"):
        await fb.net.ex_schedule(Post(text="out of range"), at)
    with pytest.raises(ValidationError, match="10 minutes to 75 days"):
        await fb.net.ex_reschedule(f"{fb.fake.owner.id}_1", at)
    assert fb.recorder.exchanges == []


async def test_facebook_refuses_a_schedule_too_soon(fb: Session) -> None:
    post = Post(text="soon", scheduled_at=fb.net.now() + timedelta(minutes=2))
    assert [p.code for p in fb.net.check(post)] == ["schedule_out_of_range"]


async def test_facebook_comments_hide_and_messenger(fb: Session) -> None:
    fake = fb.fake
    post = fake.publish_as(fake.owner, "ours")
    fan = fake.add_user("fan")
    comment = fake.reply(post, fan, "first!")
    fake.direct(fan, "do you ship abroad?")
    got = [m async for m in fb.net.messages()]
    assert [(m.kind, m.text) for m in got] == [
        ("direct", "do you ship abroad?"),
        ("comment", "first!"),
    ]
    answer = await fb.net.reply(got[0], "We do!")
    assert answer.visibility == "direct"
    assert [m.data["message"] for m in fake.of_type("Message") if m.owner == fake.owner.id] == [
        "We do!"
    ]
    answered = await fb.net.reply(got[1], "thanks")
    assert (await fb.net.get_post(answered.id)).reply_to == comment
    await fb.net.hide(got[1])
    assert fake.has("hide", fake.owner.id, comment)


async def test_a_facebook_comment_carries_a_photo_not_a_video_and_its_link(fb: Session) -> None:
    """``POST /{object}/comments`` takes a photo (``attachment_id``, ``attachment_url``; the
    comments edge of PagePost.json), no video: one is refused before sending (it was uploaded
    to ``/photos``). The link goes in the message (it was dropped)."""
    fake = fb.fake
    parent = fake.publish_as(fake.owner, "ours")
    video = Post(text="a clip", reply_to=parent, media=[Media.from_url("https://e.test/v.mp4")])
    assert [p.code for p in fb.net.check(video)] == ["unsupported_media"]
    with pytest.raises(InvalidPostError):
        await fb.net.publish(video)
    assert not [c for c in fake.of_type("Comment") if c.owner == fake.owner.id]
    posted = await fb.net.publish(Post(text="hello", link="https://e.test/page", reply_to=parent))
    [comment] = [c for c in fake.of_type("Comment") if c.owner == fake.owner.id]
    assert comment.id == posted.id
    assert comment.data["message"] == "hello\nhttps://e.test/page"


async def test_a_messenger_reply_refuses_what_a_text_message_cannot_carry(fb: Session) -> None:
    """A Messenger reply is a text message (Send API ``message.text``): media, a poll or a
    thread are refused before sending, not dropped; the link goes in the text."""
    fake = fb.fake
    fake.direct(fake.add_user("fan"), "a picture please")
    [message] = [m async for m in fb.net.messages(kinds={"direct"})]
    for post in (
        Post(text="here", media=[Media.from_url(IMAGE)]),
        Post(text="vote", thread=[Post(text="more")]),
        Post(text=" "),
    ):
        with pytest.raises(InvalidPostError):
            await fb.net.reply(message, post)
    sent = [m for m in fake.of_type("Message") if m.owner == fake.owner.id]
    assert sent == []
    answer = await fb.net.reply(message, Post(text="see", link="https://example.com/cat"))
    assert answer.text == "see\nhttps://example.com/cat"
    assert [m.data["message"] for m in fake.of_type("Message") if m.owner == fake.owner.id] == [
        "see\nhttps://example.com/cat"
    ]


async def test_facebook_page_insights_use_the_current_names(fb: Session) -> None:
    metrics = await fb.net.account_metrics()
    assert {m.native_name for m in metrics} == {
        "page_media_view",
        "page_total_media_view_unique",
        "page_follows",
        "page_post_engagements",
        "page_daily_follows_unique",
    }
    assert all(m.start is not None and m.end is not None for m in metrics)


# -- Instagram -------------------------------------------------------------------------------------


def test_instagram_caption_rules() -> None:
    net = InstagramAdapter.connect(access_token="t", ig_user_id="1")
    tags = " ".join(f"#t{i}" for i in range(31))
    codes = [p.code for p in net.check(image_post(tags))]
    assert codes == ["too_many_hashtags"]
    assert [p.code for p in net.check(image_post("a" * 2201))] == ["text_too_long"]
    assert net.check(image_post("a" * 2200)) == []
    assert [p.code for p in net.check(Post(text="no media"))] == ["media_required"]


async def test_instagram_business_discovery_and_hashtags(ig: Session) -> None:
    fake = ig.fake
    rival = fake.add_user("rival", followers=1234)
    fake.publish_as(rival, "our new #coffee blend")
    account, posts = await ig.net.ex_business_discovery("rival", media=5)
    assert (account.id, account.followers) == (rival.id, 1234)
    assert [p.text for p in posts] == ["our new #coffee blend"]
    found = [p.text async for p in ig.net.search("#coffee")]
    assert found == ["our new #coffee blend"]
    with pytest.raises(NotFoundError):
        await ig.net.account("@nobody_here")


async def test_instagram_other_accounts_media_are_not_attributed_to_the_user(ig: Session) -> None:
    # IGMedia (meta/graph/IGMedia.json) names its owner by ``username`` / ``owner``; business
    # discovery gives the other account's media, hashtag ``recent_media`` gives neither field.
    # Both used to be read back as the user's own posts (its id, or its cached Account).
    fake = ig.fake
    me = await ig.net.me()
    rival = fake.add_user("rival", followers=1)
    fake.publish_as(rival, "our new #coffee blend")
    _, [post] = await ig.net.ex_business_discovery("rival", media=5)
    assert post.author is not None
    assert (post.author.id, post.author.handle) == (rival.id, "rival")
    found = [p async for p in ig.net.search("#coffee")]
    assert [p.text for p in found] == ["our new #coffee blend"]
    assert all(p.author is None or p.author.id != me.id for p in found)


async def test_instagram_comment_read_back_keeps_its_author(ig: Session) -> None:
    # IGComment (meta/graph/IGComment.json): ``from`` (IGCommentFromUser: id, username) and
    # ``username`` name who wrote it; get_post of a comment asked for them and dropped them.
    fake = ig.fake
    posted = await ig.net.publish(image_post())
    fan = fake.add_user("fan")
    comment = fake.reply(posted.id, fan, "so cute")
    got = await ig.net.get_post(comment)
    assert got.author is not None
    assert (got.author.id, got.author.handle) == (fan.id, "fan")


@pytest.mark.parametrize("network", ["facebook", "instagram"])
async def test_comments_on_older_posts_are_read_past_posts_without_any(network: str) -> None:
    # Comments are read a page of posts (25) at a time: pages whose posts have no comment are
    # not the end of the posts edge (paging.next goes on). Three of them in a row used to end
    # the walk, and the comment on the older post was never read.
    session = Session(FakeFacebook() if network == "facebook" else FakeInstagram())
    try:
        fake = session.fake
        fan = fake.add_user("fan")
        old = fake.publish_as(fake.owner, "old")
        fake.reply(old, fan, "on the old post")
        for n in range(80):
            fake.publish_as(fake.owner, f"post {n}")
        got = [m.text async for m in session.net.messages(kinds={"comment"})]
        assert got == ["on the old post"]
    finally:
        await session.close()


@pytest.mark.parametrize("network", ["facebook", "instagram"])
async def test_every_comment_of_a_post_is_read_past_the_first_page(network: str) -> None:
    # The comments edge is cursor-paginated like every Graph edge ("Paginated Results",
    # https://developers.facebook.com/docs/graph-api/results: read on while ``paging.next`` is
    # there; the answer of /{page-post-id}/comments is ``{data, paging, summary}``,
    # https://developers.facebook.com/docs/graph-api/reference/page-post/comments/, and
    # /{ig-media-id}/comments the same, meta/graph/IGMedia.json). The fakes answer at most 100
    # a page. The inbox read one page of each post's comments: the 30 oldest of 130 were lost.
    session = Session(FakeFacebook() if network == "facebook" else FakeInstagram())
    try:
        fake = session.fake
        fan = fake.add_user("fan")
        post = fake.publish_as(fake.owner, "popular")
        made = {fake.reply(post, fan, f"comment {n}") for n in range(130)}
        fake.publish_as(fake.owner, "quiet")
        got = [m async for m in session.net.messages(kinds={"comment"})]
        assert {m.id for m in got} == made
        assert len(got) == 130
        times = [m.created_at for m in got]
        assert times == sorted(times, reverse=True)
    finally:
        await session.close()


@pytest.mark.parametrize("network", ["facebook", "instagram"])
async def test_comments_since_reach_new_comments_on_older_posts(network: str) -> None:
    # /{page-post-id}/comments takes ``since`` ("Lower bound of the time range to consider",
    # https://developers.facebook.com/docs/graph-api/reference/page-post/comments/; ``since``
    # in the GET comments edge of meta/graph/PagePost.json); /{ig-media-id}/comments takes no
    # parameter (meta/graph/IGMedia.json). Facebook did not send it, and on both networks the
    # first page of posts gave a comment older than ``since`` (on the newest post), the walk
    # took it for the end of the comments, and today's comment on an older post was lost.
    session = Session(FakeFacebook() if network == "facebook" else FakeInstagram())
    try:
        fake = session.fake
        fan = fake.add_user("fan")
        older = fake.publish_as(fake.owner, "an older post")
        for n in range(30):
            newest = fake.publish_as(fake.owner, f"post {n}")
        fake.reply(newest, fan, "two days ago")
        since = fake.clock.advance(timedelta(days=2))
        fake.clock.tick()
        fresh = fake.reply(older, fan, "today, on the older post")
        got = [m async for m in session.net.messages(kinds={"comment"}, since=since)]
        assert [(m.id, m.text) for m in got] == [(fresh, "today, on the older post")]
        if network == "facebook":
            calls = [
                call["relative_url"]
                for request, _ in session.recorder.exchanges
                if request.method == "POST" and request.url.path.endswith("/v25.0/")
                for call in json.loads(httpx.QueryParams(request.content.decode())["batch"])
            ]
            assert calls
            assert all(f"since={int(since.timestamp())}" in c for c in calls)
    finally:
        await session.close()


@pytest.mark.parametrize("network", ["facebook", "instagram"])
@pytest.mark.parametrize("lookback", [7.0, None])
async def test_the_comment_walk_since_stops_at_the_lookback(
    network: str, lookback: float | None
) -> None:
    # An inbox polls messages(since=its last poll): visiting every post of the account on
    # each poll costs a call per post (and, on Instagram, one per top-level comment for its
    # replies). The walk visits posts made up to comments_lookback_days before ``since``;
    # None visits them all. Posts come newest first (/{page-id}/posts, /{ig-user-id}/media).
    fake_type = FakeFacebook if network == "facebook" else FakeInstagram
    session = Session(fake_type(), comments_lookback_days=lookback)
    try:
        fake = session.fake
        fan = fake.add_user("fan")
        ancient = fake.publish_as(fake.owner, "a post from last month")
        fake.clock.advance(timedelta(days=30))
        recent = fake.publish_as(fake.owner, "a post from yesterday")
        quiet = fake.publish_as(fake.owner, "a post nobody answered")
        since = fake.clock.advance(timedelta(days=1))
        fake.clock.tick()
        on_recent = fake.reply(recent, fan, "on yesterday's post")
        on_ancient = fake.reply(ancient, fan, "on last month's post")
        got = {m.id async for m in session.net.messages(kinds={"comment"}, since=since)}
        if lookback is None:
            assert got == {on_recent, on_ancient}
        else:
            assert got == {on_recent}  # last month's post is past the lookback: not visited
            read = [path for path in session.paths() if ancient.split("_")[-1] in path]
            batched = [
                call["relative_url"]
                for request, _ in session.recorder.exchanges
                if request.method == "POST" and request.url.path.endswith("/v25.0/")
                for call in json.loads(httpx.QueryParams(request.content.decode())["batch"])
            ]
            assert not read
            assert not [c for c in batched if c.startswith(f"{ancient}/")]
            assert [c for c in batched if c.startswith(f"{recent}/")]
            if network == "instagram":  # comments_count 0: the media's comments are not read
                assert not [c for c in batched if c.startswith(f"{quiet}/")]
    finally:
        await session.close()


async def test_instagram_replies_are_read_from_each_comments_replies_edge(ig: Session) -> None:
    # GET /{ig-media-id}/comments gives a media's comments, and a comment's replies are its own
    # edge, GET /{ig-comment-id}/replies ("Comment Moderation": "Get replies on an IG Comment",
    # https://developers.facebook.com/docs/instagram-platform/comment-moderation; IG Comment
    # Replies reference; the GET replies edge of meta/graph/IGComment.json). A reply to a reply
    # is added to the top-level comment. The inbox looked for ``parent_id`` on the comments
    # edge, where replies never are, so no reply reached it.
    fake = ig.fake
    posted = await ig.net.publish(image_post())
    fan, other = fake.add_user("fan"), fake.add_user("other")
    comment = fake.reply(posted.id, fan, "a comment of two days ago")
    since = fake.clock.advance(timedelta(days=2))
    fake.clock.tick()
    # More than a page (100) of replies, all newer than ``since`` under an older comment.
    made = {fake.reply(comment, other, f"reply {n}") for n in range(120)}
    first = next(iter(made))
    made.add(fake.reply(first, fan, "a reply to a reply"))
    got = [m async for m in ig.net.messages(kinds={"reply"}, since=since)]
    assert {m.id for m in got} == made
    assert {(m.kind, m.post_id) for m in got} == {("reply", posted.id)}
    assert {m.raw["parent_id"] for m in got} == {comment}
    assert [m.created_at for m in got] == sorted((m.created_at for m in got), reverse=True)
    assert [m async for m in ig.net.messages(kinds={"comment"}, since=since)] == []
    everything = [m async for m in ig.net.messages(kinds={"comment", "reply"})]
    assert [m.id for m in everything if m.kind == "comment"] == [comment]
    assert len(everything) == 122
    answer = await ig.net.reply(got[0], "thanks")  # to the top-level comment, as Meta threads
    assert ig.paths("POST")[-1] == f"/v25.0/{comment}/replies"
    assert answer.id is not None


async def test_instagram_replies_to_a_comment(ig: Session) -> None:
    fake = ig.fake
    posted = await ig.net.publish(image_post())
    fan = fake.add_user("fan")
    comment = fake.reply(posted.id, fan, "so cute")
    [message] = [m async for m in ig.net.messages(kinds={"comment"})]
    assert message.id == comment
    answer = await ig.net.reply(message, "thank you")
    got = await ig.net.get_post(answer.id)
    assert got.reply_to == comment
    assert ig.paths("POST")[-1] == f"/v25.0/{comment}/replies"


async def test_instagram_uploads_a_video_file_a_piece_at_a_time(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Resumable upload ("Content Publishing", upload_type=resumable,
    # https://developers.facebook.com/docs/instagram-platform/content-publishing/): POST
    # rupload.facebook.com/ig-api-upload/{version}/{container} with ``Authorization: OAuth``,
    # ``offset`` (where this body starts: 0, or the bytes already sent when resuming) and
    # ``file_size`` (the whole file). Reels go up to 1 GB; the adapter read the whole file into
    # memory and sent it in one body.
    import anyio

    from socialkit.adapters._base import MediaSource
    from socialkit.testing import conformance as c

    mib = 1024 * 1024
    data = c.MP4_HEAD + bytes(range(256)) * (10 * 1024) + b"tail"  # 2.5 MiB and a bit
    path = tmp_path / "reel.mp4"
    path.write_bytes(data)
    media = Media.from_path(path)
    reads: list[int] = []
    whole: list[str] = []
    real_read = MediaSource.read

    def counted(self: MediaSource, offset: int, length: int) -> bytes:
        piece = real_read(self, offset, length)
        reads.append(len(piece))
        return piece

    real_whole = anyio.Path.read_bytes

    async def whole_async(self: anyio.Path) -> bytes:
        whole.append(str(self))
        return await real_whole(self)

    monkeypatch.setattr(MediaSource, "read", counted)
    monkeypatch.setattr(anyio.Path, "read_bytes", whole_async)
    session = Session(FakeInstagram(), upload_chunk_size=mib)
    try:
        posted = await session.net.publish(Post(text="a reel", media=[media]))
        assert posted.id is not None
        sent = [
            r for r, _ in session.recorder.exchanges if r.url.path.startswith("/ig-api-upload/")
        ]
        assert whole == []
        assert reads == [mib, mib, len(data) - 2 * mib]
        assert [r.headers["offset"] for r in sent] == ["0", str(mib), str(2 * mib)]
        assert {r.headers["file_size"] for r in sent} == {str(len(data))}
        assert all(r.headers["authorization"].startswith("OAuth ") for r in sent)
        assert b"".join(r.content for r in sent) == data
        assert list(session.fake.uploads.values()) == [data]
    finally:
        await session.close()


@pytest.mark.parametrize(
    ("network", "refused", "allowed"),
    [
        # Reels: "Duration: 15 mins maximum, 3 seconds minimum" (IG User Media reference, Reel
        # specifications, https://developers.facebook.com/docs/instagram-platform/
        # instagram-graph-api/reference/ig-user/media).
        ("instagram", [2.9, 900.5], [3.0, 900.0]),
        # "Duration: 300 seconds (5 minutes) maximum, minimum longer than 0 seconds" (Threads
        # API overview, video specifications, https://developers.facebook.com/docs/threads/
        # overview).
        ("threads", [0.0, 300.5], [0.1, 300.0]),
    ],
)
async def test_a_video_of_known_duration_outside_metas_bounds_is_refused_before_any_request(
    network: str, refused: list[float], allowed: list[float]
) -> None:
    session = Session(FakeInstagram() if network == "instagram" else FakeThreads())
    try:

        def video(seconds: float | None) -> Post:
            media = Media(
                kind="video",
                url="https://media.example/clip.mp4",
                mime_type="video/mp4",
                duration=seconds,
            )
            return Post(text="a clip", media=[media])

        for seconds in refused:
            with pytest.raises(InvalidPostError) as caught:
                await session.net.publish(video(seconds))
            [problem] = caught.value.problems
            assert (problem.code, problem.field, problem.actual) == (
                "video_duration",
                "media[0]",
                seconds,
            )
        assert session.recorder.exchanges == []
        for seconds in [*allowed, None]:  # an unknown duration is left to Meta
            assert session.net.check(video(seconds)) == []
    finally:
        await session.close()


# -- Threads ---------------------------------------------------------------------------------------


def test_threads_500_character_rule() -> None:
    net = ThreadsAdapter.connect(access_token="t")
    assert net.check(Post(text="a" * 500)) == []
    assert [p.code for p in net.check(Post(text="a" * 501))] == ["text_too_long"]


async def test_threads_carousels_read_in_lists_keep_their_media(th: Session) -> None:
    # A carousel answers ``media_type: CAROUSEL_ALBUM`` with no ``media_url`` of its own and
    # ``children`` as the ids of its items ("children: List of child posts. This only shows up
    # for carousel posts", https://developers.facebook.com/docs/threads/threads-media); each
    # item is a media of its own, read with GET /{threads-media-id} (same page; the
    # collection's "Get Threads Post Details"). get_post read them; posts() and search() gave
    # a carousel no media at all.
    media = [Media.from_url(f"https://media.example/{i}.jpg", alt=f"picture {i}") for i in range(3)]
    posted = await th.net.publish(Post(text="three #pictures", media=media))
    await th.net.publish(Post(text="one picture", media=[Media.from_url(IMAGE, alt="a cat")]))
    await th.net.publish(Post(text="just words"))
    listed = {p.text: p async for p in th.net.posts()}
    carousel = listed["three #pictures"]
    assert carousel.id == posted.id
    assert [(m.url, m.alt) for m in carousel.media] == [(m.url, m.alt) for m in media]
    assert [m.url for m in listed["one picture"].media] == [IMAGE]
    assert listed["just words"].media == []
    [found] = [p async for p in th.net.search("pictures")]
    assert [m.url for m in found.media] == [m.url for m in media]


async def test_threads_replies_and_reply_management(th: Session) -> None:
    fake = th.fake
    posted = await th.net.publish(Post(text="what do you think?"))
    fan = fake.add_user("fan")
    reply = fake.reply(posted.id, fan, "great")
    got = [m async for m in th.net.ex_replies(posted.id)]
    assert [(m.id, m.kind, m.post_id) for m in got] == [(reply, "reply", posted.id)]
    await th.net.hide(got[0])
    assert fake.has("hide", fake.owner.id, reply)
    await th.net.unhide(reply)
    assert not fake.has("hide", fake.owner.id, reply)
    limit = await th.net.ex_publishing_limit()
    assert limit == (1, 250)


async def test_threads_keyword_search(th: Session) -> None:
    # GET /keyword_search (q, search_type, fields) is sent by this test only; the session
    # checks it against the Postman collection's keyword_search request when it closes.
    fake = th.fake
    fan = fake.add_user("fan")
    fake.publish_as(fan, "fresh coffee today")
    fake.publish_as(fan, "tea time")
    found = [p.text async for p in th.net.search("coffee")]
    assert found == ["fresh coffee today"]
    assert th.paths("GET") == [f"/{fake.version}/keyword_search"]


# -- webhooks --------------------------------------------------------------------------------------


def test_subscription_check_answers_the_challenge_only_for_our_token() -> None:
    fake = FakeFacebook()
    assert verify_subscription(fake.subscription_query("my-token", "42"), "my-token") == "42"
    assert verify_subscription(fake.subscription_query("other", "42"), "my-token") is None
    assert (
        verify_subscription(
            {"hub.mode": "unsubscribe", "hub.verify_token": "my-token", "hub.challenge": "1"},
            "my-token",
        )
        is None
    )


async def test_deliveries_are_signed_and_checked_once() -> None:
    fake = FakeInstagram()
    media = fake.publish_as(fake.owner, "ours")
    fake.reply(media, fake.add_user("fan"), "hello")
    [(body, headers)] = fake.deliveries
    header = headers["x-hub-signature-256"]
    assert header == signature(body, fake.app_secret)
    assert verify_signature(body, header, fake.app_secret)
    assert not verify_signature(body + b" ", header, fake.app_secret)
    assert not verify_signature(body, header, "another secret")
    assert not verify_signature(body, None, fake.app_secret)
    dedup = EventDeduplicator(MemoryStore())
    assert await check_delivery(body, header, fake.app_secret, deduplicator=dedup) == "new"
    assert await check_delivery(body, header, fake.app_secret, deduplicator=dedup) == "duplicate"
    assert await check_delivery(body, "sha256=00", fake.app_secret, deduplicator=dedup) == "invalid"
    assert delivery_id(body).startswith("sha256:")
    payload = json.loads(body)
    assert payload["object"] == "instagram"
    assert payload["entry"][0]["changes"][0]["field"] == "comments"


async def test_pre_flight_refuses_invalid_posts_without_sending(fb: Session) -> None:
    with pytest.raises(InvalidPostError, match="public"):
        await fb.net.publish(Post(text="x", visibility="direct"))
    assert fb.recorder.exchanges == []


async def test_facebook_login_tokens_are_not_refreshed(fb: Session) -> None:
    with pytest.raises(ConfigurationError, match="ex_exchange_token"):
        await fb.net.ex_refresh_token()
    assert fb.recorder.exchanges == []


@pytest.mark.parametrize(
    ("fake_class", "comments"), [(FakeFacebook, "/comments"), (FakeInstagram, "/comments")]
)
async def test_a_lost_comment_answer_is_reconciled_by_key(
    fake_class: type[GraphFake], comments: str
) -> None:
    fake = fake_class()
    parent = fake.publish_as(fake.owner, "ours")
    fan = fake.add_user("fan")
    fake.reply(parent, fan, "same words")  # someone else's comment with the same text
    transport, recorder = lossy(fake, comments)
    async with httpx.AsyncClient(transport=transport) as client:
        net: Any = fake.connect(http=client, retry_wait=False)
        post = Post(text="same words", reply_to=parent)
        with pytest.raises(OutcomeUnknownError) as info:
            await net.publish(post, idempotency_key="c-1")
        assert info.value.idempotency_key == "c-1"
        again = await net.publish(post, idempotency_key="c-1")
        await net.aclose()
    node = "Comment" if fake.name == "facebook" else "IGComment"
    ours = [o.id for o in fake.of_type(node) if o.owner == fake.owner.id]
    assert ours == [again.id]
    assert_conforms(fake, recorder)  # the reconciliation read: GET /{parent}/comments


class AnswerWithoutId(LoseAnswer):
    """Delivers every request; the first create matching ``create`` is answered 200 without
    its ``id`` (made, but not said which)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith(self.create) and not self.lost:
            self.lost += 1
            await response.aread()
            return httpx.Response(200, json={}, request=request)
        return response


async def test_a_comment_answered_without_its_id_is_unknown_and_found_by_key() -> None:
    fake = FakeInstagram()
    parent = fake.publish_as(fake.owner, "ours")
    transport = AnswerWithoutId(httpx.ASGITransport(app=fake.app), "/comments")
    async with httpx.AsyncClient(transport=transport) as client:
        net: Any = fake.connect(http=client, retry_wait=False)
        post = Post(text="thanks!", reply_to=parent)
        with pytest.raises(OutcomeUnknownError) as info:
            await net.publish(post, idempotency_key="c-2")
        assert info.value.idempotency_key == "c-2"
        again = await net.publish(post, idempotency_key="c-2")
        await net.aclose()
    ours = [o.id for o in fake.of_type("IGComment") if o.owner == fake.owner.id]
    assert ours == [again.id]


async def test_container_creates_are_resent_after_a_lost_answer() -> None:
    """A container is not a post: its lost answer is retried by the pipeline, one post."""
    fake = FakeThreads()
    transport, recorder = lossy(fake, "/threads")
    async with httpx.AsyncClient(transport=transport) as client:
        net: Any = fake.connect(http=client, retry_wait=False)
        posted = await net.publish(Post(text="one post"))
        await net.aclose()
    assert transport.lost == 1
    assert [o.id for o in fake.of_type("ThreadsMedia", fake.owner.id)] == [posted.id]
    assert len(fake.of_type("ThreadsContainer")) == 2  # the spare one is never published
    assert_conforms(fake, recorder)


async def test_tokens_obtained_later_are_redacted_as_exact_secrets(
    th: Session, fb: Session
) -> None:
    from socialkit._http import redact_text

    token = await th.net.ex_refresh_token()
    fresh = token.access_token.get_secret_value()
    assert fresh not in redact_text(f"Meta answered: the token {fresh} is invalid")
    long_lived = (await fb.net.ex_exchange_token(fb.fake.admin_token)).access_token
    assert long_lived.get_secret_value() not in redact_text(
        f"echoed {long_lived.get_secret_value()}"
    )
