"""The Adapter base: pre-flight before any request, UnsupportedError naming network and
capability, threads that stop cleanly, and Hub's per-account results."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from socialkit import (
    Account,
    Adapter,
    AdapterSettings,
    Capability,
    Hub,
    InvalidPostError,
    Limits,
    Media,
    Poll,
    Post,
    ServerError,
    ThreadIncompleteError,
    UnsupportedError,
)
from socialkit.testing.conformance import PNG_1X1

UTC = timezone.utc


class Recorder(Adapter):
    """Publishes into a list; fails on the text 'boom'."""

    name = "recorder"
    capabilities = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_THREAD,
            Capability.PUBLISH_IMAGE,
            Capability.REPLY,
        }
    )
    limits = Limits(max_text=20, max_media=2, image_max_bytes=1000, max_thread=3, max_alt_text=10)

    def __init__(self, settings: AdapterSettings | None = None, delay: float = 0) -> None:
        super().__init__(settings or AdapterSettings())
        self.sent: list[Post] = []
        self.delay = delay

    async def me(self) -> Account:
        return Account(id="me")

    async def _publish_one(self, post: Post) -> Post:
        await asyncio.sleep(self.delay)
        if post.text == "boom":
            raise ServerError(self.name, 503, message="down")
        self.sent.append(post)
        return post.model_copy(
            update={"id": str(len(self.sent)), "created_at": datetime.now(UTC), "url": "u"}
        )


@pytest.mark.anyio
async def test_invalid_post_is_refused_before_sending() -> None:
    adapter = Recorder()
    post = Post(
        text="x" * 21,
        media=[Media.from_bytes(PNG_1X1, alt="far too long alt text")] * 3,
        poll=Poll(options=["a", "b"], duration=60),  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidPostError) as info:
        await adapter.publish(post)
    codes = [p.code for p in info.value.problems]
    assert codes.count("text_too_long") == 1
    assert "too_many_media" in codes
    assert "alt_text_too_long" in codes
    assert "unsupported" in codes  # the poll
    assert adapter.sent == []
    assert "recorder" in str(info.value)


def test_check_names_fields_in_threads() -> None:
    adapter = Recorder()
    post = Post(text="ok", thread=[Post(text="fine"), Post(text="y" * 30), Post(text="z")])
    problems = adapter.check(post)
    assert {p.field for p in problems} == {"thread", "thread[1].text"}
    thread_problem = next(p for p in problems if p.field == "thread")
    assert (thread_problem.limit, thread_problem.actual) == (3, 4)


def test_media_size_and_type_rules() -> None:
    class Strict(Recorder):
        limits = Limits(
            max_text=20, max_media=4, image_max_bytes=10, media_types=frozenset({"image/jpeg"})
        )

    problems = Strict().check(Post(text="x", media=[Media.from_bytes(PNG_1X1)]))
    assert {p.code for p in problems} == {"media_too_large", "media_type_unsupported"}


@pytest.mark.anyio
async def test_thread_publishes_each_as_reply_to_the_last() -> None:
    adapter = Recorder()
    posted = await adapter.publish(Post(text="1", thread=[Post(text="2"), Post(text="3")]))
    assert [posted.id, *(p.id for p in posted.thread)] == ["1", "2", "3"]
    assert [p.reply_to for p in adapter.sent] == [None, "1", "2"]


@pytest.mark.anyio
async def test_thread_stops_cleanly_and_reports_what_was_published() -> None:
    adapter = Recorder()
    with pytest.raises(ThreadIncompleteError) as info:
        await adapter.publish(Post(text="1", thread=[Post(text="boom"), Post(text="3")]))
    assert [p.id for p in info.value.published] == ["1"]
    assert info.value.total == 3
    assert isinstance(info.value.cause, ServerError)
    assert [p.text for p in adapter.sent] == ["1"], "nothing after the failure is sent"


@pytest.mark.anyio
async def test_unsupported_names_network_and_capability() -> None:
    adapter = Recorder()
    with pytest.raises(UnsupportedError, match="recorder does not support post_metrics"):
        await adapter.metrics(["1"])
    with pytest.raises(UnsupportedError, match=r"recorder does not support mentions"):
        adapter.messages()
    with pytest.raises(UnsupportedError, match="search"):
        adapter.search("q")
    with pytest.raises(UnsupportedError, match="delete"):
        await adapter.delete("1")


@pytest.mark.anyio
async def test_hub_partial_failure_is_a_result_not_an_exception() -> None:
    good = Recorder(AdapterSettings(account="good"))
    bad = Recorder(AdapterSettings(account="bad"))
    hub = Hub([good, bad])
    results = await hub.publish(
        {"recorder:good": Post(text="hi"), "recorder:bad": Post(text="boom")}
    )
    assert results["recorder:good"].ok
    assert results["recorder:good"].unwrap().id == "1"
    assert isinstance(results["recorder:bad"].error, ServerError)
    with pytest.raises(ServerError):
        results["recorder:bad"].unwrap()
    metrics = await hub.metrics({"recorder:good": ["1"]})
    assert isinstance(metrics["recorder:good"].error, UnsupportedError)


@pytest.mark.anyio
async def test_hub_concurrency_is_bounded() -> None:
    adapters = [Recorder(AdapterSettings(account=str(i)), delay=0.05) for i in range(6)]
    hub = Hub(adapters, concurrency=2)
    started = asyncio.get_running_loop().time()
    results = await hub.publish(Post(text="fan out"))
    elapsed = asyncio.get_running_loop().time() - started
    assert all(r.ok for r in results.values())
    assert elapsed >= 0.14, "6 calls of 50 ms with 2 at a time take at least 3 rounds"


def test_hub_refuses_duplicate_labels() -> None:
    with pytest.raises(ValueError, match="labelled 'recorder'"):
        Hub([Recorder(), Recorder()])
