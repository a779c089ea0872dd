"""TOTP as second factor: setting it up on /konto/sicherheit (QR code, secret, first code),
removing it, and the code after the password on /anmelden/zweiter-faktor, without
JavaScript. Codes come from pyotp, as an authenticator app would show them."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from quart import Quart

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.identity import passkeys as pk
from app.identity import totp
from tests.conftest import Browser, assert_rejected, main
from tests.identity_helpers import PASSWORD, make_account, sign_in
from tests.test_passkeys import logged_in, pending_login

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code(secret: str, steps: int = 0) -> str:
    """The code an app shows now (or ``steps`` time steps away)."""
    t = pyotp.TOTP(secret)
    return t.at(utcnow() + timedelta(seconds=30 * steps))


async def account_with_totp(app: Quart, email: str = "erika@example.org") -> account_repo.Account:
    account = await make_account(app, email)
    await account_repo.set_fields(app.config["DB"], account.id, totp_secret=SECRET)
    return await account_repo.get(app.config["DB"], account.id)  # type: ignore[return-value]


async def test_set_up_an_authenticator_app(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    # the setup page shows nothing before the button is pressed (no state change on GET)
    response = await visitor.client.get("/konto/sicherheit/totp")
    assert response.status_code == 303
    await visitor.submit("/konto/sicherheit/totp/einrichten")
    assert visitor.path == "/konto/sicherheit/totp"
    assert visitor.title.startswith("Authenticator-App einrichten")
    assert visitor.response.headers["Cache-Control"] == "no-store"
    assert '<svg role="img"' in visitor.html  # the QR code inline, no image request
    assert "<title>QR-Code für Ihre Authenticator-App</title>" in visitor.html
    grouped = re.search(r'<span class="hash">([A-Z2-7 ]+)</span>', visitor.html).group(1)
    assert all(len(part) == 4 for part in grouped.split())
    secret = grouped.replace(" ", "")
    assert 'autocomplete="one-time-code"' in visitor.html

    await visitor.submit(data={"code": code(secret, 5)}, expect=422)
    assert_rejected(visitor, {"code": "Der Code stimmt nicht."})
    assert (await account_repo.get(app.config["DB"], account.id)).totp_secret is None

    typed = code(secret)
    await visitor.submit(data={"code": f"{typed[:3]} {typed[3:]}"})  # as apps show it
    assert visitor.path == "/konto/sicherheit"
    assert "Die Authenticator-App ist eingerichtet." in main(visitor.html)
    stored = await account_repo.get(app.config["DB"], account.id)
    assert stored.totp_secret == secret
    assert await pk.second_factor_required(app.config["DB"], stored)
    assert "totp_added" in [e.action for e in await audit.entries(app.config["DB"], account.id)]


async def test_code_format_is_explained(app: Quart, visitor: Browser) -> None:
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    await visitor.submit("/konto/sicherheit/totp/einrichten")
    await visitor.submit(data={"code": "12a45"}, expect=422)
    assert_rejected(visitor, {"code": "Der Code hat 6 Ziffern"}, kept={"code": "12a45"})


async def test_remove_the_authenticator_app(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    [link] = visitor.links("Authenticator-App entfernen")
    await visitor.get(link)
    assert visitor.title.startswith("Authenticator-App wirklich entfernen?")
    assert (await account_repo.get(app.config["DB"], account.id)).totp_secret == SECRET
    await visitor.submit(link)
    assert "Die Authenticator-App ist entfernt." in main(visitor.html)
    stored = await account_repo.get(app.config["DB"], account.id)
    assert stored.totp_secret is None
    assert not await pk.second_factor_required(app.config["DB"], stored)


async def test_code_after_the_password_logs_in(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await pending_login(visitor, account, weiter="/konto/sicherheit")
    await visitor.get("/anmelden/zweiter-faktor")
    assert 'action="/anmelden/zweiter-faktor/code"' in visitor.html
    assert "data-passkey=" not in visitor.html  # no passkey: only the code form
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET)})
    assert visitor.path == "/konto/sicherheit"
    assert await logged_in(visitor)
    entries = await audit.entries(app.config["DB"], account.id)
    assert entries[-1].action == "login"
    assert entries[-1].details["method"] == "password+totp"


async def test_password_then_code(app: Quart, visitor: Browser) -> None:
    """The whole way without JavaScript: password form, then the code form."""
    account = await account_with_totp(app)
    await visitor.get("/anmelden")
    await visitor.submit("/anmelden", {"email": account.email, "passwort": PASSWORD})
    assert visitor.path == "/anmelden/zweiter-faktor"
    assert not await logged_in(visitor)
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET)})
    assert visitor.path == "/konto"
    assert await logged_in(visitor)


async def test_code_of_the_step_before_still_counts(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET, -1)})
    assert await logged_in(visitor)


async def test_wrong_code_is_refused(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    wrong = code(SECRET, 5)  # a real code, but from 2½ minutes ahead
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": wrong}, expect=422)
    assert_rejected(visitor, {"code": "Der Code stimmt nicht."}, kept={"code": wrong})
    assert not await logged_in(visitor)


async def test_a_code_counts_once(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    typed = code(SECRET)
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": typed})
    assert await logged_in(visitor)
    # somebody who saw the code tries it in another browser
    other = Browser(app)
    await pending_login(other, account)
    await other.get("/anmelden/zweiter-faktor")
    await other.submit("/anmelden/zweiter-faktor/code", {"code": typed}, expect=422)
    assert_rejected(other, {"code": "Jeder Code gilt nur einmal."})
    assert not await logged_in(other)


async def test_wrong_codes_are_rate_limited(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await pending_login(visitor, account)
    await visitor.get("/anmelden/zweiter-faktor")
    for _ in range(totp.LIMIT.limit):
        await visitor.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET, 9)}, expect=422)
    # now even the right code is not checked
    await visitor.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET)}, expect=422)
    assert_rejected(visitor, {"code": "zu oft einen falschen Code"})
    assert not await logged_in(visitor)
    # a different account is not affected
    other_account = await account_with_totp(app, "leon@example.org")
    other = Browser(app)
    await pending_login(other, other_account)
    await other.get("/anmelden/zweiter-faktor")
    await other.submit("/anmelden/zweiter-faktor/code", {"code": code(SECRET)})
    assert await logged_in(other)


async def test_expired_pending_login_takes_no_code(app: Quart, visitor: Browser) -> None:
    account = await account_with_totp(app)
    await pending_login(visitor, account, age=301)
    await visitor.get("/anmelden/passkey")  # any page of this session, for its CSRF token
    response = await visitor.submit(
        "/anmelden/zweiter-faktor/code", {"code": code(SECRET)}, follow=False
    )
    assert response.headers["Location"].startswith("/anmelden")
    assert not await logged_in(visitor)


async def test_setup_code_cannot_log_in_again(app: Quart, visitor: Browser) -> None:
    """The code used to finish the setup is spent: it does not open a login a minute later."""
    account = await make_account(app)
    await sign_in(visitor, account)
    await visitor.get("/konto/sicherheit")
    await visitor.submit("/konto/sicherheit/totp/einrichten")
    secret = re.search(r'<span class="hash">([A-Z2-7 ]+)</span>', visitor.html).group(1)
    secret = secret.replace(" ", "")
    typed = code(secret)
    await visitor.submit(data={"code": typed})
    other = Browser(app)
    await pending_login(other, await account_repo.get(app.config["DB"], account.id))
    await other.get("/anmelden/zweiter-faktor")
    await other.submit("/anmelden/zweiter-faktor/code", {"code": typed}, expect=422)
    assert not await logged_in(other)
