"""The one role check of the application layer (`require_role`), in memory: which role it
returns and the refusal's exact words, which the web UI matches (api/ui/refusal_messages.py)."""

from __future__ import annotations

import pytest

from domain.errors import Forbidden
from domain.permissions import require_role
from domain.vocabulary import Role
from tests.unit.builders import principal


def test_one_role_held_is_returned() -> None:
    assert require_role(principal(Role.ADMIN), Role.ADMIN, "changing the time limits") is Role.ADMIN


def test_the_first_role_held_in_the_order_given_is_returned() -> None:
    both = principal(Role.STAFF, Role.ADMIN)
    assert require_role(both, (Role.ADMIN, Role.STAFF), "registering a place") is Role.ADMIN
    assert require_role(both, (Role.STAFF, Role.ADMIN), "setting a post") is Role.STAFF
    committee = principal(Role.COMMITTEE)
    assert require_role(committee, (Role.STAFF, Role.COMMITTEE), "giving feedback") is (
        Role.COMMITTEE
    )


def test_one_role_missing_names_it() -> None:
    with pytest.raises(Forbidden) as refused:
        require_role(principal(Role.STAFF), Role.SUPERVISOR, "refusing a void")
    assert str(refused.value) == "refusing a void needs the role supervisor"


@pytest.mark.parametrize(
    ("roles", "doing", "words"),
    [
        (
            (Role.ADMIN, Role.STAFF),
            "registering a member",
            "registering a member needs one of the roles admin, staff",
        ),
        (
            (Role.COLLECTOR, Role.STAFF),
            "recording a visit",
            "recording a visit needs one of the roles collector, staff",
        ),
        # The order given, not sorted.
        (
            (Role.STAFF, Role.ADMIN),
            "setting a post",
            "setting a post needs one of the roles staff, admin",
        ),
    ],
)
def test_several_roles_missing_names_them_in_the_order_given(
    roles: tuple[Role, ...], doing: str, words: str
) -> None:
    with pytest.raises(Forbidden) as refused:
        require_role(principal(Role.MEMBER), roles, doing)
    assert str(refused.value) == words


def test_a_one_role_tuple_reads_as_one_role() -> None:
    with pytest.raises(Forbidden) as refused:
        require_role(principal(), (Role.ADMIN,), "drawing a grid's boundary")
    assert str(refused.value) == "drawing a grid's boundary needs the role admin"


def test_no_roles_at_all_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_role(principal(Role.ADMIN), (), "doing nothing")
