"""The Reddit adapter: submissions, comments, media, inbox, search, votes and saves."""

from __future__ import annotations

import html
import json
import logging
import re
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import anyio
import httpx
import pydantic
from pydantic import Field, SecretStr, model_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TimeoutError,
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
    UploadedMedia,
)
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    HttpURL,
    as_post,
    kinds_filter,
    path_segment,
    text_with_link,
)
from socialkit.adapters.reddit import _mapping as mapping
from socialkit.adapters.reddit import _wire as wire
from socialkit.adapters.reddit._network import decode_reddit_error, json_errors

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["DEFAULT_SCOPES", "RedditAdapter", "RedditSettings"]

logger = logging.getLogger("socialkit.adapters.reddit")

T = TypeVar("T")

#: Scopes asked for by default (https://www.reddit.com/api/v1/scopes).
DEFAULT_SCOPES: tuple[str, ...] = (
    "identity",
    "submit",
    "edit",
    "read",
    "history",
    "privatemessages",
    "vote",
    "save",
    "flair",
    "subscribe",
    "account",
)
_MiB = 1024 * 1024
_TITLE_MAX = 300
_BODY_MAX = 40_000
#: A fullname: a thing's kind (t1 comment, t2 account, t3 link, t4 message) and base-36 id.
_FULLNAME = r"t[1-6]_[0-9a-z]{1,13}"
_POST_ID = rf"{_FULLNAME}|[0-9a-z]{{1,13}}"
_USERNAME = r"[A-Za-z0-9_-]{3,20}"
_SUBREDDIT = r"[A-Za-z0-9][A-Za-z0-9_]{1,20}"
#: Reddit's User-Agent rule: <platform>:<app ID>:<version> (by /u/<username>)
#: (https://github.com/reddit-archive/reddit/wiki/API, "Rules").
_USER_AGENT = r"\S+:\S+:\S+ \(by /u/[A-Za-z0-9_-]{3,20}\)"
#: A plain 1x1 PNG: the poster of a video published without ``Media.preview_url`` (Reddit
#: requires ``video_poster_url``).
_POSTER = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


class RedditSettings(AdapterSettings):
    """Settings of the Reddit adapter (an app from https://www.reddit.com/prefs/apps).

    - ``app_type="script"`` (a bot acting as its own account): ``client_id``,
      ``client_secret``, ``username``, ``password`` (password grant; the token is renewed the
      same way).
    - ``app_type="installed"`` (no secret) or ``"web"`` (with ``client_secret``): ``client_id``
      with a ``refresh_token`` (from ``socialkit auth login reddit``, asked with
      ``duration=permanent``), or an ``access_token`` used as is.

    ``user_agent`` is required: Reddit blocks generic ones. Use
    ``<platform>:<app ID>:<version> (by /u/<your username>)``.
    """

    base_url: HttpURL = Field(default="https://oauth.reddit.com", description="The API host.")
    token_url: HttpURL = Field(
        default="https://www.reddit.com/api/v1/access_token", description="The token endpoint."
    )
    authorize_url: HttpURL = Field(default="https://www.reddit.com/api/v1/authorize")
    app_type: Literal["script", "installed", "web"] = "script"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = Field(default=None, pattern=rf"^{_USERNAME}$")
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    subreddit: str | None = Field(
        default=None,
        pattern=rf"^{_SUBREDDIT}$",
        description="Where posts go (without r/); ex_publish takes another.",
    )
    media_timeout: float = Field(
        default=300.0, gt=0, description="Longest wait, seconds, for an image or video post."
    )
    reconcile_margin: float = Field(
        default=60.0, ge=0, description="Seconds before an unanswered submit its post may carry."
    )

    @model_validator(mode="after")
    def _credentials(self) -> RedditSettings:
        problems = []
        agent = self.user_agent
        if agent is None or re.fullmatch(_USER_AGENT, agent) is None:
            problems.append(
                "user_agent must describe the app: '<platform>:<app ID>:<version> "
                "(by /u/<your username>)', e.g. 'python:com.example.bot:1.0 (by /u/example)'"
            )
        if self.client_id is None:
            if self.require_credentials:
                problems.append(
                    "no credentials: give client_id (and the rest for your app type), or run "
                    "`socialkit auth login reddit` to log in and store a token"
                )
        elif self.app_type == "script":
            missing = [
                n for n in ("client_secret", "username", "password") if getattr(self, n) is None
            ]
            if missing and self.require_credentials:
                problems.append("a script app needs " + ", ".join(missing))
        elif self.app_type == "web" and self.client_secret is None:
            problems.append("a web app needs client_secret")
        # An installed or web app's token may be in the store (``socialkit auth login
        # reddit``): ``ensure_credentials`` checks that on ``async with``.
        if problems:
            raise ValueError("; ".join(problems))
        return self


class _PasswordGrant(httpx.Auth):
    """Bearer tokens of a script app, from the password grant (renewed on expiry or a 401)."""

    def __init__(self, adapter: RedditAdapter) -> None:
        self._adapter = adapter

    def __repr__(self) -> str:
        return "_PasswordGrant()"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._adapter._script_token(force=False)
        request.headers["Authorization"] = f"bearer {token}"
        response = yield request
        if response.status_code == 401:
            fresh = await self._adapter._script_token(force=True, stale=token)
            request.headers["Authorization"] = f"bearer {fresh}"
            yield request


