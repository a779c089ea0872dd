"""The local SAML test identity provider: a real IdP for development and CI that never runs in
production (SECURITY.md, negative test 12), and an accessible page of our app."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from quart import Quart

from app import create_app
from app.identity import saml, testidp
from app.settings import Settings
from tests.conftest import assert_rejected, main
from tests.eid_helpers import (
    ACS,
    erika,
    form_inputs,
    idp_answer,
    path_of,
    press_eid_button,
    query,
)

REAL_IDP = """<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    entityID="https://id.bund.de/idp">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true"
      protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="https://id.bund.de/idp/profile/SAML2/Redirect/SSO"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
"""


# -- negative test 12: never in production ---------------------------------------------------


def test_production_without_idp_metadata_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="test identity provider"):
        create_app(Settings(data_dir=tmp_path, env="production"))


def test_install_refuses_in_production(tmp_path: Path) -> None:
    app = Quart(__name__)
    app.config["SETTINGS"] = Settings(data_dir=tmp_path, env="production")
    with pytest.raises(RuntimeError, match="never runs in production"):
        testidp.install(app)
    assert "testidp" not in app.blueprints and "testidp" not in app.extensions


async def test_production_refuses_the_test_idp_as_configured_idp(app, visitor, tmp_path):
    """Someone saves the test IdP's metadata and configures it in production: refused, at
    start and again where the SP is set up."""
    response = await visitor.client.get("/test-idp/metadata")
    metadata = tmp_path / "idp.xml"
    metadata.write_bytes(await response.get_data())
    assert saml.idp_entity_ids(metadata.read_bytes()) == ["http://localhost/test-idp/metadata"]
    production = Settings(
        data_dir=tmp_path / "prod", env="production", eid_idp_metadata=str(metadata)
    )
    with pytest.raises(saml.EidConfigError, match="refuses the test identity provider"):
        saml.check_settings(production)
    with pytest.raises(saml.EidConfigError):
        create_app(production)


async def test_production_with_a_real_idp_has_no_test_idp(tmp_path: Path) -> None:
    metadata = tmp_path / "bundid.xml"
    metadata.write_text(REAL_IDP, encoding="utf-8")
    app = create_app(
        Settings(data_dir=tmp_path / "d", env="production", eid_idp_metadata=str(metadata))
    )
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/test-idp/metadata")).status_code == 404
        assert (await client.get("/test-idp/sso")).status_code == 404
        sp = await client.get("/eid/saml/metadata")
        assert sp.status_code == 200
        async with app.test_request_context("/eid/start", method="POST"):
            setup = await saml.setup()
            assert setup.idp_entity_id == "https://id.bund.de/idp"
            with pytest.raises(RuntimeError, match="never runs in production"):
                testidp.state()


async def test_sp_refuses_a_test_idp_entity_id_in_production(tmp_path: Path) -> None:
    """The SP side checks again when it builds its configuration (not only at start)."""
    metadata = tmp_path / "bundid.xml"
    metadata.write_text(REAL_IDP, encoding="utf-8")
    app = create_app(
        Settings(data_dir=tmp_path / "d", env="production", eid_idp_metadata=str(metadata))
    )
    metadata.write_text(
        REAL_IDP.replace("https://id.bund.de/idp", "https://jcd.example/test-idp/metadata"),
        encoding="utf-8",
    )
    async with app.test_app(), app.test_request_context("/eid/start", method="POST"):
        with pytest.raises(saml.EidConfigError, match="refuses the test identity provider"):
            await saml.setup()


# -- the IdP's own protocol side ---------------------------------------------------------------


async def test_idp_metadata_wants_signed_requests(visitor):
    response = await visitor.client.get("/test-idp/metadata")
    assert response.status_code == 200
    assert response.content_type.startswith("application/samlmetadata+xml")
    xml = await response.get_data(as_text=True)
    assert 'entityID="http://localhost/test-idp/metadata"' in xml
    assert 'WantAuthnRequestsSigned="true"' in xml
    assert 'Location="http://localhost/test-idp/sso"' in xml
    assert "HTTP-Redirect" in xml and 'use="signing"' in xml


async def test_sso_refuses_missing_unsigned_and_changed_requests(app, visitor):
    await erika(app, visitor)
    location = await press_eid_button(visitor)
    args = query(location)
    await visitor.get("/test-idp/sso", expect=400)
    assert visitor.title.startswith("Die Anfrage an den Test-Identitätsanbieter ist ungültig")
    unsigned = {k: v for k, v in args.items() if k not in ("Signature", "SigAlg")}
    await visitor.get("/test-idp/sso?" + _qs(unsigned), expect=400)
    changed = {**args, "RelayState": "anders"}  # the signature covers the RelayState
    await visitor.get("/test-idp/sso?" + _qs(changed), expect=400)
    await visitor.get(path_of(location), expect=200)


def _qs(args: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(args)


async def test_answer_rechecks_the_request_signature(app, visitor):
    """The hidden fields go through the browser: /antwort checks them again."""
    await erika(app, visitor)
    location = await press_eid_button(visitor)
    await visitor.get(path_of(location))
    fields = form_inputs(visitor.html, "/test-idp/antwort")
    fields["RelayState"] = "anders"
    await visitor.submit(
        "/test-idp/antwort", {**fields, "person": "erika", "fehler": "keiner"}, expect=400
    )


# -- the page: accessible, no-JS, and the auto-submit only where it belongs ---------------


@pytest.mark.parametrize("lang", ["de", "ls", "en"])
async def test_choice_page_is_a_proper_page_of_ours(app, visitor, lang):
    await erika(app, visitor)
    location = await press_eid_button(visitor)
    await visitor.get(path_of(location) + f"&lang={lang}")
    assert visitor.response.headers["Cache-Control"] == "no-store"
    html = visitor.html
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert len(re.findall(r"<h1\b", body)) == 1 and 'id="step-title"' in body
    assert "style=" not in body and "<script" not in body and "hx-on" not in body
    assert "saml-post" not in html  # the auto-submit script is not on this page
    for name in ("person", "fehler"):
        for radio_id in re.findall(rf'id="([^"]+)" name="{name}"', body):
            assert f'<label class="choice__label" for="{radio_id}">' in body
    assert re.search(r'<form [^>]*action="/test-idp/antwort"[^>]*data-hx-boost="false"', body)
    assert len(re.findall(r'name="fehler" value="', body)) == len(testidp.FAULTS) == 8
    assert len(re.findall(r'name="person" value="', body)) == 3


async def test_choice_without_selection_is_rejected_keeping_the_choice(app, visitor):
    await erika(app, visitor)
    location = await press_eid_button(visitor)
    await visitor.get(path_of(location))
    fields = form_inputs(visitor.html, "/test-idp/antwort")
    await visitor.submit("/test-idp/antwort", {**fields, "person": "leon"}, expect=422)
    assert_rejected(
        visitor,
        {"fehler": "Bitte wählen Sie aus, ob und welcher Fehler"},
        kept={"person": "leon"},
    )
    assert form_inputs(visitor.html, "/test-idp/antwort")["SAMLRequest"] == fields["SAMLRequest"]


async def test_nothing_to_repeat_yet(app, visitor):
    await erika(app, visitor)
    location = await press_eid_button(visitor)
    await visitor.get(path_of(location))
    fields = form_inputs(visitor.html, "/test-idp/antwort")
    await visitor.submit(
        "/test-idp/antwort", {**fields, "person": "erika", "fehler": "wiederholt"}, expect=422
    )
    assert_rejected(visitor, {"fehler": "noch keine frühere Antwort"})


async def test_post_page_sends_the_signed_response_with_and_without_javascript(app, visitor):
    await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    html = visitor.html
    assert visitor.response.headers["Cache-Control"] == "no-store"
    form = re.search(rf'<form [^>]*action="{re.escape(ACS)}"[^>]*>', html).group(0)
    assert 'method="post"' in form and 'data-hx-boost="false"' in form
    assert "data-saml-post" in form
    assert re.search(r'<button type="submit" class="button button--primary">Weiter</button>', html)
    script = re.search(
        r'<script defer src="(/static/js/saml-post\.[0-9a-f]+\.js)" '
        r'integrity="(sha384-[^"]+)"></script>',
        html,
    )
    assert script, "the auto-submit script (with SRI) is missing"
    assert html.index(script.group(0)) < html.index("</head>")
    js = await visitor.client.get(script.group(1))
    assert js.status_code == 200 and b"form.submit()" in await js.get_data()
    body = main(html)
    assert "Weiter zum Dienst" in body
    xml = answer.xml
    assert f'Destination="{ACS}"' in xml
    assert re.search(r"<ns\d:Assertion [^>]*>.*<ns\d:Signature", xml, re.S)
    assert "rsa-sha256" in xml
    for oid in (
        saml.OID_PSEUDONYM,
        saml.OID_TRUST_LEVEL,
        saml.OID_LOGIN_METHOD,
        saml.OID_GIVEN_NAME,
        saml.OID_SURNAME,
        saml.OID_BIRTH_DATE,
        saml.OID_STREET,
        saml.OID_POSTCODE,
        saml.OID_LOCALITY,
    ):
        assert re.search(
            rf'Name="{re.escape(oid)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"'
            rf'|NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri"[^>]*Name="{re.escape(oid)}"',
            xml,
        ), oid
    assert ">bpk2-test-erika-mustermann<" in xml and ">STORK-QAA-Level-4<" in xml


@pytest.mark.parametrize(
    ("fault", "shows", "lacks"),
    [
        ("keiner", [">Erika<", ">eID<", ">STORK-QAA-Level-4<", "SignatureValue"], []),
        ("person", [">Max<", ">Fremd<", ">bpk2-test-max-fremd<"], [">Erika<"]),
        ("stufe", [">STORK-QAA-Level-3<"], [">STORK-QAA-Level-4<"]),
        ("methode", [">ELSTER<"], [">eID<"]),
        ("unsigniert", [">Erika<"], ["SignatureValue"]),
        ("abbruch", ["status:AuthnFailed"], ["Assertion"]),
    ],
)
async def test_fault_switches_do_what_they_say(app, visitor, fault, shows, lacks):
    await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault=fault)
    for text in shows:
        assert text in answer.xml, text
    for text in lacks:
        assert text not in answer.xml, text


async def test_expired_switch_lies_in_the_past(app, visitor):
    from datetime import UTC, datetime

    await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="abgelaufen")
    stamps = re.findall(r'NotOnOrAfter="([^"]+)"', answer.xml)
    assert stamps
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(stamp < now for stamp in stamps)


async def test_replay_switch_repeats_the_previous_response_exactly(app, visitor):
    await erika(app, visitor)
    first = await idp_answer(visitor, await press_eid_button(visitor))
    second = await idp_answer(visitor, await press_eid_button(visitor), fault="wiederholt")
    assert second.saml_response == first.saml_response
    ids = re.findall(
        r'<ns\d:Assertion [^>]*ID="([^"]+)"', base64.b64decode(second.saml_response).decode()
    )
    assert ids and ids[0] in first.xml
