"""The figures of a load run: per request type p50/p95/p99, requests/s and errors; the
streams' delivery; the machine; and the table ``make load`` prints."""

from __future__ import annotations

import math
import os
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg

from load.plan import Plan

TARGET_P95_MS = 100.0
LIST = "GET /api/breaks?"
DETAIL = "GET /api/breaks/{break_id}"


@dataclass
class Raw:
    """What a run collected, before it is summarised."""

    plan: Plan
    locust: dict[str, Any]
    sse: dict[str, Any]
    stored_at: dict[int, float]  # seq -> when the change was stored (Unix seconds)
    machine: dict[str, Any]
    sse_ready_seconds: float | None
    locust_exit: int | None
    notes: list[str] = field(default_factory=list)
    profile: dict[str, Any] | None = None


def stored_times(database_url: str, meta: dict[str, list[Any]]) -> dict[int, float]:
    """When each streamed change was stored: ``break_history.stored_at`` of its (break_id,
    version, revision), by the event's ``seq``."""
    if not meta:
        return {}
    seqs = list(meta)
    ids = [meta[s][0] for s in seqs]
    versions = [int(meta[s][1]) for s in seqs]
    revisions = [int(meta[s][2]) for s in seqs]
    found: dict[int, float] = {}
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """
            SELECT w.seq, extract(epoch FROM h.stored_at)::float8
              FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::int[])
                   AS w(seq, break_id, version, revision)
              JOIN break_history h USING (break_id, version, revision)
            """,
            [[int(s) for s in seqs], ids, versions, revisions],
        ).fetchall()
    for seq, at in rows:
        found[int(seq)] = float(at)
    return found


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _spread(values: list[float]) -> dict[str, float | None]:
    return {f"p{q}": percentile(values, q) for q in (50, 95, 99)} | {
        "max": max(values) if values else None
    }


