"""Synthetic trades for two sources (ledger, custody) with injected breaks of every cause.

Pure and seeded: the demo feed, the benchmarks and the model evaluation all draw from it.
Rows come out as the sources would send them: text cells, custody with its own column names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from streams.domain.vocabulary import CAUSES as TAXONOMY

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
# Every cause a generated break can have: the taxonomy less UNKNOWN.
CAUSES = [c for c in TAXONOMY if c != "UNKNOWN"]
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
    """Seeded trades. ``variety`` draws each cause from more ways it happens in practice (see
    ``_vary``) and ``cause_weights`` skews the mix of causes; both off keep the classic feed."""

    def __init__(
        self,
        seed: int = 7,
        break_rate: float = 0.1,
        start: date | None = None,
        *,
        variety: bool = False,
        cause_weights: dict[str, float] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.break_rate = break_rate
        self.start = start or date(2026, 11, 2)
        self.n = 0
        self.variety = variety
        self.cause_weights = cause_weights

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
            cause = self._draw_cause()
        ledger = self.trade()
        custody = dict(ledger)
        ledgers, custodies = [ledger], [custody]
        rng = self.rng
        amount = Decimal(ledger["amount"])
        if self.variety and cause:
            ledgers, custodies = _vary(cause, ledger, custody, rng)
            return TradePair(
                ledger["trade_id"], cause, ledgers, [_custody_view(c) for c in custodies]
            )
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

    def _draw_cause(self) -> str:
        if self.cause_weights is None:
            return self.rng.choice(CAUSES)
        weights = [self.cause_weights.get(c, 0.0) for c in CAUSES]
        return self.rng.choices(CAUSES, weights)[0]

    def correction(self, pair: TradePair) -> dict[str, str] | None:
        """The custodian's corrected row for a break it can fix by amendment."""
        if pair.cause in (None, "MISSING_BOOKING", "DUPLICATE_BOOKING") or not pair.ledger:
            return None
        fixed = _custody_view(pair.ledger[0])
        return fixed


# --- variety: more of the ways each cause shows up in real books ---------------------------


