"""An external HTTP JSON API, polled page by page (cursor or page-number pagination).

Every response is parsed with numbers kept as their exact text, so decimals never pass
through float. Failed requests are retried: 5xx answers, timeouts and connection errors with
exponential backoff (``backoff`` · 2^attempt, at most ``max_backoff``), and ``429`` after
the delay its ``Retry-After`` header asks for (seconds or an HTTP date). The resume position
(the next cursor, or the page number) is checkpointed after the rows before it are
acknowledged. At the end of the data the last page is fetched again on the next pass, so
items appended to it later are not missed (republished items change nothing downstream).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from streams.ingest.context import SourceContext, SourceError
from streams.ingest.files import RawRow
from streams.ingest.publisher import Counts
from streams.values import NumberText

log = logging.getLogger("greenai.ingest.http")
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines would log every URL
ENTRY = "http"


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), self.max_backoff))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """The delay a ``Retry-After`` header asks for: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def get_json(
    client: httpx.Client,
    url: str,
    params: Mapping[str, Any],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """GET ``url`` and parse its JSON (numbers as text), retrying what is worth retrying."""
    for attempt in range(policy.max_retries + 1):
        try:
            response = client.get(url, params=dict(params))
        except httpx.TransportError as exc:  # timeouts, refused or dropped connections
            problem, delay = type(exc).__name__, policy.delay(attempt)
        else:
            status = response.status_code
            if status == 429:
                asked = retry_after_seconds(response.headers.get("Retry-After"))
                problem = "429 Too Many Requests"
                delay = asked if asked is not None else policy.delay(attempt)
            elif status >= 500:
                problem, delay = f"HTTP {status}", policy.delay(attempt)
            elif status >= 400:
                raise SourceError(f"{url}: HTTP {status} {response.reason_phrase}")
            else:
                try:
                    return json.loads(response.text, parse_float=NumberText, parse_int=NumberText)
                except json.JSONDecodeError as exc:
                    raise SourceError(f"{url}: the response is not JSON ({exc.msg})") from exc
                except RecursionError:
                    raise SourceError(f"{url}: the response is JSON nested too deeply") from None
        if attempt == policy.max_retries:
            raise SourceError(f"{url}: {problem}, gave up after {attempt + 1} attempts")
        log.warning("%s: %s, retrying in %.1fs", url, problem, delay)
        sleep(delay)
    raise AssertionError("unreachable")


def dig(document: Any, path: str) -> Any:
    """``a.b.c`` inside nested objects; ``""`` is the document itself; missing is None."""
    for part in filter(None, path.split(".")):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


@dataclass(frozen=True)
class Page:
    items: list[Any]
    where: str  # the request, for locations
    resume: Any  # the position to checkpoint once this page is acknowledged


class HttpSource:
    def __init__(
        self,
        url: str,
        *,
        items: str = "",
        pagination: Literal["cursor", "page"] = "cursor",
        cursor_param: str = "cursor",
        next_cursor: str = "next_cursor",
        page_param: str = "page",
        size_param: str | None = None,
        page_size: int = 100,
        first_page: int = 1,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.items = items
        self.pagination = pagination
        self.cursor_param, self.next_cursor = cursor_param, next_cursor
        self.page_param, self.size_param = page_param, size_param
        self.page_size, self.first_page = page_size, first_page
        self.params = dict(params or {})
        self._headers = dict(headers or {})  # may hold secrets: never logged or reported
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    def _pages(self, client: httpx.Client, position: Any) -> Iterator[Page]:
        if self.pagination == "cursor":
            cursor = position
            while True:
                params = self.params | ({self.cursor_param: cursor} if cursor else {})
                body = get_json(client, self.url, params, self.retry, self._sleep)
                following = dig(body, self.next_cursor)
                where = f"{self.url}?{self.cursor_param}={cursor or ''}"
                # at the end keep the last cursor: the next pass re-reads this page only
                yield Page(self._items(body), where, following or cursor)
                if not following or following == cursor:
                    return
                cursor = following
        else:
            page = int(position) if position is not None else self.first_page
            while True:
                params = self.params | {self.page_param: str(page)}
                if self.size_param:
                    params[self.size_param] = str(self.page_size)
                body = get_json(client, self.url, params, self.retry, self._sleep)
                items = self._items(body)
                full = len(items) >= self.page_size
                yield Page(
                    items, f"{self.url}?{self.page_param}={page}", page + 1 if full else page
                )
                if not full:
                    return
                page += 1

    def _items(self, body: Any) -> list[Any]:
        found = dig(body, self.items)
        if found is None:
            return []
        if not isinstance(found, list):
            raise SourceError(f"{self.url}: {self.items or 'the body'} is not a JSON array")
        return found

    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        entry = ctx.store.get(ENTRY) or {}
        position = entry.get("position")
        started = time.perf_counter()
        pages = 0

        def rows() -> Iterator[tuple[RawRow | None, tuple[Any] | None]]:
            nonlocal pages
            with httpx.Client(timeout=self.timeout, headers=self._headers) as client:
                for page in self._pages(client, position):
                    pages += 1
                    for i, item in enumerate(page.items):
                        where = f"{page.where}#{i}"
                        if isinstance(item, dict):
                            yield RawRow(where, item), None
                        else:
                            yield (
                                RawRow(where, {"item": item}, "an item must be a JSON object"),
                                None,
                            )
                    yield None, (page.resume,)

        def commit(mark: tuple[Any] | None, counts: Counts, done: bool) -> None:
            if mark is not None:
                ctx.store.put(ENTRY, {"position": mark[0], "at": datetime.now(UTC).isoformat()})

        pump = ctx.pump(commit, self.url)
        try:
            counts = pump.run(rows())
        finally:
            if pump.progress is not None:
                pump.progress.close()
        ctx.metrics.backlog(0)
        if counts.read:
            ctx.report(
                ctx.summary(counts, time.perf_counter() - started, url=self.url, pages=pages)
            )
