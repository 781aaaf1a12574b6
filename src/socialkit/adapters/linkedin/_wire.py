"""LinkedIn API payloads as pydantic models. Unknown fields are ignored.

Shapes from the reference pages (LinkedIn publishes no machine-readable description), under
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/:
``shares/posts-api`` (Post, the author finder), ``shares/images-api``, ``shares/videos-api``,
``shares/network-update-social-actions`` (comments, likes, the summary),
``organizations/share-statistics``, ``organizations/follower-statistics``,
``organizations/organization-lookup-api`` and ``members/network-sizes`` (networkSizes); the
member is read from ``/v2/userinfo``
(https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditStamp",
    "BatchAssets",
    "Comment",
    "CommentMessage",
    "Elements",
    "FollowerStatistics",
    "ImageInit",
    "Like",
    "MediaAsset",
    "NetworkSize",
    "Organization",
    "Paging",
    "Post",
    "ShareStatistics",
    "SocialSummary",
    "UserInfo",
    "VideoInit",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Paging(_Wire):
    start: int = 0
    count: int = 10
    total: int | None = None


class MediaContent(_Wire):
    id: str
    title: str | None = None
    altText: str | None = None


class MultiImageItem(_Wire):
    id: str
    altText: str | None = None


class MultiImage(_Wire):
    images: list[MultiImageItem]


class Article(_Wire):
    source: str
    title: str | None = None
    description: str | None = None
    thumbnail: str | None = None


class Content(_Wire):
    media: MediaContent | None = None
    multiImage: MultiImage | None = None
    article: Article | None = None


class ReshareContext(_Wire):
    parent: str
    root: str | None = None


class Post(_Wire):
    """A post (``shares/posts-api``, "Post Schema")."""

    id: str
    author: str
    commentary: str = ""
    visibility: str | None = None
    lifecycleState: str | None = None
    createdAt: int | None = None
    publishedAt: int | None = None
    lastModifiedAt: int | None = None
    content: Content | None = None
    reshareContext: ReshareContext | None = None
    isReshareDisabledByAuthor: bool | None = None


class Elements(_Wire):
    """A collection answer: ``elements`` and ``paging``."""

    elements: list[dict[str, Any]]
    paging: Paging = Field(default_factory=Paging)


class UploadValue(_Wire):
    uploadUrl: str
    image: str
    uploadUrlExpiresAt: int | None = None


class ImageInit(_Wire):
    """The answer of ``POST /rest/images?action=initializeUpload``."""

    value: UploadValue


class UploadInstruction(_Wire):
    uploadUrl: str
    firstByte: int
    lastByte: int


class VideoUploadValue(_Wire):
    video: str
    uploadInstructions: list[UploadInstruction]
    uploadToken: str = ""
    uploadUrlsExpireAt: int | None = None


class VideoInit(_Wire):
    """The answer of ``POST /rest/videos?action=initializeUpload``."""

    value: VideoUploadValue


class MediaAsset(_Wire):
    """``GET /rest/images/{urn}`` or ``GET /rest/videos/{urn}``."""

    id: str
    status: str
    owner: str | None = None
    downloadUrl: str | None = None
    downloadUrlExpiresAt: int | None = None
    duration: int | None = None
    thumbnail: str | None = None
    aspectRatioWidth: float | None = None
    aspectRatioHeight: float | None = None


class BatchAssets(_Wire):
    """A Rest.li batch get of images or videos (``GET /rest/images?ids=List(…)``): the
    found ones by URN; unknown URNs are in ``errors`` / ``statuses``."""

    results: dict[str, MediaAsset]


class AuditStamp(_Wire):
    actor: str | None = None
    time: int


class CommentMessage(_Wire):
    text: str = ""


class Comment(_Wire):
    """A comment (``network-update-social-actions``, "Comment")."""

    id: str
    actor: str
    message: CommentMessage = Field(default_factory=CommentMessage)
    created: AuditStamp
    object: str | None = None
    commentUrn: str | None = None
    parentComment: str | None = None
    # The URN of the comment lives in "$URN" in LinkedIn's answers.
    urn: str | None = Field(default=None, alias="$URN")


class Like(_Wire):
    """A like (``network-update-social-actions``, "Retrieve Likes")."""

    actor: str
    object: str | None = None
    created: AuditStamp | None = None


class LikesSummary(_Wire):
    totalLikes: int = 0
    likedByCurrentUser: bool | None = None


class CommentsSummary(_Wire):
    totalFirstLevelComments: int = 0
    aggregatedTotalComments: int = 0


class SocialSummary(_Wire):
    """``GET /rest/socialActions/{urn}``."""

    likesSummary: LikesSummary = Field(default_factory=LikesSummary)
    commentsSummary: CommentsSummary = Field(default_factory=CommentsSummary)
    target: str | None = None


class TotalShareStatistics(_Wire):
    impressionCount: int = 0
    uniqueImpressionsCount: int = 0
    clickCount: int = 0
    likeCount: int = 0
    commentCount: int = 0
    shareCount: int = 0
    engagement: float = 0.0


class TimeRange(_Wire):
    start: int
    end: int


class ShareStatisticsElement(_Wire):
    totalShareStatistics: TotalShareStatistics
    organizationalEntity: str | None = None
    share: str | None = None
    ugcPost: str | None = None
    timeRange: TimeRange | None = None


class ShareStatistics(_Wire):
    """``GET /rest/organizationalEntityShareStatistics``."""

    elements: list[ShareStatisticsElement]


class FollowerGains(_Wire):
    organicFollowerGain: int = 0
    paidFollowerGain: int = 0


class FollowerStatisticsElement(_Wire):
    organizationalEntity: str | None = None
    timeRange: TimeRange | None = None
    followerGains: FollowerGains | None = None


class FollowerStatistics(_Wire):
    """``GET /rest/organizationalEntityFollowerStatistics`` (time-bound: gains per day)."""

    elements: list[FollowerStatisticsElement]


class NetworkSize(_Wire):
    """``GET /rest/networkSizes/{urn}?edgeType=COMPANY_FOLLOWED_BY_MEMBER``."""

    firstDegreeSize: int


class UserInfo(_Wire):
    """``GET /v2/userinfo`` (OpenID Connect)."""

    sub: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    picture: str | None = None
    email: str | None = None


class Organization(_Wire):
    """``GET /rest/organizations/{id}``."""

    id: int
    localizedName: str | None = None
    vanityName: str | None = None
