"""Statistics of a recon: per business day (in the recon's time zone) the keys seen and
matched, the breaks opened and settled, the match rate, the auto-close rate and the mean time
to settle; and the ageing of its open breaks now. From the matches and the breaks' history.

>>> from datetime import date
>>> keys = {date(2026, 12, 7): {"keys_seen": 10, "clean_matched": 8, "matched": 9}}
>>> breaks = {date(2026, 12, 7): {"opened": 2, "auto_closed": 1, "mean_hours_to_settle": 0.5}}
>>> [d["match_rate"] for d in days(keys, breaks, date(2026, 12, 6), date(2026, 12, 7))]
[None, 0.8]
>>> days(keys, breaks, date(2026, 12, 7), date(2026, 12, 7))[0]["auto_close_rate"]
0.5
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from psycopg_pool import AsyncConnectionPool

from streams.domain.workflow_rules import BUCKETS, WorkflowRules, ageing_bucket
from streams.recon import Recon
from streams.store.breaks import daily_breaks, open_breaks
from streams.store.matches import daily_keys

COUNTS = ("keys_seen", "matched", "clean_matched", "opened", "resolved", "closed", "auto_closed")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def days(
    keys: dict[date, dict[str, int]],
    breaks: dict[date, dict[str, Any]],
    first: date,
    last: date,
) -> list[dict[str, Any]]:
    """Every day from ``first`` to ``last``, oldest first, with its counts (0 when nothing
    happened), its match rate (keys matched at first go / keys seen) and its auto-close rate
    (breaks closed by an auto-close rule / breaks opened); None where there is no whole."""
    out = []
    day = first
    while day <= last:
        counts = dict.fromkeys(COUNTS, 0) | keys.get(day, {}) | breaks.get(day, {})
        hours = counts.pop("mean_hours_to_settle", None)
        out.append(
            {"day": day.isoformat()}
            | {k: int(counts[k]) for k in COUNTS}
            | {
                "match_rate": _rate(counts["clean_matched"], counts["keys_seen"]),
                "auto_close_rate": _rate(counts["auto_closed"], counts["opened"]),
                "mean_hours_to_settle": hours,
            }
        )
        day += timedelta(days=1)
    return out


def ageing(rows: list[dict[str, Any]], rules: WorkflowRules, now: datetime) -> dict[str, Any]:
    """The open breaks now: how many, how many overdue, by ageing bucket and by cause."""
    buckets = Counter(ageing_bucket(rules.age_days(r["first_seen"], now)) for r in rows)
    return {
        "total": len(rows),
        "overdue": sum(1 for r in rows if r["due"] is not None and r["due"] < now),
        "by_bucket": {b: buckets.get(b, 0) for b in BUCKETS},
        "by_cause": dict(Counter(r["cause"] or "UNATTRIBUTED" for r in rows).most_common()),
    }


async def recon_stats(
    pool: AsyncConnectionPool, recon: Recon, n_days: int, now: datetime
) -> dict[str, Any]:
    """The last ``n_days`` local days of ``recon`` (today included) and its ageing now."""
    rules = recon.rules
    last = rules.local_day(now)
    first = last - timedelta(days=n_days - 1)
    since = datetime.combine(first, time(), rules.zone)
    keys = await daily_keys(pool, recon.name, rules.timezone, since)
    breaks = await daily_breaks(pool, recon.name, rules.timezone, since)
    return {
        "recon": recon.name,
        "timezone": rules.timezone,
        "days": days(keys, breaks, first, last),
        "open": ageing(await open_breaks(pool, recon.name), rules, now),
    }
