"""Reddit: a submit Reddit took, then reading the new post back fails (the /api/info read
answered 503 every time). The post exists, so the error must not say that nothing was
published (OutcomeUnknownError), and publishing again under the key must not submit it twice."""

from __future__ import annotations

import pytest

from socialkit import OutcomeUnknownError, Post
from socialkit._http import make_client
from socialkit.testing.fakes import FakeReddit
from socialkit.testing.faults import CASE_SETTINGS, FaultProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_failed_read_back_after_the_submit_is_unknown_and_not_resubmitted() -> None:
    proxy = FaultProxy(lambda method, path: method == "GET" and path == "/api/info")
    fake = FakeReddit(base_url=proxy.url)
    await proxy.start(fake.app)
    http = make_client(timeout=float(CASE_SETTINGS["timeout"]))
    adapter = fake.connect(http=http, **CASE_SETTINGS)
    post = Post(text="read back fails\nthe body")
    try:
        await proxy.arm("storm_5xx")
        with pytest.raises(OutcomeUnknownError) as caught:
            await adapter.publish(post, idempotency_key="k-1")
        await proxy.disarm()
        assert caught.value.idempotency_key == "k-1"
        assert len(fake.submissions()) == 1
        again = await adapter.publish(post, idempotency_key="k-1")
        assert fake.submissions() == [again.id], "submitted once, under one key"
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()
