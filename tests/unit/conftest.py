from __future__ import annotations

import pytest

from streams.recon import Recon

TRADES = {
    "name": "trades",
    "key": ["trade_id"],
    "sources": {
        "ledger": {
            "record_id": "booking_id",
            "fields": {
                "booking_id": "string",
                "trade_id": "string",
                "amount": "decimal",
                "settle_date": "date",
                "counterparty": "string",
            },
        },
        "custody": {
            "rename": {"TradeRef": "trade_id", "Amt": "amount"},
            "fields": {
                "trade_id": "string",
                "amount": "decimal",
                "settle_date": "date",
                "counterparty": "string",
            },
        },
    },
    "compare": {"amount": {"abs_tol": 0.01}, "counterparty": {"ignore_case": True, "trim": True}},
    "match_window": "30s",
}


@pytest.fixture
def recon() -> Recon:
    return Recon.model_validate(TRADES)
