"""Tamper evidence on both stores: the hash chain, signed checkpoints, triggers, bundles.

Each test tampers the way someone with the database's credentials could: plain SQL on the
stored rows (on PostgreSQL after disabling the triggers, as the table's owner can). The
verifier must then name exactly the event that was changed or removed.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import audit
from api.cli import main
from application.minqing import Minqing
from application.residents import erase_personal_data
from tests.integration.support import (
    RESIDENT,
    STAFF,
    TITLE,
    assigned_concern,
    draft,
    events_table,
    is_postgres,
    open_app,
    run_together,
)


@pytest.fixture
def app(minqing: Minqing) -> Minqing:
    """The application with its audit tables and guards, and a short history."""
    audit.install_guards(minqing.db)
    assigned_concern(minqing)
    for _ in range(3):
        minqing.raise_concern(STAFF, draft())
    return minqing


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def sql(database_url: str) -> Iterator[Any]:
    """Run one statement with parameters on a connection of its own, as an intruder would."""
    url = database_url
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:

            def pg(statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
                cur = conn.execute(statement.replace("?", "%s"), params)
                return list(cur.fetchall()) if cur.description else []

            yield pg
        return
    lite = sqlite3.connect(unquote(urlsplit(url).path)[1:])
    lite.isolation_level = None

    def sqlite(statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return list(lite.execute(statement, params).fetchall())

    try:
        yield sqlite
    finally:
        lite.close()


def _position(app: Minqing) -> str:
    return "notification_id" if app.db.dialect == "postgres" else "rowid"


def _lift_guards(app: Minqing, sql: Any) -> None:
    # What the table's owner can always do; the checkpoint is what survives this.
    if app.db.dialect == "postgres":
        for table in (events_table("postgres"), audit.CHAIN_TABLE):
            sql(f"ALTER TABLE {table} DISABLE TRIGGER ALL")


def _stored(app: Minqing, sql: Any, position: int) -> tuple[UUID, int, bytes]:
    rows = sql(
        f"SELECT originator_id, originator_version, state FROM {app.db.events_table}"  # noqa: S608
        f" WHERE {_position(app)} = ?",
        (position,),
    )
    ident, version, state = rows[0]
    return UUID(str(ident)), int(version), bytes(state)


def _change_state(app: Minqing, sql: Any, position: int) -> tuple[UUID, int]:
    ident, version, state = _stored(app, sql, position)
    assert TITLE.encode() in state
    forged = state.replace(TITLE.encode(), "路灯已修好，无需处理".encode())
    sql(
        f"UPDATE {app.db.events_table} SET state = ? WHERE {_position(app)} = ?",  # noqa: S608
        (forged, position),
    )
    return ident, version


def _raise_position(app: Minqing) -> int:
    """The log position of a concern's first event (it holds the title)."""
    cid = app.raise_concern(STAFF, draft()).id
    position = app.db.position_of(cid, 1)
    assert position is not None
    app.raise_concern(STAFF, draft())
    return position


def test_an_untouched_log_verifies_with_every_event_checked(app: Minqing) -> None:
    report = audit.verify(app.db)
    head = app.recorder.max_notification_id()
    assert report.ok, report.as_dict()
    assert report.checked == head
    assert report.head is not None
    assert report.head.position == head


def test_extending_the_chain_is_incremental_and_idempotent(app: Minqing) -> None:
    first = audit.extend_chain(app.db)
    assert first == app.recorder.max_notification_id()
    assert audit.extend_chain(app.db) == 0
    app.raise_concern(STAFF, draft())
    assert audit.extend_chain(app.db, batch=2) == 3  # a concern and its two index claims
    assert audit.extend_chain(app.db) == 0
    assert audit.chain_head(app.db).position == app.recorder.max_notification_id()


def test_concurrent_extenders_chain_each_position_exactly_once(
    app: Minqing, database_url: str, master_key: bytes
) -> None:
    others = [open_app(database_url, master_key) for _ in range(4)]
    try:
        outcomes = run_together([partial(audit.extend_chain, a.db, 3) for a in others])
    finally:
        for other in others:
            other.close()
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    assert sum(o.value or 0 for o in outcomes) == app.recorder.max_notification_id()
    assert audit.verify(app.db).ok


def test_changing_one_stored_event_is_reported_as_exactly_that_event(
    app: Minqing, sql: Any
) -> None:
    position = _raise_position(app)
    audit.extend_chain(app.db)
    _lift_guards(app, sql)
    ident, version = _change_state(app, sql, position)

    report = audit.verify(app.db)

    assert not report.ok
    problem = report.first_problem
    assert problem is not None
    assert (problem.kind, problem.position) == ("changed", position)
    assert (problem.aggregate_id, problem.version) == (str(ident), version)
    assert report.checked == position - 1


