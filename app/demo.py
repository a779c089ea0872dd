"""Demo data for ``--demo`` / ``make run``. Never runs in production (checked here and by the CLI).

Two citizens with accounts at level pin_brief (docs/identity.md "Demo data"), their
customer records, decisions with example PDFs, and a third customer without an account
whose PIN letter code is written to ``<data_dir>/demo-pin.txt`` so that /konto/pin can
be tried. Seeding is idempotent: a second start adds nothing twice; decisions dated
relative to today get today's dates again, so a Widerspruch stays within its deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from quart import Quart, render_template

from app.db import accounts as account_repo
from app.db import customers as customer_repo
from app.db import utcnow
from app.documents.pdf import html_to_tagged_pdf
from app.identity.passwords import hash_password

BERLIN = ZoneInfo("Europe/Berlin")

OFFICES = {
    "Jobcenter Köln": "Beispielweg 1, 50667 Köln",
    "Jobcenter Berlin Mitte": "Musterplatz 2, 10115 Berlin",
    "Jobcenter Hamburg": "Probeallee 3, 20095 Hamburg",
}

ERIKA = customer_repo.Customer(
    kundennummer="022D267673",
    bg_nummer="12345BG0012345",
    office="Jobcenter Köln",
    land="NW",
    person={
        "vorname": "Erika",
        "nachname": "Mustermann",
        "geburtsdatum": "1964-08-12",
        "strasse": "Heidestraße 17",
        "plz": "51147",
        "ort": "Köln",
    },
    household=[
        {"id": "p1", "vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"},
        {"id": "p2", "vorname": "Max", "nachname": "Mustermann", "geburtsdatum": "1962-03-05"},
        {"id": "p3", "vorname": "Lena", "nachname": "Mustermann", "geburtsdatum": "2012-05-01"},
    ],
    demo=True,
)
LEON = customer_repo.Customer(
    kundennummer="034D998877",
    bg_nummer="67890BG0098765",
    office="Jobcenter Berlin Mitte",
    land="BE",
    person={
        "vorname": "Leon",
        "nachname": "Beispiel",
        "geburtsdatum": "1990-01-31",
        "strasse": "Müllerstraße 5",
        "plz": "13353",
        "ort": "Berlin",
    },
    household=[
        {"id": "p1", "vorname": "Leon", "nachname": "Beispiel", "geburtsdatum": "1990-01-31"}
    ],
    demo=True,
)
#: a customer without an account: try the PIN letter with the code in demo-pin.txt
JONAS = customer_repo.Customer(
    kundennummer="045D112233",
    bg_nummer="24680BG0024680",
    office="Jobcenter Hamburg",
    land="HH",
    person={
        "vorname": "Jonas",
        "nachname": "Probe",
        "geburtsdatum": "1985-11-02",
        "strasse": "Lindenallee 8",
        "plz": "20259",
        "ort": "Hamburg",
    },
    household=[{"id": "p1", "vorname": "Jonas", "nachname": "Probe", "geburtsdatum": "1985-11-02"}],
    demo=True,
)


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    customer: customer_repo.Customer
    telefon: str


ACCOUNTS = [
    DemoAccount("erika.mustermann@example.org", "Mustermann-Demo-2026", ERIKA, "0151 23456789"),
    DemoAccount("leon.beispiel@example.org", "Beispiel-Demo-2026", LEON, "030 98765432"),
]

GOOD_NOTICE = (
    "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Widerspruch erhoben "
    "werden. Der Widerspruch ist schriftlich, in elektronischer Form oder zur Niederschrift "
    "beim {office}, {address}, einzulegen. Sie können den Widerspruch auch online einlegen: "
    "jobcenter.digital/widerspruch."
)
#: deliberately wrong: no deadline, no office, no form (a one-year deadline applies then)
BAD_NOTICE = "Gegen diesen Bescheid ist der Widerspruch zulässig."


@dataclass(frozen=True)
class DemoDecision:
    customer: customer_repo.Customer
    number: int  # makes the reference; the key for idempotent seeding
    title: str
    leistungsart: str
    posted: Any  # days before today (int) or a fixed ISO date (str)
    body: tuple[str, ...]
    appeal_notice_ok: bool = True

    @property
    def reference(self) -> str:
        return f"{self.customer.bg_nummer}-{self.number:02d}"

    def dates(self, today: date) -> tuple[str, str]:
        """(decided_on, posted_on): the decision is dated the day before it was posted."""
        posted = (
            date.fromisoformat(self.posted)
            if isinstance(self.posted, str)
            else today - timedelta(days=self.posted)
        )
        return (posted - timedelta(days=1)).isoformat(), posted.isoformat()


DECISIONS = [
    DemoDecision(
        ERIKA,
        1,
        "Bewilligungsbescheid Bürgergeld",
        "buergergeld",
        3,
        (
            "Ihnen und den Mitgliedern Ihrer Bedarfsgemeinschaft wird Bürgergeld für die Zeit "
            "vom 1. des nächsten Monats bis zum Ende des zwölften Monats bewilligt.",
            "Monatlicher Gesamtbetrag: 1.873,40 Euro (Regelbedarfe 1.578,00 Euro, Kosten der "
            "Unterkunft und Heizung 695,40 Euro, abzüglich anrechenbares Einkommen 400,00 Euro).",
            "Die Berechnung finden Sie in der Anlage.",
        ),
    ),
    DemoDecision(
        ERIKA,
        2,
        "Änderungsbescheid Kosten der Unterkunft und Heizung",
        "kdu",
        92,
        (
            "Wegen der neuen Nebenkostenvorauszahlung ändern sich Ihre Kosten der Unterkunft "
            "und Heizung ab dem 1. des übernächsten Monats.",
            "Anerkannte Kosten der Unterkunft und Heizung: 695,40 Euro monatlich (bisher "
            "652,10 Euro).",
        ),
    ),
    DemoDecision(
        ERIKA,
        3,
        "Bescheid über Leistungen für Bildung und Teilhabe",
        "but",
        150,
        (
            "Für Lena Mustermann werden die Kosten der Klassenfahrt in Höhe von 245,00 Euro "
            "übernommen.",
            "Der Betrag wird direkt an die Schule überwiesen.",
        ),
        appeal_notice_ok=False,
    ),
    DemoDecision(
        ERIKA,
        4,
        "Aufhebungs- und Erstattungsbescheid",
        "erstattung",
        "2024-12-13",
        (
            "Die Bewilligung von Bürgergeld wird für November 2024 teilweise aufgehoben, weil "
            "Einkommen aus einer Nebenbeschäftigung erzielt wurde.",
            "Zu erstatten sind 120,00 Euro.",
        ),
    ),
    DemoDecision(
        LEON,
        1,
        "Bewilligungsbescheid Bürgergeld",
        "buergergeld",
        10,
        (
            "Ihnen wird Bürgergeld für die Zeit vom 1. des nächsten Monats bis zum Ende des "
            "zwölften Monats bewilligt.",
            "Monatlicher Gesamtbetrag: 1.092,00 Euro (Regelbedarf 563,00 Euro, Kosten der "
            "Unterkunft und Heizung 529,00 Euro).",
        ),
    ),
]


def _today() -> date:
    return datetime.now(BERLIN).date()


async def decision_pdf(spec: DemoDecision, decided_on: str) -> bytes:
    """An example Bescheid as a tagged PDF, clearly marked as not real."""
    customer = spec.customer
    notice = (
        GOOD_NOTICE.format(office=customer.office, address=OFFICES[customer.office])
        if spec.appeal_notice_ok
        else BAD_NOTICE
    )
    html = await render_template(
        "pages/konto/decision_pdf.html",
        customer=customer,
        spec=spec,
        decided_on=date.fromisoformat(decided_on),
        notice=notice,
    )
    return await asyncio.to_thread(
        html_to_tagged_pdf, html, lang="de", title=f"{spec.title} – {spec.reference}"
    )


async def _seed_decisions(db: Any) -> None:
    today = _today()
    for spec in DECISIONS:
        decided_on, posted_on = spec.dates(today)
        known = await customer_repo.decisions_for(db, spec.customer.kundennummer)
        existing = {d.reference: d for d in known}
        found = existing.get(spec.reference)
        if found is None:
            await customer_repo.add_decision(
                db,
                kundennummer=spec.customer.kundennummer,
                title=spec.title,
                leistungsart=spec.leistungsart,
                decided_on=decided_on,
                posted_on=posted_on,
                reference=spec.reference,
                appeal_notice_ok=spec.appeal_notice_ok,
                pdf=await decision_pdf(spec, decided_on),
            )
        elif found.posted_on != posted_on:  # a later start: dates relative to today again
            await customer_repo.update_decision(
                db,
                found.id,
                decided_on=decided_on,
                posted_on=posted_on,
                pdf=await decision_pdf(spec, decided_on),
            )


async def _seed_accounts(db: Any) -> None:
    for demo in ACCOUNTS:
        if await account_repo.by_email(db, demo.email) is not None:
            continue
        person = demo.customer.person
        account = await account_repo.create(
            db,
            demo.email,
            await hash_password(demo.password),
            profile={
                "vorname": person["vorname"],
                "nachname": person["nachname"],
                "geburtsdatum": person["geburtsdatum"],
                "strasse": person["strasse"],
                "plz": person["plz"],
                "ort": person["ort"],
                "telefon": demo.telefon,
            },
            confirmed=True,
            demo=True,
        )
        await account_repo.set_fields(
            db, account.id, level="pin_brief", kundennummer=demo.customer.kundennummer
        )


async def _seed_pin_letter(db: Any, data_dir: Path) -> None:
    """A fresh letter for JONAS unless the one written down still works."""
    from app.identity.pinletter import format_code, issue_letter, write_private

    target = data_dir / "demo-pin.txt"
    letter = await customer_repo.current_letter(db, JONAS.kundennummer)
    if (
        target.exists()
        and letter is not None
        and not letter.blocked
        and not letter.expired(utcnow() + timedelta(days=1))
    ):
        return
    code, pdf = await issue_letter(db, JONAS.kundennummer)
    until = (utcnow() + timedelta(days=29)).astimezone(BERLIN).date().isoformat()
    text = (
        "Demo: PIN-Brief zum Ausprobieren von /konto/pin (mit einem eigenen Konto)\n"
        f"Kundennummer: {JONAS.kundennummer}\nCode: {format_code(code)}\n"
        f"Gültig mindestens bis: {until}\n"
    )
    for path, content in ((target, text.encode()), (data_dir / "demo-pin-brief.pdf", pdf)):
        await asyncio.to_thread(write_private, path, content)


async def seed(app: Quart) -> None:
    """Create (or bring up to date) the demo data. Idempotent."""
    settings = app.config["SETTINGS"]
    if settings.production:
        raise RuntimeError("demo data is never created in production")
    db = app.config["DB"]
    for customer in (ERIKA, LEON, JONAS):
        await customer_repo.put(db, customer)
    await _seed_decisions(db)
    await _seed_accounts(db)
    await _seed_pin_letter(db, Path(settings.data_dir))
