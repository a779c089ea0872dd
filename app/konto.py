"""Mein Konto: Stammdaten, linking the Kundennummer with the PIN letter, and the decisions.

Every page here is personal: ``Cache-Control: no-store``. A decision is read only
through the Kundennummer linked to the logged-in account, so another person's decision
answers 404 exactly like one that does not exist (SECURITY.md, negative test 10).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from quart import Blueprint, Response, abort, current_app, g, request

from app.db import accounts as account_repo
from app.db import audit
from app.db import customers as customer_repo
from app.eservice.views import FieldView, error_list
from app.flows.definitions.common import LEISTUNGSART_LABELS
from app.flows.fields import PATTERNS, REGISTRY, REQUIRED, ParseContext
from app.flows.model import Field, Scope
from app.i18n import N_
from app.identity import (
    current_account,
    has_level,
    pinletter,
    raise_level,
    rank,
    require_level,
    session_level,
)

from .start import same_site_path
from .web.language import gettext
from .web.render import render, see_other

blueprint = Blueprint("konto", __name__)

SHELL = "pages/shell.html"
BERLIN = ZoneInfo("Europe/Berlin")

#: the lasting level and what each level allows, in plain words
LEVEL_TEXT = {
    "basis": N_(
        "Ihre E-Mail-Adresse ist bestätigt. Ihr Konto ist noch nicht mit Ihrer Kundennummer "
        "verbunden."
    ),
    "pin_brief": N_("Ihr Konto ist mit Ihrer Kundennummer verbunden."),
}
EID_TEXT = N_("Sie haben sich in dieser Sitzung mit Ihrem Online-Ausweis ausgewiesen.")
LEVEL_ALLOWS = [
    ("basis", N_("Mit bestätigter E-Mail-Adresse: Anträge stellen und Entwürfe speichern.")),
    ("pin_brief", N_("Mit Kundennummer (PIN-Brief): zusätzlich Ihre Bescheide ansehen.")),
    (
        "eid_substanziell",
        N_(
            "Mit Online-Ausweis: zusätzlich Adresse oder Bankverbindung ändern und "
            "Widerspruch einlegen."
        ),
    ),
]

ADDRESS_FIELDS = [
    Field("strasse", "text", N_("Straße und Hausnummer"), autocomplete="street-address"),
    Field("plz", "postcode", N_("Postleitzahl"), autocomplete="postal-code"),
    Field("ort", "text", N_("Ort"), autocomplete="address-level2"),
    Field("telefon", "phone", N_("Telefonnummer"), optional=True, autocomplete="tel"),
]

PIN_KUNDENNUMMER = Field(
    "kundennummer",
    "text",
    N_("Kundennummer"),
    hint=N_("Sie steht im Brief oben rechts, zum Beispiel 123D456789."),
    params={"pattern": "kundennummer"},
)
PIN_CODE = Field(
    "code",
    "text",
    N_("Code aus dem Brief"),
    hint=N_(
        "12 Zeichen, zum Beispiel ABCD EFGH JKMN. Leerzeichen und Bindestriche können Sie "
        "weglassen."
    ),
    autocomplete="one-time-code",
)
CODE_FORMAT = N_("Der Code hat 12 Buchstaben und Ziffern, zum Beispiel ABCD EFGH JKMN.")
PIN_MESSAGES: dict[str, tuple[str, str]] = {
    "wrong": (
        "code",
        N_("Die Kundennummer und der Code passen nicht zusammen. Bitte prüfen Sie beide Angaben."),
    ),
    "blocked": (
        "code",
        N_(
            "Dieser Code wurde zu oft falsch eingegeben und ist jetzt gesperrt. Bitte bitten "
            "Sie Ihr Jobcenter um einen neuen Brief."
        ),
    ),
    "expired": (
        "code",
        N_("Dieser Code ist abgelaufen. Bitte bitten Sie Ihr Jobcenter um einen neuen Brief."),
    ),
    "taken": (
        "kundennummer",
        N_(
            "Diese Kundennummer ist schon mit einem anderen Konto verbunden. Wenn das nicht "
            "Ihr Konto ist, wenden Sie sich bitte an Ihr Jobcenter."
        ),
    ),
    "too_many": (
        "code",
        N_(
            "Sie haben es zu oft versucht. Bitte warten Sie eine Stunde und versuchen Sie es "
            "dann noch einmal."
        ),
    ),
}


def _db() -> Any:
    return current_app.config["DB"]


def _today() -> Any:
    return datetime.now(BERLIN).date()


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


async def _account() -> account_repo.Account:
    account = await current_account()
    if account is None:  # the session names an account that is gone
        abort(404)
    return account


def _view(f: Field, raw: str, error: str | None) -> FieldView:
    return FieldView(
        id=f.id,
        type=f.type,
        label=gettext(f.label),
        hint=gettext(f.hint) if f.hint else None,
        optional=f.optional,
        error=error,
        raw=raw,
        autocomplete=f.autocomplete,
        params=dict(f.params),
    )


def _parse(fields: list[Field], form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Values and error texts of plain fields, with the e-services' own field types."""
    ctx = ParseContext(_today(), Scope({}))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        value, issue = REGISTRY[f.type].parse(f, form, ctx)
        if issue is not None:
            errors[f.id] = gettext(issue.message, **dict(issue.params))
        else:
            values[f.id] = value
    return values, errors


