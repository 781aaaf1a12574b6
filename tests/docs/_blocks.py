"""The fenced code blocks of README.md, CONTRIBUTING.md, docs/ and examples/ (for the docs tests).

Written here rather than with pytest-examples: the blocks need the project's own prelude (the
fake networks behind ``socialkit.connect``, a network guard, a scratch folder) and one mypy run
over all of them, which is simpler to own than to bend that plugin to.

A block's language says what the harness does with it:

- ``python``: run (against the fake networks) and type-checked with ``mypy --strict``.
- ``sh``, ``console``, ``toml``, ``text``, ``json``, ``yaml``, ``ini``, ``http``, ``mermaid``: not
  Python, deliberately not run (shell sessions, configuration files, program output).

A python block that cannot run here (it waits for a person in a browser, or needs a server the
docs name) says so on the line before its fence, with the reason, and is still type-checked::

    <!-- docs-test: typecheck-only (waits for the user to log in in a browser) -->
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Languages that are not Python and are never run.
NOT_RUN = frozenset(
    {"sh", "bash", "console", "toml", "text", "json", "yaml", "ini", "http", "mermaid"}
)
RUN_MODES = frozenset({"run", "typecheck-only"})
#: ``<!-- docs-test: continue -->``: the block goes on from the page's previous python block
#: (it runs, or is type-checked, as that block's continuation).
CONTINUE = "continue"

#: An opening fence, possibly right after a list item's marker (``2. ```python``).
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<item>(?:\d+\.|[-*+])[ \t]+)?(?P<fence>```+|~~~+)(?P<info>[^`]*)$"
)
_MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<mode>[\w-]+)\s*(?:\((?P<reason>[^)]*)\))?\s*-->")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    mode: str  # run | typecheck-only | not-python
    reason: str | None = None
    #: Lines of code taken from the blocks this one continues (they come first).
    offset: int = 0
    continues: bool = False

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CONTRIBUTING.md"]
    files += sorted((ROOT / "docs").rglob("*.md"))
    files += sorted((ROOT / "examples").rglob("*.md"))
    return [f for f in files if f.is_file() and "node_modules" not in f.parts]


def blocks_of(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        if match.group("item"):  # the block's lines are indented like the item's text
            indent += " " * len(match.group("item"))
        language = match.group("info").strip().split(" ")[0].split("{")[0].lower()
        end = i + 1
        while end < len(lines) and not re.match(rf"^{re.escape(indent)}{fence}\s*$", lines[end]):
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : end]
        ]
        # The markers: the comment lines right above the fence.
        markers: dict[str, str | None] = {}
        above = i - 1
        while above >= 0 and (found_marker := _MARKER.search(lines[above])) is not None:
            markers[found_marker.group("mode")] = found_marker.group("reason")
            above -= 1
        continues = CONTINUE in markers
        markers.pop(CONTINUE, None)
        if language != "python":
            mode, reason = "not-python", None
        elif markers:
            (mode, reason), *_ = markers.items()
        else:
            mode, reason = "run", None
        found.append(
            Block(
                path=path,
                line=i + 1,
                language=language,
                code="\n".join(body) + "\n",
                mode=mode,
                reason=reason,
                continues=continues,
            )
        )
        i = end + 1
    return found


def all_blocks() -> list[Block]:
    found: list[Block] = []
    for path in markdown_files():
        previous: Block | None = None
        for block in blocks_of(path):
            if block.continues and block.language == "python":
                assert previous is not None, f"{block.id}: nothing to continue"
                checked_only = "typecheck-only" in (block.mode, previous.mode)
                block = Block(
                    path=block.path,
                    line=block.line,
                    language=block.language,
                    code=previous.code + block.code,
                    mode="typecheck-only" if checked_only else block.mode,
                    reason=block.reason or previous.reason,
                    offset=previous.code.count("\n"),
                    continues=True,
                )
            if block.language == "python":
                previous = block
            found.append(block)
    return found
