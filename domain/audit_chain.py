"""Tamper evidence, the arithmetic: a hash chain over the stored events and the walk that
checks it against signed checkpoints (pure: the storage, signing and bundles are
adapters/audit/).

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
import struct
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from uuid import UUID

CHAIN_LAYOUT = "minqing-chain-v1"
GENESIS = bytes(32)


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
        return aggregate_id(self.originator_id)


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


def aggregate_id(originator_id: str) -> str:
    try:
        return str(UUID(originator_id))
    except ValueError:
        return originator_id


@dataclass(frozen=True)
class ChainRow:
    """One recorded link of the chain."""

    position: int
    originator_id: str
    version: int
    link: str


@dataclass(frozen=True)
class Head:
    """The chain's last recorded link (position 0 and the zero link when empty)."""

    position: int
    link: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


class Signed(Protocol):
    """A checkpoint as the walk sees it: what it signs, and whether its signature holds."""

    @property
    def position(self) -> int: ...
    @property
    def link(self) -> str: ...
    @property
    def signed_at(self) -> str: ...
    @property
    def public_key(self) -> str: ...
    def signature_valid(self, trusted_key: str | None = None) -> bool: ...


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


class Marks:
    """The checkpoints still to be compared, met in position order as the walk advances."""

    def __init__(self, cps: Iterable[Signed], trusted_key: str | None) -> None:
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

    def _compare(self, cp: Signed, link: bytes) -> Problem | None:
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


def walk(
    events: Iterator[LogEntry], chain: Iterator[ChainRow], marks: Marks, report: Report
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
                f"the event at position {c.position} ({aggregate_id(c.originator_id)}"
                f" version {c.version}) was chained but is no longer stored",
                aggregate_id(c.originator_id),
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


def walk_bundle(
    entries: list[dict[str, Any]], after: int, link: bytes, marks: Marks, report: Report
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
                aggregate_id(str(x["originator_id"])) if named else None,
                int(x["version"]) if named else None,
                expected_link=x["link"],
                computed_link=link.hex(),
            )
        report.checked += 1 if named else 0
        if problem := marks.settle(position, link):
            return problem
    report.head = Head(previous, link.hex())
    return marks.settle(previous, link)
