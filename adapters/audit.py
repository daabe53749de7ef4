"""Tamper evidence: a hash chain over the stored events, signed checkpoints, and verifiers.

The chain (layout "minqing-chain-v1") covers every stored event in log order. For the event at
log position `p` (the events table's `rowid` on SQLite, `notification_id` on PostgreSQL):

    digest_p = SHA-256( u64(p)
                      || u16(len(id)) || id           id: the originator id as ASCII text,
                                                      32 lowercase hex digits (SQLite's stored
                                                      text as is; PostgreSQL's uuid as .hex)
                      || u64(originator_version)
                      || u32(len(topic)) || topic     topic: UTF-8
                      || u64(len(state)) || state )   state: the stored bytes, ciphertext and all
    link_p   = SHA-256( link_prev || digest_p )       link_prev: the link of the previous stored
                                                      event; 32 zero bytes before the first

`u16`, `u32`, `u64` are unsigned big-endian integers of 2, 4 and 8 bytes. Hashing each event's
fields into a digest first (rather than into the link directly) lets an export for one concern
carry the other events as bare digests: the reader can still recompute every link up to a
signed checkpoint without seeing the other events.

A checkpoint signs the chain head with Ed25519. The signed message is the ASCII text
`minqing-checkpoint-v1|<position>|<link hex>|<signed_at>`.

The chain is kept in `minqing_audit_chain` by `extend_chain`, which a worker or any command
may call at any time: it is incremental and idempotent, and concurrent callers queue. An event
is protected from the moment it is chained; the sooner the chain is extended, the smaller the
window in which a change to a stored event would go unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.persistence import IntegrityError, OperationalError

from adapters import access_log
from adapters.database import Database
from adapters.outage import unavailable

CHAIN_LAYOUT = "minqing-chain-v1"
BUNDLE_FORMAT = "minqing-audit-bundle-v1"
CHECKPOINTS_FORMAT = "minqing-audit-checkpoints-v1"
GENESIS = bytes(32)
BATCH = 1000
CHAIN_TABLE = "minqing_audit_chain"
CHECKPOINTS_TABLE = "minqing_audit_checkpoints"
_RETRIES = 20
# Any constant will do: it only has to be the same in every process that extends the chain.
_CHAIN_LOCK = 0x6D71_6368  # "mqch"

_TABLES = (
    f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
    " position BIGINT PRIMARY KEY, originator_id TEXT NOT NULL,"
    " originator_version BIGINT NOT NULL, link TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS_TABLE} ("
    " position BIGINT NOT NULL, link TEXT NOT NULL, signed_at TEXT NOT NULL,"
    " signature TEXT NOT NULL, public_key TEXT NOT NULL, PRIMARY KEY (position, signed_at))",
)
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


# -- the chain's arithmetic (pure) --------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One stored event as the chain sees it: its position and its stored fields."""

    position: int
    originator_id: str
    version: int
    topic: str
    state: bytes

    @property
    def aggregate_id(self) -> str:
        """The originator id in the usual UUID spelling, for people to read."""
        return _aggregate_id(self.originator_id)


def event_digest(e: LogEntry) -> bytes:
    """SHA-256 of one event's position and stored fields (layout in the module docstring)."""
    ident = e.originator_id.encode("utf-8")
    topic = e.topic.encode("utf-8")
    h = hashlib.sha256()
    h.update(struct.pack(">QH", e.position, len(ident)))
    h.update(ident)
    h.update(struct.pack(">QI", e.version, len(topic)))
    h.update(topic)
    h.update(struct.pack(">Q", len(e.state)))
    h.update(e.state)
    return h.digest()


def next_link(previous: bytes, digest: bytes) -> bytes:
    """The link after an event: SHA-256 of the previous link and the event's digest."""
    return hashlib.sha256(previous + digest).digest()