def summarise(raw: Raw) -> dict[str, Any]:
    locust = raw.locust
    start = locust.get("spawned_at") or 0.0
    end = locust["stopped_at"]
    span = max(1e-9, end - start)
    by_name: dict[str, list[float]] = defaultdict(list)
    failures: dict[str, Counter[str]] = defaultdict(Counter)
    for name, at, ms, failure in locust["requests"]:
        if not start <= at <= end:
            continue
        by_name[name].append(ms)
        if failure:
            failures[name][failure] += 1

    def row(names: list[str]) -> dict[str, Any]:
        times = [t for n in names for t in by_name[n]]
        errors = sum(sum(failures[n].values()) for n in names)
        return {"requests": len(times), "rps": len(times) / span, "errors": errors} | _spread(times)

    names = sorted(by_name)
    requests = {n: row([n]) for n in names}
    lists = [n for n in names if n.startswith(LIST)]
    details = [n for n in names if n.startswith(DETAIL)]
    groups = {
        "list (every GET /api/breaks?...)": row(lists),
        "detail (every GET /api/breaks/{break_id}...)": row(details),
        "all requests": row(names),
    }
    errors = {f"{n}: {m}": c for n in names for m, c in failures[n].most_common(5)}

    sse = raw.sse
    stored_lag: list[float] = []
    in_window_events = 0
    for seq_text, times in sse["received"].items():
        inside = [t for t in times if start <= t <= end]
        in_window_events += len(inside)
        at = raw.stored_at.get(int(seq_text))
        if at is not None:
            stored_lag += [(t - at) * 1000 for t in inside]
    by_command = {m[4]: int(s) for s, m in sse["meta"].items() if m[4]}
    action_lag: list[float] = []
    actions_seen = 0
    actions = [a for a in locust["actions"] if start <= a[2] <= end]
    for command_id, _, sent, _ in actions:
        seq = by_command.get(command_id)
        if seq is not None:
            actions_seen += 1
            action_lag += [(t - sent) * 1000 for t in sse["received"][str(seq)]]
    changes = [s for s, times in sse["received"].items() if any(start <= t <= end for t in times)]
    stream = {
        "clients": sse["clients"],
        "connected_at_end": sse["connected_at_end"],
        "connected_max": sse["connected_max"],
        "connects": sse["connects"],
        "drops": sse["drops"],
        "resets": sse["resets"],
        "errors": sse["errors"],
        "changes_streamed": len(changes),
        "events_received": in_window_events,
        "events_per_second": in_window_events / span,
        "delivered_share": (
            in_window_events / (len(changes) * sse["clients"])
            if changes and sse["clients"]
            else None
        ),
        "stored_to_received_ms": _spread(stored_lag),
        "stored_lag_samples": len(stored_lag),
        "actions_sent": len(actions),
        "actions_streamed": actions_seen,
        "action_to_received_ms": _spread(action_lag),
        "cpu_seconds_of_clients": sse["cpu_seconds"],
    }
    plan = raw.plan
    list_p95 = groups["list (every GET /api/breaks?...)"]["p95"]
    detail_p95 = groups["detail (every GET /api/breaks/{break_id}...)"]["p95"]
    target = {
        "list_p95_under_100ms": list_p95 is not None and list_p95 < TARGET_P95_MS,
        "detail_p95_under_100ms": detail_p95 is not None and detail_p95 < TARGET_P95_MS,
        "zero_errors": groups["all requests"]["errors"] == 0 and not sse["errors"],
        "every_stream_held": sse["connected_at_end"] == plan.sse and sse["drops"] == 0,
    }
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end)),
        "plan": asdict(plan),
        "measured_seconds": span,
        "requests": requests,
        "groups": groups,
        "errors": errors,
        "stream": stream,
        "machine": raw.machine,
        "cores": os.cpu_count(),
        "sse_ready_seconds": raw.sse_ready_seconds,
        "locust_exit": raw.locust_exit,
        "target": target,
        "notes": raw.notes,
        "profile": raw.profile,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def render(summary: dict[str, Any]) -> str:
    plan = summary["plan"]
    out = [
        f"load test {summary['when']}: {plan['users']} analysts (think {plan['think']} s), "
        f"{plan['sse']} SSE clients, {summary['measured_seconds']:.0f} s measured after a "
        f"{plan['users'] / plan['spawn_rate']:.0f} s ramp; the BFF: "
        + (
            f"gunicorn, {plan['bff_workers']} uvicorn workers"
            if plan.get("bff_workers")
            else "the stack's (one uvicorn process)"
        ),
        "",
        f"{'request':<52} {'count':>6} {'req/s':>6} {'p50':>6} {'p95':>6} {'p99':>6} "
        f"{'max':>6} {'errors':>6}",
    ]

    def line(name: str, r: dict[str, Any]) -> str:
        return (
            f"{name:<52} {r['requests']:>6} {r['rps']:>6.1f} {_ms(r['p50']):>6} "
            f"{_ms(r['p95']):>6} {_ms(r['p99']):>6} {_ms(r['max']):>6} {r['errors']:>6}"
        )

    out += [line(n, r) for n, r in summary["requests"].items()]
    out.append("")
    out += [line(n, r) for n, r in summary["groups"].items()]
    out.append("(milliseconds)")
    for message, count in summary["errors"].items():
        out.append(f"  error x{count}: {message}")
    s = summary["stream"]
    share = s["delivered_share"]
    out += [
        "",
        f"SSE: {s['connected_at_end']}/{s['clients']} connected at the end (at most "
        f"{s['connected_max']}), {s['connects']} connects, {s['drops']} drops, "
        f"{s['resets']} resets, errors {s['errors'] or 'none'}",
        f"SSE: {s['changes_streamed']} changes streamed, {s['events_received']} events received "
        f"({s['events_per_second']:.0f}/s"
        + (f", {100 * share:.1f}% of changes x clients" if share is not None else "")
        + ")",
    ]
    for label, key in (
        ("stored -> received", "stored_to_received_ms"),
        ("action -> received", "action_to_received_ms"),
    ):
        d = s[key]
        out.append(
            f"SSE lag {label:<20} p50 {_ms(d['p50'])} ms, p95 {_ms(d['p95'])} ms, "
            f"p99 {_ms(d['p99'])} ms, max {_ms(d['max'])} ms"
        )
    out.append(
        f"actions: {s['actions_sent']} comments and tags sent, {s['actions_streamed']} seen "
        "in the stream"
    )
    m = summary["machine"]
    if m.get("loadavg"):
        la = m["loadavg"]
        out.append(
            f"\nmachine: {summary['cores']} cores, load average (1 min) during the run "
            f"{la['min']:.2f}-{la['max']:.2f} (median {la['median']:.2f})"
        )
        cpu = ", ".join(f"{k} {v:.0f}%" for k, v in m["cpu_percent"].items() if v >= 0.5)
        out.append(f"CPU (% of one core): {cpu}")
        pg = m.get("bff_postgres_sessions")
        if pg:
            out.append(
                "the BFF's PostgreSQL sessions, sampled each second (mean/max): "
                + ", ".join(f"{k} {v['mean']:.1f}/{v['max']}" for k, v in pg.items())
            )
    profile = summary.get("profile")
    if profile:
        if "error" in profile:
            out.append(f"profile: {profile['error']}")
        else:
            out.append(f"\nBFF profile ({profile['samples']} busy samples), % inclusive:")
            out += [f"  {share:5.1f}  {frame}" for frame, share in profile["inclusive"][:25]]
            out.append("% self:")
            out += [f"  {share:5.1f}  {frame}" for frame, share in profile["self"][:15]]
    t = summary["target"]
    verdict = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in t.items())
    out.append(f"\ntarget: {verdict}")
    out += [f"note: {n}" for n in summary["notes"]]
    return "\n".join(out)
