"""Web UI passwords and sessions on each backend: argon2 hashes, the lock-out window,
session expiry, and `minqing users passwd`."""

from __future__ import annotations

import base64
import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api import cli
from api.ui import passwords, sessions
from api.ui.passwords import Limits, SignInRefused
from application.minqing import Minqing
from domain.errors import Invalid
from domain.vocabulary import Role
from tests.integration.support import open_app

LIMITS = Limits(failures=5, window=timedelta(minutes=15))


def test_a_password_is_stored_only_as_an_argon2_hash(minqing: Minqing) -> None:
    p = minqing.accounts.add("wangfang", [Role.COLLECTOR], ["2"])
    passwords.set_password(minqing.db, minqing.accounts, "wangfang", "路灯 correct horse")
    row = minqing.db.fetchone(f"SELECT hash FROM {passwords.PASSWORDS}")  # noqa: S608
    assert row["hash"].startswith("$argon2id$")
    assert "correct horse" not in row["hash"]
    signed = passwords.sign_in(
        minqing.db, minqing.accounts, "wangfang", "路灯 correct horse", LIMITS
    )
    assert signed.id == p.id
    with pytest.raises(Invalid) as short:
        passwords.set_password(minqing.db, minqing.accounts, "wangfang", "short")
    assert short.value.fields == [("password", "must be at least 8 characters")]


def test_the_lock_lasts_for_the_window_and_then_lifts(minqing: Minqing) -> None:
    minqing.accounts.add("leader", [Role.GRID_LEADER], ["2"])
    passwords.set_password(minqing.db, minqing.accounts, "leader", "the right one")
    start = datetime.now(UTC)
    for n in range(4):
        with pytest.raises(SignInRefused) as wrong:
            passwords.sign_in(minqing.db, minqing.accounts, "leader", "no", LIMITS, start)
        assert wrong.value.locked_until is None, n
    with pytest.raises(SignInRefused) as fifth:
        passwords.sign_in(minqing.db, minqing.accounts, "leader", "no", LIMITS, start)
    assert fifth.value.locked_until == start + LIMITS.window
    later = start + timedelta(minutes=14)
    with pytest.raises(SignInRefused) as still:
        passwords.sign_in(minqing.db, minqing.accounts, "leader", "the right one", LIMITS, later)
    assert still.value.locked_until is not None
    after = start + timedelta(minutes=15, seconds=1)
    p = passwords.sign_in(minqing.db, minqing.accounts, "leader", "the right one", LIMITS, after)
    assert p.name == "leader"
    # A success forgets the failures: four more wrong tries do not lock again.
    for _ in range(4):
        with pytest.raises(SignInRefused) as again:
            passwords.sign_in(minqing.db, minqing.accounts, "leader", "no", LIMITS, after)
        assert again.value.locked_until is None


def test_names_without_a_password_or_account_are_refused_and_locked_alike(
    minqing: Minqing,
) -> None:
    minqing.accounts.add("tokens-only", [Role.INTEGRATOR])
    for name in ("tokens-only", "nobody"):
        for _ in range(4):
            with pytest.raises(SignInRefused) as refused:
                passwords.sign_in(minqing.db, minqing.accounts, name, "anything", LIMITS)
            assert refused.value.locked_until is None
        with pytest.raises(SignInRefused) as locked:
            passwords.sign_in(minqing.db, minqing.accounts, name, "anything", LIMITS)
        assert locked.value.locked_until is not None


def test_failures_lock_a_name_from_their_address_only(minqing: Minqing) -> None:
    minqing.accounts.add("owner", [Role.COLLECTOR], ["2"])
    passwords.set_password(minqing.db, minqing.accounts, "owner", "the right one")
    now = datetime.now(UTC)

    def attempt(password: str, address: str) -> str:
        try:
            passwords.sign_in(
                minqing.db, minqing.accounts, "owner", password, LIMITS, now, address=address
            )
        except SignInRefused as refused:
            return "locked" if refused.locked_until else "wrong"
        return "in"

    assert [attempt("guess", "203.0.113.5") for _ in range(6)] == [
        *["wrong"] * 4,
        "locked",
        "locked",
    ]
    assert attempt("the right one", "203.0.113.5") == "locked"
    # The owner, at their own address, is not locked out by someone elsewhere.
    assert attempt("the right one", "198.51.100.1") == "in"


