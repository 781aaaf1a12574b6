"""Keep secrets out of logs, reprs and error messages.

Written here rather than taken from a library: what counts as a secret is specific to the
networks socialkit talks to (``access_token`` in Graph API query strings, ``oauth_signature``,
``appsecret_proof``, Bluesky ``password`` form fields ...), and the work must be cheap because
it runs on every logged request.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

__all__ = [
    "REDACTED",
    "SENSITIVE_FIELDS",
    "SENSITIVE_HEADERS",
    "SecretRegistry",
    "install_log_filters",
    "redact_headers",
    "redact_path",
    "redact_text",
    "redact_url",
    "register_secret",
    "secrets",
]

REDACTED = "[REDACTED]"

#: Query-string and form field names whose values are never shown (compared lower-case).
SENSITIVE_FIELDS: frozenset[str] = frozenset(
    {
        "access_token",
        "accessjwt",
        "refresh_token",
        "refreshjwt",
        "jwt",
        "id_token",
        "token",
        "password",
        "passwd",
        "client_secret",
        "client_assertion",
        "assertion",
        "code",
        "code_verifier",
        "api_key",
        "apikey",
        "key",
        "secret",
        "app_secret",
        "appsecret_proof",
        "fb_exchange_token",
        "input_token",
        "oauth_token",
        "oauth_token_secret",
        "oauth_signature",
        "oauth_verifier",
        "consumer_secret",
        "signature",
        "sig",
        "session",
        "session_token",
        # TikTok's upload_url (…/video/?upload_id=…&upload_token=…): the chunks are PUT there
        # without the access token, so the URL's token is the upload's credential.
        "upload_token",
        "auth",
        "authorization",
    }
)

#: Header names whose values are never shown (compared lower-case).
SENSITIVE_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-csrf-token",
        "x-access-token",
        "dpop",
        "x-goog-api-key",
    }
)

# name=value pairs inside free text (query strings, form bodies, exception messages).
_FIELDS_ALTERNATION = "|".join(sorted(map(re.escape, SENSITIVE_FIELDS), key=len)[::-1])
_PAIR_RE = re.compile(
    r"(?i)(?P<name>\b(?:" + _FIELDS_ALTERNATION + r"))(?P<sep>=|%3D)(?P<q>\"?)"
    r"(?P<value>[^&\s\"'<>#]+)"
)
# "Bearer xyz" / "Basic xyz" / "DPoP xyz" credentials inside free text, also as servers echo
# them ("Invalid bearer token xyz"): the word "token" after the scheme is kept, the value goes.
# A value must hold something other than lower-case letters, so that prose such as
# "no OAuth session is stored" keeps its words; credentials always do.
_SCHEME_RE = re.compile(
    r"(?i)\b(Bearer|Basic|DPoP|OAuth)(\s+token)?\s+(?!\[REDACTED\])"
    r"(?=[A-Za-z0-9._~+/=\-,\"%]*[^a-z\s])(?-i:[A-Za-z0-9._~+/=\-,\"%]{6,})"
)
# JSON-ish "password": "..." (or a Python repr's 'password': '...') inside free text.
_JSON_RE = re.compile(
    r"(?i)([\"'](?:" + _FIELDS_ALTERNATION + r")[\"']\s*:\s*)([\"'])(?:(?!\2).)*\2"
)
# A Telegram bot token (``123456789:AAH…``), which the Bot API puts in the URL path
# (``/bot<token>/sendMessage``, ``/file/bot<token>/<path>``): the path is no query string, so
# the name=value rules above never see it.
_BOT_TOKEN_RE = re.compile(
    r"(?:(?<=bot)[0-9]{1,20}|(?<![A-Za-z0-9_:-])[0-9]{3,20}):[A-Za-z0-9_-]{20,}"
)
# A JSON Web Token anywhere (access and refresh JWTs, ID tokens, DPoP proofs).
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# The user info of a URL in free text (``redis://:password@host``, ``postgresql://u:p@h``):
# store and driver errors quote the URL they were given.
_USERINFO_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")


#: Shorter values are not registered: replacing every "abc" of a text would hide more than it
#: protects, and no network issues credentials that short.
MIN_SECRET_LENGTH = 8
#: How many distinct secrets the process remembers (the oldest registered are dropped first).
MAX_SECRETS = 4096


class SecretRegistry:
    """The exact secrets this process holds, removed from every text :func:`redact_text` sees.

    Patterns catch what *looks* like a credential (``access_token=…``, ``Bearer …``, JWTs); an
    opaque token echoed by a server in an error body ("invalid token 9f2c…") looks like nothing.
    Auth schemes, stored tokens (including refreshed ones), adapter settings and sessions
    register the values they hold here, and redaction replaces them verbatim, also in their
    percent-encoded and JSON-escaped forms.

    One registry per process, not per adapter: a log record or a traceback cannot say which
    adapter it came from, and a secret stays redacted after its adapter closes, since the
    token is still valid at the network. At most :data:`MAX_SECRETS` values are kept.

    Written here rather than taken from a library: it is a few lines over :mod:`re`.
    """

    def __init__(self, capacity: int = MAX_SECRETS) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._dirty = False

    def __repr__(self) -> str:
        return f"SecretRegistry({len(self._values)} values)"

    def __len__(self) -> int:
        return len(self._values)

    def add(self, *values: object) -> None:
        """Register secrets (``str``, ``pydantic.SecretStr`` or ``None``, which is skipped)."""
        for value in values:
            text = _secret_text(value)
            if text is None or len(text) < MIN_SECRET_LENGTH:
                continue
            with self._lock:
                for form in _forms(text):
                    if form in self._values:
                        self._values.move_to_end(form)
                        continue
                    self._values[form] = None
                    self._dirty = True
                    while len(self._values) > self._capacity:
                        self._values.popitem(last=False)

    def discard(self, *values: object) -> None:
        """Forget secrets (a revoked token)."""
        for value in values:
            text = _secret_text(value)
            if text is None:
                continue
            with self._lock:
                for form in _forms(text):
                    if self._values.pop(form, 0) is None:
                        self._dirty = True

    def __contains__(self, value: object) -> bool:
        text = _secret_text(value)
        return text is not None and text in self._values

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``[REDACTED]``."""
        if not self._values or not text:
            return text
        pattern = self._pattern
        if self._dirty or pattern is None:
            with self._lock:
                # Longest first, so that a secret containing another is replaced whole.
                ordered = sorted(self._values, key=len, reverse=True)
                pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
                self._pattern = pattern
                self._dirty = False
            if pattern is None:
                return text
        return pattern.sub(REDACTED, text)


