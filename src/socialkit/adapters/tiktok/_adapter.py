"""The TikTok adapter: video and photo posts (Content Posting API), the user's videos and stats.

Reference pages (TikTok publishes no machine-readable description):
https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
…-reference-upload-video, …-reference-photo-post, …-reference-get-video-status,
…-media-transfer-guide, https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info,
…-v2-video-list, …-v2-video-query, https://developers.tiktok.com/doc/oauth-user-access-token-management
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import anyio
import httpx
from pydantic import Field, SecretStr, model_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from socialkit._models import Account, Media, Metric, Post, Problem
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import Adapter, AdapterSettings, HttpURL, MediaSource
from socialkit.adapters.tiktok._network import error_of
from socialkit.text import utf16_length

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["DEFAULT_SCOPES", "TikTokAdapter", "TikTokPublishError", "TikTokSettings"]

logger = logging.getLogger("socialkit.adapters.tiktok")

_MiB = 1024 * 1024
#: Scopes asked for by default (https://developers.tiktok.com/doc/tiktok-api-scopes).
DEFAULT_SCOPES: tuple[str, ...] = (
    "user.info.basic",
    "user.info.profile",
    "user.info.stats",
    "video.list",
    "video.publish",
    "video.upload",
)
_USER_FIELDS = (
    "open_id,union_id,avatar_url,display_name,username,follower_count,following_count,"
    "likes_count,video_count,profile_deep_link,bio_description"
)
_VIDEO_FIELDS = (
    "id,create_time,cover_image_url,share_url,video_description,duration,height,width,title,"
    "embed_link,like_count,comment_count,share_count,view_count"
)
_VIDEO_ID = r"[0-9]{1,25}"
_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
_PHOTO_TYPES = frozenset({"image/jpeg", "image/webp"})
_PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")

#: What each ``fail_reason`` of a FAILED publish means
#: (https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status).
FAIL_REASONS: Mapping[str, str] = {
    "file_format_check_failed": (
        "the file is not a format TikTok takes (MP4, MOV, WebM; JPEG, WebP)"
    ),
    "duration_check_failed": "the video is too short or longer than the creator may post",
    "frame_rate_check_failed": "the video's frame rate is outside 23-60 fps",
    "picture_size_check_failed": "the picture size is outside what TikTok takes (360-4096 px)",
    "internal": "TikTok failed to process the post (an internal error): try again later",
    "video_pull_failed": "TikTok could not download the video from its URL",
    "photo_pull_failed": "TikTok could not download a photo from its URL",
    "publish_cancelled": "the post was cancelled (by the user or TikTok)",
    "auth_removed": "the user removed the app's access while the post was processing",
    "spam_risk_too_many_posts": "the user posted too much today (TikTok's daily cap)",
    "spam_risk_user_banned_from_posting": "the user is banned from posting",
    "spam_risk_text": "the text was flagged as spam",
    "spam_risk": "the post was flagged as spam",
}


class TikTokPublishError(APIError):
    """A publish that TikTok reported ``FAILED``; ``fail_reason`` is TikTok's reason."""

    def __init__(self, fail_reason: str, publish_id: str) -> None:
        self.fail_reason = fail_reason
        self.publish_id = publish_id
        meaning = FAIL_REASONS.get(fail_reason, "TikTok gave no explanation")
        super().__init__(
            "tiktok", None, fail_reason, f"publish {publish_id} failed: {meaning} ({fail_reason})"
        )


