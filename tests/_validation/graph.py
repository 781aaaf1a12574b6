"""Check Graph API traffic (Facebook, Instagram, Threads) against Meta's own descriptions.

- Facebook and Instagram: the node specs of Meta's SDK code generator
  (``../shared/specs/meta/graph/*.json``: each node's fields, and its edges with method,
  parameters and return type). A request ``METHOD /{version}/{id}[/{edge}]`` must name an edge
  that the node type of ``{id}`` has with that method (a node read, ``GET /{id}``, always
  exists), send only parameters that edge lists (plus the parameters every Graph call takes:
  ``fields``, paging, ``access_token``, ``appsecret_proof`` ...), and ask in ``fields=`` only
  for fields or edges of the node type, nested ones checked against the type they return.
- Threads: the requests of Meta's Threads API Postman collection
  (``../shared/specs/meta/threads/``): the path template with that method, parameters that the
  collection sends on it, and ``fields=`` names from its ``fields_*`` variables.

Batch requests (``POST /`` with ``batch=[...]``) are checked call by call, and multi-id reads
(``GET /?ids=a,b``) per id. The descriptions are read once per test run (``functools.cache``).

What the node specs lack but Meta's reference pages document is listed in ``DOCUMENTED`` with
the page; each entry is allowed, nothing else.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx

__all__ = ["DOCUMENTED", "GraphChecker", "ThreadsChecker", "graph_specs", "threads_requests"]

#: Parameters every Graph call may take (Graph API "Using the Graph API": field expansion,
#: cursor- and time-based paging, access tokens, appsecret_proof).
UNIVERSAL = frozenset(
    {
        "fields",
        "limit",
        "after",
        "before",
        "since",
        "until",
        "access_token",
        "appsecret_proof",
        "metadata",
        "pretty",
        "locale",
        "include_headers",
    }
)

#: Beyond the node specs, as Meta's reference pages document them.
DOCUMENTED: dict[tuple[str, str], str] = {
    # https://developers.facebook.com/docs/graph-api/reference/story-attachment/ (a Page post's
    # ``attachments`` edge, read by field expansion)
    ("PagePost", "field:attachments"): "StoryAttachment",
    # https://developers.facebook.com/docs/graph-api/reference/photo/ ``temporary`` (POST
    # /{page}/photos: an unpublished photo for one post's attached_media)
    ("Page", "POST photos:temporary"): "",
    # https://developers.facebook.com/docs/graph-api/reference/page/photos/#Creating: the photo
    # file itself, a multipart ``source`` part (the spec lists only the other parameters)
    ("Page", "POST photos:source"): "",
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-hashtag-search
    ("root", "GET ig_hashtag_search"): "user_id,q",
    # https://developers.facebook.com/docs/graph-api/reference/user/accounts/
    ("User", "field:access_token"): "",
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/business_discovery
    ("IGUser", "field:business_discovery"): "IGUser",
    # https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-hashtag/recent-media
    ("ShadowIGHashtag", "GET recent_media:fields"): "",
}


#: Edges a node spec names otherwise than the API's path: graph.instagram.com's publish call is
#: ``POST /<IG_ID>/media_publish`` (https://developers.facebook.com/docs/instagram-platform/
#: content-publishing, Instagram API with Instagram Login); IGUserForIGOnlyAPI lists it as
#: ``mediapublish``, with the same parameter (``creation_id``).
EDGE_NAMES: dict[tuple[str, str], str] = {("IGUserForIGOnlyAPI", "media_publish"): "mediapublish"}


@dataclass(frozen=True)
class Node:
    name: str
    fields: dict[str, str]
    edges: dict[tuple[str, str | None], tuple[str | None, frozenset[str]]]
    """``(method, edge) -> (return type, parameters)``."""


@functools.cache
def graph_specs(directory: str) -> dict[str, Node]:
    """Every node spec of the directory, read once."""
    nodes = {}
    for path in sorted(Path(directory).glob("*.json")):
        if path.name == "enum_types.json":
            continue
        spec = json.loads(path.read_text())
        fields = {f["name"]: f.get("type", "") for f in spec.get("fields", [])}
        edges = {}
        for api in spec.get("apis", []):
            key = (api["method"], api.get("endpoint"))
            params = frozenset(p["name"] for p in api.get("params", []))
            edges[key] = (api.get("return"), params)
        nodes[path.stem] = Node(path.stem, fields, edges)
    return nodes


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_]+\([^()]*\))*)(\{.*\})?$", re.S)


def field_items(text: str) -> list[tuple[str, str | None]]:
    """``fields=`` as ``(name, nested text or None)`` items; a malformed item is its text."""
    items = []
    for part in _split_top(text):
        match = _ITEM.match(part)
        if match is None:
            items.append((part, None))
            continue
        name, _, sub = match.groups()
        items.append((name, sub[1:-1] if sub else None))
    return items


def _element(type_name: str) -> str:
    match = re.fullmatch(r"list<(.+)>", type_name)
    return match.group(1) if match else type_name


class GraphChecker:
    """Validates Graph requests against the node specs. ``node_type(id)`` names the node type
    of an id (the fake knows it; respx tests give a table)."""

    def __init__(
        self, directory: Path, node_type: Callable[[str], str | None], *, version: str
    ) -> None:
        self.nodes = graph_specs(str(directory))
        self.directory = directory
        self.node_type = node_type
        self.version = version

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        return []

    def request_violations(self, request: httpx.Request) -> list[str]:
        url = request.url
        if url.path.startswith("/ig-api-upload/"):
            # Instagram's resumable upload host (rupload.facebook.com): headers only, no Graph
            # node (https://developers.facebook.com/docs/instagram-platform/content-publishing/resumable-uploads)
            headers = request.headers
            problems = []
            for name in ("offset", "file_size"):
                if name not in headers:
                    problems.append(f"rupload without the {name} header")
            if not headers.get("authorization", "").startswith("OAuth "):
                problems.append("rupload without Authorization: OAuth <token>")
            return problems
        params = dict(url.params.multi_items())
        ctype = request.headers.get("content-type", "")
        if request.method == "POST" and request.content and ctype.startswith("application/json"):
            params.update({k: "" for k in json.loads(request.content)})
        elif (
            request.method == "POST"
            and request.content
            and request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            )
        ):
            params.update(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        elif request.method == "POST" and request.headers.get("content-type", "").startswith(
            "multipart/"
        ):
            params.update(_multipart_names(request))
        problems = self.call_violations(request.method, url.path, params)
        if request.method == "POST" and "upload_phase" in params:
            problems.extend(self._upload_phase(request))
        return problems

    def _upload_phase(self, request: httpx.Request) -> list[str]:
        """The value of ``upload_phase`` (a chunked video upload of ``POST /{page}/videos``)
        is one of the spec's ``pagevideos_upload_phase_enum_param`` values."""
        value = _param_value(request, "upload_phase")
        allowed = upload_phases(str(self.directory))
        if value not in allowed:
            return [f"upload_phase {value!r} is not one of {sorted(allowed)}"]
        return []

    def call_violations(self, method: str, path: str, params: dict[str, str]) -> list[str]:
        prefix = f"/{self.version}"
        if path == "/oauth/access_token" or path == f"{prefix}/oauth/access_token":
            # https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived
            # and, for the code exchange (PKCE's code_verifier included),
            # https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow;
            # Instagram Login's (api.instagram.com) takes the same five without the verifier:
            # https://developers.facebook.com/docs/instagram-platform/reference/oauth-access-token
            allowed = {"grant_type", "client_id", "client_secret", "fb_exchange_token"}
            allowed |= {"code", "redirect_uri", "code_verifier"}
            return [f"oauth/access_token takes no {p!r}" for p in params if p not in allowed]
        if path in ("/access_token", "/refresh_access_token"):
            # Instagram Login's token grants (graph.instagram.com, unversioned), as their node
            # specs describe them (IGAccessTokenForIGOnlyAPI, IGRefreshAccessTokenForIGOnlyAPI).
            spec = "IGAccessToken" if path == "/access_token" else "IGRefreshAccessToken"
            node = self.nodes[f"{spec}ForIGOnlyAPI"]
            edge = node.edges.get((method, None))
            if edge is None:
                return [f"{method} {path}: the spec has no such call"]
            return [f"{path} takes no {p!r}" for p in params if p not in edge[1]]
        if not path.startswith(prefix):
            return [f"{path}: not under the Graph API version {self.version}"]
        rest = path[len(prefix) :].strip("/")
        if rest == "":
            return self._root(method, params)
        parts = rest.split("/")
        if len(parts) > 2:
            return [f"{path}: a Graph path is /{{id}}[/{{edge}}]"]
        node_ref, edge = parts[0], (parts[1] if len(parts) == 2 else None)
        documented = DOCUMENTED.get(("root", f"{method} {node_ref}"))
        if documented is not None and edge is None:
            allowed = set(documented.split(",")) | UNIVERSAL
            return [f"{method} /{node_ref} takes no {p!r}" for p in params if p not in allowed]
        node_name = self.node_type(node_ref)
        if node_name is None:
            return [f"{path}: unknown object {node_ref!r}"]
        node = self.nodes.get(node_name)
        if node is None:
            return [f"{path}: node type {node_name} has no spec"]
        problems: list[str] = []
        if edge is None and method == "GET":
            extra = set()
            return_type: str | None = node_name
        else:
            found = node.edges.get((method, EDGE_NAMES.get((node_name, edge), edge)))
            if found is None:
                return [f"{node_name} has no edge {method} {edge or '(node)'}"]
            return_type, extra = found[0], set(found[1])
        for name in params:
            if name in UNIVERSAL or name in extra:
                continue
            if (node_name, f"{method} {edge}:{name}") in DOCUMENTED:
                continue
            problems.append(
                f"{method} {node_name}/{edge or ''}: parameter {name!r} is not in the spec"
            )
        if "fields" in params and method == "GET":
            fields_of = return_type if edge is not None else node_name
            if (node_name, f"{method} {edge}:fields") in DOCUMENTED:
                fields_of = "IGMedia"
            problems.extend(self._fields(fields_of, params["fields"]))
        return problems

    def _fields(self, node_name: str | None, text: str) -> list[str]:
        if node_name is None or node_name not in self.nodes:
            return []
        node = self.nodes[node_name]
        problems = []
        for name, sub in field_items(text):
            documented = DOCUMENTED.get((node_name, f"field:{name}"))
            edge = node.edges.get(("GET", name))
            if name in node.fields:
                nested = _element(node.fields[name])
            elif edge is not None:
                nested = edge[0] or ""
            elif documented is not None:
                nested = documented
            else:
                problems.append(f"{node_name} has no field {name!r}")
                continue
            if sub:
                problems.extend(self._fields(nested if nested in self.nodes else None, sub))
        return problems

    def _root(self, method: str, params: dict[str, str]) -> list[str]:
        if method == "POST" and "batch" in params:
            # https://developers.facebook.com/docs/graph-api/batch-requests
            problems = [
                f"batch request takes no {p!r}"
                for p in params
                if p not in {"batch", "include_headers", *UNIVERSAL}
            ]
            calls = json.loads(params["batch"])
            if len(calls) > 50:
                problems.append(f"a batch holds at most 50 calls, not {len(calls)}")
            for call in calls:
                relative = call["relative_url"].lstrip("/")
                path, _, query = relative.partition("?")
                inner = dict(parse_qsl(query, keep_blank_values=True))
                problems.extend(
                    self.call_violations(call["method"], f"/{self.version}/{path}", inner)
                )
            return problems
        if method == "GET" and "ids" in params:
            # https://developers.facebook.com/docs/graph-api/guides/field-expansion (multiple ids)
            inner = {k: v for k, v in params.items() if k != "ids"}
            problems = []
            for object_id in params["ids"].split(","):
                problems.extend(self.call_violations("GET", f"/{self.version}/{object_id}", inner))
            return problems
        return [f"{method} / is neither a batch nor a multi-id read"]


