"""Structured logs: one JSON object per line on standard error, for every logger, from
`minqing serve` (`log_config`, uvicorn's too) and from `minqing worker …` (`configure`).

Each line has `time` (UTC, ISO 8601), `level`, `logger` and `message`; a request's line
(logger `minqing.request`, written by api/observe.py) adds `request_id`, `principal_id`,
`method`, `route` (the template, never the path: a path may hold a tracking code), `status`
and `duration_ms`; a line logged while a request is served carries its `request_id` too. No
line carries a resident's data, a tracking code, a query string or a client's address.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from application.requests import CURRENT

# The fields a log call may add with `extra=` (the request line's), in the order written.
FIELDS = ("request_id", "principal_id", "method", "route", "status", "duration_ms")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's time, level, logger, message, request fields and any traceback."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = CURRENT.get()
        if context is not None:
            line["request_id"] = context.request_id
        for name in FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `minqing serve` (uvicorn's `log_config`): JSON for
    every logger, uvicorn's own access lines off (api/observe.py writes one per request)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def configure(level: int = logging.INFO) -> None:
    """JSON lines on standard error for this process (a worker, a one-off command), unless
    logging was set up already."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler])
