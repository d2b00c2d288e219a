"""Single sign-on with OpenID Connect (authlib): the authorization code flow with PKCE and a
nonce, the ID token's signature, issuer, audience and nonce checked by authlib, and the
provider's groups mapped to greenai roles and recons.

The flow's state (nonce, code verifier) waits in Redis; the browser carries only a signed
marker cookie binding the callback to the browser that started the flow. The provider's
tokens never leave the BFF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from authlib.integrations.starlette_client import OAuth

from bff.auth.permissions import ROLES
from bff.config import BffConfig

FLOW_SECONDS = 600


class RedisCache:
    """The cache authlib keeps a sign-in flow's state in."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self.redis.get(f"{self.prefix}:oidc:{key}")
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        await self.redis.set(f"{self.prefix}:oidc:{key}", value, ex=expires or FLOW_SECONDS)

    async def delete(self, key: str) -> None:
        await self.redis.delete(f"{self.prefix}:oidc:{key}")


def provider(config: BffConfig, redis: aioredis.Redis, prefix: str) -> Any:
    """The registered provider client, or None when single sign-on is not configured."""
    if not config.oidc_enabled:
        return None
    oauth = OAuth(cache=RedisCache(redis, prefix))
    issuer = (config.oidc_issuer or "").rstrip("/")
    oauth.register(
        "sso",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=config.oidc_client_id,
        client_secret=config.oidc_client_secret,
        client_kwargs={"scope": config.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth.sso


@dataclass(frozen=True)
class Grant:
    roles: list[str]
    recons: list[str] | None  # None: every recon


def grant_of(config: BffConfig, claims: dict[str, Any]) -> Grant:
    """Roles and recons from the provider's groups (``GREENAI_OIDC_GROUP_MAP``): the union
    of every matching group's; a group that names no recons grants them all.

    >>> config = BffConfig(oidc_group_map={
    ...     "recon-ops": {"roles": ["analyst"], "recons": ["trades"]},
    ...     "controllers": {"roles": ["approver"]}})
    >>> grant_of(config, {"groups": ["recon-ops"]})
    Grant(roles=['analyst'], recons=['trades'])
    >>> grant_of(config, {"groups": ["recon-ops", "controllers"]})
    Grant(roles=['analyst', 'approver'], recons=None)
    """
    groups = claims.get(config.oidc_groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    roles: set[str] = set()
    recons: set[str] | None = set()
    for group in groups:
        granted = config.oidc_group_map.get(str(group))
        if granted is None:
            continue
        roles |= {r for r in granted.get("roles", []) if r in ROLES}
        if "recons" not in granted:
            recons = None
        elif recons is not None:
            recons |= set(granted["recons"])
    return Grant(sorted(roles), None if recons is None else sorted(recons))


def username_of(claims: dict[str, Any]) -> str:
    return str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