def _vary(
    cause: str, ledger: dict[str, str], custody: dict[str, str], rng: random.Random
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Inject ``cause`` in one of several realistic forms; returns (ledger rows, custody rows)."""
    amount = Decimal(ledger["amount"])
    match cause:
        case "TIMING":
            _vary_timing(ledger, custody, rng)
        case "ROUNDING":
            _vary_rounding(ledger, custody, rng)
        case "FX":
            _vary_fx(ledger, custody, rng)
        case "STATIC_DATA":
            _vary_static(ledger, custody, rng)
        case "FAT_FINGER":
            _vary_fat_finger(ledger, custody, rng)
        case "FEE":
            custody["amount"] = str(amount + _varied_fee(amount, rng))
        case "MISSING_BOOKING":
            return ([], [custody]) if rng.random() < 0.5 else ([ledger], [])
        case "DUPLICATE_BOOKING":
            copy = ledger | {"booking_id": ledger["booking_id"] + rng.choice(["-D", "-2", "R"])}
            if rng.random() < 0.3:  # re-keyed by hand: the copy's settle date drifts too
                copy["settle_date"] = add_business_days(
                    date.fromisoformat(ledger["settle_date"]), 1
                ).isoformat()
            return [ledger, copy], [custody]
    return [ledger], [custody]


def _vary_timing(ledger: dict[str, str], custody: dict[str, str], rng: random.Random) -> None:
    days = rng.choice([1, 1, 1, 2, 2, 3, 5, -1, -2])
    form = rng.random()
    if form < 0.55:  # settles on another day
        custody["settle_date"] = add_business_days(
            date.fromisoformat(ledger["settle_date"]), days
        ).isoformat()
    elif form < 0.85:  # booked late: trade and settle dates move together
        for name in ("trade_date", "settle_date"):
            custody[name] = add_business_days(
                date.fromisoformat(ledger[name]), abs(days)
            ).isoformat()
    else:  # trade date only (value-dated booking)
        custody["trade_date"] = add_business_days(
            date.fromisoformat(ledger["trade_date"]), days
        ).isoformat()


def _vary_rounding(ledger: dict[str, str], custody: dict[str, str], rng: random.Random) -> None:
    amount, price = Decimal(ledger["amount"]), Decimal(ledger["price"])
    form = rng.random()
    if form < 0.4:  # a few cents off
        custody["amount"] = str(amount + rng.choice([1, -1]) * Decimal(rng.randint(2, 5)) / 100)
    elif form < 0.7:  # whole units (a currency without minor units, a truncating system)
        whole = amount.quantize(Decimal(1), ROUND_HALF_UP)
        if abs(whole - amount) <= CENT:
            whole = amount.quantize(Decimal(1), ROUND_DOWN) - rng.choice([0, 1])
        custody["amount"] = str(whole.quantize(CENT))
    else:  # the custodian keeps two price decimals and recomputes the amount from it
        px = price.quantize(Decimal("0.01"), ROUND_HALF_UP)
        if px == price:
            px = price + Decimal("0.01")
        custody["price"] = str(px)
        custody["amount"] = str((Decimal(ledger["quantity"]) * px).quantize(CENT, ROUND_HALF_UP))


def _vary_fx(ledger: dict[str, str], custody: dict[str, str], rng: random.Random) -> None:
    ccy = ledger["currency"] if ledger["currency"] != "USD" else rng.choice(list(USD_RATES))
    ledger["currency"] = custody["currency"] = ccy
    amount = Decimal(ledger["amount"])
    # the reference rate, or the day's market rate a little away from it
    rate = USD_RATES[ccy] * (1 + Decimal(rng.choice([0, 0, 1, -1, 2, -2, 3])) / 1000)
    form = rng.random()
    if form < 0.5:  # custody reports in USD
        custody["amount"], custody["currency"] = str((amount * rate).quantize(CENT)), "USD"
    elif form < 0.8:  # the ledger books in USD, the custodian in the trade currency
        ledger["amount"], ledger["currency"] = str((amount * rate).quantize(CENT)), "USD"
    else:  # converted amount, currency column left as booked
        custody["amount"] = str((amount * rate).quantize(CENT))


def _vary_static(ledger: dict[str, str], custody: dict[str, str], rng: random.Random) -> None:
    form = rng.random()
    if form < 0.45:
        custody["counterparty"] = ALIASES[ledger["counterparty"]]
    elif form < 0.6:
        custody["counterparty"] = ledger["counterparty"] + rng.choice([" LDN", "-NY", " PLC"])
    elif form < 0.8:
        custody["isin"] = rng.choice([i for i, _, _ in INSTRUMENTS if i != ledger["isin"]])
    elif form < 0.9:  # a wrong check digit
        isin = ledger["isin"]
        custody["isin"] = isin[:-1] + str((int(isin[-1]) + rng.randint(1, 9)) % 10)
    else:  # the instrument's currency mis-set in the custodian's static data
        custody["currency"] = rng.choice(
            [c for c in ("USD", "EUR", "GBP", "CHF", "JPY", "GBX") if c != ledger["currency"]]
        )


def _vary_fat_finger(ledger: dict[str, str], custody: dict[str, str], rng: random.Random) -> None:
    amount = Decimal(ledger["amount"])
    form = rng.random()
    if form < 0.25:
        factors = [Decimal(10), Decimal(100), Decimal("0.1"), Decimal("0.01")]
        custody["amount"] = str(amount * rng.choice(factors))
    elif form < 0.5:
        custody["amount"] = str(_transpose(amount, rng))
    elif form < 0.65:  # quantity keyed with an extra zero, amount computed from it
        factor = rng.choice([Decimal(10), Decimal("0.1")])
        custody["quantity"] = str(Decimal(ledger["quantity"]) * factor)
        custody["amount"] = str((amount * factor).quantize(CENT))
    elif form < 0.85:  # one digit hit as its neighbour on the keypad
        custody["amount"] = str(_neighbour_digit(amount, rng))
    else:  # a digit dropped or doubled
        custody["amount"] = str(_drop_or_double_digit(amount, rng))


def _neighbour_digit(amount: Decimal, rng: random.Random) -> Decimal:
    """One digit of the hundreds or above replaced by the one next to it on the keypad."""
    text = format(amount, "f")
    point = text.index(".") if "." in text else len(text)
    spots = [i for i in range(point - 2) if text[i].isdigit()]
    if not spots:
        return amount * 10
    i = rng.choice(spots)
    digit = int(text[i])
    new = digit + 1 if digit < 9 and (digit == 0 or rng.random() < 0.5) else digit - 1
    if i == 0 and new == 0:
        new = digit + 1
    return Decimal(text[:i] + str(new) + text[i + 1 :])


def _drop_or_double_digit(amount: Decimal, rng: random.Random) -> Decimal:
    text = format(amount, "f")
    point = text.index(".") if "." in text else len(text)
    if point < 2:
        return amount * 10
    i = rng.randrange(1, point)
    if rng.random() < 0.5:
        return Decimal(text[:i] + text[i + 1 :])
    return Decimal(text[:i] + text[i] + text[i:])


def _varied_fee(amount: Decimal, rng: random.Random) -> Decimal:
    """A signed fee: usually deducted, sometimes added (gross vs net), possibly with tax."""
    form = rng.random()
    if form < 0.3:
        fee = Decimal(
            rng.choice([f for f in (2, 5, 10, 15, 20, 25, 50) if f <= amount / 50] or [1])
        )
    elif form < 0.65:
        bps = Decimal(rng.choice([1, 2, 3, 5, 10, 15]))
        fee = max((amount * bps / 10000).quantize(CENT), Decimal("1.00"))
    elif form < 0.85:  # fractional basis points
        bps = Decimal(rng.choice(["0.5", "0.75", "1.5", "2.5", "3.5"]))
        fee = max((amount * bps / 10000).quantize(CENT), Decimal("1.00"))
    else:  # a commission plus tax on it
        bps = Decimal(rng.choice([2, 5, 10]))
        fee = (max(amount * bps / 10000, Decimal(1)) * Decimal("1.2")).quantize(CENT)
    return fee if rng.random() < 0.2 else -fee
