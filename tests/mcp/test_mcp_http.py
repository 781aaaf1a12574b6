"""The streamable HTTP transport behind the bearer token, and the settings that configure it.

The full round trip runs the real application under uvicorn on 127.0.0.1 (an ephemeral port)
and connects the SDK's streamable HTTP client to it; the refusals are checked at the ASGI
level with httpx's in-process transport.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("mcp")

from tests.mcp.mcp_support import World

from socialkit._errors import ConfigurationError
from socialkit.mcp import HttpSettings, McpSettings, load_settings
from socialkit.mcp._http import bearer_app, http_app
from socialkit.mcp._settings import TOKEN_ENV, read_token

pytestmark = pytest.mark.anyio

TOKEN = "t0ken-" + "x" * 40


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"reached"})


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
    ],
)
async def test_requests_without_the_token_are_refused(headers: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=bearer_app(_echo, TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp", headers=headers, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "unauthorized"
    assert TOKEN not in response.text


async def test_the_token_lets_the_request_through() -> None:
    transport = httpx.ASGITransport(app=bearer_app(_echo, TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/mcp", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.text == "reached"


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        bearer_app(_echo, "")


@contextmanager
def _served(app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


async def test_round_trip_over_http_with_the_token(tmp_path: Path) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    world = World(tmp_path, {"act": {"publish": {"accounts": ["masto"], "approval": True}}})
    try:
        app = http_app(world.server, HttpSettings(), world.http_token)
        with _served(app) as base:
            # Without the token: refused before MCP.
            async with httpx.AsyncClient() as plain:
                refused = await plain.post(f"{base}/mcp", json={"jsonrpc": "2.0"})
            assert refused.status_code == 401

            headers = {"Authorization": f"Bearer {world.http_token}"}
            async with (
                httpx2.AsyncClient(headers=headers, timeout=30) as http,
                Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
            ):
                names = {t.name for t in (await client.list_tools()).tools}
                assert {"publish", "read_inbox", "check_post"} <= names
                result = await client.call_tool(
                    "publish", {"post": {"text": "over HTTP"}, "accounts": ["masto"]}
                )
                assert not result.is_error
                assert result.structured_content is not None
                assert result.structured_content["pending"]["status"] == "pending"
                assert world.http_token not in result.model_dump_json()
        assert world.masto_statuses() == []
    finally:
        await world.aclose()


def test_read_token_from_environment_or_file(tmp_path: Path) -> None:
    assert read_token(HttpSettings(), {TOKEN_ENV: TOKEN}) == TOKEN
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n", encoding="utf-8")
    assert read_token(HttpSettings(token_file=path), {}) == TOKEN
    # The environment wins over the file.
    other = "e" * 30
    assert read_token(HttpSettings(token_file=path), {TOKEN_ENV: other}) == other


def test_missing_or_short_token_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="needs a bearer token") as missing:
        read_token(HttpSettings(), {})
    assert TOKEN_ENV in str(missing.value)
    with pytest.raises(ConfigurationError, match="too short") as short:
        read_token(HttpSettings(), {TOKEN_ENV: "short-secret"})
    assert "short-secret" not in str(short.value)
    with pytest.raises(ConfigurationError, match="cannot read"):
        read_token(HttpSettings(token_file=tmp_path / "absent"), {})


def test_settings_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == McpSettings()
    path = tmp_path / "mcp.toml"
    path.write_text(
        'tz = "Europe/Paris"\n[act.publish]\naccounts = ["masto"]\n\n[act.reply]\n'
        'accounts = ["*"]\napproval = false\n\n[[watches]]\nname = "brand"\nrole = "brand"\n'
        'keywords = ["socialkit"]\n',
        encoding="utf-8",
    )
    settings = load_settings(path)
    publish = settings.acting("publish")
    assert publish is not None
    assert publish.approval is True
    assert publish.allows("masto")
    assert not publish.allows("sky")
    reply = settings.acting("reply")
    assert reply is not None
    assert reply.allows("anyone")
    assert reply.approval is False
    assert settings.acting("route") is None
    assert [w.name for w in settings.watches] == ["brand"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[http]\ntoken = "s3cret-value-here"\n', "http.token: the bearer token must not be"),
        ('[act.delete]\naccounts = ["*"]\n', "act.delete"),
        ('tz = "Mars/Olympus"\n', "unknown time zone"),
        # A region's folder is no zone: ZoneInfo raises IsADirectoryError, not a ValueError.
        ('tz = "America"\n', "unknown time zone"),
        ("colour = 1\n", "colour"),
        ('[[watches]]\nname = "w"\n', "needs keywords"),
        ("[act.route]\napproval = true\n", "route acts at once"),
    ],
)
def test_bad_settings_are_refused_with_each_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "mcp.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    assert problem in str(caught.value)
    assert "s3cret-value-here" not in str(caught.value)


def test_the_documented_settings_are_valid(tmp_path: Path) -> None:
    """docs/mcp.md's mcp.toml example loads as written."""
    import re

    docs = Path(__file__).resolve().parents[2] / "docs" / "mcp.md"
    match = re.search(r"```toml\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    assert match is not None
    path = tmp_path / "mcp.toml"
    path.write_text(match.group(1), encoding="utf-8")
    settings = load_settings(path)
    assert set(settings.act) == {"publish", "plan_post", "reply", "route"}
    assert [w.name for w in settings.watches] == ["brand", "rival"]
    assert settings.routing.rules[0].queue == "support"
    assert settings.http.token_file is not None
