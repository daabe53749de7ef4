"""The published event contract, as an allowlist: one declaration per event class, the
fields integrators receive (with their JSON Schema) and those withheld, with the reason
(the `Contract` itself is domain/event_contract.py's). domain/cloudevents.py wraps each
published event in its CloudEvents 1.0 envelope."""

from __future__ import annotations

from domain.concern import Concern
from domain.event_contract import Contract, of
from domain.hotspot import PROACTIVE_CHANNEL, Hotspot
from domain.json_schema import (
    BOOLEAN,
    DATE_STRING,
    DATETIME_STRING,
    DUTY_ROLE,
    INTEGER,
    QUORUM,
    RULES,
    STATUS,
    STRING,
    TALLY,
    UUID_STRING,
    array,
    enum,
    nullable,
)
from domain.meeting import Meeting, MeetingKind
from domain.member import Member
from domain.photos import PhotoKind
from domain.resident_record import Resident
from domain.service import Rating
from domain.supervision import Grade
from domain.visit import Visit
from domain.vocabulary import Category, Channel, Library, Satisfaction
from domain.voting import Choice

_REASON = {"status": STATUS, "reason": STRING}
_ASSIGNMENT = {
    "status": STATUS,
    "owner": UUID_STRING,
    "duty_role": DUTY_ROLE,
    "due_on": DATE_STRING,
    "note": STRING,
}
_OUTCOME = {"status": STATUS, "meeting_id": UUID_STRING, "tally": TALLY}

