from __future__ import annotations

from typing import Any

from streams.recon import Recon
from streams.recon_changes import refusals


def recon(**changes: Any) -> Recon:
    fields = {"booking_id": "string", "trade_id": "string", "qty": "integer", "amount": "decimal"}
    data: dict[str, Any] = {
        "name": "trades",
        "key": ["trade_id"],
        "sources": {
            "ledger": {"fields": dict(fields), "record_id": "booking_id"},
            "custody": {"fields": dict(fields)},
        },
    }
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        if value is None:
            target.pop(last)
        else:
            target[last] = value
    return Recon.model_validate(data)


def test_tolerances_windows_new_fields_and_new_sources_are_absorbed() -> None:
    new = recon(
        match_window="2m",
        compare={"amount": {"abs_tol": 0.05}},
        sources__custody__fields={
            "trade_id": "string",
            "booking_id": "string",
            "qty": "integer",
            "amount": "decimal",
            "isin": "string",
        },
    )
    broker = {"fields": {"trade_id": "string", "amount": "decimal"}}
    with_broker = recon(sources__broker=broker)
    assert refusals(recon(), new, {"ledger": 10, "custody": 9}) == []
    assert refusals(recon(), with_broker, {"ledger": 10, "custody": 9}) == []


def test_a_different_key_is_refused() -> None:
    (reason,) = refusals(recon(), recon(key=["booking_id"]), {})
    assert "the key changes from ['trade_id'] to ['booking_id']" in reason


def test_a_changed_type_is_refused_except_integer_to_decimal() -> None:
    narrowed = recon(sources__ledger__fields__amount="string")
    (reason,) = refusals(recon(), narrowed, {"ledger": 1})
    assert "field amount of source ledger changes type from decimal to string" in reason
    widened = recon(sources__ledger__fields__qty="decimal", sources__custody__fields__qty="decimal")
    assert refusals(recon(), widened, {"ledger": 1, "custody": 1}) == []


def test_removing_a_source_is_refused_while_it_holds_bookings_or_nobody_can_tell() -> None:
    three = recon(sources__broker={"fields": {"trade_id": "string", "amount": "decimal"}})
    assert refusals(three, recon(), {"ledger": 4, "custody": 4, "broker": 0}) == []
    (held,) = refusals(three, recon(), {"ledger": 4, "custody": 4, "broker": 2})
    assert "source broker is removed while it holds 2 bookings" in held
    (unknown,) = refusals(three, recon(), None)
    assert "cannot be told (no diff worker is reporting)" in unknown


def test_a_record_id_change_is_refused_while_the_source_holds_bookings() -> None:
    changed = recon(sources__custody__record_id="booking_id")
    (reason,) = refusals(recon(), changed, {"custody": 3})
    assert "record_id changes from None to booking_id" in reason
    assert refusals(recon(), changed, {"custody": 0}) == []
