"""``/api/auth``: sign in (password or single sign-on), sign out, who am I, my password.

The browser gets an opaque session id in an HttpOnly cookie — ``__Host-`` prefixed and
Secure on HTTPS and on this machine's own addresses, SameSite=Lax — and never a token. A
sign-in always starts a new session (never one the browser brought along). Failed
sign-ins are audited like successful ones; five in a row lock the account for a while,
and each address is limited in how many attempts it makes a minute.
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from authlib.integrations.base_client import OAuthError
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field

from bff.audit.trail import Actor, Recorder
from bff.auth import oidc
from bff.auth.passwords import hash_password, needs_rehash, problem, verify_password
from bff.auth.permissions import permissions_of
from bff.auth.principal import Principal
from bff.auth.sessions import Session
from bff.deps import (
    COOKIE,
    PLAIN_COOKIE,
    Audit,
    Pool,
    actor,
    context,
    principal,
    same_origin,
    session_cookie,
    sessions,
)
from bff.routers import COMMON, problems
from bff.store import users
from bff.store.users import User

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=COMMON)
log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
REFUSED = "wrong username or password, or the account is locked: try again later"


class SignIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class NewPassword(BaseModel):
    current: str = Field(max_length=1024)
    new: str = Field(max_length=1024)


class Me(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    permissions: list[str]
    recons: list[str] | None
    via: str
    csrf_token: str | None


class Methods(BaseModel):
    password: bool
    sso: dict[str, str] | None


def me_of(user: User, roles: frozenset[str] | list[str], via: str, csrf: str | None) -> Me:
    return Me(
        username=user.username,
        display_name=user.display_name,
        roles=sorted(roles),
        permissions=sorted(p.value for p in permissions_of(roles)),
        recons=user.recons,
        via=via,
        csrf_token=csrf,
    )


def secure_context(request: Request) -> bool:
    return request.url.scheme == "https" or (request.url.hostname or "") in LOOPBACK


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    secure = secure_context(request)
    if not secure:
        log.warning("session cookie over plain HTTP to %s: put TLS in front", request.url.hostname)
    response.set_cookie(
        COOKIE if secure else PLAIN_COOKIE,
        session_id,
        httponly=True,
        secure=secure,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    response.delete_cookie(PLAIN_COOKIE, path="/", httponly=True, samesite="lax")


async def rate_limited(request: Request, ip: str) -> bool:
    """Whether ``ip`` made more sign-in attempts in the last minute than allowed (a sliding
    window: a sorted set of attempt times, so no burst fits across a minute's boundary)."""
    config = request.app.state.config
    key = f"{request.app.state.settings.topic_prefix}:sign-in:{ip}"
    now = time.time()
    async with request.app.state.redis.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now - 60)
        pipe.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
        pipe.zcard(key)
        pipe.expire(key, 60)
        _, _, count, _ = await pipe.execute()
    return int(count) > config.sign_in_per_ip_per_minute


async def start_session(request: Request, response: Response, user: User, method: str) -> Session:
    store = sessions(request)
    old = session_cookie(request)
    if old:  # never carry a session over a sign-in (fixation)
        previous = await store.load(old)
        if previous is not None:
            await store.end(old, previous.user_id)
    ctx = context(request)
    session_id, session = await store.start(user.user_id, method, ctx.ip, ctx.user_agent)
    set_session_cookie(request, response, session_id)
    return session


@router.get("/methods", response_model=Methods)
async def methods(request: Request) -> Methods:
    """How one may sign in here (public)."""
    config = request.app.state.config
    sso = {"label": config.oidc_label, "url": "api/auth/sso/login"} if config.oidc_enabled else None
    return Methods(password=True, sso=sso)


@router.post("/sign-in", response_model=Me, responses=problems(429))
async def sign_in(
    body: SignIn, request: Request, response: Response, pool: Pool, audit: Audit
) -> Me:
    """Sign in with a local account's password."""
    if not same_origin(request):
        raise HTTPException(403, "sign in from the ReconWorkstation's own page")
    if await rate_limited(request, audit.where.ip):
        raise HTTPException(429, "too many sign-in attempts from this address: wait a minute")
    config = request.app.state.config
    refusal: str | None = None
    async with pool.connection() as conn, conn.transaction():
        user = await users.by_name(conn, body.username)
        matches = verify_password(user.password_hash if user else None, body.password)
        now = datetime.now(UTC)
        locked = bool(user and user.locked_until and user.locked_until > now)
        if user is None:
            refusal = "no such user"
        elif user.disabled:
            refusal = "account disabled"
        elif locked:
            refusal = "account locked"
        elif not matches:
            until = await users.failed_sign_in(
                conn, user.user_id, config.sign_in_lock_after, config.sign_in_lock_for
            )
            refusal = "wrong password" + (f"; locked until {until.isoformat()}" if until else "")
        if refusal is not None:
            await audit(
                conn,
                Actor(body.username, "anonymous"),
                "auth.sign_in_failed",
                target=("user", body.username),
                after={"method": "password", "reason": refusal},
            )
        else:
            assert user is not None
            await users.signed_in(conn, user.user_id)
            if user.password_hash and needs_rehash(user.password_hash):
                await users.update(conn, user.user_id, password_hash=hash_password(body.password))
            await audit(
                conn,
                Actor(user.username, "user"),
                "auth.sign_in",
                target=("user", user.username),
                after={"method": "password"},
            )
    if refusal is not None:
        raise HTTPException(401, REFUSED)
    assert user is not None
    session = await start_session(request, response, user, "password")
    return me_of(user, user.roles, "session", session.csrf)


