"""eID over SAML with real messages from the local test IdP (SECURITY.md: negative tests 2, 3,
11; docs/identity.md). Every refusal: a clear page, nothing stored, the level unchanged, an
audit entry."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from datetime import timedelta

import pytest
from quart import Quart, g
from sqlalchemy import insert, update

from app.db import accounts as account_repo
from app.db import utcnow
from app.db.tables import eid_proofs, saml_requests
from app.identity import saml, testidp
from app.web.sessions import Session
from tests.conftest import main, title
from tests.eid_helpers import (
    ACS,
    audit_actions,
    erika,
    form_inputs,
    full_journey,
    idp_answer,
    path_of,
    post_to_acs,
    press_eid_button,
    proofs,
    query,
    requests,
    session_cookie,
    session_data,
)
from tests.identity_helpers import LEON, make_account, sign_in

ERIKA_HASH = hashlib.sha256(b"bpk2-test-erika-mustermann").hexdigest()
ERIKA_PROFILE = {"vorname": "Erika", "nachname": "Mustermann", "geburtsdatum": "1964-08-12"}


async def assert_unchanged(app, account) -> None:
    """Nothing stored, nothing changed: no proof, the request still pending, level as before."""
    assert await proofs(app) == []
    assert all(r.used_at is None for r in await requests(app))
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]
    fresh = await account_repo.get(app.config["DB"], account.id)
    assert fresh.eid_pseudonym is None


async def rejected(app, account, answer, reason: str, status: int) -> str:
    """POST the answer to the ACS; it must be refused for ``reason``; returns the page text."""
    _, _, body = await post_to_acs(app, answer, expect=status)
    assert f'data-eid-reason="{reason}"' in body
    assert title(body).startswith("Der Nachweis mit dem Online-Ausweis wurde nicht angenommen")
    entries = await audit_actions(app, "eid_rejected")
    assert [e.details["reason"] for e in entries][-1] == reason
    await assert_unchanged(app, account)
    return main(body)


# -- metadata and the request ----------------------------------------------------------------


async def test_metadata_names_our_entity_acs_and_signing_key(visitor):
    response = await visitor.client.get("/eid/saml/metadata")
    assert response.status_code == 200
    assert response.content_type.startswith("application/samlmetadata+xml")
    xml = await response.get_data(as_text=True)
    assert 'entityID="http://localhost/eid/saml/metadata"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert re.search(
        r'AssertionConsumerService [^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"'
        r'[^>]*Location="http://localhost/eid/saml/acs"|Location="http://localhost/eid/saml/acs"'
        r'[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"',
        xml,
    )
    assert 'use="signing"' in xml and "X509Certificate" in xml
    assert "SignatureValue" in xml  # the metadata itself is signed


async def test_sp_key_is_made_once_and_kept(app, visitor, tmp_path):
    await visitor.client.get("/eid/saml/metadata")
    key = tmp_path / "eid" / "sp-key.pem"
    assert key.exists() and (tmp_path / "eid" / "sp-cert.pem").exists()
    assert key.stat().st_mode & 0o077 == 0  # readable by the owner only
    before = key.read_bytes()
    saml.ensure_keypair(tmp_path / "eid", "sp", "again")
    assert key.read_bytes() == before


async def test_eid_button_sends_a_signed_request_and_remembers_it(app, visitor):
    account = await erika(app, visitor)
    location = await press_eid_button(visitor, "eid_hoch", "/konto/bescheide")
    args = query(location)
    assert args["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert args["Signature"]
    request_xml = zlib.decompress(base64.b64decode(args["SAMLRequest"]), -15).decode()
    assert "STORK-QAA-Level-4" in request_xml and 'ForceAuthn="true"' in request_xml
    assert "http://localhost/eid/saml/acs" in request_xml
    [row] = await requests(app)
    assert f'ID="{row.id}"' in request_xml and args["RelayState"].startswith(row.id)
    assert row.account_id == account.id and row.purpose == "level" and row.level == "eid_hoch"
    assert row.return_to == "/konto/bescheide" and row.used_at is None
    assert row.session_hash and row.session_hash != hashlib.sha256(b"").hexdigest()
    lifetime = row.expires_at - row.created_at
    assert timedelta(minutes=9) < lifetime <= timedelta(minutes=10)


async def test_eid_start_needs_login_and_the_csrf_token(app, visitor):
    await visitor.get("/")
    response = await visitor.client.post(
        "/eid/start",
        data="stufe=eid_hoch&weiter=/konto",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 403  # no token
    account = await erika(app, visitor)
    await visitor.get("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    await visitor.submit("/eid/start", {"stufe": "basis", "weiter": "/konto"}, expect=400)
    response = await visitor.submit(
        "/eid/start", {"stufe": "eid_hoch", "weiter": "https://evil.example/"}, follow=False
    )
    [row] = await requests(app)
    assert row.return_to == "/konto"  # only local paths
    assert row.account_id == account.id
    assert response.headers["Cache-Control"] == "no-store"


# -- success ----------------------------------------------------------------------------------


async def test_eid_hoch_raises_the_level_rotates_the_session_and_links_the_person(app, visitor):
    account = await erika(app, visitor)
    before = session_cookie(visitor)
    target = await full_journey(app, visitor, weiter="/konto/bescheide")
    response = await visitor.client.get(target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/konto/bescheide"
    after = session_cookie(visitor)
    assert after and after != before  # new session id after the level change
    assert [s["level"] for s in await session_data(app, account.id)] == ["eid_hoch"]
    [proof] = await proofs(app)
    assert proof.account_id == account.id and proof.level == "eid_hoch"
    assert proof.method == "eID" and proof.issuer == "http://localhost/test-idp/metadata"
    assert proof.pseudonym_hash == ERIKA_HASH and proof.confirmed_at is not None
    assert proof.attributes["surname"] == "Mustermann"
    assert proof.attributes["birth_date"] == "1964-08-12"
    assert "bpk2-test-erika-mustermann" not in str(proof.attributes)  # pseudonym only hashed
    fresh = await account_repo.get(app.config["DB"], account.id)
    assert fresh.eid_pseudonym == ERIKA_HASH
    [level] = await audit_actions(app, "level")
    assert level.details["before"] == "pin_brief" and level.details["after"] == "eid_hoch"
    assert level.details["assertion_id"] == proof.assertion_id
    # the level is there: /konto/stufe sends straight on
    response = await visitor.client.get("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    assert response.status_code == 303 and response.headers["Location"] == "/konto"
    # a second visit of the same step does nothing more
    again = await visitor.client.get(target)
    assert again.status_code == 303 and again.headers["Location"] == "/konto/bescheide"
    assert len(await audit_actions(app, "level")) == 1
    assert session_cookie(visitor) == after


async def test_substanziell_asked_and_given_is_enough(app, visitor):
    account = await erika(app, visitor)
    target = await full_journey(app, visitor, stufe="eid_substanziell", fault="stufe")
    await visitor.get(target, expect=303)
    assert [s["level"] for s in await session_data(app, account.id)] == ["eid_substanziell"]


async def test_linked_pseudonym_is_enough_without_profile(app, visitor):
    account = await make_account(app, level="pin_brief")  # no names in the profile
    await account_repo.set_fields(app.config["DB"], account.id, eid_pseudonym=ERIKA_HASH)
    await sign_in(visitor, account)
    target = await full_journey(app, visitor)
    await visitor.get(target, expect=303)
    assert [s["level"] for s in await session_data(app, account.id)] == ["eid_hoch"]


async def test_english_visitor_reads_the_refusal_in_english(app, visitor):
    account = await erika(app, visitor)
    await visitor.get("/konto?lang=en", expect=None)
    location = await press_eid_button(visitor)
    answer = await idp_answer(visitor, location, fault="methode")
    assert answer.relay_state.endswith("~en")
    _, _, body = await post_to_acs(app, answer, expect=403)  # no cookie: the RelayState says en
    assert '<html lang="en">' in body
    assert "ELSTER" in main(body)
    await assert_unchanged(app, account)


async def test_refusal_page_can_switch_language_without_reposting(app, visitor):
    """The language switch of the refusal page leads to a GET page, not back to the ACS."""
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="stufe")
    _, _, body = await post_to_acs(app, answer, expect=403)
    switch = re.search(r'<a href="([^"]+)" lang="de-x-ls"', body).group(1).replace("&amp;", "&")
    assert switch.startswith("/eid/abgelehnt?grund=level&weiter=")
    await visitor.get(switch, expect=403)
    assert '<html lang="de-x-ls">' in visitor.html
    assert 'data-eid-reason="level"' in visitor.html
    [retry] = visitor.links("Noch einmal versuchen")
    assert retry == "/konto/stufe?stufe=eid_hoch&weiter=%2Fkonto"
    assert len(await audit_actions(app, "eid_rejected")) == 1  # showing it again is no event
    await visitor.get("/eid/abgelehnt?grund=quatsch&weiter=https://evil.example/", expect=400)
    assert visitor.links("Noch einmal versuchen") == ["/konto"]
    await assert_unchanged(app, account)


# -- negative test 3: the SAML response itself ---------------------------------------------


async def test_unsigned_assertion_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="unsigniert")
    assert "SignatureValue" not in answer.xml
    text = await rejected(app, account, answer, "signature", 403)
    assert "nicht gültig unterschrieben" in text


async def test_changed_assertion_fails_its_signature(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    assert "Mustermann" in answer.xml
    forged = answer.xml.replace(">Mustermann<", ">Musterfrau<")
    assert forged != answer.xml
    data = {"SAMLResponse": base64.b64encode(forged.encode()).decode(), "RelayState": ""}
    await rejected(app, account, data, "signature", 403)


async def test_assertion_signed_with_another_key_is_refused(app, visitor, tmp_path):
    """Same issuer name, a key the IdP metadata does not have (a forger's own key)."""
    account = await erika(app, visitor)
    location = await press_eid_button(visitor)
    args = query(location)
    async with app.app_context():
        forger = testidp.TestIdP(tmp_path / "forger")
        server = await forger.server("http://localhost")
        parsed = server.parse_authn_request(
            args["SAMLRequest"],
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            relay_state=args["RelayState"],
            sigalg=args["SigAlg"],
            signature=args["Signature"],
        )
        forged = forger.respond(server, parsed.message, testidp.PERSONS["erika"], "keiner")
    await rejected(app, account, {"SAMLResponse": forged}, "signature", 403)


async def test_expired_assertion_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="abgelaufen")
    text = await rejected(app, account, answer, "expired", 400)
    assert "noch einmal" in text


