"""Finding URLs in post text the way X (twitter-text) and Mastodon do.

Written here rather than taken from a package: the only Python port of twitter-text on PyPI
(``twitter-text-parser`` 3.0.0, last released 2023) loads its data through ``pkg_resources``
(gone from current setuptools), ships emoji data from Unicode 12 and has no type information.
This module follows the extraction rules twitter-text documents in its conformance suite
(``conformance/validate.yml``, ``extract.yml``); Mastodon reuses those rules with its own scheme
list and path characters (``config/initializers/twitter_regex.rb`` in mastodon/mastodon).

The rules, in short:

* a URL may not follow a letter, a digit, ``@``, ``$`` or ``#``;
* the host is a run of dot-separated labels ending in a known TLD (see ``_tlds``) or a
  punycode label, each label at most 63 characters once punycode-encoded, the whole URL at most
  4,096;
* without a scheme, only the ASCII part of the host counts, a host right after ``-``, ``_``,
  ``.`` or ``/`` is not a link, and ``name.cc`` with a country TLD (``foo.jp``) is a link only
  with a path (``t.co`` and ``*.tv`` excepted);
* the path keeps balanced parentheses and drops trailing punctuation; the query must end in a
  letter, digit or one of ``-_&=#/``.

Indices are Python string indices (code points), end exclusive.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import regex

from socialkit.text._tlds import COUNTRY_TLDS, GENERIC_TLDS, SPECIAL_SHORT_CCTLDS

__all__ = ["UrlMatch", "extract_urls", "url_spans"]

# --- character classes (twitter-text's names, rewritten as Python regex classes) -----------------

_PUNCT = r"!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACES = r"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID = r"\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL = r"\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069"
_LATIN_ACCENTS = (
    r"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"
)
_CYRILLIC = r"\u0400-\u04FF"
_DOMAIN_CHAR = rf"[^{_PUNCT}{_SPACES}{_INVALID}{_DIRECTIONAL}]"


def _trie(words: list[str]) -> str:
    """One alternation of ``words`` as a prefix tree: a flat alternation of 1,500 TLDs would be
    tried name by name at every candidate position."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = [regex.escape(char) + render(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(tree)


def _tld_alternation() -> str:
    return _trie(sorted(GENERIC_TLDS | COUNTRY_TLDS))


_TLD = rf"(?:(?:{_tld_alternation()})(?=[^a-zA-Z0-9@+\-]|$)|xn--[\-0-9a-z]+)"

# Labels are matched possessively (``++``) and their ends checked with look-arounds: the nested
# quantifiers of twitter-text's own expressions backtrack quadratically on long runs of letters.
_SUBDOMAIN = rf"(?:{_DOMAIN_CHAR}(?:[_\-]|{_DOMAIN_CHAR})*+(?<![_\-])\.)"
_DOMAIN_NAME = rf"(?:{_DOMAIN_CHAR}(?:-|{_DOMAIN_CHAR})*+(?<!-)\.)"
_DOMAIN = rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}{_TLD})"

_PRECEDING = rf"(?<![A-Za-z0-9@＠$#＃{_INVALID}])"
_TWITTER_SCHEMES = r"https?://"
_MASTODON_SCHEMES = r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"


def _url_pattern(schemes: str, *, scheme_required: bool) -> Any:
    if scheme_required:
        head = rf"(?P<proto>{schemes})"
    else:
        # Without a scheme, start only where a host can start: twitter-text also tries every
        # later position of the same run, and hosts after "-_./" (which it then rejects); that
        # finds nothing more but costs quadratic time.
        head = rf"(?:(?P<proto>{schemes})|(?<!{_DOMAIN_CHAR}|[\-_./]))"
    return regex.compile(
        rf"{_PRECEDING}{head}(?P<domain>{_DOMAIN})(?::(?P<port>[0-9]++))?",
        regex.IGNORECASE | regex.V0,
    )


# Compiled on first use: the TLD alternation makes each of these take a tenth of a second.
@functools.cache
def _pattern(kind: str) -> Any:
    if kind == "x":
        return _url_pattern(_TWITTER_SCHEMES, scheme_required=False)
    if kind == "x-scheme":
        return _url_pattern(_TWITTER_SCHEMES, scheme_required=True)
    if kind == "mastodon":
        return _url_pattern(_MASTODON_SCHEMES, scheme_required=True)
    return regex.compile(  # "ascii-domain"
        rf"(?:[\-a-z0-9{_LATIN_ACCENTS}]++\.)+{_TLD}", regex.IGNORECASE | regex.V0
    )


