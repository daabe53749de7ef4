"""Refusals in the reader's words: pydantic's validation errors and the domain's refusals
(domain/errors.py) as messages of the catalogue (api/ui/messages.py), in Chinese or English,
naming the field by its label and never an id.

The API keeps its own codes and English messages; only the pages speak like this.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from api.ui.messages import CATALOGUE, translate
from domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TransitionNotAllowed,
    VersionMismatch,
)
from domain.lifecycle import Action, Status
from domain.photos import TooLarge
from domain.vocabulary import Role


@dataclasses.dataclass(frozen=True)
class Problem:
    """One field's problem as pydantic or the domain put it: its kind, text and context."""

    field: str
    kind: str
    message: str
    ctx: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class FormInvalid(Invalid):
    """Invalid, keeping pydantic's error kinds so the page can say each in words."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__([(p.field, p.message) for p in problems])
        self.problems = problems


# Fields by their name in a form (a prefix such as "c0." or "rules." set aside): the
# catalogue key of their label.
_LABELS = {
    "resident.name": "f.resident_name",
    "resident.phone": "f.resident_phone",
    "resident_representatives": "f.representatives",
    "concern": "sup.find_label",
    "name": "signin.name",
    "password": "signin.password",
    "from": "ledger.from",
    "to": "ledger.to",
    "group_by": "ledger.group_by",
    "year": "calendar.year",
    "day": "calendar.date",
    "day_kind": "calendar.kind",
    "day_name": "calendar.name",
}
# Fields answered by choosing, not typing: "choose …" rather than "fill in …".
_CHOSEN = frozenset(
    {
        "category",
        "library",
        "channel",
        "duty_role",
        "owner",
        "chair",
        "deputy_chair",
        "meeting",
        "solved",
        "satisfaction",
        "kind",
        "choice",
        "voter",
        "priority_visit",
        "quorum",
        "threshold",
        "ballot",
        "eligible_voters",
        "present",
        "grid",
    }
)
_PREFIX = re.compile(r"^(c\d+|rules)\.")


def bare(name: str) -> str:
    """The field's own name, without a form's prefix (c0.title -> title)."""
    return _PREFIX.sub("", name)


def field_label(lang: str, name: str) -> str:
    """The label a person sees beside the field."""
    own = bare(name)
    key = _LABELS.get(own, f"f.{own}")
    if key in CATALOGUE[lang]:
        return translate(lang, key)
    return translate(lang, "err.this_field")


def _chars(value: object) -> int:
    return len(value) if isinstance(value, str) else 0


def _range(p: Problem) -> dict[str, object]:
    # A latitude or longitude out of the earth: the bounds of its own field.
    most = 90 if bare(p.field).endswith("lat") else 180
    return {"least": -most, "most": most}


# pydantic's error types: the catalogue key and the values it takes.
_KINDS: dict[str, Callable[[Problem], tuple[str, dict[str, object]]]] = {
    "missing": lambda p: ("err.choose" if bare(p.field) in _CHOSEN else "err.required", {}),
    "string_too_short": lambda p: (
        ("err.required", {})
        if int(p.ctx.get("min_length", 1)) <= 1
        else ("err.too_short", {"n": p.ctx.get("min_length")})
    ),
    "string_too_long": lambda p: (
        "err.too_long",
        {"n": p.ctx.get("max_length"), "have": _chars(p.ctx.get("input"))},
    ),
    "enum": lambda p: ("err.choose", {}),
    "literal_error": lambda p: ("err.choose", {}),
    "uuid_parsing": lambda p: ("err.choose", {}),
    "uuid_type": lambda p: ("err.choose", {}),
    "bool_parsing": lambda p: ("err.choose", {}),
    "bool_type": lambda p: ("err.choose", {}),
    "date_parsing": lambda p: ("err.date", {}),
    "date_from_datetime_parsing": lambda p: ("err.date", {}),
    "date_from_datetime_inexact": lambda p: ("err.date", {}),
    "date_type": lambda p: ("err.date", {}),
    "datetime_parsing": lambda p: ("err.datetime", {}),
    "datetime_from_date_parsing": lambda p: ("err.datetime", {}),
    "datetime_type": lambda p: ("err.datetime", {}),
    "int_parsing": lambda p: ("err.number", {}),
    "int_type": lambda p: ("err.number", {}),
    "too_short": lambda p: ("err.choose_some", {"n": p.ctx.get("min_length", 1)}),
    "too_long": lambda p: ("err.too_many", {"n": p.ctx.get("max_length")}),
    "float_parsing": lambda p: ("err.number", {}),
    "float_type": lambda p: ("err.number", {}),
    "finite_number": lambda p: ("err.number", {}),
    "greater_than_equal": lambda p: ("err.range", _range(p)),
    "less_than_equal": lambda p: ("err.range", _range(p)),
}

# The domain's own words for a field's problem (and pydantic's custom ones: the text policy,
# the date window), matched on its English text.
_TEXTS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(Field required|is required|must not be blank|is required and must not be blank)$"
        ),
        "err.required",
    ),
    (re.compile(r"^must not be in the past$"), "err.past"),
    (re.compile(r"^must not be in the future$"), "err.future"),
    (re.compile(r"^must be between (?P<first>\S+) and (?P<last>\S+)$"), "err.window"),
    (re.compile(r"^(must be )?at most (?P<n>\d+) characters$"), "err.too_long_plain"),
    (re.compile(r"^is required, at most (?P<n>\d+) characters$"), "err.required"),
    (re.compile(r"^must be at least (?P<n>\d+) characters$"), "err.too_short"),
    (re.compile(r"^no concern "), "err.no_concern"),
    (re.compile(r"^concern \S+ is (?P<status>\w+), not open$"), "err.not_open"),
    (re.compile(r"^a concern cannot be merged into itself$"), "err.merge_self"),
    (re.compile(r"^choose a scheduled meeting$"), "err.choose"),
    (re.compile(r"^the meeting has already taken place$"), "err.meeting_past"),
    (re.compile(r"^an anonymous concern cannot carry"), "err.anonymous_data"),
    (re.compile(r"^must be later than the current due date (?P<date>\S+)$"), "err.later"),
    (re.compile(r"^is already the owner in that duty role$"), "err.same_owner"),
    (re.compile(r"^must be another member than the chair$"), "err.deputy_same"),
    (re.compile(r"^at least one member must be entitled to vote$"), "err.voters"),
    (re.compile(r"^must not be before from"), "err.before_from"),
    (re.compile(r"^must be a date as YYYY-MM-DD"), "err.date_or_month"),
    (re.compile(r"^must be a version from 1 to (?P<n>\d+)$"), "err.version"),
    (re.compile(r"^must be a day of (?P<year>\d+)$"), "err.day_of_year"),
    (re.compile(r"^Input should be a valid datetime"), "err.datetime"),
    (re.compile(r"^Input should be a valid date"), "err.date"),
    (re.compile(r"line break"), "err.line_break"),
    (re.compile(r"bidirectional"), "err.bidi"),
    (re.compile(r"control character"), "err.control"),
    (re.compile(r"unpaired surrogate"), "err.control"),
    (re.compile(r"^member \S+ has no vote"), "err.no_vote_member"),
    (re.compile(r"^the chair must name the member"), "err.choose"),
    (re.compile(r"^no member \S+ in the registry$"), "err.no_member"),
    (re.compile(r"^is not a cursor"), "err.cursor"),
    (re.compile(r"^is not a readable JPEG|^must be a JPEG, PNG or WebP"), "err.photo_unreadable"),
    (re.compile(r"^is empty: choose or take a photo"), "err.photo_empty"),
    (re.compile(r"^has too many pixels"), "err.photo_pixels"),
    (re.compile(r"^is larger than (?P<mb>\d+) MB$"), "err.photo_too_big"),
    (re.compile(r"^this photo is already attached"), "err.photo_twice"),
    (re.compile(r"^a concern holds at most (?P<n>\d+) photos"), "err.photo_many"),
    (re.compile(r"^a photo that shows a resident cannot be"), "err.photo_public_resident"),
    (re.compile(r"is outside grid (?P<grid>\S+)$"), "err.outside_grid"),
    (re.compile(r"^no place \S+ in the register$"), "err.no_place"),
    (re.compile(r"^place \S+ is in grid (?P<grid>\S+), not"), "err.place_grid"),
    (re.compile(r"^name the resident, or say anonymous"), "err.cosigner_who"),
    (re.compile(r"^this resident already joined the concern"), "err.already_joined"),
    (re.compile(r"^an anonymous co-signer cannot carry"), "err.anonymous_data"),
]


def say_problem(lang: str, problem: Problem) -> str:
    """One field's problem as a sentence naming the field."""
    label = field_label(lang, problem.field)
    found = _KINDS.get(problem.kind)
    if found is not None:
        key, given = found(problem)
        return translate(lang, key, label=label, **given)
    text = problem.message.removeprefix("Value error, ")
    for pattern, key in _TEXTS:
        match = pattern.search(text)
        if match:
            values: dict[str, object] = dict(match.groupdict())
            if "status" in values:
                values["status"] = _status(lang, str(values["status"]))
            if key == "err.required" and bare(problem.field) in _CHOSEN:
                key = "err.choose"
            return translate(lang, key, label=label, **values)
    return translate(lang, "err.invalid", label=label)


