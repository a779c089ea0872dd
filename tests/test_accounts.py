"""Accounts without JavaScript: register, confirm by mail (a real SMTP server), log in and
out, new password; no account enumeration; rate limits; the demo inbox (SECURITY.md)."""

from __future__ import annotations

import logging
import re
import sys
import types
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from identity_helpers import PASSWORD, make_account, sign_in
from quart import Quart
from sqlalchemy import func, select, update

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import accounts, email_tokens, sessions
from app.identity import mail as mail_module
from app.identity.passwords import needs_rehash
from conftest import Browser, Mailbox, assert_rejected, main, typed

AppFactory = Callable[..., AbstractAsyncContextManager[Quart]]
NEW_PASSWORD = "Ein ganz neues Passwort 2026"
SENT_TITLE = "Wir haben Ihnen eine E-Mail geschickt"
LOGIN_WRONG = "E-Mail-Adresse oder Passwort falsch."


@pytest.fixture
async def mail_app(app_with: AppFactory, mailbox: Mailbox) -> AsyncIterator[Quart]:
    """An app that sends its mail to the test's real SMTP server."""
    async with app_with(smtp_port=mailbox.port) as app:
        yield app


async def _account_count(app: Quart) -> int:
    async with app.config["DB"].connect() as conn:
        return (await conn.execute(select(func.count()).select_from(accounts))).scalar_one()


async def _actions(app: Quart) -> list[str]:
    return [entry.action for entry in await audit.entries(app.config["DB"])]


async def _login(b: Browser, email: str, password: str, **kw: object) -> None:
    await b.get("/anmelden")
    await b.submit("/anmelden", {"email": email, "passwort": password}, **kw)  # type: ignore[arg-type]


def _logged_in(b: Browser) -> bool:
    """What the header of the page last seen shows."""
    return "Mein Konto" in b.html and 'action="/abmelden"' in b.html


# -- the whole journey ----------------------------------------------------------------------


async def test_register_confirm_login_logout(mail_app: Quart, mailbox: Mailbox) -> None:
    b = Browser(mail_app)
    await b.get("/")
    assert b.links("Anmelden") == ["/anmelden"]
    await b.get("/anmelden")
    await b.get(b.links("Konto anlegen")[0])
    assert 'autocomplete="new-password"' in b.html and 'autocomplete="email"' in b.html
    await b.submit("/registrieren", {"email": " Neu@Example.org ", "passwort": NEW_PASSWORD})
    assert b.title.startswith(SENT_TITLE)
    assert "neu@example.org" in b.text()

    message = await mailbox.wait_for("neu@example.org")
    assert message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    link = await mailbox.link("neu@example.org")
    assert link.startswith("/registrieren/bestaetigen/")
    # the link opens a page with a button; opening it changes nothing
    await b.get(link)
    assert "E-Mail-Adresse bestätigen" in b.title
    await b.get(link)
    account = await account_repo.by_email(mail_app.config["DB"], "neu@example.org")
    assert account is not None and not account.confirmed and account.level == "basis"
    await b.submit(link, {})
    assert b.path == "/anmelden"
    assert "Ihre E-Mail-Adresse ist bestätigt" in b.text()

    response = await b.submit(
        "/anmelden", {"email": "neu@example.org", "passwort": NEW_PASSWORD}, follow=False
    )
    assert response.headers["Location"] == "/konto"
    await b.get("/")
    assert _logged_in(b)
    assert b.links("Mein Konto") == ["/konto"]

    await b.submit("/abmelden", {})
    assert b.title.startswith("Sie sind abgemeldet")
    assert not _logged_in(b) and b.links("Anmelden") == ["/anmelden"]
    assert await _actions(mail_app) == ["register", "email_confirmed", "login", "logout"]


async def test_confirmation_link_counts_once_and_expires(mail_app: Quart, mailbox: Mailbox) -> None:
    b = Browser(mail_app)
    await b.get("/registrieren")
    await b.submit(data={"email": "einmal@example.org", "passwort": NEW_PASSWORD})
    link = await mailbox.link("einmal@example.org")
    await b.get(link)
    await b.submit(link, {})
    await b.get("/registrieren")
    await b.submit(link, {"csrf_token": b.token()}, expect=404)
    assert "Dieser Link gilt nicht mehr" in b.title
    await b.get(link, expect=404)

    # a second account: its link is too old
    await b.get("/registrieren")
    await b.submit(data={"email": "alt@example.org", "passwort": NEW_PASSWORD})
    old = await mailbox.link("alt@example.org")
    async with mail_app.config["DB"].begin() as conn:
        await conn.execute(update(email_tokens).values(expires_at=utcnow() - timedelta(seconds=1)))
    await b.get(old, expect=404)
    await b.get("/registrieren")
    await b.submit(old, {"csrf_token": b.token()}, expect=404)
    account = await account_repo.by_email(mail_app.config["DB"], "alt@example.org")
    assert account is not None and not account.confirmed
    # only the hash of the token is stored
    async with mail_app.config["DB"].connect() as conn:
        stored = (await conn.execute(select(email_tokens.c.token_hash))).scalars().all()
    assert old.rsplit("/", 1)[1] not in stored


