"""The Meeting's commands: each checks the meeting's state and the rules, then records its
events (domain/meeting.py holds the state and the events, whose stored topics are
`domain.meeting:Meeting.<Event>`: they must not move)."""

# The commands are written against the aggregate they belong to (`self: Meeting`): mypy
# calls a self-type narrower than the class an error of kind "misc", and checks them all the
# same.
# mypy: disable-error-code="misc"

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import Conflict, Invalid
from domain.principal import Actor
from domain.vocabulary import Labelled
from domain.voting import Choice, Outcome, Rules, Tally, count

if TYPE_CHECKING:
    from domain.meeting import Meeting

# The meeting's vocabulary lives here, where the commands need it without importing
# domain/meeting.py (which imports this module); domain.meeting re-exports every name.
TITLE_MAX = 200
MINUTES_MAX = 20000


class MeetingKind(Labelled):
    THEMATIC_PARTY_DAY = ("thematic_party_day", "主题党日", "Thematic party day")
    COMMITTEE_SESSION = ("committee_session", "支委会", "Committee session")


class MeetingStatus(Labelled):
    SCHEDULED = ("scheduled", "已安排", "Scheduled")
    OPEN = ("open", "进行中", "In session")
    CLOSED = ("closed", "已结束", "Closed")


class ItemStatus(Labelled):
    PENDING = ("pending", "待表决", "Awaiting a vote")
    VOTING = ("voting", "表决中", "Vote open")
    DECIDED = ("decided", "已表决", "Decided")


def representative_names(names: list[str]) -> list[str]:
    """The resident representatives' names as given: trimmed, blank ones left out."""
    return [n.strip() for n in names if n.strip()]


