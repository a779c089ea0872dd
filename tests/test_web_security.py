"""SECURITY.md negative tests for the web layer: 7 (CSRF), 8 (headers on every response),
9 (uploads through the form) and 10 (another person's objects → 404)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from quart import Quart
from quart.wrappers import Response
from sqlalchemy import func, select

from app.db.tables import documents, drafts
from conftest import (
    PERSON,
    Browser,
    assert_rejected,
    date_parts,
    person_step,
    start_flow,
    tiny_pdf,
)

# -- 7 CSRF ---------------------------------------------------------------------------------


async def _draft_version(app: Quart, draft_id: str) -> int:
    async with app.config["DB"].connect() as conn:
        return (
            await conn.execute(select(drafts.c.version).where(drafts.c.id == draft_id))
        ).scalar_one()


async def _forbidden(b: Browser, response: Response) -> None:
    assert response.status_code == 403
    assert "Diese Aktion ist nicht erlaubt" in b.title
    assert "nicht von dieser Website" in b.text()


async def test_post_without_token_is_refused(app: Quart, visitor: Browser) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    url = b.url
    await _forbidden(b, await b.submit(url, PERSON, token=False, expect=403))
    await _forbidden(b, await b.submit(url, {**PERSON, "csrf_token": "falsch"}, expect=403))
    await _forbidden(b, await b.submit(url, {**PERSON, "csrf_token": ""}, expect=403))
    assert await _draft_version(app, draft_id) == 1  # nothing was saved


async def test_post_without_any_session_is_refused(app: Quart) -> None:
    b = Browser(app)
    await b.submit("/veraenderung/start", {"csrf_token": "x"}, expect=403)
    async with app.config["DB"].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(drafts))).scalar() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_cross_site_post_is_refused_even_with_the_token(
    app: Quart, visitor: Browser, headers: dict[str, str]
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    await _forbidden(b, await b.submit(data=PERSON, headers=headers, expect=403))
    assert await _draft_version(app, draft_id) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_same_origin_post_with_token_is_accepted(
    app: Quart, visitor: Browser, headers: dict[str, str]
) -> None:
    b = visitor
    draft_id = await start_flow(b, "veraenderung")
    await b.submit(data=PERSON, headers=headers, expect=303)
    assert await _draft_version(app, draft_id) == 2


async def test_token_of_another_session_is_refused(app: Quart) -> None:
    mine, theirs = Browser(app), Browser(app)
    await start_flow(mine, "veraenderung")
    await theirs.get("/veraenderung")
    await mine.submit(data={**PERSON, "csrf_token": theirs.token()}, expect=403)


async def test_get_never_changes_state(app: Quart, visitor: Browser) -> None:
    b = visitor
    response = await b.client.get("/veraenderung/start")
    assert response.status_code == 405
    async with app.config["DB"].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(drafts))).scalar() == 0


# -- 8 security headers on every kind of response -------------------------------------------

CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
)


def assert_security_headers(response: Response, what: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, f"{what}: CSP lacks {part}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") in (
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    ), what
    assert "camera=()" in headers.get("Permissions-Policy", ""), what


async def test_headers_on_every_response_type(app: Quart, visitor: Browser) -> None:
    @app.get("/__test__/crash")
    async def crash() -> Response:
        raise RuntimeError("boom")

    b = visitor
    seen: dict[str, Response] = {}

    async def fetch(what: str, url: str, status: int, **kw: object) -> Response:
        response = await b.client.get(url, **kw)  # type: ignore[arg-type]
        assert response.status_code == status, (what, response.status_code)
        seen[what] = response
        return response

    await fetch("page", "/", 200)
    await fetch("healthz", "/healthz", 200)
    await fetch("404", "/gibt-es-nicht", 404)
    crashed = await fetch("500", "/__test__/crash", 500)
    assert "Es ist ein Fehler aufgetreten" in await crashed.get_data(as_text=True)
    assert "boom" not in await crashed.get_data(as_text=True)
    await fetch("404 htmx", "/gibt-es-nicht", 404, headers={"HX-Request": "true"})
    css = app.config["STATIC"].url("css/app.css")
    await fetch("static", css, 200)
    await fetch("static br", css, 200, headers={"Accept-Encoding": "br"})
    await fetch("static 404", "/static/css/app.000000000000.css", 404)
    await fetch("html br", "/", 200, headers={"Accept-Encoding": "br, gzip"})

    draft_id = await start_flow(b, "veraenderung")
    seen["303"] = await b.client.post("/veraenderung/start", form={"csrf_token": b.token()})
    await b.submit(data={"kundennummer": "x"}, expect=422)
    seen["422"] = b.response  # type: ignore[assignment]
    seen["fragment"] = await b.submit(data=PERSON, headers={"HX-Request": "true"}, expect=200)
    await b.submit(data={"action": "weiter"})
    seen["fragment 422"] = await b.submit(data={}, headers={"HX-Request": "true"}, expect=422)
    art = b.url
    seen["403"] = await b.submit(data={}, token=False, expect=403)
    await b.get(art)
    await b.submit(data={"art": "kontakt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    await b.submit(data={"email": "erika@beispiel.de"})
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    await b.submit(data={"declaration": "ja"})
    seen["receipt"] = b.response  # type: ignore[assignment]
    pdf = await fetch("pdf", f"{b.path}/quittung.pdf", 200)
    assert pdf.mimetype == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert draft_id

    for what, response in seen.items():
        assert_security_headers(response, what)
    assert seen["404"].mimetype == "text/html"
    assert seen["healthz"].mimetype == "application/json"


async def test_hsts_behind_https(
    app_with: Callable[..., AbstractAsyncContextManager[Quart]],
) -> None:
    async with app_with(secure_cookies=True) as app:
        response = await app.test_client().get("/")
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        assert_security_headers(response, "https page")
    async with app_with() as app:
        response = await app.test_client().get("/")
        assert "Strict-Transport-Security" not in response.headers


# -- 9 uploads through the form -------------------------------------------------------------


async def _upload_page(b: Browser) -> str:
    """Veränderung → change "Geburt": a page with a text field and a required upload."""
    await start_flow(b, "veraenderung")
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "geburt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 10, 2026)})
    assert b.path.endswith("/geburt")
    return b.url


async def _document_count(app: Quart) -> int:
    async with app.config["DB"].connect() as conn:
        return (await conn.execute(select(func.count()).select_from(documents))).scalar_one()


TYPE_ERROR = "Bitte laden Sie nur PDF-, JPG- oder PNG-Dateien hoch."


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"<!doctype html><script>alert(1)</script>", "Geburtsurkunde.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "Foto.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "Urkunde.jpg"),
        (b"PK\x03\x04" + b"\x00" * 40, "Urkunde.pdf"),
    ],
)
async def test_spoofed_type_is_refused(
    app: Quart, visitor: Browser, content: bytes, filename: str
) -> None:
    b = visitor
    await _upload_page(b)
    await b.submit(data={"vorname": "Lina"}, files={"nachweis": (content, filename)}, expect=422)
    assert_rejected(b, {"nachweis": TYPE_ERROR}, kept={"vorname": "Lina"})
    assert "<script>alert" not in b.html and "onload=" not in b.html
    assert await _document_count(app) == 0


async def test_oversized_upload_is_refused(
    app_with: Callable[..., AbstractAsyncContextManager[Quart]],
) -> None:
    async with app_with(upload_max_bytes=4000) as app:
        b = Browser(app)
        await _upload_page(b)
        big = tiny_pdf() + b"%" + b"x" * 5000 + b"\n"
        await b.submit(data={"vorname": "Lina"}, files={"nachweis": (big, "gross.pdf")}, expect=422)
        assert_rejected(b, {"nachweis": "Die Datei ist größer als"}, kept={"vorname": "Lina"})
        assert await _document_count(app) == 0
        # a file under the limit on the same page is fine
        await b.submit(data={"vorname": "Lina"}, files={"nachweis": (tiny_pdf(), "ok.pdf")})
        assert await _document_count(app) == 1


async def test_request_far_over_the_limit_is_refused_with_headers(
    app_with: Callable[..., AbstractAsyncContextManager[Quart]],
) -> None:
    async with app_with(upload_max_bytes=1000) as app:
        b = Browser(app)
        url = await _upload_page(b)
        huge = b"%PDF-1.7\n" + b"x" * (2 * 1024 * 1024)
        response = await b.submit(
            url, {"vorname": "Lina"}, files={"nachweis": (huge, "a.pdf")}, expect=413
        )
        assert_security_headers(response, "413")
        assert await _document_count(app) == 0


# The test client writes the multipart filename as is and the parser undoes backslash
# escapes, so a Windows path is doubled here to arrive as C:\Users\… on the server.
@pytest.mark.parametrize(
    "filename",
    [
        "../../../etc/Geburtsurkunde.pdf",
        "C:\\\\Users\\\\erika\\\\Documents\\\\Geburtsurkunde.pdf",
        "/home/erika/Geburtsurkunde.pdf",
        "..\\\\..\\\\Geburtsurkunde.pdf",
    ],
)
async def test_path_in_file_name_is_not_shown(app: Quart, visitor: Browser, filename: str) -> None:
    b = visitor
    url = await _upload_page(b)
    await b.submit(data={"vorname": "Lina"}, files={"nachweis": (tiny_pdf(), filename)})
    assert b.path.endswith("/aenderungen/_liste")
    await b.get(url)
    assert "Hochgeladene Datei behalten: Geburtsurkunde.pdf" in b.text()
    for part in ("etc", "Users", "erika/", "home", "..", "\\"):
        assert part not in b.text().split("Hochgeladene Datei behalten:")[1].split(".pdf")[0]
    async with app.config["DB"].connect() as conn:
        row = (await conn.execute(select(documents))).one()
    assert row.display_name == "Geburtsurkunde.pdf"
    assert "/" not in row.storage_key and "\\" not in row.storage_key


async def test_stored_file_is_not_under_the_web_root(app: Quart, visitor: Browser) -> None:
    b = visitor
    await _upload_page(b)
    await b.submit(data={"vorname": "Lina"}, files={"nachweis": (tiny_pdf(), "g.pdf")})
    async with app.config["DB"].connect() as conn:
        row = (await conn.execute(select(documents))).one()
    response = await b.client.get(f"/static/{row.storage_key}")
    assert response.status_code == 404
    data_dir = app.config["SETTINGS"].data_dir
    stored = [p for p in data_dir.rglob("*") if p.is_file() and row.storage_key in p.name]
    assert stored and all("static" not in p.parts for p in stored)


# -- 10 another person's objects ------------------------------------------------------------


async def _submitted(b: Browser) -> tuple[str, str]:
    draft_id = await start_flow(b, "veraenderung")
    await person_step(b, check_errors=False)
    await b.submit(data={"action": "weiter"})
    await b.submit(data={"art": "kontakt"})
    await b.submit(data={"person": "ich", **date_parts("datum", 1, 1, 2027)})
    await b.submit(data={"email": "erika@beispiel.de"})
    await b.submit(data={"action": "weiter"})
    await b.submit(data={})
    await b.submit(data={"declaration": "ja"})
    return draft_id, b.path


async def test_another_sessions_draft_and_receipt_are_404(app: Quart) -> None:
    owner, other = Browser(app), Browser(app)
    open_draft = await start_flow(owner, "ortsabwesenheit")
    sent_draft, receipt = await _submitted(owner)
    await start_flow(other, "veraenderung")  # the other visitor has a session and a draft
    token = other.token()

    for url in (
        f"/ortsabwesenheit/{open_draft}/wer/person",
        f"/ortsabwesenheit/{open_draft}/_pruefen",
        f"/veraenderung/{sent_draft}/wer/person",
        receipt,
        f"{receipt}/quittung.pdf",
    ):
        await other.get(url, expect=404)
        assert "Seite nicht gefunden" in other.title
        await owner.get(url, expect=None)
        assert owner.status in (200, 303)
    await other.get(f"/veraenderung/{open_draft}/wer/person", expect=404)  # wrong service too
    await other.submit(
        f"/ortsabwesenheit/{open_draft}/wer/person", {**PERSON, "csrf_token": token}, expect=404
    )
    # without any session
    stranger = Browser(app)
    for url in (f"/ortsabwesenheit/{open_draft}/wer/person", receipt, f"{receipt}/quittung.pdf"):
        await stranger.get(url, expect=404)


async def test_receipt_of_another_service_is_404(app: Quart, visitor: Browser) -> None:
    _, receipt = await _submitted(visitor)
    submission_id = receipt.rsplit("/", 1)[1]
    await visitor.get(f"/ortsabwesenheit/eingang/{submission_id}", expect=404)
    await visitor.get(f"/ortsabwesenheit/eingang/{submission_id}/quittung.pdf", expect=404)


async def test_ids_in_urls_are_random(app: Quart, visitor: Browser) -> None:
    ids = [await start_flow(visitor, "veraenderung") for _ in range(5)]
    assert len(set(ids)) == 5
    for draft_id in ids:
        assert len(draft_id) >= 22 and not draft_id.isdigit()
    assert len({i[:8] for i in ids}) == len(ids)  # not a counter with a common stem
    _, receipt = await _submitted(visitor)
    assert len(receipt.rsplit("/", 1)[1]) >= 22


# -- 7 and 8 for the account area (app/anmeldung.py) ----------------------------------------

ACCOUNT_ATTACKS = [  # (headers, token): None = no token, "" = the page's right token
    pytest.param({}, None, id="no-token"),
    pytest.param({}, "falsch", id="wrong-token"),
    pytest.param({"Origin": "https://evil.example"}, "", id="foreign-origin"),
    pytest.param({"Sec-Fetch-Site": "cross-site"}, "", id="cross-site"),
]


async def _accounts_and_sessions(app: Quart) -> tuple[int, int]:
    from app.db.tables import accounts, sessions

    async with app.config["DB"].connect() as conn:
        return (
            (await conn.execute(select(func.count()).select_from(accounts))).scalar_one(),
            (
                await conn.execute(select(func.count()).where(sessions.c.account_id.is_not(None)))
            ).scalar_one(),
        )


async def _forged(
    b: Browser, url: str, data: dict[str, str], headers: dict[str, str], token: str | None
) -> Response:
    if token:
        data = {**data, "csrf_token": token}
    response = await b.submit(url, data, headers=headers, token=token is not None, expect=403)
    await _forbidden(b, response)
    return response


@pytest.mark.parametrize(("headers", "token"), ACCOUNT_ATTACKS)
async def test_account_forms_refuse_forged_posts(
    app: Quart, headers: dict[str, str], token: str | None
) -> None:
    from identity_helpers import PASSWORD, make_account, sign_in

    account = await make_account(app, "erika@example.org")
    before = await _accounts_and_sessions(app)
    b = Browser(app)
    await b.get("/registrieren")
    await _forged(
        b, "/registrieren", {"email": "neu@example.org", "passwort": PASSWORD}, headers, token
    )
    await b.get("/anmelden")
    await _forged(b, "/anmelden", {"email": account.email, "passwort": PASSWORD}, headers, token)
    assert await _accounts_and_sessions(app) == before  # no account made, nobody logged in

    victim = Browser(app)
    await sign_in(victim, account)
    for url in ("/abmelden", "/abmelden/ueberall"):
        await victim.get("/")
        response = await _forged(victim, url, {}, headers, token)
        assert "Clear-Site-Data" not in response.headers
    await victim.get("/")
    assert "Mein Konto" in victim.html  # still logged in
    assert await _accounts_and_sessions(app) == (before[0], before[1] + 1)
    sent = {} if token is None else {"X-CSRF-Token": token or victim.token()}
    response = await victim.client.post("/sitzung/verlaengern", headers={**headers, **sent})
    assert response.status_code == 403
    assert_security_headers(response, "403 of /sitzung/verlaengern")


async def test_headers_on_every_response_of_the_account_area(
    app_with: Callable[..., AbstractAsyncContextManager[Quart]], mailbox: object
) -> None:
    from identity_helpers import PASSWORD, make_account

    seen: dict[str, Response] = {}
    async with app_with(smtp_port=mailbox.port) as app:  # type: ignore[attr-defined]
        await make_account(app, "erika@example.org")
        b = Browser(app)
        await b.get("/anmelden")
        seen["page"] = b.response  # type: ignore[assignment]
        seen["fragment"] = await b.client.get("/registrieren", headers={"HX-Request": "true"})
        await b.submit(data={"email": "", "passwort": ""}, expect=422)
        seen["422"] = b.response  # type: ignore[assignment]
        wrong = {"email": "erika@example.org", "passwort": "falsches-passwort"}
        for _ in range(5):
            await b.submit("/anmelden", wrong, expect=422)
        await b.submit("/anmelden", wrong, expect=429)
        seen["429"] = b.response  # type: ignore[assignment]
        await b.get("/passwort-neu/gibt-es-nicht", expect=404)
        seen["404"] = b.response  # type: ignore[assignment]
        await b.get("/passwort-vergessen")
        seen["303"] = await b.submit(data={"email": "leon@example.org"}, follow=False)

        account = await make_account(app, "leon@example.org")
        b = Browser(app)
        await b.get("/anmelden")
        login = {"email": account.email, "passwort": PASSWORD}
        seen["login 303"] = await b.submit("/anmelden", login, follow=False)
        await b.get("/")
        csrf = b.html.split('data-csrf="', 1)[1].split('"', 1)[0]
        seen["204"] = await b.client.post("/sitzung/verlaengern", headers={"X-CSRF-Token": csrf})
        seen["logout 303"] = await b.submit("/abmelden", {"csrf_token": csrf}, follow=False)
        await b.get("/abmelden")
        seen["logged out"] = b.response  # type: ignore[assignment]

    assert seen["204"].status_code == 204
    assert seen["logout 303"].headers["Clear-Site-Data"] == '"cache", "storage"'
    for what, response in seen.items():
        assert_security_headers(response, what)
    for what in ("page", "fragment", "422", "429", "404", "logged out"):
        assert seen[what].headers["Cache-Control"] == "no-store", what
