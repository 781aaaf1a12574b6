"""X API v2 payloads as pydantic models, validated straight from the response bytes.

Every model follows a schema of the official description (``openapi.json`` of
xdevplatform/xdk, X API v2 spec version 2.167), named in its docstring. The description marks
almost every field optional; these models require what the adapter cannot work without (an id,
say), so that a success body of the wrong shape becomes ``MalformedResponseError`` instead of a
half-filled post. Unknown fields are ignored: X adds fields over time.

X renamed "tweet" to "post" in its API description (``post.fields``, ``referenced_posts``,
``repost_count``, ``post_count``, ``includes.posts``), while the servers have long answered with
the older names (``referenced_tweets``, ``retweet_count``, ``tweet_count``, ``includes.tweets``).
Both spellings are accepted wherever they differ.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

__all__ = [
    "ActionResponse",
    "AppendResponse",
    "CreatePostResponse",
    "DeleteResponse",
    "DmEvent",
    "DmEventsPage",
    "DmSentResponse",
    "Includes",
    "ListsPage",
    "MediaStatusResponse",
    "MetadataResponse",
    "PostLookup",
    "PostsPage",
    "Problem",
    "UploadInitResponse",
    "UserLookup",
    "UsersPage",
    "WireList",
    "WireMedia",
    "WirePoll",
    "WirePost",
    "WireUser",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Problem(_Wire):
    """One entry of a partial ``errors`` array, or a whole problem document.

    ``#/components/schemas/Problem`` (RFC 7807: ``type``, ``title``, ``detail``, ``status``, plus
    ``resource_id`` / ``resource_type`` / ``parameter`` / ``value`` / ``field`` by type) and the
    older ``#/components/schemas/Error`` (``code``, ``message``).
    """

    type: str | None = None
    title: str | None = None
    detail: str | None = None
    status: int | None = None
    resource_id: str | None = None
    resource_type: str | None = None
    parameter: str | None = None
    value: str | None = None
    field: str | None = None
    code: int | None = None
    message: str | None = None


class Reference(_Wire):
    """``#/components/schemas/PostReferencedPosts`` item: ``type`` (retweeted, quoted,
    replied_to) and ``id``."""

    type: str
    id: str


class Attachments(_Wire):
    """``#/components/schemas/PostAttachments``."""

    media_keys: list[str] | None = None
    poll_ids: list[str] | None = None


class UrlEntity(_Wire):
    """An item of ``PostEntities.urls``: the t.co ``url`` that stands in the text from
    ``start`` to ``end``, the ``expanded_url`` it leads to, and ``media_key`` for the link X
    appends for attached media."""

    start: int = 0
    end: int = 0
    url: str | None = None
    expanded_url: str | None = None
    display_url: str | None = None
    unwound_url: str | None = None
    media_key: str | None = None


class Entities(_Wire):
    """``#/components/schemas/PostEntities`` (only ``urls`` is read)."""

    urls: list[UrlEntity] | None = None


class WirePost(_Wire):
    """``#/components/schemas/Post``."""

    id: str
    text: str = ""
    author_id: str | None = None
    created_at: datetime | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    lang: str | None = None
    referenced_posts: list[Reference] | None = Field(
        default=None, validation_alias=AliasChoices("referenced_posts", "referenced_tweets")
    )
    attachments: Attachments | None = None
    entities: Entities | None = None
    public_metrics: dict[str, int] | None = None
    non_public_metrics: dict[str, int] | None = None
    organic_metrics: dict[str, int] | None = None

    def reference(self, kind: str) -> str | None:
        """The id of the post this one references as ``kind`` (replied_to, quoted, retweeted)."""
        for ref in self.referenced_posts or ():
            if ref.type == kind:
                return ref.id
        return None


class WireUser(_Wire):
    """``#/components/schemas/User``."""

    id: str
    username: str | None = None
    name: str | None = None
    profile_image_url: str | None = None
    url: str | None = None
    public_metrics: dict[str, int] | None = None


class Variant(_Wire):
    """An item of ``#/components/schemas/MediaVariants``: one playback rendition."""

    bit_rate: int | None = None
    content_type: str | None = None
    url: str | None = None


class WireMedia(_Wire):
    """``#/components/schemas/Media`` (``public_metrics.view_count``, and the playback
    quartiles of ``non_public_metrics`` / ``organic_metrics`` for videos); ``type`` is
    ``photo``, ``video`` or ``animated_gif``."""

    media_key: str
    type: str | None = None
    url: str | None = None
    preview_image_url: str | None = None
    alt_text: str | None = None
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    variants: list[Variant] | None = None
    public_metrics: dict[str, int] | None = None
    non_public_metrics: dict[str, int] | None = None
    organic_metrics: dict[str, int] | None = None


class PollOption(_Wire):
    """An item of ``#/components/schemas/PollOptions``."""

    position: int
    label: str
    votes: int = 0


class WirePoll(_Wire):
    """``#/components/schemas/Poll``."""

    id: str
    options: list[PollOption] = Field(default_factory=list)
    duration_minutes: int | None = None
    end_datetime: datetime | None = None
    voting_status: str | None = None


class Includes(_Wire):
    """``#/components/schemas/Expansions``."""

    users: list[WireUser] = Field(default_factory=list)
    media: list[WireMedia] = Field(default_factory=list)
    polls: list[WirePoll] = Field(default_factory=list)
    posts: list[WirePost] = Field(
        default_factory=list, validation_alias=AliasChoices("posts", "tweets")
    )


