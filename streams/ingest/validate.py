"""Turning one raw source row into a canonical record of a recon (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.keys import recon_key_bytes
from streams.recon import Recon
from streams.values import BadValue, FieldType, NumberFormat, Value, parse, render

DELETE_COLUMN = "_deleted"
"""A row whose ``_deleted`` column is true withdraws the source's record under its key (and
``record_id``): a tombstone. Only the key (and record id) columns are needed then."""


class BadRow(ValueError):
    """A row that cannot be published; the message is the one-line reason."""


@dataclass(frozen=True)
class CanonicalRow:
    key: dict[str, str | None]
    record_id: str | None
    fields: dict[str, Value]
    deleted: bool = False

    def kafka_key(self, recon: str) -> bytes:
        """The partitioning key: every source of a recon key lands in the same partition."""
        return recon_key_bytes(recon, self.key)


def canonical_row(recon: Recon, source: str, raw: Mapping[str, Any]) -> CanonicalRow:
    """Rename columns, parse every declared field by type (decimal text as the source writes
    it: ``decimal_separator``, ``thousands_separator``), and check the key."""
    spec = recon.sources[source]
    renamed = {spec.rename.get(column, column): value for column, value in raw.items()}
    formats = tuple(spec.date_formats)
    numbers = NumberFormat(spec.decimal_separator, spec.thousands_separator)
    try:
        deleted = bool(parse(renamed.pop(DELETE_COLUMN, None), FieldType.BOOLEAN))
    except BadValue as exc:
        raise BadRow(f"{DELETE_COLUMN}: {exc}") from None
    needed = {*recon.key, *([spec.record_id] if spec.record_id else [])}
    fields: dict[str, Value] = {}
    for name, ftype in spec.fields.items():
        if name not in renamed:
            if deleted and name not in needed:
                continue
            raise BadRow(f"missing column {name!r}")
        try:
            fields[name] = parse(renamed[name], ftype, formats, numbers)
        except BadValue as exc:
            raise BadRow(f"{name}: {exc}") from None
    key = {k: render(fields[k]) for k in recon.key}
    absent = [k for k, v in key.items() if v is None]
    if absent:
        raise BadRow(f"missing key field {', '.join(absent)}")
    record_id = render(fields[spec.record_id]) if spec.record_id else None
    if spec.record_id and record_id is None:
        raise BadRow(f"missing record id {spec.record_id}")
    return CanonicalRow(key, record_id, fields, deleted)
