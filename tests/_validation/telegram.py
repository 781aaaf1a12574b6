"""Check Bot API traffic against ``../shared/specs/telegram/api.json`` (Bot API 10.1, the
official page scraped into JSON by PaulSonOfLars/telegram-bot-api-spec).

A request must name a method of the description (``/bot<token>/<method>``), send only its
parameters, every required one, each of the right type (``Integer``, ``String``, ``Boolean``,
``Float``, ``InputFile``, ``Array of …`` and the object types, whose own fields are checked
the same way, recursively; a type with ``subtypes`` accepts any of them). Parameters may come as
the query string, a form, JSON or multipart (where objects are JSON-encoded and files are
parts); the checker decodes each the way the Bot API does.

An answer must be ``{"ok": true, "result": <one of the method's return types>}`` or
``{"ok": false, "error_code": <int>, "description": <str>, "parameters"?: ResponseParameters}``;
objects in answers may carry only fields of their type (the fake's answers are strict).

The document is read once per process (:func:`telegram_checker`).
"""

from __future__ import annotations

import email.parser
import email.policy
import functools
import json
import re
from typing import Any
from urllib.parse import parse_qsl

import httpx

__all__ = ["TelegramChecker", "telegram_checker"]

_PATH = re.compile(r"^(?:.*)/bot[0-9]{1,20}:[A-Za-z0-9_-]+/(?P<method>[A-Za-z]+)$")


