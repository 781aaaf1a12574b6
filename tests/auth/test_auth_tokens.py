"""Token and TokenStore: secrets masked, exact round trips, keyed by network and account."""

from __future__ import annotations

import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from socialkit._store import MemoryStore, SQLiteStore
from socialkit.auth import AuthFlowError, Token, TokenStore

pytestmark = pytest.mark.anyio

ACCESS = "access-7d1f0c2e9b8a4c3d"
REFRESH = "refresh-5e6f7a8b9c0d1e2f"


def make(**changes: object) -> Token:
    values: dict[str, object] = {
        "access_token": SecretStr(ACCESS),
        "refresh_token": SecretStr(REFRESH),
        "expires_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "scope": "read write",
        "extra": {"id_token": "header.payload.signature"},
    }
    values.update(changes)
    return Token.model_validate(values)


def test_repr_str_and_json_dump_never_show_tokens() -> None:
    token = make()
    for text in (repr(token), str(token), token.model_dump_json(), str(token.model_dump())):
        assert ACCESS not in text
        assert REFRESH not in text
    assert "header.payload.signature" not in repr(token)


def test_dumps_loads_round_trip_exactly() -> None:
    token = make()
    text = token.dumps()
    assert ACCESS in text  # storage keeps the secret (and nothing logs it)
    again = Token.loads(text)
    assert again == token
    assert again.dumps() == text  # canonical: compare_and_set compares these texts


def test_expires_at_must_be_aware_and_becomes_utc() -> None:
    with pytest.raises(PydanticValidationError):
        make(expires_at=datetime(2030, 1, 1))
    paris = timezone(timedelta(hours=1))
    token = make(expires_at=datetime(2030, 1, 1, 12, tzinfo=paris))
    assert token.expires_at == datetime(2030, 1, 1, 11, tzinfo=timezone.utc)
    assert token.expires_at is not None
    assert token.expires_at.utcoffset() == timedelta(0)


def test_from_response_follows_rfc_6749() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    token = Token.from_response(
        {
            "access_token": "a1",
            "token_type": "bearer",
            "expires_in": 7200,
            "refresh_token": "r1",
            "scope": "tweet.read offline.access",
            "refresh_expires_in": 86400,
        },
        now=now,
    )
    assert token.expires_at == now + timedelta(hours=2)
    assert token.refresh_token is not None
    assert token.refresh_token.get_secret_value() == "r1"
    assert token.extra["refresh_expires_in"] == 86400
    # The refresh token's own lifetime (TikTok, LinkedIn) becomes a moment.
    assert token.refresh_expires_at == now + timedelta(days=1)
    # A refresh answer without refresh_token keeps the previous one (section 6), and its scope.
    renewed = Token.from_response({"access_token": "a2", "expires_in": 60}, previous=token)
    assert renewed.refresh_token == token.refresh_token
    assert renewed.refresh_expires_at == token.refresh_expires_at
    assert renewed.scope == token.scope
    with pytest.raises(ValueError, match="no access_token"):
        Token.from_response({"token_type": "bearer"})
    with pytest.raises(ValueError, match="expires_in"):
        Token.from_response({"access_token": "a", "expires_in": "soon"})


def test_expires_within() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    token = make(expires_at=now + timedelta(seconds=30))
    assert token.expires_within(60, now=now)
    assert not token.expires_within(10, now=now)
    assert not make(expires_at=None).expires_within(10_000, now=now)


async def test_token_store_keys_by_network_and_account() -> None:
    store = TokenStore(MemoryStore())
    await store.put("x", "alice", make())
    await store.put("x", "bob", make(access_token=SecretStr("other")))
    await store.put("mastodon", "alice", make(access_token=SecretStr("third")))
    alice = await store.get("x", "alice")
    assert alice == make()
    assert await store.get("x", "carol") is None
    assert await store.accounts("x") == ["alice", "bob"]
    assert await store.accounts("mastodon") == ["alice"]
    await store.delete("x", "alice")
    assert await store.get("x", "alice") is None
    assert await store.accounts("x") == ["bob"]
    with pytest.raises(ValueError, match="network"):
        await store.get("a:b", "alice")


async def test_token_store_compare_and_set() -> None:
    store = TokenStore(MemoryStore())
    first, second, third = (
        make(),
        make(access_token=SecretStr("2")),
        make(access_token=SecretStr("3")),
    )
    assert await store.compare_and_set("x", "a", None, first)
    assert not await store.compare_and_set("x", "a", None, second)
    assert not await store.compare_and_set("x", "a", third, second)
    assert await store.get("x", "a") == first
    # A token read back from the store compares equal to what is stored.
    read = await store.get("x", "a")
    assert await store.compare_and_set("x", "a", read, second)
    assert await store.get("x", "a") == second


async def test_an_unreadable_stored_token_is_a_clear_error_without_its_content() -> None:
    raw = MemoryStore()
    await raw.put(TokenStore.namespace, "x:alice", '{"access_token": "leaky-secret-value", "bad":')
    store = TokenStore(raw)
    with pytest.raises(AuthFlowError) as caught:
        await store.get("x", "alice")
    assert "cannot be read" in str(caught.value)
    assert "leaky-secret-value" not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_default_store_is_a_0600_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "socialkit.db"
    monkeypatch.setenv("SOCIALKIT_STORE", str(path))
    store = TokenStore()
    assert isinstance(store.store, SQLiteStore)
    await store.put("x", "alice", make())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ACCESS not in repr(store)
    await store.aclose()
    reopened = TokenStore(SQLiteStore(path))
    assert await reopened.get("x", "alice") == make()
    await reopened.aclose()
