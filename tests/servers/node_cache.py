"""npm dependencies of the local test servers, installed once per lock file and reused.

A cold ``npm ci`` of the Bluesky PDS takes minutes (better-sqlite3 compiles from source), and
CI runs in a fresh clone each time. So the dependencies are installed into a cache folder keyed
by the hash of ``package.json`` + ``package-lock.json`` (``$SOCIALKIT_NODE_CACHE``, default
``~/.cache/socialkit-test-servers``), and the server folder's ``node_modules`` becomes a link to
it. A ``node_modules`` folder that a developer installed by hand is left alone. On a new machine
the first run installs (from the committed lock file), later runs start at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["NpmError", "ensure_node_modules"]


class NpmError(RuntimeError):
    """``npm ci`` failed; the message carries the end of its output."""


def _cache_root() -> Path:
    override = os.environ.get("SOCIALKIT_NODE_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "socialkit-test-servers"


def ensure_node_modules(server_dir: Path, marker: str, *, timeout: float = 1800.0) -> None:
    """Make ``server_dir/node_modules`` hold the locked dependencies (``marker`` is a path
    inside node_modules that proves the install is there, e.g. ``@atproto/pds/package.json``)."""
    link = server_dir / "node_modules"
    if link.is_dir() and not link.is_symlink() and (link / marker).exists():
        return  # installed by hand in the working tree
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError("npm is not installed")
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((server_dir / name).read_bytes())
    target = _cache_root() / f"{server_dir.name}-{digest.hexdigest()[:16]}"
    target.mkdir(parents=True, exist_ok=True)
    done = target / ".complete"
    with (target / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                for name in ("package.json", "package-lock.json"):
                    shutil.copyfile(server_dir / name, target / name)
                result = subprocess.run(
                    [npm, "ci", "--no-audit", "--no-fund"],
                    cwd=target,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    check=False,
                )
                if result.returncode != 0:
                    raise NpmError(
                        f"npm ci for {server_dir.name} failed ({result.returncode}):\n"
                        f"{result.stderr[-4000:]}"
                    )
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    modules = target / "node_modules"
    if link.is_symlink() and link.resolve() == modules.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)  # an incomplete install left in the tree
    link.symlink_to(modules, target_is_directory=True)
