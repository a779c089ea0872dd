"""Online-Widerspruch without JavaScript: the journey, the identity step, the attacks.

SECURITY.md negative tests 1 (no fresh eID hoch proof for this declaration), 2 (the eID
of another person), 4 (declaration or attachment changed after the passkey challenge)
and 10 (another person's draft or receipt) for the objection path.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import date, timedelta
from typing import Any

import pytest
from babel.dates import format_date
from quart import Quart
from sqlalchemy import func, insert, select
from webauthn.helpers import base64url_to_bytes

from app.db import customers as customer_repo
from app.db import drafts as draft_repo
from app.db import submissions as submission_repo
from app.db import utcnow
from app.db.tables import documents, drafts, eid_proofs, saml_requests, submissions
from app.flows.definitions import frist
from app.identity import passkeys as pk
from app.widerspruch import REVIEWED
from tests.conftest import (
    Browser,
    assert_rejected,
    date_parts,
    error_summary,
    radio_values,
    tiny_pdf,
    typed,
)
from tests.eid_helpers import idp_answer
from tests.identity_helpers import ERIKA, make_account, sign_in
from tests.test_documents_pdf import _extract_text
from tests.webauthn_authenticator import ORIGIN, RP_ID, SoftAuthenticator

RP = pk.RelyingParty(id=RP_ID, name="Jobcenter digital", origin=ORIGIN)

KUNDENNUMMER = "022D267673"


def format_day(value: date | str) -> str:
    """A date as the German pages show it (12. März 2026)."""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return format_date(day, "long", locale="de_DE")


def _iso(days_ago: int) -> str:
    return (frist.today() - timedelta(days=days_ago)).isoformat()


async def _customer(
    app: Quart, kundennummer: str = KUNDENNUMMER, land: str = "NW", person: dict | None = None
) -> dict[str, str]:
    """A customer of Jobcenter Köln with three decisions: recent, late, without notice."""
    db = app.config["DB"]
    await customer_repo.put(
        db,
        customer_repo.Customer(
            kundennummer=kundennummer,
            bg_nummer="12345BG0012345",
            office="Jobcenter Köln",
            land=land,
            person=person or ERIKA,
            household=[],
            demo=False,
        ),
    )
    ids = {}
    for key, title, art, posted, ok in (
        ("neu", "Bewilligungsbescheid Bürgergeld", "buergergeld", 3, True),
        ("alt", "Aufhebungs- und Erstattungsbescheid", "erstattung", 400, True),
        ("ohne", "Bescheid über Bildung und Teilhabe", "but", 100, False),
    ):
        ids[key] = await customer_repo.add_decision(
            db,
            kundennummer=kundennummer,
            title=title,
            leistungsart=art,
            decided_on=_iso(posted + 1),
            posted_on=_iso(posted),
            reference=f"12345BG0012345-{key}",
            appeal_notice_ok=ok,
        )
    return ids


async def objector(
    app: Quart,
    visitor: Browser,
    *,
    email: str = "erika@example.org",
    kundennummer: str = KUNDENNUMMER,
    level: str = "pin_brief",
) -> tuple[Any, dict[str, str]]:
    """A logged-in account at level pin_brief whose customer has decisions."""
    decisions = await _customer(app, kundennummer)
    account = await make_account(
        app, email, level=level, kundennummer=kundennummer, profile=dict(ERIKA)
    )
    await sign_in(visitor, account)
    return account, decisions


async def start(b: Browser) -> str:
    await b.get("/widerspruch")
    assert "Jetzt starten" in b.text()
    await b.submit("/widerspruch/start")
    assert b.path.endswith("/angaben/person/person"), b.path
    return b.path.split("/")[2]


async def fill_to_review(
    b: Browser, decision_id: str, *, upload: bytes | None = None, reasons: str = "Zu wenig."
) -> str:
    """Steps 1 and 2 with valid answers; returns the draft id (the browser is on the review)."""
    draft_id = await start(b)
    await b.submit(data={**ERIKA})
    await b.submit(data={"bescheid": decision_id})
    await b.submit(data={"begruendung": reasons})
    files = {"anlage_1": (upload, "nachweis.pdf")} if upload else None
    await b.submit(data={}, files=files) if files else await b.submit(data={"anlage_2-later": "ja"})
    assert b.path.endswith("/_pruefen"), b.path
    return draft_id


async def confirm_review(b: Browser, draft_id: str) -> None:
    await b.submit(f"/widerspruch/{draft_id}/_pruefen", data={"declaration": "ja"})
    assert b.path == f"/widerspruch/{draft_id}/identitaet", b.path


async def count_submissions(app: Quart) -> int:
    async with app.config["DB"].connect() as conn:
        return (await conn.execute(select(func.count()).select_from(submissions))).scalar_one()


# -- access ---------------------------------------------------------------------------------


async def test_the_objection_needs_a_linked_customer_number(app: Quart, visitor: Browser) -> None:
    response = await visitor.client.get("/widerspruch")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/anmelden?weiter=/widerspruch")

    account = await make_account(app, "basis@example.org")
    await sign_in(visitor, account)
    response = await visitor.client.get("/widerspruch")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/konto/stufe?stufe=pin_brief")
    await visitor.get("/barrierefreiheit/feedback")
    response = await visitor.client.post("/widerspruch/start", form={"csrf_token": visitor.token()})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/konto/stufe?stufe=pin_brief")
    async with app.config["DB"].connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(drafts))).scalar_one() == 0


# -- steps 1 to 3 ---------------------------------------------------------------------------


async def test_steps_one_to_three_with_errors_prefill_and_the_whole_declaration(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    _account, decisions = await objector(app, b)
    draft_id = await start(b)

    # 1a: name and address come from the account (WCAG 3.3.7), the address can be changed
    assert b.title.startswith("Ihre Angaben")
    assert typed(b.html, "vorname") == "Erika"
    assert typed(b.html, "strasse") == "Heidestraße 17"
    assert 'autocomplete="postal-code"' in b.html
    await b.submit(
        data={**ERIKA, "nachname": " ", "plz": "5114", "strasse": "Neue Straße 3"}, expect=422
    )
    assert_rejected(
        b,
        {"nachname": "Bitte füllen Sie dieses Feld aus.", "plz": "5 Ziffern"},
        kept={"plz": "5114", "strasse": "Neue Straße 3", "vorname": "Erika"},
    )
    await b.submit(data={**ERIKA, "strasse": "Neue Straße 3"})

    # 1b: the customer's decisions to choose from, newest first, and "another one"
    assert b.path.endswith("/angaben/bescheid/bescheid")
    assert "Schritt 1 von 4" in b.text()  # still step 1: personal data has several pages
    assert radio_values(b.html, "bescheid") == [
        decisions["neu"],
        decisions["ohne"],
        decisions["alt"],
        "anderer",
    ]
    assert "Bewilligungsbescheid Bürgergeld vom " + format_day(_iso(4)) in b.text()
    assert "Bürgergeld oder Grundsicherung" in b.text()
    await b.submit(data={}, expect=422)
    assert_rejected(b, {"bescheid": "Bitte wählen Sie eine Antwort aus."})
    await b.submit(data={"bescheid": "someone-elses-decision"}, expect=422)
    await b.submit(data={"bescheid": decisions["neu"]})

    # 1c: reasons are optional, the deadline is shown
    assert b.path.endswith("/angaben/gruende/gruende")
    expected = frist.deadline(date.fromisoformat(_iso(3)), "NW")
    assert (
        f"Der Bescheid gilt als bekannt gegeben am {format_day(expected.received_on)}. "
        f"Sie können bis zum {format_day(expected.deadline)} Widerspruch einlegen."
    ) in b.text()
    too_long = "x" * 10001
    await b.submit(data={"begruendung": too_long, "folgt": "ja"}, expect=422)
    assert_rejected(b, {"begruendung": "höchstens 10000 Zeichen"}, kept={"folgt": "ja"})
    assert typed(b.html, "begruendung") == too_long
    await b.submit(data={"begruendung": "Das Einkommen ist falsch berechnet.", "folgt": "ja"})

    # 2: documents, optional
    assert b.path.endswith("/dokumente/anlagen")
    await b.submit(
        data={"anlage_2-later": "ja"}, files={"anlage_1": (tiny_pdf("Lohnabrechnung"), "lohn.pdf")}
    )

    # 3: the review shows the whole declaration as it will be sent (§ 36a Abs. 2b SGB I)
    assert b.path == f"/widerspruch/{draft_id}/_pruefen"
    page = b.text()
    assert (
        "Hiermit lege ich Widerspruch gegen den Bescheid vom " + format_day(_iso(4)) + " ein."
    ) in page
    assert "Das Einkommen ist falsch berechnet." in page
    assert "Ich reiche die Begründung später nach" in page
    assert "lohn.pdf" in page and "Reiche ich später nach" in page
    assert "Neue Straße 3" in page and KUNDENNUMMER in page and "Jobcenter Köln" in page
    assert f"Sie können bis zum {format_day(expected.deadline)} Widerspruch einlegen." in page
    assert "Identität bestätigen" in page  # the step still to come, in the progress
    assert "Schritt 3 von 4" in page  # the four steps of the objection, not its pages
    assert "Weiter zur Bestätigung der Identität" in page
    await b.submit(data={}, expect=422)
    assert b.title.startswith("Fehler:")
    assert 'id="declaration-error"' in b.html

    # 4: confirming the review sends nothing yet: the identity step comes first
    await confirm_review(b, draft_id)
    assert b.title == "Identität bestätigen – jobcenter.digital" or b.title.startswith(
        "Identität bestätigen"
    )
    assert "Mit Online-Ausweis bestätigen" in b.text()
    assert "Schritt 4 von 4" in b.text()
    assert f'action="/widerspruch/{draft_id}/identitaet/eid"' in b.html
    assert "Widerspruch jetzt absenden" not in b.text()  # not before the eID proof
    assert b.response is not None and b.response.headers["Cache-Control"] == "no-store"
    assert await count_submissions(app) == 0


async def test_a_decision_entered_by_hand_gives_an_estimated_deadline(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    await objector(app, b)
    await start(b)
    await b.submit(data={**ERIKA})
    await b.submit(data={"bescheid": "anderer"})
    assert b.path.endswith("/angaben/bescheid/anderer")
    future = frist.today() + timedelta(days=10)
    await b.submit(
        data={**date_parts("datum", future.day, future.month, future.year), "aktenzeichen": "A1"},
        expect=422,
    )
    assert_rejected(
        b,
        {
            "datum": "Das Datum darf nicht in der Zukunft liegen.",
            "leistungsart": "Bitte wählen Sie eine Antwort aus.",
        },
        kept={"aktenzeichen": "A1", "datum-day": str(future.day)},
    )
    decided = frist.today() - timedelta(days=5)
    await b.submit(
        data={
            **date_parts("datum", decided.day, decided.month, decided.year),
            "leistungsart": "sanktion",
            "aktenzeichen": "A1",
        }
    )
    estimate = frist.deadline(decided, "NW", estimated=True)
    assert "Das ist eine Schätzung." in b.text()
    assert f"bis zum {format_day(estimate.deadline)} Widerspruch" in b.text()
    await b.submit(data={})
    await b.submit(data={})
    assert "Hiermit lege ich Widerspruch gegen den Bescheid vom " + format_day(decided) in b.text()
    assert "Sanktion oder Leistungsminderung" in b.text()


async def test_a_late_objection_is_accepted_with_the_review_request_explained(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    _account, decisions = await objector(app, b)
    await fill_to_review(b, decisions["alt"])
    assert "Die Frist ist abgelaufen. Sie können trotzdem Widerspruch einlegen." in b.text()
    assert "Antrag auf Überprüfung (§ 44 SGB X)" in b.text()


async def test_a_missing_notice_of_appeal_rights_gives_a_year(app: Quart, visitor: Browser) -> None:
    b = visitor
    _account, decisions = await objector(app, b)
    await fill_to_review(b, decisions["ohne"])
    expected = frist.deadline(date.fromisoformat(_iso(100)), "NW", appeal_notice_ok=False)
    assert "ein Jahr Zeit statt einem Monat" in b.text()
    assert f"bis zum {format_day(expected.deadline)} Widerspruch" in b.text()
    assert "Die Frist ist abgelaufen" not in b.text()


async def test_the_identity_step_only_after_the_review_of_this_version(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    _account, decisions = await objector(app, b)
    draft_id = await start(b)
    response = await b.client.get(f"/widerspruch/{draft_id}/identitaet")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/widerspruch/{draft_id}/angaben/person/person"

    await b.get(f"/widerspruch/{draft_id}/angaben/person/person")
    await b.submit(data={**ERIKA})
    await b.submit(data={"bescheid": decisions["neu"]})
    await b.submit(data={"begruendung": "Zu wenig."})
    await b.submit(data={})
    response = await b.client.get(f"/widerspruch/{draft_id}/identitaet")
    assert response.headers["Location"] == f"/widerspruch/{draft_id}/_pruefen"

    await confirm_review(b, draft_id)
    # a change after the review: the whole declaration has to be reviewed again
    await b.get(f"/widerspruch/{draft_id}/angaben/gruende/gruende?pruefen=1")
    await b.submit(data={"begruendung": "Ganz anders."})
    assert b.path.endswith("/_pruefen")
    response = await b.client.get(f"/widerspruch/{draft_id}/identitaet")
    assert response.headers["Location"] == f"/widerspruch/{draft_id}/_pruefen"
    response = await b.client.post(
        f"/widerspruch/{draft_id}/identitaet/senden", form={"csrf_token": b.token()}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/widerspruch/{draft_id}/_pruefen"
    assert await count_submissions(app) == 0


async def test_another_persons_draft_is_not_found(app: Quart, visitor: Browser) -> None:
    _account, decisions = await objector(app, visitor)
    draft_id = await fill_to_review(visitor, decisions["neu"])
    await confirm_review(visitor, draft_id)

    intruder = Browser(app)
    await _customer(app, "034D998877", "BE")
    other = await make_account(
        app, "leon@example.org", level="pin_brief", kundennummer="034D998877"
    )
    await sign_in(intruder, other)
    await intruder.get("/widerspruch")
    token = intruder.token()
    for path in ("identitaet", "_pruefen", "angaben/person/person"):
        response = await intruder.client.get(f"/widerspruch/{draft_id}/{path}")
        assert response.status_code == 404, path
    for path in ("identitaet/eid", "identitaet/senden", "identitaet/passkey-optionen"):
        response = await intruder.client.post(
            f"/widerspruch/{draft_id}/{path}", form={"csrf_token": token}
        )
        assert response.status_code == 404, path
    assert await count_submissions(app) == 0


# -- the canonical declaration --------------------------------------------------------------


async def test_the_declaration_covers_answers_attachments_and_draft(
    app: Quart, visitor: Browser
) -> None:
    from app.flows.definitions.widerspruch import FLOW
    from app.widerspruch import declaration_document

    _account, decisions = await objector(app, visitor)
    draft_id = await fill_to_review(visitor, decisions["neu"], upload=tiny_pdf("Kontoauszug"))
    db = app.config["DB"]
    async with db.connect() as conn:
        owner = (
            await conn.execute(select(drafts.c.owner_key).where(drafts.c.id == draft_id))
        ).scalar_one()
    draft = await draft_repo.get(db, draft_id, owner)
    assert draft is not None
    upload = draft.answers["dokumente"]["anlage_1"]
    hashes = {upload["document_id"]: upload["sha256"]}
    first = declaration_document(FLOW, draft, hashes)
    assert first == declaration_document(FLOW, draft, dict(hashes))
    body = json.loads(first)
    assert body["draft_id"] == draft_id
    assert body["attachments"] == [
        {
            "field": "dokumente.anlage_1",
            "document_id": upload["document_id"],
            "name": upload["name"],
            "sha256": upload["sha256"],
        }
    ]
    assert body["bescheid"]["id"] == decisions["neu"]
    assert body["erklaerung"].startswith("Hiermit lege ich Widerspruch gegen den Bescheid vom ")
    # another file content, another reason, another draft: another declaration
    assert declaration_document(FLOW, draft, {upload["document_id"]: "0" * 64}) != first
    draft.answers["angaben"]["gruende"]["begruendung"] = "Anders."
    assert declaration_document(FLOW, draft, hashes) != first
    draft.answers["angaben"]["gruende"]["begruendung"] = "Zu wenig."
    draft.id = "another-draft"
    assert declaration_document(FLOW, draft, hashes) != first
    assert re.fullmatch(r"[0-9a-f]{64}", hashlib.sha256(first).hexdigest())
    assert await submission_repo.by_draft(db, draft_id) is None


# -- the identity step: eID over real SAML (test IdP), passkey (software authenticator) -----


async def eid_at_test_idp(
    app: Quart, b: Browser, draft_id: str, *, person: str = "erika", fault: str = "keiner"
) -> int:
    """Part A: press the button, answer at the test IdP, post to the ACS, come back.

    Returns the status of the last page (200: back on the identity page).
    """
    await b.get(f"/widerspruch/{draft_id}/identitaet")
    response = await b.submit(f"/widerspruch/{draft_id}/identitaet/eid", {}, follow=False)
    location = response.headers["Location"]
    assert "/test-idp/sso?SAMLRequest=" in location, location
    answer = await idp_answer(b, location, person, fault)
    acs = await b.client.post(  # from the IdP's page: cross-site, so without our cookie
        "/eid/saml/acs",
        form=answer.form(),
        headers={"Origin": "https://idp.example", "Sec-Fetch-Site": "cross-site"},
    )
    if acs.status_code != 303:
        return acs.status_code
    target = acs.headers["Location"]
    assert target.startswith("/eid/fertig/"), target
    finished = await b.client.get(target)
    if finished.status_code != 303:
        return finished.status_code
    assert finished.headers["Location"] == f"/widerspruch/{draft_id}/identitaet"
    await b.get(finished.headers["Location"])
    return b.status


async def at_identity_step(
    app: Quart, b: Browser, *, upload: bytes | None = None, **kwargs: Any
) -> tuple[Any, dict[str, str], str]:
    account, decisions = await objector(app, b, **kwargs)
    draft_id = await fill_to_review(b, decisions["neu"], upload=upload)
    await confirm_review(b, draft_id)
    return account, decisions, draft_id


async def send(b: Browser, draft_id: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
    await b.get(f"/widerspruch/{draft_id}/identitaet")
    return await b.submit(f"/widerspruch/{draft_id}/identitaet/senden", data or {}, **kw)


async def only_submission(app: Quart) -> submission_repo.Submission:
    async with app.config["DB"].connect() as conn:
        rows = (await conn.execute(select(submissions.c.id, submissions.c.owner_key))).all()
    assert len(rows) == 1
    found = await submission_repo.get(app.config["DB"], rows[0].id, rows[0].owner_key)
    assert found is not None
    return found


async def stored_proof(app: Quart) -> Any:
    async with app.config["DB"].connect() as conn:
        rows = (
            await conn.execute(select(eid_proofs).where(eid_proofs.c.confirmed_at.is_not(None)))
        ).all()
    assert len(rows) == 1, rows
    return rows[0]


async def document_hash(app: Quart, document_id: str) -> str:
    async with app.config["DB"].connect() as conn:
        return (
            await conn.execute(select(documents.c.sha256).where(documents.c.id == document_id))
        ).scalar_one()


async def recompute(app: Quart, draft_id: str) -> str:
    """The declaration's SHA-256 from the stored draft and the documents table, by hand."""
    from app.flows.definitions.widerspruch import FLOW
    from app.widerspruch import declaration_document

    async with app.config["DB"].connect() as conn:
        owner = (
            await conn.execute(select(drafts.c.owner_key).where(drafts.c.id == draft_id))
        ).scalar_one()
        hashes = dict((await conn.execute(select(documents.c.id, documents.c.sha256))).all())
    draft = await draft_repo.get(app.config["DB"], draft_id, owner)
    assert draft is not None
    return hashlib.sha256(declaration_document(FLOW, draft, hashes)).hexdigest()


