"""The domain's refusals: every error a command can raise, mapped to HTTP in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from domain.lifecycle import Action, Status


class DomainError(Exception):
    """A command was refused; nothing was recorded."""


class NotFound(DomainError):
    """No such concern, member or other thing."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no {kind} {ident}")
        self.kind = kind
        self.ident = str(ident)


class Invalid(DomainError):
    """Input broke a rule; `fields` names each field and what is wrong with it."""

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in fields))
        self.fields = list(fields)


class TransitionNotAllowed(DomainError):
    """The lifecycle does not allow this action from the concern's current status."""

    def __init__(self, status: Status, action: Action, allowed: Sequence[Action]) -> None:
        names = ", ".join(a.value for a in allowed) or "none"
        super().__init__(
            f"cannot {action.value} a concern in status {status.value}; allowed: {names}"
        )
        self.status = status
        self.action = action
        self.allowed = list(allowed)


class Conflict(DomainError):
    """A concurrent change or a rule about shared state stopped the command."""

    def __init__(self, message: str, rule: str = "concurrent_change", **details: int | str) -> None:
        super().__init__(message)
        self.rule = rule
        # Figures the rule refused on (no_quorum: present, entitled, needed), in the body.
        self.details = dict(details)


class VersionMismatch(DomainError):
    """The caller's expected version (If-Match) is not the aggregate's version."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"expected version {expected}, but the current version is {current}")
        self.expected = expected
        self.current = current


class Forbidden(DomainError):
    """The principal's roles or grids do not allow this."""
