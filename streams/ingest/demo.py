"""``python -m streams.ingest.demo``: the live synthetic feed of ``greenai up --demo``.

Publishes trades of the demo recon from both sources at a steady rate, with breaks of every
cause, and later corrects some of them so breaks also resolve live.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque

from streams import logs, metrics, tracing
from streams.database import load_recon
from streams.ingest.files import RawRow
from streams.ingest.publisher import SourcePublisher
from streams.ingest.synthetic import TradeGenerator, TradePair
from streams.kafka import SafeProducer
from streams.settings import load_settings
from streams.topics import Topics

log = logging.getLogger("greenai.demo")
TRADES_PER_SECOND = 4.0
CORRECT_AFTER_SECONDS = 45.0
CORRECTED_SHARE = 0.3


def main() -> None:
    logs.configure("demo-feed", "INFO")
    tracing.configure("demo-feed")
    settings = load_settings()
    metrics.serve("demo-feed", settings.greenai_home)  # the ingest metrics of a connector
    recon = load_recon(settings.database(), "trades")
    producer = SafeProducer(settings.kafka())
    topics = Topics(settings.topic_prefix)
    ledger = SourcePublisher(producer, topics, recon, "ledger")
    custody = SourcePublisher(producer, topics, recon, "custody")
    generator = TradeGenerator(seed=int(time.time()), break_rate=0.25)
    rng = random.Random()
    to_correct: deque[tuple[float, TradePair]] = deque()
    n = 0
    while True:
        pair = generator.pair()
        for row in pair.ledger:
            ledger.publish(RawRow(f"demo-ledger:{n}", row))
        for row in pair.custody:
            custody.publish(RawRow(f"demo-custody:{n}", row))
        if pair.cause and rng.random() < CORRECTED_SHARE:
            to_correct.append((time.monotonic() + CORRECT_AFTER_SECONDS, pair))
        while to_correct and to_correct[0][0] <= time.monotonic():
            fixed = generator.correction(to_correct.popleft()[1])
            if fixed:
                custody.publish(RawRow(f"demo-correction:{n}", fixed))
        n += 1
        producer.flush()  # a live feed: each trade's batches go out now
        if n % 20 == 0:
            log.info("published %d trades", n)
        time.sleep(1 / TRADES_PER_SECOND)


if __name__ == "__main__":
    main()
