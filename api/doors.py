"""Who may call what: one row per HTTP operation of the API (and per web UI route), with the
roles that pass its door and how the grid scope applies.

The routes enforce these rules (api.deps.require, domain.permissions); this table states
them in one place. The OpenAPI document publishes each operation's row (`x-minqing-roles`,
`x-minqing-grid-scope`), and tests/e2e/test_doors.py walks every operation of
`app.openapi()` against it: an operation without a row, or one that answers otherwise than
its row says, fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI

from domain.vocabulary import STAFF_ROLES, Role

R = Role
# How the grid scope applies: "object" — the concern, visit, meeting agenda or body names a
# grid, and a principal limited to other grids is refused 403; "filter" — a list that shows
# only the caller's grids; None — not grid-scoped.
GridScope = Literal["object", "filter"] | None
# How the caller proves who they are: a bearer token, nothing (public), or Open311's
# `api_key` form field (a Minqing token).
Credential = Literal["bearer", "none", "open311_key"]


@dataclass(frozen=True)
class Door:
    """Who passes one operation's door."""

    roles: frozenset[Role]
    grid: GridScope = None
    credential: Credential = "bearer"
    # The concern's owner (the member it is assigned to) passes too.
    owner: bool = False
    # Any principal linked to a member passes (their own vote, their own queue).
    linked: bool = False
    # Only the meeting's named chair or deputy chair (holding one of `roles`) passes.
    meeting_chair: bool = False

    def as_openapi(self) -> dict[str, Any]:
        """The row as OpenAPI extension fields."""
        return {
            "x-minqing-roles": sorted(r.value for r in self.roles),
            "x-minqing-grid-scope": self.grid,
            "x-minqing-credential": self.credential,
            **({"x-minqing-owner-may": True} if self.owner else {}),
            **({"x-minqing-member-may": True} if self.linked else {}),
            **({"x-minqing-meeting-chair-only": True} if self.meeting_chair else {}),
        }


def public() -> Door:
    """No token needed."""
    return Door(frozenset(), credential="none")


def door(*roles: Role, grid: GridScope = None, **more: Any) -> Door:
    """A bearer-token door for `roles`."""
    return Door(frozenset(roles), grid, **more)


VIEW = frozenset({*STAFF_ROLES, R.SUPERVISOR})  # domain.permissions.VIEW_ROLES
STAFF = STAFF_ROLES
READERS = frozenset({*STAFF_ROLES, R.MEMBER, R.SUPERVISOR})
CONCERN = "/api/v1/concerns/{concern_ref}"
MEETING = "/api/v1/meetings/{meeting_id}"
ITEM = MEETING + "/items/{concern_ref}"
WEBHOOK = "/api/v1/webhooks/{webhook_id}"