async def test_expired_request_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    async with app.config["DB"].begin() as conn:
        await conn.execute(update(saml_requests).values(expires_at=utcnow() - timedelta(seconds=1)))
    await rejected(app, account, answer, "expired", 400)


async def test_assertion_for_another_service_is_refused(app, visitor):
    account = await erika(app, visitor)
    location = await press_eid_button(visitor)
    await visitor.get(path_of(location))  # the IdP checks the request first
    args = query(location)
    async with app.app_context():
        idp = app.extensions["testidp"]
        server = await idp.server("http://localhost")
        parsed = server.parse_authn_request(
            args["SAMLRequest"],
            "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            relay_state=args["RelayState"],
            sigalg=args["SigAlg"],
            signature=args["Signature"],
        )
        other = idp.respond(
            server,
            parsed.message,
            testidp.PERSONS["erika"],
            "keiner",
            audience="https://anderer-dienst.example/saml/metadata",
        )
    assert "anderer-dienst.example" in base64.b64decode(other).decode()
    text = await rejected(app, account, {"SAMLResponse": other}, "audience", 403)
    assert "anderen Dienst" in text


async def test_the_same_response_twice_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    await post_to_acs(app, answer)
    [first] = await proofs(app)
    _, _, body = await post_to_acs(app, answer, expect=400)
    assert 'data-eid-reason="replay"' in body
    assert await proofs(app) == [first]
    assert [e.details["reason"] for e in await audit_actions(app, "eid_rejected")] == ["replay"]
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]


