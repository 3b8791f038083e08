"""The running platform: settings, the database engine and the unit of work, built once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from ...adapters.db.engine import make_engine
from ...settings import Settings
from .uow import UnitOfWork


@dataclass
class Platform:
    """What every service call needs."""

    settings: Settings
    engine: Engine
    uow: UnitOfWork

    @classmethod
    def from_settings(cls, settings: Settings) -> Platform:
        """Connect to the configured database."""
        engine = make_engine(settings.database_url)
        return cls(settings, engine, UnitOfWork(engine))
