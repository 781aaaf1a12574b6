"""Backtest of the bad-buzz detector on simulated traffic with realistic rhythms.

    python benchmarks/buzz_backtest.py --seeds 30

Each seed simulates six weeks of mentions of a brand on three networks (two calm weeks of
history, then bursts of every shape; see socialkit.testing.traffic), with English and French
texts scored by the real LexiconScorer, and runs the detector as BuzzMonitor does (the whole
watch and each network). It prints false alarms per 1,000 calm hourly buckets, the share of
bad-buzz bursts detected, per shape, and the median delay from a burst's start to its alert.
Targets (issue 13): at most 1 false alarm per 1,000 calm buckets, at least 95 % detected.
"""

from __future__ import annotations

import argparse
import statistics
import time

from socialkit.testing.traffic import Outcome, backtest, simulate
from socialkit.workflows import DetectorConfig, LexiconScorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--weeks", type=int, default=6)
    args = parser.parse_args()
    scorer = LexiconScorer()
    config = DetectorConfig()
    total = Outcome()
    began = time.perf_counter()
    for seed in range(args.seeds):
        sim = simulate(seed, scorer, weeks=args.weeks)
        total.add(backtest(sim, config))
    took = time.perf_counter() - began
    rate = total.false_alarms / max(total.calm_buckets, 1) * 1000
    share = total.detected / max(total.bad_buzz, 1)
    print(f"seeds {args.seeds} x {args.weeks} weeks, {took:.1f} s")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(
        f"| false alarms per 1,000 calm hourly buckets | {rate:.2f} "
        f"({total.false_alarms} in {total.calm_buckets}) | <= 1 |"
    )
    print(
        f"| bad-buzz bursts detected | {share:.1%} ({total.detected}/{total.bad_buzz}) | >= 95 % |"
    )
    if total.delays:
        print(
            f"| median delay, burst start to alert | {statistics.median(total.delays):.0f} h "
            f"(max {max(total.delays):.0f} h; hourly buckets) | |"
        )
    print(
        f"| positive waves called bad buzz | {total.positive_called_bad}/{total.positive_waves} "
        "| 0 |"
    )
    for shape, (n, detected) in sorted(total.by_shape.items()):
        label = "not called bad buzz" if shape == "positive" else "detected"
        print(f"| {shape} | {detected}/{n} {label} | |")
    if total.missed:
        print("missed:", ", ".join(f"{b.shape}@{b.start}" for b in total.missed[:10]))


if __name__ == "__main__":
    main()
