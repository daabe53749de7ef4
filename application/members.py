"""The member registry and household visits: register, record, and read them back."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from application.base import MinqingBase
from application.commands import CommandResult, Idempotency, NewVisit
from application.ports import SideRow
from domain.errors import Conflict, Invalid, NotFound
from domain.meeting import Meeting
from domain.member import Member
from domain.permissions import check_grid, check_member_grids, require_role
from domain.principal import Principal
from domain.residents import ResidentData
from domain.visit import SealedHousehold, Visit
from domain.vocabulary import DutyRole, Role


class MemberCommands(MinqingBase):
    """Registering members and recording visits; the reads of both."""

    def register_member(
        self,
        principal: Principal,
        name: str,
        grids: list[str],
        duty_roles: list[DutyRole],
        votes_in_branch: bool,
        idem: Idempotency | None = None,
        *,
        kind: str = "branch",
        organisation: str | None = None,
        reported_on: date | None = None,
        badge_number: str | None = None,
    ) -> CommandResult:
        """Add a member to the registry (a branch member, an in-service member who reported
        in, or a badged volunteer); a principal limited to some grids registers members of
        those grids only."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = require_role(principal, (Role.ADMIN, Role.STAFF), "registering a member")
        check_member_grids(principal, grids)
        member = Member.register(
            name=name,
            grids=grids,
            duty_roles=duty_roles,
            votes_in_branch=votes_in_branch,
            actor_id=principal.id,
            actor_role=role.value,
            at=self.clock(),
            kind=kind,
            organisation=organisation,
            reported_on=reported_on,
            badge_number=badge_number,
        )
        result = CommandResult(id=str(member.id), version=member.version, position=0)
        saved = self._save(member, [], result, idem, [])
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def get_member(self, member_id: UUID) -> Member:
        """One member of the registry."""
        return self._member(member_id, "member", not_found=True)

    def list_members(self) -> list[Member]:
        """Every member, in the order they were registered."""
        return self._all_of(Member)

    def members_shown_in_public(self) -> dict[str, str]:
        """Member id → name, for the members who agreed to be shown (党员亮身份) only."""
        return {str(m.id): m.name for m in self.list_members() if m.shown_in_public}

    def record_visit(
        self,
        principal: Principal,
        visit: NewVisit,
        idem: Idempotency | None = None,
    ) -> CommandResult:
        """Record a household visit, with the concerns raised on it (possibly none)."""
        if (replay := self._replay(idem)) is not None:
            return replay
        role = require_role(principal, (Role.COLLECTOR, Role.STAFF), "recording a visit")
        check_grid(principal, visit.grid.strip())
        problems = []
        for concern_id in dict.fromkeys(visit.concern_ids):
            try:
                concern = self._find_concern(concern_id, field_name="concern_ids")
            except Invalid as exc:
                problems += exc.fields
                continue
            if concern.grid != visit.grid.strip():
                problems.append(
                    ("concern_ids", f"concern {concern_id} is in grid {concern.grid}, not this one")
                )
        if problems:
            raise Invalid(problems)
        key_rows: list[SideRow] = []

        def seal(grid: str, household: str) -> SealedHousehold:
            # The household's key row is saved with the visit, in the same transaction.
            sealed = self.keyring.seal(ResidentData(address=household))
            key_rows.append(sealed.key_row)
            key = self.keyring.household_key(grid, household)
            return SealedHousehold(sealed.resident_ref, sealed.ciphertext, key)

        recorded = Visit.record(
            grid=visit.grid,
            household=visit.household,
            visited_on=visit.visited_on,
            priority_visit=visit.priority_visit,
            notes=visit.notes,
            concern_ids=list(visit.concern_ids),
            actor_id=principal.id,
            actor_role=role.value,
            at=self.clock(),
            seal=seal,
        )
        result = CommandResult(id=str(recorded.id), version=recorded.version, position=0)
        saved = self._save(recorded, [], result, idem, key_rows)
        if saved is None:  # a fresh UUID cannot collide: only the idempotency row can
            raise Conflict("the same Idempotency-Key is being used concurrently")
        return saved

    def get_visit(self, visit_id: UUID) -> Visit:
        """One recorded visit."""
        found = self._get(visit_id)
        if not isinstance(found, Visit):
            raise NotFound("visit", visit_id) from None
        return found

    def household_of(self, visit: Visit) -> str | None:
        """The visit's household as text; None once its pseudonym was erased."""
        if visit.household_ref is None or visit.household_sealed is None:
            return visit.household  # recorded before households were sealed
        data = self.keyring.open(visit.household_ref, visit.household_sealed)
        return data.address if data else None

    def representatives_of(self, meeting: Meeting) -> list[dict[str, Any]]:
        """The meeting's resident representatives: `name` (None once erased) and their
        pseudonym `resident_ref` (None for names recorded before they were sealed)."""
        found: list[dict[str, Any]] = [
            {"name": name, "resident_ref": None} for name in meeting.resident_representatives
        ]
        for sealed in meeting.sealed_representatives:
            data = self.keyring.open(sealed["resident_ref"], sealed["name"])
            found.append(
                {"name": data.name if data else None, "resident_ref": sealed["resident_ref"]}
            )
        return found
