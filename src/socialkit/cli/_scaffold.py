"""``socialkit new-adapter NAME``: a new adapter package in socialkit's one adapter layout.

The templates under ``_templates/adapter`` are the tutorial's package (``examples/plugin``,
``socialkit-chirp``) with its name made a placeholder, so the scaffold is a complete adapter
that passes ruff, ``mypy --strict`` and its own tests (the conformance suites wired to real
fixtures, and tests on a fake server of its own) on the first run. A test renders ``chirp``
and compares it with ``examples/plugin``, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from socialkit._errors import ConfigurationError

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["ScaffoldNames", "names_for", "render", "write"]

#: A network's registry name: lowercase letters and digits, words joined by single hyphens.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
#: Names the scaffold refuses: they would shadow socialkit's own networks or modules.
RESERVED = frozenset({"socialkit", "mastodon", "bluesky", "x", "testing", "adapters"})


@dataclass(frozen=True)
class ScaffoldNames:
    """The spellings of one network's name in the generated package."""

    name: str  # registry and distribution name: demo-net
    module: str  # Python identifier: demo_net
    title: str  # class prefix: DemoNet
    upper: str  # constant prefix: DEMO_NET

    def fill(self, text: str) -> str:
        return (
            text.replace("{{name}}", self.name)
            .replace("{{module}}", self.module)
            .replace("{{Name}}", self.title)
            .replace("{{NAME}}", self.upper)
        )


def names_for(name: str) -> ScaffoldNames:
    """The spellings of ``name``; a ``ConfigurationError`` naming the rule when it is not valid.

    Raises:
        ConfigurationError: ``name`` is not lowercase words joined by hyphens, or is reserved.
    """
    if not NAME_PATTERN.fullmatch(name) or len(name) > 40:
        raise ConfigurationError(
            f"network name {name!r} is not valid: use lowercase letters and digits, words "
            "joined by single hyphens (e.g. demo-net), at most 40 characters"
        )
    if name in RESERVED:
        raise ConfigurationError(f"network name {name!r} is taken by socialkit itself")
    words = name.split("-")
    return ScaffoldNames(
        name=name,
        module="_".join(words),
        title="".join(w[:1].upper() + w[1:] for w in words),
        upper="_".join(words).upper(),
    )


def _walk(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            found += _walk(entry, f"{prefix}{entry.name}/")
        elif entry.name.endswith(".tmpl"):
            found.append((prefix + entry.name[: -len(".tmpl")], entry))
    return found


def render(name: str) -> dict[str, str]:
    """The generated package as ``{relative path: text}`` (no files are written).

    Raises:
        ConfigurationError: ``name`` is not a valid network name (see :func:`names_for`).
    """
    names = names_for(name)
    templates = resources.files("socialkit.cli").joinpath("_templates").joinpath("adapter")
    return {
        names.fill(path): names.fill(entry.read_text(encoding="utf-8"))
        for path, entry in _walk(templates)
    }


def write(name: str, into: Path) -> Path:
    """Write the package for ``name`` into ``into/socialkit-NAME``; returns that folder.

    Raises:
        ConfigurationError: ``name`` is not valid, or the folder exists and is not empty
            (nothing is overwritten).
    """
    files = render(name)
    target = into / f"socialkit-{name}"
    if target.exists() and any(target.iterdir()):
        raise ConfigurationError(f"{target} exists and is not empty: choose another --out")
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
