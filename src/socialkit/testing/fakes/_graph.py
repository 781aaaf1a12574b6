"""The Graph API server underneath ``FakeFacebook``, ``FakeInstagram`` and ``FakeThreads``.

Graph paths are ``/{version}/{node id}[/{edge}]``: one catch-all route per method dispatches
on the node's type and the edge to a handler of the network's fake. What every Graph host
shares lives here:

- objects by id, each of a node type (``Page``, ``PagePost``, ``IGMedia`` ...) and the JSON it
  answers, projected through ``fields=`` as the Graph API does (nested ``{...}``, modifiers such
  as ``.limit(5)`` and ``business_discovery.username(name)``); a field the node type does not
  have is error 100 ``Tried accessing nonexisting field``;
- cursor paging (``limit``, ``after``/``before`` with ``paging.cursors`` and ``paging.next``)
  and ``since``/``until`` (Unix times);
- batch requests (``POST /`` with ``batch``: up to 50 calls, each answered ``{code, headers,
  body}``) and multi-id reads (``GET /?ids=a,b``);
- the access token (``Authorization: Bearer`` or ``access_token``; error 190 otherwise) and
  ``appsecret_proof`` when the app requires it (error 100 without it);
- usage headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``: percentages of the allowance
  used, counted per call, or set with :meth:`GraphFake.set_usage`); at 100 % calls are refused
  with code 4 / 80001 and ``estimated_time_to_regain_access``;
- container processing (IN_PROGRESS for :attr:`GraphFake.processing_polls` status reads, then
  FINISHED; :meth:`GraphFake.fail_container` makes ERROR or EXPIRED);
- the OAuth login: the authorization dialog (:attr:`GraphFake.authorize_path`, Facebook
  Login's ``/{version}/dialog/oauth``, Threads' ``/oauth/authorize``) is approved at once by
  :meth:`GraphFake.login_user` (:mod:`socialkit.testing.fakes._oauth`; :meth:`GraphFake.approve`
  is the same without HTTP), and the token endpoints exchange the code
  (``/{version}/oauth/access_token`` of Facebook Login, POST ``/oauth/access_token`` of
  Threads: PKCE checked when a challenge came), then make the token long-lived
  (``fb_exchange_token``; Threads serves its own ``th_exchange_token``);
- webhooks: :meth:`GraphFake.webhook` signs a delivery with the app secret
  (``X-Hub-Signature-256``) as Meta sends it, and each event the simulation makes is queued in
  :attr:`GraphFake.deliveries`.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl

from socialkit.testing.fakes._base import UNLIMITED, CreatedPost, FakeClock, FakeNetwork, FakeUser
from socialkit.testing.fakes._oauth import CodeGrants

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = [
    "GraphError",
    "GraphFake",
    "GraphObject",
    "GraphRequest",
    "insight",
    "metric_names",
    "parse_fields",
]

UTC = timezone.utc


class GraphError(Exception):
    """A Graph error answer: ``{"error": {"message", "type", "code", "error_subcode",
    "fbtrace_id"}}`` with its HTTP status."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        kind: str = "OAuthException",
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.subcode = subcode
        self.kind = kind
        self.transient = transient

    def body(self, trace: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": trace,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient:
            error["is_transient"] = True
        return {"error": error}


def not_found(object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        kind="GraphMethodException",
    )


def bad_param(message: str) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}")


@dataclass
class GraphObject:
    """One node: its type, the fields it answers (nested values are JSON), and its owner."""

    id: str
    type: str
    data: dict[str, Any]
    owner: str | None = None
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    deleted: bool = False


@dataclass
class GraphRequest:
    """One call as a handler sees it (from HTTP or from inside a batch)."""

    method: str
    node: str
    edge: str | None
    params: dict[str, str]
    files: dict[str, bytes]
    viewer: str

    def fields(self) -> list[FieldSpec] | None:
        value = self.params.get("fields")
        return parse_fields(value) if value else None

    def int_param(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(float(value))
        except ValueError:
            raise bad_param(f"Param {name} must be a number") from None

    def flag(self, name: str, default: bool) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        return value.lower() in ("true", "1")


@dataclass
class FieldSpec:
    """One item of ``fields=``: ``name.mod(arg){sub}``."""

    name: str
    modifiers: dict[str, str]
    sub: list[FieldSpec] | None


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
            if depth < 0:
                raise bad_param("Syntax error in fields")
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    if depth != 0:
        raise bad_param("Syntax error in fields")
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_]+\([^()]*\))*)(\{.*\})?$", re.S)


