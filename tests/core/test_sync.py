"""The blocking facade, from plain synchronous tests (no event loop in the test itself)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from socialkit import Account, Adapter, Capability, Limits, Post, sync


class Counting(Adapter):
    """Yields posts one at a time and counts how many were produced (to prove laziness)."""

    name = "counting"
    capabilities = frozenset({Capability.PUBLISH_TEXT, Capability.READ_POSTS})
    limits = Limits(max_text=100)
    produced = 0

    async def me(self) -> Account:
        return Account(id="me", handle=threading.current_thread().name)

    async def _publish_one(self, post: Post) -> Post:
        return post.model_copy(update={"id": "42"})

    async def _gen(self) -> AsyncIterator[Post]:
        for i in range(1000):
            type(self).produced += 1
            yield Post(text=str(i), id=str(i))

    def posts(self, *, account=None, since=None, limit=None):  # type: ignore[no-untyped-def]
        return self._gen()


def test_blocking_calls_run_on_the_portal_thread() -> None:
    with sync.blocking(Counting(Counting.Settings())) as net:
        me = net.me()
        assert me.id == "me"
        assert me.handle != threading.current_thread().name, "runs on the portal's loop thread"
        assert net.publish(Post(text="hi")).id == "42"
        assert net.check(Post(text="x" * 101))[0].code == "text_too_long"


def test_iterators_stay_lazy() -> None:
    Counting.produced = 0
    net = sync.blocking(Counting(Counting.Settings()))
    it = net.posts()
    first = [next(it).id for _ in range(3)]
    assert first == ["0", "1", "2"]
    assert Counting.produced == 3
    it.close()
    assert list(it) == []


def test_connect_through_the_registry() -> None:
    with sync.connect("echo", handle="bob", token="t0ken") as net:
        assert net.me().handle == "bob"
        assert net.publish(Post(text="hello")).id == "1"
        assert [p.id for p in net.posts()] == ["1"]


def test_real_adapter_against_a_fake_network() -> None:
    from socialkit.testing.fakes import FakeMastodon

    fake = FakeMastodon()
    fan = fake.add_user("fan")
    with sync.blocking(fake.connect()) as net:
        posted = net.publish(Post(text="Hello from a script"))
        fake.like(posted.id, fan)
        fake.mention(fan, "@owner hi there")
        assert [p.text for p in net.posts(limit=5)] == ["Hello from a script"]
        likes = {m.name: m.value for m in net.metrics([posted.id])[posted.id]}["likes"]
        assert likes == 1
        messages = net.messages(limit=10)
        first = next(messages)
        assert (first.kind, first.text) == ("mention", "@owner hi there")
        messages.close()
        reply = net.reply(first, "Hello!")
        assert reply.id is not None


def test_interpreter_exits_while_a_stream_is_still_open(tmp_path: Path) -> None:
    # A stream left running in a daemon thread must not keep the interpreter from exiting.
    script = tmp_path / "open_stream.py"
    script.write_text(
        "import asyncio, threading, time\n"
        "from socialkit import sync\n"
        "class Slow:\n"
        "    async def forever(self):\n"
        "        while True:\n"
        "            await asyncio.sleep(0.05)\n"
        "            yield 1\n"
        "def consume():\n"
        "    for _ in sync.blocking(Slow()).forever():\n"
        "        pass\n"
        "threading.Thread(target=consume, daemon=True).start()\n"
        "time.sleep(0.3)\n"
        "print('bye')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "bye"


def test_async_attributes_come_back_blocking() -> None:
    from socialkit import MemoryStore
    from socialkit.workflows import Inbox

    inbox = sync.blocking(Inbox([Counting(Counting.Settings())], store=MemoryStore()))
    inbox.store.put("ns", "k", "v")  # a blocking call, not a coroutine left unawaited
    assert inbox.store.get("ns", "k") == "v"
    assert inbox.namespace == "inbox"  # plain values come back as they are


def test_paged_cursor_and_pages_through_the_blocking_view() -> None:
    from socialkit import Batch, Paged

    async def fetch(cursor: str | None, want: int | None) -> Batch[str]:
        start = int(cursor or 0)
        return Batch(
            [f"i{n}" for n in range(start, min(start + 2, 5))],
            next=str(start + 2) if start + 2 < 5 else None,
        )

    class Source:
        def items(self, cursor: str | None = None, limit: int | None = None) -> Paged[str]:
            return Paged(fetch, cursor=cursor, limit=limit, key_of=lambda s: s)

    view = sync.blocking(Source())
    first = view.items(limit=3)
    assert list(first) == ["i0", "i1", "i2"]
    assert list(view.items(cursor=first.cursor)) == ["i3", "i4"]
    pages = [page.items for page in view.items().pages()]
    assert pages == [["i0", "i1"], ["i2", "i3"], ["i4"]]


def test_items_with_async_methods_come_back_blocking() -> None:
    class Delivery:
        def __init__(self) -> None:
            self.acked = False

        async def ack(self) -> None:
            self.acked = True

    class Queue:
        async def consume(self) -> AsyncIterator[Delivery]:
            yield Delivery()

    (delivery,) = list(sync.blocking(Queue()).consume())
    delivery.ack()
    assert delivery.wrapped.acked
