"""YouTube push notifications (WebSub, formerly PubSubHubbub): the hub's verification, the
delivery signature and the Atom entries of a delivery
(https://developers.google.com/youtube/v3/guides/push_notifications).

A subscription (``YouTubeAdapter.ex_websub_subscribe``) asks the hub to send a channel's feed
``https://www.youtube.com/xml/feeds/videos.xml?channel_id=…`` to a callback URL. The hub then
checks the callback with a ``GET`` carrying ``hub.mode``, ``hub.topic`` and
``hub.challenge``: :func:`challenge_response` gives the challenge to echo (with a 200) when the
topic is the one subscribed. Each delivery is a ``POST`` of an Atom feed whose ``entry`` names
a video uploaded or updated (``yt:videoId``, ``yt:channelId``, ``published``, ``updated``) or
an ``at:deleted-entry`` naming one deleted; with a ``hub.secret`` the hub signs the raw body:
``X-Hub-Signature: sha1=<hex HMAC-SHA1>`` (the WebSub recommendation's header),
:func:`verify_signature` checks it in constant time. The hub retries deliveries;
:func:`check_delivery` claims each once with an :class:`~socialkit.webhooks.EventDeduplicator`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET  # expat: no external entities; DTDs refused below
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from socialkit._errors import ValidationError

if TYPE_CHECKING:
    from socialkit.webhooks import EventDeduplicator

__all__ = [
    "SIGNATURE_HEADER",
    "VideoNotification",
    "challenge_response",
    "check_delivery",
    "parse_notification",
    "signature",
    "topic_url",
    "verify_signature",
]

#: The header of a delivery that carries its signature.
SIGNATURE_HEADER = "x-hub-signature"
_CHANNEL_ID = r"UC[A-Za-z0-9_-]{22}"
_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "at": "http://purl.org/atompub/tombstones/1.0",
}
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class VideoNotification:
    """One entry of a delivery: a video published or updated, or (``deleted``) removed."""

    video_id: str
    channel_id: str | None
    title: str | None
    url: str | None
    published: datetime | None
    updated: datetime | None
    deleted: bool = False


def topic_url(channel_id: str) -> str:
    """The feed a subscription follows: the channel's uploads."""
    if not isinstance(channel_id, str) or re.fullmatch(_CHANNEL_ID, channel_id) is None:
        raise ValidationError(f"{channel_id!r} is not a youtube channel id (UC…)")
    return f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={channel_id}"


def challenge_response(query: Mapping[str, str], *, topic: str) -> str:
    """The body to answer the hub's verification ``GET`` with (its ``hub.challenge``), once
    ``hub.mode`` and ``hub.topic`` say it is about ``topic``; else ``ValidationError``
    (answer 404, so that the hub drops the subscription)."""
    mode = query.get("hub.mode")
    challenge = query.get("hub.challenge")
    if mode not in ("subscribe", "unsubscribe") or not challenge:
        raise ValidationError("not a WebSub verification (hub.mode and hub.challenge)")
    if query.get("hub.topic") != topic:
        raise ValidationError("the verification is for another topic")
    return challenge


def _key(secret: str | SecretStr) -> bytes:
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value:
        raise ValidationError("the hub secret must not be empty")
    return value.encode("utf-8")


def signature(body: bytes | str, secret: str | SecretStr) -> str:
    """``sha1=`` + the hex HMAC-SHA1 of ``body`` keyed with the subscription's secret."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return "sha1=" + hmac.new(_key(secret), data, hashlib.sha1).hexdigest()


def verify_signature(body: bytes | str, header: str | None, secret: str | SecretStr) -> bool:
    """Whether ``header`` (``X-Hub-Signature``) signs the raw ``body``; constant time, and a
    missing or malformed header is simply ``False``."""
    if not header:
        return False
    expected = signature(body, secret).encode("ascii")
    try:
        given = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_notification(body: bytes | str) -> list[VideoNotification]:
    """The entries of a delivery's Atom feed; ``ValidationError`` for a body that is not one
    (or holds a DTD: a feed needs none, and refusing it keeps entity tricks out)."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if len(data) > _MAX_BODY:
        raise ValidationError("the delivery is larger than 1 MiB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValidationError("the delivery holds a DTD")
    try:
        root = ET.fromstring(data)  # noqa: S314 - no DTD (refused above)
    except ET.ParseError:
        raise ValidationError("the delivery is not XML") from None
    if root.tag != f"{{{_NS['atom']}}}feed":
        raise ValidationError("the delivery is not an Atom feed")
    found = []
    for entry in root.findall("atom:entry", _NS):
        video_id = entry.findtext("yt:videoId", namespaces=_NS)
        if not video_id:
            continue
        link = entry.find("atom:link", _NS)
        found.append(
            VideoNotification(
                video_id=video_id.strip(),
                channel_id=(entry.findtext("yt:channelId", namespaces=_NS) or "").strip() or None,
                title=entry.findtext("atom:title", namespaces=_NS),
                url=link.get("href") if link is not None else None,
                published=_time(entry.findtext("atom:published", namespaces=_NS)),
                updated=_time(entry.findtext("atom:updated", namespaces=_NS)),
            )
        )
    for gone in root.findall("at:deleted-entry", _NS):
        ref = gone.get("ref", "")
        video_id = ref.rsplit(":", 1)[-1] if ref.startswith("yt:video:") else ""
        if video_id:
            by = gone.find("at:by", _NS)
            uri = by.findtext("atom:uri", namespaces=_NS) if by is not None else None
            channel = uri.rsplit("/", 1)[-1] if uri else None
            found.append(
                VideoNotification(
                    video_id=video_id,
                    channel_id=channel,
                    title=None,
                    url=None,
                    published=None,
                    updated=_time(gone.get("when")),
                    deleted=True,
                )
            )
    return found


async def check_delivery(
    body: bytes | str,
    header: str | None,
    secret: str | SecretStr,
    *,
    deduplicator: EventDeduplicator | None = None,
) -> Literal["new", "duplicate", "invalid"]:
    """Verify a delivery, then (with a ``deduplicator``) claim it.

    ``"invalid"``: the signature does not match (answer 2xx all the same, as the WebSub
    recommendation says, and handle nothing); ``"duplicate"``: a retry of a delivery accepted
    within the deduplicator's ttl; ``"new"``: handle it (:func:`parse_notification`). The id
    is the SHA-256 of the raw body."""
    if not verify_signature(body, header, secret):
        return "invalid"
    data = body.encode("utf-8") if isinstance(body, str) else body
    if deduplicator is not None and not await deduplicator.first_seen(
        "sha256:" + hashlib.sha256(data).hexdigest()
    ):
        return "duplicate"
    return "new"
