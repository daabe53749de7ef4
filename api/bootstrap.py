"""Opening the application from settings, and the first-start admin token."""

from __future__ import annotations

import os
import sys

from api.settings import Settings
from domain.application import Clock, Minqing
from domain.audit import install_guards
from domain.residents import load_master_key
from domain.store import event_store_env
from domain.vocabulary import Role


def open_minqing(
    settings: Settings, *, first_start: bool = False, clock: Clock | None = None
) -> Minqing:
    """The Minqing application on the configured store (tables created if missing); with
    `clock`, a test's clock instead of the wall clock."""
    key = load_master_key(settings.master_key, settings.master_key_file, create=settings.embedded)
    app = Minqing(
        event_store_env(settings.database_url),
        master_key=key,
        clock=clock,
        timezone=settings.timezone,
    )
    install_guards(app.db)  # audit tables; on PostgreSQL, the append-only triggers
    if first_start and settings.embedded:
        ensure_admin(app, settings)
    return app


def ensure_admin(app: Minqing, settings: Settings) -> None:
    """On an empty embedded store, make an admin and write its token to a private file."""
    if app.accounts.count() > 0:
        return
    admin = app.accounts.add("admin", [Role.ADMIN, Role.STAFF])
    _, token = app.accounts.issue_token(admin.id, label="first start")
    path = settings.admin_token_file
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    # The location only: a token must never appear in a log line.
    print(f"minqing: created principal 'admin'; its token is in {path}", file=sys.stderr)
