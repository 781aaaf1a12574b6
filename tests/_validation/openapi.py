"""Validate httpx requests and mocked responses against an OpenAPI 3.0/3.1 document.

Built on ``openapi-core`` (request/response validation) with these additions, each explained
where it is implemented:

- requests are matched to the document regardless of the base URL a test uses
  (``server_url`` is mapped onto the document's first server);
- a query parameter the operation does not declare is a violation (openapi-core ignores
  unknown query parameters, which would let a misspelt parameter through);
- a body sent to an operation without a ``requestBody`` is a violation (openapi-core ignores it);
- request JSON bodies are validated with unspecified ``additionalProperties`` forbidden, so a
  misspelt field fails (responses are not: real APIs add fields);
- Rails-style ``name[]`` query keys are matched to the declared array parameter ``name``;
- ``multipart/form-data`` bodies with binary parts are checked by a fallback when openapi-core
  cannot (see ``_multipart_fallback``).

Documents are loaded once per process (``load_spec`` is cached) with the workarounds in
``_WORKAROUNDS`` applied to the loaded dict; the file on disk is never changed.
"""

from __future__ import annotations

import email.parser
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
from jsonschema.exceptions import ValidationError as SchemaValidationError
from jsonschema.exceptions import best_match
from jsonschema_path import SchemaPath
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.security.exceptions import SecurityProviderError
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.security.providers import BaseProvider, HttpProvider
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import (
    OperationNotFound,
    PathError,
    ServerNotFound,
)
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.validation.request import (
    V30RequestBodyValidator,
    V30RequestParametersValidator,
    V30RequestSecurityValidator,
    V31RequestBodyValidator,
    V31RequestParametersValidator,
    V31RequestSecurityValidator,
)
from openapi_core.validation.request.exceptions import (
    ParameterValidationError,
    RequestBodyValidationError,
)
from openapi_core.validation.response import V30ResponseValidator, V31ResponseValidator
from openapi_core.validation.response.exceptions import DataValidationError
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

