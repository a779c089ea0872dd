"""Meine Anträge: open drafts with a resume link, deleting a draft, sent items."""

from __future__ import annotations

from quart import Quart

from conftest import Browser, date_parts, person_step, start_flow


async def test_open_draft_is_listed_and_resumes_at_first_unfinished_step(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    await b.get("/antraege")
    assert "Sie haben keine angefangenen Entwürfe." in b.text()

    draft_id = await start_flow(b, "veraenderung")
    base = f"/veraenderung/{draft_id}"
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "umzug"})
    assert b.path.endswith("/betrifft")
    unfinished = b.path

    await b.get("/antraege")
    assert "Veränderung mitteilen" in b.text()
    resume = b.links("Weiter ausfüllen")
    assert resume == [unfinished]
    assert resume[0].startswith(base)
    await b.get(resume[0])
    assert b.path == unfinished
    assert "Wen betrifft die Änderung?" in b.title

    # skipping ahead is refused: a later step sends you back to the first open one
    await b.get(f"{base}/rueckfragen/kontakt", expect=303)
    assert b.response is not None and b.response.headers["Location"] == unfinished
    await b.get(f"{base}/_pruefen", expect=303)
    assert b.response is not None and b.response.headers["Location"] == unfinished
    await b.get(unfinished)
    await b.submit(f"{base}/rueckfragen/kontakt", {"telefon": "0151 2345678"}, follow=False)
    assert b.response is not None and b.response.headers["Location"] == unfinished
    await b.get(f"{base}/gibt/es/nicht", expect=404)

    # the service's start page points to the draft too
    await b.get("/veraenderung")
    assert "Angefangene Entwürfe" in b.text()


async def test_delete_draft(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "ortsabwesenheit")
    await b.get("/antraege")
    await b.submit(f"/antraege/{draft_id}/loeschen", {})
    assert b.url == "/antraege?geloescht=1"
    assert "Der Entwurf wurde gelöscht." in b.text()
    assert "Sie haben keine angefangenen Entwürfe." in b.text()
    await b.get(f"/ortsabwesenheit/{draft_id}/wer/person", expect=404)


async def test_another_session_cannot_delete_or_see_a_draft(app: Quart) -> None:
    owner, other = Browser(app), Browser(app)
    draft_id = await start_flow(owner, "veraenderung")
    await start_flow(other, "veraenderung")  # the other one has a draft of their own
    await other.get("/veraenderung")
    await other.submit(f"/antraege/{draft_id}/loeschen", {})
    assert other.url == "/antraege"
    assert "gelöscht" not in other.text()
    assert draft_id not in other.html

    await owner.get("/antraege")
    assert len(owner.links("Weiter ausfüllen")) == 1
    await owner.get(f"/veraenderung/{draft_id}/wer/person")


async def test_deleting_without_a_session_changes_nothing(app: Quart, visitor: Browser) -> None:
    owner = visitor
    draft_id = await start_flow(owner, "veraenderung")
    stranger = Browser(app)
    await stranger.get("/veraenderung")  # a form with a token, but no draft ever started
    await stranger.submit(f"/antraege/{draft_id}/loeschen", {"csrf_token": stranger.token()})
    await owner.get(f"/veraenderung/{draft_id}/wer/person")


async def test_sent_items_link_to_their_receipt(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "kontakt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    await b.submit(data={"email": "erika@beispiel.de"})
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    await b.submit(data={"declaration": "ja"})
    receipt = b.path
    await b.get("/antraege")
    assert "Sie haben keine angefangenen Entwürfe." in b.text()
    assert b.links("Eingangsbestätigung ansehen") == [receipt]
    assert draft_id not in b.html