async def test_registration_errors_keep_the_address(mail_app: Quart) -> None:
    b = Browser(mail_app)
    await b.get("/registrieren")
    await b.submit(data={"email": "", "passwort": ""}, expect=422)
    assert_rejected(
        b,
        {
            "email": "Bitte geben Sie Ihre E-Mail-Adresse ein.",
            "passwort": "Bitte legen Sie ein Passwort fest.",
        },
    )
    await b.submit(data={"email": "erika@", "passwort": "kurz"}, expect=422)
    assert_rejected(
        b,
        {
            "email": "im Format name@beispiel.de",
            "passwort": "mindestens 12 Zeichen lang sein. Es hat jetzt 4 Zeichen.",
        },
        kept={"email": "erika@"},
    )
    assert typed(b.html, "passwort") == ""  # a password is never sent back
    await b.submit(data={"email": "lang@example.org", "passwort": "x" * 300}, expect=422)
    assert_rejected(b, {"passwort": "höchstens 256 Zeichen"}, kept={"email": "lang@example.org"})
    # no composition rules: twelve lower-case letters are fine
    await b.submit(data={"email": "lang@example.org", "passwort": "abcdefghijkl"})
    assert b.title.startswith(SENT_TITLE)
    assert await _account_count(mail_app) == 1


async def test_taken_address_same_page_other_mail(mail_app: Quart, mailbox: Mailbox) -> None:
    """No enumeration: the PAGE is the same for a taken and a new address; the MAIL differs."""
    owner = await make_account(mail_app, "erika@example.org")
    pages = {}
    for address in ("erika@example.org", "frei@example.org"):
        b = Browser(mail_app)
        await b.get("/registrieren")
        response = await b.submit(data={"email": address, "passwort": NEW_PASSWORD}, follow=False)
        assert response.status_code == 303
        location = response.headers["Location"]
        await b.get(location)
        pages[address] = (location, b.status, b.title, main(b.html).replace(address, "X"))
    assert pages["erika@example.org"] == pages["frei@example.org"]

    taken = await mailbox.wait_for("erika@example.org")
    new = await mailbox.wait_for("frei@example.org")
    assert taken["Subject"] != new["Subject"]
    assert "schon ein Konto" in Mailbox.body(taken)
    reset = await mailbox.link("erika@example.org")
    assert reset.startswith("/passwort-neu/")
    # the owner's password is untouched; the account was not replaced
    b = Browser(mail_app)
    await _login(b, "erika@example.org", PASSWORD, follow=False)
    again = await account_repo.by_email(mail_app.config["DB"], "erika@example.org")
    assert again is not None and again.id == owner.id
    assert await _account_count(mail_app) == 2
    # the link in the mail works: the owner can set a new password with it
    await b.get(reset)
    assert "Neues Passwort festlegen" in b.title


async def test_login_same_answer_for_unknown_address_and_wrong_password(mail_app: Quart) -> None:
    await make_account(mail_app, "erika@example.org")
    seen = []
    for address, password in (
        ("erika@example.org", "falsches-passwort-123"),
        ("niemand@example.org", "falsches-passwort-123"),
    ):
        b = Browser(mail_app)
        await _login(b, address, password, expect=422)
        assert_rejected(b, {"passwort": LOGIN_WRONG}, kept={"email": address})
        assert typed(b.html, "passwort") == ""
        seen.append((b.status, b.title, main(b.html).replace(address, "X")))
    assert seen[0] == seen[1]


async def test_login_errors_and_links(mail_app: Quart) -> None:
    b = Browser(mail_app)
    await b.get("/anmelden")
    assert 'autocomplete="current-password"' in b.html
    assert b.links("Mit Passkey anmelden") == ["/anmelden/passkey"]
    assert b.links("Konto anlegen") == ["/registrieren"]
    assert b.links("Passwort vergessen") == ["/passwort-vergessen"]
    assert "30 Minuten lang nichts" in b.text()  # how long a session lasts
    await b.submit(data={"email": "", "passwort": ""}, expect=422)
    assert_rejected(
        b,
        {
            "email": "Bitte geben Sie Ihre E-Mail-Adresse ein.",
            "passwort": "Bitte geben Sie Ihr Passwort ein.",
        },
    )


