"""A Messenger answer (Facebook ``reply`` to a direct message) through faults on ``POST
/{page}/messages``. Meta takes no idempotency key for it, so the adapter never sends it twice;
a 2xx answer that cannot be read means the message went out: the error must be
OutcomeUnknownError, never one that says nothing was sent."""

from __future__ import annotations

import pytest

from socialkit import OutcomeUnknownError, SocialkitError
from socialkit._http import make_client
from socialkit.testing.fakes import FakeFacebook
from socialkit.testing.faults import CASE_SETTINGS, FaultProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize(
    "fault", ["malformed", "html", "empty", "read_timeout", "lost_answer_502", "reset_after"]
)
async def test_a_messenger_answer_is_sent_once_and_never_misreported(fault: str) -> None:
    proxy = FaultProxy(
        lambda method, path: method == "POST" and path.endswith("/messages"),
        answer_delay=float(CASE_SETTINGS["timeout"]) * 3,
    )
    fake = FakeFacebook(base_url=proxy.url)
    await proxy.start(fake.app)
    fan = fake.add_user("fan")
    fake.direct(fan, "do you ship abroad?")
    http = make_client(timeout=float(CASE_SETTINGS["timeout"]))
    adapter = fake.connect(http=http, **CASE_SETTINGS)

    def sent() -> list[str]:
        return [m.id for m in fake.of_type("Message") if m.owner == fake.owner.id]

    try:
        [message] = [m async for m in adapter.messages(kinds=["direct"], limit=1)]
        await proxy.arm(fault)
        with pytest.raises(SocialkitError) as caught:
            await adapter.reply(message, "We do!")
        await proxy.disarm()
        assert len(sent()) == 1, "sent once"
        assert isinstance(caught.value, OutcomeUnknownError), "it went out: not a refusal"
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()
