"""YouTube Data API v3 and YouTube Analytics API v2 payloads as pydantic models, validated
straight from the response bytes.

Each model follows the schema of the same name in the discovery documents
(``youtube.v3.json``: ``#/schemas/Video``, ``VideoListResponse`` …; ``youtubeAnalytics.v2.json``:
``#/schemas/QueryResponse``). The documents mark every field optional; these models require
what the adapter cannot work without (ids), so that a success body of the wrong shape becomes
``MalformedResponseError``. Unknown fields are ignored: Google adds fields over time. Counts
are ``uint64`` and arrive as strings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Channel",
    "ChannelListResponse",
    "Comment",
    "CommentListResponse",
    "CommentThread",
    "CommentThreadListResponse",
    "Playlist",
    "PlaylistItem",
    "PlaylistItemListResponse",
    "PlaylistListResponse",
    "QueryResponse",
    "SearchListResponse",
    "SearchResult",
    "Subscription",
    "SubscriptionListResponse",
    "Video",
    "VideoListResponse",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Thumbnail(_Wire):
    """``#/schemas/Thumbnail``."""

    url: str | None = None
    width: int | None = None
    height: int | None = None


class VideoSnippet(_Wire):
    """``#/schemas/VideoSnippet``."""

    title: str = ""
    description: str = ""
    channelId: str | None = None
    channelTitle: str | None = None
    publishedAt: str | None = None
    tags: list[str] = Field(default_factory=list)
    categoryId: str | None = None
    defaultLanguage: str | None = None
    thumbnails: dict[str, Thumbnail] = Field(default_factory=dict)


class VideoStatus(_Wire):
    """``#/schemas/VideoStatus``."""

    uploadStatus: str | None = None
    privacyStatus: str | None = None
    publishAt: str | None = None
    failureReason: str | None = None
    rejectionReason: str | None = None
    selfDeclaredMadeForKids: bool | None = None
    embeddable: bool | None = None
    license: str | None = None
    publicStatsViewable: bool | None = None
    containsSyntheticMedia: bool | None = None


class VideoStatistics(_Wire):
    """``#/schemas/VideoStatistics`` (uint64 counts as strings)."""

    viewCount: str | None = None
    likeCount: str | None = None
    commentCount: str | None = None
    favoriteCount: str | None = None


class VideoProcessingDetails(_Wire):
    """``#/schemas/VideoProcessingDetails``."""

    processingStatus: str | None = None
    processingFailureReason: str | None = None


class VideoContentDetails(_Wire):
    """``#/schemas/VideoContentDetails`` (``duration`` is ISO 8601, ``PT1M5S``)."""

    duration: str | None = None


class Video(_Wire):
    """``#/schemas/Video``."""

    id: str
    snippet: VideoSnippet | None = None
    status: VideoStatus | None = None
    statistics: VideoStatistics | None = None
    processingDetails: VideoProcessingDetails | None = None
    contentDetails: VideoContentDetails | None = None


class PageInfo(_Wire):
    """``#/schemas/PageInfo``."""

    totalResults: int | None = None
    resultsPerPage: int | None = None


class VideoListResponse(_Wire):
    """``#/schemas/VideoListResponse`` (``kind`` is always there: it tells a list
    answer from a body of another shape; ``items`` is left out when empty)."""

    kind: str
    items: list[Video] = Field(default_factory=list)
    nextPageToken: str | None = None


class ChannelSnippet(_Wire):
    """``#/schemas/ChannelSnippet``."""

    title: str | None = None
    customUrl: str | None = None
    description: str | None = None
    thumbnails: dict[str, Thumbnail] = Field(default_factory=dict)


class ChannelStatistics(_Wire):
    """``#/schemas/ChannelStatistics``."""

    subscriberCount: str | None = None
    videoCount: str | None = None
    viewCount: str | None = None
    hiddenSubscriberCount: bool | None = None


class RelatedPlaylists(_Wire):
    """``#/schemas/ChannelContentDetails/properties/relatedPlaylists``."""

    uploads: str | None = None


class ChannelContentDetails(_Wire):
    """``#/schemas/ChannelContentDetails``."""

    relatedPlaylists: RelatedPlaylists | None = None


class Channel(_Wire):
    """``#/schemas/Channel``."""

    id: str
    snippet: ChannelSnippet | None = None
    statistics: ChannelStatistics | None = None
    contentDetails: ChannelContentDetails | None = None


class ChannelListResponse(_Wire):
    """``#/schemas/ChannelListResponse`` (``kind`` is always there: it tells a list
    answer from a body of another shape; ``items`` is left out when empty)."""

    kind: str
    items: list[Channel] = Field(default_factory=list)
    nextPageToken: str | None = None


class PlaylistSnippet(_Wire):
    """``#/schemas/PlaylistSnippet``."""

    title: str = ""
    description: str | None = None
    channelId: str | None = None
    channelTitle: str | None = None


