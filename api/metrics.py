"""The Prometheus text exposition of /metrics: what operators watch, read from the database.

Gauges only, computed at scrape time from the log, the read models' positions and parked
events, and the webhook outbox, so every API process answers alike (no per-process counters
to sum).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from adapters.webhooks import Backlog
from projections.runner import ProjectionStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Family:
    """One metric: its name, help text, type and samples (labels, value)."""

    name: str
    help: str
    kind: str
    samples: list[tuple[Mapping[str, str], float]]

    def lines(self) -> Iterable[str]:
        """The family in the text format."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for labels, value in self.samples:
            pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            selector = f"{{{pairs}}}" if pairs else ""
            yield f"{self.name}{selector} {_number(value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(
    head: int,
    projections: list[ProjectionStatus],
    events_by_type: Mapping[str, int],
    webhooks: Backlog,
) -> str:
    """Every metric, as one text body."""
    families = [
        Family("minqing_log_position", "Highest position in the event log.", "gauge", [({}, head)]),
        Family(
            "minqing_projection_position",
            "Log position each read model has processed up to.",
            "gauge",
            [({"projection": s.name}, s.position) for s in projections],
        ),
        Family(
            "minqing_projection_lag",
            "Log positions each read model is behind the head.",
            "gauge",
            [({"projection": s.name}, s.lag) for s in projections],
        ),
        Family(
            "minqing_projection_parked_events",
            "Events each read model failed on and passed over (minqing projections parked).",
            "gauge",
            [({"projection": s.name}, s.parked) for s in projections],
        ),
        Family(
            "minqing_events",
            "Events in the log by type, as the event_counts read model has counted them.",
            "gauge",
            [({"type": kind}, n) for kind, n in sorted(events_by_type.items())],
        ),
        Family(
            "minqing_webhook_lag",
            "Log positions the webhook dispatcher has not yet queued.",
            "gauge",
            [({}, webhooks.lag)],
        ),
        Family(
            "minqing_webhook_messages",
            "Webhook messages not delivered, by state.",
            "gauge",
            [
                ({"state": "undelivered"}, webhooks.undelivered),
                ({"state": "paused"}, webhooks.paused),
                ({"state": "parked"}, webhooks.parked),
            ],
        ),
        Family(
            "minqing_webhook_oldest_undelivered_age_seconds",
            "Age of the oldest undelivered webhook message (0 when there is none).",
            "gauge",
            [({}, webhooks.oldest_undelivered_age_seconds or 0.0)],
        ),
    ]
    return "\n".join(line for f in families for line in f.lines()) + "\n"
