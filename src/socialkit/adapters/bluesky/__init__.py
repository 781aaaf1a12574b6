"""Bluesky (AT Protocol) through XRPC over httpx: no atproto SDK.

Sign in with a handle (or DID) and an app password (:mod:`._auth`), or with AT Protocol OAuth
(PAR, PKCE and DPoP: :mod:`._oauth`, ``ex_oauth_begin`` / ``ex_oauth_complete``); the session is
kept in the token store and reused across adapter instances and runs. Posts are
``app.bsky.feed.post`` records created with a record key derived from the publish's idempotency
key (a TID), so a retried create, or a publish repeated with the same key, never makes a second
post. Likes, reposts, follows, blocks and threadgates (hidden replies) are records too;
bookmarks and mutes are AppView procedures. Images and MP4 videos are blobs. Reads, metrics,
notifications and search go through the AppView the PDS proxies ``app.bsky.*`` to; a PDS without
one (self-hosted, tests) still publishes and reads its own records through
``com.atproto.repo.*``. Direct messages go to the chat service through the PDS with the
``atproto-proxy`` header.
"""

from socialkit.adapters.bluesky._adapter import (
    GET_POSTS_MAX,
    IMAGE_MAX_SIZE,
    MAX_BYTES,
    MAX_GRAPHEMES,
    MAX_IMAGES,
    THUMB_MAX_SIZE,
    BlueskyAdapter,
)
from socialkit.adapters.bluesky._settings import BlueskySettings

__all__ = [
    "BlueskyAdapter",
    "BlueskySettings",
    "GET_POSTS_MAX",
    "IMAGE_MAX_SIZE",
    "MAX_BYTES",
    "MAX_GRAPHEMES",
    "MAX_IMAGES",
    "THUMB_MAX_SIZE",
]
