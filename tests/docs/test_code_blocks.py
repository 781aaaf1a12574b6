"""Every code block of README.md, CONTRIBUTING.md, docs/ and examples/ runs and type-checks.

Python blocks run against the fake networks (see ``tests/docs/_prelude.py`` for what a block
may use) and pass ``mypy --strict`` together; other blocks must say what they are (``sh``,
``toml``, ``text`` ...) and are deliberately not run. A python block that cannot run in a test
(it waits for a person in a browser) carries a ``docs-test: typecheck-only (reason)`` marker
and is still type-checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs._blocks import NOT_RUN, ROOT, RUN_MODES, Block, all_blocks
from tests.docs._prelude import STUB, run_python

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


def test_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "_docs_prelude.py").write_text(STUB, encoding="utf-8")
    files: dict[str, Block] = {}
    for index, block in enumerate(PYTHON):
        name = f"block_{index:03d}.py"
        files[name] = block
        (tmp_path / name).write_text(
            "from _docs_prelude import *  # noqa: F403\n" + block.code, encoding="utf-8"
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            "--disable-error-code",
            "top-level-await",
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
            block = files[head]
            where = block.line + int(number) - 1 if number.isdigit() else block.line
            problems.append(f"{block.path.relative_to(ROOT)}:{where}:{message}")
        elif line and not line.startswith(("Found ", "Success")):
            problems.append(line)
    assert result.returncode == 0 and not problems, "\n".join(problems) or result.stdout
