"""Timestamp identifiers (TIDs): the record keys this adapter chooses for its posts.

Spec: https://atproto.com/specs/tid. A TID is a 64-bit integer, top bit 0, then 53 bits of
microseconds since the UNIX epoch and 10 bits of "clock identifier", written as 13 characters of
base32-sortable (``234567abcdefghijklmnopqrstuvwxyz``), most significant first. Written here
(no library): the encoding is ten lines, and the atproto SDK is deliberately not a dependency.

Choosing the record key on the client makes ``createRecord`` repeatable: a retried create with
the same key cannot make a second post.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable

__all__ = ["TID_ALPHABET", "TidClock", "decode_tid", "encode_tid", "is_tid", "tid_for_key"]

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_MAX_MICROS = (1 << 53) - 1


def encode_tid(micros: int, clock_id: int) -> str:
    """The TID of a timestamp (microseconds since the epoch) and a clock id (0..1023)."""
    if not 0 <= micros <= _MAX_MICROS:
        raise ValueError("a TID timestamp must fit in 53 bits")
    if not 0 <= clock_id < 1024:
        raise ValueError("a TID clock id must be between 0 and 1023")
    value = (micros << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_tid(tid: str) -> tuple[int, int]:
    """``(microseconds, clock_id)`` of a TID."""
    if not is_tid(tid):
        raise ValueError(f"{tid!r} is not a valid TID")
    value = 0
    for char in tid:
        value = (value << 5) | TID_ALPHABET.index(char)
    return value >> 10, value & 1023


def is_tid(value: str) -> bool:
    """Whether ``value`` has the TID syntax (13 base32-sortable characters, top bit 0)."""
    return bool(_TID.match(value))


class TidClock:
    """Makes TIDs that only ever increase within this clock, even within one microsecond.

    ``clock`` returns microseconds since the epoch (default: the system clock); ``clock_id``
    defaults to a random value, so that two processes posting in the same microsecond still
    choose different keys.
    """

    def __init__(self, clock: Callable[[], int] | None = None, clock_id: int | None = None) -> None:
        self._clock = clock or (lambda: time.time_ns() // 1000)
        self.clock_id = secrets.randbelow(1024) if clock_id is None else clock_id
        if not 0 <= self.clock_id < 1024:
            raise ValueError("a TID clock id must be between 0 and 1023")
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        """A new TID, greater than every TID this clock made before."""
        with self._lock:
            micros = max(self._clock(), self._last + 1)
            self._last = micros
        return encode_tid(micros, self.clock_id)


def tid_for_key(key: str) -> str:
    """The record key (a TID) a create with idempotency key ``key`` uses.

    A key that is a TID already (the keys the adapter makes itself) is its own record key, so
    posts keep time-ordered keys. Any other key is hashed: the 63 low bits of its SHA-256 are
    read as a TID (53 bits of "timestamp", 10 of clock id; the top bit is 0, as the syntax
    requires). That is safe because:

    - the PDS checks only the record-key syntax (``tid`` in the post lexicon); nothing orders
      or dates posts by their key (feeds sort by ``createdAt`` and index time), so a key whose
      "timestamp" is not the present breaks nothing;
    - the same key always gives the same record key, so ``createRecord`` with it can make the
      post at most once in the repository: a repeat finds the record there;
    - two different keys share a record key with probability about n²/2⁶⁴ for n keys, far
      below any other failure (and a clash is detected: the record found has other content).
    """
    if is_tid(key):
        return key
    digest = hashlib.sha256(b"socialkit record key\x00" + key.encode("utf-8")).digest()
    value = int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)
    return encode_tid(value >> 10, value & 1023)
