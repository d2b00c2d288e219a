"""Pages of breaks as the API's JSON, each stored change rendered once.

A page of ``GET /api/breaks`` (200 breaks, about 250 KB) spent most of its time turning
each row into a BreakOut (validation) and back into JSON, for every analyst who listed the
same newest breaks. A stored change never changes: the sink replaces a break only by a
higher (version, revision) (``streams/store/breaks.py``), so (break_id, version, revision)
names one content. Each change's JSON is kept here without the three fields that depend
on the moment of the request and the recon's calendar (``age_days``, ``ageing_bucket``,
``overdue``: BreakOut's last fields), at most ``SIZE`` of them per process (least recently
used out first, about 1.3 KB each), and a page is those with the ageing computed now: the
same bytes as the BreakOut list, for about 40% less CPU a page (docs/benchmarks.md).

A page is read in two steps for the same reason: its rows' ``KEYS`` first (what names a
change and what ageing needs), then whole rows only for the changes not rendered yet
(:meth:`RenderedBreaks.held` says which are), so that the BFF does not build a dict of every
column and parse every jsonb value of 200 rows to throw them away.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime
from typing import Any

from bff.models import BreakOut
from streams.domain.workflow import UNSETTLED
from streams.domain.workflow_rules import WorkflowRules, ageing_bucket

AGEING = {"age_days", "ageing_bucket", "overdue"}
# the columns that name a stored change and age it, and the cursor's (updated_at)
KEYS = ("break_id", "recon", "version", "revision", "status", "first_seen", "due", "updated_at")
SIZE = 20_000  # changes kept (about 1.3 KB each)


class RenderedBreaks:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[str, int, int], bytes] = OrderedDict()

    def held(self, rows: list[dict[str, Any]]) -> dict[str, bytes]:
        """The rendered bodies of these rows' changes (rows of at least ``KEYS``), by break
        id: held by the caller, so that no eviction while it reads the others loses them."""
        found = {}
        for row in rows:
            body = self._kept.get(_change(row))
            if body is not None:
                self._kept.move_to_end(_change(row))
                found[row["break_id"]] = body
        return found

    def page(
        self,
        rows: list[dict[str, Any]],
        rules: dict[str, WorkflowRules],
        now: datetime,
        held: dict[str, bytes] | None = None,
        whole: dict[str, dict[str, Any]] | None = None,
    ) -> bytes:
        """The JSON array of these stored breaks, aged at ``now`` in their recons' ``rules``:
        the bytes of the BreakOut list. Rows are whole, or hold ``KEYS`` with their bodies
        in ``held`` (from :meth:`held`) or their whole rows, by id, in ``whole`` (a row read
        in neither, gone since, is left out)."""
        out = []
        for row in rows:
            body = held.get(row["break_id"]) if held else None
            read = row if body is not None or whole is None else whole.get(row["break_id"])
            if read is not None:
                out.append(self.one(read, rules[read["recon"]], now, body))
        return b"[" + b",".join(out) + b"]"

    def one(
        self, row: dict[str, Any], rules: WorkflowRules, now: datetime, body: bytes | None = None
    ) -> bytes:
        """One stored break as the API's JSON object, aged at ``now`` (``body``: its change
        rendered already)."""
        if body is None:
            key = _change(row)
            body = self._kept.get(key)
            if body is None:
                out = BreakOut.from_datum(row, rules, now)
                body = out.model_dump_json(exclude=AGEING).encode()[:-1]  # without its "}"
                self._kept[key] = body
                if len(self._kept) > self.size:
                    self._kept.popitem(last=False)
            else:
                self._kept.move_to_end(key)
        age = rules.age_days(row["first_seen"], now)
        due = row.get("due")
        overdue = row["status"] in UNSETTLED and due is not None and now > due
        return b'%s,"age_days":%d,"ageing_bucket":%s,"overdue":%s}' % (
            body,
            age,
            json.dumps(ageing_bucket(age)).encode(),
            b"true" if overdue else b"false",
        )


def _change(row: dict[str, Any]) -> tuple[str, int, int]:
    """What names one stored content of a break."""
    return row["break_id"], int(row["version"]), int(row.get("revision") or 0)


RENDERED = RenderedBreaks()
