"""How every greenai process logs: one JSON object per line, one schema — or readable text
on a terminal (structlog, with the standard library's loggers routed through it).

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``process``,
and where known ``recon``, ``break_id``, ``request_id`` (:func:`bound`, context variables, so
they follow a request or a batch through ``await``), ``trace_id`` and ``span_id`` (the current
OpenTelemetry span), and ``exception`` for a failure. Libraries log through the same handler;
Faust's and aiokafka's tables of partitions and offsets (drawn over many lines) go to debug.

>>> import io, json, logging
>>> out = io.StringIO()
>>> _ = configure("diff", "INFO", stream=out, json_lines=True)
>>> with bound(recon="trades"):
...     logging.getLogger("streams.diff").info("window of %d keys ran out", 3)
>>> line = json.loads(out.getvalue())
>>> line["message"], line["level"], line["process"], line["recon"], line["logger"]
('window of 3 keys ran out', 'info', 'diff', 'trades', 'streams.diff')
"""

from __future__ import annotations

import logging
import logging.config
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import IO, Any

import structlog
from opentelemetry import trace

TABLE_MARKS = ("┌", "│", "+---", "|")  # the first characters of a drawn table's lines
QUIET = ("faust", "mode", "aiokafka", "kafka", "uvicorn.access", "httpx", "httpcore")


def _trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event.setdefault("trace_id", format(span.trace_id, "032x"))
        event.setdefault("span_id", format(span.span_id, "016x"))
    return event


def _no_colours(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    return event


def _process(name: str) -> structlog.typing.Processor:
    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("process", name)
        return event

    return add


class TablesToDebug(logging.Filter):
    """A library's multi-line table (Faust's offsets at every rebalance, its start-up
    banner) is detail: demoted to debug, dropped unless debug is on."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(QUIET) and "\n" in str(record.msg):
            text = str(record.msg).lstrip()
            if text.startswith(TABLE_MARKS) or "\n+" in text or "\n│" in text:
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
                return self.level <= logging.DEBUG
        return True


def dict_config(
    process: str, level: str, *, stream: IO[str] | None = None, json_lines: bool | None = None
) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a process (Faust's worker takes it as is)."""
    out = stream or sys.stderr
    as_json = json_lines if json_lines is not None else not _is_terminal(out)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        _process(process),
        _trace_ids,
        structlog.stdlib.ExtraAdder(),
        _no_colours,
    ]
    render: list[structlog.typing.Processor] = [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.EventRenamer("message"),
    ]
    if as_json:
        # a failure's traceback as text (never its frames' locals: they may hold secrets)
        render += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        render += [_message_as_event, structlog.dev.ConsoleRenderer(colors=False)]
    number = logging.getLevelName(level.upper())
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "greenai": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": render,
                "foreign_pre_chain": shared,
            }
        },
        "filters": {"tables": {"()": TablesToDebug, "level": number}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": out,
                "formatter": "greenai",
                "filters": ["tables"],
            }
        },
        "root": {"level": number, "handlers": ["default"]},
        # every request is timed in the metrics; a log line each is noise (health checks!),
        # and a command's own HTTP calls are not its output
        "loggers": {name: {"level": "WARNING"} for name in ("uvicorn.access", "httpx", "httpcore")},
    }


def _message_as_event(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event["event"] = event.pop("message", "")  # ConsoleRenderer shows "event" first
    return event


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def configure(
    process: str,
    level: str = "INFO",
    *,
    stream: IO[str] | None = None,
    json_lines: bool | None = None,
) -> dict[str, Any]:
    """Route every log record of this process through the greenai format; returns the
    configuration (for Faust's worker, which installs its own at start)."""
    config = dict_config(process, level, stream=stream, json_lines=json_lines)
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # a library's deprecation warning is a line like the others
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    return config


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (recon, break_id, request_id, ...) to every line logged inside."""
    tokens = structlog.contextvars.bind_contextvars(**fields)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
