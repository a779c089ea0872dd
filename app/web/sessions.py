"""Server-side sessions: a random id in a cookie, the data in the database.

The cookie holds only a random token; the table holds its SHA-256, so a copy of the
database does not contain usable session ids. Idle and absolute timeouts are
enforced here, on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from quart import Response, current_app, g, request
from sqlalchemy import delete, insert, select, update

from app.db import utcnow
from app.db.tables import sessions

#: Writing last_seen on every request would turn every GET into a write.
TOUCH_INTERVAL = timedelta(seconds=60)


def cookie_name() -> str:
    return "__Host-jcd" if current_app.config["SETTINGS"].secure_cookies else "jcd_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Session(dict[str, Any]):
    """The session data of one visitor; ``token`` is None until something is stored."""

    def __init__(self, token: str | None, data: dict[str, Any], created_at: datetime | None):
        super().__init__(data)
        self.token = token
        self.created_at = created_at
        self.modified = False
        self.touch = False
        self.ended = False

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def pop(self, key: str, default: Any = None) -> Any:
        self.modified = True
        return super().pop(key, default)

    def ensure_token(self) -> str:
        """A value that exists only once the visitor has a session (drafts, CSRF)."""
        if "owner_key" not in self:
            self["owner_key"] = secrets.token_urlsafe(24)
        return self["owner_key"]

    def rotate(self) -> None:
        """Give the same data a new id (at login and every level change)."""
        self.old_token = self.token
        self.token = None
        self.modified = True

    def end(self) -> None:
        self.ended = True
        self.clear()


async def load_session() -> None:
    settings = current_app.config["SETTINGS"]
    token = request.cookies.get(cookie_name())
    g.session = Session(None, {}, None)
    if not token or len(token) > 100:
        return
    now = utcnow()
    async with current_app.config["DB"].connect() as conn:
        row = (
            await conn.execute(select(sessions).where(sessions.c.id_hash == _hash(token)))
        ).first()
    if row is None:
        return
    last_seen = _aware(row.last_seen_at)
    idle = timedelta(minutes=settings.session_idle_minutes)
    if _aware(row.expires_at) <= now or last_seen + idle <= now:
        g.session_expired = True
        return
    session = Session(token, dict(row.data), _aware(row.created_at))
    session.touch = now - last_seen >= TOUCH_INTERVAL
    g.session = session


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


async def save_session(response: Response) -> Response:
    session: Session | None = g.get("session")
    if session is None:
        return response
    settings = current_app.config["SETTINGS"]
    engine = current_app.config["DB"]
    now = utcnow()
    name = cookie_name()
    if session.ended:
        if session.token:
            async with engine.begin() as conn:
                await conn.execute(
                    delete(sessions).where(sessions.c.id_hash == _hash(session.token))
                )
        response.delete_cookie(name, path="/", secure=settings.secure_cookies, httponly=True)
        if g.get("clear_site_data"):  # logout: the browser forgets cached pages and storage
            response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    old = getattr(session, "old_token", None)
    if session.modified and session.token is None:
        session.token = secrets.token_urlsafe(32)
        created = session.created_at or now
        async with engine.begin() as conn:
            if old:
                await conn.execute(delete(sessions).where(sessions.c.id_hash == _hash(old)))
            await conn.execute(
                insert(sessions).values(
                    id_hash=_hash(session.token),
                    data=dict(session),
                    created_at=created,
                    last_seen_at=now,
                    expires_at=created + timedelta(hours=settings.session_absolute_hours),
                    account_id=session.get("account_id"),
                )
            )
        response.set_cookie(
            name,
            session.token,
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="Lax",
        )
    elif session.token and (session.modified or session.touch):
        values: dict[str, Any] = {"last_seen_at": now}
        if session.modified:
            values["data"] = dict(session)
            values["account_id"] = session.get("account_id")
        async with engine.begin() as conn:
            await conn.execute(
                update(sessions).where(sessions.c.id_hash == _hash(session.token)).values(**values)
            )
    return response


async def purge_expired(engine: Any) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(delete(sessions).where(sessions.c.expires_at <= utcnow()))
    return result.rowcount or 0
