"""X weighted length.

Expected values follow the official configuration ``../shared/specs/x/twitter-text-config-v3.json``
(twitter/twitter-text ``config/v3.json``: ranges weighted 100, everything else 200, scale 100,
emoji as one unit of 200, URLs 23, limit 280) and, where marked, the cases of twitter-text's
conformance suite (``conformance/validate.yml``, section
``WeightedTweetsWithDiscountedEmojiCounterTest``).
"""

from __future__ import annotations

import json

import pytest
from tests._specs import specs_dir

from socialkit.text import X_CONFIG_V3, XConfig, count_x, parse_x

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 👨‍👩‍👧‍👦

WEIGHTED_CASES = [
    # (description, text, weighted length)
    ("empty", "", 0),
    ("ASCII", "Hello, world!", 13),
    ("U+10FF, last code point of range 0-4351, weighs 1", "\u10ff", 1),
    ("U+1100, first after it (Hangul Jamo), weighs 2", "\u1100", 2),
    ("Latin-1 accents weigh 1", "café déjà vu", 12),
    ("Cyrillic weighs 1", "Привет", 6),
    ("Arabic weighs 1", "مرحبا", 5),
    ("U+2000 en quad (range 8192-8205) weighs 1", "\u2000", 1),
    ("U+200E, after 8205, weighs 2", "\u200e", 2),
    ("U+2010 hyphen (8208-8223) weighs 1", "\u2010", 1),
    ("U+2018/U+2019 quotes weigh 1", "\u2018x\u2019", 3),
    ("U+2020 dagger (8224) weighs 2", "\u2020", 2),
    ("U+2032 prime (8242-8247) weighs 1", "\u2032", 1),
    ("U+2038 (8248) weighs 2", "\u2038", 2),
    ("CJK weighs 2", "日本語", 6),
    ("Hangul syllables weigh 2", "한국어", 6),
    ("full-width punctuation weighs 2", "，。", 4),
    ("an emoji is one unit of 2", "😷", 2),
    ("emoji with skin tone is one unit", "👋🏽", 2),
    ("ZWJ family is one unit", FAMILY, 2),
    ("ZWJ profession with skin tone", "👩🏾\u200d💻", 2),
    ("rainbow flag (VS16 + ZWJ)", "🏳️\u200d🌈", 2),
    ("flag of France (regional indicators)", "🇫🇷", 2),
    ("two flags", "🇫🇷🇩🇪", 4),
    (
        "subdivision flag (tag sequence)",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        2,
    ),
    ("keycap 1", "1\ufe0f\u20e3", 2),
    ("keycap # without VS16", "#\u20e3", 2),
    ("digits alone are not emoji", "123", 3),
    ("heart with VS16", "❤️", 2),
    ("© is an emoji for twemoji", "©", 2),
    ("© with text selector is text: 1 + 2", "©\ufe0e", 3),
    ("Unicode 15 emoji (shaking face)", "\U0001fae8", 2),
    ("Unicode 15.1 ZWJ (head shaking horizontally)", "🙂\u200d↔️", 2),
    ("URL with scheme counts 23", "https://example.com/some/very/long/path/that/goes/on", 23),
    ("URL without scheme counts 23", "example.com", 23),
    ("subdomain without scheme", "www.example.com/path?q=1", 23),
    ("text around a URL", "Read this: https://example.com/a.", 11 + 23 + 1),
    ("two URLs", "a.com b.org", 23 + 1 + 23),
    ("unknown TLD is not a URL", "example.notatld", 15),
    ("bare ccTLD domain is a URL (conformance extract.yml)", "foo.jp", 23),
    ("bare ccTLD domain with a path is", "foo.jp/x", 23),
    ("t.co is a URL", "t.co", 23),
    ("URL right after CJK text (conformance extract.yml)", "日本語example.com", 6 + 23),
    ("URLs between CJK words", "これはexample.com/path中国語example.com", 6 + 23 + 6 + 23),
    ("t.co slug over 40 characters is no URL", "http://t.co/" + "a" * 41, 12 + 41),
    ("xn-- host must be ASCII", "http://xn--はじめよう.com", 11 + 2 * 5 + 4),
    (
        "ZWJ chain of five: four people in one emoji, then ZWJ (1) and one more (2)",
        FAMILY + "\u200d\U0001f466",
        2 + 1 + 2,
    ),
    ("e-mail address is not a URL", "me@example.com", 14),
    ("ftp is not a URL", "ftp://x", 7),
    ("IDN TLD", "http://foobar.پاکستان/", 23),
    ("64-character label is not a host", "a" * 64 + ".com", 68),
    ("NFC: e + combining acute counts once", "e\u0301", 1),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [pytest.param(text, expected, id=desc) for desc, text, expected in WEIGHTED_CASES],
)
def test_weighted_length_table(text: str, expected: int) -> None:
    assert count_x(text) == expected


