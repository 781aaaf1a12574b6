"""The public API: ``socialkit.__all__`` is sorted and complete, and holds what DESIGN.md names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys

import socialkit


def test_all_is_sorted() -> None:
    assert socialkit.__all__ == sorted(socialkit.__all__)


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in socialkit.__all__:
        assert hasattr(socialkit, name), name
    public = {
        n
        for n, v in vars(socialkit).items()
        if not n.startswith("_")
        and (not inspect.ismodule(v) or n == "adapters")
        and n not in {"annotations", "sync", "testing", "text", "auth", "stores", "workflows"}
    }
    # Every name loads on first use (module __getattr__) and is then kept, except the version
    # (read from the installed metadata each time; private-looking, so not in ``public``).
    assert public == set(socialkit.__all__) - {"__version__"}
    assert set(socialkit.__all__) <= set(dir(socialkit))


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def test_import_socialkit_loads_no_adapter_and_no_heavy_dependency() -> None:
    loaded = _modules_after("import socialkit")
    assert {m for m in loaded if m.startswith("socialkit.")} == {"socialkit.adapters"}
    heavy = {"pydantic", "httpx", "httpx_sse", "aiohttp", "authlib", "rich", "typer", "click"}
    heavy |= {"anyio", "asyncio", "sqlite3", "platformdirs", "filetype", "tenacity"}
    assert not {m.split(".")[0] for m in loaded} & heavy


def test_connect_loads_only_the_adapter_it_uses() -> None:
    loaded = _modules_after('import socialkit\nsocialkit.connect("x", bearer_token="t")')
    networks = {m.split(".")[2] for m in loaded if m.startswith("socialkit.adapters.")}
    assert networks == {"_base", "x"}
    assert not {m for m in loaded if m.startswith(("socialkit.cli", "socialkit.workflows"))}
    assert "httpx_sse" not in loaded  # streams load it when one is opened


def test_design_contract_names() -> None:
    for name in ("Post", "Media", "Metric", "Message", "Account", "Hub", "connect", "register"):
        assert name in socialkit.__all__
    assert callable(socialkit.adapters)


def test_adapters_is_callable_and_still_the_package() -> None:
    importlib.import_module("socialkit.adapters._base")
    assert socialkit.adapters() == socialkit._registry.adapters()
    assert {i.name for i in socialkit.adapters()} >= {"echo"}
    base = importlib.import_module("socialkit.adapters._base")
    assert socialkit.adapters._base is base  # attribute access to subpackages keeps working


def test_every_subpackage_all_is_sorted() -> None:
    for info in pkgutil.walk_packages(socialkit.__path__, "socialkit."):
        if info.name.split(".")[-1].startswith("_") or ".testing" in info.name:
            continue
        if ".cli" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that this environment lacks
            continue
        names = getattr(module, "__all__", None)
        if names is not None:
            assert list(names) == sorted(names), info.name
