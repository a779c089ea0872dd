"""Metadata of uploaded evidence; the bytes sit in the DocumentStore under the data dir."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import documents


async def add(
    engine: AsyncEngine,
    *,
    owner_key: str,
    draft_id: str,
    storage_key: str,
    display_name: str,
    media_type: str,
    size: int,
    sha256: str,
) -> str:
    document_id = secrets.token_urlsafe(16)
    async with engine.begin() as conn:
        await conn.execute(
            insert(documents).values(
                id=document_id,
                owner_key=owner_key,
                draft_id=draft_id,
                storage_key=storage_key,
                display_name=display_name,
                media_type=media_type,
                size=size,
                sha256=sha256,
                created_at=utcnow(),
            )
        )
    return document_id


async def get(engine: AsyncEngine, document_id: str, owner_key: str | None) -> Any:
    if not owner_key:
        return None
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(documents).where(
                    documents.c.id == document_id, documents.c.owner_key == owner_key
                )
            )
        ).first()
