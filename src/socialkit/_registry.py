"""The registry of networks: entry points, run-time registration and ``connect()``.

Adapters are found through the entry-point group ``socialkit.adapters``
(``name = "package.module:Class"``, optionally ``[extra]`` naming the pip extra the module needs)
and imported only when first used, so ``import socialkit`` stays light. ``register()`` adds a
class at run time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pydantic

from socialkit._capabilities import Capability, Limits
from socialkit._errors import ConfigurationError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    import httpx

    from socialkit.adapters._base import Adapter

__all__ = ["AdapterInfo", "adapter_class", "adapters", "connect", "register", "unregister"]

GROUP = "socialkit.adapters"


@dataclass(frozen=True)
class AdapterInfo:
    """A registered network: its name, what it can do and its rules."""

    name: str
    capabilities: frozenset[Capability]
    limits: Limits
    cls: type[Adapter]
    source: str
    """``entry point <value>`` or ``register()``."""

    def __repr__(self) -> str:
        caps = ", ".join(sorted(c.value for c in self.capabilities))
        return f"AdapterInfo(name={self.name!r}, capabilities={{{caps}}})"


class _Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._classes: dict[str, type[Adapter]] = {}
        self._sources: dict[str, str] = {}
        self._points: dict[str, EntryPoint] | None = None

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._points is None:
            from importlib.metadata import entry_points  # on first use: import stays light

            found: dict[str, EntryPoint] = {}
            for point in entry_points(group=GROUP):
                found.setdefault(point.name, point)
            self._points = found
        return self._points

    def names(self) -> list[str]:
        with self._lock:
            return sorted(set(self._classes) | set(self._entry_points()))

    def get(self, name: str) -> type[Adapter]:
        with self._lock:
            cls = self._classes.get(name)
            if cls is not None:
                return cls
            point = self._entry_points().get(name)
        if point is None:
            known = ", ".join(self.names()) or "none"
            raise ConfigurationError(f"unknown network {name!r}; registered networks: {known}")
        cls = _load(point)
        with self._lock:
            self._classes.setdefault(name, cls)
            self._sources.setdefault(name, f"entry point {point.value}")
            return self._classes[name]

    def register(self, cls: type[Adapter], *, name: str | None, replace: bool) -> None:
        from socialkit.adapters._base import Adapter

        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            raise TypeError(f"register() takes an Adapter subclass, not {cls!r}")
        key = name or cls.name
        with self._lock:
            clash = key in self._classes or key in self._entry_points()
            if clash and not replace and self._classes.get(key) is not cls:
                raise ConfigurationError(
                    f"a network named {key!r} is already registered; "
                    "pass replace=True to replace it"
                )
            self._classes[key] = cls
            self._sources[key] = "register()"

    def unregister(self, name: str) -> None:
        with self._lock:
            self._classes.pop(name, None)
            self._sources.pop(name, None)
            if self._points is not None:
                self._points.pop(name, None)

    def source(self, name: str) -> str:
        return self._sources.get(name, "")

    def reload(self) -> None:
        """Forget cached entry points (after installing a package at run time)."""
        with self._lock:
            self._points = None


def _load(point: EntryPoint) -> type[Adapter]:
    from socialkit.adapters._base import Adapter

    try:
        obj = point.load()
    except ImportError as exc:
        extras = point.extras
        hint = (
            f"install it with: pip install 'socialkit[{','.join(extras)}]'"
            if extras
            else "install the package that provides it"
        )
        missing = f" (missing module {exc.name!r})" if exc.name else ""
        raise ConfigurationError(
            f"the {point.name!r} adapter could not be imported{missing}; {hint}"
        ) from exc
    if not (isinstance(obj, type) and issubclass(obj, Adapter)):
        raise ConfigurationError(
            f"entry point {point.name!r} = {point.value!r} is not an Adapter subclass"
        )
    return obj


_REGISTRY = _Registry()


def register(
    cls: type[Adapter], *, name: str | None = None, replace: bool = False
) -> type[Adapter]:
    """Register an adapter class at run time (usable as a class decorator).

    A name that is already registered raises :class:`ConfigurationError` unless ``replace``.
    """
    _REGISTRY.register(cls, name=name, replace=replace)
    return cls


def unregister(name: str) -> None:
    """Remove a network from the registry (entry points come back after ``reload``)."""
    _REGISTRY.unregister(name)


def adapter_class(name: str) -> type[Adapter]:
    """The adapter class registered under ``name`` (imported on first use)."""
    return _REGISTRY.get(name)


def adapters() -> list[AdapterInfo]:
    """Every registered network with its capabilities and limits, by name.

    A network whose module cannot be imported (a missing extra) is left out of the list;
    ``connect`` on it raises a ``ConfigurationError`` that names the extra.
    """
    out: list[AdapterInfo] = []
    for name in _REGISTRY.names():
        try:
            cls = _REGISTRY.get(name)
        except ConfigurationError:
            continue
        out.append(
            AdapterInfo(
                name=name,
                capabilities=cls.capabilities,
                limits=cls.limits,
                cls=cls,
                source=_REGISTRY.source(name),
            )
        )
    return out


def build_settings(cls: type[Adapter], settings: dict[str, Any]) -> Any:
    """Validate ``settings`` with the adapter's ``Settings``; report every problem at once.

    The messages name each field and the problem but never echo the value (it may be a secret).
    """
    try:
        return cls.Settings.model_validate(settings)
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            if err["type"] == "extra_forbidden":
                known = ", ".join(sorted(cls.Settings.model_fields))
                problems.append(f"{where}: unknown setting (known: {known})")
            elif err["type"] == "missing":
                problems.append(f"{where}: required")
            else:
                problems.append(f"{where}: {err['msg']}")
        raise ConfigurationError(f"invalid settings for {cls.name}", problems) from None


def connect(name: str, /, *, http: httpx.AsyncClient | None = None, **settings: Any) -> Adapter:
    """Create the adapter registered as ``name`` with validated ``settings``.

    ``http`` injects an ``httpx.AsyncClient`` (tests, proxies, custom transports); the adapter
    never closes a client it was given. Use the result as an async context manager.
    """
    cls = adapter_class(name)
    return cls(build_settings(cls, settings), http=http)
