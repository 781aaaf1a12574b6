"""Settings of the YouTube adapter."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from socialkit.adapters._base import AdapterSettings, HttpURL

__all__ = ["DEFAULT_SCOPES", "YouTubeSettings"]

_KiB = 1024

#: Scopes asked for by default (https://developers.google.com/youtube/v3/guides/auth/installed-apps):
#: uploads, managing videos and comments, and the channel's analytics.
DEFAULT_SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
    "https://www.googleapis.com/auth/yt-analytics.readonly",
)


class YouTubeSettings(AdapterSettings):
    """Settings of the YouTube adapter (an OAuth client of a Google Cloud project with the
    YouTube Data API v3 and YouTube Analytics API enabled).

    ``client_id`` and ``client_secret`` with a ``refresh_token`` (from ``socialkit auth login
    youtube``): access tokens (an hour) are refreshed through the token store; an
    ``access_token`` alone is used as is. The daily quota is the project's: ``daily_quota``
    units for most methods, ``upload_quota`` calls of ``videos.insert`` and ``search_quota``
    calls of ``search.list`` (Google's defaults).
    """

    base_url: HttpURL = Field(
        default="https://youtube.googleapis.com", description="The Data API host (rootUrl)."
    )
    analytics_url: HttpURL = Field(
        default="https://youtubeanalytics.googleapis.com", description="The Analytics API host."
    )
    authorize_url: HttpURL = Field(default="https://accounts.google.com/o/oauth2/v2/auth")
    token_url: HttpURL = Field(default="https://oauth2.googleapis.com/token")
    websub_hub: HttpURL = Field(
        default="https://pubsubhubbub.appspot.com/subscribe",
        description="The WebSub hub of push notifications (ex_websub_subscribe).",
    )
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    category_id: str = Field(
        default="22", pattern=r"^[0-9]{1,4}$", description="videoCategory of uploads (22: People)."
    )
    made_for_kids: bool = Field(
        default=False, description="status.selfDeclaredMadeForKids of uploads (COPPA)."
    )
    notify_subscribers: bool = True
    chunk_size: int = Field(
        default=8 * 1024 * _KiB,
        ge=256 * _KiB,
        description="Bytes per upload PUT; a multiple of 256 KiB (the protocol's rule).",
    )
    wait_processing: bool = Field(
        default=True, description="publish returns once YouTube has processed the video."
    )
    processing_timeout: float = Field(
        default=900.0, gt=0, description="Longest wait, seconds, for processing to end."
    )
    daily_quota: int = Field(default=10_000, ge=1, description="The project's daily units.")
    upload_quota: int = Field(default=100, ge=1, description="videos.insert calls per day.")
    search_quota: int = Field(default=100, ge=1, description="search.list calls per day.")
    quota_guard: bool = Field(
        default=True,
        description="Refuse a call locally (RateLimitError) once the units counted today "
        "would pass the quota; the count lives in the store, per client_id.",
    )

    @model_validator(mode="after")
    def _credentials(self) -> YouTubeSettings:
        problems = []
        if self.chunk_size % (256 * _KiB):
            problems.append("chunk_size must be a multiple of 256 KiB (262144 bytes)")
        if self.refresh_token is not None and (
            self.client_id is None or self.client_secret is None
        ):
            problems.append("a refresh_token needs the client_id and client_secret that got it")
        if (
            self.require_credentials
            and self.refresh_token is None
            and self.access_token is None
            and self.client_id is None
        ):
            problems.append(
                "no credentials: give client_id, client_secret and refresh_token (or an "
                "access_token), or run `socialkit auth login youtube` to log in and store them"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self
