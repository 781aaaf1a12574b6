"""``socialkit auth login NETWORK`` for the networks the generic login serves: X, Reddit (web
and script apps), TikTok, Telegram, Facebook, Instagram, Threads, LinkedIn, YouTube and
Pinterest, against their fakes.

The OAuth logins go through the real loopback redirect: a stand-in browser opens the authorize
URL on the fake (whose owner approves at once, see socialkit.testing.fakes._oauth), then
follows the redirect to the command's ``127.0.0.1`` server; the fake's token endpoint checks
the code, the redirect URI and the PKCE verifier. Secrets are typed at the prompts (input=)
and must end in the store, never in the config file or the output.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from test_cli_fakes import _browser_for, _SharedStore
from typer.testing import CliRunner

from socialkit.auth import Token, TokenStore
from socialkit.cli import CliEnv, app
from socialkit.cli._config import SECRETS_NAMESPACE, AccountConfig
from socialkit.testing.fakes import (
    FakeFacebook,
    FakeInstagram,
    FakeLinkedIn,
    FakeNetwork,
    FakePinterest,
    FakeReddit,
    FakeTelegram,
    FakeThreads,
    FakeTikTok,
    FakeX,
    FakeYouTube,
)

runner = CliRunner()


class Login:
    """One fake network, a shared store and a config path; ``run`` invokes the CLI."""

    def __init__(self, tmp_path: Path, fake: FakeNetwork) -> None:
        self.fake = fake
        self.store = _SharedStore()
        self.config = tmp_path / "config.toml"
        self.opened: list[str] = []

    def env(self, *, browser: bool = True) -> CliEnv:
        opener = _browser_for(self.fake) if browser else self._no_browser
        return CliEnv(
            http=lambda account: self.fake.client(),
            store=lambda: self.store,
            environ={},
            opener=opener,
            login_timeout=20,
            width=200,
        )

    def _no_browser(self, url: str) -> bool:
        self.opened.append(url)
        raise AssertionError("this login needs no browser")

    def run(self, *args: str, input: str | None = None, browser: bool = True) -> Any:
        return runner.invoke(
            app,
            ["--config", str(self.config), *args],
            obj=self.env(browser=browser),
            input=input,
        )

    def config_text(self) -> str:
        return self.config.read_text(encoding="utf-8")

    def secret(self, label: str, name: str) -> str | None:
        return asyncio.run(self.store.get(SECRETS_NAMESPACE, f"{label}:{name}"))

    def token(self, network: str, label: str) -> Token | None:
        return asyncio.run(TokenStore(self.store).get(network, label))


def _no_secret_in(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_x_login_through_the_generic_oauth_path(tmp_path: Path) -> None:
    fake = FakeX()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "x",
        "--account",
        "bird",
        "--client-id",  # the former option, kept: same as --set client_id=…
        fake.client_id,
        "--set",
        f"base_url={fake.base_url}",
        "--port",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "Logged in to x as owner" in result.stdout
    assert fake.codes.approved == 1
    text = login.config_text()
    assert f'client_id = "{fake.client_id}"' in text
    assert 'redirect_uri = "http://127.0.0.1:' in text, "the redirect URI used is kept"
    stored = login.token("x", "bird")
    assert stored is not None
    assert stored.refresh_token is not None
    _no_secret_in(result.output + text, stored.access_token.get_secret_value())
    posted = login.run("post", "after the x login", "--account", "bird", "--json")
    assert posted.exit_code == 0, posted.output
    assert json.loads(posted.stdout)["results"]["bird"]["id"]


def test_x_login_asks_for_the_client_id(tmp_path: Path) -> None:
    fake = FakeX()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "x",
        "--account",
        "bird",
        "--set",
        f"base_url={fake.base_url}",
        "--port",
        "0",
        input=f"{fake.client_id}\n",
    )
    assert result.exit_code == 0, result.output
    assert "client_id" in result.output, "the prompt names the setting"


def test_reddit_web_app_login(tmp_path: Path) -> None:
    fake = FakeReddit()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "reddit",
        "--account",
        "red",
        "--set",
        "app_type=web",
        "--set",
        f"user_agent={fake.user_agent}",
        "--set",
        "subreddit=socialkit",
        "--port",
        "0",
        input=f"{fake.client_id}\n{fake.client_secret}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Logged in to reddit as" in result.stdout
    assert fake.codes.approved == 1
    text = login.config_text()
    assert 'app_type = "web"' in text
    _no_secret_in(result.output + text, fake.client_secret)
    assert login.secret("red", "client_secret") == fake.client_secret
    stored = login.token("reddit", "red")
    assert stored is not None
    assert stored.refresh_token is not None, "duration=permanent brings a refresh token"
    accounts = json.loads(login.run("accounts", "--json").stdout)["accounts"]
    assert accounts[0]["usable"] is True
    posted = login.run("posts", "--account", "red", "--json")
    assert posted.exit_code == 0, posted.output


def test_reddit_script_app_logs_in_with_its_password(tmp_path: Path) -> None:
    fake = FakeReddit()
    login = Login(tmp_path, fake)
    password = fake.passwords[fake.owner.id]
    result = login.run(
        "auth",
        "login",
        "reddit",
        "--account",
        "bot",
        "--set",
        f"user_agent={fake.user_agent}",
        "--set",
        f"username={fake.owner.handle}",
        input=f"{fake.client_id}\n{fake.client_secret}\n{password}\n",
        browser=False,
    )
    assert result.exit_code == 0, result.output
    assert login.opened == [], "a script app logs in without a browser"
    text = login.config_text()
    assert f'username = "{fake.owner.handle}"' in text
    _no_secret_in(result.output + text, password, fake.client_secret)
    assert login.secret("bot", "password") == password
    accounts = json.loads(login.run("accounts", "--json").stdout)["accounts"]
    assert accounts[0]["usable"] is True


def test_reddit_script_app_wrong_password_saves_nothing(tmp_path: Path) -> None:
    fake = FakeReddit()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "reddit",
        "--account",
        "bot",
        "--set",
        f"user_agent={fake.user_agent}",
        "--set",
        f"username={fake.owner.handle}",
        input=f"{fake.client_id}\n{fake.client_secret}\nnot-the-password\n",
        browser=False,
    )
    assert result.exit_code == 6, result.output
    assert not login.config.exists()
    assert "not-the-password" not in result.output


def test_tiktok_login_keeps_the_rotating_refresh_token_and_its_expiry(
    tmp_path: Path,
) -> None:
    fake = FakeTikTok()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "tiktok",
        "--account",
        "tt",
        "--set",
        f"base_url={fake.base_url}",
        "--port",
        "0",
        input=f"{fake.client_key}\n{fake.client_secret}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Logged in to tiktok as" in result.stdout
    assert fake.codes.approved == 1
    text = login.config_text()
    assert f'client_key = "{fake.client_key}"' in text
    _no_secret_in(result.output + text, fake.client_secret)
    stored = login.token("tiktok", "tt")
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_expires_at is not None
    first = stored.refresh_token.get_secret_value()
    fake.expire_access_tokens()
    read = login.run("posts", "--account", "tt", "--json")
    assert read.exit_code == 0, read.output
    after = login.token("tiktok", "tt")
    assert after is not None
    assert after.refresh_token is not None
    assert after.refresh_token.get_secret_value() != first, "the rotated one is saved"
    assert first in fake.revoked


def test_telegram_login_checks_the_bot_token(tmp_path: Path) -> None:
    fake = FakeTelegram()
    login = Login(tmp_path, fake)
    args = (
        "auth",
        "login",
        "telegram",
        "--account",
        "tg",
        "--set",
        f"base_url={fake.base_url}",
        "--set",
        f"chat=@{fake.channel.username}",
    )
    wrong = login.run(*args, input="123456:AAnot-the-token-of-this-bot_xxxxxxxxxx\n", browser=False)
    assert wrong.exit_code == 6, wrong.output
    assert not login.config.exists()
    result = login.run(*args, input=f"{fake.token}\n", browser=False)
    assert result.exit_code == 0, result.output
    assert "Logged in to telegram as" in result.stdout
    _no_secret_in(result.output + login.config_text(), fake.token)
    assert login.secret("tg", "bot_token") == fake.token
    posted = login.run("post", "hello from telegram", "--account", "tg", "--json")
    assert posted.exit_code == 0, posted.output


def test_telegram_bot_token_from_the_environment(tmp_path: Path) -> None:
    fake = FakeTelegram()
    login = Login(tmp_path, fake)
    env = login.env(browser=False)
    env.environ = {"SOCIALKIT_TG_BOT_TOKEN": fake.token}
    result = runner.invoke(
        app,
        [
            "--config",
            str(login.config),
            "auth",
            "login",
            "telegram",
            "--account",
            "tg",
            "--set",
            f"base_url={fake.base_url}",
        ],
        obj=env,
    )
    assert result.exit_code == 0, result.output


def test_bad_set_and_a_network_without_login(tmp_path: Path) -> None:
    login = Login(tmp_path, FakeX())
    bad = login.run("auth", "login", "x", "--account", "a", "--set", "no-equals-sign")
    assert bad.exit_code == 2
    reserved = login.run("auth", "login", "x", "--account", "a", "--set", "store=/tmp/x")
    assert reserved.exit_code == 2


def test_a_network_that_declares_no_login_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from socialkit.adapters.telegram import TelegramAdapter

    monkeypatch.delattr(TelegramAdapter, "login_settings")
    login = Login(tmp_path, FakeTelegram())
    result = login.run("auth", "login", "telegram", "--account", "tg", browser=False)
    assert result.exit_code == 3, result.output
    assert "declares no login" in result.stderr
    assert "x" in result.stderr.split("networks that can log in:")[1]
    assert not login.config.exists()


def test_reddit_installed_app_login_has_no_secret(tmp_path: Path) -> None:
    fake = FakeReddit()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "reddit",
        "--account",
        "app",
        "--set",
        "app_type=installed",
        "--set",
        f"user_agent={fake.user_agent}",
        "--port",
        "0",
        input=f"{fake.client_id}\n",  # the client id only: no secret is asked for
    )
    assert result.exit_code == 0, result.output
    assert fake.codes.approved == 1
    assert login.secret("app", "client_secret") is None
    token = login.token("reddit", "app")
    assert token is not None
    assert token.refresh_token is not None


def test_x_confidential_app_asks_for_the_secret_and_stores_it(tmp_path: Path) -> None:
    fake = FakeX()
    login = Login(tmp_path, fake)
    result = login.run(
        "auth",
        "login",
        "x",
        "--account",
        "bird",
        "--client-id",
        fake.client_id,
        "--confidential",
        "--set",
        f"base_url={fake.base_url}",
        "--port",
        "0",
        input="a-confidential-secret\n",
    )
    assert result.exit_code == 0, result.output
    assert login.secret("bird", "client_secret") == "a-confidential-secret"
    _no_secret_in(result.output + login.config_text(), "a-confidential-secret")


# -- the networks that gained the login protocol since -------------------------------------------

#: Per network: the fake, the settings given with --set (where the fake serves the API, the
#: authorization page and the token endpoint; what posts need), and a command that needs the
#: login (a post the network takes from the command line; Instagram takes images from public
#: URLs only and YouTube videos: their posts are read).
_SINCE: dict[str, tuple[type[FakeNetwork], tuple[str, ...], tuple[str, ...]]] = {
    "facebook": (FakeFacebook, ("base_url",), ("post", "after the facebook login")),
    "instagram": (FakeInstagram, ("base_url", "upload_url"), ("posts",)),
    "threads": (FakeThreads, ("base_url", "poll_interval"), ("post", "after the threads login")),
    "linkedin": (
        FakeLinkedIn,
        ("base_url", "authorize_url", "token_url"),
        ("post", "after the linkedin login"),
    ),
    "youtube": (
        FakeYouTube,
        ("base_url", "analytics_url", "authorize_url", "token_url"),
        ("posts",),
    ),
    "pinterest": (
        FakePinterest,
        ("base_url", "authorize_url", "board_id"),
        ("post", "after the pinterest login", "--image", "<image>", "--alt", "a chart"),
    ),
}


@pytest.mark.parametrize("network", sorted(_SINCE))
def test_login_to_the_networks_of_the_protocol(tmp_path: Path, network: str) -> None:
    """The browser login (the fake's authorize page, its token endpoint), then the token in
    the token store, the app's secret in the store, neither in the config nor the output, and
    a command that works with the stored login."""
    from socialkit.auth import login_settings
    from socialkit.cli._config import secret_fields
    from socialkit.cli._png import demo_image

    fake_type, given, follow_up = _SINCE[network]
    fake = fake_type()
    login = Login(tmp_path, fake)
    values = fake.settings()
    cls = AccountConfig(label="acct", network=network).adapter_class
    optional = getattr(cls, "optional_login_settings", ())
    asked = [n for n in login_settings(cls) or () if n not in optional]
    sets = [arg for name in given for arg in ("--set", f"{name}={values[name]}")]
    answers = "".join(f"{values[name]}\n" for name in asked)
    result = login.run(
        "auth", "login", network, "--account", "acct", *sets, "--port", "0", input=answers
    )
    assert result.exit_code == 0, result.output
    assert f"Logged in to {network} as" in result.stdout
    assert fake.codes.approved == 1, "the fake's authorization page approved the login"
    for name in asked:
        assert name in result.output, "each login setting is asked for, by name"
    text = login.config_text()
    stored = login.token(network, "acct")
    assert stored is not None
    secrets = [str(values[name]) for name in secret_fields(cls.Settings) if name in asked]
    assert secrets, "the app's secret is asked for"
    for name in secret_fields(cls.Settings):
        if name in asked:
            assert login.secret("acct", name) == values[name]
    tokens = [stored.access_token.get_secret_value()]
    if stored.refresh_token is not None:
        tokens.append(stored.refresh_token.get_secret_value())
    _no_secret_in(result.output + text, *secrets, *tokens)
    accounts = login.run("accounts", "--json")
    assert accounts.exit_code == 0, accounts.output
    row = json.loads(accounts.stdout)["accounts"][0]
    assert row["usable"] is True
    assert row["token"] is True
    image = tmp_path / "chart.png"
    image.write_bytes(demo_image())
    command = [str(image) if arg == "<image>" else arg for arg in follow_up]
    after = login.run(*command, "--account", "acct", "--json")
    assert after.exit_code == 0, after.output
    if command[0] == "post":
        assert json.loads(after.stdout)["results"]["acct"]["id"]
    _no_secret_in(accounts.output + after.output, *secrets, *tokens)


def test_facebook_page_id_is_optional_and_taken_when_given(tmp_path: Path) -> None:
    """page_id is not asked for (the login chooses the only Page); given, it is checked
    against the Pages the user manages and kept in the config."""
    fake = FakeFacebook()
    login = Login(tmp_path, fake)
    args = ("auth", "login", "facebook", "--account", "page", "--set", f"base_url={fake.base_url}")
    answers = f"{fake.app_id}\n{fake.app_secret}\n"
    wrong = login.run(*args, "--set", "page_id=123", "--port", "0", input=answers)
    assert wrong.exit_code == 3, wrong.output
    assert "123 is not among" in wrong.output
    assert not login.config.exists(), "nothing saved when the login fails"
    result = login.run(*args, "--set", f"page_id={fake.owner.id}", "--port", "0", input=answers)
    assert result.exit_code == 0, result.output
    assert "page_id" not in result.output.split("Open this URL")[0], "never asked for"
    assert f'page_id = "{fake.owner.id}"' in login.config_text()


def test_networks_lists_all_twelve(tmp_path: Path) -> None:
    result = Login(tmp_path, FakeX()).run("networks", "--json", browser=False)
    assert result.exit_code == 0, result.output
    assert {n["name"] for n in json.loads(result.stdout)} >= {
        "bluesky",
        "facebook",
        "instagram",
        "linkedin",
        "mastodon",
        "pinterest",
        "reddit",
        "telegram",
        "threads",
        "tiktok",
        "x",
        "youtube",
    }


def test_instagram_login_through_the_cli(tmp_path: Path) -> None:
    """`--set instagram_login=true`: Instagram's authorization window (the fake's), the
    account's own token stored with its id from /me, and a command that works with it."""
    fake = FakeInstagram()
    login = Login(tmp_path, fake)
    values = fake.instagram_login_settings()
    names = ("base_url", "upload_url", "instagram_login", "authorize_url", "token_url")
    sets = [arg for name in names for arg in ("--set", f"{name}={values[name]}")]
    answers = f"{fake.instagram_app_id}\n{fake.instagram_app_secret}\n"
    result = login.run(
        "auth", "login", "instagram", "--account", "ig", *sets, "--port", "0", input=answers
    )
    assert result.exit_code == 0, result.output
    assert fake.instagram_codes.approved == 1, "Instagram's window approved the login"
    assert fake.codes.approved == 0, "not Facebook Login's dialog"
    stored = login.token("instagram", "ig")
    assert stored is not None
    assert stored.extra["ig_user_id"] == fake.owner.id
    _no_secret_in(result.output + login.config_text(), fake.instagram_app_secret)
    posts = login.run("posts", "--account", "ig", "--json")
    assert posts.exit_code == 0, posts.output
