"""Synthetic trades for two sources (ledger, custody) with injected breaks of every cause.

Pure and seeded: the demo feed, the benchmarks and the model evaluation all draw from it.
Rows come out as the sources would send them: text cells, custody with its own column names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

INSTRUMENTS = [
    ("US0378331005", "USD", Decimal("189.50")),
    ("US5949181045", "USD", Decimal("415.20")),
    ("US0231351067", "USD", Decimal("182.30")),
    ("DE0007164600", "EUR", Decimal("178.40")),
    ("FR0000131104", "EUR", Decimal("68.90")),
    ("NL0010273215", "EUR", Decimal("905.10")),
    ("GB0002875804", "GBP", Decimal("24.35")),
    ("GB00BH4HKS39", "GBP", Decimal("1.86")),
    ("CH0038863350", "CHF", Decimal("93.10")),
    ("JP3633400001", "JPY", Decimal("3370")),
]
COUNTERPARTIES = ["GSCO", "MSCO", "JPMS", "BARC", "DEUT", "UBSW", "CITI", "BNPP", "HSBC"]
ALIASES = {
    "GSCO": "GSIL",
    "MSCO": "MSIP",
    "JPMS": "JPMSL",
    "BARC": "BARX",
    "DEUT": "DBAG",
    "UBSW": "UBSAG",
    "CITI": "CGML",
    "BNPP": "BNPPA",
    "HSBC": "HSBCB",
}
USD_RATES = {
    "EUR": Decimal("1.0850"),
    "GBP": Decimal("1.2700"),
    "CHF": Decimal("1.1351"),
    "JPY": Decimal("0.006614"),
}
CAUSES = [
    "TIMING",
    "ROUNDING",
    "FX",
    "STATIC_DATA",
    "FAT_FINGER",
    "FEE",
    "MISSING_BOOKING",
    "DUPLICATE_BOOKING",
]
CENT = Decimal("0.01")
FEE_MAX_SHARE = Decimal("0.02")


def add_business_days(day: date, n: int) -> date:
    step = 1 if n >= 0 else -1
    while n:
        day += timedelta(days=step)
        if day.weekday() < 5:
            n -= step
    return day


@dataclass
class TradePair:
    """One trade as each source sends it; ``cause`` is the injected break (None: agree)."""

    trade_id: str
    cause: str | None
    ledger: list[dict[str, str]]
    custody: list[dict[str, str]]


def _custody_view(row: dict[str, str]) -> dict[str, str]:
    names = {
        "trade_id": "TradeRef",
        "isin": "ISIN",
        "quantity": "Qty",
        "price": "Px",
        "amount": "Amt",
        "currency": "Ccy",
        "trade_date": "TradeDt",
        "settle_date": "SettleDt",
        "counterparty": "Cpty",
    }
    return {names[k]: v for k, v in row.items() if k in names}


def _transpose(amount: Decimal, rng: random.Random) -> Decimal:
    digits = list(format(amount, "f"))
    spots = [
        i
        for i in range(len(digits) - 1)
        if digits[i].isdigit() and digits[i + 1].isdigit() and digits[i] != digits[i + 1]
    ]
    if not spots:
        return amount * 10
    i = rng.choice(spots)
    digits[i], digits[i + 1] = digits[i + 1], digits[i]
    return Decimal("".join(digits))


class TradeGenerator:
    def __init__(self, seed: int = 7, break_rate: float = 0.1, start: date | None = None) -> None:
        self.rng = random.Random(seed)
        self.break_rate = break_rate
        self.start = start or date(2026, 11, 2)
        self.n = 0

    def trade(self) -> dict[str, str]:
        rng = self.rng
        self.n += 1
        isin, currency, base = rng.choice(INSTRUMENTS)
        price = (base * Decimal(1 + rng.uniform(-0.03, 0.03))).quantize(Decimal("0.0001"))
        quantity = Decimal(rng.choice([10, 25, 50, 100, 200, 250, 500, 1000, 2500, 5000]))
        trade_date = add_business_days(self.start, rng.randint(0, 15))
        return {
            "booking_id": f"BK-{self.n:08d}",
            "trade_id": f"T-{self.n:08d}",
            "isin": isin,
            "quantity": str(quantity),
            "price": str(price),
            "amount": str((quantity * price).quantize(CENT, ROUND_HALF_UP)),
            "currency": currency,
            "trade_date": trade_date.isoformat(),
            "settle_date": add_business_days(trade_date, 2).isoformat(),
            "counterparty": rng.choice(COUNTERPARTIES),
        }

    def pair(self, cause: str | None = None) -> TradePair:
        """The next trade; a break of ``cause``, or of a random cause at ``break_rate``."""
        if cause is None and self.rng.random() < self.break_rate:
            cause = self.rng.choice(CAUSES)
        ledger = self.trade()
        custody = dict(ledger)
        ledgers, custodies = [ledger], [custody]
        rng = self.rng
        amount = Decimal(ledger["amount"])
        match cause:
            case "TIMING":
                shifted = add_business_days(
                    date.fromisoformat(ledger["settle_date"]), rng.choice([1, 1, 2, 3, -1])
                )
                custody["settle_date"] = shifted.isoformat()
            case "ROUNDING":
                custody["amount"] = str(
                    amount + rng.choice([1, -1]) * Decimal(rng.randint(2, 4)) / 100
                )
            case "FX":
                ccy = ledger["currency"] if ledger["currency"] != "USD" else "EUR"
                ledger["currency"] = custody["currency"] = ccy
                custody["amount"] = str((amount * USD_RATES[ccy]).quantize(CENT))
                custody["currency"] = "USD"
            case "STATIC_DATA":
                if rng.random() < 0.7:
                    custody["counterparty"] = ALIASES[ledger["counterparty"]]
                else:
                    custody["isin"] = rng.choice(
                        [i for i, _, _ in INSTRUMENTS if i != ledger["isin"]]
                    )
            case "FAT_FINGER":
                if rng.random() < 0.5:
                    custody["amount"] = str(
                        amount * rng.choice([Decimal(10), Decimal(100), Decimal("0.1")])
                    )
                else:
                    custody["amount"] = str(_transpose(amount, rng))
            case "FEE":
                round_fees = [f for f in (5, 10, 15, 25, 50) if f <= amount * FEE_MAX_SHARE]
                if round_fees and rng.random() < 0.5:
                    fee = Decimal(rng.choice(round_fees))
                else:  # basis points of the amount, with a minimum commission of 1.00
                    bps = Decimal(rng.choice([1, 2, 5, 10]))
                    fee = max((amount * bps / 10000).quantize(CENT), Decimal("1.00"))
                custody["amount"] = str(amount - fee)
            case "MISSING_BOOKING":
                if rng.random() < 0.5:
                    custodies = []
                else:
                    ledgers = []
            case "DUPLICATE_BOOKING":
                ledgers.append(ledger | {"booking_id": ledger["booking_id"] + "-D"})
        return TradePair(ledger["trade_id"], cause, ledgers, [_custody_view(c) for c in custodies])

    def correction(self, pair: TradePair) -> dict[str, str] | None:
        """The custodian's corrected row for a break it can fix by amendment."""
        if pair.cause in (None, "MISSING_BOOKING", "DUPLICATE_BOOKING") or not pair.ledger:
            return None
        fixed = _custody_view(pair.ledger[0])
        return fixed