# -- /konto: Stammdaten -------------------------------------------------------------------


async def _konto_page(
    account: account_repo.Account,
    raw: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    *,
    pending: bool = False,
) -> Response:
    customer = await customer_repo.get(_db(), account.kundennummer)
    fields = {f.id: _view(f, raw.get(f.id, ""), errors.get(f.id)) for f in ADDRESS_FIELDS}
    reached = rank(session_level())
    settings = current_app.config["SETTINGS"]
    return _private(
        await render(
            SHELL,
            "partials/konto/index.html",
            status=status,
            page_title=gettext("Mein Konto"),
            account=account,
            customer=customer,
            level_text=gettext(LEVEL_TEXT.get(account.level, LEVEL_TEXT["basis"])),
            eid_text=gettext(EID_TEXT) if reached >= rank("eid_substanziell") else None,
            allows=[(gettext(text), rank(level) <= reached) for level, text in LEVEL_ALLOWS],
            fields=fields,
            errors=error_list(list(fields.values()), []),
            saved=request.args.get("gespeichert") == "1" and status == 200,
            pending=pending,
            idle_minutes=settings.session_idle_minutes,
        )
    )


#: SECURITY.md: a change of address needs an eID proof (substanziell); the phone does not
ADDRESS_LEVEL = "eid_substanziell"
ADDRESS_KEYS = ("strasse", "plz", "ort")
#: session key: a new address typed before the eID proof, so nothing typed is lost
PENDING_ADDRESS = "konto_neue_adresse"


@blueprint.get("/konto")
async def index() -> Response:
    if (redirect := require_level("basis")) is not None:
        return redirect
    account = await _account()
    pending = g.session.get(PENDING_ADDRESS)
    raw = pending or {f.id: str(account.profile.get(f.id) or "") for f in ADDRESS_FIELDS}
    return await _konto_page(account, raw, {}, pending=bool(pending))


@blueprint.post("/konto")
async def change_contact() -> Response:
    """Change address and phone of the account (not a change notice to the Jobcenter).

    A new address needs an eID proof at level substanziell in this session (SECURITY.md):
    without it the typed address waits in the session while the user proves it.
    """
    if (redirect := require_level("basis")) is not None:
        return redirect
    account = await _account()
    form = await request.form
    raw = {f.id: form.get(f.id, "") for f in ADDRESS_FIELDS}
    values, errors = _parse(ADDRESS_FIELDS, form)
    if errors:
        return await _konto_page(account, raw, errors, status=422)
    moves = any((values.get(k) or "") != (account.profile.get(k) or "") for k in ADDRESS_KEYS)
    if moves and not has_level(ADDRESS_LEVEL):
        g.session[PENDING_ADDRESS] = raw  # shown again after the eID proof
        return see_other(f"/konto/stufe?stufe={ADDRESS_LEVEL}&weiter=/konto")
    if PENDING_ADDRESS in g.session:
        g.session.pop(PENDING_ADDRESS)
    profile = {**account.profile, **values}
    if not values.get("telefon"):
        profile.pop("telefon", None)
    await account_repo.set_fields(_db(), account.id, profile=profile)
    await audit.record(_db(), account.id, "profile", account.id, fields=sorted(values))
    return see_other("/konto?gespeichert=1")


# -- /konto/pin: link the Kundennummer with the code from the PIN letter ---------------------


