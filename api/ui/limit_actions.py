"""The concern's time-limit verbs as forms (督办, 延期, 挂账, 作废, 超期申诉): one row per
verb — its fields, who may use it, when it applies, and the application method it calls.

These verbs change no status, so they are not rows of the lifecycle table (api/ui/actions.py
lists those). A form is shown only to whom its row lets use it and only when it applies
(a reply only while a card waits, a decision only while an appeal waits); the command
itself still decides, and a refusal comes back in words (api/ui/refusals.py). Their fields
are the API's bodies (api/schemas.py), so a form refuses what the endpoint refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from api.schemas import AppealIn, DecideAppealIn, ReasonIn, ReplyIn, SuperviseIn, SuspendIn
from api.ui.actions import Field
from api.ui.forms import parse, payload
from api.ui.web import Form
from application.minqing import CommandResult, Minqing
from domain.concern import Concern
from domain.lifecycle import Status
from domain.permissions import is_owner
from domain.principal import Principal
from domain.supervision import Grade, is_open
from domain.vocabulary import Role

Run = Callable[[Minqing, Principal, UUID, Any, int | None], CommandResult]


@dataclass(frozen=True)
class Verb:
    """One verb's form: its name (as the API's path), fields, body, who, when, and what."""

    name: str
    fields: tuple[Field, ...]
    body: type[BaseModel]
    may: Callable[[Principal, Concern], bool]
    applies: Callable[[Concern], bool]
    run: Run


def _in_grid(principal: Principal, concern: Concern) -> bool:
    return not principal.grids or concern.grid in principal.grids


def _role(role: Role) -> Callable[[Principal, Concern], bool]:
    return lambda p, c: role in p.roles and _in_grid(p, c)


def _waiting_appeal(c: Concern) -> bool:
    return c.appeal is not None and c.appeal.get("approved") is None


def _owner_or_committee(principal: Principal, concern: Concern) -> bool:
    return is_owner(principal, concern) or _role(Role.COMMITTEE)(principal, concern)


def _may_propose_void(c: Concern) -> bool:
    return c.voidable and c.void_proposal is None


def _may_ask_suspension(c: Concern) -> bool:
    return (
        c.status == Status.ASSIGNED.value and c.suspension is None and c.suspension_request is None
    )


class NoFields(BaseModel):
    """The body of a verb that asks nothing (approve, resume)."""


_REASON = Field("reason", "textarea")

VERBS: dict[str, Verb] = {
    v.name: v
    for v in (
        Verb(
            "supervise",
            (Field("grade", "grade"), Field("requirement", "textarea"), Field("reply_by", "date")),
            SuperviseIn,
            _role(Role.SUPERVISOR),
            is_open,
            lambda app, p, cid, b, v: app.supervise(
                cid, p, Grade(b.grade), b.requirement, b.reply_by, v
            ),
        ),
        Verb(
            "reply-supervision",
            (Field("reply", "textarea"),),
            ReplyIn,
            is_owner,
            lambda c: c.unanswered_card() is not None,
            lambda app, p, cid, b, v: app.reply_supervision(cid, p, b.reply, v),
        ),
        Verb(
            "request-extension",
            (_REASON,),
            ReasonIn,
            is_owner,
            lambda c: (
                c.status == Status.ASSIGNED.value
                and c.extension_request is None
                and not c.suspended
            ),
            lambda app, p, cid, b, v: app.request_extension(cid, p, b.reason, v),
        ),
        Verb(
            "refuse-extension",
            (_REASON,),
            ReasonIn,
            _role(Role.COMMITTEE),
            lambda c: c.extension_request is not None,
            lambda app, p, cid, b, v: app.refuse_extension(cid, p, b.reason, v),
        ),
        Verb(
            "appeal",
            (Field("stage", "stage"), _REASON),
            AppealIn,
            is_owner,
            lambda c: (
                c.status == Status.RESOLVED.value and c.appeal is None and bool(c.overdue_stages())
            ),
            lambda app, p, cid, b, v: app.appeal(cid, p, b.stage, b.reason, v),
        ),
        Verb(
            "decide-appeal",
            (Field("approved", "approved"), _REASON),
            DecideAppealIn,
            _role(Role.SUPERVISOR),
            _waiting_appeal,
            lambda app, p, cid, b, v: app.decide_appeal(cid, p, b.approved, b.reason, v),
        ),
        Verb(
            "suspend",
            (_REASON, Field("until", "date")),
            SuspendIn,
            is_owner,
            _may_ask_suspension,
            lambda app, p, cid, b, v: app.request_suspension(cid, p, b.reason, b.until, v),
        ),
        Verb(
            "approve-suspension",
            (),
            NoFields,
            _role(Role.COMMITTEE),
            lambda c: c.suspension_request is not None,
            lambda app, p, cid, b, v: app.approve_suspension(cid, p, v),
        ),
        Verb(
            "refuse-suspension",
            (_REASON,),
            ReasonIn,
            _role(Role.COMMITTEE),
            lambda c: c.suspension_request is not None,
            lambda app, p, cid, b, v: app.refuse_suspension(cid, p, b.reason, v),
        ),
        Verb(
            "resume",
            (),
            NoFields,
            _owner_or_committee,
            lambda c: c.suspended,
            lambda app, p, cid, b, v: app.resume(cid, p, v),
        ),
        Verb(
            "propose-void",
            (_REASON,),
            ReasonIn,
            _role(Role.STAFF),
            _may_propose_void,
            lambda app, p, cid, b, v: app.propose_void(cid, p, b.reason, v),
        ),
        Verb(
            "approve-void",
            (),
            NoFields,
            _role(Role.SUPERVISOR),
            # A proposal the concern has moved past can only be refused.
            lambda c: c.void_proposal is not None and c.voidable,
            lambda app, p, cid, b, v: app.approve_void(cid, p, v),
        ),
        Verb(
            "refuse-void",
            (_REASON,),
            ReasonIn,
            _role(Role.SUPERVISOR),
            lambda c: c.void_proposal is not None,
            lambda app, p, cid, b, v: app.refuse_void(cid, p, b.reason, v),
        ),
    )
}


def offered(principal: Principal, concern: Concern) -> list[str]:
    """The verbs whose forms this caller sees on this concern now."""
    return [v.name for v in VERBS.values() if v.may(principal, concern) and v.applies(concern)]


def perform(
    app: Minqing,
    principal: Principal,
    concern_id: UUID,
    verb: Verb,
    form: Form,
    version: int | None,
) -> CommandResult:
    """Validate the verb's form as its API body and run it; DomainError when refused."""
    body = parse(verb.body, payload(form, verb.body))
    return verb.run(app, principal, concern_id, body, version)
