"""Helpers for the identity journeys in Chromium: login, the virtual authenticator, the test
IdP, and the Online-Widerspruch as data (docs/identity.md, docs/testing.md).

* ``log_in`` signs in with e-mail and password and passes the second factor with a passkey
  this worker registered earlier (``KEYS``), so a test copes with an account that an
  earlier test left with a passkey.
* ``Authenticator`` is Chromium's virtual WebAuthn authenticator over a CDP session
  (``WebAuthn.addVirtualAuthenticator``): it answers ``navigator.credentials`` by itself.
  WebAuthn needs a domain as RP id, so contexts using it open the server on ``localhost``
  (``localhost_url``).
* ``WIDERSPRUCH`` is the objection as a ``Journey`` of ``e2e/journeys.py``. It is NOT in
  ``journeys.JOURNEYS``: it needs a login (level pin_brief), so the tests that walk every
  journey anonymously must not see it. The decision radios have random values: the step
  has no fills, ``choose_first_decision`` picks the newest decision at run time.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

from e2e import journeys as j

#: the demo accounts (``--demo`` only, docs/identity.md)
ERIKA = ("erika.mustermann@example.org", "Mustermann-Demo-2026")
LEON = ("leon.beispiel@example.org", "Beispiel-Demo-2026")
FRESH_PASSWORD = "Probe-Konto-2026-lang"

LOGIN_BUTTON = "main form[action='/anmelden'] button[type=submit]"
SECOND_FACTOR_PATH = "/anmelden/zweiter-faktor"
SECOND_PASSKEY_BUTTON = "#passkey-second"
REGISTER_PASSKEY_BUTTON = "#passkey-register"

#: Credentials (with private keys) of the passkeys registered by this worker's tests, per
#: account e-mail: a later test adds them to its own virtual authenticator to pass the
#: second factor. Each xdist worker has its own server and its own copy of this dict.
KEYS: dict[str, list[dict[str, Any]]] = {}
#: the authenticators of the running test: their sign counts are read back before cleanup
LIVE: list[Authenticator] = []


def localhost_url(base_url: str) -> str:
    """``http://127.0.0.1:port`` → ``http://localhost:port``: WebAuthn refuses IP addresses."""
    parts = urlsplit(base_url)
    if parts.hostname in ("127.0.0.1", "::1"):
        return f"{parts.scheme}://localhost:{parts.port}"
    return base_url


def path_of(page: Any) -> str:
    return str(page.evaluate("() => location.pathname"))


# -- the virtual authenticator --------------------------------------------------------------


@dataclass
class Authenticator:
    """Chromium's virtual authenticator (CTAP2, platform, resident keys, user verification)."""

    cdp: Any
    id: str

    @classmethod
    def attach(cls, context: Any, page: Any, *, verified: bool = True) -> Authenticator:
        cdp = context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        created = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": verified,
                    "automaticPresenceSimulation": True,
                }
            },
        )
        authenticator = cls(cdp, created["authenticatorId"])
        LIVE.append(authenticator)
        return authenticator

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send(
            "WebAuthn.setUserVerified", {"authenticatorId": self.id, "isUserVerified": verified}
        )

    def credentials(self) -> list[dict[str, Any]]:
        return list(
            self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]
        )

    def add(self, credential: dict[str, Any]) -> None:
        self.cdp.send(
            "WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential}
        )

    def load(self, email: str) -> int:
        """Add the passkeys this worker registered for ``email``; returns how many."""
        known = {c["credentialId"] for c in self.credentials()}
        stored = [c for c in KEYS.get(email, []) if c["credentialId"] not in known]
        for credential in stored:
            self.add(credential)
        return len(stored)

    def remember(self, email: str) -> None:
        """Keep this authenticator's credentials (private keys, sign counts) for later tests.

        The server refuses a sign count that does not grow (a cloned key), so the copy is
        refreshed after every use (``passkeys_removed_afterwards`` does it).
        """
        fresh = {c["credentialId"]: c for c in self.credentials()}
        kept = [c for c in KEYS.get(email, []) if c["credentialId"] not in fresh]
        KEYS[email] = kept + list(fresh.values())


# -- login, passkeys ------------------------------------------------------------------------


def fill_login(page: Any, email: str, password: str) -> None:
    page.locator("#f-email").fill(email)
    page.locator("#f-passwort").fill(password)


