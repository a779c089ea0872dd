"""Mein Konto: Stammdaten, decisions, Meine Anträge of an account, and prefilled services."""

from __future__ import annotations

import re

import pytest
from identity_helpers import PASSWORD, make_account, sign_in
from konto_helpers import ERIKA, add_customer, add_decision
from quart import Quart
from test_documents_pdf import _extract_text

from app.db import accounts as account_repo
from app.db import audit
from conftest import (
    Browser,
    assert_rejected,
    date_parts,
    main,
    person_step,
    start_flow,
    typed,
)
from tests.eid_helpers import full_journey

PROFILE = {**ERIKA, "telefon": "0151 23456789"}
HOUSEHOLD = [
    {"id": "p1", "vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"},
    {"id": "p2", "vorname": "Max", "nachname": "Mustermann", "geburtsdatum": "1962-03-05"},
    {"id": "p3", "vorname": "Lena", "nachname": "Mustermann", "geburtsdatum": "2012-05-01"},
]


async def erika(app: Quart, visitor: Browser, *, linked: bool = True) -> account_repo.Account:
    """Erika logged in; with ``linked`` her Kundennummer is linked (level pin_brief)."""
    await add_customer(app, household=HOUSEHOLD)
    account = await make_account(
        app,
        "erika@example.org",
        level="pin_brief" if linked else "basis",
        kundennummer="022D267673" if linked else None,
        profile=dict(PROFILE),
    )
    await sign_in(visitor, account)
    return account


def personal(b: Browser) -> None:
    assert b.response is not None
    assert b.response.headers["Cache-Control"] == "no-store"


# -- /konto ---------------------------------------------------------------------------------


async def test_konto_shows_the_stammdaten_and_what_the_level_allows(
    app: Quart, visitor: Browser
) -> None:
    await erika(app, visitor, linked=False)
    await visitor.get("/konto")
    personal(visitor)
    page = main(visitor.html)
    assert len(re.findall(r"<h1\b", visitor.html)) == 1
    assert visitor.title.startswith("Mein Konto")
    for expected in (
        "erika@example.org",
        "Erika Mustermann",
        "12. August 1964",
        "Heidestraße 17, 51147 Köln",
        "0151 23456789",
        "Ihr Konto ist noch nicht mit Ihrer Kundennummer verbunden.",
        "nach 30 Minuten ohne Aktivität abgemeldet",
    ):
        assert expected in page, expected
    assert visitor.links("Konto mit Ihrer Kundennummer verbinden") == ["/konto/pin"]
    assert visitor.links("Meine Bescheide") == ["/konto/bescheide"]
    assert "/konto/sicherheit" in visitor.links("Anmeldung und Sicherheit")
    assert '<form method="post" action="/abmelden" ' in visitor.html
    assert '<form method="post" action="/abmelden/ueberall" ' in visitor.html
    assert "Auf allen Geräten abmelden" in page
    # the form shows the current address to change
    assert typed(visitor.html, "strasse") == "Heidestraße 17"
    assert typed(visitor.html, "telefon") == "0151 23456789"
    assert "style=" not in visitor.html and "<script>" not in page

    # the "Abmelden" button really ends the session
    await visitor.submit("/abmelden", {})
    await visitor.get("/konto", expect=303)


async def test_a_linked_account_shows_customer_and_household(app: Quart, visitor: Browser) -> None:
    await erika(app, visitor)
    await visitor.get("/konto")
    page = main(visitor.html)
    for expected in (
        "Ihr Konto ist mit Ihrer Kundennummer verbunden.",
        "022D267673",
        "12345BG0012345",
        "Jobcenter Köln",
        "Max Mustermann, geboren am 5. März 1962",
        "Lena Mustermann",
    ):
        assert expected in page, expected
    assert visitor.links("Konto mit Ihrer Kundennummer verbinden") == []


async def test_konto_in_english_and_leichte_sprache(app: Quart, visitor: Browser) -> None:
    await erika(app, visitor)
    await visitor.get("/konto?lang=en")
    assert '<html lang="en">' in visitor.html
    assert visitor.title.startswith("My account")
    await visitor.get("/konto?lang=ls")
    assert '<html lang="de-x-ls">' in visitor.html


