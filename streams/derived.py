"""What pure code derives from a recon definition, computed once per :class:`Recon` object.

A recon is a value: a changed definition is a new object (the worker's registry loads one per
version), never the same object changed in place, so whatever a function derives from it —
the compiled comparison, the declared types of each source — stays true for the object's
life. The memo is keyed by the object's identity and dropped when the object is: a copy
(``model_copy``) is a new object and derives afresh.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from streams.recon import Recon

T = TypeVar("T")

_MEMO: dict[int, tuple[weakref.ref[Recon], dict[Callable[[Recon], Any], Any]]] = {}


def derived(recon: Recon, derive: Callable[[Recon], T]) -> T:
    """``derive(recon)``, computed on the first call for this recon object only."""
    held = _MEMO.get(id(recon))
    if held is None or held[0]() is not recon:
        ident = id(recon)
        held = (weakref.ref(recon, lambda _: _MEMO.pop(ident, None)), {})
        _MEMO[ident] = held
    values = held[1]
    try:
        return values[derive]
    except KeyError:
        value = values[derive] = derive(recon)
        return value
