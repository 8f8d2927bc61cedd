"""Structured logs: one JSON object per line on stderr, each carrying the request id.

The request id lives in `pipeline.dispatch.REQUEST_ID` (a contextvar): the server binds it
per HTTP request (from an ``X-Request-Id`` header, or a new one), step jobs carry it to the
workers, and workers bind it again, so one id follows a request across processes.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from pipeline.dispatch import current_request_id

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
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(role: str, level: str = "INFO") -> None:
    """Route every logger to one JSON stream on stderr (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(role))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