async def test_replayed_switch_of_the_idp_is_refused(app, visitor):
    account = await erika(app, visitor)
    target = await full_journey(app, visitor)
    await visitor.get(target, expect=303)
    later = type(visitor)(app)  # the next day, another browser, level pin_brief again
    await sign_in(later, account)
    location = await press_eid_button(later, "eid_hoch", "/konto")
    replay = await idp_answer(later, location, fault="wiederholt")
    _, _, body = await post_to_acs(app, replay, expect=400)
    assert 'data-eid-reason="replay"' in body
    assert len(await proofs(app)) == 1
    pending = [r for r in await requests(app) if r.used_at is None]
    assert len(pending) == 1  # the new request is still open: nothing changed
    assert len(await audit_actions(app, "level")) == 1
    levels = sorted(s["level"] for s in await session_data(app, account.id))
    assert levels == ["eid_hoch", "pin_brief"]


async def test_an_assertion_id_counts_once_even_for_a_pending_request(app, visitor):
    """Defence in depth: the primary key of eid_proofs refuses a known assertion id."""
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    assertion_id = re.search(r'<ns1:Assertion [^>]*ID="([^"]+)"', answer.xml).group(1)
    now = utcnow()
    async with app.config["DB"].begin() as conn:
        await conn.execute(
            insert(saml_requests).values(
                id="_old",
                account_id=account.id,
                session_hash=None,
                purpose="level",
                level="eid_hoch",
                binding=None,
                return_to="/konto",
                created_at=now,
                expires_at=now,
                used_at=now,
            )
        )
        await conn.execute(
            insert(eid_proofs).values(
                assertion_id=assertion_id,
                request_id="_old",
                account_id=account.id,
                issuer="x",
                level="eid_hoch",
                method="eID",
                pseudonym_hash="x",
                binding=None,
                attributes={},
                created_at=now,
            )
        )
    _, _, body = await post_to_acs(app, answer, expect=400)
    assert 'data-eid-reason="replay"' in body
    assert len(await proofs(app)) == 1
    pending = [r for r in await requests(app) if r.id != "_old"]
    assert pending[0].used_at is None  # rolled back with the refused proof


