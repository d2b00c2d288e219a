"""Typed field values: parsing by declared type, canonical text, and lossless JSON tagging.

Every value that flows through greenai is one of ``None, str, int, bool, Decimal, date,
datetime``. Decimals are never floats: they are parsed from text and rendered back to text.

Every value is bounded so that it travels as Avro and computes downstream: integers fit in
64 bits, timestamps stay within the years 1 to 9999 in UTC, and decimals have at most 38
digits, at most 20 of them before the point (attribution quantizes amounts to cents in
Python's default context of 28 digits: 22 digits, with room left for an FX conversion) and
at most 38 after it. A value outside is a ``BadValue``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, DecimalException
from enum import StrEnum
from functools import cache
from typing import Any

Value = None | str | int | bool | Decimal | date | datetime


class FieldType(StrEnum):
    STRING = "string"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_CANONICAL_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SEPARATOR_LIKE = re.compile("[.,' \u00a0\u202f]")

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1  # Avro's long: what an integer field travels as
MAX_DIGITS = 38  # decimal128's precision (Parquet, Arrow, most SQL numerics)
MAX_INTEGER_DIGITS = 20  # a cent quantization (22 digits) fits in Python's default 28 digits
MAX_PLACES = 38
SHOWN = 60  # characters of a bad value a reason quotes

DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = (",", ".", " ", "'", "\u00a0", "\u202f")


class BadValue(ValueError):
    """A raw value that does not fit its declared type (the message is the one-line reason)."""


class NumberText(str):
    """A number in canonical notation (a JSON number, a binary float's shortest text): read
    with ``.`` as its decimal point, whatever separators the source declares for its text."""

    __slots__ = ()


@dataclass(frozen=True)
class NumberFormat:
    """How a source writes decimals as text: its decimal separator, and the separator between
    groups of three digits (``None``: no grouping)."""

    decimal_separator: str = "."
    thousands_separator: str | None = ","

    def __post_init__(self) -> None:
        if self.decimal_separator not in DECIMAL_SEPARATORS:
            raise ValueError(
                f"decimal_separator must be one of {DECIMAL_SEPARATORS} "
                f"(got {self.decimal_separator!r})"
            )
        if self.thousands_separator not in (None, *THOUSANDS_SEPARATORS):
            raise ValueError(
                f"thousands_separator must be one of {THOUSANDS_SEPARATORS} or null "
                f"(got {self.thousands_separator!r})"
            )
        if self.thousands_separator == self.decimal_separator:
            raise ValueError(
                f"decimal_separator and thousands_separator are both {self.decimal_separator!r}: "
                "they must differ (set thousands_separator to another one, or null)"
            )

    def describe(self) -> str:
        thousands = self.thousands_separator
        between = f"{thousands!r} between thousands" if thousands else "no thousands separator"
        return f"{self.decimal_separator!r} as decimal separator and {between}"

    def parse(self, text: str) -> Decimal:
        """``text`` as this format writes it: thousands separators only between groups of
        exactly three digits; anything else is refused, never guessed."""
        if not _grammar(self.decimal_separator, self.thousands_separator).fullmatch(text):
            if _CANONICAL_DECIMAL.fullmatch(_SEPARATOR_LIKE.sub("", text)):
                raise BadValue(f"not a decimal with {self.describe()}: {shown(text)}")
            raise BadValue(f"not a decimal: {shown(text)}")
        plain = text.replace(self.thousands_separator, "") if self.thousands_separator else text
        return _to_decimal(plain.replace(self.decimal_separator, "."), text)


@cache
def _grammar(decimal: str, thousands: str | None) -> re.Pattern[str]:
    point = re.escape(decimal)
    whole = "[0-9]+"
    if thousands:
        whole = f"(?:[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+|[0-9]+)"
    return re.compile(f"[+-]?(?:{whole}(?:{point}[0-9]*)?|{point}[0-9]+)(?:[eE][+-]?[0-9]+)?")


def shown(raw: Any) -> str:
    """``repr`` of a bad value for a reason, cut short: a reason never carries the input."""
    try:
        text = repr(raw)
    except (ValueError, RecursionError):  # an integer too long to print, say
        return f"<{type(raw).__name__}>"
    if len(text) <= SHOWN:
        return text
    return f"{text[:SHOWN]}… ({len(text)} characters)"


def parse(
    raw: Any,
    ftype: FieldType,
    date_formats: tuple[str, ...] = (),
    numbers: NumberFormat = NumberFormat(),
) -> Value:
    """Parse a raw input value (usually text) into the typed value of ``ftype``.

    Empty text is null. Strings are trimmed of surrounding whitespace. Decimal text follows
    ``numbers``.
    """
    if raw is None:
        return None
    if isinstance(raw, str) and not isinstance(raw, NumberText):
        raw = raw.strip()
        if raw == "":
            return None
    match ftype:
        case FieldType.STRING:
            return _parse_string(raw)
        case FieldType.DECIMAL:
            return _parse_decimal(raw, numbers)
        case FieldType.INTEGER:
            return _parse_integer(raw)
        case FieldType.DATE:
            return _parse_date(raw, date_formats)
        case FieldType.TIMESTAMP:
            return _parse_timestamp(raw)
        case FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise BadValue(f"not a boolean: {shown(raw)}")
    raise BadValue(f"unknown type {ftype}")


def _parse_string(raw: Any) -> str:
    text = str(raw)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise BadValue(f"not valid Unicode text (a lone surrogate): {shown(text)}") from None
    return text


def _parse_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise BadValue(f"not an integer: {raw!r}")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw)
        if not _INTEGER.fullmatch(text):
            raise BadValue(f"not an integer: {shown(raw)}")
        if len(text.lstrip("+-").lstrip("0")) > 19:  # before int(): no 4300-digit conversions
            raise BadValue(f"integer out of range (beyond 64-bit): {shown(raw)}")
        value = int(text)
    if not LONG_MIN <= value <= LONG_MAX:
        raise BadValue(f"integer out of range (beyond 64-bit): {shown(raw)}")
    return value


def _parse_decimal(raw: Any, numbers: NumberFormat) -> Decimal:
    if isinstance(raw, bool | float):
        raise BadValue(f"not an exact decimal: {raw!r}")
    if isinstance(raw, Decimal):
        value = raw
    elif isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, NumberText):
        if not _CANONICAL_DECIMAL.fullmatch(raw):
            raise BadValue(f"not a decimal: {shown(raw)}")
        value = _to_decimal(raw, raw)
    else:
        value = numbers.parse(str(raw))
    return _bounded(value, raw)


def _to_decimal(text: str, raw: Any) -> Decimal:
    try:
        return Decimal(text)
    except DecimalException:  # an exponent beyond what Decimal can hold
        raise BadValue(f"decimal out of range (its exponent): {shown(raw)}") from None


def _bounded(value: Decimal, raw: Any) -> Decimal:
    """``value`` if it is within the bounds (``MAX_DIGITS`` ...) attribution can quantize."""
    if not value.is_finite():
        return value
    _, digits, exponent = value.as_tuple()
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        limit = f"at most {MAX_INTEGER_DIGITS} digits before the point"
    elif len(digits) > MAX_DIGITS:
        limit = f"at most {MAX_DIGITS} digits"
    elif int(exponent) < -MAX_PLACES:
        limit = f"at most {MAX_PLACES} digits after the point"
    else:
        return value
    raise BadValue(f"decimal out of range ({limit}): {shown(raw)}")


def _parse_date(raw: Any, formats: tuple[str, ...]) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw)
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise BadValue(f"not a date: {shown(raw)}")


def _parse_timestamp(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise BadValue(f"not a timestamp: {shown(raw)}") from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00: past the year 9999 in UTC
        raise BadValue(f"timestamp out of range (years 1 to 9999 in UTC): {shown(raw)}") from None
    return value


def render(value: Value) -> str | None:
    """The canonical text of a value: what the break contract and the UI show."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def normalize_text(text: str, *, ignore_case: bool = False, trim: bool = False) -> str:
    """Unicode NFC normalisation, then the optional case fold and whitespace trim."""
    text = unicodedata.normalize("NFC", text)
    if trim:
        text = " ".join(text.split())
    if ignore_case:
        text = text.casefold()
    return text


# Lossless JSON for state stores: Decimal, date and datetime are tagged, the rest is native.
def to_json(value: Value) -> Any:
    if isinstance(value, Decimal):
        return {"d": format(value, "f")}
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def from_json(data: Any) -> Value:
    if isinstance(data, dict):
        if "d" in data:
            return Decimal(data["d"])
        if "ts" in data:
            return datetime.fromisoformat(data["ts"])
        if "date" in data:
            return date.fromisoformat(data["date"])
        raise BadValue(f"unknown tagged value {data!r}")
    return data
