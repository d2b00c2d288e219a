"""Who is asking: a user signed in with a browser session, or an API token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from bff.auth.permissions import Permission, can_see, permissions_of
from bff.store.users import User

TOKEN_PREFIX = "gat_"  # greenai API token: recognisable in a leaked-secret scan


@dataclass(frozen=True)
class Principal:
    user: User
    roles: frozenset[str]
    via: str  # "session" | "token"
    session_id: str | None = None
    csrf: str | None = None
    token_id: int | None = None

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def kind(self) -> str:
        return "token" if self.via == "token" else "user"

    @property
    def recons(self) -> list[str] | None:
        return self.user.recons

    def may(self, permission: Permission) -> bool:
        return permission in permissions_of(self.roles)

    def sees(self, recon: str) -> bool:
        return can_see(self.recons, recon)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are 256 random bits: a plain SHA-256 is a safe, fast way to keep them."""
    return hashlib.sha256(token.encode()).hexdigest()
