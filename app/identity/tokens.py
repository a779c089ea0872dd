"""One-time tokens sent by e-mail (confirm the address, set a new password).

The token is random (256 bits) and only its SHA-256 is stored, so a copy of the database
cannot be used to confirm or take over an account. A token counts once: it is used up by
an ``UPDATE … WHERE used_at IS NULL AND expires_at > now`` that must change exactly one row.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from app.db import utcnow
from app.db.tables import email_tokens

CONFIRM = "confirm"
RESET = "reset"
LIFETIME = {CONFIRM: timedelta(hours=24), RESET: timedelta(hours=1)}
MAX_LENGTH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(engine: Any, account_id: str, purpose: str) -> str:
    """A new token for ``purpose``; the caller puts it into a link in a mail."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            insert(email_tokens).values(
                token_hash=_hash(token),
                account_id=account_id,
                purpose=purpose,
                created_at=now,
                expires_at=now + LIFETIME[purpose],
                used_at=None,
            )
        )
    return token


def _valid(token: str, purpose: str) -> Any:
    return (
        email_tokens.c.token_hash == _hash(token),
        email_tokens.c.purpose == purpose,
        email_tokens.c.used_at.is_(None),
        email_tokens.c.expires_at > utcnow(),
    )


async def peek(engine: Any, token: str, purpose: str) -> str | None:
    """The account id of a valid token, without using it up (GET shows a button only)."""
    if not token or len(token) > MAX_LENGTH:
        return None
    async with engine.connect() as conn:
        return (
            await conn.execute(select(email_tokens.c.account_id).where(*_valid(token, purpose)))
        ).scalar_one_or_none()


async def consume(engine: Any, token: str, purpose: str) -> str | None:
    """Use the token up; its account id, or None if it was unknown, used or expired."""
    if not token or len(token) > MAX_LENGTH:
        return None
    async with engine.begin() as conn:
        account_id = (
            await conn.execute(select(email_tokens.c.account_id).where(*_valid(token, purpose)))
        ).scalar_one_or_none()
        if account_id is None:
            return None
        result = await conn.execute(
            update(email_tokens).where(*_valid(token, purpose)).values(used_at=utcnow())
        )
        if result.rowcount != 1:  # another request used it in between
            return None
    return account_id


async def revoke(engine: Any, account_id: str, purpose: str) -> None:
    """Use up every open token of an account (after a new password: old links are dead)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(email_tokens)
            .where(
                email_tokens.c.account_id == account_id,
                email_tokens.c.purpose == purpose,
                email_tokens.c.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
