"""What routes depend on (FastAPI ``Depends``): the database pool, the principal asking,
the permission a route needs, and the request's context for the audit trail.

Cookie-authenticated requests that change something must prove they come from the
ReconWorkstation itself: an ``Origin`` (or ``Referer``) of this very site and the
session's CSRF token in ``X-CSRF-Token``. API tokens (``Authorization: Bearer``) are not
sent by browsers on their own, so they need neither.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from psycopg_pool import AsyncConnectionPool

from bff.audit.trail import Actor, Recorder, Where
from bff.auth.permissions import Permission
from bff.auth.principal import Principal, token_digest
from bff.auth.sessions import SessionStore
from bff.store import tokens, users
from streams.store.breaks import get_break

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COOKIE = "__Host-greenai_session"
PLAIN_COOKIE = "greenai_session"  # over plain HTTP to a host that is not this machine


def pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


def sessions(request: Request) -> SessionStore:
    return request.app.state.sessions


def context(request: Request) -> Where:
    """Where the request came from, for the audit trail."""
    client = request.client.host if request.client else ""
    return Where(
        client,
        request.headers.get("user-agent", "")[:300],
        getattr(request.state, "request_id", ""),
    )


def recorder(request: Request) -> Recorder:
    """The audit trail, for this request."""
    return Recorder(request.app.state.audit_key, context(request))


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or request.cookies.get(PLAIN_COOKIE)


def same_origin(request: Request) -> bool:
    """Whether the request says it comes from a page of this site (Origin, else Referer)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed:
        return False
    parts = urlsplit(claimed)
    return f"{parts.scheme}://{parts.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


async def optional_principal(request: Request) -> Principal | None:
    """The principal of the request, or None when it carries no credentials at all;
    401 for credentials that do not (or no longer) open anything."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return await _from_token(request, authorization[7:].strip())
    session_id = session_cookie(request)
    if session_id:
        return await _from_session(request, session_id)
    return None


async def principal(
    found: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if found is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
    return found


async def _from_token(request: Request, token: str) -> Principal:
    async with pool(request).connection() as conn:
        found = await tokens.usable(conn, token_digest(token))
        user = await users.by_id(conn, found.user_id) if found else None
    if found is None or user is None or user.disabled:
        raise HTTPException(401, "the API token is unknown, expired or revoked")
    roles = frozenset(found.roles) & frozenset(user.roles)
    return Principal(user, roles, "token", token_id=found.token_id)


async def _from_session(request: Request, session_id: str) -> Principal:
    session = await sessions(request).load(session_id)
    if session is None:
        raise HTTPException(401, "the session has ended: sign in again")
    async with pool(request).connection() as conn:
        user = await users.by_id(conn, session.user_id)
    if user is None or user.disabled:
        await sessions(request).end(session_id, session.user_id)
        raise HTTPException(401, "the account is disabled")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not same_origin(request) or not hmac.compare_digest(sent, session.csrf):
            raise HTTPException(403, "cross-site request refused (Origin and X-CSRF-Token)")
    return Principal(
        user, frozenset(user.roles), "session", session_id=session_id, csrf=session.csrf
    )


def actor(who: Principal) -> Actor:
    return Actor(who.name, who.kind)


def require(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the principal, if it holds ``permission`` (else 403)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.may(permission):
            raise HTTPException(403, f"this needs the {permission.value} permission")
        return who

    check.__name__ = f"require_{permission.value}"
    return check


Reader = Annotated[Principal, Depends(require(Permission.READ))]


async def visible_break(request: Request, break_id: str, who: Reader) -> dict[str, Any]:
    """The stored break of the path's ``break_id``; 404 for one the caller does not see
    (or that is not)."""
    row = await get_break(pool(request), break_id)
    if row is None or not who.sees(row["recon"]):
        raise HTTPException(404, f"no break {break_id}")
    return row


VisibleBreak = Annotated[dict[str, Any], Depends(visible_break)]
Admin = Annotated[Principal, Depends(require(Permission.ADMIN))]
Auditor = Annotated[Principal, Depends(require(Permission.AUDIT))]
Labeller = Annotated[Principal, Depends(require(Permission.LABEL))]
Pool = Annotated[AsyncConnectionPool, Depends(pool)]
Audit = Annotated[Recorder, Depends(recorder)]
