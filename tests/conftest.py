from __future__ import annotations

import pytest

# The real Bluesky PDS is one session fixture for the whole run (it takes ~10 s to start).
pytest_plugins = ["tests.servers.pds.fixture"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
