"""The recon key's bytes and their parse are exactly ``json.dumps`` / ``json.loads``'s.

The key decides the partition, so a record and its recon key must give the same bytes
whichever way they are written: checked here against ``json`` itself for keys of every
kind of text (quotes, backslashes, control characters, DEL, non-ASCII, lone surrogates),
nulls, several values and none.
"""

from __future__ import annotations

import json
import random

from streams.keys import parse_recon_key, recon_key_bytes

ALPHABET = ['"', "\\", "\n", "\x00", "\x1f", "\x7f", " ", "~", "é", "\u2028", "\ud800", "😀"]


def some_text(rng: random.Random) -> str:
    plain = "".join(rng.choice("AZaz09-_ .:/") for _ in range(rng.randint(0, 12)))
    if rng.random() < 0.5:
        return plain
    at = rng.randint(0, len(plain))
    return plain[:at] + rng.choice(ALPHABET) + plain[at:]


def test_the_key_bytes_are_json_dumps_and_parse_back_as_json_loads_does() -> None:
    rng = random.Random(9)
    for n in range(20000):
        values = [some_text(rng) if rng.random() < 0.9 else None for _ in range(n % 4)]
        recon = rng.choice(["trades", "fx.eur-usd", some_text(rng)])
        key = {f"k{i}": v for i, v in enumerate(values)}
        raw = recon_key_bytes(recon, key)
        assert raw == json.dumps([recon, values], separators=(",", ":")).encode()
        assert parse_recon_key(raw) == (recon, values)


def test_a_key_in_another_unicode_encoding_parses_as_json_loads_parses_it() -> None:
    text = json.dumps(["trades", ["T1"]])
    for encoding in ("utf-16-le", "utf-16", "utf-32-be", "utf-8-sig"):
        assert parse_recon_key(text.encode(encoding)) == ("trades", ["T1"])
