"""Mastodon: publish, read, measure and answer on any Mastodon server (API 4.x).

Everything goes through the HTTP pipeline (``socialkit._http.Session``) with Mastodon's own
network description: ``X-RateLimit-*`` headers (reset as an ISO time), the ``media`` and
``delete`` buckets, ``{"error": ...}`` bodies, and an ``Idempotency-Key`` on every create so a
retried ``POST /api/v1/statuses`` never publishes twice.

The limits of the server (characters, characters reserved per URL, media count, sizes and types,
polls) come from ``GET /api/v2/instance``: :meth:`MastodonAdapter.publish` loads them once per
server (a class-level cache keyed by the server's URL, refreshed after a day) before its
pre-flight check; :meth:`MastodonAdapter.check` never sends a request and uses the cached
limits, or the limits of a stock server until they are known.

See ``docs/networks/mastodon.md`` for credentials, scopes and the ``ex_`` methods.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr, field_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    RateLimitError,
    TimeoutError,
    UnsupportedError,
    error_class_for_status,
)
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit.adapters._base import Adapter, AdapterSettings, as_post, kinds_filter

if TYPE_CHECKING:
    from socialkit._http import Network, Session
    from socialkit.adapters.mastodon import _wire
    from socialkit.auth import AuthorizationRequest, Token

__all__ = ["MastodonAdapter", "MastodonSettings"]

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
#: The largest page Mastodon serves for statuses (40) and notifications (80).
PAGE_STATUSES = 40
PAGE_NOTIFICATIONS = 80
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
    mix_media=False,
    image_max_bytes=16 * 1024 * 1024,
    gif_max_bytes=16 * 1024 * 1024,
    video_max_bytes=99 * 1024 * 1024,
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


class MastodonSettings(AdapterSettings):
    """Settings of the Mastodon adapter."""

    instance: str = Field(
        default="https://mastodon.social",
        description="Base URL of the Mastodon server (https://…).",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description=(
            "A user access token. Optional when a token for this account is in the token store "
            "(ex_exchange_code saves one)."
        ),
    )
    client_id: SecretStr | None = Field(default=None, description="App client id (login).")
    client_secret: SecretStr | None = Field(default=None, description="App secret (login).")
    media_timeout: float = Field(
        default=600.0, gt=0, description="Seconds to wait for the server to process media."
    )
    media_poll_interval: float = Field(
        default=1.0, gt=0, description="First wait between media status checks (grows to 5 s)."
    )
    media_max_polls: int = Field(
        default=300, ge=1, description="Most media status checks per attachment."
    )

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except (httpx.InvalidURL, TypeError):
            raise ValueError("instance is not a valid URL") from None
        if url.scheme not in ("https", "http") or not url.host:
            raise ValueError(
                "instance must be an absolute http(s) URL, e.g. https://mastodon.social"
            )
        if url.query or url.fragment:
            raise ValueError("instance must not have a query or fragment")
        return str(url).rstrip("/")


def _bucket_for(method: str, path: str) -> str:
    """Mastodon's separate limits: media uploads and deletions (30 per 30 minutes each)."""
    if path.startswith(("https://", "http://")):
        path = httpx.URL(path).path
    path = path.rstrip("/")
    if method == "POST" and path.endswith("/api/v2/media"):
        return "media"
    if method == "DELETE" and "/api/v1/statuses/" in path:
        return "delete"
    return "default"


def decode_error(response: httpx.Response, network: str) -> APIError:
    """Mastodon's error body ``{"error": "...", "error_description"?: "..."}`` (schema
    ``Error``; ``ValidationError`` adds ``details``) as the matching :class:`APIError`.

    ``error`` is a sentence ("Validation failed: Text can't be blank", "Record not found"),
    except on the OAuth endpoints, where it is a code (``invalid_grant``) and
    ``error_description`` the sentence."""
    from socialkit._http import parse_retry_after, redact_text

    status = response.status_code
    code: str | None = None
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        description = body.get("error_description")
        if isinstance(description, str) and description.strip():
            code = error if isinstance(error, str) else None
            message = description.strip()
        elif isinstance(error, str) and error.strip():
            message = error.strip()
    if message is None:
        message = response.reason_phrase or f"HTTP {status}"
    message = redact_text(message)[:500]
    request_id = response.headers.get("x-request-id")
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            network, status, code, message, request_id, retry_after=parse_retry_after(response)
        )
    return cls(network, status, code, message, request_id)


