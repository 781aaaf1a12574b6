"""The commands that talk to networks, through typer's CliRunner against the three fakes.

The accounts are configured as a user would (a TOML file of non-secret settings, secrets in
environment variables); the fakes are reached through the ``CliEnv.http`` seam, which hands each
account an ``httpx.AsyncClient`` bound to its fake (``fake.client()``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialkit._store import MemoryStore
from socialkit.cli import CliEnv, app
from socialkit.cli._config import AccountConfig
from socialkit.testing.fakes import FakeBluesky, FakeMastodon, FakeNetwork, FakeX

runner = CliRunner()


class _SharedStore(MemoryStore):
    async def aclose(self) -> None:  # shared by several invocations
        return None


class World:
    def __init__(self, tmp_path: Path, **mastodon: Any) -> None:
        self.mastodon = FakeMastodon(**mastodon)
        self.bluesky = FakeBluesky()
        self.x = FakeX()
        self.fakes: dict[str, FakeNetwork] = {
            "mastodon": self.mastodon,
            "bluesky": self.bluesky,
            "x": self.x,
        }
        self.store = _SharedStore()
        x_settings = self.x.settings()
        self.environ = {
            "SOCIALKIT_MASTO_ACCESS_TOKEN": self.mastodon.access_token,
            "SOCIALKIT_SKY_PASSWORD": self.bluesky.settings()["password"].get_secret_value(),
            "SOCIALKIT_BIRD_ACCESS_TOKEN": x_settings["access_token"],
            "SOCIALKIT_BIRD_REFRESH_TOKEN": x_settings["refresh_token"],
        }
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{self.mastodon.base_url}"\n'
            'media_poll_interval = 0.01\nrate_limit = "raise"\n\n'
            f'[accounts.sky]\nnetwork = "bluesky"\nservice = "{self.bluesky.base_url}"\n'
            f'identifier = "{self.bluesky.owner.handle}"\n\n'
            f'[accounts.bird]\nnetwork = "x"\nbase_url = "{self.x.base_url}"\n'
            f'client_id = "{x_settings["client_id"]}"\n',
            encoding="utf-8",
        )

    def client(self, account: AccountConfig) -> Any:
        return self.fakes[account.network].client()

    def invoke(self, *args: str, input: str | None = None, **environ: str) -> Any:
        env = CliEnv(
            http=self.client,
            store=lambda: self.store,
            environ={**self.environ, **environ},
            width=200,
        )
        return runner.invoke(app, ["--config", str(self.config), *args], obj=env, input=input)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_accounts_are_ready(world: World) -> None:
    result = world.invoke("accounts", "--json")
    assert result.exit_code == 0, result.output
    rows = {a["label"]: a for a in json.loads(result.stdout)["accounts"]}
    assert all(row["usable"] for row in rows.values()), rows
    for secret in world.environ.values():
        assert secret not in result.output


def test_post_to_every_account_then_read_back(world: World) -> None:
    result = world.invoke("post", "Hello from the socialkit CLI", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data["results"]) == {"masto", "sky", "bird"}
    urls = {label: r["url"] for label, r in data["results"].items()}
    assert urls["masto"].startswith(world.mastodon.base_url)
    assert urls["sky"].startswith("https://bsky.app/profile/")
    assert "/status/" in urls["bird"]

    for label in ("masto", "sky", "bird"):
        posts = world.invoke("posts", "--account", label, "--limit", "5", "--json")
        assert posts.exit_code == 0, posts.output
        found = json.loads(posts.stdout)
        assert [p["text"] for p in found] == ["Hello from the socialkit CLI"]
        assert found[0]["id"] == data["results"][label]["id"]


def test_post_image_and_thread_table_output(world: World, tmp_path: Path) -> None:
    from socialkit.cli._png import demo_image

    image = tmp_path / "chart.png"
    image.write_bytes(demo_image())
    thread = tmp_path / "thread.txt"
    thread.write_text("A thread about charts\n---\nPart two\n---\nPart three\n", encoding="utf-8")
    result = world.invoke(
        "post",
        "--thread-file",
        str(thread),
        "--image",
        str(image),
        "--alt",
        "a chart",
        "--account",
        "masto",
        "--account",
        "bird",
    )
    assert result.exit_code == 0, result.output
    assert "Pre-flight check" in result.stdout
    assert "Published" in result.stdout
    assert result.stdout.count(world.mastodon.base_url) == 3  # the post and its thread
    posts = world.invoke("posts", "--account", "masto", "--json")
    texts = [p["text"] for p in json.loads(posts.stdout)]
    assert texts == ["Part three", "Part two", "A thread about charts"]


def test_post_too_long_exits_4_against_the_fakes(world: World) -> None:
    result = world.invoke("post", "a" * 301, "--json")
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["preflight"]["masto"] == []
    assert [p["code"] for p in data["preflight"]["sky"]] == ["text_too_long"]
    assert [p["code"] for p in data["preflight"]["bird"]] == ["text_too_long"]
    assert "results" not in data
    assert world.invoke("posts", "--account", "masto", "--json").stdout.strip() == "[]"


def test_partial_failure_exits_5_and_auth_failure_6(world: World) -> None:
    result = world.invoke("post", "partly", "--json", SOCIALKIT_MASTO_ACCESS_TOKEN="wrong")
    assert result.exit_code == 5, result.output
    data = json.loads(result.stdout)
    assert data["results"]["masto"]["error"]["type"] == "AuthError"
    assert data["results"]["sky"]["url"]
    assert "wrong" not in json.dumps(data["results"]["masto"])

    only = world.invoke("post", "nope", "--account", "masto", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert only.exit_code == 6
    posts = world.invoke("posts", "--account", "masto", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert posts.exit_code == 6
    assert "mastodon answered HTTP 401" in posts.stderr


def test_rate_limited_exits_7(tmp_path: Path) -> None:
    world = World(tmp_path, rate_limit=2)
    assert world.invoke("posts", "--account", "masto").exit_code == 0
    result = world.invoke("posts", "--account", "masto")
    assert result.exit_code == 7, result.output
    assert "429" in result.stderr


def test_several_accounts_need_account_for_posts(world: World) -> None:
    result = world.invoke("posts")
    assert result.exit_code == 3
    assert "--account" in result.stderr


def test_metrics_move_with_the_audience(world: World) -> None:
    published = json.loads(world.invoke("post", "Measure me", "--json").stdout)["results"]
    fans = {name: fake.add_user("fan") for name, fake in world.fakes.items()}
    labels = {"mastodon": "masto", "bluesky": "sky", "x": "bird"}
    for network, fake in world.fakes.items():
        fake.like(published[labels[network]]["id"], fans[network])
    result = world.invoke("metrics", "--posts", "5", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for network, label in labels.items():
        post_id = published[label]["id"]
        assert data[label]["posts"][post_id]["likes"] == 1, (network, data[label])
        assert "followers" in data[label]["account"]
    table = world.invoke("metrics", "--account", "masto")
    assert table.exit_code == 0
    assert "likes" in table.stdout


def test_inbox_routes_with_rules(world: World, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'default_queue = "general"\n\n'
        '[[rules]]\nname = "sales"\nqueue = "sales"\npriority = 50\nkeywords = ["pricing"]\n\n'
        '[[rules]]\nname = "support"\nqueue = "support"\npriority = 80\n'
        'keywords = ["help", "broken"]\n',
        encoding="utf-8",
    )
    fan = world.mastodon.add_user("fan")
    world.mastodon.mention(fan, "what is your pricing for teams?")
    world.mastodon.direct(fan, "help, my account is broken")
    bfan = world.bluesky.add_user("bfan")
    world.bluesky.mention(bfan, "nice work")
    result = world.invoke("inbox", "--rules", str(rules), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["new"] == 3
    queues = {item["message"]["text"].split()[-1]: item["queue"] for item in data["open"]}
    assert queues == {"teams?": "sales", "broken": "support", "work": "general"}
    assert {q["queue"]: q["total"] for q in data["queues"]} == {
        "general": 1,
        "sales": 1,
        "support": 1,
    }
    again = world.invoke("inbox", "--rules", str(rules))
    assert again.exit_code == 0
    assert "0 new message(s)." in again.stdout
    assert "support" in again.stdout


def test_inbox_bad_rules_exit_3(world: World, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "x"\nqueue = "q"\nregex = "(unclosed"\n', "utf-8")
    result = world.invoke("inbox", "--rules", str(rules))
    assert result.exit_code == 3
    assert "rules[0].regex" in result.stderr


def test_report_collects_and_writes_files(world: World, tmp_path: Path) -> None:
    for text in ("one #demo", "two", "three #demo"):
        assert world.invoke("post", text, "--account", "masto").exit_code == 0
    csv_path = tmp_path / "m.csv"
    png = tmp_path / "h.png"
    result = world.invoke(
        "report", "--account", "masto", "--csv", str(csv_path), "--heatmap", str(png), "--json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["posts"] == 3
    assert [n["group"] for n in data["networks"]] == ["mastodon"]
    assert csv_path.read_text(encoding="utf-8").count("\n") == 4
    assert png.read_bytes()[:4] == b"\x89PNG"
    table = world.invoke("report", "--account", "masto")
    assert table.exit_code == 0
    assert "Per network" in table.stdout


def test_auth_login_bluesky_prompts_without_echo_and_stores(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.config.unlink()
    password = world.environ.pop("SOCIALKIT_SKY_PASSWORD")
    result = world.invoke(
        "auth",
        "login",
        "bluesky",
        "--account",
        "sky",
        "--identifier",
        world.bluesky.owner.handle,
        "--service",
        world.bluesky.base_url,
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert password not in world.config.read_text(encoding="utf-8")
    assert "Logged in to bluesky as owner" in result.stdout
    accounts = json.loads(world.invoke("accounts", "--json").stdout)["accounts"]
    assert accounts == [
        {
            "label": "sky",
            "network": "bluesky",
            "settings": {
                "identifier": world.bluesky.owner.handle,
                "service": world.bluesky.base_url,
            },
            "secrets": {"password": "store"},
            "missing_secrets": [],
            "token": False,
            "usable": True,
            "problems": [],
            "credentials": True,
        }
    ]
    posted = world.invoke("post", "after login", "--json")
    assert posted.exit_code == 0, posted.output


def test_auth_login_bluesky_wrong_password_exits_6(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.config.unlink()
    result = world.invoke(
        "auth",
        "login",
        "bluesky",
        "--account",
        "sky",
        "--identifier",
        world.bluesky.owner.handle,
        "--service",
        world.bluesky.base_url,
        input="not-the-password\n",
        SOCIALKIT_SKY_PASSWORD="",
    )
    assert result.exit_code == 6, result.output
    assert not world.config.exists()


def test_auth_login_unknown_network_exits_3(world: World) -> None:
    result = world.invoke("auth", "login", "myspace", "--account", "old")
    assert result.exit_code == 3
    assert "myspace" in result.stderr


def _browser_for(fake: FakeNetwork) -> Any:
    """A stand-in browser: opens the authorize URL on the fake (which approves at once) and
    follows its redirect to the CLI's loopback server, from another thread (the CLI's event
    loop is busy waiting for that redirect)."""
    import asyncio
    import threading

    import httpx

    threads: list[threading.Thread] = []

    def visit(url: str) -> None:
        async def authorize() -> str:
            async with fake.client() as client:
                answer = await client.get(url)
            assert answer.status_code in (302, 303), answer.text
            return answer.headers["location"]

        location = asyncio.run(authorize())
        assert location.startswith("http://127.0.0.1:")
        httpx.get(location, timeout=10)

    def opener(url: str) -> bool:
        thread = threading.Thread(target=visit, args=(url,), daemon=True)
        thread.start()
        threads.append(thread)
        return True

    return opener


def test_auth_login_mastodon_through_the_loopback_redirect(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.config.unlink()
    env = CliEnv(
        http=world.client,
        store=lambda: world.store,
        environ={},
        opener=_browser_for(world.mastodon),
        login_timeout=20,
        width=200,
    )
    result = runner.invoke(
        app,
        [
            "--config",
            str(world.config),
            "auth",
            "login",
            "mastodon",
            "--account",
            "masto",
            "--instance",
            world.mastodon.base_url,
        ],
        obj=env,
    )
    assert result.exit_code == 0, result.output
    assert "Logged in to mastodon as owner" in result.stdout
    config_text = world.config.read_text(encoding="utf-8")
    assert "access_token" not in config_text
    assert "client_secret" not in config_text
    # No access token anywhere but the token store: the account works from it.
    accounts = json.loads(world.invoke("accounts", "--json").stdout)["accounts"]
    assert accounts[0]["token"] is True
    assert accounts[0]["usable"] is True
    posted = runner.invoke(
        app, ["--config", str(world.config), "post", "logged in", "--json"], obj=env
    )
    assert posted.exit_code == 0, posted.output
    assert json.loads(posted.stdout)["results"]["masto"]["url"].startswith(world.mastodon.base_url)


@pytest.mark.integration
@pytest.mark.anyio
async def test_fakes_serve_serves_every_fake_and_counts_one_post_each() -> None:
    """All twelve fakes in one ``socialkit fakes serve`` process: each real adapter, connected
    through ``/_socialkit/settings``, publishes once; ``/_socialkit/received`` counts one post."""
    import httpx
    from tests.workflows.planner_support import served_fakes

    from socialkit import Media, Post, connect
    from socialkit.testing import conformance as c
    from socialkit.testing.fakes._serve import FAKES

    assert len(FAKES) == 12
    image = Media.from_bytes(c.PNG_1X1, alt="a pixel")
    video = Media.from_bytes(c.MP4_HEAD + bytes(1024), mime_type="video/mp4")
    public = Media.from_url(
        "https://cdn.example.com/pixel.jpg", alt="a pixel"
    )  # Instagram fetches (JPEG)
    media = {"tiktok": [video], "youtube": [video], "instagram": [public], "pinterest": [image]}
    with served_fakes(*FAKES) as fakes:
        assert set(fakes.info) == set(FAKES)
        async with httpx.AsyncClient(timeout=30) as http:
            for name in FAKES:
                base = fakes.info[name]["base_url"]
                settings = (await http.get(f"{base}/_socialkit/settings")).json()
                text = f"one post on {name}"
                async with connect(name, store=MemoryStore(), **settings) as net:
                    posted = await net.publish(Post(text=text, media=media.get(name, [])))
                assert posted.id, name
                report = (await http.get(f"{base}/_socialkit/received")).json()
                assert report["network"] == name
                [created] = report["posts"]
                assert created["answers"] == 1, (name, report)
                assert created["kind"] == "post"
                assert created["text"] == text, (name, created)
