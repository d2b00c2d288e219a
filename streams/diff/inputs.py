"""What the diff consumes (pure): records, timers and commands, decoded and checked against
the recon.

Both topics carry partition batches (:mod:`streams.batches`) and, from before them, one
item per message keyed by its recon key; both are read. Every way an input can be unusable
ends here as :class:`Poison` with a one-line reason — undecodable bytes (empty, truncated,
random, an unknown schema fingerprint), a null value, a record in the wrong partition or
under a Kafka key that is not its recon key, a record of a source or key the recon no longer
has, a value of a type the recon no longer declares — so the worker dead-letters it (a bad
item of a batch alone) and goes on instead of failing on it for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from msgspec import Struct

from streams import commands
from streams.avro import AS_IS, value_from_avro
from streams.batches import BatchCodec
from streams.derived import derived
from streams.diff.lifecycle import Incoming
from streams.domain.workflow import Command
from streams.keys import parse_recon_key, partition_of, recon_key_bytes
from streams.recon import Recon
from streams.values import FieldType, Value

RECORD_BATCHES = BatchCodec("SourceRecord")
TIMER_BATCHES = BatchCodec("DiffTimer")

_PYTHON_TYPES: dict[FieldType, tuple[type, ...]] = {
    FieldType.STRING: (str,),
    FieldType.DECIMAL: (Decimal, int),
    FieldType.INTEGER: (int,),
    FieldType.DATE: (date,),
    FieldType.TIMESTAMP: (datetime,),
    FieldType.BOOLEAN: (bool,),
}
# The types whose values always fit, exactly as ``_fits`` says; any other goes through it.
_FITTING = {t: frozenset({type(None), *types}) for t, types in _PYTHON_TYPES.items()}


class Poison(ValueError):
    """A message the diff cannot apply; the message is the reason it is dead-lettered."""

    def __init__(self, reason: str, recon: str = "", source: str = "") -> None:
        super().__init__(reason)
        self.recon = recon
        self.source = source


class RecordIn(Struct, frozen=True):
    recon: str
    key: dict[str, str | None]
    incoming: Incoming


class TimerIn(Struct, frozen=True):
    recon: str
    key: dict[str, str | None]
    deadline: datetime


class CommandIn(Struct, frozen=True):
    """A person's (or the scheduler's) action on the break ``break_id`` of a recon key."""

    recon: str
    key: dict[str, str | None]
    break_id: str
    command: Command


Item = RecordIn | TimerIn | CommandIn


@dataclass(frozen=True, slots=True)
class Declared:
    """What ``check`` needs of a recon, read from it once: its key, sorted, and each
    source's declared fields with the types whose values always fit them."""

    sorted_key: list[str]
    fields: dict[str, dict[str, tuple[FieldType, frozenset[type]]]]

    @classmethod
    def of(cls, recon: Recon) -> Declared:
        fields = {
            name: {f: (t, _FITTING[t]) for f, t in spec.fields.items()}
            for name, spec in recon.sources.items()
        }
        return cls(sorted(recon.key), fields)


@dataclass(frozen=True, slots=True)
class Unpacked:
    """One input message: its items (each decoded, or the Poison it is) and whether it is a
    batch (placed by partition) or one item under its recon key."""

    batch: bool
    items: list[Item | Poison]
    datums: list[dict[str, Any]]  # as decoded: what a bad item is dead-lettered as

    def raw(self, index: int, *, timers: bool) -> bytes | None:
        """Item ``index`` alone, in its one-item format (for its dead letter)."""
        try:
            return (TIMER_BATCHES if timers else RECORD_BATCHES).single.encode(self.datums[index])
        except Exception:  # the reason says what was wrong with it
            return None


