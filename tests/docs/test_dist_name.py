"""The distribution name people install is the same in pyproject, README, docs and every hint.

``socialkit`` on the package index is an unrelated 2017 project: installing it by that name gets
somebody else's code. The import name stays ``socialkit``; the distribution is
``socialkit-client``. Every ``pip install`` that names this project must say so.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
DIST = "socialkit-client"
#: Ours, and the two example plugin packages (installed from their folders).
ALLOWED = {DIST, "socialkit-echo", "socialkit-chirp"}

#: ``pip install`` followed by its arguments, up to the end of the line, a backtick or `&&`.
PIP_INSTALL = re.compile(r"pip install\s+([^`&\n]+)")
#: One requirement of ours: the distribution name, optionally with extras, quoted or not.
OURS = re.compile(r"""['"]?(socialkit[\w.-]*)(\[[^\]]*\])?['"]?""")


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    files += sorted((ROOT / "src" / "socialkit").rglob("*.py"))
    files += sorted((ROOT / "examples").rglob("*.md"))
    return [f for f in files if f.exists()]


def _our_requirements(text: str) -> list[str]:
    """The project names a ``pip install`` line installs (not ``-e .``, nox, or other tools)."""
    names = []
    for match in PIP_INSTALL.finditer(text):
        for arg in match.group(1).split("#")[0].split():  # a comment is not an argument
            found = OURS.fullmatch(arg.strip("\"'"))
            if found is None:
                found = OURS.fullmatch(arg)
            if found is not None and found.group(1).startswith("socialkit"):
                names.append(found.group(1))
    return names


def test_pyproject_names_the_free_distribution() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert project["name"] == DIST
    # The import name is unchanged: the wheel still ships the ``socialkit`` package.
    wheel = _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]  # type: ignore[index]
    assert wheel["packages"] == ["src/socialkit"]


def test_every_pip_install_hint_names_the_distribution() -> None:
    seen = 0
    wrong: list[str] = []
    for path in _texts():
        for name in _our_requirements(path.read_text(encoding="utf-8")):
            seen += 1
            if name not in ALLOWED:
                wrong.append(f"{path.relative_to(ROOT)}: pip install {name}")
    assert not wrong, "\n".join(wrong)
    # README/docs install hints and the code's extras hints are all found (a broken regex
    # that matches nothing must fail this test, not pass it).
    assert seen >= 10


def test_getting_started_installs_the_distribution_first() -> None:
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    first = PIP_INSTALL.search(text)
    assert first is not None
    assert first.group(1).split()[0] == DIST


def test_extras_named_in_hints_exist() -> None:
    extras = set(_pyproject()["project"]["optional-dependencies"])  # type: ignore[index]
    missing: list[str] = []
    for path in _texts():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"socialkit-client\[([^\]{}]+)\]", text):
            for extra in match.group(1).split(","):
                if extra.strip() not in extras:
                    missing.append(f"{path.relative_to(ROOT)}: [{extra}]")
    assert not missing, "\n".join(missing)


def test_installed_metadata_is_the_distribution() -> None:
    from importlib.metadata import version

    import socialkit

    assert socialkit.__version__ == version(DIST)
