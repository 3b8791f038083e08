"""Typed settings, read from ``TENGLONG_*`` environment variables (and a ``.env`` file).

Production refuses to start with the shipped demo secret, naming the variable.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET = "tenglong-demo-secret-do-not-use-in-production"  # noqa: S105 - published demo key, refused in production
DEMO_PASSWORD = "demo-tenglong-2023"  # noqa: S105 - published demo-account password; demo accounts refused in production


class Settings(BaseSettings):
    """Every setting of the platform (each documented in README and checked by tests/test_docs.py)."""

    model_config = SettingsConfigDict(env_prefix="TENGLONG_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///var/tenglong.db",
        description="SQLAlchemy URL; SQLite file by default, e.g. postgresql+psycopg://user@host/db in production.",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEMO_SECRET),
        description="Key that signs session cookies; must be set (≥ 32 characters) in production.",
    )
    environment: Literal["development", "production"] = Field(
        "development", description="production refuses demo secrets and demo accounts."
    )
    host: str = Field("127.0.0.1", description="Address `tenglong serve` binds to.")
    port: int = Field(8000, description="Port `tenglong serve` listens on.")
    demo: bool = Field(
        True, description="Create the demo county, its evaluations and the demo accounts when the database is empty."
    )
    demo_seed: int = Field(2023, description="Seed of the demo county.")
    demo_years: str = Field("2021-2023", description="Data years of the demo county.")
    behind_tls: bool = Field(False, description="Mark session cookies Secure (set when served over HTTPS).")
    session_hours: int = Field(12, description="Lifetime of a login session, in hours.")
    login_max_failures: int = Field(
        5, description="Failed logins allowed per account and address within the window before logins are refused."
    )
    login_window_minutes: int = Field(15, description="Window of the login throttle, in minutes.")
    upload_dir: str = Field("var/uploads", description="Where uploaded data files wait for their commit.")
    max_upload_mb: int = Field(50, description="Largest accepted upload, in MB.")

    @model_validator(mode="after")
    def _refuse_demo_secrets(self) -> Settings:
        if self.environment == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEMO_SECRET or len(secret) < 32:
                raise ValueError(
                    "TENGLONG_SECRET_KEY must be set to a random value of at least 32 characters in production "
                    "(the demo secret is refused)."
                )
            if self.demo:
                raise ValueError(
                    "TENGLONG_DEMO must be false in production (the demo accounts have published passwords)."
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (read once)."""
    return Settings()