class TelegramChecker:
    """Validates requests and answers of the Bot API against ``api.json``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.methods: dict[str, Any] = document["methods"]
        self.types: dict[str, Any] = document["types"]

    # -- requests -------------------------------------------------------------------------------

    def method_of(self, request: httpx.Request) -> str:
        match = _PATH.match(request.url.path)
        assert match is not None, f"{request.url.path} is not /bot<token>/<method>"
        return match.group("method")

    def request_violations(self, request: httpx.Request) -> list[str]:
        try:
            method = self.method_of(request)
        except AssertionError as exc:
            return [str(exc)]
        spec = self.methods.get(method)
        if spec is None:
            return [f"{method} is not a Bot API method"]
        try:
            params, form = _params(request)
        except ValueError as exc:
            return [f"{method}: {exc}"]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = []
        for name in params:
            if name not in fields:
                problems.append(f"{method}: unknown parameter {name!r}")
        for name, field in fields.items():
            if field["required"] and name not in params:
                problems.append(f"{method}: required parameter {name!r} missing")
        for name, value in params.items():
            if name in fields:
                problems.extend(
                    self._value(value, _types(fields[name]["types"]), f"{method}.{name}", form=form)
                )
        return problems

    def check_request(self, request: httpx.Request) -> None:
        problems = self.request_violations(request)
        assert not problems, "; ".join(problems)

    # -- answers --------------------------------------------------------------------------------

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        try:
            body = json.loads(response.content)
        except ValueError:
            return ["the answer is not JSON"]
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            return ["the answer has no boolean ok"]
        if not body["ok"]:
            problems = []
            if not isinstance(body.get("error_code"), int):
                problems.append("an error answer needs an integer error_code")
            if not isinstance(body.get("description"), str):
                problems.append("an error answer needs a string description")
            if body.get("error_code") != response.status_code:
                problems.append("error_code differs from the HTTP status")
            if "parameters" in body:
                problems.extend(
                    self._value(body["parameters"], ["ResponseParameters"], "parameters")
                )
            extra = set(body) - {"ok", "error_code", "description", "parameters"}
            if extra:
                problems.append(f"unknown members {sorted(extra)}")
            return problems
        if response.status_code != 200:
            return ["a successful answer must be HTTP 200"]
        if "result" not in body:
            return ["a successful answer needs result"]
        method = self.method_of(request)
        returns = self.methods[method]["returns"]
        return self._value(body["result"], returns, f"{method} result", strict=True)

    def check_response(self, request: httpx.Request, response: httpx.Response) -> None:
        problems = self.response_violations(request, response)
        assert not problems, "; ".join(problems)

    # -- values ---------------------------------------------------------------------------------

    def _value(
        self,
        value: Any,
        types: list[str],
        where: str,
        *,
        form: bool = False,
        strict: bool = False,
    ) -> list[str]:
        """Problems of ``value`` against any of ``types`` (none when one of them fits)."""
        best: list[str] | None = None
        for kind in types:
            found = self._one(value, kind, where, form=form, strict=strict)
            if not found:
                return []
            if best is None or len(found) < len(best):
                best = found
        return best or [f"{where}: no type"]

    def _one(self, value: Any, kind: str, where: str, *, form: bool, strict: bool) -> list[str]:
        if form and isinstance(value, str) and kind not in ("String", "InputFile"):
            # A form field: numbers, booleans and objects travel as text (objects as JSON).
            try:
                value = json.loads(value)
            except ValueError:
                return [f"{where}: {value!r} is not a {kind}"]
        if kind.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{where}: expected {kind}"]
            inner = kind[len("Array of ") :]
            problems: list[str] = []
            for index, item in enumerate(value):
                problems.extend(
                    self._value(
                        item, inner.split(" or "), f"{where}[{index}]", form=False, strict=strict
                    )
                )
            return problems
        if kind == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{where}: expected Integer, got {type(value).__name__}"]
        if kind == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{where}: expected Float"]
        if kind == "String":
            return [] if isinstance(value, str) else [f"{where}: expected String"]
        if kind == "Boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected Boolean"]
        if kind == "True":
            return [] if value is True else [f"{where}: expected True"]
        if kind == "InputFile":
            # A multipart part (the request side shows it as bytes) or attach://<name>.
            ok = isinstance(value, bytes) or (
                isinstance(value, str) and value.startswith("attach://")
            )
            return [] if ok else [f"{where}: expected InputFile"]
        spec = self.types.get(kind)
        if spec is None:
            return [f"{where}: unknown type {kind}"]
        subtypes = spec.get("subtypes")
        if subtypes:
            return self._value(value, subtypes, where, strict=strict)
        if not isinstance(value, dict):
            return [f"{where}: expected {kind} object"]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        problems = []
        for name, field in fields.items():
            if field["required"] and name not in value:
                problems.append(f"{where}: {kind}.{name} missing")
        for name, item in value.items():
            field = fields.get(name)
            if field is None:
                if strict:
                    problems.append(f"{where}: {kind} has no field {name!r}")
                continue
            problems.extend(self._value(item, field["types"], f"{where}.{name}", strict=strict))
        if not problems and "type" in fields and isinstance(value.get("type"), str):
            problems.extend(_discriminator(kind, spec, value["type"], where))
        return problems


def _types(types: list[str]) -> list[str]:
    """The scraped description splits "Array of InputMediaAudio, InputMediaDocument,
    InputMediaPhoto and InputMediaVideo" (``sendMediaGroup.media``) into one array type per
    element type, which would refuse an album of photos and videos that the page allows
    ("Documents and audio files can be only grouped in an album with messages of the same
    type"): several array types also accept an array whose items match any of them; the
    fake and the adapter's pre-flight enforce the grouping rule itself."""
    if len(types) > 1 and all(t.startswith("Array of ") for t in types):
        items = " or ".join(t[len("Array of ") :] for t in types)
        return [*types, f"Array of {items}"]
    return types


def _discriminator(kind: str, spec: dict[str, Any], given: str, where: str) -> list[str]:
    """Types like ``ReactionTypeEmoji`` say their ``type`` value in the description
    ("Type of the reaction, always “emoji”"): a subtype matches only with that value."""
    for field in spec.get("fields", []):
        if field["name"] != "type":
            continue
        text = field.get("description", "")
        match = re.search(r"(?:always|must be) [“\"]?([a-z_]+)", text)
        if match is not None and match.group(1) != given:
            return [f"{where}: {kind} has type {match.group(1)!r}, not {given!r}"]
    return []


def _params(request: httpx.Request) -> tuple[dict[str, Any], bool]:
    """(parameters, whether they came as form text) of a Bot API request."""
    params: dict[str, Any] = dict(parse_qsl(request.url.query.decode()))
    form = bool(params)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    content = request.content
    if kind == "application/json":
        body = json.loads(content or b"{}")
        if not isinstance(body, dict):
            raise ValueError("the JSON body is not an object")
        params.update(body)
        return params, False
    if kind == "application/x-www-form-urlencoded":
        params.update(parse_qsl(content.decode()))
        return params, True
    if kind == "multipart/form-data":
        head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + content)
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is not None:
                files[str(name)] = payload
            else:
                params[str(name)] = payload.decode("utf-8")
        # Files are referenced as attach://<name> from the parameters (or are a parameter).
        for name, data in files.items():
            if not _referenced(params, name):
                params[name] = data
        return params, True
    if content:
        raise ValueError(f"unexpected content type {kind!r}")
    return params, form


def _referenced(params: dict[str, Any], name: str) -> bool:
    needle = f"attach://{name}"
    return any(isinstance(v, str) and needle in v for v in params.values())


@functools.cache
def telegram_checker() -> TelegramChecker:
    """The checker of api.json (loaded once per process)."""
    from tests._specs import specs_dir

    return TelegramChecker(json.loads(specs_dir("telegram", "api.json").read_text()))
