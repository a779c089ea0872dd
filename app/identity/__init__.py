"""Who is logged in, at which level, and the moves between (SECURITY.md).

The session holds ``account_id`` and ``level`` (effective level of this session). The
lasting level of an account is ``basis`` or ``pin_brief``; an eID proof raises the level
of the session only (``eid_substanziell``/``eid_hoch``). Every login and every level
change gives the session a new id (``Session.rotate``) and is written to the audit log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from quart import Response, current_app, g, request
from sqlalchemy import update

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import documents, drafts, sessions, submissions
from app.web.render import see_other

LEVELS = ("basis", "pin_brief", "eid_substanziell", "eid_hoch")


def rank(level: str | None) -> int:
    """0 for no level (not logged in), 1 basis … 4 eid_hoch."""
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def _db() -> Any:
    return current_app.config["DB"]


def account_id() -> str | None:
    return g.session.get("account_id")


def session_level() -> str | None:
    return g.session.get("level") if account_id() else None


def has_level(level: str) -> bool:
    return rank(session_level()) >= rank(level)


async def current_account() -> account_repo.Account | None:
    """The logged-in account (read once per request)."""
    if not account_id():
        return None
    if "account" not in g:
        g.account = await account_repo.get(_db(), account_id())
    return g.account


def _next_url() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else request.path


def require_level(level: str) -> Response | None:
    """None when the session is at ``level``; else a 303 to login or to the level-up page."""
    if has_level(level):
        return None
    target = quote(_next_url(), safe="/")
    if not account_id():
        expired = "&abgelaufen=1" if g.get("session_expired") else ""
        return see_other(f"/anmelden?weiter={target}{expired}")
    return see_other(f"/konto/stufe?stufe={level}&weiter={target}")


async def log_in(account: account_repo.Account, method: str) -> None:
    """Start a logged-in session: new id, the account's level, its drafts.

    Drafts, uploads and submissions started before login (under the anonymous owner key
    of this browser) move into the account, so nothing typed is lost by logging in.
    """
    session = g.session
    anonymous = session.get("owner_key")
    session.rotate()
    session["account_id"] = account.id
    session["level"] = account.level
    session["owner_key"] = account.owner_key
    session["auth_method"] = method
    session["auth_at"] = utcnow().isoformat()
    session.pop("eid", None)
    if anonymous and anonymous != account.owner_key:
        async with _db().begin() as conn:
            for table in (drafts, documents, submissions):
                await conn.execute(
                    update(table)
                    .where(table.c.owner_key == anonymous)
                    .values(owner_key=account.owner_key)
                )
    await audit.record(_db(), account.id, "login", None, method=method)


async def raise_level(level: str, proof: dict[str, Any]) -> None:
    """Raise the session's level (PIN letter, eID). New session id; audited."""
    session = g.session
    before = session.get("level")
    if rank(level) > rank(before):
        session["level"] = level
    session.rotate()
    await audit.record(
        _db(), account_id() or "-", "level", None, before=before, after=level, **proof
    )


async def log_out(*, everywhere: bool = False) -> None:
    """End this session on the server (and with ``everywhere`` all of the account's)."""
    who = account_id()
    if everywhere and who:
        from sqlalchemy import delete

        async with _db().begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.account_id == who))
    if who:
        await audit.record(_db(), who, "logout", None, everywhere=everywhere)
    g.session.end()
    g.clear_site_data = True
