"""The Mastodon adapter class (:class:`MastodonAdapter`): publish, read, measure, engage and
answer on one account of one Mastodon server. See the package docstring for the overview."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import SecretStr

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    TimeoutError,
    TransportError,
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
    PageAccounts,
    Post,
    Problem,
    UploadedMedia,
)
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    as_post,
    check_id,
    kinds_filter,
    path_segment,
    text_with_link,
)
from socialkit.adapters.mastodon._settings import MastodonSettings

if TYPE_CHECKING:
    from socialkit._http import Network, Session
    from socialkit._stream import EventStream, StreamKind, StreamPolicy
    from socialkit.adapters.mastodon import _wire
    from socialkit.auth import AuthorizationRequest, Token

__all__ = ["DEFAULT_LIMITS", "DEFAULT_SCOPES", "MastodonAdapter"]

logger = logging.getLogger("socialkit.adapters.mastodon")

T = TypeVar("T")

#: Scopes an application needs for everything this adapter does.
DEFAULT_SCOPES: tuple[str, ...] = (
    "read",
    "write:statuses",
    "write:media",
    "write:conversations",
    "profile",
)

#: Mastodon refuses ``scheduled_at`` less than five minutes ahead.
MIN_SCHEDULE_AHEAD = timedelta(minutes=5)
#: ``GET /api/v1/statuses?id[]=`` answers at most this many statuses per call.
STATUSES_PER_BATCH = 20
#: The largest page Mastodon serves for statuses (40), notifications and accounts (80).
PAGE_STATUSES = 40
PAGE_NOTIFICATIONS = 80
PAGE_ACCOUNTS = 80
#: Mastodon's ids (statuses, accounts, media, lists, notifications …) are decimal numbers
#: carried as strings (snowflakes: milliseconds since the epoch << 16 for statuses).
ID_PATTERN = r"[0-9]{1,20}"
#: From this time on, every Mastodon server has given statuses snowflake ids (Mastodon 2.0,
#: October 2017, plus a margin for servers that upgraded late).
SNOWFLAKES_SINCE = datetime(2019, 1, 1, tzinfo=timezone.utc)
#: A handle: ``user`` (this server) or ``user@domain``, an optional leading ``@``.
HANDLE_PATTERN = re.compile(r"@?[A-Za-z0-9_][A-Za-z0-9_.\-]*(@[A-Za-z0-9.\-]+(:[0-9]+)?)?")
#: Mastodon API version (``api_versions.mastodon``) that added quote posts (4.5).
QUOTES_API_VERSION = 7
#: How long instance limits stay cached before ``publish`` reads them again.
INSTANCE_TTL = 24 * 3600.0


#: ``characters_reserved_per_url`` of a stock server (socialkit.text.mastodon's constant; the
#: text rules are imported when first used, to keep this module light to import).
MASTODON_CHARACTERS_PER_URL = 23


def count_mastodon(text: str, spoiler_text: str = "", *, characters_reserved_per_url: int) -> int:
    """Mastodon's length of a status (``socialkit.text.mastodon.count_mastodon``)."""
    from socialkit.text.mastodon import count_mastodon as count

    return count(text, spoiler_text, characters_reserved_per_url=characters_reserved_per_url)


def _count_for(reserved: int) -> Any:
    def count_mastodon_text(text: str) -> int:
        return count_mastodon(text, characters_reserved_per_url=reserved)

    count_mastodon_text.__name__ = "count_mastodon"
    return count_mastodon_text


#: A stock Mastodon 4.x server: 500 characters, URLs as 23, four images or one video / GIF,
#: images up to 16 MiB, videos up to 99 MiB, 1,500 characters of alt text, polls of 4 options
#: of 50 characters.
DEFAULT_LIMITS = Limits(
    max_text=500,
    count=_count_for(MASTODON_CHARACTERS_PER_URL),
    text_unit="characters",
    max_media=4,
    max_images=4,
    max_videos=1,
    max_gifs=1,
    max_audios=1,
    mix_media=False,
    image_max_bytes=16 * 1024 * 1024,
    gif_max_bytes=16 * 1024 * 1024,
    video_max_bytes=99 * 1024 * 1024,
    audio_max_bytes=99 * 1024 * 1024,
    max_alt_text=1500,
    max_poll_options=4,
    max_poll_option_text=50,
)


@dataclass(frozen=True)
class _InstanceInfo:
    limits: Limits
    reserved_per_url: int = MASTODON_CHARACTERS_PER_URL
    poll_min: int = 300
    poll_max: int = 2629746
    api_version: int | None = None
    loaded_at: float = 0.0


_DEFAULT_INFO = _InstanceInfo(DEFAULT_LIMITS)


@dataclass
class _Flight:
    """A read of a server's limits under way, that concurrent callers wait for."""

    done: Any  # anyio.Event, set when the read ends (however it ends)
    loop: object  # the event loop it runs in: a flight of another loop cannot be awaited
    info: _InstanceInfo | None = None
    error: Exception | None = None


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _now() -> datetime:
    return datetime.now(timezone.utc)