def parse_fields(text: str) -> list[FieldSpec]:
    """``fields=`` as Graph reads it: ``a,b{c,d.limit(2){e}},f.username(x){g}``."""
    specs = []
    for part in _split_top(text):
        match = _ITEM.match(part)
        if match is None:
            raise bad_param(f'Syntax error "Expected end of string instead of "{part}"."')
        name, mods, sub = match.groups()
        modifiers = dict(re.findall(r"\.([A-Za-z_]+)\(([^()]*)\)", mods or ""))
        specs.append(FieldSpec(name, modifiers, parse_fields(sub[1:-1]) if sub else None))
    return specs


def project(value: dict[str, Any], specs: list[FieldSpec] | None, node_type: str) -> dict[str, Any]:
    """``value`` reduced to the fields asked for (``id`` always), nested ones too."""
    if specs is None:
        return value
    out: dict[str, Any] = {}
    if "id" in value:
        out["id"] = value["id"]
    for spec in specs:
        if spec.name not in value:
            continue
        item = value[spec.name]
        if isinstance(item, dict) and isinstance(item.get("data"), list):
            rows = item["data"]
            if "limit" in spec.modifiers:
                rows = rows[: int(spec.modifiers["limit"])]
            rows = [project(r, spec.sub, node_type) if isinstance(r, dict) else r for r in rows]
            out[spec.name] = {**item, "data": rows}
        elif isinstance(item, dict) and spec.sub is not None:
            out[spec.name] = project(item, spec.sub, node_type)
        elif item is not None:
            out[spec.name] = item
    return out


def check_known(specs: list[FieldSpec] | None, known: Iterable[str], node_type: str) -> None:
    """Error 100 for a field the node type does not have."""
    if specs is None:
        return
    names = set(known)
    for spec in specs:
        if spec.name not in names:
            raise GraphError(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({spec.name}) on node type "
                f"({node_type})",
            )


Handler = Callable[[GraphRequest], Awaitable[Any] | Any]


