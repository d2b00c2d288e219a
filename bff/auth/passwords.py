"""Local account passwords: argon2id hashes and the policy a new password must meet.

The policy follows NIST SP 800-63B / OWASP ASVS: at least 8 characters and up to 128 (so a
passphrase fits), any characters, no composition rules, and never one of the 30,000 most
common passwords of breach corpora (the list zxcvbn ships) nor the user's own name.

>>> problem("correct horse battery staple", "ana") is None
True
>>> problem("password1", "ana")
'that password is one of the most common ones (breach lists): choose another'
>>> problem("short", "ana")
'a password has at least 8 characters'
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 128
_HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


@cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problem(password: str, username: str) -> str | None:
    """Why ``password`` may not be used (one line), or None."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    folded = password.casefold()
    if folded in _common() or folded.rstrip("0123456789!") in _common():
        return "that password is one of the most common ones (breach lists): choose another"
    if username and username.casefold() in folded:
        return "a password may not contain the username"
    return None


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a missing hash matches nothing, in about the
    time a real check takes, so a wrong username is not told apart by timing)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


_DUMMY = _HASHER.hash("not a password anyone has")
