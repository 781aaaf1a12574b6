"""Bad-buzz alert to a webhook: post to Slack, Teams, Discord or your own endpoint.

Listening polls the networks for the brand; the alert fires when the volume or the share of
negative posts breaks away from the brand's usual rhythm, and each alert is POSTed once as
JSON (``{"text": ...}``, the shape Slack and Mattermost incoming webhooks take) to
``--webhook``. With ``--fake``, a day of calm is simulated, then a burst of complaints, and the
webhook is an in-process receiver that prints what it got.

    python examples/alert_webhook.py --fake
    python examples/alert_webhook.py --brand acme --webhook https://hooks.slack.com/services/…
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from _common import Fakes, connect_accounts, parser

from socialkit import Adapter, MemoryStore
from socialkit.workflows import Alert, BuzzMonitor, DetectorConfig, LexiconScorer, Listening, Watch

FAKE_HOOK = "http://hooks.fake/alert"


def fake_receiver(received: list[dict[str, str]]) -> httpx.AsyncClient:
    """A client whose requests reach an in-process webhook receiver (only with --fake)."""

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


def sender(http: httpx.AsyncClient, url: str) -> Callable[[Alert], Awaitable[None]]:
    """The callback that posts an alert to the webhook."""

    async def send(alert: Alert) -> None:
        text = f"{alert.kind} on {alert.watch}: {alert.count} posts, {alert.negative} negative"
        response = await http.post(url, json={"text": text, "watch": alert.watch})
        response.raise_for_status()  # a failed delivery is retried by the monitor

    return send


async def simulate(fakes: Fakes, brand: str, listening: Listening, monitor: BuzzMonitor) -> None:
    """A calm day, then a burst of complaints, hour by hour on the fakes' clock."""
    fake = next(iter(fakes.networks.values()))
    people = [fake.add_user(f"user{i}") for i in range(40)]
    for hour in range(30):
        fakes.clock.set(fakes.clock.now() + timedelta(hours=1))
        fake.publish_as(people[hour % 5], f"Using {brand} today, all good")
        if hour == 28:  # something went wrong
            for person in people[5:]:
                fake.publish_as(person, f"{brand} is down again, terrible, I want a refund")
        await listening.poll()
        await monitor.check()


async def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--brand", default="acme")
    cli.add_argument("--webhook", default=FAKE_HOOK, help="where to POST each alert")
    cli.add_argument("--interval", type=float, default=300.0, help="seconds between checks")
    args = cli.parse_args()
    fakes = Fakes(names=args.networks) if args.fake else None
    adapters: list[Adapter] = connect_accounts(fakes)
    received: list[dict[str, str]] = []
    http = fake_receiver(received) if fakes is not None else httpx.AsyncClient(timeout=10)
    watches = [Watch(name=args.brand, role="brand", keywords=[args.brand])]
    store = MemoryStore()
    # Hourly buckets; judge after a day of history (the default waits for three).
    config = DetectorConfig(min_history=24, min_count=10)
    try:
        if fakes is not None:
            clock = fakes.clock.now
            listening = Listening(
                adapters,
                watches,
                store=store,
                scorer=LexiconScorer(),
                clock=clock,
                initial_since=clock(),
            )
            monitor = BuzzMonitor(listening, config=config, store=store, clock=clock)
            monitor.subscribe(sender(http, args.webhook))
            await simulate(fakes, args.brand, listening, monitor)
            for message in received:
                print("webhook received:", message["text"])
            if not received:
                raise SystemExit("no alert: the burst was not caught")
        else:
            listening = Listening(adapters, watches, store=store, scorer=LexiconScorer())
            monitor = BuzzMonitor(listening, config=config, store=store)
            monitor.subscribe(sender(http, args.webhook))
            await monitor.run(interval=args.interval)
    finally:
        await http.aclose()
        for adapter in adapters:
            await adapter.aclose()


if __name__ == "__main__":
    asyncio.run(main())
