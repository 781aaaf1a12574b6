"""Export a month of post metrics to CSV (and a pandas DataFrame, with the analytics extra).

Reads every account's posts of the last 30 days, their metrics (impressions, likes, reposts,
replies … under socialkit's canonical names) and writes one row per post with its engagement
rate, then prints the best posting hours.

    python examples/export_metrics.py --fake --out metrics.csv
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from pathlib import Path

from _common import Fakes, connect_accounts, parser

from socialkit import MemoryStore, Post
from socialkit.workflows import MetricsCollector, recommendations, top_posts, write_csv


async def simulate_a_month(fakes: Fakes) -> None:
    """A month of posts and audience on the fake networks (only with --fake)."""
    rng = random.Random(7)  # noqa: S311 - a simulation
    adapters = connect_accounts(fakes)
    start = fakes.clock.now() - timedelta(days=30)
    fakes.clock.set(start)
    fans = {
        name: [fake.add_user(f"fan{i}") for i in range(6)] for name, fake in fakes.networks.items()
    }
    for day in range(30):
        fakes.clock.set(start + timedelta(days=day, hours=rng.choice([8, 12, 18])))
        for adapter in adapters:
            posted = await adapter.publish(Post(text=f"Day {day + 1} of the month #daily"))
            assert posted.id is not None
            fake = fakes.networks[adapter.name]
            for fan in rng.sample(fans[adapter.name], rng.randrange(0, 6)):
                fake.like(posted.id, fan)
            fake.view(posted.id, rng.randrange(50, 500))
    fakes.clock.set(start + timedelta(days=30, hours=12))
    for adapter in adapters:
        await adapter.aclose()


async def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--out", type=Path, default=Path("metrics.csv"), help="the CSV to write")
    cli.add_argument("--timezone", default="Europe/Paris", help="for the best posting hours")
    args = cli.parse_args()
    fakes = Fakes(names=args.networks) if args.fake else None
    if fakes is not None:
        await simulate_a_month(fakes)
    adapters = connect_accounts(fakes)
    clock = fakes.clock.now if fakes is not None else None
    collector = (
        MetricsCollector(adapters, store=MemoryStore(), clock=clock)
        if clock is not None
        else MetricsCollector(adapters, store=MemoryStore())
    )
    try:
        stored = await collector.collect(lookback=timedelta(days=30), limit=None)
        for label, error in collector.errors.items():
            print(f"{label}: not collected: {error}")
        performance = await collector.performance()
    finally:
        for adapter in adapters:
            await adapter.aclose()
    write_csv(performance, args.out)
    print(f"wrote {len(performance)} posts to {args.out} ({sum(stored.values())} snapshots)")
    for perf in top_posts(performance, 3):
        print(f"top: {perf.source} {perf.post_id} {perf.interactions} interactions")
    for sentence in recommendations(performance, args.timezone):
        print(sentence)
    try:
        from socialkit.workflows import to_dataframe

        frame = to_dataframe(performance)
    except ImportError as missing:  # pandas is in the analytics extra
        print(f"no DataFrame: {missing}")
    else:
        print(frame.groupby("network")["engagement_rate"].mean().round(4).to_string())


if __name__ == "__main__":
    asyncio.run(main())
