"""Mastodon's own payloads, as pydantic models validated straight from the response bytes.

Each model follows a schema of the official API description (``schema.json``, OpenAPI 3.1,
Mastodon 4.7, ``#/components/schemas/<Name>``). Fields the adapter needs and the spec marks as
required are required here too, so a body of the wrong shape fails validation (and becomes a
``MalformedResponseError``); fields the adapter does not use are ignored, and optional ones
default, so that servers speaking the Mastodon API with fewer fields (forks, older versions)
still work.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "Account",
    "Application",
    "Context",
    "Conversation",
    "Hashtag",
    "Instance",
    "List",
    "MediaAttachment",
    "Mention",
    "Notification",
    "PreviewCard",
    "QuoteRef",
    "Relationship",
    "ScheduledStatus",
    "ScheduledStatusParams",
    "Search",
    "Status",
    "TokenResponse",
]


def _aware(value: datetime) -> datetime:
    # Mastodon sends ISO 8601 times in UTC ("2019-12-08T03:48:33.901Z"); a server that drops
    # the zone still means UTC.
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


UTC = Annotated[datetime, AfterValidator(_aware)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(_Wire):
    """``#/components/schemas/Account`` (and ``CredentialAccount``, which extends it)."""

    id: str
    username: str
    acct: str
    display_name: str = ""
    url: str | None = None
    avatar: str | None = None
    followers_count: int = 0
    following_count: int = 0
    statuses_count: int = 0
    bot: bool = False


class Mention(_Wire):
    """``#/components/schemas/StatusMention``."""

    id: str
    username: str
    acct: str
    url: str | None = None


class MetaDetails(_Wire):
    """``#/components/schemas/MetaDetails``: one version (original, small) of an attachment."""

    width: int | None = None
    height: int | None = None
    duration: float | None = None


class MediaMeta(_Wire):
    """``MediaAttachment.meta``: what the server measured of the file (after processing).

    Servers differ in where they put an audio or video's duration: on the ``original``
    version (``MetaDetails.duration``) or, in older servers, at the top level."""

    original: MetaDetails | None = None
    small: MetaDetails | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None


class MediaAttachment(_Wire):
    """``#/components/schemas/MediaAttachment``: ``url`` is null while the server processes it."""

    id: str
    type: str
    url: str | None = None
    preview_url: str | None = None
    remote_url: str | None = None
    description: str | None = None
    meta: MediaMeta | None = None


class Hashtag(_Wire):
    """``#/components/schemas/Tag`` (a hashtag found by search)."""

    name: str
    url: str
    history: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def uses_recently(self) -> int:
        """Uses over the days ``history`` covers (a week on stock servers)."""
        total = 0
        for day in self.history:
            try:
                total += int(day.get("uses", 0))
            except (TypeError, ValueError):
                continue
        return total


class QuoteRef(_Wire):
    """``#/components/schemas/Quote`` or ``ShallowQuote``: the quoted status, or its id."""

    state: str
    quoted_status: Status | None = None
    quoted_status_id: str | None = None

    @property
    def status_id(self) -> str | None:
        if self.quoted_status is not None:
            return self.quoted_status.id
        return self.quoted_status_id


class PollWire(_Wire):
    """``#/components/schemas/Poll`` (what the adapter reads of it)."""

    id: str
    options: list[PollOption] = Field(default_factory=list)
    multiple: bool = False
    expires_at: UTC | None = None
    expired: bool = False
    votes_count: int = 0


class PollOption(_Wire):
    """``#/components/schemas/PollOption``: ``votes_count`` is null while totals are hidden."""

    title: str
    votes_count: int | None = None


class PreviewCard(_Wire):
    """``#/components/schemas/PreviewCard`` (the link a status previews; only its URL is read)."""

    url: str


