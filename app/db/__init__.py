"""Database engine and migrations (SQLAlchemy Core, async)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .tables import metadata, schema_version

#: Each migration is a function of a sync connection. Append; never edit a released one.
MIGRATIONS = [lambda conn: metadata.create_all(conn)]


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str) -> AsyncEngine:
    """Create the engine; on SQLite switch on WAL, foreign keys and a busy timeout."""
    # a local SQLite file cannot drop a connection: pre-ping would only cost a round trip
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


async def migrate(engine: AsyncEngine) -> int:
    """Apply pending migrations; return the schema version now in force."""
    async with engine.begin() as conn:
        has_table = await conn.run_sync(lambda c: inspect(c).has_table("schema_version"))
        current = 0
        if has_table:
            current = (
                await conn.execute(
                    select(schema_version.c.version)
                    .order_by(schema_version.c.version.desc())
                    .limit(1)
                )
            ).scalar() or 0
        for number, step in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            await conn.run_sync(step)
            await conn.execute(insert(schema_version).values(version=number, applied_at=utcnow()))
            current = number
    return current


async def ping(conn: AsyncConnection) -> bool:
    return (await conn.execute(select(1))).scalar() == 1
