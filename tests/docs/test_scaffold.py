"""``socialkit new-adapter``: the scaffold is the tutorial's package, and it is green at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from socialkit import ConfigurationError
from socialkit.cli import app
from socialkit.cli._scaffold import names_for, render

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "examples" / "plugin"


def test_the_scaffold_of_chirp_is_the_tutorial_package() -> None:
    # The templates are examples/plugin with its name made a placeholder: a change to one
    # without the other fails here (regenerate the templates from the plugin).
    rendered = render("chirp")
    plugin_files = {
        p.relative_to(PLUGIN).as_posix(): p.read_text(encoding="utf-8")
        for folder in ("src", "tests")
        for p in sorted((PLUGIN / folder).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    code = {k: v for k, v in rendered.items() if k.startswith(("src/", "tests/"))}
    assert set(code) == set(plugin_files)
    for path, text in plugin_files.items():
        assert code[path] == text, path


def test_the_layout_is_the_one_every_adapter_follows() -> None:
    files = set(render("demo-net"))
    package = "src/socialkit_demo_net/"
    for module in ("__init__", "_adapter", "_settings", "_wire", "_mapping", "_network", "fake"):
        assert f"{package}{module}.py" in files
    assert {"pyproject.toml", "README.md", "docs/demo-net.md"} <= files
    assert any(f.startswith("tests/") and "conformance" in f for f in files)


@pytest.mark.parametrize("bad", ["Demo", "demo_net", "-demo", "demo--net", "", "x", "mastodon"])
def test_bad_names_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        names_for(bad)


def test_names_are_spelt_for_each_use() -> None:
    names = names_for("demo-net")
    assert (names.name, names.module, names.title, names.upper) == (
        "demo-net",
        "demo_net",
        "DemoNet",
        "DEMO_NET",
    )


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "socialkit-demo-net").mkdir()
    (tmp_path / "socialkit-demo-net" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(app, ["new-adapter", "demo-net", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert (tmp_path / "socialkit-demo-net" / "keep.txt").read_text() == "mine"


def _run(args: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def test_new_adapter_output_is_green_on_the_first_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["new-adapter", "demo-net", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    package = tmp_path / "socialkit-demo-net"
    # rich wraps the line at 80 columns (within the path, or at a space it keeps)
    assert f"created {package}" in result.output.replace("\n", "")
    _run(["ruff", "check", "."], package)
    _run(["ruff", "format", "--check", "."], package)
    _run(["mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy"), "src", "tests"], package)
    _run(["pytest", "-q", "-p", "no:cacheprovider"], package)
