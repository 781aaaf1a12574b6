"""A direct message through a faulty network: the real XAdapter, real sockets, FakeX behind
socialkit.testing.faults' FaultProxy (127.0.0.1), the fault applied to the DM send.

A DM has no idempotency key and X no duplicate check for DMs, so the adapter never sends one
twice; when the send's answer is lost it looks for the message among the account's DM events
(``GET /2/dm_events``). Every fault must leave the application either holding the message that
is online (exactly one copy) or told OutcomeUnknownError with no second copy sent."""

from __future__ import annotations

import re

import pytest

from socialkit import OutcomeUnknownError, Post, SocialkitError
from socialkit._http import make_client
from socialkit.testing.fakes import FakeX
from socialkit.testing.faults import CASE_SETTINGS, FAULTS, FaultProxy

pytestmark = pytest.mark.anyio

_SEND = re.compile(r"^/2/dm_conversations/[^/]+(?:/[^/]+)?/messages$")

#: Faults after which the fake has the message: the adapter must find it.
_DELIVERED = {"reset_after", "read_timeout", "drip", "lost_answer_502", "malformed"}


def _is_send(method: str, path: str) -> bool:
    return method == "POST" and _SEND.match(path) is not None


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_dm_is_online_once_or_reported_unknown(fault: str) -> None:
    proxy = FaultProxy(_is_send, answer_delay=float(CASE_SETTINGS["timeout"]) * 3)
    fake = FakeX(base_url=proxy.url)
    await proxy.start(fake.app)
    fan = fake.add_user("fan")
    fake.direct(fan, "hello, is this shop open on Sunday?")
    adapter = fake.connect(
        http=make_client(timeout=float(CASE_SETTINGS["timeout"])), **CASE_SETTINGS
    )
    try:
        inbox = [m async for m in adapter.messages(kinds=["direct"], limit=1)]
        assert [m.kind for m in inbox] == ["direct"]
        before = len(fake.dms)
        await proxy.arm(fault)
        sent: Post | None = None
        error: SocialkitError | None = None
        try:
            sent = await adapter.reply(inbox[0], "Yes, from 10 to 4.")
        except SocialkitError as exc:
            error = exc
        await proxy.disarm()
        ours = [e for e in fake.dms.values() if e.sender_id == fake.owner.id]
        assert len(fake.dms) - before == len(ours) <= 1, "never sent twice"
        if sent is not None:
            assert [e.id for e in ours] == [sent.id], "the message the application holds is online"
        elif isinstance(error, OutcomeUnknownError):
            assert fault not in _DELIVERED, f"{fault}: delivered, but not found among the events"
        else:
            assert ours == [], f"{fault}: {type(error).__name__} says not sent, yet it is online"
        if fault in _DELIVERED:
            assert sent is not None, f"{fault}: the delivered message was not found ({error!r})"
    finally:
        await adapter.aclose()
        await proxy.aclose()