async def test_unconfirmed_account(mail_app: Quart, mailbox: Mailbox) -> None:
    db = mail_app.config["DB"]
    b = Browser(mail_app)
    await b.get("/registrieren")
    await b.submit(data={"email": "spaeter@example.org", "passwort": NEW_PASSWORD})
    await mailbox.wait_for("spaeter@example.org")
    # wrong password: the neutral message, nothing about the account
    await _login(b, "spaeter@example.org", "falsches-passwort-123", expect=422)
    assert_rejected(b, {"passwort": LOGIN_WRONG})
    assert "bestätigt" not in b.text()
    # right password: now it may say so, and offer the mail again
    await _login(b, "spaeter@example.org", NEW_PASSWORD)
    assert b.path == "/registrieren/nicht-bestaetigt"
    assert "noch nicht bestätigt" in b.text()
    assert not _logged_in(b)
    await b.submit("/registrieren/nochmal", {"email": "spaeter@example.org"})
    assert b.title.startswith(SENT_TITLE)
    await mailbox.wait_for("spaeter@example.org", 2)
    second = await mailbox.link("spaeter@example.org", 2)
    await b.get(second)
    await b.submit(second, {})
    await _login(b, "spaeter@example.org", NEW_PASSWORD, follow=False)
    assert b.response is not None and b.response.headers["Location"] == "/konto"
    account = await account_repo.by_email(db, "spaeter@example.org")
    assert account is not None and account.confirmed


@pytest.mark.parametrize(
    ("weiter", "landing"),
    [
        ("/antraege", "/antraege"),
        ("/veraenderung?x=1", "/veraenderung?x=1"),
        ("//evil.example/konto", "/konto"),
        ("https://evil.example/", "/konto"),
        ("/\\evil.example", "/konto"),
        ("konto", "/konto"),
    ],
)
async def test_login_goes_back_only_to_a_local_path(
    mail_app: Quart, weiter: str, landing: str
) -> None:
    await make_account(mail_app, "erika@example.org")
    b = Browser(mail_app)
    await b.get(f"/anmelden?weiter={weiter.replace('?', '%3F').replace('&', '%26')}")
    kept = typed(b.html, "weiter")  # the form carries it as a hidden field
    assert kept == (landing if landing != "/konto" else None)
    form = {"email": "erika@example.org", "passwort": PASSWORD, "weiter": kept or weiter}
    response = await b.submit("/anmelden", form, follow=False)
    assert response.headers["Location"] == landing


async def test_login_rate_limit_per_address(mail_app: Quart) -> None:
    await make_account(mail_app, "erika@example.org")
    b = Browser(mail_app)
    for _ in range(5):
        await _login(b, "erika@example.org", "falsches-passwort-123", expect=422)
    # the sixth attempt is refused, even with the right password
    await _login(b, "ERIKA@example.org", PASSWORD, expect=429)
    assert b.title.startswith("Zu viele Versuche")
    assert re.search(r"in 1[45] Minuten noch einmal", b.text()), b.text()
    assert b.links("Neues Passwort festlegen") == ["/passwort-vergessen"]
    assert b.response is not None and 850 <= int(b.response.headers["Retry-After"]) <= 900
    assert not _logged_in(b)
    # another address from the same client is not blocked by this
    await make_account(mail_app, "leon@example.org")
    await _login(b, "leon@example.org", PASSWORD, follow=False)
    entries = await audit.entries(mail_app.config["DB"])
    failed = [e for e in entries if e.action == "login_failed"]
    assert len(failed) == 5
    assert all("erika" not in str(e.details) for e in entries)  # hashed, not the address
    assert "login_blocked" in [e.action for e in entries]


async def test_login_rate_limit_per_client(mail_app: Quart) -> None:
    await make_account(mail_app, "erika@example.org")
    b = Browser(mail_app)
    for n in range(30):
        await _login(b, f"versuch{n}@example.org", "falsches-passwort-123", expect=422)
    await _login(b, "erika@example.org", PASSWORD, expect=429)
    assert "Zu viele Versuche" in b.title


