"""twitter-text's conformance suite, read in place from
``../shared/specs/x/twitter-text-conformance/`` (twitter/twitter-text ``conformance/``, Apache-2.0).

Its README asks implementations to read the YAML files rather than copy their cases, so each case
becomes one test here at collection time. Every section of the files is either run or listed in
:data:`NOT_APPLICABLE` with the reason (a feature socialkit does not offer); a test checks that no
section is left unaccounted for, so a new section in a newer suite is noticed. Nothing is skipped
at run time: cases that do not apply are never collected.

What runs:

* ``extract.yml`` ``urls``, ``urls_with_indices``, ``urls_with_directional_markers``,
  ``tco_urls_with_params`` and ``tlds.yml`` (a URL on every TLD): ``extract_urls``.
  Indices in the suite are UTF-16 offsets (twitter-text's JavaScript reference); socialkit's are
  code point indices, converted here.
* ``validate.yml`` ``WeightedTweetsCounterTest`` (config v2), ``WeightedTweetsWithDiscounted
  EmojiCounterTest`` and ``UnicodeDirectionalMarkerCounterTest`` (config v3): every field of
  twitter-text's ``parseTweet`` against :func:`socialkit.text.parse_x`; ``tweets``: validity with
  config v1 (140 code points, URLs as 23), as twitter-text's ``isValidTweetText`` runs them.
* ``tld_lib.yml``: ``src/socialkit/text/_tlds.py`` is exactly what ``tests/text/_x_tld_module``
  renders from it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests._specs import SPECS, specs_dir
from tests.text import _x_tld_module

from socialkit.text import X_CONFIG_V3, XConfig, extract_urls, parse_x, utf16_offsets

SUITE = ("x", "twitter-text-conformance")
SUITE_DIR = SPECS.joinpath(*SUITE)

# twitter-text config/v2.json: v3 without emoji parsing (every code point of an emoji weighs).
X_CONFIG_V2 = dataclasses.replace(X_CONFIG_V3, version=2, emoji_parsing_enabled=False)
# twitter-text config/v1.json: 140 code points, every code point weighs 1, URLs 23.
X_CONFIG_V1 = XConfig(
    version=1,
    max_weighted_tweet_length=140,
    scale=1,
    default_weight=1,
    emoji_parsing_enabled=False,
    transformed_url_length=23,
    ranges=(),
)

# (file, section) -> what socialkit runs it against.
APPLICABLE: dict[tuple[str, str], str] = {
    ("extract.yml", "urls"): "urls",
    ("extract.yml", "tco_urls_with_params"): "urls",
    ("extract.yml", "urls_with_indices"): "urls_with_indices",
    ("extract.yml", "urls_with_directional_markers"): "urls_with_indices",
    ("tlds.yml", "country"): "urls",
    ("tlds.yml", "generic"): "urls",
    ("validate.yml", "tweets"): "valid_v1",
    ("validate.yml", "WeightedTweetsCounterTest"): "parse_v2",
    ("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest"): "parse_v3",
    ("validate.yml", "UnicodeDirectionalMarkerCounterTest"): "parse_v3",
}

# Sections left out, and why: each tests an API of twitter-text that socialkit does not offer.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("extract.yml", "mentions"): "socialkit does not extract X @mentions from text",
    ("extract.yml", "mentions_with_indices"): "socialkit does not extract X @mentions",
    ("extract.yml", "mentions_or_lists_with_indices"): "socialkit does not extract X lists",
    ("extract.yml", "replies"): "socialkit does not extract the user a post replies to",
    ("extract.yml", "hashtags"): "socialkit does not extract X hashtags",
    ("extract.yml", "hashtags_from_astral"): "socialkit does not extract X hashtags",
    ("extract.yml", "hashtags_with_indices"): "socialkit does not extract X hashtags",
    ("extract.yml", "cashtags"): "socialkit does not extract X cashtags",
    ("extract.yml", "cashtags_with_indices"): "socialkit does not extract X cashtags",
    ("validate.yml", "usernames"): "socialkit does not validate X user names",
    ("validate.yml", "lists"): "socialkit does not validate X list names",
    ("validate.yml", "hashtags"): "socialkit does not validate X hashtags",
    ("validate.yml", "urls"): (
        "isValidUrl checks one string against RFC 3986 (userinfo, IP hosts); socialkit offers "
        "URL extraction from post text, tested by extract.yml"
    ),
    ("validate.yml", "urls_without_protocol"): "isValidUrl without a scheme: see urls",
}

FILES = ("extract.yml", "validate.yml", "tlds.yml")


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SUITE_DIR / name).read_text("utf-8"))
    return data


def _cases() -> list[Any]:
    """One ``pytest.param`` per applicable case, or one that reports the missing suite."""
    if not SUITE_DIR.is_dir():
        # specs_dir() fails under SOCIALKIT_REQUIRE_SPECS=1 (CI) and skips otherwise.
        return [pytest.param("missing", {}, id="suite-missing")]
    params = []
    for name in FILES:
        for section, cases in _load(name)["tests"].items():
            kind = APPLICABLE.get((name, section))
            if kind is None:
                continue
            for index, case in enumerate(cases):
                param_id = f"{name}:{section}:{index}:{case['description'][:60]}"
                params.append(pytest.param(kind, case, id=param_id))
    return params


def _urls_with_utf16_indices(text: str) -> list[dict[str, Any]]:
    offsets = utf16_offsets(text)
    return [
        {"url": url.url, "indices": [offsets[url.start], offsets[url.end]]}
        for url in extract_urls(text)
    ]


def _parsed(text: str, config: XConfig) -> dict[str, Any]:
    result = parse_x(text, config)
    return {
        "weightedLength": result.weighted_length,
        "valid": result.valid,
        "permillage": result.permillage,
        "displayRangeStart": result.display_range[0],
        "displayRangeEnd": result.display_range[1],
        "validRangeStart": result.valid_range[0],
        "validRangeEnd": result.valid_range[1],
    }


@pytest.mark.spec
@pytest.mark.parametrize(("kind", "case"), _cases())
def test_conformance_case(kind: str, case: dict[str, Any]) -> None:
    if kind == "missing":
        specs_dir(*SUITE)
        return  # pragma: no cover - specs_dir skips or fails
    text = str(case["text"])
    expected = case["expected"]
    if kind == "urls":
        assert [url.url for url in extract_urls(text)] == expected
    elif kind == "urls_with_indices":
        assert _urls_with_utf16_indices(text) == expected
    elif kind == "valid_v1":
        assert parse_x(text, X_CONFIG_V1).valid is expected
    elif kind == "parse_v2":
        assert _parsed(text, X_CONFIG_V2) == expected
    else:
        assert kind == "parse_v3"
        assert _parsed(text, X_CONFIG_V3) == expected


@pytest.mark.spec
def test_every_section_is_run_or_excluded_with_a_reason() -> None:
    specs_dir(*SUITE)
    sections = {(name, section) for name in FILES for section in _load(name)["tests"]}
    assert sections == set(APPLICABLE) | set(NOT_APPLICABLE)
    assert not set(APPLICABLE) & set(NOT_APPLICABLE)


@pytest.mark.spec
def test_tld_module_is_generated_from_tld_lib() -> None:
    spec = specs_dir(*SUITE, "tld_lib.yml")
    rendered = _x_tld_module.render(_x_tld_module.load(spec))
    module = Path(_x_tld_module.MODULE)
    assert module.read_text("utf-8") == rendered, (
        "src/socialkit/text/_tlds.py is out of date: run python -m tests.text._x_tld_module"
    )


@pytest.mark.spec
def test_every_tld_of_tld_lib_is_recognised_and_nothing_else() -> None:
    from socialkit.text._tlds import COUNTRY_TLDS, GENERIC_TLDS

    spec = yaml.safe_load(specs_dir(*SUITE, "tld_lib.yml").read_text("utf-8"))
    assert list(GENERIC_TLDS) == [str(t) for t in spec["generic"]]
    assert list(COUNTRY_TLDS) == [str(t) for t in spec["country"]]
    for tld in ("music", "kids", "notatld"):  # newer than the suite's list, or no TLD at all
        assert extract_urls(f"example.{tld}") == []
