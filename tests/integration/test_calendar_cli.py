"""`minqing calendar` on SQLite and PostgreSQL: show a year, mark a day as an admin (an event
the API then shows), refuse a principal that is not an admin."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from api.cli import main as cli_main


def test_show_and_set_a_day(
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_ADMIN_TOKEN_FILE", str(tmp_path / "admin-token"))
    assert cli_main(["db", "init"]) == 0
    assert cli_main(["users", "add", "root", "--role", "admin"]) == 0
    assert cli_main(["users", "add", "clerk", "--role", "staff"]) == 0
    capsys.readouterr()

    assert cli_main(["calendar", "show", "2027"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["source"] == "weekdays"
    assert "2027" in shown["note"]

    assert (
        cli_main(["calendar", "set", "2027-02-08", "holiday", "--name", "春节", "--user", "root"])
        == 0
    )
    assert "holiday" in capsys.readouterr().out
    assert cli_main(["calendar", "show", "2027"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["days"] == [
        {"date": "2027-02-08", "kind": "holiday", "name": "春节", "weekday": 1}
    ]
    assert shown["version"] == 2

    assert cli_main(["calendar", "set", "2027-02-09", "holiday", "--user", "clerk"]) == 1
    assert "admin" in capsys.readouterr().err
