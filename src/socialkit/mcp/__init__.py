"""An MCP server for socialkit (extra ``mcp``: the official MCP Python SDK, ``mcp`` >= 2).

``socialkit mcp`` serves the accounts of the config file to AI assistants over stdio, or over
streamable HTTP behind a bearer token (``--http``): read tools (accounts, posts, metrics, the
inbox, listening, alerts, best times, the calendar), resources (the report, the heatmap), and
acting tools (``check_post``, ``plan_post``, ``publish``, ``reply``, ``route``) that are off
until ``mcp.toml`` turns them on, per tool and per account, and that can wait for a person's
approval (``socialkit mcp approve ID``). See docs/mcp.md.

In Python::

    workspace = Workspace(adapters, store=store, settings=load_settings(path), plan_db=db)
    server = build_server(workspace)            # an mcp.server.mcpserver.MCPServer
    async with mcp.Client(server) as client:    # in-process, as the tests do
        ...

This package imports the SDK only where it is needed (:func:`build_server`), so the command
line works without the extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialkit.mcp._approvals import Approvals, ApprovalStateError
from socialkit.mcp._failures import NothingToShowError
from socialkit.mcp._models import ErrorInfo, Pending, PostIn, ToolFailure
from socialkit.mcp._settings import Acting, HttpSettings, McpSettings, load_settings
from socialkit.mcp._workspace import Workspace

if TYPE_CHECKING:
    from socialkit.mcp._http import bearer_app
    from socialkit.mcp._server import Scrubber, SocialkitMCP, build_server

__all__ = [
    "Acting",
    "ApprovalStateError",
    "Approvals",
    "ErrorInfo",
    "HttpSettings",
    "McpSettings",
    "NothingToShowError",
    "Pending",
    "PostIn",
    "Scrubber",
    "SocialkitMCP",
    "ToolFailure",
    "Workspace",
    "bearer_app",
    "build_server",
    "load_settings",
]

_LAZY = {
    "Scrubber": "socialkit.mcp._server",
    "SocialkitMCP": "socialkit.mcp._server",
    "build_server": "socialkit.mcp._server",
    "bearer_app": "socialkit.mcp._http",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'socialkit.mcp' has no attribute {name!r}")
    from socialkit._errors import ConfigurationError

    try:
        import mcp  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "the MCP server needs the official MCP SDK: pip install 'socialkit-client[mcp]'"
        ) from None
    import importlib

    return getattr(importlib.import_module(module), name)
