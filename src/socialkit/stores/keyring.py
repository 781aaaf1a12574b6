"""A :class:`~socialkit._store.Store` in the OS keyring (extra ``keyring``).

The ``keyring`` package reaches the platform's credential store: the macOS Keychain, the Windows
Credential Locker, the Secret Service (GNOME Keyring, KWallet) on Linux. Tokens kept there are
encrypted by the operating system and unlocked with the user's session, so nothing readable is
left on disk by socialkit: the natural home of a desktop user's tokens (``TokenStore(
KeyringStore())``).

A keyring has entries (service, user name, secret) and no way to list them, so each namespace
keeps an index entry with the keys it holds. Each namespace is the service
``{service}/{namespace}``; a value is the entry whose user name is ``k:{key}``, the index is
the entry ``index``.

The OS keyring offers no atomic compare-and-set: :meth:`KeyringStore.compare_and_set` is atomic
among the users of one ``KeyringStore`` object (a lock around read and write), which fits one
desktop process. Several processes refreshing the same account at once need a store with a real
compare-and-set (the SQLite file, Redis, PostgreSQL) and, for secrecy at rest, a store key
(:class:`~socialkit.auth.encrypted.EncryptedStore`). Windows limits one credential to about
2,500 bytes, which fits an OAuth token without an ID token.

``keyring`` is imported on first use, so the extra stays optional.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import threading
from typing import Any

from socialkit._errors import ConfigurationError

__all__ = ["KeyringStore"]

_INDEX = "index"


def _keyring_module() -> Any:
    try:
        return importlib.import_module("keyring")
    except ImportError:
        raise ConfigurationError(
            "KeyringStore needs the 'keyring' extra: pip install 'socialkit[keyring]'"
        ) from None


class KeyringStore:
    """A store in the OS keyring.

    ``service`` prefixes every entry (default ``socialkit``). ``backend`` is a
    ``keyring.backend.KeyringBackend`` to use instead of the platform's (tests use an in-memory
    one); by default ``keyring.get_keyring()`` chooses, and a machine without a usable keyring
    gives a :class:`~socialkit.ConfigurationError` that says what to use instead.
    """

    def __init__(self, service: str = "socialkit", *, backend: Any = None) -> None:
        if not service or any(ch in service for ch in "\r\n/"):
            raise ConfigurationError("The keyring service name must be one line without '/'")
        self.service = service
        self._backend = backend
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyringStore(service={self.service!r})"

    # -- blocking calls, run in a worker thread (a keyring may wait on D-Bus or a prompt) ------

    def _ring(self) -> Any:
        if self._backend is None:
            module = _keyring_module()
            backend = module.get_keyring()
            priority = getattr(backend, "priority", 1)
            if isinstance(priority, (int, float)) and priority <= 0:
                raise ConfigurationError(
                    "no usable OS keyring on this machine (keyring chose "
                    f"{type(backend).__name__}); keep tokens in the SQLite store instead, "
                    "encrypted with SOCIALKIT_STORE_KEY"
                )
            self._backend = backend
        return self._backend

    def _call(self, name: str, *args: str) -> Any:
        errors = importlib.import_module("keyring.errors")
        try:
            return getattr(self._ring(), name)(*args)
        except errors.PasswordDeleteError:
            return None  # deleting an absent entry
        except errors.KeyringError as exc:
            raise ConfigurationError(
                f"the OS keyring refused {name} ({type(exc).__name__}); unlock it, or keep "
                "tokens in the SQLite store encrypted with SOCIALKIT_STORE_KEY"
            ) from None

    def _svc(self, namespace: str) -> str:
        return f"{self.service}/{namespace}"

    def _index(self, namespace: str) -> list[str]:
        text = self._call("get_password", self._svc(namespace), _INDEX)
        if not text:
            return []
        try:
            keys = json.loads(text)
        except ValueError:
            return []
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def _set_index(self, namespace: str, keys: list[str]) -> None:
        if keys:
            self._call("set_password", self._svc(namespace), _INDEX, json.dumps(sorted(keys)))
        else:
            self._call("delete_password", self._svc(namespace), _INDEX)

    def _read(self, namespace: str, key: str) -> str | None:
        value = self._call("get_password", self._svc(namespace), "k:" + key)
        return None if value is None else str(value)

    def _write(self, namespace: str, key: str, value: str) -> None:
        self._call("set_password", self._svc(namespace), "k:" + key, value)
        keys = self._index(namespace)
        if key not in keys:
            self._set_index(namespace, [*keys, key])

    def _run_get(self, namespace: str, key: str) -> str | None:
        with self._lock:
            return self._read(namespace, key)

    def _run_put(self, namespace: str, key: str, value: str) -> None:
        with self._lock:
            self._write(namespace, key, value)

    def _run_delete(self, namespace: str, key: str) -> None:
        with self._lock:
            self._call("delete_password", self._svc(namespace), "k:" + key)
            keys = self._index(namespace)
            if key in keys:
                self._set_index(namespace, [k for k in keys if k != key])

    def _run_items(self, namespace: str, prefix: str) -> list[tuple[str, str]]:
        with self._lock:
            found = []
            for key in sorted(self._index(namespace)):
                if key.startswith(prefix):
                    value = self._read(namespace, key)
                    if value is not None:
                        found.append((key, value))
            return found

    def _run_cas(self, namespace: str, key: str, expected: str | None, value: str) -> bool:
        with self._lock:
            if self._read(namespace, key) != expected:
                return False
            self._write(namespace, key, value)
            return True

    # -- the Store interface -----------------------------------------------------------------

    async def get(self, namespace: str, key: str) -> str | None:
        return await asyncio.to_thread(self._run_get, namespace, key)

    async def put(self, namespace: str, key: str, value: str) -> None:
        await asyncio.to_thread(self._run_put, namespace, key, value)

    async def delete(self, namespace: str, key: str) -> None:
        await asyncio.to_thread(self._run_delete, namespace, key)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        return await asyncio.to_thread(self._run_items, namespace, prefix)

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        return await asyncio.to_thread(self._run_cas, namespace, key, expected, value)

    async def aclose(self) -> None:
        return None
