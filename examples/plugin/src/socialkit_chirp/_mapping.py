"""From Chirp's wire models to socialkit's common model (pure functions, no I/O)."""

from __future__ import annotations

from socialkit import Account, Media, MediaKind, Metric, Post, UploadedMedia

from socialkit_chirp import _wire

NETWORK = "chirp"

#: Chirp's counter -> socialkit's canonical metric name (``socialkit.CANONICAL_METRICS``).
METRICS: dict[str, str] = {
    "views": "impressions",
    "likes": "likes",
    "shares": "reposts",
    "replies": "replies",
}


def account(user: _wire.User) -> Account:
    return Account(
        id=user.id,
        handle=user.handle,
        name=user.name,
        followers=user.followers,
        url=f"https://chirp.example/@{user.handle}",
        network=NETWORK,
        raw=user,
    )


def uploaded(item: _wire.MediaItem) -> UploadedMedia:
    kind: MediaKind = "gif" if item.mime_type == "image/gif" else "image"
    return UploadedMedia(
        id=item.id,
        network=NETWORK,
        kind=kind,
        mime_type=item.mime_type,
        alt=item.alt,
        width=item.width,
        height=item.height,
        url=item.url,
        raw=item,
    )


def post(entry: _wire.Chirp) -> Post:
    return Post(
        id=entry.id,
        network=NETWORK,
        url=entry.url,
        text=entry.text,
        created_at=entry.created_at,
        reply_to=entry.reply_to,
        author=account(entry.author),
        media=[
            Media(
                kind=uploaded(m).kind,
                url=m.url,
                alt=m.alt,
                mime_type=m.mime_type,
                width=m.width,
                height=m.height,
                id=m.id,
            )
            for m in entry.media
        ],
        raw=entry,
    )


def metrics(counts: _wire.Counts) -> list[Metric]:
    return [
        Metric(
            name=name,
            value=getattr(counts, native),
            network=NETWORK,
            post_id=counts.id,
            native_name=native,
        )
        for native, name in METRICS.items()
    ]
