"""The account pages in a real browser: axe, reflow at 320 px, the header when logged in,
the whole journey by keyboard (register → demo inbox → confirm → log in → log out) and the
idle-timeout warning with its "extend" button (WCAG 2.2.1)."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import identity as idy
from e2e import journeys as j

from .checks import VARIANTS, VIEWPORTS, Audit

PASSWORD = "Ein langes Passwort 2026"
ROUTES = ["/anmelden", "/registrieren", "/passwort-vergessen", "/abmelden"]


def _ids(value: Any) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def _type(page: Any, selector: str, text: str) -> None:
    j.tab_to(page, selector)
    page.keyboard.type(text)


ACTIVE_TEXT_JS = "() => (document.activeElement.textContent || '').trim()"


def _press_button(page: Any, name: str) -> None:
    """Tab to the link or button named ``name`` and press Enter (keyboard only)."""
    for _ in range(60):
        if page.evaluate(ACTIVE_TEXT_JS) == name:
            page.keyboard.press("Enter")
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{name!r} not reached by Tab")


def _register_and_confirm(page: Any, audit: Audit | None = None) -> str:
    """Register a fresh address by keyboard and confirm it through the demo inbox."""
    address = f"a11y-{secrets.token_hex(4)}@example.org"
    page.goto("/registrieren")
    _type(page, "#f-email", address)
    _type(page, "#f-passwort", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Wir haben Ihnen eine E-Mail geschickt")
    if audit:
        audit.page(page, "/registrieren/gesendet")
    # the catcher stores the mail a moment after the page said "sent"
    page.wait_for_function(idy.MAIL_ARRIVED_JS, arg=[address, 1], polling=250)
    _press_button(page, "Test-Postfach öffnen")
    mail = page.locator("main a", has_text="Bitte bestätigen Sie Ihre E-Mail-Adresse")
    expect(mail.first).to_be_visible()
    page.locator("li", has_text=address).locator("a").first.click()
    link = page.locator(".mail-text a")
    expect(link).to_have_count(1)
    page.goto(link.get_attribute("href"))
    expect(page.locator("h1")).to_have_text("E-Mail-Adresse bestätigen")
    if audit:
        audit.page(page, "/registrieren/bestaetigen/…")
    _press_button(page, "E-Mail-Adresse bestätigen")
    expect(page.locator(".notice--success")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
    return address


def _log_in(page: Any, address: str) -> None:
    if not page.url.split("?")[0].endswith("/anmelden"):
        page.goto("/anmelden")
    _type(page, "#f-email", address)
    _type(page, "#f-passwort", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/anmelden" not in url)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_account_pages(page: Any, audit: Audit, lang: str) -> None:
    audit.group = 500
    for route in ROUTES:
        page.goto(f"{route}?lang={lang}")
        audit.page(page, route)
    # the error state: sent empty, then a wrong password (same message for any address)
    page.goto(f"/anmelden?lang={lang}")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    audit.page(page, "/anmelden", "Fehlerzustand (leer abgeschickt)")
    page.goto(f"/registrieren?lang={lang}")
    page.locator("#f-email").fill("erika@")
    page.locator("#f-passwort").fill("kurz")
    page.locator("main button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_focused()
    audit.page(page, "/registrieren", "Fehlerzustand")
    audit.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
def test_journey_by_keyboard(page: Any, audit: Audit, viewport: tuple[int, int]) -> None:
    audit.group = 501
    page.goto("/")
    _press_button(page, "Anmelden")
    expect(page).to_have_url(re.compile(r"/anmelden$"))
    address = _register_and_confirm(page, audit)
    _log_in(page, address)
    page.goto("/")
    header = page.locator(".account-nav")
    expect(header.get_by_role("link", name="Mein Konto")).to_be_visible()
    expect(header.get_by_role("button", name="Abmelden")).to_be_visible()
    audit.page(page, "/", "angemeldet (Kopfzeile)")
    # the skip link stays the first Tab stop
    page.keyboard.press("Tab")
    problems = []
    if not page.evaluate("() => document.activeElement.matches('a.skip-link')"):
        problems.append("the skip link is not the first Tab stop when logged in")
    audit.result(page, "/", "angemeldet", "skip link", problems)
    j.tab_to(page, ".account-nav button")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Sie sind abgemeldet")
    expect(page.locator(".account-nav").get_by_role("link", name="Anmelden")).to_be_visible()
    audit.page(page, "/abmelden", "abgemeldet")
    audit.assert_clean()


@pytest.mark.parametrize("viewport", [(320, 640)], ids=_ids)
def test_idle_warning_and_extend(page: Any, audit: Audit) -> None:
    audit.group = 502
    address = _register_and_confirm(page)
    _log_in(page, address)
    page.clock.install()
    page.goto("/antraege")
    page.locator("main h1").focus()
    warning = page.locator("#session-warning")
    expect(warning).to_be_hidden()
    page.clock.fast_forward("27:01")  # 30 minutes idle, warned 3 minutes before
    expect(warning).to_be_visible()
    expect(warning).to_be_focused()
    expect(warning).to_have_attribute("role", "alert")
    expect(warning).to_contain_text("in etwa 2 Minuten")
    audit.page(page, "/antraege", "Warnung: Sitzung endet bald")
    page.keyboard.press("Tab")
    expect(warning.get_by_role("button", name="Sitzung verlängern")).to_be_focused()
    with page.expect_response("**/sitzung/verlaengern") as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 204
    expect(warning).to_be_hidden()
    expect(page.locator("#live")).to_have_text("Ihre Sitzung wurde verlängert.")
    expect(page.locator("main h1")).to_be_focused()  # back where the user was

    # no answer this time: the session ends, and the page says so with a way back
    page.clock.fast_forward("30:01")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("zu Ihrer Sicherheit beendet")
    login = warning.get_by_role("link", name="Wieder anmelden")
    expect(login).to_have_attribute("href", "/anmelden?abgelaufen=1&weiter=%2Fantraege")
    audit.page(page, "/antraege", "Sitzung beendet")
    audit.assert_clean()
