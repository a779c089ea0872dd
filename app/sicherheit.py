"""Security of the account: passkeys and TOTP (/konto/sicherheit), passwordless login with a
passkey (/anmelden/passkey) and the second factor after the password (/anmelden/zweiter-faktor).

Every step is a plain form (POST → 303 → GET; 422 with the error summary). Passkey forms
carry ``data-passkey``: js/passkey.js fetches the options (POST with the CSRF header), runs
the WebAuthn ceremony, puts the result into the hidden ``credential`` field and submits the
form. Without JavaScript the TOTP way and the password stay available. The WebAuthn and
TOTP rules themselves live in app.identity.passkeys and app.identity.totp.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from quart import Blueprint, Response, abort, current_app, g, request

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.eservice.views import FieldView
from app.i18n import N_
from app.identity import account_id, current_account, log_in, ratelimit, require_level, totp
from app.identity import passkeys as pk
from app.web.csrf import csrf_token
from app.web.language import gettext
from app.web.render import render, see_other

from .start import same_site_path

blueprint = Blueprint("sicherheit", __name__)

SHELL = "pages/shell.html"
HOME = "/konto/sicherheit"
PENDING_TTL = timedelta(minutes=5)

NAME_TOO_LONG = N_("Bitte geben Sie höchstens {max} Zeichen ein.")
NAME_MISSING = N_("Bitte geben Sie dem Passkey einen Namen.")
NO_CREDENTIAL = N_(
    "Ihr Browser hat keinen Passkey geschickt. Für Passkeys muss JavaScript eingeschaltet "
    "sein. Sie können sich auch mit Passwort und einem Code aus einer Authenticator-App "
    "anmelden."
)
LAST_PASSKEY = N_(
    "Das ist Ihr einziger Passkey und Ihr Konto hat kein Passwort. Bitte fügen Sie zuerst "
    "einen anderen Passkey hinzu."
)
SETUP_GONE = N_("Bitte starten Sie die Einrichtung noch einmal.")

#: ?erledigt=… on the overview after a change: what to confirm
DONE = {
    "passkey-hinzugefuegt": N_("Ihr Passkey ist gespeichert."),
    "passkey-umbenannt": N_("Der Name des Passkeys ist geändert."),
    "passkey-entfernt": N_("Der Passkey ist entfernt."),
    "totp-eingerichtet": N_("Die Authenticator-App ist eingerichtet."),
    "totp-entfernt": N_("Die Authenticator-App ist entfernt."),
}


def _db() -> Any:
    return current_app.config["DB"]


def _session_key() -> str:
    return pk.session_hash(csrf_token())


def _remember_challenge(purpose: str, challenge_id: str) -> None:
    g.session["webauthn"] = {**g.session.get("webauthn", {}), purpose: challenge_id}


def _challenge_id(purpose: str) -> str | None:
    """The challenge this browser was given for ``purpose``; forgotten once read."""
    ids = dict(g.session.get("webauthn", {}))
    challenge_id = ids.pop(purpose, None)
    g.session["webauthn"] = ids
    return challenge_id


def _json(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="application/json")


@blueprint.after_request
async def _no_store(response: Response) -> Response:
    """Every page here is personal (or part of a login): never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


async def _page(partial: str, title: str, *, status: int = 200, **ctx: Any) -> Response:
    return await render(
        SHELL, f"partials/sicherheit/{partial}.html", status=status, page_title=title, **ctx
    )


# -- /konto/sicherheit: the overview --------------------------------------------------------


async def _overview(
    *, status: int = 200, errors: list[tuple[str, str]] | None = None, **ctx: Any
) -> Response:
    account = await current_account()
    assert account is not None
    passkeys = await pk.list_passkeys(_db(), account.id)
    done = DONE.get(request.args.get("erledigt", ""))
    if "name" not in ctx:
        ctx["name"] = name_field(gettext("Passkey {n}", n=len(passkeys) + 1))
    return await _page(
        "index",
        gettext("Anmeldung und Sicherheit"),
        status=status,
        passkeys=passkeys,
        totp_on=bool(account.totp_secret),
        done=gettext(done) if done and status == 200 else None,
        errors=errors or [],
        **ctx,
    )


@blueprint.get(HOME)
async def overview() -> Response:
    if guard := require_level("basis"):
        return guard
    return await _overview()


