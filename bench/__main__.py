"""``make bench``: every benchmark in one run on the same servers, each beside its baseline.

Ends with one JSON line: the pipeline's source records per second, a bare confluent-kafka
consume -> produce loop's over the same records on the same broker, and their ratio; then
the diff worker's pure work per record (``bench.core``, CPU microseconds).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench import attribution, core, ingest, pipeline
from bench.servers import bench_servers


def _section(title: str, figures: dict[str, Any]) -> None:
    print(f"\n== {title}", flush=True)
    print(json.dumps(figures, indent=2, default=str), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--records", type=int, default=200_000, help="pipeline source records")
    parser.add_argument(
        "--backlog-records", type=int, default=1_000_000, help="records replayed from a backlog"
    )
    parser.add_argument(
        "--open-keys", type=int, default=1_000_000, help="keys waiting for a match (memory)"
    )
    parser.add_argument("--ingest-rows", type=int, default=200_000)
    parser.add_argument("--core-pairs", type=int, default=5000, help="trade pairs (pure diff)")
    args = parser.parse_args()
    diff_core = core.run(args.core_pairs)  # first, while no server competes for the CPU
    _section("diff core: µs per record of the pure work, beside its floor", diff_core)
    with bench_servers() as servers:
        _section(
            "ingest: CSV rows/s vs a bare produce loop",
            ingest.run(servers.kafka_bootstrap_servers, args.ingest_rows),
        )
        _section("attribution: breaks/s per worker", attribution.run(servers=servers))
        figures = pipeline.run(
            servers,
            args.records,
            backlog_records=args.backlog_records,
            open_keys=args.open_keys,
        )
        _section("pipeline: ingest -> diff -> attribution -> PostgreSQL", figures)
    final = {k: figures[k] for k in ("pipeline_rps", "baseline_rps", "ratio")}
    final["core_us_per_record"] = diff_core["core_us_per_record"]
    print(json.dumps(final))


if __name__ == "__main__":
    main()
