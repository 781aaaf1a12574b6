"""The X (API v2) adapter: publishing, media, reading, metrics, messages and search."""

from __future__ import annotations

import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import anyio
import httpx

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    DuplicateError,
    MalformedResponseError,
    OutcomeUnknownError,
    TimeoutError,
    TransportError,
    UnsupportedError,
    ValidationError,
)
from socialkit._http import redact_text
from socialkit._models import (
    Account,
    Feed,
    LazyRaw,
    Media,
    Message,
    MessageKind,
    Metric,
    Post,
    Problem,
    RawPage,
    UploadedMedia,
)
from socialkit._paging import Batch, Fetch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    as_post,
    check_id,
    kinds_filter,
    text_with_link,
)
from socialkit.adapters.x import _mapping as mapping
from socialkit.adapters.x import _wire as wire
from socialkit.adapters.x._settings import DEFAULT_SCOPES, XSettings
from socialkit.text import count_x, split_thread, url_spans, x_invalid_characters
from socialkit.text._bounds import over_limit

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit._stream import EventStream, StreamKind, StreamPolicy
    from socialkit.adapters.x._stream import Rule
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["DEFAULT_SCOPES", "UserContextRequiredError", "XAdapter", "XSettings"]

logger = logging.getLogger("socialkit.adapters.x")

T = TypeVar("T")


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
#: Pages of the account's timeline a reconciliation reads at most (100 posts a page).
_RECONCILE_PAGES = 10
_POST_CATEGORY = {"image": "tweet_image", "gif": "tweet_gif", "video": "tweet_video"}
_DM_CATEGORY = {"image": "dm_image", "gif": "dm_gif", "video": "dm_video"}

# Fields asked for with every post (``PostFieldsParameter`` enum). ``author_id``,
# ``in_reply_to_user_id`` and ``referenced_posts`` come with the expansions of the same names;
# media and polls with ``attachments.*`` and the media / poll fields, so that a post reads
# back with what it was published with.
_POST_FIELDS = "attachments,conversation_id,created_at,entities,id,lang,public_metrics,text"
_POST_EXPANSIONS = (
    "attachments.media_keys,attachments.poll_ids,author_id,in_reply_to_user_id,referenced_posts"
)
_MEDIA_FIELDS = "alt_text,duration_ms,height,media_key,preview_image_url,type,url,variants,width"
_POLL_FIELDS = "duration_minutes,end_datetime,id,options,voting_status"
_LIST_FIELDS = "created_at,description,follower_count,id,member_count,name,private"
_USER_FIELDS = "id,name,profile_image_url,public_metrics,url,username"
_DM_FIELDS = "created_at,dm_conversation_id,event_type,id,text"

_PRIVATE_WINDOW = timedelta(days=30)
_SEARCH_WINDOW = timedelta(days=7)
#: How long an unused upload is reused for a retried publish (X keeps it 24 hours).
_MEDIA_REUSE = timedelta(hours=23)
#: How many idempotency records an adapter keeps in memory without a store.
_MEMORY_RECORDS = 10_000
#: X ids (posts, users, lists, media): the ``^[0-9]{1,19}$`` of the description.
_ID_PATTERN = r"[0-9]{1,19}"
_USERNAME_PATTERN = r"[A-Za-z0-9_]{1,15}"
_NO_BLOCK = (
    "X API v2 has no endpoint to block or unblock an account (GET /2/users/{id}/blocking only "
    "lists blocks); mute is offered"
)
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