def checkpoint_message(position: int, link_hex: str, signed_at: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return f"minqing-checkpoint-v1|{position}|{link_hex}|{signed_at}".encode("ascii")


def _aggregate_id(originator_id: str) -> str:
    try:
        return str(UUID(originator_id))
    except ValueError:
        return originator_id


# -- tables and guards --------------------------------------------------------------------


def ensure_tables(db: Database) -> None:
    """Create the chain and checkpoint tables if missing (once per Database object)."""
    if db in _ready:
        return
    with db.transaction() as cur:
        cur.lock_schema()
        for statement in _TABLES:
            cur.execute(statement)
    _ready.add(db)


def install_guards(db: Database) -> None:
    """Create the audit and access-log tables; on PostgreSQL make the event log append-only.

    Triggers refuse UPDATE, DELETE and TRUNCATE on the events table and on the audit tables
    (chain, checkpoints, access log). Idempotent, and safe when several processes start at
    once. Erasure does not need them lifted: it changes the key table, not the log.
    """
    ensure_tables(db)
    access_log.ensure_tables(db)
    tables = [db.events_table, CHAIN_TABLE, CHECKPOINTS_TABLE, access_log.TABLE]
    with db.transaction() as cur:
        db.dialect.protect(cur, tables)


# -- reading the log and the chain -------------------------------------------------------


def _position_column(db: Database) -> str:
    return db.dialect.position_column


def _entry(row: Any) -> LogEntry:
    ident = row["originator_id"]
    # PostgreSQL hands back a uuid; SQLite the text it stored, hashed exactly as stored.
    text = ident.hex if isinstance(ident, UUID) else str(ident)
    return LogEntry(
        position=int(row["position"]),
        originator_id=text,
        version=int(row["originator_version"]),
        topic=str(row["topic"]),
        state=bytes(row["state"]),
    )


def read_events(
    db: Database, after: int, upto: int | None = None, batch: int = BATCH
) -> Iterator[LogEntry]:
    """The stored events after position `after` (up to `upto`), in log order."""
    column = _position_column(db)
    bound = f" AND {column} <= ?" if upto is not None else ""
    sql = (
        f"SELECT {column} AS position, originator_id, originator_version, topic, state"  # noqa: S608
        f" FROM {db.events_table} WHERE {column} > ?{bound} ORDER BY {column} LIMIT ?"
    )
    last = after
    while True:
        params = (last, upto, batch) if upto is not None else (last, batch)
        rows = db.fetchall(sql, params)
        yield from (_entry(r) for r in rows)
        if len(rows) < batch:
            return
        last = int(rows[-1]["position"])


@dataclass(frozen=True)
class ChainRow:
    """One recorded link of the chain."""

    position: int
    originator_id: str
    version: int
    link: str


def read_chain(
    db: Database, after: int, upto: int | None = None, batch: int = BATCH
) -> Iterator[ChainRow]:
    """The recorded links after position `after` (up to `upto`), in log order."""
    ensure_tables(db)
    bound = " AND position <= ?" if upto is not None else ""
    sql = (
        "SELECT position, originator_id, originator_version, link"  # noqa: S608
        f" FROM {CHAIN_TABLE} WHERE position > ?{bound} ORDER BY position LIMIT ?"
    )
    last = after
    while True:
        params = (last, upto, batch) if upto is not None else (last, batch)
        rows = db.fetchall(sql, params)
        for r in rows:
            yield ChainRow(
                int(r["position"]), str(r["originator_id"]), int(r["originator_version"]), r["link"]
            )
        if len(rows) < batch:
            return
        last = int(rows[-1]["position"])


@dataclass(frozen=True)
class Head:
    """The chain's last recorded link (position 0 and the zero link when empty)."""

    position: int
    link: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def chain_head(db: Database) -> Head:
    """The last recorded link of the chain."""
    ensure_tables(db)
    row = db.fetchone(
        f"SELECT position, link FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"  # noqa: S608
    )
    return Head(int(row["position"]), row["link"]) if row else Head(0, GENESIS.hex())


def link_before(db: Database, position: int) -> tuple[int, bytes]:
    """The last recorded link strictly before `position`: (its position, the link)."""
    ensure_tables(db)
    row = db.fetchone(
        f"SELECT position, link FROM {CHAIN_TABLE} WHERE position < ?"  # noqa: S608
        " ORDER BY position DESC LIMIT 1",
        (position,),
    )
    return (int(row["position"]), bytes.fromhex(row["link"])) if row else (0, GENESIS)


# -- extending ---------------------------------------------------------------------------


def extend_chain(db: Database, batch: int = BATCH) -> int:
    """Chain every stored event after the chain's head, one transaction per batch.

    Returns how many events were chained. Idempotent; concurrent callers queue on a lock
    (an advisory lock on PostgreSQL, the write lock on SQLite) and a caller that still loses
    a race retries, so no position is chained twice or skipped.
    """
    ensure_tables(db)
    total = 0
    failures = 0
    while True:
        try:
            done = _extend_once(db, batch)
        except (IntegrityError, OperationalError) as exc:
            # Another process chained the same positions first, or held the write lock too
            # long: read the new head and carry on from there. Not when the database is
            # unavailable: that is the caller's to wait out (each try here waits for the pool).
            failures += 1
            if failures > _RETRIES or unavailable(exc):
                raise
            continue
        if done == 0:
            return total
        total += done


def _extend_once(db: Database, batch: int) -> int:
    column = _position_column(db)
    with db.transaction() as cur:
        # Two extenders queue here instead of both reading the same head (on SQLite the
        # transaction's write lock already does it).
        cur.lock(_CHAIN_LOCK)
        cur.execute(
            f"SELECT position, link FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"  # noqa: S608
        )
        row = cur.fetchone()
        after, link = (int(row["position"]), bytes.fromhex(row["link"])) if row else (0, GENESIS)
        cur.execute(
            f"SELECT {column} AS position, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {db.events_table} WHERE {column} > ? ORDER BY {column} LIMIT ?",
            (after, batch),
        )
        entries = [_entry(r) for r in cur.fetchall()]
        rows: list[tuple[int, str, int, str]] = []
        for e in entries:
            link = next_link(link, event_digest(e))
            rows.append((e.position, e.originator_id, e.version, link.hex()))
        # Several rows per INSERT: one round trip per row made PostgreSQL the bottleneck.
        # 200 rows stay under SQLite's oldest limit of 999 parameters.
        for i in range(0, len(rows), 200):
            chunk = rows[i : i + 200]
            cur.execute(
                f"INSERT INTO {CHAIN_TABLE}"  # noqa: S608
                " (position, originator_id, originator_version, link) VALUES "
                + ", ".join(["(?, ?, ?, ?)"] * len(chunk)),
                tuple(v for row in chunk for v in row),
            )
    return len(entries)


# -- signing -----------------------------------------------------------------------------


def load_signing_key(
    value: str | None, path: Path | None, *, create: bool
) -> Ed25519PrivateKey | None:
    """The Ed25519 key from configuration (base64 of the raw 32-byte private key) or its
    file; made on first use when `create` (the embedded store). None when there is none."""
    if value:
        return _private_key(value, "MINQING_AUDIT_SIGNING_KEY")
    if path is None:
        return None
    if path.exists():
        return _private_key(path.read_text().strip(), str(path))
    if not create:
        return None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # var/: owner only
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes_raw()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago: use theirs
        return _private_key(path.read_text().strip(), str(path))
    with os.fdopen(fd, "w") as f:
        f.write(base64.b64encode(raw).decode())
    return key


def _private_key(value: str, where: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        msg = f"{where}: the audit signing key must be 32 bytes, base64-encoded"
        raise ValueError(msg)
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64-encoded."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, hex: short enough to read out over the phone."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: at `signed_at` the chain's head was `link` at `position`."""

    position: int
    link: str
    signed_at: str
    signature: str
    public_key: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)

    def signature_valid(self, trusted_key: str | None = None) -> bool:
        """True when the signature verifies with this checkpoint's key (and that key is the
        trusted one, when one is given)."""
        if trusted_key is not None and trusted_key != self.public_key:
            return False
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
            key.verify(
                base64.b64decode(self.signature),
                checkpoint_message(self.position, self.link, self.signed_at),
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def make_checkpoint(
    db: Database, key: Ed25519PrivateKey, now: datetime | None = None
) -> Checkpoint:
    """Extend the chain, then sign and record its head."""
    extend_chain(db)
    head = chain_head(db)
    signed_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
    signature = key.sign(checkpoint_message(head.position, head.link, signed_at))
    cp = Checkpoint(
        head.position,
        head.link,
        signed_at,
        base64.b64encode(signature).decode(),
        public_key_b64(key),
    )
    db.execute(
        f"INSERT INTO {CHECKPOINTS_TABLE}"  # noqa: S608
        " (position, link, signed_at, signature, public_key) VALUES (?, ?, ?, ?, ?)",
        (cp.position, cp.link, cp.signed_at, cp.signature, cp.public_key),
    )
    return cp


def checkpoints(db: Database) -> list[Checkpoint]:
    """Every checkpoint, oldest first."""
    ensure_tables(db)
    rows = db.fetchall(
        "SELECT position, link, signed_at, signature, public_key"  # noqa: S608
        f" FROM {CHECKPOINTS_TABLE} ORDER BY position, signed_at"
    )
    return [
        Checkpoint(int(r["position"]), r["link"], r["signed_at"], r["signature"], r["public_key"])
        for r in rows
    ]


def checkpoints_export(cps: list[Checkpoint], public_key: str | None) -> dict[str, Any]:
    """The checkpoints as a document a higher office can keep and later check bundles with."""
    return {
        "format": CHECKPOINTS_FORMAT,
        "chain_layout": CHAIN_LAYOUT,
        "exported_at": datetime.now(UTC).isoformat(),
        "public_key": public_key,
        "public_key_sha256": key_fingerprint(public_key) if public_key else None,
        "checkpoints": [c.as_dict() for c in cps],
    }


# -- verifying the database ----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """The first place where the stored history and its record disagree."""

    kind: str
    position: int
    message: str
    aggregate_id: str | None = None
    version: int | None = None
    expected_link: str | None = None
    computed_link: str | None = None
    since: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass
class Report:
    """What a verification found: `ok`, how many events were checked, the head, the problem."""

    checked: int = 0
    checkpoints_checked: int = 0
    head: Head | None = None
    first_problem: Problem | None = None
    anchored: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return self.first_problem is None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for the API and the CLI."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "checkpoints_checked": self.checkpoints_checked,
            "head": self.head.as_dict() if self.head else None,
            "first_problem": self.first_problem.as_dict() if self.first_problem else None,
            **self.extra,
        }


class _Checkpoints:
    """The checkpoints still to be compared, met in position order as the walk advances."""

    def __init__(self, cps: Iterable[Checkpoint], trusted_key: str | None) -> None:
        self.pending = sorted(cps, key=lambda c: (c.position, c.signed_at))
        self.trusted_key = trusted_key
        self.checked = 0
        self.last_good = 0

    def settle(self, upto: int, link: bytes) -> Problem | None:
        """Compare every checkpoint at or before `upto` with `link`, the recomputed chain as
        of `upto` (the link after the last event at or before it)."""
        while self.pending and self.pending[0].position <= upto:
            cp = self.pending.pop(0)
            problem = self._compare(cp, link)
            if problem:
                return problem
            self.last_good = cp.position
        return None

    def _compare(self, cp: Checkpoint, link: bytes) -> Problem | None:
        if not cp.signature_valid(self.trusted_key):
            why = (
                "is signed with another key than the trusted one"
                if self.trusted_key and cp.public_key != self.trusted_key
                else "has a signature that does not verify"
            )
            return Problem(
                "bad_signature", cp.position, f"the checkpoint signed at {cp.signed_at} {why}"
            )
        self.checked += 1
        if link.hex() != cp.link:
            return Problem(
                "checkpoint_mismatch",
                cp.position,
                f"the stored events no longer give the link signed at {cp.signed_at} for"
                f" position {cp.position}: an event after position {self.last_good} (the"
                " last checkpoint that still verifies) and up to this one was changed,"
                " removed or inserted, and the recorded chain rewritten to match",
                expected_link=cp.link,
                computed_link=link.hex(),
                since=self.last_good,
            )
        return None


def verify(db: Database, trusted_public_key: str | None = None) -> Report:
    """Extend the chain, then recompute it from the stored events and compare it with the
    recorded links and the signed checkpoints; report the first event that differs."""
    extend_chain(db)
    head = chain_head(db)
    report = Report(head=head)
    marks = _Checkpoints(checkpoints(db), trusted_public_key)
    report.first_problem = _walk(
        read_events(db, 0, head.position), read_chain(db, 0, head.position), marks, report
    )
    report.checkpoints_checked = marks.checked
    return report


def _walk(
    events: Iterator[LogEntry], chain: Iterator[ChainRow], marks: _Checkpoints, report: Report
) -> Problem | None:
    # A merge of two position-ordered streams: the stored events and the recorded links.
    link = GENESIS
    end = report.head.position if report.head else 0
    e, c = next(events, None), next(chain, None)
    while e is not None or c is not None:
        if c is not None and (e is None or c.position < e.position):
            return marks.settle(c.position - 1, link) or Problem(
                "missing",
                c.position,
                f"the event at position {c.position} ({_aggregate_id(c.originator_id)}"
                f" version {c.version}) was chained but is no longer stored",
                _aggregate_id(c.originator_id),
                c.version,
                expected_link=c.link,
            )
        assert e is not None  # noqa: S101 - the branch above handles e being None
        if problem := marks.settle(e.position - 1, link):
            return problem
        if c is None or e.position < c.position:
            return Problem(
                "unchained",
                e.position,
                f"the event at position {e.position} is stored but was never chained:"
                " it was inserted after later events had been chained",
                e.aggregate_id,
                e.version,
            )
        link = next_link(link, event_digest(e))
        if c.originator_id != e.originator_id or c.version != e.version or c.link != link.hex():
            return Problem(
                "changed",
                e.position,
                f"the event at position {e.position} ({e.aggregate_id} version {e.version})"
                " differs from what was chained",
                e.aggregate_id,
                e.version,
                expected_link=c.link,
                computed_link=link.hex(),
            )
        report.checked += 1
        if problem := marks.settle(e.position, link):
            return problem
        e, c = next(events, None), next(chain, None)
    if problem := marks.settle(end, link):
        return problem
    if marks.pending:
        cp = marks.pending[0]
        return Problem(
            "truncated",
            cp.position,
            f"a checkpoint signed at {cp.signed_at} covers position {cp.position}, but the"
            f" chain now ends at {end}: events at the end were removed",
            expected_link=cp.link,
            since=marks.last_good,
        )
    return None


# -- export bundles and the offline verifier ---------------------------------------------


def export_bundle(
    db: Database,
    *,
    concern: UUID | None = None,
    start: int | None = None,
    end: int | None = None,
    key: Ed25519PrivateKey | None = None,
) -> list[dict[str, Any]]:
    """The bundle's lines: a header, the selected events in full (the other events in the
    span as bare digests), and the checkpoints in the span.

    Select one concern's events or the positions `start`..`end`. The span runs on to the
    first checkpoint at or after the selection's end, so the bundle is anchored to a
    signature; with `key` and no such checkpoint, a new one is made.
    """
    extend_chain(db)
    head = chain_head(db)
    if concern is not None:
        column = _position_column(db)
        rows = db.fetchall(
            f"SELECT {column} AS position FROM {db.events_table}"  # noqa: S608
            f" WHERE originator_id = ? ORDER BY {column}",
            (db.dialect.originator_id(concern),),
        )
        selected = {int(r["position"]) for r in rows}
        if not selected:
            msg = f"no stored events for {concern}"
            raise ValueError(msg)
        first, last = min(selected), max(selected)
    else:
        first, last = (
            max(1, start or 1),
            min(end if end is not None else head.position, head.position),
        )
        if first > last:
            msg = f"no chained events from {first} to {last} (the chain ends at {head.position})"
            raise ValueError(msg)
        selected = None
    cps = checkpoints(db)
    anchor = next((c for c in cps if c.position >= last), None)
    if anchor is None and key is not None:
        anchor = make_checkpoint(db, key)
        cps.append(anchor)
    upto = anchor.position if anchor else last
    after, start_link = link_before(db, first)
    public_key = anchor.public_key if anchor else (public_key_b64(key) if key else None)
    lines: list[dict[str, Any]] = [
        {
            "kind": "header",
            "format": BUNDLE_FORMAT,
            "chain_layout": CHAIN_LAYOUT,
            "exported_at": datetime.now(UTC).isoformat(),
            "selection": {"concern": str(concern)} if concern else {"from": first, "to": last},
            "after_position": after,
            "start_link": start_link.hex(),
            "public_key": public_key,
            "public_key_sha256": key_fingerprint(public_key) if public_key else None,
        }
    ]
    events = read_events(db, after, upto)
    e = next(events, None)
    for c in read_chain(db, after, upto):
        while e is not None and e.position < c.position:
            e = next(events, None)  # stored but unchained: the bundle omits it
        if e is None or e.position != c.position:
            lines.append({"kind": "missing", "position": c.position, "link": c.link})
            continue
        in_full = (e.position in selected) if selected is not None else e.position <= last
        if in_full:
            lines.append(
                {
                    "kind": "event",
                    "position": e.position,
                    "originator_id": e.originator_id,
                    "aggregate_id": e.aggregate_id,
                    "version": e.version,
                    "topic": e.topic,
                    "state": base64.b64encode(e.state).decode(),
                    "link": c.link,
                }
            )
        else:
            lines.append(
                {
                    "kind": "digest",
                    "position": e.position,
                    "digest": event_digest(e).hex(),
                    "link": c.link,
                }
            )
    lines += [{"kind": "checkpoint", **c.as_dict()} for c in cps if after <= c.position <= upto]
    return lines


def write_bundle(lines: Iterable[dict[str, Any]]) -> str:
    """The bundle as JSON lines."""
    return "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines)


def verify_bundle(
    text: str,
    trusted_public_key: str | None = None,
    kept_checkpoints: Iterable[Checkpoint] = (),
) -> Report:
    """Verify an exported bundle with no database.

    Recomputes every link from the bundle's start link, compares each line's recorded link,
    and checks the checkpoints' signatures and links. `trusted_public_key` (or the key of
    `kept_checkpoints`, a copy kept elsewhere) pins the signer; otherwise the bundle's own
    key is used, which proves consistency but not who signed.
    """
    report = Report()
    try:
        lines = [json.loads(raw) for raw in text.splitlines() if raw.strip()]
        header = lines[0] if lines else {}
        if header.get("kind") != "header" or header.get("format") != BUNDLE_FORMAT:
            report.first_problem = Problem("unreadable", 0, f"not a {BUNDLE_FORMAT} bundle")
            return report
        kept = list(kept_checkpoints)
        trusted = trusted_public_key or (kept[0].public_key if kept else None)
        key = trusted or header.get("public_key")
        after = int(header["after_position"])
        link = bytes.fromhex(header["start_link"])
        entries = [x for x in lines[1:] if x.get("kind") in ("event", "digest", "missing")]
        last = int(entries[-1]["position"]) if entries else after
        bundled = [
            Checkpoint(
                int(x["position"]), x["link"], x["signed_at"], x["signature"], x["public_key"]
            )
            for x in lines[1:]
            if x.get("kind") == "checkpoint"
        ]
        covered = [c for c in [*bundled, *kept] if after <= c.position <= last]
        marks = _Checkpoints(covered, key)
        report.extra = {
            "public_key": key,
            "public_key_sha256": key_fingerprint(key) if key else None,
            "key_pinned": trusted is not None,
            "selection": header.get("selection"),
        }
        report.first_problem = _walk_bundle(entries, after, link, marks, report)
    except (ValueError, KeyError, TypeError) as exc:
        report.first_problem = Problem("unreadable", 0, f"the bundle cannot be read: {exc!r}")
        return report
    report.checkpoints_checked = marks.checked
    report.anchored = marks.checked > 0 and marks.last_good >= last
    report.extra["anchored"] = report.anchored
    if report.first_problem is None and not report.anchored:
        report.first_problem = Problem(
            "unanchored",
            last,
            "no signed checkpoint covers the bundle's last event: its links are consistent"
            " but nothing attests them",
        )
    return report


def _walk_bundle(
    entries: list[dict[str, Any]], after: int, link: bytes, marks: _Checkpoints, report: Report
) -> Problem | None:
    previous = after
    for x in entries:
        position = int(x["position"])
        if position <= previous:
            return Problem("unreadable", position, "positions are not ascending")
        previous = position
        if problem := marks.settle(position - 1, link):
            return problem
        if x["kind"] == "missing":
            return Problem(
                "missing",
                position,
                f"the event at position {position} was chained but is no longer stored",
                expected_link=x["link"],
            )
        named = x["kind"] == "event"
        if named:
            entry = LogEntry(
                position,
                str(x["originator_id"]),
                int(x["version"]),
                str(x["topic"]),
                base64.b64decode(x["state"], validate=True),
            )
            digest = event_digest(entry)
        else:
            digest = bytes.fromhex(x["digest"])
        link = next_link(link, digest)
        if link.hex() != x["link"]:
            return Problem(
                "changed",
                position,
                f"the line for position {position} does not give its recorded link:"
                " the event (or its link) was modified",
                _aggregate_id(str(x["originator_id"])) if named else None,
                int(x["version"]) if named else None,
                expected_link=x["link"],
                computed_link=link.hex(),
            )
        report.checked += 1 if named else 0
        if problem := marks.settle(position, link):
            return problem
    report.head = Head(previous, link.hex())
    return marks.settle(previous, link)


def read_kept_checkpoints(text: str) -> list[Checkpoint]:
    """The checkpoints of a `GET /api/v1/audit/checkpoints?format=export` document."""
    doc = json.loads(text)
    if doc.get("format") != CHECKPOINTS_FORMAT:
        msg = f"not a {CHECKPOINTS_FORMAT} document"
        raise ValueError(msg)
    return [Checkpoint(**c) for c in doc["checkpoints"]]
