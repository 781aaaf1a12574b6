"""``socialkit plan …`` and ``socialkit fakes serve``.

The in-process tests drive the commands with typer's CliRunner against the three fakes (the
``CliEnv.http`` seam, as in test_cli_fakes.py); ``plan run --workers N`` and ``fakes serve`` run
as real processes against fakes served on loopback ports.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.workflows.planner_support import child_env, cli, served_fakes
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
    """The three fakes in-process, a config file of three accounts and a plan file."""

    def __init__(self, tmp_path: Path) -> None:
        self.fakes: dict[str, FakeNetwork] = {
            "mastodon": FakeMastodon(),
            "bluesky": FakeBluesky(),
            "x": FakeX(),
        }
        self.store = _SharedStore()
        m, b, x = (self.fakes[n].settings() for n in ("mastodon", "bluesky", "x"))
        self.environ = {
            "SOCIALKIT_MASTO_ACCESS_TOKEN": m["access_token"],
            "SOCIALKIT_SKY_PASSWORD": b["password"].get_secret_value(),
            "SOCIALKIT_BIRD_ACCESS_TOKEN": x["access_token"],
            "SOCIALKIT_BIRD_REFRESH_TOKEN": x["refresh_token"],
        }
        self.config = tmp_path / "config.toml"
        self.config.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{m["instance"]}"\n\n'
            f'[accounts.sky]\nnetwork = "bluesky"\nservice = "{b["service"]}"\n'
            f'identifier = "{b["identifier"]}"\n\n'
            f'[accounts.bird]\nnetwork = "x"\nbase_url = "{x["base_url"]}"\n'
            f'client_id = "{x["client_id"]}"\n',
            encoding="utf-8",
        )
        self.db = str(tmp_path / "plan.db")

    def client(self, account: AccountConfig) -> Any:
        # Through the fake's served app, so that its /_socialkit/received report counts.
        app = self.fakes[account.network].served_app()
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))

    def received(self, network: str) -> Any:
        return self.fakes[network].served_app().log.report()

    def invoke(self, *args: str) -> Any:
        env = CliEnv(http=self.client, store=lambda: self.store, environ=self.environ, width=200)
        return runner.invoke(app, ["--config", str(self.config), *args, "--db", self.db], obj=env)

    def json(self, *args: str) -> Any:
        result = self.invoke(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def test_add_list_show_move_cancel(world: World) -> None:
    at = datetime.now(timezone.utc) + timedelta(days=1)
    added = world.json(
        "plan",
        "add",
        "Hello from the plan",
        "--account",
        "masto",
        "--account",
        "bird",
        "--at",
        iso(at),
        "--campaign",
        "launch",
        "--tag",
        "News",
        "--text-for",
        "x=Hello, X",
    )
    post_id = added["post"]
    texts = {t["account"]: t["text"] for t in added["targets"]}
    assert texts == {"masto": "Hello from the plan", "bird": "Hello, X"}
    listed = world.json("plan", "list", "--campaign", "launch")
    assert [t["status"] for t in listed["targets"]] == ["planned", "planned"]
    assert world.json("plan", "list", "--tag", "news")["targets"]
    assert (
        world.json("plan", "list", "--day", at.date().isoformat(), "--account", "bird")["targets"][
            0
        ]["text"]
        == "Hello, X"
    )
    assert world.json("plan", "list", "--status", "published")["targets"] == []
    shown = world.json("plan", "show", post_id)
    assert [e["status"] for e in shown["targets"][0]["events"]] == ["planned"]
    later = at + timedelta(hours=2)
    moved = world.json("plan", "move", post_id, "--at", iso(later))
    assert {t["due_at"] for t in moved["targets"]} == {later.isoformat()}
    cancelled = world.json("plan", "cancel", moved["targets"][0]["id"])
    assert [t["status"] for t in cancelled["targets"]] == ["cancelled"]
    table = world.invoke("plan", "list")
    assert table.exit_code == 0
    assert "cancelled" in table.stdout
    assert "Hello, X" in table.stdout


def test_move_and_cancel_a_native_schedule_on_the_network(world: World) -> None:
    """A target Mastodon holds (``--native``): ``plan move`` and ``plan cancel`` open the
    account and change its scheduled status on the server too."""
    fake = world.fakes["mastodon"]
    assert isinstance(fake, FakeMastodon)
    at = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    added = world.json(
        "plan", "add", "held by Mastodon", "--account", "masto", "--at", iso(at), "--native"
    )
    ran = world.json("plan", "run", "--until-idle", "--poll", "0.05")
    assert ran["outcomes"] == {"scheduled": 1}
    [held] = fake._scheduled.values()
    assert held.scheduled_at == at
    later = at + timedelta(hours=3)
    moved = world.json("plan", "move", added["post"], "--at", iso(later))
    assert [(t["status"], t["due_at"]) for t in moved["targets"]] == [
        ("scheduled", later.isoformat())
    ]
    assert [s.scheduled_at for s in fake._scheduled.values()] == [later]
    cancelled = world.json("plan", "cancel", added["post"])
    assert [t["status"] for t in cancelled["targets"]] == ["cancelled"]
    assert fake._scheduled == {}


def test_add_refuses_what_a_network_would_refuse_and_conflicts(
    world: World, tmp_path: Path
) -> None:
    # Noon UTC tomorrow: "first" and "second" (5 minutes later) fall on one day of the
    # max_per_day rule whatever the hour the test runs (after 23:55 they crossed midnight).
    at = (datetime.now(timezone.utc) + timedelta(days=1)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    too_long = "word " * 100  # 500 of X's 280: refused, since --no-split asks for no thread
    result = world.invoke(
        "plan", "add", too_long, "--account", "bird", "--at", iso(at), "--no-split", "--json"
    )
    assert result.exit_code == 4, result.output  # an invalid post
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "PreflightError"
    assert any(p.startswith("bird:") for p in error["problems"])
    assert world.json("plan", "list")["targets"] == []

    rules = tmp_path / "planner.toml"  # beside the config file: used by default
    rules.write_text("[[cadence]]\nmax_per_day = 1\n", encoding="utf-8")
    world.json("plan", "add", "first", "--account", "masto", "--at", iso(at))
    second = world.invoke(
        "plan", "add", "second", "--account", "masto", "--at", iso(at + timedelta(minutes=5))
    )
    assert second.exit_code == 1
    assert "max_per_day" in second.output
    assert "first" not in second.output  # the other post is named by its id
    bad = world.invoke("plan", "add", "x", "--account", "masto")
    assert bad.exit_code == 2
    naive = world.invoke("plan", "add", "x", "--account", "masto", "--at", "2026-12-07T09:00")
    assert naive.exit_code == 2
    assert "offset" in naive.output


def test_pause_run_resume(world: World) -> None:
    now = datetime.now(timezone.utc) - timedelta(seconds=1)
    world.json(
        "plan", "add", "due now", "--account", "masto", "--account", "bird", "--at", iso(now)
    )
    paused = world.json("plan", "pause", "--account", "bird", "--reason", "reply storm")
    assert paused["pause"]["scope"] == "bird"
    assert paused["held"] == 1
    ran = world.json("plan", "run", "--until-idle", "--poll", "0.05", "--retry-after", "0")
    assert ran["outcomes"] == {"published": 1}
    assert ran["counts"]["paused"] == 1
    listed = world.json("plan", "list")
    assert {(t["account"], t["status"], t["paused"]) for t in listed["targets"]} == {
        ("masto", "published", False),
        ("bird", "planned", True),
    }
    assert listed["pauses"][0]["reason"] == "reply storm"
    assert world.json("plan", "resume", "--account", "bird")["resumed"] is True
    ran = world.json("plan", "run", "--until-idle", "--poll", "0.05")
    assert ran["outcomes"] == {"published": 1}
    published = world.json("plan", "list", "--status", "published")["targets"]
    urls = {t["account"]: t["url"] for t in published}
    assert set(urls) == {"masto", "bird"}
    assert all(urls.values())
    # Counted at the fakes: each posted once.
    for network in ("mastodon", "x"):
        assert [p["text"] for p in world.received(network)["posts"]] == ["due now"]


@pytest.mark.integration
def test_run_with_workers_against_served_fakes(tmp_path: Path) -> None:
    with served_fakes() as fakes:
        config, env = fakes.config(tmp_path / "config.toml")
        env["SOCIALKIT_STORE"] = str(tmp_path / "store.db")
        db = str(tmp_path / "plan.db")
        now = datetime.now(timezone.utc) - timedelta(seconds=1)
        for i in range(6):
            subprocess.run(
                cli(
                    "--config",
                    str(config),
                    "plan",
                    "add",
                    f"worker post {i}",
                    "--account",
                    "masto",
                    "--account",
                    "sky",
                    "--account",
                    "bird",
                    "--at",
                    iso(now),
                    "--db",
                    db,
                    "--json",
                ),
                check=True,
                capture_output=True,
                env=child_env(env),
                timeout=120,
            )
        done = subprocess.run(
            cli(
                "--config",
                str(config),
                "plan",
                "run",
                "--workers",
                "3",
                "--until-idle",
                "--poll",
                "0.1",
                "--db",
                db,
                "--json",
            ),
            capture_output=True,
            text=True,
            env=child_env(env),
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report = json.loads(done.stdout)
        assert len(report["workers"]) == 3
        assert sum(w["outcomes"].get("published", 0) for w in report["workers"]) == 18
        assert report["counts"]["published"] == 18
        for name in ("mastodon", "bluesky", "x"):
            texts = [p["text"] for p in fakes.received(name)["posts"]]
            assert sorted(texts) == [f"worker post {i}" for i in range(6)]


@pytest.mark.integration
def test_fakes_serve_reports_what_it_received(tmp_path: Path) -> None:
    with served_fakes() as fakes:
        mastodon = fakes.settings("mastodon")
        base = fakes.info["mastodon"]["base_url"]
        headers = {"Authorization": f"Bearer {mastodon['access_token']}", "Idempotency-Key": "k1"}
        for _ in range(2):  # the same key twice: one post, answered twice
            answer = httpx.post(
                f"{base}/api/v1/statuses", data={"status": "from curl"}, headers=headers
            )
            assert answer.status_code == 200
        report = fakes.received("mastodon")
        assert report["by_route"]["POST /api/v1/statuses"] == 2
        [created] = report["posts"]
        assert created["text"] == "from curl"
        assert created["answers"] == 2
        assert httpx.get(f"{base}/_socialkit/settings").json()["instance"] == base
        assert httpx.get(f"{base}/_socialkit/nothing").status_code == 404


def test_fakes_serve_refuses_a_non_loopback_host() -> None:
    result = runner.invoke(app, ["fakes", "serve", "x", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "loopback" in result.output
    unknown = runner.invoke(app, ["fakes", "serve", "myspace"])
    assert unknown.exit_code == 2


def test_add_at_the_next_best_slot_from_analytics(world: World) -> None:
    """--best measures the account's posts (through the network) and picks its best hour."""
    fake = world.fakes["mastodon"]
    fans = [fake.add_user(f"fan{i}") for i in range(8)]
    start = (datetime.now(timezone.utc) - timedelta(days=20)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    for day in range(10):
        fake.clock.set(start + timedelta(days=day))
        loved = fake.publish_as(fake.owner, f"morning {day}")
        for fan in fans:
            fake.like(loved, fan)
        fake.clock.set(start + timedelta(days=day, hours=6))
        fake.publish_as(fake.owner, f"afternoon {day}")
    fake.clock.set(datetime.now(timezone.utc))
    added = world.json("plan", "add", "at the best time", "--account", "masto", "--best")
    due = datetime.fromisoformat(added["targets"][0]["due_at"])
    assert due.hour == 9
    assert datetime.now(timezone.utc) < due < datetime.now(timezone.utc) + timedelta(days=7)
    without = world.invoke("plan", "add", "x", "--account", "bird", "--best")
    assert without.exit_code == 3  # nothing measured on that account: give --at
    assert "--at" in without.output


def test_rules_file_with_blackouts(world: World, tmp_path: Path) -> None:
    start = (datetime.now(timezone.utc) + timedelta(days=2)).replace(microsecond=0)
    rules = tmp_path / "rules.toml"
    rules.write_text(
        "[[blackout]]\n"
        'reason = "earnings call"\n'
        f"start = {start.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        f"end = {(start + timedelta(hours=3)).strftime('%Y-%m-%dT%H:%M:%SZ')}\n\n"
        "[[blackout]]\n"
        'reason = "night"\naccount = "bird"\ndaily_from = "22:00"\ndaily_to = "07:00"\n'
        'tz = "Europe/Paris"\n\n'
        '[[cadence]]\naccount = "masto"\nmin_gap_minutes = 90\n',
        encoding="utf-8",
    )
    inside = world.invoke(
        "plan",
        "add",
        "x",
        "--account",
        "masto",
        "--at",
        iso(start + timedelta(hours=1)),
        "--rules",
        str(rules),
    )
    assert inside.exit_code == 1
    assert "earnings call" in inside.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cadence]]\nmax_per_day = "many"\n', encoding="utf-8")
    refused = world.invoke(
        "plan", "add", "x", "--account", "masto", "--at", iso(start), "--rules", str(bad)
    )
    assert refused.exit_code == 3
    assert "not valid" in refused.output
