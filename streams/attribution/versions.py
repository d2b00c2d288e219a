"""Model versions in PostgreSQL (``model_versions``): checkpoints with their metrics.

A checkpoint is a version: the pickled learner, the feedback offset it reflects, the River
version that wrote it and its metrics. Workers write the same state at the same offset, so
the offset is unique (per River version: another one rebuilds the model from the feedback
log and keeps its own checkpoints) and the first writer wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import river
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from streams.attribution.model import CauseModel

LISTED = """version, feedback_offset, labels_seen, based_on, model, river_version, metrics,
            created_by, created_at, length(state) AS state_bytes"""


@dataclass(frozen=True)
class Checkpoint:
    version: int
    feedback_offset: int
    state: bytes
    sha256: str

    @property
    def intact(self) -> bool:
        """Whether the state is the one written: checked before it is ever unpickled."""
        return hashlib.sha256(self.state).hexdigest() == self.sha256


def save(
    database_url: str,
    *,
    state: bytes,
    feedback_offset: int,
    labels_seen: int,
    based_on: int | None,
    metrics: dict[str, Any],
    created_by: str,
) -> int:
    """Store a checkpoint; returns its version (an existing one at the same offset wins,
    unless it fails its integrity check: then this state repairs it)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            """
            INSERT INTO model_versions (feedback_offset, labels_seen, based_on, model,
                                        river_version, metrics, state, state_sha256,
                                        created_by)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (river_version, feedback_offset) DO UPDATE
               SET state = EXCLUDED.state, state_sha256 = EXCLUDED.state_sha256
             WHERE model_versions.state_sha256 <> encode(sha256(model_versions.state), 'hex')
            RETURNING version
            """,
            [
                feedback_offset,
                labels_seen,
                based_on,
                CauseModel.name,
                river.__version__,
                Jsonb(metrics),
                state,
                hashlib.sha256(state).hexdigest(),
                created_by,
            ],
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT version FROM model_versions WHERE river_version = %s "
                "AND feedback_offset = %s",
                [river.__version__, feedback_offset],
            ).fetchone()
        assert row is not None
        return int(row[0])


def newest_first(database_url: str) -> Iterator[Checkpoint]:
    """This River version's checkpoints, the one reflecting the most feedback first (of
    equals, the newest version; a loader falls back along them past a corrupt or unreadable
    one)."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        ids = conn.execute(
            "SELECT version FROM model_versions WHERE river_version = %s "
            "ORDER BY feedback_offset DESC, version DESC",
            [river.__version__],
        ).fetchall()
        for (version,) in ids:
            row = conn.execute(
                "SELECT version, feedback_offset, state, state_sha256 FROM model_versions "
                "WHERE version = %s",
                [version],
            ).fetchone()
            if row is not None:
                yield Checkpoint(int(row[0]), int(row[1]), bytes(row[2]), str(row[3]))


def latest(database_url: str) -> Checkpoint | None:
    """The checkpoint of this River version that reflects the most feedback (None: none)."""
    return next(newest_first(database_url), None)


def state_of(database_url: str, version: int) -> bytes:
    """The stored learner of ``version``, integrity-checked; LookupError when there is none
    or it is corrupt."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT version, feedback_offset, state, state_sha256 FROM model_versions "
            "WHERE version = %s",
            [version],
        ).fetchone()
    if row is None:
        raise LookupError(f"no model version {version} (see `greenai model versions`)")
    found = Checkpoint(int(row[0]), int(row[1]), bytes(row[2]), str(row[3]))
    if not found.intact:
        raise LookupError(f"model version {version} fails its integrity check")
    return found.state


def listing(database_url: str, limit: int = 50) -> list[dict[str, Any]]:
    """The newest versions first, without their state."""
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(
            f"SELECT {LISTED} FROM model_versions ORDER BY version DESC LIMIT %s", [limit]
        ).fetchall()


def exists(database_url: str, version: int) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT 1 FROM model_versions WHERE version = %s", [version]).fetchone()
    return row is not None