async def test_response_to_a_request_we_never_sent_is_refused(app, visitor):
    """InResponseTo names no pending request of ours (signed by us, never stored)."""
    account = await erika(app, visitor)
    await visitor.get("/konto/stufe?stufe=eid_hoch&weiter=/konto")
    async with app.test_request_context("/eid/start", method="POST"):
        sp = await saml.setup("http://localhost")
        location = saml._authn_request_url(sp, "_never-stored", "eid_hoch", "_never-stored~de")
    answer = await idp_answer(visitor, location)
    assert 'InResponseTo="_never-stored"' in answer.xml
    text = await rejected(app, account, answer, "unknown_request", 400)
    assert "keine offene Anfrage" in text


async def test_garbage_and_missing_responses_are_refused(app, visitor):
    account = await erika(app, visitor)
    for data in ({}, {"SAMLResponse": "not base64 !"}, {"SAMLResponse": "PHg+PC94Pg=="}):
        _, _, body = await post_to_acs(app, data, expect=400)
        assert "data-eid-reason=" in body
    await assert_unchanged(app, account)


async def test_finish_in_another_session_is_refused(app, visitor):
    """The response arrives, but /eid/fertig is opened by another session of the account
    (or anyone else): the proof stays unused, nobody's level rises."""
    account = await erika(app, visitor)
    target = await full_journey(app, visitor)
    thief = type(visitor)(app)
    await sign_in(thief, account)  # same account, another browser session
    await thief.get(target, expect=403)
    assert 'data-eid-reason="session"' in thief.html
    stranger = type(visitor)(app)
    await sign_in(stranger, await make_account(app, "leon@example.org", profile=dict(LEON)))
    await stranger.get(target, expect=403)
    anonymous = type(visitor)(app)
    await anonymous.get(target, expect=403)
    assert all(s["level"] != "eid_hoch" for s in await session_data(app, account.id))
    [proof] = await proofs(app)
    assert proof.confirmed_at is None
    # the browser that started it still can
    await visitor.get(target, expect=303)
    assert "eid_hoch" in [s["level"] for s in await session_data(app, account.id)]


async def test_unknown_finish_id_is_not_found(app, visitor):
    await erika(app, visitor)
    await visitor.get("/eid/fertig/_nichts", expect=404)


# -- cancel, wrong level, other method ---------------------------------------------------------


