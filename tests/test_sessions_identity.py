"""Logged-in sessions (SECURITY.md negative test 11, WCAG 2.2.1): a new id at login and level
change, logout really ends the session, idle and absolute timeouts, the extend button."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from identity_helpers import PASSWORD, make_account, sign_in
from quart import Quart, Response
from sqlalchemy import func, select, update

from app.db import utcnow
from app.db.tables import sessions
from app.identity import raise_level, require_level
from conftest import Browser

COOKIE = "jcd_session"
PROTECTED = "/__test__/geschuetzt"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _cookie(b: Browser) -> str | None:
    for cookie in b.client.cookie_jar or []:
        if cookie.name == COOKIE:
            return cookie.value
    return None


def _set_cookie(b: Browser, value: str) -> None:
    b.client.set_cookie("localhost", COOKIE, value)


async def _row(app: Quart, token: str | None) -> Any:
    async with app.config["DB"].connect() as conn:
        return (
            await conn.execute(select(sessions).where(sessions.c.id_hash == _hash(token or "")))
        ).first()


async def _age(app: Quart, token: str, **delta: float) -> None:
    """Pretend the session was last used ``delta`` ago."""
    async with app.config["DB"].begin() as conn:
        await conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == _hash(token))
            .values(last_seen_at=utcnow() - timedelta(**delta))
        )


def _protect(app: Quart) -> None:
    """A page behind login (level basis), like every page of the account area."""

    @app.get(PROTECTED)
    async def protected() -> Response | str:
        return require_level("basis") or "geheim"

    @app.post("/__test__/stufe")
    async def level_up() -> Response:
        await raise_level("pin_brief", {"method": "test"})
        return Response(status=204)


def _logged_in(b: Browser) -> bool:
    return "Mein Konto" in b.html and 'action="/abmelden"' in b.html


async def _password_login(b: Browser, email: str = "erika@example.org") -> None:
    await b.get("/anmelden")
    await b.submit("/anmelden", {"email": email, "passwort": PASSWORD}, follow=False)


# -- 11: a new session id at login and at every level change --------------------------------


async def test_session_id_changes_at_login(app: Quart) -> None:
    await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    await b.get("/anmelden")
    before = _cookie(b)
    assert before and await _row(app, before) is not None  # the login form's session
    await b.submit("/anmelden", {"email": "erika@example.org", "passwort": PASSWORD}, follow=False)
    after = _cookie(b)
    assert after and after != before
    assert await _row(app, before) is None  # the old row is gone
    assert (await _row(app, after)).account_id is not None
    await b.get(PROTECTED)
    assert b.html == "geheim"

    # an attacker who fixed (or stole) the pre-login cookie gets nothing
    attacker = Browser(app)
    _set_cookie(attacker, before)
    await attacker.get(PROTECTED, expect=303)
    await attacker.get("/")
    assert not _logged_in(attacker)


async def test_session_id_changes_at_level_change(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    token = await sign_in(b, account)
    await b.get("/abmelden")
    await b.submit("/__test__/stufe", {}, expect=204)
    new = _cookie(b)
    assert new and new != token
    assert await _row(app, token) is None
    assert (await _row(app, new)).data["level"] == "pin_brief"


# -- 11: logout really ends the session -----------------------------------------------------


async def test_logout_ends_the_session_on_the_server(app: Quart) -> None:
    await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    await _password_login(b)
    token = _cookie(b)
    await b.get("/")
    assert _logged_in(b)
    response = await b.submit("/abmelden", {}, follow=False)
    assert response.headers["Location"] == "/abmelden"
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert f"{COOKIE}=;" in response.headers["Set-Cookie"]  # deleted in the browser
    assert "Expires=Thu, 01 Jan 1970" in response.headers["Set-Cookie"]
    assert await _row(app, token) is None
    await b.get("/abmelden")
    assert b.title.startswith("Sie sind abgemeldet")
    # the old cookie, replayed, opens nothing
    replay = Browser(app)
    _set_cookie(replay, token or "")
    await replay.get(PROTECTED, expect=303)
    assert replay.response is not None
    assert replay.response.headers["Location"].startswith("/anmelden?weiter=")


async def test_logout_keeps_other_sessions_and_everywhere_ends_them(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    _protect(app)
    phone, library, laptop = Browser(app), Browser(app), Browser(app)
    await sign_in(phone, account)
    await sign_in(library, account)
    await _password_login(laptop)
    await phone.get("/")
    await phone.submit("/abmelden", {})
    await library.get(PROTECTED)
    assert library.html == "geheim"  # logging out on one device leaves the others

    await laptop.get("/abmelden")
    assert laptop.links("")  # the page with both buttons
    assert "Auf allen Geräten abmelden" in laptop.text()
    response = await laptop.submit("/abmelden/ueberall", {}, follow=False)
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    await library.get(PROTECTED, expect=303)
    await laptop.get(PROTECTED, expect=303)
    async with app.config["DB"].connect() as conn:
        left = (
            await conn.execute(select(func.count()).where(sessions.c.account_id == account.id))
        ).scalar_one()
    assert left == 0


# -- idle and absolute timeouts -------------------------------------------------------------


async def test_idle_timeout_sends_to_login_with_a_polite_note(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    token = await sign_in(b, account)
    await _age(app, token, minutes=29)
    await b.get(PROTECTED)
    assert b.html == "geheim"  # 29 minutes idle: still fine, and the visit counts
    assert (await _row(app, token)).last_seen_at.replace(tzinfo=None) > (
        utcnow() - timedelta(seconds=30)
    ).replace(tzinfo=None)
    await _age(app, token, minutes=31)
    await b.get(PROTECTED, expect=303)
    location = b.response.headers["Location"]  # type: ignore[union-attr]
    assert location == f"/anmelden?weiter={PROTECTED}&abgelaufen=1"
    await b.get(location)
    assert "zu Ihrer Sicherheit abgemeldet" in b.text()
    assert "eingegeben haben, ist gespeichert" in b.text()
    assert not _logged_in(b)
    # logging in again goes back to where the visitor was
    form = {"email": "erika@example.org", "passwort": PASSWORD, "weiter": PROTECTED}
    response = await b.submit("/anmelden", form, follow=False)
    assert response.headers["Location"] == PROTECTED


async def test_absolute_timeout(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    token = await sign_in(b, account)
    await b.get(PROTECTED)
    hours = app.config["SETTINGS"].session_absolute_hours
    async with app.config["DB"].begin() as conn:
        await conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == _hash(token))
            .values(
                created_at=utcnow() - timedelta(hours=hours, minutes=1),
                expires_at=utcnow() - timedelta(minutes=1),
                last_seen_at=utcnow(),  # active a moment ago, yet the end is the end
            )
        )
    await b.get(PROTECTED, expect=303)
    await b.get("/")
    assert not _logged_in(b)


# -- the warning and the extend button (WCAG 2.2.1) -----------------------------------------


async def test_pages_carry_the_idle_warning_only_when_logged_in(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    b = Browser(app)
    await b.get("/")
    assert "data-session-idle" not in b.html and 'id="session-warning"' not in b.html
    assert 'data-passkey-js="/static/js/passkey.' in b.html
    await sign_in(b, account)
    await b.get("/")
    assert 'data-session-idle="30"' in b.html
    assert 'id="session-warning"' in b.html and 'role="alert"' in b.html
    assert 'data-msg-extend="Sitzung verlängern"' in b.html
    assert 'data-msg-extended="Ihre Sitzung wurde verlängert."' in b.html
    await b.get("/?lang=en")
    assert 'data-msg-extend="Sitzung verlängern"' not in b.html  # translated


async def test_extend_session(app: Quart) -> None:
    account = await make_account(app, "erika@example.org")
    _protect(app)
    b = Browser(app)
    token = await sign_in(b, account)
    await b.get("/")
    csrf = b.html.split('data-csrf="', 1)[1].split('"', 1)[0]
    await _age(app, token, minutes=29)
    response = await b.client.post("/sitzung/verlaengern", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204
    assert await response.get_data() == b""
    seen = (await _row(app, token)).last_seen_at.replace(tzinfo=None)
    assert seen > (utcnow() - timedelta(seconds=30)).replace(tzinfo=None)
    await b.get(PROTECTED)
    assert b.html == "geheim"
    # without the token, or from another site: refused
    response = await b.client.post("/sitzung/verlaengern")
    assert response.status_code == 403
    response = await b.client.post(
        "/sitzung/verlaengern",
        headers={"X-CSRF-Token": csrf, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


async def test_extend_needs_a_login(app: Quart) -> None:
    b = Browser(app)
    await b.get("/anmelden")
    response = await b.client.post("/sitzung/verlaengern", headers={"X-CSRF-Token": b.token()})
    assert response.status_code == 401
    # an ended session cannot be brought back
    account = await make_account(app, "erika@example.org")
    token = await sign_in(b, account)
    await b.get("/")
    csrf = b.html.split('data-csrf="', 1)[1].split('"', 1)[0]
    await _age(app, token, minutes=31)
    response = await b.client.post("/sitzung/verlaengern", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