def problems_of(exc: Invalid) -> list[Problem]:
    """The problems of a refusal, pydantic's kinds kept where they are known."""
    if isinstance(exc, FormInvalid):
        return exc.problems
    return [Problem(name, "domain", message) for name, message in exc.fields]


def _status(lang: str, value: str) -> str:
    try:
        status = Status(value)
    except ValueError:
        return value
    return status.zh if lang == "zh" else status.en


def _action(lang: str, value: Action) -> str:
    return value.zh if lang == "zh" else value.en


_CONFLICTS = {
    "already_voted": "err.already_voted",
    "not_present": "err.not_present",
    "not_entitled": "err.not_entitled",
    "vote_closed": "err.vote_closed",
    "vote_not_open": "err.vote_not_open",
    "vote_already_open": "err.vote_already_open",
    "meeting_closed": "err.meeting_closed",
    "meeting_not_open": "err.meeting_not_open",
    "meeting_opened": "err.meeting_opened",
    "no_quorum": "err.no_quorum",
    "quorum_present": "err.quorum_present",
    "vote_open": "err.vote_open",
    "already_present": "err.already_present",
    "secret_ballot": "err.secret_ballot",
    "already_on_agenda": "err.already_on_agenda",
    "not_on_agenda": "err.not_on_agenda",
    "duplicate_name": "err.duplicate_name",
    "photo_not_now": "err.photo_not_now",
    # the time-limit verbs (api/ui/limit_actions.py)
    **{
        rule: f"err.rule.{rule}"
        for rule in (
            "extension_cap",
            "already_overdue",
            "not_assigned",
            "no_request",
            "no_card",
            "not_open",  # supervising or joining a closed concern
            "card_issued",
            "appeal_used",
            "not_resolved",
            "no_appeal",
        )
    },
    "suspended": "err.suspended",
    "suspension_used": "err.suspension_used",
    "not_suspended": "err.not_suspended",
    "no_proposal": "err.no_proposal",
    "pending": "err.pending",
}
_FOUND = {"concern": "concern", "meeting": "meeting", "member": "member", "agenda item": "item"}
_ROLES = re.compile(r"needs (?:one of )?the roles? (?P<roles>[a-z_, ]+?)(?: \(|$| for | from )")


