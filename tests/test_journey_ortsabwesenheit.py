"""Ortsabwesenheit beantragen, end to end without JavaScript, and the days panel."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

from quart import Quart
from sqlalchemy import select

from app.db.tables import submissions
from conftest import Browser, assert_rejected, date_parts, person_step, start_flow, typed

#: Always in the future and inside the year range the date field accepts.
YEAR = date.today().year + 1


def _period(von: date, bis: date) -> dict[str, str]:
    return {
        **date_parts("von", von.day, von.month, von.year),
        **date_parts("bis", bis.day, bis.month, bis.year),
    }


async def _absence(b: Browser, von: date, bis: date, *, kundennummer: str = "123D456789") -> str:
    """A quick, valid absence up to the review; returns the draft's base URL."""
    draft_id = await start_flow(b, "ortsabwesenheit")
    await person_step(b, kundennummer, check_errors=False)
    await b.submit(data=_period(von, bis))
    await b.submit(data={"ziel": "inland", "ort": "Hamburg"})
    assert b.path.endswith("/grund/art")
    return f"/ortsabwesenheit/{draft_id}"


async def _finish(b: Browser, grund: str = "ohne") -> str:
    await b.submit(data={"grund": grund})
    await b.submit(data={"telefon": "0151 2345678"})
    assert b.path.endswith("/_pruefen")
    await b.submit(data={"declaration": "ja"})
    assert b.path.startswith("/ortsabwesenheit/eingang/")
    return b.path


def _panel(b: Browser) -> str:
    html = b.html.split('<div class="info-panel', 1)[1].split("</div>", 1)[0]
    return " ".join(html.split())


