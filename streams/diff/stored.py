"""The diff table's value (pure): a key's state and the last input position applied to it.

Faust commits input offsets only after flushing what it produced, but the table's
changelog may be ahead of the committed offsets after a crash. Each key therefore
remembers the last position it applied from each input topic (records ``r``, timers ``t``,
commands ``c``):
a redelivered item is recognised and not applied twice. A position is the message offset
times :data:`streams.batches.SLOTS` plus the item's index in its batch.

The value is MessagePack (:mod:`streams.diff.state_codec`); a value of the JSON form written
before it (:mod:`streams.diff.state_json`), which always begins with ``{``, is still read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from streams.diff import state_codec
from streams.diff.lifecycle import KeyState
from streams.diff.state_json import state_from_json

RECORDS, TIMERS, COMMANDS = "r", "t", "c"


@dataclass
class Stored:
    state: KeyState = field(default_factory=KeyState)
    offsets: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, raw: bytes | None) -> Stored:
        if not raw:
            return cls()
        if raw[:1] == b"{":  # the JSON form
            data = json.loads(raw)
            return cls(state_from_json(data["s"]), data["o"])
        return cls(*state_codec.load(raw))

    def dump(self) -> bytes:
        return state_codec.dump(self.state, self.offsets)

    def seen(self, topic: str, position: int) -> bool:
        """Whether the item at ``position`` of ``topic`` was applied already."""
        return position <= self.offsets.get(topic, -1)