CONTRACTS: tuple[Contract, ...] = (
    Contract(
        of(Concern, "Raised"),
        {
            "reference": STRING,
            "title": STRING,
            "description": STRING,
            "category": enum(Category),
            "library": enum(Library),
            "channel": enum([*(c.value for c in Channel), PROACTIVE_CHANNEL]),
            "grid": STRING,
            "building": nullable(STRING),
            "resident_ref": {
                "type": ["string", "null"],
                "description": "a stable pseudonym of the resident; never their identity",
            },
            "anonymous": BOOLEAN,
            "place": nullable(UUID_STRING),
            "kind": {
                **enum(("resident", "proactive")),
                "description": "proactive: raised by the system from a hotspot (主动治理)",
            },
            "hotspot": nullable(UUID_STRING),
            "linked": {
                "type": ["array", "null"],
                "items": UUID_STRING,
                "description": "a proactive concern's: the concerns behind its hotspot",
            },
        },
        withheld={
            "location": "the exact point the phone gave: staff only (a public output shows at "
            "most its coarse cell)",
            "resident_data": "the resident's name, phone and address (encrypted): personal",
            "tracking_code": "the resident's credential for tracking and feedback",
            "priority_visit": "the household's circumstances (hardship, petitioner, "
            "elderly or sick): sensitive personal data",
        },
    ),
    Contract(of(Concern, "Referred"), {"status": STATUS, "note": STRING}),
    Contract(
        of(Concern, "CosignerAdded"),
        {
            "resident_ref": {
                "type": ["string", "null"],
                "description": "a stable pseudonym of the resident; never their identity",
            },
            "anonymous": BOOLEAN,
            "channel": enum(Channel),
            "from_concern": nullable(UUID_STRING),
        },
        withheld={"resident_data": "the resident's name, phone and address (encrypted): personal"},
    ),
    Contract(of(Concern, "HandledNow"), _ASSIGNMENT),
    Contract(of(Concern, "Declined"), _REASON),
    Contract(
        of(Concern, "Merged"),
        {"status": STATUS, "into": UUID_STRING, "note": STRING},
    ),
    Contract(of(Concern, "Withdrawn"), _REASON),
    Contract(of(Concern, "Assigned"), _ASSIGNMENT),
    Contract(
        of(Concern, "Shortlisted"),
        {"status": STATUS, "meeting_id": UUID_STRING, "meeting_title": STRING},
    ),
    Contract(of(Concern, "AdoptedAtMeeting"), _OUTCOME),
    Contract(of(Concern, "RejectedAtMeeting"), {**_OUTCOME, "reason": STRING}),
    Contract(of(Concern, "DeferredAtMeeting"), _OUTCOME),
    Contract(
        of(Concern, "ReturnedForInfo"),
        {"status": STATUS, "missing": STRING},
    ),
    Contract(
        of(Concern, "ProgressRecorded"),
        {"status": STATUS, "note": STRING},
    ),
    Contract(
        of(Concern, "DeadlineExtended"),
        {
            "status": STATUS,
            "due_on": DATE_STRING,
            "previous_due_on": nullable(DATE_STRING),
            "reason": STRING,
        },
    ),
    Contract(
        of(Concern, "Reassigned"),
        {
            "status": STATUS,
            "owner": UUID_STRING,
            "duty_role": DUTY_ROLE,
            "previous_owner": nullable(UUID_STRING),
            "reason": STRING,
        },
    ),
    Contract(of(Concern, "SentBack"), _REASON),
    Contract(
        of(Concern, "Resolved"),
        {"status": STATUS, "summary": STRING, "on_time": BOOLEAN},
    ),
    Contract(
        of(Concern, "FeedbackRecorded"),
        {
            "status": STATUS,
            "solved": BOOLEAN,
            "satisfaction": enum(Satisfaction),
            "comment": STRING,
        },
    ),
    Contract(
        of(Concern, "DeadlineMissed"),
        {"due_on": DATE_STRING, "owner": nullable(UUID_STRING)},
    ),
    Contract(
        of(Concern, "FeedbackOverdue"),
        {"round": INTEGER, "window_days": INTEGER},
    ),
    Contract(
        of(Concern, "StageMissed"),
        {
            "stage": STRING,
            "started_at": DATETIME_STRING,
            "deadline": DATETIME_STRING,
            "owner": nullable(UUID_STRING),
        },
    ),
    Contract(
        of(Concern, "PhotoAttached"),
        {
            "digest": {**STRING, "description": "SHA-256 of the photo's bytes, hex"},
            "kind": enum(PhotoKind),
            "content_type": STRING,
            "width": INTEGER,
            "height": INTEGER,
            "size": INTEGER,
            "publishable": BOOLEAN,
            "shows_resident": BOOLEAN,
            "round": INTEGER,
        },
        withheld={"caption": "free text that may describe a resident"},
    ),
    Contract(
        of(Concern, "SupervisionCardIssued"),
        {
            "number": INTEGER,
            "grade": enum(Grade),
            "reason": STRING,
            "stage": nullable(STRING),
            "stage_started_at": nullable(DATETIME_STRING),
            "requirement": STRING,
            "reply_by": nullable(DATE_STRING),
            "automatic": BOOLEAN,
            "owner": nullable(UUID_STRING),
        },
    ),
    Contract(of(Concern, "SupervisionReplied"), {"number": INTEGER, "reply": STRING}),
    Contract(
        of(Concern, "ExtensionRequested"), {"reason": STRING, "due_on": nullable(DATE_STRING)}
    ),
    Contract(of(Concern, "ExtensionRefused"), {"reason": STRING}),
    Contract(
        of(Concern, "SuspensionRequested"),
        {"reason": STRING, "until": DATE_STRING, "stage": STRING},
    ),
    Contract(of(Concern, "SuspensionApproved"), {"until": DATE_STRING}),
    Contract(of(Concern, "SuspensionRefused"), {"reason": STRING}),
    Contract(
        of(Concern, "Resumed"),
        {
            "automatic": BOOLEAN,
            "ended": DATETIME_STRING,
            "due_on": nullable(DATE_STRING),
            "previous_due_on": nullable(DATE_STRING),
        },
    ),
    Contract(of(Concern, "AppealLodged"), {"stage": STRING, "reason": STRING}),
    Contract(
        of(Concern, "AppealDecided"), {"stage": STRING, "approved": BOOLEAN, "reason": STRING}
    ),
    Contract(of(Concern, "VoidProposed"), {"reason": STRING}),
    Contract(
        of(Concern, "VoidApproved"),
        {"status": STATUS, "previous_status": STATUS, "reason": STRING},
    ),
    Contract(of(Concern, "VoidRefused"), {"reason": STRING}),
    Contract(
        of(Concern, "Reopened"),
        {"status": STATUS, "reason": STRING, "by_feedback": BOOLEAN},
    ),
    Contract(
        of(Concern, "MilestoneAdded"),
        {
            "status": STATUS,
            "milestone_id": UUID_STRING,
            "title": STRING,
            "due_on": DATE_STRING,
        },
    ),
    Contract(
        of(Concern, "MilestoneDone"),
        {"status": STATUS, "milestone_id": UUID_STRING, "note": STRING},
    ),
    Contract(of(Concern, "WrittenOff"), {"status": STATUS, "note": STRING}),
    Contract(of(Member, "PublicIdentitySet"), {"shown": BOOLEAN}),
    Contract(of(Member, "ReportedIn"), {"organisation": STRING, "reported_on": DATE_STRING}),
    Contract(
        of(Member, "Badged"),
        {},
        withheld={"badge_number": "identifies a volunteer in person: personal"},
    ),
    Contract(
        of(Member, "FeedbackGiven"),
        {"period": STRING, "rating": enum(Rating)},
        withheld={"comment": "the community's words about a person: personal"},
    ),
    Contract(
        of(Meeting, "Scheduled"),
        {
            "title": STRING,
            "kind": enum(MeetingKind),
            "scheduled_for": DATETIME_STRING,
            "place": STRING,
            "chair": UUID_STRING,
            "deputy_chair": nullable(UUID_STRING),
            "eligible_voters": array(UUID_STRING),
            "rules": RULES,
        },
    ),
    Contract(of(Meeting, "ItemAdded"), {"concern_id": UUID_STRING}),
    Contract(
        of(Meeting, "Opened"),
        {"present": array(UUID_STRING)},
        withheld={
            "resident_representatives": "names of residents: personal",
            "sealed_representatives": "names of residents, encrypted, and their pseudonyms",
        },
    ),
    Contract(
        of(Meeting, "VoteOpened"),
        {
            "concern_id": UUID_STRING,
            "quorum": {
                **nullable(QUORUM),
                "description": "the quorum judged as the vote opened (null before it was)",
            },
        },
        withheld={"ballot_box": "a secret ballot's key's name: internal"},
    ),
    Contract(of(Meeting, "Arrived"), {"member": UUID_STRING}),
    Contract(of(Meeting, "Left"), {"member": UUID_STRING}),
    Contract(
        of(Meeting, "DeclaredInquorate"),
        {"quorum": QUORUM, "deferred": {"type": "object", "additionalProperties": TALLY}},
    ),
    Contract(
        of(Meeting, "VoteCast"),
        {
            "concern_id": UUID_STRING,
            "voter": UUID_STRING,
            "choice": {
                **enum(Choice),
                "description": "left out when the meeting holds a secret ballot",
            },
            "by_chair": BOOLEAN,
        },
        secret_ballot_fields=frozenset({"choice"}),
    ),
    Contract(
        of(Meeting, "BallotCast"),
        {"concern_id": UUID_STRING, "voter": UUID_STRING},
        withheld={"sealed_choice": "a secret ballot's choice, sealed under the vote's key"},
    ),
    Contract(
        of(Meeting, "VoteClosed"),
        {
            "concern_id": UUID_STRING,
            "tally": TALLY,
            "ballots": {
                **nullable(array(enum(Choice))),
                "description": "a secret ballot's choices, sorted: tied to no voter",
            },
        },
    ),
    Contract(
        of(Meeting, "Closed"),
        {
            "minutes": STRING,
            "deferred": {"type": "object", "additionalProperties": TALLY},
        },
    ),
    Contract(
        of(Member, "Registered"),
        {
            "grids": array(STRING),
            "duty_roles": array(DUTY_ROLE),
            "votes_in_branch": BOOLEAN,
        },
        withheld={"name": "a person's name: personal (staff read it from /api/v1/members)"},
    ),
    Contract(
        of(Visit, "Recorded"),
        {
            "grid": STRING,
            "visited_on": DATE_STRING,
            "concern_ids": array(UUID_STRING),
        },
        withheld={
            "household": "which household was visited: a resident's address, personal",
            "household_ref": "the household's pseudonym: links visits to one address",
            "household_sealed": "the household's address, encrypted: personal",
            "household_key": "a keyed hash of the household: links visits to one address",
            "priority_visit": "the household's circumstances (hardship, petitioner, "
            "elderly or sick): sensitive personal data",
            "notes": "the collector's notes about the household: may be personal",
        },
    ),
    # Published so a consumer that keeps anything keyed by the pseudonym can drop it too.
    Contract(
        of(Resident, "DataErased"),
        {
            "resident_ref": {
                "type": "string",
                "description": "the pseudonym whose personal data was erased",
            }
        },
    ),
    # A hotspot as recorded: a place id or a cell (never a point), its window and concerns.
    Contract(
        of(Hotspot, "Detected"),
        {
            "grid": STRING,
            "kind": enum(("place", "cell")),
            "where": {
                "type": "string",
                "description": "the place's id, or the public cell's id (size:row:column)",
            },
            "category": enum(Category),
            "starts": DATETIME_STRING,
            "ends": DATETIME_STRING,
            "concern_ids": array(UUID_STRING),
            "count": INTEGER,
            "days": INTEGER,
            "high_incidence": BOOLEAN,
            "proactive_concern_id": UUID_STRING,
        },
    ),
)
