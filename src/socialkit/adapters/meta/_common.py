"""What the Facebook, Instagram and Threads adapters share: settings, the Graph session,
token exchange and refresh, container polling, and the idempotency records of publish.

The Graph API has no idempotency key. Like the X adapter, each publish runs under a key (the
caller's, or one made per call) whose record says what was sent and when, and which container
(Instagram, Threads) it used; after an unknown outcome, publishing again with the key looks
for the post first (the container's status, then the account's newest posts) and sends again
only when it is not there.
"""

from __future__ import annotations

import abc
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import httpx
from pydantic import Field, SecretStr

from socialkit._errors import (
    APIError,
    ConfigurationError,
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimitError,
    TimeoutError,
    TransportError,
    ValidationError,
)
from socialkit._models import Account, Message, Metric, Post
from socialkit._paging import Paged
from socialkit.adapters._base import Adapter, AdapterSettings
from socialkit.adapters.meta import _auth
from socialkit.adapters.meta._graph import (
    DEFAULT_VERSION,
    Graph,
    GraphAuth,
    graph_id,
    make_network,
    obj,
    unix,
)

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.adapters.meta._auth import PageToken
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["ContainerAdapter", "MetaAdapter", "MetaSettings", "insights", "parse_time"]

logger = logging.getLogger("socialkit.adapters.meta")

_RECORDS = "meta.publish"
_MEMORY_RECORDS = 10_000
#: What a stored login token keeps besides the token: the Page, account or user it chose.
_LOGIN_IDS = frozenset({"page_id", "ig_user_id", "user_id"})
#: Container statuses: processing is over, or it goes on.
_DONE = frozenset({"FINISHED", "PUBLISHED"})
_PENDING = frozenset({"IN_PROGRESS"})


def comments_lookback() -> Any:
    """The ``comments_lookback_days`` setting of the adapters whose comments are read post by
    post (Facebook, Instagram): a new field per settings class."""
    return Field(
        default=7.0,
        ge=0,
        description=(
            "With since (an inbox poll), how many days before it the comment walk still visits "
            "posts, and (Instagram) reads a comment's replies: comments on older posts are not "
            "looked for (subscribe to the webhooks for those). None visits every post, at one "
            "call per post per poll."
        ),
    )


def walk_horizon(since: datetime | None, days: float | None) -> datetime | None:
    """The oldest post the comment walk visits (``since`` less the lookback), or ``None``."""
    return None if since is None or days is None else since - timedelta(days=days)


def within_horizon(
    items: Sequence[dict[str, Any]], key: str, horizon: datetime | None
) -> tuple[Sequence[dict[str, Any]], bool]:
    """The items of a newest-first page made at or after ``horizon`` (their time in ``key``;
    one without a readable time is kept), and whether the page went past it: the walk ends."""
    if horizon is None:
        return items, False
    kept = [i for i in items if (t := parse_time(i.get(key))) is None or t >= horizon]
    return kept, len(kept) < len(items)


