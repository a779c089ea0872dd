"""Jinja environment: translation callables, formatting filters and shared globals."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency
from quart import Quart, current_app, g

from app.i18n import DEFAULT, VARIANTS

from .csrf import csrf_token
from .language import gettext, ngettext, switch_url

BERLIN = ZoneInfo("Europe/Berlin")


def _locale() -> str:
    return VARIANTS[g.get("lang", DEFAULT)].babel_locale


def format_money(cents: int | None) -> str:
    if cents is None:
        return ""
    return format_currency(cents / 100, "EUR", locale=_locale())


def format_day(value: date | str | None) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return babel_date(value, format="long", locale=_locale())


def format_moment(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return (
        babel_datetime(value.astimezone(BERLIN), format="long", locale=_locale())
        .replace(" UTC+1", "")
        .replace(" MEZ", "")
    )


def install(app: Quart) -> None:
    env = app.jinja_env
    env.globals.update(
        _=gettext,
        ngettext=ngettext,
        csrf_token=csrf_token,
        switch_url=switch_url,
        static_url=lambda rel: current_app.config["STATIC"].url(rel),
        static_integrity=lambda rel: current_app.config["STATIC"].integrity(rel),
        variants=VARIANTS,
    )
    env.filters.update(money=format_money, day=format_day, moment=format_moment)
    env.trim_blocks = True
    env.lstrip_blocks = True

    @app.context_processor
    async def _variant() -> dict[str, object]:
        code = g.get("lang", DEFAULT)
        return {"lang": code, "variant": VARIANTS[code]}
