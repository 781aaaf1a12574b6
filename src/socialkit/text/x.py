"""X's weighted length: how many of the 280 "characters" a post uses.

The rules are X's official configuration ``config/v3.json`` from twitter/twitter-text
(Apache-2.0), copied into :data:`X_CONFIG_V3` because the package cannot read the file at run
time; a spec test checks the two are equal. How a text is measured (as twitter-text's
``parseTweet`` does):

1. the text is normalised to NFC;
2. every URL counts ``transformedURLLength`` (23), with or without ``https://``
   (``example.com`` is a URL when its TLD is a real one);
3. every emoji, even a sequence of several code points (skin tones, ZWJ families, flags,
   keycaps, tag flags), counts once with the default weight (200, i.e. 2 characters);
4. every other code point weighs what its range says (100 inside the ranges, which cover Latin,
   Greek, Cyrillic, Hebrew, Arabic, Devanagari … and some punctuation; 200 elsewhere, e.g. CJK);
5. the sum is divided by ``scale`` (100). A post is valid when that is between 1 and 280 and the
   text contains none of U+FFFE, U+FEFF, U+FFFF.

Written here, not taken from PyPI: ``twitter-text-parser`` 3.0.0 (the maintained-looking port)
recognises only Unicode 12 emoji, so newer emoji sequences count several times, and it imports
``pkg_resources``, which current setuptools no longer ship. Emoji here are found from the Unicode
properties of the installed ``regex`` module (UTS #51 sequences), so they stay current.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

import regex

from socialkit.text._urls import extract_urls

__all__ = [
    "XConfig",
    "XParseResult",
    "XWeightRange",
    "X_CONFIG_V3",
    "count_x",
    "parse_x",
]


@dataclass(frozen=True)
class XWeightRange:
    """Code points ``start`` … ``end`` (both included) weigh ``weight``."""

    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class XConfig:
    """A twitter-text weighting configuration (field names in snake case)."""

    version: int = 3
    max_weighted_tweet_length: int = 280
    scale: int = 100
    default_weight: int = 200
    emoji_parsing_enabled: bool = True
    transformed_url_length: int = 23
    ranges: tuple[XWeightRange, ...] = field(
        default=(
            XWeightRange(0, 4351, 100),
            XWeightRange(8192, 8205, 100),
            XWeightRange(8208, 8223, 100),
            XWeightRange(8242, 8247, 100),
        )
    )

    def weight_of(self, code_point: int) -> int:
        """The weight of one code point outside URLs and emoji."""
        for item in self.ranges:
            if item.start <= code_point <= item.end:
                return item.weight
        return self.default_weight

    def to_json(self) -> dict[str, Any]:
        """The configuration in twitter-text's JSON form (camel case, as in ``v3.json``)."""
        out: dict[str, Any] = {
            "version": self.version,
            "maxWeightedTweetLength": self.max_weighted_tweet_length,
            "scale": self.scale,
            "defaultWeight": self.default_weight,
            "emojiParsingEnabled": self.emoji_parsing_enabled,
            "transformedURLLength": self.transformed_url_length,
            "ranges": [{"start": r.start, "end": r.end, "weight": r.weight} for r in self.ranges],
        }
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> XConfig:
        """Read a twitter-text JSON configuration (``v2.json``, ``v3.json`` …)."""
        return cls(
            version=int(data["version"]),
            max_weighted_tweet_length=int(data["maxWeightedTweetLength"]),
            scale=int(data["scale"]),
            default_weight=int(data["defaultWeight"]),
            emoji_parsing_enabled=bool(data.get("emojiParsingEnabled", False)),
            transformed_url_length=int(data["transformedURLLength"]),
            ranges=tuple(
                XWeightRange(int(r["start"]), int(r["end"]), int(r["weight"]))
                for r in data.get("ranges", ())
            ),
        )


X_CONFIG_V3 = XConfig()
"""The configuration X applies today (twitter-text ``config/v3.json``)."""


@dataclass(frozen=True)
class XParseResult:
    """What twitter-text's ``parseTweet`` reports.

    ``valid_range`` and ``display_range`` are inclusive ``(start, end)`` offsets in UTF-16 code
    units of the text as given, exactly as twitter-text's ``validRangeStart/End`` and
    ``displayRangeStart/End``; :attr:`valid_text_end` is the same limit as a Python index.
    """

    weighted_length: int
    valid: bool
    permillage: int
    valid_range: tuple[int, int]
    display_range: tuple[int, int]
    valid_text_end: int
    """``text[:valid_text_end]`` (of the NFC-normalised text) is the longest start that fits."""


# An emoji sequence as UTS #51 defines one: flags, keycaps, and emoji optionally modified (skin
# tone, tag sequence) or presented (U+FE0F), joined by ZWJ. Digits, "#" and "*" alone are not
# emoji, and an emoji followed by the text selector U+FE0E is counted as text, as twemoji does.
_ELEMENT = (
    r"(?:(?![#*0-9])\p{Emoji}"
    r"(?:\p{Emoji_Modifier}|[\U000E0020-\U000E007E]+\U000E007F)?"
    r"(?:\uFE0F|(?!\uFE0E)))"
)
_EMOJI = regex.compile(
    rf"\p{{Regional_Indicator}}{{2}}|[#*0-9]\uFE0F?\u20E3|{_ELEMENT}(?:\u200D{_ELEMENT})*",
    regex.V0,
)
_INVALID = frozenset("\ufffe\ufeff\uffff")


def _utf16_width(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def parse_x(text: str, config: XConfig = X_CONFIG_V3) -> XParseResult:
    """Measure ``text`` as X does; see the module documentation for the rules."""
    normalized = unicodedata.normalize("NFC", text)
    units: dict[int, tuple[int, int]] = {}
    if config.emoji_parsing_enabled:
        for match in _EMOJI.finditer(normalized):
            units[match.start()] = (match.end(), config.default_weight)
    url_weight = config.transformed_url_length * config.scale
    for url in extract_urls(normalized):
        units[url.start] = (url.end, url_weight)

    limit = config.max_weighted_tweet_length * config.scale
    weight = 0
    valid = True
    valid_end_utf16 = 0  # index of the last UTF-16 unit that still fits
    valid_text_end = 0
    utf16_pos = 0
    index = 0
    size = len(normalized)
    while index < size:
        unit = units.get(index)
        if unit is not None:
            end, unit_weight = unit
        else:
            end, unit_weight = index + 1, config.weight_of(ord(normalized[index]))
        weight += unit_weight
        chunk = normalized[index:end]
        utf16_pos += sum(_utf16_width(char) for char in chunk)
        if valid and any(char in _INVALID for char in chunk):
            valid = False
        if valid and weight <= limit:
            valid_end_utf16 = utf16_pos - 1
            valid_text_end = end
        index = end

    weighted_length = weight // config.scale
    text_utf16 = sum(_utf16_width(char) for char in text)
    normalization_offset = text_utf16 - utf16_pos
    max_length = config.max_weighted_tweet_length
    return XParseResult(
        weighted_length=weighted_length,
        valid=valid and 0 < weighted_length <= max_length,
        permillage=(weighted_length * 1000) // max_length,
        valid_range=(0, valid_end_utf16 + normalization_offset),
        display_range=(0, text_utf16 - 1 if text_utf16 > 0 else 0),
        valid_text_end=valid_text_end,
    )


def count_x(text: str) -> int:
    """X's weighted length of ``text`` (280 is the limit), for ``Limits.count``."""
    return parse_x(text).weighted_length
