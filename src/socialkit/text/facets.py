"""Bluesky rich text: links, mentions and hashtags as ``app.bsky.richtext.facet`` records.

A facet marks a slice of the post text by UTF-8 byte offsets (``byteStart`` included,
``byteEnd`` excluded) and says what it is: a link (``uri``), a mention (the account's ``did``)
or a tag (``tag``, without ``#``). Bluesky shows plain text for anything without a facet, so a
client has to find them itself. This module finds them as the official TypeScript SDK
(``@atproto/api``, ``RichText.detectFacets``) does, reimplemented from its documented behaviour:

* **mentions**: ``@`` + a handle, at the start of a line or after a space or ``(``; the handle
  must end in a known TLD (or ``.test``) and be a syntactically valid handle. The handle still has
  to be resolved to a DID (``com.atproto.identity.resolveHandle``), which needs the network: pass
  a resolver to :func:`build_facets`, or call :func:`facet_records` with the DIDs you resolved.
  Mentions whose handle does not resolve are dropped, as the SDK does.
* **links**: ``http(s)://`` followed by non-space characters, or a bare domain with a known TLD
  (``example.com/path``, which becomes ``https://example.com/path``), at the start of a line or
  after a space or ``(``. One trailing ``.,;:!?`` is left out, and a trailing ``)`` when the link
  has no ``(``.
* **hashtags**: ``#`` or ``＃`` + a tag at the start of a line or after a space; the tag is not
  only digits and punctuation, loses its trailing punctuation, and is at most 64 graphemes
  (and 640 bytes, the lexicon's limits).

"Known TLD" means in the IANA root zone, as the SDK's ``tlds`` package has it: here, the ICANN
section of the Public Suffix List shipped by ``publicsuffixlist`` (released with each change of
the list, so upgrading the package brings new TLDs; nothing is downloaded at run time). It is
loaded on the first detection, not on import.

Deliberate differences from the SDK: a scheme is recognised whatever its case (the SDK drops
``HTTPS://…`` links), handles and TLDs are matched case-insensitively, and facets never overlap
(the first one wins), as the lexicon asks.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import regex

from socialkit.text.graphemes import count_graphemes, utf8_length, utf8_offsets

__all__ = [
    "FACET_LINK",
    "FACET_MENTION",
    "FACET_TAG",
    "FacetKind",
    "FacetSpan",
    "build_facets",
    "detect_facets",
    "facet_records",
    "is_tld",
    "is_valid_handle",
    "mention_handles",
]

FACET_LINK = "app.bsky.richtext.facet#link"
FACET_MENTION = "app.bsky.richtext.facet#mention"
FACET_TAG = "app.bsky.richtext.facet#tag"

FacetKind = Literal["link", "mention", "tag"]

_TAG_MAX_GRAPHEMES = 64
_TAG_MAX_BYTES = 640
_HANDLE_MAX_LENGTH = 253

_LEAD = r"(?:^|(?<=[\s(]))"
# ASCII word boundary, as JavaScript's \b (Python's \b would treat "é" as a word character).
_ASCII_BOUNDARY = r"(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))"
_MENTION = regex.compile(rf"{_LEAD}@(?P<handle>[a-zA-Z0-9.\-]+){_ASCII_BOUNDARY}", regex.MULTILINE)
_LINK = regex.compile(
    rf"{_LEAD}(?:(?P<scheme>https?://\S+)|(?P<bare>(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*))",
    regex.IGNORECASE | regex.MULTILINE,
)
_NOT_IN_TAG = r"\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20E2"
_TAG = regex.compile(
    rf"(?:^|(?<=\s))[#＃](?P<tag>(?!\uFE0F)[^{_NOT_IN_TAG}]*"
    rf"[^0-9\p{{P}}{_NOT_IN_TAG}]+[^{_NOT_IN_TAG}]*)?",
    regex.MULTILINE,
)
_TRAILING_PUNCTUATION = regex.compile(r"\p{P}+$")
_LINK_TRAILING = ".,;:!?"
# The handle syntax of the AT Protocol specification (atproto.com/specs/handle).
_HANDLE = regex.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?"
)


@dataclass(frozen=True)
class FacetSpan:
    """A facet found in a text.

    ``start``/``end`` are Python indices into the text (``text[start:end]`` is the marked
    slice), ``byte_start``/``byte_end`` the UTF-8 offsets the record uses. ``value`` is the
    link's URI, the mention's handle (lower case, without ``@``) or the tag (without ``#``).
    """

    kind: FacetKind
    start: int
    end: int
    byte_start: int
    byte_end: int
    value: str


def is_valid_handle(handle: str) -> bool:
    """Whether ``handle`` has the syntax of an AT Protocol handle (``alice.bsky.social``)."""
    return len(handle) <= _HANDLE_MAX_LENGTH and _HANDLE.fullmatch(handle) is not None


@functools.cache
def _public_suffixes() -> Any:
    """The Public Suffix List's ICANN section, as shipped inside ``publicsuffixlist`` (read from
    the package, never fetched). Loaded on first use: parsing it takes a tenth of a second."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList(only_icann=True)


