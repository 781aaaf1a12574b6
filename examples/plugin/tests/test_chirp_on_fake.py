"""ChirpAdapter against the fake Chirp server: state, round trips, resuming, idempotency."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest
import socialkit
from socialkit import Media, Post
from socialkit.testing.conformance import PNG_1X1

from socialkit_chirp import ChirpAdapter
from socialkit_chirp.fake import FakeChirp

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_the_entry_point_names_the_adapter() -> None:
    # pyproject.toml's entry point is how socialkit finds the package once it is installed.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = pyproject["project"]["entry-points"]["socialkit.adapters"][ChirpAdapter.name]
    module, _, attribute = target.partition(":")
    assert getattr(importlib.import_module(module), attribute) is ChirpAdapter


def test_connect_by_name_validates_the_settings() -> None:
    socialkit.register(ChirpAdapter, replace=True)  # what the installed entry point does
    net = socialkit.connect("chirp", token="t")
    assert isinstance(net, ChirpAdapter)
    with pytest.raises(socialkit.ConfigurationError, match="token"):
        socialkit.connect("chirp")


async def test_publish_then_read_back_with_media() -> None:
    fake = FakeChirp()
    async with fake.connect() as net:
        image = Media.from_bytes(PNG_1X1, alt="one pixel")
        posted = await net.publish(Post(text="Hello chirp", media=[image]))
        assert posted.id is not None
        again = await net.get_post(posted.id)
    assert again.text == "Hello chirp"
    assert [(m.kind, m.alt) for m in again.media] == [("image", "one pixel")]
    assert fake.items[posted.id].author == fake.owner


async def test_a_retried_create_publishes_once() -> None:
    fake = FakeChirp()
    async with fake.connect() as net:
        first = await net.publish(Post(text="once"), idempotency_key="k-1")
        second = await net.publish(Post(text="once"), idempotency_key="k-1")
    assert first.id == second.id
    assert len(fake.items) == 1


async def test_a_walk_resumes_without_repeats() -> None:
    fake = FakeChirp()
    for n in range(7):
        fake.publish_as(fake.owner, f"chirp {n}")
    async with fake.connect() as net:
        feed = net.posts(limit=3)
        first = [p.text async for p in feed]
        fake.publish_as(fake.owner, "arrived in between")  # newer than the walk
        rest = [p.text async for p in net.posts(cursor=feed.cursor)]
    assert first == ["chirp 6", "chirp 5", "chirp 4"]
    assert rest == ["chirp 3", "chirp 2", "chirp 1", "chirp 0"]


async def test_metrics_follow_the_audience() -> None:
    fake = FakeChirp()
    fan = fake.add_user("fan")
    async with fake.connect() as net:
        posted = await net.publish(Post(text="measure me"))
        assert posted.id is not None
        fake.like(posted.id, fan)
        fake.view(posted.id, 30)
        fake.publish_as(fan, "nice", reply_to=posted.id)
        metrics = await net.metrics([posted.id])
    values = {m.name: m.value for m in metrics[posted.id]}
    assert values == {"impressions": 30, "likes": 1, "reposts": 0, "replies": 1}


async def test_a_bad_token_is_an_auth_error_without_the_token() -> None:
    fake = FakeChirp()
    async with fake.connect(token="wrong-token-456") as net:
        with pytest.raises(socialkit.AuthError) as info:
            await net.me()
    assert "wrong-token-456" not in f"{info.value} {info.value!r}"


async def test_a_bad_id_is_refused_before_any_request() -> None:
    fake = FakeChirp()
    async with fake.connect() as net:
        with pytest.raises(socialkit.ValidationError):
            await net.get_post("../me")
    assert fake.requests == 0
