"""SECURITY.md negative test 10: another person's draft, submission or decision by id → 404.

Two citizens with accounts (Erika and Leon). Whatever id Erika's objects have, Leon gets
the same answer as for an id that does not exist, and nothing of Erika's changes. Upload
files have no download route (documents are only ever sent to the Jobcenter), so there
is no document URL to try; messages and bookings do not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from identity_helpers import make_account, sign_in
from konto_helpers import LEON, add_customer, add_decision
from quart import Quart

from app.db import accounts as account_repo
from app.db import drafts as draft_repo
from conftest import Browser, date_parts, person_step, start_flow


@dataclass
class People:
    erika: Browser
    leon: Browser
    erika_account: account_repo.Account


@pytest.fixture
async def people(app: Quart) -> People:
    """Erika and Leon, both logged in at level pin_brief with their own Kundennummer."""
    await add_customer(app)
    await add_customer(app, "034D998877", LEON, bg_nummer="67890BG0098765")
    erika_account = await make_account(
        app, "erika@example.org", level="pin_brief", kundennummer="022D267673"
    )
    leon_account = await make_account(
        app, "leon@example.org", level="pin_brief", kundennummer="034D998877"
    )
    erika, leon = Browser(app), Browser(app)
    await sign_in(erika, erika_account)
    await sign_in(leon, leon_account)
    return People(erika, leon, erika_account)


async def refused(b: Browser, url: str) -> None:
    """Leon asks for ``url``: 404, and the page shows nothing of the object."""
    await b.get(url, expect=404)
    assert "Erika" not in b.html and "022D267673" not in b.html


async def test_another_persons_draft(app: Quart, people: People) -> None:
    erika, leon = people.erika, people.leon
    draft_id = await start_flow(erika, "veraenderung")
    await person_step(erika, "022D267673", check_errors=False)
    await leon.get("/antraege")

    await refused(leon, f"/veraenderung/{draft_id}/wer/person")
    await refused(leon, f"/veraenderung/{draft_id}/_pruefen")
    await refused(leon, f"/ortsabwesenheit/{draft_id}/wer/person")
    # writing to it is refused the same way
    await leon.submit(
        f"/veraenderung/{draft_id}/wer/person",
        {"kundennummer": "034D998877", "vorname": "Leon", "nachname": "Beispiel"},
        expect=404,
    )
    # deleting it does nothing and says nothing
    await leon.get("/antraege")
    await leon.submit(f"/antraege/{draft_id}/loeschen", {})
    assert leon.url == "/antraege" and "gelöscht" not in leon.text()
    assert draft_id not in leon.html

    draft = await draft_repo.get(app.config["DB"], draft_id, people.erika_account.owner_key)
    assert draft is not None and draft.answers["wer"]["kundennummer"] == "022D267673"
    assert draft.answers["wer"]["vorname"] == "Erika"
    await erika.get("/antraege")
    assert len(erika.links("Weiter ausfüllen")) == 1


async def test_another_persons_submission(app: Quart, people: People) -> None:
    erika, leon = people.erika, people.leon
    year = date.today().year + 1
    await start_flow(erika, "ortsabwesenheit")
    await person_step(erika, "022D267673", check_errors=False)
    await erika.submit(data={**date_parts("von", 2, 3, year), **date_parts("bis", 6, 3, year)})
    await erika.submit(data={"ziel": "inland", "ort": "Hamburg"})
    await erika.submit(data={"grund": "ohne"})
    await erika.submit(data={"telefon": "0151 2345678"})
    await erika.submit(data={"declaration": "ja"})
    assert erika.path.startswith("/ortsabwesenheit/eingang/"), erika.path
    receipt = erika.path
    await erika.get(f"{receipt}/quittung.pdf")

    await refused(leon, receipt)
    await refused(leon, f"{receipt}/quittung.pdf")
    await refused(leon, receipt.replace("/ortsabwesenheit/", "/veraenderung/"))
    await leon.get("/antraege")
    assert receipt not in leon.html


async def test_another_persons_decision(app: Quart, people: People) -> None:
    erika, leon = people.erika, people.leon
    mine = await add_decision(app, "022D267673", "Bewilligungsbescheid Bürgergeld", "2026-11-02")
    await add_decision(app, "034D998877", "Bescheid für Leon", "2026-11-03")

    await erika.get(f"/konto/bescheide/{mine}.pdf")
    await refused(leon, f"/konto/bescheide/{mine}.pdf")
    await refused(leon, "/konto/bescheide/gibt-es-nicht.pdf")
    await leon.get("/konto/bescheide")
    assert mine not in leon.html and "Bewilligungsbescheid" not in leon.html
    assert "Bescheid für Leon" in leon.html

    # an account without a linked Kundennummer is sent to link one, and gets no PDF
    stranger = Browser(app)
    await sign_in(stranger, await make_account(app, "fremd@example.org"))
    await stranger.get(f"/konto/bescheide/{mine}.pdf", expect=303)
    assert stranger.response is not None
    assert stranger.response.headers["Location"].startswith("/konto/pin")
    # even with a fresh eID proof in the session: no Kundennummer, no decisions
    proven = Browser(app)
    await sign_in(proven, await make_account(app, "eid@example.org"), level="eid_hoch")
    await proven.get("/konto/bescheide", expect=303)
    await refused(proven, f"/konto/bescheide/{mine}.pdf")


@pytest.mark.parametrize(
    "path", ["/konto", "/konto/pin", "/konto/bescheide", "/konto/bescheide/abc.pdf"]
)
async def test_konto_pages_need_a_login(app: Quart, visitor: Browser, path: str) -> None:
    await visitor.get(path, expect=303)
    assert visitor.response is not None
    assert visitor.response.headers["Location"] == f"/anmelden?weiter={path}"


async def test_posting_to_konto_without_login_changes_nothing(app: Quart, visitor: Browser) -> None:
    await visitor.get("/barrierefreiheit/feedback")  # a session with a CSRF token
    token = visitor.token()
    for path in ("/konto", "/konto/pin"):
        response = await visitor.submit(
            path, {"strasse": "X", "code": "X", "csrf_token": token}, follow=False
        )
        assert response.headers["Location"].startswith("/anmelden")
