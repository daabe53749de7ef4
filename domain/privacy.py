"""Who sees a resident's personal data, and on what basis the read is logged."""

from __future__ import annotations

from domain.concern import Concern
from domain.principal import Principal
from domain.vocabulary import Role

# The roles whose work is contacting residents, in the order the access log names the basis.
CASEWORK = (Role.COLLECTOR, Role.GRID_LEADER, Role.STAFF, Role.ADMIN)


def may_see_personal_data(principal: Principal, concern: Concern) -> bool:
    """Only the people who contact the resident see their name, phone and address."""
    return basis(principal, concern) is not None


def basis(principal: Principal, concern: Concern) -> str | None:
    """Why this principal may see the resident's data by their work, or None."""
    for role in CASEWORK:
        if role in principal.roles:
            return f"role:{role.value}"
    if principal.member_id is not None and principal.member_id == concern.owner:
        return "owner"
    return None


def casework_basis(principal: Principal) -> str | None:
    """The basis of a read by the reader's role alone (a visit's household), or None."""
    return next((f"role:{r.value}" for r in CASEWORK if r in principal.roles), None)
