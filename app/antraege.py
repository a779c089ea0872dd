"""Meine Anträge: the visitor's drafts (resume, delete) and submissions (receipts)."""

from __future__ import annotations

from quart import Blueprint, Response, current_app, g

from app.db import drafts as draft_repo
from app.db import submissions as submission_repo
from app.flows import engine

from .eservice import registry
from .web.language import gettext
from .web.render import render, see_other

blueprint = Blueprint("antraege", __name__, url_prefix="/antraege")


@blueprint.get("")
async def overview() -> Response:
    db = current_app.config["DB"]
    owner = g.session.get("owner_key")
    open_drafts = []
    for draft in await draft_repo.list_open(db, owner):
        flow = registry.get(draft.flow_id)
        if flow is None:
            continue
        resume = engine.first_open(flow, draft.answers).key
        open_drafts.append(
            {"draft": draft, "flow": flow, "resume": f"/{flow.slug}/{draft.id}/{resume}"}
        )
    sent = []
    for submission in await submission_repo.list_for_owner(db, owner):
        flow = registry.get(submission.flow_id)
        if flow is not None:
            sent.append(
                {
                    "submission": submission,
                    "flow": flow,
                    "url": f"/{flow.slug}/eingang/{submission.id}",
                }
            )
    response = await render(
        "pages/shell.html",
        "partials/antraege/overview.html",
        page_title=gettext("Meine Anträge"),
        drafts=open_drafts,
        submissions=sent,
        logged_in=bool(g.session.get("account_id")),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/<draft_id>/loeschen")
async def delete(draft_id: str) -> Response:
    owner = g.session.get("owner_key")
    if not owner or not await draft_repo.remove(current_app.config["DB"], draft_id, owner):
        return see_other("/antraege")
    return see_other("/antraege?geloescht=1")
