"""Human-readable histories: a Chinese and English label for every recorded event, and what
each event changed.

`describe` turns the entries of `Minqing.history` / `Minqing.meeting_history` (version, type,
at, recorded_at, actor, role, data) into a timeline a supervisor can read. It only adds keys:

- `label`: `{zh, en}` for the event type (登记民情 / Concern raised, 投票 / Vote cast, ...);
- `role_label`: `{zh, en}` for the role the actor acted in, or null for an unknown role;
- `reason`: the event's own reason, missing information or summary, or null;
- `changes`: `{field: {from, to}}` for the fields the event changed (status, owner, duty
  role, due date, round, meeting, merged into), `{}` when it changed none of them.

The `from` side is not stored in most events, so `changes` is computed by walking the
history in order, keeping the tracked fields as the aggregate's own mutators set them. The
tables below mirror those mutators (domain/concern.py, domain/meeting.py); the tests replay
the aggregate at each version and compare, so a mutator that drifts from its row fails there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.vocabulary import Role

# Where an event's reason lives: the first of these data fields that is present and not blank.
REASON_FIELDS = ("reason", "missing", "summary")


@dataclass(frozen=True)
class Label:
    """An event type's name for people, in Chinese and English."""

    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        """Plain data: `{zh, en}`."""
        return {"zh": self.zh, "en": self.en}


# Keyed by aggregate class name, then event class name (`type` in a history entry): two
# aggregates may one day name an event alike, so the aggregate is part of the key.
EVENT_LABELS: Mapping[str, Mapping[str, Label]] = {
    "Concern": {
        "Raised": Label("登记民情", "Concern raised"),
        "Referred": Label("提交支委会", "Referred to the committee"),
        "HandledNow": Label("即接即办", "Handled on receipt"),
        "Declined": Label("明确拒办", "Declined"),
        "Merged": Label("合并至其他民情", "Merged into another concern"),
        "Withdrawn": Label("撤回", "Withdrawn"),
        "Assigned": Label("交办", "Assigned"),
        "Shortlisted": Label("列入党员大会议程", "Shortlisted for a branch meeting"),
        "AdoptedAtMeeting": Label("会议通过", "Adopted by the meeting"),
        "RejectedAtMeeting": Label("会议否决", "Rejected by the meeting"),
        "DeferredAtMeeting": Label("会议暂缓", "Deferred by the meeting"),
        "ReturnedForInfo": Label("退回补充", "Returned for more information"),
        "ProgressRecorded": Label("记录进展", "Progress recorded"),
        "DeadlineExtended": Label("延期", "Deadline extended"),
        "Reassigned": Label("改派", "Reassigned"),
        "SentBack": Label("退回支委会", "Sent back to the committee"),
        "Resolved": Label("办结", "Resolved"),
        "FeedbackRecorded": Label("回访", "Resident's feedback recorded"),
        "DeadlineMissed": Label("逾期未办结", "Deadline missed"),
        "FeedbackOverdue": Label("回访逾期", "Feedback overdue"),
        "StageMissed": Label("环节超时", "Stage past its time limit"),
        "PhotoAttached": Label("添加照片", "Photo attached"),
        "SupervisionCardIssued": Label("督办", "Supervision card issued"),
        "SupervisionReplied": Label("督办回复", "Supervision answered"),
        "ExtensionRequested": Label("申请延期", "Extension requested"),
        "ExtensionRefused": Label("不同意延期", "Extension refused"),
        "SuspensionRequested": Label("申请挂账", "Suspension requested"),
        "SuspensionApproved": Label("同意挂账", "Suspension approved"),
        "SuspensionRefused": Label("不同意挂账", "Suspension refused"),
        "Resumed": Label("恢复办理", "Resumed after suspension"),
        "AppealLodged": Label("超期申诉", "Overdue stage appealed"),
        "AppealDecided": Label("申诉裁定", "Appeal decided"),
        "Reopened": Label("重新办理", "Reopened"),
        "MilestoneAdded": Label("添加承诺节点", "Milestone added"),
        "MilestoneDone": Label("承诺节点完成", "Milestone done"),
        "WrittenOff": Label("承诺注销", "Commitment written off"),
        "CosignerAdded": Label("居民联名", "A resident joined the concern"),
        "VoidProposed": Label("提请作废", "Void proposed"),
        "VoidApproved": Label("作废", "Voided"),
        "VoidRefused": Label("不同意作废", "Void refused"),
    },
    "Meeting": {
        "Scheduled": Label("安排会议", "Meeting scheduled"),
        "ItemAdded": Label("列入议程", "Item added to the agenda"),
        "Opened": Label("会议开始", "Meeting opened"),
        "VoteOpened": Label("开始表决", "Vote opened"),
        "Arrived": Label("迟到签到", "Member arrived"),
        "Left": Label("中途离会", "Member left"),
        "DeclaredInquorate": Label("宣布不足法定人数", "Declared inquorate"),
        "VoteCast": Label("投票", "Vote cast"),
        "BallotCast": Label("无记名投票", "Secret ballot cast"),
        "VoteClosed": Label("表决结束", "Vote closed"),
        "Closed": Label("会议结束", "Meeting closed"),
    },
}

