"""The Graph API client the three Meta adapters share.

What the pipeline needs to know about the Graph API (:func:`make_network`): Meta's usage
headers (``X-App-Usage``, ``X-Business-Use-Case-Usage``; read by the pipeline's
:func:`~socialkit._http.meta_usage_parser`, which slows the account down before 100 % and waits
``estimated_time_to_regain_access`` when Meta says so) and the Graph error object decoded into
socialkit's error tree (:func:`decode_graph_error`). On top of a pipeline
:class:`~socialkit._http.Session`, :class:`Graph` reads and writes nodes and edges, walks cursor
pages (``paging.cursors.after``) as a :class:`~socialkit.Paged`, and sends batch requests
(``POST /`` with up to 50 calls). Nothing here retries or waits by itself: every call goes
through the session.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from socialkit._errors import (
    APIError,
    AuthError,
    DuplicateError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    TokenExpiredError,
    ValidationError,
    error_class_for_status,
)
from socialkit._http import Network, Session, meta_usage_parser, parse_retry_after, redact_text
from socialkit._paging import Batch, Fetch, Paged
from socialkit.adapters._base import check_id

__all__ = [
    "BATCH_MAX",
    "DEFAULT_VERSION",
    "Graph",
    "GraphAuth",
    "ID_PATTERN",
    "UploadOutOfStepError",
    "decode_graph_error",
    "graph_id",
    "make_network",
    "next_cursor",
    "obj",
    "unix",
]

T = TypeVar("T")

#: The Graph API version used unless the ``graph_version`` setting says otherwise.
DEFAULT_VERSION = "v25.0"
#: The most calls one batch request may carry (Graph API batch requests).
BATCH_MAX = 50
#: Graph ids: digits, and ``{page}_{post}`` for Page posts.
ID_PATTERN = r"[0-9]{1,25}(?:_[0-9]{1,25})?"

_MAX_MESSAGE = 500
# Error codes, as Meta documents them (Graph API, "Handling errors"; Instagram and Threads use
# the same object).
_THROTTLED = frozenset({4, 17, 32, 341, 368, 613, 80001, 80002, 80003, 80004, 80005, 80006})
_THROTTLED |= frozenset({80008, 80009, 80014})
_TRANSIENT = frozenset({1, 2})
_TOKEN = frozenset({102, 190})
_EXPIRED_SUBCODES = frozenset({463, 467})
_PERMISSION = frozenset({3, 10}) | frozenset(range(200, 300))
_DUPLICATE = frozenset({506})
_NOT_FOUND_SUBCODES = frozenset({33})
_NOT_FOUND = frozenset({110, 803})  # invalid user id, unknown alias
# 368 is "temporarily blocked for policy violations": a throttle with a long wait.
_THROTTLED -= {368}
_PERMISSION |= {368}


def graph_id(network: str, value: object, what: str = "id") -> str:
    """``value`` if it is a Graph id, else a ValidationError before any request."""
    return check_id(network, value, ID_PATTERN, what)


def unix(moment: datetime) -> int:
    """A Graph timestamp (Unix seconds) for ``since``/``until``/``scheduled_publish_time``."""
    return int(moment.timestamp())


class GraphAuth(httpx.Auth):
    """The access token of a Graph call, and ``appsecret_proof`` when an app secret is set.

    The token travels in the ``Authorization: Bearer`` header (the Graph API accepts it there,
    and headers stay out of logs) or, for Threads, in the ``access_token`` query parameter as
    Meta's Threads reference shows it (the pipeline redacts it from every logged URL).
    ``appsecret_proof`` is the hex HMAC-SHA256 of the token keyed with the app secret.
    """

    def __init__(
        self,
        token: Callable[[], str],
        *,
        app_secret: Callable[[], str | None] = lambda: None,
        in_query: bool = False,
    ) -> None:
        self._token = token
        self._app_secret = app_secret
        self._in_query = in_query

    def __repr__(self) -> str:
        return "GraphAuth(token='**********')"

    def auth_flow(self, request: httpx.Request) -> Any:
        from socialkit.adapters.meta._auth import appsecret_proof

        token = self._token()
        params: dict[str, str] = {}
        if self._in_query:
            params["access_token"] = token
        else:
            request.headers["Authorization"] = f"Bearer {token}"
        secret = self._app_secret()
        if secret:
            params["appsecret_proof"] = appsecret_proof(token, secret)
        if params:
            request.url = request.url.copy_merge_params(params)
        yield request


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _retry_after_from_usage(response: httpx.Response) -> float | None:
    """Seconds until access returns, from a usage header's ``estimated_time_to_regain_access``
    (minutes) when Meta gives one with a throttling error."""
    update = meta_usage_parser(response)
    if update is not None and update.reset_after:
        return update.reset_after
    return None


#: A video chunk sent out of step with its upload session (``upload_phase=transfer``): Meta
#: names the range it expects in ``error_data`` (Meta's Business SDK, video_uploader.py).
_OUT_OF_STEP = 1363037


class UploadOutOfStepError(InvalidRequestError):
    """A chunked video upload's transfer refused as out of step (subcode 1363037), with the
    byte range Meta expects next (``error_data``'s ``start_offset`` and ``end_offset``)."""

    def __init__(
        self,
        network: str,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
        *,
        start_offset: int = 0,
        end_offset: int = 0,
    ) -> None:
        super().__init__(network, status, code, message, request_id)
        self.start_offset = start_offset
        self.end_offset = end_offset

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_out_of_step,
            (
                self.network,
                self.status,
                self.code,
                self.message,
                self.request_id,
                self.start_offset,
                self.end_offset,
            ),
        )


