"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text


def fresh_pg_url(name: str) -> str | None:
    """A PostgreSQL database ``<name>_<xdist worker>``, dropped and created afresh; None without TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    db = f"{name}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + "/" + db


@pytest.fixture(scope="session")
def pg_database() -> Callable[[str], str]:
    """Factory: ``pg_database("tenglong_x")`` → a fresh PostgreSQL URL, or skip the test without TEST_DATABASE_URL."""

    def make(name: str) -> str:
        url = fresh_pg_url(name)
        if url is None:
            pytest.skip("TEST_DATABASE_URL is not set (./test starts a throwaway PostgreSQL)")
        return url

    return make