def _secret_text(value: object) -> str | None:
    if value is None:
        return None
    getter = getattr(value, "get_secret_value", None)
    if getter is not None:
        value = getter()
    return value if isinstance(value, str) and value else None


def _forms(text: str) -> set[str]:
    """A secret as it may appear in text: verbatim, percent-encoded, JSON-escaped."""
    forms = {text, quote(text, safe=""), quote(text, safe="/"), json.dumps(text)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


#: The process's registry (see :class:`SecretRegistry`).
secrets: SecretRegistry = SecretRegistry()


def register_secret(*values: object) -> None:
    """Register exact secret values with the process's :class:`SecretRegistry`."""
    secrets.add(*values)


def redact_text(text: str) -> str:
    """Replace secret values in free text (a URL, a form body, an exception message).

    Registered secrets (:class:`SecretRegistry`) go first, verbatim; then what looks like a
    credential by its shape.
    """
    if not text:
        return text
    text = secrets.redact(text)
    if ":" in text:
        text = _BOT_TOKEN_RE.sub(REDACTED, text)
    text = _PAIR_RE.sub(
        lambda m: f"{m.group('name')}{m.group('sep')}{m.group('q')}{REDACTED}", text
    )
    text = _SCHEME_RE.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} {REDACTED}", text)
    text = _JSON_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    if "@" in text:
        text = _USERINFO_RE.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    return _JWT_RE.sub(REDACTED, text) if "eyJ" in text else text


def redact_path(path: str) -> str:
    """A URL's path with registered secrets and Telegram bot tokens (``/bot<token>/…``)
    replaced: for surfaces that show the path apart from the query (telemetry's
    ``url.full``). The registry is bounded, so the token's shape is matched as well."""
    path = secrets.redact(path)
    return _BOT_TOKEN_RE.sub(REDACTED, path) if ":" in path else path


def redact_url(url: httpx.URL | str) -> str:
    """The URL as text, with user info, registered secrets and secret query values replaced."""
    return secrets.redact(_redact_url(url))


