"""The account pages of a logged-in citizen (demo account Erika Mustermann), in every
language variant, on a phone and a desktop: Mein Konto, its error state, the decisions
and the PIN page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .checks import VARIANTS, VIEWPORTS, Audit

EMAIL = "erika.mustermann@example.org"
PASSWORD = "Mustermann-Demo-2026"
ROUTES = ["/konto", "/konto/bescheide", "/konto/pin"]
ERROR_STATE = "Fehlerzustand (Postleitzahl falsch, Ort leer)"


def _ids(value: Any) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    return str(value)


def log_in(page: Any) -> None:
    page.goto("/anmelden?weiter=/konto")
    page.fill("#f-email", EMAIL)
    page.fill("#f-passwort", PASSWORD)
    page.locator("main form[action='/anmelden'] button[type=submit]").click()
    page.wait_for_url("**/konto")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_account_pages(page: Any, audit: Audit, lang: str) -> None:
    log_in(page)
    for group, route in enumerate(ROUTES):
        audit.group = group
        response = page.goto(f"{route}?lang={lang}")
        if response is None or response.status != 200:
            got = response.status if response is not None else "no response"
            audit.fail(route, "", "HTTP status", f"expected 200, got {got}", page)
            continue
        audit.page(page, route)

    # the Stammdaten form sent wrong (through the browser, with htmx): the error state
    page.goto(f"/konto?lang={lang}")
    page.fill("#f-plz", "1")
    page.fill("#f-ort", "")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("main form[action='/konto'] button[type=submit]").click()
    summary = page.locator("main .error-summary")
    try:
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
    except AssertionError:
        audit.fail(
            "/konto",
            ERROR_STATE,
            "error summary",
            f"POST answered {answer.value.status}; no focused .error-summary",
            page,
        )
    else:
        audit.page(page, "/konto", ERROR_STATE)
    audit.assert_clean()
