"""The eID journey in Chromium with the local test IdP (docs/decisions/0008-eid-saml.md).

With JavaScript, js/saml-post.js sends the IdP's answer on by itself (under the strict CSP);
without JavaScript the visible "Weiter" button does it. Both end with the level raised.
The demo account of Erika Mustermann matches the test IdP's person Erika Mustermann.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

EMAIL = "erika.mustermann@example.org"
PASSWORD = "Mustermann-Demo-2026"


def _log_in(page: Any) -> None:
    page.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(EMAIL)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Mein Konto")).to_be_visible()


def _to_idp(page: Any, person: str, fault: str) -> None:
    page.goto("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    page.get_by_role("button", name="Mit dem Online-Ausweis ausweisen").click()
    expect(page).to_have_url(re.compile(r"/test-idp/sso\?SAMLRequest="))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Test-Anmeldung mit dem Online-Ausweis"
    )
    page.get_by_label(person).check()
    page.get_by_label(fault).check()
    page.get_by_role("main").get_by_role("button", name="Weiter").click()


def _has_eid_hoch(page: Any) -> None:
    """/konto/stufe sends straight on once the session has the level."""
    page.goto("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    expect(page).to_have_url(re.compile(r"/konto$"))


def test_eid_with_javascript_posts_the_answer_by_itself(new_context: Callable[..., Any]) -> None:
    page = new_context().new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    _log_in(page)
    _to_idp(page, "Erika Mustermann, 1964-08-12", "Kein Fehler: gültige Antwort")
    # no click on the response page: saml-post.js submits it, the ACS and /eid/fertig follow
    expect(page).to_have_url(re.compile(r"/konto$"))
    _has_eid_hoch(page)
    assert not problems, problems


def test_eid_without_javascript_uses_the_button(new_context: Callable[..., Any]) -> None:
    page = new_context(java_script_enabled=False).new_page()
    _log_in(page)
    _to_idp(page, "Erika Mustermann, 1964-08-12", "Abbruch durch die Person")
    expect(page.get_by_role("heading", level=1)).to_have_text("Weiter zum Dienst")
    page.get_by_role("main").get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sie haben die Anmeldung mit dem Online-Ausweis abgebrochen"
    )
    page.get_by_role("link", name="Noch einmal versuchen").click()
    expect(page).to_have_url(re.compile(r"/konto/stufe\?stufe=eid_hoch"))
    _to_idp(page, "Erika Mustermann, 1964-08-12", "Kein Fehler: gültige Antwort")
    page.get_by_role("main").get_by_role("button", name="Weiter").click()
    expect(page).to_have_url(re.compile(r"/konto$"))
    _has_eid_hoch(page)