__all__ = ["LoadedSpec", "OpenAPIChecker", "load_spec", "validate_document"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


# --------------------------------------------------------------------------------------------
# Loading, with documented workarounds for defects in the published documents
# --------------------------------------------------------------------------------------------


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (JSON pointer, dict) for every dict in a JSON document."""
    if isinstance(node, dict):
        yield pointer, node
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def _dedupe_enums(doc: dict[str, Any]) -> list[str]:
    """X ``openapi.json`` (2.167) has two ``items.enum`` lists with a duplicated value
    (``DmEventExpansionsParameter``: "attachments.media_keys" twice; ``NewsFieldsParameter``).
    JSON Schema requires enum values to be unique, so openapi-spec-validator rejects the whole
    document. Removing the repeated entries accepts exactly the same set of values, so this
    does not weaken validation in any way (validation is NOT turned off)."""
    fixed = []
    for pointer, node in _walk(doc):
        enum = node.get("enum")
        if not isinstance(enum, list):
            continue
        seen: set[str] = set()
        unique = []
        for value in enum:
            key = json.dumps(value, sort_keys=True)
            if key not in seen:
                seen.add(key)
                unique.append(value)
        if len(unique) != len(enum):
            node["enum"] = unique
            fixed.append(f"{pointer}/enum: removed duplicate values")
    return fixed


def _drop_string_null_defaults(doc: dict[str, Any]) -> list[str]:
    """Mastodon ``schema.json`` (OpenAPI 3.1) gives ``/api/oembed``'s ``maxwidth``/``maxheight``
    the *string* "null" as the default of an integer schema (the docs say "Defaults to null",
    i.e. no default). A default must match its schema, so the document is rejected. Defaults play
    no part in validating what a client sends, so dropping them changes no verdict."""
    fixed = []
    for pointer, node in _walk(doc):
        if node.get("default") == "null" and node.get("type") in ("integer", "number"):
            del node["default"]
            fixed.append(f"{pointer}/default: dropped the string 'null' default")
    return fixed


def _header_objects_to_strings(doc: dict[str, Any]) -> list[str]:
    """Mastodon ``schema.json`` types the ``Idempotency-Key`` header of ``POST /api/v1/statuses``
    as ``{"type": "object"}`` while its own description says "any arbitrary string" (and an
    HTTP header value is a string). Left as is, every correct request would fail, so the schema
    of a header parameter typed ``object`` is read as ``string``."""
    fixed = []
    for pointer, node in _walk(doc):
        schema = node.get("schema")
        if (
            node.get("in") == "header"
            and isinstance(schema, dict)
            and schema.get("type") == "object"
            and "properties" not in schema
        ):
            schema["type"] = "string"
            fixed.append(f"{pointer}/schema/type: header typed object read as string")
    return fixed


def _mastodon_status_body_any_of(doc: dict[str, Any]) -> list[str]:
    """Mastodon ``schema.json`` describes the body of ``POST /api/v1/statuses`` as
    ``oneOf [TextStatus, MediaStatus, PollStatus]``, but the branches overlap: text with media, or
    text with a poll, matches two branches, so ``oneOf`` rejects every such (valid, documented)
    post. The documentation's rule is "at least one of status/media_ids/poll, and media cannot be
    combined with a poll", which is exactly ``anyOf`` of the three plus ``not`` both media and
    poll: the loaded schema says that instead."""
    body = (
        doc.get("paths", {})
        .get("/api/v1/statuses", {})
        .get("post", {})
        .get("requestBody", {})
        .get("content", {})
        .get("application/json", {})
    )
    schema = body.get("schema") if isinstance(body, dict) else None
    if not isinstance(schema, dict):
        return []
    refs = [b.get("$ref", "") for b in schema.get("oneOf", [])]
    if not refs or not all(
        r.rsplit("/", 1)[-1] in ("TextStatus", "MediaStatus", "PollStatus") for r in refs
    ):
        return []
    body["schema"] = {"anyOf": schema["oneOf"], "not": {"required": ["media_ids", "poll"]}}
    return [
        "/paths/~1api~1v1~1statuses/post/requestBody/content/application~1json/schema: "
        "oneOf of overlapping branches read as anyOf + not(media_ids and poll)"
    ]


def _pinterest_metric_types_any_of(doc: dict[str, Any]) -> list[str]:
    """Pinterest ``openapi.json`` (5.23.0) types the items of the ``metric_types`` query
    parameter of ``GET /pins/{pin_id}/analytics`` (``query_pin_analytics_metric_types``) and
    ``GET /pins/analytics`` as ``oneOf`` two string enums, "Standard Pin metric types" and
    "Video Pin metric types", which share IMPRESSION, OUTBOUND_CLICK, PIN_CLICK, SAVE,
    SAVE_RATE, TOTAL_COMMENTS and TOTAL_REACTIONS: such a value matches both branches, so
    ``oneOf`` rejects every request asking for impressions. The description means "a metric of
    either list", which is ``anyOf`` of the same two enums: exactly the union of the values,
    nothing else (a value in neither list is still refused)."""
    fixed = []
    for pointer, node in _walk(doc):
        if node.get("name") != "metric_types" or node.get("in") != "query":
            continue
        items = (node.get("schema") or {}).get("items") or {}
        branches = items.get("oneOf")
        if not isinstance(branches, list) or not all(
            isinstance(b, dict) and b.get("type") == "string" and isinstance(b.get("enum"), list)
            for b in branches
        ):
            continue
        values = [v for b in branches for v in b["enum"]]
        if len(values) == len(set(values)):
            continue  # the branches do not overlap: oneOf is right
        items["anyOf"] = items.pop("oneOf")
        fixed.append(f"{pointer}/schema/items/oneOf: overlapping string enums read as anyOf")
    return fixed


_WORKAROUNDS: tuple[Callable[[dict[str, Any]], list[str]], ...] = (
    _dedupe_enums,
    _drop_string_null_defaults,
    _header_objects_to_strings,
    _mastodon_status_body_any_of,
    _pinterest_metric_types_any_of,
)


@dataclass(frozen=True)
class LoadedSpec:
    """A parsed OpenAPI document (after workarounds) and what the checker needs from it."""

    path: Path
    document: dict[str, Any]
    spec: SchemaPath
    version: str  # "3.0" or "3.1"
    server: str  # the first server URL, variables replaced by their defaults
    workarounds: tuple[str, ...]  # every change made to the loaded dict, as JSON pointers


@functools.cache
def load_spec(path: str | Path) -> LoadedSpec:
    """Load (once per process) and validate an OpenAPI document with the workarounds applied."""
    spec_path = Path(path).resolve()
    document = json.loads(spec_path.read_text(encoding="utf-8"))
    workarounds: list[str] = []
    for fix in _WORKAROUNDS:
        workarounds.extend(fix(document))
    # Validating the whole document with openapi-spec-validator takes 5-40 s per document, so it
    # is not done on every load; tests/validation/test_openapi_checker.py runs
    # `validate_document` on each document once, proving the workarounds are enough and that
    # nothing else is being ignored.
    app = OpenAPI.from_dict(
        document, base_uri=spec_path.as_uri(), config=Config(spec_validator_cls=None)
    )
    version = str(document["openapi"])[:3]
    if version not in ("3.0", "3.1"):
        raise ValueError(f"{spec_path}: unsupported OpenAPI version {document['openapi']}")
    servers = document.get("servers") or [{"url": "/"}]
    server = str(servers[0]["url"])
    for name, variable in (servers[0].get("variables") or {}).items():
        server = server.replace("{" + name + "}", str(variable["default"]))
    return LoadedSpec(
        path=spec_path,
        document=document,
        spec=app.spec,
        version=version,
        server=server.rstrip("/"),
        workarounds=tuple(workarounds),
    )


def validate_document(path: str | Path) -> None:
    """Validate the loaded document (workarounds applied) against the OpenAPI 3.0/3.1 meta
    schema with openapi-spec-validator; raises its OpenAPIValidationError on any defect."""
    loaded = load_spec(path)
    OpenAPI.from_dict(loaded.document, base_uri=loaded.path.as_uri())


# --------------------------------------------------------------------------------------------
# httpx -> openapi-core adapters (openapi-core ships integrations for requests, aiohttp,
# starlette, ... but not for httpx; these implement its Request/Response protocols)
# --------------------------------------------------------------------------------------------


class _OpenAPIRequest:
    def __init__(
        self,
        request: httpx.Request,
        host_url: str,
        path: str,
        query: list[tuple[str, str]],
        body: bytes | None,
    ) -> None:
        self.host_url = host_url
        self.path = path
        self.method = request.method.lower()
        self.body = body or None
        self.content_type = request.headers.get("content-type", "")
        cookies: list[tuple[str, str]] = []
        if "cookie" in request.headers:
            jar: SimpleCookie = SimpleCookie()
            jar.load(request.headers["cookie"])
            cookies = [(key, morsel.value) for key, morsel in jar.items()]
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(cookies),
        )


class _OpenAPIResponse:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.multi_items()))
        self.data = _content(response)


def _content(message: httpx.Request | httpx.Response) -> bytes:
    try:
        return message.content
    except (httpx.RequestNotRead, httpx.ResponseNotRead):
        return message.read()


# --------------------------------------------------------------------------------------------
# Error formatting
# --------------------------------------------------------------------------------------------


def _schema_error_lines(error: SchemaValidationError, indent: str = "    ") -> list[str]:
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    lines = [f"{indent}at {where}: {error.message}"]
    if error.context:
        # oneOf/anyOf: say why each alternative fails (its most relevant error).
        branches: dict[Any, list[SchemaValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        alternatives = error.schema.get(error.validator) if isinstance(error.schema, dict) else None
        for index, subs in branches.items():
            closest = best_match(subs)
            label = f"alternative {index}"
            if (
                isinstance(alternatives, list)
                and isinstance(index, int)
                and index < len(alternatives)
            ):
                ref = (
                    alternatives[index].get("$ref")
                    if isinstance(alternatives[index], dict)
                    else None
                )
                if ref:
                    label = ref.rsplit("/", 1)[-1]
            inner = "/".join(str(p) for p in closest.absolute_path) or "<root>"
            lines.append(f"{indent}  {label} fails at {inner}: {closest.message}")
    return lines


def _headline(exc: BaseException) -> str:
    if isinstance(exc, RequestBodyValidationError) and isinstance(
        exc.__cause__, InvalidSchemaValue
    ):
        return "request body does not match its schema"
    if isinstance(exc, DataValidationError) and isinstance(exc.__cause__, InvalidSchemaValue):
        return "response body does not match its schema"
    if isinstance(exc, ParameterValidationError):
        return str(exc)
    if isinstance(exc, RequestBodyValidationError) and exc.__cause__ is not None:
        return f"request body: {exc.__cause__}"
    return str(exc)


def _explain(exc: BaseException) -> str:
    """One readable paragraph for an openapi-core error: the headline, then every JSON Schema
    failure with its location, or the underlying cause (e.g. a value that cannot be cast)."""
    lines = [_headline(exc)]
    seen: set[int] = set()
    cause: BaseException | None = exc.__cause__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, InvalidSchemaValue):
            for schema_error in cause.schema_errors:
                if isinstance(schema_error, SchemaValidationError):
                    lines.extend(_schema_error_lines(schema_error))
                else:
                    lines.append(f"    {schema_error}")
            break
        text = str(cause)
        if text and text not in lines[0] and "Bad Request" not in text:
            lines.append(f"    {text}")
        cause = cause.__cause__
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Security: openapi-core checks http and apiKey schemes only. oauth2/openIdConnect schemes
# (Mastodon's and X's user tokens) are sent as `Authorization: Bearer`, so require that; and
# compare the http scheme case-insensitively (openapi-core compares the lower-cased header
# scheme with the document's spelling, so X's `scheme: OAuth` could never match).
# --------------------------------------------------------------------------------------------


class _BearerTokenProvider(BaseProvider):
    def __call__(self, parameters: RequestParameters) -> Any:
        header = parameters.header.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise SecurityProviderError("Missing 'Authorization: Bearer' header.")
        return credentials


class _HttpProvider(HttpProvider):
    def __call__(self, parameters: RequestParameters) -> Any:
        header = parameters.header.get("Authorization", "")
        scheme, _, credentials = header.partition(" ")
        expected = (self.scheme / "scheme").read_str()
        if scheme.lower() != expected.lower() or not credentials.strip():
            raise SecurityProviderError(f"Missing 'Authorization: {expected}' header.")
        return credentials


class _SecurityProviders(SecurityProviderFactory):
    PROVIDERS: dict[str, type[BaseProvider]] = {  # noqa: RUF012 (same shape as the base class)
        **SecurityProviderFactory.PROVIDERS,
        "http": _HttpProvider,
        "oauth2": _BearerTokenProvider,
        "openIdConnect": _BearerTokenProvider,
    }


# --------------------------------------------------------------------------------------------
# Unknown body fields. openapi-core's "forbid unspecified additionalProperties" mode breaks
# `allOf` compositions (each branch then forbids the other branch's fields; Mastodon's
# TextStatus = allOf[BaseStatus, {status}] rejects every valid body), so this walks the body and
# reports fields declared by no branch of the schema at that level.
# --------------------------------------------------------------------------------------------


def _unknown_fields(
    value: Any, schemas: list[Any], resolve: Callable[[Any], Any], where: str = ""
) -> list[str]:
    flat: list[dict[str, Any]] = []

    def collect(node: Any) -> None:
        node = resolve(node)
        if not isinstance(node, dict):
            return
        flat.append(node)
        for key in ("allOf", "oneOf", "anyOf"):
            for branch in node.get(key) or []:
                collect(branch)

    for schema in schemas:
        collect(schema)
    problems: list[str] = []
    if isinstance(value, dict):
        properties: dict[str, list[Any]] = {}
        open_object = False
        for node in flat:
            for name, prop in (node.get("properties") or {}).items():
                properties.setdefault(name, []).append(prop)
            extra = node.get("additionalProperties")
            if extra not in (None, False) or "patternProperties" in node:
                open_object = True
        declares_object = any("properties" in n or n.get("type") == "object" for n in flat)
        if not declares_object:
            return problems
        for key, item in value.items():
            if key in properties:
                problems.extend(_unknown_fields(item, properties[key], resolve, f"{where}/{key}"))
            elif not open_object:
                problems.append(
                    f"request body field {where}/{key} is not declared by the schema "
                    f"(declared here: {', '.join(sorted(properties)) or 'none'})"
                )
    elif isinstance(value, list):
        items = [n["items"] for n in flat if isinstance(n.get("items"), dict)]
        if items:
            for index, item in enumerate(value):
                problems.extend(_unknown_fields(item, items, resolve, f"{where}/{index}"))
    return problems


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------

_VALIDATORS = {
    "3.0": (
        V30RequestSecurityValidator,
        V30RequestParametersValidator,
        V30RequestBodyValidator,
        V30ResponseValidator,
    ),
    "3.1": (
        V31RequestSecurityValidator,
        V31RequestParametersValidator,
        V31RequestBodyValidator,
        V31ResponseValidator,
    ),
}


class OpenAPIChecker:
    """Check httpx traffic against an OpenAPI document.

    ``server_url`` is the base URL the test's client uses (e.g. ``https://mastodon.example`` or
    ``https://api.x.test``); requests under it are matched to the document's first server.
    ``check_security`` also checks that the credentials the operation requires are present
    (e.g. ``Authorization: Bearer``). ``strict_request_bodies`` forbids JSON body properties the
    schema does not declare.
    """

    def __init__(
        self,
        spec_path: str | Path,
        *,
        server_url: str,
        check_security: bool = True,
        strict_request_bodies: bool = True,
    ) -> None:
        self.loaded = load_spec(spec_path)
        self.name = self.loaded.path.name
        self.server_url = server_url.rstrip("/")
        validators = _VALIDATORS[self.loaded.version]
        spec = self.loaded.spec
        self._security = (
            validators[0](spec, security_provider_factory=_SecurityProviders())
            if check_security
            else None
        )
        self._parameters = validators[1](spec)
        self._body = validators[2](spec)
        self._strict_bodies = strict_request_bodies
        self._response = validators[3](spec)
        self._finder = APICallPathFinder(spec)

    def __repr__(self) -> str:
        return f"OpenAPIChecker({self.name!r}, server_url={self.server_url!r})"

    # -- public API ----------------------------------------------------------------------

    def check_request(self, request: httpx.Request) -> None:
        """Raise AssertionError explaining every way ``request`` departs from the document."""
        problems = self.request_violations(request)
        if problems:
            raise AssertionError(self._report(request, "request", problems))

    def check_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """Raise AssertionError if ``response`` (usually a fixture) does not match the schema the
        document gives for ``request``'s operation and the response status."""
        problems = self.response_violations(request, response)
        if problems:
            raise AssertionError(
                self._report(request, f"response {response.status_code}", problems)
            )

    def request_violations(self, request: httpx.Request) -> list[str]:
        """Every violation of ``request`` as a readable sentence (empty list: conforms)."""
        located = self._locate(request)
        if isinstance(located, str):
            return [located]
        host_url, path, found = located
        problems: list[str] = []
        query = self._query(request, found, problems)
        body = _content(request)
        openapi_request = _OpenAPIRequest(request, host_url, path, query, body)

        if self._security is not None:
            problems.extend(
                f"security: {_explain(e)}" for e in self._security.iter_errors(openapi_request)
            )
        problems.extend(_explain(e) for e in self._parameters.iter_errors(openapi_request))

        operation = found.operation
        if "requestBody" not in operation:
            if body:
                problems.append(
                    f"a body ({len(body)} bytes) was sent but the operation takes no request body"
                )
            return problems
        body_errors = list(self._body.iter_errors(openapi_request))
        if body_errors and self._is_multipart(openapi_request, operation):
            # openapi-core cannot validate some multipart bodies (binary parts are bytes that
            # its `format: binary` string schema rejects, and non-ASCII parts break its parser):
            # fall back to our own check of the part names and required fields.
            problems.extend(self._multipart_fallback(openapi_request, operation))
        else:
            problems.extend(_explain(e) for e in body_errors)
        if self._strict_bodies and body and _is_json(openapi_request.content_type):
            schema = self._json_body_schema(operation, openapi_request.content_type)
            if schema is not None:
                try:
                    value = json.loads(body)
                except ValueError:
                    problems.append("request body is not valid JSON")
                else:
                    problems.extend(_unknown_fields(value, [schema], self._resolve))
        return problems

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """Every violation of ``response`` for ``request``'s operation (empty list: conforms)."""
        located = self._locate(request)
        if isinstance(located, str):
            return [located]
        host_url, path, _found = located
        openapi_request = _OpenAPIRequest(
            request, host_url, path, list(request.url.params.multi_items()), None
        )
        return [
            _explain(e)
            for e in self._response.iter_errors(openapi_request, _OpenAPIResponse(response))
        ]

    # -- internals -----------------------------------------------------------------------

    def _report(self, request: httpx.Request, what: str, problems: Iterable[str]) -> str:
        body = "\n".join(f"  - {p}" for p in problems)
        return f"{request.method} {request.url} {what} does not conform to {self.name}:\n{body}"

    def _locate(self, request: httpx.Request) -> tuple[str, str, PathOperationServer] | str:
        url = str(request.url.copy_with(query=None, fragment=None))
        if url.startswith(self.server_url + "/") or url == self.server_url:
            rest = url[len(self.server_url) :]
        elif url.startswith(self.loaded.server + "/"):
            rest = url[len(self.loaded.server) :]
        else:
            return (
                f"{url} is outside the server under test ({self.server_url}, mapped to "
                f"{self.loaded.server} of {self.name})"
            )
        full = self.loaded.server + rest
        split = httpx.URL(full)
        host_url = f"{split.scheme}://{split.netloc.decode('ascii')}"
        method = request.method.lower()
        try:
            found = self._finder.find(method, full)
        except OperationNotFound:
            allowed = self._methods_for(rest)
            return (
                f"{request.method} {rest} is not in {self.name}: the path exists only with "
                f"{', '.join(m.upper() for m in allowed) or 'no methods'}"
            )
        except ServerNotFound:
            return f"{rest} does not match any server of {self.name}"
        except PathError:
            return f"{request.method} {rest}: no such path in {self.name}"
        return host_url, split.path, found

    def _methods_for(self, rest: str) -> list[str]:
        methods: list[str] = []
        for template, item in self.loaded.document.get("paths", {}).items():
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, rest):
                methods.extend(m for m in item if m in _METHODS)
        return methods

    def _query(
        self, request: httpx.Request, found: PathOperationServer, problems: list[str]
    ) -> list[tuple[str, str]]:
        declared: dict[str, bool] = {}  # name -> is an array parameter
        for parameters in (found.operation.get("parameters"), found.path.get("parameters")):
            if parameters is None:
                continue
            for param in parameters:
                if (param / "in").read_str() == "query":
                    schema = param.get("schema")
                    is_array = schema is not None and schema.get("type") == "array"
                    declared[(param / "name").read_str()] = bool(is_array)
        query: list[tuple[str, str]] = []
        for key, value in request.url.params.multi_items():
            name = key
            # Rails-style arrays: Mastodon's documentation (and server) use `id[]=1&id[]=2`,
            # while the generated schema.json names the parameter `id` (type array). Match them.
            if key.endswith("[]") and key not in declared and declared.get(key[:-2]):
                name = key[:-2]
            if name not in declared:
                problems.append(
                    f"query parameter {key!r} is not declared for this operation "
                    f"(declared: {', '.join(sorted(declared)) or 'none'})"
                )
            query.append((name, value))
        return query

    def _json_body_schema(self, operation: SchemaPath, content_type: str) -> Any:
        content = (operation / "requestBody" / "content").read_value()
        mimetype = content_type.split(";")[0].strip().lower()
        media = content.get(mimetype) or next((v for k, v in content.items() if _is_json(k)), None)
        if not isinstance(media, dict):
            return None
        return media.get("schema")

    @staticmethod
    def _is_multipart(request: _OpenAPIRequest, operation: SchemaPath) -> bool:
        content: dict[str, Any] = (operation / "requestBody" / "content").read_value()
        return request.content_type.lower().startswith("multipart/form-data") and any(
            key.startswith("multipart/form-data") for key in content
        )

    def _multipart_fallback(self, request: _OpenAPIRequest, operation: SchemaPath) -> list[str]:
        """Check a multipart body without openapi-core: parse the parts with the standard
        library, then check that every part name is a declared property (unless the schema
        allows additional properties), that required properties are present, and that
        non-binary parts validate against their property schema as strings/integers."""
        content: dict[str, Any] = (operation / "requestBody" / "content").read_value()
        media_key = next(k for k in content if k.startswith("multipart/form-data"))
        schema = self._resolve(self._resolve(content[media_key]).get("schema", {}))
        parts = _multipart_parts(request.content_type, request.body or b"")
        if parts is None:
            return ["multipart body could not be parsed (missing or wrong boundary?)"]
        problems = []
        properties: dict[str, Any] = {
            k: self._resolve(v) for k, v in (schema.get("properties") or {}).items()
        }
        allows_extra = schema.get("additionalProperties", False) not in (False, None)
        names = [name for name, _ in parts]
        for name, payload in parts:
            if name not in properties:
                if not allows_extra:
                    problems.append(
                        f"multipart part {name!r} is not a property of the body schema "
                        f"(properties: {', '.join(sorted(properties))})"
                    )
                continue
            prop = properties[name]
            if _is_binary(prop, self._resolve):
                continue
            problems.extend(_check_scalar_part(name, payload, prop))
        for required in schema.get("required") or []:
            if required not in names:
                problems.append(f"multipart body lacks the required part {required!r}")
        return problems

    def _resolve(self, node: Any) -> Any:
        """Resolve a local ``$ref`` (``#/components/...``) in the loaded document."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"non-local $ref {ref!r} in {self.name}")
            target: Any = self.loaded.document
            for token in ref[2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node


def _is_json(content_type: str) -> bool:
    mimetype = content_type.split(";")[0].strip().lower()
    return mimetype == "application/json" or mimetype.endswith("+json")


def _multipart_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]] | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return None
    head = f'Content-Type: multipart/form-data; boundary="{match.group(1)}"\r\n\r\n'.encode()
    message = email.parser.BytesParser().parsebytes(head + body)
    payload = message.get_payload()
    if not isinstance(payload, list):
        return None
    parts: list[tuple[str, bytes]] = []
    for part in payload:
        if not isinstance(part, Message):
            return None
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(data, bytes):
            return None
        parts.append((name, data))
    return parts


def _is_binary(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> bool:
    if schema.get("format") in ("binary", "byte") or "contentMediaType" in schema:
        return True
    branches = (schema.get("anyOf") or []) + (schema.get("oneOf") or [])
    return any(_is_binary(resolve(b), resolve) for b in branches)


def _check_scalar_part(name: str, payload: bytes, schema: dict[str, Any]) -> list[str]:
    """A non-file multipart part is text; check it against simple scalar schemas."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return [f"multipart part {name!r} is not UTF-8 text but its schema is not binary"]
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", text):
        return [f"multipart part {name!r}={text!r} is not an integer"]
    if kind == "number":
        try:
            float(text)
        except ValueError:
            return [f"multipart part {name!r}={text!r} is not a number"]
    if kind == "integer":
        value = int(text)
        if "minimum" in schema and value < schema["minimum"]:
            return [f"multipart part {name!r}={value} is below the minimum {schema['minimum']}"]
        if "maximum" in schema and value > schema["maximum"]:
            return [f"multipart part {name!r}={value} is above the maximum {schema['maximum']}"]
    if "enum" in schema and text not in [str(v) for v in schema["enum"]]:
        return [f"multipart part {name!r}={text!r} is not one of {schema['enum']}"]
    if "maxLength" in schema and len(text) > schema["maxLength"]:
        return [f"multipart part {name!r} is longer than {schema['maxLength']} characters"]
    return []
