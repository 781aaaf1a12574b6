"""Are the parsers linear? Time on inputs of 256 KB, 512 KB and 1 MB, and the ratios.

    python benchmarks/parsers_linear.py

A linear parser doubles its time when its input doubles (ratio about 2); a quadratic one
quadruples it. Covers Mastodon's HTML to text, the text counters and facets (X weighted length,
Bluesky graphemes and facets, Mastodon count), and the rate-limit header parsers. The test suite
(tests/fuzz, tests/text) runs the same inputs without timing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from socialkit._http._ratelimit import header_rate_limit_parser, meta_usage_parser
from socialkit.adapters.mastodon._html import html_to_text
from socialkit.text import count_graphemes, count_x, detect_facets


def _html(size: int) -> str:
    piece = "<p><a href='https://example.com/x'>link</a> word &amp; #tag @who </p>"
    return piece * (size // len(piece))


def _text(size: int) -> str:
    piece = "hello wörld 😀 https://example.com/a?b=1 #tag @bob.bsky.social 日本語 "
    return piece * (size // len(piece.encode()))


def _header(size: int) -> httpx.Response:
    return httpx.Response(200, headers={"x-ratelimit-reset": "9" * size, "x-app-usage": "1" * size})


CASES: dict[str, Callable[[int], object]] = {
    "mastodon html_to_text": lambda n: html_to_text(_html(n)),
    "x weighted length": lambda n: count_x(_text(n)),
    "graphemes": lambda n: count_graphemes(_text(n)),
    "bluesky facets": lambda n: detect_facets(_text(n)),
    "rate-limit headers": lambda n: (
        header_rate_limit_parser()(_header(n)),
        meta_usage_parser(_header(n)),
    ),
}


def _time(run: Callable[[int], object], size: int) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        run(size)
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    sizes = (256 * 1024, 512 * 1024, 1024 * 1024)
    print("| parser | 256 KB | 512 KB | 1 MB | ratio 512/256 | ratio 1M/512 |")
    print("|---|---|---|---|---|---|")
    for name, run in CASES.items():
        times = [_time(run, n) for n in sizes]
        print(
            f"| {name} | {times[0]:.3f} s | {times[1]:.3f} s | {times[2]:.3f} s | "
            f"{times[1] / times[0]:.2f} | {times[2] / times[1]:.2f} |"
        )


if __name__ == "__main__":
    main()