def _redact_url(url: httpx.URL | str) -> str:
    if isinstance(url, str):
        if "@" in url or "?" in url or "=" in url:
            return _redact_url(httpx.URL(url)) if "://" in url else redact_text(url)
        return _BOT_TOKEN_RE.sub(REDACTED, url) if ":" in url else url
    if url.userinfo:
        url = url.copy_with(username=REDACTED if url.username else None, password=None)
    if url.fragment and "=" in url.fragment:  # implicit-grant style #access_token=...
        url = url.copy_with(fragment=redact_text(url.fragment))
    if b":" in url.raw_path:
        path = _BOT_TOKEN_RE.sub(REDACTED, url.raw_path.decode("ascii", "replace"))
        url = url.copy_with(raw_path=path.encode("ascii", "replace"))
    query = url.query
    if not query:
        return str(url)
    pairs: list[str] = []
    for part in query.decode("ascii", "replace").split("&"):
        name, sep, _ = part.partition("=")
        if sep and _sensitive_name(name):
            pairs.append(f"{name}={REDACTED}")
        else:
            pairs.append(part)
    # Built as text: a redacted URL is for reading, and "[REDACTED]" stays legible.
    return f"{url.copy_with(query=None)}?{'&'.join(pairs)}"


_LAST_WORD = re.compile(r"[^0-9a-z_]")


def _sensitive_name(name: str) -> bool:
    """A query parameter whose value is a secret: its name, or the last word of it after a
    ``-`` or ``.``, is a sensitive field, as :func:`redact_text` reads a query in free text
    (a signed URL's ``X-Amz-Signature``, ``X-Amz-Security-Token``, ``X-Goog-Signature``)."""
    lowered = name.lower()
    return lowered in SENSITIVE_FIELDS or _LAST_WORD.split(lowered)[-1] in SENSITIVE_FIELDS


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of the headers with secret values replaced."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value) for name, value in items
    }


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, httpx.URL):
        return redact_url(arg)
    if isinstance(arg, str):
        if "=" in arg or "Bearer" in arg or "Basic" in arg:
            return redact_text(arg)
        return secrets.redact(arg)
    if isinstance(arg, bytes | bytearray):
        return _redact_arg(bytes(arg).decode("utf-8", "replace"))
    if isinstance(arg, BaseException):
        return redact_text(str(arg))
    return arg


_FORMATTER = logging.Formatter()


class _RedactingFilter(logging.Filter):
    """Redacts URLs, registered secrets and secret-looking values in log records.

    httpx logs every request URL at INFO ("HTTP Request: GET https://...?access_token=...");
    Graph API, Instagram and Threads put the access token in the query string, so without this
    filter an application logging at INFO would write tokens to its logs. A record's traceback
    (``exc_info``) is formatted here, redacted, and kept as the record's ``exc_text``, which
    handlers print instead of formatting the exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_redact_arg(a) for a in args)
        elif isinstance(args, Mapping) and args:
            record.args = {k: _redact_arg(v) for k, v in args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact_text(_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


class _DropFilter(logging.Filter):
    """Drops records that dump raw header blocks (hpack logs header values at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_installed = False

#: socialkit's loggers; each gets the redacting filter.
SOCIALKIT_LOGGERS: tuple[str, ...] = (
    "socialkit",
    "socialkit.http",
    "socialkit.auth",
    "socialkit.telemetry",
    "socialkit.workflows.inbox",
    "socialkit.workflows.analytics",
    "socialkit.workflows.listening",
    "socialkit.workflows.alerts",
)


def install_log_filters() -> None:
    """Attach the redacting filters to httpx/httpcore/aiohttp loggers (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    redacting = _RedactingFilter()
    for name in ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection"):
        logging.getLogger(name).addFilter(redacting)
    for name in ("aiohttp.client", "aiohttp.internal"):
        logging.getLogger(name).addFilter(redacting)
    # socialkit's own loggers (a logger's filters see only records logged on it, not those
    # of its children, so each is named).
    for name in SOCIALKIT_LOGGERS:
        logging.getLogger(name).addFilter(redacting)
    dropping = _DropFilter()
    for name in ("hpack.hpack", "hpack.table"):
        logging.getLogger(name).addFilter(dropping)