def parse_time(value: object) -> datetime | None:
    """A Graph timestamp (``2026-01-02T03:04:05+0000``, ISO 8601 or Unix seconds)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, RecursionError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def insights(
    body: dict[str, Any],
    table: Mapping[str, str],
    post_id: str | None,
    network: str,
    measured_at: datetime,
) -> list[Metric]:
    """The metrics of an insights answer (``data`` of ``{name, period, values | total_value}``)
    under their canonical names (``table``; a name it lacks stays as Meta spells it). The last
    value counts; breakdowns (objects) are not single numbers and are left out."""
    metrics: list[Metric] = []
    for item in body.get("data") or []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        native = str(item["name"])
        total = item.get("total_value")
        values = [v for v in item.get("values") or [] if isinstance(v, dict)]
        last = {} if isinstance(total, dict) or not values else values[-1]
        value = total.get("value") if isinstance(total, dict) else last.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        period = item.get("period") if isinstance(item.get("period"), str) else None
        end = parse_time(last.get("end_time"))
        metrics.append(
            Metric(
                name=table.get(native, native),
                value=value,
                network=network,
                post_id=post_id,
                native_name=native,
                period=period,
                end=end,
                start=end - timedelta(days=1) if end is not None and period == "day" else None,
                measured_at=measured_at.astimezone(timezone.utc),
            )
        )
    return metrics


class MetaSettings(AdapterSettings):
    """Settings the three Meta adapters share."""

    access_token: SecretStr | None = Field(
        default=None, description="The long-lived access token the calls are made with."
    )
    app_id: str | None = Field(default=None, description="The Meta app id (token exchange).")
    app_secret: SecretStr | None = Field(
        default=None,
        description="The app secret: signs every call with appsecret_proof, and exchanges tokens.",
    )
    graph_version: str = Field(
        default=DEFAULT_VERSION,
        pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$",
        description="The Graph API version every call uses (v25.0).",
    )
    authorize_url: str | None = Field(
        default=None,
        description=(
            "Where the login sends the user to authorize the app (default: Meta's dialog, "
            "Facebook Login's for the Graph version or Threads'); a fake served on a port "
            "gives its own."
        ),
    )
    poll_interval: float = Field(
        default=2.0, ge=0, description="Seconds between container or video status checks."
    )
    media_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, in seconds, for media processing."
    )
    reconcile_margin: float = Field(
        default=60.0,
        ge=0,
        description="Seconds before an unanswered create that its post may carry (clock skew).",
    )


class MetaAdapter(Adapter):
    """The shared part of the three Meta adapters (not registered itself)."""

    settings: MetaSettings
    #: The settings a login (:meth:`ex_authorization_url`, :meth:`ex_exchange_code`, and
    #: ``socialkit auth login <network>``) needs from the user.
    login_settings: ClassVar[tuple[str, ...]] = ("app_id", "app_secret")
    #: The id setting a login chooses from ``/me/accounts`` (``page_id``: a Page;
    #: ``ig_user_id``: the account linked to a Page), and how, for messages.
    _login_id: ClassVar[tuple[str, str] | None] = None
    #: Put the token in the query string (Threads) instead of the Authorization header.
    _token_in_query: ClassVar[bool] = False
    #: Default base URL when the settings have none.
    base_url: str

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, MetaSettings)
        self.settings = settings
        self._session: Session | None = None
        self._graph_client: Graph | None = None
        token = settings.access_token
        #: The token calls are made with: the setting's, else the one stored at login.
        self._access_token: SecretStr | None = (
            token if token is not None and token.get_secret_value() else None
        )
        #: What the stored login token carries besides (``page_id``, ``ig_user_id``, ``user_id``).
        self._login: dict[str, Any] = {}
        self._from_store = False
        self._oauth_client: OAuth2Client | None = None
        self._records: dict[str, str] = {}
        self._me_cache: Account | None = None
        #: Sleeps between status polls (tests replace it to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing ---------------------------------------------------------------------------

    def _base_url(self) -> str:
        value = getattr(self.settings, "base_url", None)
        return str(value) if value else self.base_url

    @property
    def graph(self) -> Graph:
        """The Graph client of this adapter (its session is created on first use)."""
        if self._graph_client is None:
            network = make_network(self.name, self._base_url(), self.settings.graph_version)
            secret = self.settings.app_secret
            # The token may be replaced (exchange, refresh): the auth reads the current one.
            auth = GraphAuth(
                self._token,
                app_secret=(lambda: secret.get_secret_value()) if secret else (lambda: None),
                in_query=self._token_in_query,
            )
            self._session = self._make_session(network, auth=auth)
            self._graph_client = Graph(self._session, self.name)
        return self._graph_client

    @property
    def rate_limits(self) -> dict[str, Any]:
        """The last usage Meta reported, per bucket (``remaining`` is 100 minus the % used)."""
        return {} if self._session is None else dict(self._session.rate_limits)

    async def aclose(self) -> None:
        """Close the login client and the HTTP client (unless it was given). No request."""
        if self._oauth_client is not None:
            await self._oauth_client.aclose()
            self._oauth_client = None
        await super().aclose()
        self._session = None
        self._graph_client = None

    # -- credentials -------------------------------------------------------------------------

    def _token(self) -> str:
        if self._access_token is None:
            from socialkit.auth import AuthFlowError

            raise AuthFlowError(self.name, code="not_logged_in", message=self._missing()[0])
        return self._access_token.get_secret_value()

    def _missing(self) -> list[str]:
        """What the adapter still needs to make calls, each with its fix."""
        missing = []
        if self._access_token is None:
            missing.append(
                f"no access_token setting and no stored token for account "
                f"{self._account_key!r}: run `socialkit auth login {self.name} --account "
                f"{self._account_key}` (or ex_authorization_url and ex_exchange_code), or pass "
                "access_token"
            )
        if self._login_id is not None:
            name, how = self._login_id
            if getattr(self.settings, name) is None and name not in self._login:
                missing.append(
                    f"no {name}: run `socialkit auth login {self.name}` ({how}) or pass {name}"
                )
        return missing

    def _chosen_id(self) -> str:
        """The id setting the login chooses: the setting, or the stored login's choice."""
        assert self._login_id is not None
        name = self._login_id[0]
        value = getattr(self.settings, name) or self._login.get(name)
        if value is None:
            raise ConfigurationError(f"{self.name}: {self._missing()[-1]}")
        return str(value)

    def _adopt(self, token: Token) -> None:
        """Use a token of the store (or of a login) for the calls from now on."""
        if self._session is not None:
            self._session.add_secret(token.access_token)
        self._access_token = token.access_token
        self._login = {k: str(v) for k, v in token.extra.items() if k in _LOGIN_IDS and v}

    async def ensure_credentials(self) -> None:
        """Without an ``access_token`` setting, take the token stored by the last login of this
        account (with the Page, account or user it chose). Raises ``AuthFlowError`` naming the
        login command when there is none, or when an id setting is still missing. No request
        (reads the token store)."""
        if self._access_token is None:
            stored = await self._tokens().get(self.name, self._account_key)
            if stored is not None:
                self._adopt(stored)
                self._from_store = True
        problems = self._missing()
        if problems:
            from socialkit.auth import AuthFlowError

            raise AuthFlowError(self.name, code="not_logged_in", message="; ".join(problems))

    # -- login (authorization code) ------------------------------------------------------------

    def _oauth(self) -> OAuth2Client:
        if self._oauth_client is None:
            from socialkit.auth import OAuth2Client, OAuth2Config

            app_id = self.settings.app_id
            if not app_id:
                raise ConfigurationError(f"{self.name}: logging in needs the app_id setting")
            secret = self._require_secret("logging in")
            authorize, token_endpoint, scopes, pkce = self._login_endpoints()
            config = OAuth2Config(
                network=self.name,
                authorization_endpoint=authorize,
                token_endpoint=token_endpoint,
                client_id=app_id,
                client_secret=SecretStr(secret),
                scopes=scopes,
                scope_separator=",",
                token_endpoint_auth_method="client_secret_post",
                pkce=pkce,
            )
            self._oauth_client = OAuth2Client(config, http=self.http, timeout=self.settings.timeout)
        return self._oauth_client

    def _login_endpoints(self) -> tuple[str, str, tuple[str, ...], bool]:
        """The login's authorization URL (the ``authorize_url`` setting, or Meta's), its token
        endpoint, the scopes asked for by default and whether a PKCE challenge goes with it."""
        login = _auth.LOGIN[self.name]
        version = self.settings.graph_version
        return (
            self.settings.authorize_url or login["authorize"].format(version=version),
            self._base_url().rstrip("/") + login["token"].format(version=version),
            tuple(login["scopes"]),
            True,
        )

    def _ig_login(self) -> bool:
        """Whether the tokens are Instagram Login's (exchanged and refreshed with the ``ig_``
        grants): only an Instagram adapter's can be."""
        return False

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a login: the URL where the user grants the permissions (``scopes``, by default
        those of :data:`~socialkit.adapters.meta.LOGIN` that every call of this adapter needs),
        with a fresh ``state`` and PKCE challenge. Open ``result.url``; keep ``result`` for
        :meth:`ex_exchange_code`. ``redirect_uri`` must be one of the app's valid OAuth
        redirect URIs.

        Returns the ``AuthorizationRequest``. Raises ``ConfigurationError`` without ``app_id``
        or ``app_secret``. Network calls: none."""
        return self._oauth().begin(
            redirect_uri=redirect_uri, scopes=None if scopes is None else list(scopes)
        )

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code for a short-lived token, make
        it long-lived (``fb_exchange_token`` / ``th_exchange_token`` / ``ig_exchange_token``),
        and store the token this adapter calls with for its account (Facebook: the Page token,
        from ``/me/accounts``; Instagram: the token of the Page linked to the account, or with
        Instagram Login the account's own token and its id from ``/me``). The adapter uses it
        at once.

        Returns the stored token (``extra`` names the Page, account or user chosen). Raises
        ``StateMismatchError`` / ``AuthFlowError`` before any request for a redirect that does
        not match, ``ConfigurationError`` when the Page or account cannot be chosen. Network
        calls: the code exchange (``/oauth/access_token``), the long-lived exchange, and
        ``GET /me/accounts`` (Facebook, Instagram) or ``GET /me`` (Instagram Login)."""
        short = await self._oauth().complete(request, redirect)
        secret = self._require_secret("logging in")
        long_lived = await _auth.exchange_token(
            self.graph,
            self.name,
            short.access_token.get_secret_value(),
            app_id=self.settings.app_id,
            app_secret=secret,
            now=self.now(),
            ig_login=self._ig_login(),
        )
        from socialkit.auth import Token

        user = Token(
            access_token=long_lived.access_token,
            expires_at=long_lived.expires_at,
            extra={k: str(v) for k, v in short.extra.items() if k == "user_id"},
        )
        self._adopt(user)
        token = await self._login_token(user)
        await self._tokens().put(self.name, self._account_key, token)
        self._adopt(token)
        return token

    async def _login_token(self, user: Token) -> Token:
        """The token to store after a login, from the long-lived user token: with a
        ``_login_id``, the token of the Page it names (or of the only one there is), which
        the account's calls accept and which does not expire."""
        if self._login_id is None:
            return user
        from socialkit.auth import Token

        name = self._login_id[0]
        page, chosen = await self._linked_page(getattr(self.settings, name), name)
        return Token(access_token=page.access_token, extra={name: chosen})

    async def _linked_page(self, wanted: str | None, what: str) -> tuple[PageToken, str]:
        """The Page of the login (``GET /me/accounts``) and the id ``what`` names on it:
        ``wanted``, or the only one there is."""
        pages = await _auth.page_tokens(self.graph)
        self.graph.session.add_secret(*(page.access_token for page in pages))
        pairs = [(p, p.id if what == "page_id" else p.instagram_account_id) for p in pages]
        found = [(p, i) for p, i in pairs if i is not None and (wanted is None or i == wanted)]
        if len(found) == 1:
            return found[0][0], str(found[0][1])
        listed = ", ".join(f"{i} ({p.name})" for p, i in pairs if i is not None) or "none"
        raise ConfigurationError(
            f"{self.name}: the login cannot choose the {what}: "
            + (f"{wanted} is not among" if wanted is not None else "pass one of")
            + f" those the user manages: {listed}"
        )

    # -- tokens ------------------------------------------------------------------------------

    def _require_secret(self, what: str) -> str:
        secret = self.settings.app_secret
        if secret is None or not secret.get_secret_value():
            raise ConfigurationError(f"{self.name}: {what} needs the app_secret setting")
        return secret.get_secret_value()

    async def ex_exchange_token(self, short_lived: str) -> _auth.LongLivedToken:
        """Exchange a short-lived token for a long-lived one (about 60 days) and use it from
        now on (kept in the ``store`` when one is set).

        Returns the ``LongLivedToken``. Raises ``ConfigurationError`` without ``app_secret`` (and
        ``app_id`` on Facebook and Instagram), ``ValidationError`` for an empty token, before any
        request. Network calls: ``GET /oauth/access_token?grant_type=fb_exchange_token`` (Facebook,
        Instagram with Facebook Login) or ``GET /access_token?grant_type=th_exchange_token``
        (Threads) / ``ig_exchange_token`` (Instagram Login)."""
        secret = self._require_secret("exchanging a token")
        token = await _auth.exchange_token(
            self.graph,
            self.name,
            short_lived,
            app_id=self.settings.app_id,
            app_secret=secret,
            now=self.now(),
            ig_login=self._ig_login(),
        )
        self._replace_token(token)
        await self._save_token(token)
        return token

    async def ex_refresh_token(self) -> _auth.LongLivedToken:
        """Refresh the long-lived token: 60 more days for a token at least a day old. The new
        token is used from now on and saved in the ``store``.

        Returns the ``LongLivedToken``. Raises ``ConfigurationError`` for Facebook Login tokens
        (they are exchanged again, not refreshed). Network calls:
        ``GET /refresh_access_token?grant_type=th_refresh_token`` (Threads) or ``ig_refresh_token``
        (Instagram Login on ``graph.instagram.com``)."""
        if self.name != "threads" and not self._ig_login():
            raise ConfigurationError(
                f"{self.name}: tokens of Facebook Login are not refreshed; exchange a new "
                "short-lived token with ex_exchange_token (or log in again)"
            )
        token = await _auth.refresh_token(self.graph, self.name, self._token(), now=self.now())
        self._replace_token(token)
        await self._save_token(token)
        return token

    def _replace_token(self, token: _auth.LongLivedToken) -> None:
        # The new token is a secret the process holds: redacted wherever it would show.
        self.graph.session.add_secret(token.access_token)
        self._access_token = token.access_token

    async def _save_token(self, token: _auth.LongLivedToken) -> None:
        """Keep an exchanged or refreshed token in the store (the ``store`` setting's, or the
        one the login token came from), with what the login chose."""
        if self.settings.store is None and not self._from_store:
            return
        from socialkit.auth import Token

        await self._tokens().put(
            self.name,
            self._account_key,
            Token(access_token=token.access_token, expires_at=token.expires_at, extra=self._login),
        )

    # -- records (idempotency of publish) ----------------------------------------------------

    def _record_store(self) -> Any:
        store = self.settings.store
        if store is None:
            return None
        from socialkit.auth import TokenStore

        return store.store if isinstance(store, TokenStore) else store

    def _record_key(self, key: str) -> str:
        return f"{self.name}:{self._account_key}:{key}"

    async def _load_record(self, key: str) -> dict[str, Any] | None:
        store = self._record_store()
        text = (
            self._records.get(key)
            if store is None
            else await store.get(_RECORDS, self._record_key(key))
        )
        if text is None:
            return None
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
        return value if isinstance(value, dict) else None

    async def _save_record(self, key: str, value: Mapping[str, Any]) -> None:
        text = json.dumps(dict(value), separators=(",", ":"))
        store = self._record_store()
        if store is None:
            self._records[key] = text
            if len(self._records) > _MEMORY_RECORDS:
                for old in list(self._records)[: len(self._records) - _MEMORY_RECORDS]:
                    del self._records[old]
        else:
            await store.put(_RECORDS, self._record_key(key), text)

    async def _drop_record(self, key: str) -> None:
        store = self._record_store()
        if store is None:
            self._records.pop(key, None)
        else:
            await store.delete(_RECORDS, self._record_key(key))

    @staticmethod
    def _new_key(key: str | None) -> str:
        return key if key is not None else f"sk-{uuid.uuid4()}"

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        # One key for the whole thread: each part's record derives from it.
        return await super()._publish(post, idempotency_key=self._new_key(idempotency_key))

    def _unknown(
        self, path: str, key: str | None, post_id: str | None = None
    ) -> OutcomeUnknownError:
        return OutcomeUnknownError(self.name, "POST", path, idempotency_key=key, post_id=post_id)

    # -- reading ------------------------------------------------------------------------------

    #: The owner's edge of its posts, and the fields asked for each.
    _posts_edge: ClassVar[str]
    _post_fields: ClassVar[str]

    @property
    @abc.abstractmethod
    def _owner(self) -> str:
        """The node the account's edges hang on (the Page, the account, the user)."""

    @abc.abstractmethod
    def _post_from(self, body: dict[str, Any]) -> Post | None:
        """A post of a Graph answer (``None`` for what is not one)."""

    async def _complete_posts(self, posts: list[Post]) -> list[Post]:
        """A page of posts as read from an edge, with what the edge does not give read
        separately (Threads: the items of a carousel)."""
        return posts

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's posts, newest first (``GET /{page}/posts``, ``/{ig-user}/media``,
        ``/{threads-user}/threads``); ``account`` another's by id (a Page needs Page Public
        Content Access).

        Returns a ``Paged`` of posts (cursor paging, ``since``/``until`` sent to Meta). Raises
        ``ValidationError`` for a bad id before any request."""
        owner = self._owner if account is None else graph_id(self.name, account, "account id")
        return self.graph.paged(
            f"/{owner}/{self._posts_edge}",
            {"fields": self._post_fields},
            self._post_from,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
            complete=self._complete_posts,
        )

    async def delete(self, post_id: str) -> None:
        """Delete a post or comment (``DELETE /{id}``).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request."""
        await self.graph.delete(f"/{graph_id(self.name, post_id, 'post id')}")

    # -- insights -----------------------------------------------------------------------------

    #: The account's insights: the owner's edge, the metrics (native -> canonical name) and
    #: the other parameters.
    _insights_call: ClassVar[tuple[str, Mapping[str, str], Mapping[str, str]]]

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """The account's insights under their canonical names (Facebook: Page insights, day
        values; Instagram: ``metric_type=total_value``; Threads: ``threads_insights``).

        Returns the metrics Meta answered with. Network calls: ``GET /{page}/insights``,
        ``/{ig-user}/insights`` or ``/{threads-user}/threads_insights``."""
        edge, table, extra = self._insights_call
        params: dict[str, Any] = {"metric": ",".join(table), **extra}
        if since is not None:
            params["since"] = unix(since)
        if until is not None:
            params["until"] = unix(until)
        body = await self.graph.get(f"/{self._owner}/{edge}", params)
        return insights(body, table, None, self.name, self.now())

    # -- engagement ---------------------------------------------------------------------------

    #: How a comment is hidden: the path after its id, and the flag sent.
    _hide_call: ClassVar[tuple[str, str]]

    async def hide(self, reply: Message | str) -> None:
        """Hide a comment or reply on the account's posts (Facebook: ``POST /{comment}`` with
        ``is_hidden``; Instagram: with ``hide``; Threads: ``POST /{reply}/manage_reply``).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request."""
        await self._set_hidden(reply, True)

    async def unhide(self, reply: Message | str) -> None:
        """Show a hidden comment or reply again (the call of :meth:`hide`, flag off).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request. Network calls:
        ``POST /{comment}`` (Facebook, Instagram) or ``POST /{reply}/manage_reply`` (Threads)."""
        await self._set_hidden(reply, False)

    async def _set_hidden(self, reply: Message | str, hidden: bool) -> None:
        target = self._message_target(reply, "comment id")
        edge, flag = self._hide_call
        await self.graph.post(f"/{target}{edge}", {flag: hidden}, kind="write")

    # -- shared helpers ----------------------------------------------------------------------

    async def _node_kind(self, object_id: str) -> str:
        """The Graph node type of an id (``GET /{id}?metadata=1``: ``metadata.type``, such as
        ``comment``), for ids whose syntax does not tell (a post's and a comment's)."""
        body = await self.graph.get(f"/{object_id}", {"fields": "id", "metadata": 1})
        metadata = body.get("metadata")
        kind = metadata.get("type") if isinstance(metadata, dict) else None
        return kind if isinstance(kind, str) else ""

    def _message_target(self, target: Message | str, what: str) -> str:
        value = target.id if isinstance(target, Message) else target
        return graph_id(self.name, value, what)

    def _bad(self, message: str) -> ValidationError:
        return ValidationError(f"{self.name}: {message}")


class ContainerAdapter(MetaAdapter):
    """Instagram and Threads publish through media containers: ``POST /{user}/{posts edge}``
    makes one (polled until FINISHED when it holds media), ``POST /{user}/{publish edge}``
    publishes it, after the rolling 24-hour publishing limit is read. At most once per key:
    the record keeps the container, whose PUBLISHED status tells after an unknown outcome that
    the post went out (it is then the account's newest post with the same text)."""

    #: ``(status, error detail)`` fields of a container.
    _status_fields: ClassVar[tuple[str, str]]
    #: The user's edges of publishing and of the publishing limit (containers are made on
    #: the posts edge).
    _publish_edge: ClassVar[str]
    _limit_edge: ClassVar[str]
    #: The post's text field, and its public URL (``{id}``).
    _text_field: ClassVar[str]
    _post_url: ClassVar[str]

    @abc.abstractmethod
    async def _container(self, post: Post) -> str:
        """Make the post's container (and its children's); its id."""

    async def ex_publishing_limit(self) -> tuple[int, int]:
        """``(used, allowed)`` posts of the rolling 24-hour publishing limit.

        Returns the pair. Raises ``MalformedResponseError`` when Meta's answer lacks them.
        Network calls: ``GET /{user}/content_publishing_limit`` (Instagram) or
        ``/threads_publishing_limit`` (Threads)."""
        body = await self.graph.get(
            f"/{self._owner}/{self._limit_edge}", {"fields": "quota_usage,config"}
        )
        data = (body.get("data") or [{}])[0]
        used, total = data.get("quota_usage"), obj(data.get("config")).get("quota_total")
        if not isinstance(used, int) or not isinstance(total, int):
            raise MalformedResponseError(self.name, None, "malformed_response", "no quota_usage")
        return used, total

    async def _publish_container(self, post: Post, key: str) -> Post:
        """The container flow of one post, at most once per ``key``."""
        record = await self._load_record(key)
        if record is not None and record.get("post_id"):
            return await self.get_post(str(record["post_id"]))
        started = self.now()
        container: str | None = None
        if record is not None:
            started = parse_time(record.get("started")) or started
            container = record.get("container")
            if container is not None:
                found = await self._reconcile(post, str(container), started, key)
                if found is not None:
                    await self._save_record(key, {**record, "post_id": found.id})
                    return found
        if container is None:
            used, allowed = await self.ex_publishing_limit()
            if used >= allowed:
                raise RateLimitError(
                    self.name,
                    None,
                    "publishing_limit",
                    f"the account published {used} of {allowed} posts allowed in 24 hours; "
                    "nothing was sent",
                    local=True,
                )
            container = await self._container(post)
            await self._save_record(key, {"started": started.isoformat(), "container": container})
        if post.media:
            await self._wait_container(container)
        path = f"/{{user}}/{self._publish_edge}"
        try:
            body = await self.graph.post(
                f"/{self._owner}/{self._publish_edge}", {"creation_id": container}
            )
        except (OutcomeUnknownError, MalformedResponseError) as exc:
            raise self._unknown(path, key) from exc
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        post_id = body.get("id")
        if not isinstance(post_id, str):
            raise self._unknown(path, key)
        await self._save_record(
            key, {"started": started.isoformat(), "container": container, "post_id": post_id}
        )
        return post.model_copy(
            update={
                "id": post_id,
                "network": self.name,
                "url": self._post_url.format(id=post_id),
                "created_at": self.now(),
                "author": self._me_cache,
                "thread": [],
            }
        )

    async def _reconcile(
        self, post: Post, container: str, started: datetime, key: str
    ) -> Post | None:
        """After an unknown outcome: a container not PUBLISHED did not go out (``None``: it is
        published now); a PUBLISHED one is the account's newest post with this text."""
        path = f"/{{user}}/{self._publish_edge}"
        try:
            status, _ = await self._status(container)
            if status != "PUBLISHED":
                return None
            since = started - timedelta(seconds=self.settings.reconcile_margin)
            body = await self.graph.get(
                f"/{self._owner}/{self._posts_edge}",
                {"fields": f"id,{self._text_field},timestamp", "since": unix(since), "limit": 25},
            )
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            raise self._unknown(path, key) from exc
        for item in body.get("data") or []:
            if isinstance(item, dict) and (item.get(self._text_field) or "") == (post.text or ""):
                return await self.get_post(str(item["id"]))
        raise self._unknown(path, key)

    async def _status(self, container: str) -> tuple[str, str | None]:
        status_field, detail_field = self._status_fields
        body = await self.graph.get(
            f"/{container}", {"fields": f"id,{status_field},{detail_field}"}
        )
        status = body.get(status_field)
        if not isinstance(status, str):
            raise MalformedResponseError(
                self.name, None, "malformed_response", f"no {status_field}"
            )
        detail = body.get(detail_field)
        return status, detail if isinstance(detail, str) else None

    async def _wait_container(self, container: str) -> None:
        await self._wait_status(container, self._status, done=_DONE, pending=_PENDING)

    async def _wait_status(
        self,
        object_id: str,
        fetch: Callable[[str], Awaitable[tuple[str, str | None]]],
        *,
        done: frozenset[str],
        pending: frozenset[str],
    ) -> str:
        """Poll ``fetch(object_id)`` (``(status, error message)``) every ``poll_interval``
        until a status in ``done``; ERROR and EXPIRED become clear errors, a status that stays
        pending past ``media_timeout`` a TimeoutError. Returns the final status."""
        waited = 0.0
        started = time.monotonic()
        budget = self.settings.media_timeout
        interval = self.settings.poll_interval
        while True:
            status, detail = await fetch(object_id)
            if status in done:
                return status
            if status == "EXPIRED":
                raise APIError(
                    self.name,
                    None,
                    "container_expired",
                    f"media container {object_id} expired before it was published "
                    "(containers live 24 hours); publish again to make a new one",
                )
            if status not in pending:
                why = f": {detail}" if detail else ""
                raise APIError(
                    self.name,
                    None,
                    "media_processing_failed",
                    f"{self.name} could not process media container {object_id} "
                    f"(status {status}){why}",
                )
            if waited + interval > budget:
                raise TimeoutError(
                    self.name,
                    f"media container {object_id} was still {status} after {waited:.0f} s "
                    f"(media_timeout={budget:.0f} s)",
                )
            await self._sleep(interval)
            # Slept time, or the time really spent (requests included) when that is more.
            waited = max(waited + interval, time.monotonic() - started)
