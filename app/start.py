"""Start page, information pages (BITV § 4), accessibility statement, feedback, health."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from quart import Blueprint, Response, abort, current_app, g, jsonify, request

from app.db import feedback as feedback_repo
from app.db import ping
from app.i18n import N_
from app.media import videos

from .eservice import registry
from .eservice.views import FieldView, error_list, video_view
from .web.language import COOKIE as LANG_COOKIE
from .web.language import gettext
from .web.render import render, see_other
from .web.sessions import cookie_name

blueprint = Blueprint("start", __name__)

SHELL = "pages/shell.html"

#: Headings of the four BITV § 4 topics on the sign-language page, by video id.
DGS_TOPICS = {
    "dgs-angebot": N_("Was diese Website bietet"),
    "dgs-navigation": N_("So finden Sie sich auf der Website zurecht"),
    "dgs-barrierefreiheit": N_("Das Wichtigste aus der Erklärung zur Barrierefreiheit"),
    "dgs-weitere-inhalte": N_("Weitere Inhalte in Gebärdensprache und Leichter Sprache"),
}

MESSAGE_MAX = 5000
PAGE_MAX = 300  # feedback.page is String(300)
EMAIL_MAX = 254
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

MESSAGE_MISSING = N_("Bitte beschreiben Sie das Problem.")
MESSAGE_TOO_LONG = N_(
    "Bitte kürzen Sie Ihren Text auf höchstens {max} Zeichen. Er hat jetzt {count} Zeichen."
)
PAGE_TOO_LONG = N_("Bitte geben Sie höchstens {max} Zeichen ein.")
EMAIL_MISSING = N_("Bitte geben Sie Ihre E-Mail-Adresse an, damit wir Ihnen antworten können.")
EMAIL_INVALID = N_("Bitte geben Sie eine E-Mail-Adresse im Format name@beispiel.de ein.")


def _db() -> Any:
    return current_app.config["DB"]


async def _page(partial: str, title: str, **ctx: Any) -> Response:
    return await render(SHELL, f"partials/start/{partial}.html", page_title=title, **ctx)


@blueprint.get("/")
async def index() -> Response:
    return await render(
        SHELL,
        "partials/start/index.html",
        page_title=gettext("Online-Dienste Ihres Jobcenters"),
        services=registry.all_flows(),
    )


@blueprint.get("/healthz")
async def healthz() -> Response:
    async with current_app.config["DB"].connect() as conn:
        await ping(conn)
    response = jsonify({"status": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response


# --- BITV § 4: the four pieces of information in Leichte Sprache and in DGS -------------


def ls_gettext(message: str, **params: object) -> str:
    """The Leichte Sprache catalog, whatever variant the visitor chose.

    The /leichte-sprache page is Leichte Sprache in every variant (its msgids are
    Leichte Sprache already); reviewed corrections may live in the ls catalog.
    """
    return current_app.config["CATALOGS"]["ls"].gettext(message, **params)


@blueprint.get("/leichte-sprache")
async def leichte_sprache() -> Response:
    return await _page(
        "leichte_sprache",
        gettext("Leichte Sprache"),
        ls_gettext=ls_gettext,
        en_note=gettext(
            "Diese Seite ist in Leichter Sprache geschrieben, einer leicht verständlichen "
            "Form des Deutschen."
        ),
    )


def dgs_videos() -> list[dict[str, Any]]:
    """The DGS videos, each with its § 4 topic heading.

    Renditions are always listed smallest first: the browser plays the first source it
    can, so visitors with ``Save-Data: on`` (and everybody else) load the small file
    unless they download a larger one. That keeps the response the same for every
    request, so it needs no ``Vary: Save-Data``.
    """
    out = []
    for entry in videos("dgs"):
        view = video_view(entry["id"])
        if view is None:
            continue
        view["renditions"].sort(key=lambda r: (r.get("bytes", 0), r.get("width", 0)))
        topic = DGS_TOPICS.get(view["id"])
        view["heading"] = gettext(topic) if topic else view["title"]
        out.append(view)
    return out


@blueprint.get("/gebaerdensprache")
async def gebaerdensprache() -> Response:
    items = dgs_videos()
    return await _page(
        "gebaerdensprache",
        gettext("Gebärdensprache"),
        videos=items,
        any_sample=any(v["sample"] for v in items),
    )


@blueprint.get("/videos/<video_id>")
async def video_page(video_id: str) -> Response:
    """One explainer or DGS video on a page of its own, so form steps only carry a link
    (nothing of a video loads on a step; a step fragment stays small)."""
    view = video_view(video_id)
    if view is None:
        abort(404)
    back = same_site_path(request.args.get("zurueck")) or "/"
    return await _page("video", view["title"], video=view, back=back)


# --- Erklärung zur Barrierefreiheit (§ 7 BITV 2.0, § 12b BGG) and feedback ---------------


@blueprint.get("/barrierefreiheit")
async def barrierefreiheit() -> Response:
    return await _page("barrierefreiheit", gettext("Erklärung zur Barrierefreiheit"))


def same_site_path(value: str | None) -> str:
    """``value`` if it is a path on this site (``/…``), else an empty string."""
    value = (value or "").strip()
    if not value.startswith("/") or value.startswith("//") or len(value) > PAGE_MAX:
        return ""
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


def _feedback_raw(form: Any) -> dict[str, Any]:
    message = form.get("nachricht", "").replace("\r\n", "\n").replace("\r", "\n")
    return {
        "seite": form.get("seite", "").strip(),
        "nachricht": message.strip(),
        "email": form.get("email", "").strip(),
        "antwort": form.get("antwort") == "ja",
    }


def _feedback_errors(raw: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(raw["seite"]) > PAGE_MAX:
        errors["seite"] = gettext(PAGE_TOO_LONG, max=PAGE_MAX)
    if not raw["nachricht"]:
        errors["nachricht"] = gettext(MESSAGE_MISSING)
    elif len(raw["nachricht"]) > MESSAGE_MAX:
        errors["nachricht"] = gettext(
            MESSAGE_TOO_LONG, max=MESSAGE_MAX, count=len(raw["nachricht"])
        )
    if raw["email"]:
        if len(raw["email"]) > EMAIL_MAX or not EMAIL.match(raw["email"]):
            errors["email"] = gettext(EMAIL_INVALID)
    elif raw["antwort"]:
        errors["email"] = gettext(EMAIL_MISSING)
    return errors


def _feedback_fields(raw: dict[str, Any], errors: dict[str, str]) -> dict[str, FieldView]:
    return {
        "seite": FieldView(
            id="seite",
            type="text",
            label=gettext("Welche Seite ist betroffen?"),
            hint=gettext("Zum Beispiel die Überschrift oder die Adresse der Seite."),
            optional=True,
            error=errors.get("seite"),
            raw=raw["seite"],
        ),
        "nachricht": FieldView(
            id="nachricht",
            type="textarea",
            label=gettext("Was ist das Problem?"),
            hint=gettext(
                "Beschreiben Sie, was nicht funktioniert hat. Schreiben Sie gern dazu, womit "
                "Sie die Seite nutzen, zum Beispiel mit einem Screenreader oder nur mit der "
                "Tastatur. Höchstens {max} Zeichen.",
                max=MESSAGE_MAX,
            ),
            optional=False,
            error=errors.get("nachricht"),
            raw=raw["nachricht"],
        ),
        "email": FieldView(
            id="email",
            type="email",
            label=gettext("E-Mail-Adresse"),
            hint=gettext("Nur nötig, wenn Sie eine Antwort möchten."),
            optional=True,
            error=errors.get("email"),
            raw=raw["email"],
            autocomplete="email",
        ),
    }


async def _feedback_form(
    raw: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    fields = _feedback_fields(raw, errors)
    response = await render(
        SHELL,
        "partials/start/feedback.html",
        status=status,
        page_title=gettext("Feedback zur Barrierefreiheit"),
        fields=fields,
        wants_answer=raw["antwort"],
        errors=error_list(list(fields.values()), []),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/barrierefreiheit/feedback")
async def feedback_form() -> Response:
    raw = {
        "seite": same_site_path(request.args.get("seite")),
        "nachricht": "",
        "email": "",
        "antwort": False,
    }
    return await _feedback_form(raw, {})


@blueprint.post("/barrierefreiheit/feedback")
async def feedback_send() -> Response:
    raw = _feedback_raw(await request.form)
    errors = _feedback_errors(raw)
    if errors:
        return await _feedback_form(raw, errors, status=422)
    await feedback_repo.add(
        _db(),
        page=raw["seite"],
        message=raw["nachricht"],
        email=raw["email"],
        wants_answer=raw["antwort"],
        lang=g.lang,
    )
    return see_other("/barrierefreiheit/feedback/danke")


@blueprint.get("/barrierefreiheit/feedback/danke")
async def feedback_thanks() -> Response:
    return await _page("feedback_danke", gettext("Vielen Dank für Ihr Feedback"))


# --- Help, imprint, privacy ------------------------------------------------------------


@blueprint.get("/hilfe")
async def hilfe() -> Response:
    return await _page("hilfe", gettext("Hilfe und Kontakt"))


@blueprint.get("/impressum")
async def impressum() -> Response:
    return await _page("impressum", gettext("Impressum"))


@blueprint.get("/datenschutz")
async def datenschutz() -> Response:
    settings = current_app.config["SETTINGS"]
    return await _page(
        "datenschutz",
        gettext("Datenschutz"),
        session_cookie=cookie_name(),
        lang_cookie=LANG_COOKIE,
        idle_minutes=settings.session_idle_minutes,
        absolute_hours=settings.session_absolute_hours,
    )
