"""eID over SAML: metadata, start, ACS, the binding step, and the level-up page.

The protocol work is in app/identity/saml.py; this module is the HTTP face (docs/identity.md):

- ``GET /eid/saml/metadata``: our SP metadata for the identity provider;
- ``POST /eid/start`` (stufe, weiter): a signed AuthnRequest, off to the IdP;
- ``POST /eid/saml/acs``: the IdP's answer (cross-site, no cookie, no CSRF token): verified,
  stored, then 303 to ``/eid/fertig/<request id>``;
- ``GET /eid/fertig/<request id>``: with the cookie again: same session, same person, then
  the level rises and the user goes back;
- ``GET /eid/abgelehnt``: the refusal page once more (language switch, reload);
- ``GET /eid/abgebrochen``: the person cancelled at the IdP;
- ``GET /konto/stufe``: where ``require_level`` sends users whose level is too low.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from quart import Blueprint, Response, abort, g, request
from quart.blueprints import BlueprintSetupState

from app.i18n import N_, VARIANTS
from app.identity import LEVELS, has_level, require_level, saml
from app.start import same_site_path
from app.web.language import COOKIE as LANG_COOKIE
from app.web.language import gettext
from app.web.render import render, see_other

blueprint = Blueprint("eid", __name__)

SHELL = "pages/shell.html"

#: why an eID result was refused: HTTP status and the plain-words explanation
REASONS: dict[str, tuple[int, str]] = {
    "expired": (
        400,
        N_(
            "Die Antwort kam zu spät. Aus Sicherheitsgründen gilt sie nur wenige Minuten. "
            "Bitte versuchen Sie es noch einmal."
        ),
    ),
    "unknown_request": (
        400,
        N_(
            "Zu dieser Antwort gibt es keine offene Anfrage von Ihnen. Bitte starten Sie den "
            "Nachweis noch einmal."
        ),
    ),
    "replay": (
        400,
        N_(
            "Diese Antwort wurde schon einmal verwendet. Jede Antwort gilt nur einmal. Bitte "
            "starten Sie den Nachweis noch einmal."
        ),
    ),
    "signature": (
        403,
        N_(
            "Die Antwort war nicht gültig unterschrieben. Deshalb können wir nicht prüfen, ob "
            "sie echt ist."
        ),
    ),
    "audience": (
        403,
        N_("Die Antwort war für einen anderen Dienst bestimmt, nicht für jobcenter.digital."),
    ),
    "issuer": (
        403,
        N_("Die Antwort kam nicht von dem Anmeldedienst, dem wir vertrauen."),
    ),
    "level": (
        403,
        N_(
            "Für diesen Schritt brauchen Sie die Online-Ausweisfunktion Ihres "
            "Personalausweises, Ihrer eID-Karte oder Ihres elektronischen Aufenthaltstitels. "
            "Eine Anmeldung mit einem ELSTER-Zertifikat oder mit Benutzername und Passwort "
            "reicht hier nicht."
        ),
    ),
    "method": (
        403,
        N_(
            "Sie haben sich nicht mit der Online-Ausweisfunktion angemeldet, sondern auf eine "
            "andere Art, zum Beispiel mit ELSTER. Für diesen Schritt brauchen Sie die "
            "Online-Ausweisfunktion Ihres Personalausweises, Ihrer eID-Karte oder Ihres "
            "elektronischen Aufenthaltstitels."
        ),
    ),
    "person": (
        403,
        N_(
            "Der Ausweis gehört nicht der Person, der dieses Konto gehört: Name, Geburtsdatum "
            "oder die Kennung des Ausweises passen nicht zu Ihrem Konto. Bitte verwenden Sie "
            "Ihren eigenen Ausweis."
        ),
    ),
    "session": (
        403,
        N_(
            "Der Nachweis wurde in einer anderen Sitzung oder mit einem anderen Konto "
            "begonnen. Bitte melden Sie sich an und starten Sie den Nachweis hier noch einmal."
        ),
    ),
    "idp_error": (
        400,
        N_("Der Anmeldedienst konnte Ihre Identität nicht bestätigen."),
    ),
    "invalid": (
        400,
        N_("Die Antwort des Anmeldedienstes war unvollständig oder fehlerhaft."),
    ),
}

#: what each level means, for /konto/stufe
LEVEL_TEXTS = {
    "pin_brief": N_(
        "Ihre Post vom Jobcenter und Ihre Bescheide sind nur für Sie bestimmt. Deshalb müssen "
        "wir sicher wissen, dass dieses Konto Ihnen gehört. Dafür gibt es zwei Wege."
    ),
    "eid_substanziell": N_(
        "Bei diesem Dienst ändern Sie wichtige Angaben, zum Beispiel Ihre Adresse oder Ihre "
        "Bankverbindung. Deshalb müssen Sie sich vorher mit dem Online-Ausweis ausweisen."
    ),
    "eid_hoch": N_(
        "Für diesen Schritt brauchen Sie die höchste Sicherheitsstufe: die "
        "Online-Ausweisfunktion Ihres Personalausweises, Ihrer eID-Karte oder Ihres "
        "elektronischen Aufenthaltstitels."
    ),
}


@blueprint.record_once
def _refuse_test_idp_in_production(state: BlueprintSetupState) -> None:
    """At create_app: production mode never trusts the local test IdP (negative test 12)."""
    saml.check_settings(state.app.config["SETTINGS"])


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _retry_url(row: saml.PendingRequest | None) -> str:
    """Where "Noch einmal versuchen" leads: the page that offers the eID button again."""
    if row is None:
        return "/konto"
    if row.purpose == "level":
        return "/konto/stufe?" + urlencode({"stufe": row.level, "weiter": row.return_to})
    return row.return_to


async def _rejected(reason: str, retry_url: str) -> Response:
    """The refusal page. Its address for the language switch (and a reload) is the GET
    /eid/abgelehnt, so neither re-posts the response nor repeats the binding step."""
    reason = reason if reason in REASONS else "invalid"
    status, text = REASONS[reason]
    return _no_store(
        await render(
            SHELL,
            "partials/eid/abgelehnt.html",
            status=status,
            push_url="/eid/abgelehnt?" + urlencode({"grund": reason, "weiter": retry_url}),
            page_title=gettext("Der Nachweis mit dem Online-Ausweis wurde nicht angenommen"),
            reason=reason,
            explanation=gettext(text),
            retry_url=retry_url,
        )
    )


@blueprint.get("/eid/saml/metadata")
async def metadata() -> Response:
    xml = await saml.sp_metadata()
    response = Response(xml, content_type="application/samlmetadata+xml; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blueprint.post("/eid/start")
async def start() -> Response:
    """The eID button (CSRF-protected like every POST): off to the identity provider."""
    form = await request.form
    level = form.get("stufe", "")
    if level not in saml.QAA_FOR_LEVEL:
        abort(400)
    return await saml.begin("level", level, same_site_path(form.get("weiter")) or "/konto")


def _language_from_relay_state(relay_state: str) -> None:
    """The IdP posts cross-site without our language cookie: the RelayState carries it."""
    lang = relay_state.rpartition("~")[2]
    if lang in VARIANTS and LANG_COOKIE not in request.cookies:
        g.lang = lang


@blueprint.post("/eid/saml/acs")
async def acs() -> Response:
    """Assertion consumer (HTTP-POST binding). Changes no session: it has no cookie."""
    form = await request.form
    _language_from_relay_state(form.get("RelayState", "")[:200])
    try:
        row = await saml.accept(form.get("SAMLResponse", ""))
    except saml.EidCancelled as cancelled:
        await saml.record_rejection("cancel", cancelled.request)
        return see_other("/eid/abgebrochen?" + urlencode({"weiter": _retry_url(cancelled.request)}))
    except saml.EidRejected as rejected:
        await saml.record_rejection(rejected.reason, rejected.request, rejected.detail)
        return await _rejected(rejected.reason, _retry_url(rejected.request))
    return see_other(f"/eid/fertig/{row.id}")


@blueprint.get("/eid/fertig/<request_id>")
async def finished(request_id: str) -> Response:
    """Top-level GET with the session cookie: bind the proof, raise the level, go back."""
    try:
        done = await saml.finish(request_id)
    except saml.EidRejected as rejected:
        return await _rejected(rejected.reason, _retry_url(rejected.request))
    if done is None:
        abort(404)
    return _no_store(see_other(done.return_to))


@blueprint.get("/eid/abgelehnt")
async def refused() -> Response:
    """The refusal page again (language switch, reload): shows, changes nothing."""
    retry = same_site_path(request.args.get("weiter")) or "/konto"
    return await _rejected(request.args.get("grund", ""), retry)


@blueprint.get("/eid/abgebrochen")
async def cancelled() -> Response:
    return _no_store(
        await render(
            SHELL,
            "partials/eid/abgebrochen.html",
            page_title=gettext("Sie haben die Anmeldung mit dem Online-Ausweis abgebrochen"),
            retry_url=same_site_path(request.args.get("weiter")) or "/konto",
        )
    )


@blueprint.get("/konto/stufe")
async def level_page() -> Response:
    """Explains the level a service needs and offers the ways to reach it."""
    needs_login = require_level("basis")
    if needs_login is not None:
        return needs_login
    wanted = request.args.get("stufe", "")
    if wanted not in LEVELS or wanted == "basis":
        abort(400)
    target = same_site_path(request.args.get("weiter")) or "/konto"
    if has_level(wanted):
        return see_other(target)
    context: dict[str, Any] = {
        "stufe": wanted,
        "eid_level": "eid_hoch" if wanted == "eid_hoch" else "eid_substanziell",
        "weiter": target,
        "explanation": gettext(LEVEL_TEXTS[wanted]),
        "pin_url": "/konto/pin?" + urlencode({"weiter": target}),
    }
    return _no_store(
        await render(
            SHELL,
            "partials/eid/stufe.html",
            page_title=gettext("Für diesen Dienst brauchen Sie eine höhere Sicherheitsstufe"),
            **context,
        )
    )