def log_in(
    page: Any,
    account: tuple[str, str] = ERIKA,
    *,
    authenticator: Authenticator | None = None,
    lang: str | None = None,
    weiter: str = "/konto",
) -> None:
    """Password login; a second factor is passed with a passkey this worker registered."""
    email, password = account
    query = f"?weiter={weiter}" + (f"&lang={lang}" if lang else "")
    page.goto(f"/anmelden{query}")
    fill_login(page, email, password)
    page.locator(LOGIN_BUTTON).click()
    page.wait_for_url(lambda url: urlsplit(url).path in (weiter, SECOND_FACTOR_PATH))
    if path_of(page) == SECOND_FACTOR_PATH:
        pass_second_factor(page, email, authenticator)
        page.wait_for_url(lambda url: urlsplit(url).path == weiter)


def pass_second_factor(page: Any, email: str, authenticator: Authenticator | None) -> None:
    assert authenticator is not None and (
        authenticator.load(email) or authenticator.credentials()
    ), (
        f"{email} asks for a second factor, but this worker registered no passkey for it "
        "(a passkey left by another test run? restart the test server)"
    )
    page.locator(SECOND_PASSKEY_BUTTON).click()


def add_passkey(page: Any, authenticator: Authenticator, email: str, name: str) -> None:
    """Register a passkey on /konto/sicherheit (the authenticator answers by itself)."""
    page.goto("/konto/sicherheit")
    page.locator("#f-name").fill(name)
    page.locator(REGISTER_PASSKEY_BUTTON).click()
    expect(page.locator("main .item-list")).to_contain_text(name)
    authenticator.remember(email)


def passkey_links(page: Any, action: str) -> list[str]:
    """The ``umbenennen`` / ``entfernen`` links of every passkey on /konto/sicherheit."""
    links = page.locator(f"main .item-list a[href$='/{action}']")
    return [str(links.nth(i).get_attribute("href")) for i in range(links.count())]


def remove_passkeys(page: Any) -> None:
    """Remove every passkey of the logged-in account (so later password logins need none)."""
    page.goto("/konto/sicherheit")
    for href in passkey_links(page, "entfernen"):
        page.goto(href)
        page.locator("main form[method=post] button[type=submit]").first.click()
        page.wait_for_url(re.compile(r"/konto/sicherheit\?erledigt=passkey-entfernt"))
    expect(page.locator("main .item-list")).to_have_count(0)


@contextmanager
def passkeys_removed_afterwards(
    new_context: Any, base_url: str, account: tuple[str, str] = ERIKA
) -> Iterator[None]:
    """Whatever happens in the block: afterwards the account has no passkey again.

    Demo accounts are shared by all tests of a worker's server; a passkey left behind would
    send every later password login of that account to the second factor.
    """
    LIVE.clear()
    try:
        yield
    finally:
        for used in LIVE:
            with suppress(Exception):  # the test's context may be gone
                if used.credentials():
                    used.remember(account[0])
        LIVE.clear()
        context = new_context(base_url=localhost_url(base_url))
        page = context.new_page()
        authenticator = Authenticator.attach(context, page)
        log_in(page, account, authenticator=authenticator)
        remove_passkeys(page)
        KEYS.pop(account[0], None)
        context.close()


# -- a fresh account (demo mode: the confirmation mail is read at /dev/mail) ----------------


def register_account(page: Any, password: str = FRESH_PASSWORD) -> str:
    """A new, confirmed account through the forms; returns its e-mail address."""
    email = f"a11y-{uuid.uuid4().hex[:12]}@example.org"
    page.goto("/registrieren")
    page.locator("#f-email").fill(email)
    page.locator("#f-passwort").fill(password)
    page.locator("main form[action='/registrieren'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/registrieren/gesendet"))
    confirm_from_mail(page, email)
    return email


#: the mail catcher stores a mail a moment after the page said "sent": ask until it is there
MAIL_ARRIVED_JS = """async ([email, count]) => {
  const answer = await fetch('/dev/mail', {credentials: 'same-origin'});
  return (await answer.text()).split(email).length - 1 >= count;
}"""


def open_mail(page: Any, email: str, count: int = 1) -> None:
    """Open the newest mail to ``email`` at /dev/mail, once ``count`` mails went there."""
    page.wait_for_function(MAIL_ARRIVED_JS, arg=[email, count], polling=250)
    page.goto("/dev/mail")
    page.locator("main li").filter(has_text=email).locator("a").first.click()
    page.wait_for_url(re.compile(r"/dev/mail/."))


def confirm_from_mail(page: Any, email: str) -> None:
    open_mail(page, email)
    href = page.locator("a[href*='/registrieren/bestaetigen/']").first.get_attribute("href")
    page.goto(urlsplit(str(href)).path)  # on this host, whatever host the mail names
    page.locator("main form[method=post] button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/anmelden"))


