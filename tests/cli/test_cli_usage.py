"""The command line as a user meets it (issue 11): --version, --config checks and placement,
credentials in post --dry-run, inbox failures, auth login mastodon without a default server, and
JSON errors with --json. Networks are the fakes (socialkit.testing.fakes) through CliEnv.http, or
a recording transport that answers nothing: no test sends a request anywhere else."""

from __future__ import annotations

import json
import logging
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.cli.test_cli_fakes import World
from typer.testing import CliRunner

from socialkit._store import MemoryStore
from socialkit.cli import CliEnv, app

runner = CliRunner()


class _Shared(MemoryStore):
    async def aclose(self) -> None:
        return None


def _recording_env(sent: list[httpx.Request], **environ: str) -> CliEnv:
    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    store = _Shared()
    return CliEnv(
        http=lambda account: httpx.AsyncClient(transport=httpx.MockTransport(record)),
        store=lambda: store,
        environ=environ,
        width=200,
    )


def _two_accounts(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[accounts.masto]\nnetwork = "mastodon"\ninstance = "https://example.social"\n\n'
        '[accounts.sky]\nnetwork = "bluesky"\nidentifier = "brand.example.com"\n',
        encoding="utf-8",
    )
    return path


def _error(result: Any) -> dict[str, Any]:
    document = json.loads(result.stdout)
    assert set(document) == {"error"}
    error: dict[str, Any] = document["error"]
    assert error["exit_code"] == result.exit_code
    return error


# -- --version ----------------------------------------------------------------------------------


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"socialkit {version('socialkit-client')}"


# -- --config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["accounts"],
        ["post", "hello", "--dry-run"],
        ["inbox"],
        ["posts"],
        ["metrics"],
        ["report"],
    ],
)
def test_a_config_path_that_does_not_exist_exits_3(tmp_path: Path, args: list[str]) -> None:
    sent: list[httpx.Request] = []
    missing = tmp_path / "typo.toml"
    result = runner.invoke(app, ["--config", str(missing), *args], obj=_recording_env(sent))
    assert result.exit_code == 3, result.output
    assert "does not exist" in result.stderr
    assert str(missing) in result.stderr.replace("\n", "")
    assert sent == []
    assert not missing.exists()


