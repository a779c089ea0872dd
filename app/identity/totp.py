"""TOTP (RFC 6238) as a second factor: pyotp makes and checks codes, segno draws the QR code.

A code counts once: the time step of the last accepted code is kept on the account
(``accounts.totp_last_step``) and moved forward with a conditional UPDATE, so the same
code cannot log in twice, not even from two browsers at once. Wrong codes are counted in
``rate_events`` (bucket ``totp``, app.identity.ratelimit): past the limit no code is checked.
"""

from __future__ import annotations

import hmac
import re
from datetime import timedelta

import pyotp
import segno
from markupsafe import Markup
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import utcnow
from app.db.tables import accounts
from app.i18n import N_

from . import ratelimit

ISSUER = "Jobcenter digital"
#: wrong codes for one account (a code has a million values: guessing must stay slow)
LIMIT = ratelimit.Limit("totp", 5, timedelta(minutes=15))
#: one step before and after now: clocks of phones drift
VALID_WINDOW = 1

WRONG = N_(
    "Der Code stimmt nicht. Bitte geben Sie den Code ein, den Ihre Authenticator-App gerade "
    "anzeigt. Jeder Code gilt nur einmal."
)
MISSING = N_("Bitte geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.")
FORMAT = N_("Der Code hat 6 Ziffern, zum Beispiel 123456.")
LIMITED = N_(
    "Sie haben zu oft einen falschen Code eingegeben. Bitte warten Sie 15 Minuten und "
    "versuchen Sie es dann noch einmal."
)


class TotpError(Exception):
    """A code was refused; ``message_id`` is the German message id to show."""

    def __init__(self, message_id: str) -> None:
        super().__init__(message_id)
        self.message_id = message_id


def new_secret() -> str:
    """A random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code as inline SVG markup: no image request, nothing to cache, CSP-friendly.

    segno escapes the title; the rest is its own path data.
    """
    svg = segno.make(uri, error="m").svg_inline(scale=5, title=title, dark="#000", light="#fff")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704


def grouped(secret: str) -> str:
    """The secret in groups of four for typing it in by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def clean(code: str) -> str:
    """What the user typed, without spaces and dashes (apps show "123 456")."""
    return re.sub(r"[\s\-]", "", code or "")


def matching_step(secret: str, code: str) -> int | None:
    """The time step whose code is ``code`` (now ± VALID_WINDOW), else None."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def check_code(db: AsyncEngine, account_id: str, secret: str, typed: str) -> None:
    """Accept ``typed`` once for ``account_id`` with ``secret``, else raise ``TotpError``.

    The rate limit is checked first, so a right guess after too many wrong ones does not
    count either.
    """
    code = clean(typed)
    if not code:
        raise TotpError(MISSING)
    if not re.fullmatch(r"\d{6}", code):
        raise TotpError(FORMAT)
    hashed = ratelimit.key(account_id)
    if await ratelimit.retry_after(LIMIT, hashed):
        raise TotpError(LIMITED)
    step = matching_step(secret, code)
    if step is not None:
        async with db.begin() as conn:
            result = await conn.execute(
                update(accounts)
                .where(
                    accounts.c.id == account_id,
                    (accounts.c.totp_last_step.is_(None)) | (accounts.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
        if result.rowcount == 1:
            return
    await ratelimit.hit(LIMIT, hashed)
    raise TotpError(WRONG)
