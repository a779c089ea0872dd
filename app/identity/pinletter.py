"""The PIN letter (level ``pin_brief``): a one-time code posted to the customer's address.

Whoever can read the customer's post can link the Kundennummer to their online account.
The code is random (60 bits), only its argon2 hash is stored, it expires, it works once,
and a letter is blocked after five wrong tries. Issuing a new letter invalidates the old
ones. ``issue_letter`` is what the staff area calls; ``cli_main`` is
``python -m app pin-letter KUNDENNUMMER --out FILE``.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from quart import current_app, g, render_template
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import customers as customer_repo
from app.db import utcnow
from app.documents.pdf import html_to_tagged_pdf
from app.i18n import VARIANTS
from app.settings import Settings
from app.web.language import gettext

from . import ratelimit
from .passwords import hash_password, verify_password

#: no 0/O, 1/I/L: nothing to mix up when typing the code from paper
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
VALID_DAYS = 30
#: tries per account, over all letters (the letter itself allows five)
PIN_TRIES = ratelimit.Limit("pin", 10, timedelta(hours=1))
BERLIN = ZoneInfo("Europe/Berlin")
KUNDENNUMMER_RE = re.compile(r"^\d{3}[A-Z]\d{6}$")

Outcome = Literal["linked", "wrong", "blocked", "expired", "taken", "too_many"]


class UnknownCustomer(LookupError):
    """No customer with this Kundennummer: no letter can be addressed."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Groups of four, as printed in the letter: ``ABCD EFGH JKMN``."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(raw: str) -> str:
    """What the user typed, without spaces and hyphens, in capitals (paste from anywhere)."""
    return re.sub(r"[\s\-\u2010-\u2015\u2212]", "", raw or "").upper()


def normalise_kundennummer(raw: str) -> str:
    return re.sub(r"\s", "", raw or "").upper()


def plausible_code(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(c in ALPHABET for c in code)


def _site() -> str:
    settings = current_app.config["SETTINGS"]
    return urlsplit(settings.public_origin).netloc or "jobcenter.digital"


async def render_letter(
    customer: customer_repo.Customer, code: str, expires_at: datetime, lang: str = "de"
) -> bytes:
    """The letter as a tagged PDF (PDF/UA), in ``lang`` (German unless asked otherwise)."""
    had_lang = "lang" in g
    previous = g.get("lang")
    g.lang = lang
    try:
        html = await render_template(
            "pages/konto/pin_letter.html",
            customer=customer,
            code=format_code(code),
            valid_until=expires_at.astimezone(BERLIN).date(),
            today=datetime.now(BERLIN).date(),
            site=_site(),
        )
        title = gettext("Ihr Code für das Online-Konto") + f" – {customer.kundennummer}"
    finally:
        if had_lang:
            g.lang = previous
        else:
            g.pop("lang", None)
    return await asyncio.to_thread(
        html_to_tagged_pdf, html, lang=VARIANTS[lang].html_lang, title=title
    )


async def issue_letter(
    db: AsyncEngine, kundennummer: str, *, lang: str = "de"
) -> tuple[str, bytes]:
    """Make a new letter for the customer: returns the code and the letter PDF.

    Needs an app context (templates, catalogs). Only the hash of the code is stored;
    older unused letters of the customer stop working. Raises UnknownCustomer.
    """
    customer = await customer_repo.get(db, normalise_kundennummer(kundennummer))
    if customer is None:
        raise UnknownCustomer(kundennummer)
    code = new_code()
    expires_at = utcnow() + timedelta(days=VALID_DAYS)
    pdf = await render_letter(customer, code, expires_at, lang)
    await customer_repo.add_letter(db, customer.kundennummer, await hash_password(code), expires_at)
    return code, pdf


# -- redeeming the code (/konto/pin) ------------------------------------------------------------


async def redeem(db: AsyncEngine, account_id: str, kundennummer: str, code: str) -> Outcome:
    """Check a code typed by the account holder and link the Kundennummer on success.

    "No letter for this Kundennummer" and "wrong code" answer the same (no enumeration of
    customers); whether a letter expired is told only to whoever knows its code.
    """
    if await ratelimit.blocked((PIN_TRIES, account_id)):
        return "too_many"
    await ratelimit.hit(PIN_TRIES, account_id)
    letter = await customer_repo.current_letter(db, kundennummer)
    if letter is None:
        await verify_password(None, code)  # the same time as a real check
        return "wrong"
    if not await customer_repo.take_attempt(db, letter.id):
        return "blocked"
    if not await verify_password(letter.code_hash, code):
        after = await customer_repo.letter(db, letter.id)
        return "blocked" if after is not None and after.blocked else "wrong"
    if letter.expired(utcnow()):
        return "expired"
    holder = await customer_repo.linked_account_id(db, kundennummer)
    if holder is not None and holder != account_id:
        return "taken"
    try:
        linked = await customer_repo.link_account(db, letter.id, account_id)
    except customer_repo.AlreadyLinked:
        return "taken"
    return "linked" if linked else "wrong"


# -- command line ---------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read: a letter holds a live code."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _letter_app(settings: Settings):  # type: ignore[no-untyped-def]
    """Just enough app to render the letter template: no routes, no static files."""
    from quart import Quart

    from app import i18n
    from app.web import templating

    app = Quart("app", template_folder=".", static_folder=None)
    app.config.update(SETTINGS=settings, CATALOGS=i18n.load_catalogs())
    templating.install(app)
    return app


async def cli_main(settings: Settings, kundennummer: str, out: Path) -> int:
    """Write the letter PDF to ``out``; print only where it went (never the code)."""
    from app import db as db_module

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db_module.create_engine(settings.db_url)
    try:
        await db_module.migrate(engine)
        number = normalise_kundennummer(kundennummer)
        if not KUNDENNUMMER_RE.match(number) or await customer_repo.get(engine, number) is None:
            print(
                f"Keine Kundin und kein Kunde mit der Kundennummer {kundennummer!r}: "
                "kein PIN-Brief erstellt.",
                file=sys.stderr,
            )
            return 2
        app = _letter_app(settings)
        async with app.app_context():
            _code, pdf = await issue_letter(engine, number)
        await asyncio.to_thread(write_private, out, pdf)
        print(f"PIN-Brief für {number} geschrieben: {out}")
        return 0
    finally:
        await engine.dispose()
