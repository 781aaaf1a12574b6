"""A small AT Protocol lexicon validator for tests (no atproto SDK).

Written here, not taken from a library: the only maintained Python lexicon validation lives
inside the atproto SDK (generated models, one version behind the lexicons at any time), and the
project deliberately does not depend on it. This validates JSON values against the lexicon
files in ``../shared/specs/bluesky/lexicons`` (loaded by NSID), following the Lexicon spec
(https://atproto.com/specs/lexicon) and the string-format rules of the AT Protocol specs,
checked against the public interop test vectors (see tests/validation/test_lexicon.py).

Covered: object (required, nullable, properties; extra properties are allowed, as in the
protocol), string (const, enum, minLength/maxLength in UTF-8 bytes, minGraphemes/maxGraphemes
by extended grapheme clusters via ``regex``'s ``\\X``, formats), integer (const, enum,
minimum, maximum), boolean (const), array (minLength, maxLength, items), ref and union (local
``#def`` and ``nsid#def`` refs; ``$type`` required; closed unions reject other types, open unions
accept types they do not list), blob (``accept`` with wildcards, ``maxSize``; also the legacy
``{cid, mimeType}`` form), cid-link, bytes (minLength/maxLength in bytes), unknown (any object
that is not bytes, a link or a blob), token, params, and the record / query / procedure
wrappers. ``knownValues`` is ignored: by the spec it is advisory.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import regex

__all__ = ["LexiconChecker", "LexiconError", "is_valid_format"]


class LexiconError(AssertionError):
    """A value does not conform to a lexicon; ``problems`` lists every violation."""

    def __init__(self, subject: str, problems: list[str]) -> None:
        self.subject = subject
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{subject} does not conform to the lexicon:\n{lines}")


# --------------------------------------------------------------------------------------------
# String formats (https://atproto.com/specs/lexicon#string-formats and the per-format specs)
# --------------------------------------------------------------------------------------------

_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_NSID = re.compile(
    r"^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
    r"(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$"
)
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_RECORD_KEY = re.compile(r"^[a-zA-Z0-9_~.:-]{1,512}$")
_CID = re.compile(r"^[a-zA-Z0-9+=]{8,256}$")
_DATETIME = re.compile(
    r"^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?"
    r"(Z|([+-][0-2][0-9]:[0-5][0-9]))$"
)
_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:(?://)?[^\s/][^\s]*$")
_AT_URI = re.compile(
    r"^at://(?P<authority>[^/?#\s]+)"
    r"(/(?P<collection>[^/?#\s]+)(/(?P<rkey>[^/?#\s]+))?)?"
    r"(#(?P<fragment>/[a-zA-Z0-9._~:@!$&%')(*+,;=\-\[\]/\\]*))?$"
)
# BCP 47 (RFC 5646 section 2.1) well-formed tags: the primary language subtag in lower case as
# the AT Protocol spec requires; grandfathered tags; private use.
_GRANDFATHERED = (
    "en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|"
    "i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE|art-lojban|cel-gaulish|no-bok|no-nyn|"
    "zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang"
)
_LANGUAGE = re.compile(
    rf"^(?:(?:{_GRANDFATHERED})"
    r"|(?:[a-z]{2,3}(?:-[A-Za-z]{3}){0,3}"  # language + extlang
    r"(?:-[A-Za-z]{4})?"  # script
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"  # variants
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"  # extensions
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?)"  # private use
    r"|(?:[xX](?:-[A-Za-z0-9]{1,8})+))$"
)


def _valid_handle(value: str) -> bool:
    return len(value) <= 253 and bool(_HANDLE.match(value))


def _valid_did(value: str) -> bool:
    return len(value) <= 2048 and bool(_DID.match(value))


def _valid_nsid(value: str) -> bool:
    return len(value) <= 317 and bool(_NSID.match(value))


def _valid_record_key(value: str) -> bool:
    return value not in (".", "..") and bool(_RECORD_KEY.match(value))


def _valid_datetime(value: str) -> bool:
    if len(value) > 64 or not _DATETIME.match(value) or value.endswith("-00:00"):
        return False
    # The syntax is right; it must also be a real instant (no 1985-02-30, no hour 25).
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    year_zero = text.startswith("0000-")
    if year_zero:  # year 0 is valid here but not in Python; 2000 is also a leap year
        text = "2000-" + text[5:]
    head, _, rest = text.partition(".")
    if rest:  # Python < 3.11 takes at most 6 fractional digits: keep the offset, drop digits
        offset = rest[-6:]
        text = f"{head}.{rest[:-6][:6].ljust(6, '0')}{offset}"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    # year 0 with a positive offset falls before year 0 in UTC: not representable
    return not year_zero or parsed.astimezone(dt.timezone.utc).year >= 2000


def _valid_language(value: str) -> bool:
    if not _LANGUAGE.match(value):
        return False
    if re.fullmatch(_GRANDFATHERED, value):
        return True
    # RFC 5646 section 2.2.5/2.2.6: a variant or an extension singleton may not be repeated
    # (case-insensitively); the regular expression alone cannot say that.
    subtags = value.lower().split("-")
    if "x" in subtags:
        subtags = subtags[: subtags.index("x")]
    singletons = [t for t in subtags if len(t) == 1]
    first_singleton = next((i for i, t in enumerate(subtags) if len(t) == 1), len(subtags))
    variants = [
        t for t in subtags[1:first_singleton] if len(t) >= 5 or (len(t) == 4 and t[0].isdigit())
    ]
    return len(set(singletons)) == len(singletons) and len(set(variants)) == len(variants)


def _valid_cid(value: str) -> bool:
    # Lexicon `cid` strings are checked loosely (as the reference implementation does), but
    # CIDv0 ("Qm...") is not allowed in the AT Protocol.
    return bool(_CID.match(value)) and not value.startswith("Qm")


def _valid_at_uri(value: str) -> bool:
    if len(value) > 8192:
        return False
    match = _AT_URI.match(value)
    if not match:
        return False
    if not (_valid_handle(match["authority"]) or _valid_did(match["authority"])):
        return False
    if match["collection"] is not None and not _valid_nsid(match["collection"]):
        return False
    return match["rkey"] is None or _valid_record_key(match["rkey"])


def _valid_uri(value: str) -> bool:
    return len(value) <= 8192 and bool(_URI.match(value))


_FORMATS = {
    "datetime": _valid_datetime,
    "uri": _valid_uri,
    "at-uri": _valid_at_uri,
    "did": _valid_did,
    "handle": _valid_handle,
    "at-identifier": lambda v: _valid_handle(v) or _valid_did(v),
    "nsid": _valid_nsid,
    "cid": _valid_cid,
    "language": _valid_language,
    "tid": lambda v: bool(_TID.match(v)),
    "record-key": _valid_record_key,
}


def is_valid_format(fmt: str, value: str) -> bool:
    """Whether ``value`` is a valid ``fmt`` string (``fmt`` as named in lexicons)."""
    try:
        check = _FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown lexicon string format {fmt!r}") from None
    return bool(check(value))


def _graphemes(value: str) -> int:
    return len(regex.findall(r"\X", value))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


@functools.cache
def _load_lexicons(roots: tuple[Path, ...]) -> dict[str, dict[str, Any]]:
    docs: dict[str, dict[str, Any]] = {}
    for root in roots:
        for file in sorted(root.rglob("*.json")):
            doc = json.loads(file.read_text(encoding="utf-8"))
            if isinstance(doc, dict) and doc.get("lexicon") == 1 and "id" in doc:
                docs[doc["id"]] = doc
    return docs


def _default_roots() -> tuple[Path, ...]:
    from tests._specs import specs_dir

    return (specs_dir() / "bluesky" / "lexicons",)


# Errors any XRPC endpoint may return, besides those its lexicon lists
# (https://atproto.com/specs/xrpc#error-responses and the reference server's ResponseType).
_GENERIC_XRPC_ERRORS = frozenset(
    {
        "InvalidRequest",
        "ExpiredToken",
        "InvalidToken",
        "AuthenticationRequired",
        "AuthMissing",
        "Forbidden",
        "NotFound",
        "RateLimitExceeded",
        "PayloadTooLarge",
        "InternalServerError",
        "MethodNotImplemented",
        "UpstreamFailure",
        "NotEnoughResources",
        "UpstreamTimeout",
        "XRPCNotSupported",
        "Unknown",
    }
)

_RECORD_WRITERS = {
    "com.atproto.repo.createRecord",
    "com.atproto.repo.putRecord",
    "com.atproto.repo.applyWrites",
}


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


class LexiconChecker:
    """Validate values, records and XRPC traffic against AT Protocol lexicons.

    ``roots`` are folders searched recursively for lexicon JSON files (default: the official
    lexicons in ``../shared/specs/bluesky/lexicons``). Lexicons are loaded once per process.
    """

    def __init__(self, roots: Iterable[str | Path] | None = None) -> None:
        resolved = (
            tuple(Path(r).resolve() for r in roots) if roots is not None else _default_roots()
        )
        self.roots = resolved
        self.lexicons = _load_lexicons(resolved)

    def __repr__(self) -> str:
        return f"LexiconChecker({len(self.lexicons)} lexicons)"

    # -- public API ----------------------------------------------------------------------

    def validate(self, nsid_or_ref: str, value: Any) -> None:
        """Validate ``value`` against a def (``nsid`` = its main def, or ``nsid#name``).
        For a record lexicon the record object is used. Raises :class:`LexiconError`."""
        problems = self.violations(nsid_or_ref, value)
        if problems:
            raise LexiconError(f"value for {nsid_or_ref}", problems)

    def violations(self, nsid_or_ref: str, value: Any) -> list[str]:
        nsid, name = self._split(nsid_or_ref, context=None)
        definition = self._def(nsid, name)
        if definition.get("type") == "record":
            definition = definition["record"]
        return list(self._check(value, definition, nsid, "$"))

    def validate_record(self, collection: str, record: Any) -> None:
        """Validate a repository record of ``collection`` (e.g. ``app.bsky.feed.post``)."""
        problems = self.record_violations(collection, record)
        if problems:
            raise LexiconError(f"{collection} record", problems)

    def record_violations(self, collection: str, record: Any, where: str = "$") -> list[str]:
        if collection not in self.lexicons:
            return [f"{where}: no lexicon for collection {collection!r}"]
        main = self.lexicons[collection]["defs"].get("main", {})
        if main.get("type") != "record":
            return [f"{where}: {collection} is a {main.get('type')}, not a record collection"]
        problems: list[str] = []
        if isinstance(record, dict) and "$type" in record and record["$type"] != collection:
            problems.append(f"{where}.$type: {record['$type']!r} is not {collection!r}")
        problems.extend(self._check(record, main["record"], collection, where))
        return problems

    def check_xrpc_request(self, request: httpx.Request) -> None:
        """Validate an XRPC request: ``/xrpc/<nsid>`` exists with this method; query parameters
        against ``parameters``; the JSON input against ``input.schema``; and for
        createRecord/putRecord/applyWrites the embedded record(s) against their collection."""
        problems = self.request_violations(request)
        if problems:
            raise LexiconError(f"{request.method} {request.url}", problems)

    def request_violations(self, request: httpx.Request) -> list[str]:
        nsid = self._xrpc_nsid(request)
        if nsid is None:
            return [f"{request.url.path} is not an XRPC path (/xrpc/<nsid>)"]
        if nsid not in self.lexicons:
            return [f"{nsid}: no such lexicon"]
        main = self.lexicons[nsid]["defs"].get("main", {})
        kind = main.get("type")
        expected = {"query": "GET", "procedure": "POST"}.get(str(kind))
        if expected is None:
            return [f"{nsid} is a {kind}, not an XRPC query or procedure"]
        problems: list[str] = []
        if request.method.upper() != expected:
            problems.append(f"{nsid} is a {kind}: method must be {expected}, not {request.method}")
        problems.extend(self._check_query_params(request, main, nsid))
        body = _content(request)
        if kind == "query" or "input" not in main:
            if body:
                problems.append(f"{nsid} takes no input, but a {len(body)}-byte body was sent")
            return problems
        problems.extend(self._check_input(request, body, main["input"], nsid))
        return problems

    def check_xrpc_response(self, request: httpx.Request, response: httpx.Response) -> None:
        """Validate a response (usually a fixture): 2xx against the ``output`` schema;
        otherwise the XRPC error shape ``{"error": str, "message"?: str}``."""
        problems = self.response_violations(request, response)
        if problems:
            raise LexiconError(f"response {response.status_code} to {request.url.path}", problems)

    def response_violations(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        nsid = self._xrpc_nsid(request)
        if nsid is None or nsid not in self.lexicons:
            return [f"{request.url.path}: not a known XRPC method"]
        main = self.lexicons[nsid]["defs"].get("main", {})
        body = _content(response)
        if not 200 <= response.status_code < 300:
            return self._check_error_body(response, body, main, nsid)
        output = main.get("output")
        if output is None:
            return []
        encoding = output.get("encoding", "")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        problems: list[str] = []
        if encoding == "application/json":
            if content_type != "application/json":
                problems.append(f"content-type {content_type!r}, expected application/json")
            try:
                value = json.loads(body)
            except ValueError:
                return [*problems, "response body is not JSON"]
            if "schema" in output:
                problems.extend(self._check(value, output["schema"], nsid, "output"))
        elif not _mime_matches(content_type, encoding):
            problems.append(f"content-type {content_type!r} does not match {encoding!r}")
        return problems

    # -- XRPC helpers --------------------------------------------------------------------

    @staticmethod
    def _xrpc_nsid(request: httpx.Request) -> str | None:
        match = re.fullmatch(r".*/xrpc/([^/]+)", request.url.path)
        return match.group(1) if match else None

    def _check_query_params(
        self, request: httpx.Request, main: dict[str, Any], nsid: str
    ) -> list[str]:
        params = main.get("parameters") or {"type": "params", "properties": {}}
        properties: dict[str, Any] = params.get("properties") or {}
        given: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            given.setdefault(key, []).append(value)
        problems: list[str] = []
        for key in given:
            if key not in properties:
                problems.append(
                    f"query parameter {key!r} is not declared by {nsid} "
                    f"(declared: {', '.join(sorted(properties)) or 'none'})"
                )
        for key in params.get("required") or []:
            if key not in given:
                problems.append(f"required query parameter {key!r} is missing")
        for key, values in given.items():
            prop = properties.get(key)
            if prop is None:
                continue
            where = f"params.{key}"
            if prop.get("type") == "array":
                items = prop.get("items", {})
                converted = [_from_query(v, items) for v in values]
                problems.extend(self._check(converted, prop, nsid, where))
            else:
                if len(values) > 1:
                    problems.append(f"{where}: given {len(values)} times but is not an array")
                problems.extend(self._check(_from_query(values[0], prop), prop, nsid, where))
        return problems

    def _check_input(
        self, request: httpx.Request, body: bytes, spec: dict[str, Any], nsid: str
    ) -> list[str]:
        encoding = spec.get("encoding", "")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if encoding != "application/json":
            if not _mime_matches(content_type, encoding):
                return [f"content-type {content_type!r} does not match the input {encoding!r}"]
            return []
        problems: list[str] = []
        if content_type != "application/json":
            problems.append(f"content-type {content_type!r}, expected application/json")
        try:
            value = json.loads(body) if body else None
        except ValueError:
            return [*problems, "request body is not JSON"]
        if value is None:
            return [*problems, f"{nsid} requires a JSON body"]
        if "schema" in spec:
            problems.extend(self._check(value, spec["schema"], nsid, "input"))
        if nsid in _RECORD_WRITERS and isinstance(value, dict):
            problems.extend(self._check_embedded_records(nsid, value))
        return problems

    def _check_embedded_records(self, nsid: str, value: dict[str, Any]) -> list[str]:
        if nsid in ("com.atproto.repo.createRecord", "com.atproto.repo.putRecord"):
            collection = value.get("collection")
            if isinstance(collection, str) and "record" in value:
                return self.record_violations(collection, value["record"], "input.record")
            return []
        problems: list[str] = []
        for index, write in enumerate(value.get("writes") or []):
            if not isinstance(write, dict) or "value" not in write:
                continue  # deletes carry no record
            collection = write.get("collection")
            if isinstance(collection, str):
                problems.extend(
                    self.record_violations(
                        collection, write["value"], f"input.writes[{index}].value"
                    )
                )
        return problems

    @staticmethod
    def _check_error_body(
        response: httpx.Response, body: bytes, main: dict[str, Any], nsid: str
    ) -> list[str]:
        try:
            value = json.loads(body)
        except ValueError:
            return [f"error response body is not JSON: {body[:80]!r}"]
        if not isinstance(value, dict):
            return ["error response body is not a JSON object"]
        problems = []
        error = value.get("error")
        if not isinstance(error, str) or not error:
            problems.append("error response lacks a string 'error'")
        if "message" in value and not isinstance(value["message"], str):
            problems.append("error response 'message' is not a string")
        declared = {e.get("name") for e in main.get("errors") or []}
        if isinstance(error, str) and error not in declared | _GENERIC_XRPC_ERRORS:
            names = ", ".join(sorted(n for n in declared if n)) or "none"
            problems.append(
                f"error {error!r} is neither declared by {nsid} ({names}) nor a generic XRPC error"
            )
        return problems

    # -- core validation -----------------------------------------------------------------

    def _split(self, ref: str, context: str | None) -> tuple[str, str]:
        if ref.startswith("#"):
            if context is None:
                raise ValueError(f"local ref {ref!r} needs a lexicon context")
            return context, ref[1:]
        nsid, _, name = ref.partition("#")
        return nsid, name or "main"

    def _def(self, nsid: str, name: str) -> dict[str, Any]:
        try:
            return dict(self.lexicons[nsid]["defs"][name])
        except KeyError:
            raise KeyError(f"no lexicon def {nsid}#{name}") from None

    @staticmethod
    def _canonical(ref: str, context: str) -> str:
        full = f"{context}{ref}" if ref.startswith("#") else ref
        return full[: -len("#main")] if full.endswith("#main") else full

    def _check(self, value: Any, schema: dict[str, Any], nsid: str, where: str) -> Iterator[str]:
        kind = schema.get("type")
        check = getattr(self, f"_check_{str(kind).replace('-', '_')}", None)
        if check is None:
            yield f"{where}: unsupported lexicon type {kind!r} in {nsid}"
            return
        yield from check(value, schema, nsid, where)

    def _check_object(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, dict) or _is_special(value):
            yield f"{where}: expected an object, got {_kind(value)}"
            return
        nullable = set(schema.get("nullable") or [])
        for key in schema.get("required") or []:
            if key not in value:
                yield f"{where}: required field {key!r} is missing"
        for key, prop in (schema.get("properties") or {}).items():
            if key not in value:
                continue
            item = value[key]
            if item is None:
                if key not in nullable:
                    yield f"{where}.{key}: null is not allowed (not nullable)"
                continue
            yield from self._check(item, prop, nsid, f"{where}.{key}")

    _check_params = _check_object  # params: the same shape as an object

    def _check_string(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, str):
            yield f"{where}: expected a string, got {_kind(value)}"
            return
        if "const" in schema and value != schema["const"]:
            yield f"{where}: must be {schema['const']!r}"
        if "enum" in schema and value not in schema["enum"]:
            yield f"{where}: {value!r} is not one of {schema['enum']}"
        size = len(value.encode("utf-8"))
        if "maxLength" in schema and size > schema["maxLength"]:
            yield f"{where}: {size} UTF-8 bytes, more than maxLength {schema['maxLength']}"
        if "minLength" in schema and size < schema["minLength"]:
            yield f"{where}: {size} UTF-8 bytes, fewer than minLength {schema['minLength']}"
        if "maxGraphemes" in schema or "minGraphemes" in schema:
            count = _graphemes(value)
            most, least = schema.get("maxGraphemes"), schema.get("minGraphemes")
            if most is not None and count > most:
                yield f"{where}: {count} graphemes, more than maxGraphemes {most}"
            if least is not None and count < least:
                yield f"{where}: {count} graphemes, fewer than minGraphemes {least}"
        fmt = schema.get("format")
        if fmt is not None and not is_valid_format(fmt, value):
            yield f"{where}: {value!r} is not a valid {fmt}"

    def _check_integer(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if isinstance(value, bool) or not isinstance(value, int):
            yield f"{where}: expected an integer, got {_kind(value)}"
            return
        if "const" in schema and value != schema["const"]:
            yield f"{where}: must be {schema['const']}"
        if "enum" in schema and value not in schema["enum"]:
            yield f"{where}: {value} is not one of {schema['enum']}"
        if "minimum" in schema and value < schema["minimum"]:
            yield f"{where}: {value} is below the minimum {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            yield f"{where}: {value} is above the maximum {schema['maximum']}"

    def _check_boolean(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, bool):
            yield f"{where}: expected a boolean, got {_kind(value)}"
        elif "const" in schema and value != schema["const"]:
            yield f"{where}: must be {schema['const']}"

    def _check_array(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, list):
            yield f"{where}: expected an array, got {_kind(value)}"
            return
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield f"{where}: {len(value)} items, more than maxLength {schema['maxLength']}"
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield f"{where}: {len(value)} items, fewer than minLength {schema['minLength']}"
        items = schema.get("items")
        if items is not None:
            for index, item in enumerate(value):
                yield from self._check(item, items, nsid, f"{where}[{index}]")

    def _check_ref(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        target_nsid, name = self._split(schema["ref"], nsid)
        try:
            target = self._def(target_nsid, name)
        except KeyError as exc:
            yield f"{where}: {exc.args[0]}"
            return
        if target.get("type") == "record":
            target = target["record"]
        yield from self._check(value, target, target_nsid, where)

    def _check_union(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, dict) or _is_special(value):
            yield f"{where}: expected an object with $type (union), got {_kind(value)}"
            return
        type_ = value.get("$type")
        if not isinstance(type_, str) or not type_:
            yield f"{where}: a union member needs a $type"
            return
        refs = {self._canonical(r, nsid): r for r in schema.get("refs") or []}
        canonical = self._canonical(type_, nsid)
        if canonical not in refs:
            if schema.get("closed"):
                yield f"{where}: $type {type_!r} is not one of the closed union {sorted(refs)}"
            return  # open union: a type it does not list is allowed and cannot be checked
        target_nsid, name = self._split(refs[canonical], nsid)
        try:
            target = self._def(target_nsid, name)
        except KeyError as exc:
            yield f"{where}: {exc.args[0]}"
            return
        if target.get("type") == "record":
            target = target["record"]
        yield from self._check(value, target, target_nsid, where)

    def _check_blob(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, dict):
            yield f"{where}: expected a blob, got {_kind(value)}"
            return
        if value.get("$type") == "blob":
            ref = value.get("ref")
            if not (isinstance(ref, dict) and set(ref) == {"$link"} and _is_cid(ref["$link"])):
                yield f"{where}.ref: expected {{'$link': <cid>}}"
            size = value.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                yield f"{where}.size: expected a non-negative integer"
                size = None
        elif set(value) == {"cid", "mimeType"} and isinstance(value.get("cid"), str):
            size = None  # legacy blob form: no size to check
        else:
            yield f"{where}: expected a blob ({{'$type': 'blob', ref, mimeType, size}})"
            return
        mime = value.get("mimeType")
        if not isinstance(mime, str) or not mime:
            yield f"{where}.mimeType: expected a MIME type string"
            return
        accept = schema.get("accept")
        if accept and not any(_mime_matches(mime, pattern) for pattern in accept):
            yield f"{where}.mimeType: {mime!r} is not accepted ({', '.join(accept)})"
        if size is not None and "maxSize" in schema and size > schema["maxSize"]:
            yield f"{where}.size: {size} bytes, more than maxSize {schema['maxSize']}"

    def _check_cid_link(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not (isinstance(value, dict) and set(value) == {"$link"} and _is_cid(value["$link"])):
            yield f"{where}: expected a cid-link {{'$link': <cid>}}, got {_kind(value)}"

    def _check_bytes(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not (isinstance(value, dict) and set(value) == {"$bytes"}):
            yield f"{where}: expected bytes {{'$bytes': <base64>}}, got {_kind(value)}"
            return
        raw = value["$bytes"]
        if not isinstance(raw, str):
            yield f"{where}: $bytes must be a base64 string"
            return
        try:
            # the data model uses unpadded base64; tolerate either
            data = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=False)
        except (binascii.Error, ValueError):
            yield f"{where}: $bytes is not base64"
            return
        if "maxLength" in schema and len(data) > schema["maxLength"]:
            yield f"{where}: {len(data)} bytes, more than maxLength {schema['maxLength']}"
        if "minLength" in schema and len(data) < schema["minLength"]:
            yield f"{where}: {len(data)} bytes, fewer than minLength {schema['minLength']}"

    def _check_unknown(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        if not isinstance(value, dict) or _is_special(value):
            yield f"{where}: 'unknown' must be an object (not bytes, a link or a blob)"

    def _check_token(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        yield f"{where}: a token ({nsid}) is a name, not a data value"

    def _check_record(
        self, value: Any, schema: dict[str, Any], nsid: str, where: str
    ) -> Iterator[str]:
        yield from self._check(value, schema["record"], nsid, where)


def _is_special(value: dict[str, Any]) -> bool:
    """Data-model encodings that are not plain objects: bytes, cid-links and blobs."""
    return set(value) in ({"$bytes"}, {"$link"}) or value.get("$type") == "blob"


def _is_cid(value: Any) -> bool:
    return isinstance(value, str) and _valid_cid(value)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float (the data model has no floats)"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        if "$bytes" in value:
            return "bytes"
        if "$link" in value:
            return "a cid-link"
        if value.get("$type") == "blob":
            return "a blob"
        return "an object"
    return type(value).__name__


def _mime_matches(mime: str, pattern: str) -> bool:
    if pattern in ("*/*", "*"):
        return True
    if pattern.endswith("/*"):
        return mime.split("/")[0] == pattern[:-2]
    return mime == pattern


def _from_query(text: str, schema: dict[str, Any]) -> Any:
    """Convert a query-string value to the JSON type its param schema declares (so the
    checks above apply); unconvertible text stays a string and fails the type check."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if kind == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def _content(message: httpx.Request | httpx.Response) -> bytes:
    try:
        return message.content
    except (httpx.RequestNotRead, httpx.ResponseNotRead):
        return message.read()
