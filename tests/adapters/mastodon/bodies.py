"""Response bodies for the Mastodon tests, built to the official schemas.

Every builder names the schema of ``../shared/specs/mastodon/schema.json`` it follows
(``#/components/schemas/<Name>``) and fills at least its required properties; the tests validate
each mocked response against the schema of its operation, so a builder that drifts fails there.
"""

from __future__ import annotations

from typing import Any

BASE = "https://mastodon.example"
HOST = "mastodon.example"
ME_ID = "109000000000000001"


def account(
    id: str = ME_ID,
    username: str = "alice",
    *,
    domain: str | None = None,
    followers: int = 120,
    following: int = 80,
    statuses: int = 42,
) -> dict[str, Any]:
    """Account schema (#/components/schemas/Account; CredentialAccount adds ``source``)."""
    acct = f"{username}@{domain}" if domain else username
    origin = f"https://{domain}" if domain else BASE
    return {
        "id": id,
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "group": False,
        "indexable": True,
        "created_at": "2022-11-05T00:00:00.000Z",
        "note": "<p>Hello</p>",
        "url": f"{origin}/@{username}",
        "uri": f"{origin}/users/{username}",
        "avatar": f"{origin}/avatars/{username}.png",
        "avatar_static": f"{origin}/avatars/{username}.png",
        "header": f"{origin}/headers/{username}.png",
        "header_static": f"{origin}/headers/{username}.png",
        "followers_count": followers,
        "following_count": following,
        "statuses_count": statuses,
        "emojis": [],
        "fields": [],
    }


def credential_account(**kwargs: Any) -> dict[str, Any]:
    """CredentialAccount schema (#/components/schemas/CredentialAccount): Account + source."""
    body = account(**kwargs)
    body["source"] = {
        "note": "Hello",
        "fields": [],
        "privacy": "public",
        "sensitive": False,
        "language": "en",
        "follow_requests_count": 0,
        "attribution_domains": [],
        "discoverable": True,
        "hide_collections": False,
        "indexable": True,
        "quote_policy": "public",
    }
    body["role"] = {
        "id": "-99",
        "name": "",
        "permissions": "0",
        "color": "",
        "highlighted": False,
    }
    return body


