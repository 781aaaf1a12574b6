"""Tokens encrypted at rest: a ``Store`` wrapper with Fernet (extra ``crypto``).

:class:`EncryptedStore` wraps any store (SQLite, Redis, PostgreSQL, the OS keyring) and encrypts
every value before it reaches the backend, with ``cryptography``'s Fernet (AES-128-CBC with an
HMAC-SHA256 tag, authenticated: a changed byte is an error, not a different token). Keys are
what ``Fernet.generate_key()`` makes (:func:`generate_key`). Several keys may be given, newest
first: values are written with the first and read with any of them (``MultiFernet``), which is
how a key is rotated without downtime; :meth:`EncryptedStore.reencrypt` then rewrites the stored
values under the first key, after which the old one can go.

:class:`~socialkit.auth.TokenStore` wraps its store in one when a key is configured: the
``key`` argument, or the environment variable ``SOCIALKIT_STORE_KEY`` (keys separated by
commas, newest first). Keys never show in a repr, a log line or an error message.

Keys of the store (``network:account``) stay readable, so that ``items`` and prefix scans keep
working; only values are encrypted. A stored value is ``fernet:`` followed by the Fernet token.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import SecretStr

from socialkit._errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from socialkit._store import Store

__all__ = ["ENV_VAR", "EncryptedStore", "EncryptionKeyError", "generate_key", "keys_from_env"]

ENV_VAR = "SOCIALKIT_STORE_KEY"
"""The environment variable that holds the store key(s): comma-separated, newest first."""

_PREFIX = "fernet:"
_DOCS = "see 'Encrypting tokens at rest' in docs/auth.md"
_TOKENS_NAMESPACE = "socialkit.tokens"  # TokenStore.namespace (not imported: no cycle)

KeyInput: TypeAlias = "str | SecretStr | bytes"


class EncryptionKeyError(ConfigurationError):
    """A stored value cannot be decrypted with the configured key(s), or a key is malformed.

    The message names the store entry and the fix, never a key or a value.
    """


def _fernet_module() -> Any:
    try:
        return importlib.import_module("cryptography.fernet")
    except ImportError:
        raise ConfigurationError(
            "encrypting stored tokens needs the 'crypto' extra: pip install 'socialkit[crypto]'"
        ) from None


def generate_key() -> str:
    """A new random store key (32 bytes, URL-safe base64: Fernet's format). Keep it secret."""
    return str(_fernet_module().Fernet.generate_key().decode("ascii"))


def keys_from_env(environ: Mapping[str, str] | None = None) -> list[SecretStr]:
    """The keys in ``SOCIALKIT_STORE_KEY`` (newest first); empty when it is not set."""
    text = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return [SecretStr(part.strip()) for part in text.split(",") if part.strip()]


def _key_text(key: KeyInput) -> str:
    if isinstance(key, SecretStr):
        return key.get_secret_value()
    if isinstance(key, bytes):
        return key.decode("ascii", errors="replace")
    return key


def _multi_fernet(keys: Sequence[KeyInput]) -> MultiFernet:
    module = _fernet_module()
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(module.Fernet(_key_text(key).strip()))
        except (ValueError, TypeError):
            # cryptography's message would not show the key, but say nothing about it anyway.
            raise EncryptionKeyError(
                f"store key {number} of {len(keys)} is not a valid key (32 bytes in URL-safe "
                "base64); make one with socialkit.auth.generate_key() or "
                '`python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`'
            ) from None
    return module.MultiFernet(fernets)  # type: ignore[no-any-return]


class EncryptedStore:
    """A store whose values are encrypted with Fernet before they reach ``store``.

    ``keys`` is one key or a list, newest first (strings, ``SecretStr`` or bytes); without it,
    ``SOCIALKIT_STORE_KEY`` is read, and its absence is a :class:`ConfigurationError`.
    ``namespaces`` limits encryption to those namespaces (default: all of them; values of the
    others pass through as they are).

    Reading a value that none of the keys decrypts raises :class:`EncryptionKeyError`: the key
    is wrong or was dropped too early. A value written before encryption was switched on is
    refused the same way until :meth:`reencrypt` has encrypted it.
    """

    def __init__(
        self,
        store: Store,
        keys: KeyInput | Sequence[KeyInput] | None = None,
        *,
        namespaces: Collection[str] | None = None,
    ) -> None:
        if keys is None:
            chosen: list[KeyInput] = list(keys_from_env())
            if not chosen:
                raise ConfigurationError(
                    f"no store key: pass keys=... or set the environment variable {ENV_VAR} "
                    "(make a key with socialkit.auth.generate_key())"
                )
        elif isinstance(keys, (str, SecretStr, bytes)):
            chosen = [keys]
        else:
            chosen = list(keys)
        if not chosen:
            raise ConfigurationError("EncryptedStore needs at least one key")
        self._fernet = _multi_fernet(chosen)
        self._key_count = len(chosen)
        self.store = store
        self.namespaces = frozenset(namespaces) if namespaces is not None else None

    def __repr__(self) -> str:
        return f"EncryptedStore({self.store!r}, keys=<{self._key_count} hidden>)"

    def _covers(self, namespace: str) -> bool:
        return self.namespaces is None or namespace in self.namespaces

    def _seal(self, value: str) -> str:
        return _PREFIX + self._fernet.encrypt(value.encode()).decode("ascii")

    def _open(self, namespace: str, key: str, stored: str) -> str:
        if not stored.startswith(_PREFIX):
            raise EncryptionKeyError(
                f"the stored value {namespace} {key!r} is not encrypted (written before a store "
                "key was configured); encrypt the existing values once with "
                f"`await EncryptedStore(store).reencrypt({namespace!r})` ({_DOCS})"
            )
        invalid = _fernet_module().InvalidToken
        try:
            return self._fernet.decrypt(stored[len(_PREFIX) :].encode("ascii")).decode()
        except (invalid, UnicodeError):
            raise EncryptionKeyError(
                f"the stored value {namespace} {key!r} cannot be decrypted with the configured "
                f"store key(s) ({ENV_VAR}): set the key it was written with, or, while rotating, "
                f"list the old key after the new one until reencrypt() has run ({_DOCS})"
            ) from None

    async def get(self, namespace: str, key: str) -> str | None:
        stored = await self.store.get(namespace, key)
        if stored is None or not self._covers(namespace):
            return stored
        return self._open(namespace, key, stored)

    async def put(self, namespace: str, key: str, value: str) -> None:
        if self._covers(namespace):
            value = self._seal(value)
        await self.store.put(namespace, key, value)

    async def delete(self, namespace: str, key: str) -> None:
        await self.store.delete(namespace, key)

    async def items(self, namespace: str, prefix: str = "") -> list[tuple[str, str]]:
        found = await self.store.items(namespace, prefix)
        if not self._covers(namespace):
            return found
        return [(key, self._open(namespace, key, stored)) for key, stored in found]

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        """Compare with the decrypted value; swap the exact ciphertext that was compared.

        Fernet encrypts the same text differently each time, so the comparison cannot happen
        in the backend: the current ciphertext is read and decrypted, and the backend's own
        compare-and-set replaces that very ciphertext, so a concurrent write still wins.
        """
        if not self._covers(namespace):
            return await self.store.compare_and_set(namespace, key, expected, value)
        current = await self.store.get(namespace, key)
        if expected is None:
            if current is not None:
                return False
        elif current is None or self._open(namespace, key, current) != expected:
            return False
        return await self.store.compare_and_set(namespace, key, current, self._seal(value))

    async def reencrypt(self, *namespaces: str) -> int:
        """Rewrite every value of ``namespaces`` under the first key; return how many were written.

        Values written with an older key (still listed) are re-encrypted; values stored in
        plain text (before encryption was switched on) are encrypted. Default namespaces: the
        ones this store encrypts, or the token namespace when it encrypts all of them. Safe
        while other processes use the store: each value is swapped with compare-and-set.
        """
        chosen = namespaces or tuple(sorted(self.namespaces or {_TOKENS_NAMESPACE}))
        invalid = _fernet_module().InvalidToken
        changed = 0
        for namespace in chosen:
            for key, first in await self.store.items(namespace):
                stored: str | None = first
                while stored is not None:
                    if stored.startswith(_PREFIX):
                        try:
                            token = self._fernet.rotate(stored[len(_PREFIX) :].encode("ascii"))
                        except (invalid, UnicodeError):
                            self._open(namespace, key, stored)  # raises the explanation
                            raise  # pragma: no cover - _open raised
                        fresh = _PREFIX + token.decode("ascii")
                    else:
                        fresh = self._seal(stored)
                    if await self.store.compare_and_set(namespace, key, stored, fresh):
                        changed += 1
                        break
                    stored = await self.store.get(namespace, key)  # written meanwhile: again
        return changed

    async def aclose(self) -> None:
        await self.store.aclose()
