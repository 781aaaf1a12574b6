"""A socialkit MCP server over the three fake networks, driven by the SDK's in-process client.

The accounts are the real adapters connected to FakeMastodon, FakeBluesky and FakeX (no
traffic leaves the process); the plan is a SQLite file in the test's folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import Client
from mcp.types import CallToolResult

from socialkit._store import MemoryStore
from socialkit.mcp import McpSettings, Workspace, build_server
from socialkit.testing.fakes import FakeBluesky, FakeMastodon, FakeX
from socialkit.workflows.planner import SQLitePlanDB

#: The settings of most tests: every acting tool on for masto and sky, approval where it can.
SETTINGS: dict[str, Any] = {
    "act": {
        "publish": {"accounts": ["masto", "sky"], "approval": True},
        "plan_post": {"accounts": ["*"], "approval": True},
        "reply": {"accounts": ["masto"], "approval": True},
        "route": {"accounts": ["*"]},
    },
    "routing": {
        "rules": [{"name": "help", "queue": "support", "priority": 50, "keywords": ["help"]}],
        "default_queue": "inbox",
    },
    "watches": [
        {"name": "brand", "role": "brand", "keywords": ["socialkit"], "networks": ["masto"]},
        {"name": "rival", "role": "competitor", "keywords": ["rivalkit"], "networks": ["masto"]},
    ],
}


class World:
    """Three fakes, their adapters, the store, the plan and the server."""

    def __init__(
        self,
        tmp_path: Path,
        settings: dict[str, Any],
        *,
        mastodon: FakeMastodon | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.mastodon = mastodon or FakeMastodon()
        self.bluesky = FakeBluesky()
        self.x = FakeX()
        self.adapters = {
            "masto": self.mastodon.connect(),
            "sky": self.bluesky.connect(),
            "bird": self.x.connect(),
        }
        self.store = MemoryStore()
        self.plan_db = SQLitePlanDB(tmp_path / "plan.db")
        self.workspace = Workspace(
            self.adapters,
            store=self.store,
            settings=McpSettings.from_data(settings),
            plan_db=self.plan_db,
            **({"clock": clock} if clock is not None else {}),
        )
        self.http_token = "http-token-" + "k" * 32
        self.server = build_server(self.workspace, secrets=[self.http_token])
        #: Every text a tool or resource returned in this test (checked for secrets).
        self.seen: list[str] = []

    def secrets(self) -> list[str]:
        x = self.x.settings()
        return [
            self.mastodon.access_token,
            self.bluesky.settings()["password"].get_secret_value(),
            str(x["access_token"]),
            str(x["refresh_token"]),
            self.http_token,
        ]

    def masto_statuses(self) -> list[str]:
        return self.mastodon.statuses_of(self.mastodon.owner)

    async def aclose(self) -> None:
        for adapter in self.adapters.values():
            await adapter.aclose()
        await self.plan_db.aclose()


class Session:
    """The SDK's client, connected in-process; every result is kept for the secret check."""

    def __init__(self, client: Client, world: World) -> None:
        self.client = client
        self.world = world

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        result = await self.client.call_tool(name, arguments or {})
        self.world.seen.append(result.model_dump_json())
        return result

    async def ok(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.call(name, arguments)
        assert not result.is_error, result.structured_content
        assert result.structured_content is not None
        # The text block says the same as the structured content (for clients without it).
        assert result.content[0].type == "text"
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    async def error(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.call(name, arguments)
        assert result.is_error, result.structured_content
        assert result.structured_content is not None
        error: dict[str, Any] = result.structured_content["error"]
        assert set(error) >= {"type", "message", "problems", "fix"}
        return error
