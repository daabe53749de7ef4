"""The peer of bench/commands.py: a minimal FastAPI + eventsourcing service written the
obvious way, to compare Minqing's command path with.

One aggregate whose created event holds a few text fields like a concern; `POST /concerns`
builds it and saves it with `Application.save` in a sync `def` endpoint (FastAPI runs it in
its thread pool) and answers 201 with the id. Persistence is eventsourcing's PostgreSQL module
with its default settings (the table-lock insert path, no database functions, a pool of 5 + 10
connections), configured by the environment as eventsourcing documents it:

    PERSISTENCE_MODULE=eventsourcing.postgres POSTGRES_DBNAME=… POSTGRES_HOST=127.0.0.1 \
    POSTGRES_PORT=5432 POSTGRES_USER=postgres POSTGRES_PASSWORD= \
    .venv/bin/python -m uvicorn --app-dir bench peer:app --port 8001

bench/commands.py starts it like that on a free loopback port. Not part of Minqing.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from pydantic import BaseModel


class Concern(Aggregate):
    """A resident's concern, as a newcomer to event sourcing would model it."""

    @event("Raised")
    def __init__(
        self, title: str, description: str, category: str, library: str, channel: str, grid: str
    ) -> None:
        self.title = title
        self.description = description
        self.category = category
        self.library = library
        self.channel = channel
        self.grid = grid


class Concerns(Application[UUID]):
    """The event-sourced application; its tables are created on first start."""


class NewConcern(BaseModel):
    title: str
    description: str
    category: str
    library: str
    channel: str
    grid: str


# Created at import, once per process: uvicorn imports this module in the process it serves.
concerns = Concerns()
app = FastAPI(title="peer")


@app.post("/concerns", status_code=201)
def raise_concern(body: NewConcern) -> dict[str, str]:
    """Raise a concern: one aggregate, one event, one transaction."""
    concern = Concern(**body.model_dump())
    concerns.save(concern)
    return {"id": str(concern.id)}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (the bench waits for this before loading it)."""
    return {"status": "ok"}
