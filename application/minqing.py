"""The Minqing application: every service in one object, as the API, the workers and the
command line use it (`Minqing(env, master_key=…)`; application/bootstrap.py opens it from
the settings).

Each service is a module of its own over the same eventsourcing Application
(application/base.py): the concern's verbs (intake.py, concerns.py), the meeting's (meetings.py),
members and visits (members.py), the commitment's milestones and writing off
(commitments.py, over the concern's verbs), and the reads straight from the log (views.py). Erasure
is application/residents.py, the views of a meeting meeting_views.py.
"""

from __future__ import annotations

from application.base import Clock
from application.commands import CommandResult, Idempotency, NewConcern, NewVisit
from application.commitments import CommitmentCommands
from application.hotspots import HotspotVerbs
from application.meetings import MeetingCommands
from application.members import MemberCommands
from application.photos import PhotoCommands
from application.service import ServiceCommands
from application.suspensions import SuspensionVerbs
from application.views import Views
from application.voids import VoidVerbs

__all__ = [
    "Clock",
    "CommandResult",
    "Idempotency",
    "Minqing",
    "NewConcern",
    "NewVisit",
]


class Minqing(
    CommitmentCommands,
    MeetingCommands,
    MemberCommands,
    ServiceCommands,
    PhotoCommands,
    SuspensionVerbs,
    VoidVerbs,
    HotspotVerbs,
    Views,
):
    """Residents' concerns, event-sourced: every command is one atomic save of events."""
