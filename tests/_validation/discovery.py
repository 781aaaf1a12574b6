"""Validate httpx requests and mocked responses against Google API discovery documents
(``youtube.v3.json``, ``youtubeAnalytics.v2.json``: https://developers.google.com/discovery/v1/reference).

A request is matched to a method by its HTTP method and path template (``servicePath`` +
``path``, ``{id}`` one segment, ``{+name}`` several), or by an upload path of the method
(``mediaUpload.protocols.simple.path`` and ``.resumable.path``). Then:

- every query parameter is known (the method's ``parameters`` with ``location: query``, or the
  document's global ``parameters``), has the right type (``integer``, ``boolean``) and, with an
  ``enum``, one of its values; a parameter given twice must be ``repeated``;
- every ``required`` parameter is present;
- a JSON body goes only to a method with a ``request`` and its fields are known, recursively,
  on the schema ``request.$ref`` names (with their types and enums); a media body (a simple
  upload, a resumable session's bytes) must have a type the method's ``mediaUpload.accept``
  takes;
- a ``PUT`` to an upload path with ``upload_id`` is a resumable session's request (the
  protocol's, not a discovery method): it carries ``Content-Range`` (``bytes a-b/size`` or
  ``bytes */size``).

Responses (the tests' fixtures): a 2xx JSON body is checked against the method's
``response.$ref`` the same way (unknown fields flagged: a fixture follows the schema), an error
body against Google's error shape (https://cloud.google.com/apis/design/errors, which the
discovery documents do not describe); ``204``, ``308`` and the resumable start's empty ``200``
carry no body.

Documents are loaded once per process (``load_document`` is cached); nothing is changed.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

__all__ = ["DiscoveryChecker", "load_document"]


@functools.cache
def load_document(path: Path) -> dict[str, Any]:
    """A discovery document, read once per process."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class _Route:
    http_method: str
    pattern: re.Pattern[str]
    method: dict[str, Any]
    document: dict[str, Any]
    upload: str | None
    """``simple`` or ``resumable`` for an upload path, else None."""


