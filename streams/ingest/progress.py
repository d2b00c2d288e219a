"""What people see: a tqdm bar (rows, rows/s) on a terminal, and one JSON summary line.

The bar goes to stderr and only when stderr is a terminal; the summary goes to stdout as a
single JSON object per unit of work (a file, an object, a poll), so scripts can parse it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tqdm import tqdm


class RowProgress:
    """Rows done so far for one unit of work; silent unless stderr is a terminal."""

    def __init__(self, label: str, *, enabled: bool | None = None, initial: int = 0) -> None:
        show = sys.stderr.isatty() if enabled is None else enabled
        self._bar: tqdm[Any] | None = (
            tqdm(
                desc=label,
                unit=" rows",
                unit_scale=True,
                initial=initial,
                file=sys.stderr,
                mininterval=0.5,
                dynamic_ncols=True,
                leave=True,
            )
            if show
            else None
        )

    def update(self, rows: int) -> None:
        if self._bar is not None and rows:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def print_summary(summary: dict[str, Any]) -> None:
    print(json.dumps(summary, default=str), flush=True)
