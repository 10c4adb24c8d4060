"""One typed settings object; nothing else in Shiyu reads the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-development-only"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHIYU_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///var/shiyu.db",
        description="SQLAlchemy URL: SQLite (embedded, relative to the working directory) or "
        "postgresql+psycopg://user:password@host:5432/db",
    )
    secret_key: str = Field(default=DEFAULT_SECRET_KEY, description="Signs access tokens.")
    access_token_minutes: int = Field(default=480, ge=1, le=60 * 24 * 7)
    login_max_failures: int = Field(default=5, ge=1, description="Failures before throttling.")
    login_window_seconds: int = Field(default=900, ge=1)
    geo_index_check_seconds: float = Field(
        default=1.0, ge=0, description="How often a process checks whether grids changed."
    )
    demo_password: str = Field(default="Shiyu@2026", min_length=8)
    demo_seed: int = 2026
    demo_days: int = Field(
        default=90,
        ge=0,
        le=366,
        description="Days of city life `shiyu demo` simulates into a city without events "
        "(0: none).",
    )
    demo_events_per_day: int = Field(
        default=6, ge=1, le=5000, description="Average events a simulated demo day."
    )
    demo_open311_key: str = Field(
        default="shiyu-demo-open311-key-2026",
        min_length=16,
        description='Api key of the demo\'s Open311 client "demo" (printed by `shiyu demo`).',
    )
    open311_contact: str = Field(
        default="市域社会治理平台管理员", max_length=200, description="Open311 discovery contact."
    )
    open311_public_channels: list[str] = Field(
        default_factory=lambda: ["open311"],
        description="Channels whose events GET /open311/v2/requests publishes (JSON list).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For is trusted (client IPs for login throttling).",
    )
    encryption_keys: list[str] = Field(
        default_factory=list,
        description="Fernet keys for personal data at rest, newest first (comma-separated "
        "JSON list); empty: derived from the secret key.",
    )
    upload_dir: str = Field(default="var/uploads", description="Where attachments are stored.")
    web_dist: str = Field(
        default="",
        description="The built web app served at / (empty: web/dist next to the shiyu package; "
        "absent: a small landing page).",
    )
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    hotline_upload_max_bytes: int = Field(
        default=64 * 1024 * 1024, ge=1024, description="Largest 12345 file accepted by the API."
    )
    hotline_batch_size: int = Field(
        default=500, ge=1, le=10_000, description="12345 import rows committed together."
    )
    hotline_stale_seconds: float = Field(
        default=120, gt=0, description="A running 12345 import silent this long has died."
    )
    resident_reports_per_phone_per_day: int = Field(default=10, ge=1)
    resident_reports_per_address_per_hour: int = Field(default=20, ge=1)
    yellow_at: float = Field(default=0.8, gt=0, lt=1, description="Share of time used → yellow.")
    escalate_after_minutes: int = Field(
        default=24 * 60, ge=1, description="Overdue this long after supervision → one level up."
    )
    sweep_interval_seconds: int = Field(default=60, ge=0, description="0 disables the sweep.")
    checkin_minutes: int = Field(default=30, ge=1, description="吹哨报到 check-in limit.")
    export_max_rows: int = Field(
        default=100_000, ge=1, description="Excel exports matching more rows than this: 422."
    )
    map_tile_url: str = Field(
        default="",
        max_length=500,
        description="Map tile URL template ({z}/{x}/{y}); empty: no tiles (offline background).",
    )
    map_tile_attribution: str = Field(default="", max_length=200)
    dashboard_check_seconds: float = Field(
        default=1.5, gt=0, le=30, description="How often the command centre stream looks."
    )
    dashboard_stream_seconds: float = Field(
        default=600, gt=0, description="A stream ends after this; the page reconnects."
    )
    satisfaction_basic_weight: float = Field(
        default=0.9, ge=0, le=1, description="满意率: weight of 基本满意 (docs/metrics.md)."
    )
    alarm_max_skew_seconds: int = Field(
        default=300, ge=30, le=3600, description="Signed alarms older (or newer) than this: 401."
    )
    classifier_model: str | None = Field(
        default=None,
        description="Model file the classifier uses when no model is active in the database.",
    )
    classifier_check_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How often a process checks whether the active model changed.",
    )
    classifier_training_data: str | None = Field(
        default=None,
        description="Labelled CSV/XLSX `shiyu demo` trains its model from (columns subject, "
        "detail, label_l1); unset: the demo's own simulated events.",
    )
    auto_dispatch_threshold: float = Field(
        default=0.9,
        ge=0,
        le=1.01,
        description="Suggestions at least this confident are dispatched automatically "
        "(above 1: never; nothing is dispatched while no model is active).",
    )
    duplicate_enabled: bool = Field(
        default=True, description="Look for open duplicates of every new event (工单合并)."
    )
    duplicate_similarity: float = Field(
        default=0.5, gt=0, le=1, description="Text similarity (3-gram Jaccard) of a duplicate."
    )
    duplicate_radius_m: float = Field(
        default=500, ge=0, description="Duplicates in another grid must lie this close."
    )
    duplicate_window_hours: float = Field(
        default=72, gt=0, description="Duplicates were reported this close in time."
    )
    duplicate_max_candidates: int = Field(default=5, ge=1, le=50)
    duplicate_job_interval_seconds: int = Field(
        default=60, ge=0, description="Merged 子单 notices and band pruning; 0 disables."
    )
    enrich_interval_seconds: int = Field(
        default=30,
        ge=0,
        description="How often the reports of 12345 imports get their duplicate-search keys "
        "and routing suggestions (suggestions only, no automatic dispatch); 0 disables.",
    )
    reply_quality_threshold: float = Field(
        default=50, ge=0, le=100, description="Replies scoring below this are flagged."
    )
    reply_quality_interval_seconds: int = Field(
        default=300, ge=0, description="How often recent replies are scored; 0 disables."
    )
    # early warning (docs/intelligence.md, "Early warning and hot issues")
    warning_interval_seconds: int = Field(
        default=3600, ge=0, description="How often the surge job runs (0 disables it)."
    )
    warning_baseline_days: int = Field(
        default=28, ge=7, le=366, description="Days before the judged day forming its baseline."
    )
    warning_alpha: float = Field(
        default=0.001,
        gt=0,
        lt=0.5,
        description="Upper-tail probability below which a count is a surge.",
    )
    warning_min_count: int = Field(
        default=5, ge=1, description="A surge needs at least this many events on the day."
    )
    warning_min_ratio: float = Field(
        default=2.0, ge=1, description="... and at least this multiple of the baseline mean."
    )
    warning_baseline_floor: float = Field(
        default=0.2, gt=0, description="Baseline mean used when a unit's history is quieter."
    )
    warning_levels: list[str] = Field(
        default_factory=lambda: ["street", "community", "grid"],
        description="Jurisdiction levels whose daily counts are watched (JSON list).",
    )
    warning_notify_roles: list[str] = Field(
        default_factory=lambda: ["dispatcher", "leader"],
        description="Roles told about a unit's surge (at the unit, else the nearest unit above).",
    )
    repeat_window_days: int = Field(
        default=30, ge=1, le=366, description="重复投诉: appeals this many days apart at most."
    )
    repeat_similarity: float = Field(
        default=0.5, gt=0, le=1, description="重复投诉: character-bigram cosine of the texts."
    )
    repeat_radius_m: float = Field(
        default=100, gt=0, description="重复投诉: same place = same grid or within this distance."
    )
    hot_max_messages: int = Field(
        default=10_000, ge=10, description="Hot issues: newest events of the period clustered."
    )
    hot_cache_seconds: float = Field(
        default=300,
        ge=0,
        description="Hot issues of one scope and period are clustered at most this often per "
        "process (the command centre refreshes far more often; 0: every request).",
    )
    hot_link: float = Field(default=0.4, gt=0, le=1, description="Hot issues: neighbour cosine.")
    hot_attach: float = Field(default=0.3, gt=0, le=1, description="Hot issues: attach cosine.")
    hot_merge: float = Field(default=0.4, gt=0, le=1, description="Hot issues: merge cosine.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose browser pages may call the API "
        "(JSON list); empty: same origin only, no CORS headers at all.",
    )
    https: bool = Field(
        default=False,
        description="Served over HTTPS (by the reverse proxy): send Strict-Transport-Security.",
    )
    metrics_token: str = Field(
        default="",
        description="Bearer token for GET /metrics from other hosts; empty: loopback clients "
        "only (the proxy must not forward /metrics).",
    )
    pg_bin_dir: str = Field(
        default="",
        description="Directory of pg_dump/pg_restore for `shiyu backup`/`restore`; empty: "
        "PATH, then /usr/lib/postgresql/15/bin.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = Field(default=10, ge=1)
    sqlite_write_cache_mb: int = Field(
        default=64,
        ge=1,
        description="SQLite: page cache of each writing connection, in MB (taken as pages are "
        "read, up to this). Intake writes index entries at random keys (duplicate bands, the "
        "search index); with SQLite's own 2 MB most of them read their page again first.",
    )
    gc_freeze_again_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Each server process freezes the objects alive this many seconds after it "
        "started out of the garbage collector's reach, as it froze those of its start-up: "
        "caches and compiled statements the first traffic built (0: only at start-up).",
    )
    gc_young_threshold: int = Field(
        default=20_000,
        ge=0,
        description="Container objects allocated (net of those freed) between two young "
        "collections of each server process's garbage collector (0: Python's own, 700). At "
        "700 a process under load collected 150 times a second and carried every request in "
        "flight into the older generations, whose collections then paused it 15 ms each.",
    )
    max_concurrent_writes: int = Field(
        default=8,
        ge=0,
        description="Writing requests one process runs at once; the rest queue (0: no limit). "
        "Keep it below the connection pool (SHIYU_DB_POOL_SIZE) and the 40 worker threads.",
    )
    auth_cache_seconds: float = Field(
        default=3.0,
        ge=0,
        le=60,
        description="A token check reuses what it read about the user for this long (0: "
        "never). Sign-outs, role and password changes made through the same process apply at "
        "once; made through another process, within this delay.",
    )
    intake_batch_max: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Reports (staff API, residents) one process stores in one transaction at "
        "most: under load they queue for one writer and commit together (group commit).",
    )
    intake_writer: Literal["auto", "thread", "process"] = Field(
        default="auto",
        description="Where a web process stores reports: `process`, a writer process of its "
        "own (receiving requests and storing reports then use a core each); `thread`, a thread "
        "of the web process. `auto`: `shiyu serve` with one web process uses `process`, with "
        "several `thread` (each web process has a core already: on 2 cores, writer processes "
        "next to 2 web processes and PostgreSQL made residents' p99 twice as long).",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError("SHIYU_SECRET_KEY must be set outside development")
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("SHIYU_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
