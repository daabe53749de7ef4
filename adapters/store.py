"""The store a `MINQING_DATABASE_URL` names: `sqlite:///…` (embedded) or `postgresql://…`."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

from adapters import postgres, sqlite
from adapters.postgres import Pool

__all__ = ["Pool", "backup", "event_store_env", "probe", "restore"]

# Each store's module: its `env(url, pool)` and `probe(url)`.
_STORES: dict[str, ModuleType] = {"sqlite": sqlite, "postgresql": postgres, "postgres": postgres}


def _store(database_url: str) -> ModuleType:
    scheme = urlsplit(database_url).scheme
    if scheme not in _STORES:
        msg = f"MINQING_DATABASE_URL: unsupported scheme {scheme!r} (use sqlite or postgresql)"
        raise ValueError(msg)
    return _STORES[scheme]


def event_store_env(database_url: str, pool: Pool | None = None) -> dict[str, str]:
    """The eventsourcing environment for a `sqlite:///…` or `postgresql://…` URL (its
    `PERSISTENCE_MODULE` is the store's factory, which also makes the side tables'
    ports); on PostgreSQL with `pool`'s sizes (default: an API process's)."""
    env: dict[str, str] = _store(database_url).env(database_url, pool)
    return env


def probe(database_url: str) -> None:
    """Connect once to the database the URL names, and hang up: raises when a server does
    not answer (nothing to do for an embedded file)."""
    _store(database_url).probe(database_url)


def backup(database_url: str, target: Path) -> None:
    """A consistent copy of the database into the new file `target`, taken while the service
    runs (SQLite's online backup; PostgreSQL's pg_dump, custom format). The keys are not in
    it: the master key and the audit signing key are kept apart."""
    if target.exists():
        msg = f"{target} exists: a backup never overwrites a file"
        raise ValueError(msg)
    _store(database_url).backup(database_url, target)


def restore(source: Path, database_url: str) -> None:
    """Load a backup made by `backup` into the empty database the URL names."""
    if not source.is_file():
        msg = f"{source}: no such backup file"
        raise ValueError(msg)
    _store(database_url).restore(source, database_url)
