"""The Prometheus exposition of /metrics (prometheus-client): what operators watch.

Two kinds of series. Gauges read from the database at scrape time — the log's head, the
read models' positions, lag and parked events, events by type, the webhook backlog — so every
API process answers alike. And what processes measured of themselves (adapters/instruments.py):
request durations, command outcomes, projection batches, webhook deliveries and the process.
Under `minqing serve --workers N` (PROMETHEUS_MULTIPROC_DIR) the scrape adds up every
process's values from the shared directory; process figures are then kept per `pid`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from adapters import instruments
from adapters.webhooks import Backlog
from projections.runner import ProjectionStatus

# The classic text format, which every Prometheus server reads.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class DatabaseGauges(Collector):
    """The gauges read from the database for this scrape."""

    def __init__(
        self,
        head: int,
        projections: list[ProjectionStatus],
        events_by_type: Mapping[str, int],
        webhooks: Backlog,
    ) -> None:
        self.head = head
        self.projections = projections
        self.events_by_type = events_by_type
        self.webhooks = webhooks

    def collect(self) -> Iterator[Metric]:
        """Each family with its samples."""
        yield _gauge("minqing_log_position", "Highest position in the event log.", self.head)
        by_projection = (
            ("position", "Log position each read model has processed up to."),
            ("lag", "Log positions each read model is behind the head."),
            (
                "parked",
                "Events each read model failed on and passed over (minqing projections parked).",
            ),
        )
        for field, documentation in by_projection:
            name = f"minqing_projection_{'parked_events' if field == 'parked' else field}"
            family = GaugeMetricFamily(name, documentation, labels=["projection"])
            for s in self.projections:
                family.add_metric([s.name], getattr(s, field))
            yield family
        events = GaugeMetricFamily(
            "minqing_events",
            "Events in the log by type, as the event_counts read model has counted them.",
            labels=["type"],
        )
        for kind, n in sorted(self.events_by_type.items()):
            events.add_metric([kind], n)
        yield events
        w = self.webhooks
        yield _gauge(
            "minqing_webhook_lag", "Log positions the webhook dispatcher has not yet queued.", w.lag
        )
        messages = GaugeMetricFamily(
            "minqing_webhook_messages",
            "Webhook messages not delivered, by state.",
            labels=["state"],
        )
        for state, n in (
            ("undelivered", w.undelivered),
            ("paused", w.paused),
            ("parked", w.parked),
        ):
            messages.add_metric([state], n)
        yield messages
        yield _gauge(
            "minqing_webhook_oldest_undelivered_age_seconds",
            "Age of the oldest undelivered webhook message (0 when there is none).",
            w.oldest_undelivered_age_seconds or 0.0,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class _OwnInstruments(Collector):
    """This process's instruments (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        """The families of adapters/instruments.py's registry."""
        return iter(instruments.REGISTRY.collect())


def exposition(
    head: int,
    projections: list[ProjectionStatus],
    events_by_type: Mapping[str, int],
    webhooks: Backlog,
) -> bytes:
    """Every metric, as one body in the text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseGauges(head, projections, events_by_type, webhooks))
    if instruments.MULTIPROCESS:
        instruments.refresh_process_metrics(force=True)
        # prometheus-client leaves it untyped.
        MultiProcessCollector(registry, os.environ[instruments.MULTIPROC_ENV])  # type: ignore[no-untyped-call]
    else:
        registry.register(_OwnInstruments())
        ProcessCollector(registry=registry)
    return generate_latest(registry)
