"""Every code block of README.md, CONTRIBUTING.md, docs/ and examples/ runs and type-checks.

Python blocks run against the fake networks (see ``tests/docs/_prelude.py`` for what a block
may use) and pass ``mypy --strict`` together; other blocks must say what they are (``sh``,
``toml``, ``text`` ...) and are deliberately not run. A python block that cannot run in a test
(it waits for a person in a browser) carries a ``docs-test: typecheck-only (reason)`` marker
and is still type-checked.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.docs._blocks import NOT_RUN, ROOT, RUN_MODES, Block, all_blocks
from tests.docs._prelude import PRELUDE_NAMES, STUB, run_python

BLOCKS = all_blocks()
PYTHON = [b for b in BLOCKS if b.mode != "not-python"]
RUNNABLE = [b for b in PYTHON if b.mode == "run"]


def test_the_harness_finds_the_blocks() -> None:
    # A parser that finds nothing would make every other test here pass vacuously.
    assert len(PYTHON) >= 30
    assert any(b.path.name == "README.md" for b in RUNNABLE)
    assert any(b.path.name == "getting-started.md" for b in RUNNABLE)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_every_block_says_what_it_is(block: Block) -> None:
    assert block.language, f"{block.id}: a fence without a language (use text for output)"
    if block.language != "python":
        assert block.language in NOT_RUN, f"{block.id}: unknown language {block.language!r}"
        return
    assert block.mode in RUN_MODES, f"{block.id}: unknown docs-test mode {block.mode!r}"
    if block.mode != "run":
        assert block.reason, f"{block.id}: say why the block cannot run"


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_block_runs(block: Block, tmp_path: Path) -> None:
    run_python(block.code, block.id, tmp_path)


def test_getting_started_is_one_complete_script() -> None:
    page = [b for b in PYTHON if b.path == ROOT / "docs" / "getting-started.md"]
    first = page[0].code
    assert "asyncio.run(" in first, "getting-started's first block is a complete script"
    for line in first.splitlines():
        assert not line.startswith(("async with", "await ", "async for")), line


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name a block binds itself (it then does not take the prelude's)."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound


def mypy_source(block: Block) -> tuple[str, int]:
    """The module mypy checks for ``block``, and how many lines come before the block's code.

    The prelude names the block uses and does not bind are imported from the prelude stub; a
    block with top-level ``await`` / ``async for`` / ``async with`` (which Python runs here as
    a coroutine) is checked as the body of an ``async def``.
    """
    compiled = compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    tree = ast.parse(block.code)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    wanted = sorted((used - _bound_names(tree)) & set(PRELUDE_NAMES))
    head = [f"from _docs_prelude import {', '.join(wanted)}"] if wanted else []
    if compiled.co_flags & inspect.CO_COROUTINE:
        body = textwrap.indent(block.code, "    ")
        head.append("async def _docs_block() -> None:  # noqa: C901")
        return "\n".join(head) + "\n" + body, len(head)
    return "\n".join(head) + "\n" + block.code if head else block.code, len(head)


def test_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "_docs_prelude.py").write_text(STUB, encoding="utf-8")
    files: dict[str, tuple[Block, int]] = {}
    for index, block in enumerate(PYTHON):
        name = f"block_{index:03d}.py"
        source, before = mypy_source(block)
        files[name] = (block, before)
        (tmp_path / name).write_text(source, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--explicit-package-bases",
            *sorted(files),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    problems = []
    for line in result.stdout.splitlines():
        head, _, rest = line.partition(":")
        if head in files:
            number, _, message = rest.partition(":")
            block, before = files[head]
            line = int(number) - before - block.offset if number.isdigit() else 0
            where = block.line + line if line > 0 else f"{block.line} (a block it continues)"
            problems.append(f"{block.path.relative_to(ROOT)}:{where}:{message}")
        elif line and not line.startswith(("Found ", "Success")):
            problems.append(line)
    assert not problems, "\n".join(problems)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_prelude_has_every_fake_made_when_used(tmp_path: Path) -> None:
    """Every fake of socialkit.testing.fakes is a prelude name (``fake_tiktok`` …) and is what
    ``socialkit.connect`` reaches; a block makes only the fakes it uses."""
    from socialkit.testing import fakes

    networks = {n for n in fakes.__all__ if n.startswith("Fake")}
    networks -= {"FakeClock", "FakeNetwork", "FakeUser"}
    assert {f"fake_{n.removeprefix('Fake').lower()}" for n in networks} <= set(PRELUDE_NAMES)
    code = (
        "import socialkit\n"
        "net = socialkit.connect('tiktok', access_token='from-the-docs')\n"
        "same = net.settings.base_url.rstrip('/') == fake_tiktok.base_url\n"
    )
    namespace = run_python(code, "prelude-test", tmp_path)
    assert namespace["same"] is True
    assert "fake_tiktok" in namespace
    assert "fake_telegram" not in namespace