class Meta(_Wire):
    """The ``meta`` object of paginated answers (``next_token``, ``result_count`` …)."""

    next_token: str | None = None
    result_count: int | None = None
    newest_id: str | None = None
    oldest_id: str | None = None


class PostLookup(_Wire):
    """``GetPostsByIdResponse`` (one post: ``data`` is an object)."""

    data: WirePost | None = None
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)


class PostsLookup(_Wire):
    """``GetPostsByIdsResponse`` (``GET /2/tweets?ids=``): ``data`` is absent when no id
    resolved, and ``errors`` names the ids that did not."""

    data: list[WirePost] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)


class PostsPage(_Wire):
    """``GetUsersPostsResponse``, ``GetUsersMentionsResponse``, ``SearchPostsRecentResponse``:
    a page of posts. ``meta`` is always sent (``result_count`` 0 and no ``data`` when empty)."""

    data: list[WirePost] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)
    meta: Meta


class UserLookup(_Wire):
    """``GetUsersMeResponse``, ``GetUsersByUsernameResponse``, ``GetUsersByIdResponse``."""

    data: WireUser | None = None
    errors: list[Problem] = Field(default_factory=list)


class UsersPage(_Wire):
    """``GetUsersFollowersResponse`` / ``GetUsersFollowingResponse``: a page of users."""

    data: list[WireUser] = Field(default_factory=list)
    errors: list[Problem] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)


class WireList(_Wire):
    """``#/components/schemas/List``."""

    id: str
    name: str = ""
    description: str | None = None
    owner_id: str | None = None
    member_count: int | None = None
    follower_count: int | None = None
    private: bool | None = None
    created_at: datetime | None = None


class ListsPage(_Wire):
    """``GetUsersOwnedListsResponse`` / ``GetUsersFollowedListsResponse``."""

    data: list[WireList] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)


class ActionResponse(_Wire):
    """The answers of the engagement actions: ``LikePostResponse`` (``data.liked``),
    ``RepostPostResponse`` (``retweeted``), ``CreateUsersBookmarkResponse`` (``bookmarked``),
    ``FollowUserResponse`` (``following``, ``pending_follow``), ``MuteUserResponse``
    (``muting``), ``HidePostsReplyResponse`` (``hidden``) and their reverses: one boolean
    that says the state after the call."""

    data: dict[str, bool | str] | None = None
    errors: list[Problem] = Field(default_factory=list)


class CreatedPost(_Wire):
    """``#/components/schemas/CreatePostsResponseData``."""

    id: str
    text: str = ""


class CreatePostResponse(_Wire):
    """``#/components/schemas/CreatePostsResponse`` (201)."""

    data: CreatedPost | None = None
    errors: list[Problem] = Field(default_factory=list)


class Deleted(_Wire):
    deleted: bool


class DeleteResponse(_Wire):
    """``#/components/schemas/DeletePostsResponse``."""

    data: Deleted | None = None
    errors: list[Problem] = Field(default_factory=list)


class DmEvent(_Wire):
    """``#/components/schemas/DmEvent``."""

    id: str
    event_type: str | None = None
    text: str = ""
    sender_id: str | None = None
    dm_conversation_id: str | None = None
    created_at: datetime | None = None
    attachments: Attachments | None = None
    """``DmEventAttachments`` (``media_keys``)."""


class DmEventsPage(_Wire):
    """``#/components/schemas/GetDirectMessagesEventsResponse``."""

    data: list[DmEvent] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    errors: list[Problem] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)


class DmSent(_Wire):
    dm_conversation_id: str
    dm_event_id: str


class DmSentResponse(_Wire):
    """``CreateDirectMessagesByParticipantIdResponse`` /
    ``CreateDirectMessagesByConversationIdResponse`` (201)."""

    data: DmSent | None = None
    errors: list[Problem] = Field(default_factory=list)


class UploadSession(_Wire):
    """``#/components/schemas/InitializeMediaUploadResponseData`` (``expires_after_secs``:
    how long X keeps the media for posts to use)."""

    id: str
    media_key: str | None = None
    expires_after_secs: int | None = None


class UploadInitResponse(_Wire):
    """``#/components/schemas/InitializeMediaUploadResponse``."""

    data: UploadSession | None = None
    errors: list[Problem] = Field(default_factory=list)


class AppendResponse(_Wire):
    """``#/components/schemas/AppendMediaUploadResponse`` (``data.expires_at``)."""

    errors: list[Problem] = Field(default_factory=list)


class ProcessingInfo(_Wire):
    """``FinalizeMediaUploadResponseDataProcessingInfo`` /
    ``GetMediaUploadStatusResponseDataProcessingInfo``: ``state`` (pending, in_progress,
    failed, succeeded), ``check_after_secs``, ``progress_percent``."""

    state: str | None = None
    check_after_secs: int | None = None
    progress_percent: int | None = None


class MediaStatus(_Wire):
    """``FinalizeMediaUploadResponseData`` / ``GetMediaUploadStatusResponseData``."""

    id: str
    media_key: str | None = None
    expires_after_secs: int | None = None
    processing_info: ProcessingInfo | None = None


class MediaStatusResponse(_Wire):
    """``FinalizeMediaUploadResponse`` and ``GetMediaUploadStatusResponse``."""

    data: MediaStatus | None = None
    errors: list[Problem] = Field(default_factory=list)


class MetadataSet(_Wire):
    id: str


class MetadataResponse(_Wire):
    """``#/components/schemas/CreateMediaMetadataResponse``."""

    data: MetadataSet | None = None
    errors: list[Problem] = Field(default_factory=list)
