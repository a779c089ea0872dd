"""htmx: the same routes answer with fragments, decided in one place (HX-Request)."""

from __future__ import annotations

from quart import Quart

from conftest import PERSON, Browser, error_summary, field_error, start_flow, title

HX = {"HX-Request": "true"}


def _vary(response: object) -> set[str]:
    header = response.headers.get("Vary", "")  # type: ignore[attr-defined]
    return {part.strip().lower() for part in header.split(",")}


async def test_htmx_post_answers_the_next_step_as_a_fragment(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    response = await b.submit(data=PERSON, headers=HX, expect=200)
    html = b.html
    assert "<html" not in html and "<main" not in html
    assert response.headers["HX-Push-Url"] == f"/veraenderung/{draft_id}/haushalt/_liste"
    assert title(html).startswith("Wer lebt noch in Ihrer Bedarfsgemeinschaft?")
    assert '<h1 id="step-title"' in html
    assert 'name="csrf_token"' in html
    assert "hx-request" in _vary(response)
    assert response.headers["Cache-Control"] == "no-store"
    # the step really was saved: a plain GET of the pushed URL shows the same step
    page = await b.client.get(response.headers["HX-Push-Url"])
    assert page.status_code == 200
    page_html = await page.get_data(as_text=True)
    assert "<html" in page_html
    assert "hx-request" in _vary(page)


async def test_invalid_htmx_post_answers_422_with_the_fragment(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    response = await b.submit(data={**PERSON, "kundennummer": "123"}, headers=HX, expect=422)
    html = b.html
    assert "<html" not in html
    assert title(html).startswith("Fehler:")
    assert error_summary(html)
    assert field_error(html, "kundennummer")
    assert 'value="123"' in html
    assert response.headers["HX-Push-Url"] == f"/veraenderung/{draft_id}/wer/person"
    assert "hx-request" in _vary(response)


async def test_htmx_get_of_a_step_is_a_fragment(app: Quart, visitor: Browser) -> None:
    b = visitor
    await start_flow(b, "veraenderung")
    url = b.url
    response = await b.client.get(url, headers=HX)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<title>" in html
    assert response.headers["HX-Push-Url"] == url
    # a history restore asks for the whole page
    restore = await b.client.get(url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in await restore.get_data(as_text=True)


async def test_htmx_list_add_answers_the_new_item_page(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    await b.submit(data=PERSON)
    response = await b.submit(data={"action": "add"}, headers=HX, expect=200)
    pushed = response.headers["HX-Push-Url"]
    assert pushed.startswith(f"/veraenderung/{draft_id}/haushalt/")
    assert pushed.endswith("/mitglied")
    assert "Angaben zur Person 1 im Haushalt" in title(b.html)


async def test_htmx_post_with_the_token_in_a_header(app: Quart, visitor: Browser) -> None:
    b = visitor
    await start_flow(b, "veraenderung")
    token = b.token()
    response = await b.submit(
        data=PERSON, headers={**HX, "X-CSRF-Token": token}, token=False, expect=200
    )
    assert response.headers["HX-Push-Url"].endswith("/haushalt/_liste")
