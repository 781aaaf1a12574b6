"""Finding URLs in post text the way X (twitter-text) and Mastodon do.

Written here rather than taken from a package: the only Python port of twitter-text on PyPI that
follows the current rules (``twitter-text-parser`` 3.0.0, last released in May 2023) passes the
conformance suite, but it loads its data through ``pkg_resources``, which current setuptools no
longer ship (``import twitter_text`` fails in a fresh environment), ships emoji data from Unicode
12 and has no type information; the older ports (``twitter-text`` 3.0, ``twitter-text-py``,
``ttext``) predate the weighted 280-character rules. This module follows twitter-text's
``extractUrlsWithIndices`` and passes every URL case of its conformance suite
(``conformance/extract.yml``, ``tlds.yml``; ``tests/text/test_twitter_text_conformance.py``);
Mastodon reuses those rules with its own scheme list and path characters
(``config/initializers/twitter_regex.rb`` in mastodon/mastodon).

The rules, in short:

* a URL may not follow an ASCII letter or digit, ``@``, ``$``, ``#`` (or their full-width forms);
* the host is a run of dot-separated labels ending in a known TLD (see ``_tlds``) or a
  punycode label, each label at most 63 characters once punycode-encoded, the whole URL at most
  4,096; a host that starts with ``xn--`` must contain an ASCII domain;
* without a scheme, only the ASCII part of the host counts (``日本語example.com`` links
  ``example.com``), and a host right after ``-``, ``_``, ``.`` or ``/`` is not a link;
* the path keeps balanced parentheses and drops trailing punctuation; the query must end in a
  letter, digit or one of ``-_&=#/``; a ``t.co`` link ends after its slug (at most 40
  characters, or it is no link).

twitter-text finds hosts with nested regular expressions that backtrack, which takes quadratic
time on long runs of labels (``a.a.a.a…``); here the labels of a run are parsed once and the
longest host from each label is found by one pass from the right (:class:`_Region`), so
extraction is linear in the length of the text, with the same results.

Indices are Python string indices (code points), end exclusive.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Any

import regex

from socialkit.text._tlds import COUNTRY_TLDS, GENERIC_TLDS

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


def _chars(*ranges: tuple[int, int]) -> frozenset[str]:
    return frozenset(chr(code) for first, last in ranges for code in range(first, last + 1))


# Characters that may not be part of a host label (the complement of ``_DOMAIN_CHAR``): a set
# look-up is cheaper than a regex call per character in the scanners below.
_NOT_DOMAIN = frozenset("!'#%&()*+,\\-./:;<=>?@[]^_{|}~$") | _chars(
    (0x09, 0x0D),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x180E, 0x180E),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
    (0xFFFE, 0xFFFF),
    (0xFEFF, 0xFEFF),
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2066, 0x2069),
)
# Characters of the labels of twitter-text's ``validAsciiDomain`` (case-insensitive).
_ASCII_LABEL = frozenset(
    "-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
) | _chars(
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0xFF),
    (0x100, 0x24F),
    (0x253, 0x254),
    (0x256, 0x257),
    (0x259, 0x259),
    (0x25B, 0x25B),
    (0x263, 0x263),
    (0x268, 0x268),
    (0x26F, 0x26F),
    (0x272, 0x272),
    (0x289, 0x289),
    (0x28B, 0x28B),
    (0x2BB, 0x2BB),
    (0x300, 0x36F),
    (0x1E00, 0x1EFF),
)


_TLD_NAMES = frozenset(GENERIC_TLDS) | frozenset(COUNTRY_TLDS)
_MAX_TLD_LENGTH = max(len(name) for name in _TLD_NAMES)
_MIN_TLD_LENGTH = min(len(name) for name in _TLD_NAMES)
_TLD_STOP = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ@+-")
_PUNYCODE_TLD = regex.compile(r"xn--[\-0-9a-z]++", regex.IGNORECASE)
_TLD_RUN = regex.compile(r"[0-9A-Za-z@+\-]*+")


def _tld_end(text: str, start: int) -> int | None:
    """End of the TLD that starts ``text`` at ``start``, or ``None``.

    twitter-text's ``(?:gTLD|ccTLD)(?=[^0-9a-zA-Z@+-]|$)`` (case-insensitive) or ``xn--…``: its
    list is sorted so that a TLD is tried before its own prefixes, so the longest listed name
    followed by an allowed character wins. Looked up in a set, a few probes per label, rather
    than with a 1,500-name alternation, which costs more per call than the rest of a label.
    """
    size = len(text)
    dot = text.find(".", start, start + _MAX_TLD_LENGTH + 1)
    reach = (dot if dot >= 0 else min(size, start + _MAX_TLD_LENGTH)) - start
    if reach >= _MIN_TLD_LENGTH:
        chunk = text[start : start + reach]
        if chunk.isascii():
            # Only the whole run of [0-9A-Za-z@+-] can be followed by an allowed character,
            # and no ASCII TLD holds another character: one probe.
            run: int = _TLD_RUN.match(chunk).end()
            if run >= _MIN_TLD_LENGTH and chunk[:run].lower() in _TLD_NAMES:
                after = start + run
                if after == size or text[after] not in _TLD_STOP:
                    return after
            return _punycode_tld_end(text, start)
        folded = chunk.lower()
        if len(folded) != len(chunk):  # a character whose lower case is longer
            folded = "".join(char.lower()[0] for char in chunk)
        for length in range(reach, _MIN_TLD_LENGTH - 1, -1):
            if folded[:length] in _TLD_NAMES:
                after = start + length
                if after == size or text[after] not in _TLD_STOP:
                    return after
    return _punycode_tld_end(text, start)


def _punycode_tld_end(text: str, start: int) -> int | None:
    if not text.startswith(("xn--", "XN--", "Xn--", "xN--"), start):
        return None
    punycode = _PUNYCODE_TLD.match(text, start)
    return None if punycode is None else punycode.end()


_VALID_BEFORE = rf"(?<![A-Za-z0-9@＠$#＃{_INVALID}])"
_TWITTER_SCHEMES = r"https?://"
_MASTODON_SCHEMES = r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
# Where a URL may start: a scheme, or (X) a character that can start a host; either one after a
# character that may precede a URL (twitter-text's ``validUrlPrecedingChars``).
_X_START = regex.compile(
    rf"{_VALID_BEFORE}(?:(?P<proto>{_TWITTER_SCHEMES})|(?={_DOMAIN_CHAR}))", regex.IGNORECASE
)
_X_SCHEME_START = regex.compile(rf"{_VALID_BEFORE}(?P<proto>{_TWITTER_SCHEMES})", regex.IGNORECASE)
_MASTODON_START = regex.compile(rf"{_VALID_BEFORE}(?P<proto>{_MASTODON_SCHEMES})", regex.IGNORECASE)
# A character that is neither a host character nor one of "-_.": it ends a run of labels.
_REGION_STOP = regex.compile(
    rf"[!'#%&()*+,\\/:;<=>?@\[\]^{{|}}~${_SPACES}{_INVALID}{_DIRECTIONAL}]"
)
_REGION = regex.compile(rf"(?:{_DOMAIN_CHAR}|[\-_.])*+")
_REGION_BACKWARDS = regex.compile(rf"(?:{_DOMAIN_CHAR}|[\-_.])*+", regex.REVERSE)
_PLAIN_ASCII_HOST = regex.compile(r"[\-A-Za-z0-9.]+")
_ASCII_REGION = regex.compile(rf"[\-a-z0-9.{_LATIN_ACCENTS}]*+", regex.IGNORECASE)
_PORT = regex.compile(r":([0-9]++)")

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
    rf"https?://t\.co/([a-z0-9]+)(?:\?{_X_QUERY_CHAR.pattern}*{_X_QUERY_END.pattern})?",
    regex.IGNORECASE,
)

_LONGEST_SCHEME = len("gemini://")
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_MAX_TCO_SLUG_LENGTH = 40


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
        self.path_run = regex.compile(rf"{path_char.pattern}*+", path_char.flags)
        self.query_run = regex.compile(rf"{query_char.pattern}*+", query_char.flags)


_X = _Flavour(_X_PATH_CHAR, _X_PATH_END, _X_PARENS, _X_QUERY_CHAR, _X_QUERY_END)
_MASTODON = _Flavour(_M_PATH_CHAR, _M_PATH_END, _M_PARENS, _M_QUERY_CHAR, _M_QUERY_END)


class _Region:
    """The dot-separated labels of one run of host characters, and for each label the end of
    the longest host that starts there.

    twitter-text's host is ``subdomain* domain_name tld``: subdomain labels are host characters
    with inner ``-``/``_``, the domain name's label has no ``_``, and the TLD (a known name
    followed by no ASCII letter, digit, ``@``, ``+`` or ``-``, or ``xn--…``) starts the label
    after it. Its regular expression prefers as many subdomains as possible; ``best[k]`` is that
    choice for a host starting at label ``k``, computed right to left in one pass.
    ``ascii_only`` applies ``validAsciiDomain`` instead: labels of ASCII letters, digits, ``-``
    and Latin accents, then a TLD.
    """

    def __init__(self, text: str, start: int, end: int, *, ascii_only: bool) -> None:
        self.text = text
        self.end = end
        self.ascii_only = ascii_only
        self.starts: list[int] = []
        self.ends: list[int] = []
        pos = start
        while True:
            dot = text.find(".", pos, end)
            self.starts.append(pos)
            if dot < 0:
                self.ends.append(end)
                break
            self.ends.append(dot)
            pos = dot + 1
        count = len(self.starts)
        self.last = count - 1
        self.tld_end: list[int | None] = [None] * count
        for k in range(1, count):
            # Looked for in the whole text: the TLD's look-ahead sees what follows the region,
            # and an IDN TLD may follow an ASCII domain's dot.
            self.tld_end[k] = _tld_end(text, self.starts[k])
        self.last_underscore = [
            text.rfind("_", a, b) for a, b in zip(self.starts, self.ends, strict=True)
        ]
        self.best: list[int | None] = [None] * count
        # next_useful[k]: the first label after k in which some host can start (or None).
        self.next_useful: list[int | None] = [None] * count
        following: int | None = None
        for k in range(count - 2, -1, -1):
            self.next_useful[k] = following
            self.best[k] = self._from(self.starts[k], k)
            if self.best[k + 1] is not None or self.tld_end[k + 1] is not None:
                following = k

    def _label_ok(self, k: int) -> bool:
        """Whether label ``k`` (from any start) can be a host label: not the last one, and, for
        full hosts, ending in a host character."""
        if k >= self.last or self.starts[k] >= self.ends[k]:
            return False
        if self.ascii_only:
            return True
        tail = self.text[self.ends[k] - 1]
        return tail not in _NOT_DOMAIN

    def _from(self, start: int, k: int) -> int | None:
        """End of the longest host starting at ``start`` inside label ``k`` (``None``: none)."""
        if start >= self.ends[k] or not self._label_ok(k):
            return None
        nxt = self.best[k + 1]
        if self.ascii_only:
            return nxt if nxt is not None else self.tld_end[k + 1]
        if self.text[start] in _NOT_DOMAIN:
            return None
        if nxt is not None:
            return nxt
        if self.last_underscore[k] >= start:
            return None
        return self.tld_end[k + 1]

    def label_of(self, start: int) -> int:
        return bisect.bisect_right(self.starts, start) - 1

    def host_end(self, start: int) -> int | None:
        """End of the longest host starting at ``start`` (a position inside this region)."""
        k = self.label_of(start)
        if start == self.starts[k]:
            return self.best[k]
        return self._from(start, k)

    def next_start(self, failed: int) -> int:
        """The first position after ``failed`` (where no host starts) at which a host may
        start: every start before it fails the same way, so skipping them changes nothing."""
        k = self.label_of(failed)
        if self._label_ok(k) and self.best[k + 1] is None and self.tld_end[k + 1] is not None:
            under = self.last_underscore[k]
            if under >= failed:
                return under + 1  # only a start after the last "_" can be a domain name
        if k >= self.last:
            return self.end
        nxt = self.next_useful[k]
        # A scheme (``https://``) can only start in the last label: ":" ends the region.
        return self.starts[self.last if nxt is None else min(nxt, self.last)]


class _Regions:
    """:class:`_Region` objects of one text, each parsed once however many starts it serves."""

    def __init__(self, text: str, *, ascii_only: bool = False) -> None:
        self.text = text
        self.ascii_only = ascii_only
        self.current: _Region | None = None

    def region(self, start: int) -> _Region | None:
        region = self.current
        if region is None or not (region.starts[0] <= start < region.end):
            scan = _ASCII_REGION if self.ascii_only else _REGION
            end = scan.match(self.text, start).end()
            if end == start:
                return None
            region = self.current = _Region(self.text, start, end, ascii_only=self.ascii_only)
        return region

    def host_end(self, start: int) -> int | None:
        region = self.region(start)
        return None if region is None else region.host_end(start)


def _last_end(text: str, start: int, stop: int, ending: Any) -> int | None:
    """The end of the last character of ``text[start:stop]`` that ``ending`` matches."""
    while stop > start:
        if ending.match(text, stop - 1):
            return stop
        stop -= 1
    return None


def _scan_path(text: str, index: int, flavour: _Flavour) -> int:
    """End of the path starting with the ``/`` at ``index``: the longest run of path characters
    (balanced parentheses included) that ends in a valid ending character. Runs of path
    characters (neither flavour's include parentheses) are matched whole, then walked back to
    their last ending character."""
    end = index + 1  # a lone "/" is a valid path
    pos = index + 1
    size = len(text)
    while pos < size:
        if text[pos] == "(":
            group = flavour.parens.match(text, pos)
            if group is None:
                break
            pos = end = group.end()
            continue
        stop = flavour.path_run.match(text, pos).end()
        if stop == pos:
            break
        last = _last_end(text, pos, stop, flavour.path_end)
        if last is not None:
            end = last
        pos = stop
    return end


def _scan_query(text: str, index: int, flavour: _Flavour) -> int:
    """End of the query starting with the ``?`` at ``index``, or ``index`` when there is none."""
    stop = flavour.query_run.match(text, index + 1).end()
    last = _last_end(text, index + 1, stop, flavour.query_end)
    return index if last is None else last


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


@functools.lru_cache(maxsize=1024)
def _punycode_length(label: str) -> int:
    """Length of a non-ASCII label once punycode-encoded (``xn--`` included); cached because the
    codec is written in Python and the same host often comes back."""
    return 4 + len(label.encode("punycode"))


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """Spans of the ASCII-only domains inside ``domain`` (twitter-text's ``validAsciiDomain``,
    applied to the host alone), in order."""
    if _PLAIN_ASCII_HOST.fullmatch(domain):
        return [(0, len(domain))]  # a host that is all ASCII is its own ASCII domain
    regions = _Regions(domain, ascii_only=True)
    spans: list[tuple[int, int]] = []
    pos = 0
    size = len(domain)
    while pos < size:
        if domain[pos] not in _ASCII_LABEL:
            pos += 1
            continue
        end = regions.host_end(pos)
        if end is None:
            # Every later start in this label gives the same answer: skip to its end.
            region = regions.region(pos)
            label_end = size if region is None else region.ends[region.label_of(pos)]
            pos = max(label_end, pos + 1)
            continue
        spans.append((pos, end))
        pos = end
    return spans


def _punycode_domain_length(domain: str) -> int | None:
    """Length of the domain once IDNA-encoded, or ``None`` if a label is empty or too long
    (twitter-text refuses such a URL altogether)."""
    total = 0
    labels = domain.split(".")
    for label in labels:
        encoded = len(label) if label.isascii() else _punycode_length(label)
        if encoded == 0 or encoded > _MAX_LABEL_LENGTH:
            return None
        total += encoded
    return total + len(labels) - 1


def _is_valid_url(url: str, protocol: str, domain: str) -> bool:
    # A host written in punycode must be ASCII (twitter-text's idna.toAscii).
    if domain.startswith("xn--") and not _ascii_domains(domain):
        return False
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
    dots = _tld_dots(text)
    if not dots:
        return []
    if mastodon:
        return _Extractor(text, _MASTODON_START, _MASTODON, dots, without_scheme=False).run()
    if without_scheme:
        return _Extractor(text, _X_START, _X, dots, without_scheme=True).run()
    return _Extractor(text, _X_SCHEME_START, _X, dots, without_scheme=False).run()


def _tld_dots(text: str) -> list[int]:
    """The dots of ``text`` followed by a TLD, in order. Every host ends in such a dot and
    its TLD, so a text without one holds no URL, and no URL starts long before the run of
    labels that holds the next one (sentence ends and decimals are skipped at once)."""
    dots: list[int] = []
    dot = text.find(".")
    while dot >= 0:
        if _tld_end(text, dot + 1) is not None:
            dots.append(dot)
        dot = text.find(".", dot + 1)
    return dots


def _starts_after_first(text: str) -> bool:
    """Whether ``text[0]`` (a host character) may precede a URL and a host may start at
    ``text[1]``."""
    first = text[0]
    return (
        text[1] not in _NOT_DOMAIN
        and not (first.isascii() and first.isalnum())
        and (first not in "＠＃")
    )


def _scheme_follows(text: str, index: int) -> bool:
    """Whether ``text[index:]`` starts with ``://``."""
    return text.startswith("://", index)


class _Extractor:
    """twitter-text's ``extractUrlsWithIndices`` loop.

    twitter-text runs one regular expression over the text: at each position, a preceding
    character, an optional scheme, a host, a port, a path and a query; a match it then rejects
    (too long, a host after ``-_./`` …) still consumes its text. This does the same, with hosts
    found by :class:`_Region`, and skips the starts that must fail: a host that starts inside a
    run of host characters fails or succeeds exactly as one starting at an earlier character of
    that run (the labels after it are the same), a run without a dot holds no host, and no URL
    starts long before the run of labels that holds the next dot. ``tests/text/
    test_url_reference.py`` checks the result against twitter-text's expression run literally.
    """

    def __init__(
        self, text: str, start: Any, flavour: _Flavour, dots: list[int], *, without_scheme: bool
    ) -> None:
        self.text = text
        self.dots = dots
        self.start = start
        self.flavour = flavour
        self.without_scheme = without_scheme
        self.regions = _Regions(text)
        self.found: list[UrlMatch] = []

    def run(self) -> list[UrlMatch]:
        text = self.text
        size = len(text)
        pos = 0
        next_dot = dot_run = -1
        while pos < size:
            match = self.start.search(text, pos)
            if match is None:
                break
            begin = match.start()
            if next_dot < begin:
                at = bisect.bisect_left(self.dots, begin)
                if at == len(self.dots):
                    break  # every host has a dot before its TLD: no URL starts from here on
                next_dot = self.dots[at]
                # The run of labels holding that dot: a URL starting before it has its host
                # there, right after a scheme (at most 9 characters, "gemini://", before it).
                dot_run = _REGION_BACKWARDS.match(text, begin, next_dot).start()
            if begin < dot_run - _LONGEST_SCHEME:
                pos = dot_run - _LONGEST_SCHEME
                continue
            proto: str | None = match.group("proto")
            if proto is None and begin == 0 and size > 1 and _starts_after_first(text):
                # twitter-text tries the first character as the one before a URL before it
                # tries the start of the text (``[^A-Za-z0-9@$#…]|^``): "Àb.com" links b.com.
                match = self.start.match(text, 1)
                if match is not None:
                    begin = 1
                    proto = match.group("proto")
            if proto is None:
                # A host starting here needs a dot before the run of labels ends.
                stop = _REGION_STOP.search(text, begin, next_dot)
                if stop is not None:
                    pos = self._after_dotless_run(begin, stop.start())
                    continue
            if proto is not None:
                end = self._attempt(begin, begin + len(proto), proto)
                if end is not None:
                    pos = end + 1  # the character after a URL is the next one's "before"
                    continue
                if not self.without_scheme:
                    pos = begin + 1
                    continue
            end = self._attempt(begin, begin, None)
            if end is not None:
                pos = end + 1
                continue
            pos = self._after_failed_host(begin)
        return self.found

    def _after_dotless_run(self, begin: int, stop: int) -> int:
        """Where to search after the run of labels ``begin``…``stop`` that has no dot: a scheme
        that ends it (``日本https://``), else past it."""
        if _scheme_follows(self.text, stop):
            window = max(begin + 1, stop - 5)
            scheme = _X_SCHEME_START.search(self.text, window, stop + 3)
            if scheme is not None:
                return int(scheme.start())
        return stop + 1

    def _after_failed_host(self, begin: int) -> int:
        """Where to search after no host starts at ``begin``: the next position where one may
        (see :meth:`_Region.next_start`), or a scheme before it (``日本https://…``)."""
        region = self.regions.region(begin)
        if region is None:  # pragma: no cover - begin is a host character
            return begin + 1
        target = region.next_start(begin)
        if target >= region.end:
            window = max(begin + 1, region.end - 5)
            scheme = _X_SCHEME_START.search(self.text, window, min(region.end + 3, len(self.text)))
            if scheme is not None:
                return int(scheme.start())
        return max(target, begin + 1)

    def _attempt(self, begin: int, host_start: int, proto: str | None) -> int | None:
        """Match a URL whose host starts at ``host_start``; record it if valid. Returns the end
        of the text the match consumed, or ``None`` when nothing matches there."""
        text = self.text
        size = len(text)
        host_end = self.regions.host_end(host_start)
        if host_end is None:
            return None
        end = host_end
        port = _PORT.match(text, end)
        if port is not None:
            end = port.end()
        has_path = end < size and text[end] == "/"
        if has_path:
            end = _scan_path(text, end, self.flavour)
        if end < size and text[end] == "?":
            end = _scan_query(text, end, self.flavour)
        url = text[begin:end]
        domain = text[host_start:host_end]
        if not _is_valid_url(url, proto or "https://", domain):
            return end
        if proto is None:
            if begin > 0 and text[begin - 1] in "-_./":
                return end
            self._without_scheme(begin, domain, end, has_path)
            return end
        tco = _TCO.match(url)
        if tco is not None:
            if len(tco.group(1)) > _MAX_TCO_SLUG_LENGTH:
                return end
            # A t.co link ends after its slug (and query), whatever follows.
            url = tco.group()
            self.found.append(UrlMatch(url, begin, begin + len(url), True))
            return end
        self.found.append(UrlMatch(url, begin, end, True))
        return end

    def _without_scheme(self, begin: int, domain: str, end: int, has_path: bool) -> None:
        spans = _ascii_domains(domain)
        for index, (a_start, a_end) in enumerate(spans):
            start = begin + a_start
            stop = begin + a_end
            if has_path and index == len(spans) - 1:
                stop = end  # the path and query go with the last ASCII domain
            self.found.append(UrlMatch(self.text[start:stop], start, stop, False))


def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of everything that looks like a URL to any network: X's rules (with and without a
    scheme), Mastodon's, and any ``scheme://`` run of non-space characters. Used to keep URLs
    whole when splitting text."""
    spans = [(m.start, m.end) for m in extract_urls(text)]
    spans += [(m.start, m.end) for m in extract_urls(text, mastodon=True)]
    spans += _any_scheme_spans(text)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_SEPARATOR = regex.compile(r"://\S")
_NON_SPACE_RUN = regex.compile(r"\S*+")


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _any_scheme_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``[A-Za-z][A-Za-z0-9+.-]*://\\S+`` not preceded by a letter or digit.

    Scanned from each ``://`` backwards rather than with that regular expression, which tries
    every letter of a long run of scheme characters and so takes quadratic time.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _SEPARATOR.finditer(text):
        sep = match.start()
        if sep < pos:
            continue
        first = sep
        while first > pos and text[first - 1] in _SCHEME_CHARS:
            first -= 1
        start = None
        for index in range(first, sep):
            before = text[index - 1] if index else " "
            if text[index].isascii() and text[index].isalpha() and not _is_ascii_alnum(before):
                start = index
                break
        if start is None:
            continue
        end = _NON_SPACE_RUN.match(text, sep + 3).end()
        spans.append((start, end))
        pos = end
    return spans