# Path and query characters (``valid_general_url_path_chars`` and friends).
_X_PATH_CHAR = regex.compile(
    rf"[a-z{_CYRILLIC}0-9!*';:=+,.$/%#\[\]\-\u2013_~|&@{_LATIN_ACCENTS}]", regex.IGNORECASE
)
_X_PATH_END = regex.compile(rf"[+\-a-z{_CYRILLIC}0-9=_#/{_LATIN_ACCENTS}]", regex.IGNORECASE)
_X_QUERY_CHAR = regex.compile(r"[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]", regex.IGNORECASE)
_X_QUERY_END = regex.compile(r"[a-z0-9\-_&=#/]", regex.IGNORECASE)

_UCHARS = (
    r"\xA0-\uD7FF\uF900-\uFDCF\uFDF0-\uFFEF\U00010000-\U0001FFFD\U00020000-\U0002FFFD"
    r"\U00030000-\U0003FFFD\U00040000-\U0004FFFD\U00050000-\U0005FFFD\U00060000-\U0006FFFD"
    r"\U00070000-\U0007FFFD\U00080000-\U0008FFFD\U00090000-\U0009FFFD\U000A0000-\U000AFFFD"
    r"\U000B0000-\U000BFFFD\U000C0000-\U000CFFFD\U000D0000-\U000DFFFD\U000E1000-\U000EFFFD"
    r"\uE000-\uF8FF\U000F0000-\U000FFFFD\U00100000-\U0010FFFD"
)
_M_PATH_CHAR = regex.compile(r"[^\p{White_Space}<>()?]")
_M_PATH_END = regex.compile(r"[^\p{White_Space}()?!*\"'「」<>;:=,.$%\[\]~&|@]")
_M_QUERY_CHAR = regex.compile(rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]", regex.IGNORECASE)
_M_QUERY_END = regex.compile(rf"[a-z0-9_&=#/\-{_UCHARS}]", regex.IGNORECASE)


def _balanced_parens(path_char: Any) -> Any:
    g = path_char.pattern
    return regex.compile(rf"\((?:{g}++|{g}*+\({g}++\){g}*+)\)", path_char.flags)


_X_PARENS = _balanced_parens(_X_PATH_CHAR)
_M_PARENS = _balanced_parens(_M_PATH_CHAR)

_TCO = regex.compile(
    rf"https?://t\.co/[a-z0-9]+(?:\?{_X_QUERY_CHAR.pattern}*{_X_QUERY_END.pattern})?",
    regex.IGNORECASE,
)

_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63


@dataclass(frozen=True)
class UrlMatch:
    """A URL found in a text: ``text[start:end] == url``."""

    url: str
    start: int
    end: int
    has_scheme: bool


class _Flavour:
    def __init__(
        self, path_char: Any, path_end: Any, parens: Any, query_char: Any, query_end: Any
    ) -> None:
        self.path_char = path_char
        self.path_end = path_end
        self.parens = parens
        self.query_char = query_char
        self.query_end = query_end


_X = _Flavour(_X_PATH_CHAR, _X_PATH_END, _X_PARENS, _X_QUERY_CHAR, _X_QUERY_END)
_MASTODON = _Flavour(_M_PATH_CHAR, _M_PATH_END, _M_PARENS, _M_QUERY_CHAR, _M_QUERY_END)


def _scan_path(text: str, index: int, flavour: _Flavour) -> int:
    """End of the path starting with the ``/`` at ``index``: the longest run of path characters
    (balanced parentheses included) that ends in a valid ending character."""
    end = index + 1  # a lone "/" is a valid path
    pos = index + 1
    size = len(text)
    while pos < size:
        char = text[pos]
        if char == "(":
            group = flavour.parens.match(text, pos)
            if group is None:
                break
            pos = end = group.end()
            continue
        if not flavour.path_char.match(char):
            break
        pos += 1
        if flavour.path_end.match(char):
            end = pos
    return end


