"""Demo data (``--demo``): the documented accounts, customers and decisions; idempotent;
never outside demo mode and never in production."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from identity_helpers import make_account, sign_in
from quart import Quart
from sqlalchemy import func, select
from test_documents_pdf import _extract_text

from app.db import accounts as account_repo
from app.db import customers as customer_repo
from app.db.tables import accounts, customers, decisions, pin_letters
from app.demo import seed
from app.identity.passwords import verify_password
from app.settings import Settings
from conftest import Browser

AppWith = Callable[..., AbstractAsyncContextManager[Quart]]
DEMO_PASSWORDS = {
    "erika.mustermann@example.org": ("Mustermann-Demo-2026", "022D267673"),
    "leon.beispiel@example.org": ("Beispiel-Demo-2026", "034D998877"),
}


async def counts(app: Quart) -> dict[str, int]:
    async with app.config["DB"].connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (accounts, customers, decisions, pin_letters)
        }


async def test_seed_makes_the_documented_data_once(app_with: AppWith) -> None:
    async with app_with(demo=True) as app:
        db = app.config["DB"]
        first = await counts(app)
        assert first == {"accounts": 2, "customers": 3, "decisions": 5, "pin_letters": 1}
        before = await customer_repo.decisions_for(db, "022D267673")
        pin_file = Path(app.config["SETTINGS"].data_dir) / "demo-pin.txt"
        pin_text = pin_file.read_text()

        await seed(app)  # a second start

        assert await counts(app) == first
        after = await customer_repo.decisions_for(db, "022D267673")
        assert [d.id for d in after] == [d.id for d in before]
        assert pin_file.read_text() == pin_text

        for email, (password, kundennummer) in DEMO_PASSWORDS.items():
            account = await account_repo.by_email(db, email)
            assert account is not None, email
            assert account.demo and account.confirmed
            assert (account.level, account.kundennummer) == ("pin_brief", kundennummer)
            assert await verify_password(account.password_hash, password)
        erika = await account_repo.by_email(db, "erika.mustermann@example.org")
        assert erika is not None
        assert erika.profile["geburtsdatum"] == "1964-08-12"
        assert erika.profile["strasse"] == "Heidestraße 17"

        customer = await customer_repo.get(db, "022D267673")
        assert customer is not None
        assert (customer.bg_nummer, customer.office, customer.land) == (
            "12345BG0012345",
            "Jobcenter Köln",
            "NW",
        )
        assert [(m["vorname"], m["geburtsdatum"]) for m in customer.household] == [
            ("Erika", "1964-08-12"),
            ("Max", "1962-03-05"),
            ("Lena", "2012-05-01"),
        ]
        leon = await customer_repo.get(db, "034D998877")
        assert leon is not None and leon.land == "BE" and len(leon.household) == 1
        assert len(await customer_repo.decisions_for(db, "034D998877")) == 1


async def test_demo_decisions_fit_the_widerspruch_cases(app_with: AppWith) -> None:
    async with app_with(demo=True) as app:
        db = app.config["DB"]
        found = await customer_repo.decisions_for(db, "022D267673")
        today = date.today()
        posted = [date.fromisoformat(d.posted_on) for d in found]
        assert posted == sorted(posted, reverse=True)
        assert today - posted[0] <= timedelta(days=7)  # a Widerspruch is within the deadline
        assert any(p.year == 2024 and p.month == 12 for p in posted)
        assert [d.appeal_notice_ok for d in found].count(False) == 1
        for decision in found:
            pdf = await customer_repo.decision_pdf(db, decision.id, "022D267673")
            assert pdf is not None
            text = _extract_text(pdf)
            assert "Beispiel – kein echter Bescheid" in text
            assert decision.title in text


async def test_demo_accounts_log_in_with_the_documented_password(app_with: AppWith) -> None:
    async with app_with(demo=True) as app:
        b = Browser(app)
        await b.get("/anmelden")
        await b.submit(
            "/anmelden",
            {"email": "erika.mustermann@example.org", "passwort": "Mustermann-Demo-2026"},
        )
        assert b.path == "/konto"
        assert "022D267673" in b.text()
        await b.get("/konto/bescheide")
        assert "Bewilligungsbescheid Bürgergeld" in b.text()


async def test_the_demo_pin_letter_can_be_tried(app_with: AppWith) -> None:
    async with app_with(demo=True) as app:
        text = (Path(app.config["SETTINGS"].data_dir) / "demo-pin.txt").read_text()
        match = re.search(r"Code: ([A-Z0-9 ]+)\n", text)
        assert match and "045D112233" in text
        b = Browser(app)
        await sign_in(b, await make_account(app, "tester@example.org"))
        await b.get("/konto/pin")
        await b.submit(data={"kundennummer": "045D112233", "code": match.group(1)})
        assert b.url == "/konto?verbunden=1"


async def test_no_demo_data_outside_demo_mode(app: Quart) -> None:
    assert await counts(app) == {"accounts": 0, "customers": 0, "decisions": 0, "pin_letters": 0}
    assert not (Path(app.config["SETTINGS"].data_dir) / "demo-pin.txt").exists()


async def test_never_in_production() -> None:
    production: Any = SimpleNamespace(config={"SETTINGS": Settings(env="production", demo=True)})
    with pytest.raises(RuntimeError):
        await seed(production)
