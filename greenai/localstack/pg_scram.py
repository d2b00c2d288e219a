"""PostgreSQL's SCRAM-SHA-256 password verifier, computed here (RFC 5802/7677).

A role's password is set as its verifier, never as the password itself, so that neither
PostgreSQL's log (a failed statement is logged with its text) nor its single-user mode
ever sees it. ``libpq``'s ``PQencryptPasswordConn`` computes the same, but needs a connection.

>>> scheme, salt, keys = scram_sha256_verifier("pencil", salt=bytes(16)).split("$")
>>> scheme, salt
('SCRAM-SHA-256', '4096:AAAAAAAAAAAAAAAAAAAAAA==')
>>> keys.split(":")[0]  # StoredKey
'cYb24178IFPJfwkjIWWOe5UyMYsPha0jpvVheOzD7fM='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

__all__ = ["scram_sha256_verifier"]

ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)


def scram_sha256_verifier(
    password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS
) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for ``password``
    (ASCII passwords only: SASLprep leaves them unchanged)."""
    if not password.isascii():
        raise ValueError("only ASCII passwords are supported")
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"
