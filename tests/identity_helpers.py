"""Accounts and logged-in sessions for tests of areas behind a login.

``sign_in`` writes a server-side session row directly and gives the test client its
cookie, so tests of the Widerspruch, passkeys or eID need not walk the login form (the
login itself is tested in test_accounts*.py).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from quart import Quart
from sqlalchemy import insert

from app.db import accounts as account_repo
from app.db import utcnow
from app.db.tables import sessions
from app.identity.passwords import hash_password

PASSWORD = "Richtig-Langes-Passwort-2026"
#: the account holders of the demo data and the test IdP's persons (docs/identity.md)
ERIKA = {
    "vorname": "Erika",
    "nachname": "Mustermann",
    "geburtsdatum": "1964-08-12",
    "strasse": "Heidestraße 17",
    "plz": "51147",
    "ort": "Köln",
}
LEON = {
    "vorname": "Leon",
    "nachname": "Beispiel",
    "geburtsdatum": "1990-01-31",
    "strasse": "Müllerstraße 5",
    "plz": "13353",
    "ort": "Berlin",
}


async def make_account(
    app: Quart,
    email: str = "erika@example.org",
    *,
    password: str = PASSWORD,
    level: str = "basis",
    kundennummer: str | None = None,
    profile: dict[str, Any] | None = None,
) -> account_repo.Account:
    db = app.config["DB"]
    account = await account_repo.create(
        db, email, await hash_password(password), profile=profile, confirmed=True
    )
    changes: dict[str, Any] = {}
    if level != "basis":
        changes["level"] = level
    if kundennummer:
        changes["kundennummer"] = kundennummer
    if changes:
        await account_repo.set_fields(db, account.id, **changes)
    return await account_repo.get(db, account.id)  # type: ignore[return-value]


async def sign_in(
    visitor: Any, account: account_repo.Account, *, level: str | None = None, **extra: Any
) -> str:
    """Give ``visitor`` (tests/conftest.py Browser) a logged-in session; returns the token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    settings = visitor.app.config["SETTINGS"]
    data = {
        "account_id": account.id,
        "level": level or account.level,
        "owner_key": account.owner_key,
        "csrf": secrets.token_urlsafe(32),
        "auth_method": "test",
        "auth_at": now.isoformat(),
        **extra,
    }
    async with visitor.app.config["DB"].begin() as conn:
        await conn.execute(
            insert(sessions).values(
                id_hash=hashlib.sha256(token.encode()).hexdigest(),
                data=data,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=settings.session_absolute_hours),
                account_id=account.id,
            )
        )
    name = "__Host-jcd" if settings.secure_cookies else "jcd_session"
    visitor.client.set_cookie("localhost", name, token)
    return token
