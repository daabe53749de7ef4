"""A secret ballot stays secret once closed, on SQLite and PostgreSQL: every stored byte a
database administrator could read (each row of every table, the event states among them),
the audit bundles `minqing audit export` writes, the server's log and the integrators' feed
are searched for anything tying a voter to a choice; with the master key too, no sealed
choice opens. A supervisor still verifies from the log alone that only entitled members who
were present voted, each once, and that the tally is the ballots counted; the hash chain
still verifies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.store import event_store_env
from api.cli import main
from application.minqing import Minqing
from domain.vocabulary import Role
from tests.conftest import Server, start_server
from tests.e2e.test_meetings import SCHEDULED_FOR, STREETLIGHTS, ok

CHOICES = ("for", "against", "abstain")
ACTOR = {"actor_id", "actor"}  # who acted (as in events and their history entries)
# Who votes what: the chair (first) and four members from their own phones.
PLAN = ["for", "against", "for", "abstain", "for"]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """A server whose master key the test knows (as an administrator with it would)."""
    key = base64.b64encode(os.urandom(32)).decode()
    for server in start_server(database_url, tmp_path, master_key=key):
        yield server, key


def _table_names(server: Server) -> list[str]:
    db = server.app.db
    if server.database_url.startswith("postgres"):
        rows = db.fetchall(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()"
        )
    else:
        rows = db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [str(r["name"]) for r in rows]


def _decoded(value: Any) -> Any:
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def stored_rows(server: Server) -> list[dict[str, Any]]:
    """Every row of every table in the database (events' states decoded)."""
    found = []
    for table in _table_names(server):
        for row in server.app.db.fetchall(f"SELECT * FROM {table}"):  # noqa: S608
            found.append({"table": table, **{k: _decoded(v) for k, v in dict(row).items()}})
    return found


def _strings(node: Any) -> list[str]:
    """Every string value in a record, JSON inside strings opened; who acted left out (the
    chair closing a vote is not a voter paired with the ballots)."""
    node = _decoded(node)
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in ACTOR for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def pairings(records: list[Any], people: set[str]) -> list[Any]:
    """Each record (a row, an event, a bundle line) that names a voter, as a member or a
    principal, and holds a choice as a value."""
    found = []
    for record in records:
        strings = _strings(record)
        named = any(p in s for s in strings for p in people)
        if named and any(s in CHOICES for s in strings):
            found.append(record)
    return found


def test_after_close_nothing_stored_exported_logged_or_published_pairs_a_voter_with_a_choice(
    served: tuple[Server, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server, master_key = served
    caplog.set_level(logging.DEBUG)

    members = [server.member(f"党员{i}") for i in range(len(PLAN))]
    people = set(members)

    def client(roles: list[Role], member: str | None = None) -> httpx.Client:
        principal, token = server.principal(roles, member=member)
        people.add(principal.id)
        return server.client(token)

    staff, committee = client([Role.STAFF]), client([Role.COMMITTEE])
    chair, supervisor = client([Role.CHAIR], members[0]), client([Role.SUPERVISOR])
    phones = [chair] + [client([Role.MEMBER], m) for m in members[1:]]
    cid = ok(staff.post("/api/v1/concerns", json=STREETLIGHTS), 201)["id"]
    ok(staff.post(f"/api/v1/concerns/{cid}/refer", json={}))
    meeting = {
        "title": "无记名投票",
        "kind": "thematic_party_day",
        "scheduled_for": SCHEDULED_FOR,
        "place": "社区党群服务中心",
        "chair": members[0],
        "eligible_voters": members,
        "rules": {"ballot": "secret"},
    }
    mid = ok(committee.post("/api/v1/meetings", json=meeting), 201)["id"]
    ok(committee.post(f"/api/v1/meetings/{mid}/agenda", json={"concern_id": cid}))
    ok(chair.post(f"/api/v1/meetings/{mid}/open", json={"present": members[:4]}))
    ok(chair.post(f"/api/v1/meetings/{mid}/items/{cid}/open-vote"))
    ok(chair.post(f"/api/v1/meetings/{mid}/attendance", json={"arrived": [members[4]]}))
    votes = f"/api/v1/meetings/{mid}/items/{cid}/votes"
    for i, (phone, choice) in enumerate(zip(phones, PLAN, strict=True)):
        # Some with an Idempotency-Key: its stored fingerprint must not give the choice away.
        headers = {"Idempotency-Key": f"vote-{i}"} if i % 2 else {}
        ok(phone.post(votes, json={"choice": choice}, headers=headers))
    # An administrator with the master key and the database: while the vote is open the
    # sealed choices open (the attacker below is able), after close none does.
    admin = Minqing(event_store_env(server.database_url), master_key=base64.b64decode(master_key))
    stored: list[Any] = list(admin.events.get(UUID(mid)))
    sealed = [e for e in stored if type(e).__name__ == "BallotCast"]
    [box] = [e.ballot_box for e in stored if getattr(e, "ballot_box", None)]
    assert admin.keyring.open_ballot(box, sealed[0].sealed_choice) == PLAN[0]

    ok(chair.post(f"/api/v1/meetings/{mid}/items/{cid}/close-vote"))
    ok(chair.post(f"/api/v1/meetings/{mid}/close", json={"minutes": "无记名投票通过。"}))

    # Every table of the database, the event log among them.
    rows = stored_rows(server)
    assert any("BallotCast" in str(r) for r in rows)
    assert pairings(rows, people) == []
    # The Idempotency-Key rows: their fingerprints are not a hash of any of the three bodies.
    guesses = {
        hashlib.sha256(
            f"POST {votes}\n{json.dumps({'choice': c}, sort_keys=True)}".encode()
        ).hexdigest()
        for c in CHOICES
    }
    assert not [r for r in rows if any(g in str(r) for g in guesses)]

    # The audit bundles, the whole log and the concern's, and the chain still verifies.
    monkeypatch.setenv("MINQING_DATABASE_URL", server.database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", master_key)
    signing = Ed25519PrivateKey.generate().private_bytes_raw()
    monkeypatch.setenv("MINQING_AUDIT_SIGNING_KEY", base64.b64encode(signing).decode())
    last = server.event_count()
    whole, one = tmp_path / "all.jsonl", tmp_path / "concern.jsonl"
    assert main(["audit", "checkpoint"]) == 0
    assert main(["audit", "verify"]) == 0
    assert main(["audit", "export", "--from", "1", "--to", str(last), "--out", str(whole)]) == 0
    assert main(["audit", "export", "--concern", cid, "--out", str(one)]) == 0
    assert main(["audit", "verify", "--bundle", str(whole)]) == 0
    bundles = [json.loads(x) for x in whole.read_text().splitlines() + one.read_text().splitlines()]
    assert len(bundles) > last
    assert pairings(bundles, people) == []

    # What integrators and supervisors read: the feed, the history, the minutes.
    feed = ok(supervisor.get("/api/v1/events", params={"limit": 1000}))["events"]
    history = ok(supervisor.get(f"/api/v1/meetings/{mid}/history"))["events"]
    record = ok(supervisor.get(f"/api/v1/meetings/{mid}/minutes"))
    assert pairings([*feed, *history, record], people) == []

    # The server's log, every record of every logger: none names a voter with a choice word.
    words = re.compile(r"\b(for|against|abstain)\b")
    logged = [r.getMessage() + " " + json.dumps(r.__dict__, default=str) for r in caplog.records]
    assert [x for x in logged if any(p in x for p in people) and words.search(x)] == []

    # With the master key as well, no sealed choice opens: the vote's key is destroyed.
    assert len(sealed) == len(PLAN)
    state = admin.keyring.key_state(box)
    assert state is not None
    assert state.erased
    assert [admin.keyring.open_ballot(box, e.sealed_choice) for e in sealed] == [None] * len(PLAN)
    admin.close()

    # What a supervisor verifies from the log alone.
    verify_from_the_log(history)


def verify_from_the_log(history: list[dict[str, Any]]) -> None:
    """Only entitled members present at that moment voted, each once; the ballots counted
    are as many as voted and give the tally recorded."""
    entitled: set[str] = set()
    present: set[str] = set()
    voters: list[str] = []
    ballots: list[str] = []
    tally: dict[str, Any] = {}
    for e in history:
        data = e["data"]
        if e["type"] == "Scheduled":
            entitled = set(data["eligible_voters"])
        elif e["type"] == "Opened":
            present = set(data["present"])
        elif e["type"] == "Arrived":
            present.add(data["member"])
        elif e["type"] == "Left":
            present.discard(data["member"])
        elif e["type"] == "BallotCast":
            assert data["voter"] in entitled & present
            voters.append(data["voter"])
        elif e["type"] == "VoteClosed":
            ballots, tally = data["ballots"], data["tally"]
    assert len(voters) == len(set(voters)) == len(PLAN)
    assert len(ballots) == tally["voted"] == len(voters)
    counted = Counter(ballots)
    assert (counted["for"], counted["against"], counted["abstain"]) == (
        tally["for"],
        tally["against"],
        tally["abstain"],
    )
    assert ballots == sorted(ballots)
