"""The Meeting aggregate: a branch meeting's agenda, attendance, votes and outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, Invalid
from domain.principal import Actor
from domain.vocabulary import Labelled
from domain.voting import Choice, Outcome, Rules, Tally, count

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


class Meeting(Aggregate):
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

    @classmethod
    def schedule(
        cls,
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

    def tally(self, concern_id: UUID) -> Tally:
        """The item's count so far and the outcome the rules would give it now."""
        item = self._item(concern_id)
        choices = [v["choice"] for v in item["votes"].values()]
        return count(
            choices, len(self.eligible_voters), len(self.entitled_present()), self.parsed_rules
        )

    def undecided(self) -> list[UUID]:
        """Agenda items without an outcome yet."""
        return [c for c in self.agenda if self.items[str(c)]["status"] != ItemStatus.DECIDED]

    # -- commands -------------------------------------------------------------------------

    def add_item(self, actor: Actor, concern_id: UUID, at: datetime) -> None:
        """Put a shortlisted concern on the agenda."""
        if self.status == MeetingStatus.CLOSED:
            raise Conflict("the meeting has already taken place", rule="meeting_closed")
        if concern_id in self.agenda:
            raise Conflict("the concern is already on this agenda", rule="already_on_agenda")
        self._item_added(concern_id, actor.id, actor.role.value, at)

    def open(
        self,
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

    def open_vote(self, actor: Actor, concern_id: UUID, at: datetime) -> None:
        """Open the vote on one agenda item."""
        self._require_open()
        item = self._item(concern_id)
        if item["status"] == ItemStatus.VOTING:
            raise Conflict("the vote on this item is already open", rule="vote_already_open")
        if item["status"] == ItemStatus.DECIDED:
            raise Conflict("the vote on this item is closed", rule="vote_closed")
        self._vote_opened(concern_id, actor.id, actor.role.value, at)

    def cast_vote(
        self,
        actor: Actor,
        concern_id: UUID,
        voter: UUID,
        choice: Choice,
        by_chair: bool,
        at: datetime,
    ) -> None:
        """Record one member's vote; each entitled, present member votes once."""
        self._require_open()
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
        self._vote_cast(concern_id, voter, choice.value, by_chair, actor.id, actor.role.value, at)

    def close_vote(self, actor: Actor, concern_id: UUID, at: datetime) -> Tally:
        """Close the vote and compute the outcome from the recorded votes."""
        self._require_open()
        item = self._item(concern_id)
        if item["status"] == ItemStatus.DECIDED:
            raise Conflict("the vote on this item is already closed", rule="vote_closed")
        if item["status"] != ItemStatus.VOTING:
            raise Conflict("the vote on this item has not been opened", rule="vote_not_open")
        tally = self.tally(concern_id)
        self._vote_closed(concern_id, tally.as_dict(), actor.id, actor.role.value, at)
        return tally

    def close(self, actor: Actor, minutes: str, at: datetime) -> list[UUID]:
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

    def _require_open(self) -> None:
        if self.status == MeetingStatus.SCHEDULED:
            raise Conflict("the meeting has not been opened", rule="meeting_not_open")
        if self.status == MeetingStatus.CLOSED:
            raise Conflict("the meeting is closed", rule="meeting_closed")

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
    def _vote_opened(self, concern_id: UUID, actor_id: str, actor_role: str, at: datetime) -> None:
        self.items[str(concern_id)]["status"] = ItemStatus.VOTING.value

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

    @event("VoteClosed")
    def _vote_closed(
        self,
        concern_id: UUID,
        tally: dict[str, Any],
        actor_id: str,
        actor_role: str,
        at: datetime,
    ) -> None:
        item = self.items[str(concern_id)]
        item["status"] = ItemStatus.DECIDED.value
        item["tally"] = tally

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