@router.post("/sign-out", status_code=204)
async def sign_out(
    request: Request, who: Annotated[Principal, Depends(principal)], pool: Pool, audit: Audit
) -> Response:
    """End this browser session (an API token is revoked instead, by an admin)."""
    if who.session_id is None:
        raise HTTPException(400, "an API token does not sign out: an admin revokes it")
    await sessions(request).end(who.session_id, who.user.user_id)
    async with pool.connection() as conn, conn.transaction():
        await audit(
            conn,
            actor(who),
            "auth.sign_out",
            target=("user", who.name),
        )
    response = Response(status_code=204)
    clear_session_cookie(response)
    return response


@router.get("/me", response_model=Me)
async def me(who: Annotated[Principal, Depends(principal)]) -> Me:
    """The signed-in user, their roles and permissions, and the CSRF token of the session
    (send it back as ``X-CSRF-Token`` with every change)."""
    return me_of(who.user, who.roles, who.via, who.csrf)


@router.post("/password", status_code=204)
async def change_password(
    body: NewPassword, who: Annotated[Principal, Depends(principal)], pool: Pool, audit: Audit
) -> Response:
    """Change one's own local password (the current one is asked again)."""
    if who.user.sso_subject is not None:
        raise HTTPException(400, "a single sign-on account has no password here")
    if not verify_password(who.user.password_hash, body.current):
        raise HTTPException(400, "the current password is wrong")
    reason = problem(body.new, who.name)
    if reason:
        raise HTTPException(400, reason)
    async with pool.connection() as conn, conn.transaction():
        await users.update(conn, who.user.user_id, password_hash=hash_password(body.new))
        await audit(
            conn,
            actor(who),
            "user.password",
            target=("user", who.name),
        )
    return Response(status_code=204)


@router.get("/sso/login", include_in_schema=False)
async def sso_login(request: Request) -> Any:
    provider = request.app.state.sso
    if provider is None:
        raise HTTPException(404, "single sign-on is not configured")
    base = request.app.state.config.public_url or str(request.base_url).rstrip("/")
    return await provider.authorize_redirect(request, f"{base}/api/auth/sso/callback")


@router.get("/sso/callback", include_in_schema=False)
async def sso_callback(request: Request, pool: Pool, audit: Audit) -> Any:
    provider = request.app.state.sso
    if provider is None:
        raise HTTPException(404, "single sign-on is not configured")
    config = request.app.state.config
    try:
        token = await provider.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise OAuthError(description="the provider's ID token names no subject")
    except OAuthError as exc:
        return await _sso_refused(
            pool, audit, "?", f"single sign-on failed: {exc.description or exc}"
        )
    grant = oidc.grant_of(config, claims)
    name = oidc.username_of(claims)
    if not grant.roles:
        return await _sso_refused(pool, audit, name, "no greenai role for this account's groups")
    subject = f"{config.oidc_issuer}|{claims['sub']}"
    try:
        async with pool.connection() as conn, conn.transaction():
            user: User | None = await users.from_single_sign_on(
                conn,
                subject=subject,
                username=name,
                display_name=str(claims.get("name") or name),
                roles=grant.roles,
                recons=grant.recons,
            )
    except psycopg.errors.UniqueViolation:  # the username belongs to a local account
        user = None
    if user is None or user.disabled:
        return await _sso_refused(pool, audit, name, "this account cannot sign in here")
    async with pool.connection() as conn, conn.transaction():
        await audit(
            conn,
            Actor(user.username, "user"),
            "auth.sign_in",
            target=("user", user.username),
            after={"method": "sso", "roles": grant.roles, "recons": grant.recons},
        )
    response = RedirectResponse("/", status_code=303)
    await start_session(request, response, user, "sso")
    return response


async def _sso_refused(pool: Any, audit: Recorder, name: str, reason: str) -> RedirectResponse:
    async with pool.connection() as conn, conn.transaction():
        await audit(
            conn,
            Actor(name, "anonymous"),
            "auth.sign_in_failed",
            target=("user", name),
            after={"method": "sso", "reason": reason},
        )
    return RedirectResponse("/?sign_in_error=" + reason.replace(" ", "+"), status_code=303)
