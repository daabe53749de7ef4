"""The store a `MINQING_DATABASE_URL` names: `sqlite:///…` (embedded) or `postgresql://…`."""

from __future__ import annotations

from urllib.parse import urlsplit

from adapters import postgres, sqlite
from adapters.postgres import Pool

__all__ = ["Pool", "event_store_env", "probe"]


def event_store_env(database_url: str, pool: Pool | None = None) -> dict[str, str]:
    """The eventsourcing environment for a `sqlite:///…` or `postgresql://…` URL (its
    `PERSISTENCE_MODULE` is the store's factory, which also makes the side tables'
    ports); on PostgreSQL with `pool`'s sizes (default: an API process's)."""
    scheme = urlsplit(database_url).scheme
    if scheme == "sqlite":
        return sqlite.env(database_url)
    if scheme in ("postgresql", "postgres"):
        return postgres.env(database_url, pool)
    msg = f"MINQING_DATABASE_URL: unsupported scheme {scheme!r} (use sqlite or postgresql)"
    raise ValueError(msg)


def probe(database_url: str) -> None:
    """Connect once to the database the URL names, and hang up: raises when a server does
    not answer (nothing to do for an embedded file)."""
    if urlsplit(database_url).scheme in ("postgresql", "postgres"):
        postgres.probe_env(postgres.env(database_url))
