"""Browser sessions, kept in Redis: the browser holds only an opaque id in an HttpOnly
cookie; Redis holds who it is, the CSRF token and when the session began and was last used.

A session ends when it has been idle for ``idle`` (Redis expires the key), when it is
older than ``absolute`` (checked on every use), at sign-out, or when an admin revokes the
user's sessions (each user's session ids are indexed). Ids are 256 random bits and only
their SHA-256 is a Redis key, so a leaked Redis dump opens no session.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import timedelta

import redis.asyncio as aioredis

TOUCH_EVERY = 30.0  # seconds: how often a used session's idle timer is pushed back


@dataclass(frozen=True)
class Session:
    user_id: int
    csrf: str
    started: float  # epoch seconds
    last_seen: float
    method: str  # "password" | "sso"
    ip: str
    user_agent: str


def new_id() -> str:
    return secrets.token_urlsafe(32)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(
        self, redis: aioredis.Redis, prefix: str, idle: timedelta, absolute: timedelta
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.idle = idle
        self.absolute = absolute

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}:session:{_digest(session_id)}"

    def _index(self, user_id: int) -> str:
        return f"{self.prefix}:user-sessions:{user_id}"

    async def start(
        self, user_id: int, method: str, ip: str, user_agent: str
    ) -> tuple[str, Session]:
        """A new session (a new id, always: never one the browser brought along)."""
        session_id = new_id()
        now = time.time()
        session = Session(
            user_id, secrets.token_urlsafe(24), now, now, method, ip, user_agent[:300]
        )
        idle = int(self.idle.total_seconds())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(session_id), json.dumps(asdict(session)), ex=idle)
            pipe.sadd(self._index(user_id), _digest(session_id))
            pipe.expire(self._index(user_id), int(self.absolute.total_seconds()))
            await pipe.execute()
        return session_id, session

    async def load(self, session_id: str) -> Session | None:
        """The live session of this id, its idle timer pushed back; None when it has ended."""
        key = self._key(session_id)
        raw = await self.redis.get(key)
        if raw is None:
            return None
        session = Session(**json.loads(raw))
        now = time.time()
        if now - session.started > self.absolute.total_seconds():
            await self.end(session_id, session.user_id)
            return None
        if now - session.last_seen > TOUCH_EVERY:
            session = Session(**{**asdict(session), "last_seen": now})
            await self.redis.set(
                key, json.dumps(asdict(session)), ex=int(self.idle.total_seconds())
            )
        return session

    async def end(self, session_id: str, user_id: int) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(session_id))
            pipe.srem(self._index(user_id), _digest(session_id))
            await pipe.execute()

    async def end_all(self, user_id: int) -> int:
        """End every session of ``user_id`` (a revoke); how many there were."""
        digests = await self.redis.smembers(self._index(user_id))
        keys = [
            f"{self.prefix}:session:{d.decode() if isinstance(d, bytes) else d}" for d in digests
        ]
        if keys:
            await self.redis.delete(*keys)
        await self.redis.delete(self._index(user_id))
        return len(keys)
