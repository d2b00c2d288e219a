"""Passwords in server URLs: put one in for a connection, take it out for files and logs.

>>> with_password("postgresql://greenai_app@127.0.0.1:5432/greenai", "s3cret")
'postgresql://greenai_app:s3cret@127.0.0.1:5432/greenai'
>>> without_password("redis://greenai:s3cret@127.0.0.1:6379/0")
'redis://greenai@127.0.0.1:6379/0'
>>> url_user("postgresql://greenai@127.0.0.1:5432/greenai?options=-csearch_path%3Dt")
'greenai'
>>> with_schema("postgresql://u@h:1/db", "t_1")
'postgresql://u@h:1/db?options=-csearch_path%3Dt_1'
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = ["url_user", "with_password", "with_schema", "without_password"]


def url_user(url: str) -> str | None:
    """The user the URL names, if any."""
    user = urlsplit(url).username
    return unquote(user) if user else None


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` for the user it names (replacing any password it had)."""
    parts = urlsplit(url)
    user = parts.username
    if not user:
        raise ValueError("the URL names no user to give the password to")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{user}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def without_password(url: str) -> str:
    """``url`` with its password (if any) removed: what may be written to files and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}"))


def with_schema(database_url: str, schema: str) -> str:
    """A PostgreSQL URL whose sessions put ``schema`` first on the search path (how the
    tests and benchmarks isolate themselves)."""
    separator = "&" if urlsplit(database_url).query else "?"
    return f"{database_url}{separator}options=-csearch_path%3D{schema}"
