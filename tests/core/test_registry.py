"""The registry, through a real third-party package (tests/plugins/socialkit-echo) installed in
the test environment that registers through the ``socialkit.adapters`` entry point."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

import socialkit
from socialkit import Account, Adapter, Capability, ConfigurationError, Limits, Post


def test_entry_point_adapter_is_listed_with_capabilities_and_limits() -> None:
    infos = {info.name: info for info in socialkit.adapters()}
    assert "echo" in infos
    echo = infos["echo"]
    assert Capability.PUBLISH_TEXT in echo.capabilities
    assert echo.limits.max_text == 50
    assert echo.source == "entry point socialkit_echo:EchoAdapter"
    assert "broken" not in infos, "an adapter that cannot be imported is left out of the list"


def test_entry_points_are_imported_lazily() -> None:
    code = (
        "import sys, socialkit\n"
        "assert 'socialkit_echo' not in sys.modules\n"
        "socialkit.adapter_class('echo')\n"
        "assert 'socialkit_echo' in sys.modules\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.anyio
async def test_connect_validates_settings_and_builds_the_adapter() -> None:
    async with socialkit.connect("echo", handle="alice", token="s3cr3t-token") as net:
        assert (await net.me()).handle == "alice"
        posted = await net.publish(Post(text="hello"))
        assert posted.id == "1"
        assert [p.id async for p in net.posts()] == ["1"]
        assert "s3cr3t-token" not in repr(net.settings)


def test_connect_reports_every_problem_at_once_without_secrets() -> None:
    with pytest.raises(ConfigurationError) as info:
        socialkit.connect("echo", token="s3cr3t-token", timeout=-1, colour="red")
    problems = info.value.problems
    assert any(p.startswith("handle: required") for p in problems)
    assert any(p.startswith("timeout:") for p in problems)
    assert any(p.startswith("colour: unknown setting") for p in problems)
    assert "s3cr3t-token" not in str(info.value)


def test_unknown_network_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown network 'nope'.*echo"):
        socialkit.connect("nope")


def test_failed_import_names_the_extra() -> None:
    with pytest.raises(ConfigurationError) as info:
        socialkit.connect("broken")
    assert "pip install 'socialkit-client[fancy]'" in str(info.value)
    assert "socialkit_fancy_dependency_that_does_not_exist" in str(info.value)


class _Local(Adapter):
    name = "local-test"
    limits = Limits(max_text=10)

    async def me(self) -> Account:
        return Account(id="0")


@pytest.fixture
def local() -> Iterator[type[Adapter]]:
    socialkit.register(_Local)
    yield _Local
    socialkit.unregister("local-test")


def test_register_at_run_time(local: type[Adapter]) -> None:
    assert socialkit.adapter_class("local-test") is local
    assert "local-test" in {i.name for i in socialkit.adapters()}


def test_register_clash_raises_unless_replace(local: type[Adapter]) -> None:
    class Other(_Local):
        pass

    with pytest.raises(ConfigurationError, match="already registered"):
        socialkit.register(Other, name="local-test")
    socialkit.register(Other, name="local-test", replace=True)
    assert socialkit.adapter_class("local-test") is Other
    with pytest.raises(ConfigurationError, match="already registered"):
        socialkit.register(Other, name="echo")


def test_register_refuses_non_adapters() -> None:
    with pytest.raises(TypeError, match="Adapter subclass"):
        socialkit.register(dict)  # type: ignore[arg-type]