def status(
    id: str,
    content: str = "<p>Hello</p>",
    *,
    author: dict[str, Any] | None = None,
    created_at: str = "2025-05-01T12:00:00.000Z",
    visibility: str = "public",
    in_reply_to_id: str | None = None,
    in_reply_to_account_id: str | None = None,
    replies: int = 0,
    reblogs: int = 0,
    favourites: int = 0,
    quotes: int | None = 0,
    media: list[dict[str, Any]] | None = None,
    quote_of: str | None = None,
    spoiler_text: str = "",
) -> dict[str, Any]:
    """Status schema (#/components/schemas/Status)."""
    who = author or account()
    origin = who["url"].rsplit("/@", 1)[0]
    body: dict[str, Any] = {
        "id": id,
        "uri": f"{origin}/users/{who['username']}/statuses/{id}",
        "url": f"{origin}/@{who['username']}/{id}",
        "created_at": created_at,
        "account": who,
        "content": content,
        "visibility": visibility,
        "sensitive": False,
        "spoiler_text": spoiler_text,
        "media_attachments": media or [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "replies_count": replies,
        "reblogs_count": reblogs,
        "favourites_count": favourites,
        "quotes_count": quotes,
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account_id,
        "language": "en",
        "reblog": None,
        "poll": None,
        "card": None,
        "edited_at": None,
    }
    if quote_of is not None:
        # ShallowQuote schema (#/components/schemas/ShallowQuote)
        body["quote"] = {"state": "accepted", "quoted_status_id": quote_of}
    return body


def media_attachment(
    id: str,
    *,
    ready: bool = True,
    description: str | None = None,
    type: str = "image",
    extension: str = "png",
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """MediaAttachment schema (#/components/schemas/MediaAttachment); ``url`` is null while
    the server processes the file; ``meta`` holds MetaDetails (``original``, ``small``)."""
    return {
        "id": id,
        "type": type,
        "url": f"{BASE}/media/{id}.{extension}" if ready else None,
        "preview_url": f"{BASE}/media/{id}_small.png",
        "remote_url": None,
        "description": description,
        "blurhash": "UFBWY:8_0Jxu%2Rj",
        "meta": meta,
    }


def poll(
    id: str, options: list[tuple[str, int | None]], *, expires_at: str, multiple: bool = False
) -> dict[str, Any]:
    """Poll schema (#/components/schemas/Poll); an option's ``votes_count`` is null while the
    totals are hidden."""
    return {
        "id": id,
        "expires_at": expires_at,
        "expired": False,
        "multiple": multiple,
        "votes_count": sum(v or 0 for _, v in options),
        "voters_count": None,
        "options": [{"title": t, "votes_count": v} for t, v in options],
        "emojis": [],
        "voted": False,
        "own_votes": [],
    }


def card(url: str) -> dict[str, Any]:
    """PreviewCard schema (#/components/schemas/PreviewCard): every required property."""
    return {
        "url": url,
        "title": "An article",
        "description": "",
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": "Example",
        "provider_url": "",
        "html": "",
        "width": 400,
        "height": 200,
        "image": None,
        "embed_url": "",
        "blurhash": None,
        "authors": [],
    }


def scheduled_status(
    id: str, text: str, scheduled_at: str, *, visibility: str = "public"
) -> dict[str, Any]:
    """ScheduledStatus schema (#/components/schemas/ScheduledStatus)."""
    return {
        "id": id,
        "scheduled_at": scheduled_at,
        "params": {
            "text": text,
            "visibility": visibility,
            "application_id": 3,
            "with_rate_limit": False,
            "idempotency": None,
            "in_reply_to_id": None,
            "media_ids": None,
            "poll": None,
            "scheduled_at": None,
            "sensitive": None,
            "spoiler_text": None,
            "language": None,
        },
        "media_attachments": [],
    }


def notification(id: str, type_: str, st: dict[str, Any] | None) -> dict[str, Any]:
    """Notification schema (#/components/schemas/Notification)."""
    who = st["account"] if st is not None else account("2", "bob", domain="remote.example")
    return {
        "id": id,
        "type": type_,
        "group_key": f"ungrouped-{id}",
        "created_at": st["created_at"] if st is not None else "2025-05-01T12:00:00.000Z",
        "account": who,
        "status": st,
    }


def conversation(id: str, last: dict[str, Any] | None) -> dict[str, Any]:
    """Conversation schema (#/components/schemas/Conversation)."""
    return {
        "id": id,
        "unread": True,
        "accounts": [last["account"]] if last else [],
        "last_status": last,
    }


def instance(
    *,
    max_characters: int = 500,
    max_media: int = 4,
    reserved_per_url: int = 23,
    image_size_limit: int = 16777216,
    video_size_limit: int = 103809024,
    mime_types: list[str] | None = None,
    api_version: int = 7,
    poll_options: int = 4,
) -> dict[str, Any]:
    """Instance schema (#/components/schemas/Instance, ``GET /api/v2/instance``)."""
    return {
        "domain": HOST,
        "title": "Mastodon Example",
        "version": "4.5.0",
        "api_versions": {"mastodon": api_version},
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A test server",
        "usage": {"users": {"active_month": 10}},
        "thumbnail": {"url": f"{BASE}/thumb.png"},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": "wss://mastodon.example"},
            "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
            "statuses": {
                "max_characters": max_characters,
                "max_media_attachments": max_media,
                "characters_reserved_per_url": reserved_per_url,
            },
            "media_attachments": {
                "supported_mime_types": mime_types
                or ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
                "image_size_limit": image_size_limit,
                "image_matrix_limit": 33177600,
                "video_size_limit": video_size_limit,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400,
                "description_limit": 1500,
            },
            "polls": {
                "max_options": poll_options,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2629746,
            },
            "translation": {"enabled": False},
        },
        "registrations": {"enabled": True, "approval_required": False, "message": None},
        "contact": {"email": "admin@mastodon.example", "account": None},
        "rules": [],
    }


def error(message: str, description: str | None = None) -> dict[str, Any]:
    """Error schema (#/components/schemas/Error)."""
    body: dict[str, Any] = {"error": message}
    if description is not None:
        body["error_description"] = description
    return body


def validation_error(message: str) -> dict[str, Any]:
    """ValidationError schema (#/components/schemas/ValidationError): Error + ``details``."""
    return {"error": message, "details": {"text": [{"error": "ERR_BLANK", "description": message}]}}
