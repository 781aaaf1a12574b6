"""YouTube push notifications (https://developers.google.com/youtube/v3/guides/push_notifications):
the subscription at the hub, the verification answer, the signed Atom deliveries (as
FakeYouTube's hub sends them) and their deduplication."""

from __future__ import annotations

import pytest
from tests.adapters.youtube.youtube_support import connect

from socialkit import Media, Post, ValidationError
from socialkit._http import redact_text
from socialkit._store import MemoryStore
from socialkit.adapters.youtube import (
    challenge_response,
    check_delivery,
    parse_notification,
    topic_url,
    verify_signature,
)
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeYouTube
from socialkit.webhooks import EventDeduplicator

pytestmark = pytest.mark.anyio
SECRET = "hub-secret-0123456789"


async def test_subscribe_then_a_signed_delivery_names_the_new_video() -> None:
    fake = FakeYouTube(processing_reads=0)
    youtube, _ = connect(fake)
    async with youtube:
        topic = await youtube.ex_websub_subscribe("https://app.example/yt", secret=SECRET)
        posted = await youtube.publish(Post(text="new", media=[Media.from_bytes(c.MP4_HEAD)]))
    assert topic == topic_url(fake.owner.id)
    assert fake.websub[topic] == ("https://app.example/yt", SECRET)
    # The hub secret signs the deliveries: it is kept out of logs and errors by its value.
    assert redact_text(f"the hub said no to {SECRET}") == "the hub said no to [REDACTED]"
    body, headers = fake.notification(str(posted.id))
    dedup = EventDeduplicator(MemoryStore(), "webhooks.youtube")
    header = headers["X-Hub-Signature"]
    assert await check_delivery(body, header, SECRET, deduplicator=dedup) == "new"
    assert await check_delivery(body, header, SECRET, deduplicator=dedup) == "duplicate"
    assert await check_delivery(body, "sha1=" + "0" * 40, SECRET) == "invalid"
    [event] = parse_notification(body)
    assert (event.video_id, event.channel_id, event.title) == (posted.id, fake.owner.id, "new")
    assert not event.deleted
    assert event.url == f"https://www.youtube.com/watch?v={posted.id}"


async def test_a_deleted_video_and_unsubscribing() -> None:
    fake = FakeYouTube()
    video = fake.publish_as(fake.owner, "soon gone")
    youtube, _ = connect(fake)
    async with youtube:
        topic = await youtube.ex_websub_subscribe("https://app.example/yt")
        body, headers = fake.notification(video, deleted=True)
        assert "X-Hub-Signature" not in headers  # no secret, no signature
        [event] = parse_notification(body)
        assert (event.video_id, event.deleted, event.channel_id) == (video, True, fake.owner.id)
        await youtube.ex_websub_subscribe("https://app.example/yt", unsubscribe=True)
    assert topic not in fake.websub


def test_the_verification_answer() -> None:
    topic = topic_url("UCabcdefghijklmnopqrstuv")
    query = {"hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "1234"}
    assert challenge_response(query, topic=topic) == "1234"
    with pytest.raises(ValidationError):
        challenge_response(
            {**query, "hub.topic": topic_url("UCzzzzzzzzzzzzzzzzzzzzzz")}, topic=topic
        )
    with pytest.raises(ValidationError):
        challenge_response({"hub.topic": topic}, topic=topic)


@pytest.mark.parametrize(
    "body",
    [b"not xml", b"<rss/>", b'<!DOCTYPE x [<!ENTITY a "b">]><feed/>', b"x" * (1024 * 1024 + 1)],
)
def test_what_is_not_a_feed_is_refused(body: bytes) -> None:
    with pytest.raises(ValidationError):
        parse_notification(body)


def test_signatures() -> None:
    assert not verify_signature(b"body", None, SECRET)
    assert not verify_signature(b"body", "sha1=\u00e9", SECRET)
    with pytest.raises(ValidationError):
        verify_signature(b"body", "sha1=00", "")
