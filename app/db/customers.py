"""Customers of the Jobcenter (Kundennummer), their decisions (Bescheide) and PIN letters.

Every read of a decision takes the Kundennummer of the asking account, so a decision of
another customer is indistinguishable from one that does not exist (SECURITY.md, test 10).
PIN letters keep only an argon2 hash of the code; attempts are counted in the database
with a conditional UPDATE, so parallel guesses cannot get past the limit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from . import utcnow
from .tables import accounts, customers, decisions, pin_letters

#: wrong codes a letter survives; then it is blocked and a new letter is needed
MAX_ATTEMPTS = 5


@dataclass
class Customer:
    kundennummer: str
    bg_nummer: str | None
    office: str
    land: str
    person: dict[str, Any]
    household: list[dict[str, Any]]
    demo: bool

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.person.get("vorname"), self.person.get("nachname")) if p)


@dataclass
class Decision:
    id: str
    kundennummer: str
    title: str
    leistungsart: str
    decided_on: str
    posted_on: str
    reference: str
    appeal_notice_ok: bool
    created_at: datetime


@dataclass
class PinLetter:
    id: str
    kundennummer: str
    code_hash: str
    attempts: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None

    def expired(self, now: datetime) -> bool:
        return _aware(self.expires_at) <= now

    @property
    def blocked(self) -> bool:
        return self.attempts >= MAX_ATTEMPTS


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def new_id() -> str:
    """Random ids in URLs: never sequential, never guessable."""
    return secrets.token_urlsafe(16)


# -- customers --------------------------------------------------------------------------------


async def get(engine: AsyncEngine, kundennummer: str | None) -> Customer | None:
    if not kundennummer:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(customers).where(customers.c.kundennummer == kundennummer))
        ).first()
    if row is None:
        return None
    return Customer(
        row.kundennummer,
        row.bg_nummer,
        row.office,
        row.land,
        dict(row.person),
        list(row.household),
        bool(row.demo),
    )


async def put(engine: AsyncEngine, customer: Customer) -> None:
    """Insert the customer, or update it when the Kundennummer exists (idempotent seeding)."""
    values = {
        "bg_nummer": customer.bg_nummer,
        "office": customer.office,
        "land": customer.land,
        "person": customer.person,
        "household": customer.household,
        "demo": customer.demo,
    }
    async with engine.begin() as conn:
        found = await conn.execute(
            update(customers)
            .where(customers.c.kundennummer == customer.kundennummer)
            .values(**values)
        )
        if not found.rowcount:
            await conn.execute(
                insert(customers).values(kundennummer=customer.kundennummer, **values)
            )


# -- decisions --------------------------------------------------------------------------------

_DECISION_COLUMNS = [c for c in decisions.c if c.name != "pdf"]


def _decision(row: Any) -> Decision:
    return Decision(**{c.name: getattr(row, c.name) for c in _DECISION_COLUMNS})


async def add_decision(
    engine: AsyncEngine,
    *,
    kundennummer: str,
    title: str,
    leistungsart: str,
    decided_on: str,
    posted_on: str,
    reference: str,
    appeal_notice_ok: bool = True,
    pdf: bytes | None = None,
    decision_id: str | None = None,
) -> str:
    decision_id = decision_id or new_id()
    async with engine.begin() as conn:
        await conn.execute(
            insert(decisions).values(
                id=decision_id,
                kundennummer=kundennummer,
                title=title,
                leistungsart=leistungsart,
                decided_on=decided_on,
                posted_on=posted_on,
                reference=reference,
                appeal_notice_ok=appeal_notice_ok,
                pdf=pdf,
                created_at=utcnow(),
            )
        )
    return decision_id


async def update_decision(engine: AsyncEngine, decision_id: str, **values: Any) -> None:
    """Change a decision (demo seeding only: dates relative to today, new PDF)."""
    async with engine.begin() as conn:
        await conn.execute(update(decisions).where(decisions.c.id == decision_id).values(**values))


async def decisions_for(engine: AsyncEngine, kundennummer: str | None) -> list[Decision]:
    """The customer's decisions, newest first (by posting date, then decision date)."""
    if not kundennummer:
        return []
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(*_DECISION_COLUMNS)
                .where(decisions.c.kundennummer == kundennummer)
                .order_by(decisions.c.posted_on.desc(), decisions.c.decided_on.desc())
            )
        ).all()
    return [_decision(row) for row in rows]


