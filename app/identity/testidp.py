"""The local SAML test identity provider (development and CI only), docs/decisions/0008.

A real SAML 2.0 IdP built with pysaml2's ``Server``: it checks the signature of the
AuthnRequest (HTTP-Redirect) against our SP metadata, lets the tester pick a test person and a
fault, and answers with a signed assertion carrying the BundID attributes (HTTP-POST). Its
key is made at the first start under the data directory (so every worker signs with the
same key). It refuses to run in production mode (SECURITY.md, negative test 12), and the
SP refuses its entity id there too (app/identity/saml.py).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quart import Blueprint, Quart, Response, current_app, request
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID
from saml2.server import Server

from app.eservice.views import FieldView, OptionView, error_list
from app.i18n import N_
from app.web.language import gettext
from app.web.render import render

from . import saml

blueprint = Blueprint("testidp", __name__, url_prefix="/test-idp")

SHELL = "pages/shell.html"
POST_PAGE = "partials/testidp/post_page.html"


@dataclass(frozen=True)
class TestPerson:
    key: str
    given_name: str
    surname: str
    birth_date: str  # ISO
    street: str
    postcode: str
    locality: str
    pseudonym: str  # bPK2

    @property
    def label(self) -> str:
        return f"{self.given_name} {self.surname}"


#: docs/identity.md: Erika matches the demo account, Leon the second demo citizen,
#: Max Fremd is nobody's account
PERSONS = {
    p.key: p
    for p in (
        TestPerson(
            "erika",
            "Erika",
            "Mustermann",
            "1964-08-12",
            "Heidestraße 17",
            "51147",
            "Köln",
            "bpk2-test-erika-mustermann",
        ),
        TestPerson(
            "leon",
            "Leon",
            "Beispiel",
            "1990-01-31",
            "Müllerstraße 5",
            "13353",
            "Berlin",
            "bpk2-test-leon-beispiel",
        ),
        TestPerson(
            "max",
            "Max",
            "Fremd",
            "1975-06-01",
            "Am Rand 3",
            "04109",
            "Leipzig",
            "bpk2-test-max-fremd",
        ),
    )
}
WRONG_PERSON = "max"

#: fault switches: value → label (German message id)
FAULTS = {
    "keiner": N_("Kein Fehler: gültige Antwort"),
    "abbruch": N_("Abbruch durch die Person"),
    "stufe": N_("Falsches Vertrauensniveau (substanziell statt hoch)"),
    "person": N_("Falsche Person (Max Fremd, egal welche Person gewählt ist)"),
    "abgelaufen": N_("Abgelaufene Antwort"),
    "wiederholt": N_("Wiederholte Antwort (die letzte Antwort noch einmal)"),
    "unsigniert": N_("Antwort ohne Signatur"),
    "methode": N_("Andere Anmeldeart (ELSTER statt Online-Ausweis)"),
}

PERSON_MISSING = N_("Bitte wählen Sie eine Testperson aus.")
FAULT_MISSING = N_("Bitte wählen Sie aus, ob und welcher Fehler simuliert werden soll.")
NO_EARLIER = N_(
    "Es gibt noch keine frühere Antwort zum Wiederholen. Schicken Sie zuerst eine Antwort "
    "ohne Fehler."
)


def install(app: Quart) -> None:
    """Register the test IdP; refuses in production mode (SECURITY.md, negative test 12)."""
    settings = app.config["SETTINGS"]
    if settings.production:
        raise RuntimeError("the test identity provider never runs in production mode")
    app.extensions["testidp"] = TestIdP(settings.data_dir / "eid" / "test-idp")
    app.register_blueprint(blueprint)


class TestIdP:
    """Key, pysaml2 servers per origin, and the last response per SP (for "wiederholt")."""

    def __init__(self, key_dir: Path) -> None:
        self.key, self.cert = saml.ensure_keypair(key_dir, "idp", "jobcenter.digital Test-IdP")
        self.servers: dict[str, Server] = {}
        self.metadata: dict[str, str] = {}
        self.last_response: dict[str, str] = {}

    @staticmethod
    def entity_id(origin: str) -> str:
        return f"{origin}{saml.TEST_IDP_METADATA_PATH}"

    def config(self, origin: str, sp_metadata: str) -> IdPConfig:
        conf = {
            "entityid": self.entity_id(origin),
            "name": "jobcenter.digital Test-IdP (nie produktiv)",
            "key_file": str(self.key),
            "cert_file": str(self.cert),
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (f"{origin}/test-idp/sso", BINDING_HTTP_REDIRECT)
                        ]
                    },
                    "want_authn_requests_signed": True,
                    "sign_assertion": True,
                    "sign_response": False,
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    **saml.crypto_settings(),
                }
            },
            "metadata": {"inline": [sp_metadata]},
            **saml.crypto_settings(),
        }
        config = IdPConfig()
        config.load(conf)
        config.setattr("", "attribute_converters", saml.attribute_converters())
        return config

    async def server(self, origin: str) -> Server:
        if origin not in self.servers:
            sp_metadata = await saml.sp_metadata(origin)
            config = await asyncio.to_thread(self.config, origin, sp_metadata)
            self.servers[origin] = Server(config=config)
            self.metadata[origin] = str(
                await asyncio.to_thread(create_metadata_string, None, config=config, sign=True)
            )
        return self.servers[origin]

    def respond(
        self,
        server: Server,
        authn_request: Any,
        person: TestPerson,
        fault: str,
        *,
        audience: str | None = None,
    ) -> str:
        """The base64 SAMLResponse for ``authn_request`` (a verified pysaml2 AuthnRequest).

        ``audience`` (tests only) issues the assertion for another SP entity id.
        """
        args = server.response_args(authn_request, [BINDING_HTTP_POST])
        sp_entity = args["sp_entity_id"]
        if fault == "abbruch":
            response = server.create_error_response(
                args["in_response_to"],
                args["destination"],
                (samlp.STATUS_AUTHN_FAILED, "Die Person hat die Anmeldung abgebrochen."),
                sign=True,
            )
            return _b64(response)
        if fault == "wiederholt":
            return self.last_response[sp_entity]  # KeyError: nothing to repeat yet
        if fault == "person":
            person = PERSONS[WRONG_PERSON]
        identity = {
            "bpk2": [person.pseudonym],
            "trust_level": ["STORK-QAA-Level-3" if fault == "stufe" else "STORK-QAA-Level-4"],
            "login_method": ["ELSTER" if fault == "methode" else saml.METHOD_EID],
            "given_name": [person.given_name],
            "surname": [person.surname],
            "birth_date": [person.birth_date],
            "street": [person.street],
            "postcode": [person.postcode],
            "locality": [person.locality],
        }
        signed = fault != "unsigniert"
        response = server.create_authn_response(
            identity,
            in_response_to=args["in_response_to"],
            destination=args["destination"],
            sp_entity_id=audience or sp_entity,
            name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=person.pseudonym),
            authn={"class_ref": identity["trust_level"][0], "authn_instant": int(time.time())},
            sign_assertion=signed,
            sign_response=False,
            release_policy=_ExpiredPolicy() if fault == "abgelaufen" else _Policy(),
        )
        encoded = _b64(response)
        if audience is None:
            self.last_response[sp_entity] = encoded
        return encoded


def _b64(response: Any) -> str:
    return base64.b64encode(str(response).encode("utf-8")).decode("ascii")


class _Policy(Policy):
    """Release every attribute; assertions live 5 minutes."""

    def __init__(self) -> None:
        super().__init__({"default": {"lifetime": {"minutes": 5}}})


class _ExpiredPolicy(_Policy):
    """An assertion issued 20 minutes ago that lapsed 10 minutes ago ("abgelaufen")."""

    def conditions(self, sp_entity_id: str) -> Any:
        conditions = super().conditions(sp_entity_id)
        now = dt.datetime.now(dt.UTC)
        conditions.not_before = _stamp(now - dt.timedelta(minutes=20))
        conditions.not_on_or_after = _stamp(now - dt.timedelta(minutes=10))
        return conditions

    def not_on_or_after(self, sp_entity_id: str) -> str:
        return _stamp(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def state() -> TestIdP:
    """The running test IdP; refuses in production mode whatever called it."""
    if current_app.config["SETTINGS"].production:
        raise RuntimeError("the test identity provider never runs in production mode")
    idp = current_app.extensions.get("testidp")
    if idp is None:
        raise RuntimeError("the test identity provider is not installed")
    return idp


async def metadata(origin: str) -> str:
    """The IdP metadata (signed) for ``origin``: what the SP is configured with."""
    idp = state()
    await idp.server(origin)
    return idp.metadata[origin]


# -- pages ---------------------------------------------------------------------------------


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/metadata")
async def metadata_view() -> Response:
    xml = await metadata(saml.current_origin())
    return Response(xml, content_type="application/samlmetadata+xml; charset=utf-8")


REQUEST_FIELDS = ("SAMLRequest", "RelayState", "SigAlg", "Signature")


async def _verified_request(values: Any) -> tuple[Server, Any] | None:
    """The AuthnRequest from the query (or the hidden fields), its signature checked against
    the SP metadata; None when missing, unsigned or wrongly signed."""
    if not values.get("SAMLRequest") or len(values.get("SAMLRequest", "")) > 20_000:
        return None
    server = await state().server(saml.current_origin())

    def parse() -> Any:
        return server.parse_authn_request(
            values["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=values.get("RelayState"),
            sigalg=values.get("SigAlg"),
            signature=values.get("Signature"),
        )

    try:
        parsed = await asyncio.to_thread(parse)
    except Exception:  # pysaml2: IncorrectlySigned, parse errors …
        return None
    if parsed is None or parsed.message is None:
        return None
    return server, parsed.message


def _fields(person: str, fault: str, errors: dict[str, str]) -> dict[str, FieldView]:
    return {
        "person": FieldView(
            id="person",
            type="radios",
            label=gettext("Testperson"),
            hint=gettext("Erika Mustermann passt zum Demo-Konto von Erika Mustermann."),
            optional=False,
            error=errors.get("person"),
            raw=person,
            options=[
                OptionView(
                    value=p.key,
                    label=f"{p.label}, {p.birth_date}",
                    hint=None,
                    checked=p.key == person,
                    id=f"f-person-{i}",
                )
                for i, p in enumerate(PERSONS.values())
            ],
        ),
        "fehler": FieldView(
            id="fehler",
            type="radios",
            label=gettext("Fehler simulieren"),
            hint=None,
            optional=False,
            error=errors.get("fehler"),
            raw=fault,
            options=[
                OptionView(
                    value=value,
                    label=gettext(label),
                    hint=None,
                    checked=value == fault,
                    id=f"f-fehler-{i}",
                )
                for i, (value, label) in enumerate(FAULTS.items())
            ],
        ),
    }


async def _choice_page(
    values: dict[str, str], person: str, fault: str, errors: dict[str, str], status: int = 200
) -> Response:
    fields = _fields(person, fault, errors)
    return _no_store(
        await render(
            SHELL,
            "partials/testidp/sso.html",
            status=status,
            page_title=gettext("Test-Anmeldung mit dem Online-Ausweis"),
            fields=fields,
            saml_fields={k: values[k] for k in REQUEST_FIELDS if values.get(k)},
            errors=error_list(list(fields.values()), []),
        )
    )


async def _bad_request() -> Response:
    return _no_store(
        await render(
            SHELL,
            "partials/testidp/fehler.html",
            status=400,
            page_title=gettext("Die Anfrage an den Test-Identitätsanbieter ist ungültig"),
        )
    )


@blueprint.get("/sso")
async def sso() -> Response:
    """SSO endpoint (HTTP-Redirect): check the signed request, then let the tester choose."""
    values = {k: request.args.get(k, "") for k in REQUEST_FIELDS}
    if await _verified_request(values) is None:
        return await _bad_request()
    return await _choice_page(values, "erika", "keiner", {})


@blueprint.post("/antwort")
async def answer() -> Response:
    """Build the response and hand it to the browser for the HTTP-POST binding."""
    form = await request.form
    values = {k: form.get(k, "") for k in REQUEST_FIELDS}
    verified = await _verified_request(values)
    if verified is None:
        return await _bad_request()
    server, authn_request = verified
    person, fault = form.get("person", ""), form.get("fehler", "")
    errors = {}
    if person not in PERSONS:
        errors["person"] = gettext(PERSON_MISSING)
    if fault not in FAULTS:
        errors["fehler"] = gettext(FAULT_MISSING)
    if not errors:
        try:
            saml_response = await asyncio.to_thread(
                state().respond, server, authn_request, PERSONS[person], fault
            )
        except KeyError:
            errors["fehler"] = gettext(NO_EARLIER)
    if errors:
        return await _choice_page(values, person, fault, errors, status=422)
    destination = server.response_args(authn_request, [BINDING_HTTP_POST])["destination"]
    return _no_store(
        await render(
            POST_PAGE,
            "partials/testidp/post.html",
            page_title=gettext("Weiter zum Dienst"),
            action=destination,
            saml_response=saml_response,
            relay_state=values.get("RelayState", ""),
        )
    )
