"""Fixtures of the workflow tests.

The in-memory ``FakeAdapter(Adapter)`` lives in ``wf_support.py`` (importable by the test
modules, which a conftest is not) and is re-exported here.
"""

from __future__ import annotations

import pytest
from wf_support import FakeAdapter

__all__ = ["FakeAdapter"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
