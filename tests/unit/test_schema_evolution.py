"""Every topic schema evolves only in backward-compatible steps.

``schemas/avro/history/<Name>.v<N>.avsc`` keeps every released version. Data written with any
of them must be readable with the current schema, and the current schema must itself be
released (a change is released by adding it to history as the next version).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import fastavro
import pytest
from fastavro.utils import generate_many

from streams.avro import SCHEMA_DIR, codec, schema_fingerprint

CURRENT = sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc"))
HISTORY = sorted((SCHEMA_DIR / "history").glob("*.avsc"))


def _parse(path: Path) -> object:
    return fastavro.parse_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("name", CURRENT)
def test_the_current_schema_is_released(name: str) -> None:
    released = {schema_fingerprint(_parse(p)) for p in HISTORY if p.name.startswith(f"{name}.v")}
    assert codec(name).fingerprint in released, f"add {name}.avsc to history/ as a new version"


@pytest.mark.parametrize("old", HISTORY, ids=lambda p: p.name)
def test_data_of_every_released_version_reads_with_the_current_schema(old: Path) -> None:
    name = old.name.split(".v")[0]
    writer, reader = _parse(old), _parse(SCHEMA_DIR / f"{name}.avsc")
    for datum in generate_many(writer, 20):
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, writer, datum)
        buf.seek(0)
        fastavro.schemaless_reader(buf, writer, reader)


@pytest.mark.parametrize("name", CURRENT)
def test_the_codec_recognises_every_released_writer(name: str) -> None:
    known = codec(name)._writers
    for old in (SCHEMA_DIR / "history").glob(f"{name}.v*.avsc"):
        assert schema_fingerprint(_parse(old)) in known
