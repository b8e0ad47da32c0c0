"""Every setting of kotaku in one object, read from the environment (prefix KOTAKU_) once at start-up.

The app (api/app.py, api/server.py) and the command line (api/cli/) build one `Settings()` when they start
and pass it, or the values in it, down as arguments: no other module reads the environment. Each field is
listed in the README's "Settings" table with its default (a test keeps the two in step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """The checkout when running from one (editable install), else the current folder."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOTAKU_", extra="ignore", populate_by_name=True, frozen=True)

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("KOTAKU_DATABASE_URL", "DATABASE_URL"),
        description="PostgreSQL server to use (also read from DATABASE_URL); unset: the private cluster under var/")
    var: Path | None = Field(
        default=None, description="Folder of the private cluster and attachments (default <checkout>/var)")
    pg_bin: Path | None = Field(
        default=None, description="Folder of the PostgreSQL server binaries (initdb, pg_ctl)")
    app_role: str = Field(
        default="kotaku_app", min_length=1, description="Database role the app's connections work as")
    app_database_url: str | None = Field(
        default=None, description="The app's own login (user = app_role); unset: derived from the owner's, or "
                                  "the owner switching role (with a warning)")
    pool_timeout_s: float = Field(
        default=30, gt=0, description="Seconds a request waits for a pooled database connection (then 503)")
    tile_cache_mb: float = Field(
        default=256, ge=0, description="In-process cache of rendered tiles, per process (0 = off)")
    photo_max_distance_m: float = Field(
        default=200, gt=0, description="A photo taken farther from its activity is flagged")
    attachments: Path | None = Field(
        default=None, description="Where photos and videos are stored (default <var>/attachments)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(default="INFO")
    log_format: Literal["text", "json"] = Field(
        default="text", description="text (human-readable lines) or json (JSON lines)")
    serve_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        default="auto", description="Event loop of kotaku serve (auto: uvloop when installed)")
    lang: Literal["en", "id"] = Field(
        default="en", description="Language of the command line's messages and import reports (en or id); "
                                  "HTTP answers follow Accept-Language, pages are Indonesian")
    body_max_mb: float = Field(
        default=1, gt=0, description="Largest request body of a write (JSON), in MB; larger is 413 unread")
    upload_max_mb: float = Field(
        default=50, gt=0, description="Largest photo/video upload request, in MB (413 unread beyond)")
    login_body_max_kb: float = Field(
        default=16, gt=0, description="Largest login request body, in KB")
    header_timeout_s: float = Field(
        default=10, gt=0, description="Seconds a client has to send a request's headers (then cut)")
    body_timeout_s: float = Field(
        default=30, gt=0, description="Seconds a request body may stall between chunks (then 408)")
    keep_alive_s: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open")
    export_concurrency: int = Field(
        default=2, ge=1, description="Exports written at once per server process")
    export_wait_s: float = Field(
        default=5, ge=0, description="Seconds an export waits for a free slot before 503 + Retry-After")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins of one account within the window before 429")
    login_max_failures_address: int = Field(
        default=20, ge=1, description="Failed logins from one address within the window before 429")
    login_window_s: float = Field(
        default=900, gt=0, description="Window of the login limits, in seconds")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1", description="Proxies (Varnish, a TLS terminator) whose X-Forwarded-For names the "
                                         "client: comma-separated addresses or networks, * for any. The login "
                                         "limit per address counts that client, not the proxy")
    prepare_threshold: int | None = Field(
        default=5, ge=0, description="psycopg's prepare_threshold of the app's connections: a query is prepared "
                                     "server-side after this many runs; none turns prepared statements off "
                                     "(PgBouncer in transaction mode)")
    storage: Literal["local", "s3"] = Field(
        default="local", description="Where attachments are kept: local (the attachments folder) or s3")
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (http://host:port); unset: the AWS default")
    s3_bucket: str = Field(default="kotaku", min_length=1, description="Bucket of the attachments (storage=s3)")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key (storage=s3)")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key (storage=s3)")
    s3_region: str = Field(default="us-east-1", min_length=1, description="S3 region name (storage=s3)")
    cache_purge_urls: str | None = Field(
        default=None, description="Comma-separated base URLs of the shared HTTP caches (Varnish) to send BAN to "
                                  "when a write changes a layer; unset: no bans")
    database_read_url: str | None = Field(
        default=None, description="Comma-separated URLs of streaming replicas for read-only requests; unset: "
                                  "all reads go to the primary")
    dask_scheduler: str | None = Field(
        default=None, description="Dask scheduler address of `kotaku batch` (tcp://host:8786); unset: a local "
                                  "cluster on this machine")
    replica_max_lag_s: float = Field(
        default=5, ge=0, description="A replica further behind the primary than this (seconds of replay) is "
                                     "skipped")
    online_basemaps: str | None = Field(
        default=None, description="Online basemaps offered in the MapLibre styles (off unless set): "
                                  "`id=URL template[|attribution]` separated by `;`, e.g. "
                                  "`osm=https://tile.openstreetmap.org/{z}/{x}/{y}.png|(c) OpenStreetMap contributors`")

    @field_validator("online_basemaps", mode="before")
    @classmethod
    def _online_basemaps(cls, value):
        if not isinstance(value, str) or not value.strip():
            return None
        for entry in filter(None, (e.strip() for e in value.split(";"))):
            key, _, rest = entry.partition("=")
            url = rest.split("|", 1)[0].strip()
            if not key.strip() or not url.startswith(("http://", "https://")) or not all(
                    part in url for part in ("{z}", "{x}", "{y}")):
                raise ValueError(f"KOTAKU_ONLINE_BASEMAPS entry '{entry}': write id=https://host/{{z}}/{{x}}/{{y}}.png")
        return value.strip()

    @field_validator("database_url", "app_database_url", "var", "pg_bin", "attachments", mode="before")
    @classmethod
    def _empty_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("prepare_threshold", mode="before")
    @classmethod
    def _none_disables(cls, value):
        return None if isinstance(value, str) and value.strip().lower() in ("none", "off") else value

    @field_validator("s3_endpoint_url", "s3_access_key_id", "s3_secret_access_key", "cache_purge_urls",
                     "database_read_url", "dask_scheduler", mode="before")
    @classmethod
    def _empty_s3_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _case(cls, value):
        if not isinstance(value, str):
            return value
        return value.strip().upper() if value.strip().upper() in ("DEBUG", "INFO", "WARNING", "ERROR",
                                                                  "CRITICAL") else value.strip().lower()

    @property
    def var_dir(self) -> Path:
        return Path(self.var) if self.var else project_root() / "var"

    @property
    def attachments_dir(self) -> Path:
        return Path(self.attachments) if self.attachments else self.var_dir / "attachments"

    @property
    def tile_cache_bytes(self) -> int:
        return int(self.tile_cache_mb * 1024 * 1024)
