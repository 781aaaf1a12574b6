"""socialkit.mcp's public names, and the command line without the MCP extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import socialkit.mcp

REPO = str(Path(__file__).resolve().parents[2])


def test_public_names_are_sorted_and_present() -> None:
    names = list(socialkit.mcp.__all__)
    assert names == sorted(names)
    for name in names:
        assert getattr(socialkit.mcp, name) is not None, name


def test_the_command_line_works_without_the_sdk() -> None:
    """With `mcp` not installed, `socialkit` still starts; asking for the server names the
    extra to install."""
    script = (
        "import sys; sys.modules['mcp'] = None\n"
        "from socialkit.cli import app\n"
        "import socialkit.mcp\n"
        "from socialkit import ConfigurationError\n"
        "try:\n"
        "    socialkit.mcp.build_server\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert "pip install 'socialkit-client[mcp]'" in result.stdout, result.stderr