def name_field(raw: str, error: str | None = None) -> FieldView:
    return FieldView(
        id="name",
        type="text",
        label=gettext("Name des Passkeys"),
        hint=gettext("Zum Beispiel „Handy“ oder „Laptop“. So erkennen Sie ihn später wieder."),
        optional=False,
        error=error,
        raw=raw,
        autocomplete="off",
    )


def code_field(raw: str, error: str | None = None) -> FieldView:
    return FieldView(
        id="code",
        type="text",
        label=gettext("Code aus der App"),
        hint=gettext("6 Ziffern. Der Code ändert sich alle 30 Sekunden."),
        optional=False,
        error=error,
        raw=raw,
        autocomplete="one-time-code",
    )


def _field_errors(field: FieldView) -> list[tuple[str, str]]:
    return [(f"#{field.anchor}", f"{field.label}: {field.error}")] if field.error else []


def _name_error(name: str) -> str | None:
    if not name:
        return gettext(NAME_MISSING)
    if len(name) > pk.NAME_MAX:
        return gettext(NAME_TOO_LONG, max=pk.NAME_MAX)
    return None


@blueprint.post(f"{HOME}/passkey/optionen")
async def register_options() -> Response:
    if require_level("basis"):
        return _json('{"error": "login"}', 401)
    account = await current_account()
    assert account is not None
    challenge_id, options = await pk.registration_options(
        _db(), account, pk.relying_party(), _session_key()
    )
    _remember_challenge("register", challenge_id)
    return _json(options)


@blueprint.post(f"{HOME}/passkey")
async def register() -> Response:
    if guard := require_level("basis"):
        return guard
    form = await request.form
    name = " ".join(form.get("name", "").split())
    field = name_field(name, _name_error(name))
    if field.error:
        return await _overview(status=422, errors=_field_errors(field), name=field)
    credential = form.get("credential", "")
    try:
        if not credential:
            raise pk.PasskeyError(NO_CREDENTIAL)
        await pk.register(
            _db(),
            account_id() or "",
            _challenge_id("register"),
            _session_key(),
            credential,
            pk.relying_party(),
            name,
        )
    except pk.PasskeyError as exc:
        return await _overview(
            status=422,
            errors=[("#passkey-register", gettext(exc.message_id))],
            name=field,
            passkey_error=gettext(exc.message_id),
        )
    return see_other(f"{HOME}?erledigt=passkey-hinzugefuegt")


async def _own_passkey(credential_id: str) -> pk.Passkey:
    found = await pk.get_passkey(_db(), account_id() or "", credential_id)
    if found is None:
        abort(404)
    return found


@blueprint.route(f"{HOME}/passkey/<credential_id>/umbenennen", methods=["GET", "POST"])
async def rename(credential_id: str) -> Response:
    if guard := require_level("basis"):
        return guard
    passkey = await _own_passkey(credential_id)
    field = name_field(passkey.name)
    if request.method == "POST":
        name = " ".join((await request.form).get("name", "").split())
        field = name_field(name, _name_error(name))
        if not field.error:
            await pk.rename(_db(), account_id() or "", credential_id, name)
            return see_other(f"{HOME}?erledigt=passkey-umbenannt")
    return await _page(
        "rename",
        gettext("Passkey umbenennen"),
        status=422 if field.error else 200,
        passkey=passkey,
        name=field,
        errors=_field_errors(field),
    )


@blueprint.route(f"{HOME}/passkey/<credential_id>/entfernen", methods=["GET", "POST"])
async def remove(credential_id: str) -> Response:
    if guard := require_level("basis"):
        return guard
    passkey = await _own_passkey(credential_id)
    account = await current_account()
    assert account is not None
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        others = len(await pk.list_passkeys(_db(), account.id)) - 1
        if not account.password_hash and others == 0:
            errors = [("#step-title", gettext(LAST_PASSKEY))]
        else:
            await pk.remove(_db(), account.id, credential_id)
            return see_other(f"{HOME}?erledigt=passkey-entfernt")
    return await _page(
        "remove",
        gettext("Passkey wirklich entfernen?"),
        status=422 if errors else 200,
        passkey=passkey,
        errors=errors,
    )


# -- TOTP -----------------------------------------------------------------------------------


