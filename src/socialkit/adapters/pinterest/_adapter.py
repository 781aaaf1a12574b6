"""The Pinterest adapter (API v5): pins with an image or a video on a board, the user's pins,
boards, pin and account analytics.

Shapes from the official description, ``../shared/specs/pinterest/openapi.json`` (5.23.0), and
the reference pages on https://developers.pinterest.com/docs/api/v5/ (pins/create,
media/create, media/get, pins/analytics, user_account/analytics, boards/list, boards/create).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, Literal, TypeVar

import anyio
import httpx

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    MediaError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from socialkit._models import Account, Feed, Media, Metric, Post, Problem
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import Adapter, AdapterSettings, as_post, check_id
from socialkit.adapters.pinterest import _mapping as mapping
from socialkit.adapters.pinterest import _wire as wire
from socialkit.adapters.pinterest._settings import PinterestSettings

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["ANALYTICS_DAYS", "PinterestAdapter", "PinterestMediaError"]

logger = logging.getLogger("socialkit.adapters.pinterest")

T = TypeVar("T")

_MiB = 1024 * 1024
_ID = r"[0-9]{1,25}"
_TITLE_MAX = 100
_LINK_MAX = 2048
#: How far back analytics go (``start_date``: "Cannot be more than 90 days back from today";
#: ``end_date``: "Cannot be more than 90 days past start_date").
ANALYTICS_DAYS = 90
#: ``#/components/schemas/ContentType``: what ``image_base64`` sources take.
_UPLOAD_TYPES = frozenset({"image/jpeg", "image/png"})
#: Pins per ``GET /pins/analytics`` (``query_required_pin_ids``: ``maxItems`` 100).
_BULK = 100
#: Shortest and longest video, seconds (https://help.pinterest.com/en/business/article/video-pins).
_VIDEO_SECONDS = (4, 15 * 60)


class PinterestMediaError(APIError):
    """A video Pinterest reported ``failed`` while processing it (``GET /media/{media_id}``)."""

    def __init__(self, media_id: str) -> None:
        self.media_id = media_id
        super().__init__(
            "pinterest",
            None,
            "media_failed",
            f"Pinterest could not process video {media_id} (status failed): check its format "
            "(MP4, MOV or M4V; H.264 or H.265), length (4 s to 15 min) and size (up to 2 GB)",
        )


def _id(value: object, what: str = "pin id") -> str:
    return check_id("pinterest", value, _ID, f"{what} (digits)")


def _day(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValidationError("analytics dates must be timezone-aware datetimes or dates")
        return moment.astimezone(timezone.utc).date()
    return moment


class PinterestAdapter(Adapter):
    """Pinterest (API v5). See ``docs/networks/pinterest.md`` for the app, scopes, limits and
    ``ex_`` methods.

    A post is a pin: ``Post.text`` is its description, ``Post.link`` its destination link,
    one image (a URL Pinterest fetches, or uploaded bytes: JPEG, PNG), a carousel of 2-5
    images, or one video, with its alt text. It goes to the ``board_id`` setting's board;
    :meth:`ex_publish` names another board, a section and a title. Ids are Pinterest's
    (digits).
    """

    name: ClassVar[str] = "pinterest"
    Settings: ClassVar[type[AdapterSettings]] = PinterestSettings
    docs_url: ClassVar[str | None] = "https://developers.pinterest.com/docs/api/v5/"
    login_settings: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.FEEDS,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_TEXT: "a pin is an image or a video: Pinterest has no text posts",
        Capability.PUBLISH_GIF: "API v5 takes image uploads as JPEG or PNG only (no GIF)",
        Capability.PUBLISH_AUDIO: "Pinterest takes no audio files",
        Capability.PUBLISH_THREAD: "Pinterest has no threads",
        Capability.PUBLISH_POLL: "Pinterest has no polls",
        Capability.QUOTE: "Pinterest has no quotes (saving a pin is not in API v5 for apps)",
        Capability.NATIVE_SCHEDULING: "API v5 schedules pins for ad accounts only",
        Capability.READ_OTHERS: "API v5 lists the user's own pins only",
        Capability.COMMENTS: "API v5 does not give apps the comments of pins",
        Capability.MENTIONS: "Pinterest has no mentions in API v5",
        Capability.DIRECT_MESSAGES: "API v5 has no messages for apps",
        Capability.REPLY: "API v5 cannot comment on pins",
        Capability.SEARCH: "API v5 searches the user's own pins only, not public ones "
        "(ex_search_pins)",
        Capability.WEBHOOKS: "Pinterest has no webhooks for organic content",
        Capability.LIKE: "API v5 has no reactions for apps",
        Capability.REPOST: "saving a pin makes a new pin of its own (ex_save_pin; delete it to "
        "undo): no repost to take back by the original's id",
        Capability.BOOKMARK: "Pinterest has no bookmarks",
        Capability.FOLLOW: "API v5 cannot follow users for apps",
        Capability.BLOCK: "API v5 cannot block users",
        Capability.MUTE: "Pinterest has no muting in API v5",
        Capability.HIDE: "API v5 has no comments to hide",
        Capability.ACCOUNTS: "API v5 reads the authorized user's account only",
        Capability.FOLLOWERS: "API v5 lists the user's own followers and followees by username "
        "only, without account ids (ex_followers, ex_following)",
        Capability.TIMELINE: "API v5 has no home feed",
        Capability.UPLOAD: "images go inline with the pin, and a registered video is "
        "attached to one pin by publish (no reusable uploads)",
        Capability.STREAM: "Pinterest has no streaming API",
    }
    limits = Limits(
        max_text=800,
        max_media=5,
        max_videos=1,
        mix_media=False,
        image_max_bytes=20 * _MiB,
        video_max_bytes=2048 * _MiB,
        media_types=frozenset(
            {
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/bmp",
                "image/tiff",
                "video/mp4",
                "video/quicktime",
                "video/x-m4v",
            }
        ),
        max_alt_text=500,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, PinterestSettings)
        self.settings: PinterestSettings = settings
        self._session: Session | None = None
        self._oauth2_client: OAuth2Client | None = None
        #: Sleeps between media status polls (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing --------------------------------------------------------------------------------

    async def ensure_credentials(self) -> None:
        """An ``access_token`` or ``refresh_token`` in the settings, or a token stored for this
        account (``socialkit auth login pinterest``); else ``AuthFlowError`` naming the login.
        No request (reads the token store)."""
        s = self.settings
        if s.access_token is not None or s.refresh_token is not None:
            return
        if s.client_id is not None and await self._tokens().get(self.name, self._account_key):
            return
        from socialkit.auth import AuthFlowError

        raise AuthFlowError(
            self.name,
            code="not_logged_in",
            message=(
                f"no token in the settings and none stored for account {self._account_key!r}: "
                f"log in with `socialkit auth login pinterest --account {self._account_key}` "
                "(or ex_authorization_url / ex_exchange_code), or pass client_id, "
                "client_secret and refresh_token (or an access_token)"
            ),
        )

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_id is None or s.client_secret is None:
                raise ConfigurationError(
                    "pinterest: the OAuth 2 flow needs client_id and client_secret"
                )
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_endpoint,
                client_id=s.client_id,
                client_secret=s.client_secret,
                # POST /oauth/token authenticates the app with HTTP Basic (security: basic).
                token_endpoint_auth_method="client_secret_basic",
                scopes=s.scopes,
                # "A comma-separated list of scopes" (the authorization page's `scope`).
                scope_separator=",",
                redirect_uri=s.redirect_uri,
            )
        return self._oauth2_client

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a login (authorization code). Open ``result.url``; keep ``result`` for
        :meth:`ex_exchange_code`. No request."""
        return self._oauth2().begin(
            redirect_uri=redirect_uri, scopes=None if scopes is None else tuple(scopes)
        )

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code (``POST /oauth/token``), store
        the token for this account (replacing the stored one) and return it."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._session = None  # the next call authenticates with the new token
        return token

    async def _auth(self) -> httpx.Auth:
        from socialkit.auth import BearerAuth

        s = self.settings
        if s.refresh_token is None and (s.access_token is not None or s.client_id is None):
            if s.access_token is None:
                raise ConfigurationError("pinterest: no access_token and no client to refresh")
            return BearerAuth(s.access_token)
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.pinterest._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    async def _call(
        self,
        model: type[T],
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        kind: Literal["read", "write", "create"] | None = None,
    ) -> T:
        """One API call, its JSON answer validated as ``model``."""
        session = await self._api()
        return await session.request_model(
            model,
            method,
            path,
            params=dict(params) if params else None,
            json=dict(body) if body is not None else None,
            kind=kind,
        )

    async def aclose(self) -> None:
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
            self._oauth2_client = None
        await super().aclose()
        self._session = None

    # -- the account -----------------------------------------------------------------------------

    async def me(self) -> Account:
        """The authorized user (``GET /user_account``, scope ``user_accounts:read``)."""
        return mapping.account_from(await self._call(wire.Account, "GET", "/user_account"))

    def _window(
        self, since: datetime | date | None, until: datetime | date | None
    ) -> tuple[date, date]:
        """``(start_date, end_date)`` of an analytics call, refused before any request when
        Pinterest would refuse it: a start more than 90 days back, an end before the start or
        after today, or more than 90 days between them."""
        today = self.now().date()
        end = _day(until) if until is not None else today
        start = (
            _day(since)
            if since is not None
            else end - timedelta(days=self.settings.metrics_days - 1)
        )
        oldest = today - timedelta(days=ANALYTICS_DAYS)
        if start < oldest:
            raise ValidationError(
                f"pinterest analytics go back {ANALYTICS_DAYS} days: the start {start} is "
                f"before {oldest}"
            )
        if end > today:
            raise ValidationError(
                f"pinterest analytics end today ({today}) at the latest, not {end}"
            )
        if end < start:
            raise ValidationError(f"the analytics window ends ({end}) before it starts ({start})")
        return start, end

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """``impressions``, ``saves``, ``clicks`` (pin clicks), ``link_clicks`` (outbound
        clicks) and ``video_views`` of the account, summed over ``since`` … ``until`` (days,
        UTC; default: the ``metrics_days`` setting's days up to today), from
        ``GET /user_account/analytics`` (scope ``user_accounts:read``). A window outside the
        last 90 days raises ``ValidationError`` before any request."""
        start, end = self._window(since, until)
        answer = await self._call(
            dict[str, wire.AnalyticsMetrics],
            "GET",
            "/user_account/analytics",
            params={"start_date": start.isoformat(), "end_date": end.isoformat()},
        )
        summary = self._summary(answer)
        return mapping.metrics_from(summary, start=start, end=end, measured_at=self.now())

    @staticmethod
    def _summary(answer: Mapping[str, wire.AnalyticsMetrics]) -> Mapping[str, float]:
        entry = answer.get("all") or next(iter(answer.values()), None)
        return entry.summary_metrics if entry is not None else {}

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """``impressions``, ``saves``, ``clicks``, ``link_clicks`` and ``video_views`` (video
        pins) of each pin over the ``metrics_days`` setting's days up to today: one
        ``GET /pins/{pin_id}/analytics`` per pin, or with the ``bulk_analytics`` setting
        ``GET /pins/analytics`` for 100 pins a call (a beta not open to all apps); scopes
        ``boards:read``, ``pins:read``. A pin Pinterest does not find (deleted, not the
        user's) is left out of the answer."""
        wanted = list(dict.fromkeys(_id(given) for given in post_ids))
        start, end = self._window(None, None)
        found: dict[str, list[Metric]] = {}
        if not self.settings.bulk_analytics:
            for pin_id in wanted:
                try:
                    found[pin_id] = await self.ex_pin_analytics(pin_id, since=start, until=end)
                except NotFoundError:
                    continue
            return found
        moment = self.now()
        for first in range(0, len(wanted), _BULK):
            batch = wanted[first : first + _BULK]
            answer = await self._call(
                dict[str, dict[str, wire.AnalyticsMetrics]],
                "GET",
                "/pins/analytics",
                params={
                    # query_required_pin_ids: form style, exploded (pin_ids=1&pin_ids=2).
                    "pin_ids": batch,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "metric_types": ",".join(mapping.METRICS),
                },
            )
            for pin_id in batch:
                if pin_id in answer:
                    found[pin_id] = mapping.metrics_from(
                        self._summary(answer[pin_id]),
                        start=start,
                        end=end,
                        measured_at=moment,
                        post_id=pin_id,
                    )
        return found

    async def ex_pin_analytics(
        self,
        pin_id: str,
        *,
        since: datetime | date | None = None,
        until: datetime | date | None = None,
    ) -> list[Metric]:
        """One pin's metrics over ``since`` … ``until`` (days, UTC; within the last 90 days,
        checked before any request): ``GET /pins/{pin_id}/analytics`` with ``metric_types``
        IMPRESSION, SAVE, PIN_CLICK, OUTBOUND_CLICK, VIDEO_MRC_VIEW (scopes ``boards:read``,
        ``pins:read``)."""
        pin_id = _id(pin_id)
        start, end = self._window(since, until)
        answer = await self._call(
            dict[str, wire.AnalyticsMetrics],
            "GET",
            f"/pins/{pin_id}/analytics",
            params={
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "metric_types": ",".join(mapping.METRICS),
            },
        )
        return mapping.metrics_from(
            self._summary(answer), start=start, end=end, measured_at=self.now(), post_id=pin_id
        )

    # -- boards ----------------------------------------------------------------------------------

    def _feed_of(self, board: wire.Board) -> Feed:
        return Feed(
            id=board.id,
            network=self.name,
            name=board.name,
            kind="list",
            description=board.description or None,
            raw=board.model_dump(mode="json"),
        )

    def ex_boards(
        self,
        *,
        privacy: Literal["PUBLIC", "PROTECTED", "SECRET"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Feed]:
        """The user's boards as :class:`~socialkit.Feed` items (``id`` is the board id to
        give as ``board_id``), ``GET /boards`` (scope ``boards:read``; secret boards need
        ``boards:read_secret``), 25 a page."""
        if privacy not in (None, "PUBLIC", "PROTECTED", "SECRET"):
            raise ValidationError(f"{privacy!r} is not a board privacy")

        async def fetch(bookmark: str | None, want: int | None) -> Batch[Feed]:
            params: dict[str, Any] = {"page_size": 25 if want is None else max(1, min(250, want))}
            if privacy is not None:
                params["privacy"] = privacy
            if bookmark is not None:
                params["bookmark"] = bookmark
            page = await self._call(wire.BoardsPage, "GET", "/boards", params=params)
            return Batch([self._feed_of(b) for b in page.items], page.bookmark or None)

        return Paged(fetch, limit=limit, cursor=cursor, ordered=False)

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The user's boards (:meth:`ex_boards`)."""
        return self.ex_boards(limit=limit, cursor=cursor)

    async def ex_create_board(
        self,
        name: str,
        *,
        description: str | None = None,
        privacy: Literal["PUBLIC", "PROTECTED", "SECRET"] = "PUBLIC",
    ) -> Feed:
        """Create a board (``POST /boards``, scope ``boards:write``; a secret board needs
        ``boards:write_secret``) and return it (its ``id`` is the new board id)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("a board needs a name")
        if privacy not in ("PUBLIC", "PROTECTED", "SECRET"):
            raise ValidationError(f"{privacy!r} is not a board privacy")
        body: dict[str, Any] = {"name": name, "privacy": privacy}
        if description is not None:
            body["description"] = description
        board = await self._create(wire.Board, "/boards", body)
        return self._feed_of(board)

    def feed(
        self,
        feed: Feed | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The pins of a board (a :class:`~socialkit.Feed` from :meth:`ex_boards` or a board
        id), ``GET /boards/{board_id}/pins`` (scopes ``boards:read``, ``pins:read``)."""
        board_id = _id(feed.id if isinstance(feed, Feed) else feed, "board id")
        return self._pins(f"/boards/{board_id}/pins", since, until, limit, cursor)

    def _pins(
        self,
        path: str,
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
    ) -> Paged[Post]:
        async def fetch(bookmark: str | None, want: int | None) -> Batch[Post]:
            params: dict[str, Any] = {"page_size": 25 if want is None else max(1, min(250, want))}
            if bookmark is not None:
                params["bookmark"] = bookmark
            page = await self._call(wire.PinsPage, "GET", path, params=params)
            return Batch([mapping.post_from(p) for p in page.items], page.bookmark or None)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    def _users(self, path: str, limit: int | None, cursor: str | None) -> Paged[Account]:
        async def fetch(bookmark: str | None, want: int | None) -> Batch[Account]:
            params: dict[str, Any] = {"page_size": 25 if want is None else max(1, min(250, want))}
            if bookmark is not None:
                params["bookmark"] = bookmark
            page = await self._call(wire.UsersPage, "GET", path, params=params)
            return Batch([mapping.summary_account(u) for u in page.items], page.bookmark or None)

        return Paged(fetch, limit=limit, cursor=cursor, ordered=False)

    def ex_followers(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Account]:
        """The user's followers (``GET /user_account/followers``, scope ``user_accounts:read``;
        rate-limit category ``ads_read``). Pinterest gives usernames only: each Account's
        ``id`` and ``handle`` are the username."""
        return self._users("/user_account/followers", limit, cursor)

    def ex_following(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Account]:
        """The users the user follows (``GET /user_account/following``, scope
        ``user_accounts:read``), by username as :meth:`ex_followers`."""
        return self._users("/user_account/following", limit, cursor)

    def ex_search_pins(
        self, query: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Post]:
        """The user's own pins matching ``query`` (description keywords, or comma-separated
        pin ids), ``GET /search/pins`` (scopes ``boards:read``, ``pins:read``; secret ones
        with ``boards:read_secret``, ``pins:read_secret``)."""
        if not isinstance(query, str) or not query.strip():
            raise ValidationError("ex_search_pins needs a query")

        async def fetch(bookmark: str | None, want: int | None) -> Batch[Post]:
            params: dict[str, Any] = {"query": query}
            if bookmark is not None:
                params["bookmark"] = bookmark
            page = await self._call(wire.PinsPage, "GET", "/search/pins", params=params)
            return Batch([mapping.post_from(p) for p in page.items], page.bookmark or None)

        return Paged(fetch, limit=limit, cursor=cursor, ordered=False)

    async def ex_save_pin(
        self,
        pin_id: str,
        *,
        board_id: str | None = None,
        board_section_id: str | None = None,
    ) -> Post:
        """Save a pin (the user's or another's) to a board: ``board_id`` or the setting's
        (``POST /pins/{pin_id}/save``, scopes ``boards:write``, ``pins:write``). Returns the
        new pin (delete it to undo). Not repeatable safely: a lost answer raises
        ``OutcomeUnknownError``."""
        pin_id = _id(pin_id)
        board = board_id or self.settings.board_id
        if board is None:
            raise ValidationError("ex_save_pin needs a board_id (or the board_id setting)")
        body: dict[str, Any] = {"board_id": _id(board, "board id")}
        if board_section_id is not None:
            body["board_section_id"] = _id(board_section_id, "board section id")
        saved = await self._create(wire.Pin, f"/pins/{pin_id}/save", body)
        return mapping.post_from(saved)

    async def _create(self, model: type[T], path: str, body: Mapping[str, Any]) -> T:
        """``POST path`` that makes something (no idempotency key, nothing reconciles it): a
        2xx answer that cannot be read leaves the outcome unknown, as a lost one does."""
        try:
            return await self._call(model, "POST", path, body=body, kind="create")
        except MalformedResponseError as exc:
            raise OutcomeUnknownError(self.name, "POST", path) from exc

    # -- reading ---------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One pin (``GET /pins/{pin_id}``, scopes ``boards:read``, ``pins:read``)."""
        pin = await self._call(wire.Pin, "GET", f"/pins/{_id(post_id)}")
        return mapping.post_from(pin)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The user's pins, newest first (``GET /pins``, scopes ``boards:read``,
        ``pins:read``; 25 a page, resumed by Pinterest's ``bookmark``)."""
        if account is not None:
            raise self.unsupported(Capability.READ_OTHERS, "API v5 lists the user's own pins")
        return self._pins("/pins", since, until, limit, cursor)

    async def delete(self, post_id: str) -> None:
        """Delete one of the user's pins (``DELETE /pins/{pin_id}``, scopes ``boards:write``,
        ``pins:write``)."""
        session = await self._api()
        await session.request("DELETE", f"/pins/{_id(post_id)}", kind="write")

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a pin's description (``post.text``), link and alt text
        (``PATCH /pins/{pin_id}``, scopes ``boards:write``, ``pins:write``); its image or
        video cannot change. Returns the pin as Pinterest now has it."""
        pin_id = _id(post_id)
        problems = [
            p for p in self.check(post) if p.code not in ("media_required", "board_required")
        ]
        if problems:
            raise InvalidPostError(self.name, problems)
        body: dict[str, Any] = {"description": post.text, "link": post.link}
        if post.media and post.media[0].alt is not None:
            body["alt_text"] = post.media[0].alt
        pin = await self._call(wire.Pin, "PATCH", f"/pins/{pin_id}", body=body, kind="write")
        return mapping.post_from(pin)

    # -- pre-flight ------------------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        if not post.media:
            problems.append(
                Problem(
                    code="media_required",
                    message="a pin is an image or a video: add media",
                    field="media",
                )
            )
        for index, item in enumerate(post.media):
            if item.uploaded is not None and item.uploaded.network == self.name:
                problems.append(
                    Problem(
                        code="unsupported",
                        message="pinterest has no reusable uploads: give the file or its URL",
                        field=f"media[{index}]",
                    )
                )
            uploads = item.path is not None or item.data is not None
            if item.kind == "image" and uploads and item.mime_type not in _UPLOAD_TYPES:
                problems.append(
                    Problem(
                        code="unsupported_media_type",
                        message=f"pinterest takes uploaded images as JPEG or PNG, not "
                        f"{item.mime_type} (an image URL may be any type Pinterest reads)",
                        field=f"media[{index}]",
                    )
                )
            if (
                item.kind == "video"
                and item.duration is not None
                and not (_VIDEO_SECONDS[0] <= item.duration <= _VIDEO_SECONDS[1])
            ):
                problems.append(
                    Problem(
                        code="video_duration",
                        message=f"a pinterest video lasts {_VIDEO_SECONDS[0]} s to "
                        f"{_VIDEO_SECONDS[1] // 60} minutes, not {item.duration:.0f} s",
                        field=f"media[{index}]",
                        actual=item.duration,
                    )
                )
        if len(post.media) > 1:
            problems.extend(_carousel_problems(post.media))
        if post.link is not None and len(post.link) > _LINK_MAX:
            problems.append(
                Problem(
                    code="link_too_long",
                    message=f"a pin's link is at most {_LINK_MAX} characters",
                    field="link",
                    limit=_LINK_MAX,
                    actual=len(post.link),
                )
            )
        if self.settings.board_id is None:
            problems.append(
                Problem(
                    code="board_required",
                    message="a pin goes to a board: set the board_id setting "
                    "(ex_boards lists them) or use ex_publish(board_id=...)",
                    field="board_id",
                )
            )
        return problems

    # -- publishing ------------------------------------------------------------------------------

    async def ex_publish(
        self,
        post: Post | str,
        *,
        board_id: str | None = None,
        board_section_id: str | None = None,
        title: str | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """Publish a pin with Pinterest's own fields: another ``board_id`` (and
        ``board_section_id``) than the settings', and a ``title`` (at most 100 characters).
        Checked like :meth:`publish`, exactly once per ``idempotency_key``."""
        item = as_post(post)
        if board_id is not None:
            _id(board_id, "board id")
        if board_section_id is not None:
            _id(board_section_id, "board section id")
            if board_id is None and self.settings.board_id is None:
                raise ValidationError("board_section_id needs its board_id")
        problems = [
            p for p in self.check(item) if not (p.code == "board_required" and board_id is not None)
        ]
        if title is not None and len(title) > _TITLE_MAX:
            problems.append(
                Problem(
                    code="title_too_long",
                    message=f"a pin's title is at most {_TITLE_MAX} characters",
                    field="title",
                    limit=_TITLE_MAX,
                    actual=len(title),
                )
            )
        if problems:
            raise InvalidPostError(self.name, problems)
        if idempotency_key is not None and not idempotency_key.strip():
            raise ValidationError("idempotency_key must not be blank")
        options = {
            "board_id": board_id or self.settings.board_id,
            "board_section_id": board_section_id
            if board_id is not None
            else board_section_id or self.settings.board_section_id,
            "title": title,
        }
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await self._publish_with(item, key, options)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        s = self.settings
        options = {"board_id": s.board_id, "board_section_id": s.board_section_id, "title": None}
        return await self._publish_with(post, key, options)

    async def _publish_with(self, post: Post, key: str, options: Mapping[str, Any]) -> Post:
        """``POST /pins`` at most once per ``key``. The key's record (when, the video's
        media id, whether the create went out) is kept in the store before each step: a retry
        whose create was answered returns that pin; one whose create may have reached
        Pinterest first looks for the pin among the user's newest (:meth:`_reconcile`) and
        sends it only when it is not there; one whose video
        was registered resumes waiting for that video instead of uploading it again."""
        record = await self._load_record(key)
        if record is not None and record.get("pin_id"):
            return await self.get_post(str(record["pin_id"]))
        started = self.now()
        media_id: str | None = None
        if record is not None:
            started = _instant(record.get("started")) or started
            media_id = record.get("media_id") if isinstance(record.get("media_id"), str) else None
            if record.get("sent"):
                found = await self._reconcile_or_unknown(post, options, started, key)
                if found is not None:
                    await self._save_record(key, {**record, "pin_id": found.id})
                    return found
        state: dict[str, Any] = {"started": started.isoformat()}
        medium = post.media[0]
        try:
            if medium.kind == "video":
                if media_id is None:
                    await self._save_record(key, state)
                    media_id = await self._register_video(medium)
                state["media_id"] = media_id
                await self._save_record(key, state)
                await self._await_video(media_id, key)
                source = self._video_source(medium, media_id)
            else:
                source = self._image_source(post.media)
        except (APIError, TransportError) as exc:
            if not isinstance(exc, OutcomeUnknownError):
                await self._drop_record(key)
            raise
        body = self._pin_body(post, options, source)
        await self._save_record(key, {**state, "sent": True})
        try:
            pin = await self._call(wire.Pin, "POST", "/pins", body=body, kind="create")
        except OutcomeUnknownError as exc:
            raise OutcomeUnknownError(self.name, "POST", "/pins", idempotency_key=key) from exc
        except MalformedResponseError as exc:
            # Pinterest answered 2xx (the pin exists) with a body that cannot be read.
            raise OutcomeUnknownError(self.name, "POST", "/pins", idempotency_key=key) from exc
        except (APIError, TransportError):
            # A definite answer (Pinterest refused the pin) or never sent: a retry under this
            # key is a fresh attempt.
            await self._drop_record(key)
            raise
        await self._save_record(key, {**state, "sent": True, "pin_id": pin.id})
        return mapping.post_from(pin)

    def _pin_body(
        self, post: Post, options: Mapping[str, Any], source: dict[str, Any]
    ) -> dict[str, Any]:
        board_id = options.get("board_id")
        if board_id is None:  # check() refuses this first; kept for type narrowing
            raise ValidationError("a pin needs a board_id")
        body: dict[str, Any] = {"board_id": board_id, "media_source": source}
        if options.get("board_section_id"):
            body["board_section_id"] = options["board_section_id"]
        if options.get("title"):
            body["title"] = options["title"]
        if post.text:
            body["description"] = post.text
        if post.link:
            body["link"] = post.link
        if post.media[0].alt:
            body["alt_text"] = post.media[0].alt
        return body

    @staticmethod
    def _image_source(media: list[Media]) -> dict[str, Any]:
        """``image_url`` / ``image_base64`` for one image; a carousel (2-5 images) as
        ``multiple_image_urls`` / ``multiple_image_base64`` (check() makes its images all URLs
        or all files)."""

        def item(medium: Media) -> dict[str, Any]:
            if medium.url is not None:
                # Pinterest fetches the image itself.
                return {"url": medium.url}
            return {
                "content_type": medium.mime_type,
                "data": base64.b64encode(medium.read()).decode("ascii"),
            }

        items = [item(m) for m in media]
        by_url = media[0].url is not None
        if len(items) == 1:
            kind = "image_url" if by_url else "image_base64"
            return {"source_type": kind, **items[0]}
        kind = "multiple_image_urls" if by_url else "multiple_image_base64"
        return {"source_type": kind, "items": items}

    @staticmethod
    def _video_source(medium: Media, media_id: str) -> dict[str, Any]:
        source: dict[str, Any] = {"source_type": "video_id", "media_id": media_id}
        # A video pin needs a cover: the given still, else the first frame.
        if medium.preview_url is not None:
            source["cover_image_url"] = medium.preview_url
        else:
            source["cover_image_key_frame_time"] = 0
        return source

    async def _register_video(self, medium: Media) -> str:
        """``POST /media`` (``{"media_type": "video"}``), then the file to the returned
        ``upload_url`` as a form with every ``upload_parameters`` field (an S3 form POST, sent
        without Pinterest's token; sending it again replaces the same object). A file given
        by its path is streamed from disk (httpx reads it from the start again on a retry);
        fetched or in-memory media are sent from memory. Returns the media id."""
        content: bytes | None = None
        if medium.url is not None:
            from socialkit._http import MediaFetcher

            content = await MediaFetcher.for_settings(self.settings).fetch(medium)
        elif medium.path is None:
            content = medium.read()
        upload = await self._call(
            wire.MediaUpload, "POST", "/media", body={"media_type": "video"}, kind="write"
        )
        if not upload.upload_url.startswith(("https://", "http://")):
            raise MalformedResponseError(self.name, 200, "malformed_response", "no upload_url")
        session = await self._api()
        with contextlib.ExitStack() as files:
            body: bytes | BinaryIO = (
                content if content is not None else files.enter_context(_open(medium))
            )
            await session.request(
                "POST",
                upload.upload_url,
                data=dict(upload.upload_parameters),
                files={"file": ("video", body, medium.mime_type)},
                auth=None,
                kind="write",
                retry_safe=True,
                bucket="upload",
            )
        return upload.media_id

    async def _await_video(self, media_id: str, key: str) -> None:
        """Poll ``GET /media/{media_id}`` until ``succeeded`` (or ``failed``:
        :class:`PinterestMediaError`); past the ``media_timeout`` setting,
        ``OutcomeUnknownError`` (publishing again with the key resumes the wait)."""
        waited = 0.0
        delay = 1.0
        while True:
            media = await self._call(wire.MediaStatus, "GET", f"/media/{_id(media_id, 'media id')}")
            if media.status == "succeeded":
                return
            if media.status == "failed":
                raise PinterestMediaError(media_id)
            if waited >= self.settings.media_timeout:
                raise OutcomeUnknownError(
                    self.name, "GET", "/media/{media_id}", idempotency_key=key
                )
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 10.0)

    async def _reconcile_or_unknown(
        self, post: Post, options: Mapping[str, Any], started: datetime, key: str
    ) -> Post | None:
        try:
            return await self._reconcile(post, options, started)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            logger.warning("pinterest: reconciling failed (%s); the outcome stays unknown", exc)
            raise OutcomeUnknownError(self.name, "POST", "/pins", idempotency_key=key) from exc

    async def _reconcile(
        self, post: Post, options: Mapping[str, Any], started: datetime
    ) -> Post | None:
        """After a create whose answer was lost: among the user's newest pins (``GET /pins``,
        newest first; a board's own order may be custom), one on the board, made since the
        attempt (less the ``reconcile_margin`` setting), with the same description, title and
        link."""
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        board_id = _id(options.get("board_id"), "board id")
        page = await self._call(wire.PinsPage, "GET", "/pins", params={"page_size": 100})
        for pin in page.items:
            found = mapping.post_from(pin)
            if (
                found.created_at is not None
                and found.created_at >= since
                and pin.board_id == board_id
                and (pin.description or "") == post.text
                and (pin.title or None) == (options.get("title") or None)
                and (pin.link or None) == post.link
            ):
                return found
        return None

    # Idempotency records, in the store (a retry after a restart still reconciles).


def _carousel_problems(media: list[Media]) -> list[Problem]:
    """A carousel pin (2-5 images): the images all URLs or all files (one ``source_type``),
    and one alt text for the pin (``alt_text``; carousel items have none): on the first image."""
    problems: list[Problem] = []
    if any(m.kind != "image" for m in media):
        return problems  # mixing kinds is refused by the limits (mix_media)
    if len({m.url is not None for m in media}) > 1:
        problems.append(
            Problem(
                code="carousel_sources",
                message="a pinterest carousel's images are all URLs or all files, not both",
                field="media",
            )
        )
    for index, item in enumerate(media[1:], start=1):
        if item.alt:
            problems.append(
                Problem(
                    code="carousel_alt_text",
                    message="a pinterest carousel has one alt text, the pin's: give it on "
                    "the first image only",
                    field=f"media[{index}].alt",
                )
            )
    return problems


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _open(medium: Media) -> BinaryIO:
    """The media's file, opened for reading."""
    assert medium.path is not None
    try:
        return medium.path.open("rb")
    except OSError as exc:
        raise MediaError(f"cannot read {medium.path}: {exc.strerror or exc}") from exc
