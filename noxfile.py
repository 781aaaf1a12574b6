"""nox sessions: tests, lint, typecheck, docs (and bench). Run `nox -s tests` on a fresh machine."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PLUGIN = "tests/plugins/socialkit-echo"


def _install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session(python=["3.11"])
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage (starts its own PDS and OAuth 2 server)."""
    _install(session, "dev")
    session.install("-e", PLUGIN)
    session.run(
        "pytest",
        "--cov=socialkit",
        "--cov-branch",
        "--cov-report=term:skip-covered",
        *session.posargs,
        env={"SOCIALKIT_REQUIRE_SPECS": os.environ.get("SOCIALKIT_REQUIRE_SPECS", "")},
    )


@nox.session(python=["3.11"])
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check and the import-linter layer contracts."""
    _install(session, "dev")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=["3.11"])
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    _install(session, "dev")
    session.run("mypy", "--strict", "src/socialkit")


@nox.session(python=["3.11"])
def docs(session: nox.Session) -> None:
    """mkdocs build --strict."""
    _install(session, "docs")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session(python=["3.11"])
def bench(session: nox.Session) -> None:
    """Runnable comparisons that print ratios (not part of CI)."""
    _install(session, "dev", "bench")
    for script in ("benchmarks/overhead.py", "benchmarks/pacing.py"):
        session.run("python", script, *session.posargs)
