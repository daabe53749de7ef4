"""The Meeting aggregate: a branch meeting's agenda, attendance, votes and outcomes.

Its state, queries and events live here (their stored topics are
`domain.meeting:Meeting.<Event>`, filtered in SQL and hashed into the audit chain: they must
not move); its commands, which check the rules and choose the events, in
domain/meeting_commands.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict

# The meeting's vocabulary is imported from here, as it always was.
from domain.meeting_commands import MINUTES_MAX as MINUTES_MAX
from domain.meeting_commands import TITLE_MAX as TITLE_MAX
from domain.meeting_commands import ItemStatus as ItemStatus
from domain.meeting_commands import MeetingCommands
from domain.meeting_commands import MeetingKind as MeetingKind
from domain.meeting_commands import MeetingStatus as MeetingStatus
from domain.meeting_commands import representative_names as representative_names
from domain.quorum import QuorumCheck, judge
from domain.voting import Rules, Tally, count


class Meeting(MeetingCommands, Aggregate):
    """A meeting that deliberates and votes on shortlisted concerns."""

    @event("Scheduled")
    def __init__(
        self,
        *,
        title: str,
        kind: str,
        scheduled_for: datetime,
        place: str,
        chair: UUID,
        eligible_voters: list[UUID],
        rules: dict[str, str],
        actor_id: str,
        actor_role: str,
        at: datetime,
        deputy_chair: UUID | None = None,
    ) -> None:
        # deputy_chair came later: events scheduled before it have none (the default).
        self.title = title
        self.kind = kind
        self.scheduled_for = scheduled_for
        self.place = place
        self.chair = chair
        self.deputy_chair = deputy_chair
        self.eligible_voters = eligible_voters
        self.rules = rules
        self.status = MeetingStatus.SCHEDULED.value
        self.agenda: list[UUID] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.present: list[UUID] = []
        # Plain names only in meetings opened before names were sealed; since then each
        # representative is {"resident_ref", "name" (ciphertext)} in sealed_representatives.
        self.resident_representatives: list[str] = []
        self.sealed_representatives: list[dict[str, str]] = []
        self.opened_at: datetime | None = None
        self.closed_at: datetime | None = None
        self.minutes: str | None = None
        self.scheduled_by = actor_id
        # Arrivals and departures after opening, in order: {"member", "arrived"|"left", "at"}.
        self.movements: list[dict[str, Any]] = []
        self.inquorate: dict[str, Any] | None = None

    # -- queries --------------------------------------------------------------------------

    @property
    def parsed_rules(self) -> Rules:
        """The meeting's rules as a value."""
        return Rules(**self.rules)

    def runners(self) -> frozenset[UUID]:
        """The members who may run this meeting: its chair and its deputy, if named."""
        return frozenset(m for m in (self.chair, self.deputy_chair) if m is not None)

    def entitled_present(self) -> list[UUID]:
        """Members both entitled to vote and present."""
        present = set(self.present)
        return [m for m in self.eligible_voters if m in present]

    def quorum_now(self) -> QuorumCheck:
        """The quorum as it stands with the members present now."""
        return judge(
            self.kind, self.parsed_rules, len(self.eligible_voters), len(self.entitled_present())
        )

    def tally(self, concern_id: UUID) -> Tally:
        """The item's count so far and the outcome the rules would give it now; the members
        present are those when its vote opened (votes opened before that was recorded, and
        items never opened, count those present now)."""
        item = self._item(concern_id)
        choices = [v["choice"] for v in item["votes"].values() if "choice" in v]
        judged = item.get("quorum")
        present = judged["present"] if judged else len(self.entitled_present())
        return count(choices, len(self.eligible_voters), present, self.parsed_rules)

    def undecided(self) -> list[UUID]:
        """Agenda items without an outcome yet."""
        return [c for c in self.agenda if self.items[str(c)]["status"] != ItemStatus.DECIDED]

    def voted(self, concern_id: UUID) -> int:
        """How many have voted on the item (known while a secret ballot is open)."""
        return len(self._item(concern_id)["votes"])

    def ballot_boxes(self, concern_ids: list[UUID]) -> list[str]:
        """The keys of these items' secret ballots still open (to destroy when they close)."""
        items = [self._item(c) for c in concern_ids]
        return [
            i["ballot_box"]
            for i in items
            if i["status"] == ItemStatus.VOTING and i.get("ballot_box")
        ]

    def _item(self, concern_id: UUID) -> dict[str, Any]:
        item = self.items.get(str(concern_id))
        if item is None:
            raise Conflict(f"concern {concern_id} is not on this agenda", rule="not_on_agenda")
        return item

    # -- events: only assign --------------------------------------------------------------

    @event("ItemAdded")
    def _item_added(self, concern_id: UUID, actor_id: str, actor_role: str, at: datetime) -> None:
        self.agenda.append(concern_id)
        self.items[str(concern_id)] = {
            "status": ItemStatus.PENDING.value,
            "votes": {},
            "tally": None,
        }

    @event("Opened")
    def _opened(
        self,
        present: list[UUID],
        resident_representatives: list[str],
        actor_id: str,
        actor_role: str,
        at: datetime,
        sealed_representatives: list[dict[str, str]] | None = None,
    ) -> None:
        self.status = MeetingStatus.OPEN.value
        self.present = present
        self.resident_representatives = resident_representatives
        self.sealed_representatives = sealed_representatives or []
        self.opened_at = at

    @event("VoteOpened")
    def _vote_opened(
        self,
        concern_id: UUID,
        actor_id: str,
        actor_role: str,
        at: datetime,
        quorum: dict[str, Any] | None = None,
        ballot_box: str | None = None,
    ) -> None:
        # quorum and ballot_box came later: votes opened before judged the quorum only at
        # close, and a secret ballot's VoteCast held its choice.
        item = self.items[str(concern_id)]
        item["status"] = ItemStatus.VOTING.value
        if quorum is not None:
            item["quorum"] = quorum
        if ballot_box is not None:
            item["ballot_box"] = ballot_box

    @event("Arrived")
    def _arrived(self, member: UUID, actor_id: str, actor_role: str, at: datetime) -> None:
        self.present.append(member)
        self.movements.append({"member": member, "change": "arrived", "at": at})

    @event("Left")
    def _left(self, member: UUID, actor_id: str, actor_role: str, at: datetime) -> None:
        self.present.remove(member)
        self.movements.append({"member": member, "change": "left", "at": at})

    @event("DeclaredInquorate")
    def _declared_inquorate(
        self,
        quorum: dict[str, Any],
        deferred: dict[str, dict[str, Any]],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.inquorate = {**quorum, "at": at}
        for concern_id, tally in deferred.items():
            self.items[concern_id]["status"] = ItemStatus.DECIDED.value
            self.items[concern_id]["tally"] = tally

    @event("VoteCast")
    def _vote_cast(
        self,
        concern_id: UUID,
        voter: UUID,
        choice: str,
        by_chair: bool,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.items[str(concern_id)]["votes"][str(voter)] = {
            "choice": choice,
            "by_chair": by_chair,
            "at": at,
        }

    @event("BallotCast")
    def _ballot_cast(
        self,
        concern_id: UUID,
        voter: UUID,
        sealed_choice: str,
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        # Who voted is public; the choice is sealed under the vote's key only.
        self.items[str(concern_id)]["votes"][str(voter)] = {
            "sealed": sealed_choice,
            "by_chair": False,
            "at": at,
        }

    @event("VoteClosed")
    def _vote_closed(
        self,
        concern_id: UUID,
        tally: dict[str, Any],
        actor_id: str,
        actor_role: str,
        at: datetime,
        ballots: list[str] | None = None,
    ) -> None:
        item = self.items[str(concern_id)]
        item["status"] = ItemStatus.DECIDED.value
        item["tally"] = tally
        if ballots is not None:
            item["ballots"] = ballots
            for vote in item["votes"].values():
                vote.pop("sealed", None)  # unreadable from now on: the key is destroyed

    @event("Closed")
    def _closed(
        self,
        minutes: str,
        deferred: dict[str, dict[str, Any]],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        self.status = MeetingStatus.CLOSED.value
        self.minutes = minutes
        self.closed_at = at
        for concern_id, tally in deferred.items():
            self.items[concern_id]["status"] = ItemStatus.DECIDED.value
            self.items[concern_id]["tally"] = tally
