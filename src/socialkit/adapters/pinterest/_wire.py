"""Pinterest API v5 payloads as pydantic models, from the official ``openapi.json``
(``../shared/specs/pinterest/openapi.json``, version 5.23.0): each model names its schema.

Unknown fields are kept (``extra="allow"``) so that ``Post.raw`` holds the whole answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Account",
    "AnalyticsMetrics",
    "Board",
    "BoardsPage",
    "ImageDetails",
    "MediaStatus",
    "MediaUpload",
    "Pin",
    "PinMedia",
    "PinsPage",
    "UserSummary",
    "UsersPage",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Account(_Wire):
    """``#/components/schemas/Account`` (``GET /user_account``)."""

    id: str | None = None
    username: str
    business_name: str | None = None
    profile_image: str | None = None
    website_url: str | None = None
    account_type: str | None = None
    about: str | None = None
    follower_count: int | None = None
    following_count: int | None = None
    pin_count: int | None = None
    board_count: int | None = None
    monthly_views: int | None = None


class ImageDetails(_Wire):
    """``#/components/schemas/ImageDetails``."""

    url: str
    width: int | None = None
    height: int | None = None


class PinMedia(_Wire):
    """``#/components/schemas/PinMedia``: one of ``PinMediaWithImage``, ``…WithVideo``,
    ``…WithImages``, ``…WithVideos``, ``…WithImageAndVideo`` by ``media_type``."""

    media_type: str | None = None
    images: dict[str, ImageDetails] | None = None
    cover_image_url: str | None = None
    video_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    items: list[dict[str, Any]] | None = None


class Pin(_Wire):
    """``#/components/schemas/Pin``."""

    id: str = Field(pattern=r"^[0-9]+$")
    created_at: datetime | None = None
    link: str | None = None
    title: str | None = None
    description: str | None = None
    alt_text: str | None = None
    board_id: str | None = None
    board_section_id: str | None = None
    board_owner: dict[str, Any] | None = None
    media: PinMedia | None = None
    pin_metrics: dict[str, Any] | None = None


class PinsPage(_Wire):
    """``GET /pins`` and ``GET /boards/{board_id}/pins``: ``#/components/schemas/Paginated``
    of ``Pin``."""

    items: list[Pin]
    bookmark: str | None = None


class Board(_Wire):
    """``#/components/schemas/Board`` (``BoardBase`` with ``privacy``)."""

    id: str = Field(pattern=r"^[0-9]+$")
    name: str
    description: str | None = None
    privacy: str | None = None
    pin_count: int | None = None
    follower_count: int | None = None
    created_at: datetime | None = None


class BoardsPage(_Wire):
    """``GET /boards``: ``#/components/schemas/Paginated`` of ``Board``."""

    items: list[Board]
    bookmark: str | None = None


class MediaUpload(_Wire):
    """``#/components/schemas/MediaUpload`` (``POST /media``)."""

    media_id: str = Field(pattern=r"^[0-9]+$")
    media_type: str
    upload_url: str
    upload_parameters: dict[str, str] = Field(default_factory=dict)


class MediaStatus(_Wire):
    """``#/components/schemas/Media`` (``GET /media/{media_id}``); ``status`` is
    ``#/components/schemas/MediaUploadStatus``."""

    media_id: str
    media_type: str
    status: Literal["registered", "processing", "succeeded", "failed"] | None = None


class AnalyticsMetrics(_Wire):
    """``#/components/schemas/AnalyticsMetricsResponse`` and
    ``#/components/schemas/PinAnalyticsMetricsResponse`` (the ``"all"`` entry of an
    analytics answer): sums over the window in ``summary_metrics``."""

    summary_metrics: dict[str, float] = Field(default_factory=dict)
    daily_metrics: list[dict[str, Any]] = Field(default_factory=list)
    lifetime_metrics: dict[str, int] | None = None


class UserSummary(_Wire):
    """``#/components/schemas/UserSummary``: a username, no id."""

    username: str
    type: str | None = None


class UsersPage(_Wire):
    """``GET /user_account/followers`` and ``/following``: ``Paginated`` of ``UserSummary``."""

    items: list[UserSummary]
    bookmark: str | None = None
