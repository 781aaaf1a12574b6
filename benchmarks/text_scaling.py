"""Time of every text counter and extractor as the input doubles: linear means a ratio near 2.

    .venv/bin/python benchmarks/text_scaling.py [--sizes 125000 250000 500000 1000000]

Each input is made of the shapes that once took quadratic time (runs of labels ``a.a.a…``, CJK
labels, labels between ``-`` and ``_``, words with links, scheme characters, open parentheses
in a path, emoji ZWJ chains, combining sequences, mentions, tags). CPU is
``time.process_time()`` of this process; the best of three runs is printed per size, then the
ratio of each size's time to the previous one's. The tests only bound one megabyte's time
(``tests/text/test_properties.py``); the ratios, which need a quiet machine, are here.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

from socialkit.text import (
    count_graphemes,
    count_mastodon,
    count_x,
    detect_facets,
    extract_urls,
    url_spans,
    x_invalid_characters,
)

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
    "http://a.com/((((( ",
    "a\u3002",
]

FUNCTIONS: dict[str, Callable[[str], object]] = {
    "count_x": count_x,
    "extract_urls": extract_urls,
    "extract_urls(mastodon)": lambda text: extract_urls(text, mastodon=True),
    "url_spans": url_spans,
    "count_mastodon": count_mastodon,
    "count_graphemes": count_graphemes,
    "detect_facets": detect_facets,
    "x_invalid_characters": x_invalid_characters,
}


def hostile(size: int) -> str:
    part = size // len(SHAPES)
    return "".join((shape * (part // len(shape) + 1))[:part] for shape in SHAPES)


def best_of_three(function: Callable[[str], object], text: str) -> float:
    times = []
    for _ in range(3):
        started = time.process_time()
        function(text)
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[125_000, 250_000, 500_000, 1_000_000]
    )
    args = parser.parse_args()
    texts = {size: hostile(size) for size in args.sizes}
    print(f"{'function':24}" + "".join(f"{size:>16,}" for size in args.sizes))
    for name, function in FUNCTIONS.items():
        row = [best_of_three(function, texts[size]) for size in args.sizes]
        cells = [f"{row[0]:>9.3f} s      "]
        cells += [
            f"{t:>9.3f} s x{t / p:>4.1f}" if p else f"{t:>9.3f} s"
            for p, t in itertools.pairwise(row)
        ]
        print(f"{name:24}" + "".join(f"{cell:>16}" for cell in cells))


if __name__ == "__main__":
    main()