API: dict[tuple[str, str], Door] = {
    # concerns
    ("POST", "/api/v1/concerns"): door(R.COLLECTOR, R.STAFF, R.GRID_LEADER, grid="object"),
    ("GET", "/api/v1/concerns"): Door(VIEW, "filter"),
    ("GET", "/api/v1/concerns/similar"): Door(VIEW, "filter"),
    ("GET", CONCERN): Door(VIEW, "object", owner=True),
    ("GET", CONCERN + "/history"): door(R.SUPERVISOR, R.STAFF, grid="object"),
    ("POST", CONCERN + "/refer"): door(R.GRID_LEADER, R.STAFF, grid="object"),
    ("POST", CONCERN + "/handle-now"): door(R.GRID_LEADER, R.STAFF, grid="object"),
    ("POST", CONCERN + "/decline"): door(R.STAFF, R.COMMITTEE, R.CHAIR, grid="object"),
    ("POST", CONCERN + "/merge"): door(R.STAFF, grid="object"),
    ("POST", CONCERN + "/withdraw"): door(R.STAFF, grid="object"),
    ("POST", CONCERN + "/return-for-info"): door(R.COMMITTEE, grid="object"),
    # The chair only after a meeting adopted it, and only that meeting's chair.
    ("POST", CONCERN + "/assign"): door(R.COMMITTEE, R.CHAIR, grid="object"),
    ("POST", CONCERN + "/record-progress"): door(R.STAFF, grid="object", owner=True),
    ("POST", CONCERN + "/extend-deadline"): door(R.COMMITTEE, grid="object"),
    ("POST", CONCERN + "/reassign"): door(R.COMMITTEE, grid="object"),
    ("POST", CONCERN + "/send-back"): door(grid="object", owner=True),
    ("POST", CONCERN + "/resolve"): door(R.STAFF, grid="object", owner=True),
    ("POST", CONCERN + "/record-feedback"): door(R.COLLECTOR, R.STAFF, grid="object"),
    ("POST", CONCERN + "/reopen"): door(R.STAFF, grid="object"),
    # photos: intake by whoever may raise, before/after by whoever may resolve (domain.photos)
    ("POST", CONCERN + "/attachments"): door(
        R.COLLECTOR, R.GRID_LEADER, R.STAFF, grid="object", owner=True
    ),
    ("GET", CONCERN + "/attachments/{digest}"): Door(VIEW, "object", owner=True),
    ("GET", "/public/achievements/{concern_id}/photos/{digest}"): public(),
    # graded supervision (督办): a supervisor's card, the owner's reply
    ("POST", CONCERN + "/supervise"): door(R.SUPERVISOR, grid="object"),
    ("POST", CONCERN + "/reply-supervision"): door(grid="object", owner=True),
    # extensions (延期): the owner asks, the committee approves (extend-deadline) or refuses
    ("POST", CONCERN + "/request-extension"): door(grid="object", owner=True),
    ("POST", CONCERN + "/refuse-extension"): door(R.COMMITTEE, grid="object"),
    # suspension (挂账): the owner asks, the committee approves or refuses; either resumes
    ("POST", CONCERN + "/suspend"): door(grid="object", owner=True),
    ("POST", CONCERN + "/approve-suspension"): door(R.COMMITTEE, grid="object"),
    ("POST", CONCERN + "/refuse-suspension"): door(R.COMMITTEE, grid="object"),
    ("POST", CONCERN + "/resume"): door(R.COMMITTEE, grid="object", owner=True),
    # the appeal of an overdue stage (超期申诉): the owner appeals, a supervisor decides
    ("POST", CONCERN + "/appeal"): door(grid="object", owner=True),
    ("POST", CONCERN + "/decide-appeal"): door(R.SUPERVISOR, grid="object"),
    # the void (作废): staff propose, a supervisor approves or refuses
    ("POST", CONCERN + "/propose-void"): door(R.STAFF, grid="object"),
    ("POST", CONCERN + "/approve-void"): door(R.SUPERVISOR, grid="object"),
    ("POST", CONCERN + "/refuse-void"): door(R.SUPERVISOR, grid="object"),
    ("POST", CONCERN + "/cosigners"): door(R.COLLECTOR, R.STAFF, R.GRID_LEADER, grid="object"),
    # queues
    ("GET", "/api/v1/queues/triage"): Door(STAFF, "filter"),
    ("GET", "/api/v1/queues/committee"): Door(STAFF, "filter"),
    ("GET", "/api/v1/queues/mine"): Door(STAFF, "filter", linked=True),
    ("GET", "/api/v1/queues/overdue"): Door(STAFF, "filter"),
    ("GET", "/api/v1/queues/supervised"): Door(VIEW, "filter"),
    # members
    ("POST", "/api/v1/members"): door(R.ADMIN, R.STAFF, grid="object"),
    ("GET", "/api/v1/members"): Door(STAFF),
    ("GET", "/api/v1/members/{member_id}"): Door(STAFF),
    ("GET", "/api/v1/members/{member_id}/points"): Door(STAFF),
    ("GET", "/api/v1/points"): Door(STAFF),
    # meetings
    ("POST", "/api/v1/meetings"): door(R.CHAIR, R.COMMITTEE),
    ("GET", "/api/v1/meetings"): Door(READERS),
    ("GET", MEETING): Door(READERS),
    ("GET", MEETING + "/history"): door(R.SUPERVISOR, R.STAFF),
    ("GET", MEETING + "/minutes"): Door(READERS),
    ("POST", MEETING + "/agenda"): door(R.COMMITTEE, grid="object"),
    ("POST", MEETING + "/open"): door(R.CHAIR, grid="object", meeting_chair=True),
    ("POST", ITEM + "/open-vote"): door(R.CHAIR, grid="object", meeting_chair=True),
    # The meeting's chair any time; a supervisor once the item's vote is closed.
    ("GET", ITEM + "/roll"): door(R.CHAIR, R.SUPERVISOR),
    # A member's own vote (linked to an entitled member); the chair names another's.
    ("POST", ITEM + "/votes"): door(R.MEMBER, R.CHAIR),
    ("POST", ITEM + "/close-vote"): door(R.CHAIR, grid="object", meeting_chair=True),
    ("POST", MEETING + "/close"): door(R.CHAIR, grid="object", meeting_chair=True),
    ("POST", MEETING + "/attendance"): door(R.CHAIR, grid="object", meeting_chair=True),
    ("POST", MEETING + "/declare-inquorate"): door(R.CHAIR, grid="object", meeting_chair=True),
    # residents, with no token
    ("GET", "/api/v1/track/{tracking_code}"): public(),
    ("POST", "/api/v1/track/{tracking_code}/feedback"): public(),
    ("POST", "/api/v1/residents/{resident_ref}/erase"): door(R.ADMIN),
    # operations
    ("GET", "/healthz"): public(),
    ("GET", "/readyz"): public(),
    ("GET", "/metrics"): public(),
    ("GET", "/workflow"): public(),
    ("GET", "/workflow.mmd"): public(),
    # integrators
    ("GET", "/api/v1/events"): door(R.INTEGRATOR, R.SUPERVISOR),
    ("GET", "/api/v1/events/stream"): door(R.INTEGRATOR, R.SUPERVISOR),
    ("GET", "/api/v1/events/schemas"): public(),
    ("GET", "/api/v1/events/schemas/{event_type}"): public(),
    ("GET", "/asyncapi.json"): public(),
    ("GET", "/open311/v2/services.{fmt}"): public(),
    ("GET", "/open311/v2/requests.{fmt}"): public(),
    ("POST", "/open311/v2/requests.{fmt}"): Door(
        frozenset({R.COLLECTOR, R.GRID_LEADER, R.STAFF}), "object", credential="open311_key"
    ),
    ("GET", "/open311/v2/requests/{request_id}.{fmt}"): public(),
    ("GET", "/open311/v2/tokens/{token}.{fmt}"): public(),
    ("GET", "/open311/v2/servicerequestupdates.{fmt}"): public(),
    ("GET", "/api/v1/webhooks"): door(R.INTEGRATOR, R.ADMIN),
    ("POST", "/api/v1/webhooks"): door(R.INTEGRATOR, R.ADMIN),
    ("GET", WEBHOOK): door(R.INTEGRATOR, R.ADMIN),
    ("PATCH", WEBHOOK): door(R.INTEGRATOR, R.ADMIN),
    ("DELETE", WEBHOOK): door(R.INTEGRATOR, R.ADMIN),
    ("POST", WEBHOOK + "/rotate-secret"): door(R.INTEGRATOR, R.ADMIN),
    ("GET", WEBHOOK + "/deliveries"): door(R.INTEGRATOR, R.ADMIN),
    ("POST", WEBHOOK + "/replay"): door(R.INTEGRATOR, R.ADMIN),
    # audit
    ("GET", "/api/v1/audit/verify"): door(R.SUPERVISOR),
    ("GET", "/api/v1/audit/checkpoints"): door(R.SUPERVISOR),
    ("POST", "/api/v1/audit/checkpoints"): door(R.SUPERVISOR, R.ADMIN),
    ("GET", "/api/v1/audit/access-log"): door(R.SUPERVISOR, grid="filter"),
    ("GET", "/api/v1/audit/requests/{request_id}"): door(R.SUPERVISOR, grid="filter"),
    # visits, libraries, ledger
    ("POST", "/api/v1/visits"): door(R.COLLECTOR, R.STAFF, grid="object"),
    ("GET", "/api/v1/visits"): Door(STAFF, "filter"),
    ("GET", "/api/v1/visits/{visit_id}"): Door(STAFF, "object"),
    ("GET", "/api/v1/libraries/achievement"): Door(STAFF, "filter"),
    ("GET", "/api/v1/libraries/{library}"): Door(STAFF, "filter"),
    ("GET", "/public/achievements"): public(),
    # the commitments (承诺) and the public board (八公开)
    ("POST", CONCERN + "/milestones"): door(R.STAFF, grid="object", owner=True),
    ("POST", CONCERN + "/milestones/{milestone_id}/done"): door(R.STAFF, grid="object", owner=True),
    ("POST", CONCERN + "/write-off"): door(R.STAFF, grid="object"),
    # The member themselves (linked to it) or staff.
    ("POST", "/api/v1/members/{member_id}/public-identity"): door(R.STAFF, R.ADMIN, linked=True),
    ("GET", "/public/commitments"): public(),
    ("GET", "/public/board"): public(),
    # in-service members and volunteers (在职党员进社区)
    ("POST", "/api/v1/posts"): door(R.STAFF, R.ADMIN, grid="object"),
    ("GET", "/api/v1/posts"): Door(frozenset({*STAFF, R.MEMBER})),
    # The member themselves (any linked principal passes the door; the verb checks it is
    # their own) or staff.
    ("POST", "/api/v1/posts/{post_id}/claims"): door(R.STAFF, R.ADMIN, linked=True),
    ("POST", "/api/v1/service-records"): door(R.STAFF, R.ADMIN, linked=True),
    ("POST", "/api/v1/members/{member_id}/feedback"): door(R.STAFF, R.COMMITTEE),
    ("GET", "/api/v1/evaluations"): Door(VIEW, "filter"),
    ("GET", "/api/v1/ledger"): Door(VIEW, "filter"),
    ("GET", "/api/v1/ledger/concerns"): Door(VIEW, "filter"),
    ("GET", "/api/v1/ledger/visits"): Door(VIEW, "filter"),
    # the work calendar and the time limits
    ("GET", "/api/v1/scorecards"): Door(VIEW, "filter"),
    ("GET", "/api/v1/calendar/{year}"): Door(VIEW),
    ("PUT", "/api/v1/calendar/{year}/days/{day}"): door(R.ADMIN),
    ("GET", "/api/v1/time-limits"): Door(VIEW),
    ("PUT", "/api/v1/time-limits"): door(R.ADMIN),
    # places and the grids' boundaries (docs/patterns.md)
    ("GET", "/api/v1/places"): door(R.ADMIN, R.STAFF, grid="filter"),
    ("POST", "/api/v1/places"): door(R.ADMIN, R.STAFF, grid="object"),
    ("GET", "/api/v1/places/{place_id}"): door(R.ADMIN, R.STAFF, grid="object"),
    ("PATCH", "/api/v1/places/{place_id}"): door(R.ADMIN, R.STAFF, grid="object"),
    ("GET", "/api/v1/grids/{grid}/boundary"): Door(VIEW),
    ("GET", "/api/v1/hotspots"): Door(VIEW, "filter"),
    ("PUT", "/api/v1/grids/{grid}/boundary"): door(R.ADMIN),
}