class MeetingCommands:
    """The commands of `Meeting` (its base class): check, then record its events."""

    @classmethod
    def schedule(
        cls: type[Meeting],
        *,
        title: str,
        kind: MeetingKind,
        scheduled_for: datetime,
        place: str,
        chair: UUID,
        eligible_voters: list[UUID],
        rules: Rules,
        actor: Actor,
        at: datetime,
        deputy_chair: UUID | None = None,
    ) -> Meeting:
        """Schedule a meeting with its chair (and optionally a deputy who may run it in the
        chair's stead), the members entitled to vote and its rules."""
        clean = title.strip()
        if not clean or len(clean) > TITLE_MAX:
            raise Invalid([("title", f"is required, at most {TITLE_MAX} characters")])
        voters = list(dict.fromkeys(eligible_voters))
        if deputy_chair is not None and deputy_chair == chair:
            raise Invalid([("deputy_chair", "must be another member than the chair")])
        if not voters:
            raise Invalid([("eligible_voters", "at least one member must be entitled to vote")])
        return cls(
            title=clean,
            kind=kind.value,
            scheduled_for=scheduled_for,
            place=place.strip(),
            chair=chair,
            eligible_voters=voters,
            rules=rules.as_dict(),
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=at,
            deputy_chair=deputy_chair,
        )

    # -- commands -------------------------------------------------------------------------

    def add_item(self: Meeting, actor: Actor, concern_id: UUID, at: datetime) -> None:
        """Put a shortlisted concern on the agenda."""
        if self.status == MeetingStatus.CLOSED:
            raise Conflict("the meeting has already taken place", rule="meeting_closed")
        if concern_id in self.agenda:
            raise Conflict("the concern is already on this agenda", rule="already_on_agenda")
        self._item_added(concern_id, actor.id, actor.role.value, at)

    def open(
        self: Meeting,
        actor: Actor,
        present: list[UUID],
        representatives: list[dict[str, str]],
        at: datetime,
    ) -> None:
        """Open the meeting and record who attends; resident representatives come sealed
        ({"resident_ref", "name"}: see `representative_names`), never as plain names."""
        if self.status != MeetingStatus.SCHEDULED:
            raise Conflict(f"the meeting is {self.status}, not scheduled", rule="meeting_opened")
        self._opened(
            list(dict.fromkeys(present)),
            [],
            actor.id,
            actor.role.value,
            at,
            sealed_representatives=list(representatives),
        )

    def open_vote(
        self: Meeting, actor: Actor, concern_id: UUID, at: datetime, ballot_box: str | None = None
    ) -> None:
        """Open the vote on one agenda item; a secret ballot's choices are sealed under the
        key `ballot_box` names (destroyed when the vote closes)."""
        self._require_open()
        item = self._item(concern_id)
        if item["status"] == ItemStatus.VOTING:
            raise Conflict("the vote on this item is already open", rule="vote_already_open")
        if item["status"] == ItemStatus.DECIDED:
            raise Conflict("the vote on this item is closed", rule="vote_closed")
        quorum = self.quorum_now()
        if not quorum.reached:
            raise quorum.refusal(
                f"no quorum: {quorum.present} of {quorum.entitled} entitled members present,"
                f" {quorum.needed} needed (article {quorum.article})",
                "no_quorum",
            )
        if self.parsed_rules.secret and ballot_box is None:
            raise ValueError("a secret ballot needs a ballot box")  # the application's duty
        box = ballot_box if self.parsed_rules.secret else None
        self._vote_opened(
            concern_id, actor.id, actor.role.value, at, quorum=quorum.as_dict(), ballot_box=box
        )

    def record_attendance(
        self: Meeting, actor: Actor, arrived: list[UUID], left: list[UUID], at: datetime
    ) -> None:
        """Late arrivals and departures after opening, each kept with its time."""
        self._require_open()
        arrived, left = list(dict.fromkeys(arrived)), list(dict.fromkeys(left))
        if not arrived and not left:
            raise Invalid([("arrived", "name at least one member who arrived or left")])
        for member in arrived:
            if member in self.present:
                raise Conflict(f"member {member} is already present", rule="already_present")
        for member in left:
            if member not in self.present or member in arrived:
                raise Conflict(f"member {member} is not recorded as present", rule="not_present")
        for member in arrived:
            self._arrived(member, actor.id, actor.role.value, at)
        for member in left:
            self._left(member, actor.id, actor.role.value, at)

    def declare_inquorate(self: Meeting, actor: Actor, at: datetime) -> list[UUID]:
        """The chair declares the meeting without a quorum: every undecided item is
        deferred with that reason (returned); the meeting stays open for its minutes."""
        self._require_open()
        if any(self.items[str(c)]["status"] == ItemStatus.VOTING for c in self.agenda):
            raise Conflict("a vote is open: close it first", rule="vote_open")
        quorum = self.quorum_now()
        if quorum.reached:
            raise quorum.refusal(
                f"the quorum is present: {quorum.present} of {quorum.entitled}"
                f" ({quorum.needed} needed)",
                "quorum_present",
            )
        reason = (
            f"the chair declared the meeting inquorate: {quorum.present} of {quorum.entitled}"
            f" entitled members present, {quorum.needed} needed (article {quorum.article})"
        )
        deferred = {
            str(c): {
                **self.tally(c).as_dict(),
                "quorum_reached": False,
                "outcome": Outcome.DEFERRED.value,
                "reason": reason,
            }
            for c in self.undecided()
        }
        self._declared_inquorate(quorum.as_dict(), deferred, actor.id, actor.role.value, at)
        return [UUID(c) for c in deferred]

    def cast_vote(
        self: Meeting,
        actor: Actor,
        concern_id: UUID,
        voter: UUID,
        choice: Choice | None,
        by_chair: bool,
        at: datetime,
        sealed: str | None = None,
    ) -> None:
        """Record one member's vote; each entitled, present member votes once. In a secret
        ballot the member votes alone, `sealed` (the choice under the vote's key)."""
        self._require_open()
        secret = self.parsed_rules.secret
        if secret and by_chair:
            raise Conflict(
                "a secret ballot takes no show of hands: each member votes alone",
                rule="secret_ballot",
            )
        item = self._item(concern_id)
        if item["status"] == ItemStatus.DECIDED:
            raise Conflict("the vote on this item is closed", rule="vote_closed")
        if item["status"] != ItemStatus.VOTING:
            raise Conflict("the vote on this item has not been opened", rule="vote_not_open")
        if voter not in self.eligible_voters:
            raise Conflict(f"member {voter} is not entitled to vote", rule="not_entitled")
        if voter not in self.present:
            raise Conflict(f"member {voter} is not recorded as present", rule="not_present")
        if str(voter) in item["votes"]:
            raise Conflict(f"member {voter} has already voted on this item", rule="already_voted")
        if secret and sealed is not None:
            self._ballot_cast(concern_id, voter, sealed, actor.id, actor.role.value, at)
        elif choice is not None and not (secret and "ballot_box" in item):
            self._vote_cast(
                concern_id, voter, choice.value, by_chair, actor.id, actor.role.value, at
            )
        else:
            raise ValueError("an open vote takes a choice, a secret ballot a sealed one")

    def close_vote(
        self: Meeting,
        actor: Actor,
        concern_id: UUID,
        at: datetime,
        ballots: list[str] | None = None,
    ) -> Tally:
        """Close the vote and compute the outcome from the recorded votes; a secret ballot's
        from `ballots`, its opened choices (one per ballot cast), kept sorted: no order
        ties one back to its voter."""
        self._require_open()
        item = self._item(concern_id)
        if item["status"] == ItemStatus.DECIDED:
            raise Conflict("the vote on this item is already closed", rule="vote_closed")
        if item["status"] != ItemStatus.VOTING:
            raise Conflict("the vote on this item has not been opened", rule="vote_not_open")
        if not self.parsed_rules.secret or "ballot_box" not in item:
            # An open vote, or a secret one opened before ballots were sealed.
            tally = self.tally(concern_id)
            self._vote_closed(concern_id, tally.as_dict(), actor.id, actor.role.value, at)
            return tally
        if ballots is None or len(ballots) != len(item["votes"]):
            raise ValueError("every ballot cast must be opened and counted")
        present = item["quorum"]["present"]
        tally = count(ballots, len(self.eligible_voters), present, self.parsed_rules)
        self._vote_closed(
            concern_id, tally.as_dict(), actor.id, actor.role.value, at, ballots=sorted(ballots)
        )
        return tally

    def close(self: Meeting, actor: Actor, minutes: str, at: datetime) -> list[UUID]:
        """Close the meeting with its minutes; undecided items are deferred (returned)."""
        self._require_open()
        text = minutes.strip()
        if not text:
            raise Invalid([("minutes", "is required and must not be blank")])
        if len(text) > MINUTES_MAX:
            raise Invalid([("minutes", f"must be at most {MINUTES_MAX} characters")])
        deferred = {
            str(c): {
                **self.tally(c).as_dict(),
                "outcome": Outcome.DEFERRED.value,
                "reason": "undecided when the meeting closed",
            }
            for c in self.undecided()
        }
        self._closed(text, deferred, actor.id, actor.role.value, at)
        return [UUID(c) for c in deferred]

    def _require_open(self: Meeting) -> None:
        if self.status == MeetingStatus.SCHEDULED:
            raise Conflict("the meeting has not been opened", rule="meeting_not_open")
        if self.status == MeetingStatus.CLOSED:
            raise Conflict("the meeting is closed", rule="meeting_closed")
