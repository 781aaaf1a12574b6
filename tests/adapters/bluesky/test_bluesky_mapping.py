"""Read-back of media, quotes and links from post records and AppView views.

Every fixture is validated against its lexicon def (../shared/specs/bluesky/lexicons, with
``LexiconChecker``) before it is mapped: app.bsky.feed.post records and app.bsky.feed.defs#postView.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests._specs import specs_dir
from tests._validation.lexicon import LexiconChecker

from socialkit.adapters.bluesky._mapping import post_from_record, post_from_view
from socialkit.adapters.bluesky._wire import PostView

pytestmark = pytest.mark.spec

DID = "did:plc:alice2222222222222222222"
URI = f"at://{DID}/app.bsky.feed.post/3kabcdefghij2"
QUOTED = "at://did:plc:bob33333333333333333333/app.bsky.feed.post/3kabcdefghia2"
CID = "bafyreigq3exe2m23sojzoachuyucow4vu7eyatati4uy6scr4ixt6xwlhi"
BLOB = "bafkreibwmrhbspamsz3u4rbxc4ad22wonf3nkpvwepzrynxervzcudj7u4"
VIDEO = "bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
CDN = "https://cdn.bsky.app/img"


@pytest.fixture(scope="module")
def lexicons() -> LexiconChecker:
    return LexiconChecker([specs_dir("bluesky", "lexicons")])


def blob(cid: str, mime: str, size: int) -> dict[str, Any]:
    """The lexicon ``blob`` type."""
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}


def record(embed: dict[str, Any], text: str = "look") -> dict[str, Any]:
    """app.bsky.feed.post."""
    return {
        "$type": "app.bsky.feed.post",
        "text": text,
        "embed": embed,
        "createdAt": "2026-01-02T03:04:05.000Z",
    }


def view(value: dict[str, Any], embed_view: dict[str, Any]) -> dict[str, Any]:
    """app.bsky.feed.defs#postView."""
    return {
        "uri": URI,
        "cid": CID,
        "author": {"did": DID, "handle": "alice.example.com"},
        "record": value,
        "embed": embed_view,
        "indexedAt": "2026-01-02T03:04:06.000Z",
    }


def checked(lexicons: LexiconChecker, value: dict[str, Any], shown: dict[str, Any]) -> PostView:
    lexicons.validate_record("app.bsky.feed.post", value)
    lexicons.validate("app.bsky.feed.defs#postView", shown)
    return PostView.model_validate(shown)


def test_video_with_alt_ratio_and_playlist(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.video",
            "video": blob(VIDEO, "video/mp4", 123456),
            "alt": "a short clip",
            "aspectRatio": {"width": 1920, "height": 1080},
        }
    )
    shown = view(
        value,
        {
            "$type": "app.bsky.embed.video#view",
            "cid": VIDEO,
            "playlist": f"https://video.bsky.app/watch/{DID}/{VIDEO}/playlist.m3u8",
            "thumbnail": f"https://video.bsky.app/watch/{DID}/{VIDEO}/thumbnail.jpg",
            "alt": "a short clip",
            "aspectRatio": {"width": 1920, "height": 1080},
        },
    )
    media = post_from_view(checked(lexicons, value, shown)).media
    assert len(media) == 1
    item = media[0]
    assert (item.kind, item.mime_type, item.size, item.id) == ("video", "video/mp4", 123456, VIDEO)
    assert (item.width, item.height, item.alt) == (1920, 1080, "a short clip")
    assert item.url is not None
    assert item.url.endswith("playlist.m3u8")
    assert item.preview_url is not None
    assert item.preview_url.endswith("thumbnail.jpg")


def test_a_gif_is_a_video_presented_as_gif(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.video",
            "video": blob(VIDEO, "video/mp4", 999),
            "presentation": "gif",
        }
    )
    shown = view(
        value,
        {
            "$type": "app.bsky.embed.video#view",
            "cid": VIDEO,
            "playlist": "https://video.bsky.app/p.m3u8",
            "presentation": "gif",
        },
    )
    assert [m.kind for m in post_from_view(checked(lexicons, value, shown)).media] == ["gif"]


