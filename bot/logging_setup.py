"""Structured logs: one JSON object per line on stderr, each carrying the request id.

The request id lives in `pipeline.dispatch.REQUEST_ID` (a contextvar): the server binds it
per HTTP request (from an ``X-Request-Id`` header, or a new one), step jobs carry it to the
workers, and workers bind it again, so one id follows a request across processes.

Every record is redacted on its way out, ours and third-party ones alike (asyncssh logs each
command it opens a channel for): a `RedactingFilter` on the root handler replaces the
record's message (arguments merged in), its traceback and its extra fields with what the
app's one `Redactor` leaves of them. `use_redactor` hands that filter the app's redactor
(with the configured secrets) once the app is built.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from pipeline.dispatch import current_request_id
from pipeline.redaction import Redactor

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "msg", "request_id", "role", "pid", ...extra}` per record."""

    def __init__(self, role: str) -> None:
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or current_request_id(),
            "role": self.role,
            "pid": os.getpid(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD and k not in entry})
        if record.exc_info or record.exc_text:
            entry["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactingFilter(logging.Filter):
    """Redacts each record in place: message with its arguments, traceback, extra fields."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor.redact_text
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format: keep both, as text
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD:
                record.__dict__[key] = self.redactor.redact(value)
        return True


def use_redactor(redactor: Redactor) -> None:
    """Redact every log record with `redactor` from now on (the app's, with its secrets)."""
    handlers = [*logging.getLogger().handlers, *([logging.lastResort] if logging.lastResort else [])]
    for handler in handlers:
        for found in handler.filters:
            if isinstance(found, RedactingFilter):
                found.redactor = redactor
                break
        else:
            handler.addFilter(RedactingFilter(redactor))


def configure_logging(role: str, level: str = "INFO", redactor: Redactor | None = None) -> None:
    """Route every logger to one JSON stream on stderr, redacted (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(role))
    handler.addFilter(RedactingFilter(redactor or Redactor()))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