def _roles(lang: str, names: str) -> str:
    shown = []
    for name in names.split(","):
        try:
            role = Role(name.strip())
        except ValueError:
            continue
        shown.append(role.zh if lang == "zh" else role.en)
    return translate(lang, "punct.sep").join(shown)


def say(lang: str, exc: DomainError) -> str:
    """A refusal that is not about one field, as a sentence in the reader's language."""
    if isinstance(exc, TransitionNotAllowed):
        allowed = translate(lang, "punct.sep").join(_action(lang, a) for a in exc.allowed)
        return translate(
            lang,
            "err.transition",
            status=_status(lang, exc.status.value),
            action=_action(lang, exc.action),
            allowed=allowed or translate(lang, "err.nothing"),
        )
    if isinstance(exc, VersionMismatch):
        return translate(lang, "err.version_mismatch")
    if isinstance(exc, Conflict):
        return translate(lang, _CONFLICTS.get(exc.rule, "err.conflict"), **exc.details)
    if isinstance(exc, NotFound):
        kind = _FOUND.get(exc.kind)
        return translate(lang, f"err.not_found.{kind}" if kind else "error.not_found")
    if isinstance(exc, Forbidden):
        text = str(exc)
        if "only for the concern's owner" in text:
            return translate(lang, "err.owner_only")
        match = _ROLES.search(text)
        if match and _roles(lang, match.group("roles")):
            return translate(lang, "err.roles", roles=_roles(lang, match.group("roles")))
        if "limited to grids" in text:
            return translate(lang, "err.grid")
        return translate(lang, "error.forbidden")
    if isinstance(exc, Invalid):
        return translate(lang, "punct.sep").join(say_problem(lang, p) for p in problems_of(exc))
    if isinstance(exc, TooLarge):
        label = field_label(lang, exc.field)
        return translate(lang, "err.photo_too_big", label=label, mb=exc.limit // (1024 * 1024))
    return translate(lang, "err.refused")
