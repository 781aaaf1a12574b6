"""Grapheme, UTF-8 and UTF-16 lengths (Bluesky counts graphemes and bytes, Telegram UTF-16)."""

from __future__ import annotations

import pytest

from socialkit.text import (
    count_graphemes,
    grapheme_boundaries,
    graphemes,
    index_at_offset,
    utf8_length,
    utf8_offsets,
    utf16_length,
    utf16_offsets,
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"


@pytest.mark.parametrize(
    ("text", "clusters", "utf8", "utf16"),
    [
        ("", 0, 0, 0),
        ("abc", 3, 3, 3),
        ("é", 1, 2, 1),  # precomposed
        ("e\u0301", 1, 3, 2),  # e + combining acute: one cluster
        ("日本", 2, 6, 2),
        ("😷", 1, 4, 2),
        ("👋🏽", 1, 8, 4),
        (FAMILY, 1, 25, 11),
        ("🇫🇷", 1, 8, 4),
        ("1\ufe0f\u20e3", 1, 7, 3),
        ("\r\n", 1, 2, 2),
        ("नमस्ते", 3, 18, 6),  # Devanagari conjuncts
    ],
)
def test_lengths(text: str, clusters: int, utf8: int, utf16: int) -> None:
    assert count_graphemes(text) == clusters
    assert len(graphemes(text)) == clusters
    assert "".join(graphemes(text)) == text
    assert utf8_length(text) == utf8 == len(text.encode("utf-8"))
    assert utf16_length(text) == utf16 == len(text.encode("utf-16-le")) // 2


def test_boundaries_never_split_a_cluster() -> None:
    text = f"a{FAMILY}e\u0301🇫🇷"
    bounds = grapheme_boundaries(text)
    assert bounds == [0, 1, 1 + len(FAMILY), 3 + len(FAMILY), 5 + len(FAMILY)]
    assert bounds[-1] == len(text)


def test_offsets_map_indices_both_ways() -> None:
    text = "é😷a"
    assert utf8_offsets(text) == [0, 2, 6, 7]
    assert utf16_offsets(text) == [0, 1, 3, 4]
    assert index_at_offset(utf8_offsets(text), 6) == 2
    with pytest.raises(ValueError, match="boundary"):
        index_at_offset(utf8_offsets(text), 3)
