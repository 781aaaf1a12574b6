"""Pinterest payloads (``_wire``) to the common model: pins to Posts, the user account to an
Account, analytics to Metrics. Lossless: ``raw`` keeps the whole answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone
from typing import Any

from socialkit._models import Account, Media, Metric, Post
from socialkit.adapters.pinterest import _wire as wire

__all__ = ["METRICS", "account_from", "metrics_from", "post_from", "summary_account"]

NETWORK = "pinterest"

#: Canonical name of each analytics metric the adapter reads (``metric_types`` of
#: ``GET /pins/{pin_id}/analytics``; ``summary_metrics`` of the answers).
METRICS: Mapping[str, str] = {
    "IMPRESSION": "impressions",
    "SAVE": "saves",
    "PIN_CLICK": "clicks",
    "OUTBOUND_CLICK": "link_clicks",
    "VIDEO_MRC_VIEW": "video_views",
}

#: Image sizes of ``#/components/schemas/ImageSize``, largest first.
_SIZES = ("originals", "1200x", "600x", "400x300", "150x150")


def _largest(images: Mapping[str, wire.ImageDetails] | None) -> wire.ImageDetails | None:
    if not images:
        return None
    for size in _SIZES:
        if size in images:
            return images[size]
    return next(iter(images.values()))


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _image(images: Mapping[str, wire.ImageDetails] | None, alt: str | None) -> Media | None:
    best = _largest(images)
    if best is None:
        return None
    return Media(
        kind="image",
        mime_type="image/jpeg",
        url=best.url,
        alt=alt,
        width=_positive(best.width),
        height=_positive(best.height),
    )


def _images_of(item: Mapping[str, Any]) -> dict[str, wire.ImageDetails] | None:
    images = item.get("images")
    if not isinstance(images, dict):
        return None
    found = {}
    for size, detail in images.items():
        if isinstance(detail, dict) and isinstance(detail.get("url"), str):
            found[str(size)] = wire.ImageDetails.model_validate(detail)
    return found


def _video(media: wire.PinMedia | Mapping[str, Any], alt: str | None) -> Media | None:
    data = media if isinstance(media, Mapping) else media.model_dump()
    cover = data.get("cover_image_url")
    url = data.get("video_url") or cover
    if not isinstance(url, str):
        return None
    duration = data.get("duration")
    width, height = data.get("width"), data.get("height")
    return Media(
        kind="video",
        mime_type="video/mp4",
        url=url,
        preview_url=cover if isinstance(cover, str) else None,
        alt=alt,
        # ``duration`` is in milliseconds (PinMediaWithVideo).
        duration=float(duration) / 1000
        if isinstance(duration, int | float) and duration >= 0
        else None,
        width=width if isinstance(width, int) and width > 0 else None,
        height=height if isinstance(height, int) and height > 0 else None,
    )


def _media(pin: wire.Pin) -> list[Media]:
    media = pin.media
    if media is None:
        return []
    found: list[Media | None] = []
    if media.media_type == "image":
        found.append(_image(media.images, pin.alt_text))
    elif media.media_type == "video":
        found.append(_video(media, pin.alt_text))
    elif media.items:
        # A carousel: the pin's one alt text belongs to its first image (as published).
        for index, item in enumerate(media.items):
            alt = pin.alt_text if index == 0 else None
            kind = item.get("item_type") or (
                "video" if "video_url" in item or "cover_image_url" in item else "image"
            )
            if kind == "video":
                found.append(_video(item, alt))
            else:
                found.append(_image(_images_of(item), alt))
    return [m for m in found if m is not None]


def post_from(pin: wire.Pin) -> Post:
    """A pin as a Post: ``text`` is its description (its title when it has none), ``link``
    its destination link, ``media`` its image(s) or video with the alt text."""
    text = pin.description or pin.title or ""
    created = pin.created_at
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=timezone.utc)
    return Post(
        text=text,
        media=_media(pin),
        link=pin.link or None,
        id=pin.id,
        network=NETWORK,
        url=f"https://www.pinterest.com/pin/{pin.id}/",
        created_at=created,
        raw=pin.model_dump(mode="json"),
    )


def account_from(account: wire.Account) -> Account:
    """``GET /user_account`` as an Account (its id is the user account id)."""
    handle = account.username
    return Account(
        id=account.id or handle or "",
        handle=handle,
        name=account.business_name or handle,
        url=f"https://www.pinterest.com/{handle}/" if handle else None,
        avatar_url=account.profile_image,
        followers=account.follower_count,
        following=account.following_count,
        posts_count=account.pin_count,
        network=NETWORK,
        raw=account.model_dump(mode="json"),
    )


def summary_account(user: wire.UserSummary) -> Account:
    """A follower or followee (``UserSummary``): Pinterest gives the username alone, which is
    also the Account's ``id``."""
    return Account(
        id=user.username,
        handle=user.username,
        url=f"https://www.pinterest.com/{user.username}/",
        network=NETWORK,
        raw=user.model_dump(mode="json"),
    )


def _bound(day: date, end: bool = False) -> datetime:
    moment = datetime.combine(day, time.max if end else time.min)
    return moment.replace(tzinfo=timezone.utc)


def metrics_from(
    summary: Mapping[str, float],
    *,
    start: date,
    end: date,
    measured_at: datetime,
    post_id: str | None = None,
) -> list[Metric]:
    """The canonical metrics among ``summary_metrics`` (sums over ``start`` … ``end``)."""
    found = []
    for native, name in METRICS.items():
        value = summary.get(native)
        if value is None:
            continue
        number: int | float = int(value) if float(value).is_integer() else float(value)
        found.append(
            Metric(
                name=name,
                value=number,
                network=NETWORK,
                post_id=post_id,
                native_name=native,
                period="day" if start == end else f"days_{(end - start).days + 1}",
                start=_bound(start),
                end=_bound(end, end=True),
                measured_at=measured_at,
            )
        )
    return found
