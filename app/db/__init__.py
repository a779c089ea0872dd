"""Database engine and migrations (SQLAlchemy Core, async)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, event, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .tables import metadata, schema_version


#: Each migration is a function of a sync connection. Append; never edit a released one.
def _identity(conn: Connection) -> None:
    """Identity tables (issue 4), and the new columns on tables of version 1."""
    metadata.create_all(conn)  # creates only the tables that are missing
    columns = {
        "sessions": [("account_id", "VARCHAR(32)")],
        "accounts": [("totp_last_step", "BIGINT")],
        "submissions": [("proofs", "JSON")],
        "eid_proofs": [("confirmed_at", "TIMESTAMP WITH TIME ZONE")],
    }
    for table, wanted in columns.items():
        have = {c["name"] for c in inspect(conn).get_columns(table)}
        for name, sql_type in wanted:
            if name not in have:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))


MIGRATIONS = [lambda conn: metadata.create_all(conn), _identity]


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