async def test_cancel_shows_a_polite_page_with_a_way_back(app, visitor):
    account = await erika(app, visitor)
    location = await press_eid_button(visitor, "eid_hoch", "/konto/bescheide")
    answer = await idp_answer(visitor, location, fault="abbruch")
    _, target, _ = await post_to_acs(app, answer)
    assert target.startswith("/eid/abgebrochen?")
    await visitor.get(target)
    assert visitor.title.startswith("Sie haben die Anmeldung mit dem Online-Ausweis abgebrochen")
    [retry] = visitor.links("Noch einmal versuchen")
    assert retry == "/konto/stufe?stufe=eid_hoch&weiter=%2Fkonto%2Fbescheide"
    await visitor.get(retry)
    assert form_inputs(visitor.html, "/eid/start")["weiter"] == "/konto/bescheide"
    await assert_unchanged(app, account)


async def test_substanziell_when_hoch_was_asked_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="stufe")
    assert "STORK-QAA-Level-3" in answer.xml
    text = await rejected(app, account, answer, "level", 403)
    assert "Online-Ausweisfunktion" in text and "ELSTER" in text


async def test_other_login_method_is_refused(app, visitor):
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor), fault="methode")
    assert ">ELSTER<" in answer.xml and "STORK-QAA-Level-4" in answer.xml
    text = await rejected(app, account, answer, "method", 403)
    assert "nicht mit der Online-Ausweisfunktion" in text


# -- negative test 2: another person than the account holder --------------------------------


async def test_another_persons_id_card_is_refused(app, visitor):
    account = await erika(app, visitor)
    target = await full_journey(app, visitor, fault="person")  # Max Fremd
    await visitor.get(target, expect=403)
    assert 'data-eid-reason="person"' in visitor.html
    assert "nicht der Person, der dieses Konto gehört" in visitor.text()
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]
    fresh = await account_repo.get(app.config["DB"], account.id)
    assert fresh.eid_pseudonym is None
    [proof] = await proofs(app)
    assert proof.confirmed_at is None
    assert await saml.proof_for(app.config["DB"], account.id, "") is None
    [entry] = await audit_actions(app, "eid_rejected")
    assert entry.details["reason"] == "person" and entry.actor == account.id


async def test_id_card_other_than_the_linked_one_is_refused(app, visitor):
    account = await make_account(app, level="pin_brief")  # no profile: only the link counts
    await account_repo.set_fields(app.config["DB"], account.id, eid_pseudonym=ERIKA_HASH)
    await sign_in(visitor, account)
    target = await full_journey(app, visitor, person="leon")
    await visitor.get(target, expect=403)
    assert 'data-eid-reason="person"' in visitor.html
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]


async def test_pseudonym_of_another_account_is_refused(app, visitor):
    await make_account(app, "erika.echt@example.org", profile=dict(ERIKA_PROFILE))
    other = await account_repo.by_email(app.config["DB"], "erika.echt@example.org")
    await account_repo.set_fields(app.config["DB"], other.id, eid_pseudonym=ERIKA_HASH)
    account = await erika(app, visitor)  # same names, but Erika's card is linked elsewhere
    target = await full_journey(app, visitor)
    await visitor.get(target, expect=403)
    assert 'data-eid-reason="person"' in visitor.html
    fresh = await account_repo.get(app.config["DB"], account.id)
    assert fresh.eid_pseudonym is None
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]


@pytest.mark.parametrize(
    ("profile", "person", "same"),
    [
        (ERIKA_PROFILE, {"given_name": "Erika", "surname": "Mustermann"}, False),
        (
            ERIKA_PROFILE,
            {"given_name": "Erika Anna", "surname": "MUSTERMANN", "birth_date": "19640812"},
            True,
        ),
        (
            ERIKA_PROFILE,
            {"given_name": "Erika", "surname": "Mustermann", "birth_date": "1964-08-13"},
            False,
        ),
        (
            ERIKA_PROFILE,
            {"given_name": "Erik", "surname": "Mustermann", "birth_date": "1964-08-12"},
            False,
        ),
        ({"vorname": "Erika"}, {"given_name": "Max"}, True),  # nothing to compare: link
    ],
)
def test_person_check_compares_names_and_birth_date(profile, person, same):
    assert saml.same_person(profile, person) is same


# -- the Widerspruch's way: begin(...) with a binding, proof_for(...) -----------------------


