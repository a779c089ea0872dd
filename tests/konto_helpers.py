"""Customers, decisions and PIN letters for the tests of the account area."""

from __future__ import annotations

from typing import Any

from quart import Quart
from sqlalchemy import select

from app.db import customers as customer_repo
from app.db.tables import pin_letters
from app.identity.pinletter import issue_letter
from tests.identity_helpers import ERIKA, LEON

__all__ = ["ERIKA", "LEON", "add_customer", "add_decision", "letter_for", "letters"]


async def add_customer(
    app: Quart,
    kundennummer: str = "022D267673",
    person: dict[str, Any] | None = None,
    *,
    bg_nummer: str = "12345BG0012345",
    household: list[dict[str, Any]] | None = None,
    office: str = "Jobcenter Köln",
) -> customer_repo.Customer:
    person = person or ERIKA
    customer = customer_repo.Customer(
        kundennummer=kundennummer,
        bg_nummer=bg_nummer,
        office=office,
        land="NW",
        person=person,
        household=household
        if household is not None
        else [
            {"id": "p1", **{k: person[k] for k in ("vorname", "nachname", "geburtsdatum")}},
        ],
        demo=False,
    )
    await customer_repo.put(app.config["DB"], customer)
    return customer


async def add_decision(
    app: Quart, kundennummer: str, title: str, posted_on: str, **extra: Any
) -> str:
    values: dict[str, Any] = {
        "leistungsart": "buergergeld",
        "decided_on": posted_on,
        "reference": f"REF-{title[:3].upper()}",
        "pdf": b"%PDF-1.7 " + title.encode(),
        **extra,
    }
    return await customer_repo.add_decision(
        app.config["DB"], kundennummer=kundennummer, title=title, posted_on=posted_on, **values
    )


async def letter_for(app: Quart, kundennummer: str = "022D267673") -> tuple[str, bytes]:
    """A new PIN letter, as the staff area will make it: (code, PDF)."""
    async with app.app_context():
        return await issue_letter(app.config["DB"], kundennummer)


async def letters(app: Quart, kundennummer: str = "022D267673") -> list[Any]:
    async with app.config["DB"].connect() as conn:
        return list(
            (
                await conn.execute(
                    select(pin_letters)
                    .where(pin_letters.c.kundennummer == kundennummer)
                    .order_by(pin_letters.c.created_at)
                )
            ).all()
        )
