"""Tokens at rest: Fernet encryption around any store, key rotation, and the OS keyring store.

The keyring tests use an in-memory keyring backend defined here (``keyring.backend``'s own
interface); the real OS keyring is never touched (``keyring.get_keyring`` is made to fail).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import keyring
import keyring.backend
import keyring.errors
import pytest
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

import socialkit
from socialkit._store import MemoryStore, SQLiteStore, Store
from socialkit.auth import (
    AuthFlowError,
    EncryptedStore,
    EncryptionKeyError,
    OAuth2Auth,
    OAuth2Client,
    OAuth2Config,
    Token,
    TokenStore,
    generate_key,
)
from socialkit.stores import KeyringStore

pytestmark = pytest.mark.anyio

ACCESS = "access-4f1c0b8e9d2a7e6b"
REFRESH = "refresh-9a8b7c6d5e4f3a2b"


def token() -> Token:
    return Token(
        access_token=SecretStr(ACCESS),
        refresh_token=SecretStr(REFRESH),
        expires_at=datetime(2030, 1, 1, tzinfo=timezone.utc),
        scope="read write",
    )


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend (keyring ships none): service -> user -> secret."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise keyring.errors.PasswordDeleteError("absent")
        del self.entries[(service, username)]


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("a test reached for the real OS keyring")

    monkeypatch.setattr(keyring, "get_keyring", refuse)
    monkeypatch.delenv("SOCIALKIT_STORE_KEY", raising=False)


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    if request.param == "sqlite":
        yield {"backend": "sqlite", "path": tmp_path / "tokens.db"}
        return
    from tests.stores.store_backends import REDIS_URL, drop_redis_prefix, redis_ready

    await redis_ready()
    prefix = f"socialkit-test-{uuid.uuid4().hex}"
    yield {"backend": "redis", "url": REDIS_URL, "prefix": prefix}
    await drop_redis_prefix(prefix)


def open_store(spec: dict[str, Any]) -> Store:
    if spec["backend"] == "sqlite":
        return SQLiteStore(spec["path"])
    from socialkit.stores.redis import RedisStore

    return RedisStore(spec["url"], prefix=spec["prefix"])


async def raw_bytes(spec: dict[str, Any]) -> bytes:
    """Everything the backend holds, as bytes: the SQLite files (with the WAL), or Redis."""
    if spec["backend"] == "sqlite":
        path: Path = spec["path"]
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(spec["url"])
    try:
        found = b""
        async for key in client.scan_iter(match=f"{spec['prefix']}:*"):
            for field, value in (await client.hgetall(key)).items():
                found += field + b"=" + value + b"\n"
        return found
    finally:
        await client.aclose()


async def test_a_stored_token_is_unreadable_without_the_key(backend: dict[str, Any]) -> None:
    key = generate_key()
    tokens = TokenStore(open_store(backend), key=key)
    await tokens.put("x", "alice", token())
    assert await tokens.get("x", "alice") == token()
    await tokens.aclose()

    held = await raw_bytes(backend)
    assert b"fernet:" in held  # the value is there, encrypted
    for secret in (ACCESS, REFRESH, "read write"):
        assert secret.encode() not in held
    # Opened without the key, the stored text is not a token.
    plain = TokenStore(open_store(backend))
    with pytest.raises(AuthFlowError, match="cannot be read"):
        await plain.get("x", "alice")
    await plain.aclose()


async def test_the_sqlite_row_holds_ciphertext(tmp_path: Path) -> None:
    path = tmp_path / "tokens.db"
    tokens = TokenStore(SQLiteStore(path), key=generate_key())
    await tokens.put("x", "alice", token())
    await tokens.aclose()
    with sqlite3.connect(path) as conn:
        ((value,),) = conn.execute("SELECT value FROM kv WHERE key='x:alice'").fetchall()
    assert value.startswith("fernet:")
    assert ACCESS not in value
    # The format is Fernet's: another key cannot open it.
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(value[len("fernet:") :])


async def test_a_wrong_key_is_a_typed_error_naming_the_fix() -> None:
    inner = MemoryStore()
    right, wrong = generate_key(), generate_key()
    await TokenStore(inner, key=right).put("x", "alice", token())
    with pytest.raises(EncryptionKeyError) as caught:
        await TokenStore(inner, key=wrong).get("x", "alice")
    error = caught.value
    assert isinstance(error, socialkit.ConfigurationError)
    text = str(error)
    assert "socialkit.tokens 'x:alice'" in text
    assert "SOCIALKIT_STORE_KEY" in text
    assert "set the key it was written with" in text
    assert "docs/auth.md" in text
    for secret in (right, wrong, ACCESS, REFRESH):
        assert secret not in text
        assert secret not in repr(error)


async def test_a_malformed_or_missing_key_is_refused_up_front() -> None:
    with pytest.raises(
        EncryptionKeyError, match=r"store key 2 of 2 is not a valid key.*generate_key"
    ):
        EncryptedStore(MemoryStore(), [generate_key(), "not-a-key"])
    with pytest.raises(socialkit.ConfigurationError, match="SOCIALKIT_STORE_KEY"):
        EncryptedStore(MemoryStore())


async def test_rotation_reads_with_both_keys_and_reencrypts_under_the_new_one() -> None:
    inner = MemoryStore()
    old, new = generate_key(), generate_key()
    await TokenStore(inner, key=old).put("x", "alice", token())
    await TokenStore(inner, key=old).put("mastodon", "bob", token())
    before = dict(await inner.items("socialkit.tokens"))

    rotating = EncryptedStore(inner, [new, old])
    assert await TokenStore(rotating).get("x", "alice") == token()  # old values still read
    assert await rotating.reencrypt() == 2
    after = dict(await inner.items("socialkit.tokens"))
    assert after.keys() == before.keys()
    assert all(after[k] != before[k] for k in after)
    # The old key can go: the new one alone reads everything, the old one alone nothing.
    assert await TokenStore(inner, key=new).get("x", "alice") == token()
    assert await TokenStore(inner, key=new).get("mastodon", "bob") == token()
    with pytest.raises(EncryptionKeyError):
        await TokenStore(inner, key=old).get("x", "alice")


async def test_reencrypt_encrypts_values_stored_before_a_key_was_set() -> None:
    inner = MemoryStore()
    await TokenStore(inner).put("x", "alice", token())
    assert ACCESS in (await inner.get("socialkit.tokens", "x:alice") or "")
    encrypted = EncryptedStore(inner, generate_key())
    with pytest.raises(EncryptionKeyError, match=r"not encrypted.*reencrypt"):
        await TokenStore(encrypted).get("x", "alice")
    assert await encrypted.reencrypt() == 1
    assert ACCESS not in (await inner.get("socialkit.tokens", "x:alice") or "")
    assert await TokenStore(encrypted).get("x", "alice") == token()


async def test_the_key_comes_from_the_environment_and_never_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    new, old = generate_key(), generate_key()
    monkeypatch.setenv("SOCIALKIT_STORE_KEY", f"{new}, {old}")
    inner = MemoryStore()
    tokens = TokenStore(inner)
    assert isinstance(tokens.store, EncryptedStore)
    await tokens.put("x", "alice", token())
    assert ACCESS not in (await inner.get("socialkit.tokens", "x:alice") or "")
    assert await TokenStore(inner).get("x", "alice") == token()
    for shown in (repr(tokens), repr(tokens.store), str(vars(tokens))):
        assert new not in shown
        assert old not in shown
    assert repr(tokens.store) == "EncryptedStore(MemoryStore(1 keys), keys=<2 hidden>)"
    # An already encrypted store is not wrapped twice.
    assert TokenStore(tokens.store).store is tokens.store


async def test_compare_and_set_compares_plaintext_and_keeps_concurrent_writes() -> None:
    inner = MemoryStore()
    store = EncryptedStore(inner, generate_key(), namespaces={"secret"})
    assert await store.compare_and_set("secret", "k", None, "one")
    assert not await store.compare_and_set("secret", "k", None, "two")
    assert not await store.compare_and_set("secret", "k", "wrong", "two")
    assert await store.compare_and_set("secret", "k", "one", "two")
    assert await store.get("secret", "k") == "two"
    assert (await inner.get("secret", "k") or "").startswith("fernet:")
    # Other namespaces pass through unencrypted.
    await store.put("plain", "k", "visible")
    assert await inner.get("plain", "k") == "visible"
    assert await store.items("secret") == [("k", "two")]


async def test_oauth2_refresh_through_an_encrypted_store() -> None:
    # The lease and the token both live in the encrypted store; compare-and-set still holds.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "a-new", "refresh_token": "r-new"})

    client = OAuth2Client(
        OAuth2Config(
            network="x",
            authorization_endpoint="https://auth.example.test/authorize",
            token_endpoint="https://auth.example.test/token",
            client_id="client-1",
        ),
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    inner = MemoryStore()
    tokens = TokenStore(inner, key=generate_key())
    await tokens.put("x", "me", token())
    auth = OAuth2Auth(client, tokens, account="me")
    refreshed = await auth.refresh()
    assert refreshed.access_token.get_secret_value() == "a-new"
    stored = await tokens.get("x", "me")
    assert stored is not None
    assert stored.same_access(refreshed)
    assert "r-new" not in str(await inner.items("socialkit.tokens"))


# -- the OS keyring ---------------------------------------------------------------------------


async def test_keyring_store_keeps_tokens_in_the_keyring() -> None:
    ring = MemoryKeyring()
    tokens = TokenStore(KeyringStore(backend=ring))
    await tokens.put("x", "alice", token())
    await tokens.put("x", "bob", token())
    await tokens.put("mastodon", "carol", token())
    assert await tokens.get("x", "alice") == token()
    assert await tokens.accounts("x") == ["alice", "bob"]
    assert ("socialkit/socialkit.tokens", "k:x:alice") in ring.entries
    assert await tokens.compare_and_set("x", "alice", token(), token().model_copy())
    assert not await tokens.compare_and_set("x", "nobody", token(), token())
    await tokens.delete("x", "alice")
    await tokens.delete("x", "alice")  # absent: ignored
    assert await tokens.get("x", "alice") is None
    assert await tokens.accounts("x") == ["bob"]
    assert repr(KeyringStore(backend=ring)) == "KeyringStore(service='socialkit')"


async def test_keyring_store_with_encryption_on_top() -> None:
    ring = MemoryKeyring()
    tokens = TokenStore(KeyringStore(backend=ring), key=generate_key())
    await tokens.put("x", "alice", token())
    assert all(ACCESS not in value for value in ring.entries.values())
    assert await tokens.get("x", "alice") == token()


async def test_a_machine_without_a_keyring_gets_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    monkeypatch.setattr(keyring, "get_keyring", FailKeyring)
    with pytest.raises(socialkit.ConfigurationError, match=r"no usable OS keyring.*SQLite"):
        await KeyringStore().get("socialkit.tokens", "x:alice")
