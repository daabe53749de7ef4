"""The request a command came in: its id, and who made it, for the structured log and for
tying the events it recorded to it.

The API sets `CURRENT` for each request (api/observe.py); the save path reads it and writes
one `RequestEventRow` per event in the events' transaction (`MinqingBase.save`), so a
supervisor can go from a log line to the events and back. Commands run outside a request
(the workers, the command line) record none.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from application.ports import RequestEventRow

# What an X-Request-ID may be: the characters of UUIDs, trace ids and the like, at most 128.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=+-]{0,127}")


@dataclass
class RequestContext:
    """One request: its id, and the principal once authenticated (set by the dependency,
    which runs in a copy of the context: hence a mutable object, not a variable of its own)."""

    request_id: str
    principal_id: str | None = None


CURRENT: ContextVar[RequestContext | None] = ContextVar("minqing_request", default=None)


def valid_request_id(value: str | None) -> bool:
    """Whether a caller's X-Request-ID may be used as it is."""
    return value is not None and VALID_REQUEST_ID.fullmatch(value) is not None


def note_principal(principal_id: str) -> None:
    """Remember who the current request is from (for its log line)."""
    context = CURRENT.get()
    if context is not None:
        context.principal_id = principal_id


def rows_for(objs: tuple[Any, ...]) -> list[RequestEventRow]:
    """A row per pending event of `objs` naming the current request (none outside one)."""
    context = CURRENT.get()
    if context is None:
        return []
    rows = []
    for obj in objs:
        events = getattr(obj, "pending_events", None)
        for event in events if events is not None else [obj] if obj is not None else []:
            rows.append(
                RequestEventRow(
                    aggregate_id=str(event.originator_id),
                    version=int(event.originator_version),
                    request_id=context.request_id,
                )
            )
    return rows
