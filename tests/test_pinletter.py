"""The PIN letter (level pin_brief): the letter itself, and linking the Kundennummer with it."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pikepdf
import pytest
from identity_helpers import make_account, sign_in
from konto_helpers import LEON, add_customer, letter_for, letters
from quart import Quart
from sqlalchemy import insert, update
from test_documents_pdf import _extract_text, _structure_types

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import pin_letters, rate_events
from app.identity.passwords import verify_password
from app.identity.pinletter import ALPHABET, PIN_TRIES, cli_main, format_code
from app.settings import Settings
from conftest import Browser, assert_rejected, typed

ROOT = Path(__file__).resolve().parent.parent
CODE_RE = re.compile(rf"\b([{ALPHABET}]{{4}}) ([{ALPHABET}]{{4}}) ([{ALPHABET}]{{4}})\b")
WRONG = "Die Kundennummer und der Code passen nicht zusammen."
BLOCKED = "zu oft falsch eingegeben und ist jetzt gesperrt"


def wrong_code(code: str) -> str:
    """A well-formed code that is not ``code``."""
    first = ALPHABET[(ALPHABET.index(code[0]) + 1) % len(ALPHABET)]
    return first + code[1:]


async def basis_user(app: Quart, email: str = "erika@example.org") -> tuple[Browser, str]:
    b = Browser(app)
    account = await make_account(app, email)
    token = await sign_in(b, account)
    return b, token


async def enter(b: Browser, kundennummer: str, code: str, *, expect: int = 422) -> None:
    await b.get("/konto/pin")
    await b.submit(data={"kundennummer": kundennummer, "code": code}, expect=expect)


# -- the letter -----------------------------------------------------------------------------


async def test_cli_writes_a_tagged_letter_and_prints_only_where(
    app: Quart, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_customer(app)
    out = tmp_path / "briefe" / "pin.pdf"

    status = await cli_main(Settings(data_dir=tmp_path, env="test"), "022d 267673", out)

    assert status == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert os.stat(out).st_mode & 0o077 == 0  # the letter holds a live code: owner only
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/StructTreeRoot" in pdf.Root
        assert pdf.Root.MarkInfo.Marked is True
        assert str(pdf.Root.Lang) == "de"
        assert pdf.open_metadata()["pdfuaid:part"] == "1"
        assert {"/H1", "/P", "/L"} <= set(_structure_types(pdf))
    text = _extract_text(data)
    for expected in (
        "Erika Mustermann",
        "Heidestraße 17",
        "51147 Köln",
        "022D267673",
        "Ihr Code für das Online-Konto",
        "/konto/pin",
        "nie am Telefon",
        "Der Code gilt bis zum",
    ):
        assert expected in text, expected
    match = CODE_RE.search(text)
    assert match, text
    code = "".join(match.groups())
    printed = capsys.readouterr()
    assert str(out) in printed.out
    assert code not in printed.out.replace(" ", "") and match.group(0) not in printed.out
    assert code not in printed.err.replace(" ", "")

    # only a hash is stored, valid for 30 days, no attempts yet
    [row] = await letters(app)
    assert code not in row.code_hash
    assert await verify_password(row.code_hash, code)
    assert row.attempts == 0 and row.used_at is None
    expires = row.expires_at.replace(tzinfo=utcnow().tzinfo)
    assert timedelta(days=29) < expires - utcnow() <= timedelta(days=30)

    # the printed code links an account
    b, _token = await basis_user(app)
    await enter(b, "022D267673", match.group(0), expect=303)
    assert b.path == "/konto"


def test_cli_refuses_an_unknown_customer(tmp_path: Path) -> None:
    out = tmp_path / "pin.pdf"
    env = {**os.environ, "JCD_ENV": "test", "JCD_DEMO": ""}
    command = ["pin-letter", "999X000000", "--out", str(out), "--data-dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "app", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "999X000000" in result.stderr
    assert not out.exists()


async def test_a_new_letter_invalidates_the_old_one(app: Quart) -> None:
    await add_customer(app)
    old, _ = await letter_for(app)
    new, _ = await letter_for(app)
    b, _token = await basis_user(app)

    await enter(b, "022D267673", old)
    assert_rejected(b, {"code": WRONG})
    await b.submit(data={"kundennummer": "022D267673", "code": new})
    assert b.path == "/konto"


# -- /konto/pin -------------------------------------------------------------------------------


async def test_the_code_links_the_account_once_and_rotates_the_session(app: Quart) -> None:
    await add_customer(app)
    code, _ = await letter_for(app)
    b, token = await basis_user(app)
    account = await account_repo.by_email(app.config["DB"], "erika@example.org")
    assert account is not None

    await b.get("/konto/pin")
    assert b.response is not None and b.response.headers["Cache-Control"] == "no-store"
    assert 'autocomplete="one-time-code"' in b.html
    # pasted from anywhere: small letters, hyphens and spaces are fine
    spaced = format_code(code).lower().replace(" ", "-")
    await b.submit(data={"kundennummer": " 022d267673 ", "code": f" {spaced} "})
    assert b.url == "/konto?verbunden=1"
    assert "Ihr Konto ist jetzt mit Ihrer Kundennummer verbunden." in b.text()
    assert "Ihr Konto ist mit Ihrer Kundennummer verbunden." in b.text()

    linked = await account_repo.get(app.config["DB"], account.id)
    assert linked is not None
    assert (linked.kundennummer, linked.level) == ("022D267673", "pin_brief")
    [row] = await letters(app)
    assert row.used_at is not None and row.used_by == account.id
    levels = [e for e in await audit.entries(app.config["DB"], account.id) if e.action == "level"]
    assert levels and levels[-1].details["after"] == "pin_brief"
    assert levels[-1].details["method"] == "pin_brief"

    # a new session id: the old cookie is no longer a session
    assert b.client.cookie_jar is not None
    now = {c.name: c.value for c in b.client.cookie_jar}
    assert now["jcd_session"] != token
    stale = Browser(app)
    stale.client.set_cookie("localhost", "jcd_session", token)
    await stale.get("/konto", expect=303)
    assert stale.response is not None
    assert stale.response.headers["Location"].startswith("/anmelden")
    # the new session is at level pin_brief: the decisions open
    await b.get("/konto/bescheide")

    # the code works once: another account gets the same answer as for any wrong code
    other, _ = await basis_user(app, "zweite@example.org")
    await enter(other, "022D267673", code)
    assert_rejected(other, {"code": WRONG}, kept={"kundennummer": "022D267673"})

    # the linked account sees that it is linked, and posting again changes nothing
    await b.get("/konto/pin")
    assert "schon mit der Kundennummer 022D267673 verbunden" in b.text()
    assert 'name="code"' not in b.html


async def test_wrong_codes_count_and_five_block_the_letter(app: Quart) -> None:
    await add_customer(app)
    code, _ = await letter_for(app)
    b, _token = await basis_user(app)

    for attempt in range(1, 5):
        await enter(b, "022D267673", wrong_code(code))
        assert_rejected(b, {"code": WRONG}, kept={"kundennummer": "022D267673"})
        [row] = await letters(app)
        assert row.attempts == attempt
    await enter(b, "022D267673", wrong_code(code))
    assert_rejected(b, {"code": BLOCKED})
    assert "neuen Brief" in b.field_error("code")  # type: ignore[operator]

    # blocked: even the right code no longer works
    await enter(b, "022D267673", code)
    assert_rejected(b, {"code": BLOCKED})
    account = await account_repo.by_email(app.config["DB"], "erika@example.org")
    assert account is not None and account.kundennummer is None and account.level == "basis"
    [row] = await letters(app)
    assert row.attempts == 5 and row.used_at is None
    refusals = [
        e.details["outcome"]
        for e in await audit.entries(app.config["DB"], account.id)
        if e.action == "pin_refused"
    ]
    assert refusals == ["wrong"] * 4 + ["blocked"] * 2


async def test_no_letter_and_wrong_code_answer_the_same(app: Quart) -> None:
    """Nobody learns which Kundennummern exist or have a letter."""
    await add_customer(app)
    code, _ = await letter_for(app)
    b, _token = await basis_user(app)

    await enter(b, "022D267673", wrong_code(code))
    with_letter = (b.status, b.field_error("code"))
    await enter(b, "111A111111", code)
    without_customer = (b.status, b.field_error("code"))
    await add_customer(app, "034D998877", LEON, bg_nummer="67890BG0098765")
    await enter(b, "034D998877", code)
    without_letter = (b.status, b.field_error("code"))

    assert with_letter == without_customer == without_letter
    assert WRONG in (with_letter[1] or "")


async def test_an_expired_letter_is_refused(app: Quart) -> None:
    await add_customer(app)
    code, _ = await letter_for(app)
    async with app.config["DB"].begin() as conn:
        await conn.execute(update(pin_letters).values(expires_at=utcnow() - timedelta(minutes=1)))
    b, _token = await basis_user(app)

    await enter(b, "022D267673", code)
    assert_rejected(b, {"code": "Dieser Code ist abgelaufen."})
    account = await account_repo.by_email(app.config["DB"], "erika@example.org")
    assert account is not None and account.kundennummer is None


async def test_a_kundennummer_linked_to_another_account_is_refused(app: Quart) -> None:
    await add_customer(app)
    await make_account(app, "erste@example.org", level="pin_brief", kundennummer="022D267673")
    code, _ = await letter_for(app)
    b, _token = await basis_user(app, "zweite@example.org")

    await enter(b, "022D267673", code)
    assert_rejected(b, {"kundennummer": "schon mit einem anderen Konto verbunden"})
    account = await account_repo.by_email(app.config["DB"], "zweite@example.org")
    assert account is not None and account.kundennummer is None and account.level == "basis"
    [row] = await letters(app)
    assert row.used_at is None  # the letter is not used up by the refusal


async def test_tries_are_limited_per_account(app: Quart) -> None:
    await add_customer(app)
    code, _ = await letter_for(app)
    b, _token = await basis_user(app)
    account = await account_repo.by_email(app.config["DB"], "erika@example.org")
    assert account is not None
    async with app.config["DB"].begin() as conn:
        for _ in range(PIN_TRIES.limit):
            await conn.execute(
                insert(rate_events).values(bucket="pin", key=account.id, at=utcnow())
            )

    await enter(b, "022D267673", code)
    assert_rejected(b, {"code": "Sie haben es zu oft versucht."})
    [row] = await letters(app)
    assert row.attempts == 0 and row.used_at is None


async def test_input_errors_keep_what_was_typed(app: Quart) -> None:
    b, _token = await basis_user(app)
    await enter(b, "", "")
    assert_rejected(
        b,
        {"kundennummer": "Bitte füllen Sie dieses Feld aus.", "code": "Bitte füllen"},
    )
    await b.submit(data={"kundennummer": "12345", "code": "ABC1"}, expect=422)
    assert_rejected(
        b,
        {"kundennummer": "Die Kundennummer hat 10 Zeichen", "code": "Der Code hat 12"},
        kept={"kundennummer": "12345", "code": "ABC1"},
    )


async def test_weiter_brings_the_user_back_and_only_on_this_site(app: Quart) -> None:
    await add_customer(app)
    code, _ = await letter_for(app)
    b, _token = await basis_user(app)
    await b.get("/konto/pin?weiter=//evil.example/x")
    assert typed(b.html, "weiter") is None
    await b.get("/konto/pin?weiter=/konto/bescheide")
    weiter = typed(b.html, "weiter")
    assert weiter == "/konto/bescheide"
    await b.submit("/konto/pin", {"kundennummer": "022D267673", "code": code, "weiter": weiter})
    assert b.path == "/konto/bescheide"


async def test_not_logged_in_goes_to_the_login(app: Quart, visitor: Browser) -> None:
    await visitor.get("/konto/pin", expect=303)
    assert visitor.response is not None
    assert visitor.response.headers["Location"] == "/anmelden?weiter=/konto/pin"
