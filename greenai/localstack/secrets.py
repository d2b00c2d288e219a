"""The local stack's credentials, generated once per GREENAI_HOME into ``secrets.json``.

The format and the reading are ``streams.stack_secrets`` (every process reads them); this
module creates what is missing, keeps what is there (other entries too) and tells a server
whether it already holds a credential (:class:`AppliedMark`), so that a home made before
the credentials existed, or whose ``secrets.json`` was lost, is given them on start.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

from greenai.localstack.private import write_private
from streams.stack_secrets import CREDENTIALS, SECRETS_FILE, Credential, StackSecrets

__all__ = ["AppliedMark", "ensure_secrets", "new_password"]

PASSWORD_BYTES = 32


def new_password() -> str:
    """A random password of 256 bits, URL-safe (fits URLs, JAAS and ACL files unquoted)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def ensure_secrets(home: Path) -> StackSecrets:
    """The credentials of ``home``: those in ``secrets.json``, plus new random ones for any
    missing there (the file is then rewritten, mode 0600)."""
    path = Path(home) / SECRETS_FILE
    data: dict[str, Any] = {}
    if path.exists():
        loaded = json.loads(path.read_text())
        if not isinstance(loaded, dict):
            raise RuntimeError(f"{path} is not a JSON object; move it away to start afresh")
        data = loaded
    missing = {
        name: {"user": user, "password": new_password()}
        for name, user in CREDENTIALS.items()
        if not (isinstance(data.get(name), dict) and data[name].get("password"))
    }
    if missing or not path.exists():
        data |= missing
        write_private(path, json.dumps(data, indent=2) + "\n")
    return StackSecrets.from_json(data)


class AppliedMark:
    """A file next to a server's data saying which password that data already holds: a
    fingerprint (a salted hash, not the password) of the credential last applied."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def fingerprint(credential: Credential) -> str:
        digest = hashlib.sha256(f"greenai:{credential.user}:{credential.password}".encode())
        return digest.hexdigest()[:32]

    def holds(self, credential: Credential) -> bool:
        """Whether the data was last given ``credential``."""
        try:
            return self.path.read_text().strip() == self.fingerprint(credential)
        except OSError:
            return False

    def record(self, credential: Credential) -> None:
        write_private(self.path, self.fingerprint(credential) + "\n")
