"""Refusing a text far over a limit without counting all of it.

Every counter here is linear, but a megabyte still takes a second or two to weigh the way X does,
and an application that checks untrusted text should not pay that to learn that a post of 280
characters is too long. :func:`bounded_count` counts a prefix first: a prefix cut just before a
space (U+0020) measures at most what the whole text measures with every counter of
:mod:`socialkit.text`, because nothing they count as one unit (a URL, a mention, an emoji
sequence, a grapheme cluster, a normalisation sequence) can straddle such a space. So when the
prefix is already over the limit, the whole text is too, and its count is reported as a lower
bound.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

__all__ = ["bounded_count", "fits", "over_limit", "register_upper_bound"]

# Characters to count before deciding, as a multiple of the limit, plus room for one URL of the
# longest length X accepts (4,096): a text of a few times that is cheap to count in full.
_PREFIX_FACTOR = 64
_PREFIX_SLACK = 4096
# A space after one of these is part of its grapheme cluster (GB9b), so no cut there.
_PREPEND = regex.compile(r"\p{Grapheme_Cluster_Break=Prepend}")
_CUT_ATTEMPTS = 8


#: Cheap upper bounds of counters, by counter (see :func:`fits`).
_UPPER_BOUNDS: dict[Callable[[str], int], Callable[[str], int]] = {}


def register_upper_bound(count: Callable[[str], int], bound: Callable[[str], int]) -> None:
    """Declare ``bound(text) >= count(text)`` for every text, ``bound`` being much cheaper."""
    _UPPER_BOUNDS[count] = bound


def fits(text: str, count: Callable[[str], int], limit: int) -> bool:
    """True when ``count(text) <= limit`` is certain from a cheap upper bound of the counter
    (``False``: unknown, count it). The pre-flight of a post that fits, the usual case, then
    skips the exact count: X's finds the text's URLs by twitter-text's rules, which costs a
    publish more than a tenth of its CPU."""
    if count is len:
        return len(text) <= limit
    bound = _UPPER_BOUNDS.get(count)
    return bound is not None and bound(text) <= limit


def _cut(text: str, window: int) -> int | None:
    """An index ``i <= window`` with ``text[i] == " "`` at which a grapheme cluster starts."""
    end = window
    for _ in range(_CUT_ATTEMPTS):
        index = text.rfind(" ", 0, end)
        if index <= 0:
            return None
        if not _PREPEND.match(text[index - 1]):
            return index
        end = index
    return None


def bounded_count(text: str, count: Callable[[str], int], limit: int) -> tuple[int, bool]:
    """``(count(text), True)``, or ``(n, False)`` with ``limit < n <= count(text)`` when ``text``
    is far over ``limit``: then ``n`` is what a prefix of the text measures, and the message
    should say "at least n".

    ``count`` must be one of the counters of :mod:`socialkit.text` (or ``len``), or any counter
    for which a prefix that ends before a space measures no more than the whole text.
    """
    window = _PREFIX_FACTOR * max(limit, 1) + _PREFIX_SLACK
    if len(text) > 2 * window:
        cut = _cut(text, window)
        if cut is not None:
            partial = count(text[:cut])
            if partial > limit:
                return partial, False
    return count(text), True


def over_limit(text: str, count: Callable[[str], int], limit: int) -> tuple[int, bool] | None:
    """``bounded_count(text, count, limit)`` when ``text`` is over ``limit``, else ``None``;
    a text :func:`fits` shows to be within it is not counted."""
    if fits(text, count, limit):
        return None
    length, exact = bounded_count(text, count, limit)
    return (length, exact) if length > limit else None