def test_deleting_one_event_is_reported_as_the_gap_it_leaves(app: Minqing, sql: Any) -> None:
    position = _raise_position(app)
    audit.extend_chain(app.db)
    ident, version, _ = _stored(app, sql, position)
    _lift_guards(app, sql)
    sql(f"DELETE FROM {app.db.events_table} WHERE {_position(app)} = ?", (position,))  # noqa: S608

    problem = audit.verify(app.db).first_problem

    assert problem is not None
    assert (problem.kind, problem.position) == ("missing", position)
    assert (problem.aggregate_id, problem.version) == (str(ident), version)


def test_rewriting_the_chain_to_match_a_changed_event_is_caught_by_the_checkpoint(
    app: Minqing, sql: Any, key: Ed25519PrivateKey
) -> None:
    position = _raise_position(app)
    signed = audit.make_checkpoint(app.db, key)
    _lift_guards(app, sql)
    _change_state(app, sql, position)
    # The intruder recomputes the whole recorded chain from the forged events.
    sql(f"DELETE FROM {audit.CHAIN_TABLE}")  # noqa: S608
    audit.extend_chain(app.db)

    problem = audit.verify(app.db, audit.public_key_b64(key)).first_problem

    assert problem is not None
    assert problem.kind == "checkpoint_mismatch"
    assert problem.position == signed.position
    assert problem.expected_link == signed.link


def test_removing_the_newest_events_is_caught_by_the_checkpoint(
    app: Minqing, sql: Any, key: Ed25519PrivateKey
) -> None:
    signed = audit.make_checkpoint(app.db, key)
    _lift_guards(app, sql)
    for table, column in ((app.db.events_table, _position(app)), (audit.CHAIN_TABLE, "position")):
        sql(f"DELETE FROM {table} WHERE {column} > ?", (signed.position - 2,))  # noqa: S608

    problem = audit.verify(app.db).first_problem

    assert problem is not None
    assert (problem.kind, problem.position) == ("truncated", signed.position)


