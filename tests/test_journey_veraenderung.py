"""Veränderung mitteilen, end to end without JavaScript: every step first wrong, then right."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from quart import Quart
from sqlalchemy import func, select

from app.db import drafts as draft_repo
from app.db.tables import documents, drafts, outbox, submissions
from conftest import (
    PERSON,
    Browser,
    assert_rejected,
    date_parts,
    person_step,
    radio_values,
    start_flow,
    tiny_pdf,
    typed,
)


@contextmanager
def saves_meet(parties: int) -> Iterator[None]:
    """Hold each draft save until ``parties`` requests have loaded the draft: a real race."""
    barrier = asyncio.Barrier(parties)
    original = draft_repo.save

    async def save(*args: Any, **kwargs: Any) -> draft_repo.Draft:
        async with asyncio.timeout(30):  # a request that never gets here fails the test
            await barrier.wait()
        return await original(*args, **kwargs)

    with mock.patch.object(draft_repo, "save", save):
        yield


async def _rows(app: Quart, table: object) -> list:
    async with app.config["DB"].connect() as conn:
        return list((await conn.execute(select(table))).all())  # type: ignore[arg-type]


async def test_veraenderung_end_to_end(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    base = f"/veraenderung/{draft_id}"
    await person_step(b)

    # -- household: one member -------------------------------------------------------------
    assert b.path == f"{base}/haushalt/_liste"
    assert "Wer lebt noch in Ihrer Bedarfsgemeinschaft?" in b.title
    await b.submit(data={"action": "add"})
    member = b.path.split("/")[4]
    assert b.path == f"{base}/haushalt/{member}/mitglied"
    await b.submit(
        data={"vorname": "Max", "nachname": "", **date_parts("geburtsdatum", 1, 2, 10)}, expect=422
    )
    assert_rejected(
        b,
        {
            "nachname": "Bitte füllen Sie dieses Feld aus.",
            "geburtsdatum": "Das Jahr hat 4 Ziffern.",
        },
        kept={"vorname": "Max", "geburtsdatum-year": "10"},
    )
    await b.submit(
        data={"vorname": "Max", "nachname": "Mustermann", **date_parts("geburtsdatum", 1, 2, 2010)}
    )
    assert b.path == f"{base}/haushalt/_liste"
    assert "Person 1: Max" in b.text()
    await b.submit(data={"action": "weiter"})

    # -- change 1: new job, with a real PDF upload -----------------------------------------
    first = b.path.split("/")[4]
    assert b.path == f"{base}/aenderungen/{first}/art"
    await b.submit(data={"art": "lottogewinn"}, expect=422)
    assert_rejected(b, {"art": "Bitte wählen Sie eine Antwort aus."})
    assert typed(b.html, "art") is None
    await b.submit(data={"art": "arbeit_beginn"})

    assert b.path == f"{base}/aenderungen/{first}/betrifft"
    people = radio_values(b.html, "person")
    assert people == ["ich", member]
    assert "Erika Mustermann" in b.html and "Max Mustermann" in b.html
    await b.submit(
        data={"person": "jemand-anderes", **date_parts("datum", 1, 13, 2026)}, expect=422
    )
    assert_rejected(
        b,
        {"person": "Bitte wählen Sie eine Antwort aus.", "datum": "Dieses Datum gibt es nicht."},
        kept={"datum-day": "1", "datum-month": "13", "datum-year": "2026"},
    )
    await b.submit(data={"person": member, **date_parts("datum", 1, 12, 2026)})

    assert b.path == f"{base}/aenderungen/{first}/arbeit"
    assert 'enctype="multipart/form-data"' in b.html
    pdf = tiny_pdf()
    # wrong hours and amount, but a good upload: the upload must survive the 422
    await b.submit(
        data={"arbeitgeber": "Bäckerei Schmidt & Söhne", "stunden": "100", "brutto": "abc"},
        files={"nachweis": (pdf, "Arbeitsvertrag.pdf")},
        expect=422,
    )
    assert_rejected(
        b,
        {
            "stunden": "Bitte geben Sie eine Zahl von 1 bis 80 ein.",
            "brutto": "Bitte geben Sie einen Betrag in Euro ein",
        },
        kept={"arbeitgeber": "Bäckerei Schmidt & Söhne", "stunden": "100", "brutto": "abc"},
    )
    assert b.field_error("nachweis") is None
    assert "Hochgeladene Datei behalten: Arbeitsvertrag.pdf" in b.text()
    assert typed(b.html, "nachweis-keep") == "ja"
    await b.submit(
        data={
            "arbeitgeber": "Bäckerei Schmidt & Söhne",
            "stunden": "20",
            "brutto": "1.234,56",
            "netto": "",
            "nachweis-keep": "ja",
        },
        files={},
    )
    assert b.path == f"{base}/aenderungen/_liste"
    assert "Änderung 1: Neue Arbeit oder Nebenjob" in b.text()

    # -- change 2: new bank account --------------------------------------------------------
    await b.submit(data={"action": "add"})
    second = b.path.split("/")[4]
    assert second != first
    assert b.path == f"{base}/aenderungen/{second}/art"
    assert "Änderung 2" in b.title
    await b.submit(data={}, expect=422)
    assert_rejected(b, {"art": "Bitte wählen Sie eine Antwort aus."})
    await b.submit(data={"art": "bank"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    assert b.path == f"{base}/aenderungen/{second}/bank"
    await b.submit(
        data={"kontoinhaber": "Erika Mustermann", "iban": "DE88 3704 0044 0532 0130 00"}, expect=422
    )
    assert_rejected(
        b,
        {"iban": "Diese IBAN stimmt nicht."},
        kept={"kontoinhaber": "Erika Mustermann", "iban": "DE88 3704 0044 0532 0130 00"},
    )
    await b.submit(data={"kontoinhaber": "Erika Mustermann", "iban": "de89 3704 0044 0532 0130 00"})
    assert b.path == f"{base}/aenderungen/_liste"
    assert "Änderung 2: Neue Bankverbindung" in b.text()
    await b.submit(data={"action": "weiter"})

    # -- contact for questions: everything optional, but what is given must be valid --------
    assert b.path == f"{base}/rueckfragen/kontakt"
    await b.submit(
        data={"telefon": "", "email": "erika(at)beispiel.de", "hinweis": "Bitte\nschriftlich"},
        expect=422,
    )
    assert_rejected(
        b,
        {"email": "Bitte geben Sie eine E-Mail-Adresse ein"},
        kept={"email": "erika(at)beispiel.de", "hinweis": "Bitte\nschriftlich"},
    )
    await b.submit(data={"telefon": "0151 2345678", "email": "", "hinweis": ""})

    # -- review ----------------------------------------------------------------------------
    assert b.path == f"{base}/_pruefen"
    review = b.text()
    for shown in (
        "123D456789",
        "Erika",
        "12. August 1964",
        "Max",
        "1. Februar 2010",
        "Neue Arbeit oder Nebenjob",
        "Max Mustermann",
        "1. Dezember 2026",
        "Bäckerei Schmidt & Söhne",
        "20",
        "1.234,56 €",
        "Arbeitsvertrag.pdf",
        "Neue Bankverbindung",
        "DE89 3704 0044 0532 0130 00",
        "Commerzbank",
        "0151 2345678",
    ):
        assert shown in review, shown
    assert review.index("Änderung 1") < review.index("Bäckerei") < review.index("Änderung 2")
    assert review.index("Änderung 2") < review.index("Commerzbank")

    # change link → the page in review mode → saving returns to the review
    change = [u for u in b.links("Ändern") if u.endswith("/rueckfragen/kontakt?pruefen=1")]
    assert change == [f"{base}/rueckfragen/kontakt?pruefen=1"] * 3
    await b.get(change[0])
    assert "Speichern und zur Übersicht" in b.html
    assert typed(b.html, "telefon") == "0151 2345678"
    await b.submit(data={"telefon": "030 1234567", "email": "erika@beispiel.de"})
    assert b.path == f"{base}/_pruefen"
    assert "030 1234567" in b.text() and "0151 2345678" not in b.text()

    # the same for a page inside a repeat item
    change = [u for u in b.links("Ändern") if f"/aenderungen/{first}/arbeit" in u]
    await b.get(change[0])
    await b.submit(
        data={
            "arbeitgeber": "Bäckerei Schmidt & Söhne",
            "stunden": "25",
            "brutto": "1.300",
            "nachweis-keep": "ja",
        },
        files={},
    )
    assert b.path == f"{base}/_pruefen"
    assert "1.300,00 €" in b.text() and "Arbeitsvertrag.pdf" in b.text()

    review_url = b.url
    token = b.token()
    await b.submit(data={}, expect=422)
    assert b.title.startswith("Fehler:")
    assert "Bitte bestätigen Sie" in b.text()
    assert 'id="declaration-error"' in b.html

    await b.submit(data={"declaration": "ja"})
    receipt_url = b.path
    assert receipt_url.startswith("/veraenderung/eingang/")
    assert "Ihre Mitteilung ist angekommen" in b.title
    reference = b.html.split('class="reference">', 1)[1].split("<", 1)[0]
    assert re.fullmatch(r"VM-20\d\d-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", reference)

    # the receipt PDF
    pdf_link = [u for u in b.links("Eingangsbestätigung als PDF")]
    assert pdf_link == [f"{receipt_url}/quittung.pdf"]
    response = await b.client.get(pdf_link[0])
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert (await response.get_data()).startswith(b"%PDF")
    assert reference in response.headers["Content-Disposition"]

    # sending again (back button, double click) → the same receipt, still one submission
    again = await b.submit(review_url, {"declaration": "ja", "csrf_token": token})
    assert again.headers["Location"] == receipt_url
    assert reference in b.text()
    await b.get(f"{base}/wer/person", expect=303)  # the draft is closed now
    assert b.response is not None and b.response.headers["Location"] == receipt_url

    rows = await _rows(app, submissions)
    assert len(rows) == 1
    row = rows[0]
    assert row.reference == reference and row.kundennummer == "123D456789"
    assert hashlib.sha256(row.canonical_json.encode()).hexdigest() == row.sha256
    assert reference not in row.canonical_json
    document = json.loads(row.canonical_json)
    assert (
        json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        == row.canonical_json
    )
    await b.get(receipt_url)
    assert row.sha256 in b.html  # the receipt shows the checksum
    answers = document["answers"]
    assert document["flow"] == "veraenderung"
    assert "_seen" not in answers
    assert answers["haushalt"] == [
        {"_id": member, "vorname": "Max", "nachname": "Mustermann", "geburtsdatum": "2010-02-01"}
    ]
    one, two = answers["aenderungen"]
    assert (one["_id"], two["_id"]) == (first, second)
    assert one["art"] == "arbeit_beginn" and one["person"] == member
    assert one["brutto"] == 130000 and one["stunden"] == 25
    assert "netto" not in one
    assert one["nachweis"]["status"] == "uploaded"
    assert one["nachweis"]["name"] == "Arbeitsvertrag.pdf"
    assert one["nachweis"]["media_type"] == "application/pdf"
    assert len(one["nachweis"]["sha256"]) == 64
    assert two == {
        "_id": second,
        "art": "bank",
        "person": "ich",
        "datum": "2027-01-01",
        "kontoinhaber": "Erika Mustermann",
        "iban": "DE89370400440532013000",
    }
    assert answers["rueckfragen"] == {"telefon": "030 1234567", "email": "erika@beispiel.de"}

    docs = await _rows(app, documents)
    assert [d.id for d in docs] == [one["nachweis"]["document_id"]]
    async with app.config["DB"].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(outbox))).scalar() == 1


async def test_concurrent_submits_through_the_web_make_one_submission(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "kontakt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    await b.submit(data={"telefon": "0151 2345678"})
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    assert b.path == f"/veraenderung/{draft_id}/_pruefen"
    token = b.token()
    body = f"csrf_token={token}&declaration=ja"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    responses = await asyncio.gather(
        *(b.client.post(b.url, data=body, headers=headers) for _ in range(3))
    )
    assert [r.status_code for r in responses] == [303] * 3
    assert len({r.headers["Location"] for r in responses}) == 1
    assert len(await _rows(app, submissions)) == 1


async def test_double_click_on_weiter_does_not_crash(app: Quart, visitor: Browser) -> None:
    """Two POSTs of the same step at once (double click, two tabs): one saves, the other
    meets a stale version and must not end on the error page."""
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    body = "&".join(f"{k}={v}" for k, v in {**PERSON, "csrf_token": b.token()}.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with saves_meet(2):
        responses = await asyncio.gather(
            *(b.client.post(b.url, data=body, headers=headers) for _ in range(2))
        )
    assert [r.status_code for r in responses] == [303, 303]
    assert {r.headers["Location"] for r in responses} == {
        f"/veraenderung/{draft_id}/haushalt/_liste"
    }
    async with app.config["DB"].connect() as conn:
        version = (await conn.execute(select(drafts.c.version))).scalar_one()
    assert version == 2


async def test_removing_a_member_asks_again_whom_a_change_concerns(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    base = f"/veraenderung/{draft_id}"
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "add"})
    member = b.path.split("/")[4]
    await b.submit(
        data={"vorname": "Max", "nachname": "Mustermann", **date_parts("geburtsdatum", 1, 2, 2010)}
    )
    await b.submit(data={"action": "weiter"})
    change = b.path.split("/")[4]
    await b.submit(data={"art": "krank"})
    await b.submit(data={"person": member, **date_parts("datum", 1, 12, 2026)})
    await b.submit(
        data={"bis": "", **date_parts("bis", 20, 12, 2026), "nachweis-later": "ja"}, files={}
    )
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    assert b.path == f"{base}/_pruefen"
    assert "Max Mustermann" in b.text()

    # Max moves out of the household list: the change must not point at him any more
    await b.get(f"{base}/haushalt/_liste")
    await b.submit(data={"action": f"remove:{member}"})
    await b.submit(data={"action": "weiter"})
    assert b.path == f"{base}/aenderungen/{change}/art"
    await b.get(f"{base}/_pruefen", expect=303)  # not complete any more
    betrifft = f"{base}/aenderungen/{change}/betrifft"
    assert b.response is not None and b.response.headers["Location"] == betrifft
    await b.get(betrifft)
    assert radio_values(b.html, "person") == ["ich"]
    assert typed(b.html, "person") is None
    assert typed(b.html, "datum-day") == "1"  # the rest of the page is kept
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 12, 2026)})
    assert b.path == f"{base}/aenderungen/{change}/krank"
    await b.get(f"{base}/_pruefen")  # complete again
    assert "Max" not in b.text()
    await b.submit(data={"declaration": "ja"})
    async with app.config["DB"].connect() as conn:
        row = (await conn.execute(select(submissions))).one()
    answers = json.loads(row.canonical_json)["answers"]
    assert "haushalt" not in answers or answers["haushalt"] == []
    assert answers["aenderungen"][0]["person"] == "ich"
    assert member not in row.canonical_json


async def test_concurrent_htmx_saves_answer_409_not_500(app: Quart, visitor: Browser) -> None:
    """The offline queue posts with HX-Request: a lost race must not look like success."""
    b = visitor
    await start_flow(b, "veraenderung")
    body = "&".join(f"{k}={v}" for k, v in {**PERSON, "csrf_token": b.token()}.items())
    headers = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"}
    with saves_meet(2):
        responses = await asyncio.gather(
            *(b.client.post(b.url, data=body, headers=headers) for _ in range(2))
        )
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    html = await conflict.get_data(as_text=True)
    assert "<html" not in html and "Das hat sich inzwischen geändert" in html
    assert "Content-Security-Policy" in conflict.headers
