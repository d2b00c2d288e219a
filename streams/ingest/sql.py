"""A data mart table or query on PostgreSQL, read incrementally on a watermark column.

Each pass runs ``SELECT * FROM (<query>) WHERE <watermark> > <checkpoint> ORDER BY
<watermark>`` through a server-side cursor, ``batch_rows`` rows at a time. Because rows come
in watermark order, a watermark value is complete once a row with a larger value arrives (or
the result ends); only a complete value is checkpointed, after the producer flushed, so rows
sharing a watermark are never split across the checkpoint. The watermark must grow with
every insert or update (e.g. ``updated_at`` set by the writer or a trigger, or a sequence)
and be NOT NULL; rows with a NULL watermark are counted in a warning and not read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from streams.ingest.context import SourceContext, SourceError
from streams.ingest.files import RawRow, typed_row
from streams.ingest.publisher import Counts
from streams.values import Value, from_json, render, to_json

log = logging.getLogger("greenai.ingest.sql")
ENTRY = "sql"


class SqlSource:
    def __init__(
        self,
        conninfo: str,
        *,
        query: str | None = None,
        table: str | None = None,
        watermark: str,
        batch_rows: int = 5000,
        label: str | None = None,
    ) -> None:
        if (query is None) == (table is None):
            raise ValueError("give exactly one of query and table")
        self._conninfo = conninfo
        self.source_sql: sql.Composable = (
            sql.SQL(query)
            if query is not None  # the operator's own SQL from the recon definition
            else sql.SQL("SELECT * FROM {}").format(sql.Identifier(*str(table).split(".")))
        )
        self.watermark = watermark
        self.batch_rows = batch_rows
        self.label = label or f"sql:{table or 'query'}"

    def _select(self, what: sql.Composable, after: bool, order: bool) -> sql.Composed:
        wm = sql.Identifier(self.watermark)
        where = sql.SQL("{} > %s").format(wm) if after else sql.SQL("{} IS NOT NULL").format(wm)
        return sql.SQL("SELECT {} FROM ({}) AS greenai_src WHERE {}{}").format(
            what,
            self.source_sql,
            where,
            sql.SQL(" ORDER BY {}").format(wm) if order else sql.SQL(""),
        )

    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        entry = ctx.store.get(ENTRY) or {}
        start: Value = from_json(entry["watermark"]) if "watermark" in entry else None
        params = [start] if start is not None else []
        started = time.perf_counter()
        try:
            with psycopg.connect(self._conninfo, connect_timeout=10) as conn:
                self._count_backlog(ctx, conn, start, params)
                with conn.cursor(name="greenai_ingest") as cursor:
                    cursor.itersize = self.batch_rows
                    cursor.execute(self._select(sql.SQL("*"), start is not None, True), params)
                    counts = self._publish(ctx, cursor, entry)
        except psycopg.Error as exc:
            raise SourceError(f"{self.label}: {type(exc).__name__}: {_first_line(exc)}") from exc
        ctx.metrics.backlog(0)
        if counts.read:
            ctx.report(
                ctx.summary(counts, time.perf_counter() - started, query=self.label)
                | {"watermark": render(_load_watermark(ctx))}
            )

    def _count_backlog(
        self, ctx: SourceContext, conn: psycopg.Connection, start: Value, params: list[Any]
    ) -> None:
        row = conn.execute(
            self._select(sql.SQL("count(*)"), start is not None, False), params
        ).fetchone()
        ctx.metrics.backlog(int(row[0]) if row else 0)
        nulls = conn.execute(
            sql.SQL("SELECT count(*) FROM ({}) AS greenai_src WHERE {} IS NULL").format(
                self.source_sql, sql.Identifier(self.watermark)
            )
        ).fetchone()
        if nulls and nulls[0]:
            log.warning(
                "%s: %d rows have a NULL %s and are not read", self.label, nulls[0], self.watermark
            )

    def _publish(
        self, ctx: SourceContext, cursor: psycopg.Cursor[Any], entry: dict[str, Any]
    ) -> Counts:
        assert cursor.description is not None
        columns = [d.name for d in cursor.description]
        if self.watermark not in columns:
            raise SourceError(f"{self.label}: the result has no column {self.watermark!r}")
        at = columns.index(self.watermark)
        base = Counts(**entry.get("counts", {}))

        def rows() -> Iterator[tuple[RawRow | None, tuple[Value] | None]]:
            previous: Value = None
            for record in cursor:
                value = record[at]
                complete = (previous,) if previous is not None and value != previous else None
                where = f"{self.label}@{self.watermark}={render(value)}"
                yield typed_row(where, dict(zip(columns, record, strict=True))), complete
                previous = value
            if previous is not None:
                yield None, (previous,)

        def commit(mark: tuple[Value] | None, counts: Counts, done: bool) -> None:
            if mark is None:
                return
            total = Counts(*(a + b for a, b in zip(_tuple(base), _tuple(counts), strict=True)))
            ctx.store.put(ENTRY, {"watermark": to_json(mark[0]), "counts": total.as_dict()})

        pump = ctx.pump(commit, self.label, batch_rows=self.batch_rows)
        try:
            return pump.run(rows())
        finally:
            if pump.progress is not None:
                pump.progress.close()


def _tuple(c: Counts) -> tuple[int, int, int]:
    return c.read, c.published, c.dead_lettered


def _load_watermark(ctx: SourceContext) -> Value:
    entry = ctx.store.get(ENTRY) or {}
    return from_json(entry["watermark"]) if "watermark" in entry else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
