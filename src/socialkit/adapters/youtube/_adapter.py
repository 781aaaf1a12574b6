"""The YouTube adapter: resumable video uploads (scheduled with ``publishAt``), thumbnails, the
channel's videos and statistics, Analytics reports, comments (read, reply, moderate), ratings
and subscriptions, with the daily quota counted per method.

Official descriptions: the discovery documents ``youtube.v3.json`` and
``youtubeAnalytics.v2.json``; reference pages named beside each call
(https://developers.google.com/youtube/v3/docs, …/youtube/analytics/reference/reports/query).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import anyio
import httpx
from pydantic import SecretStr

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
    TransportError,
    ValidationError,
)
from socialkit._models import (
    Account,
    Feed,
    Media,
    Message,
    MessageKind,
    Metric,
    Post,
    Problem,
)
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    MediaSource,
    as_post,
    check_id,
    kinds_filter,
)
from socialkit.adapters.youtube import _mapping as mapping
from socialkit.adapters.youtube import _wire as wire
from socialkit.adapters.youtube._network import (
    ResumeIncomplete,
    make_network,
    next_quota_reset,
    pacific,
    quota_day,
)
from socialkit.adapters.youtube._settings import YouTubeSettings

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["QUOTA_COSTS", "YouTubeAdapter", "YouTubeProcessingError"]

logger = logging.getLogger("socialkit.adapters.youtube")

T = TypeVar("T")

_MiB = 1024 * 1024
_GiB = 1024 * _MiB
_VIDEO_ID = r"[A-Za-z0-9_-]{11}"
_CHANNEL_ID = r"UC[A-Za-z0-9_-]{22}"
_PLAYLIST_ID = r"(PL|UU|FL|LL|OL|RD)[A-Za-z0-9_-]{10,60}"
_COMMENT_ID = r"[A-Za-z0-9_-]{12,60}(\.[A-Za-z0-9_-]{8,40})?"
_HANDLE = r"@?[A-Za-z0-9._-]{3,30}"
_TITLE_MAX = 100
_DESCRIPTION_BYTES = 5000
_TAGS_MAX = 500
_THUMBNAIL_MAX = 2 * _MiB
_QUOTA_NS = "youtube.quota"
_VIDEO_PARTS = "snippet,status,statistics,contentDetails,processingDetails"
_VIDEO_TYPES = frozenset(
    {
        "video/mp4",
        "video/quicktime",
        "video/webm",
        "video/x-msvideo",
        "video/x-matroska",
        "video/x-flv",
        "video/3gpp",
        "video/mpeg",
        "video/x-ms-wmv",
    }
)
_PRIVACY = {"public": "public", "unlisted": "unlisted", "direct": "private"}

#: Units each method costs and the daily bucket it counts against
#: (https://developers.google.com/youtube/v3/determine_quota_cost): ``videos.insert`` and
#: ``search.list`` have buckets of their own (``upload_quota`` and ``search_quota`` calls a
#: day); everything else shares ``daily_quota`` units. Analytics reports count against the
#: Analytics API's own quota, not these.
QUOTA_COSTS: Mapping[str, tuple[str, int]] = {
    "channels.list": ("units", 1),
    "commentThreads.insert": ("units", 50),
    "commentThreads.list": ("units", 1),
    "comments.insert": ("units", 50),
    "comments.list": ("units", 1),
    "comments.setModerationStatus": ("units", 50),
    "playlistItems.list": ("units", 1),
    "playlists.list": ("units", 1),
    "search.list": ("searches", 1),
    "subscriptions.delete": ("units", 50),
    "subscriptions.insert": ("units", 50),
    "subscriptions.list": ("units", 1),
    "thumbnails.set": ("units", 50),
    "videos.delete": ("units", 50),
    "videos.insert": ("uploads", 1),
    "videos.list": ("units", 1),
    "videos.rate": ("units", 50),
    "videos.update": ("units", 50),
}


class YouTubeProcessingError(APIError):
    """YouTube took the upload but could not publish it: ``status.uploadStatus`` is
    ``failed`` or ``rejected`` (``reason``: ``failureReason`` / ``rejectionReason``)."""

    def __init__(self, video_id: str, upload_status: str, reason: str | None) -> None:
        self.video_id = video_id
        self.upload_status = upload_status
        self.reason = reason
        super().__init__(
            "youtube",
            None,
            reason or upload_status,
            f"video {video_id} was {upload_status}" + (f" ({reason})" if reason else ""),
        )


@dataclass(frozen=True)
class _Upload:
    """What an upload sends besides the file (``ex_publish`` options)."""

    tags: tuple[str, ...] = ()
    category_id: str | None = None
    made_for_kids: bool | None = None
    notify_subscribers: bool | None = None
    thumbnail: Media | None = None


class YouTubeAdapter(Adapter):
    """YouTube. See ``docs/networks/youtube.md`` for the credentials, scopes, quota costs,
    limits and ``ex_`` methods.

    A post is one video: the first line of its text is the title, the rest the description.
    Ids: videos have 11 characters, channels ``UC`` + 22, comments longer ones (a reply's id
    is its thread's id, a dot and more).
    """

    name: ClassVar[str] = "youtube"
    Settings: ClassVar[type[AdapterSettings]] = YouTubeSettings
    docs_url: ClassVar[str | None] = "https://developers.google.com/youtube/v3"
    login_settings: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_VIDEO,
            Capability.NATIVE_SCHEDULING,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.REPLY,
            Capability.LIKE,
            Capability.HIDE,
            Capability.ACCOUNTS,
            Capability.FOLLOW,
            Capability.SEARCH,
            Capability.FEEDS,
            Capability.WEBHOOKS,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_TEXT: "a YouTube upload is a video; text goes in its title and "
        "description (community posts have no API)",
        Capability.PUBLISH_IMAGE: "YouTube takes images only as a video's thumbnail "
        "(ex_publish(thumbnail=…), ex_set_thumbnail)",
        Capability.PUBLISH_GIF: "YouTube takes no GIF uploads",
        Capability.PUBLISH_AUDIO: "YouTube takes video files only",
        Capability.PUBLISH_THREAD: "YouTube videos do not form threads",
        Capability.PUBLISH_POLL: "polls are community posts, which have no API",
        Capability.QUOTE: "YouTube has no quotes",
        Capability.MENTIONS: "the API does not list mentions of a channel",
        Capability.DIRECT_MESSAGES: "YouTube has no direct messages",
        Capability.REPOST: "YouTube has no reposts",
        Capability.BOOKMARK: "the API has no Watch Later list since 2016",
        Capability.BLOCK: "the API cannot block channels (only ban a commenter with "
        "ex_moderate(..., ban_author=True))",
        Capability.MUTE: "YouTube has no muting",
        Capability.FOLLOWERS: "the API lists subscribers only partially and to the channel itself",
        Capability.TIMELINE: "the API has no subscription feed",
        Capability.UPLOAD: "an upload creates the video itself: there is no separate upload",
        Capability.STREAM: "YouTube has no event stream for apps",
    }
    limits = Limits(
        max_text=_TITLE_MAX + 1 + _DESCRIPTION_BYTES,
        max_media=1,
        max_videos=1,
        max_images=0,
        max_gifs=0,
        max_audios=0,
        mix_media=False,
        needs_text=True,
        video_max_bytes=256 * _GiB,
        media_types=_VIDEO_TYPES,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, YouTubeSettings)
        self.settings: YouTubeSettings = settings
        self._data: Session | None = None
        self._analytics: Session | None = None
        self._oauth2_client: OAuth2Client | None = None
        self._channel: wire.Channel | None = None
        #: Sleeps between processing polls (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing ---------------------------------------------------------------------------

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_id is None:
                raise ConfigurationError("youtube: the OAuth 2 flow needs client_id")
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_url,
                revocation_endpoint="https://oauth2.googleapis.com/revoke",
                client_id=s.client_id,
                client_secret=s.client_secret,
                token_endpoint_auth_method="client_secret_post"
                if s.client_secret is not None
                else "none",
                scopes=s.scopes,
                redirect_uri=s.redirect_uri,
                # A refresh token comes only with access_type=offline; prompt=consent gives a
                # new one on a second login too
                # (https://developers.google.com/identity/protocols/oauth2/web-server).
                authorization_params={"access_type": "offline", "prompt": "consent"},
            )
        return self._oauth2_client

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a Google login (authorization code with PKCE, ``access_type=offline``). Open
        ``result.url``; keep ``result`` for :meth:`ex_exchange_code`."""
        return self._oauth2().begin(
            redirect_uri=redirect_uri, scopes=None if scopes is None else tuple(scopes)
        )

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code, store the token (with its
        refresh token) for this account."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._data = self._analytics = None
        self._channel = None
        return token

    async def ensure_credentials(self) -> None:
        """Without a token in the settings, one must be stored (``socialkit auth login
        youtube``)."""
        s = self.settings
        if s.access_token is not None or s.refresh_token is not None:
            return
        if await self._tokens().get(self.name, self._account_key) is None:
            from socialkit.auth import AuthFlowError

            raise AuthFlowError(
                self.name,
                code="not_logged_in",
                message=(
                    f"no token in the settings and none stored for account "
                    f"{self._account_key!r}: log in with `socialkit auth login youtube "
                    f"--account {self._account_key}` (or ex_authorization_url / "
                    "ex_exchange_code), or pass refresh_token="
                ),
            )

    async def _auth(self) -> httpx.Auth:
        from socialkit.auth import BearerAuth

        s = self.settings
        if s.client_id is None or (s.refresh_token is None and s.access_token is not None):
            if s.access_token is None:
                raise ConfigurationError("youtube: no access_token and no client to refresh one")
            return BearerAuth(s.access_token)
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _session(self, analytics: bool = False) -> Session:
        if self._data is None or self._analytics is None:
            auth = await self._auth()
            clock = self.now if self.settings.clock is not None else None
            if self._data is None:
                self._data = self._make_session(
                    make_network(self.settings.base_url, clock), auth=auth
                )
            if self._analytics is None:
                self._analytics = self._make_session(
                    make_network(self.settings.analytics_url, clock), auth=auth
                )
        return self._analytics if analytics else self._data

    async def aclose(self) -> None:
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
        await super().aclose()
        self._data = self._analytics = None

    # -- quota ------------------------------------------------------------------------------

    def _quota_key(self, bucket: str) -> str:
        day = quota_day(self.now())
        return f"{self.settings.client_id or self._account_key}:{bucket}:{day}"

    def _quota_limit(self, bucket: str) -> int:
        s = self.settings
        return {"uploads": s.upload_quota, "searches": s.search_quota}.get(bucket, s.daily_quota)

    async def _charge(self, method: str) -> None:
        """Count ``method``'s units against today's quota (Pacific day), before sending:
        Google counts refused requests too. With ``quota_guard``, a call the quota cannot
        cover is refused here (RateLimitError, reset at midnight Pacific)."""
        bucket, cost = QUOTA_COSTS[method]
        key = self._quota_key(bucket)
        limit = self._quota_limit(bucket)
        store = self._store()
        while True:  # compare-and-set: processes sharing the store count together
            current = await store.get(_QUOTA_NS, key)
            used = int(current or 0)
            if self.settings.quota_guard and used + cost > limit:
                now = self.now()
                reset = next_quota_reset(now)
                raise RateLimitError(
                    self.name,
                    None,
                    "quotaExceeded",
                    f"{method} costs {cost} of the {max(0, limit - used)} {bucket} left today",
                    retry_after=(reset - now).total_seconds(),
                    limit=limit,
                    remaining=max(0, limit - used),
                    reset_at=reset,
                    bucket=f"quota:{bucket}",
                    local=True,
                )
            if await store.compare_and_set(_QUOTA_NS, key, current, str(used + cost)):
                return

    async def _exhausted(self, method: str) -> None:
        """Google said ``quotaExceeded``: today's bucket is spent, whatever was counted."""
        bucket, _ = QUOTA_COSTS[method]
        await self._store().put(_QUOTA_NS, self._quota_key(bucket), str(self._quota_limit(bucket)))

    async def ex_quota(self) -> dict[str, dict[str, Any]]:
        """Today's counted use of each quota bucket (``units``, ``uploads``, ``searches``):
        ``used``, ``limit``, ``remaining`` and ``resets_at`` (the next midnight Pacific). Counted by
        this library in its store: calls made elsewhere with the same project are not in it."""
        reset = next_quota_reset(self.now())
        out = {}
        for bucket in ("units", "uploads", "searches"):
            used = int(await self._store().get(_QUOTA_NS, self._quota_key(bucket)) or 0)
            limit = self._quota_limit(bucket)
            out[bucket] = {
                "used": used,
                "limit": limit,
                "remaining": max(0, limit - used),
                "resets_at": reset,
            }
        return out

    async def _send(
        self,
        method: str,
        http_method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        kind: Literal["read", "write", "create"] | None = None,
        retry_safe: bool = False,
        analytics: bool = False,
        **extra: Any,
    ) -> httpx.Response:
        """One call of ``method`` (its units counted first: see :data:`QUOTA_COSTS`; the
        upload session PUTs belong to its ``videos.insert``)."""
        if method in QUOTA_COSTS:
            await self._charge(method)
        session = await self._session(analytics)
        try:
            return await session.request(
                http_method,
                path,
                params=dict(params) if params else None,
                json=body,
                kind=kind,
                retry_safe=retry_safe,
                **extra,
            )
        except RateLimitError as exc:
            if exc.code == "quotaExceeded" and method in QUOTA_COSTS and not exc.local:
                await self._exhausted(method)
            raise

    async def _call(
        self,
        model: type[T],
        method: str,
        http_method: str,
        path: str,
        **kwargs: Any,
    ) -> T:
        response = await self._send(method, http_method, path, **kwargs)
        session = await self._session(kwargs.get("analytics", False))
        return session.parse_model(model, response)

    # -- ids --------------------------------------------------------------------------------

    def _video_id(self, value: object) -> str:
        return check_id(self.name, value, _VIDEO_ID, "video id (11 characters)")

    def _comment_id(self, value: object) -> str:
        return check_id(self.name, value, _COMMENT_ID, "comment id")

    # -- the channel ------------------------------------------------------------------------

    async def _mine(self) -> wire.Channel:
        if self._channel is None:
            page = await self._call(
                wire.ChannelListResponse,
                "channels.list",
                "GET",
                "/youtube/v3/channels",
                params={"part": "snippet,statistics,contentDetails", "mine": "true"},
            )
            if not page.items:
                raise NotFoundError(
                    self.name, 404, "channelNotFound", "this account has no channel"
                )
            self._channel = page.items[0]
        return self._channel

    async def me(self) -> Account:
        """The authorized channel (``channels.list mine=true``, 1 unit)."""
        self._channel = None
        return mapping.account_of(await self._mine())

    async def account(self, handle_or_id: str) -> Account:
        """A channel by id (``UC…``) or by handle (``@name``; ``channels.list forHandle``)."""
        if not isinstance(handle_or_id, str):
            raise ValidationError("account needs a youtube channel id or @handle")
        params: dict[str, str] = {"part": "snippet,statistics,contentDetails"}
        if re.fullmatch(_CHANNEL_ID, handle_or_id):
            params["id"] = handle_or_id
        else:
            handle = check_id(self.name, handle_or_id, _HANDLE, "channel id or @handle")
            params["forHandle"] = handle if handle.startswith("@") else f"@{handle}"
        page = await self._call(
            wire.ChannelListResponse, "channels.list", "GET", "/youtube/v3/channels", params=params
        )
        if not page.items:
            raise NotFoundError(self.name, 404, "channelNotFound", f"no channel {handle_or_id}")
        return mapping.account_of(page.items[0])

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """The channel's totals over ``since``–``until`` (default: the last 28 days) from
        YouTube Analytics (``reports.query ids=channel==MINE``, scope
        ``yt-analytics.readonly``): ``views``, ``likes``, ``replies`` (comments), ``shares``,
        ``watch_time_minutes``, ``average_view_duration`` (seconds), ``followers_gained`` and
        ``followers_lost`` (subscribers)."""
        return await self._report(since, until, None)

    async def ex_video_analytics(
        self, video_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """The metrics of :meth:`account_metrics` for one video (``filters=video==ID``)."""
        return await self._report(since, until, self._video_id(video_id))

    async def _report(
        self, since: datetime | None, until: datetime | None, video_id: str | None
    ) -> list[Metric]:
        end = until or self.now()
        start = since or end - timedelta(days=28)
        if start > end:
            raise ValidationError("since must not be later than until")
        natives = {
            "views": "views",
            "likes": "likes",
            "replies": "comments",
            "shares": "shares",
            "watch_time_minutes": "estimatedMinutesWatched",
            "average_view_duration": "averageViewDuration",
            "followers_gained": "subscribersGained",
            "followers_lost": "subscribersLost",
        }
        params = {
            "ids": "channel==MINE",
            "startDate": start.astimezone(pacific()).date().isoformat(),
            "endDate": end.astimezone(pacific()).date().isoformat(),
            "metrics": ",".join(natives.values()),
        }
        if video_id is not None:
            params["filters"] = f"video=={video_id}"
        table = await self._call(
            wire.QueryResponse,
            "reports.query",
            "GET",
            "/v2/reports",
            params=params,
            analytics=True,
        )
        columns = [h.name for h in table.columnHeaders]
        row = table.rows[0] if table.rows else [0] * len(columns)
        values = dict(zip(columns, row, strict=False))
        moment = self.now()
        out = []
        for name, native in natives.items():
            value = values.get(native)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append(
                    Metric(
                        name=name,
                        value=value,
                        network=self.name,
                        post_id=video_id,
                        native_name=native,
                        period="range",
                        start=start,
                        end=end,
                        measured_at=moment,
                    )
                )
        return out

    # -- pre-flight -------------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        comment = post.reply_to is not None and not post.media
        if comment:
            if post.scheduled_at is not None:
                problems.append(
                    Problem(
                        code="unsupported",
                        message="comments cannot be scheduled",
                        field="scheduled_at",
                    )
                )
            return problems
        if not post.media:
            problems.append(
                Problem(
                    code="media_required",
                    message="a youtube post is a video: add one (or set reply_to to comment)",
                    field="media",
                )
            )
        if any(m.uploaded is not None for m in post.media):
            problems.append(
                Problem(
                    code="unsupported",
                    message="youtube uploads the video with the post: give a file, bytes or a URL",
                    field="media",
                )
            )
        if post.reply_to is not None and post.media:
            problems.append(
                Problem(
                    code="unsupported",
                    message="a video cannot reply; a text with reply_to is a comment",
                    field="reply_to",
                )
            )
        title, description = mapping.split_text(post.text)
        if not title:
            problems.append(
                Problem(
                    code="title_required", message="the first line (title) is empty", field="text"
                )
            )
        if len(title) > _TITLE_MAX:
            problems.append(
                Problem(
                    code="title_too_long",
                    message=f"the title (first line) is at most {_TITLE_MAX} characters",
                    field="text",
                    limit=_TITLE_MAX,
                    actual=len(title),
                )
            )
        size = len(description.encode("utf-8"))
        if size > _DESCRIPTION_BYTES:
            problems.append(
                Problem(
                    code="description_too_long",
                    message=f"the description is at most {_DESCRIPTION_BYTES} bytes (UTF-8)",
                    field="text",
                    limit=_DESCRIPTION_BYTES,
                    actual=size,
                )
            )
        if "<" in post.text or ">" in post.text:
            problems.append(
                Problem(
                    code="invalid_characters",
                    message="youtube refuses < and > in titles and descriptions",
                    field="text",
                )
            )
        if post.visibility == "followers":
            problems.append(
                Problem(
                    code="unsupported_visibility",
                    message="youtube has public, unlisted and private (direct) videos only",
                    field="visibility",
                )
            )
        if post.scheduled_at is not None:
            if post.visibility != "public":
                problems.append(
                    Problem(
                        code="unsupported",
                        message="a scheduled video becomes public at its time: use "
                        "visibility='public'",
                        field="scheduled_at",
                    )
                )
            if post.scheduled_at <= self.now():
                problems.append(
                    Problem(
                        code="scheduled_in_past",
                        message="scheduled_at must be in the future",
                        field="scheduled_at",
                    )
                )
        return problems

    # -- publishing -------------------------------------------------------------------------

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        if post.reply_to is not None and not post.media:
            return await self._comment(post.reply_to, post.text, key)
        return await self._upload_post(post, key, _Upload())

    async def ex_publish(
        self,
        post: Post,
        *,
        tags: Iterable[str] = (),
        category_id: str | None = None,
        made_for_kids: bool | None = None,
        notify_subscribers: bool | None = None,
        thumbnail: Media | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """``publish`` with YouTube's own options: ``tags`` (500 characters in all),
        ``category_id`` (a videoCategory id), ``made_for_kids``, ``notify_subscribers`` and a
        custom ``thumbnail`` (JPEG or PNG, 2 MB; ``thumbnails.set``, the channel must be
        verified)."""
        tag_list = tuple(tags)
        problems = self.check(post)
        if sum(len(t) + (2 if " " in t else 0) for t in tag_list) + max(0, len(tag_list) - 1) > (
            _TAGS_MAX
        ):
            problems.append(
                Problem(
                    code="tags_too_long", message="tags are 500 characters in all", field="tags"
                )
            )
        if any(not t.strip() or "<" in t or ">" in t or "," in t for t in tag_list):
            problems.append(
                Problem(
                    code="invalid_tag", message="a tag is not empty, without < > ,", field="tags"
                )
            )
        if category_id is not None and not re.fullmatch(r"[0-9]{1,4}", category_id):
            problems.append(
                Problem(
                    code="invalid_category", message="category_id is a number", field="category_id"
                )
            )
        if thumbnail is not None:
            problems.extend(self._thumbnail_problems(thumbnail))
        if post.reply_to is not None and not post.media:
            problems.append(
                Problem(code="unsupported", message="ex_publish uploads videos", field="reply_to")
            )
        if problems:
            raise InvalidPostError(self.name, problems)
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        options = _Upload(tag_list, category_id, made_for_kids, notify_subscribers, thumbnail)
        return await self._upload_post(post, key, options)

    async def ex_schedule(
        self, post: Post, at: datetime, *, idempotency_key: str | None = None
    ) -> Post:
        """Upload ``post`` as a private video that YouTube makes public at ``at``
        (``status.publishAt``); the returned post has ``scheduled_at`` set."""
        if at.tzinfo is None:
            raise ValidationError("at must be timezone-aware")
        return await self.publish(
            post.model_copy(update={"scheduled_at": at}), idempotency_key=idempotency_key
        )

    async def ex_reschedule(self, post_id: str, at: datetime) -> Post:
        """Move a scheduled video's ``publishAt`` (``videos.update part=status``, 50 units;
        the status's other fields are sent back unchanged, as ``part=status`` replaces them).
        A video that is not scheduled (any more) is refused with ValidationError."""
        if at.tzinfo is None:
            raise ValidationError("at must be timezone-aware")
        if at <= self.now():
            raise ValidationError("at must be in the future")
        video = await self._scheduled(post_id)
        return await self._set_status(video, {"privacyStatus": "private", "publishAt": _iso(at)})

    async def ex_cancel_scheduled(self, post_id: str) -> None:
        """Take a scheduled video back: it is deleted (``videos.delete``), so that nothing goes
        public and publishing the post again later leaves one video. Refuses a video that is
        not scheduled (ValidationError): use ``delete`` for those."""
        await self._scheduled(post_id)
        await self.delete(post_id)

    async def ex_scheduled_outcome(self, scheduled: Post) -> Post | None:
        """What became of a scheduled video (``scheduled``: as :meth:`ex_schedule` or
        :meth:`publish` returned it; the video keeps its id when YouTube makes it public).

        Returns the video as a post: ``scheduled_at`` set while it waits for its
        ``publishAt``, else published; ``None`` when YouTube will not publish it (deleted,
        or private without a ``publishAt`` any more). Network calls: ``videos.list``
        (1 unit)."""
        if scheduled.id is None:
            raise ValidationError("the scheduled post needs its id")
        try:
            post = await self.get_post(scheduled.id)
        except NotFoundError:
            return None
        if post.scheduled_at is None and post.visibility == "direct":  # private, unscheduled
            return None
        return post

    async def _scheduled(self, post_id: str) -> wire.Video:
        """The video, if it is still waiting for its ``publishAt`` (a video YouTube made
        public already is refused: moving it would make it private again)."""
        video = await self._video(post_id, parts="status")
        status = video.status or wire.VideoStatus()
        if not (status.privacyStatus == "private" and status.publishAt):
            raise ValidationError(f"youtube video {post_id} is not scheduled (any more)")
        return video

    async def _set_status(self, video: wire.Video, change: Mapping[str, Any]) -> Post:
        status = video.status or wire.VideoStatus()
        kept = status.model_dump(
            include={
                "privacyStatus",
                "embeddable",
                "license",
                "publicStatsViewable",
                "selfDeclaredMadeForKids",
                "containsSyntheticMedia",
            },
            exclude_none=True,
        )
        updated = await self._call(
            wire.Video,
            "videos.update",
            "PUT",
            "/youtube/v3/videos",
            params={"part": "status"},
            body={"id": video.id, "status": {**kept, **change}},
            kind="write",
            retry_safe=True,
        )
        return await self.get_post(updated.id)

    def _thumbnail_problems(self, media: Media) -> list[Problem]:
        problems = []
        if media.mime_type not in ("image/jpeg", "image/png"):
            problems.append(
                Problem(
                    code="invalid_thumbnail",
                    message="a thumbnail is JPEG or PNG",
                    field="thumbnail",
                )
            )
        if media.size is not None and media.size > _THUMBNAIL_MAX:
            problems.append(
                Problem(
                    code="thumbnail_too_large",
                    message="a thumbnail is at most 2 MB",
                    field="thumbnail",
                    limit=_THUMBNAIL_MAX,
                    actual=media.size,
                )
            )
        return problems

    async def ex_set_thumbnail(self, video_id: str, media: Media) -> None:
        """Set a video's custom thumbnail (``thumbnails.set``, a media upload; 50 units; scope
        ``youtube.upload``)."""
        problems = self._thumbnail_problems(media)
        if problems:
            raise InvalidPostError(self.name, problems)
        content = await self._content(media)
        await self._send(
            "thumbnails.set",
            "POST",
            "/upload/youtube/v3/thumbnails/set",
            params={"videoId": self._video_id(video_id), "uploadType": "media"},
            content=content,
            headers={"Content-Type": media.mime_type},
            kind="write",
            retry_safe=True,
        )

    async def _content(self, media: Media) -> bytes:
        if media.url is not None and media.path is None and media.data is None:
            from socialkit._http import MediaFetcher

            fetched: bytes = await MediaFetcher.for_settings(self.settings).fetch(media)
            return fetched
        return media.read()

    def _metadata(self, post: Post, options: _Upload) -> dict[str, Any]:
        s = self.settings
        title, description = mapping.split_text(post.text)
        snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "categoryId": options.category_id or s.category_id,
        }
        if options.tags:
            snippet["tags"] = list(options.tags)
        if post.language:
            snippet["defaultLanguage"] = post.language
        status: dict[str, Any] = {
            "privacyStatus": _PRIVACY.get(post.visibility, "public"),
            "selfDeclaredMadeForKids": s.made_for_kids
            if options.made_for_kids is None
            else options.made_for_kids,
        }
        if post.scheduled_at is not None:
            status["privacyStatus"] = "private"
            status["publishAt"] = _iso(post.scheduled_at)
        return {"snippet": snippet, "status": status}

    async def _upload_post(self, post: Post, key: str, options: _Upload) -> Post:
        """Upload the video with the resumable protocol, at most once per ``key``: the key's
        record keeps the upload session's URI, and a publish again under the key asks the
        session what it holds (``Content-Range: bytes */size``) and goes on from there, or
        gets the video the session made."""
        record = await self._load_record(key)
        if record is not None and record.get("video"):
            video_id = str(record["video"])
            try:
                await self._video(video_id, parts="id")
            except NotFoundError:
                # Deleted since (ex_cancel_scheduled, or by hand): publishing under the key
                # again makes the post exist again, once.
                await self._drop_record(key)
                return await self._upload_post(post, key, options)
            if options.thumbnail is not None and not record.get("thumbnail"):
                await self.ex_set_thumbnail(video_id, options.thumbnail)
                await self._save_record(key, {"video": video_id, "thumbnail": True})
        else:
            media = post.media[0]
            source = MediaSource(
                media.path if media.path is not None else await self._content(media)
            )
            if not source.size:
                raise ValidationError("the video is empty")
            video = await self._resumable(post, source, media.mime_type, key, record, options)
            video_id = video.id
            await self._save_record(key, {"video": video_id})
            if options.thumbnail is not None:
                # Not sent again by a publish under the key once this succeeded; tried again
                # when it failed (the video is kept either way).
                await self.ex_set_thumbnail(video_id, options.thumbnail)
                await self._save_record(key, {"video": video_id, "thumbnail": True})
        if self.settings.wait_processing:
            return await self._processed(video_id, key)
        return await self.get_post(video_id)

    async def _resumable(
        self,
        post: Post,
        source: MediaSource,
        mime: str,
        key: str,
        record: Mapping[str, Any] | None,
        options: _Upload,
    ) -> wire.Video:
        size = source.size
        session_uri = str(record["session"]) if record and record.get("session") else None
        offset = 0
        if session_uri is not None and record is not None and record.get("size") == size:
            try:
                done, offset = await self._upload_status(session_uri, size)
            except NotFoundError:
                session_uri = None  # the session expired (a week): start a new one
            else:
                if done is not None:
                    return done
        else:
            session_uri = None
        if session_uri is None:
            session_uri = await self._start_session(post, size, mime, options)
            await self._save_record(key, {"session": session_uri, "size": size})
            offset = 0
        failures = 0
        chunk = self.settings.chunk_size
        while True:
            last = min(size, offset + chunk) - 1
            try:
                response = await self._send(
                    "upload",
                    "PUT",
                    session_uri,
                    content=source.read(offset, last + 1 - offset),
                    headers={
                        "Content-Type": mime,
                        "Content-Range": f"bytes {offset}-{last}/{size}",
                    },
                    kind="create",
                    bucket="upload",
                )
                return (await self._session()).parse_model(wire.Video, response)
            except ResumeIncomplete as incomplete:
                # The server may hold less than was sent: go on from what it holds.
                progressed = incomplete.received > offset
                offset = incomplete.received
                if progressed:
                    failures = 0
                    continue
                failures += 1  # a 308 that took nothing: a few times, then give up
                if failures > self.settings.retries:
                    raise OutcomeUnknownError(
                        self.name, "PUT", "/upload/youtube/v3/videos", idempotency_key=key
                    ) from incomplete
                continue
            except (
                OutcomeUnknownError,
                TransportError,
                ServerError,
                MalformedResponseError,
            ) as exc:
                failures += 1
                logger.info(
                    "youtube upload interrupted (%s): asking the session", type(exc).__name__
                )
                if failures > self.settings.retries:
                    raise OutcomeUnknownError(
                        self.name, "PUT", "/upload/youtube/v3/videos", idempotency_key=key
                    ) from exc
            try:
                done, offset = await self._upload_status(session_uri, size)
            except (APIError, TransportError, OutcomeUnknownError) as exc:
                raise OutcomeUnknownError(
                    self.name, "PUT", "/upload/youtube/v3/videos", idempotency_key=key
                ) from exc
            if done is not None:
                return done

    async def _start_session(self, post: Post, size: int, mime: str, options: _Upload) -> str:
        """``videos.insert`` with ``uploadType=resumable``: the metadata, and the session URI
        in ``Location`` (no video exists until the bytes arrive, so this is safe to repeat)."""
        notify = (
            self.settings.notify_subscribers
            if options.notify_subscribers is None
            else options.notify_subscribers
        )
        response = await self._send(
            "videos.insert",
            "POST",
            "/upload/youtube/v3/videos",
            params={
                "uploadType": "resumable",
                "part": "snippet,status",
                "notifySubscribers": "true" if notify else "false",
            },
            body=self._metadata(post, options),
            headers={"X-Upload-Content-Length": str(size), "X-Upload-Content-Type": mime},
            kind="write",
            retry_safe=True,
        )
        location = str(response.headers.get("location", ""))
        if not location.startswith(("https://", "http://")):
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", "no upload session URI"
            )
        return location

    async def _upload_status(self, session_uri: str, size: int) -> tuple[wire.Video | None, int]:
        """Ask an upload session what it holds: ``(video, size)`` when complete, else
        ``(None, bytes received)`` from the ``308``'s ``Range``."""
        try:
            response = await self._send(
                "upload",
                "PUT",
                session_uri,
                content=b"",
                headers={"Content-Range": f"bytes */{size}"},
                kind="write",
                retry_safe=True,
                bucket="upload",
            )
        except ResumeIncomplete as incomplete:
            return None, incomplete.received
        return (await self._session()).parse_model(wire.Video, response), size

    async def _processed(self, video_id: str, key: str) -> Post:
        """Poll the video until YouTube processed it (``status.uploadStatus``): ``processed``
        (or ``uploaded`` once processing says ``succeeded``) is the post; ``failed`` or
        ``rejected`` raise :class:`YouTubeProcessingError` (the record is dropped, so a
        publish again with the key uploads anew)."""
        waited = 0.0
        delay = 2.0
        while True:
            video = await self._video(video_id, parts=_VIDEO_PARTS)
            status = video.status or wire.VideoStatus()
            processing = video.processingDetails or wire.VideoProcessingDetails()
            if status.uploadStatus in ("failed", "rejected"):
                await self._drop_record(key)
                raise YouTubeProcessingError(
                    video_id,
                    status.uploadStatus,
                    status.failureReason
                    or status.rejectionReason
                    or processing.processingFailureReason,
                )
            if status.uploadStatus == "processed" or processing.processingStatus in (
                "succeeded",
                "terminated",
            ):
                return mapping.post_of(video)
            if waited >= self.settings.processing_timeout:
                logger.info("youtube video %s still processing; returning it as is", video_id)
                return mapping.post_of(video)
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 30.0)

    async def _comment(self, to: str, text: str, key: str) -> Post:
        """A comment on a video (``commentThreads.insert``) or a reply to a comment
        (``comments.insert`` with its thread's top comment as ``parentId``); 50 units.

        At most once per ``key``: the key's record is written before the create; a publish
        again under a key whose create went unanswered first looks for the comment (this
        channel's, with this text, among the video's newest threads or the thread's replies)
        and sends it again only when it is not there."""
        record = await self._load_record(key)
        if record is not None and record.get("post"):
            return Post.model_validate_json(str(record["post"]))
        video_id = to if re.fullmatch(_VIDEO_ID, to) else None
        parent = None if video_id else self._comment_id(to).split(".", 1)[0]
        if record is not None:
            found = await self._find_comment(video_id, parent, text, key)
            if found is not None:
                posted = self._comment_post(found, text, video_id, parent)
                await self._save_record(key, {"post": posted.model_dump_json()})
                return posted
        await self._save_record(key, {"pending": True})
        path = "/youtube/v3/commentThreads" if video_id else "/youtube/v3/comments"
        try:
            if video_id is not None:
                thread = await self._call(
                    wire.CommentThread,
                    "commentThreads.insert",
                    "POST",
                    path,
                    params={"part": "snippet"},
                    body={
                        "snippet": {
                            "videoId": video_id,
                            "topLevelComment": {"snippet": {"textOriginal": text}},
                        }
                    },
                    kind="create",
                )
                top = thread.snippet.topLevelComment if thread.snippet else None
                comment = top or wire.Comment(id=thread.id)
            else:
                comment = await self._call(
                    wire.Comment,
                    "comments.insert",
                    "POST",
                    path,
                    params={"part": "snippet"},
                    body={"snippet": {"parentId": parent, "textOriginal": text}},
                    kind="create",
                )
        except (OutcomeUnknownError, MalformedResponseError) as exc:
            raise OutcomeUnknownError(self.name, "POST", path, idempotency_key=key) from exc
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        posted = self._comment_post(comment, text, video_id, parent)
        await self._save_record(key, {"post": posted.model_dump_json()})
        return posted

    async def _find_comment(
        self, video_id: str | None, parent: str | None, text: str, key: str
    ) -> wire.Comment | None:
        """This channel's comment with ``text`` on the video (its 100 newest threads) or in
        the thread of ``parent`` (its 100 first replies), if there is one."""
        try:
            mine = (await self._mine()).id
            if video_id is not None:
                threads = await self._call(
                    wire.CommentThreadListResponse,
                    "commentThreads.list",
                    "GET",
                    "/youtube/v3/commentThreads",
                    params={
                        "part": "snippet",
                        "videoId": video_id,
                        "order": "time",
                        "maxResults": 100,
                        "textFormat": "plainText",
                    },
                )
                candidates = [
                    t.snippet.topLevelComment
                    for t in threads.items
                    if t.snippet and t.snippet.topLevelComment
                ]
            else:
                replies = await self._call(
                    wire.CommentListResponse,
                    "comments.list",
                    "GET",
                    "/youtube/v3/comments",
                    params={
                        "part": "snippet",
                        "parentId": parent,
                        "maxResults": 100,
                        "textFormat": "plainText",
                    },
                )
                candidates = list(replies.items)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            raise OutcomeUnknownError(
                self.name, "POST", "/youtube/v3/comments", idempotency_key=key
            ) from exc
        for comment in candidates:
            snippet = comment.snippet
            author = snippet.authorChannelId.value if snippet and snippet.authorChannelId else None
            if snippet is not None and author == mine and snippet.textOriginal == text:
                return comment
        return None

    def _comment_post(
        self, comment: wire.Comment, text: str, video_id: str | None, parent: str | None
    ) -> Post:
        snippet = comment.snippet
        target = (snippet.videoId if snippet else None) or video_id
        return Post(
            text=text,
            reply_to=parent or target,
            id=comment.id,
            network=self.name,
            url=f"{mapping.watch_url(target)}&lc={comment.id}" if target else None,
            created_at=mapping.time_of(snippet.publishedAt if snippet else None) or self.now(),
            raw=comment.model_dump(exclude_none=True),
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a comment (a :class:`Message` or comment id: ``comments.insert``) or comment
        on a video (its id: ``commentThreads.insert``); 50 units, scope ``youtube.force-ssl``."""
        target = to.id if isinstance(to, Message) else to
        if not isinstance(target, str):
            raise ValidationError("reply needs a message, a comment id or a video id")
        if not re.fullmatch(_VIDEO_ID, target):
            self._comment_id(target)
        return await self.publish(as_post(post).model_copy(update={"reply_to": target}))

    # -- records ----------------------------------------------------------------------------

    # -- videos -----------------------------------------------------------------------------

    async def _video(self, video_id: str, *, parts: str = _VIDEO_PARTS) -> wire.Video:
        page = await self._call(
            wire.VideoListResponse,
            "videos.list",
            "GET",
            "/youtube/v3/videos",
            params={"part": parts, "id": self._video_id(video_id)},
        )
        if not page.items:
            raise NotFoundError(self.name, 404, "videoNotFound", f"no video {video_id}")
        return page.items[0]

    async def _videos(self, ids: list[str]) -> list[wire.Video]:
        """``videos.list`` of up to 50 ids a call (1 unit each call)."""
        found: list[wire.Video] = []
        for start in range(0, len(ids), 50):
            page = await self._call(
                wire.VideoListResponse,
                "videos.list",
                "GET",
                "/youtube/v3/videos",
                params={"part": _VIDEO_PARTS, "id": ",".join(ids[start : start + 50])},
            )
            found.extend(page.items)
        return found

    async def get_post(self, post_id: str) -> Post:
        """A video (``videos.list``, 1 unit)."""
        return mapping.post_of(await self._video(post_id))

    async def delete(self, post_id: str) -> None:
        """Delete one of the channel's videos (``videos.delete``, 50 units)."""
        await self._send(
            "videos.delete",
            "DELETE",
            "/youtube/v3/videos",
            params={"id": self._video_id(post_id)},
            kind="write",
            retry_safe=True,
        )

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a video's title and description (``videos.update part=snippet``, 50 units;
        the category is sent back unchanged, as YouTube requires it)."""
        title, description = mapping.split_text(post.text)
        problems = [
            p
            for p in self._check_extra(post.model_copy(update={"media": [], "reply_to": None}))
            if p.code != "media_required"
        ]
        if problems:
            raise InvalidPostError(self.name, problems)
        video = await self._video(post_id, parts="snippet")
        snippet = video.snippet or wire.VideoSnippet()
        body_snippet: dict[str, Any] = {
            "title": title,
            "description": description,
            "categoryId": snippet.categoryId or self.settings.category_id,
        }
        if snippet.tags:
            body_snippet["tags"] = snippet.tags
        await self._send(
            "videos.update",
            "PUT",
            "/youtube/v3/videos",
            params={"part": "snippet"},
            body={"id": video.id, "snippet": body_snippet},
            kind="write",
            retry_safe=True,
        )
        return await self.get_post(video.id)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The channel's videos (another channel's with ``account``), newest first: its
        uploads playlist (``playlistItems.list``, 50 a page) with each page's videos read
        in one ``videos.list`` (1 unit each)."""

        return self._playlist_posts(
            lambda: self._uploads(account), since=since, until=until, limit=limit, cursor=cursor
        )

    def _playlist_posts(
        self,
        playlist: Callable[[], Awaitable[str]],
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
        ordered: bool = True,
    ) -> Paged[Post]:
        """The videos of a playlist (``playlistItems.list``, 50 a page), each page's videos
        read in one ``videos.list``; the playlist id is looked up once per walk."""
        known: list[str] = []

        async def fetch(token: str | None, want: int | None) -> Batch[Post]:
            if not known:
                known.append(await playlist())
            params = {
                "part": "contentDetails",
                "playlistId": known[0],
                "maxResults": 50 if want is None else max(1, min(50, want)),
            }
            if token is not None:
                params["pageToken"] = token
            page = await self._call(
                wire.PlaylistItemListResponse,
                "playlistItems.list",
                "GET",
                "/youtube/v3/playlistItems",
                params=params,
            )
            ids = [
                i.contentDetails.videoId
                for i in page.items
                if i.contentDetails and i.contentDetails.videoId
            ]
            videos = {v.id: v for v in await self._videos(ids)} if ids else {}
            posts = [mapping.post_of(videos[i]) for i in ids if i in videos]
            return Batch(posts, page.nextPageToken)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_created,
            ordered=ordered,
        )

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The channel's playlists (``playlists.list mine=true``, 50 a page, 1 unit each)."""

        async def fetch(token: str | None, want: int | None) -> Batch[Feed]:
            params: dict[str, Any] = {
                "part": "snippet,contentDetails",
                "mine": "true",
                "maxResults": 50 if want is None else max(1, min(50, want)),
            }
            if token is not None:
                params["pageToken"] = token
            page = await self._call(
                wire.PlaylistListResponse,
                "playlists.list",
                "GET",
                "/youtube/v3/playlists",
                params=params,
            )
            return Batch([mapping.feed_of(p) for p in page.items], page.nextPageToken)

        return Paged(fetch, limit=limit, cursor=cursor)

    def feed(
        self,
        feed: Feed | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The videos of a playlist (a :class:`Feed` from :meth:`feeds`, or a playlist id), in
        the playlist's order (``since``/``until`` filter without stopping the walk)."""
        if isinstance(feed, Feed):
            if feed.network != self.name:
                raise ValidationError(f"{feed.network} feed {feed.id!r} is not on youtube")
            playlist_id = feed.id
        else:
            playlist_id = check_id(self.name, feed, _PLAYLIST_ID, "playlist id")

        async def playlist() -> str:
            return playlist_id

        return self._playlist_posts(
            playlist, since=since, until=until, limit=limit, cursor=cursor, ordered=False
        )

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Public videos matching ``query``, newest first (``search.list type=video
        order=date``, 50 a page, each page one call of the ``search_quota`` bucket; then
        the page's videos in one ``videos.list``). ``since``/``until`` go to YouTube as
        ``publishedAfter``/``publishedBefore``."""
        if not isinstance(query, str) or not query.strip():
            raise ValidationError("search needs a non-empty query")

        async def fetch(token: str | None, want: int | None) -> Batch[Post]:
            params: dict[str, Any] = {
                "part": "id",
                "q": query,
                "type": "video",
                "order": "date",
                "maxResults": 50 if want is None else max(1, min(50, want)),
            }
            if since is not None:
                params["publishedAfter"] = _iso(since)
            if until is not None:
                params["publishedBefore"] = _iso(until)
            if token is not None:
                params["pageToken"] = token
            page = await self._call(
                wire.SearchListResponse, "search.list", "GET", "/youtube/v3/search", params=params
            )
            ids = [r.id.videoId for r in page.items if r.id.videoId]
            videos = {v.id: v for v in await self._videos(ids)} if ids else {}
            return Batch(
                [mapping.post_of(videos[i]) for i in ids if i in videos], page.nextPageToken
            )

        return Paged(fetch, since=since, until=until, limit=limit, cursor=cursor, time_of=_created)

    async def _uploads(self, account: str | None) -> str:
        if account is None:
            channel = await self._mine()
        else:
            found = await self.account(account)
            channel = wire.Channel.model_validate(found.raw)
        details = channel.contentDetails
        if (
            details is None
            or details.relatedPlaylists is None
            or not details.relatedPlaylists.uploads
        ):
            raise MalformedResponseError(
                self.name, 200, "malformed_response", "no uploads playlist"
            )
        return details.relatedPlaylists.uploads

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """``views``, ``likes`` and ``replies`` (comments) of each video (``videos.list
        part=statistics``, 50 ids a call, 1 unit each)."""
        wanted = {given: self._video_id(given) for given in post_ids}
        ids = list(dict.fromkeys(wanted.values()))
        stats: dict[str, wire.VideoStatistics] = {}
        for start in range(0, len(ids), 50):
            page = await self._call(
                wire.VideoListResponse,
                "videos.list",
                "GET",
                "/youtube/v3/videos",
                params={"part": "statistics", "id": ",".join(ids[start : start + 50])},
            )
            for video in page.items:
                if video.statistics is not None:
                    stats[video.id] = video.statistics
        moment = self.now()
        out: dict[str, list[Metric]] = {}
        for given, video_id in wanted.items():
            found = stats.get(video_id)
            if found is None:
                continue
            out[given] = [
                Metric(
                    name=name,
                    value=int(value),
                    network=self.name,
                    post_id=given,
                    native_name=native,
                    period="lifetime",
                    measured_at=moment,
                )
                for name, native in mapping.NATIVE_METRICS.items()
                if (value := getattr(found, native)) is not None and value.isdigit()
            ]
        return out

    # -- comments ---------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Comments on the channel's videos (``comment``) and the replies shown with them
        (``reply``), newest threads first (``commentThreads.list
        allThreadsRelatedToChannelId``, 100 threads a page, 1 unit each)."""
        wanted = kinds_filter(kinds)
        return self._threads(wanted, None, since=since, until=until, limit=limit, cursor=cursor)

    def ex_comments(
        self, video_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Message]:
        """The comment threads of one video (``commentThreads.list videoId``)."""
        return self._threads(
            frozenset({"comment", "reply"}), self._video_id(video_id), limit=limit, cursor=cursor
        )

    def _threads(
        self,
        wanted: frozenset[str],
        video_id: str | None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        async def fetch(token: str | None, want: int | None) -> Batch[Message]:
            if not wanted & {"comment", "reply"}:
                return Batch([], None)
            params: dict[str, Any] = {
                "part": "snippet,replies",
                "maxResults": 100,
                "order": "time",
                "textFormat": "plainText",
            }
            if video_id is not None:
                params["videoId"] = video_id
            else:
                params["allThreadsRelatedToChannelId"] = (await self._mine()).id
            if token is not None:
                params["pageToken"] = token
            page = await self._call(
                wire.CommentThreadListResponse,
                "commentThreads.list",
                "GET",
                "/youtube/v3/commentThreads",
                params=params,
            )
            found: list[Message] = []
            for thread in page.items:
                snippet = thread.snippet
                top = snippet.topLevelComment if snippet else None
                video = snippet.videoId if snippet else None
                comments = ([top] if top else []) + (
                    thread.replies.comments if thread.replies else []
                )
                for comment in comments:
                    message = mapping.message_of(comment, thread_id=thread.id, video_id=video)
                    if message.kind in wanted:
                        found.append(message)
            # Threads there, none of the kinds wanted (only replies asked for, say): not the
            # end, the walk reads on.
            return Batch(found, page.nextPageToken, filtered=not found and bool(page.items))

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
            ordered=False,
        )

    async def ex_moderate(
        self,
        comment_id: str | Message,
        status: Literal["published", "heldForReview", "rejected"],
        *,
        ban_author: bool = False,
    ) -> None:
        """Set a comment's moderation status (``comments.setModerationStatus``, 50 units;
        the channel owner only). ``ban_author`` with ``rejected`` bans the commenter."""
        target = comment_id.id if isinstance(comment_id, Message) else comment_id
        params: dict[str, Any] = {"id": self._comment_id(target), "moderationStatus": status}
        if ban_author:
            if status != "rejected":
                raise ValidationError("ban_author goes with status='rejected'")
            params["banAuthor"] = "true"
        await self._send(
            "comments.setModerationStatus",
            "POST",
            "/youtube/v3/comments/setModerationStatus",
            params=params,
            kind="write",
            retry_safe=True,
        )

    async def hide(self, reply: Message | str) -> None:
        """Hold a comment for review (hidden from the public): ``heldForReview``."""
        await self.ex_moderate(reply, "heldForReview")

    async def unhide(self, reply: Message | str) -> None:
        """Publish a held comment again."""
        await self.ex_moderate(reply, "published")

    # -- push notifications -----------------------------------------------------------------

    async def ex_websub_subscribe(
        self,
        callback: str,
        *,
        channel_id: str | None = None,
        secret: str | SecretStr | None = None,
        lease_seconds: int | None = None,
        unsubscribe: bool = False,
    ) -> str:
        """Ask the WebSub hub (the ``websub_hub`` setting) to send ``callback`` the uploads of
        a channel (default: this one), signed with ``secret``; returns the topic. The hub
        answers ``202`` and then verifies ``callback`` (see
        ``socialkit.adapters.youtube.challenge_response``); subscriptions last
        ``lease_seconds`` (the hub's default: 5 days) and must be renewed. No quota."""
        from socialkit.adapters.youtube._webhooks import topic_url

        if not callback.startswith(("https://", "http://")):
            raise ValidationError("callback must be an absolute http(s) URL")
        topic = topic_url(channel_id if channel_id is not None else (await self._mine()).id)
        form: dict[str, str] = {
            "hub.callback": callback,
            "hub.topic": topic,
            "hub.verify": "async",
            "hub.mode": "unsubscribe" if unsubscribe else "subscribe",
        }
        if secret is not None:
            form["hub.secret"] = (
                secret.get_secret_value() if isinstance(secret, SecretStr) else secret
            )
            from socialkit._http import register_secret

            register_secret(form["hub.secret"])  # kept out of logs and errors by its value
        if lease_seconds is not None:
            if lease_seconds <= 0:
                raise ValidationError("lease_seconds must be positive")
            form["hub.lease_seconds"] = str(lease_seconds)
        session = await self._session()
        await session.request(
            "POST", self.settings.websub_hub, data=form, auth=None, kind="write", retry_safe=True
        )
        return topic

    # -- engagement -------------------------------------------------------------------------

    async def _rate(self, post_id: str, rating: str) -> None:
        await self._send(
            "videos.rate",
            "POST",
            "/youtube/v3/videos/rate",
            params={"id": self._video_id(post_id), "rating": rating},
            kind="write",
            retry_safe=True,
        )

    async def like(self, post_id: str) -> None:
        """Like a video (``videos.rate rating=like``, 50 units)."""
        await self._rate(post_id, "like")

    async def unlike(self, post_id: str) -> None:
        """Take the like back (``rating=none``)."""
        await self._rate(post_id, "none")

    def _channel_arg(self, account: Account | str) -> str:
        value = account.id if isinstance(account, Account) else account
        return check_id(self.name, value, _CHANNEL_ID, "channel id (UC…)")

    async def _subscription(self, channel_id: str) -> str | None:
        page = await self._call(
            wire.SubscriptionListResponse,
            "subscriptions.list",
            "GET",
            "/youtube/v3/subscriptions",
            params={"part": "id", "mine": "true", "forChannelId": channel_id},
        )
        return page.items[0].id if page.items else None

    async def follow(self, account: Account | str) -> None:
        """Subscribe to a channel (``subscriptions.insert``, 50 units; already subscribed is
        fine)."""
        channel_id = self._channel_arg(account)
        if await self._subscription(channel_id) is not None:
            return
        try:
            await self._send(
                "subscriptions.insert",
                "POST",
                "/youtube/v3/subscriptions",
                params={"part": "snippet"},
                body={
                    "snippet": {"resourceId": {"kind": "youtube#channel", "channelId": channel_id}}
                },
                kind="write",
                retry_safe=False,
            )
        except APIError as exc:
            # Sent again after a lost answer (or subscribed meanwhile): the subscription is
            # there, which is what was asked.
            if exc.code != "subscriptionDuplicate":
                raise

    async def unfollow(self, account: Account | str) -> None:
        """Unsubscribe (``subscriptions.delete``, 50 units, after a 1-unit lookup)."""
        subscription = await self._subscription(self._channel_arg(account))
        if subscription is None:
            return
        await self._send(
            "subscriptions.delete",
            "DELETE",
            "/youtube/v3/subscriptions",
            params={"id": subscription},
            kind="write",
            retry_safe=True,
        )


def _created(post: Post) -> datetime | None:
    return post.created_at


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
