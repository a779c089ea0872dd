"""Choose the language variant: ?lang=, then the cookie, then Accept-Language."""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Response, current_app, g, request

from app.i18n import DEFAULT, VARIANTS, negotiate

COOKIE = "jcd_lang"


async def pick_language() -> None:
    asked = request.args.get("lang")
    if asked in VARIANTS:
        g.lang = asked
        g.lang_changed = request.cookies.get(COOKIE) != asked
        return
    cookie = request.cookies.get(COOKIE)
    g.lang = cookie if cookie in VARIANTS else negotiate(request.headers.get("Accept-Language"))


async def remember_language(response: Response) -> Response:
    if g.get("lang_changed"):
        response.set_cookie(
            COOKIE,
            g.lang,
            max_age=365 * 24 * 3600,
            path="/",
            samesite="Lax",
            secure=current_app.config["SETTINGS"].secure_cookies,
            httponly=True,
        )
    response.vary.add("Accept-Language")
    return response


def gettext(message: str, **params: object) -> str:
    return current_app.config["CATALOGS"][g.get("lang", DEFAULT)].gettext(message, **params)


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    catalog = current_app.config["CATALOGS"][g.get("lang", DEFAULT)]
    return catalog.ngettext(singular, plural, n, **params)


def switch_url(code: str, path: str | None = None) -> str:
    """The current page in another variant (used by the language switch)."""
    base = path or g.get("canonical_url") or request.path
    base_path, _, query = base.partition("?")
    args = [(k, v) for k, v in _parse(query) if k != "lang"]
    args.append(("lang", code))
    return f"{base_path}?{urlencode(args)}"


def _parse(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)
