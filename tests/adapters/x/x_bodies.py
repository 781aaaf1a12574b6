"""Response bodies for the X tests, built to the official description.

Every builder names the schema of ``../shared/specs/x/openapi.json`` (X API v2, spec version
2.167) it follows (``#/components/schemas/<Name>``) and fills at least its required properties;
the tests validate every mocked response against the schema of its operation, so a builder that
drifts fails there. The description spells counts ``repost_count`` / ``post_count`` (the servers
have long sent ``retweet_count`` / ``tweet_count``; the adapter accepts both).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

BASE = "https://api.x.test"
ME_ID = "2244994945"
ME_HANDLE = "XDevelopers"
OTHER_ID = "783214"
OTHER_HANDLE = "X"

_X_EPOCH_MS = 1288834974657
PROBLEMS = "https://api.x.com/2/problems/"


def snowflake(when: datetime, sequence: int = 0) -> str:
    """An X id created at ``when`` (ids carry their creation time in the top 42 bits)."""
    ms = int(when.timestamp() * 1000) - _X_EPOCH_MS
    return str((ms << 22) | (sequence & 0x3FFFFF))


def recent_id(minutes_ago: float = 10, sequence: int = 0) -> str:
    return snowflake(datetime.now(timezone.utc) - timedelta(minutes=minutes_ago), sequence)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def created_of(post_id: str) -> str:
    ms = (int(post_id) >> 22) + _X_EPOCH_MS
    return iso(datetime.fromtimestamp(ms / 1000, tz=timezone.utc))


def user(
    id: str = ME_ID,
    username: str = ME_HANDLE,
    *,
    followers: int = 1200,
    following: int = 80,
    posts: int = 4321,
    listed: int = 7,
) -> dict[str, Any]:
    """User schema (#/components/schemas/User; public_metrics: UserPublicMetrics, whose
    followers_count, following_count, post_count and listed_count are required)."""
    return {
        "id": id,
        "name": f"{username} name",
        "username": username,
        "profile_image_url": f"https://pbs.twimg.com/profile_images/{id}/avatar.jpg",
        "public_metrics": {
            "followers_count": followers,
            "following_count": following,
            "post_count": posts,
            "listed_count": listed,
        },
    }


def user_response(**kwargs: Any) -> dict[str, Any]:
    """GetUsersMeResponse / GetUsersByUsernameResponse: ``{"data": User}``."""
    return {"data": user(**kwargs)}


def public_metrics(
    impressions: int = 100,
    likes: int = 10,
    reposts: int = 3,
    replies: int = 2,
    quotes: int = 1,
    bookmarks: int = 4,
) -> dict[str, int]:
    """PostPublicMetrics (#/components/schemas/PostPublicMetrics): all six counts required."""
    return {
        "impression_count": impressions,
        "like_count": likes,
        "repost_count": reposts,
        "reply_count": replies,
        "quote_count": quotes,
        "bookmark_count": bookmarks,
    }


def post(
    id: str,
    text: str = "hello",
    *,
    author_id: str = ME_ID,
    replied_to: str | None = None,
    quoted: str | None = None,
    in_reply_to_user_id: str | None = None,
    conversation_id: str | None = None,
    metrics: dict[str, int] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Post schema (#/components/schemas/Post; referenced_posts: PostReferencedPosts)."""
    body: dict[str, Any] = {
        "id": id,
        "text": text,
        "author_id": author_id,
        "created_at": created_of(id),
        "conversation_id": conversation_id or replied_to or quoted or id,
        "lang": "en",
        "public_metrics": metrics or public_metrics(),
    }
    refs = []
    if replied_to is not None:
        refs.append({"type": "replied_to", "id": replied_to})
    if quoted is not None:
        refs.append({"type": "quoted", "id": quoted})
    if refs:
        body["referenced_posts"] = refs
    if in_reply_to_user_id is not None:
        body["in_reply_to_user_id"] = in_reply_to_user_id
    body.update(extra)
    return body


def page(
    posts: list[dict[str, Any]],
    *,
    next_token: str | None = None,
    users: list[dict[str, Any]] | None = None,
    included_posts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """GetUsersPostsResponse / GetUsersMentionsResponse / SearchPostsRecentResponse:
    ``data`` (Post[]), ``includes`` (Expansions), ``meta`` (result_count, next_token …)."""
    meta: dict[str, Any] = {"result_count": len(posts)}
    if posts:
        meta["newest_id"] = posts[0]["id"]
        meta["oldest_id"] = posts[-1]["id"]
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if posts:
        body["data"] = posts
    includes: dict[str, Any] = {"users": users or [user()]}
    if included_posts:
        includes["posts"] = included_posts
    body["includes"] = includes
    return body


def created(id: str, text: str) -> dict[str, Any]:
    """CreatePostsResponse (#/components/schemas/CreatePostsResponse; data:
    CreatePostsResponseData with required id and text)."""
    return {"data": {"id": id, "text": text, "edit_history_post_ids": [id]}}


def upload_init(media_id: str) -> dict[str, Any]:
    """InitializeMediaUploadResponse (data: InitializeMediaUploadResponseData, id required)."""
    return {"data": {"id": media_id, "media_key": f"7_{media_id}", "expires_after_secs": 86400}}


def upload_append() -> dict[str, Any]:
    """AppendMediaUploadResponse (data: AppendMediaUploadResponseData, ``expires_at``)."""
    return {"data": {"expires_at": 1893456000}}


def upload_status(
    media_id: str, state: str | None = None, check_after: int | None = None, size: int = 67
) -> dict[str, Any]:
    """FinalizeMediaUploadResponse / GetMediaUploadStatusResponse (data.processing_info:
    ``state`` pending | in_progress | failed | succeeded, ``check_after_secs``)."""
    data: dict[str, Any] = {
        "id": media_id,
        "media_key": f"7_{media_id}",
        "size": size,
        "expires_after_secs": 86400,
    }
    if state is not None:
        info: dict[str, Any] = {"state": state}
        if check_after is not None:
            info["check_after_secs"] = check_after
        if state == "in_progress":
            info["progress_percent"] = 50
        data["processing_info"] = info
    return {"data": data}


def metadata_set(media_id: str, alt: str) -> dict[str, Any]:
    """CreateMediaMetadataResponse (data: CreateMediaMetadataResponseData, id required)."""
    return {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}}


def dm_event(
    id: str,
    text: str,
    sender_id: str,
    conversation_id: str = f"{OTHER_ID}-{ME_ID}",
    media_keys: list[str] | None = None,
) -> dict[str, Any]:
    """DmEvent (#/components/schemas/DmEvent; ``attachments``: DmEventAttachments)."""
    event: dict[str, Any] = {
        "id": id,
        "event_type": "MessageCreate",
        "text": text,
        "sender_id": sender_id,
        "dm_conversation_id": conversation_id,
        "created_at": created_of(id),
    }
    if media_keys:
        event["attachments"] = {"media_keys": media_keys}
    return event


def dm_page(events: list[dict[str, Any]], next_token: str | None = None) -> dict[str, Any]:
    """GetDirectMessagesEventsResponse (data: DmEvent[], includes: Expansions, meta)."""
    meta: dict[str, Any] = {"result_count": len(events)}
    if next_token:
        meta["next_token"] = next_token
    return {
        "data": events,
        "includes": {"users": [user(), user(OTHER_ID, OTHER_HANDLE)]},
        "meta": meta,
    }


def dm_sent(event_id: str, conversation_id: str) -> dict[str, Any]:
    """CreateDirectMessagesByConversationIdResponse / ...ByParticipantIdResponse (data with
    required dm_conversation_id and dm_event_id)."""
    return {"data": {"dm_conversation_id": conversation_id, "dm_event_id": event_id}}


def problem(
    status: int,
    kind: str = "about:blank",
    *,
    title: str,
    detail: str,
    **extra: Any,
) -> httpx.Response:
    """An error answer: an RFC 7807 problem document served as ``application/problem+json``.

    ``kind`` is a type of ``#/components/schemas/Problem`` (``invalid-request``,
    ``resource-not-found`` …, prefixed with https://api.x.com/2/problems/) or one the X
    reference documents beyond the description (docs.x.com, "Response codes and errors":
    ``about:blank`` generic errors such as 401, 429 and the duplicate-content 403,
    ``usage-capped``)."""
    body: dict[str, Any] = {
        "title": title,
        "detail": detail,
        "type": kind if kind == "about:blank" else PROBLEMS + kind,
        "status": status,
        **extra,
    }
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json", "x-transaction-id": "f00dfeed"},
    )


def ok(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json; charset=utf-8", **(headers or {})},
    )
