"""``socialkit mcp``: a person's approvals through the command line, and the stdio server.

The approvals run through typer's CliRunner against FakeMastodon (the ``CliEnv.http`` seam);
the stdio test starts ``socialkit mcp`` as a subprocess, as a desktop assistant does, with
FakeMastodon served on 127.0.0.1, and drives it with the SDK's stdio client.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from typer.testing import CliRunner

from socialkit._store import MemoryStore
from socialkit.cli import CliEnv, app
from socialkit.mcp import McpSettings, PostIn, Workspace
from socialkit.testing.fakes import FakeMastodon

runner = CliRunner()
#: The checkout: the subprocess imports socialkit from it, as the tests do.
REPO = str(Path(__file__).resolve().parents[2])


class _SharedStore(MemoryStore):
    async def aclose(self) -> None:  # shared by the test and several invocations
        return None


class Desk:
    """A person's desk: the config file, the shared store, FakeMastodon."""

    def __init__(self, tmp_path: Path) -> None:
        self.mastodon = FakeMastodon()
        self.store = _SharedStore()
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{self.mastodon.base_url}"\n',
            encoding="utf-8",
        )
        (tmp_path / "mcp.toml").write_text(
            '[act.publish]\naccounts = ["masto"]\napproval = true\n', encoding="utf-8"
        )
        self.environ = {
            "SOCIALKIT_MASTO_ACCESS_TOKEN": self.mastodon.access_token,
            "SOCIALKIT_PLANNER_DB": str(tmp_path / "plan.db"),
        }

    def invoke(self, *args: str, **environ: str) -> Any:
        env = CliEnv(
            http=lambda account: self.mastodon.client(),
            store=lambda: self.store,
            environ={**self.environ, **environ},
            width=200,
        )
        result = runner.invoke(app, ["--config", str(self.config), *args], obj=env)
        assert self.mastodon.access_token not in result.output
        return result

    def queue_publish(self, text: str) -> str:
        """What an assistant's publish leaves: an action waiting for a person."""
        return asyncio.run(self._queue_publish(text))

    async def _queue_publish(self, text: str) -> str:
        adapter = self.mastodon.connect()
        try:
            workspace = Workspace(
                {"masto": adapter},
                store=self.store,
                settings=McpSettings.from_data(
                    {"act": {"publish": {"accounts": ["masto"], "approval": True}}}
                ),
            )
            result = await workspace.publish(PostIn(text=text), ["masto"])
        finally:
            await adapter.aclose()
        assert result.pending is not None
        return result.pending.id

    def statuses(self) -> list[str]:
        return self.mastodon.statuses_of(self.mastodon.owner)


