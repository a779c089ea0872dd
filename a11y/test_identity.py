"""Every page and state of issue 4 (accounts, passkeys, eID, Online-Widerspruch) in every
language variant, on a phone and a desktop.

Pages behind the login are grouped: one login per test (variant × viewport), then several
pages. Three accounts:

* the account of ``--a11y-user`` (default: the demo account of Erika Mustermann, level
  pin_brief with decisions, no second factor): account pages, the idle warning and the whole
  Online-Widerspruch with the test IdP;
* a fresh account made once per worker through the forms (demo mode only: the mail is read
  at /dev/mail), with a passkey (Chromium's virtual authenticator) and an authenticator
  app: the second factor, the passkey and TOTP pages, the PIN form of an unlinked account;
* nobody: the pages before the login.

Covered elsewhere, not again here: /anmelden, /registrieren, /passwort-vergessen and
"abgemeldet" with the empty-submit error states, /registrieren/gesendet, the confirmation
page and the idle warning in German at 320 px (a11y/test_accounts.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from e2e import identity as idy
from e2e import journeys as j

from .checks import VARIANTS, VIEWPORTS, Audit

EMPTY = "Fehlerzustand (leer abgeschickt)"
INVALID = "Fehlerzustand (ungültige Eingabe)"
NOT_A_PDF = {"name": "bescheid.pdf", "mimeType": "application/pdf", "buffer": b"<html></html>"}


def _ids(value: Any) -> str:
    return f"{value[0]}x{value[1]}" if isinstance(value, tuple) else str(value)


def visit(
    page: Any,
    audit: Audit,
    route: str,
    state: str = "",
    *,
    status: int = 200,
    h1: str = "",
    url: str = "",
) -> bool:
    """Open ``url`` (default: ``route``), check the HTTP status, then run the checks."""
    response = page.goto(url or route)
    got = response.status if response is not None else None
    if got != status:
        audit.fail(route, state, "HTTP status", f"expected {status}, got {got}", page)
        return False
    return audit.page(page, route, state, german_h1=h1 or None)


def error_state(
    page: Any, audit: Audit, route: str, state: str, submit: str, *, h1: str = ""
) -> None:
    """Send the form with ``submit`` (as it is now), then check the error state."""
    page.locator(submit).first.click()
    summary = page.locator("main .error-summary")
    try:
        expect(summary).to_be_visible()
        expect(summary).to_be_focused()
    except AssertionError as error:
        audit.fail(route, state, "error summary", f"no focused .error-summary: {error}", page)
        return
    audit.page(page, route, state, german_h1=h1 or None)


# -- logged out ------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_logged_out_states(page: Any, audit: Audit, lang: str) -> None:
    audit.group = 600
    page.goto(f"/?lang={lang}")

    # a wrong password (an address nobody has: the same message, no account is blocked)
    page.goto("/anmelden")
    idy.fill_login(page, f"nn{uuid.uuid4().hex[:4]}@example.org", "falsches-Passwort-1")
    error_state(page, audit, "/anmelden", "Fehlerzustand (Passwort falsch)", idy.LOGIN_BUTTON)
    expect(page.locator("#f-passwort")).to_have_value("")

    visit(page, audit, "/anmelden?abgelaufen=1", "Sitzung abgelaufen", h1="Anmelden")
    visit(page, audit, "/anmelden/passkey", h1="Mit Passkey anmelden")

    # password forgotten: an invalid address, then "sent" (an unknown address: no mail)
    page.goto("/passwort-vergessen")
    page.locator("#f-email").fill("erika@")
    error_state(
        page, audit, "/passwort-vergessen", INVALID, "main form[method=post] button[type=submit]"
    )
    page.locator("#f-email").fill(f"niemand-{uuid.uuid4().hex[:8]}@example.org")
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/passwort-vergessen/gesendet"))
    audit.page(page, "/passwort-vergessen/gesendet", "gesendet")

    # links that no longer work, a broken request to the test IdP
    visit(page, audit, "/registrieren/bestaetigen/ungueltig", "Link ungültig", status=404)
    visit(page, audit, "/passwort-neu/ungueltig", "Link ungültig", status=404)
    visit(page, audit, "/test-idp/sso", "Anfrage ungültig", status=400)
    visit(page, audit, "/eid/abgebrochen?weiter=/konto", h1=CANCELLED_H1)
    audit.assert_clean()


# -- the fresh account (demo mode): second factor, passkeys, TOTP, PIN form, /dev/mail ------


@pytest.fixture(scope="session")
def fresh_account(browser: Any, base_url: str) -> Iterator[dict[str, str]]:
    """One new account per worker with a passkey and an authenticator app.

    Returns e-mail, TOTP secret and the link of a password-reset mail.
    """
    context = browser.new_context(
        base_url=idy.localhost_url(base_url), service_workers="block", locale="de-DE"
    )
    try:
        page = context.new_page()
        authenticator = idy.Authenticator.attach(context, page)
        email = idy.register_account(page)
        idy.log_in(page, (email, idy.FRESH_PASSWORD))
        idy.add_passkey(page, authenticator, email, "Testgerät")
        page.locator("main form[action='/konto/sicherheit/totp/einrichten'] button").click()
        page.wait_for_url(re.compile(r"/konto/sicherheit/totp$"))
        secret = page.locator("main figcaption .hash").inner_text().replace(" ", "")
        page.locator("#f-code").fill(pyotp.TOTP(secret).now())
        page.locator("main form[action='/konto/sicherheit/totp'] button[type=submit]").click()
        page.wait_for_url(re.compile(r"erledigt=totp-eingerichtet"))
        # a password-reset mail: its link opens "Neues Passwort festlegen" (GET changes nothing)
        page.locator("header form[action='/abmelden'] button").click()
        page.wait_for_url(re.compile(r"/abmelden"))
        page.goto("/passwort-vergessen")
        page.locator("#f-email").fill(email)
        page.locator("main form[method=post] button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/passwort-vergessen/gesendet"))
        idy.open_mail(page, email, count=2)  # after the confirmation mail
        reset = page.locator("main .mail-text a[href*='/passwort-neu/']").first.get_attribute(
            "href"
        )
        yield {"email": email, "secret": secret, "reset": urlsplit(str(reset)).path}
    finally:
        context.close()


@pytest.mark.demo_only
@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_fresh_account_states(
    new_context: Any, base_url: str, audit: Audit, lang: str, fresh_account: dict[str, str]
) -> None:
    audit.group = 610
    email = fresh_account["email"]
    context = new_context(base_url=idy.localhost_url(base_url))
    page = context.new_page()
    authenticator = idy.Authenticator.attach(context, page)
    authenticator.load(email)
    try:
        page.goto(f"/?lang={lang}")
        visit(page, audit, "/dev/mail", h1="Test-Postfach")
        page.locator("main .item-list a").first.click()
        page.wait_for_url(re.compile(r"/dev/mail/."))
        audit.page(page, "/dev/mail/…", "E-Mail")
        reset = fresh_account["reset"]
        visit(page, audit, "/passwort-neu/…", h1="Neues Passwort festlegen", url=reset)
        error_state(page, audit, "/passwort-neu/…", EMPTY, "main form button[type=submit]")

        # the password, then the second factor: a wrong code, then the passkey
        page.goto("/anmelden")
        idy.fill_login(page, email, idy.FRESH_PASSWORD)
        page.locator(idy.LOGIN_BUTTON).click()
        page.wait_for_url(re.compile(idy.SECOND_FACTOR_PATH))
        audit.page(page, idy.SECOND_FACTOR_PATH, german_h1="Anmeldung bestätigen")
        page.locator("#f-code").fill("000000")
        error_state(
            page,
            audit,
            idy.SECOND_FACTOR_PATH,
            "Fehlerzustand (Code falsch)",
            "main form[action$='/code'] button[type=submit]",
        )
        page.locator(idy.SECOND_PASSKEY_BUTTON).click()
        page.wait_for_url(re.compile(r"/konto$"))

        # an account without Kundennummer: the PIN form and its error state
        visit(page, audit, "/konto", "ohne Kundennummer", h1="Mein Konto")
        visit(page, audit, "/konto/pin", h1="Konto mit Ihrer Kundennummer verbinden")
        error_state(page, audit, "/konto/pin", EMPTY, "main form[action='/konto/pin'] button")

        # passkeys and the authenticator app
        visit(page, audit, "/konto/sicherheit", "Passkey und App", h1="Anmeldung und Sicherheit")
        rename = idy.passkey_links(page, "umbenennen")[0]
        route = "/konto/sicherheit/passkey/…/umbenennen"
        visit(page, audit, route, h1="Passkey umbenennen", url=rename)
        page.locator("#f-name").fill("")
        error_state(page, audit, route, EMPTY, "main form button")
        remove = rename.replace("/umbenennen", "/entfernen")
        visit(page, audit, "/konto/sicherheit/passkey/…/entfernen", h1=REMOVE_H1, url=remove)
        visit(page, audit, "/konto/sicherheit/totp/entfernen", h1=TOTP_REMOVE_H1)
    finally:
        authenticator.remember(email)  # the sign count grew
    audit.assert_clean()


REMOVE_H1 = "Passkey wirklich entfernen?"
TOTP_REMOVE_H1 = "Authenticator-App wirklich entfernen?"
CANCELLED_H1 = "Sie haben die Anmeldung mit dem Online-Ausweis abgebrochen"
REFUSED_H1 = "Der Nachweis mit dem Online-Ausweis wurde nicht angenommen"


# -- the account with decisions: account pages, idle warning ---------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_account_pages(
    new_context: Any, audit: Audit, lang: str, a11y_account: tuple[str, str]
) -> None:
    audit.group = 620
    page = new_context().new_page()
    idy.log_in(page, a11y_account, lang=lang)
    visit(page, audit, "/konto", h1="Mein Konto")
    page.locator("#f-plz").fill("1")
    page.locator("#f-ort").fill("")
    error_state(
        page,
        audit,
        "/konto",
        "Fehlerzustand (PLZ falsch, Ort leer)",
        "main form[action='/konto'] button",
    )
    visit(page, audit, "/konto/bescheide", h1="Meine Bescheide")
    visit(page, audit, "/konto/pin", "schon verbunden", h1="Konto mit Ihrer Kundennummer verbinden")
    visit(
        page,
        audit,
        "/konto/stufe?stufe=eid_hoch&weiter=/widerspruch",
        h1="Für diesen Dienst brauchen Sie eine höhere Sicherheitsstufe",
    )
    visit(page, audit, "/konto/sicherheit", "ohne Passkey", h1="Anmeldung und Sicherheit")

    # the authenticator app's set-up page (nothing is stored before a right code)
    page.locator("main form[action='/konto/sicherheit/totp/einrichten'] button").click()
    page.wait_for_url(re.compile(r"/konto/sicherheit/totp$"))
    audit.page(page, "/konto/sicherheit/totp", german_h1="Authenticator-App einrichten")
    page.locator("#f-code").fill("12")
    error_state(page, audit, "/konto/sicherheit/totp", INVALID, "main form button[type=submit]")
    visit(page, audit, "/abmelden", "angemeldet", h1="Abmelden")

    # the idle warning and the end of the session (the page's clock runs fast)
    page.clock.install()
    page.goto("/konto/bescheide")
    warning = page.locator("#session-warning")
    page.clock.fast_forward("27:01")  # warned 3 minutes before the 30 minutes
    try:
        expect(warning).to_be_visible()
        expect(warning).to_be_focused()
        audit.page(page, "/konto/bescheide", "Warnung: Sitzung endet bald")
        page.clock.fast_forward("03:00")
        expect(warning.locator("a[href^='/anmelden?abgelaufen=1']")).to_be_visible()
        audit.page(page, "/konto/bescheide", "Sitzung beendet")
    except AssertionError as error:
        audit.fail("/konto/bescheide", "Warnung: Sitzung endet bald", "idle warning", str(error))
    audit.assert_clean()


# -- the Online-Widerspruch: every step with its error state, the eID, the receipt -----------

W = idy.WIDERSPRUCH
OTHER = "anderer"
OTHER_TITLE = "Angaben zum Bescheid"


def _step_error(page: Any, audit: Audit, index: int, route: str, title: str) -> None:
    """The error state of step ``index`` (as a11y/test_journeys.py does it)."""
    step = W.steps[index]
    label = f"Schritt {index + 1}: "
    submit = j.submit_selector(step)
    kept = page.locator("#f-plz").input_value() if index == 0 else ""
    if index == 0:  # prefilled from the account: a wrong postcode (typed input is kept)
        page.locator("#f-plz").fill("12")
        label += INVALID
    elif step.key == "dokumente/anlagen":  # an HTML file that claims to be a PDF
        page.locator("#f-anlage_1").set_input_files(NOT_A_PDF)
        label += "Fehlerzustand (Datei kein PDF)"
    elif step.kind == "review":
        label += "Fehlerzustand (ohne Bestätigung)"
    elif step.invalid:
        j.fill(page, step.invalid)
        label += INVALID
    else:
        label += EMPTY
    error_state(page, audit, route, label, submit, h1=title)
    j.wait_for_step(page, W, step)
    if index == 0:
        page.locator("#f-plz").fill(kept)
    if step.key == "dokumente/anlagen":
        page.locator("#f-anlage_1").set_input_files([])


def _eid_round(page: Any, fault: str) -> None:
    page.locator(idy.EID_BUTTON).click()
    idy.choose_at_idp(page, "erika", fault)


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=_ids)
@pytest.mark.parametrize("lang", list(VARIANTS))
def test_objection_pages(
    new_context: Any, base_url: str, audit: Audit, lang: str, a11y_account: tuple[str, str]
) -> None:
    audit.group = 630
    with idy.passkeys_removed_afterwards(new_context, base_url, a11y_account):
        _objection_pages(new_context, base_url, audit, lang, a11y_account)
    audit.assert_clean()


def _other_decision(page: Any, audit: Audit) -> None:
    """The branch "Ein anderer Bescheid": its page and error state, then back."""
    page.locator(f"input[name=bescheid][value={OTHER}]").check()
    page.locator(j.submit_selector(W.steps[idy.DECISION_STEP])).click()
    j.wait_for_path(page, r"^/widerspruch/[^/]+/angaben/bescheid/anderer$")
    route = "/widerspruch/…/angaben/bescheid/anderer"
    audit.page(page, route, "anderer Bescheid", german_h1=OTHER_TITLE)
    submit = "main form.form button[type=submit].button--primary"
    error_state(page, audit, route, f"anderer Bescheid: {EMPTY}", submit, h1=OTHER_TITLE)
    page.locator("main a.back-link").click()
    j.wait_for_step(page, W, W.steps[idy.DECISION_STEP])


def _objection_pages(
    new_context: Any, base_url: str, audit: Audit, lang: str, account: tuple[str, str]
) -> None:
    context = new_context(base_url=idy.localhost_url(base_url))
    page = context.new_page()
    authenticator = idy.Authenticator.attach(context, page)
    idy.log_in(page, account, authenticator=authenticator, lang=lang)
    visit(page, audit, "/widerspruch", h1=W.service_title)
    page.locator(j.start_selector(W)).click()
    for index, step in enumerate(W.steps):
        j.wait_for_step(page, W, step)
        route = f"/widerspruch/…/{step.key}"
        audit.page(page, route, f"Schritt {index + 1}", german_h1=step.title)
        _step_error(page, audit, index, route, step.title)
        if index == idy.DECISION_STEP:
            _other_decision(page, audit)
        j.fill(page, idy.fills_of(page, index))
        j.submit(page, step)
    j.wait_for_path(page, idy.IDENTITY_PATH)
    identity = "/widerspruch/…/identitaet"
    audit.page(page, identity, "vor dem Online-Ausweis", german_h1=idy.IDENTITY_TITLE)

    # the test IdP; cancelled there
    page.locator(idy.EID_BUTTON).click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/test-idp/sso")
    audit.page(page, "/test-idp/sso", german_h1=idy.IDP_TITLE)
    idy.choose_at_idp(page, "erika", "abbruch")
    page.wait_for_url(re.compile(r"/eid/abgebrochen"))
    audit.page(page, "/eid/abgebrochen", german_h1=CANCELLED_H1)
    page.locator("main a[href*='/identitaet']").click()
    j.wait_for_path(page, idy.IDENTITY_PATH)

    # refused: another person's eID
    _eid_round(page, "person")
    page.wait_for_url(re.compile(r"/eid/(saml/acs|abgelehnt|fertig/)"))
    page.wait_for_function("() => document.readyState === 'complete'")
    audit.page(page, "/eid/abgelehnt", "andere Person", german_h1=REFUSED_H1)
    page.locator("main a[href*='/identitaet']").first.click()
    j.wait_for_path(page, idy.IDENTITY_PATH)

    # the IdP's answer page, which js/saml-post.js normally sends on at once
    page.route("**/saml-post*.js", lambda route: route.abort())
    _eid_round(page, "keiner")
    page.wait_for_url(re.compile(r"/test-idp/antwort"))
    audit.page(page, "/test-idp/antwort", "Weiter zum Dienst", german_h1="Weiter zum Dienst")
    page.unroute("**/saml-post*.js")
    page.locator("main form[data-saml-post] button[type=submit]").click()
    j.wait_for_path(page, idy.IDENTITY_PATH)
    expect(page.locator("main .notice--success")).to_be_visible()

    identity_url = page.url
    audit.page(page, identity, "nach dem Online-Ausweis", german_h1=idy.IDENTITY_TITLE)

    # with a passkey: the confirmation, the device refusing, then confirmed and sent
    if not authenticator.credentials():
        idy.add_passkey(page, authenticator, account[0], "Prüfgerät")
    page.goto(identity_url)
    audit.page(page, identity, "mit Passkey", german_h1=idy.IDENTITY_TITLE)
    authenticator.set_user_verified(False)
    page.locator(idy.SEND_BUTTON).click()
    message = page.locator(f"{idy.SEND_FORM} {idy.CONFIRM_MESSAGE}")
    try:
        expect(message).to_be_visible()
        expect(message).to_be_focused()
        audit.page(page, identity, "Passkey: Gerät nicht entsperrt", german_h1=idy.IDENTITY_TITLE)
    except AssertionError as error:
        audit.fail(identity, "Passkey: Gerät nicht entsperrt", "message", str(error), page)
    authenticator.set_user_verified(True)
    page.locator(idy.SEND_BUTTON).click()
    j.wait_for_path(page, W.receipt_url_regex)
    audit.page(page, "/widerspruch/eingang/…", "Eingangsbestätigung", german_h1=W.receipt_title)
