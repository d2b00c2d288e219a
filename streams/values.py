"""Typed field values: parsing by declared type, canonical text, and lossless JSON tagging.

Every value that flows through greenai is one of ``None, str, int, bool, Decimal, date,
datetime``. Decimals are never floats: they are parsed from text and rendered back to text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
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
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class BadValue(ValueError):
    """A raw value that does not fit its declared type (the message is the one-line reason)."""


def parse(raw: Any, ftype: FieldType, date_formats: tuple[str, ...] = ()) -> Value:
    """Parse a raw input value (usually text) into the typed value of ``ftype``.

    Empty text is null. Strings are trimmed of surrounding whitespace.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw == "":
            return None
    match ftype:
        case FieldType.STRING:
            return str(raw)
        case FieldType.DECIMAL:
            return _parse_decimal(raw)
        case FieldType.INTEGER:
            if isinstance(raw, bool) or not re.fullmatch(r"[+-]?\d+", str(raw)):
                raise BadValue(f"not an integer: {raw!r}")
            return int(raw)
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
            raise BadValue(f"not a boolean: {raw!r}")
    raise BadValue(f"unknown type {ftype}")


def _parse_decimal(raw: Any) -> Decimal:
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, bool | float):
        raise BadValue(f"not an exact decimal: {raw!r}")
    text = str(raw).replace(",", "") if isinstance(raw, str) and "," in raw else str(raw)
    if not _DECIMAL_TEXT.match(text):
        raise BadValue(f"not a decimal: {raw!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid text
        raise BadValue(f"not a decimal: {raw!r}") from exc


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
    raise BadValue(f"not a date: {raw!r}")


def _parse_timestamp(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        value = raw
    else:
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError as exc:
            raise BadValue(f"not a timestamp: {raw!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
