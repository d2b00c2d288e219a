"""The Kafka key of a recon key: ``["<recon>", [<key values>]]`` as compact JSON.

Every source of a recon publishes a record under the same key bytes, so all records of one
recon key land in the same partition (murmur2 of these bytes, as every client computes it).

>>> recon_key_bytes("trades", {"trade_id": "T1"})
b'["trades",["T1"]]'
>>> parse_recon_key(b'["trades",["T1"]]')
('trades', ['T1'])
>>> parse_recon_key(b"T1")
Traceback (most recent call last):
...
ValueError: the Kafka key is not a recon key ["<recon>", [values]]: b'T1'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

from aiokafka.partitioner import murmur2

_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps's encoder, built once
_DECODER = json.JSONDecoder()  # json.loads's
_VERBATIM = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII but " and \: JSON writes it as is


def recon_key_bytes(recon: str, key: Mapping[str, str | None]) -> bytes:
    """``json.dumps([recon, [values]], separators=(",", ":"))``, written directly when no
    character needs escaping (the usual key: the same bytes, in half the time)."""
    values = list(key.values())
    if values and all(type(v) is str for v in values):
        texts = cast(list[str], values)
        if _VERBATIM.fullmatch(recon + "".join(texts)):
            return ('["' + recon + '",["' + '","'.join(texts) + '"]]').encode()
    return _COMPACT.encode([recon, values]).encode()


def parse_recon_key(raw: bytes | None) -> tuple[str, list[str | None]]:
    """The recon name and key values of a Kafka key; ValueError with a one-line reason."""
    try:
        recon, values = _loads(raw or b"")
        valid = isinstance(recon, str) and isinstance(values, list)
        if valid and all(v is None or isinstance(v, str) for v in values):
            return recon, values
    except (ValueError, TypeError):
        pass
    shown = raw if raw is None or len(raw) <= 80 else raw[:80] + b"..."
    raise ValueError(f'the Kafka key is not a recon key ["<recon>", [values]]: {shown!r}')


def _loads(raw: bytes) -> Any:
    """``json.loads(raw)``: past its sniffing of the encoding when that can only say UTF-8
    (a first byte ``[`` and a second byte not NUL)."""
    if raw[:1] == b"[" and raw[1:2] != b"\x00":
        return _DECODER.decode(raw.decode("utf-8", "surrogatepass"))
    return json.loads(raw)


def partition_of(key: bytes, partitions: int) -> int:
    """The partition a key lands in: murmur2, as the Java client, aiokafka and librdkafka's
    ``murmur2_random`` partitioner compute it."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