def test_many_addresses_together_lock_the_name_everywhere(minqing: Minqing) -> None:
    minqing.accounts.add("target", [Role.COLLECTOR], ["2"])
    passwords.set_password(minqing.db, minqing.accounts, "target", "the right one")
    limits = Limits(failures=5, window=timedelta(minutes=15), name_failures=12)
    start = datetime.now(UTC)
    outcomes = []
    for n in range(12):  # four tries from each of three addresses: none reaches 5 alone
        try:
            passwords.sign_in(
                minqing.db,
                minqing.accounts,
                "target",
                "guess",
                limits,
                start,
                address=f"203.0.113.{n % 3}",
            )
        except SignInRefused as refused:
            outcomes.append(refused.locked_until)
    assert outcomes[:11] == [None] * 11
    assert outcomes[11] == start + limits.window
    with pytest.raises(SignInRefused) as everywhere:
        passwords.sign_in(
            minqing.db,
            minqing.accounts,
            "target",
            "the right one",
            limits,
            start,
            address="198.51.100.1",
        )
    assert everywhere.value.locked_until is not None
    later = start + limits.window + timedelta(seconds=1)
    signed = passwords.sign_in(
        minqing.db,
        minqing.accounts,
        "target",
        "the right one",
        limits,
        later,
        address="198.51.100.1",
    )
    assert signed.name == "target"


def test_sessions_end_at_expiry_at_sign_out_and_when_the_password_changes(
    minqing: Minqing,
) -> None:
    p = minqing.accounts.add("committee", [Role.COMMITTEE])
    first, session = sessions.start(minqing.db, p, timedelta(hours=1))
    second, _ = sessions.start(minqing.db, p, timedelta(hours=1))
    brief, _ = sessions.start(minqing.db, p, timedelta(seconds=-1))
    found = sessions.find(minqing.db, minqing.accounts, first)
    assert found is not None
    assert found.principal.id == p.id
    assert found.csrf == session.csrf
    assert sessions.find(minqing.db, minqing.accounts, brief) is None
    assert sessions.find(minqing.db, minqing.accounts, "made-up") is None
    sessions.end(minqing.db, first)
    assert sessions.find(minqing.db, minqing.accounts, first) is None
    assert sessions.find(minqing.db, minqing.accounts, second) is not None
    sessions.end_all(minqing.db, p.id)
    assert sessions.find(minqing.db, minqing.accounts, second) is None


def test_minqing_users_passwd_sets_the_password_and_ends_sessions(
    database_url: str,
    master_key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    monkeypatch.setenv("MINQING_MASTER_KEY", base64.b64encode(master_key).decode())
    monkeypatch.setenv("MINQING_ADMIN_TOKEN_FILE", str(tmp_path / "admin-token"))
    app = open_app(database_url, master_key)
    try:
        p = app.accounts.add("liqiang", [Role.MEMBER], ["2"])
        old, _ = sessions.start(app.db, p, timedelta(hours=1))
        monkeypatch.setattr(sys, "stdin", io.StringIO("a new long password\n"))
        assert cli.main(["users", "passwd", "liqiang", "--stdin"]) == 0
        assert "password set for liqiang" in capsys.readouterr().out
        assert sessions.find(app.db, app.accounts, old) is None
        signed = passwords.sign_in(app.db, app.accounts, "liqiang", "a new long password", LIMITS)
        assert signed.id == p.id
        monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
        assert cli.main(["users", "passwd", "liqiang", "--stdin"]) == 1
        assert "at least 8 characters" in capsys.readouterr().err
        monkeypatch.setattr(sys, "stdin", io.StringIO("whatever password\n"))
        assert cli.main(["users", "passwd", "nobody", "--stdin"]) == 1
        assert "no principal nobody" in capsys.readouterr().err
    finally:
        app.close()
