"""The backup drill, on SQLite and on a real PostgreSQL, through the `minqing` command: load
the worked story, build every read model and sign a checkpoint; `minqing backup PATH`;
`minqing restore PATH` into an empty database; then `minqing audit verify` passes there, every
read model rebuilds to the same rows, and residents' data opens with the same master key."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.store import event_store_env
from api.cli import main
from application.minqing import Minqing
from projections.registry import all_projections
from tests.conftest import BACKENDS, _database

KEY = os.urandom(32)


@pytest.fixture(params=BACKENDS)
def live_and_empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two databases on one backend: the service's, and an empty one to restore into."""
    (tmp_path / "live").mkdir()
    (tmp_path / "empty").mkdir()
    for live in _database(request.param, request, tmp_path / "live"):
        for empty in _database(request.param, request, tmp_path / "empty"):
            yield live, empty


def minqing(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    """`minqing ARGV` on the database `url`, as an operator would run it."""
    monkeypatch.setenv("MINQING_DATABASE_URL", url)
    return main(list(argv))


def read_models(url: str) -> dict[str, list[str]]:
    """Every row of every read model's tables, in a stable order."""
    app = Minqing(event_store_env(url), master_key=KEY)
    try:
        return {
            t.name: sorted(
                json.dumps(dict(r), sort_keys=True, default=str)
                for r in app.db.fetchall(f"SELECT * FROM {t.name}")  # noqa: S608
            )
            for p in all_projections()
            for t in p.tables
        }
    finally:
        app.close()


def residents_names(url: str) -> list[Any]:
    app = Minqing(event_store_env(url), master_key=KEY)
    try:
        concern = app.concern_by_reference("MQ-2026-000001")
        assert concern.resident_ref is not None
        assert concern.resident_data is not None
        opened = app.keyring.open(concern.resident_ref, concern.resident_data)
        assert opened is not None
        return [opened.name]
    finally:
        app.close()


def test_a_backup_restores_into_an_empty_database_verifies_and_rebuilds_alike(
    live_and_empty: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    live, empty = live_and_empty
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(KEY).decode())
    monkeypatch.setenv("MINQING_AUDIT_SIGNING_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("MINQING_ADMIN_TOKEN_FILE", str(tmp_path / "admin-token"))
    assert minqing(monkeypatch, live, "demo") == 0
    assert minqing(monkeypatch, live, "projections", "rebuild") == 0
    assert minqing(monkeypatch, live, "audit", "checkpoint") == 0
    before = read_models(live)
    assert sum(map(len, before.values())) > 50

    saved = tmp_path / "minqing.backup"
    assert minqing(monkeypatch, live, "backup", str(saved)) == 0
    assert saved.stat().st_mode & 0o077 == 0  # it holds residents' wrapped keys
    assert minqing(monkeypatch, live, "backup", str(saved)) == 1  # never over a file
    capsys.readouterr()

    assert minqing(monkeypatch, empty, "restore", str(saved)) == 0
    assert "minqing: restored" in capsys.readouterr().out
    assert minqing(monkeypatch, empty, "audit", "verify") == 0
    verified = json.loads(capsys.readouterr().out)
    assert verified["ok"] is True
    assert verified["checked"] > 50
    assert minqing(monkeypatch, empty, "projections", "rebuild") == 0
    assert read_models(empty) == before
    assert residents_names(empty) == residents_names(live)
    # Restoring again, over what is now there, is refused.
    capsys.readouterr()
    assert minqing(monkeypatch, empty, "restore", str(saved)) == 1
    assert "not empty" in capsys.readouterr().err


def test_a_missing_backup_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert minqing(monkeypatch, url, "restore", str(tmp_path / "nothing.backup")) == 1
    assert "nothing.backup: no such backup file" in capsys.readouterr().err
