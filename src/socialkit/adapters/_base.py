"""The :class:`Adapter` abstract base that every network implements, and its settings base.

An adapter implements what its network offers and inherits, for the rest, methods that raise
:class:`~socialkit.UnsupportedError` naming the network and the capability. ``publish`` always runs
``check`` first and refuses an invalid post before any request is sent.
"""

from __future__ import annotations

import abc
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PositiveInt, SecretStr

from socialkit._capabilities import Capability, Limits, check_post
from socialkit._errors import (
    ConfigurationError,
    InvalidPostError,
    ThreadIncompleteError,
    UnsupportedError,
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
from socialkit._paging import Paged

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Self

    from socialkit._http import Network, Session
    from socialkit._store import Store
    from socialkit._stream import EventStream, StreamKind, StreamPolicy
    from socialkit.auth import AuthorizationRequest, OAuth2Auth, OAuth2Client, Token, TokenStore

__all__ = [
    "Adapter",
    "AdapterSettings",
    "HttpURL",
    "MediaSource",
    "check_id",
    "path_segment",
]


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must be an absolute http(s) URL")
    return value.rstrip("/")


HttpURL = Annotated[str, AfterValidator(_http_url)]
"""A base URL setting: absolute http(s), kept without its trailing slash."""

#: When a token seeded without an access token expired (long ago: refresh before first use).
_EXPIRED = datetime(2000, 1, 1, tzinfo=timezone.utc)


def _media_allow(value: tuple[str, ...]) -> tuple[str, ...]:
    from socialkit._http._fetch import parse_allow  # lazily: _http is not needed to import

    parse_allow(value)
    return value


class AdapterSettings(BaseModel):
    """Settings every adapter accepts; each adapter's ``Settings`` subclasses this.

    Secrets are ``pydantic.SecretStr`` in the subclasses, so they never show in a repr.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,
        defer_build=True,
    )

    account: str | None = Field(
        default=None,
        description="A label for this account: the key for stored tokens and rate-limit state.",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per request.")
    rate_limit: Literal["wait", "pace", "raise"] = Field(
        default="wait",
        description=(
            "wait: sleep until a limit resets (up to max_wait); pace: spread calls over the "
            "window; raise: raise RateLimitError instead of waiting."
        ),
    )
    max_wait: float = Field(default=900.0, ge=0, description="Longest rate-limit wait, seconds.")
    retries: int = Field(default=4, ge=1, le=20, description="Attempts per request, at most.")
    retry_budget: float = Field(default=60.0, gt=0, description="Seconds all attempts may take.")
    retry_wait: bool = Field(
        default=True, description="Sleep between retries (tests switch this off)."
    )
    http2: bool = Field(default=False, description="Use HTTP/2 (needs the http2 extra).")
    user_agent: str | None = Field(default=None, description="Extra User-Agent product token.")
    rate_limit_store: Any = Field(
        default=None,
        description="A socialkit._http.RateLimitStore shared between adapters or processes.",
    )
    clock: Any = Field(
        default=None,
        description=(
            "A callable returning the current time as an aware datetime, for simulations and "
            "tests: used wherever the adapter itself stamps a time (a record's createdAt, a "
            "record key, a metric's measured_at). Default: the system clock."
        ),
    )
    require_credentials: bool = Field(
        default=True,
        description=(
            "Check on `async with` that credentials exist (a secret setting or a stored token) "
            "and fail at once, naming the fix, when none does. Set False for an adapter used "
            "only for the login steps (ex_register_app, ex_exchange_code, ex_oauth_begin …)."
        ),
    )
    store: Any = Field(
        default=None,
        description=(
            "A socialkit Store for tokens and sessions; default: the SQLite file under the "
            "user's data directory (SOCIALKIT_STORE overrides the path)."
        ),
    )
    media_fetch_allow: Annotated[tuple[str, ...], AfterValidator(_media_allow)] = Field(
        default=(),
        description=(
            "Networks (10.0.0.0/8) and host names (intranet.example, or .corp.example for a "
            "domain) whose media URLs may be fetched although they are internal addresses. "
            "Everything else internal (loopback, link-local, private, CGNAT, ULA) is refused."
        ),
    )
    media_fetch_max_bytes: dict[Literal["image", "gif", "video"], Annotated[int, Field(gt=0)]] = (
        Field(
            default_factory=dict,
            description=(
                "Size caps of media fetched from a URL, per kind (image, gif, video), in bytes; "
                "unset kinds keep socialkit._http.DEFAULT_MEDIA_MAX_BYTES."
            ),
        )
    )
    media_fetcher: Any = Field(
        default=None,
        description=(
            "A socialkit._http.MediaFetcher used for URL-sourced media instead of the one "
            "built from media_fetch_allow and media_fetch_max_bytes (tests give one with a "
            "stub resolver and transport)."
        ),
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Seconds one call may take in all: attempts, retries, rate-limit waits and slow "
            "bodies. Default: timeout + retry_budget, with rate-limit waits (up to max_wait) "
            "added; when set, rate-limit waits count too."
        ),
    )
    body_limits: dict[Literal["read", "write", "create", "download", "error"], PositiveInt] = Field(
        default_factory=dict,
        description=(
            "Most bytes of a decoded response body per request kind (read, write, create, "
            "download: media fetched from a URL; error: error bodies are cut there), "
            "overriding the network's defaults; a larger body raises ResponseTooLargeError."
        ),
    )

    def model_post_init(self, context: Any, /) -> None:
        """Register every secret setting for exact redaction (see ``SecretRegistry``)."""
        values = [value for value in self.__dict__.values() if isinstance(value, SecretStr)]
        if values:
            from socialkit._http._redact import register_secret

            register_secret(*values)


class Adapter(abc.ABC):
    """One network, one account. Use it as an async context manager.

    Subclasses set the class attributes ``name``, ``Settings``, ``capabilities`` and ``limits``
    and override the ``_publish_one`` hook and the methods their network offers.
    """

    name: ClassVar[str] = "abstract"
    Settings: ClassVar[type[AdapterSettings]] = AdapterSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    limits: Limits = Limits()
    """The network's rules. Class default; an adapter may refine it per instance (Mastodon reads
    its instance's limits)."""
    docs_url: ClassVar[str | None] = None
    #: Why each capability the adapter does not declare is missing (one sentence each, e.g.
    #: "Mastodon cannot hide replies"); the docs' capability matrix is generated from it.
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {}

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        if not isinstance(settings, self.Settings):
            raise ConfigurationError(
                f"{self.name} settings must be {self.Settings.__name__}, "
                f"not {type(settings).__name__}"
            )
        self.settings = settings
        self._http = http
        self._owns_http = http is None
        self._closed = False
        self._login_tokens: TokenStore | None = None

    @classmethod
    def connect(
        cls,
        settings: AdapterSettings | None = None,
        /,
        *,
        http: httpx.AsyncClient | None = None,
        **values: Any,
    ) -> Self:
        """This network's adapter, typed as its own class: ``MastodonAdapter.connect(...)``.

        Give the settings as keyword arguments (``MastodonAdapter.connect(instance=...,
        access_token=...)``), validated through the adapter's ``Settings`` like
        ``socialkit.connect`` does (every problem named at once, in a ``ConfigurationError``),
        or as a ``Settings`` object. No registry lookup: the class itself is the network.
        """
        if settings is None:
            from socialkit._registry import build_settings

            return cls(build_settings(cls, values), http=http)
        if values:
            raise ConfigurationError(
                f"{cls.name}: give a Settings object or keyword settings, not both"
            )
        return cls(settings, http=http)

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def http(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` this adapter sends through (created on first use)."""
        if self._http is None:
            from socialkit._http import make_client

            self._http = make_client(
                timeout=self.settings.timeout,
                http2=self.settings.http2,
                user_agent=self.settings.user_agent,
            )
        return self._http

    def _new_oauth2(self, **config: Any) -> OAuth2Client:
        """An OAuth 2.0 client of this adapter (its ``http`` and timeout) for
        :class:`~socialkit.auth.OAuth2Config`'s arguments (``network`` is the adapter's).
        Settings the config rejects (a redirect URI that is not an absolute http(s) URL, say)
        raise :class:`ConfigurationError` naming each, never pydantic's error."""
        import pydantic

        from socialkit.auth import OAuth2Client, OAuth2Config

        try:
            made = OAuth2Config(network=self.name, **config)
        except pydantic.ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_input=False, include_url=False)
            ]
            raise ConfigurationError(f"{self.name}: invalid OAuth 2.0 settings", problems) from None
        return OAuth2Client(made, http=self.http, timeout=self.settings.timeout)

    async def _oauth2_auth(
        self,
        client: OAuth2Client,
        access_token: SecretStr | None,
        refresh_token: SecretStr | None,
    ) -> OAuth2Auth:
        """The account's stored token through :class:`~socialkit.auth.OAuth2Auth` and
        ``client`` (refreshed before it expires and after a 401, the rotated refresh token
        saved before use, one refresh per account across processes).

        The settings' tokens seed the store only when it holds none for the account: a stored
        token is newer (refreshed since, its refresh token rotated) and wins. A seed without
        an access token is already expired, so the first call refreshes it. No request."""
        from socialkit.auth import OAuth2Auth, Token

        store = self._tokens()
        if access_token is not None or refresh_token is not None:
            seed = Token(
                access_token=access_token or SecretStr("expired"),
                refresh_token=refresh_token,
                expires_at=None if access_token is not None else _EXPIRED,
            )
            await store.compare_and_set(self.name, self._account_key, None, seed)
        return OAuth2Auth(client, store, account=self._account_key)

    async def _finish_login(
        self,
        client: OAuth2Client,
        request: AuthorizationRequest,
        redirect: str | Mapping[str, str],
    ) -> Token:
        """An OAuth 2.0 login's end: check ``state``, exchange the code with ``client``,
        store the token for this account (replacing the stored one) and return it. Network
        calls: the token endpoint's."""
        token = await client.complete(request, redirect)
        await self._tokens().put(self.name, self._account_key, token)
        return token

    @property
    def label(self) -> str:
        """``network:account`` (or the network alone): how results name this adapter."""
        return f"{self.name}:{self.settings.account}" if self.settings.account else self.name

    async def __aenter__(self) -> Self:
        if self.settings.require_credentials:
            await self.ensure_credentials()
        return self

    async def ensure_credentials(self) -> None:
        """Raise :class:`~socialkit.AuthFlowError`, naming the fix (the setting to pass or the
        ``socialkit auth login`` command), when this adapter has no credentials at all: no
        secret in its settings and nothing in its token store. Sends no request; whether the
        credentials are *valid* is for the network to say. ``async with`` calls it (unless the
        ``require_credentials`` setting is False, for the login steps), so a missing login
        fails at once rather than at the first call."""
        return None

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close what this adapter opened. An injected ``http`` client is never closed."""
        self._closed = True
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.label}>"

    # -- helpers for subclasses ------------------------------------------------------------

    def _make_session(self, network: Network, *, auth: httpx.Auth | None = None) -> Session:
        """A pipeline :class:`~socialkit._http.Session` configured from the common settings.

        Every adapter sends through one of these; none writes its own retry or throttle loop.
        """
        from socialkit._http import RetryPolicy, Session

        s = self.settings
        return Session(
            network,
            client=self.http,
            auth=auth,
            account=self._account_key,
            rate_limit=s.rate_limit,
            max_wait=s.max_wait,
            store=s.rate_limit_store,
            retry=RetryPolicy(attempts=s.retries, budget=s.retry_budget, wait=s.retry_wait),
            timeout=s.timeout,
            deadline=s.deadline,
            body_limits=s.body_limits,
        )

    @property
    def _account_key(self) -> str:
        """This account's key in the stores (tokens, the adapter's records): the ``account``
        setting, or ``default``."""
        return self.settings.account or "default"

    def _tokens(self) -> TokenStore:
        """The token store of logins, made once from the ``store`` setting (a ``TokenStore``
        as it is, a ``Store`` wrapped in one; unset, the user's store)."""
        tokens = self._login_tokens
        if tokens is None:
            from socialkit.auth import TokenStore

            store = self.settings.store
            tokens = store if isinstance(store, TokenStore) else TokenStore(store)
            self._login_tokens = tokens
        return tokens

    def _store(self) -> Store:
        """The store under the token store, for the adapter's own records."""
        return self._tokens().store

    # Idempotency records of publish (the adapters that reconcile a create whose outcome is
    # unknown): JSON under the key, per account, in ``<network>.publish`` of the store, so
    # that a retry after a restart still finds what the first attempt did.

    async def _load_record(self, key: str) -> dict[str, Any] | None:
        """The record kept under ``key`` (``None`` when there is none or it is unreadable)."""
        return await self._stored_object(f"{self.name}.publish", f"{self._account_key}:{key}")

    async def _stored_object(self, namespace: str, key: str) -> dict[str, Any] | None:
        """The JSON object kept in the store under ``key`` (``None`` when there is none, or
        it is not a JSON object)."""
        text = await self._store().get(namespace, key)
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    async def _save_record(self, key: str, value: dict[str, Any]) -> None:
        text = json.dumps(value, separators=(",", ":"))
        await self._store().put(f"{self.name}.publish", f"{self._account_key}:{key}", text)

    async def _drop_record(self, key: str) -> None:
        await self._store().delete(f"{self.name}.publish", f"{self._account_key}:{key}")

    def now(self) -> datetime:
        """The current time in UTC, from the ``clock`` setting or the system clock."""
        clock = self.settings.clock
        moment = clock() if clock is not None else datetime.now(timezone.utc)
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ConfigurationError(f"{self.name}: the clock setting must return aware datetimes")
        return moment.astimezone(timezone.utc)

    def supports(self, capability: Capability) -> bool:
        """Whether the network offers ``capability`` (no request)."""
        return capability in self.capabilities

    def unsupported(
        self, capability: Capability | str, detail: str | None = None
    ) -> UnsupportedError:
        """The error to raise for something this network does not offer."""
        return UnsupportedError(self.name, str(capability), detail)

    def _require(self, capability: Capability) -> None:
        if capability not in self.capabilities:
            raise self.unsupported(capability)

    # -- pre-flight ------------------------------------------------------------------------

    def check(self, post: Post) -> list[Problem]:
        """Every reason ``post`` cannot be published here, found offline (no request sent)."""
        problems = check_post(post, self.limits, self.name)
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            problems.extend(self._capability_problems(item, prefix))
        if post.thread and Capability.PUBLISH_THREAD not in self.capabilities:
            problems.append(self._capability_problem(Capability.PUBLISH_THREAD, "thread"))
        problems.extend(self._check_extra(post))
        return problems

    def _capability_problems(self, post: Post, prefix: str) -> list[Problem]:
        wanted: list[tuple[Capability, str]] = []
        kinds = {m.kind for m in post.media}
        if "image" in kinds:
            wanted.append((Capability.PUBLISH_IMAGE, "media"))
        if "gif" in kinds:
            wanted.append((Capability.PUBLISH_GIF, "media"))
        if "video" in kinds:
            wanted.append((Capability.PUBLISH_VIDEO, "media"))
        if "audio" in kinds:
            wanted.append((Capability.PUBLISH_AUDIO, "media"))
        if post.poll is not None:
            wanted.append((Capability.PUBLISH_POLL, "poll"))
        if post.quote_of is not None:
            wanted.append((Capability.QUOTE, "quote_of"))
        if post.reply_to is not None:
            wanted.append((Capability.REPLY, "reply_to"))
        if post.scheduled_at is not None:
            wanted.append((Capability.NATIVE_SCHEDULING, "scheduled_at"))
        found = [
            self._capability_problem(cap, f"{prefix}{fld}")
            for cap, fld in wanted
            if cap not in self.capabilities
        ]
        for i, item in enumerate(post.media):
            if item.uploaded is not None and item.uploaded.network != self.name:
                found.append(
                    Problem(
                        code="foreign_upload",
                        message=(
                            f"{prefix}media[{i}] was uploaded to {item.uploaded.network}; "
                            f"{self.name} cannot use it"
                        ),
                        field=f"{prefix}media[{i}]",
                    )
                )
        return found

    def _capability_problem(self, capability: Capability, field: str) -> Problem:
        return Problem(
            code="unsupported",
            message=f"{self.name} does not support {capability.value.replace('_', ' ')}",
            field=field,
        )

    def _check_extra(self, post: Post) -> list[Problem]:
        """Network rules beyond :class:`Limits` (override in subclasses)."""
        return []

    # -- the public API --------------------------------------------------------------------

    @abc.abstractmethod
    async def me(self) -> Account:
        """The account these credentials act for."""

    async def publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Publish ``post`` (and its thread) and return it as published.

        Raises :class:`~socialkit.InvalidPostError` with every problem before any request when
        the post breaks the network's rules. When the network may have received a create but
        no answer came back, raises :class:`~socialkit.OutcomeUnknownError`: call ``publish``
        again with the same ``idempotency_key`` (the error carries it) and the network, or
        the adapter's reconciliation, makes sure the post exists once. Without a key the
        adapter makes one per call.
        """
        problems = self.check(post)
        if problems:
            raise InvalidPostError(self.name, problems)
        if idempotency_key is not None and not idempotency_key.strip():
            raise ValidationError("idempotency_key must not be blank")
        return await self._publish(post, idempotency_key=idempotency_key)

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Publish a checked post. The default publishes a thread post by post; the posts
        of a thread get keys derived from ``idempotency_key`` (``key``, ``key/1``, ``key/2`` …).
        """
        posts = post.posts()
        first = await self._publish_keyed(posts[0], idempotency_key)
        if len(posts) == 1:
            return first
        published = [first]
        for index, item in enumerate(posts[1:], start=1):
            try:
                parent = published[-1].id
                assert parent is not None
                key = None if idempotency_key is None else f"{idempotency_key}/{index}"
                published.append(
                    await self._publish_keyed(item.model_copy(update={"reply_to": parent}), key)
                )
            except Exception as exc:
                raise ThreadIncompleteError(self.name, published, len(posts), exc) from exc
        return first.model_copy(update={"thread": published[1:]})

    async def _publish_keyed(self, post: Post, key: str | None) -> Post:
        # Hooks written before idempotency keys take ``post`` alone; they get a key only when
        # the caller gave one.
        if key is None:
            return await self._publish_one(post)
        return await self._publish_one(post, idempotency_key=key)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Publish one checked post (no thread). Honour ``idempotency_key`` where the network
        can; raise :class:`~socialkit.OutcomeUnknownError` when the outcome is unknown."""
        raise self.unsupported(Capability.PUBLISH_TEXT)

    async def delete(self, post_id: str) -> None:
        """Delete one of the account's posts."""
        raise self.unsupported(Capability.DELETE)

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace the text (and what the network allows) of a published post."""
        raise self.unsupported(Capability.EDIT)

    async def get_post(self, post_id: str) -> Post:
        """One post by id."""
        raise self.unsupported(Capability.READ_POSTS)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's posts (or another ``account``'s), newest first, fetched lazily.

        ``since``/``until`` bound the posts' times; ``cursor`` resumes an earlier walk (see
        :class:`~socialkit.Paged`).
        """
        raise self.unsupported(Capability.READ_POSTS)

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Metrics of each post, batched to the network's maximum per call."""
        raise self.unsupported(Capability.POST_METRICS)

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Metrics of the account (followers …), for a window where the network offers one."""
        raise self.unsupported(Capability.ACCOUNT_METRICS)

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Comments, mentions, replies, quotes and direct messages, newest first, lazily."""
        raise self.unsupported(Capability.MENTIONS)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a message (or the post with id ``to``) through this network."""
        raise self.unsupported(Capability.REPLY)

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Public posts matching ``query``, newest first where the network sorts so, lazily."""
        raise self.unsupported(Capability.SEARCH)

    # -- engagement ------------------------------------------------------------------------
    # Each action is idempotent: liking a post already liked, or unfollowing an account not
    # followed, succeeds and changes nothing.

    async def like(self, post_id: str) -> None:
        """Like (favourite) a post."""
        raise self.unsupported(Capability.LIKE)

    async def unlike(self, post_id: str) -> None:
        """Take a like back."""
        raise self.unsupported(Capability.LIKE)

    async def repost(self, post_id: str) -> None:
        """Repost (boost, retweet) a post to the account's followers."""
        raise self.unsupported(Capability.REPOST)

    async def unrepost(self, post_id: str) -> None:
        """Take a repost back."""
        raise self.unsupported(Capability.REPOST)

    async def bookmark(self, post_id: str) -> None:
        """Bookmark a post (private to the account)."""
        raise self.unsupported(Capability.BOOKMARK)

    async def unbookmark(self, post_id: str) -> None:
        """Remove a bookmark."""
        raise self.unsupported(Capability.BOOKMARK)

    async def follow(self, account: Account | str) -> None:
        """Follow an account (an :class:`Account`, an id, or a handle; see :meth:`account`)."""
        raise self.unsupported(Capability.FOLLOW)

    async def unfollow(self, account: Account | str) -> None:
        """Stop following an account."""
        raise self.unsupported(Capability.FOLLOW)

    async def block(self, account: Account | str) -> None:
        """Block an account."""
        raise self.unsupported(Capability.BLOCK)

    async def unblock(self, account: Account | str) -> None:
        """Unblock an account."""
        raise self.unsupported(Capability.BLOCK)

    async def mute(self, account: Account | str) -> None:
        """Mute an account."""
        raise self.unsupported(Capability.MUTE)

    async def unmute(self, account: Account | str) -> None:
        """Unmute an account."""
        raise self.unsupported(Capability.MUTE)

    async def hide(self, reply: Message | str) -> None:
        """Hide a reply or comment on one of the account's posts from public view."""
        raise self.unsupported(Capability.HIDE)

    async def unhide(self, reply: Message | str) -> None:
        """Show a hidden reply or comment again."""
        raise self.unsupported(Capability.HIDE)

    # -- people and feeds ------------------------------------------------------------------

    async def account(self, handle_or_id: str) -> Account:
        """Look an account up by handle or by id.

        A string that starts with ``@`` is always a handle (``"@1234"`` is the account whose
        handle is ``1234``); otherwise each network tells ids from handles by their syntax
        (on X and Mastodon, where a handle may be all digits, a string of digits is an id).
        Raises :class:`~socialkit.NotFoundError` when no such account exists.
        """
        raise self.unsupported(Capability.ACCOUNTS)

    def followers(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The followers of ``account`` (default: this account), newest first where the
        network orders them so, lazily."""
        raise self.unsupported(Capability.FOLLOWERS)

    def following(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The accounts that ``account`` (default: this account) follows, lazily."""
        raise self.unsupported(Capability.FOLLOWERS)

    def timeline(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The home feed (posts of the accounts this account follows), newest first."""
        raise self.unsupported(Capability.TIMELINE)

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The account's list-style feeds (its lists; saved feeds where the network has them)."""
        raise self.unsupported(Capability.FEEDS)

    def feed(
        self,
        feed: Feed | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The posts of a list or feed (a :class:`Feed` or its id), newest first."""
        raise self.unsupported(Capability.FEEDS)

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload media on its own (waiting until the network has processed it), to attach
        to posts later with :meth:`Media.from_upload <socialkit.Media.from_upload>`."""
        raise self.unsupported(Capability.UPLOAD)

    # -- real time -------------------------------------------------------------------------

    def stream(
        self,
        *,
        kinds: Iterable[StreamKind] | None = None,
        query: str | Iterable[str] | None = None,
        cursor: str | None = None,
        policy: StreamPolicy | None = None,
    ) -> EventStream:
        """Events as they happen: new posts (``post``), messages addressed to the account
        (``mention``, ``reply``, ``quote``, ``comment``, ``direct``) and deletions
        (``delete``), as :class:`~socialkit.StreamEvent` items of an
        :class:`~socialkit.EventStream`.

        ``query`` (one or several keywords or ``#hashtags``) asks for public posts matching it
        rather than the account's own timeline. The stream reconnects with backoff and
        jitter, resumes from ``cursor`` (:attr:`EventStream.cursor <socialkit.EventStream>`
        of an earlier stream) where the network offers it, drops duplicates across
        reconnects and reopens a stalled connection (``policy``); see the module docs of
        ``socialkit._stream``. Nothing is sent before the first iteration.
        """
        raise self.unsupported(Capability.STREAM)


class MediaSource:
    """The bytes of a medium read by range, for uploads in chunks: a file is read one chunk at
    a time (its size from ``stat``), never loaded whole; ``content`` is a local file or the
    bytes of a ``Media.from_bytes`` or of a fetched URL."""

    def __init__(self, content: bytes | Path) -> None:
        self._content = content
        if isinstance(content, bytes):
            self.size = len(content)
            return
        try:
            self.size = content.stat().st_size
        except OSError as exc:
            raise ValidationError(f"cannot read {content}: {exc.strerror}") from None

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end of the medium's ``size``).

        Raises ``ValidationError`` when the file holds fewer bytes there than its size taken at
        the start said (it was cut or replaced while it was uploaded): a shorter piece would
        leave the upload incomplete."""
        if isinstance(self._content, bytes):
            return self._content[offset : offset + length]
        try:
            with self._content.open("rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
        except OSError as exc:
            raise ValidationError(f"cannot read {self._content}: {exc.strerror}") from None
        if len(data) < min(length, self.size - offset):
            raise ValidationError(
                f"{self._content} changed while it was uploaded: it holds fewer than the "
                f"{self.size} bytes it had when the upload began"
            )
        return data


def as_post(post: Post | str) -> Post:
    """Accept plain text wherever a Post is expected."""
    return Post(text=post) if isinstance(post, str) else post


def text_with_link(post: Post, separator: str = "\n") -> str:
    """The post's text with its ``link`` after it when the text does not hold it already (for
    networks whose posts, comments or messages have no link field of their own)."""
    if post.link and post.link not in post.text:
        return f"{post.text}{separator}{post.link}" if post.text else post.link
    return post.text


def kinds_filter(kinds: Iterable[MessageKind] | None) -> frozenset[str]:
    """Normalise a ``kinds`` argument; ``None`` means every kind. Unknown kinds raise."""
    from socialkit._models import MESSAGE_KINDS

    if kinds is None:
        return MESSAGE_KINDS
    wanted = frozenset(kinds)
    unknown = wanted - MESSAGE_KINDS
    if unknown:
        raise ValidationError(
            f"unknown message kinds {sorted(unknown)}; expected some of {sorted(MESSAGE_KINDS)}"
        )
    return wanted


def check_id(network: str, value: object, pattern: str, what: str = "id") -> str:
    """``value`` if it is a string matching ``pattern`` (a full match), else a
    :class:`~socialkit.ValidationError` naming the network and what was expected, raised before
    any request. Adapters call it on every id they put into a URL path."""
    if not isinstance(value, str) or re.fullmatch(pattern, value) is None:
        raise ValidationError(f"{value!r} is not a {network} {what}")
    return value


def path_segment(value: str) -> str:
    """``value`` percent-encoded as one URL path segment (``/``, ``?``, ``#`` and ``%`` too),
    for ids a network does not restrict; ``.``, ``..`` and the empty string are refused, since
    clients and servers resolve them as dot segments."""
    if value in ("", ".", ".."):
        raise ValidationError(f"{value!r} cannot be an id in a URL path")
    return urllib.parse.quote(value, safe="")