@blueprint.post(f"{HOME}/totp/einrichten")
async def totp_start() -> Response:
    """A new secret for this browser's setup (kept in the server-side session until the first
    right code proves the app has it)."""
    if guard := require_level("basis"):
        return guard
    g.session["totp_setup"] = totp.new_secret()
    return see_other(f"{HOME}/totp")


async def _totp_page(secret: str, *, code: str = "", error: str | None = None) -> Response:
    account = await current_account()
    assert account is not None
    uri = totp.provisioning_uri(secret, account.email)
    field = code_field(code, error)
    return await _page(
        "totp",
        gettext("Authenticator-App einrichten"),
        status=422 if error else 200,
        qr=totp.qr_svg(uri, gettext("QR-Code für Ihre Authenticator-App")),
        secret=totp.grouped(secret),
        code=field,
        errors=_field_errors(field),
    )


@blueprint.get(f"{HOME}/totp")
async def totp_setup() -> Response:
    if guard := require_level("basis"):
        return guard
    secret = g.session.get("totp_setup")
    if not secret:
        return see_other(HOME)
    return await _totp_page(secret)


@blueprint.post(f"{HOME}/totp")
async def totp_confirm() -> Response:
    if guard := require_level("basis"):
        return guard
    secret = g.session.get("totp_setup")
    typed = (await request.form).get("code", "").strip()
    if not secret:
        return await _overview(status=422, errors=[("#totp", gettext(SETUP_GONE))])
    who = account_id() or ""
    try:
        await totp.check_code(_db(), who, secret, typed)
    except totp.TotpError as exc:
        return await _totp_page(secret, code=typed, error=gettext(exc.message_id))
    await account_repo.set_fields(_db(), who, totp_secret=secret)
    g.session.pop("totp_setup")
    await audit.record(_db(), who, "totp_added")
    return see_other(f"{HOME}?erledigt=totp-eingerichtet")


@blueprint.route(f"{HOME}/totp/entfernen", methods=["GET", "POST"])
async def totp_remove() -> Response:
    if guard := require_level("basis"):
        return guard
    account = await current_account()
    assert account is not None
    if not account.totp_secret:
        return see_other(HOME)
    if request.method == "POST":
        await account_repo.set_fields(_db(), account.id, totp_secret=None, totp_last_step=None)
        await audit.record(_db(), account.id, "totp_removed")
        return see_other(f"{HOME}?erledigt=totp-entfernt")
    return await _page("totp_remove", gettext("Authenticator-App wirklich entfernen?"))


# -- /anmelden/zweiter-faktor: after the right password --------------------------------------


def _pending() -> dict[str, Any] | None:
    """The half-done login (password right, second factor to come), if not older than 5 min."""
    pending = g.session.get("pending_login")
    if not isinstance(pending, dict) or not pending.get("account_id"):
        return None
    at = pending.get("at")
    try:
        started = (
            datetime.fromisoformat(at)
            if isinstance(at, str)
            else datetime.fromtimestamp(at, utcnow().tzinfo)
        )
    except (TypeError, ValueError):
        started = None
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=utcnow().tzinfo)
    if started is None or utcnow() - started > PENDING_TTL:
        g.session.pop("pending_login")
        return None
    return pending


def _restart() -> Response:
    return see_other("/anmelden?abgelaufen=1")


async def _finish(account: account_repo.Account, method: str, weiter: str | None) -> Response:
    g.session.pop("pending_login")
    g.session.pop("webauthn")
    await log_in(account, method)
    return see_other(same_site_path(weiter) or "/konto")


async def _second_page(
    account: account_repo.Account,
    *,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    code: FieldView | None = None,
    passkey_error: str | None = None,
) -> Response:
    return await _page(
        "second_factor",
        gettext("Anmeldung bestätigen"),
        status=status,
        has_passkey=await pk.has_passkey(_db(), account.id),
        totp_on=bool(account.totp_secret),
        errors=errors or [],
        code=code or code_field(""),
        passkey_error=passkey_error,
    )


async def _pending_account() -> tuple[dict[str, Any], account_repo.Account] | None:
    pending = _pending()
    if pending is None:
        return None
    account = await account_repo.get(_db(), pending["account_id"])
    return (pending, account) if account else None


