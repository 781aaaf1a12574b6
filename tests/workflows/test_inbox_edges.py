"""Inbox corner cases found in review: a message dated in the future, and sources whose
network has no messages at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from wf_support import T0, FakeAdapter, message

from socialkit import Capability, MemoryStore
from socialkit.workflows import Inbox


@pytest.mark.anyio
async def test_a_future_dated_message_does_not_hide_later_ones() -> None:
    # Bluesky's createdAt is set by the client: one record dated a day ahead must not move the
    # cursor past "now", or every real message after it would be older than the next since.
    now = T0
    adapter = FakeAdapter("bluesky", "b")
    adapter.inbox += [message("skewed", at=T0 + timedelta(days=1)), message("m0", at=T0)]
    inbox = Inbox([adapter], store=MemoryStore(), clock=lambda: now)
    assert {i.message.id for i in await inbox.poll()} == {"skewed", "m0"}
    now = T0 + timedelta(minutes=5)
    adapter.inbox.append(message("m1", at=now))
    assert [i.message.id for i in await inbox.poll()] == ["m1"]


@pytest.mark.anyio
async def test_sources_without_messages_are_skipped_not_failed() -> None:
    talks = FakeAdapter("x", "a")
    mute = FakeAdapter("pins", "p", capabilities=(Capability.PUBLISH_TEXT,))
    talks.inbox.append(message("m0"))
    inbox = Inbox([talks, mute], store=MemoryStore())
    assert inbox.skipped == ["pins:p"]
    assert [i.message.id for i in await inbox.poll()] == ["m0"]
    assert inbox.errors == {}
    assert ("messages", None) not in mute.calls
