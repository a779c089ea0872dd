"""Area: Online-Widerspruch (objection), with the identity step the law asks for.

The flow (app/flows/definitions/widerspruch.py) runs on the shared e-service blueprint.
Confirming the review does not submit: it remembers which version of the declaration
the user reviewed and sends them to "Identität bestätigen". There an eID proof at level
hoch must be bound to exactly that version (§ 36a Abs. 2a SGB I: the written form is
replaced only by the online ID function); a passkey, when the account has one, signs the
same version on top. Only then is the immutable submission made, with both proofs.

The version is the SHA-256 of the canonical declaration (answers, every attachment's
SHA-256 from the documents table, the draft id), always recomputed from the stored draft.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_date
from quart import Response, abort, current_app, g, request
from sqlalchemy import select

from app.db import audit, utcnow
from app.db import drafts as draft_repo
from app.db import submissions as submission_repo
from app.db.submissions import canonical_json
from app.db.tables import documents, eid_proofs, saml_requests
from app.flows import engine
from app.flows.definitions.widerspruch import FLOW, chosen_decision, konto
from app.flows.model import Flow
from app.i18n import N_
from app.identity import passkeys, saml
from app.web.language import gettext
from app.web.render import render, see_other

from .eservice import blueprint_for, finalise, views

#: session key: the declaration version the user reviewed and confirmed, per draft
REVIEWED = "widerspruch_geprueft"
EID_LEVEL = "eid_hoch"

EID_MISSING = N_(
    "Bitte bestätigen Sie zuerst Ihre Identität mit dem Online-Ausweis. Ohne diese "
    "Bestätigung können wir den Widerspruch nicht annehmen."
)
EID_TOO_LOW = N_(
    "Ihre Identität wurde nur mit dem Niveau „substanziell“ bestätigt. Für einen Widerspruch "
    "ist das Niveau „hoch“ nötig: Bitte nutzen Sie die Online-Ausweisfunktion Ihres "
    "Ausweises."
)
EID_WRONG_METHOD = N_(
    "Sie haben sich nicht mit der Online-Ausweisfunktion angemeldet. Für einen Widerspruch "
    "ist der Online-Ausweis nötig, ein Benutzername mit Passwort reicht nicht."
)
CHANGED = N_(
    "Sie haben Ihren Widerspruch geändert, nachdem Sie Ihre Identität bestätigt hatten. "
    "Bitte bestätigen Sie Ihre Identität noch einmal."
)
PASSKEY_MISSING = N_("Bitte bestätigen Sie den Widerspruch mit Ihrem Passkey.")


def _db() -> Any:
    return current_app.config["DB"]


def _base() -> str:
    return f"/{FLOW.slug}"


def identity_url(draft_id: str) -> str:
    return f"{_base()}/{draft_id}/identitaet"


# -- the canonical declaration ------------------------------------------------------------


def _uploads(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(field path, file value) of every uploaded file in the collected answers."""
    if isinstance(node, Mapping):
        if node.get("status") == "uploaded" and node.get("document_id"):
            yield path, node
            return
        for key in sorted(node):
            yield from _uploads(node[key], f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _uploads(item, f"{path}.{index}")


def statement(decision: Mapping[str, Any] | None) -> str:
    """The objection sentence in German, as the Jobcenter receives it."""
    if not decision:
        return ""
    day = format_date(date.fromisoformat(decision["decided_on"]), "long", locale="de_DE")
    return f"Hiermit lege ich Widerspruch gegen den Bescheid vom {day} ein."


def declaration_document(
    flow: Flow, draft: draft_repo.Draft, documents: Mapping[str, str | None]
) -> bytes:
    """The canonical declaration: what is shown on the review and signed by eID and passkey.

    ``documents``: document id → SHA-256 from the documents table (the server's copy, not
    the draft's). Same draft, same documents → same bytes.
    """
    answers = engine.collect(flow, draft.answers)
    attachments = [
        {
            "field": path,
            "document_id": value["document_id"],
            "name": value.get("name"),
            "sha256": documents.get(value["document_id"]),
        }
        for path, value in _uploads(answers)
    ]
    known = konto(draft.answers)
    decision = chosen_decision(draft.answers)
    body = {
        "flow": flow.id,
        "draft_id": draft.id,
        "erklaerung": statement(decision),
        "kundennummer": known.get("kundennummer"),
        "bg_nummer": known.get("bg_nummer"),
        "jobcenter": known.get("office"),
        "bescheid": decision,
        "answers": answers,
        "attachments": attachments,
    }
    return canonical_json(body).encode("utf-8")


async def attachment_hashes(draft: draft_repo.Draft) -> dict[str, str | None]:
    """SHA-256 of every document the draft's answers name, read from the documents table."""
    ids = [value["document_id"] for _path, value in _uploads(draft.answers)]
    if not ids:
        return {}
    async with _db().connect() as conn:
        rows = (
            await conn.execute(
                select(documents.c.id, documents.c.sha256).where(
                    documents.c.id.in_(ids), documents.c.owner_key == draft.owner_key
                )
            )
        ).all()
    found = {row.id: row.sha256 for row in rows}
    return {document_id: found.get(document_id) for document_id in ids}


async def declaration(draft: draft_repo.Draft) -> tuple[bytes, bytes]:
    """(canonical declaration, its SHA-256) recomputed from the stored draft."""
    document = declaration_document(FLOW, draft, await attachment_hashes(draft))
    return document, hashlib.sha256(document).digest()


# -- the review hands over to the identity step ---------------------------------------------


async def before_submit(draft: draft_repo.Draft) -> Response:
    """The review was confirmed: remember that version; nothing is sent yet."""
    _document, digest = await declaration(draft)
    g.session[REVIEWED] = {"draft": draft.id, "digest": digest.hex()}
    return see_other(identity_url(draft.id))


blueprint = blueprint_for(FLOW, before_submit=before_submit)


async def _load(draft_id: str) -> draft_repo.Draft:
    """The caller's own Widerspruch draft; anybody else's is the same as none (404)."""
    draft = await draft_repo.get(_db(), draft_id, g.session.get("owner_key"))
    if draft is None or draft.flow_id != FLOW.id:
        abort(404)
    return draft


async def _elsewhere(draft: draft_repo.Draft, digest: bytes) -> Response | None:
    """Where to go instead of the identity step: the receipt, an open step, the review."""
    if draft.status != "open":
        existing = await submission_repo.by_draft(_db(), draft.id)
        if existing is None:
            abort(404)
        return see_other(f"{_base()}/eingang/{existing.id}")
    if not engine.complete(FLOW, draft.answers):
        return see_other(f"{_base()}/{draft.id}/{engine.first_open(FLOW, draft.answers).key}")
    if g.session.get(REVIEWED) != {"draft": draft.id, "digest": digest.hex()}:
        # not reviewed, or changed since: the whole declaration is shown again first
        return see_other(f"{_base()}/{draft.id}/{engine.REVIEW}")
    return None


@dataclass(frozen=True)
class Opened:
    """The identity step of one draft: the draft, its declaration now, and its digest."""

    draft: draft_repo.Draft
    document: bytes
    digest: bytes


async def _open(draft_id: str) -> tuple[Opened, Response | None]:
    """Load the draft (owner-checked), recompute its declaration, and say where to go
    instead when the identity step is not the place for it now."""
    draft = await _load(draft_id)
    document, digest = await declaration(draft)
    return Opened(draft, document, digest), await _elsewhere(draft, digest)


# -- the eID proof --------------------------------------------------------------------------


async def _account() -> Any:
    from app.identity import current_account

    account = await current_account()
    if account is None:  # the flow's min_level already sent visitors to the login
        abort(404)
    return account


async def _proof(account: Any, digest: bytes) -> saml.EidProof | None:
    """The eID proof bound to this declaration; only one whose person check passed counts."""
    return await saml.proof_for(_db(), account.id, digest.hex())


def eid_problem(proof: saml.EidProof | None) -> str | None:
    """Why an eID proof (already bound to this declaration and account) does not count."""
    if proof is None:
        return EID_MISSING
    if proof.level != EID_LEVEL:
        return EID_TOO_LOW
    if proof.method != saml.METHOD_EID:
        return EID_WRONG_METHOD
    return None


async def _proven_before(account_id: str, draft_id: str, digest: bytes) -> bool:
    """An eID proof for this draft exists, but for an earlier version of the declaration."""
    async with _db().connect() as conn:
        found = (
            await conn.execute(
                select(eid_proofs.c.assertion_id)
                .join(saml_requests, saml_requests.c.id == eid_proofs.c.request_id)
                .where(
                    eid_proofs.c.account_id == account_id,
                    eid_proofs.c.confirmed_at.is_not(None),
                    saml_requests.c.return_to == identity_url(draft_id),
                    eid_proofs.c.binding != digest.hex(),
                )
                .limit(1)
            )
        ).first()
    return found is not None


def _eid_view(proof: saml.EidProof) -> dict[str, Any]:
    return {"level": proof.level, "method": proof.method, "at": proof.confirmed_at}


# -- the page ------------------------------------------------------------------------------


def _progress(draft: draft_repo.Draft) -> tuple[list[views.SectionProgress], int]:
    """Every engine section and the review done, "Identität bestätigen" current."""
    sections = [
        views.SectionProgress(gettext(section.title), "done")
        for section in FLOW.sections
        if any(s.top is section for s in engine.steps(FLOW, draft.answers))
    ]
    sections.append(views.SectionProgress(gettext(N_("Daten überprüfen")), "done"))
    sections.extend(views.SectionProgress(gettext(t), "current") for t in FLOW.after_review)
    pages = len(engine.steps(FLOW, draft.answers))
    return sections, views.step_count(FLOW, sections, pages + len(FLOW.after_review), pages)[1]


async def _page(
    draft: draft_repo.Draft,
    digest: bytes,
    account: Any,
    *,
    proof: Any,
    errors: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    problem = eid_problem(proof)
    changed = problem == EID_MISSING and await _proven_before(account.id, draft.id, digest)
    sections, total = _progress(draft)
    base = identity_url(draft.id)
    response = await render(
        "pages/shell.html",
        "partials/widerspruch/identitaet.html",
        status=status,
        page_title=gettext(N_("Identität bestätigen")),
        flow=FLOW,
        sections=sections,
        number=total,
        total=total,
        errors=errors or [],
        eid=_eid_view(proof) if proof is not None and problem is None else None,
        eid_problem=gettext(problem) if proof is not None and problem else None,
        changed=gettext(CHANGED) if changed else None,
        has_passkey=await passkeys.has_passkey(_db(), account.id),
        digest=digest.hex(),
        eid_url=f"{base}/eid",
        options_url=f"{base}/passkey-optionen",
        send_url=f"{base}/senden",
        back=f"{_base()}/{draft.id}/{engine.REVIEW}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/<draft_id>/identitaet")
async def identity(draft_id: str) -> Response:
    opened, elsewhere = await _open(draft_id)
    if elsewhere is not None:
        return elsewhere
    account = await _account()
    return await _page(
        opened.draft, opened.digest, account, proof=await _proof(account, opened.digest)
    )


@blueprint.post("/<draft_id>/identitaet/eid")
async def identity_eid(draft_id: str) -> Response:
    """Leave for the eID service, bound to the declaration as it is now."""
    opened, elsewhere = await _open(draft_id)
    if elsewhere is not None:
        return elsewhere
    return await saml.begin(
        "widerspruch",
        EID_LEVEL,
        return_to=identity_url(opened.draft.id),
        binding=opened.digest.hex(),
    )


@blueprint.post("/<draft_id>/identitaet/passkey-optionen")
async def passkey_options(draft_id: str) -> Response:
    """WebAuthn options whose challenge is this declaration's SHA-256 and a nonce."""
    opened, elsewhere = await _open(draft_id)
    if elsewhere is not None:
        return _json({"error": gettext(CHANGED)}, 409)
    draft, digest = opened.draft, opened.digest
    account = await _account()
    try:
        options = await passkeys.confirmation_options(
            _db(), account.id, draft.id, digest, passkeys.relying_party()
        )
    except passkeys.PasskeyError as error:
        return _json({"error": gettext(error.message_id)}, 400)
    response = Response(options, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(data: dict[str, Any], status: int) -> Response:
    import json

    return Response(
        json.dumps(data),
        status=status,
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@blueprint.post("/<draft_id>/identitaet/senden")
async def send(draft_id: str) -> Response:
    """Submit, only with an eID hoch proof for this very declaration (and the passkey's)."""
    opened, elsewhere = await _open(draft_id)
    if elsewhere is not None:
        return elsewhere
    draft, document, digest = opened.draft, opened.document, opened.digest
    account = await _account()
    proof = await _proof(account, digest)
    problem = eid_problem(proof)
    if problem is not None:
        await audit.record(_db(), account.id, "widerspruch_refused", draft.id, why="eid")
        return await _page(
            draft, digest, account, proof=proof, errors=[("#eid", gettext(problem))], status=403
        )
    passkey: dict[str, Any] | None = None
    if await passkeys.has_passkey(_db(), account.id):
        credential = (await request.form).get("credential", "")
        try:
            if not credential:
                raise passkeys.PasskeyError(PASSKEY_MISSING, "no credential sent")
            confirmed = await passkeys.verify_confirmation(
                _db(), account.id, draft.id, digest, credential, passkeys.relying_party()
            )
        except passkeys.PasskeyError as error:
            await audit.record(_db(), account.id, "widerspruch_refused", draft.id, why="passkey")
            return await _page(
                draft,
                digest,
                account,
                proof=proof,
                errors=[("#passkey", gettext(error.message_id))],
                status=422,
            )
        passkey = {
            "credential_id": confirmed.credential_id,
            "signature": confirmed.signature,
            "sign_count": confirmed.sign_count,
            "authenticator_data": confirmed.authenticator_data,
            "client_data": confirmed.client_data,
            "at": confirmed.at,
        }
    proofs = {
        "declaration": document.decode("utf-8"),
        "erklaerung": statement(chosen_decision(draft.answers)),
        "declaration_sha256": digest.hex(),
        "eid": {
            "assertion_id": proof.assertion_id,
            "issuer": proof.issuer,
            "level": proof.level,
            "method": proof.method,
            "at": proof.confirmed_at.isoformat(),
        },
        "passkey": passkey,
        "confirmed_at": utcnow().isoformat(),
    }
    submission = await finalise(FLOW, draft, proofs=proofs)
    g.session.pop(REVIEWED, None)
    return see_other(f"{_base()}/eingang/{submission.id}")


@blueprint.app_template_filter("iso_moment")
def iso_moment(value: str | None) -> str:
    """A stored ISO timestamp (UTC) as local date and time, e.g. in the receipt's proofs."""
    from datetime import datetime

    from app.web.templating import format_moment

    return format_moment(datetime.fromisoformat(value)) if value else ""
