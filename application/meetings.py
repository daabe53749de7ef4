"""The meeting's verbs: schedule, put on the agenda, open, vote, close; a decision moves
its concern in the same save."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency
from application.ports import ResidentKeyErased, SideRow
from domain.concern import Concern
from domain.errors import Conflict, Invalid
from domain.lifecycle import Action
from domain.meeting import Meeting, MeetingKind, representative_names
from domain.permissions import actor_for, meeting_actor, voting_actor
from domain.plain import plain
from domain.principal import Actor, Principal
from domain.residents import ResidentData
from domain.vocabulary import Role
from domain.voting import Choice, Rules

# A meeting command: changes the meeting, gives the concerns it changed too and what the
# answer says besides the meeting's version.
Command = Callable[[Meeting, Actor, datetime], tuple[list[Concern], dict[str, Any]]]


class MeetingCommands(MinqingBase):
    """One method per meeting command."""

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

        key_rows: list[SideRow] = []

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
            return [], {"quorum": m.quorum_now().as_dict()}

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "opening a meeting",
            idem,
            command,
            run=True,
            rows=key_rows,
        )

    def record_attendance(
        self,
        meeting_id: UUID,
        principal: Principal,
        arrived: list[UUID],
        left: list[UUID],
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record members arriving late or leaving after the meeting opened."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            for member in arrived:
                self._member(member, "arrived")
            for member in left:
                self._member(member, "left")
            m.record_attendance(actor, arrived, left, at)
            return [], {"quorum": m.quorum_now().as_dict()}

        return self._change_meeting(
            meeting_id, principal, {Role.CHAIR}, "recording attendance", idem, command, run=True
        )

    def declare_inquorate(
        self,
        meeting_id: UUID,
        principal: Principal,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Declare the meeting without a quorum: its undecided items go back to the
        committee with that reason."""

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            deferred = m.declare_inquorate(actor, at)
            concerns = []
            for concern_id in deferred:
                concern = self._find_concern(concern_id)
                concern.record_outcome(actor, m.id, m.items[str(concern_id)]["tally"], at)
                concerns.append(concern)
            return concerns, {"deferred": [str(c) for c in deferred]}

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "declaring the meeting inquorate",
            idem,
            command,
            run=True,
        )

    def open_vote(
        self,
        meeting_id: UUID,
        principal: Principal,
        concern_id: UUID,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Open the vote on one agenda item."""

        key_rows: list[SideRow] = []

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            # A secret ballot gets a key of its own, saved with the opening.
            key_rows.clear()
            box = self.keyring.ballot_box() if m.parsed_rules.secret else None
            m.open_vote(actor, concern_id, at, box.resident_ref if box else None)
            key_rows.extend([box] if box else [])
            return [], {"concern_id": str(concern_id)}

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "opening a vote",
            idem,
            command,
            run=True,
            rows=key_rows,
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
        if idem is not None and self.get_meeting(meeting_id).parsed_rules.secret:
            # The request's fingerprint hashes its body: with three choices it could be
            # guessed back from the stored key row, so a secret vote's leaves the body out.
            plain_fp = hashlib.sha256(f"secret ballot {meeting_id} {concern_id}".encode())
            idem = replace(idem, fingerprint=plain_fp.hexdigest())

        def command(m: Meeting, _: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            secret = m.parsed_rules.secret
            if by_chair and not secret:  # a show of hands is recorded by this meeting's chair
                self._chair(principal, m, "recording another member's vote")
            sealed = None
            item = m.items.get(str(concern_id), {})
            if secret and not by_chair and item.get("ballot_box"):
                sealed = self.keyring.seal_ballot(item["ballot_box"], choice.value)
            m.cast_vote(actor, concern_id, member, choice, by_chair, at, sealed=sealed)
            if secret:
                shown = {"voted": m.voted(concern_id)}
            else:
                tally = m.tally(concern_id).as_dict()
                shown = {k: tally[k] for k in ("for", "against", "abstain", "voted")}
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

        destroyed: list[SideRow] = []

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            # A secret ballot: open every sealed choice, count them, destroy the key in the
            # same save; from then on no ballot can be tied to its voter.
            destroyed.clear()
            boxes = m.ballot_boxes([concern_id])
            ballots = None
            if boxes:
                sealed = [v["sealed"] for v in m.items[str(concern_id)]["votes"].values()]
                opened = [self.keyring.open_ballot(boxes[0], s) for s in sealed]
                ballots = [c for c in opened if c is not None]
                destroyed.append(ResidentKeyErased(boxes[0], at.isoformat()))
            tally = m.close_vote(actor, concern_id, at, ballots).as_dict()
            concern = self._find_concern(concern_id)
            concern.record_outcome(actor, m.id, tally, at)
            return [concern], {
                "concern_id": str(concern_id),
                "outcome": tally["outcome"],
                "tally": tally,
                "concern_status": concern.status,
            }

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "closing a vote",
            idem,
            command,
            run=True,
            rows=destroyed,
        )

    def close_meeting(
        self,
        meeting_id: UUID,
        principal: Principal,
        minutes: str,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Close the meeting with its minutes; undecided items go back to the committee."""

        destroyed: list[SideRow] = []

        def command(m: Meeting, actor: Actor, at: datetime) -> tuple[list[Concern], dict[str, Any]]:
            # A secret vote left open is never counted: its key is destroyed unread.
            destroyed[:] = [
                ResidentKeyErased(box, at.isoformat()) for box in m.ballot_boxes(m.undecided())
            ]
            deferred = m.close(actor, minutes, at)
            concerns = []
            for concern_id in deferred:
                concern = self._find_concern(concern_id)
                concern.record_outcome(actor, m.id, m.items[str(concern_id)]["tally"], at)
                concerns.append(concern)
            return concerns, {"deferred": [str(c) for c in deferred]}

        return self._change_meeting(
            meeting_id,
            principal,
            {Role.CHAIR},
            "closing a meeting",
            idem,
            command,
            run=True,
            rows=destroyed,
        )

    def _change_meeting(
        self,
        meeting_id: UUID,
        principal: Principal,
        roles: set[Role] | None,
        doing: str,
        idem: Idempotency | None,
        command: Command,
        *,
        run: bool = False,
        rows: list[SideRow] | None = None,
    ) -> CommandResult:
        """Run a meeting command that needs one of `roles` (None: a vote, checked by the
        command); with `run`, only the meeting's own chair or deputy chair may take it."""
        if (replay := self._replay(idem)) is not None:
            return replay
        member_actor = Actor(principal.id, Role.MEMBER)
        actor = meeting_actor(principal, roles, doing) if roles else member_actor

        def attempt() -> CommandResult | None:
            meeting = self.get_meeting(meeting_id)
            by = self._chair(principal, meeting, doing) if run else actor
            concerns, extra = command(meeting, by, self.clock())
            result = CommandResult(
                id=str(meeting.id),
                version=meeting.version,
                position=0,
                status=meeting.status,
                extra=plain(extra),
            )
            # `rows` is filled by the command (key rows of what it sealed).
            return self._save(meeting, concerns, result, idem, list(rows or []))

        return self._until_saved(attempt, f"meeting {meeting_id} kept changing; try again")
