"""Who may do what: the lifecycle table's roles, the owner rule and the grid scope."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.concern import Concern
from domain.errors import Forbidden, Invalid
from domain.lifecycle import RAISE_ROLES, TRANSITIONS, Action, Status, Transition, allowed_actions
from domain.meeting import Meeting
from domain.principal import Actor, Principal
from domain.vocabulary import Role

# When a principal holds several roles, the event records the first that allows the action.
_ROLE_ORDER = list(Role)


def is_owner(principal: Principal, concern: Concern) -> bool:
    """True when the principal is the member the concern is assigned to."""
    return principal.member_id is not None and principal.member_id == concern.owner


def _pick(principal: Principal, roles: frozenset[Role]) -> Role | None:
    for role in _ROLE_ORDER:
        if role in roles and role in principal.roles:
            return role
    return None


def _permits(principal: Principal, row: Transition, concern: Concern) -> Role | None:
    role = _pick(principal, row.roles)
    if role is not None:
        return role
    if row.owner_may and is_owner(principal, concern):
        return Role.MEMBER
    return None


def require_role(principal: Principal, roles: Role | tuple[Role, ...], doing: str) -> Role:
    """The first of `roles` (in the order given) the principal holds, or Forbidden naming
    them in that order: "<doing> needs the role x" or "<doing> needs one of the roles x, y"."""
    wanted = (roles,) if isinstance(roles, Role) else roles
    if not wanted:
        raise ValueError("require_role needs at least one role")
    for role in wanted:
        if role in principal.roles:
            return role
    if len(wanted) == 1:
        raise Forbidden(f"{doing} needs the role {wanted[0].value}")
    # The order given, not sorted: the web UI matches these refusals word for word.
    raise Forbidden(f"{doing} needs one of the roles {', '.join(r.value for r in wanted)}")


def check_grid(principal: Principal, grid: str) -> None:
    """Refuse a principal whose grid scope does not include `grid`."""
    if not principal.covers(grid):
        msg = f"{principal.name} is limited to grids {sorted(principal.grids)}, not {grid}"
        raise Forbidden(msg)


def check_member_grids(principal: Principal, grids: Iterable[str]) -> None:
    """Refuse registering a member outside the principal's grid scope; a member of no grid
    belongs to every grid, so only a principal without a scope may register one."""
    named = [g.strip() for g in grids if g.strip()]
    if principal.grids and not named:
        msg = f"{principal.name} is limited to grids {sorted(principal.grids)}: name the grids"
        raise Forbidden(msg)
    for grid in named:
        check_grid(principal, grid)


def actor_to_raise(principal: Principal, grid: str) -> Actor:
    """The actor a principal raises a concern as, or Forbidden."""
    role = _pick(principal, RAISE_ROLES)
    if role is None:
        raise Forbidden(f"raising a concern needs one of the roles {_names(RAISE_ROLES)}")
    check_grid(principal, grid)
    return Actor(principal.id, role)


def actor_for(principal: Principal, action: Action, concern: Concern) -> Actor:
    """The actor a principal performs `action` as on this concern, or Forbidden.

    Roles are checked before the state so a caller who may never do this gets 403,
    and one who may, but not now, gets the lifecycle's 409.
    """
    check_grid(principal, concern.grid)
    rows = [t for t in TRANSITIONS if t.action == action]
    if not any(_permits(principal, r, concern) for r in rows):
        roles = frozenset().union(*(r.roles for r in rows))
        owner = any(r.owner_may for r in rows)
        if not roles:
            raise Forbidden(f"{action.value} is only for the concern's owner")
        suffix = " or the concern's owner" if owner else ""
        raise Forbidden(f"{action.value} needs one of the roles {_names(roles)}{suffix}")
    status = Status(concern.status)
    here = [r for r in rows if status in r.sources]
    for row in here:
        role = _permits(principal, row, concern)
        if role is not None:
            return Actor(principal.id, role)
    if not here:
        # Not allowed from this status at all: let the lifecycle say so (409).
        role = next(r for r in (_permits(principal, x, concern) for x in rows) if r)
        return Actor(principal.id, role)
    roles = frozenset().union(*(r.roles for r in here))
    raise Forbidden(f"{action.value} from {status.value} needs one of the roles {_names(roles)}")


_OUTCOMES = frozenset({Action.ADOPT, Action.REJECT, Action.DEFER})
# A void is approved on its own route once staff have proposed it (domain/voids.py).
_NOT_ASKED = _OUTCOMES | {Action.VOID}


def actions_for(principal: Principal, concern: Concern) -> list[str]:
    """The actions this principal may take on the concern now."""
    if not principal.covers(concern.grid) or concern.suspended:
        return []  # a suspended concern takes no lifecycle action until it resumes
    status = Status(concern.status)
    found = []
    for action in allowed_actions(status, concern.facts):
        rows = [t for t in TRANSITIONS if t.action == action and status in t.sources]
        # Outcomes are recorded by closing a meeting's vote, not asked for directly; nor is a
        # void's approval.
        if action in _NOT_ASKED:
            continue
        if any(_permits(principal, r, concern) for r in rows):
            found.append(action.value)
    return found


def _names(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


VIEW_ROLES: frozenset[Role] = frozenset(
    {
        Role.COLLECTOR,
        Role.GRID_LEADER,
        Role.STAFF,
        Role.COMMITTEE,
        Role.CHAIR,
        Role.ADMIN,
        Role.SUPERVISOR,
    }
)


def check_view(principal: Principal, concern: Concern) -> None:
    """Refuse a caller who may not read this concern: staff roles and supervisors in scope,
    or the member it is assigned to."""
    if not (principal.roles & VIEW_ROLES or is_owner(principal, concern)):
        raise Forbidden("reading a concern needs a staff role, supervisor, or being its owner")
    check_grid(principal, concern.grid)


def meeting_actor(principal: Principal, roles: set[Role], doing: str) -> Actor:
    """The actor for a meeting step that needs one of `roles`, or Forbidden."""
    role = _pick(principal, frozenset(roles))
    if role is None:
        raise Forbidden(f"{doing} needs one of the roles {_names(frozenset(roles))}")
    return Actor(principal.id, role)


def runs_meeting(principal: Principal, meeting: Meeting) -> bool:
    """True when the principal holds the role chair and is the member this meeting names as
    its chair or deputy chair (the role alone runs no meeting)."""
    return (
        Role.CHAIR in principal.roles
        and principal.member_id is not None
        and principal.member_id in meeting.runners()
    )


def chair_actor(
    principal: Principal, meeting: Meeting, agenda_grids: Iterable[str], doing: str
) -> Actor:
    """The actor for a step only the meeting's own chair (or deputy) may take, within the
    grids of the concerns on its agenda; Forbidden otherwise."""
    if Role.CHAIR not in principal.roles:
        raise Forbidden(f"{doing} needs the role chair")
    if not runs_meeting(principal, meeting):
        raise Forbidden(
            f"{doing} is for this meeting's chair or deputy chair; {principal.name} is neither"
        )
    for grid in sorted(set(agenda_grids)):
        check_grid(principal, grid)
    return Actor(principal.id, Role.CHAIR)


def voting_actor(principal: Principal, voter: UUID | None) -> tuple[Actor, UUID, bool]:
    """Who votes and who records it: a member votes for themselves, the chair may record
    a named member's show of hands. Returns (actor, voter, recorded by the chair); whether
    the chair is this meeting's is checked once the meeting is loaded (`chair_actor`)."""
    own = principal.member_id
    if voter is None or voter == own:
        if own is None:
            if Role.CHAIR in principal.roles:
                raise Invalid([("voter", "the chair must name the member whose vote this is")])
            raise Forbidden("voting needs a principal linked to a member, or the chair")
        if not principal.roles & {Role.MEMBER, Role.CHAIR}:
            raise Forbidden("voting needs the role member (or chair for a show of hands)")
        role = Role.MEMBER if Role.MEMBER in principal.roles else Role.CHAIR
        return Actor(principal.id, role), own, False
    if Role.CHAIR not in principal.roles:
        raise Forbidden("only the chair may record another member's vote")
    return Actor(principal.id, Role.CHAIR), voter, True
