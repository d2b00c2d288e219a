"""``/api/users`` and ``/api/tokens``: accounts, their roles and recons, their sessions, and
API tokens — all for admins, every change in the audit trail (before → after)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from bff.auth.passwords import hash_password, problem
from bff.auth.permissions import ROLES
from bff.auth.principal import new_token, token_digest
from bff.deps import Admin, Audit, Pool, actor, sessions
from bff.routers import COMMON, problems
from bff.store import tokens, users
from bff.store.tokens import Token

router = APIRouter(tags=["users"], responses=COMMON)
Role = Literal["viewer", "analyst", "approver", "admin"]
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@+-]+$")]
ReconName = Annotated[str, Field(max_length=200)]


class UserIn(BaseModel):
    username: Name
    roles: list[Role] = Field(min_length=1)
    recons: list[ReconName] | None = None
    password: str | None = Field(default=None, max_length=1024)
    kind: Literal["person", "service"] = "person"
    display_name: str = Field(default="", max_length=200)


class UserChange(BaseModel):
    roles: list[Role] | None = None
    recons: list[ReconName] | None = None
    all_recons: bool = False  # set recons back to every recon
    disabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1024)


class UserOut(BaseModel):
    user_id: int
    username: str
    display_name: str
    kind: str
    roles: list[str]
    recons: list[str] | None
    sso: bool
    disabled: bool
    locked_until: datetime | None
    created_at: datetime


class TokenIn(BaseModel):
    username: Name
    name: str = Field(min_length=1, max_length=100)
    roles: list[Role] | None = None  # default: every role of the user
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenOut(BaseModel):
    token_id: int
    username: str
    name: str
    prefix: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class NewToken(TokenOut):
    token: str  # shown once: only its hash is kept


def token_out(t: Token) -> TokenOut:
    return TokenOut(**{k: getattr(t, k) for k in TokenOut.model_fields})


@router.get("/api/users", response_model=list[UserOut])
async def list_users(who: Admin, pool: Pool) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        return [u.public() for u in await users.listing(conn)]


@router.post("/api/users", response_model=UserOut, status_code=201, responses=problems(409))
async def create_user(body: UserIn, who: Admin, pool: Pool, audit: Audit) -> dict[str, Any]:
    password_hash = None
    if body.password is not None:
        reason = problem(body.password, body.username)
        if reason:
            raise HTTPException(400, reason)
        password_hash = hash_password(body.password)
    async with pool.connection() as conn, conn.transaction():
        user = await users.create(
            conn,
            username=body.username,
            roles=sorted(set(body.roles)),
            recons=body.recons,
            password_hash=password_hash,
            kind=body.kind,
            display_name=body.display_name,
        )
        if user is None:
            raise HTTPException(409, f"user {body.username} exists")
        await audit(
            conn,
            actor(who),
            "user.create",
            target=("user", user.username),
            after=_audited(user.public()),
        )
    return user.public()


@router.patch("/api/users/{username}", response_model=UserOut, responses=problems(409))
async def change_user(
    username: str, body: UserChange, request: Request, who: Admin, pool: Pool, audit: Audit
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.roles is not None:
        changes["roles"] = sorted(set(body.roles))
    if body.all_recons:
        changes["recons"] = None
    elif body.recons is not None:
        changes["recons"] = body.recons
    if body.disabled is not None:
        changes["disabled"] = body.disabled
    if body.display_name is not None:
        changes["display_name"] = body.display_name
    if body.password is not None:
        reason = problem(body.password, username)
        if reason:
            raise HTTPException(400, reason)
        changes["password_hash"] = hash_password(body.password)
    if not changes:
        raise HTTPException(400, "nothing to change")
    async with pool.connection() as conn, conn.transaction():
        before = await users.by_name(conn, username)
        if before is None:
            raise HTTPException(404, f"no user {username}")
        if before.user_id == who.user.user_id and (
            changes.get("disabled") or ("roles" in changes and "admin" not in changes["roles"])
        ):
            raise HTTPException(409, "an admin cannot disable or demote themselves")
        after = await users.update(conn, before.user_id, **changes)
        assert after is not None
        shown = {k: v for k, v in changes.items() if k != "password_hash"}
        if "password_hash" in changes:
            shown["password"] = "changed"
        await audit(
            conn,
            actor(who),
            "user.update",
            target=("user", username),
            before=_audited({k: before.public().get(k) for k in shown}),
            after=_audited(shown),
        )
    if changes.get("disabled") or "password_hash" in changes:
        await sessions(request).end_all(before.user_id)
    return after.public()


@router.post("/api/users/{username}/sessions/revoke", status_code=200)
async def revoke_sessions(
    username: str, request: Request, who: Admin, pool: Pool, audit: Audit
) -> dict[str, int]:
    """End every session of the user at once."""
    async with pool.connection() as conn, conn.transaction():
        user = await users.by_name(conn, username)
        if user is None:
            raise HTTPException(404, f"no user {username}")
        ended = await sessions(request).end_all(user.user_id)
        await audit(
            conn,
            actor(who),
            "user.sessions_revoked",
            target=("user", username),
            after={"sessions": ended},
        )
    return {"sessions": ended}


@router.get("/api/tokens", response_model=list[TokenOut])
async def list_tokens(who: Admin, pool: Pool) -> list[TokenOut]:
    async with pool.connection() as conn:
        return [token_out(t) for t in await tokens.listing(conn)]


@router.post("/api/tokens", response_model=NewToken, status_code=201)
async def create_token(body: TokenIn, who: Admin, pool: Pool, audit: Audit) -> NewToken:
    """A new API token for a user (a service account, say): shown once, kept hashed."""
    async with pool.connection() as conn, conn.transaction():
        user = await users.by_name(conn, body.username)
        if user is None:
            raise HTTPException(404, f"no user {body.username}")
        roles = sorted(set(body.roles or user.roles))
        if not set(roles) <= set(user.roles) or not roles:
            raise HTTPException(
                400, f"a token's roles must be among {user.username}'s: {user.roles}"
            )
        secret = new_token()
        expires = (
            datetime.now(UTC) + timedelta(days=body.expires_in_days)
            if body.expires_in_days
            else None
        )
        token = await tokens.create(
            conn,
            user_id=user.user_id,
            name=body.name,
            token_sha256=token_digest(secret),
            prefix=secret[:8],
            roles=roles,
            created_by=who.name,
            expires_at=expires,
        )
        await audit(
            conn,
            actor(who),
            "token.create",
            target=("token", str(token.token_id)),
            after=_audited(
                {
                    "user": user.username,
                    "name": body.name,
                    "roles": roles,
                    "prefix": token.prefix,
                    "expires_at": expires,
                }
            ),
        )
    return NewToken(**token_out(token).model_dump(), token=secret)


@router.delete("/api/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: int, who: Admin, pool: Pool, audit: Audit) -> Response:
    async with pool.connection() as conn, conn.transaction():
        if not await tokens.revoke(conn, token_id):
            raise HTTPException(404, f"no live token {token_id}")
        await audit(conn, actor(who), "token.revoke", target=("token", str(token_id)))
    return Response(status_code=204)


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values for the trail (instants as text)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


assert set(ROLES) == {"viewer", "analyst", "approver", "admin"}  # Role above lists them
