"""Text rules: lengths as each network counts them, Bluesky facets, thread splitting.

* X: :func:`count_x` / :func:`parse_x` (weighted length, URLs as 23, emoji as 2),
  :func:`x_invalid_characters` (what X refuses in a post).
* Bluesky: :func:`count_graphemes` and :func:`utf8_length` (300 graphemes, 3,000 bytes),
  :func:`detect_facets` / :func:`build_facets` for links, mentions and hashtags.
* Mastodon: :func:`count_mastodon` (URLs as 23, remote mentions by their local part).
* Telegram: :func:`utf16_length`.
* Threads: :func:`split_thread` with any of the counting functions.
* Pre-flight: :func:`bounded_count` refuses a text far over a limit from a prefix.

Every counter and extractor here takes time linear in the length of the text.

This is a core module: it imports nothing from the adapters.
"""

from __future__ import annotations

from socialkit.text._bounds import bounded_count
from socialkit.text._urls import UrlMatch, extract_urls, url_spans
from socialkit.text.facets import (
    FACET_LINK,
    FACET_MENTION,
    FACET_TAG,
    FacetKind,
    FacetSpan,
    build_facets,
    detect_facets,
    facet_records,
    is_valid_handle,
    mention_handles,
)
from socialkit.text.graphemes import (
    count_graphemes,
    grapheme_boundaries,
    graphemes,
    index_at_offset,
    utf8_length,
    utf8_offsets,
    utf16_length,
    utf16_offsets,
)
from socialkit.text.mastodon import (
    MASTODON_CHARACTERS_PER_URL,
    count_mastodon,
    mastodon_countable_text,
)
from socialkit.text.split import DEFAULT_NUMBERING, UnsplittableTextError, split_thread
from socialkit.text.x import (
    X_CONFIG_V3,
    XConfig,
    XInvalidCharacter,
    XParseResult,
    XWeightRange,
    count_x,
    parse_x,
    x_invalid_characters,
)

__all__ = [
    "DEFAULT_NUMBERING",
    "FACET_LINK",
    "FACET_MENTION",
    "FACET_TAG",
    "FacetKind",
    "FacetSpan",
    "MASTODON_CHARACTERS_PER_URL",
    "UnsplittableTextError",
    "UrlMatch",
    "XConfig",
    "XInvalidCharacter",
    "XParseResult",
    "XWeightRange",
    "X_CONFIG_V3",
    "bounded_count",
    "build_facets",
    "count_graphemes",
    "count_mastodon",
    "count_x",
    "detect_facets",
    "extract_urls",
    "facet_records",
    "grapheme_boundaries",
    "graphemes",
    "index_at_offset",
    "is_valid_handle",
    "mastodon_countable_text",
    "mention_handles",
    "parse_x",
    "split_thread",
    "url_spans",
    "utf16_length",
    "utf16_offsets",
    "utf8_length",
    "utf8_offsets",
    "x_invalid_characters",
]
