"""X's weighted length: how many of the 280 "characters" a post uses.

The rules are X's official configuration ``config/v3.json`` from twitter/twitter-text
(Apache-2.0), copied into :data:`X_CONFIG_V3` because the package cannot read the file at run
time; a spec test checks the two are equal. How a text is measured (as twitter-text's
``parseTweet`` does):

1. the text is normalised to NFC;
2. every URL counts ``transformedURLLength`` (23), with or without ``https://``
   (``example.com`` is a URL when its TLD is a real one);
3. every emoji, even a sequence of several code points (skin tones, ZWJ families of up to four,
   flags, keycaps, tag flags), counts once with the default weight (200, i.e. 2 characters);
4. every other code point weighs what its range says (100 inside the ranges, which cover Latin,
   Greek, Cyrillic, Hebrew, Arabic, Devanagari … and some punctuation; 200 elsewhere, e.g. CJK);
5. the sum is divided by ``scale`` (100). A post is valid when that is between 1 and 280 and the
   text contains none of U+FFFE, U+FEFF, U+FFFF (twitter-text's invalid characters) and no
   unpaired surrogate (which cannot be sent as UTF-8; see :func:`x_invalid_characters`).

Written here, not taken from PyPI: ``twitter-text-parser`` 3.0.0 (the maintained-looking port)
recognises only Unicode 12 emoji, so newer emoji sequences count several times, and it imports
``pkg_resources``, which current setuptools no longer ship. Emoji here are found from the Unicode
properties of the installed ``regex`` module (UTS #51 sequences), so they stay current.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Final

import regex

from socialkit.text._bounds import register_upper_bound
from socialkit.text._urls import extract_urls

__all__ = [
    "XConfig",
    "XInvalidCharacter",
    "XParseResult",
    "XWeightRange",
    "X_CONFIG_V3",
    "count_x",
    "parse_x",
    "x_invalid_characters",
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
# A sequence is bounded as the longest recommended ones are (four people joined by ZWJ, a
# subdivision flag of six tags): X counts a longer chain as several emoji, not one.
_ELEMENT = (
    r"(?:(?![#*0-9])\p{Emoji}"
    r"(?:\p{Emoji_Modifier}|[\U000E0020-\U000E007E]{1,7}\U000E007F)?"
    r"(?:\uFE0F|(?!\uFE0E)))"
)
_EMOJI = regex.compile(
    rf"\p{{Regional_Indicator}}{{2}}|[#*0-9]\uFE0F?\u20E3|{_ELEMENT}(?:\u200D{_ELEMENT}){{0,3}}",
    regex.V0,
)


# U+FFFE, U+FEFF, U+FFFF (twitter-text's ``hasInvalidCharacters``) and surrogates: a Python string
# holds a surrogate only unpaired (a pair is one code point), and UTF-8 cannot encode it.
# (The standard library's re: a class of code points needs nothing of regex's, and re searches
# it three times faster, for every post's pre-flight.)
_X_INVALID = re.compile(r"[\uFFFE\uFEFF\uFFFF\uD800-\uDFFF]")


@functools.cache
def _weight_classes(config: XConfig) -> tuple[tuple[int, Any], ...]:
    """``(weight, pattern)`` for each weight of ``config.ranges``: the pattern matches the code
    points that weigh it (the first range that contains a code point wins, as in
    :meth:`XConfig.weight_of`)."""
    taken: list[tuple[int, int]] = []
    by_weight: dict[int, list[tuple[int, int]]] = {}
    for item in config.ranges:
        pieces = [(item.start, item.end)]
        for first, last in taken:  # cut out what an earlier range already weighs
            pieces = [
                part
                for lo, hi in pieces
                for part in ((lo, min(hi, first - 1)), (max(lo, last + 1), hi))
                if part[0] <= part[1]
            ]
        taken.append((item.start, item.end))
        by_weight.setdefault(item.weight, []).extend(pieces)
    classes = []
    for weight, pieces in by_weight.items():
        if weight == config.default_weight or not pieces:
            continue
        body = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in pieces)
        classes.append((weight, regex.compile(f"[{body}]")))
    return tuple(classes)


@functools.cache
def _ascii_weight(config: XConfig) -> int | None:
    """The weight every ASCII code point has under ``config`` (``None`` if they differ)."""
    weights = {config.weight_of(code) for code in range(128)}
    return weights.pop() if len(weights) == 1 else None


def _plain_weight(chunk: str, config: XConfig) -> int:
    """The weight of a run of text without URLs or emoji, counted in C (``sub``) rather than
    code point by code point."""
    if chunk.isascii():
        ascii_weight = _ascii_weight(config)
        if ascii_weight is not None:
            return ascii_weight * len(chunk)
    total = config.default_weight * len(chunk)
    for weight, pattern in _weight_classes(config):
        count = len(chunk) - len(pattern.sub("", chunk))
        total += (weight - config.default_weight) * count
    return total


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _units(text: str, config: XConfig) -> list[tuple[int, int, int]]:
    """``(start, end, weight)`` of the URLs and emoji of ``text``, in order, without overlaps
    (a URL wins over an emoji that starts where it does or inside it)."""
    found: list[tuple[int, int, int]] = []
    url_weight = config.transformed_url_length * config.scale
    found.extend((url.start, url.end, url_weight) for url in extract_urls(text))
    if config.emoji_parsing_enabled:
        found.extend((m.start(), m.end(), config.default_weight) for m in _EMOJI.finditer(text))
    found.sort(key=lambda unit: (unit[0], -unit[2]))
    units: list[tuple[int, int, int]] = []
    last_end = 0
    for unit in found:
        if unit[0] >= last_end:
            units.append(unit)
            last_end = unit[1]
    return units


def parse_x(text: str, config: XConfig = X_CONFIG_V3) -> XParseResult:
    """Measure ``text`` as X does; see the module documentation for the rules.

    Linear in the length of ``text``: runs between URLs and emoji are weighed in bulk, and only
    the run in which the text stops fitting is walked code point by code point.
    """
    normalized = unicodedata.normalize("NFC", text)
    limit = config.max_weighted_tweet_length * config.scale
    invalid = _X_INVALID.search(normalized)
    invalid_at = invalid.start() if invalid is not None else len(normalized)

    weight = 0
    cut: int | None = None  # where the longest valid start of the text ends
    index = 0
    for start, end, unit_weight in [*_units(normalized, config), (len(normalized),) * 2 + (0,)]:
        if start > index:
            plain = _plain_weight(normalized[index:start], config)
            if cut is None and (weight + plain > limit or invalid_at < start):
                cut = _cut_in_plain(normalized, index, start, weight, limit, invalid_at, config)
            weight += plain
        if end > start:
            if cut is None and (weight + unit_weight > limit or start <= invalid_at < end):
                cut = start
            weight += unit_weight
        index = max(index, end)
    valid_text_end = len(normalized) if cut is None else cut

    weighted_length = weight // config.scale
    text_utf16 = _utf16_length(text)
    normalization_offset = text_utf16 - _utf16_length(normalized)
    valid_end_utf16 = _utf16_length(normalized[:valid_text_end]) - 1 if valid_text_end else 0
    max_length = config.max_weighted_tweet_length
    return XParseResult(
        weighted_length=weighted_length,
        valid=invalid is None and 0 < weighted_length <= max_length,
        permillage=(weighted_length * 1000) // max_length,
        valid_range=(0, valid_end_utf16 + normalization_offset),
        display_range=(0, text_utf16 - 1 if text_utf16 > 0 else 0),
        valid_text_end=valid_text_end,
    )


def _cut_in_plain(
    text: str, start: int, end: int, weight: int, limit: int, invalid_at: int, config: XConfig
) -> int:
    """The first index of ``text[start:end]`` that no longer fits (or is invalid)."""
    for index in range(start, end):
        if index == invalid_at:
            return index
        weight += config.weight_of(ord(text[index]))
        if weight > limit:
            return index
    return end  # pragma: no cover - the caller knows the run does not fit


_INVALID_NAMES = {
    "\ufffe": "the noncharacter U+FFFE",
    "\ufeff": "the byte order mark U+FEFF",
    "\uffff": "the noncharacter U+FFFF",
}


@dataclass(frozen=True)
class XInvalidCharacter:
    """A character X refuses in a post: ``text[index] == character``."""

    index: int
    character: str

    @property
    def description(self) -> str:
        """``the byte order mark U+FEFF``, ``an unpaired surrogate U+D83D`` …"""
        name = _INVALID_NAMES.get(self.character)
        return name or f"an unpaired surrogate U+{ord(self.character):04X}"


def x_invalid_characters(text: str) -> list[XInvalidCharacter]:
    """Every character of ``text`` that makes X refuse the post, in order: U+FFFE, U+FEFF and
    U+FFFF (twitter-text's invalid characters) and unpaired surrogates (U+D800 to U+DFFF,
    which cannot be sent as UTF-8)."""
    if _X_INVALID.search(text) is None:
        return []  # the usual case, without a list comprehension's frame
    return [XInvalidCharacter(m.start(), m.group()) for m in _X_INVALID.finditer(text)]


#: A dot a TLD may follow: not one before a space, an ASCII digit or punctuation, or the end.
_TLD_DOT = re.compile(r"\.(?![\s0-9!-/:-@\[-`{-~]|\Z)")


def _bound_weights(config: XConfig) -> tuple[int, int, int]:
    """(weight of an ASCII code point or more, weight of any code point or more, what a URL
    can add to its text's plain weight at most) under ``config``."""
    heaviest = max(config.default_weight, *(item.weight for item in config.ranges))
    lightest = min(config.default_weight, *(item.weight for item in config.ranges))
    ascii_weight = _ascii_weight(config)
    # The shortest URL is four code points ("a.co"): a label, a dot, a two-letter TLD.
    url_extra = max(0, config.transformed_url_length * config.scale - 4 * lightest)
    return (heaviest if ascii_weight is None else ascii_weight), heaviest, url_extra


#: The weights of the bound under the configuration count_x uses.
_V3_WEIGHTS: Final = _bound_weights(X_CONFIG_V3)


def _x_weight_bound(text: str) -> int:
    """An upper bound of :func:`count_x` (X's weighted length under its v3 configuration),
    counted in C.

    Every code point at its heaviest weight (an emoji sequence holds at least one non-ASCII code
    point, so it weighs no less as code points than the 2 it counts as one), and each dot that
    a TLD may follow as if it ended a URL of four code points that counts as 23: a URL's host
    ends in a dot and its TLD (a letter first, or a non-ASCII character), and URLs do not
    overlap. :func:`~socialkit.text._bounds.fits` uses it to skip the exact count of a post
    that fits."""
    normalized = unicodedata.normalize("NFC", text)
    ascii_weight, heaviest, url_extra = _V3_WEIGHTS
    ascii_count = len(normalized.encode("ascii", "ignore"))
    weight = (
        ascii_weight * ascii_count
        + heaviest * (len(normalized) - ascii_count)
        + url_extra * len(_TLD_DOT.findall(normalized))
    )
    return -(-weight // X_CONFIG_V3.scale)


@functools.lru_cache(maxsize=64)
def count_x(text: str) -> int:
    """X's weighted length of ``text`` (280 is the limit), for ``Limits.count``.

    ``parse_x(text).weighted_length`` in one pass over the URLs and emoji, without what only
    :func:`parse_x` reports (the valid range, UTF-16 offsets). Memoised per text: a publish
    measures its text in the pre-flight more than once (the hub's check, the adapter's)."""
    config = X_CONFIG_V3
    normalized = unicodedata.normalize("NFC", text)
    weight = 0
    index = 0
    for start, end, unit_weight in _units(normalized, config):
        if start > index:
            weight += _plain_weight(normalized[index:start], config)
        weight += unit_weight
        index = end
    weight += _plain_weight(normalized[index:], config)
    return weight // config.scale


register_upper_bound(count_x, _x_weight_bound)
