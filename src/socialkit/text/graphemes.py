"""Lengths in the units networks count: grapheme clusters, UTF-8 bytes, UTF-16 code units.

* Bluesky limits a post to 300 graphemes and 3,000 UTF-8 bytes, and indexes facets in bytes.
* Mastodon counts grapheme clusters (see :mod:`socialkit.text.mastodon`).
* Telegram counts UTF-16 code units, and its entity offsets are UTF-16 offsets.

Grapheme clusters are the Unicode extended grapheme clusters matched by the ``regex`` module's
``\\X`` (a flag, a family emoji, ``e`` + a combining accent are one each).
"""

from __future__ import annotations

import bisect
from itertools import accumulate

import regex

from socialkit.text._bounds import register_upper_bound

__all__ = [
    "count_graphemes",
    "grapheme_boundaries",
    "graphemes",
    "index_at_offset",
    "utf16_length",
    "utf16_offsets",
    "utf8_length",
    "utf8_offsets",
]

_GRAPHEME = regex.compile(r"\X", regex.V1)


def graphemes(text: str) -> list[str]:
    """The grapheme clusters of ``text``, in order."""
    return list(_GRAPHEME.findall(text))


def count_graphemes(text: str) -> int:
    """The number of grapheme clusters in ``text`` (what Bluesky and Mastodon count)."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


# A grapheme cluster holds at least one code point.
register_upper_bound(count_graphemes, len)


def grapheme_boundaries(text: str) -> list[int]:
    """Every index of ``text`` (code points) at which a grapheme cluster starts, and ``len(text)``.

    Cutting the text only at these indices never splits a cluster.
    """
    bounds = [m.start() for m in _GRAPHEME.finditer(text)]
    bounds.append(len(text))
    return bounds


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes (Bluesky's ``maxLength`` unit)."""
    return len(text.encode("utf-8", "surrogatepass"))


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (Telegram's unit)."""
    # Encoded in C; "surrogatepass" counts an unpaired surrogate as the one unit it is.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _offsets(text: str, *, utf8: bool) -> list[int]:
    if utf8:
        sizes = (len(char.encode("utf-8", "surrogatepass")) for char in text)
    else:
        sizes = (2 if ord(char) > 0xFFFF else 1 for char in text)
    return [0, *accumulate(sizes)]


def utf8_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-8 byte offset of ``text[i]`` (``offsets[len(text)]`` the total)."""
    return _offsets(text, utf8=True)


def utf16_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-16 offset of ``text[i]`` (``offsets[len(text)]`` the total)."""
    return _offsets(text, utf8=False)


def index_at_offset(offsets: list[int], offset: int) -> int:
    """The code point index whose offset (UTF-8 or UTF-16, as ``offsets``) is ``offset``.

    Raises ``ValueError`` when ``offset`` falls inside a character.
    """
    index = bisect.bisect_left(offsets, offset)
    if index >= len(offsets) or offsets[index] != offset:
        raise ValueError(f"offset {offset} is not on a character boundary")
    return index
