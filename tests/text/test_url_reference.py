"""socialkit's linear URL scanner against a literal transcription of twitter-text's regular
expression (``extractUrl`` in twitter-text's JavaScript ``src/regexp/``: preceding character,
optional scheme, ``validDomain``, port), run as twitter-text runs it: ``exec`` from the end of
the previous match, a rejected match consuming its text.

The transcription backtracks and takes quadratic time, so it only runs on the short texts
Hypothesis makes; on those the two must find the same URLs at the same places. Paths and
queries are scanned by the module's own ``_scan_path``/``_scan_query`` in both (they are not
what changed), and the checks after a match (length, punycode, ``-_./`` before a bare host,
``t.co`` slugs) are written out again here from twitter-text's ``extractUrlsWithIndices``.
"""

from __future__ import annotations

import functools
from typing import Any

import regex
from hypothesis import HealthCheck, example, given, settings
from tests.text._strategies import hostile_text

from socialkit.text import extract_urls
from socialkit.text._tlds import COUNTRY_TLDS, GENERIC_TLDS
from socialkit.text._urls import (
    _DOMAIN_CHAR,
    _INVALID,
    _LATIN_ACCENTS,
    _MASTODON,
    _MASTODON_SCHEMES,
    _X,
    _is_valid_url,
    _scan_path,
    _scan_query,
)

D = _DOMAIN_CHAR
_LOOKAHEAD = r"(?=[^0-9a-zA-Z@+\-]|$)"


@functools.cache
def _extract_url(schemes: str = r"https?://", required: bool = False) -> Any:
    generic = "|".join(regex.escape(t) for t in GENERIC_TLDS)  # the spec's order
    country = "|".join(regex.escape(t) for t in COUNTRY_TLDS)
    tld = rf"(?:(?:{generic}){_LOOKAHEAD}|(?:{country}){_LOOKAHEAD}|xn--[\-0-9a-z]+)"
    subdomain = rf"(?:(?:{D}(?:[_\-]|{D})*)?{D}\.)"
    domain_name = rf"(?:(?:{D}(?:-|{D})*)?{D}\.)"
    domain = rf"(?:{subdomain}*{domain_name}{tld})"
    return regex.compile(
        rf"(?P<before>[^A-Za-z0-9@＠$#＃{_INVALID}]|^)"
        rf"(?P<url>(?P<proto>{schemes}){'' if required else '?'}(?P<domain>{domain})"
        r"(?::(?P<port>[0-9]+))?)",
        regex.IGNORECASE | regex.V0,
    )


@functools.cache
def _ascii_domain() -> Any:
    names = "|".join(regex.escape(t) for t in (*GENERIC_TLDS, *COUNTRY_TLDS))
    return regex.compile(
        rf"(?:(?:[\-a-z0-9{_LATIN_ACCENTS}]+)\.)+(?:(?:{names}){_LOOKAHEAD}|xn--[\-0-9a-z]+)",
        regex.IGNORECASE | regex.V0,
    )


_TCO = regex.compile(
    r"^https?://t\.co/([a-z0-9]+)(?:\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/])?",
    regex.IGNORECASE,
)


def reference(text: str, flavour: str = "x") -> list[tuple[str, int, int]]:
    """twitter-text's loop; ``flavour`` "x-scheme" requires a scheme, "mastodon" uses
    Mastodon's schemes and path characters (``config/initializers/twitter_regex.rb``)."""
    if "." not in text:
        return []
    if flavour == "mastodon":
        pattern, paths = _extract_url(_MASTODON_SCHEMES, True), _MASTODON
    else:
        pattern, paths = _extract_url(r"https?://", flavour == "x-scheme"), _X
    found: list[tuple[str, int, int]] = []
    pos = 0
    while True:
        match = pattern.search(text, pos)
        if match is None:
            return found
        start = match.start("url")
        end = match.end("url")
        has_path = end < len(text) and text[end] == "/"
        if has_path:
            end = _scan_path(text, end, paths)
        if end < len(text) and text[end] == "?":
            end = _scan_query(text, end, paths)
        pos = max(end, match.end())  # lastIndex: the whole match, path and query included
        url = text[start:end]
        proto = match.group("proto")
        domain = match.group("domain")
        if not _is_valid_url(url, proto or "https://", domain):
            continue
        if proto is None:
            if match.group("before") and match.group("before") in "-_./":
                continue
            spans = [(m.start(), m.end()) for m in _ascii_domain().finditer(domain)]
            base = match.start("domain")
            for index, (a, b) in enumerate(spans):
                stop = end if has_path and index == len(spans) - 1 else base + b
                found.append((text[base + a : stop], base + a, stop))
            continue
        tco = _TCO.match(url)
        if tco is not None:
            if len(tco.group(1)) > 40:
                continue
            url = tco.group()
        found.append((url, start, start + len(url)))


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
@example("これは日本語です。example.com/path/index.html中国語example.com/path한국")
@example("x_中b.com/中a.com a_b.com -example.com/?x=https://foo.com 中https://x.com")
@example("a.com.b_c.d-e.com 中.中.com ver.veö.com a.b.c.d.e.f.g.h")
def test_same_urls_as_twitter_texts_regular_expression(text: str) -> None:
    ours = [(u.url, u.start, u.end) for u in extract_urls(text)]
    assert ours == reference(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
@example("gemini://a.com/x 中https://b.org dat://c.net?x=1 ssb://d.jp")
def test_with_a_scheme_only_same_urls_as_the_regular_expression(text: str) -> None:
    scheme_only = [(u.url, u.start, u.end) for u in extract_urls(text, without_scheme=False)]
    assert scheme_only == reference(text, "x-scheme")
    mastodon = [(u.url, u.start, u.end) for u in extract_urls(text, mastodon=True)]
    assert mastodon == reference(text, "mastodon")
