"""Error pages in every variant, with all security headers (added by after_request)."""

from __future__ import annotations

import logging

from quart import Quart, Response
from werkzeug.exceptions import HTTPException

from app.i18n import N_

from .csrf import CSRFError
from .language import gettext
from .render import render

log = logging.getLogger(__name__)

TITLES = {
    400: N_("Die Anfrage war fehlerhaft"),
    403: N_("Diese Aktion ist nicht erlaubt"),
    404: N_("Seite nicht gefunden"),
    405: N_("Diese Aktion ist nicht möglich"),
    409: N_("Das hat sich inzwischen geändert"),
    413: N_("Die Datei ist zu groß"),
    500: N_("Es ist ein Fehler aufgetreten"),
}


async def error_page(status: int, reason: str | None = None) -> Response:
    return await render(
        "pages/error.html",
        "partials/error.html",
        status=status,
        code=status,
        reason=reason,
        title_id=TITLES.get(status, TITLES[500]),
        page_title=gettext(TITLES.get(status, TITLES[500])),
    )


def install(app: Quart) -> None:
    @app.errorhandler(CSRFError)
    async def _csrf(error: CSRFError) -> Response:
        log.info("CSRF rejected: %s", error)
        return await error_page(403, "csrf")

    @app.errorhandler(HTTPException)
    async def _http(error: HTTPException) -> Response:
        code = error.code or 500
        return await error_page(code if code in TITLES else 500 if code >= 500 else 400)

    @app.errorhandler(Exception)
    async def _crash(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return await error_page(500)
