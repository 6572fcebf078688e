"""Settings from the environment (prefix ``REGIOMATCH_``), with documented defaults."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from geo.paths import SHIPPED_DATA

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting can be given as an environment variable, e.g. ``REGIOMATCH_API_TOKEN``."""

    model_config = SettingsConfigDict(env_prefix="REGIOMATCH_", extra="ignore")

    data_dir: Path = Field(SHIPPED_DATA, description="The shipped data (read-only).")
    state_dir: Path = Field(REPO_ROOT / "var", description="Where the SQLite database with saved "
                            "scenarios and imported layers lives.")
    database_url: str | None = Field(
        None, validation_alias=AliasChoices("REGIOMATCH_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; default sqlite:///<state_dir>/regiomatch.sqlite3. "
                    "PostgreSQL: postgresql+psycopg://user@host/db")
    api_token: str | None = Field(None, description="When set, writes need 'Authorization: Bearer <token>'.")
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="Largest accepted upload or request body.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed CORS origins; empty = CORS off.")
    population_year: int = Field(2020, description="Statbel population year (2018, 2019 or 2020).")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.state_dir / 'regiomatch.sqlite3').resolve()}"


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str) -> None:
    """Refuse to serve writes to a network without a token."""
    if not is_loopback(host) and not settings.api_token:
        raise SystemExit(f"refusing to listen on {host}: set REGIOMATCH_API_TOKEN before serving beyond "
                         "this machine (writes would be open to anyone)")


@lru_cache
def get_settings() -> Settings:
    return Settings()
