"""Reddit API payloads as pydantic models.

Shapes from Reddit's API reference (https://www.reddit.com/dev/api) and its JSON objects
(https://github.com/reddit-archive/reddit/wiki/JSON): ``Listing`` (``{"kind": "Listing",
"data": {"children": [...], "after", "before"}}``), things with a ``kind`` (``t1`` comment,
``t2`` account, ``t3`` link, ``t4`` message) and ``data``. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

__all__ = [
    "Comment",
    "Link",
    "MULTI_PATH",
    "LabeledMulti",
    "Listing",
    "MediaLease",
    "Me",
    "MultiData",
    "MultiSubreddit",
    "Multis",
    "PrivateMessage",
    "Thing",
    "UserAbout",
]


#: A multireddit's path: ``/user/{owner}/m/{name}``.
MULTI_PATH = r"^/user/[A-Za-z0-9_-]{3,20}/m/[A-Za-z0-9_]{1,50}/?$"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Link(_Wire):
    """A submission (``t3``)."""

    id: str
    name: str
    title: str
    subreddit: str
    author: str | None = None
    author_fullname: str | None = None
    selftext: str = ""
    url: str | None = None
    permalink: str
    created_utc: float
    score: int = 0
    upvote_ratio: float | None = None
    num_comments: int = 0
    over_18: bool = False
    spoiler: bool = False
    is_self: bool = False
    is_video: bool = False
    is_gallery: bool | None = None
    post_hint: str | None = None
    link_flair_text: str | None = None
    crosspost_parent: str | None = None
    media: dict[str, Any] | None = None
    media_metadata: dict[str, Any] | None = None
    gallery_data: dict[str, Any] | None = None
    preview: dict[str, Any] | None = None


class Comment(_Wire):
    """A comment (``t1``); in the inbox it also has ``was_comment``, ``type`` and ``context``."""

    id: str
    name: str
    body: str
    author: str | None = None
    author_fullname: str | None = None
    parent_id: str
    link_id: str | None = None
    subreddit: str | None = None
    permalink: str | None = None
    context: str | None = None
    created_utc: float
    score: int = 0
    type: str | None = None
    was_comment: bool | None = None


class PrivateMessage(_Wire):
    """A private message (``t4``)."""

    id: str
    name: str
    body: str
    author: str | None = None
    subject: str | None = None
    created_utc: float
    first_message_name: str | None = None


class Thing(_Wire):
    kind: str
    data: dict[str, Any]


class ListingData(_Wire):
    children: list[Thing] = Field(default_factory=list)
    after: str | None = None
    before: str | None = None


class Listing(_Wire):
    kind: str
    data: ListingData


class Me(_Wire):
    """``GET /api/v1/me``."""

    id: str
    name: str
    icon_img: str | None = None
    total_karma: int | None = None
    link_karma: int | None = None
    comment_karma: int | None = None
    created_utc: float | None = None
    subreddit: dict[str, Any] | None = None


class UserAbout(_Wire):
    """``GET /user/{username}/about``: ``{"kind": "t2", "data": {...}}``."""

    kind: str
    data: Me


class LeaseArgs(_Wire):
    action: str
    fields: list[dict[str, str]]


class LeaseAsset(_Wire):
    asset_id: str
    processing_state: str | None = None
    websocket_url: str | None = None


class MediaLease(_Wire):
    """``POST /api/media/asset.json``: where to upload (an S3 form) and the asset's id."""

    args: LeaseArgs
    asset: LeaseAsset


class MultiSubreddit(_Wire):
    name: str


class MultiData(_Wire):
    """A multireddit (custom feed), ``LabeledMulti.data``: its ``path`` (``/user/{owner}/m/
    {name}``) names it and its listings."""

    name: str
    display_name: str
    path: str = Field(pattern=MULTI_PATH)
    owner: str | None = None
    description_md: str | None = None
    visibility: str | None = None
    subreddits: list[MultiSubreddit] = Field(default_factory=list)
    created_utc: float | None = None


class LabeledMulti(_Wire):
    """``{"kind": "LabeledMulti", "data": {...}}``."""

    kind: str
    data: MultiData


class Multis(RootModel[list[LabeledMulti]]):
    """``GET /api/multi/mine`` (https://www.reddit.com/dev/api#GET_api_multi_mine): the
    account's multireddits, a JSON array (not a Listing)."""

    model_config = ConfigDict(frozen=True)