class MastodonAdapter(Adapter):
    """One account on one Mastodon server.

    ``ex_`` methods cover what only Mastodon offers: app registration and login
    (:meth:`ex_register_app`, :meth:`ex_authorization_url`, :meth:`ex_exchange_code`), scheduled
    statuses (:meth:`ex_scheduled`, :meth:`ex_cancel_scheduled`, :meth:`ex_reschedule`), the
    replies under a status (:meth:`ex_context`), hashtag search and timelines
    (:meth:`ex_search_hashtags`, :meth:`ex_hashtag_timeline`) and the server's limits
    (:meth:`ex_load_limits`).
    """

    name: ClassVar[str] = "mastodon"
    Settings: ClassVar[type[AdapterSettings]] = MastodonSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_GIF,
            Capability.PUBLISH_THREAD,
            Capability.PUBLISH_POLL,
            Capability.QUOTE,
            Capability.NATIVE_SCHEDULING,
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
            Capability.PUBLISH_AUDIO,
            Capability.LIKE,
            Capability.REPOST,
            Capability.BOOKMARK,
            Capability.FOLLOW,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.ACCOUNTS,
            Capability.FOLLOWERS,
            Capability.TIMELINE,
            Capability.FEEDS,
            Capability.UPLOAD,
            Capability.STREAM,
        }
    )
    limits: Limits = DEFAULT_LIMITS
    docs_url: ClassVar[str | None] = "https://docs.joinmastodon.org/api/"
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.COMMENTS: (
            "Mastodon has replies, not comments: they come from messages() as kind 'reply'"
        ),
        Capability.HIDE: "Mastodon has no way to hide a reply to one's own status",
        Capability.WEBHOOKS: (
            "Mastodon's webhooks are for server administrators (account sign-ups, reports), "
            "not an account's activity: poll messages() instead"
        ),
    }

    #: Limits per server URL, shared by every adapter of the process.
    _instances: ClassVar[dict[str, _InstanceInfo]] = {}
    #: Reads of those limits under way, per server URL (one flight each).
    _flights: ClassVar[dict[str, _Flight]] = {}

    settings: MastodonSettings

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, MastodonSettings)
        self.settings = settings
        self._instance = settings.instance
        self._host = httpx.URL(settings.instance).host
        self._session: Session | None = None
        self._network: Network | None = None
        self._token_override: SecretStr | None = None
        self._me: _wire.Account | None = None
        self._used_uploads: set[str] = set()
        self._sync_limits()

    # -- plumbing --------------------------------------------------------------------------

    @property
    def instance(self) -> str:
        """The server's base URL."""
        return self._instance

    @property
    def network(self) -> Network:
        """The pipeline's description of this server."""
        if self._network is None:
            from socialkit.adapters.mastodon._network import make_network

            self._network = make_network(self.name, self._instance)
        return self._network

    @property
    def session(self) -> Session:
        """The pipeline session every request of this adapter goes through."""
        if self._session is None:
            self._session = self._make_session(self.network, auth=self._auth())
        return self._session

    def _auth(self) -> httpx.Auth:
        from socialkit.auth import BearerAuth

        token = self._token_override or self.settings.access_token
        if token is not None:
            return BearerAuth(token)
        return _StoredTokenAuth(self)

    async def ensure_credentials(self) -> None:
        """A token in the settings or in the token store, or :func:`_not_logged_in`'s error.

        Raises ``AuthFlowError`` naming the login command. No request (reads the token store).
        """
        if self.settings.access_token is not None or self._token_override is not None:
            return
        if await self._tokens().get(self.name, self._account_key) is None:
            raise _not_logged_in(self)

    async def aclose(self) -> None:
        """Close the pipeline session (and the HTTP client, unless it was given). No request."""
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        await super().aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.session.request(method, path, **kwargs)

    async def _model(self, model: type[T] | Any, method: str, path: str, **kwargs: Any) -> Any:
        return await self.session.request_model(model, method, path, **kwargs)

    def _parse(self, model: type[T] | Any, response: httpx.Response) -> Any:
        """The pipeline's typed parse, for calls that need the response too (headers, status)."""
        return self.session.parse_model(model, response)

    def _id(self, value: object, what: str = "id") -> str:
        """``value`` if it is a Mastodon id (decimal digits), else a ValidationError before
        any request: every id this adapter puts into a URL path goes through here."""
        return check_id(self.name, value, ID_PATTERN, what)

    def _local(self, url: str) -> str:
        """A URL from a ``Link`` header, checked to stay on this server (the token is sent)."""
        base = httpx.URL(self._instance)
        target = httpx.URL(url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise MalformedResponseError(
                self.name, None, "foreign_link", "a Link header points outside the server"
            )
        return url

    def _link_max_id(self, response: httpx.Response) -> str | None:
        """The ``max_id`` of the ``Link: <…>; rel="next"`` page (checked to stay on this
        server and to be an id), or None at the end."""
        nxt = response.links.get("next", {}).get("url")
        if not nxt:
            return None
        values = parse_qs(urlsplit(self._local(nxt)).query).get("max_id")
        if not values or re.fullmatch(ID_PATTERN, values[0]) is None:
            raise MalformedResponseError(
                self.name, response.status_code, "bad_link", "a Link next page has no max_id"
            )
        return values[0]

    def _id_pages(
        self,
        model: Any,
        path: str | Callable[[], Awaitable[str]],
        params: list[tuple[str, str]],
        convert: Callable[[Any, PageAccounts], T | None],
        *,
        page: int,
        item_cursor: Callable[[Any], str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Callable[[str | None, int | None], Awaitable[Batch[T]]]:
        """The fetch function of a :class:`~socialkit.Paged` over one of Mastodon's id-paged
        lists (``max_id`` / ``since_id``, ``Link`` headers): the one paging loop of this
        adapter.

        The network cursor is the ``max_id`` of the next page. With ``item_cursor`` (lists
        whose ``max_id`` is the item's own id: statuses, notifications, scheduled statuses), a
        walk resumes right after any item. ``since`` and ``until`` go to the server as
        ``since_id`` / ``max_id`` (Mastodon's ids are snowflakes: milliseconds << 16), and
        :class:`~socialkit.Paged` checks each item's time as well."""
        from socialkit.adapters.mastodon import _mapping

        # Statuses from before Mastodon 2.0 (October 2017) have small sequential ids: an older
        # ``since`` is checked per item only, so that none of them is left out.
        pushed = since is not None and since >= SNOWFLAKES_SINCE
        bound_since = str(_snowflake(since) - 1) if since is not None and pushed else None
        bound_until = str(_snowflake(until + timedelta(milliseconds=1))) if until else None

        async def fetch(cursor: str | None, want: int | None) -> Batch[T]:
            max_id = self._id(cursor, "cursor") if cursor is not None else None
            if bound_until is not None and (max_id is None or int(bound_until) < int(max_id)):
                max_id = bound_until
            target = path if isinstance(path, str) else await path()
            while True:
                size = page if want is None else max(1, min(page, want))
                query = [*params, ("limit", str(size))]
                if max_id is not None:
                    query.append(("max_id", max_id))
                if bound_since is not None:
                    query.append(("since_id", bound_since))
                response = await self._request("GET", target, params=query)
                raw = self._parse(list[model], response)
                nxt = self._link_max_id(response) if raw else None
                items: list[T] = []
                cursors: list[str] = []
                accounts = _mapping.page_accounts(self._host)
                for entry in raw:
                    converted = convert(entry, accounts)
                    if converted is not None:
                        items.append(converted)
                        if item_cursor is not None:
                            cursors.append(item_cursor(entry))
                if items or nxt is None:
                    return Batch(items, nxt, cursors if item_cursor is not None else None)
                max_id = nxt  # a page of items this walk leaves out: read on

        return fetch

    def _statuses(
        self,
        path: str | Callable[[], Awaitable[str]],
        params: list[tuple[str, str]],
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
    ) -> Paged[Post]:
        """A Paged over a timeline of statuses (boosts read as the boosted post, timed and
        resumed by the boost)."""
        from socialkit.adapters.mastodon import _mapping, _wire

        fetch = self._id_pages(
            _wire.Status,
            path,
            params,
            lambda status, accounts: _mapping.post(status, self._host, accounts),
            page=PAGE_STATUSES,
            item_cursor=lambda status: status.id,
            since=since,
            until=until,
        )
        return Paged(
            fetch, since=since, until=until, limit=limit, cursor=cursor, time_of=_status_time
        )

    # -- instance limits -------------------------------------------------------------------

    def _info(self) -> _InstanceInfo:
        return self._instances.get(self._instance, _DEFAULT_INFO)

    def _sync_limits(self) -> None:
        self.limits = self._info().limits

    @classmethod
    def ex_forget_instances(cls) -> None:
        """Drop every cached server limit (the next ``publish`` reads them again). No request."""
        cls._instances.clear()

    async def ex_load_limits(self, *, force: bool = False) -> Limits:
        """Read the server's limits (``GET /api/v2/instance``) into the shared cache.

        Without ``force``, a cached value younger than a day is used. A server without the v2
        endpoint (before 4.0) answers 404: the stock limits are cached for it.

        One flight per server: callers that need the limits while a read is under way (a
        thousand concurrent first publishes) wait for that read instead of sending their own.
        A failed read is not cached: its waiters get its error, and the next call tries again.
        """
        import anyio.lowlevel

        loop = anyio.lowlevel.current_token()
        while True:
            cached = self._instances.get(self._instance)
            if cached is not None and not force and time.time() - cached.loaded_at < INSTANCE_TTL:
                self.limits = cached.limits
                return cached.limits
            flight = self._flights.get(self._instance)
            if flight is not None and flight.loop == loop:
                await flight.done.wait()
                if flight.error is not None:
                    raise flight.error
                if flight.info is not None:
                    self.limits = flight.info.limits
                    return flight.info.limits
                continue  # the reader was cancelled: read again
            return await self._read_instance(loop)

    async def _read_instance(self, loop: object) -> Limits:
        import anyio

        from socialkit.adapters.mastodon import _wire

        flight = _Flight(anyio.Event(), loop)
        self._flights[self._instance] = flight
        try:
            try:
                instance: _wire.Instance = await self._model(
                    _wire.Instance, "GET", "/api/v2/instance"
                )
            except NotFoundError:
                info = replace(_DEFAULT_INFO, loaded_at=time.time())
            else:
                info = _info_from(instance)
            self._instances[self._instance] = info
            flight.info = info
        except Exception as exc:
            flight.error = exc
            raise
        finally:
            if self._flights.get(self._instance) is flight:
                del self._flights[self._instance]
            flight.done.set()
        self.limits = info.limits
        return info.limits

    # -- pre-flight ------------------------------------------------------------------------

    def check(self, post: Post) -> list[Problem]:
        """Offline pre-flight against the cached limits of this server (or a stock server's).

        Returns every problem found (``[]`` when the post is fine); raises nothing. Network
        calls: none (``publish`` loads the server's limits first)."""
        self._sync_limits()
        return super().check(post)

    def _check_extra(self, post: Post) -> list[Problem]:
        info = self._info()
        limits = info.limits
        problems: list[Problem] = []
        items = post.posts()
        if post.scheduled_at is not None and len(items) > 1:
            problems.append(
                Problem(
                    code="unsupported",
                    message="mastodon cannot schedule a thread (later posts reply to the first)",
                    field="scheduled_at",
                )
            )
        for index, item in enumerate(items):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            where = "the post" if index == 0 else f"post thread[{index - 1}]"
            if limits.max_text is not None:
                plain = limits.count(item.text)
                full = count_mastodon(
                    _compose_text(item),
                    item.content_warning or "",
                    characters_reserved_per_url=info.reserved_per_url,
                )
                if plain <= limits.max_text < full:
                    problems.append(
                        Problem(
                            code="text_too_long",
                            message=(
                                f"the text of {where} with its content warning and link is "
                                f"{full} characters long; mastodon allows {limits.max_text}"
                            ),
                            field=f"{prefix}text",
                            limit=limits.max_text,
                            actual=full,
                        )
                    )
            if item.media and item.poll is not None:
                problems.append(
                    Problem(
                        code="media_and_poll",
                        message=f"mastodon cannot attach both media and a poll to {where}",
                        field=f"{prefix}poll",
                    )
                )
            if item.poll is not None:
                if not _compose_text(item).strip():
                    problems.append(
                        Problem(
                            code="text_required",
                            message=f"mastodon needs text with the poll of {where}",
                            field=f"{prefix}text",
                        )
                    )
                seconds = int(item.poll.duration.total_seconds())
                if not info.poll_min <= seconds <= info.poll_max:
                    problems.append(
                        Problem(
                            code="poll_duration",
                            message=(
                                f"the poll of {where} lasts {seconds} s; mastodon allows "
                                f"{info.poll_min} to {info.poll_max} s"
                            ),
                            field=f"{prefix}poll.duration",
                            limit=info.poll_max if seconds > info.poll_max else info.poll_min,
                            actual=seconds,
                        )
                    )
            if item.quote_of is not None and (
                info.api_version is not None and info.api_version < QUOTES_API_VERSION
            ):
                problems.append(
                    Problem(
                        code="unsupported",
                        message=(
                            "this mastodon server does not support quote posts "
                            f"(API version {info.api_version}; quotes need {QUOTES_API_VERSION}, "
                            "Mastodon 4.5)"
                        ),
                        field=f"{prefix}quote_of",
                    )
                )
        seen: set[str] = set()
        for index, item in enumerate(items):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            for number, media in enumerate(item.media):
                upload = media.uploaded
                if upload is None or upload.network != self.name:
                    continue
                fld = f"{prefix}media[{number}]"
                if upload.id in self._used_uploads or upload.id in seen:
                    problems.append(
                        Problem(
                            code="upload_used",
                            message=(
                                f"{fld} is upload {upload.id}, already attached to a status; "
                                "a mastodon attachment belongs to one status: upload it again"
                            ),
                            field=fld,
                        )
                    )
                seen.add(upload.id)
        if post.scheduled_at is not None and post.id is None:
            ahead = post.scheduled_at - _now()
            if ahead < MIN_SCHEDULE_AHEAD:
                problems.append(
                    Problem(
                        code="scheduled_too_soon",
                        message=(
                            "mastodon schedules posts at least 5 minutes ahead; this one is "
                            f"{max(0, int(ahead.total_seconds()))} s ahead"
                        ),
                        field="scheduled_at",
                        limit=int(MIN_SCHEDULE_AHEAD.total_seconds()),
                        actual=int(ahead.total_seconds()),
                    )
                )
        return problems

    # -- account ---------------------------------------------------------------------------

    async def _me_wire(self, *, fresh: bool = False) -> _wire.Account:
        from socialkit.adapters.mastodon import _wire

        if self._me is None or fresh:
            self._me = await self._model(
                _wire.Account, "GET", "/api/v1/accounts/verify_credentials"
            )
        assert self._me is not None
        return self._me

    async def me(self) -> Account:
        """The account of the token (``GET /api/v1/accounts/verify_credentials``)."""
        from socialkit.adapters.mastodon import _mapping

        return _mapping.account(await self._me_wire(fresh=True), self._host)

    # -- engagement ------------------------------------------------------------------------
    # Mastodon's actions are idempotent themselves (favouriting twice answers the status, as
    # does unfavouriting a status not favourited), so they are retried like writes.

    async def _status_action(self, post_id: str, action: str) -> None:
        path = f"/api/v1/statuses/{self._id(post_id, 'status id')}/{action}"
        await self._request("POST", path, kind="write")

    async def like(self, post_id: str) -> None:
        """Favourite a status (``POST /api/v1/statuses/:id/favourite``)."""
        await self._status_action(post_id, "favourite")

    async def unlike(self, post_id: str) -> None:
        """Take a favourite back (``POST /api/v1/statuses/:id/unfavourite``)."""
        await self._status_action(post_id, "unfavourite")

    async def repost(self, post_id: str) -> None:
        """Boost a status (``POST /api/v1/statuses/:id/reblog``, public); boosting it again
        changes nothing. Private and direct statuses cannot be boosted (the server's 422)."""
        path = f"/api/v1/statuses/{self._id(post_id, 'status id')}/reblog"
        await self._request("POST", path, json={"visibility": "public"}, kind="write")

    async def unrepost(self, post_id: str) -> None:
        """Undo a boost (``POST /api/v1/statuses/:id/unreblog``)."""
        await self._status_action(post_id, "unreblog")

    async def bookmark(self, post_id: str) -> None:
        """Bookmark a status (``POST /api/v1/statuses/:id/bookmark``)."""
        await self._status_action(post_id, "bookmark")

    async def unbookmark(self, post_id: str) -> None:
        """Remove a bookmark (``POST /api/v1/statuses/:id/unbookmark``)."""
        await self._status_action(post_id, "unbookmark")

    async def _account_action(self, account: Account | str, action: str) -> None:
        from socialkit.adapters.mastodon import _wire

        account_id = await self._account_id(account)
        # follow and mute take an optional JSON body (schema.json): sent empty, the server's
        # defaults apply (boosts shown, notifications muted, no time limit).
        body: dict[str, Any] | None = {} if action in ("follow", "mute") else None
        await self._model(
            _wire.Relationship,
            "POST",
            f"/api/v1/accounts/{account_id}/{action}",
            json=body,
            kind="write",
        )

    async def follow(self, account: Account | str) -> None:
        """Follow an account (``POST /api/v1/accounts/:id/follow``; see :meth:`account` for
        ids and handles). A locked account gets a follow request instead, which it approves."""
        await self._account_action(account, "follow")

    async def unfollow(self, account: Account | str) -> None:
        """Stop following an account, or withdraw a follow request
        (``POST /api/v1/accounts/:id/unfollow``)."""
        await self._account_action(account, "unfollow")

    async def block(self, account: Account | str) -> None:
        """Block an account (``POST /api/v1/accounts/:id/block``): it unfollows both ways."""
        await self._account_action(account, "block")

    async def unblock(self, account: Account | str) -> None:
        """Unblock an account (``POST /api/v1/accounts/:id/unblock``)."""
        await self._account_action(account, "unblock")

    async def mute(self, account: Account | str) -> None:
        """Mute an account and its notifications, without time limit
        (``POST /api/v1/accounts/:id/mute``)."""
        await self._account_action(account, "mute")

    async def unmute(self, account: Account | str) -> None:
        """Unmute an account (``POST /api/v1/accounts/:id/unmute``)."""
        await self._account_action(account, "unmute")

    # -- people and feeds ------------------------------------------------------------------

    async def account(self, handle_or_id: str) -> Account:
        """Look an account up by handle or by id.

        Mastodon ids are decimal numbers, and a username may be all digits too, so: a string
        that starts with ``@`` is always a handle (``"@1234"`` is the user ``1234`` on this
        server, ``"@bob@example.social"`` a remote one), looked up with
        ``GET /api/v1/accounts/lookup?acct=``; a string of digits alone is an id, read with
        ``GET /api/v1/accounts/:id``; any other string (``bob``, ``bob@example.social``) is a
        handle. Raises :class:`~socialkit.NotFoundError` when there is no such account."""
        from socialkit.adapters.mastodon import _mapping, _wire

        self._require(Capability.ACCOUNTS)
        if not isinstance(handle_or_id, str) or not handle_or_id.strip():
            raise ValidationError("an account handle or id is needed")
        text = handle_or_id.strip()
        if re.fullmatch(ID_PATTERN, text):
            found: _wire.Account = await self._model(
                _wire.Account, "GET", f"/api/v1/accounts/{text}"
            )
        else:
            found = await self._lookup(text)
        return _mapping.account(found, self._host)

    def _accounts(
        self, account: Account | str | None, which: str, limit: int | None, cursor: str | None
    ) -> Paged[Account]:
        from socialkit.adapters.mastodon import _wire

        found: list[str] = []

        async def path() -> str:
            if not found:
                found.append(f"/api/v1/accounts/{await self._account_id(account)}/{which}")
            return found[0]

        # The pages are keyed by the follow's own id (not the account's): the cursor is the
        # next page's ``max_id`` and how many of its accounts were read.
        fetch = self._id_pages(
            _wire.Account,
            path,
            [],
            lambda item, accounts: accounts(item),
            page=PAGE_ACCOUNTS,
        )
        return Paged(fetch, limit=limit, cursor=cursor)

    def followers(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The followers of ``account`` (default: this account), most recent follow first
        (``GET /api/v1/accounts/:id/followers``, 80 a page, ``Link`` paging). A server may
        hide an account's followers (``hide_collections``): the list is then empty."""
        return self._accounts(account, "followers", limit, cursor)

    def following(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The accounts ``account`` (default: this account) follows, most recent first
        (``GET /api/v1/accounts/:id/following``)."""
        return self._accounts(account, "following", limit, cursor)

    def timeline(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The home timeline (``GET /api/v1/timelines/home``): statuses and boosts of the
        accounts this account follows, newest first. A boost reads as the boosted post (its
        ``raw`` is the boost, whose time places it)."""
        return self._statuses(
            "/api/v1/timelines/home", [], since=since, until=until, limit=limit, cursor=cursor
        )

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The account's lists (``GET /api/v1/lists``, one unpaged answer)."""
        from socialkit.adapters.mastodon import _mapping, _wire

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Feed]:
            lists: list[_wire.List] = await self._model(list[_wire.List], "GET", "/api/v1/lists")
            return Batch([_mapping.feed(item) for item in lists])

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
        """The statuses of one of the account's lists (a :class:`Feed` from :meth:`feeds`, or a
        list id), newest first (``GET /api/v1/timelines/list/:list_id``)."""
        if isinstance(feed, Feed):
            if feed.network != self.name:
                raise ValidationError(f"{feed.network} feed {feed.id!r} is not on mastodon")
            list_id = feed.id
        else:
            list_id = feed
        path = f"/api/v1/timelines/list/{self._id(list_id, 'list id')}"
        return self._statuses(path, [], since=since, until=until, limit=limit, cursor=cursor)

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Followers, following and statuses now. Mastodon keeps no history of these.

        Returns the three current counts as ``Metric``. Raises ``UnsupportedError`` for a
        ``since`` / ``until`` window. Network calls: ``GET /api/v1/accounts/verify_credentials``.
        """
        from socialkit.adapters.mastodon import _mapping

        if since is not None or until is not None:
            raise UnsupportedError(
                self.name, "account metrics over a window", "Mastodon reports current totals only"
            )
        return _mapping.account_metrics(await self._me_wire(fresh=True), _now())

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Publish ``post`` (a thread, a poll, media, a scheduled status …).

        Loads the server's limits first (once per server and day), then checks the post
        against them and raises :class:`~socialkit.InvalidPostError` before anything is sent.
        A post with ``scheduled_at`` comes back as the scheduled status: its ``id`` is the
        ScheduledStatus id (for :meth:`ex_cancel_scheduled`), ``url`` is None.

        Every status is created with an ``Idempotency-Key`` (``idempotency_key``, or one made
        for this call; the posts of a thread get ``key/1``, ``key/2`` …). Mastodon keeps a key
        for an hour and answers a create sent again under it with the status it already made.
        When no readable answer came back for a create (every attempt lost its answer, a 5xx,
        a 2xx body that cannot be read), :class:`~socialkit.OutcomeUnknownError` carries the
        key: ``publish`` again with it, within the hour, publishes the post once.

        Returns the post as published (with ``thread`` filled for a thread). Raises
        ``InvalidPostError``, ``OutcomeUnknownError``, ``ThreadIncompleteError`` and the
        pipeline's errors. Network calls: ``GET /api/v2/instance`` (once per server and day),
        ``POST /api/v2/media`` and ``GET /api/v1/media/:id`` per attachment until processed,
        ``POST /api/v1/statuses`` per post.
        """
        await self.ex_load_limits()
        return await super().publish(post, idempotency_key=idempotency_key)

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        # One key per publish call when the caller gives none, so that the posts of a thread
        # get keys derived from it (``key/1`` …) like a caller's key.
        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        return await super()._publish(post, idempotency_key=key)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        from socialkit.adapters.mastodon import _mapping, _wire

        key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
        try:
            media_ids = [await self._attach(item) for item in post.media]
        except OutcomeUnknownError as exc:
            # An upload whose answer was lost: no status exists yet, so publishing again
            # under the same key is safe (at worst an unused upload stays behind).
            raise OutcomeUnknownError(
                self.name, exc.method, exc.path, exc.__cause__, idempotency_key=key
            ) from exc
        body = self._status_body(post, media_ids)
        path = "/api/v1/statuses"
        try:
            response = await self._request("POST", path, json=body, idempotency_key=key)
            result = self._parse(_wire.Status | _wire.ScheduledStatus, response)
        except (OutcomeUnknownError, TransportError, ServerError, MalformedResponseError) as exc:
            # The create may have reached the server (a lost answer, a 5xx after sending, an
            # unreadable 2xx): Mastodon's idempotency makes a publish under the same key safe.
            raise OutcomeUnknownError(self.name, "POST", path, exc, idempotency_key=key) from exc
        for item in post.media:
            if item.uploaded is not None:
                self._used_uploads.add(item.uploaded.id)
        if isinstance(result, _wire.ScheduledStatus):
            return _mapping.scheduled_post(result)
        return _mapping.post(result, self._host)

    def _status_body(self, post: Post, media_ids: list[str]) -> dict[str, Any]:
        from socialkit.adapters.mastodon import _mapping

        body: dict[str, Any] = {}
        text = _compose_text(post)
        if text:
            body["status"] = text
        if media_ids:
            body["media_ids"] = media_ids
        if post.poll is not None:
            body["poll"] = {
                "options": list(post.poll.options),
                "expires_in": int(post.poll.duration.total_seconds()),
                "multiple": post.poll.multiple,
            }
        if post.reply_to is not None:
            body["in_reply_to_id"] = self._id(post.reply_to, "status id")
        if post.quote_of is not None:
            body["quoted_status_id"] = self._id(post.quote_of, "status id")
        body["visibility"] = _mapping.VISIBILITY_OUT[post.visibility]
        if post.sensitive:
            body["sensitive"] = True
        if post.content_warning:
            body["spoiler_text"] = post.content_warning
        if post.language:
            body["language"] = post.language
        if post.scheduled_at is not None:
            body["scheduled_at"] = _iso(post.scheduled_at)
        return body

    async def _attach(self, media: Media) -> str:
        """The attachment id for ``media``: an earlier :meth:`upload` as it is (its alt text
        updated when the post gives another), anything else uploaded now."""
        uploaded = media.uploaded
        if uploaded is None:
            return (await self._upload_attachment(media)).id
        media_id = self._id(uploaded.id, "media id")
        if media.alt is not None and media.alt != uploaded.alt:
            await self._request(
                "PUT",
                f"/api/v1/media/{media_id}",
                files={"description": (None, media.alt)},
            )
        return media_id

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload media on its own (``POST /api/v2/media``), waiting until the server has
        processed it, to attach later with :meth:`Media.from_upload
        <socialkit.Media.from_upload>`.

        A Mastodon attachment belongs to the first status that uses it (``reusable`` is
        False): a second post with the same upload fails :meth:`check` when this adapter
        attached it, and the server refuses it (422) otherwise. An attachment no status uses
        is deleted by the server after a day or so (``expires_at`` is not given)."""
        from socialkit.adapters.mastodon import _mapping

        self._require(Capability.UPLOAD)
        if media.uploaded is not None:
            raise ValidationError("this media is already an upload; attach it with from_upload")
        attachment = await self._upload_attachment(media)
        read = _mapping.media(attachment)
        return UploadedMedia(
            id=attachment.id,
            network=self.name,
            kind=media.kind,
            mime_type=media.mime_type,
            alt=attachment.description or media.alt,
            size=media.size,
            width=(read.width if read is not None else None) or media.width,
            height=(read.height if read is not None else None) or media.height,
            url=attachment.url,
            reusable=False,
            raw=attachment,
        )

    async def _upload_attachment(self, media: Media) -> _wire.MediaAttachment:
        """Upload one attachment (``POST /api/v2/media``) and wait until it is processed;
        returns the processed attachment."""
        from socialkit.adapters.mastodon import _wire

        if media.url is not None:
            content = await self._fetch(media)
        else:
            content = media.read()
        files = {"file": (media.filename, content, media.mime_type)}
        data = {"description": media.alt} if media.alt else None
        response = await self._request("POST", "/api/v2/media", files=files, data=data)
        attachment: _wire.MediaAttachment = self._parse(_wire.MediaAttachment, response)
        if response.status_code == 202 or attachment.url is None:
            attachment = await self._wait_for_media(attachment.id)
        return attachment

    async def _fetch(self, media: Media) -> bytes:
        # A media URL is another host: fetched without this server's token, and only from a
        # public address (or one the media_fetch_allow setting names).
        from socialkit._http import MediaFetcher

        return await MediaFetcher.for_settings(self.settings).fetch(media)

    async def _wait_for_media(self, media_id: str) -> _wire.MediaAttachment:
        """Poll ``GET /api/v1/media/:id`` while the server answers 206 (still processing).

        Not a retry loop: a processing wait. The first pause is ``media_poll_interval``, each
        next one 1.5 times longer up to 5 s; it gives up (``socialkit.TimeoutError``) after
        ``media_timeout`` seconds or ``media_max_polls`` checks, whichever comes first, so a
        status never attaches unprocessed media (Mastodon's 422 "unprocessed file").
        """
        from socialkit.adapters.mastodon import _wire

        settings = self.settings
        started = time.monotonic()
        delay = settings.media_poll_interval
        for _ in range(settings.media_max_polls):
            await self._pause(delay)
            response = await self._request("GET", f"/api/v1/media/{self._id(media_id, 'media id')}")
            if response.status_code == 200:
                attachment: _wire.MediaAttachment = self._parse(_wire.MediaAttachment, response)
                if attachment.url is not None:
                    return attachment
            if time.monotonic() - started >= settings.media_timeout:
                break
            delay = min(delay * 1.5, 5.0)
        raise TimeoutError(
            self.name,
            f"media {media_id} was still being processed after {time.monotonic() - started:.0f} s "
            f"({settings.media_max_polls} checks at most, {settings.media_timeout:.0f} s at most)",
        )

    async def _pause(self, seconds: float) -> None:
        if self.settings.retry_wait:
            import anyio

            await anyio.sleep(seconds)

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a status's text, content warning, sensitivity, language, media or poll
        (``PUT /api/v1/statuses/:id``). Visibility, reply and quote cannot change on Mastodon.
        Media given here replace the status's media (new uploads); no media removes them."""
        from socialkit.adapters.mastodon import _mapping, _wire

        status_id = self._id(post_id, "status id")
        await self.ex_load_limits()  # the server's own limits, as publish uses
        problems = self.check(post)
        for fld, value in (("thread", post.thread), ("scheduled_at", post.scheduled_at)):
            if value:
                problems.append(
                    Problem(
                        code="unsupported",
                        message=f"an edit cannot change {fld} on mastodon",
                        field=fld,
                    )
                )
        if problems:
            raise InvalidPostError(self.name, problems)
        media_ids = [await self._attach(item) for item in post.media]
        body: dict[str, Any] = {"status": _compose_text(post), "sensitive": post.sensitive}
        body["spoiler_text"] = post.content_warning or ""
        if post.language:
            body["language"] = post.language
        body["media_ids"] = media_ids
        if post.poll is not None:
            body["poll"] = {
                "options": list(post.poll.options),
                "expires_in": int(post.poll.duration.total_seconds()),
                "multiple": post.poll.multiple,
            }
        status = await self._model(_wire.Status, "PUT", f"/api/v1/statuses/{status_id}", json=body)
        return _mapping.post(status, self._host)

    async def delete(self, post_id: str) -> None:
        """Delete a status (``DELETE /api/v1/statuses/:id``, the ``delete`` bucket)."""
        await self._request("DELETE", f"/api/v1/statuses/{self._id(post_id, 'status id')}")

    # -- scheduled statuses ----------------------------------------------------------------

    def ex_scheduled(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Post]:
        """The account's scheduled statuses (``GET /api/v1/scheduled_statuses``), as Posts with
        ``scheduled_at`` set and the ScheduledStatus id as ``id``."""
        from socialkit.adapters.mastodon import _mapping, _wire

        fetch = self._id_pages(
            _wire.ScheduledStatus,
            "/api/v1/scheduled_statuses",
            [],
            lambda item, _: _mapping.scheduled_post(item),
            page=PAGE_STATUSES,
            item_cursor=lambda item: item.id,
        )
        return Paged(fetch, limit=limit, cursor=cursor)

    async def ex_cancel_scheduled(self, scheduled_id: str) -> None:
        """Cancel a scheduled status (``DELETE /api/v1/scheduled_statuses/:id``)."""
        await self._request(
            "DELETE", f"/api/v1/scheduled_statuses/{self._id(scheduled_id, 'scheduled status id')}"
        )

    async def ex_reschedule(self, scheduled_id: str, when: datetime) -> Post:
        """Move a scheduled status (``PUT /api/v1/scheduled_statuses/:id``), 5 minutes ahead at
        least."""
        from socialkit.adapters.mastodon import _mapping, _wire

        if when.tzinfo is None or when.utcoffset() is None:
            raise ValidationError("when must be timezone-aware")
        if when - _now() < MIN_SCHEDULE_AHEAD:
            raise InvalidPostError(
                self.name,
                [
                    Problem(
                        code="scheduled_too_soon",
                        message="mastodon schedules posts at least 5 minutes ahead",
                        field="scheduled_at",
                    )
                ],
            )
        item = await self._model(
            _wire.ScheduledStatus,
            "PUT",
            f"/api/v1/scheduled_statuses/{self._id(scheduled_id, 'scheduled status id')}",
            json={"scheduled_at": _iso(when)},
        )
        return _mapping.scheduled_post(item)

    async def ex_scheduled_outcome(self, scheduled: Post) -> Post | None:
        """What became of a scheduled status once its time has passed. ``scheduled`` is the
        post as :meth:`publish` returned it: its ``id`` (the ScheduledStatus id), its text and
        its ``scheduled_at``.

        Returns the scheduled post (``scheduled_at`` set) while the server still holds it
        (``GET /api/v1/scheduled_statuses/:id``). Once that answers 404, the status it became,
        which has an id of its own: the account's statuses since its time (``GET
        /api/v1/accounts/:id/statuses``) are searched for its attachments when ``scheduled``
        has their ids, as the post :meth:`publish` returned does (the status carries the
        scheduled status's attachments, ids and all: exact, whatever the server did to the
        text), else for its text and number of attachments. ``None`` when none has it
        (cancelled, or dropped by the server: its reply target was deleted, say)."""
        from socialkit.adapters.mastodon import _mapping, _wire

        if scheduled.id is None or scheduled.scheduled_at is None:
            raise ValidationError("the scheduled post needs its id and scheduled_at")
        path = f"/api/v1/scheduled_statuses/{self._id(scheduled.id, 'scheduled status id')}"
        try:
            item = await self._model(_wire.ScheduledStatus, "GET", path)
        except NotFoundError:
            pass
        else:
            return _mapping.scheduled_post(item)
        media = [m.id for m in scheduled.media]
        by_media = bool(media) and None not in media
        wanted = " ".join(_compose_text(scheduled).split())
        since = scheduled.scheduled_at - MIN_SCHEDULE_AHEAD
        found: Post | None = None
        async for status in self.posts(since=since):
            if by_media:
                if [m.id for m in status.media] == media:
                    return status  # attachment ids belong to one status only
            elif (
                len(status.media) == len(media)
                and " ".join(_compose_text(status).split()) == wanted
            ):
                found = status  # newest first: the last match is the one nearest the time
        return found

    # -- reading ---------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One status (``GET /api/v1/statuses/:id``)."""
        from socialkit.adapters.mastodon import _mapping, _wire

        status = await self._model(
            _wire.Status, "GET", f"/api/v1/statuses/{self._id(post_id, 'status id')}"
        )
        return _mapping.post(status, self._host)

    async def _account_id(self, account: Account | str | None) -> str:
        """The id of ``account`` (this account when None), looked up only for a handle."""
        if account is None:
            return (await self._me_wire()).id
        if isinstance(account, Account):
            if account.network not in (None, self.name):
                raise ValidationError(
                    f"{account.network} account {account.id!r} is not on mastodon"
                )
            return self._id(account.id, "account id")
        if not isinstance(account, str):
            raise ValidationError(f"{account!r} is not an account, an id or a handle")
        text = account.strip()
        if re.fullmatch(ID_PATTERN, text):
            return text
        return (await self._lookup(text)).id

    async def _lookup(self, handle: str) -> _wire.Account:
        from socialkit.adapters.mastodon import _wire

        if HANDLE_PATTERN.fullmatch(handle) is None:
            raise ValidationError(
                f"{handle!r} is not a mastodon handle (user or user@domain) nor an account id"
            )
        acct = handle.lstrip("@")
        found: _wire.Account = await self._model(
            _wire.Account, "GET", "/api/v1/accounts/lookup", params={"acct": acct}
        )
        return found

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Statuses of the account (or of ``account``: an id, or a handle such as
        ``user@host`` looked up with ``GET /api/v1/accounts/lookup``; see :meth:`account`),
        newest first, page by page as iterated (``GET /api/v1/accounts/:id/statuses``).

        Reblogs are left out: they are other people's posts."""

        found: list[str] = []

        async def path() -> str:
            if not found:
                found.append(f"/api/v1/accounts/{await self._account_id(account)}/statuses")
            return found[0]

        return self._statuses(
            path,
            [("exclude_reblogs", "true")],
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    async def ex_context(self, post_id: str) -> list[Message]:
        """The replies under a status, at every depth (``GET /api/v1/statuses/:id/context``
        ``descendants``), as Messages of kind ``reply`` in the server's (thread) order; each
        one's ``post_id`` is the status it answers."""
        from socialkit.adapters.mastodon import _mapping, _wire

        context: _wire.Context = await self._model(
            _wire.Context, "GET", f"/api/v1/statuses/{self._id(post_id, 'status id')}/context"
        )
        return [_mapping.message(s, "reply", self._host) for s in context.descendants]

    # -- metrics ---------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Replies, reposts (reblogs), likes (favourites) and quotes of each status, read 20 at
        a time with ``GET /api/v1/statuses?id[]=…`` (one ``GET /api/v1/statuses/:id`` each on
        servers before 4.3). Statuses the server does not return (deleted, not visible) are
        left out of the result."""
        from socialkit.adapters.mastodon import _mapping, _wire

        ids = [self._id(i, "status id") for i in dict.fromkeys(post_ids)]
        out: dict[str, list[Metric]] = {}
        measured = _now()
        for start in range(0, len(ids), STATUSES_PER_BATCH):
            chunk = ids[start : start + STATUSES_PER_BATCH]
            try:
                statuses: list[_wire.Status] = await self._model(
                    list[_wire.Status],
                    "GET",
                    "/api/v1/statuses",
                    params=[("id[]", i) for i in chunk],
                )
            except NotFoundError:
                statuses = []
                for one in chunk:
                    try:
                        statuses.append(
                            await self._model(
                                _wire.Status,
                                "GET",
                                f"/api/v1/statuses/{self._id(one, 'status id')}",
                            )
                        )
                    except NotFoundError:
                        continue
            for status in statuses:
                if status.id in chunk:
                    out[status.id] = _mapping.post_metrics(status, measured)
        return out

    # -- messages --------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Mentions, replies, quotes and private mentions, newest first, page by page, from
        the notifications (``GET /api/v1/notifications``, types ``mention`` and ``quote``): a
        mention whose status answers one of the account's statuses is a ``reply``, a private
        mention a ``direct``, any other a ``mention``; a quote notification a ``quote``
        (``post_id``: the quoted status).

        Every private mention arrives as a notification, so each is read once, there (a
        conversation's list, ``GET /api/v1/conversations``, shows only its last status).
        ``id`` is the status id, which :meth:`reply` answers; the cursor resumes right after
        the last notification read.
        """
        from socialkit.adapters.mastodon import _mapping, _wire

        wanted = kinds_filter(kinds)
        if limit == 0 or not wanted & {"mention", "reply", "quote", "direct"}:
            return Paged(_nothing, limit=limit, cursor=cursor)
        params = [("types[]", "mention")]
        if "quote" in wanted:
            params.append(("types[]", "quote"))
        me_id: list[str] = []

        def convert(item: _wire.Notification, accounts: PageAccounts) -> Message | None:
            status = item.status
            if status is None:
                return None
            kind: MessageKind
            post_id = None
            if item.type == "quote":
                kind = "quote"
                post_id = status.quote.status_id if status.quote is not None else None
            elif item.type != "mention":
                return None
            elif status.visibility == "direct":
                kind = "direct"
            elif status.in_reply_to_account_id == me_id[0]:
                kind = "reply"
            else:
                kind = "mention"
            if kind not in wanted:
                return None
            return _mapping.message(status, kind, self._host, post_id=post_id, accounts=accounts)

        async def path() -> str:
            if not me_id:
                me_id.append((await self._me_wire()).id)
            return "/api/v1/notifications"

        fetch = self._id_pages(
            _wire.Notification,
            path,
            params,
            convert,
            page=PAGE_NOTIFICATIONS,
            item_cursor=lambda item: item.id,
            since=None,  # notification ids are not snowflakes: ``since`` is checked per item
        )
        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a message (or the status with id ``to``).

        Answering a :class:`Message` mentions its author at the start of the text (unless the
        text already does), as Mastodon's own apps do, so that the author is notified; a
        ``direct`` message is answered with ``direct`` visibility.

        Returns the reply as published; raises as :meth:`publish`. Network calls: those of
        :meth:`publish` (``POST /api/v1/statuses`` with ``in_reply_to_id``).
        """
        reply = as_post(post)
        update: dict[str, Any] = {}
        if isinstance(to, Message):
            target = to.id
            handle = to.author.handle
            if handle:
                mention = "@" + handle.lstrip("@")
                if mention.lower() not in reply.text.lower():
                    update["text"] = f"{mention} {reply.text}".rstrip()
            if to.kind == "direct":
                update["visibility"] = "direct"
        else:
            target = to
        update["reply_to"] = target
        return await self.publish(reply.model_copy(update=update))

    # -- search ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Statuses matching ``query`` (``GET /api/v2/search?type=statuses&resolve=true``).

        What a server finds depends on its search setup (full-text search needs
        Elasticsearch/OpenSearch; without it, only URLs and the account's own posts). Results
        are paged by ``offset`` (the cursor keeps it) and are not in time order; ``since`` and
        ``until`` go to the server as ``min_id`` / ``max_id`` (snowflakes), so a search that
        polls with ``since`` (listening) reads only what is newer, however long the history,
        and each item's time is checked as well.
        """
        from socialkit.adapters.mastodon import _mapping, _wire

        if not query.strip():
            raise ValidationError("the search query must not be empty")
        bounds: list[tuple[str, str]] = []
        if since is not None and since >= SNOWFLAKES_SINCE:
            bounds.append(("min_id", str(_snowflake(since) - 1)))
        if until is not None:
            bounds.append(("max_id", str(_snowflake(until + timedelta(milliseconds=1)))))

        async def fetch(cursor: str | None, want: int | None) -> Batch[Post]:
            offset = int(self._id(cursor, "cursor")) if cursor is not None else 0
            size = PAGE_STATUSES if want is None else max(1, min(PAGE_STATUSES, want))
            result: _wire.Search = await self._model(
                _wire.Search,
                "GET",
                "/api/v2/search",
                params=[
                    ("q", query),
                    ("type", "statuses"),
                    ("resolve", "true"),
                    ("limit", str(size)),
                    ("offset", str(offset)),
                    *bounds,
                ],
            )
            found = [_mapping.post(status, self._host) for status in result.statuses]
            more = str(offset + len(found)) if len(result.statuses) >= size else None
            return Batch(found, more)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=_status_time,
            ordered=False,
        )

    async def ex_search_hashtags(self, query: str, *, limit: int = 20) -> list[_wire.Hashtag]:
        """Hashtags matching ``query`` (``GET /api/v2/search?type=hashtags``), each with its
        ``name``, ``url`` and recent use (``uses_recently``)."""
        from socialkit.adapters.mastodon import _wire

        text = query.strip().lstrip("#")
        if not text:
            raise ValidationError("the hashtag query must not be empty")
        result: _wire.Search = await self._model(
            _wire.Search,
            "GET",
            "/api/v2/search",
            params=[("q", text), ("type", "hashtags"), ("limit", str(max(1, min(limit, 40))))],
        )
        return list(result.hashtags)

    def ex_hashtag_timeline(
        self,
        tag: str,
        *,
        local: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Public statuses with ``#tag`` (``GET /api/v1/timelines/tag/:hashtag``), newest first,
        page by page; ``local`` keeps this server's statuses only."""
        name = tag.strip().lstrip("#")
        if not name:
            raise ValidationError("tag must not be empty")
        params = [("local", "true")] if local else []
        return self._statuses(
            f"/api/v1/timelines/tag/{path_segment(name)}",
            params,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    # -- real time -------------------------------------------------------------------------

    def stream(
        self,
        *,
        kinds: Iterable[StreamKind] | None = None,
        query: str | Iterable[str] | None = None,
        cursor: str | None = None,
        policy: StreamPolicy | None = None,
        ex_list: str | None = None,
        ex_local: bool = False,
    ) -> EventStream:
        """Events from Mastodon's streaming API (server-sent events; see
        ``socialkit.adapters.mastodon._stream``): without ``query``, the ``user`` stream (home
        timeline posts, mentions, replies, quotes, private mentions, deletions); with a
        ``#tag``, the ``hashtag`` stream; with keywords or several tags, the ``public`` stream
        matched here; ``ex_list`` streams a list, ``ex_local`` keeps this server's posts. A
        reconnect (or ``cursor``) reads what was missed from the REST API first."""
        from socialkit.adapters.mastodon import _stream

        spec = _stream.plan(kinds, query, ex_list=ex_list, ex_local=ex_local, check_id=self._id)
        return _stream.open_stream(self, spec, cursor=cursor, policy=policy)

    # -- login -----------------------------------------------------------------------------

    async def ex_register_app(
        self,
        client_name: str,
        redirect_uris: Iterable[str],
        *,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        website: str | None = None,
    ) -> _wire.Application:
        """Register an application on the server (``POST /api/v1/apps``), sent without a token.

        Keep ``client_id`` and ``client_secret`` (settings of the same names) for
        :meth:`ex_authorization_url` and :meth:`ex_exchange_code`.
        """
        from socialkit.adapters.mastodon import _wire

        uris = list(redirect_uris)
        if not client_name.strip() or not uris:
            raise ValidationError("client_name and at least one redirect URI are needed")
        body: dict[str, Any] = {
            "client_name": client_name,
            "redirect_uris": uris,
            "scopes": " ".join(scopes),
        }
        if website:
            body["website"] = website
        app: _wire.Application = await self._model(
            _wire.Application, "POST", "/api/v1/apps", json=body, auth=None
        )
        return app

    def _oauth_client(self, redirect_uri: str | None, scopes: Iterable[str]) -> Any:
        from socialkit.auth import OAuth2Client, OAuth2Config

        if self.settings.client_id is None:
            raise ConfigurationError(
                "mastodon login needs client_id (and client_secret): register an app with "
                "ex_register_app first"
            )
        try:
            config = OAuth2Config(
                network=self.name,
                authorization_endpoint=f"{self._instance}/oauth/authorize",
                token_endpoint=f"{self._instance}/oauth/token",
                client_id=self.settings.client_id.get_secret_value(),
                client_secret=self.settings.client_secret,
                scopes=tuple(scopes),
                redirect_uri=redirect_uri,
            )
        except ValueError as exc:
            raise ConfigurationError("mastodon login settings are invalid", [str(exc)]) from None
        return OAuth2Client(config, http=self.http)

    def ex_authorization_url(
        self, redirect_uri: str, *, scopes: Iterable[str] = DEFAULT_SCOPES
    ) -> AuthorizationRequest:
        """Begin a login: the ``/oauth/authorize`` URL to open, with a fresh ``state`` and a
        PKCE (S256) challenge. Keep the returned request for :meth:`ex_exchange_code`.

        Raises ``ConfigurationError`` without ``client_id``. Network calls: none (the URL is
        built locally)."""
        request: AuthorizationRequest = self._oauth_client(redirect_uri, scopes).begin()
        return request

    async def ex_exchange_code(
        self,
        request: AuthorizationRequest,
        redirect: str | Mapping[str, str],
        *,
        save: bool = True,
    ) -> Token:
        """Finish a login: check ``state``, exchange the code (``POST /oauth/token`` with the
        PKCE verifier) and, with ``save``, keep the token in the token store under this
        account. The adapter uses the new token from then on. Mastodon tokens do not expire
        (there is no refresh)."""
        from socialkit.adapters.mastodon import _wire
        from socialkit.auth import Token

        client = self._oauth_client(request.redirect_uri, ())
        code = client.parse_redirect(redirect, expected_state=request.state)
        if self.settings.client_secret is None or self.settings.client_id is None:
            raise ConfigurationError("mastodon code exchange needs client_id and client_secret")
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.settings.client_id.get_secret_value(),
            "client_secret": self.settings.client_secret.get_secret_value(),
            "redirect_uri": request.redirect_uri,
            "code_verifier": request.code_verifier.get_secret_value(),
        }
        response = await self._request("POST", "/oauth/token", json=body, auth=None)
        self._parse(_wire.TokenResponse, response)
        token = Token.from_response(response.json())
        if save:
            await self._tokens().put(self.name, self._account_key, token)
        self._token_override = token.access_token
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        self._me = None
        return token


def _not_logged_in(adapter: MastodonAdapter) -> Exception:
    from socialkit.auth import AuthFlowError

    return AuthFlowError(
        adapter.name,
        code="not_logged_in",
        message=(
            f"no access_token setting and no stored token for account "
            f"{adapter._account_key!r}; log in first with `socialkit auth login mastodon "
            f"--instance {adapter.instance} --account {adapter._account_key}` "
            "(or ex_exchange_code), or pass access_token="
        ),
    )


class _StoredTokenAuth(httpx.Auth):
    """Bearer auth with the token saved for this account in the token store (read once)."""

    def __init__(self, adapter: MastodonAdapter) -> None:
        self._adapter = adapter
        self._token: SecretStr | None = None

    def __repr__(self) -> str:
        return "_StoredTokenAuth(token='**********')"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._token is None:
            adapter = self._adapter
            stored = await adapter._tokens().get(adapter.name, adapter._account_key)
            if stored is None:
                raise _not_logged_in(adapter)
            self._token = stored.access_token
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


def _compose_text(post: Post) -> str:
    """The status text: the text, and the link after it when the text does not contain it."""
    return text_with_link(post, "\n\n")


def _info_from(instance: _wire.Instance) -> _InstanceInfo:
    cfg = instance.configuration
    statuses = cfg.statuses
    media = cfg.media_attachments
    polls = cfg.polls
    base = DEFAULT_LIMITS
    limits = replace(
        base,
        max_text=statuses.max_characters,
        count=_count_for(statuses.characters_reserved_per_url),
        max_media=statuses.max_media_attachments,
        max_images=statuses.max_media_attachments,
        image_max_bytes=media.image_size_limit or base.image_max_bytes,
        gif_max_bytes=media.image_size_limit or base.gif_max_bytes,
        video_max_bytes=media.video_size_limit or base.video_max_bytes,
        audio_max_bytes=media.video_size_limit or base.audio_max_bytes,
        media_types=frozenset(media.supported_mime_types),
        max_alt_text=media.description_limit or base.max_alt_text,
        max_poll_options=polls.max_options,
        max_poll_option_text=polls.max_characters_per_option,
    )
    return _InstanceInfo(
        limits=limits,
        reserved_per_url=statuses.characters_reserved_per_url,
        poll_min=polls.min_expiration,
        poll_max=polls.max_expiration,
        api_version=instance.api_versions.get("mastodon"),
        loaded_at=time.time(),
    )


async def _nothing(cursor: str | None, want: int | None) -> Batch[Any]:
    return Batch([])


def _snowflake(moment: datetime) -> int:
    """The smallest Mastodon id a status created at ``moment`` can have (ms << 16)."""
    return int(moment.timestamp() * 1000) << 16


def _status_time(post: Post) -> datetime | None:
    """When a status came into a timeline: a boost's own time (``raw``), else the post's."""
    from socialkit.adapters.mastodon import _wire

    raw = post.raw
    if isinstance(raw, _wire.Status):
        return raw.created_at
    return post.created_at