State = dict[str, Any]
Data = Mapping[str, Any]
# What one event type sets, given its data and the tracked fields before it.
Setter = Callable[[Data, State], State]


def _assigned(d: Data, _: State) -> State:
    return {"owner": d["owner"], "duty_role": d["duty_role"], "due_on": d["due_on"]}


def _cleared_meeting(_: Data, __: State) -> State:
    return {"meeting_id": None}


# Every event that carries `status` sets it; these rows are the other tracked fields.
_CONCERN_SETS: Mapping[str, Setter] = {
    # A new concern starts in intake; its status is not in the event's data.
    "Raised": lambda _, __: {"status": "intake"},
    "HandledNow": _assigned,
    "Assigned": _assigned,
    "Merged": lambda d, _: {"merged_into": d["into"]},
    "Shortlisted": lambda d, _: {"meeting_id": d["meeting_id"]},
    "RejectedAtMeeting": _cleared_meeting,
    "DeferredAtMeeting": _cleared_meeting,
    "DeadlineExtended": lambda d, _: {"due_on": d["due_on"]},
    "Resumed": lambda d, _: {"due_on": d["due_on"]},
    "Reassigned": lambda d, _: {"owner": d["owner"], "duty_role": d["duty_role"]},
    "SentBack": lambda _, __: {"owner": None, "duty_role": None, "due_on": None},
    "Reopened": lambda _, s: {"round": int(s.get("round", 1)) + 1},
}

_MEETING_SETS: Mapping[str, Setter] = {
    "Scheduled": lambda _, __: {"status": "scheduled"},
    "Opened": lambda _, __: {"status": "open"},
    "Closed": lambda _, __: {"status": "closed"},
}

_SETS: Mapping[str, Mapping[str, Setter]] = {"Concern": _CONCERN_SETS, "Meeting": _MEETING_SETS}
# The fields' values before the first event (what `from` says when nothing set them yet).
TRACKED_FIELDS: Mapping[str, State] = {
    "Concern": {
        "status": None,
        "owner": None,
        "duty_role": None,
        "due_on": None,
        "round": 1,
        "meeting_id": None,
        "merged_into": None,
    },
    "Meeting": {"status": None},
}


def event_label(aggregate: str, event_type: str) -> Label:
    """The label of one event type; an unknown type is shown by its own name, not hidden."""
    return EVENT_LABELS.get(aggregate, {}).get(event_type) or Label(event_type, event_type)


def role_label(role: str | None) -> dict[str, str] | None:
    """`{zh, en}` for a role's value, or None for a value that names no role."""
    if role is None:
        return None
    try:
        r = Role(role)
    except ValueError:
        return None
    return {"zh": r.zh, "en": r.en}


def reason_of(data: Data) -> str | None:
    """The event's reason, missing information or summary: the first that is not blank."""
    for name in REASON_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def describe(aggregate: str, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `label`, `role_label`, `reason` and `changes` to one aggregate's history entries,
    given in version order; existing keys are left as they are. Returns the same list.

    `aggregate` is the aggregate class name, "Concern" or "Meeting".
    """
    sets = _SETS.get(aggregate, {})
    state: State = dict(TRACKED_FIELDS.get(aggregate, {}))
    for entry in entries:
        data: Data = entry.get("data") or {}
        setter = sets.get(entry["type"])
        after = setter(data, state) if setter else {}
        if "status" in data:
            # Status first: it is what a reader of the timeline looks for.
            after = {"status": data["status"], **after}
        changes = {
            name: {"from": state.get(name), "to": value}
            for name, value in after.items()
            if state.get(name) != value
        }
        state.update(after)
        entry["label"] = event_label(aggregate, entry["type"]).as_dict()
        entry["role_label"] = role_label(entry.get("role"))
        entry["reason"] = reason_of(data)
        entry["changes"] = changes
    return entries