async def test_widerspruch_proof_is_bound_and_found_by_binding(app, visitor):
    account = await erika(app, visitor)
    await visitor.get("/konto/stufe?stufe=eid_hoch&weiter=/konto")  # a page: the session
    token = session_cookie(visitor)
    binding = hashlib.sha256(b"declaration").hexdigest()
    [stored] = await session_data(app, account.id)
    async with app.test_request_context("/widerspruch/abc/identitaet", method="POST"):
        g.session = Session(token, stored, utcnow())
        g.lang = "de"
        response = await saml.begin(
            "widerspruch", "eid_hoch", "/widerspruch/abc/identitaet", binding=binding
        )
    location = response.headers["Location"]
    answer = await idp_answer(visitor, location)
    _, target, _ = await post_to_acs(app, answer)
    await visitor.get(target, expect=303)
    assert visitor.response.headers["Location"] == "/widerspruch/abc/identitaet"
    db = app.config["DB"]
    proof = await saml.proof_for(db, account.id, binding)
    assert proof is not None
    assert proof.level == "eid_hoch" and proof.method == "eID" and proof.binding == binding
    assert proof.issuer == "http://localhost/test-idp/metadata"
    assert proof.created_at <= proof.confirmed_at <= utcnow()
    assert await saml.proof_for(db, account.id, "0" * 64) is None
    assert await saml.proof_for(db, "someone-else", binding) is None
    # the Widerspruch checks the proof by binding: the session keeps its level
    assert [s["level"] for s in await session_data(app, account.id)] == ["pin_brief"]
    assert len(await audit_actions(app, "eid_proof")) == 1


# -- /konto/stufe ----------------------------------------------------------------------------


async def test_level_page_needs_login(app, visitor):
    response = await visitor.client.get("/konto/stufe?stufe=pin_brief&weiter=/konto/bescheide")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden?weiter=")


@pytest.mark.parametrize("lang", ["de", "ls", "en"])
async def test_level_page_offers_pin_letter_and_eid(app, visitor, lang):
    account = await make_account(app, profile=dict(ERIKA_PROFILE))  # basis
    await sign_in(visitor, account)
    await visitor.get(f"/konto/stufe?stufe=pin_brief&weiter=/konto/bescheide&lang={lang}")
    assert visitor.response.headers["Cache-Control"] == "no-store"
    html = visitor.html
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    assert len(re.findall(r"<h1\b", body)) == 1 and 'id="step-title"' in body
    assert "style=" not in body and "<script" not in body
    assert 'href="/konto/pin?weiter=%2Fkonto%2Fbescheide"' in body
    fields = form_inputs(html, "/eid/start")
    assert fields == {
        "csrf_token": visitor.token(),
        "stufe": "eid_substanziell",
        "weiter": "/konto/bescheide",
    }
    assert re.search(r'<form [^>]*action="/eid/start"[^>]*data-hx-boost="false"', body)


async def test_level_page_for_eid_hoch_offers_only_the_eid(app, visitor):
    await erika(app, visitor)
    await visitor.get("/konto/stufe?stufe=eid_hoch&weiter=/widerspruch")
    assert "/konto/pin" not in visitor.html
    assert form_inputs(visitor.html, "/eid/start")["stufe"] == "eid_hoch"
    await visitor.get("/konto/stufe?stufe=gold&weiter=/", expect=400)
    response = await visitor.client.get("/konto/stufe?stufe=pin_brief&weiter=/konto")
    assert response.status_code == 303  # already there


async def test_acs_is_reachable_cross_site_without_token(app, visitor):
    """The IdP's page posts cross-site: the CSRF check must not stand in the way (the
    signature and InResponseTo protect it), while /eid/start keeps it."""
    account = await erika(app, visitor)
    answer = await idp_answer(visitor, await press_eid_button(visitor))
    assert answer.action == ACS
    status, target, _ = await post_to_acs(app, answer)
    assert status == 303 and target.startswith("/eid/fertig/")
    assert account.id


async def test_purge_drops_only_unanswered_expired_requests(app: Quart) -> None:
    db = app.config["DB"]
    past = utcnow() - timedelta(hours=1)
    common = {"purpose": "level", "level": "eid_hoch", "return_to": "/konto"}
    async with db.begin() as conn:
        for request_id, used in (("unanswered", None), ("answered", past)):
            await conn.execute(
                insert(saml_requests).values(
                    id=request_id,
                    created_at=past,
                    expires_at=past,
                    used_at=used,
                    **common,
                )
            )
    assert await saml.purge(db) == 1
    assert [r.id for r in await requests(app)] == ["answered"]
