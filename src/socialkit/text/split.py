"""Splitting a long text into a thread of posts that each fit a network's limit.

:func:`split_thread` measures with any counting function (:func:`~socialkit.text.count_x`,
:func:`~socialkit.text.count_graphemes`, :func:`~socialkit.text.count_mastodon`, ``len`` …), so
each network's own rules decide what fits. It cuts, in order of preference, between paragraphs
(blank lines), then between sentences, then between words, and only as a last resort inside a
long word, at a grapheme cluster boundary. It never cuts inside a URL or inside a grapheme cluster
(an emoji sequence, a letter with its accents). Each post is filled greedily.

Whitespace at the cut is dropped and each post is stripped; whitespace inside a post is kept as
written. With ``numbering``, every post of a thread of two or more ends with a suffix such as
`` (2/5)``, counted in the limit.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

import regex

from socialkit.text._urls import url_spans
from socialkit.text.graphemes import grapheme_boundaries

__all__ = ["DEFAULT_NUMBERING", "UnsplittableTextError", "split_thread"]

DEFAULT_NUMBERING = " ({index}/{total})"
"""The default numbering suffix; ``{index}`` and ``{total}`` are filled in."""

_PARAGRAPH_BREAK = regex.compile(r"\n[^\S\n]*\n\s*")
# End of a sentence: terminal punctuation, optional closing quotes or brackets, then spaces; or
# an ideographic full stop / full-width mark, which needs no space after it.
_SENTENCE_BREAK = regex.compile(r"(?<=[.!?…‼⁉][\"'”’)\]»]*)\s+|(?<=[。！？][\"'”’)\]」』»]*)\s*")
_WORD_BREAK = regex.compile(r"\s+")


class UnsplittableTextError(ValueError):
    """A piece of text that may not be cut (a URL, one grapheme cluster) is longer than the limit
    on its own, so no thread can carry the text."""

    def __init__(self, token: str, length: int, limit: int) -> None:
        self.token = token
        self.length = length
        self.limit = limit
        shown = token if len(token) <= 60 else token[:57] + "..."
        super().__init__(
            f"{shown!r} cannot be split and measures {length}, more than the limit of {limit} "
            "(numbering included)"
        )


Span = tuple[int, int]


class _Splitter:
    def __init__(
        self,
        text: str,
        limit: int,
        count: Callable[[str], int],
        suffix: str,
    ) -> None:
        self.text = text
        self.limit = limit
        self.count = count
        self.suffix = suffix
        self.protected = url_spans(text)  # sorted and disjoint
        self.protected_starts = [start for start, _ in self.protected]
        self.ordered_bounds = grapheme_boundaries(text)
        self.bounds = set(self.ordered_bounds)

    def piece(self, span: Span) -> str:
        return self.text[span[0] : span[1]].strip()

    def fits(self, span: Span) -> bool:
        return self.count(self.piece(span) + self.suffix) <= self.limit

    def _cut_ok(self, index: int) -> bool:
        if index not in self.bounds:
            return False
        # The only span that can contain ``index`` is the last one starting before it.
        at = bisect.bisect_left(self.protected_starts, index) - 1
        return at < 0 or not (self.protected[at][0] < index < self.protected[at][1])

    def _split_by(self, span: Span, pattern: regex.Pattern[str]) -> list[Span]:
        """Cut ``span`` at each match of ``pattern`` (the separator is dropped)."""
        start, end = span
        pieces: list[Span] = []
        current = start
        for match in pattern.finditer(self.text, start, end):
            if not (self._cut_ok(match.start()) and self._cut_ok(match.end())):
                continue
            if match.start() > current:
                pieces.append((current, match.start()))
            current = max(current, match.end())
        pieces.append((current, end))
        return [p for p in pieces if self.piece(p)]

    def _atoms(self, span: Span) -> list[Span]:
        """The smallest pieces of a word: grapheme clusters, URLs kept whole."""
        start, end = span
        atoms: list[Span] = []
        index = start
        first = bisect.bisect_right(self.ordered_bounds, start)
        last = bisect.bisect_right(self.ordered_bounds, end)
        for bound in self.ordered_bounds[first:last]:
            if self._cut_ok(bound) or bound == end:
                atoms.append((index, bound))
                index = bound
        return atoms

    def pieces(self, span: Span, level: int) -> list[Span]:
        """``span`` as pieces that each fit alone, cut at the coarsest level possible."""
        if self.fits(span):
            return [span]
        if level == 0:
            subs = self._split_by(span, _PARAGRAPH_BREAK)
        elif level == 1:
            subs = self._split_by(span, _SENTENCE_BREAK)
        elif level == 2:
            subs = self._split_by(span, _WORD_BREAK)
        else:
            subs = self._atoms(span)
            out: list[Span] = []
            for atom in subs:
                if not self.fits(atom):
                    token = self.piece(atom)
                    raise UnsplittableTextError(token, self.count(token + self.suffix), self.limit)
                out.append(atom)
            return out
        result: list[Span] = []
        for sub in subs:
            result.extend(self.pieces(sub, level + 1))
        return result

    def pack(self) -> list[str]:
        pieces = self.pieces((0, len(self.text)), 0)
        chunks: list[Span] = []
        for piece in pieces:
            if chunks:
                merged = (chunks[-1][0], piece[1])
                if self.fits(merged):
                    chunks[-1] = merged
                    continue
            chunks.append(piece)
        return [self.piece(chunk) for chunk in chunks if self.piece(chunk)]


def split_thread(
    text: str,
    limit: int,
    count: Callable[[str], int] = len,
    *,
    numbering: bool | str = False,
) -> list[str]:
    """Split ``text`` into posts that each measure at most ``limit`` with ``count``.

    ``numbering`` adds a suffix to every post when the text needs more than one:
    ``True`` for :data:`DEFAULT_NUMBERING` (`` (1/3)``), or a format string with ``{index}``
    and ``{total}``. A text that fits in one post comes back as one post, unnumbered and
    stripped; an empty or blank text gives an empty list.

    Raises :class:`UnsplittableTextError` when a URL or a single grapheme cluster does not fit
    in a post on its own, and ``ValueError`` for a limit below 1.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    stripped = text.strip()
    if not stripped:
        return []
    if count(stripped) <= limit:
        return [stripped]
    if numbering is False:
        return _Splitter(text, limit, count, "").pack()

    template = DEFAULT_NUMBERING if numbering is True else numbering
    if "{index}" not in template or "{total}" not in template:
        raise ValueError("a numbering format needs both {index} and {total}")
    # Reserve room for the widest suffix of the thread; the thread's length decides how wide
    # that is, so split again until the estimate holds.
    if count(template.format(index=1, total=1).strip()) >= limit:
        raise ValueError(f"the numbering {template!r} leaves no room for text within {limit}")
    estimate = 2
    while True:
        widest = template.format(index=estimate, total=estimate)
        chunks = _Splitter(text, limit, count, widest).pack()
        total = len(chunks)
        if len(str(total)) <= len(str(estimate)):
            break
        estimate = total
    numbered = [chunk + template.format(index=i, total=total) for i, chunk in enumerate(chunks, 1)]
    for post in numbered:
        if count(post) > limit:  # only a counting function that is not additive gets here
            raise UnsplittableTextError(post, count(post), limit)
    return numbered