async def test_change_address_and_phone(app: Quart, visitor: Browser) -> None:
    account = await erika(app, visitor)
    await visitor.get("/konto")
    await visitor.submit(
        data={"strasse": "Neue Straße 1", "plz": "5114", "ort": " ", "telefon": "abc"},
        expect=422,
    )
    assert_rejected(
        visitor,
        {
            "plz": "Eine Postleitzahl hat 5 Ziffern",
            "ort": "Bitte füllen Sie dieses Feld aus.",
            "telefon": "Bitte geben Sie eine Telefonnummer ein",
        },
        kept={"strasse": "Neue Straße 1", "plz": "5114", "telefon": "abc"},
    )
    personal(visitor)
    unchanged = await account_repo.get(app.config["DB"], account.id)
    assert unchanged is not None and unchanged.profile["strasse"] == "Heidestraße 17"

    # a new address needs the online ID (SECURITY.md): what was typed waits meanwhile
    new_address = {"strasse": "Neue Straße 1", "plz": "50667", "ort": "Köln", "telefon": ""}
    response = await visitor.submit("/konto", new_address, follow=False)
    assert response.headers["Location"] == "/konto/stufe?stufe=eid_substanziell&weiter=/konto"
    waiting = await account_repo.get(app.config["DB"], account.id)
    assert waiting is not None and waiting.profile["strasse"] == "Heidestraße 17"
    await visitor.get("/konto")
    assert typed(visitor.html, "strasse") == "Neue Straße 1"
    assert "Ihre neue Adresse ist noch nicht gespeichert." in visitor.text()
    finish = await full_journey(app, visitor, stufe="eid_substanziell", weiter="/konto")
    await visitor.get(finish, expect=303)
    await visitor.get("/konto")
    assert typed(visitor.html, "strasse") == "Neue Straße 1"  # still there after the eID
    await visitor.submit("/konto", new_address)
    assert visitor.url == "/konto?gespeichert=1"
    assert "Ihre Angaben wurden gespeichert." in visitor.text()
    assert "Neue Straße 1, 50667 Köln" in visitor.text()
    changed = await account_repo.get(app.config["DB"], account.id)
    assert changed is not None
    assert changed.profile["plz"] == "50667" and "telefon" not in changed.profile
    assert changed.profile["vorname"] == "Erika"  # only address and phone change here
    actions = [e.action for e in await audit.entries(app.config["DB"], account.id)]
    assert "profile" in actions
    assert "Ihre neue Adresse ist noch nicht gespeichert." not in visitor.text()


async def test_a_new_phone_number_needs_no_online_id(app: Quart, visitor: Browser) -> None:
    account = await erika(app, visitor)
    await visitor.get("/konto")
    await visitor.submit(
        data={**{k: PROFILE[k] for k in ("strasse", "plz", "ort")}, "telefon": "0221 123456"}
    )
    assert visitor.url == "/konto?gespeichert=1"
    changed = await account_repo.get(app.config["DB"], account.id)
    assert changed is not None and changed.profile["telefon"] == "0221 123456"


# -- /konto/bescheide -------------------------------------------------------------------------