def is_tld(label: str) -> bool:
    """Whether ``label`` (without a dot) is a top-level domain in the IANA root zone, ignoring
    case: ``com``, ``music``, ``kids``, ``рф`` or ``xn--p1ai`` …"""
    if not label or "." in label:
        return False
    try:
        suffix = _public_suffixes().publicsuffix("example." + label, accept_unknown=False)
    except (ValueError, UnicodeError):  # labels the list's IDNA handling refuses
        return False
    return suffix is not None


def _has_known_tld(domain: str) -> bool:
    head, dot, tld = domain.rpartition(".")
    return bool(head) and bool(dot) and is_tld(tld)


def _mentions(text: str) -> Iterable[tuple[int, int, FacetKind, str]]:
    for match in _MENTION.finditer(text):
        handle: str = match.group("handle")
        if not (_has_known_tld(handle) or handle.lower().endswith(".test")):
            continue
        if not is_valid_handle(handle):
            continue
        yield match.start(), match.end(), "mention", handle.lower()


def _links(text: str) -> Iterable[tuple[int, int, FacetKind, str]]:
    for match in _LINK.finditer(text):
        start, end = match.start(), match.end()
        if match.group("scheme") is not None:
            uri: str = match.group("scheme")
        else:
            if not _has_known_tld(match.group("domain")):
                continue
            uri = "https://" + match.group("bare")
        if uri[-1] in _LINK_TRAILING:
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        yield start, end, "link", uri


def _tags(text: str) -> Iterable[tuple[int, int, FacetKind, str]]:
    for match in _TAG.finditer(text):
        raw: str | None = match.group("tag")
        if not raw:
            continue
        tag = _TRAILING_PUNCTUATION.sub("", raw.strip())
        if not tag or count_graphemes(tag) > _TAG_MAX_GRAPHEMES:
            continue
        if utf8_length(tag) > _TAG_MAX_BYTES:
            continue
        start = match.start()
        yield start, start + 1 + len(tag), "tag", tag


def detect_facets(text: str) -> list[FacetSpan]:
    """Every link, mention and hashtag in ``text``, in text order, without overlaps."""
    found = [*_mentions(text), *_links(text), *_tags(text)]
    found.sort(key=lambda item: (item[0], -item[1]))
    offsets = utf8_offsets(text)
    spans: list[FacetSpan] = []
    last_end = 0
    for start, end, kind, value in found:
        if start < last_end or end <= start:
            continue
        spans.append(FacetSpan(kind, start, end, offsets[start], offsets[end], value))
        last_end = end
    return spans


def mention_handles(spans: Iterable[FacetSpan]) -> list[str]:
    """The distinct handles mentioned, in order of first mention: what needs resolving."""
    seen: dict[str, None] = {}
    for span in spans:
        if span.kind == "mention":
            seen.setdefault(span.value, None)
    return list(seen)


def _record(span: FacetSpan, feature: dict[str, str]) -> dict[str, Any]:
    return {
        "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
        "features": [feature],
    }


def facet_records(
    spans: Iterable[FacetSpan], dids: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` objects for ``spans``.

    ``dids`` maps handles (lower case) to DIDs; a mention whose handle is not in it is left out
    (its text stays plain), as the official SDK does with handles that do not resolve.
    """
    resolved = {k.lower(): v for k, v in (dids or {}).items()}
    records: list[dict[str, Any]] = []
    for span in spans:
        if span.kind == "link":
            records.append(_record(span, {"$type": FACET_LINK, "uri": span.value}))
        elif span.kind == "tag":
            records.append(_record(span, {"$type": FACET_TAG, "tag": span.value}))
        else:
            did = resolved.get(span.value)
            if did:
                records.append(_record(span, {"$type": FACET_MENTION, "did": did}))
    return records


async def build_facets(
    text: str, resolve_handle: Callable[[str], Awaitable[str | None]]
) -> list[dict[str, Any]]:
    """Detect the facets of ``text`` and resolve its mentions with ``resolve_handle``.

    ``resolve_handle`` receives a handle (lower case, without ``@``) and returns its DID, or
    ``None`` when the handle does not exist; each handle is resolved once. Errors it raises
    propagate.
    """
    spans = detect_facets(text)
    dids: dict[str, str] = {}
    for handle in mention_handles(spans):
        did = await resolve_handle(handle)
        if did:
            dids[handle] = did
    return facet_records(spans, dids)
