"""Traces: OpenTelemetry spans along a record's way — ingest, diff, attribution, the sink,
the SSE fan-out — with the context carried from process to process in Kafka message headers
(and in the Redis fan-out message) as W3C ``traceparent``.

A process exports its spans over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) names a collector — Jaeger under ``greenai up
--observability`` — and costs next to nothing otherwise (OpenTelemetry's no-op tracer). The
standard ``OTEL_*`` variables apply: ``OTEL_TRACES_SAMPLER=parentbased_traceidratio`` with
``OTEL_TRACES_SAMPLER_ARG=0.01`` keeps one trace in a hundred, say. Service names are
``greenai-<process>``.

>>> from opentelemetry.sdk.trace import TracerProvider
>>> provider = TracerProvider()
>>> with provider.get_tracer("doc").start_as_current_span("publish") as span:
...     carried = headers()
>>> [name for name, _ in carried]
['traceparent']
>>> trace.get_current_span(context_of(carried)).get_span_context().trace_id == (
...     span.get_span_context().trace_id)
True
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

Headers = list[tuple[str, bytes]]  # as aiokafka and confluent-kafka take them


def exporting() -> bool:
    """Whether this process was told where to send its spans."""
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure(process: str) -> None:
    """Send this process's spans over OTLP/HTTP, if a collector is named."""
    if not exporting():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": f"greenai-{process}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)  # what is batched goes out when the process ends


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def headers() -> Headers:
    """The current trace context as Kafka message headers (none outside a span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(k, v.encode()) for k, v in carrier.items()]


def context_of(found: Iterable[tuple[str, Any]] | Mapping[str, Any] | None) -> Context:
    """The trace context a message carried (its headers), for the span that handles it."""
    pairs = found.items() if isinstance(found, Mapping) else (found or ())
    carrier = {
        str(k): v.decode("latin-1") if isinstance(v, bytes) else str(v)
        for k, v in pairs
        if v is not None
    }
    return propagate.extract(carrier)
