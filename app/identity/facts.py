"""What the account knows about its holder, for prefilling e-services (WCAG 3.3.7)."""

from __future__ import annotations

from typing import Any

from . import current_account


async def known_facts() -> dict[str, Any]:
    """Facts of the logged-in person: {} when nobody is logged in.

    Keys: email, vorname, nachname, geburtsdatum (ISO), strasse, plz, ort, telefon,
    kundennummer, bg_nummer, household (list of {id, vorname, nachname, geburtsdatum}).
    Profile data comes from the account; Kundennummer, BG number and household from the
    linked customer record (level pin_brief).
    """
    account = await current_account()
    if account is None:
        return {}
    facts: dict[str, Any] = {"email": account.email, **account.profile}
    if account.kundennummer:
        from quart import current_app
        from sqlalchemy import select

        from app.db.tables import customers

        async with current_app.config["DB"].connect() as conn:
            row = (
                await conn.execute(
                    select(customers).where(customers.c.kundennummer == account.kundennummer)
                )
            ).first()
        facts["kundennummer"] = account.kundennummer
        if row is not None:
            facts["bg_nummer"] = row.bg_nummer
            facts["household"] = list(row.household)
            facts["office"] = row.office
            facts["land"] = row.land
    return facts