async def test_ortsabwesenheit_end_to_end(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "ortsabwesenheit")
    base = f"/ortsabwesenheit/{draft_id}"
    await person_step(b)

    # -- period: empty, in the past, the wrong way round -----------------------------------
    assert b.path == f"{base}/zeitraum/daten"
    await b.submit(data={}, expect=422)
    assert_rejected(b, {"von": "Bitte geben Sie ein Datum ein", "bis": "Datum ein"})
    past = date(2020, 1, 6)
    await b.submit(data=_period(past, date(YEAR, 3, 11)), expect=422)
    assert_rejected(
        b,
        {"von": "Das Datum muss in der Zukunft liegen."},
        kept={
            "von-day": "6",
            "von-month": "1",
            "von-year": "2020",
            "bis-day": "11",
            "bis-month": "3",
            "bis-year": str(YEAR),
        },
    )
    assert b.field_error("bis") is None
    await b.submit(data=_period(date(YEAR, 3, 10), date(YEAR, 3, 5)), expect=422)
    assert_rejected(
        b,
        {"bis": "Der letzte Tag darf nicht vor dem ersten Tag liegen."},
        kept={"von-day": "10", "bis-day": "5"},
    )
    await b.submit(data=_period(date(YEAR, 3, 2), date(YEAR, 3, 11)))

    # -- destination: abroad ---------------------------------------------------------------
    assert b.path == f"{base}/zeitraum/ziel"
    await b.submit(data={"ort": "Krakau"}, expect=422)
    assert_rejected(b, {"ziel": "Bitte wählen Sie eine Antwort aus."}, kept={"ort": "Krakau"})
    await b.submit(data={"ziel": "ausland", "ort": "Krakau"})
    assert b.path == f"{base}/zeitraum/land"
    await b.submit(data={"land": "   "}, expect=422)
    assert_rejected(b, {"land": "Bitte füllen Sie dieses Feld aus."})
    await b.submit(data={"land": "Polen"})

    # -- reason, with the days panel -------------------------------------------------------
    assert b.path == f"{base}/grund/art"
    panel = _panel(b)
    assert f"Ihre Tage im Jahr {YEAR}" in panel
    assert "Diesmal beantragen Sie 10 Kalendertage." in panel
    assert "Schon beantragt in diesem Jahr: 0 Kalendertage." in panel
    assert "Achtung" not in panel and "notice--warning" not in b.html
    await b.submit(data={"grund": "urlaub"}, expect=422)
    assert_rejected(b, {"grund": "Bitte wählen Sie eine Antwort aus."})
    assert "Diesmal beantragen Sie 10 Kalendertage." in _panel(b)  # the panel stays
    await b.submit(data={"grund": "wichtig"})

    assert b.path == f"{base}/grund/wichtig"
    await b.submit(data={"erlaeuterung": "Vorstellungsgespräch bei der Firma „Nowak“"}, expect=422)
    assert_rejected(
        b,
        {"wichtiger_grund": "Bitte wählen Sie eine Antwort aus."},
        kept={"erlaeuterung": "Vorstellungsgespräch bei der Firma „Nowak“"},
    )
    await b.submit(
        data={
            "wichtiger_grund": "bewerbung",
            "erlaeuterung": "Vorstellungsgespräch bei der Firma „Nowak“",
            "nachweis-later": "ja",
        },
        files={},
    )

    # -- reachability: at least one way -----------------------------------------------------
    assert b.path == f"{base}/erreichbarkeit/kontakt"
    await b.submit(data={"telefon": "", "email": "", "anschrift": ""}, expect=422)
    assert_rejected(b, {"telefon": "mindestens eine Möglichkeit"})
    await b.submit(data={"telefon": "", "email": "nowak@", "anschrift": "ul. Długa 1"}, expect=422)
    assert_rejected(
        b, {"email": "E-Mail-Adresse"}, kept={"email": "nowak@", "anschrift": "ul. Długa 1"}
    )
    await b.submit(data={"telefon": "+48 123 456 789", "email": "", "anschrift": ""})

    # -- review, change link, declaration, submit ------------------------------------------
    assert b.path == f"{base}/_pruefen"
    review = b.text()
    for shown in (
        "123D456789",
        f"2. März {YEAR}",
        f"11. März {YEAR}",
        "Ins Ausland",
        "Krakau",
        "Polen",
        "Mit wichtigem Grund",
        "Vorstellungsgespräch oder Bewerbung",
        "Reiche ich später nach",
        "+48 123 456 789",
    ):
        assert shown in review, shown
    change = [u for u in b.links("Ändern") if u.endswith("/zeitraum/land?pruefen=1")]
    assert change == [f"{base}/zeitraum/land?pruefen=1"]
    await b.get(change[0])
    assert typed(b.html, "land") == "Polen"
    await b.submit(data={"land": "Tschechien"})
    assert b.path == f"{base}/_pruefen"
    assert "Tschechien" in b.text() and "Polen" not in b.text()

    review_url, token = b.url, b.token()
    await b.submit(data={}, expect=422)
    assert b.title.startswith("Fehler:") and "Bitte bestätigen Sie" in b.text()
    await b.submit(data={"declaration": "ja"})
    receipt = b.path
    reference = b.html.split('class="reference">', 1)[1].split("<", 1)[0]
    assert reference.startswith("OA-")

    response = await b.client.get(f"{receipt}/quittung.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (await response.get_data()).startswith(b"%PDF")

    again = await b.submit(review_url, {"declaration": "ja", "csrf_token": token})
    assert again.headers["Location"] == receipt
    async with app.config["DB"].connect() as conn:
        rows = (await conn.execute(select(submissions))).all()
    assert len(rows) == 1
    assert hashlib.sha256(rows[0].canonical_json.encode()).hexdigest() == rows[0].sha256
    answers = json.loads(rows[0].canonical_json)["answers"]
    assert answers["zeitraum"] == {
        "von": f"{YEAR}-03-02",
        "bis": f"{YEAR}-03-11",
        "ziel": "ausland",
        "ort": "Krakau",
        "land": "Tschechien",
    }
    assert answers["grund"] == {
        "grund": "wichtig",
        "wichtiger_grund": "bewerbung",
        "erlaeuterung": "Vorstellungsgespräch bei der Firma „Nowak“",
        "nachweis": {"status": "later"},
    }
    assert answers["erreichbarkeit"] == {"telefon": "+48 123 456 789"}


async def test_changing_to_inland_drops_the_country(app: Quart, visitor: Browser) -> None:
    b = visitor
    base = await _absence(b, date(YEAR, 6, 1), date(YEAR, 6, 3))
    await b.get(f"{base}/zeitraum/ziel")
    await b.submit(data={"ziel": "ausland", "ort": "Prag"})
    await b.submit(data={"land": "Tschechien"})
    await b.submit(data={"grund": "ohne"})
    await b.submit(data={"email": "erika@beispiel.de"})
    await b.get(f"{base}/zeitraum/ziel?pruefen=1")
    await b.submit(data={"ziel": "inland", "ort": "Hamburg"})
    assert b.path == f"{base}/_pruefen"
    assert "Tschechien" not in b.text() and "Hamburg" in b.text()
    await b.submit(data={"declaration": "ja"})
    async with app.config["DB"].connect() as conn:
        row = (await conn.execute(select(submissions))).one()
    assert "land" not in json.loads(row.canonical_json)["answers"]["zeitraum"]


async def test_days_already_requested_this_year_and_warning(visitor: Browser) -> None:
    b = visitor
    await _absence(b, date(YEAR, 3, 2), date(YEAR, 3, 11))  # 10 days
    assert "Schon beantragt in diesem Jahr: 0 Kalendertage." in _panel(b)
    await _finish(b)

    # another customer's absences do not count
    await _absence(b, date(YEAR, 4, 1), date(YEAR, 4, 1), kundennummer="999X999999")
    assert "Diesmal beantragen Sie 1 Kalendertag." in _panel(b)
    assert "Schon beantragt in diesem Jahr: 0 Kalendertage." in _panel(b)

    # the same customer, 15 more days: 25 > 21 → warning
    await _absence(b, date(YEAR, 5, 4), date(YEAR, 5, 18))
    panel = _panel(b)
    assert "Diesmal beantragen Sie 15 Kalendertage." in panel
    assert "Schon beantragt in diesem Jahr: 10 Kalendertage." in panel
    assert "notice--warning" in b.html
    assert "Achtung: Zusammen sind das mehr als 21 Tage." in panel
    await _finish(b)

    # an absence in the following year starts from zero
    await _absence(b, date(YEAR + 1, 1, 5), date(YEAR + 1, 1, 6))
    panel = _panel(b)
    assert f"Ihre Tage im Jahr {YEAR + 1}" in panel
    assert "Schon beantragt in diesem Jahr: 0 Kalendertage." in panel


async def test_warning_only_above_21_days(visitor: Browser) -> None:
    b = visitor
    start = date(YEAR, 7, 1)
    await _absence(b, start, start + timedelta(days=20))  # 21 days
    assert "Diesmal beantragen Sie 21 Kalendertage." in _panel(b)
    assert "Achtung" not in _panel(b)
    await _absence(b, start, start + timedelta(days=21))  # 22 days
    assert "Diesmal beantragen Sie 22 Kalendertage." in _panel(b)
    assert "Achtung: Zusammen sind das mehr als 21 Tage." in _panel(b)


async def test_more_than_a_year_at_once_is_refused(visitor: Browser) -> None:
    b = visitor
    await start_flow(b, "ortsabwesenheit")
    await person_step(b, check_errors=False)
    await b.submit(data=_period(date(YEAR, 1, 2), date(YEAR + 2, 1, 3)), expect=422)
    assert_rejected(b, {"bis": "höchstens ein Jahr"})
