"""The Minqing application: one verb method per command, queries that return plain data."""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic

from adapters import history_events
from adapters.accounts import Accounts
from adapters.database import Database, SideWrite
from adapters.keyring import Keyring
from application import unreadable
from domain.concern import Assignment, Concern
from domain.errors import Conflict, Forbidden, Invalid, NotFound, VersionMismatch
from domain.history_labels import describe
from domain.index import Index
from domain.lifecycle import TERMINAL, Action, Status
from domain.meeting import Meeting, MeetingKind, representative_names
from domain.member import Member
from domain.permissions import (
    actions_for,
    actor_for,
    actor_to_raise,
    chair_actor,
    check_grid,
    check_member_grids,
    meeting_actor,
    voting_actor,
)
from domain.plain import plain
from domain.principal import Actor, Principal
from domain.residents import ResidentData
from domain.visit import SealedHousehold, Visit
from domain.vocabulary import (
    Category,
    Channel,
    DutyRole,
    Library,
    PriorityVisit,
    Role,
    Satisfaction,
)
from domain.voting import Choice, Rules, count

Clock = Callable[[], datetime]
ATTEMPTS = 25
# Tracking codes avoid look-alike characters (0/O, 1/I/L) so they can be read over the phone.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE_LENGTH = 12


class DateAsISO(Transcoding):
    """Stores `datetime.date` values as `YYYY-MM-DD`."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key as sent by one principal, with a fingerprint of the request."""

    principal_id: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class CommandResult:
    """What a successful command returns: the aggregate's new version and log position."""

    id: str
    version: int
    position: int
    status: str | None = None
    reference: str | None = None
    tracking_code: str | None = None
    extra: dict[str, Any] | None = None
    replayed: bool = field(default=False, compare=False)

    def body(self) -> dict[str, Any]:
        """The JSON body of the HTTP response."""
        data = asdict(self)
        data.pop("replayed")
        extra = data.pop("extra") or {}
        return {**{k: v for k, v in data.items() if v is not None}, **extra}


@dataclass(frozen=True)
class NewVisit:
    """The fields of a household visit being recorded."""

    grid: str
    household: str
    visited_on: date
    priority_visit: PriorityVisit | None = None
    notes: str | None = None
    concern_ids: Sequence[UUID] = ()


@dataclass(frozen=True)
class NewConcern:
    """The fields of a concern being raised."""

    title: str
    description: str
    category: Category
    library: Library
    channel: Channel
    grid: str
    building: str | None = None
    priority_visit: PriorityVisit | None = None
    resident: ResidentData = field(default_factory=ResidentData)
    anonymous: bool = False


