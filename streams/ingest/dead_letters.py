"""The text a dead letter carries, bounded so the dead letter itself always fits in Kafka.

Whatever a source holds, a dead letter is valid UTF-8 (undecodable bytes and lone surrogates
escaped), its reason is one line of at most ``REASON_LIMIT`` characters, and its raw input at
most ``RAW_LIMIT`` bytes, with a note saying how large the input was.
"""

from __future__ import annotations

RAW_LIMIT = 64 * 1024  # bytes of the raw input a dead letter keeps
REASON_LIMIT = 1000  # characters of a reason
LOCATION_LIMIT = 4096  # characters of a location


def printable(text: str) -> str:
    """``text`` as valid UTF-8: bytes that were not UTF-8 (surrogateescape) as ``\\xe9``,
    other lone surrogates as ``\\ud800``."""
    if text.isascii():
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate surrogateescape did not make, e.g. JSON "\ud800"
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def raw_text(text: str) -> str:
    """The raw input for a dead letter: printable, at most ``RAW_LIMIT`` bytes."""
    data = printable(text).encode("utf-8")
    if len(data) <= RAW_LIMIT:
        return data.decode("utf-8")
    kept = data[:RAW_LIMIT].decode("utf-8", "ignore")  # never half a character
    return f"{kept}... (truncated: {len(data)} bytes in all)"


def one_line(text: str, limit: int = REASON_LIMIT) -> str:
    """``text`` on one printable line of at most ``limit`` characters."""
    shown = "".join(c if c.isprintable() else " " for c in printable(text))
    line = " ".join(shown.split())
    return line if len(line) <= limit else f"{line[: limit - 1]}…"


def describe(exc: BaseException, limit: int = 300) -> str:
    """An unexpected exception as a short reason: its type and first words."""
    return one_line(f"{type(exc).__name__}: {exc}", limit)