def _rfc3339(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("since/until must be timezone-aware datetimes")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _post_id(value: object) -> str:
    """An X post id (1–19 digits), checked before it goes into a path or a body."""
    return check_id("x", value, _ID_PATTERN, "post id")


def _username(value: str, given: str) -> str:
    if re.fullmatch(_USERNAME_PATTERN, value) is None:
        raise ValidationError(f"{given!r} is not an X username (1-15 letters, digits or _)")
    return value


def _post_query() -> dict[str, str]:
    return {
        "post.fields": _POST_FIELDS,
        "expansions": _POST_EXPANSIONS,
        "user.fields": _USER_FIELDS,
        "media.fields": _MEDIA_FIELDS,
        "poll.fields": _POLL_FIELDS,
    }


def _page_size(want: int | None, low: int, high: int) -> int:
    return high if want is None else max(low, min(high, want))


def _split_cursor(cursor: str) -> tuple[str, str]:
    kind, sep, value = cursor.partition(":")
    if not sep:
        raise ValidationError("this cursor belongs to another kind of iterator")
    return kind, value


def _token(cursor: str) -> str:
    kind, value = _split_cursor(cursor)
    if kind != "t" or not value:
        raise ValidationError("this cursor belongs to another kind of iterator")
    return value


def _post_from(post: wire.WirePost, expansions: mapping.Expansions, raw: LazyRaw) -> Post:
    return mapping.post_from(post, expansions, raw=raw)


def _page_posts(body: bytes) -> list[wire.WirePost]:
    """The posts of a page's body (the ``raw`` of the posts read from it)."""
    return wire.PostsPage.model_validate_json(body).data


def _page_users(body: bytes) -> list[wire.WireUser]:
    """The users a page's body includes (the ``raw`` of their accounts)."""
    return wire.PostsPage.model_validate_json(body).includes.users


def _post_time(post: Post) -> datetime | None:
    return post.created_at


def _message_time(message: Message) -> datetime | None:
    return message.created_at


def _parse_instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


class XAdapter(Adapter):
    """X (API v2). See ``docs/networks/x.md`` for credentials, limits and ``ex_`` methods."""

    name: ClassVar[str] = "x"
    #: What ``socialkit auth login x`` asks for (``--confidential``: the client secret too).
    login_settings: ClassVar[tuple[str, ...]] = ("client_id",)
    Settings: ClassVar[type[AdapterSettings]] = XSettings
    docs_url: ClassVar[str | None] = "https://docs.x.com/x-api"
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.BLOCK: _NO_BLOCK,
        Capability.COMMENTS: "X has replies, not comments: they come from messages() as 'reply'",
        Capability.NATIVE_SCHEDULING: "X API v2 has no scheduled posts for an account",
        Capability.PUBLISH_AUDIO: "X does not take audio files (images, GIFs and videos only)",
    }
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
            Capability.LIKE,
            Capability.REPOST,
            Capability.BOOKMARK,
            Capability.FOLLOW,
            Capability.MUTE,
            Capability.HIDE,
            Capability.ACCOUNTS,
            Capability.FOLLOWERS,
            Capability.TIMELINE,
            Capability.FEEDS,
            Capability.UPLOAD,
            Capability.STREAM,
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
        self._me: Account | None = None
        #: Idempotency records of publish when no ``store`` is configured.
        self._records: OrderedDict[str, dict[str, Any]] = OrderedDict()
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

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_id is None:
                raise ConfigurationError(
                    "x: the OAuth 2.0 flow needs client_id (and client_secret for a "
                    "confidential client)"
                )
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_url or f"{s.base_url}/2/oauth2/token",
                client_id=s.client_id,
                client_secret=s.client_secret,
                scopes=s.scopes,
                redirect_uri=s.redirect_uri,
            )
        return self._oauth2_client

    async def ensure_credentials(self) -> None:
        """With an OAuth 2.0 client and no token in the settings, a token must be stored.

        Raises ``AuthFlowError`` naming the login command. No request (reads the token store).
        """
        s = self.settings
        if s.auth_mode != "oauth2" or s.client_id is None:
            return
        if s.access_token is not None or s.refresh_token is not None:
            return
        if await self._tokens().get("x", self._account_key) is None:
            from socialkit.auth import AuthFlowError

            raise AuthFlowError(
                self.name,
                code="not_logged_in",
                message=(
                    f"no access_token or refresh_token setting and no stored token for "
                    f"account {self._account_key!r}; log in first with `socialkit auth login "
                    f"x --account {self._account_key}` (or ex_exchange_code), or pass "
                    "access_token= or refresh_token="
                ),
            )

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
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.x._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    async def _call(self, model: type[T], method: str, path: str, **kwargs: Any) -> T:
        """Send through the pipeline and validate the 2xx body as ``model`` (the pipeline's
        typed parse: a body that does not match is a ``MalformedResponseError``)."""
        session = await self._api()
        return await session.request_model(model, method, path, **kwargs)

    def _problem(self, problems: list[wire.Problem], what: str) -> APIError:
        """The error for an answer without ``data``: its first problem, or a malformed body."""
        from socialkit.adapters.x._network import problem_error

        if problems:
            return problem_error(problems[0], None, network=self.name)
        return MalformedResponseError(
            self.name, None, "malformed_response", f"the answer has no data for {what}"
        )

    async def aclose(self) -> None:
        """Close the OAuth client and the HTTP client (unless it was given). No request."""
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

        Raises ``ConfigurationError`` without ``client_id``. Network calls: none.
        """
        wanted = list(self.settings.scopes if scopes is None else scopes)
        if "offline.access" not in wanted:
            wanted.append("offline.access")
        return self._oauth2().begin(redirect_uri=redirect_uri, scopes=wanted)

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code, store the token for this
        account (the store's previous token, if any, is replaced).

        Returns the token. Raises ``StateMismatchError`` / ``AuthFlowError`` before any request
        for a redirect that does not match. Network calls: ``POST /2/oauth2/token``."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._session = None  # the next call authenticates with the new token
        self._me = None
        return token

    # -- pre-flight -----------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
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
                over = over_limit(self._text_of(item), count_x, 280)
                if over is not None:
                    length, exact = over
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
        problems.extend(self._duplicate_thread_problems(post))
        return problems

    def _duplicate_thread_problems(self, post: Post) -> list[Problem]:
        """X refuses a post whose text repeats one of the account's recent posts (403
        "duplicate content"), so a thread that repeats a text would stop half way: each
        repeat is a problem found before anything is sent. Texts are compared as X compares
        them (HTML entities decoded, NFC, whitespace collapsed); posts without text are not
        compared (X's check needs text)."""
        problems: list[Problem] = []
        if not post.thread:
            return problems  # one post repeats nothing
        seen: dict[str, int] = {}
        for index, item in enumerate(post.posts()):
            text = " ".join(mapping.normalise(self._text_of(item)).split())
            if not text:
                continue
            first = seen.setdefault(text, index)
            if first == index:
                continue
            where = "the first post" if first == 0 else f"thread[{first - 1}]"
            problems.append(
                Problem(
                    code="duplicate_text",
                    message=(
                        f"thread[{index - 1}] repeats the text of {where}; x refuses "
                        "duplicate posts, so the thread would stop there"
                    ),
                    field=f"thread[{index - 1}].text",
                )
            )
        return problems

    @staticmethod
    def _text_of(post: Post) -> str:
        return text_with_link(post)

    def ex_split_thread(self, text: str, *, numbering: bool | str = False) -> list[str]:
        """Split ``text`` into posts that each fit X's 280 weighted characters (URLs count 23,
        emoji 2, CJK 2), cutting between paragraphs, sentences, then words; never inside a URL
        or an emoji. Build the thread with ``Post(text=parts[0], thread=[Post(text=t) for t in
        parts[1:]])``. Network calls: none."""
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
        """The authenticated user (``user_id`` for an app-only token).

        Raises ``AuthError`` and the pipeline's errors. Network calls: ``GET /2/users/me`` (or
        ``GET /2/users/:id``), once per adapter."""
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
        :class:`~socialkit.UnsupportedError`. Network calls: ``GET /2/users/me`` with
        ``public_metrics``."""
        if since is not None or until is not None:
            raise self.unsupported(
                Capability.ACCOUNT_METRICS,
                "x reports only current account counts; since/until windows are not offered",
            )
        user = await self._user()
        return mapping.account_metrics_from(user, datetime.now(timezone.utc))

    async def _user_by_handle(self, handle: str) -> wire.WireUser:
        username = _username(handle.removeprefix("@"), handle)
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

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        # X has no idempotency key: the adapter makes one per publish call (the posts of a
        # thread get ``key/1``, ``key/2`` …) and keeps a record under it for reconciliation.
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """``POST /2/tweets``, at most once per ``idempotency_key``.

        Before the create, the key's record (when/what was sent, the media ids) is kept in
        the ``store`` setting (in memory without one). Publishing again with a key whose
        post exists returns that post; with a key whose outcome was unknown, the account's
        recent posts are searched first (:meth:`_reconcile`) and the post is sent only when
        it is not among them, with the same media."""
        self._require_user("publishing")
        for target in (post.reply_to, post.quote_of):
            if target is not None:
                _post_id(target)  # before any upload or record
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        record = await self._load_record(key)
        if record is not None and record.get("post_id"):
            logger.info("x: idempotency key %s was published as %s", key, record["post_id"])
            return await self.get_post(str(record["post_id"]))
        reply = post.reply_to
        if record is not None:
            started = _parse_instant(record.get("started")) or self.now()
            media_ids = [str(i) for i in record.get("media_ids") or []]
            if len(media_ids) != len(post.media) or self.now() - started > _MEDIA_REUSE:
                media_ids = []
            probe = self._body(post, media_ids)
            found = await self._reconcile_or_unknown(probe, started, key, len(post.media))
            if found is not None:
                await self._save_record(key, {**record, "post_id": found.id})
                return found
            if not media_ids:
                media_ids = [await self._upload(item, _POST_CATEGORY) for item in post.media]
        else:
            started = self.now()
            media_ids = [await self._upload(item, _POST_CATEGORY) for item in post.media]
        started_at = started.isoformat()
        await self._save_record(
            key, {"started": started_at, "media_ids": media_ids, "reply_to": reply}
        )
        body = self._body(post, media_ids)
        try:
            created = await self._create(
                post, body, key=key, started=started, retried=record is not None
            )
        except (APIError, TransportError):
            # A definite answer (X refused the post, or it was never sent): nothing to
            # reconcile later, and a retry under this key is a fresh attempt.
            await self._drop_record(key)
            raise
        await self._save_record(
            key, {"started": started_at, "media_ids": media_ids, "post_id": created.id}
        )
        return created

    def _body(self, post: Post, media_ids: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self._text_of(post)}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if post.reply_to is not None:
            body["reply"] = {"in_reply_to_tweet_id": _post_id(post.reply_to)}
        if post.quote_of is not None:
            body["quote_tweet_id"] = _post_id(post.quote_of)
        if post.poll is not None:
            body["poll"] = {
                "options": list(post.poll.options),
                "duration_minutes": int(post.poll.duration.total_seconds() // 60),
            }
        return body

    # Idempotency records: in the store setting's Store when there is one (Adapter's, so that
    # a retry after a restart still reconciles), else in this adapter's memory.

    async def _load_record(self, key: str) -> dict[str, Any] | None:
        if self.settings.store is not None:
            return await super()._load_record(key)
        kept = self._records.get(key)
        return None if kept is None else dict(kept)

    async def _save_record(self, key: str, value: dict[str, Any]) -> None:
        if self.settings.store is not None:
            await super()._save_record(key, value)
            return
        # In memory the record is kept as it is (no JSON to write and read back): the callers
        # hand over dicts of their own, and _load_record returns a copy.
        self._records[key] = value
        while len(self._records) > _MEMORY_RECORDS:
            # Bounded: the oldest record goes first (a retry comes soon after a failure).
            self._records.popitem(last=False)

    async def _drop_record(self, key: str) -> None:
        if self.settings.store is not None:
            await super()._drop_record(key)
        else:
            self._records.pop(key, None)

    async def edit(self, post_id: str, post: Post) -> Post:
        """Edit a published post (X creates a new version with a new id; editing needs an
        account that may edit, within X's window and number of edits).

        Returns the new version. Raises ``UserContextRequiredError`` with an app-only token,
        ``InvalidPostError`` before any request, and the pipeline's errors. Network calls: the
        media upload calls per attachment, ``POST /2/tweets`` with ``edit_options``."""
        self._require_user("editing")
        post_id = _post_id(post_id)
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
        return await self._create(post, body, key=None, started=self.now(), retried=False)

    async def _create(
        self,
        post: Post,
        body: dict[str, Any],
        *,
        key: str | None,
        started: datetime,
        retried: bool,
    ) -> Post:
        """``POST /2/tweets``, reconciled when its outcome is unknown.

        X has no idempotency key, so the pipeline does not resend a create that may have
        arrived (a timeout after sending, a 5xx, a 2xx whose body cannot be read). Then the
        account's newest posts are read (``GET /2/users/{id}/tweets`` from shortly before the
        attempt began): a post with the same text, media and reply / quote target is the one
        created, and is returned. If none is found, a post with text is sent once more (X's
        duplicate check refuses a second copy); a media-only post is not (no such check).
        A duplicate refusal after an unknown outcome means the first attempt arrived: the
        timeline is read again, and the outcome stays unknown rather than reporting the
        account's own post as a duplicate. :class:`~socialkit.OutcomeUnknownError` carries
        ``key``; reconciliation that fails itself (a rate limit, a timeout) raises it too.
        """
        media_count = len((body.get("media") or {}).get("media_ids") or [])
        try:
            answer = await self._send_create(body, key)
        except OutcomeUnknownError:
            logger.warning("x: the outcome of a post is unknown; reconciling")
            found = await self._reconcile_or_unknown(body, started, key, media_count)
            if found is not None:
                return found
            if not mapping.normalise(body.get("text", "")).strip():
                # A media-only post has no text for X's duplicate check to catch a second
                # copy, and a timeline that lags would make a resend publish it twice.
                raise self._unknown(key) from None
            try:
                answer = await self._send_create(body, key)
            except DuplicateError:
                found = await self._reconcile_or_unknown(body, started, key, media_count)
                if found is not None:
                    return found
                raise self._unknown(key) from None
        except DuplicateError:
            if not retried:
                raise
            # An earlier call under this key had an unknown outcome: the duplicate is it.
            found = await self._reconcile_or_unknown(body, started, key, media_count)
            if found is not None:
                return found
            raise self._unknown(key) from None
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

    async def _send_create(self, body: dict[str, Any], key: str | None) -> wire.CreatePostResponse:
        try:
            answer = await self._call(
                wire.CreatePostResponse, "POST", "/2/tweets", json=body, kind="create"
            )
        except OutcomeUnknownError as exc:
            raise self._unknown(key) from exc
        except MalformedResponseError as exc:
            # A 2xx whose body cannot be read: the post may well exist.
            raise self._unknown(key) from exc
        if answer.data is None:
            # A 2xx without the new post's id: no more a refusal than an unreadable body.
            raise self._unknown(key) from self._problem(answer.errors, "the new post")
        return answer

    def _unknown(self, key: str | None) -> OutcomeUnknownError:
        return OutcomeUnknownError(self.name, "POST", "/2/tweets", idempotency_key=key)

    async def _reconcile_or_unknown(
        self, body: dict[str, Any], started: datetime, key: str | None, media_count: int
    ) -> Post | None:
        """:meth:`_reconcile`, whose own failure (a rate limit, a timeout, an error answer)
        leaves the outcome unknown: :class:`~socialkit.OutcomeUnknownError`, never an error
        that would read as "not sent"."""
        try:
            return await self._reconcile(body, started, media_count)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            logger.warning("x: reconciling failed (%s); the outcome stays unknown", exc)
            raise self._unknown(key) from exc

    async def _posts_since(
        self, user_id: str, since: datetime
    ) -> list[tuple[wire.WirePost, wire.Includes]]:
        """The account's posts since ``since`` with their page's includes, every page of them
        (a busy account can post more than a page's worth while an answer is lost), up to
        ``_RECONCILE_PAGES`` pages."""
        found: list[tuple[wire.WirePost, wire.Includes]] = []
        token: str | None = None
        for _ in range(_RECONCILE_PAGES):
            params: dict[str, Any] = {
                **_post_query(),
                "max_results": 100,
                "start_time": _rfc3339(since),
            }
            if token is not None:
                params["pagination_token"] = token
            answer = await self._call(
                wire.PostsPage, "GET", f"/2/users/{user_id}/tweets", params=params
            )
            found.extend((post, answer.includes) for post in answer.data)
            token = answer.meta.next_token
            if token is None:
                return found
        # More than that many posts in the window: what was not read cannot be ruled out.
        # (the caller turns this into the publish's own OutcomeUnknownError with its key).
        raise OutcomeUnknownError(self.name, "GET", f"/2/users/{user_id}/tweets")

    async def _reconcile(
        self, body: dict[str, Any], started: datetime, media_count: int
    ) -> Post | None:
        """The post that an unanswered create made, if the account's timeline shows it:
        same text (links compared without their addresses, which X replaces with t.co),
        same reply and quote targets, and the same media (by id when known, else by count)."""
        text = mapping.normalise(body.get("text", ""))
        wanted = mapping.comparable_text(text, url_spans(text))
        reply = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        quote = body.get("quote_tweet_id")
        media_ids = [str(i) for i in (body.get("media") or {}).get("media_ids") or []]
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        user_id = await self._my_id()
        for candidate, includes in await self._posts_since(user_id, since):
            created = _made_at(candidate.created_at, candidate.id)
            if created is not None and created < since:
                continue
            theirs = mapping.normalise(candidate.text)
            if mapping.comparable_text(theirs, url_spans(theirs)) != wanted:
                continue
            if candidate.reference("replied_to") != reply or candidate.reference("quoted") != quote:
                continue
            keys = (candidate.attachments.media_keys if candidate.attachments else None) or []
            if media_ids and keys and sorted(k.split("_")[-1] for k in keys) != sorted(media_ids):
                continue
            if not media_ids and len(keys) != media_count:
                continue
            logger.info("x: the unanswered post was published as %s", candidate.id)
            return mapping.post_from(candidate, includes)
        return None

    async def delete(self, post_id: str) -> None:
        """Delete one of the account's posts.

        Raises ``ValidationError`` for an id that is not a post id (before any request),
        ``UserContextRequiredError`` with an app-only token, ``NotFoundError`` and the
        pipeline's errors. Network calls: ``DELETE /2/tweets/:id``."""
        self._require_user("deleting a post")
        post_id = _post_id(post_id)
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
        # From a public address only (or one the media_fetch_allow setting names).
        from socialkit._http import MediaFetcher

        return await MediaFetcher.for_settings(self.settings).fetch(media)

    async def _upload(self, media: Media, categories: dict[str, str]) -> str:
        """The media id of ``media``: an earlier :meth:`upload` is reused as is (its alt text
        set again when ``Media.from_upload`` replaced it), anything else is uploaded."""
        uploaded = media.uploaded
        if uploaded is None:
            return (await self._upload_new(media, categories))[0]
        if uploaded.network != self.name:
            raise ValidationError(f"media uploaded to {uploaded.network} cannot be used on x")
        media_id = check_id(self.name, uploaded.id, _ID_PATTERN, "media id")
        if uploaded.expires_at is not None and uploaded.expires_at <= self.now():
            raise ValidationError(
                f"upload {media_id} expired at {uploaded.expires_at.isoformat()}; upload again"
            )
        if media.alt and media.alt != uploaded.alt:
            await self._set_alt(media_id, media.alt)
        return media_id

    async def _upload_new(self, media: Media, categories: dict[str, str]) -> tuple[str, int | None]:
        """Upload one medium in chunks and wait until X has processed it; returns its id and
        how many seconds X keeps it (``expires_after_secs``).

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
            await self._set_alt(media_id, media.alt)
        expires = final.data.expires_after_secs or init.data.expires_after_secs
        return media_id, expires

    async def _set_alt(self, media_id: str, alt: str) -> None:
        meta = await self._call(
            wire.MetadataResponse,
            "POST",
            "/2/media/metadata",
            json={"id": media_id, "metadata": {"alt_text": {"text": alt}}},
            retry_safe=True,
        )
        if meta.data is None:
            raise self._problem(meta.errors, "the alt text")

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
        """One post by id, with its media, poll, quote and reply references.

        Raises ``ValidationError`` for an id that is not a post id (before any request),
        ``NotFoundError`` and the pipeline's errors. Network calls: ``GET /2/tweets/:id`` with
        the expansions it needs."""
        post_id = _post_id(post_id)
        answer = await self._call(
            wire.PostLookup, "GET", f"/2/tweets/{post_id}", params=_post_query()
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
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's posts (or ``account``'s: ``@name`` or a name is a handle, a string of
        digits an id), newest first: ``GET /2/users/{id}/tweets`` with ``start_time`` /
        ``end_time``; the cursor resumes with ``until_id`` right after the last post read."""
        if account is not None:
            self._account_ref(account)  # bad input fails here, before any request

        resolved: list[str] = []

        async def path() -> str:
            if not resolved:  # looked up once per walk, not once per page
                if account is None:
                    resolved.append(await self._my_id())
                else:
                    resolved.append(await self._user_id(account))
            return f"/2/users/{resolved[0]}/tweets"

        return self._post_paged(path, {}, since, until, limit, cursor)

    def _post_paged(
        self,
        path: Callable[[], Awaitable[str]],
        params: dict[str, Any],
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
        *,
        token_param: str = "pagination_token",  # noqa: S107 - a query parameter's name
        minimum: int = 5,
        until_id: bool = True,
        time_window: timedelta | None = None,
    ) -> Paged[Post]:
        """A Paged of posts over one of X's post timelines (user posts, mentions, search,
        the home timeline)."""
        fetch = self._timeline_fetch(
            path,
            params,
            since,
            until,
            _post_from,
            token_param=token_param,
            minimum=minimum,
            until_id=until_id,
            time_window=time_window,
        )
        return Paged(
            fetch, since=since, until=until, limit=limit, cursor=cursor, time_of=_post_time
        )

    def _timeline_fetch(
        self,
        path: Callable[[], Awaitable[str]],
        params: dict[str, Any],
        since: datetime | None,
        until: datetime | None,
        convert: Callable[[wire.WirePost, mapping.Expansions, LazyRaw], T | None],
        *,
        token_param: str,
        minimum: int,
        until_id: bool,
        time_window: timedelta | None = None,
        time_params: bool = True,
    ) -> Fetch[T]:
        """The fetch function of a :class:`~socialkit.Paged` over a post timeline.

        ``since`` / ``until`` go to X as ``start_time`` / ``end_time`` (``time_window``: how
        far back the endpoint reaches; an older ``since`` is left to Paged's own filter). The
        network cursor is ``t:<next_token>`` between pages, and, where the endpoint takes
        ``until_id``, ``u:<id>`` after each post, so that a walk resumes right after the last
        post it yielded even when posts were deleted or added in between. ``convert`` may drop
        a post (``None``: own posts among mentions, say). The page's body is kept once for the
        ``raw`` of its items (decoded when read), and its expansions are indexed once."""
        start_time = end_time = None
        if time_params and since is not None:
            earliest = None if time_window is None else self.now() - time_window
            if earliest is None or since > earliest:
                start_time = _rfc3339(since)
        if time_params and until is not None:
            # end_time is exclusive and in whole seconds: one second later keeps ``until``'s
            # own second; Paged drops anything newer than ``until`` itself.
            end_time = _rfc3339(until.replace(microsecond=0) + timedelta(seconds=1))

        async def fetch(cursor: str | None, want: int | None) -> Batch[T]:
            target = await path()
            query: dict[str, Any] = {
                **params,
                **_post_query(),
                "max_results": _page_size(want, minimum, 100),
            }
            if start_time is not None:
                query["start_time"] = start_time
            if end_time is not None:
                query["end_time"] = end_time
            if cursor is not None:
                kind, value = _split_cursor(cursor)
                if kind == "u" and until_id:
                    query["until_id"] = check_id(self.name, value, _ID_PATTERN, "post id")
                elif kind == "t":
                    query[token_param] = value
                else:
                    raise ValidationError("this cursor belongs to another kind of iterator")
            session = await self._api()
            response = await session.request("GET", target, params=query)
            page = session.parse_model(wire.PostsPage, response)
            self._log_partial(target, page.errors)
            body = response.content
            expansions = mapping.Expansions(page.includes, RawPage(body, _page_users))
            raws = RawPage(body, _page_posts)
            items: list[T] = []
            marks: list[str] = []
            for index, post in enumerate(page.data):
                converted = convert(post, expansions, raws.item(index))
                if converted is not None:
                    items.append(converted)
                    marks.append(f"u:{post.id}")
            token = page.meta.next_token
            following = f"t:{token}" if token and page.data else None
            # A page of dropped posts only is not the end: the walk reads on.
            filtered = not items and bool(page.data)
            return Batch(items, following, marks if until_id else None, filtered=filtered)

        return fetch

    def _log_partial(self, what: str, problems: list[wire.Problem]) -> None:
        for problem in problems:
            logger.warning(
                "x: %s: partial error: %s",
                what,
                redact_text(problem.detail or problem.title or ""),
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
        """``GET /2/tweets/search/recent`` (the last 7 days): ``query`` is passed to X as is,
        operators included (``from:``, ``conversation_id:``, ``-is:retweet`` …)."""
        if not query.strip():
            raise ValidationError("the search query must not be empty")

        async def path() -> str:
            return "/2/tweets/search/recent"

        return self._post_paged(
            path,
            {"query": query, "sort_order": "recency"},
            since,
            until,
            limit,
            cursor,
            token_param="next_token",
            minimum=10,
            time_window=_SEARCH_WINDOW,
        )

    # -- real time ------------------------------------------------------------------------

    def stream(
        self,
        *,
        kinds: Iterable[StreamKind] | None = None,
        query: str | Iterable[str] | None = None,
        cursor: str | None = None,
        policy: StreamPolicy | None = None,
        ex_backfill: bool = True,
    ) -> EventStream:
        """New posts matching ``query`` from the filtered stream (``GET
        /2/tweets/search/stream``, app-only: ``bearer_token``): each query is a rule (X's
        operators), set up before connecting; a reconnect asks X for the missed minutes
        (``backfill_minutes``, up to 5; ``ex_backfill=False`` on plans without it). See
        ``socialkit.adapters.x._stream``. Mentions and direct messages arrive through the
        Account Activity webhooks (``socialkit.webhooks``)."""
        from socialkit.adapters.x import _stream

        return _stream.open_stream(
            self, kinds=kinds, query=query, cursor=cursor, policy=policy, backfill=ex_backfill
        )

    async def ex_stream_rules(self) -> list[Rule]:
        """The app's filtered-stream rules (``GET /2/tweets/search/stream/rules``)."""
        from socialkit.adapters.x import _stream

        return await _stream.list_rules(self)

    # -- engagement -----------------------------------------------------------------------

    async def _act(
        self,
        operation: str,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        state: str,
        expected: bool,
    ) -> None:
        """One engagement call; X answers the state after it (``{"data": {"liked": true}}``
        …). Each is idempotent on X: liking a liked post, or unliking one never liked,
        answers the same state, so the call is safe to resend (``retry_safe``)."""
        answer = await self._call(
            wire.ActionResponse,
            method,
            path,
            json=body,
            kind="write",
            retry_safe=True,
        )
        if answer.data is None:
            raise self._problem(answer.errors, operation)
        value = answer.data.get(state)
        if state == "following" and answer.data.get("pending_follow") is True:
            # A protected account: the follow waits for its approval, which is what X offers.
            return
        if value is not expected:
            raise APIError(
                self.name,
                None,
                "action_not_applied",
                f"x answered {state}={value!r} to {operation}",
            )

    async def like(self, post_id: str) -> None:
        """``POST /2/users/{id}/likes``."""
        self._require_user("liking a post")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act(
            "liking", "POST", f"/2/users/{me}/likes", {"tweet_id": target}, "liked", True
        )

    async def unlike(self, post_id: str) -> None:
        """``DELETE /2/users/{id}/likes/{tweet_id}``."""
        self._require_user("unliking a post")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act("unliking", "DELETE", f"/2/users/{me}/likes/{target}", None, "liked", False)

    async def repost(self, post_id: str) -> None:
        """``POST /2/users/{id}/retweets``."""
        self._require_user("reposting")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act(
            "reposting", "POST", f"/2/users/{me}/retweets", {"tweet_id": target}, "retweeted", True
        )

    async def unrepost(self, post_id: str) -> None:
        """``DELETE /2/users/{id}/retweets/{source_tweet_id}``."""
        self._require_user("taking a repost back")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act(
            "taking a repost back",
            "DELETE",
            f"/2/users/{me}/retweets/{target}",
            None,
            "retweeted",
            False,
        )

    async def bookmark(self, post_id: str) -> None:
        """``POST /2/users/{id}/bookmarks`` (X serves bookmarks to OAuth 2.0 user tokens only,
        with the ``bookmark.write`` scope)."""
        self._require_user("bookmarking")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act(
            "bookmarking",
            "POST",
            f"/2/users/{me}/bookmarks",
            {"tweet_id": target},
            "bookmarked",
            True,
        )

    async def unbookmark(self, post_id: str) -> None:
        """``DELETE /2/users/{id}/bookmarks/{tweet_id}``."""
        self._require_user("removing a bookmark")
        target = _post_id(post_id)
        me = await self._my_id()
        await self._act(
            "removing a bookmark",
            "DELETE",
            f"/2/users/{me}/bookmarks/{target}",
            None,
            "bookmarked",
            False,
        )

    async def follow(self, account: Account | str) -> None:
        """``POST /2/users/{id}/following`` (a protected account gets a follow request)."""
        self._require_user("following an account")
        self._account_ref(account)
        target = await self._user_id(account)
        me = await self._my_id()
        await self._act(
            "following",
            "POST",
            f"/2/users/{me}/following",
            {"target_user_id": target},
            "following",
            True,
        )

    async def unfollow(self, account: Account | str) -> None:
        """``DELETE /2/users/{source_user_id}/following/{target_user_id}``."""
        self._require_user("unfollowing an account")
        self._account_ref(account)
        target = await self._user_id(account)
        me = await self._my_id()
        await self._act(
            "unfollowing", "DELETE", f"/2/users/{me}/following/{target}", None, "following", False
        )

    async def block(self, account: Account | str) -> None:
        """Not offered: X API v2 lists blocks (``GET /2/users/{id}/blocking``) but has no
        endpoint to block or unblock an account."""
        raise self.unsupported(Capability.BLOCK, _NO_BLOCK)

    async def unblock(self, account: Account | str) -> None:
        """Not offered (see :meth:`block`): raises ``UnsupportedError``. No request."""
        raise self.unsupported(Capability.BLOCK, _NO_BLOCK)

    async def mute(self, account: Account | str) -> None:
        """``POST /2/users/{id}/muting``."""
        self._require_user("muting an account")
        self._account_ref(account)
        target = await self._user_id(account)
        me = await self._my_id()
        await self._act(
            "muting", "POST", f"/2/users/{me}/muting", {"target_user_id": target}, "muting", True
        )

    async def unmute(self, account: Account | str) -> None:
        """``DELETE /2/users/{source_user_id}/muting/{target_user_id}``."""
        self._require_user("unmuting an account")
        self._account_ref(account)
        target = await self._user_id(account)
        me = await self._my_id()
        await self._act(
            "unmuting", "DELETE", f"/2/users/{me}/muting/{target}", None, "muting", False
        )

    async def hide(self, reply: Message | str) -> None:
        """``PUT /2/tweets/{tweet_id}/hidden`` with ``{"hidden": true}``: hide a reply to one
        of the account's posts (X refuses other posts)."""
        await self._set_hidden(reply, True)

    async def unhide(self, reply: Message | str) -> None:
        """``PUT /2/tweets/{tweet_id}/hidden`` with ``{"hidden": false}``."""
        await self._set_hidden(reply, False)

    async def _set_hidden(self, reply: Message | str, hidden: bool) -> None:
        self._require_user("hiding a reply" if hidden else "showing a hidden reply")
        target = _post_id(reply.id if isinstance(reply, Message) else reply)
        await self._act(
            "hiding a reply" if hidden else "showing a reply",
            "PUT",
            f"/2/tweets/{target}/hidden",
            {"hidden": hidden},
            "hidden",
            hidden,
        )

    # -- people and feeds -----------------------------------------------------------------

    def _account_ref(self, account: Account | str) -> tuple[str, str]:
        """``("id", id)`` or ``("handle", username)``, checked before any request.

        On X a username may be all digits, so: ``"@name"`` is always a handle; a bare string
        of 1–19 digits is an id; anything else is a handle (1–15 letters, digits or ``_``).
        An :class:`Account` is taken by its id."""
        if isinstance(account, Account):
            return "id", check_id(self.name, account.id, _ID_PATTERN, "user id")
        if not isinstance(account, str):
            raise ValidationError(f"{account!r} is not an X account, id or handle")
        if account.startswith("@"):
            return "handle", _username(account[1:], account)
        if account.isascii() and account.isdigit():
            return "id", check_id(self.name, account, _ID_PATTERN, "user id")
        return "handle", _username(account, account)

    async def _user_id(self, account: Account | str) -> str:
        kind, value = self._account_ref(account)
        if kind == "id":
            return value
        return (await self._user_by_handle(value)).id

    async def account(self, handle_or_id: str) -> Account:
        """``GET /2/users/by/username/{username}`` or ``GET /2/users/{id}``.

        X usernames may be all digits, so ``"@1234"`` (with ``@``) is the account whose
        username is ``1234``, while a bare ``"1234"`` is the account whose id is 1234;
        anything else (``"jack"``, ``"@jack"``) is a username. Raises
        :class:`~socialkit.NotFoundError` when X knows no such account."""
        kind, value = self._account_ref(handle_or_id)
        if kind == "handle":
            return mapping.account_from(await self._user_by_handle(value))
        answer = await self._call(
            wire.UserLookup, "GET", f"/2/users/{value}", params={"user.fields": _USER_FIELDS}
        )
        if answer.data is None:
            raise self._problem(answer.errors, f"the account {value}")
        return mapping.account_from(answer.data)

    def followers(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """``GET /2/users/{id}/followers`` (newest follower first, as X orders them)."""
        return self._users_paged("followers", account, limit, cursor)

    def following(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """``GET /2/users/{id}/following``."""
        return self._users_paged("following", account, limit, cursor)

    def _users_paged(
        self, relation: str, account: Account | str | None, limit: int | None, cursor: str | None
    ) -> Paged[Account]:
        if account is not None:
            self._account_ref(account)

        resolved: list[str] = []

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Account]:
            if not resolved:  # looked up once per walk, not once per page
                if account is None:
                    resolved.append(await self._my_id())
                else:
                    resolved.append(await self._user_id(account))
            user_id = resolved[0]
            query: dict[str, Any] = {
                "max_results": _page_size(want, 1, 1000),
                "user.fields": _USER_FIELDS,
            }
            if network_cursor is not None:
                query["pagination_token"] = _token(network_cursor)
            page = await self._call(
                wire.UsersPage, "GET", f"/2/users/{user_id}/{relation}", params=query
            )
            self._log_partial(relation, page.errors)
            token = page.meta.next_token
            return Batch(
                [mapping.account_from(user) for user in page.data],
                f"t:{token}" if token and page.data else None,
            )

        return Paged(fetch, limit=limit, cursor=cursor)

    def timeline(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The home timeline: ``GET /2/users/{id}/timelines/reverse_chronological`` (the
        account's and its followings' posts, newest first; a user context only)."""
        self._require_user("reading the home timeline")

        async def path() -> str:
            return f"/2/users/{await self._my_id()}/timelines/reverse_chronological"

        return self._post_paged(path, {}, since, until, limit, cursor, minimum=1)

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The account's lists: those it owns (``GET /2/users/{id}/owned_lists``), then those
        it follows (``GET /2/users/{id}/followed_lists``)."""

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Feed]:
            me = await self._my_id()
            source, token = "owned", None
            if network_cursor is not None:
                kind, value = _split_cursor(network_cursor)
                if kind not in ("o", "f"):
                    raise ValidationError("this cursor belongs to another kind of iterator")
                source, token = ("owned" if kind == "o" else "followed"), value or None
            while True:
                query: dict[str, Any] = {
                    "max_results": _page_size(want, 1, 100),
                    "list.fields": _LIST_FIELDS,
                    "expansions": "owner_id",
                    "user.fields": _USER_FIELDS,
                }
                if token is not None:
                    query["pagination_token"] = token
                page = await self._call(
                    wire.ListsPage, "GET", f"/2/users/{me}/{source}_lists", params=query
                )
                self._log_partial(f"{source} lists", page.errors)
                expansions = mapping.Expansions(page.includes)
                items = [mapping.feed_from(item, expansions) for item in page.data]
                following: str | None = None
                if page.meta.next_token and page.data:
                    following = f"{source[0]}:{page.meta.next_token}"
                elif source == "owned":
                    following = "f:"
                if items or following is None:
                    return Batch(items, following)
                source, token = "followed", None

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
        """The posts of a list: ``GET /2/lists/{id}/tweets`` (newest first; X takes no time
        bounds there, so ``since`` / ``until`` are applied as the pages come)."""
        list_id = check_id(
            self.name, feed.id if isinstance(feed, Feed) else feed, _ID_PATTERN, "list id"
        )

        async def path() -> str:
            return f"/2/lists/{list_id}/tweets"

        fetch = self._timeline_fetch(
            path,
            {},
            since,
            until,
            _post_from,
            token_param="pagination_token",
            minimum=1,
            until_id=False,
            time_params=False,
        )
        return Paged(
            fetch, since=since, until=until, limit=limit, cursor=cursor, time_of=_post_time
        )

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload ``media`` for posts (initialize, append, finalize, wait for processing, alt
        text), without publishing. X keeps an upload for ``expires_after_secs`` (24 hours)
        and lets several posts use it (``reusable``); attach it with
        :meth:`Media.from_upload <socialkit.Media.from_upload>`.

        Raises ``ValidationError`` / ``UnsupportedError`` for media X does not take, before any
        request. Network calls: ``POST /2/media/upload/initialize``, ``.../append`` per chunk,
        ``.../finalize``, ``GET /2/media/upload`` until processed, ``POST
        /2/media/metadata`` for the alt text."""
        if media.uploaded is not None:
            raise ValidationError("this media is an upload already")
        if media.kind not in _POST_CATEGORY:
            raise self.unsupported(Capability.UPLOAD, f"x does not take {media.kind} media")
        if media.mime_type not in _MEDIA_TYPES:
            raise ValidationError(f"x does not take {media.mime_type} media")
        started = self.now()
        media_id, expires_after = await self._upload_new(media, _POST_CATEGORY)
        return UploadedMedia(
            id=media_id,
            network=self.name,
            kind=media.kind,
            mime_type=media.mime_type,
            alt=media.alt,
            size=media.size,
            width=media.width,
            height=media.height,
            reusable=True,
            expires_at=started + timedelta(seconds=expires_after)
            if expires_after is not None
            else None,
        )

    # -- metrics --------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Metrics of each post, 100 ids per ``GET /2/tweets`` lookup.

        ``public_metrics`` always; with a user context also ``non_public_metrics`` and
        ``organic_metrics`` for posts of the last 30 days (X serves those to the author only;
        for others it answers with field errors, which are skipped). An id X cannot find
        (deleted, protected) is left out of the result and logged as a warning.
        """
        ids = list(dict.fromkeys(_post_id(i) for i in post_ids))
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
        expansions = mapping.Expansions(answer.includes)
        for post in answer.data:
            out[post.id] = mapping.metrics_from(post, expansions, now)

    # -- messages -------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Mentions (as ``mention``, or ``reply`` / ``quote`` when they answer or quote one of
        the account's posts) and direct messages, merged newest first, lazily
        (``GET /2/users/{id}/mentions``, resumed with ``until_id``, and ``GET /2/dm_events``).

        Direct messages need a user context; without one (app-only bearer), ``kinds=None``
        reads mentions only, and asking for ``direct`` raises
        :class:`UserContextRequiredError`."""
        wanted = kinds_filter(kinds)
        if kinds is not None and "direct" in wanted:
            self._require_user("reading direct messages")
        sources: dict[str, Fetch[Message]] = {}
        if wanted & {"mention", "reply", "quote"}:
            sources["mentions"] = self._mentions_fetch(wanted, since, until)
        if "direct" in wanted and (self.user_context or kinds is not None):
            sources["direct"] = self._dm_fetch()
        if not sources:
            return Paged.empty()
        return Paged.merge(
            sources,
            time_of=_message_time,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    def _mentions_fetch(
        self, wanted: frozenset[str], since: datetime | None, until: datetime | None
    ) -> Fetch[Message]:
        me: list[str] = []

        async def path() -> str:
            if not me:
                me.append(await self._my_id())
            return f"/2/users/{me[0]}/mentions"

        def convert(
            post: wire.WirePost, expansions: mapping.Expansions, raw: LazyRaw
        ) -> Message | None:
            if post.author_id == me[0]:
                return None
            message = mapping.message_from_post(post, expansions, me[0], raw=raw)
            return message if message.kind in wanted else None

        return self._timeline_fetch(
            path, {}, since, until, convert, token_param="pagination_token", minimum=5,
            until_id=True,
        )  # fmt: skip

    def _dm_fetch(self) -> Fetch[Message]:
        """``GET /2/dm_events`` (newest first, ``pagination_token`` only: the cursor resumes at
        the page, then skips what was read). The account's own messages are left out."""

        async def fetch(cursor: str | None, want: int | None) -> Batch[Message]:
            me = await self._my_id()
            while True:
                query: dict[str, Any] = {
                    "max_results": 100,
                    "event_types": "MessageCreate",
                    "dm_event.fields": _DM_FIELDS,
                    "expansions": "sender_id",
                    "user.fields": _USER_FIELDS,
                }
                if cursor is not None:
                    kind, value = _split_cursor(cursor)
                    if kind != "t":
                        raise ValidationError("this cursor belongs to another kind of iterator")
                    query["pagination_token"] = value
                page = await self._call(wire.DmEventsPage, "GET", "/2/dm_events", params=query)
                expansions = mapping.Expansions(page.includes)
                items = [
                    mapping.message_from_dm(event, expansions)
                    for event in page.data
                    if event.sender_id != me
                ]
                token = page.meta.next_token
                following = f"t:{token}" if token and page.data else None
                if items or following is None:
                    return Batch(items, following)
                cursor = following

        return fetch

    def ex_replies(
        self, post_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Message]:
        """Replies in the conversation of ``post_id`` (recent search with
        ``conversation_id:<id>``, the last 7 days), newest first, as ``reply`` messages.

        Network calls (while iterating): ``GET /2/tweets/search/recent`` per page."""
        post_id = _post_id(post_id)

        async def path() -> str:
            return "/2/tweets/search/recent"

        def convert(
            post: wire.WirePost, expansions: mapping.Expansions, raw: LazyRaw
        ) -> Message | None:
            if post.id == post_id:
                return None
            return mapping.message_from_reply(post, expansions, raw=raw)

        fetch = self._timeline_fetch(
            path,
            {"query": f"conversation_id:{post_id}", "sort_order": "recency"},
            None,
            None,
            convert,
            token_param="next_token",
            minimum=10,
            until_id=True,
        )
        return Paged(fetch, limit=limit, cursor=cursor)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a mention, reply or quote with a post in reply, a direct message with a
        direct message, or the post with id ``to`` with a reply.

        Returns what was sent. Raises as :meth:`publish`. Network calls: ``POST /2/tweets``
        (a reply), or ``POST /2/dm_conversations/:id/messages`` for a direct message."""
        answer = as_post(post)
        if isinstance(to, Message) and to.kind == "direct":
            return await self._send_dm(to, answer)
        target = to.id if isinstance(to, Message) else to
        return await self.publish(answer.model_copy(update={"reply_to": target}))

    async def _send_dm(self, to: Message, post: Post) -> Post:
        """``POST /2/dm_conversations/{id}/messages`` (or ``/with/{participant}/messages``).

        A DM has no idempotency key, so the pipeline never sends one twice. When its answer is
        lost (a timeout after sending, a 5xx, a 2xx whose body cannot be read), the account's
        newest direct-message events are read (``GET /2/dm_events``): one of this account's,
        in that conversation, since shortly before the send, with the same text and number of
        attachments is the message sent, and is returned. Otherwise (or when that reading
        fails) :class:`~socialkit.OutcomeUnknownError`: X has no duplicate check for DMs, so
        sending again could deliver it twice; the application decides."""
        self._require_user("sending a direct message")
        if post.poll is not None or post.quote_of is not None or post.thread:
            raise UnsupportedError(self.name, "direct_messages", "a DM carries text and one medium")
        if len(post.media) > 1:
            raise UnsupportedError(self.name, "direct_messages", "a DM carries one medium")
        if post.media and post.media[0].kind not in _DM_CATEGORY:
            raise UnsupportedError(
                self.name,
                "direct_messages",
                f"a DM carries an image, a GIF or a video, not {post.media[0].kind}",
            )
        if post.scheduled_at is not None:
            raise UnsupportedError(
                self.name, "direct_messages", "X does not schedule DMs: it would go out now"
            )
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
        started = self.now()
        try:
            answer = await self._call(wire.DmSentResponse, "POST", path, json=body, kind="create")
            if answer.data is None:
                # A 2xx without the event's id: the message may well have been sent.
                raise MalformedResponseError(
                    self.name, None, "malformed_response", "the answer has no data for the DM"
                ) from self._problem(answer.errors, "the direct message")
        except (OutcomeUnknownError, MalformedResponseError) as exc:
            logger.warning("x: the outcome of a direct message is unknown; looking for it")
            try:
                event = await self._find_dm(to, text, len(post.media), started)
            except (APIError, TransportError, OutcomeUnknownError) as failed:
                logger.warning("x: looking for it failed (%s); the outcome stays unknown", failed)
                event = None
            if event is None:
                raise OutcomeUnknownError(self.name, "POST", path) from exc
            return self._dm_sent(post, event.id, event.dm_conversation_id or "", event)
        if answer.data is None:
            raise self._problem(answer.errors, "the direct message")
        sent = answer.data
        return self._dm_sent(post, sent.dm_event_id, sent.dm_conversation_id, answer)

    def _dm_sent(self, post: Post, event_id: str, conversation_id: str, raw: object) -> Post:
        return post.model_copy(
            update={
                "id": event_id,
                "network": self.name,
                "url": f"{mapping.WEB}/messages/{conversation_id}",
                "created_at": mapping.snowflake_time(event_id) or datetime.now(timezone.utc),
                "visibility": "direct",
                "raw": raw,
            }
        )

    async def _find_dm(
        self, to: Message, text: str, media_count: int, started: datetime
    ) -> wire.DmEvent | None:
        """The direct message an unanswered send delivered, if the account's events show it
        (newest first, up to ``_RECONCILE_PAGES`` pages, back to the reconcile margin before
        ``started``): sent by this account, in ``to``'s conversation (for a first message,
        the one-to-one conversation with ``to``'s author), same text (links compared without
        their addresses, which X replaces with t.co) and same number of attachments."""
        me = await self._my_id()
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        wanted_text = mapping.normalise(text)
        wanted = mapping.comparable_text(wanted_text, url_spans(wanted_text))
        query: dict[str, Any] = {
            "max_results": 100,
            "event_types": "MessageCreate",
            "dm_event.fields": "attachments,created_at,dm_conversation_id,event_type,id,text",
            "expansions": "sender_id",
        }
        for _ in range(_RECONCILE_PAGES):
            page = await self._call(wire.DmEventsPage, "GET", "/2/dm_events", params=query)
            for event in page.data:
                created = _made_at(event.created_at, event.id)
                if created is not None and created < since:
                    return None  # newest first: the rest is older still
                conversation = event.dm_conversation_id or ""
                if event.sender_id != me or not (
                    conversation == to.conversation_id
                    if to.conversation_id
                    else set(conversation.split("-")) == {me, to.author.id}
                ):
                    continue
                theirs = mapping.normalise(event.text)
                keys = (event.attachments.media_keys if event.attachments else None) or []
                if (
                    mapping.comparable_text(theirs, url_spans(theirs)) == wanted
                    and len(keys) == media_count
                ):
                    logger.info("x: the unanswered direct message was sent as %s", event.id)
                    return event
            token = page.meta.next_token
            if token is None:
                return None
            query["pagination_token"] = token
        # More events in the window than were read: what was not read cannot be ruled out.
        raise OutcomeUnknownError(self.name, "GET", "/2/dm_events")


def _made_at(created_at: datetime | None, object_id: str) -> datetime | None:
    """When an object (a post, a DM event) was made: its ``created_at`` (UTC when naive), else
    the time in its snowflake id."""
    if created_at is None:
        return mapping.snowflake_time(object_id)
    return created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=timezone.utc)


def _recent(post_id: str, now: datetime) -> bool:
    created = mapping.snowflake_time(post_id)
    return created is not None and now - created <= _PRIVATE_WINDOW
