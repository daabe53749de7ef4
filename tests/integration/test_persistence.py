"""What the store keeps, on SQLite and PostgreSQL: state survives a reopen, residents' data
is only ciphertext, tokens only hashes, and `minqing db init` prepares a fresh database."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any, cast
from uuid import UUID

import pytest

from adapters.accounts import hash_token
from api.cli import main as cli_main
from application.minqing import Idempotency, Minqing
from domain.errors import Invalid, NotFound
from domain.residents import ResidentData
from domain.vocabulary import Role
from tests.conftest import Server, start_server
from tests.integration.support import (
    RESIDENT,
    STAFF,
    TITLE,
    assigned_concern,
    draft,
    due_in,
    events_table,
    is_postgres,
    open_app,
    raw_connection,
    raw_event_states,
    table_names,
)

SIDE_TABLES = {
    "minqing_counters",
    "minqing_idempotency",
    "minqing_resident_keys",
    "minqing_principals",
    "minqing_tokens",
}


def snapshot(app: Minqing, concern_id: UUID) -> dict[str, Any]:
    """Everything staff can read about a concern: its view (with the resident) and history."""
    concern = app.get_concern(concern_id)
    return {
        "view": app.concern_view(concern, STAFF),
        "history": app.history(concern_id),
        "version": concern.version,
        "status": concern.status,
    }


def forms(text: str) -> list[bytes]:
    """The ways `text` could appear in a JSON document: UTF-8 and \\u-escaped."""
    return [text.encode(), json.dumps(text).strip('"').encode()]


def test_a_concern_rebuilt_after_reopening_equals_the_original(
    database_url: str, master_key: bytes
) -> None:
    app = open_app(database_url, master_key)
    concern_id = assigned_concern(app)
    app.record_progress(concern_id, STAFF, "联系了物业")
    app.extend_deadline(concern_id, STAFF, due_in(app, 60), "等待配件")
    before = snapshot(app, concern_id)
    head = app.recorder.max_notification_id()
    app.close()

    reopened = open_app(database_url, master_key)
    try:
        after = snapshot(reopened, concern_id)
        assert after == before
        assert after["version"] == 4
        assert after["status"] == "assigned"
        assert [e["type"] for e in after["history"]] == [
            "Raised",
            "HandledNow",
            "ProgressRecorded",
            "DeadlineExtended",
        ]
        assert after["view"]["resident"] == RESIDENT.as_dict()
        assert reopened.recorder.max_notification_id() == head
        # The reopened application carries on where the first stopped.
        result = reopened.record_progress(concern_id, STAFF, "换了灯泡")
        assert result.version == 5
    finally:
        reopened.close()


def test_an_idempotency_key_replays_its_first_response_after_reopening(
    database_url: str, master_key: bytes
) -> None:
    app = open_app(database_url, master_key)
    raise_key = Idempotency(STAFF.id, "raise-1", "fp-raise")
    raised = app.raise_concern(STAFF, draft(), idem=raise_key)
    concern_id = UUID(raised.id)
    refer_key = Idempotency(STAFF.id, "refer-1", "fp-refer")
    referred = app.refer(concern_id, STAFF, idem=refer_key)
    head = app.recorder.max_notification_id()
    app.close()

    reopened = open_app(database_url, master_key)
    try:
        again = reopened.raise_concern(STAFF, draft(), idem=raise_key)
        assert again.replayed
        assert again == raised
        assert again.position == raised.position
        referred_again = reopened.refer(concern_id, STAFF, idem=refer_key)
        assert referred_again.replayed
        assert referred_again == referred
        assert reopened.recorder.max_notification_id() == head
        assert reopened.get_concern(concern_id).version == 2
        with pytest.raises(Invalid) as refused:
            reopened.refer(concern_id, STAFF, idem=Idempotency(STAFF.id, "refer-1", "other"))
        assert refused.value.fields[0][0] == "Idempotency-Key"
    finally:
        reopened.close()


def test_the_event_store_holds_no_plaintext_resident_data_but_staff_read_it(
    minqing: Minqing, database_url: str
) -> None:
    concern_id = UUID(minqing.raise_concern(STAFF, draft()).id)
    minqing.refer(concern_id, STAFF, "需要支委会研究")

    states = raw_event_states(database_url)

    assert len(states) == 4  # the concern's two events and its two index claims
    stored = b"\n".join(states)
    assert TITLE.encode() in stored  # the scan sees what is stored in plain text
    for text in (RESIDENT.name, RESIDENT.phone, RESIDENT.address):
        assert text
        for form in forms(text):
            assert form not in stored, f"{text!r} is stored in plain text"
    concern = minqing.get_concern(concern_id)
    assert concern.resident_ref
    assert concern.resident_data
    assert concern.resident_ref.encode() in stored
    assert minqing.concern_view(concern, STAFF)["resident"] == RESIDENT.as_dict()
    assert minqing.keyring.open(concern.resident_ref, concern.resident_data) == RESIDENT


def test_with_another_master_key_resident_data_stays_sealed_and_the_rest_works(
    database_url: str, master_key: bytes
) -> None:
    app = open_app(database_url, master_key)
    concern_id = UUID(app.raise_concern(STAFF, draft()).id)
    code = app.get_concern(concern_id).tracking_code
    app.close()

    other_key = os.urandom(32)
    stranger = open_app(database_url, other_key)
    try:
        concern = stranger.get_concern(concern_id)
        assert concern.resident_ref
        assert concern.resident_data
        assert stranger.keyring.open(concern.resident_ref, concern.resident_data) is None
        view = stranger.concern_view(concern, STAFF)
        assert view["resident"] != RESIDENT.as_dict()
        assert "张秀英" not in json.dumps(view, ensure_ascii=False)
        assert view["title"] == TITLE
        assert [e["type"] for e in stranger.history(concern_id)] == ["Raised"]
        assert stranger.track(code).id == concern_id
        assert stranger.refer(concern_id, STAFF).version == 2
        # Data sealed under the new key is readable under the new key.
        newcomer = ResidentData(name="李娜", phone="13900001111")
        fresh = stranger.get_concern(UUID(stranger.raise_concern(STAFF, draft(newcomer)).id))
        assert fresh.resident_ref
        assert fresh.resident_data
        assert stranger.keyring.open(fresh.resident_ref, fresh.resident_data) == newcomer
    finally:
        stranger.close()

    owner = open_app(database_url, master_key)
    try:  # the right key still opens the first resident's data
        concern = owner.get_concern(concern_id)
        assert concern.resident_ref
        assert concern.resident_data
        assert owner.keyring.open(concern.resident_ref, concern.resident_data) == RESIDENT
        assert concern.status == "committee"
    finally:
        owner.close()


def test_tokens_are_stored_only_as_hashes(minqing: Minqing, database_url: str) -> None:
    clerk = minqing.accounts.add("clerk", [Role.STAFF], ["2"])
    token_id, token = minqing.accounts.issue_token(clerk.id, "laptop")

    with raw_connection(database_url) as query:
        rows = query("SELECT * FROM minqing_tokens")
        principals = query("SELECT * FROM minqing_principals")
    stored = [str(value) for row in rows + principals for value in row]

    assert token.startswith("mq_")
    assert not any(token in value for value in stored)
    assert not any(token[3:] in value for value in stored)
    assert hash_token(token) in stored
    assert token_id in stored
    listed = minqing.accounts.tokens(clerk.id)
    assert [t["id"] for t in listed] == [token_id]
    assert all(token not in str(v) for t in listed for v in t.values())
    assert minqing.accounts.authenticate(token) == clerk


def test_a_revoked_token_no_longer_authenticates(database_url: str, master_key: bytes) -> None:
    app = open_app(database_url, master_key)
    clerk = app.accounts.add("clerk", [Role.STAFF])
    laptop_id, laptop = app.accounts.issue_token(clerk.id, "laptop")
    _, phone = app.accounts.issue_token(clerk.id, "phone")
    assert app.accounts.authenticate(laptop) == clerk

    app.accounts.revoke_token(laptop_id)

    assert app.accounts.authenticate(laptop) is None
    assert app.accounts.authenticate(phone) == clerk
    assert app.accounts.authenticate("mq_not-a-token") is None
    with pytest.raises(NotFound):
        app.accounts.revoke_token("no-such-token")
    app.close()
    reopened = open_app(database_url, master_key)
    try:  # revocation is stored, not remembered by the process
        assert reopened.accounts.authenticate(laptop) is None
        assert reopened.accounts.authenticate(phone) == clerk
    finally:
        reopened.close()


def test_db_init_creates_the_tables_on_a_fresh_database_and_the_service_runs_on_it(
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_MASTER_KEY_FILE", str(tmp_path / "unused.key"))
    monkeypatch.setenv("MINQING_ADMIN_TOKEN_FILE", str(tmp_path / "admin-token"))
    if is_postgres(database_url):
        assert table_names(database_url) == set()

    assert cli_main(["db", "init"]) == 0
    assert cli_main(["db", "init"]) == 0  # running it again changes nothing

    out = capsys.readouterr().out
    assert ("postgres" if is_postgres(database_url) else "sqlite") in out
    assert table_names(database_url) >= {events_table(database_url), *SIDE_TABLES}
    assert not (tmp_path / "unused.key").exists()
    assert cli_main(["users", "add", "clerk", "--role", "staff", "--role", "grid_leader"]) == 0
    assert cli_main(["tokens", "issue", "clerk", "--label", "test"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]

    app = open_app(database_url, master_key)
    try:
        clerk = app.accounts.authenticate(token)
        assert clerk is not None
        concern_id = UUID(app.raise_concern(clerk, draft()).id)
        concern = app.get_concern(concern_id)
        assert concern.reference == f"MQ-{app.clock().year}-000001"
        assert app.concern_view(concern, clerk)["resident"] == RESIDENT.as_dict()
    finally:
        app.close()

    serving = cast(Generator[Server, None, None], start_server(database_url, tmp_path))
    server = next(serving)
    try:
        with server.client(token) as client:
            body = {
                "title": "楼道堆放杂物",
                "description": "三楼楼道堆满杂物，影响通行。",
                "category": "environment",
                "library": "problem",
                "channel": "walk_in",
                "grid": "2",
            }
            created = client.post("/api/v1/concerns", json=body)
            assert created.status_code == 201, created.text
            assert created.json()["reference"] == f"MQ-{app.clock().year}-000002"
            read = client.get(f"/api/v1/concerns/{created.json()['id']}")
            assert read.status_code == 200, read.text
            assert read.json()["title"] == "楼道堆放杂物"
    finally:
        serving.close()