async def test_right_password_ends_the_count(mail_app: Quart) -> None:
    await make_account(mail_app, "erika@example.org")
    for _ in range(2):  # 4 wrong, right, 4 wrong, right: never 5 wrong in a row
        b = Browser(mail_app)
        for _ in range(4):
            await _login(b, "erika@example.org", "falsches-passwort-123", expect=422)
        await _login(b, "erika@example.org", PASSWORD, follow=False)
        assert b.response is not None and b.response.headers["Location"] == "/konto"


async def test_password_reset(mail_app: Quart, mailbox: Mailbox) -> None:
    db = mail_app.config["DB"]
    account = await make_account(mail_app, "erika@example.org")
    elsewhere = Browser(mail_app)
    await sign_in(elsewhere, account)
    await elsewhere.get("/")
    assert _logged_in(elsewhere)

    b = Browser(mail_app)
    await b.get("/anmelden")
    await b.get(b.links("Passwort vergessen")[0])
    await b.submit(data={"email": ""}, expect=422)
    assert_rejected(b, {"email": "Bitte geben Sie Ihre E-Mail-Adresse ein."})
    await b.submit(data={"email": "Erika@example.org"})
    assert "Bitte schauen Sie in Ihr E-Mail-Postfach" in b.title
    message = await mailbox.wait_for("erika@example.org")
    assert message["Subject"] == "Neues Passwort für jobcenter.digital"
    link = await mailbox.link("erika@example.org")
    await b.get(link)
    assert 'autocomplete="new-password"' in b.html
    await b.submit(data={"passwort": "zu-kurz"}, expect=422)
    assert_rejected(b, {"passwort": "mindestens 12 Zeichen"})
    await b.submit(link, {"passwort": NEW_PASSWORD})
    assert b.path == "/anmelden" and "Ihr neues Passwort ist gespeichert" in b.text()

    # the other session of the account has ended
    await elsewhere.get("/")
    assert not _logged_in(elsewhere)
    async with db.connect() as conn:
        left = (
            await conn.execute(select(func.count()).where(sessions.c.account_id == account.id))
        ).scalar_one()
    assert left == 0
    # the link counts once
    await b.get(link, expect=404)
    # the old password no longer works, the new one does
    await _login(b, "erika@example.org", PASSWORD, expect=422)
    await _login(b, "erika@example.org", NEW_PASSWORD, follow=False)
    assert b.response is not None and b.response.headers["Location"] == "/konto"
    assert "password_reset" in await _actions(mail_app)


async def test_reset_same_page_for_unknown_address(mail_app: Quart, mailbox: Mailbox) -> None:
    await make_account(mail_app, "erika@example.org")
    pages = []
    for address in ("erika@example.org", "niemand@example.org"):
        b = Browser(mail_app)
        await b.get("/passwort-vergessen")
        response = await b.submit(data={"email": address}, follow=False)
        await b.get(response.headers["Location"])
        pages.append((response.headers["Location"], b.status, main(b.html).replace(address, "X")))
    assert pages[0] == pages[1]
    await mailbox.wait_for("erika@example.org")
    assert mailbox.to("niemand@example.org") == []


async def test_reset_link_confirms_an_unconfirmed_address(
    mail_app: Quart, mailbox: Mailbox
) -> None:
    """Someone registered a stranger's address first: the owner takes it over by mail."""
    squatter = Browser(mail_app)
    await squatter.get("/registrieren")
    await squatter.submit(data={"email": "opfer@example.org", "passwort": "Passwort des Fremden"})
    owner = Browser(mail_app)
    await owner.get("/passwort-vergessen")
    await owner.submit(data={"email": "opfer@example.org"})
    await mailbox.wait_for("opfer@example.org", 2)
    link = await mailbox.link("opfer@example.org", 2)
    assert link.startswith("/passwort-neu/")
    await owner.get(link)
    await owner.submit(link, {"passwort": NEW_PASSWORD})
    await _login(owner, "opfer@example.org", NEW_PASSWORD, follow=False)
    assert owner.response is not None and owner.response.headers["Location"] == "/konto"
    await _login(squatter, "opfer@example.org", "Passwort des Fremden", expect=422)


async def test_reset_rate_limit_and_mail_limit(mail_app: Quart, mailbox: Mailbox) -> None:
    await make_account(mail_app, "erika@example.org")
    b = Browser(mail_app)
    for _ in range(10):
        await b.get("/passwort-vergessen")
        await b.submit(data={"email": "erika@example.org"})
    await b.get("/passwort-vergessen")
    await b.submit(data={"email": "erika@example.org"}, expect=429)
    assert "Zu viele Versuche" in b.title
    # at most five mails an hour go to one address, however often somebody asks
    await mailbox.wait_for("erika@example.org", 5)
    async with mail_app.config["DB"].connect() as conn:
        issued = (await conn.execute(select(func.count()).select_from(email_tokens))).scalar_one()
    assert issued == 5