def test_images_beside_a_quote(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.recordWithMedia",
            "record": {"$type": "app.bsky.embed.record", "record": {"uri": QUOTED, "cid": CID}},
            "media": {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "image": blob(BLOB, "image/png", 67),
                        "alt": "",
                        "aspectRatio": {"width": 4, "height": 3},
                    }
                ],
            },
        }
    )
    shown = view(
        value,
        {
            "$type": "app.bsky.embed.recordWithMedia#view",
            "record": {
                "$type": "app.bsky.embed.record#view",
                "record": {
                    "$type": "app.bsky.embed.record#viewNotFound",
                    "uri": QUOTED,
                    "notFound": True,
                },
            },
            "media": {
                "$type": "app.bsky.embed.images#view",
                "images": [
                    {
                        "thumb": f"{CDN}/feed_thumbnail/plain/{DID}/{BLOB}@jpeg",
                        "fullsize": f"{CDN}/feed_fullsize/plain/{DID}/{BLOB}@jpeg",
                        "alt": "",
                        "aspectRatio": {"width": 4, "height": 3},
                    }
                ],
            },
        },
    )
    post = post_from_view(checked(lexicons, value, shown))
    assert post.quote_of == QUOTED
    assert post.link is None
    [item] = post.media
    assert (item.kind, item.id, item.alt, item.width, item.height) == ("image", BLOB, None, 4, 3)
    assert item.url == f"{CDN}/feed_fullsize/plain/{DID}/{BLOB}@jpeg"
    assert item.preview_url == f"{CDN}/feed_thumbnail/plain/{DID}/{BLOB}@jpeg"


def test_gallery_items(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.gallery",
            "items": [
                {
                    "$type": "app.bsky.embed.gallery#image",
                    "image": blob(BLOB, "image/jpeg", 5000),
                    "alt": "first",
                    "aspectRatio": {"width": 3, "height": 2},
                }
            ],
        }
    )
    shown = view(
        value,
        {
            "$type": "app.bsky.embed.gallery#view",
            "items": [
                {
                    "$type": "app.bsky.embed.gallery#viewImage",
                    "thumbnail": f"{CDN}/t/{BLOB}",
                    "fullsize": f"{CDN}/f/{BLOB}",
                    "alt": "first",
                    "aspectRatio": {"width": 3, "height": 2},
                }
            ],
        },
    )
    [item] = post_from_view(checked(lexicons, value, shown)).media
    assert (item.id, item.alt, item.url, item.preview_url) == (
        BLOB,
        "first",
        f"{CDN}/f/{BLOB}",
        f"{CDN}/t/{BLOB}",
    )


def test_a_record_without_a_view_links_the_blob(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.images",
            "images": [{"image": blob(BLOB, "image/png", 67), "alt": "dot"}],
        },
        text="see https://example.com/x",
    )
    value["facets"] = [
        {
            "index": {"byteStart": 4, "byteEnd": 25},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/x"}],
        }
    ]
    lexicons.validate_record("app.bsky.feed.post", value)
    post = post_from_record(
        URI, value, blob_url=lambda did, cid: f"https://pds.example/getBlob?did={did}&cid={cid}"
    )
    assert post.link == "https://example.com/x"  # the link facet
    [item] = post.media
    assert item.url == f"https://pds.example/getBlob?did={DID}&cid={BLOB}"
    assert (item.alt, item.size, item.width, item.preview_url) == ("dot", 67, None, None)


def test_an_external_card_is_the_link(lexicons: LexiconChecker) -> None:
    value = record(
        {
            "$type": "app.bsky.embed.external",
            "external": {"uri": "https://example.com/card", "title": "t", "description": "d"},
        }
    )
    lexicons.validate_record("app.bsky.feed.post", value)
    post = post_from_record(URI, value)
    assert (post.link, post.media) == ("https://example.com/card", [])
