"""Pages of breaks rendered once per stored change (bff/render.py) are the very bytes of the
BreakOut list, aged at the time of each request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from bff.models import BreakOut
from bff.render import KEYS, RenderedBreaks
from streams.domain.workflow_rules import DEFAULT_WORKFLOW, WorkflowRules

PAGE = TypeAdapter(list[BreakOut])
SEEN = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)


def row(n: int, **changes: Any) -> dict[str, Any]:
    """A ``breaks`` table row as list_breaks reads it."""
    return {
        "break_id": f"b-{n}",
        "recon": "trades",
        "key": {"trade_id": f"T-{n}"},
        "kind": "MISMATCH",
        "missing_in": None,
        "status": "OPEN",
        "fields": [
            {
                "field": "amount",
                "values": {"ledger": "10.00", "custody": "100.00"},
                "delta": "90.00",
            }
        ],
        "records": {
            "ledger": {"amount": "10.00", "currency": "EUR"},
            "custody": {"amount": "100.00", "currency": None},
        },
        "cause": "FAT_FINGER",
        "confidence": 0.8125,
        "explanation": [{"feature": "ratio", "value": "10", "weight": 0.5}],
        "disposition": "QUEUE",
        "priority": 2,
        "first_seen": SEEN,
        "updated_at": SEEN + timedelta(minutes=n),
        "version": 1,
        "revision": 0,
        "owner": None,
        "tags": ["load"],
        "close_reason": None,
        "close_note": None,
        "closed_by": None,
        "closed_at": None,
        "approved_by": None,
        "written_off": None,
        "keep_open": False,
        "proposal": None,
        "analyst_cause": {"value": "FX", "by": "ana", "reason": None},
        "analyst_disposition": None,
        "activity": None,
        "materiality": Decimal("90.00"),
        "due": SEEN + timedelta(days=2),
        "seq": 100 + n,
    } | changes


def expected(rows: list[dict[str, Any]], rules: WorkflowRules, now: datetime) -> bytes:
    return PAGE.dump_json([BreakOut.from_datum(r, rules, now) for r in rows])


def test_a_page_is_the_bytes_of_the_breakout_list() -> None:
    rows = [row(1), row(2, status="IN_REVIEW", due=None), row(3, kind="MISSING", fields=[])]
    now = SEEN + timedelta(hours=1)
    rendered = RenderedBreaks()
    assert rendered.page(rows, {"trades": DEFAULT_WORKFLOW}, now) == expected(
        rows, DEFAULT_WORKFLOW, now
    )
    assert rendered.page([], {}, now) == b"[]"


def test_a_kept_change_is_aged_anew_and_a_new_revision_rendered_anew() -> None:
    rendered = RenderedBreaks()
    rules = {"trades": DEFAULT_WORKFLOW}
    rendered.page([row(1)], rules, SEEN)
    later = SEEN + timedelta(days=9)  # older and overdue now
    assert rendered.page([row(1)], rules, later) == expected([row(1)], DEFAULT_WORKFLOW, later)
    commented = row(1, revision=1, owner="ana", tags=["load", "fx"])
    assert rendered.page([commented], rules, later) == expected(
        [commented], DEFAULT_WORKFLOW, later
    )


def test_at_most_size_changes_are_kept() -> None:
    rendered = RenderedBreaks(size=2)
    rendered.page([row(1), row(2), row(3)], {"trades": DEFAULT_WORKFLOW}, SEEN)
    assert list(rendered._kept) == [("b-2", 1, 0), ("b-3", 1, 0)]


def keys(whole: dict[str, Any]) -> dict[str, Any]:
    """The row as the first step of a page reads it."""
    return {k: whole[k] for k in KEYS}


def test_a_page_read_as_keys_then_the_unheld_rows_is_the_same_page() -> None:
    rendered, rules = RenderedBreaks(size=3), {"trades": DEFAULT_WORKFLOW}
    rendered.page([row(1), row(2)], rules, SEEN)  # rendered by an earlier request
    listed = [row(3), row(2), row(1)]
    held = rendered.held([keys(r) for r in listed])
    assert sorted(held) == ["b-1", "b-2"]
    rendered.page([row(4), row(5), row(6)], rules, SEEN)  # evicts them while b-3 is read
    later = SEEN + timedelta(days=3)
    page = rendered.page([keys(r) for r in listed], rules, later, held, {"b-3": row(3)})
    assert page == expected(listed, DEFAULT_WORKFLOW, later)


def test_a_row_gone_before_it_was_read_whole_is_left_out() -> None:
    rendered, rules = RenderedBreaks(), {"trades": DEFAULT_WORKFLOW}
    listed = [keys(row(1)), keys(row(2))]
    page = rendered.page(listed, rules, SEEN, rendered.held(listed), {"b-2": row(2)})
    assert page == expected([row(2)], DEFAULT_WORKFLOW, SEEN)
