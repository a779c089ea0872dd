"""The Online-Widerspruch end to end in Chromium, with JavaScript, the test IdP and a passkey.

Erika Mustermann (demo account, level pin_brief) objects to a decision: decision, reasons,
documents "later", the review with the declaration, then "Identität bestätigen": the eID
at level hoch through the local test IdP (bound to this version of the declaration), then
the passkey confirms the same version and the objection is sent. The receipt shows the
reference ``WS-…`` and the declaration's SHA-256 that both proofs confirmed.

Registering a passkey and logging in with it is e2e/test_passkeys.py (a fresh account);
here the passkey only confirms. Erika is shared by every test of a worker's server: each
test removes her passkeys afterwards (``passkeys_removed_afterwards``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from e2e import identity as idy
from e2e import journeys as j

PHONE = (320, 640)
RECEIPT_TITLE = idy.WIDERSPRUCH.receipt_title
CONFIRM_BUTTON_TEXT = "Mit Passkey bestätigen und absenden"
NOT_VERIFIED = "Bitte entsperren Sie Ihr Gerät mit PIN, Fingerabdruck oder Gesicht"


def _erika_with_passkey(new_context: Callable[..., Any], base_url: str) -> tuple[Any, Any]:
    """A logged-in page of Erika on localhost, her passkey in its virtual authenticator."""
    context = new_context(base_url=idy.localhost_url(base_url))
    page = context.new_page()
    authenticator = idy.Authenticator.attach(context, page)
    idy.log_in(page, idy.ERIKA, authenticator=authenticator)
    if not authenticator.credentials():  # none registered by an earlier test of this worker
        idy.add_passkey(page, authenticator, idy.ERIKA[0], "Virtuelles Handy")
    return page, authenticator


def _assert_receipt(page: Any, digest: str) -> None:
    assert re.search(idy.WIDERSPRUCH.receipt_url_regex, idy.path_of(page)), page.url
    expect(page.locator("main h1")).to_have_text(RECEIPT_TITLE)
    expect(page.locator("main .reference")).to_have_text(
        re.compile(idy.WIDERSPRUCH.reference_regex)
    )
    proofs = page.locator("main .summary-list").filter(has_text="Online-Ausweis")
    expect(proofs).to_contain_text("Vertrauensniveau hoch")
    expect(proofs).to_contain_text("Mit Ihrem Passkey bestätigt am")
    # the version both proofs confirmed is the one the identity step showed
    expect(proofs.locator(".hash").filter(has_text=digest)).to_have_count(1)


def test_objection_with_eid_and_passkey(new_context: Callable[..., Any], base_url: str) -> None:
    with idy.passkeys_removed_afterwards(new_context, base_url):
        page, _authenticator = _erika_with_passkey(new_context, base_url)
        idy.start_objection(page)

        # the person step is filled in from the account (WCAG 3.3.7)
        expect(page.locator("#f-nachname")).to_have_value("Mustermann")
        expect(page.locator("#f-plz")).to_have_value("51147")
        for index in range(len(idy.WIDERSPRUCH.steps)):
            idy.complete_step(page, index)

        # the identity step: nothing can be sent before the eID
        expect(page.locator("#step-title")).to_have_text(idy.IDENTITY_TITLE)
        expect(page.locator(idy.SEND_FORM)).to_have_count(0)
        digest = idy.digest_on_page(page)
        assert re.fullmatch(r"[0-9a-f]{64}", digest), digest

        # the test IdP: Erika Mustermann, no fault → back here, the eID part done
        page.locator(idy.EID_BUTTON).click()
        expect(page.locator("main h1")).to_have_text(idy.IDP_TITLE)
        idy.choose_at_idp(page, "erika", "keiner")
        j.wait_for_path(page, idy.IDENTITY_PATH)
        expect(page.locator("main .notice--success")).to_contain_text(idy.EID_DONE)
        expect(page.locator("main .notice--success")).to_contain_text("Vertrauensniveau: hoch")
        assert idy.digest_on_page(page) == digest

        # the passkey signs the same version; the objection is sent
        confirm = page.locator(idy.SEND_BUTTON)
        expect(confirm).to_have_text(CONFIRM_BUTTON_TEXT)
        confirm.click()
        j.wait_for_path(page, idy.WIDERSPRUCH.receipt_url_regex)
        _assert_receipt(page, digest)

        # the PDF receipt is there
        link = page.locator("main a[href$='quittung.pdf']")
        with page.expect_download() as download_info:
            link.click()
        assert download_info.value.suggested_filename.startswith("WS-")


def test_failed_user_verification_sends_nothing(
    new_context: Callable[..., Any], base_url: str
) -> None:
    with idy.passkeys_removed_afterwards(new_context, base_url):
        page, authenticator = _erika_with_passkey(new_context, base_url)
        idy.walk_to_identity(page)
        digest = idy.digest_on_page(page)
        idy.eid_for_objection(page)
        identity_url = page.url

        # the device does not verify the user: a clear message, focused; nothing sent
        authenticator.set_user_verified(False)
        posts: list[str] = []
        page.on(
            "request",
            lambda r: posts.append(r.url) if r.method == "POST" and "/senden" in r.url else None,
        )
        page.locator(idy.SEND_BUTTON).click()
        message = page.locator(f"{idy.SEND_FORM} {idy.CONFIRM_MESSAGE}")
        expect(message).to_be_visible()
        expect(message).to_have_attribute("role", "alert")
        expect(message).to_contain_text(NOT_VERIFIED)
        expect(message).to_be_focused()
        expect(page.locator(idy.SEND_FORM)).not_to_have_attribute("aria-busy", "true")
        assert page.url == identity_url
        assert posts == [], f"the objection was sent without user verification: {posts}"

        # nothing was submitted: the identity step is still there after a reload
        page.reload()
        expect(page.locator("#step-title")).to_have_text(idy.IDENTITY_TITLE)
        expect(page.locator(idy.SEND_BUTTON)).to_have_text(CONFIRM_BUTTON_TEXT)

        # verification works again: the same objection can be confirmed
        authenticator.set_user_verified(True)
        page.locator(idy.SEND_BUTTON).click()
        j.wait_for_path(page, idy.WIDERSPRUCH.receipt_url_regex)
        _assert_receipt(page, digest)


# -- keyboard only (ACCESSIBILITY.md: Tab/Shift+Tab/Space/Enter, focus after every step) -----


def _focused(page: Any, selector: str, where: str) -> None:
    expect(page.locator(selector), f"{where}: focus must be on {selector}").to_be_focused()


def _press_on(page: Any, selector: str, key: str = "Enter") -> None:
    j.tab_to(page, selector)
    page.keyboard.press(key)


@pytest.mark.parametrize("viewport", [PHONE])
def test_keyboard_only_objection(new_context: Callable[..., Any], base_url: str) -> None:
    """Login, passkey, objection, test IdP and confirmation at 320 px without the mouse."""
    with idy.passkeys_removed_afterwards(new_context, base_url):
        context = new_context(base_url=idy.localhost_url(base_url))
        page = context.new_page()
        authenticator = idy.Authenticator.attach(context, page)
        email, password = idy.ERIKA

        # log in
        page.goto("/anmelden?weiter=/konto/sicherheit")
        j.type_in(page, [j.Text("email", email), j.Text("passwort", password)])
        page.keyboard.press("Enter")
        page.wait_for_url(
            lambda url: urlsplit(url).path in ("/konto/sicherheit", idy.SECOND_FACTOR_PATH)
        )
        if idy.path_of(page) == idy.SECOND_FACTOR_PATH:
            assert authenticator.load(email), "Erika has a passkey this worker does not know"
            _press_on(page, idy.SECOND_PASSKEY_BUTTON)
            page.wait_for_url(re.compile(r"/konto/sicherheit$"))

        # a passkey, added by keyboard (the virtual authenticator answers by itself)
        if not authenticator.credentials():
            j.type_in(page, [j.Text("name", "Tastatur-Handy")])
            _press_on(page, idy.REGISTER_PASSKEY_BUTTON)
            expect(page.locator("main .item-list")).to_contain_text("Tastatur-Handy")
            _focused(page, "#step-title", "passkey added")
            authenticator.remember(email)

        # to the objection: the start page's link, then "Jetzt starten"
        page.goto("/")
        _press_on(page, "main a[href='/widerspruch']")
        j.wait_for_path(page, r"^/widerspruch$")
        _focused(page, "main h1", "/widerspruch")
        _press_on(page, j.start_selector(idy.WIDERSPRUCH))
        for index, step in enumerate(idy.WIDERSPRUCH.steps):
            j.wait_for_step(page, idy.WIDERSPRUCH, step)
            where = f"step {index + 1} {step.key}"
            expect(page.locator("#step-title")).to_have_text(step.title)
            _focused(page, "#step-title", where)
            if index == idy.DECISION_STEP:
                # sent without a choice: focus on the error summary; then it is corrected
                j.submit_by_keyboard(page, step)
                expect(page.locator("main .error-summary")).to_be_visible()
                _focused(page, "main .error-summary", f"{where}: error")
                expect(page).to_have_title(re.compile(r"^Fehler: "))
            j.type_in(page, idy.fills_of(page, index))
            j.submit_by_keyboard(page, step)

        # the identity step (an htmx swap: focus on the h1)
        j.wait_for_path(page, idy.IDENTITY_PATH)
        _focused(page, "#step-title", "identity step")
        digest = idy.digest_on_page(page)
        _press_on(page, idy.EID_BUTTON)

        # the test IdP: the person chosen with the arrow keys
        page.wait_for_url(lambda url: urlsplit(url).path == "/test-idp/sso")
        expect(page.locator("main h1")).to_have_text(idy.IDP_TITLE)
        j.type_in(page, [j.Radio("person", "leon"), j.Radio("person", "erika")])
        assert page.locator("input[name=person][value=erika]").is_checked()
        j.type_in(page, [j.Radio("fehler", "keiner")])
        _press_on(page, "main form[action='/test-idp/antwort'] button[type=submit]")

        # back on the identity step (a full page load): eID done, the passkey confirms
        j.wait_for_path(page, idy.IDENTITY_PATH)
        expect(page.locator("main .notice--success")).to_contain_text(idy.EID_DONE)
        _press_on(page, idy.SEND_BUTTON)
        j.wait_for_path(page, idy.WIDERSPRUCH.receipt_url_regex)
        _assert_receipt(page, digest)