class PlaylistContentDetails(_Wire):
    """``#/schemas/PlaylistContentDetails``."""

    itemCount: int | None = None


class Playlist(_Wire):
    """``#/schemas/Playlist``."""

    id: str
    snippet: PlaylistSnippet | None = None
    contentDetails: PlaylistContentDetails | None = None


class PlaylistListResponse(_Wire):
    """``#/schemas/PlaylistListResponse`` (``kind`` is always there; ``items`` may be left
    out)."""

    kind: str
    items: list[Playlist] = Field(default_factory=list)
    nextPageToken: str | None = None


class ResourceId(_Wire):
    """``#/schemas/ResourceId``."""

    kind: str | None = None
    videoId: str | None = None
    channelId: str | None = None


class PlaylistItemSnippet(_Wire):
    """``#/schemas/PlaylistItemSnippet``."""

    title: str = ""
    description: str = ""
    publishedAt: str | None = None
    resourceId: ResourceId | None = None


class PlaylistItemContentDetails(_Wire):
    """``#/schemas/PlaylistItemContentDetails``."""

    videoId: str | None = None
    videoPublishedAt: str | None = None


class PlaylistItem(_Wire):
    """``#/schemas/PlaylistItem``."""

    id: str
    snippet: PlaylistItemSnippet | None = None
    contentDetails: PlaylistItemContentDetails | None = None


class PlaylistItemListResponse(_Wire):
    """``#/schemas/PlaylistItemListResponse`` (``kind`` is always there: it tells a list
    answer from a body of another shape; ``items`` is left out when empty)."""

    kind: str
    items: list[PlaylistItem] = Field(default_factory=list)
    nextPageToken: str | None = None


class AuthorChannelId(_Wire):
    """``#/schemas/CommentSnippetAuthorChannelId``."""

    value: str | None = None


class CommentSnippet(_Wire):
    """``#/schemas/CommentSnippet``."""

    textDisplay: str | None = None
    textOriginal: str | None = None
    authorDisplayName: str | None = None
    authorProfileImageUrl: str | None = None
    authorChannelUrl: str | None = None
    authorChannelId: AuthorChannelId | None = None
    videoId: str | None = None
    channelId: str | None = None
    parentId: str | None = None
    publishedAt: str | None = None
    moderationStatus: str | None = None


class Comment(_Wire):
    """``#/schemas/Comment``."""

    id: str
    snippet: CommentSnippet | None = None


class CommentListResponse(_Wire):
    """``#/schemas/CommentListResponse`` (``kind`` is always there; ``items`` may be left
    out)."""

    kind: str
    items: list[Comment] = Field(default_factory=list)
    nextPageToken: str | None = None


class CommentThreadSnippet(_Wire):
    """``#/schemas/CommentThreadSnippet``."""

    channelId: str | None = None
    videoId: str | None = None
    topLevelComment: Comment | None = None
    totalReplyCount: int | None = None


class CommentThreadReplies(_Wire):
    """``#/schemas/CommentThreadReplies``."""

    comments: list[Comment] = Field(default_factory=list)


class CommentThread(_Wire):
    """``#/schemas/CommentThread``."""

    id: str
    snippet: CommentThreadSnippet | None = None
    replies: CommentThreadReplies | None = None


class CommentThreadListResponse(_Wire):
    """``#/schemas/CommentThreadListResponse`` (``kind`` is always there: it tells a list
    answer from a body of another shape; ``items`` is left out when empty)."""

    kind: str
    items: list[CommentThread] = Field(default_factory=list)
    nextPageToken: str | None = None


class SearchResult(_Wire):
    """``#/schemas/SearchResult`` (``id`` is a ResourceId: ``videoId`` with ``type=video``)."""

    id: ResourceId


class SearchListResponse(_Wire):
    """``#/schemas/SearchListResponse`` (``kind`` is always there; ``items`` may be left out)."""

    kind: str
    items: list[SearchResult] = Field(default_factory=list)
    nextPageToken: str | None = None


class SubscriptionSnippet(_Wire):
    """``#/schemas/SubscriptionSnippet``."""

    resourceId: ResourceId | None = None


class Subscription(_Wire):
    """``#/schemas/Subscription``."""

    id: str
    snippet: SubscriptionSnippet | None = None


class SubscriptionListResponse(_Wire):
    """``#/schemas/SubscriptionListResponse`` (``kind`` is always there: it tells a list
    answer from a body of another shape; ``items`` is left out when empty)."""

    kind: str
    items: list[Subscription] = Field(default_factory=list)
    nextPageToken: str | None = None


class ColumnHeader(_Wire):
    """``youtubeAnalytics.v2.json#/schemas/ResultTableColumnHeader``."""

    name: str
    columnType: str | None = None
    dataType: str | None = None


class QueryResponse(_Wire):
    """``youtubeAnalytics.v2.json#/schemas/QueryResponse``."""

    kind: str | None = None
    columnHeaders: list[ColumnHeader]
    rows: list[list[Any]] = Field(default_factory=list)
