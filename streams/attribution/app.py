"""The attribution worker: Faust agent from greenai.breaks to greenai.breaks.attributed."""

from __future__ import annotations

import asyncio
import logging

import faust

from streams.attribution.discriminator import decide
from streams.attribution.features import extract
from streams.attribution.rules import attribute
from streams.avro import DecodeError, codec
from streams.settings import Settings
from streams.worker import ReconRegistry, dead_letter, make_app, topics

log = logging.getLogger(__name__)
BREAK = codec("Break")


def create_app(settings: Settings) -> faust.App:
    names = topics(settings)
    app = make_app(settings, "attribution")
    breaks = app.topic(names.breaks, key_type=bytes, value_type=bytes)
    attributed = app.topic(names.attributed, key_type=bytes, value_type=bytes)
    dead_topic = app.topic(names.deadletter, key_type=bytes, value_type=bytes)
    recons = ReconRegistry(settings.database())

    @app.agent(breaks)
    async def attribution(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            where = f"{message.topic}/{message.partition}@{message.offset}"
            try:
                brk = BREAK.decode(event.value)
            except DecodeError as exc:
                await dead_letter(
                    dead_topic,
                    recon="",
                    source="",
                    location=where,
                    raw=event.value,
                    reason=str(exc),
                    stage="attribution",
                )
                continue
            recon = recons.get(brk["recon"])
            sources = recon.source_names if recon else sorted(brk["records"])
            features = extract(brk, sources)
            found = attribute(features, recon.fx_rates if recon else None)
            decision = decide(features, found.cause, found.confidence)
            brk |= {
                "cause": found.cause,
                "confidence": found.confidence,
                "explanation": [e.__dict__ for e in found.explanation],
                "disposition": decision.disposition,
                "priority": decision.priority,
            }
            await attributed.send(key=event.key, value=BREAK.encode(brk))

    @app.timer(interval=2.0)
    async def reload_recons() -> None:
        await asyncio.to_thread(recons.refresh)

    return app
