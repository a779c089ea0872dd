"""Accounts: register, confirm the e-mail address, log in and out, new password, sessions.

SECURITY.md: argon2id passwords, no account enumeration (the same page, status and time
whether an address has an account or not; only the MAIL differs), rate limits in the
database, one-time e-mail tokens (only their hash stored), no state change on GET (a link
in a mail opens a page with a button). docs/identity.md says how the areas fit together.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import math
from datetime import timedelta
from typing import Any

from quart import Blueprint, Response, current_app, g, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from app.db import accounts as account_repo
from app.db import audit, utcnow
from app.db.tables import sessions
from app.i18n import N_

from .eservice.views import FieldView, error_list
from .identity import account_id, log_in, log_out, mail, ratelimit, tokens
from .identity.passwords import hash_password, needs_rehash, verify_password
from .start import EMAIL, same_site_path
from .web.language import gettext, ngettext
from .web.render import render, see_other

log = logging.getLogger(__name__)

blueprint = Blueprint("anmeldung", __name__)

SHELL = "pages/shell.html"
EMAIL_MAX = 254
PASSWORD_MIN = 12
PASSWORD_MAX = 256  # long passphrases are welcome; this only bounds the hashing work

EMAIL_MISSING = N_("Bitte geben Sie Ihre E-Mail-Adresse ein.")
EMAIL_INVALID = N_("Bitte geben Sie eine E-Mail-Adresse im Format name@beispiel.de ein.")
PASSWORD_MISSING = N_("Bitte geben Sie Ihr Passwort ein.")
NEW_PASSWORD_MISSING = N_("Bitte legen Sie ein Passwort fest.")
PASSWORD_SHORT = N_(
    "Das Passwort muss mindestens {min} Zeichen lang sein. Es hat jetzt {count} Zeichen."
)
PASSWORD_LONG = N_("Das Passwort darf höchstens {max} Zeichen lang sein.")
PASSWORD_IS_EMAIL = N_("Bitte nehmen Sie nicht Ihre E-Mail-Adresse als Passwort.")
LOGIN_WRONG = N_("E-Mail-Adresse oder Passwort falsch. Bitte prüfen Sie beides.")


def _db() -> Any:
    return current_app.config["DB"]


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _client() -> str:
    return "client:" + (request.remote_addr or "unknown")


@blueprint.app_context_processor
async def _account_context() -> dict[str, object]:
    """Header and body of every page: logged in or not (from the session, no DB read)."""
    session = g.get("session")
    signed_in = bool(session and session.get("account_id"))
    return {"signed_in": signed_in, "idle_minutes": _settings().session_idle_minutes}


async def _page(partial: str, title: str, *, status: int = 200, **ctx: Any) -> Response:
    """A page of this area; a form page's error summary comes from its ``fields``."""
    fields = ctx.get("fields")
    ctx.setdefault("errors", error_list(list(fields.values()), []) if fields else [])
    settings = _settings()
    ctx["demo_mail"] = settings.demo and not settings.production  # /dev/mail exists
    response = await render(
        SHELL, f"partials/anmeldung/{partial}.html", status=status, page_title=title, **ctx
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _email_field(raw: str, error: str | None, hint: str | None = None) -> FieldView:
    return FieldView(
        id="email",
        type="email",
        label=gettext("E-Mail-Adresse"),
        hint=hint,
        optional=False,
        error=error,
        raw=raw,
        autocomplete="email",
    )


def _password_field(
    error: str | None, *, new: bool, label: str | None = None, hint: str | None = None
) -> FieldView:
    return FieldView(
        id="passwort",
        type="password",
        label=label or gettext("Passwort"),
        hint=hint,
        optional=False,
        error=error,
        raw="",  # a password is never sent back
        autocomplete="new-password" if new else "current-password",
    )


def _new_password_hint() -> str:
    return gettext(
        "Mindestens {min} Zeichen. Sie können auch mehrere Wörter nehmen, zum Beispiel "
        "einen kurzen Satz. Sie dürfen das Passwort einfügen.",
        min=PASSWORD_MIN,
    )


def _email_error(email: str) -> str | None:
    if not email:
        return gettext(EMAIL_MISSING)
    if len(email) > EMAIL_MAX or not EMAIL.match(email):
        return gettext(EMAIL_INVALID)
    return None


def _new_password_error(password: str, email: str = "") -> str | None:
    if not password:
        return gettext(NEW_PASSWORD_MISSING)
    if len(password) < PASSWORD_MIN:
        return gettext(PASSWORD_SHORT, min=PASSWORD_MIN, count=len(password))
    if len(password) > PASSWORD_MAX:
        return gettext(PASSWORD_LONG, max=PASSWORD_MAX)
    if email and password.strip().lower() == email.strip().lower():
        return gettext(PASSWORD_IS_EMAIL)
    return None


async def _too_many(wait: timedelta, *, login: bool = False) -> Response:
    """429: say politely when to try again and what else helps."""
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    response = await _page(
        "zu_viele",
        gettext("Zu viele Versuche"),
        status=429,
        when=ngettext(
            "Bitte versuchen Sie es in {n} Minute noch einmal.",
            "Bitte versuchen Sie es in {n} Minuten noch einmal.",
            minutes,
        ),
        login=login,
    )
    response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
    return response


async def _limit_client(limit: ratelimit.Limit) -> Response | None:
    """Count one attempt of this client; the 429 page once it is over ``limit``."""
    client = ratelimit.key(_client())
    if wait := await ratelimit.blocked((limit, client)):
        return await _too_many(wait)
    await ratelimit.hit(limit, client)
    return None


# -- mails ----------------------------------------------------------------------------------


def _greeting_and_footer(*middle: str) -> tuple[str, ...]:
    return (
        gettext("Guten Tag,"),
        *middle,
        gettext("Mit freundlichen Grüßen\nIhr Jobcenter (jobcenter.digital)"),
        gettext(
            "Diese E-Mail kommt automatisch. Bitte antworten Sie nicht darauf. Bei Fragen "
            "rufen Sie uns an: 0800 4 5555 00."
        ),
    )


async def _may_mail(address: str) -> bool:
    """At most a few mails per address and hour, whoever asks (no mail bombing)."""
    hashed = ratelimit.key(address)
    if await ratelimit.retry_after(ratelimit.MAIL_ADDRESS, hashed):
        log.warning("mail to one address held back: rate limit")
        return False
    await ratelimit.hit(ratelimit.MAIL_ADDRESS, hashed)
    return True


async def _mail_confirm(account: account_repo.Account) -> None:
    if not await _may_mail(account.email):
        return
    token = await tokens.issue(_db(), account.id, tokens.CONFIRM)
    mail.queue(
        mail.Mail(
            to=account.email,
            subject=gettext("Bitte bestätigen Sie Ihre E-Mail-Adresse"),
            paragraphs=_greeting_and_footer(
                gettext(
                    "Sie haben bei jobcenter.digital ein Konto angelegt. Bitte bestätigen Sie "
                    "Ihre E-Mail-Adresse. Öffnen Sie dazu diesen Link:"
                ),
                mail.link(f"/registrieren/bestaetigen/{token}"),
                gettext("Der Link gilt 24 Stunden und nur einmal."),
                gettext("Sie haben kein Konto angelegt? Dann müssen Sie nichts tun."),
            ),
        )
    )


async def _mail_exists(account: account_repo.Account) -> None:
    """Someone registered with an address that has an account: tell its owner, not the page."""
    if not await _may_mail(account.email):
        return
    token = await tokens.issue(_db(), account.id, tokens.RESET)
    mail.queue(
        mail.Mail(
            to=account.email,
            subject=gettext("Ihr Konto bei jobcenter.digital"),
            paragraphs=_greeting_and_footer(
                gettext(
                    "Jemand wollte mit Ihrer E-Mail-Adresse ein neues Konto anlegen. Sie haben "
                    "aber schon ein Konto bei jobcenter.digital."
                ),
                gettext(
                    "Waren Sie das? Dann melden Sie sich mit Ihrem Passwort an. Haben Sie Ihr "
                    "Passwort vergessen? Mit diesem Link legen Sie ein neues fest:"
                ),
                mail.link(f"/passwort-neu/{token}"),
                gettext("Der Link gilt 1 Stunde und nur einmal."),
                gettext(
                    "Waren Sie das nicht? Dann müssen Sie nichts tun. Ihr Konto bleibt sicher."
                ),
            ),
        )
    )


async def _mail_reset(account: account_repo.Account) -> None:
    if not await _may_mail(account.email):
        return
    token = await tokens.issue(_db(), account.id, tokens.RESET)
    mail.queue(
        mail.Mail(
            to=account.email,
            subject=gettext("Neues Passwort für jobcenter.digital"),
            paragraphs=_greeting_and_footer(
                gettext(
                    "Sie möchten ein neues Passwort für jobcenter.digital festlegen. Öffnen "
                    "Sie dazu diesen Link:"
                ),
                mail.link(f"/passwort-neu/{token}"),
                gettext("Der Link gilt 1 Stunde und nur einmal."),
                gettext(
                    "Sie haben kein neues Passwort angefordert? Dann müssen Sie nichts tun. "
                    "Ihr Passwort bleibt, wie es ist."
                ),
            ),
        )
    )


# -- register -------------------------------------------------------------------------------


async def _register_form(email: str, errors: dict[str, str], status: int = 200) -> Response:
    fields = {
        "email": _email_field(
            email,
            errors.get("email"),
            gettext("An diese Adresse schicken wir einen Link zur Bestätigung."),
        ),
        "passwort": _password_field(errors.get("passwort"), new=True, hint=_new_password_hint()),
    }
    return await _page(
        "registrieren",
        gettext("Konto anlegen"),
        status=status,
        fields=fields,
    )


@blueprint.get("/registrieren")
async def register_form() -> Response:
    return await _register_form("", {})


@blueprint.post("/registrieren")
async def register() -> Response:
    form = await request.form
    email = form.get("email", "").strip()
    password = form.get("passwort", "")
    errors = {}
    if error := _email_error(email):
        errors["email"] = error
    if error := _new_password_error(password, email):
        errors["passwort"] = error
    if errors:
        return await _register_form(email, errors, status=422)
    if (refused := await _limit_client(ratelimit.REGISTER_CLIENT)) is not None:
        return refused
    # hash in every case: the answer takes as long for a taken address as for a new one
    password_hash = await hash_password(password)
    existing = await account_repo.by_email(_db(), email)
    if existing is None:
        try:
            account = await account_repo.create(_db(), email, password_hash)
        except IntegrityError:  # registered in between
            existing = await account_repo.by_email(_db(), email)
        else:
            await audit.record(_db(), account.id, "register", None)
            await _mail_confirm(account)
    if existing is not None:
        await audit.record(_db(), existing.id, "register_existing", None)
        await _mail_exists(existing)
    g.session["mail_to"] = account_repo.normalise_email(email)
    return see_other("/registrieren/gesendet")


@blueprint.get("/registrieren/gesendet")
async def register_sent() -> Response:
    return await _page(
        "gesendet",
        gettext("Wir haben Ihnen eine E-Mail geschickt"),
        address=g.session.get("mail_to"),
    )


@blueprint.post("/registrieren/nochmal")
async def resend() -> Response:
    """Send the confirmation mail again (a lost mail, a failed send): same answer for all."""
    email = (await request.form).get("email", "").strip()
    if _email_error(email):
        return see_other("/registrieren")
    if (refused := await _limit_client(ratelimit.REGISTER_CLIENT)) is not None:
        return refused
    account = await account_repo.by_email(_db(), email)
    if account is not None and not account.confirmed:
        await _mail_confirm(account)
    elif account is not None:
        await _mail_exists(account)
    g.session["mail_to"] = account_repo.normalise_email(email)
    return see_other("/registrieren/gesendet")


@blueprint.get("/registrieren/nicht-bestaetigt")
async def unconfirmed() -> Response:
    """After a RIGHT password of an unconfirmed account (only then may we say so)."""
    address = g.session.get("unconfirmed")
    if not address:
        return see_other("/anmelden")
    return await _page(
        "nicht_bestaetigt", gettext("Bitte bestätigen Sie Ihre E-Mail-Adresse"), address=address
    )


async def _link_invalid(kind: str) -> Response:
    return await _page(
        "link_ungueltig", gettext("Dieser Link gilt nicht mehr"), status=404, kind=kind
    )


@blueprint.get("/registrieren/bestaetigen/<token>")
async def confirm_page(token: str) -> Response:
    if await tokens.peek(_db(), token, tokens.CONFIRM) is None:
        return await _link_invalid("confirm")
    return await _page("bestaetigen", gettext("E-Mail-Adresse bestätigen"), token=token)


@blueprint.post("/registrieren/bestaetigen/<token>")
async def confirm(token: str) -> Response:
    owner = await tokens.consume(_db(), token, tokens.CONFIRM)
    account = await account_repo.get(_db(), owner)
    if account is None:
        return await _link_invalid("confirm")
    if not account.confirmed:
        await account_repo.set_fields(_db(), account.id, email_confirmed_at=utcnow())
        await audit.record(_db(), account.id, "email_confirmed", None)
    g.session.pop("unconfirmed", None)
    return see_other("/anmelden?bestaetigt=1")


# -- log in ---------------------------------------------------------------------------------


async def _login_form(
    email: str, errors: dict[str, str], weiter: str, status: int = 200
) -> Response:
    fields = {
        "email": _email_field(email, errors.get("email")),
        "passwort": _password_field(errors.get("passwort"), new=False),
    }
    expired = request.args.get("abgelaufen") == "1" or bool(g.get("session_expired"))
    return await _page(
        "anmelden",
        gettext("Anmelden"),
        status=status,
        fields=fields,
        weiter=weiter,
        expired=expired and status == 200,
        confirmed=request.args.get("bestaetigt") == "1",
        new_password=request.args.get("passwort") == "neu",
    )


@blueprint.get("/anmelden")
async def login_form() -> Response:
    weiter = same_site_path(request.args.get("weiter"))
    if account_id():
        return see_other(weiter or "/konto")
    return await _login_form("", {}, weiter)


async def _second_factor_required(account: account_repo.Account) -> bool:
    """Ask the passkeys area (app/identity/passkeys.py); no such module yet: no second factor."""
    try:
        from app.identity.passkeys import second_factor_required
    except ImportError:
        return False
    result = second_factor_required(_db(), account)
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


@blueprint.post("/anmelden")
async def login() -> Response:
    form = await request.form
    email = form.get("email", "").strip()
    password = form.get("passwort", "")
    weiter = same_site_path(form.get("weiter"))
    errors = {}
    if not email:
        errors["email"] = gettext(EMAIL_MISSING)
    if not password:
        errors["passwort"] = gettext(PASSWORD_MISSING)
    if errors:
        return await _login_form(email, errors, weiter, status=422)
    email_key, client_key = ratelimit.key(email), ratelimit.key(_client())
    wait = await ratelimit.blocked(
        (ratelimit.LOGIN_EMAIL, email_key), (ratelimit.LOGIN_CLIENT, client_key)
    )
    if wait:
        await audit.record(_db(), "-", "login_blocked", None, email_hash=email_key)
        return await _too_many(wait, login=True)
    account = await account_repo.by_email(_db(), email) if len(email) <= EMAIL_MAX else None
    # verify_password spends the same time when there is no account (dummy hash)
    right = await verify_password(account.password_hash if account else None, password)
    if not right or account is None or account.password_hash is None:
        await ratelimit.hit(ratelimit.LOGIN_EMAIL, email_key)
        await ratelimit.hit(ratelimit.LOGIN_CLIENT, client_key)
        await audit.record(
            _db(), account.id if account else "-", "login_failed", None, email_hash=email_key
        )
        return await _login_form(email, {"passwort": gettext(LOGIN_WRONG)}, weiter, status=422)
    await ratelimit.clear(ratelimit.LOGIN_EMAIL, email_key)
    if needs_rehash(account.password_hash):
        await account_repo.set_fields(
            _db(), account.id, password_hash=await hash_password(password)
        )
    if not account.confirmed:
        g.session["unconfirmed"] = account.email
        return see_other("/registrieren/nicht-bestaetigt")
    if await _second_factor_required(account):
        g.session["pending_login"] = {
            "account_id": account.id,
            "at": utcnow().isoformat(),
            "weiter": weiter,
        }
        return see_other("/anmelden/zweiter-faktor")
    await log_in(account, "password")
    return see_other(weiter or "/konto")


# -- log out --------------------------------------------------------------------------------


@blueprint.get("/abmelden")
async def logout_page() -> Response:
    """Logged in: the two logout buttons. Otherwise (also after logging out): "abgemeldet"."""
    if account_id():
        return await _page("abmelden", gettext("Abmelden"))
    return await _page("abgemeldet", gettext("Sie sind abgemeldet"))


@blueprint.post("/abmelden")
async def logout() -> Response:
    await log_out()
    return see_other("/abmelden")


@blueprint.post("/abmelden/ueberall")
async def logout_everywhere() -> Response:
    await log_out(everywhere=True)
    return see_other("/abmelden")


# -- password forgotten ---------------------------------------------------------------------


async def _forgot_form(email: str, errors: dict[str, str], status: int = 200) -> Response:
    fields = {"email": _email_field(email, errors.get("email"))}
    return await _page(
        "passwort_vergessen",
        gettext("Passwort vergessen"),
        status=status,
        fields=fields,
    )


@blueprint.get("/passwort-vergessen")
async def forgot_form() -> Response:
    return await _forgot_form("", {})


@blueprint.post("/passwort-vergessen")
async def forgot() -> Response:
    email = (await request.form).get("email", "").strip()
    if error := _email_error(email):
        return await _forgot_form(email, {"email": error}, status=422)
    if (refused := await _limit_client(ratelimit.RESET_CLIENT)) is not None:
        return refused
    account = await account_repo.by_email(_db(), email)
    if account is not None:
        await _mail_reset(account)
    g.session["reset_to"] = account_repo.normalise_email(email)
    return see_other("/passwort-vergessen/gesendet")


@blueprint.get("/passwort-vergessen/gesendet")
async def forgot_sent() -> Response:
    return await _page(
        "passwort_gesendet",
        gettext("Bitte schauen Sie in Ihr E-Mail-Postfach"),
        address=g.session.get("reset_to"),
    )


async def _new_password_form(token: str, error: str | None, status: int = 200) -> Response:
    fields = {
        "passwort": _password_field(
            error, new=True, label=gettext("Neues Passwort"), hint=_new_password_hint()
        )
    }
    return await _page(
        "passwort_neu",
        gettext("Neues Passwort festlegen"),
        status=status,
        fields=fields,
        token=token,
    )


@blueprint.get("/passwort-neu/<token>")
async def new_password_form(token: str) -> Response:
    if await tokens.peek(_db(), token, tokens.RESET) is None:
        return await _link_invalid("reset")
    return await _new_password_form(token, None)


@blueprint.post("/passwort-neu/<token>")
async def new_password(token: str) -> Response:
    password = (await request.form).get("passwort", "")
    owner = await tokens.peek(_db(), token, tokens.RESET)
    account = await account_repo.get(_db(), owner)
    if account is None:
        return await _link_invalid("reset")
    if error := _new_password_error(password, account.email):
        return await _new_password_form(token, error, status=422)
    if await tokens.consume(_db(), token, tokens.RESET) != account.id:
        return await _link_invalid("reset")
    values: dict[str, Any] = {"password_hash": await hash_password(password)}
    if not account.confirmed:  # the link in the mail proves the address too
        values["email_confirmed_at"] = utcnow()
    await account_repo.set_fields(_db(), account.id, **values)
    await tokens.revoke(_db(), account.id, tokens.RESET)
    await _end_other_sessions(account.id)
    await ratelimit.clear(ratelimit.LOGIN_EMAIL, ratelimit.key(account.email))
    await audit.record(_db(), account.id, "password_reset", None)
    g.session.pop("unconfirmed", None)
    return see_other("/anmelden?passwort=neu")


async def _end_other_sessions(owner: str) -> None:
    """A new password ends every session of the account but this browser's own."""
    query = delete(sessions).where(sessions.c.account_id == owner)
    if g.session.token:
        own = hashlib.sha256(g.session.token.encode()).hexdigest()
        query = query.where(sessions.c.id_hash != own)
    async with _db().begin() as conn:
        await conn.execute(query)


# -- sessions -------------------------------------------------------------------------------


@blueprint.post("/sitzung/verlaengern")
async def extend_session() -> Response:
    """The "Sitzung verlängern" button (app.js, WCAG 2.2.1): 204 and the session is fresh."""
    if not account_id():
        return Response(status=401)
    g.session.touch = True
    return Response(status=204)