def _rebuild_out_of_step(
    network: str,
    status: int | None,
    code: str | None,
    message: str | None,
    request_id: str | None,
    start_offset: int,
    end_offset: int,
) -> UploadOutOfStepError:
    return UploadOutOfStepError(
        network,
        status,
        code,
        message,
        request_id,
        start_offset=start_offset,
        end_offset=end_offset,
    )


def _expected_range(error: Mapping[str, Any]) -> tuple[int, int] | None:
    """The range of an out-of-step transfer's ``error_data`` (an object, or its JSON text)."""
    data: Any = error.get("error_data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None
    if not isinstance(data, dict):
        return None
    start, end = _int(data.get("start_offset")), _int(data.get("end_offset"))
    return None if start is None or end is None else (start, end)


def decode_graph_error(response: httpx.Response, network: str) -> APIError:
    """The Graph error object (``{"error": {"message", "type", "code", "error_subcode",
    "is_transient", "fbtrace_id"}}``) as socialkit's error: throttled codes (4, 17, 32, 613,
    80001-class) are :class:`RateLimitError` (with the wait Meta announces), transient codes (1,
    2, ``is_transient``) :class:`ServerError`, token codes (190, 102) :class:`AuthError`
    (:class:`TokenExpiredError` for an expired session), permission codes (10, 200-299)
    :class:`PermissionError`, 506 :class:`DuplicateError`, 100 :class:`InvalidRequestError`
    (:class:`NotFoundError` for a missing object). Other bodies follow the HTTP status."""
    status = response.status_code
    body: Any = None
    try:
        body = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    request_id = response.headers.get("x-fb-trace-id") or response.headers.get("x-fb-request-id")
    if not isinstance(error, dict):
        from socialkit._http import default_error_decoder

        return default_error_decoder(response, network)
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    raw_message = error.get("error_user_msg") or error.get("message")
    message = redact_text(str(raw_message))[:_MAX_MESSAGE] if raw_message else None
    if isinstance(error.get("fbtrace_id"), str):
        request_id = error["fbtrace_id"]
    label = None if code is None else (str(code) if subcode is None else f"{code}/{subcode}")
    cls: type[APIError]
    if code in _THROTTLED or (code is not None and 80000 <= code < 80100):
        retry_after = parse_retry_after(response) or _retry_after_from_usage(response)
        return RateLimitError(network, status, label, message, request_id, retry_after=retry_after)
    if code in _TRANSIENT or error.get("is_transient") is True:
        cls = ServerError
    elif code in _TOKEN:
        cls = TokenExpiredError if subcode in _EXPIRED_SUBCODES else AuthError
    elif code in _PERMISSION:
        cls = PermissionError
    elif code in _DUPLICATE:
        cls = DuplicateError
    elif code in _NOT_FOUND or (code == 100 and subcode in _NOT_FOUND_SUBCODES):
        cls = NotFoundError
    elif code == 100:
        cls = InvalidRequestError
    else:
        cls = error_class_for_status(status)
    expected = _expected_range(error) if subcode == _OUT_OF_STEP else None
    if cls is InvalidRequestError and expected is not None:
        return UploadOutOfStepError(
            network,
            status,
            label,
            message,
            request_id,
            start_offset=expected[0],
            end_offset=expected[1],
        )
    if cls is RateLimitError:
        return RateLimitError(
            network, status, label, message, request_id, retry_after=parse_retry_after(response)
        )
    return cls(network, status, label, message, request_id)


def _transient_answer(error: APIError) -> bool:
    """A transient Graph error (codes 1 and 2, ``is_transient``) that came with a status below
    500 (Meta sends them with HTTP 400): "wait and retry the operation" (Handling Errors,
    https://developers.facebook.com/docs/graph-api/guides/error-handling). ``decode_graph_error``
    makes a :class:`ServerError` of a 4xx for these only; a 5xx is decided by its status."""
    return isinstance(error, ServerError) and error.status is not None and error.status < 500


def make_network(name: str, base_url: str, version: str) -> Network:
    """The pipeline's description of one Graph host (``graph.facebook.com``,
    ``graph.instagram.com`` or ``graph.threads.net``) at one API version. All calls of an
    account share Meta's usage allowance, so they share one rate-limit bucket."""
    return Network(
        name=name,
        base_url=f"{base_url.rstrip('/')}/{version}",
        rate_limit_parser=meta_usage_parser,
        error_decoder=decode_graph_error,
        transient_error=_transient_answer,
    )


class Graph:
    """Graph API calls through a pipeline session: nodes, edges, pages and batches."""

    def __init__(self, session: Session, network: str) -> None:
        self.session = session
        self.network = network

    def _json(self, response: httpx.Response) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            raise MalformedResponseError(
                self.network,
                response.status_code,
                "malformed_response",
                "the answer is not JSON",
                response.headers.get("x-fb-trace-id"),
            ) from None

    def malformed(self, what: str) -> MalformedResponseError:
        return MalformedResponseError(
            self.network, None, "malformed_response", f"the answer has no {what}"
        )

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``GET path`` and the JSON object it answers."""
        response = await self.session.request("GET", path, params=dict(params or {}))
        body = self._json(response)
        if not isinstance(body, dict):
            raise self.malformed("JSON object")
        return body

    async def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        files: Any = None,
        kind: str = "create",
        params: Mapping[str, Any] | None = None,
        retry_safe: bool = False,
    ) -> dict[str, Any]:
        """``POST path`` (a JSON body, or multipart with ``files``). ``retry_safe``: sending it
        twice publishes nothing (a media container, an unpublished photo), so the pipeline may
        resend it after a lost answer."""
        values = {k: v for k, v in (data or {}).items() if v is not None}
        # Writes go as JSON (the Graph API takes JSON bodies, as Meta's Pages API examples
        # send them); a file goes as multipart form fields with the file part.
        response = await self.session.request(
            "POST",
            path,
            json=None if files is not None else values,
            data={k: _form(v) for k, v in values.items()} if files is not None else None,
            files=files,
            params=dict(params) if params else None,
            kind=kind,  # type: ignore[arg-type]
            retry_safe=retry_safe,
        )
        body = self._json(response)
        if not isinstance(body, dict):
            raise self.malformed("JSON object")
        return body

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = await self.session.request("DELETE", path, params=dict(params or {}))
        body = self._json(response)
        return body if isinstance(body, dict) else {}

    def paged(
        self,
        path: str,
        params: Mapping[str, Any],
        convert: Callable[[dict[str, Any]], T | None],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        time_of: Callable[[T], datetime | None] | None = None,
        page_size: int = 50,
        push_times: bool = True,
        complete: Callable[[list[T]], Awaitable[list[T]]] | None = None,
    ) -> Paged[T]:
        """A Graph edge as a :class:`Paged`: ``after`` cursors, ``limit`` per page, and
        ``since``/``until`` as Unix times where the edge takes them (``push_times``);
        ``complete`` finishes each page's items with what the edge does not give (more reads)."""
        return Paged(
            self.fetcher(
                path,
                params,
                convert,
                since=since,
                until=until,
                page_size=page_size,
                push_times=push_times,
                complete=complete,
            ),
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=time_of,
        )

    def fetcher(
        self,
        path: str,
        params: Mapping[str, Any],
        convert: Callable[[dict[str, Any]], T | None],
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 50,
        push_times: bool = True,
        complete: Callable[[list[T]], Awaitable[list[T]]] | None = None,
    ) -> Fetch[T]:
        base = dict(params)
        if push_times and since is not None:
            base["since"] = unix(since)
        if push_times and until is not None:
            base["until"] = unix(until) + 1

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[T]:
            query = dict(base)
            query["limit"] = page_size if want is None else max(1, min(page_size, want))
            if network_cursor is not None:
                query["after"] = network_cursor
            body = await self.get(path, query)
            data = body.get("data")
            if not isinstance(data, list):
                raise self.malformed("data list")
            items = [item for item in (convert(d) for d in data if isinstance(d, dict)) if item]
            if complete is not None and items:
                items = await complete(items)
            return Batch(items, next=next_cursor(body) if data else None)

        return fetch

    async def batch(
        self, calls: Sequence[tuple[str, str]], *, include_headers: bool = False
    ) -> list[dict[str, Any] | APIError]:
        """Send ``(method, relative_url)`` calls as Graph batch requests of up to 50 each
        (``POST /`` with ``batch=[...]``): one answer per call, in order, as its JSON body or
        the error decoded from its own status and body."""
        answers: list[dict[str, Any] | APIError] = []
        for start in range(0, len(calls), BATCH_MAX):
            chunk = calls[start : start + BATCH_MAX]
            body = [{"method": m, "relative_url": u.lstrip("/")} for m, u in chunk]
            response = await self.session.request(
                "POST",
                "/",
                data={
                    "batch": json.dumps(body, separators=(",", ":")),
                    "include_headers": "true" if include_headers else "false",
                },
                kind="read" if all(m == "GET" for m, _ in chunk) else "create",
            )
            items = self._json(response)
            if not isinstance(items, list) or len(items) != len(chunk):
                raise self.malformed("batch answer for every call")
            for item in items:
                answers.append(self._batch_item(item))
        return answers

    async def batch_edges(self, urls: Sequence[str]) -> list[list[dict[str, Any]] | APIError]:
        """Every item of each edge ``urls`` names (relative URLs with their query), read in
        batch requests: the first page of each, then, round after round, the next page
        (``after`` cursor) of those whose answer has ``paging.next``, until none has. One answer
        per URL, in order: the items of all its pages, or the error of the page that failed."""
        out: list[list[dict[str, Any]] | APIError] = [[] for _ in urls]
        pending = [(i, url) for i, url in enumerate(urls)]
        cursors: dict[int, set[str]] = {}  # each edge's cursors so far: a cycle ends it
        while pending:
            answers = await self.batch([("GET", url) for _, url in pending])
            following: list[tuple[int, str]] = []
            for (index, _), answer in zip(pending, answers, strict=True):
                if isinstance(answer, APIError):
                    out[index] = answer
                    continue
                data = answer.get("data")
                items = out[index]
                if isinstance(items, list) and isinstance(data, list):
                    items.extend(d for d in data if isinstance(d, dict))
                after = next_cursor(answer) if data else None
                seen = cursors.setdefault(index, set())
                if after is not None and after not in seen:  # a cursor met before ends the edge
                    seen.add(after)
                    base = urls[index]
                    joiner = "&" if "?" in base else "?"
                    following.append((index, f"{base}{joiner}after={quote(after, safe='')}"))
            pending = following
        return out

    def _batch_item(self, item: object) -> dict[str, Any] | APIError:
        if not isinstance(item, dict):
            # Meta answers null for a call that timed out inside the batch.
            return ServerError(self.network, None, "batch_timeout", "the call did not complete")
        status = _int(item.get("code")) or 500
        text = item.get("body")
        content = text.encode() if isinstance(text, str) else b""
        if 200 <= status < 300:
            try:
                value = json.loads(content)
            except (ValueError, RecursionError):
                return MalformedResponseError(
                    self.network, status, "malformed_response", "a batch answer is not JSON"
                )
            if not isinstance(value, dict):
                return MalformedResponseError(
                    self.network, status, "malformed_response", "a batch answer is not an object"
                )
            return value
        return decode_graph_error(httpx.Response(status, content=content), self.network)


def next_cursor(body: Mapping[str, Any]) -> str | None:
    """The ``after`` cursor of a Graph page, when there is a next page."""
    paging = body.get("paging")
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    after = cursors.get("after") if isinstance(cursors, dict) else None
    return after if isinstance(after, str) and after else None


def obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (lenient reading of answers)."""
    return value if isinstance(value, dict) else {}


def _form(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def fields(*names: str) -> str:
    """A ``fields=`` value."""
    return ",".join(names)


def check_ids(network: str, values: Iterable[object], what: str = "id") -> list[str]:
    return [graph_id(network, v, what) for v in values]


def refuse(network: str, message: str) -> ValidationError:
    return ValidationError(f"{network}: {message}")
