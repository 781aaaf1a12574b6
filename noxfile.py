"""nox sessions: tests, lint, typecheck, docs (and bench). Run `nox -s tests` on a fresh machine."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck", "docs"]
nox.options.reuse_existing_virtualenvs = True

PLUGIN = "tests/plugins/socialkit-echo"
#: The tutorial's third-party adapter, a package of its own (docs/tutorial-adapter.md).
EXAMPLE_PLUGIN = "examples/plugin"


def _install(session: nox.Session, *extras: str) -> None:
    spec = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", spec)


@nox.session(python=["3.11"])
def tests(session: nox.Session) -> None:
    """The whole test suite with branch coverage (starts its own PDS and OAuth 2 server)."""
    _install(session, "dev")
    session.install("-e", PLUGIN)
    session.install("-e", f"{EXAMPLE_PLUGIN}[test]")
    # The example plugin's own tests (its conformance suites and its fake), from its folder
    # as its author would run them.
    session.run("pytest", "-q", "-p", "no:cacheprovider", f"{EXAMPLE_PLUGIN}/tests")
    # Test files spread over the machine's cores (each file stays on one worker, so a module's
    # fixtures run once); branch coverage is combined across the workers.
    session.run(
        "pytest",
        "-n",
        "auto",
        "--maxprocesses",
        "4",
        "--dist",
        "loadfile",
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
    """Regenerate-and-compare the network tables, mkdocs build --strict, then the link check."""
    _install(session, "docs")
    session.run("python", "tests/docs/gen_tables.py", "--check")
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    session.run("python", "tests/docs/linkcheck.py", "site")


@nox.session(python=["3.11"])
def bench(session: nox.Session) -> None:
    """socialkit against the SDKs a user would pick instead (benchmarks/peers.py; the `bench`
    extra installs them: tweepy, atproto, Mastodon.py, aiohttp), then the pipeline's overhead
    and pacing scripts. Not part of CI. `nox -s bench -- --reps 5 --networks x` passes
    options to peers.py."""
    _install(session, "aiohttp", "bench")
    session.run("python", "benchmarks/peers.py", *session.posargs)
    for script in ("benchmarks/overhead.py", "benchmarks/pacing.py"):
        session.run("python", script)
