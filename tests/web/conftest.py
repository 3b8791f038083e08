"""Fixtures for the platform: a bootstrapped demo database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), and TestClients signed in as each role."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tenglong.services.bootstrap import ensure_database
from tenglong.services.kernel.platform import Platform
from tenglong.settings import DEMO_PASSWORD, Settings
from tenglong.web.app import create_app

ROLES = ("admin", "department", "town", "enterprise", "auditor")


def make_platform(url: str, **overrides) -> Platform:
    """A platform on ``url`` with the demo county loaded (uploads and attachments in temporary folders)."""
    overrides.setdefault("upload_dir", tempfile.mkdtemp(prefix="tenglong-uploads-"))
    overrides.setdefault("attachment_dir", tempfile.mkdtemp(prefix="tenglong-files-"))  # the demo registers' evidence
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
def pg_platform(pg_database) -> Platform:
    """The demo platform on PostgreSQL (skipped without TEST_DATABASE_URL)."""
    return make_platform(pg_database("tenglong"))


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