def _methods(resources: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for resource in resources.values():
        found.extend(resource.get("methods", {}).values())
        found.extend(_methods(resource.get("resources", {})))
    return found


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\+?[A-Za-z0-9_.]+\})", path)
    regex = "".join(
        (".+" if part.startswith("{+") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^/{regex.lstrip('/')}$")


class DiscoveryChecker:
    """Checks traffic against one or more discovery documents (see the module docs)."""

    def __init__(self, *paths: Path) -> None:
        self.paths = paths
        self.routes: list[_Route] = []
        for path in paths:
            document = load_document(path)
            service = document.get("servicePath", "")
            for method in _methods(document.get("resources", {})):
                self.routes.append(
                    _Route(
                        method["httpMethod"],
                        _template(service + method["path"]),
                        method,
                        document,
                        None,
                    )
                )
                for name, protocol in method.get("mediaUpload", {}).get("protocols", {}).items():
                    self.routes.append(
                        _Route(
                            method["httpMethod"],
                            _template(protocol["path"]),
                            method,
                            document,
                            name,
                        )
                    )

    def __repr__(self) -> str:
        return f"DiscoveryChecker({', '.join(p.name for p in self.paths)})"

    def method_of(self, request: httpx.Request) -> _Route | None:
        path = request.url.path
        method = request.method
        session = method == "PUT" and "upload_id" in request.url.params
        for route in self.routes:
            if route.upload is not None and session and route.pattern.match(path):
                return route
            if route.http_method == method and route.pattern.match(path):
                return route
        return None

    # -- requests -------------------------------------------------------------------------------

    def request_violations(self, request: httpx.Request) -> list[str]:
        route = self.method_of(request)
        if route is None:
            return [f"no method of the discovery documents for {request.method} {request.url.path}"]
        method, document = route.method, route.document
        session = request.method == "PUT" and "upload_id" in request.url.params
        problems = self._parameter_violations(request, route, session)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        body = request.content
        if session:
            content_range = request.headers.get("content-range", "")
            if not re.fullmatch(r"bytes (\d+-\d+|\*)/\d+", content_range):
                problems.append(
                    f"a resumable upload PUT needs Content-Range, got {content_range!r}"
                )
            if body:
                problems.extend(self._media_violations(method, content_type))
            return problems
        upload_type = request.url.params.get("uploadType")
        if route.upload is not None and upload_type == "media":
            return problems + self._media_violations(method, content_type)
        if body:
            if content_type != "application/json":
                return [*problems, f"a body of type {content_type!r} where JSON was expected"]
            reference = method.get("request", {}).get("$ref")
            if reference is None:
                return [*problems, f"{method['id']} takes no request body"]
            try:
                value = json.loads(body)
            except ValueError:
                return [*problems, "the request body is not JSON"]
            problems.extend(
                _value_violations(value, {"$ref": reference}, "body", document, strict=True)
            )
        elif route.upload == "simple" and upload_type == "resumable":
            pass  # a resumable start may send the metadata or nothing
        return problems

    def _parameter_violations(
        self, request: httpx.Request, route: _Route, session: bool
    ) -> list[str]:
        method, document = route.method, route.document
        declared = {
            name: spec
            for name, spec in method.get("parameters", {}).items()
            if spec.get("location") == "query"
        }
        problems = []
        seen: dict[str, int] = {}
        for name, value in request.url.params.multi_items():
            seen[name] = seen.get(name, 0) + 1
            spec = declared.get(name) or document.get("parameters", {}).get(name)
            if spec is None and session and name == "upload_id":
                continue
            if spec is None:
                problems.append(f"{method['id']}: unknown query parameter {name!r}")
                continue
            if seen[name] > 1 and not spec.get("repeated"):
                problems.append(f"{method['id']}: {name!r} given twice but not repeated")
            problems.extend(_scalar_violations(value, spec, f"query {name}"))
        if route.upload == "simple" and not session:
            kind = request.url.params.get("uploadType")
            if kind not in ("media", "multipart", "resumable"):
                problems.append(f"{method['id']}: an upload path needs uploadType, got {kind!r}")
        if not session:
            for name, spec in declared.items():
                if spec.get("required") and name not in seen:
                    problems.append(f"{method['id']}: required parameter {name!r} missing")
        return problems

    def _media_violations(self, method: dict[str, Any], content_type: str) -> list[str]:
        accept = method.get("mediaUpload", {}).get("accept", [])
        for pattern in accept:
            if pattern == content_type or (
                pattern.endswith("/*") and content_type.startswith(pattern[:-1])
            ):
                return []
        return [f"{method['id']}: media of type {content_type!r} is not in {accept}"]

    # -- responses ------------------------------------------------------------------------------

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        route = self.method_of(request)
        if route is None:
            return []  # the request is reported already
        status = response.status_code
        if status in (204, 308) or not response.content:
            return []
        try:
            value = json.loads(response.content)
        except ValueError:
            return [f"a {status} body that is not JSON"]
        if status >= 400:
            return _error_violations(value)
        reference = route.method.get("response", {}).get("$ref")
        if reference is None:
            return [f"{route.method['id']} answers no body, the fixture has one"]
        return _value_violations(
            value, {"$ref": reference}, "response", route.document, strict=True
        )


def _error_violations(value: Any) -> list[str]:
    error = value.get("error") if isinstance(value, dict) else None
    if not isinstance(error, dict):
        return ["an error body without an 'error' object"]
    problems = []
    if not isinstance(error.get("code"), int):
        problems.append("error.code is not an integer")
    if not isinstance(error.get("message"), str):
        problems.append("error.message is not a string")
    for index, item in enumerate(error.get("errors", [])):
        if not isinstance(item, dict) or not isinstance(item.get("reason"), str):
            problems.append(f"error.errors[{index}] has no reason")
    return problems


def _scalar_violations(value: str, spec: dict[str, Any], where: str) -> list[str]:
    kind = spec.get("type", "string")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return [f"{where}: {value!r} is not an integer"]
    if kind == "boolean" and value not in ("true", "false"):
        return [f"{where}: {value!r} is not true or false"]
    if "enum" in spec and value not in spec["enum"]:
        return [f"{where}: {value!r} is not one of {spec['enum']}"]
    for bound, test in (("minimum", lambda a, b: a < b), ("maximum", lambda a, b: a > b)):
        if bound in spec and kind == "integer" and test(int(value), int(spec[bound])):
            return [f"{where}: {value} breaks its {bound} {spec[bound]}"]
    return []


def _value_violations(
    value: Any, schema: dict[str, Any], where: str, document: dict[str, Any], *, strict: bool
) -> list[str]:
    while "$ref" in schema:
        schema = document["schemas"][schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        problems = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                problems.extend(
                    _value_violations(
                        item, properties[key], f"{where}.{key}", document, strict=strict
                    )
                )
            elif extra is not None:
                problems.extend(
                    _value_violations(item, extra, f"{where}.{key}", document, strict=strict)
                )
            elif strict:
                problems.append(f"{where}: unknown field {key!r} (schema {schema.get('id', '?')})")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array"]
        items = schema.get("items", {})
        return [
            p
            for index, item in enumerate(value)
            for p in _value_violations(item, items, f"{where}[{index}]", document, strict=strict)
        ]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string"]
        fmt = schema.get("format")
        if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            return [f"{where}: {value!r} is not a {fmt} string"]
        if fmt == "date-time":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return [f"{where}: {value!r} is not a date-time"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        return []
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected an integer"]
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected a number"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
    return []  # "any"