async def test_failed_send_looks_the_same(
    app_with: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """No SMTP server listening: the visitor sees the usual page; the failure is logged."""
    caplog.set_level(logging.ERROR, logger=mail_module.__name__)
    from conftest import _free_port

    async with app_with(smtp_port=_free_port()) as app:
        b = Browser(app)
        await b.get("/registrieren")
        await b.submit(data={"email": "erika@example.org", "passwort": NEW_PASSWORD})
        assert b.title.startswith(SENT_TITLE)
        assert b.links("")  # the page renders in full
        assert "E-Mail noch einmal senden" in b.text()
        for task in list(app.background_tasks):
            await task
    assert any("mail not sent" in r.getMessage() for r in caplog.records)


async def test_mail_in_the_visitors_language(mail_app: Quart, mailbox: Mailbox) -> None:
    b = Browser(mail_app)
    await b.get("/registrieren?lang=en")
    await b.submit(data={"email": "en@example.org", "passwort": NEW_PASSWORD})
    message = await mailbox.wait_for("en@example.org")
    assert message["Subject"] == "Please confirm your email address"
    assert message["Content-Language"] == "en"


async def test_password_rehashed_on_login(mail_app: Quart) -> None:
    db = mail_app.config["DB"]
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    account = await account_repo.create(db, "alt@example.org", weak, confirmed=True)
    assert needs_rehash(weak)
    b = Browser(mail_app)
    await _login(b, "alt@example.org", PASSWORD, follow=False)
    again = await account_repo.get(db, account.id)
    assert again is not None and again.password_hash != weak
    assert again.password_hash.startswith("$argon2id$")
    assert not needs_rehash(again.password_hash)


async def test_second_factor_asked_before_login(
    mail_app: Quart, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    async def required(db: object, account: account_repo.Account) -> bool:
        calls.append(account.email)
        return True

    module = sys.modules.get("app.identity.passkeys") or types.ModuleType("app.identity.passkeys")
    monkeypatch.setitem(sys.modules, "app.identity.passkeys", module)
    monkeypatch.setattr(module, "second_factor_required", required, raising=False)
    account = await make_account(mail_app, "erika@example.org")
    b = Browser(mail_app)
    await b.get("/anmelden?weiter=/antraege")
    response = await b.submit(
        "/anmelden",
        {"email": "erika@example.org", "passwort": PASSWORD, "weiter": "/antraege"},
        follow=False,
    )
    assert response.headers["Location"] == "/anmelden/zweiter-faktor"
    assert calls == ["erika@example.org"]
    await b.get("/")
    assert not _logged_in(b)
    async with mail_app.config["DB"].connect() as conn:
        row = (await conn.execute(select(sessions))).one()
    assert row.account_id is None and "account_id" not in row.data
    assert row.data["pending_login"]["account_id"] == account.id
    assert row.data["pending_login"]["weiter"] == "/antraege"


# -- the demo inbox -------------------------------------------------------------------------


async def test_demo_inbox_shows_caught_mail(app_with: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "caught"
    port = mail_module.free_port()
    catcher = mail_module.start_catcher(folder, port)
    try:
        async with app_with(demo=True, smtp_port=port, mail_catcher_dir=folder) as app:
            b = Browser(app)
            await b.get("/dev/mail")
            assert "Noch keine E-Mails" in b.text()
            await b.get("/registrieren")
            await b.submit(data={"email": "probe@example.org", "passwort": NEW_PASSWORD})
            assert b.links("Test-Postfach öffnen") == ["/dev/mail"]
            for task in list(app.background_tasks):
                await task
            await b.get("/dev/mail")
            opened = b.links("Bitte bestätigen Sie Ihre E-Mail-Adresse")
            assert len(opened) == 1 and "probe@example.org" in b.text()
            await b.get(opened[0])
            link = [h for h in b.links("http") if "/registrieren/bestaetigen/" in h]
            assert len(link) == 1
            await b.get(link[0].split("localhost", 1)[1])
            assert "E-Mail-Adresse bestätigen" in b.title
            await b.get("/dev/mail/..%2F..%2Fetc%2Fpasswd", expect=404)
            await b.get("/dev/mail/nichts", expect=404)
    finally:
        catcher.stop()


async def test_no_inbox_outside_demo_mode(app: Quart, visitor: Browser) -> None:
    await visitor.get("/dev/mail", expect=404)
