"""Fixtures: a socialkit MCP server over the three fakes (see mcp_support)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import Client
from tests.mcp.mcp_support import SETTINGS, Session, World


@pytest.fixture
def settings() -> dict[str, Any]:
    return json.loads(json.dumps(SETTINGS))


@pytest.fixture
async def world(tmp_path: Path, settings: dict[str, Any]) -> AsyncIterator[World]:
    made = World(tmp_path, settings)
    try:
        yield made
    finally:
        await made.aclose()
        for text in made.seen:
            for secret in made.secrets():
                assert secret not in text


@pytest.fixture
async def session(world: World) -> AsyncIterator[Session]:
    async with Client(world.server) as client:
        # Listed first, so that the client validates each result against the tool's schema.
        await client.list_tools()
        yield Session(client, world)