def test_the_event_log_refuses_update_and_delete_on_postgres(app: Minqing, sql: Any) -> None:
    if app.db.dialect != "postgres":
        pytest.skip("triggers are PostgreSQL's; the embedded store relies on the chain alone")
    audit.install_guards(app.db)  # a second start changes nothing
    audit.extend_chain(app.db)
    table = app.db.events_table
    for statement in (
        f"UPDATE {table} SET state = state WHERE notification_id = 1",  # noqa: S608
        f"DELETE FROM {table} WHERE notification_id = 1",  # noqa: S608
        f"TRUNCATE {table}",
        f"UPDATE {audit.CHAIN_TABLE} SET link = link",  # noqa: S608
        f"DELETE FROM {audit.CHAIN_TABLE}",  # noqa: S608
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            sql(statement)
    assert audit.verify(app.db).ok


def test_checkpoints_are_signed_and_verify_with_the_public_key(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    cp = audit.make_checkpoint(app.db, key)

    public = key.public_key()
    public.verify(
        base64.b64decode(cp.signature), audit.checkpoint_message(cp.position, cp.link, cp.signed_at)
    )
    assert cp.public_key == audit.public_key_b64(key)
    assert cp.position == app.recorder.max_notification_id()
    assert audit.checkpoints(app.db) == [cp]
    report = audit.verify(app.db, audit.public_key_b64(key))
    assert report.ok
    assert report.checkpoints_checked == 1


def test_a_checkpoint_signed_by_another_key_is_refused_when_the_key_is_pinned(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    audit.make_checkpoint(app.db, Ed25519PrivateKey.generate())

    problem = audit.verify(app.db, audit.public_key_b64(key)).first_problem

    assert problem is not None
    assert problem.kind == "bad_signature"


def test_signing_key_is_made_once_in_its_file_and_refused_when_malformed(tmp_path: Path) -> None:
    path = tmp_path / "var" / "audit-signing.key"
    assert audit.load_signing_key(None, path, create=False) is None
    made = audit.load_signing_key(None, path, create=True)
    again = audit.load_signing_key(None, path, create=True)
    assert made is not None
    assert again is not None
    assert audit.public_key_b64(made) == audit.public_key_b64(again)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(ValueError, match="32 bytes"):
        audit.load_signing_key("c2hvcnQ=", None, create=False)


def _bundle(app: Minqing, key: Ed25519PrivateKey, **selection: Any) -> list[dict[str, Any]]:
    return audit.export_bundle(app.db, key=key, **selection)


def test_an_exported_range_verifies_offline_against_its_checkpoint(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    lines = _bundle(app, key, start=2, end=5)

    report = audit.verify_bundle(audit.write_bundle(lines), audit.public_key_b64(key))

    assert report.ok, report.as_dict()
    assert report.checked == 4
    assert report.anchored
    assert [x["position"] for x in lines if x["kind"] == "event"] == [2, 3, 4, 5]


def test_a_modified_line_of_a_bundle_is_named(app: Minqing, key: Ed25519PrivateKey) -> None:
    lines = _bundle(app, key, start=1, end=6)
    target = next(x for x in lines if x["kind"] == "event" and x["position"] == 4)
    state = base64.b64decode(target["state"]).replace(b'"', b"'", 1)
    target["state"] = base64.b64encode(state).decode()

    problem = audit.verify_bundle(audit.write_bundle(lines)).first_problem

    assert problem is not None
    assert (problem.kind, problem.position) == ("changed", 4)
    assert problem.aggregate_id == target["aggregate_id"]
    assert problem.version == target["version"]


def test_a_bundle_re_signed_with_another_key_fails_when_the_key_is_pinned(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    text = audit.write_bundle(_bundle(app, Ed25519PrivateKey.generate(), start=1, end=3))

    assert audit.verify_bundle(text).ok  # consistent in itself …
    problem = audit.verify_bundle(text, audit.public_key_b64(key)).first_problem
    assert problem is not None  # … but not signed by the office's key
    assert problem.kind == "bad_signature"


def test_a_concern_bundle_carries_that_concern_in_full_and_the_rest_as_digests(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    cid = UUID(app.raise_concern(STAFF, draft()).id)
    app.raise_concern(STAFF, draft())
    app.refer(cid, STAFF)

    lines = _bundle(app, key, concern=cid)

    events = [x for x in lines if x["kind"] == "event"]
    assert {x["aggregate_id"] for x in events} == {str(cid)}
    assert [x["version"] for x in events] == [1, 2]
    assert any(x["kind"] == "digest" for x in lines)
    assert "state" not in json.dumps([x for x in lines if x["kind"] == "digest"])
    report = audit.verify_bundle(audit.write_bundle(lines), audit.public_key_b64(key))
    assert report.ok, report.as_dict()
    assert report.checked == 2


def test_a_bundle_checks_against_checkpoints_kept_elsewhere(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    audit.make_checkpoint(app.db, key)
    kept = audit.read_kept_checkpoints(
        json.dumps(audit.checkpoints_export(audit.checkpoints(app.db), audit.public_key_b64(key)))
    )
    text = audit.write_bundle(_bundle(app, key, start=1, end=2))

    report = audit.verify_bundle(text, kept_checkpoints=kept)

    assert report.ok, report.as_dict()
    assert report.extra["key_pinned"] is True


def test_the_cli_exports_a_bundle_and_verifies_it_with_no_database(
    app: Minqing,
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    signing = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_AUDIT_SIGNING_KEY", signing)
    bundle = tmp_path / "bundle.jsonl"

    assert main(["audit", "checkpoint"]) == 0
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "export", "--from", "1", "--to", "3", "--out", str(bundle)]) == 0
    capsys.readouterr()
    # Offline: the configured database is unreachable and must not be needed.
    monkeypatch.setenv("MINQING_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere")
    assert main(["audit", "verify", "--bundle", str(bundle)]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True

    lines = bundle.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["topic"] = forged["topic"] + "X"
    lines[2] = json.dumps(forged)
    bundle.write_text("\n".join(lines) + "\n")
    assert main(["audit", "verify", "--bundle", str(bundle)]) == 1
    found = json.loads(capsys.readouterr().out)["first_problem"]
    assert (found["kind"], found["position"]) == ("changed", forged["position"])


def test_after_an_erasure_an_export_shows_no_name_or_phone_and_still_verifies(
    app: Minqing, key: Ed25519PrivateKey
) -> None:
    cid = UUID(app.raise_concern(STAFF, draft()).id)
    app.refer(cid, STAFF)
    audit.make_checkpoint(app.db, key)  # the chain was signed before the erasure
    concern = app.get_concern(cid)
    assert concern.resident_ref
    assert concern.resident_data
    assert app.keyring.open(concern.resident_ref, concern.resident_data) == RESIDENT

    erase_personal_data(app, STAFF, concern.resident_ref)
    lines = _bundle(app, key, concern=cid)

    text = audit.write_bundle(lines)
    states = [base64.b64decode(x["state"]) for x in lines if x["kind"] == "event"]
    assert len(states) == 2
    for secret in (RESIDENT.name, RESIDENT.phone, RESIDENT.address):
        assert secret
        assert secret not in text
        assert all(secret.encode() not in state for state in states)
    # The ciphertext is still there, unchanged, but no key opens it any more.
    assert app.keyring.open(concern.resident_ref, concern.resident_data) is None
    report = audit.verify_bundle(text, audit.public_key_b64(key))
    assert report.ok, report.as_dict()
    assert audit.verify(app.db, audit.public_key_b64(key)).ok