@functools.cache
def upload_phases(directory: str) -> frozenset[str]:
    """The ``upload_phase`` values of ``POST /{page}/videos`` (Page.json's parameter type,
    described in enum_types.json)."""
    enums = json.loads((Path(directory) / "enum_types.json").read_text())
    found = next(e for e in enums if e["name"] == "pagevideos_upload_phase_enum_param")
    return frozenset(found["values"])


def _param_value(request: httpx.Request, name: str) -> str | None:
    """One parameter's value: from the query, a JSON body or a multipart part."""
    if name in request.url.params:
        return request.url.params[name]
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        value = json.loads(request.content).get(name)
        return None if value is None else str(value)
    if ctype.startswith("multipart/"):
        match = re.search(
            rb'Content-Disposition: form-data; name="' + re.escape(name.encode()) + rb'"\r\n'
            rb"(?:[^\r\n]+\r\n)*\r\n([^\r\n]*)",
            request.content,
        )
        return match.group(1).decode() if match else None
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True)).get(name)


def _multipart_names(request: httpx.Request) -> dict[str, str]:
    body = request.content
    names = re.findall(rb'Content-Disposition: form-data; name="([^"]+)"', body)
    return {n.decode(): "" for n in names}


# -- Threads ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadsRequest:
    method: str
    template: tuple[str, ...]
    params: frozenset[str]


