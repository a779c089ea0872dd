"""Passkeys in Chromium with its virtual authenticator (DevTools protocol, WebAuthn domain).

One journey with JavaScript: a fresh account (registered through the forms, confirmed via
the demo mail box) adds a passkey on /konto/sicherheit, logs out, logs in with the passkey
alone, then with password + passkey as second factor. Then the device refuses user
verification: the clear message appears in the form's alert region and has the focus; and
a bogus signature is refused by the server with the error summary.

WebAuthn needs a domain as RP id (not an IP address): the pages are opened on
``localhost`` with the port of the server under test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from e2e import identity as idy

PASSWORD = "Passkey-Probe-2026-lang"
NOT_VERIFIED = "Bitte entsperren Sie Ihr Gerät mit PIN, Fingerabdruck oder Gesicht"


def _password_login(page: Any, email: str) -> None:
    page.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()


def _log_out(page: Any) -> None:
    page.get_by_role("banner").get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Anmelden")).to_be_visible()


#: Browsers before the WebAuthn JSON helpers (Chromium < 129, Safari < 18.4): passkey.js
#: must convert the base64url fields itself.
WITHOUT_JSON_HELPERS = """
delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
"""


@pytest.mark.parametrize("helpers", ["json-helpers", "fallback"])
def test_passkey_journey(new_context: Callable[..., Any], base_url: str, helpers: str) -> None:
    context = new_context(base_url=idy.localhost_url(base_url))
    if helpers == "fallback":
        context.add_init_script(WITHOUT_JSON_HELPERS)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]

    email = idy.register_account(page, PASSWORD)
    has_helpers = page.evaluate(
        "() => typeof PublicKeyCredential.prototype.toJSON === 'function'"
        " && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'"
    )
    assert has_helpers == (helpers == "json-helpers")
    _password_login(page, email)
    expect(page).to_have_url(re.compile(r"/konto$"))

    # add a passkey
    page.goto("/konto/sicherheit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmeldung und Sicherheit")
    page.get_by_label("Name des Passkeys").fill("Virtueller Schlüssel")
    page.get_by_role("button", name="Passkey hinzufügen").click()
    expect(page.get_by_text("Ihr Passkey ist gespeichert.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Virtueller Schlüssel")).to_be_visible()
    assert (
        len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"])
        == 1
    )

    # passwordless: the passkey alone
    _log_out(page)
    page.goto("/anmelden/passkey")
    page.get_by_role("main").get_by_role("button", name="Mit Passkey anmelden").click()
    expect(page).to_have_url(re.compile(r"/konto$"))
    expect(page.get_by_role("banner").get_by_role("button", name="Abmelden")).to_be_visible()

    # password, then the passkey as second factor
    _log_out(page)
    _password_login(page, email)
    expect(page).to_have_url(re.compile(r"/anmelden/zweiter-faktor$"))
    page.get_by_role("button", name="Mit Passkey bestätigen").click()
    expect(page).to_have_url(re.compile(r"/konto$"))

    # the device does not verify the user: a clear message, focused, no silent failure
    _log_out(page)
    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    page.goto("/anmelden/passkey")
    page.get_by_role("main").get_by_role("button", name="Mit Passkey anmelden").click()
    alert = page.locator("#passkey-login-message")
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text(NOT_VERIFIED)
    expect(alert).to_be_focused()
    expect(page).to_have_url(re.compile(r"/anmelden/passkey"))

    # a forged signature gets past the browser: the server refuses it with the error summary
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": True})
    cdp.send(
        "WebAuthn.setResponseOverrideBits",
        {"authenticatorId": authenticator, "isBogusSignature": True},
    )
    page.get_by_role("main").get_by_role("button", name="Mit Passkey anmelden").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Der Passkey konnte nicht geprüft werden.")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Fehler:"))
    expect(page.get_by_role("banner").get_by_role("link", name="Anmelden")).to_be_visible()


def test_a_passkey_button_pressed_before_the_script_arrived_still_works(
    new_context: Callable[..., Any], base_url: str
) -> None:
    """On a slow network the user may press "Mit Passkey anmelden" before js/passkey.js is
    there: app.js holds the form back and passkey.js takes it over when it arrives. If it
    never arrives, the form goes to the server, which explains what is missing."""
    context = new_context(base_url=idy.localhost_url(base_url))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    email = idy.register_account(page, PASSWORD)
    _password_login(page, email)
    expect(page).to_have_url(re.compile(r"/konto$"))
    page.goto("/konto/sicherheit")
    page.get_by_label("Name des Passkeys").fill("Langsames Netz")
    page.get_by_role("button", name="Passkey hinzufügen").click()
    expect(page.get_by_text("Ihr Passkey ist gespeichert.")).to_be_visible()
    _log_out(page)

    # the script is held back until after the click
    held: list[Any] = []
    context.route(re.compile(r"/static/js/passkey\.[^/]*js$"), lambda route: held.append(route))
    page.goto("/anmelden/passkey", wait_until="domcontentloaded")  # load waits for the script
    page.get_by_role("main").get_by_role("button", name="Mit Passkey anmelden").click()
    page.wait_for_function("() => window.jcd && !!window.jcd.passkeyForm")
    expect(page).to_have_url(re.compile(r"/anmelden/passkey$"))  # nothing sent yet
    assert held, "passkey.js was not requested"
    for route in held:
        route.continue_()
    expect(page).to_have_url(re.compile(r"/konto$"))
    expect(page.get_by_role("banner").get_by_role("button", name="Abmelden")).to_be_visible()

    # the script cannot be loaded at all: the server says what is missing
    _log_out(page)
    context.unroute(re.compile(r"/static/js/passkey\.[^/]*js$"))
    context.route(re.compile(r"/static/js/passkey\.[^/]*js$"), lambda route: route.abort())
    page.goto("/anmelden/passkey")
    page.get_by_role("main").get_by_role("button", name="Mit Passkey anmelden").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Für Passkeys muss JavaScript eingeschaltet sein.")
    expect(page).to_have_title(re.compile(r"^Fehler:"))
