"""End to end in Chromium with JavaScript: both journeys by keyboard, errors, back, reload.

ACCESSIBILITY.md asks: after every htmx swap focus is on the new h1 (or on the error
summary after a failed submit), the page title is announced in ``#live``, real URLs
are pushed, and the journey works without a full page load.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import journeys as j

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "screenshots" / "step-320.png"
PHONE = (320, 640)
MARKER = "e2e-no-reload"


def _set_marker(page: Any) -> None:
    page.evaluate(f"() => {{ window.__marker = {MARKER!r}; }}")


def _assert_no_reload(page: Any, where: str) -> None:
    assert page.evaluate("() => window.__marker") == MARKER, (
        f"{where}: the page was reloaded (window.__marker lost): expected an htmx swap"
    )


def _path(page: Any) -> str:
    return page.evaluate("() => location.pathname")


def _assert_arrived(page: Any, title: str, heading: str, where: str) -> None:
    """Focus on the new h1, its title announced in #live, no reload."""
    h1 = page.locator(heading)
    expect(h1, f"{where}: h1").to_have_text(title)
    expect(h1, f"{where}: focus must move to the new h1").to_be_focused()
    expect(page.locator("#live"), f"{where}: #live must announce the new page").to_contain_text(
        title
    )
    _assert_no_reload(page, where)


@pytest.mark.parametrize("viewport", [PHONE])
@pytest.mark.parametrize("slug", sorted(j.JOURNEYS))
def test_keyboard_only_journey(page: Any, slug: str) -> None:
    journey = j.JOURNEYS[slug]
    page.goto("/")
    _set_marker(page)

    # start page → service page (a boosted link)
    j.tab_to(page, f"main a[href='/{slug}']")
    page.keyboard.press("Enter")
    j.wait_for_path(page, rf"^/{slug}$")
    _assert_arrived(page, journey.service_title, "main h1", f"/{slug}")

    # "Jetzt starten" → first step
    j.tab_to(page, j.start_selector(journey))
    history = page.evaluate("() => history.length")
    page.keyboard.press("Enter")
    j.wait_for_step(page, journey, journey.steps[0])

    for index, step in enumerate(journey.steps):
        where = f"{slug} step {index + 1} {step.label}"
        _assert_arrived(page, step.title, "#step-title", where)
        assert page.evaluate("() => history.length") > history, f"{where}: URL was not pushed"
        history = page.evaluate("() => history.length")
        before = _path(page)

        j.type_in(page, step.fills)
        if index == 0:
            # Shift+Tab goes back through the form with what was typed still there
            j.tab_to(page, "#f-vorname", backwards=True)
            assert page.locator("#f-vorname").input_value() == "Erika"
        j.submit_by_keyboard(page, step)
        j.wait_after(page, journey, index)
        assert _path(page) != before, f"{where}: the URL did not change"

    # the receipt
    where = f"{slug} receipt"
    assert re.search(journey.receipt_url_regex, _path(page))
    _assert_arrived(page, journey.receipt_title, "main h1", where)
    reference = page.locator("main .reference")
    expect(reference).to_have_text(re.compile(journey.reference_regex))

    j.tab_to(page, "main a[href$='quittung.pdf']")
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF"), f"{where}: the download is not a PDF: {data[:20]!r}"
    assert download.suggested_filename == f"{reference.inner_text().strip()}.pdf"


@pytest.mark.parametrize("viewport", [PHONE])
def test_invalid_input_focuses_error_summary_and_keeps_values(page: Any) -> None:
    journey = j.VERAENDERUNG
    j.start(page, journey)
    _set_marker(page)
    step = journey.steps[0]
    url = page.url

    j.type_in(page, [j.Text("kundennummer", "123"), j.Text("vorname", "Erika")])
    with page.expect_response(lambda r: r.request.method == "POST") as response_info:
        j.submit_by_keyboard(page, step)
    assert response_info.value.status == 422

    summary = page.locator(".error-summary")
    expect(summary, "the error summary must get focus").to_be_focused()
    expect(summary.locator("a[href='#f-kundennummer']")).to_be_visible()
    expect(summary.locator("a[href='#f-geburtsdatum-day']")).to_be_visible()
    expect(page.locator("#f-kundennummer")).to_have_value("123")
    expect(page.locator("#f-vorname")).to_have_value("Erika")
    expect(page.locator("#f-kundennummer")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-kundennummer-error")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fehler: "))
    expect(page.locator("#step-title")).to_have_text(step.title)
    assert page.url == url
    _assert_no_reload(page, "error state")

    # correct it by keyboard and go on
    j.type_in(page, step.fills)
    j.submit_by_keyboard(page, step)
    j.wait_for_step(page, journey, journey.steps[1])
    expect(page.locator("#step-title")).to_be_focused()
    _assert_no_reload(page, "after correcting")


def test_back_button_and_reload_keep_the_data(page: Any) -> None:
    journey = j.VERAENDERUNG
    person, liste, mitglied = journey.steps[0], journey.steps[1], journey.steps[2]
    j.start(page, journey)
    j.complete_step(page, journey, 0)  # → haushalt/_liste

    # the browser's back button: the previous step with its saved values
    page.go_back()
    j.wait_for_step(page, journey, person)
    expect(page.locator("#step-title")).to_have_text(person.title)
    assert j.step_values(page, person.fills) == j.expected_values(person.fills)
    page.go_forward()
    j.wait_for_step(page, journey, liste)
    expect(page.locator("#step-title")).to_have_text(liste.title)

    # add a household member, then reload mid-flow
    j.complete_step(page, journey, 1)  # add → mitglied
    j.fill(page, mitglied.fills)
    j.submit(page, mitglied)
    j.wait_for_step(page, journey, journey.steps[3])
    page.reload()
    j.wait_for_step(page, journey, journey.steps[3])
    expect(page.locator("#step-title")).to_have_text(liste.title)
    expect(page.locator("main .item-list")).to_contain_text("Max")

    # the "Zurück" link: the member's step with its values
    page.locator("main a.back-link").click()
    j.wait_for_step(page, journey, mitglied)
    assert j.step_values(page, mitglied.fills) == j.expected_values(mitglied.fills)
    page.reload()
    j.wait_for_step(page, journey, mitglied)
    assert j.step_values(page, mitglied.fills) == j.expected_values(mitglied.fills)


@pytest.mark.parametrize("slug", sorted(j.JOURNEYS))
def test_journey_without_javascript(new_context: Any, slug: str) -> None:
    """htmx only enhances: every form is a real POST answered with 303."""
    journey = j.JOURNEYS[slug]
    page = new_context(java_script_enabled=False).new_page()
    j.start(page, journey, js=False)
    for index in range(len(journey.steps)):
        j.complete_step(page, journey, index, js=False)
    expect(page.locator("main .reference")).to_have_text(re.compile(journey.reference_regex))


@pytest.mark.parametrize("viewport", [PHONE])
def test_screenshot_of_a_form_step_at_320(page: Any) -> None:
    """docs/screenshots/step-320.png, shown in the README (refreshed on every run)."""
    journey = j.VERAENDERUNG
    j.start(page, journey)
    j.complete_step(page, journey, 0)
    j.complete_step(page, journey, 1)  # the household member's step: a short form
    j.fill(page, journey.steps[2].fills[:1])
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate("() => window.scrollTo(0, 0)")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False, animations="disabled", caret="hide")
    assert SCREENSHOT.read_bytes().startswith(b"\x89PNG")
