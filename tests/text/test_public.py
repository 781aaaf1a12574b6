"""``socialkit.text`` exports a sorted, complete ``__all__`` and stays in the core layer."""

from __future__ import annotations

import ast
from pathlib import Path

import socialkit.text

TEXT_DIR = Path(socialkit.text.__file__).parent


def test_all_is_sorted_and_resolves() -> None:
    names = socialkit.text.__all__
    assert names == sorted(names)
    assert [n for n in names if not hasattr(socialkit.text, n)] == []


def test_imports_only_core_and_third_party() -> None:
    allowed = (
        "socialkit.text",
        "socialkit._models",
        "socialkit._capabilities",
        "socialkit._errors",
    )
    for file in TEXT_DIR.glob("*.py"):
        tree = ast.parse(file.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            if module.startswith("socialkit"):
                assert module.startswith(allowed), f"{file.name} imports {module}"