def test_a_missing_config_from_the_environment_exits_3(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = runner.invoke(
        app, ["accounts"], obj=_recording_env([]), env={"SOCIALKIT_CONFIG": str(missing)}
    )
    assert result.exit_code == 3
    assert "does not exist" in result.stderr


def test_config_is_accepted_after_the_command_name(tmp_path: Path) -> None:
    path = _two_accounts(tmp_path)
    env = _recording_env([], SOCIALKIT_MASTO_ACCESS_TOKEN="t", SOCIALKIT_SKY_PASSWORD="p")
    result = runner.invoke(app, ["accounts", "--config", str(path), "--json"], obj=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"] == str(path)
    result = runner.invoke(app, ["post", "--config", str(path), "hello", "--dry-run"], obj=env)
    assert result.exit_code == 0, result.output
    assert "Dry run: nothing was sent." in result.stdout
    # After the command name wins over before it.
    other = tmp_path / "absent.toml"
    result = runner.invoke(
        app, ["--config", str(other), "accounts", "--config", str(path), "--json"], obj=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"] == str(path)
    result = runner.invoke(app, ["accounts", "--config", str(other)], obj=env)
    assert result.exit_code == 3


# -- post --dry-run and credentials -------------------------------------------------------------


def test_post_dry_run_reports_accounts_without_credentials(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []
    path = _two_accounts(tmp_path)
    env = _recording_env(sent, SOCIALKIT_MASTO_ACCESS_TOKEN="t")  # sky has none
    result = runner.invoke(app, ["--config", str(path), "post", "hello", "--dry-run"], obj=env)
    assert result.exit_code == 3, result.output
    assert "no credentials" in result.stdout
    assert "SOCIALKIT_SKY_PASSWORD" in result.stdout
    assert "socialkit auth login bluesky --account sky" in result.stdout
    assert "Nothing was sent" in result.stderr
    as_json = runner.invoke(
        app, ["--config", str(path), "post", "hello", "--dry-run", "--json"], obj=env
    )
    assert as_json.exit_code == 3
    report = json.loads(as_json.stdout)
    assert list(report["missing_credentials"]) == ["sky"]
    assert report["preflight"] == {"masto": [], "sky": []}
    # Without --dry-run nothing is sent either, to any account.
    real = runner.invoke(app, ["--config", str(path), "post", "hello"], obj=env)
    assert real.exit_code == 3
    assert sent == []


# -- inbox --------------------------------------------------------------------------------------


def test_inbox_with_every_account_failing_reports_each_once_and_no_tables(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(tmp_path)
    caplog.set_level(logging.WARNING)
    result = world.invoke("inbox", "--account", "masto", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert result.exit_code == 6, result.output  # all failed: the code of their error
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("masto: AuthError:")
    # The inbox's own warning is muted for the command, which reports the failure itself.
    assert not [r for r in caplog.records if r.name == "socialkit.workflows.inbox"]


def test_inbox_with_some_accounts_failing_exits_5(tmp_path: Path) -> None:
    world = World(tmp_path)
    fan = world.bluesky.add_user("fan")
    world.bluesky.mention(fan, "hello there")
    result = world.invoke("inbox", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert result.exit_code == 5, result.output
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["masto"]
    assert "1 new message(s)." in result.stdout
    assert "hello there" in result.stdout
    as_json = world.invoke("inbox", "--json", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert as_json.exit_code == 5
    assert list(json.loads(as_json.stdout)["errors"]) == ["masto"]
    assert as_json.stderr == ""


def test_inbox_with_nothing_open_prints_no_empty_table(tmp_path: Path) -> None:
    world = World(tmp_path)
    result = world.invoke("inbox")
    assert result.exit_code == 0, result.output
    assert "No open messages." in result.stdout
    assert "Open messages" not in result.stdout
    assert "┃" not in result.stdout  # no table at all


# -- auth login mastodon ------------------------------------------------------------------------


def test_auth_login_mastodon_needs_an_instance(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []
    config = tmp_path / "config.toml"
    result = runner.invoke(
        app,
        ["--config", str(config), "auth", "login", "mastodon", "--account", "m"],
        obj=_recording_env(sent),
    )
    assert result.exit_code == 2, result.output
    assert "--instance" in result.stderr
    assert sent == []  # no server was contacted, none was picked
    assert not config.exists()


def test_auth_login_accepts_config_after_the_command(tmp_path: Path) -> None:
    world = World(tmp_path)
    result = runner.invoke(
        app,
        ["auth", "login", "bluesky", "--account", "sky2", "--config", str(tmp_path / "new.toml")],
        obj=CliEnv(
            http=world.client,
            store=lambda: world.store,
            environ={"SOCIALKIT_SKY2_PASSWORD": world.environ["SOCIALKIT_SKY_PASSWORD"]},
            width=200,
        ),
        input=f"{world.bluesky.owner.handle}\n",
    )
    # Bluesky's default service is the real one; the login goes to the fake through the seam.
    assert result.exit_code == 0, result.output
    assert "sky2" in (tmp_path / "new.toml").read_text(encoding="utf-8")


# -- --json errors ------------------------------------------------------------------------------


def test_json_errors_are_one_json_document_on_stdout(tmp_path: Path) -> None:
    missing = tmp_path / "typo.toml"
    result = runner.invoke(app, ["--config", str(missing), "accounts", "--json"])
    assert result.exit_code == 3
    error = _error(result)
    assert error["type"] == "ConfigurationError"
    assert "does not exist" in error["message"]
    assert result.stderr == ""

    world = World(tmp_path)
    auth = world.invoke("posts", "--account", "masto", "--json", SOCIALKIT_MASTO_ACCESS_TOKEN="x")
    assert auth.exit_code == 6
    assert _error(auth)["type"] == "AuthError"
    assert auth.stderr == ""

    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "x"\nqueue = "q"\nregex = "(unclosed"\n', "utf-8")
    bad_rules = world.invoke("inbox", "--rules", str(rules), "--json")
    assert bad_rules.exit_code == 3
    assert any("rules[0].regex" in p for p in _error(bad_rules)["problems"])


@pytest.mark.parametrize(
    "args",
    [
        ["post", "--json"],  # no text: raised by the command
        ["posts", "--json", "--limit", "0"],  # refused by the option's range
        ["posts", "--json", "--bogus"],  # an unknown option
        ["networks", "--json", "extra"],  # an unexpected argument
    ],
)
def test_json_usage_errors_are_json_with_exit_2(tmp_path: Path, args: list[str]) -> None:
    path = _two_accounts(tmp_path)
    result = runner.invoke(app, ["--config", str(path), *args], obj=_recording_env([]))
    assert result.exit_code == 2, result.output
    error = _error(result)
    assert error["message"]
    assert result.stderr == ""


def test_without_json_errors_stay_text_on_stderr(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "typo.toml"), "accounts"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.startswith("error:")


def test_report_reports_a_failing_account_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(tmp_path)
    caplog.set_level(logging.WARNING)
    result = world.invoke("report", "--json", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert result.exit_code == 5, result.output
    assert list(json.loads(result.stdout)["errors"]) == ["masto"]
    assert result.stderr == ""  # with --json, only the document
    text = world.invoke("report", SOCIALKIT_MASTO_ACCESS_TOKEN="bad")
    assert text.exit_code == 5
    assert [line.split(":")[0] for line in text.stderr.splitlines()] == ["masto"]
    assert not [r for r in caplog.records if r.name == "socialkit.workflows.analytics"]


# -- time zones and output files ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--tz", "America"],  # a region's folder: ZoneInfo raises IsADirectoryError
        ["report", "--tz", "Mars/Olympus"],
        ["plan", "list", "--tz", "America"],
        ["plan", "add", "hi", "--account", "masto", "--best", "--tz", "Mars/Olympus"],
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_an_unknown_time_zone_exits_3_before_any_request(
    tmp_path: Path, args: list[str], as_json: bool
) -> None:
    path = _two_accounts(tmp_path)
    if args[0] == "plan":
        args = [*args, "--db", str(tmp_path / "plan.db")]
    sent: list[httpx.Request] = []
    result = runner.invoke(
        app,
        ["--config", str(path), *args, *(["--json"] if as_json else [])],
        obj=_recording_env(sent),
    )
    assert result.exit_code == 3, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = _error(result)["message"] if as_json else result.stderr
    assert "unknown time zone" in message
    assert "Traceback" not in result.output
    assert sent == []


def test_a_rules_file_with_a_region_as_time_zone_exits_3(tmp_path: Path) -> None:
    path = _two_accounts(tmp_path)
    (tmp_path / "planner.toml").write_text(
        '[[cadence]]\nname = "gap"\nmin_gap_minutes = 60\ntz = "America"\n', encoding="utf-8"
    )
    result = runner.invoke(
        app,
        ["--config", str(path), "plan", "list", "--db", str(tmp_path / "plan.db"), "--json"],
        obj=_recording_env([]),
    )
    assert result.exit_code == 3, result.output
    assert "rules file" in _error(result)["message"]


@pytest.mark.parametrize("option", ["--csv", "--heatmap"])
@pytest.mark.parametrize("as_json", [False, True])
def test_report_to_a_path_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, option: str, as_json: bool
) -> None:
    world = World(tmp_path)
    assert world.invoke("post", "one", "--account", "masto").exit_code == 0
    target = tmp_path / "no-such-folder" / "out"
    args = ["report", "--account", "masto", option, str(target)]
    result = world.invoke(*args, *(["--json"] if as_json else []))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    if as_json:
        error = _error(result)
        assert "cannot write" in error["message"]
    else:
        assert "cannot write" in result.stderr
        assert "Traceback" not in result.output