async def test_complete_journey_with_the_online_id(app: Quart, visitor: Browser) -> None:
    b = visitor
    _account, decisions, draft_id = await at_identity_step(app, b, upload=tiny_pdf("Kontoauszug"))
    assert await eid_at_test_idp(app, b, draft_id) == 200
    page = b.text()
    assert "Erledigt: Sie haben Ihre Identität mit dem Online-Ausweis bestätigt." in page
    assert "Vertrauensniveau: hoch" in page and "Verfahren: Online-Ausweisfunktion" in page
    assert "Mit Passkey" not in page  # this account has none

    recomputed = await recompute(app, draft_id)
    assert recomputed == _reviewed(b)["digest"]
    await send(b, draft_id)
    assert b.path.startswith("/widerspruch/eingang/"), b.path
    submission = await only_submission(app)
    assert re.fullmatch(r"WS-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", submission.reference)
    page = b.text()
    assert submission.reference in page
    assert "mit der Online-Ausweisfunktion, Vertrauensniveau hoch" in page
    assert "Kein Passkey benutzt." in page

    # item 9: the declaration as bound, its hash, the SAML assertion, the times
    proofs = submission.proofs
    assert proofs is not None
    assert (
        hashlib.sha256(proofs["declaration"].encode()).hexdigest() == proofs["declaration_sha256"]
    )
    assert proofs["declaration_sha256"] in page
    declaration = json.loads(proofs["declaration"])
    assert declaration["draft_id"] == draft_id
    assert declaration["bescheid"]["id"] == decisions["neu"]
    assert declaration["answers"] == submission.document["answers"]
    [attachment] = declaration["attachments"]
    assert attachment["sha256"] == await document_hash(app, attachment["document_id"])
    assert proofs["erklaerung"] == declaration["erklaerung"]
    eid = await stored_proof(app)
    assert proofs["eid"] == {
        "assertion_id": eid.assertion_id,
        "issuer": eid.issuer,
        "level": "eid_hoch",
        "method": "eID",
        "at": proofs["eid"]["at"],
    }
    assert eid.binding == proofs["declaration_sha256"]
    assert proofs["passkey"] is None
    assert proofs["confirmed_at"] >= proofs["eid"]["at"]

    # the hash recomputed from the stored draft just before sending
    assert proofs["declaration_sha256"] == recomputed
    draft = await draft_repo.get(app.config["DB"], draft_id, submission.owner_key)
    assert draft is not None and draft.status == "submitted"

    # the tagged PDF receipt, and no second submission from a second click
    pdf_url = b.links("Eingangsbestätigung als PDF herunterladen")[0]
    response = await b.client.get(pdf_url)
    assert response.status_code == 200
    pdf_text = _extract_text(await response.get_data())
    for shown in (
        submission.reference,
        proofs["erklaerung"],
        "So haben Sie Ihren Widerspruch bestätigt",
        proofs["eid"]["assertion_id"],
        proofs["declaration_sha256"],
        "Kein Passkey benutzt.",
    ):
        assert shown in pdf_text, shown
    again = await b.client.post(
        f"/widerspruch/{draft_id}/identitaet/senden", form={"csrf_token": b.token()}
    )
    assert again.status_code == 303
    assert again.headers["Location"] == f"/widerspruch/eingang/{submission.id}"
    assert await count_submissions(app) == 1


