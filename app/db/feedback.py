"""Feedback on accessibility (§ 12b BGG): stored here, answered by staff within one month."""

from __future__ import annotations

import secrets

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import feedback


async def add(
    engine: AsyncEngine,
    *,
    page: str | None,
    message: str,
    email: str | None,
    wants_answer: bool,
    lang: str,
) -> str:
    """Store one report of a barrier; return its random id."""
    feedback_id = secrets.token_urlsafe(16)
    async with engine.begin() as conn:
        await conn.execute(
            insert(feedback).values(
                id=feedback_id,
                page=page or None,
                message=message,
                email=email or None,
                wants_answer=wants_answer,
                lang=lang,
                created_at=utcnow(),
            )
        )
    return feedback_id