async def _pin_page(
    account: account_repo.Account,
    raw: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    fields = {
        f.id: _view(f, raw.get(f.id, ""), errors.get(f.id)) for f in (PIN_KUNDENNUMMER, PIN_CODE)
    }
    return _private(
        await render(
            SHELL,
            "partials/konto/pin.html",
            status=status,
            page_title=gettext("Konto mit Ihrer Kundennummer verbinden"),
            account=account,
            fields=fields,
            errors=error_list(list(fields.values()), []),
            weiter=raw.get("weiter", ""),
        )
    )


@blueprint.get("/konto/pin")
async def pin_form() -> Response:
    if (redirect := require_level("basis")) is not None:
        return redirect
    account = await _account()
    weiter = same_site_path(request.args.get("weiter"))
    return await _pin_page(account, {"weiter": weiter}, {})


@blueprint.post("/konto/pin")
async def pin_check() -> Response:
    if (redirect := require_level("basis")) is not None:
        return redirect
    account = await _account()
    if account.kundennummer:  # already linked: the page says so
        return see_other("/konto/pin")
    form = await request.form
    raw = {
        "kundennummer": form.get("kundennummer", ""),
        "code": form.get("code", ""),
        "weiter": same_site_path(form.get("weiter")),
    }
    kundennummer = pinletter.normalise_kundennummer(raw["kundennummer"])
    code = pinletter.normalise_code(raw["code"])
    errors: dict[str, str] = {}
    if not kundennummer:
        errors["kundennummer"] = gettext(REQUIRED)
    elif not re.fullmatch(PATTERNS["kundennummer"][0], kundennummer):
        errors["kundennummer"] = gettext(PATTERNS["kundennummer"][1])
    if not code:
        errors["code"] = gettext(REQUIRED)
    elif not pinletter.plausible_code(code):
        errors["code"] = gettext(CODE_FORMAT)
    if errors:
        return await _pin_page(account, raw, errors, status=422)
    outcome = await pinletter.redeem(_db(), account.id, kundennummer, code)
    if outcome != "linked":
        await audit.record(
            _db(), account.id, "pin_refused", None, kundennummer=kundennummer, outcome=outcome
        )
        field_id, message = PIN_MESSAGES[outcome]
        return await _pin_page(account, raw, {field_id: gettext(message)}, status=422)
    await raise_level("pin_brief", {"method": "pin_brief", "kundennummer": kundennummer})
    return see_other(raw["weiter"] or "/konto?verbunden=1")


# -- /konto/bescheide ------------------------------------------------------------------------


def _need_pin() -> Response | None:
    """Like require_level("pin_brief"), but an unlinked account goes straight to the PIN form."""
    if has_level("pin_brief"):
        return None
    if session_level() == "basis":
        return see_other("/konto/pin?weiter=" + request.path)
    return require_level("pin_brief")


@blueprint.get("/konto/bescheide")
async def decisions() -> Response:
    if (redirect := _need_pin()) is not None:
        return redirect
    account = await _account()
    if not account.kundennummer:  # an eID session of an account not linked yet
        return see_other("/konto/pin?weiter=/konto/bescheide")
    items = [
        {
            "decision": d,
            "leistungsart": gettext(LEISTUNGSART_LABELS[d.leistungsart])
            if d.leistungsart in LEISTUNGSART_LABELS
            else d.leistungsart,
            "pdf": f"/konto/bescheide/{d.id}.pdf",
        }
        for d in await customer_repo.decisions_for(_db(), account.kundennummer)
    ]
    return _private(
        await render(
            SHELL,
            "partials/konto/bescheide.html",
            page_title=gettext("Meine Bescheide"),
            items=items,
        )
    )


@blueprint.get("/konto/bescheide/<decision_id>.pdf")
async def decision_pdf(decision_id: str) -> Response:
    if (redirect := _need_pin()) is not None:
        return redirect
    account = await _account()
    found = await customer_repo.decision(_db(), decision_id, account.kundennummer)
    data = (
        await customer_repo.decision_pdf(_db(), decision_id, account.kundennummer)
        if found
        else None
    )
    if found is None or data is None:
        abort(404)
    await audit.record(
        _db(), account.id, "decision_read", found.id, kundennummer=found.kundennummer
    )
    name = re.sub(r"[^A-Za-z0-9-]", "-", found.reference)
    return Response(
        data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="Bescheid-{name}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
