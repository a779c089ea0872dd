"""Server-side rate limits: one row per attempt in ``rate_events``, counted in a sliding window.

The counts live in the database, not in process memory, so every worker sees the same
numbers and a restart does not hand an attacker a fresh allowance. Keys are keyed hashes
(HMAC with the app's secret key): the table never holds an e-mail address or IP address.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from quart import current_app
from sqlalchemy import delete, insert, select

from app.db import utcnow
from app.db.tables import rate_events


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per key in ``window``."""

    bucket: str
    limit: int
    window: timedelta


#: wrong passwords for one e-mail address (known or unknown: counted the same)
LOGIN_EMAIL = Limit("login-email", 5, timedelta(minutes=15))
#: wrong passwords from one client address (password spraying over many accounts)
LOGIN_CLIENT = Limit("login-client", 30, timedelta(minutes=15))
#: registrations and "send the mail again" from one client address
REGISTER_CLIENT = Limit("register-client", 10, timedelta(hours=1))
#: "password forgotten" from one client address
RESET_CLIENT = Limit("reset-client", 10, timedelta(hours=1))
#: mails to one address (confirm, reset, "someone tried to register"): no mail bombing
MAIL_ADDRESS = Limit("mail-address", 5, timedelta(hours=1))

#: events older than this are of no use to any limit
KEEP = timedelta(days=1)


def key(value: str) -> str:
    """A keyed hash of an e-mail address or client address (also used in the audit log)."""
    secret = current_app.config["SETTINGS"].secret_key.encode()
    return hmac.new(secret, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def _db() -> Any:
    return current_app.config["DB"]


async def retry_after(limit: Limit, hashed: str) -> timedelta | None:
    """None while under the limit; else how long until one more attempt is allowed."""
    now = utcnow()
    async with _db().connect() as conn:
        times = (
            (
                await conn.execute(
                    select(rate_events.c.at)
                    .where(
                        rate_events.c.bucket == limit.bucket,
                        rate_events.c.key == hashed,
                        rate_events.c.at > now - limit.window,
                    )
                    .order_by(rate_events.c.at)
                )
            )
            .scalars()
            .all()
        )
    if len(times) < limit.limit:
        return None
    # allowed again when enough of the events have left the window
    oldest = times[len(times) - limit.limit]
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
    return max(oldest + limit.window - now, timedelta(seconds=1))


async def blocked(*checks: tuple[Limit, str]) -> timedelta | None:
    """The longest wait of all ``(limit, key)`` checks, or None when all are under."""
    waits = [w for limit, hashed in checks if (w := await retry_after(limit, hashed))]
    return max(waits) if waits else None


async def hit(limit: Limit, hashed: str) -> None:
    async with _db().begin() as conn:
        await conn.execute(insert(rate_events).values(bucket=limit.bucket, key=hashed, at=utcnow()))


async def clear(limit: Limit, hashed: str) -> None:
    """Forget the events of one key (a right password ends the count of wrong ones)."""
    async with _db().begin() as conn:
        await conn.execute(
            delete(rate_events).where(
                rate_events.c.bucket == limit.bucket, rate_events.c.key == hashed
            )
        )


async def purge(engine: Any) -> int:
    """Delete events no limit looks at any more (``python -m app purge``)."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(rate_events).where(rate_events.c.at < utcnow() - KEEP))
    return result.rowcount or 0
