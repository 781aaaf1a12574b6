"""Typing that reaches the network: ``connect("mastodon", ...)`` is a ``MastodonAdapter`` to mypy.

The overloads in ``src/socialkit/_connect.pyi`` are generated from the adapters' ``Settings`` by
``python -m socialkit._gen_connect``; the first test fails while the stub is out of date. The
mypy test runs ``mypy --strict`` on a snippet, as an application would.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import SecretStr

import socialkit
from socialkit import _gen_connect
from socialkit.adapters.mastodon import MastodonAdapter


def test_the_connect_stub_is_current() -> None:
    current = _gen_connect.STUB.read_text(encoding="utf-8")
    assert current == _gen_connect.generate(), (
        "src/socialkit/_connect.pyi is out of date with the adapters' Settings: "
        "run `python -m socialkit._gen_connect`"
    )


def test_every_shipped_network_and_setting_has_its_overload() -> None:
    stub = _gen_connect.STUB.read_text(encoding="utf-8")
    networks = _gen_connect.shipped_networks()
    assert {"bluesky", "mastodon", "x"} <= {name for name, _ in networks}
    for name, cls in networks:
        match = re.search(
            rf'name: Literal\["{name}"\],\n(.*?)\) -> {cls.__name__}: \.\.\.', stub, re.S
        )
        assert match is not None, name
        params = match.group(1)
        for field_name, field in cls.Settings.model_fields.items():
            line = re.search(rf"^    {field_name}: (.*),$", params, re.M)
            assert line is not None, f"{name}.{field_name}"
            assert ("=" not in line.group(1)) == field.is_required(), f"{name}.{field_name}"


def test_the_check_mode_reports_a_stale_stub(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stale = tmp_path / "_connect.pyi"
    stale.write_text("# old\n")
    monkeypatch.setattr(_gen_connect, "STUB", stale)
    said: list[str] = []
    assert _gen_connect.main(["--check"], out=said.append) == 1
    assert "out of date: run python -m socialkit._gen_connect" in said[0]
    assert _gen_connect.main([], out=said.append) == 0
    assert stale.read_text() == _gen_connect.generate()
    assert _gen_connect.main(["--check"], out=said.append) == 0


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@pytest.mark.parametrize(
    ("tp", "written"),
    [
        (SecretStr, "str | SecretStr"),
        (SecretStr | None, "str | SecretStr | None"),
        (Literal["a", "b"], 'Literal["a", "b"]'),
        (tuple[str, ...], "tuple[str, ...] | list[str]"),
        (list[int], "list[int] | tuple[int, ...]"),
        (dict[str, int], "Mapping[str, int]"),
        (Path, "str | PathLike[str]"),
        (Color, 'Color | Literal["red", "blue"]'),
        (Any, "Any"),
        (float | None, "float | None"),
    ],
)
def test_render_writes_what_pydantic_accepts(tp: Any, written: str) -> None:
    assert _gen_connect.render(tp, _gen_connect._Imports(), "field") == written


def test_render_refuses_a_type_it_cannot_write() -> None:
    class Local:  # not importable from a stub
        pass

    with pytest.raises(SystemExit, match=r"cannot write the type of Settings\.hook"):
        _gen_connect.render(Callable[[], None], _gen_connect._Imports(), "Settings.hook")
    with pytest.raises(SystemExit, match=r"Settings\.local"):
        _gen_connect.render(Local | None, _gen_connect._Imports(), "Settings.local")


# -- run time: the typed per-network constructor -------------------------------------------


@pytest.mark.anyio
async def test_adapter_connect_validates_through_its_settings() -> None:
    net = MastodonAdapter.connect(instance="https://mastodon.example/", access_token="t0k3n")
    assert type(net) is MastodonAdapter
    assert net.settings.instance == "https://mastodon.example"
    assert isinstance(net.settings.access_token, SecretStr)
    await net.aclose()
    with pytest.raises(socialkit.ConfigurationError) as caught:
        MastodonAdapter.connect(instanse="https://mastodon.example", timeout=-1)
    text = str(caught.value)
    assert "instanse: unknown setting" in text
    assert "timeout:" in text
    settings = MastodonAdapter.Settings(instance="https://mastodon.example")
    net = MastodonAdapter.connect(settings)
    assert net.settings is settings
    await net.aclose()
    with pytest.raises(socialkit.ConfigurationError, match="not both"):
        MastodonAdapter.connect(settings, timeout=3)


@pytest.mark.anyio
async def test_socialkit_connect_still_builds_any_registered_network() -> None:
    net = socialkit.connect("mastodon", instance="https://mastodon.example")
    assert type(net) is MastodonAdapter
    await net.aclose()
    with pytest.raises(socialkit.ConfigurationError, match="unknown network 'nope'"):
        socialkit.connect("nope")


# -- static: mypy --strict on what an application writes -----------------------------------

SNIPPET = """\
from socialkit import connect
from socialkit.adapters.mastodon import MastodonAdapter