@blueprint.get("/anmelden/zweiter-faktor")
async def second_factor() -> Response:
    found = await _pending_account()
    if found is None:
        return _restart()
    return await _second_page(found[1])


@blueprint.post("/anmelden/zweiter-faktor/optionen")
async def second_options() -> Response:
    found = await _pending_account()
    if found is None:
        return _json('{"error": "expired"}', 401)
    challenge_id, options = await pk.authentication_options(
        _db(), pk.relying_party(), _session_key(), purpose="second", account_id=found[1].id
    )
    _remember_challenge("second", challenge_id)
    return _json(options)


@blueprint.post("/anmelden/zweiter-faktor/passkey")
async def second_passkey() -> Response:
    found = await _pending_account()
    if found is None:
        return _restart()
    pending, account = found
    credential = (await request.form).get("credential", "")
    try:
        if not credential:
            raise pk.PasskeyError(NO_CREDENTIAL)
        await pk.authenticate(
            _db(),
            _challenge_id("second"),
            _session_key(),
            credential,
            pk.relying_party(),
            purpose="second",
            account_id=account.id,
        )
    except pk.PasskeyError as exc:
        message = gettext(exc.message_id)
        return await _second_page(
            account, status=422, errors=[("#passkey-second", message)], passkey_error=message
        )
    return await _finish(account, "password+passkey", pending.get("weiter"))


@blueprint.post("/anmelden/zweiter-faktor/code")
async def second_code() -> Response:
    found = await _pending_account()
    if found is None:
        return _restart()
    pending, account = found
    typed = (await request.form).get("code", "").strip()
    try:
        if not account.totp_secret:
            raise totp.TotpError(totp.WRONG)
        await totp.check_code(_db(), account.id, account.totp_secret, typed)
    except totp.TotpError as exc:
        field = code_field(typed, gettext(exc.message_id))
        return await _second_page(account, status=422, errors=_field_errors(field), code=field)
    return await _finish(account, "password+totp", pending.get("weiter"))


# -- /anmelden/passkey: passwordless ---------------------------------------------------------


async def _login_page(
    weiter: str,
    *,
    status: int = 200,
    errors: list[tuple[str, str]] | None = None,
    passkey_error: str | None = None,
) -> Response:
    return await _page(
        "passkey_login",
        gettext("Mit Passkey anmelden"),
        status=status,
        weiter=weiter,
        password_url="/anmelden" + (f"?weiter={quote(weiter, safe='/')}" if weiter else ""),
        errors=errors or [],
        passkey_error=passkey_error,
    )


@blueprint.get("/anmelden/passkey")
async def passkey_login() -> Response:
    return await _login_page(same_site_path(request.args.get("weiter")))


#: passwordless login options need no account: each call stores a challenge, so bound them
#: per client address
LOGIN_OPTIONS = ratelimit.Limit("passkey-options", 30, timedelta(minutes=15))


@blueprint.post("/anmelden/passkey/optionen")
async def login_options() -> Response:
    client = ratelimit.key(request.remote_addr or "-")
    if await ratelimit.blocked((LOGIN_OPTIONS, client)):
        return _json('{"error": "too_many"}', status=429)
    await ratelimit.hit(LOGIN_OPTIONS, client)
    challenge_id, options = await pk.authentication_options(
        _db(), pk.relying_party(), _session_key(), purpose="login"
    )
    _remember_challenge("login", challenge_id)
    return _json(options)


@blueprint.post("/anmelden/passkey")
async def passkey_login_send() -> Response:
    form = await request.form
    weiter = same_site_path(form.get("weiter"))
    credential = form.get("credential", "")
    try:
        if not credential:
            raise pk.PasskeyError(NO_CREDENTIAL)
        verified = await pk.authenticate(
            _db(),
            _challenge_id("login"),
            _session_key(),
            credential,
            pk.relying_party(),
            purpose="login",
        )
        account = await account_repo.get(_db(), verified.account_id)
        if account is None:
            raise pk.PasskeyError(pk.UNKNOWN)
    except pk.PasskeyError as exc:
        message = gettext(exc.message_id)
        return await _login_page(
            weiter, status=422, errors=[("#passkey-login", message)], passkey_error=message
        )
    g.session.pop("pending_login")
    g.session.pop("webauthn")
    await log_in(account, "passkey")
    return see_other(weiter or "/konto")
