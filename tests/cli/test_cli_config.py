"""The command line's config file, secret handling, ``networks``, ``accounts`` and
``post --dry-run``: offline (no request is sent by any of these)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from socialkit._store import MemoryStore
from socialkit.cli import CliEnv, app, split_thread
from socialkit.cli._config import SECRETS_NAMESPACE, Config, env_name, secret_fields

runner = CliRunner()


class _Unclosable(MemoryStore):
    """A MemoryStore shared by several invocations (each command closes its store)."""

    async def aclose(self) -> None:
        return None


def _env(store: MemoryStore | None = None, **environ: str) -> CliEnv:
    shared = store or _Unclosable()
    return CliEnv(store=lambda: shared, environ=environ, width=200)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _invoke(args: list[str], env: CliEnv) -> object:
    return runner.invoke(app, args, obj=env)


def test_env_name_upper_cases_and_replaces_non_alphanumerics() -> None:
    assert env_name("brand-masto.eu", "access_token") == "SOCIALKIT_BRAND_MASTO_EU_ACCESS_TOKEN"


def test_secret_fields_are_the_adapters_secretstr_settings() -> None:
    from socialkit.adapters.bluesky import BlueskySettings
    from socialkit.adapters.mastodon import MastodonSettings

    assert secret_fields(MastodonSettings) == ["access_token", "client_id", "client_secret"]
    assert secret_fields(BlueskySettings) == ["password"]


def test_split_thread_on_dash_lines() -> None:
    text = "first post\nstill first\n---\nsecond\n  ---  \nthird\n---\n"
    assert split_thread(text) == ["first post\nstill first", "second", "third"]


def test_networks_json_lists_capabilities_and_limits() -> None:
    result = _invoke(["networks", "--json"], _env())
    assert result.exit_code == 0, result.output
    data = {n["name"]: n for n in json.loads(result.stdout)}
    assert {"mastodon", "bluesky", "x"} <= set(data)
    assert data["x"]["limits"]["max_text"] == 280
    assert data["bluesky"]["limits"]["max_text"] == 300
    assert "publish_thread" in data["mastodon"]["capabilities"]


def test_networks_table() -> None:
    result = _invoke(["networks"], _env())
    assert result.exit_code == 0
    assert "mastodon" in result.stdout
    assert "280 weighted characters" in result.stdout


def test_unknown_network_exits_3(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.old]\nnetwork = "myspace"\n')
    result = _invoke(["--config", str(path), "accounts"], _env())
    assert result.exit_code == 3
    assert "myspace" in result.stderr
    assert "accounts.old.network" in result.stderr


def test_missing_network_key_exits_3(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.a]\ninstance = "https://example.social"\n')
    result = _invoke(["--config", str(path), "post", "hi", "--dry-run"], _env())
    assert result.exit_code == 3
    assert "accounts.a.network: required" in result.stderr


def test_secret_in_config_exits_3_naming_the_field_never_the_value(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[accounts.brand]\nnetwork = "mastodon"\naccess_token = "s3cr3t-value"\n',
    )
    result = _invoke(["--config", str(path), "accounts"], _env())
    assert result.exit_code == 3
    assert "accounts.brand.access_token" in result.stderr
    assert "SOCIALKIT_BRAND_ACCESS_TOKEN" in result.stderr
    assert "s3cr3t-value" not in result.output


def test_reserved_setting_in_config_exits_3(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.brand]\nnetwork = "mastodon"\naccount = "other"\n')
    result = _invoke(["--config", str(path), "accounts"], _env())
    assert result.exit_code == 3
    assert "accounts.brand.account" in result.stderr


def test_missing_setting_exits_3(tmp_path: Path) -> None:
    # Bluesky needs an identifier (a plain setting); its password or OAuth session is looked up
    # when it is used.
    path = _config(tmp_path, '[accounts.sky]\nnetwork = "bluesky"\n')
    result = _invoke(["--config", str(path), "post", "hello", "--dry-run"], _env())
    assert result.exit_code == 3
    assert "identifier: required" in result.stderr


def test_invalid_setting_value_exits_3(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.m]\nnetwork = "mastodon"\ninstance = "ftp://nope"\n')
    result = _invoke(["--config", str(path), "post", "hello", "--dry-run"], _env())
    assert result.exit_code == 3
    assert "instance" in result.stderr


def test_bad_toml_exits_3(tmp_path: Path) -> None:
    path = _config(tmp_path, "[accounts.m\nnetwork=")
    result = _invoke(["--config", str(path), "accounts"], _env())
    assert result.exit_code == 3
    assert "not valid TOML" in result.stderr


def test_config_path_from_environment_variable(tmp_path: Path) -> None:
    path = _config(tmp_path, '[accounts.m]\nnetwork = "mastodon"\n')
    result = runner.invoke(
        app, ["accounts", "--json"], obj=_env(), env={"SOCIALKIT_CONFIG": str(path)}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config"] == str(path)
    assert [a["label"] for a in data["accounts"]] == ["m"]


def test_no_default_config_file_means_no_accounts(tmp_path: Path) -> None:
    # The default path (no --config, no SOCIALKIT_CONFIG) may be absent: no accounts yet.
    # (A --config path that does not exist is an error: tests/cli/test_cli_usage.py.)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "SOCIALKIT_CONFIG": ""}
    result = runner.invoke(app, ["accounts"], obj=_env(), env=env)
    assert result.exit_code == 0, result.output
    assert "No accounts" in result.stdout
    assert str(tmp_path / "xdg" / "socialkit" / "config.toml") in result.stdout.replace("\n", "")
    result = runner.invoke(app, ["post", "hi", "--dry-run"], obj=_env(), env=env)
    assert result.exit_code == 3
    assert "no accounts configured" in result.stderr


def test_accounts_reports_where_secrets_come_from_without_showing_them(tmp_path: Path) -> None:
    import anyio

    store = _Unclosable()
    anyio.run(store.put, SECRETS_NAMESPACE, "sky:password", "app-pass-from-store")
    path = _config(
        tmp_path,
        '[accounts.masto]\nnetwork = "mastodon"\ninstance = "https://example.social"\n\n'
        '[accounts.sky]\nnetwork = "bluesky"\nidentifier = "brand.example.com"\n\n'
        '[accounts.nosecret]\nnetwork = "bluesky"\nidentifier = "other.example.com"\n',
    )
    env = _env(store, SOCIALKIT_MASTO_ACCESS_TOKEN="token-from-env")
    result = _invoke(["--config", str(path), "accounts", "--json"], env)
    assert result.exit_code == 0, result.output
    assert "token-from-env" not in result.output
    assert "app-pass-from-store" not in result.output
    rows = {a["label"]: a for a in json.loads(result.stdout)["accounts"]}
    assert rows["masto"]["secrets"] == {"access_token": "env SOCIALKIT_MASTO_ACCESS_TOKEN"}
    assert rows["masto"]["usable"] is True
    assert rows["sky"]["secrets"] == {"password": "store"}
    assert rows["sky"]["usable"] is True
    assert rows["sky"]["credentials"] is True
    assert rows["nosecret"]["usable"] is False
    assert rows["nosecret"]["credentials"] is False
    assert rows["nosecret"]["missing_secrets"] == ["password"]
    assert "SOCIALKIT_NOSECRET_PASSWORD" in rows["nosecret"]["problems"][0]

    table = _invoke(["--config", str(path), "accounts"], env)
    assert table.exit_code == 0
    assert "token-from-env" not in table.output
    assert "app-pass-from-store" not in table.output
    assert "none found" in table.stdout
    assert "ready" in table.stdout


def _masto_config(tmp_path: Path) -> Path:
    return _config(
        tmp_path,
        '[accounts.masto]\nnetwork = "mastodon"\ninstance = "https://example.social"\n\n'
        '[accounts.xbrand]\nnetwork = "x"\nclient_id = "abc"\n',
    )


def _creds() -> dict[str, str]:
    return {"SOCIALKIT_MASTO_ACCESS_TOKEN": "t1", "SOCIALKIT_XBRAND_ACCESS_TOKEN": "t2"}


def test_post_dry_run_checks_every_account_and_sends_nothing(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    env = _env(**_creds())
    env.http = lambda account: httpx.AsyncClient(transport=httpx.MockTransport(record))
    path = _masto_config(tmp_path)
    result = _invoke(["--config", str(path), "post", "Hello from socialkit", "--dry-run"], env)
    assert result.exit_code == 0, result.output
    assert sent == []
    assert "masto" in result.stdout
    assert "xbrand" in result.stdout
    assert "Dry run: nothing was sent." in result.stdout


def test_post_text_too_long_exits_4_and_names_the_network(tmp_path: Path) -> None:
    path = _masto_config(tmp_path)
    text = "word " * 80  # 400 characters: fine on Mastodon (500), too long on X (280)
    result = _invoke(["--config", str(path), "post", text, "--dry-run", "--json"], _env(**_creds()))
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["preflight"]["masto"] == []
    [problem] = data["preflight"]["xbrand"]
    assert problem["code"] == "text_too_long"
    assert problem["limit"] == 280


def test_post_too_long_without_dry_run_sends_nothing(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    path = _masto_config(tmp_path)
    env = _env(**_creds())
    env.http = lambda account: httpx.AsyncClient(transport=httpx.MockTransport(record))
    result = _invoke(["--config", str(path), "post", "x" * 600], env)
    assert result.exit_code == 4
    assert sent == []
    assert "Nothing was sent" in result.stderr


def test_post_selects_accounts(tmp_path: Path) -> None:
    path = _masto_config(tmp_path)
    text = "word " * 80
    result = _invoke(
        ["--config", str(path), "post", text, "--dry-run", "--account", "masto", "--json"],
        _env(**_creds()),
    )
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["preflight"]) == ["masto"]
    result = _invoke(
        ["--config", str(path), "post", "hi", "--dry-run", "--account", "nope"], _env(**_creds())
    )
    assert result.exit_code == 3
    assert "unknown account(s) nope" in result.stderr


def test_post_thread_file_and_images_are_checked(tmp_path: Path) -> None:
    from socialkit.cli._png import demo_image

    image = tmp_path / "chart.png"
    image.write_bytes(demo_image())
    thread = tmp_path / "thread.txt"
    thread.write_text("one\n---\ntwo\n---\n" + "three " * 60, encoding="utf-8")
    path = _masto_config(tmp_path)
    result = _invoke(
        [
            "--config",
            str(path),
            "post",
            "--thread-file",
            str(thread),
            "--image",
            str(image),
            "--alt",
            "a chart",
            "--dry-run",
            "--json",
        ],
        _env(**_creds()),
    )
    # The third post is 360 characters: too long for X only, and named by its place.
    assert result.exit_code == 4, result.output
    data = json.loads(result.stdout)
    assert data["preflight"]["masto"] == []
    assert [p["field"] for p in data["preflight"]["xbrand"]] == ["thread[1].text"]


def test_post_usage_errors_exit_2(tmp_path: Path) -> None:
    path = _masto_config(tmp_path)
    thread = tmp_path / "t.txt"
    thread.write_text("a\n---\nb", encoding="utf-8")
    both = _invoke(
        ["--config", str(path), "post", "hi", "--thread-file", str(thread), "--dry-run"], _env()
    )
    assert both.exit_code == 2
    nothing = _invoke(["--config", str(path), "post", "--dry-run"], _env())
    assert nothing.exit_code == 2
    alts = _invoke(["--config", str(path), "post", "hi", "--alt", "x", "--dry-run"], _env())
    assert alts.exit_code == 2


def test_post_non_image_file_is_an_invalid_post(tmp_path: Path) -> None:
    path = _masto_config(tmp_path)
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 not an image")
    result = _invoke(
        ["--config", str(path), "post", "hi", "--image", str(junk), "--dry-run"], _env(**_creds())
    )
    assert result.exit_code == 4
    assert "media type" in result.stderr


def test_config_save_account_keeps_other_accounts_and_is_private(tmp_path: Path) -> None:
    from socialkit.cli._config import AccountConfig

    path = _config(tmp_path, '[accounts.a]\nnetwork = "mastodon"\n')
    config = Config.load(path)
    config.save_account(AccountConfig("b", "bluesky", {"identifier": "b.example.com"}))
    again = Config.load(path)
    assert list(again.accounts) == ["a", "b"]
    assert again.accounts["b"].settings == {"identifier": "b.example.com"}
    new = tmp_path / "sub" / "new.toml"
    Config.load(new).save_account(AccountConfig("c", "x", {"client_id": "id"}))
    if os.name == "posix":
        assert new.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("label", ["bad label", "-starts-with-dash", "a/b"])
def test_bad_label_exits_3(tmp_path: Path, label: str) -> None:
    path = _config(tmp_path, f'[accounts."{label}"]\nnetwork = "mastodon"\n')
    result = _invoke(["--config", str(path), "accounts"], _env())
    assert result.exit_code == 3