async def main(name: str) -> None:
    reveal_type(connect("mastodon", instance="https://m.example", access_token="t"))  # L6
    reveal_type(connect("bluesky", identifier="alice.example", password="p"))  # L7
    reveal_type(connect("x", bearer_token="b", scopes=["tweet.read"]))  # L8
    reveal_type(connect(name, anything=1))  # L9
    reveal_type(MastodonAdapter.connect(instance="https://m.example"))  # L10
    async with connect("mastodon", instance="https://m.example", timeout=5) as net:
        reveal_type(net)  # L12
    async with connect("mastodon", instance=1) as wrong_type:  # L13
        pass
    async with connect("mastodon", instanse="https://m.example") as typo:  # L15
        pass
    missing = connect("bluesky", password="p")  # L17: identifier is required
    await missing.publish()  # L18
"""


def run_mypy(tmp_path: Path, *flags: str) -> list[str]:
    (tmp_path / "app.py").write_text(SNIPPET)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYPY")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            *flags,
            "app.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.stderr == "", result.stderr
    return result.stdout.splitlines()


def test_mypy_sees_each_network_and_checks_its_settings(tmp_path: Path) -> None:
    lines = run_mypy(tmp_path)
    text = "\n".join(lines)

    def on(line: int) -> list[str]:
        return [x for x in lines if x.startswith(f"app.py:{line}:")]

    assert on(6) == [
        'app.py:6: note: Revealed type is "socialkit.adapters.mastodon.MastodonAdapter"'
    ]
    assert on(7) == ['app.py:7: note: Revealed type is "socialkit.adapters.bluesky.BlueskyAdapter"']
    assert on(8) == ['app.py:8: note: Revealed type is "socialkit.adapters.x._adapter.XAdapter"']
    assert on(9) == ['app.py:9: note: Revealed type is "socialkit.adapters._base.Adapter"']
    assert on(10) == [
        'app.py:10: note: Revealed type is "socialkit.adapters.mastodon.MastodonAdapter"'
    ]
    assert on(12) == [
        'app.py:12: note: Revealed type is "socialkit.adapters.mastodon.MastodonAdapter"'
    ]
    # A wrongly typed, a misspelt and a missing setting are type errors.
    for line in (13, 15):
        assert any('"InvalidConnectSettings" has no attribute "__aenter__"' in x for x in on(line))
    assert on(18) == [
        'app.py:18: error: "InvalidConnectSettings" has no attribute "publish"  [attr-defined]'
    ]
    errors = [x for x in lines if ": error:" in x]
    assert {int(x.split(":")[1]) for x in errors} == {13, 15, 18}, text

    # With mypy's `deprecated` error code, the call itself is reported, with the fix.
    strict = run_mypy(tmp_path, "--enable-error-code", "deprecated")
    flagged = {int(x.split(":")[1]) for x in strict if "[deprecated]" in x}
    assert flagged == {13, 15, 17}
    assert any("see its Settings class" in x for x in strict)


def test_the_docs_example_passes_mypy_strict(tmp_path: Path) -> None:
    example = textwrap.dedent(
        """\
        import asyncio

        import socialkit
        from socialkit.adapters.mastodon import MastodonAdapter


        async def main() -> None:
            async with socialkit.connect(
                "mastodon", instance="https://mastodon.social", access_token="..."
            ) as net:
                mastodon: MastodonAdapter = net
                print(mastodon.settings.instance)
            async with MastodonAdapter.connect(instance="https://mastodon.social") as same:
                print(same.name)


        asyncio.run(main())
        """
    )
    (tmp_path / "example.py").write_text(example)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "example.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
