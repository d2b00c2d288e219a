"""Roles and what they permit (pure). Segregation of duties is built in: nobody approves
what they proposed, and the admin role runs the platform without touching breaks.

>>> sorted(p.value for p in permissions_of(["analyst"]))
['assign', 'comment', 'label', 'propose', 'read']
>>> Permission.APPROVE in permissions_of(["analyst", "viewer"])
False
>>> can_see(["trades"], "fx-swaps"), can_see(None, "fx-swaps")
(False, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    ANALYST = "analyst"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"  # breaks, recons, decisions, model versions, progress, the stream
    LABEL = "label"  # a break's cause, a reversal of the Discriminator's disposition
    COMMENT = "comment"
    ASSIGN = "assign"
    PROPOSE = "propose"  # propose a close or a write-off (maker)
    APPROVE = "approve"  # approve or reject another user's proposal (checker)
    AUDIT = "audit"  # the whole audit trail, its export and verification
    ADMIN = "admin"  # users, roles, tokens, recons, replay, model rollback


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.ANALYST: frozenset(
        {
            Permission.READ,
            Permission.LABEL,
            Permission.COMMENT,
            Permission.ASSIGN,
            Permission.PROPOSE,
        }
    ),
    Role.APPROVER: frozenset({Permission.READ, Permission.APPROVE, Permission.AUDIT}),
    Role.ADMIN: frozenset({Permission.READ, Permission.ADMIN, Permission.AUDIT}),
}
ROLES = tuple(r.value for r in Role)


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(Role(role), frozenset()) if role in ROLES else set()
    return frozenset(granted)


def can_see(recons: list[str] | None, recon: str) -> bool:
    """Whether a user limited to ``recons`` (None: all of them) sees ``recon``."""
    return recons is None or recon in recons