def unpack(key: bytes | None, value: bytes | None, *, timers: bool) -> Unpacked:
    """Decode one records or timers message; :class:`Poison` if the message as a whole is
    unusable (its items are then dead-lettered with it, as its bytes)."""
    batches = TIMER_BATCHES if timers else RECORD_BATCHES
    if value is None:
        raise Poison("null value (a tombstone is a record with deleted=true)")
    batch = batches.is_batch(value)
    if not batch:
        try:
            parse_recon_key(key)
        except ValueError as exc:
            raise Poison(str(exc)) from None
    try:
        datums = batches.decode(value)
    except Exception as exc:  # fastavro raises EOFError, IndexError, TypeError, ValueError...
        name = (batches.batch if batch else batches.single).name
        raise Poison(f"undecodable {name}: {type(exc).__name__}: {exc}") from None
    convert = timer_in if timers else record_in
    return Unpacked(batch, [convert(d) for d in datums], datums)


def unpack_command(key: bytes | None, value: bytes | None) -> Unpacked:
    """Decode one commands message (one command, under its break's recon key)."""
    if value is None:
        raise Poison("null value (a command is a BreakCommand)")
    try:
        parse_recon_key(key)
    except ValueError as exc:
        raise Poison(str(exc)) from None
    try:
        datum = commands.COMMANDS.decode(value)
        target, command = commands.from_datum(datum)
    except Exception as exc:  # fastavro's errors, or a value the command cannot hold
        raise Poison(f"undecodable BreakCommand: {type(exc).__name__}: {exc}") from None
    item = CommandIn(target.recon, target.key, target.break_id, command)
    return Unpacked(False, [item], [datum])


def record_in(datum: dict[str, Any]) -> RecordIn | Poison:
    recon, source = datum["recon"], datum["source"]
    try:
        fields = {
            k: v if type(v) in AS_IS else value_from_avro(v) for k, v in datum["fields"].items()
        }
    except ValueError as exc:
        return Poison(str(exc), recon, source)
    except ArithmeticError:  # decimal.InvalidOperation
        return Poison("a Decimal field value is not a decimal number", recon, source)
    incoming = Incoming(source, datum["record_id"], fields, datum["deleted"])
    return RecordIn(recon, datum["key"], incoming)


def timer_in(datum: dict[str, Any]) -> TimerIn:
    return TimerIn(datum["recon"], datum["key"], datum["deadline"])


def placed(item_key: bytes, message: Unpacked, kafka_key: bytes | None) -> None:
    """Raise :class:`Poison` unless a one-item message came under its recon key (a batch
    has no Kafka key: its items are placed by partition, see :func:`at_home`)."""
    if not message.batch and kafka_key != item_key:
        raise Poison(f"the Kafka key {kafka_key!r} is not the message's recon key")


def at_home(item_key: bytes, partition: int, partitions: int) -> None:
    """Raise :class:`Poison` unless ``item_key`` lives in ``partition`` (murmur2, as every
    greenai producer places it). The worker asks only for a key it holds no state of: a key
    it holds was at home when its state began."""
    home = partition_of(item_key, partitions)
    if home != partition:
        raise Poison(f"the key {item_key!r} lives in partition {home}, not in {partition}")


def check(recon: Recon, item: Item) -> bytes:
    """The item's recon key bytes; :class:`Poison` unless the recon, as defined now, can
    take ``item``."""
    source = item.incoming.source if isinstance(item, RecordIn) else ""
    declared = derived(recon, Declared.of)
    if sorted(item.key) != declared.sorted_key:
        raise Poison(
            f"recon {recon.name!r} is keyed by {recon.key} now; the message has {sorted(item.key)}",
            recon.name,
            source,
        )
    key = recon_key_bytes(recon.name, {k: item.key[k] for k in recon.key})
    if not isinstance(item, RecordIn):
        return key
    fields = declared.fields.get(source)
    if fields is None:
        raise Poison(f"recon {recon.name!r} has no source {source!r}", recon.name, source)
    for name, value in item.incoming.fields.items():
        found = fields.get(name)
        if found is None or type(value) in found[1]:
            continue
        ftype = found[0]
        if not _fits(value, ftype):
            raise Poison(
                f"recon {recon.name!r} declares {name} as {ftype.value} now; the record "
                f"has {type(value).__name__}",
                recon.name,
                source,
            )
    return key


def _fits(value: Value, declared: FieldType) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) and declared is not FieldType.BOOLEAN:
        return False
    if isinstance(value, datetime) and declared is FieldType.DATE:
        return False
    return isinstance(value, _PYTHON_TYPES[declared])
