"""The embedded store's files are the owner's only: var/ is made 700, the database and its
-wal/-shm files 600, like the key files beside them (SQLite only: PostgreSQL keeps its own)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from application.bootstrap import open_minqing
from application.settings import Settings
from tests.integration.support import STAFF


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_first_start_makes_var_700_and_the_database_and_its_journals_600(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)  # the usual umask, which would give 755 and 644
    try:
        var = tmp_path / "var"
        settings = Settings(
            database_url=f"sqlite:///{var / 'minqing.db'}",
            master_key_file=var / "master.key",
            admin_token_file=var / "admin-token",
            audit_signing_key_file=var / "audit-signing.key",
        )
        app = open_minqing(settings, first_start=True)
        try:
            app.register_member(STAFF, "王芳", ["2"], [], True)  # a write: the WAL is used
            files = sorted(p.name for p in var.iterdir())
            assert _mode(var) == 0o700
            for name in files:
                assert _mode(var / name) == 0o600, (name, oct(_mode(var / name)))
            assert "minqing.db" in files
            assert "master.key" in files
        finally:
            app.close()
    finally:
        os.umask(old)


@pytest.mark.parametrize("journal", ["-wal", "-shm"])
def test_sqlite_gives_its_journal_files_the_databases_mode(tmp_path: Path, journal: str) -> None:
    old = os.umask(0o022)
    try:
        key = base64.b64encode(os.urandom(32)).decode()
        settings = Settings(database_url=f"sqlite:///{tmp_path / 'db' / 'm.db'}", master_key=key)
        app = open_minqing(settings)
        try:
            app.register_member(STAFF, "王芳", ["2"], [], True)
            found = tmp_path / "db" / f"m.db{journal}"
            if not found.exists():
                pytest.skip(f"this SQLite keeps no {journal} file open here")
            assert _mode(found) == 0o600
        finally:
            app.close()
    finally:
        os.umask(old)
