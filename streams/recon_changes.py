"""Which changes of a recon its running state can absorb (pure).

The diff holds, per recon key, every source's bookings as typed values. A new definition
may add sources, fields, tolerances, windows and rules freely; it may not change what that
state means:

- the key (the state is keyed by the old one),
- a field's type (bookings hold values of the old type; integer to decimal is the one
  widening that keeps every stored value meaningful),
- a source's ``record_id`` while it holds bookings (their ids would change meaning),
- a source removed while it holds bookings (they would be silently orphaned).

Such a change is refused with one line saying why. To make it anyway, apply the new
definition under a new name and publish the sources to it (see docs/recon.md).

>>> from streams.recon import Recon
>>> def recon(key, amount="decimal"):
...     fields = {"trade_id": "string", "ref": "string", "amount": amount}
...     return Recon.model_validate(
...         {"name": "t", "key": key, "sources": {"a": {"fields": fields}, "b": {"fields": fields}}}
...     )
>>> refusals(recon(["trade_id"]), recon(["trade_id"]), {})
[]
>>> refusals(recon(["trade_id"]), recon(["ref"]), {})[0]
"recon t: the key changes from ['trade_id'] to ['ref']: the diff's state is keyed by ..."
"""

from __future__ import annotations

from streams.recon import Recon
from streams.values import FieldType

WIDENINGS = {(FieldType.INTEGER, FieldType.DECIMAL)}
Holdings = dict[str, int]  # source -> recon keys holding a booking of it


def refusals(old: Recon, new: Recon, holdings: Holdings | None) -> list[str]:
    """Why ``new`` cannot replace ``old`` (empty: it can). ``holdings``: the bookings each
    source holds in the diff now (None: unknown, no diff worker is reporting)."""
    name = new.name
    found: list[str] = []
    if old.key != new.key:
        found.append(
            f"recon {name}: the key changes from {old.key} to {new.key}: the diff's state is "
            "keyed by the old key; apply it under a new name instead"
        )
    for source, spec in old.sources.items():
        held = None if holdings is None else holdings.get(source, 0)
        if source not in new.sources:
            if held is None:
                found.append(
                    f"recon {name}: source {source} is removed, and whether it still holds "
                    "bookings cannot be told (no diff worker is reporting); start the stack "
                    "and apply again"
                )
            elif held:
                found.append(
                    f"recon {name}: source {source} is removed while it holds {held} bookings "
                    "in the diff; withdraw them (tombstones) or apply under a new name"
                )
            continue
        changed = new.sources[source]
        for field, ftype in spec.fields.items():
            now = changed.fields.get(field)
            if now is not None and now != ftype and (ftype, now) not in WIDENINGS:
                found.append(
                    f"recon {name}: field {field} of source {source} changes type from "
                    f"{ftype.value} to {now.value}; the diff holds {ftype.value} values of it"
                )
        if spec.record_id != changed.record_id and held != 0:
            found.append(
                f"recon {name}: source {source}'s record_id changes from {spec.record_id} to "
                f"{changed.record_id} while it holds bookings identified by the old one"
            )
    return found
