"""Showing a resident's personal data: who may, and the access log written first.

Staff who contact residents (collector, grid leader, staff, admin, the concern's owner) see
the data by their role; a supervisor sees it only on giving a `reason` (with or without
`reveal`); `reveal` without one is refused. Either way the read is written to the access log
(the `AccessLog` port) before the data leaves, so a read that cannot be logged is not served.
"""

from __future__ import annotations

from typing import Any

from application.base import MinqingBase
from application.members import MemberCommands
from application.ports import Access
from domain.concern import Concern
from domain.errors import Forbidden, Invalid
from domain.principal import Principal
from domain.privacy import basis as work_basis
from domain.privacy import casework_basis
from domain.visit import Visit
from domain.vocabulary import Role

REASON_MAX = 500


def clean_reason(reason: str | None) -> str | None:
    """The reason stripped; 422 naming `reason` when it is blank or too long."""
    if reason is None:
        return None
    text = reason.strip()
    if not text:
        raise Invalid([("reason", "must not be blank")])
    if len(text) > REASON_MAX:
        raise Invalid([("reason", f"must be at most {REASON_MAX} characters")])
    return text


def disclose(
    app: MinqingBase,
    principal: Principal,
    concern: Concern,
    view: dict[str, Any],
    *,
    reveal: bool = False,
    reason: str | None = None,
) -> dict[str, Any]:
    """Finish a concern view: reveal the resident's data to a supervisor who gave a reason,
    and log every read of personal data before the view is returned.

    A supervisor's `reason` asks for the data as `reveal` does. `reveal` without a reason
    is 422 for a supervisor; `reveal` from a caller who is neither a supervisor nor entitled
    by their work is 403.
    """
    why = clean_reason(reason)
    basis = work_basis(principal, concern)
    if why is not None and basis is None and Role.SUPERVISOR in principal.roles:
        reveal = True
    if reveal and basis is None:
        if Role.SUPERVISOR not in principal.roles:
            raise Forbidden("revealing a resident's personal data is for supervisors")
        if why is None:
            raise Invalid(
                [("reason", "a supervisor must give a reason to see a resident's personal data")]
            )
        basis = "supervisor"
        if concern.resident_ref and concern.resident_data:
            data = app.keyring.open(concern.resident_ref, concern.resident_data)
            view["resident"] = data.as_dict() if data else {"erased": True}
    resident = view.get("resident")
    shown = isinstance(resident, dict) and not (resident.get("erased") or resident.get("redacted"))
    if shown and basis is not None and concern.resident_ref:
        app.ports.access_log.record(
            Access(
                principal=principal,
                basis=basis,
                reason=why,
                resident_ref=concern.resident_ref,
                concern_id=str(concern.id),
                concern_reference=concern.reference,
                concern_version=concern.version,
                grid=concern.grid,
            ),
        )
    return view


def disclose_household(app: MemberCommands, principal: Principal, visit: Visit) -> dict[str, Any]:
    """A visit's household for this reader: `household` (the text, or None) and
    `household_state` (`shown`, `redacted` for readers whose work is not contacting
    residents, `erased`); a sealed household shown is logged first, like a resident's data."""
    basis = casework_basis(principal)
    found: dict[str, Any] = {"household": None, "household_ref": visit.household_ref}
    if basis is None:
        return {**found, "household_state": "redacted"}
    text = app.household_of(visit)
    if text is None:
        return {**found, "household_state": "erased"}
    if visit.household_ref is not None:
        app.ports.access_log.record(
            Access(
                principal=principal,
                basis=basis,
                reason=None,
                resident_ref=visit.household_ref,
                concern_id=str(visit.id),
                concern_reference=None,
                concern_version=visit.version,
                grid=visit.grid,
                subject="visit",
            ),
        )
    return {**found, "household": text, "household_state": "shown"}