@pytest.mark.parametrize(
    ("text", "length", "valid"),
    [
        pytest.param("a" * 280, 280, True, id="280 ASCII is valid"),
        pytest.param("a" * 281, 281, False, id="281 ASCII is invalid"),
        pytest.param("日" * 140, 280, True, id="140 CJK is 280 and valid"),
        pytest.param("日" * 141, 282, False, id="141 CJK is invalid"),
        pytest.param("😷" * 140, 280, True, id="140 emoji valid"),
        pytest.param(FAMILY * 140, 280, True, id="140 ZWJ families valid"),
        pytest.param("a" * 257 + " https://example.com/" + "x" * 300, 281, False, id="URL over"),
        pytest.param("a" * 256 + " https://example.com/" + "x" * 300, 280, True, id="URL at"),
        pytest.param("", 0, False, id="empty is invalid"),
        pytest.param("ABC\uffff", 5, False, id="U+FFFF is invalid"),
    ],
)
def test_280_boundary(text: str, length: int, valid: bool) -> None:
    result = parse_x(text)
    assert result.weighted_length == length
    assert result.valid is valid
    assert result.permillage == length * 1000 // 280


# From twitter-text conformance/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest.
# (text, weightedLength, valid, permillage, validRangeEnd, displayRangeEnd)
CONFORMANCE = [
    ("Hi http://test.co", 26, True, 92, 16, 16),
    ("http://test.co", 23, True, 82, 13, 13),
    ("285 chars-" + "xxxxxxxxxx-" * 25, 285, False, 1017, 279, 284),
    ("285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299, False, 1067, 283, 302),
    ("xxxxxxxxxx-" * 24 + " http://www.twitter.com/jack ", 289, False, 1032, 264, 292),
    ("https://www.twitter.com/aloha " * 10, 240, True, 857, 299, 299),
    (
        "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口"
        "夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，"
        "轻舟已过万重山。泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡"
        "为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。",
        320,
        False,
        1142,
        139,
        159,
    ),
    ("😷" * 160, 320, False, 1142, 279, 319),
    ("282 chars-" + "xxxxxxxxxx-" * 24 + "xxxxxA\u0301x", 281, False, 1003, 280, 281),
    ("ÁB", 2, True, 7, 1, 1),
    ("A\ufb2c", 4, True, 14, 1, 1),
    ("H🐱☺" + FAMILY, 7, True, 25, 14, 14),
    ("😷👾😡🔥💩", 10, True, 35, 9, 9),
    ("🙋🏽👨\u200d🎤", 4, True, 14, 8, 8),
    (
        "This is a tweet with general punctuation characters: "
        "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b "
        "‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
        110,
        True,
        392,
        109,
        109,
    ),
    ("randomurl" * 7 + "s.com", 68, True, 242, 67, 67),
    (
        "あいうえおかきくけこ" * 12 + " http://" + "あいうえおかきくけこ" * 5 + "あいう.com",
        358,
        False,
        1278,
        143,
        184,
    ),
    (
        "あいうえおかきくけこ" * 12 + " http://" + "あいうえおかきくけこ" * 5 + "あい.com",
        264,
        True,
        942,
        183,
        183,
    ),
    (FAMILY * 140, 280, True, 1000, 1539, 1539),
    (
        "Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; "
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        34,
        True,
        121,
        47,
        47,
    ),
    ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29, True, 103, 30, 30),
    ("ABC\u202a\uffffABC\ufffe", 12, False, 42, 3, 8),
    ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31, True, 110, 25, 25),
]


@pytest.mark.parametrize(
    ("text", "length", "valid", "permillage", "valid_end", "display_end"), CONFORMANCE
)
def test_twitter_text_conformance(
    text: str, length: int, valid: bool, permillage: int, valid_end: int, display_end: int
) -> None:
    result = parse_x(text)
    assert result.weighted_length == length
    assert result.valid is valid
    assert result.permillage == permillage
    assert result.valid_range == (0, valid_end)
    assert result.display_range == (0, display_end)


def test_long_url_with_oversized_labels_is_text() -> None:
    """conformance: "Handle long url with invalid domain labels and short url" (shortened)."""
    label = "somesuperlongurl" * 10  # 160 characters: not a host label
    text = f"Long: https://{label}.com/foo https://validurl.com"
    # "Long: " (6) + the bad URL as characters + " " + 23
    assert count_x(text) == 6 + len(f"https://{label}.com/foo") + 1 + 23


def test_valid_text_end_is_the_longest_fitting_start() -> None:
    text = "日" * 150
    result = parse_x(text)
    assert result.valid_text_end == 140
    assert parse_x(text[: result.valid_text_end]).valid


def test_custom_config_changes_the_rules() -> None:
    config = XConfig(
        max_weighted_tweet_length=10, transformed_url_length=5, emoji_parsing_enabled=False
    )
    result = parse_x("😷 example.com", config)
    # without emoji parsing the emoji is one code point of default weight 200
    assert result.weighted_length == 2 + 1 + 5
    assert result.valid


def test_config_round_trips_through_json() -> None:
    assert XConfig.from_json(X_CONFIG_V3.to_json()) == X_CONFIG_V3


@pytest.mark.spec
def test_constants_equal_official_v3_config() -> None:
    """The numbers in the code are those of the official file (read in place)."""
    official = json.loads(specs_dir("x", "twitter-text-config-v3.json").read_text("utf-8"))
    assert X_CONFIG_V3.to_json() == official
    assert XConfig.from_json(official) == X_CONFIG_V3