async def decision(
    engine: AsyncEngine, decision_id: str, kundennummer: str | None
) -> Decision | None:
    """One decision of this customer, or None (another customer's is the same as none)."""
    if not kundennummer:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(*_DECISION_COLUMNS).where(
                    decisions.c.id == decision_id, decisions.c.kundennummer == kundennummer
                )
            )
        ).first()
    return _decision(row) if row else None


async def decision_pdf(
    engine: AsyncEngine, decision_id: str, kundennummer: str | None
) -> bytes | None:
    if not kundennummer:
        return None
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(decisions.c.pdf).where(
                    decisions.c.id == decision_id, decisions.c.kundennummer == kundennummer
                )
            )
        ).scalar()


# -- PIN letters ------------------------------------------------------------------------------


def _letter(row: Any) -> PinLetter:
    return PinLetter(**{c.name: getattr(row, c.name) for c in pin_letters.c})


async def add_letter(
    engine: AsyncEngine, kundennummer: str, code_hash: str, expires_at: datetime
) -> str:
    """Store a new letter; every older unused letter of the customer stops working."""
    now = utcnow()
    letter_id = new_id()
    async with engine.begin() as conn:
        await conn.execute(
            update(pin_letters)
            .where(
                pin_letters.c.kundennummer == kundennummer,
                pin_letters.c.used_at.is_(None),
                pin_letters.c.expires_at > now,
            )
            .values(expires_at=now)
        )
        await conn.execute(
            insert(pin_letters).values(
                id=letter_id,
                kundennummer=kundennummer,
                code_hash=code_hash,
                attempts=0,
                created_at=now,
                expires_at=expires_at,
                used_at=None,
                used_by=None,
            )
        )
    return letter_id


async def current_letter(engine: AsyncEngine, kundennummer: str) -> PinLetter | None:
    """The newest unused letter of the customer (expired or blocked ones included)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(pin_letters)
                .where(pin_letters.c.kundennummer == kundennummer, pin_letters.c.used_at.is_(None))
                .order_by(pin_letters.c.created_at.desc())
                .limit(1)
            )
        ).first()
    return _letter(row) if row else None


async def letter(engine: AsyncEngine, letter_id: str) -> PinLetter | None:
    async with engine.connect() as conn:
        row = (await conn.execute(select(pin_letters).where(pin_letters.c.id == letter_id))).first()
    return _letter(row) if row else None


async def take_attempt(engine: AsyncEngine, letter_id: str) -> bool:
    """Count one try before the code is checked; False when the letter has none left.

    One conditional UPDATE: parallel requests cannot all slip in under the limit.
    """
    async with engine.begin() as conn:
        result = await conn.execute(
            update(pin_letters)
            .where(
                pin_letters.c.id == letter_id,
                pin_letters.c.used_at.is_(None),
                pin_letters.c.attempts < MAX_ATTEMPTS,
            )
            .values(attempts=pin_letters.c.attempts + 1)
        )
    return result.rowcount == 1


class AlreadyLinked(Exception):
    """The Kundennummer belongs to another account (or this one has another already)."""


async def link_account(engine: AsyncEngine, letter_id: str, account_id: str) -> bool:
    """Use the letter and link its Kundennummer to the account, in one transaction.

    False when the letter was used in the meantime; raises AlreadyLinked when the
    Kundennummer is another account's (the UNIQUE column decides, also under races).
    """
    now = utcnow()
    try:
        async with engine.begin() as conn:
            row = (
                await conn.execute(select(pin_letters).where(pin_letters.c.id == letter_id))
            ).first()
            if row is None:
                return False
            used = await conn.execute(
                update(pin_letters)
                .where(
                    pin_letters.c.id == letter_id,
                    pin_letters.c.used_at.is_(None),
                    pin_letters.c.expires_at > now,
                )
                .values(used_at=now, used_by=account_id)
            )
            if used.rowcount != 1:
                return False
            linked = await conn.execute(
                update(accounts)
                .where(
                    accounts.c.id == account_id,
                    (accounts.c.kundennummer.is_(None))
                    | (accounts.c.kundennummer == row.kundennummer),
                )
                .values(kundennummer=row.kundennummer, level="pin_brief")
            )
            if linked.rowcount != 1:
                raise AlreadyLinked(row.kundennummer)
    except IntegrityError as error:
        raise AlreadyLinked(letter_id) from error
    return True


async def linked_account_id(engine: AsyncEngine, kundennummer: str) -> str | None:
    async with engine.connect() as conn:
        return (
            await conn.execute(select(accounts.c.id).where(accounts.c.kundennummer == kundennummer))
        ).scalar()