def test_a_person_lists_and_approves_once(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    action = desk.queue_publish("Approved by a person")

    listed = desk.invoke("mcp", "approvals", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(a["id"], a["status"], a["text"]) for a in json.loads(listed.stdout)] == [
        (action, "pending", "Approved by a person")
    ]
    table = desk.invoke("mcp", "approvals")
    assert action in table.stdout

    approved = desk.invoke("mcp", "approve", action, "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["status"] == "done"
    assert len(desk.statuses()) == 1

    again = desk.invoke("mcp", "approve", action, "--json")
    assert again.exit_code == 3, again.output
    error = json.loads(again.stdout)["error"]
    assert error["type"] == "ApprovalStateError"
    assert "is done, not pending" in error["message"]
    assert len(desk.statuses()) == 1

    waiting = desk.invoke("mcp", "approvals", "--json")
    assert json.loads(waiting.stdout) == []
    every = desk.invoke("mcp", "approvals", "--all", "--json")
    assert [a["status"] for a in json.loads(every.stdout)] == ["done"]


def test_a_person_rejects(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    action = desk.queue_publish("Not this one")
    rejected = desk.invoke("mcp", "reject", action, "--reason", "off brand", "--json")
    assert rejected.exit_code == 0, rejected.output
    assert json.loads(rejected.stdout)["detail"] == "off brand"
    refused = desk.invoke("mcp", "approve", action, "--json")
    assert refused.exit_code == 3
    assert desk.statuses() == []
    unknown = desk.invoke("mcp", "approve", "publish-nope", "--json")
    assert unknown.exit_code == 3
    assert "no approval 'publish-nope'" in json.loads(unknown.stdout)["error"]["message"]


def test_http_needs_a_token(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    result = desk.invoke("mcp", "--http")
    assert result.exit_code == 3, result.output
    assert "SOCIALKIT_MCP_TOKEN" in result.output
    short = desk.invoke("mcp", "--http", SOCIALKIT_MCP_TOKEN="tiny-secret")
    assert short.exit_code == 3
    assert "too short" in short.output
    assert "tiny-secret" not in short.output


@pytest.mark.anyio
async def test_stdio_server_as_an_assistant_starts_it(tmp_path: Path) -> None:
    from mcp import Client, StdioServerParameters

    mastodon = FakeMastodon()
    with mastodon.serve() as base_url:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{base_url}"\n',
            encoding="utf-8",
        )
        (tmp_path / "mcp.toml").write_text(
            '[act.publish]\naccounts = ["masto"]\napproval = false\n', encoding="utf-8"
        )
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "socialkit.cli", "--config", str(config), "mcp"],
            env={
                "SOCIALKIT_MASTO_ACCESS_TOKEN": mastodon.access_token,
                "SOCIALKIT_STORE": str(tmp_path / "store.db"),
                "SOCIALKIT_PLANNER_DB": str(tmp_path / "plan.db"),
                "PATH": "/usr/bin:/bin",
            },
            cwd=REPO,
        )
        async with Client(params) as client:
            accounts = await client.call_tool("list_accounts", {})
            assert accounts.structured_content is not None
            assert [a["label"] for a in accounts.structured_content["accounts"]] == ["masto"]
            published = await client.call_tool(
                "publish", {"post": {"text": "over stdio"}, "accounts": ["masto"]}
            )
            assert not published.is_error, published.structured_content
            assert mastodon.access_token not in published.model_dump_json()
        assert len(mastodon.statuses_of(mastodon.owner)) == 1


def test_serving_options_do_not_go_with_a_subcommand(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    result = desk.invoke("mcp", "--http", "approvals", "--json")
    assert result.exit_code == 2
    assert "do not go with `mcp approvals`" in result.stdout


def test_settings_before_the_subcommand_are_used(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    action = desk.queue_publish("With other settings")
    bad = tmp_path / "other.toml"
    bad.write_text("colour = 1\n", encoding="utf-8")
    result = desk.invoke("mcp", "--settings", str(bad), "approve", action, "--json")
    assert result.exit_code == 3
    assert "colour" in json.loads(result.stdout)["error"]["message"]
    assert desk.statuses() == []


@pytest.mark.anyio
async def test_http_server_started_from_the_command_line(tmp_path: Path) -> None:
    """`socialkit mcp --http` as a subprocess on 127.0.0.1, FakeMastodon on another port."""
    import socket
    import subprocess

    import anyio
    import httpx
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    token = "cli-token-" + "z" * 30
    mastodon = FakeMastodon()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with mastodon.serve() as base_url:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{base_url}"\n',
            encoding="utf-8",
        )
        (tmp_path / "mcp.toml").write_text(
            '[act.publish]\naccounts = ["masto"]\napproval = false\n', encoding="utf-8"
        )
        env = {
            "SOCIALKIT_MASTO_ACCESS_TOKEN": mastodon.access_token,
            "SOCIALKIT_MCP_TOKEN": token,
            "SOCIALKIT_STORE": str(tmp_path / "store.db"),
            "SOCIALKIT_PLANNER_DB": str(tmp_path / "plan.db"),
            "PATH": "/usr/bin:/bin",
        }
        args = [sys.executable, "-m", "socialkit.cli", "--config", str(config), "mcp", "--http"]
        process = subprocess.Popen(  # noqa: ASYNC220 - a server for the test's lifetime
            [*args, "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        url = f"http://127.0.0.1:{port}/mcp"
        try:
            async with httpx.AsyncClient() as plain:
                for _ in range(200):
                    try:
                        refused = await plain.post(url, json={})
                        break
                    except httpx.TransportError:
                        await anyio.sleep(0.05)
                else:
                    pytest.fail("the server did not start")
            assert refused.status_code == 401
            headers = {"Authorization": f"Bearer {token}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(url, http_client=http)) as client,
            ):
                result = await client.call_tool(
                    "publish", {"post": {"text": "from the HTTP server"}, "accounts": ["masto"]}
                )
                assert not result.is_error, result.structured_content
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=10)
        assert len(mastodon.statuses_of(mastodon.owner)) == 1
        logged = err.decode()
        assert token not in logged
        assert mastodon.access_token not in logged
        assert f"127.0.0.1:{port}/mcp" in logged
