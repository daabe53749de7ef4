"""All configuration, read once from MINQING_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Minqing's settings; every field can be set as MINQING_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="MINQING_", extra="ignore")

    database_url: str = "sqlite:///var/minqing.db"
    master_key: str | None = None
    master_key_file: Path = Path("var/master.key")
    admin_token_file: Path = Path("var/admin-token")
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = 8000
    # Unauthenticated tracking endpoints: requests per client per minute.
    track_rate_limit: int = 60

    @property
    def embedded(self) -> bool:
        """True on the embedded SQLite store (nothing to install)."""
        return self.database_url.startswith("sqlite")
