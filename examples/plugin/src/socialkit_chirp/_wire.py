"""Chirp's JSON, as pydantic models: what the API answers, validated straight from bytes.

``extra="ignore"``: a field the API adds later does not break the adapter; a field the
adapter relies on that is missing or of the wrong type is a ``MalformedResponseError``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Wire):
    """``GET /v1/me``, and a post's ``author``."""

    id: str
    handle: str
    name: str | None = None
    followers: int | None = None


class MediaItem(_Wire):
    """``POST /v1/media`` answers one; a post carries its list."""

    id: str
    url: str
    mime_type: str
    alt: str | None = None
    width: int | None = None
    height: int | None = None


class Chirp(_Wire):
    """One post (``POST /v1/posts``, ``GET /v1/posts/{id}``)."""

    id: str
    text: str
    url: str
    created_at: datetime
    author: User
    reply_to: str | None = None
    media: list[MediaItem] = []


class ChirpPage(_Wire):
    """``GET /v1/users/{id}/items``: a page, newest first, and the next page's cursor."""

    data: list[Chirp]
    next: str | None = None


class Counts(_Wire):
    """One post's counters (``GET /v1/posts/metrics``)."""

    id: str
    views: int
    likes: int
    shares: int
    replies: int


class CountsPage(_Wire):
    data: list[Counts]
