"""All configuration, read once from MINQING_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.scorecard_rules import DEFAULT_GRADES, DEFAULT_WEIGHTS, ScoreRules
from domain.work_calendar import Period, parse_periods


class Settings(BaseSettings):
    """Minqing's settings; every field can be set as MINQING_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="MINQING_", extra="ignore")

    database_url: str = "sqlite:///var/minqing.db"
    # PostgreSQL connections this process keeps open while idle, and how many more it may
    # open under load (closed again once idle). Unset: sized for the process's threads, 2 +
    # 18 for `minqing serve` and 1 + 2 for a worker or a command (application/bootstrap.py).
    postgres_pool_size: int | None = Field(default=None, ge=0)
    postgres_max_overflow: int | None = Field(default=None, ge=0)
    master_key: str | None = None
    master_key_file: Path = Path("var/master.key")
    admin_token_file: Path = Path("var/admin-token")
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    # Request bodies larger than this many bytes are refused (413) unread.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # A bearer token's principal is kept this many seconds per process (a revoked token
    # still works that long); 0: looked up on every request.
    token_cache_seconds: float = Field(default=5.0, ge=0)
    # Unauthenticated tracking endpoints: requests per client per minute.
    track_rate_limit: int = 60
    # Run the projections in a background thread of the API process (embedded mode, and
    # the default on PostgreSQL too); false in production, where `minqing worker
    # projections` runs them instead.
    embedded_workers: bool = True
    # Where the embedded read models are fed: `thread`, a thread of the API process, or
    # `process`, a child process (`minqing worker projections`) that `minqing serve` starts
    # and stops, so the folds do not share the commands' interpreter. `minqing serve` uses
    # `process` unless this is set; an app made by `create_app` alone (tests) uses `thread`.
    embedded_projections: Literal["thread", "process"] = "thread"
    # Integrators: the CloudEvents `source` of every published event.
    event_source: str = "urn:minqing:community"
    # The address clients reach this service at (behind any proxy): CloudEvents'
    # `dataschema` is this URL followed by /api/v1/events/schemas/<type>.
    public_url: str = "http://127.0.0.1:8000"
    # Server-Sent Events: a `: keep-alive` comment at least this often; a stream ends
    # after the longest duration (the client resumes with Last-Event-ID), so a restart
    # or a load balancer never waits on streams that stay open forever.
    event_stream_heartbeat_seconds: float = 15.0
    event_stream_max_seconds: float = 300.0
    # Public outputs (Open311 reads) show a concern's point only as the centre of a cell of
    # this many metres (docs/patterns.md); staff see the exact point.
    public_cell_m: int = Field(default=500, ge=50, le=5000)
    # Open311 POST requests without attribute[grid] are raised in this grid; none: refused.
    open311_default_grid: str | None = None
    # Webhooks (workers/webhooks.py). Targets in private, loopback and link-local ranges
    # are refused unless allowed (tests and closed networks). The retry schedule is the
    # delay in seconds before each attempt (Standard Webhooks': immediately, 5 s, 5 min,
    # 30 min, 2 h, 5 h, 10 h, 10 h); after the last one a message is parked.
    webhooks_allow_private: bool = False
    webhooks_retry_schedule: str = "0,5,300,1800,7200,18000,36000,36000"
    webhooks_timeout_seconds: float = 15.0
    webhooks_secret_grace_hours: float = 24.0  # a rotated-out secret keeps signing this long
    webhooks_concurrency: int = 8  # deliveries under way at once (one per subject at most)
    # Ed25519 key that signs audit checkpoints: base64 of the raw 32-byte private key.
    # Unset on the embedded store: made in the file below on first use.
    audit_signing_key: str | None = None
    audit_signing_key_file: Path = Path("var/audit-signing.key")
    # The automatic checkpoint (workers/checkpoints.py) signs the chain's head when the
    # newest checkpoint is older than this many hours.
    audit_checkpoint_hours: float = 24.0
    # Web UI (/ui/): a signed-in session lasts this long; this many failed sign-ins for one
    # user name from one client address within the window lock that name from that address
    # until the window has passed; name_failures from all addresses lock it everywhere.
    ui_session_hours: float = 12.0
    ui_lockout_failures: int = 5
    ui_lockout_minutes: float = 15.0
    ui_lockout_name_failures: int = 50
    # Addresses (or networks, CIDR) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed, comma-separated; none by default: the peer's address
    # is the client's (rate limits, sign-in lock-out) and the scheme is the connection's.
    trusted_proxies: str = ""
    # The deadline watcher (workers/deadlines.py): a resolved concern whose resident has not
    # been asked back this many days after the resolution is recorded FeedbackOverdue; it
    # looks for passed due dates and overdue feedback this often.
    feedback_window_days: int = Field(default=7, ge=1)
    deadline_check_seconds: float = Field(default=60.0, gt=0)
    # Member points (党员积分): what one piece of recorded work earns; applied when read.
    points_visit: int = Field(default=1, ge=0)
    points_concern_collected: int = Field(default=1, ge=0)
    points_meeting_attended: int = Field(default=2, ge=0)
    points_resolved_on_time: int = Field(default=3, ge=0)
    # Deducted from the owner for each supervision card (督办) received.
    points_yellow_card: int = Field(default=-5, le=0)
    points_red_card: int = Field(default=-10, le=0)
    # The ledger's response rate (响应率): an assigned concern's owner should record a first
    # action (progress, resolve or send back) within this many days of the assignment.
    response_window_days: float = Field(default=2.0, gt=0)
    # Scorecards (考核记分卡, docs/time-limits.md): the composite score's weights per
    # component and the grades' lower bounds, as name=number lists.
    scorecard_weights: str = DEFAULT_WEIGHTS
    scorecard_grades: str = DEFAULT_GRADES

    @model_validator(mode="after")
    def _score_rules(self) -> Settings:
        ScoreRules.parse(self.scorecard_weights, self.scorecard_grades)  # ValueError: refused
        return self

    @property
    def score_rules(self) -> ScoreRules:
        """The scorecards' weights and grades."""
        return ScoreRules.parse(self.scorecard_weights, self.scorecard_grades)

    # Approved exceptions (docs/time-limits.md): at most this many extensions (延期) approved
    # per round of work; a suspension (挂账) asked to last at most this many days ahead.
    extension_cap: int = Field(default=2, ge=0)
    suspension_max_days: int = Field(default=365, ge=1, le=731)
    # The working periods of a working day, in the community's zone (工作时: working-hours
    # limits count only these; a working day is their sum).
    working_periods: str = "08:00-12:00,14:00-18:00"

    @model_validator(mode="after")
    def _periods(self) -> Settings:
        parse_periods(self.working_periods)  # ValueError: refused at start, saying why
        return self

    @property
    def periods(self) -> tuple[Period, ...]:
        """The working periods, parsed."""
        return parse_periods(self.working_periods)

    @property
    def embedded(self) -> bool:
        """True on the embedded SQLite store (nothing to install)."""
        return self.database_url.startswith("sqlite")