class Status(_Wire):
    """``#/components/schemas/Status``."""

    id: str
    uri: str
    created_at: UTC
    account: Account
    content: str
    visibility: str
    sensitive: bool = False
    spoiler_text: str = ""
    url: str | None = None
    language: str | None = None
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    quotes_count: int | None = None
    media_attachments: list[MediaAttachment] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    reblog: Status | None = None
    quote: QuoteRef | None = None
    poll: PollWire | None = None
    card: PreviewCard | None = None
    text: str | None = None
    """The plain source text: only in answers to ``DELETE`` (delete-and-redraft)."""
    edited_at: UTC | None = None


class Relationship(_Wire):
    """``#/components/schemas/Relationship``: what the account does to another (the answer to
    follow, block, mute and their reverse)."""

    id: str
    following: bool = False
    requested: bool = False
    blocking: bool = False
    muting: bool = False


class List(_Wire):
    """``#/components/schemas/List``: a list of accounts whose posts make a timeline."""

    id: str
    title: str


class ScheduledStatusParams(_Wire):
    """``#/components/schemas/ScheduledStatus/properties/params``."""

    text: str = ""
    visibility: str | None = None
    spoiler_text: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    in_reply_to_id: str | int | None = None
    quoted_status_id: str | None = None
    media_ids: list[str] | None = None
    idempotency: str | None = None


class ScheduledStatus(_Wire):
    """``#/components/schemas/ScheduledStatus``: a status the server will publish later."""

    id: str
    scheduled_at: UTC
    params: ScheduledStatusParams
    media_attachments: list[MediaAttachment] = Field(default_factory=list)


class Notification(_Wire):
    """``#/components/schemas/Notification``."""

    id: str
    type: str
    created_at: UTC
    account: Account
    status: Status | None = None


class Conversation(_Wire):
    """``#/components/schemas/Conversation``: a private-mention thread."""

    id: str
    unread: bool = False
    accounts: list[Account] = Field(default_factory=list)
    last_status: Status | None = None


class Context(_Wire):
    """``#/components/schemas/Context``: the statuses above and below one status."""

    ancestors: list[Status]
    descendants: list[Status]


class Search(_Wire):
    """``#/components/schemas/Search`` (statuses and hashtags; accounts are not read)."""

    statuses: list[Status]
    hashtags: list[Hashtag]
    accounts: list[dict[str, Any]] = Field(default_factory=list)


class _StatusesConfig(_Wire):
    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23


class _MediaConfig(_Wire):
    supported_mime_types: list[str] = Field(default_factory=list)
    image_size_limit: int | None = None
    video_size_limit: int | None = None
    description_limit: int | None = None


class _PollsConfig(_Wire):
    max_options: int = 4
    max_characters_per_option: int = 50
    min_expiration: int = 300
    max_expiration: int = 2629746


class _Urls(_Wire):
    streaming: str | None = None


class _Configuration(_Wire):
    urls: _Urls = Field(default_factory=_Urls)
    statuses: _StatusesConfig = Field(default_factory=_StatusesConfig)
    media_attachments: _MediaConfig = Field(default_factory=_MediaConfig)
    polls: _PollsConfig = Field(default_factory=_PollsConfig)


class Instance(_Wire):
    """``#/components/schemas/Instance`` (``GET /api/v2/instance``): the server's limits."""

    domain: str
    version: str
    api_versions: dict[str, int] = Field(default_factory=dict)
    configuration: _Configuration = Field(default_factory=_Configuration)


class Application(_Wire):
    """``#/components/schemas/CredentialApplication``: an app registered with ``POST /api/v1/apps``.

    ``client_secret`` is a :class:`~pydantic.SecretStr`: it never shows in a repr.
    """

    id: str
    name: str
    client_id: str
    client_secret: SecretStr
    redirect_uris: list[str] = Field(default_factory=list)
    scopes: list[str] = Field(default_factory=list)
    website: str | None = None


class TokenResponse(_Wire):
    """``#/components/schemas/Token`` (``POST /oauth/token``), read into ``auth.Token``."""

    access_token: SecretStr
    token_type: str
    scope: str
    created_at: float


PollWire.model_rebuild()
QuoteRef.model_rebuild()
Status.model_rebuild()
