"""The X (API v2) adapter: publishing, media, reading, metrics, messages and search."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import anyio
import httpx
import pydantic
from pydantic import Field, SecretStr, model_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    DuplicateError,
    MalformedResponseError,
    OutcomeUnknownError,
    TimeoutError,
    UnsupportedError,
)
from socialkit._http import redact_text
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit.adapters._base import Adapter, AdapterSettings, HttpURL, as_post, kinds_filter
from socialkit.adapters.x import _mapping as mapping
from socialkit.adapters.x import _wire as wire
from socialkit.text import count_x, split_thread, url_spans

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token, TokenStore

__all__ = ["DEFAULT_SCOPES", "UserContextRequiredError", "XAdapter", "XSettings"]

logger = logging.getLogger("socialkit.adapters.x")

T = TypeVar("T")

#: OAuth 2.0 scopes asked for by default: post, read, upload media, DMs, and a refresh token.
DEFAULT_SCOPES: tuple[str, ...] = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "dm.read",
    "dm.write",
    "offline.access",
)

_MiB = 1024 * 1024

#: MIME types ``POST /2/media/upload/initialize`` takes for posts (``media_type`` enum of
#: ``InitializeMediaUploadRequest``; subtitles and 3D models are not post media).
_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/pjpeg",
        "image/png",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/gif",
        "video/mp4",
        "video/webm",
        "video/mp2t",
        "video/quicktime",
    }
)
_POST_CATEGORY = {"image": "tweet_image", "gif": "tweet_gif", "video": "tweet_video"}
_DM_CATEGORY = {"image": "dm_image", "gif": "dm_gif", "video": "dm_video"}

# Fields asked for with every post (``PostFieldsParameter`` enum). ``author_id``,
# ``in_reply_to_user_id`` and ``referenced_posts`` come with the expansions of the same names.
_POST_FIELDS = "attachments,conversation_id,created_at,id,lang,public_metrics,text"
_POST_EXPANSIONS = "author_id,in_reply_to_user_id,referenced_posts"
_USER_FIELDS = "id,name,profile_image_url,public_metrics,url,username"
_DM_FIELDS = "created_at,dm_conversation_id,event_type,id,text"

_PRIVATE_WINDOW = timedelta(days=30)
_METRICS_BATCH = 100
_POLL_STATES_PENDING = frozenset({"pending", "in_progress"})


class UserContextRequiredError(ConfigurationError):
    """The operation acts for a user, but the adapter holds only an app-only bearer token.

    Raised before anything is sent. ``operation`` names what was attempted and ``needed`` the
    kinds of credentials that allow it.
    """

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.needed = ("OAuth 2.0 user token", "OAuth 1.0a user keys")
        super().__init__(
            f"x: {operation} needs a user context: configure an OAuth 2.0 user token "
            "(access_token, refresh_token, client_id) or OAuth 1.0a keys (consumer_key, "
            "consumer_secret, access_token, access_token_secret); the app-only bearer_token "
            "can only read public data"
        )


class XSettings(AdapterSettings):
    """Settings of the X adapter. Exactly one way to authenticate:

    - OAuth 2.0 user context: ``client_id`` (and ``client_secret`` for confidential clients),
      with ``access_token`` and ``refresh_token`` or a token already in the token store (from
      :meth:`XAdapter.ex_exchange_code`). Tokens are refreshed, and the rotated refresh token
      saved, through :class:`socialkit.auth.OAuth2Auth`. ``access_token`` alone is a
      user token used as is until it expires (two hours).
    - OAuth 1.0a user context: ``consumer_key``, ``consumer_secret``, ``access_token``,
      ``access_token_secret``.
    - App-only: ``bearer_token`` (public reads: posts, search, public metrics, other accounts;
      set ``user_id`` to read one account's posts and mentions by default).
    """

    base_url: HttpURL = Field(default="https://api.x.com", description="The API host.")
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    authorize_url: str = Field(
        default="https://x.com/i/oauth2/authorize",
        description="Where users authorize the app (docs.x.com, OAuth 2.0 with PKCE).",
    )
    token_url: str | None = Field(
        default=None, description="The token endpoint; default <base_url>/2/oauth2/token."
    )
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,19}$", description="The account's numeric id."
    )
    chunk_size: int = Field(
        default=4 * _MiB, ge=64 * 1024, le=5 * _MiB, description="Bytes per media upload chunk."
    )
    media_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, in seconds, for media processing."
    )
    reconcile_margin: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before an unanswered create that its post may carry (clock skew).",
    )

    @model_validator(mode="after")
    def _one_auth(self) -> XSettings:
        oauth1 = self.consumer_key is not None or self.access_token_secret is not None
        oauth2 = self.client_id is not None or self.refresh_token is not None
        app = self.bearer_token is not None
        problems = []
        if oauth1:
            missing = [
                name
                for name in (
                    "consumer_key",
                    "consumer_secret",
                    "access_token",
                    "access_token_secret",
                )
                if getattr(self, name) is None
            ]
            if missing:
                problems.append("OAuth 1.0a needs " + ", ".join(missing))
            if oauth2:
                problems.append("give either OAuth 1.0a keys or OAuth 2.0 client settings")
        elif self.consumer_secret is not None and not app:
            problems.append("consumer_secret without consumer_key")
        if oauth2 and self.refresh_token is not None and self.client_id is None:
            problems.append("a refresh_token needs the client_id that obtained it")
        if app and (oauth1 or oauth2 or self.access_token is not None):
            problems.append(
                "bearer_token is app-only authentication: do not combine it with user tokens"
            )
        if not (oauth1 or oauth2 or app or self.access_token is not None):
            problems.append(
                "no credentials: give an OAuth 2.0 user token (access_token, refresh_token, "
                "client_id), OAuth 1.0a keys (consumer_key, consumer_secret, access_token, "
                "access_token_secret) or an app-only bearer_token"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def auth_mode(self) -> Literal["oauth2", "oauth1", "app"]:
        if self.consumer_key is not None:
            return "oauth1"
        if self.bearer_token is not None:
            return "app"
        return "oauth2"


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("since/until must be timezone-aware datetimes")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class XAdapter(Adapter):
    """X (API v2). See ``docs/networks/x.md`` for credentials, limits and ``ex_`` methods."""

    name: ClassVar[str] = "x"
    Settings: ClassVar[type[AdapterSettings]] = XSettings
    docs_url: ClassVar[str | None] = "https://docs.x.com/x-api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_GIF,
            Capability.PUBLISH_THREAD,
            Capability.PUBLISH_POLL,
            Capability.QUOTE,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.MENTIONS,
            Capability.DIRECT_MESSAGES,
            Capability.REPLY,
            Capability.SEARCH,
            Capability.WEBHOOKS,
        }
    )
    limits = Limits(
        max_text=280,
        count=count_x,
        text_unit="weighted characters",
        max_media=4,
        max_images=4,
        max_videos=1,
        max_gifs=1,
        mix_media=False,
        image_max_bytes=5 * _MiB,
        gif_max_bytes=15 * _MiB,
        video_max_bytes=512 * _MiB,
        media_types=_MEDIA_TYPES,
        max_alt_text=1000,
        max_poll_options=4,
        max_poll_option_text=25,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, XSettings)
        self.settings: XSettings = settings
        self._session: Session | None = None
        self._oauth2_client: OAuth2Client | None = None
        self._token_store: TokenStore | None = None
        self._me: Account | None = None
        #: Sleeps between media status polls (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing -------------------------------------------------------------------------

    @property
    def user_context(self) -> bool:
        """Whether the credentials act for a user (not app-only)."""
        return self.settings.auth_mode != "app"

    def _require_user(self, operation: str) -> None:
        if not self.user_context:
            raise UserContextRequiredError(operation)

    def _tokens(self) -> TokenStore:
        if self._token_store is None:
            from socialkit.auth import TokenStore

            store = self.settings.store
            if isinstance(store, TokenStore):
                self._token_store = store
            else:
                self._token_store = TokenStore(store)
        return self._token_store

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            from socialkit.auth import OAuth2Client, OAuth2Config

            s = self.settings
            if s.client_id is None:
                raise ConfigurationError(
                    "x: the OAuth 2.0 flow needs client_id (and client_secret for a "
                    "confidential client)"
                )
            try:
                config = OAuth2Config(
                    network="x",
                    authorization_endpoint=s.authorize_url,
                    token_endpoint=s.token_url or f"{s.base_url}/2/oauth2/token",
                    client_id=s.client_id,
                    client_secret=s.client_secret,
                    scopes=s.scopes,
                    redirect_uri=s.redirect_uri,
                )
            except pydantic.ValidationError as exc:
                problems = [
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors(include_input=False, include_url=False)
                ]
                raise ConfigurationError("x: invalid OAuth 2.0 settings", problems) from None
            self._oauth2_client = OAuth2Client(config, http=self.http, timeout=s.timeout)
        return self._oauth2_client

    @property
    def _account_key(self) -> str:
        return self.settings.account or "default"

    async def _auth(self) -> httpx.Auth | None:
        s = self.settings
        mode = s.auth_mode
        if mode == "app":
            from socialkit.auth import BearerAuth

            assert s.bearer_token is not None
            return BearerAuth(s.bearer_token)
        if mode == "oauth1":
            from socialkit.auth import OAuth1Auth

            assert s.consumer_key is not None
            assert s.consumer_secret is not None
            return OAuth1Auth(
                s.consumer_key, s.consumer_secret, s.access_token, s.access_token_secret
            )
        if s.client_id is None:
            # A bare user access token: sent as is, never refreshed.
            from socialkit.auth import BearerAuth

            assert s.access_token is not None
            return BearerAuth(s.access_token)
        from socialkit.auth import OAuth2Auth, Token

        store = self._tokens()
        if s.access_token is not None:
            seed = Token(access_token=s.access_token, refresh_token=s.refresh_token)
            # The settings' token seeds the store only when it holds none: a stored token is
            # newer (its refresh token rotated since), and the settings' one is then spent.
            await store.compare_and_set("x", self._account_key, None, seed)
        return OAuth2Auth(self._oauth2(), store, account=self._account_key)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.x._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    async def _call(self, model: type[T], method: str, path: str, **kwargs: Any) -> T:
        """Send through the pipeline and validate the 2xx body as ``model``."""
        session = await self._api()
        response = await session.request(method, path, **kwargs)
        return self._parse(model, response)

    def _parse(self, model: type[T], response: httpx.Response) -> T:
        try:
            return model.model_validate_json(response.content)  # type: ignore[attr-defined, no-any-return]
        except pydantic.ValidationError as exc:
            where = ", ".join(
                ".".join(str(p) for p in e["loc"]) or "(root)"
                for e in exc.errors(include_input=False, include_url=False)[:5]
            )
            raise MalformedResponseError(
                self.name,
                response.status_code,
                "malformed_response",
                f"the answer does not match {model.__name__} ({where})",
                response.headers.get("x-transaction-id"),
            ) from None

    def _problem(self, problems: list[wire.Problem], what: str) -> APIError:
        """The error for an answer without ``data``: its first problem, or a malformed body."""
        from socialkit.adapters.x._network import problem_error

        if problems:
            return problem_error(problems[0], None, network=self.name)
        return MalformedResponseError(
            self.name, None, "malformed_response", f"the answer has no data for {what}"
        )

    async def aclose(self) -> None:
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
        await super().aclose()
        self._session = None

    # -- OAuth 2.0 login ------------------------------------------------------------------

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start an OAuth 2.0 login (authorization code + PKCE S256).

        Open ``result.url`` in a browser; keep ``result`` for :meth:`ex_exchange_code`.
        ``offline.access`` is always asked for, so that X returns a refresh token.
        """
        wanted = list(self.settings.scopes if scopes is None else scopes)
        if "offline.access" not in wanted:
            wanted.append("offline.access")
        return self._oauth2().begin(redirect_uri=redirect_uri, scopes=wanted)

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | dict[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code, store the token for this
        account (the store's previous token, if any, is replaced)."""
        token = await self._oauth2().complete(request, redirect)
        await self._tokens().put("x", self._account_key, token)
        self._session = None  # the next call authenticates with the new token
        self._me = None
        return token

    # -- pre-flight -----------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        from socialkit.text import bounded_count, x_invalid_characters  # (core text rules)

        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            where = "the post" if index == 0 else f"post thread[{index - 1}]"
            for bad in x_invalid_characters(item.text):
                problems.append(
                    Problem(
                        code="invalid_characters",
                        message=(
                            f"the text of {where} contains {bad.description} at index "
                            f"{bad.index}; x refuses such text"
                        ),
                        field=f"{prefix}text",
                    )
                )
            if item.link and item.link not in item.text:
                length, exact = bounded_count(self._text_of(item), count_x, 280)
                if length > 280:
                    problems.append(
                        Problem(
                            code="text_too_long",
                            message=(
                                f"the text of {where} with its link is "
                                f"{'' if exact else 'at least '}{length} weighted "
                                "characters long; x allows 280"
                            ),
                            field=f"{prefix}link",
                            limit=280,
                            actual=length,
                        )
                    )
            if item.visibility != "public":
                problems.append(
                    Problem(
                        code="unsupported",
                        message=(
                            f"x posts are public; visibility {item.visibility!r} is not offered"
                        ),
                        field=f"{prefix}visibility",
                    )
                )
            if item.content_warning:
                problems.append(
                    Problem(
                        code="unsupported",
                        message="x does not support content warnings",
                        field=f"{prefix}content_warning",
                    )
                )
            if item.sensitive:
                problems.append(
                    Problem(
                        code="unsupported",
                        message=(
                            "x does not let an API client mark one post sensitive (it is an "
                            "account setting)"
                        ),
                        field=f"{prefix}sensitive",
                    )
                )
            exclusive = [
                name
                for name, present in (
                    ("media", bool(item.media)),
                    ("poll", item.poll is not None),
                    ("quote_of", item.quote_of is not None),
                )
                if present
            ]
            if len(exclusive) > 1:
                problems.append(
                    Problem(
                        code="conflicting_fields",
                        message=(
                            f"x does not combine {' and '.join(exclusive)} in one post "
                            "(media, poll and quote are mutually exclusive)"
                        ),
                        field=f"{prefix}{exclusive[1]}",
                    )
                )
            if item.poll is not None:
                minutes = item.poll.duration.total_seconds() / 60
                if not 5 <= minutes <= 10080 or minutes != int(minutes):
                    problems.append(
                        Problem(
                            code="poll_duration",
                            message=(
                                "x polls last a whole number of minutes from 5 to 10,080 "
                                f"(7 days); this one lasts {minutes:g}"
                            ),
                            field=f"{prefix}poll.duration",
                            limit=10080,
                            actual=minutes,
                        )
                    )
                if item.poll.multiple:
                    problems.append(
                        Problem(
                            code="unsupported",
                            message="x polls allow one choice per voter",
                            field=f"{prefix}poll.multiple",
                        )
                    )
                for i, option in enumerate(item.poll.options):
                    if not option.strip():
                        problems.append(
                            Problem(
                                code="poll_option_empty",
                                message=f"poll option {i + 1} is empty",
                                field=f"{prefix}poll.options[{i}]",
                            )
                        )
        return problems

    @staticmethod
    def _text_of(post: Post) -> str:
        if post.link and post.link not in post.text:
            return f"{post.text}\n{post.link}" if post.text else post.link
        return post.text

    def ex_split_thread(self, text: str, *, numbering: bool | str = False) -> list[str]:
        """Split ``text`` into posts that each fit X's 280 weighted characters (URLs count 23,
        emoji 2, CJK 2), cutting between paragraphs, sentences, then words; never inside a URL
        or an emoji. Build the thread with ``Post(text=parts[0], thread=[Post(text=t) for t in
        parts[1:]])``."""
        max_text = self.limits.max_text
        assert max_text is not None
        return split_thread(text, max_text, count_x, numbering=numbering)

    # -- account --------------------------------------------------------------------------

    async def _user(self) -> wire.WireUser:
        if self.user_context:
            path = "/2/users/me"
        elif self.settings.user_id is not None:
            path = f"/2/users/{self.settings.user_id}"
        else:
            raise UserContextRequiredError(
                "reading the own account (or set user_id with an app-only bearer_token)"
            )
        answer = await self._call(
            wire.UserLookup, "GET", path, params={"user.fields": _USER_FIELDS}
        )
        if answer.data is None:
            raise self._problem(answer.errors, "the account")
        return answer.data

    async def me(self) -> Account:
        user = await self._user()
        self._me = mapping.account_from(user)
        return self._me

    async def _my_id(self) -> str:
        if self.settings.user_id is not None:
            return self.settings.user_id
        if self._me is None:
            await self.me()
        assert self._me is not None
        return self._me.id

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """The account's current counts (followers, following, posts, listed …).

        X reports only the present values, no history: ``since`` / ``until`` raise
        :class:`~socialkit.UnsupportedError`."""
        if since is not None or until is not None:
            raise self.unsupported(
                Capability.ACCOUNT_METRICS,
                "x reports only current account counts; since/until windows are not offered",
            )
        user = await self._user()
        return mapping.account_metrics_from(user, datetime.now(timezone.utc))

    async def _user_by_handle(self, handle: str) -> wire.WireUser:
        username = handle.removeprefix("@")
        if not username or len(username) > 15 or not all(c.isalnum() or c == "_" for c in username):
            raise ValueError(f"{handle!r} is not an X username (1-15 letters, digits or _)")
        answer = await self._call(
            wire.UserLookup,
            "GET",
            f"/2/users/by/username/{username}",
            params={"user.fields": _USER_FIELDS},
        )
        if answer.data is None:
            raise self._problem(answer.errors, f"the account @{username}")
        return answer.data

    # -- publishing -----------------------------------------------------------------------

    async def _publish_one(self, post: Post) -> Post:
        self._require_user("publishing")
        media_ids = [await self._upload(item, _POST_CATEGORY) for item in post.media]
        body: dict[str, Any] = {"text": self._text_of(post)}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if post.reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": post.reply_to}
        if post.quote_of is not None:
            body["quote_tweet_id"] = post.quote_of
        if post.poll is not None:
            body["poll"] = {
                "options": list(post.poll.options),
                "duration_minutes": int(post.poll.duration.total_seconds() // 60),
            }
        return await self._create(post, body)

    async def edit(self, post_id: str, post: Post) -> Post:
        """Edit a published post (X creates a new version with a new id; editing needs an
        account that may edit, within X's window and number of edits)."""
        self._require_user("editing")
        problems = self.check(post.model_copy(update={"thread": []}))
        if problems:
            from socialkit._errors import InvalidPostError

            raise InvalidPostError(self.name, problems)
        media_ids = [await self._upload(item, _POST_CATEGORY) for item in post.media]
        body: dict[str, Any] = {
            "text": self._text_of(post),
            "edit_options": {"previous_post_id": post_id},
        }
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        return await self._create(post, body)

    async def _create(self, post: Post, body: dict[str, Any]) -> Post:
        """``POST /2/tweets``, reconciled when its outcome is unknown.

        X has no idempotency key, so the pipeline does not resend a create that may have
        arrived (a timeout after sending, a 5xx). Then the account's newest posts are read
        (``GET /2/users/{id}/tweets`` from shortly before the attempt began): a post with the
        same text and the same reply / quote target is the one created, and is returned. If
        none is found, the post is sent once more. A duplicate refusal of that second attempt
        means the first one arrived after all: the timeline is read again.
        """
        started = self.now()
        try:
            answer = await self._call(
                wire.CreatePostResponse, "POST", "/2/tweets", json=body, kind="create"
            )
        except OutcomeUnknownError as unknown:
            logger.warning("x: the outcome of a post is unknown (%s); reconciling", unknown)
            found = await self._reconcile(body, started)
            if found is not None:
                return found
            if not mapping.normalise(body.get("text", "")).strip():
                # A media-only post has no text for X's duplicate check to catch a second
                # copy, and a timeline that lags would make a resend publish it twice.
                raise
            try:
                answer = await self._call(
                    wire.CreatePostResponse, "POST", "/2/tweets", json=body, kind="create"
                )
            except DuplicateError:
                found = await self._reconcile(body, started)
                if found is not None:
                    return found
                raise
        if answer.data is None:
            raise self._problem(answer.errors, "the new post")
        created = answer.data
        author = self._me
        return post.model_copy(
            update={
                "id": created.id,
                "network": self.name,
                "url": mapping.post_url(created.id, author.handle if author else None),
                "created_at": mapping.snowflake_time(created.id) or started,
                "author": author,
                "thread": [],
                "raw": answer,
            }
        )

    async def _reconcile(self, body: dict[str, Any], started: datetime) -> Post | None:
        """The post that an unanswered create made, if the account's timeline shows it."""
        text = mapping.normalise(body.get("text", ""))
        wanted = mapping.comparable_text(text, url_spans(text))
        reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        quote = body.get("quote_tweet_id")
        media_ids = [str(i) for i in (body.get("media") or {}).get("media_ids") or []]
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        user_id = await self._my_id()
        answer = await self._call(
            wire.PostsPage,
            "GET",
            f"/2/users/{user_id}/tweets",
            params={
                "max_results": 20,
                "start_time": _rfc3339(since),
                "post.fields": _POST_FIELDS,
                "expansions": _POST_EXPANSIONS,
                "user.fields": _USER_FIELDS,
            },
        )
        for candidate in answer.data:
            created = candidate.created_at or mapping.snowflake_time(candidate.id)
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if created is not None and created < since:
                continue
            theirs = mapping.normalise(candidate.text)
            if mapping.comparable_text(theirs, url_spans(theirs)) != wanted:
                continue
            if candidate.reference("replied_to") != reply or candidate.reference("quoted") != quote:
                continue
            keys = candidate.attachments.media_keys if candidate.attachments else None
            if (
                media_ids
                and keys is not None
                and sorted(k.split("_")[-1] for k in keys) != sorted(media_ids)
            ):
                continue
            logger.info("x: the unanswered post was published as %s", candidate.id)
            return mapping.post_from(candidate, answer.includes)
        return None

    async def delete(self, post_id: str) -> None:
        self._require_user("deleting a post")
        answer = await self._call(wire.DeleteResponse, "DELETE", f"/2/tweets/{post_id}")
        if answer.data is None:
            raise self._problem(answer.errors, f"deleting {post_id}")
        if not answer.data.deleted:
            raise APIError(self.name, None, "not_deleted", f"x did not delete post {post_id}")

    # -- media ----------------------------------------------------------------------------

    async def _media_bytes(self, media: Media) -> bytes | None:
        """The content of a URL-sourced medium, fetched without X's credentials."""
        if media.url is None:
            return None
        from socialkit._http import Network

        fetcher = self._make_session(Network(name="x-media-source", base_url=media.url), auth=None)
        response = await fetcher.request("GET", media.url, kind="read", bucket="media-source")
        return response.content

    async def _upload(self, media: Media, categories: dict[str, str]) -> str:
        """Upload one medium in chunks and wait until X has processed it; returns its id.

        ``initialize`` -> ``append`` (``segment_index`` 0, 1, …) -> ``finalize``, then while
        ``processing_info.state`` is pending or in progress, ``GET /2/media/upload`` after
        ``check_after_secs`` (a bounded poll, ``media_timeout`` seconds in all). Alt text goes
        through ``POST /2/media/metadata``. None of these requests attaches the medium to a
        post, so each is safe to resend (``retry_safe``).
        """
        self._require_user("uploading media")
        fetched = await self._media_bytes(media)
        size = len(fetched) if fetched is not None else media.size
        if size is None:
            fetched = media.read()
            size = len(fetched)
        init = await self._call(
            wire.UploadInitResponse,
            "POST",
            "/2/media/upload/initialize",
            json={
                "media_category": categories[media.kind],
                "media_type": media.mime_type,
                "total_bytes": size,
            },
            retry_safe=True,
        )
        if init.data is None:
            raise self._problem(init.errors, "the upload session")
        media_id = init.data.id
        chunks: Iterable[bytes]
        if fetched is not None:
            step = self.settings.chunk_size
            chunks = (fetched[i : i + step] for i in range(0, len(fetched), step))
        else:
            chunks = media.iter_chunks(self.settings.chunk_size)
        for index, chunk in enumerate(chunks):
            await self._append(media_id, index, chunk)
        final = await self._call(
            wire.MediaStatusResponse,
            "POST",
            f"/2/media/upload/{media_id}/finalize",
            retry_safe=True,
        )
        if final.data is None:
            raise self._problem(final.errors, "the finalized upload")
        await self._wait_processed(media_id, final.data.processing_info)
        if media.alt:
            meta = await self._call(
                wire.MetadataResponse,
                "POST",
                "/2/media/metadata",
                json={"id": media_id, "metadata": {"alt_text": {"text": media.alt}}},
                retry_safe=True,
            )
            if meta.data is None:
                raise self._problem(meta.errors, "the alt text")
        return media_id

    async def _append(self, media_id: str, index: int, chunk: bytes) -> None:
        # The multipart body is encoded here, in memory, so that it can be sent again (after a
        # token refresh, a retry): httpx would otherwise stream it, and a stream is sent once.
        encoded = httpx.Request(
            "POST",
            "https://upload.invalid/",
            data={"segment_index": str(index)},
            files={"media": ("chunk", chunk, "application/octet-stream")},
        )
        content = encoded.read()
        await self._call(
            wire.AppendResponse,
            "POST",
            f"/2/media/upload/{media_id}/append",
            content=content,
            headers={"Content-Type": encoded.headers["Content-Type"]},
            retry_safe=True,
        )

    async def _wait_processed(self, media_id: str, info: wire.ProcessingInfo | None) -> None:
        waited = 0.0
        budget = self.settings.media_timeout
        while info is not None and info.state in _POLL_STATES_PENDING:
            delay = float(info.check_after_secs if info.check_after_secs is not None else 1)
            delay = max(delay, 0.0)
            if waited + delay > budget:
                raise TimeoutError(
                    self.name,
                    f"media {media_id} was still processing after {waited:.0f} s "
                    f"(media_timeout={budget:.0f} s)",
                )
            await self._sleep(delay)
            waited += delay
            status = await self._call(
                wire.MediaStatusResponse,
                "GET",
                "/2/media/upload",
                params={"media_id": media_id, "command": "STATUS"},
            )
            if status.data is None:
                raise self._problem(status.errors, "the upload status")
            info = status.data.processing_info
        if info is not None and info.state == "failed":
            raise APIError(
                self.name,
                None,
                "media_processing_failed",
                f"x could not process media {media_id}",
            )

    # -- reading --------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        answer = await self._call(
            wire.PostLookup,
            "GET",
            f"/2/tweets/{post_id}",
            params={
                "post.fields": _POST_FIELDS,
                "expansions": _POST_EXPANSIONS,
                "user.fields": _USER_FIELDS,
            },
        )
        if answer.data is None:
            error = self._problem(answer.errors, f"post {post_id}")
            raise error
        return mapping.post_from(answer.data, answer.includes)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """The account's posts (or ``account``'s, an X username), newest first, lazily."""
        return self._posts(account, since, limit)

    async def _posts(
        self, account: str | None, since: datetime | None, limit: int | None
    ) -> AsyncIterator[Post]:
        if limit is not None and limit <= 0:
            return
        if account is None:
            user_id = await self._my_id()
        else:
            user_id = (await self._user_by_handle(account)).id
        async for post, includes in self._pages(
            f"/2/users/{user_id}/tweets", {}, since, limit, token_param="pagination_token"
        ):
            yield mapping.post_from(post, includes)

    async def _pages(
        self,
        path: str,
        params: dict[str, Any],
        since: datetime | None,
        limit: int | None,
        *,
        token_param: str,
        minimum: int = 5,
    ) -> AsyncIterator[tuple[wire.WirePost, wire.Includes]]:
        """Posts of a paginated timeline or search, one page at a time (``meta.next_token``)."""
        count = 0
        token: str | None = None
        while True:
            query: dict[str, Any] = {
                **params,
                "max_results": 100 if limit is None else min(100, max(minimum, limit - count)),
                "post.fields": _POST_FIELDS,
                "expansions": _POST_EXPANSIONS,
                "user.fields": _USER_FIELDS,
            }
            if since is not None:
                query["start_time"] = _rfc3339(since)
            if token is not None:
                query[token_param] = token
            page = await self._call(wire.PostsPage, "GET", path, params=query)
            for problem in page.errors:
                logger.warning(
                    "x: %s: partial error: %s",
                    path,
                    redact_text(problem.detail or problem.title or ""),
                )
            for post in page.data:
                yield post, page.includes
                count += 1
                if limit is not None and count >= limit:
                    return
            token = page.meta.next_token
            if not token or not page.data:
                return

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """``GET /2/tweets/search/recent`` (the last 7 days): ``query`` is passed to X as is,
        operators included (``from:``, ``conversation_id:``, ``-is:retweet`` …)."""
        if not query.strip():
            raise ValueError("the search query must not be empty")
        return self._search(query, since, limit)

    async def _search(
        self, query: str, since: datetime | None, limit: int | None
    ) -> AsyncIterator[Post]:
        if limit is not None and limit <= 0:
            return
        async for post, includes in self._pages(
            "/2/tweets/search/recent",
            {"query": query, "sort_order": "recency"},
            since,
            limit,
            token_param="next_token",
            minimum=10,
        ):
            yield mapping.post_from(post, includes)

    # -- metrics --------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Metrics of each post, 100 ids per ``GET /2/tweets`` lookup.

        ``public_metrics`` always; with a user context also ``non_public_metrics`` and
        ``organic_metrics`` for posts of the last 30 days (X serves those to the author only;
        for others it answers with field errors, which are skipped). An id X cannot find
        (deleted, protected) is left out of the result and logged as a warning.
        """
        ids = list(dict.fromkeys(str(i) for i in post_ids))
        for post_id in ids:
            if not post_id.isdigit() or len(post_id) > 19:
                raise ValueError(f"{post_id!r} is not an X post id")
        result: dict[str, list[Metric]] = {}
        now = datetime.now(timezone.utc)
        private = [i for i in ids if _recent(i, now)] if self.user_context else []
        chosen = set(private)
        public = [i for i in ids if i not in chosen]
        for group, with_private in ((private, True), (public, False)):
            for start in range(0, len(group), _METRICS_BATCH):
                batch = group[start : start + _METRICS_BATCH]
                await self._metrics_batch(batch, with_private, now, result)
        return result

    async def _metrics_batch(
        self, batch: list[str], with_private: bool, now: datetime, out: dict[str, list[Metric]]
    ) -> None:
        fields = "public_metrics,attachments,created_at"
        media_fields = "public_metrics,type"
        if with_private:
            fields += ",non_public_metrics,organic_metrics"
            media_fields += ",non_public_metrics,organic_metrics"
        answer = await self._call(
            wire.PostsLookup,
            "GET",
            "/2/tweets",
            params={
                "ids": ",".join(batch),
                "post.fields": fields,
                "expansions": "attachments.media_keys",
                "media.fields": media_fields,
            },
        )
        for problem in answer.errors:
            if problem.type and problem.type.endswith(
                ("not-authorized-for-field", "field-unauthorized")
            ):
                logger.debug("x: private metrics not available: %s", problem.detail)
            else:
                logger.warning(
                    "x: no metrics for post %s: %s",
                    problem.resource_id or problem.value or "?",
                    problem.detail or problem.title or problem.type,
                )
        for post in answer.data:
            out[post.id] = mapping.metrics_from(post, answer.includes, now)

    # -- messages -------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """Mentions (as ``mention``, or ``reply`` / ``quote`` when they answer or quote one of
        the account's posts) and direct messages, merged newest first, lazily.

        Direct messages need a user context; without one (app-only bearer), ``kinds=None``
        reads mentions only, and asking for ``direct`` raises
        :class:`UserContextRequiredError`."""
        wanted = kinds_filter(kinds)
        if kinds is not None and "direct" in wanted:
            self._require_user("reading direct messages")
        return self._messages(wanted, since, limit, explicit=kinds is not None)

    async def _messages(
        self, wanted: frozenset[str], since: datetime | None, limit: int | None, *, explicit: bool
    ) -> AsyncIterator[Message]:
        if limit is not None and limit <= 0:
            return
        streams: list[AsyncIterator[Message]] = []
        if wanted & {"mention", "reply", "quote"}:
            streams.append(self._mentions(wanted, since))
        if "direct" in wanted and (self.user_context or explicit):
            streams.append(self._dms(since))
        heads: list[Message | None] = []
        for stream in streams:
            heads.append(await anext(stream, None))
        count = 0
        while True:
            ready = [(m.created_at, i) for i, m in enumerate(heads) if m is not None]
            if not ready:
                return
            _, index = max(ready)
            message = heads[index]
            assert message is not None
            yield message
            count += 1
            if limit is not None and count >= limit:
                return
            heads[index] = await anext(streams[index], None)

    async def _mentions(
        self, wanted: frozenset[str], since: datetime | None
    ) -> AsyncIterator[Message]:
        me = await self._my_id()
        async for post, includes in self._pages(
            f"/2/users/{me}/mentions", {}, since, None, token_param="pagination_token"
        ):
            if post.author_id == me:
                continue
            message = mapping.message_from_post(post, includes, me)
            if message.kind in wanted:
                yield message

    async def _dms(self, since: datetime | None) -> AsyncIterator[Message]:
        me = await self._my_id()
        token: str | None = None
        while True:
            query: dict[str, Any] = {
                "max_results": 100,
                "event_types": "MessageCreate",
                "dm_event.fields": _DM_FIELDS,
                "expansions": "sender_id",
                "user.fields": _USER_FIELDS,
            }
            if token is not None:
                query["pagination_token"] = token
            page = await self._call(wire.DmEventsPage, "GET", "/2/dm_events", params=query)
            for event in page.data:
                message = mapping.message_from_dm(event, page.includes)
                if since is not None and message.created_at < since:
                    return  # newest first: everything after is older
                if event.sender_id == me:
                    continue
                yield message
            token = page.meta.next_token
            if not token or not page.data:
                return

    def ex_replies(self, post_id: str, *, limit: int | None = None) -> AsyncIterator[Message]:
        """Replies in the conversation of ``post_id`` (recent search with
        ``conversation_id:<id>``, the last 7 days), newest first, as ``reply`` messages."""
        if not post_id.isdigit():
            raise ValueError(f"{post_id!r} is not an X post id")
        return self._replies(post_id, limit)

    async def _replies(self, post_id: str, limit: int | None) -> AsyncIterator[Message]:
        async for post, includes in self._pages(
            "/2/tweets/search/recent",
            {"query": f"conversation_id:{post_id}", "sort_order": "recency"},
            None,
            limit,
            token_param="next_token",
            minimum=10,
        ):
            if post.id != post_id:
                yield mapping.message_from_reply(post, includes)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a mention, reply or quote with a post in reply, a direct message with a
        direct message, or the post with id ``to`` with a reply."""
        answer = as_post(post)
        if isinstance(to, Message) and to.kind == "direct":
            return await self._send_dm(to, answer)
        target = to.id if isinstance(to, Message) else to
        return await self.publish(answer.model_copy(update={"reply_to": target}))

    async def _send_dm(self, to: Message, post: Post) -> Post:
        """``POST /2/dm_conversations/{id}/messages`` (or ``/with/{participant}/messages``).

        A DM has no idempotency key and X offers no cheap way to find one's own message again,
        so an unanswered send raises :class:`~socialkit.OutcomeUnknownError` for the
        application to decide."""
        self._require_user("sending a direct message")
        if post.poll is not None or post.quote_of is not None or post.thread:
            raise UnsupportedError(self.name, "direct_messages", "a DM carries text and one medium")
        if len(post.media) > 1:
            raise UnsupportedError(self.name, "direct_messages", "a DM carries one medium")
        text = self._text_of(post)
        body: dict[str, Any] = {}
        if text:
            body["text"] = text
        if post.media:
            media_id = await self._upload(post.media[0], _DM_CATEGORY)
            body["attachments"] = [{"media_id": media_id}]
        if to.conversation_id:
            path = f"/2/dm_conversations/{to.conversation_id}/messages"
        else:
            path = f"/2/dm_conversations/with/{to.author.id}/messages"
        answer = await self._call(wire.DmSentResponse, "POST", path, json=body, kind="create")
        if answer.data is None:
            raise self._problem(answer.errors, "the direct message")
        sent = answer.data
        return post.model_copy(
            update={
                "id": sent.dm_event_id,
                "network": self.name,
                "url": f"{mapping.WEB}/messages/{sent.dm_conversation_id}",
                "created_at": mapping.snowflake_time(sent.dm_event_id)
                or datetime.now(timezone.utc),
                "visibility": "direct",
                "raw": answer,
            }
        )


def _recent(post_id: str, now: datetime) -> bool:
    created = mapping.snowflake_time(post_id)
    return created is not None and now - created <= _PRIVATE_WINDOW
