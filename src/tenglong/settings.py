"""Typed settings, read from ``TENGLONG_*`` environment variables (and a ``.env`` file).

Production refuses to start with the shipped demo secret, naming the variable.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
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
    behind_tls: bool = Field(False, description="Set behind HTTPS: Secure session cookies, and HSTS on every response.")
    session_hours: int = Field(12, description="Lifetime of a login session, in hours.")
    login_max_failures: int = Field(
        5,
        description="Failed logins allowed per account (from any address) within the window before its logins are "
        "refused.",
    )
    login_max_failures_per_address: int = Field(
        20,
        ge=1,
        description="Failed logins allowed per client address (for any user names) within the window before its "
        "logins are refused.",
    )
    login_window_minutes: int = Field(15, description="Window of the login throttle, in minutes.")
    trusted_proxies: str = Field(
        "",
        description="Comma-separated IP addresses or CIDR networks of the reverse proxies whose X-Forwarded-For "
        "header names the client; empty (the default): no proxy is trusted and the peer address is the client.",
    )
    upload_dir: str = Field("var/uploads", description="Where uploaded data files wait for their commit.")
    max_upload_mb: int = Field(50, description="Largest accepted upload, in MB.")
    attachment_dir: str = Field(
        "var/attachments",
        description="Where attachments (evidence files of applications and registers) are kept, outside the web root, "
        "each under a generated name.",
    )
    max_attachment_mb: int = Field(20, ge=1, description="Largest attachment, in MB.")
    # Request bodies are counted while they arrive (web/limits.py); past its route's limit a body is refused with 413.
    max_batch_mb: int = Field(20, description="Largest body of the calculator's batch upload, in MB.")
    max_calculate_mb: int = Field(
        20, description="Largest body of POST /api/v1/calculate, in MB (30,000 projects with every input are 17 MB)."
    )
    max_request_mb: int = Field(1, description="Largest body of any other request, in MB.")
    max_calculate_entities: int = Field(
        200_000, description="Most entities (all kinds together) in one request to POST /api/v1/calculate."
    )
    # Bounds of a user's spreadsheet, checked before anything parses it (adapters/tabular/guard.py), and of the
    # child process that parses it (adapters/tabular/sandbox.py). A real county file (≤ 100,000 rows × ~20
    # columns: 12 MiB, its sheet 69 MiB unpacked, read in ~200 MB) fits each several times over.
    sheet_max_file_mb: int = Field(64, ge=1, description="Largest .xlsx/.xlsm/.xls file read, in MB.")
    sheet_max_members: int = Field(
        1000, ge=1, description="Most internal parts (zip entries) of an .xlsx; Excel writes a few dozen."
    )
    sheet_max_member_mb: int = Field(512, ge=1, description="Largest internal part of an .xlsx once unpacked, in MB.")
    sheet_max_total_mb: int = Field(1024, ge=1, description="Most bytes an .xlsx unpacks to in all, in MB.")
    sheet_max_ratio: int = Field(
        100, ge=1, description="Highest compression ratio of an .xlsx part above 1 MB (real sheets: 4–15)."
    )
    sheet_max_rows: int = Field(500_000, ge=1, description="Most rows of a sheet (first to last row holding a value).")
    sheet_max_columns: int = Field(1000, ge=1, description="Most columns of a sheet (first to last holding a value).")
    sheet_max_cells: int = Field(
        10_000_000, ge=1, description="Most cells (rows × columns of the sheet's extent) of a sheet or CSV."
    )
    sheet_csv_max_mb: int = Field(64, ge=1, description="Largest CSV file read, in MB.")
    sheet_csv_max_rows: int = Field(500_000, ge=1, description="Most lines of a CSV file.")
    sheet_csv_max_columns: int = Field(1000, ge=1, description="Most fields on a line of a CSV file.")
    sheet_child_memory_mb: int = Field(
        2048, ge=64, description="Address space of the child process that parses a spreadsheet, in MB."
    )
    sheet_child_seconds: int = Field(
        60, ge=1, description="CPU and wall-clock seconds the child process that parses a spreadsheet may take."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        """Each entry an IP address or network (``10.0.0.1``, ``10.0.0.0/8``, ``::1``), normalised; else refused."""
        networks = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(
                    f"TENGLONG_TRUSTED_PROXIES: {item!r} is not an IP address or network; "
                    "expected e.g. 127.0.0.1,10.0.0.0/8"
                ) from None
        return ",".join(networks)

    @property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks of :attr:`trusted_proxies` (empty: trust no proxy)."""
        return tuple(ipaddress.ip_network(n) for n in self.trusted_proxies.split(",") if n)

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