# -- the Online-Widerspruch -----------------------------------------------------------------

IDENTITY_TITLE = "Identität bestätigen"
IDENTITY_PATH = r"^/widerspruch/[^/]+/identitaet$"
IDP_PATH = r"^/test-idp/sso$"
IDP_TITLE = "Test-Anmeldung mit dem Online-Ausweis"
EID_BUTTON = "main form[action$='/identitaet/eid'] button[type=submit]"
SEND_FORM = "main form[action$='/identitaet/senden']"
SEND_BUTTON = f"{SEND_FORM} button[type=submit]"
CONFIRM_MESSAGE = "[data-passkey-message]"
EID_DONE = "Erledigt: Sie haben Ihre Identität mit dem Online-Ausweis bestätigt."
REASONS = "Die Kosten der Unterkunft sind zu niedrig berechnet. Die Miete ist 520 Euro."
DECISION_STEP = 1

WIDERSPRUCH = j.Journey(
    slug="widerspruch",
    service_title="Widerspruch einlegen",
    reference_prefix="WS",
    steps=(
        # prefilled from the account: nothing to type
        j.Step("angaben/person/person", "Ihre Angaben"),
        j.Step("angaben/bescheid/bescheid", "Gegen welchen Bescheid legen Sie Widerspruch ein?"),
        j.Step(
            "angaben/gruende/gruende",
            "Warum legen Sie Widerspruch ein?",
            (j.Text("begruendung", REASONS),),
            invalid=(j.Text("begruendung", "x" * 10_001),),
            empty_ok=True,
        ),
        j.Step(
            "dokumente/anlagen",
            "Möchten Sie Dokumente mitschicken?",
            (j.Later("anlage_1"), j.Later("anlage_2"), j.Later("anlage_3")),
            empty_ok=True,
        ),
        j.Step("_pruefen", j.REVIEW_TITLE, (), kind="review"),
    ),
    receipt_title="Ihr Widerspruch ist angekommen",
)


def decision_radio(page: Any) -> j.Radio:
    """The newest decision of the account (the radios' values are random ids)."""
    value = page.locator("main input[type=radio][name=bescheid]").first.get_attribute("value")
    return j.Radio("bescheid", str(value))


def fills_of(page: Any, index: int) -> tuple[j.Fill, ...]:
    step = WIDERSPRUCH.steps[index]
    return (decision_radio(page),) if index == DECISION_STEP else step.fills


def start_objection(page: Any, lang: str | None = None) -> None:
    j.start(page, WIDERSPRUCH, lang)


def complete_step(page: Any, index: int) -> None:
    """Fill step ``index`` validly and go on (after the review: the identity step)."""
    step = WIDERSPRUCH.steps[index]
    j.fill(page, fills_of(page, index))
    j.submit(page, step)
    wait_after(page, index)


def wait_after(page: Any, index: int) -> None:
    if index + 1 < len(WIDERSPRUCH.steps):
        j.wait_for_step(page, WIDERSPRUCH, WIDERSPRUCH.steps[index + 1])
    else:
        j.wait_for_path(page, IDENTITY_PATH)


def walk_to_identity(page: Any, lang: str | None = None) -> None:
    """Start an objection and complete every step up to "Identität bestätigen"."""
    start_objection(page, lang)
    for index in range(len(WIDERSPRUCH.steps)):
        complete_step(page, index)


def digest_on_page(page: Any) -> str:
    """The declaration's SHA-256 shown on the identity step."""
    return str(page.locator("main details .hash").text_content()).strip()


def choose_at_idp(page: Any, person: str = "erika", fault: str = "keiner") -> None:
    """On the test IdP: choose the person and the fault (radio values) and press "Weiter"."""
    page.wait_for_url(lambda url: urlsplit(url).path == "/test-idp/sso")
    page.locator(f"input[name=person][value={person}]").check()
    page.locator(f"input[name=fehler][value={fault}]").check()
    page.locator("main form[action='/test-idp/antwort'] button[type=submit]").click()


def eid_for_objection(page: Any, person: str = "erika", fault: str = "keiner") -> None:
    """From the identity step through the test IdP and back (js/saml-post.js posts on)."""
    page.locator(EID_BUTTON).click()
    choose_at_idp(page, person, fault)
    if fault == "keiner":
        j.wait_for_path(page, IDENTITY_PATH)
        expect(page.locator("main .notice--success")).to_contain_text(EID_DONE)