async def refused(app: Quart, b: Browser, draft_id: str, message: str, status: int = 403) -> None:
    await send(b, draft_id, expect=status)
    assert b.title.startswith("Fehler:"), b.title
    assert any(message in line for line in error_summary(b.html)), error_summary(b.html)
    assert await count_submissions(app) == 0


async def test_negative_1_no_online_id_proof_no_objection(app: Quart, visitor: Browser) -> None:
    b = visitor
    account, _decisions, draft_id = await at_identity_step(app, b)
    # pin_brief only
    await refused(app, b, draft_id, "Bitte bestätigen Sie zuerst Ihre Identität")
    # a session raised to eid_hoch for something else is no proof for this declaration
    await sign_in(b, account, level="eid_hoch", **{REVIEWED: _reviewed(b)})
    await refused(app, b, draft_id, "Bitte bestätigen Sie zuerst Ihre Identität")


def _reviewed(b: Browser) -> dict[str, str]:
    digest = re.search(r'<p class="hash">([0-9a-f]{64})</p>', b.html)
    assert digest, "no declaration hash on the identity page"
    return {"draft": b.path.split("/")[2], "digest": digest.group(1)}


async def test_negative_1_wrong_level_or_method_at_the_identity_provider(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    _account, _decisions, draft_id = await at_identity_step(app, b)
    assert await eid_at_test_idp(app, b, draft_id, fault="stufe") == 403
    assert await eid_at_test_idp(app, b, draft_id, fault="methode") == 403
    await refused(app, b, draft_id, "Bitte bestätigen Sie zuerst Ihre Identität")


async def _bound_proof(app: Quart, account: Any, digest: str, **values: Any) -> None:
    """A confirmed eID proof row bound to ``digest`` (as if the IdP had been less strict)."""
    now = utcnow()
    async with app.config["DB"].begin() as conn:
        request_id = "_" + secrets.token_hex(20)
        await conn.execute(
            insert(saml_requests).values(
                id=request_id,
                account_id=account.id,
                session_hash=None,
                purpose="widerspruch",
                level="eid_hoch",
                binding=digest,
                return_to="/konto",
                created_at=now,
                expires_at=now + timedelta(minutes=10),
                used_at=now,
            )
        )
        await conn.execute(
            insert(eid_proofs).values(
                assertion_id="_" + secrets.token_hex(20),
                request_id=request_id,
                account_id=account.id,
                issuer="http://localhost/test-idp/metadata",
                level=values.get("level", "eid_hoch"),
                method=values.get("method", "eID"),
                pseudonym_hash="x" * 64,
                binding=digest,
                attributes={},
                created_at=now,
                confirmed_at=now,
            )
        )


async def test_negative_1_a_proof_below_hoch_or_by_another_method_does_not_count(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    account, _decisions, draft_id = await at_identity_step(app, b)
    digest = _reviewed(b)["digest"]
    await _bound_proof(app, account, digest, level="eid_substanziell")
    await refused(app, b, draft_id, "nur mit dem Niveau „substanziell“")
    await _bound_proof(app, account, digest, method="ELSTER")
    await refused(app, b, draft_id, "nicht mit der Online-Ausweisfunktion")


async def test_negative_1_a_proof_for_an_older_version_does_not_count(
    app: Quart, visitor: Browser
) -> None:
    b = visitor
    _account, _decisions, draft_id = await at_identity_step(app, b)
    assert await eid_at_test_idp(app, b, draft_id) == 200
    before = _reviewed(b)["digest"]

    # back to step 1: another reason; review again; the old proof is void
    await b.get(f"/widerspruch/{draft_id}/angaben/gruende/gruende?pruefen=1")
    await b.submit(data={"begruendung": "Die Miete ist falsch berechnet."})
    await confirm_review(b, draft_id)
    assert _reviewed(b)["digest"] != before
    assert "nachdem Sie Ihre Identität bestätigt hatten" in b.text()
    assert "Erledigt" not in b.text()
    await refused(app, b, draft_id, "Bitte bestätigen Sie zuerst Ihre Identität")

    # a new proof for the new version: accepted
    assert await eid_at_test_idp(app, b, draft_id) == 200
    await send(b, draft_id)
    submission = await only_submission(app)
    assert submission.proofs is not None
    assert submission.proofs["declaration_sha256"] == _sha(submission.proofs["declaration"])
    assert "Die Miete ist falsch berechnet." in submission.proofs["declaration"]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_negative_2_the_online_id_of_another_person(app: Quart, visitor: Browser) -> None:
    b = visitor
    _account, _decisions, draft_id = await at_identity_step(app, b)
    assert await eid_at_test_idp(app, b, draft_id, fault="person") == 403
    await b.get(f"/widerspruch/{draft_id}/identitaet")
    assert "Erledigt" not in b.text()
    await refused(app, b, draft_id, "Bitte bestätigen Sie zuerst Ihre Identität")
    # Leon's account cannot use Erika's … and Erika's eID does not help Leon either
    intruder = Browser(app)
    await _customer(app, "034D998877", "BE")
    leon = await make_account(
        app,
        "leon@example.org",
        level="pin_brief",
        kundennummer="034D998877",
        profile={"vorname": "Leon", "nachname": "Beispiel", "geburtsdatum": "1990-01-31"},
    )
    await sign_in(intruder, leon)
    leon_draft = await fill_to_review(intruder, await _first_decision(app, "034D998877"))
    await confirm_review(intruder, leon_draft)
    assert await eid_at_test_idp(app, intruder, leon_draft, person="erika") == 403
    await refused(app, intruder, leon_draft, "Bitte bestätigen Sie zuerst Ihre Identität")


async def _first_decision(app: Quart, kundennummer: str) -> str:
    return (await customer_repo.decisions_for(app.config["DB"], kundennummer))[0].id


# -- the passkey on top --------------------------------------------------------------------


async def with_passkey(app: Quart, account: Any) -> SoftAuthenticator:
    device = SoftAuthenticator()
    db = app.config["DB"]
    challenge_id, opts = await pk.registration_options(db, account, RP, "s")
    await pk.register(db, account.id, challenge_id, "s", device.register(opts), RP, "Handy")
    return device


async def passkey_options(b: Browser, draft_id: str, expect: int = 200) -> str:
    """What passkey.js does first: POST to the options URL with the CSRF header."""
    await b.get(f"/widerspruch/{draft_id}/identitaet")
    response = await b.client.post(
        f"/widerspruch/{draft_id}/identitaet/passkey-optionen",
        headers={"X-CSRF-Token": b.token()},
    )
    assert response.status_code == expect
    assert response.headers["Cache-Control"] == "no-store"
    return (await response.get_data()).decode()


async def test_complete_journey_with_online_id_and_passkey(app: Quart, visitor: Browser) -> None:
    b = visitor
    account, _decisions = await objector(app, b)
    device = await with_passkey(app, account)
    draft_id = await fill_to_review(b, (await _first_decision(app, KUNDENNUMMER)))
    await confirm_review(b, draft_id)
    assert "Mit Passkey bestätigen" in b.text()
    assert 'data-passkey="confirm"' not in b.html  # only after the eID proof
    assert await eid_at_test_idp(app, b, draft_id) == 200
    assert 'data-passkey="confirm"' in b.html
    assert f'data-options-url="/widerspruch/{draft_id}/identitaet/passkey-optionen"' in b.html
    assert "Widerspruch jetzt absenden" not in b.text()

    # without the passkey's answer nothing is sent
    await refused(app, b, draft_id, "Bitte bestätigen Sie den Widerspruch mit Ihrem Passkey.", 422)

    options = await passkey_options(b, draft_id)
    challenge = base64url_to_bytes(json.loads(options)["challenge"])
    digest = _reviewed(b)["digest"]
    assert challenge[:32].hex() == digest and len(challenge) == 48
    await send(b, draft_id, {"credential": device.sign_in(options)})
    assert b.path.startswith("/widerspruch/eingang/")
    assert "Mit Ihrem Passkey bestätigt am" in b.text()

    proofs = (await only_submission(app)).proofs
    assert proofs is not None and proofs["declaration_sha256"] == digest
    passkey = proofs["passkey"]
    assert passkey["credential_id"] == device.id
    assert passkey["sign_count"] == 1
    client_data = json.loads(base64url_to_bytes(passkey["client_data"]))
    assert base64url_to_bytes(client_data["challenge"])[:32].hex() == digest
    assert passkey["signature"] and passkey["authenticator_data"] and passkey["at"]
    assert proofs["eid"]["level"] == "eid_hoch"


@pytest.mark.parametrize("change", ["begruendung", "anlage_hinzu", "anlage_weg"])
async def test_negative_4_changed_after_the_passkey_challenge(
    app: Quart, visitor: Browser, change: str
) -> None:
    b = visitor
    account, _decisions = await objector(app, b)
    device = await with_passkey(app, account)
    draft_id = await fill_to_review(
        b, await _first_decision(app, KUNDENNUMMER), upload=tiny_pdf("Erster Nachweis")
    )
    await confirm_review(b, draft_id)
    assert await eid_at_test_idp(app, b, draft_id) == 200
    signed_for_old = device.sign_in(await passkey_options(b, draft_id))
    before = _reviewed(b)["digest"]

    if change == "begruendung":
        await b.get(f"/widerspruch/{draft_id}/angaben/gruende/gruende?pruefen=1")
        await b.submit(data={"begruendung": "Geändert nach der Passkey-Anfrage."})
    elif change == "anlage_hinzu":
        await b.get(f"/widerspruch/{draft_id}/dokumente/anlagen?pruefen=1")
        await b.submit(
            data={"anlage_1-keep": "ja"}, files={"anlage_2": (tiny_pdf("Zweiter"), "zwei.pdf")}
        )
    else:
        await b.get(f"/widerspruch/{draft_id}/dokumente/anlagen?pruefen=1")
        await b.submit(data={})  # the upload's "keep" box unticked: removed
    await confirm_review(b, draft_id)
    assert _reviewed(b)["digest"] != before
    # even with a new eID proof for the new version, the old signature does not count
    assert await eid_at_test_idp(app, b, draft_id) == 200
    await send(b, draft_id, {"credential": signed_for_old}, expect=422)
    assert b.title.startswith("Fehler:")
    assert '<a href="#passkey"' in b.html  # the passkey was refused, the eID proof is fine
    assert "Erledigt: Sie haben Ihre Identität mit dem Online-Ausweis bestätigt." in b.text()
    assert await count_submissions(app) == 0

    # a fresh confirmation of the version shown: accepted
    await send(b, draft_id, {"credential": device.sign_in(await passkey_options(b, draft_id))})
    proofs = (await only_submission(app)).proofs
    assert proofs is not None and proofs["declaration_sha256"] != before


# -- receipts of others ----------------------------------------------------------------------


async def test_another_persons_receipt_is_not_found(app: Quart, visitor: Browser) -> None:
    _account, _decisions, draft_id = await at_identity_step(app, visitor)
    assert await eid_at_test_idp(app, visitor, draft_id) == 200
    await send(visitor, draft_id)
    receipt = visitor.path
    intruder = Browser(app)
    other = await make_account(app, "leon@example.org", level="pin_brief")
    await sign_in(intruder, other)
    for url in (receipt, receipt + "/quittung.pdf"):
        assert (await intruder.client.get(url)).status_code == 404
    assert (await visitor.client.get(receipt + "/quittung.pdf")).status_code == 200