async def test_decisions_newest_first_with_pdf_and_widerspruch(
    app: Quart, visitor: Browser
) -> None:
    account = await erika(app, visitor)
    old = await add_decision(app, "022D267673", "Aufhebungsbescheid", "2024-12-13")
    new = await add_decision(
        app, "022D267673", "Bewilligungsbescheid Bürgergeld", "2026-11-02", decided_on="2026-11-01"
    )
    mid = await add_decision(
        app, "022D267673", "Änderungsbescheid KdU", "2026-08-30", leistungsart="kdu"
    )
    await visitor.get("/konto/bescheide")
    personal(visitor)
    page = main(visitor.html)
    titles = ["Bewilligungsbescheid Bürgergeld", "Änderungsbescheid KdU", "Aufhebungsbescheid"]
    positions = [page.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "Bescheid vom 1. November 2026" in page
    assert "Leistung: Kosten der Unterkunft und Heizung" in page
    assert visitor.links("PDF herunterladen") == [
        f"/konto/bescheide/{d}.pdf" for d in (new, mid, old)
    ]
    assert visitor.links("Widerspruch einlegen")[0].startswith("/widerspruch")

    response = await visitor.client.get(f"/konto/bescheide/{new}.pdf")
    assert response.status_code == 200
    assert response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.get_data() == "%PDF-1.7 Bewilligungsbescheid Bürgergeld".encode()
    reads = [e for e in await audit.entries(app.config["DB"], account.id) if e.action != "login"]
    assert [(e.action, e.object_id) for e in reads] == [("decision_read", new)]


async def test_decisions_need_the_linked_kundennummer(app: Quart, visitor: Browser) -> None:
    await erika(app, visitor, linked=False)
    await visitor.get("/konto/bescheide", expect=303)
    assert visitor.response is not None
    assert visitor.response.headers["Location"] == "/konto/pin?weiter=/konto/bescheide"


async def test_demo_decision_pdf_is_a_marked_example(app: Quart) -> None:
    from app.demo import DECISIONS, decision_pdf

    async with app.app_context():
        data = await decision_pdf(DECISIONS[0], "2026-11-01")
    text = _extract_text(data)
    assert "Beispiel – kein echter Bescheid" in text
    assert "Rechtsbehelfsbelehrung" in text and "innerhalb eines Monats" in text


# -- Meine Anträge of an account ----------------------------------------------------------------


async def test_a_draft_started_before_login_moves_into_the_account(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    await add_customer(app)
    await make_account(app, "erika@example.org", profile=dict(PROFILE))
    draft_id = await start_flow(b, "veraenderung")
    await person_step(b, check_errors=False)
    unfinished = b.path

    await b.get("/anmelden")
    await b.submit("/anmelden", {"email": "erika@example.org", "passwort": PASSWORD})
    assert b.path == "/konto"

    await b.get("/antraege")
    personal(b)
    assert "aus Ihrem Konto" in b.text()
    assert "Status: Entwurf, zuletzt gespeichert am" in b.text()
    assert b.links("Weiter ausfüllen") == [unfinished]
    await b.get(unfinished)
    assert draft_id in b.path

    # on another device, the same account finds it too
    other = Browser(app)
    account = await account_repo.by_email(app.config["DB"], "erika@example.org")
    assert account is not None
    await sign_in(other, account)
    await other.get("/antraege")
    assert other.links("Weiter ausfüllen") == [unfinished]


async def test_submissions_show_their_status(app: Quart, visitor: Browser) -> None:
    b = visitor
    await erika(app, b)
    await start_flow(b, "veraenderung")
    await b.submit(
        data={
            "kundennummer": "022D267673",
            "vorname": "Erika",
            "nachname": "M",
            **date_parts("geburtsdatum", 12, 8, 1964),
        }
    )
    # the household from the account: two people to check, then the list
    while "/haushalt/" in b.path and not b.path.endswith("/_liste"):
        await b.submit(
            data={
                "vorname": typed(b.html, "vorname") or "",
                "nachname": typed(b.html, "nachname") or "",
                **{
                    f"geburtsdatum-{p}": typed(b.html, f"geburtsdatum-{p}") or ""
                    for p in ("day", "month", "year")
                },
            }
        )
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "kontakt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    await b.submit(data={"email": "erika@beispiel.de"})
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    await b.submit(data={"declaration": "ja"})
    assert "/eingang/" in b.path
    await b.get("/antraege")
    text = b.text()
    assert re.search(
        r"Status: Eingegangen am .+ \(Referenz VM-\d{4}-[0-9A-Z-]+\) – wird bearbeitet", text
    )


# -- prefill (WCAG 3.3.7) -----------------------------------------------------------------------


async def test_veraenderung_is_prefilled_from_the_account(app: Quart, visitor: Browser) -> None:
    await erika(app, visitor)
    await start_flow(visitor, "veraenderung")
    html = visitor.html
    assert typed(html, "kundennummer") == "022D267673"
    assert typed(html, "bg_nummer") == "12345BG0012345"
    assert (typed(html, "vorname"), typed(html, "nachname")) == ("Erika", "Mustermann")
    assert [typed(html, f"geburtsdatum-{p}") for p in ("day", "month", "year")] == [
        "12",
        "8",
        "1964",
    ]
    # the user only checks and confirms
    await visitor.submit(
        data={
            "kundennummer": "022D267673",
            "bg_nummer": "12345BG0012345",
            "vorname": "Erika",
            "nachname": "Mustermann",
            **date_parts("geburtsdatum", 12, 8, 1964),
        }
    )
    # the rest of the household is there to check, not to type again
    assert "/haushalt/" in visitor.path
    assert (typed(visitor.html, "vorname"), typed(visitor.html, "nachname")) == (
        "Max",
        "Mustermann",
    )


@pytest.mark.parametrize("slug", ["ortsabwesenheit", "veraenderung"])
async def test_person_page_prefilled_only_for_a_logged_in_user(
    app: Quart, visitor: Browser, slug: str
) -> None:
    anonymous = Browser(app)
    await start_flow(anonymous, slug)
    assert typed(anonymous.html, "kundennummer") == ""

    await erika(app, visitor)
    await start_flow(visitor, slug)
    assert typed(visitor.html, "kundennummer") == "022D267673"
    assert typed(visitor.html, "vorname") == "Erika"