UI_CHAIR_STEPS = door(R.CHAIR, grid="object", meeting_chair=True)
# The web UI's pages (not in the OpenAPI document): a session cookie instead of a token.
UI: dict[tuple[str, str], Door] = {
    ("GET", "/ui"): public(),
    ("GET", "/ui/"): Door(frozenset(Role) - {R.RESIDENT, R.SYSTEM}),
    ("GET", "/ui/sign-in"): public(),
    ("POST", "/ui/sign-in"): public(),
    ("POST", "/ui/sign-out"): Door(frozenset(Role) - {R.RESIDENT, R.SYSTEM}),
    # GET on a form's own address (a reload, a bookmark) only redirects to its page.
    ("GET", "/ui/sign-out"): public(),
    ("GET", "/ui/record"): door(R.COLLECTOR, R.STAFF),
    ("POST", "/ui/record"): door(R.COLLECTOR, R.STAFF, grid="object"),
    ("GET", "/ui/record/done"): door(R.COLLECTOR, R.STAFF),
    ("GET", "/ui/outbox"): door(R.COLLECTOR, R.STAFF),
    ("GET", "/ui/sw.js"): public(),
    ("GET", "/ui/triage"): door(R.GRID_LEADER, R.STAFF, R.ADMIN, grid="filter"),
    ("GET", "/ui/committee"): door(R.COMMITTEE, R.CHAIR, R.STAFF, grid="filter"),
    ("GET", "/ui/tasks"): Door(frozenset(Role) - {R.RESIDENT, R.SYSTEM}, "filter"),
    ("GET", "/ui/inbox"): Door(frozenset(Role) - {R.RESIDENT, R.SYSTEM}, "filter"),
    ("GET", "/ui/concerns"): Door(VIEW, "filter"),
    ("GET", "/ui/concerns/{ref}"): Door(VIEW, "object", owner=True),
    # Which roles depends on the action: the lifecycle's table (domain.lifecycle), as the API's.
    ("POST", "/ui/concerns/{ref}/act/{action}"): Door(VIEW, "object", owner=True),
    ("GET", "/ui/concerns/{ref}/act/{action}"): Door(VIEW, "object", owner=True),
    ("GET", "/ui/concerns/{ref}/slip"): Door(VIEW, "object", owner=True),
    # A refused form's own address (a reload, a bookmark): to the concern page, as its door.
    ("GET", "/ui/concerns/{ref}/reveal"): Door(VIEW, "object", owner=True),
    ("GET", "/ui/concerns/{ref}/photos"): Door(VIEW, "object", owner=True),
    ("GET", "/ui/concerns/{ref}/do/{verb}"): Door(VIEW, "object", owner=True),
    # Only whoever recorded the concern (it shows the tracking code): no role passes as such.
    ("GET", "/ui/concerns/{ref}/receipt"): Door(frozenset(), "object"),
    ("POST", "/ui/concerns/{ref}/reveal"): door(R.SUPERVISOR, grid="object"),
    # Which roles depends on the kind of photo (domain.photos), as the API's.
    ("POST", "/ui/concerns/{ref}/photos"): door(
        R.COLLECTOR, R.GRID_LEADER, R.STAFF, grid="object", owner=True
    ),
    ("GET", "/ui/concerns/{ref}/photos/{digest}"): Door(VIEW, "object", owner=True),
    ("GET", "/ui/meetings"): Door(READERS),
    ("POST", "/ui/meetings"): door(R.CHAIR, R.COMMITTEE),
    ("GET", "/ui/meetings/{meeting_id}"): Door(READERS, linked=True),
    ("POST", "/ui/meetings/{meeting_id}/open"): UI_CHAIR_STEPS,
    ("POST", "/ui/meetings/{meeting_id}/items/{concern_id}/open-vote"): UI_CHAIR_STEPS,
    ("POST", "/ui/meetings/{meeting_id}/items/{concern_id}/close-vote"): UI_CHAIR_STEPS,
    ("POST", "/ui/meetings/{meeting_id}/close"): UI_CHAIR_STEPS,
    ("POST", "/ui/meetings/{meeting_id}/attendance"): UI_CHAIR_STEPS,
    ("POST", "/ui/meetings/{meeting_id}/declare-inquorate"): UI_CHAIR_STEPS,
    ("GET", "/ui/meetings/{meeting_id}/attendance"): public(),
    ("GET", "/ui/meetings/{meeting_id}/declare-inquorate"): public(),
    ("GET", "/ui/meetings/{meeting_id}/projector"): Door(READERS),
    ("GET", "/ui/meetings/{meeting_id}/open"): public(),
    ("GET", "/ui/meetings/{meeting_id}/close"): public(),
    ("GET", "/ui/meetings/{meeting_id}/items/{concern_id}/open-vote"): public(),
    ("GET", "/ui/meetings/{meeting_id}/items/{concern_id}/close-vote"): public(),
    ("GET", "/ui/meetings/{meeting_id}/items/{concern_id}/votes"): public(),
    ("GET", "/ui/meetings/{meeting_id}/minutes"): Door(READERS),
    ("POST", "/ui/meetings/{meeting_id}/items/{concern_id}/votes"): door(R.MEMBER, R.CHAIR),
    ("GET", "/ui/meetings/{meeting_id}/vote"): Door(frozenset(), linked=True),
    ("GET", "/ui/vote"): door(R.MEMBER, R.CHAIR),
    ("GET", "/ui/meetings/{meeting_id}/live"): Door(READERS),
    ("GET", "/ui/track"): public(),
    ("GET", "/ui/track/{code}"): public(),
    ("POST", "/ui/track/{code}/feedback"): public(),
    ("GET", "/ui/track/{code}/feedback"): public(),
    ("GET", "/ui/public/achievements"): public(),
    ("GET", "/ui/public/commitments"): public(),
    ("GET", "/ui/public/board"): public(),
    ("GET", "/ui/supervision"): door(R.SUPERVISOR),
    ("GET", "/ui/ledger"): Door(VIEW, "filter"),
    ("GET", "/ui/dashboard"): Door(VIEW, "filter"),
    ("GET", "/ui/dashboard/open"): Door(VIEW, "filter"),
    ("GET", "/ui/public/figures"): public(),
    ("GET", "/ui/ledger.csv"): Door(VIEW, "filter"),
    ("GET", "/ui/ledger.xlsx"): Door(VIEW, "filter"),
    ("GET", "/ui/scorecards"): Door(VIEW, "filter"),
    ("GET", "/ui/scorecards.csv"): Door(VIEW, "filter"),
    ("GET", "/ui/scorecards.xlsx"): Door(VIEW, "filter"),
    # Which roles depends on the verb (api/ui/limit_actions.py), as the API's.
    ("POST", "/ui/concerns/{ref}/do/{verb}"): Door(VIEW, "object", owner=True),
    # Patterns (docs/patterns.md): the hotspot map, the places register, a grid's boundary.
    ("GET", "/ui/hotspots"): Door(VIEW, "filter"),
    ("GET", "/ui/places"): door(R.ADMIN, R.STAFF, grid="filter"),
    ("POST", "/ui/places"): door(R.ADMIN, R.STAFF, grid="object"),
    ("GET", "/ui/places/{place_id}"): door(R.ADMIN, R.STAFF, grid="object"),
    ("POST", "/ui/places/{place_id}"): door(R.ADMIN, R.STAFF, grid="object"),
    ("GET", "/ui/grids/{grid}/boundary"): Door(VIEW, "object"),
    ("POST", "/ui/grids/{grid}/boundary"): door(R.ADMIN, grid="object"),
    ("GET", "/ui/calendar"): Door(VIEW),
    ("POST", "/ui/calendar/{year}/days"): door(R.ADMIN),
    ("GET", "/ui/calendar/{year}/days"): Door(VIEW),
    ("GET", "/ui/evaluations"): Door(VIEW, "filter"),
    ("GET", "/ui/evaluations.csv"): Door(VIEW, "filter"),
}


def install(app: FastAPI) -> None:
    """Publish each operation's row in the OpenAPI document (`x-minqing-roles` …)."""
    make: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = make()
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                row = API.get((method.upper(), path))
                if row is not None:
                    operation.update(row.as_openapi())
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
