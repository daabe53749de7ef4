"""Events of the Concern that record a fact beside the lifecycle: stages past their limit,
photos, supervision cards and replies, extension requests, suspensions, appeals,
co-signers, milestones, writing off, the void (whose approval closes the concern). Each is
imported into `Concern`'s class body (domain/concern.py), which makes it the aggregate's own
event with the topic
`domain.concern:Concern.<Event>`."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import event

if TYPE_CHECKING:
    from domain.concern import Concern


@event("StageMissed")
def _stage_missed(
    self: Concern,
    stage: str,
    started_at: datetime,
    deadline: datetime,
    owner: UUID | None,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    self.missed_stages.append(
        {"stage": stage, "started_at": started_at, "deadline": deadline, "at": at}
    )


@event("PhotoAttached")
def _photo_attached(
    self: Concern,
    digest: str,
    kind: str,
    content_type: str,
    width: int,
    height: int,
    size: int,
    caption: str | None,
    publishable: bool,
    shows_resident: bool,
    round: int,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    # A fact about the concern, like DeadlineMissed: its status and updated_at stay.
    self.photos.append(
        {
            "digest": digest,
            "kind": kind,
            "content_type": content_type,
            "width": width,
            "height": height,
            "size": size,
            "caption": caption,
            "publishable": publishable,
            "shows_resident": shows_resident,
            "round": round,
            "by": actor_id,
            "at": at,
        }
    )


@event("SupervisionCardIssued")
def _card_issued(
    self: Concern,
    number: int,
    grade: str,
    reason: str,
    stage: str | None,
    stage_started_at: datetime | None,
    requirement: str,
    reply_by: date | None,
    automatic: bool,
    owner: UUID | None,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    self.cards.append(
        {
            "number": number,
            "grade": grade,
            "reason": reason,
            "stage": stage,
            "stage_started_at": stage_started_at,
            "requirement": requirement,
            "reply_by": reply_by,
            "automatic": automatic,
            "owner": owner,
            "issued_by": actor_id,
            "issued_at": at,
            "reply": None,
            "replied_at": None,
        }
    )


@event("SupervisionReplied")
def _supervision_replied(
    self: Concern, number: int, reply: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    card = self.cards[number - 1]
    card["reply"] = reply
    card["replied_at"] = at
    card["replied_by"] = actor_id


@event("ExtensionRequested")
def _extension_requested(
    self: Concern, reason: str, due_on: date | None, actor_id: str, actor_role: str, at: datetime
) -> None:
    self.extension_request = {"reason": reason, "due_on": due_on, "by": actor_id, "at": at}


@event("ExtensionRefused")
def _extension_refused(
    self: Concern, reason: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    self.extension_request = None


@event("SuspensionRequested")
def _suspension_requested(
    self: Concern,
    reason: str,
    until: date,
    stage: str,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    self.suspension_request = {"reason": reason, "until": until, "by": actor_id, "at": at}


@event("SuspensionApproved")
def _suspension_approved(
    self: Concern, until: date, actor_id: str, actor_role: str, at: datetime
) -> None:
    request = self.suspension_request or {}
    self.suspension = {
        "reason": request.get("reason"),
        "requested_by": request.get("by"),
        "until": until,
        "since": at,
        "approved_by": actor_id,
        "ended": None,
        "automatic": None,
    }
    self.suspension_request = None


@event("SuspensionRefused")
def _suspension_refused(
    self: Concern, reason: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    self.suspension_request = None


@event("Resumed")
def _resumed(
    self: Concern,
    automatic: bool,
    ended: datetime,
    due_on: date | None,
    previous_due_on: date | None,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    # The clock ran again from `ended` (the until date's start when the watcher resumes
    # it late); the due date moved later by the suspended time.
    if self.suspension is not None:
        self.suspension.update(ended=ended, automatic=automatic, resumed_by=actor_id)
    self.due_on = due_on


@event("AppealLodged")
def _appeal_lodged(
    self: Concern, stage: str, reason: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    self.appeal = {"stage": stage, "reason": reason, "by": actor_id, "at": at}
    self.appeal["approved"] = None


@event("AppealDecided")
def _appeal_decided(
    self: Concern,
    stage: str,
    approved: bool,
    reason: str,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    if self.appeal is not None:
        self.appeal.update(approved=approved, decision=reason, decided_by=actor_id, decided_at=at)


@event("CosignerAdded")
def _cosigner_added(
    self: Concern,
    resident_ref: str | None,
    resident_data: str | None,
    anonymous: bool,
    channel: str,
    from_concern: UUID | None,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    # A fact about who raised the matter: status and updated_at stay as they were.
    self.cosigners.append(
        {
            "resident_ref": resident_ref,
            "resident_data": resident_data,
            "anonymous": anonymous,
            "channel": channel,
            "from_concern": from_concern,
            "at": at,
        }
    )


@event("MilestoneAdded")
def _milestone_added(
    self: Concern,
    status: str,
    milestone_id: UUID,
    title: str,
    due_on: date,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    self.status = status
    self.milestones.append(
        {"id": milestone_id, "title": title, "due_on": due_on, "done_at": None, "note": ""}
    )
    self.updated_at = at


@event("MilestoneDone")
def _milestone_done(
    self: Concern,
    status: str,
    milestone_id: UUID,
    note: str,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    self.status = status
    for m in self.milestones:
        if m["id"] == milestone_id:
            m.update(done_at=at, note=note)
    self.updated_at = at


@event("WrittenOff")
def _written_off(
    self: Concern, status: str, note: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    self.status = status
    self.written_off_at = at
    self.updated_at = at


@event("VoidProposed")
def _void_proposed(
    self: Concern, reason: str, actor_id: str, actor_role: str, at: datetime
) -> None:
    # A fact beside the lifecycle: the status stays until a supervisor decides.
    self.void_proposal = {"reason": reason, "by": actor_id, "at": at}


@event("VoidApproved")
def _void_approved(
    self: Concern,
    status: str,
    previous_status: str,
    reason: str,
    actor_id: str,
    actor_role: str,
    at: datetime,
) -> None:
    # `reason` repeats the proposal's, so the closing event says why on its own.
    self.status = status
    self.void_proposal = None
    self.voided = {"reason": reason, "by": actor_id, "at": at, "from": previous_status}
    self.updated_at = at


@event("VoidRefused")
def _void_refused(self: Concern, reason: str, actor_id: str, actor_role: str, at: datetime) -> None:
    self.void_proposal = None