_TYPE_ADAPTERS: dict[Any, Any] = {}


def _parse(model: Any, response: httpx.Response, network: str) -> Any:
    """Validate a 2xx body straight from bytes; a wrong body is a MalformedResponseError that
    names where it is wrong (never the values)."""
    import pydantic

    adapter = _TYPE_ADAPTERS.get(model)
    if adapter is None:
        adapter = _TYPE_ADAPTERS[model] = pydantic.TypeAdapter(model)
    try:
        return adapter.validate_json(response.content)
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            detail = "the body is not JSON"
        else:
            where = ", ".join(".".join(str(p) for p in e["loc"]) or "(root)" for e in errors[:5])
            name = getattr(model, "__name__", None) or str(model).replace("socialkit.", "")
            detail = f"the body does not match {name} ({exc.error_count()} problem(s): {where})"
        raise MalformedResponseError(
            network,
            response.status_code,
            "malformed_response",
            detail,
            response.headers.get("x-request-id"),
        ) from None


def _list_of(model: Any) -> Any:
    return list[model]


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
        }
    )
    limits: Limits = DEFAULT_LIMITS
    docs_url: ClassVar[str | None] = "https://docs.joinmastodon.org/api/"

    #: Limits per server URL, shared by every adapter of the process.
    _instances: ClassVar[dict[str, _InstanceInfo]] = {}

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
            from socialkit._http import Network, header_rate_limit_parser

            self._network = Network(
                name=self.name,
                base_url=self._instance,
                rate_limit_parser=header_rate_limit_parser(reset_kind="iso"),
                error_decoder=decode_error,
                # Only status creation honours the key (schema.json); media uploads, app
                # registration and the token exchange are therefore never resent blindly.
                idempotency_header="Idempotency-Key",
                idempotent_paths=frozenset({"/api/v1/statuses"}),
                bucket_for=_bucket_for,
            )
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

    def _token_account(self) -> str:
        return self.settings.account or "default"

    def _token_store(self) -> Any:
        from socialkit.auth import TokenStore

        return TokenStore(self.settings.store)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        await super().aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.session.request(method, path, **kwargs)

    async def _model(self, model: type[T] | Any, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.session.request(method, path, **kwargs)
        return _parse(model, response, self.name)

    def _local(self, url: str) -> str:
        """A URL from a ``Link`` header, checked to stay on this server (the token is sent)."""
        base = httpx.URL(self._instance)
        target = httpx.URL(url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            raise MalformedResponseError(
                self.name, None, "foreign_link", "a Link header points outside the server"
            )
        return url

    async def _pages(
        self, model: Any, path: str, params: list[tuple[str, str]] | None
    ) -> AsyncIterator[Any]:
        """Items of a paginated list, page by page through ``Link: <…>; rel="next"``."""
        url: str | None = path
        first = True
        while url is not None:
            response = await self._request("GET", url, params=params if first else None)
            first = False
            items = _parse(_list_of(model), response, self.name)
            for item in items:
                yield item
            nxt = response.links.get("next", {}).get("url")
            url = self._local(nxt) if items and nxt else None

    # -- instance limits -------------------------------------------------------------------

    def _info(self) -> _InstanceInfo:
        return self._instances.get(self._instance, _DEFAULT_INFO)

    def _sync_limits(self) -> None:
        self.limits = self._info().limits

    @classmethod
    def ex_forget_instances(cls) -> None:
        """Drop every cached server limit (the next ``publish`` reads them again)."""
        cls._instances.clear()

    async def ex_load_limits(self, *, force: bool = False) -> Limits:
        """Read the server's limits (``GET /api/v2/instance``) into the shared cache.

        Without ``force``, a cached value younger than a day is used. A server without the v2
        endpoint (before 4.0) answers 404: the stock limits are cached for it.
        """
        from socialkit.adapters.mastodon import _wire

        cached = self._instances.get(self._instance)
        if cached is not None and not force and time.time() - cached.loaded_at < INSTANCE_TTL:
            self.limits = cached.limits
            return cached.limits
        try:
            instance: _wire.Instance = await self._model(_wire.Instance, "GET", "/api/v2/instance")
        except NotFoundError:
            info = replace(_DEFAULT_INFO, loaded_at=time.time())
        else:
            info = _info_from(instance)
        self._instances[self._instance] = info
        self.limits = info.limits
        return info.limits

    # -- pre-flight ------------------------------------------------------------------------

    def check(self, post: Post) -> list[Problem]:
        """Offline pre-flight against the cached limits of this server (or a stock server's)."""
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

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Followers, following and statuses now. Mastodon keeps no history of these."""
        from socialkit.adapters.mastodon import _mapping

        if since is not None or until is not None:
            raise UnsupportedError(
                self.name, "account metrics over a window", "Mastodon reports current totals only"
            )
        return _mapping.account_metrics(await self._me_wire(fresh=True), _now())

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, post: Post) -> Post:
        """Publish ``post`` (a thread, a poll, media, a scheduled status …).

        Loads the server's limits first (once per server and day), then checks the post
        against them and raises :class:`~socialkit.InvalidPostError` before anything is sent.
        A post with ``scheduled_at`` comes back as the scheduled status: its ``id`` is the
        ScheduledStatus id (for :meth:`ex_cancel_scheduled`), ``url`` is None.
        """
        await self.ex_load_limits()
        return await super().publish(post)

    async def _publish_one(self, post: Post) -> Post:
        from socialkit.adapters.mastodon import _mapping, _wire

        media_ids = [await self._upload(item) for item in post.media]
        body = self._status_body(post, media_ids)
        result = await self._model(
            _wire.Status | _wire.ScheduledStatus, "POST", "/api/v1/statuses", json=body
        )
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
            body["in_reply_to_id"] = post.reply_to
        if post.quote_of is not None:
            body["quoted_status_id"] = post.quote_of
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

    async def _upload(self, media: Media) -> str:
        """Upload one attachment (``POST /api/v2/media``) and wait until it is processed."""
        from socialkit.adapters.mastodon import _wire

        if media.url is not None:
            content = await self._fetch(media)
        else:
            content = media.read()
        files = {"file": (media.filename, content, media.mime_type)}
        data = {"description": media.alt} if media.alt else None
        response = await self._request("POST", "/api/v2/media", files=files, data=data)
        attachment: _wire.MediaAttachment = _parse(_wire.MediaAttachment, response, self.name)
        if response.status_code == 202 or attachment.url is None:
            await self._wait_for_media(attachment.id)
        return attachment.id

    async def _fetch(self, media: Media) -> bytes:
        # A media URL is another host: fetched without this server's token, and only from a
        # public address (or one the media_fetch_allow setting names).
        from socialkit._http import MediaFetcher

        return await MediaFetcher.for_settings(self.settings).fetch(media)

    async def _wait_for_media(self, media_id: str) -> None:
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
            response = await self._request("GET", f"/api/v1/media/{quote(media_id, safe='')}")
            if response.status_code == 200:
                attachment: _wire.MediaAttachment = _parse(
                    _wire.MediaAttachment, response, self.name
                )
                if attachment.url is not None:
                    return
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
        media_ids = [await self._upload(item) for item in post.media]
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
        status = await self._model(
            _wire.Status, "PUT", f"/api/v1/statuses/{quote(post_id, safe='')}", json=body
        )
        return _mapping.post(status, self._host)

    async def delete(self, post_id: str) -> None:
        """Delete a status (``DELETE /api/v1/statuses/:id``, the ``delete`` bucket)."""
        await self._request("DELETE", f"/api/v1/statuses/{quote(post_id, safe='')}")

    # -- scheduled statuses ----------------------------------------------------------------

    async def ex_scheduled(self, *, limit: int | None = None) -> AsyncIterator[Post]:
        """The account's scheduled statuses (``GET /api/v1/scheduled_statuses``), as Posts with
        ``scheduled_at`` set and the ScheduledStatus id as ``id``."""
        from socialkit.adapters.mastodon import _mapping, _wire

        params = [("limit", str(min(limit or PAGE_STATUSES, PAGE_STATUSES)))]
        count = 0
        async for item in self._pages(_wire.ScheduledStatus, "/api/v1/scheduled_statuses", params):
            yield _mapping.scheduled_post(item)
            count += 1
            if limit is not None and count >= limit:
                return

    async def ex_cancel_scheduled(self, scheduled_id: str) -> None:
        """Cancel a scheduled status (``DELETE /api/v1/scheduled_statuses/:id``)."""
        await self._request("DELETE", f"/api/v1/scheduled_statuses/{quote(scheduled_id, safe='')}")

    async def ex_reschedule(self, scheduled_id: str, when: datetime) -> Post:
        """Move a scheduled status (``PUT /api/v1/scheduled_statuses/:id``), 5 minutes ahead at
        least."""
        from socialkit.adapters.mastodon import _mapping, _wire

        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("when must be timezone-aware")
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
            f"/api/v1/scheduled_statuses/{quote(scheduled_id, safe='')}",
            json={"scheduled_at": _iso(when)},
        )
        return _mapping.scheduled_post(item)

    # -- reading ---------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One status (``GET /api/v1/statuses/:id``)."""
        from socialkit.adapters.mastodon import _mapping, _wire

        status = await self._model(
            _wire.Status, "GET", f"/api/v1/statuses/{quote(post_id, safe='')}"
        )
        return _mapping.post(status, self._host)

    async def _account_id(self, account: str | None) -> str:
        from socialkit.adapters.mastodon import _wire

        if account is None:
            return (await self._me_wire()).id
        acct = account.strip().lstrip("@")
        if not acct:
            raise ValueError("account must be a handle such as user@example.social")
        found: _wire.Account = await self._model(
            _wire.Account, "GET", "/api/v1/accounts/lookup", params={"acct": acct}
        )
        return found.id

    async def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """Statuses of the account (or of ``account``, a handle such as ``user@host``, looked
        up with ``GET /api/v1/accounts/lookup``), newest first, page by page as iterated.

        Reblogs are left out: they are other people's posts."""
        from socialkit.adapters.mastodon import _mapping, _wire

        if limit is not None and limit <= 0:
            return
        account_id = await self._account_id(account)
        params = [
            ("limit", str(min(limit or PAGE_STATUSES, PAGE_STATUSES))),
            ("exclude_reblogs", "true"),
        ]
        path = f"/api/v1/accounts/{quote(account_id, safe='')}/statuses"
        count = 0
        async for status in self._pages(_wire.Status, path, params):
            if since is not None and status.created_at < since:
                return
            yield _mapping.post(status, self._host)
            count += 1
            if limit is not None and count >= limit:
                return

    async def ex_context(self, post_id: str) -> list[Message]:
        """The replies under a status, at every depth (``GET /api/v1/statuses/:id/context``
        ``descendants``), as Messages of kind ``reply`` in the server's (thread) order; each
        one's ``post_id`` is the status it answers."""
        from socialkit.adapters.mastodon import _mapping, _wire

        context: _wire.Context = await self._model(
            _wire.Context, "GET", f"/api/v1/statuses/{quote(post_id, safe='')}/context"
        )
        return [_mapping.message(s, "reply", self._host) for s in context.descendants]

    # -- metrics ---------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Replies, reposts (reblogs), likes (favourites) and quotes of each status, read 20 at
        a time with ``GET /api/v1/statuses?id[]=…`` (one ``GET /api/v1/statuses/:id`` each on
        servers before 4.3). Statuses the server does not return (deleted, not visible) are
        left out of the result."""
        from socialkit.adapters.mastodon import _mapping, _wire

        ids = list(dict.fromkeys(post_ids))
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
                                _wire.Status, "GET", f"/api/v1/statuses/{quote(one, safe='')}"
                            )
                        )
                    except NotFoundError:
                        continue
            for status in statuses:
                if status.id in chunk:
                    out[status.id] = _mapping.post_metrics(status, measured)
        return out

    # -- messages --------------------------------------------------------------------------

    async def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """Mentions, replies, quotes and private mentions, newest first, page by page.

        * notifications (``GET /api/v1/notifications``, types ``mention`` and ``quote``): a
          mention whose status answers one of the account's statuses is a ``reply``, a private
          mention a ``direct``, any other a ``mention``; a quote notification a ``quote``
          (``post_id``: the quoted status);
        * conversations (``GET /api/v1/conversations``): the last status of each private
          conversation, when someone else wrote it, as ``direct`` with ``conversation_id``.

        A private mention found both ways is given once (with its conversation). ``id`` is the
        status id, which :meth:`reply` answers.
        """
        wanted = kinds_filter(kinds)
        if limit is not None and limit <= 0:
            return
        me = await self._me_wire()
        streams: list[AsyncIterator[Message]] = []
        if "direct" in wanted:
            streams.append(self._conversation_messages(me.id))
        if wanted & {"mention", "reply", "quote", "direct"}:
            streams.append(self._notification_messages(me.id, wanted))
        seen: set[str] = set()
        count = 0
        async for message in _merge_newest_first(streams):
            if message.id in seen or message.kind not in wanted:
                continue
            if since is not None and message.created_at < since:
                return  # the merged streams are newest first: nothing later is newer
            seen.add(message.id)
            yield message
            count += 1
            if limit is not None and count >= limit:
                return

    async def _notification_messages(
        self, me_id: str, wanted: frozenset[str]
    ) -> AsyncIterator[Message]:
        from socialkit.adapters.mastodon import _mapping, _wire

        params = [("limit", str(PAGE_NOTIFICATIONS)), ("types[]", "mention")]
        if "quote" in wanted:
            params.append(("types[]", "quote"))
        async for item in self._pages(_wire.Notification, "/api/v1/notifications", params):
            status = item.status
            if status is None:
                continue
            if item.type == "quote":
                quoted = status.quote.status_id if status.quote is not None else None
                yield _mapping.message(status, "quote", self._host, post_id=quoted)
            elif item.type == "mention":
                kind: MessageKind
                if status.visibility == "direct":
                    kind = "direct"
                elif status.in_reply_to_account_id == me_id:
                    kind = "reply"
                else:
                    kind = "mention"
                yield _mapping.message(status, kind, self._host)

    async def _conversation_messages(self, me_id: str) -> AsyncIterator[Message]:
        from socialkit.adapters.mastodon import _mapping, _wire

        params = [("limit", str(PAGE_STATUSES))]
        async for item in self._pages(_wire.Conversation, "/api/v1/conversations", params):
            status = item.last_status
            if status is None or status.account.id == me_id:
                continue
            yield _mapping.message(status, "direct", self._host, conversation_id=item.id)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a message (or the status with id ``to``).

        Answering a :class:`Message` mentions its author at the start of the text (unless the
        text already does), as Mastodon's own apps do, so that the author is notified; a
        ``direct`` message is answered with ``direct`` visibility.
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

    async def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """Statuses matching ``query`` (``GET /api/v2/search?type=statuses&resolve=true``).

        What a server finds depends on its search setup (full-text search needs
        Elasticsearch/OpenSearch; without it, only URLs and the account's own posts). Results
        are paged by ``offset``; statuses older than ``since`` are skipped.
        """
        from socialkit.adapters.mastodon import _mapping, _wire

        if not query.strip():
            raise ValueError("the search query must not be empty")
        offset = 0
        count = 0
        while True:
            size = min(PAGE_STATUSES, (limit - count) if limit is not None else PAGE_STATUSES)
            if size <= 0:
                return
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
                ],
            )
            for status in result.statuses:
                if since is not None and status.created_at < since:
                    continue
                yield _mapping.post(status, self._host)
                count += 1
                if limit is not None and count >= limit:
                    return
            if len(result.statuses) < size:
                return
            offset += len(result.statuses)

    async def ex_search_hashtags(self, query: str, *, limit: int = 20) -> list[_wire.Hashtag]:
        """Hashtags matching ``query`` (``GET /api/v2/search?type=hashtags``), each with its
        ``name``, ``url`` and recent use (``uses_recently``)."""
        from socialkit.adapters.mastodon import _wire

        text = query.strip().lstrip("#")
        if not text:
            raise ValueError("the hashtag query must not be empty")
        result: _wire.Search = await self._model(
            _wire.Search,
            "GET",
            "/api/v2/search",
            params=[("q", text), ("type", "hashtags"), ("limit", str(max(1, min(limit, 40))))],
        )
        return list(result.hashtags)

    async def ex_hashtag_timeline(
        self,
        tag: str,
        *,
        local: bool = False,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """Public statuses with ``#tag`` (``GET /api/v1/timelines/tag/:hashtag``), newest first,
        page by page; ``local`` keeps this server's statuses only."""
        from socialkit.adapters.mastodon import _mapping, _wire

        name = tag.strip().lstrip("#")
        if not name:
            raise ValueError("tag must not be empty")
        params = [("limit", str(min(limit or PAGE_STATUSES, PAGE_STATUSES)))]
        if local:
            params.append(("local", "true"))
        count = 0
        path = f"/api/v1/timelines/tag/{quote(name, safe='')}"
        async for status in self._pages(_wire.Status, path, params):
            if since is not None and status.created_at < since:
                return
            yield _mapping.post(status, self._host)
            count += 1
            if limit is not None and count >= limit:
                return

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
            raise ValueError("client_name and at least one redirect URI are needed")
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
        PKCE (S256) challenge. Keep the returned request for :meth:`ex_exchange_code`."""
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
        _parse(_wire.TokenResponse, response, self.name)
        token = Token.from_response(response.json())
        if save:
            await self._token_store().put(self.name, self._token_account(), token)
        self._token_override = token.access_token
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        self._me = None
        return token


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
            from socialkit.auth import AuthFlowError

            adapter = self._adapter
            stored = await adapter._token_store().get(adapter.name, adapter._token_account())
            if stored is None:
                raise AuthFlowError(
                    adapter.name,
                    code="not_logged_in",
                    message=(
                        f"no access_token setting and no stored token for account "
                        f"{adapter._token_account()!r}; log in first (ex_exchange_code)"
                    ),
                )
            self._token = stored.access_token
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        yield request


def _compose_text(post: Post) -> str:
    """The status text: the text, and the link after it when the text does not contain it."""
    text = post.text
    if post.link and post.link not in text:
        text = f"{text}\n\n{post.link}" if text else post.link
    return text


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


async def _merge_newest_first(streams: list[AsyncIterator[Message]]) -> AsyncIterator[Message]:
    """Merge streams that are each newest first into one, newest first, reading lazily.
    On a tie the earlier stream wins."""
    heads: list[Message | None] = []
    for stream in streams:
        heads.append(await anext(stream, None))
    while True:
        best: int | None = None
        for index, head in enumerate(heads):
            if head is None:
                continue
            if best is None:
                best = index
                continue
            current = heads[best]
            assert current is not None
            if head.created_at > current.created_at:
                best = index
        if best is None:
            return
        chosen = heads[best]
        assert chosen is not None
        yield chosen
        heads[best] = await anext(streams[best], None)