def _scan_query(text: str, index: int, flavour: _Flavour) -> int:
    """End of the query starting with the ``?`` at ``index``, or ``index`` when there is none."""
    end = index
    pos = index + 1
    size = len(text)
    while pos < size and flavour.query_char.match(text[pos]):
        pos += 1
        if flavour.query_end.match(text[pos - 1]):
            end = pos
    return end


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _punycode_domain_length(domain: str) -> int | None:
    """Length of the domain once IDNA-encoded, or ``None`` if a label is too long (twitter-text
    refuses such a URL altogether)."""
    total = 0
    labels = domain.split(".")
    for label in labels:
        if label.isascii():
            encoded = len(label)
        else:
            try:
                encoded = 4 + len(label.encode("punycode"))
            except UnicodeError:  # pragma: no cover - punycode encodes any code point
                return None
        if encoded == 0 or encoded > _MAX_LABEL_LENGTH:
            return None
        total += encoded
    return total + len(labels) - 1


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    encoded = _punycode_domain_length(domain)
    if encoded is None:
        return False
    length = _utf16_length(url) + encoded - _utf16_length(domain)
    return len(protocol) + length <= _MAX_URL_LENGTH


def extract_urls(
    text: str, *, without_scheme: bool = True, mastodon: bool = False
) -> list[UrlMatch]:
    """Every URL in ``text``, in order, without overlaps.

    ``without_scheme`` also finds hosts written without ``https://`` (X does; Mastodon does not).
    ``mastodon`` applies Mastodon's variant of the rules (more schemes, any non-space character in
    the path); it implies ``without_scheme=False``.
    """
    if "." not in text:
        return []
    if mastodon:
        pattern, flavour = _pattern("mastodon"), _MASTODON
    elif without_scheme:
        pattern, flavour = _pattern("x"), _X
    else:
        pattern, flavour = _pattern("x-scheme"), _X
    found: list[UrlMatch] = []
    pos = 0
    size = len(text)
    while True:
        match = pattern.search(text, pos)
        if match is None:
            break
        start = match.start()
        end = match.end()
        has_path = end < size and text[end] == "/"
        if has_path:
            end = _scan_path(text, end, flavour)
        if end < size and text[end] == "?":
            end = _scan_query(text, end, flavour)
        pos = max(end, match.end(), start + 1)
        protocol: str | None = match.group("proto")
        domain: str = match.group("domain")
        url = text[start:end]
        if not _is_valid_url(url, protocol or "https://", domain):
            continue
        if protocol is None:
            found.extend(_without_scheme(text, match, end, has_path))
            continue
        # A t.co link ends after its slug (and query), whatever follows.
        tco = _TCO.match(url)
        if tco is not None:
            end = start + tco.end()
            url = tco.group()
        found.append(UrlMatch(url, start, end, True))
    return found


def _without_scheme(text: str, match: Any, end: int, has_path: bool) -> list[UrlMatch]:
    start = match.start()
    if start > 0 and text[start - 1] in "-_./":
        return []
    domain_start = match.start("domain")
    domain: str = match.group("domain")
    results: list[UrlMatch] = []
    last: UrlMatch | None = None
    for ascii_match in _pattern("ascii-domain").finditer(domain):
        ascii_domain: str = ascii_match.group()
        a_start = domain_start + ascii_match.start()
        a_end = domain_start + ascii_match.end()
        last = UrlMatch(ascii_domain, a_start, a_end, False)
        labels = ascii_domain.split(".")
        tld = labels[-1].casefold()
        short_cc = len(labels) == 2 and tld in COUNTRY_TLDS and tld not in SPECIAL_SHORT_CCTLDS
        if has_path or not short_cc:
            results.append(last)
    if last is None:
        return []
    if has_path and results and results[-1] is last:
        results[-1] = UrlMatch(text[last.start : end], last.start, end, False)
    return results


def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of everything that looks like a URL to any network: X's rules (with and without a
    scheme), Mastodon's, and any ``scheme://`` run of non-space characters. Used to keep URLs
    whole when splitting text."""
    spans = [(m.start, m.end) for m in extract_urls(text)]
    spans += [(m.start, m.end) for m in extract_urls(text, mastodon=True)]
    spans += [(m.start(), m.end()) for m in _ANY_SCHEME.finditer(text)]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


_ANY_SCHEME = regex.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9+.\-]*://\S+")