class Minqing(Application[UUID]):
    """Residents' concerns, event-sourced: every command is one atomic save of events."""

    name = "minqing"  # pinned: table names and environment prefixes derive from it

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        master_key: bytes,
        clock: Clock | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        try:
            super().__init__(env)
            self.db = Database(self.recorder)
            self.db.create_tables()
        except BaseException:
            # The database did not answer (or refused the tables): release the pool the
            # library opened, or its threads would connect later for nobody.
            factory = getattr(self, "factory", None)
            if factory is not None:
                factory.close()
            raise
        self.keyring = Keyring(master_key, self.db)
        self.accounts = Accounts(self.db)
        self.zone = ZoneInfo(timezone)
        self.clock: Clock = clock or (lambda: datetime.now(UTC).astimezone(self.zone))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # -- concerns: commands --------------------------------------------------------------

    def raise_concern(
        self, principal: Principal, draft: NewConcern, idem: Idempotency | None = None
    ) -> CommandResult:
        """Record a new concern in intake, with a reference and a tracking code."""
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = actor_to_raise(principal, draft.grid)
        if draft.anonymous and not draft.resident.is_empty():
            raise Invalid([("anonymous", "an anonymous concern cannot carry the resident's data")])
        sealed = None if draft.resident.is_empty() else self.keyring.seal(draft.resident)
        for attempt in range(ATTEMPTS):
            _back_off(attempt)
            at = self.clock()
            reference = f"MQ-{at.year}-{self.db.next_counter(f'reference:{at.year}'):06d}"
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
            concern = Concern.raise_new(
                reference=reference,
                tracking_code=code,
                title=draft.title,
                description=draft.description,
                category=draft.category,
                library=draft.library,
                channel=draft.channel,
                grid=draft.grid,
                building=draft.building,
                priority_visit=draft.priority_visit,
                resident_ref=sealed.resident_ref if sealed else None,
                resident_data=sealed.ciphertext if sealed else None,
                anonymous=draft.anonymous,
                actor=actor,
                at=at,
            )
            indexes = [
                Index(key=f"reference:{reference}", target=concern.id),
                Index(key=f"tracking:{code}", target=concern.id),
            ]
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=reference,
                tracking_code=code,
            )
            writes = [sealed.key_row] if sealed else []
            saved = self._save(concern, indexes, result, idem, writes)
            if saved is not None:
                return saved
        raise Conflict("could not allocate a unique reference; try again")

    def refer(
        self,
        concern_id: UUID,
        principal: Principal,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Refer the concern to the branch committee."""
        return self._change(
            concern_id,
            principal,
            Action.REFER,
            expected_version,
            idem,
            lambda c, a, at: c.refer(a, note, at),
        )

    def handle_now(
        self,
        concern_id: UUID,
        principal: Principal,
        owner: UUID,
        duty_role: DutyRole,
        due_on: date,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Handle on receipt: name the owner and due date at once."""
        return self._change(
            concern_id,
            principal,
            Action.HANDLE_NOW,
            expected_version,
            idem,
            lambda c, a, at: c.handle_now(a, self._assignment(owner, duty_role, due_on), note, at),
        )

    def decline(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Decline explicitly, with the reason the resident will hear."""
        return self._change(
            concern_id,
            principal,
            Action.DECLINE,
            expected_version,
            idem,
            lambda c, a, at: c.decline(a, reason, at),
        )

    def merge(
        self,
        concern_id: UUID,
        principal: Principal,
        into: UUID,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Close the concern as a duplicate of another open concern."""

        def command(c: Concern, a: Actor, at: datetime) -> None:
            if into != c.id:
                target = self._find_concern(into, field_name="into")
                if Status(target.status) in TERMINAL:
                    raise Invalid([("into", f"concern {into} is {target.status}, not open")])
            c.merge_into(a, into, note, at)

        return self._change(
            concern_id, principal, Action.MERGE_INTO, expected_version, idem, command
        )

    def withdraw(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Withdraw at the resident's request."""
        return self._change(
            concern_id,
            principal,
            Action.WITHDRAW,
            expected_version,
            idem,
            lambda c, a, at: c.withdraw(a, reason, at),
        )

    def return_for_info(
        self,
        concern_id: UUID,
        principal: Principal,
        missing: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Send the concern back to intake, saying what is missing."""
        return self._change(
            concern_id,
            principal,
            Action.RETURN_FOR_INFO,
            expected_version,
            idem,
            lambda c, a, at: c.return_for_info(a, missing, at),
        )

    def assign(
        self,
        concern_id: UUID,
        principal: Principal,
        owner: UUID,
        duty_role: DutyRole,
        due_on: date,
        note: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Name the owner, duty role and due date."""

        def command(c: Concern, a: Actor, at: datetime) -> None:
            if a.role == Role.CHAIR and c.meeting_id is not None:
                # After an adoption: the chair of the meeting that adopted it, not any chair.
                self._chair(principal, self.get_meeting(c.meeting_id), "assigning after a vote")
            c.assign(a, self._assignment(owner, duty_role, due_on), note, at)

        return self._change(concern_id, principal, Action.ASSIGN, expected_version, idem, command)

    def record_progress(
        self,
        concern_id: UUID,
        principal: Principal,
        note: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record what the owner has done so far."""
        return self._change(
            concern_id,
            principal,
            Action.RECORD_PROGRESS,
            expected_version,
            idem,
            lambda c, a, at: c.record_progress(a, note, at),
        )

    def extend_deadline(
        self,
        concern_id: UUID,
        principal: Principal,
        due_on: date,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Move the due date later, with a reason."""
        return self._change(
            concern_id,
            principal,
            Action.EXTEND_DEADLINE,
            expected_version,
            idem,
            lambda c, a, at: c.extend_deadline(a, due_on, reason, at),
        )

    def reassign(
        self,
        concern_id: UUID,
        principal: Principal,
        owner: UUID,
        duty_role: DutyRole,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Give the work to another member, with a reason."""

        def command(c: Concern, a: Actor, at: datetime) -> None:
            self._member(owner, "owner")
            c.reassign(a, owner, duty_role, reason, at)

        return self._change(concern_id, principal, Action.REASSIGN, expected_version, idem, command)

    def send_back(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """The owner hands the concern back to the committee."""
        return self._change(
            concern_id,
            principal,
            Action.SEND_BACK,
            expected_version,
            idem,
            lambda c, a, at: c.send_back(a, reason, at),
        )

    def resolve(
        self,
        concern_id: UUID,
        principal: Principal,
        summary: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record what was done; the feedback clock starts."""
        return self._change(
            concern_id,
            principal,
            Action.RESOLVE,
            expected_version,
            idem,
            lambda c, a, at: c.resolve(a, summary, at),
        )

    def record_feedback(
        self,
        concern_id: UUID,
        principal: Principal,
        solved: bool,
        satisfaction: Satisfaction,
        comment: str | None = None,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record the resident's answer; not solved or dissatisfied reopens the concern."""
        return self._change(
            concern_id,
            principal,
            Action.RECORD_FEEDBACK,
            expected_version,
            idem,
            lambda c, a, at: c.record_feedback(a, solved, satisfaction, comment, at),
        )

    def reopen(
        self,
        concern_id: UUID,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Start a new round of work."""
        return self._change(
            concern_id,
            principal,
            Action.REOPEN,
            expected_version,
            idem,
            lambda c, a, at: c.reopen(a, reason, at),
        )

    def feedback_by_tracking_code(
        self,
        code: str,
        solved: bool,
        satisfaction: Satisfaction,
        comment: str | None = None,
        idem_key: str | None = None,
        fingerprint: str = "",
    ) -> CommandResult:
        """The resident answers on the tracking page, with no account."""
        concern = self.track(code)
        resident = Principal(
            id=f"resident:{concern.resident_ref or concern.reference}",
            name="resident",
            roles=frozenset({Role.RESIDENT}),
            grids=frozenset(),
        )
        idem = Idempotency(resident.id, idem_key, fingerprint) if idem_key else None
        return self.record_feedback(concern.id, resident, solved, satisfaction, comment, idem=idem)

    # -- concerns: queries ---------------------------------------------------------------

    def get_concern(self, concern_id: UUID, version: int | None = None) -> Concern:
        """The concern now, or as it was at `version`."""
        return self._find_concern(concern_id, version=version)

    def version_at(self, concern_id: UUID, moment: datetime) -> int:
        """The concern's version as recorded at `moment` (0 if it did not exist yet)."""
        when = moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
        version = 0
        with self._reading(concern_id):
            for e in self.events.get(concern_id):
                if cast(Concern.Event, e).timestamp > when:
                    break
                version = e.originator_version
        return version

    def concern_by_reference(self, reference: str) -> Concern:
        """The concern with this human-readable reference."""
        return self._via_index(f"reference:{reference}", "concern", reference)

    def track(self, code: str) -> Concern:
        """The concern a tracking code belongs to."""
        return self._via_index(f"tracking:{code.strip().upper()}", "tracking code", code)

    def concern_view(self, concern: Concern, principal: Principal | None) -> dict[str, Any]:
        """The concern as plain data, with the caller's allowed actions and, if they may see
        it, the resident's decrypted personal data."""
        if principal is not None:
            check_grid(principal, concern.grid)
        view = _concern_data(concern)
        view["allowed_actions"] = actions_for(principal, concern) if principal else []
        view["resident"] = None
        if principal is not None and concern.resident_ref and concern.resident_data:
            if may_see_personal_data(principal, concern):
                data = self.keyring.open(concern.resident_ref, concern.resident_data)
                view["resident"] = data.as_dict() if data else {"erased": True}
            else:
                view["resident"] = {"redacted": True}
        return view

    def history(self, concern_id: UUID) -> list[dict[str, Any]]:
        """Every event of a concern in order: version, type, time, actor, role and data,
        with labels, reason and the fields it changed (domain.history_labels)."""
        # The events are read once and checked here rather than by replaying the concern
        # first: that replay cost as much again on a long history (bench/audit.py).
        found = history_events.entries(self.mapper, self.recorder.select_events(concern_id))
        if not found or not issubclass(found[0].event_class, Concern.Event):
            raise NotFound("concern", concern_id)
        for e in found:
            if e.data.get("unreadable"):  # listed in its place, by its position in the log
                e.data["position"] = self.db.position_of(str(concern_id), e.data["version"])
        return describe("Concern", [e.data for e in found])

    def public_view(self, concern: Concern) -> dict[str, Any]:
        """What a resident sees by tracking code: nothing personal, nothing internal."""
        steps = [
            {"type": e["type"], "at": e["at"], "status": e["data"].get("status", "intake")}
            for e in self.history(concern.id)
        ]
        return {
            "reference": concern.reference,
            "title": concern.title,
            "status": concern.status,
            "status_label": {"zh": Status(concern.status).zh, "en": Status(concern.status).en},
            "category": concern.category,
            "raised_on": concern.raised_at.date().isoformat(),
            "due_on": concern.due_on.isoformat() if concern.due_on else None,
            "resolved_on": concern.resolved_at.date().isoformat() if concern.resolved_at else None,
            "public_notes": _public_notes(concern),
            "awaiting_feedback": concern.feedback_pending,
            "steps": steps,
        }

    def record_missed_deadlines(self, concern_id: UUID, feedback_window_days: int) -> list[str]:
        """Record DeadlineMissed / FeedbackOverdue on a concern when due; never twice.

        Two watchers may race: the loser's save conflicts, it reloads and finds the fact
        already recorded.
        """
        watcher = Actor("system:deadline-watcher", Role.SYSTEM)
        for attempt in range(ATTEMPTS):
            _back_off(attempt)
            concern = self._find_concern(concern_id)
            now = self.clock()
            if concern.deadline_missed_on(now.date()) is not None:
                concern.note_deadline_missed(watcher, now)
            if concern.feedback_overdue_since(now, feedback_window_days) is not None:
                concern.note_feedback_overdue(watcher, feedback_window_days, now)
            recorded = [type(e).__name__ for e in concern.pending_events]
            if not recorded:
                return []
            try:
                self.save(concern)
            except IntegrityError:
                continue
            return recorded
        raise Conflict(f"concern {concern_id} kept changing; try again")

    # -- meetings ------------------------------------------------------------------------

    def schedule_meeting(
        self,
        principal: Principal,
        title: str,
        kind: MeetingKind,
        scheduled_for: datetime,
        place: str,
        chair: UUID,
        eligible_voters: list[UUID],
        rules: dict[str, Any] | None = None,
        idem: Idempotency | None = None,
        deputy_chair: UUID | None = None,
    ) -> CommandResult:
        """Schedule a branch meeting or committee session; its chair (or the deputy chair,
        if one is named) is the only one who may run it."""
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = meeting_actor(principal, {Role.CHAIR, Role.COMMITTEE}, "scheduling a meeting")
        parsed = Rules.parse(rules)
        self._member(chair, "chair")
        if deputy_chair is not None:
            self._member(deputy_chair, "deputy_chair")
        for voter in eligible_voters:
            if not self._member(voter, "eligible_voters").votes_in_branch:
                raise Invalid([("eligible_voters", f"member {voter} has no vote in the branch")])
        when = scheduled_for if scheduled_for.tzinfo else scheduled_for.replace(tzinfo=self.zone)
        meeting = Meeting.schedule(
            title=title,
            kind=kind,
            scheduled_for=when,
            place=place,
            chair=chair,
            eligible_voters=eligible_voters,
            rules=parsed,
            actor=actor,
            at=self.clock(),
            deputy_chair=deputy_chair,
        )
        result = CommandResult(
            id=str(meeting.id), version=meeting.version, position=0, status=meeting.status
        )
        saved = self._save(meeting, [], result, idem, [])
        if saved is None:
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def shortlist(
        self,
        meeting_id: UUID,
        principal: Principal,
        concern_id: UUID,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Put a committee concern on the meeting's agenda: both change in one save."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            concern = self._find_concern(concern_id, field_name="concern_id")
            concern_actor = actor_for(principal, Action.SHORTLIST, concern)
            m.add_item(actor, concern.id, at)
            concern.shortlist(concern_actor, m.id, m.title, at)
            return [concern], {"concern_id": str(concern.id), "concern_status": concern.status}

        return self._change_meeting(
            meeting_id, principal, {Role.COMMITTEE}, "shortlisting", idem, command
        )

    def open_meeting(
        self,
        meeting_id: UUID,
        principal: Principal,
        present: list[UUID],
        resident_representatives: list[str] | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Open the meeting and record attendance."""

        key_rows: list[SideWrite] = []

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            for member in present:  # after the chair was checked: 403 before 422
                self._member(member, "present")
            # Each representative's name is sealed under a key of their own (erasable like a
            # resident's); the key rows go in the meeting's save.
            key_rows.clear()
            sealed = []
            for name in representative_names(resident_representatives or []):
                one = self.keyring.seal(ResidentData(name=name))
                key_rows.append(one.key_row)
                sealed.append({"resident_ref": one.resident_ref, "name": one.ciphertext})
            m.open(actor, present, sealed, at)
            entitled = len(m.eligible_voters)
            return [], {"quorum": _quorum(m, entitled)}

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "opening a meeting",
            idem,
            command,
            run=True,
            writes=key_rows,
        )

    def open_vote(
        self,
        meeting_id: UUID,
        principal: Principal,
        concern_id: UUID,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Open the vote on one agenda item."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            m.open_vote(actor, concern_id, at)
            return [], {"concern_id": str(concern_id)}

        return self._change_meeting(
            meeting_id, principal, {Role.CHAIR}, "opening a vote", idem, command, run=True
        )

    def cast_vote(
        self,
        meeting_id: UUID,
        principal: Principal,
        concern_id: UUID,
        choice: Choice,
        voter: UUID | None = None,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """A member votes; or the chair records a named present member's show of hands."""
        actor, member, by_chair = voting_actor(principal, voter)

        def command(m: Meeting, _: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            if by_chair:  # a show of hands is recorded by this meeting's chair only
                self._chair(principal, m, "recording another member's vote")
            m.cast_vote(actor, concern_id, member, choice, by_chair, at)
            tally = m.tally(concern_id).as_dict()
            keys = ("voted",) if m.parsed_rules.secret else ("for", "against", "abstain", "voted")
            shown = {k: tally[k] for k in keys}
            return [], {"concern_id": str(concern_id), "by_chair": by_chair, "tally": shown}

        return self._change_meeting(meeting_id, principal, None, "voting", idem, command)

    def close_vote(
        self,
        meeting_id: UUID,
        principal: Principal,
        concern_id: UUID,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Close the vote; the outcome moves the concern in the same save."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            tally = m.close_vote(actor, concern_id, at).as_dict()
            concern = self._find_concern(concern_id)
            concern.record_outcome(actor, m.id, tally, at)
            return [concern], {
                "concern_id": str(concern_id),
                "outcome": tally["outcome"],
                "tally": tally,
                "concern_status": concern.status,
            }

        return self._change_meeting(
            meeting_id, principal, {Role.CHAIR}, "closing a vote", idem, command, run=True
        )

    def close_meeting(
        self,
        meeting_id: UUID,
        principal: Principal,
        minutes: str,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Close the meeting with its minutes; undecided items go back to the committee."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            deferred = m.close(actor, minutes, at)
            concerns = []
            for concern_id in deferred:
                concern = self._find_concern(concern_id)
                concern.record_outcome(actor, m.id, m.items[str(concern_id)]["tally"], at)
                concerns.append(concern)
            return concerns, {"deferred": [str(c) for c in deferred]}

        return self._change_meeting(
            meeting_id, principal, {Role.CHAIR}, "closing a meeting", idem, command, run=True
        )

    def get_meeting(self, meeting_id: UUID) -> Meeting:
        """One meeting."""
        try:
            found: Concern | Member | Index | Meeting | None = self.repository.get(meeting_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Meeting):
            raise NotFound("meeting", meeting_id)
        return found

    def list_meetings(self) -> list[Meeting]:
        """Every meeting, in the order they were scheduled."""
        topic = get_topic(Meeting.Scheduled)  # type: ignore[attr-defined]
        return [self.get_meeting(UUID(str(n.originator_id))) for n in self._read_log([topic])]

    def meeting_history(self, meeting_id: UUID) -> list[dict[str, Any]]:
        """Every event of a meeting in order; a secret ballot's choices are left out."""
        meeting = self.get_meeting(meeting_id)
        stored = self.recorder.select_events(meeting_id)
        events = [e.data for e in history_events.entries(self.mapper, stored)]
        if meeting.parsed_rules.secret:
            for e in events:
                e["data"].pop("choice", None)
        return describe("Meeting", events)

    def _chair(self, principal: Principal, meeting: Meeting, doing: str) -> Actor:
        """The actor for a step of the meeting's own chair, within its agenda's grids."""
        grids = [self._find_concern(c).grid for c in meeting.agenda]
        return chair_actor(principal, meeting, grids, doing)

    def _change_meeting(
        self,
        meeting_id: UUID,
        principal: Principal,
        roles: set[Role] | None,
        doing: str,
        idem: Idempotency | None,
        command: Callable[[Meeting, Actor, datetime], tuple[list[Concern], dict[str, Any]]],
        *,
        run: bool = False,
        writes: list[SideWrite] | None = None,
    ) -> CommandResult:
        """Run a meeting command that needs one of `roles` (None: a vote, checked by the
        command); with `run`, only the meeting's own chair or deputy chair may take it."""
        if (replay := self._replay(idem)) is not None:
            return replay
        actor = (
            meeting_actor(principal, roles, doing) if roles else Actor(principal.id, Role.MEMBER)
        )
        for attempt in range(ATTEMPTS):
            _back_off(attempt)
            meeting = self.get_meeting(meeting_id)
            if run:
                actor = self._chair(principal, meeting, doing)
            concerns, extra = command(meeting, actor, self.clock())
            result = CommandResult(
                id=str(meeting.id),
                version=meeting.version,
                position=0,
                status=meeting.status,
                extra=plain(extra),
            )
            # `writes` is filled by the command (key rows of what it sealed).
            saved = self._save(meeting, concerns, result, idem, list(writes or []))
            if saved is not None:
                return saved
        raise Conflict(f"meeting {meeting_id} kept changing; try again")

    # -- members -------------------------------------------------------------------------

    def register_member(
        self,
        principal: Principal,
        name: str,
        grids: list[str],
        duty_roles: list[DutyRole],
        votes_in_branch: bool,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Add a member to the registry; a principal limited to some grids registers members
        of those grids only."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = next((r for r in (Role.ADMIN, Role.STAFF) if r in principal.roles), None)
        if role is None:
            raise Forbidden("registering a member needs one of the roles admin, staff")
        check_member_grids(principal, grids)
        member = Member.register(
            name=name,
            grids=grids,
            duty_roles=duty_roles,
            votes_in_branch=votes_in_branch,
            actor_id=principal.id,
            actor_role=role.value,
            at=self.clock(),
        )
        result = CommandResult(id=str(member.id), version=member.version, position=0)
        saved = self._save(member, [], result, idem, [])
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def get_member(self, member_id: UUID) -> Member:
        """One member of the registry."""
        return self._member(member_id, "member", not_found=True)

    def list_members(self) -> list[Member]:
        """Every member, in the order they were registered."""
        topic = get_topic(Member.Registered)  # type: ignore[attr-defined]
        return [self.repository.get(UUID(str(n.originator_id))) for n in self._read_log([topic])]

    # -- visits --------------------------------------------------------------------------

    def record_visit(
        self,
        principal: Principal,
        visit: NewVisit,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record a household visit, with the concerns raised on it (possibly none)."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = next((r for r in (Role.COLLECTOR, Role.STAFF) if r in principal.roles), None)
        if role is None:
            raise Forbidden("recording a visit needs one of the roles collector, staff")
        check_grid(principal, visit.grid.strip())
        problems = []
        for concern_id in dict.fromkeys(visit.concern_ids):
            try:
                concern = self._find_concern(concern_id, field_name="concern_ids")
            except Invalid as exc:
                problems += exc.fields
                continue
            if concern.grid != visit.grid.strip():
                problems.append(
                    ("concern_ids", f"concern {concern_id} is in grid {concern.grid}, not this one")
                )
        if problems:
            raise Invalid(problems)
        key_rows: list[SideWrite] = []

        def seal(grid: str, household: str) -> SealedHousehold:
            # The household's key row is saved with the visit, in the same transaction.
            sealed = self.keyring.seal(ResidentData(address=household))
            key_rows.append(sealed.key_row)
            key = self.keyring.household_key(grid, household)
            return SealedHousehold(sealed.resident_ref, sealed.ciphertext, key)

        recorded = Visit.record(
            grid=visit.grid,
            household=visit.household,
            visited_on=visit.visited_on,
            priority_visit=visit.priority_visit,
            notes=visit.notes,
            concern_ids=list(visit.concern_ids),
            actor_id=principal.id,
            actor_role=role.value,
            at=self.clock(),
            seal=seal,
        )
        result = CommandResult(id=str(recorded.id), version=recorded.version, position=0)
        saved = self._save(recorded, [], result, idem, key_rows)
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def get_visit(self, visit_id: UUID) -> Visit:
        """One recorded visit."""
        try:
            found: Any = self.repository.get(visit_id)
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Visit):
            raise NotFound("visit", visit_id) from None
        return found

    def representatives_of(self, meeting: Meeting) -> list[dict[str, Any]]:
        """The meeting's resident representatives: `name` (None once erased) and their
        pseudonym `resident_ref` (None for names recorded before they were sealed)."""
        found: list[dict[str, Any]] = [
            {"name": name, "resident_ref": None} for name in meeting.resident_representatives
        ]
        for sealed in meeting.sealed_representatives:
            data = self.keyring.open(sealed["resident_ref"], sealed["name"])
            found.append(
                {"name": data.name if data else None, "resident_ref": sealed["resident_ref"]}
            )
        return found

    def household_of(self, visit: Visit) -> str | None:
        """The visit's household as text; None once its pseudonym was erased."""
        if visit.household_ref is None or visit.household_sealed is None:
            return visit.household  # recorded before households were sealed
        data = self.keyring.open(visit.household_ref, visit.household_sealed)
        return data.address if data else None

    # -- internals -----------------------------------------------------------------------

    def _read_log(self, topics: list[str]) -> Iterator[Any]:
        last = 0
        while True:
            batch = self.recorder.select_notifications(
                last, 500, topics=topics, inclusive_of_start=False
            )
            if not batch:
                return
            yield from batch
            last = batch[-1].id

    def _change(
        self,
        concern_id: UUID,
        principal: Principal,
        action: Action,
        expected_version: int | None,
        idem: Idempotency | None,
        command: Callable[[Concern, Actor, datetime], None],
    ) -> CommandResult:
        if (replay := self._replay(idem)) is not None:
            return replay
        for attempt in range(ATTEMPTS):
            _back_off(attempt)
            concern = self._find_concern(concern_id)
            actor = actor_for(principal, action, concern)
            if expected_version is not None and concern.version != expected_version:
                raise VersionMismatch(expected_version, concern.version)
            command(concern, actor, self.clock())
            result = CommandResult(
                id=str(concern.id),
                version=concern.version,
                position=0,
                status=concern.status,
                reference=concern.reference,
            )
            saved = self._save(concern, [], result, idem, [])
            if saved is not None:
                return saved
        raise Conflict(f"concern {concern_id} kept changing; try again")

    def _save(
        self,
        aggregate: Concern | Member | Meeting | Visit,
        others: Sequence[Concern | Index],
        result: CommandResult,
        idem: Idempotency | None,
        writes: list[SideWrite],
    ) -> CommandResult | None:
        """Save atomically; None means a concurrent writer won and the caller should retry."""
        if idem is not None:
            writes = [*writes, _idempotency_row(idem, result)]
        try:
            # The aggregate goes last so its event holds the highest position of the save.
            recordings = self.save(*others, aggregate, side_writes=writes)
        except IntegrityError:
            if (replay := self._replay(idem)) is not None:
                return replay
            return None
        position = max(r.notification.id for r in recordings)
        return CommandResult(**{**asdict(result), "position": position})

    def _replay(self, idem: Idempotency | None) -> CommandResult | None:
        if idem is None:
            return None
        row = self.db.fetchone(
            "SELECT fingerprint, body, aggregate_id, version FROM minqing_idempotency"
            " WHERE principal_id = ? AND key = ?",
            (idem.principal_id, idem.key),
        )
        if row is None:
            return None
        if row["fingerprint"] != idem.fingerprint:
            raise Invalid(
                [
                    (
                        "Idempotency-Key",
                        "was already used with a different request; send a new key",
                    )
                ]
            )
        body = json.loads(row["body"])
        position = self.db.position_of(row["aggregate_id"], int(row["version"]))
        return CommandResult(**{**body, "position": position or 0, "replayed": True})

    def _find_concern(
        self, concern_id: UUID, version: int | None = None, field_name: str | None = None
    ) -> Concern:
        try:
            with self._reading(concern_id):
                found: Concern | Member | Index | None = self.repository.get(
                    concern_id, version=version
                )
        except AggregateNotFoundError:
            found = None
        if not isinstance(found, Concern):
            if field_name:
                raise Invalid([(field_name, f"no concern {concern_id}")]) from None
            raise NotFound("concern", concern_id) from None
        return found

    def _via_index(self, key: str, kind: str, shown: str) -> Concern:
        try:
            with self._reading(Index.create_id(key)):
                index: Index | Concern | Member = self.repository.get(Index.create_id(key))
        except AggregateNotFoundError:
            raise NotFound(kind, shown) from None
        if not isinstance(index, Index):
            raise NotFound(kind, shown)
        return self._find_concern(index.target)

    def _reading(self, aggregate_id: UUID) -> AbstractContextManager[None]:
        # An event of the aggregate that no longer decodes is named by its position.
        return unreadable.reading(self.mapper, self.recorder, self.db.position_of, aggregate_id)

    def _member(self, member_id: UUID, field_name: str, *, not_found: bool = False) -> Member:
        try:
            member: Concern | Member | Index | None = self.repository.get(member_id)
        except AggregateNotFoundError:
            member = None
        if not isinstance(member, Member):
            if not_found:
                raise NotFound("member", member_id) from None
            raise Invalid([(field_name, f"no member {member_id} in the registry")]) from None
        return member

    def _assignment(self, owner: UUID, duty_role: DutyRole, due_on: date) -> Assignment:
        # Called inside a command, after the caller's role and grid were checked (403 first).
        self._member(owner, "owner")
        return Assignment(owner=owner, duty_role=duty_role, due_on=due_on)


def _quorum(m: Meeting, entitled: int) -> dict[str, Any]:
    tally = count([], entitled, len(m.entitled_present()), m.parsed_rules)
    return {
        "entitled": entitled,
        "present": tally.present,
        "rule": m.parsed_rules.quorum,
        "reached": tally.quorum_reached,
    }


def _back_off(attempt: int) -> None:
    # Full-jitter exponential backoff: writers that lost a race spread out instead of
    # colliding again at once (20 writers on one concern all get through).
    if attempt:
        time.sleep(random.uniform(0, min(0.25, 0.005 * 2**attempt)))  # noqa: S311


def may_see_personal_data(principal: Principal, concern: Concern) -> bool:
    """Only the people who contact the resident see their name, phone and address."""
    people = {Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.ADMIN}
    return bool(principal.roles & people) or (
        principal.member_id is not None and principal.member_id == concern.owner
    )


def _idempotency_row(idem: Idempotency, result: CommandResult) -> SideWrite:
    body = {k: v for k, v in asdict(result).items() if k not in ("position", "replayed")}
    return SideWrite(
        "INSERT INTO minqing_idempotency"
        " (principal_id, key, fingerprint, body, aggregate_id, version, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            idem.principal_id,
            idem.key,
            idem.fingerprint,
            json.dumps(body),
            result.id,
            result.version,
            datetime.now(UTC).isoformat(),
        ),
    )


def _concern_data(c: Concern) -> dict[str, Any]:
    status = Status(c.status)
    return {
        "id": str(c.id),
        "reference": c.reference,
        "version": c.version,
        "status": c.status,
        "status_label": {"zh": status.zh, "en": status.en},
        "title": c.title,
        "description": c.description,
        "category": c.category,
        "library": c.library,
        "channel": c.channel,
        "grid": c.grid,
        "building": c.building,
        "priority_visit": c.priority_visit,
        "anonymous": c.anonymous,
        "resident_ref": c.resident_ref,
        "raised_at": plain(c.raised_at),
        "raised_by": c.raised_by,
        "updated_at": plain(c.updated_at),
        "owner": plain(c.owner),
        "duty_role": c.duty_role,
        "due_on": plain(c.due_on),
        "due_history": plain(c.due_history),
        "round": c.round,
        "progress": plain(c.progress),
        "summary": c.summary,
        "resolved_at": plain(c.resolved_at),
        "feedback": plain(c.feedback),
        "awaiting_feedback": c.feedback_pending,
        "reason": c.reason,
        "missing": c.missing,
        "merged_into": plain(c.merged_into),
        "meeting_id": plain(c.meeting_id),
    }


def _public_notes(c: Concern) -> list[str]:
    notes = []
    if c.status == Status.DECLINED.value and c.reason:
        notes.append(c.reason)
    if c.summary:
        notes.append(c.summary)
    return notes
