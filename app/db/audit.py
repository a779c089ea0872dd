"""The audit log: append-only (logins, level changes, submissions, staff reads)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import audit_log


async def record(
    engine: AsyncEngine, actor: str, action: str, object_id: str | None = None, **details: Any
) -> None:
    """Append one entry. There is no update or delete function, on purpose."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(audit_log).values(
                at=utcnow(), actor=actor, action=action, object_id=object_id, details=details
            )
        )


async def entries(engine: AsyncEngine, actor: str | None = None) -> list[Any]:
    query = select(audit_log).order_by(audit_log.c.id)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    async with engine.connect() as conn:
        return list((await conn.execute(query)).all())
