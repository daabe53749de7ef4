"""A concern's history in words: each event's label, who did it in which role, when, what it
said and which fields it changed, in the reader's language (from domain/history_labels);
and the names it is told with (people, meetings), for the concern, supervision and print
pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from api.ui.messages import translate
from api.ui.render import fmt_date, label
from application.minqing import Minqing
from domain.concern_commands import REOPENED_DISSATISFIED, REOPENED_UNSOLVED
from domain.errors import DomainError

# Changed fields: their label, and how their values are shown.
_FIELDS: Mapping[str, tuple[str, str]] = {
    "status": ("f.status", "status"),
    "owner": ("f.owner", "member"),
    "duty_role": ("f.duty_role", "duty_role"),
    "due_on": ("f.due_on", "date"),
    "round": ("f.round", "text"),
    "meeting_id": ("concern.meeting", "meeting"),
    "merged_into": ("f.into", "text"),
}
# Event data shown as text under the label, beyond the reason history_labels finds.
_TEXTS = ("note", "comment")


def who(actor: str | None, people: Mapping[str, str], lang: str) -> str:
    """The name of whoever acted: a principal, the resident, or the system."""
    if not actor:
        return "—"
    if actor.startswith("resident:"):
        return translate(lang, "concern.resident")
    if actor.startswith("system:"):
        return translate(lang, "concern.system")
    return people.get(actor, actor)


def _value(kind: str, value: Any, lang: str, names: Mapping[str, Mapping[str, str]]) -> str:
    if value is None or value == "":
        return "—"
    if kind == "status" or kind == "duty_role":
        return label(lang, kind, value)
    if kind == "date":
        return fmt_date(str(value), lang)
    if kind == "member":
        return names["members"].get(str(value), str(value))
    if kind == "meeting":
        return names["meetings"].get(str(value), str(value))
    return str(value)


# What the system writes as a reopening's reason when the resident's feedback reopens it.
_FEEDBACK_REASONS = {
    REOPENED_UNSOLVED: "timeline.reopened_unsolved",
    REOPENED_DISSATISFIED: "timeline.reopened_dissatisfied",
}


def said(reason: str, lang: str) -> str:
    """A concern's reason in the reader's language when the system wrote it (a reopening by
    the resident's feedback, stored in one language); a person's words as they wrote them."""
    key = _FEEDBACK_REASONS.get(reason)
    return translate(lang, key) if key else reason


def _reason(e: Mapping[str, Any], data: Mapping[str, Any], lang: str) -> str:
    """The event's reason; the watcher's cards and a reopening by feedback are said in the
    reader's language."""
    if e.get("type") == "SupervisionCardIssued" and data.get("automatic") and data.get("stage"):
        key = "timeline.auto_red" if data.get("grade") == "red" else "timeline.auto_yellow"
        return translate(lang, key, stage=label(lang, "limit_stage", data["stage"]))
    if e.get("type") == "Reopened" and data.get("by_feedback"):
        return said(str(e["reason"]), lang)
    return str(e["reason"])


def rows(
    entries: list[dict[str, Any]],
    lang: str,
    people: Mapping[str, str],
    members: Mapping[str, str],
    meetings: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Display rows for history entries described by domain.history_labels.describe."""
    names = {"members": members, "meetings": meetings}
    found = []
    for e in entries:
        data: Mapping[str, Any] = e.get("data") or {}
        details: list[str] = []
        if e.get("reason"):
            details.append(_reason(e, data, lang))
        details += [str(data[k]) for k in _TEXTS if isinstance(data.get(k), str) and data[k]]
        if "solved" in data:
            details.append(
                translate(lang, "f.solved")
                + ": "
                + translate(lang, "track.solved_yes" if data["solved"] else "track.solved_no")
            )
        if "satisfaction" in data:
            details.append(
                translate(lang, "f.satisfaction")
                + ": "
                + label(lang, "satisfaction", data["satisfaction"])
            )
        tally = data.get("tally")
        if isinstance(tally, Mapping) and "for" in tally:
            details.append(
                f"{label(lang, 'choice', 'for')} {tally['for']} · "
                f"{label(lang, 'choice', 'against')} {tally['against']} · "
                f"{label(lang, 'choice', 'abstain')} {tally['abstain']}"
            )
        changes = []
        for name, change in (e.get("changes") or {}).items():
            key, kind = _FIELDS.get(name, (name, "text"))
            changes.append(
                {
                    "field": translate(lang, key) if key.startswith(("f.", "concern.")) else key,
                    "from": _value(kind, change.get("from"), lang, names),
                    "to": _value(kind, change.get("to"), lang, names),
                }
            )
        role = e.get("role_label")
        found.append(
            {
                "version": e.get("version"),
                "type": e.get("type"),
                "at": e.get("at"),
                "recorded_at": e.get("recorded_at"),
                "label": (e.get("label") or {}).get(lang, e.get("type")),
                "who": who(e.get("actor"), people, lang),
                "role": role.get(lang) if isinstance(role, Mapping) else (e.get("role") or ""),
                "details": details,
                "changes": changes,
                "request_id": e.get("request_id"),
            }
        )
    return found


def people(app: Minqing, members: dict[str, str]) -> dict[str, str]:
    """Principal id -> the name to show: the member's name when linked to one."""
    found = {}
    for p in app.accounts.all():
        member = members.get(str(p.member_id)) if p.member_id else None
        found[p.id] = f"{member} ({p.name})" if member else p.name
    return found


def meeting_titles(app: Minqing, entries: list[dict[str, Any]]) -> dict[str, str]:
    """Titles of the meetings a history mentions."""
    titles: dict[str, str] = {}
    for e in entries:
        meeting = (e.get("data") or {}).get("meeting_id")
        if meeting and meeting not in titles:
            try:
                titles[meeting] = app.get_meeting(UUID(meeting)).title
            except (ValueError, DomainError):
                titles[meeting] = meeting
    return titles
