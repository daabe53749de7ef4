"""Export bundles of the audit chain, and the offline verifier that needs no database."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.audit.signing import Checkpoint, key_fingerprint, public_key_b64
from adapters.audit.storage import (
    chain_head,
    checkpoints,
    extend_chain,
    link_before,
    make_checkpoint,
    read_chain,
    read_events,
)
from adapters.database import Database
from domain.audit_chain import (
    CHAIN_LAYOUT,
    Marks,
    Problem,
    Report,
    event_digest,
    walk_bundle,
)

BUNDLE_FORMAT = "minqing-audit-bundle-v1"


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
        column = db.dialect.position_column
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
        marks = Marks(covered, key)
        report.extra = {
            "public_key": key,
            "public_key_sha256": key_fingerprint(key) if key else None,
            "key_pinned": trusted is not None,
            "selection": header.get("selection"),
        }
        report.first_problem = walk_bundle(entries, after, link, marks, report)
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
