"""Fixtures for the platform: a bootstrapped demo database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), and TestClients signed in as each role."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tenglong.services.bootstrap import ensure_database
from tenglong.services.platform import Platform
from tenglong.settings import DEMO_PASSWORD, Settings
from tenglong.web.app import create_app

ROLES = ("admin", "department", "town", "enterprise", "auditor")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_url() -> str | None:
    """A fresh PostgreSQL database for this xdist worker, or None without TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    name = f"tenglong_{_worker()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def make_platform(url: str, **overrides) -> Platform:
    """A platform on ``url`` with the demo county loaded (uploads in a temporary folder)."""
    overrides.setdefault("upload_dir", tempfile.mkdtemp(prefix="tenglong-uploads-"))
    settings = Settings(database_url=url, demo=True, login_max_failures=5, **overrides)
    p = Platform.from_settings(settings)
    ensure_database(p, say=lambda m: None)
    return p


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> Platform:
    """The demo platform on a temporary SQLite file (one per xdist worker)."""
    path = tmp_path_factory.mktemp("db") / "tenglong.db"
    return make_platform(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def pg_platform() -> Platform:
    """The demo platform on PostgreSQL (skipped without TEST_DATABASE_URL)."""
    url = _pg_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set (./test starts a throwaway PostgreSQL)")
    return make_platform(url)


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_platform(request) -> Platform:
    """The demo platform on each database backend."""
    return request.getfixturevalue("platform" if request.param == "sqlite" else "pg_platform")


def client_for(p: Platform, role: str | None) -> TestClient:
    """A TestClient signed in as the demo account of ``role`` (None: anonymous), sending the CSRF header."""
    c = TestClient(create_app(p))
    if role is not None:
        r = c.post("/api/v1/session", json={"username": role, "password": DEMO_PASSWORD})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture
def client_as(platform) -> Iterator[Callable[[str | None], TestClient]]:
    """Factory: ``client_as("town")`` → a TestClient signed in as the town official (SQLite)."""
    clients: list[TestClient] = []

    def make(role: str | None) -> TestClient:
        c = client_for(platform, role)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
