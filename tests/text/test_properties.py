"""Property tests of every text counter and URL / facet extractor (issue 12, "Tests and
figures"): on any string they return a result of the documented shape and raise nothing, and a
megabyte of hostile text takes seconds at most.

The time bound is CPU time of this process (``time.process_time``), so a busy machine does not
make it flaky; it is generous (5 s per megabyte, where each takes about one second or less): it
catches a quadratic regression, which takes minutes on these inputs, not a slow machine. Timing
ratios (doubling the input) are in ``benchmarks/text_scaling.py``, not here.
"""

from __future__ import annotations

import itertools
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.text._strategies import hostile_text

from socialkit.text import (
    UnsplittableTextError,
    bounded_count,
    count_graphemes,
    count_mastodon,
    count_x,
    detect_facets,
    extract_urls,
    facet_records,
    grapheme_boundaries,
    mastodon_countable_text,
    parse_x,
    split_thread,
    url_spans,
    utf8_length,
    utf8_offsets,
    utf16_length,
    utf16_offsets,
    x_invalid_characters,
)
from socialkit.text._bounds import fits
from socialkit.text.x import _x_weight_bound

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_urls(text: str, found: list[Any]) -> None:
    end = 0
    for url in found:
        assert end <= url.start < url.end <= len(text)
        assert text[url.start : url.end] == url.url
        end = url.end


@PROPERTIES
@given(hostile_text)
def test_x_counting(text: str) -> None:
    result = parse_x(text)
    assert result.weighted_length == count_x(text) >= 0
    normalized = unicodedata.normalize("NFC", text)
    assert 0 <= result.valid_text_end <= len(normalized)
    assert result.display_range == (0, max(utf16_length(text) - 1, 0))
    if x_invalid_characters(text):
        assert not result.valid
    for bad in x_invalid_characters(text):
        assert text[bad.index] == bad.character


@PROPERTIES
@given(hostile_text)
def test_url_extraction(text: str) -> None:
    for found in (
        extract_urls(text),
        extract_urls(text, without_scheme=False),
        extract_urls(text, mastodon=True),
    ):
        _check_urls(text, found)
    spans = url_spans(text)
    assert spans == sorted(spans)
    assert all(a < b <= c < d for (a, b), (c, d) in itertools.pairwise(spans))


@PROPERTIES
@given(hostile_text, hostile_text)
def test_mastodon_counting(text: str, spoiler: str) -> None:
    assert count_mastodon(text, spoiler) >= 0
    assert count_mastodon(text) == count_graphemes(mastodon_countable_text(text))


@PROPERTIES
@given(hostile_text)
def test_lengths_and_offsets(text: str) -> None:
    bounds = grapheme_boundaries(text)
    assert bounds[-1] == len(text)
    assert len(bounds) - 1 == count_graphemes(text)
    assert utf8_offsets(text)[-1] == utf8_length(text)
    assert utf16_offsets(text)[-1] == utf16_length(text)


@PROPERTIES
@given(hostile_text)
def test_facets(text: str) -> None:
    spans = detect_facets(text)
    offsets = utf8_offsets(text)
    end = 0
    for span in spans:
        assert end <= span.start < span.end <= len(text)
        assert (span.byte_start, span.byte_end) == (offsets[span.start], offsets[span.end])
        end = span.end
    handles = {s.value for s in spans if s.kind == "mention"}
    records = facet_records(spans, dict.fromkeys(handles, "did:plc:abc"))
    assert len(records) == len(spans)


COUNTERS: list[Callable[[str], int]] = [count_x, count_mastodon, count_graphemes, utf16_length]


@PROPERTIES
@given(hostile_text, st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=40))
def test_bounded_count_never_exceeds_the_count(text: str, repeat: int, limit: int) -> None:
    long = (text + " ") * repeat * 20
    for count in COUNTERS:
        length, exact = bounded_count(long, count, limit)
        full = count(long)
        if exact:
            assert length == full
        else:
            assert limit < length <= full


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text)
def test_the_x_bound_is_never_below_the_count(text: str) -> None:
    # The pre-flight skips counting a text this bound says fits: it must never be lower than
    # X's weighted length (URLs of any length, emoji sequences, CJK, invalid characters).
    assert _x_weight_bound(text) >= count_x(text)
    assert fits(text, count_x, 280) == (_x_weight_bound(text) <= 280)
    if fits(text, count_x, 280):
        assert count_x(text) <= 280


@PROPERTIES
@given(hostile_text)
def test_the_grapheme_bound_is_never_below_the_count(text: str) -> None:
    assert len(text) >= count_graphemes(text)
    assert fits(text, count_graphemes, 300) == (len(text) <= 300)


@PROPERTIES
@given(
    st.lists(st.sampled_from(["a.co", "x.co/", "b.jp ", "é.рф", "🚀", "日", "a", " "]), max_size=80)
)
def test_the_x_bound_holds_for_short_urls(parts: list[str]) -> None:
    # The shortest URLs weigh the most above their length (four code points counted as 23).
    text = "".join(parts)
    assert _x_weight_bound(text) >= count_x(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_text, st.integers(min_value=1, max_value=60))
def test_split_thread_raises_only_its_own_errors(text: str, limit: int) -> None:
    posts: list[str] = []
    refused: UnsplittableTextError | None = None
    try:
        posts = split_thread(text, limit, count_graphemes)
    except UnsplittableTextError as error:
        refused = error
    if refused is not None:
        assert refused.length > refused.limit == limit
    assert all(count_graphemes(post) <= limit for post in posts)


# --- a megabyte of hostile text ------------------------------------------------------------

MEGABYTE = 1_000_000
# Shapes that took quadratic time in earlier versions (runs of labels, of labels between "-"
# and "_", of CJK labels, of words with links, of scheme characters, of open parentheses in a
# path), and long emoji chains and combining sequences.
SHAPES = [
    "a.",
    "中中中.",
    "a-a_a.",
    "Hello world, see example.com/page 🎉 ",
    "a+b.",
    "https://",
    "(",
    "👨\u200d",
    "e\u0301\u0302",
    "@a.b",
    "#a",
    "xn--",
    "http://a.com/" + "(" * 5,
    "a\u3002",
]


def _megabyte() -> str:
    part = MEGABYTE // len(SHAPES)
    return "".join((shape * (part // len(shape) + 1))[:part] for shape in SHAPES)


FUNCTIONS: list[tuple[str, Callable[[str], object]]] = [
    ("count_x", count_x),
    ("extract_urls", extract_urls),
    ("extract_urls_mastodon", lambda text: extract_urls(text, mastodon=True)),
    ("url_spans", url_spans),
    ("count_mastodon", count_mastodon),
    ("count_graphemes", count_graphemes),
    ("utf8_length", utf8_length),
    ("utf16_offsets", utf16_offsets),
    ("detect_facets", detect_facets),
    ("x_invalid_characters", x_invalid_characters),
]


@pytest.fixture(scope="module")
def megabyte() -> str:
    return _megabyte()


@pytest.mark.parametrize(("name", "function"), FUNCTIONS, ids=[name for name, _ in FUNCTIONS])
def test_a_megabyte_takes_seconds_at_most(
    megabyte: str, name: str, function: Callable[[str], object]
) -> None:
    started = time.process_time()
    function(megabyte)
    elapsed = time.process_time() - started
    assert elapsed < 5.0, f"{name} took {elapsed:.1f} s of CPU time on 1 MB"
