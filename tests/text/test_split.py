"""Thread splitting: every post within the limit as the network counts, nothing lost or
reordered, URLs and grapheme clusters never cut."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit.text import (
    UnsplittableTextError,
    count_graphemes,
    count_mastodon,
    count_x,
    graphemes,
    split_thread,
)
from socialkit.text._urls import url_spans

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
URL = "https://example.com/a/very/long/path/that/must/stay/whole?q=1"


def _squash(text: str) -> str:
    return "".join(text.split())


def _strip_numbering(posts: list[str]) -> list[str]:
    total = len(posts)
    out = []
    for i, post in enumerate(posts, 1):
        suffix = f" ({i}/{total})"
        assert post.endswith(suffix)
        out.append(post[: -len(suffix)])
    return out


def test_short_text_is_one_post() -> None:
    assert split_thread("  hello  ", 280, count_x, numbering=True) == ["hello"]
    assert split_thread("   ", 10) == []


def test_paragraphs_first() -> None:
    text = "First paragraph here.\n\nSecond paragraph here.\n\nThird one."
    assert split_thread(text, 30) == [
        "First paragraph here.",
        "Second paragraph here.",
        "Third one.",
    ]


def test_sentences_then_words() -> None:
    text = "One two three. Four five six. Seven eight nine ten eleven twelve."
    posts = split_thread(text, 30)
    assert posts == ["One two three. Four five six.", "Seven eight nine ten eleven", "twelve."]


def test_cjk_sentences_without_spaces() -> None:
    text = "日本語の文です。" * 6
    posts = split_thread(text, 20, count_x)  # each sentence weighs 16
    assert posts == ["日本語の文です。"] * 6


def test_url_is_never_cut() -> None:
    text = "word " * 10 + URL + " end"
    posts = split_thread(text, len(URL) + 5)
    assert any(URL in post for post in posts)
    assert all(count_graphemes(p) <= len(URL) + 5 for p in posts)


def test_x_counts_url_as_23_when_splitting() -> None:
    text = " ".join([URL] * 20)
    posts = split_thread(text, 280, count_x)
    # 11 URLs = 11 * 23 + 10 spaces = 263 fit, a 12th does not
    assert [p.count("https://") for p in posts] == [11, 9]


def test_long_word_is_cut_at_grapheme_boundaries() -> None:
    text = FAMILY * 10
    posts = split_thread(text, 3, count_graphemes)
    assert posts == [FAMILY * 3, FAMILY * 3, FAMILY * 3, FAMILY]


def test_numbering_is_counted_in_the_limit() -> None:
    text = " ".join(["word"] * 40)
    posts = split_thread(text, 30, len, numbering=True)
    assert all(len(p) <= 30 for p in posts)
    assert _squash(" ".join(_strip_numbering(posts))) == _squash(text)


def test_numbering_widens_for_ten_or_more_posts() -> None:
    text = " ".join(["abcd"] * 30)
    posts = split_thread(text, 12, len, numbering=True)
    assert len(posts) >= 10
    assert posts[-1].endswith(f" ({len(posts)}/{len(posts)})")
    assert all(len(p) <= 12 for p in posts)


def test_custom_numbering_format() -> None:
    posts = split_thread("aaa bbb ccc", 6, len, numbering="{index}/{total}")
    assert posts == ["aaa1/3", "bbb2/3", "ccc3/3"]
    with pytest.raises(ValueError, match="index"):
        split_thread("aaa bbb ccc", 6, len, numbering="({total})")


def test_unsplittable_url_raises_typed_error() -> None:
    with pytest.raises(UnsplittableTextError) as caught:
        split_thread(f"see {URL} now", 20)
    assert caught.value.token == URL
    assert caught.value.limit == 20
    assert isinstance(caught.value, ValueError)


def test_bad_limits() -> None:
    with pytest.raises(ValueError):
        split_thread("text", 0)
    with pytest.raises(ValueError, match="no room"):
        split_thread("a b c d e f", 5, len, numbering=True)


WORDS = st.sampled_from(
    [
        "a",
        "word",
        "longerword",
        "日本語",
        "café",
        "e\u0301",
        FAMILY,
        "🇫🇷",
        "👋🏽",
        URL,
        "example.com",
        "#tag",
        "@alice.bsky.social",
        "end.",
        "why?",
        "。",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  "])


@st.composite
def texts(draw: st.DrawFn) -> str:
    words = draw(st.lists(WORDS, min_size=1, max_size=80))
    seps = draw(st.lists(SEPARATORS, min_size=len(words), max_size=len(words)))
    return "".join(w + s for w, s in zip(words, seps, strict=True))


COUNTERS: list[tuple[str, Callable[[str], int], int]] = [
    ("x", count_x, 80),
    ("graphemes", count_graphemes, 70),
    ("mastodon", count_mastodon, 75),
    ("len", len, 90),
]


@pytest.mark.parametrize(("name", "count", "limit"), COUNTERS, ids=[c[0] for c in COUNTERS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts(), numbered=st.booleans())
def test_split_invariants(
    name: str, count: Callable[[str], int], limit: int, text: str, numbered: bool
) -> None:
    posts = split_thread(text, limit, count, numbering=numbered)
    # every post within the limit, as the network counts
    assert all(count(p) <= limit for p in posts), name
    bodies = _strip_numbering(posts) if numbered and len(posts) > 1 else posts
    # nothing lost, nothing reordered (whitespace aside)
    assert _squash("".join(bodies)) == _squash(text)
    # URLs intact: every URL of the original appears whole in one post
    for start, end in url_spans(text):
        assert any(text[start:end] in body for body in bodies)
    # grapheme clusters intact: cutting never creates a cluster the text did not have
    original = set(graphemes(text))
    assert all(set(graphemes(body)) <= original | {" ", "\n"} for body in bodies)
