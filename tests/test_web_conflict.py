"""Two tabs or devices edit the same step: the later, older form gets a choice (409)."""

from __future__ import annotations

import re

from quart import Quart

from conftest import Browser, date_parts, start_flow

PERSON = {
    "kundennummer": "123D456789",
    "vorname": "Erika",
    "nachname": "Mustermann",
    **date_parts("geburtsdatum", 12, 8, 1964),
}


async def test_stale_form_with_other_values_shows_both_versions(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    step = f"/veraenderung/{draft_id}/wer/person"
    await b.submit(step, PERSON)
    await b.get(step)  # tab A opens the saved step: it renders the current version
    stale_version = re.search(r'name="version" value="(\d+)"', b.html).group(1)
    # tab B (same session) saves another name in the meantime
    await b.submit(step, {**PERSON, "vorname": "Erik"})
    # tab A sends its older form: nothing is overwritten, both versions are shown
    await b.submit(step, {**PERSON, "vorname": "Erika-Maria", "version": stale_version}, expect=409)
    assert "Auf diesem Gerät:" in b.text() and "Erika-Maria" in b.text()
    assert "Gespeichert:" in b.text() and "Erik" in b.text()
    assert f'data-discard-device="{draft_id}/wer/person"' in b.html
    # choosing the device's values saves them with the current version
    await b.submit(
        step, dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', b.html))
    )
    await b.get(step)
    assert 'value="Erika-Maria"' in b.html


async def test_stale_form_with_same_values_is_no_conflict(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    step = f"/veraenderung/{draft_id}/wer/person"
    await b.submit(step, PERSON)
    await b.submit(step, {**PERSON, "version": "1"})  # an old queue entry with the same data


async def test_stale_half_typed_form_still_shows_both_versions(
    app: Quart, visitor: Browser
) -> None:
    """An offline device sends what was typed so far: not valid, but not to be dropped."""
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    step = f"/veraenderung/{draft_id}/wer/person"
    await b.submit(step, PERSON)
    await b.submit(step, {**PERSON, "vorname": "Erik"})
    await b.submit(step, {**PERSON, "kundennummer": "123D45", "version": "1"}, expect=409)
    assert "123D45" in b.text() and "123D456789" in b.text()
    # using the device's (invalid) values leads to the ordinary error page, nothing saved
    await b.submit(
        step,
        dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', b.html)),
        expect=422,
    )
    assert "Fehler:" in b.title
