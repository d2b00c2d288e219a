"""The hash chain of the audit trail (pure).

Every entry's hash is an HMAC-SHA-256, keyed by the audit key only the BFF holds, over the
previous entry's hash and the entry's own content in a canonical form: an entry edited
afterwards no longer matches its hash, a deleted one leaves a gap in ``seq`` and a
``prev_hash`` that matches nothing, an inserted one matches neither its neighbours nor its
place — and without the key nobody, not even someone who may write to the database, can
forge an entry that passes. (Without a key the hash is a plain SHA-256: still a chain, but
one a database writer could rebuild.) The first entry follows ``GENESIS``.

>>> from datetime import datetime, UTC
>>> at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
>>> key = b"a secret only the BFF holds"
>>> first = seal(Entry(1, at, "ana", "user", "break.label", "break", "b-1", "trades",
...                    {"cause": None}, {"cause": "FX"}, "127.0.0.1", "curl", "r-1"), GENESIS, key)
>>> second = seal(Entry(2, at, "bo", "user", "auth.sign_out", "", "", None, None, None,
...                     "127.0.0.1", "curl", "r-2"), first.hash, key)
>>> verify([first, second], key) is None
True
>>> tampered = first._replace(after={"cause": "FEE"})
>>> verify([tampered, second], key)
'entry 1 was altered: its hash does not match its content'
>>> verify([second], key)
'entry 1 is missing (the trail starts at entry 2)'
>>> verify([first, second], b"another key")
'entry 1 was altered: its hash does not match its content'
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

GENESIS = "0" * 64


class Entry(NamedTuple):
    seq: int
    at: datetime
    actor: str
    actor_kind: str  # user | token | system | anonymous
    action: str
    target_type: str
    target_id: str
    recon: str | None
    before: Any
    after: Any
    ip: str
    user_agent: str
    request_id: str


class Sealed(NamedTuple):
    seq: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    target_type: str
    target_id: str
    recon: str | None
    before: Any
    after: Any
    ip: str
    user_agent: str
    request_id: str
    prev_hash: str
    hash: str

    @property
    def entry(self) -> Entry:
        return Entry(*self[:13])


def canonical(entry: Entry) -> bytes:
    """The entry's content as the hash sees it: fixed order, UTC microseconds, sorted keys."""
    fields = list(entry)
    fields[1] = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(entry: Entry, prev_hash: str, key: bytes | None) -> str:
    message = prev_hash.encode() + b"\n" + canonical(entry)
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def seal(entry: Entry, prev_hash: str, key: bytes | None) -> Sealed:
    return Sealed(*entry, prev_hash, digest(entry, prev_hash, key))


class ChainCheck:
    """Checks a trail entry by entry, in ``seq`` order, holding only the last one."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.expected_seq, self.expected_prev = 1, GENESIS
        self.entries = 0

    def step(self, sealed: Sealed) -> str | None:
        """The problem this entry reveals, in one line (None: it continues the chain)."""
        self.entries += 1
        if sealed.seq > self.expected_seq:
            before = (
                "the trail starts at"
                if self.expected_seq == 1
                else f"entry {self.expected_seq - 1} is followed by"
            )
            return f"entry {self.expected_seq} is missing ({before} entry {sealed.seq})"
        if sealed.seq < self.expected_seq:
            return f"entry {sealed.seq} appears twice or out of order"
        if not hmac.compare_digest(digest(sealed.entry, sealed.prev_hash, self.key), sealed.hash):
            return f"entry {sealed.seq} was altered: its hash does not match its content"
        if sealed.prev_hash != self.expected_prev:
            return (
                f"entry {sealed.seq} does not follow entry {sealed.seq - 1}: the chain was "
                "broken there (an entry inserted or replaced)"
            )
        self.expected_seq, self.expected_prev = sealed.seq + 1, sealed.hash
        return None


def verify(entries: Iterable[Sealed], key: bytes | None) -> str | None:
    """The first problem in a whole trail read in ``seq`` order (None: intact)."""
    check = ChainCheck(key)
    for sealed in entries:
        found = check.step(sealed)
        if found:
            return found
    return None
