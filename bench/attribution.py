"""Attribution-worker throughput: breaks per second through features → model → Discriminator.

``run()`` measures, on generated breaks of every cause, in one process and one run:

* ``rules_only``: the placeholder path this replaced (features → rules → Discriminator), the
  baseline the other figures are a ratio of;
* ``engine``: the worker's pure path (:class:`Engine`: features, rules + trained model, the
  explanation, HalfSpaceTrees, the Discriminator, the decision record);
* ``engine_avro``: the same with the Avro decode and encode of every break, i.e. everything a
  worker does per break except Kafka I/O and the batched PostgreSQL write;
* ``worker`` (``through_worker=True``): a real Faust attribution worker on real Kafka and
  PostgreSQL (started here unless KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL / REDIS_URL name
  them), fed pre-published breaks, timed until its consumer group has no lag.

Each pure figure is the best of ``repeat`` passes, in wall-clock and in CPU time (the machine
may be shared). ``python -m bench.attribution [--worker]`` prints the result as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.timing import best_pass
from streams.attribution.discriminator import decide
from streams.attribution.engine import Engine
from streams.attribution.features import extract
from streams.attribution.labelled import labelled_breaks
from streams.attribution.rules import attribute
from streams.avro import codec
from streams.recon import Recon, load_recon

ROOT = Path(__file__).resolve().parent.parent
DEMO_RECON = ROOT / "examples" / "demo" / "trades.yaml"
TARGET = 5000


def _best(fn: Callable[[], int], repeat: int) -> dict[str, float]:
    """Breaks per second of the fastest pass, by wall clock and by CPU time."""
    wall, cpu = best_pass(fn, repeat)
    return {"breaks_per_s": round(1 / wall), "breaks_per_s_cpu": round(1 / max(cpu, 1e-9))}


def trained_engine(recon: Recon, labels: int, seed: int = 1) -> Engine:
    """An engine whose model learned ``labels`` labels and whose HST has a full window."""
    engine = Engine()
    attributor = engine.learner.attributor
    for lb in labelled_breaks(recon, labels, seed=seed):
        _, v = attributor.attribute(extract(lb.brk, recon.source_names), recon.fx_rates)
        attributor.learn(v, lb.cause)
    for i, lb in enumerate(labelled_breaks(recon, 1200, seed=seed + 1)):
        engine.process(lb.brk | {"break_id": f"w-{i}"}, recon)
    return engine


def pure(breaks: int = 5000, labels: int = 300, repeat: int = 5) -> dict[str, Any]:
    recon = load_recon(DEMO_RECON)
    data = [
        lb.brk | {"break_id": f"b-{i}"}
        for i, lb in enumerate(labelled_breaks(recon, breaks, seed=99))
    ]
    engine = trained_engine(recon, labels)
    avro = codec("Break")
    raw = [avro.encode(b) for b in data]
    sources, rates = recon.source_names, recon.fx_rates

    def rules_only() -> int:
        for b in data:
            f = extract(b, sources)
            found = attribute(f, rates)
            decide(f, found.cause, found.confidence, fx_rates=rates)
        return len(data)

    def engine_only() -> int:
        for b in data:
            engine.process(b, recon)
        return len(data)

    def engine_avro() -> int:
        for r in raw:
            avro.encode(engine.process(avro.decode(r), recon).datum)
        return len(data)

    def avro_only() -> int:
        for r in raw:
            avro.encode(avro.decode(r))
        return len(data)

    out: dict[str, Any] = {
        "breaks": len(data),
        "labels_learned": labels,
        "rules_only": _best(rules_only, repeat),
        "engine": _best(engine_only, repeat),
        "engine_avro": _best(engine_avro, repeat),
        "avro_only": _best(avro_only, repeat),
    }
    base = out["rules_only"]["breaks_per_s_cpu"]
    for name in ("engine", "engine_avro"):
        out[name]["ratio_to_rules_only_cpu"] = round(out[name]["breaks_per_s_cpu"] / base, 3)
    out["stages_us"] = stages(engine, recon, data[:2000])
    return out


def stages(engine: Engine, recon: Recon, data: list[dict[str, Any]]) -> dict[str, float]:
    """Mean CPU microseconds per break of each step of the pure path (what limits it)."""
    from streams.attribution.anomaly import AnomalyScorer
    from streams.attribution.discriminator import materiality
    from streams.attribution.features import vector

    avro = codec("Break")
    sources, rates = recon.source_names, recon.fx_rates
    raw = [avro.encode(b) for b in data]
    feats = [extract(b, sources) for b in data]
    vectors = [vector(f, rates) for f in feats]
    attributor = engine.learner.attributor
    compiled = attributor.model.compiled
    hst = AnomalyScorer()
    for v in vectors[:1200]:
        hst.learn(v)
    steps: dict[str, Callable[[int], Any]] = {
        "avro_decode": lambda i: avro.decode(raw[i]),
        "extract": lambda i: extract(data[i], sources),
        "vector": lambda i: vector(feats[i], rates),
        "rules": lambda i: attribute(feats[i], rates),
        "model_predict": lambda i: compiled.proba(*compiled.inputs(vectors[i])),
        "attribute_with_explanation": lambda i: attributor.attribute(feats[i], rates),
        "anomaly_hst": lambda i: hst.score(vectors[i]),
        "materiality_and_decide": lambda i: decide(
            feats[i], "FEE", 0.9, fx_rates=rates, money=materiality(feats[i], rates)
        ),
        "avro_encode": lambda i: avro.encode(data[i]),
    }
    out = {}
    for name, step in steps.items():
        best = float("inf")
        for _ in range(3):
            c0 = time.process_time()
            for i in range(len(data)):
                step(i)
            best = min(best, time.process_time() - c0)
        out[name] = round(best / len(data) * 1e6, 1)
    return out


def through_worker(
    breaks: int = 20000, labels: int = 300, servers: Any | None = None
) -> dict[str, Any]:
    """A real attribution worker on real servers (``servers``: a ``ServerUrls``; None: those
    the environment names, the others started here), fed ``breaks`` pre-published breaks,
    and in the same run the baseline: a Faust agent that only decodes, encodes, forwards."""
    from greenai.localstack import LocalServers

    recon = load_recon(DEMO_RECON)
    avro = codec("Break")
    data = [
        avro.encode(lb.brk | {"break_id": f"b-{i}"})
        for i, lb in enumerate(labelled_breaks(recon, breaks, seed=7))
    ]
    home = Path(tempfile.mkdtemp(prefix="greenai-bench-attribution-"))
    with contextlib.ExitStack() as stack:
        urls = servers or stack.enter_context(
            LocalServers.from_environ(home / "servers", kafka_sasl=False)
        )
        baseline = _timed_worker(urls, home, recon, data, 0, PASSTHROUGH)
        worker = _timed_worker(urls, home, recon, data, labels, WORKER)
    return {
        "breaks": breaks,
        "labels_learned": labels,
        "faust_passthrough": baseline,
        "attribution_worker": worker,
        "ratio_to_passthrough": round(worker["breaks_per_s"] / baseline["breaks_per_s"], 3),
        "note": "one worker process, 4 partitions; Kafka, PostgreSQL and the producer share "
        "the machine",
    }


WORKER = [sys.executable, "-m", "streams.attribution"]
PASSTHROUGH = [sys.executable, "-c", "from bench.attribution import passthrough; passthrough()"]


def passthrough() -> None:
    """A Faust agent doing only what every worker must: decode, encode, forward a break."""
    import faust

    from streams import metrics
    from streams.settings import load_settings
    from streams.worker import make_app, topics

    settings = load_settings()
    names = topics(settings)
    app = make_app(settings, "attribution")
    source = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    sink = app.topic(names.attributed, key_type=bytes, value_type=bytes)
    avro = codec("Break")

    @app.agent(source)
    async def forward(stream: Any) -> None:
        async for events in stream.take_events(500, within=0.05):
            for event in events:
                sink.send_soon(key=event.key, value=avro.encode(avro.decode(event.value)))

    @app.task
    async def started() -> None:  # announced as the real worker announces itself
        metrics.serve("attribution", settings.greenai_home, settings.worker_id)

    sys.argv = [sys.argv[0], "worker"]
    faust.Worker(app, loglevel="WARNING").execute_from_commandline()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_worker(
    urls: Any, home: Path, recon: Recon, data: list[bytes], labels: int, argv: list[str]
) -> dict[str, Any]:
    from greenai.localstack import ProcessGroup
    from streams.database import migrate, save_recon
    from streams.kafka import SafeProducer, group_lag
    from streams.topics import Topics, ensure_topics
    from streams.urls import with_schema

    tag = f"bench_{uuid.uuid4().hex[:8]}"
    env = {
        **urls.as_env(),
        "DATABASE_URL": with_schema(urls.database_url, tag),
        "GREENAI_HOME": str(home / tag),
        "GREENAI_TOPIC_PREFIX": tag,
        "GREENAI_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    migrate(with_schema(urls.database_owner(), tag), app_role=urls.database_app_role)
    save_recon(env["DATABASE_URL"], recon)
    ensure_topics(urls.kafka_bootstrap_servers, tag)
    topics, group_name = Topics(tag), f"{tag}-attribution"
    if labels:
        _publish_labels(env, recon, labels)
    group = ProcessGroup(home / tag / "logs")
    try:
        group.start("worker", argv, env)
        announced = home / tag / "metrics" / "attribution-1.json"  # streams.metrics.serve
        _wait(announced.exists, 120, "the worker to start")
        producer = SafeProducer(urls.kafka_bootstrap_servers)
        for i, value in enumerate(data[:1000]):  # warm-up: joins the group, fills HST
            producer.send(topics.breaks, f"w-{i}".encode(), value)
        producer.flush()
        _wait(lambda: _lag(group_lag, urls, group_name, topics) == 0, 120, "warm-up")
        cpu0, started = _cpu_seconds(group.pids["worker"]), time.perf_counter()
        for i, value in enumerate(data):
            producer.send(topics.breaks, f"b-{i}".encode(), value)
        producer.flush()
        _wait(lambda: _lag(group_lag, urls, group_name, topics) == 0, 900, "the worker")
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(group.pids["worker"]) - cpu0
    finally:
        group.stop_all()
    return {
        "seconds": round(seconds, 2),
        "breaks_per_s": round(len(data) / seconds),
        "worker_cpu_seconds": round(cpu, 2),
        "breaks_per_worker_cpu_s": round(len(data) / cpu) if cpu else None,
    }


def _lag(group_lag: Callable[..., int], urls: Any, group: str, topics: Any) -> int:
    try:
        return int(group_lag(urls.kafka_bootstrap_servers, group, [topics.breaks]))
    except Exception:  # the group has not committed yet
        return -1


def _publish_labels(env: dict[str, str], recon: Recon, labels: int) -> None:
    """Labels through the feedback topic, as analysts give them (the worker learns them)."""
    from streams.feedback import event_key, feedback_codec, label_event
    from streams.kafka import SafeProducer
    from streams.topics import Topics

    producer = SafeProducer(env["KAFKA_BOOTSTRAP_SERVERS"])
    fb = feedback_codec()
    for i, lb in enumerate(labelled_breaks(recon, labels, seed=1)):
        brk = lb.brk | {"break_id": f"l-{i}"}
        event = label_event(
            brk, recon.source_names, recon.fx_rates, lb.cause, analyst="bench", origin="bench"
        )
        producer.send(
            Topics(env["GREENAI_TOPIC_PREFIX"]).feedback, event_key(event), fb.encode(event)
        )
    producer.flush()


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.2)


def run(
    breaks: int = 5000,
    labels: int = 300,
    repeat: int = 5,
    through_worker_breaks: int | None = None,
    servers: Any | None = None,
) -> dict[str, Any]:
    """The attribution benchmark. ``through_worker_breaks`` adds the real-worker figure (on
    ``servers`` when given: then 20,000 breaks unless said otherwise)."""
    result: dict[str, Any] = {
        "name": "attribution",
        "target_breaks_per_s": TARGET,
        "cpus": os.cpu_count(),
        "pure": pure(breaks, labels, repeat),
    }
    if servers is not None and through_worker_breaks is None:
        through_worker_breaks = 20000
    if through_worker_breaks:
        result["worker"] = through_worker(through_worker_breaks, labels, servers)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attribution")
    parser.add_argument("--breaks", type=int, default=5000)
    parser.add_argument("--labels", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--worker",
        type=int,
        default=0,
        metavar="BREAKS",
        help="also time a real Faust worker on this many breaks",
    )
    args = parser.parse_args()
    print(json.dumps(run(args.breaks, args.labels, args.repeat, args.worker or None), indent=2))


if __name__ == "__main__":
    main()
