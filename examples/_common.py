"""What the examples share: the accounts to use, from the environment or the fake networks.

Every example runs against real accounts, configured by environment variables, or with
``--fake`` (or ``SOCIALKIT_EXAMPLES=fake``) against socialkit's in-process fake networks: no
account, no network, the same code path. CI runs every example with ``--fake``.

Real accounts (set those of the networks you use):

- Mastodon: ``MASTODON_INSTANCE`` (https://…) and ``MASTODON_ACCESS_TOKEN``
- Bluesky: ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD``
- X: ``X_ACCESS_TOKEN`` (OAuth 2.0 user token)
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

import socialkit
from socialkit import Adapter
from socialkit.testing.fakes import FakeBluesky, FakeClock, FakeMastodon, FakeNetwork, FakeX


def parser(description: str | None) -> argparse.ArgumentParser:
    """An argument parser with ``--fake``."""
    parser = argparse.ArgumentParser(description=(description or "").splitlines()[0])
    parser.add_argument(
        "--fake",
        action="store_true",
        default=os.environ.get("SOCIALKIT_EXAMPLES") == "fake",
        help="run against socialkit's fake networks (no account needed)",
    )
    parser.add_argument(
        "--networks",
        default=os.environ.get("SOCIALKIT_EXAMPLES_NETWORKS", "mastodon,bluesky,x"),
        help="with --fake: the fake networks to use, comma-separated",
    )
    return parser


@dataclass
class Fakes:
    """The three fake networks, sharing one simulated clock."""

    clock: FakeClock = field(
        default_factory=lambda: FakeClock(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    )
    names: str = "mastodon,bluesky,x"
    networks: dict[str, FakeNetwork] = field(default_factory=dict)

    def __post_init__(self) -> None:
        many = 1_000_000  # a simulation sends many requests quickly
        every: dict[str, FakeNetwork] = {
            "mastodon": FakeMastodon(clock=self.clock, rate_limit=many),
            "bluesky": FakeBluesky(clock=self.clock, rate_limit=many, write_limit=many),
            "x": FakeX(clock=self.clock, rate_limit=many),
        }
        wanted = [n.strip() for n in self.names.split(",") if n.strip()]
        unknown = set(wanted) - set(every)
        if unknown or not wanted:
            raise SystemExit(f"--networks: choose among {', '.join(every)}")
        self.networks = {n: every[n] for n in wanted}


def connect_accounts(fakes: Fakes | None) -> list[Adapter]:
    """One adapter per configured account (or per fake network)."""
    if fakes is not None:
        return [
            fake.connect(clock=fakes.clock.now, retry_wait=False)
            for fake in fakes.networks.values()
        ]
    env = os.environ
    adapters: list[Adapter] = []
    if env.get("MASTODON_ACCESS_TOKEN"):
        adapters.append(
            socialkit.connect(
                "mastodon",
                instance=env.get("MASTODON_INSTANCE", "https://mastodon.social"),
                access_token=env["MASTODON_ACCESS_TOKEN"],
            )
        )
    if env.get("BLUESKY_APP_PASSWORD"):
        adapters.append(
            socialkit.connect(
                "bluesky",
                identifier=env.get("BLUESKY_HANDLE", ""),
                password=env["BLUESKY_APP_PASSWORD"],
            )
        )
    if env.get("X_ACCESS_TOKEN"):
        adapters.append(socialkit.connect("x", access_token=env["X_ACCESS_TOKEN"]))
    if not adapters:
        raise SystemExit(
            "no account configured: set MASTODON_ACCESS_TOKEN, BLUESKY_APP_PASSWORD or "
            "X_ACCESS_TOKEN (see examples/_common.py), or run with --fake"
        )
    return adapters
