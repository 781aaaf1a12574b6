"""Keep secrets out of logs, reprs and error messages.

Written here rather than taken from a library: what counts as a secret is specific to the
networks socialkit talks to (``access_token`` in Graph API query strings, ``oauth_signature``,
``appsecret_proof``, Bluesky ``password`` form fields ...), and the work must be cheap because
it runs on every logged request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

__all__ = [
    "REDACTED",
    "SENSITIVE_FIELDS",
    "SENSITIVE_HEADERS",
    "install_log_filters",
    "redact_headers",
    "redact_text",
    "redact_url",
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


def redact_text(text: str) -> str:
    """Replace secret values in free text (a URL, a form body, an exception message)."""
    if not text:
        return text
    if ":" in text:
        text = _BOT_TOKEN_RE.sub(REDACTED, text)
    text = _PAIR_RE.sub(
        lambda m: f"{m.group('name')}{m.group('sep')}{m.group('q')}{REDACTED}", text
    )
    text = _SCHEME_RE.sub(lambda m: f"{m.group(1)}{m.group(2) or ''} {REDACTED}", text)
    text = _JSON_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    return _JWT_RE.sub(REDACTED, text) if "eyJ" in text else text


def redact_url(url: httpx.URL | str) -> str:
    """The URL as text, with user info and secret query values replaced."""
    if isinstance(url, str):
        if "@" in url or "?" in url or "=" in url:
            return redact_url(httpx.URL(url)) if "://" in url else redact_text(url)
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
        if sep and name.lower() in SENSITIVE_FIELDS:
            pairs.append(f"{name}={REDACTED}")
        else:
            pairs.append(part)
    # Built as text: a redacted URL is for reading, and "[REDACTED]" stays legible.
    return f"{url.copy_with(query=None)}?{'&'.join(pairs)}"


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of the headers with secret values replaced."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value) for name, value in items
    }


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, httpx.URL):
        return redact_url(arg)
    if isinstance(arg, str) and ("=" in arg or "Bearer" in arg or "Basic" in arg):
        return redact_text(arg)
    if isinstance(arg, bytes | bytearray):
        return _redact_arg(bytes(arg).decode("utf-8", "replace"))
    return arg


class _RedactingFilter(logging.Filter):
    """Redacts URLs and secret-looking values in records of third-party HTTP loggers.

    httpx logs every request URL at INFO ("HTTP Request: GET https://...?access_token=...");
    Graph API, Instagram and Threads put the access token in the query string, so without this
    filter an application logging at INFO would write tokens to its logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(_redact_arg(a) for a in args)
        elif isinstance(args, Mapping) and args:
            record.args = {k: _redact_arg(v) for k, v in args.items()}
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        return True


class _DropFilter(logging.Filter):
    """Drops records that dump raw header blocks (hpack logs header values at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_installed = False


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
    dropping = _DropFilter()
    for name in ("hpack.hpack", "hpack.table"):
        logging.getLogger(name).addFilter(dropping)