class TikTokSettings(AdapterSettings):
    """Settings of the TikTok adapter (an app with the Content Posting and Display APIs).

    ``client_key`` and ``client_secret`` with a ``refresh_token`` (from
    ``socialkit auth login tiktok``): access tokens (24 hours) are refreshed and the rotated
    refresh token saved; ``access_token`` alone is used as is. ``mode`` chooses a direct post
    (``video.publish`` scope) or an upload to the user's inbox as a draft (``video.upload``).
    """

    base_url: HttpURL = Field(default="https://open.tiktokapis.com", description="The API host.")
    authorize_url: str = Field(
        default="https://www.tiktok.com/v2/auth/authorize/", pattern=r"^https?://\S+$"
    )
    token_url: str = Field(
        default="https://open.tiktokapis.com/v2/oauth/token/",
        pattern=r"^https?://\S+$",
        description="The token endpoint (its trailing slash is part of TikTok's path).",
    )
    client_key: str | None = Field(default=None, description="The app's client key.")
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    scopes: tuple[str, ...] = Field(
        default=DEFAULT_SCOPES, description="Scopes a login asks for (Login Kit)."
    )
    mode: Literal["direct", "inbox"] = Field(
        default="direct", description="direct: publish; inbox: send as a draft to the user."
    )
    privacy_level: Literal[
        "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"
    ] = Field(default="SELF_ONLY", description="Who sees direct posts (checked with creator info).")
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    chunk_size: int = Field(
        default=10 * _MiB, ge=5 * _MiB, le=64 * _MiB, description="Bytes per upload chunk."
    )
    status_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, seconds, for a publish to finish."
    )
    poll_interval: float = Field(
        default=1.0,
        gt=0,
        description="First wait, seconds, between publish status polls (doubled each time, "
        "up to 10 s).",
    )
    reconcile_margin: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _credentials(self) -> TikTokSettings:
        problems = []
        if self.refresh_token is not None and (
            self.client_key is None or self.client_secret is None
        ):
            problems.append("a refresh_token needs the client_key and client_secret that got it")
        if (
            self.require_credentials
            and self.refresh_token is None
            and self.access_token is None
            and (self.client_key is None or self.client_secret is None)
        ):
            problems.append(
                "no credentials: give client_key, client_secret and refresh_token (or an "
                "access_token), or run `socialkit auth login tiktok` to log in and store them"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _video_id(value: object) -> str:
    if not isinstance(value, str) or re.fullmatch(_VIDEO_ID, value) is None:
        raise ValidationError(f"{value!r} is not a tiktok video id (digits)")
    return value


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    return None


class TikTokAdapter(Adapter):
    """TikTok. See ``docs/networks/tiktok.md`` for the app, scopes, limits and ``ex_`` methods.

    Ids: a post is a TikTok video id (digits); a post published as private or sent to the
    inbox has none until the user posts it, and reads back by its ``publish_id``
    (``publish:…``) only from ``publish``'s answer.
    """

    name: ClassVar[str] = "tiktok"
    #: What ``socialkit auth login tiktok`` asks for (then Login Kit in the browser).
    login_settings: ClassVar[tuple[str, ...]] = ("client_key", "client_secret")
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.ACCOUNTS: "the Display API reads the authorized user only",
        Capability.BLOCK: "the TikTok API cannot block accounts",
        Capability.BOOKMARK: "the TikTok API has no favorites for apps",
        Capability.COMMENTS: "the Display API returns no comments (the Research API does)",
        Capability.DELETE: "the TikTok API cannot delete a video",
        Capability.DIRECT_MESSAGES: "the TikTok API has no direct messages",
        Capability.EDIT: "a published video cannot be edited through the API",
        Capability.FEEDS: "the TikTok API has no feeds",
        Capability.FOLLOW: "the TikTok API cannot follow accounts",
        Capability.FOLLOWERS: (
            "the API gives the number of followers (account_metrics), not who they are"
        ),
        Capability.HIDE: "the TikTok API cannot hide comments",
        Capability.LIKE: "the TikTok API cannot like videos",
        Capability.MENTIONS: "the TikTok API does not report mentions",
        Capability.MUTE: "the TikTok API cannot mute accounts",
        Capability.NATIVE_SCHEDULING: "the Content Posting API has no scheduled posts",
        Capability.PUBLISH_AUDIO: "TikTok takes videos and photos only",
        Capability.PUBLISH_GIF: "TikTok takes videos and photos only",
        Capability.PUBLISH_POLL: "the Content Posting API cannot create polls",
        Capability.PUBLISH_TEXT: (
            "every TikTok post is a video or photos: the text is its title or description"
        ),
        Capability.PUBLISH_THREAD: "TikTok has no threads",
        Capability.QUOTE: "duets and stitches are made in the app, not through the API",
        Capability.READ_OTHERS: "the Display API lists the authorized user's own videos only",
        Capability.REPLY: "the TikTok API cannot post comments or replies",
        Capability.REPOST: "the TikTok API cannot repost",
        Capability.SEARCH: "search is in the Research API, for approved researchers only",
        Capability.STREAM: "TikTok has no real-time API",
        Capability.TIMELINE: "the TikTok API has no home feed (For You)",
        Capability.UPLOAD: "a medium is uploaded with its post (the publish's init), not alone",
        Capability.WEBHOOKS: (
            "TikTok's webhooks report the app's own events (a publish finished, access "
            "removed), not the account's activity: the adapter polls the publish status"
        ),
    }
    Settings: ClassVar[type[AdapterSettings]] = TikTokSettings
    docs_url: ClassVar[str | None] = "https://developers.tiktok.com/doc/overview"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_IMAGE,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
        }
    )
    limits = Limits(
        # Direct post reference: post_info.title is "2200 in UTF-16 runes" (an emoji outside
        # the BMP counts 2), so the text is counted in UTF-16 code units.
        max_text=2200,
        count=utf16_length,
        text_unit="UTF-16 code units",
        max_media=35,
        max_videos=1,
        mix_media=False,
        image_max_bytes=20 * _MiB,
        video_max_bytes=4096 * _MiB,
        media_types=_VIDEO_TYPES | _PHOTO_TYPES,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, TikTokSettings)
        self.settings: TikTokSettings = settings
        self._session: Session | None = None
        self._oauth2_client: OAuth2Client | None = None
        #: Sleeps between publish status polls (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing ---------------------------------------------------------------------------

    async def ensure_credentials(self) -> None:
        """Without a token in the settings, one must be stored (``socialkit auth login
        tiktok``)."""
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
                    f"{self._account_key!r}: log in with `socialkit auth login tiktok --account "
                    f"{self._account_key}` (or ex_authorization_url / ex_exchange_code), or pass "
                    "refresh_token="
                ),
            )

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_key is None or s.client_secret is None:
                raise ConfigurationError(
                    "tiktok: the login and the refresh need client_key and client_secret"
                )
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_url,
                client_id=s.client_key,
                client_secret=s.client_secret,
                # TikTok names the client `client_key`, in the URL and in the token requests
                # (with the secret in the body), and separates scopes with commas
                # (https://developers.tiktok.com/doc/oauth-user-access-token-management).
                client_id_parameter="client_key",
                token_endpoint_auth_method="client_secret_post",
                scopes=s.scopes,
                scope_separator=",",
                # PKCE is required for desktop and mobile apps, its challenge the hex of the
                # verifier's SHA-256, not RFC 7636's base64url ("You must use hex encoding of
                # SHA256", https://developers.tiktok.com/doc/login-kit-desktop; the token
                # request's code_verifier: .../doc/oauth-user-access-token-management).
                code_challenge_encoding="hex",
            )
        return self._oauth2_client

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a login (Login Kit: authorization code with PKCE): open ``result.url``, keep
        ``result`` for :meth:`ex_exchange_code`. ``scopes`` default to the ``scopes`` setting.
        Raises ``ConfigurationError`` without ``client_key`` and ``client_secret``. No request.
        """
        return self._oauth2().begin(
            redirect_uri=redirect_uri, scopes=None if scopes is None else tuple(scopes)
        )

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code (``POST /v2/oauth/token/``) and
        store the token, its rotating refresh token and when that one expires
        (``refresh_expires_in``), replacing the stored one. Returns the token."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._session = None  # the next call authenticates with the new token
        return token

    async def _auth(self) -> httpx.Auth:
        """Without client credentials an ``access_token`` is used as is; otherwise the stored
        token (seeded from the settings' tokens when none is stored) through
        :class:`~socialkit.auth.OAuth2Auth`: refreshed before it expires and after a 401, the
        rotated refresh token saved before use, one refresh per account across processes."""
        from socialkit.auth import BearerAuth

        s = self.settings
        if s.client_key is None or s.client_secret is None:
            if s.access_token is None:
                raise ConfigurationError("tiktok: give an access_token, or client_key and secret")
            return BearerAuth(s.access_token)
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.tiktok._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        kind: Literal["read", "write", "create"] | None = None,
    ) -> dict[str, Any]:
        """A v2 call; its ``data`` (the body's ``error`` raised unless its code is ``ok``)."""
        session = await self._api()
        response = await session.request(
            method,
            path,
            params=dict(params) if params else None,
            json=dict(body) if body is not None else None,
            kind=kind,
            headers={"Content-Type": "application/json; charset=UTF-8"}
            if body is not None
            else None,
        )
        try:
            answer = json.loads(response.content)
        except ValueError:
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", "the answer is not JSON"
            ) from None
        error = error_of(answer, response.status_code, self.name)
        if error is not None:
            raise error
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", f"{path}: no data"
            )
        data: dict[str, Any] = answer["data"]
        return data

    async def aclose(self) -> None:
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
        await super().aclose()
        self._session = None

    # -- the account ----------------------------------------------------------------------

    async def _user(self) -> dict[str, Any]:
        data = await self._call("GET", "/v2/user/info/", params={"fields": _USER_FIELDS})
        user = data.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("open_id"), str):
            raise MalformedResponseError(self.name, 200, "malformed_response", "no user")
        return user

    async def me(self) -> Account:
        """The user (``/v2/user/info/``, scopes ``user.info.basic``, ``.profile``, ``.stats``)."""
        user = await self._user()
        username = user.get("username")
        return Account(
            id=str(user["open_id"]),
            handle=username if isinstance(username, str) else None,
            name=user.get("display_name") if isinstance(user.get("display_name"), str) else None,
            url=user.get("profile_deep_link")
            if isinstance(user.get("profile_deep_link"), str)
            else None,
            avatar_url=user.get("avatar_url") if isinstance(user.get("avatar_url"), str) else None,
            followers=_int(user.get("follower_count")),
            following=_int(user.get("following_count")),
            posts_count=_int(user.get("video_count")),
            network=self.name,
            raw=user,
        )

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """``followers``, ``following``, ``likes`` (received) and ``posts`` (``video_count``:
        the user's public posts, canonically named as on the other networks), as they are now
        (``/v2/user/info/``, scope ``user.info.stats``)."""
        user = await self._user()
        moment = self.now()
        names = {
            "followers": "follower_count",
            "following": "following_count",
            "likes": "likes_count",
            "posts": "video_count",
        }
        return [
            Metric(name=n, value=v, network=self.name, native_name=native, measured_at=moment)
            for n, native in names.items()
            if (v := _int(user.get(native))) is not None
        ]

    # -- pre-flight -------------------------------------------------------------------------

    def check(self, post: Post) -> list[Problem]:
        problems = super().check(post)
        if any(m.kind == "image" for m in post.media):
            # A photo post's text is its description (4,000 UTF-16 units, checked in
            # _check_extra), not a video's title: the 2,200 of Limits is not its limit.
            problems = [
                p
                for p in problems
                if not (p.code == "text_too_long" and p.field == "text" and p.limit == 2200)
            ]
        return problems

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        kinds = [m.kind for m in post.media]
        if not kinds:
            problems.append(
                Problem(
                    code="media_required",
                    message="a tiktok post is a video or photos: add media",
                    field="media",
                )
            )
        if "gif" in kinds or "audio" in kinds:
            problems.append(
                Problem(
                    code="unsupported_media",
                    message="tiktok takes videos and photos (JPEG, WebP), not GIFs or audio",
                    field="media",
                )
            )
        photos = [m for m in post.media if m.kind == "image"]
        for index, item in enumerate(photos):
            if item.url is None and item.uploaded is None:
                problems.append(
                    Problem(
                        code="photo_needs_url",
                        message="tiktok pulls photos from URLs of a verified domain "
                        "(Media.from_url); it takes no photo uploads",
                        field=f"media[{index}]",
                    )
                )
        # Photo post reference: the description is at most "4000 in UTF-16 runes".
        if photos and utf16_length(post.text) > 4000:
            problems.append(
                Problem(
                    code="text_too_long",
                    message="a photo post's description is at most 4000 UTF-16 code units",
                    field="text",
                    limit=4000,
                    actual=utf16_length(post.text),
                )
            )
        if post.reply_to is not None or post.quote_of is not None:
            problems.append(
                Problem(
                    code="unsupported",
                    message="tiktok posts cannot reply or quote",
                    field="reply_to",
                )
            )
        return problems

    # -- publishing -------------------------------------------------------------------------

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def ex_creator_info(self) -> dict[str, Any]:
        """``/v2/post/publish/creator_info/query/``: the privacy options, the longest video
        (``max_video_post_duration_sec``) and whether comments, duets and stitches are off."""
        return await self._call(
            "POST", "/v2/post/publish/creator_info/query/", body={}, kind="read"
        )

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Init, upload (or have TikTok pull from the URL), then poll the status to its end,
        at most once per ``idempotency_key``: a retry under a key whose init was answered
        resumes polling that publish; one whose init was lost first looks for the post among
        the user's newest videos and, not finding it, starts again for an upload (TikTok never
        had the file: its upload URL was in the lost answer) but not for media TikTok pulls
        from a URL (it may still be pulling them): OutcomeUnknownError again."""
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        record = await self._load_record(key)
        if record is not None and record.get("post"):
            return Post.model_validate_json(str(record["post"]))
        if record is not None and record.get("publish_id"):
            return await self._finish(post, str(record["publish_id"]), key)
        started = self.now()
        pulled = any(m.path is None and m.data is None for m in post.media)
        if record is not None:
            found = await self._reconcile(post, record, key)
            if found is not None:
                await self._save_record(key, {"post": found.model_dump_json()})
                return found
            if record.get("pull"):
                # TikTok may still be pulling the media of the lost init, and the post shows
                # in the video list only once public: a second init could post it twice.
                raise OutcomeUnknownError(
                    self.name, "POST", "/v2/post/publish/…/init/", idempotency_key=key
                )
        info = await self.ex_creator_info()
        post_info = self._post_info(post, info)
        await self._save_record(key, {"started": started.isoformat(), "pull": pulled})
        try:
            publish_id = await self._init(post, post_info, key)
        except OutcomeUnknownError:
            raise
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        await self._save_record(key, {"started": started.isoformat(), "publish_id": publish_id})
        return await self._finish(post, publish_id, key)

    def _post_info(self, post: Post, info: Mapping[str, Any]) -> dict[str, Any]:
        """``post_info`` checked against the creator's options (before anything is sent)."""
        s = self.settings
        options = info.get("privacy_level_options") or []
        if s.mode == "direct" and s.privacy_level not in options:
            raise ValidationError(
                f"this creator cannot post as {s.privacy_level}; they can: "
                + ", ".join(str(o) for o in options)
            )
        limit = info.get("max_video_post_duration_sec")
        for item in post.media:
            if (
                item.kind == "video"
                and item.duration is not None
                and isinstance(limit, int | float)
                and item.duration > float(limit)
            ):
                raise ValidationError(
                    f"the video is {item.duration:.0f} s; this creator may post {limit} s at most"
                )
        return {
            "privacy_level": s.privacy_level,
            "disable_comment": s.disable_comment or bool(info.get("comment_disabled")),
            "disable_duet": s.disable_duet or bool(info.get("duet_disabled")),
            "disable_stitch": s.disable_stitch or bool(info.get("stitch_disabled")),
        }

    async def _init(self, post: Post, post_info: dict[str, Any], key: str) -> str:
        s = self.settings
        try:
            if post.media[0].kind == "image":
                photos = [m.uploaded.url if m.uploaded else m.url for m in post.media]
                body: dict[str, Any] = {
                    "post_info": {
                        "title": "",
                        "description": post.text,
                        "privacy_level": post_info["privacy_level"],
                        "disable_comment": post_info["disable_comment"],
                        "auto_add_music": True,
                    },
                    "source_info": {
                        "source": "PULL_FROM_URL",
                        "photo_cover_index": 0,
                        "photo_images": photos,
                    },
                    "post_mode": "DIRECT_POST" if s.mode == "direct" else "MEDIA_UPLOAD",
                    "media_type": "PHOTO",
                }
                data = await self._call(
                    "POST", "/v2/post/publish/content/init/", body=body, kind="create"
                )
                return self._publish_id(data)
            video = post.media[0]
            content: MediaSource | None = None
            if video.url is not None and video.path is None and video.data is None:
                source: dict[str, Any] = {"source": "PULL_FROM_URL", "video_url": video.url}
            else:
                # A file (up to 4 GB) is read one chunk at a time while it is sent.
                content = MediaSource(video.path if video.path is not None else video.read())
                size, chunk, count = chunking(content.size, s.chunk_size)
                source = {
                    "source": "FILE_UPLOAD",
                    "video_size": size,
                    "chunk_size": chunk,
                    "total_chunk_count": count,
                }
            if s.mode == "direct":
                body = {"post_info": {"title": post.text, **post_info}, "source_info": source}
                path = "/v2/post/publish/video/init/"
            else:
                body = {"source_info": source}
                path = "/v2/post/publish/inbox/video/init/"
            data = await self._call("POST", path, body=body, kind="create")
            # Without its publish_id, a 2xx init may still publish (TikTok pulls a URL's
            # video at once): the outcome is unknown, not a refusal.
            publish_id = self._publish_id(data)
        except OutcomeUnknownError as exc:
            raise OutcomeUnknownError(
                self.name, "POST", "/v2/post/publish/…/init/", idempotency_key=key
            ) from exc
        except MalformedResponseError as exc:
            raise OutcomeUnknownError(
                self.name, "POST", "/v2/post/publish/…/init/", idempotency_key=key
            ) from exc
        if content is not None:
            upload_url = data.get("upload_url")
            if not isinstance(upload_url, str) or (
                not upload_url.startswith("https://") and not upload_url.startswith("http://")
            ):
                raise MalformedResponseError(self.name, 200, "malformed_response", "no upload_url")
            await self._upload_chunks(upload_url, content, video.mime_type)
        return publish_id

    def _publish_id(self, data: Mapping[str, Any]) -> str:
        publish_id = data.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            raise MalformedResponseError(self.name, 200, "malformed_response", "no publish_id")
        return publish_id

    async def _upload_chunks(self, url: str, content: MediaSource, mime: str) -> None:
        """``PUT`` each chunk in order with its ``Content-Range`` (the media transfer guide),
        read from the file only when its turn comes; a chunk sent again with the same range
        replaces itself, so retries are safe."""
        size, chunk, count = chunking(content.size, self.settings.chunk_size)
        for index in range(count):
            first = index * chunk
            last = size - 1 if index == count - 1 else first + chunk - 1
            await (await self._api()).request(
                "PUT",
                url,
                content=content.read(first, last + 1 - first),
                headers={
                    "Content-Type": mime,
                    "Content-Range": f"bytes {first}-{last}/{size}",
                },
                auth=None,
                kind="write",
                retry_safe=True,
                bucket="upload",
            )

    async def _finish(self, post: Post, publish_id: str, key: str) -> Post:
        """Poll ``/v2/post/publish/status/fetch/`` to the end: ``PUBLISH_COMPLETE`` (the
        post, by its video id once TikTok gives one), ``SEND_TO_USER_INBOX`` (a draft, by its
        publish id), or ``FAILED`` (:class:`TikTokPublishError`, the record dropped so that a
        retry starts over)."""
        waited = 0.0
        delay = self.settings.poll_interval
        while True:
            data = await self._call(
                "POST",
                "/v2/post/publish/status/fetch/",
                body={"publish_id": publish_id},
                kind="read",
            )
            status = data.get("status")
            if status == "FAILED":
                await self._drop_record(key)
                raise TikTokPublishError(str(data.get("fail_reason") or "unknown"), publish_id)
            done = status == "PUBLISH_COMPLETE" or (
                status == "SEND_TO_USER_INBOX" and self.settings.mode == "inbox"
            )
            if done:
                ids = data.get("publicaly_available_post_id") or []
                published = await self._published(post, publish_id, ids)
                await self._save_record(key, {"post": published.model_dump_json()})
                return published
            if status not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD", "SEND_TO_USER_INBOX"):
                raise MalformedResponseError(
                    self.name, 200, "malformed_response", f"unknown publish status {status!r}"
                )
            if waited >= self.settings.status_timeout:
                # The publish goes on at TikTok: the key's record keeps the publish id, and
                # publishing again with the key resumes polling it.
                raise OutcomeUnknownError(
                    self.name, "POST", "/v2/post/publish/status/fetch/", idempotency_key=key
                )
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 10.0)

    async def _published(self, post: Post, publish_id: str, ids: list[Any]) -> Post:
        if ids:
            try:
                return await self.get_post(str(ids[0]))
            except NotFoundError:
                pass
        return post.model_copy(
            update={
                "id": str(ids[0]) if ids else f"publish:{publish_id}",
                "network": self.name,
                "created_at": self.now(),
                "raw": {"publish_id": publish_id},
            }
        )

    async def _reconcile(self, post: Post, record: Mapping[str, Any], key: str) -> Post | None:
        """After a lost init: a video of the user with this title, made since the attempt."""
        started = _parse(record.get("started")) or self.now()
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        try:
            data = await self._call(
                "POST",
                "/v2/video/list/",
                params={"fields": _VIDEO_FIELDS},
                body={"max_count": 20},
                kind="read",
            )
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            raise OutcomeUnknownError(
                self.name, "POST", "/v2/post/publish/…/init/", idempotency_key=key
            ) from exc
        for video in data.get("videos") or []:
            created = _time(video.get("create_time"))
            text = video.get("title") or video.get("video_description") or ""
            if created is not None and created >= since and text == post.text:
                return self._post_of(video)
        return None

    # -- reading ----------------------------------------------------------------------------

    def _post_of(self, video: Mapping[str, Any]) -> Post:
        video_id = video.get("id")
        if not isinstance(video_id, str):
            raise MalformedResponseError(self.name, 200, "malformed_response", "a video without id")
        share = video.get("share_url") if isinstance(video.get("share_url"), str) else None
        media = Media(
            kind="video",
            mime_type="video/mp4",
            id=video_id,
            url=share or video.get("embed_link"),
            preview_url=video.get("cover_image_url"),
            width=_int(video.get("width")) or None,
            height=_int(video.get("height")) or None,
            duration=float(video["duration"]) if _int(video.get("duration")) is not None else None,
        )
        text = video.get("title") or video.get("video_description") or ""
        counts = {
            name: value
            for name, native in (
                ("views", "view_count"),
                ("likes", "like_count"),
                ("replies", "comment_count"),
                ("shares", "share_count"),
            )
            if (value := _int(video.get(native))) is not None
        }
        return Post(
            text=str(text),
            media=[media],
            id=video_id,
            network=self.name,
            url=share,
            created_at=_time(video.get("create_time")),
            metrics=counts,
            raw=dict(video),
        )

    async def _query(self, ids: list[str]) -> list[dict[str, Any]]:
        data = await self._call(
            "POST",
            "/v2/video/query/",
            params={"fields": _VIDEO_FIELDS},
            body={"filters": {"video_ids": ids}},
            kind="read",
        )
        return [v for v in data.get("videos") or [] if isinstance(v, dict)]

    async def get_post(self, post_id: str) -> Post:
        """One of the user's videos (``/v2/video/query/``, scope ``video.list``)."""
        videos = await self._query([_video_id(post_id)])
        if not videos:
            raise NotFoundError(self.name, 404, "not_found", f"no video {post_id} of this user")
        return self._post_of(videos[0])

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The user's public videos, newest first (``/v2/video/list/``: 20 a page; TikTok's
        cursor is a time in milliseconds, so a page starts before the last one's cursor).
        Only the authorized user's own videos can be read."""
        if account is not None:
            raise self.unsupported(Capability.READ_OTHERS, "the API lists the user's own videos")

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Post]:
            body: dict[str, Any] = {"max_count": 20 if want is None else max(1, min(20, want))}
            if network_cursor is not None:
                body["cursor"] = int(network_cursor)
            data = await self._call(
                "POST", "/v2/video/list/", params={"fields": _VIDEO_FIELDS}, body=body, kind="read"
            )
            videos = [self._post_of(v) for v in data.get("videos") or [] if isinstance(v, dict)]
            more = data.get("has_more") is True and isinstance(data.get("cursor"), int)
            return Batch(videos, str(data["cursor"]) if more else None)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """``views``, ``likes``, ``replies`` (comments) and ``shares`` of each video
        (``/v2/video/query/``, 20 ids a call)."""
        wanted = {given: _video_id(given) for given in post_ids}
        ids = list(dict.fromkeys(wanted.values()))
        found: dict[str, Post] = {}
        for start in range(0, len(ids), 20):
            for video in await self._query(ids[start : start + 20]):
                post = self._post_of(video)
                assert post.id is not None
                found[post.id] = post
        moment = self.now()
        natives = {
            "views": "view_count",
            "likes": "like_count",
            "replies": "comment_count",
            "shares": "share_count",
        }
        return {
            given: [
                Metric(
                    name=name,
                    value=value,
                    network=self.name,
                    post_id=given,
                    native_name=natives[name],
                    measured_at=moment,
                )
                for name, value in found[video_id].metrics.items()
            ]
            for given, video_id in wanted.items()
            if video_id in found
        }


def chunking(size: int, preferred: int) -> tuple[int, int, int]:
    """``(video_size, chunk_size, total_chunk_count)`` by the media transfer guide's rules:
    below 5 MB one chunk of the whole size; otherwise chunks of ``preferred`` bytes (5–64 MB),
    ``total_chunk_count`` = size // chunk_size, the last chunk taking the trailing bytes (up to
    128 MB); at most 1,000 chunks."""
    if size <= 0:
        raise ValidationError("the video is empty")
    if size < 5 * _MiB:
        return size, size, 1
    chunk = min(max(5 * _MiB, min(64 * _MiB, preferred)), size)
    count = size // chunk
    if count > 1000:
        chunk = -(-size // 1000)
        if chunk > 64 * _MiB:
            raise ValidationError("the video is too large for 1,000 chunks of 64 MB")
        count = size // chunk
    if size - (count - 1) * chunk > 128 * _MiB:
        raise ValidationError("the last chunk would exceed 128 MB: choose a larger chunk_size")
    return size, chunk, count


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
