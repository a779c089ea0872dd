"""Drafts: one JSON document per started form, versioned for optimistic locking."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import drafts


@dataclass
class Draft:
    id: str
    flow_id: str
    owner_key: str
    answers: dict[str, Any]
    version: int
    status: str
    created_at: datetime
    updated_at: datetime


class VersionConflict(Exception):
    """The draft changed since the client loaded it (another tab or device)."""


def _row(row: Any) -> Draft:
    return Draft(
        row.id,
        row.flow_id,
        row.owner_key,
        dict(row.answers),
        row.version,
        row.status,
        row.created_at,
        row.updated_at,
    )


async def create(
    engine: AsyncEngine, flow_id: str, owner_key: str, answers: dict[str, Any], retention_days: int
) -> Draft:
    now = utcnow()
    draft_id = secrets.token_urlsafe(16)
    async with engine.begin() as conn:
        await conn.execute(
            insert(drafts).values(
                id=draft_id,
                flow_id=flow_id,
                owner_key=owner_key,
                answers=answers,
                version=1,
                status="open",
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(days=retention_days),
            )
        )
    return Draft(draft_id, flow_id, owner_key, answers, 1, "open", now, now)


async def get(engine: AsyncEngine, draft_id: str, owner_key: str | None) -> Draft | None:
    """A draft of this owner, or None: another person's draft is indistinguishable from none."""
    if not owner_key:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(drafts).where(
                    drafts.c.id == draft_id,
                    drafts.c.owner_key == owner_key,
                    drafts.c.expires_at > utcnow(),
                )
            )
        ).first()
    return _row(row) if row else None


async def save(engine: AsyncEngine, draft: Draft, retention_days: int) -> Draft:
    """Write the answers if nobody else did in between; the version grows by one."""
    now = utcnow()
    async with engine.begin() as conn:
        result = await conn.execute(
            update(drafts)
            .where(
                drafts.c.id == draft.id,
                drafts.c.version == draft.version,
                drafts.c.status == "open",
            )
            .values(
                answers=draft.answers,
                version=draft.version + 1,
                updated_at=now,
                expires_at=now + timedelta(days=retention_days),
            )
        )
    if result.rowcount != 1:
        raise VersionConflict(draft.id)
    draft.version += 1
    draft.updated_at = now
    return draft


async def mark_submitted(engine: AsyncEngine, draft_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(drafts)
            .where(drafts.c.id == draft_id)
            .values(status="submitted", answers={}, updated_at=utcnow())
        )


async def remove(engine: AsyncEngine, draft_id: str, owner_key: str) -> bool:
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(drafts).where(
                drafts.c.id == draft_id, drafts.c.owner_key == owner_key, drafts.c.status == "open"
            )
        )
    return result.rowcount == 1


async def list_open(engine: AsyncEngine, owner_key: str | None) -> list[Draft]:
    if not owner_key:
        return []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(drafts)
                .where(
                    drafts.c.owner_key == owner_key,
                    drafts.c.status == "open",
                    drafts.c.expires_at > utcnow(),
                )
                .order_by(drafts.c.updated_at.desc())
            )
        ).all()
    return [_row(r) for r in rows]


async def purge_expired(engine: AsyncEngine) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(delete(drafts).where(drafts.c.expires_at <= utcnow()))
    return result.rowcount or 0
