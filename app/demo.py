"""Demo data for ``--demo`` / ``make run``. Never runs in production (checked by the CLI)."""

from __future__ import annotations

from quart import Quart


async def seed(app: Quart) -> None:
    """Nothing to seed yet beyond the schema: accounts and decisions come with identity."""
    if app.config["SETTINGS"].production:
        raise RuntimeError("demo data is never created in production")