def _fullname(value: object, kinds: str = "13") -> str:
    """A fullname of one of ``kinds`` (a bare base-36 id is a link, ``t3_``), checked before it
    goes into a request."""
    if not isinstance(value, str) or re.fullmatch(_POST_ID, value) is None:
        raise ValidationError(f"{value!r} is not a reddit id (t3_… post, t1_… comment)")
    name = value if value[:1] == "t" and value[2:3] == "_" else f"t3_{value}"
    if name[1] not in kinds:
        raise ValidationError(f"{value!r} is not a reddit {'/'.join('t' + k for k in kinds)} id")
    return name


class RedditAdapter(Adapter):
    """Reddit. See ``docs/networks/reddit.md`` for the app types, scopes, limits and ``ex_``
    methods.

    Ids are fullnames (``t3_abc`` a submission, ``t1_def`` a comment; a bare ``abc`` is a
    submission). Accounts: ``t2_…`` is an account id, anything else a username (``@name``,
    ``u/name`` or ``name``).
    """

    name: ClassVar[str] = "reddit"
    #: What ``socialkit auth login reddit`` asks for, with :meth:`ex_login_settings`.
    login_settings: ClassVar[tuple[str, ...]] = ("client_id", "user_agent")
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.FOLLOWERS: "Reddit's API does not list an account's followers",
        Capability.HIDE: (
            "Reddit cannot hide a comment on one's own post (moderators remove comments)"
        ),
        Capability.MUTE: "Reddit's API has no account mute (only moderators mute, in modmail)",
        Capability.NATIVE_SCHEDULING: (
            "scheduled posts are a moderator tool of the web site, not of the public API"
        ),
        Capability.PUBLISH_AUDIO: "Reddit takes no audio posts",
        Capability.PUBLISH_POLL: "the public API cannot create polls",
        Capability.REPOST: "Reddit's repost is the crosspost, which is quote() (it has a title)",
        Capability.STREAM: "Reddit has no real-time API: poll messages()",
        Capability.WEBHOOKS: "Reddit has no webhooks",
    }
    Settings: ClassVar[type[AdapterSettings]] = RedditSettings
    docs_url: ClassVar[str | None] = "https://www.reddit.com/dev/api"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_GIF,
            Capability.PUBLISH_THREAD,
            Capability.QUOTE,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.MENTIONS,
            Capability.DIRECT_MESSAGES,
            Capability.REPLY,
            Capability.SEARCH,
            Capability.TIMELINE,
            Capability.FEEDS,
            Capability.LIKE,
            Capability.BOOKMARK,
            Capability.FOLLOW,
            Capability.BLOCK,
            Capability.ACCOUNTS,
            Capability.UPLOAD,
        }
    )
    limits = Limits(
        max_text=_TITLE_MAX + 1 + _BODY_MAX,
        max_media=20,
        max_videos=1,
        mix_media=True,
        needs_text=True,
        image_max_bytes=20 * _MiB,
        gif_max_bytes=100 * _MiB,
        video_max_bytes=1024 * _MiB,
        media_types=frozenset(
            {"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "video/quicktime"}
        ),
        max_alt_text=180,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, RedditSettings)
        self.settings: RedditSettings = settings
        self._session: Session | None = None
        self._token_lock = anyio.Lock()
        self._me: wire.Me | None = None
        self._oauth2_client: OAuth2Client | None = None
        #: Sleeps between looks for a media post (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing --------------------------------------------------------------------------------

    def _agent(self) -> dict[str, str]:
        """Reddit's required User-Agent on every request, also through an injected client."""
        agent = self.settings.user_agent
        assert agent is not None
        return {"User-Agent": agent}

    async def _script_token(self, *, force: bool, stale: str | None = None) -> str:
        """The script app's access token: the stored one while it lasts, else a new one from
        the password grant (one request at a time)."""
        from socialkit.auth import Token

        s = self.settings
        async with self._token_lock:
            current = await self._tokens().get(self.name, self._account_key)
            if current is not None and not current.expires_within(60):
                value = current.access_token.get_secret_value()
                if not force or value != stale:
                    return value
            assert s.client_id is not None
            assert s.client_secret is not None
            assert s.username is not None
            assert s.password is not None
            try:
                response = await self.http.post(
                    s.token_url,
                    data={
                        "grant_type": "password",
                        "username": s.username,
                        "password": s.password.get_secret_value(),
                        "scope": " ".join(s.scopes),
                    },
                    auth=(s.client_id, s.client_secret.get_secret_value()),
                    headers={"Accept": "application/json", **self._agent()},
                )
            except httpx.TimeoutException:
                raise TimeoutError(self.name, "the token endpoint did not answer in time") from None
            except httpx.TransportError as exc:
                raise TransportError(
                    self.name, f"the token endpoint could not be reached ({type(exc).__name__})"
                ) from None
            if response.status_code == 429 or response.status_code >= 500:
                # Throttled or failing, not a refusal of the credentials: the error of the
                # status (RateLimitError with Retry-After, ServerError), Reddit's message kept.
                raise decode_reddit_error(response, self.name)
            try:
                data = response.json()
            except ValueError:
                data = None
            if (
                response.status_code != 200
                or not isinstance(data, dict)
                or "access_token" not in data
            ):
                # Reddit answers a wrong password with 200 {"error": "invalid_grant"}.
                code = data.get("error") if isinstance(data, dict) else None
                raise AuthError(
                    self.name,
                    response.status_code,
                    str(code) if code is not None else None,
                    "the password grant was refused: check client_id, client_secret, "
                    "username and password (and that the app is a script app)",
                )
            token: Token = Token.from_response(data)
            await self._tokens().put(self.name, self._account_key, token)
            return token.access_token.get_secret_value()

    async def ensure_credentials(self) -> None:
        """An installed or web app without a token in its settings needs one in the store."""
        s = self.settings
        if s.app_type == "script" or s.access_token is not None or s.refresh_token is not None:
            if s.client_id is None or (
                s.app_type == "script" and (s.username is None or s.password is None)
            ):
                raise self._not_logged_in()
            return
        if await self._tokens().get(self.name, self._account_key) is None:
            raise self._not_logged_in()

    def _not_logged_in(self) -> Exception:
        from socialkit.auth import AuthFlowError

        return AuthFlowError(
            self.name,
            code="not_logged_in",
            message=(
                f"no token in the settings and none stored for account {self._account_key!r}: "
                f"log in with `socialkit auth login reddit --account {self._account_key}` (or "
                "ex_authorization_url / ex_exchange_code), or pass refresh_token= (installed "
                "and web apps) or username= and password= (script apps)"
            ),
        )

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_id is None:
                raise ConfigurationError("reddit: the OAuth 2 flow needs client_id")
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_url,
                client_id=s.client_id,
                # Installed apps authenticate with an empty secret (HTTP Basic "client_id:").
                client_secret=s.client_secret or SecretStr(""),
                token_endpoint_auth_method="client_secret_basic",
                scopes=s.scopes,
                scope_separator=" ",
                redirect_uri=s.redirect_uri,
                # A refresh token comes only with duration=permanent
                # (https://github.com/reddit-archive/reddit/wiki/OAuth2).
                authorization_params={"duration": "permanent"},
            )
        return self._oauth2_client

    @classmethod
    def ex_login_settings(cls, given: Mapping[str, object]) -> tuple[str, ...]:
        """The settings a login asks for besides :attr:`login_settings`, by ``app_type``: a
        script app's secret, username and password (a password grant, no browser), a web
        app's secret, none for an installed app (PKCE in the browser)."""
        app_type = given.get("app_type", "script")
        if app_type == "script":
            return ("client_secret", "username", "password")
        return ("client_secret",) if app_type == "web" else ()

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a login of an installed or web app (authorization code, ``duration=permanent``
        for a refresh token). Open ``result.url``; keep ``result`` for :meth:`ex_exchange_code`."""
        return self._oauth2().begin(
            redirect_uri=redirect_uri, scopes=None if scopes is None else tuple(scopes)
        )

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code, store the token for this
        account (replacing the stored one)."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._session = None  # the next call authenticates with the new token
        self._me = None
        return token

    async def _auth(self) -> httpx.Auth:
        s = self.settings
        if s.app_type == "script":
            return _PasswordGrant(self)
        from socialkit.auth import BearerAuth

        if s.refresh_token is None and s.access_token is not None:
            return BearerAuth(s.access_token)
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.reddit._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    async def _get(self, model: type[T], path: str, params: Mapping[str, Any] | None = None) -> T:
        session = await self._api()
        response = await session.request(
            "GET", path, params={**(params or {}), "raw_json": 1}, headers=self._agent()
        )
        return self._parse(model, response)

    async def _post(
        self, path: str, data: Mapping[str, Any], *, kind: Literal["write", "create"] = "write"
    ) -> Any:
        """A form POST; its JSON answer, with ``json.errors`` raised (RATELIMIT included)."""
        session = await self._api()
        response = await session.request(
            "POST", path, data=dict(data), kind=kind, headers=self._agent()
        )
        body = self._json(response)
        error = json_errors(body, self.name, response.status_code)
        if error is not None:
            raise error
        return body

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content) if response.content else {}
        except ValueError:
            raise MalformedResponseError(
                self.name, response.status_code, "malformed_response", "the answer is not JSON"
            ) from None

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
            ) from None

    async def aclose(self) -> None:
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
        await super().aclose()
        self._session = None

    # -- the account -----------------------------------------------------------------------------

    async def _whoami(self) -> wire.Me:
        if self._me is None:
            self._me = await self._get(wire.Me, "/api/v1/me")
        return self._me

    async def me(self) -> Account:
        return mapping.account_from(await self._whoami())

    async def account(self, handle_or_id: str) -> Account:
        """An account by id (``t2_…``, through ``/api/user_data_by_account_ids``) or by
        username (``@name``, ``u/name``, ``name``; ``/user/{name}/about``)."""
        if not isinstance(handle_or_id, str):
            raise ValidationError("account needs a reddit username or t2_ id")
        if re.fullmatch(r"t2_[0-9a-z]{1,13}", handle_or_id):
            session = await self._api()
            response = await session.request(
                "GET",
                "/api/user_data_by_account_ids",
                params={"ids": handle_or_id},
                headers=self._agent(),
            )
            found = self._json(response)
            entry = found.get(handle_or_id) if isinstance(found, dict) else None
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                raise NotFoundError(self.name, 404, "not_found", f"no account {handle_or_id}")
            name = str(entry["name"])
        else:
            name = re.sub(r"^(?:@|/?u/)", "", handle_or_id)
            if re.fullmatch(_USERNAME, name) is None:
                raise ValidationError(f"{handle_or_id!r} is not a reddit username")
        about = await self._get(wire.UserAbout, f"/user/{path_segment(name)}/about")
        return mapping.account_from(about.data)

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Karma (``karma``, ``link_karma``, ``comment_karma``) and the profile's followers
        (``followers``), as they are now (Reddit keeps no history)."""
        me = await self._get(wire.Me, "/api/v1/me")
        moment = self.now()
        values = {
            "karma": (me.total_karma, "total_karma"),
            "link_karma": (me.link_karma, "link_karma"),
            "comment_karma": (me.comment_karma, "comment_karma"),
            "followers": ((me.subreddit or {}).get("subscribers"), "subreddit.subscribers"),
        }
        return [
            Metric(name=n, value=int(v), network=self.name, native_name=native, measured_at=moment)
            for n, (v, native) in values.items()
            if isinstance(v, int)
        ]

    # -- pre-flight ---------------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            if index > 0 or item.reply_to is not None:
                # A comment: no title, and only markdown text (/api/comment's ``text``); what
                # it cannot carry is refused rather than dropped (its link goes in the text).
                if item.media:
                    problems.append(
                        Problem(
                            code="unsupported",
                            message="a reddit comment is text only: it cannot carry media",
                            field=f"{prefix}media",
                        )
                    )
                if item.quote_of is not None:
                    problems.append(
                        Problem(
                            code="unsupported",
                            message="a reddit comment cannot be a crosspost",
                            field=f"{prefix}quote_of",
                        )
                    )
                if not text_with_link(item, "\n\n").strip():
                    problems.append(
                        Problem(
                            code="text_missing",
                            message="a reddit comment needs text",
                            field=f"{prefix}text",
                        )
                    )
                continue
            if len(item.text) > (self.limits.max_text or 0):
                continue  # text_too_long says it already
            title, body = mapping.split_text(item.text)
            if not title:
                problems.append(
                    Problem(
                        code="title_missing",
                        message="a reddit post needs a title: the text's first line",
                        field=f"{prefix}text",
                    )
                )
            elif len(title) > _TITLE_MAX:
                problems.append(
                    Problem(
                        code="title_too_long",
                        message=f"a reddit title (the first line) is at most {_TITLE_MAX} "
                        f"characters (this one is {len(title)})",
                        field=f"{prefix}text",
                        limit=_TITLE_MAX,
                        actual=len(title),
                    )
                )
            if body.strip() and (item.media or item.link or item.quote_of):
                problems.append(
                    Problem(
                        code="body_not_allowed",
                        message="link, media and crosspost posts have a title only (one line)",
                        field=f"{prefix}text",
                    )
                )
            if item.quote_of is not None and (item.media or item.link):
                problems.append(
                    Problem(
                        code="crosspost_alone",
                        message="a crosspost carries no link or media of its own",
                        field=f"{prefix}quote_of",
                    )
                )
            kinds = {m.kind for m in item.media}
            if "video" in kinds and len(item.media) > 1:
                problems.append(
                    Problem(
                        code="video_alone",
                        message="a reddit video post holds one video",
                        field=f"{prefix}media",
                    )
                )
            for target, name in ((item.reply_to, "reply_to"), (item.quote_of, "quote_of")):
                if target is not None and re.fullmatch(_POST_ID, target) is None:
                    problems.append(
                        Problem(
                            code="invalid_id",
                            message=f"{target!r} is not a reddit id",
                            field=f"{prefix}{name}",
                        )
                    )
        return problems

    # -- publishing ------------------------------------------------------------------------------

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        # Reddit has no idempotency key: one per publish call, kept with a record (the store)
        # for reconciliation.
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def ex_publish(
        self,
        post: Post | str,
        *,
        subreddit: str | None = None,
        flair_id: str | None = None,
        flair_text: str | None = None,
        nsfw: bool | None = None,
        spoiler: bool | None = None,
        send_replies: bool = True,
        idempotency_key: str | None = None,
    ) -> Post:
        """Publish one submission with Reddit's options: another ``subreddit``, a flair
        (``flair_id`` from the subreddit's flair list, ``flair_text`` when it is editable),
        ``nsfw`` / ``spoiler`` (default: ``Post.sensitive`` / ``Post.content_warning``)."""
        item = as_post(post)
        if item.thread or item.reply_to is not None:
            raise ValidationError("ex_publish sends one submission; use publish or reply")
        problems = self.check(item)
        if problems:
            raise InvalidPostError(self.name, problems)
        if subreddit is not None and re.fullmatch(_SUBREDDIT, subreddit) is None:
            raise ValidationError(f"{subreddit!r} is not a subreddit name")
        if flair_id is not None and re.fullmatch(r"[0-9a-f-]{36}", flair_id) is None:
            raise ValidationError(f"{flair_id!r} is not a flair template id")
        options = {
            "subreddit": subreddit,
            "flair_id": flair_id,
            "flair_text": flair_text,
            "nsfw": nsfw,
            "spoiler": spoiler,
            "sendreplies": send_replies,
        }
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await self._publish_keyed_options(item, key, options)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await self._publish_keyed_options(post, key, {})

    async def _publish_keyed_options(
        self, post: Post, key: str, options: Mapping[str, Any]
    ) -> Post:
        """Submit at most once per ``key``: the record (what, where, when) is kept in the
        store before sending; a retry under a key whose outcome was unknown first looks for
        the post among the account's newest submissions (or comments)."""
        record = await self._load_record(key)
        if record is not None and record.get("id"):
            return await self.get_post(str(record["id"]))
        started = self.now()
        if record is not None:
            started = _instant(record.get("started")) or started
            found = await self._reconcile_or_unknown(post, options, started, key)
            if found is not None:
                await self._save_record(key, {**record, "id": found.id})
                return found
        await self._save_record(key, {"started": started.isoformat()})
        try:
            posted = await self._send(post, options, started, key)
        except OutcomeUnknownError:
            raise
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        await self._save_record(key, {"started": started.isoformat(), "id": posted.id})
        return posted

    def _unknown(self, key: str, path: str) -> OutcomeUnknownError:
        return OutcomeUnknownError(self.name, "POST", path, idempotency_key=key)

    async def _send(
        self, post: Post, options: Mapping[str, Any], started: datetime, key: str
    ) -> Post:
        if post.reply_to is not None:
            return await self._comment(
                _fullname(post.reply_to, "134"), text_with_link(post, "\n\n"), key
            )
        subreddit = options.get("subreddit") or self._subreddit()
        title, body = mapping.split_text(post.text)
        data: dict[str, Any] = {
            "api_type": "json",
            "sr": subreddit,
            "title": title,
            "resubmit": "true",
            "sendreplies": "true" if options.get("sendreplies", True) else "false",
        }
        nsfw = options.get("nsfw")
        spoiler = options.get("spoiler")
        if nsfw if nsfw is not None else post.sensitive:
            data["nsfw"] = "true"
        if spoiler if spoiler is not None else post.content_warning is not None:
            data["spoiler"] = "true"
        for name in ("flair_id", "flair_text"):
            if options.get(name):
                data[name] = options[name]
        if post.quote_of is not None:
            data.update(kind="crosspost", crosspost_fullname=_fullname(post.quote_of, "3"))
        elif post.link is not None:
            data.update(kind="link", url=post.link)
        elif len(post.media) > 1:
            return await self._gallery(post, data, started, key)
        elif post.media:
            item = post.media[0]
            uploaded = await self._uploaded(item)
            if item.kind == "video":
                poster = (
                    await self._upload_new(Media.from_bytes(_POSTER, mime_type="image/png"))
                    if item.preview_url is None
                    else None
                )
                data.update(
                    kind="video",
                    url=uploaded.url,
                    video_poster_url=item.preview_url or (poster.url if poster else None),
                )
            else:
                data.update(kind="image", url=uploaded.url)
        else:
            data.update(kind="self", text=body)
        answer = await self._submit("/api/submit", data, key)
        created = (answer.get("json", {}).get("data") or {}).get("name")
        return await self._read_back(created, title, str(subreddit), started, key, "/api/submit")

    async def _read_back(
        self, created: object, title: str, subreddit: str, started: datetime, key: str, path: str
    ) -> Post:
        """The post of a submit Reddit took: by its id, else (image and video posts are
        announced on a websocket once processed) among the account's submissions. Reddit has
        the post, or will: a read that fails leaves the outcome unknown (the key's record is
        kept, so publishing again under it reconciles instead of submitting again)."""
        try:
            if isinstance(created, str):
                return await self.get_post(created)
            return await self._await_media_post(title, subreddit, started)
        except (APIError, TransportError) as exc:
            raise OutcomeUnknownError(
                self.name,
                "POST",
                path,
                idempotency_key=key,
                post_id=created if isinstance(created, str) else None,
            ) from exc

    async def _submit(
        self, path: str, data: dict[str, Any], key: str, *, as_json: bool = False
    ) -> Any:
        session = await self._api()
        try:
            if as_json:
                response = await session.request(
                    "POST", path, json=data, kind="create", headers=self._agent()
                )
            else:
                response = await session.request(
                    "POST", path, data=data, kind="create", headers=self._agent()
                )
        except OutcomeUnknownError as exc:
            raise self._unknown(key, path) from exc
        try:
            body = self._json(response)
        except MalformedResponseError as exc:
            raise self._unknown(key, path) from exc
        error = json_errors(body, self.name, response.status_code)
        if error is not None:
            raise error
        if not isinstance(body, dict):
            raise self._unknown(key, path)
        return body

    async def _gallery(self, post: Post, data: dict[str, Any], started: datetime, key: str) -> Post:
        items = []
        for item in post.media:
            uploaded = await self._uploaded(item)
            entry = {"media_id": uploaded.id, "caption": item.alt or "", "outbound_url": ""}
            items.append(entry)
        body: dict[str, Any] = {
            key_: value for key_, value in data.items() if key_ not in ("resubmit",)
        }
        for flag in ("nsfw", "spoiler", "sendreplies"):
            if flag in body:
                body[flag] = body[flag] == "true"
        body.update(items=items, show_error_list=True)
        path = "/api/submit_gallery_post.json"
        answer = await self._submit(path, body, key, as_json=True)
        found = (answer.get("json", {}).get("data") or {}).get("id")
        return await self._read_back(found, str(data["title"]), str(data["sr"]), started, key, path)

    async def _comment(self, parent: str, text: str, key: str) -> Post:
        answer = await self._submit(
            "/api/comment", {"api_type": "json", "thing_id": parent, "text": text}, key
        )
        things = ((answer.get("json") or {}).get("data") or {}).get("things") or []
        if not things or not isinstance(things[0], dict):
            raise self._unknown(key, "/api/comment")
        thing = wire.Thing.model_validate(things[0])
        if thing.kind == "t4":
            pm = wire.PrivateMessage.model_validate(thing.data)
            return Post(
                text=pm.body,
                reply_to=parent,
                id=pm.name,
                network=self.name,
                created_at=mapping._time(pm.created_utc),
            )
        return mapping.post_from_comment(wire.Comment.model_validate(thing.data), thing)

    def _subreddit(self) -> str:
        if self.settings.subreddit is None:
            raise ConfigurationError(
                "reddit: set the subreddit setting (where posts go), or use ex_publish(subreddit=…)"
            )
        return self.settings.subreddit

    async def _await_media_post(self, title: str, subreddit: str, started: datetime) -> Post:
        """The new media post, once it shows among the account's submissions."""
        waited = 0.0
        delay = 1.0
        while True:
            found = await self._find_submission(title, subreddit, started, None)
            if found is not None:
                return found
            if waited >= self.settings.media_timeout:
                raise TimeoutError(
                    self.name,
                    f"the media post did not appear within {self.settings.media_timeout:.0f} s",
                )
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)

    async def _find_submission(
        self, title: str, subreddit: str | None, started: datetime, link: str | None
    ) -> Post | None:
        me = await self._whoami()
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        page = await self._get(
            wire.Listing,
            f"/user/{path_segment(me.name)}/submitted",
            {"sort": "new", "limit": 25},
        )
        for child in page.data.children:
            if child.kind != "t3":
                continue
            link_ = wire.Link.model_validate(child.data)
            if link_.title != title or mapping._time(link_.created_utc) < since:
                continue
            if subreddit is not None and link_.subreddit.lower() != subreddit.lower():
                continue
            return mapping.post_from_link(link_, child)
        return None

    async def _find_comment(self, parent: str, text: str, started: datetime) -> Post | None:
        me = await self._whoami()
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        page = await self._get(
            wire.Listing, f"/user/{path_segment(me.name)}/comments", {"sort": "new", "limit": 25}
        )
        for child in page.data.children:
            if child.kind != "t1":
                continue
            comment = wire.Comment.model_validate(child.data)
            if (
                comment.parent_id == parent
                and comment.body == text
                and mapping._time(comment.created_utc) >= since
            ):
                return mapping.post_from_comment(comment, child)
        return None

    async def _reconcile_or_unknown(
        self, post: Post, options: Mapping[str, Any], started: datetime, key: str
    ) -> Post | None:
        try:
            if post.reply_to is not None:
                return await self._find_comment(
                    _fullname(post.reply_to, "134"), text_with_link(post, "\n\n"), started
                )
            title, _ = mapping.split_text(post.text)
            subreddit = options.get("subreddit") or self._subreddit()
            return await self._find_submission(title, subreddit, started, post.link)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            logger.warning("reddit: reconciling failed (%s); the outcome stays unknown", exc)
            raise self._unknown(key, "/api/submit") from exc

    # Idempotency records, in the store (a retry after a restart still reconciles).

    # -- media -----------------------------------------------------------------------------------

    async def _uploaded(self, item: Media) -> UploadedMedia:
        if item.uploaded is not None:
            if item.uploaded.url is None:
                raise ValidationError("this reddit upload has no URL; upload it again")
            return item.uploaded
        return await self._upload_new(item)

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload an image, GIF or video (a media lease, then the file to the lease's storage).
        Reddit ties an asset to the post that uses it: ``reusable`` is false."""
        problems = self.check(Post(text="upload", media=[media]))
        problems = [p for p in problems if p.field and p.field.startswith("media")]
        if problems:
            raise InvalidPostError(self.name, problems)
        return await self._upload_new(media)

    async def _upload_new(self, item: Media) -> UploadedMedia:
        data = await self._media_bytes(item)
        lease_answer = await self._post(
            "/api/media/asset.json",
            {"filepath": item.filename, "mimetype": item.mime_type},
        )
        try:
            lease = wire.MediaLease.model_validate(lease_answer)
        except pydantic.ValidationError:
            raise MalformedResponseError(
                self.name, 200, "malformed_response", "the media lease has no upload form"
            ) from None
        action = lease.args.action
        target = f"https:{action}" if action.startswith("//") else action
        fields = {f["name"]: f["value"] for f in lease.args.fields}
        session = await self._api()
        response = await session.request(
            "POST",
            target,
            data=fields,
            files={"file": (item.filename, data, item.mime_type)},
            auth=None,
            kind="write",
            retry_safe=True,  # the same key again: the storage overwrites, nothing doubles
            headers=self._agent(),
            bucket="media storage",
        )
        match = re.search(rb"<Location>([^<]+)</Location>", response.content)
        location = (
            html.unescape(match.group(1).decode())
            if match is not None
            else f"{target.rstrip('/')}/{fields.get('key', '')}"
        )
        return UploadedMedia(
            id=lease.asset.asset_id,
            network=self.name,
            kind=item.kind,
            mime_type=item.mime_type,
            alt=item.alt,
            size=len(data),
            width=item.width,
            height=item.height,
            url=location,
            reusable=False,
        )

    async def _media_bytes(self, media: Media) -> bytes:
        if media.url is not None and media.path is None and media.data is None:
            # From a public address only (or one the media_fetch_allow setting names).
            from socialkit._http import MediaFetcher

            fetched: bytes = await MediaFetcher.for_settings(self.settings).fetch(media)
            return fetched
        return media.read()

    # -- edit and delete -------------------------------------------------------------------------

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a comment's text, or a self post's body (``/api/editusertext``); Reddit
        titles cannot change, so the new text's first line must be the post's title."""
        name = _fullname(post_id)
        text = post.text
        if name.startswith("t3_"):
            current = await self.get_post(name)
            title, body = mapping.split_text(post.text)
            if title != mapping.split_text(current.text)[0]:
                raise ValidationError("reddit titles cannot be edited: keep the first line")
            text = body
        if len(text) > _BODY_MAX:
            raise ValidationError(f"a reddit body is at most {_BODY_MAX} characters")
        answer = await self._post(
            "/api/editusertext", {"api_type": "json", "thing_id": name, "text": text}
        )
        del answer
        return await self.get_post(name)

    async def delete(self, post_id: str) -> None:
        """Delete a submission or comment (``/api/del``)."""
        await self._post("/api/del", {"id": _fullname(post_id)})

    # -- reading ---------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """A submission or comment by id (``/api/info``)."""
        name = _fullname(post_id)
        page = await self._get(wire.Listing, "/api/info", {"id": name})
        for child in page.data.children:
            if child.kind == "t3":
                return mapping.post_from_link(wire.Link.model_validate(child.data), child)
            if child.kind == "t1":
                return mapping.post_from_comment(wire.Comment.model_validate(child.data), child)
        raise NotFoundError(self.name, 404, "not_found", f"no post {name}")

    def _listing(
        self,
        path: Callable[[], Awaitable[str]],
        params: Mapping[str, Any],
        convert: Callable[[wire.Thing], T | None],
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
        time_of: Callable[[T], datetime | None],
        ordered: bool = True,
    ) -> Paged[T]:
        """A Listing walked with ``after`` (the fullname of the last item: Reddit resumes
        right after any item); ``ordered``: newest first (``since`` ends the walk)."""

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[T]:
            query = {**params, "limit": 100 if want is None else max(1, min(100, want))}
            if network_cursor is not None:
                query["after"] = network_cursor
            page = await self._get(wire.Listing, await path(), query)
            items: list[T] = []
            cursors: list[str] = []
            for child in page.data.children:
                converted = convert(child)
                name = child.data.get("name")
                if converted is not None and isinstance(name, str):
                    items.append(converted)
                    cursors.append(name)
            # A page whose every item was filtered out (a ``kinds`` filter on the inbox) is
            # not the end of the listing: the walk reads on.
            filtered = not items and bool(page.data.children)
            return Batch(items, page.data.after, item_cursors=cursors, filtered=filtered)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=time_of,
            ordered=ordered,
        )

    def _username_path(self, account: str | None, tail: str) -> Callable[[], Awaitable[str]]:
        if account is not None:
            name = re.sub(r"^(?:@|/?u/)", "", account)
            if re.fullmatch(_USERNAME, name) is None:
                raise ValidationError(f"{account!r} is not a reddit username")

        async def path() -> str:
            user = name if account is not None else (await self._whoami()).name
            return f"/user/{path_segment(user)}/{tail}"

        return path

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's submissions (or another user's), newest first."""
        return self._listing(
            self._username_path(account, "submitted"),
            {"sort": "new"},
            _link_of,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_post_time,
        )

    def ex_comments(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's comments (or another user's), newest first."""
        return self._listing(
            self._username_path(account, "comments"),
            {"sort": "new"},
            _comment_of,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_post_time,
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
        """Submissions matching ``query`` across Reddit, newest first (``/search``)."""
        return self.ex_search(query, since=since, until=until, limit=limit, cursor=cursor)

    def ex_search(
        self,
        query: str,
        *,
        subreddit: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Submissions matching ``query``, in one ``subreddit`` (``/r/{sr}/search`` with
        ``restrict_sr``) or everywhere, newest first."""
        if not isinstance(query, str) or not query.strip():
            raise ValidationError("search needs a query")
        if len(query) > 512:
            raise ValidationError("a reddit search query is at most 512 characters")
        if subreddit is not None and re.fullmatch(_SUBREDDIT, subreddit) is None:
            raise ValidationError(f"{subreddit!r} is not a subreddit name")
        params: dict[str, Any] = {"q": query, "sort": "new", "type": "link"}
        if subreddit is not None:
            params["restrict_sr"] = "true"

        async def path() -> str:
            return "/search" if subreddit is None else f"/r/{subreddit}/search"

        return self._listing(
            path,
            params,
            _link_of,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_post_time,
        )

    def timeline(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's front page (``GET /best``): submissions of the subreddits and
        profiles it follows, in Reddit's "best" order. That order is not by time, so
        ``since``/``until`` keep the posts in the window without ending the walk early."""

        async def path() -> str:
            return "/best"

        return self._listing(
            path,
            {},
            _link_of,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_post_time,
            ordered=False,
        )

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The account's multireddits, Reddit's custom feeds (``GET /api/multi/mine``, one
        unpaged answer). A feed's id is its path, ``/user/{owner}/m/{name}``."""

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Feed]:
            multis = await self._get(wire.Multis, "/api/multi/mine")
            return Batch([mapping.feed_from(multi) for multi in multis.root])

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
        """The submissions of a multireddit, newest first (``GET /user/{owner}/m/{name}/new``):
        a :class:`Feed` from :meth:`feeds`, its path, or the name of one of the account's own
        multireddits."""
        if isinstance(feed, Feed):
            if feed.network != self.name:
                raise ValidationError(f"{feed.network} feed {feed.id!r} is not on reddit")
            given = feed.id
        else:
            given = feed
        if not isinstance(given, str):
            raise ValidationError("a reddit feed is a Feed, a multireddit path or its name")
        own = re.fullmatch(r"[A-Za-z0-9_]{1,50}", given) is not None
        if not own and re.fullmatch(wire.MULTI_PATH, given) is None:
            raise ValidationError(
                f"{given!r} is not a multireddit (/user/<owner>/m/<name>, or one of your names)"
            )

        async def path() -> str:
            if own:
                user = path_segment((await self._whoami()).name)
                return f"/user/{user}/m/{given}/new"
            return given.rstrip("/") + "/new"

        return self._listing(
            path,
            {},
            _link_of,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_post_time,
        )

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """The inbox (``/message/inbox``): comments on the account's posts, replies to its
        comments, mentions of its username and private messages, newest first."""
        wanted = kinds_filter(kinds)

        async def path() -> str:
            return "/message/inbox"

        def convert(thing: wire.Thing) -> Message | None:
            found = mapping.message_from(thing)
            return found if found is not None and found.kind in wanted else None

        return self._listing(
            path,
            {},
            convert,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a comment, a submission or a private message (``/api/comment``)."""
        target = to.id if isinstance(to, Message) else to
        _fullname(target, "134")
        return await self.publish(as_post(post).model_copy(update={"reply_to": target}))

    # -- metrics and engagement ------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """``likes`` (the score), ``replies`` (comment count) and ``upvote_ratio`` of each
        submission; ``likes`` of each comment. ``/api/info``, 100 ids a call."""
        names = {given: _fullname(given) for given in post_ids}
        result: dict[str, list[Metric]] = {}
        moment = self.now()
        wanted = list(dict.fromkeys(names.values()))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(wanted), 100):
            page = await self._get(
                wire.Listing, "/api/info", {"id": ",".join(wanted[start : start + 100])}
            )
            for child in page.data.children:
                found[str(child.data.get("name"))] = child.data
        for given, name in names.items():
            data = found.get(name)
            if data is None:
                continue
            values: list[tuple[str, Any, str]] = [("likes", data.get("score"), "score")]
            if name.startswith("t3_"):
                values.append(("replies", data.get("num_comments"), "num_comments"))
                values.append(("upvote_ratio", data.get("upvote_ratio"), "upvote_ratio"))
            result[given] = [
                Metric(
                    name=metric,
                    value=value,
                    network=self.name,
                    post_id=given,
                    native_name=native,
                    measured_at=moment,
                )
                for metric, value, native in values
                if isinstance(value, int | float) and not isinstance(value, bool)
            ]
        return result

    async def like(self, post_id: str) -> None:
        """Upvote (``/api/vote`` dir=1); voting again changes nothing."""
        await self._post("/api/vote", {"id": _fullname(post_id), "dir": "1"})

    async def unlike(self, post_id: str) -> None:
        """Take the vote back (``/api/vote`` dir=0)."""
        await self._post("/api/vote", {"id": _fullname(post_id), "dir": "0"})

    async def bookmark(self, post_id: str) -> None:
        """Save (``/api/save``)."""
        await self._post("/api/save", {"id": _fullname(post_id)})

    async def unbookmark(self, post_id: str) -> None:
        """Unsave (``/api/unsave``)."""
        await self._post("/api/unsave", {"id": _fullname(post_id)})

    async def _username(self, account: Account | str) -> str:
        """A username; a ``t2_`` id is looked up first."""
        if isinstance(account, str) and re.fullmatch(r"t2_[0-9a-z]{1,13}", account):
            found = await self.account(account)
            assert found.handle is not None
            return found.handle
        return _username_of(account)

    async def follow(self, account: Account | str) -> None:
        """Follow a user: subscribe to their profile (``/api/subscribe``, ``sr_name=u_<name>``,
        scope ``subscribe``); following twice changes nothing."""
        name = await self._username(account)
        await self._post("/api/subscribe", {"action": "sub", "sr_name": f"u_{name}"})

    async def unfollow(self, account: Account | str) -> None:
        """Stop following a user (``/api/subscribe`` with ``action=unsub``)."""
        name = await self._username(account)
        await self._post("/api/subscribe", {"action": "unsub", "sr_name": f"u_{name}"})

    async def block(self, account: Account | str) -> None:
        """Block a user (``/api/block_user``, scope ``account``); blocking twice changes
        nothing."""
        name = await self._username(account)
        await self._post("/api/block_user", {"name": name})

    async def unblock(self, account: Account | str) -> None:
        """Unblock a user (``/api/unfriend`` with ``type=enemy`` in the account's own
        container); unblocking a user not blocked changes nothing."""
        name = await self._username(account)
        me = await self._whoami()
        await self._post(
            "/api/unfriend", {"name": name, "type": "enemy", "container": f"t2_{me.id}"}
        )


def _username_of(account: Account | str) -> str:
    name = account.handle if isinstance(account, Account) else account
    if not isinstance(name, str):
        raise ValidationError("a reddit account needs its username")
    name = re.sub(r"^(?:@|/?u/)", "", name)
    if re.fullmatch(_USERNAME, name) is None:
        raise ValidationError(f"{name!r} is not a reddit username")
    return name


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _post_time(post: Post) -> datetime | None:
    return post.created_at


def _link_of(thing: wire.Thing) -> Post | None:
    if thing.kind != "t3":
        return None
    return mapping.post_from_link(wire.Link.model_validate(thing.data), thing)


def _comment_of(thing: wire.Thing) -> Post | None:
    if thing.kind != "t1":
        return None
    return mapping.post_from_comment(wire.Comment.model_validate(thing.data), thing)