@functools.cache
def threads_requests(path: str) -> tuple[tuple[ThreadsRequest, ...], frozenset[str]]:
    """The collection's requests (method, path template, parameters) and every field name its
    ``fields_*`` variables list (nested ones included)."""
    collection = json.loads(Path(path).read_text())
    variables = {v["key"]: str(v.get("value", "")) for v in collection.get("variable", [])}
    fields: set[str] = set()
    for key, value in variables.items():
        if key.startswith("fields_"):
            fields.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", value))
    for key in ("metrics_post", "metrics_account"):
        fields.discard(key)
    found: dict[tuple[str, tuple[str, ...]], set[str]] = {}

    def walk(items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            if "item" in item:
                walk(item["item"])
                continue
            request = item["request"]
            url = request["url"]
            raw = url["raw"] if isinstance(url, dict) else url
            raw = raw.replace("{{api_host}}", "")
            target, _, query = raw.partition("?")
            segments = tuple(
                "{id}" if s.startswith("{{") or s == "me" else s
                for s in target.strip("/").split("/")
                if s
            )
            names = {k for k, _ in parse_qsl(query, keep_blank_values=True)}
            found.setdefault((request["method"], segments), set()).update(names)

    walk(collection["item"])
    requests = tuple(ThreadsRequest(m, t, frozenset(p)) for (m, t), p in found.items())
    return requests, frozenset(fields)


class ThreadsChecker:
    """Validates Threads requests against the Postman collection."""

    # Parameters the collection's requests do not show but Meta's Threads reference documents
    # on the same endpoints (https://developers.facebook.com/docs/threads/reference/):
    # ``link_attachment`` on /threads (posts), ``is_carousel_item``/``children`` on the carousel
    # item and carousel containers (the collection shows them; kept for their own templates).
    # ``code_verifier`` on the code exchange: the PKCE of the OAuth client (RFC 7636), which
    # the collection's template leaves out.
    DOCUMENTED_PARAMS: ClassVar[dict[tuple[str, tuple[str, ...]], set[str]]] = {
        ("POST", ("{id}", "threads")): {"link_attachment", "quote_post_id"},
        ("POST", ("oauth", "access_token")): {"code_verifier"},
    }

    def __init__(self, collection: Path, *, version: str = "v1.0") -> None:
        self.requests, self.fields = threads_requests(str(collection))
        self.version = version

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        return []

    def request_violations(self, request: httpx.Request) -> list[str]:
        path = request.url.path
        params = dict(request.url.params.multi_items())
        if request.method == "POST" and request.content:
            if request.headers.get("content-type", "").startswith("application/json"):
                params.update({k: "" for k in json.loads(request.content)})
            else:
                params.update(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        if path in ("/access_token", "/refresh_access_token", "/oauth/access_token"):
            segments: tuple[str, ...] = tuple(path.strip("/").split("/"))
        else:
            prefix = f"/{self.version}"
            if not path.startswith(prefix):
                return [f"{path}: not under the Threads API version {self.version}"]
            segments = tuple(
                "{id}" if s.isdigit() or s == "me" else s
                for s in path[len(prefix) :].strip("/").split("/")
                if s
            )
        if segments == ():
            if request.method == "POST" and "batch" in params:
                problems = []
                for call in json.loads(params["batch"]):
                    inner_path, _, query = call["relative_url"].lstrip("/").partition("?")
                    inner = httpx.Request(
                        call["method"],
                        f"https://threads.invalid/{self.version}/{inner_path}?{query}",
                    )
                    problems.extend(self.request_violations(inner))
                return problems
            return ["the Threads API has no root call but batches"]
        matches = [
            r for r in self.requests if r.method == request.method and r.template == segments
        ]
        if not matches:
            return [f"the collection has no {request.method} /{'/'.join(segments)}"]
        allowed = set().union(*(r.params for r in matches)) | {
            "access_token",
            "appsecret_proof",
            "limit",
            "after",
            "before",
            "since",
            "until",
        }
        allowed |= self.DOCUMENTED_PARAMS.get((request.method, segments), set())
        problems = [
            f"{request.method} /{'/'.join(segments)}: parameter {p!r} is not in the collection"
            for p in params
            if p not in allowed
        ]
        if "fields" in params:
            for name, _ in field_items(params["fields"]):
                if name not in self.fields:
                    problems.append(f"field {name!r} is in none of the collection's fields_* lists")
        return problems