def iso(moment: datetime) -> str:
    """A Graph timestamp: ``2026-01-02T03:04:05+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class GraphFake(FakeNetwork):
    """The shared Graph server. Subclasses register handlers in :meth:`handlers`."""

    #: The node types and the fields each answers (a field outside is error 100).
    NODE_FIELDS: ClassVar[dict[str, frozenset[str]]] = {}
    version: ClassVar[str] = "v25.0"
    #: Where the login dialog is (``{version}`` filled in): Facebook Login's
    #: ``https://www.facebook.com/{version}/dialog/oauth``, served on the fake's host.
    authorize_path: ClassVar[str] = "/{version}/dialog/oauth"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        app_secret: str = "fake-app-secret",  # noqa: S107 - the fake app's own secret
        require_proof: bool = False,
        usage_limit: int = 4800,
        processing_polls: int = 1,
    ) -> None:
        self.objects: dict[str, GraphObject] = {}
        self.app_secret = app_secret
        self.app_id = "1000000001"
        self.require_proof = require_proof
        self.usage_limit = usage_limit
        self.processing_polls = processing_polls
        self.tokens: dict[str, str] = {}
        #: Long-lived tokens refreshed (``/refresh_access_token``).
        self.refreshes = 0
        #: Webhook deliveries the simulation made: ``(body bytes, headers)``, signed.
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        #: Every call served, ``(method, path)`` (batch calls included), for tests.
        self.calls: list[tuple[str, str]] = []
        self.batch_requests = 0
        self._usage_calls = 0
        self._usage_start = time.time()
        self._forced_usage: tuple[float, float] | None = None
        self._container_failures: dict[str, str] = {}
        self._traces = itertools.count(1)
        self._app: Starlette | None = None
        self._relations: set[tuple[str, str, str]] = set()
        self._graph_lock = threading.RLock()
        #: Authorization codes the dialog issued (PKCE optional, as Facebook Login's).
        self.codes = CodeGrants(self.app_id, challenge_required=False)
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.owner_token = f"fake-{self.name}-token-{self.owner.id}"
        self.tokens[self.owner_token] = self.owner.id

    # -- simulation: the state ---------------------------------------------------------------

    #: The edges whose ``POST`` publishes a post (``POST /{id}/feed`` …); see
    #: :meth:`created_post`.
    CREATE_EDGES: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"usage_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /{version}/{id}/{edge}`` on a :attr:`CREATE_EDGES` edge: the node it
        answers with (``post_id`` of a published photo; an unpublished one makes no post)."""
        parts = path.strip("/").split("/")
        if method != "POST" or len(parts) != 3 or parts[0] != self.version:
            return None
        if parts[2] not in self.CREATE_EDGES or not isinstance(answer, dict):
            return None
        post_id = answer.get("post_id") if parts[2] == "photos" else answer.get("id")
        node = self.objects.get(str(post_id)) if post_id is not None else None
        if node is None:
            return None
        texts = (node.data.get(k) for k in ("message", "caption", "text", "description"))
        return node.id, next((t for t in texts if t), None), "post"

    def new_id(self) -> str:
        return str(
            17841400000000000 + self.next_id()
            if self.name == "instagram"
            else 10**15 + self.next_id()
        )

    def new_user_id(self, handle: str) -> str:
        return self.new_id()

    def put(self, obj: GraphObject) -> GraphObject:
        with self._graph_lock:
            self.objects[obj.id] = obj
        return obj

    def get(self, object_id: str, *types: str) -> GraphObject:
        obj = self.objects.get(object_id)
        if obj is None or obj.deleted or (types and obj.type not in types):
            raise not_found(object_id)
        return obj

    def of_type(self, node_type: str, owner: str | None = None) -> list[GraphObject]:
        """Live objects of a type (and owner), newest first."""
        found = [
            o
            for o in self.objects.values()
            if o.type == node_type and not o.deleted and (owner is None or o.owner == owner)
        ]
        found.sort(key=lambda o: (o.created, int(o.id.split("_")[-1])), reverse=True)
        return found

    def relate(self, relation: str, subject: str, target: str, on: bool = True) -> None:
        with self._graph_lock:
            if on:
                self._relations.add((relation, subject, target))
            else:
                self._relations.discard((relation, subject, target))

    def has(self, relation: str, subject: str, target: str) -> bool:
        if relation not in self.RELATIONS:
            raise ValueError(f"unknown relation {relation!r}; known: {sorted(self.RELATIONS)}")
        return (relation, subject, target) in self._relations

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        """Graph APIs offer no follow graph of Pages, professional accounts or Threads users
        to applications; the counts move (``followers_count``) and nothing else."""
        with self._graph_lock:
            followee.followers += 1
            follower.following += 1
            self.relate("follow", follower.id, followee.id)

    def token_for(self, user: FakeUser) -> str:
        token = f"fake-{self.name}-token-{user.id}"
        self.tokens[token] = user.id
        return token

    # -- simulation: the OAuth login --------------------------------------------------------

    def login_user(self) -> FakeUser:
        """Whose approval :meth:`approve` gives by default: the account owner."""
        return self.owner

    def approve(self, authorization_url: str, *, user: FakeUser | None = None) -> str:
        """The user (default: :meth:`login_user`) approves an authorization URL: the redirect
        back, with ``code`` and ``state``, as the dialog sends it."""
        return self.codes.approve(
            authorization_url, (user if user is not None else self.login_user()).id
        )

    def _oauth_token(self, params: dict[str, str]) -> dict[str, Any] | None:
        """``/oauth/access_token``: the code exchange and ``fb_exchange_token``."""
        if not hmac.compare_digest(params.get("client_secret", ""), self.app_secret) or (
            params.get("client_id", self.app_id) != self.app_id
        ):
            raise GraphError(400, 101, "Error validating client secret.")
        if params.get("grant_type") == "fb_exchange_token" and self.name != "threads":
            user = self.tokens.get(params.get("fb_exchange_token", ""))
            if user is None:
                raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
            return self._issue(user, "long-lived", 5183944)
        if "code" not in params:
            return None
        grant = self.codes.redeem(params, params.get("client_id", self.app_id))
        if grant is None:
            raise GraphError(
                400, 100, "Invalid verification code format.", kind="OAuthException", subcode=36007
            )
        user_id = grant.user_id
        answer = self._issue(user_id, "short-lived", 3600)
        if self.name == "threads":
            answer = {"access_token": answer["access_token"], "user_id": int(user_id)}
        return answer

    def _long_lived(
        self, path: str, params: Mapping[str, str], prefix: str, *, secret: str | None = None
    ) -> dict[str, Any]:
        """``GET /access_token`` (``{prefix}_exchange_token``, with the app secret: ``secret``,
        by default the fake's) and ``GET /refresh_access_token`` (``{prefix}_refresh_token``) of
        Threads (``th``) and Instagram Login (``ig``): a new token of the user, for 60 days."""
        token = params.get("access_token", "")
        user = self.tokens.get(token)
        if user is None:
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if path == "/access_token":
            if params.get("grant_type") != f"{prefix}_exchange_token" or not hmac.compare_digest(
                params.get("client_secret", ""), secret or self.app_secret
            ):
                raise GraphError(400, 101, "Error validating client secret.")
        elif params.get("grant_type") != f"{prefix}_refresh_token":
            raise bad_param(f"grant_type must be {prefix}_refresh_token")
        else:
            self.refreshes += 1
        return self._issue(user, "long-lived", 5183944)

    def _issue(self, user_id: str, kind: str, lifetime: int) -> dict[str, Any]:
        token = f"fake-{self.name}-{kind}-{self.next_id()}"
        self.tokens[token] = user_id
        return {"access_token": token, "token_type": "bearer", "expires_in": lifetime}

    # -- simulation: limits, containers, webhooks --------------------------------------------

    def set_usage(self, percent: float | None, *, regain_minutes: float = 0) -> None:
        """Report ``percent`` of the allowance used from now on (``None``: count calls
        again); at 100 % calls are refused until ``regain_minutes`` have passed."""
        with self._graph_lock:
            if percent is None:
                self._forced_usage = None
            else:
                self._forced_usage = (percent, time.time() + regain_minutes * 60)

    def fail_container(self, container_id: str, status: str = "ERROR") -> None:
        """The container ends in ``status`` (ERROR or EXPIRED) instead of FINISHED."""
        if status not in ("ERROR", "EXPIRED"):
            raise ValueError("a container fails with ERROR or EXPIRED")
        self._container_failures[container_id] = status

    fail_next_container: str | None = None
    """When set (ERROR or EXPIRED), the next container made ends in that status."""

    def container_status(self, container: GraphObject) -> str:
        data = container.data
        if data.get("_published"):
            return "PUBLISHED"
        failed = self._container_failures.get(container.id)
        if failed is not None and data.get("_polls", 0) >= self.processing_polls:
            return failed
        if not data.get("_ready", True):
            return "IN_PROGRESS"
        if data.get("_polls", 0) < self.processing_polls:
            return "IN_PROGRESS"
        return "FINISHED"

    def published_today(self, node_type: str) -> int:
        """The owner's posts published through the API in the last 24 hours (what the
        publishing limits count)."""
        since = self.clock.now().timestamp() - 86400
        return sum(
            1
            for m in self.of_type(node_type, self.owner.id)
            if m.created.timestamp() >= since and m.data.get("_via_api")
        )

    def new_container(self, node_type: str, data: dict[str, Any], owner: str) -> GraphObject:
        container = self.put(GraphObject(self.new_id(), node_type, data, owner, self.clock.now()))
        if self.fail_next_container is not None:
            self._container_failures[container.id] = self.fail_next_container
            self.fail_next_container = None
        return container

    def webhook(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """A delivery as Meta sends it: the JSON body and its ``X-Hub-Signature-256``."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        digest = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"content-type": "application/json", "x-hub-signature-256": f"sha256={digest}"}

    def _deliver(self, payload: dict[str, Any]) -> None:
        self.deliveries.append(self.webhook(payload))

    def subscription_query(
        self, verify_token: str, challenge: str = "1158201444"
    ) -> dict[str, str]:
        """The query of Meta's subscription check (``GET callback?hub.mode=subscribe...``)."""
        return {
            "hub.mode": "subscribe",
            "hub.verify_token": verify_token,
            "hub.challenge": challenge,
        }

    # -- paging --------------------------------------------------------------------------------

    def page(
        self,
        request: GraphRequest,
        rows: list[dict[str, Any]],
        *,
        times: list[datetime] | None = None,
        default_limit: int = 25,
        max_limit: int = 100,
    ) -> dict[str, Any]:
        """One page of ``rows`` (newest first) with Graph's cursor paging; ``since``/``until``
        (Unix times) filter by ``times`` when given."""
        if times is not None:
            since = request.int_param("since")
            until = request.int_param("until")
            kept = []
            for row, moment in zip(rows, times, strict=True):
                stamp = moment.timestamp()
                if since is not None and stamp < since:
                    continue
                if until is not None and stamp > until:
                    continue
                kept.append(row)
            rows = kept
        limit = max(1, min(request.int_param("limit", default_limit) or default_limit, max_limit))
        start = 0
        after = request.params.get("after")
        if after:
            start = _decode_cursor(after, rows)
        chunk = rows[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            paging: dict[str, Any] = {
                "cursors": {
                    "before": _encode_cursor(chunk[0].get("id", start)),
                    "after": _encode_cursor(chunk[-1].get("id", start + len(chunk) - 1)),
                }
            }
            if start + limit < len(rows):
                paging["next"] = (
                    f"{self.base_url}/{self.version}/{request.node}/{request.edge}?after={paging['cursors']['after']}"
                )
            body["paging"] = paging
        return body

    # -- the app ----------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            from starlette.applications import Starlette
            from starlette.routing import Route

            self._app = Starlette(
                routes=[
                    Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"]),
                ]
            )
        return self._app

    @abc.abstractmethod
    def handlers(self) -> dict[tuple[str, str, str | None], Handler]:
        """``(method, node type, edge) -> handler``; node type ``"root"`` for ``/edge``."""

    def extra_route(self, method: str, path: str, request: Request, body: bytes) -> Any:
        """Paths outside ``/{version}/``: ``None`` when not served."""
        return None

    def secret_of(self, token: str) -> str:
        """The app secret whose ``appsecret_proof`` goes with ``token`` (the app's)."""
        return self.app_secret

    def login_route(self, path: str, request: Request, body: bytes) -> Response | None:
        """A login served on other hosts than the Graph API's, answered as those hosts do
        (FakeInstagram's Instagram Login): ``None`` when not one."""
        return None

    async def _endpoint(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        trace = f"A{next(self._traces):010d}"
        body = await request.body()
        path = request.url.path
        headers = {"x-fb-trace-id": trace}
        try:
            login = self.login_route(path, request, body)
            if login is not None:
                return login
            if request.method == "GET" and path == self.authorize_path.format(version=self.version):
                return self.codes.authorize(request.query_params, self.login_user().id)
            if path in (f"/{self.version}/oauth/access_token", "/oauth/access_token"):
                params = dict(request.query_params)
                if request.method == "POST":
                    params.update(dict(parse_qsl(body.decode("utf-8", "replace"))))
                answer = self._oauth_token(params)
                if answer is not None:
                    return JSONResponse(answer, headers=headers)
            special = self.extra_route(request.method, path, request, body)
            if special is not None:
                return JSONResponse(special, headers=headers)
            prefix = f"/{self.version}"
            if not (path == prefix or path.startswith(prefix + "/")):
                raise GraphError(
                    400, 2500, "Unknown path components: " + path, kind="OAuthException"
                )
            params = {k: v for k, v in request.query_params.multi_items()}
            files: dict[str, bytes] = {}
            ctype = request.headers.get("content-type", "")
            if request.method == "POST" and ctype.startswith("multipart/"):
                form = await request.form()
                for key, value in form.multi_items():
                    if hasattr(value, "read"):
                        files[key] = await value.read()
                    else:
                        params[key] = str(value)
            elif request.method == "POST" and body and ctype.startswith("application/json"):
                try:
                    values = json.loads(body)
                except ValueError:
                    raise bad_param("The request body is not JSON") from None
                if not isinstance(values, dict):
                    raise bad_param("The request body must be a JSON object")
                params.update({k: json_param(v) for k, v in values.items()})
            elif request.method == "POST" and body:
                params.update(
                    dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
                )
            viewer = self._authenticate(request, params)
            usage = self._usage()
            headers.update(usage[1])
            if usage[0] is not None:
                raise usage[0]
            rest = path[len(prefix) :].strip("/")
            result = await self.dispatch(request.method, rest, params, files, viewer)
            return JSONResponse(result, headers=headers)
        except GraphError as error:
            return JSONResponse(error.body(trace), status_code=error.status, headers=headers)

    def _authenticate(self, request: Request, params: dict[str, str]) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() not in ("bearer", "oauth") or not token:
            token = params.pop("access_token", "")
        else:
            params.pop("access_token", None)
        viewer = self.tokens.get(token)
        if viewer is None:
            raise GraphError(
                401 if token else 400,
                190,
                "Invalid OAuth access token - Cannot parse access token"
                if token
                else "An active access token must be used to query information about the "
                "current user.",
            )
        proof = params.pop("appsecret_proof", None)
        secret = self.secret_of(token)
        expected = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and not hmac.compare_digest(proof, expected):
            raise GraphError(400, 100, "Invalid appsecret_proof provided in the API argument")
        if proof is None and self.require_proof:
            raise GraphError(
                400, 100, "API calls from the server require an appsecret_proof argument"
            )
        return viewer

    def _usage(self) -> tuple[GraphError | None, dict[str, str]]:
        now = time.time()
        with self._graph_lock:
            if now - self._usage_start >= 3600:
                self._usage_start, self._usage_calls = now, 0
            self._usage_calls += 1
            forced = self._forced_usage
            if forced is not None:
                percent, regain_at = forced
                if percent >= 100 and now >= regain_at:
                    self._forced_usage = None
                    forced = None
                    percent = 0
            if forced is None:
                percent = min(100.0, self._usage_calls * 100.0 / self.usage_limit)
        regain = max(0, round((forced[1] - now) / 60)) if forced is not None else 0
        app = {
            "call_count": int(percent),
            "total_cputime": int(percent * 0.6),
            "total_time": int(percent * 0.8),
        }
        buc = {
            self.owner.id: [
                {
                    "type": "pages" if self.name == "facebook" else self.name,
                    "call_count": int(percent),
                    "total_cputime": int(percent * 0.6),
                    "total_time": int(percent * 0.8),
                    "estimated_time_to_regain_access": regain if percent >= 100 else 0,
                }
            ]
        }
        headers = {
            "x-app-usage": json.dumps(app, separators=(",", ":")),
            "x-business-use-case-usage": json.dumps(buc, separators=(",", ":")),
        }
        if percent >= 100:
            return (
                GraphError(
                    400,
                    80001,
                    "There have been too many calls to this Page account. Wait a bit and try "
                    "again.",
                ),
                headers,
            )
        return None, headers

    async def dispatch(
        self, method: str, rest: str, params: dict[str, str], files: dict[str, bytes], viewer: str
    ) -> Any:
        self.calls.append((method, "/" + rest))
        if rest == "":
            if method == "POST" and "batch" in params:
                return await self._batch(params, viewer)
            if method == "GET" and "ids" in params:
                return await self._multi(params, viewer)
            raise bad_param("Unsupported request")
        parts = rest.split("/")
        if len(parts) > 2:
            raise GraphError(400, 2500, "Unknown path components: /" + "/".join(parts[2:]))
        node_ref = parts[0]
        edge = parts[1] if len(parts) == 2 else None
        table = self.handlers()
        root = table.get((method, "root", node_ref))
        if root is not None and edge is None:
            request = GraphRequest(method, "", node_ref, params, files, viewer)
            result = root(request)
            return await result if hasattr(result, "__await__") else result
        node_id = viewer if node_ref == "me" else node_ref
        obj = self.get(node_id)
        handler = table.get((method, obj.type, edge))
        if handler is None:
            if edge is None:
                raise bad_param(f"Unsupported {method.lower()} request on node type ({obj.type})")
            raise GraphError(
                400,
                100,
                f"(#100) Tried accessing nonexisting field ({edge}) on node type ({obj.type})",
            )
        request = GraphRequest(method, obj.id, edge, params, files, viewer)
        result = handler(request)
        return await result if hasattr(result, "__await__") else result

    async def _batch(self, params: dict[str, str], viewer: str) -> list[Any]:
        try:
            calls = json.loads(params["batch"])
        except ValueError:
            raise bad_param("Invalid batch: not JSON") from None
        if not isinstance(calls, list) or not calls:
            raise bad_param("Invalid batch")
        if len(calls) > 50:
            raise GraphError(400, 1, "Too many requests in batch message. Maximum batch size is 50")
        self.batch_requests += 1
        answers = []
        for call in calls:
            method = str(call.get("method", "GET")).upper()
            relative = str(call.get("relative_url", "")).lstrip("/")
            path, _, query = relative.partition("?")
            inner = dict(parse_qsl(query, keep_blank_values=True))
            if call.get("body"):
                inner.update(dict(parse_qsl(str(call["body"]))))
            if path.startswith(self.version + "/"):
                path = path[len(self.version) + 1 :]
            try:
                result = await self.dispatch(method, path, inner, {}, viewer)
                answers.append({"code": 200, "headers": [], "body": json.dumps(result)})
            except GraphError as error:
                answers.append(
                    {"code": error.status, "headers": [], "body": json.dumps(error.body("batch"))}
                )
        return answers

    async def _multi(self, params: dict[str, str], viewer: str) -> dict[str, Any]:
        out = {}
        for object_id in params["ids"].split(","):
            inner = {k: v for k, v in params.items() if k != "ids"}
            out[object_id] = await self.dispatch("GET", object_id, inner, {}, viewer)
        return out

    #: The ``metadata.type`` each node type answers to ``metadata=1``.
    METADATA_TYPES: ClassVar[dict[str, str]] = {}

    def read(
        self, request: GraphRequest, obj: GraphObject, value: dict[str, Any]
    ) -> dict[str, Any]:
        """A node read with ``fields=`` (error 100 for a field the type does not have), and
        ``metadata.type`` with ``metadata=1``."""
        specs = request.fields()
        check_known(specs, self.NODE_FIELDS.get(obj.type, frozenset(value)), obj.type)
        out = project(value, specs, obj.type)
        if request.params.get("metadata") == "1":
            out["metadata"] = {"type": self.METADATA_TYPES.get(obj.type, obj.type.lower())}
        return out

    def rows(
        self,
        request: GraphRequest,
        objects: list[GraphObject],
        render: Callable[[GraphObject], dict[str, Any]],
    ) -> dict[str, Any]:
        """An edge of nodes: rendered, projected, paged (``since``/``until`` on creation)."""
        specs = request.fields()
        for obj in objects[:1]:
            check_known(specs, self.NODE_FIELDS.get(obj.type, frozenset()), obj.type)
        rendered = [project(render(o), specs, o.type) for o in objects]
        return self.page(request, rendered, times=[o.created for o in objects])


def _encode_cursor(value: object) -> str:
    import base64

    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, rows: list[dict[str, Any]]) -> int:
    import base64

    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise bad_param("Invalid cursor") from None
    for index, row in enumerate(rows):
        if str(row.get("id")) == value:
            return index + 1
    # The row is gone (deleted): resume after the position rows with larger ids held.
    try:
        wanted = int(value.split("_")[-1])
    except ValueError:
        raise bad_param("Invalid cursor") from None
    for index, row in enumerate(rows):
        if int(str(row.get("id", "0")).split("_")[-1]) < wanted:
            return index
    return len(rows)


def insight(node_id: str, name: str, period: str, **answer: Any) -> dict[str, Any]:
    """One row of an insights answer, with ``values=[{value, end_time}]`` or
    ``total_value={value}``."""
    return {
        "name": name,
        "period": period,
        **answer,
        "title": name,
        "description": name,
        "id": f"{node_id}/insights/{name}/{period}",
    }


def metric_names(
    request: GraphRequest, known: frozenset[str], *, listed: bool = False
) -> list[str]:
    """The ``metric`` parameter, each name checked (error 100 for one Meta does not offer,
    the retired names included); ``listed``: Instagram's message, which lists the names."""
    names = [m for m in (request.params.get("metric") or "").split(",") if m]
    if not names:
        raise bad_param("The parameter metric is required")
    for name in names:
        if name not in known:
            raise bad_param(
                f"metric[0] must be one of the following values: {', '.join(sorted(known))}"
                if listed
                else f"The value must be a valid insights metric: {name}"
            )
    return names


def json_param(value: Any) -> str:
    """A JSON body value as the string a form field would carry."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def form_json(params: dict[str, str], name: str) -> Any:
    value = params.get(name)
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        raise bad_param(f"Param {name} must be JSON") from None


def require(params: dict[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise bad_param(f"The parameter {name} is required")


def unix_now() -> int:
    return int(time.time())
