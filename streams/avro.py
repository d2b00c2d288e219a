"""The Avro codec of every greenai topic: Avro single-object encoding with fastavro.

Wire format (see docs/wire-format.md): ``C3 01`` + the 8-byte CRC-64-AVRO fingerprint of
the writer schema's parsing canonical form + the Avro binary body. Readers find the writer
schema by fingerprint among the schemas in ``schemas/avro`` (current and ``history/``) and
resolve it to the current reader schema, so schemas evolve without breaking consumers.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from streams.ingest.validate import CanonicalRow
from streams.values import Value

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "avro"
MAGIC = b"\xc3\x01"
NAMESPACE = "ai.greenai"


class DecodeError(ValueError):
    """Bytes that are not a greenai Avro message (the message is the one-line reason)."""


def _parse(path: Path) -> Any:
    return fastavro.parse_schema(json.loads(path.read_text()), _write_hint=True)


def schema_fingerprint(parsed: Any) -> bytes:
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))


class Codec:
    """Encoder/decoder for one record schema (by short name, e.g. ``SourceRecord``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.schema = _parse(SCHEMA_DIR / f"{name}.avsc")
        self.fingerprint = schema_fingerprint(self.schema)
        self.header = MAGIC + self.fingerprint
        self._writers = {self.fingerprint: self.schema}
        for old in sorted((SCHEMA_DIR / "history").glob(f"{name}.v*.avsc")):
            parsed = _parse(old)
            # a version equal to the current one keeps the current object, so that its
            # messages are read without resolving a schema against an equal copy of itself
            self._writers.setdefault(schema_fingerprint(parsed), parsed)

    def encode(self, datum: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(self.header)
        fastavro.schemaless_writer(buf, self.schema, datum)
        return buf.getvalue()

    def knows(self, data: bytes) -> bool:
        """Whether ``data`` is framed with one of this schema's versions."""
        return data[:2] == MAGIC and data[2:10] in self._writers

    def decode(self, data: bytes, *, record_names: bool = True) -> dict[str, Any]:
        """The datum of a message. A record in a union comes as (its full name, the record),
        or, with ``record_names=False``, as the record alone (fastavro reads it faster)."""
        if len(data) < 10 or data[:2] != MAGIC:
            raise DecodeError(f"not an Avro single-object message ({len(data)} bytes)")
        writer = self._writers.get(data[2:10])
        if writer is None:
            raise DecodeError(f"unknown {self.name} writer schema fingerprint {data[2:10].hex()}")
        reader = None if writer is self.schema else self.schema
        record = fastavro.schemaless_reader(
            io.BytesIO(data[10:]), writer, reader, return_record_name=record_names
        )
        return record  # type: ignore[return-value]


@cache
def codec(name: str) -> Codec:
    return Codec(name)


# --- typed field values in SourceRecord.fields -------------------------------------------


def value_to_avro(value: Value) -> Any:
    if isinstance(value, Decimal):
        return (f"{NAMESPACE}.Decimal", {"text": format(value, "f")})
    if isinstance(value, datetime):
        return (f"{NAMESPACE}.Timestamp", {"micros": value})
    return value


def source_record(
    recon: str, source: str, row: CanonicalRow, origin: str, published_at: datetime
) -> dict[str, Any]:
    """The SourceRecord datum of a canonical row, as every connector publishes it."""
    return {
        "recon": recon,
        "source": source,
        "key": row.key,
        "record_id": row.record_id,
        "deleted": row.deleted,
        "fields": {k: value_to_avro(v) for k, v in row.fields.items()},
        "origin": origin,
        "published_at": published_at,
    }


AS_IS = frozenset({str, int, bool, date, type(None)})  # the values Avro gives as they are


def value_from_avro(value: Any) -> Value:
    """A field value as :func:`value_to_avro` wrote it, read with or without record names
    (without, the Decimal and Timestamp records are told apart by their one field)."""
    if type(value) in AS_IS:
        return value
    if isinstance(value, dict) and len(value) == 1:
        if "text" in value:
            return Decimal(value["text"])
        if "micros" in value:
            return value["micros"]
    if isinstance(value, tuple):
        name, body = value
        if name.endswith(".Decimal"):
            return Decimal(body["text"])
        if name.endswith(".Timestamp"):
            return body["micros"]
        raise DecodeError(f"unknown value type {name}")
    if isinstance(value, date | str | int | bool) or value is None:
        return value
    raise DecodeError(f"unexpected value {value!r}")
