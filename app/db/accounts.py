"""Accounts: citizens who log in. Passwords are argon2id hashes (app.identity.passwords)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import accounts


@dataclass
class Account:
    id: str
    email: str
    password_hash: str | None
    email_confirmed_at: datetime | None
    level: str
    owner_key: str
    kundennummer: str | None
    eid_pseudonym: str | None
    totp_secret: str | None
    profile: dict[str, Any]
    demo: bool
    created_at: datetime
    totp_last_step: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.email_confirmed_at is not None


def _row(row: Any) -> Account:
    return Account(**{c.name: getattr(row, c.name) for c in accounts.c})


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create(
    engine: AsyncEngine,
    email: str,
    password_hash: str | None,
    *,
    profile: dict[str, Any] | None = None,
    confirmed: bool = False,
    demo: bool = False,
) -> Account:
    """Create an account; raises IntegrityError when the e-mail address is taken."""
    now = utcnow()
    values = {
        "id": secrets.token_urlsafe(16),
        "email": normalise_email(email),
        "password_hash": password_hash,
        "email_confirmed_at": now if confirmed else None,
        "level": "basis",
        "owner_key": "acct-" + secrets.token_urlsafe(24),
        "kundennummer": None,
        "eid_pseudonym": None,
        "totp_secret": None,
        "profile": profile or {},
        "demo": demo,
        "created_at": now,
    }
    async with engine.begin() as conn:
        await conn.execute(insert(accounts).values(**values))
    return Account(**values)


async def get(engine: AsyncEngine, account_id: str | None) -> Account | None:
    if not account_id:
        return None
    async with engine.connect() as conn:
        row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    return _row(row) if row else None


async def by_email(engine: AsyncEngine, email: str) -> Account | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(accounts).where(accounts.c.email == normalise_email(email)))
        ).first()
    return _row(row) if row else None


async def set_fields(engine: AsyncEngine, account_id: str, **values: Any) -> None:
    """Change columns of one account (password_hash, level, kundennummer, profile …)."""
    async with engine.begin() as conn:
        await conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))
